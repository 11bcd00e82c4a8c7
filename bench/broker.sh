#!/usr/bin/env bash
# Event broker benchmark (issue 5): outbox → relay → RabbitMQ (publisher confirms, persistent
# messages, a quorum queue) → consumer inbox, on a private node started here; then the same events
# through the in-process transport as the reference, in the same invocation.
#   BROKER_EVENTS    backlog size of phase 1 (default 20000)
#   BROKER_RATE      events/s written in phase 2 (default 2500)
#   BROKER_SECONDS   length of phase 2 (default 10)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
EVENTS=${BROKER_EVENTS:-20000}
RATE=${BROKER_RATE:-2500}
SECONDS_=${BROKER_SECONDS:-10}

echo "== RabbitMQ node (scripts/rabbitmq.sh) =="
was_running=0
bash scripts/rabbitmq.sh status && was_running=1
bash scripts/rabbitmq.sh start
if ((was_running == 0)); then trap 'bash scripts/rabbitmq.sh stop' EXIT; fi
URL=$(bash scripts/rabbitmq.sh url)

echo "== building rcm (release) =="
swift build -c release --product rcm 2>&1 | tail -1
RCM=$(swift build -c release --product rcm --show-bin-path)/rcm

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server), librabbitmq $(pkg-config --modversion librabbitmq), SQLite outbox and inbox (RCM_SQLITE_SYNCHRONOUS=${RCM_SQLITE_SYNCHRONOUS:-NORMAL})"
args=(--events "$EVENTS" --rate "$RATE" --seconds "$SECONDS_")
"$RCM" broker-bench --transport rabbitmq --url "$URL" "${args[@]}"
"$RCM" broker-bench --transport in-process "${args[@]}"
