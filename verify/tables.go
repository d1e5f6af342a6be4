package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a comparison. The zero value is usable.
type Options struct {
	// ChunkRows is the target number of rows per key-range chunk;
	// 0 means 2000. Smaller chunks cost more groups in the first scan
	// and fewer rows re-read for each difference.
	ChunkRows int
	// LeafRows is the largest range compared row by row; a mismatching
	// range with more rows is split into smaller chunks first. 0 means
	// 20000.
	LeafRows int
	// Workers bounds the concurrent queries on each side; 0 means one
	// less than the pool's MaxConns (one connection holds the
	// snapshot).
	Workers int
	// MaxDiffs bounds how many differing rows a TableResult lists;
	// 0 means 100. Counts are always exact.
	MaxDiffs int
	// Progress, when set, is called as the comparison advances, from
	// one goroutine at a time.
	Progress func(Progress)
}

// Progress reports how far a comparison is.
type Progress struct {
	// Table is the table being compared.
	Table string
	// Phase is "count", "scan" (checksums of every chunk), "split"
	// (mismatching chunks compared row by row) or "done".
	Phase string
	// Done and Total count chunks in phase "split", tables otherwise.
	Done, Total int
	// RowsOld and RowsNew are the table's row counts, once known.
	RowsOld, RowsNew int64
}

func (o *Options) defaults() {
	if o.ChunkRows <= 0 {
		o.ChunkRows = 2000
	}
	if o.LeafRows <= 0 {
		o.LeafRows = 20000
	}
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = 100
	}
}

// Tables compares the public tables of two PostgreSQL databases: every
// table by row count, and the tables m maps row by row on their keys.
//
// A mapped table is compared in rounds. Its key range is cut into
// chunks of about Options.ChunkRows rows; one scan of each side
// computes, inside PostgreSQL, every chunk's row count and the sum of
// its rows' 64-bit hashes. Only chunks whose checksums differ are read
// again, split further when large, down to the rows that differ; for
// those, per-column hashes name the differing columns without reading
// any value. Scans run in parallel over the pools, cut into block
// ranges.
//
// Each side is read in read-only transactions that share one exported
// snapshot (pg_export_snapshot, SET TRANSACTION SNAPSHOT), so a
// database under write load is compared as of one moment, and nothing
// is written: a role with SELECT only suffices. Each pool needs at
// least two connections; one holds the snapshot for the whole run.
//
// Findings are data: differences are counted in the result, never
// returned as errors.
func Tables(ctx context.Context, old, new *pgxpool.Pool, m Mapping, o Options) (*TablesResult, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	o.defaults()
	os, err := openSide(ctx, "old", old, o.Workers)
	if err != nil {
		return nil, err
	}
	defer os.close(ctx)
	ns, err := openSide(ctx, "new", new, o.Workers)
	if err != nil {
		return nil, err
	}
	defer ns.close(ctx)
	ocols, err := columns(ctx, os.leadTx)
	if err != nil {
		return nil, fmt.Errorf("old database: %w", err)
	}
	ncols, err := columns(ctx, ns.leadTx)
	if err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}
	e := &engine{o: o, old: os, new: ns, ignore: m.IgnoreColumns}

	mapped := map[string]bool{} // old names used by a table map
	for _, t := range m.Tables {
		if _, ok := ncols[t.Table]; !ok {
			return nil, fmt.Errorf("table %s: not in the new database", t.Table)
		}
		if t.OldSQL == "" {
			if _, ok := ocols[t.OldName()]; !ok {
				return nil, fmt.Errorf("table %s: not in the old database", t.OldName())
			}
			mapped[t.OldName()] = true
		}
	}
	res := &TablesResult{}
	names := map[string]bool{}
	for n := range ocols {
		if !mapped[n] || slices.ContainsFunc(m.Tables, func(t TableMap) bool { return t.Table == n }) {
			names[n] = true
		}
	}
	for n := range ncols {
		names[n] = true
	}
	sorted := slices.Sorted(maps.Keys(names))
	for i, name := range sorted {
		j := slices.IndexFunc(m.Tables, func(t TableMap) bool { return t.Table == name })
		if j >= 0 {
			t := m.Tables[j]
			tr, err := e.table(ctx, t, ocols[t.OldName()], ncols[name], i, len(sorted))
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", name, err)
			}
			res.add(*tr)
			continue
		}
		tr := TableResult{Table: name, RowsOld: -1, RowsNew: -1}
		e.progress(Progress{Table: name, Phase: "count", Done: i, Total: len(sorted)})
		if _, ok := ocols[name]; ok && !mapped[name] {
			if tr.RowsOld, err = count(ctx, os.leadTx, pgx.Identifier{name}.Sanitize()); err != nil {
				return nil, fmt.Errorf("old database: %w", err)
			}
		}
		if _, ok := ncols[name]; ok {
			if tr.RowsNew, err = count(ctx, ns.leadTx, pgx.Identifier{name}.Sanitize()); err != nil {
				return nil, fmt.Errorf("new database: %w", err)
			}
		}
		res.add(tr)
	}
	e.progress(Progress{Phase: "done", Done: len(sorted), Total: len(sorted)})
	return res, nil
}

