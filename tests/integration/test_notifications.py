"""In-app notifications through the gateway (issue 14, items 1 and 2): made from the
other services' events for the right recipients exactly once, never for the actor;
the agent's own list with filters, the unread count, mark read / all read, delete;
preferences; SYSTEM messages; the failure paths (bad ids, another agent's, wrong
role, bad bodies)."""
import uuid

import pytest

from conftest import api, new_agent, wait_for
from test_bookings import create_booking, customer
from test_leads import create as create_lead
from test_payments import known, pay


def mine(token, query=""):
    r = api("GET", f"/api/notifications?limit=100{query}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def unread(token):
    r = api("GET", "/api/notifications/unread-count", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]["count"]


def wait_notice(token, ntype, resource_id, timeout=10):
    """The caller's notification of ntype about resource_id, once it exists."""
    return wait_for(lambda: [n for n in mine(token) if n["type"] == ntype
                             and n.get("resourceId") == resource_id], timeout,
                    f"{ntype} notification about {resource_id}")[0]


@pytest.fixture(scope="module")
def alice(root_session):
    return new_agent(root_session["accessToken"])


@pytest.fixture(scope="module")
def bob(root_session):
    return new_agent(root_session["accessToken"])


def test_an_approved_agent_is_told_and_the_approver_is_not(root_token, root_session):
    agent, token = new_agent(root_token)
    n = wait_notice(token, "AGENT_APPROVED", agent["_id"])
    assert n["priority"] == "high" and n["isRead"] is False and n["recipient"] == agent["_id"]
    assert "visible" not in n and n["title"] == "Your account is approved"
    # the administrator who approved it gets nothing about it
    assert not [x for x in mine(root_token) if x.get("resourceId") == agent["_id"]]


def test_role_change_names_both_roles(root_token):
    agent, token = new_agent(root_token, role="senior_agent")
    n = wait_notice(token, "ROLE_CHANGED", agent["_id"])
    assert n["title"] == "Your role is now senior_agent" and "from agent to senior_agent" in \
        n["message"]


def test_lead_assignment_and_status_reach_the_new_agent_once(root_token, alice, bob):
    lead = create_lead(alice[1])
    r = api("PATCH", f"/api/leads/{lead['_id']}/assign", root_token,
            json={"agentId": bob[0]["_id"]})
    assert r.status_code == 200, r.text
    n = wait_notice(bob[1], "LEAD_ASSIGNED", lead["_id"])
    assert n["resourceType"] == "lead" and "Riya" in n["title"] and "Bali" in n["message"]
    r = api("PATCH", f"/api/leads/{lead['_id']}/status", root_token, json={"status": "contacted"})
    assert r.status_code == 200, r.text
    s = wait_notice(bob[1], "LEAD_STATUS_CHANGED", lead["_id"])
    assert s["priority"] == "low" and "from new to contacted" in s["message"]
    # exactly one of each for bob, none for alice (not hers any more) about this lead
    about = [x for x in mine(bob[1]) if x.get("resourceId") == lead["_id"]]
    assert sorted(x["type"] for x in about) == ["LEAD_ASSIGNED", "LEAD_STATUS_CHANGED"]
    assert not [x for x in mine(alice[1]) if x.get("resourceId") == lead["_id"]]


def booking_of(agent):
    _, token = agent
    c = customer(token, firstName="Meera", lastName="N" + uuid.uuid4().hex[:6])
    b = create_booking(token, c["_id"], dest="Dest" + uuid.uuid4().hex[:8],
                       pricing={"totalAmount": 1000, "currency": "INR"})
    return b, c


def test_confirmation_by_an_admin_names_the_booking_and_its_customer(root_token, alice):
    b, c = booking_of(alice)
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", root_token, json={"status": "confirmed"})
    assert r.status_code == 200, r.text
    n = wait_notice(alice[1], "BOOKING_CONFIRMED", b["_id"])
    assert b["bookingReference"] in n["title"]
    assert c["lastName"] in n["message"] and b["tripDetails"]["destination"] in n["message"]


def test_cancellation_and_payment_reach_the_admins_not_the_acting_agent(root_token, alice):
    b, _ = booking_of(alice)
    known(alice[1], b["_id"])
    p = pay(alice[1], b["_id"], 250.5)
    assert p.status_code == 201, p.text
    pid = p.json()["data"]["_id"]
    n = wait_notice(root_token, "PAYMENT_RECEIVED", pid)
    assert "250.50 INR" in n["title"] and b["bookingReference"] in n["message"]
    assert "749.50 INR outstanding" in n["message"]
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", alice[1],
            json={"status": "cancelled", "reason": "visa refused"})
    assert r.status_code == 200, r.text
    x = wait_notice(root_token, "BOOKING_CANCELLED", b["_id"])
    assert "visa refused" in x["message"] and x["priority"] == "medium"
    # alice did both herself: nothing about them for her
    assert not [y for y in mine(alice[1]) if y.get("resourceId") in (pid, b["_id"])]


