package verify_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cutover-dev/cutover/verify"
)

// TestDroppedColumns checks that a column the migration dropped is an
// unexpected difference unless the mapping renames or ignores it, and
// that a column it added is listed and passes.
func TestDroppedColumns(t *testing.T) {
	oldDSN, newDSN := twoDBs(t,
		`CREATE TABLE t (id int PRIMARY KEY, kept text, gone text, moved text);
		INSERT INTO t SELECT i, 'k', 'g', 'm' FROM generate_series(1, 20) i`,
		`CREATE TABLE t (id int PRIMARY KEY, kept text, moved_to text, added text);
		INSERT INTO t SELECT i, 'k', 'm', 'a' FROM generate_series(1, 20) i`)
	for _, tt := range []struct {
		name             string
		tm               verify.TableMap
		oldOnly, newOnly []string
		unexpected       int64
	}{
		{"a dropped column is unexpected", verify.TableMap{Rename: map[string]string{"moved": "moved_to"}},
			[]string{"gone"}, []string{"added"}, 1},
		{"an ignored dropped column passes",
			verify.TableMap{Rename: map[string]string{"moved": "moved_to"}, Ignore: []string{"gone"}},
			nil, []string{"added"}, 0},
		{"every unrenamed one counts", verify.TableMap{}, []string{"gone", "moved"}, []string{"added", "moved_to"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.tm.Table, tt.tm.Key = "t", []string{"id"}
			op, np := pools(t, oldDSN, newDSN)
			res, err := verify.Tables(context.Background(), op, np, verify.Mapping{Tables: []verify.TableMap{tt.tm}},
				verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr := res.Tables[slices.IndexFunc(res.Tables, func(r verify.TableResult) bool { return r.Table == "t" })]
			if !slices.Equal(tr.OldOnly, tt.oldOnly) || !slices.Equal(tr.NewOnly, tt.newOnly) {
				t.Errorf("columns: got old-only %q, new-only %q; want %q, %q", tr.OldOnly, tr.NewOnly, tt.oldOnly, tt.newOnly)
			}
			if tr.Unexpected() != tt.unexpected || res.Unexpected() != tt.unexpected ||
				res.DroppedColumns != int64(len(tt.oldOnly)) {
				t.Errorf("unexpected: got table %d, total %d, dropped columns %d; want %d, %d, %d",
					tr.Unexpected(), res.Unexpected(), res.DroppedColumns, tt.unexpected, tt.unexpected, len(tt.oldOnly))
			}
		})
	}
}

// TestUnmappedRowCounts checks that an unmapped table whose row count
// changed is marked, and is no unexpected difference.
func TestUnmappedRowCounts(t *testing.T) {
	oldDSN, newDSN := twoDBs(t,
		`CREATE TABLE grew (n int); INSERT INTO grew VALUES (1);
		CREATE TABLE same (n int); INSERT INTO same VALUES (1);
		CREATE TABLE gone (n int)`,
		`CREATE TABLE grew (n int); INSERT INTO grew VALUES (1), (2);
		CREATE TABLE same (n int); INSERT INTO same VALUES (2);
		CREATE TABLE added (n int); INSERT INTO added VALUES (1)`)
	op, np := pools(t, oldDSN, newDSN)
	res, err := verify.Tables(context.Background(), op, np, verify.Mapping{}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var differ []string
	for _, tr := range res.Tables {
		if tr.RowsDiffer {
			differ = append(differ, tr.Table)
		}
	}
	if want := []string{"grew"}; !slices.Equal(differ, want) {
		t.Errorf("tables whose rows differ: got %q, want %q", differ, want)
	}
	if res.Unexpected() != 0 {
		t.Errorf("got %d unexpected differences, want 0", res.Unexpected())
	}
}

// TestValidateNames checks that a column named twice in a list, or a
// rename that renames nothing, is refused.
func TestValidateNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    verify.Mapping
		want string // "" for no error
	}{
		{"distinct names", verify.Mapping{IgnoreColumns: []string{"nid"}, Tables: []verify.TableMap{{Table: "t",
			Key: []string{"a", "b"}, Ignore: []string{"c", "d"}, Rename: map[string]string{"e": "f", "g": "h"}}}}, ""},
		{"ignore twice", verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id"},
			Ignore: []string{"name", "x", "name"}}}}, "table t: ignore: column name is listed twice"},
		{"key twice", verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id", "id"}}}},
			"table t: key: column id is listed twice"},
		{"ignore_columns twice", verify.Mapping{IgnoreColumns: []string{"nid", "nid"}},
			"ignore_columns: column nid is listed twice"},
		{"rename onto itself", verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id"},
			Rename: map[string]string{"name": "name"}}}}, "table t: rename: name to name renames the column onto itself"},
		{"two renames onto one column", verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id"},
			Rename: map[string]string{"a": "x", "b": "x"}}}}, "table t: rename: a and b are both renamed to x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
