#!/usr/bin/env bash
# What would the generate target take? Measures how much of an invoice's CPU each piece of its
# work costs, by leaving pieces out: rcm as it is, and rcm built from a copy of the sources with
# bench/what-if.patch applied (switches that exist only for this measurement, chosen at run time
# with RCM_WHATIF; see Sources/RCMCore/WhatIf.swift in the patch). Every configuration runs the
# generate load on fresh demo data, ROUNDS times, the configurations alternating, and the summary
# gives medians of invoices/s, p99 and rcm's CPU per invoice (from /proc/PID/stat: steadier than
# req/s on a shared machine). None of these configurations is a product setting.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/rcm.sh
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${RCM_PORT:-18085}

bash scripts/install-deps.sh wrk curl
swift build -c release --product rcm

# The patched copy lives under .build (ignored) with its own build directory, kept between runs.
# Files are copied only when their content changed, so that the next build is incremental.
COPY=$ROOT/.build/what-if
STAGE=$(mktemp -d)
TMP=$(mktemp -d)
RCM_PID=
cleanup() {
    if [[ -n $RCM_PID ]]; then kill "$RCM_PID" 2>/dev/null || true; wait "$RCM_PID" 2>/dev/null || true; fi
    rm -rf "$STAGE" "$TMP"
}
trap cleanup EXIT
git ls-files -z -- Package.swift Sources Tests | xargs -0 cp --parents -t "$STAGE"
(cd "$STAGE" && git apply "$ROOT/bench/what-if.patch")
mkdir -p "$COPY/src"
(cd "$STAGE" && find . -type f) | while read -r file; do
    if ! cmp -s "$STAGE/$file" "$COPY/src/$file"; then
        mkdir -p "$(dirname "$COPY/src/$file")"
        cp "$STAGE/$file" "$COPY/src/$file"
    fi
done
(cd "$COPY/src" && find . -type f) | while read -r file; do
    [[ -e $STAGE/$file ]] || rm -f "$COPY/src/$file"
done
swift build -c release --product rcm --package-path "$COPY/src" --scratch-path "$COPY/build"
AS_IS=$ROOT/.build/release/rcm
PATCHED=$COPY/build/release/rcm

# name | binary | environment
CONFIGURATIONS=(
    "as is|$AS_IS|"
    "patched, no switch|$PATCHED|"
    "no audit entries for in-process calls|$PATCHED|RCM_WHATIF=no-nested-audit"
    "no audit trail|$PATCHED|RCM_WHATIF=no-audit"
    "patient and coverage read once, reused|$PATCHED|RCM_WHATIF=reuse-reads"
    "no reporting timeline entries|$PATCHED|RCM_WHATIF=no-timeline"
    "no event delivery (no claim, payment, reporting)|$AS_IS|RCM_EVENT_DELIVERY=off"
    "patient and coverage reused, and no audit trail|$PATCHED|RCM_WHATIF=reuse-reads,no-audit"
    "all of the above together|$PATCHED|RCM_WHATIF=reuse-reads,no-audit,no-timeline RCM_EVENT_DELIVERY=off"
)

measure() { # BINARY ENVIRONMENT -> "invoices/s p99 cpu-ms-per-invoice"
    local binary=$1 environment=$2 ticks
    rm -rf "$TMP/data"
    # shellcheck disable=SC2086 # the environment is a list of NAME=value words
    rcm_start "$binary" "$PORT" "$TMP/data" "$TMP/rcm.log" $environment
    RCM_PID=$RCM_STARTED_PID
    RCM_TOKEN=$(rcm_login "$PORT")
    export RCM_TOKEN
    local url="http://127.0.0.1:$PORT/api/billing/generate"
    wrk -t2 -c"$CONNECTIONS" -d3s -s bench/generate.lua "$url" >/dev/null # warm-up: WAL files, caches
    ticks=$(awk '{ print $14 + $15 }' "/proc/$RCM_PID/stat")
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/generate.lua "$url" >"$TMP/wrk.out"
    ticks=$(($(awk '{ print $14 + $15 }' "/proc/$RCM_PID/stat") - ticks))
    kill "$RCM_PID"
    wait "$RCM_PID" 2>/dev/null || true
    RCM_PID=
    grep -q "Non-2xx" "$TMP/wrk.out" && { echo "errors in a run:" >&2; cat "$TMP/wrk.out" >&2; exit 1; }
    awk -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" { p99 = $2 + 0; if ($2 ~ /us$/) p99 /= 1000; else if ($2 ~ /[0-9]s$/) p99 *= 1000 }
        /requests in/ { n = $1 }
        END { printf "%.0f %.1f %.3f\n", rps, p99, ticks * 1000 / hz / n }' "$TMP/wrk.out"
}

RESULTS=$TMP/results
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
    for index in "${!CONFIGURATIONS[@]}"; do
        IFS='|' read -r name binary environment <<<"${CONFIGURATIONS[$index]}"
        measure "$binary" "$environment" >"$TMP/result" # not in a subshell: cleanup must see RCM_PID
        result=$(cat "$TMP/result")
        echo "round $round: $name: $result"
        echo "$index $result" >>"$RESULTS"
    done
done

echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $CONNECTIONS connections, $ROUNDS rounds of ${DURATION}s; medians) =="
printf '%-52s %10s %10s %14s\n' configuration invoices/s p99 "CPU ms/inv"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for index in "${!CONFIGURATIONS[@]}"; do
    IFS='|' read -r name _ _ <<<"${CONFIGURATIONS[$index]}"
    rps=$(awk -v i="$index" '$1 == i { print $2 }' "$RESULTS" | median)
    p99=$(awk -v i="$index" '$1 == i { print $3 }' "$RESULTS" | median)
    cpu=$(awk -v i="$index" '$1 == i { print $4 }' "$RESULTS" | median)
    printf '%-52s %10s %8sms %14s\n' "$name" "$rps" "$p99" "$cpu"
done
