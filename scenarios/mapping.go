package scenarios

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/cutover-dev/cutover/verify"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// TableMapping holds the keys of a verify table beyond its name, key,
// ignored columns and conversions: where its rows come from on the old
// side, renamed columns, normalizers and expected differences.
type TableMapping struct {
	// OldTable is the old table's name when the migration renamed it.
	OldTable string `yaml:"old_table"`
	// OldSQL is a SELECT on the old database standing for the old
	// table, with the new column names: for tables the migration
	// merged or computed.
	OldSQL string `yaml:"old_sql"`
	// Rename maps an old column name to its new name.
	Rename map[string]string `yaml:"rename"`
	// Normalize names, per column (new name), the normalizer that
	// makes old and new values comparable: pipe_list, null_empty,
	// jsonb, numeric, timestamp_ms, timestamp_s, utc, text.
	Normalize map[string]string `yaml:"normalize"`
	// Expect lists the differences the migration is known to make,
	// each with its reason; they are counted apart.
	Expect []Expectation `yaml:"expect"`
	// FingerprintKey hides the key in reports behind a fingerprint; set
	// it where the key is a credential such as a token signature.
	FingerprintKey bool `yaml:"fingerprint_key"`
}

// An Expectation is a difference the migration is known to make.
type Expectation struct {
	// Kind is changed (the default), missing or extra.
	Kind string `yaml:"kind"`
	// Columns are the columns that may differ in a changed row.
	Columns []string `yaml:"columns"`
	// OldWhere is an SQL boolean expression over the old row (the old
	// table's columns, or old_sql's); the expectation covers only the
	// rows where it holds. For missing and changed rows.
	OldWhere string `yaml:"old_where"`
	// NewWhere is an SQL boolean expression over the new row; the
	// expectation covers only the rows where it holds. For extra and
	// changed rows.
	NewWhere string `yaml:"new_where"`
	// Reason says why; it is shown in reports.
	Reason string `yaml:"reason"`
}

// Mapping returns the verify engine's mapping for v.
func (v Verify) Mapping() verify.Mapping {
	m := verify.Mapping{IgnoreColumns: slices.Clone(v.IgnoreColumns)}
	for _, t := range v.Tables {
		norm := map[string]string{}
		for c, n := range t.Convert {
			norm[c] = n
		}
		for c, n := range t.Normalize {
			norm[c] = n
		}
		tm := verify.TableMap{Table: t.Table, OldTable: t.OldTable, OldSQL: t.OldSQL, Key: t.Key,
			Rename: t.Rename, Ignore: t.Ignore, Normalize: norm, FingerprintKey: t.FingerprintKey}
		for _, e := range t.Expect {
			tm.Expect = append(tm.Expect, verify.Expect{Kind: e.Kind, Columns: e.Columns,
				OldWhere: e.OldWhere, NewWhere: e.NewWhere, Reason: e.Reason})
		}
		m.Tables = append(m.Tables, tm)
	}
	return m
}

// LoadMapping reads a mapping file: the verify section of a scenario
// on its own (ignore_columns, tables), decoded strictly and validated
// like a scenario's.
func LoadMapping(path string) (*Verify, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading mapping: %w", err)
	}
	return ParseMapping(path, data)
}

