"""Idempotency-Key on POST creates: a retry with the same key replays the first
answer instead of creating a second record."""
import concurrent.futures
import uuid

from conftest import api, new_agent
from test_bookings import customer_body


def post(token, key, body, path="/api/customers"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api("POST", path, token, json=body, headers=headers)


def count(token, last_name):
    r = api("GET", f"/api/customers?search={last_name}&limit=100", token)
    assert r.status_code == 200, r.text
    return r.json()["pagination"]["totalDocs"]


def body():
    return customer_body(lastName="Idem" + uuid.uuid4().hex[:10])


def test_replay_answers_the_first_create_and_makes_no_second_document(root_token):
    _, token = new_agent(root_token)
    b, key = body(), uuid.uuid4().hex
    first = post(token, key, b)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = post(token, key, b)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]
    assert count(token, b["lastName"]) == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(root_token):
    _, token = new_agent(root_token)
    b, key = body(), uuid.uuid4().hex
    assert post(token, key, b).status_code == 201
    other = dict(b, firstName="Someone")
    r = post(token, key, other)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert count(token, b["lastName"]) == 1


def test_without_a_key_two_posts_make_two_documents(root_token):
    _, token = new_agent(root_token)
    b = body()
    assert post(token, None, b).status_code == 201
    # the same person again is a possible duplicate: force says it is meant
    assert post(token, None, dict(b, force=True)).status_code == 201
    assert count(token, b["lastName"]) == 2


def test_another_agents_same_key_does_not_collide(root_token):
    _, t1 = new_agent(root_token)
    _, t2 = new_agent(root_token)
    key = uuid.uuid4().hex
    r1, r2 = post(t1, key, body()), post(t2, key, body())
    assert r1.status_code == 201 and r2.status_code == 201, (r1.text, r2.text)
    assert "Idempotent-Replayed" not in r2.headers
    assert r1.json()["data"]["_id"] != r2.json()["data"]["_id"]


def test_bad_keys_are_400(root_token):
    _, token = new_agent(root_token)
    b = body()
    # (control characters never get this far: the HTTP server refuses them)
    for key in ["x" * 256, "caf\u00e9".encode().decode("latin-1")]:
        r = post(token, key, b)
        assert r.status_code == 400, (key, r.text)
        assert r.json()["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert count(token, b["lastName"]) == 0


def test_concurrent_identical_requests_make_one_document(root_token):
    _, token = new_agent(root_token)
    b, key = body(), uuid.uuid4().hex
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(token, key, b), range(8)))
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {201, 409}, [r.text for r in answers]
    ids = {r.json()["data"]["_id"] for r in answers if r.status_code == 201}
    assert len(ids) == 1
    for r in answers:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
            assert int(r.headers["Retry-After"]) >= 1
    assert count(token, b["lastName"]) == 1
