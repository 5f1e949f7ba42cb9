/*
 * The lossless event bus (see tripdesk/bus.h for the protocol).
 *
 * Collections in the publishing service's database:
 *   outbox_pending {_id: eventId, type, time, payload, createdAt[, doc: {coll, id}]}
 *                  not yet sequenced; with `doc`, a prepared insert's event (below)
 *   outbox         {_id: seq (int64), eventId (unique), type, time, payload}
 *   bus_lease      {_id: "relay", holder, expiresAt}               one relay at a time
 * and in the subscribing service's database:
 *   bus_cursors    {_id: publisher, seq}                           last handled
 *
 * Sequences are gapless because a sequence exists only as an outbox _id, inserted
 * by the lease holder as max(_id)+1; a second relay racing it gets a duplicate key
 * and re-reads the maximum.
 */
#include "tripdesk/bus.h"

#include "event.pb-c.h"
#include "tripdesk/bsonpath.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLL_PENDING "outbox_pending"
#define COLL_OUTBOX "outbox"
#define COLL_LEASE "bus_lease"
#define COLL_CURSORS "bus_cursors"
#define LEASE_ID "relay"
#define MAX_TRACKED 16
#define TOPIC_MAX 96
#define RELAY_BATCH 200
#define REPLAY_POLL_MS 250
#define CURSOR_SAVE_MS 100
#define REPLAY_BLIND_MS 5000 /* see catch_up */
#define SUB_QUEUE 8192
#define CONFIRMED_BUCKETS 1024

/* A prepared event whose insert is in, waiting for the relay: in a hash set by id
 * (next) and in a queue in confirmation order (later). */
/* A prepared event waiting to be written to outbox_pending with others. */
struct prep_waiter {
    bson_t *doc;
    int rc;
    bool done;
    struct prep_waiter *next;
};
#define PREP_BATCH 256

struct confirmed {
    char id[25];
    bson_t *event; /* as an outbox_pending document: _id, type, time, payload */
    struct confirmed *next, *later;
};

typedef struct {
    char publisher[32];
    td_event_handler handler;
    void *arg;
    uint64_t last;    /* handled */
    uint64_t saved;   /* in bus_cursors */
    int64_t saved_at; /* monotonic ms */
    int loaded;
    int64_t last_catchup;
    int64_t last_asked; /* the last replay request sent (see catch_up) */
    int64_t last_live;  /* monotonic ms of the last live event from this publisher */
    nng_socket replay;
    int replay_open;  /* replay was opened (td_bus_start) */
    int replay_pipes; /* atomic: connected replay servers */
    char stall[160];  /* why its events wait, as last logged ("" while they flow) */
    int64_t stalled_at;
} subscription;

/* Which of the bus's threads started (td_bus_free joins those only). */
enum { THREAD_RELAY = 1, THREAD_REPLAY = 2, THREAD_SUB = 4 };

struct td_bus {
    char self[32];
    subscription subs[TD_SERVICE_COUNT];
    int nsubs;
    const char *tracked[MAX_TRACKED];
    int ntracked;

    pthread_t relay_thread, replay_thread, sub_thread;
    int started;
    int threads; /* THREAD_* bits */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kick, stop;

    char holder[25];
    int leader;                   /* atomic; written by the relay thread */
    pthread_mutex_t confirmed_mu; /* prepared events whose insert is in */
    struct confirmed *confirmed[CONFIRMED_BUCKETS];
    struct confirmed *first, *last; /* the same, oldest first */
    pthread_mutex_t prep_mu;        /* prepared events written together (group_insert) */
    pthread_cond_t prep_cv;
    struct prep_waiter *prep_head, *prep_tail;
    int prep_writing;
    int pending_dirty; /* atomic: outbox_pending got an event the relay must read */
    uint64_t last_seq; /* written by the relay thread (atomically), read by replay */
    int indexes_done;  /* relay thread only */
    nng_socket pub;    /* relay thread only */
    int pub_open;
    nng_socket sub; /* opened by td_bus_start, then subscriber thread only */
    int sub_open;
    /* TRIPDESK_TEST_RELAY_DELAY_MS (tests only, read once): the relay holds every
     * event this long after its time, so a test can kill the daemon between a
     * write and the publication of its event. 0: no delay. */
    int64_t test_delay_ms;
};

int td_bus_new(td_bus **out, const char *self)
{
    td_bus *bus = calloc(1, sizeof *bus);
    if (bus == NULL)
        return TD_ENOMEM;
    /* a service name too long is a caller's bug: refused, never cut */
    int rc = td_fmt(bus->self, sizeof bus->self, "%s", self) == TD_OK ? TD_OK : TD_EINVAL;
    td_new_id(bus->holder);
    bus->test_delay_ms = td_env_int(TD_ENV_TEST_RELAY_DELAY_MS, 0, 0, TD_BUS_TEST_DELAY_MAX_MS);
    if (bus->test_delay_ms > 0)
        td_warn("bus: %s=%lld: events are published that late (a test setting)",
                TD_ENV_TEST_RELAY_DELAY_MS, (long long)bus->test_delay_ms);
    if (rc == TD_OK &&
        (pthread_mutex_init(&bus->mu, NULL) != 0 ||
         pthread_mutex_init(&bus->confirmed_mu, NULL) != 0 ||
         pthread_mutex_init(&bus->prep_mu, NULL) != 0 ||
         pthread_cond_init(&bus->prep_cv, NULL) != 0 || pthread_cond_init(&bus->cv, NULL) != 0))
        rc = TD_ENOMEM;
    if (rc != TD_OK) {
        /* not started: td_bus_free only destroys the locks, and a zeroed lock (one not
         * initialised yet) is glibc's static initialiser, which may be destroyed */
        td_bus_free(bus);
        return rc;
    }
    *out = bus;
    return TD_OK;
}

int td_bus_subscribe(td_bus *bus, const char *publisher, td_event_handler h, void *arg)
{
    if (bus->started || bus->nsubs == TD_SERVICE_COUNT || td_service_index(publisher) < 0)
        return TD_EINVAL;
    subscription *s = &bus->subs[bus->nsubs++];
    memset(s, 0, sizeof *s);
    /* fits: td_service_index knows it, a service name of ours */
    TD_IGNORE(td_fmt(s->publisher, sizeof s->publisher, "%s", publisher));
    s->handler = h;
    s->arg = arg;
    return TD_OK;
}

int td_bus_track_collection(td_bus *bus, const char *coll)
{
    if (bus->started || bus->ntracked == MAX_TRACKED)
        return TD_EINVAL;
    bus->tracked[bus->ntracked++] = coll;
    return TD_OK;
}

/* Waits up to ms for a kick or stop; returns true when stopping. */
static bool bus_wait(td_bus *bus, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&bus->mu);
    if (!bus->kick && !bus->stop)
        pthread_cond_timedwait(&bus->cv, &bus->mu, &ts);
    bus->kick = 0;
    bool stop = bus->stop;
    pthread_mutex_unlock(&bus->mu);
    return stop;
}

static bool bus_stopping(td_bus *bus)
{
    pthread_mutex_lock(&bus->mu);
    bool stop = bus->stop;
    pthread_mutex_unlock(&bus->mu);
    return stop;
}

static void bus_kick(td_bus *bus)
{
    pthread_mutex_lock(&bus->mu);
    bus->kick = 1;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
}

/* ---- Publishing: staging and the pending outbox ---------------------------------- */

/* Builds the staged/pending form of an event (without _id). */
static int event_fields(bson_t *doc, const char *id, const char *type, const cJSON *payload)
{
    char *json = cJSON_PrintUnformatted(payload);
    if (json == NULL)
        return TD_ENOMEM;
    int64_t now = td_now_ms();
    BSON_APPEND_UTF8(doc, "id", id);
    BSON_APPEND_UTF8(doc, "type", type);
    BSON_APPEND_INT64(doc, "time", now);
    BSON_APPEND_UTF8(doc, "payload", json);
    free(json);
    return TD_OK;
}

int td_bus_stage(bson_t *doc, const char *type, const cJSON *payload, char id_out[25])
{
    bson_t arr, ev;
    td_new_id(id_out);
    BSON_APPEND_ARRAY_BEGIN(doc, "_events", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &ev);
    int rc = event_fields(&ev, id_out, type, payload);
    bson_append_document_end(&arr, &ev);
    bson_append_array_end(doc, &arr);
    return rc;
}

