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
// workers. Each iteration runs a one-second attack of each, in
// alternating order so that a machine shared with other work affects
// both alike; vegeta-req/s and loadgen-req/s are what was sent, ratio
// is loadgen's over vegeta's. loadgen does its extra work per request
// (drawing the sequence, refresh-chain state, intended send times,
// histograms); raw vegeta only counts results.
func BenchmarkThroughput(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"a","refresh_token":"r","active":true}`)
	}))
	defer srv.Close()
	const workers = 64
	ask := Rate{Freq: 100_000, Per: time.Second}
	tgt := vegeta.Target{Method: http.MethodPost, URL: srv.URL + "/oauth2/token",
		Body:   []byte("grant_type=client_credentials&scope=read"),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Basic YTpz"}}}
	raw := func() float64 {
		atk := vegeta.NewAttacker(vegeta.Workers(8), vegeta.MaxWorkers(workers), vegeta.MaxBody(0))
		start, n := time.Now(), 0
		for range atk.Attack(vegeta.NewStaticTargeter(tgt), ask, time.Second, "raw") {
			n++
		}
		return float64(n) / time.Since(start).Seconds()
	}
	_, chains := newFakeOAuth(256)
	ep := endpoints(srv.URL, chains)
	p := Plan{Seed: 1, Mix: map[Op]int{ClientCredentials: 4, Refresh: 2, Introspect: 3, JWKS: 1},
		Pacer: Constant(ask), Duration: time.Second, MaxWorkers: workers, MaxSamples: -1}
	ours := func() float64 {
		start := time.Now()
		res, err := Run(context.Background(), p, ep, nil)
		if err != nil {
			b.Fatal(err)
		}
		return float64(res.Sent) / time.Since(start).Seconds()
	}
	b.ReportAllocs()
	var v, l float64
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			v += raw()
			l += ours()
		} else {
			l += ours()
			v += raw()
		}
		i++
	}
	b.ReportMetric(v/float64(i), "vegeta-req/s")
	b.ReportMetric(l/float64(i), "loadgen-req/s")
	b.ReportMetric(l/v, "ratio")
}
