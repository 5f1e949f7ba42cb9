"""Itineraries through the gateway: day-by-day plans with validation of every level,
links to a visible booking and customer, partial updates with versions (a new plan
replaces the old), soft delete, cloning, filters and pagination, object-level
authorization, and the ITINERARY_* events in the audit trail. Every rejected request
is checked to have changed nothing."""
import uuid

import pytest

from conftest import api, new_agent, unique_phone, wait_for

EVENT_TIMEOUT = 20


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


@pytest.fixture
def fresh(root):
    return new_agent(root)


def plan():
    return [
        {"day": 1, "date": "2027-05-01", "title": "Arrival in Goa",
         "activities": [{"time": "14:00", "title": "Check-in", "location": "Taj Fort Aguada"},
                        {"title": "Sunset at the fort", "description": "Short walk"}],
         "accommodation": "Taj Fort Aguada", "meals": ["dinner"]},
        {"day": 2, "title": "Old Goa", "activities": [{"time": "09:30", "title": "Basilica"}],
         "meals": ["breakfast", "lunch"], "notes": "Carry hats"},
        {"day": 4, "title": "Departure"},
    ]


def body(**over):
    b = {"title": "Goa getaway " + uuid.uuid4().hex[:6], "destination": "Goa",
         "startDate": "2027-05-01", "endDate": "2027-05-04", "days": plan(),
         "notes": "Vegetarian meals"}
    b.update(over)
    return {k: v for k, v in b.items() if v is not None}


