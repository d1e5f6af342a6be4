package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// A TableSpec asks for a keyed comparison of one table.
type TableSpec struct {
	// Table is the table name, the same in both databases.
	Table string
	// Key lists the columns that identify a row on both sides.
	Key []string
	// Ignore lists columns left out of the comparison.
	Ignore []string
	// Convert maps a column whose type the migration changed to the
	// conversion that makes old and new values comparable; see
	// [Conversions].
	Convert map[string]string
}

// Conversions are the known column conversions, by name, each the SQL
// applied to the old and to the new column (%s is the column).
var Conversions = map[string][2]string{
	// A text column holding a "|"-separated list that became a JSON
	// array ("a|b" → ["a", "b"]; "" → []), as in Hydra 2.x clients.
	"pipe_list": {"to_jsonb(string_to_array(%s, '|'))", "(%s)::jsonb"},
}

// TableResult is the comparison of one table.
type TableResult struct {
	Table string `json:"table"`
	// RowsOld and RowsNew are row counts; -1 when the table does not
	// exist on that side (dropped, renamed or merged by the migration).
	RowsOld int64 `json:"rows_old"`
	RowsNew int64 `json:"rows_new"`
	// Keyed is true when rows were compared on their keys, not only
	// counted; Missing, Extra and Changed are set only then.
	Keyed   bool  `json:"keyed"`
	Missing int64 `json:"missing"`
	Extra   int64 `json:"extra"`
	Changed int64 `json:"changed"`
	// Compared lists the columns compared; Skipped those left out
	// because their type differs between the sides.
	Compared []string `json:"compared_columns,omitempty"`
	Skipped  []string `json:"skipped_columns,omitempty"`
	// Diffs lists up to MaxDiffs differing rows.
	Diffs []Diff `json:"diffs,omitempty"`
}

// A Diff is one row that differs. Key is a fingerprint of the row's
// key, not the key itself: token tables are keyed by token signatures.
type Diff struct {
	Key     string   `json:"key"`
	Kind    string   `json:"kind"` // "missing", "extra" or "changed"
	Columns []string `json:"columns,omitempty"`
}

// MaxDiffs bounds how many differing rows a TableResult lists.
const MaxDiffs = 20

// TablesResult is the comparison of two databases.
type TablesResult struct {
	RowsCompared int64         `json:"rows_compared"`
	Missing      int64         `json:"missing"`
	Extra        int64         `json:"extra"`
	Changed      int64         `json:"changed"`
	Tables       []TableResult `json:"tables"`
}

// Tables compares the public tables of the databases old and new are
// connected to: every table by row count, and the tables in specs row
// by row on their keys. Columns named in ignore are left out of every
// keyed comparison. Both sides are read in read-only transactions.
func Tables(ctx context.Context, old, new *pgx.Conn, specs []TableSpec, ignore []string) (*TablesResult, error) {
	otx, err := old.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("old database: %w", err)
	}
	defer otx.Rollback(context.WithoutCancel(ctx))
	ntx, err := new.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}
	defer ntx.Rollback(context.WithoutCancel(ctx))

	ocols, err := columns(ctx, otx)
	if err != nil {
		return nil, fmt.Errorf("old database: %w", err)
	}
	ncols, err := columns(ctx, ntx)
	if err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}
	names := map[string]bool{}
	for t := range ocols {
		names[t] = true
	}
	for t := range ncols {
		names[t] = true
	}
	res := &TablesResult{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		tr := TableResult{Table: name, RowsOld: -1, RowsNew: -1}
		if _, ok := ocols[name]; ok {
			if tr.RowsOld, err = count(ctx, otx, name); err != nil {
				return nil, fmt.Errorf("old database: %w", err)
			}
		}
		if _, ok := ncols[name]; ok {
			if tr.RowsNew, err = count(ctx, ntx, name); err != nil {
				return nil, fmt.Errorf("new database: %w", err)
			}
		}
		i := slices.IndexFunc(specs, func(s TableSpec) bool { return s.Table == name })
		if i >= 0 && tr.RowsOld >= 0 && tr.RowsNew >= 0 {
			if err := keyed(ctx, otx, ntx, specs[i], ignore, ocols[name], ncols[name], &tr); err != nil {
				return nil, fmt.Errorf("table %s: %w", name, err)
			}
			res.RowsCompared += tr.RowsOld
			res.Missing += tr.Missing
			res.Extra += tr.Extra
			res.Changed += tr.Changed
		}
		res.Tables = append(res.Tables, tr)
	}
	for _, s := range specs {
		if _, ok := ocols[s.Table]; !ok {
			return nil, fmt.Errorf("table %s: not in the old database", s.Table)
		}
		if _, ok := ncols[s.Table]; !ok {
			return nil, fmt.Errorf("table %s: not in the new database", s.Table)
		}
	}
	return res, nil
}

// columns maps each public table to its columns' types.
func columns(ctx context.Context, tx pgx.Tx) (map[string]map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name IN
		  (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')`)
	if err != nil {
		return nil, fmt.Errorf("listing columns: %w", err)
	}
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, err
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	return out, rows.Err()
}

func count(ctx context.Context, tx pgx.Tx, table string) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s: %w", table, err)
	}
	return n, nil
}

