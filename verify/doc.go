// Package verify checks that data and sessions survived a migration.
//
// [Tables] compares an old and a new PostgreSQL database: every table
// by row count, and the tables a [Mapping] lists row by row on their
// keys, across the schema change. A mapping says which old table (or
// old query, for tables a migration merged) maps to which new table,
// the key columns, renamed and ignored columns, the normalizers that
// make old and new values comparable (pipe_list, null_empty, jsonb,
// numeric, timestamp_ms, timestamp_s, utc, text) and the differences
// the migration is expected to make, each with its reason; expected
// differences are counted apart from unexpected ones.
//
// The comparison is built for tables of many millions of rows. Rows are
// dealt into chunks by a hash of their key; one scan of each side,
// inside PostgreSQL, yields each chunk's row count and the sum of its
// rows' 64-bit hashes, and only the chunks whose checksums differ are
// read again, down to the rows that differ. Scans of big tables run in
// parallel over a pgxpool, cut into block ranges; every transaction is
// read-only and imports one snapshot exported at the start, so each
// side is compared as of one moment and a role that can only SELECT
// suffices.
//
// [Writes] reads how many rows a migration inserted, updated and
// deleted per table from PostgreSQL's own statistics.
//
// [Sessions] replays what was known about tokens before the cutover —
// active or not, subject, client, scope — against the new server.
//
// Findings are data: they are returned in results, never as errors.
// Values are never returned, only keys — fingerprinted where the key
// is a credential ([TableMap.FingerprintKey]) — and the names of the
// columns that differ, because token tables hold session data.
package verify
