"""The permission matrix through the gateway: reading, changing with history and
immediate effect, the super_admin lock, and every role walked against every
admin-only route."""
import pytest

from conftest import api, new_agent, wait_for

ROLES = ["super_admin", "admin", "senior_agent", "agent", "junior_agent"]


def matrix(token):
    r = api("GET", "/api/permissions", token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_matrix_lists_every_role_and_permission(root_token):
    m = matrix(root_token)
    assert set(m["roles"]) == set(ROLES)
    assert len(m["permissions"]) == 22
    assert all(len(m["roles"][r]) == 22 for r in ROLES)
    assert "canManageSettings" in m["locked"]
    r = api("GET", "/api/permissions/agent", root_token)
    assert r.status_code == 200 and r.json()["data"]["role"] == "agent"
    assert api("GET", "/api/permissions/emperor", root_token).status_code == 404


def test_change_takes_effect_on_the_next_request_and_is_versioned(root_token):
    admin, admin_token = new_agent(root_token, role="admin")
    before = matrix(root_token)
    assert api("GET", "/api/agents", admin_token).status_code == 200
    r = api("PUT", "/api/permissions/admin", root_token,
            json={"permissions": {"canViewAllAgents": False}})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["version"] == before["version"] + 1
    try:
        assert api("GET", "/api/agents", admin_token).status_code == 403
        h = api("GET", "/api/permissions/history?role=admin&limit=1", root_token).json()
        entry = h["data"][0]
        assert entry["version"] == before["version"] + 1
        assert entry["before"]["canViewAllAgents"] is True
        assert entry["after"]["canViewAllAgents"] is False
        assert entry["changedBy"]["role"] == "super_admin"
    finally:
        r = api("PUT", "/api/permissions/admin", root_token,
                json={"permissions": {"canViewAllAgents": True}})
        assert r.status_code == 200
    assert api("GET", "/api/agents", admin_token).status_code == 200


def test_super_admin_cannot_lose_critical_permissions(root_token):
    before = matrix(root_token)
    for p in ["canManageSettings", "canChangeAnyRole", "canApproveAgents"]:
        r = api("PUT", "/api/permissions/super_admin", root_token, json={"permissions": {p: False}})
        assert r.status_code == 422, p
        assert r.json()["error"]["code"] == "PERMISSION_LOCKED"
    assert matrix(root_token)["version"] == before["version"]


def test_bad_permission_updates_are_400_and_change_nothing(root_token):
    before = matrix(root_token)
    for body in [{}, {"permissions": {}}, {"permissions": {"canFly": True}},
                 {"permissions": {"canUploadFiles": "yes"}}, {"permissions": []},
                 {"permissions": {"canUploadFiles": True}, "extra": 1}]:
        r = api("PUT", "/api/permissions/agent", root_token, json=body)
        assert r.status_code == 400, body
    r = api("PUT", "/api/permissions/agent", root_token,
            json={"permissions": {"canUploadFiles": False}, "version": before["version"] - 1})
    assert r.status_code == 409
    assert matrix(root_token) == before


def test_only_super_admin_changes_and_resets(root_token):
    _, admin_token = new_agent(root_token, role="admin")
    r = api("PUT", "/api/permissions/agent", admin_token,
            json={"permissions": {"canUploadFiles": False}})
    assert r.status_code == 403
    assert api("POST", "/api/permissions/reset", admin_token).status_code == 403
    r = api("PUT", "/api/permissions/junior_agent", root_token,
            json={"permissions": {"canUploadFiles": True}})
    assert r.status_code == 200
    r = api("POST", "/api/permissions/reset", root_token)
    assert r.status_code == 200
    assert r.json()["data"]["roles"]["junior_agent"]["canUploadFiles"] is False


@pytest.fixture(scope="module")
def role_tokens(root_session):
    root = root_session["accessToken"]
    tokens = {"super_admin": root}
    for role in ROLES[1:]:
        _, tokens[role] = new_agent(root, role=role)
    return tokens


def test_every_role_against_every_admin_only_route(root_token, role_tokens):
    m = matrix(root_token)
    rank = {r: i for i, r in enumerate(reversed(ROLES))}
    for role, token in role_tokens.items():
        perms = m["roles"][role]
        admin_plus = rank[role] >= rank["admin"]
        junior, _ = new_agent(root_token, role="junior_agent")
        pending, _ = new_agent(root_token, approve=False)
        checks = [
            ("GET", "/api/agents", None, perms["canViewAllAgents"]),
            ("GET", f"/api/agents/{junior['_id']}", None, perms["canViewAllAgents"]),
            ("PATCH", f"/api/agents/{pending['_id']}/approve", None,
             perms["canApproveAgents"] and rank[role] > rank["agent"]),
            ("PATCH", f"/api/agents/{junior['_id']}/role", {"role": "agent"},
             perms["canChangeAnyRole"] and rank[role] > rank["junior_agent"]),
            ("PATCH", f"/api/agents/{junior['_id']}/deactivate", None,
             perms["canApproveAgents"] and rank[role] > rank["junior_agent"]),
            ("DELETE", f"/api/agents/{junior['_id']}", None,
             perms["canDeleteAgents"] and rank[role] > rank["junior_agent"]),
            ("GET", "/api/permissions", None, admin_plus),
            ("GET", "/api/permissions/agent", None, admin_plus),
            ("GET", "/api/permissions/history", None, admin_plus),
            ("PUT", "/api/permissions/junior_agent",
             {"permissions": {"canUploadFiles": False}}, role == "super_admin"),
        ]
        for method, path, body, allowed in checks:
            r = api(method, path, token, json=body) if body is not None else api(method, path, token)
            expected = 200 if allowed else 403
            assert r.status_code == expected, f"{role} {method} {path}: {r.status_code} {r.text}"
