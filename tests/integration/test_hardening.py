"""Gateway hardening: request framing (smuggling), civetweb's own errors, long URIs,
tokens that must not reach a service, invalid UTF-8 in JSON bodies, health PIDs."""
import json
import socket

import pytest
import requests

from conftest import BASE, HTTP_PORT, api, make_token, unique_email, unique_phone

PIPELINED = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"


def raw(request, timeout=5.0):
    """Sends raw bytes; returns (everything received, whether the server closed)."""
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=timeout)
    try:
        s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return data, False
            if not chunk:
                return data, True
            data += chunk
    finally:
        s.close()


def split_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def post(headers, body=b'{"tag":"x"}'):
    token = make_token("admin")
    return (b"POST /api/bookings/bus/probe HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Type: application/json\r\n" + headers + b"\r\n" + body)


SMUGGLING = {
    "content-length and transfer-encoding":
        post(b"Content-Length: 11\r\nTransfer-Encoding: chunked\r\n"),
    "transfer-encoding then content-length":
        post(b"Transfer-Encoding: chunked\r\nContent-Length: 11\r\n",
             b"b\r\n{\"tag\":\"x\"}\r\n0\r\n\r\n"),
    "two different content-lengths": post(b"Content-Length: 11\r\nContent-Length: 5\r\n"),
    "two equal content-lengths": post(b"Content-Length: 11\r\nContent-Length: 11\r\n"),
    "signed content-length": post(b"Content-Length: +11\r\n"),
    "space before the colon": post(b"Transfer-Encoding : chunked\r\n",
                                   b"b\r\n{\"tag\":\"x\"}\r\n0\r\n\r\n"),
    "two transfer-encodings": post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                   b"b\r\n{\"tag\":\"x\"}\r\n0\r\n\r\n"),
    "transfer-encoding other than chunked": post(b"Transfer-Encoding: gzip, chunked\r\n",
                                                 b"b\r\n{\"tag\":\"x\"}\r\n0\r\n\r\n"),
}


@pytest.mark.parametrize("case", sorted(SMUGGLING))
def test_ambiguous_framing_is_400_json_and_closes_the_connection(stack, case):
    data, closed = raw(SMUGGLING[case] + PIPELINED)
    assert closed, f"{case}: connection left open: {data[:600]!r}"
    assert data.count(b"HTTP/1.1 ") == 1, f"{case}: the pipelined request was answered"
    status, headers, body = split_response(data)
    assert status == 400, (case, data[:300])
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    err = json.loads(body)
    assert err["success"] is False and err["error"]["code"] == "BAD_REQUEST"
    assert err["error"]["message"]


def test_sound_framing_still_keeps_the_connection(stack):
    """A plain Content-Length, a plain chunked body and non-ASCII bytes in a header
    value are fine, and the pipelined request after them is answered."""
    for req in [post(b"Content-Length: 11\r\n"),
                post(b"Transfer-Encoding: chunked\r\n", b"b\r\n{\"tag\":\"x\"}\r\n0\r\n\r\n"),
                post(b"Content-Length: 11\r\nX-Note: caf\xc3\xa9 a b\r\n")]:
        data, _ = raw(req + PIPELINED, timeout=2)
        assert data.count(b"HTTP/1.1 ") == 2, (req[-60:], data[-300:])
        assert split_response(data)[0] == 202, data[:400]


def test_tab_in_a_header_value_is_civetweb_s_json_400(stack):
    """civetweb 1.15 refuses any tab in the header block before we see the request
    (docs/notes/harden.md): the answer is at least our JSON 400 and the connection
    is closed, never a request read two ways."""
    data, closed = raw(post(b"Content-Length: 11\r\nX-Note: a\tb\r\n") + PIPELINED)
    assert closed and data.count(b"HTTP/1.1 ") == 1
    status, headers, body = split_response(data)
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "BAD_REQUEST"


