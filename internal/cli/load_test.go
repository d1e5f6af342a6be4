package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestLoadFlags(t *testing.T) {
	env := func(m map[string]string) Env { return func(k string) string { return m[k] } }
	full := []string{"load", "--public", "http://127.0.0.1:1", "--admin", "http://127.0.0.1:2", "--version", "v2.3.0",
		"--client-id", "c"}
	secret := map[string]string{"CUTOVER_CLIENT_SECRET": "s3cr3t-value"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no public URL", []string{"load", "--admin", "http://x"}, nil, "--public: must be set"},
		{"no secret", full, nil, "--client-secret: must be set"},
		{"public URL from env still needs admin", []string{"load"}, map[string]string{"CUTOVER_PUBLIC": "http://x"},
			"--admin: must be set"},
		{"bad URL", append(full[:2:2], "ftp://x", "--admin", "http://y", "--version", "v2.3.0", "--client-id", "c"),
			secret, "--public: \"ftp://x\" is not an http(s) URL"},
		{"bad version", append(full[:5:5], "--version", "v3.0.0", "--client-id", "c"), secret,
			"--version: \"v3.0.0\" is not a Hydra"},
		{"bad shard", append(full, "--shard", "4/4"), secret, "--shard: \"4/4\" is not i/N"},
		{"more shards than chains", append(full, "--shard", "0/100"), secret,
			"--shard: 100 workers need at least 100 refresh chains"},
		{"duration past an hour", append(full, "--duration", "5h"), secret, "--duration: \"5h\" is not a duration from 1s to 1h"},
		{"bad rate", append(full, "--rate", "fast"), secret, "--rate:"},
		{"bad start", append(full, "--start-at", "noon"), secret, "--start-at:"},
		{"unknown flag", append(full, "--rps", "5"), secret, "flag provided but not defined: -rps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(context.Background(), tt.args, nil, &out, &errb, env(tt.env))
			var ue *UsageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want a usage error containing %q", err, tt.wantErr)
			}
			if strings.Contains(out.String()+errb.String()+err.Error(), "s3cr3t") {
				t.Error("the client secret was printed")
			}
		})
	}
}

// TestLoadAgainstRunningServer starts a real Hydra 2.3.0 the way a user
// would have it running, then runs `cutover load` against it with every
// operation in the mix.
func TestLoadAgainstRunningServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and Hydra")
	}
	ctx := context.Background()
	cache, err := hydra.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := hydra.EnsureBinary(ctx, cache, "v2.3.0")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := provision.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.CreateDatabase(ctx, "load"); err != nil {
		t.Fatal(err)
	}
	cfg := hydra.Config{Name: "server", Version: "v2.3.0", Binary: bin, DSN: pg.DSN("load"),
		SystemSecret: "a-system-secret-of-at-least-32-characters", Env: map[string]string{
			"OAUTH2_HASHERS_BCRYPT_COST": "4", "OAUTH2_HASHERS_ALGORITHM": "bcrypt", "LOG_LEVEL": "warn"}}
	if err := hydra.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	srv, err := hydra.Serve(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	const secret = "load-test-secret-0123456789"
	if err := srv.API.CreateClient(ctx, hydra.Client{ID: "user-client", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte(`name: all-ops
old: {kind: hydra, version: v1.11.10}
new: {kind: hydra, version: v2.3.0}
load:
  rate: 20/s
  duration: 3s
  warmup: 0s
  chains: 4
  subjects: 3
  mix: {client_credentials: 2, refresh: 2, introspect: 2, revoke: 1, authorization_code: 1,
        revoke_refresh: 1, jwks: 1, discovery: 1}
`), 0o644)
	results := filepath.Join(dir, "r.bin")
	var out, errb bytes.Buffer
	err = Run(ctx, []string{"load", "--public", srv.API.Public, "--admin", srv.API.Admin, "--version", "v2.3.0",
		"--client-id", "user-client", "--scenario", sc, "--results", results}, nil, &out, &errb,
		func(k string) string { return map[string]string{"CUTOVER_CLIENT_SECRET": secret}[k] })
	t.Logf("stdout:\n%s", out.String())
	if err != nil {
		t.Fatalf("load: %v\n%s", err, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), secret) {
		t.Error("the client secret was printed")
	}
	for _, op := range []string{"client_credentials", "refresh", "introspect", "revoke", "authorization_code",
		"revoke_refresh", "jwks", "discovery"} {
		if !strings.Contains(out.String(), "\n"+op+" ") && !strings.Contains(out.String(), " "+op+" ") {
			t.Errorf("no row for %s", op)
		}
	}
	if !strings.Contains(out.String(), "0 broken refresh chains") {
		t.Error("refresh chains broke under a correct load")
	}
	f, err := os.Open(results)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n, failed := 0, 0
	for {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			break
		}
		n++
		if r.Code != 200 {
			failed++
			t.Logf("%s: %d %s", r.URL[strings.LastIndexByte(r.URL, '#'):], r.Code, r.Error)
		}
	}
	if n < 50 || failed > 0 {
		t.Errorf("got %d results, %d not 200; want at least 50, all 200", n, failed)
	}
}
