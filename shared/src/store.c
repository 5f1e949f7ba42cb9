/* Domain writes with staged events. */
#include "tripdesk/store.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/bus.h"
#include "tripdesk/common.h"
#include "tripdesk/docjson.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/service.h"

#include <string.h>

cJSON *td_event_payload(const td_req *req, const char *action, const char *target_type,
                        const char *target_id, cJSON *before, cJSON *after)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "action", action);
    if (req->principal.present) {
        cJSON *actor = cJSON_AddObjectToObject(p, "actor");
        cJSON_AddStringToObject(actor, "id", req->principal.agent_id);
        cJSON_AddStringToObject(actor, "role", req->principal.role);
    } else {
        cJSON_AddNullToObject(p, "actor");
    }
    cJSON *target = cJSON_AddObjectToObject(p, "target");
    cJSON_AddStringToObject(target, "type", target_type);
    cJSON_AddStringToObject(target, "id", target_id);
    cJSON *changes = cJSON_AddObjectToObject(p, "changes");
    cJSON_AddItemToObject(changes, "before", before != NULL ? before : cJSON_CreateNull());
    cJSON_AddItemToObject(changes, "after", after != NULL ? after : cJSON_CreateNull());
    cJSON *meta = cJSON_AddObjectToObject(p, "metadata");
    cJSON_AddStringToObject(meta, "ip", req->client_ip);
    cJSON_AddStringToObject(meta, "userAgent", req->user_agent);
    cJSON_AddStringToObject(meta, "requestId", req->request_id);
    return p;
}

/* The observers of each collection's writes, registered at start (read-only after). */
static struct {
    const char *coll;
    td_store_write_fn fn;
    void *arg;
} observers[TD_STORE_OBSERVERS_MAX];
static int nobservers;

int td_store_on_write(const char *coll, td_store_write_fn fn, void *arg)
{
    if (nobservers == TD_STORE_OBSERVERS_MAX)
        return TD_ENOMEM;
    observers[nobservers].coll = coll;
    observers[nobservers].fn = fn;
    observers[nobservers++].arg = arg;
    return TD_OK;
}

void td_store_observers_clear(void)
{
    nobservers = 0;
}

/* Tells coll's observers about a document as written. */
static void written(const char *coll, const bson_t *doc)
{
    for (int i = 0; i < nobservers; i++)
        if (strcmp(observers[i].coll, coll) == 0)
            observers[i].fn(coll, doc, observers[i].arg);
}

/* Moves the events staged in doc (as written) to the outbox; on failure the sweeper
 * does it later. */
static void commit(td_req *req, const char *coll, const bson_t *doc)
{
    int rc = td_bus_commit_doc(td_service_bus(req->service), req->mongo, coll, doc);
    if (rc != TD_OK) {
        char hex[25];
        td_log(TD_LOG_WARN, req->request_id, "event of %s/%s left for the sweeper: %s", coll,
               td_bson_oid_hex(doc, "_id", hex), td_strerror(rc));
    }
}

