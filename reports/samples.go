package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
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
		return nil, &VersionError{What: "samples", Got: s.SchemaVersion, Want: SamplesVersion}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks what the statistics take on trust: times, latencies
// and resource figures are finite and not negative, and each side's
// scrapes are in time order. Requests are kept in the order their
// answers arrived, so their start times need not be.
func (s *Samples) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"warmup_s", s.WarmupS}, {"duration_s", s.DurationS}} {
		if err := nonNegative(f.v); err != nil {
			return fmt.Errorf("%s %w", f.name, err)
		}
	}
	for _, side := range []struct {
		name string
		s    *compare.Series
	}{{"old", s.Old}, {"new", s.New}, {"calibration", s.Calibration}} {
		if side.s == nil {
			continue
		}
		for i, r := range side.s.Requests {
			if err := nonNegative(r.AtS); err != nil {
				return fmt.Errorf("%s side, request %d: at_s %w", side.name, i+1, err)
			}
			if err := nonNegative(r.LatencyMS); err != nil {
				return fmt.Errorf("%s side, request %d: latency_ms %w", side.name, i+1, err)
			}
		}
		last, lastCPU := math.Inf(-1), math.Inf(-1)
		for i, p := range side.s.Resources {
			if err := nonNegative(p.AtS); err != nil {
				return fmt.Errorf("%s side, scrape %d: at_s %w", side.name, i+1, err)
			}
			if p.AtS < last {
				return fmt.Errorf("%s side, scrape %d: at_s %v is before the previous scrape's %v",
					side.name, i+1, p.AtS, last)
			}
			last = p.AtS
			for _, f := range []struct {
				name string
				v    *float64
			}{{"rss_bytes", p.RSS}, {"heap_alloc_bytes", p.Heap}, {"goroutines", p.Goroutines},
				{"cpu_seconds", p.CPUSeconds}} {
				if f.v == nil {
					continue
				}
				if err := nonNegative(*f.v); err != nil {
					return fmt.Errorf("%s side, scrape %d: %s %w", side.name, i+1, f.name, err)
				}
			}
			// The CPU counter only grows; a server restarted mid-run
			// would show as negative CPU.
			if c := p.CPUSeconds; c != nil {
				if *c < lastCPU {
					return fmt.Errorf("%s side, scrape %d: cpu_seconds %v is below the previous scrape's %v "+
						"(a counter that went back: the server restarted?)", side.name, i+1, *c, lastCPU)
				}
				lastCPU = *c
			}
		}
	}
	return nil
}

// maxSample bounds every value of samples.json: a petabyte, or 31 000
// years in milliseconds. Larger values are no measurement, and sums of
// them overflow to infinity.
const maxSample = 1e15

// nonNegative returns an error saying what is wrong with v, which must
// be finite, not negative and at most maxSample.
func nonNegative(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%v is not a finite number", v)
	case v < 0:
		return fmt.Errorf("%v is negative", v)
	case v > maxSample:
		return fmt.Errorf("%v is too large to be a measurement (over %g)", v, maxSample)
	}
	return nil
}