def test_commission_approval_reaches_its_agent(root_token, alice):
    b, _ = booking_of(alice)
    known(alice[1], b["_id"])
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", alice[1], json={"status": "confirmed"})
    assert r.status_code == 200, r.text
    c = wait_for(lambda: api("GET", f"/api/commissions?booking={b['_id']}", alice[1])
                 .json()["data"], 10, "commission")[0]
    assert api("PATCH", f"/api/commissions/{c['_id']}/approve", root_token).status_code == 200
    n = wait_notice(alice[1], "COMMISSION_APPROVED", c["_id"])
    assert f"{c['amount']:.2f} INR" in n["title"] and b["bookingReference"] in n["message"]


def test_read_unread_read_all_and_delete(root_token):
    agent, token = new_agent(root_token, role="senior_agent")  # approved + role: two
    wait_for(lambda: len(mine(token)) == 2, 10, "two notifications")
    assert unread(token) == 2
    first, second = mine(token)
    assert first["createdAt"] >= second["createdAt"]  # newest first
    r = api("PATCH", f"/api/notifications/{first['_id']}/read", token)
    assert r.status_code == 200 and r.json()["data"]["isRead"] is True and r.json()["data"]["readAt"]
    assert unread(token) == 1
    assert [n["_id"] for n in mine(token, "&isRead=false")] == [second["_id"]]
    assert [n["_id"] for n in mine(token, "&isRead=true")] == [first["_id"]]
    assert [n["type"] for n in mine(token, "&type=ROLE_CHANGED")] == ["ROLE_CHANGED"]
    r = api("PATCH", "/api/notifications/read-all", token)
    assert r.status_code == 200 and r.json()["data"] == {"marked": 1, "remaining": 0}
    assert unread(token) == 0
    assert api("DELETE", f"/api/notifications/{first['_id']}", token).status_code == 200
    assert [n["_id"] for n in mine(token)] == [second["_id"]]
    # deleted: gone for every route
    assert api("PATCH", f"/api/notifications/{first['_id']}/read", token).status_code == 404
    assert api("DELETE", f"/api/notifications/{first['_id']}", token).status_code == 404


def test_another_agents_notification_is_not_found_and_bad_input_is_400(root_token, alice, bob):
    theirs = wait_notice(alice[1], "AGENT_APPROVED", alice[0]["_id"])
    for method, path in [("PATCH", f"/api/notifications/{theirs['_id']}/read"),
                         ("DELETE", f"/api/notifications/{theirs['_id']}")]:
        r = api(method, path, bob[1])
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", r.text
    assert wait_notice(alice[1], "AGENT_APPROVED", alice[0]["_id"])["isRead"] is False
    assert api("PATCH", "/api/notifications/nope/read", bob[1]).status_code == 400
    assert api("DELETE", "/api/notifications/zz", bob[1]).status_code == 400
    for q in ["&isRead=maybe", "&type=NOPE", "&priority=urgent", "&sortBy=title"]:
        r = api("GET", f"/api/notifications?limit=5{q}", bob[1])
        assert r.status_code == 400, (q, r.text)
    assert api("GET", "/api/notifications").status_code == 401


