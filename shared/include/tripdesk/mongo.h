/*
 * MongoDB access: one mongoc_client_pool_t per process, one database per service.
 * Works on MongoDB 7 and FerretDB 1.24 alike (see DESIGN.md for the subset).
 */
#ifndef TRIPDESK_MONGO_H
#define TRIPDESK_MONGO_H

#include "common.h"

#include <mongoc/mongoc.h>
#include <stdbool.h>

#define TD_MONGO_SELECT_TIMEOUT_MS 1000 /* fail fast when the server is down */
#define TD_MONGO_WAIT_QUEUE_MS 1000     /* fail fast when the pool is exhausted */
/* A server that accepted the connection but stopped answering (paused, stuck): any
 * one round trip waiting longer fails (503), so a request answers within 2 s and
 * the heartbeat's probe sees it down. TRIPDESK_MONGO_SOCKET_TIMEOUT_MS overrides. */
#define TD_MONGO_SOCKET_TIMEOUT_MS 1500
#define TD_MONGO_MAXTIME_CODE 50 /* server error MaxTimeMSExpired */
#define TD_MONGO_MAX_POOL 32

/* Creates the process's pool for MONGO_URI and database <prefix><service>. */
TD_MUST_CHECK int td_mongo_init(const char *service);

/* The level at which a message of mongo-c-driver is logged (td_mongo_init installs a
 * handler that writes them as JSON log lines), or -1 to drop it (trace). FerretDB
 * 1.24 has no `endSessions`: the driver's warning about it at shutdown is debug. */
int td_mongo_log_level(mongoc_log_level_t level, const char *message);
void td_mongo_cleanup(void);

/* Pops a client (never shared between threads); push it back when done. NULL
 * when the pool waited too long. */
mongoc_client_t *td_mongo_pop(void);
void td_mongo_push(mongoc_client_t *c);

/* A collection of this service's database; caller mongoc_collection_destroy's it. */
mongoc_collection_t *td_mongo_coll(mongoc_client_t *c, const char *name);

/* Reachability as last seen by the daemon's probe (heartbeat thread). While the
 * server is known to be down, requests fail at once instead of each waiting out
 * the server-selection timeout; the probe notices recovery within a heartbeat. */
void td_mongo_set_reachable(bool up);
bool td_mongo_reachable(void);

/* Pings the server; true when reachable. */
bool td_mongo_ping(mongoc_client_t *c);

/* Maps a driver error to a TD_E* code (duplicate key: TD_ECONFLICT, server
 * selection or network, socket timeouts included: TD_EUNAVAIL, maxTimeMS
 * expired: TD_EDEADLINE, otherwise TD_EIO). */
int td_mongo_rc(const bson_error_t *err);

/* Whether the server is FerretDB (its buildInfo says ferretdbVersion) into *yes;
 * asked once per process, then remembered. The error of the command when it could
 * not be asked (*yes false). */
int td_mongo_is_ferretdb(mongoc_client_t *c, bool *yes);

/* Adds maxTimeMS to the options of a find, aggregate, count or command run for a
 * request: the time left before the calling thread's request deadline
 * (td_deadline_current), at least 1. Nothing without a deadline (periodic tasks).
 * FerretDB 1.24 honours it on find, aggregate and count (docs/notes/stalls.md). */
void td_mongo_time_opts(bson_t *opts);

/* findAndModify of one document of coll matching filter with update; with
 * return_new the document as written, else as it was, into out (uninitialised;
 * may be NULL; the caller destroys it on TD_OK). TD_ENOTFOUND when the filter
 * matched nothing, else td_mongo_rc of the driver's error. */
TD_MUST_CHECK int td_mongo_find_and_modify(mongoc_client_t *c, const char *coll,
                                           const bson_t *filter, const bson_t *update,
                                           bool return_new, bson_t *out);

/* Creates an index (idempotent): keys is e.g. {"customer":1,"startDate":1}. On
 * FerretDB a non-unique index is dropped instead (see mongo.c): its SQLite backend
 * never reads one but updates it on every write. */
TD_MUST_CHECK int td_mongo_index(mongoc_client_t *c, const char *coll, const bson_t *keys,
                                 const char *name, bool unique);

#endif
