package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/scenarios"
)

// logWatch is a slog handler that remembers the run id the docker
// provider logs and calls onMsg for every message.
type logWatch struct {
	mu    sync.Mutex
	runID string
	onMsg func(string)
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "run_id" {
			w.mu.Lock()
			w.runID = a.Value.String()
			w.mu.Unlock()
		}
		return true
	})
	if w.onMsg != nil {
		w.onMsg(r.Message)
	}
	return nil
}

func (w *logWatch) id() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runID
}

// shortScenario is the flagship with a shorter load, to keep the test
// within a minute or two.
func shortScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	y := string(scenarios.DefaultYAML())
	for old, new := range map[string]string{"duration: 55s": "duration: 8s", "warmup: 5s": "warmup: 2s",
		"sessions: 12": "sessions: 4"} {
		if !strings.Contains(y, old) {
			t.Fatalf("flagship scenario has no %q", old)
		}
		y = strings.Replace(y, old, new, 1)
	}
	sc, err := scenarios.Parse("short.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func needDocker(t *testing.T, sc *scenarios.Scenario) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the whole pipeline in containers; skipped in -short mode")
	}
	if err := DockerReady(context.Background(), sc, Images{}); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("docker provider not ready: %v (CI is set: .ci/run should have started the engine and built the images)", err)
		}
		t.Skipf("docker provider not ready: %v", err)
	}
}

func noLeftovers(t *testing.T, runID string) {
	t.Helper()
	if runID == "" {
		t.Fatal("the run logged no run id")
	}
	left, err := containers.Leftovers(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		t.Errorf("left behind: %s %s", l.Kind, l.Name)
	}
}

func TestDockerRun(t *testing.T) {
	sc := shortScenario(t)
	needDocker(t, sc)
	w := &logWatch{}
	rep, err := Run(context.Background(), Options{Scenario: sc, OutDir: t.TempDir(), Provider: "docker",
		Log: slog.New(w)})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.Partial || rep.Old.Provider != "docker" {
		t.Errorf("report partial=%v provider=%q, want a whole docker run", rep.Partial, rep.Old.Provider)
	}
	if rep.Verify.Missing != 0 {
		t.Errorf("missing rows %d, want 0", rep.Verify.Missing)
	}
	// The only session mismatches are those of the upstream flow-merge
	// defect (see the flagship scenario and internal/cli's e2e test).
	for _, m := range rep.Sessions.Mismatches {
		if m.Field != "consent sessions" && m.Field != "token after consent revoked" {
			t.Errorf("unexpected session mismatch %+v", m)
		}
	}
	if rep.Sessions.Mismatched == 0 {
		t.Error("no session mismatch: the known flow-merge defect was not found")
	}
	for _, name := range []string{"container_cpu_cores", "container_memory_bytes", "cpu_cores", "rss_bytes"} {
		m, ok := compare.Find(rep.Metrics, name)
		if !ok {
			t.Errorf("report has no %s", name)
			continue
		}
		if math.IsNaN(m.Before) || math.IsNaN(m.After) || m.Before <= 0 || m.After <= 0 {
			t.Errorf("%s = %v before, %v after; want figures from both sides", name, m.Before, m.After)
		}
	}
	noLeftovers(t, w.id())
}

func TestDockerInterruptedDuringLoad(t *testing.T) {
	sc := shortScenario(t)
	needDocker(t, sc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &logWatch{onMsg: func(msg string) {
		if msg == "loading the old server" {
			cancel()
		}
	}}
	rep, err := Run(ctx, Options{Scenario: sc, OutDir: t.TempDir(), Provider: "docker", Log: slog.New(w)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if rep == nil || !rep.Partial {
		t.Error("want a partial report")
	}
	noLeftovers(t, w.id())
}

func TestDockerMissingImage(t *testing.T) {
	sc := shortScenario(t)
	needDocker(t, sc)
	w := &logWatch{}
	_, err := Run(context.Background(), Options{Scenario: sc, OutDir: t.TempDir(), Provider: "docker",
		Images: Images{New: "cutover/hydra:v0.0.0-missing"}, Log: slog.New(w)})
	if err == nil {
		t.Fatal("got no error")
	}
	want := "image cutover/hydra:v0.0.0-missing: not built; build local images with `make images`"
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q, want one line starting %q", err, want)
	}
	noLeftovers(t, w.id())
}

func TestDockerServerExitsDuringStartup(t *testing.T) {
	sc := shortScenario(t)
	needDocker(t, sc)
	// An in-memory DSN makes Hydra (built without SQLite) exit at once;
	// the scenario's env is applied after cutover's own.
	sc.Old.Env = map[string]string{"DSN": "memory"}
	w := &logWatch{}
	_, err := Run(context.Background(), Options{Scenario: sc, OutDir: t.TempDir(), Provider: "docker",
		Log: slog.New(w)})
	if err == nil {
		t.Fatal("got no error")
	}
	want := "old server (hydra v1.11.10) exited during start-up with code"
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q, want one line starting %q", err, want)
	}
	noLeftovers(t, w.id())
}

// BenchmarkDockerStackStartup measures the start-up of one stack with
// the docker provider: the PostgreSQL container until it answers a
// query, the blue database, the migration container, and the old
// server container until both its listeners are ready; then removal.
func BenchmarkDockerStackStartup(b *testing.B) {
	sc := scenarios.Default()
	if err := DockerReady(context.Background(), sc, Images{}); err != nil {
		b.Skipf("docker provider not ready: %v", err)
	}
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		r := &run{o: Options{Provider: "docker"}, sc: sc, log: slog.New(slog.DiscardHandler)}
		st, err := r.newStack(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cfg := hydra.Config{Name: "old server", Version: sc.Old.Version, SystemSecret: randomSecret(),
			Env: sc.Old.Env}
		err = st.startDatabase(ctx)
		if err == nil {
			err = st.createDatabase(ctx, "blue")
		}
		if err == nil {
			cfg.DSN = st.serverDSN("blue")
			err = st.migrate(ctx, 0, cfg)
		}
		if err == nil {
			_, err = st.serve(ctx, 0, cfg)
		}
		st.close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
