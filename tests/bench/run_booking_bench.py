#!/usr/bin/env python3
"""Booking service benchmark (issue: booking service, item 7), on the demo data:

  * the foundation's trivial route (GET /api/bookings/ping) for reference,
  * GET /api/bookings, a page of 20 with two filters, served from the cache (HIT),
  * the same list uncached (gateway and booking restarted with CACHE_ENABLED=false),
    at 64, 8 and 1 connections,
  * booking creation through the gateway with conflict checking (each request a new
    destination, so the check runs and passes), last,

all in one run on one Release stack of its own (ports 29080/27029/6329), with wrk at
64 connections. Results go to the "Booking service" section of docs/performance.md.

usage: python3 tests/bench/run_booking_bench.py [--scale 1.0] [--duration 8]
--scale is passed to scripts/demo-data (1.0: 50 agents, 5,000 customers, 10,000 leads,
20,000 bookings)."""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import stack_bench  # noqa: E402
from run_bench import cpu_seconds  # noqa: E402
from stack import Stack  # noqa: E402

HTTP, MONGO, REDIS = 29080, 27029, 6329
FERRET_METRICS = 28029  # FerretDB's debug handler (Prometheus metrics), for creation's cost
BASE = f"http://127.0.0.1:{HTTP}"
SECRET = "booking-bench-secret-" + "b" * 32
ADMIN = ("perf@tripdesk.example", "Bench-Admin-2026!")  # meets the password policy
LIST = "/api/bookings?status=confirmed&tripType=family&limit=20"
TARGETS = {"cached_ratio": 0.70, "uncached_p99_ms": 20.0, "create_rps": 500.0}


def call(method, path, token=None, body=None):
    return stack_bench.call(BASE, method, path, token, body)


def wrk(path, token, seconds, script=None, env=None, connections=64):
    return stack_bench.wrk(BASE, path, token, seconds, script, env, connections)


def wait_for_memory(token, what):
    """Polls the list until the booking daemon's in-memory copy answers it; returns
    the seconds it took (a copy loads at start; until then lists hit the database)."""
    t0 = time.time()
    for i in range(1200):
        try:
            _, h = call("GET", LIST + f"&createdTo=2099-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}",
                        token)
            if h.get("X-List-Source") == "memory":
                return time.time() - t0
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what}: the list copy never answered (see build/bench-booking/logs)")


def ferret_ops():
    return stack_bench.ferret_ops(FERRET_METRICS)


