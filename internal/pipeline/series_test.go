package pipeline

import (
	"testing"
	"time"

	"github.com/cutover-dev/cutover/internal/scrape"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

func TestSeries(t *testing.T) {
	if s := series(nil, sideResources{}); s != nil {
		t.Errorf("series of no load = %v, want nil", s)
	}
	res := &loadgen.Result{Samples: []loadgen.Sample{
		{Op: loadgen.Introspect, At: time.Second, Latency: 3 * time.Millisecond},
		{Op: loadgen.Refresh, At: 6 * time.Second, Latency: 5 * time.Millisecond, Failed: true},
	}}
	rs := sideResources{points: []scrape.Point{
		{At: 2 * time.Second, Values: map[string]float64{scrape.RSS: 100, scrape.CPU: 1}},
		{At: 7 * time.Second, Values: map[string]float64{scrape.RSS: 120, scrape.CPU: 2, scrape.Goroutines: 9}},
	}}
	s := series(res, rs)
	if len(s.Requests) != 2 || s.Requests[1].Op != "refresh" || s.Requests[1].LatencyMS != 5 || !s.Requests[1].Failed {
		t.Errorf("requests = %+v", s.Requests)
	}
	if len(s.Resources) != 2 || s.Resources[0].Goroutines != nil || *s.Resources[1].Goroutines != 9 {
		t.Errorf("resources = %+v", s.Resources)
	}
	// The warm-up (5 s) leaves one latency and one scrape, but every
	// request counts towards requests and failures.
	side := s.Side(5*time.Second, 0)
	if side.Requests != 2 || side.Failed != 1 || len(side.LatenciesMS) != 1 || len(side.RSS) != 1 || side.RSS[0] != 120 {
		t.Errorf("steady-state side = %+v", side)
	}
	// A scrape after the load stopped sending (6.5 s) is not steady state.
	if side := s.Side(0, 6500*time.Millisecond); len(side.RSS) != 1 || side.RSS[0] != 100 {
		t.Errorf("side ending at 6.5s has RSS %v, want [100]", side.RSS)
	}
}

func TestLimits(t *testing.T) {
	pct := 40.0
	l := Limits(scenarios.Gates{MaxErrorRate: 0.01, MaxP95RegressionPct: 25, MaxMissingRows: 1,
		Metrics: []scenarios.MetricGate{{Metric: "latency_p99_ms", MaxRegressionPct: &pct, FailIfWorse: true}}})
	if l.MaxErrorRate != 0.01 || l.MaxP95RegressionPct != 25 || l.MaxMissingRows != 1 {
		t.Errorf("fixed limits = %+v", l)
	}
	if len(l.Metrics) != 1 || l.Metrics[0].Metric != "latency_p99_ms" || *l.Metrics[0].MaxRegressionPct != 40 ||
		!l.Metrics[0].FailIfWorse {
		t.Errorf("metric limits = %+v", l.Metrics)
	}
}
