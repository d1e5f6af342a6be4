package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// These tests run the whole pipeline on the real stack: PostgreSQL
// from the system's binaries and Hydra v1.11.10 and v2.3.0 built from
// the Go module proxy (built on first use, then cached).

// isolate points TMPDIR at a directory of the test's own, readable by
// the postgres user, so that leftovers of this test can be told from
// anything else on the machine.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", dir)
	return dir
}

// leftovers lists what a run left behind: entries in tmp, processes
// whose command line mentions tmp, and child processes of this test.
func leftovers(t *testing.T, tmp string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		out = append(out, "file "+filepath.Join(tmp, e.Name()))
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	me := os.Getpid()
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(p))
		if pid == me {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		cmd := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(cmd, tmp) {
			out = append(out, fmt.Sprintf("process %d: %s", pid, cmd))
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(p, "stat"))
		// Fields after the parenthesised command name: state, ppid, ...
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			f := strings.Fields(string(stat[i+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(me) {
				out = append(out, fmt.Sprintf("child process %d: %s", pid, cmd))
			}
		}
	}
	return out
}

// awaitNoLeftovers waits briefly for processes to finish exiting, then
// fails the test with whatever is still there.
func awaitNoLeftovers(t *testing.T, tmp string) {
	t.Helper()
	var left []string
	for range 50 {
		if left = leftovers(t, tmp); len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("left behind after the run:\n%s", strings.Join(left, "\n"))
}

// planted returns a secret generator whose secrets are easy to find.
func planted() (func() string, func() []string) {
	var mu sync.Mutex
	var all []string
	return func() string {
			mu.Lock()
			defer mu.Unlock()
			s := fmt.Sprintf("PLANTEDSECRET%04dxxxxxxxxxxxxxxxxxxxxxxxx", len(all))
			all = append(all, s)
			return s
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), all...)
		}
}

// tokenLike matches Hydra access and refresh tokens of both versions
// (two base64url parts of 43 characters, with or without ory_ prefix)
// and DSNs that still carry a password.
var tokenLike = regexp.MustCompile(`ory_[ar]t_[A-Za-z0-9_-]{20}|[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}|postgres://[^:@/\s]+:[^x@][^@\s]*@`)

func checkNoSecrets(t *testing.T, where string, data []byte, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%s contains planted secret %q", where, s)
		}
	}
	if m := tokenLike.Find(data); m != nil {
		t.Errorf("%s contains something like a token or DSN password: %.20q…", where, m)
	}
}