int td_store_insert(td_req *req, const char *coll, bson_t *doc, const char *type,
                    const cJSON *payload)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return TD_EUNAVAIL;
    bson_oid_t id;
    if (!td_bson_oid(doc, "_id", &id))
        return TD_EINVAL;
    /* The event first, confirmed once the document is in (when this daemon is the
     * relay: no second write); else staged in the document and moved after. */
    td_bus *bus = td_service_bus(req->service);
    td_bus_prepared ev;
    int64_t t0 = td_mono_ms();
    bool prepared = td_bus_is_relay(bus);
    int rc = prepared ? td_bus_prepare(bus, c, coll, &id, type, payload, &ev)
                      : td_bus_stage(doc, type, payload, ev.id);
    if (rc != TD_OK)
        return rc;
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    bson_error_t err;
    if (!mongoc_collection_insert_one(cl, doc, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(cl);
    if (rc == TD_OK) {
        written(coll, doc);
        if (!prepared)
            commit(req, coll, doc);
        else if (td_mono_ms() - t0 < TD_BUS_PREPARED_GRACE_MS / 2)
            td_bus_confirm(bus, &ev, type, payload);
        else if (td_bus_confirm_late(bus, c, &ev, type, payload) != TD_OK)
            td_log(TD_LOG_WARN, req->request_id, "late event %s of %s left to the relay", ev.id,
                   coll);
    } else if (prepared && rc == TD_ECONFLICT) {
        td_bus_abandon(bus, c, &ev);
    }
    if (rc == TD_ECONFLICT && req->idem != NULL) {
        /* a retry of an Idempotency-Key create: its id was written by an earlier
         * attempt, which is the outcome */
        bson_t filter = BSON_INITIALIZER, found;
        BSON_APPEND_OID(&filter, "_id", &id);
        bson_init(&found);
        if (td_store_find_one(c, coll, &filter, &found) == TD_OK) {
            bson_destroy(doc);
            bson_copy_to(&found, doc);
            written(coll, doc);
            rc = TD_OK;
        }
        bson_destroy(&found);
        bson_destroy(&filter);
    }
    return rc;
}

void td_store_update_doc(const bson_t *update, int64_t now_ms, bson_t *full)
{
    /* The caller's $set and $inc are merged with ours (updatedAt, version): an
     * update document must not name an operator twice. */
    bson_t set, inc, callers;
    bson_t caller_set = BSON_INITIALIZER, caller_inc = BSON_INITIALIZER;
    bson_iter_t it;
    if (bson_iter_init(&it, update)) {
        while (bson_iter_next(&it)) {
            const char *op = bson_iter_key(&it);
            bool is_set = strcmp(op, "$set") == 0, is_inc = strcmp(op, "$inc") == 0;
            if ((is_set || is_inc) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
                const uint8_t *data;
                uint32_t len;
                bson_iter_document(&it, &len, &data);
                bson_init_static(&callers, data, len);
                bson_concat(is_set ? &caller_set : &caller_inc, &callers);
            } else {
                bson_append_iter(full, op, -1, &it);
            }
        }
    }
    BSON_APPEND_DOCUMENT_BEGIN(full, "$set", &set);
    bson_concat(&set, &caller_set);
    BSON_APPEND_DATE_TIME(&set, "updatedAt", now_ms);
    bson_append_document_end(full, &set);
    BSON_APPEND_DOCUMENT_BEGIN(full, "$inc", &inc);
    bson_concat(&inc, &caller_inc);
    BSON_APPEND_INT64(&inc, "version", 1);
    bson_append_document_end(full, &inc);
    bson_destroy(&caller_set);
    bson_destroy(&caller_inc);
}

int td_store_update(td_req *req, const char *coll, const bson_oid_t *id, int64_t version,
                    bson_t *update, const char *type, const cJSON *payload, bson_t *out)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return TD_EUNAVAIL;
    bson_t full = BSON_INITIALIZER;
    td_store_update_doc(update, td_now_ms(), &full);
    char ev[25];
    int rc = td_bus_stage_update(&full, type, payload, ev);
    if (rc != TD_OK) {
        bson_destroy(&full);
        return rc;
    }
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", id);
    if (version >= 0)
        BSON_APPEND_INT64(&filter, "version", version);
    bson_t doc;
    rc = td_mongo_find_and_modify(c, coll, &filter, &full, true, &doc);
    if (rc == TD_OK) {
        written(coll, &doc);
        commit(req, coll, &doc);
        if (out != NULL)
            bson_copy_to(&doc, out);
        bson_destroy(&doc);
    }
    bson_destroy(&filter);
    bson_destroy(&full);
    return rc;
}

int td_store_find_one(mongoc_client_t *c, const char *coll, const bson_t *filter, bson_t *out)
{
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_INT64(&opts, "limit", 1);
    td_mongo_time_opts(&opts); /* bounded by the request's deadline */
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, filter, &opts, NULL);
    const bson_t *doc;
    int rc = TD_ENOTFOUND;
    if (mongoc_cursor_next(cur, &doc)) {
        bson_copy_to(doc, out);
        rc = TD_OK;
    } else {
        bson_error_t err;
        if (mongoc_cursor_error(cur, &err))
            rc = td_mongo_rc(&err);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(cl);
    bson_destroy(&opts);
    return rc;
}
