package reports

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/compare"
)

func TestReadSamplesValidates(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	ok := func() *Samples {
		return &Samples{WarmupS: 1, DurationS: 10,
			Old: &compare.Series{Requests: []compare.Request{{Op: "jwks", AtS: 2, LatencyMS: 3}, {Op: "jwks", AtS: 1, LatencyMS: 0}},
				Resources: []compare.Resource{{AtS: 1, RSS: f(10)}, {AtS: 2, RSS: f(12), CPUSeconds: f(0)}}},
			New: &compare.Series{Requests: []compare.Request{{Op: "jwks", AtS: 2, LatencyMS: 3}}}}
	}
	tests := []struct {
		name   string
		change func(*Samples)
		want   string // "" for valid
	}{
		{"valid", func(*Samples) {}, ""},
		{"no new side", func(s *Samples) { s.New = nil }, ""},
		{"negative latency", func(s *Samples) { s.New.Requests[0].LatencyMS = -5 },
			"new side, request 1: latency_ms -5 is negative"},
		{"infinite latency", func(s *Samples) { s.Old.Requests[1].LatencyMS = math.Inf(1) },
			"old side, request 2: latency_ms +Inf is not a finite number"},
		{"negative start", func(s *Samples) { s.Old.Requests[0].AtS = -1 }, "old side, request 1: at_s -1"},
		{"scrapes out of order", func(s *Samples) { s.Old.Resources[1].AtS = 0.5 },
			"old side, scrape 2: at_s 0.5 is before the previous scrape's 1"},
		{"negative memory", func(s *Samples) { s.Old.Resources[0].RSS = f(-1) }, "scrape 1: rss_bytes -1 is negative"},
		{"NaN cpu", func(s *Samples) { s.Old.Resources[1].CPUSeconds = f(math.NaN()) }, "cpu_seconds NaN is not"},
		{"huge latency", func(s *Samples) { s.New.Requests[0].LatencyMS = 1e308 },
			"new side, request 1: latency_ms 1e+308 is too large"},
		{"cpu counter going back", func(s *Samples) {
			s.Old.Resources[0].CPUSeconds, s.Old.Resources[1].CPUSeconds = f(5), f(2)
		}, "old side, scrape 2: cpu_seconds 2 is below the previous scrape's 5"},
		{"negative warm-up", func(s *Samples) { s.WarmupS = -3 }, "warmup_s -3 is negative"},
		{"calibration checked", func(s *Samples) {
			s.Calibration = &compare.Series{Requests: []compare.Request{{LatencyMS: -1}}}
		}, "calibration side, request 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok()
			tt.change(s)
			err := s.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want an error with %q", err, tt.want)
			}
		})
	}
	// ReadSamples validates what it reads.
	s := ok()
	s.New.Requests[0].LatencyMS = -5
	var b bytes.Buffer
	if err := WriteSamples(&b, s); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSamples(&b); err == nil || !strings.Contains(err.Error(), "is negative") {
		t.Errorf("ReadSamples of a negative latency: %v, want an error", err)
	}
	var ve *VersionError
	if _, err := ReadSamples(strings.NewReader(`{}`)); !errors.As(err, &ve) || ve.Got != 0 {
		t.Errorf("ReadSamples of {}: %v, want a VersionError", err)
	}
}
