package compare

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// A Side is what was measured on one server.
type Side struct {
	// LatenciesMS holds every steady-state request's latency in
	// milliseconds.
	LatenciesMS []float64
	// Requests and Failed count requests sent and requests that failed.
	Requests, Failed int
	// RSS, Heap and Goroutines are the steady-state samples of resident
	// memory (bytes), Go heap in use (bytes) and goroutines.
	RSS, Heap, Goroutines []float64
	// CPUTimes and CPUSeconds are the steady-state samples of the CPU
	// counter: at CPUTimes[i] seconds the process had used CPUSeconds[i]
	// seconds of CPU.
	CPUTimes, CPUSeconds []float64
}

// Verdicts of a metric comparison. A metric that was not tested (no
// data on a side, or a figure without a direction such as the request
// count) has the empty verdict.
const (
	Better   = "better"
	Worse    = "worse"
	NoChange = "no_change"
)

// Tests name the significance test behind a verdict.
const (
	TestMannWhitney = "mann-whitney-u"
	TestWelch       = "welch-t-effective-n"
	TestPercentile  = "bootstrap-percentile"
	TestSlope       = "slope-z"
	TestProportion  = "two-proportion-z"
)

// A Metric compares one figure across the sides.
type Metric struct {
	// Name is a stable identifier such as "latency_p95_ms".
	Name string `json:"name"`
	// Unit is "ms", "bytes", "count", "cores" or "ratio".
	Unit string `json:"unit"`
	// Before and After are the figures; NaN is reported as null when a
	// side has no data.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// ChangePct is (After-Before)/Before in percent; nil when Before is
	// zero or a side has no data.
	ChangePct *float64 `json:"change_pct"`
	// BeforeCI and AfterCI are the confidence intervals of the figures
	// at Options.Confidence; NaN ends when unknown.
	BeforeCI, AfterCI Interval
	// PValue is the significance test's p-value; NaN when untested.
	PValue float64
	// Test names the test behind PValue, one of the Test constants.
	Test string
	// Verdict is Better, Worse, NoChange or empty when untested.
	Verdict string
	// NoisePct is the absolute change of this metric between two runs
	// of the old side (A/A calibration), in percent; nil without a
	// calibration run.
	NoisePct *float64
	// DetectablePct, for the latency percentiles, is the smallest change
	// in percent this comparison calls better or worse 95 times in 100:
	// it shrinks as the sides hold more requests. Nil when unknown.
	DetectablePct *float64
}

// Names lists the metric names in the order [Compare] returns them.
var Names = []string{"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "rss_bytes",
	"heap_alloc_bytes", "goroutines", "cpu_cores", "requests", "error_rate"}

// Directional reports whether a higher value of the named metric is a
// regression, which every metric but the request count is.
func Directional(name string) bool {
	return name != "requests" && slices.Contains(Names, name)
}

// Metrics compares before and after with [DefaultOptions].
func Metrics(before, after Side) []Metric {
	return Compare(before, after, DefaultOptions())
}

