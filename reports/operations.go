package reports

import (
	"maps"
	"slices"
	"time"

	"github.com/cutover-dev/cutover/compare"
)

// OperationsOf breaks latency down by operation for both sides of a
// run, the way a run and a comparison both report it: every request
// counts towards Requests and Failed, and the percentiles are the exact
// quantiles of the latencies of the requests sent from each side's
// warm-up on (the window of the API latency metrics). A side that is
// nil or lacks an operation has zeros for it. Operations are listed in
// order's order, then by name.
func OperationsOf(before, after *compare.Series, warmBefore, warmAfter time.Duration, order []string) []Operation {
	byOp := map[string]*Operation{}
	lat := map[string]*[2][]float64{}
	warm := [2]float64{warmBefore.Seconds(), warmAfter.Seconds()}
	for i, s := range []*compare.Series{before, after} {
		if s == nil {
			continue
		}
		for _, r := range s.Requests {
			o := byOp[r.Op]
			if o == nil {
				o = &Operation{Op: r.Op}
				byOp[r.Op], lat[r.Op] = o, &[2][]float64{}
			}
			o.Requests[i]++
			if r.Failed {
				o.Failed[i]++
			}
			if r.AtS >= warm[i] {
				lat[r.Op][i] = append(lat[r.Op][i], r.LatencyMS)
			}
		}
	}
	names := slices.Sorted(maps.Keys(byOp))
	rank := func(op string) int {
		if i := slices.Index(order, op); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	out := make([]Operation, 0, len(names))
	for _, op := range names {
		o := byOp[op]
		for i, l := range lat[op] {
			if len(l) > 0 {
				o.P50MS[i], o.P95MS[i] = compare.Quantile(l, 0.5), compare.Quantile(l, 0.95)
			}
		}
		out = append(out, *o)
	}
	return out
}

// Operations is [OperationsOf] for the old and new sides of s, each
// from s's warm-up.
func (s *Samples) Operations(order []string) []Operation {
	if s == nil {
		return nil
	}
	return OperationsOf(s.Old, s.New, s.Warmup(), s.Warmup(), order)
}
