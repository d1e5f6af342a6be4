package compare

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMetricGates(t *testing.T) {
	const n = "latency_p95_ms"
	f := func(v float64) *float64 { return &v }
	pct := func(v float64) *float64 { return &v }
	p95 := Metric{Name: n, Unit: "ms", Before: 10, After: 13, ChangePct: pct(30), Verdict: Worse}
	same := p95
	same.Verdict = NoChange
	noisy := p95
	faster := Metric{Name: n, Unit: "ms", Before: 10, After: 7, ChangePct: pct(-30), Verdict: Better}
	noisy.NoisePct = pct(12)
	tests := []struct {
		name   string
		limit  MetricLimit
		m      Metric
		pass   bool
		detail string
	}{
		{"relative ok", MetricLimit{Metric: n, MaxRegressionPct: f(40)}, p95, true, "+30.0% (limit +40%)"},
		{"relative broken", MetricLimit{Metric: n, MaxRegressionPct: f(20)}, p95, false, "limit +20%"},
		{"absolute broken", MetricLimit{Metric: n, MaxRegression: f(2)}, p95, false, "+3 ms (limit +2 ms)"},
		{"absolute ok", MetricLimit{Metric: n, MaxRegression: f(5)}, p95, true, "+3 ms"},
		{"both, one broken", MetricLimit{Metric: n, MaxRegression: f(5), MaxRegressionPct: f(10)},
			p95, false, "limit +10%"},
		{"worse fails", MetricLimit{Metric: n, FailIfWorse: true}, p95, false, "verdict worse"},
		{"not significant passes", MetricLimit{Metric: n, MaxRegressionPct: f(20), OnlySignificant: true},
			same, true, "not significant"},
		{"significant still fails", MetricLimit{Metric: n, MaxRegressionPct: f(20), OnlySignificant: true},
			p95, false, "limit +20%"},
		{"noise without calibration", MetricLimit{Metric: n, MaxNoiseMultiple: f(3)}, p95, false,
			"unevaluable: the runs were not calibrated"},
		{"noise without calibration, improved", MetricLimit{Metric: n, MaxNoiseMultiple: f(3)}, faster, false,
			"unevaluable: the runs were not calibrated"},
		{"within noise", MetricLimit{Metric: n, MaxNoiseMultiple: f(3)}, noisy, true, "3 × noise 12.0%"},
		{"beyond noise", MetricLimit{Metric: n, MaxNoiseMultiple: f(2)}, noisy, false, "+24.0%"},
		{"no data", MetricLimit{Metric: "rss_bytes", MaxRegressionPct: f(10)}, p95, false, "no rss_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off := Limits{MaxErrorRate: -1, MaxP95RegressionPct: -1, MaxMissingRows: -1, MaxExtraRows: -1, MaxChangedRows: -1,
				MaxSessionMismatches: -1, Metrics: []MetricLimit{tt.limit}}
			gs := Gates(off, []Metric{tt.m}, Findings{})
			if len(gs) != 1 {
				t.Fatalf("got %d gates, want 1", len(gs))
			}
			g := gs[0]
			if g.Passed != tt.pass || !strings.Contains(g.Detail, tt.detail) {
				t.Errorf("got passed=%v detail %q, want passed=%v detail containing %q",
					g.Passed, g.Detail, tt.pass, tt.detail)
			}
			if g.Metric != tt.limit.Metric {
				t.Errorf("gate metric = %q, want %q", g.Metric, tt.limit.Metric)
			}
		})
	}
}

func TestFixedGates(t *testing.T) {
	c := 30.0
	ms := []Metric{{Name: "latency_p95_ms", Before: 10, After: 13, ChangePct: &c}, {Name: "error_rate", After: 0.02}}
	gs := Gates(Limits{MaxErrorRate: 0.01, MaxP95RegressionPct: 25, MaxMissingRows: 0, MaxExtraRows: -1, MaxChangedRows: -1,
		MaxSessionMismatches: 1}, ms, Findings{MissingRows: 1, SessionMismatches: 1})
	got := map[string]bool{}
	for _, g := range gs {
		got[g.Name] = g.Passed
	}
	want := map[string]bool{"error_rate": false, "latency_p95_regression": false, "missing_rows": false,
		"session_mismatches": true}
	if len(got) != len(want) {
		t.Fatalf("gates = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("gate %s passed = %v, want %v", k, got[k], v)
		}
	}
}

func TestRowGatesWithoutMappedTables(t *testing.T) {
	l := Limits{MaxMissingRows: 0, MaxChangedRows: 0, MaxSessionMismatches: -1, MaxErrorRate: -1,
		MaxP95RegressionPct: -1}
	for _, keyed := range []int{0, 3} {
		gs := Gates(l, nil, Findings{KeyedTables: keyed})
		// With tables compared, the dropped-columns gate joins the three
		// row gates.
		if want := 3 + btoi(keyed > 0); len(gs) != want {
			t.Fatalf("keyed %d: got %d gates, want %d: %+v", keyed, len(gs), want, gs)
		}
		for _, g := range gs {
			if g.Passed != (keyed > 0) {
				t.Errorf("keyed tables %d: gate %s passed = %v (%s)", keyed, g.Name, g.Passed, g.Detail)
			}
		}
	}
}

