package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/internal/scrape"
	"github.com/cutover-dev/cutover/loadgen"
)

// sideResources are the server's own metrics sampled during a load.
type sideResources struct {
	points []scrape.Point
	failed int
	// container holds the engine's figures for the server's container
	// (docker provider only).
	container []containers.StatPoint
}

func (r *run) plan() loadgen.Plan { return PlanFor(r.sc.Load) }

// load prepares the server's state, then replays the plan against it
// while sampling its metrics every second.
func (r *run) load(ctx context.Context, s *server, plan loadgen.Plan, file string) (
	*loadgen.Result, sideResources, error) {
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
	if c := cause(); c != nil && ctx.Err() == nil {
		return res, rs, c
	}
	if err == nil {
		err = f.Close()
	}
	return res, rs, err
}
