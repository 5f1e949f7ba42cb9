"""The jobs API (/api/jobs, analytics): admins only (401 without a token, 403 for a
non-admin), bad queue or state 400 naming the field, an unknown job or schedule 404,
a job enqueued directly on a queue listed, read, cancelled (and not twice: 409)."""
import json
import time
import uuid

import pytest

from conftest import api, make_token, redis_cli


@pytest.fixture(autouse=True)
def _stack(stack):
    return stack


def test_no_token_is_401():
    assert api("GET", "/api/jobs/queues").status_code == 401
    assert api("GET", "/api/jobs/schedules").status_code == 401


def test_a_non_admin_is_403():
    tok = make_token("senior_agent")
    for method, path in (("GET", "/api/jobs/queues"), ("GET", "/api/jobs?queue=a&state=dead"),
                         ("GET", "/api/jobs/schedules"),
                         ("POST", "/api/jobs/schedules/booking-reminder/run"),
                         ("POST", "/api/jobs/a/b/retry")):
        r = api(method, path, tok)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "FORBIDDEN"


def test_bad_queue_or_state_is_400_naming_the_field(admin_token):
    for query, field in (("state=dead", "queue"), ("queue=Bad%20Q&state=dead", "queue"),
                         ("queue=x", "state"), ("queue=x&state=sleeping", "state")):
        r = api("GET", "/api/jobs?" + query, admin_token)
        assert r.status_code == 400, (query, r.text)
        err = r.json()["error"]
        assert err["code"] == "VALIDATION_ERROR"
        assert field in json.dumps(err["details"]), (query, err)


def test_unknown_job_and_schedule_are_404(admin_token):
    r = api("GET", "/api/jobs/no-such-queue/nojob", admin_token)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = api("POST", "/api/jobs/no-such-queue/nojob/retry", admin_token)
    assert r.status_code == 404
    r = api("POST", "/api/jobs/schedules/no-such-schedule/run", admin_token)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def enqueue_raw(queue, job_id):
    """A waiting job written the way jobs.c's enqueue script writes one (test set-up:
    no daemon has a worker on this queue)."""
    now = str(int(time.time() * 1000))
    redis_cli("HSET", f"td:job:{queue}:{job_id}", "id", job_id, "queue", queue,
              "state", "waiting", "payload", "{}", "attempts", "0", "max_attempts", "3",
              "backoff", "1000", "priority", "0", "order", "1", "created", now)
    redis_cli("ZADD", f"td:jobs:{queue}:waiting", "1", job_id)
    redis_cli("SADD", "td:jobs:queues", queue)


def test_a_waiting_job_is_listed_read_cancelled_once_and_not_retried(admin_token):
    queue, job_id = "test-" + uuid.uuid4().hex[:8], "j-" + uuid.uuid4().hex[:8]
    enqueue_raw(queue, job_id)
    r = api("GET", "/api/jobs/queues", admin_token)
    assert r.status_code == 200, r.text
    mine = [q for q in r.json()["data"] if q["queue"] == queue]
    assert mine and mine[0]["counts"]["waiting"] == 1, r.text
    r = api("GET", f"/api/jobs?queue={queue}&state=waiting&limit=5", admin_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [j["id"] for j in body["data"]] == [job_id]
    assert body["pagination"]["totalDocs"] == 1
    r = api("GET", f"/api/jobs/{queue}/{job_id}", admin_token)
    assert r.status_code == 200 and r.json()["data"]["state"] == "waiting", r.text
    r = api("POST", f"/api/jobs/{queue}/{job_id}/retry", admin_token)
    assert r.status_code == 409 and r.json()["error"]["code"] == "JOB_NOT_DEAD", r.text
    r = api("POST", f"/api/jobs/{queue}/{job_id}/cancel", admin_token)
    assert r.status_code == 200 and r.json()["data"]["state"] == "cancelled", r.text
    r = api("POST", f"/api/jobs/{queue}/{job_id}/cancel", admin_token)
    assert r.status_code == 409 and r.json()["error"]["code"] == "JOB_NOT_CANCELLABLE", r.text
    r = api("GET", f"/api/jobs?queue={queue}&state=cancelled", admin_token)
    assert [j["id"] for j in r.json()["data"]] == [job_id]
