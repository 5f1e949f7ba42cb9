"""The audit trail through the gateway: every auth action becomes exactly one audit
entry in the analytics service (who, what, on what, before/after, from where), the
list filters, sorts and pages, the stats count, only canViewAuditLogs may read it,
bad input is 400, and a crashed analytics daemon catches up without duplicates."""
import re
import time
import uuid

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, api, new_agent, redis_cli, wait_for

UA = "tripdesk-audit-tests/1.0"
PASSWORD = "Str0ng-Passw0rd!"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EVENT_TIMEOUT = 20


@pytest.fixture(autouse=True)
def fresh_ip_counter(stack):
    redis_cli("DEL", "auth:fail:ip:127.0.0.1")
    yield
    redis_cli("DEL", "auth:fail:ip:127.0.0.1")


def rid():
    return "audit-" + uuid.uuid4().hex


def call(method, path, token=None, request_id=None, **kw):
    """A request from the test's own user agent, with a known request id."""
    headers = {"User-Agent": UA, "X-Request-Id": request_id or rid()}
    return api(method, path, token, headers=headers, **kw)


def fetch(token, query=""):
    """GET /api/audit-logs?query: the body, or None when the request failed (for polling)."""
    r = api("GET", "/api/audit-logs" + ("?" + query if query else ""), token)
    return r.json() if r.status_code == 200 else None


def audit(token, query=""):
    body = fetch(token, query)
    assert body is not None, query
    return body


def total(token, query):
    """totalDocs of a list query, or -1 when the request failed (for polling)."""
    body = fetch(token, query)
    return body["pagination"]["totalDocs"] if body else -1


def entries_of(token, request_id):
    """The audit entries made by one request (the request id is in searchText)."""
    body = fetch(token, f"search={request_id}&limit=100")
    return body["data"] if body else None


def the_entry(token, request_id, action):
    """Waits for the entry of a request, then checks it stays the only one."""
    wait_for(lambda: entries_of(token, request_id), EVENT_TIMEOUT, f"{action} audit entry")
    time.sleep(0.3)
    entries = audit(token, f"search={request_id}&limit=100")["data"]
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["action"] == action
    assert entry["metadata"] == {"ip": "127.0.0.1", "userAgent": UA, "requestId": request_id}
    assert ISO.match(entry["createdAt"]) and re.fullmatch(r"[0-9a-f]{24}", entry["_id"])
    assert "searchText" not in entry and "severityRank" not in entry
    assert entry["publisher"] == "auth" and entry["sequence"] >= 1
    return entry


@pytest.fixture(scope="module")
def root_id(root_session):
    return root_session["agent"]["_id"]


