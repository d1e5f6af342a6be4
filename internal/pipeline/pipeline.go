// Package pipeline runs a whole upgrade check: it starts the old stack,
// seeds and loads it, clones and migrates its database blue-green,
// starts the new stack on the copy, checks sessions and rows, loads the
// new stack with the same traffic and builds the report.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/scenarios"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a run.
type Options struct {
	// Scenario is the validated scenario to run.
	Scenario *scenarios.Scenario
	// OutDir receives the vegeta result files; it must exist.
	OutDir string
	// Provider is how stacks are started: "process" or "docker".
	Provider string
	// Images override the scenario's container images (docker only).
	Images Images
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// NewSecret returns a fresh secret (client secrets, the system
	// secret); nil means 48 random hex digits. Tests set it to plant
	// recognisable secrets and then search every artifact for them.
	NewSecret func() string
}

// stages is the number of numbered stages reported as progress.
const stages = 8

// sessionRowLimit bounds the token rows per table that the
// database-level session check reads, newest first.
const sessionRowLimit = 100000

// Run executes the scenario. It returns the report, possibly partial
// (Report.Partial) together with an error when a stage failed or ctx
// was cancelled. Everything Run started is stopped and removed before
// it returns.
func Run(ctx context.Context, o Options) (*reports.Report, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.NewSecret == nil {
		o.NewSecret = randomSecret
	}
	r := &run{o: o, sc: o.Scenario, log: o.Log}
	r.rep = &reports.Report{
		SchemaVersion: reports.SchemaVersion, Scenario: r.sc.Name, Verdict: reports.Fail,
		Old: reports.Side{Kind: r.sc.Old.Kind, Version: r.sc.Old.Version, Provider: o.Provider},
		New: reports.Side{Kind: r.sc.New.Kind, Version: r.sc.New.Version, Provider: o.Provider},
		Load: reports.Load{Seed: r.sc.Load.Seed, RatePerSec: r.sc.Load.RatePer.PerSecond(),
			DurationS: r.sc.Load.Dur.Seconds(), WarmupS: r.sc.Load.Warm.Seconds(), Mix: r.sc.Load.Mix},
	}
	defer r.cleanup()
	err := r.all(ctx)
	if err != nil {
		r.rep.Partial = true
		r.rep.Error = err.Error()
		if ctx.Err() != nil {
			// What failed after the interrupt is its echo, not the news.
			r.rep.Error = "interrupted during: " + r.current
		}
	}
	r.finish()
	return r.rep, err
}

type run struct {
	o   Options
	sc  *scenarios.Scenario
	log *slog.Logger
	rep *reports.Report

	st       stack
	old, new *server
	clients  []hydra.Client
	sessions []verify.Session
	oldView  oldView
	// done records which checks ran to the end, so that the gates of a
	// partial run do not pass on figures never measured.
	done struct{ rows, sessions, loads bool }
	// windowToks are the tokens revoked on the old server during the
	// write window.
	windowToks []windowToken
	before     *loadgen.Result
	after      *loadgen.Result
	calib      *loadgen.Result // second old-side load (A/A), with load.calibrate
	calibRs    sideResources
	beforeRs   sideResources
	afterRs    sideResources
	secret     string
	current    string // the stage under way, for the report of an interrupted run
}

func (r *run) stage(n int, msg string, args ...any) {
	r.current = msg
	r.log.Info(msg, append([]any{"stage", fmt.Sprintf("%d/%d", n, stages)}, args...)...)
}

func (r *run) cleanup() {
	if r.new != nil {
		r.new.Stop()
	}
	if r.old != nil {
		r.old.Stop()
	}
	if r.st != nil {
		r.st.close()
	}
}

