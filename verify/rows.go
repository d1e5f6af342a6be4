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

// A differ reads the rows of mismatching chunks and classifies them.
type differ struct {
	e  *engine
	p  *plan
	tr *TableResult

	diffs []Diff
}

// A row is one row's key, hash, per-column hashes and the results of
// the side's expectation conditions.
type row struct {
	key   []*string // nil for a NULL key column
	hash  int64
	cols  []int64
	conds []bool // by the side's plan conditions (plan.oldConds or newConds)
}

// rows reads the key, row hash, column hashes and condition results of
// every row of set on one side, by key.
func (d *differ) rows(ctx context.Context, s *side, src, table string, key []string, kh, hash, cols string,
	cs []cond, set chunkSet) (map[string][]row, error) {
	var args []any
	where := set.where(kh, &args)
	q := fmt.Sprintf("SELECT ARRAY[%s], %s, %s", textArray(key), hash, cols)
	for _, c := range cs {
		q += ", " + c.expr()
	}
	q += " FROM " + src
	out := map[string][]row{}
	var mu sync.Mutex
	err := d.e.scan(ctx, s, table, q, where, "", args, func(rows pgx.Rows) error {
		rw := row{conds: make([]bool, len(cs))}
		dst := []any{&rw.key, &rw.hash, &rw.cols}
		for i := range rw.conds {
			dst = append(dst, &rw.conds[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("reading row hashes: %w", err)
		}
		id := keyID(rw.key)
		mu.Lock()
		out[id] = append(out[id], rw)
		mu.Unlock()
		return nil
	})
	if err != nil && len(cs) > 0 {
		if berr := d.blame(ctx, s, src, kh, cs, set); berr != nil {
			return nil, berr
		}
	}
	return out, err
}

// blame finds, after the read of a side's rows failed, the first
// condition that fails on its own over the same rows, such as a cast
// that a value of one row does not fit. It returns that error, a
// *MappingError naming the expectation, or nil when no condition fails
// alone.
func (d *differ) blame(ctx context.Context, s *side, src, kh string, cs []cond, set chunkSet) error {
	const pre = "SELECT count(*) FILTER (WHERE "
	for _, c := range cs {
		var args []any
		q := pre + c.expr() + ") FROM " + src
		if w := set.where(kh, &args); w != "" {
			q += " WHERE " + w
		}
		err := s.read(ctx, func(tx pgx.Tx) error {
			var n int64
			return tx.QueryRow(ctx, q, args...).Scan(&n)
		})
		if me := c.rejected(d.p.t.Table, err, len(pre)+len(condOpen)); me != nil {
			return me
		}
	}
	return nil
}

// leaf compares the rows of the chunks in set one by one.
func (d *differ) leaf(ctx context.Context, set chunkSet) error {
	var om, nm map[string][]row
	errc := make(chan error, 2)
	go func() {
		var err error
		om, err = d.rows(ctx, d.e.old, d.p.oldSrc, d.p.oldTable, d.p.oldKey, d.p.oldKH, d.p.oldHash, d.p.oldCols,
			d.p.oldConds, set)
		errc <- err
	}()
	go func() {
		var err error
		nm, err = d.rows(ctx, d.e.new, d.p.newSrc, d.p.t.Table, d.p.newKey, d.p.newKH, d.p.newHash, d.p.newCols,
			d.p.newConds, set)
		errc <- err
	}()
	if err := errors.Join(<-errc, <-errc); err != nil {
		return err
	}
	for id, os := range om {
		ns := nm[id]
		key := os[0].key
		switch {
		case len(ns) == 0:
			d.diffs = append(d.diffs, d.kind(key, KindMissing, nil, &os[0], nil))
			continue
		case os[0].hash != ns[0].hash:
			d.diffs = append(d.diffs, d.changed(key, &os[0], &ns[0]))
		}
		// The surplus rows of a duplicated key are the ones the
		// expectations' conditions see.
		for i := len(ns); i < len(os); i++ {
			df := d.kind(key, KindMissing, nil, &os[i], nil)
			df.Kind, df.Side = KindDuplicate, "old"
			d.diffs = append(d.diffs, df)
		}
		for i := len(os); i < len(ns); i++ {
			df := d.kind(key, KindExtra, nil, nil, &ns[i])
			df.Kind, df.Side = KindDuplicate, "new"
			d.diffs = append(d.diffs, df)
		}
	}
	for id, ns := range nm {
		if _, ok := om[id]; ok {
			continue
		}
		for i := range ns {
			df := d.kind(ns[0].key, KindExtra, nil, nil, &ns[i])
			if i > 0 {
				df.Kind, df.Side = KindDuplicate, "new"
			}
			d.diffs = append(d.diffs, df)
		}
	}
	return nil
}

func (d *differ) changed(key []*string, o, n *row) Diff {
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
	return d.kind(key, KindChanged, cols, o, n)
}

// kind builds a diff, marking it expected when the mapping says so.
// kind is the counting kind: missing, extra or changed; o and n are the
// old and new rows, nil where the side has none.
//
// A missing or extra row takes the first expectation that matches it.
// A changed row is expected when the expectations whose conditions
// hold on it cover its differing columns together; its reason joins,
// in mapping order, those of the expectations that cover a differing
// column no earlier one covers, so that an expectation made redundant
// by an earlier one does not lengthen it.
func (d *differ) kind(key []*string, kind string, cols []string, o, n *row) Diff {
	df := Diff{Key: displayKey(key, d.p.t.FingerprintKey), Kind: kind, Columns: cols}
	var covered, reasons []string
	for j, x := range d.p.t.Expect {
		xk := x.Kind
		if xk == "" {
			xk = KindChanged
		}
		if xk != kind || !holds(j, d.p.oldConds, o) || !holds(j, d.p.newConds, n) {
			continue
		}
		if kind != KindChanged {
			df.Expected, df.Reason = true, x.Reason
			return df
		}
		adds := false
		for _, c := range x.Columns {
			if slices.Contains(cols, c) && !slices.Contains(covered, c) {
				covered, adds = append(covered, c), true
			}
		}
		if adds && !slices.Contains(reasons, x.Reason) {
			reasons = append(reasons, x.Reason)
		}
	}
	if kind == KindChanged && len(covered) == len(cols) {
		df.Expected, df.Reason = true, strings.Join(reasons, "; ")
	}
	return df
}

// holds reports whether every condition of expectation j among cs,
// one side's conditions, holds on r, that side's row. A condition on a
// side without a row does not hold.
func holds(j int, cs []cond, r *row) bool {
	for i, c := range cs {
		if c.expect == j && (r == nil || !r.conds[i]) {
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

// keyID joins a key's values into one map key; NULL is told apart from
// every string.
func keyID(key []*string) string {
	var b strings.Builder
	for _, k := range key {
		if k == nil {
			b.WriteString("\x01")
		} else {
			b.WriteString("\x02")
			b.WriteString(*k)
		}
		b.WriteByte(0)
	}
	return b.String()
}
