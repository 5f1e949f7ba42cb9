/*
 * Access and refresh tokens. Access tokens are short-lived JWTs; refresh tokens are
 * opaque random strings stored as SHA-256 hashes, rotated on every use, grouped in
 * families: presenting a used token again revokes its whole family.
 * Revocations are written to MongoDB and to Redis, where the gateway checks them;
 * a periodic resync re-writes recent ones in case Redis lost them.
 *
 * A family is a chain read by _id only (on FerretDB any other filter decodes the
 * whole collection, and a filtered update holds the collection's write lock while it
 * does): a rotation writes the successor first (naming its predecessor, `prev`),
 * then marks the old token used naming the successor (`next`) in one findAndModify;
 * a rotation that loses that race revokes its successor, which nobody else knows.
 * Revoking a family walks the chain from the presented token: back while access
 * tokens issued with the tokens may still be valid, forward to the one unused token.
 * An agent's tokens (password or role change, deactivation) end by its
 * tokenVersion, which every refresh compares.
 */
#include "auth.h"

#include "tripdesk/common.h"
#include "tripdesk/log.h"
#include "tripdesk/redis.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_RANDOM_BYTES 32
#define FAMILY_WALK_MAX 4096 /* tokens one revocation follows (a rotation every 15 min: 6 weeks) */

/* Hex SHA-256 of a refresh token: its storage key. */
static void refresh_key(const char *token, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof h);
}

void tokens_new_refresh(token_pair *out, char key[65])
{
    unsigned char rnd[REFRESH_RANDOM_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(out->refresh, sizeof out->refresh, rnd, sizeof rnd,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    refresh_key(out->refresh, key);
}

int tokens_issue(mongoc_client_t *c, const bson_t *agent, const char *family, const char *prev,
                 const td_req *req, token_pair *out)
{
    out->access = NULL;
    char id[25], fam[25], jti[25];
    td_bson_oid_hex(agent, "_id", id);
    td_new_id(jti);
    int64_t now = td_now_ms() / 1000;
    td_claims cl = {0};
    const char *role = td_bson_str(agent, "role");
    /* the ids fit (24 hex digits); a role that does not is not one of ours */
    TD_IGNORE(td_fmt(cl.sub, sizeof cl.sub, "%s", id));
    TD_IGNORE(td_fmt(cl.jti, sizeof cl.jti, "%s", jti));
    if (role == NULL || td_fmt(cl.role, sizeof cl.role, "%s", role) != TD_OK) {
        td_error("agent %s has no valid role: no token issued", id);
        return TD_EIO;
    }
    cl.iat = now;
    cl.exp = now + auth_cfg.access_ttl_s;
    cl.ver = td_bson_int(agent, "tokenVersion", 0);
    int rc = td_token_sign(&cl, &out->access);
    if (rc != TD_OK)
        return rc;

    char key[65];
    if (out->refresh[0] == '\0')
        tokens_new_refresh(out, key);
    else
        refresh_key(out->refresh, key);
    if (family == NULL) {
        td_new_id(fam);
        family = fam;
    }
    bson_oid_t aid;
    bson_oid_init_from_string(&aid, id);
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(key), "agentId", BCON_OID(&aid), "familyId",
                           BCON_UTF8(family), "tokenVersion", BCON_INT64(cl.ver), "used",
                           BCON_BOOL(false), "revoked", BCON_BOOL(false), "accessJti",
                           BCON_UTF8(jti), "accessExpiresAt", BCON_DATE_TIME(cl.exp * 1000),
                           "expiresAt", BCON_DATE_TIME((now + auth_cfg.refresh_ttl_s) * 1000),
                           "createdAt", BCON_DATE_TIME(td_now_ms()), "ip",
                           BCON_UTF8(req->client_ip), "userAgent", BCON_UTF8(req->user_agent));
    if (prev != NULL)
        BSON_APPEND_UTF8(doc, "prev", prev);
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_REFRESH);
    bson_error_t err;
    if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(coll);
    bson_destroy(doc);
    if (rc != TD_OK)
        tokens_pair_free(out);
    return rc;
}

void tokens_pair_free(token_pair *p)
{
    free(p->access);
    p->access = NULL;
    sodium_memzero(p->refresh, sizeof p->refresh);
}

cJSON *tokens_json(token_pair *p, const bson_t *agent)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "accessToken", p->access);
    cJSON_AddStringToObject(data, "refreshToken", p->refresh);
    cJSON_AddStringToObject(data, "tokenType", "Bearer");
    cJSON_AddNumberToObject(data, "expiresIn", (double)auth_cfg.access_ttl_s);
    cJSON_AddItemToObject(data, "agent", agent_json(agent, NULL));
    tokens_pair_free(p);
    return data;
}

