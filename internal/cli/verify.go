package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/scenarios"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func init() {
	commands["verify"] = command{"compare the rows of an old and a migrated database (read-only)", cmdVerify}
}

// verifyConfig is the verify command's configuration after
// precedence: flags over environment over defaults.
type verifyConfig struct {
	db                 dbFlags
	mapping, format    string
	chunkRows, workers int
}

func cmdVerify(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "verify", "verify --old DSN --new DSN [--mapping FILE] [--format text|json] "+
		"[--workers N] [--chunk-rows N]")
	var cfg verifyConfig
	cfg.db.declare(fs, "old database", "new (migrated) database")
	fs.StringVar(&cfg.mapping, "mapping", "", "mapping `file`: a scenario's verify section on its own "+
		"(default: the built-in "+scenarios.DefaultName+" mapping)")
	fs.StringVar(&cfg.format, "format", "text", "report format on stdout: text or json")
	fs.IntVar(&cfg.chunkRows, "chunk-rows", 0, "target rows per checksum chunk (default 2000)")
	fs.IntVar(&cfg.workers, "workers", 0, "concurrent queries per database (default: half this machine's "+
		"cores when both databases are on loopback, else 4)")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	if err := cfg.db.resolve(e.getenv); err != nil {
		return err
	}
	switch {
	case cfg.format != "text" && cfg.format != "json":
		return usagef(fmt.Errorf("--format: %q is not one of text, json", cfg.format))
	case cfg.workers < 0 || cfg.workers > 64:
		return usagef(fmt.Errorf("--workers: must be between 0 (automatic) and 64, got %d", cfg.workers))
	case cfg.chunkRows < 0:
		return usagef(fmt.Errorf("--chunk-rows: must not be negative, got %d", cfg.chunkRows))
	}
	if sameDatabase(cfg.db.old, cfg.db.new) {
		e.log.Warn("--old and --new name the same database: it is compared with itself, "+
			"which finds nothing", "database", provision.Redact(cfg.db.old))
	}
	if cfg.workers == 0 {
		cfg.workers = 4
		if onLoopback(cfg.db.old) && onLoopback(cfg.db.new) {
			// Both servers share this machine's cores.
			cfg.workers = verify.LocalWorkers()
		}
	}
	m, source := scenarios.Default().Verify.Mapping(), "built-in mapping "+scenarios.DefaultName
	if cfg.mapping != "" {
		source = "--mapping " + cfg.mapping
		v, err := scenarios.LoadMapping(cfg.mapping)
		if err != nil {
			var se *scenarios.Error
			if errors.As(err, &se) {
				return usagef(err)
			}
			return usagef(fmt.Errorf("--mapping: %w", err))
		}
		m = v.Mapping()
	}
	op, err := openPool(ctx, "--old", cfg.db.old, cfg.workers)
	if err != nil {
		return err
	}
	defer op.Close()
	np, err := openPool(ctx, "--new", cfg.db.new, cfg.workers)
	if err != nil {
		return err
	}
	defer np.Close()
	e.log.Info("verifying rows", "old", provision.Redact(cfg.db.old), "new", provision.Redact(cfg.db.new),
		"tables", len(m.Tables))
	res, err := verify.Tables(ctx, op, np, m, verify.Options{ChunkRows: cfg.chunkRows, Workers: cfg.workers,
		Progress: progressPrinter(e)})
	var me *verify.MappingError
	switch {
	case errors.As(err, &me):
		// The mapping does not fit the databases: a name that matches
		// no column, or a condition PostgreSQL rejects.
		return usagef(fmt.Errorf("%s: %w", source, err))
	case err != nil:
		return err
	}
	if cfg.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printVerify(e.stdout, res)
	}
	if res.Unexpected() > 0 {
		cols := "columns"
		if res.DroppedColumns == 1 {
			cols = "column"
		}
		return fmt.Errorf("%w (%d missing, %d extra, %d changed rows; %d dropped %s)", ErrGateFailed,
			res.Missing, res.Extra, res.Changed, res.DroppedColumns, cols)
	}
	return nil
}

// sameDatabase reports whether the DSNs a and b name the same database:
// the same hosts, ports and database name, however they are spelt.
func sameDatabase(a, b string) bool {
	if a == b {
		return true
	}
	ca, erra := pgconn.ParseConfig(a)
	cb, errb := pgconn.ParseConfig(b)
	if erra != nil || errb != nil || ca.Database != cb.Database || len(ca.Fallbacks) != len(cb.Fallbacks) {
		return false
	}
	if ca.Host != cb.Host || ca.Port != cb.Port {
		return false
	}
	for i, f := range ca.Fallbacks {
		if g := cb.Fallbacks[i]; f.Host != g.Host || f.Port != g.Port {
			return false
		}
	}
	return true
}

