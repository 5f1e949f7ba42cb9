/*
 * /api/permissions: the role-permission matrix (PRD step 9). The matrix is one
 * document, updated optimistically on its version, with every change kept in
 * permission_history and published as an event; after each change (and
 * periodically) it is written to Redis, from where the gateway reads it on the
 * next request. Reads fall back to the built-in defaults when MongoDB is down.
 */
#include "auth.h"

#include "tripdesk/log.h"
#include "tripdesk/query.h"
#include "tripdesk/redis.h"

#include <stdio.h>
#include <string.h>

#define MATRIX_ID "matrix"

static int get_all(td_req *req, td_res *res);
static int get_role(td_req *req, td_res *res);
static int put_role(td_req *req, td_res *res);
static int reset(td_req *req, td_res *res);
static int history(td_req *req, td_res *res);

const td_route permission_routes[] = {
    {"GET", "/api/permissions", get_all, 0, NULL},
    {"GET", "/api/permissions/history", history, 0, NULL},
    {"POST", "/api/permissions/reset", reset, 0, NULL},
    {"GET", "/api/permissions/:role", get_role, 0, NULL},
    {"PUT", "/api/permissions/:role", put_role, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

/* Loads the stored matrix; TD_ENOTFOUND before seeding, TD_E* when unreachable. */
int matrix_load(mongoc_client_t *c, td_matrix *m)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(MATRIX_ID));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_MATRIX);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    int rc = TD_ENOTFOUND;
    if (mongoc_cursor_next(cur, &doc)) {
        cJSON *json = td_bson_to_json(doc, NULL);
        rc = td_matrix_from_json(json, m) == TD_OK ? TD_OK : TD_EIO;
        cJSON_Delete(json);
    } else {
        bson_error_t err;
        if (mongoc_cursor_error(cur, &err))
            rc = td_mongo_rc(&err);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    return rc;
}

/* Writes the matrix to Redis for the gateway (version key last). */
static void cache_matrix(const td_matrix *m)
{
    cJSON *json = td_matrix_to_json(m);
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (text == NULL)
        return;
    char ver[32];
    TD_IGNORE(td_fmt(ver, sizeof ver, "%lld", (long long)m->version)); /* fits: one number */
    /* A long TTL only to bound stale keys; the resync task rewrites it. */
    if (td_redis_setex(TD_PERM_CACHE_KEY, text, strlen(text), 86400) == TD_OK)
        /* without the version key the matrix is read again from MongoDB: only slower */
        TD_IGNORE(td_redis_setex(TD_PERM_VERSION_KEY, ver, strlen(ver), 86400));
    free(text);
}

void matrix_publish(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    td_matrix m;
    if (matrix_load(c, &m) == TD_OK)
        cache_matrix(&m);
}

/* The current matrix for a request; *fallback is set when the defaults stand in. */
static int current(td_req *req, td_matrix *m, bool *fallback)
{
    *fallback = false;
    mongoc_client_t *c = td_req_mongo(req);
    int rc = c != NULL ? matrix_load(c, m) : TD_EUNAVAIL;
    if (rc == TD_EUNAVAIL) {
        td_matrix_defaults(m);
        *fallback = true;
        return TD_OK;
    }
    return rc;
}

static cJSON *names_json(uint32_t bits)
{
    cJSON *arr = cJSON_CreateArray();
    for (int p = 0; p < TD_PERM_COUNT; p++)
        if (bits >> p & 1u)
            cJSON_AddItemToArray(arr, cJSON_CreateString(td_permission_names[p]));
    return arr;
}

static int need_admin(td_req *req, td_res *res)
{
    if (td_req_has_role(req, "admin"))
        return TD_OK;
    td_fail(res, 403, "FORBIDDEN", "Admin role required", NULL);
    return TD_EINVAL;
}

static int need_super_admin(td_req *req, td_res *res)
{
    if (td_req_has_role(req, "super_admin"))
        return TD_OK;
    td_fail(res, 403, "FORBIDDEN", "Only a super_admin may change permissions", NULL);
    return TD_EINVAL;
}

static int get_all(td_req *req, td_res *res)
{
    if (need_admin(req, res) != TD_OK)
        return 0;
    td_matrix m;
    bool fallback;
    int rc = current(req, &m, &fallback);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "The permission matrix is not available");
    cJSON *data = td_matrix_to_json(&m);
    cJSON *all = cJSON_CreateArray();
    for (int p = 0; p < TD_PERM_COUNT; p++)
        cJSON_AddItemToArray(all, cJSON_CreateString(td_permission_names[p]));
    cJSON_AddItemToObject(data, "permissions", all);
    cJSON_AddItemToObject(data, "locked", names_json(td_matrix_locked_bits()));
    cJSON_AddBoolToObject(data, "fallback", fallback);
    return td_ok(res, 200, data);
}

static int role_param(td_req *req, td_res *res)
{
    int r = td_role_rank(td_req_param(req, "role"));
    if (r < 0)
        td_fail(res, 404, "NOT_FOUND", "No such role", NULL);
    return r;
}

