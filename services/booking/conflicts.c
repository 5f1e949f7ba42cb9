/*
 * Booking conflict protection (PRD step 5). A customer may not have two live
 * bookings (not cancelled or refunded) at the same destination whose dates overlap;
 * identical ones are reported as duplicates.
 *
 * Each customer has a slot document per destination in booking_slots (_id:
 * "<customer id>:<destination key>") that lists the date ranges its live bookings
 * there hold. A write reserves its range in that document before it writes the
 * booking, with a compare-and-set on the document's `v` (or the insert of a new
 * document, whose _id is unique), so of concurrent requests — also on several
 * booking daemons — exactly one reserves an overlapping range; the others re-read
 * and get 409. Every lookup is by _id, so the check costs the same with 20 or
 * 20,000 bookings, and a booking at a destination new to the customer costs one
 * insert of a small document.
 *
 * The slot list may hold more than the live bookings, never less: a range is added
 * before its booking is written and removed only after a booking is cancelled,
 * refunded, deleted or moved. An entry older than SLOT_GRACE_MS that overlaps is
 * checked against its booking before it counts, and dropped when the booking does
 * not (or no longer) hold that range — what a crash between the two writes leaves.
 * Younger entries belong to writes still in flight and always count.
 *
 * record_lock serialises other multi-document writes (a lead's conversion).
 */
#include "booking.h"
#include "slots.h"

#include "tripdesk/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_TTL_MS 5000

static void lock_id(const bson_oid_t *record, char *buf, size_t len)
{
    char hex[25];
    bson_oid_to_string(record, hex);
    TD_IGNORE(td_fmt(buf, len, "lock:%s", hex)); /* fits: callers give 64 bytes for 29 */
}

/* One attempt, no waiting: a held lock is tried again by the framework after
 * LOCK_RETRY_MS (record_lock_retry), with the worker free meanwhile. */
int record_lock(mongoc_client_t *c, const bson_oid_t *record, char token[25])
{
    char id[64];
    lock_id(record, id, sizeof id);
    td_new_id(token);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_LOCKS);
    int64_t now = td_now_ms();
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(id), "token", BCON_UTF8(token), "expiresAt",
                           BCON_DATE_TIME(now + LOCK_TTL_MS));
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(cl, doc, NULL, NULL, &err);
    bson_destroy(doc);
    int rc = ok ? TD_OK : td_mongo_rc(&err);
    if (rc == TD_ECONFLICT) {
        /* Held: take it over if its holder died (expired), else TD_EAGAIN. */
        bson_t *filter =
            BCON_NEW("_id", BCON_UTF8(id), "expiresAt", "{", "$lt", BCON_DATE_TIME(now), "}");
        bson_t *update = BCON_NEW("$set", "{", "token", BCON_UTF8(token), "expiresAt",
                                  BCON_DATE_TIME(now + LOCK_TTL_MS), "}");
        bson_t reply;
        ok = mongoc_collection_update_one(cl, filter, update, NULL, &reply, &err);
        if (!ok)
            rc = td_mongo_rc(&err);
        else
            rc = td_bson_int(&reply, "modifiedCount", 0) > 0 ? TD_OK : TD_EAGAIN;
        bson_destroy(&reply);
        bson_destroy(filter);
        bson_destroy(update);
    }
    mongoc_collection_destroy(cl);
    return rc;
}

