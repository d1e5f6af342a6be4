package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cutover-dev/cutover/verify"
)

// cmdSessions is the post-incident mode: it checks, at the database
// level, that the sessions of one Hydra database survive in another,
// e.g. a restored backup against production after a migration.
func cmdSessions(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "sessions", "sessions --old DSN --new DSN [--limit N] [--json]")
	var db dbFlags
	var limit int
	var asJSON bool
	db.declare(fs, "old database", "new database")
	fs.IntVar(&limit, "limit", 100000, "check at most `N` token rows per table, the newest first; 0 checks all")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	if err := db.resolve(e.getenv); err != nil {
		return err
	}
	if limit < 0 {
		return usagef(fmt.Errorf("--limit: must not be negative, got %d", limit))
	}
	e.log.Info("checking session rows", "limit", limit)
	res, err := verify.SessionRowsDSN(ctx, db.old, db.new, limit)
	if err != nil {
		if errors.Is(err, verify.ErrNotHydra) {
			return usagef(err) // pointed at the wrong database
		}
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "Session rows: %d checked, %d sessions broken\n", res.Checked, len(res.Broken))
		for _, b := range res.Broken {
			fmt.Fprintf(e.stdout, "  request %s (subject %q, client %q): %s\n", b.RequestID, b.Subject, b.ClientID,
				strings.Join(b.Problems, "; "))
		}
	}
	if len(res.Broken) > 0 {
		return ErrGateFailed
	}
	return nil
}
