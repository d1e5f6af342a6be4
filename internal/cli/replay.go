package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover-dev/cutover/internal/replay"
	"github.com/cutover-dev/cutover/verify"
)

// cmdReplayRevocations finds the sessions revoked on the old database
// after it was cloned (the write window) that are still active in the
// new one, and revokes them there.
func cmdReplayRevocations(ctx context.Context, e *environ, args []string) error {
	fs := newFlags(e, "replay-revocations", "replay-revocations --old DSN --new DSN [--dry-run]")
	var db dbFlags
	var dry bool
	db.declare(fs, "old database, which kept serving after the clone,", "new (migrated) database")
	fs.BoolVar(&dry, "dry-run", false, "only list what would be replayed")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	if err := db.resolve(e.getenv); err != nil {
		return err
	}
	w, err := verify.WindowDSN(ctx, db.old, db.new)
	if err != nil {
		if errors.Is(err, verify.ErrNotHydra) {
			return usagef(err) // pointed at the wrong database
		}
		return err
	}
	for _, t := range w.LostWrites {
		if t.Rows > 0 {
			fmt.Fprintf(e.stdout, "lost writes: %s: %d rows in the old database only\n", t.Table, t.Rows)
		}
	}
	fmt.Fprintf(e.stdout, "sessions revoked in the old database, active in the new: %d\n", len(w.Revoked))
	for _, id := range w.Revoked {
		fmt.Fprintf(e.stdout, "  request %s\n", id)
	}
	if dry || len(w.Revoked) == 0 {
		return nil
	}
	res, err := replay.RevocationsDSN(ctx, db.new, w.Revoked)
	if err != nil {
		return fmt.Errorf("new database: %w", err)
	}
	fmt.Fprintf(e.stdout, "replayed %d sessions: %d access tokens deleted, %d refresh tokens deactivated\n",
		res.Sessions, res.AccessDeleted, res.RefreshDeactivated)
	return nil
}