bool record_lock_retry(td_req *req)
{
    int delay = LOCK_RETRY_MS;
    for (int run = 1; run < req->attempt && delay < LOCK_RETRY_MAX_MS; run++)
        delay *= 2;
    return td_req_retry_in(req, delay < LOCK_RETRY_MAX_MS ? delay : LOCK_RETRY_MAX_MS,
                           LOCK_WAIT_MS);
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

/* A slot document that keeps changing under a reservation: tried this often in one
 * run of the handler (no sleeping), then the request is run again after
 * SLOT_RETRY_MS (slot_retry) until SLOT_WAIT_MS; then 409 CONCURRENT_UPDATE. */
#define SLOT_TRIES 4
#define SLOT_RETRY_MS 5
#define SLOT_WAIT_MS 1000
/* slot_settle runs after its booking was written and cannot be run again: a few
 * quick tries; an entry it could not drop is found stale later (SLOT_GRACE_MS). */
#define SETTLE_TRIES 20
/* Written once the slot documents were built from the bookings. (The first layout,
 * one document per customer with _id the customer's id and marker "_built", is
 * removed when this one is built.) */
#define SLOT_MARKER "_built_by_destination"

static void slot_list_free(slot_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int slot_push(slot_list *l, const slot_entry *e)
{
    if (td_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v, 8) != TD_OK)
        return TD_ENOMEM;
    l->v[l->n++] = *e;
    return TD_OK;
}

static void entry_from_bson(bson_iter_t *doc_it, slot_entry *e)
{
    memset(e, 0, sizeof *e);
    bson_iter_t f;
    if (!bson_iter_recurse(doc_it, &f))
        return;
    while (bson_iter_next(&f)) {
        const char *k = bson_iter_key(&f);
        if (strcmp(k, "b") == 0 && BSON_ITER_HOLDS_OID(&f))
            bson_oid_copy(bson_iter_oid(&f), &e->booking);
        /* fit: a slot document holds what slot_write wrote from entries of these sizes */
        else if (strcmp(k, "ref") == 0 && BSON_ITER_HOLDS_UTF8(&f))
            TD_IGNORE(td_fmt(e->reference, sizeof e->reference, "%s", bson_iter_utf8(&f, NULL)));
        else if (strcmp(k, "dest") == 0 && BSON_ITER_HOLDS_UTF8(&f))
            TD_IGNORE(td_fmt(e->dest, sizeof e->dest, "%s", bson_iter_utf8(&f, NULL)));
        else if (strcmp(k, "s") == 0 && BSON_ITER_HOLDS_DATE_TIME(&f))
            e->start_ms = bson_iter_date_time(&f);
        else if (strcmp(k, "e") == 0 && BSON_ITER_HOLDS_DATE_TIME(&f))
            e->end_ms = bson_iter_date_time(&f);
        else if (strcmp(k, "at") == 0 && BSON_ITER_HOLDS_DATE_TIME(&f))
            e->at_ms = bson_iter_date_time(&f);
    }
}

#define SLOT_KEY_MAX (25 + DEST_KEY_SIZE)

/* The _id of the customer's slot document at destination key dest. */
/* TD_EINVAL when dest is longer than a destination key (never one lower_into made
 * into DEST_KEY_SIZE): a slot document is never addressed by a cut key. */
static int slot_key(const bson_oid_t *customer, const char *dest, char key[SLOT_KEY_MAX])
{
    char hex[25];
    bson_oid_to_string(customer, hex);
    return td_fmt(key, SLOT_KEY_MAX, "%s:%s", hex, dest);
}

/* This daemon's copies of slot documents as it last read or wrote them (direct
 * mapped by _id; at most SLOT_CACHE of them). A copy saves only the read: the
 * write that follows is a compare-and-set on the version, which a copy made stale by
 * another daemon (or a dropped collection) fails, and the document is read again. */
#define SLOT_CACHE 8192

typedef struct {
    char key[SLOT_KEY_MAX];
    bool used;
    slot_list l;
} cached_slots;

static cached_slots slot_cache[SLOT_CACHE];
static pthread_mutex_t slot_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static cached_slots *cache_entry(const char *key)
{
    return &slot_cache[td_hash(key, strlen(key)) % SLOT_CACHE];
}

static bool list_copy_into(slot_list *out, const slot_list *in)
{
    memset(out, 0, sizeof *out);
    out->version = in->version;
    if (in->n == 0)
        return true;
    out->v = malloc(in->n * sizeof *out->v);
    if (out->v == NULL)
        return false;
    memcpy(out->v, in->v, in->n * sizeof *out->v);
    out->n = out->cap = in->n;
    return true;
}

/* A copy of the cached list of document key into *out; false when none is held. */
static bool cache_get(const char *key, slot_list *out)
{
    pthread_mutex_lock(&slot_cache_mu);
    cached_slots *e = cache_entry(key);
    bool held = e->used && strcmp(e->key, key) == 0 && list_copy_into(out, &e->l);
    pthread_mutex_unlock(&slot_cache_mu);
    return held;
}

/* Remembers l (the document as it now is in the database), or forgets the copy of
 * document key (l NULL). */
static void cache_set(const char *key, const slot_list *l)
{
    slot_list copy;
    bool ok = l != NULL && list_copy_into(&copy, l);
    pthread_mutex_lock(&slot_cache_mu);
    cached_slots *e = cache_entry(key);
    if (e->used && (ok || strcmp(e->key, key) == 0)) {
        slot_list_free(&e->l);
        e->used = false;
    }
    if (ok) {
        TD_IGNORE(td_fmt(e->key, sizeof e->key, "%s", key)); /* fits: slot_key's size */
        e->l = copy;
        e->used = true;
    }
    pthread_mutex_unlock(&slot_cache_mu);
}

static void cache_clear(void)
{
    pthread_mutex_lock(&slot_cache_mu);
    for (size_t i = 0; i < SLOT_CACHE; i++)
        if (slot_cache[i].used) {
            slot_list_free(&slot_cache[i].l);
            slot_cache[i].used = false;
        }
    pthread_mutex_unlock(&slot_cache_mu);
}

void slots_cache_free(void)
{
    cache_clear();
}

/* Reads slot document key (an empty list with version 0 when none). */
static int slot_read(mongoc_client_t *c, const char *key, slot_list *out)
{
    memset(out, 0, sizeof *out);
    bson_t filter = BSON_INITIALIZER, doc;
    BSON_APPEND_UTF8(&filter, "_id", key);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_SLOTS, &filter, &doc);
    bson_destroy(&filter);
    if (rc == TD_ENOTFOUND) {
        bson_destroy(&doc);
        return TD_OK;
    }
    if (rc == TD_OK) {
        out->version = td_bson_int(&doc, "v", 1);
        bson_iter_t it, arr;
        if (bson_iter_init_find(&it, &doc, "entries") && BSON_ITER_HOLDS_ARRAY(&it) &&
            bson_iter_recurse(&it, &arr))
            while (rc == TD_OK && bson_iter_next(&arr)) {
                if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
                    continue;
                slot_entry e;
                entry_from_bson(&arr, &e);
                rc = slot_push(out, &e);
            }
    }
    bson_destroy(&doc);
    if (rc != TD_OK)
        slot_list_free(out);
    return rc;
}

