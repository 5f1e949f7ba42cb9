/*
 * POST /api/payments/:id/refund {amount, reason}: a partial or full refund of one
 * payment (canProcessRefunds), never more than what is left of it (422
 * REFUND_EXCEEDS_PAYMENT naming the refundable amount). The booking's account takes
 * the refund first (compare-and-set), then the payment is updated on its version
 * with the PAYMENT_REFUNDED event: that one write adds the refund to the payment's
 * `refunds` array ($push, by the id an Idempotency-Key retry derives again) and to
 * its refundedMinor ($inc), so the payment and its refunds are one document (two
 * refunds of one payment on two daemons cannot both pass the limit). A journal
 * entry (reservation_open) guards the account change until the payment update is
 * in: the reconciler gives back a refund the payment does not hold.
 *
 * GET /api/payments/:id/refunds: that array, to whoever may see the payment.
 */
#include "payment.h"

#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

static int refund(td_req *req, td_res *res);
static int refunds_of(td_req *req, td_res *res);

const td_route refund_routes[] = {
    {"POST", "/api/payments/:id/refund", refund, TD_ROUTE_IDEMPOTENT, PROCESS_REFUNDS},
    {"GET", "/api/payments/:id/refunds", refunds_of, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

/* The answer to a refund: the refund as the payment holds it, its payment and
 * booking, and the payment after it. */
static void answer_refund(td_res *res, const bson_t *entry, const bson_t *pay)
{
    cJSON *data = payment_json(entry, NULL);
    char hex[25];
    cJSON_AddStringToObject(data, "payment", td_bson_oid_hex(pay, "_id", hex));
    cJSON_AddStringToObject(data, "booking", td_bson_oid_hex(pay, "booking", hex));
    cJSON_AddItemToObject(data, "paymentAfter", payment_json(pay, NULL));
    td_ok(res, 201, data);
}

static int refund_checked(td_req *req, td_res *res, const cJSON *body, const bson_t *pay)
{
    static const char *const fields[] = {"amount", "reason", NULL};
    const char *reason = NULL;
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "reason", true, 1, 500, res, &reason) != TD_OK)
        return 0;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    char pay_hex[25], booking_hex[25];
    td_bson_oid_hex(pay, "_id", pay_hex);
    td_bson_oid_hex(pay, "booking", booking_hex);
    booking_acct b;
    int rc = booking_known(c, booking_hex, &b);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "The payment's booking is not known");
    int64_t minor;
    if (read_amount(body, "amount", b.decimals, res, &minor) != TD_OK)
        return 0;
    bson_oid_t rid;
    char rid_hex[25];
    td_req_new_oid(req, &rid);
    bson_oid_to_string(&rid, rid_hex);
    bson_t existing;
    bson_init(&existing);
    if (req->idem != NULL && req->idem->rerun && payment_refund_find(pay, rid_hex, &existing)) {
        /* an earlier attempt of this key wrote it (and died before answering) */
        account_settle(c, &b, rid_hex);
        reservation_close(c, rid_hex);
        answer_refund(res, &existing, pay);
        bson_destroy(&existing);
        return 0;
    }
    bson_destroy(&existing);
    int64_t paid = td_bson_int(pay, "amountMinor", 0);
    int64_t done = td_bson_int(pay, "refundedMinor", 0);
    if (minor > paid - done) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "refundable", td_money_to_double(paid - done, b.decimals));
        cJSON_AddNumberToObject(d, "refundableMinor", (double)(paid - done));
        cJSON_AddStringToObject(d, "currency", b.currency);
        return td_fail(res, 422, "REFUND_EXCEEDS_PAYMENT",
                       "A refund cannot be more than what is left of the payment", d);
    }
    rc = reservation_open(c, &b, minor, rid_hex, pay_hex);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    bool held = false;
    if (req->idem != NULL && req->idem->rerun)
        rc = account_holds(c, &b, rid_hex, &held); /* an earlier attempt took it */
    for (int i = 0; rc == TD_OK && !held; i++) {
        rc = account_add(c, &b, 0, minor, rid_hex);
        if (rc != TD_ECONFLICT || i + 1 == CAS_TRIES || (rc = booking_known(c, b.id, &b)) != TD_OK)
            break;
    }
    if (rc != TD_OK)
        reservation_close(c, rid_hex);
    if (rc == TD_ECONFLICT) {
        cas_retry(req, res);
        return 0;
    }
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);

    int64_t after = done + minor;
    const char *status = after == paid ? "refunded" : "partially_refunded";
    bson_oid_t pid;
    bson_oid_init_from_string(&pid, pay_hex);
    bson_t update = BSON_INITIALIZER, updated;
    bson_init(&updated);
    bson_t *inc = BCON_NEW("refundedMinor", BCON_INT64(minor));
    bson_t *set = BCON_NEW("refunded", BCON_DOUBLE(td_money_to_double(after, b.decimals)), "status",
                           BCON_UTF8(status));
    /* the refund itself, in the same write: what a retry and the reconciler find */
    bson_t entry = BSON_INITIALIZER, push = BSON_INITIALIZER;
    BSON_APPEND_OID(&entry, "_id", &rid);
    BSON_APPEND_DOUBLE(&entry, "amount", td_money_to_double(minor, b.decimals));
    BSON_APPEND_INT64(&entry, "amountMinor", minor);
    BSON_APPEND_UTF8(&entry, "currency", b.currency);
    BSON_APPEND_UTF8(&entry, "reason", reason);
    BSON_APPEND_UTF8(&entry, "processedBy", req->principal.agent_id);
    BSON_APPEND_DATE_TIME(&entry, "createdAt", td_now_ms());
    BSON_APPEND_DOCUMENT(&push, "refunds", &entry);
    BSON_APPEND_DOCUMENT(&update, "$inc", inc);
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    BSON_APPEND_DOCUMENT(&update, "$push", &push);
    bson_destroy(inc);
    bson_destroy(set);
    bson_destroy(&push);
    cJSON *before = cJSON_CreateObject(), *aft = cJSON_CreateObject();
    cJSON_AddNumberToObject(before, "refundedMinor", (double)done);
    cJSON_AddStringToObject(before, "status", td_bson_str(pay, "status"));
    cJSON_AddNumberToObject(aft, "refundedMinor", (double)after);
    cJSON_AddStringToObject(aft, "status", status);
    cJSON *payload = td_event_payload(req, "PAYMENT_REFUNDED", "payment", pay_hex, before, aft);
    cJSON *r = cJSON_AddObjectToObject(payload, "refund");
    cJSON_AddStringToObject(r, "_id", rid_hex);
    cJSON_AddNumberToObject(r, "amount", td_money_to_double(minor, b.decimals));
    cJSON_AddNumberToObject(r, "amountMinor", (double)minor);
    cJSON_AddStringToObject(r, "currency", b.currency);
    cJSON_AddStringToObject(r, "reason", reason);
    cJSON_AddItemToObject(payload, "booking", booking_summary_json(&b));
    rc = td_store_update(req, COLL_PAYMENTS, &pid, td_bson_int(pay, "version", 0), &update,
                         "PAYMENT_REFUNDED", payload, &updated);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc != TD_OK) {
        /* the payment changed meanwhile (or is unreachable): the account gives the
         * refund back; if even that fails the journal entry stays for the reconciler */
        int back = account_give_back(c, &b, 0, minor, rid_hex);
        if (back == TD_OK)
            reservation_close(c, rid_hex);
        else
            td_warn("refund %s of booking %s not given back to its account yet: %s (the "
                    "reconciler will)",
                    rid_hex, b.id, td_strerror(back));
        if (back != TD_OK || rc != TD_ENOTFOUND || !cas_retry(req, res))
            if (res->status == 0)
                td_fail_rc(res, back != TD_OK ? TD_EUNAVAIL : rc, "refund not recorded");
        bson_destroy(&updated);
        bson_destroy(&entry);
        return 0;
    }
    account_settle(c, &b, rid_hex);
    reservation_close(c, rid_hex);
    answer_refund(res, &entry, &updated);
    bson_destroy(&entry);
    bson_destroy(&updated);
    return 0;
}

static int refund(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    bson_t pay;
    bson_init(&pay);
    if (td_req_json(req, res, &body) == TD_OK && payment_load_visible(req, res, &pay) == TD_OK)
        refund_checked(req, res, body, &pay);
    cJSON_Delete(body);
    bson_destroy(&pay);
    return 0;
}

static int refunds_of(td_req *req, td_res *res)
{
    bson_t pay;
    bson_init(&pay);
    if (payment_load_visible(req, res, &pay) == TD_OK)
        td_ok(res, 200, payment_refunds_json(&pay));
    bson_destroy(&pay);
    return 0;
}
