package cli

import (
	"errors"
	"strings"
)

// Exit codes of the cutover command.
const (
	// ExitOK: the command ran and, for checks, every gate passed.
	ExitOK = 0
	// ExitError: the command could not do its work (a server did not
	// start, a database was unreachable, the run was interrupted).
	ExitError = 1
	// ExitUsage: the command line or the scenario is invalid.
	ExitUsage = 2
	// ExitGateFailed: the check ran to the end and found the upgrade
	// unsafe: at least one gate failed.
	ExitGateFailed = 3
)

// A UsageError is a problem with the command line or the scenario.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ErrGateFailed is returned when a check ran and a gate failed.
var ErrGateFailed = errors.New("gate failed: the upgrade is not safe to cut over")

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrGateFailed):
		return ExitGateFailed
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitError
	}
}

func usagef(err error) error { return &UsageError{Err: err} }

// Message returns err as the one line the command prints: libraries
// such as pgx report several addresses on several lines.
func Message(err error) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		switch s := b.String(); {
		case s == "":
		case strings.HasSuffix(s, ":"):
			b.WriteString(" ")
		default:
			b.WriteString("; ")
		}
		b.WriteString(l)
	}
	return b.String()
}
