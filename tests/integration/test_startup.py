"""A daemon whose start-up fails exits non-zero with a message saying what failed,
instead of running deaf or half-started. Each test starts one extra daemon next
to the stack, with the stack's own environment, and waits for it to exit."""
import os
import subprocess

from conftest import api, wait_for

START_TIMEOUT_S = 20
UNIX_SOCKET_PATH_MAX = 108  # sun_path: a longer ipc:// address cannot be dialled


def run_until_exit(stack, name, **env_overrides):
    """Runs the stack's daemon `name` once more; returns (exit status, its output)."""
    d = stack.daemons[name]
    env = dict(d.env, **env_overrides)
    proc = subprocess.run(d.argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=START_TIMEOUT_S, text=True,
                          errors="replace")
    return proc.returncode, proc.stdout


def assert_stack_unharmed():
    # an earlier test may have just restarted a dependency: give health time to settle
    wait_for(lambda: api("GET", "/api/health").json()["data"]["status"] == "ok", 10,
             "the stack still healthy")


def test_second_gateway_on_taken_nng_addresses_exits_nonzero_saying_so(stack):
    # its HTTP port is not reached: the nng listeners come first and are taken
    rc, out = run_until_exit(stack, "gateway")
    assert rc != 0, out
    assert "listen ipc://" in out and "Address in use" in out, out
    assert_stack_unharmed()


def test_service_that_cannot_subscribe_exits_nonzero_instead_of_running_deaf(stack, tmp_path):
    # analytics subscribes to every service: an ipc address too long to dial makes
    # its subscriptions fail at start-up (before, its subscriber thread gave up
    # silently and the daemon would have run without events)
    deep = tmp_path / ("d" * UNIX_SOCKET_PATH_MAX)
    os.makedirs(deep, exist_ok=True)
    rc, out = run_until_exit(stack, "analytics", TRIPDESK_IPC_DIR=str(deep))
    assert rc != 0, out
    assert "bus: cannot subscribe to" in out, out
    assert "start failed" in out, out
    assert not any(m in out for m in ("AddressSanitizer", "LeakSanitizer", "runtime error")), out
    assert_stack_unharmed()
