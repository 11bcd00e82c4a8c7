# Sourced by the bench scripts: starting rcm with the demo organization for a load, and logging in.
# One token drives the whole load, so the per-caller rate limit (50/s by default) is lifted.

BENCH_ADMIN_EMAIL=bench@rcm.invalid
BENCH_ADMIN_PASSWORD=violet-ledger-42-river

# rcm_start BINARY PORT DATA_DIR LOG [NAME=value ...]: starts `rcm serve --demo` in the background
# with the benchmark's first admin (and the given environment), sets RCM_STARTED_PID, and waits
# until it is ready; if it exits or is not ready within 30 s, stops it, prints its log and exits.
rcm_start() {
    local binary=$1 port=$2 data=$3 log=$4
    shift 4
    env RCM_RATE_LIMIT=0 RCM_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" RCM_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" "$@" \
        "$binary" serve --demo --port "$port" --data-dir "$data" >"$log" 2>&1 &
    RCM_STARTED_PID=$!
    for _ in $(seq 60); do
        curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$RCM_STARTED_PID" 2>/dev/null || break
        sleep 0.5
    done
    kill "$RCM_STARTED_PID" 2>/dev/null || true
    echo "rcm on port $port did not become ready; its log ends:" >&2
    tail -n 30 "$log" >&2
    exit 1
}

# rcm_login PORT: prints an access token of the benchmark's admin; exits if the login fails.
rcm_login() {
    local token
    token=$(curl -fsS -X POST "http://127.0.0.1:$1/api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\": \"$BENCH_ADMIN_EMAIL\", \"password\": \"$BENCH_ADMIN_PASSWORD\"}" |
        sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
    [[ -n $token ]] || { echo "login failed" >&2; exit 1; }
    echo "$token"
}
