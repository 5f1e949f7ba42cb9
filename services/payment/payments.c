/*
 * /api/payments: payments of known bookings (bookings_known.c), their list, detail
 * and per-booking summary. Rules of a payment: the booking is known and not
 * cancelled, refunded or deleted (422 BOOKING_CLOSED); the currency is the
 * booking's; the amount is positive with at most the currency's minor-unit decimals;
 * it does not exceed what is outstanding (422 OVERPAYMENT); and it is not the same
 * booking + amount as a payment of the last 5 minutes (409 DUPLICATE_PAYMENT).
 *
 * Race-proof across daemons: the duplicate rule by a slot document
 * "<booking>:<amountMinor>" in payment_slots, claimed by inserting it (its _id is
 * unique) or, once its window is over, by a compare-and-set on its `at`; the
 * balance by a compare-and-set on the booking's account (account_add). The payment
 * document and its PAYMENT_RECEIVED event are then one td_store insert. Between the
 * account reservation and that insert, a journal entry (account_reservations) lets
 * reservations_reconcile give back what a daemon that died in between reserved.
 */
#include "payment.h"

#include "tripdesk/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int list(td_req *req, td_res *res);
static int create(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int summary(td_req *req, td_res *res);

const td_route payment_routes[] = {
    {"GET", "/api/payments", list, 0, NULL},
    {"POST", "/api/payments", create, TD_ROUTE_IDEMPOTENT, NULL},
    {"GET", "/api/payments/booking/:bookingId/summary", summary, 0, NULL},
    {"GET", "/api/payments/:id", get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const methods[] = {"cash",   "card",   "upi",   "bank_transfer",
                                      "cheque", "wallet", "other", NULL};
static const char *const statuses[] = {"completed", "partially_refunded", "refunded", NULL};

static const td_qp list_params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"paymentMethod", TD_QP_IN, "paymentMethod", methods},
    {"minAmount", TD_QP_MIN, "amount", NULL},
    {"maxAmount", TD_QP_MAX, "amount", NULL},
    {"dateFrom", TD_QP_DATE_FROM, "paidAt", NULL},
    {"dateTo", TD_QP_DATE_TO, "paidAt", NULL},
    {"booking", TD_QP_OID, "booking", NULL},
    {"customer", TD_QP_OID, "customer", NULL},
    {"agent", TD_QP_OID, "agent", NULL},
    {"currency", TD_QP_EQ, "currency", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"paidAt", "createdAt", "amount", "status", NULL};
static const char *const sort_fields[] = {"paidAt", "createdAt", "amount", "status", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "paidAt", -1};

static td_listindex *list_copy;

static const char *const hidden[] = {NULL};

cJSON *payment_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden);
}

/* Every write to payments goes into the list copy. */
static void on_write(const char *coll, const bson_t *doc, void *arg)
{
    (void)coll;
    (void)arg;
    if (list_copy != NULL)
        td_listindex_put(list_copy, doc);
}

/* The list copy, unless TRIPDESK_LIST_COPIES=off (listcopies.h; configured first). */
int payments_list_new(void)
{
    const char *fields[] = {"status",   "paymentMethod", "amount",   "paidAt",    "booking",
                            "customer", "agent",         "currency", "createdAt", NULL};
    if (td_list_copies_use() == TD_COPIES_OFF)
        return TD_OK;
    int rc = td_listindex_new(&list_copy, COLL_PAYMENTS, "payments", fields, payment_json);
    if (rc == TD_OK)
        rc = td_store_on_write(COLL_PAYMENTS, on_write, NULL);
    return rc;
}

void payments_list_maintain(mongoc_client_t *c)
{
    if (list_copy != NULL && td_list_copies_decide(c) == TD_COPIES_ON)
        td_listindex_maintain(list_copy, c);
}

void payments_list_free(void)
{
    td_store_observers_clear();
    td_listindex_free(list_copy);
    list_copy = NULL;
}

int payments_indexes(mongoc_client_t *c)
{
    bson_t keys = BSON_INITIALIZER;
    BSON_APPEND_INT32(&keys, "booking", 1);
    BSON_APPEND_INT32(&keys, "paidAt", -1);
    int rc = td_mongo_index(c, COLL_PAYMENTS, &keys, "payment_booking_paid", false);
    bson_destroy(&keys);
    return rc;
}