int td_bus_stage_update(bson_t *update, const char *type, const cJSON *payload, char id_out[25])
{
    bson_t push, ev, rebuilt = BSON_INITIALIZER, callers;
    td_new_id(id_out);
    /* An update that has a $push of its own gets _events in that same $push (an
     * update document must not name an operator twice): rebuilt, then swapped in. */
    bson_iter_t it;
    bool merge = bson_iter_init_find(&it, update, "$push") && BSON_ITER_HOLDS_DOCUMENT(&it);
    bson_t *into = merge ? &rebuilt : update;
    if (merge && bson_iter_init(&it, update))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "$push") != 0)
                bson_append_iter(&rebuilt, bson_iter_key(&it), -1, &it);
    BSON_APPEND_DOCUMENT_BEGIN(into, "$push", &push);
    if (merge && bson_iter_init_find(&it, update, "$push")) {
        const uint8_t *data;
        uint32_t len;
        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&callers, data, len))
            bson_concat(&push, &callers);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&push, "_events", &ev);
    int rc = event_fields(&ev, id_out, type, payload);
    bson_append_document_end(&push, &ev);
    bson_append_document_end(into, &push);
    if (merge) {
        bson_reinit(update);
        bson_concat(update, &rebuilt);
    }
    bson_destroy(&rebuilt);
    return rc;
}

/* Inserts one event into outbox_pending; an existing one (same id) is success. */
static int insert_pending(mongoc_client_t *c, const char *id, const char *type, int64_t time,
                          const char *payload)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "_id", id);
    BSON_APPEND_UTF8(&doc, "type", type);
    BSON_APPEND_INT64(&doc, "time", time);
    BSON_APPEND_UTF8(&doc, "payload", payload);
    BSON_APPEND_INT64(&doc, "createdAt", td_now_ms());
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_PENDING);
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(coll, &doc, NULL, NULL, &err);
    mongoc_collection_destroy(coll);
    bson_destroy(&doc);
    if (!ok) {
        int rc = td_mongo_rc(&err);
        return rc == TD_ECONFLICT ? TD_OK : rc;
    }
    return TD_OK;
}

/* ---- Prepared inserts: the event written before its document ------------------- */

static struct confirmed **confirmed_bucket(td_bus *bus, const char *id)
{
    return &bus->confirmed[td_hash(id, strlen(id)) % CONFIRMED_BUCKETS];
}

static bool confirmed_has(td_bus *bus, const char *id)
{
    if (id == NULL)
        return false;
    pthread_mutex_lock(&bus->confirmed_mu);
    const struct confirmed *e = *confirmed_bucket(bus, id);
    while (e != NULL && strcmp(e->id, id) != 0)
        e = e->next;
    pthread_mutex_unlock(&bus->confirmed_mu);
    return e != NULL;
}

/* Appends e to the set and the queue (confirmed_mu held). */
static void confirmed_add(td_bus *bus, struct confirmed *e)
{
    struct confirmed **b = confirmed_bucket(bus, e->id);
    e->next = *b;
    *b = e;
    e->later = NULL;
    if (bus->last != NULL)
        bus->last->later = e;
    else
        bus->first = e;
    bus->last = e;
}

/* Takes up to max of the oldest confirmed events out of the set and the queue. */
static int confirmed_take(td_bus *bus, struct confirmed **out, int max)
{
    int n = 0;
    pthread_mutex_lock(&bus->confirmed_mu);
    while (n < max && bus->first != NULL) {
        struct confirmed *e = bus->first;
        bus->first = e->later;
        if (bus->first == NULL)
            bus->last = NULL;
        for (struct confirmed **p = confirmed_bucket(bus, e->id); *p != NULL; p = &(*p)->next)
            if (*p == e) {
                *p = e->next;
                break;
            }
        out[n++] = e;
    }
    pthread_mutex_unlock(&bus->confirmed_mu);
    return n;
}

static void confirmed_free(struct confirmed *e)
{
    bson_destroy(e->event);
    free(e);
}

/* Forgets every confirmation (the lease went elsewhere: the next relay finds those
 * events by their documents after the grace period). */
static void confirmed_clear(td_bus *bus)
{
    struct confirmed *batch[RELAY_BATCH];
    int n;
    while ((n = confirmed_take(bus, batch, RELAY_BATCH)) > 0)
        for (int i = 0; i < n; i++)
            confirmed_free(batch[i]);
}

/* Wakes the relay for an event written to outbox_pending, which it must read. */
static void bus_kick_pending(td_bus *bus)
{
    __atomic_store_n(&bus->pending_dirty, 1, __ATOMIC_RELAXED);
    bus_kick(bus);
}

/* Writes one prepared event to outbox_pending together with those other requests
 * are writing at the same moment: the first caller inserts everything queued in one
 * insert_many (unordered) while the others wait, then the next one takes what
 * queued up meanwhile. On FerretDB an insert of 50 documents costs about a third of
 * 50 single inserts. TD_OK when this event is in; else the write failed (the event
 * may or may not be there). */
static int group_insert(td_bus *bus, mongoc_client_t *c, bson_t *doc)
{
    struct prep_waiter me = {doc, TD_OK, false, NULL};
    pthread_mutex_lock(&bus->prep_mu);
    if (bus->prep_tail != NULL)
        bus->prep_tail->next = &me;
    else
        bus->prep_head = &me;
    bus->prep_tail = &me;
    while (!me.done) {
        if (bus->prep_writing) {
            pthread_cond_wait(&bus->prep_cv, &bus->prep_mu);
            continue;
        }
        bus->prep_writing = 1;
        struct prep_waiter *batch[PREP_BATCH];
        const bson_t *docs[PREP_BATCH];
        int n = 0;
        while (n < PREP_BATCH && bus->prep_head != NULL) {
            batch[n] = bus->prep_head;
            docs[n] = batch[n]->doc;
            bus->prep_head = batch[n]->next;
            n++;
        }
        if (bus->prep_head == NULL)
            bus->prep_tail = NULL;
        pthread_mutex_unlock(&bus->prep_mu);
        bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false)), reply;
        bson_error_t err;
        mongoc_collection_t *pend = td_mongo_coll(c, COLL_PENDING);
        bool ok = mongoc_collection_insert_many(pend, docs, (size_t)n, opts, &reply, &err);
        mongoc_collection_destroy(pend);
        bson_destroy(opts);
        int failed_all = ok ? TD_OK : td_mongo_rc(&err);
        bson_iter_t it, errs;
        /* a server's answer names the documents it refused; the others are in */
        if (!ok && bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
            bson_iter_recurse(&it, &errs)) {
            failed_all = TD_OK;
            while (bson_iter_next(&errs)) {
                bson_iter_t e;
                if (BSON_ITER_HOLDS_DOCUMENT(&errs) && bson_iter_recurse(&errs, &e) &&
                    bson_iter_find(&e, "index")) {
                    int64_t i = bson_iter_as_int64(&e);
                    if (i >= 0 && i < n)
                        batch[i]->rc = TD_EIO;
                }
            }
        }
        bson_destroy(&reply);
        pthread_mutex_lock(&bus->prep_mu);
        for (int i = 0; i < n; i++) {
            if (failed_all != TD_OK)
                batch[i]->rc = failed_all;
            batch[i]->done = true;
        }
        bus->prep_writing = 0;
        pthread_cond_broadcast(&bus->prep_cv);
    }
    pthread_mutex_unlock(&bus->prep_mu);
    return me.rc;
}

bool td_bus_is_relay(td_bus *bus)
{
    return __atomic_load_n(&bus->leader, __ATOMIC_RELAXED) != 0;
}

int td_bus_prepare(td_bus *bus, mongoc_client_t *c, const char *coll, const bson_oid_t *doc_id,
                   const char *type, const cJSON *payload, td_bus_prepared *out)
{
    char *json = cJSON_PrintUnformatted(payload);
    if (json == NULL)
        return TD_ENOMEM;
    td_new_id(out->id);
    out->time = td_now_ms();
    bson_t *doc =
        BCON_NEW("_id", BCON_UTF8(out->id), "type", BCON_UTF8(type), "time", BCON_INT64(out->time),
                 "payload", BCON_UTF8(json), "createdAt", BCON_INT64(out->time), "doc", "{", "coll",
                 BCON_UTF8(coll), "id", BCON_OID(doc_id), "}");
    free(json);
    int rc = group_insert(bus, c, doc);
    bson_destroy(doc);
    return rc;
}

void td_bus_confirm(td_bus *bus, const td_bus_prepared *ev, const char *type, const cJSON *payload)
{
    /* Not the relay any more (the lease moved since td_bus_prepare), or no memory:
     * the relay holding the lease sends it after the grace period. */
    bool relay = __atomic_load_n(&bus->leader, __ATOMIC_RELAXED);
    struct confirmed *e = relay ? calloc(1, sizeof *e) : NULL;
    char *json = e != NULL ? cJSON_PrintUnformatted(payload) : NULL;
    if (e != NULL && json != NULL) {
        TD_IGNORE(td_fmt(e->id, sizeof e->id, "%s", ev->id)); /* fits: td_new_id made it */
        e->event = BCON_NEW("_id", BCON_UTF8(ev->id), "type", BCON_UTF8(type), "time",
                            BCON_INT64(ev->time), "payload", BCON_UTF8(json));
        pthread_mutex_lock(&bus->confirmed_mu);
        confirmed_add(bus, e);
        pthread_mutex_unlock(&bus->confirmed_mu);
        e = NULL;
    }
    free(e);
    free(json);
    bus_kick(bus);
}

