"""Conditional writes under contention: 20 requests released at once by a barrier, 20
rounds each. A status change with one version, a refresh-token rotation and a booking
create that must pass a conflict check each have exactly one winner; this depends on the
database re-checking a document's filter when it writes it (FerretDB patch 0004)."""
import threading
import uuid

import pytest
import requests

from conftest import BASE, api, login, new_agent, unique_email, unique_phone, wait_for

CLIENTS = 20
ROUNDS = 20
CUSTOMER = {"firstName": "Rohan", "lastName": "Das", "email": "rohan@example.com",
            "phone": "+91 98200 22222", "city": "Kolkata", "country": "India"}


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


def at_once(send):
    """Runs send(i) for i in 0..CLIENTS-1 on CLIENTS threads released together by a
    barrier; returns the (status, json) answers in order."""
    barrier = threading.Barrier(CLIENTS)
    out = [None] * CLIENTS

    def run(i):
        with requests.Session() as s:
            barrier.wait()
            r = send(s, i)
            out[i] = (r.status_code, r.json())
    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(o is not None for o in out), out
    return out


def customer(token):
    r = api("POST", "/api/customers", token,
            json=dict(CUSTOMER, email=unique_email("rohan"), phone=unique_phone()))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def booking_body(customer_id, dest, start, end):
    return {"customer": customer_id,
            "tripDetails": {"title": f"{dest} trip", "destination": dest, "startDate": start,
                            "endDate": end, "tripType": "leisure",
                            "travellers": {"adults": 1, "children": 0}},
            "pricing": {"totalAmount": 50000, "currency": "INR"}}


def create_booking(token, body):
    r = api("POST", "/api/bookings", token, json=body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


STATUS_ACTIONS = ("BOOKING_STATUS_CHANGED", "BOOKING_CANCELLED")
EVENT_TIMEOUT = 30


def status_entries(root_token, booking_id):
    """The audit trail's status-change entries of one booking (its creation excluded)."""
    r = api("GET", f"/api/audit-logs?targetId={booking_id}&limit=100", root_token)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["data"] if e["action"] in STATUS_ACTIONS]


def test_status_change_with_one_version_has_one_winner(agent, root_token):
    _, token = agent
    c = customer(token)
    booked = []
    auth = {"Authorization": f"Bearer {token}"}
    for rnd in range(ROUNDS):
        b = create_booking(token, booking_body(c["_id"], f"Goa{rnd}", "2027-02-01", "2027-02-05"))
        statuses = ["confirmed" if i % 2 else "cancelled" for i in range(CLIENTS)]

        def send(s, i):
            return s.patch(f"{BASE}/api/bookings/{b['_id']}/status", headers=auth, timeout=30,
                           json={"status": statuses[i], "version": b["version"]})
        out = at_once(send)
        codes = [code for code, _ in out]
        assert codes.count(200) == 1, (rnd, codes)
        assert all(code in (200, 409, 422) for code in codes), (rnd, out)
        winner = statuses[codes.index(200)]
        r = api("GET", f"/api/bookings/{b['_id']}", token)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["status"] == winner
        assert r.json()["data"]["version"] == b["version"] + 1
        booked.append((b["_id"], winner))
    # the audit trail records the write that won, and only that one
    for bid, winner in booked:
        wait_for(lambda: len(status_entries(root_token, bid)) >= 1, EVENT_TIMEOUT,
                 f"status entry of {bid}")
    for bid, winner in booked:
        entries = status_entries(root_token, bid)
        assert len(entries) == 1, (bid, [e["action"] for e in entries])
        assert (entries[0]["action"] == "BOOKING_CANCELLED") == (winner == "cancelled"), entries


def test_refresh_token_rotates_once(agent):
    a, _ = agent
    for rnd in range(ROUNDS):
        r = login(a["email"], a["password"])
        assert r.status_code == 200, r.text
        refresh = r.json()["data"]["refreshToken"]

        def send(s, i):
            return s.post(f"{BASE}/api/auth/refresh", json={"refreshToken": refresh},
                          timeout=30)
        codes = [code for code, _ in at_once(send)]
        assert codes.count(200) == 1, (rnd, codes)
        assert codes.count(401) == CLIENTS - 1, (rnd, codes)


def test_identical_creates_beside_an_existing_booking_have_one_winner(agent):
    _, token = agent
    auth = {"Authorization": f"Bearer {token}"}
    for rnd in range(ROUNDS):
        c = customer(token)
        dest = f"Hampi{uuid.uuid4().hex[:6]}"
        create_booking(token, booking_body(c["_id"], dest, "2027-06-01", "2027-06-05"))
        body = booking_body(c["_id"], dest, "2027-06-10", "2027-06-14")

        def send(s, i):
            return s.post(f"{BASE}/api/bookings", headers=auth, json=body, timeout=30)
        codes = [code for code, _ in at_once(send)]
        assert sorted(codes) == [201] + [409] * (CLIENTS - 1), (rnd, codes)
        r = api("GET", f"/api/bookings?customer={c['_id']}", token)
        assert r.status_code == 200, r.text
        assert r.json()["pagination"]["totalDocs"] == 2
