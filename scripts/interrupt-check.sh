#!/usr/bin/env bash
# Interrupts N real runs of the cutover binary at random moments with
# SIGINT or SIGTERM and counts what they leave behind: processes whose
# command line mentions the run's private TMPDIR, and files in it.
#
#   scripts/interrupt-check.sh [N] [SCENARIO]
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
scenario=${2:-internal/cli/testdata/e2e.yaml}
go build -o bin/cutover ./cmd/cutover || exit 1

left=0 interrupted=0 finished=0 bad_exit=0
for i in $(seq 1 "$n"); do
  tmp=$(mktemp -d /tmp/cutover-int-XXXXXX)
  chmod 755 "$tmp"
  out="$tmp.out"
  sig=INT; ((i % 2)) || sig=TERM
  delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.1f", rand() * 22 }')
  TMPDIR=$tmp bin/cutover run --scenario "$scenario" --out "$out" >/dev/null 2>"$out.stderr" &
  pid=$!
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null; then
    kill -s "$sig" "$pid"
    interrupted=$((interrupted + 1))
  else
    finished=$((finished + 1))
  fi
  wait "$pid"; rc=$?
  if kill -0 "$pid" 2>/dev/null || { [ "$rc" -eq 0 ] && [ -s "$out.stderr" ] && grep -q interrupted "$out.stderr"; }; then
    bad_exit=$((bad_exit + 1))
  fi
  # "[/]tmp…" matches the path in other processes but not in this
  # grep's own command line.
  procs=$(grep -l -a -- "[/]${tmp#/}" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
  files=$(find "$tmp" -mindepth 1 | wc -l)
  partial=$(grep -o '"partial": true' "$out/report.json" 2>/dev/null | head -1)
  printf 'run %2d: SIG%s after %5ss, exit %d, %s, leftovers: %d processes, %d files\n' \
    "$i" "$sig" "$delay" "$rc" "${partial:-complete report}" "$procs" "$files"
  left=$((left + procs + files))
  rm -rf "$tmp" "$out" "$out.stderr"
done
echo "runs: $n, interrupted: $interrupted, finished before the signal: $finished, leftovers: $left, bad exits: $bad_exit"
[ "$left" -eq 0 ] && [ "$bad_exit" -eq 0 ]
