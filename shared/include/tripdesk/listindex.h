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
 * document, its columns and codes (measured: 1.9 KB per booking-like document,
 * tests/bench/listindex_bench.c; docs/performance.md). A reload builds the new table
 * beside the old one: twice that at its peak.
 */
#ifndef TRIPDESK_LISTINDEX_H
#define TRIPDESK_LISTINDEX_H

#include "common.h"

#include "query.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>

#define TD_LISTINDEX_RELOAD_MS ((int64_t)30 * 60 * 1000) /* backstop full reload */
#define TD_LISTINDEX_STREAM_KEEP_MS ((int64_t)60 * 60 * 1000)

typedef struct td_listindex td_listindex;

/* A copy of collection `coll`, keyed in Redis under `ns`, extracting the document
 * paths in `fields` (NULL-terminated: every path a list filter or sort names; `_id`
 * is always added). render gives a document as the API shows it; it is printed once,
 * when the document is put, and spliced into list answers as it is. */
TD_MUST_CHECK int td_listindex_new(td_listindex **out, const char *coll, const char *ns,
                                   const char *const *fields, td_doc_to_json render);
void td_listindex_free(td_listindex *ix);

/*
 * A copy with options, for a collection too big to keep whole (the audit trail):
 *   string_ids   _id is a 24-hex string (an event id), not an ObjectId; it is kept as
 *                the ObjectId of the same hex (same order), re-read as the string.
 *   columns_only no BSON per document: only the columns (their strings copied into
 *                one block per row) and, of the rendered JSON, at most json_bytes,
 *                the latest put or fetched first (first in, first out). A page's
 *                documents without JSON are read from the database by _id
 *                (td_listindex_query; td_listindex_select answers TD_EUNAVAIL then).
 *                td_listindex_get answers TD_EUNAVAIL: read by _id from the database.
 *   max_rows     the copy holds at most this many documents (0: no limit); a load
 *                of more fails, a put beyond it stops the copy (every query then
 *                TD_EUNAVAIL) until a reload fits: memory stays bounded.
 *   ext_*        a read model kept beside the table: ext_new(ext_arg) makes it with
 *                the copy, ext_add(ext, doc) is called once per document new to the
 *                table (not for a newer version of one it holds, nor again by a
 *                reload), under the table's write lock; ext_free frees it.
 *                ext_replace(ext, old, doc), if set, is called when a put replaces a
 *                document the table holds (same lock; not with columns_only, which
 *                keeps no old document): a model of changing documents takes the
 *                old one out and the new one in. td_listindex_ext_read reads it.
 *                Documents of a copy with a read model are never deleted (the audit
 *                trail, commissions).
 *
 * A load (the first, and every reload) puts the collection into the live table in
 * batches, then marks the rows it did not see as gone (skipped by every query and
 * read; a copy with a read model keeps them): the peak is one table plus a batch.
 */
typedef struct {
    bool string_ids;
    bool columns_only;
    size_t json_bytes;
    size_t max_rows;
    void *(*ext_new)(void *ext_arg);
    void (*ext_add)(void *ext, const bson_t *doc);
    void (*ext_free)(void *ext);
    void *ext_arg;
    void (*ext_replace)(void *ext, const bson_t *old, const bson_t *doc);
} td_listindex_opts;

TD_MUST_CHECK int td_listindex_new_opts(td_listindex **out, const char *coll, const char *ns,
                                        const char *const *fields, td_doc_to_json render,
                                        const td_listindex_opts *opts);

/* After the same readiness check and catch-up as td_listindex_query (same return
 * codes), calls fn(ext, arg) with the current table's read model under its read
 * lock: fn must not keep the pointer. */
TD_MUST_CHECK int td_listindex_ext_read(td_listindex *ix, mongoc_client_t *c,
                                        void (*fn)(const void *ext, void *arg), void *arg);

/* Approximate bytes the copy holds (columns, strings, JSON, hash), for logs. */
size_t td_listindex_bytes(td_listindex *ix);

/* Loads (or reloads) every document of the collection. */
/* A query before and during the first load answers TD_EAGAIN (a new copy counts as
 * loading until its first load ends; a failed load ends it, and the database then
 * answers until a load succeeds): the caller asks again every
 * TD_LIST_LOADING_POLL_MS without holding a worker (td_req_retry_in), for at most
 * TD_LIST_LOADING_WAIT_MS, then answers 503 LIST_LOADING. */
#define TD_LIST_LOADING_POLL_MS 50
#define TD_LIST_LOADING_WAIT_MS 3000

TD_MUST_CHECK int td_listindex_load(td_listindex *ix, mongoc_client_t *c);

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
TD_MUST_CHECK int td_listindex_query(td_listindex *ix, mongoc_client_t *c, const td_list *l,
                                     cJSON **items, int64_t *total);

/* The same, in the degraded mode used while the copy cannot catch up with the
 * other daemons because Redis is unreachable: the copy as
 * it is answers, with *degraded set, instead of TD_EUNAVAIL; it holds every write
 * of this daemon, and the others' from before the outage. A full database scan per
 * list would be slower than the gateway's deadline for a large collection. */
TD_MUST_CHECK int td_listindex_query_degraded(td_listindex *ix, mongoc_client_t *c,
                                              const td_list *l, cJSON **items, int64_t *total,
                                              bool *degraded);

/* The document with this _id as last written (without staged events) into *out
 * (bson_copy_to: out uninitialised or empty), after the same catch-up as a list.
 * TD_ENOTFOUND when the copy does not hold it, TD_EUNAVAIL when it cannot answer
 * now (loading included: no wait): ask the database in both cases. */
TD_MUST_CHECK int td_listindex_get(td_listindex *ix, mongoc_client_t *c, const bson_oid_t *id,
                                   bson_t *out);

/* The parts of the above without Redis, for tools and tests: puts a document into
 * this copy only, and answers l from the copy as it is, without catching up. */
void td_listindex_put_local(td_listindex *ix, const bson_t *doc);
TD_MUST_CHECK int td_listindex_select(td_listindex *ix, const td_list *l, cJSON **items,
                                      int64_t *total);

/* How many documents the copy holds (for logs and tests). */
size_t td_listindex_size(td_listindex *ix);

#endif
