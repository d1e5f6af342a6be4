#!/bin/sh
# A small stand-in for the official postgres image's entry point, with
# the same interface: POSTGRES_PASSWORD (required) for the superuser
# "postgres", PGDATA, and "postgres ARGS..." as the command. Local
# connections are trusted; every host connection needs the password.
set -eu
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
	pw=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
	initdb -D "$PGDATA" -U postgres -E UTF8 --no-sync --auth-local=trust \
		--auth-host=scram-sha-256 --pwfile="$pw" >/dev/null
	rm -f "$pw"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.auto.conf"
fi
exec "$@"
