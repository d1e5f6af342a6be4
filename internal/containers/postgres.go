package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/jackc/pgx/v5"
)

// PostgresAlias is the PostgreSQL container's name on the run's
// network.
const PostgresAlias = "postgres"

// A Postgres is a PostgreSQL server running in a container of the run.
// The superuser "postgres" (password-protected) is used only to create
// the owner role and the databases; the servers connect as Role, an
// ordinary role that owns their databases, as in production.
type Postgres struct {
	*Container
	// Port is the TCP port on 127.0.0.1 the server is published on.
	Port int
	// Role is the ordinary role that owns the databases.
	Role string

	superPassword string
	password      string
}

// StartPostgres starts image with the official postgres image's
// interface (POSTGRES_PASSWORD, "postgres ARGS…"), waits until it
// accepts a query on its published port, and creates the owner role.
func (e *Engine) StartPostgres(ctx context.Context, image string) (*Postgres, error) {
	pg := &Postgres{Role: "cutover", superPassword: randomHex(16), password: randomHex(16)}
	s := Spec{
		Name: "postgres", Role: "postgres", Image: image,
		Env: map[string]string{"POSTGRES_PASSWORD": pg.superPassword},
		Cmd: []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=256MB"},
		Ports: []string{"5432/tcp"}, Aliases: []string{PostgresAlias},
		Secrets: []string{pg.superPassword, pg.password},
	}
	c, err := e.Start(ctx, s, func(c *Container) (Probe, error) {
		port, err := c.HostPort(ctx, "5432/tcp")
		if err != nil {
			return nil, err
		}
		pg.Port = port
		return func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, pg.superDSN("postgres"))
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			_, err = conn.Exec(ctx, "SELECT 1")
			return err
		}, nil
	}, 90*time.Second)
	if err != nil {
		return nil, err
	}
	pg.Container = c
	if err := pg.admin(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'",
		pgx.Identifier{pg.Role}.Sanitize(), pg.password)); err != nil {
		c.Stop()
		return nil, fmt.Errorf("creating role: %w", err)
	}
	return pg, nil
}

func (pg *Postgres) superDSN(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", pg.superPassword, pg.Port, db)
}

// DSN returns the connection string for database db as the owner role,
// from the host. It holds a password: never log it.
func (pg *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", pg.Role, pg.password, pg.Port, db)
}

// NetworkDSN returns the connection string for database db as the
// owner role, from another container on the run's network.
func (pg *Postgres) NetworkDSN(db string) string {
	return fmt.Sprintf("postgres://%s:%s@%s:5432/%s?sslmode=disable", pg.Role, pg.password, PostgresAlias, db)
}

// Secrets returns the passwords, for scrubbing output.
func (pg *Postgres) Secrets() []string { return []string{pg.superPassword, pg.password} }

// CreateDatabase creates an empty database owned by the owner role.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) error {
	return pg.admin(ctx, provision.CreateDatabaseSQL(name, "", pg.Role))
}

// Clone creates database dst as a copy of src with CREATE DATABASE …
// TEMPLATE, in the same server; it needs no other session on src.
func (pg *Postgres) Clone(ctx context.Context, src, dst string) error {
	return pg.admin(ctx, provision.CreateDatabaseSQL(dst, src, pg.Role))
}

func (pg *Postgres) admin(ctx context.Context, sql string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, pg.superDSN("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to postgres: %s", scrub(err.Error(), pg.Secrets()))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s", scrub(err.Error(), pg.Secrets()))
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
