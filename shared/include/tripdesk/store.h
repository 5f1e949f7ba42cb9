/*
 * Writing domain documents together with their events. Each write stages its
 * event inside the document it changes (see bus.h), so the change and the event
 * cannot be separated by a crash, then moves the event to the outbox.
 * Documents carry `version` (incremented by every update) and `updatedAt`.
 */
#ifndef TRIPDESK_STORE_H
#define TRIPDESK_STORE_H

#include "http.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>

/* The common event payload: {action, actor {id, role} | null, target {type, id},
 * changes {before, after}, metadata {ip, userAgent, requestId}}; before/after are
 * taken (NULL gives null). Callers add their resource snapshot. */
cJSON *td_event_payload(const td_req *req, const char *action, const char *target_type,
                        const char *target_id, cJSON *before, cJSON *after);

/* Inserts doc (with its _id) and the event `type` with payload (borrowed).
 * TD_ECONFLICT on a duplicate key. */
int td_store_insert(td_req *req, const char *coll, bson_t *doc, const char *type,
                    const cJSON *payload);

/* Applies update ($set, $inc, $unset, ... — but no $push, and neither updatedAt nor
 * version, which are added here) to the document with _id id, if its version is still `version` (or any, when version < 0),
 * adding $inc version, $set updatedAt and the event. *out (may be NULL) gets the
 * updated document. TD_ENOTFOUND when no document matched (gone or stale: the
 * caller tells which by re-reading). */
int td_store_update(td_req *req, const char *coll, const bson_oid_t *id, int64_t version,
                    bson_t *update, const char *type, const cJSON *payload, bson_t *out);

/* After every document td_store_insert or td_store_update writes to coll, before the
 * call returns: the list cache namespace cache_ns (a string constant; cache.h) is
 * invalidated and the document is put into the list copy ix (listindex.h; may be
 * NULL). Register at start, before requests; at most TD_STORE_WATCH_MAX collections. */
#define TD_STORE_WATCH_MAX 8
struct td_listindex;
int td_store_watch(const char *coll, const char *cache_ns, struct td_listindex *ix);

/* Finds one document; TD_ENOTFOUND when none. */
int td_store_find_one(mongoc_client_t *c, const char *coll, const bson_t *filter, bson_t *out);

#endif