def create(token, **over):
    r = api("POST", "/api/itineraries", token, json=body(**over))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def get(token, iid):
    r = api("GET", f"/api/itineraries/{iid}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def listing(token, query=""):
    r = api("GET", "/api/itineraries" + ("?" + query if query else ""), token)
    assert r.status_code == 200, r.text
    return r.json()


def total(token, query=""):
    return listing(token, query)["pagination"]["totalDocs"]


def error(r, status_code, code=None):
    assert r.status_code == status_code, r.text
    err = r.json()["error"]
    if code:
        assert err["code"] == code, err
    return err


def audit_entries(root, target_id, n):
    def fetch():
        r = api("GET", f"/api/audit-logs?targetId={target_id}&sortBy=createdAt&sortOrder=asc",
                root)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        return data if len(data) >= n else None
    return wait_for(fetch, EVENT_TIMEOUT, f"{n} audit entries of {target_id}")


def new_customer(token):
    r = api("POST", "/api/customers", token,
            json={"firstName": "Kabir", "lastName": "Shah" + uuid.uuid4().hex[:6],
                  "phone": unique_phone()})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def new_booking(token, customer_id):
    r = api("POST", "/api/bookings", token, json={
        "customer": customer_id,
        "tripDetails": {"title": "Goa week", "destination": "Goa " + uuid.uuid4().hex[:6],
                        "startDate": "2027-05-01", "endDate": "2027-05-08",
                        "tripType": "family", "travellers": {"adults": 2}},
        "pricing": {"totalAmount": 1000, "currency": "INR"}})
    assert r.status_code == 201, r.text
    return r.json()["data"]


# ---------------------------------------------------------------- create and read

def test_create_stores_the_day_by_day_plan(root, alice):
    agent, token = alice
    it = create(token)
    assert it["agent"] == agent["_id"] and it["version"] == 1
    assert it["startDate"] == "2027-05-01T00:00:00.000Z"
    assert it["endDate"] == "2027-05-04T00:00:00.000Z"
    assert [d["day"] for d in it["days"]] == [1, 2, 4]
    d1 = it["days"][0]
    assert d1["date"] == "2027-05-01T00:00:00.000Z" and d1["meals"] == ["dinner"]
    assert d1["activities"][0] == {"time": "14:00", "title": "Check-in",
                                   "location": "Taj Fort Aguada"}
    assert it["days"][2] == {"day": 4, "title": "Departure", "activities": [], "meals": []}
    for f in ("_id", "createdAt", "updatedAt"):
        assert f in it
    for f in ("searchText", "destinationKey", "_titleKey", "deleted", "booking", "customer"):
        assert f not in it
    assert get(token, it["_id"]) == it
    e = audit_entries(root, it["_id"], 1)[0]
    assert e["action"] == "ITINERARY_CREATED" and e["resourceType"] == "itinerary"
    assert e["details"]["itinerary"]["title"] == it["title"]


def test_a_plan_is_optional(alice):
    it = create(alice[1], days=None, notes=None)
    assert it["days"] == [] and "notes" not in it


def thirty_one():
    return [{"title": f"A{i}"} for i in range(31)]


@pytest.mark.parametrize("over,field", [
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"destination": None}, "destination"),
    ({"startDate": None}, "startDate"),
    ({"startDate": "01/05/2027"}, "startDate"),
    ({"endDate": "2027-04-30"}, "endDate"),
    ({"booking": "abc"}, "booking"),
    ({"customer": 42}, "customer"),
    ({"agent": "0123456789abcdef01234567"}, "agent"),
    ({"version": 1}, "version"),
    ({"days": {"day": 1}}, "days"),
    ({"days": [{"day": i + 1, "title": "D"} for i in range(61)]}, "days"),
    ({"days": ["Arrival"]}, "days[0]"),
    ({"days": [{"title": "no number"}]}, "day"),
    ({"days": [{"day": 0, "title": "D"}]}, "day"),
    ({"days": [{"day": 2, "title": "D"}, {"day": 2, "title": "E"}]}, "days[1].day"),
    ({"days": [{"day": 2, "title": "D"}, {"day": 1, "title": "E"}]}, "days[1].day"),
    ({"days": [{"day": 5, "title": "D"}]}, "days[0].day"),
    ({"days": [{"day": 1, "title": "D", "date": "2027-05-09"}]}, "days[0].date"),
    ({"days": [{"day": 1, "title": "D", "date": "tomorrow"}]}, "days[0].date"),
    ({"days": [{"day": 1}]}, "title"),
    ({"days": [{"day": 1, "title": "D", "hotel": "x"}]}, "hotel"),
    ({"days": [{"day": 1, "title": "D", "activities": thirty_one()}]}, "days[0].activities"),
    ({"days": [{"day": 1, "title": "D", "activities": [{"time": "9:00", "title": "x"}]}]}, "time"),
    ({"days": [{"day": 1, "title": "D", "activities": [{"time": "24:00", "title": "x"}]}]},
     "days[0].activities[0].time"),
    ({"days": [{"day": 1, "title": "D", "activities": [{"time": "10:00"}]}]}, "title"),
    ({"days": [{"day": 1, "title": "D", "activities": [{"title": "x", "cost": 5}]}]}, "cost"),
    ({"days": [{"day": 1, "title": "D", "activities": ["x"]}]}, "days[0].activities[0]"),
    ({"days": [{"day": 1, "title": "D", "meals": ["brunch"]}]}, "days[0].meals[0]"),
    ({"days": [{"day": 1, "title": "D", "meals": ["lunch", "lunch"]}]}, "days[0].meals[1]"),
    ({"days": [{"day": 1, "title": "D", "meals": "lunch"}]}, "days[0].meals"),
    ({"notes": "x" * 2001}, "notes"),
])
def test_create_rejects_bad_input_and_creates_nothing(fresh, over, field):
    _, token = fresh
    r = api("POST", "/api/itineraries", token, json=body(**over))
    err = error(r, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field, err
    assert total(token) == 0


# ---------------------------------------------------------------- links

def test_linking_a_booking_brings_its_customer(alice):
    _, token = alice
    customer = new_customer(token)
    booking = new_booking(token, customer["_id"])
    it = create(token, booking=booking["_id"])
    assert it["booking"] == booking["_id"] and it["customer"] == customer["_id"]
    assert total(token, f"booking={booking['_id']}") == 1
    assert total(token, f"customer={customer['_id']}") == 1


def test_links_must_be_visible_and_consistent(fresh, bob):
    _, token = fresh
    mine = new_customer(token)
    other = new_customer(token)
    booking = new_booking(token, mine["_id"])
    foreign_customer = new_customer(bob[1])
    foreign_booking = new_booking(bob[1], foreign_customer["_id"])
    cases = [
        ({"booking": foreign_booking["_id"]}, "UNKNOWN_BOOKING", "booking"),
        ({"booking": "0123456789abcdef01234567"}, "UNKNOWN_BOOKING", "booking"),
        ({"customer": foreign_customer["_id"]}, "UNKNOWN_CUSTOMER", "customer"),
        ({"booking": booking["_id"], "customer": other["_id"]}, "BOOKING_CUSTOMER_MISMATCH",
         "customer"),
    ]
    for over, code, field in cases:
        err = error(api("POST", "/api/itineraries", token, json=body(**over)), 422, code)
        assert err["details"]["field"] == field
    assert total(token) == 0
    it = create(token, customer=other["_id"])
    assert it["customer"] == other["_id"] and "booking" not in it


# ---------------------------------------------------------------- auth and visibility

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/itineraries"), ("POST", "/api/itineraries"),
    ("GET", "/api/itineraries/{id}"), ("PUT", "/api/itineraries/{id}"),
    ("DELETE", "/api/itineraries/{id}"), ("POST", "/api/itineraries/{id}/clone"),
])
def test_every_route_needs_a_token(alice, method, path):
    it = create(alice[1])
    error(api(method, path.format(id=it["_id"]), json={}), 401)
    assert get(alice[1], it["_id"]) == it