int td_bus_confirm_late(td_bus *bus, mongoc_client_t *c, const td_bus_prepared *ev,
                        const char *type, const cJSON *payload)
{
    const char *event_id = ev->id;
    /* Still pending and prepared: made a plain event, which the relay sends without
     * looking for its document (a drop of the prepared form then matches nothing). */
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(event_id));
    bson_t *update = BCON_NEW("$unset", "{", "doc", BCON_UTF8(""), "}");
    mongoc_collection_t *pend = td_mongo_coll(c, COLL_PENDING);
    bson_t reply;
    bson_error_t err;
    bool ok = mongoc_collection_update_one(pend, filter, update, NULL, &reply, &err);
    int64_t matched = ok ? td_bson_int(&reply, "matchedCount", 0) : 0;
    bson_destroy(&reply);
    mongoc_collection_destroy(pend);
    bson_destroy(filter);
    bson_destroy(update);
    int rc = ok ? TD_OK : td_mongo_rc(&err);
    if (rc == TD_OK && matched == 0) {
        /* Dropped meanwhile (or sent: the outbox's unique eventId keeps it single). */
        char *json = cJSON_PrintUnformatted(payload);
        rc = json != NULL ? insert_pending(c, event_id, type, ev->time, json) : TD_ENOMEM;
        free(json);
    }
    if (rc == TD_OK)
        bus_kick_pending(bus);
    return rc;
}

void td_bus_abandon(td_bus *bus, mongoc_client_t *c, const td_bus_prepared *ev)
{
    (void)bus;
    const char *event_id = ev->id;
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(event_id));
    mongoc_collection_t *pend = td_mongo_coll(c, COLL_PENDING);
    if (!mongoc_collection_delete_one(pend, filter, NULL, NULL, NULL))
        td_warn("bus: prepared event %s not removed; dropped after the grace period", event_id);
    mongoc_collection_destroy(pend);
    bson_destroy(filter);
}

int td_bus_publish(td_bus *bus, mongoc_client_t *c, const char *type, const cJSON *payload,
                   char *id_out)
{
    char id[25];
    td_new_id(id);
    char *json = cJSON_PrintUnformatted(payload);
    if (json == NULL)
        return TD_ENOMEM;
    int rc = insert_pending(c, id, type, td_now_ms(), json);
    free(json);
    if (rc == TD_OK) {
        if (id_out != NULL)
            memcpy(id_out, id, 25);
        bus_kick_pending(bus);
    }
    return rc;
}

/* Moves the staged events of one document (given as a BSON document holding
 * _id and _events) to outbox_pending, then pulls exactly those from the document. */
static int commit_doc(mongoc_client_t *c, const char *collname, const bson_t *doc)
{
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, doc, "_events") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return TD_OK;
    bson_t moved;
    bson_init(&moved);
    int rc = TD_OK, n = 0;
    while (rc == TD_OK && bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        const uint8_t *data;
        uint32_t len;
        bson_iter_document(&arr, &len, &data);
        bson_t ev;
        if (!bson_init_static(&ev, data, len))
            continue;
        const char *id = td_bson_str(&ev, "id"), *type = td_bson_str(&ev, "type");
        const char *payload = td_bson_str(&ev, "payload");
        int64_t time = td_bson_int(&ev, "time", 0);
        if (id == NULL || type == NULL || payload == NULL)
            continue;
        rc = insert_pending(c, id, type, time, payload);
        if (rc == TD_OK) {
            char key[16];
            TD_IGNORE(td_fmt(key, sizeof key, "%d", n++)); /* fits: one int */
            BSON_APPEND_DOCUMENT(&moved, key, &ev);
        }
    }
    if (n > 0) {
        bson_iter_t idit;
        bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, pull;
        if (bson_iter_init_find(&idit, doc, "_id"))
            bson_append_iter(&filter, "_id", -1, &idit);
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$pullAll", &pull);
        BSON_APPEND_ARRAY(&pull, "_events", &moved);
        bson_append_document_end(&update, &pull);
        mongoc_collection_t *coll = td_mongo_coll(c, collname);
        bson_error_t err;
        if (!mongoc_collection_update_one(coll, &filter, &update, NULL, NULL, &err)) {
            /* The events are in the outbox already; the sweeper pulls them later and
             * the outbox ignores them a second time. */
            td_warn("bus: pulling staged events from %s failed: %s", collname, err.message);
        }
        mongoc_collection_destroy(coll);
        bson_destroy(&filter);
        bson_destroy(&update);
    }
    bson_destroy(&moved);
    return rc;
}

int td_bus_commit(td_bus *bus, mongoc_client_t *c, const char *collname, const char *doc_id)
{
    bson_t filter = BSON_INITIALIZER;
    bson_oid_t oid;
    if (td_is_object_id(doc_id)) {
        bson_oid_init_from_string(&oid, doc_id);
        BSON_APPEND_OID(&filter, "_id", &oid);
    } else {
        BSON_APPEND_UTF8(&filter, "_id", doc_id);
    }
    bson_t opts = BSON_INITIALIZER, proj;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_events", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_collection_t *coll = td_mongo_coll(c, collname);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    int rc = TD_OK;
    if (mongoc_cursor_next(cur, &doc)) {
        rc = commit_doc(c, collname, doc);
    } else {
        bson_error_t err;
        if (mongoc_cursor_error(cur, &err))
            rc = td_mongo_rc(&err);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (rc == TD_OK)
        bus_kick_pending(bus);
    return rc;
}

int td_bus_commit_doc(td_bus *bus, mongoc_client_t *c, const char *coll, const bson_t *doc)
{
    int rc = commit_doc(c, coll, doc);
    if (rc == TD_OK)
        bus_kick_pending(bus);
    return rc;
}

/* Moves leftovers staged in tracked collections (after a crash) to the outbox. */
static void sweep(td_bus *bus, mongoc_client_t *c)
{
    for (int i = 0; i < bus->ntracked; i++) {
        bson_t filter = BSON_INITIALIZER, ex;
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_events.0", &ex);
        BSON_APPEND_BOOL(&ex, "$exists", true);
        bson_append_document_end(&filter, &ex);
        mongoc_collection_t *coll = td_mongo_coll(c, bus->tracked[i]);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
        const bson_t *doc;
        int moved = 0;
        while (mongoc_cursor_next(cur, &doc))
            if (commit_doc(c, bus->tracked[i], doc) == TD_OK)
                moved++;
        if (moved > 0)
            td_info("bus: swept staged events of %d %s documents", moved, bus->tracked[i]);
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);
        bson_destroy(&filter);
    }
}

/* ---- Relay: lease, sequencing, publishing ----------------------------------------- */

static void ensure_indexes(td_bus *bus, mongoc_client_t *c)
{
    if (bus->indexes_done)
        return;
    bson_t k1 = BSON_INITIALIZER, k2 = BSON_INITIALIZER;
    BSON_APPEND_INT32(&k1, "eventId", 1);
    BSON_APPEND_INT32(&k2, "createdAt", 1);
    if (td_mongo_index(c, COLL_OUTBOX, &k1, "outbox_event_id", true) == TD_OK &&
        td_mongo_index(c, COLL_PENDING, &k2, "pending_created", false) == TD_OK)
        bus->indexes_done = 1;
    bson_destroy(&k1);
    bson_destroy(&k2);
}

/* Takes or renews the relay lease; true when this instance holds it. */
static bool take_lease(td_bus *bus, mongoc_client_t *c)
{
    int64_t now = td_now_ms();
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_LEASE);
    bson_t *filter =
        BCON_NEW("_id", BCON_UTF8(LEASE_ID), "$or", "[", "{", "holder", BCON_UTF8(bus->holder), "}",
                 "{", "expiresAt", "{", "$lt", BCON_INT64(now), "}", "}", "]");
    bson_t *update = BCON_NEW("$set", "{", "holder", BCON_UTF8(bus->holder), "expiresAt",
                              BCON_INT64(now + TD_BUS_LEASE_MS), "}");
    bson_t reply;
    bson_error_t err;
    bool held = false;
    if (mongoc_collection_update_one(coll, filter, update, NULL, &reply, &err)) {
        held = td_bson_int(&reply, "matchedCount", 0) > 0;
        bson_destroy(&reply);
        if (!held) {
            bson_t *doc = BCON_NEW("_id", BCON_UTF8(LEASE_ID), "holder", BCON_UTF8(bus->holder),
                                   "expiresAt", BCON_INT64(now + TD_BUS_LEASE_MS));
            held = mongoc_collection_insert_one(coll, doc, NULL, NULL, &err);
            bson_destroy(doc);
        }
    }
    bson_destroy(filter);
    bson_destroy(update);
    mongoc_collection_destroy(coll);
    return held;
}

