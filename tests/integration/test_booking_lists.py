"""The booking list's in-memory copy and the per-customer slot documents behind
conflict checks: the copy answers exactly what MongoDB answers (checked against a
reference evaluation in Python and against the database path with Redis down),
writes made on one booking daemon are in the other's very next list, the copy
reloads when Redis loses track, and slot entries left by a crash neither block nor
let through a booking."""
import datetime
import itertools
import uuid

import pytest
from bson import ObjectId
from pymongo import MongoClient

from conftest import COPY_SOURCE, LIST_COPIES, MONGO_PORT, api, new_agent, redis_cli, second_booking_daemon, unique_phone, wait_for
from test_bookings import booking_body, customer

DB = "tripdesk_booking"


@pytest.fixture(scope="module")
def agent(root_session):
    return new_agent(root_session["accessToken"])


@pytest.fixture(scope="module")
def mongo():
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    yield client[DB]
    client.close()


def create(token, cust, **kw):
    r = api("POST", "/api/bookings", token, json=booking_body(cust, **kw))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def listing(token, query):
    r = api("GET", f"/api/bookings?{query}", token)
    assert r.status_code == 200, r.text
    return r


_unique = itertools.count()


def fresh(query):
    """query with a harmless createdTo no other request used: a cache MISS, so the
    answer is computed now (and says where from) rather than served by Redis."""
    d = datetime.date(2099, 1, 1) + datetime.timedelta(days=next(_unique))
    return f"{query}&createdTo={d.isoformat()}"


