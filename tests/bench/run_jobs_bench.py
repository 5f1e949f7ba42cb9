#!/usr/bin/env python3
"""Job queue benchmark (issue 13, item 5): enqueue + process of N no-op jobs with K
workers through TripDesk's job queue (shared/src/jobs.c, driven by the C program
tripdesk-bench-jobs) and through BullMQ 5 (tests/bench/jobs_bench_bullmq.mjs), on the
same Redis in the same run: jobs/s from the first enqueue to the last completion, and
the end-to-end latency (enqueue to the handler's start) p50/p99. The target is TripDesk
at 2x BullMQ's throughput or more; nothing is asserted (exit status 0 whatever the
figures; 1 only when a side could not run).

  * builds tripdesk-bench-jobs in build/run (Release) unless --no-build,
  * installs BullMQ 5 with npm into var/bench-node (never into gateway/web) unless it
    is there,
  * starts its own redis-server on port 6475 (--port) under build/bench-jobs/, with
    appendonly yes / appendfsync everysec as scripts/run's Redis,
  * runs the two sides alternately, --rounds times each, FLUSHALL before each run:
    first unpaced (the producers enqueue as fast as they can: throughput, and the
    latency under the backlog that builds up), then paced at --rate jobs/s in all
    (a load both sustain: the latency of a queue that keeps up),
  * prints a markdown section (the medians, every run, the ratio) for
    docs/notes/jobs.md, or writes it to --output.

usage: python3 tests/bench/run_jobs_bench.py [--jobs 10000] [--workers 8]
       [--producers 4] [--rounds 2] [--rate 400] [--port 6475] [--no-build]
       [--output PATH]"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_DIR = os.path.join(ROOT, "var", "bench-node")
BULLMQ = "bullmq@5"
TARGET_RATIO = 2.0


def wait_port(port, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def build():
    subprocess.run(["cmake", "-S", ROOT, "-B", os.path.join(ROOT, "build", "run"),
                    "-DCMAKE_BUILD_TYPE=Release", "-DTRIPDESK_TESTS=ON"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", os.path.join(ROOT, "build", "run"), "-j",
                    str(os.cpu_count() or 2), "--target", "tripdesk-bench-jobs"], check=True,
                   stdout=subprocess.DEVNULL)


def install_bullmq():
    if os.path.exists(os.path.join(NODE_DIR, "node_modules", "bullmq", "package.json")):
        return
    os.makedirs(NODE_DIR, exist_ok=True)
    pkg = os.path.join(NODE_DIR, "package.json")
    if not os.path.exists(pkg):
        with open(pkg, "w") as f:
            f.write('{"name":"tripdesk-bench-node","private":true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", BULLMQ], cwd=NODE_DIR,
                   check=True)


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=30).stdout.strip()


def run_side(impl, port, n, k, p, rate):
    if impl == "tripdesk":
        argv = [os.path.join(ROOT, "build", "run", "tests", "bench", "tripdesk-bench-jobs"),
                str(port), str(n), str(k), str(p), str(rate)]
    else:
        argv = ["node", os.path.join(HERE, "jobs_bench_bullmq.mjs"),
                os.path.join(NODE_DIR, "node_modules"), str(port), str(n), str(k), str(p),
                str(rate)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    line = next((l for l in reversed(out.stdout.splitlines()) if l.startswith("{")), None)
    if out.returncode != 0 or line is None:
        sys.stderr.write(f"{impl} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}\n")
        return None
    return json.loads(line)


def report(args, runs, env):
    def med(impl, key, paced=False):
        vals = [r[key] for r in runs if r["impl"] == impl and (r.get("rate", 0) > 0) == paced]
        return statistics.median(vals) if vals else float("nan")
    ours, theirs = med("tripdesk", "jobs_per_s"), med("bullmq", "jobs_per_s")
    ratio = ours / theirs if theirs else float("nan")
    version = next((r.get("version") for r in runs if r["impl"] == "bullmq"), "?")
    lines = [
        "## Benchmark: TripDesk's queue against BullMQ",
        "",
        f"`python3 tests/bench/run_jobs_bench.py --jobs {args.jobs} --workers {args.workers} "
        f"--producers {args.producers} --rounds {args.rounds} --rate {args.rate}`, "
        f"{time.strftime('%Y-%m-%d')}: {args.jobs} no-op jobs, {args.producers} producers "
        f"enqueueing one job per call while {args.workers} workers process them, on one "
        f"Redis ({env['redis']}, appendonly everysec); BullMQ {version} on Node "
        f"{env['node']}; {env['cpus']} CPUs. The machine is shared and noisy (2 cores, other "
        "builds and tests running at the same time): the figures are indicative, the ratio "
        "more than the absolutes.",
        "",
        "| | jobs/s, unpaced (median) | latency p50 / p99, unpaced | "
        f"latency p50 / p99 at {args.rate} jobs/s |",
        "|---|---|---|---|",
        f"| TripDesk (shared/src/jobs.c) | {ours:.0f} | {med('tripdesk', 'p50_ms'):.0f} / "
        f"{med('tripdesk', 'p99_ms'):.0f} ms | {med('tripdesk', 'p50_ms', True):.0f} / "
        f"{med('tripdesk', 'p99_ms', True):.0f} ms |",
        f"| BullMQ {version} | {theirs:.0f} | {med('bullmq', 'p50_ms'):.0f} / "
        f"{med('bullmq', 'p99_ms'):.0f} ms | {med('bullmq', 'p50_ms', True):.0f} / "
        f"{med('bullmq', 'p99_ms', True):.0f} ms |",
        "",
        f"Throughput ratio TripDesk / BullMQ: **{ratio:.2f}x** (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}). Latency: from the enqueue to the "
        "start of the handler. Unpaced, it is the depth of the backlog the producers build "
        "up when they enqueue faster than the workers process (it grows with the "
        "throughput of the enqueue); paced, that of a queue keeping up.",
        "",
        "Every run:",
        "",
        "| run | impl | rate | jobs/s | seconds | enqueue s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(f"| {i} | {r['impl']} | {r.get('rate') or 'unpaced'} | "
                     f"{r['jobs_per_s']:.0f} | {r['seconds']} | {r['enqueue_seconds']} | "
                     f"{r['p50_ms']} | {r['p99_ms']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--producers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--port", type=int, default=6475)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--output")
    args = ap.parse_args()
    if args.jobs % args.producers:
        ap.error("--jobs must be a multiple of --producers")
    if not args.no_build:
        build()
    install_bullmq()
    var = os.path.join(ROOT, "build", "bench-jobs")
    shutil.rmtree(var, ignore_errors=True)
    os.makedirs(os.path.join(var, "redis"))
    with open(os.path.join(var, "redis.log"), "w") as log:
        redis = subprocess.Popen(["redis-server", "--port", str(args.port), "--bind", "127.0.0.1",
                                  "--dir", os.path.join(var, "redis"), "--save", "",
                                  "--appendonly", "yes", "--appendfsync", "everysec",
                                  "--daemonize", "no"], stdout=log, stderr=log)
    runs, failed = [], False
    try:
        if not wait_port(args.port, 10):
            sys.exit("redis-server did not start")
        env = {"redis": redis_cli(args.port, "INFO", "server").split("redis_version:")[1]
               .split()[0],
               "node": subprocess.run(["node", "--version"], capture_output=True,
                                      text=True).stdout.strip(),
               "cpus": os.cpu_count()}
        paced_jobs = min(args.jobs, args.rate * 10 // args.producers * args.producers)
        for rate, n in ((0, args.jobs), (args.rate, paced_jobs)):
            for _ in range(args.rounds):
                for impl in ("tripdesk", "bullmq"):
                    redis_cli(args.port, "FLUSHALL")
                    r = run_side(impl, args.port, n, args.workers, args.producers, rate)
                    if r is None:
                        failed = True
                        continue
                    print(json.dumps(r), flush=True)
                    runs.append(r)
    finally:
        redis.terminate()
        redis.wait()
    text = report(args, runs, env)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
