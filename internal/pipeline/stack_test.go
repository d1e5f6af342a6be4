package pipeline

import (
	"math"
	"testing"
	"time"

	"github.com/cutover-dev/cutover/compare"
	"github.com/cutover-dev/cutover/internal/containers"
	"github.com/cutover-dev/cutover/scenarios"
)

func TestChoices(t *testing.T) {
	sc := scenarios.Default()
	for _, c := range []struct {
		name   string
		im     Images
		want   [3]string
		stands [3]int // number of stand-ins
	}{
		{"scenario", Images{}, [3]string{"postgres:16", "oryd/hydra:v1.11.10", "oryd/hydra:v2.3.0"},
			[3]int{1, 1, 1}},
		{"override", Images{Database: "my/pg:1", New: "my/hydra:2"},
			[3]string{"my/pg:1", "oryd/hydra:v1.11.10", "my/hydra:2"}, [3]int{0, 1, 0}},
	} {
		got := choices(sc, c.im)
		for i := range got {
			if got[i].want != c.want[i] || len(got[i].standIns) != c.stands[i] {
				t.Errorf("%s: choice %d = %s with %d stand-ins, want %s with %d", c.name, i,
					got[i].want, len(got[i].standIns), c.want[i], c.stands[i])
			}
		}
	}
	noImages := *sc
	noImages.Database.Image, noImages.Old.Image = "", ""
	got := choices(&noImages, Images{})
	if got[0].want != "postgres:16" || got[1].want != "oryd/hydra:v1.11.10" {
		t.Errorf("defaults: got %s, %s", got[0].want, got[1].want)
	}
	if got[1].standIns[0] != "cutover/hydra:v1.11.10" || got[0].standIns[0] != "cutover/postgres:15" {
		t.Errorf("stand-ins: got %v, %v", got[0].standIns, got[1].standIns)
	}
}

func TestContainerMetrics(t *testing.T) {
	// One core busy on the old side, half a core on the new; memory
	// constant at 100 and 200 bytes. The first point is in the warm-up.
	series := func(cores, mem float64) []containers.StatPoint {
		var pts []containers.StatPoint
		for i := range 6 {
			pts = append(pts, containers.StatPoint{At: time.Duration(i) * time.Second,
				CPUSeconds: cores * float64(i), MemoryBytes: mem})
		}
		pts[0].MemoryBytes = 1e9
		return pts
	}
	ms := containerMetrics(sideResources{container: series(1, 100)}, sideResources{container: series(0.5, 200)},
		time.Second)
	want := map[string][2]float64{"container_cpu_cores": {1, 0.5}, "container_memory_bytes": {100, 200}}
	for name, w := range want {
		m, ok := compare.Find(ms, name)
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		if math.Abs(m.Before-w[0]) > 1e-9 || math.Abs(m.After-w[1]) > 1e-9 || m.ChangePct == nil {
			t.Errorf("%s = %v -> %v (change %v), want %v -> %v", name, m.Before, m.After, m.ChangePct, w[0], w[1])
		}
	}
	if got := containerMetrics(sideResources{}, sideResources{}, 0); got != nil {
		t.Errorf("process provider: got %v, want no container metrics", got)
	}
}
