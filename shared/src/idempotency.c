/*
 * Idempotency keys: the claim, replay and takeover of a create's record (see
 * idempotency.h), and the retention of the records.
 *
 * Record: {_id: <hex SHA-256 of scope and key>, fp, state: "pending" | "done",
 *          seed: ObjectId, token: ObjectId (the attempt holding it), claimed,
 *          leaseUntil, expiresAt, status, body}.
 * Retention without filter scans (FerretDB reads only _id fast): each claim also
 * appends the record's _id to the bucket document "bucket:<claimed / BUCKET_MS>";
 * td_idem_purge walks the buckets whose records all ended their retention, in
 * order from the cursor document "purge", and deletes by _id what each lists (a
 * record claimed again since then is kept: its newer bucket lists it). A record read
 * after its expiry counts as absent even before the purge reaches it.
 */
#include "tripdesk/idempotency.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/common.h"
#include "tripdesk/docjson.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/service.h"
#include "tripdesk/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_PENDING "pending"
#define STATE_DONE "done"
#define CLAIM_TRIES 3
#define PURGE_CURSOR_ID "purge"
#define PURGE_BUCKETS_PER_RUN 120
#define BUCKET_ID_MAX 48

static void to_hex(const unsigned char *h, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * n] = '\0';
}

bool td_idem_key_valid(const char *key)
{
    if (key == NULL)
        return false;
    size_t n = 0;
    for (; key[n] != '\0'; n++)
        if ((unsigned char)key[n] < 0x20 || (unsigned char)key[n] > 0x7e || n >= TD_IDEM_KEY_MAX)
            return false;
    return n > 0;
}

/* SHA-256 of the NUL-separated parts (each part followed by a NUL, so no two
 * different part lists hash the same bytes). */
static void hash_parts(const char *const *parts, int n, char out[TD_IDEM_HEX_LEN])
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    for (int i = 0; i < n; i++)
        crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    crypto_hash_sha256_final(&st, h);
    to_hex(h, sizeof h, out);
}

void td_idem_record_id(const char *agent, const char *method, const char *path, const char *key,
                       char out[TD_IDEM_HEX_LEN])
{
    const char *parts[] = {agent != NULL ? agent : "", method, path, key};
    hash_parts(parts, 4, out);
}

void td_idem_fingerprint(const char *query, const uint8_t *body, size_t len,
                         char out[TD_IDEM_HEX_LEN])
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    const char *q = query != NULL ? query : "";
    crypto_hash_sha256_update(&st, (const unsigned char *)q, strlen(q) + 1);
    if (len > 0)
        crypto_hash_sha256_update(&st, body, len);
    crypto_hash_sha256_final(&st, h);
    to_hex(h, sizeof h, out);
}

void td_idem_derive_oid(const bson_oid_t *seed, int n, bson_oid_t *out)
{
    if (n == 0) {
        bson_oid_copy(seed, out);
        return;
    }
    unsigned char in[sizeof seed->bytes + sizeof n], h[crypto_hash_sha256_BYTES];
    memcpy(in, seed->bytes, sizeof seed->bytes);
    memcpy(in + sizeof seed->bytes, &n, sizeof n);
    crypto_hash_sha256(h, in, sizeof in);
    memcpy(out->bytes, seed->bytes, 4); /* the seed's creation time */
    memcpy(out->bytes + 4, h, sizeof out->bytes - 4);
}

void td_derive_oid(const char *key, int64_t time_ms, bson_oid_t *out)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    uint32_t secs = (uint32_t)(time_ms / 1000);
    out->bytes[0] = (uint8_t)(secs >> 24); /* big-endian, as in a made ObjectId */
    out->bytes[1] = (uint8_t)(secs >> 16);
    out->bytes[2] = (uint8_t)(secs >> 8);
    out->bytes[3] = (uint8_t)secs;
    memcpy(out->bytes + 4, h, sizeof out->bytes - 4);
}

void td_req_new_oid(td_req *req, bson_oid_t *oid)
{
    if (req->idem == NULL) {
        bson_oid_init(oid, NULL);
        return;
    }
    td_idem_derive_oid(&req->idem->seed, req->idem->next++, oid);
}

static int64_t bucket_of(int64_t ms)
{
    return ms / TD_IDEM_BUCKET_MS;
}

