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
		{"unknown key", "gates:\n  metrics:\n    - {metric: rss_bytes, max_regresion: 3}\n",
			"x.yaml:6:27: gates.metrics[0].max_regresion: unknown field; known: fail_if_worse"},
		{"zero bound", "gates:\n  metrics:\n    - {metric: heap_alloc_bytes, max_regression_pct: 0}\n", ""},
		// A negative bound disables a fixed gate, but a metric gate
		// enforced it: -50 failed the check on an improvement.
		{"negative pct", "gates:\n  metrics:\n    - {metric: heap_alloc_bytes, max_regression_pct: -50}\n",
			"x.yaml:6:54: gates.metrics[0].max_regression_pct: must be 0 or more; " +
				"leave the key out for no bound, got -50"},
		{"negative absolute", "gates:\n  metrics:\n    - metric: latency_p99_ms\n      max_regression_pct: 10\n" +
			"      max_regression: -1\n",
			"x.yaml:8:23: gates.metrics[0].max_regression: must be 0 or more; leave the key out for no bound, got -1"},
		{"NaN absolute", "gates:\n  metrics:\n    - {metric: rss_bytes, max_regression: .nan}\n",
			"gates.metrics[0].max_regression: must be 0 or more; leave the key out for no bound, got NaN"},
		{"negative noise", "load: {calibrate: true}\n" +
			"gates:\n  metrics:\n    - {metric: rss_bytes, max_noise_multiple: -3}\n",
			"gates.metrics[0].max_noise_multiple: must be more than 0; leave the key out for no bound, got -3"},
		{"NaN noise", "load: {calibrate: true}\n" +
			"gates:\n  metrics:\n    - {metric: rss_bytes, max_noise_multiple: .nan}\n",
			"gates.metrics[0].max_noise_multiple: must be more than 0; leave the key out for no bound, got NaN"},
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
