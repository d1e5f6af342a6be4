#!/bin/sh
# Builds the local container images the docker provider uses on machines
# without a registry: cutover/hydra:v1.11.10 and cutover/hydra:v2.3.0
# from the static binaries `make hydra` builds, and cutover/postgres:15
# from Debian's packages (debootstrap + docker import). An image that
# already exists is skipped. Run as root (debootstrap needs it).
#
# Usage: scripts/images.sh CACHE_DIR
set -eu

cache=${1:?usage: scripts/images.sh CACHE_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
PG_IMAGE=${CUTOVER_PG_LOCAL_IMAGE:-cutover/postgres:15}
SUITE=${CUTOVER_DEBIAN_SUITE:-bookworm}

exists() { docker image inspect "$1" >/dev/null 2>&1; }

for v in v1.11.10 v2.3.0; do
	img=cutover/hydra:$v
	if exists "$img"; then
		echo "images: $img exists, skipped"
		continue
	fi
	bin=$cache/hydra/$v/hydra
	[ -x "$bin" ] || { echo "images: $bin missing; run make hydra" >&2; exit 1; }
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' EXIT
	cp "$bin" "$ctx/hydra"
	cp "$here/images/hydra/Dockerfile" "$ctx/Dockerfile"
	mkdir -m 1777 "$ctx/tmp"
	docker build -q --label dev.cutover.image=hydra -t "$img" "$ctx" >/dev/null
	rm -rf "$ctx"
	trap - EXIT
	echo "images: built $img"
done

if exists "$PG_IMAGE"; then
	echo "images: $PG_IMAGE exists, skipped"
	exit 0
fi

# The mirror comes from this machine's apt sources, never from the repo:
# the first URI of a deb822 .sources stanza or a one-line "deb" entry
# whose suites include $SUITE.
mirror=$(
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
			/^[ \t]*$/ { if (u != "" && ok && t) { print u; exit } u = ""; ok = 0; t = 0; next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") t = 1 }
			/^URIs:/ { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (u != "" && ok && t) print u }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '$1 == "deb" { u = $2; if (u ~ /^\[/) { u = $3; x = $4 } else x = $3;
			if (x == s) print u }' "$f" | sed 's/^\[.*\] //'
	done
)
mirror=$(printf '%s\n' "$mirror" | grep -v '^$' | head -n 1)
[ -n "$mirror" ] || { echo "images: no apt source for $SUITE under /etc/apt; cannot debootstrap" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "images: debootstrap missing; apt-get install -y debootstrap" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "images: debootstrap $SUITE (postgresql-15) from the apt mirror; about a minute"
debootstrap --variant=minbase --include=postgresql-15 "$SUITE" "$root" "$mirror" >"$root.log" 2>&1 || {
	tail -n 5 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15
install -m 0755 "$here/images/postgres/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
chroot "$root" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
tar -C "$root" -c . | docker import \
	-c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	-c 'ENV PGDATA=/var/lib/postgresql/data' \
	-c 'USER postgres' \
	-c 'EXPOSE 5432' \
	-c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	-c 'CMD ["postgres"]' \
	-c 'LABEL dev.cutover.image=postgres' \
	- "$PG_IMAGE" >/dev/null
echo "images: built $PG_IMAGE"
