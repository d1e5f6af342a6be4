package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cutover-dev/cutover/internal/pipeline"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/scenarios"
	"github.com/cutover-dev/cutover/verify"
)

func scenarioText() []byte { return scenarios.DefaultYAML() }

// runConfig is the run command's configuration after precedence:
// flags over environment over the scenario over defaults.
type runConfig struct {
	scenario string
	out      string
	provider string
	images   pipeline.Images
}

func cmdRun(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "run", "run [--scenario FILE] [--out DIR] [--provider auto|process|docker]")
	var cfg runConfig
	fs.StringVar(&cfg.scenario, "scenario", "", "scenario `file` (default: the built-in "+scenarios.DefaultName+"; env CUTOVER_SCENARIO)")
	fs.StringVar(&cfg.out, "out", "", "`directory` for the reports (JSON, Markdown, HTML, JUnit) and raw results (default cutover-out; env CUTOVER_OUT)")
	fs.StringVar(&cfg.provider, "provider", "", "how to start the stacks: auto, process or docker (default auto; env CUTOVER_PROVIDER)")
	fs.StringVar(&cfg.images.Database, "db-image", "", "PostgreSQL `image` for --provider docker (default: the scenario's; env CUTOVER_DB_IMAGE)")
	fs.StringVar(&cfg.images.Old, "old-image", "", "old server `image` for --provider docker (default: the scenario's; env CUTOVER_OLD_IMAGE)")
	fs.StringVar(&cfg.images.New, "new-image", "", "new server `image` for --provider docker (default: the scenario's; env CUTOVER_NEW_IMAGE)")
	fs.BoolVar(&cfg.images.Pull, "pull", false, "let the Docker engine pull images it does not hold (default: never pull; env CUTOVER_PULL=1)")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	cfg = resolveRun(cfg, e.getenv)
	switch cfg.provider {
	case "auto", "process", "docker":
	default:
		return usagef(fmt.Errorf("--provider: %q is not one of auto, process, docker", cfg.provider))
	}

	var sc *scenarios.Scenario
	if cfg.scenario == "" {
		sc = scenarios.Default()
	} else {
		var err error
		if sc, err = scenarios.Load(cfg.scenario); err != nil {
			var se *scenarios.Error
			if errors.As(err, &se) {
				return usagef(err)
			}
			return usagef(fmt.Errorf("--scenario: %w", err))
		}
	}
	if cfg.provider == "auto" {
		cfg.provider = chooseProvider(ctx, e, sc, cfg.images)
	}
	if cfg.provider == "docker" && sc.Window.Dur > 0 {
		return usagef(fmt.Errorf("--provider docker: %s has a write window (window.duration), "+
			"which needs the process provider; use --provider process", sc.File))
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := checkWritable(cfg.out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if n, err := clearOutputs(cfg.out); err != nil {
		return fmt.Errorf("--out: %w", err)
	} else if n > 0 {
		e.log.Info("removed the files of an earlier run", "out", cfg.out, "files", n)
	}
	e.log.Info("running scenario", "scenario", sc.Name, "file", sc.File, "provider", cfg.provider, "out", cfg.out)
	rep, err := pipeline.Run(ctx, pipeline.Options{Scenario: sc, OutDir: cfg.out, Provider: cfg.provider,
		Images: cfg.images, Log: e.log, NewSecret: e.newSecret})
	if werr := writeReports(e, cfg.out, rep); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: partial report in %s", cfg.out)
		}
		// The scenario's mapping names what the databases do not have:
		// a mistake in the input, found only once the databases exist.
		var me *verify.MappingError
		if errors.As(err, &me) {
			return usagef(fmt.Errorf("%s: verify mapping: %w", sc.File, me))
		}
		return err
	}
	if !rep.Passed() {
		return ErrGateFailed
	}
	return nil
}

// resolveRun applies the precedence flags > environment > defaults.
func resolveRun(c runConfig, getenv Env) runConfig {
	pick := func(flag, env, def string) string {
		if flag != "" {
			return flag
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	c.scenario = pick(c.scenario, "CUTOVER_SCENARIO", "")
	c.out = pick(c.out, "CUTOVER_OUT", "cutover-out")
	c.provider = pick(c.provider, "CUTOVER_PROVIDER", "auto")
	c.images.Database = pick(c.images.Database, "CUTOVER_DB_IMAGE", "")
	c.images.Old = pick(c.images.Old, "CUTOVER_OLD_IMAGE", "")
	c.images.New = pick(c.images.New, "CUTOVER_NEW_IMAGE", "")
	if v := getenv("CUTOVER_PULL"); v == "1" || v == "true" {
		c.images.Pull = true
	}
	return c
}

// outputs are the files a run writes into --out.
var outputs = []string{"report.json", "report.md", "report.html", "junit.xml", reports.SamplesFile,
	"results-old.bin", "results-old-aa.bin", "results-new.bin", "results-window.bin"}

// clearOutputs removes from dir the files an earlier run wrote there,
// so that a run that ends early leaves no stale report beside its own.
// Other files are left alone. It returns how many it removed.
func clearOutputs(dir string) (int, error) {
	n := 0
	for _, name := range outputs {
		err := os.Remove(filepath.Join(dir, name))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			return n, err
		}
	}
	return n, nil
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".cutover-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write to %s: %w", dir, errors.Unwrap(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// writeReports writes report.json, report.md and the rest into dir,
// appends the Markdown to the job summary when GITHUB_STEP_SUMMARY is
// set, then prints the text report on stdout.
func writeReports(e *environ, dir string, rep *reports.Report) error {
	if rep == nil {
		return nil
	}
	write := func(path string, render func(*os.File) error) error {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
		if err := render(f); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return f.Close()
	}
	err := write(filepath.Join(dir, "report.json"), func(f *os.File) error { return reports.JSON(f, rep) })
	if err != nil {
		return err
	}
	err = write(filepath.Join(dir, "report.md"), func(f *os.File) error { return reports.Markdown(f, rep) })
	if err != nil {
		return err
	}
	if err := writeMore(dir, rep, write); err != nil {
		return err
	}
	if p := e.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("writing job summary: %w", err)
		}
		defer f.Close()
		if err := reports.Markdown(f, rep); err != nil {
			return fmt.Errorf("writing job summary: %w", err)
		}
	}
	e.log.Info("reports written", "dir", dir, "verdict", rep.Verdict)
	// The terminal report comes last: when stdout is a pipe whose
	// reader has gone, the files are written all the same.
	if err := reports.Text(e.stdout, rep); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			// The reader went away (cutover run | head): the reports are
			// in dir, and the exit status still tells the verdict.
			return nil
		}
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// chooseProvider resolves --provider auto: docker when an engine
// answers and holds every image the scenario needs, else process.
func chooseProvider(ctx context.Context, e *environ, sc *scenarios.Scenario, im pipeline.Images) string {
	if sc.Old.Binary != "" || sc.New.Binary != "" || sc.Window.Dur > 0 {
		e.log.Info("provider auto: using process (the scenario names a server binary or has a write window)")
		return "process"
	}
	if err := pipeline.DockerReady(ctx, sc, im); err != nil {
		e.log.Info("provider auto: using process", "docker", err.Error())
		return "process"
	}
	e.log.Info("provider auto: using docker (engine answers, images present)")
	return "docker"
}
