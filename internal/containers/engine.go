package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
)

// LabelRun is the label every container and network of a run carries;
// its value is the run id.
const LabelRun = "dev.cutover.run"

// LabelOwner is the label holding "HOST/PID" of the cutover process
// that created a container or network, so that a later run on the same
// host can tell what a killed cutover left behind.
const LabelOwner = "dev.cutover.owner"

// ErrNoEngine is returned by [Connect] when no Docker engine answers.
var ErrNoEngine = errors.New("no docker engine answers")

// loopback is where published ports are bound and the only host the
// stacks are reached on.
var loopback = netip.MustParseAddr("127.0.0.1")

// An Engine is a connection to the Docker engine for one run. It
// remembers what it created; Close removes it.
type Engine struct {
	// RunID is the value of [LabelRun] on everything the engine creates.
	RunID string

	cli *testcontainers.DockerClient
	// owner is the process ID written in [LabelOwner]: this process.
	owner int

	mu         sync.Mutex
	network    *testcontainers.DockerNetwork
	containers []testcontainers.Container
	closed     bool
}

var quiet sync.Once

// setup makes testcontainers safe on a machine without a registry and
// without a default route of ours: the reaper off (its image cannot be
// pulled; Close does its work) and the host pinned to loopback (else
// testcontainers may decide it runs in a container and dial the default
// gateway). Values the user set are kept, and checked by Connect. The
// library's own logger, which writes to stderr, is silenced.
func setup() {
	quiet.Do(func() {
		if _, ok := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !ok {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
		if _, ok := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !ok {
			os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		}
		tclog.SetDefault(tclog.NewNoopLogger())
	})
}

// Connect checks that a Docker engine answers within a few seconds and
// returns an Engine for a new run id. It fails when the engine is not
// there (wrapping [ErrNoEngine]) or when TESTCONTAINERS_HOST_OVERRIDE
// names a host other than a loopback address.
func Connect(ctx context.Context) (*Engine, error) {
	setup()
	if h := os.Getenv("TESTCONTAINERS_HOST_OVERRIDE"); !isLoopback(h) {
		return nil, fmt.Errorf("TESTCONTAINERS_HOST_OVERRIDE=%s: cutover reaches containers on loopback only; "+
			"set it to 127.0.0.1", h)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// testcontainers falls back from an unanswering DOCKER_HOST to the
	// default socket; a host the user named must answer itself.
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if err := pingEnv(pctx); err != nil {
			return nil, noEngine(h, err)
		}
	}
	cli, err := testcontainers.NewDockerClientWithOpts(pctx)
	if err == nil {
		if _, err = cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			cli.Close()
		}
	}
	if err != nil {
		// testcontainers joins the errors of every place it looked;
		// the default socket's own error says more.
		if perr := pingEnv(pctx); perr != nil {
			return nil, noEngine(client.DefaultDockerHost, perr)
		}
		return nil, noEngine("", err)
	}
	return &Engine{RunID: newRunID(), cli: cli, owner: os.Getpid()}, nil
}

// Available reports whether an engine answers, without side effects
// beyond a ping.
func Available(ctx context.Context) bool {
	e, err := Connect(ctx)
	if err != nil {
		return false
	}
	e.cli.Close()
	return true
}

// pingEnv pings the engine that DOCKER_HOST names, or the default
// socket.
func pingEnv(ctx context.Context) error {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Ping(ctx, client.PingOptions{})
	return err
}

func noEngine(host string, err error) error {
	at := ""
	if host != "" {
		at = " at " + host
	}
	return fmt.Errorf("%w%s (%s); start dockerd or use --provider process", ErrNoEngine, at, cause(err))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func newRunID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b)
}

func (e *Engine) labels(role string) map[string]string {
	return map[string]string{LabelRun: e.RunID, "dev.cutover.role": role, LabelOwner: ownerLabel(e.owner)}
}

func ownerLabel(pid int) string {
	host, _ := os.Hostname()
	return host + "/" + strconv.Itoa(pid)
}

// orphaned reports whether an owner label names a process of this host
// that no longer runs. Labels of other hosts, of older versions (none)
// and of live processes are not orphans.
func orphaned(label string) bool {
	host, pid, ok := strings.Cut(label, "/")
	if me, _ := os.Hostname(); !ok || host != me {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	err = syscall.Kill(n, 0)
	return err != nil && !errors.Is(err, syscall.EPERM)
}

// SweepOrphans removes the containers and networks of runs whose
// cutover was killed before it could clean up (SIGKILL, a crash): those
// whose owner label names a process of this host that is gone. Runs of
// live processes, of other hosts and without the label are left alone.
// It returns the run ids it removed.
func (e *Engine) SweepOrphans(ctx context.Context) ([]string, error) {
	runs := map[string]bool{}
	cs, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter("")})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range cs.Items {
		if id := c.Labels[LabelRun]; id != "" && id != e.RunID && orphaned(c.Labels[LabelOwner]) {
			runs[id] = true
		}
	}
	ns, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter("")})
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	for _, n := range ns.Items {
		if id := n.Labels[LabelRun]; id != "" && id != e.RunID && orphaned(n.Labels[LabelOwner]) {
			runs[id] = true
		}
	}
	var removed []string
	var errs []error
	for id := range runs {
		if err := removeByLabel(ctx, e.cli, id); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, id)
	}
	slices.Sort(removed)
	return removed, errors.Join(errs...)
}

