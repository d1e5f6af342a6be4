package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// An Op is one kind of load operation.
type Op uint8

// The operations a plan mixes. New operations are appended so that a
// seed keeps drawing the same sequence for an unchanged mix.
const (
	// ClientCredentials is a token request with the client_credentials
	// grant.
	ClientCredentials Op = iota
	// Refresh rotates a refresh-token chain, always presenting the
	// chain's newest refresh token.
	Refresh
	// Introspect asks the admin API about an access token.
	Introspect
	// Revoke revokes an access token.
	Revoke
	// AuthorizationCode is a whole authorization-code flow with PKCE
	// through the headless login/consent driver: several HTTP requests
	// measured as one operation, see [Endpoints.AuthorizationCode].
	AuthorizationCode
	// RevokeRefresh revokes a refresh token (and with it its chain).
	RevokeRefresh
	// JWKS reads the public keys, /.well-known/jwks.json.
	JWKS
	// Discovery reads /.well-known/openid-configuration.
	Discovery
	numOps
)

var opNames = [numOps]string{"client_credentials", "refresh", "introspect", "revoke",
	"authorization_code", "revoke_refresh", "jwks", "discovery"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Ops returns every operation in a fixed order.
func Ops() []Op {
	ops := make([]Op, numOps)
	for i := range ops {
		ops[i] = Op(i)
	}
	return ops
}

// ParseOp returns the operation named s.
func ParseOp(s string) (Op, error) {
	for i, n := range opNames {
		if n == s {
			return Op(i), nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q", s)
}

// A Shard is one worker's part of a plan split across Count loadgen
// processes; see the package documentation.
type Shard struct {
	// Index is this worker's number, from 0 to Count-1.
	Index int
	// Count is the number of workers; 0 and 1 mean no split.
	Count int
}

// A Plan is the traffic to send.
type Plan struct {
	// Seed fixes the sequence of operations.
	Seed uint64
	// Mix weighs each operation; weights are relative.
	Mix map[Op]int
	// Freq requests are sent every Per at a constant rate, unless Pacer
	// is set. The model is open: requests leave on schedule whether or
	// not earlier ones have been answered.
	Freq int
	Per  time.Duration
	// Pacer, when not nil, replaces the constant rate; see [Constant],
	// [Linear], [Sine] and [Stages].
	Pacer vegeta.Pacer
	// Duration is how long to send.
	Duration time.Duration
	// Warmup is the start of the load left out of the latency
	// histograms in [Result.Ops]; the requests are still counted.
	Warmup time.Duration
	// Timeout bounds each request; zero means 10 s.
	Timeout time.Duration
	// MaxWorkers bounds concurrent requests; zero means 512. When all
	// are busy, requests leave late or not at all: see [Figures.Late]
	// and [Result.Dropped].
	MaxWorkers uint64
	// Late is how far behind its intended send time a request must
	// leave to count as late; zero means 10 ms.
	Late time.Duration
	// MaxSamples bounds [Result.Samples]; zero means 1,000,000 (32 MB),
	// negative keeps none. The figures in [Result.Ops] cover every
	// request whatever this bound.
	MaxSamples int
	// Subjects is the number of distinct users the authorization-code
	// flows log in as, in turn; zero means 100.
	Subjects int
	// Shard, when Count > 1, sends only this worker's part of the plan.
	Shard Shard
	// StartAt, when not zero, is the wall-clock time the load starts;
	// workers of one split run start together this way.
	StartAt time.Time
}

// pacer returns the plan's pacer, a constant rate unless set.
func (p Plan) pacer() vegeta.Pacer {
	if p.Pacer != nil {
		return p.Pacer
	}
	return vegeta.ConstantPacer{Freq: p.Freq, Per: p.Per}
}

// Expected returns how many requests the whole plan (all shards) sends
// in full.
func (p Plan) Expected() int {
	if p.Pacer == nil && p.Per <= 0 {
		return 0
	}
	return int(hitsBy(p.pacer(), p.Duration))
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
	case p.Pacer == nil && (p.Freq <= 0 || p.Per <= 0):
		return errors.New("loadgen: rate must be positive")
	case p.Duration <= 0:
		return errors.New("loadgen: duration must be positive")
	case p.Shard.Count > 1 && (p.Shard.Index < 0 || p.Shard.Index >= p.Shard.Count):
		return fmt.Errorf("loadgen: shard index %d outside 0..%d", p.Shard.Index, p.Shard.Count-1)
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
