"""Customers and bookings through the gateway: validation, object-level access,
search and filters, the status machine, conflict protection (also under concurrency
and with two booking daemons), optimistic versions, caching and events."""
import concurrent.futures
import datetime
import os
import uuid

import pytest
import requests

from conftest import (BASE, api, new_agent, redis_cli, second_booking_daemon, unique_email,
                      unique_phone, wait_for)

CUSTOMER = {"firstName": "Meera", "lastName": "Iyer", "email": "meera@example.com",
            "phone": "+91 98200 11111", "city": "Mumbai", "country": "India"}


def customer_body(**over):
    """CUSTOMER with an email and phone of its own (or the ones given)."""
    body = dict(CUSTOMER, email=unique_email("meera"), phone=unique_phone())
    body.update(over)
    return body


def customer(token, **over):
    body = customer_body(**over)
    r = api("POST", "/api/customers", token, json=body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def booking_body(customer_id, dest="Paris", start="2027-03-01", end="2027-03-08", **over):
    body = {"customer": customer_id,
            "tripDetails": {"title": f"{dest} getaway", "destination": dest, "startDate": start,
                            "endDate": end, "tripType": "honeymoon",
                            "travellers": {"adults": 2, "children": 0}},
            "pricing": {"totalAmount": 125000.5, "currency": "INR"},
            "priority": "high"}
    body.update(over)
    return body


def create_booking(token, customer_id, **kw):
    r = api("POST", "/api/bookings", token, json=booking_body(customer_id, **kw))
    assert r.status_code == 201, r.text
    return r.json()["data"]


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


def count_bookings(token, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    r = api("GET", f"/api/bookings?{q}", token)
    assert r.status_code == 200, r.text
    return r.json()["pagination"]["totalDocs"]


# ---- customers ---------------------------------------------------------------------

def test_customer_crud_and_versions(agent):
    _, token = agent
    c = customer(token)
    for f in ("_id", "createdAt", "updatedAt", "version", "agent"):
        assert f in c
    assert "searchText" not in c and "deleted" not in c
    r = api("PUT", f"/api/customers/{c['_id']}", token, json={"city": "Pune", "version": 1})
    assert r.status_code == 200 and r.json()["data"]["city"] == "Pune"
    assert r.json()["data"]["version"] == 2
    r = api("PUT", f"/api/customers/{c['_id']}", token, json={"city": "Goa", "version": 1})
    assert r.status_code == 409
    assert api("GET", f"/api/customers/{c['_id']}", token).json()["data"]["city"] == "Pune"
    r = api("DELETE", f"/api/customers/{c['_id']}", token)
    assert r.status_code == 200
    assert api("GET", f"/api/customers/{c['_id']}", token).status_code == 404


@pytest.mark.parametrize("over,field", [
    ({"firstName": None}, "firstName"), ({"phone": "abc"}, "phone"),
    ({"email": "nope"}, "email"), ({"dateOfBirth": "2999-01-01"}, "dateOfBirth"),
    ({"dateOfBirth": "1990-02-30"}, "dateOfBirth"), ({"agent": "0" * 24}, "agent"),
    ({"version": 3}, "version"), ({"notes": 5}, "notes"),
])
def test_customer_validation(agent, over, field):
    _, token = agent
    body = {k: v for k, v in customer_body(**over).items() if v is not None}
    r = api("POST", "/api/customers", token, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["field"] == field


def test_customers_of_others_are_invisible(root_token, agent):
    _, token = agent
    _, other = new_agent(root_token)
    c = customer(other)
    assert api("GET", f"/api/customers/{c['_id']}", token).status_code == 404
    assert api("PUT", f"/api/customers/{c['_id']}", token, json={"city": "X"}).status_code == 404
    assert api("DELETE", f"/api/customers/{c['_id']}", token).status_code == 404
    assert api("GET", f"/api/customers/{c['_id']}", root_token).status_code == 200
    r = api("GET", f"/api/customers?agent={c['agent']}", token)
    assert r.status_code == 403


def test_customer_search_city_sort_and_pagination(agent):
    _, token = agent
    tag = uuid.uuid4().hex[:6]
    for i, city in enumerate(["Mumbai", "Delhi", "Mumbai"]):
        customer(token, lastName=f"Sharma{tag}{i}", city=city)
    r = api("GET", f"/api/customers?search=sharma{tag}&city=mumbai&sortBy=name&sortOrder=asc", token)
    assert r.status_code == 200
    names = [c["lastName"] for c in r.json()["data"]]
    assert names == [f"Sharma{tag}0", f"Sharma{tag}2"]
    for q in ["limit=500", "sortBy=secret", "city[$ne]=x", "page=-1", "search=" + "x" * 101]:
        assert api("GET", f"/api/customers?{q}", token).status_code == 400, q


def test_customer_with_live_bookings_cannot_be_deleted(agent):
    _, token = agent
    c = customer(token)
    create_booking(token, c["_id"], dest="Lisbon")
    r = api("DELETE", f"/api/customers/{c['_id']}", token)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CUSTOMER_HAS_BOOKINGS"


# ---- bookings ----------------------------------------------------------------------

def test_booking_create_read_and_shape(agent):
    _, token = agent
    c = customer(token)
    b = create_booking(token, c["_id"])
    assert b["bookingReference"].startswith("TD-")
    assert b["status"] == "pending" and b["paymentStatus"] == "unpaid"
    assert b["pricing"] == {"totalAmount": 125000.5, "currency": "INR", "taxAmount": 0,
                            "discount": 0}
    assert b["tripDetails"]["startDate"] == "2027-03-01T00:00:00.000Z"
    assert b["customer"] == c["_id"] and b["version"] == 1
    assert api("GET", f"/api/bookings/{b['_id']}", token).json()["data"] == b


@pytest.mark.parametrize("mutate,field", [
    (lambda b: b.pop("customer"), "customer"),
    (lambda b: b.update(customer="xyz"), "customer"),
    (lambda b: b["tripDetails"].pop("destination"), "destination"),
    (lambda b: b["tripDetails"].update(startDate="2027-02-30"), "tripDetails.startDate"),
    (lambda b: b["tripDetails"].update(endDate="2027-02-01"), "tripDetails.endDate"),
    (lambda b: b["tripDetails"].update(tripType="space"), "tripType"),
    (lambda b: b["tripDetails"]["travellers"].update(adults=0), "adults"),
    (lambda b: b["pricing"].update(totalAmount=-5), "totalAmount"),
    (lambda b: b["pricing"].update(totalAmount="100"), "totalAmount"),
    (lambda b: b["pricing"].update(totalAmount=10.555), "totalAmount"),
    (lambda b: b["pricing"].update(currency="rupees"), "currency"),
    (lambda b: b["pricing"].update(discount=125000.51), "pricing.discount"),
    (lambda b: b.update(status="confirmed"), "status"),
    (lambda b: b.update(agent="0" * 24), "agent"),
    (lambda b: b["tripDetails"].update(extra=1), "extra"),
    (lambda b: b.update(priority="asap"), "priority"),
])
def test_booking_validation_changes_nothing(agent, mutate, field):
    _, token = agent
    c = customer(token)
    body = booking_body(c["_id"])
    mutate(body)
    r = api("POST", "/api/bookings", token, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["field"].endswith(field)
    assert count_bookings(token, customer=c["_id"]) == 0


def test_unknown_or_foreign_customer_is_422(root_token, agent):
    _, token = agent
    _, other = new_agent(root_token)
    theirs = customer(other)
    for cid in ["0" * 24, theirs["_id"]]:
        r = api("POST", "/api/bookings", token, json=booking_body(cid))
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "UNKNOWN_CUSTOMER"


def test_overlap_same_destination_is_409_naming_the_booking(agent):
    _, token = agent
    c = customer(token)
    first = create_booking(token, c["_id"], dest="Paris", start="2027-06-01", end="2027-06-10")
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="paris", start="2027-06-09", end="2027-06-15"))
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "BOOKING_CONFLICT"
    assert err["details"]["conflictingBooking"]["_id"] == first["_id"]
    assert err["details"]["conflictingBooking"]["bookingReference"] == first["bookingReference"]
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="Paris", start="2027-06-01", end="2027-06-10"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "DUPLICATE_BOOKING"
    # Other destination, adjacent dates, or another customer: fine.
    create_booking(token, c["_id"], dest="Rome", start="2027-06-01", end="2027-06-10")
    create_booking(token, c["_id"], dest="Paris", start="2027-06-11", end="2027-06-12")
    c2 = customer(token)
    create_booking(token, c2["_id"], dest="Paris", start="2027-06-01", end="2027-06-10")


def test_cancelled_bookings_never_conflict(agent):
    _, token = agent
    c = customer(token)
    b = create_booking(token, c["_id"], dest="Bali")
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 200
    create_booking(token, c["_id"], dest="Bali")


def test_update_rechecks_conflicts_excluding_itself_and_needs_current_version(agent):
    _, token = agent
    c = customer(token)
    a = create_booking(token, c["_id"], dest="Oslo", start="2027-07-01", end="2027-07-05")
    b = create_booking(token, c["_id"], dest="Oslo", start="2027-07-10", end="2027-07-15")
    r = api("PUT", f"/api/bookings/{a['_id']}", token,
            json={"tripDetails": {"endDate": "2027-07-06"}, "version": a["version"]})
    assert r.status_code == 200, r.text
    a = r.json()["data"]
    r = api("PUT", f"/api/bookings/{a['_id']}", token,
            json={"tripDetails": {"endDate": "2027-07-12"}, "version": a["version"]})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["conflictingBooking"]["_id"] == b["_id"]
    r = api("PUT", f"/api/bookings/{a['_id']}", token,
            json={"priority": "low", "version": a["version"] - 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "VERSION_CONFLICT"
    r = api("PUT", f"/api/bookings/{a['_id']}", token, json={"priority": "low"})
    assert r.status_code == 400
    assert api("GET", f"/api/bookings/{a['_id']}", token).json()["data"] == a



def test_discount_cannot_exceed_the_total_on_update(agent):
    _, token = agent
    c = customer(token)
    b = create_booking(token, c["_id"], dest="Kyoto",
                       pricing={"totalAmount": 1000, "currency": "INR", "discount": 1000})
    assert b["pricing"]["discount"] == 1000  # the whole total off is allowed
    # PUT merges with the stored pricing: a lower total alone, or a bigger discount alone,
    # is checked against the other stored value.
    for pricing in [{"totalAmount": 999.99}, {"discount": 1000.01},
                    {"totalAmount": 500, "discount": 600}]:
        r = api("PUT", f"/api/bookings/{b['_id']}", token,
                json={"pricing": pricing, "version": b["version"]})
        assert r.status_code == 400, (pricing, r.text)
        err = r.json()["error"]
        assert err["code"] == "VALIDATION_ERROR" and err["details"]["field"] == "pricing.discount"
    assert api("GET", f"/api/bookings/{b['_id']}", token).json()["data"] == b
    r = api("PUT", f"/api/bookings/{b['_id']}", token,
            json={"pricing": {"totalAmount": 1500, "discount": 1500}, "version": b["version"]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["pricing"]["discount"] == 1500

def test_status_machine(agent):
    _, token = agent
    c = customer(token)
    # A trip already over, so the dates never hold a step back (see the date rules below).
    b = create_booking(token, c["_id"], dest="Cairo", start="2020-03-01", end="2020-03-08")
    for bad in ["completed", "refunded", "in_progress"]:
        r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["details"]["allowed"] == ["confirmed", "cancelled"]
    for s in ["confirmed", "in_progress", "completed", "refunded"]:
        r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": s})
        assert r.status_code == 200 and r.json()["data"]["status"] == s
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "pending"})
    assert r.status_code == 422
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "lost"})
    assert r.status_code == 400
    r = api("PUT", f"/api/bookings/{b['_id']}", token, json={"priority": "low", "version": 99})
    assert r.status_code in (409, 422)



def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def test_a_trip_cannot_start_before_its_start_date_or_end_before_its_end_date(agent):
    _, token = agent
    c = customer(token)
    today = utc_today()
    day = datetime.timedelta(days=1)
    # Starts tomorrow: confirmed yes, in progress no.
    b = create_booking(token, c["_id"], dest="Lima", start=str(today + day),
                       end=str(today + 5 * day))
    assert api("PATCH", f"/api/bookings/{b['_id']}/status", token,
               json={"status": "confirmed"}).status_code == 200
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "in_progress"})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "BOOKING_NOT_STARTED"
    assert err["details"]["startDate"] == str(today + day)
    assert err["details"]["today"] == str(today)
    assert api("GET", f"/api/bookings/{b['_id']}", token).json()["data"]["status"] == "confirmed"
    # Started today, ends tomorrow: in progress yes, completed no.
    b = create_booking(token, c["_id"], dest="Quito", start=str(today), end=str(today + day))
    for s in ["confirmed", "in_progress"]:
        r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": s})
        assert r.status_code == 200, r.text
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "completed"})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "BOOKING_NOT_ENDED"
    assert err["details"]["endDate"] == str(today + day)
    assert err["details"]["today"] == str(today)
    assert api("GET", f"/api/bookings/{b['_id']}", token).json()["data"]["status"] == "in_progress"
    # Cancelling is never held back by the dates.
    r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 200
    # A one-day trip today: it starts and completes the same day.
    b = create_booking(token, c["_id"], dest="Cusco", start=str(today), end=str(today))
    for s in ["confirmed", "in_progress", "completed"]:
        r = api("PATCH", f"/api/bookings/{b['_id']}/status", token, json={"status": s})
        assert r.status_code == 200, r.text

