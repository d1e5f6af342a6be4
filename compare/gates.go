package compare

import (
	"fmt"
	"math"
	"strings"
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
	// MaxExtraRows bounds the unexpected rows only the new side holds.
	MaxExtraRows int64
	// Metrics are further bounds on single metrics.
	Metrics []MetricLimit
}

// A MetricLimit bounds how much one metric may regress, that is grow,
// from before to after. Nil bounds are not checked; a limit with
// several bounds is one gate that passes only when all hold.
type MetricLimit struct {
	// Metric is one of [Names] except "requests".
	Metric string
	// MaxRegressionPct is the largest relative growth, in percent.
	MaxRegressionPct *float64
	// MaxRegression is the largest absolute growth, in the metric's
	// unit (ms, bytes, count, cores, or a fraction for error_rate).
	MaxRegression *float64
	// MaxNoiseMultiple bounds the relative growth to this multiple of
	// the metric's A/A noise (Metric.NoisePct); it needs a calibration
	// run, and fails without one.
	MaxNoiseMultiple *float64
	// FailIfWorse fails the gate whenever the verdict is Worse.
	FailIfWorse bool
	// OnlySignificant lets a growth beyond the bounds pass when the
	// verdict is no significant change: the bound then only fails on
	// regressions the test can tell from noise.
	OnlySignificant bool
}

// Findings are the verification counts the gates read.
type Findings struct {
	MissingRows, ChangedRows, SessionMismatches int64
	ExtraRows                                   int64
	// DroppedColumns counts the old columns the new side lacks and the
	// mapping does not account for; with changed rows gated, any fails.
	// Dropped names them as table.column.
	DroppedColumns int64
	Dropped        []string
	// BrokenSessions counts the sessions whose token rows the
	// database-level check found damaged (see verify.SessionRows); it is
	// gated only when SessionRows says that check ran. The same bound,
	// MaxSessionMismatches, holds for it: a session broken in the
	// database is broken even where the server's answers still agree.
	BrokenSessions int64
	SessionRows    bool
	// KeyedTables counts the tables compared row by row; with none, the
	// row gates have nothing to vouch for and fail.
	KeyedTables int
}

// A Gate is one bound and whether the run kept it.
type Gate struct {
	// Name identifies the gate, for example "latency_p95_regression".
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Detail says what was measured against which bound.
	Detail string `json:"detail"`
	// Metric names the metric a metric gate bounds.
	Metric string `json:"metric,omitempty"`
}

