package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/replay"
	"github.com/cutover-dev/cutover/reports"
	"github.com/cutover-dev/cutover/verify"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A liveCloner copies a database while servers stay connected to it;
// only stacks that can are able to run a write window.
type liveCloner interface {
	cloneLive(ctx context.Context, src, dst string) error
}

func (p *processStack) cloneLive(ctx context.Context, src, dst string) error {
	return p.pg.CloneLive(ctx, src, dst)
}

// windowToken is a token issued before the clone and revoked on the old
// server during the window.
type windowToken struct {
	client int
	token  string
}

// cloneWithWindow clones blue while the old server keeps serving, then
// lets it serve for the window: it revokes tokens issued before the
// clone and replays the scenario's traffic, then stops the old server.
func (r *run) cloneWithWindow(ctx context.Context) error {
	lc, ok := r.st.(liveCloner)
	if !ok {
		return errors.New("window: a write window needs the process provider " +
			"(cloning a database that a server still uses is not supported with containers yet)")
	}
	api := r.old.API
	for i := range r.sc.Window.Revocations {
		ci := i % len(r.clients)
		t, err := api.ClientCredentials(ctx, r.clients[ci], "read")
		if err != nil {
			return fmt.Errorf("window: issuing tokens: %w", r.withLog(err, r.old))
		}
		r.windowToks = append(r.windowToks, windowToken{client: ci, token: t.Access})
	}
	if err := lc.cloneLive(ctx, "blue", "green"); err != nil {
		return fmt.Errorf("cloning blue to green while the old server serves: %w", err)
	}
	r.log.Info("write window: the old server keeps serving after the clone",
		"duration", r.sc.Window.Dur, "revocations", len(r.windowToks))
	for _, t := range r.windowToks {
		if err := api.Revoke(ctx, r.clients[t.client], t.token); err != nil {
			return fmt.Errorf("window: revoking: %w", r.withLog(err, r.old))
		}
	}
	plan := r.plan()
	plan.Duration, plan.Warmup, plan.Pacer = r.sc.Window.Dur, 0, nil
	res, _, err := r.load(ctx, r.old, plan, "results-window.bin")
	if err != nil {
		return fmt.Errorf("window: loading old server: %w", r.withLog(err, r.old))
	}
	r.rep.Window = &reports.Window{DurationS: r.sc.Window.Dur.Seconds(), Requests: res.Requests(),
		RevokedByCheck: len(r.windowToks)}
	r.old.Stop()
	return nil
}

// checkWindow reports what the window wrote that the new database
// lacks, and checks the window's revocations on the new server before
// and after replaying them.
func (r *run) checkWindow(ctx context.Context, res *verify.SessionsResult) error {
	op, err := pgxpool.New(ctx, r.st.dsn("blue"))
	if err != nil {
		return err
	}
	defer op.Close()
	np, err := pgxpool.New(ctx, r.st.dsn("green"))
	if err != nil {
		return err
	}
	defer np.Close()
	w, err := verify.Window(ctx, op, np)
	if err != nil {
		return err
	}
	rep := r.rep.Window
	rep.LostWrites, rep.RevokedSessions = w.LostWrites, len(w.Revoked)
	rep.ActiveBeforeReplay = r.countActive(ctx, r.new.API)
	r.log.Info("write window checked", "revoked_sessions", len(w.Revoked),
		"active_on_new_before_replay", rep.ActiveBeforeReplay)
	if !r.sc.Window.Replays() {
		return nil
	}
	rr, err := replay.Revocations(ctx, np, w.Revoked)
	if err != nil {
		return err
	}
	rep.Replayed = rr
	after := r.countActive(ctx, r.new.API)
	rep.ActiveAfterReplay = &after
	for i := range r.windowToks {
		res.Checked++
		if i < after {
			res.Mismatched++
			res.Mismatches = append(res.Mismatches, verify.Mismatch{Session: fmt.Sprintf("window-%d/access", i),
				Field: "revoked during the window, after replay", Before: "inactive", After: "still active"})
		}
	}
	r.log.Info("window revocations replayed", "sessions", rr.Sessions, "active_after_replay", after)
	return nil
}

// countActive introspects the window's revoked tokens on api and counts
// those still active.
func (r *run) countActive(ctx context.Context, api *hydra.API) int {
	n := 0
	for _, t := range r.windowToks {
		if in, err := api.Introspect(ctx, t.token); err == nil && in.Active {
			n++
		}
	}
	return n
}
