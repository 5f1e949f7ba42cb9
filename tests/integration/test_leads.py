"""The lead pipeline through the gateway: create, read, partial update with versions,
soft delete, the status machine, assignment, conversion into a customer and a
booking (with conflict protection), search/filter/sort/pagination, the list cache,
object-level authorization, and the LEAD_* events as the audit trail records them.
Every rejected request is checked to have changed nothing."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import api, new_agent, unique_email, unique_phone, wait_for

EVENT_TIMEOUT = 20
OPEN_PIPELINE = ["new", "contacted", "qualified", "proposal", "negotiation"]


@pytest.fixture(scope="module")
def root(root_session):
    return root_session["accessToken"]


@pytest.fixture(scope="module")
def alice(root):
    return new_agent(root)


@pytest.fixture(scope="module")
def bob(root):
    return new_agent(root)


@pytest.fixture(scope="module")
def senior(root):
    return new_agent(root, role="senior_agent")


@pytest.fixture(scope="module")
def admin(root):
    return new_agent(root, role="admin")


@pytest.fixture
def fresh(root):
    """An agent of its own, for tests that count what an agent has."""
    return new_agent(root)


def lead_body(**over):
    marker = uuid.uuid4().hex[:8]
    body = {"name": {"firstName": "Riya", "lastName": f"Kapoor{marker}"},
            "contactInfo": {"email": f"riya.{marker}@example.com", "phone": unique_phone()},
            "source": "website", "interestedDestination": "Bali",
            "budget": {"amount": 150000.5, "currency": "INR"},
            "travelDates": {"from": "2027-03-01", "to": "2027-03-10"},
            "notes": "Honeymoon, prefers villas"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def create(token, **over):
    r = api("POST", "/api/leads", token, json=lead_body(**over))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def get(token, lead_id):
    r = api("GET", f"/api/leads/{lead_id}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def listing(token, query=""):
    r = api("GET", "/api/leads" + ("?" + query if query else ""), token)
    assert r.status_code == 200, r.text
    return r.json()


def total(token, query=""):
    return listing(token, query)["pagination"]["totalDocs"]


def status(token, lead_id, to, **extra):
    return api("PATCH", f"/api/leads/{lead_id}/status", token, json={"status": to, **extra})


def error(r, status_code, code=None):
    assert r.status_code == status_code, r.text
    err = r.json()["error"]
    if code:
        assert err["code"] == code, err
    return err


def audit_entries(root, target_id, n):
    """The audit entries of a target once there are at least n, oldest first."""
    def fetch():
        r = api("GET", f"/api/audit-logs?targetId={target_id}&sortBy=createdAt&sortOrder=asc"
                       "&limit=100", root)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        return data if len(data) >= n else None
    return wait_for(fetch, EVENT_TIMEOUT, f"{n} audit entries of {target_id}")


def new_customer(token, **over):
    body = {"firstName": "Meera", "lastName": "Iyer" + uuid.uuid4().hex[:6],
            "phone": unique_phone()}
    body.update(over)
    r = api("POST", "/api/customers", token, json=body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def booking_body(destination="Goa " + uuid.uuid4().hex[:6]):
    return {"tripDetails": {"title": "Family week", "destination": destination,
                            "startDate": "2027-05-01", "endDate": "2027-05-08",
                            "tripType": "family", "travellers": {"adults": 2}},
            "pricing": {"totalAmount": 1000, "currency": "INR"}}


# ---------------------------------------------------------------- create and read

def test_create_returns_the_lead_with_defaults_and_hides_internal_fields(alice):
    agent, token = alice
    lead = create(token, source=None)
    assert lead["status"] == "new" and lead["priority"] == "medium" and lead["source"] == "other"
    assert lead["assignedAgent"] == agent["_id"] and lead["createdBy"] == agent["_id"]
    assert lead["version"] == 1 and lead["budget"] == {"amount": 150000.5, "currency": "INR"}
    assert lead["travelDates"] == {"from": "2027-03-01T00:00:00.000Z",
                                   "to": "2027-03-10T00:00:00.000Z"}
    for f in ("_id", "createdAt", "updatedAt", "lastActivityAt"):
        assert f in lead
    for f in ("searchText", "nameKey", "deleted", "_priorityRank", "_statusRank", "_events"):
        assert f not in lead
    assert get(token, lead["_id"]) == lead


def test_create_with_only_a_phone_and_explicit_priority(alice):
    _, token = alice
    lead = create(token, contactInfo={"phone": "022 2345 6789"}, priority="urgent",
                  budget=None, travelDates=None)
    assert lead["contactInfo"] == {"phone": "022 2345 6789"} and lead["priority"] == "urgent"
    assert "budget" not in lead and "travelDates" not in lead


@pytest.mark.parametrize("over,field", [
    ({"name": None}, "name"),
    ({"name": "Riya Kapoor"}, "name"),
    ({"name": {"firstName": "Riya"}}, "lastName"),
    ({"name": {"firstName": "", "lastName": "K"}}, "firstName"),
    ({"name": {"firstName": "R", "lastName": "K", "middle": "X"}}, "middle"),
    ({"contactInfo": None}, "contactInfo"),
    ({"contactInfo": {}}, "contactInfo"),
    ({"contactInfo": {"email": "not-an-email"}}, "email"),
    ({"contactInfo": {"phone": "call me"}}, "contactInfo.phone"),
    ({"contactInfo": {"phone": "12345", "fax": "1"}}, "fax"),
    ({"source": "billboard"}, "source"),
    ({"priority": "asap"}, "priority"),
    ({"budget": {"amount": -1, "currency": "INR"}}, "amount"),
    ({"budget": {"amount": 10.123, "currency": "INR"}}, "amount"),
    ({"budget": {"amount": "100", "currency": "INR"}}, "amount"),
    ({"budget": {"amount": 100, "currency": "inr"}}, "budget.currency"),
    ({"budget": {"amount": 100}}, "currency"),
    ({"budget": {"amount": 100, "currency": "INR", "tax": 1}}, "tax"),
    ({"travelDates": {"from": "2027-03-10", "to": "2027-03-01"}}, "travelDates.to"),
    ({"travelDates": {"from": "2027-02-30", "to": "2027-03-01"}}, "travelDates.from"),
    ({"travelDates": {"from": "2027-03-01"}}, "travelDates.to"),
    ({"interestedDestination": " Bali"}, "interestedDestination"),
    ({"notes": "x" * 2001}, "notes"),
    ({"status": "qualified"}, "status"),
    ({"version": 3}, "version"),
    ({"customer": "0123456789abcdef01234567"}, "customer"),
    ({"assignedAgent": "nope"}, "assignedAgent"),
])
def test_create_rejects_bad_input_and_creates_nothing(fresh, over, field):
    _, token = fresh
    r = api("POST", "/api/leads", token, json=lead_body(**over))
    err = error(r, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field, err
    assert total(token) == 0


def test_create_rejects_non_json_and_malformed_bodies(alice):
    _, token = alice
    r = api("POST", "/api/leads", token, data="x=1", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = api("POST", "/api/leads", token, data="{bad",
            headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api("POST", "/api/leads", token, json=[1, 2])
    assert r.status_code == 400


def test_creating_a_lead_for_another_agent_needs_can_assign_leads(alice, bob, senior):
    _, token = alice
    before = total(bob[1])
    r = api("POST", "/api/leads", token, json=lead_body(assignedAgent=bob[0]["_id"]))
    err = error(r, 403, "FORBIDDEN")
    assert err["details"]["permission"] == "canAssignLeads"
    assert total(bob[1]) == before
    lead = create(senior[1], assignedAgent=bob[0]["_id"])
    assert lead["assignedAgent"] == bob[0]["_id"] and lead["createdBy"] == senior[0]["_id"]
    assert get(bob[1], lead["_id"])["_id"] == lead["_id"]


# ---------------------------------------------------------------- auth and visibility

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/leads"), ("POST", "/api/leads"), ("GET", "/api/leads/{id}"),
    ("PUT", "/api/leads/{id}"), ("DELETE", "/api/leads/{id}"),
    ("PATCH", "/api/leads/{id}/status"), ("PATCH", "/api/leads/{id}/assign"),
    ("POST", "/api/leads/{id}/convert"),
])
def test_every_route_needs_a_token(alice, method, path):
    lead = create(alice[1])
    r = api(method, path.format(id=lead["_id"]), json={"status": "contacted"})
    error(r, 401)
    assert get(alice[1], lead["_id"]) == lead


def test_another_agents_lead_is_invisible_and_unchangeable(alice, bob):
    lead = create(alice[1])
    _, token = bob
    lid = lead["_id"]
    for method, path, body in [
            ("GET", f"/api/leads/{lid}", None),
            ("PUT", f"/api/leads/{lid}", {"notes": "mine now"}),
            ("DELETE", f"/api/leads/{lid}", None),
            ("PATCH", f"/api/leads/{lid}/status", {"status": "contacted"}),
            ("POST", f"/api/leads/{lid}/convert", {}),
    ]:
        error(api(method, path, token, json=body), 404, "NOT_FOUND")
    assert lid not in [x["_id"] for x in listing(token, "limit=100")["data"]]
    error(api("GET", f"/api/leads?assignedAgent={alice[0]['_id']}", token), 403, "FORBIDDEN")
    assert get(alice[1], lid) == lead


def test_senior_agents_see_every_lead_and_filter_by_agent(alice, senior):
    lead = create(alice[1])
    assert get(senior[1], lead["_id"])["_id"] == lead["_id"]
    data = listing(senior[1], f"assignedAgent={alice[0]['_id']}&limit=100")["data"]
    assert lead["_id"] in [x["_id"] for x in data]
    assert all(x["assignedAgent"] == alice[0]["_id"] for x in data)
    own = listing(alice[1], f"assignedAgent={alice[0]['_id']}&limit=100")["data"]
    assert lead["_id"] in [x["_id"] for x in own]


@pytest.mark.parametrize("bad", ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef0123456"])
def test_malformed_ids_are_400_and_unknown_ids_404(alice, bad):
    _, token = alice
    error(api("GET", f"/api/leads/{bad}", token), 400, "INVALID_ID")
    error(api("PUT", f"/api/leads/{bad}", token, json={"notes": "x"}), 400, "INVALID_ID")
    error(status(token, bad, "contacted"), 400, "INVALID_ID")
    error(api("GET", "/api/leads/0123456789abcdef01234567", token), 404)


# ---------------------------------------------------------------- update

def test_partial_update_merges_nested_fields_and_bumps_the_version(root, alice):
    _, token = alice
    lead = create(token)
    r = api("PUT", f"/api/leads/{lead['_id']}", token,
            json={"name": {"firstName": "Riyaa"}, "budget": {"amount": 200000},
                  "priority": "high", "version": 1})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["name"] == {"firstName": "Riyaa", "lastName": lead["name"]["lastName"]}
    assert got["budget"] == {"amount": 200000, "currency": "INR"}
    assert got["priority"] == "high" and got["version"] == 2
    assert got["contactInfo"] == lead["contactInfo"] and got["notes"] == lead["notes"]
    assert got["updatedAt"] >= lead["updatedAt"]
    assert get(token, lead["_id"]) == got
    entries = audit_entries(root, lead["_id"], 2)
    assert [e["action"] for e in entries] == ["LEAD_CREATED", "LEAD_UPDATED"]
    changes = entries[1]["changes"]
    assert changes["before"]["priority"] == "medium" and changes["after"]["priority"] == "high"
    assert changes["after"]["name"]["firstName"] == "Riyaa"
    assert set(changes["after"]) == {"name", "budget", "priority"}
    assert entries[1]["details"]["lead"]["version"] == 2


def test_an_update_that_changes_nothing_keeps_the_version(alice):
    _, token = alice
    lead = create(token)
    r = api("PUT", f"/api/leads/{lead['_id']}", token, json={"notes": lead["notes"]})
    assert r.status_code == 200 and r.json()["data"]["version"] == 1


@pytest.mark.parametrize("body,status_code,field", [
    ({"version": 7, "notes": "x"}, 409, None),
    ({"status": "contacted"}, 400, "status"),
    ({"assignedAgent": "0123456789abcdef01234567"}, 400, "assignedAgent"),
    ({"name": {"lastName": ""}}, 400, "lastName"),
    ({"contactInfo": {"email": "bad"}}, 400, "email"),
    ({"travelDates": {"to": "2027-02-01"}}, 400, "travelDates.to"),
    ({"budget": {"amount": -5}}, 400, "amount"),
    ({"version": "1"}, 400, "version"),
    ({"createdAt": "2020-01-01"}, 400, "createdAt"),
])
def test_bad_updates_change_nothing(alice, body, status_code, field):
    _, token = alice
    lead = create(token)
    r = api("PUT", f"/api/leads/{lead['_id']}", token, json=body)
    err = error(r, status_code, "VERSION_CONFLICT" if status_code == 409 else "VALIDATION_ERROR")
    if field:
        assert err["details"]["field"] == field
    assert get(token, lead["_id"]) == lead



def test_the_web_forms_lead_without_a_budget_is_accepted(alice):
    # The body the lead form sends when the budget amount is left empty: no budget at all.
    _, token = alice
    body = {"name": {"firstName": "Asha", "lastName": "Rao" + uuid.uuid4().hex[:6]},
            "contactInfo": {"phone": "+91 98200 22222"}, "source": "website",
            "priority": "medium"}
    r = api("POST", "/api/leads", token, json=body)
    assert r.status_code == 201, r.text
    assert "budget" not in r.json()["data"]
    assert "budget" not in get(token, r.json()["data"]["_id"])

def test_a_lead_without_budget_needs_both_budget_fields(alice):
    _, token = alice
    lead = create(token, budget=None)
    r = api("PUT", f"/api/leads/{lead['_id']}", token, json={"budget": {"amount": 10}})
    assert error(r, 400)["details"]["field"] == "budget.currency"
    assert get(token, lead["_id"]) == lead


def test_an_empty_contact_info_changes_nothing(alice):
    _, token = alice
    lead = create(token, contactInfo={"phone": "+91 98200 12345"})
    r = api("PUT", f"/api/leads/{lead['_id']}", token, json={"contactInfo": {}})
    assert r.status_code == 200 and r.json()["data"] == lead


# ---------------------------------------------------------------- status machine

def test_the_pipeline_moves_forward_step_by_step(root, alice):
    agent, token = alice
    lead = create(token)
    version = 1
    for step in OPEN_PIPELINE[1:]:
        r = status(token, lead["_id"], step, version=version)
        assert r.status_code == 200, r.text
        got = r.json()["data"]
        assert got["status"] == step and got["version"] == version + 1
        assert step in got["statusDates"]
        version += 1
    entries = audit_entries(root, lead["_id"], 5)
    changed = [e for e in entries if e["action"] == "LEAD_STATUS_CHANGED"]
    assert [(e["changes"]["before"]["status"], e["changes"]["after"]["status"])
            for e in changed] == list(zip(OPEN_PIPELINE, OPEN_PIPELINE[1:]))
    assert all(e["details"]["assignedAgent"] == agent["_id"] for e in changed)


@pytest.mark.parametrize("path,to,allowed", [
    (["new"], "qualified", ["contacted", "lost"]),
    (["new"], "new", ["contacted", "lost"]),
    (["new", "contacted", "qualified"], "contacted", ["proposal", "lost"]),
    (["new", "contacted", "qualified", "proposal", "negotiation"], "proposal", ["lost"]),
    (["new", "lost"], "contacted", []),
    (["new", "lost"], "lost", []),
])
def test_invalid_transitions_are_422_and_change_nothing(alice, path, to, allowed):
    _, token = alice
    lead = create(token)
    for step in path[1:]:
        assert status(token, lead["_id"], step).status_code == 200
    before = get(token, lead["_id"])
    err = error(status(token, lead["_id"], to), 422, "INVALID_STATUS_TRANSITION")
    assert err["details"] == {"from": path[-1], "to": to, "allowed": allowed}
    assert get(token, lead["_id"]) == before


def test_converted_is_reached_only_through_convert(alice):
    _, token = alice
    lead = create(token)
    err = error(status(token, lead["_id"], "converted"), 422, "INVALID_STATUS_TRANSITION")
    assert "/convert" in err["message"]
    assert err["details"]["allowed"] == ["contacted", "lost"]
    assert get(token, lead["_id"]) == lead


def test_lost_with_a_reason_closes_the_lead(alice):
    _, token = alice
    lead = create(token)
    r = status(token, lead["_id"], "lost", reason="Chose another agency")
    assert r.status_code == 200
    assert r.json()["data"]["statusReason"] == "Chose another agency"
    closed = get(token, lead["_id"])
    error(api("PUT", f"/api/leads/{lead['_id']}", token, json={"notes": "x"}), 422, "LEAD_CLOSED")
    error(api("POST", f"/api/leads/{lead['_id']}/convert", token, json={}), 422,
          "INVALID_STATUS_TRANSITION")
    assert get(token, lead["_id"]) == closed


@pytest.mark.parametrize("body,status_code,field", [
    ({}, 400, "status"),
    ({"status": "won"}, 400, "status"),
    ({"status": 3}, 400, "status"),
    ({"status": "contacted", "by": "me"}, 400, "by"),
    ({"status": "contacted", "reason": ""}, 400, "reason"),
    ({"status": "contacted", "version": 9}, 409, None),
])
def test_bad_status_requests_change_nothing(alice, body, status_code, field):
    _, token = alice
    lead = create(token)
    r = api("PATCH", f"/api/leads/{lead['_id']}/status", token, json=body)
    err = error(r, status_code)
    if field:
        assert err["details"]["field"] == field
    assert get(token, lead["_id"]) == lead


# ---------------------------------------------------------------- assignment

def test_assign_needs_can_assign_leads(alice, bob):
    lead = create(alice[1])
    r = api("PATCH", f"/api/leads/{lead['_id']}/assign", alice[1], json={"agentId": bob[0]["_id"]})
    err = error(r, 403, "FORBIDDEN")
    assert err["details"]["permission"] == "canAssignLeads"
    assert get(alice[1], lead["_id"]) == lead


def test_assign_hands_the_lead_over_and_records_the_new_assignee(root, alice, bob, senior):
    lead = create(alice[1])
    r = api("PATCH", f"/api/leads/{lead['_id']}/assign", senior[1],
            json={"agentId": bob[0]["_id"].upper()})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["assignedAgent"] == bob[0]["_id"] and got["version"] == 2
    assert get(bob[1], lead["_id"])["assignedAgent"] == bob[0]["_id"]
    error(api("GET", f"/api/leads/{lead['_id']}", alice[1]), 404)
    entries = audit_entries(root, lead["_id"], 2)
    e = [x for x in entries if x["action"] == "LEAD_ASSIGNED"][0]
    assert e["performedBy"] == senior[0]["_id"]
    assert e["changes"] == {"before": {"assignedAgent": alice[0]["_id"]},
                            "after": {"assignedAgent": bob[0]["_id"]}}
    assert e["details"]["assignedAgent"] == bob[0]["_id"]
    assert e["details"]["previousAgent"] == alice[0]["_id"]
    assert e["details"]["lead"]["assignedAgent"] == bob[0]["_id"]


@pytest.mark.parametrize("body,status_code,field", [
    ({}, 400, "agentId"),
    ({"agentId": "abc"}, 400, "agentId"),
    ({"agentId": 12}, 400, "agentId"),
    ({"agentId": "0123456789abcdef01234567", "note": "x"}, 400, "note"),
    ({"agentId": "0123456789abcdef01234567", "version": 5}, 409, None),
])
def test_bad_assignments_change_nothing(alice, senior, body, status_code, field):
    lead = create(alice[1])
    r = api("PATCH", f"/api/leads/{lead['_id']}/assign", senior[1], json=body)
    err = error(r, status_code)
    if field:
        assert err["details"]["field"] == field
    assert get(alice[1], lead["_id"]) == lead


# ---------------------------------------------------------------- delete

def test_delete_is_soft_and_for_the_assignee_or_an_admin(root, alice, senior, admin):
    lead = create(alice[1])
    error(api("DELETE", f"/api/leads/{lead['_id']}", senior[1]), 403, "FORBIDDEN")
    assert get(alice[1], lead["_id"]) == lead
    r = api("DELETE", f"/api/leads/{lead['_id']}", admin[1])
    assert r.status_code == 200 and r.json()["data"] == {"_id": lead["_id"], "deleted": True}
    error(api("GET", f"/api/leads/{lead['_id']}", alice[1]), 404)
    error(api("DELETE", f"/api/leads/{lead['_id']}", admin[1]), 404)
    assert lead["_id"] not in [x["_id"] for x in listing(alice[1], "limit=100")["data"]]
    entries = audit_entries(root, lead["_id"], 2)
    assert entries[-1]["action"] == "LEAD_DELETED" and entries[-1]["severity"] == "warning"


def test_the_assignee_deletes_its_own_lead(alice):
    lead = create(alice[1])
    assert api("DELETE", f"/api/leads/{lead['_id']}", alice[1]).status_code == 200
    error(api("GET", f"/api/leads/{lead['_id']}", alice[1]), 404)


# ---------------------------------------------------------------- conversion

def test_convert_creates_the_customer_from_the_lead(root, alice):
    agent, token = alice
    lead = create(token)
    status(token, lead["_id"], "contacted")
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token, json={})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    converted, customer = data["lead"], data["customer"]
    assert data["booking"] is None
    assert converted["status"] == "converted" and converted["customer"] == customer["_id"]
    assert converted["version"] == 3 and "booking" not in converted
    assert customer["firstName"] == "Riya" and customer["lastName"] == lead["name"]["lastName"]
    assert customer["email"] == lead["contactInfo"]["email"]
    assert customer["phone"] == lead["contactInfo"]["phone"]
    assert customer["agent"] == agent["_id"] and customer["lead"] == lead["_id"]
    r = api("GET", f"/api/customers/{customer['_id']}", token)
    assert r.status_code == 200 and r.json()["data"] == customer
    r = api("GET", f"/api/customers?search={lead['name']['lastName']}", token)
    assert r.json()["pagination"]["totalDocs"] == 1
    assert get(token, lead["_id"]) == converted
    e = audit_entries(root, lead["_id"], 3)[-1]
    assert e["action"] == "LEAD_CONVERTED"
    assert e["changes"]["after"] == {"status": "converted", "customer": customer["_id"]}
    assert e["details"]["customerCreated"] is True and e["details"]["booking"] is None
    c = audit_entries(root, customer["_id"], 1)[0]
    assert c["action"] == "CUSTOMER_CREATED" and c["details"]["lead"] == lead["_id"]
    # closed now: no second conversion, no status change, no edit
    err = error(api("POST", f"/api/leads/{lead['_id']}/convert", token, json={}), 422,
                "INVALID_STATUS_TRANSITION")
    assert err["details"] == {"from": "converted", "to": "converted", "allowed": []}
    error(status(token, lead["_id"], "lost"), 422, "INVALID_STATUS_TRANSITION")
    error(api("PUT", f"/api/leads/{lead['_id']}", token, json={"notes": "x"}), 422, "LEAD_CLOSED")
    assert get(token, lead["_id"]) == converted


def test_convert_with_overrides_completes_a_lead_without_phone(fresh):
    _, token = fresh
    lead = create(token, contactInfo={"email": f"x{uuid.uuid4().hex[:6]}@example.com"})
    err = error(api("POST", f"/api/leads/{lead['_id']}/convert", token, json={}), 422,
                "LEAD_INCOMPLETE")
    assert err["details"]["field"] == "customer.phone"
    assert get(token, lead["_id"]) == lead
    assert api("GET", "/api/customers", token).json()["pagination"]["totalDocs"] == 0
    phone = unique_phone()
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token,
            json={"customer": {"firstName": "Riyanka", "phone": phone}})
    assert r.status_code == 200, r.text
    customer = r.json()["data"]["customer"]
    assert customer["firstName"] == "Riyanka" and customer["phone"] == phone
    assert customer["email"] == lead["contactInfo"]["email"]


def test_convert_links_an_existing_visible_customer(root, alice, bob):
    _, token = alice
    customer = new_customer(token)
    foreign = new_customer(bob[1])
    lead = create(token)
    err = error(api("POST", f"/api/leads/{lead['_id']}/convert", token,
                    json={"customerId": foreign["_id"]}), 422, "UNKNOWN_CUSTOMER")
    assert err["details"]["field"] == "customerId"
    error(api("POST", f"/api/leads/{lead['_id']}/convert", token,
              json={"customerId": "0123456789abcdef01234567"}), 422, "UNKNOWN_CUSTOMER")
    assert get(token, lead["_id"]) == lead
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token,
            json={"customerId": customer["_id"], "version": 1})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["customer"]["_id"] == customer["_id"]
    assert data["lead"]["customer"] == customer["_id"]
    e = audit_entries(root, lead["_id"], 2)[-1]
    assert e["action"] == "LEAD_CONVERTED" and e["details"]["customerCreated"] is False


@pytest.mark.parametrize("body,status_code,field", [
    ({"customerId": "xyz"}, 400, "customerId"),
    ({"customerId": "0123456789abcdef01234567", "customer": {"firstName": "A"}}, 400, "customer"),
    ({"customer": "Meera"}, 400, "customer"),
    ({"customer": {"phone": "call me"}}, 400, "customer.phone"),
    ({"customer": {"city": "Pune"}}, 400, "city"),
    ({"booking": "yes"}, 400, "booking"),
    ({"booking": {"customer": "0123456789abcdef01234567"}}, 400, "booking.customer"),
    ({"status": "converted"}, 400, "status"),
    ({"version": 4}, 409, None),
])
def test_bad_conversions_change_nothing(fresh, body, status_code, field):
    _, token = fresh
    lead = create(token)
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token, json=body)
    err = error(r, status_code)
    if field:
        assert err["details"]["field"] == field
    assert get(token, lead["_id"]) == lead
    assert api("GET", "/api/customers", token).json()["pagination"]["totalDocs"] == 0


def test_convert_with_a_booking_books_the_trip_for_the_lead(root, fresh):
    _, token = fresh
    lead = create(token)
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token, json={"booking": booking_body()})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    booking, customer, converted = data["booking"], data["customer"], data["lead"]
    assert booking["customer"] == customer["_id"] and booking["lead"] == lead["_id"]
    assert booking["status"] == "pending" and booking["bookingReference"].startswith("TD-")
    assert converted["booking"] == booking["_id"] and converted["customer"] == customer["_id"]
    r = api("GET", f"/api/bookings/{booking['_id']}", token)
    assert r.status_code == 200 and r.json()["data"]["lead"] == lead["_id"]
    e = audit_entries(root, lead["_id"], 2)[-1]
    assert e["details"]["booking"] == booking["_id"]


@pytest.mark.parametrize("start,end,code", [
    ("2027-05-01", "2027-05-08", "DUPLICATE_BOOKING"),
    ("2027-05-06", "2027-05-12", "BOOKING_CONFLICT"),
])
def test_a_booking_conflict_leaves_the_lead_unconverted(fresh, start, end, code):
    _, token = fresh
    customer = new_customer(token)
    body = booking_body()
    r = api("POST", "/api/bookings", token, json={"customer": customer["_id"], **body})
    assert r.status_code == 201, r.text
    existing = r.json()["data"]
    lead = create(token)
    body["tripDetails"].update(startDate=start, endDate=end)
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token,
            json={"customerId": customer["_id"], "booking": body})
    err = error(r, 409, code)
    assert existing["_id"] in str(err["details"])
    assert get(token, lead["_id"]) == lead
    assert api("GET", "/api/bookings", token).json()["pagination"]["totalDocs"] == 1


def test_a_bad_booking_leaves_no_customer_behind(fresh):
    _, token = fresh
    lead = create(token)
    body = booking_body()
    body["tripDetails"]["endDate"] = "2027-04-01"
    r = api("POST", f"/api/leads/{lead['_id']}/convert", token, json={"booking": body})
    error(r, 400, "VALIDATION_ERROR")
    assert get(token, lead["_id"]) == lead
    assert api("GET", "/api/customers", token).json()["pagination"]["totalDocs"] == 0
    assert api("GET", "/api/bookings", token).json()["pagination"]["totalDocs"] == 0


def test_concurrent_conversions_convert_once(fresh):
    _, token = fresh
    lead = create(token)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(
            lambda _: api("POST", f"/api/leads/{lead['_id']}/convert", token, json={}).status_code,
            range(8)))
    assert codes.count(200) == 1 and set(codes) <= {200, 409, 422}, codes
    assert api("GET", "/api/customers", token).json()["pagination"]["totalDocs"] == 1
    assert get(token, lead["_id"])["status"] == "converted"


# ---------------------------------------------------------------- list, search, cache

def test_filters_search_sort_and_pagination(fresh):
    _, token = fresh
    made = []
    for src, prio, last in [("website", "low", "Zeta"), ("referral", "urgent", "Alpha"),
                            ("website", "high", "Mu"), ("partner", "medium", "Beta"),
                            ("walk_in", "urgent", "Kappa")]:
        made.append(create(token, source=src, priority=prio,
                           name={"firstName": "Lead", "lastName": last}))
    status(token, made[0]["_id"], "contacted")
    p = listing(token, "limit=2")
    assert p["pagination"] == {"page": 1, "limit": 2, "totalDocs": 5, "totalPages": 3,
                               "hasNext": True, "hasPrev": False}
    assert [x["_id"] for x in p["data"]] == [made[4]["_id"], made[3]["_id"]]
    p = listing(token, "limit=2&page=3")
    assert p["pagination"]["hasNext"] is False and p["pagination"]["hasPrev"] is True
    assert [x["_id"] for x in p["data"]] == [made[0]["_id"]]
    assert total(token, "source=website") == 2
    assert total(token, "source=website,partner&priority=low,medium") == 2
    assert total(token, "status=contacted") == 1 and total(token, "status=new,contacted") == 5
    assert total(token, "search=ALPHA") == 1
    assert total(token, f"search={made[2]['contactInfo']['email']}") == 1
    assert total(token, "search=bali") == 5
    assert total(token, f"createdFrom={made[0]['createdAt']}&createdTo=2199-01-01") == 5
    assert total(token, "createdTo=2000-01-01") == 0
    prios = [x["priority"] for x in listing(token, "sortBy=priority&sortOrder=desc")["data"]]
    assert prios == ["urgent", "urgent", "high", "medium", "low"]
    names = [x["name"]["lastName"] for x in listing(token, "sortBy=name&sortOrder=asc")["data"]]
    assert names == ["Alpha", "Beta", "Kappa", "Mu", "Zeta"]
    first = listing(token, "sortBy=status&sortOrder=desc")["data"][0]
    assert first["status"] == "contacted"


@pytest.mark.parametrize("query,field", [
    ("status[$ne]=new", "status[$ne]"),
    ("status=won", "status"),
    ("source=tv", "source"),
    ("priority=", "priority"),
    ("assignedAgent=abc", "assignedAgent"),
    ("createdFrom=yesterday", "createdFrom"),
    ("limit=101", "limit"),
    ("page=0", "page"),
    ("sortBy=budget", "sortBy"),
    ("sortOrder=up", "sortOrder"),
    ("city=Pune", "city"),
    ("status=new&status=lost", "status"),
])
def test_bad_list_parameters_are_400(alice, query, field):
    err = error(api("GET", "/api/leads?" + query, alice[1]), 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


def test_the_list_is_cached_until_a_write(fresh):
    _, token = fresh
    create(token)
    r1 = api("GET", "/api/leads?limit=5", token)
    r2 = api("GET", "/api/leads?limit=5", token)
    assert (r1.headers["X-Cache"], r2.headers["X-Cache"]) == ("MISS", "HIT")
    assert r1.json() == r2.json()
    lead = create(token)
    r3 = api("GET", "/api/leads?limit=5", token)
    assert r3.headers["X-Cache"] == "MISS" and r3.json()["pagination"]["totalDocs"] == 2
    assert api("GET", "/api/leads?limit=5", token).headers["X-Cache"] == "HIT"
    status(token, lead["_id"], "contacted")
    r4 = api("GET", "/api/leads?limit=5", token)
    assert r4.headers["X-Cache"] == "MISS"
    assert r4.json()["data"][0]["status"] == "contacted"
