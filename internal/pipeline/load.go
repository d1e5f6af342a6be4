package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/scrape"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/reports"
)

// sideResources are the server's own metrics sampled during a load.
type sideResources struct {
	points []scrape.Point
	failed int
}

func (r *run) plan() loadgen.Plan {
	mix := map[loadgen.Op]int{}
	for name, w := range r.sc.Load.Mix {
		op, err := loadgen.ParseOp(name)
		if err != nil {
			panic("BUG: scenario validation let through operation " + name)
		}
		mix[op] = w
	}
	ld := r.sc.Load
	return loadgen.Plan{Seed: uint64(ld.Seed), Mix: mix, Freq: ld.RatePer.Freq, Per: ld.RatePer.Per,
		Duration: ld.Dur, Timeout: ld.Deadline}
}

// load prepares the server's state, then replays the plan against it
// while sampling its metrics every second.
func (r *run) load(ctx context.Context, s *hydra.Server, plan loadgen.Plan, file string) (*loadgen.Result, sideResources, error) {
	var rs sideResources
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	// A server that dies or hangs ends the stage instead of letting every
	// remaining request time out.
	cause := watch(lctx, s, stop)
	ep, err := r.prepare(lctx, s.API, plan)
	if c := cause(); c != nil && ctx.Err() == nil {
		return nil, rs, c
	}
	if err != nil {
		return nil, rs, fmt.Errorf("preparing load: %w", err)
	}
	f, err := os.Create(filepath.Join(r.o.OutDir, file))
	if err != nil {
		return nil, rs, fmt.Errorf("writing results: %w", err)
	}
	defer f.Close()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rs.points, rs.failed = scrape.Sample(lctx, s.API.MetricsURL(), time.Second)
	}()
	res, err := loadgen.Run(lctx, plan, ep, f)
	stop()
	wg.Wait()
	if c := cause(); c != nil && ctx.Err() == nil {
		return res, rs, c
	}
	if err == nil {
		err = f.Close()
	}
	return res, rs, err
}

// operations breaks latency down by operation for both sides.
func operations(before, after *loadgen.Result, warm time.Duration) []reports.Operation {
	var out []reports.Operation
	for _, op := range loadgen.Ops() {
		o := reports.Operation{Op: op.String()}
		any := false
		for i, res := range []*loadgen.Result{before, after} {
			if res == nil {
				continue
			}
			var lat []float64
			for _, x := range res.Samples {
				if x.Op != op {
					continue
				}
				o.Requests[i]++
				if x.Failed {
					o.Failed[i]++
				}
				if x.At >= warm {
					lat = append(lat, float64(x.Latency)/1e6)
				}
			}
			o.P50MS[i], o.P95MS[i] = compare.Quantile(lat, 0.5), compare.Quantile(lat, 0.95)
			any = any || o.Requests[i] > 0
		}
		if any {
			out = append(out, o)
		}
	}
	return out
}