def test_civetweb_own_errors_have_the_json_shape_and_security_headers(stack):
    # A request line civetweb cannot parse never reaches our handler.
    for req in [b"GET\r\n\r\n", b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n"]:
        data, closed = raw(req + PIPELINED)
        assert closed and data.count(b"HTTP/1.1 ") == 1, data[:300]
        status, headers, body = split_response(data)
        assert 400 <= status < 500, data[:300]
        assert headers["content-type"] == "application/json"
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-request-id"]
        err = json.loads(body)
        assert err["success"] is False and err["error"]["code"], err


def test_long_path_is_414_uri_too_long(stack, admin_token):
    r = api("GET", "/api/bookings/" + "a" * 3000, admin_token)
    assert r.status_code == 414, r.text
    assert r.json()["error"]["code"] == "URI_TOO_LONG"


def test_long_query_is_414_at_the_gateway_before_authentication(stack):
    r = requests.get(BASE + "/api/bookings?search=" + "a" * 9000, timeout=5)
    assert r.status_code == 414, r.text
    assert r.json()["error"]["code"] == "URI_TOO_LONG"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_token_whose_sub_is_not_an_object_id_is_401_at_the_gateway(stack):
    for sub in ["not-an-object-id", "a" * 23, "g" * 24, '{"$ne":null}']:
        r = api("GET", "/api/auth/me", make_token("admin", sub=sub))
        assert r.status_code == 401, (sub, r.text)
        err = r.json()["error"]
        assert err["code"] == "INVALID_TOKEN" and "claims" in err["message"], err
    assert api("GET", "/api/bookings/ping", make_token("admin")).status_code == 200


def test_reused_refresh_token_ends_the_family_s_access_tokens(root_token):
    from conftest import login, new_agent
    agent, _ = new_agent(root_token)
    first = login(agent["email"], agent["password"]).json()["data"]
    r = api("POST", "/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert r.status_code == 200, r.text
    second = r.json()["data"]
    assert api("GET", "/api/auth/me", second["accessToken"]).status_code == 200
    # An unrelated session of the same agent is not part of the family.
    other = login(agent["email"], agent["password"]).json()["data"]
    # The first refresh token again: reuse, the family is revoked.
    r = api("POST", "/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert r.status_code == 401
    for token in (first["accessToken"], second["accessToken"]):
        r = api("GET", "/api/auth/me", token)
        assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_REVOKED", r.text
    r = api("POST", "/api/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert r.status_code == 401
    assert api("GET", "/api/auth/me", other["accessToken"]).status_code == 200


def test_reuse_deep_in_a_family_ends_every_later_token(root_token):
    """The family is a chain of tokens read by _id: reusing its first token ends the
    access of each later one and the refresh of the newest."""
    from conftest import login, new_agent
    agent, _ = new_agent(root_token)
    sessions = [login(agent["email"], agent["password"]).json()["data"]]
    for _ in range(3):
        r = api("POST", "/api/auth/refresh", json={"refreshToken": sessions[-1]["refreshToken"]})
        assert r.status_code == 200, r.text
        sessions.append(r.json()["data"])
    other = login(agent["email"], agent["password"]).json()["data"]
    r = api("POST", "/api/auth/refresh", json={"refreshToken": sessions[1]["refreshToken"]})
    assert r.status_code == 401
    for s in sessions:
        r = api("GET", "/api/auth/me", s["accessToken"])
        assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_REVOKED", r.text
    r = api("POST", "/api/auth/refresh", json={"refreshToken": sessions[-1]["refreshToken"]})
    assert r.status_code == 401
    r = api("POST", "/api/auth/refresh", json={"refreshToken": other["refreshToken"]})
    assert r.status_code == 200, r.text


def test_a_family_stored_before_the_chain_is_still_revoked_whole(root_token):
    """Tokens written before tokens named their successor (a used token without
    `next`): reusing one still revokes the family's unused token."""
    import datetime
    import hashlib
    import secrets
    from bson import ObjectId
    from pymongo import MongoClient
    from conftest import MONGO_PORT, new_agent
    agent, _ = new_agent(root_token)
    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}", serverSelectionTimeoutMS=5000)
    try:
        coll = client["tripdesk_auth"]["refresh_tokens"]
        ver = client["tripdesk_auth"]["agents"].find_one(
            {"_id": ObjectId(agent["_id"])}).get("tokenVersion", 0)
        now = datetime.datetime.now(datetime.timezone.utc)

        def family(used_first):
            fam = str(ObjectId())
            tokens = [secrets.token_urlsafe(32) for _ in range(2)]
            for i, t in enumerate(tokens):
                coll.insert_one({
                    "_id": hashlib.sha256(t.encode()).hexdigest(),
                    "agentId": ObjectId(agent["_id"]), "familyId": fam, "tokenVersion": ver,
                    "used": used_first and i == 0, "revoked": False,
                    "accessJti": str(ObjectId()), "accessExpiresAt": now,
                    "expiresAt": now + datetime.timedelta(days=1), "createdAt": now})
            return tokens
        control = family(False)
        r = api("POST", "/api/auth/refresh", json={"refreshToken": control[1]})
        assert r.status_code == 200, r.text  # such documents are valid tokens
        old, live = family(True)
        r = api("POST", "/api/auth/refresh", json={"refreshToken": old})
        assert r.status_code == 401
        r = api("POST", "/api/auth/refresh", json={"refreshToken": live})
        assert r.status_code == 401, r.text
    finally:
        client.close()


def test_health_lists_pids_only_for_a_valid_token(stack):
    anonymous = requests.get(BASE + "/api/health", timeout=5).json()["data"]["services"]
    assert anonymous and all("pids" not in s for s in anonymous.values()), anonymous
    for bad in ["garbage", make_token("admin", exp_in=-10), make_token("admin", secret="x" * 40)]:
        r = requests.get(BASE + "/api/health", timeout=5, headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 200
        assert all("pids" not in s for s in r.json()["data"]["services"].values())
    r = requests.get(BASE + "/api/health", timeout=5,
                     headers={"Authorization": f"Bearer {make_token('junior_agent')}"})
    services = r.json()["data"]["services"]
    assert all(isinstance(s["pids"], list) and s["pids"] for s in services.values()), services


# ---- sign-in and registration limits ----

WRONG = "Wr0ng-Passw0rd!"


def reset_counters(*emails):
    from conftest import redis_cli
    redis_cli("DEL", "auth:fail:ip:127.0.0.1", "auth:register:ip:127.0.0.1",
              *[f"auth:fail:acct:{e}" for e in emails])


def parallel_logins(email, password, n):
    import threading
    from conftest import login
    barrier = threading.Barrier(n)
    codes = [None] * n

    def attempt(i):
        barrier.wait()
        r = login(email, password)
        codes[i] = (r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else None,
                    r.headers.get("Retry-After"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_parallel_wrong_passwords_check_at_most_five_and_then_lock(root_token):
    from conftest import login, new_agent
    agent, _ = new_agent(root_token)
    reset_counters(agent["email"])
    try:
        codes = parallel_logins(agent["email"], WRONG, 40)
        checked = [c for c in codes if c[:2] == (401, "INVALID_CREDENTIALS")]
        limited = [c for c in codes if c[:2] == (429, "TOO_MANY_ATTEMPTS")]
        assert len(checked) <= 5 and len(checked) + len(limited) == 40, codes
        assert len(checked) == 5, codes  # Redis is up: exactly the limit was checked
        assert all(int(c[2]) >= 1 for c in limited)
        # Locked: the right password is refused too, even from a fresh IP budget.
        reset_counters()
        r = login(agent["email"], agent["password"])
        assert r.status_code == 429 and r.json()["error"]["code"] == "TOO_MANY_ATTEMPTS", r.text
        assert int(r.headers["Retry-After"]) > 800
    finally:
        reset_counters(agent["email"])
    assert login(agent["email"], agent["password"]).status_code == 200


def test_a_success_gives_back_its_slots(root_token):
    """Attempts are counted before the check; a right password must not count as a
    failure (an office of agents behind one address signs in all day)."""
    from conftest import login, new_agent, redis_cli
    agent, _ = new_agent(root_token)
    reset_counters(agent["email"])
    try:
        for _ in range(4):
            assert login(agent["email"], WRONG).status_code == 401
        assert login(agent["email"], agent["password"]).status_code == 200
        assert redis_cli("GET", f"auth:fail:acct:{agent['email']}") == ""
        assert redis_cli("GET", "auth:fail:ip:127.0.0.1") == "4"
        for _ in range(25):
            assert login(agent["email"], agent["password"]).status_code == 200
    finally:
        reset_counters(agent["email"])


def register_body(**over):
    import uuid
    body = {"email": f"thr-{uuid.uuid4().hex[:10]}@example.com", "password": "Str0ng-Passw0rd!",
            "firstName": "Asha", "lastName": "Rao", "phone": "+91 98765 43210",
            "agencyName": "Rao Travels"}
    body.update(over)
    return body


def test_registration_is_throttled_per_ip_after_the_cheap_checks(stack):
    from conftest import REGISTER_IP_MAX, redis_cli
    key = "auth:register:ip:127.0.0.1"
    redis_cli("SET", key, str(REGISTER_IP_MAX - 2), "EX", "900")
    try:
        for _ in range(2):
            assert api("POST", "/api/auth/register", json=register_body()).status_code == 201
        r = api("POST", "/api/auth/register", json=register_body())
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
        assert 1 <= int(r.headers["Retry-After"]) <= 900
        # A request that fails the cheap checks is answered for what it is, and
        # takes no slot.
        r = api("POST", "/api/auth/register", json=register_body(email="not-an-email"))
        assert r.status_code == 400
        r = api("POST", "/api/auth/register", json=register_body(password="short"))
        assert r.status_code == 400
        assert int(redis_cli("GET", key)) == REGISTER_IP_MAX + 1
    finally:
        redis_cli("DEL", key)
    assert api("POST", "/api/auth/register", json=register_body()).status_code == 201


def test_taken_email_is_409_and_changes_nothing(stack):
    body = register_body()
    r = api("POST", "/api/auth/register", json=body)
    assert r.status_code == 201
    again = dict(body, email=body["email"].upper(), firstName="Other")
    r = api("POST", "/api/auth/register", json=again)
    assert r.status_code == 409 and r.json()["error"]["code"] == "EMAIL_TAKEN"
    assert r.json()["error"]["details"] == {"field": "email"}


# ---- UTF-8 in JSON bodies; long non-ASCII text ----

def raw_json(method, path, token, text):
    return api(method, path, token, data=text if isinstance(text, bytes) else text.encode(),
               headers={"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def booking_agent(root_session):
    from conftest import new_agent
    return new_agent(root_session["accessToken"])


INVALID_STRINGS = {
    "overlong": b"\xc0\xaf",
    "overlong 3-byte": b"\xe0\x80\xaf",
    "surrogate": b"\xed\xa0\x80",
    "above U+10FFFF": b"\xf4\x90\x80\x80",
    "truncated": b"\xe2\x82",
    "NUL escape": b"a\\u0000b",
    "lone escaped surrogate": b"\\ud800",
}


@pytest.mark.parametrize("case", sorted(INVALID_STRINGS))
def test_invalid_utf8_or_nul_in_any_json_string_is_400_and_stores_nothing(booking_agent, case):
    _, token = booking_agent
    tag = uuid_tag()
    body = (b'{"firstName":"Inv' + INVALID_STRINGS[case] + b'","lastName":"' + tag.encode() +
            b'","email":"x@example.com","phone":"+91 98200 11111"}')
    r = raw_json("POST", "/api/customers", token, body)
    assert r.status_code == 400, (case, r.text)
    assert r.json()["error"]["code"] == "MALFORMED_JSON"
    r = api("GET", f"/api/customers?search={tag}", token)
    assert r.status_code == 200 and r.json()["pagination"]["totalDocs"] == 0
    # A nested string is checked the same way (every service reads bodies alike).
    r = raw_json("POST", "/api/auth/login", None,
                 b'{"email":"a@b.co","password":"p' + INVALID_STRINGS[case] + b'"}')
    assert r.status_code == 400, (case, r.text)


def uuid_tag():
    import uuid
    return "t" + uuid.uuid4().hex[:10]


def test_escaped_surrogate_pair_is_one_character(booking_agent):
    _, token = booking_agent
    r = raw_json("POST", "/api/customers", token,
                 '{"firstName":"Ravi\\ud83d\\ude00","lastName":"Kumar","email":"%s",'
                 '"phone":"%s"}' % (unique_email("r"), unique_phone()))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["firstName"] == "Ravi\U0001F600"


def test_query_with_invalid_utf8_is_400(booking_agent):
    _, token = booking_agent
    r = api("GET", "/api/customers?search=%C0%AF", token)
    assert r.status_code == 400, r.text


DEVANAGARI = "\u0928\u092e\u0938\u094d\u0924\u0947"  # 6 characters, 18 bytes
EMOJI = "\U0001F30D"  # 1 character, 4 bytes


def test_long_non_ascii_customer_names_and_destinations_are_201_or_400_never_500(booking_agent):
    from test_bookings import booking_body
    _, token = booking_agent
    first = (DEVANAGARI * 10)[:60]
    last = EMOJI * 60
    r = api("POST", "/api/customers", token, json={
        "firstName": first, "lastName": last, "email": unique_email("long"),
        "phone": unique_phone(), "city": EMOJI * 80})
    assert r.status_code == 201, r.text
    cust = r.json()["data"]
    assert cust["firstName"] == first and cust["lastName"] == last
    r = api("POST", "/api/customers", token, json={
        "firstName": first + "x", "lastName": "A", "email": "long@example.com",
        "phone": "+91 98200 11111"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "firstName"

    dest = EMOJI * 120
    body = booking_body(cust["_id"], dest=dest)
    body["tripDetails"]["title"] = EMOJI * 200
    r = api("POST", "/api/bookings", token, json=body)
    assert r.status_code == 201, r.text
    booking = r.json()["data"]
    assert booking["tripDetails"]["destination"] == dest
    assert booking["customerName"] == f"{first} {last}"
    # The same destination overlaps (its key was not cut); another one does not.
    r = api("POST", "/api/bookings", token, json=booking_body(cust["_id"], dest=dest))
    assert r.status_code == 409, r.text
    r = api("POST", "/api/bookings", token, json=booking_body(cust["_id"], dest=EMOJI * 119 + "x"))
    assert r.status_code == 201, r.text
    r = api("GET", f"/api/bookings/{booking['_id']}", token)
    assert r.status_code == 200 and r.json()["data"]["tripDetails"]["destination"] == dest
    r = api("GET", "/api/bookings?limit=100", token)
    assert r.status_code == 200
    r = api("POST", "/api/bookings", token, json=booking_body(cust["_id"], dest=EMOJI * 121))
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "tripDetails.destination" \
        or r.json()["error"]["details"]["field"] == "destination", r.text


def test_long_non_ascii_registration_is_201(stack, root_token):
    body = register_body(firstName=EMOJI * 60, lastName=(DEVANAGARI * 10)[:60],
                         agencyName=EMOJI * 120)
    r = api("POST", "/api/auth/register", json=body)
    assert r.status_code == 201, r.text
    agent = r.json()["data"]
    assert agent["firstName"] == EMOJI * 60 and agent["agencyName"] == EMOJI * 120
    r = api("GET", f"/api/agents/{agent['_id']}", root_token)
    assert r.status_code == 200 and r.json()["data"]["agencyName"] == EMOJI * 120