func TestRunEndToEnd(t *testing.T) {
	tmp := isolate(t)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	gen, secrets := planted()
	e := &environ{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, newSecret: gen}
	e.log = newLogger(&stderr)
	err := cmdRun(context.Background(), e, []string{"--scenario", "testdata/e2e.yaml", "--out", out, "--provider", "process"})
	// The check must find the upstream migration defect described at
	// TestMigratedConsentSessionsAreFlagged, and only that: the run
	// ends with "gate failed".
	if !errors.Is(err, ErrGateFailed) {
		t.Fatalf("run: %v, want %v\nstdout:\n%s\nstderr:\n%s", err, ErrGateFailed, stdout.String(), stderr.String())
	}
	awaitNoLeftovers(t, tmp)
	if !strings.Contains(stdout.String(), "e2e-short — FAIL") {
		t.Errorf("stdout does not show the fail verdict:\n%s", stdout.String())
	}

	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		SchemaVersion int    `json:"schema_version"`
		Verdict       string `json:"verdict"`
		Metrics       []struct {
			Name          string
			Before, After *float64
		}
		Migration struct {
			DurationMS int64 `json:"duration_ms"`
			Tables     []struct {
				Table    string
				Inserted int64 `json:"rows_inserted"`
			}
		}
		Verify struct {
			RowsCompared            int64 `json:"rows_compared"`
			Missing, Extra, Changed int64
		}
		Sessions struct {
			Checked, Mismatched int
			Mismatches          []struct{ Session, Field, Before, After string }
			Rows                struct {
				Checked int
				Broken  []struct {
					Subject  string
					Problems []string
				}
			}
		}
		Gates []struct {
			Name   string
			Passed bool
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if rep.SchemaVersion != 1 || rep.Verdict != "fail" {
		t.Errorf("schema_version %d verdict %q, want 1 and fail", rep.SchemaVersion, rep.Verdict)
	}
	want := map[string]bool{"latency_p50_ms": true, "latency_p95_ms": true, "latency_p99_ms": true,
		"rss_bytes": true, "heap_alloc_bytes": true, "goroutines": true, "cpu_cores": true,
		"requests": true, "error_rate": true}
	for _, m := range rep.Metrics {
		if !want[m.Name] {
			continue
		}
		delete(want, m.Name)
		if m.Before == nil || m.After == nil {
			t.Errorf("metric %s has no figure on one side", m.Name)
		}
		if m.Name == "requests" && m.Before != nil && m.After != nil && (*m.Before != 120 || *m.After != 120) {
			t.Errorf("requests %v -> %v, want 120 on each side (20/s for 6s)", *m.Before, *m.After)
		}
	}
	if len(want) > 0 {
		t.Errorf("metrics missing from report.json: %v", want)
	}
	checkMigratedConsentFlagged(t, rep.Sessions.Checked, rep.Sessions.Mismatched, rep.Sessions.Mismatches)
	// The same defect at the database level: every active migrated
	// authorization-code session points at a flow without its subject.
	if rep.Sessions.Rows.Checked == 0 || len(rep.Sessions.Rows.Broken) == 0 {
		t.Errorf("session rows: %d checked, %d broken; want the migrated sessions flagged",
			rep.Sessions.Rows.Checked, len(rep.Sessions.Rows.Broken))
	}
	for _, b := range rep.Sessions.Rows.Broken {
		if len(b.Problems) != 1 || b.Problems[0] != "consent flow has another subject" {
			t.Errorf("session of %s: problems %q, want only the flow defect", b.Subject, b.Problems)
		}
	}
	if rep.Verify.RowsCompared == 0 || rep.Verify.Missing+rep.Verify.Extra+rep.Verify.Changed != 0 {
		t.Errorf("verify %+v, want rows compared and no differences", rep.Verify)
	}
	flows := int64(-1)
	for _, tw := range rep.Migration.Tables {
		if tw.Table == "hydra_oauth2_flow" {
			flows = tw.Inserted
		}
	}
	if flows <= 0 {
		t.Errorf("migration inserted %d rows into hydra_oauth2_flow, want the seeded flows", flows)
	}
	for _, g := range rep.Gates {
		// The flow defect shows twice: in the server's answers and in
		// the token rows' flows.
		if g.Passed == (g.Name == "session_mismatches" || g.Name == "broken_sessions") {
			t.Errorf("gate %s passed=%v; want only session_mismatches and broken_sessions to fail",
				g.Name, g.Passed)
		}
	}
	for _, f := range []string{"report.md", "report.html", "junit.xml", "samples.json", "results-old.bin",
		"results-new.bin"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	if page, err := os.ReadFile(filepath.Join(out, "report.html")); err == nil {
		checkPlotsShowBothSides(t, page)
	}

	// Secrets: none of the planted secrets, no token, no DSN password,
	// in stdout, stderr or any file of the run.
	checkNoSecrets(t, "stdout", stdout.Bytes(), secrets())
	checkNoSecrets(t, "stderr", stderr.Bytes(), secrets())
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		checkNoSecrets(t, path, b, secrets())
		return nil
	})
	if len(secrets()) < 3 {
		t.Errorf("only %d secrets were planted; the search above proves little", len(secrets()))
	}
}

// plotSrc matches the images report.html embeds.
var plotSrc = regexp.MustCompile(`<img [^>]*src="data:image/png;base64,([^"]+)"`)

// checkPlotsShowBothSides decodes every plot of a run's report.html and
// checks that each one draws both sides' data in their colours (the
// old side blue, the new side orange): a plot whose series came out
// empty on one side shows that side in its legend only, far fewer
// pixels than a line across the plot.
func checkPlotsShowBothSides(t *testing.T, page []byte) {
	t.Helper()
	sides := [2]color.RGBA{{R: 31, G: 119, B: 180}, {R: 230, G: 115, B: 0}}
	near := func(c color.Color, want color.RGBA) bool {
		r, g, b, _ := c.RGBA()
		d := func(a uint32, w uint8) int { return abs(int(a>>8) - int(w)) }
		return d(r, want.R) < 40 && d(g, want.G) < 40 && d(b, want.B) < 40
	}
	ms := plotSrc.FindAllSubmatch(page, -1)
	if got, want := len(ms), 6; got != want {
		t.Errorf("report.html embeds %d plots, want %d", got, want)
	}
	for i, m := range ms {
		raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(m[1])))
		if err != nil {
			t.Errorf("plot %d: %v", i, err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("plot %d: %v", i, err)
			continue
		}
		var counts [2]int
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				for s, c := range sides {
					if near(img.At(x, y), c) {
						counts[s]++
					}
				}
			}
		}
		n := float64(b.Dx() * b.Dy())
		t.Logf("plot %d: %.2f%% old-side pixels, %.2f%% new-side pixels", i, 100*float64(counts[0])/n,
			100*float64(counts[1])/n)
		for s, name := range []string{"old", "new"} {
			if float64(counts[s]) < 0.001*n {
				t.Errorf("plot %d draws %d %s-side pixels of %.0f, want at least 0.1%%: that side's data is missing",
					i, counts[s], name, n)
			}
		}
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// trigger cancels a context once a given text has been written to it.
type trigger struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	text   string
	cancel context.CancelFunc
	fired  atomic.Bool
	delay  time.Duration // after the text; 300ms when zero
}

