package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// fakeOAuth is a token endpoint that rotates refresh tokens like Hydra
// does and remembers any reuse of a rotated one.
type fakeOAuth struct {
	mu      sync.Mutex
	newest  map[string]string // chain -> newest token
	chainOf map[string]string // token -> chain
	reused  int
	inUse   map[string]bool
	overlap int
	ops     map[string]int
}

func newFakeOAuth(chains int) (*fakeOAuth, []Chain) {
	f := &fakeOAuth{newest: map[string]string{}, chainOf: map[string]string{}, inUse: map[string]bool{},
		ops: map[string]int{}}
	var cs []Chain
	for i := range chains {
		c := fmt.Sprintf("c%d", i)
		tok := c + "-g0"
		f.newest[c], f.chainOf[tok] = tok, c
		cs = append(cs, Chain{Client: i, Refresh: tok})
	}
	return f, cs
}

func (f *fakeOAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.ops[r.URL.Path+" "+r.Form.Get("grant_type")]++
	if r.Form.Get("grant_type") != "refresh_token" {
		f.mu.Unlock()
		fmt.Fprint(w, `{"access_token":"a"}`)
		return
	}
	tok := r.Form.Get("refresh_token")
	c := f.chainOf[tok]
	if f.inUse[c] {
		f.overlap++
	}
	if f.newest[c] != tok {
		f.reused++
		f.mu.Unlock()
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	f.inUse[c] = true
	f.mu.Unlock()
	time.Sleep(time.Millisecond) // let other requests of the chain try to overlap
	f.mu.Lock()
	next := fmt.Sprintf("%s-g%d", c, len(f.chainOf))
	f.newest[c], f.chainOf[next] = next, c
	f.inUse[c] = false
	f.mu.Unlock()
	fmt.Fprintf(w, `{"access_token":"a","refresh_token":%q}`, next)
}

func endpoints(url string, chains []Chain) Endpoints {
	return Endpoints{TokenURL: url + "/oauth2/token", RevokeURL: url + "/oauth2/revoke",
		IntrospectURL: url + "/admin/oauth2/introspect", JWKSURL: url + "/.well-known/jwks.json",
		DiscoveryURL: url + "/.well-known/openid-configuration",
		Clients:      []Client{{ID: "a", Secret: "s"}, {ID: "b", Secret: "t", Kind: "other"}},
		Chains:       chains, Introspectable: []string{"x", "y"}, Revocable: []Owned{{0, "r"}},
		RevocableRefresh: []Owned{{1, "rr"}}}
}

// TestRefreshChainsPresentNewestToken drives few chains hard, so that
// many requests wait for the same chain: every refresh must present
// its chain's newest token and no chain may be refreshed twice at once.
// Run it with -race.
func TestRefreshChainsPresentNewestToken(t *testing.T) {
	fake, chains := newFakeOAuth(3)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := Plan{Seed: 7, Mix: map[Op]int{Refresh: 8, ClientCredentials: 1, JWKS: 1}, Freq: 400, Per: time.Second,
		Duration: time.Second, MaxWorkers: 64}
	res, err := Run(context.Background(), p, endpoints(srv.URL, chains), nil)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.reused != 0 || fake.overlap != 0 {
		t.Errorf("got %d reused and %d overlapping refreshes, want 0 and 0", fake.reused, fake.overlap)
	}
	if res.BrokenChains != 0 {
		t.Errorf("got %d broken chains, want 0", res.BrokenChains)
	}
	var refreshes int64
	for _, f := range res.Ops {
		if f.Op == Refresh {
			refreshes += f.Codes[200]
		}
	}
	if served := int64(fake.ops["/oauth2/token refresh_token"]); refreshes < 100 || refreshes != served {
		t.Errorf("got %d successful refreshes, server saw %d; want the same, at least 100", refreshes, served)
	}
}

// TestSequenceIsReproducible checks that two runs of a plan send the
// same operations, and that two shards together send exactly what one
// process sends.
func TestSequenceIsReproducible(t *testing.T) {
	mix := map[Op]int{ClientCredentials: 3, Refresh: 2, Introspect: 4, Revoke: 1, JWKS: 1, Discovery: 1}
	draw := func(sh Shard, n int) []Op {
		st := newState(Plan{Seed: 42, Mix: mix, Shard: sh}, Endpoints{})
		var ops []Op
		for range n {
			op, _, _ := st.draw()
			ops = append(ops, op)
		}
		return ops
	}
	one, again := draw(Shard{}, 1000), draw(Shard{}, 1000)
	if fmt.Sprint(one) != fmt.Sprint(again) {
		t.Fatal("two draws of the same plan differ")
	}
	a, b := draw(Shard{0, 2}, 500), draw(Shard{1, 2}, 500)
	for i := range 500 {
		if a[i] != one[2*i] || b[i] != one[2*i+1] {
			t.Fatalf("shards differ from the whole at %d: got %v,%v want %v,%v", i, a[i], b[i], one[2*i], one[2*i+1])
		}
	}
}

// TestStalledServerShowsUp pauses the server in a load with few
// workers: the requests that could not leave on time must show up as
// late (a stall in the middle, which vegeta catches up on afterwards)
// or dropped (a stall that lasts past the end), and the response time
// measured from the intended send time must show the stall, where the
// latency of the requests that did leave stays calm.
func TestStalledServerShowsUp(t *testing.T) {
	tests := []struct {
		name                  string
		stall                 time.Duration
		minBehind, minDropped int64
	}{
		// vegeta catches up after the stall with a burst (late), unless
		// the machine is too busy to (dropped).
		{"stall in the middle", time.Second, 100, 0},
		// Requests due in the stall never leave.
		{"stall past the end", 2 * time.Second, 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var stallUntil time.Time
			start := time.Now()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				if stallUntil.IsZero() && time.Since(start) > 500*time.Millisecond {
					stallUntil = time.Now().Add(tt.stall)
				}
				until := stallUntil
				mu.Unlock()
				time.Sleep(time.Until(until))
				fmt.Fprint(w, `{}`)
			}))
			defer srv.Close()
			p := Plan{Seed: 1, Mix: map[Op]int{ClientCredentials: 1}, Freq: 200, Per: time.Second,
				Duration: 2 * time.Second, MaxWorkers: 4}
			var buf bytes.Buffer
			res, err := Run(context.Background(), p, endpoints(srv.URL, nil), &buf)
			if err != nil {
				t.Fatal(err)
			}
			tot := Total(res.Ops)
			t.Logf("sent %d of %d, dropped %d, late %d, max lateness %v, latency p95 %v, response p95 %v",
				res.Sent, res.Expected, res.Dropped, tot.Late, res.MaxLateness, tot.Latency.Quantile(0.95),
				tot.Response.Quantile(0.95))
			if tot.Late+res.Dropped < tt.minBehind {
				t.Errorf("got %d late and %d dropped requests, want at least %d together",
					tot.Late, res.Dropped, tt.minBehind)
			}
			if res.Dropped < tt.minDropped {
				t.Errorf("got %d dropped requests, want at least %d", res.Dropped, tt.minDropped)
			}
			if res.Expected != 400 || res.Sent+res.Dropped != res.Expected {
				t.Errorf("got expected %d, sent %d, dropped %d; want 400 = sent + dropped",
					res.Expected, res.Sent, res.Dropped)
			}
			if tt.minDropped == 0 {
				lat, resp := tot.Latency.Quantile(0.95), tot.Response.Quantile(0.95)
				if resp < 300*time.Millisecond || resp < 3*lat {
					t.Errorf("got response p95 %v and latency p95 %v, want the response p95 above 300ms "+
						"and 3 times the latency", resp, lat)
				}
			}
			// The result file holds every request, readable by vegeta.
			dec := vegeta.NewDecoder(&buf)
			n := 0
			for {
				var r vegeta.Result
				if dec.Decode(&r) != nil {
					break
				}
				if tg, ok := parseFragment(r.URL); !ok || tg.op != ClientCredentials {
					t.Fatalf("result URL %q carries no operation tag", r.URL)
				}
				n++
			}
			if int64(n) != res.Sent {
				t.Errorf("result file holds %d results, want %d", n, res.Sent)
			}
		})
	}
}

