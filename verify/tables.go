package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a comparison. The zero value is usable.
type Options struct {
	// ChunkRows is the target number of rows per chunk; 0 means 2000.
	// Smaller chunks cost more groups in the first scan and fewer rows
	// read back for each difference.
	ChunkRows int
	// LeafRows bounds the rows of mismatching chunks read back row by
	// row; when they hold more, the mismatching chunks are split 16
	// ways and checksummed again first. 0 means 500000.
	LeafRows int
	// Workers bounds the concurrent queries on each side; 0 means one
	// less than the pool's MaxConns (one connection holds the
	// snapshot). Each query keeps a CPU of the database server busy:
	// more workers than the server has cores to spare slow the
	// comparison down (see [LocalWorkers]).
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
	// (mismatching chunks split and checksummed again), "rows" (the rows
	// of mismatching chunks read back) or "done".
	Phase string
	// Done and Total count tables in phases "count" and "scan"; in
	// "split", Done is the round and Total the mismatching chunks; in
	// "rows", both are the mismatching chunks.
	Done, Total int
	// RowsOld and RowsNew are the table's row counts, once known.
	RowsOld, RowsNew int64
}

// LocalWorkers returns the workers per side for two databases served
// by this machine: half its cores each, at least one. On 2 cores, three
// workers a side measured 1.6 times the floor's time and one worker a
// side 1.3 times.
func LocalWorkers() int { return max(1, runtime.NumCPU()/2) }

func (o *Options) defaults() {
	if o.ChunkRows <= 0 {
		o.ChunkRows = 2000
	}
	if o.LeafRows <= 0 {
		o.LeafRows = 500000
	}
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = 100
	}
}

