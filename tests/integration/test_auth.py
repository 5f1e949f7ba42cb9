"""The auth service through the gateway: registration, sign-in, sessions, brute-force
protection, agent administration and revocation at the gateway."""
import time
import uuid

import pytest

from conftest import (ADMIN_EMAIL, api, login, make_token, new_agent, redis_cli, wait_for)

GOOD = {"password": "Str0ng-Passw0rd!", "firstName": "Asha", "lastName": "Rao",
        "phone": "+91 98765 43210", "agencyName": "Rao Travels"}


@pytest.fixture(autouse=True)
def fresh_ip_counter(stack):
    redis_cli("DEL", "auth:fail:ip:127.0.0.1")
    yield


def register(**over):
    body = dict(GOOD, email=f"reg-{uuid.uuid4().hex[:10]}@example.com")
    body.update(over)
    body = {k: v for k, v in body.items() if v is not None}
    return api("POST", "/api/auth/register", json=body), body


def count_agents(root_token, search):
    r = api("GET", f"/api/agents?search={search}", root_token)
    assert r.status_code == 200, r.text
    return r.json()["pagination"]["totalDocs"]


def test_bootstrapped_super_admin_signs_in_with_every_permission(root_token):
    r = api("GET", "/api/auth/me", root_token)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["agent"]["email"] == ADMIN_EMAIL
    assert data["agent"]["role"] == "super_admin"
    assert "passwordHash" not in data["agent"]
    assert all(data["permissions"].values()) and len(data["permissions"]) == 22