// Compare compares before and after. The order is fixed: latency P50,
// P95, P99, RSS, heap, goroutines, CPU cores, requests, error rate.
// See the package documentation for the tests and verdict rules.
func Compare(before, after Side, o Options) []Metric {
	out := make([]Metric, 0, len(Names))
	out = append(out, latencies(before, after, o)...)
	for _, r := range []struct {
		name, unit string
		b, a       []float64
	}{
		{"rss_bytes", "bytes", before.RSS, after.RSS},
		{"heap_alloc_bytes", "bytes", before.Heap, after.Heap},
		{"goroutines", "count", before.Goroutines, after.Goroutines},
	} {
		m := Metric{Name: r.name, Unit: r.unit, Test: TestWelch}
		m.Before, m.BeforeCI = meanInterval(r.b, o.Confidence)
		m.After, m.AfterCI = meanInterval(r.a, o.Confidence)
		m.BeforeCI, m.AfterCI = m.BeforeCI.nonNegative(), m.AfterCI.nonNegative()
		m.PValue = welchTest(r.b, r.a)
		out = append(out, m)
	}

	// CPU: the counter's rate over each scrape interval are the samples;
	// their mean over equal intervals is the counter's rate over the
	// steady state.
	rb, ra := intervalRates(before.CPUTimes, before.CPUSeconds), intervalRates(after.CPUTimes, after.CPUSeconds)
	cpu := Metric{Name: "cpu_cores", Unit: "cores", Test: TestWelch}
	cpu.Before, cpu.BeforeCI = meanInterval(rb, o.Confidence)
	cpu.After, cpu.AfterCI = meanInterval(ra, o.Confidence)
	cpu.BeforeCI, cpu.AfterCI = cpu.BeforeCI.nonNegative(), cpu.AfterCI.nonNegative()
	cpu.PValue = welchTest(rb, ra)
	out = append(out, cpu)

	req := Metric{Name: "requests", Unit: "count", Before: float64(before.Requests),
		After: float64(after.Requests), BeforeCI: noInterval, AfterCI: noInterval, PValue: math.NaN()}
	out = append(out, req)

	er := Metric{Name: "error_rate", Unit: "ratio", Test: TestProportion, Before: math.NaN(), After: math.NaN()}
	if before.Requests > 0 {
		er.Before = float64(before.Failed) / float64(before.Requests)
	}
	if after.Requests > 0 {
		er.After = float64(after.Failed) / float64(after.Requests)
	}
	er.BeforeCI = proportionInterval(before.Failed, before.Requests, o.Confidence)
	er.AfterCI = proportionInterval(after.Failed, after.Requests, o.Confidence)
	er.PValue = proportionTest(before.Failed, before.Requests, after.Failed, after.Requests)
	out = append(out, er)

	// One family per test: the three latency figures share one U test.
	sig := holm([]float64{out[0].PValue, out[3].PValue, out[4].PValue, out[5].PValue,
		out[6].PValue, out[8].PValue}, o.Alpha)
	fam := []int{0, 0, 0, 1, 2, 3, 4, -1, 5}
	for i := range out {
		s := fam[i] >= 0 && sig[fam[i]]
		if m := out[i]; i < len(latencyPs) && !s && m.BeforeCI.known() && m.AfterCI.known() &&
			!m.BeforeCI.overlaps(m.AfterCI) {
			// The U test compares whole distributions and can miss a
			// change of one percentile alone; disjoint intervals of the
			// percentile itself count as significant too. The row then
			// shows that percentile's own p-value, not the U test's.
			s = true
			out[i].PValue, out[i].Test = percentileP(m, o), TestPercentile
		}
		out[i] = out[i].judge(s, o)
	}
	return out
}

// intervalRates returns the rate of the counter ys over each interval
// of xs (seconds): for a CPU-seconds counter, the cores in use.
func intervalRates(xs, ys []float64) []float64 {
	var out []float64
	for i := 1; i < len(xs) && i < len(ys); i++ {
		if dt := xs[i] - xs[i-1]; dt > 0 {
			out = append(out, (ys[i]-ys[i-1])/dt)
		}
	}
	return out
}

// holm applies the Holm–Bonferroni procedure to the p-values ps at
// family-wise level alpha and reports which are significant. NaN
// p-values are never significant and do not count as tests.
func holm(ps []float64, alpha float64) []bool {
	idx := make([]int, 0, len(ps))
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(ps[a], ps[b]) })
	out := make([]bool, len(ps))
	for k, i := range idx {
		if ps[i] >= alpha/float64(len(idx)-k) {
			break
		}
		out[i] = true
	}
	return out
}

var latencyPs = []float64{0.50, 0.95, 0.99}

