package compare

import "time"

// A Request is one request of a load, as kept in a run directory.
type Request struct {
	// Op names the operation, for example "introspect".
	Op string `json:"op"`
	// AtS is when the request started, in seconds from the load's start.
	AtS float64 `json:"at_s"`
	// LatencyMS is the time to the full answer in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// Failed is true for transport errors and HTTP statuses >= 400.
	Failed bool `json:"failed,omitempty"`
}

// A Resource is one scrape of the server's own metrics. A metric the
// server did not expose is nil.
type Resource struct {
	// AtS is the scrape's time in seconds from the load's start.
	AtS        float64  `json:"at_s"`
	RSS        *float64 `json:"rss_bytes,omitempty"`
	Heap       *float64 `json:"heap_alloc_bytes,omitempty"`
	Goroutines *float64 `json:"goroutines,omitempty"`
	CPUSeconds *float64 `json:"cpu_seconds,omitempty"`
}

// A Series is everything measured on one side over time: the input of
// [Series.Side] and of the report's plots.
type Series struct {
	Requests  []Request  `json:"requests"`
	Resources []Resource `json:"resources"`
}

// Side returns what [Compare] needs from s: every request counts
// towards the request and failure counts, while latencies and resource
// samples are taken from the steady state only: from warm until end,
// when the load stopped sending. Scrapes after end, while the last
// answers drain, are left out; end <= 0 means no end.
func (s *Series) Side(warm, end time.Duration) Side {
	var out Side
	if s == nil {
		return out
	}
	w := warm.Seconds()
	out.Requests = len(s.Requests)
	for _, r := range s.Requests {
		if r.Failed {
			out.Failed++
		}
		if r.AtS >= w {
			out.LatenciesMS = append(out.LatenciesMS, r.LatencyMS)
		}
	}
	for _, p := range s.Resources {
		if p.AtS < w || end > 0 && p.AtS > end.Seconds() {
			continue
		}
		if p.RSS != nil {
			out.RSS = append(out.RSS, *p.RSS)
		}
		if p.Heap != nil {
			out.Heap = append(out.Heap, *p.Heap)
		}
		if p.Goroutines != nil {
			out.Goroutines = append(out.Goroutines, *p.Goroutines)
		}
		if p.CPUSeconds != nil {
			out.CPUTimes = append(out.CPUTimes, p.AtS)
			out.CPUSeconds = append(out.CPUSeconds, *p.CPUSeconds)
		}
	}
	return out
}