// Tables compares the public tables of two PostgreSQL databases: every
// table by row count, and the tables m maps row by row on their keys.
//
// A mapped table is compared in rounds. Its rows are dealt into
// chunks of about Options.ChunkRows rows by a 64-bit hash of their key;
// one scan of each side computes, inside PostgreSQL, every chunk's row
// count and the sum of its rows' 64-bit hashes. Only the chunks whose
// checksums differ are read again: split further while they hold many
// rows, then down to the rows that differ, whose per-column hashes name
// the differing columns without reading any value. Scans of a big table
// are cut into block ranges read in parallel over the pools.
//
// Each side is read in read-only transactions that share one exported
// snapshot (pg_export_snapshot, SET TRANSACTION SNAPSHOT), so a
// database under write load is compared as of one moment, and nothing
// is written: a role with SELECT only suffices. Each pool needs at
// least two connections; one holds the snapshot for the whole run.
//
// Findings are data: differences are counted in the result, never
// returned as errors. A mistake in m that shows only against the
// databases, such as a column that a table does not have or a
// condition that PostgreSQL rejects, is a *MappingError.
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
			return nil, &MappingError{Table: t.Table,
				Err: errors.New("not in the new database (a misspelt table, or the wrong database)")}
		}
		if t.OldSQL == "" {
			if _, ok := ocols[t.OldName()]; !ok {
				return nil, &MappingError{Table: t.Table, Err: fmt.Errorf(
					"old table %s: not in the old database (a misspelt table, or the wrong database)", t.OldName())}
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
			var me *MappingError
			switch {
			case errors.As(err, &me):
				return nil, me // it names the table
			case err != nil:
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
		tr.RowsDiffer = tr.RowsOld >= 0 && tr.RowsNew >= 0 && tr.RowsOld != tr.RowsNew
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

// queryColumns returns the result columns of table's old_sql query and
// their types. A query PostgreSQL rejects is a *MappingError.
func queryColumns(ctx context.Context, tx pgx.Tx, table, query string) (map[string]string, error) {
	const pre = "SELECT * FROM ("
	fail := func(err error) error {
		if pe := rejected(err, len(pre), utf8.RuneCountInString(query)); pe != nil {
			return &MappingError{Table: table, Err: fmt.Errorf("old_sql: %w", pe)}
		}
		return fmt.Errorf("old_sql: %w", err)
	}
	rows, err := tx.Query(ctx, pre+query+") AS src LIMIT 0")
	if err != nil {
		return nil, fail(err)
	}
	// The descriptions live in a buffer of the connection that its
	// next query reuses.
	fds := slices.Clone(rows.FieldDescriptions())
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fail(err)
	}
	oids := make([]uint32, len(fds))
	for i, f := range fds {
		oids[i] = f.DataTypeOID
	}
	var types []string
	err = tx.QueryRow(ctx, "SELECT array_agg(format_type(o, NULL) ORDER BY i) "+
		"FROM unnest($1::oid[]) WITH ORDINALITY AS u(o, i)",
		oids).Scan(&types)
	if err != nil {
		return nil, fmt.Errorf("old_sql: column types: %w", err)
	}
	out := map[string]string{}
	for i, f := range fds {
		if _, dup := out[f.Name]; dup {
			return nil, &MappingError{Table: table, Err: fmt.Errorf("old_sql: column %s appears twice", f.Name)}
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
	oldKH, newKH     string   // key hash expressions, which place rows in chunks
	oldConds         []cond   // expectations' old_where conditions, read with each row
	newConds         []cond   // expectations' new_where conditions, read with each row
}

// A cond is one condition of an expectation, evaluated on the rows of
// one side.
type cond struct {
	expect int    // index in TableMap.Expect
	name   string // "old_where" or "new_where", for errors
	sql    string
}

// condOpen is what expr puts before the condition.
const condOpen = "coalesce((\n"

// expr returns the condition as a boolean result column; NULL counts
// as false. The condition stands on its own lines so that a trailing
// "--" comment in it ends with it.
func (c cond) expr() string { return condOpen + c.sql + "\n), false)" }

// wrap names the condition in an error it caused.
func (c cond) wrap(err error) error { return fmt.Errorf("expect[%d]: %s: %w", c.expect, c.name, err) }

// rejected returns the error of a query that held the condition from
// character start on as the mapping's fault, or nil when err is no
// fault of the condition; see [rejected].
func (c cond) rejected(table string, err error, start int) error {
	if pe := rejected(err, start, utf8.RuneCountInString(c.sql)); pe != nil {
		return &MappingError{Table: table, Err: c.wrap(pe)}
	}
	return nil
}

// conds returns the conditions of t's expectations, by side.
func conds(t TableMap) (old, new []cond) {
	for j, x := range t.Expect {
		if w := strings.TrimSpace(x.OldWhere); w != "" {
			old = append(old, cond{expect: j, name: "old_where", sql: w})
		}
		if w := strings.TrimSpace(x.NewWhere); w != "" {
			new = append(new, cond{expect: j, name: "new_where", sql: w})
		}
	}
	return old, new
}

// checkConds has PostgreSQL parse and plan each condition over src
// without reading a row, so that a mistake is named before any scan,
// whether or not the table differs. A condition PostgreSQL rejects is
// a *MappingError of table.
func checkConds(ctx context.Context, tx pgx.Tx, table, src string, cs []cond) error {
	const pre = "SELECT (\n"
	for _, c := range cs {
		rows, err := tx.Query(ctx, pre+c.sql+"\n) FROM "+src+" LIMIT 0")
		if err == nil {
			fds := rows.FieldDescriptions()
			boolean := len(fds) == 1 && fds[0].DataTypeOID == pgtype.BoolOID
			rows.Close()
			if err = rows.Err(); err == nil && !boolean {
				return &MappingError{Table: table, Err: c.wrap(errors.New("is not one boolean expression"))}
			}
		}
		if err != nil {
			if me := c.rejected(table, err, len(pre)); me != nil {
				return me
			}
			return c.wrap(err)
		}
	}
	return nil
}

// A probe evaluates one part of a table's mapping that PostgreSQL
// evaluates on every row of one side, on its own: old_sql, or one
// normalized column, so that an error of a row-reading query can be
// blamed on the mapping entry at fault.
type probe struct {
	entry string // the mapping entry, for errors
	side  *side
	q     string // one aggregate over the side's rows
}

// probes returns the probes of p: old_sql's whole rows, then each
// normalized column on each side.
func (e *engine) probes(p *plan) []probe {
	var ps []probe
	if p.t.OldSQL != "" {
		ps = append(ps, probe{"old_sql", e.old, "SELECT count(src.*) FROM " + p.oldSrc})
	}
	for i, c := range p.compared {
		n, ok := p.t.Normalize[c]
		if !ok {
			continue
		}
		entry := fmt.Sprintf("normalize: column %s (%s)", c, n)
		ps = append(ps,
			probe{entry + ": old database", e.old, "SELECT count(" + p.oldExpr[i] + ") FROM " + p.oldSrc},
			probe{entry + ": new database", e.new, "SELECT count(" + p.newExpr[i] + ") FROM " + p.newSrc})
	}
	return ps
}

// checkNormalizers has PostgreSQL plan each normalized column's
// expression on both sides without reading a row, so that a normalizer
// applied to a column of a type it cannot take, such as timestamp_ms
// on a text column, is named before any scan. A normalizer PostgreSQL
// rejects is a *MappingError of the table.
func (e *engine) checkNormalizers(ctx context.Context, p *plan) error {
	for _, pr := range e.probes(p) {
		if pr.entry == "old_sql" {
			continue // queryColumns planned it
		}
		rows, err := pr.side.leadTx.Query(ctx, pr.q+" LIMIT 0")
		if err == nil {
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			if pe := rejected(err, 0, utf8.RuneCountInString(pr.q)); pe != nil {
				return &MappingError{Table: p.t.Table, Err: fmt.Errorf("%s: %w", pr.entry, pe)}
			}
			return fmt.Errorf("%s: %w", pr.entry, scrubbed(err))
		}
	}
	return nil
}

// blame returns err, an error of a query that read p's rows, as a
// *MappingError naming the entry of the mapping at fault when
// PostgreSQL rejected the query for the mapping's sake: a value that a
// normalizer or old_sql cannot take, such as text that is no number.
// It finds the entry by running each probe on its own; when none fails
// alone it names no entry. Other errors are returned as they are.
func (e *engine) blame(ctx context.Context, p *plan, err error) error {
	var me *MappingError
	var pe *pgconn.PgError
	if err == nil || errors.As(err, &me) || !errors.As(err, &pe) || !mappingFault(pe.Code) {
		return err
	}
	for _, pr := range e.probes(p) {
		perr := pr.side.read(ctx, func(tx pgx.Tx) error {
			var n int64
			return tx.QueryRow(ctx, pr.q).Scan(&n)
		})
		if rp := rejected(perr, 0, utf8.RuneCountInString(pr.q)); rp != nil {
			return &MappingError{Table: p.t.Table, Err: fmt.Errorf("%s: %w", pr.entry, rp)}
		}
	}
	return &MappingError{Table: p.t.Table, Err: fmt.Errorf("reading rows: %w", rejected(pe, 0, 0))}
}

func (e *engine) plan(ctx context.Context, t TableMap, ocols, ncols map[string]string, tr *TableResult) (*plan, error) {
	p := &plan{t: t, newSrc: pgx.Identifier{t.Table}.Sanitize()}
	if t.OldSQL != "" {
		var err error
		if ocols, err = queryColumns(ctx, e.old.leadTx, t.Table, t.OldSQL); err != nil {
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
	// A name of the mapping that matches no column is a mistake
	// (usually a typo) that would otherwise pass unnoticed: the rename
	// or ignore would do nothing, the expectation would cover nothing.
	// The mapping-wide IgnoreColumns are exempt: they name columns that
	// only some tables have.
	mistake := func(format string, a ...any) error {
		return &MappingError{Table: t.Table, Err: fmt.Errorf(format, a...)}
	}
	oldWhat := "the old table"
	if t.OldSQL != "" {
		oldWhat = "old_sql's result"
	}
	for _, oc := range slices.Sorted(maps.Keys(t.Rename)) {
		if !has(ocols, oc) {
			return nil, mistake("rename: column %s is not in %s", oc, oldWhat)
		}
		if nc := t.Rename[oc]; !has(ncols, nc) {
			return nil, mistake("rename: %s to %s: column %s is not in the new table", oc, nc, nc)
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
	for _, c := range t.Ignore {
		if !has(ocols, c) && !has(byNew, c) && !has(ncols, c) {
			return nil, mistake("ignore: column %s is in neither table", c)
		}
	}
	for _, k := range t.Key {
		oc, ok := byNew[k]
		if !ok {
			return nil, mistake("key column %s: not in %s", k, oldWhat)
		}
		nt, ok := ncols[k]
		if !ok {
			return nil, mistake("key column %s: not in the new table", k)
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
	for _, c := range slices.Sorted(maps.Keys(t.Normalize)) {
		if !slices.Contains(p.compared, c) {
			return nil, mistake("normalize: column %s is not compared", c)
		}
	}
	for j, x := range t.Expect {
		for _, c := range x.Columns {
			if !slices.Contains(p.compared, c) {
				return nil, mistake("expect[%d]: column %s is not compared "+
					"(it is not in both tables, or it is ignored or a key)", j, c)
			}
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
	p.oldKH, p.newKH = keyHash(p.oldKey), keyHash(p.newKey)
	if err := e.checkNormalizers(ctx, p); err != nil {
		return nil, err
	}
	p.oldConds, p.newConds = conds(t)
	if err := checkConds(ctx, e.old.leadTx, t.Table, p.oldSrc, p.oldConds); err != nil {
		return nil, err
	}
	if err := checkConds(ctx, e.new.leadTx, t.Table, p.newSrc, p.newConds); err != nil {
		return nil, err
	}
	return p, nil
}

func has(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
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

// keyHash returns the SQL of a 64-bit hash of a key, computed from the
// key columns' text so that both sides agree whatever their types.
func keyHash(key []string) string {
	// A NULL key column lands in chunk 0 rather than in no chunk.
	if len(key) == 1 {
		return "coalesce(hashtextextended(" + key[0] + "::text, 0), 0)"
	}
	return "hash_record_extended(ROW(" + textArray(key) + "), 0)"
}

func textArray(key []string) string {
	q := make([]string, len(key))
	for i, k := range key {
		q[i] = k + "::text"
	}
	return strings.Join(q, ", ")
}

// Chunks
//
// A chunk is the set of rows whose key hash has given low bits: at
// level bits, chunk v holds the rows with kh & (2^bits - 1) = v. The
// first round checksums every chunk of the table in one scan of each
// side; each further round splits only the mismatching chunks 16 ways
// (4 more bits), again in one scan; the last reads the rows of the
// mismatching chunks. Chunks are ranges of the key's hash, not of the
// key itself: assigning a row to its chunk is then one hash, where a
// key-range chunk would cost a search of the boundaries per row, and
// each round is a sequential scan, where reading a key range through
// the index costs a random heap read per row on a table not stored in
// key order.

// A chunkSet is the chunks at level bits with the given values; nil
// values means every chunk.
type chunkSet struct {
	bits   int
	values []int64
}

func mask(bits int) int64 { return int64(1)<<bits - 1 }

// where returns the predicate selecting the set's rows, or "".
func (c chunkSet) where(kh string, args *[]any) string {
	if c.values == nil {
		return ""
	}
	*args = append(*args, c.values)
	return fmt.Sprintf("(%s & %d) = ANY($%d::bigint[])", kh, mask(c.bits), len(*args))
}

// A check is one chunk's row count and sum of row hashes (as decimal
// text: the sum of 64-bit values overflows 64 bits).
type check struct {
	n   int64
	sum string
}

func (e *engine) table(ctx context.Context, t TableMap, ocols, ncols map[string]string,
	i, n int) (*TableResult, error) {
	tr := &TableResult{Table: t.Table, Keyed: true}
	p, err := e.plan(ctx, t, ocols, ncols, tr)
	if err != nil {
		return nil, err
	}
	e.progress(Progress{Table: t.Table, Phase: "scan", Done: i, Total: n})
	est, err := e.estimate(ctx, e.new, t.Table)
	if err != nil {
		return nil, err
	}
	if p.oldTable != "" {
		oe, err := e.estimate(ctx, e.old, p.oldTable)
		if err != nil {
			return nil, err
		}
		est = max(est, oe)
	}
	bits := 0
	for int64(1)<<bits*int64(e.o.ChunkRows) < est && bits < 24 {
		bits++
	}
	set := chunkSet{bits: bits}
	oc, nc, err := e.checksums(ctx, p, set, bits)
	if err != nil {
		return nil, e.blame(ctx, p, err)
	}
	tr.Chunks = 1 << bits
	for _, c := range oc {
		tr.RowsOld += c.n
	}
	for _, c := range nc {
		tr.RowsNew += c.n
	}
	set, rows := mismatched(bits, oc, nc)
	tr.ChunksMismatched = len(set.values)
	for round := 1; len(set.values) > 0 && rows > int64(e.o.LeafRows) && set.bits+4 <= 62; round++ {
		e.progress(Progress{Table: t.Table, Phase: "split", Done: round, Total: len(set.values),
			RowsOld: tr.RowsOld, RowsNew: tr.RowsNew})
		oc, nc, err := e.checksums(ctx, p, set, set.bits+4)
		if err != nil {
			return nil, e.blame(ctx, p, err)
		}
		next, nrows := mismatched(set.bits+4, oc, nc)
		if nrows > rows/2 {
			// The differences are everywhere: splitting further would
			// not spare reading the rows.
			set, rows = next, nrows
			break
		}
		set, rows = next, nrows
	}
	d := &differ{e: e, p: p, tr: tr}
	if len(set.values) > 0 {
		e.progress(Progress{Table: t.Table, Phase: "rows", Done: len(set.values), Total: len(set.values),
			RowsOld: tr.RowsOld, RowsNew: tr.RowsNew})
		if err := d.leaf(ctx, set); err != nil {
			return nil, e.blame(ctx, p, err)
		}
	}
	d.finish()
	return tr, nil
}

// mismatched returns the chunks at level bits whose checks differ and
// the number of rows they hold on the larger side.
func mismatched(bits int, oc, nc map[int64]check) (chunkSet, int64) {
	set := chunkSet{bits: bits, values: []int64{}}
	var rows int64
	for v, o := range oc {
		if n := nc[v]; n != o {
			set.values = append(set.values, v)
			rows += max(o.n, n.n)
		}
	}
	for v, n := range nc {
		if _, ok := oc[v]; !ok {
			set.values = append(set.values, v)
			rows += n.n
		}
	}
	slices.Sort(set.values)
	return set, rows
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

// checksums computes, on both sides at once, the check of every chunk
// at level bits among the rows of set.
func (e *engine) checksums(ctx context.Context, p *plan, set chunkSet, bits int) (oc, nc map[int64]check, err error) {
	side := func(s *side, src, table, kh, hash string) (map[int64]check, error) {
		var args []any
		where := set.where(kh, &args)
		q := fmt.Sprintf("SELECT %s & %d, count(*), sum(%s)::text FROM %s", kh, mask(bits), hash, src)
		out := map[int64]check{}
		var mu sync.Mutex
		err := e.scan(ctx, s, table, q, where, " GROUP BY 1", args, func(rows pgx.Rows) error {
			var b, n int64
			var sum string
			if err := rows.Scan(&b, &n, &sum); err != nil {
				return fmt.Errorf("chunk checksums: %w", err)
			}
			mu.Lock()
			c := out[b]
			c.n += n
			c.sum = addDecimal(c.sum, sum)
			out[b] = c
			mu.Unlock()
			return nil
		})
		return out, err
	}
	errc := make(chan error, 2)
	go func() {
		var err error
		oc, err = side(e.old, p.oldSrc, p.oldTable, p.oldKH, p.oldHash)
		errc <- err
	}()
	go func() {
		var err error
		nc, err = side(e.new, p.newSrc, p.t.Table, p.newKH, p.newHash)
		errc <- err
	}()
	return oc, nc, errors.Join(<-errc, <-errc)
}

// scan runs query (q, then " WHERE " and the conditions, then tail)
// over one side, cut into block ranges read by concurrent workers when
// the source is a table big enough, and calls each for every row, from
// several goroutines.
func (e *engine) scan(ctx context.Context, s *side, table, q, where, tail string, args []any,
	each func(pgx.Rows) error) error {
	parts := []string{""}
	if table != "" && cap(s.sem) > 1 {
		var pages int64
		err := s.leadTx.QueryRow(ctx, `SELECT c.relpages FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relname = $1`, table).Scan(&pages)
		if err != nil {
			return fmt.Errorf("%s database: %w", s.name, err)
		}
		if w := int64(cap(s.sem)); pages >= 256*w {
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
	errc := make(chan error, len(parts))
	for _, part := range parts {
		go func() {
			var conds []string
			for _, c := range []string{where, part} {
				if c != "" {
					conds = append(conds, c)
				}
			}
			full := q
			if len(conds) > 0 {
				full += " WHERE " + strings.Join(conds, " AND ")
			}
			full += tail
			errc <- s.read(ctx, func(tx pgx.Tx) error {
				rows, err := tx.Query(ctx, full, args...)
				if err != nil {
					return scrubbed(err)
				}
				defer rows.Close()
				for rows.Next() {
					if err := each(rows); err != nil {
						return err
					}
				}
				return scrubbed(rows.Err())
			})
		}()
	}
	var errs []error
	for range parts {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}
