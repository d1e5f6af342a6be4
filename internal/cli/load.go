package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/pipeline"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

// loadConfig is the load command's configuration after precedence:
// flags over environment over the scenario's load section.
type loadConfig struct {
	public, admin, version string
	clientID, clientSecret string
	scenario               string
	rate, duration         string
	seed                   int64
	results                string
	shard                  string
	startAt                string
	workers                uint64
}

func cmdLoad(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "load", "load --public URL --admin URL --version VERSION [flags]")
	var c loadConfig
	fs.StringVar(&c.public, "public", "", "the server's public base `URL` (env CUTOVER_PUBLIC)")
	fs.StringVar(&c.admin, "admin", "", "the server's admin base `URL` (env CUTOVER_ADMIN)")
	fs.StringVar(&c.version, "version", "", "the server's `version`, e.g. v2.3.0; selects the admin API layout "+
		"(env CUTOVER_VERSION)")
	fs.StringVar(&c.clientID, "client-id", "", "OAuth client `id` used by the load (env CUTOVER_CLIENT_ID)")
	fs.StringVar(&c.clientSecret, "client-secret", "", "OAuth client `secret`; prefer env CUTOVER_CLIENT_SECRET, "+
		"which other users cannot see in the process list")
	fs.StringVar(&c.scenario, "scenario", "", "scenario `file` whose load section is replayed "+
		"(default: the built-in "+scenarios.DefaultName+")")
	fs.StringVar(&c.rate, "rate", "", "constant `rate` such as 200/s, replacing the scenario's rate and pacing")
	fs.StringVar(&c.duration, "duration", "", "`duration` of the load, replacing the scenario's")
	fs.Int64Var(&c.seed, "seed", 0, "sequence `seed`, replacing the scenario's (0 keeps it)")
	fs.StringVar(&c.results, "results", "results.bin", "vegeta result `file` to write")
	fs.StringVar(&c.shard, "shard", "", "this worker's part `i/N` of a load split across N processes, e.g. 0/4")
	fs.StringVar(&c.startAt, "start-at", "", "wall-clock start `time` (RFC 3339), so that the workers of a "+
		"split load start together")
	fs.Uint64Var(&c.workers, "max-workers", 0, "most requests in flight at once (default 512)")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	c = resolveLoad(c, e.getenv)
	for _, req := range []struct{ flag, val string }{{"--public", c.public}, {"--admin", c.admin},
		{"--version", c.version}, {"--client-id", c.clientID}, {"--client-secret", c.clientSecret}} {
		if req.val == "" {
			return usagef(fmt.Errorf("%s: must be set", req.flag))
		}
	}
	for _, u := range []struct{ flag, val string }{{"--public", c.public}, {"--admin", c.admin}} {
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return usagef(fmt.Errorf("%s: %q is not an http(s) URL", u.flag, u.val))
		}
	}
	if m := hydra.Major(c.version); m != 1 && m != 2 {
		return usagef(fmt.Errorf("--version: %q is not a Hydra v1.x or v2.x release", c.version))
	}
	plan, chains, err := loadPlan(c)
	if err != nil {
		return err
	}

	api := hydra.NewAPI(c.version, c.public, c.admin)
	client := hydra.Client{ID: c.clientID, Secret: c.clientSecret}
	e.log.Info("preparing load", "public", api.Public, "admin", api.Admin, "version", c.version,
		"client_id", c.clientID)
	ep, err := pipeline.Prepare(ctx, api, []hydra.Client{client}, plan, chains)
	if err != nil {
		return fmt.Errorf("preparing load: %w", err)
	}
	f, err := os.Create(c.results)
	if err != nil {
		return fmt.Errorf("--results: %w", err)
	}
	defer f.Close()
	e.log.Info("loading", "requests", plan.Expected(), "duration", plan.Duration, "shard", c.shard,
		"results", c.results)
	res, err := loadgen.Run(ctx, plan, ep, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("--results: %w", cerr)
	}
	if res != nil {
		if werr := printLoad(e.stdout, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: partial results in %s", c.results)
		}
		return err
	}
	return nil
}

