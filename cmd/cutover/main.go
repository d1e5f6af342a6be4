// Command cutover tells whether an OAuth server upgrade is safe to cut
// over. Run "cutover help" for its commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cutover-dev/cutover/internal/cli"
)

func main() {
	// A closed terminal ends a run like Ctrl-C: stopped, cleaned up, with
	// a partial report. A reader that goes away (cutover run | head)
	// must not kill cutover before it has cleaned up: writes to the
	// closed pipe fail instead, and the run ends normally.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cutover: %s\n", cli.Message(err))
	}
	os.Exit(cli.ExitCode(err))
}