bool cas_retry(td_req *req, td_res *res)
{
    if (td_req_retry_in(req, CAS_RETRY_MS, CAS_WAIT_MS))
        return true;
    td_fail(res, 409, "CONCURRENT_UPDATE", "The booking's account kept changing meanwhile; retry",
            NULL);
    return false;
}

static bool may_see_all(const td_req *req)
{
    return td_req_can(req, VIEW_ALL_PAYMENTS);
}

static bool sees_booking(const td_req *req, const booking_acct *b)
{
    return may_see_all(req) || strcmp(b->agent, req->principal.agent_id) == 0;
}

int payment_load_visible(td_req *req, td_res *res, bson_t *out)
{
    const char *id = td_req_param(req, "id");
    if (!td_is_object_id(id)) {
        td_fail(res, 400, "INVALID_ID", "The id must be 24 hex digits", NULL);
        return TD_EINVAL;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_EUNAVAIL;
    }
    bson_oid_t oid, me;
    bson_oid_init_from_string(&oid, id);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    if (!may_see_all(req)) {
        bson_oid_init_from_string(&me, req->principal.agent_id);
        BSON_APPEND_OID(&filter, "agent", &me);
    }
    int rc = td_store_find_one(c, COLL_PAYMENTS, &filter, out);
    bson_destroy(&filter);
    if (rc != TD_OK)
        td_fail_rc(res, rc, "Payment not found");
    return rc;
}

int read_amount(const cJSON *body, const char *name, int decimals, td_res *res, int64_t *minor)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    char msg[160];
    int rc = TD_EINVAL;
    if (cJSON_IsNumber(v))
        rc = td_money_from_double(v->valuedouble, decimals, minor);
    else if (cJSON_IsString(v))
        rc = td_money_parse(v->valuestring, decimals, minor);
    if (rc == TD_OK && *minor > 0)
        return TD_OK;
    TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be an amount above 0 with at most %d decimal places",
                     name, decimals)); /* sized for it: ids, numbers, names of ours */
    td_fail_field(res, name, msg);
    return TD_EINVAL;
}

/* The slot's _id: "<booking hex>:<amount in minor units>". */
static void slot_id(const booking_acct *b, int64_t minor, char out[64])
{
    TD_IGNORE(td_fmt(out, 64, "%s:%lld", b->id,
                     (long long)minor)); /* sized for it: ids, numbers, names of ours */
}

static bool payment_exists(mongoc_client_t *c, const char *hex)
{
    bson_t filter = BSON_INITIALIZER, doc;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, hex);
    BSON_APPEND_OID(&filter, "_id", &oid);
    bson_init(&doc);
    /* an unreachable database counts as existing: the rule holds */
    bool yes = td_store_find_one(c, COLL_PAYMENTS, &filter, &doc) != TD_ENOTFOUND;
    bson_destroy(&filter);
    bson_destroy(&doc);
    return yes;
}

/* Claims the booking + amount slot for payment `hex`: TD_OK (also when it holds it
 * already: a retry of the same Idempotency-Key), TD_ECONFLICT with the payment that
 * holds it in `earlier`, TD_EAGAIN when it changed under us (run again). */
