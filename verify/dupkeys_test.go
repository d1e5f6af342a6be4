package verify_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

// twoDBs starts a PostgreSQL server with databases old and new filled
// by the SQL scripts oldSQL and newSQL, and returns their DSNs.
func twoDBs(t *testing.T, oldSQL, newSQL string) (oldDSN, newDSN string) {
	t.Helper()
	ctx := context.Background()
	pg, err := provision.StartPostgres(ctx)
	if err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	t.Cleanup(func() { pg.Close() })
	for db, sql := range map[string]string{"old": oldSQL, "new": newSQL} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, sql)
		conn.Close(ctx)
		if err != nil {
			t.Fatalf("filling %s: %v", db, err)
		}
	}
	return pg.DSN("old"), pg.DSN("new")
}

// TestDuplicateKeys checks that a key that is not unique hides no
// difference: every row of a repeated key is compared, and a change
// among them is unexpected, marked with where the key repeats.
func TestDuplicateKeys(t *testing.T) {
	const tables = `CREATE TABLE same_y (x int, y text);
		INSERT INTO same_y SELECT i, 'y' FROM generate_series(1, 100) i;
		CREATE TABLE pairs (a text, b int, v text, PRIMARY KEY (a, b));
		INSERT INTO pairs SELECT 'k' || (i % 7), i, 'v' || i FROM generate_series(1, 300) i;
		CREATE TABLE twins (k text, v text);
		INSERT INTO twins VALUES ('a', '1'), ('a', '1'), ('b', '2');
		CREATE TABLE gone (k text, v text);
		INSERT INTO gone VALUES ('z', '1'), ('z', '2'), ('w', '3');
		CREATE TABLE shrunk (x int, y text);
		INSERT INTO shrunk VALUES (1, 'y'), (2, 'y'), (3, 'y'), (4, 'u')`
	oldDSN, newDSN := twoDBs(t, tables, tables+`;
		UPDATE same_y SET x = 500 WHERE x = 5;
		UPDATE pairs SET v = 'changed' WHERE a = 'k3' AND b = 10;
		DELETE FROM gone WHERE k = 'z';
		DELETE FROM shrunk WHERE x IN (2, 3); INSERT INTO shrunk VALUES (9, 'y')`)
	for _, tt := range []struct {
		name string
		tm   verify.TableMap
		want []string // kind, key, side, columns, expected
		// missing, extra, changed: the unexpected counts
		missing, extra, changed int64
	}{
		{"equal groups, one row changed", verify.TableMap{Table: "same_y", Key: []string{"y"}},
			[]string{`changed ["y"] both [x] false`}, 0, 0, 1},
		{"a change in a repeated key is never expected",
			verify.TableMap{Table: "same_y", Key: []string{"y"},
				Expect: []verify.Expect{{Columns: []string{"x"}, Reason: "renumbered"}}},
			[]string{`changed ["y"] both [x] false`}, 0, 0, 1},
		{"part of a composite key", verify.TableMap{Table: "pairs", Key: []string{"a"}},
			[]string{`changed ["k3"] both [v] false`}, 0, 0, 1},
		{"the whole composite key", verify.TableMap{Table: "pairs", Key: []string{"a", "b"}},
			[]string{`changed ["k3","10"]  [v] false`}, 0, 0, 1},
		{"identical repeated keys are not reported", verify.TableMap{Table: "twins", Key: []string{"k"}},
			nil, 0, 0, 0},
		{"every row of a repeated key gone is missing", verify.TableMap{Table: "gone", Key: []string{"k"}},
			[]string{`duplicate ["z"] old [] false`, `missing ["z"]  [] false`}, 2, 0, 0},
		{"fewer rows and a changed one", verify.TableMap{Table: "shrunk", Key: []string{"y"}},
			[]string{`changed ["y"] both [x] false`, `duplicate ["y"] old [] false`}, 1, 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op, np := pools(t, oldDSN, newDSN)
			res, err := verify.Tables(context.Background(), op, np, verify.Mapping{Tables: []verify.TableMap{tt.tm}},
				verify.Options{ChunkRows: 10})
			if err != nil {
				t.Fatal(err)
			}
			tr := res.Tables[slices.IndexFunc(res.Tables, func(r verify.TableResult) bool { return r.Table == tt.tm.Table })]
			var got []string
			for _, d := range tr.Diffs {
				got = append(got, fmt.Sprintf("%s %s %s %v %v", d.Kind, d.Key, d.Side, d.Columns, d.Expected))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("diffs:\ngot  %q\nwant %q", got, tt.want)
			}
			if tr.Missing != tt.missing || tr.Extra != tt.extra || tr.Changed != tt.changed {
				t.Errorf("unexpected: got %d missing, %d extra, %d changed; want %d, %d, %d",
					tr.Missing, tr.Extra, tr.Changed, tt.missing, tt.extra, tt.changed)
			}
		})
	}
}
