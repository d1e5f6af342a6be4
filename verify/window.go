package verify

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// WindowResult is what happened on the old database between the clone
// and the cutover (the write window), as the new database lacks it.
type WindowResult struct {
	// LostWrites counts, per token table, the rows of the old database
	// that the new one lacks: tokens issued during the window, which
	// stop working at the cutover.
	LostWrites []TableCount `json:"lost_writes"`
	// Revoked lists the request ids of the sessions revoked on the old
	// database during the window that are still active in the new one.
	// Request ids identify sessions and are not credentials.
	Revoked []string `json:"revoked"`
}

// A TableCount is a number of rows of one table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// windowTables are the Hydra tables whose rows are tokens.
var windowTables = []string{"hydra_oauth2_access", "hydra_oauth2_refresh", "hydra_oauth2_code",
	"hydra_oauth2_oidc", "hydra_oauth2_pkce"}

// Window compares an old Hydra database that kept serving after it was
// cloned with the migrated clone. A session counts as revoked during the
// window when the new database still has an active token of it while
// the old one has neither an access token nor an active refresh token
// of it: revocation deletes a session's access tokens and deactivates
// its refresh tokens, whereas a refresh rotation leaves new ones.
func Window(ctx context.Context, old, new TxBeginner) (*WindowResult, error) {
	otx, ntx, err := readOnlyPair(ctx, old, new)
	if err != nil {
		return nil, err
	}
	defer otx.Rollback(context.WithoutCancel(ctx))
	defer ntx.Rollback(context.WithoutCancel(ctx))

	res := &WindowResult{}
	for _, t := range windowTables {
		oldSigs, err := stringSet(ctx, otx, "SELECT signature FROM "+pgx.Identifier{t}.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("old database: %w", err)
		}
		newSigs, err := stringSet(ctx, ntx, "SELECT signature FROM "+pgx.Identifier{t}.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("new database: %w", err)
		}
		var lost int64
		for s := range oldSigs {
			if !newSigs[s] {
				lost++
			}
		}
		res.LostWrites = append(res.LostWrites, TableCount{Table: t, Rows: lost})
	}

	const live = `SELECT request_id FROM hydra_oauth2_access
		UNION SELECT request_id FROM hydra_oauth2_refresh WHERE active`
	newLive, err := stringSet(ctx, ntx, live)
	if err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}
	oldLive, err := stringSet(ctx, otx, live)
	if err != nil {
		return nil, fmt.Errorf("old database: %w", err)
	}
	// A session live on the new side and dead on the old one was revoked
	// during the window (or flushed as expired, which Hydra only does on
	// request; either way its tokens no longer work on the old side).
	for id := range newLive {
		if !oldLive[id] {
			res.Revoked = append(res.Revoked, id)
		}
	}
	sort.Strings(res.Revoked)
	return res, nil
}

func stringSet(ctx context.Context, tx pgx.Tx, q string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out[s] = true
	}
	return out, rows.Err()
}

// WindowDSN connects to the two databases and runs [Window]. Errors say
// which side failed and never contain a password.
func WindowDSN(ctx context.Context, oldDSN, newDSN string) (*WindowResult, error) {
	var res *WindowResult
	err := withPair(ctx, oldDSN, newDSN, func(oc, nc *pgx.Conn) (err error) {
		res, err = Window(ctx, oc, nc)
		return err
	})
	return res, err
}
