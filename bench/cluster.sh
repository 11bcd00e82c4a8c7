#!/usr/bin/env bash
# Benchmark of the distributed topology (issue 5): POST /api/billing/generate through the nginx
# gateway to two billing instances on PostgreSQL, with events over RabbitMQ, beside pgbench
# (TPC-B-like) on the same PostgreSQL server in the same run. Target: at least 0.5x pgbench's
# transactions/s. Also reports the outbox backlog and consumer lag after the load.
#   bash bench/cluster.sh            (starts the cluster when it is not up; leaves it running)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
DIR=${RCM_CLUSTER_DIR:-/tmp/rcm-cluster}
PORT=${RCM_CLUSTER_PORT:-18443}
bash scripts/install-deps.sh wrk curl >/dev/null

bash scripts/cluster status >/dev/null 2>&1 || bash scripts/cluster up >/dev/null
GATEWAY="https://127.0.0.1:$PORT"
RCM_TOKEN=$(curl -fsSk -X POST "$GATEWAY/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"admin@cluster.rcm.invalid\", \"password\": \"$(cat "$DIR/admin-password")\"}" |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[[ -n $RCM_TOKEN ]] || { echo "login failed" >&2; exit 1; }
export RCM_TOKEN

PG_BIN=$(dirname "$(dpkg -L postgresql-15 | grep '/bin/initdb$' | head -n 1)")
PGB=("$PG_BIN/pgbench" -h 127.0.0.1 -p 55433 -U postgres)
"$PG_BIN/psql" -h 127.0.0.1 -p 55433 -U postgres -tAq -c "SELECT 1 FROM pg_database WHERE datname = 'pgbench'" | grep -q 1 ||
    "$PG_BIN/psql" -h 127.0.0.1 -p 55433 -U postgres -q -c "CREATE DATABASE pgbench"
"${PGB[@]}" -i -q -s 10 pgbench >/dev/null 2>&1

echo "== pgbench TPC-B-like, $CONNECTIONS clients, ${DURATION}s, same PostgreSQL server"
PGBENCH=$("${PGB[@]}" -c "$CONNECTIONS" -j 2 -T "$DURATION" pgbench 2>/dev/null)
echo "$PGBENCH" | grep -E "^tps|latency average"
PGBENCH_TPS=$(echo "$PGBENCH" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')

# One client drives the whole load, so the gateway's per-client API limit (200 r/s) is lifted for
# the run and put back after it.
bash scripts/cluster gateway-rate 100000
trap 'bash scripts/cluster gateway-rate 200' EXIT

echo "== POST /api/billing/generate through the gateway, $CONNECTIONS connections, ${DURATION}s"
OUT=$(wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --latency -s bench/generate.lua "$GATEWAY/api/billing/generate")
echo "$OUT" | grep -E "Requests/sec|Latency|99%|Non-2xx"
GENERATE_RPS=$(echo "$OUT" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')

echo "== after the load: outbox backlog and consumer lag (Prometheus metrics of each instance)"
for port in 18104 18114 18105 18115 18106 18107; do
    curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^rcm_(outbox_backlog|consumer_lag_events)' || true
done
python3 - "$GENERATE_RPS" "$PGBENCH_TPS" <<'PY'
import sys
generate, pgbench = float(sys.argv[1]), float(sys.argv[2])
print(f"generate {generate:.0f} req/s, pgbench {pgbench:.0f} tps: ratio {generate / pgbench:.2f} (target >= 0.5)")
PY
