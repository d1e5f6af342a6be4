package compare

import (
	"encoding/json"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// A Side is what was measured on one server.
type Side struct {
	// LatenciesMS holds every request's latency in milliseconds.
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
}

// Metrics compares before and after. The order is fixed: latency P50,
// P95, P99, RSS, heap, goroutines, CPU cores, requests, error rate.
func Metrics(before, after Side) []Metric {
	type fig struct {
		name, unit string
		f          func(Side) float64
	}
	figs := []fig{
		{"latency_p50_ms", "ms", func(s Side) float64 { return Quantile(s.LatenciesMS, 0.50) }},
		{"latency_p95_ms", "ms", func(s Side) float64 { return Quantile(s.LatenciesMS, 0.95) }},
		{"latency_p99_ms", "ms", func(s Side) float64 { return Quantile(s.LatenciesMS, 0.99) }},
		{"rss_bytes", "bytes", func(s Side) float64 { return mean(s.RSS) }},
		{"heap_alloc_bytes", "bytes", func(s Side) float64 { return mean(s.Heap) }},
		{"goroutines", "count", func(s Side) float64 { return mean(s.Goroutines) }},
		{"cpu_cores", "cores", func(s Side) float64 { return Rate(s.CPUTimes, s.CPUSeconds) }},
		{"requests", "count", func(s Side) float64 { return float64(s.Requests) }},
		{"error_rate", "ratio", func(s Side) float64 {
			if s.Requests == 0 {
				return math.NaN()
			}
			return float64(s.Failed) / float64(s.Requests)
		}},
	}
	out := make([]Metric, len(figs))
	for i, f := range figs {
		m := Metric{Name: f.name, Unit: f.unit, Before: f.f(before), After: f.f(after)}
		if !math.IsNaN(m.Before) && !math.IsNaN(m.After) && m.Before != 0 {
			c := (m.After - m.Before) / m.Before * 100
			m.ChangePct = &c
		}
		out[i] = m
	}
	return out
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
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return stat.Quantile(p, stat.Empirical, s, nil)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stat.Mean(xs, nil)
}

// Rate returns the slope of ys over xs by least squares: for a CPU
// counter in seconds against time in seconds, the CPU cores in use. It
// returns NaN with fewer than two points.
func Rate(xs, ys []float64) float64 {
	if len(xs) < 2 || len(xs) != len(ys) {
		return math.NaN()
	}
	_, beta := stat.LinearRegression(xs, ys, nil, false)
	return beta
}

// MarshalJSON writes NaN figures as null, which JSON can carry.
func (m Metric) MarshalJSON() ([]byte, error) {
	type plain struct {
		Name      string   `json:"name"`
		Unit      string   `json:"unit"`
		Before    *float64 `json:"before"`
		After     *float64 `json:"after"`
		ChangePct *float64 `json:"change_pct"`
	}
	num := func(f float64) *float64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return &f
	}
	return json.Marshal(plain{m.Name, m.Unit, num(m.Before), num(m.After), m.ChangePct})
}

// UnmarshalJSON reads what MarshalJSON writes, null as NaN.
func (m *Metric) UnmarshalJSON(b []byte) error {
	var p struct {
		Name      string   `json:"name"`
		Unit      string   `json:"unit"`
		Before    *float64 `json:"before"`
		After     *float64 `json:"after"`
		ChangePct *float64 `json:"change_pct"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	val := func(f *float64) float64 {
		if f == nil {
			return math.NaN()
		}
		return *f
	}
	*m = Metric{Name: p.Name, Unit: p.Unit, Before: val(p.Before), After: val(p.After), ChangePct: p.ChangePct}
	return nil
}
