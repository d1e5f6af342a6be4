package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// A TxBeginner opens transactions: a *pgx.Conn or a *pgxpool.Pool.
type TxBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// readOnlyPair opens a repeatable-read, read-only transaction on each
// of two Hydra databases, so that each side is read as of one moment and
// nothing is written, and checks that both hold Hydra's token tables.
// The caller rolls both back.
func readOnlyPair(ctx context.Context, old, new TxBeginner) (pgx.Tx, pgx.Tx, error) {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	otx, err := old.BeginTx(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("old database: %w", err)
	}
	ntx, err := new.BeginTx(ctx, opts)
	if err != nil {
		otx.Rollback(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("new database: %w", err)
	}
	for _, side := range []struct {
		name string
		tx   pgx.Tx
	}{{"old", otx}, {"new", ntx}} {
		var ok bool
		err := side.tx.QueryRow(ctx, `SELECT to_regclass('public.hydra_oauth2_access') IS NOT NULL
			AND to_regclass('public.hydra_oauth2_refresh') IS NOT NULL`).Scan(&ok)
		if err == nil && !ok {
			err = ErrNotHydra
		}
		if err != nil {
			otx.Rollback(context.WithoutCancel(ctx))
			ntx.Rollback(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("%s database: %w", side.name, err)
		}
	}
	return otx, ntx, nil
}

// SessionRowsResult is the outcome of [SessionRows].
type SessionRowsResult struct {
	// Checked is the number of token rows of the old database looked up
	// in the new one.
	Checked int `json:"checked"`
	// Broken lists the sessions, by request id, whose rows differ or
	// depend on rows that are missing or inconsistent in the new
	// database.
	Broken []BrokenSession `json:"broken"`
}

// A BrokenSession is one OAuth session (all tokens of one request) with
// what is wrong with it. RequestID identifies the session and is not a
// credential.
type BrokenSession struct {
	RequestID string   `json:"request_id"`
	Subject   string   `json:"subject"`
	ClientID  string   `json:"client_id"`
	Problems  []string `json:"problems"`
}

// ErrNotHydra says that a database holds no Hydra token tables: the
// session checks were pointed at the wrong database.
var ErrNotHydra = errors.New("not a Hydra database (no hydra_oauth2_access and hydra_oauth2_refresh tables)")

// tokenTables are the Hydra tables whose rows make up a session, with
// the signature as key in both 1.x and 2.x.
var tokenTables = []string{"hydra_oauth2_access", "hydra_oauth2_refresh"}

type tokenRow struct {
	requestID, subject, clientID, scope string
	active                              bool
	challenge                           *string
	flowSubject                         *string
	flowState                           *int16
	flowFound                           bool
}

// SessionRows checks Hydra sessions at the database level, old against
// new: every token row of the old database (up to limit per table, the
// newest first; 0 means all) must exist in the new one with the same
// request, subject, client, scope and active flag; and where the new
// schema has hydra_oauth2_flow (Hydra 2.x), the flow a token's session
// came from must exist, belong to the same subject and be in a granted
// consent state, or the admin API will neither list nor revoke the
// session. Both sides are read in read-only transactions.
func SessionRows(ctx context.Context, old, new TxBeginner, limit int) (*SessionRowsResult, error) {
	otx, ntx, err := readOnlyPair(ctx, old, new)
	if err != nil {
		return nil, err
	}
	defer otx.Rollback(context.WithoutCancel(ctx))
	defer ntx.Rollback(context.WithoutCancel(ctx))
	var hasFlow bool
	if err := ntx.QueryRow(ctx, `SELECT to_regclass('public.hydra_oauth2_flow') IS NOT NULL`).Scan(&hasFlow); err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}

	res := &SessionRowsResult{}
	broken := map[string]*BrokenSession{}
	problem := func(r tokenRow, p string) {
		b := broken[r.requestID]
		if b == nil {
			b = &BrokenSession{RequestID: r.requestID, Subject: r.subject, ClientID: r.clientID}
			broken[r.requestID] = b
		}
		for _, q := range b.Problems {
			if q == p {
				return
			}
		}
		b.Problems = append(b.Problems, p)
	}
	for _, table := range tokenTables {
		q := fmt.Sprintf(`SELECT signature, request_id, active, subject, client_id, granted_scope
			FROM %s ORDER BY requested_at DESC, signature`, pgx.Identifier{table}.Sanitize())
		if limit > 0 {
			q += fmt.Sprintf(" LIMIT %d", limit)
		}
		rows, err := otx.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("old database: %w", err)
		}
		oldRows := map[string]tokenRow{}
		var sigs []string
		for rows.Next() {
			var sig string
			var r tokenRow
			if err := rows.Scan(&sig, &r.requestID, &r.active, &r.subject, &r.clientID, &r.scope); err != nil {
				return nil, fmt.Errorf("old database: %w", err)
			}
			oldRows[sig] = r
			sigs = append(sigs, sig)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("old database: %w", err)
		}
		newRows, err := lookupTokens(ctx, ntx, table, sigs, hasFlow)
		if err != nil {
			return nil, fmt.Errorf("new database: %w", err)
		}
		kind := "access token"
		if table == "hydra_oauth2_refresh" {
			kind = "refresh token"
		}
		for _, sig := range sigs {
			res.Checked++
			o := oldRows[sig]
			n, ok := newRows[sig]
			switch {
			case !ok:
				problem(o, kind+" row missing")
				continue
			case n.requestID != o.requestID:
				problem(o, kind+" moved to another request")
			case n.active != o.active:
				problem(o, fmt.Sprintf("%s active %v, was %v", kind, n.active, o.active))
			case n.subject != o.subject || n.clientID != o.clientID || n.scope != o.scope:
				problem(o, kind+" subject, client or scope changed")
			}
			if !hasFlow || n.challenge == nil || !o.active {
				continue
			}
			switch {
			case !n.flowFound:
				problem(o, "consent flow missing")
			case n.flowSubject == nil || *n.flowSubject != o.subject:
				problem(o, "consent flow has another subject")
			case n.flowState == nil || (*n.flowState != 5 && *n.flowState != 6):
				problem(o, fmt.Sprintf("consent flow in state %d, not a granted consent", deref(n.flowState)))
			}
		}
	}
	for _, b := range broken {
		sort.Strings(b.Problems)
		res.Broken = append(res.Broken, *b)
	}
	sort.Slice(res.Broken, func(i, j int) bool { return res.Broken[i].RequestID < res.Broken[j].RequestID })
	return res, nil
}

