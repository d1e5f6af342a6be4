package containers

import (
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestMemory(t *testing.T) {
	for _, c := range []struct {
		name string
		m    container.MemoryStats
		want float64
	}{
		{"cgroup v2", container.MemoryStats{Usage: 1000, Stats: map[string]uint64{"inactive_file": 300}}, 700},
		{"cgroup v1", container.MemoryStats{Usage: 1000, Stats: map[string]uint64{"total_inactive_file": 100}}, 900},
		{"no stats", container.MemoryStats{Usage: 1000}, 1000},
		{"cache above usage", container.MemoryStats{Usage: 10, Stats: map[string]uint64{"inactive_file": 300}}, 10},
	} {
		if got := memory(c.m); got != c.want {
			t.Errorf("%s: memory = %v, want %v", c.name, got, c.want)
		}
	}
}
