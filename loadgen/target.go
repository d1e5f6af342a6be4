package loadgen

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// A Client is an OAuth client's credentials. Secret is never logged.
type Client struct {
	ID     string
	Secret string
}

// A Chain is a refresh-token chain to rotate: the client that owns it
// and its newest refresh token.
type Chain struct {
	Client  int
	Refresh string
}

// Endpoints is the server under load and the state the traffic starts
// from. Tokens in it are credentials and never leave the package.
type Endpoints struct {
	// TokenURL, RevokeURL and IntrospectURL are the OAuth endpoints.
	TokenURL, RevokeURL, IntrospectURL string
	// Clients are used in turn for client_credentials requests and
	// authenticate refreshes and revocations.
	Clients []Client
	// Chains are rotated by refresh operations, in turn.
	Chains []Chain
	// Introspectable are access tokens drawn by introspections.
	Introspectable []string
	// Revocable are tokens revoked in turn by revocations, each with the
	// client that owns it; when they run out the turn starts over.
	Revocable []Owned
}

// An Owned token is a token and the index of its client.
type Owned struct {
	Client int
	Token  string
}

// chainState is one refresh chain under concurrency: hold is a
// one-slot semaphore taken by the request that rotates the chain and
// released once the answer has been read.
type chainState struct {
	hold    chan struct{}
	mu      sync.Mutex
	client  int
	refresh string
	broken  bool
}

func (c *chainState) current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh
}

func (c *chainState) advance(refresh string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh = refresh
}

func (c *chainState) markBroken() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broken = true
}

// A request is what the targeter hands vegeta, before encoding.
type request struct {
	op    Op
	chain int // for Refresh; -1 otherwise
	url   string
	form  url.Values
	cl    Client
}

// fragment tags a request URL with its operation (and chain). The
// fragment is never sent to the server, but vegeta keeps it in each
// result's URL, which is how results are told apart by operation.
func (r request) fragment() string {
	if r.op == Refresh {
		return r.op.String() + "/" + strconv.Itoa(r.chain)
	}
	return r.op.String()
}

// parseFragment is the inverse of fragment.
func parseFragment(rawURL string) (Op, int, bool) {
	i := strings.LastIndexByte(rawURL, '#')
	if i < 0 {
		return 0, -1, false
	}
	name, chain, _ := strings.Cut(rawURL[i+1:], "/")
	op, err := ParseOp(name)
	if err != nil {
		return 0, -1, false
	}
	n := -1
	if chain != "" {
		if n, err = strconv.Atoi(chain); err != nil {
			return 0, -1, false
		}
	}
	return op, n, true
}

// state is the traffic's shared state across vegeta's workers.
type state struct {
	ep     Endpoints
	mu     sync.Mutex
	seq    *sequence
	chains []*chainState
}

func newState(p Plan, ep Endpoints) *state {
	s := &state{ep: ep, seq: newSequence(p)}
	for _, c := range ep.Chains {
		s.chains = append(s.chains, &chainState{hold: make(chan struct{}, 1), client: c.Client, refresh: c.Refresh})
	}
	return s
}

// next draws the next request. For a refresh it waits until the chain
// is free, so that a chain is never refreshed twice at once.
func (s *state) next(ctx context.Context) (request, error) {
	s.mu.Lock()
	op, n := s.seq.next()
	var pick int
	if op == Introspect && len(s.ep.Introspectable) > 0 {
		pick = s.seq.pick.IntN(len(s.ep.Introspectable))
	}
	s.mu.Unlock()

	ep := s.ep
	r := request{op: op, chain: -1}
	client := func(i int) Client { return ep.Clients[i%len(ep.Clients)] }
	switch {
	case op == ClientCredentials || (op == Refresh && len(s.chains) == 0):
		r.op, r.url, r.cl = ClientCredentials, ep.TokenURL, client(n)
		r.form = url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	case op == Refresh:
		r.chain = n % len(s.chains)
		ch := s.chains[r.chain]
		select {
		case ch.hold <- struct{}{}:
		case <-ctx.Done():
			return r, ctx.Err()
		}
		r.url, r.cl = ep.TokenURL, client(ch.client)
		r.form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ch.current()}}
	case op == Introspect && len(ep.Introspectable) > 0:
		r.url = ep.IntrospectURL
		r.form = url.Values{"token": {ep.Introspectable[pick]}}
	case op == Revoke && len(ep.Revocable) > 0:
		t := ep.Revocable[n%len(ep.Revocable)]
		r.url, r.cl = ep.RevokeURL, client(t.Client)
		r.form = url.Values{"token": {t.Token}}
	default:
		// Nothing to introspect or revoke: fall back to a token request
		// so that the rate holds.
		r.op, r.url, r.cl = ClientCredentials, ep.TokenURL, client(n)
		r.form = url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	}
	return r, nil
}

// done releases a refresh chain after its answer, advancing it to the
// new refresh token when the server issued one.
func (s *state) done(chain int, status int, newRefresh string) {
	if chain < 0 || chain >= len(s.chains) {
		return
	}
	ch := s.chains[chain]
	switch {
	case status == 200 && newRefresh != "":
		ch.advance(newRefresh)
	case status >= 400:
		ch.markBroken()
	}
	select {
	case <-ch.hold:
	default:
		panic("BUG: refresh chain released twice")
	}
}

// Broken returns how many chains saw a failed refresh.
func (s *state) broken() int {
	n := 0
	for _, c := range s.chains {
		c.mu.Lock()
		if c.broken {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
