#!/usr/bin/env bash
# Benchmark for "platform foundation": wrk against nginx's fixed reply, rcm /health/live and rcm POST /api/billing/generate.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/rcm.sh
NGINX_PORT=${NGINX_PORT:-18080}
RCM_PORT=${RCM_PORT:-18081}
DURATION=${DURATION:-10}
# Runs on this kind of shared machine move by ±15% from one to the next: every measurement is
# repeated ROUNDS times, the reference and rcm alternating, and the summary reports medians.
ROUNDS=${ROUNDS:-3}
# Connections for the generate runs: a clinic chain's front desks are tens, not thousands.
GENERATE_CONNECTIONS=${GENERATE_CONNECTIONS:-16 64}

bash scripts/install-deps.sh wrk nginx curl sqlite3
swift build -c release --product rcm

TMP=$(mktemp -d)
chmod 755 "$TMP" # nginx workers do not run as root
RCM_PID=
cleanup() {
    if [[ -n $RCM_PID ]]; then kill "$RCM_PID" 2>/dev/null || true; wait "$RCM_PID" 2>/dev/null || true; fi
    if [[ -f $TMP/nginx/nginx.pid ]]; then kill -QUIT "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null || true; sleep 0.5; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# nginx: a fixed JSON reply, the ceiling for a trivial HTTP request on this machine.
mkdir -p "$TMP/nginx" "$TMP/data"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /health/live { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
CONF
nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"

# rcm with the demo organization on fresh SQLite files.
rcm_start .build/release/rcm "$RCM_PORT" "$TMP/data" "$TMP/rcm.log"
RCM_PID=$RCM_STARTED_PID

# Every API route needs a bearer token: log in once as the first admin; wrk sends the token.
RCM_TOKEN=$(rcm_login "$RCM_PORT")
export RCM_TOKEN
AUTH=(-H "Authorization: Bearer $RCM_TOKEN")

mkdir -p bench/results
STAMP=$(date +%Y%m%d-%H%M%S)
rcm_alive() { # stops the benchmark with rcm's log if rcm has exited
    kill -0 "$RCM_PID" 2>/dev/null && return 0
    local status=0
    wait "$RCM_PID" || status=$?
    RCM_PID=
    echo "rcm exited with status $status; its log ends:" >&2
    tail -n 30 "$TMP/rcm.log" >&2
    exit 1
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$RCM_PID/stat"; } # rcm's user + system time, in clock ticks
run() { # NAME CONNECTIONS URL [wrk args...]
    local name=$1 connections=$2 url=$3 out="bench/results/$STAMP-$1.txt" before
    shift 3
    echo "== wrk $name: -c$connections $url =="
    before=$(cpu_ticks)
    wrk -t2 -c"$connections" -d"${DURATION}s" --latency "$@" "$url" | tee "$out"
    # CPU time rcm spent per request during the run (rcm's own threads, the event pipeline
    # included): steadier than req/s on a shared machine. Not meaningful for the nginx runs.
    echo "rcm cpu ticks: $(($(cpu_ticks) - before)) at $(getconf CLK_TCK)/s" >>"$out"
    rcm_alive
}
for round in $(seq "$ROUNDS"); do
    run "nginx-health-r$round" 64 "http://127.0.0.1:$NGINX_PORT/health/live"
    run "rcm-health-r$round" 64 "http://127.0.0.1:$RCM_PORT/health/live"
done
# The first seconds of writes grow the SQLite WAL files and warm the caches; they are reported
# as "cold" and not mixed into the steady-state figures.
run rcm-generate-cold 16 "http://127.0.0.1:$RCM_PORT/api/billing/generate" -s bench/generate.lua
GENERATE_TARGETS=()
for connections in $GENERATE_CONNECTIONS; do GENERATE_TARGETS+=("rcm-generate-c$connections"); done
for round in $(seq "$ROUNDS"); do
    for connections in $GENERATE_CONNECTIONS; do
        run "rcm-generate-c$connections-r$round" "$connections" "http://127.0.0.1:$RCM_PORT/api/billing/generate" \
            -s bench/generate.lua
    done
done

# Every accepted invoice must reach the reporting read model (through billing's outbox, the claim
# and payment services, and reporting's inbox): how long after the load does it catch up?
requests() { awk '/requests in/ { print $1 }' "bench/results/$STAMP-$1.txt"; }
expected=$(requests rcm-generate-cold)
for target in "${GENERATE_TARGETS[@]}"; do
    for round in $(seq "$ROUNDS"); do expected=$((expected + $(requests "$target-r$round"))); done
done
# wrk counts the replies it read; the requests in flight when a run stops are served all the same,
# so billing holds a few more invoices than wrk counted. Reporting must end with billing's count.
started=$(date +%s.%N)
count=0
billed=-1
for _ in $(seq 600); do
    previous=$billed
    billed=$(sqlite3 "$TMP/data/billing.sqlite" "SELECT COUNT(*) FROM invoices")
    count=$(curl -s "${AUTH[@]}" "http://127.0.0.1:$RCM_PORT/api/reporting/summary" | sed -n 's/.*"invoiceCount":\([0-9]*\).*/\1/p')
    [[ $billed -eq $previous && ${count:-0} -ge $billed ]] && break
    sleep 0.05
done
caught_up=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')

rps() { awk '/^Requests\/sec:/ { print $2 }' "bench/results/$STAMP-$1.txt"; }
p99() { awk '$1 == "99%" { print $2 }' "bench/results/$STAMP-$1.txt"; }
errors() { # non-2xx replies plus socket errors
    awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' "bench/results/$STAMP-$1.txt"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
rounds_of() { # TARGET FUNCTION: the function's value for every round of the target
    local round
    for round in $(seq "$ROUNDS"); do "$2" "$1-r$round"; done
}
cpu_us() { # rcm CPU microseconds per request of a run
    awk -v hz="$(getconf CLK_TCK)" '/requests in/ { n = $1 } /^rcm cpu ticks:/ { t = $4 }
        END { if (n > 0) printf "%.0f\n", t * 1000000 / hz / n }' "bench/results/$STAMP-$1.txt"
}
p99_ms() { p99 "$1" | awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; print v }'; }
{
    echo "== summary ($STAMP) =="
    echo "date: $(date -R)"
    echo "nproc: $(nproc)"
    echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "rounds: $ROUNDS of ${DURATION}s each (medians; every round listed)"
    printf '%-18s %12s %10s %7s %14s  %s\n' target 'req/s' 'p99 (ms)' errors 'rcm CPU us/req' 'req/s by round'
    for target in nginx-health rcm-health "${GENERATE_TARGETS[@]}"; do
        cpu=$(rounds_of "$target" cpu_us | median)
        [[ $target == nginx-health ]] && cpu=-
        printf '%-18s %12s %10s %7s %14s  %s\n' "$target" "$(rounds_of "$target" rps | median)" \
            "$(rounds_of "$target" p99_ms | median)" "$(rounds_of "$target" errors | awk '{ n += $1 } END { print n + 0 }')" \
            "$cpu" "$(rounds_of "$target" rps | tr '\n' ' ')"
    done
    printf '%-18s %12s %10s %7s %14s\n' rcm-generate-cold "$(rps rcm-generate-cold)" "$(p99_ms rcm-generate-cold)" \
        "$(errors rcm-generate-cold)" "$(cpu_us rcm-generate-cold)"
    ratios=$(for round in $(seq "$ROUNDS"); do
        awk -v r="$(rps "rcm-health-r$round")" -v n="$(rps "nginx-health-r$round")" 'BEGIN { if (n > 0) printf "%.2f\n", r / n }'
    done)
    echo "rcm-health / nginx-health req/s, median of rounds: $(echo "$ratios" | median) (by round: $(echo "$ratios" | tr '\n' ' '))"
    echo "invoices: $expected replies counted by wrk; $billed in billing; $count in the reporting read model," \
        "${caught_up}s after the load ended"
} | tee "bench/results/$STAMP-summary.txt"

echo "== invoices after the generate run (reporting summary) =="
curl -s "${AUTH[@]}" "http://127.0.0.1:$RCM_PORT/api/reporting/summary?from=2000-01-01&to=2100-01-01"
echo
if [[ $count -ne $billed || $billed -lt $expected ]]; then
    echo "MISMATCH: billing holds $billed invoices, reporting $count, wrk counted $expected replies" >&2
    exit 1
fi
