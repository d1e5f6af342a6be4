package verify_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

func TestExpectValidate(t *testing.T) {
	table := func(xs ...verify.Expect) verify.Mapping {
		return verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id"}, Expect: xs}}}
	}
	for _, tt := range []struct {
		name string
		x    verify.Expect
		want string // "" for no error
	}{
		{"old_where on missing", verify.Expect{Kind: verify.KindMissing, OldWhere: "a = 1", Reason: "r"}, ""},
		{"new_where on extra", verify.Expect{Kind: verify.KindExtra, NewWhere: "a = 1", Reason: "r"}, ""},
		{"both on changed", verify.Expect{Columns: []string{"a"}, OldWhere: "a = 1", NewWhere: "a = 2", Reason: "r"}, ""},
		{"semicolon in a string is still refused",
			verify.Expect{Columns: []string{"a"}, OldWhere: "a = 'x;y'", Reason: "r"},
			"table t: expect[0]: old_where: must be one SQL expression, without a semicolon"},
		{"new_where on missing", verify.Expect{Kind: verify.KindMissing, NewWhere: "a = 1", Reason: "r"},
			"table t: expect[0]: new_where: a missing row has no new side; use old_where"},
		{"old_where on extra", verify.Expect{Kind: verify.KindExtra, OldWhere: "a = 1", Reason: "r"},
			"table t: expect[0]: old_where: an extra row has no old side; use new_where"},
		{"second statement in old_where",
			verify.Expect{Columns: []string{"a"}, OldWhere: "true; DELETE FROM t", Reason: "r"},
			"table t: expect[0]: old_where: must be one SQL expression, without a semicolon"},
		{"second statement in new_where",
			verify.Expect{Kind: verify.KindExtra, NewWhere: "true; DELETE FROM t", Reason: "r"},
			"table t: expect[0]: new_where: must be one SQL expression, without a semicolon"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := table(tt.x).Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate(%+v): got %v, want no error", tt.x, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Validate(%+v): got %v, want %q", tt.x, err, tt.want)
			}
		})
	}
}

// conditionDBs starts a PostgreSQL server with an old and a new
// database holding table t, which differs in rows:
//
//	id 1, 2, 3  changed in column a; note 'migrate', 'keep', NULL
//	id 4, 5     missing; note 'drop', 'keep'
//	id 7, 8     extra; note 'added', 'other'
//
// Table marks, on the old side only, lists id 1. The new side has a
// sequence s, which a condition must not be able to advance. Table u
// differs in several columns of a row:
//
//	id 1  a and b changed
//	id 2  a and c changed
//	id 3  a changed
//	id 4  b changed
func conditionDBs(t *testing.T) (oldDSN, newDSN string) {
	t.Helper()
	return twoDBs(t, `CREATE TABLE t (id int PRIMARY KEY, a text, b int, note text);
			INSERT INTO t VALUES (1, 'x', 10, 'migrate'), (2, 'x', 20, 'keep'), (3, 'x', 30, NULL),
				(4, 'gone', 40, 'drop'), (5, 'gone', 50, 'keep'), (6, 'same', 60, 'keep');
			CREATE TABLE marks (id int PRIMARY KEY);
			INSERT INTO marks VALUES (1);
			CREATE TABLE u (id int PRIMARY KEY, a int, b int, c int);
			INSERT INTO u VALUES (1, 0, 0, 0), (2, 0, 0, 0), (3, 0, 0, 0), (4, 0, 0, 0), (5, 0, 0, 0)`,
		`CREATE TABLE t (id int PRIMARY KEY, a text, b int, note text);
			INSERT INTO t VALUES (1, 'y', 10, 'migrate'), (2, 'y', 20, 'keep'), (3, 'y', 30, NULL),
				(6, 'same', 60, 'keep'), (7, 'new', 70, 'added'), (8, 'new', 80, 'other');
			CREATE SEQUENCE s;
			CREATE TABLE u (id int PRIMARY KEY, a int, b int, c int);
			INSERT INTO u VALUES (1, 1, 1, 0), (2, 1, 0, 1), (3, 1, 0, 0), (4, 0, 1, 0), (5, 0, 0, 0)`)
}