static void release_lease(td_bus *bus, mongoc_client_t *c)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_LEASE);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(LEASE_ID), "holder", BCON_UTF8(bus->holder));
    bson_error_t err;
    if (!mongoc_collection_delete_one(coll, filter, NULL, NULL, &err))
        td_warn("bus: relay lease not released (%s); it expires in %d ms", err.message,
                TD_BUS_LEASE_MS);
    bson_destroy(filter);
    mongoc_collection_destroy(coll);
}

/* Looks up the outbox entry with sequence seq (its _id): *found, and when doc is not
 * NULL a copy of it in *doc (initialised either way). TD_E* when the read failed. */
static int outbox_get(mongoc_collection_t *coll, uint64_t seq, bool *found, bson_t *doc)
{
    bson_t *filter = BCON_NEW("_id", BCON_INT64((int64_t)seq));
    bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
    const bson_t *d;
    int rc = TD_OK;
    *found = mongoc_cursor_next(cur, &d);
    if (doc != NULL) {
        if (*found)
            bson_copy_to(d, doc);
        else
            bson_init(doc);
    }
    bson_error_t err;
    if (!*found && mongoc_cursor_error(cur, &err))
        rc = td_mongo_rc(&err);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    bson_destroy(opts);
    return rc;
}

/* Highest sequence in the outbox (0 when empty); TD_E* on failure. Sequences run
 * gapless from 1, so an exponential then a binary search by _id finds it in about
 * 2 log2(n) lookups (a sort over the outbox would decode all of it on FerretDB). */
static int max_seq(mongoc_client_t *c, uint64_t *out)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_OUTBOX);
    uint64_t lo = 0, hi = 1; /* seq lo exists (0: by convention), hi unknown */
    bool found = true;
    int rc = TD_OK;
    while (rc == TD_OK && (rc = outbox_get(coll, hi, &found, NULL)) == TD_OK && found) {
        lo = hi;
        hi *= 2;
    }
    while (rc == TD_OK && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc = outbox_get(coll, mid, &found, NULL);
        if (found)
            lo = mid;
        else
            hi = mid;
    }
    mongoc_collection_destroy(coll);
    *out = lo;
    return rc;
}

/* Sends one sequenced event on the PUB socket ("publisher.TYPE\0" + Event). */
static void publish_event(td_bus *bus, const Tripdesk__Event *ev)
{
    if (!bus->pub_open)
        return;
    char topic[TOPIC_MAX];
    if (td_fmt(topic, sizeof topic, "%s.%s", ev->publisher, ev->type) != TD_OK)
        return;
    size_t tlen = strlen(topic);
    size_t plen = tripdesk__event__get_packed_size(ev);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, (size_t)tlen + 1 + plen) != 0)
        return;
    uint8_t *body = nng_msg_body(msg);
    memcpy(body, topic, (size_t)tlen + 1);
    tripdesk__event__pack(ev, body + tlen + 1);
    if (nng_sendmsg(bus->pub, msg, NNG_FLAG_NONBLOCK) != 0)
        nng_msg_free(msg); /* a subscriber catches up through replay */
}

/* Publishes one sequenced outbox entry (as written) on the PUB socket. */
static void publish_sequenced(td_bus *bus, const char *id, const char *type, int64_t time,
                              const char *payload, uint64_t seq)
{
    Tripdesk__Event ev = TRIPDESK__EVENT__INIT;
    ev.id = (char *)id;
    ev.type = (char *)type;
    ev.publisher = bus->self;
    ev.sequence = seq;
    ev.time_ms = time;
    ev.payload.data = (uint8_t *)payload;
    ev.payload.len = strlen(payload);
    publish_event(bus, &ev);
}

/* Sequences one pending event: outbox insert with _id = last+1, then pending delete. */
static int sequence_one(td_bus *bus, mongoc_client_t *c, const bson_t *pending)
{
    const char *id = td_bson_str(pending, "_id"), *type = td_bson_str(pending, "type");
    const char *payload = td_bson_str(pending, "payload");
    if (id == NULL || type == NULL || payload == NULL)
        return TD_EINVAL;
    int64_t time = td_bson_int(pending, "time", 0);
    uint64_t seq = bus->last_seq + 1;
    bson_t *doc =
        BCON_NEW("_id", BCON_INT64((int64_t)seq), "eventId", BCON_UTF8(id), "type", BCON_UTF8(type),
                 "time", BCON_INT64(time), "payload", BCON_UTF8(payload));
    mongoc_collection_t *outbox = td_mongo_coll(c, COLL_OUTBOX);
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(outbox, doc, NULL, NULL, &err);
    bson_destroy(doc);
    mongoc_collection_destroy(outbox);
    int rc = TD_OK;
    bool sequenced_now = ok;
    if (!ok) {
        rc = td_mongo_rc(&err);
        if (rc != TD_ECONFLICT)
            return rc;
        /* Either this event is already in the outbox (crash after insert) or another
         * relay used this sequence: find out which by the event id. */
        mongoc_collection_t *ob = td_mongo_coll(c, COLL_OUTBOX);
        bson_t *f = BCON_NEW("eventId", BCON_UTF8(id));
        int64_t n = mongoc_collection_count_documents(ob, f, NULL, NULL, NULL, &err);
        bson_destroy(f);
        mongoc_collection_destroy(ob);
        if (n < 0)
            return td_mongo_rc(&err);
        uint64_t top;
        if ((rc = max_seq(c, &top)) != TD_OK)
            return rc;
        __atomic_store_n(&bus->last_seq, top, __ATOMIC_RELAXED);
        if (n == 0)
            return TD_ECONFLICT; /* retry this event with the new maximum */
    } else {
        __atomic_store_n(&bus->last_seq, seq, __ATOMIC_RELAXED);
    }
    mongoc_collection_t *pend = td_mongo_coll(c, COLL_PENDING);
    bson_t *f = BCON_NEW("_id", BCON_UTF8(id));
    bson_error_t derr;
    /* left behind, it is found in the outbox by its id next time */
    if (!mongoc_collection_delete_one(pend, f, NULL, NULL, &derr))
        td_warn("bus: pending event %s not cleared: %s", id, derr.message);
    bson_destroy(f);
    mongoc_collection_destroy(pend);
    if (sequenced_now)
        publish_sequenced(bus, id, type, time, payload, seq);
    return TD_OK;
}

/* The common case in one round trip each: the batch's outbox entries inserted
 * together (one insert command), then the pending ones deleted by _id (one bulk
 * command). TD_ECONFLICT when an entry clashed (a crash left it in the outbox
 * already, or another relay took a sequence): the caller goes event by event. */
static int sequence_batch(td_bus *bus, mongoc_client_t *c, bson_t **pending, int n)
{
    uint64_t first = __atomic_load_n(&bus->last_seq, __ATOMIC_RELAXED) + 1;
    bson_t **docs = calloc((size_t)n, sizeof(bson_t *));
    if (docs == NULL)
        return TD_ENOMEM;
    int rc = TD_OK;
    for (int i = 0; i < n; i++) {
        const char *id = td_bson_str(pending[i], "_id"), *type = td_bson_str(pending[i], "type");
        const char *payload = td_bson_str(pending[i], "payload");
        if (id == NULL || type == NULL || payload == NULL) {
            rc = TD_EINVAL; /* the event-by-event path drops it */
            break;
        }
        docs[i] =
            BCON_NEW("_id", BCON_INT64((int64_t)(first + (uint64_t)i)), "eventId", BCON_UTF8(id),
                     "type", BCON_UTF8(type), "time",
                     BCON_INT64(td_bson_int(pending[i], "time", 0)), "payload", BCON_UTF8(payload));
    }
    mongoc_collection_t *outbox = td_mongo_coll(c, COLL_OUTBOX);
    bson_error_t err;
    if (rc == TD_OK &&
        !mongoc_collection_insert_many(outbox, (const bson_t **)docs, (size_t)n, NULL, NULL, &err))
        rc = td_mongo_rc(&err) == TD_ECONFLICT ? TD_ECONFLICT : td_mongo_rc(&err);
    mongoc_collection_destroy(outbox);
    for (int i = 0; i < n; i++)
        if (docs[i] != NULL)
            bson_destroy(docs[i]);
    free(docs);
    if (rc != TD_OK)
        return rc;
    __atomic_store_n(&bus->last_seq, first + (uint64_t)n - 1, __ATOMIC_RELAXED);
    mongoc_collection_t *pend = td_mongo_coll(c, COLL_PENDING);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(pend, NULL);
    bool added = true;
    for (int i = 0; added && i < n; i++) {
        bson_t *f = BCON_NEW("_id", BCON_UTF8(td_bson_str(pending[i], "_id")));
        added = mongoc_bulk_operation_remove_one_with_opts(bulk, f, NULL, &err);
        bson_destroy(f);
    }
    /* A pending event left behind is found in the outbox by its id next time. */
    if (!added || !mongoc_bulk_operation_execute(bulk, NULL, &err))
        td_warn("bus: pending events not cleared: %s", err.message);
    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(pend);
    for (int i = 0; i < n; i++)
        publish_sequenced(bus, td_bson_str(pending[i], "_id"), td_bson_str(pending[i], "type"),
                          td_bson_int(pending[i], "time", 0), td_bson_str(pending[i], "payload"),
                          first + (uint64_t)i);
    return TD_OK;
}