func (r *run) all(ctx context.Context) error {
	var err error
	if r.st, err = r.newStack(ctx); err != nil {
		return err
	}
	r.secret = r.o.NewSecret()

	// 1. Blue database and the old server.
	r.stage(1, "starting postgres and the old server", "version", r.sc.Old.Version)
	if err = r.st.startDatabase(ctx); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	if err := r.st.createDatabase(ctx, "blue"); err != nil {
		return fmt.Errorf("creating blue database: %w", err)
	}
	oldCfg := hydra.Config{Name: "old server", Version: r.sc.Old.Version,
		DSN: r.st.serverDSN("blue"), SystemSecret: r.secret, Env: r.sc.Old.Env}
	if err := r.st.migrate(ctx, 0, oldCfg); err != nil {
		return fmt.Errorf("migrating blue database: %w", err)
	}
	if r.old, err = r.st.serve(ctx, 0, oldCfg); err != nil {
		return err
	}

	// 2. Seed through the real APIs.
	r.stage(2, "seeding the old server", "clients", r.sc.Seed.Clients, "sessions", r.sc.Seed.Sessions,
		"client_credentials_tokens", r.sc.Seed.ClientCredentialsTokens)
	err = r.guarded(ctx, r.old, "seeding", func(ctx context.Context) error {
		if err := r.seed(ctx); err != nil {
			return fmt.Errorf("seeding: %w", r.withLog(err, r.old))
		}
		if err := r.captureOld(ctx); err != nil {
			return fmt.Errorf("reading the old server: %w", r.withLog(err, r.old))
		}
		return nil
	})
	if err != nil {
		return err
	}

	// 3. Load the old server.
	plan := r.plan()
	r.stage(3, "loading the old server", "rate", r.sc.Load.Rate, "duration", r.sc.Load.Dur, "requests", plan.Expected())
	r.before, r.beforeRs, err = r.load(ctx, r.old, plan, "results-old.bin")
	if err != nil {
		return fmt.Errorf("loading old server: %w", r.withLog(err, r.old))
	}
	r.log.Info("old server loaded", "requests", r.before.Requests(), "error_rate", round(r.before.ErrorRate()))
	if r.sc.Load.Calibrate {
		r.log.Info("loading the old server again to measure noise (load.calibrate)")
		r.calib, r.calibRs, err = r.load(ctx, r.old, plan, "results-old-aa.bin")
		if err != nil {
			return fmt.Errorf("loading old server for calibration: %w", r.withLog(err, r.old))
		}
	}

	// 4. Blue-green: clone and migrate.
	if r.sc.Window.Dur > 0 {
		r.stage(4, "cloning blue to green and migrating", "version", r.sc.New.Version)
		if err := r.cloneWithWindow(ctx); err != nil {
			return err
		}
	} else {
		r.old.Stop()
		r.stage(4, "cloning blue to green and migrating", "version", r.sc.New.Version)
		if err := r.st.clone(ctx, "blue", "green"); err != nil {
			return fmt.Errorf("cloning blue to green: %w", err)
		}
	}
	newCfg := hydra.Config{Name: "new server", Version: r.sc.New.Version,
		DSN: r.st.serverDSN("green"), SystemSecret: r.secret, Env: r.sc.New.Env}
	if err := r.migrate(ctx, newCfg); err != nil {
		return err
	}

	// 5. The new server on green; sessions.
	r.stage(5, "starting the new server and checking sessions", "sessions", len(r.sessions))
	if r.new, err = r.st.serve(ctx, 1, newCfg); err != nil {
		return err
	}
	sres := &verify.SessionsResult{}
	err = r.guarded(ctx, r.new, "checking sessions", func(ctx context.Context) error {
		var err error
		if sres, err = verify.Sessions(ctx, r.sessions, introspector(r.new.API)); err != nil {
			return err
		}
		if err := r.compareNew(ctx, sres); err != nil {
			return fmt.Errorf("checking sessions: %w", r.withLog(err, r.new))
		}
		if r.rep.Window != nil {
			if err := r.checkWindow(ctx, sres); err != nil {
				return fmt.Errorf("checking the write window: %w", r.withLog(err, r.new))
			}
		}
		return nil
	})
	r.setSessions(sres)
	if err != nil {
		return err
	}

	// 6. Rows.
	r.stage(6, "verifying rows", "tables", len(r.sc.Verify.Tables))
	if err := r.verifyRows(ctx); err != nil {
		return fmt.Errorf("verifying rows: %w", err)
	}
	// Refreshing and revoking old tokens writes to green, so it comes
	// after the rows were compared.
	err = r.guarded(ctx, r.new, "exercising sessions", func(ctx context.Context) error {
		if err := r.exercise(ctx, sres); err != nil {
			return fmt.Errorf("exercising sessions: %w", r.withLog(err, r.new))
		}
		return nil
	})
	r.setSessions(sres)
	if err != nil {
		return err
	}
	r.log.Info("sessions checked", "checked", sres.Checked, "mismatched", sres.Mismatched)
	r.done.sessions = true

	// 7. Load the new server with the same sequence.
	r.stage(7, "loading the new server", "rate", r.sc.Load.Rate, "duration", r.sc.Load.Dur)
	r.after, r.afterRs, err = r.load(ctx, r.new, plan, "results-new.bin")
	if err != nil {
		return fmt.Errorf("loading new server: %w", r.withLog(err, r.new))
	}
	r.log.Info("new server loaded", "requests", r.after.Requests(), "error_rate", round(r.after.ErrorRate()))
	r.done.loads = true
	r.new.Stop()
	r.stage(8, "comparing")
	return nil
}

