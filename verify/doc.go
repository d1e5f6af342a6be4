// Package verify checks that data and sessions survived a migration.
//
// [Tables] compares an old and a new PostgreSQL database table by
// table: row counts everywhere, and for the tables it is given a keyed
// comparison of every row across the schema change — columns the new
// schema added or that a table lists as ignored are left out, and a
// value that differs is a finding. Each side is read in one
// repeatable-read, read-only transaction, so a database under write
// load is compared as of one moment.
//
// [Writes] reads how many rows a migration inserted, updated and
// deleted per table from PostgreSQL's own statistics.
//
// [Sessions] replays what was known about tokens before the cutover —
// active or not, subject, client, scope — against the new server.
//
// Findings are data: they are returned in results, never as errors.
// Values of compared columns are never returned, only the names of the
// columns that differ, because token tables hold session data.
package verify
