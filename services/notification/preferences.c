/*
 * /api/notifications/preferences: which notification types an agent gets in-app
 * and which by email. One document per agent (its _id is the agent's), holding only
 * what the agent changed; everything else is the default: in-app for every type,
 * email for the types whose channel has it (PRD 3.2). SYSTEM messages always show
 * in-app (an administrator's message must reach everyone); their email can be
 * turned off. A type without email cannot be turned on by email (400).
 */
#include "notification.h"

#include <stdio.h>
#include <string.h>

static int get_mine(td_req *req, td_res *res);
static int put_mine(td_req *req, td_res *res);

const td_route preference_routes[] = {
    {"GET", "/api/notifications/preferences", get_mine, 0, NULL},
    {"PUT", "/api/notifications/preferences", put_mine, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static int load(mongoc_client_t *c, const char *agent, bson_t *out)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, agent);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    int rc = td_store_find_one(c, COLL_PREFERENCES, &filter, out);
    bson_destroy(&filter);
    return rc;
}

/* The stored choice types.<T>.<channel> of doc, or dflt. */
static bool choice(const bson_t *doc, ntype t, const char *channel, bool dflt)
{
    char path[64];
    TD_IGNORE(td_fmt(path, sizeof path, "types.%s.%s", ntypes[t].name, channel)); /* names: short */
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_BOOL(&it) ? bson_iter_bool(&it) : dflt;
}

static void decide(const bson_t *doc, ntype t, bool *in_app, bool *email)
{
    *in_app = t == NT_SYSTEM || doc == NULL || choice(doc, t, "inApp", true);
    *email = ntypes[t].email && (doc == NULL || choice(doc, t, "email", true));
}

int preferences_of(mongoc_client_t *c, const char *agent, ntype t, bool *in_app, bool *email)
{
    bson_t doc;
    bson_init(&doc);
    int rc = load(c, agent, &doc);
    decide(rc == TD_OK ? &doc : NULL, t, in_app, email);
    bson_destroy(&doc);
    return rc == TD_ENOTFOUND ? TD_OK : rc;
}

static cJSON *answer(const bson_t *doc)
{
    cJSON *arr = cJSON_CreateArray();
    for (int t = 0; t < NT_COUNT; t++) {
        bool in_app, email;
        decide(doc, (ntype)t, &in_app, &email);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", ntypes[t].name);
        cJSON_AddBoolToObject(o, "inApp", in_app);
        cJSON_AddBoolToObject(o, "email", email);
        cJSON_AddBoolToObject(o, "emailAvailable", ntypes[t].email);
        cJSON_AddBoolToObject(o, "inAppRequired", t == NT_SYSTEM);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "preferences", arr);
    return d;
}

static int get_mine(td_req *req, td_res *res)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    bson_t doc;
    bson_init(&doc);
    int rc = load(c, req->principal.agent_id, &doc);
    if (rc == TD_OK || rc == TD_ENOTFOUND)
        td_ok(res, 200, answer(rc == TD_OK ? &doc : NULL));
    else
        td_fail_rc(res, rc, NULL);
    bson_destroy(&doc);
    return 0;
}

static int bad(td_res *res, const char *field, const char *message)
{
    td_fail_field(res, field, message);
    return TD_EINVAL;
}

/* Checks one {inApp?, email?} entry of type t into set (types.<T>.<channel>). */
static int read_entry(const cJSON *e, ntype t, bson_t *set, td_res *res)
{
    static const char *const fields[] = {"inApp", "email", NULL};
    char field[64];
    TD_IGNORE(td_fmt(field, sizeof field, "preferences.%s",
                     ntypes[t].name)); /* sized for it: ids, numbers, names of ours */
    if (!cJSON_IsObject(e))
        return bad(res, field, "each type takes {inApp, email}");
    if (td_check_fields(e, fields, res) != TD_OK)
        return TD_EINVAL;
    const char *const channels[] = {"inApp", "email"};
    for (int k = 0; k < 2; k++) {
        bool v, present;
        if (td_get_bool(e, channels[k], false, res, &v, &present) != TD_OK)
            return TD_EINVAL;
        if (!present)
            continue;
        if (k == 0 && !v && t == NT_SYSTEM)
            return bad(res, field, "SYSTEM messages always show in-app");
        if (k == 1 && v && !ntypes[t].email)
            return bad(res, field, "this type is not sent by email");
        char path[64];
        TD_IGNORE(td_fmt(path, sizeof path, "types.%s.%s", ntypes[t].name,
                         channels[k])); /* sized for it: ids, numbers, names of ours */
        BSON_APPEND_BOOL(set, path, v);
    }
    return TD_OK;
}

/* PUT {preferences: {TYPE: {inApp?, email?}, ...}}: what is named changes, the rest
 * stays; answers the whole set as GET does. */
static int put_mine(td_req *req, td_res *res)
{
    static const char *const fields[] = {"preferences", NULL};
    cJSON *body = NULL;
    bson_t set = BSON_INITIALIZER;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK)
        goto out;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "preferences");
    if (!cJSON_IsObject(p) || p->child == NULL) {
        td_fail_field(res, "preferences", "preferences must name at least one type");
        goto out;
    }
    for (const cJSON *e = p->child; e != NULL; e = e->next) {
        int t = ntype_of(e->string);
        if (t < 0) {
            td_fail_field(res, "preferences", "unknown notification type");
            goto out;
        }
        if (read_entry(e, (ntype)t, &set, res) != TD_OK)
            goto out;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    bson_oid_t me;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    BSON_APPEND_DATE_TIME(&set, "updatedAt", td_now_ms());
    bson_t *filter = BCON_NEW("_id", BCON_OID(&me));
    bson_t update = BSON_INITIALIZER, doc;
    BSON_APPEND_DOCUMENT(&update, "$set", &set);
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_PREFERENCES);
    bson_error_t err;
    /* two first saves of one agent race on its _id: the loser updates the winner's */
    bool ok = mongoc_collection_update_one(cl, filter, &update, opts, NULL, &err) ||
              (td_mongo_rc(&err) == TD_ECONFLICT &&
               mongoc_collection_update_one(cl, filter, &update, NULL, NULL, &err));
    mongoc_collection_destroy(cl);
    bson_destroy(opts);
    bson_destroy(filter);
    bson_destroy(&update);
    if (!ok) {
        td_fail_rc(res, td_mongo_rc(&err), "preferences not saved");
        goto out;
    }
    bson_init(&doc);
    int rc = load(c, req->principal.agent_id, &doc);
    if (rc == TD_OK)
        td_ok(res, 200, answer(&doc));
    else
        td_fail_rc(res, rc, NULL);
    bson_destroy(&doc);
out:
    bson_destroy(&set);
    cJSON_Delete(body);
    return 0;
}