// Gates checks the metrics and findings against the limits. A metric
// without data fails its gate: a check that measured nothing cannot
// pass.
func Gates(l Limits, ms []Metric, f Findings) []Gate {
	var out []Gate
	if l.MaxErrorRate >= 0 {
		m, _ := Find(ms, "error_rate")
		g := Gate{Name: "error_rate", Passed: !math.IsNaN(m.After) && m.After <= l.MaxErrorRate,
			Detail: fmt.Sprintf("new error rate %.2f%% (limit %.2f%%)", m.After*100, l.MaxErrorRate*100)}
		if math.IsNaN(m.After) {
			// No rate without requests: a side that was not loaded
			// fails, and says so rather than print NaN.
			g.Detail = fmt.Sprintf("no requests were made on the new side: no error rate (limit %.2f%%)",
				l.MaxErrorRate*100)
		}
		out = append(out, g)
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
	for _, ml := range l.Metrics {
		out = append(out, metricGate(ml, ms))
	}
	// what is the phrase after the count, singular and plural.
	count := func(name string, got, max int64, what [2]string) {
		if max < 0 {
			return
		}
		w := what[1]
		if got == 1 {
			w = what[0]
		}
		out = append(out, Gate{Name: name, Passed: got <= max,
			Detail: fmt.Sprintf("%d %s (limit %d)", got, w, max)})
	}
	rows := func(name string, got, max int64, what [2]string) {
		if max >= 0 && f.KeyedTables == 0 {
			out = append(out, Gate{Name: name, Detail: "no table was compared row by row: map tables under " +
				"verify.tables, or set gates.max_" + name + ": -1 to go without this gate"})
			return
		}
		count(name, got, max, what)
	}
	rows("missing_rows", f.MissingRows, l.MaxMissingRows,
		[2]string{"row missing on the new side", "rows missing on the new side"})
	rows("extra_rows", f.ExtraRows, l.MaxExtraRows,
		[2]string{"row on the new side only", "rows on the new side only"})
	rows("changed_rows", f.ChangedRows, l.MaxChangedRows,
		[2]string{"row changed across the migration", "rows changed across the migration"})
	if l.MaxChangedRows >= 0 && f.KeyedTables > 0 {
		// A dropped column changes every row of its table; its bound is
		// zero whatever the row bound.
		what := [2]string{"column dropped and not ignored by the mapping",
			"columns dropped and not ignored by the mapping"}
		if len(f.Dropped) > 0 {
			list := strings.Join(f.Dropped, ", ")
			what[0], what[1] = what[0]+": "+list, what[1]+": "+list
		}
		count("dropped_columns", f.DroppedColumns, 0, what)
	}
	count("session_mismatches", f.SessionMismatches, l.MaxSessionMismatches,
		[2]string{"session behaves differently", "sessions behave differently"})
	if f.SessionRows {
		count("broken_sessions", f.BrokenSessions, l.MaxSessionMismatches,
			[2]string{"session broken in the database", "sessions broken in the database"})
	}
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

// metricGate checks one metric limit.
func metricGate(l MetricLimit, ms []Metric) Gate {
	g := Gate{Name: l.Metric + "_regression", Metric: l.Metric}
	m, ok := Find(ms, l.Metric)
	if !ok || math.IsNaN(m.Before) || math.IsNaN(m.After) {
		g.Detail = "no " + l.Metric + " on one side"
		return g
	}
	var parts, broken []string
	check := func(ok bool, format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		parts = append(parts, s)
		if !ok {
			broken = append(broken, s)
		}
	}
	grow := m.After - m.Before
	pct := math.Inf(1)
	if m.ChangePct != nil {
		pct = *m.ChangePct
	} else if grow <= 0 {
		pct = 0
	}
	if l.MaxRegressionPct != nil {
		check(pct <= *l.MaxRegressionPct, "%+.1f%% (limit +%g%%)", pct, *l.MaxRegressionPct)
	}
	if l.MaxRegression != nil {
		check(grow <= *l.MaxRegression, "%s %s (limit +%g %s)", signed(grow), m.Unit, *l.MaxRegression, m.Unit)
	}
	if l.MaxNoiseMultiple != nil {
		if m.NoisePct == nil {
			check(false, "unevaluable: the runs were not calibrated, so there is no A/A noise to bound the "+
				"change by (set load.calibrate: true); failed closed")
		} else {
			bound := *l.MaxNoiseMultiple * *m.NoisePct
			check(pct <= bound, "%+.1f%% (limit %g × noise %.1f%% = +%.1f%%)",
				pct, *l.MaxNoiseMultiple, *m.NoisePct, bound)
		}
	}
	if l.FailIfWorse {
		v := m.Verdict
		if v == "" {
			v = "untested"
		}
		check(m.Verdict != Worse, "verdict %s", v)
	}
	g.Passed = len(broken) == 0
	if !g.Passed && l.OnlySignificant && m.Verdict == NoChange {
		g.Passed = true
		parts = append(parts, "not significant, passed")
	}
	g.Detail = fmt.Sprintf("%s: %s -> %s %s; %s", l.Metric, figure(m.Before), figure(m.After), m.Unit,
		strings.Join(parts, "; "))
	return g
}

// figure formats a gate's figure with four significant digits, without
// exponents for large figures such as bytes.
func figure(f float64) string {
	if math.Abs(f) >= 1000 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.4g", f)
}

func signed(f float64) string {
	if f >= 0 {
		return "+" + figure(f)
	}
	return figure(f)
}
