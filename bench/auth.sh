#!/usr/bin/env bash
# Benchmark for "identity and access": an authenticated GET of one patient, beside the same GET on a
# build with token verification and permission checks compiled out (RCM_BENCH_NO_AUTH), same run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/rcm.sh
DURATION=${DURATION:-10}
AUTH_PORT=${AUTH_PORT:-18131}
OPEN_PORT=${OPEN_PORT:-18132}

bash scripts/install-deps.sh wrk curl
swift build -c release --product rcm
swift build -c release --product rcm --scratch-path .build-noauth -Xswiftc -DRCM_BENCH_NO_AUTH

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

start() { # BINARY PORT NAME
    rcm_start "$1" "$2" "$TMP/$3" "$TMP/$3.log"
    PIDS+=("$RCM_STARTED_PID")
}
start .build/release/rcm "$AUTH_PORT" auth
start .build-noauth/release/rcm "$OPEN_PORT" open

TOKEN=$(rcm_login "$AUTH_PORT")

mkdir -p bench/results
STAMP=$(date +%Y%m%d-%H%M%S)
run() { # NAME PORT
    echo "== wrk $1: GET /api/patients/P10001 =="
    wrk -t2 -c16 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$2/api/patients/P10001" | tee "bench/results/$STAMP-$1.txt"
}
run patient-open "$OPEN_PORT"
run patient-auth "$AUTH_PORT"
run patient-open-2 "$OPEN_PORT"
run patient-auth-2 "$AUTH_PORT"

rps() { awk '/^Requests\/sec:/ { print $2 }' "bench/results/$STAMP-$1.txt"; }
p99() { awk '$1 == "99%" { print $2 }' "bench/results/$STAMP-$1.txt"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF }' "bench/results/$STAMP-$1.txt"; }
{
    echo "== summary ($STAMP) =="
    echo "date: $(date -R); nproc: $(nproc); cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf '%-16s %12s %10s %10s\n' target req/s p99 non-2xx
    for target in patient-open patient-auth patient-open-2 patient-auth-2; do
        printf '%-16s %12s %10s %10s\n' "$target" "$(rps "$target")" "$(p99 "$target")" "$(non2xx "$target")"
    done
    awk -v a="$(rps patient-auth)" -v b="$(rps patient-auth-2)" -v o="$(rps patient-open)" -v p="$(rps patient-open-2)" \
        'BEGIN { printf "authenticated / open req/s: %.2f (cost %.1f%%)\n", (a + b) / (o + p), 100 * (1 - (a + b) / (o + p)) }'
} | tee "bench/results/$STAMP-auth-summary.txt"