def day(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


# A reference evaluation of the PRD step 6 filters the tests use, over the API's
# own documents.
def reference(docs, status=None, tripType=None, priority=None, minAmount=None,
              maxAmount=None, startDateFrom=None, startDateTo=None, search=None,
              sortBy="createdAt", sortOrder="desc"):
    keys = {"createdAt": lambda d: day(d["createdAt"]),
            "startDate": lambda d: day(d["tripDetails"]["startDate"]),
            "totalAmount": lambda d: d["pricing"]["totalAmount"],
            "bookingReference": lambda d: d["bookingReference"],
            "priority": lambda d: d["priority"]}
    out = []
    for d in docs:
        if status and d["status"] not in status.split(","):
            continue
        if tripType and d["tripDetails"]["tripType"] not in tripType.split(","):
            continue
        if priority and d["priority"] not in priority.split(","):
            continue
        amount = d["pricing"]["totalAmount"]
        if minAmount is not None and amount < minAmount:
            continue
        if maxAmount is not None and amount > maxAmount:
            continue
        start = day(d["tripDetails"]["startDate"])
        if startDateFrom and start < day(startDateFrom + "T00:00:00Z"):
            continue
        if startDateTo and start > day(startDateTo + "T23:59:59.999Z"):
            continue
        if search and search.lower() not in (d["tripDetails"]["destination"].lower() + " " +
                                             d["tripDetails"]["title"].lower() + " " +
                                             d["bookingReference"].lower()):
            continue
        out.append(d)
    rev = sortOrder == "desc"
    out.sort(key=lambda d: (keys[sortBy](d), d["_id"]), reverse=rev)
    return out


@pytest.fixture(scope="module")
def dataset(agent):
    """Fourteen bookings of one customer with varied fields and statuses."""
    _, token = agent
    tag = uuid.uuid4().hex[:6]
    c = customer(token, lastName=f"Listcopy{tag}")
    trips = ["family", "honeymoon", "business", "adventure", "family", "leisure", "group"]
    prios = ["low", "medium", "high", "urgent"]
    docs = []
    for i in range(14):
        d = create(token, c["_id"], dest=f"City{tag}{i % 5}", start=f"2028-{1 + i % 12:02d}-{1 + i:02d}",
                   end=f"2028-{1 + i % 12:02d}-{2 + i:02d}",
                   pricing={"totalAmount": 10000 + 7919 * i % 50000, "currency": "INR"},
                   priority=prios[i % 4])
        d["tripDetails"]["tripType"] = trips[i % 7]
        r = api("PUT", f"/api/bookings/{d['_id']}", token,
                json={"tripDetails": {"tripType": trips[i % 7]}, "version": d["version"]})
        assert r.status_code == 200, r.text
        d = r.json()["data"]
        if i % 3 == 0:
            r = api("PATCH", f"/api/bookings/{d['_id']}/status", token,
                    json={"status": "confirmed", "version": d["version"]})
            assert r.status_code == 200, r.text
            d = r.json()["data"]
        docs.append(d)
    return token, c["_id"], docs


QUERIES = [
    {},
    {"status": "confirmed"},
    {"status": "pending", "tripType": "family,group"},
    {"priority": "urgent,high", "sortBy": "totalAmount", "sortOrder": "asc"},
    {"minAmount": 20000, "maxAmount": 45000, "sortBy": "startDate"},
    {"startDateFrom": "2028-03-01", "startDateTo": "2028-08-31", "sortBy": "bookingReference",
     "sortOrder": "asc"},
    {"search": "city", "status": "pending,confirmed", "sortBy": "priority"},
]


def check_queries(token, cust, docs, source):
    for q in QUERIES:
        for page, limit in ((1, 5), (2, 5), (3, 5), (1, 100)):
            params = dict(q, customer=cust, page=page, limit=limit)
            query = "&".join(f"{k}={v}" for k, v in params.items())
            r = listing(token, fresh(query))
            body = r.json()
            assert r.headers.get("X-List-Source") == source, (query, r.headers)
            want = reference(docs, **q)
            assert body["pagination"]["totalDocs"] == len(want), query
            got = [d["_id"] for d in body["data"]]
            assert got == [d["_id"] for d in want][(page - 1) * limit:page * limit], query
            if got:
                assert body["data"][0] == next(d for d in docs if d["_id"] == got[0]), query


def test_memory_copy_answers_like_the_reference(dataset):
    token, cust, docs = dataset
    check_queries(token, cust, docs, COPY_SOURCE)


def test_copy_answers_the_same_with_redis_down_marked_degraded(stack, dataset):
    token, cust, docs = dataset
    stack.stop("redis")
    try:
        check_queries(token, cust, docs, COPY_SOURCE)
        degraded = listing(token, fresh(f"customer={cust}")).headers.get("X-List-Degraded")
        # without copies the database answers, complete: nothing to mark
        assert degraded == ("unsynced" if COPY_SOURCE == "memory" else None)
    finally:
        stack.start("redis")
    def synced():
        r = listing(token, fresh(f"customer={cust}"))
        return (r.headers.get("X-List-Source") == COPY_SOURCE
                and r.headers.get("X-List-Degraded") is None)
    wait_for(synced, 10, "the copy answers again, in step with Redis")


def test_copy_reloads_after_redis_lost_its_data(dataset):
    token, cust, docs = dataset
    # what a Redis restart without persistence does to the change stream
    redis_cli("DEL", "bookings:epoch", "bookings:changes")
    first = listing(token, fresh(f"customer={cust}"))
    assert first.headers.get("X-List-Source") == "database"
    assert first.json()["pagination"]["totalDocs"] == len(docs)
    wait_for(lambda: listing(token, fresh(f"customer={cust}")).headers.get("X-List-Source")
             == COPY_SOURCE, 10, "reloaded copy")
    assert listing(token, fresh(f"customer={cust}")).json()["pagination"]["totalDocs"] == len(docs)


def test_a_reload_drops_documents_gone_from_the_database(agent, mongo):
    """A reload refreshes the copy in place and then sweeps the rows it did not see:
    a booking removed from the database behind the service's back is gone."""
    _, token = agent
    c = customer(token)
    kept, gone = (create(token, c["_id"], dest=f"Sweep{i}", start=f"2030-0{1 + i}-01",
                         end=f"2030-0{1 + i}-03") for i in range(2))
    assert listing(token, fresh(f"customer={c['_id']}")).json()["pagination"]["totalDocs"] == 2
    raw = mongo["bookings"].find_one({"_id": ObjectId(gone["_id"])})
    mongo["bookings"].delete_one({"_id": ObjectId(gone["_id"])})

    def reloaded():
        redis_cli("DEL", "bookings:epoch", "bookings:changes")  # every copy reloads
        wait_for(lambda: (r := listing(token, fresh(f"customer={c['_id']}"))).headers.get(
            "X-List-Source") == COPY_SOURCE and r, 10, "reloaded copy")

    reloaded()
    r = listing(token, fresh(f"customer={c['_id']}"))
    assert [d["_id"] for d in r.json()["data"]] == [kept["_id"]]
    # the swept row is not counted by a filter answered from its column codes either
    r = listing(token, fresh(f"customer={c['_id']}&status={kept['status']}"))
    assert r.json()["pagination"]["totalDocs"] == 1
    # back in the database: the next reload has it again
    mongo["bookings"].insert_one(raw)
    reloaded()
    r = listing(token, fresh(f"customer={c['_id']}&status={kept['status']}"))
    assert sorted(d["_id"] for d in r.json()["data"]) == sorted([kept["_id"], gone["_id"]])
    assert r.json()["pagination"]["totalDocs"] == 2


def test_writes_on_one_daemon_are_in_the_other_daemons_next_list(stack, agent):
    _, token = agent
    with second_booking_daemon(stack, "booking3"):
        wait_for(lambda: all(listing(token, fresh("limit=1")).headers.get("X-List-Source")
                             == COPY_SOURCE for n in range(8)), 15, "both copies loaded")
        c = customer(token)
        for i in range(6):
            b = create(token, c["_id"], dest=f"Porto{i}", start=f"2029-0{1 + i}-01",
                       end=f"2029-0{1 + i}-03")
            # each list goes to either daemon (the gateway spreads requests)
            for n in range(1, 7):
                r = listing(token, fresh(f"customer={c['_id']}&limit={n}&sortBy=startDate"))
                assert r.json()["pagination"]["totalDocs"] == i + 1, (i, n)
                assert r.headers.get("X-List-Source") == COPY_SOURCE
            r = api("PATCH", f"/api/bookings/{b['_id']}/status", token,
                    json={"status": "cancelled", "version": b["version"]})
            assert r.status_code == 200, r.text
            for n in range(1, 7):
                r = listing(token, fresh(f"customer={c['_id']}&status=cancelled&limit={n}"))
                assert r.json()["pagination"]["totalDocs"] == i + 1, (i, n)
        r = api("DELETE", f"/api/bookings/{b['_id']}", token)
        assert r.status_code == 200, r.text
        for n in range(1, 7):
            r = listing(token, fresh(f"customer={c['_id']}&limit={n}"))
            assert r.json()["pagination"]["totalDocs"] == 5


# ---- slot documents ----------------------------------------------------------------

def test_slot_entry_left_by_a_crash_neither_blocks_nor_lets_through(agent, mongo):
    _, token = agent
    c = customer(token)
    real = create(token, c["_id"], dest="Lisbon", start="2029-06-10", end="2029-06-15")
    slots = mongo["booking_slots"]
    key = f"{c['_id']}:lisbon"  # one document per customer and destination
    doc = slots.find_one({"_id": key})
    assert [str(e["b"]) for e in doc["entries"]] == [real["_id"]]
    # A crash between reserving and writing leaves an entry with no booking behind.
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ghost = {"b": ObjectId(), "ref": "TD-000000-GHOST", "dest": "lisbon",
             "s": datetime.datetime(2029, 7, 1, tzinfo=datetime.timezone.utc),
             "e": datetime.datetime(2029, 7, 9, tzinfo=datetime.timezone.utc), "at": old}
    slots.update_one({"_id": key}, {"$push": {"entries": ghost}, "$inc": {"v": 1}})
    # Old enough to be checked: the booking does not exist, so it does not count.
    create(token, c["_id"], dest="Lisbon", start="2029-07-02", end="2029-07-04")
    assert all(e["ref"] != "TD-000000-GHOST" for e in slots.find_one({"_id": key})["entries"])
    # The real booking still blocks its dates.
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="Lisbon", start="2029-06-12", end="2029-06-20"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "BOOKING_CONFLICT"
    assert r.json()["error"]["details"]["conflictingBooking"]["_id"] == real["_id"]
    # A fresh entry belongs to a write in flight: it blocks until it is old.
    fresh = dict(ghost, b=ObjectId(), ref="TD-000000-FRESH",
                 at=datetime.datetime.now(datetime.timezone.utc),
                 s=datetime.datetime(2029, 8, 1, tzinfo=datetime.timezone.utc),
                 e=datetime.datetime(2029, 8, 5, tzinfo=datetime.timezone.utc))
    slots.update_one({"_id": key}, {"$push": {"entries": fresh}, "$inc": {"v": 1}})
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="Lisbon", start="2029-08-03", end="2029-08-04"))
    assert r.status_code == 409
    assert r.json()["error"]["details"]["conflictingBooking"]["bookingReference"] == "TD-000000-FRESH"


