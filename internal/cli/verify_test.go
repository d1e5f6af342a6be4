package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

func TestVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("tables:\n  - table: t\n    key: [id]\n    normalize: {a: nope}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dupIgnore := filepath.Join(dir, "dup-ignore.yaml")
	selfRename := filepath.Join(dir, "self-rename.yaml")
	for f, m := range map[string]string{
		dupIgnore:  "tables:\n  - {table: t, key: [id], ignore: [name, name]}\n",
		selfRename: "tables:\n  - {table: t, key: [id], rename: {name: name}}\n",
	} {
		if err := os.WriteFile(f, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"ignore lists a column twice",
			[]string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--mapping", dupIgnore},
			dupIgnore + ":2:3: verify: table t: ignore: column name is listed twice"},
		{"rename onto itself",
			[]string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--mapping", selfRename},
			selfRename + ":2:3: verify: table t: rename: name to name renames the column onto itself"},
		{"no old", []string{"verify", "--new", "postgres://x/y"}, "--old: a database DSN is required"},
		{"no new", []string{"verify", "--old", "postgres://x/y"}, "--new: a database DSN is required"},
		{"bad format", []string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--format", "xml"},
			`--format: "xml" is not one of text, json`},
		{"bad workers", []string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--workers", "65"},
			"--workers: must be between 0 (automatic) and 64, got 65"},
		{"bad mapping", []string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--mapping", bad},
			bad + ":4:20: verify.tables[0].normalize.a: unknown normalizer"},
		{"missing mapping", []string{"verify", "--old", "postgres://x/a", "--new", "postgres://x/b", "--mapping",
			filepath.Join(dir, "none.yaml")}, "--mapping: reading mapping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(context.Background(), tt.args, nil, &out, &errb, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("cutover %v: got %v, want an error starting %q", tt.args, err, tt.want)
			}
			if got := ExitCode(err); got != ExitUsage {
				t.Errorf("exit code: got %d, want %d", got, ExitUsage)
			}
		})
	}
}

// twoDatabases starts a PostgreSQL cluster for the test with databases
// a and b, filled by the SQL scripts oldSQL and newSQL.
func twoDatabases(t *testing.T, oldSQL, newSQL string) *provision.Postgres {
	t.Helper()
	ctx := context.Background()
	pg, err := provision.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	for db, script := range map[string]string{"a": oldSQL, "b": newSQL} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
		c, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(ctx, script)
		c.Close(ctx)
		if err != nil {
			t.Fatalf("database %s: %v", db, err)
		}
	}
	return pg
}

