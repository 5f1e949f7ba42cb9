/* Event handling of the analytics service: BUS_PROBE events feed the probe
 * counter, every other event becomes an audit log entry (audit_entry.c). Every
 * handler is idempotent by event id: its effect is a document whose _id is the
 * event id. */
#include "analytics.h"

#include "tripdesk/common.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"

#include <string.h>

/* BUS_PROBE: records that the probe arrived, once. */
static int record_probe(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(ev->payload, "tag");
    if (!cJSON_IsString(tag))
        return TD_OK; /* malformed probe: nothing to record */
    bson_t *doc =
        BCON_NEW("_id", BCON_UTF8(ev->id), "tag", BCON_UTF8(tag->valuestring), "publisher",
                 BCON_UTF8(ev->publisher), "sequence", BCON_INT64((int64_t)ev->sequence),
                 "publishedAt", BCON_INT64(ev->time_ms), "receivedAt", BCON_INT64(td_now_ms()));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_BUS_PROBES);
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(coll, doc, NULL, NULL, &err);
    mongoc_collection_destroy(coll);
    bson_destroy(doc);
    if (ok)
        return TD_OK;
    int rc = td_mongo_rc(&err);
    if (rc != TD_ECONFLICT)
        return rc;
    /* Seen before: no second effect, but count the duplicate delivery so that
     * exactly-once delivery can be checked from outside. */
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(tag->valuestring));
    bson_t *update = BCON_NEW("$inc", "{", "duplicates", BCON_INT64(1), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    coll = td_mongo_coll(c, COLL_BUS_PROBE_STATS);
    bson_error_t uerr;
    if (!mongoc_collection_update_one(coll, filter, update, opts, NULL, &uerr))
        rc = td_mongo_rc(&uerr); /* the event is handled again: the count is not lost */
    else
        rc = TD_OK;
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(opts);
    return rc;
}

int on_event(const td_event *ev, mongoc_client_t *mongo, void *arg)
{
    (void)arg;
    if (strcmp(ev->type, "BUS_PROBE") == 0)
        return record_probe(ev, mongo);
    return audit_record(ev, mongo);
}

int init_database(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    bson_t keys = BSON_INITIALIZER;
    BSON_APPEND_INT32(&keys, "tag", 1);
    int rc = td_mongo_index(c, COLL_BUS_PROBES, &keys, "probe_tag", false);
    bson_destroy(&keys);
    if (rc == TD_OK)
        rc = audit_indexes(c);
    if (rc == TD_OK)
        rc = audit_model_decide(c);
    return rc;
}
