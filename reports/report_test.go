package reports

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtureSeries draws a deterministic side: 30 s of requests at 40/s
// with log-normal latencies, and one resource scrape per second.
func fixtureSeries(seed uint64, scale, rss float64) *compare.Series {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &compare.Series{}
	ops := []string{"client_credentials", "refresh", "introspect", "revoke"}
	for i := range 1200 {
		s.Requests = append(s.Requests, compare.Request{Op: ops[i%4], AtS: float64(i) / 40,
			LatencyMS: math.Round(scale*4*math.Exp(0.5*rng.NormFloat64())*1000) / 1000, Failed: i%250 == 3})
	}
	cpu := 0.0
	for t := range 31 {
		f := func(v float64) *float64 { return &v }
		cpu += 0.25 * scale
		s.Resources = append(s.Resources, compare.Resource{AtS: float64(t),
			RSS: f(rss + float64(t%5)*1e6), Heap: f(12e6 + float64(t%3)*1e6), Goroutines: f(float64(40 + t%4)),
			CPUSeconds: f(cpu)})
	}
	return s
}

// fixture is a fixed report: a 20% slower new side with one failing
// gate, a changed row and a session mismatch.
func fixture() *Report {
	samples := &Samples{SchemaVersion: SamplesVersion, WarmupS: 5, DurationS: 30,
		Old: fixtureSeries(1, 1, 60e6), New: fixtureSeries(2, 1.2, 75e6)}
	opts := compare.DefaultOptions()
	ms, _ := samples.Compare(opts)
	f := func(v float64) *float64 { return &v }
	limits := compare.Limits{MaxErrorRate: 0.01, MaxP95RegressionPct: 25, MaxMissingRows: 0, MaxChangedRows: 0,
		MaxSessionMismatches: 0, Metrics: []compare.MetricLimit{
			{Metric: "latency_p99_ms", MaxRegressionPct: f(40), MaxRegression: f(5)},
			{Metric: "rss_bytes", FailIfWorse: true},
		}}
	r := &Report{SchemaVersion: SchemaVersion, Scenario: "hydra-1.11-to-2.3",
		Old: Side{Kind: "hydra", Version: "v1.11.10", Provider: "process",
			Errors: map[string]int{"refresh: timeout": 2}},
		New: Side{Kind: "hydra", Version: "v2.3.0", Provider: "process", Late: 12, Dropped: 3, MaxLatenessMS: 1280},
		Load: Load{Seed: 1, RatePerSec: 40, DurationS: 30, WarmupS: 5,
			Mix: map[string]int{"introspect": 40, "refresh": 20}},
		Metrics: ms, Stats: &opts, Series: samples,
		Operations: []Operation{{Op: "introspect", Requests: [2]int{300, 300}, Failed: [2]int{0, 1},
			P50MS: [2]float64{3.9, 4.8}, P95MS: [2]float64{9.1, 11.2}}},
		Migration: Migration{DurationMS: 412, Tables: []verify.TableWrites{{Table: "hydra_client", Updated: 4}}},
		Verify: Verify{RowsCompared: 120, Changed: 1, Tables: []verify.TableResult{{Table: "hydra_client", Keyed: true,
			RowsOld: 4, RowsNew: 4, Changed: 1}}},
		Sessions: Sessions{Checked: 12, Mismatched: 1, Mismatches: []verify.Mismatch{{Session: "session 3",
			Field: "active", Before: "true", After: "false"}}},
	}
	r.Gates = compare.Gates(limits, ms, compare.Findings{ChangedRows: 1, SessionMismatches: 1,
		KeyedTables: r.Verify.KeyedTables()})
	r.Verdict = Fail
	return r
}

// dataURI matches an embedded image, which the HTML golden file leaves
// out: the PNG bytes depend on the plot library's rasteriser, and
// TestPlots and TestHTMLInChromium check the images instead.
var dataURI = regexp.MustCompile(`data:image/png;base64,(&#43;|[A-Za-z0-9+/=])+`)

func TestRenderers(t *testing.T) {
	tests := []struct {
		file   string
		render func(*bytes.Buffer, *Report) error
	}{
		{"report.txt", func(b *bytes.Buffer, r *Report) error { return Text(b, r) }},
		{"report.md", func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) }},
		{"report.json", func(b *bytes.Buffer, r *Report) error { return JSON(b, r) }},
		{"junit.xml", func(b *bytes.Buffer, r *Report) error { return JUnit(b, r) }},
		{"report.html", func(b *bytes.Buffer, r *Report) error { return HTML(b, r) }},
		{"calibrated.md", func(b *bytes.Buffer, r *Report) error {
			r.Series.Calibration = fixtureSeries(3, 1.02, 61e6)
			r.Metrics, r.Calibration = r.Series.Compare(*r.Stats)
			return Markdown(b, r)
		}},
		{"partial.txt", func(b *bytes.Buffer, r *Report) error {
			r.Partial, r.Error, r.Series, r.Gates = true, "loading new server: context canceled", nil, nil
			return Text(b, r)
		}},
		{"compare.md", func(b *bytes.Buffer, r *Report) error { return Markdown(b, compared(r)) }},
		{"compare.json", func(b *bytes.Buffer, r *Report) error { return JSON(b, compared(r)) }},
		// fixture leaves out the sections only fullFixture holds: session
		// rows, read endpoints, expected differences and the write window.
		{"full.txt", func(b *bytes.Buffer, _ *Report) error { return Text(b, fullFixture()) }},
		{"full.md", func(b *bytes.Buffer, _ *Report) error { return Markdown(b, fullFixture()) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b, fixture()); err != nil {
				t.Fatal(err)
			}
			got := dataURI.ReplaceAllString(b.String(), "data:image/png;base64,PNG")
			golden(t, filepath.Join("testdata", tt.file+".golden"), got)
		})
	}
}

// compared turns r into the report of a comparison of saved runs whose
// gates came from another scenario than the runs'.
func compared(r *Report) *Report {
	r.Scenario = "strict-gates"
	r.Comparison = &Comparison{BeforeDir: "runs/baseline", BeforeSide: "new", AfterDir: "runs/today",
		AfterSide: "new", BeforeScenario: "hydra-1.11-to-2.3", AfterScenario: "hydra-1.11-to-2.3",
		GatesScenario: "strict-gates", FindingsFrom: "runs/today"}
	return r
}

// golden compares got with the file at path, or rewrites it with
// -update. On a mismatch it shows the differing lines.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update if the change is intended):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ, "-" from want and "+" from got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 40; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, ""},
		{"one two three", 100, "one two three"},
		{"one two three", 7, "one two\nthree"},
		{"a × b → c", 5, "a × b\n→ c"},
		{"averyverylongword x", 5, "averyverylongword\nx"},
	}
	for _, tt := range tests {
		if got := wrap(tt.in, tt.width); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
