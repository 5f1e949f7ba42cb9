/* /api/auth: registration, sign-in, token refresh, sign-out, the current agent and
 * password change. */
#include "auth.h"

#include "tripdesk/log.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int register_agent(td_req *req, td_res *res);
static int login(td_req *req, td_res *res);
static int refresh(td_req *req, td_res *res);
static int logout(td_req *req, td_res *res);
static int me(td_req *req, td_res *res);
static int change_password(td_req *req, td_res *res);

const td_route session_routes[] = {
    {"POST", "/api/auth/register", register_agent, TD_ROUTE_PUBLIC, NULL},
    {"POST", "/api/auth/login", login, TD_ROUTE_PUBLIC, NULL},
    {"POST", "/api/auth/refresh", refresh, TD_ROUTE_PUBLIC, NULL},
    {"POST", "/api/auth/logout", logout, 0, NULL},
    {"GET", "/api/auth/me", me, 0, NULL},
    {"PUT", "/api/auth/password", change_password, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

#define REFRESH_TOKEN_MAX 128
#define SIGN_IN_THROTTLED "Too many failed sign-in attempts; try again later"

static int db_unavailable(td_res *res)
{
    return td_fail_rc(res, TD_EUNAVAIL, NULL);
}

/* On public routes (sign-in, registration) the agent acts on itself. */
static void self_actor(cJSON *payload, const bson_t *agent)
{
    if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(payload, "actor")))
        return;
    char id[25];
    cJSON *actor = cJSON_CreateObject();
    cJSON_AddStringToObject(actor, "id", td_bson_oid_hex(agent, "_id", id));
    const char *role = td_bson_str(agent, "role");
    cJSON_AddStringToObject(actor, "role", role != NULL ? role : "");
    cJSON_ReplaceItemInObjectCaseSensitive(payload, "actor", actor);
}

/* Applies `set` to the agent (whatever its version) with the event `action` (sign-in,
 * sign-out, password change); revoke also voids its earlier tokens. *updated (may be
 * NULL) gets the agent as written. */
static int touch_agent(td_req *req, const bson_t *agent, bson_t *set, bool revoke,
                       const char *action, bson_t *updated)
{
    char id[25];
    td_bson_oid_hex(agent, "_id", id);
    bson_t update = BSON_INITIALIZER, inc, written = BSON_INITIALIZER;
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    if (revoke) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
        BSON_APPEND_INT64(&inc, "tokenVersion", 1);
        bson_append_document_end(&update, &inc);
    }
    cJSON *payload = td_event_payload(req, action, "agent", id, NULL, NULL);
    cJSON_AddItemToObject(payload, "agent", agent_json(agent, NULL));
    self_actor(payload, agent);
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    int rc = td_store_update(req, COLL_AGENTS, &oid, -1, &update, action, payload, &written);
    cJSON_Delete(payload);
    if (rc == TD_OK) {
        if (revoke)
            tokens_revoke_agent(td_req_mongo(req), id, td_bson_int(&written, "tokenVersion", 0));
        if (updated != NULL)
            bson_copy_to(&written, updated);
    }
    bson_destroy(&update);
    bson_destroy(&written);
    return rc;
}

/* Answers 429 TOO_MANY_ATTEMPTS with Retry-After. */
static int too_many(td_res *res, int retry_after, const char *message)
{
    char ra[16];
    TD_IGNORE(td_fmt(ra, sizeof ra, "%d", retry_after)); /* fits: one int */
    td_res_header(res, "Retry-After", ra);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddNumberToObject(details, "retryAfter", retry_after);
    return td_fail(res, 429, "TOO_MANY_ATTEMPTS", message, details);
}

static int email_taken(td_res *res)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", "email");
    return td_fail(res, 409, "EMAIL_TAKEN", "An account with this email already exists", details);
}

