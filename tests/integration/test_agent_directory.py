"""GET /api/agents/directory: other agents' names for senior agents (canViewAllBookings,
canAssignLeads) and admins, without the rest of their records; search, ids, limit."""
import uuid

import pytest

from conftest import COPY_SOURCE, api, new_agent, wait_for

FIELDS = {"_id", "firstName", "lastName", "email", "role"}


def directory(token, query=""):
    return api("GET", f"/api/agents/directory{query}", token)


def named(root_token, last, role="agent"):
    agent, token = new_agent(root_token, role=role)
    r = api("PUT", f"/api/agents/{agent['_id']}", token, json={"lastName": last})
    assert r.status_code == 200, r.text
    return r.json()["data"], token


@pytest.fixture(scope="module")
def senior(root_session):
    return new_agent(root_session["accessToken"], role="senior_agent")


def test_a_senior_agent_finds_agents_by_name_with_their_public_fields_only(root_token, senior):
    _, token = senior
    tag = "Dir" + uuid.uuid4().hex[:8]
    a, _ = named(root_token, tag + "b")
    b, _ = named(root_token, tag + "a")
    assert api("GET", "/api/agents", token).status_code == 403  # the full list stays admin's
    # (after a Redis restart by an earlier test the copy reloads first: the database
    # answers meanwhile)
    wait_for(lambda: directory(token).headers.get("X-List-Source") == COPY_SOURCE, 10,
             "the directory's copy")
    r = directory(token, f"?search={tag.lower()}")
    assert r.status_code == 200, r.text
    assert r.headers["X-List-Source"] == COPY_SOURCE
    items = r.json()["data"]
    assert [x["_id"] for x in items] == [b["_id"], a["_id"]]  # by last name
    for x in items:
        assert set(x) == FIELDS
    assert items[1] == {"_id": a["_id"], "firstName": a["firstName"], "lastName": a["lastName"],
                        "email": a["email"], "role": "agent"}


def test_ids_name_the_agents_a_page_shows_even_deactivated_ones(root_token, senior):
    _, token = senior
    tag = "Ids" + uuid.uuid4().hex[:8]
    a, _ = named(root_token, tag + "a")
    b, _ = named(root_token, tag + "b")
    gone, _ = named(root_token, tag + "c")
    off, _ = named(root_token, tag + "d")
    assert api("DELETE", f"/api/agents/{gone['_id']}", root_token).status_code == 200
    assert api("PATCH", f"/api/agents/{off['_id']}/deactivate", root_token).status_code == 200
    ids = ",".join(x["_id"] for x in (a, b, gone, off))
    r = directory(token, f"?ids={ids.upper()}")
    assert r.status_code == 200, r.text
    assert [x["_id"] for x in r.json()["data"]] == [a["_id"], b["_id"], off["_id"]]
    # a search offers active agents only
    r = directory(token, f"?search={tag.lower()}")
    assert [x["_id"] for x in r.json()["data"]] == [a["_id"], b["_id"]]
    # both: the ids that match
    r = directory(token, f"?ids={ids}&search={tag.lower()}b")
    assert [x["_id"] for x in r.json()["data"]] == [b["_id"]]


def test_a_profile_change_is_in_the_directory_at_once(root_token, senior):
    _, token = senior
    tag = "Chg" + uuid.uuid4().hex[:8]
    a, own = named(root_token, tag)
    r = api("PUT", f"/api/agents/{a['_id']}", own, json={"firstName": "Renamed"})
    assert r.status_code == 200, r.text
    r = directory(token, f"?ids={a['_id']}")
    assert r.json()["data"][0]["firstName"] == "Renamed"
    r = api("PATCH", f"/api/agents/{a['_id']}/role", root_token, json={"role": "senior_agent"})
    assert r.status_code == 200, r.text
    assert directory(token, f"?ids={a['_id']}").json()["data"][0]["role"] == "senior_agent"


def test_limit_is_at_most_20(root_token, senior):
    _, token = senior
    r = directory(token, "?limit=2")
    assert r.status_code == 200 and len(r.json()["data"]) <= 2
    assert r.json()["pagination"]["limit"] == 2


@pytest.mark.parametrize("query,field", [
    ("?limit=21", "limit"), ("?limit=0", "limit"), ("?limit=x", "limit"),
    ("?ids=nope", "ids"), ("?ids=" + ",".join(["a" * 24] * 21), "ids"), ("?ids=", "ids"),
    ("?search=" + "x" * 101, "search"), ("?status=active", "status"),
    ("?search=a&search=b", "search"), ("?ids[$ne]=x", "ids[$ne]"),
])
def test_bad_parameters_are_400(senior, query, field):
    _, token = senior
    r = directory(token, query)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert r.json()["success"] is False and err["details"]["field"] == field


def test_who_may_read_it(root_token):
    _, agent = new_agent(root_token)
    r = directory(agent)
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    for role in ("senior_agent", "admin"):
        _, token = new_agent(root_token, role=role)
        assert directory(token).status_code == 200
    assert directory(None).status_code == 401


def test_the_seeded_super_admin_is_in_it(root_token, senior):
    _, token = senior
    r = directory(token, "?search=root@test.local")
    assert r.status_code == 200
    assert [x["role"] for x in r.json()["data"]] == ["super_admin"]
