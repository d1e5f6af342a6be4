package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic returns one side of a steady-state run drawn with seed:
// n log-normal latencies (median medianMS, σ 0.6 in log space) and 26
// one-second resource samples around fixed means.
func synthetic(seed uint64, n int, medianMS, scale float64) Side {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := Side{Requests: n + n/5}
	for range n {
		s.LatenciesMS = append(s.LatenciesMS, scale*medianMS*math.Exp(0.6*rng.NormFloat64()))
	}
	for i := range s.Requests {
		if i%200 == 0 && rng.IntN(2) == 0 {
			s.Failed++
		}
	}
	cpu := 0.0
	for t := 5; t <= 30; t++ {
		s.RSS = append(s.RSS, 60e6+1e6*rng.NormFloat64())
		s.Heap = append(s.Heap, 12e6+2e6*rng.NormFloat64())
		s.Goroutines = append(s.Goroutines, float64(40+rng.IntN(6)))
		cpu += 0.30 + 0.03*rng.NormFloat64()
		s.CPUTimes = append(s.CPUTimes, float64(t))
		s.CPUSeconds = append(s.CPUSeconds, cpu)
	}
	return s
}

// TestAAIsNoChange checks the false-positive rate: two runs drawn from
// the same distributions with different seeds must get no significant
// change on every metric in at least 95 of 100 trials.
func TestAAIsNoChange(t *testing.T) {
	o := DefaultOptions()
	quiet := 0
	flagged := map[string]int{}
	for trial := range uint64(100) {
		ms := Compare(synthetic(2*trial+1, 1000, 5, 1), synthetic(2*trial+2, 1000, 5, 1), o)
		ok := true
		for _, m := range ms {
			if m.Verdict != NoChange && m.Verdict != "" {
				ok = false
				flagged[m.Name+" "+m.Verdict]++
			}
		}
		if ok {
			quiet++
		}
	}
	t.Logf("A/A: %d of 100 trials with no significant change; flagged: %v", quiet, flagged)
	if quiet < 95 {
		t.Errorf("A/A trials with no significant change = %d, want >= 95 (flagged: %v)", quiet, flagged)
	}
}

// TestShiftIsWorse checks the power: latencies 20% higher on the new
// side must be called worse in at least 95 of 100 trials on every
// percentile whose DetectablePct says a 20% change is within reach.
// With 1000 requests a side that holds for P50 and P95; P99 rests on
// the ten slowest requests and needs about 2000 a side, and its
// DetectablePct says so, which is what the reports warn about.
func TestShiftIsWorse(t *testing.T) {
	o := DefaultOptions()
	tests := []struct {
		n         int
		name      string
		reachable bool // a 20% change is detectable at this size
	}{
		{1000, "latency_p50_ms", true},
		{1000, "latency_p95_ms", true},
		{1000, "latency_p99_ms", false},
		{2000, "latency_p99_ms", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.name, tt.n), func(t *testing.T) {
			worse := 0
			var det []float64
			for trial := range uint64(100) {
				ms := Compare(synthetic(2*trial+1, tt.n, 5, 1), synthetic(2*trial+2, tt.n, 5, 1.2), o)
				m, _ := Find(ms, tt.name)
				if m.Verdict == Worse {
					worse++
				}
				if m.DetectablePct == nil {
					t.Fatalf("trial %d: no detectable change", trial)
				}
				det = append(det, *m.DetectablePct)
			}
			d := Quantile(det, 0.5)
			t.Logf("%d requests a side: +20%% called worse in %d of 100 trials; detectable change %.1f%% (median)",
				tt.n, worse, d)
			if reachable := d <= 20; reachable != tt.reachable {
				t.Errorf("median detectable change %.1f%%: 20%% reachable = %v, want %v", d, reachable, tt.reachable)
			}
			if tt.reachable && worse < 95 {
				t.Errorf("+20%% shift called worse in %d of 100 trials, want >= 95", worse)
			}
			if !tt.reachable && worse >= 100 {
				t.Errorf("+20%% shift called worse in every trial though its detectable change is %.1f%%: "+
					"the estimate is too pessimistic", d)
			}
		})
	}
}

