#!/usr/bin/env python3
"""Payment service benchmark (issue 12, item 9): payment creation through the gateway
with the duplicate and overpayment rules on, and Idempotency-Key replays.

  * BOOKINGS bookings (total 10,000,000 INR each, so no payment of the run overpays)
    are created through the API and awaited in the payment service (it learns them
    from booking events),
  * the booking service's trivial route for reference,
  * POST /api/payments, every request a new payment (amounts unique: the duplicate
    rule runs and never matches; the balance's compare-and-set and the duplicate slot
    are written every time),
  * POST /api/payments with 20 Idempotency-Keys reused (replays of stored answers),

in one run on one Release stack of its own (ports 29180/27129/6429), wrk at 64
connections. Prints a markdown section for docs/performance.md. The data is the
bench's own, not the demo data.

usage: python3 tests/bench/run_payment_bench.py [--bookings 200] [--duration 8]"""
import argparse
import datetime
import re
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import stack_bench  # noqa: E402
from run_bench import cpu_seconds  # noqa: E402
from stack import Stack  # noqa: E402

HTTP, MONGO, REDIS = 29180, 27129, 6429
FERRET_METRICS = 28129  # FerretDB's Prometheus metrics: the commands per payment
BASE = f"http://127.0.0.1:{HTTP}"
SECRET = "payment-bench-secret-" + "p" * 32
ADMIN = ("payperf@tripdesk.example", "Bench-Admin-2026!")
TARGET_RPS = 500


def call(method, path, token=None, body=None):
    return stack_bench.call(BASE, method, path, token, body)


def wrk(path, token, seconds, script=None, env=None, connections=64):
    return stack_bench.wrk(BASE, path, token, seconds, script, env, connections)


def created(x):
    """The 201s wrk's script counted."""
    for n in x["notes"]:
        m = re.search(r"201=(\d+)", n)
        if m:
            return int(m.group(1))
    return 0


def known(token, booking_id):
    try:
        call("GET", f"/api/payments/booking/{booking_id}/summary", token)
        return True
    except urllib.error.HTTPError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bookings", type=int, default=200)
    ap.add_argument("--duration", type=int, default=8)
    args = ap.parse_args()
    subprocess.run([os.path.join(ROOT, "scripts", "build"), "run"], check=True)
    var = os.path.join(ROOT, "build", "bench-payment")
    shutil.rmtree(var, ignore_errors=True)
    s = Stack(var, HTTP, MONGO, REDIS, os.path.join(ROOT, "build", "run"),
              log_dir=os.path.join(var, "logs"),
              extra_env={"TRIPDESK_JWT_SECRET": SECRET, "TRIPDESK_DEV_MODE": "false",
                         "TRIPDESK_ADMIN_EMAIL": ADMIN[0], "TRIPDESK_ADMIN_PASSWORD": ADMIN[1],
                         "TRIPDESK_LOG_LEVEL": "warn"})
    stack_bench.ferret_metrics_on(s, FERRET_METRICS)
    s.start_all()
    r = {}
    try:
        for _ in range(100):
            try:
                data, _ = call("POST", "/api/auth/login",
                               body={"email": ADMIN[0], "password": ADMIN[1]})
                break
            except Exception:
                time.sleep(0.2)
        else:
            raise SystemExit("the bootstrapped admin cannot sign in (see build/bench-payment/logs)")
        token = data["data"]["accessToken"]
        bookings = []
        for i in range(args.bookings):
            c, _ = call("POST", "/api/customers", token, {
                "firstName": "Pay", "lastName": f"Bench{i}", "phone": "+91 91000 %05d" % i,
                "email": f"paybench{i}@example.com"})
            b, _ = call("POST", "/api/bookings", token, {
                "customer": c["data"]["_id"],
                "tripDetails": {"title": "Bench trip", "destination": f"PayBench{i}",
                                "startDate": "2028-01-10", "endDate": "2028-01-15",
                                "tripType": "leisure", "travellers": {"adults": 2}},
                "pricing": {"totalAmount": 10000000, "currency": "INR"}})
            bookings.append(b["data"]["_id"])
        t0 = time.time()
        while not known(token, bookings[-1]):
            if time.time() - t0 > 60:
                raise SystemExit("the payment service never learnt the bookings")
            time.sleep(0.2)
        r["learnt_s"] = time.time() - t0
        d = args.duration
        env = {"BOOKINGS": ",".join(bookings)}
        r["ping"] = wrk("/api/payments/ping", token, d)
        pids = {n: s.daemons[n].proc.pid for n in ("ferretdb", "payment", "booking", "gateway")}
        ops0, cpu0 = stack_bench.ferret_ops(FERRET_METRICS), {n: cpu_seconds(p) for n, p in
                                                             pids.items()}
        r["create"] = wrk("/api/payments", token, d, os.path.join(HERE, "create_payment.lua"),
                          dict(env, MODE="new"))
        time.sleep(2)  # the relay's and the consumers' share of the payments made
        n = created(r["create"])
        r["ops"] = stack_bench.ops_per(ops0, stack_bench.ferret_ops(FERRET_METRICS), n)
        r["cpu"] = ", ".join(f"{k} {(cpu_seconds(p) - cpu0[k]) * 1000 / max(n, 1):.2f}"
                             for k, p in pids.items())
        r["replay"] = wrk("/api/payments", token, d, os.path.join(HERE, "create_payment.lua"),
                          dict(env, MODE="replay"))
    finally:
        s.stop_all()
    ok = lambda x: (x["requests"] - x["non2xx"]) / d  # noqa: E731
    rows = [("trivial route `GET /api/payments/ping`", r["ping"]),
            ("create payment `POST /api/payments` (duplicate and overpayment rules on)",
             r["create"]),
            ("the same with 20 Idempotency-Keys reused (stored answers replayed)", r["replay"])]
    out = ["## Payment service", "",
           f"Generated by `python3 tests/bench/run_payment_bench.py --bookings {args.bookings} "
           f"--duration {d}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} "
           "UTC; Release build, one stack of its own, wrk at 64 connections, one run on a "
           "shared 2-core machine (compare the rows with each other, not across runs). "
           f"{args.bookings} bookings of its own (not the demo data); the payment service "
           f"knew them {r['learnt_s']:.1f} s after the last was created.", "",
           "| request | 2xx/s | p50 ms | p99 ms | answers |", "|---|---|---|---|---|"]
    for name, x in rows:
        notes = "; ".join(n for n in x["notes"] if n.startswith("statuses:")) or \
            f"{x['non2xx']} non-2xx"
        out.append(f"| {name} | {ok(x):.0f} | {x['p50']:.1f} | {x['p99']:.1f} | {notes} |")
    out += ["", f"What one payment cost (from before the creation run until 2 s after it, so "
            f"the relay and the consumers included): FerretDB commands {r['ops']}; CPU ms "
            f"{r['cpu']}."]
    out += ["", f"Target: at least {TARGET_RPS} payments/s with the duplicate rules on: "
            f"{'met' if ok(r['create']) >= TARGET_RPS else 'missed'} "
            f"({ok(r['create']) / ok(r['ping']):.2f} of the trivial route's rate)."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