def test_another_agents_itinerary_is_invisible_and_unchangeable(alice, bob):
    it = create(alice[1])
    iid = it["_id"]
    for method, path, b in [
            ("GET", f"/api/itineraries/{iid}", None),
            ("PUT", f"/api/itineraries/{iid}", {"title": "Mine"}),
            ("DELETE", f"/api/itineraries/{iid}", None),
            ("POST", f"/api/itineraries/{iid}/clone", {}),
    ]:
        error(api(method, path, bob[1], json=b), 404, "NOT_FOUND")
    error(api("GET", f"/api/itineraries?agent={alice[0]['_id']}", bob[1]), 403, "FORBIDDEN")
    assert iid not in [x["_id"] for x in listing(bob[1], "limit=100")["data"]]
    assert get(alice[1], iid) == it


def test_senior_agents_see_and_update_but_do_not_delete_others(alice, senior):
    it = create(alice[1])
    assert get(senior[1], it["_id"])["_id"] == it["_id"]
    r = api("PUT", f"/api/itineraries/{it['_id']}", senior[1], json={"notes": "Checked by lead"})
    assert r.status_code == 200 and r.json()["data"]["agent"] == alice[0]["_id"]
    updated = r.json()["data"]
    error(api("DELETE", f"/api/itineraries/{it['_id']}", senior[1]), 403, "FORBIDDEN")
    assert get(alice[1], it["_id"]) == updated


@pytest.mark.parametrize("bad", ["123", "g123456789abcdef01234567"])
def test_malformed_ids_are_400(alice, bad):
    error(api("GET", f"/api/itineraries/{bad}", alice[1]), 400, "INVALID_ID")
    error(api("POST", f"/api/itineraries/{bad}/clone", alice[1], json={}), 400, "INVALID_ID")
    error(api("GET", "/api/itineraries/0123456789abcdef01234567", alice[1]), 404)


# ---------------------------------------------------------------- update

