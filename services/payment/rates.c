/*
 * Commission rates: a default per role and an override per agent, in basis points
 * (500 = 5 %), kept in one document (commission_rates, _id "current") with a
 * version; every accepted PUT writes the new version and keeps the old one in
 * commission_rates_history (_id "v<N>"). GET/PUT /api/commissions/rates need
 * canManageSettings; PUT takes the version it read (409 VERSION_CONFLICT otherwise).
 */
#include "payment.h"

#include "tripdesk/log.h"
#include "tripdesk/permissions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATES_ID "current"
#define RATE_MAX_BP 10000
#define AGENT_OVERRIDES_MAX 500

static int get_rates(td_req *req, td_res *res);
static int put_rates(td_req *req, td_res *res);

const td_route rate_routes[] = {
    {"GET", "/api/commissions/rates", get_rates, 0, MANAGE_SETTINGS},
    {"PUT", "/api/commissions/rates", put_rates, 0, MANAGE_SETTINGS},
    {NULL, NULL, NULL, 0, NULL},
};

/* Built-in defaults, used until somebody PUTs rates. */
static const int default_bp[TD_ROLE_COUNT] = {300, 500, 700, 0, 0};

static cJSON *defaults_json(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", 0);
    cJSON *roles = cJSON_AddObjectToObject(o, "roles");
    for (int i = 0; i < TD_ROLE_COUNT; i++)
        cJSON_AddNumberToObject(roles, td_roles[i], default_bp[i]);
    cJSON_AddObjectToObject(o, "agents");
    return o;
}

/* The rates in force as JSON {version, roles{role: bp}, agents{id: bp}}. */
static int rates_current(mongoc_client_t *c, cJSON **out)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(RATES_ID));
    bson_t doc;
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_RATES, filter, &doc);
    bson_destroy(filter);
    if (rc == TD_ENOTFOUND) {
        *out = defaults_json();
        rc = TD_OK;
    } else if (rc == TD_OK) {
        const char *hide[] = {"_id", NULL};
        *out = td_bson_to_json(&doc, hide);
    }
    bson_destroy(&doc);
    return rc;
}

int rate_for(mongoc_client_t *c, const char *agent, const char *role, int *bp, int64_t *version)
{
    cJSON *r;
    int rc = rates_current(c, &r);
    if (rc != TD_OK)
        return rc;
    const cJSON *a =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "agents"), agent);
    const cJSON *d =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "roles"), role);
    int rank = td_role_rank(role);
    *bp = cJSON_IsNumber(a)   ? a->valueint
          : cJSON_IsNumber(d) ? d->valueint
                              : default_bp[rank >= 0 ? rank : 1];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "version");
    *version = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
    cJSON_Delete(r);
    return TD_OK;
}

static int get_rates(td_req *req, td_res *res)
{
    mongoc_client_t *c = td_req_mongo(req);
    cJSON *r = NULL;
    int rc = c != NULL ? rates_current(c, &r) : TD_EUNAVAIL;
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    return td_ok(res, 200, r);
}

static bool valid_bp(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == (double)v->valueint && v->valueint >= 0 &&
           v->valueint <= RATE_MAX_BP;
}

/* Checks {version, roles, agents}: every role present, known agents' ids, rates
 * 0..10000 basis points. */
static int check_body(const cJSON *body, td_res *res, int64_t *version)
{
    static const char *const fields[] = {"version", "roles", "agents", NULL};
    long long v;
    bool present;
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_int(body, "version", true, 0, 1LL << 52, res, &v, &present) != TD_OK)
        return TD_EINVAL;
    *version = v;
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(body, "roles");
    if (!cJSON_IsObject(roles) || cJSON_GetArraySize(roles) != TD_ROLE_COUNT)
        return bad_field(res, "roles", "roles must give a rate for every role");
    for (const cJSON *r = roles->child; r != NULL; r = r->next)
        if (td_role_rank(r->string) < 0 || !valid_bp(r))
            return bad_field(res, "roles", "roles maps each role to basis points 0..10000");
    const cJSON *agents = cJSON_GetObjectItemCaseSensitive(body, "agents");
    if (agents != NULL &&
        (!cJSON_IsObject(agents) || cJSON_GetArraySize(agents) > AGENT_OVERRIDES_MAX))
        return bad_field(res, "agents", "agents must be an object of agent id: basis points");
    for (const cJSON *a = agents != NULL ? agents->child : NULL; a != NULL; a = a->next)
        if (!td_is_object_id(a->string) || !valid_bp(a))
            return bad_field(res, "agents", "agents maps agent ids to basis points 0..10000");
    return TD_OK;
}

