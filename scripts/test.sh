#!/usr/bin/env bash
# Runs every test: once on SQLite, then once on a private PostgreSQL 15 server, then the platform
# tests once more with events through a private RabbitMQ node (RCM_SKIP_BROKER_TESTS=1 skips the
# broker: no node, no broker tests).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# --- ensure_venv NAME PACKAGES... -------------------------------------------------------------
# Creates .venv-NAME in the repo root (if absent) and pip-installs the PACKAGES (pip requirement
# specifiers such as 'pydantic<2') that are not installed yet. For outside validators.
ensure_venv() {
    local name=$1 venv="$ROOT/.venv-$1" spec missing=()
    shift
    bash "$ROOT/scripts/install-deps.sh" python3-venv
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    for spec in "$@"; do
        "$venv/bin/pip" show --quiet "${spec%%[<>=!~;[ ]*}" >/dev/null 2>&1 || missing+=("$spec")
    done
    if ((${#missing[@]} > 0)); then "$venv/bin/pip" install --quiet "${missing[@]}"; fi
    echo "venv $name ready: $venv"
}
# -----------------------------------------------------------------------------------------------

bash scripts/install-deps.sh
echo "== OpenAPI document, checked by openapi-spec-validator =="
ensure_venv openapi openapi-spec-validator
"$ROOT/.venv-openapi/bin/openapi-spec-validator" docs/openapi.json

echo "== X12 outside validators (linuxforhealth-x12 for the RCMX12 tests, pyx12 for bench/x12.sh) =="
eval "$(bash scripts/x12-validators.sh)"
export RCM_LFHX12

echo "== outside validators for generated FHIR (fhir.resources) =="
ensure_venv fhir 'fhir.resources==8.3.0'
export RCM_FHIR_PYTHON="$ROOT/.venv-fhir/bin/python"

echo "== deployment files (nginx -t, promtool, kubernetes-validate, compose-spec, hadolint) =="
bash scripts/deploy-check.sh

echo "== swift format lint =="
swift format lint --strict -r Sources Tests Package.swift
echo "== bench/what-if.patch still applies to the sources (bench/what-if.sh measures with it) =="
git apply --check bench/what-if.patch
swift build --build-tests

# Servers this script started, stopped on exit.
cleanup=()
trap 'for step in "${cleanup[@]}"; do eval "$step"; done' EXIT

if [[ ${RCM_SKIP_BROKER_TESTS:-0} != 1 ]]; then
    echo "== RabbitMQ node for the broker tests =="
    rabbitmq_was_running=0
    bash scripts/rabbitmq.sh status && rabbitmq_was_running=1
    bash scripts/rabbitmq.sh start
    if ((rabbitmq_was_running == 0)); then cleanup+=("bash scripts/rabbitmq.sh stop"); fi
    RCM_TEST_AMQP_URL=$(bash scripts/rabbitmq.sh url)
    export RCM_TEST_AMQP_URL
fi

echo "== tests on SQLite =="
sqlite_status=0
env -u RCM_TEST_DATABASE_URL swift test --skip-build || sqlite_status=$?

echo "== tests on PostgreSQL =="
postgres_was_running=0
bash scripts/postgres.sh status && postgres_was_running=1
bash scripts/postgres.sh start
if ((postgres_was_running == 0)); then cleanup+=("bash scripts/postgres.sh stop"); fi
postgres_status=0
RCM_TEST_DATABASE_URL=$(bash scripts/postgres.sh url)
export RCM_TEST_DATABASE_URL
swift test --skip-build || postgres_status=$?

broker_status=0
if [[ ${RCM_SKIP_BROKER_TESTS:-0} != 1 ]]; then
    echo "== platform tests with events through RabbitMQ (SQLite) =="
    env -u RCM_TEST_DATABASE_URL RCM_TEST_EVENT_TRANSPORT=rabbitmq swift test --skip-build --filter RCMPlatformTests \
        || broker_status=$?
fi

cluster_status=0
if [[ ${RCM_SKIP_CLUSTER_TEST:-0} != 1 ]]; then
    # Every service as its own process on PostgreSQL, events through RabbitMQ, behind nginx: Prometheus
    # must see every instance, and a smaller fault test (200 flows, instances killed, broker and
    # database restarted) must lose and duplicate nothing. A cluster already up is used and left up.
    echo "== the distributed topology: scripts/cluster up, Prometheus, fault test =="
    export RCM_CLUSTER_BUILD=debug
    cluster_was_up=0
    bash scripts/cluster status >/dev/null 2>&1 && cluster_was_up=1
    if ((cluster_was_up == 0)); then
        cleanup+=("bash scripts/cluster down")
        bash scripts/cluster up || cluster_status=$?
    fi
    if ((cluster_status == 0)); then bash scripts/cluster prometheus-check || cluster_status=$?; fi
    if ((cluster_status == 0)); then bash scripts/cluster chaos 200 300 || cluster_status=$?; fi
fi

echo "== results: SQLite exit $sqlite_status, PostgreSQL exit $postgres_status, RabbitMQ exit $broker_status," \
    "cluster exit $cluster_status =="
((sqlite_status == 0 && postgres_status == 0 && broker_status == 0 && cluster_status == 0))
