"""Commissions through the gateway: one per confirmed booking at the agent's rate on
the net amount, approve / reject / pay with permissions, cancellation and negative
adjustment, bulk approve, the per-currency summary and the versioned rates."""
import uuid

import pytest

from conftest import COPY_SOURCE, api, new_agent, wait_for
from test_bookings import create_booking, customer
from test_payments import known


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


def confirmed_booking(agent, total=1000, tax=100, discount=50, currency="INR"):
    _, token = agent
    c = customer(token, lastName="Com" + uuid.uuid4().hex[:8])
    b = create_booking(token, c["_id"], dest="Com" + uuid.uuid4().hex[:8],
                       pricing={"totalAmount": total, "currency": currency, "taxAmount": tax,
                                "discount": discount})
    known(token, b["_id"])
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "confirmed"})
    assert r.status_code == 200, r.text
    return b


def commission(token, booking_id):
    r = api("GET", f"/api/commissions?booking={booking_id}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_commission(token, booking_id, status="pending"):
    return wait_for(lambda: [c for c in commission(token, booking_id) if c["status"] == status],
                    10, f"commission {status}")[0]


def test_confirmed_booking_earns_one_commission_on_the_net(agent):
    _, token = agent
    b = confirmed_booking(agent, total=1000, tax=100, discount=50)
    c = wait_commission(token, b["_id"])
    assert c["_id"] == b["_id"] and c["agent"] == b["agent"]
    assert c["netMinor"] == 85000 and c["rateBasisPoints"] == 500  # the agent role's default
    assert c["amountMinor"] == 4250 and c["amount"] == 42.5 and c["currency"] == "INR"
    assert len(commission(token, b["_id"])) == 1


def test_approve_pay_and_permissions(root_token, agent):
    _, token = agent
    b = confirmed_booking(agent)
    c = wait_commission(token, b["_id"])
    path = f"/api/commissions/{c['_id']}"
    assert api("PATCH", path + "/approve", token).status_code == 403
    r = api("PATCH", path + "/pay", root_token, json={"payoutReference": "PO-1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_TRANSITION"
    assert api("PATCH", path + "/approve", root_token).status_code == 200
    assert api("PATCH", path + "/approve", root_token).status_code == 409
    assert api("PATCH", path + "/pay", root_token, json={}).status_code == 400
    r = api("PATCH", path + "/pay", root_token, json={"payoutReference": "PO-1"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "paid" and r.json()["data"]["payoutReference"] == "PO-1"
    # a paid commission of a booking that is cancelled gets a negative adjustment
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 200, r.text
    x = wait_for(lambda: [c for c in commission(token, b["_id"]) if c.get("adjusted")], 10,
                 "adjustment")[0]
    assert x["status"] == "paid" and x["adjustmentMinor"] == -x["amountMinor"]


def test_reject_and_cancel(root_token, agent):
    _, token = agent
    b1, b2 = confirmed_booking(agent), confirmed_booking(agent)
    c1 = wait_commission(token, b1["_id"])
    wait_commission(token, b2["_id"])
    path = f"/api/commissions/{c1['_id']}/reject"
    assert api("PATCH", path, root_token, json={}).status_code == 400
    r = api("PATCH", path, root_token, json={"reason": "duplicate claim"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "rejected"
    r = api("PATCH", f"/api/bookings/{b2['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 200
    wait_commission(token, b2["_id"], "cancelled")
    # from the copy (after a Redis restart earlier in the run it may be reloading for
    # up to a tick of the list task: the database answers meanwhile)
    r = wait_for(lambda: (lambda r: r if r.headers.get("X-List-Source") == "memory" else None)(
        api("GET", f"/api/commissions?status=rejected&booking={b1['_id']}", token)), 5,
        "the commission list from the copy")
    assert r.status_code == 200
    assert [c["_id"] for c in r.json()["data"]] == [c1["_id"]]
    r = api("GET", f"/api/commissions?status=pending&booking={b2['_id']}", token)
    assert r.json()["data"] == []  # the event handler's update reached the copy
    for q in ["status=nope", "sortBy=x", "agent=zz", "limit=500"]:
        assert api("GET", f"/api/commissions?{q}", token).status_code == 400, q


def test_bulk_approve_and_agents_see_only_their_own(root_token, agent):
    _, token = agent
    bs = [confirmed_booking(agent) for _ in range(3)]
    ids = [wait_commission(token, b["_id"])["_id"] for b in bs]
    assert api("POST", "/api/commissions/bulk-approve", root_token,
               json={"ids": ["x"]}).status_code == 400
    r = api("POST", "/api/commissions/bulk-approve", root_token,
            json={"ids": ids + [uuid.uuid4().hex[:24]]})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["approved"] == 3 and [x["status"] for x in d["results"]] == [200, 200, 200, 404]
    _, other = new_agent(root_token)
    assert commission(other, bs[0]["_id"]) == []
    assert api("GET", f"/api/commissions?agent={bs[0]['agent']}", other).status_code == 403
    assert len(commission(root_token, bs[0]["_id"])) == 1


def test_summary_per_currency(root_token):
    ag = new_agent(root_token)
    _, token = ag
    b = confirmed_booking(ag, total=200, tax=0, discount=0)
    wait_commission(token, b["_id"])
    r = api("GET", "/api/commissions/summary", token)
    assert r.status_code == 200, r.text
    inr = r.json()["data"]["byCurrency"]["INR"]
    assert inr["pendingMinor"] == 1000 and inr["pending"] == 10 and inr["count"] == 1
    again = api("GET", "/api/commissions/summary", token)
    assert again.headers["X-Cache"] == "HIT" and again.json() == r.json()
    c = commission(token, b["_id"])[0]
    assert api("PATCH", f"/api/commissions/{c['_id']}/approve", root_token).status_code == 200
    after = api("GET", "/api/commissions/summary", token)
    assert after.headers["X-Cache"] == "MISS", after.headers
    inr = after.json()["data"]["byCurrency"]["INR"]
    assert inr["pendingMinor"] == 0 and inr["approvedMinor"] == 1000


STATUSES = ["pending", "approved", "paid", "rejected", "cancelled"]


def expected_totals(commissions):
    """What the summary must say of these commissions, per currency, in minor units."""
    out = {}
    for c in commissions:
        t = out.setdefault(c["currency"], {"counts": dict.fromkeys(STATUSES, 0),
                                           "pendingMinor": 0, "approvedMinor": 0,
                                           "paidMinor": 0, "adjustmentsMinor": 0})
        t["counts"][c["status"]] += 1
        if c["status"] in ("pending", "approved", "paid"):
            t[c["status"] + "Minor"] += c["amountMinor"]
        t["adjustmentsMinor"] += c.get("adjustmentMinor", 0)
    return out


def shown_totals(by):
    keys = ["counts", "pendingMinor", "approvedMinor", "paidMinor", "adjustmentsMinor"]
    return {cur: {k: t[k] for k in keys} for cur, t in by.items()}


def test_summary_figures_from_the_read_model(root_token):
    """The summary after creates, approve, pay, reject and cancel (and a paid one's
    adjustment), exact per currency, from the read model (X-List-Source), an agent's
    own, and the approvers' equal to the whole commission list."""
    ag = new_agent(root_token)
    a, token = ag
    inr = [confirmed_booking(ag, total=t, tax=x, discount=0)
           for t, x in [(1000, 100), (333.33, 0), (200, 0), (100, 0), (150, 0), (80.01, 0)]]
    jpy = confirmed_booking(ag, total=12345, tax=0, discount=0, currency="JPY")
    usd = confirmed_booking(ag, total=99.99, tax=0, discount=0, currency="USD")
    cs = {b["_id"]: wait_commission(token, b["_id"]) for b in inr + [jpy, usd]}
    assert cs[inr[1]["_id"]]["amountMinor"] == 1667  # 5 % of 333.33, half up
    assert cs[jpy["_id"]]["amountMinor"] == 617 and cs[jpy["_id"]]["decimals"] == 0

    def summary(tok=token):
        r = api("GET", "/api/commissions/summary", tok)
        assert r.status_code == 200, r.text
        return r

    first = summary()
    assert first.headers["X-List-Source"] == COPY_SOURCE, first.headers
    assert shown_totals(first.json()["data"]["byCurrency"]) == expected_totals(cs.values())
    assert first.json()["data"]["byCurrency"]["INR"]["pendingMinor"] == \
        4500 + 1667 + 1000 + 500 + 750 + 400

    def patch(b, action, body=None):
        r = api("PATCH", f"/api/commissions/{b['_id']}/{action}", root_token, json=body)
        assert r.status_code == 200, r.text
        cs[b["_id"]] = r.json()["data"]

    patch(inr[0], "approve")
    patch(inr[1], "approve")
    patch(inr[1], "pay", {"payoutReference": "PO-" + uuid.uuid4().hex[:6]})
    patch(inr[2], "reject", {"reason": "not ours"})
    patch(inr[5], "approve")
    patch(usd, "approve")
    for b in (inr[3], inr[1], inr[5]):  # pending, paid and approved bookings cancelled
        r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "cancelled"})
        assert r.status_code == 200, r.text
    wait_commission(token, inr[3]["_id"], "cancelled")
    wait_commission(token, inr[5]["_id"], "cancelled")
    wait_for(lambda: [c for c in commission(token, inr[1]["_id"]) if c.get("adjusted")], 10,
             "the paid commission's adjustment")
    for b in inr + [jpy, usd]:
        cs[b["_id"]] = commission(token, b["_id"])[0]
    r = wait_for(lambda: (x := summary()).headers["X-Cache"] == "MISS" and x, 5, "a fresh summary")
    assert r.headers["X-List-Source"] == COPY_SOURCE
    by = r.json()["data"]["byCurrency"]
    assert shown_totals(by) == expected_totals(cs.values())
    assert by["INR"]["counts"] == {"pending": 1, "approved": 1, "paid": 1, "rejected": 1,
                                   "cancelled": 2}
    assert by["INR"]["pendingMinor"] == 750 and by["INR"]["pending"] == 7.5
    assert by["INR"]["approvedMinor"] == 4500 and by["INR"]["approved"] == 45
    assert by["INR"]["paidMinor"] == 1667 and by["INR"]["paid"] == 16.67
    assert by["INR"]["adjustmentsMinor"] == -1667 and by["INR"]["adjustments"] == -16.67
    assert by["INR"]["count"] == 6 and by["INR"]["decimals"] == 2
    assert by["JPY"]["pending"] == 617 and by["JPY"]["decimals"] == 0
    assert by["USD"]["approvedMinor"] == 500 and by["USD"]["approved"] == 5
    # another agent sees none of it; the approvers see everyone's, as the list has it
    _, other = new_agent(root_token)
    assert summary(other).json()["data"]["byCurrency"] == {}

    def everyone():
        items, page = [], 1
        while True:
            r = api("GET", f"/api/commissions?limit=100&page={page}", root_token)
            items += r.json()["data"]
            if not r.json()["pagination"]["hasNext"]:
                return items
            page += 1

    wait_for(lambda: shown_totals(summary(root_token).json()["data"]["byCurrency"]) ==
             expected_totals(everyone()), 5, "the approvers' summary equal to the list")


def test_rates_are_versioned_and_need_manage_settings(root_token, agent):
    a, token = agent
    assert api("GET", "/api/commissions/rates", token).status_code == 403
    cur = api("GET", "/api/commissions/rates", root_token).json()["data"]
    roles = dict(cur["roles"])
    bad = [{"version": cur["version"], "roles": dict(roles, agent=20000)},
           {"version": cur["version"], "roles": {"agent": 100}},
           {"version": cur["version"], "roles": roles, "agents": {"nope": 1}},
           {"roles": roles}]
    for body in bad:
        assert api("PUT", "/api/commissions/rates", root_token, json=body).status_code == 400, body
    r = api("PUT", "/api/commissions/rates", root_token,
            json={"version": cur["version"], "roles": roles, "agents": {a["_id"]: 1000}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["version"] == cur["version"] + 1
    stale = api("PUT", "/api/commissions/rates", root_token,
                json={"version": cur["version"], "roles": roles})
    assert stale.status_code == 409
    b = confirmed_booking(agent, total=1000, tax=0, discount=0)
    c = wait_commission(token, b["_id"])
    assert c["rateBasisPoints"] == 1000 and c["amountMinor"] == 10000
    assert c["ratesVersion"] == cur["version"] + 1