type engine struct {
	o        Options
	old, new *side
	ignore   []string
}

func (e *engine) progress(p Progress) {
	if e.o.Progress != nil {
		e.o.Progress(p)
	}
}

// columns maps each public base table to its columns' types, in
// format_type's spelling.
func columns(ctx context.Context, tx pgx.Tx) (map[string]map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname, format_type(a.atttypid, NULL)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("listing columns: %w", err)
	}
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, fmt.Errorf("listing columns: %w", err)
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	return out, rows.Err()
}

// queryColumns returns the result columns of a query and their types.
func queryColumns(ctx context.Context, tx pgx.Tx, query string) (map[string]string, error) {
	rows, err := tx.Query(ctx, "SELECT * FROM ("+query+") AS src LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("old_sql: %w", err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("old_sql: %w", err)
	}
	oids := make([]uint32, len(fds))
	for i, f := range fds {
		oids[i] = f.DataTypeOID
	}
	var types []string
	err = tx.QueryRow(ctx, "SELECT array_agg(format_type(o, NULL) ORDER BY i) FROM unnest($1::oid[]) WITH ORDINALITY AS u(o, i)",
		oids).Scan(&types)
	if err != nil {
		return nil, fmt.Errorf("old_sql: column types: %w", err)
	}
	out := map[string]string{}
	for i, f := range fds {
		if _, dup := out[f.Name]; dup {
			return nil, fmt.Errorf("old_sql: column %s appears twice", f.Name)
		}
		out[f.Name] = types[i]
	}
	return out, nil
}

func count(ctx context.Context, tx pgx.Tx, src string) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+src).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s: %w", src, err)
	}
	return n, nil
}

// unhashable lists types without a hash function; their values are
// compared by their text form.
var unhashable = []string{"json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"}

// plan is how one table is read on both sides.
type plan struct {
	t                TableMap
	oldSrc, newSrc   string   // FROM items
	oldTable         string   // the old table's name, "" for old_sql
	oldKey, newKey   []string // quoted key column expressions
	oldKT, newKT     []string // key column types
	compared         []string // compared column names (new names)
	oldExpr, newExpr []string // normalized expressions of compared columns
	oldHash, newHash string   // row hash expressions
	oldCols, newCols string   // per-column hash array expressions
}

