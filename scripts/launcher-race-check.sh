#!/usr/bin/env bash
# Starts three ./roster launchers at once in a fresh clone of this checkout's HEAD and checks that all
# three succeed and that exactly one of them built the jar (the others waited for its build lock).
# One package build of roster-server and the modules it needs, without tests: about a minute on two
# cores, so .ci/run runs it last. Extra Maven flags go through MAVEN_ARGS (e.g. MAVEN_ARGS=-o offline).
# Usage: scripts/launcher-race-check.sh [ROSTER_ARGS...]   (default: --help)
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--help)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$SRC" "$tmp/clone"
cd "$tmp/clone"
echo "race-check: three './roster ${args[*]}' at once in $tmp/clone (HEAD $(git rev-parse --short HEAD))"
start=$(date +%s)
pids=()
for i in 1 2 3; do
  ./roster "${args[@]}" >"$tmp/out$i" 2>"$tmp/err$i" &
  pids+=($!)
done
failed=0
for i in 1 2 3; do
  if wait "${pids[$((i - 1))]}"; then rc=0; else rc=$?; fi
  if [ "$rc" -ne 0 ]; then
    echo "race-check: launcher $i exited $rc; its stderr:" >&2
    cat "$tmp/err$i" >&2
    failed=1
  elif ! grep -q "Usage: roster" "$tmp/out$i"; then
    echo "race-check: launcher $i printed no usage; stdout:" >&2
    cat "$tmp/out$i" >&2
    failed=1
  fi
done
builds=$(cat "$tmp"/err1 "$tmp"/err2 "$tmp"/err3 | grep -c "roster: building the server jar" || true)
waits=$(cat "$tmp"/err1 "$tmp"/err2 "$tmp"/err3 | grep -c "waiting for another launcher's build" || true)
echo "race-check: $(( $(date +%s) - start )) s; builds: $builds, launchers that waited: $waits"
if [ "$builds" -ne 1 ]; then
  echo "race-check: expected exactly one build, saw $builds" >&2
  failed=1
fi
[ "$failed" -eq 0 ] && echo "race-check: ok, all three launchers succeeded"
exit "$failed"
