package pipeline

import (
	"context"
	"testing"

	"github.com/cutover-dev/cutover/loadgen"
	"github.com/cutover-dev/cutover/scenarios"
)

// TestStormOnRealServers misuses refresh tokens on real Hydra 1.11.10
// and 2.3.0 (with and without the rotation grace period) and asserts
// the behaviour classes observed on them.
func TestStormOnRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three Hydra servers")
	}
	sides, err := Storm(context.Background(), StormOptions{Scenario: scenarios.Default(), GracePeriod: "30s",
		Chains: 8, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	// The classes seen on these versions. Concurrent refreshes race
	// in the server, so counts vary between runs; the classes do not.
	type check struct {
		what string
		ok   func(o loadgen.Outcome) bool
	}
	none := func(o loadgen.Outcome) bool { return o.Succeeded == 0 && o.ServerErrors == 0 }
	killed := func(o loadgen.Outcome) bool { return o.Invalidated == o.Chains }
	all := func(o loadgen.Outcome) bool { return o.Succeeded == o.Attempts && o.Invalidated == 0 }
	want := map[string][2]check{
		"old": {
			{"reuse is refused and invalidates the chain", func(o loadgen.Outcome) bool {
				return none(o) && killed(o) && o.Rejected["token_inactive"] == o.Attempts
			}},
			{"at most one refresh per chain wins; the losers are refused and most chains die",
				func(o loadgen.Outcome) bool {
					return o.Succeeded <= o.Chains && o.Invalidated*2 >= o.Chains
				}},
		},
		"new": {
			{"reuse is refused and invalidates the chain", func(o loadgen.Outcome) bool {
				return none(o) && killed(o) && o.Rejected["invalid_grant"] == o.Attempts
			}},
			{"several refreshes of one token win, and some chains survive", func(o loadgen.Outcome) bool {
				return o.Succeeded > o.Chains && o.Invalidated < o.Chains
			}},
		},
		"new+grace": {
			{"reuse within the grace period succeeds and keeps the chain", all},
			{"every concurrent refresh succeeds and the chain survives", all},
		},
	}
	for _, s := range sides {
		for i, o := range s.Outcomes {
			t.Logf("%s (%s, grace %q): %v", s.Name, s.Version, s.GracePeriod, o)
			if c := want[s.Name][i]; c.ok == nil || !c.ok(o) {
				t.Errorf("%s, %s: got %v, want: %s", s.Name, o.Misuse, o, c.what)
			}
		}
	}
	if len(sides) != 3 {
		t.Errorf("got %d sides, want 3", len(sides))
	}
}