def test_partial_update_keeps_the_rest_and_a_new_plan_replaces_the_old(root, alice):
    _, token = alice
    it = create(token)
    r = api("PUT", f"/api/itineraries/{it['_id']}", token,
            json={"title": "Goa, revised", "version": 1})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["title"] == "Goa, revised" and got["version"] == 2 and got["days"] == it["days"]
    assert total(token, "search=revised") == 1
    r = api("PUT", f"/api/itineraries/{it['_id']}", token,
            json={"days": [{"day": 3, "title": "Spice farm", "meals": ["lunch"]}]})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["days"] == [{"day": 3, "title": "Spice farm", "activities": [], "meals": ["lunch"]}]
    assert got["version"] == 3 and get(token, it["_id"]) == got
    entries = audit_entries(root, it["_id"], 3)
    assert [e["action"] for e in entries] == ["ITINERARY_CREATED", "ITINERARY_UPDATED",
                                              "ITINERARY_UPDATED"]
    assert entries[1]["changes"] == {"before": {"title": it["title"]},
                                     "after": {"title": "Goa, revised"}}
    assert len(entries[2]["changes"]["before"]["days"]) == 3


def test_links_can_be_set_and_removed(alice):
    _, token = alice
    customer = new_customer(token)
    booking = new_booking(token, customer["_id"])
    it = create(token)
    r = api("PUT", f"/api/itineraries/{it['_id']}", token, json={"booking": booking["_id"]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["customer"] == customer["_id"]
    r = api("PUT", f"/api/itineraries/{it['_id']}", token, json={"booking": None})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert "booking" not in got and got["customer"] == customer["_id"]


@pytest.mark.parametrize("b,status_code,field", [
    ({"title": "x", "version": 9}, 409, None),
    ({"endDate": "2027-04-01"}, 400, "endDate"),
    ({"endDate": "2027-05-02"}, 400, "days[2].day"),  # day 4 no longer fits
    ({"days": [{"day": 1}]}, 400, "title"),
    ({"agent": "0123456789abcdef01234567"}, 400, "agent"),
    ({"booking": "0123456789abcdef01234567"}, 422, "booking"),
    ({"customer": "0123456789abcdef01234567"}, 422, "customer"),
])
def test_bad_updates_change_nothing(alice, b, status_code, field):
    _, token = alice
    it = create(token)
    err = error(api("PUT", f"/api/itineraries/{it['_id']}", token, json=b), status_code)
    if field:
        assert err["details"]["field"] == field
    assert get(token, it["_id"]) == it


def test_an_update_that_changes_nothing_keeps_the_version(alice):
    it = create(alice[1])
    r = api("PUT", f"/api/itineraries/{it['_id']}", alice[1],
            json={"title": it["title"], "days": plan()})
    assert r.status_code == 200 and r.json()["data"] == it


# ---------------------------------------------------------------- delete

def test_delete_is_soft(root, alice):
    it = create(alice[1])
    r = api("DELETE", f"/api/itineraries/{it['_id']}", alice[1])
    assert r.status_code == 200 and r.json()["data"] == {"_id": it["_id"], "deleted": True}
    error(api("GET", f"/api/itineraries/{it['_id']}", alice[1]), 404)
    error(api("DELETE", f"/api/itineraries/{it['_id']}", alice[1]), 404)
    assert it["_id"] not in [x["_id"] for x in listing(alice[1], "limit=100")["data"]]
    e = audit_entries(root, it["_id"], 2)[-1]
    assert e["action"] == "ITINERARY_DELETED" and e["severity"] == "warning"


# ---------------------------------------------------------------- clone

def test_clone_copies_the_plan_as_a_new_itinerary_of_the_caller(root, alice, senior):
    _, token = alice
    customer = new_customer(token)
    booking = new_booking(token, customer["_id"])
    it = create(token, booking=booking["_id"])
    api("PUT", f"/api/itineraries/{it['_id']}", token, json={"notes": "v2"})
    r = api("POST", f"/api/itineraries/{it['_id']}/clone", senior[1])
    assert r.status_code == 201, r.text
    copy = r.json()["data"]
    assert copy["_id"] != it["_id"] and copy["title"] == "Copy of " + it["title"]
    assert copy["agent"] == senior[0]["_id"] and copy["version"] == 1
    assert copy["clonedFrom"] == it["_id"] and "booking" not in copy
    assert copy["customer"] == customer["_id"]  # seniors see every customer
    assert copy["days"] == it["days"] and copy["notes"] == "v2"
    assert copy["destination"] == it["destination"] and copy["startDate"] == it["startDate"]
    assert copy["createdAt"] > it["createdAt"]
    assert get(senior[1], copy["_id"]) == copy
    assert get(token, it["_id"])["version"] == 2  # the source is untouched
    e = audit_entries(root, copy["_id"], 1)[0]
    assert e["action"] == "ITINERARY_CLONED" and e["details"]["sourceId"] == it["_id"]
    assert total(senior[1], "search=copy of") >= 1


def test_clone_with_a_title_and_bad_clone_bodies(fresh):
    _, token = fresh
    it = create(token)
    r = api("POST", f"/api/itineraries/{it['_id']}/clone", token, json={"title": "Goa for two"})
    assert r.status_code == 201 and r.json()["data"]["title"] == "Goa for two"
    for b, field in [({"title": ""}, "title"), ({"agent": "x"}, "agent"), ({"title": 5}, "title")]:
        err = error(api("POST", f"/api/itineraries/{it['_id']}/clone", token, json=b), 400)
        assert err["details"]["field"] == field
    assert total(token) == 2


def test_a_long_title_is_cut_when_cloned(alice):
    it = create(alice[1], title="é" * 200)
    r = api("POST", f"/api/itineraries/{it['_id']}/clone", alice[1])
    assert r.status_code == 201, r.text
    title = r.json()["data"]["title"]
    assert len(title) == 200 and title.startswith("Copy of é")


# ---------------------------------------------------------------- list

def test_filters_sort_and_pagination(fresh):
    _, token = fresh
    a = create(token, title="Bravo trip", destination="Kerala", startDate="2027-01-10",
               endDate="2027-01-15", days=None)
    b = create(token, title="alpha trip", destination="Goa", startDate="2027-06-01",
               endDate="2027-06-05", days=None)
    c = create(token, title="Charlie trip", destination="Kerala Backwaters",
               startDate="2027-03-01", endDate="2027-03-02", days=None)
    p = listing(token, "limit=2")
    assert p["pagination"] == {"page": 1, "limit": 2, "totalDocs": 3, "totalPages": 2,
                               "hasNext": True, "hasPrev": False}
    assert [x["_id"] for x in p["data"]] == [c["_id"], b["_id"]]
    assert [x["_id"] for x in listing(token, "limit=2&page=2")["data"]] == [a["_id"]]
    assert total(token, "destination=kerala") == 2
    assert total(token, "search=ALPHA") == 1
    assert total(token, "startDateFrom=2027-02-01&startDateTo=2027-03-01") == 1
    titles = [x["title"] for x in listing(token, "sortBy=title&sortOrder=asc")["data"]]
    assert titles == ["alpha trip", "Bravo trip", "Charlie trip"]
    starts = [x["_id"] for x in listing(token, "sortBy=startDate&sortOrder=asc")["data"]]
    assert starts == [a["_id"], c["_id"], b["_id"]]


@pytest.mark.parametrize("query,field", [
    ("booking=abc", "booking"),
    ("startDateFrom=2027-13-01", "startDateFrom"),
    ("limit=1000", "limit"),
    ("sortBy=destination", "sortBy"),
    ("title[$regex]=x", "title[$regex]"),
    ("status=draft", "status"),
])
def test_bad_list_parameters_are_400(alice, query, field):
    err = error(api("GET", "/api/itineraries?" + query, alice[1]), 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


def test_the_list_is_cached_until_a_write(fresh):
    _, token = fresh
    it = create(token)
    r1 = api("GET", "/api/itineraries", token)
    r2 = api("GET", "/api/itineraries", token)
    assert (r1.headers["X-Cache"], r2.headers["X-Cache"]) == ("MISS", "HIT")
    api("PUT", f"/api/itineraries/{it['_id']}", token, json={"title": "Changed"})
    r3 = api("GET", "/api/itineraries", token)
    assert r3.headers["X-Cache"] == "MISS" and r3.json()["data"][0]["title"] == "Changed"
