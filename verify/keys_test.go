package verify_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"slices"
	"testing"

	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

// TestKeyTypes compares tables keyed by an integer, a UUID, a
// composite (text, integer) key and a key with a NULL, each with one
// changed, one deleted and one inserted row.
func TestKeyTypes(t *testing.T) {
	pg := migrated(t)
	ctx := context.Background()
	setup := `CREATE TABLE ints (id bigint PRIMARY KEY, v text);
		INSERT INTO ints SELECT i, 'v' || i FROM generate_series(1, 3000) i;
		CREATE TABLE uuids (id uuid PRIMARY KEY, v text);
		INSERT INTO uuids SELECT md5(i::text)::uuid, 'v' || i FROM generate_series(1, 3000) i;
		CREATE TABLE pairs (a text, b int, v text, PRIMARY KEY (a, b));
		INSERT INTO pairs SELECT 'k' || (i % 7), i, 'v' || i FROM generate_series(1, 3000) i;
		CREATE TABLE nullable (k text, v text);
		INSERT INTO nullable VALUES (NULL, 'x'), ('a', 'y'), ('b', 'z');`
	change := `UPDATE ints SET v = 'changed' WHERE id = 10; DELETE FROM ints WHERE id = 11;
		INSERT INTO ints VALUES (5000, 'new');
		UPDATE uuids SET v = 'changed' WHERE id = md5('10')::uuid; DELETE FROM uuids WHERE id = md5('11')::uuid;
		INSERT INTO uuids VALUES (md5('new')::uuid, 'new');
		UPDATE pairs SET v = 'changed' WHERE a = 'k3' AND b = 10; DELETE FROM pairs WHERE a = 'k4' AND b = 11;
		INSERT INTO pairs VALUES ('k3', 5000, 'new');
		UPDATE nullable SET v = 'changed' WHERE k IS NULL;`
	for i, db := range []string{"keys_old", "keys_new"} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
		c, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(ctx, setup)
		if err == nil && i == 1 {
			_, err = c.Exec(ctx, change)
		}
		c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	m := verify.Mapping{Tables: []verify.TableMap{
		{Table: "ints", Key: []string{"id"}},
		{Table: "uuids", Key: []string{"id"}},
		{Table: "pairs", Key: []string{"a", "b"}},
		{Table: "nullable", Key: []string{"k"}},
	}}
	op, np := pools(t, pg.DSN("keys_old"), pg.DSN("keys_new"))
	res, err := verify.Tables(ctx, op, np, m, verify.Options{ChunkRows: 200})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range res.Tables {
		for _, d := range tr.Diffs {
			got = append(got, fmt.Sprintf("%s %s %s %v", tr.Table, d.Kind, d.Key, d.Columns))
		}
	}
	slices.Sort(got)
	want := []string{
		`ints changed ["10"] [v]`, `ints extra ["5000"] []`, `ints missing ["11"] []`,
		`nullable changed [null] [v]`,
		`pairs changed ["k3","10"] [v]`, `pairs extra ["k3","5000"] []`, `pairs missing ["k4","11"] []`,
		fmt.Sprintf(`uuids changed ["%s"] [v]`, md5UUID("10")),
		fmt.Sprintf(`uuids extra ["%s"] []`, md5UUID("new")),
		fmt.Sprintf(`uuids missing ["%s"] []`, md5UUID("11")),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("diffs:\ngot  %q\nwant %q", got, want)
	}

	// The same differences, expected: counted apart, with the reason.
	m.Tables[0].Expect = []verify.Expect{
		{Kind: verify.KindMissing, Reason: "purged"},
		{Kind: verify.KindExtra, Reason: "added"},
		{Columns: []string{"v"}, Reason: "rewritten"},
	}
	res, err = verify.Tables(ctx, op, np, m, verify.Options{ChunkRows: 200})
	if err != nil {
		t.Fatal(err)
	}
	ints := res.Tables[slices.IndexFunc(res.Tables, func(t verify.TableResult) bool { return t.Table == "ints" })]
	if ints.Unexpected() != 0 || ints.ExpectedMissing != 1 || ints.ExpectedExtra != 1 || ints.ExpectedChanged != 1 {
		t.Errorf("ints: got %d unexpected, expected %d missing, %d extra, %d changed; want 0, 1, 1, 1",
			ints.Unexpected(), ints.ExpectedMissing, ints.ExpectedExtra, ints.ExpectedChanged)
	}
	for _, d := range ints.Diffs {
		if !d.Expected || d.Reason == "" {
			t.Errorf("ints: diff %+v not marked expected with its reason", d)
		}
	}
}

// md5UUID is PostgreSQL's md5(s)::uuid.
func md5UUID(s string) string {
	h := fmt.Sprintf("%x", md5.Sum([]byte(s)))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
