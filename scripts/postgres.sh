#!/usr/bin/env bash
# A private PostgreSQL 15 server on 127.0.0.1 for the tests: postgres.sh start|stop|status|url
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${RCM_PG_DIR:-/tmp/rcm-pg}
PORT=${RCM_PG_PORT:-55432}
DATABASE=rcm_test

bin_dir() {
    bash "$ROOT/scripts/install-deps.sh" postgresql-15 >&2
    dirname "$(dpkg -L postgresql-15 | grep '/bin/initdb$' | head -n 1)"
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

running() { [[ -f $DIR/PG_VERSION ]] && as_postgres "$BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1; }

start() {
    if running; then return 0; fi
    if [[ ! -f $DIR/PG_VERSION ]]; then
        mkdir -p "$DIR"
        chown postgres:postgres "$DIR"
        chmod 700 "$DIR"
        as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth-local=trust --auth-host=trust \
            --encoding=UTF8 --locale=C >/dev/null
    fi
    as_postgres "$BIN/pg_ctl" start -D "$DIR" -l "$DIR/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR'" >/dev/null
    for _ in $(seq 30); do
        if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then break; fi
        sleep 1
    done
    "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" || { tail -n 20 "$DIR/server.log" >&2; exit 1; }
    local psql=("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq)
    if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
        "${psql[@]}" -c "CREATE DATABASE $DATABASE"
    fi
}

stop() {
    if running; then as_postgres "$BIN/pg_ctl" stop -D "$DIR" -m fast >/dev/null; fi
}

case "${1:-}" in
    start) BIN=$(bin_dir); start ;;
    stop) BIN=$(bin_dir); stop ;;
    status) BIN=$(bin_dir); running ;;
    url) echo "postgres://postgres@127.0.0.1:$PORT/$DATABASE" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
