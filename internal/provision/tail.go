package provision

import (
	"bytes"
	"slices"
	"strings"
	"sync"
)

// A tail keeps the last lines written to it, for error messages that
// show what a process said before it failed.
type tail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		if line == "" {
			continue
		}
		t.lines = append(t.lines, line)
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	if len(t.partial) > 64<<10 {
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

// Lines returns up to n of the last complete lines.
func (t *tail) Lines(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n > len(t.lines) {
		n = len(t.lines)
	}
	return append([]string(nil), t.lines[len(t.lines)-n:]...)
}

// Last returns the last line, or "no output".
func (t *tail) Last() string {
	l := t.Lines(1)
	if len(l) == 0 {
		return "no output"
	}
	return l[0]
}

// Cause returns the last line that reports a fatal error or panic, or
// else the last line: a server's final lines are often about shutting
// down, not about why.
func (t *tail) Cause() string {
	for _, l := range slices.Backward(t.Lines(t.max)) {
		if strings.Contains(l, "FATAL") || strings.Contains(l, "PANIC") || strings.Contains(l, "level=fatal") ||
			strings.Contains(l, "level=error") || strings.Contains(l, "error:") {
			return l
		}
	}
	return t.Last()
}

func lastLine(out []byte) string {
	t := newTail(1)
	t.Write(out)
	t.Write([]byte("\n"))
	return t.Last()
}
