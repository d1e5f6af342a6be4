package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/cutover-dev/cutover/compare"
)

// labels are the row titles of the metrics table.
var labels = map[string]string{
	"latency_p50_ms":   "API P50",
	"latency_p95_ms":   "API P95",
	"latency_p99_ms":   "API P99",
	"rss_bytes":        "RSS memory",
	"heap_alloc_bytes": "Go heap alloc",
	"goroutines":       "Goroutines",
	"cpu_cores":        "CPU (cores)",
	"requests":         "Requests",
	"error_rate":       "Error rate",
	// The engine's own figures for the servers' containers.
	"container_cpu_cores":    "Container CPU (cores)",
	"container_memory_bytes": "Container memory",
}

func label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	return name
}

// value formats a figure in its unit.
func value(unit string, v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch unit {
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2fms", v)
		}
		return fmt.Sprintf("%.0fms", v)
	case "bytes":
		return fmt.Sprintf("%.0fMB", v/1e6)
	case "cores":
		return fmt.Sprintf("%.2f", v)
	case "ratio":
		return fmt.Sprintf("%.2f%%", v*100)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func change(m compare.Metric) string {
	if m.ChangePct == nil {
		if m.Before == 0 && m.After == 0 {
			return "0%"
		}
		return "n/a"
	}
	c := math.Round(*m.ChangePct)
	if c == 0 {
		return "0%"
	}
	return fmt.Sprintf("%+.0f%%", c)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func rows(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// withCI formats a figure with its confidence interval.
func withCI(unit string, v float64, iv compare.Interval) string {
	s := value(unit, v)
	if math.IsNaN(v) || math.IsNaN(iv.Low) || math.IsNaN(iv.High) {
		return s
	}
	return fmt.Sprintf("%s (%s–%s)", s, value(unit, iv.Low), value(unit, iv.High))
}

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return ""
	case p < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// verdict shows the verdict the way benchstat does: "~" for no
// significant change.
func verdict(v string) string {
	switch v {
	case compare.NoChange:
		return "~"
	case "":
		return ""
	}
	return v
}

func noise(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("±%.1f%%", *p)
}

// detectable returns a sentence giving each latency percentile's
// smallest change called 95 times in 100, or "" when none is known.
func detectable(ms []compare.Metric) string {
	var parts []string
	for _, m := range ms {
		if m.DetectablePct != nil {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", label(m.Name), *m.DetectablePct))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Smallest shift of the whole latency distribution detected with 95% probability, from the " +
		"sampling noise of these samples: " + strings.Join(parts, ", ") + ". A change of the slowest " +
		"requests alone needs more; more requests per side (load.rate × load.duration) narrow it; noise " +
		"between runs is not in it (load.calibrate measures that)."
}

func pctOf(f float64) string { return fmt.Sprintf("%g%%", f*100) }
