#!/usr/bin/env bash
# A private RabbitMQ node on 127.0.0.1 for the tests and benchmarks: rabbitmq.sh start|stop|status|url
# The node (rcm@localhost) keeps its database and logs under RCM_RABBITMQ_DIR and listens on
# loopback only; `stop` stops exactly this node.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${RCM_RABBITMQ_DIR:-/tmp/rcm-rabbitmq}
PORT=${RCM_RABBITMQ_PORT:-5673}
DIST_PORT=${RCM_RABBITMQ_DIST_PORT:-25673}
NODE=${RCM_RABBITMQ_NODE:-rcm@localhost}
# Debian's /usr/sbin wrappers switch to the rabbitmq user; the programs behind them run as the
# caller (root here), with the caller's Erlang cookie, on a data directory the caller owns.
BIN=/usr/lib/rabbitmq/bin

ensure_installed() {
    if [[ ! -x $BIN/rabbitmq-server ]]; then bash "$ROOT/scripts/install-deps.sh" rabbitmq-server >&2; fi
}

ctl() { "$BIN/rabbitmqctl" -q -n "$NODE" "$@"; }

running() { ctl status >/dev/null 2>&1; }

start() {
    if running; then return 0; fi
    mkdir -p "$DIR/mnesia" "$DIR/log"
    RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$PORT \
        RABBITMQ_DIST_PORT=$DIST_PORT ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log \
        "$BIN/rabbitmq-server" -detached
    # -detached returns before the node is reachable, and await_startup fails at once on a node it
    # cannot reach yet: poll.
    local ready=0
    for _ in $(seq 60); do
        if ctl await_startup --timeout 30 >/dev/null 2>&1; then ready=1; break; fi
        sleep 1
    done
    if ((ready == 0)); then
        echo "RabbitMQ node $NODE did not start; last log lines:" >&2
        tail -n 30 "$DIR"/log/*.log >&2 || true
        exit 1
    fi
}

stop() {
    if running; then ctl stop >/dev/null; fi
}

case "${1:-}" in
    start) ensure_installed; start ;;
    stop) ensure_installed; stop ;;
    status) ensure_installed; running ;;
    url) echo "amqp://guest:guest@127.0.0.1:$PORT/" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