static int slot_claim(mongoc_client_t *c, const booking_acct *b, int64_t minor, const char *hex,
                      char earlier[25])
{
    char id[64];
    slot_id(b, minor, id);
    int64_t now = td_now_ms();
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_SLOTS);
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(id), "payment", BCON_UTF8(hex), "at", BCON_INT64(now));
    bson_error_t err;
    int rc = TD_OK;
    bson_t found;
    bson_init(&found);
    if (mongoc_collection_insert_one(cl, doc, NULL, NULL, &err))
        goto out;
    rc = td_mongo_rc(&err);
    if (rc != TD_ECONFLICT)
        goto out;
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    rc = td_store_find_one(c, COLL_SLOTS, filter, &found);
    bson_destroy(filter);
    if (rc == TD_ENOTFOUND) {
        rc = TD_EAGAIN; /* released meanwhile: claim again */
        goto out;
    }
    if (rc != TD_OK)
        goto out;
    const char *holder = td_bson_str(&found, "payment");
    int64_t at = td_bson_int(&found, "at", 0);
    if (holder != NULL && strcmp(holder, hex) == 0)
        goto out; /* ours already */
    bool live = now - at < DUPLICATE_WINDOW_MS;
    if (live && (now - at < SLOT_GRACE_MS || holder == NULL || payment_exists(c, holder))) {
        TD_IGNORE(
            td_fmt(earlier, 25, "%s",
                   holder != NULL ? holder : "")); /* sized for it: ids, numbers, names of ours */
        rc = TD_ECONFLICT;
        goto out;
    }
    /* window over, or its payment never written: take it over if unchanged */
    bson_t *cas = BCON_NEW("_id", BCON_UTF8(id), "at", BCON_INT64(at));
    bson_t *set = BCON_NEW("$set", "{", "payment", BCON_UTF8(hex), "at", BCON_INT64(now), "}");
    bson_t reply;
    if (!mongoc_collection_update_one(cl, cas, set, NULL, &reply, &err))
        rc = td_mongo_rc(&err);
    else
        rc = td_bson_int(&reply, "matchedCount", 0) == 1 ? TD_OK : TD_EAGAIN;
    bson_destroy(&reply);
    bson_destroy(cas);
    bson_destroy(set);
out:
    bson_destroy(&found);
    bson_destroy(doc);
    mongoc_collection_destroy(cl);
    return rc;
}

/* Gives the slot back when the payment was not made (only if `hex` holds it). */
static void slot_release(mongoc_client_t *c, const booking_acct *b, int64_t minor, const char *hex)
{
    char id[64];
    slot_id(b, minor, id);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id), "payment", BCON_UTF8(hex));
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_SLOTS);
    bson_error_t err;
    if (!mongoc_collection_delete_one(cl, filter, NULL, NULL, &err))
        td_warn("payment slot %s not released: %s (it expires)", id, err.message);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
}

/* Journals the reservation of `minor` on booking b for payment hex before the
 * account takes it (an Idempotency-Key re-run finds its own: fine). */
int reservation_open(mongoc_client_t *c, const booking_acct *b, int64_t minor, const char *hex,
                     const char *refunded_payment)
{
    bson_t *doc = BCON_NEW("_id", BCON_UTF8(hex), "booking", BCON_OID(&b->oid), "minor",
                           BCON_INT64(minor), "at", BCON_INT64(td_now_ms()));
    if (refunded_payment != NULL)
        BSON_APPEND_UTF8(doc, "refundOf", refunded_payment);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_RESERVATIONS);
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_insert_one(cl, doc, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(cl);
    bson_destroy(doc);
    return rc == TD_ECONFLICT ? TD_OK : rc;
}

/* The payment is written, or the reservation given back: the journal entry goes
 * (a leftover is only re-checked by the reconciler). */
void reservation_close(mongoc_client_t *c, const char *hex)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(hex));
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_RESERVATIONS);
    bson_error_t err;
    if (!mongoc_collection_delete_one(cl, filter, NULL, NULL, &err))
        td_warn("account reservation %s not closed: %s (the reconciler will)", hex, err.message);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
}

bool payment_refund_find(const bson_t *pay, const char *refund, bson_t *out)
{
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, pay, "refunds") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return false;
    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        const uint8_t *data;
        uint32_t len;
        bson_t one;
        bson_iter_document(&arr, &len, &data);
        char hex[25];
        if (bson_init_static(&one, data, len) &&
            strcmp(td_bson_oid_hex(&one, "_id", hex), refund) == 0) {
            if (out != NULL) {
                bson_destroy(out);
                bson_copy_to(&one, out);
            }
            return true;
        }
    }
    return false;
}

cJSON *payment_refunds_json(const bson_t *pay)
{
    cJSON *out = cJSON_CreateArray();
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, pay, "refunds") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return out;
    char pay_hex[25];
    td_bson_oid_hex(pay, "_id", pay_hex);
    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        const uint8_t *data;
        uint32_t len;
        bson_t one;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&one, data, len))
            continue;
        cJSON *r = payment_json(&one, NULL);
        cJSON_AddStringToObject(r, "payment", pay_hex);
        cJSON_AddItemToArray(out, r);
    }
    return out;
}

