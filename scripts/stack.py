#!/usr/bin/env python3
"""Starts, supervises and stops a whole local TripDesk stack.

FerretDB (SQLite backend) and Redis first, then the registry, the five services and
the gateway. Used in two ways:

  * `scripts/run` runs `stack.py run`: foreground, the platform daemons' logs as
    readable lines on the terminal (FerretDB's and Redis's own output goes to
    var/log/ferretdb.log and var/log/redis.log), the URL and the first sign-in printed
    once /api/health says ok, a daemon that dies is restarted, Ctrl-C/SIGTERM stops
    everything cleanly.
  * the integration tests import Stack and drive it (stop/kill/start single daemons).
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# How long `stack.py run` waits for /api/health to say ok before printing the URL anyway.
HEALTH_WAIT_S = 60.0
SERVICES = ["auth", "booking", "payment", "notification", "analytics"]
DAEMONS = ["registry"] + SERVICES + ["gateway"]
COLORS = {"ferretdb": 90, "redis": 90, "registry": 36, "auth": 33, "booking": 32,
          "payment": 35, "notification": 34, "analytics": 96, "gateway": 97}


def _die_with_parent():
    """Child side of Popen: receive SIGTERM when the supervising process dies, so no
    daemon outlives its stack (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def wait_port(port, timeout=20.0, host="127.0.0.1"):
    """Waits until something accepts TCP connections on host:port."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def pretty(name, line, color):
    """One JSON log line as 'time name level message' (other lines as they are)."""
    text = line.rstrip("\n")
    try:
        rec = json.loads(text)
        t = rec.get("time", "")[11:23]
        lvl = rec.get("level", "")
        rid = f" [{rec['requestId']}]" if "requestId" in rec else ""
        text = f"{t} {lvl:5}{rid} {rec.get('msg', '')}"
    except (ValueError, AttributeError):
        pass
    if color:
        return f"\x1b[{COLORS.get(name, 0)}m{name:>12}\x1b[0m | {text}"
    return f"{name:>12} | {text}"


class Daemon:
    def __init__(self, name, argv, env, log_path=None):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc = None
        self.restarts = 0
        self.wanted = True

    def start(self, echo=None):
        self.wanted = True
        if self.log_path:
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, cwd=ROOT,
                                         preexec_fn=_die_with_parent)
            log.close()
        else:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=ROOT, text=True, bufsize=1, errors="replace",
                                         preexec_fn=_die_with_parent)
            threading.Thread(target=self._pump, args=(self.proc, echo), daemon=True).start()

    def _pump(self, proc, echo):
        for line in proc.stdout:
            echo(self.name, line)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout=15.0):
        self.wanted = False
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self):
        self.wanted = False
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class Stack:
    def __init__(self, var_dir, http_port, mongo_port, redis_port, build_dir,
                 log_dir=None, extra_env=None, persistent_redis=False, file_logs=None):
        """log_dir: every daemon writes <log_dir>/<name>.log (the tests); otherwise
        every daemon's output is echoed as readable lines, except the names in
        file_logs ({name: path}), which write to that file (FerretDB's and Redis's
        start-up noise under `stack.py run`)."""
        self.var_dir = os.path.abspath(var_dir)
        self.http_port, self.mongo_port, self.redis_port = http_port, mongo_port, redis_port
        self.build_dir = os.path.abspath(build_dir)
        self.log_dir = log_dir
        self.persistent_redis = persistent_redis
        self.ipc_dir = os.path.join(self.var_dir, "run")
        os.makedirs(self.ipc_dir, exist_ok=True)
        os.makedirs(os.path.join(self.var_dir, "ferretdb"), exist_ok=True)
        os.makedirs(os.path.join(self.var_dir, "redis"), exist_ok=True)
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "TRIPDESK_PORT": str(http_port),
            "TRIPDESK_IPC_DIR": self.ipc_dir,
            "MONGO_URI": f"mongodb://127.0.0.1:{mongo_port}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}",
            "TRIPDESK_WEB_ROOT": env.get("TRIPDESK_WEB_ROOT",
                                         os.path.join(ROOT, "gateway/web/dist")),
        })
        env.update(extra_env or {})
        self.env = env
        self.daemons = {}
        self.lock = threading.Lock()
        self.color = sys.stdout.isatty()
        file_logs = file_logs or {}
        for path in file_logs.values():
            os.makedirs(os.path.dirname(path), exist_ok=True)
        for name, argv in self._commands().items():
            log = os.path.join(log_dir, f"{name}.log") if log_dir else file_logs.get(name)
            self.daemons[name] = Daemon(name, argv, env, log)

    def _commands(self):
        ferret = os.path.join(ROOT, "var/bin/ferretdb")
        cmds = {
            "ferretdb": [ferret, "--handler=sqlite",
                         # WAL with synchronous=NORMAL: a commit survives a crash of
                         # any process, only an OS crash may lose the last ones
                         f"--sqlite-url=file:{self.var_dir}/ferretdb/?_pragma=synchronous(normal)",
                         f"--listen-addr=127.0.0.1:{self.mongo_port}",
                         "--debug-addr=-", "--telemetry=disable",
                         f"--state-dir={self.var_dir}/ferretdb", "--log-level=warn"],
            # appendonly: the job queue's data (docs/notes/jobs.md) survives a restart;
            # everysec: a crash of Redis may lose about the last second of writes
            "redis": ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                      "--dir", os.path.join(self.var_dir, "redis"), "--daemonize", "no",
                      "--loglevel", "warning", "--appendonly", "yes", "--appendfsync", "everysec"]
                     + ([] if self.persistent_redis else ["--save", ""]),
        }
        for d in ["registry"] + SERVICES:
            cmds[d] = [os.path.join(self.build_dir, "services", f"tripdesk-{d}")]
        cmds["gateway"] = [os.path.join(self.build_dir, "gateway", "tripdesk-gateway")]
        return cmds

    def echo(self, name, line):
        with self.lock:
            sys.stdout.write(pretty(name, line, self.color) + "\n")
            sys.stdout.flush()

    def start(self, name):
        self.daemons[name].start(self.echo)
        if name == "ferretdb":
            if not wait_port(self.mongo_port, 30):
                raise RuntimeError("FerretDB did not start")
        elif name == "redis":
            if not wait_port(self.redis_port, 10):
                raise RuntimeError("Redis did not start")
        elif name == "gateway":
            if not wait_port(self.http_port, 10):
                raise RuntimeError("the gateway did not start")

    def start_all(self):
        for name in ["ferretdb", "redis"] + DAEMONS:
            self.start(name)

    def stop(self, name):
        self.daemons[name].stop()

    def kill(self, name):
        self.daemons[name].kill()

    def stop_all(self):
        for name in reversed(["ferretdb", "redis"] + DAEMONS):
            self.daemons[name].stop()

    def supervise(self, stop_event):
        """Restarts daemons that die (with back-off) until stop_event is set."""
        backoff = {}
        while not stop_event.wait(0.5):
            for name, d in self.daemons.items():
                if d.wanted and not d.alive():
                    code = d.proc.returncode if d.proc else None
                    now = time.time()
                    delay = min(30, 2 ** min(d.restarts, 5) * 0.25)
                    if now < backoff.get(name, 0):
                        continue
                    self.echo("supervisor", f"{name} exited ({code}); restarting")
                    d.restarts += 1
                    backoff[name] = now + delay
                    try:
                        self.start(name)
                    except RuntimeError as e:
                        self.echo("supervisor", str(e))


def health(port, timeout=2.0):
    """The `data` of GET /api/health on the local gateway, or None when it does not
    answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health",
                                    timeout=timeout) as r:
            return json.load(r).get("data")
    except (OSError, ValueError):
        return None


