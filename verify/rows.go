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

// A row is one row's key, hash and per-column hashes.
type row struct {
	key  []*string // nil for a NULL key column
	hash int64
	cols []int64
}

// rows reads the key, row hash and column hashes of every row of set
// on one side, by key.
func (d *differ) rows(ctx context.Context, s *side, src, table string, key []string, kh, hash, cols string,
	set chunkSet) (map[string][]row, error) {
	var args []any
	where := set.where(kh, &args)
	q := fmt.Sprintf("SELECT ARRAY[%s], %s, %s FROM %s", textArray(key), hash, cols, src)
	out := map[string][]row{}
	var mu sync.Mutex
	err := d.e.scan(ctx, s, table, q, where, "", args, func(rows pgx.Rows) error {
		var rw row
		if err := rows.Scan(&rw.key, &rw.hash, &rw.cols); err != nil {
			return fmt.Errorf("reading row hashes: %w", err)
		}
		id := keyID(rw.key)
		mu.Lock()
		out[id] = append(out[id], rw)
		mu.Unlock()
		return nil
	})
	return out, err
}

// leaf compares the rows of the chunks in set one by one.
func (d *differ) leaf(ctx context.Context, set chunkSet) error {
	var om, nm map[string][]row
	errc := make(chan error, 2)
	go func() {
		var err error
		om, err = d.rows(ctx, d.e.old, d.p.oldSrc, d.p.oldTable, d.p.oldKey, d.p.oldKH, d.p.oldHash, d.p.oldCols, set)
		errc <- err
	}()
	go func() {
		var err error
		nm, err = d.rows(ctx, d.e.new, d.p.newSrc, d.p.t.Table, d.p.newKey, d.p.newKH, d.p.newHash, d.p.newCols, set)
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
			d.diffs = append(d.diffs, d.kind(key, KindMissing, nil))
			continue
		case os[0].hash != ns[0].hash:
			d.diffs = append(d.diffs, d.changed(key, os[0], ns[0]))
		}
		for range len(os) - len(ns) {
			df := d.kind(key, KindMissing, nil)
			df.Kind, df.Side = KindDuplicate, "old"
			d.diffs = append(d.diffs, df)
		}
		for range len(ns) - len(os) {
			df := d.kind(key, KindExtra, nil)
			df.Kind, df.Side = KindDuplicate, "new"
			d.diffs = append(d.diffs, df)
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
			d.diffs = append(d.diffs, df)
		}
	}
	return nil
}

func (d *differ) changed(key []*string, o, n row) Diff {
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
func (d *differ) kind(key []*string, kind string, cols []string) Diff {
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
