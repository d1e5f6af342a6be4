package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A Sample is one request's outcome.
type Sample struct {
	// Op is the operation.
	Op Op
	// At is when the request started, from the start of the load.
	At time.Duration
	// Latency is the time to the full answer.
	Latency time.Duration
	// Code is the HTTP status, 0 when no answer arrived.
	Code uint16
	// Failed is true for transport errors and HTTP statuses >= 400.
	Failed bool
}

// A Result is the outcome of one load.
type Result struct {
	// Samples holds every request, in the order results arrived.
	Samples []Sample
	// Started is the wall-clock start of the load.
	Started time.Time
	// Elapsed is from the first request to the last answer.
	Elapsed time.Duration
	// BrokenChains is how many refresh chains saw a failed refresh.
	BrokenChains int
	// Errors counts distinct error strings (never holding tokens).
	Errors map[string]int
}

// Requests returns the number of requests sent.
func (r *Result) Requests() int { return len(r.Samples) }

// ErrorRate returns the fraction of failed requests, 0 when none ran.
func (r *Result) ErrorRate() float64 {
	if len(r.Samples) == 0 {
		return 0
	}
	n := 0
	for _, s := range r.Samples {
		if s.Failed {
			n++
		}
	}
	return float64(n) / float64(len(r.Samples))
}

// Run sends the plan's traffic to ep and returns what happened. When
// results is not nil, every result is also written to it in vegeta's
// binary format. Cancelling ctx stops the load early; Run then returns
// what was measured so far together with ctx's error.
func Run(ctx context.Context, p Plan, ep Endpoints, results io.Writer) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if len(ep.Clients) == 0 {
		return nil, fmt.Errorf("loadgen: no clients")
	}
	st := newState(p, ep)
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	workers := p.MaxWorkers
	if workers == 0 {
		workers = 512
	}
	client := &http.Client{
		Timeout: timeout,
		Transport: &observer{st: st, next: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: int(workers),
			IdleConnTimeout:     30 * time.Second,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxBody(0),
		vegeta.Workers(8), vegeta.MaxWorkers(workers))

	targeter := func(t *vegeta.Target) error {
		r, err := st.next(ctx)
		if err != nil {
			return err
		}
		t.Method = http.MethodPost
		t.URL = r.url + "#" + r.fragment()
		t.Body = []byte(r.form.Encode())
		t.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if r.cl.ID != "" {
			req := http.Request{Header: http.Header{}}
			req.SetBasicAuth(escape(r.cl.ID), escape(r.cl.Secret))
			t.Header.Set("Authorization", req.Header.Get("Authorization"))
		}
		return nil
	}

	var enc vegeta.Encoder
	if results != nil {
		enc = vegeta.NewEncoder(results)
	}
	out := &Result{Started: time.Now(), Errors: map[string]int{}}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	rate := vegeta.Rate{Freq: p.Freq, Per: p.Per}
	var last time.Time
	for res := range atk.Attack(targeter, rate, p.Duration, "cutover") {
		op, _, _ := parseFragment(res.URL)
		s := Sample{Op: op, At: res.Timestamp.Sub(out.Started), Latency: res.Latency, Code: res.Code,
			Failed: res.Error != "" || res.Code >= 400 || res.Code == 0}
		if s.At < 0 {
			s.At = 0
		}
		out.Samples = append(out.Samples, s)
		if res.Error != "" {
			out.Errors[op.String()+": "+res.Error]++
		}
		if e := res.End(); e.After(last) {
			last = e
		}
		if enc != nil {
			if err := enc.Encode(res); err != nil {
				atk.Stop()
				return out, fmt.Errorf("writing results: %w", err)
			}
		}
	}
	if !last.IsZero() {
		out.Elapsed = last.Sub(out.Started)
	}
	out.BrokenChains = st.broken()
	return out, ctx.Err()
}

// observer reads refresh answers on their way to vegeta to advance the
// chain they rotate. It is the only place that sees response bodies.
type observer struct {
	st   *state
	next http.RoundTripper
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	op, chain, _ := parseFragment("#" + req.URL.Fragment)
	if op != Refresh || chain < 0 {
		return o.next.RoundTrip(req)
	}
	resp, err := o.next.RoundTrip(req)
	if err != nil {
		o.st.done(chain, 0, "")
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err == nil && resp.StatusCode == 200 {
		json.Unmarshal(body, &tok)
	}
	o.st.done(chain, resp.StatusCode, tok.RefreshToken)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

// escape encodes a client credential for HTTP basic authentication the
// way RFC 6749 section 2.3.1 asks.
func escape(s string) string {
	return strings.ReplaceAll(urlQueryEscape(s), "+", "%20")
}