func (w *trigger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.fired.Load() && strings.Contains(w.buf.String(), w.text) {
		w.fired.Store(true)
		// Let the stage get under way before interrupting it.
		d := w.delay
		if d == 0 {
			d = 300 * time.Millisecond
		}
		time.AfterFunc(d, w.cancel)
	}
	return len(p), nil
}

func TestRunInterruptedLeavesNothing(t *testing.T) {
	for _, stage := range []string{
		"starting postgres and the old server",
		"seeding the old server",
		"loading the old server",
		"cloning blue to green",
		"starting the new server",
		"loading the new server",
	} {
		t.Run(strings.ReplaceAll(stage, " ", "_"), func(t *testing.T) {
			tmp := isolate(t)
			out := filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout bytes.Buffer
			stderr := &trigger{text: stage, cancel: cancel}
			e := &environ{stdout: &stdout, stderr: stderr, getenv: os.Getenv, log: newLogger(stderr)}
			err := cmdRun(ctx, e, []string{"--scenario", "testdata/e2e.yaml", "--out", out, "--provider", "process"})
			if !stderr.fired.Load() {
				t.Fatalf("stage %q never started (run: %v); stderr:\n%s", stage, err, stderr.buf.String())
			}
			if err == nil || ExitCode(err) != ExitError {
				t.Fatalf("interrupted run returned %v (exit %d), want a runtime error", err, ExitCode(err))
			}
			awaitNoLeftovers(t, tmp)
			data, rerr := os.ReadFile(filepath.Join(out, "report.json"))
			if rerr != nil {
				t.Fatalf("no partial report: %v", rerr)
			}
			var rep struct {
				Partial bool   `json:"partial"`
				Error   string `json:"error"`
				Verdict string `json:"verdict"`
				Verify  struct {
					RowsCompared int64 `json:"rows_compared"`
				}
				Sessions struct {
					Checked int
					Rows    *struct{ Checked int }
				}
				Metrics []struct {
					Name  string
					After *float64
				}
				Gates []struct {
					Name   string
					Passed bool
					Detail string
				}
			}
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatalf("report.json: %v", err)
			}
			if !rep.Partial || rep.Verdict != "fail" {
				t.Errorf("report partial=%v verdict=%q, want partial fail", rep.Partial, rep.Verdict)
			}
			if !strings.HasPrefix(rep.Error, "interrupted during: ") {
				t.Errorf("report error %q, want it to say the run was interrupted and where", rep.Error)
			}
			// The interrupt lands a moment after the stage starts, and a
			// fast machine may be a stage further by then; what must hold
			// is that no gate passes on figures the run never measured.
			loadedNew := false
			for _, m := range rep.Metrics {
				if m.Name == "latency_p95_ms" && m.After != nil {
					loadedNew = true
				}
			}
			for _, g := range rep.Gates {
				if !g.Passed {
					continue
				}
				measured := loadedNew
				switch g.Name {
				case "missing_rows", "extra_rows", "changed_rows", "dropped_columns":
					measured = rep.Verify.RowsCompared > 0
				case "broken_sessions":
					measured = rep.Sessions.Rows != nil
				case "session_mismatches":
					measured = rep.Sessions.Checked > 0
				}
				if !measured {
					t.Errorf("gate %s passed in a run interrupted at %q without its figures: %s",
						g.Name, stage, g.Detail)
				}
			}
		})
	}
}

// serverPid returns the pid of the running "hydra serve" child of this
// test, or 0.
func serverPid(t *testing.T) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		stat, _ := os.ReadFile(filepath.Join(p, "stat"))
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		if bytes.Contains(cmdline, []byte("serve\x00all")) {
			pid, _ := strconv.Atoi(filepath.Base(p))
			return pid
		}
	}
	return 0
}

