// Package replay applies to a migrated Hydra 2.x database the
// revocations that were made on the old database after it was cloned,
// so that sessions revoked during the write window stay revoked after
// the cutover.
//
// It writes to the database the way Hydra's own revocation does:
// a session's access tokens are deleted and its refresh tokens
// deactivated, by request id. It needs no token, only request ids,
// which verify.Window finds.
package replay

import (
	"context"
	"fmt"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/jackc/pgx/v5"
)

// A TxBeginner opens transactions: a *pgx.Conn or a *pgxpool.Pool.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Result counts the rows a replay changed.
type Result struct {
	Sessions           int   `json:"sessions"`
	AccessDeleted      int64 `json:"access_deleted"`
	RefreshDeactivated int64 `json:"refresh_deactivated"`
}

// Revocations revokes the sessions with the given request ids in one
// transaction on db.
func Revocations(ctx context.Context, db TxBeginner, requestIDs []string) (*Result, error) {
	res := &Result{Sessions: len(requestIDs)}
	if len(requestIDs) == 0 {
		return res, nil
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("replaying revocations: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, "DELETE FROM hydra_oauth2_access WHERE request_id = ANY($1)", requestIDs)
	if err != nil {
		return nil, fmt.Errorf("replaying revocations: deleting access tokens: %w", err)
	}
	res.AccessDeleted = tag.RowsAffected()
	tag, err = tx.Exec(ctx,
		"UPDATE hydra_oauth2_refresh SET active = false WHERE active AND request_id = ANY($1)", requestIDs)
	if err != nil {
		return nil, fmt.Errorf("replaying revocations: deactivating refresh tokens: %w", err)
	}
	res.RefreshDeactivated = tag.RowsAffected()
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("replaying revocations: %w", err)
	}
	return res, nil
}

// RevocationsDSN connects to the database named by dsn and runs
// [Revocations]. Its errors never contain the password.
func RevocationsDSN(ctx context.Context, dsn string, requestIDs []string) (*Result, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, provision.RedactErr(err, dsn)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, provision.RedactErr(err, dsn)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return Revocations(ctx, conn, requestIDs)
}