func keyed(ctx context.Context, otx, ntx pgx.Tx, spec TableSpec, ignore []string,
	oc, nc map[string]string, tr *TableResult) error {
	for _, k := range spec.Key {
		if _, ok := oc[k]; !ok {
			return fmt.Errorf("key column %s: not in the old table", k)
		}
		if _, ok := nc[k]; !ok {
			return fmt.Errorf("key column %s: not in the new table", k)
		}
	}
	skip := slices.Concat(spec.Key, spec.Ignore, ignore)
	for c, typ := range oc {
		ntyp, ok := nc[c]
		if !ok || slices.Contains(skip, c) {
			continue
		}
		if _, conv := spec.Convert[c]; ntyp != typ && !conv {
			tr.Skipped = append(tr.Skipped, c)
			continue
		}
		tr.Compared = append(tr.Compared, c)
	}
	sort.Strings(tr.Compared)
	sort.Strings(tr.Skipped)
	tr.Keyed = true
	oldExprs, newExprs := make([]string, len(tr.Compared)), make([]string, len(tr.Compared))
	for i, c := range tr.Compared {
		id := pgx.Identifier{c}.Sanitize()
		oldExprs[i], newExprs[i] = id, id
		if name, ok := spec.Convert[c]; ok {
			conv, known := Conversions[name]
			if !known {
				return fmt.Errorf("column %s: unknown conversion %q", c, name)
			}
			oldExprs[i], newExprs[i] = fmt.Sprintf(conv[0], id), fmt.Sprintf(conv[1], id)
		}
	}

	oldRows, err := hashes(ctx, otx, spec.Table, spec.Key, oldExprs)
	if err != nil {
		return fmt.Errorf("old database: %w", err)
	}
	newRows, err := hashes(ctx, ntx, spec.Table, spec.Key, newExprs)
	if err != nil {
		return fmt.Errorf("new database: %w", err)
	}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(oldRows)) {
		nh, ok := newRows[k]
		switch {
		case !ok:
			tr.Missing++
			tr.addDiff(Diff{Key: fingerprint(k), Kind: "missing"})
		case nh != oldRows[k]:
			tr.Changed++
			changed = append(changed, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(newRows)) {
		if _, ok := oldRows[k]; !ok {
			tr.Extra++
			tr.addDiff(Diff{Key: fingerprint(k), Kind: "extra"})
		}
	}
	if len(changed) > MaxDiffs {
		changed = changed[:MaxDiffs]
	}
	if len(changed) > 0 {
		oc, err := columnHashes(ctx, otx, spec.Table, spec.Key, oldExprs, changed)
		if err != nil {
			return fmt.Errorf("old database: %w", err)
		}
		nc, err := columnHashes(ctx, ntx, spec.Table, spec.Key, newExprs, changed)
		if err != nil {
			return fmt.Errorf("new database: %w", err)
		}
		for _, k := range changed {
			d := Diff{Key: fingerprint(k), Kind: "changed"}
			for i, c := range tr.Compared {
				if oc[k][i] != nc[k][i] {
					d.Columns = append(d.Columns, c)
				}
			}
			tr.addDiff(d)
		}
	}
	return nil
}

func (tr *TableResult) addDiff(d Diff) {
	if len(tr.Diffs) < MaxDiffs {
		tr.Diffs = append(tr.Diffs, d)
	}
}

// keyExpr renders the key as one text value: a JSON array of the key
// columns, which keeps composite keys and their types unambiguous.
func keyExpr(key []string) string {
	return "json_build_array(" + idents(key) + ")::text"
}

func idents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// hashes returns every row's key and a digest of its compared columns
// (given as SQL expressions), computed inside PostgreSQL so that only
// digests cross the wire.
func hashes(ctx context.Context, tx pgx.Tx, table string, key, exprs []string) (map[string]string, error) {
	digest := "''"
	if len(exprs) > 0 {
		digest = "md5(json_build_array(" + strings.Join(exprs, ", ") + ")::text)"
	}
	rows, err := tx.Query(ctx, fmt.Sprintf("SELECT %s, %s FROM %s", keyExpr(key), digest, pgx.Identifier{table}.Sanitize()))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var k, h string
		if err := rows.Scan(&k, &h); err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("key %s is not unique", fingerprint(k))
		}
		out[k] = h
	}
	return out, rows.Err()
}

// columnHashes returns, for the rows with the given keys, a digest of
// each compared column (given as SQL expressions), so that differing
// columns can be named without reading their values.
func columnHashes(ctx context.Context, tx pgx.Tx, table string, key, exprs, keys []string) (map[string][]string, error) {
	digests := make([]string, len(exprs))
	for i, e := range exprs {
		digests[i] = fmt.Sprintf("md5(json_build_array(%s)::text)", e)
	}
	q := fmt.Sprintf("SELECT %s, ARRAY[%s]::text[] FROM %s WHERE %s = ANY($1)",
		keyExpr(key), strings.Join(digests, ", "), pgx.Identifier{table}.Sanitize(), keyExpr(key))
	rows, err := tx.Query(ctx, q, keys)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for rows.Next() {
		var k string
		var hs []string
		if err := rows.Scan(&k, &hs); err != nil {
			return nil, err
		}
		out[k] = hs
	}
	return out, rows.Err()
}

// fingerprint identifies a key without revealing it.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