def test_someone_elses_booking(root_token, agent):
    _, token = agent
    _, other = new_agent(root_token)
    oc = customer(other)
    ob = create_booking(other, oc["_id"], dest="Doha")
    assert api("GET", f"/api/bookings/{ob['_id']}", token).status_code == 404
    r = api("PATCH", f"/api/bookings/{ob['_id']}/status", token, json={"status": "cancelled"})
    assert r.status_code == 404
    assert api("DELETE", f"/api/bookings/{ob['_id']}", token).status_code == 404
    assert api("GET", f"/api/bookings/{ob['_id']}", other).json()["data"]["status"] == "pending"
    # A senior agent sees and updates any booking by default, but may not delete it.
    _, senior = new_agent(root_token, role="senior_agent")
    assert api("GET", f"/api/bookings/{ob['_id']}", senior).status_code == 200
    r = api("PATCH", f"/api/bookings/{ob['_id']}/status", senior, json={"status": "confirmed"})
    assert r.status_code == 200
    assert api("DELETE", f"/api/bookings/{ob['_id']}", senior).status_code == 403
    assert api("DELETE", f"/api/bookings/{ob['_id']}", root_token).status_code == 200


def test_search_and_filters(agent):
    _, token = agent
    tag = uuid.uuid4().hex[:6]
    c = customer(token, lastName=f"Kapoor{tag}")
    create_booking(token, c["_id"], dest=f"Kyoto{tag}", start="2027-04-01", end="2027-04-05",
                   pricing={"totalAmount": 60000, "currency": "INR"})
    b2 = create_booking(token, c["_id"], dest=f"Nara{tag}", start="2027-05-01", end="2027-05-05",
                        pricing={"totalAmount": 250000, "currency": "INR"}, priority="urgent")
    assert count_bookings(token, search=f"kapoor{tag}") == 2
    assert count_bookings(token, search=b2["bookingReference"]) == 1
    assert count_bookings(token, destination=f"kyoto{tag}") == 1
    assert count_bookings(token, customer=c["_id"], minAmount=100000) == 1
    assert count_bookings(token, customer=c["_id"], maxAmount=100000) == 1
    assert count_bookings(token, customer=c["_id"], priority="urgent,high") == 2
    assert count_bookings(token, customer=c["_id"], startDateFrom="2027-04-15") == 1
    assert count_bookings(token, customer=c["_id"], startDateTo="2027-04-01") == 1
    # Both ends of a range on one field (once crashed FerretDB with a repeated key).
    assert count_bookings(token, customer=c["_id"], minAmount=50000, maxAmount=100000) == 1
    assert count_bookings(token, customer=c["_id"], startDateFrom="2027-04-01",
                          startDateTo="2027-04-30", createdFrom="2020-01-01",
                          createdTo="2099-12-31") == 1
    assert api("GET", "/api/bookings/ping", token).status_code == 200
    assert api("GET", f"/api/customers?createdFrom=2020-01-01&createdTo=2099-01-01", token).status_code == 200
    assert count_bookings(token, customer=c["_id"], status="pending,confirmed",
                          tripType="honeymoon,family") == 2
    r = api("GET", f"/api/bookings?customer={c['_id']}&sortBy=totalAmount&sortOrder=desc&limit=1",
            token)
    body = r.json()
    assert body["data"][0]["_id"] == b2["_id"]
    assert body["pagination"] == {"page": 1, "limit": 1, "totalDocs": 2, "totalPages": 2,
                                  "hasNext": True, "hasPrev": False}
    for q in ["minAmount=abc", "startDateFrom=2027-13-01", "status[$ne]=x", "limit=101",
              "tripType=space", "agent=123", "$where=1", "sortBy=notes", "minAmount=1e999"]:
        assert api("GET", f"/api/bookings?{q}", token).status_code == 400, q


