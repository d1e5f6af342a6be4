package verify

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// TableWrites is how many rows were written to one table.
type TableWrites struct {
	Table    string `json:"table"`
	Inserted int64  `json:"rows_inserted"`
	Updated  int64  `json:"rows_updated"`
	Deleted  int64  `json:"rows_deleted"`
}

// A WriteSnapshot holds PostgreSQL's cumulative per-table write counts
// at one moment.
type WriteSnapshot map[string]TableWrites

// SnapshotWrites reads the cumulative write counts of every user table
// in the database conn is connected to.
func SnapshotWrites(ctx context.Context, conn *pgx.Conn) (WriteSnapshot, error) {
	// A new snapshot of the statistics, not the one cached by this
	// session's previous read.
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		return nil, fmt.Errorf("reading table statistics: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_del
		FROM pg_stat_user_tables WHERE schemaname = 'public'`)
	if err != nil {
		return nil, fmt.Errorf("reading table statistics: %w", err)
	}
	snap := WriteSnapshot{}
	for rows.Next() {
		var w TableWrites
		if err := rows.Scan(&w.Table, &w.Inserted, &w.Updated, &w.Deleted); err != nil {
			return nil, fmt.Errorf("reading table statistics: %w", err)
		}
		snap[w.Table] = w
	}
	return snap, rows.Err()
}

// Writes returns, per table, the writes made between before and after,
// sorted by table name. Tables without writes are left out.
func Writes(before, after WriteSnapshot) []TableWrites {
	var out []TableWrites
	for name, a := range after {
		b := before[name]
		w := TableWrites{Table: name, Inserted: a.Inserted - b.Inserted,
			Updated: a.Updated - b.Updated, Deleted: a.Deleted - b.Deleted}
		if w.Inserted != 0 || w.Updated != 0 || w.Deleted != 0 {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}
