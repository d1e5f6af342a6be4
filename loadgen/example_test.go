package loadgen_test

import (
	"fmt"
	"time"

	"github.com/cutover-dev/cutover/loadgen"
)

// A staged load: ramp up to 40/s over 5s, hold it for 10s, ramp down.
func ExampleStages() {
	perSec := func(n int) loadgen.Rate { return loadgen.Rate{Freq: n, Per: time.Second} }
	p := loadgen.Plan{
		Seed: 1,
		Mix:  map[loadgen.Op]int{loadgen.ClientCredentials: 3, loadgen.Refresh: 1},
		Pacer: loadgen.Stages(
			loadgen.Stage{Duration: 5 * time.Second, Rate: perSec(40), Ramp: true},
			loadgen.Stage{Duration: 10 * time.Second, Rate: perSec(40)},
			loadgen.Stage{Duration: 5 * time.Second, Rate: perSec(0), Ramp: true}),
		Duration: 20 * time.Second,
	}
	fmt.Println(p.Expected(), "requests,", p.ExpectedOf(loadgen.Refresh), "of them refreshes")
	// Output: 600 requests, 150 of them refreshes
}

func ExampleHistogram() {
	h := loadgen.NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	fmt.Println(h.Count(), h.Quantile(0.5).Round(time.Millisecond), h.Quantile(0.95).Round(time.Millisecond))
	// Output: 1000 500ms 950ms
}