def test_moved_booking_frees_its_old_dates_and_holds_the_new(agent, mongo):
    _, token = agent
    c = customer(token)
    b = create(token, c["_id"], dest="Oslo", start="2029-09-01", end="2029-09-05")
    r = api("PUT", f"/api/bookings/{b['_id']}", token,
            json={"tripDetails": {"startDate": "2029-10-01", "endDate": "2029-10-05"},
                  "version": b["version"]})
    assert r.status_code == 200, r.text
    entries = mongo["booking_slots"].find_one({"_id": f"{c['_id']}:oslo"})["entries"]
    assert len(entries) == 1 and entries[0]["s"].month == 10
    create(token, c["_id"], dest="Oslo", start="2029-09-02", end="2029-09-04")
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="Oslo", start="2029-10-03", end="2029-10-09"))
    assert r.status_code == 409
    # A stale version changes nothing, the slot included.
    r = api("PUT", f"/api/bookings/{b['_id']}", token,
            json={"tripDetails": {"startDate": "2029-11-01", "endDate": "2029-11-05"},
                  "version": b["version"]})
    assert r.status_code == 409
    entries = mongo["booking_slots"].find_one({"_id": f"{c['_id']}:oslo"})["entries"]
    assert sorted(e["s"].month for e in entries) == [9, 10]
    # To another destination: the old destination's document lets the dates go.
    r = api("PUT", f"/api/bookings/{b['_id']}", token,
            json={"tripDetails": {"destination": "Tromso"}, "version": b["version"] + 1})
    assert r.status_code == 200, r.text
    assert [e["b"] for e in mongo["booking_slots"].find_one({"_id": f"{c['_id']}:oslo"})["entries"]
            if str(e["b"]) == b["_id"]] == []
    assert [str(e["b"]) for e in mongo["booking_slots"].find_one(
        {"_id": f"{c['_id']}:tromso"})["entries"]] == [b["_id"]]
    create(token, c["_id"], dest="Oslo", start="2029-10-03", end="2029-10-09")
    r = api("POST", "/api/bookings", token,
            json=booking_body(c["_id"], dest="Tromso", start="2029-10-04", end="2029-10-06"))
    assert r.status_code == 409