// TestVerifyCommand runs `cutover verify` on two real databases, one
// with a changed row, and checks the report, the exit status and that
// the changed token's signature is not printed.
func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	const tokens = `CREATE TABLE tokens (signature text PRIMARY KEY, scope text NOT NULL);
		INSERT INTO tokens SELECT 'sig-secret-' || i, 'openid' FROM generate_series(1, 5000) i`
	pg := twoDatabases(t, tokens, tokens+";\n\t\tUPDATE tokens SET scope = 'admin' WHERE signature = 'sig-secret-42'")
	mapping := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(mapping, []byte("tables:\n  - {table: tokens, key: [signature], fingerprint_key: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// A secret in the DSN's parameters must be masked like the password.
	newDSN := pg.DSN("b")
	if strings.Contains(newDSN, "?") {
		newDSN += "&sslpassword=PlantedSsl7"
	} else {
		newDSN += "?sslpassword=PlantedSsl7"
	}
	env := func(k string) string {
		return map[string]string{"CUTOVER_OLD_DSN": pg.DSN("a"), "CUTOVER_NEW_DSN": newDSN}[k]
	}
	err := Run(ctx, []string{"verify", "--mapping", mapping, "--chunk-rows", "100"}, nil, &out, &errb, env)
	if got := ExitCode(err); got != ExitGateFailed {
		t.Fatalf("exit code: got %d (%v), want %d; stderr:\n%s", got, err, ExitGateFailed, errb.String())
	}
	for _, want := range []string{"Rows: 5000 compared, 0 missing, 0 extra, 1 changed", "tokens: changed sha256:", "[scope]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	all := out.String() + errb.String()
	if strings.Contains(all, "sig-secret") {
		t.Errorf("a token signature was printed:\n%s", all)
	}
	if strings.Contains(all, "PlantedSsl7") {
		t.Errorf("a DSN parameter's secret was printed:\n%s", all)
	}
	if strings.Contains(errb.String(), pg.DSN("a")) {
		t.Errorf("a DSN with its password was logged:\n%s", errb.String())
	}
	if !strings.Contains(errb.String(), "comparing table") {
		t.Errorf("no progress on stderr:\n%s", errb.String())
	}
}

// TestVerifyMappingErrors runs `cutover verify` on two real databases
// with mappings that do not fit them: a condition PostgreSQL rejects or
// a name that matches no column is a usage error naming the mapping
// file, on one line, without the SQL cutover wraps around a condition.
func TestVerifyMappingErrors(t *testing.T) {
	ctx := context.Background()
	const clients = `CREATE TABLE clients (id int PRIMARY KEY, owner text);
		INSERT INTO clients SELECT i, 'o' || i FROM generate_series(1, 10) i`
	pg := twoDatabases(t, clients, clients)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, mapping, want string // want follows "--mapping FILE: "
	}{
		{"condition that does not parse",
			"tables:\n  - table: clients\n    key: [id]\n    expect:\n      - {columns: [owner], reason: r}\n" +
				"      - {columns: [owner], old_where: \"owner = = 'x'\", reason: r}\n",
			`table clients: expect[1]: old_where: ERROR: syntax error at or near "=" (SQLSTATE 42601)`},
		{"condition with an unterminated comment",
			"tables:\n  - table: clients\n    key: [id]\n    expect:\n" +
				"      - {columns: [owner], new_where: \"owner = 'x' /* why\", reason: r}\n",
			"table clients: expect[0]: new_where: ERROR: unterminated /* comment (SQLSTATE 42601)"},
		{"condition of an unknown column",
			"tables:\n  - table: clients\n    key: [id]\n    expect:\n" +
				"      - {kind: missing, old_where: \"nope\", reason: r}\n",
			`table clients: expect[0]: old_where: ERROR: column "nope" does not exist (SQLSTATE 42703)`},
		{"normalizer a row's value does not fit",
			"tables:\n  - {table: clients, key: [id], normalize: {owner: numeric}}\n",
			`table clients: normalize: column owner (numeric): old database: ERROR: invalid input syntax for type numeric: "…" (SQLSTATE 22P02)`},
		{"old_sql cast a row's value does not fit",
			"tables:\n  - {table: clients, key: [id], old_sql: \"SELECT id, owner::int AS owner FROM clients\"}\n",
			`table clients: old_sql: ERROR: invalid input syntax for type integer: "…" (SQLSTATE 22P02)`},
		{"expectation of a column of neither table",
			"tables:\n  - table: clients\n    key: [id]\n    expect:\n      - {columns: [nosuchcol], reason: r}\n",
			"table clients: expect[0]: column nosuchcol is not compared (it is not in both tables, or it is ignored or a key)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mapping, out, errb, err := verifyWithMapping(t, ctx, pg, dir, tt.name, tt.mapping)
			if got := ExitCode(err); got != ExitUsage {
				t.Fatalf("exit code: got %d (%v), want %d; stderr:\n%s", got, err, ExitUsage, errb.String())
			}
			if got, want := Message(err), "--mapping "+mapping+": "+tt.want; got != want {
				t.Errorf("message:\ngot  %q\nwant %q", got, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message is not one line: %q", err)
			}
			if out.Len() > 0 {
				t.Errorf("stdout is not empty:\n%s", out.String())
			}
		})
	}
}

func TestOnLoopback(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://u:p@127.0.0.1:5432/a", true},
		{"postgres://u@localhost/a", true},
		{"postgres://u@[::1]:5432/a", true},
		{"host=/var/run/postgresql dbname=a", true},
		{"postgres://u@db.internal:5432/a", false},
		{"postgres://u@127.0.0.1,10.0.0.9/a", false},
		{"not a dsn ::", false},
	}
	for _, tt := range tests {
		if got := onLoopback(tt.dsn); got != tt.want {
			t.Errorf("onLoopback(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}

func TestPrintVerifySaysWhatTheListLeavesOut(t *testing.T) {
	tr := verify.TableResult{Table: "tokens", Keyed: true, RowsOld: 500, RowsNew: 500, Changed: 150}
	for i := range 100 {
		tr.Diffs = append(tr.Diffs, verify.Diff{Key: fmt.Sprint(i), Kind: verify.KindChanged})
	}
	var b bytes.Buffer
	printVerify(&b, &verify.TablesResult{Tables: []verify.TableResult{tr}})
	if want := "tokens: … 50 more (the counts above are exact; the list keeps the first 100)"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}

// TestPrintVerifyMarks checks that the text report marks what a reader
// must see.
func TestPrintVerifyMarks(t *testing.T) {
	for _, tt := range []struct {
		name string
		tr   verify.TableResult
		want string
	}{
		{"a changed row of a key that is not unique",
			verify.TableResult{Table: "t", Keyed: true, RowsOld: 100, RowsNew: 100, Changed: 1,
				Diffs: []verify.Diff{{Key: `["y"]`, Kind: verify.KindChanged, Side: "both", Columns: []string{"x"}}}},
			`  t: changed ["y"] (key not unique: both) [x]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printVerify(&b, &verify.TablesResult{Tables: []verify.TableResult{tt.tr}})
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, b.String())
			}
		})
	}
}

// TestVerifyDroppedColumn runs `cutover verify` on a table whose new
// side lacks a column of the old one: unless the mapping ignores it,
// the report names it and verify fails; an added column passes, and so
// does an unmapped table whose row count changed, which is marked.
func TestVerifyDroppedColumn(t *testing.T) {
	ctx := context.Background()
	pg := twoDatabases(t,
		`CREATE TABLE t (id int PRIMARY KEY, a text, gone text);
		INSERT INTO t SELECT i, 'a', 'g' FROM generate_series(1, 10) i;
		CREATE TABLE log (n int); INSERT INTO log VALUES (1)`,
		`CREATE TABLE t (id int PRIMARY KEY, a text, added text);
		INSERT INTO t SELECT i, 'a', 'n' FROM generate_series(1, 10) i;
		CREATE TABLE log (n int); INSERT INTO log VALUES (1), (2)`)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, mapping string
		code          int
		want          []string
	}{
		{"dropped", "tables:\n  - {table: t, key: [id]}\n", ExitGateFailed,
			[]string{"Columns: 1 dropped", "t: dropped columns gone", "t: added columns added"}},
		// An unmapped table whose row count changed is marked and passes.
		{"dropped and ignored", "tables:\n  - {table: t, key: [id], ignore: [gone]}\n", ExitOK,
			[]string{"t: added columns added", "rows differ*", "* 1 unmapped tables differ in row count"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, out, _, err := verifyWithMapping(t, ctx, pg, dir, tt.name, tt.mapping)
			if got := ExitCode(err); got != tt.code {
				t.Fatalf("exit code: got %d (%v), want %d; stdout:\n%s", got, err, tt.code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if tt.code == ExitOK && strings.Contains(out.String(), "dropped") {
				t.Errorf("stdout reports a dropped column:\n%s", out.String())
			}
		})
	}
}

// TestVerifySameDatabase checks that verify warns when both sides are
// one database, whatever the DSNs' spelling, and still runs.
func TestVerifySameDatabase(t *testing.T) {
	ctx := context.Background()
	const tbl = `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)`
	pg := twoDatabases(t, tbl, tbl)
	sep := "?"
	if strings.Contains(pg.DSN("a"), "?") {
		sep = "&"
	}
	mapping := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(mapping, []byte("tables:\n  - {table: t, key: [id]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		old, new string
		warn     bool
	}{
		{"the same DSN", pg.DSN("a"), pg.DSN("a"), true},
		{"the same database, spelt otherwise", pg.DSN("a"), pg.DSN("a") + sep + "application_name=x", true},
		{"two databases", pg.DSN("a"), pg.DSN("b"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(ctx, []string{"verify", "--old", tt.old, "--new", tt.new, "--mapping", mapping}, nil, &out, &errb, nil)
			if got := ExitCode(err); got != ExitOK {
				t.Fatalf("exit code: got %d (%v), want %d; stderr:\n%s", got, err, ExitOK, errb.String())
			}
			warned := strings.Contains(errb.String(), "level=WARN") &&
				strings.Contains(errb.String(), "name the same database")
			if warned != tt.warn {
				t.Errorf("warned %v, want %v; stderr:\n%s", warned, tt.warn, errb.String())
			}
			if !strings.Contains(out.String(), "Rows:") {
				t.Errorf("no report on stdout:\n%s", out.String())
			}
		})
	}
}

// verifyWithMapping writes mapping to a file of dir named after name and
// runs cutover verify with it between databases a and b of pg.
func verifyWithMapping(t *testing.T, ctx context.Context, pg *provision.Postgres, dir, name, mapping string) (
	file string, out, errb *bytes.Buffer, err error) {
	t.Helper()
	file = filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
	if err := os.WriteFile(file, []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errb = &bytes.Buffer{}, &bytes.Buffer{}
	args := []string{"verify", "--old", pg.DSN("a"), "--new", pg.DSN("b"), "--mapping", file}
	return file, out, errb, Run(ctx, args, nil, out, errb, nil)
}
