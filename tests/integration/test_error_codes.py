"""Error codes through the gateway that no other test provokes: BAD_GATEWAY (a
service answering garbage; a service dying mid-request is a timeout, not a 502),
DEADLINE_EXCEEDED (a parked request outliving its deadline: 504 and no database work
after it; a request queued past its deadline is dropped unanswered), LIST_LOADING (a
list asked during the first load of a big copy), CONCURRENT_UPDATE of a slot
document that cannot be compare-and-set, and the stale-version answers of updates
and status changes (VERSION_CONFLICT; CONCURRENT_UPDATE for a held record lock is in
test_stalls.py)."""
import datetime
import os
import signal
import subprocess
import time
import uuid

import pytest
from bson import ObjectId
from pymongo import MongoClient

from conftest import MONGO_PORT, ROOT, api, make_token, new_agent, wait_for
from test_bookings import booking_body, create_booking, customer
from test_leads import create as create_lead, status as lead_status

ROGUE = os.path.join(os.environ.get("TRIPDESK_TEST_BUILD_DIR", os.path.join(ROOT, "build", "asan")),
                     "tests", "rogue_service")
SHORT_TIMEOUT_MS = 1500  # the gateway's request timeout in the deadline tests


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


@pytest.fixture(scope="module")
def db(stack):
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    yield client["tripdesk_booking"]
    client.close()


def error_of(r, status_code, code):
    assert r.status_code == status_code, r.text
    body = r.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body["error"]


def every_service_connected():
    wait_for(lambda: all(s["instances"] >= 1 and s["connected"] >= 1 for s in
                         api("GET", "/api/health").json()["data"]["services"].values()),
             20, "every service connected")


# ---- BAD_GATEWAY ---------------------------------------------------------------------