def test_twenty_identical_creates_give_one_201(agent):
    _, token = agent
    c = customer(token)
    body = booking_body(c["_id"], dest="Vienna", start="2027-09-01", end="2027-09-04")

    def post(_):
        return requests.post(BASE + "/api/bookings", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {token}"}).status_code
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(post, range(20)))
    assert sorted(codes) == [201] + [409] * 19, codes
    assert count_bookings(token, customer=c["_id"]) == 1


def test_twenty_identical_creates_with_two_booking_daemons(stack, agent):
    _, token = agent
    with second_booking_daemon(stack, "booking2"):
        c = customer(token)
        body = booking_body(c["_id"], dest="Prague", start="2027-10-01", end="2027-10-04")

        def post(_):
            return requests.post(BASE + "/api/bookings", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}).status_code
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(post, range(20)))
        assert sorted(codes) == [201] + [409] * 19, codes
        assert count_bookings(token, customer=c["_id"]) == 1


def test_list_cache_hit_miss_and_visibility_of_writes(agent):
    _, token = agent
    c = customer(token)
    q = f"/api/bookings?customer={c['_id']}&status=pending"
    r1 = api("GET", q, token)
    r2 = api("GET", q, token)
    assert r1.headers["X-Cache"] == "MISS" and r2.headers["X-Cache"] == "HIT"
    assert r1.json() == r2.json()
    create_booking(token, c["_id"], dest="Zurich")
    r3 = api("GET", q, token)
    assert r3.headers["X-Cache"] == "MISS"
    assert r3.json()["pagination"]["totalDocs"] == 1


