package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it under -update.
// On a mismatch it writes testdata/name.got-… for diffing.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gotPath := path + ".got"
		os.WriteFile(gotPath, got, 0o644)
		t.Errorf("%s differs from the golden file; diff -u %s %s", name, path, gotPath)
	}
}

// runCLI runs the command line in-process and returns what the user
// would see: stdout, stderr with the final error line as main prints
// it, and the exit code.
func runCLI(t *testing.T, ctx context.Context, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := Run(ctx, args, strings.NewReader(""), &stdout, &stderr, getenv)
	if err != nil {
		fmt.Fprintf(&stderr, "cutover: %s\n", Message(err))
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

var filePos = regexp.MustCompile(`^cutover: testdata/bad/[a-z0-9-]+\.yaml(:\d+:\d+)?: `)

// TestBadScenarios runs every malformed scenario in testdata/bad and
// checks that each ends with one line naming the file (and, where a
// key is at fault, its line and column), a usage exit code, and no
// panic. The messages are kept in testdata/bad-scenarios.golden.
func TestBadScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 30 {
		t.Fatalf("corpus has %d files, want at least 30", len(files))
	}
	sort.Strings(files)
	var all bytes.Buffer
	for _, f := range files {
		_, stderr, code := runCLI(t, context.Background(), nil, "run", "--scenario", f, "--out", t.TempDir())
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 {
			t.Errorf("%s: %d lines on stderr, want one:\n%s", f, len(lines), stderr)
		}
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want %d (usage)", f, code, ExitUsage)
		}
		if !filePos.MatchString(lines[0]) {
			t.Errorf("%s: %q does not start with the file name", f, lines[0])
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("%s: stderr shows a panic:\n%s", f, stderr)
		}
		fmt.Fprintf(&all, "%s\n", lines[0])
	}
	golden(t, "bad-scenarios.golden", all.Bytes())
}

