package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	// Lateness is how long after its intended send time the request
	// left; a few microseconds on a healthy run.
	Lateness time.Duration
	// Latency is the time to the full answer.
	Latency time.Duration
	// Code is the HTTP status, 0 when no answer arrived.
	Code uint16
	// Failed is true for transport errors and HTTP statuses >= 400.
	Failed bool
}

// A Result is the outcome of one load.
type Result struct {
	// Samples holds the first [Plan.MaxSamples] requests, in the order
	// results arrived; Ops covers them all.
	Samples []Sample
	// Ops are the figures by operation and client kind, ordered by
	// operation, then kind.
	Ops []*Figures
	// Started is the wall-clock start of the load.
	Started time.Time
	// Elapsed is from the first request to the last answer.
	Elapsed time.Duration
	// Sent is the number of requests sent.
	Sent int64
	// Expected is the number of requests the schedule (of this shard)
	// had due within the plan's duration.
	Expected int64
	// Dropped is how many of the expected requests were never sent
	// because every worker was busy: Expected - Sent when positive.
	Dropped int64
	// MaxLateness is the longest a request waited past its intended
	// send time.
	MaxLateness time.Duration
	// BrokenChains is how many refresh chains saw a failed refresh.
	BrokenChains int
	// Errors counts distinct transport error strings (never holding
	// tokens), prefixed with the operation; at most 100 distinct
	// strings are kept, so memory stays bounded.
	Errors map[string]int
}

// Requests returns the number of requests sent.
func (r *Result) Requests() int { return int(r.Sent) }

// Late returns the number of requests that left late.
func (r *Result) Late() int64 { return Total(r.Ops).Late }

// ErrorRate returns the fraction of failed requests, 0 when none ran.
func (r *Result) ErrorRate() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(Total(r.Ops).Failed) / float64(r.Sent)
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
		return nil, errors.New("loadgen: no clients")
	}
	st := newState(p, ep)
	timeout := cmpOr(p.Timeout, 10*time.Second)
	workers := p.MaxWorkers
	if workers == 0 {
		workers = 512
	}
	maxSamples := p.MaxSamples
	if maxSamples == 0 {
		maxSamples = 1_000_000
	}
	// The timeout is applied per request by the observer, through the
	// request's context: an http.Client timeout around a RoundTripper
	// that is not an *http.Transport costs a goroutine per request.
	client := &http.Client{
		Transport: &observer{st: st, timeout: timeout, next: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: int(workers),
			IdleConnTimeout:     30 * time.Second,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxBody(0),
		vegeta.Workers(min(8, workers)), vegeta.MaxWorkers(workers))

	targeter := func(t *vegeta.Target) error {
		r, err := st.next(ctx)
		if err != nil {
			return err
		}
		st.target(r, t)
		return nil
	}

	pacer := p.pacer()
	if p.Shard.Count > 1 {
		pacer = shardPacer{inner: pacer, index: uint64(p.Shard.Index), count: uint64(p.Shard.Count)}
	}
	pacer = boundedPacer{inner: pacer, end: p.Duration}
	var enc vegeta.Encoder
	if results != nil {
		enc = vegeta.NewEncoder(results)
	}
	if !p.StartAt.IsZero() {
		select {
		case <-time.After(time.Until(p.StartAt)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	late := cmpOr(p.Late, 10*time.Millisecond)
	tl := newTally(p.Warmup, late)
	out := &Result{Errors: map[string]int{}}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	// vegeta takes its own start a moment later, inside Attack, so the
	// lateness measured here errs on the late side by microseconds.
	out.Started = time.Now()
	var last time.Time
	var hint time.Duration
	var werr error
	for res := range atk.Attack(targeter, pacer, p.Duration, "cutover") {
		tg, _ := parseFragment(res.URL)
		at := max(res.Timestamp.Sub(out.Started), 0)
		intended, ok := intendedAt(pacer, res.Seq, hint, p.Duration)
		if !ok {
			intended = at
		}
		hint = intended
		lateness := at - intended
		failed := res.Error != "" || res.Code >= 400 || res.Code == 0
		tl.add(tg.op, tg.kind, at, lateness, res.Latency, res.Code, failed)
		out.Sent++
		out.MaxLateness = max(out.MaxLateness, lateness)
		if len(out.Samples) < maxSamples {
			out.Samples = append(out.Samples, Sample{Op: tg.op, At: at, Lateness: lateness,
				Latency: res.Latency, Code: res.Code, Failed: failed})
		}
		if res.Error != "" && len(out.Errors) < 100 {
			out.Errors[tg.op.String()+": "+res.Error]++
		}
		if e := res.End(); e.After(last) {
			last = e
		}
		if enc != nil && werr == nil {
			if werr = enc.Encode(res); werr != nil {
				atk.Stop()
			}
		}
	}
	if !last.IsZero() {
		out.Elapsed = last.Sub(out.Started)
	}
	out.Ops = tl.figures()
	out.Expected = int64(hitsBy(pacer, p.Duration))
	out.Dropped = max(out.Expected-out.Sent, 0)
	out.BrokenChains = st.broken()
	if werr != nil {
		return out, fmt.Errorf("writing results: %w", werr)
	}
	return out, ctx.Err()
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// basicAuth encodes a client credential for HTTP basic authentication
// the way RFC 6749 section 2.3.1 asks.
func basicAuth(c Client) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(esc(c.ID), esc(c.Secret))
	return req.Header.Get("Authorization")
}
