package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cutover-dev/cutover/internal/dbgen"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
)

var cloneN atomic.Int32

// corrupted returns the DSN of a fresh copy of the migrated database
// with cs applied.
func corrupted(t *testing.T, cs []dbgen.Corruption) string {
	t.Helper()
	pg := migrated(t)
	ctx := context.Background()
	name := fmt.Sprintf("corrupt%d", cloneN.Add(1))
	if err := pg.Clone(ctx, "green", name); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := dbgen.Apply(ctx, conn, cs); err != nil {
		t.Fatal(err)
	}
	return pg.DSN(name)
}

// unfingerprinted returns m with every key shown, so that the test can
// name the rows it expects.
func unfingerprinted(m verify.Mapping) verify.Mapping {
	m.Tables = slices.Clone(m.Tables)
	for i := range m.Tables {
		m.Tables[i].FingerprintKey = false
	}
	return m
}

func diffID(table string, d verify.Diff) string {
	return fmt.Sprintf("%s %s %s %s", table, d.Key, d.Kind, strings.Join(d.Columns, ","))
}

// TestCorruptions injects one difference of each kind into a migrated
// database and checks that verify reports exactly those, whether the
// differing chunks are compared row by row at once or split first.
func TestCorruptions(t *testing.T) {
	cs := dbgen.Corruptions()
	dsn := corrupted(t, cs)
	var want []string
	for _, c := range cs {
		k, _ := json.Marshal(c.Key)
		want = append(want, fmt.Sprintf("%s %s %s %s", c.Table, k, c.Kind, strings.Join(c.Columns, ",")))
	}
	slices.Sort(want)
	for _, o := range []verify.Options{
		{ChunkRows: 500},
		{ChunkRows: 5000, LeafRows: 40}, // mismatching chunks are split before rows are read
		{ChunkRows: 100000, Workers: 1}, // one chunk per table
	} {
		t.Run(fmt.Sprintf("chunk=%d,leaf=%d", o.ChunkRows, o.LeafRows), func(t *testing.T) {
			op, np := pools(t, migrated(t).DSN("blue"), dsn)
			res, err := verify.Tables(context.Background(), op, np, unfingerprinted(flagship()), o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range res.Tables {
				for _, d := range tr.Diffs {
					if !knownDefect(tr.Table, d) {
						got = append(got, diffID(tr.Table, d))
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("diffs:\ngot  %q\nwant %q", got, want)
			}
			// deleted; inserted and duplicated; changed, NULL, timestamp, JSON
			if res.Missing != 1 || res.Extra != 2 || res.Changed != 4 {
				t.Errorf("counts: got missing %d, extra %d, changed %d; want 1, 2, 4", res.Missing, res.Extra, res.Changed)
			}
		})
	}
}

// TestNormalizers checks that the normalizers absorb exactly the
// differences they are meant for, and that an expected change is
// counted apart with its reason.
func TestNormalizers(t *testing.T) {
	all := dbgen.Corruptions()
	pick := func(names ...string) []dbgen.Corruption {
		var out []dbgen.Corruption
		for _, c := range all {
			if slices.Contains(names, c.Name) {
				out = append(out, c)
			}
		}
		return out
	}
	dsn := corrupted(t, pick("NULL instead of empty string", "timestamp lost its microseconds",
		"JSON re-serialized", "changed value"))
	m := flagship()
	for i := range m.Tables {
		tm := &m.Tables[i]
		norm := map[string]string{}
		for k, v := range tm.Normalize {
			norm[k] = v
		}
		switch tm.Table {
		case "hydra_oauth2_refresh":
			norm["requested_audience"] = "null_empty"
			tm.Expect = append(tm.Expect, verify.Expect{Columns: []string{"scope"}, Reason: "scopes are rewritten"})
		case "hydra_oauth2_code":
			norm["requested_at"] = "timestamp_s"
		case "hydra_client":
			norm["metadata"] = "jsonb"
		}
		tm.Normalize = norm
	}
	op, np := pools(t, migrated(t).DSN("blue"), dsn)
	res, err := verify.Tables(context.Background(), op, np, m, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	expected := res.ExpectedChanged
	for _, tr := range res.Tables {
		if tr.Table == "hydra_oauth2_flow" {
			expected -= tr.ExpectedChanged
		}
	}
	if res.Unexpected() != 0 || expected != 1 {
		t.Errorf("got %d unexpected and %d expected changes (besides the flow defect), want 0 and 1",
			res.Unexpected(), expected)
	}
	for _, tr := range res.Tables {
		for _, d := range tr.Diffs {
			if knownDefect(tr.Table, d) {
				continue
			}
			if tr.Table != "hydra_oauth2_refresh" || !d.Expected || d.Reason != "scopes are rewritten" {
				t.Errorf("table %s: unexpected diff %+v", tr.Table, d)
			}
			if !strings.HasPrefix(d.Key, "sha256:") {
				t.Errorf("table %s: key %q is not fingerprinted", tr.Table, d.Key)
			}
		}
	}
}

// knownDefect reports whether d is the upstream flow-merge defect that
// the flagship mapping expects (see the mapping of hydra_oauth2_flow):
// every generated flow shows it, whatever was corrupted.
func knownDefect(table string, d verify.Diff) bool {
	return table == "hydra_oauth2_flow" && d.Expected && strings.HasPrefix(d.Reason, "upstream defect")
}
