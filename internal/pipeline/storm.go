package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

// GracePeriodEnv is the Hydra 2.x setting
// oauth2.grant.refresh_token.rotation_grace_period as an environment
// variable: how long a rotated refresh token still refreshes (at most
// 5m; default 0s).
const GracePeriodEnv = "OAUTH2_GRANT_REFRESH_TOKEN_ROTATION_GRACE_PERIOD"

// StormOptions configure a refresh-token storm.
type StormOptions struct {
	// Scenario gives the two servers (versions, binaries, env).
	Scenario *scenarios.Scenario
	// GracePeriod, when not empty, adds a third side: the new server
	// with this refresh rotation grace period, e.g. "30s".
	GracePeriod string
	// Chains is the number of chains each misuse is tried on.
	Chains int
	// Concurrency is the number of simultaneous refreshes of one token.
	Concurrency int
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// A StormSide is what the misuses did on one server.
type StormSide struct {
	// Name is "old", "new" or "new+grace".
	Name string
	// Version is the server's release.
	Version string
	// GracePeriod is the rotation grace period set, empty for none.
	GracePeriod string
	// Outcomes has one entry per misuse: reuse, then concurrent.
	Outcomes []loadgen.Outcome
}

// Storm runs the misuse scenario: on each side a fresh database and
// server, one client, and chains from authorization-code flows; then
// each chain is misused once and introspection tells which chains
// survived. Everything it starts is stopped before it returns.
func Storm(ctx context.Context, o StormOptions) ([]StormSide, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sc := o.Scenario
	cache, err := hydra.CacheDir()
	if err != nil {
		return nil, err
	}
	type side struct {
		name, grace string
		srv         scenarios.Server
	}
	sides := []side{{"old", "", sc.Old}, {"new", "", sc.New}}
	if o.GracePeriod != "" {
		sides = append(sides, side{"new+grace", o.GracePeriod, sc.New})
	}
	pg, err := provision.StartPostgres(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	defer pg.Close()
	secret := randomSecret()
	var out []StormSide
	for i, sd := range sides {
		bin := sd.srv.Binary
		if bin == "" {
			if bin, err = hydra.EnsureBinary(ctx, cache, sd.srv.Version); err != nil {
				return out, err
			}
		}
		env := maps.Clone(sd.srv.Env)
		if env == nil {
			env = map[string]string{}
		}
		if sd.grace != "" {
			env[GracePeriodEnv] = sd.grace
		}
		db := fmt.Sprintf("storm%d", i)
		if err := pg.CreateDatabase(ctx, db); err != nil {
			return out, fmt.Errorf("creating %s database: %w", sd.name, err)
		}
		cfg := hydra.Config{Name: sd.name + " server", Version: sd.srv.Version, Binary: bin,
			DSN: pg.DSN(db), SystemSecret: secret, Env: env}
		log.Info("storm: starting server", "side", sd.name, "version", sd.srv.Version, "grace_period", sd.grace)
		res, err := stormSide(ctx, cfg, o)
		if err != nil {
			return out, fmt.Errorf("storm on %s server: %w", sd.name, err)
		}
		for _, oc := range res {
			log.Info("storm: outcome", "side", sd.name, "outcome", oc.String())
		}
		out = append(out, StormSide{Name: sd.name, Version: sd.srv.Version, GracePeriod: sd.grace, Outcomes: res})
	}
	return out, nil
}

func stormSide(ctx context.Context, cfg hydra.Config, o StormOptions) ([]loadgen.Outcome, error) {
	if err := hydra.Migrate(ctx, cfg); err != nil {
		return nil, err
	}
	srv, err := hydra.Serve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	api := srv.API
	c := hydra.Client{ID: "cutover-storm", Secret: randomSecret()}
	if err := api.CreateClient(ctx, c); err != nil {
		return nil, err
	}
	target := loadgen.StormTarget{TokenURL: api.TokenURL(), IntrospectURL: api.IntrospectURL(),
		Client: loadgen.Client{ID: c.ID, Secret: c.Secret}}
	var out []loadgen.Outcome
	for _, m := range []loadgen.Misuse{loadgen.Reuse, loadgen.Concurrent} {
		chains := make([]string, o.Chains)
		for i := range chains {
			t, err := api.AuthorizationCode(ctx, c, fmt.Sprintf("storm-user-%d", i), seedScope)
			if err != nil {
				return out, err
			}
			chains[i] = t.Refresh
		}
		oc, err := loadgen.Storm(ctx, target, m, o.Concurrency, chains)
		if err != nil {
			return out, err
		}
		out = append(out, oc)
	}
	return out, nil
}