func latencies(before, after Side, o Options) []Metric {
	b, a := slices.Clone(before.LatenciesMS), slices.Clone(after.LatenciesMS)
	slices.Sort(b)
	slices.Sort(a)
	p := math.NaN()
	if len(b) > 0 && len(a) > 0 {
		p = uTest(b, a)
	}
	// Each side resamples with its own generator, seeded alike: adding
	// samples to one side does not move the other side's intervals, and
	// identical samples get identical intervals.
	ciB := bootstrapQuantiles(b, latencyPs, o, rand.New(rand.NewPCG(o.Seed, 1)))
	ciA := bootstrapQuantiles(a, latencyPs, o, rand.New(rand.NewPCG(o.Seed, 1)))
	out := make([]Metric, len(latencyPs))
	for i, q := range latencyPs {
		out[i] = Metric{Name: Names[i], Unit: "ms", Before: sortedQuantile(b, q), After: sortedQuantile(a, q),
			BeforeCI: ciB[i], AfterCI: ciA[i], PValue: p, Test: TestMannWhitney,
			DetectablePct: num(detectable(ciB[i], ciA[i], o))}
	}
	return out
}

// percentileP returns the two-sided p-value of a percentile's change
// on its own: the log ratio of the estimates against its standard
// error, read off the two bootstrap intervals as in [detectable].
func percentileP(m Metric, o Options) float64 {
	if m.Before <= 0 || m.After <= 0 || m.BeforeCI.Low <= 0 || m.AfterCI.Low <= 0 {
		return math.NaN()
	}
	z := distuv.UnitNormal.Quantile(1 - (1-o.Confidence)/2)
	se := math.Hypot(math.Log(m.BeforeCI.High/m.BeforeCI.Low), math.Log(m.AfterCI.High/m.AfterCI.Low)) / (2 * z)
	return zTest(math.Log(m.After/m.Before), se)
}

// detectable returns the smallest relative change of a percentile, in
// percent, that a comparison with these intervals calls better or
// worse at least 95 times in 100, or NaN when an interval is unknown.
//
// A percentile's estimate is noisy: P99 of 1000 requests rests on the
// ten slowest. The change is judged on the estimates, so a change is
// called reliably only when it exceeds the minimum effect by 1.645
// standard errors of the estimates' log ratio (one-sided 95% power).
// The standard errors are read off the bootstrap intervals, taken as
// normal in log space.
func detectable(before, after Interval, o Options) float64 {
	if !before.known() || !after.known() || before.Low <= 0 || after.Low <= 0 {
		return math.NaN()
	}
	z := distuv.UnitNormal.Quantile(1 - (1-o.Confidence)/2)
	seB := (math.Log(before.High) - math.Log(before.Low)) / (2 * z)
	seA := (math.Log(after.High) - math.Log(after.Low)) / (2 * z)
	se := math.Hypot(seB, seA)
	d := math.Log1p(o.MinEffectPct/100) + distuv.UnitNormal.Quantile(0.95)*se
	return math.Expm1(d) * 100
}

// judge fills ChangePct and the verdict: a significant change at least
// as large as the minimum effect is better or worse, anything else is
// no significant change.
func (m Metric) judge(significant bool, o Options) Metric {
	if math.IsNaN(m.Before) || math.IsNaN(m.After) {
		return m
	}
	if m.Before != 0 {
		c := (m.After - m.Before) / m.Before * 100
		m.ChangePct = &c
	}
	if !Directional(m.Name) {
		return m
	}
	large := false
	switch {
	case m.Unit == "ratio":
		large = math.Abs(m.After-m.Before) >= o.MinErrorRateDelta
	case m.ChangePct != nil:
		large = math.Abs(*m.ChangePct) >= o.MinEffectPct
	default:
		large = m.After != 0 // from zero to anything
	}
	switch {
	case !significant || !large:
		m.Verdict = NoChange
	case m.After > m.Before:
		m.Verdict = Worse
	default:
		m.Verdict = Better
	}
	return m
}

// Calibrate sets the NoisePct of each metric in ms from aa, the
// comparison of two runs of the old side, and returns ms.
//
// The noise is the A/A change, but never less than the change sampling
// alone makes likely: the half-width of the change's 95% interval,
// from the two runs' intervals. One pair of runs that happen to agree
// closely would otherwise set the noise near zero, and a gate on a
// multiple of it would fire on the next run's sampling noise.
func Calibrate(ms, aa []Metric) []Metric {
	for i := range ms {
		if n, ok := Find(aa, ms[i].Name); ok && n.ChangePct != nil {
			v := math.Max(math.Abs(*n.ChangePct), samplingPct(n))
			ms[i].NoisePct = &v
		}
	}
	return ms
}

