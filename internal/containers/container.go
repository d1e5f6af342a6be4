package containers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// A Spec describes a container to run.
type Spec struct {
	// Name labels the container in errors, for example "old server".
	Name string
	// Role is the value of the dev.cutover.role label ("postgres",
	// "old-server", "migrate").
	Role string
	// Image is the image to run; see [Engine.Resolve].
	Image string
	// Cmd is the command after the image's entry point.
	Cmd []string
	// Env is the container's environment.
	Env map[string]string
	// Ports are container ports such as "4445/tcp" published on
	// 127.0.0.1.
	Ports []string
	// FixedPorts publishes each port on the same host port number
	// instead of one the engine picks. Hydra needs this: it builds
	// redirect URLs from its issuer URL, which must be reachable from
	// the host.
	FixedPorts bool
	// Aliases are the container's names on the run's network.
	Aliases []string
	// Secrets are strings scrubbed from any log line quoted in errors.
	Secrets []string
}

// A Container is a running container of the run.
type Container struct {
	// Name labels the container in errors.
	Name string

	e       *Engine
	c       testcontainers.Container
	secrets []string
	exited  chan struct{}
	stop    context.CancelFunc
	once    sync.Once
}

// create creates and starts the container described by s, on the
// run's network, labelled with the run id. The container is tracked
// before it starts, so that Close removes it whatever happens next.
func (e *Engine) create(ctx context.Context, s Spec) (*Container, error) {
	netName, err := e.ensureNetwork(ctx)
	if err != nil {
		return nil, err
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: s.Image, Cmd: s.Cmd, Env: s.Env, Labels: e.labels(s.Role),
			ExposedPorts: s.Ports, Networks: []string{netName},
			NetworkAliases:     map[string][]string{netName: s.Aliases},
			HostConfigModifier: publish(s.Ports, s.FixedPorts),
		},
		Started: false,
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	if c != nil && !isNil(c) {
		e.track(c)
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s container: %w", s.Name, err)
	}
	ct := &Container{Name: s.Name, e: e, c: c, secrets: s.Secrets, exited: make(chan struct{})}
	if err := c.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("starting %s container: %s", s.Name, scrub(firstLine(err), s.Secrets))
	}
	// Exited is closed when the container stops running, for whatever
	// reason; the watch ends with Stop.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ct.stop = cancel
	go func() {
		defer close(ct.exited)
		w := e.cli.ContainerWait(wctx, c.GetContainerID(), client.ContainerWaitOptions{
			Condition: container.WaitConditionNotRunning})
		select {
		case <-w.Result:
		case <-w.Error:
		}
	}()
	return ct, nil
}

// isNil reports whether the interface holds a nil *DockerContainer,
// which GenericContainer returns on some errors.
func isNil(c testcontainers.Container) bool {
	dc, ok := c.(*testcontainers.DockerContainer)
	return ok && dc == nil
}

// Exited is closed when the container has stopped running, or when
// Stop was called.
func (c *Container) Exited() <-chan struct{} { return c.exited }

// ID returns the container's id.
func (c *Container) ID() string { return c.c.GetContainerID() }

// running reports whether the container still runs, and its exit code
// when not.
func (c *Container) running(ctx context.Context) (bool, int, error) {
	st, err := c.c.State(ctx)
	if err != nil {
		return false, 0, err
	}
	return st.Running, st.ExitCode, nil
}

// LastLog returns the container's last non-empty output line, with
// secrets scrubbed, or "" when there is none.
func (c *Container) LastLog() string {
	lines := c.LogTail(1)
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// LogTail returns up to n last non-empty output lines, with secrets
// scrubbed.
func (c *Container) LogTail(n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := c.c.Logs(ctx)
	if err != nil {
		return nil
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, scrub(l, c.secrets))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Stop stops and removes the container (SIGTERM, SIGKILL after 10 s).
// It is safe to call more than once.
func (c *Container) Stop() {
	if c == nil {
		return
	}
	c.once.Do(func() {
		terminate(c.c)
		c.e.forget(c.c)
		if c.stop != nil {
			c.stop()
		}
	})
}

// Probe is one readiness check; nil means ready.
type Probe func(ctx context.Context) error

// waitReady runs probe every 100 ms until it succeeds, the container
// exits, ctx ends or limit passes. The errors quote the container's
// last log line.
func (c *Container) waitReady(ctx context.Context, probe Probe, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := probe(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			return c.exitError(ctx, "during start-up")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (%s): %s", c.Name, limit, firstLine(err), c.LastLog())
		}
	}
}

func (c *Container) exitError(ctx context.Context, when string) error {
	code := -1
	if _, ec, err := c.running(context.WithoutCancel(ctx)); err == nil {
		code = ec
	}
	last := c.LastLog()
	if last == "" {
		last = "no output"
	}
	return fmt.Errorf("%s exited %s with code %d: %s", c.Name, when, code, last)
}

// HTTPReady returns a probe that wants 200 from GET url.
func HTTPReady(url string) Probe {
	client := &http.Client{Timeout: 2 * time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
		}
		return nil
	}
}

