#!/usr/bin/env python3
"""Does the embedded FerretDB honour maxTimeMS? (docs/notes/stalls.md, request
deadlines.) Starts its own FerretDB (var/bin/ferretdb, SQLite, a temporary directory,
port 27398), writes 20,000 documents, then times a filter scan (find and count on a
non-_id field) without and with maxTimeMS=50. The services send maxTimeMS = the
request's time left (td_mongo_time_opts), so a request the gateway gave up on stops
its database work too. maxTimeMS bounds one command: a find whose first batch is
back in time answers, and its getMores run unbounded (a list page is one batch).

usage: python3 tests/bench/ferretdb_max_time.py [--docs 20000] [--max-time-ms 50]"""
import argparse
import os
import subprocess
import tempfile
import time

from pymongo import MongoClient
from pymongo.errors import ExecutionTimeout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = 27398


def timed(fn):
    t = time.monotonic()
    try:
        out = fn()
    except ExecutionTimeout:
        out = "MaxTimeMSExpired"
    return out, (time.monotonic() - t) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--max-time-ms", type=int, default=50)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        ferret = subprocess.Popen(
            [os.path.join(ROOT, "var/bin/ferretdb"), "--handler=sqlite",
             f"--sqlite-url=file:{d}/", f"--listen-addr=127.0.0.1:{PORT}", "--debug-addr=-",
             "--telemetry=disable", f"--state-dir={d}", "--log-level=error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            col = MongoClient(f"mongodb://127.0.0.1:{PORT}/",
                              serverSelectionTimeoutMS=10000).bench.docs
            for i in range(0, a.docs, 1000):
                col.insert_many([{"n": j, "s": "x" * 200, "k": j % 7}
                                 for j in range(i, min(i + 1000, a.docs))])
            ms = a.max_time_ms
            rows = [
                ("find {k: 3}", lambda: len(list(col.find({"k": 3})))),
                (f"find {{k: 3}} maxTimeMS {ms}",
                 lambda: len(list(col.find({"k": 3}).max_time_ms(ms)))),
                ("page: find {k: 3} sort n skip 1000 limit 20",
                 lambda: len(list(col.find({"k": 3}).sort("n", -1).skip(1000).limit(20)))),
                (f"page: find {{k: 3}} sort n skip 1000 limit 20 maxTimeMS {ms}",
                 lambda: len(list(col.find({"k": 3}).sort("n", -1).skip(1000).limit(20)
                                  .max_time_ms(ms)))),
                ("count {k: 3}", lambda: col.count_documents({"k": 3})),
                (f"count {{k: 3}} maxTimeMS {ms}",
                 lambda: col.count_documents({"k": 3}, maxTimeMS=ms)),
            ]
            print(f"| query on {a.docs} documents | answer | ms |\n|---|---|---|")
            for name, fn in rows:
                out, took = timed(fn)
                print(f"| {name} | {out} | {took:.0f} |")
        finally:
            ferret.terminate()
            ferret.wait()


if __name__ == "__main__":
    main()
