#!/bin/sh
# Makes sure a Docker engine answers, for .ci/run: when none does, it
# installs Debian's docker.io (and debootstrap, for `make images`) with
# apt-get, starts dockerd in the background and waits for its socket.
# It then prints the Testcontainers settings cutover needs, for eval:
#
#   eval "$(scripts/docker-engine.sh)"
#
# The reaper is off because its image cannot be pulled without a
# registry (cutover removes its own containers), and the host is pinned
# to 127.0.0.1 so that testcontainers never dials a default gateway.
# dockerd's pid is written to ${DOCKERD_PIDFILE:-/tmp/cutover-dockerd.pid};
# stop it with: kill "$(cat /tmp/cutover-dockerd.pid)".
set -eu

pidfile=${DOCKERD_PIDFILE:-/tmp/cutover-dockerd.pid}

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
	if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
		echo "docker-engine: installing docker.io and debootstrap" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq docker.io debootstrap >&2
	fi
	if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
		echo "docker-engine: starting dockerd (log /tmp/cutover-dockerd.log)" >&2
		nohup dockerd >/tmp/cutover-dockerd.log 2>&1 &
		echo $! >"$pidfile"
		i=0
		until [ -S /var/run/docker.sock ] && docker version >/dev/null 2>&1; do
			i=$((i + 1))
			if [ "$i" -gt 60 ]; then
				echo "docker-engine: dockerd did not answer within 60 s; see /tmp/cutover-dockerd.log" >&2
				exit 1
			fi
			sleep 1
		done
	fi
fi
echo "docker-engine: engine $(docker version --format '{{.Server.Version}}') answers" >&2
echo "export TESTCONTAINERS_RYUK_DISABLED=true"
echo "export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