/* Whether payment `payment` holds refund `refund` in its `refunds`; an
 * unreachable database counts as yes (nothing is given back on a doubt). */
static bool refund_applied(mongoc_client_t *c, const char *payment, const char *refund)
{
    if (!td_is_object_id(payment))
        return false;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, payment);
    bson_t filter = BSON_INITIALIZER, doc;
    BSON_APPEND_OID(&filter, "_id", &oid);
    bson_init(&doc);
    int rc = td_store_find_one(c, COLL_PAYMENTS, &filter, &doc);
    bool yes = rc != TD_ENOTFOUND;
    if (rc == TD_OK)
        yes = payment_refund_find(&doc, refund, NULL);
    bson_destroy(&filter);
    bson_destroy(&doc);
    return yes;
}

void reservations_reconcile(mongoc_client_t *c)
{
    if (c == NULL)
        return;
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_RESERVATIONS);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, &filter, NULL, NULL);
    const bson_t *doc;
    int64_t now = td_now_ms();
    while (mongoc_cursor_next(cur, &doc)) {
        const char *hex = td_bson_str(doc, "_id");
        if (hex == NULL || !td_is_object_id(hex) ||
            now - td_bson_int(doc, "at", now) < RESERVATION_STALE_MS)
            continue;
        const char *refund_of = td_bson_str(doc, "refundOf");
        char booking[25];
        booking_acct b;
        td_bson_oid_hex(doc, "booking", booking);
        int64_t minor = td_bson_int(doc, "minor", 0);
        int rc = booking_known(c, booking, &b);
        if (rc != TD_OK)
            continue;
        if (refund_of != NULL ? refund_applied(c, refund_of, hex) : payment_exists(c, hex)) {
            account_settle(c, &b, hex);
            reservation_close(c, hex);
            continue;
        }
        bool held = false;
        rc = account_holds(c, &b, hex, &held);
        if (rc == TD_OK && !held) { /* died before the account took it */
            reservation_close(c, hex);
            continue;
        }
        if (rc == TD_OK)
            rc = refund_of != NULL ? account_give_back(c, &b, 0, minor, hex)
                                   : account_give_back(c, &b, minor, 0, hex);
        if (rc == TD_OK) {
            td_warn("%s %s was never written: its %lld minor units given back to booking %s",
                    refund_of != NULL ? "refund" : "payment", hex, (long long)minor, booking);
            if (refund_of == NULL)
                slot_release(c, &b, minor, hex);
            reservation_close(c, hex);
        }
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur, &err))
        td_debug("account reservations not reconciled: %s", err.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(cl);
}

static int fail_overpayment(td_res *res, const booking_acct *b)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "outstanding",
                            td_money_to_double(booking_outstanding(b), b->decimals));
    cJSON_AddNumberToObject(d, "outstandingMinor", (double)booking_outstanding(b));
    cJSON_AddStringToObject(d, "currency", b->currency);
    return td_fail(res, 422, "OVERPAYMENT",
                   "The amount is more than the booking's outstanding balance", d);
}

typedef struct {
    const char *booking, *currency, *method, *transaction, *notes;
    int64_t paid_at;
    bool has_paid_at;
} payment_input;

static int read_input(td_req *req, td_res *res, const cJSON *body, payment_input *in)
{
    static const char *const fields[] = {"booking",       "amount", "currency", "paymentMethod",
                                         "transactionId", "paidAt", "notes",    NULL};
    memset(in, 0, sizeof *in);
    (void)req;
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "booking", true, 24, 24, res, &in->booking) != TD_OK ||
        td_get_str(body, "currency", false, 3, 3, res, &in->currency) != TD_OK ||
        td_get_enum(body, "paymentMethod", true, methods, res, &in->method) != TD_OK ||
        td_get_str(body, "transactionId", false, 1, 120, res, &in->transaction) != TD_OK ||
        td_get_str(body, "notes", false, 0, NOTES_MAX, res, &in->notes) != TD_OK)
        return TD_EINVAL;
    if (!td_is_object_id(in->booking))
        return bad_field(res, "booking", "booking must be a booking id (24 hex digits)");
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(body, "paidAt");
    if (pa != NULL) {
        if (!cJSON_IsString(pa) || td_parse_date(pa->valuestring, false, &in->paid_at) != TD_OK)
            return bad_field(res, "paidAt", "paidAt must be a date (ISO-8601)");
        in->has_paid_at = true;
    }
    if (cJSON_GetObjectItemCaseSensitive(body, "amount") == NULL)
        return bad_field(res, "amount", "amount is required");
    return TD_OK;
}