// resolveLoad applies the precedence flags > environment.
func resolveLoad(c loadConfig, getenv Env) loadConfig {
	pick := func(flag, env string) string {
		if flag != "" {
			return flag
		}
		return getenv(env)
	}
	c.public = pick(c.public, "CUTOVER_PUBLIC")
	c.admin = pick(c.admin, "CUTOVER_ADMIN")
	c.version = pick(c.version, "CUTOVER_VERSION")
	c.clientID = pick(c.clientID, "CUTOVER_CLIENT_ID")
	c.clientSecret = pick(c.clientSecret, "CUTOVER_CLIENT_SECRET")
	return c
}

// loadPlan builds the plan from the scenario's load section and the
// flags that replace parts of it.
func loadPlan(c loadConfig) (loadgen.Plan, int, error) {
	sc := scenarios.Default()
	if c.scenario != "" {
		var err error
		if sc, err = scenarios.Load(c.scenario); err != nil {
			var se *scenarios.Error
			if errors.As(err, &se) {
				return loadgen.Plan{}, 0, usagef(err)
			}
			return loadgen.Plan{}, 0, usagef(fmt.Errorf("--scenario: %w", err))
		}
	}
	ld := sc.Load
	if c.rate != "" {
		r, err := scenarios.ParseRate(c.rate)
		if err != nil {
			return loadgen.Plan{}, 0, usagef(fmt.Errorf("--rate: %w", err))
		}
		ld.RatePer, ld.Pacing = r, scenarios.Pacing{Kind: "constant"}
	}
	if c.duration != "" {
		d, err := time.ParseDuration(c.duration)
		if err != nil || d < time.Second || d > time.Hour {
			return loadgen.Plan{}, 0, usagef(fmt.Errorf("--duration: %q is not a duration from 1s to 1h", c.duration))
		}
		if ld.Pacing.Kind == "stages" {
			return loadgen.Plan{}, 0, usagef(errors.New("--duration: the scenario's stages fix the duration"))
		}
		ld.Dur = d
		ld.Warm = min(ld.Warm, d/2)
	}
	if c.seed != 0 {
		ld.Seed = c.seed
	}
	plan := pipeline.PlanFor(ld)
	plan.MaxWorkers = c.workers
	// The command reports from the histograms; samples would only
	// grow with the run.
	plan.MaxSamples = -1
	if c.shard != "" {
		i, n, ok := strings.Cut(c.shard, "/")
		idx, err1 := strconv.Atoi(i)
		cnt, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 0 || idx >= cnt {
			return plan, 0, usagef(fmt.Errorf("--shard: %q is not i/N with 0 <= i < N", c.shard))
		}
		if cnt > ld.Chains {
			return plan, 0, usagef(fmt.Errorf(
				"--shard: %d workers need at least %d refresh chains (load.chains), the scenario has %d",
				cnt, cnt, ld.Chains))
		}
		plan.Shard = loadgen.Shard{Index: idx, Count: cnt}
	}
	if c.startAt != "" {
		t, err := time.Parse(time.RFC3339, c.startAt)
		if err != nil {
			return plan, 0, usagef(fmt.Errorf("--start-at: %q is not an RFC 3339 time", c.startAt))
		}
		plan.StartAt = t
	}
	return plan, ld.Chains, nil
}

// printLoad writes the figures by operation and client kind.
func printLoad(w io.Writer, res *loadgen.Result) error {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "operation\tkind\trequests\tfailed\tlate\tp50 ms\tp95 ms\tp99 ms\tmax ms\tresponse p95 ms\t\n")
	row := func(name, kind string, f *loadgen.Figures) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", name, kind, f.Requests, f.Failed, f.Late,
			ms(f.Latency.Quantile(0.5)), ms(f.Latency.Quantile(0.95)), ms(f.Latency.Quantile(0.99)),
			ms(f.Latency.Max()), ms(f.Response.Quantile(0.95)))
	}
	for _, f := range res.Ops {
		row(f.Op.String(), f.Kind, f)
	}
	row("all", "", loadgen.Total(res.Ops))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nsent %d of %d scheduled, %d dropped (never sent), max lateness %s ms, "+
		"%d broken refresh chains\n", res.Sent, res.Expected, res.Dropped, ms(res.MaxLateness), res.BrokenChains)
	return err
}