def test_cache_bypass_when_redis_is_down(stack, agent):
    _, token = agent
    c = customer(token)
    stack.stop("redis")
    try:
        create_booking(token, c["_id"], dest="Seville")
        r = api("GET", f"/api/bookings?customer={c['_id']}", token)
        assert r.status_code == 200 and r.headers["X-Cache"] == "BYPASS"
        assert r.json()["pagination"]["totalDocs"] == 1
    finally:
        stack.start("redis")
    # Written while Redis was down, still visible after it returns; and within a
    # back-off (TD_REDIS_RETRY_MS) the daemons use Redis again: answers are cached.
    def back():
        r = api("GET", f"/api/bookings?customer={c['_id']}", token)
        return r.json()["pagination"]["totalDocs"] == 1 and r.headers["X-Cache"] != "BYPASS"
    wait_for(back, 5, "data correct and cached again after Redis returns")


def restart_with(stack, envs):
    """Restarts each named daemon with the environment given for it, then waits until
    every service is connected to the gateway again."""
    for name, env in envs.items():
        stack.daemons[name].env = env
        stack.stop(name)
        stack.start(name)
    # registered (heartbeats) is not enough: each must have dialled the gateway again
    wait_for(lambda: all(s["instances"] >= 1 and s["connected"] >= 1 for s in
                         api("GET", "/api/health").json()["data"]["services"].values()),
             15, "every service connected")