def register(request_id):
    email = f"audit-{uuid.uuid4().hex[:10]}@example.com"
    r = call("POST", "/api/auth/register", request_id=request_id, json={
        "email": email, "password": PASSWORD, "firstName": "Audit", "lastName": "Trail",
        "phone": "+91 98765 43210", "agencyName": "Audit Travels"})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_agent_lifecycle_gives_one_entry_per_action(root_token, root_id):
    ids = {a: rid() for a in ["register", "approve", "login", "role", "deactivate"]}
    agent = register(ids["register"])
    aid = agent["_id"]
    assert call("PATCH", f"/api/agents/{aid}/approve", root_token, ids["approve"]).status_code == 200
    r = call("POST", "/api/auth/login", None, ids["login"],
             json={"email": agent["email"], "password": PASSWORD})
    assert r.status_code == 200, r.text
    r = call("PATCH", f"/api/agents/{aid}/role", root_token, ids["role"],
             json={"role": "senior_agent"})
    assert r.status_code == 200, r.text
    r = call("PATCH", f"/api/agents/{aid}/deactivate", root_token, ids["deactivate"])
    assert r.status_code == 200, r.text

    e = the_entry(root_token, ids["register"], "AGENT_REGISTERED")
    assert (e["performedBy"], e["performedByRole"]) == (aid, "agent")  # self-registration
    assert (e["resourceType"], e["targetType"], e["targetId"]) == ("agent", "agent", aid)
    assert e["severity"] == "info"
    assert e["changes"] == {"before": None, "after": None}
    assert e["details"]["agent"]["email"] == agent["email"]
    assert "passwordHash" not in e["details"]["agent"]

    e = the_entry(root_token, ids["approve"], "AGENT_APPROVED")
    assert (e["performedBy"], e["performedByRole"]) == (root_id, "super_admin")
    assert (e["resourceType"], e["targetId"], e["severity"]) == ("agent", aid, "info")
    assert e["changes"] == {"before": {"status": "pending"}, "after": {"status": "active"}}

    e = the_entry(root_token, ids["login"], "AUTH_LOGIN")
    assert (e["performedBy"], e["performedByRole"]) == (aid, "agent")  # the agent signed in
    assert (e["resourceType"], e["targetId"], e["severity"]) == ("auth", aid, "info")

    e = the_entry(root_token, ids["role"], "AGENT_ROLE_CHANGED")
    assert (e["performedBy"], e["performedByRole"]) == (root_id, "super_admin")
    assert (e["resourceType"], e["targetId"], e["severity"]) == ("agent", aid, "critical")
    assert e["changes"] == {"before": {"role": "agent"}, "after": {"role": "senior_agent"}}

    e = the_entry(root_token, ids["deactivate"], "AGENT_DEACTIVATED")
    assert (e["performedBy"], e["resourceType"], e["severity"]) == (root_id, "agent", "warning")
    assert e["changes"] == {"before": {"status": "active"}, "after": {"status": "deactivated"}}

    # The whole story of the agent, by target, oldest first.
    data = audit(root_token, f"targetId={aid}&sortBy=createdAt&sortOrder=asc")["data"]
    assert [x["action"] for x in data] == ["AGENT_REGISTERED", "AGENT_APPROVED", "AUTH_LOGIN",
                                           "AGENT_ROLE_CHANGED", "AGENT_DEACTIVATED"]


