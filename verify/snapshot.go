package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A side is one database read as of one moment: a lead transaction
// exports its snapshot and every pooled transaction imports it, so that
// chunks read in parallel see the same rows.
type side struct {
	name     string // "old" or "new", for errors
	pool     *pgxpool.Pool
	lead     *pgxpool.Conn
	leadTx   pgx.Tx
	snapshot string
	sem      chan struct{}
}

var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

func openSide(ctx context.Context, name string, pool *pgxpool.Pool, workers int) (*side, error) {
	if pool.Config().MaxConns < 2 {
		return nil, fmt.Errorf("%s database: the pool needs at least 2 connections, one to hold the snapshot", name)
	}
	s := &side{name: name, pool: pool}
	if workers <= 0 {
		workers = max(1, int(pool.Config().MaxConns)-1)
	}
	s.sem = make(chan struct{}, workers)
	var err error
	if s.lead, err = pool.Acquire(ctx); err != nil {
		return nil, fmt.Errorf("%s database: connecting: %w", name, err)
	}
	if s.leadTx, err = s.lead.BeginTx(ctx, readOnly); err != nil {
		s.lead.Release()
		return nil, fmt.Errorf("%s database: %w", name, err)
	}
	if err := s.leadTx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.snapshot); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("%s database: exporting snapshot: %w", name, err)
	}
	return s, nil
}

func (s *side) close(ctx context.Context) {
	if s.leadTx != nil {
		s.leadTx.Rollback(context.WithoutCancel(ctx))
	}
	if s.lead != nil {
		s.lead.Release()
	}
}

// read runs fn in a pooled read-only transaction on the side's
// snapshot, waiting for a free worker slot first.
func (s *side) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sem }()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s database: connecting: %w", s.name, err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, readOnly)
	if err != nil {
		return fmt.Errorf("%s database: %w", s.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The planner cannot know how many chunks a checksum query groups
	// into and would sort whole rows to group them; hashing is cheaper.
	// JIT compilation costs more than it saves on these short scans, and
	// verify runs its own workers: parallel query would oversubscribe.
	setup := "SET TRANSACTION SNAPSHOT '" + s.snapshot + "'; SET LOCAL enable_sort = off; SET LOCAL jit = off; " +
		"SET LOCAL max_parallel_workers_per_gather = 0"
	if _, err := tx.Exec(ctx, setup); err != nil {
		return fmt.Errorf("%s database: importing snapshot: %w", s.name, err)
	}
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s database: %w", s.name, err)
	}
	return tx.Commit(ctx)
}