/* Lists the record in the bucket of its claim time, for the purge. */
static void add_to_bucket(mongoc_collection_t *cl, const char *id, int64_t claimed)
{
    char bid[BUCKET_ID_MAX];
    /* fits: a word and one 64-bit number */
    TD_IGNORE(td_fmt(bid, sizeof bid, "bucket:%lld", (long long)bucket_of(claimed)));
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(bid));
    bson_t *update = BCON_NEW("$push", "{", "ids", BCON_UTF8(id), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    bson_error_t err;
    bool ok = false;
    /* two first upserts of a bucket race on its _id: the loser retries as an update */
    for (int i = 0; i < 2 && !ok; i++)
        ok = mongoc_collection_update_one(cl, filter, update, opts, NULL, &err);
    if (!ok)
        td_warn("idempotency record %s not listed for its purge: %s", id, err.message);
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(opts);
}

/* The lease of an attempt: its deadline (the gateway's) plus a grace. */
static int64_t lease_of(const td_req *req, int64_t now)
{
    int64_t until = req->deadline_ms > now ? req->deadline_ms : now;
    return until + TD_IDEM_LEASE_GRACE_MS;
}

/* The fields of a fresh claim (st->seed, st->token already chosen). */
static void append_claim(bson_t *doc, const td_req *req, const char *fp, const bson_oid_t *token,
                         const td_idem *st, int64_t now)
{
    BSON_APPEND_UTF8(doc, "fp", fp);
    BSON_APPEND_UTF8(doc, "state", STATE_PENDING);
    BSON_APPEND_OID(doc, "seed", &st->seed);
    BSON_APPEND_OID(doc, "token", token);
    BSON_APPEND_DATE_TIME(doc, "claimed", now);
    BSON_APPEND_DATE_TIME(doc, "leaseUntil", lease_of(req, now));
    BSON_APPEND_DATE_TIME(doc, "expiresAt", now + TD_IDEM_RETENTION_MS);
}

/* Updates the record if its token is still `token`: TD_OK, TD_ENOTFOUND when
 * another attempt holds it now, or the database's error. */
static int cas(mongoc_collection_t *cl, const char *id, const bson_oid_t *token,
               const bson_t *update)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), "token", BCON_OID(token));
    bson_t reply;
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_update_one(cl, filter, update, NULL, &reply, &err))
        rc = td_mongo_rc(&err);
    else if (td_bson_int(&reply, "matchedCount", 0) == 0)
        rc = TD_ENOTFOUND;
    bson_destroy(&reply);
    bson_destroy(filter);
    return rc;
}

/* The stored response of a done record, sent again. */
static void replay(const bson_t *rec, td_res *res)
{
    uint32_t len = 0;
    bson_iter_t it;
    const char *body = bson_iter_init_find(&it, rec, "body") && BSON_ITER_HOLDS_UTF8(&it)
                           ? bson_iter_utf8(&it, &len)
                           : NULL;
    char *copy = body != NULL ? malloc((size_t)len + 1) : NULL;
    if (copy == NULL) {
        td_fail(res, 500, "INTERNAL_ERROR", "The stored response could not be read", NULL);
        return;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    free(res->body);
    res->body = copy;
    res->body_len = len;
    res->status = (int)td_bson_int(rec, "status", 200);
    td_res_header(res, TD_IDEM_REPLAYED_HEADER, "true");
}

static void in_progress(td_res *res, int64_t lease_until, int64_t now)
{
    char secs[24];
    int64_t wait = (lease_until - now + 999) / 1000;
    TD_IGNORE(td_fmt(secs, sizeof secs, "%lld", (long long)(wait > 0 ? wait : 1))); /* one number */
    td_res_header(res, "Retry-After", secs);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "header", TD_IDEM_HEADER);
    td_fail(res, 409, "IDEMPOTENCY_IN_PROGRESS",
            "A request with this Idempotency-Key is still being processed; retry later", details);
}

/* One look at the record: TD_OK when the caller now holds the claim, TD_EIO when
 * res was answered, TD_ECONFLICT to look again (the record changed meanwhile). */
