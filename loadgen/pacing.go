package loadgen

import (
	"fmt"
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
// starting at the mean and rising.
func Sine(mean, amp Rate, period time.Duration) vegeta.Pacer {
	return vegeta.SinePacer{Period: period, Mean: mean, Amp: amp, StartAt: vegeta.MeanUp}
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
	p := &stagePacer{}
	var at time.Duration
	var before float64
	prev := 0.0
	for _, s := range stages {
		r := perNs(s.Rate)
		sp := segment{start: at, end: at + s.Duration, from: r, to: r, before: before}
		if s.Ramp {
			sp.from = prev
		}
		before += sp.hits(sp.end)
		at, prev = sp.end, r
		p.segs = append(p.segs, sp)
	}
	return p
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

// stagePacer is a piecewise-linear rate built from stages.
type stagePacer struct {
	segs []segment
}

func (p *stagePacer) String() string {
	return fmt.Sprintf("Stages{%d, %v}", len(p.segs), p.segs[len(p.segs)-1].end)
}

// Rate implements vegeta.Pacer: the rate at elapsed, per second.
func (p *stagePacer) Rate(elapsed time.Duration) float64 {
	for _, s := range p.segs {
		if elapsed <= s.end && s.end > s.start {
			f := float64(elapsed-s.start) / float64(s.end-s.start)
			return (s.from + (s.to-s.from)*max(f, 0)) * 1e9
		}
	}
	return 0
}

func (p *stagePacer) hits(t time.Duration) float64 {
	for _, s := range p.segs {
		if t <= s.end {
			return s.hits(t)
		}
	}
	last := p.segs[len(p.segs)-1]
	return last.hits(last.end)
}

// Pace implements vegeta.Pacer: hit number hits (0-based) is due when
// the hits due reach hits+1, found by bisection on the monotone hits
// function to a nanosecond.
func (p *stagePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if len(p.segs) == 0 {
		return 0, true
	}
	want := float64(hits + 1)
	end := p.segs[len(p.segs)-1].end
	if p.hits(end) < want {
		return 0, true
	}
	if p.hits(elapsed) >= want {
		return 0, false
	}
	lo, hi := elapsed, end
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
// request count.
func hitsBy(p vegeta.Pacer, d time.Duration) uint64 {
	if !due(p, d, 0) {
		return 0
	}
	hi := uint64(1)
	for due(p, d, hi) {
		if hi > 1<<40 {
			return hi
		}
		hi *= 2
	}
	lo := hi / 2 // due
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
