package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover-dev/cutover/internal/dbgen"
	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchRows is the size of each benchmark table: CUTOVER_BENCH_ROWS,
// default 100000 so that `make bench` stays short; `make bench-verify`
// sets 10 million.
func benchRows(b *testing.B) int {
	n := 100000
	if s := os.Getenv("CUTOVER_BENCH_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("CUTOVER_BENCH_ROWS=%q: not a positive number", s)
		}
	}
	return n
}

const benchDiffs = 100

// benchWorkers is verify's workers per side: CUTOVER_BENCH_WORKERS, or
// what cutover uses for two databases on this machine.
func benchWorkers() int {
	if w, err := strconv.Atoi(os.Getenv("CUTOVER_BENCH_WORKERS")); err == nil && w > 0 {
		return w
	}
	return verify.LocalWorkers()
}

var (
	benchOnce sync.Once
	benchPG   *provision.Postgres
	benchErr  error
)

// benchFixture builds, once per run, three databases holding the same
// token table: a, b (identical copy) and c (a copy with benchDiffs
// changed rows).
func benchFixture(b *testing.B) *provision.Postgres {
	b.Helper()
	benchOnce.Do(func() {
		ctx := context.Background()
		n := benchRows(b)
		b.Logf("generating %d rows", n)
		if benchPG, benchErr = provision.StartPostgres(ctx); benchErr != nil {
			return
		}
		benchErr = func() error {
			if err := benchPG.CreateDatabase(ctx, "a"); err != nil {
				return err
			}
			conn, err := pgx.Connect(ctx, benchPG.DSN("a"))
			if err != nil {
				return err
			}
			err = dbgen.TokenTable(ctx, conn, "tokens", n)
			conn.Close(ctx)
			if err != nil {
				return err
			}
			if err := benchPG.Clone(ctx, "a", "b"); err != nil {
				return err
			}
			if err := benchPG.Clone(ctx, "a", "c"); err != nil {
				return err
			}
			conn, err = pgx.Connect(ctx, benchPG.DSN("c"))
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			changed, err := dbgen.ChangeRows(ctx, conn, "tokens", benchDiffs)
			if err == nil && changed != benchDiffs {
				err = fmt.Errorf("changed %d rows, want %d", changed, benchDiffs)
			}
			// The copies are gigabytes of dirty pages the kernel writes
			// out for a minute; without waiting for that, whichever
			// benchmark runs first pays for it.
			syscall.Sync()
			return err
		}()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPG
}

var benchMapping = verify.Mapping{Tables: []verify.TableMap{{Table: "tokens", Key: []string{"signature"}, FingerprintKey: true}}}

const benchColumns = `signature, request_id, requested_at, client_id, scope, granted_scope, form_data,
	session_data, subject, active, requested_audience, granted_audience, challenge_id`

// BenchmarkVerify compares two identical token tables of
// CUTOVER_BENCH_ROWS rows each, then two with 100 changed rows, against
// the floor (one bare hash scan of each table, both at once) and two
// naive comparisons that fetch every row of both sides in key order
// and compare them in Go: on wire bytes, and on decoded values.
//
// The sub-benchmarks run one after the other, so on a machine whose
// speed drifts (a virtual machine, writeback of the fresh tables) the
// first pays more; BenchmarkVerifyRatios times them interleaved.
func BenchmarkVerify(b *testing.B) {
	pg := benchFixture(b)
	ctx := context.Background()
	n := int64(benchRows(b))
	run := func(newDB string, wantChanged int64) func(b *testing.B) {
		return func(b *testing.B) {
			op, np := pools(b, pg.DSN("a"), pg.DSN(newDB))
			b.ReportAllocs()
			for b.Loop() {
				if err := verifyOnce(ctx, op, np, n, wantChanged); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		}
	}
	b.Run("identical", run("b", 0))
	b.Run("100-diffs", run("c", benchDiffs))
	b.Run("floor", func(b *testing.B) {
		op, np := pools(b, pg.DSN("a"), pg.DSN("b"))
		b.ReportAllocs()
		for b.Loop() {
			if err := floor(ctx, op, np); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, nv := range []struct {
		name   string
		decode bool
	}{{"naive", false}, {"naive-decoded", true}} {
		b.Run(nv.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := naive(ctx, pg.DSN("a"), pg.DSN("b"), nv.decode); err != nil || d != 0 {
					b.Fatalf("%s: %d differences, %v", nv.name, d, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkVerifyRatios times verify on identical tables, the floor and
// verify with 100 changed rows interleaved, in three rounds of rotating
// order per iteration, and reports the median ratios: verify over the floor (goal at
// most 1.5) and 100 changed rows over identical tables (goal at most
// 2). Interleaving makes the ratios hold on a machine whose speed
// drifts during the run, where timing each alone in turn does not.
func BenchmarkVerifyRatios(b *testing.B) {
	pg := benchFixture(b)
	ctx := context.Background()
	n := int64(benchRows(b))
	oi, ni := pools(b, pg.DSN("a"), pg.DSN("b"))
	od, nd := pools(b, pg.DSN("a"), pg.DSN("c"))
	steps := []struct {
		name string
		run  func() error
	}{
		{"identical", func() error { return verifyOnce(ctx, oi, ni, n, 0) }},
		{"floor", func() error { return floor(ctx, oi, ni) }},
		{"diffs", func() error { return verifyOnce(ctx, od, nd, n, benchDiffs) }},
	}
	var overFloor, diffsOverSame []float64
	for b.Loop() {
		// Three rounds, each starting with another step, so that every
		// step runs first, second and third once.
		for round := range len(steps) {
			took := map[string]float64{}
			for j := range steps {
				st := steps[(round+j)%len(steps)]
				start := time.Now()
				if err := st.run(); err != nil {
					b.Fatalf("%s: %v", st.name, err)
				}
				took[st.name] = time.Since(start).Seconds()
			}
			b.Logf("round %d: identical %.2fs, floor %.2fs, 100 diffs %.2fs", round, took["identical"],
				took["floor"], took["diffs"])
			overFloor = append(overFloor, took["identical"]/took["floor"])
			diffsOverSame = append(diffsOverSame, took["diffs"]/took["identical"])
		}
	}
	b.ReportMetric(median(overFloor), "x-floor")
	b.ReportMetric(median(diffsOverSame), "x-identical(100-diffs)")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// verifyOnce runs verify on the pools and checks its counts.
func verifyOnce(ctx context.Context, op, np *pgxpool.Pool, n, wantChanged int64) error {
	res, err := verify.Tables(ctx, op, np, benchMapping, verify.Options{Workers: benchWorkers()})
	if err != nil {
		return err
	}
	if res.RowsCompared != n || res.Changed != wantChanged || res.Missing+res.Extra != 0 {
		return fmt.Errorf("compared %d rows, %d changed, %d missing, %d extra; want %d rows, %d changed",
			res.RowsCompared, res.Changed, res.Missing, res.Extra, n, wantChanged)
	}
	return nil
}

// floor runs the floor: one bare hash scan of each table, both at once.
func floor(ctx context.Context, op, np *pgxpool.Pool) error {
	q := "SELECT count(*), sum(hash_record_extended(ROW(" + benchColumns + "), 0))::text FROM tokens"
	var sums [2]string
	errs := make(chan error, 2)
	for i, p := range []*pgxpool.Pool{op, np} {
		go func() {
			var c int64
			errs <- p.QueryRow(ctx, q).Scan(&c, &sums[i])
		}()
	}
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if sums[0] != sums[1] {
		return errors.New("identical tables hash differently")
	}
	return nil
}

// naive fetches both tables whole in key order and compares them row
// by row, column by column, as a script without verify would. With
// decode false it compares the values' wire bytes, the cheapest a
// client can do; with decode true it decodes them into Go values first
// (rows.Values) and compares those, as a script written against a
// driver's usual API does.
func naive(ctx context.Context, oldDSN, newDSN string, decode bool) (int, error) {
	oc, err := pgx.Connect(ctx, oldDSN)
	if err != nil {
		return 0, err
	}
	defer oc.Close(ctx)
	nc, err := pgx.Connect(ctx, newDSN)
	if err != nil {
		return 0, err
	}
	defer nc.Close(ctx)
	q := "SELECT " + benchColumns + " FROM tokens ORDER BY signature"
	or, err := oc.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	defer or.Close()
	nr, err := nc.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	defer nr.Close()
	diffs := 0
	for {
		on, nn := or.Next(), nr.Next()
		if on != nn {
			return diffs, errors.New("row counts differ")
		}
		if !on {
			break
		}
		if decode {
			ov, err := or.Values()
			if err != nil {
				return diffs, err
			}
			nv, err := nr.Values()
			if err != nil {
				return diffs, err
			}
			if !reflect.DeepEqual(ov, nv) {
				diffs++
			}
			continue
		}
		ov, nv := or.RawValues(), nr.RawValues()
		for i := range ov {
			if !bytes.Equal(ov[i], nv[i]) {
				diffs++
				break
			}
		}
	}
	return diffs, errors.Join(or.Err(), nr.Err())
}
