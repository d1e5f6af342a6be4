package verify

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// addDecimal adds two decimal integers given as text; "" is zero.
func addDecimal(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		panic("BUG: checksum is not a decimal integer")
	}
	return x.Add(x, y).String()
}

// A differ narrows mismatching key ranges of one table down to rows.
type differ struct {
	e  *engine
	p  *plan
	tr *TableResult

	mu          sync.Mutex
	diffs       []Diff
	done, total int
}

// ranges compares each range, splitting those with more rows than
// LeafRows, concurrently.
func (d *differ) ranges(ctx context.Context, rs []sized, top bool) error {
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.n > int64(d.e.o.LeafRows) {
				errs[i] = d.split(ctx, r)
			} else {
				errs[i] = d.leaf(ctx, r.r)
			}
			if top {
				d.mu.Lock()
				d.done++
				p := Progress{Table: d.p.t.Table, Phase: "split", Done: d.done, Total: d.total,
					RowsOld: d.tr.RowsOld, RowsNew: d.tr.RowsNew}
				d.e.progress(p)
				d.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// split cuts a large mismatching range into about 16 chunks, compares
// their checksums and goes on with the mismatching ones.
func (d *differ) split(ctx context.Context, r sized) error {
	step := max(1, r.n/16)
	var bounds [][]string
	// Boundaries from whichever side has rows in the range.
	for _, s := range []struct {
		sd       *side
		src      string
		key, typ []string
	}{{d.e.new, d.p.newSrc, d.p.newKey, d.p.newKT}, {d.e.old, d.p.oldSrc, d.p.oldKey, d.p.oldKT}} {
		k := &keyQuery{key: s.key, types: s.typ}
		where := k.where(r.r)
		if where == "" {
			where = "true"
		}
		ord := strings.Join(s.key, ", ")
		q := fmt.Sprintf(`SELECT k FROM (SELECT ARRAY[%s] AS k, row_number() OVER (ORDER BY %s) AS rn FROM %s WHERE %s) s
			WHERE rn %% %d = 1 AND rn > 1 ORDER BY rn`, textArray(s.key), ord, s.src, where, step)
		err := s.sd.read(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, q, k.args...)
			if err != nil {
				return fmt.Errorf("splitting a chunk: %w", err)
			}
			bounds, err = pgx.CollectRows(rows, pgx.RowTo[[]string])
			return err
		})
		if err != nil {
			return err
		}
		bounds = every(append([][]string{nil}, bounds...), 1)
		bounds = slices.DeleteFunc(bounds, func(b []string) bool { return r.r.lo != nil && slices.Equal(b, r.r.lo) })
		if len(bounds) > 0 {
			break
		}
	}
	if len(bounds) == 0 {
		// One key value fills the range: only rows can tell.
		return d.leaf(ctx, r.r)
	}
	oc, nc, err := d.e.checksums(ctx, d.p, r.r, bounds, false)
	if err != nil {
		return err
	}
	return d.ranges(ctx, mismatched(r.r, bounds, oc, nc), false)
}

// A row is one row's key, hash and per-column hashes (read only for
// rows that differ).
type row struct {
	key  []string
	hash int64
	cols []int64
}

// rows reads the key and row hash of every row in r on one side.
func (d *differ) rows(ctx context.Context, s *side, src string, key, kt []string, hash string, r keyRange) (map[string][]row, error) {
	k := &keyQuery{key: key, types: kt}
	q := fmt.Sprintf("SELECT ARRAY[%s], %s FROM %s", textArray(key), hash, src)
	if w := k.where(r); w != "" {
		q += " WHERE " + w
	}
	out := map[string][]row{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, k.args...)
		if err != nil {
			return fmt.Errorf("reading row hashes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var rw row
			if err := rows.Scan(&rw.key, &rw.hash); err != nil {
				return fmt.Errorf("reading row hashes: %w", err)
			}
			id := strings.Join(rw.key, "\x00")
			out[id] = append(out[id], rw)
		}
		return rows.Err()
	})
	return out, err
}

// colHashes reads the per-column hashes of the rows with the given
// keys on one side, by key id.
func (d *differ) colHashes(ctx context.Context, s *side, src string, key, kt []string, cols string, r keyRange, keys [][]string) (map[string][]int64, error) {
	out := map[string][]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	k := &keyQuery{key: key, types: kt}
	// The keys as one text array per key column, matched as text.
	var conds []string
	for j := range key {
		col := make([]string, len(keys))
		for i, kv := range keys {
			col[i] = kv[j]
		}
		conds = append(conds, k.param(col)+"::text[]")
	}
	// The range predicate lets the key index find the rows.
	where := k.where(r)
	if where == "" {
		where = "true"
	}
	q := fmt.Sprintf("SELECT ARRAY[%s], %s FROM %s WHERE %s AND ARRAY[%s] IN (SELECT ARRAY[%s] FROM unnest(%s) AS u(%s))",
		textArray(key), cols, src, where, textArray(key), strings.Join(colNames(len(key)), ", "),
		strings.Join(conds, ", "), strings.Join(colNames(len(key)), ", "))
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, k.args...)
		if err != nil {
			return fmt.Errorf("reading column hashes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var kv []string
			var hs []int64
			if err := rows.Scan(&kv, &hs); err != nil {
				return fmt.Errorf("reading column hashes: %w", err)
			}
			out[strings.Join(kv, "\x00")] = hs
		}
		return rows.Err()
	})
	return out, err
}

func colNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", i)
	}
	return out
}

// leaf compares the rows of a range one by one: keys and row hashes
// first, then the column hashes of the rows whose hashes differ.
func (d *differ) leaf(ctx context.Context, r keyRange) error {
	var om, nm map[string][]row
	errc := make(chan error, 2)
	go func() {
		var err error
		om, err = d.rows(ctx, d.e.old, d.p.oldSrc, d.p.oldKey, d.p.oldKT, d.p.oldHash, r)
		errc <- err
	}()
	go func() {
		var err error
		nm, err = d.rows(ctx, d.e.new, d.p.newSrc, d.p.newKey, d.p.newKT, d.p.newHash, r)
		errc <- err
	}()
	if err := errors.Join(<-errc, <-errc); err != nil {
		return err
	}
	var changed [][]string
	for id, os := range om {
		if ns := nm[id]; len(ns) > 0 && os[0].hash != ns[0].hash {
			changed = append(changed, os[0].key)
		}
	}
	var oc, nc map[string][]int64
	go func() {
		var err error
		oc, err = d.colHashes(ctx, d.e.old, d.p.oldSrc, d.p.oldKey, d.p.oldKT, d.p.oldCols, r, changed)
		errc <- err
	}()
	go func() {
		var err error
		nc, err = d.colHashes(ctx, d.e.new, d.p.newSrc, d.p.newKey, d.p.newKT, d.p.newCols, r, changed)
		errc <- err
	}()
	if err := errors.Join(<-errc, <-errc); err != nil {
		return err
	}
	var found []Diff
	for id, os := range om {
		ns := nm[id]
		key := os[0].key
		switch {
		case len(ns) == 0:
			found = append(found, d.kind(key, KindMissing, nil))
			continue
		case os[0].hash != ns[0].hash:
			found = append(found, d.changed(key, row{cols: oc[id]}, row{cols: nc[id]}))
		}
		for range len(os) - len(ns) {
			df := d.kind(key, KindMissing, nil)
			df.Kind, df.Side = KindDuplicate, "old"
			found = append(found, df)
		}
		for range len(ns) - len(os) {
			df := d.kind(key, KindExtra, nil)
			df.Kind, df.Side = KindDuplicate, "new"
			found = append(found, df)
		}
	}
	for id, ns := range nm {
		if _, ok := om[id]; ok {
			continue
		}
		for i := range ns {
			df := d.kind(ns[0].key, KindExtra, nil)
			if i > 0 {
				df.Kind, df.Side = KindDuplicate, "new"
			}
			found = append(found, df)
		}
	}
	d.mu.Lock()
	d.diffs = append(d.diffs, found...)
	d.mu.Unlock()
	return nil
}

func (d *differ) changed(key []string, o, n row) Diff {
	var cols []string
	for i, c := range d.p.compared {
		if i < len(o.cols) && i < len(n.cols) && o.cols[i] != n.cols[i] {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		// The key's own text differs in a way its type hides, such as a
		// type change; name the key.
		cols = slices.Clone(d.p.t.Key)
	}
	return d.kind(key, KindChanged, cols)
}

// kind builds a diff, marking it expected when the mapping says so.
// kind is the counting kind: missing, extra or changed.
func (d *differ) kind(key []string, kind string, cols []string) Diff {
	df := Diff{Key: displayKey(key, d.p.t.FingerprintKey), Kind: kind, Columns: cols}
	for _, x := range d.p.t.Expect {
		xk := x.Kind
		if xk == "" {
			xk = KindChanged
		}
		if xk != kind {
			continue
		}
		if kind == KindChanged && !subset(cols, x.Columns) {
			continue
		}
		df.Expected, df.Reason = true, x.Reason
		break
	}
	return df
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// finish counts the diffs and keeps the first MaxDiffs, unexpected
// ones first, in a stable order.
func (d *differ) finish() {
	for _, df := range d.diffs {
		kind := df.Kind
		if kind == KindDuplicate {
			kind = KindExtra
			if df.Side == "old" {
				kind = KindMissing
			}
		}
		switch {
		case kind == KindMissing && df.Expected:
			d.tr.ExpectedMissing++
		case kind == KindMissing:
			d.tr.Missing++
		case kind == KindExtra && df.Expected:
			d.tr.ExpectedExtra++
		case kind == KindExtra:
			d.tr.Extra++
		case df.Expected:
			d.tr.ExpectedChanged++
		default:
			d.tr.Changed++
		}
	}
	slices.SortFunc(d.diffs, func(a, b Diff) int {
		if a.Expected != b.Expected {
			if a.Expected {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	if len(d.diffs) > d.e.o.MaxDiffs {
		d.diffs = d.diffs[:d.e.o.MaxDiffs]
	}
	d.tr.Diffs = d.diffs
}
