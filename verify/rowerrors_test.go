package verify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5/pgconn"
)

// secretDBs starts a PostgreSQL server with an old and a new database
// whose tables hold values no error may show: each contains "SECRET".
func secretDBs(t *testing.T) (oldDSN, newDSN string) {
	t.Helper()
	const tables = `CREATE TABLE t_int (id int PRIMARY KEY, secret text, at text);
		INSERT INTO t_int SELECT i, 'SECRETVALUE-' || i, '2026-01-01' FROM generate_series(1, 50) i;
		CREATE TABLE t_text (k text PRIMARY KEY, v text);
		INSERT INTO t_text SELECT 'SECRETKEY-' || i, 'v' FROM generate_series(1, 50) i;
		CREATE TABLE t_json (id int PRIMARY KEY, session_data text);
		INSERT INTO t_json VALUES (1, '{"ok": 1}'), (2, 'SECRETSESSION{"sub": "x"}');
		CREATE TABLE t_quote (id int PRIMARY KEY, v text);
		INSERT INTO t_quote VALUES (1, 'x" SECRET-Q "y');
		CREATE TABLE t_fine (id int PRIMARY KEY, n text);
		INSERT INTO t_fine VALUES (1, '1.50'), (2, NULL)`
	// Only the new side of t_fine differs: its normalized column
	// fits its values on both sides.
	return twoDBs(t, tables, strings.ReplaceAll(tables, "'1.50'", "'1.5'"))
}

// TestRowErrorsAreMappingErrors checks that a normalizer or an old_sql
// that fails on a row's value is a *MappingError naming the table and
// the mapping entry, and that neither its message nor any field of
// PostgreSQL's error it wraps shows the value; and that a normalizer
// applied to a column of a type it cannot take is refused before any
// row is read.
func TestRowErrorsAreMappingErrors(t *testing.T) {
	oldDSN, newDSN := secretDBs(t)
	for _, tt := range []struct {
		name string
		tm   verify.TableMap
		want string // the error; "" for none
	}{
		{"numeric normalizer over text",
			verify.TableMap{Table: "t_int", Key: []string{"id"}, Normalize: map[string]string{"secret": "numeric"}},
			`table t_int: normalize: column secret (numeric): old database: ERROR: invalid input syntax for type numeric: "…" (SQLSTATE 22P02)`},
		{"jsonb normalizer over text that is not JSON",
			verify.TableMap{Table: "t_json", Key: []string{"id"}, Normalize: map[string]string{"session_data": "jsonb"}},
			`table t_json: normalize: column session_data (jsonb): old database: ERROR: invalid input syntax for type json (SQLSTATE 22P02)`},
		{"a value holding quotes",
			verify.TableMap{Table: "t_quote", Key: []string{"id"}, Normalize: map[string]string{"v": "numeric"}},
			`table t_quote: normalize: column v (numeric): old database: ERROR: invalid input syntax for type numeric: "…" (SQLSTATE 22P02)`},
		{"old_sql cast a key does not fit",
			verify.TableMap{Table: "t_text", Key: []string{"k"}, FingerprintKey: true,
				OldSQL: "SELECT k::int AS k, v FROM t_text"},
			`table t_text: old_sql: ERROR: invalid input syntax for type integer: "…" (SQLSTATE 22P02)`},
		{"timestamp normalizer over text is refused before reading",
			verify.TableMap{Table: "t_int", Key: []string{"id"}, Normalize: map[string]string{"at": "timestamp_ms"}},
			`table t_int: normalize: column at (timestamp_ms): old database: ERROR: function date_trunc(unknown, text) does not exist (SQLSTATE 42883)`},
		{"a normalizer the values fit",
			verify.TableMap{Table: "t_fine", Key: []string{"id"}, Normalize: map[string]string{"n": "numeric"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op, np := pools(t, oldDSN, newDSN)
			res, err := verify.Tables(context.Background(), op, np, verify.Mapping{Tables: []verify.TableMap{tt.tm}},
				verify.Options{ChunkRows: 10})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if res.Unexpected() != 0 {
					t.Errorf("got %d unexpected differences, want 0", res.Unexpected())
				}
				return
			}
			var me *verify.MappingError
			switch {
			case err == nil:
				t.Fatalf("got no error, want %q", tt.want)
			case !errors.As(err, &me) || me.Table != tt.tm.Table:
				t.Errorf("got %T (%v), want a *verify.MappingError of table %s", err, err, tt.tm.Table)
			case err.Error() != tt.want:
				t.Errorf("error:\ngot  %q\nwant %q", err, tt.want)
			}
			var pe *pgconn.PgError
			all := fmt.Sprintf("%v %+v", err, err)
			if errors.As(err, &pe) {
				all += fmt.Sprintf(" %+v", *pe)
			}
			if strings.Contains(all, "SECRET") {
				t.Errorf("the error shows a value: %s", all)
			}
		})
	}
}