static int register_agent(td_req *req, td_res *res)
{
    static const char *const fields[] = {"email", "password",   "firstName", "lastName",
                                         "phone", "agencyName", NULL};
    cJSON *body = NULL;
    char email[TD_EMAIL_MAX + 1];
    bool has_email;
    const char *password = NULL, *first = NULL, *last = NULL, *phone = NULL, *agency = NULL;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_email(body, "email", true, res, email, &has_email) != TD_OK ||
        td_get_str(body, "password", true, 1, 128, res, &password) != TD_OK ||
        td_get_str(body, "firstName", true, 1, 60, res, &first) != TD_OK ||
        td_get_str(body, "lastName", true, 1, 60, res, &last) != TD_OK ||
        td_get_str(body, "phone", true, 6, 25, res, &phone) != TD_OK ||
        td_get_str(body, "agencyName", true, 1, 120, res, &agency) != TD_OK)
        goto out;
    if (!td_valid_phone(phone)) {
        td_fail_field(res, "phone", "Enter a valid phone number");
        goto out;
    }
    if (password_policy(password, email, res, "password") != TD_OK)
        goto out;
    /* Only a well-formed registration takes a slot of the IP's budget; the lookup
     * and the argon2 hash come after it (docs/notes/harden.md). */
    int retry_after;
    if (throttle_register(req->client_ip, &retry_after) != TD_OK) {
        too_many(res, retry_after, "Too many registrations from this address; try again later");
        goto out;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        db_unavailable(res);
        goto out;
    }
    bson_t taken;
    bson_init(&taken);
    int found = agent_find_email(c, email, &taken);
    bson_destroy(&taken);
    if (found == TD_OK) {
        email_taken(res);
        goto out;
    }
    if (found != TD_ENOTFOUND) {
        td_fail_rc(res, found, NULL);
        goto out;
    }
    char hash[128];
    if (password_hash(password, hash) != TD_OK) {
        td_fail(res, 500, "INTERNAL_ERROR", "Could not hash the password", NULL);
        goto out;
    }
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    char id[25];
    bson_oid_to_string(&oid, id);
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_UTF8(&doc, "email", email);
    BSON_APPEND_UTF8(&doc, "passwordHash", hash);
    BSON_APPEND_UTF8(&doc, "firstName", first);
    BSON_APPEND_UTF8(&doc, "lastName", last);
    BSON_APPEND_UTF8(&doc, "phone", phone);
    BSON_APPEND_UTF8(&doc, "agencyName", agency);
    BSON_APPEND_UTF8(&doc, "role", "agent");
    BSON_APPEND_UTF8(&doc, "status", "pending");
    BSON_APPEND_INT64(&doc, "tokenVersion", 0);
    agent_search_text(&doc, email, first, last, agency);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_NULL(&doc, "lastLoginAt");
    BSON_APPEND_INT64(&doc, "version", 1);
    cJSON *payload = td_event_payload(req, "AGENT_REGISTERED", "agent", id, NULL, NULL);
    cJSON_AddItemToObject(payload, "agent", agent_json(&doc, NULL));
    self_actor(payload, &doc);
    int rc = td_store_insert(req, COLL_AGENTS, &doc, "AGENT_REGISTERED", payload);
    cJSON_Delete(payload);
    if (rc == TD_OK) {
        td_ok(res, 201, agent_json(&doc, NULL));
    } else if (rc == TD_ECONFLICT) {
        email_taken(res); /* registered in between: the unique key decides */
    } else {
        td_fail_rc(res, rc, "registration failed");
    }
    bson_destroy(&doc);
    sodium_memzero(hash, sizeof hash);
out:
    cJSON_Delete(body);
    return 0;
}

