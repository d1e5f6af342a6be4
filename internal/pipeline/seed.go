package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/cutover-dev/cutover/internal/hydra"
	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/verify"
)

// seedScope is the scope of seeded sessions; offline_access asks for a
// refresh token.
const seedScope = "openid offline_access read"

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// seed creates the clients, sessions and tokens that the session
// checks follow across the cutover, revokes some of them, and records
// what the old server says about each.
func (r *run) seed(ctx context.Context) error {
	api := r.old.API
	for i := range r.sc.Seed.Clients {
		c := hydra.Client{ID: fmt.Sprintf("cutover-client-%d", i), Secret: r.o.NewSecret()}
		if err := api.CreateClient(ctx, c); err != nil {
			return err
		}
		r.clients = append(r.clients, c)
	}
	type tok struct{ id, token string }
	var toks []tok
	for i := range r.sc.Seed.ClientCredentialsTokens {
		t, err := api.ClientCredentials(ctx, r.clients[i%len(r.clients)], "read")
		if err != nil {
			return err
		}
		toks = append(toks, tok{fmt.Sprintf("cc-%d/access", i), t.Access})
	}
	for i := range r.sc.Seed.Sessions {
		t, err := api.AuthorizationCode(ctx, r.clients[i%len(r.clients)], fmt.Sprintf("user-%d", i), seedScope)
		if err != nil {
			return err
		}
		toks = append(toks, tok{fmt.Sprintf("session-%d/access", i), t.Access},
			tok{fmt.Sprintf("session-%d/refresh", i), t.Refresh})
	}
	// Revoke spread over the seeded tokens, so that both kinds are hit.
	if n := r.sc.Seed.Revoked; n > 0 {
		step := max(len(toks)/n, 1)
		for k := 0; k < n && k*step < len(toks); k++ {
			t := toks[k*step]
			owner := r.clients[ownerOf(t.id, len(r.clients))]
			if err := api.Revoke(ctx, owner, t.token); err != nil {
				return err
			}
		}
	}
	intro := introspector(api)
	for _, t := range toks {
		in, err := intro(ctx, t.token)
		if err != nil {
			return err
		}
		r.sessions = append(r.sessions, verify.Session{ID: t.id, Token: t.token, Before: in})
	}
	return nil
}

// ownerOf returns the client index a seeded token was issued to: both
// kinds were issued round-robin by their own ordinal.
func ownerOf(id string, clients int) int {
	var n int
	var kind string
	fmt.Sscanf(id, "%2s-%d", &kind, &n)
	if kind != "cc" {
		fmt.Sscanf(id, "session-%d", &n)
	}
	return n % clients
}

func introspector(api *hydra.API) verify.Introspector {
	return func(ctx context.Context, token string) (verify.Introspection, error) {
		in, err := api.Introspect(ctx, token)
		if err != nil {
			return verify.Introspection{}, err
		}
		aud := slices.Sorted(slices.Values(in.Audience))
		return verify.Introspection{Active: in.Active, Subject: in.Subject, ClientID: in.ClientID, Scope: in.Scope,
			Audience: aud, ExpiresAt: in.ExpiresAt, TokenUse: in.TokenUse}, nil
	}
}

// prepare creates, on one server, the state the load starts from; see
// Prepare.
func (r *run) prepare(ctx context.Context, api *hydra.API, plan loadgen.Plan) (loadgen.Endpoints, error) {
	return Prepare(ctx, api, r.clients, plan, r.sc.Load.Chains)
}