func (e *engine) plan(ctx context.Context, t TableMap, ocols, ncols map[string]string, tr *TableResult) (*plan, error) {
	p := &plan{t: t, newSrc: pgx.Identifier{t.Table}.Sanitize()}
	if t.OldSQL != "" {
		var err error
		if ocols, err = queryColumns(ctx, e.old.leadTx, t.OldSQL); err != nil {
			return nil, err
		}
		p.oldSrc = "(" + t.OldSQL + ") AS src"
		tr.OldTable = "(query)"
	} else {
		p.oldTable = t.OldName()
		p.oldSrc = pgx.Identifier{t.OldName()}.Sanitize()
		if t.OldName() != t.Table {
			tr.OldTable = t.OldName()
		}
	}
	// old columns under their new names
	byNew := map[string]string{} // new name -> old name
	for oc := range ocols {
		nc := oc
		if r, ok := t.Rename[oc]; ok {
			nc = r
		}
		byNew[nc] = oc
	}
	for _, k := range t.Key {
		oc, ok := byNew[k]
		if !ok {
			return nil, fmt.Errorf("key column %s: not in the old table", k)
		}
		nt, ok := ncols[k]
		if !ok {
			return nil, fmt.Errorf("key column %s: not in the new table", k)
		}
		p.oldKey = append(p.oldKey, pgx.Identifier{oc}.Sanitize())
		p.newKey = append(p.newKey, pgx.Identifier{k}.Sanitize())
		p.oldKT = append(p.oldKT, ocols[oc])
		p.newKT = append(p.newKT, nt)
	}
	skip := slices.Concat(t.Key, t.Ignore, e.ignore)
	for nc, oc := range byNew {
		if _, ok := ncols[nc]; !ok {
			if !slices.Contains(skip, nc) && !slices.Contains(skip, oc) {
				tr.OldOnly = append(tr.OldOnly, oc)
			}
			continue
		}
		if slices.Contains(skip, nc) || slices.Contains(skip, oc) {
			continue
		}
		p.compared = append(p.compared, nc)
	}
	for nc := range ncols {
		if _, ok := byNew[nc]; !ok && !slices.Contains(skip, nc) {
			tr.NewOnly = append(tr.NewOnly, nc)
		}
	}
	for c := range t.Normalize {
		if !slices.Contains(p.compared, c) {
			return nil, fmt.Errorf("normalize: column %s is not compared", c)
		}
	}
	slices.Sort(p.compared)
	slices.Sort(tr.OldOnly)
	slices.Sort(tr.NewOnly)
	tr.Compared = p.compared
	for _, nc := range p.compared {
		oc := byNew[nc]
		ot, nt := ocols[oc], ncols[nc]
		oe, ne := pgx.Identifier{oc}.Sanitize(), pgx.Identifier{nc}.Sanitize()
		switch n, ok := t.Normalize[nc]; {
		case ok:
			oe, ne = fmt.Sprintf(Normalizers[n].Old, oe), fmt.Sprintf(Normalizers[n].New, ne)
		case ot != nt:
			tr.Skipped = append(tr.Skipped, nc)
			oe, ne = oe+"::text", ne+"::text"
		case slices.Contains(unhashable, ot):
			oe, ne = oe+"::text", ne+"::text"
		}
		p.oldExpr = append(p.oldExpr, oe)
		p.newExpr = append(p.newExpr, ne)
	}
	okh, nkh := slices.Clone(p.oldKey), slices.Clone(p.newKey)
	for i := range okh {
		if p.oldKT[i] != p.newKT[i] || slices.Contains(unhashable, p.oldKT[i]) {
			okh[i], nkh[i] = okh[i]+"::text", nkh[i]+"::text"
		}
	}
	p.oldHash = "hash_record_extended(ROW(" + strings.Join(slices.Concat(okh, p.oldExpr), ", ") + "), 0)"
	p.newHash = "hash_record_extended(ROW(" + strings.Join(slices.Concat(nkh, p.newExpr), ", ") + "), 0)"
	p.oldCols, p.newCols = colHashes(p.oldExpr), colHashes(p.newExpr)
	return p, nil
}

func colHashes(exprs []string) string {
	if len(exprs) == 0 {
		return "ARRAY[]::bigint[]"
	}
	hs := make([]string, len(exprs))
	for i, e := range exprs {
		hs[i] = "hash_record_extended(ROW(" + e + "), 0)"
	}
	return "ARRAY[" + strings.Join(hs, ", ") + "]"
}

func (e *engine) table(ctx context.Context, t TableMap, ocols, ncols map[string]string, i, n int) (*TableResult, error) {
	tr := &TableResult{Table: t.Table, Keyed: true}
	p, err := e.plan(ctx, t, ocols, ncols, tr)
	if err != nil {
		return nil, err
	}
	e.progress(Progress{Table: t.Table, Phase: "scan", Done: i, Total: n})
	bounds, err := e.boundaries(ctx, p)
	if err != nil {
		return nil, err
	}
	whole := keyRange{}
	oc, nc, err := e.checksums(ctx, p, whole, bounds, true)
	if err != nil {
		return nil, err
	}
	tr.Chunks = len(bounds) + 1
	for _, c := range oc {
		tr.RowsOld += c.n
	}
	for _, c := range nc {
		tr.RowsNew += c.n
	}
	bad := mismatched(whole, bounds, oc, nc)
	tr.ChunksMismatched = len(bad)
	d := &differ{e: e, p: p, tr: tr}
	d.total = len(bad)
	e.progress(Progress{Table: t.Table, Phase: "split", Done: 0, Total: d.total, RowsOld: tr.RowsOld, RowsNew: tr.RowsNew})
	if err := d.ranges(ctx, bad, true); err != nil {
		return nil, err
	}
	d.finish()
	return tr, nil
}

// A keyRange is [lo, hi) over the key, as text values per key column;
// nil means unbounded.
type keyRange struct {
	lo, hi []string
}

// A check is one chunk's row count and sum of row hashes (as decimal
// text: the sum of 64-bit values overflows 64 bits).
type check struct {
	n   int64
	sum string
}

