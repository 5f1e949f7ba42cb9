"""Idempotency-Key on POST creates: a retry with the same key replays the first
answer instead of creating a second record."""
import concurrent.futures
import datetime
import hashlib
import json
import socket
import time
import uuid

import pytest
from pymongo import MongoClient

import test_itineraries
import test_leads
from conftest import HTTP_PORT, MONGO_PORT, api, new_agent
from test_bookings import booking_body, customer, customer_body


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


# ---- every create route, and a client that never saw its answer ---------------------

def _booking(token):
    c = customer(token, lastName="Idem" + uuid.uuid4().hex[:10])
    return ("/api/bookings", booking_body(c["_id"], dest="Idem" + uuid.uuid4().hex[:6]),
            lambda: api("GET", f"/api/bookings?customer={c['_id']}", token))


def _lead(token):
    b = test_leads.lead_body()
    return ("/api/leads", b,
            lambda: api("GET", f"/api/leads?search={b['name']['lastName']}", token))


def _itinerary(token):
    b = test_itineraries.body()
    return ("/api/itineraries", b,
            lambda: api("GET", f"/api/itineraries?search={b['title']}", token))


def _clone(token):
    original = test_itineraries.create(token)
    return (f"/api/itineraries/{original['_id']}/clone", {},
            lambda: api("GET", f"/api/itineraries?search={original['title']}", token))


def _convert(token):
    lead = test_leads.create(token)
    test_leads.status(token, lead["_id"], "contacted")
    last = lead["name"]["lastName"]
    return (f"/api/leads/{lead['_id']}/convert", {},
            lambda: api("GET", f"/api/customers?search={last}", token))


def _made_id(data):
    return data["customer"]["_id"] if "customer" in data and "lead" in data else data["_id"]


@pytest.mark.parametrize("route", [_booking, _lead, _itinerary, _clone, _convert],
                         ids=["booking", "lead", "itinerary", "clone", "convert"])
def test_every_create_route_replays_its_first_answer(root_token, route):
    _, token = new_agent(root_token)
    path, b, listing = route(token)
    before = listing().json()["pagination"]["totalDocs"]
    key = uuid.uuid4().hex
    first = post(token, key, b, path)
    assert first.status_code in (200, 201), first.text
    again = post(token, key, b, path)
    assert again.status_code == first.status_code, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _made_id(again.json()["data"]) == _made_id(first.json()["data"])
    assert listing().json()["pagination"]["totalDocs"] == before + 1


def test_a_client_that_hung_up_before_its_answer_retries_safely(root_token):
    """The outcome is unknown to the client (it hung up, as on a timeout): its retry
    with the same key gets the answer of the create that did run, and one document."""
    _, token = new_agent(root_token)
    b, key = body(), uuid.uuid4().hex
    payload = json.dumps(b).encode()
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5)
    s.sendall((f"POST /api/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
               f"Connection: close\r\n\r\n").encode() + payload)
    s.close()  # never reads the answer
    deadline = time.time() + 10
    while True:  # the first may still be running: 409 IDEMPOTENCY_IN_PROGRESS
        time.sleep(0.5)
        again = post(token, key, b)
        if again.status_code != 409 or time.time() > deadline:
            break
    assert again.status_code == 201, again.text
    assert count(token, b["lastName"]) == 1


def test_a_create_that_wrote_but_never_answered_is_answered_by_its_retry(root_token):
    """What a 5xx after the write leaves behind (the record still pending, its lease
    given up, the document in): the retry takes the record over, runs again with the
    same seed, meets the document it made the first time and answers it: one
    document, no 409 and no second customer."""
    agent, token = new_agent(root_token)
    b, key = body(), uuid.uuid4().hex
    first = post(token, key, b)
    assert first.status_code == 201, first.text
    rid = hashlib.sha256(b"\0".join(x.encode() for x in
                                    (agent["_id"], "POST", "/api/customers", key)) + b"\0")
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        records = client["tripdesk_booking"]["idempotency"]
        r = records.update_one({"_id": rid.hexdigest()},
                               {"$set": {"state": "pending", "leaseUntil": datetime.datetime(
                                   1970, 1, 1, tzinfo=datetime.timezone.utc)},
                                "$unset": {"status": "", "body": "", "completedAt": ""}})
        assert r.matched_count == 1  # the record the first create claimed
    finally:
        client.close()
    again = post(token, key, b)
    assert again.status_code == 201, again.text
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]
    assert again.json()["data"]["lastName"] == b["lastName"]
    assert count(token, b["lastName"]) == 1
    # and from now on the retry's answer is the one replayed
    third = post(token, key, b)
    assert third.headers.get("Idempotent-Replayed") == "true"
    assert third.json()["data"]["_id"] == first.json()["data"]["_id"]