def test_slots_are_built_from_bookings_written_before_them(stack, agent, mongo):
    _, token = agent
    c = customer(token)
    create(token, c["_id"], dest="Bergen", start="2030-01-10", end="2030-01-20")
    mongo["booking_slots"].drop()
    # what the first layout (one document per customer) left: removed by the rebuild
    mongo["booking_slots"].insert_many([{"_id": c["_id"], "v": 1, "entries": []},
                                        {"_id": "_built", "bookings": 1}])
    stack.stop("booking")
    stack.start("booking")
    wait_for(lambda: mongo["booking_slots"].find_one({"_id": "_built_by_destination"}), 20,
             "slots rebuilt")
    assert mongo["booking_slots"].find_one({"_id": c["_id"]}) is None
    assert mongo["booking_slots"].find_one({"_id": "_built"}) is None
    assert mongo["booking_slots"].find_one({"_id": f"{c['_id']}:bergen"})["entries"]
    r = wait_for(lambda: (x := api("POST", "/api/bookings", token,
                                   json=booking_body(c["_id"], dest="Bergen", start="2030-01-15",
                                                     end="2030-01-25"))).status_code != 503 and [x],
                 20, "booking writes back")[0]
    assert r.status_code == 409, r.text


# ---- the other lists -----------------------------------------------------------------

def test_customer_lead_and_itinerary_lists_come_from_their_copies(agent):
    _, token = agent
    tag = uuid.uuid4().hex[:8]
    c = customer(token, lastName=f"Copy{tag}", city="Pune")
    r = api("POST", "/api/leads", token, json={
        "name": {"firstName": "Lead", "lastName": f"Copy{tag}"},
        "contactInfo": {"email": f"lead-{tag}@example.com", "phone": unique_phone()},
        "source": "website", "priority": "high"})
    assert r.status_code == 201, r.text
    lead = r.json()["data"]
    for path, want in ((f"/api/customers?search=copy{tag}", c["_id"]),
                       (f"/api/leads?search=copy{tag}", lead["_id"])):
        r = api("GET", path, token)
        assert r.status_code == 200, r.text
        assert r.headers.get("X-List-Source") == COPY_SOURCE, path
        assert [d["_id"] for d in r.json()["data"]] == [want], path
    # a write is in the very next list: the lead moves on, the customer is deleted
    r = api("PATCH", f"/api/leads/{lead['_id']}/status", token,
            json={"status": "contacted", "version": lead["version"]})
    assert r.status_code == 200, r.text
    r = api("GET", f"/api/leads?search=copy{tag}&status=contacted", token)
    assert r.headers.get("X-List-Source") == COPY_SOURCE
    assert r.json()["pagination"]["totalDocs"] == 1
    assert api("DELETE", f"/api/customers/{c['_id']}", token).status_code == 200
    r = api("GET", f"/api/customers?search=copy{tag}", token)
    assert r.headers.get("X-List-Source") == COPY_SOURCE
    assert r.json()["pagination"]["totalDocs"] == 0
    r = api("GET", "/api/itineraries", token)
    assert r.status_code == 200 and r.headers.get("X-List-Source") == COPY_SOURCE


