package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// deadPID returns the ID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

func TestSweepStale(t *testing.T) {
	parent := t.TempDir()
	dead, live := deadPID(t), os.Getpid()
	tests := []struct {
		name        string
		owner       string // contents of owner.pid; "" for no file
		postmaster  string // contents of data/postmaster.pid; "" for no file
		dirName     string // when not cutover-pg-<name>
		wantRemoved bool
	}{
		{name: "owner and server gone", owner: strconv.Itoa(dead), postmaster: strconv.Itoa(dead) + "\n/data\n", wantRemoved: true},
		{name: "owner gone before the server started", owner: strconv.Itoa(dead), wantRemoved: true},
		{name: "owner runs", owner: strconv.Itoa(live)},
		{name: "server still runs", owner: strconv.Itoa(dead), postmaster: strconv.Itoa(live) + "\n"},
		{name: "no owner file", postmaster: strconv.Itoa(dead)},
		{name: "garbage owner file", owner: "not a pid"},
		{name: "not cutover's", owner: strconv.Itoa(dead), dirName: "someone-else"},
	}
	for i, tt := range tests {
		name := "cutover-pg-" + strconv.Itoa(i)
		if tt.dirName != "" {
			name = tt.dirName
		}
		d := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if tt.owner != "" {
			os.WriteFile(filepath.Join(d, ownerFile), []byte(tt.owner+"\n"), 0o644)
		}
		if tt.postmaster != "" {
			os.WriteFile(filepath.Join(d, "data", "postmaster.pid"), []byte(tt.postmaster), 0o644)
		}
	}
	removed, err := SweepStale(parent)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		d := filepath.Join(parent, "cutover-pg-"+strconv.Itoa(i))
		if tt.dirName != "" {
			d = filepath.Join(parent, tt.dirName)
		}
		_, statErr := os.Stat(d)
		gone := os.IsNotExist(statErr)
		if gone != tt.wantRemoved || slices.Contains(removed, d) != tt.wantRemoved {
			t.Errorf("%s: removed = %v (reported %v), want %v", tt.name, gone, slices.Contains(removed, d), tt.wantRemoved)
		}
	}
}

// TestStartPostgresMarksOwner checks that a real cluster's directory
// names its owner, so that the sweep can tell it from a stale one, and
// that the sweep leaves a running cluster alone.
func TestStartPostgresMarksOwner(t *testing.T) {
	if _, err := FindPostgres(); err != nil {
		t.Fatalf("this test needs the PostgreSQL server binaries: %v", err)
	}
	pg, err := StartPostgres(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	pid, ok := readPID(filepath.Join(pg.dir, ownerFile))
	if !ok || pid != os.Getpid() {
		t.Fatalf("owner file names %d (ok %v), want this process %d", pid, ok, os.Getpid())
	}
	removed, err := SweepStale(filepath.Dir(pg.dir))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(removed, pg.dir) {
		t.Fatalf("the sweep removed a running cluster's directory %s", pg.dir)
	}
	if _, err := os.Stat(filepath.Join(pg.dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("running cluster damaged: %v", err)
	}
}