/* Tells the gateway (through Redis) that tokens older than version are void. */
static void publish_tokver(const char *agent_id, int64_t version, int64_t ttl_s)
{
    char key[96], val[32];
    /* fit: an agent id of 24 hex digits; one number */
    TD_IGNORE(td_fmt(key, sizeof key, TOKVER_KEY, agent_id));
    TD_IGNORE(td_fmt(val, sizeof val, "%lld", (long long)version));
    if (td_redis_setex(key, val, strlen(val), (int)ttl_s) != TD_OK)
        td_warn("revocation of %s not in Redis yet (Redis down); resync will retry", agent_id);
}

/* The agent's refresh tokens need no write: each carries the tokenVersion it was
 * issued with, and a refresh refuses one older than the agent's (sessions.c). */
int tokens_revoke_agent(mongoc_client_t *c, const char *agent_id, int64_t token_version)
{
    (void)c;
    publish_tokver(agent_id, token_version, auth_cfg.access_ttl_s + REVOCATION_SLACK_S);
    return TD_OK;
}

/* Refuses one access token (jti) of agent_id until it has expired: a Redis key the
 * gateway reads, and a revoked_tokens document the resync re-writes it from. */
static int deny_jti(mongoc_client_t *c, const char *jti, const char *agent_id)
{
    int64_t expires = td_now_ms() + (auth_cfg.access_ttl_s + REVOCATION_SLACK_S) * 1000;
    char key[96];
    /* fits: a jti claim is at most TD_TOKEN_FIELD_MAX - 1 bytes */
    TD_IGNORE(td_fmt(key, sizeof key, DENY_KEY, jti));
    /* Redis down: the revoked_tokens document below is what the resync re-writes
     * the key from, so its answer is the one that counts */
    TD_IGNORE(td_redis_setex(key, "1", 1, (int)(auth_cfg.access_ttl_s + REVOCATION_SLACK_S)));
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(jti), "agentId", BCON_UTF8(agent_id), "expiresAt",
                           BCON_DATE_TIME(expires));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_REVOKED);
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &err)) {
        rc = td_mongo_rc(&err);
        if (rc == TD_ECONFLICT)
            rc = TD_OK;
    }
    mongoc_collection_destroy(coll);
    bson_destroy(doc);
    return rc;
}

int tokens_deny_access(mongoc_client_t *c, const td_req *req)
{
    const char *jti = req->principal.token_id;
    if (jti == NULL || jti[0] == '\0')
        return TD_OK;
    return deny_jti(c, jti, req->principal.agent_id);
}

int tokens_find_refresh(mongoc_client_t *c, const char *key, bson_t *doc)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key));
    int rc = td_store_find_one(c, COLL_REFRESH, filter, doc);
    bson_destroy(filter);
    return rc;
}

/* Denies the access token issued with refresh token doc while it may be valid. */
static int deny_doc_access(mongoc_client_t *c, const bson_t *doc)
{
    const char *jti = td_bson_str(doc, "accessJti");
    if (jti == NULL || td_bson_date(doc, "accessExpiresAt", 0) <= td_now_ms())
        return TD_OK;
    char agent[25];
    td_bson_oid_hex(doc, "agentId", agent);
    return deny_jti(c, jti, agent);
}

int tokens_revoke_unused(mongoc_client_t *c, const char *key)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(key), "used", BCON_BOOL(false));
    bson_t *update = BCON_NEW("$set", "{", "revoked", BCON_BOOL(true), "}");
    int rc = td_mongo_find_and_modify(c, COLL_REFRESH, filter, update, false, NULL);
    bson_destroy(filter);
    bson_destroy(update);
    return rc;
}

/* Tokens written before the chain (a used token without `next`): the family by its
 * field, which scans on FerretDB; only such old families take this way. */
static int revoke_family_by_field(mongoc_client_t *c, const char *family)
{
    bson_t *filter = BCON_NEW("familyId", BCON_UTF8(family));
    bson_t *update = BCON_NEW("$set", "{", "revoked", BCON_BOOL(true), "}");
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_REFRESH);
    bson_error_t err;
    int rc = mongoc_collection_update_many(coll, filter, update, NULL, NULL, &err)
                 ? TD_OK
                 : td_mongo_rc(&err);
    bson_destroy(filter);
    filter = BCON_NEW("familyId", BCON_UTF8(family), "accessExpiresAt", "{", "$gt",
                      BCON_DATE_TIME(td_now_ms()), "}");
    mongoc_cursor_t *cur =
        rc == TD_OK ? mongoc_collection_find_with_opts(coll, filter, NULL, NULL) : NULL;
    const bson_t *doc;
    while (cur != NULL && rc == TD_OK && mongoc_cursor_next(cur, &doc))
        rc = deny_doc_access(c, doc);
    if (cur != NULL && rc == TD_OK && mongoc_cursor_error(cur, &err))
        rc = td_mongo_rc(&err);
    if (cur != NULL)
        mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    bson_destroy(update);
    return rc;
}