/* The payment event's payload: the common one, the payment and the booking's
 * account after it (what the booking service sets paymentStatus from). */
static cJSON *event_payload(td_req *req, const char *type, const char *hex, cJSON *before,
                            const bson_t *doc, const booking_acct *b)
{
    cJSON *p = td_event_payload(req, type, "payment", hex, before, payment_json(doc, NULL));
    cJSON_AddItemToObject(p, "payment", payment_json(doc, NULL));
    cJSON_AddItemToObject(p, "booking", booking_summary_json(b));
    return p;
}

static int create_checked(td_req *req, td_res *res, const cJSON *body)
{
    payment_input in;
    if (read_input(req, res, body, &in) != TD_OK)
        return 0;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    booking_acct b;
    int rc = booking_known(c, in.booking, &b);
    if (rc == TD_ENOTFOUND) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "booking", in.booking);
        return td_fail(res, 422, "UNKNOWN_BOOKING",
                       "No such booking is known to the payment service (yet)", d);
    }
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    if (!sees_booking(req, &b))
        return td_fail(res, 403, "FORBIDDEN",
                       "Recording a payment of another agent's booking needs canViewAllPayments",
                       NULL);
    if (booking_closed(&b)) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "status", b.status);
        return td_fail(res, 422, "BOOKING_CLOSED",
                       "A cancelled, refunded or deleted booking takes no payments", d);
    }
    if (in.currency != NULL && strcmp(in.currency, b.currency) != 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "currency", b.currency);
        return td_fail(res, 422, "CURRENCY_MISMATCH", "The currency must be the booking's", d);
    }
    int64_t minor;
    if (read_amount(body, "amount", b.decimals, res, &minor) != TD_OK)
        return 0;
    bson_oid_t oid;
    char hex[25], earlier[25] = "";
    td_req_new_oid(req, &oid);
    bson_oid_to_string(&oid, hex);
    if (minor > booking_outstanding(&b) && !(req->idem != NULL && req->idem->rerun))
        return fail_overpayment(res, &b);
    rc = slot_claim(c, &b, minor, hex, earlier);
    if (rc == TD_EAGAIN) {
        cas_retry(req, res);
        return 0;
    }
    if (rc == TD_ECONFLICT) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "payment", earlier);
        cJSON_AddNumberToObject(d, "windowSeconds", DUPLICATE_WINDOW_S);
        return td_fail(res, 409, "DUPLICATE_PAYMENT",
                       "The same amount was paid for this booking within the last 5 minutes", d);
    }
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    if (req->idem != NULL && req->idem->rerun && payment_exists(c, hex)) {
        /* an earlier attempt of this key wrote it: td_store_insert answers it */
    } else {
        rc = reservation_open(c, &b, minor, hex, NULL);
        if (rc != TD_OK) {
            slot_release(c, &b, minor, hex);
            return td_fail_rc(res, rc, NULL);
        }
        bool held = false;
        if (req->idem != NULL && req->idem->rerun)
            rc = account_holds(c, &b, hex, &held); /* an earlier attempt reserved it */
        for (int i = 0; rc == TD_OK && !held; i++) {
            if (minor > booking_outstanding(&b)) {
                slot_release(c, &b, minor, hex);
                reservation_close(c, hex);
                return fail_overpayment(res, &b);
            }
            rc = account_add(c, &b, minor, 0, hex);
            if (rc != TD_ECONFLICT)
                break;
            if (i + 1 == CAS_TRIES || (rc = booking_known(c, b.id, &b)) != TD_OK)
                break;
        }
        if (rc != TD_OK) {
            slot_release(c, &b, minor, hex);
            reservation_close(c, hex);
            if (rc == TD_ECONFLICT)
                cas_retry(req, res);
            else
                td_fail_rc(res, rc, NULL);
            return 0;
        }
    }
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_OID(&doc, "booking", &b.oid);
    BSON_APPEND_UTF8(&doc, "bookingReference", b.reference);
    bson_oid_t agent, customer, me;
    bson_oid_init_from_string(&agent, b.agent);
    bson_oid_init_from_string(&customer, b.customer);
    BSON_APPEND_OID(&doc, "agent", &agent);
    BSON_APPEND_OID(&doc, "customer", &customer);
    BSON_APPEND_DOUBLE(&doc, "amount", td_money_to_double(minor, b.decimals));
    BSON_APPEND_INT64(&doc, "amountMinor", minor);
    BSON_APPEND_UTF8(&doc, "currency", b.currency);
    BSON_APPEND_UTF8(&doc, "paymentMethod", in.method);
    if (in.transaction != NULL)
        BSON_APPEND_UTF8(&doc, "transactionId", in.transaction);
    if (in.notes != NULL)
        BSON_APPEND_UTF8(&doc, "notes", in.notes);
    BSON_APPEND_DATE_TIME(&doc, "paidAt", in.has_paid_at ? in.paid_at : now);
    BSON_APPEND_UTF8(&doc, "status", "completed");
    BSON_APPEND_DOUBLE(&doc, "refunded", 0);
    BSON_APPEND_INT64(&doc, "refundedMinor", 0);
    if (td_is_object_id(req->principal.agent_id)) {
        bson_oid_init_from_string(&me, req->principal.agent_id);
        BSON_APPEND_OID(&doc, "recordedBy", &me);
    }
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    cJSON *payload = event_payload(req, "PAYMENT_RECEIVED", hex, NULL, &doc, &b);
    rc = td_store_insert(req, COLL_PAYMENTS, &doc, "PAYMENT_RECEIVED", payload);
    cJSON_Delete(payload);
    if (rc == TD_OK) {
        account_settle(c, &b, hex);
        reservation_close(c, hex);
        td_ok(res, 201, payment_json(&doc, NULL));
    } else if (rc == TD_ECONFLICT) {
        td_fail_rc(res, rc, "payment not recorded");
    } else {
        /* Not written (or unknown: then the Idempotency-Key retry finds it): give the
         * balance and the slot back only when it certainly is not there. */
        if (!payment_exists(c, hex) && account_give_back(c, &b, minor, 0, hex) == TD_OK) {
            slot_release(c, &b, minor, hex);
            reservation_close(c, hex);
        } /* else the journal entry stays: the reconciler decides later */
        td_fail_rc(res, rc, "payment not recorded");
    }
    bson_destroy(&doc);
    return 0;
}

