"""The lossless event bus, end to end: probe events published by services reach the
analytics service exactly once, also when analytics was down while they were
published, and the bus probe routes reject bad input."""
import uuid

from conftest import api, make_token, unique_phone, wait_for


def probe(token, prefix, tag, count):
    r = api("POST", f"/api/{prefix}/bus/probe", token, json={"tag": tag, "count": count})
    assert r.status_code == 202, r.text
    assert r.json()["data"]["published"] == count


def received(token, tag):
    r = api("GET", f"/api/dashboard/bus/probes?tag={tag}", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_probe_events_reach_analytics_once(stack, admin_token):
    tag = "live-" + uuid.uuid4().hex[:8]
    probe(admin_token, "bookings", tag, 10)
    data = wait_for(lambda: (d := received(admin_token, tag))["received"] == 10 and d, 15,
                    "10 probes received")
    assert data["byPublisher"] == {"booking": 10}
    assert data["duplicateDeliveries"] == 0


def test_events_published_while_subscriber_is_down_are_handled_exactly_once(stack, admin_token):
    tag = "offline-" + uuid.uuid4().hex[:8]
    k_booking, k_payment = 60, 25
    stack.kill("analytics")  # a crash, not a clean stop
    try:
        probe(admin_token, "bookings", tag, k_booking)
        probe(admin_token, "payments", tag, k_payment)
    finally:
        stack.start("analytics")
    wait_for(lambda: api("GET", "/api/dashboard/ping", admin_token).status_code == 200, 15,
             "analytics back")
    data = wait_for(lambda: (d := received(admin_token, tag))["received"] == k_booking + k_payment
                    and d, 30, "all probes received after restart")
    assert data["byPublisher"] == {"booking": k_booking, "payment": k_payment}
    # Let a few catch-up rounds pass: nothing is delivered a second time.
    import time
    time.sleep(2.5)
    data = received(admin_token, tag)
    assert data["received"] == k_booking + k_payment
    assert data["duplicateDeliveries"] == 0


def test_events_survive_a_publisher_restart(stack, admin_token):
    tag = "pubrestart-" + uuid.uuid4().hex[:8]
    probe(admin_token, "notifications", tag, 5)
    stack.stop("notification")
    stack.start("notification")
    wait_for(lambda: api("GET", "/api/notifications/ping", admin_token).status_code == 200, 15,
             "notification back")
    probe(admin_token, "notifications", tag, 5)
    data = wait_for(lambda: (d := received(admin_token, tag))["received"] == 10 and d, 30,
                    "probes from both publisher lifetimes")
    assert data["duplicateDeliveries"] == 0


def test_probe_requires_admin(stack):
    r = api("POST", "/api/bookings/bus/probe", make_token("agent"), json={"tag": "x"})
    assert r.status_code == 403
    r = api("GET", "/api/dashboard/bus/probes?tag=x", make_token("senior_agent"))
    assert r.status_code == 403


def test_probe_rejects_bad_input(stack, admin_token):
    for body in [{}, {"tag": ""}, {"tag": 5}, {"tag": "a" * 65}, {"tag": "x", "count": 0},
                 {"tag": "x", "count": 1001}, {"tag": "x", "count": 1.5},
                 {"tag": "x", "count": "3"}, {"tag": "x", "extra": 1}]:
        r = api("POST", "/api/bookings/bus/probe", admin_token, json=body)
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = api("GET", "/api/dashboard/bus/probes", admin_token)
    assert r.status_code == 400
    r = api("GET", "/api/dashboard/bus/probes?tag=x&tag[$ne]=y", admin_token)
    assert r.status_code == 400


def test_events_dropped_by_pub_sub_are_recovered_through_gap_replay(stack, admin_token):
    """A stopped (not dead) subscriber: its socket buffers fill, pub/sub drops events,
    and on resuming it sees a gap and replays what it missed."""
    import signal
    tag = "gap-" + uuid.uuid4().hex[:8]
    analytics = stack.daemons["analytics"]
    analytics.signal(signal.SIGSTOP)
    try:
        for _ in range(4):
            probe(admin_token, "bookings", tag, 250)
    finally:
        analytics.signal(signal.SIGCONT)
    data = wait_for(lambda: (d := received(admin_token, tag))["received"] == 1000 and d, 60,
                    "all 1000 probes after the subscriber resumed")
    assert data["duplicateDeliveries"] == 0


def test_event_staged_in_a_document_by_a_crashed_write_is_relayed_once(stack, root_token):
    """Simulates a crash between a domain write and the move of its event to the
    outbox: a customer document carrying a staged event is written straight into the
    booking database; the sweeper must relay the event exactly once."""
    import datetime
    from bson import ObjectId
    from pymongo import MongoClient
    from conftest import MONGO_PORT
    cid, eid = ObjectId(), str(ObjectId())
    now = datetime.datetime.now(datetime.timezone.utc)
    payload = ('{"action":"CUSTOMER_CREATED","actor":null,"target":{"type":"customer","id":"%s"},'
               '"changes":{"before":null,"after":null},"metadata":{"ip":"127.0.0.1",'
               '"userAgent":"crash-test","requestId":"crash-%s"}}' % (cid, eid))
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        client["tripdesk_booking"]["customers"].insert_one({
            "_id": cid, "firstName": "Crash", "lastName": "Test", "phone": "+91 90000 00000",
            "agent": ObjectId(), "deleted": False, "createdAt": now, "updatedAt": now,
            "version": 1,
            "_events": [{"id": eid, "type": "CUSTOMER_CREATED", "time": int(now.timestamp() * 1000),
                         "payload": payload}]})
        r = wait_for(lambda: (x := api("GET", f"/api/audit-logs/{eid}", root_token)).status_code == 200
                     and x, 30, "the swept event in the audit log")
        assert r.json()["data"]["targetId"] == str(cid)
        doc = wait_for(lambda: (d := client["tripdesk_booking"]["customers"].find_one({"_id": cid}))
                       and d.get("_events") == [] and d, 15, "staged event pulled")
        assert doc["firstName"] == "Crash"
        r = api("GET", f"/api/audit-logs?targetId={cid}", root_token)
        assert r.json()["pagination"]["totalDocs"] == 1
    finally:
        client.close()


def test_a_prepared_insert_event_is_sent_only_if_its_document_exists(stack, root_token):
    """The booking daemon (the relay) writes an insert's event before its document and
    sends it once the insert is confirmed. After a crash in between, the unconfirmed
    event is sent when its document exists (after the grace period) and dropped when
    it does not; a young unconfirmed one waits."""
    import datetime
    import time
    from bson import ObjectId
    from pymongo import MongoClient
    from conftest import MONGO_PORT
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    db = client["tripdesk_booking"]
    try:
        # the normal way: no event left in the document, one audit entry
        r = api("POST", "/api/customers", root_token,
                json={"firstName": "Prepared", "lastName": "Event", "phone": unique_phone()})
        assert r.status_code == 201, r.text
        made = r.json()["data"]["_id"]
        assert "_events" not in db["customers"].find_one({"_id": ObjectId(made)})
        wait_for(lambda: api("GET", f"/api/audit-logs?targetId={made}", root_token)
                 .json()["pagination"]["totalDocs"] == 1, 15, "the creation in the audit log")
        # crashed between the event and its document (or after both): unconfirmed
        old = int(time.time() * 1000) - 60000
        ids = {k: str(ObjectId()) for k in ("kept", "dropped", "young")}
        targets = {"kept": ObjectId(made), "dropped": ObjectId(), "young": ObjectId(made)}

        def pending(kind, created):
            payload = ('{"action":"CUSTOMER_CREATED","actor":null,"target":{"type":"customer",'
                       '"id":"%s"},"changes":{"before":null,"after":null},"metadata":{"ip":'
                       '"127.0.0.1","userAgent":"prepared-test","requestId":"p-%s"}}'
                       % (targets[kind], ids[kind]))
            return {"_id": ids[kind], "type": "CUSTOMER_CREATED", "time": created,
                    "payload": payload, "createdAt": created,
                    "doc": {"coll": "customers", "id": targets[kind]}}
        db["outbox_pending"].insert_many([pending("kept", old), pending("dropped", old),
                                          pending("young", int(time.time() * 1000))])
        r = wait_for(lambda: (x := api("GET", f"/api/audit-logs/{ids['kept']}", root_token))
                     .status_code == 200 and x, 20, "the unconfirmed event of an existing document")
        assert r.json()["data"]["targetId"] == made
        wait_for(lambda: db["outbox_pending"].find_one({"_id": ids["dropped"]}) is None, 20,
                 "the event of a document never written dropped")
        assert db["outbox"].find_one({"eventId": ids["dropped"]}) is None
        assert api("GET", f"/api/audit-logs/{ids['dropped']}", root_token).status_code == 404
        # the young one still waits for its confirmation
        assert db["outbox_pending"].find_one({"_id": ids["young"]}) is not None
        assert db["outbox"].find_one({"eventId": ids["young"]}) is None
    finally:
        db["outbox_pending"].delete_many({"payload": {"$regex": "prepared-test"}})
        client.close()