static int put_rates(td_req *req, td_res *res)
{
    cJSON *body = NULL, *cur = NULL;
    int64_t version;
    bson_t doc = BSON_INITIALIZER, old;
    bson_init(&old);
    if (td_req_json(req, res, &body) != TD_OK || check_body(body, res, &version) != TD_OK)
        goto out;
    mongoc_client_t *c = td_req_mongo(req);
    int rc = c != NULL ? rates_current(c, &cur) : TD_EUNAVAIL;
    if (rc != TD_OK) {
        td_fail_rc(res, rc, NULL);
        goto out;
    }
    int64_t have = (int64_t)cJSON_GetObjectItemCaseSensitive(cur, "version")->valuedouble;
    if (version != have) {
        td_fail(res, 409, "VERSION_CONFLICT", "The rates were changed meanwhile; reload and retry",
                NULL);
        goto out;
    }
    cJSON *next = cJSON_CreateObject();
    cJSON_AddNumberToObject(next, "version", (double)(have + 1));
    cJSON_AddItemToObject(next, "roles",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(body, "roles"), true));
    const cJSON *agents = cJSON_GetObjectItemCaseSensitive(body, "agents");
    cJSON_AddItemToObject(next, "agents",
                          agents != NULL ? cJSON_Duplicate(agents, true) : cJSON_CreateObject());
    cJSON_AddStringToObject(next, "updatedBy", req->principal.agent_id);
    char *text = cJSON_PrintUnformatted(next);
    bson_error_t err;
    bson_t *parsed = text != NULL ? bson_new_from_json((const uint8_t *)text, -1, &err) : NULL;
    free(text);
    if (parsed == NULL) {
        cJSON_Delete(next);
        td_fail_rc(res, TD_ENOMEM, NULL);
        goto out;
    }
    BSON_APPEND_UTF8(&doc, "_id", RATES_ID);
    bson_concat(&doc, parsed);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", td_now_ms());
    bson_destroy(parsed);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_RATES);
    /* compare-and-set on the version read: the first version is an insert */
    bool ok;
    if (have == 0) {
        ok = mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err);
    } else {
        bson_t *filter = BCON_NEW("_id", BCON_UTF8(RATES_ID), "version", BCON_INT32((int32_t)have));
        bson_t reply;
        ok = mongoc_collection_replace_one(cl, filter, &doc, NULL, &reply, &err);
        if (ok && td_bson_int(&reply, "matchedCount", 0) != 1) {
            ok = false;
            bson_set_error(&err, MONGOC_ERROR_COLLECTION, 11000, "version changed");
        }
        bson_destroy(&reply);
        bson_destroy(filter);
    }
    mongoc_collection_destroy(cl);
    if (!ok) {
        cJSON_Delete(next);
        rc = td_mongo_rc(&err);
        if (rc == TD_ECONFLICT)
            td_fail(res, 409, "VERSION_CONFLICT",
                    "The rates were changed meanwhile; reload and retry", NULL);
        else
            td_fail_rc(res, rc, NULL);
        goto out;
    }
    /* the history keeps every version (best effort: the current one is written) */
    bson_t hist = BSON_INITIALIZER;
    char hid[32];
    TD_IGNORE(td_fmt(hid, sizeof hid, "v%lld",
                     (long long)have + 1)); /* sized for it: ids, numbers, names of ours */
    BSON_APPEND_UTF8(&hist, "_id", hid);
    bson_iter_t it;
    if (bson_iter_init(&it, &doc))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "_id") != 0)
                bson_append_iter(&hist, NULL, 0, &it);
    cl = td_mongo_coll(c, COLL_RATES_HISTORY);
    if (!mongoc_collection_insert_one(cl, &hist, NULL, NULL, &err))
        td_warn("commission rates %s not kept in the history: %s", hid, err.message);
    mongoc_collection_destroy(cl);
    bson_destroy(&hist);
    cJSON *payload = td_event_payload(req, "COMMISSION_RATES_UPDATED", "commission", RATES_ID, cur,
                                      cJSON_Duplicate(next, true));
    cur = NULL;
    if (td_bus_publish(td_service_bus(req->service), c, "COMMISSION_RATES_UPDATED", payload,
                       NULL) != TD_OK)
        td_warn("COMMISSION_RATES_UPDATED not published");
    cJSON_Delete(payload);
    td_ok(res, 200, next);
out:
    cJSON_Delete(body);
    cJSON_Delete(cur);
    bson_destroy(&doc);
    bson_destroy(&old);
    return 0;
}