static void append_entries(bson_t *doc, const slot_list *l)
{
    bson_t arr, e;
    BSON_APPEND_ARRAY_BEGIN(doc, "entries", &arr);
    for (size_t i = 0; i < l->n; i++) {
        char key[24];
        TD_IGNORE(td_fmt(key, sizeof key, "%zu", i)); /* fits: one number */
        BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &e);
        BSON_APPEND_OID(&e, "b", &l->v[i].booking);
        BSON_APPEND_UTF8(&e, "ref", l->v[i].reference);
        BSON_APPEND_UTF8(&e, "dest", l->v[i].dest);
        BSON_APPEND_DATE_TIME(&e, "s", l->v[i].start_ms);
        BSON_APPEND_DATE_TIME(&e, "e", l->v[i].end_ms);
        BSON_APPEND_DATE_TIME(&e, "at", l->v[i].at_ms);
        bson_append_document_end(&arr, &e);
    }
    bson_append_array_end(doc, &arr);
}

/* Writes l as slot document key if nobody changed it since it was read
 * (compare-and-set on v). TD_ECONFLICT when somebody did: read again. */
static int slot_write(mongoc_client_t *c, const char *key, const slot_list *l)
{
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_SLOTS);
    bson_error_t err;
    int rc = TD_OK;
    if (l->version == 0) {
        bson_t doc = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&doc, "_id", key);
        BSON_APPEND_INT64(&doc, "v", 1);
        append_entries(&doc, l);
        if (!mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err))
            rc = td_mongo_rc(&err); /* TD_ECONFLICT: created meanwhile */
        bson_destroy(&doc);
    } else {
        bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
        BSON_APPEND_UTF8(&filter, "_id", key);
        BSON_APPEND_INT64(&filter, "v", l->version);
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        BSON_APPEND_INT64(&set, "v", l->version + 1);
        append_entries(&set, l);
        bson_append_document_end(&update, &set);
        if (!mongoc_collection_update_one(cl, &filter, &update, NULL, &reply, &err))
            rc = td_mongo_rc(&err);
        else if (td_bson_int(&reply, "matchedCount", 0) == 0)
            rc = TD_ECONFLICT;
        bson_destroy(&reply);
        bson_destroy(&filter);
        bson_destroy(&update);
    }
    mongoc_collection_destroy(cl);
    if (rc == TD_OK) {
        slot_list now = *l;
        now.version = l->version + 1; /* an inserted document has v 1 */
        cache_set(key, &now);
    } else {
        cache_set(key, NULL); /* stale, or unknown after a failure: read it again */
    }
    return rc;
}

