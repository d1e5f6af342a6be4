package compare

import (
	"fmt"
	"math"
)

// Limits are the bounds the gates enforce. A negative bound disables
// its gate.
type Limits struct {
	// MaxErrorRate is the highest error rate allowed on the new side.
	MaxErrorRate float64
	// MaxP95RegressionPct is how much the P95 latency may grow, in
	// percent.
	MaxP95RegressionPct float64
	// MaxMissingRows, MaxChangedRows and MaxSessionMismatches bound the
	// verification findings.
	MaxMissingRows, MaxChangedRows, MaxSessionMismatches int64
}

// Findings are the verification counts the gates read.
type Findings struct {
	MissingRows, ChangedRows, SessionMismatches int64
}

// A Gate is one bound and whether the run kept it.
type Gate struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// Gates checks the metrics and findings against the limits. A metric
// without data fails its gate: a check that measured nothing cannot
// pass.
func Gates(l Limits, ms []Metric, f Findings) []Gate {
	var out []Gate
	if l.MaxErrorRate >= 0 {
		m, _ := Find(ms, "error_rate")
		out = append(out, Gate{
			Name:   "error_rate",
			Passed: !math.IsNaN(m.After) && m.After <= l.MaxErrorRate,
			Detail: fmt.Sprintf("new error rate %.2f%% (limit %.2f%%)", m.After*100, l.MaxErrorRate*100),
		})
	}
	if l.MaxP95RegressionPct >= 0 {
		m, _ := Find(ms, "latency_p95_ms")
		g := Gate{Name: "latency_p95_regression"}
		if m.ChangePct == nil {
			g.Detail = "no P95 latency on one side"
		} else {
			g.Passed = *m.ChangePct <= l.MaxP95RegressionPct
			g.Detail = fmt.Sprintf("P95 %.1fms -> %.1fms, %+.1f%% (limit +%.0f%%)",
				m.Before, m.After, *m.ChangePct, l.MaxP95RegressionPct)
		}
		out = append(out, g)
	}
	count := func(name string, got, max int64, what string) {
		if max < 0 {
			return
		}
		out = append(out, Gate{Name: name, Passed: got <= max,
			Detail: fmt.Sprintf("%d %s (limit %d)", got, what, max)})
	}
	count("missing_rows", f.MissingRows, l.MaxMissingRows, "rows missing on the new side")
	count("changed_rows", f.ChangedRows, l.MaxChangedRows, "rows changed across the migration")
	count("session_mismatches", f.SessionMismatches, l.MaxSessionMismatches, "sessions behave differently")
	return out
}

// Passed reports whether every gate passed.
func Passed(gs []Gate) bool {
	for _, g := range gs {
		if !g.Passed {
			return false
		}
	}
	return true
}