/* Whether the relay may sequence a pending event now: any event but a prepared one,
 * a prepared one confirmed here, or one old enough whose document exists. *drop
 * when it is old and its document does not exist. */
static bool sendable(td_bus *bus, mongoc_client_t *c, const bson_t *pending, bool *drop)
{
    *drop = false;
    bson_iter_t it, d;
    if (!bson_iter_init_find(&it, pending, "doc") || !BSON_ITER_HOLDS_DOCUMENT(&it))
        return true;
    const char *id = td_bson_str(pending, "_id");
    if (confirmed_has(bus, id))
        return false; /* confirmed here: sent from memory (relay_confirmed) */
    if (td_now_ms() - td_bson_int(pending, "createdAt", 0) < TD_BUS_PREPARED_GRACE_MS)
        return false; /* its insert may still be on the way */
    const char *coll = NULL;
    const bson_oid_t *oid = NULL;
    if (bson_iter_recurse(&it, &d))
        while (bson_iter_next(&d)) {
            if (strcmp(bson_iter_key(&d), "coll") == 0 && BSON_ITER_HOLDS_UTF8(&d))
                coll = bson_iter_utf8(&d, NULL);
            else if (strcmp(bson_iter_key(&d), "id") == 0 && BSON_ITER_HOLDS_OID(&d))
                oid = bson_iter_oid(&d);
        }
    if (coll == NULL || oid == NULL) {
        *drop = true;
        return false;
    }
    bson_t *filter = BCON_NEW("_id", BCON_OID(oid));
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}", "limit", BCON_INT64(1));
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, filter, opts, NULL);
    const bson_t *found;
    bool exists = mongoc_cursor_next(cur, &found);
    bson_error_t err;
    bool failed = !exists && mongoc_cursor_error(cur, &err);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
    bson_destroy(opts);
    if (!exists && !failed) {
        td_warn("bus: prepared %s event %s dropped: its %s document was never written",
                td_bson_str(pending, "type"), id != NULL ? id : "?", coll);
        *drop = true;
    }
    return exists;
}

/* Sequences and publishes a batch of pending events in the order they were written
 * to outbox_pending (its natural order: no filter and no sort, so FerretDB reads
 * just the first rows instead of decoding and sorting the whole backlog). */
/* Sequences and publishes events shaped as outbox_pending documents, in order; on a
 * duplicate key (another relay raced this one, or an event is in the outbox
 * already) event by event. *count: how many went out. */
static int sequence_events(td_bus *bus, mongoc_client_t *c, bson_t **batch, int n, int *count)
{
    *count = 0;
    int rc = sequence_batch(bus, c, batch, n);
    if (rc == TD_OK) {
        *count = n;
    } else if (rc == TD_ECONFLICT || rc == TD_EINVAL) {
        /* Event by event: each finds out whether it is in the outbox already. */
        uint64_t top;
        rc = max_seq(c, &top);
        if (rc == TD_OK)
            __atomic_store_n(&bus->last_seq, top, __ATOMIC_RELAXED);
        for (int i = 0; rc == TD_OK && i < n; i++) {
            rc = sequence_one(bus, c, batch[i]);
            if (rc == TD_ECONFLICT)
                rc = sequence_one(bus, c, batch[i]);
            if (rc == TD_EINVAL) {
                td_error("bus: dropping malformed pending event");
                rc = TD_OK;
            }
            if (rc == TD_OK)
                (*count)++;
        }
    }
    return rc;
}

/* Sequences the oldest events confirmed in this process, straight from memory (their
 * outbox_pending copies are removed as for any other event). */
/* Whether an event of this time is still held by the test delay. */
static bool held_for_test(const td_bus *bus, int64_t event_time)
{
    return bus->test_delay_ms > 0 && td_now_ms() - event_time < bus->test_delay_ms;
}

/* How many of the oldest confirmed events the test delay lets go (up to max). */
static int confirmed_due(td_bus *bus, int max)
{
    if (bus->test_delay_ms <= 0)
        return max;
    int n = 0;
    pthread_mutex_lock(&bus->confirmed_mu);
    for (struct confirmed *e = bus->first; e != NULL && n < max; e = e->later, n++)
        if (held_for_test(bus, td_bson_int(e->event, "time", 0)))
            break;
    pthread_mutex_unlock(&bus->confirmed_mu);
    return n;
}

static int relay_confirmed(td_bus *bus, mongoc_client_t *c, int *count)
{
    struct confirmed *taken[RELAY_BATCH];
    bson_t *batch[RELAY_BATCH];
    int due = confirmed_due(bus, RELAY_BATCH);
    int n = due > 0 ? confirmed_take(bus, taken, due) : 0;
    for (int i = 0; i < n; i++)
        batch[i] = taken[i]->event;
    *count = 0;
    int rc = n > 0 ? sequence_events(bus, c, batch, n, count) : TD_OK;
    if (rc != TD_OK) { /* the database failed: what was not sent goes back in front */
        pthread_mutex_lock(&bus->confirmed_mu);
        for (int i = n - 1; i >= *count; i--) {
            struct confirmed *e = taken[i], **b = confirmed_bucket(bus, e->id);
            e->next = *b;
            *b = e;
            e->later = bus->first;
            bus->first = e;
            if (bus->last == NULL)
                bus->last = e;
            taken[i] = NULL;
        }
        pthread_mutex_unlock(&bus->confirmed_mu);
    }
    for (int i = 0; i < n; i++)
        if (taken[i] != NULL)
            confirmed_free(taken[i]);
    return rc;
}

/* Reads up to RELAY_BATCH events from outbox_pending in the order they were written
 * and sequences those that may go. */
static int relay_batch(td_bus *bus, mongoc_client_t *c, int *count)
{
    *count = 0;
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_PENDING);
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("limit", BCON_INT64(RELAY_BATCH));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    bson_t *batch[RELAY_BATCH];
    int n = 0;
    const bson_t *doc;
    while (n < RELAY_BATCH && mongoc_cursor_next(cur, &doc) &&
           !held_for_test(bus, td_bson_int(doc, "time", 0))) /* in order: stop at one held */
        batch[n++] = bson_copy(doc);
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? td_mongo_rc(&err) : TD_OK;
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    /* Prepared events wait for their confirmation (or, unconfirmed, for the grace
     * period and their document); the others go in the order they were written. */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        bool drop;
        if (sendable(bus, c, batch[i], &drop)) {
            batch[kept++] = batch[i];
            continue;
        }
        if (drop) { /* still prepared: td_bus_confirm_late may have made it plain */
            bson_t *f = BCON_NEW("_id", BCON_UTF8(td_bson_str(batch[i], "_id")), "doc", "{",
                                 "$exists", BCON_BOOL(true), "}");
            bson_error_t derr;
            /* left, it is dropped again at the next poll */
            if (!mongoc_collection_delete_one(coll, f, NULL, NULL, &derr))
                td_warn("bus: expired prepared event not removed: %s", derr.message);
            bson_destroy(f);
        }
        bson_destroy(batch[i]);
    }
    n = kept;
    mongoc_collection_destroy(coll);
    if (rc == TD_OK && n > 0)
        rc = sequence_events(bus, c, batch, n, count);
    for (int i = 0; i < n; i++)
        bson_destroy(batch[i]);
    return rc;
}

/* Takes or leaves the relay's role; `stopping`: left on purpose (said as info). */
static void set_leader(td_bus *bus, bool leader, bool stopping)
{
    int was = __atomic_load_n(&bus->leader, __ATOMIC_RELAXED);
    if (was == (int)leader)
        return;
    if (leader) {
        char url[TD_URL_MAX];
        if (td_endpoint_url(TD_EP_BUS, bus->self, 1, url, sizeof url) != TD_OK) {
            td_error("bus: %s has no bus address", bus->self);
            return;
        }
        int rv = nng_pub0_open(&bus->pub);
        if (rv == 0) /* each subscriber's queue, as long as the SUB side's */
            rv = nng_socket_set_int(bus->pub, NNG_OPT_SENDBUF, SUB_QUEUE);
        if (rv == 0)
            rv = nng_listen(bus->pub, url, NULL, 0);
        if (rv != 0) {
            td_error("bus: listen %s: %s", url, nng_strerror(rv));
            (void)nng_close(bus->pub); /* failing already */
            return;
        }
        bus->pub_open = 1;
        td_info("bus: relay lease taken; publishing on %s from sequence %llu", url,
                (unsigned long long)bus->last_seq + 1);
    } else {
        if (bus->pub_open)
            TD_IGNORE(nng_close(bus->pub)); /* leaving: fails only when closed already */
        bus->pub_open = 0;
        confirmed_clear(bus);
        if (stopping)
            td_info("bus: relay lease given back (stopping)");
        else
            td_warn("bus: relay lease lost");
    }
    __atomic_store_n(&bus->leader, leader ? 1 : 0, __ATOMIC_RELAXED);
}

