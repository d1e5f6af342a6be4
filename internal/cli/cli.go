// Package cli is the cutover command: it parses the command line,
// runs the requested command and reports. It never touches os.Args,
// os.Exit or the process's standard streams, so tests run it whole.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=…".
var Version = "dev"

// Env looks up an environment variable; Run takes it so that tests can
// supply their own.
type Env func(string) string

type command struct {
	summary string
	run     func(ctx context.Context, e *environ, args []string) error
}

// environ is the process state a command may use.
type environ struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         Env
	log            *slog.Logger
	// newSecret, when set by tests, replaces random secrets.
	newSecret func() string
}

var commands = map[string]command{
	"compare":  {"compare two saved run directories and apply the gates", cmdCompare},
	"load":     {"run the load alone against servers that already run", cmdLoad},
	"storm":    {"misuse refresh tokens (reuse, concurrent refreshes) on old and new servers", cmdStorm},
	"run":      {"run the whole upgrade check (default: the built-in Hydra 1.11 → 2.3 scenario)", cmdRun},
	"scenario": {"print the built-in scenario, to copy and edit", cmdScenario},
	"sessions": {"check that the sessions of an old Hydra database survive in a new one", cmdSessions},
	"replay-revocations": {"revoke in the new database what was revoked in the old one after the clone",
		cmdReplayRevocations},
	"version": {"print cutover's version", cmdVersion},
}

// Run runs the cutover command line args (without the program name).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv Env) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &environ{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, log: newLogger(stderr)}
	if len(args) == 0 {
		usage(stderr)
		return usagef(errors.New("no command given"))
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		usage(stdout)
		return nil
	}
	c, ok := commands[name]
	if !ok {
		return usagef(fmt.Errorf("unknown command %q (run 'cutover help')", name))
	}
	return c.run(ctx, e, args[1:])
}

// newLogger returns the CLI's logger: text lines on w, info and up.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "cutover tells whether an OAuth server upgrade is safe to cut over.\n\n")
	fmt.Fprintf(w, "Usage:\n  cutover COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'cutover COMMAND -h' for a command's flags.\n")
	fmt.Fprintf(w, "Exit status: 0 pass, 1 error, 2 usage, 3 a gate failed.\n")
}

// newFlags returns a flag set whose errors are returned, not printed
// twice, and whose -h output goes to stderr.
func newFlags(e *environ, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: cutover %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args; a bad flag is a usage error naming the flag.
func parse(fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage on -h and on every error; the
	// help is printed by helpOK instead, and an error is one line.
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	if err != nil {
		return usagef(errors.New(strings.TrimSpace(err.Error())))
	}
	if fs.NArg() > 0 {
		return usagef(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// errHelp ends a command after -h printed its help.
var errHelp = errors.New("help requested")

func cmdVersion(_ context.Context, e *environ, args []string) error {
	if len(args) > 0 {
		return usagef(fmt.Errorf("version takes no arguments, got %q", args))
	}
	fmt.Fprintf(e.stdout, "cutover %s\n", version())
	return nil
}

// version returns Version, or when it was not set at build time what
// the Go toolchain recorded: the module version of a `go install`, or
// the source revision of a build in a checkout.
func version() string {
	if Version != "dev" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return Version
	}
	return "dev-" + rev + dirty
}

func cmdScenario(_ context.Context, e *environ, args []string) error {
	fs := newFlags(e, "scenario", "scenario > my-upgrade.yaml")
	if err := parse(fs, args); err != nil {
		return helpOK(fs, err)
	}
	_, err := e.stdout.Write(scenarioText())
	return err
}

// helpOK turns a -h request into success after printing the help.
func helpOK(fs *flag.FlagSet, err error) error {
	if errors.Is(err, errHelp) {
		fs.Usage()
		return nil
	}
	return err
}