// bucketRange returns the key range of chunk b given the chunks'
// lower boundaries inside r.
func bucketRange(r keyRange, bounds [][]string, b int) keyRange {
	out := r
	if b > 0 {
		out.lo = bounds[b-1]
	}
	if b < len(bounds) {
		out.hi = bounds[b]
	}
	return out
}

type sized struct {
	r keyRange
	n int64
}

func mismatched(r keyRange, bounds [][]string, oc, nc map[int]check) []sized {
	var bad []sized
	for b := 0; b <= len(bounds); b++ {
		o, n := oc[b], nc[b]
		if o.n != n.n || o.sum != n.sum {
			bad = append(bad, sized{bucketRange(r, bounds, b), max(o.n, n.n)})
		}
	}
	return bad
}

// boundaries samples the new table (or the old one when the new is
// empty) for chunk boundaries: sorted, distinct key values about
// ChunkRows rows apart.
func (e *engine) boundaries(ctx context.Context, p *plan) ([][]string, error) {
	est, err := e.estimate(ctx, e.new, p.t.Table)
	if err != nil {
		return nil, err
	}
	s, src, key, kt := e.new, p.newSrc, p.newKey, p.newKT
	if est == 0 && p.oldTable != "" {
		if est, err = e.estimate(ctx, e.old, p.oldTable); err != nil {
			return nil, err
		}
		s, src, key, kt = e.old, p.oldSrc, p.oldKey, p.oldKT
	}
	_ = kt
	chunks := est / int64(e.o.ChunkRows)
	if chunks < 2 {
		return nil, nil
	}
	chunks = min(chunks, 1<<15)
	// Sample about 16 rows per chunk and keep every 16th.
	pct := min(100, 100*float64(chunks*16)/float64(est))
	q := fmt.Sprintf("SELECT ARRAY[%s] FROM %s TABLESAMPLE SYSTEM (%g) ORDER BY %s",
		textArray(key), src, pct, strings.Join(key, ", "))
	var sample [][]string
	err = s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("sampling keys: %w", err)
		}
		sample, err = pgx.CollectRows(rows, pgx.RowTo[[]string])
		return err
	})
	if err != nil {
		return nil, err
	}
	return every(sample, max(1, len(sample)/int(chunks))), nil
}

// every returns every nth distinct value of sorted, skipping the first.
func every(sorted [][]string, n int) [][]string {
	var out [][]string
	for i := n; i < len(sorted); i += n {
		if len(out) > 0 && slices.Equal(out[len(out)-1], sorted[i]) {
			continue
		}
		out = append(out, sorted[i])
	}
	return out
}

// estimate returns the planner's row estimate of a table, or its exact
// count when it was never analysed.
func (e *engine) estimate(ctx context.Context, s *side, table string) (int64, error) {
	var est float64
	err := s.leadTx.QueryRow(ctx, `SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relname = $1`, table).Scan(&est)
	if err != nil {
		return 0, fmt.Errorf("%s database: estimating rows: %w", s.name, err)
	}
	if est >= 0 {
		return int64(est), nil
	}
	return count(ctx, s.leadTx, pgx.Identifier{table}.Sanitize())
}

func textArray(key []string) string {
	q := make([]string, len(key))
	for i, k := range key {
		q[i] = k + "::text"
	}
	return strings.Join(q, ", ")
}

// keyQuery builds the SQL pieces that place rows in key ranges on one
// side: the range predicate over params starting at $next, and the
// chunk number expression over a bounds parameter.
type keyQuery struct {
	key, types []string
	args       []any
}

func (k *keyQuery) param(v any) string {
	k.args = append(k.args, v)
	return fmt.Sprintf("$%d", len(k.args))
}

func (k *keyQuery) tuple(vals []string) string {
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = k.param(v) + "::" + k.types[i]
	}
	if len(ps) == 1 {
		return ps[0]
	}
	return "ROW(" + strings.Join(ps, ", ") + ")"
}

func (k *keyQuery) where(r keyRange) string {
	var conds []string
	// A one-column key compares as a scalar: the planner turns only
	// that, not a one-column ROW comparison, into an index condition.
	row := k.key[0]
	if len(k.key) > 1 {
		row = "ROW(" + strings.Join(k.key, ", ") + ")"
	}
	if r.lo != nil {
		conds = append(conds, row+" >= "+k.tuple(r.lo))
	}
	if r.hi != nil {
		conds = append(conds, row+" < "+k.tuple(r.hi))
	}
	return strings.Join(conds, " AND ")
}

