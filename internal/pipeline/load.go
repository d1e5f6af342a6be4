package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/internal/scrape"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/reports"
)

// sideResources are the server's own metrics sampled during a load.
type sideResources struct {
	points []scrape.Point
	failed int
	// container holds the engine's figures for the server's container
	// (docker provider only).
	container []containers.StatPoint
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
func (r *run) load(ctx context.Context, s *server, plan loadgen.Plan, file string) (*loadgen.Result, sideResources, error) {
	var rs sideResources
	ep, err := r.prepare(ctx, s.API, plan)
	if err != nil {
		return nil, rs, fmt.Errorf("preparing load: %w", err)
	}
	f, err := os.Create(filepath.Join(r.o.OutDir, file))
	if err != nil {
		return nil, rs, fmt.Errorf("writing results: %w", err)
	}
	defer f.Close()

	lctx, stop := context.WithCancel(ctx)
	defer stop()
	// A server that dies ends the load at once instead of letting every
	// remaining request time out.
	go func() {
		select {
		case <-s.Exited():
			stop()
		case <-lctx.Done():
		}
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rs.points, rs.failed = scrape.Sample(lctx, s.API.MetricsURL(), time.Second)
	}()
	if s.stats != nil {
		wg.Go(func() {
			var err error
			if rs.container, err = s.stats(lctx); err != nil {
				r.log.Warn("container stats", "server", s.Name, "err", err)
			}
		})
	}
	res, err := loadgen.Run(lctx, plan, ep, f)
	stop()
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		select {
		case <-s.Exited():
			return res, rs, errStopped
		default:
		}
	}
	if err == nil {
		err = f.Close()
	}
	return res, rs, err
}

// side turns a load's samples into what compare needs: latencies after
// the warm-up, and resource samples after the warm-up.
func side(res *loadgen.Result, rs sideResources, warm time.Duration) compare.Side {
	s := compare.Side{Requests: res.Requests()}
	for _, x := range res.Samples {
		if x.Failed {
			s.Failed++
		}
		if x.At >= warm {
			s.LatenciesMS = append(s.LatenciesMS, float64(x.Latency)/1e6)
		}
	}
	for _, p := range rs.points {
		if p.At < warm {
			continue
		}
		if v, ok := p.Values[scrape.RSS]; ok {
			s.RSS = append(s.RSS, v)
		}
		if v, ok := p.Values[scrape.Heap]; ok {
			s.Heap = append(s.Heap, v)
		}
		if v, ok := p.Values[scrape.Goroutines]; ok {
			s.Goroutines = append(s.Goroutines, v)
		}
		if v, ok := p.Values[scrape.CPU]; ok {
			s.CPUTimes = append(s.CPUTimes, p.At.Seconds())
			s.CPUSeconds = append(s.CPUSeconds, v)
		}
	}
	return s
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
