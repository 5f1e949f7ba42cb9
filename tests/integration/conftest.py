"""The integration tests' own TripDesk stack: FerretDB, Redis and every daemon
(built with ASan + UBSan under build/asan) on ports that do not collide with
scripts/run. Tests talk to the gateway over HTTP only; some stop, kill or pause
single daemons to test failure paths and must leave the stack whole again."""
import contextlib
import glob
import os
import shutil
import sys
import time
import uuid

import jwt
import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from stack import Stack  # noqa: E402

HTTP_PORT = int(os.environ.get("TRIPDESK_TEST_HTTP_PORT", "18080"))
MONGO_PORT = int(os.environ.get("TRIPDESK_TEST_MONGO_PORT", "27018"))
REDIS_PORT = int(os.environ.get("TRIPDESK_TEST_REDIS_PORT", "6380"))
BASE = f"http://127.0.0.1:{HTTP_PORT}"
# TRIPDESK_LIST_COPIES for the stack's booking daemons (scripts/test runs the list
# suites a second time with "off"); where a list answers from when copies are used.
LIST_COPIES = os.environ.get("TRIPDESK_TEST_LIST_COPIES", "auto")
COPY_SOURCE = "database" if LIST_COPIES == "off" else "memory"
JWT_SECRET = "integration-test-secret-" + "x" * 24
ISSUER = "tripdesk"
REQUEST_TIMEOUT_MS = 8000
MAX_BODY = 65536
REGISTER_IP_MAX = 100000  # registrations per IP per 15 min: every test registers from 127.0.0.1
ADMIN_EMAIL = "root@test.local"
ADMIN_PASSWORD = "Sup3r-Secret-Pass!"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@pytest.fixture(scope="session")
def stack():
    var = os.path.join(ROOT, "build", f"itest-{HTTP_PORT}")
    shutil.rmtree(var, ignore_errors=True)
    logs = os.path.join(var, "logs")
    s = Stack(var_dir=var, http_port=HTTP_PORT, mongo_port=MONGO_PORT, redis_port=REDIS_PORT,
              build_dir=os.environ.get("TRIPDESK_TEST_BUILD_DIR", os.path.join(ROOT, "build", "asan")),
              log_dir=logs,
              extra_env={
                  "TRIPDESK_JWT_SECRET": JWT_SECRET,
                  "TRIPDESK_DEV_MODE": "false",
                  "TRIPDESK_REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS),
                  # the crash test waits for the periodic sweep (10 min by default)
                  "TRIPDESK_BUS_SWEEP_MS": "5000",
                  "TRIPDESK_LIST_COPIES": LIST_COPIES,
                  "TRIPDESK_MAX_BODY_BYTES": str(MAX_BODY),
                  "TRIPDESK_REGISTER_IP_MAX": str(REGISTER_IP_MAX),
                  "TRIPDESK_CORS_ORIGINS": "http://localhost:5173",
                  "TRIPDESK_ADMIN_EMAIL": ADMIN_EMAIL,
                  "TRIPDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
                  "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                  "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
              })
    s.start_all()
    try:
        wait_for(lambda: health()["status"] == "ok", 20, "stack healthy")
        yield s
    finally:
        s.stop_all()
    reports = []
    for path in glob.glob(os.path.join(logs, "*.log")):
        with open(path, errors="replace") as f:
            text = f.read()
        if any(m in text for m in SANITIZER_MARKERS):
            reports.append(os.path.basename(path))
    assert not reports, f"sanitizer reports in daemon logs: {reports} (see {logs})"


LOG_DIR = os.path.join(ROOT, "build", f"itest-{HTTP_PORT}", "logs")
FAILURE_LOG_LINES = 30  # warnings and errors of the daemons shown with a failed test


