package reports

import (
	"bytes"
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