func deref(p *int16) int16 {
	if p == nil {
		return -1
	}
	return *p
}

func lookupTokens(ctx context.Context, tx pgx.Tx, table string, sigs []string,
	hasFlow bool) (map[string]tokenRow, error) {
	cols := "t.signature, t.request_id, t.active, t.subject, t.client_id, t.granted_scope, t.challenge_id"
	from := pgx.Identifier{table}.Sanitize() + " t"
	if hasFlow {
		cols += ", f.subject, f.state, f.consent_challenge_id IS NOT NULL"
		from += " LEFT JOIN hydra_oauth2_flow f ON f.consent_challenge_id = t.challenge_id"
	}
	rows, err := tx.Query(ctx, "SELECT "+cols+" FROM "+from+" WHERE t.signature = ANY($1)", sigs)
	if err != nil {
		return nil, err
	}
	out := map[string]tokenRow{}
	for rows.Next() {
		var sig string
		var r tokenRow
		dest := []any{&sig, &r.requestID, &r.active, &r.subject, &r.clientID, &r.scope, &r.challenge}
		if hasFlow {
			dest = append(dest, &r.flowSubject, &r.flowState, &r.flowFound)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out[sig] = r
	}
	return out, rows.Err()
}

// SessionRowsDSN connects to the two databases named by their
// connection strings and runs [SessionRows]. Errors say which side
// failed and never contain a password.
func SessionRowsDSN(ctx context.Context, oldDSN, newDSN string, limit int) (*SessionRowsResult, error) {
	var res *SessionRowsResult
	err := withPair(ctx, oldDSN, newDSN, func(oc, nc *pgx.Conn) (err error) {
		res, err = SessionRows(ctx, oc, nc, limit)
		return err
	})
	return res, err
}

// withPair connects to both databases, runs fn and closes them.
func withPair(ctx context.Context, oldDSN, newDSN string, fn func(oc, nc *pgx.Conn) error) error {
	oc, err := connect(ctx, oldDSN)
	if err != nil {
		return fmt.Errorf("old database: %w", err)
	}
	defer oc.Close(context.WithoutCancel(ctx))
	nc, err := connect(ctx, newDSN)
	if err != nil {
		return fmt.Errorf("new database: %w", err)
	}
	defer nc.Close(context.WithoutCancel(ctx))
	return fn(oc, nc)
}

// ParseDSN checks that dsn is a PostgreSQL connection string. Its error
// never repeats the password.
func ParseDSN(dsn string) error {
	_, err := pgx.ParseConfig(dsn)
	return err
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}
