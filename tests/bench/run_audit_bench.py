#!/usr/bin/env python3
"""Audit trail benchmark (issue 11, item 1): lists, stats and entries by id of a trail
of 200,000 entries, answered by the analytics daemon's read model.

  * 200,000 audit entries are written straight into tripdesk_analytics.audit_logs with
    pymongo, shaped exactly like services/analytics/audit_entry.c's documents (same
    fields in the same order, severities and resource types by the same rules, the
    search text built the same way), one minute apart going back from now,
  * the rest of the stack is started (Release build), and the time until the audit
    list is answered from memory is measured, with the analytics daemon's RSS,
  * a fixed mix of requests through the gateway (12 kinds: list pages and filters,
    stats, by id) is sent by a Python client: --threads threads, one keep-alive
    connection each, each thread going round the mix, for --duration seconds;
    latency is reported per kind and over all (p50/p99),
  * with --compare-off, a few requests of each kind with the analytics daemon
    restarted with TRIPDESK_LIST_COPIES=off (the database answers: before the read
    model).

Its own stack under build/bench-audit/ on ports 18140/27140/6440. Prints a markdown
section for docs/notes/audit.md (or writes it to --output).

usage: python3 tests/bench/run_audit_bench.py [--entries 200000] [--duration 20]
       [--threads 8] [--keep-data] [--no-build] [--compare-off]"""
import argparse
import datetime
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from run_bench import cpu_seconds, rss_kb  # noqa: E402
from stack import DAEMONS, Stack  # noqa: E402

HTTP, MONGO, REDIS = 18140, 27140, 6440
BASE = f"http://127.0.0.1:{HTTP}"
SECRET = "audit-bench-secret-" + "a" * 40
ADMIN = ("audit-perf@tripdesk.example", "Bench-Admin-2026!")
TARGET_P99_MS = 50.0

# audit_entry.c's tables
PREFIXES = [("BOOKING_", "booking"), ("PAYMENT_", "payment"), ("LEAD_", "lead"),
            ("AGENT_", "agent"), ("CUSTOMER_", "customer"), ("COMMISSION_", "commission"),
            ("ITINERARY_", "itinerary"), ("AUTH_", "auth"), ("PERMISSIONS_", "permission")]
CRITICAL = {"AGENT_DELETED", "AGENT_ROLE_CHANGED", "PERMISSIONS_UPDATED", "PERMISSIONS_RESET",
            "AUTH_REFRESH_REUSED", "BOOKING_DELETED", "PAYMENT_REFUNDED"}
WARNING = {"AUTH_LOGIN_FAILED", "AGENT_DEACTIVATED", "BOOKING_CANCELLED", "PAYMENT_FAILED",
           "LEAD_DELETED", "CUSTOMER_DELETED", "ITINERARY_DELETED"}
# (action, weight, publisher, target type)
ACTIONS = [("BOOKING_CREATED", 20, "booking", "booking"), ("BOOKING_UPDATED", 14, "booking", "booking"),
           ("BOOKING_STATUS_CHANGED", 10, "booking", "booking"),
           ("BOOKING_CANCELLED", 3, "booking", "booking"), ("BOOKING_DELETED", 1, "booking", "booking"),
           ("CUSTOMER_CREATED", 8, "booking", "customer"), ("CUSTOMER_UPDATED", 5, "booking", "customer"),
           ("LEAD_CREATED", 8, "booking", "lead"), ("LEAD_UPDATED", 6, "booking", "lead"),
           ("LEAD_DELETED", 1, "booking", "lead"), ("ITINERARY_CREATED", 3, "booking", "itinerary"),
           ("PAYMENT_COMPLETED", 6, "payment", "payment"), ("PAYMENT_FAILED", 1, "payment", "payment"),
           ("PAYMENT_REFUNDED", 1, "payment", "payment"), ("AUTH_LOGIN", 10, "auth", "agent"),
           ("AUTH_LOGIN_FAILED", 2, "auth", "agent"), ("AGENT_APPROVED", 1, "auth", "agent"),
           ("AGENT_ROLE_CHANGED", 1, "auth", "agent"), ("PERMISSIONS_UPDATED", 1, "auth", "permission")]