def wait_quiet(stack, limit_s=120):
    """Waits until FerretDB's CPU use drops under 20 % of a core over a second: a
    restarted booking daemon loads its list copies and its bus sweeps the domain
    collections once at start, which would otherwise run during the measurement."""
    pid = stack.daemons["ferretdb"].proc.pid
    t0 = time.time()
    while time.time() - t0 < limit_s:
        before = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - before < 0.2:
            return time.time() - t0
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--output", default=os.path.join(ROOT, "docs", "performance.md"))
    ap.add_argument("--keep-data", action="store_true",
                    help="reuse the data a previous run left in build/bench-booking (no reload)")
    args = ap.parse_args()
    subprocess.run([os.path.join(ROOT, "scripts", "build"), "run"], check=True)
    var = os.path.join(ROOT, "build", "bench-booking")
    if not args.keep_data:
        shutil.rmtree(var, ignore_errors=True)
    s = Stack(var, HTTP, MONGO, REDIS, os.path.join(ROOT, "build", "run"),
              log_dir=os.path.join(var, "logs"),
              extra_env={"TRIPDESK_JWT_SECRET": SECRET, "TRIPDESK_DEV_MODE": "false",
                         "TRIPDESK_ADMIN_EMAIL": ADMIN[0], "TRIPDESK_ADMIN_PASSWORD": ADMIN[1],
                         "TRIPDESK_LOG_LEVEL": "warn"})
    stack_bench.ferret_metrics_on(s, FERRET_METRICS)
    ferret = s.daemons["ferretdb"]
    s.start_all()
    results = {}
    try:
        for _ in range(100):
            try:
                call("POST", "/api/auth/login", body={"email": ADMIN[0], "password": ADMIN[1]})
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise SystemExit("the bootstrapped admin cannot sign in (see build/bench-booking/logs)")
        t0 = time.time()
        if args.keep_data:
            results["demo"] = ["kept from an earlier run (--keep-data)"]
        else:
            demo = subprocess.run([os.path.join(ROOT, "scripts", "demo-data"), "--base-url", BASE,
                                   "--scale", str(args.scale), "--threads", "8"],
                                  env=dict(os.environ, TRIPDESK_ADMIN_EMAIL=ADMIN[0],
                                           TRIPDESK_ADMIN_PASSWORD=ADMIN[1]),
                                  capture_output=True, text=True)
            results["demo"] = demo.stdout.strip().splitlines()
        results["demo_s"] = time.time() - t0
        print("\n".join(results["demo"]))
        # Token after the demo data: the admin token is fresh enough (15 min).
        data, _ = call("POST", "/api/auth/login", body={"email": ADMIN[0], "password": ADMIN[1]})
        token = data["data"]["accessToken"]
        results["copy_load_s"] = wait_for_memory(token, "start")
        wait_quiet(s)
        customers = []
        for i in range(64):
            d, _ = call("POST", "/api/customers", token, {
                "firstName": "Bench", "lastName": f"Customer{i}", "phone": "+91 90000 %05d" % i})
            customers.append(d["data"]["_id"])
        total = call("GET", "/api/bookings?limit=1", token)[0]["pagination"]["totalDocs"]
        results["bookings_in_db"] = total
        d = args.duration
        call("GET", LIST, token)  # warm the cache
        _, h = call("GET", LIST, token)
        results["cache_state"] = h.get("X-Cache")
        results["ping"] = wrk("/api/bookings/ping", token, d)
        results["cached"] = wrk(LIST, token, d)
        for name in ("gateway", "booking"):  # the gateway answers hits itself
            s.daemons[name].env = dict(s.daemons[name].env, CACHE_ENABLED="false")
            s.stop(name)
            s.start(name)
        results["restart_load_s"] = wait_for_memory(token, "restart")
        results["restart_quiet_s"] = wait_quiet(s)
        _, h = call("GET", LIST + "&createdTo=2098-12-31", token)
        results["uncached_state"] = f"{h.get('X-Cache')}, answered from {h.get('X-List-Source')}"
        results["uncached"] = wrk(LIST, token, d)
        results["uncached_c8"] = wrk(LIST, token, d, connections=8)
        results["uncached_c1"] = wrk(LIST, token, d, connections=1)
        # last: its events keep the audit trail (analytics) busy for a while after
        ops0, fcpu0 = ferret_ops(), cpu_seconds(ferret.proc.pid)
        results["create"] = wrk("/api/bookings", token, d,
                                script=os.path.join(HERE, "create_booking.lua"),
                                env={"CUSTOMERS": ",".join(customers)})
        # what the creations cost FerretDB, their events' handling included
        wait_quiet(s)
        ops1, fcpu1 = ferret_ops(), cpu_seconds(ferret.proc.pid)
        results["create_ops"] = {k: ops1[k] - ops0.get(k, 0) for k in ops1
                                 if ops1[k] - ops0.get(k, 0) > 0}
        results["create_ferret_cpu_s"] = fcpu1 - fcpu0
    finally:
        s.stop_all()
    micro = subprocess.run([os.path.join(ROOT, "build", "run", "tests", "bench",
                                         "tripdesk-bench-listindex")],
                           capture_output=True, text=True)
    results["listindex"] = micro.stdout.strip()
    write(results, args)
    return 0


def met(p99):
    return "met" if (p99 or 1e9) < TARGETS["uncached_p99_ms"] else "missed"


def fmt(v):
    return "-" if v is None else (f"{v:.2f}" if v < 100 else f"{v:.0f}")


def ok_rps(x, seconds):
    """Successful (2xx) requests per second: wrk's own rate counts errors too."""
    return (x["requests"] - x["non2xx"]) / seconds