static bool live_status(const char *status)
{
    return status != NULL && strcmp(status, "cancelled") != 0 && strcmp(status, "refunded") != 0;
}

/* An overlapping entry old enough to be a leftover: compares it with its booking.
 * *holds when the booking (live, not deleted) holds exactly this range; otherwise
 * the entry is stale, and when the booking is live with another range
 * *has_replacement and *replacement describes that range. TD_E* when the read fails. */
static int confirm_entry(mongoc_client_t *c, slot_entry *e, bool *holds, slot_entry *replacement,
                         bool *has_replacement)
{
    *holds = false;
    *has_replacement = false;
    bson_t filter = BSON_INITIALIZER, doc;
    BSON_APPEND_OID(&filter, "_id", &e->booking);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_BOOKINGS, &filter, &doc);
    bson_destroy(&filter);
    if (rc == TD_ENOTFOUND) {
        bson_destroy(&doc);
        return TD_OK;
    }
    if (rc != TD_OK) {
        bson_destroy(&doc);
        return rc;
    }
    bool deleted = td_bson_bool(&doc, "deleted", false);
    if (!deleted && live_status(td_bson_str(&doc, "status"))) {
        slot_entry cur = *e;
        const char *dest = td_bson_str(&doc, "destinationKey");
        const char *ref = td_bson_str(&doc, "bookingReference");
        /* a booking's own fields, written from buffers of these sizes; one that does not
         * fit is not a range this entry could be (cur stays different from *e) */
        if (td_fmt(cur.dest, sizeof cur.dest, "%s", dest != NULL ? dest : "") != TD_OK)
            cur.dest[0] = '\0';
        TD_IGNORE(td_fmt(cur.reference, sizeof cur.reference, "%s", ref != NULL ? ref : ""));
        cur.start_ms = td_bson_date(&doc, "tripDetails.startDate", 0);
        cur.end_ms = td_bson_date(&doc, "tripDetails.endDate", 0);
        if (strcmp(cur.dest, e->dest) == 0 && cur.start_ms == e->start_ms &&
            cur.end_ms == e->end_ms) {
            *holds = true;
        } else {
            *replacement = cur;
            *has_replacement = true;
        }
    }
    bson_destroy(&doc);
    return TD_OK;
}

static int slots_ready; /* set once slots_build has run against this database */

int slot_reserve(mongoc_client_t *c, const bson_oid_t *customer, const char *booking_hex,
                 const char *reference, const char *dest, int64_t start, int64_t end,
                 conflict *found)
{
    if (!__atomic_load_n(&slots_ready, __ATOMIC_ACQUIRE))
        return TD_EUNAVAIL; /* still building them at start */
    slot_entry mine;
    memset(&mine, 0, sizeof mine);
    bson_oid_init_from_string(&mine.booking, booking_hex);
    mine.start_ms = start;
    mine.end_ms = end;
    char key[SLOT_KEY_MAX];
    /* reference is one make_reference made; dest one lower_into made into DEST_KEY_SIZE */
    if (td_fmt(mine.reference, sizeof mine.reference, "%s", reference) != TD_OK ||
        td_fmt(mine.dest, sizeof mine.dest, "%s", dest) != TD_OK ||
        slot_key(customer, dest, key) != TD_OK)
        return TD_EINVAL;
    for (int attempt = 0; attempt < SLOT_TRIES; attempt++) {
        /* First from this daemon's copy; without one, as if the document did not
         * exist yet (a destination new to the customer, the usual case): then the
         * write is an insert, which fails on an existing document, read next. */
        slot_list l;
        int rc = TD_OK;
        if (attempt > 0)
            rc = slot_read(c, key, &l);
        else if (!cache_get(key, &l))
            memset(&l, 0, sizeof l);
        if (rc != TD_OK)
            return rc;
        int64_t now = td_now_ms();
        for (size_t i = 0; i < l.n && rc == TD_OK; i++) {
            slot_entry *e = &l.v[i];
            slot_verdict verdict = slot_judge(e, &mine, now);
            if (verdict == SLOT_FREE)
                continue;
            if (verdict == SLOT_HELD) {
                slot_conflict(e, start, end, found);
                rc = TD_ECONFLICT;
                break;
            }
            bool holds, replace;
            slot_entry repl;
            rc = confirm_entry(c, e, &holds, &repl, &replace);
            if (rc != TD_OK)
                break;
            if (holds) {
                slot_conflict(e, start, end, found);
                rc = TD_ECONFLICT;
                break;
            }
            /* stale: the booking no longer holds this range (it may hold another one
             * here; one at another destination is in that destination's document) */
            if (replace && strcmp(repl.dest, dest) == 0) {
                repl.at_ms = e->at_ms;
                *e = repl;
                i--; /* check the refreshed entry again */
            } else {
                l.v[i] = l.v[--l.n];
                i--;
            }
        }
        if (rc != TD_OK) {
            slot_list_free(&l);
            return rc;
        }
        mine.at_ms = now;
        if (slot_has_same(&l, &mine)) { /* the same range again (a retried update) */
            slot_list_free(&l);
            return TD_OK;
        }
        rc = slot_push(&l, &mine);
        if (rc == TD_OK)
            rc = slot_write(c, key, &l);
        slot_list_free(&l);
        if (rc != TD_ECONFLICT)
            return rc;
    }
    return TD_EAGAIN;
}