// ParseMapping decodes and validates a mapping file's text. name is
// used in errors.
func ParseMapping(name string, data []byte) (*Verify, error) {
	data = trimBOM(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Msg: "mapping is empty"}
	}
	v := &Verify{}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	if len(file.Docs) > 0 {
		if err := checkTree(name, "the mapping file", file.Docs[0], reflect.TypeOf(v)); err != nil {
			return nil, err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	if err := dec.Decode(v); err != nil {
		return nil, yamlError(name, err)
	}
	// Validation paths are written for a scenario; a mapping file is
	// its verify section, so they are looked up one level up.
	l := &locator{name: name, file: file, prefix: "$.verify"}
	if err := validateMapping(v, l); err != nil {
		return nil, err
	}
	for _, c := range v.IgnoreColumns {
		if !isIdent(c) {
			return nil, l.errorf("$.verify.ignore_columns", "ignore_columns: %q is not a column name", c)
		}
	}
	return v, nil
}

// validateMapping checks the verify keys beyond the original ones.
func validateMapping(v *Verify, l *locator) error {
	for i, t := range v.Tables {
		p := fmt.Sprintf("$.verify.tables[%d]", i)
		if !isIdent(t.Table) {
			return l.errorf(p+".table", "verify.tables[%d].table: %q is not a table name", i, t.Table)
		}
		for _, c := range slices.Concat(t.Key, t.Ignore) {
			if !isIdent(c) {
				return l.errorf(p, "verify.tables[%d]: %q is not a column name", i, c)
			}
		}
		if len(t.Key) == 0 {
			return l.errorf(p+".key", "verify.tables[%d].key: must name at least one column", i)
		}
		if t.OldTable != "" && !isIdent(t.OldTable) {
			return l.errorf(p+".old_table", "verify.tables[%d].old_table: %q is not a table name", i, t.OldTable)
		}
		if t.OldTable != "" && t.OldSQL != "" {
			return l.errorf(p+".old_sql", "verify.tables[%d]: old_table and old_sql exclude each other", i)
		}
		if t.OldSQL != "" && !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(t.OldSQL)), "SELECT") {
			return l.errorf(p+".old_sql", "verify.tables[%d].old_sql: must be a SELECT", i)
		}
		for _, o := range slices.Sorted(maps.Keys(t.Rename)) {
			n := t.Rename[o]
			if !isIdent(o) || !isIdent(n) {
				return l.errorf(p+".rename", "verify.tables[%d].rename: %q: %q is not a column name pair", i, o, n)
			}
		}
		for _, c := range slices.Sorted(maps.Keys(t.Normalize)) {
			n := t.Normalize[c]
			if !isIdent(c) {
				return l.errorf(p+".normalize", "verify.tables[%d].normalize: %q is not a column name", i, c)
			}
			if _, ok := verify.Normalizers[n]; !ok {
				return l.errorf(p+".normalize."+c, "verify.tables[%d].normalize.%s: unknown normalizer %q (known: %s)",
					i, c, n, strings.Join(verify.NormalizerNames(), ", "))
			}
		}
		for j, e := range t.Expect {
			q := fmt.Sprintf("%s.expect[%d]", p, j)
			switch e.Kind {
			case "", verify.KindChanged:
				if len(e.Columns) == 0 {
					return l.errorf(q, "verify.tables[%d].expect[%d].columns: a changed expectation names its columns", i, j)
				}
			case verify.KindMissing:
				if strings.TrimSpace(e.NewWhere) != "" {
					return l.errorf(q+".new_where",
						"verify.tables[%d].expect[%d].new_where: a missing row has no new side; use old_where", i, j)
				}
			case verify.KindExtra:
				if strings.TrimSpace(e.OldWhere) != "" {
					return l.errorf(q+".old_where",
						"verify.tables[%d].expect[%d].old_where: an extra row has no old side; use new_where", i, j)
				}
			default:
				return l.errorf(q+".kind", "verify.tables[%d].expect[%d].kind: unknown kind %q (known: changed, missing, extra)",
					i, j, e.Kind)
			}
			for _, w := range []struct{ key, cond string }{{"old_where", e.OldWhere}, {"new_where", e.NewWhere}} {
				// An empty or null condition decodes as no condition,
				// which covers every row: the file says which it is.
				if strings.TrimSpace(w.cond) == "" && (w.cond != "" || l.node(q+"."+w.key) != nil) {
					return l.errorf(q+"."+w.key,
						"verify.tables[%d].expect[%d].%s: is blank; give an SQL condition or leave the key out", i, j, w.key)
				}
				if strings.Contains(w.cond, ";") {
					return l.errorf(q+"."+w.key,
						"verify.tables[%d].expect[%d].%s: must be one SQL expression, without a semicolon", i, j, w.key)
				}
			}
			if strings.TrimSpace(e.Reason) == "" {
				return l.errorf(q, "verify.tables[%d].expect[%d].reason: must say why the difference is expected", i, j)
			}
		}
	}
	if err := v.Mapping().Validate(); err != nil {
		return l.errorf("$.verify.tables", "verify: %v", err)
	}
	return nil
}
