package verify

import (
	"cmp"
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
		d.group(os, nm[id])
	}
	for id, ns := range nm {
		if _, ok := om[id]; !ok {
			d.group(nil, ns)
		}
	}
	return nil
}

// group compares the rows of one key, os on the old side and ns on the
// new side, and adds their differences.
//
// A key that is unique on both sides is one row compared with one row.
// A key that repeats (the mapping's key is not unique) is compared as a
// multiset: old and new rows with equal hashes match each other; the
// rows left unmatched on both sides are paired, each with the row of
// the other side closest to it, as changed rows, and those left over
// on one side are its surplus duplicates (counted as missing on the
// old side, extra on the new one). A changed row of a repeated key is always unexpected, with
// Side saying where its key repeats: which old row pairs with which
// new one is arbitrary, so no expectation can vouch for it, and a
// mapping whose key is not unique must be seen. Identical groups of a
// repeated key, whose rows all match, are not reported: their
// checksums agree and nothing of them differs.
func (d *differ) group(os, ns []row) {
	if len(os) == 1 && len(ns) == 1 {
		if os[0].hash != ns[0].hash {
			d.diffs = append(d.diffs, d.changed(os[0].key, &os[0], &ns[0]))
		}
		return
	}
	switch {
	case len(ns) == 0:
		d.diffs = append(d.diffs, d.kind(os[0].key, KindMissing, nil, &os[0], nil))
		os = os[1:]
	case len(os) == 0:
		d.diffs = append(d.diffs, d.kind(ns[0].key, KindExtra, nil, nil, &ns[0]))
		ns = ns[1:]
	}
	byHash := func(a, b row) int { return cmp.Compare(a.hash, b.hash) }
	os, ns = slices.Clone(os), slices.Clone(ns)
	slices.SortFunc(os, byHash)
	slices.SortFunc(ns, byHash)
	// Drop the matching rows of the two sorted lists; pair the rest
	// (see pairClosest), in hash order when there are too many.
	var uo, un []row
	i, j := 0, 0
	for i < len(os) && j < len(ns) {
		switch c := byHash(os[i], ns[j]); {
		case c == 0:
			i, j = i+1, j+1
		case c < 0:
			uo, i = append(uo, os[i]), i+1
		default:
			un, j = append(un, ns[j]), j+1
		}
	}
	uo, un = append(uo, os[i:]...), append(un, ns[j:]...)
	side := "both"
	switch {
	case len(ns) <= 1:
		side = "old"
	case len(os) <= 1:
		side = "new"
	}
	if len(uo)*len(un) <= 1<<20 {
		pairClosest(uo, un)
	}
	k := 0
	for ; k < len(uo) && k < len(un); k++ {
		df := d.changed(uo[k].key, &uo[k], &un[k])
		df.Expected, df.Reason, df.Side = false, "", side
		d.diffs = append(d.diffs, df)
	}
	// The surplus rows of a duplicated key are the ones the
	// expectations' conditions see.
	for ; k < len(uo); k++ {
		df := d.kind(uo[k].key, KindMissing, nil, &uo[k], nil)
		df.Kind, df.Side = KindDuplicate, "old"
		d.diffs = append(d.diffs, df)
	}
	for ; k < len(un); k++ {
		df := d.kind(un[k].key, KindExtra, nil, nil, &un[k])
		df.Kind, df.Side = KindDuplicate, "new"
		d.diffs = append(d.diffs, df)
	}
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

// pairClosest reorders un so that each row of uo, in turn, is followed
// at its index by the remaining row of un with the most equal column
// hashes: the pairs of a repeated key then name the columns that
// really differ rather than those of arbitrary rows.
func pairClosest(uo, un []row) {
	for i := 0; i < len(uo) && i < len(un); i++ {
		best, score := i, -1
		for j := i; j < len(un); j++ {
			n := 0
			for c := range uo[i].cols {
				if c < len(un[j].cols) && uo[i].cols[c] == un[j].cols[c] {
					n++
				}
			}
			if n > score {
				best, score = j, n
			}
		}
		un[i], un[best] = un[best], un[i]
	}
}
