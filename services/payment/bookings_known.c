/*
 * The bookings the payment service knows, from the booking service's events
 * (subscribed from the start of its stream, so bookings made before this service
 * first ran are known too). It never reads the booking database. Each booking's
 * document also holds its account (paidMinor, refundedMinor, v; payment.h).
 *
 * Idempotent: BOOKING_CREATED is an insert by the booking's _id (a second delivery
 * is a duplicate key, ignored); every later event applies only while the stored
 * `seq` is below its sequence, so a replayed or late event changes nothing twice.
 */
#include "payment.h"

#include "tripdesk/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int bookings_indexes(mongoc_client_t *c)
{
    (void)c; /* every read is by _id */
    return TD_OK;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A major-unit amount of the booking's JSON in minor units (rounded: the booking
 * service keeps two decimals whatever the currency). */
static int64_t json_minor(const cJSON *o, const char *name, int decimals)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return 0;
    int64_t minor;
    if (td_money_from_double(v->valuedouble, decimals, &minor) == TD_OK)
        return minor;
    return (int64_t)llround(v->valuedouble * pow(10, decimals));
}

static void append_pricing(bson_t *set, const cJSON *pricing)
{
    const char *cur = json_str(pricing, "currency");
    if (cur == NULL)
        return;
    int d = td_money_decimals(cur);
    BSON_APPEND_UTF8(set, "currency", cur);
    BSON_APPEND_INT32(set, "decimals", d);
    BSON_APPEND_INT64(set, "totalMinor", json_minor(pricing, "totalAmount", d));
    BSON_APPEND_INT64(set, "taxMinor", json_minor(pricing, "taxAmount", d));
    BSON_APPEND_INT64(set, "discountMinor", json_minor(pricing, "discount", d));
}

static void append_dates(bson_t *set, const cJSON *trip)
{
    const char *names[] = {"startDate", "endDate"};
    for (int i = 0; i < 2; i++) {
        int64_t ms;
        const char *s = json_str(trip, names[i]);
        if (s != NULL && td_parse_date(s, false, &ms) == TD_OK)
            BSON_APPEND_DATE_TIME(set, names[i], ms);
    }
}

static int append_oid(bson_t *doc, const char *field, const char *hex)
{
    if (!td_is_object_id(hex))
        return TD_EINVAL;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, hex);
    BSON_APPEND_OID(doc, field, &oid);
    return TD_OK;
}

/* BOOKING_CREATED: the whole booking is in payload.booking. */
static int created(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ev->payload, "booking");
    const char *id = json_str(b, "_id");
    bson_t doc = BSON_INITIALIZER;
    int rc = TD_OK;
    if (append_oid(&doc, "_id", id) != TD_OK ||
        append_oid(&doc, "agent", json_str(b, "agent")) != TD_OK ||
        append_oid(&doc, "customer", json_str(b, "customer")) != TD_OK) {
        td_warn("BOOKING_CREATED %s without booking ids: ignored", ev->id);
        goto out;
    }
    /* the actor of the creation is the booking's agent when it made it itself */
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev->payload, "actor");
    const char *role = json_str(actor, "role");
    const char *actor_id = json_str(actor, "id");
    bool own = actor_id != NULL && json_str(b, "agent") != NULL &&
               strcmp(actor_id, json_str(b, "agent")) == 0;
    BSON_APPEND_UTF8(&doc, "agentRole", own && role != NULL ? role : "agent");
    const char *ref = json_str(b, "bookingReference");
    BSON_APPEND_UTF8(&doc, "bookingReference", ref != NULL ? ref : "");
    const char *status = json_str(b, "status");
    BSON_APPEND_UTF8(&doc, "status", status != NULL ? status : "pending");
    append_pricing(&doc, cJSON_GetObjectItemCaseSensitive(b, "pricing"));
    append_dates(&doc, cJSON_GetObjectItemCaseSensitive(b, "tripDetails"));
    BSON_APPEND_INT64(&doc, "seq", (int64_t)ev->sequence);
    BSON_APPEND_INT64(&doc, "paidMinor", 0);
    BSON_APPEND_INT64(&doc, "refundedMinor", 0);
    BSON_APPEND_INT64(&doc, "v", 0);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    bson_error_t err;
    if (!mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(cl);
    if (rc == TD_ECONFLICT)
        rc = TD_OK; /* delivered before */
out:
    bson_destroy(&doc);
    return rc;
}