def _log_sizes():
    return {p: os.path.getsize(p) for p in glob.glob(os.path.join(LOG_DIR, "*.log"))}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    item._log_sizes = _log_sizes()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the daemons' warnings and errors logged while
    it ran (the logs themselves stay in the build directory, which CI does not keep)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or not hasattr(item, "_log_sizes"):
        return
    lines = []
    for path in sorted(glob.glob(os.path.join(LOG_DIR, "*.log"))):
        with open(path, errors="replace") as f:
            f.seek(item._log_sizes.get(path, 0))
            lines += [ln.rstrip()[:300] for ln in f
                      if '"level":"warn"' in ln or '"level":"error"' in ln]
    lines.sort()  # each line begins with its time
    if lines:
        report.sections.append(("daemon warnings while it ran",
                                "\n".join(lines[-FAILURE_LOG_LINES:])))


@contextlib.contextmanager
def second_booking_daemon(stack, name):
    """A second tripdesk-booking next to the stack's own, until the block ends."""
    from stack import Daemon
    d = stack.daemons["booking"]
    extra = Daemon(name, d.argv, d.env, d.log_path.replace("booking", name))
    extra.start()
    try:
        wait_for(lambda: api("GET", "/api/health").json()["data"]["services"]["booking"]
                 ["instances"] == 2, 10, "two booking instances")
        yield extra
    finally:
        extra.stop()


def wait_for(pred, timeout, what):
    """Polls pred until it is truthy; fails the test after timeout seconds."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = pred()
            if last:
                return last
        except (requests.RequestException, KeyError, ValueError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def health():
    """/api/health as a signed-in caller (with the services' pids)."""
    return requests.get(BASE + "/api/health", timeout=5,
                        headers={"Authorization": f"Bearer {make_token()}"}).json()["data"]


def make_token(role="admin", sub=None, exp_in=3600, iss=ISSUER, secret=JWT_SECRET,
               alg="HS256", **extra):
    now = int(time.time())
    claims = {"sub": sub or uuid.uuid4().hex[:24], "role": role, "iss": iss, "iat": now,
              "exp": now + exp_in, "jti": uuid.uuid4().hex}
    claims.update(extra)
    return jwt.encode(claims, secret, algorithm=alg)


def api(method, path, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, BASE + path, headers=headers, timeout=10, **kw)


@pytest.fixture
def admin_token():
    return make_token("admin")


def redis_cli(*args):
    """Runs a command against the test stack's Redis (test hygiene only)."""
    import subprocess
    return subprocess.run(["redis-cli", "-p", str(REDIS_PORT), *args], capture_output=True,
                          text=True, timeout=5).stdout.strip()


def login(email, password):
    return api("POST", "/api/auth/login", json={"email": email, "password": password})


@pytest.fixture(scope="session")
def root_session(stack):
    """The bootstrapped super_admin's session."""
    r = wait_for(lambda: (x := login(ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200 and x, 20,
                 "super_admin sign-in")
    return r.json()["data"]


@pytest.fixture
def root_token(root_session):
    return root_session["accessToken"]


def unique_phone():
    """A phone no other test uses: customers with the same phone are duplicates
    (409 POSSIBLE_DUPLICATE)."""
    return "+91 9%09d" % (uuid.uuid4().int % 10**9)


def unique_email(prefix="c"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def new_agent(root_token, role="agent", approve=True, password="Str0ng-Passw0rd!"):
    """Registers an agent, approves it and gives it a role; returns (agent, token)."""
    email = f"agent-{uuid.uuid4().hex[:10]}@example.com"
    r = api("POST", "/api/auth/register", json={
        "email": email, "password": password, "firstName": "Test", "lastName": "Agent",
        "phone": "+91 98765 43210", "agencyName": "Test Travels"})
    assert r.status_code == 201, r.text
    agent = r.json()["data"]
    if not approve:
        return agent, None
    r = api("PATCH", f"/api/agents/{agent['_id']}/approve", root_token)
    assert r.status_code == 200, r.text
    if role != "agent":
        r = api("PATCH", f"/api/agents/{agent['_id']}/role", root_token, json={"role": role})
        assert r.status_code == 200, r.text
    redis_cli("DEL", "auth:fail:ip:127.0.0.1")
    r = login(email, password)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    data["agent"]["password"] = password
    return data["agent"], data["accessToken"]