/* One round of the relay: first what was confirmed in this process (from memory),
 * then, when something was written there or every TD_BUS_RELAY_POLL_MS, what
 * outbox_pending holds (other paths, other instances, recovery). */
static int relay_round(td_bus *bus, mongoc_client_t *c, int64_t *poll_at)
{
    int n, rc;
    while ((rc = relay_confirmed(bus, c, &n)) == TD_OK && n == RELAY_BATCH)
        ;
    int64_t now = td_mono_ms();
    if (rc == TD_OK &&
        (__atomic_exchange_n(&bus->pending_dirty, 0, __ATOMIC_RELAXED) || now >= *poll_at)) {
        *poll_at = now + TD_BUS_RELAY_POLL_MS;
        while ((rc = relay_batch(bus, c, &n)) == TD_OK && n == RELAY_BATCH)
            ;
    }
    return rc;
}

static void *relay_main(void *arg)
{
    td_bus *bus = arg;
    int64_t lease_at = 0, sweep_at = 0, poll_at = 0;
    do {
        mongoc_client_t *c = td_mongo_pop();
        if (c == NULL)
            continue;
        ensure_indexes(bus, c);
        int64_t now = td_mono_ms();
        if (now >= lease_at) {
            bool held = take_lease(bus, c);
            if (held && !__atomic_load_n(&bus->leader, __ATOMIC_RELAXED)) {
                uint64_t top;
                if (max_seq(c, &top) == TD_OK)
                    __atomic_store_n(&bus->last_seq, top, __ATOMIC_RELAXED);
                else
                    held = false;
            }
            set_leader(bus, held, false);
            lease_at = now + TD_BUS_LEASE_MS / 3;
        }
        if (now >= sweep_at) {
            sweep(bus, c);
            sweep_at = now + td_env_int(TD_ENV_BUS_SWEEP_MS, TD_BUS_SWEEP_MS, 1000, 86400000);
        }
        if (__atomic_load_n(&bus->leader, __ATOMIC_RELAXED)) {
            int rc = relay_round(bus, c, &poll_at);
            if (rc != TD_OK)
                td_debug("bus: relay: %s", td_strerror(rc));
        }
        td_mongo_push(c);
    } while (!bus_wait(bus, TD_BUS_RELAY_POLL_MS));

    mongoc_client_t *c = td_mongo_pop();
    if (c != NULL && __atomic_load_n(&bus->leader, __ATOMIC_RELAXED)) {
        /* what was confirmed here until the end: the next relay would have to wait
         * for the grace period to find these by their documents */
        poll_at = 0;
        relay_round(bus, c, &poll_at);
        release_lease(bus, c);
    }
    td_mongo_push(c);
    set_leader(bus, false, true);
    return NULL;
}

/* ---- Replay server -------------------------------------------------------------- */

static Tripdesk__Event *event_from_outbox(const bson_t *doc, const char *publisher)
{
    Tripdesk__Event *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return NULL;
    tripdesk__event__init(ev);
    const char *payload = td_bson_str(doc, "payload");
    ev->id = strdup(td_bson_str(doc, "eventId") ? td_bson_str(doc, "eventId") : "");
    ev->type = strdup(td_bson_str(doc, "type") ? td_bson_str(doc, "type") : "");
    ev->publisher = strdup(publisher);
    ev->sequence = (uint64_t)td_bson_int(doc, "_id", 0);
    ev->time_ms = td_bson_int(doc, "time", 0);
    ev->payload.data = (uint8_t *)strdup(payload ? payload : "{}");
    ev->payload.len = ev->payload.data ? strlen((char *)ev->payload.data) : 0;
    return ev;
}

static void free_event(Tripdesk__Event *ev)
{
    if (ev == NULL)
        return;
    free(ev->id);
    free(ev->type);
    free(ev->publisher);
    free(ev->payload.data);
    free(ev);
}

/* Answers one replay request from the outbox; returns the reply or NULL. */
static nng_msg *answer_replay(td_bus *bus, mongoc_client_t *c, nng_msg *req_msg)
{
    Tripdesk__ReplayRequest *rq = tripdesk__replay_request__unpack(
        NULL, nng_msg_len(req_msg), (const uint8_t *)nng_msg_body(req_msg));
    if (rq == NULL)
        return NULL;
    uint32_t max = rq->max_events > 0 && rq->max_events <= TD_BUS_REPLAY_BATCH
                       ? rq->max_events
                       : TD_BUS_REPLAY_BATCH;
    Tripdesk__ReplayResponse rs = TRIPDESK__REPLAY_RESPONSE__INIT;
    Tripdesk__Event **events = calloc(max, sizeof(Tripdesk__Event *));
    nng_msg *out = NULL;
    if (events == NULL)
        goto done;
    /* Sequences are the outbox _ids, gapless: read them one by one by _id (a range
     * query would decode the whole outbox on FerretDB), up to the last one this
     * relay gave out, and stop at the first that is not there. */
    uint64_t top = __atomic_load_n(&bus->last_seq, __ATOMIC_RELAXED);
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_OUTBOX);
    size_t n = 0;
    bool failed = false;
    for (uint64_t seq = rq->from_sequence; n < max && seq <= top; seq++) {
        bool found;
        bson_t doc;
        failed = outbox_get(coll, seq, &found, &doc) != TD_OK;
        if (found && (events[n] = event_from_outbox(&doc, bus->self)) != NULL)
            n++;
        bson_destroy(&doc);
        if (!found)
            break;
    }
    mongoc_collection_destroy(coll);
    if (!failed) {
        /* last_sequence: the highest sent (a MAX over the outbox per request would
         * cost a scan on FerretDB). */
        rs.events = events;
        rs.n_events = n;
        rs.last_sequence = n > 0 ? events[n - 1]->sequence : rq->from_sequence - 1;
        size_t len = tripdesk__replay_response__get_packed_size(&rs);
        if (nng_msg_alloc(&out, len) == 0)
            tripdesk__replay_response__pack(&rs, nng_msg_body(out));
    }
    for (size_t i = 0; i < n; i++)
        free_event(events[i]);
done:
    free(events);
    tripdesk__replay_request__free_unpacked(rq, NULL);
    return out;
}

/* Serves replay requests while this instance holds the relay lease. */
static void *replay_main(void *arg)
{
    td_bus *bus = arg;
    nng_socket rep;
    int open = 0;
    bool replay_warned = false;
    while (!bus_stopping(bus)) {
        int leader = __atomic_load_n(&bus->leader, __ATOMIC_RELAXED);
        if (leader && !open) {
            char url[TD_URL_MAX];
            if (td_endpoint_url(TD_EP_REPLAY, bus->self, 1, url, sizeof url) == TD_OK &&
                nng_rep0_open(&rep) == 0) {
                int rv = nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, REPLAY_POLL_MS);
                if (rv == 0)
                    rv = nng_listen(rep, url, NULL, 0);
                if (rv == 0) {
                    open = 1;
                } else {
                    /* tried again every REPLAY_POLL_MS: said once per lease */
                    if (!replay_warned)
                        td_warn("bus: replay listen %s: %s; retrying", url, nng_strerror(rv));
                    replay_warned = true;
                    (void)nng_close(rep); /* the socket was not used */
                }
            }
        } else if (!leader && open) {
            (void)nng_close(rep); /* leadership lost: subscribers re-dial */
            open = 0;
        }
        if (!leader)
            replay_warned = false;
        if (!open) {
            td_sleep_ms(REPLAY_POLL_MS);
            continue;
        }
        nng_msg *msg;
        if (nng_recvmsg(rep, &msg, 0) != 0)
            continue;
        mongoc_client_t *c = td_mongo_pop();
        nng_msg *reply = c != NULL ? answer_replay(bus, c, msg) : NULL;
        td_mongo_push(c);
        nng_msg_free(msg);
        if (reply == NULL) {
            /* REP must answer to take the next request: an empty reply means "try
             * again later" to the subscriber. */
            if (nng_msg_alloc(&reply, 0) != 0)
                reply = NULL; /* no memory: the subscriber's request times out */
        }
        if (reply != NULL && nng_sendmsg(rep, reply, 0) != 0)
            nng_msg_free(reply);
    }
    if (open)
        TD_IGNORE(nng_close(rep)); /* shutting down: fails only when closed already */
    return NULL;
}

