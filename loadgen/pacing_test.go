package loadgen

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestPacersScheduleTheExpectedRequests(t *testing.T) {
	r := func(n int) Rate { return Rate{Freq: n, Per: time.Second} }
	tests := []struct {
		name  string
		p     vegeta.Pacer
		d     time.Duration
		want  float64 // requests due by d
		slack float64
	}{
		{"constant", Constant(r(40)), 10 * time.Second, 400, 0},
		{"linear ramp 10 to 50 over 10s", Linear(r(10), r(50), 10*time.Second), 10 * time.Second, 300, 2},
		{"sine 40±20 over whole periods", Sine(r(40), r(20), 5*time.Second), 10 * time.Second, 400, 2},
		{"stages: ramp up, hold, ramp down", Stages(
			Stage{Duration: 5 * time.Second, Rate: r(40), Ramp: true},
			Stage{Duration: 10 * time.Second, Rate: r(40)},
			Stage{Duration: 5 * time.Second, Rate: r(0), Ramp: true}), 20 * time.Second, 100 + 400 + 100, 0},
		{"stages past their end", Stages(Stage{Duration: time.Second, Rate: r(10)}), time.Minute, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := float64(hitsBy(tt.p, tt.d))
			if math.Abs(got-tt.want) > tt.slack {
				t.Errorf("got %v requests due by %v, want %v ± %v", got, tt.d, tt.want, tt.slack)
			}
		})
	}
}

func TestIntendedSendTimes(t *testing.T) {
	check := func(name string, p vegeta.Pacer, n uint64, hint, want time.Duration) {
		t.Helper()
		got, ok := intendedAt(p, n, hint, time.Hour)
		if d := got - want; !ok || d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: hit %d (hint %v): got %v, %v; want %v", name, n, hint, got, ok, want)
		}
	}
	c := Constant(Rate{Freq: 100, Per: time.Second})
	check("constant", c, 0, 0, 10*time.Millisecond)
	check("constant", c, 99, 0, time.Second)
	check("constant", c, 99, 500*time.Millisecond, time.Second)
	check("constant, hint past the hit", c, 9, 900*time.Millisecond, 100*time.Millisecond)
	// 10/s held for 1s, then 100/s: hit 10 is the first of the second
	// stage, due 10ms into it.
	s := Stages(Stage{Duration: time.Second, Rate: Rate{Freq: 10, Per: time.Second}},
		Stage{Duration: time.Second, Rate: Rate{Freq: 100, Per: time.Second}})
	check("stages", s, 9, 0, time.Second)
	check("stages", s, 10, 0, time.Second+10*time.Millisecond)
	// 40±20/s over 5s: 200 hits a period, so hit 399 is due at 10s,
	// also when asked from far before.
	sine := Sine(Rate{Freq: 40, Per: time.Second}, Rate{Freq: 20, Per: time.Second}, 5*time.Second)
	check("sine", sine, 199, 0, 5*time.Second)
	check("sine", sine, 399, 0, 10*time.Second)
	check("sine", sine, 399, 9*time.Second, 10*time.Second)
	// A 4-worker shard of a 100/s plan: its hit 2 is the plan's hit 9.
	check("shard", shardPacer{inner: c, index: 1, count: 4}, 2, 0, 100*time.Millisecond)
	if _, ok := intendedAt(s, 500, 0, time.Hour); ok {
		t.Error("stages: hit 500 of 110 got a send time")
	}
}
