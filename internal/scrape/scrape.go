// Package scrape samples a server's own Prometheus metrics while it is
// under load: resident memory, Go heap, goroutines and CPU seconds.
package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The metric names read from the exposition.
const (
	RSS        = "process_resident_memory_bytes"
	Heap       = "go_memstats_heap_alloc_bytes"
	Goroutines = "go_goroutines"
	CPU        = "process_cpu_seconds_total"
)

// A Point is one scrape.
type Point struct {
	// At is the time since sampling began.
	At time.Duration
	// Values maps the metric names above to their values; a metric the
	// server does not expose is absent.
	Values map[string]float64
}

// Parse reads a Prometheus text exposition and returns the values of
// the metrics above that it holds.
func Parse(r io.Reader) (map[string]float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, name := range []string{RSS, Heap, Goroutines, CPU} {
		f, ok := fams[name]
		if !ok || len(f.GetMetric()) == 0 {
			continue
		}
		out[name] = value(f.GetType(), f.GetMetric()[0])
	}
	return out, nil
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

// Sample scrapes url every interval until ctx is done and returns the
// points gathered. A failed scrape is skipped and counted in the
// returned number of failures; it does not end the sampling.
func Sample(ctx context.Context, url string, interval time.Duration) ([]Point, int) {
	client := &http.Client{Timeout: interval}
	start := time.Now()
	var pts []Point
	failed := 0
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if v, err := once(ctx, client, url); err == nil {
			pts = append(pts, Point{At: time.Since(start), Values: v})
		} else if ctx.Err() == nil {
			failed++
		}
		select {
		case <-ctx.Done():
			return pts, failed
		case <-t.C:
		}
	}
}

func once(ctx context.Context, c *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	return Parse(resp.Body)
}
