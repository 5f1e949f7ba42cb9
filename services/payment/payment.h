/*
 * The payment service's map (issue 12): payments and refunds of bookings it knows
 * from the booking service's events, with exact money (integer minor units,
 * tripdesk/money.h), duplicate protection and Idempotency-Key.
 *
 * Collections (database tripdesk_payment):
 *   bookings       the booking copy (bookings_known.c), one per booking by its
 *                  ObjectId: what payments need of it (reference, agent, customer,
 *                  pricing in minor units, currency, status, dates, `seq` of the last
 *                  booking event applied) and its account: paidMinor, refundedMinor
 *                  and `v`, changed only by compare-and-set on `v` (race-proof
 *                  across daemons: no overpayment, no over-refund).
 *   payments       one per payment (payments.c), with `_events` staged by td_store
 *                  and its refunds (refunds.c) in `refunds` [{_id, amount,
 *                  amountMinor, currency, reason, processedBy, createdAt}], each added
 *                  by the same versioned update as its refundedMinor: the record an
 *                  Idempotency-Key retry and the reconciler find.
 *   payment_slots  "<booking>:<amountMinor>": the payment that holds that amount of
 *                  the booking for DUPLICATE_WINDOW_MS (payments.c).
 *   account_reservations  one per payment between its account reservation and its
 *                  insert (payments.c): what a crash in between leaves is given back
 *                  by reservations_reconcile.
 *   idempotency    Idempotency-Key records (shared/src/idempotency.c).
 */
#ifndef PAYMENT_H
#define PAYMENT_H

#include "tripdesk/bsonpath.h"
#include "tripdesk/docjson.h"
#include "tripdesk/idempotency.h"
#include "tripdesk/listcopies.h"
#include "tripdesk/listindex.h"
#include "tripdesk/money.h"
#include "tripdesk/mongo.h"
#include "tripdesk/query.h"
#include "tripdesk/service.h"
#include "tripdesk/store.h"
#include "tripdesk/validate.h"

#define COLL_BOOKINGS "bookings"
#define COLL_PAYMENTS "payments"
#define COLL_SLOTS "payment_slots"
#define COLL_RESERVATIONS "account_reservations"
#define COLL_COMMISSIONS "commissions"
#define COLL_RATES "commission_rates"
#define COLL_RATES_HISTORY "commission_rates_history"

#define VIEW_ALL_PAYMENTS "canViewAllPayments"
#define PROCESS_REFUNDS "canProcessRefunds"
#define MANAGE_SETTINGS "canManageSettings"

#define DUPLICATE_WINDOW_S 300 /* same booking + amount: 409 within it */
#define DUPLICATE_WINDOW_MS ((int64_t)DUPLICATE_WINDOW_S * 1000)
/* A slot whose payment was never written (its request died) is taken over after
 * this long; younger ones belong to requests in flight and count. */
#define SLOT_GRACE_MS 10000
#define CAS_TRIES 8      /* compare-and-set attempts on an account, then retry */
#define CAS_RETRY_MS 10  /* the framework runs the request again after this */
#define CAS_WAIT_MS 3000 /* at most this long, then 409 CONCURRENT_UPDATE */
#define NOTES_MAX 2000

/* A 400 naming one field (td_fail_field), returning TD_EINVAL for the caller's check. */
static inline int bad_field(td_res *res, const char *field, const char *message)
{
    td_fail_field(res, field, message);
    return TD_EINVAL;
}

/* What the service knows of a booking (bookings_known.c). Amounts in minor units
 * of currency (decimals places). */
typedef struct {
    bson_oid_t oid;
    char id[25], reference[40], agent[25], customer[25], currency[4], status[24];
    char agent_role[24]; /* the role of the agent who made the booking */
    int decimals;
    int64_t total, tax, discount;
    int64_t paid, refunded, v;
} booking_acct;

/* bookings_known.c */
int bookings_indexes(mongoc_client_t *c);
/* The booking with id `hex` into *out: TD_ENOTFOUND when no event told of it. */
int booking_known(mongoc_client_t *c, const char *hex, booking_acct *out);
/* The booking service's events: keeps the copy, idempotent by sequence. */
int booking_event(const td_event *ev, mongoc_client_t *c, void *arg);
/* What is owed: total less discount (tax is part of the total). */
int64_t booking_due(const booking_acct *b);
int64_t booking_outstanding(const booking_acct *b);
/* unpaid, partially_paid, paid or refunded from the account. */
const char *booking_payment_status(const booking_acct *b);
bool booking_closed(const booking_acct *b);
/* Adds d_paid and d_refunded to the account if its `v` is still b->v: TD_OK with b
 * updated (v + 1), TD_ECONFLICT when it changed meanwhile or (giving back: a negative
 * delta) the account no longer holds the reservation (re-read and decide again).
 * The same write records (positive) or removes (negative) the reservation `mark`
 * (the payment's or refund's id) in the account, so that a re-run after a crash
 * knows whether the account took it (account_holds) and a give-back happens at
 * most once. account_settle forgets the mark once the guarded write is in. */
