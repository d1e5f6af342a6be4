package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// JSON writes r as indented JSON.
func JSON(w io.Writer, r *Report) error {
	c := *r
	c.SchemaVersion = SchemaVersion
	c.Operations = nil
	for _, op := range r.Operations {
		for i := range 2 {
			op.P50MS[i], op.P95MS[i] = finite(op.P50MS[i]), finite(op.P95MS[i])
		}
		c.Operations = append(c.Operations, op)
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// finite replaces NaN (no data) by -1 so that the fixed-size pairs
// stay encodable.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return -1
	}
	return f
}

// ReadJSON reads a report written by JSON.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	if rep.SchemaVersion != SchemaVersion {
		return nil, &VersionError{What: "report", Got: rep.SchemaVersion, Want: SchemaVersion}
	}
	return &rep, nil
}

// A VersionError is a report or samples file of another layout
// version than this package reads (0: not written by cutover).
type VersionError struct {
	// What is "report" or "samples".
	What      string
	Got, Want int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("reading %s: schema_version %d, want %d", e.What, e.Got, e.Want)
}
