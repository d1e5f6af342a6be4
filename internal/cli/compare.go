package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/pipeline"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/scenarios"
)

// writeMore writes the reports beside report.json that a run and a
// comparison both leave: report.html, junit.xml and, when the report
// holds time series, samples.json.
func writeMore(dir string, rep *reports.Report, write func(string, func(*os.File) error) error) error {
	if rep.Series != nil {
		if err := write(filepath.Join(dir, reports.SamplesFile), func(f *os.File) error {
			return reports.WriteSamples(f, rep.Series)
		}); err != nil {
			return err
		}
	}
	junit := func(f *os.File) error { return reports.JUnit(f, rep) }
	if err := write(filepath.Join(dir, "junit.xml"), junit); err != nil {
		return err
	}
	return write(filepath.Join(dir, "report.html"), func(f *os.File) error { return reports.HTML(f, rep) })
}

// cmdCompare compares one side of a saved run (the baseline) with one
// side of another, from their samples.json files, and applies the
// scenario's gates; row and session findings come from AFTER_DIR's
// report.json.
func cmdCompare(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "compare", "compare [--before-side old|new] [--after-side old|new] [--scenario FILE] "+
		"[--out DIR] BEFORE_DIR AFTER_DIR")
	var beforeSide, afterSide, scenario, out string
	fs.StringVar(&beforeSide, "before-side", "new", "which `side` of BEFORE_DIR is the baseline: old or new")
	fs.StringVar(&afterSide, "after-side", "new", "which `side` of AFTER_DIR is compared: old or new")
	fs.StringVar(&scenario, "scenario", "", "scenario `file` whose gates apply (default: the built-in "+
		scenarios.DefaultName+"; env CUTOVER_SCENARIO)")
	fs.StringVar(&out, "out", "", "`directory` to write report.json, report.md, report.html and junit.xml into "+
		"(default: CUTOVER_OUT, else none: the text report goes to stdout only)")
	help := fs.Usage
	fs.Usage = func() {} // Parse would print it; -h prints it once below
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(e.stderr)
		help()
		return nil
	}
	if err != nil {
		return usagef(errors.New(strings.TrimSpace(err.Error())))
	}
	if fs.NArg() != 2 {
		return usagef(fmt.Errorf("compare needs two run directories, BEFORE_DIR and AFTER_DIR, after the flags; got %q",
			fs.Args()))
	}
	if out == "" {
		out = e.getenv("CUTOVER_OUT")
	}
	for _, f := range []struct{ name, v string }{{"--before-side", beforeSide}, {"--after-side", afterSide}} {
		if f.v != "old" && f.v != "new" {
			return usagef(fmt.Errorf("%s: %q is not old or new", f.name, f.v))
		}
	}
	if scenario == "" {
		scenario = e.getenv("CUTOVER_SCENARIO")
	}
	sc := scenarios.Default()
	if scenario != "" {
		if sc, err = scenarios.Load(scenario); err != nil {
			return usagef(fmt.Errorf("--scenario: %w", err))
		}
	}
	beforeDir, afterDir := fs.Arg(0), fs.Arg(1)
	if out != "" {
		for _, in := range []string{beforeDir, afterDir} {
			if sameDir(out, in) {
				return usagef(fmt.Errorf("--out: %s is an input of the comparison; "+
					"writing there would replace its run's reports, choose another directory", out))
			}
		}
	}
	bs, brep, err := readRun(beforeDir, beforeSide)
	if err != nil {
		return err
	}
	as, arep, err := readRun(afterDir, afterSide)
	if err != nil {
		return err
	}
	if bs.Calibration == nil {
		for _, g := range sc.Gates.Metrics {
			if g.MaxNoiseMultiple != nil {
				e.log.Warn("a gate bounds a change by a multiple of the A/A noise, but BEFORE_DIR's run was "+
					"not calibrated (load.calibrate): the gate cannot be evaluated and will fail",
					"dir", beforeDir, "metric", g.Metric, "scenario", sc.Name)
			}
		}
	}
	series := &reports.Samples{SchemaVersion: reports.SamplesVersion, WarmupS: as.WarmupS, DurationS: as.DurationS,
		Old: pickSide(bs, beforeSide), New: pickSide(as, afterSide)}
	opts := compare.DefaultOptions()
	rep := &reports.Report{SchemaVersion: reports.SchemaVersion, Scenario: sc.Name,
		Comparison: &reports.Comparison{BeforeDir: beforeDir, BeforeSide: beforeSide, AfterDir: afterDir,
			AfterSide: afterSide, BeforeScenario: brep.Scenario, AfterScenario: arep.Scenario,
			GatesScenario: sc.Name, FindingsFrom: afterDir},
		Old: sideOf(brep, beforeSide, beforeDir), New: sideOf(arep, afterSide, afterDir),
		Load: arep.Load, Stats: &opts, Migration: arep.Migration, Verify: arep.Verify,
		Sessions: arep.Sessions, Series: series}
	rep.Load.WarmupS = as.WarmupS
	if d := loadDiff(brep.Load, arep.Load); d != "" {
		e.log.Warn("the two runs were loaded differently; latency and resources depend on the load, "+
			"so read the comparison with care", "differences", d)
	}
	// Each side's steady state is its own run's: from its warm-up to
	// the end of its load.
	window := func(s *reports.Samples) (time.Duration, time.Duration) {
		return s.Warmup(), time.Duration(s.DurationS * float64(time.Second))
	}
	bw, be := window(bs)
	aw, ae := window(as)
	rep.Metrics = compare.Compare(series.Old.Side(bw, be), series.New.Side(aw, ae), opts)
	rep.Metrics = append(rep.Metrics, containerMetrics(brep, beforeSide, arep, afterSide)...)
	rep.Operations = reports.OperationsOf(series.Old, series.New, bw, aw, scenarios.Operations)
	if bs.Calibration != nil {
		// The baseline run loaded its old side twice: that A/A change is
		// the noise of the baseline's machine, which the gates may use.
		aa := compare.Compare(bs.Old.Side(bw, be), bs.Calibration.Side(bw, be), opts)
		rep.Metrics = compare.Calibrate(rep.Metrics, aa)
		rep.Calibration, series.Calibration = aa, bs.Calibration
		e.log.Info("using BEFORE_DIR's A/A calibration as each metric's noise", "dir", beforeDir)
	}
	rep.Gates = compare.Gates(pipeline.Limits(sc.Gates), rep.Metrics, compare.Findings{
		MissingRows: arep.Verify.Missing, ExtraRows: arep.Verify.Extra, ChangedRows: arep.Verify.Changed,
		DroppedColumns: arep.Verify.DroppedColumns, Dropped: arep.Verify.DroppedNames(),
		SessionMismatches: int64(arep.Sessions.Mismatched), KeyedTables: arep.Verify.KeyedTables(),
		BrokenSessions: arep.Sessions.BrokenCount(), SessionRows: arep.Sessions.Rows != nil})
	rep.Verdict = reports.Fail
	if rep.Passed() {
		rep.Verdict = reports.Pass
	}
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		if err := writeReports(e, out, rep); err != nil {
			return err
		}
	} else if err := reports.Text(e.stdout, rep); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if !rep.Passed() {
		return ErrGateFailed
	}
	return nil
}

