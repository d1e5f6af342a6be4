package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/aclements/go-moremath/stats"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Options tune the statistics behind every verdict. The zero value is
// not useful; start from [DefaultOptions].
type Options struct {
	// Alpha is the significance level of the tests, in (0, 1).
	Alpha float64 `json:"alpha"`
	// MinEffectPct is the smallest relative change, in percent, that a
	// verdict calls better or worse; smaller significant changes are
	// reported as no significant change.
	MinEffectPct float64 `json:"min_effect_pct"`
	// MinErrorRateDelta is the smallest absolute change of the error
	// rate (a fraction) that a verdict calls better or worse.
	MinErrorRateDelta float64 `json:"min_error_rate_delta"`
	// Confidence is the level of the confidence intervals, in (0, 1).
	Confidence float64 `json:"confidence"`
	// Resamples is the number of bootstrap resamples behind the
	// latency percentiles' confidence intervals.
	Resamples int `json:"resamples"`
	// Seed makes the bootstrap reproducible.
	Seed uint64 `json:"seed"`
}

// DefaultOptions returns the options cutover uses: α = 0.05, a 5%
// minimum effect (0.1 percentage points for the error rate), 95%
// intervals from 1000 bootstrap resamples.
func DefaultOptions() Options {
	return Options{Alpha: 0.05, MinEffectPct: 5, MinErrorRateDelta: 0.001, Confidence: 0.95,
		Resamples: 1000, Seed: 1}
}

// An Interval is a confidence interval; both ends are NaN when it is
// unknown.
type Interval struct {
	Low, High float64
}

var noInterval = Interval{math.NaN(), math.NaN()}

func (iv Interval) known() bool { return !math.IsNaN(iv.Low) && !math.IsNaN(iv.High) }

// nonNegative cuts an interval of a figure that cannot be negative
// (bytes, counts, cores) at zero: a wide t interval around a small mean
// would otherwise reach below it.
func (iv Interval) nonNegative() Interval {
	if iv.known() && iv.Low < 0 {
		iv.Low = 0
	}
	return iv
}

// overlaps reports whether two known intervals share a point.
func (iv Interval) overlaps(o Interval) bool { return iv.Low <= o.High && o.Low <= iv.High }

// uTest returns the two-sided p-value of the Mann-Whitney U test of xs
// against ys. It returns 1 when the test cannot tell the samples apart
// at all (a side is empty or every value is equal).
func uTest(xs, ys []float64) float64 {
	r, err := stats.MannWhitneyUTest(xs, ys, stats.LocationDiffers)
	if err != nil {
		return 1
	}
	return r.P
}

// rankOf returns the 1-based rank that gonum's empirical quantile
// picks for p among n sorted values: the lowest value that is at least
// the fraction p of the samples.
func rankOf(p float64, n int) int {
	r := int(math.Ceil(p * float64(n)))
	return min(max(r, 1), n)
}

// bootstrapQuantiles returns, for each p in ps, a percentile-bootstrap
// confidence interval of the p-quantile of sorted (ascending).
//
// A resample of a sorted sample is fully described by how often it
// draws each index, so each resample counts draws and walks the counts
// instead of sorting: O(n) per resample.
func bootstrapQuantiles(sorted, ps []float64, o Options, rng *rand.Rand) []Interval {
	out := make([]Interval, len(ps))
	n := len(sorted)
	if n < 2 || o.Resamples < 10 {
		for i := range out {
			out[i] = noInterval
		}
		return out
	}
	ranks := make([]int, len(ps))
	for i, p := range ps {
		ranks[i] = rankOf(p, n)
	}
	est := make([][]float64, len(ps))
	for i := range est {
		est[i] = make([]float64, o.Resamples)
	}
	// Walk the cumulative counts once for every rank, in rank order.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, c int) int { return ranks[a] - ranks[c] })
	counts := make([]int32, n)
	for b := range o.Resamples {
		clear(counts)
		for range n {
			counts[rng.IntN(n)]++
		}
		cum, j := 0, 0
		for _, k := range order {
			for cum < ranks[k] {
				cum += int(counts[j])
				j++
			}
			est[k][b] = sorted[j-1]
		}
	}
	tail := (1 - o.Confidence) / 2
	for i, e := range est {
		slices.Sort(e)
		out[i] = Interval{Low: e[rankOf(tail, len(e))-1], High: e[rankOf(1-tail, len(e))-1]}
	}
	return out
}