ROLES = ["agent", "senior_agent", "admin", "super_admin"]
UAS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
       "tripdesk-demo-data/1.0"]
AGENTS = 200


def resource_of(action):
    return next((t for p, t in PREFIXES if action.startswith(p)), "system")


def severity_of(action):
    return ("critical", 3) if action in CRITICAL else ("warning", 2) if action in WARNING \
        else ("info", 1)


def oid(rng):
    return "%024x" % rng.getrandbits(96)


def make_entry(i, now_ms, rng, agents, weights):
    """One document as audit_entry.c's build() writes it (fields in its order)."""
    action, _, publisher, target_type = rng.choices(ACTIONS, weights)[0]
    actor = rng.choice(agents)
    role = ROLES[agents.index(actor) % len(ROLES)]
    target = oid(rng)
    ip = f"10.{i % 7}.{i % 251}.{i % 13 + 1}"
    ua = UAS[i % len(UAS)]
    request_id = "req-%012x" % rng.getrandbits(48)
    resource = resource_of(action)
    severity, rank = severity_of(action)
    before = {"status": "pending"} if action.endswith(("UPDATED", "CHANGED")) else None
    after = {"status": "confirmed", "notes": "x" * rng.randint(0, 120)} if before else None
    customer = f"Customer {i % 5000}"
    details = {target_type: {"_id": target, "reference": "TD-%06d" % (i % 1000000),
                             "customerName": customer, "destination": rng.choice(
                                 ["Paris", "Bali", "Kyoto", "Rome", "Goa", "Dubai"])}}
    created = now_ms - (200000 - i) * 60000  # one a minute, oldest first
    text = " ".join(s.lower() for s in [action, resource, actor, role, target_type, target, ip,
                                        ua, request_id, customer] if s)
    for v in details[target_type].values():
        text += " " + v.lower()
    return {"_id": oid(rng), "action": action, "performedBy": actor, "performedByRole": role,
            "resourceType": resource, "targetType": target_type, "targetId": target,
            "changes": {"before": before, "after": after}, "details": details,
            "metadata": {"ip": ip, "userAgent": ua, "requestId": request_id},
            "severity": severity, "severityRank": rank, "publisher": publisher,
            "sequence": i + 1,
            "createdAt": datetime.datetime.fromtimestamp(created / 1000, datetime.timezone.utc),
            "searchText": text[:2047]}


def load_entries(n):
    import pymongo
    from bson.int64 import Int64
    rng = random.Random(11)
    agents = [oid(rng) for _ in range(AGENTS)]
    weights = [a[1] for a in ACTIONS]
    db = pymongo.MongoClient(f"mongodb://127.0.0.1:{MONGO}")["tripdesk_analytics"]
    coll = db["audit_logs"]
    coll.drop()
    now_ms = int(time.time() * 1000)
    t0, batch, sample = time.time(), [], {}
    for i in range(n):
        e = make_entry(i, now_ms, rng, agents, weights)
        e["sequence"] = Int64(e["sequence"])
        batch.append(e)
        if i % 997 == 0:
            sample.setdefault("ids", []).append(e["_id"])
            sample.setdefault("targets", []).append(e["targetId"])
            sample.setdefault("requests", []).append(e["metadata"]["requestId"])
        if len(batch) == 2000:
            coll.insert_many(batch, ordered=False)
            batch = []
            if i % 20000 == 19999:
                print(f"  {i + 1} entries in {time.time() - t0:.0f} s", flush=True)
    if batch:
        coll.insert_many(batch, ordered=False)
    sample["agents"] = agents
    sample["now_ms"] = now_ms
    return time.time() - t0, sample


def call(method, path, token=None, body=None, timeout=60):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read()), dict(r.headers)