def test_cache_disabled_by_configuration(stack, agent):
    _, token = agent
    c = customer(token)
    q = f"/api/bookings?customer={c['_id']}"
    api("GET", q, token)
    assert api("GET", q, token).headers["X-Cache"] == "HIT"
    old = {n: stack.daemons[n].env for n in ("gateway", "booking")}
    restart_with(stack, {n: dict(env, CACHE_ENABLED="false") for n, env in old.items()})
    try:
        wait_for(lambda: api("GET", "/api/bookings/ping", token).status_code == 200, 10, "up")
        for _ in range(2):  # the entry cached before is not served either
            assert api("GET", q, token).headers["X-Cache"] == "BYPASS"
            assert api("GET", "/api/bookings", token).headers["X-Cache"] == "BYPASS"
    finally:
        restart_with(stack, old)
        wait_for(lambda: api("GET", "/api/bookings/ping", token).status_code == 200, 10, "up")


def test_the_gateway_answers_hits_while_the_service_is_down(stack, agent):
    _, token = agent
    c = customer(token)
    q = f"/api/bookings?customer={c['_id']}&limit=5"
    first = api("GET", q, token)
    assert first.headers["X-Cache"] == "MISS"
    stack.stop("booking")
    try:
        hit = api("GET", q, token)
        assert hit.status_code == 200 and hit.headers["X-Cache"] == "HIT"
        assert hit.json() == first.json()
        assert hit.headers["Content-Type"] == "application/json"
        assert hit.headers["Cache-Control"] == "no-store" and hit.headers["X-Request-Id"]
        miss = api("GET", q + "&page=2", token)  # not cached: needs the service
        assert miss.status_code == 503 and miss.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert api("GET", f"/api/bookings?customer={c['_id']}", token).status_code == 503
    finally:
        stack.start("booking")
        wait_for(lambda: api("GET", "/api/bookings/ping", token).status_code == 200, 10, "up")


