"""The web UI when the gateway daemon itself stops: gateway/web/e2e/gateway-down.mjs
drives Debian's Chromium (playwright-core) and asks, step by step on its stdout, for
the gateway of this stack to be stopped and started again; it checks the connection
banner (instead of an endless "Loading…") and that Retry brings the page back.
Screenshots: gateway/web/e2e/screenshots/gateway-down-1280.png, gateway-back-1280.png."""
import os
import subprocess

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, BASE, ROOT, health, wait_for

# Each step's wait; the whole script's.
STEP_TIMEOUT_S = 120
SCRIPT_TIMEOUT_S = 300


def test_banner_while_the_gateway_is_down(stack):
    env = dict(os.environ, BASE_URL=BASE, E2E_ADMIN_EMAIL=ADMIN_EMAIL,
               E2E_ADMIN_PASSWORD=ADMIN_PASSWORD, E2E_GREP="")
    p = subprocess.Popen(["node", "e2e/gateway-down.mjs"],
                         cwd=os.path.join(ROOT, "gateway", "web"), env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=1)
    out, steps = [], []
    try:
        for line in p.stdout:
            out.append(line)
            if not line.startswith("E2E-STEP "):
                continue
            name = line.split()[1]
            steps.append(name)
            if name == "stop-gateway":
                stack.stop("gateway")
            elif name == "start-gateway":
                stack.start("gateway")
                wait_for(lambda: health()["status"] == "ok", 30, "stack healthy again")
            p.stdin.write("done\n")
            p.stdin.flush()
        rc = p.wait(SCRIPT_TIMEOUT_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        # Leave the stack whole whatever happened.
        if not stack.daemons["gateway"].alive():
            stack.start("gateway")
    text = "".join(out)
    print(text[-6000:])
    assert steps == ["stop-gateway", "start-gateway"], text[-3000:]
    assert rc == 0, text[-3000:]
    assert "e2e: 1 passed, 0 failed" in text, text[-3000:]
