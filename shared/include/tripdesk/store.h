/*
 * Writing domain documents together with their events. Each write stages its
 * event inside the document it changes (see bus.h), so the change and the event
 * cannot be separated by a crash, then moves the event to the outbox.
 * Documents carry `version` (incremented by every update) and `updatedAt`.
 */
#ifndef TRIPDESK_STORE_H
#define TRIPDESK_STORE_H

#include "common.h"

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
TD_MUST_CHECK int td_store_insert(td_req *req, const char *coll, bson_t *doc, const char *type,
                                  const cJSON *payload);

/* Applies update ($set, $inc, $unset, ... — but no $push, and neither updatedAt nor
 * version, which are added here) to the document with _id id, if its version is still `version` (or any, when version < 0),
 * adding $inc version, $set updatedAt and the event. *out (may be NULL) gets the
 * updated document. TD_ENOTFOUND when no document matched (gone or stale: the
 * caller tells which by re-reading). */
TD_MUST_CHECK int td_store_update(td_req *req, const char *coll, const bson_oid_t *id,
                                  int64_t version, bson_t *update, const char *type,
                                  const cJSON *payload, bson_t *out);

/* The update document td_store_update sends (before its staged event): update's
 * operators, its $set with updatedAt = now_ms and its $inc with version + 1 (each
 * operator once). full is initialised by the caller. */
void td_store_update_doc(const bson_t *update, int64_t now_ms, bson_t *full);

/* Write observers: after every document td_store_insert or td_store_update writes to
 * coll, before the call returns, fn(coll, doc, arg) is called with the document as
 * written (staged events included; borrowed for the call). A service registers what
 * it keeps in step with its writes (list copies, cache invalidation) at start, before
 * requests; at most TD_STORE_OBSERVERS_MAX registrations. td_store_observers_clear
 * forgets them all (tests, exit). */
#define TD_STORE_OBSERVERS_MAX 16
typedef void (*td_store_write_fn)(const char *coll, const bson_t *doc, void *arg);
TD_MUST_CHECK int td_store_on_write(const char *coll, td_store_write_fn fn, void *arg);
void td_store_observers_clear(void);

/* Finds one document; TD_ENOTFOUND when none. */
TD_MUST_CHECK int td_store_find_one(mongoc_client_t *c, const char *coll, const bson_t *filter,
                                    bson_t *out);

#endif