static int get_role(td_req *req, td_res *res)
{
    if (need_admin(req, res) != TD_OK)
        return 0;
    int r = role_param(req, res);
    if (r < 0)
        return 0;
    td_matrix m;
    bool fallback;
    int rc = current(req, &m, &fallback);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "The permission matrix is not available");
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "role", td_roles[r]);
    cJSON_AddNumberToObject(data, "version", (double)m.version);
    cJSON_AddItemToObject(data, "permissions", td_matrix_role_json(&m, r));
    cJSON_AddBoolToObject(data, "fallback", fallback);
    return td_ok(res, 200, data);
}

/*
 * Replaces the stored matrix `old` by `next` (version old+1) if nobody changed it
 * meanwhile, records history for every role that changed, publishes the event and
 * refreshes the cache. Answers the response.
 */
static int save(td_req *req, td_res *res, const td_matrix *old, td_matrix *next, const char *action)
{
    mongoc_client_t *c = td_req_mongo(req);
    next->version = old->version + 1;
    int64_t now = td_now_ms();
    cJSON *roles_json = td_matrix_to_json(next);
    cJSON *roles = cJSON_DetachItemFromObject(roles_json, "roles");
    cJSON_Delete(roles_json);
    char *roles_text = cJSON_PrintUnformatted(roles);
    cJSON_Delete(roles);
    bson_t roles_bson;
    bson_error_t err;
    if (roles_text == NULL || !bson_init_from_json(&roles_bson, roles_text, -1, &err)) {
        free(roles_text);
        return td_fail(res, 500, "INTERNAL_ERROR", "Could not encode the matrix", NULL);
    }
    free(roles_text);

    cJSON *before = td_matrix_to_json(old), *after = td_matrix_to_json(next);
    cJSON *payload = td_event_payload(req, action, "permissions", MATRIX_ID, before, after);
    bson_oid_t by;
    bson_oid_init_from_string(&by, req->principal.agent_id);
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_INT64(&set, "version", next->version);
    BSON_APPEND_DOCUMENT(&set, "roles", &roles_bson);
    BSON_APPEND_DATE_TIME(&set, "updatedAt", now);
    BSON_APPEND_OID(&set, "updatedBy", &by);
    bson_append_document_end(&update, &set);
    char ev[25];
    int staged = td_bus_stage_update(&update, action, payload, ev);
    cJSON_Delete(payload);
    if (staged != TD_OK) { /* no write without its event */
        bson_destroy(&update);
        bson_destroy(&roles_bson);
        return td_fail_rc(res, staged, NULL);
    }

    bson_t *filter = BCON_NEW("_id", BCON_UTF8(MATRIX_ID), "version", BCON_INT64(old->version));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_MATRIX);
    bson_t reply;
    int rc;
    if (!mongoc_collection_update_one(coll, filter, &update, NULL, &reply, &err)) {
        rc = td_fail_rc(res, td_mongo_rc(&err), "update failed");
    } else if (td_bson_int(&reply, "matchedCount", 0) == 0) {
        rc = td_fail(res, 409, "VERSION_CONFLICT",
                     "The permission matrix was changed meanwhile; reload and retry", NULL);
    } else {
        event_commit(req, COLL_MATRIX, MATRIX_ID);
        /* History: one entry per role that changed. */
        mongoc_collection_t *hist = td_mongo_coll(c, COLL_PERM_HISTORY);
        for (int r = TD_ROLE_COUNT - 1; r >= 0; r--) {
            if (old->bits[r] == next->bits[r])
                continue;
            cJSON *b = td_matrix_role_json(old, r), *a = td_matrix_role_json(next, r);
            char *bt = cJSON_PrintUnformatted(b), *at = cJSON_PrintUnformatted(a);
            /* A failed parse leaves its bson_t destroyed (libbson): only the ones made
             * are destroyed below. Without them the history entry is skipped, logged:
             * the matrix itself is written. */
            bson_t bb, ab;
            bool have_b = bt != NULL && bson_init_from_json(&bb, bt, -1, &err);
            bool have_a = have_b && at != NULL && bson_init_from_json(&ab, at, -1, &err);
            if (!have_a) {
                td_log(TD_LOG_WARN, req->request_id, "permission history of %s not written: %s",
                       td_roles[r], bt != NULL && at != NULL ? err.message : "no memory");
            } else {
                bson_t *h = BCON_NEW(
                    "version", BCON_INT64(next->version), "role", BCON_UTF8(td_roles[r]), "action",
                    BCON_UTF8(action), "before", BCON_DOCUMENT(&bb), "after", BCON_DOCUMENT(&ab),
                    "changedBy", "{", "id", BCON_UTF8(req->principal.agent_id), "role",
                    BCON_UTF8(req->principal.role), "}", "changedAt", BCON_DATE_TIME(now));
                if (!mongoc_collection_insert_one(hist, h, NULL, NULL, &err))
                    td_log(TD_LOG_WARN, req->request_id, "permission history not written: %s",
                           err.message);
                bson_destroy(h);
            }
            if (have_b)
                bson_destroy(&bb);
            if (have_a)
                bson_destroy(&ab);
            free(bt);
            free(at);
            cJSON_Delete(b);
            cJSON_Delete(a);
        }
        mongoc_collection_destroy(hist);
        cache_matrix(next);
        cJSON *data = td_matrix_to_json(next);
        rc = td_ok(res, 200, data);
    }
    bson_destroy(&reply);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    bson_destroy(&update);
    bson_destroy(&roles_bson);
    return rc;
}