def rogue(stack, mode):
    """analytics replaced by rogue_service in mode (it dials the gateway as analytics)."""
    url = f"ipc://{stack.ipc_dir}/gw-analytics.ipc"
    return subprocess.Popen([ROGUE, url, mode], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.fixture
def without_analytics(stack):
    stack.stop("analytics")
    wait_for(lambda: api("GET", "/api/health").json()["data"]["services"]["analytics"]
             ["connected"] == 0, 10, "analytics gone")
    try:
        yield
    finally:
        stack.start("analytics")
        every_service_connected()


def test_a_service_answering_garbage_is_502_bad_gateway(stack, without_analytics):
    token = make_token()
    assert api("GET", "/api/dashboard/ping", token).status_code == 503  # nobody there
    p = rogue(stack, "garbage")
    try:
        r = wait_for(lambda: (lambda r: [r] if r.status_code != 503 else None)(
            api("GET", "/api/dashboard/ping", token)), 10, "rogue connected")[0]
        err = error_of(r, 502, "BAD_GATEWAY")
        assert err["details"] == {"service": "analytics"}
        assert p.poll() is None  # it answered and lives on
        assert api("GET", "/api/health").status_code == 200  # the gateway too
    finally:
        p.kill()
        p.wait()


def test_a_service_dying_mid_request_is_503_not_502(stack, without_analytics):
    """The request was sent and never answered: the connection to the only instance
    closes under it, and the gateway answers at once that the service is unavailable
    (the 502 is only for an answer that is not a response envelope)."""
    token = make_token()
    p = rogue(stack, "die")
    try:
        wait_for(lambda: api("GET", "/api/health").json()["data"]["services"]["analytics"]
                 ["connected"] == 1, 10, "rogue connected")
        t0 = time.time()
        r = api("GET", "/api/dashboard/ping", token)
        elapsed = time.time() - t0
        assert p.wait(5) == 0  # it got the request and died without answering
        print(f"answer {r.status_code} after {elapsed:.2f} s")
        error_of(r, 503, "SERVICE_UNAVAILABLE")
        assert elapsed < 2, elapsed
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# ---- DEADLINE_EXCEEDED ------------------------------------------------------------------

@pytest.fixture
def short_gateway(stack):
    """The gateway restarted with a request timeout of SHORT_TIMEOUT_MS, then restored."""
    gw = stack.daemons["gateway"]
    env = gw.env
    gw.env = dict(env, TRIPDESK_REQUEST_TIMEOUT_MS=str(SHORT_TIMEOUT_MS))
    stack.stop("gateway")
    stack.start("gateway")
    every_service_connected()
    try:
        yield
    finally:
        gw.env = env
        stack.stop("gateway")
        stack.start("gateway")
        every_service_connected()


def test_a_parked_request_outliving_its_deadline_is_504_and_does_nothing_after(
        agent, db, short_gateway):
    """A lead conversion waits for a held record lock (parked, retried every 20 ms for
    up to 3 s); the request's deadline comes first: 504 DEADLINE_EXCEEDED before the
    gateway's own timer, and once the lock is free nothing of the conversion happens."""
    _, token = agent
    lead = create_lead(token)
    assert lead_status(token, lead["_id"], "contacted").status_code == 200
    customers_before = db["customers"].count_documents({})
    lock = f"lock:{lead['_id']}"
    db["locks"].insert_one({"_id": lock, "token": "held-by-test",
                            "expiresAt": datetime.datetime.now(datetime.timezone.utc)
                            + datetime.timedelta(seconds=60)})
    try:
        t0 = time.time()
        r = api("POST", f"/api/leads/{lead['_id']}/convert", token, json={})
        elapsed = time.time() - t0
    finally:
        db["locks"].delete_one({"_id": lock})
    error_of(r, 504, "DEADLINE_EXCEEDED")
    assert elapsed < SHORT_TIMEOUT_MS / 1000 + 0.5, elapsed
    time.sleep(1.0)  # were it still parked, its next run would convert now
    got = api("GET", f"/api/leads/{lead['_id']}", token).json()["data"]
    assert got["status"] == "contacted" and got["version"] == lead["version"] + 1, got
    assert db["customers"].count_documents({}) == customers_before
    assert db["locks"].count_documents({"_id": lock}) == 0


def test_a_request_queued_past_its_deadline_is_dropped_without_database_work(
        stack, agent, db, short_gateway):
    """The booking daemon paused while a create waits for it: the gateway answers 504
    SERVICE_TIMEOUT; resumed, the daemon drops the expired request (no handler, no
    write)."""
    _, token = agent
    name = f"Late {uuid.uuid4().hex[:8]}"
    booking = stack.daemons["booking"]
    booking.signal(signal.SIGSTOP)
    try:
        r = api("POST", "/api/customers", token,
                json={"name": name, "email": f"{uuid.uuid4().hex[:8]}@late.test",
                      "phone": "+911234567890"})
    finally:
        booking.signal(signal.SIGCONT)
    error_of(r, 504, "SERVICE_TIMEOUT")
    time.sleep(1.0)
    assert db["customers"].count_documents({"name": name}) == 0
    with open(booking.log_path, errors="replace") as f:
        assert "dropped" in f.read()
    assert api("GET", "/api/bookings/ping", token).status_code == 200


# ---- LIST_LOADING ---------------------------------------------------------------------

BIG = int(os.environ.get("TRIPDESK_TEST_BIG_COPY", "30000"))


def test_a_list_during_the_first_load_of_a_big_copy_is_503_list_loading(stack, agent, db):
    """BIG customers of a throwaway agent make the customers copy's first load after a
    restart last longer than the 3 s a list waits for it: 503 LIST_LOADING with
    Retry-After; once loaded the same list answers from memory."""
    _, token = agent
    owner = ObjectId()  # nobody's: invisible to every other test
    marker = uuid.uuid4().hex
    now = datetime.datetime.now(datetime.timezone.utc)
    batch = 1000
    for i in range(0, BIG, batch):
        db["customers"].insert_many([
            {"name": f"Bulk {marker} {j}", "email": f"bulk{j}-{marker}@load.test",
             "phone": "+911234567890", "agent": owner, "bulk": marker, "deleted": False,
             "version": 1, "createdAt": now, "updatedAt": now,
             "searchText": f"bulk {marker} {j}"} for j in range(i, min(i + batch, BIG))],
            ordered=False)
    booking = stack.daemons["booking"]
    try:
        stack.stop("booking")
        stack.start("booking")
        wait_for(lambda: api("GET", "/api/bookings/ping", token).status_code == 200, 20,
                 "booking up")
        t0 = time.time()
        r = api("GET", f"/api/customers?search={marker[:12]}x", token)
        elapsed = time.time() - t0
        err = error_of(r, 503, "LIST_LOADING")
        assert r.headers.get("Retry-After") == "2"
        assert 2.5 < elapsed < 5, elapsed
        wait_for(lambda: api("GET", f"/api/customers?search={marker[:12]}x", token)
                 .headers.get("X-List-Source") == "memory", 60, "customers copy loaded")
        assert "being loaded" in err["message"]
    finally:
        db["customers"].delete_many({"bulk": marker})
        stack.stop("booking")
        stack.start("booking")
        every_service_connected()
        # bookings are refused (503) until the restarted daemon has built its slots
        c = customer(token)
        wait_for(lambda: api("POST", "/api/bookings", token,
                             json=booking_body(c["_id"], dest="Warmup")).status_code == 201,
                 30, "bookings writable again")


# ---- stale versions ---------------------------------------------------------------------

def test_stale_versions_on_update_and_status_change_nothing(agent):
    _, token = agent
    c = customer(token)
    b = create_booking(token, c["_id"], dest="Lima", start="2027-09-01", end="2027-09-05")
    r = api("PUT", f"/api/bookings/{b['_id']}", token, json={"priority": "low", "version": b["version"]})
    assert r.status_code == 200, r.text
    stale = b["version"]
    b = r.json()["data"]
    error_of(api("PUT", f"/api/bookings/{b['_id']}", token,
                 json={"priority": "high", "version": stale}), 409, "VERSION_CONFLICT")
    error_of(api("PATCH", f"/api/bookings/{b['_id']}/status", token,
                 json={"status": "confirmed", "version": stale}), 409, "VERSION_CONFLICT")
    assert api("GET", f"/api/bookings/{b['_id']}", token).json()["data"] == b
    lead = create_lead(token)
    r = lead_status(token, lead["_id"], "contacted", version=lead["version"])
    assert r.status_code == 200, r.text
    error_of(lead_status(token, lead["_id"], "qualified", version=lead["version"]), 409,
             "VERSION_CONFLICT")
    assert api("GET", f"/api/leads/{lead['_id']}", token).json()["data"] == r.json()["data"]


# ---- CONCURRENT_UPDATE --------------------------------------------------------------

def test_a_slot_document_that_never_takes_a_write_is_409_concurrent_update(agent, db):
    """The customer's slot document at the destination has no `v`: every
    compare-and-set of a reservation misses, as when other writers keep changing it.
    After the retries (4 per run, run again every 5 ms for 1 s) the create answers 409
    CONCURRENT_UPDATE and writes no booking; with the document gone it succeeds."""
    _, token = agent
    other = customer(token)
    b = create_booking(token, other["_id"], dest="Quito", start="2027-11-01", end="2027-11-03")
    key = db["bookings"].find_one({"_id": ObjectId(b["_id"])})["destinationKey"]
    c = customer(token)
    slot = f"{c['_id']}:{key}"
    db["booking_slots"].insert_one({"_id": slot, "entries": []})
    try:
        t0 = time.time()
        r = api("POST", "/api/bookings", token,
                json=booking_body(c["_id"], dest="Quito", start="2027-11-01", end="2027-11-03"))
        elapsed = time.time() - t0
        error_of(r, 409, "CONCURRENT_UPDATE")
        assert 0.9 < elapsed < 5, elapsed
        assert db["bookings"].count_documents({"customer": ObjectId(c["_id"])}) == 0
    finally:
        db["booking_slots"].delete_one({"_id": slot})
    create_booking(token, c["_id"], dest="Quito", start="2027-11-01", end="2027-11-03")