def test_preferences_turn_a_type_off_in_app_and_refuse_what_cannot_be(root_token, alice):
    agent, token = new_agent(root_token)
    r = api("GET", "/api/notifications/preferences", token)
    assert r.status_code == 200
    prefs = {p["type"]: p for p in r.json()["data"]["preferences"]}
    assert prefs["LEAD_ASSIGNED"] == {"type": "LEAD_ASSIGNED", "inApp": True, "email": True,
                                      "emailAvailable": True, "inAppRequired": False}
    assert prefs["BOOKING_CANCELLED"]["email"] is False
    r = api("PUT", "/api/notifications/preferences", token,
            json={"preferences": {"LEAD_STATUS_CHANGED": {"inApp": False}}})
    assert r.status_code == 200, r.text
    prefs = {p["type"]: p for p in r.json()["data"]["preferences"]}
    assert prefs["LEAD_STATUS_CHANGED"]["inApp"] is False and prefs["LEAD_ASSIGNED"]["inApp"]
    lead = create_lead(alice[1])
    assert api("PATCH", f"/api/leads/{lead['_id']}/assign", root_token,
               json={"agentId": agent["_id"]}).status_code == 200
    wait_notice(token, "LEAD_ASSIGNED", lead["_id"])
    assert api("PATCH", f"/api/leads/{lead['_id']}/status", root_token,
               json={"status": "contacted"}).status_code == 200
    # the status change was handled (a later event shows) but made no visible notification
    lead2 = create_lead(alice[1])
    assert api("PATCH", f"/api/leads/{lead2['_id']}/assign", root_token,
               json={"agentId": agent["_id"]}).status_code == 200
    wait_notice(token, "LEAD_ASSIGNED", lead2["_id"])
    assert not [n for n in mine(token) if n["type"] == "LEAD_STATUS_CHANGED"]
    for body in [{}, {"preferences": {}}, {"preferences": {"NOPE": {"inApp": False}}},
                 {"preferences": {"BOOKING_CANCELLED": {"email": True}}},
                 {"preferences": {"SYSTEM": {"inApp": False}}},
                 {"preferences": {"LEAD_ASSIGNED": {"inApp": "no"}}},
                 {"preferences": {"LEAD_ASSIGNED": {"sms": True}}},
                 {"preferences": {"LEAD_ASSIGNED": True}}, {"other": 1}]:
        r = api("PUT", "/api/notifications/preferences", token, json=body)
        assert r.status_code == 400, (body, r.text)
    prefs = {p["type"]: p for p in api("GET", "/api/notifications/preferences", token)
             .json()["data"]["preferences"]}
    assert prefs["LEAD_ASSIGNED"]["inApp"] is True and prefs["SYSTEM"]["inApp"] is True


def test_system_messages_need_the_permission_and_reach_who_they_name(root_token, alice, bob):
    body = {"title": "Maintenance tonight", "message": "The platform restarts at 23:00."}
    assert api("POST", "/api/notifications/system", alice[1], json=body).status_code == 403
    r = api("POST", "/api/notifications/system", root_token,
            json=dict(body, recipients=[bob[0]["_id"]], priority="high"))
    assert r.status_code == 201 and r.json()["data"]["recipients"] == 1, r.text
    n = wait_for(lambda: [x for x in mine(bob[1], "&type=SYSTEM")
                          if x["title"] == "Maintenance tonight"], 5, "system message")[0]
    assert n["priority"] == "high" and n["message"] == body["message"]
    assert not [x for x in mine(alice[1], "&type=SYSTEM") if x["title"] == "Maintenance tonight"]
    for bad in [{}, {"title": "x"}, dict(body, priority="urgent"), dict(body, recipients=[]),
                dict(body, recipients=["nope"]), dict(body, role="pilot"),
                dict(body, recipients=[bob[0]["_id"]], role="agent"), dict(body, extra=1),
                dict(body, title="x" * 201)]:
        r = api("POST", "/api/notifications/system", root_token, json=bad)
        assert r.status_code == 400, (bad, r.text)
    r = api("POST", "/api/notifications/system", root_token,
            json=dict(body, recipients=["0" * 24]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "UNKNOWN_AGENT"


def test_notifications_made_while_the_daemon_was_down_exist_once_after_restart(
        stack, root_token, alice, bob):
    stack.stop("notification")
    leads = []
    try:
        for _ in range(10):
            lead = create_lead(alice[1])
            assert api("PATCH", f"/api/leads/{lead['_id']}/assign", root_token,
                       json={"agentId": bob[0]["_id"]}).status_code == 200
            leads.append(lead["_id"])
    finally:
        stack.start("notification")
    ids = set(leads)

    def all_there():
        r = api("GET", "/api/notifications?limit=100&type=LEAD_ASSIGNED", bob[1])
        x = [n for n in r.json()["data"] if n.get("resourceId") in ids] if r.ok else []
        return len(x) >= 10 and x
    got = wait_for(all_there, 30, "the notifications of the events published meanwhile")
    assert sorted(n["resourceId"] for n in got) == sorted(leads)  # each exactly once
