package loadgen

import (
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A Rate is Freq requests every Per.
type Rate = vegeta.Rate

// Constant returns a pacer that sends at r throughout.
func Constant(r Rate) vegeta.Pacer { return vegeta.ConstantPacer(r) }

// Linear returns vegeta's linear pacer ramping from the rate from to
// the rate to over d. Like vegeta's, it keeps ramping after d: give
// the plan a duration of d, or use [Stages] to hold a rate afterwards.
func Linear(from, to Rate, d time.Duration) vegeta.Pacer {
	slope := 0.0
	if d > 0 {
		slope = (perNs(to) - perNs(from)) * 1e9 / d.Seconds()
	}
	return vegeta.LinearPacer{StartAt: from, Slope: slope}
}

// Sine returns a pacer whose rate swings as a sine wave around mean by
// amp (which must be smaller than mean), with the given period,
// starting at the mean and rising. It follows vegeta's SinePacer
// formula, but finds each send time by bisection: vegeta's numerical
// solution is meant for the next hit only and gives wrong times for
// hits far ahead, which the intended send times need.
func Sine(mean, amp Rate, period time.Duration) vegeta.Pacer {
	m, a := perNs(mean), perNs(amp)
	w := 2 * math.Pi / float64(period)
	return &curvePacer{
		name: fmt.Sprintf("Sine{%v ± %v / %v}", mean, amp, period),
		hits: func(t time.Duration) float64 {
			if t <= 0 {
				return 0
			}
			return m*float64(t) + a/w*(1-math.Cos(w*float64(t)))
		},
		rate: func(t time.Duration) float64 { return (m + a*math.Sin(w*float64(t))) * 1e9 },
	}
}

// A Stage is one part of a [Stages] pacer.
type Stage struct {
	// Duration is how long the stage lasts.
	Duration time.Duration
	// Rate is the stage's rate: held throughout, or reached at its end
	// when Ramp is set.
	Rate Rate
	// Ramp makes the rate rise or fall linearly from the previous
	// stage's rate (zero for the first stage) to Rate.
	Ramp bool
}

// Stages returns a pacer that runs the stages one after another; after
// the last stage it stops the attack.
func Stages(stages ...Stage) vegeta.Pacer {
	var segs []segment
	var at time.Duration
	var before, prev float64
	for _, s := range stages {
		r := perNs(s.Rate)
		sp := segment{start: at, end: at + s.Duration, from: r, to: r, before: before}
		if s.Ramp {
			sp.from = prev
		}
		before = sp.hits(sp.end)
		at, prev = sp.end, r
		segs = append(segs, sp)
	}
	if len(segs) == 0 {
		segs = []segment{{}}
	}
	hits := func(t time.Duration) float64 {
		for _, s := range segs {
			if t <= s.end {
				return s.hits(t)
			}
		}
		return before
	}
	rate := func(t time.Duration) float64 {
		for _, s := range segs {
			if t <= s.end && s.end > s.start {
				f := float64(t-s.start) / float64(s.end-s.start)
				return (s.from + (s.to-s.from)*max(f, 0)) * 1e9
			}
		}
		return 0
	}
	return &curvePacer{name: fmt.Sprintf("Stages{%d, %v}", len(segs), at), hits: hits, rate: rate, end: at}
}

func perNs(r Rate) float64 {
	if r.Per <= 0 || r.Freq <= 0 {
		return 0
	}
	return float64(r.Freq) / float64(r.Per)
}

// A segment is a stretch of time whose rate changes linearly from
// from to to (in hits per nanosecond); before is the hits of the
// segments ahead of it.
type segment struct {
	start, end time.Duration
	from, to   float64
	before     float64
}

// hits returns the hits due from the start of the attack to t, for t
// within the segment.
func (s segment) hits(t time.Duration) float64 {
	x := float64(min(max(t, s.start), s.end) - s.start)
	d := float64(s.end - s.start)
	if d == 0 {
		return s.before
	}
	return s.before + s.from*x + (s.to-s.from)*x*x/(2*d)
}

// A curvePacer sends hit n (0-based) when the monotone hits function
// reaches n+1. With end set, it stops at end.
type curvePacer struct {
	name string
	hits func(time.Duration) float64
	rate func(time.Duration) float64
	end  time.Duration
}

func (p *curvePacer) String() string { return p.name }

// Rate implements vegeta.Pacer: the rate at elapsed, per second.
func (p *curvePacer) Rate(elapsed time.Duration) float64 { return p.rate(elapsed) }

// Pace implements vegeta.Pacer, finding the send time by bisection to
// a nanosecond.
func (p *curvePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	want := float64(hits + 1)
	if p.end > 0 && p.hits(p.end) < want {
		return 0, true
	}
	if p.hits(elapsed) >= want {
		return 0, false
	}
	lo, hi := elapsed, p.end
	if p.end <= 0 {
		step := time.Millisecond
		for hi = elapsed + step; p.hits(hi) < want; hi = elapsed + step {
			if step > 1<<50 {
				return 0, true
			}
			lo, step = hi, step*2
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if p.hits(mid) >= want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - elapsed, false
}

// shardPacer paces worker Index of Count: its k-th hit is the plan's
// hit k*Count+Index, so the workers together keep the plan's schedule.
type shardPacer struct {
	inner        vegeta.Pacer
	index, count uint64
}

func (s shardPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return s.inner.Pace(elapsed, hits*s.count+s.index)
}

func (s shardPacer) Rate(elapsed time.Duration) float64 {
	return s.inner.Rate(elapsed) / float64(s.count)
}

// boundedPacer stops at end. vegeta checks the duration before it
// sleeps until the next hit, not after, so without this it sends one
// hit past the end whenever the wait crosses it.
type boundedPacer struct {
	inner vegeta.Pacer
	end   time.Duration
}

func (b boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	w, stop := b.inner.Pace(elapsed, hits)
	return w, stop || elapsed+w > b.end
}

func (b boundedPacer) Rate(elapsed time.Duration) float64 { return b.inner.Rate(elapsed) }

// due reports whether hit n of pacer p is due by elapsed, that is
// whether it would be sent at once.
func due(p vegeta.Pacer, elapsed time.Duration, n uint64) bool {
	w, stop := p.Pace(elapsed, n)
	return !stop && w <= 0
}

// intendedAt returns when hit n of p was meant to leave, to a
// microsecond, searching after the hint (the intended time of an
// earlier hit, or 0). ok is false when p never sends hit n before
// limit.
func intendedAt(p vegeta.Pacer, n uint64, hint, limit time.Duration) (time.Duration, bool) {
	const eps = time.Microsecond
	if due(p, hint, n) {
		hint = 0
		if due(p, 0, n) {
			return 0, true
		}
	}
	// Fast path: the pacer's own wait from the hint is usually right.
	if w, stop := p.Pace(hint, n); !stop {
		t := hint + w
		if t <= limit && due(p, t, n) && (t-eps <= hint || !due(p, t-eps, n)) {
			return t, true
		}
	}
	if !due(p, limit, n) {
		return 0, false
	}
	lo, hi := hint, limit
	for hi-lo > eps {
		mid := lo + (hi-lo)/2
		if due(p, mid, n) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}

// hitsBy returns how many hits p has due by d: the plan's expected
// request count. It bisects on the hit number near the integral of the
// pacer's rate, since vegeta's sine pacer answers only for hit numbers
// near its schedule.
func hitsBy(p vegeta.Pacer, d time.Duration) uint64 {
	const steps = 4096
	est := 0.0
	for i := range steps {
		t := time.Duration((float64(i) + 0.5) / steps * float64(d))
		est += p.Rate(t) * d.Seconds() / steps
	}
	lo := uint64(max(est*0.98-16, 0))
	hi := uint64(est*1.02 + 16)
	for lo > 0 && !due(p, d, lo) {
		lo /= 2
	}
	if !due(p, d, lo) {
		return 0
	}
	for due(p, d, hi) && hi < 1<<40 {
		hi *= 2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if due(p, d, mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}
