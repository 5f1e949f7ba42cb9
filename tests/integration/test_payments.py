"""The payment service through the gateway: payments of bookings it knows from the
booking events, exact money, the overpayment and duplicate rules (also under
concurrency), Idempotency-Key, refunds, the booking's paymentStatus and the replay
of booking events missed while the daemon was down."""
import concurrent.futures
import contextlib
import os
import time
import uuid

import pytest

from conftest import api, new_agent, wait_for
from test_bookings import create_booking, customer


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


def known(token, booking_id):
    """Waits until the payment service has the booking from its events."""
    r = wait_for(lambda: (x := api("GET", f"/api/payments/booking/{booking_id}/summary",
                                   token)).status_code == 200 and x, 10,
                 "payment service knows the booking")
    return r.json()["data"]


def new_booking(agent, total=1000, **pricing):
    _, token = agent
    c = customer(token, lastName="Pay" + uuid.uuid4().hex[:8])
    dest = "Dest" + uuid.uuid4().hex[:8]
    b = create_booking(token, c["_id"], dest=dest,
                       pricing=dict({"totalAmount": total, "currency": "INR"}, **pricing))
    known(token, b["_id"])
    return b


def pay(token, booking_id, amount, key=None, **over):
    body = dict({"booking": booking_id, "amount": amount, "paymentMethod": "upi"}, **over)
    headers = {"Idempotency-Key": key} if key else {}
    return api("POST", "/api/payments", token, json=body, headers=headers)


