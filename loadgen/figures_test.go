package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogramQuantilesWithinOnePercent compares the histogram's
// quantiles with the exact ones computed from all samples, on shapes
// that latency takes: narrow, wide (log-normal) and bimodal.
func TestHistogramQuantilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func() time.Duration{
		"narrow":    func() time.Duration { return 800*time.Microsecond + time.Duration(rng.IntN(100_000)) },
		"lognormal": func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*1.5) * 2e6) },
		"bimodal": func() time.Duration {
			if rng.IntN(10) == 0 {
				return time.Duration(200e6 + rng.IntN(50e6))
			}
			return time.Duration(1e6 + rng.IntN(1e6))
		},
	}
	for name, draw := range shapes {
		t.Run(name, func(t *testing.T) {
			h := NewHistogram()
			all := make([]time.Duration, 200_000)
			for i := range all {
				all[i] = draw()
				h.Record(all[i])
			}
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
				exact := all[rank(q, len(all))-1]
				got := h.Quantile(q)
				if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.01 {
					t.Errorf("q%v: got %v, exact %v: off by %.3f%%, want within 1%%", q, got, exact, rel*100)
				}
			}
			if h.Count() != int64(len(all)) {
				t.Errorf("got count %d, want %d", h.Count(), len(all))
			}
		})
	}
}

// rank returns the 1-based rank of the q-quantile among n sorted
// samples, as the histogram defines it: round(q·n), at least 1.
func rank(q float64, n int) int { return max(int(q*float64(n)+0.5), 1) }
