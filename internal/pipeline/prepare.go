package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

// PlanFor returns the load plan a scenario's traffic section
// describes: mix, rate or pacing, duration, warm-up and subjects.
func PlanFor(ld scenarios.Traffic) loadgen.Plan {
	mix := map[loadgen.Op]int{}
	for name, w := range ld.Mix {
		op, err := loadgen.ParseOp(name)
		if err != nil {
			panic("BUG: scenario validation let through operation " + name)
		}
		mix[op] = w
	}
	p := loadgen.Plan{Seed: uint64(ld.Seed), Mix: mix, Freq: ld.RatePer.Freq, Per: ld.RatePer.Per,
		Duration: ld.Dur, Warmup: ld.Warm, Timeout: ld.Deadline, Subjects: ld.Subjects}
	rate := func(r scenarios.Rate) loadgen.Rate { return loadgen.Rate{Freq: r.Freq, Per: r.Per} }
	switch pc := ld.Pacing; pc.Kind {
	case "linear":
		p.Pacer = loadgen.Linear(rate(pc.FromRate), rate(pc.ToRate), ld.Dur)
	case "sine":
		p.Pacer = loadgen.Sine(rate(ld.RatePer), rate(pc.AmpRate), pc.PeriodDur)
	case "stages":
		var st []loadgen.Stage
		for _, s := range pc.Stages {
			st = append(st, loadgen.Stage{Duration: s.Dur, Rate: rate(s.RatePer), Ramp: s.Ramp})
		}
		p.Pacer = loadgen.Stages(st...)
	}
	return p
}

// Limits on the state prepared for a load: enough to keep operations
// from repeating on the same token too soon, without making
// preparation take longer than the load.
const (
	maxRevocable        = 5000
	maxRevocableRefresh = 200
	introspectable      = 32
)

// Prepare creates, on one server, the state a load starts from: refresh
// chains from authorization-code flows, tokens to introspect, access
// and refresh tokens to revoke; and it wires the authorization-code
// operation to the headless login/consent driver. Both sides of an
// upgrade get the same shape of state, so the same plan makes the same
// requests.
func Prepare(ctx context.Context, api *hydra.API, clients []hydra.Client, plan loadgen.Plan,
	chains int) (loadgen.Endpoints, error) {
	ep := loadgen.Endpoints{TokenURL: api.TokenURL(), RevokeURL: api.RevokeURL(), IntrospectURL: api.IntrospectURL(),
		JWKSURL: api.Public + "/.well-known/jwks.json", DiscoveryURL: api.Public + "/.well-known/openid-configuration"}
	if len(clients) == 0 {
		return ep, errors.New("preparing load: no clients")
	}
	for _, c := range clients {
		ep.Clients = append(ep.Clients, loadgen.Client{ID: c.ID, Secret: c.Secret})
	}
	ep.AuthorizationCode = func(ctx context.Context, c loadgen.Client, subject string) (int, error) {
		_, err := api.AuthorizationCode(ctx, hydra.Client{ID: c.ID, Secret: c.Secret}, subject, seedScope)
		var he *hydra.HTTPError
		switch {
		case err == nil:
			return 200, nil
		case errors.As(err, &he):
			return he.Status, err
		}
		return 0, err
	}
	if plan.Mix[loadgen.JWKS] > 0 {
		// Hydra 2.x creates its signing keys on the first read, which
		// can take seconds: a server in service has them already.
		if err := warm(ctx, ep.JWKSURL); err != nil {
			return ep, err
		}
	}
	if plan.Mix[loadgen.Refresh] > 0 {
		for i := range chains {
			ci := i % len(clients)
			t, err := api.AuthorizationCode(ctx, clients[ci], fmt.Sprintf("load-user-%d", i), seedScope)
			if err != nil {
				return ep, err
			}
			ep.Chains = append(ep.Chains, loadgen.Chain{Client: ci, Refresh: t.Refresh})
		}
	}
	if plan.Mix[loadgen.Introspect] > 0 {
		for i := range introspectable {
			t, err := api.ClientCredentials(ctx, clients[i%len(clients)], "read")
			if err != nil {
				return ep, err
			}
			ep.Introspectable = append(ep.Introspectable, t.Access)
		}
	}
	for i := range min(plan.ExpectedOf(loadgen.Revoke), maxRevocable) {
		ci := i % len(clients)
		t, err := api.ClientCredentials(ctx, clients[ci], "read")
		if err != nil {
			return ep, err
		}
		ep.Revocable = append(ep.Revocable, loadgen.Owned{Client: ci, Token: t.Access})
	}
	// Each refresh token costs a whole authorization-code flow; past the
	// limit, revocations repeat tokens already revoked, which the server
	// answers like fresh ones (RFC 7009) but with less work.
	for i := range min(plan.ExpectedOf(loadgen.RevokeRefresh), maxRevocableRefresh) {
		ci := i % len(clients)
		t, err := api.AuthorizationCode(ctx, clients[ci], fmt.Sprintf("revoke-user-%d", i), seedScope)
		if err != nil {
			return ep, err
		}
		ep.RevocableRefresh = append(ep.RevocableRefresh, loadgen.Owned{Client: ci, Token: t.Refresh})
	}
	return ep, nil
}

// warm reads u once and discards the answer.
func warm(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("warming %s: %w", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("warming %s: HTTP %d", u, resp.StatusCode)
	}
	return nil
}