static int claim_once(mongoc_collection_t *cl, td_req *req, td_res *res, const char *fp,
                      td_idem *st)
{
    int64_t now = td_now_ms();
    bson_oid_t token;
    bson_oid_init(&token, NULL);
    bson_oid_init(&st->seed, NULL);
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "_id", st->id);
    append_claim(&doc, req, fp, &token, st, now);
    bson_error_t err;
    int rc = mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err) ? TD_OK : td_mongo_rc(&err);
    bson_destroy(&doc);
    if (rc == TD_OK) {
        add_to_bucket(cl, st->id, now);
        bson_oid_copy(&token, &st->token);
        st->claimed = now;
        st->rerun = false;
        return TD_OK;
    }
    if (rc != TD_ECONFLICT) {
        td_fail_rc(res, rc, NULL);
        return TD_EIO;
    }
    /* the key is known: what became of its first request? */
    bson_t rec, *filter = BCON_NEW("_id", BCON_UTF8(st->id));
    bson_init(&rec);
    rc = td_store_find_one(td_req_mongo(req), TD_IDEM_COLL, filter, &rec);
    bson_destroy(filter);
    bson_oid_t held;
    if (rc == TD_ENOTFOUND || (rc == TD_OK && !td_bson_oid(&rec, "token", &held))) {
        bson_destroy(&rec);
        return TD_ECONFLICT; /* purged meanwhile: claim again */
    }
    if (rc != TD_OK) {
        bson_destroy(&rec);
        td_fail_rc(res, rc, NULL);
        return TD_EIO;
    }
    const char *state = td_bson_str(&rec, "state"), *stored_fp = td_bson_str(&rec, "fp");
    bool expired = td_bson_date(&rec, "expiresAt", 0) <= now;
    bson_t update = BSON_INITIALIZER, set;
    int out = TD_EIO;
    if (expired) {
        /* retention over: the key is new again */
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        append_claim(&set, req, fp, &token, st, now);
        bson_append_document_end(&update, &set);
        bson_t *unset =
            BCON_NEW("$unset", "{", "status", BCON_UTF8(""), "body", BCON_UTF8(""), "}");
        bson_concat(&update, unset);
        bson_destroy(unset);
        rc = cas(cl, st->id, &held, &update);
        if (rc == TD_OK) {
            add_to_bucket(cl, st->id, now);
            st->claimed = now;
            st->rerun = false;
            bson_oid_copy(&token, &st->token);
            out = TD_OK;
        } else if (rc == TD_ENOTFOUND) {
            out = TD_ECONFLICT;
        } else {
            td_fail_rc(res, rc, NULL);
        }
    } else if (stored_fp == NULL || strcmp(stored_fp, fp) != 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "header", TD_IDEM_HEADER);
        td_fail(res, 422, "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was used for a different request", details);
    } else if (state != NULL && strcmp(state, STATE_DONE) == 0) {
        replay(&rec, res);
    } else if (td_bson_date(&rec, "leaseUntil", 0) > now) {
        in_progress(res, td_bson_date(&rec, "leaseUntil", 0), now);
    } else {
        /* the first attempt never completed: run again with its seed */
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        BSON_APPEND_OID(&set, "token", &token);
        BSON_APPEND_DATE_TIME(&set, "leaseUntil", lease_of(req, now));
        bson_append_document_end(&update, &set);
        rc = cas(cl, st->id, &held, &update);
        if (rc == TD_OK && td_bson_oid(&rec, "seed", &st->seed)) {
            st->claimed = td_bson_date(&rec, "claimed", 0);
            st->rerun = true;
            bson_oid_copy(&token, &st->token);
            out = TD_OK;
        } else if (rc == TD_ENOTFOUND) {
            out = TD_ECONFLICT;
        } else if (rc == TD_OK) {
            td_fail(res, 500, "INTERNAL_ERROR", "The idempotency record has no seed", NULL);
        } else {
            td_fail_rc(res, rc, NULL);
        }
    }
    bson_destroy(&update);
    bson_destroy(&rec);
    return out;
}

td_idem_outcome td_idem_begin(td_req *req, td_res *res, const char *key, td_idem *st)
{
    memset(st, 0, sizeof *st);
    if (!td_idem_key_valid(key)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "header", TD_IDEM_HEADER);
        td_fail(res, 400, "INVALID_IDEMPOTENCY_KEY",
                "Idempotency-Key must be 1 to 255 printable ASCII characters", details);
        return TD_IDEM_ANSWERED;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_IDEM_ANSWERED;
    }
    char fp[TD_IDEM_HEX_LEN];
    td_idem_record_id(req->principal.agent_id, req->method, req->path, key, st->id);
    td_idem_fingerprint(req->query, req->body, req->body_len, fp);
    mongoc_collection_t *cl = td_mongo_coll(c, TD_IDEM_COLL);
    int rc = TD_ECONFLICT;
    for (int i = 0; i < CLAIM_TRIES && rc == TD_ECONFLICT; i++)
        rc = claim_once(cl, req, res, fp, st);
    mongoc_collection_destroy(cl);
    if (rc == TD_ECONFLICT) { /* the record kept changing under us */
        in_progress(res, td_now_ms(), td_now_ms());
        return TD_IDEM_ANSWERED;
    }
    if (rc != TD_OK)
        return TD_IDEM_ANSWERED;
    req->idem = st;
    return TD_IDEM_RUN;
}