static int login(td_req *req, td_res *res)
{
    static const char *const fields[] = {"email", "password", NULL};
    cJSON *body = NULL;
    char email[TD_EMAIL_MAX + 1];
    bool has_email;
    const char *password = NULL;
    bson_t agent;
    bson_init(&agent);
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_email(body, "email", true, res, email, &has_email) != TD_OK ||
        td_get_str(body, "password", true, 1, 256, res, &password) != TD_OK)
        goto out;
    int retry_after;
    if (throttle_take(email, req->client_ip, &retry_after) != TD_OK) {
        too_many(res, retry_after, SIGN_IN_THROTTLED);
        goto out;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        throttle_unchecked(email, req->client_ip);
        db_unavailable(res);
        goto out;
    }
    int rc = agent_find_email(c, email, &agent);
    if (rc != TD_OK && rc != TD_ENOTFOUND) {
        throttle_unchecked(email, req->client_ip);
        td_fail_rc(res, rc, NULL);
        goto out;
    }
    const char *status = rc == TD_OK ? td_bson_str(&agent, "status") : NULL;
    bool ok = false;
    if (rc == TD_OK && status != NULL && strcmp(status, "deleted") != 0)
        ok = password_verify(td_bson_str(&agent, "passwordHash"), password);
    else
        password_burn_time(password);
    if (!ok) {
        /* The attempt's slots stay taken: it is a failure. */
        cJSON *p = td_event_payload(req, "AUTH_LOGIN_FAILED", "agent", "", NULL, NULL);
        cJSON_AddStringToObject(p, "email", email);
        if (td_bus_publish(td_service_bus(req->service), c, "AUTH_LOGIN_FAILED", p, NULL) != TD_OK)
            td_log(TD_LOG_WARN, req->request_id, "AUTH_LOGIN_FAILED event not written");
        cJSON_Delete(p);
        td_fail(res, 401, "INVALID_CREDENTIALS", "Email or password is incorrect", NULL);
        goto out;
    }
    throttle_succeeded(email, req->client_ip);
    if (strcmp(status, "pending") == 0) {
        td_fail(res, 403, "ACCOUNT_PENDING", "Your account is waiting for an admin's approval",
                NULL);
        goto out;
    }
    if (strcmp(status, "active") != 0) {
        td_fail(res, 403, "ACCOUNT_DEACTIVATED", "Your account has been deactivated", NULL);
        goto out;
    }
    bson_t set = BSON_INITIALIZER, updated = BSON_INITIALIZER;
    BSON_APPEND_DATE_TIME(&set, "lastLoginAt", td_now_ms());
    rc = touch_agent(req, &agent, &set, false, "AUTH_LOGIN", &updated);
    token_pair tp = {0};
    if (rc == TD_OK)
        rc = tokens_issue(c, &updated, NULL, NULL, req, &tp);
    if (rc == TD_OK)
        td_ok(res, 200, tokens_json(&tp, &updated));
    else
        td_fail_rc(res, rc, "sign-in failed");
    bson_destroy(&set);
    bson_destroy(&updated);
out:
    cJSON_Delete(body);
    bson_destroy(&agent);
    return 0;
}

/* Marks one refresh token used and names its successor `next` (tokens.c: the
 * family's chain), atomically. TD_ENOTFOUND when it is unknown, used or revoked. */
static int take_refresh(mongoc_client_t *c, const char *key, const char *next)
{
    bson_t *filter =
        BCON_NEW("_id", BCON_UTF8(key), "used", BCON_BOOL(false), "revoked", BCON_BOOL(false));
    bson_t *update = BCON_NEW("$set", "{", "used", BCON_BOOL(true), "usedAt",
                              BCON_DATE_TIME(td_now_ms()), "next", BCON_UTF8(next), "}");
    int rc = td_mongo_find_and_modify(c, COLL_REFRESH, filter, update, false, NULL);
    bson_destroy(filter);
    bson_destroy(update);
    return rc;
}

/* A refresh token that is presented again after use: revoke its family. */
static void reuse_detected(td_req *req, mongoc_client_t *c, const char *key, const bson_t *stored)
{
    const char *family = td_bson_str(stored, "familyId");
    if (family == NULL)
        return;
    if (tokens_revoke_family(c, key) != TD_OK)
        td_log(TD_LOG_WARN, req->request_id, "family %s not wholly revoked", family);
    td_log(TD_LOG_WARN, req->request_id, "refresh token reuse detected; family %s revoked", family);
    cJSON *p = td_event_payload(req, "AUTH_REFRESH_REUSED", "tokenFamily", family, NULL, NULL);
    if (td_bus_publish(td_service_bus(req->service), c, "AUTH_REFRESH_REUSED", p, NULL) !=
        TD_OK) /* the family is revoked all the same: only the audit entry is lost */
        td_log(TD_LOG_WARN, req->request_id, "AUTH_REFRESH_REUSED event not written");
    cJSON_Delete(p);
}

