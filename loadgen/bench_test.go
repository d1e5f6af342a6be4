package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkThroughput compares the highest rate loadgen sustains with
// raw vegeta's against the same trivial loopback endpoint, both asked
// for far more than the machine can send, with the same number of
// workers. Each iteration is a one-second attack; req/s is what was
// sent. loadgen does its extra work per request (drawing the sequence,
// refresh-chain state, intended send times, histograms); raw vegeta
// only counts results.
func BenchmarkThroughput(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"a","refresh_token":"r","active":true}`)
	}))
	defer srv.Close()
	const workers = 64
	ask := Rate{Freq: 100_000, Per: time.Second}

	b.Run("vegeta", func(b *testing.B) {
		b.ReportAllocs()
		tgt := vegeta.Target{Method: http.MethodPost, URL: srv.URL + "/oauth2/token",
			Body:   []byte("grant_type=client_credentials&scope=read"),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Basic YTpz"}}}
		var sent, secs float64
		for b.Loop() {
			atk := vegeta.NewAttacker(vegeta.Workers(8), vegeta.MaxWorkers(workers), vegeta.MaxBody(0))
			start := time.Now()
			for range atk.Attack(vegeta.NewStaticTargeter(tgt), ask, time.Second, "raw") {
				sent++
			}
			secs += time.Since(start).Seconds()
		}
		b.ReportMetric(sent/secs, "req/s")
	})
	b.Run("loadgen", func(b *testing.B) {
		b.ReportAllocs()
		_, chains := newFakeOAuth(256)
		ep := endpoints(srv.URL, chains)
		p := Plan{Seed: 1, Mix: map[Op]int{ClientCredentials: 4, Refresh: 2, Introspect: 3, JWKS: 1},
			Pacer: Constant(ask), Duration: time.Second, MaxWorkers: workers, MaxSamples: -1}
		var sent, secs float64
		for b.Loop() {
			start := time.Now()
			res, err := Run(context.Background(), p, ep, nil)
			if err != nil {
				b.Fatal(err)
			}
			secs += time.Since(start).Seconds()
			sent += float64(res.Sent)
		}
		b.ReportMetric(sent/secs, "req/s")
	})
}
