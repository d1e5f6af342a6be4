package pipeline

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/scenarios"
)

// Images override the scenario's container images; empty fields keep
// the scenario's (or the default) image.
type Images struct {
	// Database is the PostgreSQL image (env CUTOVER_DB_IMAGE).
	Database string
	// Old and New are the servers' images (env CUTOVER_OLD_IMAGE,
	// CUTOVER_NEW_IMAGE).
	Old, New string
	// Pull lets the engine pull an image it does not hold (flag --pull,
	// env CUTOVER_PULL=1); without it a missing image is an error.
	Pull bool
}

// imageChoice is what a run asks for, and the local build of `make
// images` that stands in for it when it is absent. An image named by
// flag or environment gets no stand-in: the user asked for that one.
type imageChoice struct {
	want, flag, local string
	standIns          []string
}

// choices lists the database, old and new images in that order.
func choices(sc *scenarios.Scenario, im Images) [3]imageChoice {
	choice := func(override, scenario, def, flag, local string) imageChoice {
		c := imageChoice{want: override, flag: flag, local: local}
		if override == "" {
			c.want, c.standIns = scenario, []string{local}
			if c.want == "" {
				c.want = def
			}
		}
		return c
	}
	return [3]imageChoice{
		choice(im.Database, sc.Database.Image, "postgres:16", "--db-image", "cutover/postgres:15"),
		choice(im.Old, sc.Old.Image, "oryd/hydra:"+sc.Old.Version, "--old-image", "cutover/hydra:"+sc.Old.Version),
		choice(im.New, sc.New.Image, "oryd/hydra:"+sc.New.Version, "--new-image", "cutover/hydra:"+sc.New.Version),
	}
}

func imageHint(c imageChoice) string {
	return fmt.Sprintf("build local images with `make images` (%s) or name another with %s", c.local, c.flag)
}

