package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/cutover-dev/cutover/compare"
)

// SamplesVersion is the version of the samples file's layout.
const SamplesVersion = 1

// SamplesFile is the name of the samples file in a run directory.
const SamplesFile = "samples.json"

// Samples are the time series of a run: every request and every
// resource scrape of each side. They are kept out of report.json, in
// their own file, so that `cutover compare` can compare saved runs and
// the HTML report can plot them.
type Samples struct {
	SchemaVersion int `json:"schema_version"`
	// WarmupS is the start of each load, in seconds, left out of the
	// statistics.
	WarmupS float64 `json:"warmup_s"`
	// DurationS is how long each load sent requests, in seconds; the
	// steady state ends there. Zero means unknown.
	DurationS float64 `json:"duration_s,omitempty"`
	// Old and New are the two sides; nil when a side never ran.
	Old *compare.Series `json:"old"`
	New *compare.Series `json:"new"`
	// Calibration is a second load of the old side (A/A), when the
	// scenario asked for one.
	Calibration *compare.Series `json:"calibration,omitempty"`
}

// Warmup returns WarmupS as a duration.
func (s *Samples) Warmup() time.Duration { return time.Duration(s.WarmupS * float64(time.Second)) }

// Compare compares the new side with the old with options o, and, with
// a calibration run, the old side with itself; the metrics then carry
// their noise.
func (s *Samples) Compare(o compare.Options) (metrics, calibration []compare.Metric) {
	end := time.Duration(s.DurationS * float64(time.Second))
	old := s.Old.Side(s.Warmup(), end)
	metrics = compare.Compare(old, s.New.Side(s.Warmup(), end), o)
	if s.Calibration != nil {
		calibration = compare.Compare(old, s.Calibration.Side(s.Warmup(), end), o)
		compare.Calibrate(metrics, calibration)
	}
	return metrics, calibration
}

// WriteSamples writes s as JSON.
func WriteSamples(w io.Writer, s *Samples) error {
	c := *s
	c.SchemaVersion = SamplesVersion
	if err := json.NewEncoder(w).Encode(&c); err != nil {
		return fmt.Errorf("writing samples: %w", err)
	}
	return nil
}

// ReadSamples reads what WriteSamples wrote.
func ReadSamples(r io.Reader) (*Samples, error) {
	var s Samples
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("reading samples: %w", err)
	}
	if s.SchemaVersion != SamplesVersion {
		return nil, fmt.Errorf("reading samples: schema_version %d, want %d", s.SchemaVersion, SamplesVersion)
	}
	return &s, nil
}