// containerMetrics carries the container engine's figures (docker
// runs) over from the two runs' reports: they are not in samples.json,
// only in report.json, so they are taken as saved, for the chosen
// sides, and not tested. A side whose run has none is NaN; with none
// on either side there are none.
func containerMetrics(brep *reports.Report, beforeSide string, arep *reports.Report, afterSide string) []compare.Metric {
	var out []compare.Metric
	for _, name := range []string{"container_cpu_cores", "container_memory_bytes"} {
		bm, bok := compare.Find(brep.Metrics, name)
		am, aok := compare.Find(arep.Metrics, name)
		if !bok && !aok {
			continue
		}
		pick := func(m compare.Metric, ok bool, side string) float64 {
			switch {
			case !ok:
				return math.NaN()
			case side == "old":
				return m.Before
			default:
				return m.After
			}
		}
		unit := cmp.Or(bm.Unit, am.Unit)
		nan := compare.Interval{Low: math.NaN(), High: math.NaN()}
		m := compare.Metric{Name: name, Unit: unit, Before: pick(bm, bok, beforeSide), After: pick(am, aok, afterSide),
			BeforeCI: nan, AfterCI: nan, PValue: math.NaN()}
		if !math.IsNaN(m.Before) && !math.IsNaN(m.After) && m.Before != 0 {
			c := (m.After - m.Before) / m.Before * 100
			m.ChangePct = &c
		}
		out = append(out, m)
	}
	return out
}