def test_a_booking_sees_its_customer_as_the_database_does(stack, root_token, agent):
    """The customer of a new booking is read from the list copy of customers: a
    customer created on another booking daemon is found, a deleted one or another
    agent's is not (422), exactly as when it was read from the database."""
    _, token = agent
    with second_booking_daemon(stack, "booking3"):
        made = [api("POST", "/api/customers", token, json={
            "firstName": "Copy", "lastName": f"Reader{i}", "phone": unique_phone()})
            .json()["data"] for i in range(6)]  # spread over both daemons
        for c in made:
            create(token, c["_id"], dest="Hanoi")
        gone = api("POST", "/api/customers", token, json={
            "firstName": "Gone", "lastName": "Customer", "phone": unique_phone()}).json()["data"]
        assert api("DELETE", f"/api/customers/{gone['_id']}", token).status_code == 200
        _, other = new_agent(root_token)
        theirs = api("POST", "/api/customers", other, json={
            "firstName": "Their", "lastName": "Customer", "phone": unique_phone()}).json()["data"]
        for _ in range(4):  # whichever daemon answers
            for cid in (gone["_id"], theirs["_id"]):
                r = api("POST", "/api/bookings", token, json=booking_body(cid, dest="Hue"))
                assert r.status_code == 422 and r.json()["error"]["code"] == "UNKNOWN_CUSTOMER"


def test_on_ferretdb_only_unique_indexes_are_kept(mongo):
    """FerretDB's SQLite backend never reads a secondary index but updates each on
    every write: the booking daemon keeps the unique ones only (MongoDB gets all)."""
    assert "ferretdbVersion" in mongo.client.admin.command("buildInfo")
    names = set(mongo["bookings"].index_information())
    assert names == {"_id_", "booking_reference"}, names
    assert mongo["bookings"].index_information()["booking_reference"].get("unique")


# ---- TRIPDESK_LIST_COPIES ------------------------------------------------------------

def test_copies_setting_is_decided_as_configured(stack):
    """auto is on for FerretDB (the test database), off only when asked for: the
    booking daemon's log says which, and the lists answer from there."""
    with open(stack.daemons["booking"].log_path, errors="replace") as f:
        log = f.read()
    if LIST_COPIES == "auto":
        wait_for(lambda: DECIDED_ON in
                 open(stack.daemons["booking"].log_path, errors="replace").read(), 10,
                 "auto decided")
    else:
        assert "(TRIPDESK_LIST_COPIES=auto" not in log


DECIDED_ON = "lists, counts and summaries from in-memory copies (TRIPDESK_LIST_COPIES=auto, FerretDB)"


@pytest.mark.parametrize("daemon,path", [
    ("payment", "/api/payments"), ("payment", "/api/commissions"),
    ("payment", "/api/commissions/summary"), ("auth", "/api/agents/directory"),
    ("analytics", "/api/audit-logs?limit=1")])
def test_every_service_answers_its_lists_as_configured(stack, root_token, daemon, path):
    """One setting for every daemon that keeps copies (tripdesk/listcopies.h): each
    list answers from memory with copies on, from the database with them off."""
    if LIST_COPIES == "auto":
        wait_for(lambda: DECIDED_ON in open(stack.daemons[daemon].log_path,
                                            errors="replace").read(), 10, "auto decided")
    r = wait_for(lambda: (lambda r: r if r.status_code == 200 and
                          r.headers.get("X-List-Source") == COPY_SOURCE else None)(
        api("GET", path, root_token)), 10, f"{path} from {COPY_SOURCE}")
    assert r.json()["success"] is True


@pytest.mark.parametrize("value", ["maybe", "OFF", "1"])
def test_a_bad_copies_setting_stops_the_daemon_at_start(stack, value):
    import subprocess
    d = stack.daemons["booking"]
    env = dict(d.env, TRIPDESK_LIST_COPIES=value)
    p = subprocess.run(d.argv, env=env, capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert f'TRIPDESK_LIST_COPIES must be one of auto, on, off (got \\"{value}\\")' in out or \
        f'TRIPDESK_LIST_COPIES must be one of auto, on, off (got "{value}")' in out, out