def test_register_creates_a_pending_agent(root_token):
    r, body = register()
    assert r.status_code == 201, r.text
    agent = r.json()["data"]
    assert agent["status"] == "pending" and agent["role"] == "agent"
    assert agent["email"] == body["email"]
    for f in ("_id", "createdAt", "updatedAt", "version"):
        assert f in agent
    assert "passwordHash" not in agent and "searchText" not in agent
    r = login(body["email"], body["password"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "ACCOUNT_PENDING"


def test_duplicate_email_is_409_whatever_the_case(root_token):
    r, body = register()
    assert r.status_code == 201
    r, _ = register(email=body["email"].upper())
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "EMAIL_TAKEN"
    assert count_agents(root_token, body["email"].split("@")[0]) == 1


@pytest.mark.parametrize("over,field", [
    ({"email": None}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": 42}, "email"),
    ({"password": None}, "password"),
    ({"password": "Short1!"}, "password"),
    ({"password": "alllowercase-1!"}, "password"),
    ({"password": "NoDigits-Here!"}, "password"),
    ({"password": "NoSymbols12345"}, "password"),
    ({"firstName": ""}, "firstName"),
    ({"firstName": " padded"}, "firstName"),
    ({"lastName": "x" * 61}, "lastName"),
    ({"phone": "call me"}, "phone"),
    ({"agencyName": None}, "agencyName"),
    ({"role": "super_admin"}, "role"),
    ({"status": "active"}, "status"),
])
def test_register_rejects_bad_input_and_creates_nothing(root_token, over, field):
    marker = uuid.uuid4().hex[:10]
    over = dict(over)
    if "email" not in over:
        over["email"] = f"bad-{marker}@example.com"
    r, _ = register(**over)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"]["field"] == field
    assert count_agents(root_token, marker) == 0


def test_register_rejects_wrong_content_type_and_malformed_json(stack):
    r = api("POST", "/api/auth/register", data="email=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = api("POST", "/api/auth/register", data="{bad", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_login_returns_tokens_and_agent(root_token):
    agent, _ = new_agent(root_token)
    r = login(agent["email"], agent["password"])
    assert r.status_code == 200
    d = r.json()["data"]
    assert d["tokenType"] == "Bearer" and d["expiresIn"] > 0
    assert d["accessToken"].count(".") == 2 and len(d["refreshToken"]) >= 40
    assert d["agent"]["_id"] == agent["_id"] and d["agent"]["lastLoginAt"]


def test_wrong_password_and_unknown_email_are_the_same_401(root_token):
    agent, _ = new_agent(root_token)
    r1 = login(agent["email"], "Wrong-Passw0rd!")
    r2 = login("nobody-" + uuid.uuid4().hex[:6] + "@example.com", "Wrong-Passw0rd!")
    for r in (r1, r2):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_repeated_failures_get_429_with_retry_after_and_success_resets(root_token):
    agent, _ = new_agent(root_token)
    for _ in range(4):
        assert login(agent["email"], "Wrong-Passw0rd!").status_code == 401
    assert login(agent["email"], agent["password"]).status_code == 200  # resets
    for _ in range(5):
        assert login(agent["email"], "Wrong-Passw0rd!").status_code == 401
    r = login(agent["email"], agent["password"])
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"


def test_failures_per_client_ip_are_limited_too(root_token):
    agent, _ = new_agent(root_token)
    for i in range(20):
        login(f"ip-{i}-{uuid.uuid4().hex[:6]}@example.com", "Wrong-Passw0rd!")
    r = login(agent["email"], agent["password"])
    assert r.status_code == 429
    redis_cli("DEL", "auth:fail:ip:127.0.0.1")
    assert login(agent["email"], agent["password"]).status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(root_token):
    agent, _ = new_agent(root_token)
    first = login(agent["email"], agent["password"]).json()["data"]
    r = api("POST", "/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert r.status_code == 200
    second = r.json()["data"]
    assert second["refreshToken"] != first["refreshToken"]
    assert api("GET", "/api/auth/me", second["accessToken"]).status_code == 200
    # The rotated token presented again: refused, and its whole family with it.
    r = api("POST", "/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert r.status_code == 401
    r = api("POST", "/api/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert r.status_code == 401


def test_refresh_rejects_garbage(stack):
    for body in [{}, {"refreshToken": ""}, {"refreshToken": 5}, {"refreshToken": "x" * 200},
                 {"refreshToken": "abc", "extra": 1}]:
        r = api("POST", "/api/auth/refresh", json=body)
        assert r.status_code == 400, body
    r = api("POST", "/api/auth/refresh", json={"refreshToken": "not-a-real-token"})
    assert r.status_code == 401


def test_logout_stops_the_access_token_at_once_and_revokes_the_refresh_token(root_token):
    agent, _ = new_agent(root_token)
    s = login(agent["email"], agent["password"]).json()["data"]
    r = api("POST", "/api/auth/logout", s["accessToken"], json={"refreshToken": s["refreshToken"]})
    assert r.status_code == 200
    r = api("GET", "/api/auth/me", s["accessToken"])
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "TOKEN_REVOKED"
    r = api("POST", "/api/auth/refresh", json={"refreshToken": s["refreshToken"]})
    assert r.status_code == 401


def test_logout_needs_a_token(stack):
    assert api("POST", "/api/auth/logout").status_code == 401


def test_password_change_revokes_old_tokens_and_returns_new_ones(root_token):
    agent, token = new_agent(root_token)
    s = login(agent["email"], agent["password"]).json()["data"]
    r = api("PUT", "/api/auth/password", token,
            json={"currentPassword": "Wrong-Passw0rd!", "newPassword": "Next-Passw0rd!"})
    assert r.status_code == 400
    assert r.json()["error"]["details"]["field"] == "currentPassword"
    r = api("PUT", "/api/auth/password", token,
            json={"currentPassword": agent["password"], "newPassword": "weak"})
    assert r.status_code == 400
    assert r.json()["error"]["details"]["field"] == "newPassword"
    assert api("GET", "/api/auth/me", token).status_code == 200  # nothing changed yet
    r = api("PUT", "/api/auth/password", token,
            json={"currentPassword": agent["password"], "newPassword": "Next-Passw0rd!"})
    assert r.status_code == 200, r.text
    fresh = r.json()["data"]
    assert api("GET", "/api/auth/me", token).status_code == 401
    assert api("GET", "/api/auth/me", s["accessToken"]).status_code == 401
    assert api("POST", "/api/auth/refresh",
               json={"refreshToken": s["refreshToken"]}).status_code == 401
    assert api("GET", "/api/auth/me", fresh["accessToken"]).status_code == 200
    assert login(agent["email"], agent["password"]).status_code == 401
    assert login(agent["email"], "Next-Passw0rd!").status_code == 200


def test_deactivation_stops_tokens_and_sign_in(root_token):
    agent, token = new_agent(root_token)
    r = api("PATCH", f"/api/agents/{agent['_id']}/deactivate", root_token)
    assert r.status_code == 200 and r.json()["data"]["status"] == "deactivated"
    assert api("GET", "/api/auth/me", token).status_code == 401
    r = login(agent["email"], agent["password"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_DEACTIVATED"
    r = api("PATCH", f"/api/agents/{agent['_id']}/deactivate", root_token)
    assert r.status_code == 422
    r = api("PATCH", f"/api/agents/{agent['_id']}/approve", root_token)
    assert r.status_code == 200
    assert login(agent["email"], agent["password"]).status_code == 200


def test_role_change_revokes_tokens_and_follows_the_rules(root_token):
    agent, token = new_agent(root_token)
    admin, admin_token = new_agent(root_token, role="admin")
    r = api("PATCH", f"/api/agents/{agent['_id']}/role", root_token, json={"role": "senior_agent"})
    assert r.status_code == 200 and r.json()["data"]["role"] == "senior_agent"
    assert api("GET", "/api/auth/me", token).status_code == 401
    # An admin cannot grant super_admin, nor admin without canCreateAdmin.
    for role in ("super_admin", "admin"):
        r = api("PATCH", f"/api/agents/{agent['_id']}/role", admin_token, json={"role": role})
        assert r.status_code == 403, role
    # Nobody changes their own role.
    r = api("PATCH", f"/api/agents/{admin['_id']}/role", admin_token, json={"role": "agent"})
    assert r.status_code == 403
    # An agent cannot change roles at all; bad input is 400.
    _, plain = new_agent(root_token)
    r = api("PATCH", f"/api/agents/{agent['_id']}/role", plain, json={"role": "agent"})
    assert r.status_code == 403
    for body in [{}, {"role": "emperor"}, {"role": 1}, {"role": "agent", "x": 1}]:
        r = api("PATCH", f"/api/agents/{agent['_id']}/role", root_token, json=body)
        assert r.status_code == 400, body
    r = api("GET", f"/api/agents/{agent['_id']}", root_token)
    assert r.json()["data"]["role"] == "senior_agent"


def test_agent_reads_own_profile_only_and_edits_it(root_token):
    agent, token = new_agent(root_token)
    other, _ = new_agent(root_token)
    assert api("GET", f"/api/agents/{agent['_id']}", token).status_code == 200
    assert api("GET", f"/api/agents/{other['_id']}", token).status_code == 403
    assert api("GET", "/api/agents", token).status_code == 403
    r = api("PUT", f"/api/agents/{agent['_id']}", token, json={"firstName": "Renamed"})
    assert r.status_code == 200 and r.json()["data"]["firstName"] == "Renamed"
    version = r.json()["data"]["version"]
    r = api("PUT", f"/api/agents/{agent['_id']}", token,
            json={"lastName": "Stale", "version": version - 1})
    assert r.status_code == 409
    r = api("PUT", f"/api/agents/{other['_id']}", token, json={"firstName": "Hacked"})
    assert r.status_code == 403
    for body in [{"email": "x@y.z"}, {"role": "admin"}, {"firstName": ""}, {}, {"phone": "abc"}]:
        r = api("PUT", f"/api/agents/{agent['_id']}", token, json=body)
        assert r.status_code == 400, body
    r = api("GET", f"/api/agents/{other['_id']}", root_token)
    assert r.json()["data"]["firstName"] == "Test"


def test_agent_ids_are_validated(root_token):
    assert api("GET", "/api/agents/not-an-id", root_token).status_code == 400
    assert api("GET", "/api/agents/" + "0" * 24, root_token).status_code == 404
    assert api("PATCH", "/api/agents/xyz/approve", root_token).status_code == 400


def test_agents_list_paginates_filters_and_rejects_bad_parameters(root_token):
    tag = uuid.uuid4().hex[:8]
    for i in range(3):
        r = api("POST", "/api/auth/register", json=dict(
            GOOD, email=f"list-{tag}-{i}@example.com"))
        assert r.status_code == 201
    r = api("GET", f"/api/agents?search=list-{tag}&limit=2&status=pending&sortBy=email&sortOrder=asc",
            root_token)
    assert r.status_code == 200
    body = r.json()
    assert body["pagination"] == {"page": 1, "limit": 2, "totalDocs": 3, "totalPages": 2,
                                  "hasNext": True, "hasPrev": False}
    assert [a["email"] for a in body["data"]] == [f"list-{tag}-0@example.com",
                                                  f"list-{tag}-1@example.com"]
    for q in ["limit=101", "limit=0", "page=0", "status=weird", "status[$ne]=x", "sortBy=passwordHash",
              "role=god", "createdFrom=2026-13-01", "foo=bar", "limit=5&limit=6", "search=" + "a" * 101]:
        r = api("GET", f"/api/agents?{q}", root_token)
        assert r.status_code == 400, q


def test_delete_agent_is_soft_and_revokes(root_token):
    agent, token = new_agent(root_token)
    r = api("DELETE", f"/api/agents/{agent['_id']}", root_token)
    assert r.status_code == 200
    assert api("GET", f"/api/agents/{agent['_id']}", root_token).status_code == 404
    assert api("GET", "/api/auth/me", token).status_code == 401
    assert login(agent["email"], agent["password"]).status_code == 401
    r = api("GET", "/api/auth/me", root_token)
    me = r.json()["data"]["agent"]
    r = api("DELETE", f"/api/agents/{me['_id']}", root_token)
    assert r.status_code == 403


def test_minted_token_with_unknown_role_is_401(stack):
    r = api("GET", "/api/auth/ping", make_token("emperor"))
    assert r.status_code == 401