static int create(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    if (td_req_json(req, res, &body) == TD_OK)
        create_checked(req, res, body);
    cJSON_Delete(body);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (payment_load_visible(req, res, &doc) == TD_OK)
        td_ok(res, 200, payment_json(&doc, NULL));
    bson_destroy(&doc);
    return 0;
}

/* Appends the refunds of the payments in items (the list copy's raw JSON, or the
 * database's objects) to out, each with its `payment`. */
static void add_refunds(const cJSON *items, cJSON *out)
{
    for (const cJSON *it = items != NULL ? items->child : NULL; it != NULL; it = it->next) {
        cJSON *parsed = cJSON_IsRaw(it) ? cJSON_Parse(it->valuestring) : NULL;
        const cJSON *pay = parsed != NULL ? parsed : it;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(pay, "_id");
        const cJSON *refunds = cJSON_GetObjectItemCaseSensitive(pay, "refunds");
        for (const cJSON *r = cJSON_IsArray(refunds) ? refunds->child : NULL; r != NULL;
             r = r->next) {
            cJSON *one = cJSON_Duplicate(r, true);
            if (one != NULL && cJSON_IsString(id))
                cJSON_AddStringToObject(one, "payment", id->valuestring);
            cJSON_AddItemToArray(out, one);
        }
        cJSON_Delete(parsed);
    }
}

