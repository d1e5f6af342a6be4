package loadgen

import (
	"cmp"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// A Histogram records latencies in bounded memory: about 270 KB
// whatever the number of samples. Any quantile it returns lies within
// 0.1% above the exact sample quantile (HDR histogram with three
// significant digits: values from 2048·2^k to 4096·2^k ns share buckets
// 2^(k+1) ns wide, so a bucket spans at most 1/1024 of its values; the
// highest value of the bucket is returned). The range is 1 ns to 1 h;
// longer values are clamped to 1 h.
type Histogram struct {
	h *hdr.Histogram
}

const histMax = int64(time.Hour)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{h: hdr.New(1, histMax, 3)} }

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := min(max(int64(d), 1), histMax)
	// RecordValue fails only outside the range, which v is not.
	_ = h.h.RecordValue(v)
}

// Count returns the number of recorded latencies.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Quantile returns the q-quantile (q from 0 to 1), 0 when empty: the
// sample of rank round(q·N) among the N recorded, to within 0.1%. (Other
// rank conventions, such as ceil(q·N), pick a neighbouring sample,
// which can differ by more where the distribution has a gap, as a
// stalled run's does.)
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtQuantile(q * 100))
}

// Max returns the largest latency recorded, to the histogram's
// precision.
func (h *Histogram) Max() time.Duration { return time.Duration(h.h.Max()) }

// Mean returns the mean latency.
func (h *Histogram) Mean() time.Duration { return time.Duration(h.h.Mean()) }

// Merge adds every latency of other to h.
func (h *Histogram) Merge(other *Histogram) { h.h.Merge(other.h) }

// Figures are the measurements of one operation, or of one operation
// for one client kind.
type Figures struct {
	// Op is the operation.
	Op Op
	// Kind is the client kind ([Client.Kind]); empty when the operation
	// uses no client or clients carry no kind.
	Kind string
	// Requests is the number of requests sent.
	Requests int64
	// Failed counts transport errors and HTTP statuses >= 400.
	Failed int64
	// Codes counts answers by HTTP status; 0 is no answer.
	Codes map[uint16]int64
	// Late counts requests that left more than [Plan.Late] after their
	// intended send time, because every worker was busy.
	Late int64
	// Latency is from the actual send to the full answer, for requests
	// sent after the warm-up.
	Latency *Histogram
	// Response is from the intended send time to the full answer: the
	// latency a client on the schedule sees, including the time a
	// request waited to leave. On a stalled server it grows with the
	// stall, where Latency may stay calm. Known shortcoming: requests
	// never sent ([Result.Dropped]) have no response time and are only
	// counted, so a stall that lasts to the end of the run shows in
	// Dropped rather than here.
	Response *Histogram
}

func newFigures(op Op, kind string) *Figures {
	return &Figures{Op: op, Kind: kind, Codes: map[uint16]int64{}, Latency: NewHistogram(),
		Response: NewHistogram()}
}

// merge adds o's counts to f.
func (f *Figures) merge(o *Figures) {
	f.Requests += o.Requests
	f.Failed += o.Failed
	f.Late += o.Late
	for c, n := range o.Codes {
		f.Codes[c] += n
	}
	f.Latency.Merge(o.Latency)
	f.Response.Merge(o.Response)
}

// A figureKey identifies a [Figures].
type figureKey struct {
	op   Op
	kind string
}

// tally collects figures by operation and client kind.
type tally struct {
	warm time.Duration
	late time.Duration
	by   map[figureKey]*Figures
}

func newTally(warm, late time.Duration) *tally {
	return &tally{warm: warm, late: late, by: map[figureKey]*Figures{}}
}

// add records one request: at is its actual send time from the start,
// lateness how far behind schedule it left.
func (t *tally) add(op Op, kind string, at, lateness, latency time.Duration, code uint16, failed bool) {
	k := figureKey{op, kind}
	f := t.by[k]
	if f == nil {
		f = newFigures(op, kind)
		t.by[k] = f
	}
	f.Requests++
	f.Codes[code]++
	if failed {
		f.Failed++
	}
	if lateness > t.late {
		f.Late++
	}
	if at >= t.warm {
		f.Latency.Record(latency)
		f.Response.Record(latency + max(lateness, 0))
	}
}

// figures returns the figures ordered by operation, then kind.
func (t *tally) figures() []*Figures {
	out := make([]*Figures, 0, len(t.by))
	for _, f := range t.by {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Figures) int {
		return cmp.Or(cmp.Compare(a.Op, b.Op), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// Total returns the figures of all operations together.
func Total(figs []*Figures) *Figures {
	t := newFigures(0, "")
	for _, f := range figs {
		t.merge(f)
	}
	return t
}

// ByOp returns the figures of each operation over all client kinds,
// ordered by operation.
func ByOp(figs []*Figures) []*Figures {
	var out []*Figures
	for _, f := range figs {
		if len(out) == 0 || out[len(out)-1].Op != f.Op {
			out = append(out, newFigures(f.Op, ""))
		}
		out[len(out)-1].merge(f)
	}
	return out
}

// Merge combines the results of the workers of one split run (see the
// package documentation) into one. Samples are not merged.
func Merge(results ...*Result) *Result {
	out := &Result{Errors: map[string]int{}}
	by := map[figureKey]*Figures{}
	for _, r := range results {
		if r == nil {
			continue
		}
		if out.Started.IsZero() || r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.Elapsed = max(out.Elapsed, r.Started.Add(r.Elapsed).Sub(out.Started))
		out.Sent += r.Sent
		out.Expected += r.Expected
		out.Dropped += r.Dropped
		out.MaxLateness = max(out.MaxLateness, r.MaxLateness)
		out.BrokenChains += r.BrokenChains
		for k, n := range r.Errors {
			out.Errors[k] += n
		}
		for _, f := range r.Ops {
			k := figureKey{f.Op, f.Kind}
			if by[k] == nil {
				by[k] = newFigures(f.Op, f.Kind)
			}
			by[k].merge(f)
		}
	}
	t := &tally{by: by}
	out.Ops = t.figures()
	return out
}
