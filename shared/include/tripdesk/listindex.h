/*
 * An in-process copy of one collection for its list endpoint: answers the filters,
 * sorts and pages of the list query builder (query.h) from memory, because
 * FerretDB's SQLite backend evaluates every filter but one on _id by decoding the
 * whole collection (0.1-0.4 ms per document per query), which makes a filtered list
 * of 20,000 bookings take seconds. MongoDB itself stays the only source of truth:
 * the copy is loaded from it, and a caller that gets anything but TD_OK from
 * td_listindex_query asks the database as before.
 *
 * Freshness across daemons: a daemon puts every document it writes into its own
 * copy before it answers, and appends the document's id to a Redis stream
 * (<ns>:changes). Before answering a list, every daemon reads the stream entries it
 * has not seen yet and re-reads those documents by _id. So a write is in every
 * daemon's answer to any list request that starts after the write was answered.
 * The stream's marker key (<ns>:epoch) changes when somebody may have missed
 * entries (Redis lost its data, or a writer could not append while Redis was
 * down): every copy then reloads, answering from the database meanwhile. While
 * Redis is unreachable the copy answers as it is in a degraded mode
 * (td_listindex_query_degraded). A daemon that dies between its
 * MongoDB write and its append leaves the others stale for that document until the
 * periodic reload (TD_LISTINDEX_RELOAD_MS).
 *
 * Each document's filter and sort fields are extracted once, when it is put, and kept
 * column by column, so a query compares a few typed values per document instead of
 * walking BSON; its JSON is printed once too. Memory: the BSON and the JSON of every
 * document (measured: about 2.6 KB per document, RSS included).
 */
#ifndef TRIPDESK_LISTINDEX_H
#define TRIPDESK_LISTINDEX_H

#include "query.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>

#define TD_LISTINDEX_RELOAD_MS (30 * 60 * 1000)  /* backstop full reload */
#define TD_LISTINDEX_STREAM_KEEP_MS (60 * 60 * 1000)

typedef struct td_listindex td_listindex;

/* A copy of collection `coll`, keyed in Redis under `ns`, extracting the document
 * paths in `fields` (NULL-terminated: every path a list filter or sort names; `_id`
 * is always added). render gives a document as the API shows it; it is printed once,
 * when the document is put, and spliced into list answers as it is. */
int td_listindex_new(td_listindex **out, const char *coll, const char *ns,
                     const char *const *fields, td_doc_to_json render);
void td_listindex_free(td_listindex *ix);

/* Loads (or reloads) every document of the collection. */
int td_listindex_load(td_listindex *ix, mongoc_client_t *c);

/* Reloads when the periodic backstop is due or a reload was asked for (call from a
 * periodic task; cheap otherwise). */
void td_listindex_maintain(td_listindex *ix, mongoc_client_t *c);

/* After a successful write: puts the document as written (a newer `version` wins)
 * and tells the other daemons. */
void td_listindex_put(td_listindex *ix, const bson_t *doc);

/* Answers l (filter, sort, page) from memory: *items (caller owns; the rendered
 * documents as raw JSON items) and *total, like td_list_run. TD_EUNAVAIL when the
 * copy cannot answer right now (not loaded, Redis unreachable, reloading) and
 * TD_EINVAL for a filter it does not evaluate: ask the database. During the first
 * load TD_EAGAIN at once: the caller retries a little later without holding its
 * worker (td_req_retry_in), then answers 503 LIST_LOADING. */
int td_listindex_query(td_listindex *ix, mongoc_client_t *c, const td_list *l, cJSON **items,
                       int64_t *total);

/* The same, in the degraded mode used while the copy cannot catch up with the
 * other daemons because Redis is unreachable: the copy as
 * it is answers, with *degraded set, instead of TD_EUNAVAIL; it holds every write
 * of this daemon, and the others' from before the outage. A full database scan per
 * list would be slower than the gateway's deadline for a large collection. */
int td_listindex_query_degraded(td_listindex *ix, mongoc_client_t *c, const td_list *l,
                                cJSON **items, int64_t *total, bool *degraded);

/* The document with this _id as last written (without staged events) into *out
 * (bson_copy_to: out uninitialised or empty), after the same catch-up as a list.
 * TD_ENOTFOUND when the copy does not hold it, TD_EUNAVAIL when it cannot answer
 * now (loading included: no wait): ask the database in both cases. */
int td_listindex_get(td_listindex *ix, mongoc_client_t *c, const bson_oid_t *id, bson_t *out);

/* The parts of the above without Redis, for tools and tests: puts a document into
 * this copy only, and answers l from the copy as it is, without catching up. */
void td_listindex_put_local(td_listindex *ix, const bson_t *doc);
int td_listindex_select(td_listindex *ix, const td_list *l, cJSON **items, int64_t *total);

/* How many documents the copy holds (for logs and tests). */
size_t td_listindex_size(td_listindex *ix);

#endif