/* The refunds of every payment of booking `id`, oldest payment first, into out:
 * from the payment list copy (read rule: no filter scan on FerretDB), else from
 * the database by its index payment_booking_paid. TD_EAGAIN during the copy's
 * first load (the caller runs again shortly). */
static int booking_refunds(mongoc_client_t *c, const char *id, cJSON *out)
{
    char raw[128];
    TD_IGNORE(td_fmt(raw, sizeof raw, "booking=%s&sortBy=paidAt&sortOrder=asc&limit=%d", id,
                     TD_LIST_MAX_LIMIT)); /* sized for it: ids, numbers, names of ours */
    td_list l;
    td_res bad = {0};
    int rc = td_list_parse(&list_spec, raw, &l, &bad);
    td_res_clear(&bad);
    for (int64_t seen = 0, total = 1; rc == TD_OK && seen < total; l.page++) {
        cJSON *items = NULL;
        td_listindex *copy = td_list_copy_if_on(list_copy);
        rc = copy != NULL ? td_listindex_query_degraded(copy, c, &l, &items, &total, NULL)
                          : TD_EUNAVAIL;
        if (rc == TD_EUNAVAIL || rc == TD_EINVAL) {
            mongoc_collection_t *cl = td_mongo_coll(c, COLL_PAYMENTS);
            rc = td_list_run(cl, &l, payment_json, NULL, &items, &total);
            mongoc_collection_destroy(cl);
        }
        if (rc == TD_OK) {
            add_refunds(items, out);
            seen += cJSON_GetArraySize(items);
            if (cJSON_GetArraySize(items) == 0)
                total = seen; /* nothing more: a page past the end */
        }
        cJSON_Delete(items);
    }
    td_list_free(&l);
    return rc;
}

static int summary(td_req *req, td_res *res)
{
    const char *id = td_req_param(req, "bookingId");
    if (!td_is_object_id(id))
        return td_fail(res, 400, "INVALID_ID", "The booking id must be 24 hex digits", NULL);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    booking_acct b;
    int rc = booking_known(c, id, &b);
    if (rc == TD_OK && !sees_booking(req, &b))
        rc = TD_ENOTFOUND;
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "Booking not found");
    cJSON *refunds = cJSON_CreateArray();
    rc = booking_refunds(c, id, refunds);
    if (rc == TD_EAGAIN) {
        cJSON_Delete(refunds);
        if (td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS))
            return 0;
        td_res_header(res, "Retry-After", "2");
        return td_fail(res, 503, "LIST_LOADING",
                       "The payments are being loaded after a restart; retry in a few seconds",
                       NULL);
    }
    if (rc != TD_OK) {
        cJSON_Delete(refunds);
        return td_fail_rc(res, rc, NULL);
    }
    cJSON *data = booking_summary_json(&b);
    cJSON_AddItemToObject(data, "refunds", refunds);
    return td_ok(res, 200, data);
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (td_list_parse(&list_spec, req->query, &l, res) != TD_OK)
        goto out;
    bson_iter_t it;
    if (!may_see_all(req)) {
        if (bson_iter_init_find(&it, &l.filter, "agent")) {
            char who[25] = "";
            if (BSON_ITER_HOLDS_OID(&it))
                bson_oid_to_string(bson_iter_oid(&it), who);
            if (strcmp(who, req->principal.agent_id) != 0) {
                td_fail(res, 403, "FORBIDDEN", "You may only list your own bookings' payments",
                        NULL);
                goto out;
            }
        } else {
            bson_oid_t me;
            bson_oid_init_from_string(&me, req->principal.agent_id);
            BSON_APPEND_OID(&l.filter, "agent", &me);
        }
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    cJSON *items = NULL;
    int64_t total = 0;
    bool degraded = false;
    td_listindex *copy = td_list_copy_if_on(list_copy);
    int rc = copy != NULL ? td_listindex_query_degraded(copy, c, &l, &items, &total, &degraded)
                          : TD_EUNAVAIL;
    td_list_answer_model(req, res, rc, items, total, degraded, COLL_PAYMENTS, &l,
                         payment_json); /* answers, or parks the request */
out:
    td_list_free(&l);
    return 0;
}