// meanInterval returns the mean of xs and its Student's t confidence
// interval on the series' effective sample size (see [effectiveN]),
// within the range of xs.
func meanInterval(xs []float64, conf float64) (float64, Interval) {
	m, v, neff := seriesMoments(xs)
	if len(xs) == 0 {
		return math.NaN(), noInterval
	}
	if len(xs) < 2 {
		return m, noInterval
	}
	se := math.Sqrt(v / neff)
	h := tQuantile(conf, max(1, int(neff)-1)) * se
	// With few effective samples the t interval can reach far beyond
	// anything measured; it is cut to the range of the samples.
	return m, Interval{max(m-h, slices.Min(xs)), min(m+h, slices.Max(xs))}
}

// seriesMoments returns the mean and sample variance of xs and its
// effective sample size.
func seriesMoments(xs []float64) (mean, variance, neff float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = stat.Mean(xs, nil)
	if n < 2 {
		return mean, math.NaN(), 1
	}
	return mean, stat.Variance(xs, nil), effectiveN(xs)
}

// effectiveN returns the number of independent samples worth as much
// as the time series xs for estimating its mean: n(1-r)/(1+r), where r
// is the lag-1 autocorrelation (the AR(1) approximation). Successive
// scrapes of a process's memory are alike, so 26 scrapes may carry the
// information of only a few independent ones. A negative or undefined
// r counts as none; the result is at least 2 and at most n.
//
// On a short series the sample autocorrelation underestimates r by
// about (1+4r)/n (Kendall), which would call noise a change; that bias
// is added back.
func effectiveN(xs []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 3 {
		return n
	}
	r := stat.Correlation(xs[:len(xs)-1], xs[1:], nil)
	if math.IsNaN(r) {
		return n
	}
	r = min(r+(1+4*r)/n, 0.99)
	if r <= 0 {
		return n
	}
	return min(n, max(2, n*(1-r)/(1+r)))
}

// welchTest returns the two-sided p-value of Welch's t test of the
// means of the time series xs and ys, each on its effective sample
// size. It returns NaN when a side has fewer than two samples.
func welchTest(xs, ys []float64) float64 {
	if len(xs) < 2 || len(ys) < 2 {
		return math.NaN()
	}
	mx, vx, nx := seriesMoments(xs)
	my, vy, ny := seriesMoments(ys)
	ex, ey := vx/nx, vy/ny
	se := math.Sqrt(ex + ey)
	switch {
	case se == 0 && mx == my:
		return 1
	case se == 0:
		return 0
	}
	// Welch–Satterthwaite degrees of freedom.
	df := (ex + ey) * (ex + ey) / (ex*ex/(nx-1) + ey*ey/(ny-1))
	t := math.Abs(my-mx) / se
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
}

// tQuantile returns the two-sided critical value of Student's t with
// df degrees of freedom at confidence conf.
func tQuantile(conf float64, df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-conf)/2)
}

// slope fits ys = a + b·xs by least squares and returns b, its
// standard error and its confidence interval. For a CPU-seconds
// counter over time in seconds, b is the CPU cores in use.
func slope(xs, ys []float64, conf float64) (b, se float64, iv Interval) {
	n := len(xs)
	if n < 2 || n != len(ys) {
		return math.NaN(), math.NaN(), noInterval
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx == 0 {
		return math.NaN(), math.NaN(), noInterval
	}
	b = sxy / sxx
	if n < 3 {
		return b, math.NaN(), noInterval
	}
	var sse float64
	for i := range xs {
		r := ys[i] - (my + b*(xs[i]-mx))
		sse += r * r
	}
	se = math.Sqrt(sse / float64(n-2) / sxx)
	h := tQuantile(conf, n-2) * se
	return b, se, Interval{b - h, b + h}
}

// zTest returns the two-sided p-value of a difference d with standard
// error se under the normal approximation.
func zTest(d, se float64) float64 {
	switch {
	case math.IsNaN(d) || math.IsNaN(se):
		return math.NaN()
	case se == 0 && d == 0:
		return 1
	case se == 0:
		return 0
	}
	return 2 * distuv.UnitNormal.Survival(math.Abs(d)/se)
}

// proportionTest returns the two-sided p-value of the two-proportion z
// test of k1 of n1 against k2 of n2 (pooled variance).
func proportionTest(k1, n1, k2, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return math.NaN()
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	p := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	return zTest(p2-p1, se)
}

// proportionInterval returns the Wilson score interval of k of n.
func proportionInterval(k, n int, conf float64) Interval {
	if n == 0 {
		return noInterval
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	nf := float64(n)
	p := float64(k) / nf
	den := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / den
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return Interval{max(c-h, 0), min(c+h, 1)}
}