// DockerReady returns nil when a Docker engine answers and holds every
// image the scenario needs (or its local stand-in), without pulling:
// what --provider auto needs to choose docker. The error says why not.
func DockerReady(ctx context.Context, sc *scenarios.Scenario, im Images) error {
	e, err := containers.Connect(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	for _, c := range choices(sc, im) {
		found := false
		for _, img := range append([]string{c.want}, c.standIns...) {
			ok, err := e.HasImage(ctx, img)
			if err != nil {
				return err
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			return &containers.ImageError{Image: c.want, Cause: "not present", Hint: imageHint(c)}
		}
	}
	return nil
}

// dockerStack runs PostgreSQL, the migrations and the servers as
// containers on a network of the run's own. Green is a TEMPLATE clone
// of blue in the same PostgreSQL container, as with the process
// provider.
type dockerStack struct {
	e      *containers.Engine
	images [3]string
	pg     *containers.Postgres
	r      *run
}

func (r *run) newDockerStack(ctx context.Context) (stack, error) {
	e, err := containers.Connect(ctx)
	if err != nil {
		return nil, err
	}
	st := &dockerStack{e: e, r: r}
	// A cutover killed outright leaves its containers running; the
	// next docker run on this host removes them.
	if gone, err := e.SweepOrphans(ctx); err != nil {
		r.log.Warn("removing containers of killed runs", "err", err)
	} else if len(gone) > 0 {
		r.log.Info("removed the containers of killed runs", "runs", gone)
	}
	r.log.Info("docker provider", "run_id", e.RunID, "leftovers", "label "+containers.LabelRun+"="+e.RunID)
	for i, c := range choices(r.sc, r.o.Images) {
		img, err := e.Resolve(ctx, c.want, c.standIns, r.o.Images.Pull, imageHint(c))
		if err != nil {
			e.Close()
			return nil, err
		}
		if img != c.want {
			r.log.Info("image not present; using its local build", "image", c.want, "local", img)
		}
		st.images[i] = img
	}
	r.log.Info("images", "postgres", st.images[0], "old", st.images[1], "new", st.images[2])
	return st, nil
}

func (d *dockerStack) startDatabase(ctx context.Context) (err error) {
	start := time.Now()
	if d.pg, err = d.e.StartPostgres(ctx, d.images[0]); err != nil {
		return err
	}
	d.r.log.Info("postgres container ready", "image", d.images[0], "port", d.pg.Port,
		"startup_ms", time.Since(start).Milliseconds())
	return nil
}

func (d *dockerStack) createDatabase(ctx context.Context, name string) error {
	return d.pg.CreateDatabase(ctx, name)
}

func (d *dockerStack) clone(ctx context.Context, src, dst string) error {
	return d.pg.Clone(ctx, src, dst)
}

func (d *dockerStack) dsn(db string) string       { return d.pg.DSN(db) }
func (d *dockerStack) serverDSN(db string) string { return d.pg.NetworkDSN(db) }

var sideNames = [2]string{"old", "new"}

// migrate runs the migration as a one-off container. The report's
// migration time is measured around it, so with this provider it also
// holds creating, starting and removing the container (about a second
// here): compare migration times only within one provider.
func (d *dockerStack) migrate(ctx context.Context, side int, cfg hydra.Config) error {
	return d.e.Run(ctx, containers.Spec{
		Name: "hydra " + cfg.Version + " migrate", Role: sideNames[side] + "-migrate",
		Image: d.images[1+side], Cmd: hydra.MigrateArgs(cfg.Version),
		Env: map[string]string{"DSN": cfg.DSN}, Secrets: append(hydra.Secrets(cfg), d.pg.Secrets()...),
	}, 10*time.Minute)
}

func (d *dockerStack) serve(ctx context.Context, side int, cfg hydra.Config) (*server, error) {
	pub, err := provision.FreePort()
	if err != nil {
		return nil, err
	}
	adm, err := provision.FreePort()
	if err != nil {
		return nil, err
	}
	name := cfg.Name + " (hydra " + cfg.Version + ")"
	admPort := strconv.Itoa(adm) + "/tcp"
	start := time.Now()
	c, err := d.e.Start(ctx, containers.Spec{
		Name: name, Role: sideNames[side] + "-server", Image: d.images[1+side],
		Cmd: hydra.ServeArgs(cfg.Version), Env: hydra.ContainerEnv(cfg, pub, adm),
		Ports: []string{strconv.Itoa(pub) + "/tcp", admPort}, FixedPorts: true,
		Secrets: append(hydra.Secrets(cfg), d.pg.Secrets()...),
	}, func(c *containers.Container) (containers.Probe, error) {
		got, err := c.HostPort(ctx, admPort)
		if err != nil {
			return nil, err
		}
		if got != adm {
			return nil, fmt.Errorf("%s: admin port published on %d, want %d", name, got, adm)
		}
		// The public listener may come up after the admin one; the
		// load needs both.
		admin := containers.HTTPReady("http://127.0.0.1:" + strconv.Itoa(adm) + "/health/ready")
		public := containers.HTTPReady("http://127.0.0.1:" + strconv.Itoa(pub) + "/health/alive")
		return func(ctx context.Context) error {
			if err := admin(ctx); err != nil {
				return err
			}
			return public(ctx)
		}, nil
	}, 60*time.Second)
	if err != nil {
		return nil, err
	}
	d.r.log.Info("server container ready", "server", name, "image", d.images[1+side],
		"startup_ms", time.Since(start).Milliseconds())
	api := hydra.NewAPI(cfg.Version, "http://127.0.0.1:"+strconv.Itoa(pub), "http://127.0.0.1:"+strconv.Itoa(adm))
	return &server{Name: name, API: api, stop: c.Stop, exited: c.Exited(), lastLog: c.LastLog,
		stats: c.Stats}, nil
}

func (d *dockerStack) close() {
	if err := d.e.Close(); err != nil {
		d.r.log.Warn("removing containers", "run_id", d.e.RunID, "err", err,
			"leftovers", "docker ps -a --filter label="+containers.LabelRun+"="+d.e.RunID)
	}
}

// containerMetrics are the engine's figures for the servers' containers
// after the warm-up: CPU cores (slope of the CPU counter) and mean
// memory. Their names start with "container_" to tell them from the
// server's own Prometheus figures (rss_bytes, cpu_cores).
func containerMetrics(before, after sideResources, warm time.Duration) []compare.Metric {
	if before.container == nil && after.container == nil {
		return nil
	}
	fig := func(pts []containers.StatPoint) (cores, mem float64) {
		var ts, cpu, ms []float64
		for _, p := range pts {
			if p.At < warm {
				continue
			}
			ts, cpu, ms = append(ts, p.At.Seconds()), append(cpu, p.CPUSeconds), append(ms, p.MemoryBytes)
		}
		if len(ms) == 0 {
			return math.NaN(), math.NaN()
		}
		sum := 0.0
		for _, m := range ms {
			sum += m
		}
		return compare.Rate(ts, cpu), sum / float64(len(ms))
	}
	bc, bm := fig(before.container)
	ac, am := fig(after.container)
	out := []compare.Metric{
		{Name: "container_cpu_cores", Unit: "cores", Before: bc, After: ac},
		{Name: "container_memory_bytes", Unit: "bytes", Before: bm, After: am},
	}
	for i := range out {
		m := &out[i]
		// The engine's figures are not tested: no interval, no p-value.
		nan := compare.Interval{Low: math.NaN(), High: math.NaN()}
		m.BeforeCI, m.AfterCI, m.PValue = nan, nan, math.NaN()
		if !math.IsNaN(m.Before) && !math.IsNaN(m.After) && m.Before != 0 {
			c := (m.After - m.Before) / m.Before * 100
			m.ChangePct = &c
		}
	}
	return out
}
