package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cutover-dev/cutover/compare"
)

// A MetricGate bounds how much one metric may regress (grow) from the
// old side to the new, in the style of k6 thresholds:
//
//	gates:
//	  metrics:
//	    - metric: latency_p99_ms
//	      max_regression_pct: 40   # at most 40% higher
//	      max_regression: 20       # and at most 20 ms higher
//	      fail_if_worse: true      # and not significantly worse
//
// At least one bound must be set; all set bounds must hold. Unlike the
// fixed gates, a metric gate's bound is never negative: a key left out
// is no bound.
type MetricGate struct {
	// Metric is the metric's name: latency_p50_ms, latency_p95_ms,
	// latency_p99_ms, rss_bytes, heap_alloc_bytes, goroutines,
	// cpu_cores or error_rate.
	Metric string `yaml:"metric"`
	// MaxRegressionPct is the largest growth in percent.
	MaxRegressionPct *float64 `yaml:"max_regression_pct"`
	// MaxRegression is the largest growth in the metric's unit: ms,
	// bytes, count, cores, or a fraction for error_rate.
	MaxRegression *float64 `yaml:"max_regression"`
	// MaxNoiseMultiple is the largest growth as a multiple of the
	// metric's A/A noise; it needs load.calibrate: true.
	MaxNoiseMultiple *float64 `yaml:"max_noise_multiple"`
	// FailIfWorse fails the gate when the statistical verdict is
	// "worse" (a significant regression above the minimum effect).
	FailIfWorse bool `yaml:"fail_if_worse"`
	// OnlySignificant lets a growth beyond the bounds pass when the
	// verdict is "no significant change".
	OnlySignificant bool `yaml:"only_significant"`
}

func validateMetricGates(s *Scenario, l *locator) error {
	var names []string
	for _, n := range compare.Names {
		if compare.Directional(n) {
			names = append(names, n)
		}
	}
	for i, g := range s.Gates.Metrics {
		p := fmt.Sprintf("$.gates.metrics[%d]", i)
		key := fmt.Sprintf("gates.metrics[%d]", i)
		if !slices.Contains(names, g.Metric) {
			return l.errorf(p+".metric", "%s.metric: unknown metric %q (known: %s)", key, g.Metric,
				strings.Join(names, ", "))
		}
		if g.MaxRegressionPct == nil && g.MaxRegression == nil && g.MaxNoiseMultiple == nil && !g.FailIfWorse {
			return l.errorf(p, "%s: set at least one of max_regression_pct, max_regression, "+
				"max_noise_multiple, fail_if_worse", key)
		}
		// Written so that NaN fails too.
		for _, b := range []struct {
			key   string
			bound *float64
		}{{"max_regression_pct", g.MaxRegressionPct}, {"max_regression", g.MaxRegression}} {
			if b.bound != nil && !(*b.bound >= 0) {
				return l.errorf(p+"."+b.key, "%s.%s: must be 0 or more; leave the key out for no bound, got %g",
					key, b.key, *b.bound)
			}
		}
		if g.MaxNoiseMultiple != nil {
			if !(*g.MaxNoiseMultiple > 0) {
				return l.errorf(p+".max_noise_multiple",
					"%s.max_noise_multiple: must be more than 0; leave the key out for no bound, got %g",
					key, *g.MaxNoiseMultiple)
			}
			if !s.Load.Calibrate {
				return l.errorf(p+".max_noise_multiple",
					"%s.max_noise_multiple: needs load.calibrate: true to measure the noise", key)
			}
		}
	}
	return nil
}