int account_add(mongoc_client_t *c, booking_acct *b, int64_t d_paid, int64_t d_refunded,
                const char *mark);
int account_holds(mongoc_client_t *c, const booking_acct *b, const char *mark, bool *yes);
/* Gives back what reservation `mark` took (d_paid, d_refunded: the positive amounts
 * it added), retrying the compare-and-set while others change the account, for at
 * most GIVE_BACK_WAIT_MS: TD_OK once given back or when the account no longer holds
 * it (given back already). On any other result the reservation's journal entry must
 * stay: the reconciler gives it back later. */
#define GIVE_BACK_WAIT_MS 2000
#define GIVE_BACK_JITTER_MS 5
TD_MUST_CHECK int account_give_back(mongoc_client_t *c, booking_acct *b, int64_t d_paid,
                                    int64_t d_refunded, const char *mark);
void account_settle(mongoc_client_t *c, const booking_acct *b, const char *mark);
/* {id, reference, paidMinor, refundedMinor, dueMinor, paid, refunded, outstanding,
 * currency, paymentStatus, accountVersion}: the summary and the events' "booking". */
cJSON *booking_summary_json(const booking_acct *b);

/* payments.c */
extern const td_route payment_routes[];
int payments_indexes(mongoc_client_t *c);
int payments_list_new(void);
void payments_list_maintain(mongoc_client_t *c);
void payments_list_free(void);
cJSON *payment_json(const bson_t *doc, void *arg);
/* Loads the :id payment the caller may see (own bookings unless
 * canViewAllPayments): else answers 400/404/503 and returns non-zero. */
int payment_load_visible(td_req *req, td_res *res, bson_t *out);
/* Whether payment document pay holds refund `refund` (hex) in its `refunds`; with
 * out (initialised, or NULL) a copy of that entry. */
bool payment_refund_find(const bson_t *pay, const char *refund, bson_t *out);
/* The payment's refunds as the API shows them, each with `payment` (caller owns). */
cJSON *payment_refunds_json(const bson_t *pay);
/* Reads a positive amount of the currency from body[name] into minor units. */
int read_amount(const cJSON *body, const char *name, int decimals, td_res *res, int64_t *minor);
/* A periodic task: gives back the account reservations older than
 * RESERVATION_STALE_MS whose payment was never written (the daemon died between
 * the two writes), and forgets those whose payment exists. */
#define RESERVATION_STALE_MS 60000
#define RECONCILE_MS 5000
void reservations_reconcile(mongoc_client_t *c);
/* The journal entry of a payment (refunded_payment NULL; hex: the payment's id) or of
 * a refund of payment refunded_payment (hex: the refund's id), written before the
 * account changes; closed once the write it guards is in or given back. */
int reservation_open(mongoc_client_t *c, const booking_acct *b, int64_t minor, const char *hex,
                     const char *refunded_payment);
void reservation_close(mongoc_client_t *c, const char *hex);
/* 409 CONCURRENT_UPDATE, or true when the request will run again shortly. */
bool cas_retry(td_req *req, td_res *res);

/* events.c: subscriptions and tracked collections. */
int payment_events_setup(td_bus *bus);

/* commissions.c: one per booking, from the booking events. */
#define APPROVE_COMMISSIONS "canApproveCommissions"
#define COMMISSIONS_CACHE_NS "commissions" /* the summary's cache namespace (cache.h) */
extern const td_route commission_routes[];
/* The commission list copy (NULL before commissions_list_new). */
td_listindex *commissions_list_copy(void);
void commissions_set_bus(td_bus *bus);
/* The commission list's in-memory copy (listindex.h), as the payments'. */
int commissions_list_new(void);
void commissions_list_maintain(mongoc_client_t *c);
void commissions_list_free(void);
int commission_on_confirmed(const td_event *ev, mongoc_client_t *c, const char *booking);
int commission_on_closed(const td_event *ev, mongoc_client_t *c, const char *booking);

/* commission_summary.c: GET /api/commissions/summary from the read model kept
 * beside the commission list copy (per agent, currency and status: sums in minor
 * units and counts), or from the database with TRIPDESK_LIST_COPIES=off. */
int commission_summary(td_req *req, td_res *res);
/* The read model's hooks, for the list copy's options. */
void commission_model_opts(td_listindex_opts *o);
/* The index the database path's filter uses on MongoDB. */
int commissions_indexes(mongoc_client_t *c);

/* rates.c: commission rates (basis points) per role and per agent, versioned. */
extern const td_route rate_routes[];
int rate_for(mongoc_client_t *c, const char *agent, const char *role, int *bp, int64_t *version);

/* refunds.c */
extern const td_route refund_routes[];

#endif
