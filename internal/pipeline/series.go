package pipeline

import (
	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/scrape"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

// series keeps a load's requests and resource scrapes as time series;
// nil when the load never ran.
func series(res *loadgen.Result, rs sideResources) *compare.Series {
	if res == nil {
		return nil
	}
	s := &compare.Series{Requests: make([]compare.Request, 0, len(res.Samples))}
	for _, x := range res.Samples {
		s.Requests = append(s.Requests, compare.Request{Op: x.Op.String(), AtS: x.At.Seconds(),
			LatencyMS: float64(x.Latency) / 1e6, Failed: x.Failed})
	}
	for _, p := range rs.points {
		pt := compare.Resource{AtS: p.At.Seconds()}
		get := func(name string) *float64 {
			if v, ok := p.Values[name]; ok {
				return &v
			}
			return nil
		}
		pt.RSS, pt.Heap, pt.Goroutines, pt.CPUSeconds = get(scrape.RSS), get(scrape.Heap),
			get(scrape.Goroutines), get(scrape.CPU)
		s.Resources = append(s.Resources, pt)
	}
	return s
}

// Limits turns a scenario's gates into the bounds compare checks.
func Limits(g scenarios.Gates) compare.Limits {
	l := compare.Limits{
		MaxErrorRate: g.MaxErrorRate, MaxP95RegressionPct: g.MaxP95RegressionPct,
		MaxMissingRows: int64(g.MaxMissingRows), MaxExtraRows: int64(g.MaxExtraRows), MaxChangedRows: int64(g.MaxChangedRows),
		MaxSessionMismatches: int64(g.MaxSessionMismatches),
	}
	for _, m := range g.Metrics {
		l.Metrics = append(l.Metrics, compare.MetricLimit{Metric: m.Metric, MaxRegressionPct: m.MaxRegressionPct,
			MaxRegression: m.MaxRegression, MaxNoiseMultiple: m.MaxNoiseMultiple, FailIfWorse: m.FailIfWorse,
			OnlySignificant: m.OnlySignificant})
	}
	return l
}
