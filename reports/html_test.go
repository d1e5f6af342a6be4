package reports

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover-dev/cutover/internal/replay"
	"github.com/cutover-dev/cutover/verify"
)

// chromium runs headless Chromium on a fresh profile with args and
// returns its stdout and stderr. The test fails, never skips, without
// Chromium: CI must install it.
func chromium(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found on PATH; install Debian's package: apt-get install -y chromium (%v)", err)
	}
	// The deadline only guards against a hung browser; it is not a
	// speed assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Chromium starts helper processes: end the whole group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
	}
	return o.String(), e.String()
}

// TestHTMLInChromium opens the HTML report in a real browser: the page
// must load without script or resource errors, hold every plot, and a
// screenshot must show the plots drawn with both sides' colours.
func TestHTMLInChromium(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page

	dom, logs := chromium(t, "--dump-dom", url)
	for _, bad := range []string{"Uncaught", "Failed to load resource", "net::ERR_", "Not allowed to load"} {
		if strings.Contains(logs, bad) {
			t.Errorf("chromium reported %q while loading the report:\n%s", bad, logs)
		}
	}
	if got, want := strings.Count(dom, "<img "), 6; got != want {
		t.Errorf("DOM holds %d images, want %d", got, want)
	}
	if !strings.Contains(dom, "latency_p99_ms_regression") {
		t.Errorf("DOM lacks the gates table")
	}

	shot := filepath.Join(dir, "shot.png")
	chromium(t, "--hide-scrollbars", "--window-size=1100,4200", "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The tables use neither side's colour; only drawn plots do.
	o, n := sideShare(img)
	t.Logf("screenshot %v: %.2f%% old-side pixels, %.2f%% new-side pixels", img.Bounds().Size(), o*100, n*100)
	if o < 0.002 || n < 0.002 {
		t.Errorf("screenshot shows %.4f old-side and %.4f new-side pixels, want both >= 0.002: plots not drawn", o, n)
	}
}

// fullFixture is fixture with every section the model can hold: a
// table with changed column types and more differences than the notes
// show, a count-only table, broken session rows beyond the first ten,
// read endpoints, expected differences, errors on both sides and a
// write window.
func fullFixture() *Report {
	r := fixture()
	r.New.Errors = map[string]int{"introspect: 502 Bad Gateway": 1}
	r.Verify.Tables = append(r.Verify.Tables,
		verify.TableResult{Table: "hydra_oauth2_access", Keyed: true, RowsOld: 50, RowsNew: 49, Missing: 1,
			Changed: 3, ExpectedChanged: 1, Skipped: []string{"requested_at"}, Diffs: []verify.Diff{
				{Key: `["sig-1"]`, Kind: verify.KindMissing},
				{Key: `["sig-2"]`, Kind: verify.KindChanged, Columns: []string{"scope", "subject"}},
				{Key: `["sig-3"]`, Kind: verify.KindChanged, Columns: []string{"scope"}},
				{Key: `["sig-4"]`, Kind: verify.KindChanged, Columns: []string{"session_data"}},
				{Key: `["sig-5"]`, Kind: verify.KindChanged, Columns: []string{"expires_at"}, Expected: true,
					Reason: "v2 stores <UTC> times"},
			}},
		verify.TableResult{Table: "hydra_jwk", RowsOld: -1, RowsNew: 2})
	r.Verify.Missing, r.Verify.Changed, r.Verify.ExpectedChanged = 1, 4, 1
	r.Sessions.Rows = &verify.SessionRowsResult{Checked: 40}
	for i := range 12 {
		r.Sessions.Rows.Broken = append(r.Sessions.Rows.Broken, verify.BrokenSession{
			RequestID: fmt.Sprintf("req-%02d", i), Subject: "alice", ClientID: "web",
			Problems: []string{"access token missing", "refresh token inactive"}})
	}
	r.Sessions.Endpoints = []Endpoint{
		{Name: "userinfo", Noise: []string{"iat"}, Diffs: []verify.FieldDiff{{Path: "a"}, {Path: "b"}, {Path: "c"},
			{Path: "d"}}, Expected: []ExpectedField{{FieldDiff: verify.FieldDiff{Path: "ext"}, Reason: "renamed"}}},
		{Name: "introspect", Error: "502 Bad Gateway"},
	}
	r.Sessions.EndpointDiffs = 4
	r.Sessions.Expected = []Expected{{What: "token_use on introspection", Reason: "added in v2"}}
	after := 0
	r.Window = &Window{DurationS: 20, Requests: 800, LostWrites: []verify.TableCount{
		{Table: "hydra_oauth2_access", Rows: 2}, {Table: "hydra_oauth2_refresh", Rows: 0}},
		RevokedSessions: 1, RevokedByCheck: 3, ActiveBeforeReplay: 3, ActiveAfterReplay: &after,
		Replayed: &replay.Result{Sessions: 3}}
	return r
}

// TestHTMLHasTextSections protects the page against leaving out what
// the text report prints: it lacked the open model line, the migration
// and per-table row tables, the read endpoints, expected differences,
// request errors and the write window. Each case lists lines the page
// must hold in this order, the text report's, and lines it must not.
func TestHTMLHasTextSections(t *testing.T) {
	tests := []struct {
		name   string
		report func() *Report
		want   []string
		absent []string
	}{
		{
			name:   "full",
			report: fullFixture,
			want: []string{
				"<h1>cutover: hydra-1.11-to-2.3 — <span class=\"verdict-fail\">FAIL</span></h1>",
				"<h2>Before and after</h2>",
				"verdicts: Mann-Whitney U and bootstrap (latency)",
				"<p>Open model: before 0 late (max 0ms), 0 dropped; after 12 late (max 1280ms), 3 dropped</p>",
				"<h2>Latency by operation</h2>",
				"<h2>Migration: 412 ms</h2>",
				"<tr><th>Table</th><th>Inserted</th><th>Updated</th><th>Deleted</th></tr>",
				"<tr><td>hydra_client</td><td>0</td><td>4</td><td>0</td></tr>",
				"<h2>Rows: 120 compared, 1 missing, 0 extra, 4 changed; expected: 0 missing, 0 extra, 1 changed</h2>",
				"<tr><th>Table</th><th>Check</th><th>Old</th><th>New</th><th>Missing</th><th>Extra</th>" +
					"<th>Changed</th><th>Notes</th></tr>",
				"<tr class=\"fail\"><td>hydra_client</td><td>keyed</td><td>4</td><td>4</td><td>0</td><td>0</td>" +
					"<td>1</td><td></td></tr>",
				"<td>hydra_oauth2_access</td><td>keyed</td><td>50</td><td>49</td><td>1</td><td>0</td><td>3</td>" +
					"<td>type changed: requested_at; missing [&#34;sig-1&#34;]; " +
					"changed [&#34;sig-2&#34;] (scope, subject); changed [&#34;sig-3&#34;] (scope); … 2 more</td>",
				"<tr><td>hydra_jwk</td><td>count</td><td>-</td><td>2</td><td>-</td><td>-</td><td>-</td><td></td></tr>",
				"<h3>Row differences in hydra_oauth2_access</h3>",
				"<td>yes: v2 stores &lt;UTC&gt; times</td>",
				"<h2>Sessions: 12 checked, 1 mismatched</h2>",
				"<tr><td>session 3</td><td>active</td><td>true</td><td>false</td></tr>",
				"<h2>Session rows: 40 token rows checked, 12 sessions broken</h2>",
				"<td>req-09</td><td>alice</td><td>web</td><td>access token missing; refresh token inactive</td>",
				"<tr><td>… 2 more</td><td></td><td></td><td></td></tr>",
				"<h2>Read endpoints, old against new: 4 flagged differences</h2>",
				"<tr class=\"fail\"><td>userinfo</td><td>4</td><td>1</td><td>1</td><td>a, b, c, … 1 more</td></tr>",
				"<tr class=\"fail\"><td>introspect</td><td>0</td><td>0</td><td>0</td>" +
					"<td>error: 502 Bad Gateway</td></tr>",
				"<h2>Expected differences between the versions</h2>",
				"<tr><td>token_use on introspection</td><td>added in v2</td></tr>",
				"<h2>Request errors</h2>",
				"<tr><td>before</td><td>refresh: timeout</td><td>2</td></tr>",
				"<tr><td>after</td><td>introspect: 502 Bad Gateway</td><td>1</td></tr>",
				"<h2>Write window: the old server served 20s after the clone (800 requests)</h2>",
				"<p>token rows written in the window that the new database lacks: hydra_oauth2_access 2</p>",
				"<p>sessions revoked in the window, still active in the new database: 1</p>",
				"<p>tokens cutover revoked in the window: 3; active on the new server before replay: 3; " +
					"after replaying 3 sessions: 0</p>",
				"<h2>Gates</h2>",
				"<tr class=\"fail\"><td>FAIL</td><td>changed_rows</td>",
				"<h2>Plots</h2>",
			},
			absent: []string{"req-10", "A/A calibration", "no rows written"},
		},
		{
			name:   "fixture",
			report: fixture,
			want: []string{"<p>Open model:", "<h2>Migration: 412 ms</h2>", "<h2>Rows: 120 compared",
				"<h2>Sessions: 12 checked, 1 mismatched</h2>", "<h2>Request errors</h2>", "<h2>Gates</h2>"},
			absent: []string{"A/A calibration", "Row differences", "Session rows", "Read endpoints",
				"Expected differences", "Write window", "<tr><td>after</td>"},
		},
		{
			name: "empty sections",
			report: func() *Report {
				r := fixture()
				r.Old.Errors, r.Migration.Tables, r.Operations = nil, nil, nil
				r.Sessions.Mismatched, r.Sessions.Mismatches = 0, nil
				r.Sessions.Rows = &verify.SessionRowsResult{Checked: 7}
				r.Window = &Window{DurationS: 5, LostWrites: []verify.TableCount{{Table: "hydra_oauth2_access"}}}
				r.Series = nil
				return r
			},
			want: []string{"<h2>Migration: 412 ms</h2>\n<p>no rows written</p>",
				"<h2>Sessions: 12 checked, 0 mismatched</h2>\n<h2>Session rows: 7 token rows checked, " +
					"0 sessions broken</h2>\n<h2>Write window",
				"<p>token rows written in the window that the new database lacks: none</p>",
				"; not replayed (window.replay: false)</p>"},
			absent: []string{"Latency by operation", "Request errors", "<th>Session</th>", "<th>Request</th>",
				"<th>Inserted</th>", "Plots", "<img"},
		},
		{
			name: "partial",
			report: func() *Report {
				r := fixture()
				r.Partial, r.Error, r.Series, r.Gates = true, "loading new server: context canceled", nil, nil
				return r
			},
			want: []string{
				"<title>cutover: hydra-1.11-to-2.3 — FAIL (partial run: loading new server: context canceled)",
				"<span class=\"verdict-fail\">FAIL (partial run: loading new server: context canceled)</span>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := HTML(&b, tt.report()); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			at := 0
			for _, w := range tt.want {
				i := strings.Index(page[at:], w)
				if i < 0 {
					if strings.Contains(page, w) {
						t.Errorf("page holds %q out of the text report's order", w)
					} else {
						t.Errorf("page lacks %q", w)
					}
					continue
				}
				at += i + len(w)
			}
			for _, a := range tt.absent {
				if strings.Contains(page, a) {
					t.Errorf("page holds %q, want it absent", a)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", dataURI.ReplaceAllString(page, "data:image/png;base64,PNG"))
			}
			if tt.name == "full" {
				golden(t, filepath.Join("testdata", "full.html.golden"),
					dataURI.ReplaceAllString(page, "data:image/png;base64,PNG"))
			}
		})
	}
}