// sameDir reports whether two paths name the same existing directory.
func sameDir(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// loadDiff describes how two runs' loads differ, or returns "".
func loadDiff(b, a reports.Load) string {
	var d []string
	add := func(what string, bv, av any) {
		if fmt.Sprint(bv) != fmt.Sprint(av) {
			d = append(d, fmt.Sprintf("%s %v vs %v", what, bv, av))
		}
	}
	add("rate/s", b.RatePerSec, a.RatePerSec)
	add("duration", b.DurationS, a.DurationS)
	add("warm-up", b.WarmupS, a.WarmupS)
	add("seed", b.Seed, a.Seed)
	add("mix", b.Mix, a.Mix)
	return strings.Join(d, "; ")
}

// sideOf names the compared side after the run it came from.
func sideOf(rep *reports.Report, side, dir string) reports.Side {
	s := rep.New
	if side == "old" {
		s = rep.Old
	}
	s.Provider = side + " side of " + dir
	return s
}

// readRun reads the samples and the report of a run directory and
// checks that it holds samples of side. Anything that makes dir
// unusable is a usage error naming dir and the reason.
func readRun(dir, side string) (*reports.Samples, *reports.Report, error) {
	bad := func(format string, args ...any) error {
		return usagef(fmt.Errorf("compare: %s: "+format, append([]any{dir}, args...)...))
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, bad("no such run directory")
	case err != nil:
		return nil, nil, bad("cannot read it: %w", err)
	case !fi.IsDir():
		return nil, nil, bad("not a directory: give the --out directory of a run")
	}
	var s *reports.Samples
	if err := readFile(dir, reports.SamplesFile, func(f *os.File) (err error) {
		s, err = reports.ReadSamples(f)
		return err
	}); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, bad("no %s: not a run directory, or one of a cutover version that kept no samples "+
			"(such runs cannot be compared)", reports.SamplesFile)
	} else if err != nil {
		return nil, nil, bad("%w", err)
	}
	var rep *reports.Report
	if err := readFile(dir, "report.json", func(f *os.File) (err error) {
		rep, err = reports.ReadJSON(f)
		return err
	}); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, bad("no report.json: the run did not finish writing its reports")
	} else if err != nil {
		return nil, nil, bad("%w", err)
	}
	if pickSide(s, side) == nil {
		if rep.Partial {
			return nil, nil, bad("the run was interrupted (partial) and has no %s-side samples", side)
		}
		return nil, nil, bad("the run has no %s-side samples", side)
	}
	return s, rep, nil
}

// pickSide returns the old or the new side of s.
func pickSide(s *reports.Samples, side string) *compare.Series {
	if side == "old" {
		return s.Old
	}
	return s.New
}

// readFile opens dir/name and reads it with read, and describes what
// is wrong with the file in one phrase that starts with its name.
func readFile(dir, name string, read func(*os.File) error) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	err = read(f)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ver *reports.VersionError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syn):
		return fmt.Errorf("%s is truncated or not JSON", name)
	case errors.As(err, &typ):
		return fmt.Errorf("%s is not a cutover %s file: field %s holds a JSON %s", name,
			strings.TrimSuffix(name, ".json"), typ.Field, typ.Value)
	case errors.As(err, &ver) && ver.Got == 0:
		return fmt.Errorf("%s has no schema_version: not written by cutover", name)
	case errors.As(err, &ver):
		return fmt.Errorf("%s has schema_version %d; this cutover reads %d", name, ver.Got, ver.Want)
	default:
		return fmt.Errorf("%s: %w", name, err)
	}
}
