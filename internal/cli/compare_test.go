package cli

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/scenarios"
	"github.com/cutover-dev/cutover/verify"
)

// saveRun writes a run directory whose new side has latencies scaled
// by scale.
func saveRun(t *testing.T, seed uint64, scale float64) string {
	return saveRunWarm(t, seed, scale, 5, 1)
}

// saveRunWarm writes a run directory with a warm-up of warm seconds,
// during which every latency is spike times slower.
func saveRunWarm(t *testing.T, seed uint64, scale, warm, spike float64) string {
	t.Helper()
	side := func(seed uint64, scale float64) *compare.Series {
		rng := rand.New(rand.NewPCG(seed, 3))
		s := &compare.Series{}
		for i := range 1200 {
			at := float64(i) / 40
			l := scale * 5 * math.Exp(0.5*rng.NormFloat64())
			if at < warm {
				l *= spike
			}
			s.Requests = append(s.Requests, compare.Request{Op: "introspect", AtS: at, LatencyMS: l})
		}
		return s
	}
	dir := t.TempDir()
	rep := &reports.Report{Scenario: "test", Verdict: reports.Pass,
		Old: reports.Side{Kind: "hydra", Version: "v1.11.10"}, New: reports.Side{Kind: "hydra", Version: "v2.3.0"},
		Load:   reports.Load{Seed: 1, RatePerSec: 40, DurationS: 30, WarmupS: warm},
		Verify: reports.Verify{RowsCompared: 10, Tables: []verify.TableResult{{Table: "t", Keyed: true, RowsOld: 10}}}}
	var b bytes.Buffer
	if err := reports.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	s := &reports.Samples{WarmupS: warm, DurationS: 30, Old: side(seed, 1), New: side(seed+1, scale)}
	if err := reports.WriteSamples(&b, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, reports.SamplesFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareCommand(t *testing.T) {
	base := saveRun(t, 1, 1)
	same := saveRun(t, 10, 1)
	slow := saveRun(t, 20, 1.5)
	out := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
	}{
		{"same", []string{base, same}, ExitOK, "API P95"},
		{"slower", []string{base, slow}, ExitGateFailed, "FAIL    latency_p95_ms_regression"},
		{"old against new of one run", []string{"--before-side", "old", slow, slow}, ExitGateFailed, "worse"},
		{"files", []string{"--out", out, base, slow}, ExitGateFailed, "Gates"},
		{"help", []string{"-h"}, ExitOK, ""},
		{"unknown flag", []string{"--bogus", base, same}, ExitUsage, ""},
		{"bad side", []string{"--after-side", "blue", base, same}, ExitUsage, ""},
		{"one dir", []string{base}, ExitUsage, ""},
		{"not a run", []string{base, t.TempDir()}, ExitUsage, ""},
		{"out is an input", []string{"--out", slow, base, slow}, ExitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"compare"}, tt.args...), nil, &stdout, &stderr, nil)
			if got := ExitCode(err); got != tt.code {
				t.Fatalf("compare %v: exit %d (%v), want %d\n%s", tt.args, got, err, tt.code, stderr.String())
			}
			if tt.name == "help" && strings.Count(stderr.String(), "-before-side") != 2 {
				t.Errorf("compare -h printed:\n%s\nwant the synopsis and the flags once", stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("compare %v: stdout lacks %q:\n%s", tt.args, tt.stdout, stdout.String())
			}
		})
	}
	for _, f := range []string{"report.json", "report.md", "report.html", "junit.xml", reports.SamplesFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("compare --out: %v", err)
		}
	}
}

// TestCompareUsesEachRunsWarmup compares a run whose first 5 s were 50
// times slower (its warm-up) with a run warmed up in 1 s: the before
// side must leave out its own 5 s, and the differing loads are named.
func TestCompareUsesEachRunsWarmup(t *testing.T) {
	slowStart := saveRunWarm(t, 1, 1, 5, 50)
	quick := saveRunWarm(t, 2, 1, 1, 1)
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"compare", "--before-side", "old", slowStart, quick}, nil, &stdout,
		&stderr, nil)
	if got := ExitCode(err); got != ExitOK {
		t.Fatalf("exit %d (%v), want %d\n%s%s", got, err, ExitOK, stdout.String(), stderr.String())
	}
	if !regexp.MustCompile(`introspect\s+1200\s+1200`).MatchString(stdout.String()) {
		t.Errorf("no per-operation table with 1200 requests a side:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "warm-up 5 vs 1") {
		t.Errorf("no warning about the differing warm-ups:\n%s", stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "API P99 ") && !strings.Contains(line, "~") {
			t.Errorf("P99 changed between runs of one distribution (warm-up counted?): %s", line)
		}
	}
}

