package verify_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

// TestReadOnlyRole runs verify under a role that may only read, and
// checks that it succeeds and that no table saw a write: verify must
// never write to the databases it compares.
func TestReadOnlyRole(t *testing.T) {
	pg := migrated(t)
	ctx := context.Background()
	super := func(db string) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
	}
	admin, err := pgx.Connect(ctx, super("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE ROLE verify_reader LOGIN PASSWORD 'reader-pw'"); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"blue", "green"} {
		c, err := pgx.Connect(ctx, super(db))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(ctx, `REVOKE ALL ON SCHEMA public FROM PUBLIC;
			GRANT USAGE ON SCHEMA public TO verify_reader;
			GRANT SELECT ON ALL TABLES IN SCHEMA public TO verify_reader`)
		c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	reader := func(db string) string {
		u := url.URL{Scheme: "postgres", User: url.UserPassword("verify_reader", "reader-pw"),
			Host: fmt.Sprintf("127.0.0.1:%d", pg.Port), Path: db, RawQuery: "sslmode=disable"}
		return u.String()
	}
	// The role really cannot write.
	rc, err := pgx.Connect(ctx, reader("green"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Exec(ctx, "DELETE FROM hydra_jwk"); err == nil {
		t.Fatal("the reader role could delete rows; the test would prove nothing")
	}
	before, err := verify.SnapshotWrites(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	op, np := pools(t, reader("blue"), reader("green"))
	res, err := verify.Tables(ctx, op, np, flagship(), verify.Options{ChunkRows: 500})
	if err != nil {
		t.Fatalf("verify as a read-only role: %v", err)
	}
	if res.RowsCompared == 0 {
		t.Error("no rows compared")
	}
	after, err := verify.SnapshotWrites(ctx, rc)
	rc.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := verify.Writes(before, after); len(w) != 0 {
		t.Errorf("verify wrote: %+v", w)
	}
}
