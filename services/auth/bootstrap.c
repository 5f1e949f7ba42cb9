/* First start: indexes, the permission matrix seeded from the built-in defaults,
 * and — on an empty agents collection — the super_admin from TRIPDESK_ADMIN_EMAIL /
 * TRIPDESK_ADMIN_PASSWORD. There is no built-in account. */
#include "auth.h"

#include "tripdesk/config.h"
#include "tripdesk/log.h"

#include <ctype.h>
#include <string.h>

static int indexes(mongoc_client_t *c)
{
    struct {
        const char *coll, *name;
        const char *k1;
        int d1;
        const char *k2;
        int d2;
        bool unique;
    } idx[] = {
        {COLL_AGENTS, "agent_email", "email", 1, NULL, 0, true},
        {COLL_AGENTS, "agent_status_created", "status", 1, "createdAt", -1, false},
        {COLL_AGENTS, "agent_role", "role", 1, NULL, 0, false},
        {COLL_AGENTS, "agent_revoked", "tokensRevokedAt", 1, NULL, 0, false},
        {COLL_REFRESH, "refresh_family", "familyId", 1, NULL, 0, false},
        {COLL_REFRESH, "refresh_agent", "agentId", 1, NULL, 0, false},
        {COLL_REVOKED, "revoked_expires", "expiresAt", 1, NULL, 0, false},
        {COLL_PERM_HISTORY, "history_changed", "changedAt", -1, NULL, 0, false},
    };
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        bson_t keys = BSON_INITIALIZER;
        BSON_APPEND_INT32(&keys, idx[i].k1, idx[i].d1);
        if (idx[i].k2 != NULL)
            BSON_APPEND_INT32(&keys, idx[i].k2, idx[i].d2);
        int rc = td_mongo_index(c, idx[i].coll, &keys, idx[i].name, idx[i].unique);
        bson_destroy(&keys);
        if (rc != TD_OK)
            return rc;
    }
    return TD_OK;
}

static int seed_matrix(mongoc_client_t *c)
{
    td_matrix m;
    td_matrix_defaults(&m);
    m.version = 1;
    cJSON *json = td_matrix_to_json(&m);
    cJSON *roles = cJSON_GetObjectItemCaseSensitive(json, "roles");
    char *text = cJSON_PrintUnformatted(roles);
    cJSON_Delete(json);
    bson_t roles_bson;
    bson_error_t err;
    if (text == NULL || !bson_init_from_json(&roles_bson, text, -1, &err)) {
        free(text);
        return TD_ENOMEM;
    }
    free(text);
    bson_t *doc = BCON_NEW("_id", BCON_UTF8("matrix"), "version", BCON_INT64(1), "roles",
                           BCON_DOCUMENT(&roles_bson), "updatedAt", BCON_DATE_TIME(td_now_ms()));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_MATRIX);
    int rc = TD_OK;
    if (mongoc_collection_insert_one(coll, doc, NULL, NULL, &err))
        td_info("permission matrix seeded from the built-in defaults");
    else if ((rc = td_mongo_rc(&err)) == TD_ECONFLICT)
        rc = TD_OK; /* already there */
    mongoc_collection_destroy(coll);
    bson_destroy(doc);
    bson_destroy(&roles_bson);
    return rc;
}

/* The first administrator's AGENT_REGISTERED (no request made it: actor null),
 * staged in its document so that the services that know agents from events (the
 * notification service) know it too; the sweeper relays it if the commit fails. */
static int stage_registered(bson_t *doc, const char *id)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "action", "AGENT_REGISTERED");
    cJSON_AddNullToObject(p, "actor");
    cJSON *target = cJSON_AddObjectToObject(p, "target");
    cJSON_AddStringToObject(target, "type", "agent");
    cJSON_AddStringToObject(target, "id", id);
    cJSON_AddItemToObject(p, "agent", agent_json(doc, NULL));
    char ev[25];
    int rc = td_bus_stage(doc, "AGENT_REGISTERED", p, ev);
    cJSON_Delete(p);
    return rc;
}

static int seed_admin(td_service *svc, mongoc_client_t *c)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_AGENTS);
    bson_t empty = BSON_INITIALIZER;
    bson_error_t err;
    int64_t n = mongoc_collection_count_documents(coll, &empty, NULL, NULL, NULL, &err);
    int rc = TD_OK;
    if (n < 0) {
        rc = td_mongo_rc(&err);
        goto out;
    }
    if (n > 0)
        goto out;
    const char *email = td_env_str(ENV_ADMIN_EMAIL, NULL);
    const char *password = td_env_str(ENV_ADMIN_PASSWORD, NULL);
    if (email == NULL || password == NULL) {
        td_warn("no agents yet and %s/%s not set: no super_admin was created", ENV_ADMIN_EMAIL,
                ENV_ADMIN_PASSWORD);
        goto out;
    }
    char lower[TD_EMAIL_MAX + 1];
    size_t i = 0;
    for (; email[i] != '\0' && i < TD_EMAIL_MAX; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    lower[i] = '\0';
    td_res res = {0};
    if (!td_valid_email(lower) || password_policy(password, lower, &res, "password") != TD_OK) {
        td_error("%s/%s are not a valid email and a policy-conforming password: no super_admin "
                 "was created",
                 ENV_ADMIN_EMAIL, ENV_ADMIN_PASSWORD);
        td_res_clear(&res);
        goto out;
    }
    char hash[128];
    if ((rc = password_hash(password, hash)) != TD_OK)
        goto out;
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_UTF8(&doc, "email", lower);
    BSON_APPEND_UTF8(&doc, "passwordHash", hash);
    BSON_APPEND_UTF8(&doc, "firstName", "Super");
    BSON_APPEND_UTF8(&doc, "lastName", "Admin");
    BSON_APPEND_UTF8(&doc, "phone", "");
    BSON_APPEND_UTF8(&doc, "agencyName", "TripDesk");
    BSON_APPEND_UTF8(&doc, "role", "super_admin");
    BSON_APPEND_UTF8(&doc, "status", "active");
    BSON_APPEND_INT64(&doc, "tokenVersion", 0);
    agent_search_text(&doc, lower, "Super", "Admin", "TripDesk");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_NULL(&doc, "lastLoginAt");
    BSON_APPEND_INT64(&doc, "version", 1);
    char hex[25];
    bson_oid_to_string(&oid, hex);
    if ((rc = stage_registered(&doc, hex)) != TD_OK) {
        bson_destroy(&doc);
        goto out;
    }
    if (mongoc_collection_insert_one(coll, &doc, NULL, NULL, &err)) {
        td_info("super_admin %s created", lower);
        directory_put(&doc); /* written outside td_store: no observer saw it */
        if (td_bus_commit_doc(td_service_bus(svc), c, COLL_AGENTS, &doc) != TD_OK)
            td_warn("the first administrator's event waits for the sweeper");
    } else if ((rc = td_mongo_rc(&err)) == TD_ECONFLICT)
        rc = TD_OK; /* another instance created it */
    bson_destroy(&doc);
out:
    bson_destroy(&empty);
    mongoc_collection_destroy(coll);
    return rc;
}

int auth_init_database(td_service *svc, mongoc_client_t *c)
{
    int rc = indexes(c);
    if (rc == TD_OK)
        rc = seed_matrix(c);
    if (rc == TD_OK)
        rc = seed_admin(svc, c);
    if (rc == TD_OK)
        matrix_publish(svc, c);
    return rc;
}