def write(r, args):
    d = args.duration
    ratio = ok_rps(r["cached"], d) / ok_rps(r["ping"], d)
    rows = [("trivial route `GET /api/bookings/ping`", r["ping"]),
            (f"cached list `GET {LIST}` ({r['cache_state']})", r["cached"]),
            (f"uncached list, CACHE_ENABLED=false ({r['uncached_state']})", r["uncached"]),
            ("the same uncached list, 8 connections", r["uncached_c8"]),
            ("the same uncached list, 1 connection", r["uncached_c1"]),
            ("create booking `POST /api/bookings` (conflict check on)", r["create"])]
    lines = ["## Booking service", "",
             f"Generated by `python3 tests/bench/run_booking_bench.py --scale {args.scale} "
             f"--duration {args.duration}` on "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; Release build, "
             "its own stack (FerretDB SQLite backend with tools/ferretdb/patches, Redis), "
             "wrk -t2 -c64 unless stated, one run per target on the same 2 shared cores.", "",
             (f"Demo data loaded through the API in {r['demo_s']:.0f} s: " if r["demo_s"] > 1
              else "Demo data: ") +
             "; ".join(x.replace('demo-data: ', '') for x in r["demo"]) +
             f". Bookings in the database during the runs: {r['bookings_in_db']}. The booking "
             f"daemon's list copies (bookings, leads, customers, itineraries) answered "
             f"{r['restart_load_s']:.1f} s after it was restarted for the uncached runs; these "
             f"began when FerretDB was idle again ({r['restart_quiet_s']:.0f} s later: the "
             "other copies' loads and the bus sweep at start).", "",
             "| Target | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|"]
    for name, x in rows:
        lines.append(f"| {name} | {ok_rps(x, args.duration):.0f} | {fmt(x['p50'])} | "
                     f"{fmt(x['p99'])} | {x['non2xx']} |")
    if r.get("listindex"):
        lines += ["", "The list copy alone (`tripdesk-bench-listindex`, tests/bench/listindex_bench.c, "
                  "no HTTP, nng or Redis): " + r["listindex"] + "."]
    if r["create"]["notes"]:
        lines += ["", "Booking creation answers: " + "; ".join(r["create"]["notes"]) + "."]
    created = r["create"]["requests"] - r["create"]["non2xx"]
    if r.get("create_ops") and created > 0:
        per = ", ".join(f"{k} {v / created:.2f}" for k, v in sorted(r["create_ops"].items())
                        if v / created >= 0.01)
        lines += ["", f"What one creation cost FerretDB (its Prometheus counters and its CPU time "
                  f"from the start of the run until it was idle again, so the events' relay "
                  f"and the audit trail included): {per} commands; "
                  f"{r['create_ferret_cpu_s'] * 1000 / created:.1f} ms of CPU."]
    lines += ["", "Targets (benchmark, not tests):", "",
              f"- cached list at least 70% of the trivial route: **{ratio:.0%}** "
              f"({'met' if ratio >= TARGETS['cached_ratio'] else 'missed'})",
              f"- uncached filtered list p99 under 20 ms: **{fmt(r['uncached']['p99'])} ms** at 64 "
              f"connections ({met(r['uncached']['p99'])}), **{fmt(r['uncached_c8']['p99'])} ms** "
              f"at 8 ({met(r['uncached_c8']['p99'])}), **{fmt(r['uncached_c1']['p99'])} ms** at 1 "
              f"({met(r['uncached_c1']['p99'])})",
              f"- creation at least 500/s with conflict checking: **{ok_rps(r['create'], d):.0f}/s** "
              f"({'met' if ok_rps(r['create'], d) >= TARGETS['create_rps'] else 'missed'})", "",
              "req/s counts only 2xx answers. A cached list is answered by the gateway itself "
              "(gateway/cache_hits.c: one Redis round trip, no hop to the booking daemon), while "
              "the trivial route goes through to the booking daemon. "
              "The uncached list is answered from the booking "
              "daemon's in-memory list copy (shared/src/listindex.c; X-List-Source: memory), "
              "because FerretDB 1.24's SQLite backend evaluates any filter but one on _id by "
              "decoding the whole collection; creation reads and writes only by _id (the "
              "customer, its slot document, the booking, the outbox). With 64 closed-loop "
              "connections on two shared cores, p99 is mostly queueing: it is reported at 8 and "
              "1 connections as well.", "",
              "Creation is bound by FerretDB, which runs at 100-150 % CPU meanwhile. Per "
              "creation it serves inserts only: the event into outbox_pending (prepared "
              "before the booking, sent once the booking is in), the customer's slot document "
              "for that destination (new, or a compare-and-set on a copy the daemon keeps), "
              "the booking, the relay's outbox insert and pending delete (batched) and the "
              "audit trail's entry in analytics (its cursor saved once per burst); the "
              "customer is read from the booking daemon's list copy. An update costs FerretDB "
              "about 1 ms of CPU, an insert about 0.4 ms (perf: decoding and encoding "
              "documents as JSON, SQLite's JSON functions, one transaction per write). Before "
              "the FerretDB patches, each lookup by _id scanned its collection: creation ran "
              "at 4/s on 400 bookings.", ""]
    section = "\n".join(lines) + "\n"
    text = open(args.output).read() if os.path.exists(args.output) else "# Performance\n\n"
    text = re.sub(r"## Booking service\n.*?(?=\n## |\Z)", "", text, flags=re.S).rstrip() + "\n\n"
    open(args.output, "w").write(text + section)
    print(section)


if __name__ == "__main__":
    sys.exit(main())
