package provision

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile names, inside a cluster's directory, the file holding the
// process ID of the cutover that created it.
const ownerFile = "owner.pid"

// markOwner records this process as the owner of dir.
func markOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// SweepStale removes the cluster directories in parent (the temporary
// directory when empty) left by a cutover that was killed before it
// could clean up (SIGKILL, a machine losing power): those whose owner
// and PostgreSQL server are both gone. A directory without an owner
// file, or whose owner still runs, is left alone, so concurrent runs
// are safe. It returns the directories it removed.
func SweepStale(parent string) ([]string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	dirs, err := filepath.Glob(filepath.Join(parent, "cutover-pg-*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, d := range dirs {
		owner, ok := readPID(filepath.Join(d, ownerFile))
		if !ok || alive(owner) {
			continue
		}
		if server, ok := readPID(filepath.Join(d, "data", "postmaster.pid")); ok && alive(server) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, d)
	}
	return removed, errors.Join(errs...)
}

// readPID reads the process ID on the first line of file; ok is false
// when the file is missing or holds no process ID.
func readPID(file string) (int, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// alive reports whether a process with this ID exists. A process of
// another user answers EPERM, and counts as alive.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
