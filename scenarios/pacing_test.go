package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestPacing(t *testing.T) {
	const head = "name: x\nold: {kind: hydra, version: v1.11.10}\nnew: {kind: hydra, version: v2.3.0}\n" +
		"load:\n  rate: 40/s\n  duration: 30s\n  warmup: 0s\n"
	tests := []struct {
		name    string
		pacing  string // YAML under load:, indented by two
		wantErr string // substring; empty for success
		check   func(p Pacing) bool
	}{
		{"none is constant", "", "", func(p Pacing) bool { return p.Kind == "constant" }},
		{"linear", "  pacing: {kind: linear, from: 10/s, to: 200/s}\n", "",
			func(p Pacing) bool { return p.FromRate.Freq == 10 && p.ToRate.Freq == 200 }},
		{"sine", "  pacing: {kind: sine, amplitude: 20/s, period: 10s}\n", "",
			func(p Pacing) bool { return p.AmpRate.Freq == 20 && p.PeriodDur == 10*time.Second }},
		{"stages", "  pacing:\n    kind: stages\n    stages:\n      - {duration: 10s, rate: 40/s, ramp: true}\n" +
			"      - {duration: 15s, rate: 40/s}\n      - {duration: 5s, rate: 0, ramp: true}\n", "",
			func(p Pacing) bool { return len(p.Stages) == 3 && p.Stages[1].Dur == 15*time.Second }},
		{"unknown kind", "  pacing: {kind: square}\n", "x.yaml:8:18: load.pacing.kind: unknown kind \"square\"", nil},
		{"linear without to", "  pacing: {kind: linear, from: 10/s}\n", "load.pacing.to: must be set", nil},
		{"sine above its mean", "  pacing: {kind: sine, amplitude: 40/s, period: 10s}\n",
			"x.yaml:8:35: load.pacing.amplitude: must be below the mean", nil},
		{"stages too short", "  pacing:\n    kind: stages\n    stages:\n      - {duration: 10s, rate: 40/s}\n",
			"load.pacing.stages: durations add up to 10s, load.duration is 30s", nil},
		{"bad stage rate", "  pacing:\n    kind: stages\n    stages:\n      - {duration: 30s, rate: fast}\n",
			"x.yaml:11:31: load.pacing.stages[0].rate", nil},
		{"unknown key", "  pacing: {kind: sine, amplitud: 20/s}\n", "x.yaml:8:", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("x.yaml", []byte(head+tt.pacing))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(sc.Load.Pacing) {
				t.Errorf("got %+v", sc.Load.Pacing)
			}
		})
	}
}