bool slot_retry(td_req *req, int rc)
{
    return rc == TD_EAGAIN && td_req_retry_in(req, SLOT_RETRY_MS, SLOT_WAIT_MS);
}

int slot_settle(mongoc_client_t *c, const bson_oid_t *customer, const bson_oid_t *booking,
                const char *at, const char *dest, int64_t start, int64_t end)
{
    char key[SLOT_KEY_MAX];
    if (slot_key(customer, at, key) != TD_OK)
        return TD_EINVAL; /* no slot of ours has such a key: nothing to settle */
    for (int attempt = 0; attempt < SETTLE_TRIES; attempt++) {
        slot_list l; /* read, not from the copy: an entry missing there may be here */
        int rc = slot_read(c, key, &l);
        if (rc != TD_OK)
            return rc;
        bool changed = slot_keep_only(&l, booking, dest, start, end);
        rc = changed ? slot_write(c, key, &l) : TD_OK;
        slot_list_free(&l);
        if (rc != TD_ECONFLICT)
            return rc;
        td_sleep_ms(1);
    }
    return TD_ETIMEDOUT;
}

/* Orders live bookings by customer and destination for slots_build. */
typedef struct {
    bson_oid_t customer;
    slot_entry e;
} built_entry;

static int by_document(const void *a, const void *b)
{
    const built_entry *x = a, *y = b;
    int c = bson_oid_compare(&x->customer, &y->customer);
    return c != 0 ? c : strcmp(x->e.dest, y->e.dest);
}

/* Deletes the slot documents of the first layout (per customer) and its marker. */
static int drop_first_layout(mongoc_client_t *c)
{
    bson_t *q = BCON_NEW("_id", "{", "$regex", BCON_UTF8("^([0-9a-f]{24}|_built)$"), "}");
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_SLOTS);
    bson_error_t err;
    bool ok = mongoc_collection_delete_many(cl, q, NULL, NULL, &err);
    mongoc_collection_destroy(cl);
    bson_destroy(q);
    return ok ? TD_OK : td_mongo_rc(&err);
}