// onLoopback reports whether every host of dsn is a loopback address or
// localhost. A DSN that does not parse is left to openPool's error.
func onLoopback(dsn string) bool {
	c, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	hosts := []string{c.Host}
	for _, f := range c.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if strings.HasPrefix(h, "/") || h == "localhost" {
			continue // a Unix socket or this machine by name
		}
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

func openPool(ctx context.Context, flag, dsn string, workers int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, usagef(fmt.Errorf("%s: %w", flag, provision.RedactErr(err, dsn)))
	}
	cfg.MaxConns = int32(workers + 1) // one holds the snapshot
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, provision.RedactErr(err, dsn))
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: %w", flag, provision.RedactErr(err, dsn))
	}
	return p, nil
}

// progressPrinter logs verify's progress on stderr: one line per
// table, and split progress for tables with differences.
func progressPrinter(e *environ) func(verify.Progress) {
	return func(p verify.Progress) {
		switch p.Phase {
		case "scan":
			e.log.Info("comparing table", "table", p.Table, "table_no", p.Done+1, "tables", p.Total)
		case "split":
			e.log.Info("splitting differing chunks", "table", p.Table, "round", p.Done, "chunks", p.Total)
		case "rows":
			e.log.Info("reading rows of differing chunks", "table", p.Table, "chunks", p.Total,
				"rows_old", p.RowsOld, "rows_new", p.RowsNew)
		}
	}
}

func printVerify(w io.Writer, r *verify.TablesResult) {
	fmt.Fprintf(w, "Rows: %d compared, %d missing, %d extra, %d changed (unexpected); "+
		"%d missing, %d extra, %d changed (expected)\n\n",
		r.RowsCompared, r.Missing, r.Extra, r.Changed, r.ExpectedMissing, r.ExpectedExtra, r.ExpectedChanged)
	if r.DroppedColumns > 0 {
		fmt.Fprintf(w, "Columns: %d dropped (unexpected: in the old table only, neither renamed nor ignored)\n\n",
			r.DroppedColumns)
	}
	fmt.Fprintf(w, "%-48s %10s %10s %8s %8s %8s %9s\n", "TABLE", "OLD", "NEW", "MISSING", "EXTRA", "CHANGED", "EXPECTED")
	differ := 0
	for _, t := range r.Tables {
		if !t.Keyed {
			mark := ""
			if t.RowsDiffer {
				mark, differ = "  rows differ*", differ+1
			}
			fmt.Fprintf(w, "%-48s %10s %10s %8s %8s %8s %9s%s\n", t.Table, rows(t.RowsOld), rows(t.RowsNew),
				"-", "-", "-", "-", mark)
			continue
		}
		fmt.Fprintf(w, "%-48s %10d %10d %8d %8d %8d %9d\n", t.Table, t.RowsOld, t.RowsNew, t.Missing, t.Extra, t.Changed,
			t.ExpectedMissing+t.ExpectedExtra+t.ExpectedChanged)
	}
	if differ > 0 {
		fmt.Fprintf(w, "* %d unmapped tables differ in row count; the mapping does not list them, so their rows "+
			"are not compared and this does not fail verify\n", differ)
	}
	for _, t := range r.Tables {
		if len(t.OldOnly) > 0 {
			fmt.Fprintf(w, "  %s: dropped columns %s (in the old table only; their values are lost; "+
				"rename or ignore them in the mapping if that is intended)\n", t.Table, strings.Join(t.OldOnly, ", "))
		}
		if len(t.NewOnly) > 0 {
			fmt.Fprintf(w, "  %s: added columns %s (in the new table only; not compared)\n",
				t.Table, strings.Join(t.NewOnly, ", "))
		}
		for _, d := range t.Diffs {
			line := fmt.Sprintf("  %s: %s %s", t.Table, d.Kind, d.Key)
			switch {
			case d.Side != "" && d.Kind == verify.KindChanged:
				line += " (key not unique: " + d.Side + ")"
			case d.Side != "":
				line += " (" + d.Side + ")"
			}
			if len(d.Columns) > 0 {
				line += " [" + strings.Join(d.Columns, ", ") + "]"
			}
			if d.Expected {
				line += " expected: " + d.Reason
			}
			fmt.Fprintln(w, line)
		}
		total := t.Missing + t.Extra + t.Changed + t.ExpectedMissing + t.ExpectedExtra + t.ExpectedChanged
		if more := total - int64(len(t.Diffs)); more > 0 {
			fmt.Fprintf(w, "  %s: … %d more (the counts above are exact; the list keeps the first %d)\n",
				t.Table, more, len(t.Diffs))
		}
	}
}

func rows(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
