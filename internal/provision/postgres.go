package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrPostgresNotFound is returned when no PostgreSQL server binaries
// can be found.
var ErrPostgresNotFound = errors.New("postgresql server binaries (initdb, postgres) not found; " +
	"install them (Debian: apt-get install postgresql) or set CUTOVER_PG_BIN to their directory")

// A Postgres is a PostgreSQL server running as a local process in a
// temporary directory, on a free loopback port. Close stops it and
// removes the directory.
type Postgres struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Role is the ordinary role that owns the databases cutover creates.
	Role string

	password string
	dir      string
	bin      string
	cmd      *exec.Cmd
	exited   chan struct{}
	logs     *tail
	cred     *syscall.Credential
}

// FindPostgres returns the directory holding initdb and postgres:
// CUTOVER_PG_BIN when set, else the newest /usr/lib/postgresql/*/bin,
// else the directory of initdb on PATH.
func FindPostgres() (string, error) {
	if d := os.Getenv("CUTOVER_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("CUTOVER_PG_BIN=%s: no initdb there", d)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrPostgresNotFound
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartPostgres initialises a cluster in a new temporary directory and
// starts it on a free port of 127.0.0.1. It waits until the server
// accepts a query. When cutover runs as root, the server runs as the
// operating-system user "postgres", since PostgreSQL refuses root.
func StartPostgres(ctx context.Context) (_ *Postgres, err error) {
	bin, err := FindPostgres()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{bin: bin, Role: "cutover", password: randomHex(16), logs: newTail(40)}
	// A cutover killed outright leaves its cluster directory behind;
	// the next one removes it. Failing to is no reason not to start.
	SweepStale("")
	pg.dir, err = os.MkdirTemp("", "cutover-pg-")
	if err != nil {
		return nil, fmt.Errorf("creating postgres directory: %w", err)
	}
	defer func() {
		if err != nil {
			pg.Close()
		}
	}()
	if err := markOwner(pg.dir); err != nil {
		return nil, fmt.Errorf("creating postgres directory: %w", err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root needs the operating-system user \"postgres\" " +
				"to run the database (PostgreSQL refuses root); create it or run cutover as a normal user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("handing postgres directory to user postgres: %w", err)
		}
	}
	data := filepath.Join(pg.dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred, Setpgid: true}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLine(out))
	}
	if pg.Port, err = FreePort(); err != nil {
		return nil, err
	}
	pg.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(pg.Port), "-c", "listen_addresses=127.0.0.1",
		// No Unix socket: its path would be limited to about 100
		// characters, which a long TMPDIR exceeds.
		"-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=256MB")
	pg.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pg.cmd.Stdout, pg.cmd.Stderr = pg.logs, pg.logs
	if err := pg.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	pg.exited = make(chan struct{})
	go func() { pg.cmd.Wait(); close(pg.exited) }()

	if err := pg.waitReady(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	conn, err := pg.connect(ctx, "postgres", "postgres")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' CREATEDB",
		pgx.Identifier{pg.Role}.Sanitize(), pg.password))
	if err != nil {
		return nil, fmt.Errorf("creating role: %w", err)
	}
	return pg, nil
}

func (pg *Postgres) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := pg.connect(ctx, "postgres", "postgres")
		if err == nil {
			_, err = c.Exec(ctx, "SELECT 1")
			c.Close(ctx)
			if err == nil {
				return nil
			}
		}
		select {
		case <-pg.exited:
			return fmt.Errorf("postgres exited during start-up: %s", pg.logs.Cause())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %v: %s", limit, pg.logs.Cause())
		}
	}
}

func (pg *Postgres) connect(ctx context.Context, user, db string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(cctx, fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", user, pg.Port, db))
}

// DSN returns the connection string for database db as the owner role.
// It holds a password: never log it; use [Redact].
func (pg *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", pg.Role, pg.password, pg.Port, db)
}

// CreateDatabase creates an empty database owned by the owner role.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) error {
	return pg.admin(ctx, CreateDatabaseSQL(name, "", pg.Role))
}

// Clone creates database dst as a copy of src with CREATE DATABASE …
// TEMPLATE, which needs no other session connected to src.
func (pg *Postgres) Clone(ctx context.Context, src, dst string) error {
	return pg.admin(ctx, CreateDatabaseSQL(dst, src, pg.Role))
}

func (pg *Postgres) admin(ctx context.Context, sql string) error {
	conn, err := pg.connect(ctx, "postgres", "postgres")
	if err != nil {
		return fmt.Errorf("connecting to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return err
	}
	return nil
}

// Close stops the server (fast shutdown, then SIGKILL after 10 s) and
// removes its directory. It is safe to call more than once.
func (pg *Postgres) Close() error {
	if pg.cmd != nil && pg.cmd.Process != nil && pg.exited != nil {
		pg.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-pg.exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pg.cmd.Process.Pid, syscall.SIGKILL)
			<-pg.exited
		}
		pg.cmd = nil
	}
	if pg.dir != "" {
		err := os.RemoveAll(pg.dir)
		pg.dir = ""
		return err
	}
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CloneLive copies database src to a new database dst with pg_dump and
// pg_restore, as the owner role, while other sessions (a running
// server) stay connected to src. The copy is of one consistent
// snapshot; what is written to src afterwards is not in dst.
func (pg *Postgres) CloneLive(ctx context.Context, src, dst string) error {
	if err := pg.CreateDatabase(ctx, dst); err != nil {
		return err
	}
	conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(pg.Port), "-U", pg.Role}
	dump := exec.CommandContext(ctx, filepath.Join(pg.bin, "pg_dump"), append(conn, "-Fc", src)...)
	restore := exec.CommandContext(ctx, filepath.Join(pg.bin, "pg_restore"), append(conn, "--no-owner", "-d", dst)...)
	// The cluster trusts loopback connections; no password is passed.
	pipe, err := dump.StdoutPipe()
	if err != nil {
		return fmt.Errorf("pg_dump: %w", err)
	}
	restore.Stdin = pipe
	dumpErr, restoreErr := newTail(5), newTail(5)
	dump.Stderr, restore.Stderr = dumpErr, restoreErr
	if err := dump.Start(); err != nil {
		return fmt.Errorf("pg_dump: %w", err)
	}
	if err := restore.Run(); err != nil {
		dump.Wait()
		return fmt.Errorf("pg_restore: %w: %s", err, restoreErr.Cause())
	}
	if err := dump.Wait(); err != nil {
		return fmt.Errorf("pg_dump: %w: %s", err, dumpErr.Cause())
	}
	return nil
}

// CreateDatabaseSQL returns the statement that creates database name
// owned by owner, as a copy of template when template is not empty.
func CreateDatabaseSQL(name, template, owner string) string {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	return sql + " OWNER " + pgx.Identifier{owner}.Sanitize()
}