func (k *keyQuery) bucket(bounds [][]string) string {
	if len(bounds) == 0 {
		return "0"
	}
	if len(k.key) == 1 {
		col := make([]string, len(bounds))
		for i, b := range bounds {
			col[i] = b[0]
		}
		return fmt.Sprintf("width_bucket(%s, %s::%s[])", k.key[0], k.param(col), k.types[0])
	}
	cols, elems := make([]string, len(k.key)), make([]string, len(k.key))
	for j := range k.key {
		col := make([]string, len(bounds))
		for i, b := range bounds {
			col[i] = b[j]
		}
		cols[j] = k.param(col) + "::text[]"
		elems[j] = fmt.Sprintf("u.c%d::%s", j, k.types[j])
	}
	names := make([]string, len(k.key))
	for j := range names {
		names[j] = fmt.Sprintf("c%d", j)
	}
	return fmt.Sprintf("width_bucket(ROW(%s), (SELECT array_agg(ROW(%s) ORDER BY u.o) FROM unnest(%s) WITH ORDINALITY AS u(%s, o)))",
		strings.Join(k.key, ", "), strings.Join(elems, ", "), strings.Join(cols, ", "), strings.Join(names, ", "))
}

// checksums computes every chunk's check in r on both sides at once.
// When parallel is set, a table's scan is cut into block ranges read
// by concurrent workers.
func (e *engine) checksums(ctx context.Context, p *plan, r keyRange, bounds [][]string, parallel bool) (oc, nc map[int]check, err error) {
	errc := make(chan error, 2)
	go func() {
		var err error
		oc, err = e.sideChecksums(ctx, e.old, p.oldSrc, p.oldTable, p.oldKey, p.oldKT, p.oldHash, r, bounds, parallel)
		errc <- err
	}()
	go func() {
		var err error
		nc, err = e.sideChecksums(ctx, e.new, p.newSrc, p.t.Table, p.newKey, p.newKT, p.newHash, r, bounds, parallel)
		errc <- err
	}()
	err = errors.Join(<-errc, <-errc)
	return oc, nc, err
}

func (e *engine) sideChecksums(ctx context.Context, s *side, src, table string, key, kt []string, hash string,
	r keyRange, bounds [][]string, parallel bool) (map[int]check, error) {
	parts := []string{""}
	if parallel && table != "" && cap(s.sem) > 1 {
		var pages int64
		err := s.leadTx.QueryRow(ctx, `SELECT c.relpages FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relname = $1`, table).Scan(&pages)
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", s.name, err)
		}
		if w := int64(cap(s.sem)); pages >= 64*w {
			parts = parts[:0]
			step := pages / w
			for i := range w {
				c := fmt.Sprintf("ctid >= '(%d,0)'::tid", i*step)
				if i < w-1 {
					c += fmt.Sprintf(" AND ctid < '(%d,0)'::tid", (i+1)*step)
				}
				parts = append(parts, c)
			}
		}
	}
	out := map[int]check{}
	var mu chan struct{} = make(chan struct{}, 1)
	errc := make(chan error, len(parts))
	for _, part := range parts {
		go func() {
			k := &keyQuery{key: key, types: kt}
			b := k.bucket(bounds)
			conds := []string{}
			if w := k.where(r); w != "" {
				conds = append(conds, w)
			}
			if part != "" {
				conds = append(conds, part)
			}
			q := fmt.Sprintf("SELECT %s AS b, count(*), sum(%s)::text FROM %s", b, hash, src)
			if len(conds) > 0 {
				q += " WHERE " + strings.Join(conds, " AND ")
			}
			q += " GROUP BY 1"
			errc <- s.read(ctx, func(tx pgx.Tx) error {
				rows, err := tx.Query(ctx, q, k.args...)
				if err != nil {
					return fmt.Errorf("chunk checksums: %w", err)
				}
				defer rows.Close()
				for rows.Next() {
					var bk *int
					var n int64
					var sum string
					if err := rows.Scan(&bk, &n, &sum); err != nil {
						return fmt.Errorf("chunk checksums: %w", err)
					}
					b := -1 // a key with a NULL
					if bk != nil {
						b = *bk
					}
					mu <- struct{}{}
					c := out[b]
					c.n += n
					c.sum = addDecimal(c.sum, sum)
					out[b] = c
					<-mu
				}
				return rows.Err()
			})
		}()
	}
	var errs []error
	for range parts {
		errs = append(errs, <-errc)
	}
	return out, errors.Join(errs...)
}