// samplingPct returns the half-width of m's change in percent of its
// before figure, from the widths of its two intervals, or 0 when they
// are unknown.
func samplingPct(m Metric) float64 {
	if !m.BeforeCI.known() || !m.AfterCI.known() || m.Before == 0 {
		return 0
	}
	hb, ha := (m.BeforeCI.High-m.BeforeCI.Low)/2, (m.AfterCI.High-m.AfterCI.Low)/2
	return math.Hypot(hb, ha) / math.Abs(m.Before) * 100
}

// Find returns the metric named name, or false.
func Find(ms []Metric, name string) (Metric, bool) {
	i := slices.IndexFunc(ms, func(m Metric) bool { return m.Name == name })
	if i < 0 {
		return Metric{}, false
	}
	return ms[i], true
}

// Quantile returns the exact p-quantile (0 ≤ p ≤ 1) of xs, or NaN when
// xs is empty. xs is not modified.
func Quantile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return sortedQuantile(s, p)
}

func sortedQuantile(s []float64, p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return stat.Quantile(p, stat.Empirical, s, nil)
}

// Rate returns the slope of ys over xs by least squares: for a CPU
// counter in seconds against time in seconds, the CPU cores in use. It
// returns NaN with fewer than two points.
func Rate(xs, ys []float64) float64 {
	b, _, _ := slope(xs, ys, 0.95)
	return b
}

// metricJSON is the JSON form of a Metric: NaN becomes null, unknown
// intervals and untested figures are left out.
type metricJSON struct {
	Name       string      `json:"name"`
	Unit       string      `json:"unit"`
	Before     *float64    `json:"before"`
	After      *float64    `json:"after"`
	ChangePct  *float64    `json:"change_pct"`
	BeforeCI   *[2]float64 `json:"before_ci,omitempty"`
	AfterCI    *[2]float64 `json:"after_ci,omitempty"`
	PValue     *float64    `json:"p_value,omitempty"`
	Test       string      `json:"test,omitempty"`
	Verdict    string      `json:"verdict,omitempty"`
	NoisePct   *float64    `json:"noise_pct,omitempty"`
	Detectable *float64    `json:"detectable_pct,omitempty"`
}

func num(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func val(f *float64) float64 {
	if f == nil {
		return math.NaN()
	}
	return *f
}

// MarshalJSON writes NaN figures as null, which JSON can carry.
func (m Metric) MarshalJSON() ([]byte, error) {
	j := metricJSON{Name: m.Name, Unit: m.Unit, Before: num(m.Before), After: num(m.After),
		ChangePct: m.ChangePct, PValue: num(m.PValue), Test: m.Test, Verdict: m.Verdict,
		NoisePct: m.NoisePct, Detectable: m.DetectablePct}
	if m.BeforeCI.known() {
		j.BeforeCI = &[2]float64{m.BeforeCI.Low, m.BeforeCI.High}
	}
	if m.AfterCI.known() {
		j.AfterCI = &[2]float64{m.AfterCI.Low, m.AfterCI.High}
	}
	if j.PValue == nil {
		j.Test = ""
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, null as NaN.
func (m *Metric) UnmarshalJSON(b []byte) error {
	var j metricJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	iv := func(p *[2]float64) Interval {
		if p == nil {
			return noInterval
		}
		return Interval{p[0], p[1]}
	}
	*m = Metric{Name: j.Name, Unit: j.Unit, Before: val(j.Before), After: val(j.After),
		ChangePct: j.ChangePct, BeforeCI: iv(j.BeforeCI), AfterCI: iv(j.AfterCI), PValue: val(j.PValue),
		Test: j.Test, Verdict: j.Verdict, NoisePct: j.NoisePct, DetectablePct: j.Detectable}
	return nil
}