/* Any later event of a booking: $set while the stored seq is older. */
static int later(const td_event *ev, mongoc_client_t *c, bson_t *set)
{
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(ev->payload, "target");
    const char *id = json_str(target, "id");
    if (!td_is_object_id(id))
        return TD_OK;
    BSON_APPEND_INT64(set, "seq", (int64_t)ev->sequence);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, lt;
    append_oid(&filter, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &lt);
    BSON_APPEND_INT64(&lt, "$lt", (int64_t)ev->sequence);
    bson_append_document_end(&filter, &lt);
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_update_one(cl, &filter, &update, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(cl);
    bson_destroy(&filter);
    bson_destroy(&update);
    return rc;
}

int booking_event(const td_event *ev, mongoc_client_t *c, void *arg)
{
    (void)arg;
    if (strcmp(ev->type, "BOOKING_CREATED") == 0)
        return created(ev, c);
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ev->payload, "changes");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(changes, "after");
    bson_t set = BSON_INITIALIZER;
    int rc = TD_OK;
    if (strcmp(ev->type, "BOOKING_STATUS_CHANGED") == 0 ||
        strcmp(ev->type, "BOOKING_CANCELLED") == 0) {
        const char *status = json_str(after, "status");
        const char *id = json_str(cJSON_GetObjectItemCaseSensitive(ev->payload, "target"), "id");
        if (status != NULL) {
            BSON_APPEND_UTF8(&set, "status", status);
            rc = later(ev, c, &set);
        }
        /* the commission follows (idempotent by itself: one per booking, conditional
         * updates), also when the copy held this event already */
        if (rc == TD_OK && status != NULL && td_is_object_id(id)) {
            if (strcmp(status, "confirmed") == 0)
                rc = commission_on_confirmed(ev, c, id);
            else if (strcmp(status, "cancelled") == 0 || strcmp(status, "refunded") == 0)
                rc = commission_on_closed(ev, c, id);
        }
    } else if (strcmp(ev->type, "BOOKING_UPDATED") == 0 && cJSON_IsObject(after)) {
        append_pricing(&set, cJSON_GetObjectItemCaseSensitive(after, "pricing"));
        append_dates(&set, cJSON_GetObjectItemCaseSensitive(after, "tripDetails"));
        rc = later(ev, c, &set);
    } else if (strcmp(ev->type, "BOOKING_DELETED") == 0) {
        BSON_APPEND_UTF8(&set, "status", "deleted");
        rc = later(ev, c, &set);
    }
    bson_destroy(&set);
    return rc;
}

static void copy_str(char *dst, size_t len, const bson_t *doc, const char *field)
{
    const char *s = td_bson_str(doc, field);
    TD_IGNORE(
        td_fmt(dst, len, "%s", s != NULL ? s : "")); /* sized for it: ids, numbers, names of ours */
}

int booking_known(mongoc_client_t *c, const char *hex, booking_acct *out)
{
    if (!td_is_object_id(hex))
        return TD_ENOTFOUND;
    bson_oid_t oid; /* hex may be out->id itself (a re-read) */
    bson_oid_init_from_string(&oid, hex);
    memset(out, 0, sizeof *out);
    out->oid = oid;
    bson_t filter = BSON_INITIALIZER, doc;
    BSON_APPEND_OID(&filter, "_id", &out->oid);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_BOOKINGS, &filter, &doc);
    if (rc == TD_OK) {
        bson_oid_to_string(&out->oid, out->id);
        copy_str(out->reference, sizeof out->reference, &doc, "bookingReference");
        copy_str(out->currency, sizeof out->currency, &doc, "currency");
        copy_str(out->status, sizeof out->status, &doc, "status");
        copy_str(out->agent_role, sizeof out->agent_role, &doc, "agentRole");
        td_bson_oid_hex(&doc, "agent", out->agent);
        td_bson_oid_hex(&doc, "customer", out->customer);
        out->decimals = (int)td_bson_int(&doc, "decimals", 2);
        out->total = td_bson_int(&doc, "totalMinor", 0);
        out->tax = td_bson_int(&doc, "taxMinor", 0);
        out->discount = td_bson_int(&doc, "discountMinor", 0);
        out->paid = td_bson_int(&doc, "paidMinor", 0);
        out->refunded = td_bson_int(&doc, "refundedMinor", 0);
        out->v = td_bson_int(&doc, "v", 0);
    }
    bson_destroy(&filter);
    bson_destroy(&doc);
    return rc;
}

int64_t booking_due(const booking_acct *b)
{
    return b->total - b->discount;
}

int64_t booking_outstanding(const booking_acct *b)
{
    return booking_due(b) - (b->paid - b->refunded);
}

const char *booking_payment_status(const booking_acct *b)
{
    int64_t net = b->paid - b->refunded;
    if (b->paid > 0 && net <= 0)
        return "refunded";
    if (net <= 0)
        return "unpaid";
    return net >= booking_due(b) ? "paid" : "partially_paid";
}

bool booking_closed(const booking_acct *b)
{
    return strcmp(b->status, "cancelled") == 0 || strcmp(b->status, "refunded") == 0 ||
           strcmp(b->status, "deleted") == 0;
}

/* "reservations.<mark>" into buf. */
static void mark_path(const char *mark, char buf[64])
{
    TD_IGNORE(
        td_fmt(buf, 64, "reservations.%s", mark)); /* sized for it: ids, numbers, names of ours */
}