def test_cached_answers_are_kept_per_scope(root_token, agent):
    _, token = agent
    _, other = new_agent(root_token)
    create_booking(token, customer(token)["_id"], dest="Oslo")
    # (the bus moving the booking's event out of it may invalidate once more)
    wait_for(lambda: api("GET", "/api/bookings?limit=3", token).headers["X-Cache"] == "HIT",
             5, "a cached answer")
    mine = api("GET", "/api/bookings?limit=3", token)
    theirs = api("GET", "/api/bookings?limit=3", other)
    assert theirs.headers["X-Cache"] == "MISS"  # never the first agent's entry
    assert theirs.json()["pagination"]["totalDocs"] == 0
    assert mine.json()["pagination"]["totalDocs"] >= 1
    everyone = api("GET", "/api/bookings?limit=3", root_token)  # canViewAllBookings
    assert everyone.json()["pagination"]["totalDocs"] >= mine.json()["pagination"]["totalDocs"]
    # another spelling of the same query is its own entry, with the same answer
    other_order = api("GET", "/api/bookings?limit=3&page=1", token)
    assert other_order.headers["X-Cache"] == "MISS"
    assert other_order.json()["data"] == mine.json()["data"]


def test_process_copies_are_served_only_while_redis_holds_the_entry(agent):
    _, token = agent
    c = customer(token)
    q = f"/api/bookings?customer={c['_id']}&limit=7"
    api("GET", q, token)
    assert api("GET", q, token).headers["X-Cache"] == "HIT"
    keys = [k for k in redis_cli("--scan", "--pattern", "bookings:list:*").split()
            if c["_id"] in k]
    assert keys, "the entry is in Redis"
    redis_cli("DEL", *keys)  # expired, evicted or lost with a Redis restart
    assert api("GET", q, token).headers["X-Cache"] == "MISS"
    assert api("GET", q, token).headers["X-Cache"] == "HIT"


def test_bookings_need_auth(stack):
    assert api("GET", "/api/bookings").status_code == 401
    assert api("POST", "/api/bookings", json={}).status_code == 401
    assert api("GET", "/api/customers").status_code == 401
