package cli

import (
	"flag"
	"fmt"

	"github.com/cutover-dev/cutover/internal/provision"
	"github.com/cutover-dev/cutover/verify"
)

// dbFlags are the --old and --new database flags of the commands that
// work on two existing databases.
type dbFlags struct {
	old, new string
}

// declare adds --old and --new to fs; the documents say what each
// database is.
func (d *dbFlags) declare(fs *flag.FlagSet, oldDoc, newDoc string) {
	fs.StringVar(&d.old, "old", "", oldDoc+" `DSN` (env CUTOVER_OLD_DSN, which keeps the password out of ps)")
	fs.StringVar(&d.new, "new", "", newDoc+" `DSN` (env CUTOVER_NEW_DSN)")
}

// resolve fills unset flags from the environment and checks that both
// are connection strings; errors name the flag and never the password.
func (d *dbFlags) resolve(getenv Env) error {
	if d.old == "" {
		d.old = getenv("CUTOVER_OLD_DSN")
	}
	if d.new == "" {
		d.new = getenv("CUTOVER_NEW_DSN")
	}
	for _, f := range []struct{ name, env, dsn string }{
		{"--old", "CUTOVER_OLD_DSN", d.old}, {"--new", "CUTOVER_NEW_DSN", d.new},
	} {
		if f.dsn == "" {
			return usagef(fmt.Errorf("%s: a database DSN is required (or env %s)", f.name, f.env))
		}
		if err := provision.CheckDSN(f.dsn); err != nil {
			return usagef(fmt.Errorf("%s: %w", f.name, err))
		}
		if err := verify.ParseDSN(f.dsn); err != nil {
			return usagef(fmt.Errorf("%s: %w", f.name, provision.RedactErr(err, f.dsn)))
		}
	}
	return nil
}
