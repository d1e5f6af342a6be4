package pipeline

import (
	"context"
	"fmt"

	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
)

// A stack is how a provider starts the database and the servers: as
// local processes or as containers. Sides are 0 (old) and 1 (new).
type stack interface {
	// startDatabase starts the PostgreSQL server.
	startDatabase(ctx context.Context) error
	createDatabase(ctx context.Context, name string) error
	// clone copies database src to a new database dst.
	clone(ctx context.Context, src, dst string) error
	// dsn is the connection string of db from cutover itself.
	dsn(db string) string
	// serverDSN is the connection string of db from a server.
	serverDSN(db string) string
	// migrate runs side's schema migration on cfg.DSN.
	migrate(ctx context.Context, side int, cfg hydra.Config) error
	// serve starts side's server and waits until it is ready.
	serve(ctx context.Context, side int, cfg hydra.Config) (*server, error)
	// close stops and removes everything the stack started.
	close()
}

// A server is a running server of either provider.
type server struct {
	// Name labels the server in errors ("old server (hydra v1.11.10)").
	Name string
	// API reaches the server from cutover.
	API *hydra.API

	stop    func()
	exited  <-chan struct{}
	lastLog func() string
	// stats samples the engine's CPU and memory figures until ctx is
	// done; nil when the provider has none (process).
	stats func(ctx context.Context) ([]containers.StatPoint, error)
}

// Stop stops the server; it is safe to call more than once.
func (s *server) Stop() { s.stop() }

// Exited is closed when the server has ended.
func (s *server) Exited() <-chan struct{} { return s.exited }

// LastLog returns the server's last output line, with secrets scrubbed.
func (s *server) LastLog() string { return s.lastLog() }

// newStack returns the stack for the run's provider.
func (r *run) newStack(ctx context.Context) (stack, error) {
	switch r.o.Provider {
	case "process":
		return r.newProcessStack(ctx)
	case "docker":
		return r.newDockerStack(ctx)
	}
	return nil, fmt.Errorf("provider %q: not available; use process or docker", r.o.Provider)
}

// processStack runs PostgreSQL and the servers as local processes.
type processStack struct {
	pg   *provision.Postgres
	bins [2]string
	srvs []*hydra.Server
}

func (r *run) newProcessStack(ctx context.Context) (stack, error) {
	cache, err := hydra.CacheDir()
	if err != nil {
		return nil, err
	}
	st := &processStack{}
	if st.bins[0], err = r.binary(ctx, cache, r.sc.Old); err != nil {
		return nil, err
	}
	if st.bins[1], err = r.binary(ctx, cache, r.sc.New); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *processStack) startDatabase(ctx context.Context) (err error) {
	p.pg, err = provision.StartPostgres(ctx)
	return err
}

func (p *processStack) createDatabase(ctx context.Context, name string) error {
	return p.pg.CreateDatabase(ctx, name)
}

func (p *processStack) clone(ctx context.Context, src, dst string) error {
	return p.pg.Clone(ctx, src, dst)
}

func (p *processStack) dsn(db string) string       { return p.pg.DSN(db) }
func (p *processStack) serverDSN(db string) string { return p.pg.DSN(db) }

func (p *processStack) migrate(ctx context.Context, side int, cfg hydra.Config) error {
	cfg.Binary = p.bins[side]
	return hydra.Migrate(ctx, cfg)
}

func (p *processStack) serve(ctx context.Context, side int, cfg hydra.Config) (*server, error) {
	cfg.Binary = p.bins[side]
	s, err := hydra.Serve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p.srvs = append(p.srvs, s)
	return &server{Name: s.Name, API: s.API, stop: s.Stop, exited: s.Exited(), lastLog: s.LastLog}, nil
}

func (p *processStack) close() {
	for _, s := range p.srvs {
		s.Stop()
	}
	if p.pg != nil {
		p.pg.Close()
	}
}