def summary(token, booking_id):
    r = api("GET", f"/api/payments/booking/{booking_id}/summary", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def payments_of(token, booking_id):
    r = api("GET", f"/api/payments?booking={booking_id}&limit=100", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def booking_payment_status(token, booking_id):
    r = api("GET", f"/api/bookings/{booking_id}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]["paymentStatus"]


def test_unknown_booking_is_422(agent):
    _, token = agent
    r = pay(token, uuid.uuid4().hex[:24], 10)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "UNKNOWN_BOOKING"


def test_payment_shape_and_exact_sums(agent):
    _, token = agent
    b = new_booking(agent, total=1000)
    r = pay(token, b["_id"], 0.1, transactionId="UPI-1", notes="first")
    assert r.status_code == 201, r.text
    p = r.json()["data"]
    assert p["amount"] == 0.1 and p["amountMinor"] == 10 and p["currency"] == "INR"
    assert p["status"] == "completed" and p["booking"] == b["_id"]
    assert p["bookingReference"] == b["bookingReference"] and p["agent"] == b["agent"]
    assert pay(token, b["_id"], "0.20").status_code == 201
    s = summary(token, b["_id"])
    assert s["paid"] == 0.3 and s["paidMinor"] == 30 and s["outstanding"] == 999.7
    assert s["paymentStatus"] == "partially_paid"
    r = api("GET", f"/api/payments/{p['_id']}", token)
    assert r.status_code == 200 and r.json()["data"]["_id"] == p["_id"]


@pytest.mark.parametrize("over,field", [
    ({"amount": 0}, "amount"), ({"amount": -5}, "amount"), ({"amount": 1.005}, "amount"),
    ({"amount": "1.5.0"}, "amount"), ({"amount": None}, "amount"),
    ({"paymentMethod": "gold"}, "paymentMethod"), ({"extra": 1}, "extra"),
    ({"booking": "nope"}, "booking"), ({"paidAt": "yesterday"}, "paidAt"),
])
def test_bad_input_is_400_and_changes_nothing(agent, over, field):
    _, token = agent
    b = new_booking(agent)
    body = dict({"booking": b["_id"], "amount": 10, "paymentMethod": "cash"}, **over)
    body = {k: v for k, v in body.items() if v is not None}
    r = api("POST", "/api/payments", token, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["field"] == field
    assert summary(token, b["_id"])["paidMinor"] == 0
    assert payments_of(token, b["_id"]) == []


def test_currency_must_be_the_bookings(agent):
    _, token = agent
    b = new_booking(agent)
    r = pay(token, b["_id"], 10, currency="USD")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "CURRENCY_MISMATCH"
    assert pay(token, b["_id"], 10, currency="INR").status_code == 201
    assert summary(token, b["_id"])["paidMinor"] == 1000


def test_overpayment_is_422_naming_the_balance(agent):
    _, token = agent
    b = new_booking(agent, total=500, discount=100)  # due 400
    assert pay(token, b["_id"], 300).status_code == 201
    r = pay(token, b["_id"], 100.01)
    assert r.status_code == 422, r.text
    e = r.json()["error"]
    assert e["code"] == "OVERPAYMENT" and e["details"]["outstanding"] == 100
    assert summary(token, b["_id"])["paidMinor"] == 30000
    assert pay(token, b["_id"], 100).status_code == 201
    assert summary(token, b["_id"])["paymentStatus"] == "paid"


def test_cancelled_booking_takes_no_payment(agent):
    _, token = agent
    b = new_booking(agent)
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 200, r.text
    wait_for(lambda: summary(token, b["_id"])["bookingStatus"] == "cancelled", 10,
             "payment service sees the cancellation")
    r = pay(token, b["_id"], 10)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "BOOKING_CLOSED"
    assert summary(token, b["_id"])["paidMinor"] == 0


def test_same_amount_within_five_minutes_is_409_naming_the_payment(agent):
    _, token = agent
    b = new_booking(agent)
    first = pay(token, b["_id"], 50)
    assert first.status_code == 201, first.text
    again = pay(token, b["_id"], 50, paymentMethod="cash")
    assert again.status_code == 409, again.text
    e = again.json()["error"]
    assert e["code"] == "DUPLICATE_PAYMENT"
    assert e["details"]["payment"] == first.json()["data"]["_id"]
    assert pay(token, b["_id"], 50.5).status_code == 201
    assert len(payments_of(token, b["_id"])) == 2


def test_twenty_identical_concurrent_posts_make_one_payment(agent):
    _, token = agent
    b = new_booking(agent)
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        codes = sorted(r.status_code for r in ex.map(lambda _: pay(token, b["_id"], 25),
                                                      range(20)))
    assert codes == [201] + [409] * 19, codes
    assert len(payments_of(token, b["_id"])) == 1
    assert summary(token, b["_id"])["paidMinor"] == 2500


def test_concurrent_different_amounts_never_overpay(agent):
    _, token = agent
    b = new_booking(agent, total=100)
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(lambda i: pay(token, b["_id"], 30 + i / 100), range(10)))
    ok = [r for r in rs if r.status_code == 201]
    assert all(r.status_code in (201, 409, 422) for r in rs), [r.text for r in rs]
    s = summary(token, b["_id"])
    assert s["paidMinor"] <= 10000 and len(ok) == len(payments_of(token, b["_id"]))
    assert s["paidMinor"] == sum(r.json()["data"]["amountMinor"] for r in ok)


def test_idempotency_key_replays_and_refuses_another_body(agent):
    _, token = agent
    b = new_booking(agent)
    key = uuid.uuid4().hex
    first = pay(token, b["_id"], 70, key=key)
    assert first.status_code == 201, first.text
    again = pay(token, b["_id"], 70, key=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]
    other = pay(token, b["_id"], 71, key=key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    # an error is the key's outcome too
    k2 = uuid.uuid4().hex
    r1 = pay(token, b["_id"], 5000, key=k2)
    assert r1.status_code == 422
    r2 = pay(token, b["_id"], 5000, key=k2)
    assert r2.status_code == 422 and r2.headers["Idempotent-Replayed"] == "true"
    assert len(payments_of(token, b["_id"])) == 1


def test_fifty_clients_with_the_same_twenty_keys_make_twenty_payments(agent):
    _, token = agent
    b = new_booking(agent, total=100000)
    keys = [uuid.uuid4().hex for _ in range(20)]

    def client(_):
        out = []
        for i, k in enumerate(keys):
            out.append(pay(token, b["_id"], 100 + i, key=k).status_code)
        return out

    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        codes = [c for cs in ex.map(client, range(50)) for c in cs]
    assert set(codes) <= {201, 409}, sorted(set(codes))
    ps = payments_of(token, b["_id"])
    assert len(ps) == 20
    assert sorted(p["amountMinor"] for p in ps) == [(100 + i) * 100 for i in range(20)]
    assert summary(token, b["_id"])["paidMinor"] == sum((100 + i) * 100 for i in range(20))


def test_agents_see_only_their_bookings_payments(root_token, agent):
    _, token = agent
    b = new_booking(agent)
    p = pay(token, b["_id"], 40).json()["data"]
    _, other = new_agent(root_token)
    assert api("GET", f"/api/payments/{p['_id']}", other).status_code == 404
    assert api("GET", f"/api/payments/booking/{b['_id']}/summary", other).status_code == 404
    assert api("GET", f"/api/payments?booking={b['_id']}", other).json()["data"] == []
    r = api("GET", f"/api/payments?agent={b['agent']}", other)
    assert r.status_code == 403, r.text
    r = pay(other, b["_id"], 41)
    assert r.status_code == 403, r.text
    assert api("GET", f"/api/payments/{p['_id']}", root_token).status_code == 200
    assert len(payments_of(root_token, b["_id"])) == 1


def test_list_filters_and_bad_parameters(agent):
    _, token = agent
    b = new_booking(agent)
    assert pay(token, b["_id"], 10, paymentMethod="cash").status_code == 201
    assert pay(token, b["_id"], 20, paymentMethod="card").status_code == 201
    assert pay(token, b["_id"], 30, paymentMethod="card").status_code == 201

    def amounts(q):
        r = api("GET", f"/api/payments?booking={b['_id']}&{q}", token)
        assert r.status_code == 200, r.text
        return [p["amount"] for p in r.json()["data"]]

    assert amounts("paymentMethod=card&sortBy=amount&sortOrder=asc") == [20, 30]
    assert amounts("minAmount=15&maxAmount=25") == [20]
    assert amounts("status=refunded") == []
    assert sorted(amounts("dateFrom=2000-01-01")) == [10, 20, 30]
    assert amounts("dateTo=2000-01-01") == []
    for q in ["status[$ne]=x", "minAmount=abc", "sortBy=password", "limit=1000", "nope=1"]:
        assert api("GET", f"/api/payments?{q}", token).status_code == 400, q


def test_booking_payment_status_follows_within_a_second(agent):
    _, token = agent
    b = new_booking(agent, total=100)
    assert booking_payment_status(token, b["_id"]) == "unpaid"
    assert pay(token, b["_id"], 40).status_code == 201
    wait_for(lambda: booking_payment_status(token, b["_id"]) == "partially_paid", 1,
             "partially_paid")
    assert pay(token, b["_id"], 60).status_code == 201
    wait_for(lambda: booking_payment_status(token, b["_id"]) == "paid", 1, "paid")
    r = api("GET", f"/api/bookings?paymentStatus=paid&customer={b['customer']}", token)
    assert [x["_id"] for x in r.json()["data"]] == [b["_id"]]


def test_refunds(root_token, agent):
    _, token = agent
    b = new_booking(agent, total=100)
    p = pay(token, b["_id"], 100).json()["data"]
    path = f"/api/payments/{p['_id']}/refund"
    r = api("POST", path, token, json={"amount": 10, "reason": "x"})
    assert r.status_code == 403, r.text  # agents lack canProcessRefunds
    for body in [{"amount": 0, "reason": "x"}, {"amount": 10}, {"amount": 1.001, "reason": "x"},
                 {"amount": 10, "reason": "x", "more": 1}]:
        assert api("POST", path, root_token, json=body).status_code == 400, body
    r = api("POST", path, root_token, json={"amount": 100.01, "reason": "too much"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "REFUND_EXCEEDS_PAYMENT"
    assert summary(token, b["_id"])["refundedMinor"] == 0
    key = uuid.uuid4().hex
    r = api("POST", path, root_token, json={"amount": 30, "reason": "partial"},
            headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    again = api("POST", path, root_token, json={"amount": 30, "reason": "partial"},
                headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    s = summary(token, b["_id"])
    assert s["refundedMinor"] == 3000 and s["paymentStatus"] == "partially_paid"
    shown = api("GET", f"/api/payments/{p['_id']}", token).json()["data"]
    assert shown["status"] == "partially_refunded"
    # the refund is part of the payment document itself
    assert [(x["_id"], x["amountMinor"], x["reason"]) for x in shown["refunds"]] == \
        [(r.json()["data"]["_id"], 3000, "partial")]
    one = shown["refunds"][0]
    assert one["amount"] == 30 and one["currency"] == "INR" and one["createdAt"]
    assert one["processedBy"] == r.json()["data"]["processedBy"]
    assert r.json()["data"]["payment"] == p["_id"] and r.json()["data"]["booking"] == b["_id"]
    r = api("POST", path, root_token, json={"amount": 70.01, "reason": "rest"})
    assert r.status_code == 422 and r.json()["error"]["details"]["refundable"] == 70
    assert api("POST", path, root_token, json={"amount": 70, "reason": "rest"}).status_code == 201
    assert summary(token, b["_id"])["paymentStatus"] == "refunded"
    wait_for(lambda: booking_payment_status(token, b["_id"]) == "refunded", 2, "refunded")
    assert api("GET", f"/api/payments/{p['_id']}", token).json()["data"]["status"] == "refunded"


def test_refund_lists(root_token, agent):
    """A payment's refunds (GET /api/payments/:id/refunds, as visible as the payment)
    and the booking summary's refunds of all its payments, oldest payment first."""
    _, token = agent
    b = new_booking(agent, total=100)
    p1 = pay(token, b["_id"], 60, paidAt="2026-01-01T10:00:00Z").json()["data"]
    p2 = pay(token, b["_id"], 40, paidAt="2026-01-02T10:00:00Z").json()["data"]
    assert summary(token, b["_id"])["refunds"] == []
    assert api("GET", f"/api/payments/{p1['_id']}/refunds", token).json()["data"] == []
    made = []
    for p, amount, reason in [(p2, 5, "late"), (p1, 10, "first"), (p1, 2.5, "second")]:
        r = api("POST", f"/api/payments/{p['_id']}/refund", root_token,
                json={"amount": amount, "reason": reason})
        assert r.status_code == 201, r.text
        made.append(r.json()["data"])
    r = api("GET", f"/api/payments/{p1['_id']}/refunds", token)
    assert r.status_code == 200, r.text
    assert [(x["_id"], x["amountMinor"], x["reason"], x["payment"]) for x in r.json()["data"]] == \
        [(made[1]["_id"], 1000, "first", p1["_id"]), (made[2]["_id"], 250, "second", p1["_id"])]
    s = summary(token, b["_id"])
    assert [(x["_id"], x["payment"], x["amount"]) for x in s["refunds"]] == \
        [(made[1]["_id"], p1["_id"], 10), (made[2]["_id"], p1["_id"], 2.5),
         (made[0]["_id"], p2["_id"], 5)]
    assert all(x["processedBy"] and x["createdAt"] and x["currency"] == "INR" for x in s["refunds"])
    assert s["refundedMinor"] == 1750
    # as visible as the payment: another agent gets 404, a bad id 400
    _, other = new_agent(root_token)
    assert api("GET", f"/api/payments/{p1['_id']}/refunds", other).status_code == 404
    assert api("GET", f"/api/payments/{b['_id']}/refunds", token).status_code == 404
    assert api("GET", "/api/payments/nope/refunds", token).status_code == 400
    assert api("GET", f"/api/payments/{p1['_id']}/refunds", root_token).status_code == 200


def test_concurrent_refunds_never_exceed_the_payment(root_token, agent):
    _, token = agent
    b = new_booking(agent, total=100)
    p = pay(token, b["_id"], 100).json()["data"]
    path = f"/api/payments/{p['_id']}/refund"
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(lambda i: api("POST", path, root_token,
                                       json={"amount": 30, "reason": f"r{i}"}), range(10)))
    assert sorted(r.status_code for r in rs).count(201) == 3, [r.text for r in rs]
    assert summary(token, b["_id"])["refundedMinor"] == 9000


def test_payment_events_reach_the_audit_trail(root_token, agent):
    _, token = agent
    b = new_booking(agent)
    p = pay(token, b["_id"], 12).json()["data"]
    r = wait_for(lambda: (x := api("GET", f"/api/audit-logs?action=PAYMENT_RECEIVED&limit=100",
                                   root_token)).status_code == 200
                 and any(e.get("targetId") == p["_id"] and e.get("resourceType") == "payment" for e in x.json()["data"])
                 and x, 5, "audit entry")
    assert r


def test_bookings_made_while_the_daemon_was_down_are_known_after_restart(stack, agent):
    _, token = agent
    c = customer(token, lastName="Down" + uuid.uuid4().hex[:8])
    stack.stop("payment")
    try:
        b = create_booking(token, c["_id"], dest="Down" + uuid.uuid4().hex[:8])
    finally:
        stack.start("payment")
    known(token, b["_id"])
    r = wait_for(lambda: (x := pay(token, b["_id"], 10)).status_code == 201 and x, 10,
                 "payment accepted after restart")
    assert r.json()["data"]["booking"] == b["_id"]


@contextlib.contextmanager
def second_payment_daemon(stack):
    """A second tripdesk-payment next to the stack's own, until the block ends."""
    from stack import Daemon
    d = stack.daemons["payment"]
    extra = Daemon("payment-2", d.argv, d.env, os.path.join(os.path.dirname(d.log_path), "payment-2.log"))
    extra.start()
    try:
        wait_for(lambda: api("GET", "/api/health").json()["data"]["services"]["payment"]
                 ["instances"] == 2, 10, "two payment instances")
        yield extra
    finally:
        extra.stop()


def test_rules_hold_across_two_payment_daemons(stack, agent):
    _, token = agent
    b = new_booking(agent, total=100000)
    with second_payment_daemon(stack):
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            codes = sorted(r.status_code for r in ex.map(lambda _: pay(token, b["_id"], 25),
                                                          range(20)))
        assert codes == [201] + [409] * 19, codes
        keys = [uuid.uuid4().hex for _ in range(10)]

        def client(_):
            out = []
            for i, k in enumerate(keys):
                t = time.time()
                try:
                    out.append((pay(token, b["_id"], 200 + i, key=k).status_code, i))
                except Exception as e:  # noqa: BLE001 (reported below)
                    out.append((f"{type(e).__name__} after {time.time() - t:.1f}s", i))
            return out

        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            codes = [c for cs in ex.map(client, range(20)) for c in cs]
        assert {c for c, _ in codes} <= {201, 409}, [c for c in codes if c[0] not in (201, 409)]
    ps = payments_of(token, b["_id"])
    assert len(ps) == 11
    assert summary(token, b["_id"])["paidMinor"] == 2500 + sum((200 + i) * 100 for i in range(10))


def test_a_reservation_left_by_a_dead_daemon_is_given_back(agent):
    """What a daemon killed between the account reservation and the payment insert
    leaves (a journal entry and a higher paidMinor) is undone by the reconciler."""
    from pymongo import MongoClient
    from bson import ObjectId
    from conftest import MONGO_PORT
    _, token = agent
    b = new_booking(agent, total=100)
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        db = client["tripdesk_payment"]
        ghost = str(ObjectId())
        db["account_reservations"].insert_one({"_id": ghost, "booking": ObjectId(b["_id"]),
                                               "minor": 6000,
                                               "at": int(time.time() * 1000) - 120000})
        db["bookings"].update_one({"_id": ObjectId(b["_id"])},
                                  {"$inc": {"paidMinor": 6000, "v": 1},
                                   "$set": {f"reservations.{ghost}": 6000}})
        assert summary(token, b["_id"])["paidMinor"] == 6000
        r = pay(token, b["_id"], 50)
        assert r.status_code == 422 and r.json()["error"]["code"] == "OVERPAYMENT"
        wait_for(lambda: summary(token, b["_id"])["paidMinor"] == 0, 15, "reservation given back")
        assert db["account_reservations"].find_one({"_id": ghost}) is None
        assert pay(token, b["_id"], 50).status_code == 201
        assert db["account_reservations"].count_documents({"booking": ObjectId(b["_id"])}) == 0
        assert not db["bookings"].find_one({"_id": ObjectId(b["_id"])}).get("reservations")
        # an entry whose reservation the account never took (died before it) is only
        # forgotten: nothing is given back
        early = str(ObjectId())
        db["account_reservations"].insert_one({"_id": early, "booking": ObjectId(b["_id"]),
                                               "minor": 1000,
                                               "at": int(time.time() * 1000) - 120000})
        wait_for(lambda: db["account_reservations"].find_one({"_id": early}) is None, 15,
                 "entry forgotten")
        assert summary(token, b["_id"])["paidMinor"] == 5000
    finally:
        client.close()


def test_a_refund_reservation_left_by_a_dead_daemon_is_given_back(root_token, agent):
    from pymongo import MongoClient
    from bson import ObjectId
    from conftest import MONGO_PORT
    _, token = agent
    b = new_booking(agent, total=100)
    p = pay(token, b["_id"], 100).json()["data"]
    r = api("POST", f"/api/payments/{p['_id']}/refund", root_token,
            json={"amount": 10, "reason": "real"})
    assert r.status_code == 201, r.text
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        db = client["tripdesk_payment"]
        stored = db["payments"].find_one({"_id": ObjectId(p["_id"])})
        assert [(str(x["_id"]), x["amountMinor"]) for x in stored["refunds"]] == \
            [(r.json()["data"]["_id"], 1000)]
        assert "refunds" not in db.list_collection_names()  # no second record anywhere
        assert db["account_reservations"].count_documents({"booking": ObjectId(b["_id"])}) == 0
        ghost = str(ObjectId())
        db["account_reservations"].insert_one({"_id": ghost, "booking": ObjectId(b["_id"]),
                                               "minor": 2000, "refundOf": p["_id"],
                                               "at": int(time.time() * 1000) - 120000})
        db["bookings"].update_one({"_id": ObjectId(b["_id"])},
                                  {"$inc": {"refundedMinor": 2000, "v": 1},
                                   "$set": {f"reservations.{ghost}": 2000}})
        assert summary(token, b["_id"])["refundedMinor"] == 3000
        wait_for(lambda: summary(token, b["_id"])["refundedMinor"] == 1000, 15,
                 "refund reservation given back")
        assert db["account_reservations"].find_one({"_id": ghost}) is None
    finally:
        client.close()


def test_a_refund_that_wrote_but_never_answered_is_answered_by_its_retry(root_session, agent):
    """What a crash after the refund's write leaves (the Idempotency-Key record still
    pending, its lease given up, the refund in the payment): the retry runs again with
    the same derived id, finds that refund in the payment's `refunds` and answers it:
    one refund, refunded once."""
    import datetime
    import hashlib
    from pymongo import MongoClient
    from conftest import MONGO_PORT
    root_token = root_session["accessToken"]
    _, token = agent
    b = new_booking(agent, total=100)
    p = pay(token, b["_id"], 100).json()["data"]
    path, key = f"/api/payments/{p['_id']}/refund", uuid.uuid4().hex
    body = {"amount": 25, "reason": "crash"}
    first = api("POST", path, root_token, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    rid = hashlib.sha256(b"\0".join(x.encode() for x in (
        root_session["agent"]["_id"], "POST", path, key)) + b"\0").hexdigest()
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        r = client["tripdesk_payment"]["idempotency"].update_one(
            {"_id": rid}, {"$set": {"state": "pending", "leaseUntil": datetime.datetime(
                1970, 1, 1, tzinfo=datetime.timezone.utc)},
                "$unset": {"status": "", "body": "", "completedAt": ""}})
        assert r.matched_count == 1  # the record the first refund claimed
    finally:
        client.close()
    again = api("POST", path, root_token, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert "Idempotent-Replayed" not in again.headers  # it ran again
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]
    shown = api("GET", f"/api/payments/{p['_id']}", token).json()["data"]
    assert shown["refundedMinor"] == 2500 and len(shown["refunds"]) == 1
    assert summary(token, b["_id"])["refundedMinor"] == 2500


def test_payment_daemon_killed_between_its_write_and_its_event(stack, agent):
    """The payment daemon SIGKILLed after a payment is written and answered but before
    its PAYMENT_RECEIVED event is published: the daemon runs with the test-only
    TRIPDESK_TEST_RELAY_DELAY_MS, so its relay holds the event long enough for the
    kill to land in that window (the event waits in outbox_pending). After a restart
    the outbox relay publishes it and the booking's paymentStatus becomes right."""
    from pymongo import MongoClient
    from conftest import MONGO_PORT
    _, token = agent
    b = new_booking(agent, total=100)
    d = stack.daemons["payment"]
    env = d.env
    stack.stop("payment")
    d.env = dict(env, TRIPDESK_TEST_RELAY_DELAY_MS="15000")
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        stack.start("payment")
        key = uuid.uuid4().hex  # retries while the daemon starts are one payment
        r = wait_for(lambda: (x := pay(token, b["_id"], 100, key=key)).status_code == 201 and x,
                     15, "the payment written by the delayed daemon")
        p = r.json()["data"]
        held = client["tripdesk_payment"]["outbox_pending"].count_documents(
            {"type": "PAYMENT_RECEIVED", "payload": {"$regex": p["_id"]}})
        assert held == 1, "the event is not waiting in the outbox"
        assert booking_payment_status(token, b["_id"]) == "unpaid"  # not published yet
        stack.kill("payment")
        time.sleep(1)
        assert booking_payment_status(token, b["_id"]) == "unpaid"
    finally:
        d.env = env
        if not d.alive():
            stack.start("payment")
        client.close()
    # the restarted relay takes the lease once the dead one's expires and sends the
    # prepared event once its grace period (30 s) shows the payment was written
    wait_for(lambda: booking_payment_status(token, b["_id"]) == "paid", 50,
             "paymentStatus after the restart")
    assert [x["_id"] for x in payments_of(token, b["_id"])] == [p["_id"]]
    assert summary(token, b["_id"])["paidMinor"] == 10000