// TestCompareUsesTheBaselinesCalibration gives the baseline run an A/A
// calibration: a gate on a multiple of the noise must then be checked,
// not failed for want of a noise figure.
func TestCompareUsesTheBaselinesCalibration(t *testing.T) {
	base := saveRun(t, 1, 1)
	path := filepath.Join(base, reports.SamplesFile)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := reports.ReadSamples(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s.Calibration = saveSeries(t, 3)
	var b bytes.Buffer
	if err := reports.WriteSamples(&b, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(t.TempDir(), "noise.yaml")
	y := "name: x\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\nload: {calibrate: true}\n" +
		"gates:\n  max_p95_regression_pct: -1\n" +
		"  metrics:\n    - {metric: latency_p95_ms, max_noise_multiple: 3}\n"
	if err := os.WriteFile(sc, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), []string{"compare", "--scenario", sc, base, saveRun(t, 10, 1)}, nil, &stdout,
		&stderr, nil)
	if got := ExitCode(err); got != ExitOK {
		t.Fatalf("exit %d (%v), want %d\n%s%s", got, err, ExitOK, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "A/A calibration") || strings.Contains(stdout.String(), "unevaluable") ||
		strings.Contains(stderr.String(), "not calibrated") {
		t.Errorf("no calibration in the comparison:\n%s%s", stdout.String(), stderr.String())
	}

	// Without the baseline's calibration the gate cannot be evaluated:
	// it fails, says so, and compare warns before comparing.
	stdout.Reset()
	stderr.Reset()
	err = Run(context.Background(), []string{"compare", "--scenario", sc, saveRun(t, 10, 1), base}, nil, &stdout,
		&stderr, nil)
	if got := ExitCode(err); got != ExitGateFailed {
		t.Fatalf("uncalibrated: exit %d (%v), want %d\n%s%s", got, err, ExitGateFailed, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "unevaluable: the runs were not calibrated") {
		t.Errorf("uncalibrated: the gate does not say it could not be evaluated:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "level=WARN") || !strings.Contains(stderr.String(), "was not calibrated") {
		t.Errorf("uncalibrated: no warning:\n%s", stderr.String())
	}
}

// saveSeries returns a side of 1200 requests like saveRun's, drawn with
// seed.
func saveSeries(t *testing.T, seed uint64) *compare.Series {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &compare.Series{}
	for i := range 1200 {
		s.Requests = append(s.Requests, compare.Request{Op: "introspect", AtS: float64(i) / 40,
			LatencyMS: 5 * math.Exp(0.5*rng.NormFloat64())})
	}
	return s
}

// TestCompareOperationsMatchTheRun saves a run whose operations table
// is the one a run writes (from its samples), with a slow warm-up and
// container figures, and compares the run with itself: the rebuilt
// table must be the saved one, and the container figures carried over.
func TestCompareOperationsMatchTheRun(t *testing.T) {
	side := func(seed uint64, scale float64) *compare.Series {
		rng := rand.New(rand.NewPCG(seed, 3))
		s := &compare.Series{}
		ops := []string{"revoke", "client_credentials", "introspect"}
		for i := range 1200 {
			at := float64(i) / 40
			l := scale * 5 * math.Exp(0.5*rng.NormFloat64())
			if at < 5 {
				l *= 20 // the warm-up, left out of the percentiles
			}
			s.Requests = append(s.Requests, compare.Request{Op: ops[i%3], AtS: at, LatencyMS: l, Failed: i%50 == 0})
		}
		return s
	}
	samples := &reports.Samples{WarmupS: 5, DurationS: 30, Old: side(1, 1), New: side(2, 1.1)}
	rep := &reports.Report{Scenario: "test", Verdict: reports.Pass,
		Old: reports.Side{Kind: "hydra", Version: "v1.11.10"}, New: reports.Side{Kind: "hydra", Version: "v2.3.0"},
		Load:       reports.Load{Seed: 1, RatePerSec: 40, DurationS: 30, WarmupS: 5},
		Operations: samples.Operations(scenarios.Operations), // as the run fills it
		Metrics: []compare.Metric{{Name: "container_cpu_cores", Unit: "cores", Before: 0.5, After: 0.25},
			{Name: "container_memory_bytes", Unit: "bytes", Before: 100, After: 300}},
		Verify: reports.Verify{RowsCompared: 10, Tables: []verify.TableResult{{Table: "t", Keyed: true, RowsOld: 10}}}}
	dir := writeRunDir(t, rep, samples)
	for _, sides := range [][2]string{{"old", "new"}, {"new", "new"}} {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		err := Run(context.Background(), []string{"compare", "--out", out, "--before-side", sides[0],
			"--after-side", sides[1], dir, dir}, nil, &stdout, &stderr, nil)
		if code := ExitCode(err); code != ExitOK && code != ExitGateFailed {
			t.Fatalf("compare: exit %d (%v)\n%s", code, err, stderr.String())
		}
		got := readReport(t, out)
		want := slices.Clone(rep.Operations)
		if sides[0] == "new" {
			for i := range want {
				o := &want[i]
				o.Requests[0], o.Failed[0], o.P50MS[0], o.P95MS[0] = o.Requests[1], o.Failed[1], o.P50MS[1], o.P95MS[1]
			}
		}
		if !reflect.DeepEqual(got.Operations, want) {
			t.Errorf("%v: compare's operations\n%+v\nwant the run's\n%+v", sides, got.Operations, want)
		}
		wantC := map[string][2]float64{"container_cpu_cores": {0.5, 0.25}, "container_memory_bytes": {100, 300}}
		if sides[0] == "new" {
			wantC = map[string][2]float64{"container_cpu_cores": {0.25, 0.25}, "container_memory_bytes": {300, 300}}
		}
		for name, w := range wantC {
			m, ok := compare.Find(got.Metrics, name)
			if !ok || m.Before != w[0] || m.After != w[1] {
				t.Errorf("%v: %s = %+v (found %v), want %v -> %v", sides, name, m, ok, w[0], w[1])
			}
		}
	}
}

// writeRunDir writes rep and s as a run directory.
func writeRunDir(t *testing.T, rep *reports.Report, s *reports.Samples) string {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	if err := reports.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if s != nil {
		b.Reset()
		if err := reports.WriteSamples(&b, s); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, reports.SamplesFile), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readReport reads dir's report.json.
func readReport(t *testing.T, dir string) *reports.Report {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCompareBadRunDirs: every directory compare cannot use is a usage
// error (exit 2) of one line that names the directory and the reason.
func TestCompareBadRunDirs(t *testing.T) {
	good := saveRun(t, 1, 1)
	copyRun := func(t *testing.T, change func(dir string)) string {
		t.Helper()
		dir := t.TempDir()
		for _, f := range []string{"report.json", reports.SamplesFile} {
			b, err := os.ReadFile(filepath.Join(good, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		change(dir)
		return dir
	}
	write := func(name, content string) func(string) {
		return func(dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	truncate := func(name string) func(string) {
		return func(dir string) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			write(name, string(b[:len(b)/2]))(dir)
		}
	}
	remove := func(name string) func(string) {
		return func(dir string) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	partial := func(dir string) {
		rep := &reports.Report{Scenario: "test", Verdict: reports.Fail, Partial: true, Error: "interrupted"}
		s := &reports.Samples{WarmupS: 1, DurationS: 30, Old: saveSeries(t, 1)}
		d := writeRunDir(t, rep, s)
		for _, f := range []string{"report.json", reports.SamplesFile} {
			b, _ := os.ReadFile(filepath.Join(d, f))
			write(f, string(b))(dir)
		}
	}
	negative := func(dir string) {
		s := &reports.Samples{WarmupS: 1, DurationS: 30, Old: saveSeries(t, 1), New: saveSeries(t, 2)}
		s.New.Requests[2].LatencyMS = -5
		var b bytes.Buffer
		if err := reports.WriteSamples(&b, s); err != nil {
			t.Fatal(err)
		}
		write(reports.SamplesFile, b.String())(dir)
	}
	file := filepath.Join(t.TempDir(), "report.json")
	write("report.json", "{}")(filepath.Dir(file))
	tests := []struct {
		name string
		dir  string
		args []string
		want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), nil, "no such run directory"},
		{"a file", file, nil, "not a directory"},
		{"empty", t.TempDir(), nil, "no samples.json"},
		{"no samples", copyRun(t, remove(reports.SamplesFile)), nil, "no samples.json"},
		{"no report", copyRun(t, remove("report.json")), nil, "no report.json"},
		{"truncated report", copyRun(t, truncate("report.json")), nil, "report.json is truncated or not JSON"},
		{"empty report", copyRun(t, write("report.json", "")), nil, "report.json is truncated or not JSON"},
		{"report of no version", copyRun(t, write("report.json", "{}")), nil, "report.json has no schema_version"},
		{"report of another version", copyRun(t, write("report.json", `{"schema_version": 9}`)), nil,
			"report.json has schema_version 9; this cutover reads 1"},
		{"report not a report", copyRun(t, write("report.json", `{"schema_version": "1"}`)), nil,
			"report.json is not a cutover report file"},
		{"truncated samples", copyRun(t, truncate(reports.SamplesFile)), nil, "samples.json is truncated or not JSON"},
		{"samples of no version", copyRun(t, write(reports.SamplesFile, "{}")), nil, "samples.json has no schema_version"},
		{"negative latency", copyRun(t, negative), nil, "samples.json: new side, request 3: latency_ms -5 is negative"},
		{"partial, new side", copyRun(t, partial), nil,
			"the run was interrupted (partial) and has no new-side samples"},
		{"partial, old side", copyRun(t, partial), []string{"--before-side", "old", "--after-side", "old"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pos := range []string{"before", "after"} {
				dirs := []string{tt.dir, good}
				if pos == "after" {
					dirs = []string{good, tt.dir}
				}
				if tt.want == "" {
					dirs = []string{tt.dir, tt.dir}
				}
				var stdout, stderr bytes.Buffer
				err := Run(context.Background(), append(append([]string{"compare"}, tt.args...), dirs...), nil,
					&stdout, &stderr, nil)
				if tt.want == "" {
					if code := ExitCode(err); code != ExitOK && code != ExitGateFailed {
						t.Fatalf("exit %d (%v), want the comparison to run", code, err)
					}
					return
				}
				if code := ExitCode(err); code != ExitUsage {
					t.Fatalf("%s: exit %d (%v), want %d", pos, code, err, ExitUsage)
				}
				msg := Message(err)
				if want := "compare: " + tt.dir + ": " + tt.want; !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") {
					t.Errorf("%s: message %q, want one line starting %q", pos, msg, want)
				}
			}
		})
	}
}

// TestCompareReportSaysWhereItCameFrom: the header and report.json of a
// comparison name both directories and sides, and the scenario whose
// gates applied rather than the runs' own.
func TestCompareReportSaysWhereItCameFrom(t *testing.T) {
	base, today := saveRun(t, 1, 1), saveRun(t, 10, 1) // runs of scenario "test"
	sc := filepath.Join(t.TempDir(), "gates.yaml")
	y := "name: strict-gates\nold: {version: v1.11.10}\nnew: {version: v2.3.0}\n"
	if err := os.WriteFile(sc, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, gates string
		args        []string
	}{
		{"built-in gates", "hydra-1.11-to-2.3", []string{"--before-side", "old", base, today}},
		{"gates from --scenario", "strict-gates", []string{"--scenario", sc, "--before-side", "old", base, today}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"compare"}, tt.args...), nil, &stdout, &stderr, nil)
			if code := ExitCode(err); code != ExitOK && code != ExitGateFailed {
				t.Fatalf("exit %d (%v)\n%s", code, err, stderr.String())
			}
			head := strings.SplitN(stdout.String(), "\n", 3)
			want := []string{"cutover: " + tt.gates + " — ",
				"compare of " + base + " (old) → " + today + " (new), gates from " + tt.gates}
			if len(head) < 3 || !strings.HasPrefix(head[0], want[0]) || !strings.HasPrefix(head[1], want[1]) {
				t.Errorf("header:\n%s\nwant lines starting\n%s", strings.Join(head[:2], "\n"), strings.Join(want, "\n"))
			}
			err = Run(context.Background(), append([]string{"compare", "--out", out}, tt.args...), nil, &stdout,
				&stderr, nil)
			if code := ExitCode(err); code != ExitOK && code != ExitGateFailed {
				t.Fatalf("exit %d (%v)\n%s", code, err, stderr.String())
			}
			rep := readReport(t, out)
			wantC := reports.Comparison{BeforeDir: base, BeforeSide: "old", AfterDir: today, AfterSide: "new",
				BeforeScenario: "test", AfterScenario: "test", GatesScenario: tt.gates, FindingsFrom: today}
			if rep.Comparison == nil || *rep.Comparison != wantC || rep.Scenario != tt.gates {
				t.Errorf("report.json: scenario %q, comparison %+v, want %q, %+v", rep.Scenario, rep.Comparison,
					tt.gates, wantC)
			}
		})
	}
}
