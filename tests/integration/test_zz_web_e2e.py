"""The web UI end to end: gateway/web/e2e drives Debian's Chromium (playwright-core)
against this stack. Runs last (file name) because it adds agents and history that
earlier tests might count. Its JUnit report goes to build/reports/web-e2e.xml."""
import os
import subprocess

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, BASE, ROOT


def test_web_ui_end_to_end(stack):
    os.makedirs(os.path.join(ROOT, "build", "reports"), exist_ok=True)
    env = dict(os.environ, BASE_URL=BASE, E2E_ADMIN_EMAIL=ADMIN_EMAIL,
               E2E_ADMIN_PASSWORD=ADMIN_PASSWORD,
               E2E_JUNIT=os.path.join(ROOT, "build", "reports", "web-e2e.xml"))
    r = subprocess.run(["node", "e2e/run.mjs"], cwd=os.path.join(ROOT, "gateway", "web"),
                       env=env, capture_output=True, text=True, timeout=900)
    print(r.stdout[-8000:], r.stderr[-2000:])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