static int locked_violation(td_res *res, const td_matrix *next)
{
    uint32_t locked = td_matrix_locked_bits();
    int sa = td_role_rank("super_admin");
    if ((next->bits[sa] & locked) == locked)
        return TD_OK;
    cJSON *details = cJSON_CreateObject();
    cJSON_AddItemToObject(details, "permissions", names_json(locked & ~next->bits[sa]));
    td_fail(res, 422, "PERMISSION_LOCKED",
            "super_admin must keep the permissions needed to manage permissions and agents",
            details);
    return TD_EINVAL;
}

static int put_role(td_req *req, td_res *res)
{
    static const char *const fields[] = {"permissions", "version", NULL};
    if (need_super_admin(req, res) != TD_OK)
        return 0;
    int r = role_param(req, res);
    if (r < 0)
        return 0;
    cJSON *body = NULL;
    long long version = 0;
    bool has_version = false;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_int(body, "version", false, 1, 1LL << 52, res, &version, &has_version) != TD_OK)
        goto out;
    const cJSON *perms = cJSON_GetObjectItemCaseSensitive(body, "permissions");
    if (!cJSON_IsObject(perms) || perms->child == NULL) {
        td_fail_field(res, "permissions", "permissions must be an object of name: true/false");
        goto out;
    }
    mongoc_client_t *c = td_req_mongo(req);
    td_matrix old, next;
    int rc = c != NULL ? matrix_load(c, &old) : TD_EUNAVAIL;
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "The permission matrix is not available");
        goto out;
    }
    if (has_version && version != old.version) {
        td_fail(res, 409, "VERSION_CONFLICT",
                "The permission matrix was changed meanwhile; reload and retry", NULL);
        goto out;
    }
    next = old;
    const cJSON *item;
    cJSON_ArrayForEach(item, perms)
    {
        int p = td_permission_index(item->string);
        char field[96];
        /* fits: a word and at most 64 bytes of the name */
        TD_IGNORE(td_fmt(field, sizeof field, "permissions.%.*s",
                         (int)td_utf8_fit(item->string, 64), item->string));
        if (p < 0) {
            td_fail_field(res, field, "Unknown permission");
            goto out;
        }
        if (!cJSON_IsBool(item)) {
            td_fail_field(res, field, "A permission must be true or false");
            goto out;
        }
        if (cJSON_IsTrue(item))
            next.bits[r] |= 1u << p;
        else
            next.bits[r] &= ~(1u << p);
    }
    if (locked_violation(res, &next) != TD_OK)
        goto out;
    if (next.bits[r] == old.bits[r]) {
        td_ok(res, 200, td_matrix_to_json(&old));
        goto out;
    }
    save(req, res, &old, &next, "PERMISSIONS_UPDATED");
out:
    cJSON_Delete(body);
    return 0;
}

static int reset(td_req *req, td_res *res)
{
    if (need_super_admin(req, res) != TD_OK)
        return 0;
    if (req->body_len > 0) {
        cJSON *body = NULL;
        static const char *const none[] = {NULL};
        int rc = td_req_json(req, res, &body);
        if (rc == TD_OK)
            rc = td_check_fields(body, none, res);
        cJSON_Delete(body);
        if (rc != TD_OK)
            return 0;
    }
    mongoc_client_t *c = td_req_mongo(req);
    td_matrix old, next;
    int rc = c != NULL ? matrix_load(c, &old) : TD_EUNAVAIL;
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "The permission matrix is not available");
    td_matrix_defaults(&next);
    return save(req, res, &old, &next, "PERMISSIONS_RESET");
}

static const td_qp history_params[] = {
    {"role", TD_QP_IN, "role", td_roles},
    {NULL, 0, NULL, NULL},
};
static const char *const history_sorts[] = {"version", "changedAt", NULL};
static const td_list_spec history_spec = {history_params, history_sorts, history_sorts, "changedAt",
                                          -1};

static cJSON *history_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, NULL);
}

static int history(td_req *req, td_res *res)
{
    if (need_admin(req, res) != TD_OK)
        return 0;
    td_list l;
    if (td_list_parse(&history_spec, req->query, &l, res) != TD_OK) {
        td_list_free(&l);
        return 0;
    }
    td_list_answer(req, res, COLL_PERM_HISTORY, &l, history_json, NULL);
    td_list_free(&l);
    return 0;
}