def test_super_admin_sign_in_is_audited(root_token, root_id):
    request_id = rid()
    r = call("POST", "/api/auth/login", None, request_id,
             json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    e = the_entry(root_token, request_id, "AUTH_LOGIN")
    assert (e["performedBy"], e["performedByRole"]) == (root_id, "super_admin")
    assert (e["resourceType"], e["targetId"], e["severity"]) == ("auth", root_id, "info")


def test_failed_sign_in_is_a_warning_without_actor(root_token):
    agent, _ = new_agent(root_token)
    request_id = rid()
    r = call("POST", "/api/auth/login", None, request_id,
             json={"email": agent["email"], "password": "Wrong-Passw0rd!"})
    assert r.status_code == 401
    e = the_entry(root_token, request_id, "AUTH_LOGIN_FAILED")
    assert e["performedBy"] is None and e["performedByRole"] is None
    assert (e["resourceType"], e["severity"]) == ("auth", "warning")
    assert e["details"]["email"] == agent["email"]
    # Findable by the email that was tried.
    query = "action=AUTH_LOGIN_FAILED&search=" + agent["email"].split("@")[0]
    data = wait_for(lambda: (b := fetch(root_token, query)) and b["data"], 5, "search by email")
    assert [x["_id"] for x in data] == [e["_id"]]


def test_permission_changes_are_critical_with_before_and_after(root_token, root_id):
    set_id, back_id = rid(), rid()
    r = call("PUT", "/api/permissions/junior_agent", root_token, set_id,
             json={"permissions": {"canUploadFiles": True}})
    assert r.status_code == 200, r.text
    r = call("PUT", "/api/permissions/junior_agent", root_token, back_id,
             json={"permissions": {"canUploadFiles": False}})
    assert r.status_code == 200, r.text
    e = the_entry(root_token, set_id, "PERMISSIONS_UPDATED")
    assert (e["performedBy"], e["performedByRole"]) == (root_id, "super_admin")
    assert (e["resourceType"], e["severity"], e["targetId"]) == ("permission", "critical",
                                                                 "matrix")
    before, after = e["changes"]["before"], e["changes"]["after"]
    assert before["roles"]["junior_agent"]["canUploadFiles"] is False
    assert after["roles"]["junior_agent"]["canUploadFiles"] is True
    assert after["version"] == before["version"] + 1
    e2 = the_entry(root_token, back_id, "PERMISSIONS_UPDATED")
    assert e2["changes"]["before"] == after


def test_list_filters_sorts_and_pages(root_token, root_id):
    agent, _ = new_agent(root_token)
    aid = agent["_id"]
    wait_for(lambda: total(root_token, f"targetId={aid}") >= 3, EVENT_TIMEOUT,
             "the agent's entries")

    def each(query, pred):
        body = audit(root_token, query + "&limit=100")
        assert body["data"], query
        assert all(pred(x) for x in body["data"]), query
        return body

    each("action=AGENT_APPROVED,AUTH_LOGIN", lambda x: x["action"] in ("AGENT_APPROVED",
                                                                       "AUTH_LOGIN"))
    each(f"performedBy={root_id}", lambda x: x["performedBy"] == root_id)
    each(f"performedBy={root_id.upper()}", lambda x: x["performedBy"] == root_id)
    each("resourceType=agent,auth", lambda x: x["resourceType"] in ("agent", "auth"))
    each("severity=info", lambda x: x["severity"] == "info")
    each(f"targetId={aid}&resourceType=agent&severity=info",
         lambda x: x["targetId"] == aid and x["resourceType"] == "agent")
    each(f"search={agent['email'].upper()}", lambda x: x["targetId"] == aid)

    # Periods: both bounds together, a bare day means the whole day.
    everything = audit(root_token)["pagination"]["totalDocs"]
    assert audit(root_token, "startDate=2001-01-01&endDate=2199-12-31")["pagination"][
        "totalDocs"] >= everything
    assert audit(root_token, "endDate=2001-01-01")["pagination"]["totalDocs"] == 0
    assert audit(root_token, "endDate=1950-01-01")["pagination"]["totalDocs"] == 0
    assert audit(root_token, "startDate=2199-01-01")["pagination"]["totalDocs"] == 0
    newest = audit(root_token, f"targetId={aid}")["data"][0]["createdAt"]
    day = newest[:10]
    window = audit(root_token, f"targetId={aid}&startDate={day}&endDate={day}")
    assert window["pagination"]["totalDocs"] >= 3
    exact = audit(root_token, f"targetId={aid}&startDate={newest}&endDate={newest}")
    assert newest in [x["createdAt"] for x in exact["data"]]

    # Default order: newest first; other sort keys.
    data = audit(root_token, "limit=100")["data"]
    stamps = [x["createdAt"] for x in data]
    assert stamps == sorted(stamps, reverse=True)
    actions = [x["action"] for x in audit(root_token, "sortBy=action&sortOrder=asc&limit=100")[
        "data"]]
    assert actions == sorted(actions)
    rank = {"info": 1, "warning": 2, "critical": 3}
    sev = [rank[x["severity"]] for x in audit(root_token, "sortBy=severity&limit=100")["data"]]
    assert sev == sorted(sev, reverse=True)

    # Pages do not overlap and say where they are.
    p1 = audit(root_token, "limit=2&page=1")
    p2 = audit(root_token, "limit=2&page=2")
    assert len(p1["data"]) == 2 and p1["pagination"]["limit"] == 2
    assert p1["pagination"]["hasNext"] is True and p1["pagination"]["hasPrev"] is False
    assert p2["pagination"]["page"] == 2 and p2["pagination"]["hasPrev"] is True
    assert not {x["_id"] for x in p1["data"]} & {x["_id"] for x in p2["data"]}
    pg = p1["pagination"]
    assert pg["totalPages"] == (pg["totalDocs"] + 1) // 2


def test_get_one_entry_and_bad_or_unknown_ids(root_token):
    entry = audit(root_token, "limit=1")["data"][0]
    r = api("GET", f"/api/audit-logs/{entry['_id']}", root_token)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == entry
    r = api("GET", f"/api/audit-logs/{entry['_id'].upper()}", root_token)
    assert r.status_code == 200 and r.json()["data"]["_id"] == entry["_id"]
    for bad in ["123", "z" * 24, "a" * 25, "%24ne"]:
        r = api("GET", f"/api/audit-logs/{bad}", root_token)
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "INVALID_ID"
    r = api("GET", f"/api/audit-logs/{uuid.uuid4().hex[:24]}", root_token)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("query,field", [
    ("foo=bar", "foo"),
    ("action=", "action"),
    ("action=agent_approved", "action"),
    ("action=AGENT_APPROVED,,AUTH_LOGIN", "action"),
    ("action[$ne]=AUTH_LOGIN", "action[$ne]"),
    ("performedBy=123", "performedBy"),
    ("performedBy=" + "g" * 24, "performedBy"),
    ("resourceType=planet", "resourceType"),
    ("severity=fatal", "severity"),
    ("severity=info,fatal", "severity"),
    ("startDate=2026-13-01", "startDate"),
    ("endDate=yesterday", "endDate"),
    ("startDate=2026-02-02&endDate=2026-02-01", "endDate"),
    ("page=0", "page"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=5&limit=6", "limit"),
    ("sortBy=ip", "sortBy"),
    ("sortOrder=up", "sortOrder"),
    ("search=" + "a" * 101, "search"),
])
def test_bad_list_parameters_are_400(root_token, query, field):
    r = api("GET", "/api/audit-logs?" + query, root_token)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR" and err["details"]["field"] == field


def test_stats_count_by_resource_severity_and_action(root_token):
    agent, _ = new_agent(root_token)
    wait_for(lambda: total(root_token, f"targetId={agent['_id']}") >= 3, EVENT_TIMEOUT,
             "the agent's entries")
    r = api("GET", "/api/audit-logs/stats", root_token)
    assert r.status_code == 200, r.text
    s = r.json()["data"]
    assert s["period"] == {"startDate": None, "endDate": None}
    assert set(s["bySeverity"]) == {"info", "warning", "critical"}
    assert {"booking", "payment", "lead", "agent", "customer", "commission", "itinerary", "auth",
            "permission", "system"} <= set(s["byResourceType"])
    assert s["total"] == sum(s["bySeverity"].values()) == sum(s["byResourceType"].values())
    assert s["byResourceType"]["agent"] >= 2 and s["byResourceType"]["auth"] >= 1
    counts = [a["count"] for a in s["byAction"]]
    assert 0 < len(counts) <= 20 and counts == sorted(counts, reverse=True)
    assert "AGENT_REGISTERED" in [a["action"] for a in s["byAction"]]

    r = api("GET", "/api/audit-logs/stats?startDate=2001-01-01&endDate=2001-12-31", root_token)
    assert r.status_code == 200
    old = r.json()["data"]
    assert old["total"] == 0 and old["byAction"] == [] and not any(old["bySeverity"].values())
    assert old["period"] == {"startDate": "2001-01-01T00:00:00.000Z",
                             "endDate": "2001-12-31T23:59:59.999Z"}
    r = api("GET", "/api/audit-logs/stats?startDate=2001-01-01", root_token)
    assert r.status_code == 200 and r.json()["data"]["total"] >= s["total"]

    for query, field in [("foo=1", "foo"), ("startDate=bad", "startDate"),
                         ("endDate=2026-02-30", "endDate"),
                         ("startDate=2026-02-02&endDate=2026-02-01", "endDate"),
                         ("startDate=2026-01-01&startDate=2026-01-02", "startDate"),
                         ("startDate=", "startDate")]:
        r = api("GET", "/api/audit-logs/stats?" + query, root_token)
        assert r.status_code == 400, query
        assert r.json()["error"]["details"]["field"] == field


def test_only_roles_with_can_view_audit_logs_may_read(root_token):
    some_id = audit(root_token, "limit=1")["data"][0]["_id"]
    paths = ["/api/audit-logs", "/api/audit-logs/stats", f"/api/audit-logs/{some_id}"]
    for role in ["agent", "senior_agent"]:
        _, token = new_agent(root_token, role=role)
        for path in paths:
            r = api("GET", path, token)
            assert r.status_code == 403, (role, path)
            assert r.json()["error"]["details"]["permission"] == "canViewAuditLogs"
    _, admin = new_agent(root_token, role="admin")
    for path in paths:
        assert api("GET", path, admin).status_code == 200, path
    assert api("GET", "/api/audit-logs").status_code == 401


def test_entries_made_while_analytics_is_down_arrive_once(stack, root_token):
    agent = register(rid())
    aid = agent["_id"]
    wait_for(lambda: total(root_token, f"targetId={aid}") == 1, EVENT_TIMEOUT,
             "registration entry")
    ids = {"approve": rid(), "role": rid(), "deactivate": rid()}
    stack.kill("analytics")  # a crash, not a clean stop
    try:
        assert call("PATCH", f"/api/agents/{aid}/approve", root_token,
                    ids["approve"]).status_code == 200
        assert call("PATCH", f"/api/agents/{aid}/role", root_token, ids["role"],
                    json={"role": "junior_agent"}).status_code == 200
        assert call("PATCH", f"/api/agents/{aid}/deactivate", root_token,
                    ids["deactivate"]).status_code == 200
        wait_for(lambda: api("GET", "/api/audit-logs", root_token).status_code == 503, 5,
                 "audit logs unavailable while analytics is down")
    finally:
        stack.start("analytics")
    wait_for(lambda: api("GET", "/api/dashboard/ping", root_token).status_code == 200, 15,
             "analytics back")
    wait_for(lambda: total(root_token, f"targetId={aid}") == 4, 30,
             "all entries after the restart")
    time.sleep(2.5)  # a few catch-up rounds: nothing arrives a second time
    data = audit(root_token, f"targetId={aid}&sortBy=createdAt&sortOrder=asc")["data"]
    assert [x["action"] for x in data] == ["AGENT_REGISTERED", "AGENT_APPROVED",
                                           "AGENT_ROLE_CHANGED", "AGENT_DEACTIVATED"]
    for action, request_id in [("AGENT_APPROVED", ids["approve"]),
                               ("AGENT_ROLE_CHANGED", ids["role"]),
                               ("AGENT_DEACTIVATED", ids["deactivate"])]:
        the_entry(root_token, request_id, action)


# ---- the read model (lists and stats from memory on FerretDB) ----------------------

def stats(token, query=""):
    r = api("GET", "/api/audit-logs/stats" + ("?" + query if query else ""), token)
    assert r.status_code == 200, r.text
    return r


def action_count(s, action):
    return next((a["count"] for a in s["byAction"] if a["action"] == action), 0)


def test_stats_follow_new_events_from_the_read_model(root_token):
    r = stats(root_token)
    assert r.headers["X-List-Source"] == "memory"
    before = r.json()["data"]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    today_before = stats(root_token, f"startDate={day}&endDate={day}").json()["data"]["total"]
    approvals = action_count(before, "AGENT_APPROVED")
    agent, _ = new_agent(root_token)  # AGENT_REGISTERED, AGENT_APPROVED
    wait_for(lambda: total(root_token, f"targetId={agent['_id']}") >= 2, EVENT_TIMEOUT,
             "the agent's entries")
    after = wait_for(lambda: (s := stats(root_token).json()["data"])["total"] >= before["total"] + 2
                     and s, EVENT_TIMEOUT, "stats with the new entries")
    assert action_count(after, "AGENT_APPROVED") >= approvals + 1
    assert after["byResourceType"]["agent"] >= before["byResourceType"]["agent"] + 2
    assert after["bySeverity"]["info"] >= before["bySeverity"]["info"] + 2
    assert after["total"] == sum(after["bySeverity"].values())
    # the same entries as the list counts, for all time and for today
    body = fetch(root_token, "limit=1")
    assert abs(body["pagination"]["totalDocs"] - after["total"]) <= 5  # events keep coming
    today = stats(root_token, f"startDate={day}&endDate={day}").json()["data"]
    assert today["total"] >= today_before + 2
    listed = audit(root_token, f"startDate={day}&endDate={day}&limit=1")["pagination"]["totalDocs"]
    assert abs(listed - today["total"]) <= 5
    # a period that starts at the newest entry holds it
    newest = audit(root_token, "limit=1")["data"][0]
    s = stats(root_token, f"startDate={newest['createdAt']}").json()["data"]
    assert s["total"] >= 1 and action_count(s, newest["action"]) >= 1


def quiet_answers(token, queries):
    """The answers to queries once the trail holds still (two rounds alike)."""
    def round_():
        out = {}
        for q in queries:
            path = "/api/audit-logs/stats" if q.startswith("stats") else "/api/audit-logs"
            q = q[len("stats"):].lstrip("&") if q.startswith("stats") else q
            r = api("GET", path + ("?" + q if q else ""), token)
            assert r.status_code == 200, (q, r.text)
            out[q or path] = (r.json()["data"], r.json().get("pagination"),
                              r.headers.get("X-List-Source"))
        return out
    last = round_()
    for _ in range(20):
        time.sleep(0.5)
        now = round_()
        if {k: v[:2] for k, v in now.items()} == {k: v[:2] for k, v in last.items()}:
            return now
        last = now
    raise AssertionError("the audit trail kept changing")


def analytics_with(stack, name, **env):
    from stack import Daemon
    d = stack.daemons["analytics"]
    return Daemon(name, d.argv, {**d.env, **env}, d.log_path.replace("analytics", name))


def instances(service):
    return api("GET", "/api/health").json()["data"]["services"][service]["instances"]


def test_database_answers_like_the_read_model(stack, root_token, root_id):
    """TRIPDESK_LIST_COPIES=off: the same requests give the same answers from FerretDB."""
    agent, _ = new_agent(root_token)
    aid = agent["_id"]
    wait_for(lambda: total(root_token, f"targetId={aid}") >= 2, EVENT_TIMEOUT, "entries")
    day = audit(root_token, "limit=1")["data"][0]["createdAt"][:10]
    queries = ["", "limit=5&page=2", f"targetId={aid}", f"performedBy={root_id}&limit=50",
               "action=AGENT_APPROVED,AUTH_LOGIN&sortBy=action&sortOrder=asc",
               "resourceType=agent,auth&severity=info,warning&sortBy=severity",
               f"search={agent['email'][:12]}", f"startDate={day}&endDate={day}&limit=100",
               "sortBy=severity&sortOrder=asc&limit=100", "stats", f"stats&startDate={day}"]
    memory = quiet_answers(root_token, queries)
    assert {v[2] for v in memory.values()} == {"memory"}
    off = analytics_with(stack, "analytics-off", TRIPDESK_LIST_COPIES="off")
    off.start()
    try:
        wait_for(lambda: instances("analytics") == 2, 10, "two analytics instances")
        stack.stop("analytics")
        wait_for(lambda: instances("analytics") == 1, 10, "only the one without the model")
        database = quiet_answers(root_token, queries)
    finally:
        stack.start("analytics")
        wait_for(lambda: instances("analytics") == 2, 15, "analytics back")
        off.stop()
    assert {v[2] for v in database.values()} == {"database"}
    for q in memory:
        assert memory[q][:2] == database[q][:2], q


def test_a_second_daemon_sees_the_first_ones_entries(stack, root_token):
    """Two analytics daemons keep their models in step through the Redis stream."""
    extra = analytics_with(stack, "analytics-2")
    extra.start()
    try:
        wait_for(lambda: instances("analytics") == 2, 10, "two analytics instances")
        log = stack.daemons["analytics"].log_path.replace("analytics", "analytics-2")
        wait_for(lambda: "list copy of audit_logs" in open(log).read(), 15,
                 "the second daemon's model loaded")
        for _ in range(3):
            agent, _ = new_agent(root_token)
            # every request, whichever daemon answers, has the entries once written
            wait_for(lambda: total(root_token, f"targetId={agent['_id']}") >= 2, EVENT_TIMEOUT,
                     "the agent's entries")
            for _ in range(6):
                r = api("GET", f"/api/audit-logs?targetId={agent['_id']}", root_token)
                assert r.status_code == 200 and r.headers["X-List-Source"] == "memory"
                assert r.json()["pagination"]["totalDocs"] >= 2
                s = stats(root_token, f"startDate={r.json()['data'][-1]['createdAt']}")
                assert s.json()["data"]["total"] >= 2
    finally:
        extra.stop()