int account_add(mongoc_client_t *c, booking_acct *b, int64_t d_paid, int64_t d_refunded,
                const char *mark)
{
    bool give_back = d_paid < 0 || d_refunded < 0;
    char path[64];
    mark_path(mark, path);
    bson_t *filter = BCON_NEW("_id", BCON_OID(&b->oid), "v", BCON_INT64(b->v));
    bson_t *update = BCON_NEW("$inc", "{", "paidMinor", BCON_INT64(d_paid), "refundedMinor",
                              BCON_INT64(d_refunded), "v", BCON_INT64(1), "}");
    if (give_back) {
        /* only a reservation the account still holds is given back: at most once */
        bson_t ex;
        BSON_APPEND_DOCUMENT_BEGIN(filter, path, &ex);
        BSON_APPEND_BOOL(&ex, "$exists", true);
        bson_append_document_end(filter, &ex);
        bson_t un;
        BSON_APPEND_DOCUMENT_BEGIN(update, "$unset", &un);
        BSON_APPEND_UTF8(&un, path, "");
        bson_append_document_end(update, &un);
    } else {
        bson_t set;
        BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
        BSON_APPEND_INT64(&set, path, d_paid + d_refunded);
        bson_append_document_end(update, &set);
    }
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    bson_t reply;
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_update_one(cl, filter, update, NULL, &reply, &err))
        rc = td_mongo_rc(&err);
    else if (td_bson_int(&reply, "matchedCount", 0) != 1)
        rc = TD_ECONFLICT;
    bson_destroy(&reply);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
    bson_destroy(update);
    if (rc == TD_OK) {
        b->paid += d_paid;
        b->refunded += d_refunded;
        b->v++;
    }
    return rc;
}

int account_holds(mongoc_client_t *c, const booking_acct *b, const char *mark, bool *yes)
{
    char path[64];
    mark_path(mark, path);
    bson_t filter = BSON_INITIALIZER, doc, ex;
    BSON_APPEND_OID(&filter, "_id", &b->oid);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, path, &ex);
    BSON_APPEND_BOOL(&ex, "$exists", true);
    bson_append_document_end(&filter, &ex);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_BOOKINGS, &filter, &doc);
    *yes = rc == TD_OK;
    bson_destroy(&filter);
    bson_destroy(&doc);
    return rc == TD_ENOTFOUND ? TD_OK : rc;
}

int account_give_back(mongoc_client_t *c, booking_acct *b, int64_t d_paid, int64_t d_refunded,
                      const char *mark)
{
    int64_t until = td_mono_ms() + GIVE_BACK_WAIT_MS;
    for (int i = 0;; i++) {
        int rc = account_add(c, b, -d_paid, -d_refunded, mark);
        if (rc != TD_ECONFLICT)
            return rc;
        /* changed meanwhile (the others' writes go through: each conflict is one of
         * theirs), or not held any more: re-read and decide again */
        bool held = false;
        if ((rc = booking_known(c, b->id, b)) != TD_OK ||
            (rc = account_holds(c, b, mark, &held)) != TD_OK)
            return rc;
        if (!held)
            return TD_OK;
        if (td_mono_ms() >= until)
            return TD_ECONFLICT;
        if (i >= CAS_TRIES)
            td_sleep_ms(1 + (td_mono_ms() + i) % GIVE_BACK_JITTER_MS);
    }
}

void account_settle(mongoc_client_t *c, const booking_acct *b, const char *mark)
{
    char path[64];
    mark_path(mark, path);
    bson_t *filter = BCON_NEW("_id", BCON_OID(&b->oid));
    bson_t *update = BCON_NEW("$unset", "{", path, BCON_UTF8(""), "}");
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    bson_error_t err;
    if (!mongoc_collection_update_one(cl, filter, update, NULL, NULL, &err))
        td_debug("reservation %s of booking %s not settled: %s (the reconciler will)", mark, b->id,
                 err.message);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
    bson_destroy(update);
}

cJSON *booking_summary_json(const booking_acct *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "booking", b->id);
    cJSON_AddStringToObject(o, "bookingReference", b->reference);
    cJSON_AddStringToObject(o, "bookingStatus", b->status);
    cJSON_AddStringToObject(o, "currency", b->currency);
    cJSON_AddNumberToObject(o, "total", td_money_to_double(booking_due(b), b->decimals));
    cJSON_AddNumberToObject(o, "paid", td_money_to_double(b->paid, b->decimals));
    cJSON_AddNumberToObject(o, "refunded", td_money_to_double(b->refunded, b->decimals));
    cJSON_AddNumberToObject(o, "outstanding",
                            td_money_to_double(booking_outstanding(b), b->decimals));
    cJSON_AddNumberToObject(o, "dueMinor", (double)booking_due(b));
    cJSON_AddNumberToObject(o, "paidMinor", (double)b->paid);
    cJSON_AddNumberToObject(o, "refundedMinor", (double)b->refunded);
    cJSON_AddStringToObject(o, "paymentStatus", booking_payment_status(b));
    cJSON_AddNumberToObject(o, "accountVersion", (double)b->v);
    return o;
}
