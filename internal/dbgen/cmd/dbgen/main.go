// Command dbgen fills a database with generated Hydra rows, or applies
// known corruptions to a migrated copy.
//
//	dbgen -dsn DSN -tokens N            fill a database migrated to Hydra v1.11.10
//	dbgen -dsn DSN -table T -tokens N   create a standalone token table T of N rows
//	dbgen -dsn DSN -corrupt             apply dbgen's known corruptions (to a v2.3.0 copy)
//	dbgen -dsn DSN -table T -change N   change one column of N random rows of T
//
// The DSN may also come from env DBGEN_DSN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/cutover-dev/cutover/internal/dbgen"
	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/jackc/pgx/v5"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dbgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dbgen", flag.ContinueOnError)
	dsn := fs.String("dsn", os.Getenv("DBGEN_DSN"), "database `DSN` (env DBGEN_DSN)")
	tokens := fs.Int("tokens", 0, "token rows to generate")
	table := fs.String("table", "", "standalone token `table` to create (with -tokens) or change (with -change)")
	corrupt := fs.Bool("corrupt", false, "apply the known corruptions")
	change := fs.Int("change", 0, "rows of -table to change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("-dsn: a database DSN is required")
	}
	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("connecting: %w", provision.RedactErr(err, *dsn))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	start := time.Now()
	switch {
	case *corrupt:
		err = dbgen.Apply(ctx, conn, dbgen.Corruptions())
	case *change > 0 && *table != "":
		_, err = dbgen.ChangeRows(ctx, conn, *table, *change)
	case *tokens > 0 && *table != "":
		err = dbgen.TokenTable(ctx, conn, *table, *tokens)
	case *tokens > 0:
		err = dbgen.Fill(ctx, conn, dbgen.Options{Tokens: *tokens})
	default:
		return errors.New("nothing to do: give -tokens, -corrupt or -change (see -h)")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "dbgen: done in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
