package verify

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// A MappingError is a mistake in a Mapping that shows only against the
// databases: a column the mapping names that its table does not have
// (in Rename, Ignore, Key, Normalize or an expectation's Columns), an
// old_where, new_where or old_sql that PostgreSQL rejects, or a
// normalizer that does not fit its column's type or a row's value. It is
// fixed by changing the mapping; running the comparison again does not
// help.
type MappingError struct {
	// Table is the mapped table's (new) name.
	Table string
	// Err says what is wrong, starting with the part of the table's
	// mapping at fault, as in "expect[1]: old_where: ..." or
	// "normalize: column c (numeric): old database: ...". For SQL
	// that PostgreSQL rejected it wraps a *pgconn.PgError whose
	// message quotes none of the SQL the comparison wrapped around it
	// and no value of a row (see [scrub]).
	Err error
}

// Error returns the mistake on one line, after the table's name.
func (e *MappingError) Error() string { return "table " + e.Table + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *MappingError) Unwrap() error { return e.Err }

// rejected returns PostgreSQL's error when err is PostgreSQL rejecting
// SQL of the mapping, which ran inside query from character start (0
// based, in runes) for n characters; it returns nil when err is
// something else, such as a lost connection or a cancelled statement,
// which is no fault of the mapping.
//
// The returned error is a copy of PostgreSQL's, on one line, whose
// message drops its `at or near "..."` fragment when that quotes SQL
// outside the mapping's: PostgreSQL quotes from the error position to
// the end of the token, which for an unterminated string or comment
// is the rest of the generated query.
func rejected(err error, start, n int) *pgconn.PgError {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !mappingFault(pe.Code) {
		return nil
	}
	c := *pe
	const near = ` at or near "`
	if i := strings.Index(c.Message, near); i >= 0 && strings.HasSuffix(c.Message, `"`) {
		token := c.Message[i+len(near) : len(c.Message)-1]
		at := int(c.Position) - 1
		if at < start || at+utf8.RuneCountInString(token) > start+n {
			c.Message = c.Message[:i]
		}
	}
	scrub(&c)
	c.Message = strings.ReplaceAll(c.Message, "\n", " ")
	return &c
}

// scrub removes from e, a copy of PostgreSQL's error, the values of
// rows that it may quote: a value a row holds, quoted by PostgreSQL in
// a data exception (class 22, such as a cast the value does not fit)
// or in an error a function raises, may be a token or session data.
// The message keeps which kind of value failed, not which value; the
// detail, hint and context, which may quote more, are dropped. Errors
// of class 42 (syntax, undefined names, type mismatches) quote SQL and
// names, not values, and are left alone.
func scrub(e *pgconn.PgError) {
	if strings.HasPrefix(e.Code, "42") {
		return
	}
	e.Message = quotedValue.ReplaceAllString(e.Message, `"…"`)
	e.Detail, e.Hint, e.Where, e.InternalQuery = "", "", "", ""
}

// scrubbed returns err with the values PostgreSQL quotes in it
// scrubbed (see [scrub]), for every error of a query that reads rows:
// when err holds a *pgconn.PgError, a scrubbed copy of it, else err.
func scrubbed(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	c := *pe
	scrub(&c)
	return &c
}

// quotedValue matches, in a PostgreSQL message, everything from the
// first double quote to the last: PostgreSQL quotes a value without
// escaping the quotes inside it, so the value may hold quotes of its
// own, and only the outermost pair bounds it.
var quotedValue = regexp.MustCompile(`(?s)".*"`)

// mappingFault reports whether an SQLSTATE says the SQL itself is at
// fault: it does not parse or names what does not exist (class 42, as
// are missing privileges), fails on a value (22, as a cast a value
// does not fit), returns several rows where one is wanted (21), uses
// what is not supported (0A), exceeds a limit (54), fails in a
// function it calls (2F, 38, 39, P0) or tries to write (25006). Other
// classes (connection, resources, operator intervention such as a
// cancelled statement, serialization failures, internal errors) are
// no fault of the mapping.
func mappingFault(code string) bool {
	if len(code) != 5 {
		return false
	}
	return code == "25006" || slices.Contains([]string{"0A", "21", "22", "2F", "38", "39", "42", "54", "P0"}, code[:2])
}
