"""Gateway behaviour: routing, JWT checks, limits, headers, static files."""
import base64
import json

import requests

from conftest import BASE, MAX_BODY, api, make_token


def error_code(r):
    body = r.json()
    assert body["success"] is False
    assert body["error"]["message"]
    return body["error"]["code"]


def test_trivial_route_answers_through_gateway_with_token(stack, admin_token):
    r = api("GET", "/api/bookings/ping", admin_token)
    assert r.status_code == 200
    assert r.json() == {"success": True,
                        "data": {"service": "booking", "status": "ok", "version": "0.1.0"}}


def test_every_service_answers_its_ping(stack, admin_token):
    for prefix, name in [("auth", "auth"), ("bookings", "booking"), ("payments", "payment"),
                         ("notifications", "notification"), ("dashboard", "analytics")]:
        r = api("GET", f"/api/{prefix}/ping", admin_token)
        assert r.status_code == 200, prefix
        assert r.json()["data"]["service"] == name


def test_missing_token_is_401_json(stack):
    r = api("GET", "/api/bookings/ping")
    assert r.status_code == 401
    assert error_code(r) == "UNAUTHORIZED"


def test_non_bearer_authorization_is_401(stack):
    r = api("GET", "/api/bookings/ping", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert r.status_code == 401


def test_tampered_token_is_401(stack, admin_token):
    head, payload, sig = admin_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "super_admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = api("GET", "/api/bookings/ping", f"{head}.{forged}.{sig}")
    assert r.status_code == 401
    assert error_code(r) == "INVALID_TOKEN"


def test_expired_token_is_401_token_expired(stack):
    r = api("GET", "/api/bookings/ping", make_token(exp_in=-10))
    assert r.status_code == 401
    assert error_code(r) == "TOKEN_EXPIRED"


def test_wrong_issuer_is_401(stack):
    r = api("GET", "/api/bookings/ping", make_token(iss="someone-else"))
    assert r.status_code == 401
    assert error_code(r) == "INVALID_TOKEN"


def test_wrong_secret_is_401(stack):
    r = api("GET", "/api/bookings/ping", make_token(secret="another-secret-" + "y" * 30))
    assert r.status_code == 401


def test_alg_none_token_is_401(stack):
    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    token = b64({"alg": "none", "typ": "JWT"}) + "." + b64(
        {"sub": "a" * 24, "role": "super_admin", "iss": "tripdesk", "exp": 4102444800}) + "."
    r = api("GET", "/api/bookings/ping", token)
    assert r.status_code == 401


def test_other_hmac_algorithm_is_401(stack):
    r = api("GET", "/api/bookings/ping", make_token(alg="HS512"))
    assert r.status_code == 401


def test_token_without_role_is_401(stack):
    import time, jwt as pyjwt
    from conftest import JWT_SECRET
    token = pyjwt.encode({"sub": "a" * 24, "iss": "tripdesk", "exp": int(time.time()) + 60},
                         JWT_SECRET, algorithm="HS256")
    r = api("GET", "/api/bookings/ping", token)
    assert r.status_code == 401


def test_garbage_token_is_401(stack):
    for token in ["x", "a.b.c", "....", "é" * 10]:
        r = requests.get(BASE + "/api/bookings/ping",
                         headers={"Authorization": ("Bearer " + token).encode()}, timeout=5)
        assert r.status_code == 401, token


def test_unknown_api_route_is_404_json(stack, admin_token):
    r = api("GET", "/api/nope", admin_token)
    assert r.status_code == 404
    assert error_code(r) == "NOT_FOUND"
    r = api("GET", "/api", admin_token)
    assert r.status_code == 404


def test_unknown_route_inside_a_service_is_404(stack, admin_token):
    r = api("GET", "/api/bookings/ping/extra/segments", admin_token)
    assert r.status_code == 404
    assert error_code(r) == "NOT_FOUND"


def test_wrong_method_is_405(stack, admin_token):
    r = api("POST", "/api/bookings/ping", admin_token)
    assert r.status_code == 405
    assert error_code(r) == "METHOD_NOT_ALLOWED"


def test_oversize_body_is_413(stack, admin_token):
    body = '{"tag":"' + "a" * (MAX_BODY + 10) + '"}'
    r = api("POST", "/api/bookings/bus/probe", admin_token, data=body,
            headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert error_code(r) == "PAYLOAD_TOO_LARGE"


def test_oversize_chunked_body_is_413(stack, admin_token):
    def chunks():
        for _ in range(MAX_BODY // 1024 + 4):
            yield b"a" * 1024
    r = api("POST", "/api/bookings/bus/probe", admin_token, data=chunks(),
            headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_wrong_content_type_is_415(stack, admin_token):
    r = api("POST", "/api/bookings/bus/probe", admin_token, data="tag=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert error_code(r) == "UNSUPPORTED_MEDIA_TYPE"


def test_malformed_json_is_400(stack, admin_token):
    for body in ['{"tag": ', '{"tag":"a"} trailing', "[1,2]", '"str"']:
        r = api("POST", "/api/bookings/bus/probe", admin_token, data=body,
                headers={"Content-Type": "application/json"})
        assert r.status_code == 400, body
        assert error_code(r) in ("MALFORMED_JSON", "VALIDATION_ERROR")


def test_request_id_is_generated_or_kept(stack, admin_token):
    r = api("GET", "/api/bookings/ping", admin_token)
    assert len(r.headers["X-Request-Id"]) >= 16
    r = api("GET", "/api/bookings/ping", admin_token, headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    r = api("GET", "/api/bookings/ping", admin_token, headers={"X-Request-Id": "bad id <x>"})
    assert r.headers["X-Request-Id"] != "bad id <x>"


def test_security_headers_on_every_response(stack, admin_token):
    for r in [api("GET", "/api/bookings/ping", admin_token), api("GET", "/api/nope"),
              requests.get(BASE + "/", timeout=5)]:
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_cors_allows_configured_origin_only(stack, admin_token):
    r = api("GET", "/api/bookings/ping", admin_token, headers={"Origin": "http://localhost:5173"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    r = api("GET", "/api/bookings/ping", admin_token, headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.options(BASE + "/api/bookings", timeout=5,
                         headers={"Origin": "http://localhost:5173",
                                  "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]


def test_static_index_and_spa_fallback(stack):
    r = requests.get(BASE + "/", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "TripDesk" in r.text
    deep = requests.get(BASE + "/bookings/123/edit", timeout=5)
    assert deep.status_code == 200
    assert deep.text == r.text
    assert requests.post(BASE + "/", timeout=5).status_code == 405


def test_api_paths_never_fall_back_to_the_ui(stack):
    r = requests.get(BASE + "/api/does/not/exist", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"


def test_path_traversal_is_refused(stack):
    r = requests.get(BASE + "/../../etc/passwd", timeout=5)
    assert "root:" not in r.text
    r = requests.get(BASE + "/%2e%2e/%2e%2e/etc/passwd", timeout=5)
    assert "root:" not in r.text