// Start starts a long-running container and waits until probe, built
// from the container's mapped ports, succeeds within limit. On error
// the container is removed.
func (e *Engine) Start(ctx context.Context, s Spec, probe func(*Container) (Probe, error),
	limit time.Duration) (_ *Container, err error) {
	c, err := e.create(ctx, s)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	p, err := probe(c)
	if err != nil {
		// A container that exits at once may lose its published ports
		// before the probe reads them: the exit is the news.
		if run, _, serr := c.running(context.WithoutCancel(ctx)); serr == nil && !run {
			return nil, c.exitError(ctx, "during start-up")
		}
		return nil, err
	}
	if err := c.waitReady(ctx, p, limit); err != nil {
		return nil, err
	}
	return c, nil
}

// HostPort returns the 127.0.0.1 port that container port (e.g.
// "5432/tcp") is published on.
func (c *Container) HostPort(ctx context.Context, port string) (int, error) {
	host, err := c.c.Host(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: reading host: %w", c.Name, err)
	}
	if !isLoopback(host) {
		return 0, fmt.Errorf("%s: testcontainers host %s is not a loopback address; "+
			"set TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1", c.Name, host)
	}
	p, err := c.c.MappedPort(ctx, port)
	if err != nil {
		return 0, fmt.Errorf("%s: reading mapped port %s: %w", c.Name, port, err)
	}
	return int(p.Num()), nil
}

// Run runs a one-off container to completion, within limit, and
// removes it. A non-zero exit is an error quoting the last log line.
func (e *Engine) Run(ctx context.Context, s Spec, limit time.Duration) error {
	c, err := e.create(ctx, s)
	if err != nil {
		return err
	}
	defer c.Stop()
	select {
	case <-c.exited:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(limit):
		return fmt.Errorf("%s did not finish within %v: %s", c.Name, limit, c.LastLog())
	}
	_, code, err := c.running(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("%s: reading exit code: %w", c.Name, err)
	}
	if code != 0 {
		return fmt.Errorf("%s: exit code %d: %s", c.Name, code, c.LastLog())
	}
	return nil
}

// A StatPoint is one sample of the engine's figures for a container.
type StatPoint struct {
	// At is the time since sampling began.
	At time.Duration
	// CPUSeconds is the CPU time the container has used in total.
	CPUSeconds float64
	// MemoryBytes is the container's memory use as `docker stats`
	// shows it: usage less the inactive page cache.
	MemoryBytes float64
}

// Stats samples the engine's stats API for the container (about one
// sample a second, the engine's pace) until ctx is done, and returns
// the points gathered.
func (c *Container) Stats(ctx context.Context) ([]StatPoint, error) {
	res, err := c.e.cli.ContainerStats(ctx, c.ID(), client.ContainerStatsOptions{Stream: true})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: container stats: %w", c.Name, err)
	}
	defer res.Body.Close()
	start := time.Now()
	dec := json.NewDecoder(res.Body)
	var pts []StatPoint
	for {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return pts, nil
			}
			return pts, fmt.Errorf("%s: container stats: %w", c.Name, err)
		}
		if s.Read.IsZero() {
			continue
		}
		pts = append(pts, StatPoint{At: time.Since(start), CPUSeconds: float64(s.CPUStats.CPUUsage.TotalUsage) / 1e9,
			MemoryBytes: memory(s.MemoryStats)})
	}
}

// memory computes usage as the docker CLI does: cgroup v2 subtracts
// inactive_file, v1 total_inactive_file.
func memory(m container.MemoryStats) float64 {
	u := m.Usage
	if v, ok := m.Stats["inactive_file"]; ok && v < u {
		u -= v
	} else if v, ok := m.Stats["total_inactive_file"]; ok && v < u {
		u -= v
	}
	return float64(u)
}

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