static int refresh(td_req *req, td_res *res)
{
    static const char *const fields[] = {"refreshToken", NULL};
    cJSON *body = NULL;
    const char *token = NULL;
    bson_t old, agent;
    token_pair tp = {0};
    bson_init(&old);
    bson_init(&agent);
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "refreshToken", true, 1, REFRESH_TOKEN_MAX, res, &token) != TD_OK)
        goto out;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        db_unavailable(res);
        goto out;
    }
    char key[65];
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(key, sizeof key, h, sizeof h);
    /* The token as stored: a used or revoked one is a reuse, and the checks come
     * before anything is written. */
    int rc = tokens_find_refresh(c, key, &old);
    if (rc == TD_ENOTFOUND || (rc == TD_OK && (td_bson_bool(&old, "used", true) ||
                                               td_bson_bool(&old, "revoked", true)))) {
        if (rc == TD_OK)
            reuse_detected(req, c, key, &old);
        td_fail(res, 401, "INVALID_REFRESH_TOKEN", "The refresh token is invalid or was revoked",
                NULL);
        goto out;
    }
    if (rc != TD_OK) {
        td_fail_rc(res, rc, NULL);
        goto out;
    }
    if (td_bson_date(&old, "expiresAt", 0) < td_now_ms()) {
        td_fail(res, 401, "INVALID_REFRESH_TOKEN", "The refresh token has expired", NULL);
        goto out;
    }
    char agent_id[25];
    td_bson_oid_hex(&old, "agentId", agent_id);
    rc = agent_find(c, agent_id, &agent);
    const char *status = rc == TD_OK ? td_bson_str(&agent, "status") : NULL;
    if (rc != TD_OK || status == NULL || strcmp(status, "active") != 0 ||
        td_bson_int(&agent, "tokenVersion", 0) != td_bson_int(&old, "tokenVersion", -1)) {
        if (rc != TD_OK && rc != TD_ENOTFOUND)
            td_fail_rc(res, rc, NULL);
        else
            td_fail(res, 401, "INVALID_REFRESH_TOKEN",
                    "The session has ended; please sign in again", NULL);
        goto out;
    }
    /* The successor is written first, known to this request only, then the old token
     * is taken naming it: whoever walks the family from the old token finds it. */
    char next[65];
    tokens_new_refresh(&tp, next);
    rc = tokens_issue(c, &agent, td_bson_str(&old, "familyId"), key, req, &tp);
    if (rc == TD_OK) {
        /* another request took it first (or no answer): the successor, known to
         * nobody, never counts */
        rc = take_refresh(c, key, next);
        if (rc != TD_OK)
            TD_IGNORE(tokens_revoke_unused(c, next)); /* else it expires unused */
    }
    if (rc == TD_OK) {
        td_ok(res, 200, tokens_json(&tp, &agent));
    } else if (rc == TD_ENOTFOUND) {
        reuse_detected(req, c, key, &old);
        td_fail(res, 401, "INVALID_REFRESH_TOKEN", "The refresh token is invalid or was revoked",
                NULL);
    } else {
        td_fail_rc(res, rc, "refresh failed");
    }
out:
    tokens_pair_free(&tp);
    cJSON_Delete(body);
    bson_destroy(&old);
    bson_destroy(&agent);
    return 0;
}

static int logout(td_req *req, td_res *res)
{
    static const char *const fields[] = {"refreshToken", NULL};
    cJSON *body = NULL;
    const char *token = NULL;
    bson_t agent;
    bson_init(&agent);
    if (req->body_len > 0 &&
        (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
         td_get_str(body, "refreshToken", false, 1, REFRESH_TOKEN_MAX, res, &token) != TD_OK))
        goto out;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        db_unavailable(res);
        goto out;
    }
    int rc = agent_find(c, req->principal.agent_id, &agent);
    if (rc != TD_OK) {
        td_fail_rc(res, rc == TD_ENOTFOUND ? TD_ENOTFOUND : rc, "No such agent");
        goto out;
    }
    tokens_deny_access(c, req);
    if (token != NULL) {
        /* Only a token of the caller's own can be revoked this way. */
        char key[65];
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
        sodium_bin2hex(key, sizeof key, h, sizeof h);
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, req->principal.agent_id);
        bson_t *filter = BCON_NEW("_id", BCON_UTF8(key), "agentId", BCON_OID(&oid));
        mongoc_collection_t *coll = td_mongo_coll(c, COLL_REFRESH);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
        const bson_t *doc;
        if (mongoc_cursor_next(cur, &doc) && td_bson_str(doc, "familyId") != NULL)
            TD_IGNORE(tokens_revoke_family(c, key)); /* what it could not revoke ends by expiry */
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
        bson_destroy(filter);
    }
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_DATE_TIME(&set, "lastLogoutAt", td_now_ms());
    touch_agent(req, &agent, &set, false, "AUTH_LOGOUT", NULL);
    bson_destroy(&set);
    cJSON *data = cJSON_CreateObject();
    cJSON_AddBoolToObject(data, "loggedOut", true);
    td_ok(res, 200, data);
