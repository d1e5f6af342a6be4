package scenarios

import (
	"strings"
	"testing"
)

func TestMetricGates(t *testing.T) {
	base := "name: x\nold: {kind: hydra, version: v1.11.10}\nnew: {kind: hydra, version: v2.3.0}\n"
	tests := []struct {
		name, yaml, err string
	}{
		{"ok", "gates:\n  metrics:\n    - metric: latency_p99_ms\n" +
			"      max_regression_pct: 40\n      max_regression: 20\n", ""},
		{"noise with calibration", "load: {calibrate: true}\n" +
			"gates:\n  metrics:\n    - {metric: rss_bytes, max_noise_multiple: 3}\n", ""},
		{"unknown metric", "gates:\n  metrics:\n    - metric: latency_p42\n      max_regression_pct: 1\n",
			"x.yaml:6:15: gates.metrics[0].metric: unknown metric \"latency_p42\""},
		{"requests not gated", "gates:\n  metrics:\n    - {metric: requests, max_regression: 1}\n",
			"unknown metric \"requests\""},
		{"no bound", "gates:\n  metrics:\n    - metric: cpu_cores\n", "set at least one of"},
		{"noise without calibration", "gates:\n  metrics:\n    - {metric: rss_bytes, max_noise_multiple: 3}\n",
			"needs load.calibrate: true"},
		{"unknown key", "gates:\n  metrics:\n    - {metric: rss_bytes, max_regresion: 3}\n", "x.yaml:6:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("x.yaml", []byte(base+tt.yaml))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if len(s.Gates.Metrics) != 1 {
					t.Errorf("got %d metric gates, want 1", len(s.Gates.Metrics))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse error = %v, want containing %q", err, tt.err)
			}
		})
	}
}
