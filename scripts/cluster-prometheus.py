"""Starts Prometheus (Debian package) against the running loopback cluster, waits for its scrapes,
and checks that every instance's target is up and that the key series exist; stops it again.
    python3 scripts/cluster-prometheus.py STATE_DIR "service:port service:port ..." """
import json
import os
import subprocess
import sys
import time
import urllib.request

state, instances = sys.argv[1], sys.argv[2].split()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = os.path.join(state, "prometheus")
os.makedirs(work, exist_ok=True)
targets = "\n".join(
    f'      - targets: ["127.0.0.1:{entry.split(":")[1]}"]\n        labels: {{ service: {entry.split(":")[0]} }}'
    for entry in instances)
# The shipped configuration, with loopback targets and a fast scrape for the check.
config = open(os.path.join(root, "deploy/prometheus/prometheus.yml")).read()
config = config.split("scrape_configs:")[0].replace("scrape_interval: 15s", "scrape_interval: 1s")
config = config.replace("- alerts.yml", "- " + os.path.join(root, "deploy/prometheus/alerts.yml"))
config += f"scrape_configs:\n  - job_name: rcm\n    metrics_path: /metrics\n    static_configs:\n{targets}\n"
open(os.path.join(work, "prometheus.yml"), "w").write(config)
port = 19090
server = subprocess.Popen(
    ["prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
     f"--web.listen-address=127.0.0.1:{port}"], stdout=open(f"{work}/log", "w"), stderr=subprocess.STDOUT)


def api(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.load(response)["data"]


failures = []
try:
    deadline = time.time() + 60
    targets_up = []
    while time.time() < deadline:
        try:
            active = api("/api/v1/targets")["activeTargets"]
            targets_up = [t for t in active if t["health"] == "up"]
            if len(active) == len(instances) and len(targets_up) == len(instances):
                break
        except OSError:
            pass
        time.sleep(1)
    print(f"targets up: {len(targets_up)} of {len(instances)}")
    if len(targets_up) != len(instances):
        failures.append("not every target is up")
    time.sleep(2)
    for series in ["rcm_up", "rcm_http_requests_total", "rcm_http_request_duration_seconds_bucket",
                   "rcm_outbox_backlog", "rcm_outbox_oldest_pending_age_seconds", "rcm_dead_letters",
                   "rcm_db_pool_connections", "rcm_invoices", "rcm_claims", "rcm_payments"]:
        result = api("/api/v1/query?query=" + urllib.request.quote(f"count({series})"))["result"]
        count = int(float(result[0]["value"][1])) if result else 0
        print(f"{series}: {count} series")
        if count == 0:
            failures.append(f"no {series}")
    rules = api("/api/v1/rules")["groups"]
    print(f"alert rules loaded: {sum(len(g['rules']) for g in rules)}")
    if not rules:
        failures.append("no alert rules loaded")
finally:
    server.terminate()
    server.wait(timeout=10)
if failures:
    sys.exit("Prometheus check failed: " + "; ".join(failures))
print("Prometheus check: OK")
