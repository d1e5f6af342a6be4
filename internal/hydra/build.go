package hydra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CacheDir returns where built server binaries are kept:
// CUTOVER_CACHE when set, else the user's cache directory + /cutover.
func CacheDir() (string, error) {
	if d := os.Getenv("CUTOVER_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache directory (set CUTOVER_CACHE): %w", err)
	}
	return filepath.Join(d, "cutover"), nil
}

// BinaryPath returns where the binary for version lives in cache.
func BinaryPath(cache, version string) string {
	return filepath.Join(cache, "hydra", version, "hydra")
}

// EnsureBinary returns the path of a Hydra binary for version, building
// it when the cache lacks it. The build uses the small wrapper module
// for that version in the cutover source tree (internal/hydra/build),
// found from CUTOVER_SRC or by walking up from the working directory.
// A cold build takes one to three minutes.
func EnsureBinary(ctx context.Context, cache, version string) (string, error) {
	bin := BinaryPath(cache, version)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	src, err := wrapperDir(version)
	if err != nil {
		return "", err
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building hydra %s: the go command is not on PATH; install Go, "+
			"or build elsewhere and set the scenario's binary", version)
	}
	pkg := "github.com/ory/hydra"
	if strings.HasPrefix(version, "v2.") {
		pkg = "github.com/ory/hydra/v2"
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("building hydra %s: %w", version, err)
	}
	tmp := bin + ".tmp"
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-o", tmp, pkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		os.Remove(tmp)
		return "", ctx.Err()
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building hydra %s in %s: %w: %s", version, src, err, lastLine(string(out)))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("building hydra %s: %w", version, err)
	}
	return bin, nil
}

func wrapperDir(version string) (string, error) {
	rel := filepath.Join("internal", "hydra", "build", version)
	var roots []string
	if s := os.Getenv("CUTOVER_SRC"); s != "" {
		roots = append(roots, s)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, r := range roots {
		d := filepath.Join(r, rel)
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("hydra " + version + " is not built and its build recipe (" + rel +
		") was not found; run cutover from its source tree or set CUTOVER_SRC, " +
		"or run `make hydra` there, or set the scenario's binary")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
