/*
 * Booking conflict protection (PRD step 5). A customer may not have two live
 * bookings (not cancelled or refunded) at the same destination whose dates overlap;
 * identical ones are reported as duplicates. Checks and writes for one customer are
 * serialised by a lock document in MongoDB, so concurrent requests — also on
 * several booking daemons — cannot both pass the check. A lock left by a crashed
 * daemon expires after LOCK_TTL_MS.
 */
#include "booking.h"

#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

#define LOCK_TTL_MS 5000
#define LOCK_WAIT_MS 3000
#define LOCK_RETRY_MS 5

static void lock_id(const bson_oid_t *record, char *buf, size_t len)
{
    char hex[25];
    bson_oid_to_string(record, hex);
    snprintf(buf, len, "lock:%s", hex);
}

int record_lock(mongoc_client_t *c, const bson_oid_t *record, char token[25])
{
    char id[64];
    lock_id(record, id, sizeof id);
    td_new_id(token);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_LOCKS);
    int64_t until = td_mono_ms() + LOCK_WAIT_MS;
    int rc = TD_ETIMEDOUT;
    int delay = LOCK_RETRY_MS;
    while (td_mono_ms() < until) {
        int64_t now = td_now_ms();
        bson_t *doc = BCON_NEW("_id", BCON_UTF8(id), "token", BCON_UTF8(token), "expiresAt",
                               BCON_DATE_TIME(now + LOCK_TTL_MS));
        bson_error_t err;
        bool ok = mongoc_collection_insert_one(cl, doc, NULL, NULL, &err);
        bson_destroy(doc);
        if (ok) {
            rc = TD_OK;
            break;
        }
        if (td_mongo_rc(&err) != TD_ECONFLICT) {
            rc = td_mongo_rc(&err);
            break;
        }
        /* Held: take it over if its holder died (expired), else wait a little. */
        bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), "expiresAt", "{", "$lt",
                                  BCON_DATE_TIME(now), "}");
        bson_t *update = BCON_NEW("$set", "{", "token", BCON_UTF8(token), "expiresAt",
                                  BCON_DATE_TIME(now + LOCK_TTL_MS), "}");
        bson_t reply;
        ok = mongoc_collection_update_one(cl, filter, update, NULL, &reply, &err);
        bool taken = ok && td_bson_int(&reply, "modifiedCount", 0) > 0;
        bson_destroy(&reply);
        bson_destroy(filter);
        bson_destroy(update);
        if (taken) {
            rc = TD_OK;
            break;
        }
        td_sleep_ms(delay);
        if (delay < 40)
            delay *= 2;
    }
    mongoc_collection_destroy(cl);
    return rc;
}

void record_unlock(mongoc_client_t *c, const bson_oid_t *record, const char *token)
{
    char id[64];
    lock_id(record, id, sizeof id);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), "token", BCON_UTF8(token));
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_LOCKS);
    bson_error_t err;
    if (!mongoc_collection_delete_one(cl, filter, NULL, NULL, &err))
        td_warn("lock %s not released (%s); it expires by itself", id, err.message);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
}

int find_conflict(mongoc_client_t *c, const bson_oid_t *customer, const char *destination_key,
                  int64_t start_ms, int64_t end_ms, const bson_oid_t *exclude, conflict *found)
{
    bson_t filter = BSON_INITIALIZER, sub, arr;
    BSON_APPEND_OID(&filter, "customer", customer);
    BSON_APPEND_UTF8(&filter, "destinationKey", destination_key);
    BSON_APPEND_BOOL(&filter, "deleted", false);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "status", &sub);
    BSON_APPEND_ARRAY_BEGIN(&sub, "$nin", &arr);
    BSON_APPEND_UTF8(&arr, "0", "cancelled");
    BSON_APPEND_UTF8(&arr, "1", "refunded");
    bson_append_array_end(&sub, &arr);
    bson_append_document_end(&filter, &sub);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "tripDetails.startDate", &sub);
    BSON_APPEND_DATE_TIME(&sub, "$lte", end_ms);
    bson_append_document_end(&filter, &sub);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "tripDetails.endDate", &sub);
    BSON_APPEND_DATE_TIME(&sub, "$gte", start_ms);
    bson_append_document_end(&filter, &sub);
    if (exclude != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
        BSON_APPEND_OID(&sub, "$ne", exclude);
        bson_append_document_end(&filter, &sub);
    }
    bson_t doc;
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_BOOKINGS, &filter, &doc);
    if (rc == TD_OK) {
        memset(found, 0, sizeof *found);
        td_bson_oid_hex(&doc, "_id", found->id);
        const char *ref = td_bson_str(&doc, "bookingReference");
        snprintf(found->reference, sizeof found->reference, "%s", ref != NULL ? ref : "");
        bson_iter_t it, d;
        if (bson_iter_init(&it, &doc) &&
            bson_iter_find_descendant(&it, "tripDetails.startDate", &d) &&
            BSON_ITER_HOLDS_DATE_TIME(&d))
            found->start_ms = bson_iter_date_time(&d);
        if (bson_iter_init(&it, &doc) && bson_iter_find_descendant(&it, "tripDetails.endDate", &d) &&
            BSON_ITER_HOLDS_DATE_TIME(&d))
            found->end_ms = bson_iter_date_time(&d);
        found->exact = found->start_ms == start_ms && found->end_ms == end_ms;
    }
    bson_destroy(&doc);
    bson_destroy(&filter);
    return rc;
}

int conflict_response(td_res *res, const conflict *found)
{
    cJSON *details = cJSON_CreateObject();
    cJSON *cb = cJSON_AddObjectToObject(details, "conflictingBooking");
    cJSON_AddStringToObject(cb, "_id", found->id);
    cJSON_AddStringToObject(cb, "bookingReference", found->reference);
    char ts[TD_ISO_TIME_LEN];
    td_iso_time(found->start_ms, ts);
    cJSON_AddStringToObject(cb, "startDate", ts);
    td_iso_time(found->end_ms, ts);
    cJSON_AddStringToObject(cb, "endDate", ts);
    cJSON_AddStringToObject(details, "field", "tripDetails.startDate");
    char msg[200];
    if (found->exact)
        snprintf(msg, sizeof msg, "This booking duplicates %s (same customer, destination and dates)",
                 found->reference);
    else
        snprintf(msg, sizeof msg,
                 "The customer already has booking %s at this destination on overlapping dates",
                 found->reference);
    return td_fail(res, 409, found->exact ? "DUPLICATE_BOOKING" : "BOOKING_CONFLICT", msg,
                   details);
}
