"""The fault test of the distributed topology (scripts/cluster chaos): drives billing flows through
the gateway while instances are killed with SIGKILL and restarted, RabbitMQ is restarted once and
PostgreSQL once; then checks that every accepted invoice has exactly one claim (insured patients),
exactly one payment request, and that reporting's total equals the invoices' sum.
Prints `flows accepted N, lost N, duplicated N` and exits 1 when anything was lost or duplicated.

    python3 scripts/cluster-chaos.py GATEWAY_URL EMAIL PASSWORD --flows 2000 --seconds 300
The cluster script passes a `--restart` command for each fault (kill/restart an instance, the broker,
the database)."""
import argparse
import json
import random
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal

CONTEXT = ssl.create_default_context()
CONTEXT.check_hostname = False
CONTEXT.verify_mode = ssl.CERT_NONE


def call(base, method, path, token=None, body=None, headers=None, timeout=10):
    """One request; a 429 from the gateway's rate limit waits and asks again."""
    for _ in range(30):
        status, answer = call_once(base, method, path, token, body, headers, timeout)
        if status != 429:
            return status, answer
        time.sleep(1)
    return status, answer


def call_once(base, method, path, token=None, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=CONTEXT) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return 0, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gateway")
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--flows", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--fault", action="append", default=[], help="a shell command that injects one fault")
    args = parser.parse_args()
    status, login = call(args.gateway, "POST", "/api/auth/login", body={"email": args.email, "password": args.password})
    if status != 200:
        sys.exit(f"login failed: {status} {login}")
    token = login["accessToken"]
    _, before = call(args.gateway, "GET", "/api/reporting/summary", token)
    billed_before = Decimal(str((before or {}).get("billed", "0")))
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    deadline = time.time() + args.seconds
    run = uuid.uuid4().hex[:8]
    accepted = {}  # idempotency key -> invoice id
    failed = []
    lock = threading.Lock()
    next_flow = iter(range(args.flows))
    patients = ["P10001", "P10002", "P10003"]

    def worker():
        nonlocal token
        while time.time() < deadline:
            with lock:
                flow = next(next_flow, None)
            if flow is None:
                return
            key = f"chaos-{run}-{flow}"
            body = {"patientId": patients[flow % 3], "services": [{"code": "OPD001", "cost": 400}, {"code": "LAB025", "cost": 250}]}
            # The same Idempotency-Key on every retry: a flow is accepted at most once.
            for attempt in range(60):
                status, answer = call(args.gateway, "POST", "/api/billing/generate", token, body, {"Idempotency-Key": key})
                if status == 201:
                    with lock:
                        accepted[key] = answer["id"]
                    break
                if status == 401:
                    _, login = call(args.gateway, "POST", "/api/auth/login", body={"email": args.email, "password": args.password})
                    if login and "accessToken" in login:
                        token = login["accessToken"]
                time.sleep(min(2.0, 0.05 * (attempt + 1)))
            else:
                with lock:
                    failed.append(key)

    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    # Faults while the load runs, spread over its first part.
    for fault in args.fault:
        time.sleep(random.uniform(2, 5))
        print(f"fault: {fault}", flush=True)
        subprocess.run(fault, shell=True, check=False)
    for thread in threads:
        thread.join()

    # Let the events settle, then check every accepted invoice end to end.
    invoices = {}
    def collect():
        found, cursor = {}, None
        while True:
            path = "/api/billing/invoices?limit=200" + (f"&cursor={cursor}" if cursor else "")
            status, page = call(args.gateway, "GET", path, token)
            if status != 200:
                return None
            for item in page["items"]:
                if item["createdAt"] >= started:  # this run's invoices only
                    found[item["id"]] = item
            cursor = page.get("nextCursor")
            if not cursor:
                return found
    def claims_by_invoice():
        counts, cursor = {}, None
        while True:
            path = "/api/claims?limit=200" + (f"&cursor={cursor}" if cursor else "")
            status, page = call(args.gateway, "GET", path, token)
            if status != 200:
                return None
            for item in page["items"]:
                counts[item["invoiceId"]] = counts.get(item["invoiceId"], 0) + 1
            cursor = page.get("nextCursor")
            if not cursor:
                return counts
    lost = duplicated = 0
    settled = {}  # invoice id -> payment requests seen once everything else was right
    for _ in range(120):
        invoices = collect() or {}
        claims = claims_by_invoice() or {}
        problems = []
        for key, invoice_id in accepted.items():
            invoice = invoices.get(invoice_id)
            if invoice is None:
                problems.append(("lost", key))
                continue
            claim_count = claims.get(invoice_id, 0)
            expected_claims = 1 if invoice.get("coverage") else 0
            if invoice_id not in settled:
                status, payments = call(args.gateway, "GET", f"/api/payments?invoiceId={invoice_id}", token)
                requests = len(payments.get("paymentRequests", [])) if status == 200 else -1
                if requests == 1:
                    settled[invoice_id] = 1
            else:
                requests = settled[invoice_id]
            if claim_count > expected_claims or requests > 1:
                problems.append(("duplicated", key))
            elif claim_count < expected_claims or requests < 1:
                problems.append(("pending", key))
        status, summary = call(args.gateway, "GET", "/api/reporting/summary", token)
        billed = Decimal(str(summary.get("billed", "0"))) - billed_before if status == 200 else Decimal(-1)
        expected_total = sum(Decimal(str(invoices[i]["total"])) for i in accepted.values() if i in invoices)
        if not any(kind == "pending" for kind, _ in problems) and billed == expected_total:
            break
        time.sleep(1)
    # A last full pass: a payment request delivered twice would show now.
    for key, invoice_id in accepted.items():
        if invoice_id in settled:
            status, payments = call(args.gateway, "GET", f"/api/payments?invoiceId={invoice_id}", token)
            if status == 200 and len(payments.get("paymentRequests", [])) > 1:
                problems.append(("duplicated", key))
    lost = sum(1 for kind, _ in problems if kind in ("lost", "pending"))
    duplicated = sum(1 for kind, _ in problems if kind == "duplicated")
    extra = len(invoices) - len(set(accepted.values()))  # invoices nobody was told about: duplicates
    print(f"flows accepted {len(accepted)}, lost {lost}, duplicated {duplicated + max(0, extra)}, "
          f"not accepted within the time {len(failed) + args.flows - len(accepted) - len(failed)}; "
          f"reporting billed {billed} in this run, invoices sum {expected_total}")
    sys.exit(1 if lost or duplicated or extra > 0 or billed != expected_total else 0)


main()
