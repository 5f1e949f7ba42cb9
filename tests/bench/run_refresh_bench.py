#!/usr/bin/env python3
"""Refresh-token benchmark: what a reuse (a used refresh token presented again, which
revokes its family) and a burst of concurrent refreshes of one token cost once the
refresh_tokens collection is large.

  * --tokens filler refresh tokens (other agents' families, 7-day sessions) are written
    straight into tripdesk_auth.refresh_tokens with pymongo,
  * the stack is started from --build-dir (two runs with two builds compare them),
  * then, --rounds times: a sign-in, one refresh, and the first token again (a reuse:
    timed alone), and a sign-in whose token is refreshed by --clients clients released
    together (the slowest answer and the status counts are recorded).

A reuse used to revoke the family with an update by familyId, which FerretDB's SQLite
backend answers by decoding the whole collection while it holds the collection's write
lock (patch 0004), so every sign-in and refresh waited behind it; it now walks the
family's chain by _id (services/auth/tokens.c).

Its own stack under build/bench-refresh/ on ports 18150/27150/6450.

usage: python3 tests/bench/run_refresh_bench.py [--build-dir build/run] [--tokens 20000]
       [--rounds 5] [--clients 20]"""
import argparse
import datetime
import hashlib
import json
import os
import secrets
import shutil
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from stack import DAEMONS, Stack  # noqa: E402

HTTP, MONGO, REDIS = 18150, 27150, 6450
BASE = f"http://127.0.0.1:{HTTP}"
SECRET = "refresh-bench-secret-" + "r" * 40
ADMIN = ("refresh-perf@tripdesk.example", "Bench-Admin-2026!")


def post(path, body):
    """(status, JSON body, seconds)."""
    req = urllib.request.Request(BASE + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read()), time.perf_counter() - t0
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), time.perf_counter() - t0


def sign_in():
    for _ in range(200):
        try:
            code, d, _ = post("/api/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
            if code == 200:
                return d["data"]
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the bootstrapped admin cannot sign in (see build/bench-refresh/logs)")


def fill(n):
    from bson import ObjectId
    from pymongo import MongoClient
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO}", serverSelectionTimeoutMS=10000)
    coll = client["tripdesk_auth"]["refresh_tokens"]
    now = datetime.datetime.now(datetime.timezone.utc)
    docs = []
    for i in range(n):
        docs.append({"_id": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                     "agentId": ObjectId(), "familyId": str(ObjectId()), "tokenVersion": 0,
                     "used": i % 4 != 0, "revoked": False, "accessJti": str(ObjectId()),
                     "accessExpiresAt": now, "expiresAt": now + datetime.timedelta(days=7),
                     "createdAt": now, "ip": "127.0.0.1", "userAgent": "bench"})
        if len(docs) == 1000:
            coll.insert_many(docs)
            docs = []
    if docs:
        coll.insert_many(docs)
    client.close()


def burst(token, clients):
    out, gate = [], threading.Barrier(clients)

    def one():
        gate.wait()
        code, _, s = post("/api/auth/refresh", {"refreshToken": token})
        out.append((code, s))
    ts = [threading.Thread(target=one) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "run"))
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    var = os.path.join(ROOT, "build", "bench-refresh")
    shutil.rmtree(var, ignore_errors=True)
    s = Stack(var, HTTP, MONGO, REDIS, os.path.abspath(args.build_dir),
              log_dir=os.path.join(var, "logs"),
              extra_env={"TRIPDESK_JWT_SECRET": SECRET, "TRIPDESK_DEV_MODE": "false",
                         "TRIPDESK_ADMIN_EMAIL": ADMIN[0], "TRIPDESK_ADMIN_PASSWORD": ADMIN[1],
                         "TRIPDESK_LOG_LEVEL": "info"})
    s.start("ferretdb")
    s.start("redis")
    reuse, slowest, codes, plain, reuse_codes = [], [], {}, {}, {}
    try:
        t0 = time.time()
        fill(args.tokens)
        print(f"{args.tokens} filler tokens written in {time.time() - t0:.1f} s", flush=True)
        for name in DAEMONS:
            s.start(name)
        sign_in()
        for _ in range(args.rounds):
            first = sign_in()
            code, _, _ = post("/api/auth/refresh", {"refreshToken": first["refreshToken"]})
            plain[code] = plain.get(code, 0) + 1
            code, _, sec = post("/api/auth/refresh", {"refreshToken": first["refreshToken"]})
            reuse.append(sec * 1000)
            reuse_codes[code] = reuse_codes.get(code, 0) + 1
            time.sleep(2)  # whatever FerretDB still runs for the reuse ends first
            answers = burst(sign_in()["refreshToken"], args.clients)
            slowest.append(max(sec for _, sec in answers) * 1000)
            for code, _ in answers:
                codes[code] = codes.get(code, 0) + 1
    finally:
        s.stop_all()
    print(f"build: {args.build_dir}; {args.tokens} other tokens; {args.rounds} rounds")
    print(f"refresh after sign-in: statuses {plain}")
    print(f"reuse (family revoked), ms: median {statistics.median(reuse):.1f}, "
          f"max {max(reuse):.1f}; statuses {reuse_codes} (401 expected)")
    print(f"{args.clients} refreshes of one token at once, slowest answer ms: median "
          f"{statistics.median(slowest):.1f}, max {max(slowest):.1f}; statuses {codes}")


if __name__ == "__main__":
    main()