// TestServerFailsDuringLoad crashes or freezes the old server while it
// is under load or being seeded and checks that the run ends on its own
// with an error naming the stage and the server, and leaves nothing
// behind.
func TestServerFailsDuringLoad(t *testing.T) {
	for _, tt := range []struct {
		name  string
		stage string // the log line after which the signal is sent
		delay time.Duration
		sig   syscall.Signal
		want  []string // in the error
	}{
		// 2.5 s in, the load's state is prepared and vegeta is sending.
		{"crash under load", "loading the old server", 2500 * time.Millisecond, syscall.SIGKILL,
			[]string{"loading old server", "old server (hydra v1.11.10)", "exited"}},
		{"hang under load", "loading the old server", 2500 * time.Millisecond, syscall.SIGSTOP,
			[]string{"loading old server", "old server (hydra v1.11.10)", "stopped answering its health check"}},
		{"hang while seeding", "seeding the old server", time.Millisecond, syscall.SIGSTOP,
			[]string{"seeding", "old server (hydra v1.11.10)", "stopped answering its health check"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := isolate(t)
			out := filepath.Join(t.TempDir(), "out")
			var stdout bytes.Buffer
			stderr := &trigger{text: tt.stage, delay: tt.delay, cancel: func() {
				if pid := serverPid(t); pid > 0 {
					syscall.Kill(pid, tt.sig)
				}
			}}
			e := &environ{stdout: &stdout, stderr: stderr, getenv: os.Getenv, log: newLogger(stderr)}
			err := cmdRun(context.Background(), e, []string{"--scenario", "testdata/e2e.yaml", "--out", out, "--provider", "process"})
			if err == nil || ExitCode(err) != ExitError {
				t.Fatalf("run returned %v (exit %d), want a runtime error", err, ExitCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			awaitNoLeftovers(t, tmp)
		})
	}
}

// checkMigratedConsentFlagged is the regression check for an upstream
// defect of the Hydra 1.11.10 → 2.3.0 migration that cutover exists to
// catch. Hydra 1.11 keeps a login's subject in
// hydra_oauth2_authentication_request_handled and writes '{}' into its
// error column on success; the 2.x migration that merges the login and
// consent tables into hydra_oauth2_flow reads the subject from the
// request table (empty) and treats any non-NULL error as a failed login
// (state 128). Tokens keep working, but on 2.3 the admin API no longer
// lists the migrated consent sessions, and revoking a subject's consent
// leaves the tokens of a migrated session active — on 1.11 the same
// revocation ends them. The e2e scenario seeds 4 sessions and 4
// client_credentials tokens, 2 of them revoked.
func checkMigratedConsentFlagged(t *testing.T, checked, mismatched int, ms []struct{ Session, Field, Before, After string }) {
	t.Helper()
	// 12 seeded tokens introspected, 4 consent lists, 4 refreshes, the
	// revocations of active access tokens, 1 consent revocation.
	if checked < 21 {
		t.Errorf("%d session checks, want at least 21", checked)
	}
	want := map[string]bool{
		"consent/user-0 consent sessions": true, "consent/user-1 consent sessions": true,
		"consent/user-2 consent sessions": true, "consent/user-3 consent sessions": true,
		"consent/user-0 token after consent revoked": true,
	}
	for _, m := range ms {
		key := m.Session + " " + m.Field
		if !want[key] {
			t.Errorf("unexpected session mismatch: %+v", m)
			continue
		}
		delete(want, key)
		if m.Field == "consent sessions" && m.After != "none" {
			t.Errorf("%s: new server lists %q, want none (the defect)", m.Session, m.After)
		}
		if m.Field == "token after consent revoked" && (m.Before != "inactive" || m.After != "still active") {
			t.Errorf("%s: %q -> %q, want inactive -> still active (the defect)", m.Session, m.Before, m.After)
		}
	}
	for k := range want {
		t.Errorf("mismatch %q was not reported", k)
	}
	if mismatched != 5 {
		t.Errorf("%d failed session checks, want 5 (four consent lists, one consent revocation)", mismatched)
	}
}

// TestBrokenSessionsAreReported removes the token rows of two sessions
// from the new database after the migration, behind the server's back,
// and checks that the session checks name exactly those sessions and
// that verify counts the missing rows.
func TestBrokenSessionsAreReported(t *testing.T) {
	tmp := isolate(t)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	e := &environ{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, log: newLogger(&stderr)}
	err := cmdRun(context.Background(), e, []string{"--scenario", "testdata/e2e-broken.yaml", "--out", out, "--provider", "process"})
	if !errors.Is(err, ErrGateFailed) {
		t.Fatalf("run: %v, want %v\nstderr:\n%s", err, ErrGateFailed, stderr.String())
	}
	awaitNoLeftovers(t, tmp)
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Verify   struct{ Missing int64 }
		Sessions struct {
			Mismatches []struct{ Session, Field, Before, After string }
			Rows       struct {
				Broken []struct {
					Subject  string
					Problems []string
				}
			}
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	broken := map[string]bool{}
	for _, m := range rep.Sessions.Mismatches {
		if m.Field == "active" || strings.Contains(m.Field, "refresh") {
			broken[m.Session] = true
		}
	}
	for _, id := range []string{"session-1/access", "session-2/refresh"} {
		if !broken[id] {
			t.Errorf("session %s was broken but not reported; mismatches: %+v", id, rep.Sessions.Mismatches)
		}
	}
	for id := range broken {
		if id != "session-1/access" && id != "session-2/refresh" {
			t.Errorf("session %s reported broken, but it was not touched", id)
		}
	}
	rowProblems := map[string]string{}
	for _, b := range rep.Sessions.Rows.Broken {
		rowProblems[b.Subject] += strings.Join(b.Problems, "; ")
	}
	if !strings.Contains(rowProblems["user-1"], "access token row missing") ||
		!strings.Contains(rowProblems["user-2"], "refresh token row missing") {
		t.Errorf("session rows do not name the deleted rows: %q", rowProblems)
	}
	if rep.Verify.Missing < 2 {
		t.Errorf("verify counted %d missing rows, want at least the 2 deleted", rep.Verify.Missing)
	}
}

// TestWriteWindowRevocationsReplayed keeps the old server serving after
// the clone and revokes tokens there: the new server must take them for
// active before the replay (the gap a blue-green migration opens) and
// for inactive after it.
func TestWriteWindowRevocationsReplayed(t *testing.T) {
	tmp := isolate(t)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	e := &environ{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, log: newLogger(&stderr)}
	err := cmdRun(context.Background(), e, []string{"--scenario", "testdata/e2e-window.yaml", "--out", out, "--provider", "process"})
	if err != nil && !errors.Is(err, ErrGateFailed) {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	awaitNoLeftovers(t, tmp)
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Window *struct {
			Requests   int
			LostWrites []struct {
				Table string
				Rows  int64
			} `json:"lost_writes"`
			RevokedSessions    int  `json:"revoked_sessions"`
			RevokedByCheck     int  `json:"revoked_by_check"`
			ActiveBeforeReplay int  `json:"active_before_replay"`
			ActiveAfterReplay  *int `json:"active_after_replay"`
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	w := rep.Window
	if w == nil {
		t.Fatalf("report has no window section:\n%s", stdout.String())
	}
	if w.RevokedByCheck != 3 || w.ActiveBeforeReplay != 3 {
		t.Errorf("revoked %d in the window, %d active on the new server before replay; want 3 and 3",
			w.RevokedByCheck, w.ActiveBeforeReplay)
	}
	if w.ActiveAfterReplay == nil || *w.ActiveAfterReplay != 0 {
		t.Errorf("active after replay = %v, want 0", w.ActiveAfterReplay)
	}
	if w.RevokedSessions < 3 {
		t.Errorf("verify found %d sessions revoked in the window, want at least the 3 revoked", w.RevokedSessions)
	}
	lost := int64(0)
	for _, tc := range w.LostWrites {
		lost += tc.Rows
	}
	if w.Requests == 0 || lost == 0 {
		t.Errorf("window sent %d requests and lost %d token rows; want traffic and lost writes", w.Requests, lost)
	}
}

// TestRunWithAMappingMistake runs a scenario whose mapping ignores a
// column no table has: the mistake shows only once the databases exist,
// and must end the run as bad input (exit 2) in one line, with nothing
// left behind.
func TestRunWithAMappingMistake(t *testing.T) {
	tmp := isolate(t)
	y, err := os.ReadFile("testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(y), "ignore: [pk]", "ignore: [pk, nosuchcol]", 1)
	if bad == string(y) {
		t.Fatal("testdata/e2e.yaml has no ignore: [pk]")
	}
	sc := filepath.Join(t.TempDir(), "bad-mapping.yaml")
	if err := os.WriteFile(sc, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &environ{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, log: newLogger(&stderr)}
	err = cmdRun(context.Background(), e, []string{"--scenario", sc, "--out", filepath.Join(t.TempDir(), "out"),
		"--provider", "process"})
	if got := ExitCode(err); got != ExitUsage {
		t.Fatalf("exit %d (%v), want %d; stderr:\n%s", got, err, ExitUsage, stderr.String())
	}
	msg := Message(err)
	if want := "verify mapping: table hydra_client: ignore: column nosuchcol is in neither table"; !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("message %q, want one line containing %q", msg, want)
	}
	awaitNoLeftovers(t, tmp)
}
