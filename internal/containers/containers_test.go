package containers

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The tests need a Docker engine and the images `make images` builds;
// they are skipped without them, and in -short mode.
const (
	pgImage    = "cutover/postgres:15"
	hydraImage = "cutover/hydra:v2.3.0"
)

func engine(t *testing.T, images ...string) *Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a docker engine; skipped in -short mode")
	}
	ctx := context.Background()
	e, err := Connect(ctx)
	if errors.Is(err, ErrNoEngine) {
		unavailable(t, "no docker engine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if ok, err := e.HasImage(ctx, img); err != nil || !ok {
			e.Close()
			unavailable(t, "image %s not built (make images): %v", img, err)
		}
	}
	return e
}

// noLeftovers fails when anything labelled with runID remains.
func noLeftovers(t *testing.T, runID string) {
	t.Helper()
	left, err := Leftovers(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		t.Errorf("left behind: %s %s (run %s)", l.Kind, l.Name, l.RunID)
	}
}

func oneLine(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
}

func TestPostgresCloneOwnerRoleAndCleanup(t *testing.T) {
	e := engine(t, pgImage)
	ctx := context.Background()
	pg, err := e.StartPostgres(ctx, pgImage)
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	if err := pg.CreateDatabase(ctx, "blue"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN("blue"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatal(err)
	}
	if super {
		t.Error("the servers' role is a superuser; want an ordinary owner role")
	}
	conn.Close(ctx)
	if err := pg.Clone(ctx, "blue", "green"); err != nil {
		t.Fatal(err)
	}
	green, err := pgx.Connect(ctx, pg.DSN("green"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := green.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	green.Close(ctx)
	if n != 2 {
		t.Errorf("green holds %d rows, want 2", n)
	}
	left, err := Leftovers(ctx, e.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 {
		t.Errorf("while running, found %v by label, want the container and the network", left)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

func TestMigrationJobExitCode(t *testing.T) {
	e := engine(t, hydraImage)
	defer e.Close()
	ctx := context.Background()
	// "hydra version" exits 0; an unknown command exits non-zero.
	if err := e.Run(ctx, Spec{Name: "version", Role: "test", Image: hydraImage, Cmd: []string{"version"}},
		time.Minute); err != nil {
		t.Errorf("hydra version: %v", err)
	}
	err := e.Run(ctx, Spec{Name: "bad job", Role: "test", Image: hydraImage, Cmd: []string{"no-such-command"}},
		time.Minute)
	oneLine(t, err)
	if !strings.Contains(err.Error(), "bad job: exit code") {
		t.Errorf("got %q, want the job's exit code", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

func TestMissingImage(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	_, err := e.Resolve(ctx, "cutover/hydra:v0.0.0-missing", nil, true, "build it with `make images`")
	oneLine(t, err)
	var ie *ImageError
	if !errors.As(err, &ie) || ie.Image != "cutover/hydra:v0.0.0-missing" {
		t.Errorf("got %v, want an *ImageError naming the image", err)
	}
	if !strings.Contains(err.Error(), "make images") {
		t.Errorf("got %q, want the hint", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

// TestNoPullByDefault checks that an image the engine lacks is an error
// naming it, not a pull. The image names a registry on a closed
// loopback port, so that even a pull by mistake sends nothing away.
func TestNoPullByDefault(t *testing.T) {
	e := engine(t)
	defer e.Close()
	const img = "127.0.0.1:1/cutover-test/none:missing"
	_, err := e.Resolve(context.Background(), img, nil, false, "build it with `make images`")
	oneLine(t, err)
	var ie *ImageError
	if !errors.As(err, &ie) || ie.Image != img || !strings.Contains(err.Error(), "--pull") {
		t.Fatalf("got %v, want an *ImageError naming %s and --pull", err, img)
	}
	if !strings.Contains(ie.Cause, "pulls only with --pull") {
		t.Errorf("cause %q: the engine was asked to pull", ie.Cause)
	}
}

func TestStandIn(t *testing.T) {
	e := engine(t, hydraImage)
	defer e.Close()
	got, err := e.Resolve(context.Background(), "cutover/none:missing", []string{"cutover/none:x", hydraImage}, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if got != hydraImage {
		t.Errorf("resolved to %s, want the stand-in %s", got, hydraImage)
	}
}

func TestExitDuringStartup(t *testing.T) {
	e := engine(t, hydraImage)
	ctx := context.Background()
	// Hydra without a DSN exits at once.
	_, err := e.Start(ctx, Spec{Name: "doomed server", Role: "test", Image: hydraImage,
		Cmd: []string{"serve", "all", "--dev"}, Ports: []string{"4445/tcp"}},
		func(c *Container) (Probe, error) {
			port, err := c.HostPort(ctx, "4445/tcp")
			if err != nil {
				return nil, err
			}
			return HTTPReady("http://127.0.0.1:" + itoa(port) + "/health/ready"), nil
		}, time.Minute)
	oneLine(t, err)
	if !strings.Contains(err.Error(), "doomed server exited during start-up") {
		t.Errorf("got %q, want the exit during start-up", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

// pgSpec runs PostgreSQL, which keeps running; the tests give it a
// probe that never succeeds.
func pgSpec(name string) Spec {
	return Spec{Name: name, Role: "test", Image: pgImage, Cmd: []string{"postgres"},
		Env: map[string]string{"POSTGRES_PASSWORD": "test-only"}}
}

func TestNeverReady(t *testing.T) {
	e := engine(t, pgImage)
	ctx := context.Background()
	_, err := e.Start(ctx, pgSpec("slow server"),
		func(*Container) (Probe, error) {
			return func(context.Context) error { return errors.New("not yet") }, nil
		}, 2*time.Second)
	oneLine(t, err)
	if !strings.Contains(err.Error(), "slow server not ready after 2s") {
		t.Errorf("got %q, want a time-out", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

func TestCancelDuringStartup(t *testing.T) {
	e := engine(t, pgImage)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	_, err := e.Start(ctx, pgSpec("server"),
		func(*Container) (Probe, error) {
			return func(context.Context) error { return errors.New("not yet") }, nil
		}, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	noLeftovers(t, e.RunID)
}

// TestStoppedEngine runs Connect in a child process whose DOCKER_HOST
// names a socket nobody listens on (testcontainers reads the host once
// per process).
func TestStoppedEngine(t *testing.T) {
	if os.Getenv("CUTOVER_TEST_CHILD") == "stopped-engine" {
		_, err := Connect(context.Background())
		if err == nil {
			os.Stdout.WriteString("no error\n")
			os.Exit(0)
		}
		os.Stdout.WriteString(err.Error() + "\n")
		if errors.Is(err, ErrNoEngine) {
			os.Exit(0)
		}
		os.Exit(1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoppedEngine$")
	cmd.Env = append(os.Environ(), "CUTOVER_TEST_CHILD=stopped-engine",
		"DOCKER_HOST=unix://"+t.TempDir()+"/docker.sock", "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	got := strings.TrimSpace(strings.Split(string(out), "\n")[0])
	if !strings.HasPrefix(got, "no docker engine answers") || !strings.Contains(got, "--provider process") {
		t.Errorf("got %q, want one line saying no engine answers and what to do", got)
	}
}

func TestIsLoopback(t *testing.T) {
	for _, c := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"localhost", true},
		{"::1", true},
		{"172.17.0.1", false},
		{"10.0.0.1", false},
		{"", false},
	} {
		if got := isLoopback(c.host); got != c.want {
			t.Errorf("isLoopback(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// unavailable skips a test whose engine or image is missing on a
// developer's machine, and fails it in CI (CI set), where .ci/run
// starts the engine and builds the images: there a skip would hide a
// broken set-up.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format+" (CI is set: .ci/run should have started the engine and built the images)", args...)
	}
	t.Skipf(format, args...)
}

// TestSweepOrphans leaves a run's network behind as a cutover killed
// with SIGKILL would, and checks that the next engine removes it while
// a live run's network stays.
func TestSweepOrphans(t *testing.T) {
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	killed := engine(t)
	killed.owner = dead.Process.Pid
	if _, err := killed.ensureNetwork(ctx); err != nil {
		t.Fatal(err)
	}
	killed.cli.Close() // no Close: its process "died"
	defer RemoveLeftovers(ctx, killed.RunID)

	live := engine(t)
	defer live.Close()
	if _, err := live.ensureNetwork(ctx); err != nil {
		t.Fatal(err)
	}

	next := engine(t)
	defer next.Close()
	removed, err := next.SweepOrphans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another package's docker test may sweep first: what matters is
	// that the killed run is gone and the live one stays.
	t.Logf("swept runs %v", removed)
	if slices.Contains(removed, live.RunID) {
		t.Errorf("removed the live run %s", live.RunID)
	}
	noLeftovers(t, killed.RunID)
	left, err := Leftovers(ctx, live.RunID)
	if err != nil || len(left) != 1 {
		t.Errorf("live run's leftovers = %v (%v), want its network", left, err)
	}
}

func TestOrphaned(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label string
		want  bool
	}{
		{host + "/" + itoa(dead.Process.Pid), true},
		{host + "/" + itoa(os.Getpid()), false},
		{"another-host/" + itoa(dead.Process.Pid), false},
		{"", false},
		{host + "/x", false},
	}
	for _, tt := range tests {
		if got := orphaned(tt.label); got != tt.want {
			t.Errorf("orphaned(%q) = %v, want %v", tt.label, got, tt.want)
		}
	}
}