void td_idem_finish(td_req *req, const td_res *res, td_idem *st)
{
    req->idem = NULL;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return; /* left pending: a retry after the lease runs again */
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    if (res->status >= 500) {
        /* not an outcome: a retry may run again at once */
        BSON_APPEND_DATE_TIME(&set, "leaseUntil", 0);
    } else {
        BSON_APPEND_UTF8(&set, "state", STATE_DONE);
        BSON_APPEND_INT32(&set, "status", res->status);
        bson_append_utf8(&set, "body", -1, res->body != NULL ? res->body : "",
                         res->body != NULL ? (int)res->body_len : 0);
        BSON_APPEND_DATE_TIME(&set, "completedAt", td_now_ms());
    }
    bson_append_document_end(&update, &set);
    mongoc_collection_t *cl = td_mongo_coll(c, TD_IDEM_COLL);
    int rc = cas(cl, st->id, &st->token, &update);
    mongoc_collection_destroy(cl);
    bson_destroy(&update);
    if (rc == TD_ENOTFOUND)
        td_log(TD_LOG_WARN, req->request_id, "idempotency record %.12s taken over by a retry",
               st->id);
    else if (rc != TD_OK)
        td_log(TD_LOG_WARN, req->request_id,
               "idempotency record %.12s not completed (%s): a retry runs the request again",
               st->id, td_strerror(rc));
}

/* Deletes the records bucket b lists that were claimed in it and have expired;
 * TD_OK when the bucket is done with. */
static int purge_bucket(mongoc_collection_t *cl, mongoc_client_t *c, int64_t b, int64_t now)
{
    char bid[BUCKET_ID_MAX];
    TD_IGNORE(td_fmt(bid, sizeof bid, "bucket:%lld", (long long)b)); /* a word and a number */
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(bid));
    bson_t bucket;
    bson_init(&bucket);
    int rc = td_store_find_one(c, TD_IDEM_COLL, filter, &bucket);
    bson_iter_t it, ids;
    if (rc == TD_OK && bson_iter_init_find(&it, &bucket, "ids") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &ids)) {
        while (rc == TD_OK && bson_iter_next(&ids)) {
            if (!BSON_ITER_HOLDS_UTF8(&ids))
                continue;
            bson_t *rf = BCON_NEW("_id", BCON_UTF8(bson_iter_utf8(&ids, NULL)));
            bson_t rec;
            bson_init(&rec);
            int frc = td_store_find_one(c, TD_IDEM_COLL, rf, &rec);
            /* claimed again after its expiry: a newer bucket lists it */
            if (frc == TD_OK && td_bson_date(&rec, "expiresAt", 0) <= now &&
                bucket_of(td_bson_date(&rec, "claimed", 0)) == b) {
                bson_error_t err;
                if (!mongoc_collection_delete_one(cl, rf, NULL, NULL, &err))
                    rc = td_mongo_rc(&err);
            } else if (frc != TD_OK && frc != TD_ENOTFOUND) {
                rc = frc;
            }
            bson_destroy(&rec);
            bson_destroy(rf);
        }
    }
    if (rc == TD_OK) {
        bson_error_t err;
        if (!mongoc_collection_delete_one(cl, filter, NULL, NULL, &err))
            rc = td_mongo_rc(&err);
    } else if (rc == TD_ENOTFOUND) {
        rc = TD_OK; /* no record was claimed in that minute */
    }
    bson_destroy(&bucket);
    bson_destroy(filter);
    return rc;
}

void td_idem_purge(mongoc_client_t *c)
{
    int64_t now = td_now_ms();
    /* buckets whose every record has ended its retention */
    int64_t last_due = bucket_of(now - TD_IDEM_RETENTION_MS) - 1;
    mongoc_collection_t *cl = td_mongo_coll(c, TD_IDEM_COLL);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(PURGE_CURSOR_ID));
    bson_t cursor;
    bson_init(&cursor);
    int rc = td_store_find_one(c, TD_IDEM_COLL, filter, &cursor);
    /* first run on this database: nothing older than the retention can exist
     * that was listed, except what a daemon claimed before a purge ever ran, which
     * starts one retention earlier */
    int64_t next = rc == TD_OK ? td_bson_int(&cursor, "next", last_due)
                               : bucket_of(now - 2 * TD_IDEM_RETENTION_MS);
    if (rc != TD_OK && rc != TD_ENOTFOUND)
        goto out;
    int done = 0;
    while (next <= last_due && done < PURGE_BUCKETS_PER_RUN &&
           purge_bucket(cl, c, next, now) == TD_OK) {
        next++;
        done++;
    }
    bson_t *update = BCON_NEW("$set", "{", "next", BCON_INT64(next), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    bson_error_t err;
    if (!mongoc_collection_update_one(cl, filter, update, opts, NULL, &err))
        td_warn("idempotency purge cursor not saved: %s", err.message);
    bson_destroy(update);
    bson_destroy(opts);
out:
    bson_destroy(&cursor);
    bson_destroy(filter);
    mongoc_collection_destroy(cl);
}