func TestCalibrateNeverBelowSampling(t *testing.T) {
	ms := []Metric{{Name: "latency_p95_ms", Before: 10, After: 11, ChangePct: pctOf(10)}}
	tests := []struct {
		name string
		aa   Metric
		want float64
	}{
		// Intervals ±1 around 10 on both sides: sampling alone makes
		// √2 ≈ 14.1% likely; the runs agreeing to 0.5% does not lower it.
		{"close pair", Metric{Name: "latency_p95_ms", Before: 10, After: 10.05, ChangePct: pctOf(0.5),
			BeforeCI: Interval{9, 11}, AfterCI: Interval{9.05, 11.05}}, 14.142},
		{"far pair", Metric{Name: "latency_p95_ms", Before: 10, After: 13, ChangePct: pctOf(30),
			BeforeCI: Interval{9, 11}, AfterCI: Interval{12, 14}}, 30},
		{"no intervals", Metric{Name: "latency_p95_ms", Before: 10, After: 10.05, ChangePct: pctOf(0.5),
			BeforeCI: noInterval, AfterCI: noInterval}, 0.5},
	}
	for _, tt := range tests {
		got := Calibrate(slices.Clone(ms), []Metric{tt.aa})[0].NoisePct
		if got == nil || math.Abs(*got-tt.want) > 0.01 {
			t.Errorf("%s: noise %v, want %.3f", tt.name, got, tt.want)
		}
	}
}

func pctOf(v float64) *float64 { return &v }

// TestBrokenSessionsGate checks that sessions broken in the database
// fail the session bound even when the server's answers all agree, and
// that the gate is absent when the database-level check did not run.
func TestBrokenSessionsGate(t *testing.T) {
	tests := []struct {
		name     string
		f        Findings
		want     bool // gate present
		wantPass bool
	}{
		{"broken rows, answers agree", Findings{BrokenSessions: 58, SessionRows: true}, true, false},
		{"no broken rows", Findings{SessionRows: true}, true, true},
		{"check did not run", Findings{BrokenSessions: 3}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := Gates(Limits{MaxChangedRows: -1, MaxMissingRows: -1}, nil, tt.f)
			var found *Gate
			for i := range gs {
				if gs[i].Name == "broken_sessions" {
					found = &gs[i]
				}
			}
			if (found != nil) != tt.want {
				t.Fatalf("broken_sessions gate present = %v, want %v (gates %+v)", found != nil, tt.want, gs)
			}
			if found != nil && found.Passed != tt.wantPass {
				t.Errorf("passed = %v, want %v: %s", found.Passed, tt.wantPass, found.Detail)
			}
		})
	}
}

// TestErrorRateGateWithoutRequests: a side that made no requests has no
// error rate; the gate fails and says why, never printing NaN.
func TestErrorRateGateWithoutRequests(t *testing.T) {
	ms := Compare(Side{Requests: 100, LatenciesMS: []float64{1, 2, 3}}, Side{}, DefaultOptions())
	gs := Gates(Limits{MaxErrorRate: 0.01, MaxP95RegressionPct: -1, MaxMissingRows: -1, MaxExtraRows: -1, MaxChangedRows: -1,
		MaxSessionMismatches: -1}, ms, Findings{})
	if len(gs) != 1 || gs[0].Passed {
		t.Fatalf("gates %+v, want one failed error_rate gate", gs)
	}
	if d := gs[0].Detail; strings.Contains(d, "NaN") || !strings.Contains(d, "no requests were made on the new side") {
		t.Errorf("detail %q, want it to say no requests were made on the new side, without NaN", d)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDroppedColumnsGate: a column the migration dropped fails, whatever
// the row bound, unless the row gates are off.
func TestDroppedColumnsGate(t *testing.T) {
	tests := []struct {
		name       string
		maxChanged int64
		dropped    int64
		present    bool
		pass       bool
	}{
		{"none dropped", 0, 0, true, true},
		{"one dropped", 0, 1, true, false},
		{"one dropped, rows may change", 1000, 1, true, false},
		{"row gates off", -1, 1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := Gates(Limits{MaxMissingRows: -1, MaxExtraRows: -1, MaxChangedRows: tt.maxChanged, MaxSessionMismatches: -1,
				MaxErrorRate: -1, MaxP95RegressionPct: -1}, nil, Findings{KeyedTables: 1, DroppedColumns: tt.dropped})
			var g *Gate
			for i := range gs {
				if gs[i].Name == "dropped_columns" {
					g = &gs[i]
				}
			}
			if (g != nil) != tt.present {
				t.Fatalf("gate present = %v, want %v: %+v", g != nil, tt.present, gs)
			}
			if g != nil && g.Passed != tt.pass {
				t.Errorf("passed = %v, want %v: %s", g.Passed, tt.pass, g.Detail)
			}
		})
	}
}

// TestGateDetailsNameAndCount: a count of one reads in the singular,
// and the dropped-columns gate names what was dropped.
func TestGateDetailsNameAndCount(t *testing.T) {
	gs := Gates(Limits{MaxMissingRows: 0, MaxChangedRows: 0, MaxSessionMismatches: 0, MaxErrorRate: -1,
		MaxP95RegressionPct: -1}, nil, Findings{KeyedTables: 1, MissingRows: 2, ExtraRows: 3, ChangedRows: 1,
		DroppedColumns: 1, Dropped: []string{"hydra_oauth2_logout_request.rp_initiated"}, SessionMismatches: 1})
	want := map[string]string{
		"missing_rows":       "2 rows missing on the new side (limit 0)",
		"extra_rows":         "3 rows on the new side only (limit 0)",
		"changed_rows":       "1 row changed across the migration (limit 0)",
		"dropped_columns":    "1 column dropped and not ignored by the mapping: hydra_oauth2_logout_request.rp_initiated (limit 0)",
		"session_mismatches": "1 session behaves differently (limit 0)",
	}
	for _, g := range gs {
		if w, ok := want[g.Name]; ok && g.Detail != w {
			t.Errorf("%s: detail %q, want %q", g.Name, g.Detail, w)
		}
		delete(want, g.Name)
	}
	if len(want) > 0 {
		t.Errorf("gates missing: %v", want)
	}
}