int slots_build(mongoc_client_t *c)
{
    bson_t filter = BSON_INITIALIZER, doc;
    BSON_APPEND_UTF8(&filter, "_id", SLOT_MARKER);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_SLOTS, &filter, &doc);
    bson_destroy(&filter);
    bson_destroy(&doc);
    if (rc == TD_OK)
        __atomic_store_n(&slots_ready, 1, __ATOMIC_RELEASE);
    if (rc != TD_ENOTFOUND)
        return rc; /* built already (TD_OK), or the database failed */
    cache_clear();
    rc = drop_first_layout(c);
    if (rc != TD_OK)
        return rc;
    /* Bookings written before slot documents existed: one pass over them. */
    bson_t *q = BCON_NEW("deleted", BCON_BOOL(false), "status", "{", "$nin", "[",
                         BCON_UTF8("cancelled"), BCON_UTF8("refunded"), "]", "}");
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, q, NULL, NULL);
    built_entry *all = NULL;
    size_t n = 0, cap = 0;
    const bson_t *b;
    rc = TD_OK;
    while (rc == TD_OK && mongoc_cursor_next(cur, &b)) {
        bson_oid_t customer;
        if (!td_bson_oid(b, "customer", &customer))
            continue;
        if ((rc = td_grow((void **)&all, &cap, n, sizeof *all, 256)) != TD_OK)
            break;
        built_entry *be = &all[n++];
        memset(be, 0, sizeof *be);
        be->customer = customer;
        td_bson_oid(b, "_id", &be->e.booking);
        const char *dest = td_bson_str(b, "destinationKey");
        const char *ref = td_bson_str(b, "bookingReference");
        if (td_fmt(be->e.dest, sizeof be->e.dest, "%s", dest != NULL ? dest : "") != TD_OK ||
            td_fmt(be->e.reference, sizeof be->e.reference, "%s", ref != NULL ? ref : "") !=
                TD_OK) {
            /* not written by this service (its keys fit): never slotted under a cut key */
            td_warn("booking with an over-long destination key or reference: no slot kept");
            n--;
            continue;
        }
        be->e.start_ms = td_bson_date(b, "tripDetails.startDate", 0);
        be->e.end_ms = td_bson_date(b, "tripDetails.endDate", 0);
        be->e.at_ms = 0;
    }
    bson_error_t err;
    if (rc == TD_OK && mongoc_cursor_error(cur, &err))
        rc = td_mongo_rc(&err);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(cl);
    bson_destroy(q);
    if (n > 0)
        qsort(all, n, sizeof *all, by_document);
    for (size_t i = 0; rc == TD_OK && i < n;) {
        slot_list l = {0};
        size_t j = i;
        while (rc == TD_OK && j < n && by_document(&all[j], &all[i]) == 0)
            rc = slot_push(&l, &all[j++].e);
        if (rc == TD_OK) {
            char key[SLOT_KEY_MAX];
            /* fits: e.dest is a DEST_KEY_SIZE buffer */
            TD_IGNORE(slot_key(&all[i].customer, all[i].e.dest, key));
            rc = slot_write(c, key, &l);
            if (rc == TD_ECONFLICT)
                rc = TD_OK; /* written by a daemon already keeping slots */
        }
        slot_list_free(&l);
        i = j;
    }
    free(all);
    if (rc == TD_OK) {
        bson_t *marker =
            BCON_NEW("_id", BCON_UTF8(SLOT_MARKER), "bookings", BCON_INT64((int64_t)n));
        cl = td_mongo_coll(c, COLL_SLOTS);
        if (!mongoc_collection_insert_one(cl, marker, NULL, NULL, &err) &&
            td_mongo_rc(&err) != TD_ECONFLICT)
            rc = td_mongo_rc(&err);
        mongoc_collection_destroy(cl);
        bson_destroy(marker);
        if (rc == TD_OK && n > 0)
            td_info("booking slots built from %zu live bookings", n);
    }
    if (rc == TD_OK)
        __atomic_store_n(&slots_ready, 1, __ATOMIC_RELEASE);
    return rc;
}

static int conflict_response(td_res *res, const conflict *found)
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
    /* fits: a reference of at most 31 bytes */
    if (found->exact)
        TD_IGNORE(td_fmt(msg, sizeof msg,
                         "This booking duplicates %s (same customer, destination and dates)",
                         found->reference));
    else
        TD_IGNORE(
            td_fmt(msg, sizeof msg,
                   "The customer already has booking %s at this destination on overlapping dates",
                   found->reference));
    return td_fail(res, 409, found->exact ? "DUPLICATE_BOOKING" : "BOOKING_CONFLICT", msg, details);
}

int slot_failed(td_res *res, int rc, const conflict *found)
{
    if (rc == TD_ECONFLICT)
        return conflict_response(res, found);
    if (rc == TD_ETIMEDOUT || rc == TD_EAGAIN)
        return td_fail(res, 409, "CONCURRENT_UPDATE",
                       "Other bookings for this customer kept being saved meanwhile; retry", NULL);
    return td_fail_rc(res, rc, NULL);
}
