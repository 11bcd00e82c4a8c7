#!/usr/bin/env bash
# Benchmark for "code sets" (issue 6): search latency over the full ICD-10-CM set, over HTTP with wrk
# (GET /api/billing/codes, typing-like queries rotated by bench/codes/search.lua) beside wrk on
# GET /health/live of the same server, and in process (`rcm codes-bench`). Target: p99 < 20 ms.
# Also the server's CPU time per request (utime + stime from /proc/PID/stat around each run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/rcm.sh
DURATION=${DURATION:-10}
# Connections: a few people typing at once, and enough to saturate the two cores (wrk shares them).
CONNECTIONS=${CONNECTIONS:-4 16}
ROUNDS=${ROUNDS:-50}

bash scripts/install-deps.sh wrk curl
swift build -c release --product rcm

# A free port: bind to 0, read what the kernel chose, release it.
PORT=${RCM_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
TMP=$(mktemp -d)
RCM_PID=
cleanup() {
    if [[ -n $RCM_PID ]]; then kill "$RCM_PID" 2>/dev/null || true; wait "$RCM_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

rcm_start .build/release/rcm "$PORT" "$TMP/data" "$TMP/rcm.log"
RCM_PID=$RCM_STARTED_PID
RCM_TOKEN=$(rcm_login "$PORT")
export RCM_TOKEN
AUTH=(-H "Authorization: Bearer $RCM_TOKEN")

# The first search loads ICD-10-CM (once per process); time it, and check a known answer.
first=$(curl -fsS -o "$TMP/first.json" -w '%{time_total}' "${AUTH[@]}" \
    "http://127.0.0.1:$PORT/api/billing/codes?system=icd10cm&q=diabetes%20type%202&limit=3")
grep -q '"code":"E11' "$TMP/first.json" || { echo "unexpected search answer: $(cat "$TMP/first.json")" >&2; exit 1; }

mkdir -p bench/results
STAMP=$(date +%Y%m%d-%H%M%S)
TICKS=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$RCM_PID/stat"; }
run() { # NAME CONNECTIONS URL [wrk args...]
    local name=$1 connections=$2 url=$3 out="bench/results/$STAMP-codes-$1.txt" before after
    shift 3
    echo "== wrk $name: -t2 -c$connections -d${DURATION}s $url =="
    before=$(cpu)
    wrk -t2 -c"$connections" -d"${DURATION}s" --latency "$@" "$url" | tee "$out"
    after=$(cpu)
    kill -0 "$RCM_PID" 2>/dev/null || { echo "rcm exited; its log ends:" >&2; tail -n 30 "$TMP/rcm.log" >&2; exit 1; }
    awk -v t=$((after - before)) -v hz="$TICKS" '/requests in/ { printf "server CPU per request: %.0f us\n", t / hz * 1e6 / $1 }' \
        "$out" | tee -a "$out"
}
TARGETS=()
for connections in $CONNECTIONS; do
    run "health-c$connections" "$connections" "http://127.0.0.1:$PORT/health/live"
    run "search-c$connections" "$connections" "http://127.0.0.1:$PORT/api/billing/codes" -s bench/codes/search.lua
    TARGETS+=("health-c$connections" "search-c$connections")
done

echo "== in process: rcm codes-bench ($(wc -l <bench/codes/queries.txt) queries x $ROUNDS rounds) =="
.build/release/rcm codes-bench bench/codes/queries.txt "$ROUNDS" | tee "bench/results/$STAMP-codes-inprocess.txt"

pct() { awk -v p="$2" '$1 == p { print $2 }' "bench/results/$STAMP-codes-$1.txt"; }
rps() { awk '/^Requests\/sec:/ { print $2 }' "bench/results/$STAMP-codes-$1.txt"; }
errors() {
    awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' "bench/results/$STAMP-codes-$1.txt"
}
{
    echo "== summary ($STAMP) =="
    echo "date: $(date -R)"
    echo "nproc: $(nproc)"
    echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "first search (loads ICD-10-CM): ${first}s"
    printf '%-18s %10s %10s %10s %8s %12s\n' target req/s p50 p99 errors cpu/req
    for target in "${TARGETS[@]}"; do
        printf '%-18s %10s %10s %10s %8s %12s\n' "wrk $target" "$(rps "$target")" "$(pct "$target" 50%)" \
            "$(pct "$target" 99%)" "$(errors "$target")" \
            "$(awk '/server CPU per request/ { print $5 "us" }' "bench/results/$STAMP-codes-$target.txt")"
    done
    grep 'in-process' "bench/results/$STAMP-codes-inprocess.txt"
} | tee "bench/results/$STAMP-codes-summary.txt"
