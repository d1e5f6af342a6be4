package verify

import (
	"fmt"
	"slices"
	"strings"
)

// A Mapping says how the tables of an old database correspond to the
// tables of a new one, so that rows can be compared across a schema
// change.
type Mapping struct {
	// IgnoreColumns are left out of every table's comparison, for
	// example columns the new schema adds such as "nid".
	IgnoreColumns []string
	// Tables are compared row by row on their keys. Tables not listed
	// are compared by row count only.
	Tables []TableMap
}

// A TableMap maps one old table (or query) to one new table.
type TableMap struct {
	// Table is the new table's name, and the old table's too unless
	// OldTable or OldSQL is set.
	Table string
	// OldTable is the old table's name when the migration renamed it.
	OldTable string
	// OldSQL, when set, is a SELECT run on the old database whose
	// result stands for the old table, with the new table's column
	// names; it describes tables the migration merged (a join of the
	// old tables) or values the migration computed.
	OldSQL string
	// Key lists the columns, by their new names, that identify a row
	// on both sides. A key may be composite and of any type with a
	// btree ordering.
	Key []string
	// Rename maps an old column name to its new name.
	Rename map[string]string
	// Ignore lists further columns, by new name, left out of this
	// table's comparison, such as surrogate keys the migration
	// regenerates.
	Ignore []string
	// Normalize maps a column, by new name, to the normalizer that
	// makes its old and new values comparable; see [Normalizers].
	Normalize map[string]string
	// Expect lists the differences the migration is known to make.
	// They are counted apart from unexpected differences.
	Expect []Expect
	// FingerprintKey hides key values in results behind a fingerprint:
	// set it where the key is a credential, such as a token signature.
	FingerprintKey bool
}

// OldName returns the old table's name.
func (t TableMap) OldName() string {
	if t.OldTable != "" {
		return t.OldTable
	}
	return t.Table
}

// Expected difference kinds.
const (
	KindMissing   = "missing"   // a row of the old side is absent on the new side
	KindExtra     = "extra"     // a row of the new side has no old counterpart
	KindChanged   = "changed"   // a row is on both sides with different values
	KindDuplicate = "duplicate" // a key appears more than once on one side
)

// An Expect is a difference the migration is known to make.
//
// An expectation covers every row of its table of its kind: there is
// no per-row condition yet, so an expected missing row hides any other
// missing row of the same table, and an expected change of a column
// hides unexpected changes of that column alone. Keep expectations to
// tables and columns where that is acceptable.
type Expect struct {
	// Kind is KindChanged (the default), KindMissing or KindExtra.
	Kind string
	// Columns, for KindChanged, are the columns, by new name, that may
	// differ; a changed row whose differing columns are all listed is
	// an expected change.
	Columns []string
	// Reason says why the difference is expected; it is reported.
	Reason string
}

// A Normalizer makes a column's old and new values comparable. Old and
// New are SQL templates applied on each side; %[1]s is the column
// expression.
type Normalizer struct {
	Old, New string
	// Doc describes the normalizer in one line.
	Doc string
}

// Normalizers are the known normalizers, by name.
var Normalizers = map[string]Normalizer{
	"pipe_list": {
		Old: "to_jsonb(string_to_array((%[1]s)::text, '|'))",
		New: "(%[1]s)::jsonb",
		Doc: `a "|"-separated text list that became a JSON array ("a|b" -> ["a","b"], "" -> [])`,
	},
	"null_empty": {
		Old: "NULLIF((%[1]s)::text, '')", New: "NULLIF((%[1]s)::text, '')",
		Doc: "NULL and the empty string are the same value",
	},
	"jsonb": {
		Old: "(NULLIF((%[1]s)::text, ''))::jsonb", New: "(NULLIF((%[1]s)::text, ''))::jsonb",
		Doc: "text holding JSON and jsonb compare as JSON values (whitespace and key order ignored)",
	},
	"numeric": {
		Old: "(NULLIF(btrim((%[1]s)::text), ''))::numeric", New: "(NULLIF(btrim((%[1]s)::text), ''))::numeric",
		Doc: `numbers compare by value, whatever their formatting ("1.50" = "1.5")`,
	},
	"timestamp_ms": {
		Old: "date_trunc('milliseconds', %[1]s)", New: "date_trunc('milliseconds', %[1]s)",
		Doc: "timestamps compare to the millisecond",
	},
	"timestamp_s": {
		Old: "date_trunc('seconds', %[1]s)", New: "date_trunc('seconds', %[1]s)",
		Doc: "timestamps compare to the second",
	},
	"utc": {
		Old: "(%[1]s)::timestamptz AT TIME ZONE 'UTC'", New: "(%[1]s)::timestamptz AT TIME ZONE 'UTC'",
		Doc: "timestamps with and without time zone compare as UTC instants " +
			"(a timestamp without time zone is read in the session's time zone)",
	},
	"text": {
		Old: "(%[1]s)::text", New: "(%[1]s)::text",
		Doc: "values compare by their text form, for columns whose type changed",
	},
}

// NormalizerNames returns the known normalizers' names, sorted.
func NormalizerNames() []string {
	names := make([]string, 0, len(Normalizers))
	for n := range Normalizers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Validate checks that the mapping names known normalizers and kinds
// and that every table has a key.
func (m Mapping) Validate() error {
	seen := map[string]bool{}
	for i, t := range m.Tables {
		if t.Table == "" {
			return fmt.Errorf("tables[%d]: no table name", i)
		}
		if seen[t.Table] {
			return fmt.Errorf("table %s: mapped twice", t.Table)
		}
		seen[t.Table] = true
		if len(t.Key) == 0 {
			return fmt.Errorf("table %s: no key columns", t.Table)
		}
		if t.OldTable != "" && t.OldSQL != "" {
			return fmt.Errorf("table %s: old_table and old_sql exclude each other", t.Table)
		}
		for c, n := range t.Normalize {
			if _, ok := Normalizers[n]; !ok {
				return fmt.Errorf("table %s: column %s: unknown normalizer %q (known: %s)",
					t.Table, c, n, strings.Join(NormalizerNames(), ", "))
			}
		}
		for j, e := range t.Expect {
			switch e.Kind {
			case "", KindChanged:
				if len(e.Columns) == 0 {
					return fmt.Errorf("table %s: expect[%d]: a changed expectation names its columns", t.Table, j)
				}
			case KindMissing, KindExtra:
			default:
				return fmt.Errorf("table %s: expect[%d]: unknown kind %q", t.Table, j, e.Kind)
			}
			if strings.TrimSpace(e.Reason) == "" {
				return fmt.Errorf("table %s: expect[%d]: no reason given", t.Table, j)
			}
		}
	}
	return nil
}
