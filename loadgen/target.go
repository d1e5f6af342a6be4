package loadgen

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A Client is an OAuth client's credentials. Secret is never logged.
type Client struct {
	ID     string
	Secret string
	// Kind labels the client in the figures, for example
	// "confidential" or "public"; latency may depend on it (a secret is
	// hashed on every authentication). Empty means unlabelled.
	Kind string
}

// A Chain is a refresh-token chain to rotate: the client that owns it
// and its newest refresh token.
type Chain struct {
	Client  int
	Refresh string
}

// An AuthorizationCodeFunc runs one whole authorization-code flow for
// client c and subject and returns the HTTP status that ended it: the
// token exchange's status, or the status of the first hop that failed
// (0 for a transport error). It must be safe for concurrent use.
type AuthorizationCodeFunc func(ctx context.Context, c Client, subject string) (status int, err error)

// Endpoints is the server under load and the state the traffic starts
// from. Tokens in it are credentials and never leave the package.
type Endpoints struct {
	// TokenURL, RevokeURL and IntrospectURL are the OAuth endpoints.
	TokenURL, RevokeURL, IntrospectURL string
	// JWKSURL and DiscoveryURL are the public reads; empty makes those
	// operations fall back to token requests.
	JWKSURL, DiscoveryURL string
	// AuthorizationCode runs the authorization-code operation; nil
	// makes it fall back to a token request. The operation is measured
	// as one request from the first hop to the token answer.
	AuthorizationCode AuthorizationCodeFunc
	// Clients are used in turn for client_credentials requests and
	// authenticate refreshes and revocations.
	Clients []Client
	// Chains are rotated by refresh operations, in turn.
	Chains []Chain
	// Introspectable are access tokens drawn by introspections.
	Introspectable []string
	// Revocable are access tokens revoked in turn by revocations, each
	// with the client that owns it; when they run out the turn starts
	// over.
	Revocable []Owned
	// RevocableRefresh are refresh tokens revoked in turn by
	// revoke_refresh operations.
	RevocableRefresh []Owned
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
	turns   int
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
	c.turns++
}

func (c *chainState) markBroken() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broken = true
}

// A request is what the targeter hands vegeta, before encoding.
type request struct {
	op     Op
	chain  int // for Refresh; -1 otherwise
	method string
	url    string
	body   []byte
	cl     Client
	ci     int  // index of cl
	auth   bool // authenticate as cl
	n      int  // ordinal among requests of op, for the subject
}

// fragment tags a request URL with its operation, its chain and its
// client kind: "op[/chain][@kind]". The fragment is never sent to the
// server, but vegeta keeps it in each result's URL, which is how
// results are told apart by operation, in memory and in result files.
func (r request) fragment() string {
	s := r.op.String()
	switch r.op {
	case Refresh:
		s += "/" + strconv.Itoa(r.chain)
	case AuthorizationCode:
		s += "/" + strconv.Itoa(r.n)
	}
	if r.cl.Kind != "" {
		s += "@" + r.cl.Kind
	}
	return s
}

// A tag is a parsed fragment.
type tag struct {
	op   Op
	n    int // chain for Refresh, ordinal for AuthorizationCode; -1 otherwise
	kind string
}

// parseFragment is the inverse of fragment; it takes a whole URL.
func parseFragment(rawURL string) (tag, bool) {
	t := tag{n: -1}
	i := strings.LastIndexByte(rawURL, '#')
	if i < 0 {
		return t, false
	}
	frag := rawURL[i+1:]
	frag, t.kind, _ = strings.Cut(frag, "@")
	name, num, _ := strings.Cut(frag, "/")
	op, err := ParseOp(name)
	if err != nil {
		return t, false
	}
	t.op = op
	if num != "" {
		if t.n, err = strconv.Atoi(num); err != nil {
			return tag{n: -1}, false
		}
	}
	return t, true
}

// state is the traffic's shared state across vegeta's workers.
type state struct {
	ep       Endpoints
	subjects int
	shard    Shard
	mu       sync.Mutex
	seq      *sequence
	chains   []*chainState
	owned    []int // chains this shard rotates
	// Prebuilt, read-only request parts: vegeta copies a target's
	// header into each request, so targets may share these.
	formHeader []http.Header // by client: form type and basic auth
	plainForm  http.Header   // form type, no authentication
	ccBody     []byte
	introBody  [][]byte
}