/* ---- Subscriber ----------------------------------------------------------------- */

static int load_cursor(mongoc_client_t *c, subscription *s)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_CURSORS);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(s->publisher));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    int rc = TD_OK;
    s->last = 0;
    if (mongoc_cursor_next(cur, &doc)) {
        s->last = (uint64_t)td_bson_int(doc, "seq", 0);
    } else {
        bson_error_t err;
        if (mongoc_cursor_error(cur, &err))
            rc = td_mongo_rc(&err);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    if (rc == TD_OK) {
        s->loaded = 1;
        s->saved = s->last;
        s->saved_at = td_mono_ms();
    }
    return rc;
}

static int save_cursor(mongoc_client_t *c, subscription *s)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_CURSORS);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(s->publisher));
    bson_t *update = BCON_NEW("$set", "{", "seq", BCON_INT64((int64_t)s->last), "updatedAt",
                              BCON_INT64(td_now_ms()), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    bson_error_t err;
    bool ok = mongoc_collection_update_one(coll, filter, update, opts, NULL, &err);
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(opts);
    mongoc_collection_destroy(coll);
    if (ok)
        s->saved = s->last;
    s->saved_at = td_mono_ms(); /* after a failure: the next attempt in CURSOR_SAVE_MS */
    return ok ? TD_OK : td_mongo_rc(&err);
}

/* Saves the cursors that moved, when the last save is CURSOR_SAVE_MS old or always
 * (the subscriber is idle, or stopping). */
static void save_cursors(td_bus *bus, mongoc_client_t *c, bool always)
{
    int64_t now = td_mono_ms();
    for (int i = 0; i < bus->nsubs; i++) {
        subscription *s = &bus->subs[i];
        if (s->loaded && s->saved != s->last && (always || now - s->saved_at >= CURSOR_SAVE_MS))
            save_cursor(c, s);
    }
}

/* Hands one in-order event to the handler and advances the cursor, which is saved
 * at most every CURSOR_SAVE_MS while events keep coming (and when they stop): one
 * write per burst instead of one per event. A crash re-delivers what was handled
 * since the last save; handlers are idempotent by event id. */
/* Logs once when the events of s stop flowing and why (why NULL: they flow), and
 * once when they flow again: a subscriber that falls behind says so without a
 * line per attempt. Subscriber thread only. */
static void note_stall(subscription *s, const char *why)
{
    if (why == NULL) {
        if (s->stall[0] != '\0')
            td_info("bus: events from %s flow again (sequence %llu, after %lld ms)", s->publisher,
                    (unsigned long long)s->last, (long long)(td_mono_ms() - s->stalled_at));
        s->stall[0] = '\0';
        return;
    }
    if (strncmp(s->stall, why, sizeof s->stall - 1) == 0)
        return;
    if (s->stall[0] == '\0')
        s->stalled_at = td_mono_ms();
    td_fmt_text(s->stall, sizeof s->stall, "%s", why); /* cut: it only has to differ */
    td_warn("bus: events from %s after sequence %llu wait: %s", s->publisher,
            (unsigned long long)s->last, why);
}

static int deliver(mongoc_client_t *c, subscription *s, const Tripdesk__Event *pb)
{
    cJSON *payload = cJSON_ParseWithLength((const char *)pb->payload.data, pb->payload.len);
    td_event ev = {pb->id, pb->type, pb->publisher, pb->sequence, pb->time_ms, payload};
    int rc = payload != NULL ? s->handler(&ev, c, s->arg) : TD_OK;
    if (payload == NULL)
        td_error("bus: %s event %llu has a malformed payload; skipped", pb->publisher,
                 (unsigned long long)pb->sequence);
    cJSON_Delete(payload);
    if (rc != TD_OK) {
        char why[160];
        td_fmt_text(why, sizeof why, "its handler failed on %s event %llu (%s)", pb->type,
                    (unsigned long long)pb->sequence, td_strerror(rc));
        note_stall(s, why);
        return rc;
    }
    s->last = pb->sequence;
    note_stall(s, NULL);
    if (td_mono_ms() - s->saved_at >= CURSOR_SAVE_MS)
        return save_cursor(c, s); /* on failure: handled, seen again after a restart */
    return TD_OK;
}

static void replay_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    subscription *s = arg;
    __atomic_add_fetch(&s->replay_pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1, __ATOMIC_RELAXED);
}

static int open_replay_client(td_bus *bus, subscription *s)
{
    (void)bus;
    char url[TD_URL_MAX];
    if (td_endpoint_url(TD_EP_REPLAY, s->publisher, 0, url, sizeof url) != TD_OK) {
        td_error("bus: %s has no replay address", s->publisher);
        return TD_EINVAL;
    }
    int rv = nng_req0_open(&s->replay);
    if (rv == 0)
        rv = nng_socket_set_ms(s->replay, NNG_OPT_SENDTIMEO, TD_BUS_REPLAY_SEND_MS);
    if (rv == 0)
        rv = nng_socket_set_ms(s->replay, NNG_OPT_RECVTIMEO, TD_BUS_REPLAY_TIMEOUT_MS);
    if (rv == 0)
        rv = nng_socket_set_ms(s->replay, NNG_OPT_REQ_RESENDTIME, TD_BUS_REPLAY_TIMEOUT_MS);
    if (rv == 0)
        rv = nng_socket_set_ms(s->replay, NNG_OPT_RECONNMINT, 100);
    if (rv == 0)
        rv = nng_socket_set_ms(s->replay, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0)
        rv = nng_pipe_notify(s->replay, NNG_PIPE_EV_ADD_POST, replay_pipe_event, s);
    if (rv == 0)
        rv = nng_pipe_notify(s->replay, NNG_PIPE_EV_REM_POST, replay_pipe_event, s);
    if (rv == 0)
        rv = nng_dial(s->replay, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        td_error("bus: replay client for %s (%s): %s", s->publisher, url, nng_strerror(rv));
        return TD_EIO;
    }
    return TD_OK;
}

/* Asks the publisher for everything after s->last and handles it in order. */
static void catch_up(td_bus *bus, mongoc_client_t *c, subscription *s)
{
    s->last_catchup = td_mono_ms();
    /* Publisher not reachable: nothing to ask now (it is retried every idle round),
     * and waiting out a send timeout would stall the other publishers' events. The
     * pipe count is a hint only: every REPLAY_BLIND_MS the request is sent anyway
     * (a send finds no server within TD_BUS_REPLAY_SEND_MS), so a count that went
     * wrong can never stop the replays for good. */
    int64_t now = td_mono_ms();
    if (__atomic_load_n(&s->replay_pipes, __ATOMIC_RELAXED) <= 0 &&
        now - s->last_asked < REPLAY_BLIND_MS) {
        note_stall(s, "no replay server connected");
        return;
    }
    s->last_asked = now;
    for (;;) {
        Tripdesk__ReplayRequest rq = TRIPDESK__REPLAY_REQUEST__INIT;
        rq.subscriber = bus->self;
        rq.from_sequence = s->last + 1;
        rq.max_events = TD_BUS_REPLAY_BATCH;
        size_t len = tripdesk__replay_request__get_packed_size(&rq);
        nng_msg *msg;
        if (nng_msg_alloc(&msg, len) != 0)
            return;
        tripdesk__replay_request__pack(&rq, nng_msg_body(msg));
        int rv = nng_sendmsg(s->replay, msg, 0);
        if (rv != 0) {
            nng_msg_free(msg);
            note_stall(s, nng_strerror(rv)); /* the request could not be sent */
            return;
        }
        nng_msg *reply;
        if ((rv = nng_recvmsg(s->replay, &reply, 0)) != 0) {
            note_stall(s, rv == NNG_ETIMEDOUT ? "no replay answer in time" : nng_strerror(rv));
            return;
        }
        /* empty: nothing after from_sequence yet, or "try again later" (the server
         * had no database): no progress, and nothing to say */
        size_t got = nng_msg_len(reply);
        Tripdesk__ReplayResponse *rs =
            got == 0 ? NULL
                     : tripdesk__replay_response__unpack(NULL, got,
                                                         (const uint8_t *)nng_msg_body(reply));
        nng_msg_free(reply);
        if (rs == NULL) {
            if (got > 0)
                note_stall(s, "an unreadable replay answer");
            return;
        }
        size_t done = 0;
        for (size_t i = 0; i < rs->n_events; i++) {
            const Tripdesk__Event *ev = rs->events[i];
            td_bus_step step = td_bus_next_step(s->last, ev->sequence);
            if (step == TD_BUS_SEEN)
                continue;
            if (step == TD_BUS_GAP || deliver(c, s, ev) != TD_OK)
                break;
            done++;
        }
        bool more = rs->n_events == TD_BUS_REPLAY_BATCH && done == rs->n_events;
        tripdesk__replay_response__free_unpacked(rs, NULL);
        if (!more || bus_stopping(bus))
            return;
    }
}