out:
    cJSON_Delete(body);
    bson_destroy(&agent);
    return 0;
}

static int me(td_req *req, td_res *res)
{
    bson_t agent;
    bson_init(&agent);
    mongoc_client_t *c = td_req_mongo(req);
    int rc = c != NULL ? agent_find(c, req->principal.agent_id, &agent) : TD_EUNAVAIL;
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "No such agent");
    } else {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddItemToObject(data, "agent", agent_json(&agent, NULL));
        cJSON *perms = cJSON_AddObjectToObject(data, "permissions");
        for (int i = 0; i < TD_PERM_COUNT; i++)
            cJSON_AddBoolToObject(perms, td_permission_names[i],
                                  (req->principal.permissions >> i & 1u) != 0);
        td_ok(res, 200, data);
    }
    bson_destroy(&agent);
    return 0;
}

static int change_password(td_req *req, td_res *res)
{
    static const char *const fields[] = {"currentPassword", "newPassword", NULL};
    cJSON *body = NULL;
    const char *current = NULL, *next = NULL;
    bson_t agent, updated;
    bson_init(&agent);
    bson_init(&updated);
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "currentPassword", true, 1, 256, res, &current) != TD_OK ||
        td_get_str(body, "newPassword", true, 1, 128, res, &next) != TD_OK)
        goto out;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        db_unavailable(res);
        goto out;
    }
    int rc = agent_find(c, req->principal.agent_id, &agent);
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "No such agent");
        goto out;
    }
    const char *email = td_bson_str(&agent, "email");
    int retry_after;
    if (throttle_take(email, req->client_ip, &retry_after) != TD_OK) {
        too_many(res, retry_after, SIGN_IN_THROTTLED);
        goto out;
    }
    if (!password_verify(td_bson_str(&agent, "passwordHash"), current)) {
        td_fail_field(res, "currentPassword", "The current password is incorrect");
        goto out;
    }
    throttle_succeeded(email, req->client_ip);
    if (strcmp(current, next) == 0) {
        td_fail_field(res, "newPassword", "The new password must differ from the current one");
        goto out;
    }
    if (password_policy(next, email, res, "newPassword") != TD_OK)
        goto out;
    char hash[128];
    if (password_hash(next, hash) != TD_OK) {
        td_fail(res, 500, "INTERNAL_ERROR", "Could not hash the password", NULL);
        goto out;
    }
    bson_t set = BSON_INITIALIZER;
    int64_t now = td_now_ms();
    BSON_APPEND_UTF8(&set, "passwordHash", hash);
    BSON_APPEND_DATE_TIME(&set, "passwordChangedAt", now);
    BSON_APPEND_DATE_TIME(&set, "tokensRevokedAt", now);
    sodium_memzero(hash, sizeof hash);
    rc = touch_agent(req, &agent, &set, true, "AUTH_PASSWORD_CHANGED", &updated);
    bson_destroy(&set);
    token_pair tp = {0};
    if (rc == TD_OK)
        rc = tokens_issue(c, &updated, NULL, NULL, req, &tp);
    if (rc == TD_OK)
        td_ok(res, 200, tokens_json(&tp, &updated));
    else
        td_fail_rc(res, rc, "password change failed");
out:
    cJSON_Delete(body);
    bson_destroy(&agent);
    bson_destroy(&updated);
    return 0;
}
