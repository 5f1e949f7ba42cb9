/*
 * Idempotency-Key for creates (and, later, payments): a client that does not know
 * whether a POST took effect (timeout, 5xx, a dropped connection) sends it again
 * with the same key and gets the first outcome instead of a second record.
 *
 * A key is scoped by (agent, method, route path): its record lives in the owning
 * service's database, collection TD_IDEM_COLL, under _id = SHA-256 of the scope and
 * the key (only _id reads are fast on FerretDB), and holds the request's
 * fingerprint, a state, a seed from which the create's document ids are derived
 * (td_req_new_oid), and once done the response. The framework runs it for routes
 * flagged TD_ROUTE_IDEMPOTENT (router.h):
 *   - first request: inserting the record is the claim; the handler runs;
 *   - same key, same body, done: the stored response again, Idempotent-Replayed;
 *   - same key, other body: 422 IDEMPOTENCY_KEY_REUSED;
 *   - same key while the first still runs (its lease): 409 IDEMPOTENCY_IN_PROGRESS;
 *   - the first never completed (crash, 5xx after the write): the retry takes the
 *     record over and runs the handler again with the same seed, so it makes the
 *     same ids; an insert whose id already exists then answers that document
 *     (td_store_insert), never a second one.
 * 5xx answers are not stored. Records expire TD_IDEM_RETENTION_MS after the claim.
 */
#ifndef TRIPDESK_IDEMPOTENCY_H
#define TRIPDESK_IDEMPOTENCY_H

#include "http.h"

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#define TD_IDEM_HEADER "Idempotency-Key"
#define TD_IDEM_REPLAYED_HEADER "Idempotent-Replayed"
#define TD_IDEM_KEY_MAX 255
#define TD_IDEM_COLL "idempotency"
#define TD_IDEM_RETENTION_MS (24LL * 3600 * 1000)
/* The first request's lease runs to its deadline plus this (a handler may finish a
 * little after the gateway gave up); a retry within it gets 409. */
#define TD_IDEM_LEASE_GRACE_MS 2000
/* Expired records are removed by buckets of this many ms (see idempotency.c). */
#define TD_IDEM_BUCKET_MS 60000LL
#define TD_IDEM_HEX_LEN 65 /* SHA-256 in hex and its NUL */

/* True when key is 1..TD_IDEM_KEY_MAX printable ASCII characters (0x20..0x7e). */
bool td_idem_key_valid(const char *key);

/* The record's _id: hex SHA-256 of agent, method, path and key (NUL-separated). */
void td_idem_record_id(const char *agent, const char *method, const char *path, const char *key,
                       char out[TD_IDEM_HEX_LEN]);

/* The request's fingerprint: hex SHA-256 of the raw query and the body. */
void td_idem_fingerprint(const char *query, const uint8_t *body, size_t len,
                         char out[TD_IDEM_HEX_LEN]);

/* The n-th document id of a request whose seed is seed: the seed itself for n = 0,
 * else the seed's timestamp and 8 bytes of SHA-256(seed, n). */
void td_idem_derive_oid(const bson_oid_t *seed, int n, bson_oid_t *out);

/* An ObjectId derived from a key (text): the first four bytes are time_ms in
 * seconds (ids sort about by that time, as made ones do), the other eight the start
 * of the key's SHA-256. The same key and time give the same id: what is made once
 * per key (one notification per event and recipient) is made once. */
void td_derive_oid(const char *key, int64_t time_ms, bson_oid_t *out);

/* A request's claim on its key (req->idem while the handler runs). */
typedef struct td_idem {
    char id[TD_IDEM_HEX_LEN];
    bson_oid_t seed;
    int next;         /* ids handed out so far */
    bson_oid_t token; /* this attempt's: the record is completed only by its holder */
    int64_t claimed;  /* ms: when the key was first claimed */
    bool rerun;       /* an earlier attempt may have written already */
} td_idem;

typedef enum { TD_IDEM_RUN = 0, TD_IDEM_ANSWERED } td_idem_outcome;

/* Validates key and claims it for req: TD_IDEM_RUN (st holds the claim, and
 * req->idem points at it) or TD_IDEM_ANSWERED (res holds the replay, the 4xx or a
 * 503 when the database is unreachable). */
td_idem_outcome td_idem_begin(td_req *req, td_res *res, const char *key, td_idem *st);

/* Completes the claim with the handler's response (a 5xx only releases it, so that a
 * retry runs again at once). Clears req->idem. */
void td_idem_finish(td_req *req, const td_res *res, td_idem *st);

/* A new document id for req: derived from its claim's seed when it has one (so a
 * retry makes the same ids in the same order), else a fresh ObjectId. */
void td_req_new_oid(td_req *req, bson_oid_t *oid);

/* Removes the records whose retention ended (a periodic task of each service that
 * flags routes TD_ROUTE_IDEMPOTENT; reads only _id-keyed documents). */
void td_idem_purge(mongoc_client_t *c);

#endif