static subscription *find_sub(td_bus *bus, const char *publisher)
{
    for (int i = 0; i < bus->nsubs; i++)
        if (strcmp(bus->subs[i].publisher, publisher) == 0)
            return &bus->subs[i];
    return NULL;
}

td_bus_step td_bus_next_step(uint64_t last, uint64_t seq)
{
    if (seq <= last)
        return TD_BUS_SEEN;
    return seq == last + 1 ? TD_BUS_NEXT : TD_BUS_GAP;
}

/* One live message from the SUB socket. */
static void on_live(td_bus *bus, mongoc_client_t *c, nng_msg *msg)
{
    const uint8_t *body = nng_msg_body(msg);
    size_t len = nng_msg_len(msg);
    const uint8_t *nul = memchr(body, '\0', len < TOPIC_MAX ? len : TOPIC_MAX);
    if (nul == NULL)
        return;
    size_t off = (size_t)(nul - body) + 1;
    Tripdesk__Event *ev = tripdesk__event__unpack(NULL, len - off, body + off);
    if (ev == NULL)
        return;
    subscription *s = find_sub(bus, ev->publisher);
    if (s != NULL)
        s->last_live = td_mono_ms();
    td_bus_step step = s != NULL ? td_bus_next_step(s->last, ev->sequence) : TD_BUS_SEEN;
    if (s != NULL && s->loaded && step != TD_BUS_SEEN) {
        if (step == TD_BUS_NEXT) {
            deliver(c, s, ev);
        } else {
            td_info("bus: gap from %s (have %llu, got %llu); replaying", s->publisher,
                    (unsigned long long)s->last, (unsigned long long)ev->sequence);
            catch_up(bus, c, s);
        }
    }
    tripdesk__event__free_unpacked(ev, NULL);
}

/* Opens the SUB socket, subscribes and dials every publisher and its replay
 * endpoint (non-blocking: a publisher may start later). Done at start-up, before
 * the subscriber thread, so that a failure stops the daemon instead of leaving it
 * running deaf to its events. */
static int open_sub(td_bus *bus)
{
    int rv = nng_sub0_open(&bus->sub);
    if (rv != 0) {
        td_error("bus: cannot open the SUB socket: %s", nng_strerror(rv));
        return TD_EIO;
    }
    bus->sub_open = 1;
    rv = nng_socket_set_ms(bus->sub, NNG_OPT_RECVTIMEO, TD_BUS_RELAY_POLL_MS * 2);
    /* SUB drops what does not fit its queue (128 messages by default): a burst
     * larger than that while handlers are slow costs a replay, read from the
     * publisher's outbox event by event. Queue up to nng's maximum instead. */
    if (rv == 0 && nng_socket_set_int(bus->sub, NNG_OPT_RECVBUF, SUB_QUEUE) != 0)
        td_warn("bus: SUB queue of %d messages refused; bursts will be replayed", SUB_QUEUE);
    if (rv == 0)
        rv = nng_socket_set_ms(bus->sub, NNG_OPT_RECONNMINT, 100);
    if (rv == 0)
        rv = nng_socket_set_ms(bus->sub, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0)
        rv = nng_socket_set(bus->sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    if (rv != 0) {
        td_error("bus: cannot subscribe: %s", nng_strerror(rv));
        return TD_EIO;
    }
    for (int i = 0; i < bus->nsubs; i++) {
        char url[TD_URL_MAX];
        if (td_endpoint_url(TD_EP_BUS, bus->subs[i].publisher, 0, url, sizeof url) != TD_OK) {
            td_error("bus: %s has no bus address", bus->subs[i].publisher);
            return TD_EINVAL;
        }
        rv = nng_dial(bus->sub, url, NULL, NNG_FLAG_NONBLOCK);
        if (rv != 0) {
            td_error("bus: cannot subscribe to %s (%s): %s", bus->subs[i].publisher, url,
                     nng_strerror(rv));
            return TD_EIO;
        }
        int rc = open_replay_client(bus, &bus->subs[i]);
        if (rc != TD_OK)
            return rc;
        bus->subs[i].replay_open = 1;
    }
    return TD_OK;
}

static void *sub_main(void *arg)
{
    td_bus *bus = arg;
    nng_duration wait = TD_BUS_RELAY_POLL_MS * 2;
    while (!bus_stopping(bus)) {
        nng_msg *msg = NULL;
        bool moved = false; /* a cursor to save: wait for the next event briefly only */
        for (int i = 0; i < bus->nsubs; i++)
            moved |= bus->subs[i].loaded && bus->subs[i].saved != bus->subs[i].last;
        nng_duration want = moved ? CURSOR_SAVE_MS : TD_BUS_RELAY_POLL_MS * 2;
        if (want != wait && nng_socket_set_ms(bus->sub, NNG_OPT_RECVTIMEO, want) == 0)
            wait = want;
        int rv = nng_recvmsg(bus->sub, &msg, 0);
        mongoc_client_t *c = td_mongo_pop();
        if (c == NULL) {
            if (msg != NULL && rv == 0)
                nng_msg_free(msg);
            continue;
        }
        for (int i = 0; i < bus->nsubs; i++)
            if (!bus->subs[i].loaded)
                load_cursor(c, &bus->subs[i]);
        if (rv == 0) {
            on_live(bus, c, msg);
            nng_msg_free(msg);
        }
        int64_t now = td_mono_ms();
        for (int i = 0; i < bus->nsubs; i++) {
            subscription *s = &bus->subs[i];
            /* when its live stream went quiet: while events keep coming, a replay
             * would only send again what waits in the SUB queue (gaps are replayed
             * as soon as they show) */
            if (s->loaded && now - s->last_catchup >= TD_BUS_IDLE_CATCHUP_MS &&
                now - s->last_live >= TD_BUS_IDLE_CATCHUP_MS)
                catch_up(bus, c, s);
        }
        save_cursors(bus, c, rv != 0); /* no event waiting: idle */
        td_mongo_push(c);
    }
    mongoc_client_t *c = td_mongo_pop();
    if (c != NULL) {
        save_cursors(bus, c, true);
        td_mongo_push(c);
    }
    /* shutting down: a socket never opened or closed already answers NNG_ECLOSED */
    for (int i = 0; i < bus->nsubs; i++)
        TD_IGNORE(nng_close(bus->subs[i].replay));
    TD_IGNORE(nng_close(bus->sub));
    return NULL;
}

/* Starts one of the bus's threads; logs and returns TD_EIO when it cannot. */
static int start_thread(pthread_t *t, void *(*fn)(void *), td_bus *bus, const char *what)
{
    int err = pthread_create(t, NULL, fn, bus);
    if (err != 0) {
        td_error("bus: cannot start the %s thread: %s", what, strerror(err));
        return TD_EIO;
    }
    return TD_OK;
}

int td_bus_start(td_bus *bus)
{
    int rc = bus->nsubs > 0 ? open_sub(bus) : TD_OK;
    if (rc == TD_OK && (rc = start_thread(&bus->relay_thread, relay_main, bus, "relay")) == TD_OK)
        bus->threads |= THREAD_RELAY;
    if (rc == TD_OK &&
        (rc = start_thread(&bus->replay_thread, replay_main, bus, "replay")) == TD_OK)
        bus->threads |= THREAD_REPLAY;
    if (rc == TD_OK && bus->nsubs > 0 &&
        (rc = start_thread(&bus->sub_thread, sub_main, bus, "subscriber")) == TD_OK)
        bus->threads |= THREAD_SUB;
    bus->started = 1; /* td_bus_free joins what did start */
    return rc;
}

void td_bus_free(td_bus *bus)
{
    if (bus == NULL)
        return;
    if (bus->started) {
        pthread_mutex_lock(&bus->mu);
        bus->stop = 1;
        pthread_cond_broadcast(&bus->cv);
        pthread_mutex_unlock(&bus->mu);
        if (bus->threads & THREAD_RELAY)
            (void)pthread_join(bus->relay_thread, NULL); /* joinable: cannot fail */
        if (bus->threads & THREAD_REPLAY)
            (void)pthread_join(bus->replay_thread, NULL);
        if (bus->threads & THREAD_SUB) {
            (void)pthread_join(bus->sub_thread, NULL);
        } else if (bus->sub_open) { /* opened, but the thread that closes it never ran */
            for (int i = 0; i < bus->nsubs; i++)
                if (bus->subs[i].replay_open)
                    (void)nng_close(bus->subs[i].replay);
            (void)nng_close(bus->sub);
        }
    }
    confirmed_clear(bus);
    pthread_mutex_destroy(&bus->confirmed_mu);
    pthread_mutex_destroy(&bus->prep_mu);
    pthread_cond_destroy(&bus->prep_cv);
    pthread_mutex_destroy(&bus->mu);
    pthread_cond_destroy(&bus->cv);
    free(bus);
}
