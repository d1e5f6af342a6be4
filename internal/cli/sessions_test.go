package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
)

// TestSessionsAndReplayCommands runs the post-incident commands on two
// real databases: a Hydra v1.11.10 schema with one session whose flow
// the migration to v2.3.0 breaks, and its migrated copy.
func TestSessionsAndReplayCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and runs both Hydra migrations")
	}
	isolate(t)
	ctx := context.Background()
	cache, err := hydra.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bins := map[string]string{}
	for _, v := range []string{"v1.11.10", "v2.3.0"} {
		if bins[v], err = hydra.EnsureBinary(ctx, cache, v); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := provision.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.CreateDatabase(ctx, "blue"); err != nil {
		t.Fatal(err)
	}
	cfg := hydra.Config{Name: "old", Version: "v1.11.10", Binary: bins["v1.11.10"], DSN: pg.DSN("blue"),
		SystemSecret: "0123456789abcdef0123456789abcdef", Env: map[string]string{"LOG_LEVEL": "warn"}}
	if err := hydra.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	srv, err := hydra.Serve(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := hydra.Client{ID: "c1", Secret: "secret-secret-secret"}
	if err := srv.API.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.API.AuthorizationCode(ctx, c, "alice", "openid offline_access read"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := pg.Clone(ctx, "blue", "green"); err != nil {
		t.Fatal(err)
	}
	cfg.Version, cfg.Binary, cfg.DSN = "v2.3.0", bins["v2.3.0"], pg.DSN("green")
	if err := hydra.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CUTOVER_OLD_DSN": pg.DSN("blue"), "CUTOVER_NEW_DSN": pg.DSN("green")}

	stdout, stderr, code := runCLI(t, ctx, env, "sessions")
	if code != ExitGateFailed || !strings.Contains(stdout, `subject "alice"`) ||
		!strings.Contains(stdout, "consent flow has another subject") {
		t.Errorf("sessions: exit %d, want %d and alice's session broken by the flow merge\nstdout:\n%s\nstderr:\n%s",
			code, ExitGateFailed, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, ctx, env, "replay-revocations", "--dry-run")
	if code != ExitOK || !strings.Contains(stdout, "sessions revoked in the old database, active in the new: 0") {
		t.Errorf("replay-revocations --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	notHydra := map[string]string{"CUTOVER_OLD_DSN": pg.DSN("postgres"), "CUTOVER_NEW_DSN": pg.DSN("green")}
	for _, args := range [][]string{{"sessions"}, {"replay-revocations", "--dry-run"}} {
		_, stderr, code = runCLI(t, ctx, notHydra, args...)
		want := "database: not a Hydra database"
		if code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s on a database without Hydra's tables: exit %d, %q; want exit %d, %q…",
				args[0], code, stderr, ExitUsage, want)
		}
	}
	for _, out := range []string{stdout, stderr} {
		if strings.Contains(out, pg.DSN("blue")) {
			t.Error("a DSN with its password was printed")
		}
	}
}