func TestBadCommandLines(t *testing.T) {
	unwritable := filepath.Join(t.TempDir(), "file")
	os.WriteFile(unwritable, nil, 0o644)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // the whole stderr line after "cutover: "
	}{
		{"no command", nil, nil, ExitUsage, "no command given"},
		{"unknown command", nil, []string{"migrate"}, ExitUsage, `unknown command "migrate" (run 'cutover help')`},
		{"unknown flag", nil, []string{"run", "--rate", "5"}, ExitUsage, "flag provided but not defined: -rate"},
		{"flag without value", nil, []string{"run", "--out"}, ExitUsage, "flag needs an argument: -out"},
		{"stray argument", nil, []string{"run", "extra"}, ExitUsage, `unexpected argument "extra"`},
		{"bad provider", nil, []string{"run", "--provider", "vm"}, ExitUsage,
			`--provider: "vm" is not one of auto, process, docker`},
		{"bad provider from env", map[string]string{"CUTOVER_PROVIDER": "k8s"}, []string{"run"}, ExitUsage,
			`--provider: "k8s" is not one of auto, process, docker`},
		{"missing scenario file", nil, []string{"run", "--scenario", "testdata/nope.yaml"}, ExitUsage,
			"--scenario: reading scenario: open testdata/nope.yaml: no such file or directory"},
		{"scenario is a directory", nil, []string{"run", "--scenario", "testdata"}, ExitUsage,
			"--scenario: reading scenario: read testdata: is a directory"},
		{"out is a file", nil, []string{"run", "--out", unwritable}, ExitError,
			"--out: mkdir " + unwritable + ": not a directory"},
		{"out under a file", nil, []string{"run", "--out", unwritable + "/sub"}, ExitError,
			"--out: mkdir " + unwritable + ": not a directory"},
		{"sessions without --old", nil, []string{"sessions", "--new", "postgres://a@127.0.0.1/x"}, ExitUsage,
			"--old: a database DSN is required (or env CUTOVER_OLD_DSN)"},
		{"sessions with a malformed DSN", nil, []string{"sessions", "--old", "postgres://u:topsecret@h:port/x",
			"--new", "postgres://a@127.0.0.1/x"}, ExitUsage,
			"--old: cannot parse `postgres://u:xxxxx@h:port/x`: invalid port"},
		{"keyword DSN with spaces around =", nil, []string{"sessions", "--old",
			"host=127.0.0.1 port=x user=u password = Hunter2Secret dbname=x", "--new", "postgres://a@127.0.0.1/x"},
			ExitUsage, "--old: cannot parse `[redacted dsn]`: invalid port"},
		{"password with a bare @", map[string]string{"CUTOVER_OLD_DSN": "postgres://trial:p@ss-Word9@127.0.0.1:1/x"},
			[]string{"verify", "--new", "postgres://a@127.0.0.1/x"}, ExitUsage,
			"--old: the user or password holds a bare '@'; percent-encode it as %40"},
		{"one-letter password", nil, []string{"sessions", "--old", "host=127.0.0.1 password=a port=x",
			"--new", "postgres://a@127.0.0.1/x"}, ExitUsage,
			"--old: cannot parse `[redacted dsn]`: invalid port"},
		{"sessions with a negative limit", nil, []string{"sessions", "--old", "postgres://a@127.0.0.1/x",
			"--new", "postgres://a@127.0.0.1/x", "--limit", "-1"}, ExitUsage, "--limit: must not be negative, got -1"},
		{"sessions with an unreachable database", nil, []string{"sessions", "--old", "postgres://u:topsecret@127.0.0.1:1/x",
			"--new", "postgres://a@127.0.0.1:1/x"}, ExitError,
			"old database: failed to connect to `user=u database=x`: " +
				"127.0.0.1:1 (127.0.0.1): dial error: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"missing binary", nil, []string{"run", "--scenario", "testdata/missing-binary.yaml", "--out", t.TempDir()},
			ExitError, "hydra v1.11.10 binary: stat /nonexistent/hydra: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, context.Background(), tt.env, tt.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := strings.TrimPrefix(lines[len(lines)-1], "cutover: ")
			if code != tt.code || last != tt.want {
				t.Errorf("cutover %s: exit %d, %q; want exit %d, %q", strings.Join(tt.args, " "), code, last, tt.code, tt.want)
			}
			if strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic:\n%s", stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	check := func(err error, want int) {
		t.Helper()
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
	check(nil, ExitOK)
	check(errors.New("boom"), ExitError)
	check(usagef(errors.New("bad flag")), ExitUsage)
	check(fmt.Errorf("wrapped: %w", usagef(errors.New("bad flag"))), ExitUsage)
	check(ErrGateFailed, ExitGateFailed)
	check(fmt.Errorf("run: %w", ErrGateFailed), ExitGateFailed)
}

// TestRunPrecedence checks each layer of the run command's precedence:
// flags over environment over defaults.
func TestRunPrecedence(t *testing.T) {
	env := map[string]string{"CUTOVER_OUT": "env-out", "CUTOVER_PROVIDER": "process", "CUTOVER_SCENARIO": "env.yaml"}
	getenv := func(k string) string { return env[k] }
	none := func(string) string { return "" }
	tests := []struct {
		name   string
		flags  runConfig
		getenv Env
		want   runConfig
	}{
		{"defaults", runConfig{}, none, runConfig{scenario: "", out: "cutover-out", provider: "auto"}},
		{"environment over defaults", runConfig{}, getenv, runConfig{scenario: "env.yaml", out: "env-out", provider: "process"}},
		{"flags over environment", runConfig{scenario: "f.yaml", out: "flag-out", provider: "docker"}, getenv,
			runConfig{scenario: "f.yaml", out: "flag-out", provider: "docker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveRun(tt.flags, tt.getenv); got != tt.want {
				t.Errorf("resolveRun(%+v) = %+v, want %+v", tt.flags, got, tt.want)
			}
		})
	}
}

func TestHelpAndScenario(t *testing.T) {
	stdout, _, code := runCLI(t, context.Background(), nil, "help")
	if code != ExitOK || !strings.Contains(stdout, "Exit status: 0 pass, 1 error, 2 usage, 3 a gate failed.") {
		t.Errorf("help: exit %d, stdout:\n%s", code, stdout)
	}
	_, stderr, code := runCLI(t, context.Background(), nil, "run", "-h")
	if code != ExitOK || !strings.Contains(stderr, "-provider") {
		t.Errorf("run -h: exit %d, stderr:\n%s", code, stderr)
	}
	stdout, _, code = runCLI(t, context.Background(), nil, "scenario")
	if code != ExitOK || !strings.Contains(stdout, "name: hydra-1.11-to-2.3") {
		t.Errorf("scenario: exit %d, stdout starts %.80q", code, stdout)
	}
}

func TestClearOutputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"report.json", "report.html", "results-old.bin", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := clearOutputs(dir)
	if err != nil || n != 3 {
		t.Fatalf("clearOutputs = %d, %v; want 3 files removed", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "notes.txt" {
		t.Errorf("left %v, want only notes.txt", left)
	}
}
