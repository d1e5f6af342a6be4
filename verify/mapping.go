package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Mapping says how the tables of an old database correspond to the
// tables of a new one, so that rows can be compared across a schema
// change.
type Mapping struct {
	// IgnoreColumns are left out of every table's comparison, for
	// example columns the new schema adds such as "nid". A table need
	// not have them.
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
	// btree ordering. A key that is not unique hides no difference:
	// the rows of a repeated key are matched by content, the surplus
	// rows are duplicates and the unmatched ones changed rows that no
	// expectation covers; only identical groups go unreported.
	Key []string
	// Rename maps an old column name to its new name. Each old name
	// must be a column of the old table (or of OldSQL's result) and
	// each new name a column of the new table.
	Rename map[string]string
	// Ignore lists further columns, by new name, left out of this
	// table's comparison, such as surrogate keys the migration
	// regenerates. Each must be a column of the old or the new table.
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
// Without conditions an expectation covers every row of its table of
// its kind: an expected missing row hides any other missing row of the
// table, and an expected change of a column hides unexpected changes
// of that column. OldWhere and NewWhere narrow it to the rows the
// migration is known to touch, so that a difference in any other row
// is reported as unexpected. A condition is one SQL boolean expression,
// evaluated by PostgreSQL on one row of one side when the rows of
// mismatching chunks are read back, in the same read-only transaction;
// a NULL result counts as false. Which conditions apply depends on the
// kind:
//
//   - a missing row matches when OldWhere holds on its old row
//     (NewWhere must be empty: there is no new row);
//   - an extra row matches when NewWhere holds on its new row
//     (OldWhere must be empty: there is no old row);
//   - a changed row matches when each of its differing columns is in
//     the Columns of an expectation of kind changed whose conditions
//     hold: OldWhere, if set, on the old row and NewWhere, if set, on
//     the new row.
//
// Missing and extra rows take the first expectation that matches them.
// The expectations of changed rows combine: one may cover a column the
// migration rewrites in every row and another, with conditions, a
// column it rewrites in some rows only; a row where both changed is
// expected. Its reason joins with "; ", in mapping order, the reasons
// of the expectations that cover a differing column no earlier one
// covers.
//
// A key duplicated on one side counts as missing (old side) or extra
// (new side); the condition sees one of the key's surplus rows there,
// which one is not defined. A changed row of a duplicated key is never
// expected: which old row it pairs with which new one is a guess.
//
// A condition names columns as that side exposes them: the old table's
// columns by their old names (Rename is not applied) or old_sql's
// result columns, and the new table's columns. It may qualify them
// with the source's name: the table's name, or src for old_sql. A
// condition may hold a subquery of other tables of its database, but
// it runs on every row read back, so keep it to an indexed lookup. It
// may not contain a semicolon. A condition that does not parse, is not
// boolean or fails on a row makes the comparison fail with a
// *MappingError naming the table and the expectation.
type Expect struct {
	// Kind is KindChanged (the default), KindMissing or KindExtra.
	Kind string
	// Columns, for KindChanged, are the columns, by new name, that may
	// differ. Each must be compared: a column of both tables (after
	// Rename) that is neither ignored nor part of the key.
	Columns []string
	// OldWhere, when set, is an SQL boolean expression that the old
	// row must satisfy; for KindMissing and KindChanged.
	OldWhere string
	// NewWhere, when set, is an SQL boolean expression that the new
	// row must satisfy; for KindExtra and KindChanged.
	NewWhere string
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

// Validate checks that the mapping names known normalizers and kinds,
// that every table has a key and that each expectation's conditions
// fit its kind. It neither parses the conditions nor looks up the
// columns it names: [Tables] does, against the databases, when the
// comparison starts, and reports a mistake as a *MappingError.
func (m Mapping) Validate() error {
	if c, ok := repeated(m.IgnoreColumns); ok {
		return fmt.Errorf("ignore_columns: column %s is listed twice", c)
	}
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
		if err := t.validateNames(); err != nil {
			return fmt.Errorf("table %s: %w", t.Table, err)
		}
		for _, c := range slices.Sorted(maps.Keys(t.Normalize)) {
			n := t.Normalize[c]
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
			case KindMissing:
				if strings.TrimSpace(e.NewWhere) != "" {
					return fmt.Errorf("table %s: expect[%d]: new_where: a missing row has no new side; use old_where",
						t.Table, j)
				}
			case KindExtra:
				if strings.TrimSpace(e.OldWhere) != "" {
					return fmt.Errorf("table %s: expect[%d]: old_where: an extra row has no old side; use new_where",
						t.Table, j)
				}
			default:
				return fmt.Errorf("table %s: expect[%d]: unknown kind %q", t.Table, j, e.Kind)
			}
			for _, w := range []struct{ name, cond string }{{"old_where", e.OldWhere}, {"new_where", e.NewWhere}} {
				if strings.Contains(w.cond, ";") {
					return fmt.Errorf("table %s: expect[%d]: %s: must be one SQL expression, without a semicolon",
						t.Table, j, w.name)
				}
			}
			if strings.TrimSpace(e.Reason) == "" {
				return fmt.Errorf("table %s: expect[%d]: no reason given", t.Table, j)
			}
		}
	}
	return nil
}

// validateNames checks that the table's column lists name each column
// once and that each rename renames: a repeated or self-referring name
// is a slip of the mapping's author that would otherwise pass unseen.
func (t TableMap) validateNames() error {
	if c, ok := repeated(t.Key); ok {
		return fmt.Errorf("key: column %s is listed twice", c)
	}
	if c, ok := repeated(t.Ignore); ok {
		return fmt.Errorf("ignore: column %s is listed twice", c)
	}
	to := map[string]string{} // new name -> old name
	for _, oc := range slices.Sorted(maps.Keys(t.Rename)) {
		nc := t.Rename[oc]
		if nc == oc {
			return fmt.Errorf("rename: %s to %s renames the column onto itself", oc, nc)
		}
		if prev, ok := to[nc]; ok {
			return fmt.Errorf("rename: %s and %s are both renamed to %s", prev, oc, nc)
		}
		to[nc] = oc
	}
	return nil
}

// repeated returns the first name that names lists twice.
func repeated(names []string) (string, bool) {
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return n, true
		}
	}
	return "", false
}