// ensureNetwork creates the run's network on first use.
func (e *Engine) ensureNetwork(ctx context.Context) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", errors.New("docker engine: closed")
	}
	if e.network != nil {
		return e.network.Name, nil
	}
	n, err := tcnetwork.New(ctx, tcnetwork.WithLabels(e.labels("network")))
	if err != nil {
		return "", fmt.Errorf("creating network: %w", err)
	}
	e.network = n
	return n.Name, nil
}

// track remembers c for Close. When the engine was closed meanwhile
// (the run was interrupted), c is removed at once.
func (e *Engine) track(c testcontainers.Container) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		go terminate(c)
		return false
	}
	e.containers = append(e.containers, c)
	return true
}

func (e *Engine) forget(c testcontainers.Container) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.containers {
		if x == c {
			e.containers = append(e.containers[:i], e.containers[i+1:]...)
			return
		}
	}
}

func terminate(c testcontainers.Container) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Terminate(ctx, testcontainers.StopTimeout(10*time.Second))
}

// Close stops and removes every container the engine created, then its
// network, whatever the state of ctx: it is meant for a deferred call
// on every path, Ctrl-C included. It is safe to call more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	cs, n := e.containers, e.network
	e.containers, e.network = nil, nil
	e.mu.Unlock()

	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, c := range cs {
		wg.Go(func() {
			if err := terminate(c); err != nil {
				emu.Lock()
				errs = append(errs, fmt.Errorf("removing container: %w", err))
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Whatever escaped tracking (a container created while its start
	// was being cancelled) is found by label.
	if err := removeByLabel(ctx, e.cli, e.RunID); err != nil {
		errs = append(errs, err)
	}
	if n != nil {
		if err := n.Remove(ctx); err != nil && !strings.Contains(err.Error(), "not found") {
			errs = append(errs, fmt.Errorf("removing network: %w", err))
		}
	}
	e.cli.Close()
	return errors.Join(errs...)
}

func runFilter(runID string) client.Filters {
	if runID == "" {
		return make(client.Filters).Add("label", LabelRun)
	}
	return make(client.Filters).Add("label", LabelRun+"="+runID)
}

func removeByLabel(ctx context.Context, cli *testcontainers.DockerClient, runID string) error {
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	var errs []error
	for _, c := range res.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true,
			RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing container %.12s: %w", c.ID, err))
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("listing networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("removing network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// A Leftover is a container or network that carries [LabelRun].
type Leftover struct {
	// Kind is "container" or "network".
	Kind string
	// Name is the container's or network's name.
	Name string
	// RunID is the value of the label.
	RunID string
}

// Leftovers lists the containers and networks labelled with runID, or
// with any run id when runID is empty.
func Leftovers(ctx context.Context, runID string) ([]Leftover, error) {
	e, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer e.cli.Close()
	var out []Leftover
	cs, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range cs.Items {
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Leftover{Kind: "container", Name: name, RunID: c.Labels[LabelRun]})
	}
	ns, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	for _, n := range ns.Items {
		out = append(out, Leftover{Kind: "network", Name: n.Name, RunID: n.Labels[LabelRun]})
	}
	return out, nil
}

// RemoveLeftovers removes what [Leftovers] lists.
func RemoveLeftovers(ctx context.Context, runID string) error {
	e, err := Connect(ctx)
	if err != nil {
		return err
	}
	defer e.cli.Close()
	return removeByLabel(ctx, e.cli, runID)
}

// publish binds each container port on 127.0.0.1: on the same port
// number when fixed is true, else on a port the engine picks.
func publish(ports []string, fixed bool) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		hc.PortBindings = network.PortMap{}
		for _, p := range ports {
			port := network.MustParsePort(p)
			hostPort := "0"
			if fixed {
				hostPort = fmt.Sprint(port.Num())
			}
			hc.PortBindings[port] = []network.PortBinding{{HostIP: loopback, HostPort: hostPort}}
		}
	}
}

// cause returns the network error under err ("connect: connection
// refused"), else err's first line.
func cause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return firstLine(err)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