// TestExpectConditions checks that an expectation's old_where and
// new_where narrow it to the rows they select: a difference of the
// same kind and columns in any other row is unexpected.
func TestExpectConditions(t *testing.T) {
	oldDSN, newDSN := conditionDBs(t)
	ctx := context.Background()
	compare := func(t *testing.T, tm verify.TableMap) (*verify.TablesResult, error) {
		t.Helper()
		tm.Table, tm.Key = "t", []string{"id"}
		op, np := pools(t, oldDSN, newDSN)
		return verify.Tables(ctx, op, np, verify.Mapping{Tables: []verify.TableMap{tm}}, verify.Options{})
	}

	t.Run("matches", func(t *testing.T) {
		changed := func(old, new string) verify.Expect {
			return verify.Expect{Columns: []string{"a"}, OldWhere: old, NewWhere: new, Reason: "r"}
		}
		for _, tt := range []struct {
			name string
			tm   verify.TableMap
			want []string // every diff: kind, key, "expected" or "unexpected"
		}{
			{"no condition covers every row of the kind",
				verify.TableMap{Expect: []verify.Expect{changed("", "")}},
				[]string{`changed ["1"] expected`, `changed ["2"] expected`, `changed ["3"] expected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, old_where; NULL is false",
				verify.TableMap{Expect: []verify.Expect{changed("note <> 'keep'", "")}},
				[]string{`changed ["1"] expected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, new_where",
				verify.TableMap{Expect: []verify.Expect{changed("", "a = 'y' AND b >= 20")}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] expected`, `changed ["3"] expected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, both must hold",
				verify.TableMap{Expect: []verify.Expect{changed("note <> 'migrate'", "b <= 20")}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] expected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, old_where with a subquery of the old database",
				verify.TableMap{Expect: []verify.Expect{changed("EXISTS (SELECT 1 FROM marks m WHERE m.id = t.id)", "")}},
				[]string{`changed ["1"] expected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, old_where over old_sql",
				verify.TableMap{OldSQL: "SELECT id, a, b, note FROM t", Expect: []verify.Expect{changed("src.note = 'keep'", "")}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] expected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"changed, the column rule still applies",
				verify.TableMap{Expect: []verify.Expect{{Columns: []string{"b"}, OldWhere: "true", Reason: "r"}}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"missing, old_where",
				verify.TableMap{Expect: []verify.Expect{{Kind: verify.KindMissing, OldWhere: "note = 'drop'", Reason: "r"}}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] expected`, `missing ["5"] unexpected`}},
			{"extra, new_where",
				verify.TableMap{Expect: []verify.Expect{{Kind: verify.KindExtra, NewWhere: "note = 'added'", Reason: "r"}}},
				[]string{`changed ["1"] unexpected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] expected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"a trailing comment ends with the condition",
				verify.TableMap{Expect: []verify.Expect{changed("note = 'migrate' -- rows the migration rewrites", "")}},
				[]string{`changed ["1"] expected`, `changed ["2"] unexpected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
			{"either of two expectations",
				verify.TableMap{Expect: []verify.Expect{changed("note = 'keep'", ""), changed("", "b = 10")}},
				[]string{`changed ["1"] expected`, `changed ["2"] expected`, `changed ["3"] unexpected`,
					`extra ["7"] unexpected`, `extra ["8"] unexpected`, `missing ["4"] unexpected`, `missing ["5"] unexpected`}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, err := compare(t, tt.tm)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				var unexpected int64
				for _, tr := range res.Tables {
					if tr.Table != "t" {
						continue
					}
					unexpected = tr.Unexpected()
					for _, d := range tr.Diffs {
						e := "unexpected"
						if d.Expected {
							e = "expected"
						}
						got = append(got, fmt.Sprintf("%s %s %s", d.Kind, d.Key, e))
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("expect %+v:\ngot  %q\nwant %q", tt.tm.Expect, got, tt.want)
				}
				var want int64
				for _, w := range tt.want {
					if strings.HasSuffix(w, " unexpected") {
						want++
					}
				}
				if unexpected != want {
					t.Errorf("unexpected count: got %d, want %d", unexpected, want)
				}
			})
		}
	})

	t.Run("errors", func(t *testing.T) {
		ok := verify.Expect{Columns: []string{"a"}, OldWhere: "true", Reason: "r"}
		for _, tt := range []struct {
			name string
			x    verify.Expect
			want []string // substrings of the error
			full string   // the whole error, if set
		}{
			{"unknown column", verify.Expect{Columns: []string{"a"}, NewWhere: "nope = 1", Reason: "r"},
				[]string{"table t: expect[1]: new_where: ", `column "nope" does not exist`}, ""},
			{"syntax error", verify.Expect{Columns: []string{"a"}, OldWhere: "a = = 'x'", Reason: "r"},
				nil, `table t: expect[1]: old_where: ERROR: syntax error at or near "=" (SQLSTATE 42601)`},
			// PostgreSQL quotes the query from the error position: here
			// the rest of the generated query, on several lines.
			{"unterminated string", verify.Expect{Columns: []string{"a"}, OldWhere: "a = 'x", Reason: "r"},
				nil, "table t: expect[1]: old_where: ERROR: unterminated quoted string (SQLSTATE 42601)"},
			{"unterminated comment", verify.Expect{Columns: []string{"a"}, NewWhere: "a = 'x' /* why", Reason: "r"},
				nil, "table t: expect[1]: new_where: ERROR: unterminated /* comment (SQLSTATE 42601)"},
			{"error after the condition", verify.Expect{Columns: []string{"a"}, OldWhere: "a =", Reason: "r"},
				nil, "table t: expect[1]: old_where: ERROR: syntax error (SQLSTATE 42601)"},
			// Positions count characters, not bytes.
			{"error after a condition of multibyte characters",
				verify.Expect{Columns: []string{"a"}, OldWhere: "note = 'ééé' AND", Reason: "r"},
				nil, "table t: expect[1]: old_where: ERROR: syntax error (SQLSTATE 42601)"},
			{"syntax error after multibyte characters",
				verify.Expect{Columns: []string{"a"}, OldWhere: "note = 'ééé' AND = 1", Reason: "r"},
				nil, `table t: expect[1]: old_where: ERROR: syntax error at or near "=" (SQLSTATE 42601)`},
			{"not boolean", verify.Expect{Columns: []string{"a"}, OldWhere: "b + 1", Reason: "r"},
				[]string{"table t: expect[1]: old_where: ", "is not one boolean expression"}, ""},
			{"two expressions", verify.Expect{Columns: []string{"a"}, OldWhere: "true), (false", Reason: "r"},
				[]string{"table t: expect[1]: old_where: is not one boolean expression"}, ""},
			{"fails on a row", verify.Expect{Kind: verify.KindMissing, OldWhere: "note::int > 0", Reason: "r"},
				// The row's value is not quoted: it could be a credential.
				[]string{"table t: expect[1]: old_where: ", `invalid input syntax for type integer: "…"`}, ""},
			{"cannot write", verify.Expect{Kind: verify.KindExtra, NewWhere: "nextval('s') > 0", Reason: "r"},
				[]string{"table t: expect[1]: new_where: ", "read-only transaction"}, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, err := compare(t, verify.TableMap{Expect: []verify.Expect{ok, tt.x}})
				if err == nil {
					t.Fatalf("expect %+v: got no error and %+v, want an error", tt.x, res)
				}
				if tt.full != "" && err.Error() != tt.full {
					t.Errorf("expect %+v: got %q, want %q", tt.x, err, tt.full)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("expect %+v: got %q, want it to contain %q", tt.x, err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "LIMIT") {
					t.Errorf("expect %+v: got %q, want one line without the generated SQL", tt.x, err)
				}
				var me *verify.MappingError
				if !errors.As(err, &me) || me.Table != "t" {
					t.Errorf("expect %+v: got %T %q, want a *verify.MappingError of table t", tt.x, err, err)
				}
			})
		}
		// The condition that tried to write did not.
		conn, err := pgx.Connect(ctx, newDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var called bool
		if err := conn.QueryRow(ctx, "SELECT is_called FROM s").Scan(&called); err != nil {
			t.Fatal(err)
		}
		if called {
			t.Error("sequence s was advanced by a condition")
		}
	})
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestFlagshipConditions checks that the flagship mapping's
// expectations cover only the rows the flow merge changes: the same
// columns changed in other rows are unexpected.
func TestFlagshipConditions(t *testing.T) {
	pg := migrated(t)
	ctx := context.Background()
	n := cloneN.Add(1)
	oldDB, newDB := fmt.Sprintf("condold%d", n), fmt.Sprintf("condnew%d", n)
	if err := pg.Clone(ctx, "blue", oldDB); err != nil {
		t.Fatal(err)
	}
	if err := pg.Clone(ctx, "green", newDB); err != nil {
		t.Fatal(err)
	}
	exec := func(db string, sqls ...string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, q := range sqls {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %s: %v", db, q, err)
			}
		}
	}
	var orphan, linked string // access tokens with a consent challenge
	conn, err := pgx.Connect(ctx, pg.DSN(oldDB))
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT min(signature), max(signature) FROM hydra_oauth2_access
		WHERE challenge_id IS NOT NULL`).Scan(&orphan, &linked)
	conn.Close(ctx)
	if err != nil || orphan == linked {
		t.Fatalf("finding two tokens with a consent: %v", err)
	}
	login := func(i int) string { return md5hex(fmt.Sprintf("login-%d", i)) }
	// Old side as a real 1.11 database may hold it: a non-skipped login
	// request with an empty subject, and a token of a consent without a
	// login request, which the merge leaves out of every flow.
	exec(oldDB,
		fmt.Sprintf("UPDATE hydra_oauth2_authentication_request SET subject = '' WHERE challenge = '%s'", login(1)),
		`INSERT INTO hydra_oauth2_consent_request SELECT (jsonb_populate_record(r,
			'{"challenge": "orphan-consent", "verifier": "orphan-verifier", "csrf": "orphan-csrf", "login_challenge": null}')).*
			FROM hydra_oauth2_consent_request r WHERE challenge = '`+md5hex("consent-1")+`'`,
		`INSERT INTO hydra_oauth2_consent_request_handled SELECT (jsonb_populate_record(r, '{"challenge": "orphan-consent"}')).*
			FROM hydra_oauth2_consent_request_handled r WHERE challenge = '`+md5hex("consent-1")+`'`,
		fmt.Sprintf("UPDATE hydra_oauth2_access SET challenge_id = 'orphan-consent' WHERE signature = '%s'", orphan))
	exec(newDB,
		// what the merge makes of them
		fmt.Sprintf("UPDATE hydra_oauth2_flow SET subject = '' WHERE login_challenge = '%s'", login(1)),
		fmt.Sprintf("UPDATE hydra_oauth2_access SET challenge_id = NULL WHERE signature = '%s'", orphan),
		// and changes of the same columns the merge does not make
		fmt.Sprintf("UPDATE hydra_oauth2_flow SET subject = 'mallory' WHERE login_challenge = '%s'", login(2)),
		fmt.Sprintf("UPDATE hydra_oauth2_flow SET state = 128 WHERE login_challenge = '%s'", login(10)),
		fmt.Sprintf("UPDATE hydra_oauth2_access SET challenge_id = NULL WHERE signature = '%s'", linked))

	op, np := pools(t, pg.DSN(oldDB), pg.DSN(newDB))
	res, err := verify.Tables(ctx, op, np, unfingerprinted(flagship()), verify.Options{ChunkRows: 500, MaxDiffs: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	key := func(k string) string { return `["` + k + `"]` }
	for _, tt := range []struct {
		name, table, key string
		expected         bool
		columns          string
	}{
		{"flow that lost its subject to the empty request", "hydra_oauth2_flow", key(login(1)), true, "state,subject"},
		{"flow with another subject", "hydra_oauth2_flow", key(login(2)), false, "state,subject"},
		{"unhandled flow marked as failed", "hydra_oauth2_flow", key(login(10)), false, "state"},
		{"token of a consent without a login", "hydra_oauth2_access", key(orphan), true, "challenge_id"},
		{"token of a merged consent", "hydra_oauth2_access", key(linked), false, "challenge_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var found *verify.Diff
			for _, tr := range res.Tables {
				for i, d := range tr.Diffs {
					if tr.Table == tt.table && d.Key == tt.key {
						found = &tr.Diffs[i]
					}
				}
			}
			switch {
			case found == nil:
				t.Fatalf("%s %s: no diff", tt.table, tt.key)
			case found.Kind != verify.KindChanged || strings.Join(found.Columns, ",") != tt.columns:
				t.Errorf("%s %s: got %s of %v, want changed of %s", tt.table, tt.key, found.Kind, found.Columns, tt.columns)
			case found.Expected != tt.expected:
				t.Errorf("%s %s: got expected %v (%q), want %v", tt.table, tt.key, found.Expected, found.Reason, tt.expected)
			}
		})
	}
	if got, want := res.Unexpected(), int64(3); got != want {
		t.Errorf("unexpected differences: got %d, want %d", got, want)
	}
}

// TestExpectationsCombine checks that the changed-row expectations
// whose conditions hold cover a row's differing columns together.
func TestExpectationsCombine(t *testing.T) {
	oldDSN, newDSN := conditionDBs(t)
	ctx := context.Background()
	changed := func(col, reason, newWhere string) verify.Expect {
		return verify.Expect{Columns: []string{col}, NewWhere: newWhere, Reason: reason}
	}
	for _, tt := range []struct {
		name   string
		expect []verify.Expect
		want   []string // every diff of table u: key, columns, reason or "unexpected"
	}{
		{"two expectations cover a row together",
			[]verify.Expect{changed("a", "ra", ""), changed("b", "rb", "")},
			[]string{`["1"] a,b: ra; rb`, `["2"] a,c: unexpected`, `["3"] a: ra`, `["4"] b: rb`}},
		{"reasons in mapping order",
			[]verify.Expect{changed("b", "rb", ""), changed("a", "ra", "")},
			[]string{`["1"] a,b: rb; ra`, `["2"] a,c: unexpected`, `["3"] a: ra`, `["4"] b: rb`}},
		{"an expectation whose condition does not hold does not cover",
			[]verify.Expect{changed("a", "ra", ""), changed("b", "rb", "c = 1")},
			[]string{`["1"] a,b: unexpected`, `["2"] a,c: unexpected`, `["3"] a: ra`, `["4"] b: unexpected`}},
		{"an expectation made redundant by an earlier one adds no reason",
			[]verify.Expect{{Columns: []string{"a", "b"}, Reason: "rab"}, changed("a", "ra", "")},
			[]string{`["1"] a,b: rab`, `["2"] a,c: unexpected`, `["3"] a: rab`, `["4"] b: rab`}},
		{"one reason given twice is reported once",
			[]verify.Expect{changed("a", "r", ""), changed("c", "r", ""), changed("b", "r", "")},
			[]string{`["1"] a,b: r`, `["2"] a,c: r`, `["3"] a: r`, `["4"] b: r`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op, np := pools(t, oldDSN, newDSN)
			m := verify.Mapping{Tables: []verify.TableMap{{Table: "u", Key: []string{"id"}, Expect: tt.expect}}}
			res, err := verify.Tables(ctx, op, np, m, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var unexpected, want int64
			for _, tr := range res.Tables {
				if tr.Table != "u" {
					continue
				}
				unexpected = tr.Unexpected()
				for _, d := range tr.Diffs {
					r := "unexpected"
					if d.Expected {
						r = d.Reason
					}
					got = append(got, fmt.Sprintf("%s %s: %s", d.Key, strings.Join(d.Columns, ","), r))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("expect %+v:\ngot  %q\nwant %q", tt.expect, got, tt.want)
			}
			for _, w := range tt.want {
				if strings.HasSuffix(w, ": unexpected") {
					want++
				}
			}
			if unexpected != want {
				t.Errorf("unexpected count: got %d, want %d", unexpected, want)
			}
		})
	}
}

// TestMappingNames checks that a column a table's mapping names must
// exist: a rename, an ignore or an expectation that matches no column
// would otherwise do nothing, silently.
func TestMappingNames(t *testing.T) {
	oldDSN, newDSN := conditionDBs(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		m    verify.Mapping // table t, keyed on id unless set
		want string         // the error, "" for none
	}{
		{"mapping-wide ignore need not match",
			verify.Mapping{IgnoreColumns: []string{"nid"}, Tables: []verify.TableMap{{}}}, ""},
		{"ignore of a column of both tables", verify.Mapping{Tables: []verify.TableMap{{Ignore: []string{"b"}}}}, ""},
		{"ignore of a column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Ignore: []string{"b", "nosuchcol"}}}},
			"table t: ignore: column nosuchcol is in neither table"},
		{"rename from a column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Rename: map[string]string{"nosuchcol": "a"}}}},
			"table t: rename: column nosuchcol is not in the old table"},
		{"rename to a column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Rename: map[string]string{"a": "nosuchcol"}}}},
			"table t: rename: a to nosuchcol: column nosuchcol is not in the new table"},
		{"rename of an old_sql column",
			verify.Mapping{Tables: []verify.TableMap{{OldSQL: "SELECT id, a AS x, b, note FROM t",
				Rename: map[string]string{"x": "a"}, Expect: []verify.Expect{{Columns: []string{"a"}, Reason: "r"}}}}}, ""},
		{"rename from a column old_sql does not return",
			verify.Mapping{Tables: []verify.TableMap{{OldSQL: "SELECT id, a, b, note FROM t",
				Rename: map[string]string{"x": "a"}}}},
			"table t: rename: column x is not in old_sql's result"},
		{"expectation of a compared column",
			verify.Mapping{Tables: []verify.TableMap{{Expect: []verify.Expect{{Columns: []string{"a", "note"}, Reason: "r"}}}}}, ""},
		{"expectation of a column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Expect: []verify.Expect{
				{Kind: verify.KindMissing, Reason: "r"},
				{Columns: []string{"a", "nosuchcol"}, Reason: "r"}}}}},
			"table t: expect[1]: column nosuchcol is not compared (it is not in both tables, or it is ignored or a key)"},
		{"expectation of an ignored column",
			verify.Mapping{Tables: []verify.TableMap{{Ignore: []string{"b"},
				Expect: []verify.Expect{{Columns: []string{"b"}, Reason: "r"}}}}},
			"table t: expect[0]: column b is not compared (it is not in both tables, or it is ignored or a key)"},
		{"expectation of a column every table ignores",
			verify.Mapping{IgnoreColumns: []string{"note"}, Tables: []verify.TableMap{{
				Expect: []verify.Expect{{Columns: []string{"note"}, Reason: "r"}}}}},
			"table t: expect[0]: column note is not compared (it is not in both tables, or it is ignored or a key)"},
		{"expectation of a key column",
			verify.Mapping{Tables: []verify.TableMap{{Expect: []verify.Expect{{Columns: []string{"id"}, Reason: "r"}}}}},
			"table t: expect[0]: column id is not compared (it is not in both tables, or it is ignored or a key)"},
		{"normalizer of a column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Normalize: map[string]string{"nosuchcol": "text"}}}},
			"table t: normalize: column nosuchcol is not compared"},
		{"key column of neither table",
			verify.Mapping{Tables: []verify.TableMap{{Key: []string{"nosuchcol"}}}},
			"table t: key column nosuchcol: not in the old table"},
		{"old table in neither database",
			verify.Mapping{Tables: []verify.TableMap{{OldTable: "nosuch"}}},
			"table t: old table nosuch: not in the old database (a misspelt table, or the wrong database)"},
		{"old_sql that does not parse",
			verify.Mapping{Tables: []verify.TableMap{{OldSQL: "SELECT id, FROM t"}}},
			`table t: old_sql: ERROR: syntax error at or near "FROM" (SQLSTATE 42601)`},
		{"old_sql with an unterminated string",
			verify.Mapping{Tables: []verify.TableMap{{OldSQL: "SELECT id, a, b, note FROM t WHERE a = 'x"}}},
			"table t: old_sql: ERROR: unterminated quoted string (SQLSTATE 42601)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := &tt.m.Tables[0]
			tm.Table = "t"
			if tm.Key == nil {
				tm.Key = []string{"id"}
			}
			op, np := pools(t, oldDSN, newDSN)
			_, err := verify.Tables(ctx, op, np, tt.m, verify.Options{})
			var me *verify.MappingError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("mapping %+v: got %v, want no error", tt.m, err)
			case tt.want == "":
			case err == nil || err.Error() != tt.want:
				t.Errorf("mapping %+v: got %v, want %q", tt.m, err, tt.want)
			case !errors.As(err, &me) || me.Table != "t":
				t.Errorf("mapping %+v: got %T, want a *verify.MappingError of table t", tt.m, err)
			}
		})
	}
}

// TestConditionNotAtFault checks that a condition failing for a reason
// of the server, here a statement timeout, is not a *MappingError: the
// mapping is fine, and running again may succeed.
func TestConditionNotAtFault(t *testing.T) {
	oldDSN, newDSN := conditionDBs(t)
	sep := "?"
	if strings.Contains(oldDSN, "?") {
		sep = "&"
	}
	op, np := pools(t, oldDSN+sep+"statement_timeout=300", newDSN)
	m := verify.Mapping{Tables: []verify.TableMap{{Table: "t", Key: []string{"id"}, Expect: []verify.Expect{
		{Columns: []string{"a"}, OldWhere: "(SELECT true FROM pg_sleep(2))", Reason: "r"}}}}}
	_, err := verify.Tables(context.Background(), op, np, m, verify.Options{})
	var me *verify.MappingError
	switch {
	case err == nil:
		t.Fatal("got no error, want the statement timeout")
	case errors.As(err, &me):
		t.Errorf("got a *verify.MappingError (%v), want another error", err)
	case !strings.Contains(err.Error(), "statement timeout"):
		t.Errorf("got %v, want the statement timeout", err)
	}
}