def mix(sample):
    """The fixed mix: (kind, path generator)."""
    day = lambda k: time.strftime("%Y-%m-%d", time.gmtime(sample["now_ms"] / 1000 - k * 86400))
    rnd = random.Random(5)
    return [
        ("list limit=1", lambda: "/api/audit-logs?limit=1"),
        ("list page 20, deep (page 1-500)", lambda: f"/api/audit-logs?page={rnd.randint(1, 500)}"),
        ("action in (2)", lambda: "/api/audit-logs?action=BOOKING_CANCELLED,PAYMENT_FAILED"),
        ("performedBy", lambda: f"/api/audit-logs?performedBy={rnd.choice(sample['agents'])}"),
        ("resourceType+severity", lambda: "/api/audit-logs?resourceType=booking,payment&severity=warning,critical"),
        ("targetId", lambda: f"/api/audit-logs?targetId={rnd.choice(sample['targets'])}"),
        ("search", lambda: f"/api/audit-logs?search={rnd.choice(sample['requests'])}"),
        ("period, sort severity, 50", lambda: f"/api/audit-logs?startDate={day(rnd.randint(8, 130))}"
         f"&endDate={day(rnd.randint(0, 7))}&sortBy=severity&limit=50"),
        ("sort action asc", lambda: "/api/audit-logs?sortBy=action&sortOrder=asc"),
        ("stats", lambda: "/api/audit-logs/stats"),
        ("stats period", lambda: f"/api/audit-logs/stats?startDate={day(rnd.randint(7, 120))}"
         f"&endDate={day(rnd.randint(0, 6))}"),
        ("by id", lambda: f"/api/audit-logs/{rnd.choice(sample['ids'])}"),
    ]


def run_mix(sample, token, seconds, threads):
    kinds = mix(sample)
    lat = {k: [] for k, _ in kinds}
    bad = {k: 0 for k, _ in kinds}
    sources = {}
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(w):
        conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
        j = w
        while time.time() < stop:
            kind, gen = kinds[j % len(kinds)]
            j += 1
            path = gen()
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": "Bearer " + token})
                r = conn.getresponse()
                r.read()
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if r.status == 200:
                        lat[kind].append(ms)
                        src = r.getheader("X-List-Source") or "database (by _id)"
                        sources.setdefault(kind, set()).add(src)
                    else:
                        bad[kind] += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
                with lock:
                    bad[kind] += 1

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, bad, sources


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def wait_memory(token, limit_s=900):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        try:
            st, _, h = call("GET", "/api/audit-logs?limit=1", token, timeout=10)
            if st == 200 and h.get("X-List-Source") == "memory":
                return time.time() - t0
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit("the audit model never answered (see build/bench-audit/logs)")


def login():
    for _ in range(200):
        try:
            _, d, _ = call("POST", "/api/auth/login", body={"email": ADMIN[0], "password": ADMIN[1]})
            return d["data"]["accessToken"]
        except Exception:
            time.sleep(0.3)
    raise SystemExit("the bootstrapped admin cannot sign in")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200000)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--threads", default="8,2",
                    help="client threads, one run of the mix per comma-separated count")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--compare-off", action="store_true")
    ap.add_argument("--output")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run([os.path.join(ROOT, "scripts", "build"), "run"], check=True)
    var = os.path.join(ROOT, "build", "bench-audit")
    sample_path = os.path.join(var, "sample.json")
    if not args.keep_data:
        shutil.rmtree(var, ignore_errors=True)
    s = Stack(var, HTTP, MONGO, REDIS, os.path.join(ROOT, "build", "run"),
              log_dir=os.path.join(var, "logs"),
              extra_env={"TRIPDESK_JWT_SECRET": SECRET, "TRIPDESK_DEV_MODE": "false",
                         "TRIPDESK_ADMIN_EMAIL": ADMIN[0], "TRIPDESK_ADMIN_PASSWORD": ADMIN[1],
                         "TRIPDESK_LOG_LEVEL": "info"})
    r = {"entries": args.entries}
    s.start("ferretdb")
    s.start("redis")
    try:
        if args.keep_data:
            sample = json.load(open(sample_path))
            r["insert_s"] = None
        else:
            print(f"writing {args.entries} audit entries with pymongo ...", flush=True)
            r["insert_s"], sample = load_entries(args.entries)
            json.dump(sample, open(sample_path, "w"))
        t_start = time.time()
        for name in DAEMONS:
            s.start(name)
        token = login()
        r["model_answers_s"] = time.time() - t_start
        r["model_answers_s"] = wait_memory(token) + r["model_answers_s"]
        log = open(os.path.join(var, "logs", "analytics.log")).read()  # this run's: the last
        m = re.findall(r"list copy of audit_logs: \d+ documents loaded in \d+ ms", log)
        r["load_line"] = m[-1] if m else None
        m = re.findall(r"audit model: \d+ entries, about (\d+) MB", log)
        r["model_mb"] = int(m[-1]) if m else None
        apid = s.daemons["analytics"].proc.pid
        time.sleep(2)
        r["rss_loaded_mb"] = rss_kb(apid) / 1024
        r["runs"] = []
        for threads in [int(x) for x in args.threads.split(",")]:
            cpu0 = cpu_seconds(apid)
            lat, bad, sources = run_mix(sample, token, args.duration, threads)
            r["runs"].append({"threads": threads, "lat": lat, "bad": bad, "sources": sources,
                              "cpu": cpu_seconds(apid) - cpu0})
        r["rss_after_mb"] = rss_kb(apid) / 1024
        if args.compare_off:
            d = s.daemons["analytics"]
            d.env = dict(d.env, TRIPDESK_LIST_COPIES="off")
            s.stop("analytics")
            s.start("analytics")
            time.sleep(3)
            off = {}
            for kind, gen in mix(sample):
                times = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    try:
                        st, _, _ = call("GET", gen(), token, timeout=30)
                    except urllib.error.HTTPError as e:
                        st = e.code
                    times.append(((time.perf_counter() - t0) * 1000, st))
                off[kind] = times
            r["off"] = off
    finally:
        s.stop_all()
    section = report(r, args)
    if args.output:
        open(args.output, "a").write(section)
    print(section)
    return 0