func newState(p Plan, ep Endpoints) *state {
	s := &state{ep: ep, seq: newSequence(p), subjects: p.Subjects, shard: p.Shard}
	if s.subjects <= 0 {
		s.subjects = 100
	}
	if s.shard.Count < 1 {
		s.shard = Shard{Index: 0, Count: 1}
	}
	for _, c := range ep.Clients {
		s.formHeader = append(s.formHeader, http.Header{"Content-Type": {formType},
			"Authorization": {basicAuth(c)}})
	}
	s.plainForm = http.Header{"Content-Type": {formType}}
	s.ccBody = []byte(url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode())
	for _, tok := range ep.Introspectable {
		s.introBody = append(s.introBody, []byte(url.Values{"token": {tok}}.Encode()))
	}
	for i, c := range ep.Chains {
		s.chains = append(s.chains, &chainState{hold: make(chan struct{}, 1), client: c.Client, refresh: c.Refresh})
		if i%s.shard.Count == s.shard.Index {
			s.owned = append(s.owned, i)
		}
	}
	return s
}

// draw returns this shard's next operation from the plan's sequence,
// skipping the draws other shards send.
func (s *state) draw() (op Op, n, pick int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		global := s.seq.drawn
		op, n = s.seq.next()
		pick = 0
		if op == Introspect && len(s.ep.Introspectable) > 0 {
			pick = s.seq.pick.IntN(len(s.ep.Introspectable))
		}
		if global%s.shard.Count == s.shard.Index {
			return op, n, pick
		}
	}
}

// next draws the next request. For a refresh it waits until the chain
// is free, so that a chain is never refreshed twice at once.
func (s *state) next(ctx context.Context) (request, error) {
	op, n, pick := s.draw()
	ep := s.ep
	r := request{op: op, chain: -1, n: n, method: http.MethodPost}
	use := func(i int) {
		r.ci = i % len(ep.Clients)
		r.cl = ep.Clients[r.ci]
	}
	switch {
	case op == Refresh && len(s.owned) > 0:
		r.chain = s.owned[n%len(s.owned)]
		ch := s.chains[r.chain]
		select {
		case ch.hold <- struct{}{}:
		case <-ctx.Done():
			return r, ctx.Err()
		}
		use(ch.client)
		r.url, r.auth = ep.TokenURL, true
		r.body = []byte(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ch.current()}}.Encode())
	case op == Introspect && len(ep.Introspectable) > 0:
		r.url, r.body = ep.IntrospectURL, s.introBody[pick]
	case op == Revoke && len(ep.Revocable) > 0:
		t := ep.Revocable[n%len(ep.Revocable)]
		use(t.Client)
		r.url, r.auth = ep.RevokeURL, true
		r.body = []byte(url.Values{"token": {t.Token}}.Encode())
	case op == RevokeRefresh && len(ep.RevocableRefresh) > 0:
		t := ep.RevocableRefresh[n%len(ep.RevocableRefresh)]
		use(t.Client)
		r.url, r.auth = ep.RevokeURL, true
		r.body = []byte(url.Values{"token": {t.Token}, "token_type_hint": {"refresh_token"}}.Encode())
	case op == AuthorizationCode && ep.AuthorizationCode != nil:
		// The observer runs the flow; the URL only carries the tag.
		use(n)
		r.url = ep.TokenURL
	case op == JWKS && ep.JWKSURL != "":
		r.method, r.url = http.MethodGet, ep.JWKSURL
	case op == Discovery && ep.DiscoveryURL != "":
		r.method, r.url = http.MethodGet, ep.DiscoveryURL
	default:
		// Nothing to work on for this operation: fall back to a token
		// request so that the rate holds.
		use(n)
		r.op, r.url, r.auth, r.body = ClientCredentials, ep.TokenURL, true, s.ccBody
	}
	return r, nil
}

const formType = "application/x-www-form-urlencoded"

// target fills t for r.
func (s *state) target(r request, t *vegeta.Target) {
	t.Method = r.method
	t.URL = r.url + "#" + r.fragment()
	t.Body = r.body
	switch {
	case r.body == nil:
		t.Header = nil
	case r.auth:
		t.Header = s.formHeader[r.ci]
	default:
		t.Header = s.plainForm
	}
}

// subject returns the user the n-th authorization-code flow logs in as.
func (s *state) subject(n int) string {
	return "load-user-" + strconv.Itoa(n%s.subjects)
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

// broken returns how many chains saw a failed refresh.
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