// TestFiguresByOperationAndKind checks that every request is counted
// once, under its operation and client kind, and that the schedule adds
// up. (Whether a healthy run is on time depends on how busy the machine
// is, so no test asserts it: the stall test checks the other side.)
func TestFiguresByOperationAndKind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer srv.Close()
	p := Plan{Seed: 1, Mix: map[Op]int{ClientCredentials: 1, JWKS: 1, Discovery: 1, Introspect: 1, Revoke: 1,
		RevokeRefresh: 1}, Freq: 100, Per: time.Second, Duration: time.Second, MaxWorkers: 64}
	res, err := Run(context.Background(), p, endpoints(srv.URL, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	var n int64
	for _, f := range res.Ops {
		ops = append(ops, f.Op.String()+"@"+f.Kind)
		n += f.Requests
		if f.Codes[200] != f.Requests {
			t.Errorf("%s@%s: got codes %v for %d requests, want all 200", f.Op, f.Kind, f.Codes, f.Requests)
		}
	}
	want := "[client_credentials@ client_credentials@other introspect@ revoke@ revoke_refresh@other jwks@ discovery@]"
	if fmt.Sprint(ops) != want {
		t.Errorf("got figures for %v, want %s", ops, want)
	}
	if n != res.Sent || res.Sent+res.Dropped != res.Expected || res.Expected != 100 {
		t.Errorf("got %d requests in the figures, sent %d, dropped %d, expected %d; want them to add up to 100",
			n, res.Sent, res.Dropped, res.Expected)
	}
}

// TestShardsTogetherSendThePlan runs a plan split across two workers
// at once: together they send the plan's requests, and their merged
// figures count each operation as a single process would.
func TestShardsTogetherSendThePlan(t *testing.T) {
	fake, chains := newFakeOAuth(4)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	mix := map[Op]int{ClientCredentials: 3, Refresh: 2, Introspect: 4, JWKS: 1}
	p := Plan{Seed: 3, Mix: mix, Freq: 100, Per: time.Second, Duration: time.Second, MaxWorkers: 32}
	var wg sync.WaitGroup
	parts := make([]*Result, 2)
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := p
			q.Shard = Shard{Index: i, Count: 2}
			var err error
			if parts[i], err = Run(context.Background(), q, endpoints(srv.URL, chains), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	m := Merge(parts...)
	// What one process draws for the same plan.
	st := newState(p, endpoints(srv.URL, chains))
	want := map[Op]int64{}
	for range 100 {
		op, _, _ := st.draw()
		want[op]++
	}
	for _, f := range ByOp(m.Ops) {
		if f.Requests != want[f.Op] {
			t.Errorf("%s: got %d requests from the shards, want %d", f.Op, f.Requests, want[f.Op])
		}
	}
	if m.Expected != 100 || parts[0].Expected != 50 || m.Sent+m.Dropped != 100 {
		t.Errorf("got expected %d (%d + %d), sent %d, dropped %d; want 100 = 50 + 50 = sent + dropped",
			m.Expected, parts[0].Expected, parts[1].Expected, m.Sent, m.Dropped)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.reused != 0 || m.BrokenChains != 0 {
		t.Errorf("got %d reused tokens and %d broken chains, want none", fake.reused, m.BrokenChains)
	}
}
