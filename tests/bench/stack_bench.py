"""What the benchmarks that drive a stack of their own through the gateway share: a
JSON call, a wrk run with a Lua script, FerretDB's command counters."""
import json
import os
import re
import subprocess
import urllib.request

from run_bench import parse_wrk


def call(base, method, path, token=None, body=None):
    """One JSON request; returns (body, headers). HTTP errors raise."""
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read()), dict(r.headers)


def wrk(base, path, token, seconds, script=None, env=None, connections=64):
    """wrk at `connections` for `seconds`; the parsed figures plus the script's
    "statuses:" / "first non-201:" lines in res["notes"]."""
    cmd = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
           "--timeout", "5s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    cmd.append(base + path)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                       env=dict(os.environ, **(env or {})))
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    res = parse_wrk(p.stdout)
    res["notes"] = [line for line in p.stdout.splitlines()
                    if line.startswith(("statuses:", "first non-201:"))]
    return res


def ferret_metrics_on(stack, port):
    """Has the stack's FerretDB serve its Prometheus metrics on port (before start)."""
    ferret = stack.daemons["ferretdb"]
    ferret.argv = [a if a != "--debug-addr=-" else f"--debug-addr=127.0.0.1:{port}"
                   for a in ferret.argv]


def ferret_ops(port):
    """FerretDB's commands served so far, by command (from its Prometheus metrics)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    ops = {}
    for m in re.finditer(r'^ferretdb_client_requests_total\{([^}]*)\} (\S+)$', text, re.M):
        cmd = re.search(r'command="([^"]*)"', m.group(1))
        if cmd:
            ops[cmd.group(1)] = ops.get(cmd.group(1), 0) + float(m.group(2))
    return ops


def ops_per(before, after, n):
    """'insert 3.69, update 0.03' : the commands between two ferret_ops() per unit."""
    if n <= 0:
        return "n/a"
    d = {k: (after.get(k, 0) - before.get(k, 0)) / n for k in after}
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(d.items()) if v >= 0.005)