/* Back from `from` (its predecessors): denies their access tokens still valid; an
 * older token's access token expired before a younger one's, so the walk stops at
 * the first that has. */
static int deny_predecessors(mongoc_client_t *c, const bson_t *from)
{
    char key[65];
    const char *prev = td_bson_str(from, "prev");
    if (prev == NULL)
        return TD_OK;
    if (td_fmt(key, sizeof key, "%s", prev) != TD_OK)
        return TD_EINVAL; /* not a key of ours */
    for (int i = 0; i < FAMILY_WALK_MAX; i++) {
        bson_t doc;
        int rc = tokens_find_refresh(c, key, &doc);
        if (rc != TD_OK)
            return rc == TD_ENOTFOUND ? TD_OK : rc;
        bool valid = td_bson_date(&doc, "accessExpiresAt", 0) > td_now_ms();
        rc = valid ? deny_doc_access(c, &doc) : TD_OK;
        prev = td_bson_str(&doc, "prev");
        bool more =
            rc == TD_OK && valid && prev != NULL && td_fmt(key, sizeof key, "%s", prev) == TD_OK;
        bson_destroy(&doc);
        if (!more)
            return rc;
    }
    return TD_OK;
}

int tokens_revoke_family(mongoc_client_t *c, const char *key)
{
    char cur[65], family[25] = "";
    if (td_fmt(cur, sizeof cur, "%s", key) != TD_OK)
        return TD_EINVAL;
    bson_t doc;
    int rc = tokens_find_refresh(c, cur, &doc);
    if (rc != TD_OK)
        return rc;
    rc = deny_predecessors(c, &doc);
    int i = 0;
    for (; rc == TD_OK && i < FAMILY_WALK_MAX; i++) {
        if (family[0] == '\0' && td_bson_str(&doc, "familyId") != NULL)
            TD_IGNORE(td_fmt(family, sizeof family, "%s", td_bson_str(&doc, "familyId")));
        rc = deny_doc_access(c, &doc);
        const char *next = td_bson_str(&doc, "next");
        if (rc != TD_OK)
            break;
        if (!td_bson_bool(&doc, "used", false)) { /* the end of the chain */
            if (td_bson_bool(&doc, "revoked", false))
                break;
            rc = tokens_revoke_unused(c, cur);
            if (rc != TD_ENOTFOUND)
                break;
            rc = TD_OK; /* used meanwhile: read it again, with its successor */
        } else if (next == NULL) {
            bson_destroy(&doc);
            return revoke_family_by_field(c, family); /* written before the chain */
        } else if (td_fmt(cur, sizeof cur, "%s", next) != TD_OK) {
            rc = TD_EINVAL; /* not a key of ours */
            break;
        }
        bson_destroy(&doc);
        bson_init(&doc);
        rc = tokens_find_refresh(c, cur, &doc);
        if (rc == TD_ENOTFOUND) { /* a successor is written before it is named: none */
            rc = TD_OK;
            break;
        }
    }
    if (i == FAMILY_WALK_MAX)
        td_warn("refresh family %s: more than %d tokens; the rest are not revoked", family,
                FAMILY_WALK_MAX);
    bson_destroy(&doc);
    return rc;
}

/* Re-writes to Redis the revocations that can still matter (those younger than an
 * access token's lifetime), in case Redis restarted empty or was down. */
void tokens_resync(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    int64_t window_ms = (auth_cfg.access_ttl_s + REVOCATION_SLACK_S) * 1000;
    int64_t now = td_now_ms();
    bson_t *filter = BCON_NEW("tokensRevokedAt", "{", "$gte", BCON_DATE_TIME(now - window_ms), "}");
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_AGENTS);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        char id[25];
        td_bson_oid_hex(doc, "_id", id);
        int64_t at = td_bson_date(doc, "tokensRevokedAt", now);
        int64_t ttl = (at + window_ms - now) / 1000 + 1;
        publish_tokver(id, td_bson_int(doc, "tokenVersion", 0), ttl);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);

    filter = BCON_NEW("expiresAt", "{", "$gt", BCON_DATE_TIME(now), "}");
    coll = td_mongo_coll(c, COLL_REVOKED);
    cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        const char *jti = td_bson_str(doc, "_id");
        int64_t expires = td_bson_date(doc, "expiresAt", 0);
        if (jti == NULL || expires <= now)
            continue;
        char key[96];
        /* a jti this service wrote (deny_jti): too long, it is not one of ours */
        if (td_fmt(key, sizeof key, DENY_KEY, jti) != TD_OK)
            continue;
        /* Redis down: the next resync writes it again */
        TD_IGNORE(td_redis_setex(key, "1", 1, (int)((expires - now) / 1000 + 1)));
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
}