func (r *run) binary(ctx context.Context, cache string, s scenarios.Server) (string, error) {
	if s.Binary != "" {
		fi, err := os.Stat(s.Binary)
		if err != nil {
			return "", fmt.Errorf("hydra %s binary: %w", s.Version, err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("hydra %s binary: %s is not an executable file", s.Version, s.Binary)
		}
		return s.Binary, nil
	}
	if _, err := os.Stat(hydra.BinaryPath(cache, s.Version)); err != nil {
		r.log.Info("building hydra from the Go module proxy (a few minutes, once)", "version", s.Version,
			"cache", filepath.Dir(hydra.BinaryPath(cache, s.Version)))
	}
	return hydra.EnsureBinary(ctx, cache, s.Version)
}

func (r *run) migrate(ctx context.Context, cfg hydra.Config) error {
	conn, err := pgx.Connect(ctx, r.st.dsn("green"))
	if err != nil {
		return fmt.Errorf("connecting to green: %w", provision.RedactErr(err, r.st.dsn("green")))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	before, err := verify.SnapshotWrites(ctx, conn)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := r.st.migrate(ctx, 1, cfg); err != nil {
		return fmt.Errorf("migrating green database: %w", err)
	}
	r.rep.Migration.DurationMS = time.Since(start).Milliseconds()
	if sql := r.sc.Migration.AfterSQL; sql != "" {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("running migration.after_sql on green: %w", err)
		}
		r.log.Info("ran migration.after_sql on green")
	}
	after, err := settledWrites(ctx, conn)
	if err != nil {
		return err
	}
	r.rep.Migration.Tables = verify.Writes(before, after)
	r.log.Info("migrated", "duration_ms", r.rep.Migration.DurationMS, "tables_written", len(r.rep.Migration.Tables))
	return nil
}

func (r *run) verifyRows(ctx context.Context) error {
	op, err := pgxpool.New(ctx, r.st.dsn("blue"))
	if err != nil {
		return provision.RedactErr(err, r.st.dsn("blue"))
	}
	defer op.Close()
	np, err := pgxpool.New(ctx, r.st.dsn("green"))
	if err != nil {
		return provision.RedactErr(err, r.st.dsn("green"))
	}
	defer np.Close()
	// Both databases live on this machine: half its cores each.
	res, err := verify.Tables(ctx, op, np, r.sc.Verify.Mapping(), verify.Options{Workers: verify.LocalWorkers()})
	if err != nil {
		return err
	}
	rows, err := verify.SessionRows(ctx, op, np, sessionRowLimit)
	if err != nil {
		return fmt.Errorf("checking session rows: %w", err)
	}
	r.rep.Sessions.Rows = rows
	r.log.Info("session rows checked", "rows", rows.Checked, "broken_sessions", len(rows.Broken))
	r.rep.Verify = *res
	r.done.rows = true
	r.log.Info("rows verified", "rows_compared", res.RowsCompared, "missing", res.Missing,
		"extra", res.Extra, "changed", res.Changed, "expected_changed", res.ExpectedChanged)
	return nil
}

// withLog adds the server's last log line to err when the server has
// exited, which is then the likely cause.
func (r *run) withLog(err error, s *server) error {
	if s == nil {
		return err
	}
	// A failed request often arrives a moment before the exit is seen.
	select {
	case <-s.Exited():
		return fmt.Errorf("%w (%s exited: %s)", err, s.Name, logTail(s))
	case <-time.After(time.Second):
		return err
	}
}

// finish fills the comparison and the gates from what was measured.
func (r *run) finish() {
	if r.before != nil {
		r.rep.Old.BrokenChains, r.rep.Old.Errors = r.before.BrokenChains, r.before.Errors
		openModel(&r.rep.Old, r.before)
	}
	if r.after != nil {
		r.rep.New.BrokenChains, r.rep.New.Errors = r.after.BrokenChains, r.after.Errors
		openModel(&r.rep.New, r.after)
	}
	r.rep.Series = &reports.Samples{WarmupS: r.sc.Load.Warm.Seconds(), DurationS: r.sc.Load.Dur.Seconds(),
		Old: series(r.before, r.beforeRs),
		New: series(r.after, r.afterRs), Calibration: series(r.calib, r.calibRs)}
	opts := compare.DefaultOptions()
	r.rep.Stats = &opts
	r.rep.Metrics, r.rep.Calibration = r.rep.Series.Compare(opts)
	r.rep.Metrics = append(r.rep.Metrics, containerMetrics(r.beforeRs, r.afterRs, r.sc.Load.Warm)...)
	r.rep.Operations = r.rep.Series.Operations(scenarios.Operations)
	r.rep.Gates = compare.Gates(Limits(r.sc.Gates), r.rep.Metrics, compare.Findings{
		MissingRows: r.rep.Verify.Missing, ExtraRows: r.rep.Verify.Extra, ChangedRows: r.rep.Verify.Changed,
		DroppedColumns: r.rep.Verify.DroppedColumns, Dropped: r.rep.Verify.DroppedNames(), SessionMismatches: int64(r.rep.Sessions.Mismatched), KeyedTables: r.rep.Verify.KeyedTables(),
		BrokenSessions: r.rep.Sessions.BrokenCount(), SessionRows: r.rep.Sessions.Rows != nil,
	})
	r.markNotRun()
	if r.rep.Passed() {
		r.rep.Verdict = reports.Pass
	} else {
		r.rep.Verdict = reports.Fail
	}
}

func round(f float64) float64 { return float64(int(f*10000)) / 10000 }

func (r *run) setSessions(res *verify.SessionsResult) {
	r.rep.Sessions.Checked, r.rep.Sessions.Mismatched = res.Checked, res.Mismatched
	r.rep.Sessions.Mismatches = res.Mismatches
}

// settledWrites reads the write statistics once the migration's
// sessions have left and their counts have reached the statistics:
// PostgreSQL flushes a session's counts when it ends, a moment after
// the migrating process has exited. It waits at most 10 s, then reads
// what is there.
func settledWrites(ctx context.Context, conn *pgx.Conn) (verify.WriteSnapshot, error) {
	deadline := time.Now().Add(10 * time.Second)
	var last verify.WriteSnapshot
	for {
		var others int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&others)
		if err != nil {
			return nil, fmt.Errorf("reading table statistics: %w", err)
		}
		snap, err := verify.SnapshotWrites(ctx, conn)
		if err != nil {
			return nil, err
		}
		if others == 0 && last != nil && maps.EqualFunc(snap, last, func(a, b verify.TableWrites) bool { return a == b }) {
			return snap, nil
		}
		if time.Now().After(deadline) {
			return snap, nil
		}
		last = snap
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// openModel copies what the open model saw of a side's load: requests
// that left late and requests never sent.
func openModel(s *reports.Side, res *loadgen.Result) {
	s.Late, s.Dropped = res.Late(), res.Dropped
	s.MaxLatenessMS = float64(res.MaxLateness) / 1e6
}

// markNotRun fails, with a detail saying so, every gate whose check did
// not run to the end: a partial run must not show a gate as passed on
// figures it never measured.
func (r *run) markNotRun() {
	for i := range r.rep.Gates {
		g := &r.rep.Gates[i]
		ran := r.done.loads
		switch g.Name {
		case "missing_rows", "extra_rows", "changed_rows", "dropped_columns", "broken_sessions":
			ran = r.done.rows
		case "session_mismatches":
			ran = r.done.sessions
		}
		if !ran {
			g.Passed = false
			g.Detail = "not run: the run ended before this was measured"
		}
	}
}