func TestVerdicts(t *testing.T) {
	o := DefaultOptions()
	base := synthetic(7, 1000, 5, 1)
	tests := []struct {
		name   string
		after  Side
		metric string
		want   string
	}{
		{"faster", synthetic(8, 1000, 5, 0.7), "latency_p50_ms", Better},
		{"slower", synthetic(8, 1000, 5, 1.5), "latency_p95_ms", Worse},
		{"same", synthetic(8, 1000, 5, 1), "latency_p50_ms", NoChange},
		// A 2% shift on 20000 samples is significant but below the 5%
		// floor.
		{"below floor", synthetic(8, 1000, 5, 1.02), "latency_p50_ms", NoChange},
		{"more memory", func() Side {
			s := synthetic(8, 1000, 5, 1)
			for i := range s.RSS {
				s.RSS[i] *= 1.3
			}
			return s
		}(), "rss_bytes", Worse},
		{"more cpu", func() Side {
			s := synthetic(8, 1000, 5, 1)
			for i := range s.CPUSeconds {
				s.CPUSeconds[i] *= 1.5
			}
			return s
		}(), "cpu_cores", Worse},
		{"errors", func() Side {
			s := synthetic(8, 1000, 5, 1)
			s.Failed = s.Requests / 10
			return s
		}(), "error_rate", Worse},
		{"no data", Side{}, "latency_p50_ms", ""},
		{"requests are not judged", synthetic(8, 2000, 5, 1), "requests", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := Find(Compare(base, tt.after, o), tt.metric)
			if m.Verdict != tt.want {
				t.Errorf("%s verdict = %q, want %q (before %g, after %g, p %g)",
					tt.metric, m.Verdict, tt.want, m.Before, m.After, m.PValue)
			}
		})
	}
}

func TestTailOnlyChangeIsWorse(t *testing.T) {
	// Only the slowest 5% get three times slower: the median does not
	// move, the U test may not see it, but P99 must.
	b := synthetic(11, 2000, 5, 1)
	a := synthetic(12, 2000, 5, 1)
	p95 := Quantile(a.LatenciesMS, 0.95)
	for i, x := range a.LatenciesMS {
		if x > p95 {
			a.LatenciesMS[i] = 3 * x
		}
	}
	ms := Compare(b, a, DefaultOptions())
	if m, _ := Find(ms, "latency_p99_ms"); m.Verdict != Worse {
		t.Errorf("P99 verdict = %q, want worse (before %g %v, after %g %v)",
			m.Verdict, m.Before, m.BeforeCI, m.After, m.AfterCI)
	}
	if m, _ := Find(ms, "latency_p50_ms"); m.Verdict != NoChange {
		t.Errorf("P50 verdict = %q, want no_change", m.Verdict)
	}
	// A row's verdict and p-value must agree: a percentile judged on
	// its intervals shows its own p-value.
	for _, m := range ms {
		if (m.Verdict == Better || m.Verdict == Worse) && !(m.PValue < 0.05) {
			t.Errorf("%s: verdict %s with p = %g (%s)", m.Name, m.Verdict, m.PValue, m.Test)
		}
	}
}

func ExampleCompare() {
	before := Side{LatenciesMS: []float64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, Requests: 10}
	after := Side{LatenciesMS: []float64{20, 21, 22, 23, 24, 25, 26, 27, 28, 29}, Requests: 10}
	for _, m := range Compare(before, after, DefaultOptions())[:1] {
		fmt.Printf("%s: %.0f -> %.0f %s, %+.0f%%, p=%.4f %s\n",
			m.Name, m.Before, m.After, m.Unit, *m.ChangePct, m.PValue, m.Verdict)
	}
	// Output:
	// latency_p50_ms: 14 -> 24 ms, +71%, p=0.0000 worse
}

func BenchmarkCompare(b *testing.B) {
	before, after := synthetic(1, 1000, 5, 1), synthetic(2, 1000, 5, 1.2)
	o := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		Compare(before, after, o)
	}
}

// TestIdenticalSidesAgree checks that a run compared with itself gets
// the same figures and intervals on both sides and no verdict but ~.
func TestIdenticalSidesAgree(t *testing.T) {
	s := synthetic(21, 1000, 5, 1)
	for _, m := range Compare(s, s, DefaultOptions()) {
		if m.Before != m.After || m.BeforeCI != m.AfterCI && m.BeforeCI.known() {
			t.Errorf("%s: before %g %v, after %g %v: want identical", m.Name, m.Before, m.BeforeCI, m.After, m.AfterCI)
		}
		if m.Verdict != NoChange && m.Verdict != "" {
			t.Errorf("%s: verdict %q, want no_change", m.Name, m.Verdict)
		}
	}
}

// TestResourceIntervalsStayNonNegative feeds goroutine counts that
// trend (so the effective sample size is tiny and the t interval wide):
// no interval may reach below zero.
func TestResourceIntervalsStayNonNegative(t *testing.T) {
	s := synthetic(31, 200, 5, 1)
	for i := range s.Goroutines {
		s.Goroutines[i] = float64(5 * i)
	}
	for _, m := range Compare(s, s, DefaultOptions()) {
		for _, iv := range []Interval{m.BeforeCI, m.AfterCI} {
			if iv.known() && iv.Low < 0 {
				t.Errorf("%s: interval %v reaches below zero", m.Name, iv)
			}
		}
	}
	// Nor beyond the range of what was measured.
	if m, _ := Find(Compare(s, s, DefaultOptions()), "goroutines"); m.BeforeCI.Low < 0 || m.BeforeCI.High > 125 {
		t.Errorf("goroutines interval %v reaches beyond the samples' range [0, 125]", m.BeforeCI)
	}
}
