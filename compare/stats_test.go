package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestUTestKnownValues(t *testing.T) {
	check := func(xs, ys []float64, want float64) {
		t.Helper()
		if got := uTest(xs, ys); math.Abs(got-want) > 1e-4 {
			t.Errorf("uTest(%v, %v) = %.6f, want %.6f", xs, ys, got, want)
		}
	}
	// Complete separation of 5 and 5: the two most extreme of the
	// C(10,5) = 252 equally likely rank sets, two-sided p = 2/252.
	check([]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 2.0/252)
	// Interleaved ranks: U = 10 of 25, p = 0.6905 (exact distribution,
	// as tabulated for n1 = n2 = 5).
	check([]float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}, 0.690476)
	// Nothing to tell apart.
	check([]float64{4, 4, 4}, []float64{4, 4}, 1)
	check(nil, []float64{1}, 1)
}

func TestHolm(t *testing.T) {
	got := holm([]float64{0.01, 0.04, 0.03, 0.005, math.NaN()}, 0.05)
	// Four tests: 0.005 < 0.05/4, 0.01 < 0.05/3, 0.03 >= 0.05/2 stops.
	want := []bool{true, false, false, true, false}
	if !slices.Equal(got, want) {
		t.Errorf("holm = %v, want %v", got, want)
	}
}

func TestRankOf(t *testing.T) {
	// gonum's empirical quantile of 1..10: P50 is 5, P95 is 10, P0 is 1.
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, p := range []float64{0, 0.1, 0.5, 0.55, 0.95, 1} {
		if got, want := xs[rankOf(p, len(xs))-1], sortedQuantile(xs, p); got != want {
			t.Errorf("rankOf(%g) picks %g, gonum picks %g", p, got, want)
		}
	}
}

// TestBootstrapCoverage checks that the 95% intervals of the median
// and of P95 cover the true value in about 95% of samples.
func TestBootstrapCoverage(t *testing.T) {
	o := DefaultOptions()
	o.Resamples = 400
	rng := rand.New(rand.NewPCG(3, 4))
	// Standard exponential: median ln 2, P95 ln 20.
	truth := []float64{math.Ln2, math.Log(20)}
	covered := make([]int, 2)
	const trials = 300
	for range trials {
		xs := make([]float64, 400)
		for i := range xs {
			xs[i] = rng.ExpFloat64()
		}
		slices.Sort(xs)
		ivs := bootstrapQuantiles(xs, []float64{0.5, 0.95}, o, rng)
		for i, iv := range ivs {
			if iv.Low <= truth[i] && truth[i] <= iv.High {
				covered[i]++
			}
		}
	}
	for i, name := range []string{"median", "P95"} {
		c := float64(covered[i]) / trials
		if c < 0.90 || c > 0.99 {
			t.Errorf("%s interval covered the truth in %.3f of trials, want about 0.95", name, c)
		}
	}
}

func TestIntervals(t *testing.T) {
	// No lag-1 autocorrelation (it is negative): the effective sample
	// size is the count. t(0.975, 4) = 2.776, s = 1.5811, se = 0.7071:
	// 3 ± 1.963.
	m, iv := meanInterval([]float64{3, 1, 4, 2, 5}, 0.95)
	if m != 3 || math.Abs(iv.Low-1.0368) > 1e-3 || math.Abs(iv.High-4.9632) > 1e-3 {
		t.Errorf("meanInterval = %g %v, want 3 [1.0368, 4.9632]", m, iv)
	}
	// Wilson interval of 0 of 1200 at 95%: [0, 0.0032].
	if iv := proportionInterval(0, 1200, 0.95); iv.Low != 0 || math.Abs(iv.High-0.0031912) > 1e-5 {
		t.Errorf("proportionInterval(0, 1200) = %v, want [0, 0.00319]", iv)
	}
	if r := intervalRates([]float64{0, 1, 3}, []float64{10, 10.5, 11.5}); !slices.Equal(r, []float64{0.5, 0.5}) {
		t.Errorf("intervalRates = %v, want [0.5 0.5]", r)
	}
}

func TestEffectiveN(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ar := func(rho float64, n int) []float64 {
		xs := make([]float64, n)
		for i := 1; i < n; i++ {
			xs[i] = rho*xs[i-1] + rng.NormFloat64()
		}
		return xs
	}
	tests := []struct {
		name     string
		xs       []float64
		low, hig float64
	}{
		{"white noise", ar(0, 4000), 3600, 4000},
		// AR(1) with ρ = 0.8: n(1-ρ)/(1+ρ) = 4000/9 ≈ 444.
		{"ar(1) 0.8", ar(0.8, 4000), 380, 520},
		{"constant", []float64{7, 7, 7, 7}, 4, 4},
		{"trend", []float64{1, 2, 3, 4, 5, 6}, 2, 2},
		{"two samples", []float64{1, 2}, 2, 2},
	}
	for _, tt := range tests {
		if got := effectiveN(tt.xs); got < tt.low || got > tt.hig {
			t.Errorf("%s: effectiveN = %.1f, want in [%g, %g]", tt.name, got, tt.low, tt.hig)
		}
	}
}

func TestWelchKnownValues(t *testing.T) {
	// Means 3 and 7, variances 2.5 and 2.5, five samples each without
	// positive autocorrelation: t = 4 on 8 degrees of freedom,
	// two-sided p = 0.003949.
	if p := welchTest([]float64{3, 1, 4, 2, 5}, []float64{6, 8, 5, 9, 7}); math.Abs(p-0.003949) > 1e-5 {
		t.Errorf("welchTest = %.6f, want 0.003949", p)
	}
	if p := welchTest([]float64{4, 4, 4}, []float64{4, 4}); p != 1 {
		t.Errorf("welchTest of equal constants = %g, want 1", p)
	}
	if p := welchTest([]float64{4, 4, 4}, []float64{5, 5}); p != 0 {
		t.Errorf("welchTest of different constants = %g, want 0", p)
	}
	if p := welchTest([]float64{4}, []float64{5, 5}); !math.IsNaN(p) {
		t.Errorf("welchTest with one sample = %g, want NaN", p)
	}
}

// TestAutocorrelatedAAIsQuiet checks the resource test on scrapes that
// follow each other closely (AR(1), ρ = 0.9, 26 scrapes a side, same
// mean): treating them as independent, as the U test does, calls many
// of these A/A pairs different; on the effective sample size the false
// alarms stay near α.
func TestAutocorrelatedAAIsQuiet(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	series := func() []float64 {
		xs := make([]float64, 26)
		x := rng.NormFloat64() / math.Sqrt(1-0.81)
		for i := range xs {
			x = 0.9*x + rng.NormFloat64()
			xs[i] = 60e6 + 1e6*x
		}
		return xs
	}
	const trials = 1000
	welch, u := 0, 0
	for range trials {
		b, a := series(), series()
		if welchTest(b, a) < 0.05 {
			welch++
		}
		if uTest(b, a) < 0.05 {
			u++
		}
	}
	t.Logf("A/A on AR(1) scrapes: %d of %d significant with the effective-n Welch test, %d with the U test",
		welch, trials, u)
	if welch > trials*75/1000 {
		t.Errorf("effective-n Welch test: %d of %d A/A pairs significant at 0.05, want at most %d",
			welch, trials, trials*75/1000)
	}
}