def wait_healthy(port, stop_event, timeout=HEALTH_WAIT_S):
    """Waits until /api/health says ok; returns the last `data` seen (None if none)."""
    end = time.time() + timeout
    data = None
    while time.time() < end and not stop_event.is_set():
        data = health(port) or data
        if data and data.get("status") == "ok":
            return data
        stop_event.wait(0.5)
    return data


def not_up(data):
    """Names of the services a /api/health `data` does not show up."""
    if not data:
        return ["gateway"]
    return sorted(n for n, s in (data.get("services") or {}).items()
                  if s.get("status") != "up")


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        print("usage: stack.py run", file=sys.stderr)
        return 2
    port = int(os.environ.get("TRIPDESK_PORT", "8080"))
    var = os.path.join(ROOT, "var")
    logs = {n: os.path.join(var, "log", f"{n}.log") for n in ("ferretdb", "redis")}
    stack = Stack(var_dir=var, http_port=port, file_logs=logs,
                  mongo_port=int(os.environ.get("TRIPDESK_MONGO_PORT", "27017")),
                  redis_port=int(os.environ.get("TRIPDESK_REDIS_PORT", "6379")),
                  build_dir=os.path.join(ROOT, "build", "run"), persistent_redis=True)
    stop_event = threading.Event()

    def on_signal(signum, frame):
        stop_event.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start_all()
        # The first sign-in is the super_admin auth creates from these on its first
        # start against an empty database (scripts/run exports local defaults).
        data = wait_healthy(port, stop_event)
        if data and data.get("status") == "ok":
            stack.echo("supervisor", f"TripDesk is up: http://127.0.0.1:{port}")
        else:
            stack.echo("supervisor", f"TripDesk is at http://127.0.0.1:{port} but not "
                       f"healthy yet (not up: {', '.join(not_up(data))})")
        email = os.environ.get("TRIPDESK_ADMIN_EMAIL")
        password = os.environ.get("TRIPDESK_ADMIN_PASSWORD")
        if email and password:
            stack.echo("supervisor", f"first sign-in: {email} / {password}"
                       " (the super_admin made on the first start with an empty var/)")
        stack.echo("supervisor", "FerretDB and Redis write to "
                   f"{os.path.relpath(logs['ferretdb'], ROOT)} and "
                   f"{os.path.relpath(logs['redis'], ROOT)}; Ctrl-C stops")
        stack.supervise(stop_event)
    except RuntimeError as e:
        stack.echo("supervisor", f"start failed: {e}")
        stack.stop_all()
        return 1
    stack.echo("supervisor", "stopping")
    stack.stop_all()
    stack.echo("supervisor", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
