package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// TableResult is the comparison of one table.
type TableResult struct {
	// Table is the new table's name; OldTable the old one's when it
	// differs ("(query)" when the old side is a mapping's old_sql).
	Table    string `json:"table"`
	OldTable string `json:"old_table,omitempty"`
	// RowsOld and RowsNew are row counts; -1 when the table does not
	// exist on that side (dropped, renamed or merged by the migration).
	RowsOld int64 `json:"rows_old"`
	RowsNew int64 `json:"rows_new"`
	// Keyed is true when rows were compared on their keys, not only
	// counted; the difference counts are set only then.
	Keyed bool `json:"keyed"`
	// RowsDiffer is true for a table the mapping does not list that is
	// on both sides with different row counts. It is not an unexpected
	// difference: a migration may legitimately change the rows of
	// tables it does not map, such as its own bookkeeping.
	RowsDiffer bool `json:"rows_differ,omitempty"`
	// Missing counts old rows absent on the new side, Extra new rows
	// without an old counterpart, Changed rows on both sides whose
	// values differ: all unexpected. The surplus rows of a key
	// duplicated on the new side count as extra, on the old side as
	// missing; the other rows of a duplicated key are compared too.
	Missing int64 `json:"missing"`
	Extra   int64 `json:"extra"`
	Changed int64 `json:"changed"`
	// ExpectedMissing, ExpectedExtra and ExpectedChanged count the
	// differences the mapping expects (see [Expect]).
	ExpectedMissing int64 `json:"expected_missing"`
	ExpectedExtra   int64 `json:"expected_extra"`
	ExpectedChanged int64 `json:"expected_changed"`
	// Chunks is the number of key-hash chunks whose checksums were
	// compared; ChunksMismatched how many of them differed and were
	// split down to rows.
	Chunks           int `json:"chunks,omitempty"`
	ChunksMismatched int `json:"chunks_mismatched,omitempty"`
	// Compared lists the columns compared, by new name; OldOnly and
	// NewOnly the columns without a counterpart, which are not. An
	// old-only column is one the migration dropped and the mapping
	// neither renames nor ignores: its values are lost, so each counts
	// as an unexpected difference of the table. A new-only column is
	// one the migration added, which is normal.
	Compared []string `json:"compared_columns,omitempty"`
	OldOnly  []string `json:"old_only_columns,omitempty"`
	NewOnly  []string `json:"new_only_columns,omitempty"`
	// Skipped lists the compared columns whose type changed and that no
	// normalizer covers: they are compared by their text form, which
	// may report values the new type merely spells differently.
	Skipped []string `json:"type_changed_columns,omitempty"`
	// Diffs lists up to Options.MaxDiffs differing rows, unexpected
	// ones first.
	Diffs []Diff `json:"diffs,omitempty"`
}

// Unexpected returns the number of unexpected differences: rows, and
// the columns the migration dropped that the mapping does not ignore.
func (t TableResult) Unexpected() int64 {
	return t.Missing + t.Extra + t.Changed + int64(len(t.OldOnly))
}

// A Diff is one row that differs. Values are never reported, only the
// names of the columns that differ.
type Diff struct {
	// Key identifies the row: a JSON array of the key's values as
	// text, or, for tables whose key is a credential, a fingerprint
	// ("sha256:…") that identifies it without revealing it.
	Key string `json:"key"`
	// Kind is KindMissing, KindExtra, KindChanged or KindDuplicate.
	Kind string `json:"kind"`
	// Side says where the key repeats: "old" or "new" for a duplicate,
	// and "old", "new" or "both" for a changed row whose key is not
	// unique, which is never expected (see [TableMap.Key]).
	Side string `json:"side,omitempty"`
	// Columns are the differing columns of a changed row.
	Columns []string `json:"columns,omitempty"`
	// Expected is true when the mapping expects this difference, for
	// Reason. The reason of a changed row that several expectations
	// cover together joins theirs with "; " (see [Expect]).
	Expected bool   `json:"expected,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// TablesResult is the comparison of two databases.
type TablesResult struct {
	// RowsCompared is the number of old rows compared on their keys.
	RowsCompared    int64 `json:"rows_compared"`
	Missing         int64 `json:"missing"`
	Extra           int64 `json:"extra"`
	Changed         int64 `json:"changed"`
	ExpectedMissing int64 `json:"expected_missing"`
	ExpectedExtra   int64 `json:"expected_extra"`
	ExpectedChanged int64 `json:"expected_changed"`
	// DroppedColumns counts the old-only columns of the mapped tables
	// (see [TableResult.OldOnly]): unexpected differences.
	DroppedColumns int64         `json:"dropped_columns"`
	Tables         []TableResult `json:"tables"`
}

// KeyedTables counts the tables compared row by row.
func (r *TablesResult) KeyedTables() int {
	n := 0
	for _, t := range r.Tables {
		if t.Keyed {
			n++
		}
	}
	return n
}

// DroppedNames lists the dropped columns of the mapped tables as
// table.column (see [TablesResult.DroppedColumns]).
func (r *TablesResult) DroppedNames() []string {
	var out []string
	for _, t := range r.Tables {
		if t.Keyed {
			for _, c := range t.OldOnly {
				out = append(out, t.Table+"."+c)
			}
		}
	}
	return out
}

// Unexpected returns the number of unexpected differences.
func (r *TablesResult) Unexpected() int64 { return r.Missing + r.Extra + r.Changed + r.DroppedColumns }

func (r *TablesResult) add(t TableResult) {
	if t.Keyed {
		r.RowsCompared += t.RowsOld
		r.Missing += t.Missing
		r.Extra += t.Extra
		r.Changed += t.Changed
		r.ExpectedMissing += t.ExpectedMissing
		r.ExpectedExtra += t.ExpectedExtra
		r.ExpectedChanged += t.ExpectedChanged
		r.DroppedColumns += int64(len(t.OldOnly))
	}
	r.Tables = append(r.Tables, t)
}

// displayKey renders a key for a result: JSON text, or a fingerprint.
func displayKey(key []*string, fingerprinted bool) string {
	if fingerprinted {
		return fingerprint(keyID(key))
	}
	b, _ := json.Marshal(key)
	return string(b)
}

// fingerprint identifies a key without revealing it.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
