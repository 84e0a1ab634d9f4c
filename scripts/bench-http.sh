#!/usr/bin/env bash
# HTTP figures of the read API in one run (docs/performance.md, "HTTP answers from cached bytes"):
# starts the server jar on embedded PostgreSQL and Redis with a 20-card and a 200-card bucket, then
# measures with wrk, 64 connections: /health/live (the server's own ceiling), GET /v1/schedulable of
# each bucket, and the 304 path (If-None-Match with the 200-card answer's ETag). Prints requests/s,
# p99 and the ratio to /health/live for each arm.
#
#   scripts/bench-http.sh            # wrk from Debian: apt-get install -y wrk
#   scripts/bench-http.sh --check    # no wrk: sets up, sends each arm's request once, prints what came back
#
# Environment: PORT (8099), DURATION (20s per arm), WARMUP (5s per arm), CONNECTIONS (64), THREADS (2),
# JAR (roster-server/target/roster-server.jar, built when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/jdk.sh"
roster_select_jdk || exit 1

CHECK=false
[ "${1:-}" = "--check" ] && CHECK=true
PORT=${PORT:-8099}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
JAR=${JAR:-$ROOT/roster-server/target/roster-server.jar}
BASE="http://127.0.0.1:$PORT"

if ! $CHECK && ! command -v wrk >/dev/null 2>&1; then
  echo "bench-http: wrk not found (apt-get install -y wrk), or run with --check" >&2
  exit 2
fi
if [ ! -f "$JAR" ]; then
  echo "bench-http: building the server jar..." >&2
  (cd "$ROOT" && ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -Denforcer.skip=true \
      -pl roster-server -am package) >&2
fi

WORK=$(mktemp -d /tmp/roster-bench-http.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

printf 'server:\n  port: %s\n  max_concurrent_requests: 1024\nembedded:\n  data_dir: %s/data\n' \
  "$PORT" "$WORK" > "$WORK/roster.yaml"
# shellcheck disable=SC2086
(cd "$WORK" && exec "$ROSTER_JAVA_HOME/bin/java" $ROSTER_JVM_FLAGS ${ROSTER_JAVA_OPTS:-} \
    -jar "$JAR" serve --config "$WORK/roster.yaml" > "$WORK/out.txt" 2> "$WORK/err.txt") &
SERVER_PID=$!

echo "bench-http: waiting for $BASE/health/ready (server output in $WORK while it runs)" >&2
for _ in $(seq 1 240); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready" || true)" = "200" ]; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/err.txt" >&2; echo "bench-http: server exited" >&2; exit 1; fi
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = "200" ] \
  || { echo "bench-http: not ready within 120 s" >&2; exit 1; }

# Two groups of openai accounts through the admin API (loopback: no admin token needed).
group() { curl -sf -XPOST "$BASE/admin/groups" -d "{\"name\":\"$1\",\"platform\":\"openai\"}" | jq -r .id; }
accounts() { # $1 = group id, $2 = how many, $3 = name prefix
  local i
  for i in $(seq 1 "$2"); do
    curl -sf -o /dev/null -XPOST "$BASE/admin/accounts" -d \
      "{\"name\":\"$3-$i\",\"platform\":\"openai\",\"type\":\"apikey\",\"priority\":$((i % 7)),
        \"credentials\":{\"model_mapping\":{\"gpt-4o\":\"gpt-4o\",\"gpt-4.1\":\"gpt-4.1\"}},
        \"groups\":[{\"id\":$1,\"priority\":$((i % 3))}]}"
  done
}
G20=$(group bench-20)
G200=$(group bench-200)
accounts "$G20" 20 small
accounts "$G200" 200 large
URL20="$BASE/v1/schedulable?group=$G20&platform=openai"
URL200="$BASE/v1/schedulable?group=$G200&platform=openai"
# Wait until both buckets list every card (the outbox replay runs behind the admin writes).
for _ in $(seq 1 120); do
  n20=$(curl -sf "$URL20" | jq '.accounts | length')
  n200=$(curl -sf "$URL200" | jq '.accounts | length')
  [ "$n20" = "20" ] && [ "$n200" = "200" ] && break
  sleep 0.5
done
[ "$n20" = "20" ] && [ "$n200" = "200" ] || { echo "bench-http: buckets have $n20 and $n200 cards" >&2; exit 1; }
TAG=$(curl -sf -D - -o /dev/null "$URL200" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
[ -n "$TAG" ] || { echo "bench-http: no ETag on $URL200" >&2; exit 1; }

if $CHECK; then
  for u in "$BASE/health/live" "$URL20" "$URL200"; do
    printf '%-70s %s, %s bytes\n' "$u" "$(curl -s -o /dev/null -w '%{http_code}' "$u")" \
      "$(curl -s "$u" | wc -c)"
  done
  printf '%-70s %s (If-None-Match: %s)\n' "$URL200 (conditional)" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $TAG" "$URL200")" "$TAG"
  exit 0
fi

# $1 = label, remaining = wrk arguments after the URL options; prints "label  req/s  p99".
arm() {
  local label=$1 out rps p99
  shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" > /dev/null
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses:/ {print $5}')
  printf '%s\t%s\t%s\t%s\n' "$label" "$rps" "$p99" "${non2xx:-0}"
}

echo "bench-http: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$THREADS -c$CONNECTIONS -d$DURATION" >&2
{
  arm "/health/live" "$BASE/health/live"
  arm "/v1/schedulable 20 cards" "$URL20"
  arm "/v1/schedulable 200 cards" "$URL200"
  arm "/v1/schedulable 200 cards, 304 (If-None-Match)" -H "If-None-Match: $TAG" "$URL200"
} > "$WORK/arms.tsv"
LIVE=$(awk -F'\t' 'NR == 1 {print $2}' "$WORK/arms.tsv")
printf '%-48s %12s %10s %8s %8s\n' "arm (same run)" "requests/s" "p99" "x live" "non-2xx"
awk -F'\t' -v live="$LIVE" '{printf "%-48s %12s %10s %8.2f %8s\n", $1, $2, $3, $2 / live, $4}' "$WORK/arms.tsv"
