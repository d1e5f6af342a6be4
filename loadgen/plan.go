package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// An Op is one kind of request.
type Op uint8

// The operations a plan mixes.
const (
	ClientCredentials Op = iota
	Refresh
	Introspect
	Revoke
	numOps
)

var opNames = [numOps]string{"client_credentials", "refresh", "introspect", "revoke"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Ops returns every operation in a fixed order.
func Ops() []Op { return []Op{ClientCredentials, Refresh, Introspect, Revoke} }

// ParseOp returns the operation named s.
func ParseOp(s string) (Op, error) {
	for i, n := range opNames {
		if n == s {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q", s)
}

// A Plan is the traffic to send.
type Plan struct {
	// Seed fixes the sequence of operations.
	Seed uint64
	// Mix weighs each operation; weights are relative.
	Mix map[Op]int
	// Freq requests are sent every Per (an open model: requests leave
	// on schedule whether or not earlier ones have been answered).
	Freq int
	Per  time.Duration
	// Duration is how long to send.
	Duration time.Duration
	// Timeout bounds each request; zero means 10 s.
	Timeout time.Duration
	// MaxWorkers bounds concurrent requests; zero means 512.
	MaxWorkers uint64
}

// Expected returns how many requests the plan sends in full.
func (p Plan) Expected() int {
	if p.Per <= 0 {
		return 0
	}
	return int(float64(p.Freq) * p.Duration.Seconds() / p.Per.Seconds())
}

// ExpectedOf returns how many requests of op the plan sends in full,
// rounded up.
func (p Plan) ExpectedOf(op Op) int {
	total := 0
	for _, w := range p.Mix {
		total += w
	}
	if total == 0 {
		return 0
	}
	return (p.Expected()*p.Mix[op] + total - 1) / total
}

func (p Plan) validate() error {
	total := 0
	for op, w := range p.Mix {
		if op >= numOps || w < 0 {
			return errors.New("loadgen: invalid mix")
		}
		total += w
	}
	switch {
	case total == 0:
		return errors.New("loadgen: mix weights sum to zero")
	case p.Freq <= 0 || p.Per <= 0:
		return errors.New("loadgen: rate must be positive")
	case p.Duration <= 0:
		return errors.New("loadgen: duration must be positive")
	}
	return nil
}

// A sequence draws operations in the plan's fixed order. It is not
// safe for concurrent use.
type sequence struct {
	rng    *rand.Rand
	cum    []int // cumulative weights by Op
	total  int
	counts [numOps]int
	drawn  int
	pick   *rand.Rand
}

func newSequence(p Plan) *sequence {
	s := &sequence{
		rng:  rand.New(rand.NewPCG(p.Seed, 0x6375746f766572)),
		pick: rand.New(rand.NewPCG(p.Seed, 0x7069636b)),
	}
	for _, op := range Ops() {
		s.total += p.Mix[op]
		s.cum = append(s.cum, s.total)
	}
	return s
}

// next returns the next operation and its ordinal among operations of
// the same kind.
func (s *sequence) next() (Op, int) {
	r := s.rng.IntN(s.total)
	op := Op(0)
	for i, c := range s.cum {
		if r < c {
			op = Op(i)
			break
		}
	}
	n := s.counts[op]
	s.counts[op]++
	s.drawn++
	return op, n
}
