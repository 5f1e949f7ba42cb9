"""The list cache across a Redis crash: Redis restarted from a copy of its data taken
before a write (its append-only file, as a restore from a backup would bring back)
brings back the old generation together with the entry cached under it; that entry
must never be served (cache keys name the Redis run that stored them)."""
import os
import shutil

from conftest import api, new_agent, redis_cli, wait_for
from test_bookings import customer


def listing(token, query):
    r = api("GET", f"/api/customers?{query}", token)
    assert r.status_code == 200, r.text
    return r


def ids(r):
    return {c["_id"] for c in r.json()["data"]}


def test_entry_restored_by_a_redis_restart_is_not_served_after_a_write_it_missed(
        stack, root_token):
    _, token = new_agent(root_token)
    first = customer(token, firstName="Before")
    query = "limit=50"
    listing(token, query)
    cached = listing(token, query)
    assert cached.headers["X-Cache"] == "HIT" and ids(cached) == {first["_id"]}
    gen_at_save = redis_cli("GET", "customers:gen")
    # the data as it is now, on disk: rewrite the append-only file, then copy it
    assert redis_cli("BGREWRITEAOF").startswith("Background")
    wait_for(lambda: "aof_rewrite_in_progress:0" in redis_cli("INFO", "persistence")
             and "aof_rewrite_scheduled:0" in redis_cli("INFO", "persistence"), 10,
             "append-only file rewritten")
    aof = os.path.join(stack.var_dir, "redis", "appendonlydir")
    backup = aof + ".before"
    shutil.rmtree(backup, ignore_errors=True)
    shutil.copytree(aof, backup)
    try:
        second = customer(token, firstName="After")  # the generation moves on in Redis only
        assert redis_cli("GET", "customers:gen") != gen_at_save
        stack.kill("redis")  # crash, then the copy comes back: the write above is not in it
        shutil.rmtree(aof)
        shutil.copytree(backup, aof)
        stack.start("redis")
        wait_for(lambda: redis_cli("PING") == "PONG", 10, "redis restarted")
        # the copy came back: the old generation and the entry cached under it
        assert redis_cli("GET", "customers:gen") == gen_at_save
        # never the stale entry; cached again under the new run once the daemons use
        # Redis again (within their back-off, TD_REDIS_RETRY_MS: BYPASS meanwhile)
        seen = []

        def cached_again():
            r = listing(token, query)
            assert ids(r) == {first["_id"], second["_id"]}, r.headers.get("X-Cache")
            seen.append(r.headers["X-Cache"])
            return r.headers["X-Cache"] == "HIT"
        wait_for(cached_again, 5, "cached again under the new run")
        assert "MISS" in seen and set(seen) <= {"BYPASS", "MISS", "HIT"}, seen
    finally:
        shutil.rmtree(backup, ignore_errors=True)
        if not stack.daemons["redis"].alive():
            stack.start("redis")