def fmt(v):
    return "-" if v is None else f"{v:.1f}"


def report(r, args):
    lines = [f"### Run of {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"`python3 tests/bench/run_audit_bench.py --entries {args.entries} --duration "
             f"{args.duration} --threads {args.threads}`; Release build, FerretDB SQLite backend "
             "(patched), Python client (http.client, one keep-alive connection per thread, "
             "closed loop), 2 shared cores.", "",
             f"- entries: {r['entries']}" + (f", written with pymongo in {r['insert_s']:.0f} s"
                                            if r.get("insert_s") else " (kept from a run before)"),
             f"- model load: {r['load_line']}; the list answered from memory "
             f"{r['model_answers_s']:.1f} s after the daemons were started",
             f"- analytics RSS: {r['rss_loaded_mb']:.0f} MB loaded, {r['rss_after_mb']:.0f} MB "
             f"after the mix (the model's own estimate: {r['model_mb']} MB)",
             ""]
    for run in r["runs"]:
        lat = run["lat"]
        every = [x for v in lat.values() for x in v]
        n = len(every)
        lines += [f"{run['threads']} client threads: {n} requests in {args.duration} s "
                  f"({n / args.duration:.0f}/s), analytics CPU {run['cpu']:.1f} s; non-200: "
                  f"{sum(run['bad'].values())}", "",
                  "| Request | n | p50 ms | p99 ms | max ms | answered from |",
                  "|---|---:|---:|---:|---:|---|"]
        for kind, v in lat.items():
            lines.append(f"| {kind} | {len(v)} | {fmt(pct(v, 50))} | {fmt(pct(v, 99))} | "
                         f"{fmt(max(v) if v else None)} | "
                         f"{', '.join(sorted(run['sources'].get(kind, [])))} |")
        p99 = pct(every, 99)
        lines += [f"| **all** | {n} | {fmt(pct(every, 50))} | **{fmt(p99)}** | "
                  f"{fmt(max(every) if every else None)} | |", "",
                  f"Target p99 < {TARGET_P99_MS:.0f} ms: "
                  f"**{'met' if p99 is not None and p99 < TARGET_P99_MS else 'missed'}**.", ""]
    if r.get("off"):
        lines += ["With TRIPDESK_LIST_COPIES=off (the database answers; two requests each, ms and "
                  "status):", "", "| Request | first | second |", "|---|---:|---:|"]
        for kind, t in r["off"].items():
            lines.append(f"| {kind} | {t[0][0]:.0f} ({t[0][1]}) | {t[1][0]:.0f} ({t[1][1]}) |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
