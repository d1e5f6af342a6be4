package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var (
	soak     = flag.Duration("soak", 0, "run TestSoak for this long (e.g. 10m); 0 skips it")
	soakRate = flag.Int("soak-rate", 3000, "TestSoak's rate, requests per second")
)

// TestSoakServer is not a test: TestSoak runs the test binary again with
// CUTOVER_SOAK_SERVER set to serve a trivial endpoint from another
// process, so that the generator's memory is measured alone.
func TestSoakServer(t *testing.T) {
	addr := os.Getenv("CUTOVER_SOAK_SERVER")
	if addr == "" {
		t.Skip("helper process for TestSoak")
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"a","refresh_token":"r","active":true}`)
	})}
	go func() {
		time.Sleep(*soak + 2*time.Minute) // never outlive the soak
		srv.Close()
	}()
	srv.ListenAndServe()
}

// TestSoak runs the generator for -soak at -soak-rate against a trivial
// loopback server in another process. It checks that the generator's
// resident memory stays bounded (no growth from the first minute to the
// end beyond 64 MiB) and that the P95 from the histograms is within 1%
// of the P95 computed from every sample, read back from the vegeta
// result file after the run.
//
//	go test -run TestSoak -soak 10m -soak-rate 3000 -v ./loadgen
func TestSoak(t *testing.T) {
	if *soak == 0 {
		t.Skip("set -soak to run")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakServer$", "-soak="+soak.String())
	cmd.Env = append(os.Environ(), "CUTOVER_SOAK_SERVER="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("soak server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	f, err := os.CreateTemp("", "cutover-soak-*.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)

	_, chains := newFakeOAuth(256)
	ep := endpoints("http://"+addr, chains)
	p := Plan{Seed: 1, Mix: map[Op]int{ClientCredentials: 3, Refresh: 2, Introspect: 4, Revoke: 1, JWKS: 1, Discovery: 1},
		Freq: *soakRate, Per: time.Second, Duration: *soak, MaxWorkers: 256, MaxSamples: -1}

	var mu sync.Mutex
	var rss []float64 // MiB, one a second
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				mu.Lock()
				rss = append(rss, rssMiB())
				mu.Unlock()
			}
		}
	}()
	res, err := Run(context.Background(), p, ep, w)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	samples := slices.Clone(rss)
	mu.Unlock()

	tot := Total(res.Ops)
	at1m := samples[min(60, len(samples)-1)]
	maxRSS := slices.Max(samples)
	end := samples[len(samples)-1]
	t.Logf("rate %d/s for %v: sent %d of %d, dropped %d, late %d, max lateness %v, failed %d",
		*soakRate, *soak, res.Sent, res.Expected, res.Dropped, tot.Late, res.MaxLateness, tot.Failed)
	t.Logf("generator RSS: %.1f MiB after 1 min, %.1f MiB max, %.1f MiB at the end", at1m, maxRSS, end)
	if maxRSS-at1m > 64 {
		t.Errorf("RSS grew by %.1f MiB after the first minute, want at most 64", maxRSS-at1m)
	}

	// Every sample, back from the result file.
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	all := make([]time.Duration, 0, res.Sent)
	for {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			break
		}
		all = append(all, r.Latency)
	}
	if int64(len(all)) != res.Sent {
		t.Fatalf("result file holds %d results, want %d", len(all), res.Sent)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := all[rank(q, len(all))-1]
		got := tot.Latency.Quantile(q)
		rel := math.Abs(float64(got-exact)) / float64(exact)
		t.Logf("p%v: histogram %v, all samples %v, off by %.3f%%", q*100, got, exact, rel*100)
		if rel > 0.01 {
			t.Errorf("p%v off by %.3f%%, want within 1%%", q*100, rel*100)
		}
	}
}

// rssMiB returns this process's resident set size in MiB.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if v, ok := strings.CutPrefix(string(line), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
