/*
 * /api/commissions: one commission per booking (its _id is the booking's, so a
 * confirmation delivered twice or handled by two daemons makes one), created when
 * the booking service's event says the booking was confirmed, at the rate in force
 * for its agent (rates.c) on the net amount: total - tax - discount, in minor units,
 * rounded half up. pending -> approved (canApproveCommissions) -> paid (with a
 * payoutReference), or pending/approved -> rejected. A booking cancelled or
 * refunded cancels a pending or approved commission and gives a paid one a negative
 * adjustment (adjustmentMinor = -amountMinor) that the summary subtracts.
 *
 * The summary (commission_summary.c) comes from a read model beside the list copy
 * and is cached in Redis (namespace "commissions", 5 min, X-Cache); every
 * commission write invalidates it.
 *
 * Events: COMMISSION_CREATED / _CANCELLED / _ADJUSTED (staged in the commission
 * document by the same write and committed after it, as td_store does),
 * COMMISSION_APPROVED / _REJECTED / _PAID (td_store_update).
 */
#include "payment.h"

#include "tripdesk/cache.h"
#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

#define APPROVE APPROVE_COMMISSIONS
#define CACHE_NS COMMISSIONS_CACHE_NS
#define BULK_MAX 100

static int list(td_req *req, td_res *res);
static int approve(td_req *req, td_res *res);
static int reject(td_req *req, td_res *res);
static int pay_out(td_req *req, td_res *res);
static int bulk_approve(td_req *req, td_res *res);

const td_route commission_routes[] = {
    {"GET", "/api/commissions", list, 0, NULL},
    {"GET", "/api/commissions/summary", commission_summary, 0, NULL},
    {"PATCH", "/api/commissions/:id/approve", approve, 0, APPROVE},
    {"PATCH", "/api/commissions/:id/reject", reject, 0, APPROVE},
    {"PATCH", "/api/commissions/:id/pay", pay_out, 0, APPROVE},
    {"POST", "/api/commissions/bulk-approve", bulk_approve, 0, APPROVE},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const statuses[] = {"pending",  "approved",  "paid",
                                       "rejected", "cancelled", NULL};
static const td_qp list_params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"agent", TD_QP_OID, "agent", NULL},
    {"booking", TD_QP_OID, "booking", NULL},
    {"currency", TD_QP_EQ, "currency", NULL},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "amount", "status", NULL};
static const char *const sort_fields[] = {"createdAt", "amount", "status", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_bus *events_bus;
static td_listindex *list_copy;

/* Every write to commissions goes into the list copy (td_store observer, and the
 * event handlers' own writes). */
static void put_copy(const char *coll, const bson_t *doc, void *arg)
{
    (void)coll;
    (void)arg;
    if (list_copy != NULL)
        td_listindex_put(list_copy, doc);
}

static cJSON *commission_json(const bson_t *doc, void *arg);

int commissions_list_new(void)
{
    const char *fields[] = {"status", "agent", "booking", "currency", "createdAt", "amount", NULL};
    td_listindex_opts opts = {0};
    commission_model_opts(&opts);              /* the summary's sums beside the table */
    if (td_list_copies_use() == TD_COPIES_OFF) /* listcopies.h; configured first */
        return TD_OK;
    int rc = td_listindex_new_opts(&list_copy, COLL_COMMISSIONS, "commissions-list", fields,
                                   commission_json, &opts);
    if (rc == TD_OK)
        rc = td_store_on_write(COLL_COMMISSIONS, put_copy, NULL);
    return rc;
}

td_listindex *commissions_list_copy(void)
{
    return list_copy;
}

void commissions_list_maintain(mongoc_client_t *c)
{
    if (list_copy != NULL && td_list_copies_decide(c) == TD_COPIES_ON)
        td_listindex_maintain(list_copy, c);
}

void commissions_list_free(void)
{
    td_listindex_free(list_copy);
    list_copy = NULL;
}

void commissions_set_bus(td_bus *bus)
{
    events_bus = bus;
}

/* A system event's payload (no request: the actor is the booking event's). */
static cJSON *system_payload(const char *type, const char *id, const td_event *cause, cJSON *before,
                             cJSON *after)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "action", type);
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(cause->payload, "actor");
    cJSON_AddItemToObject(p, "actor",
                          actor != NULL ? cJSON_Duplicate(actor, true) : cJSON_CreateNull());
    cJSON *t = cJSON_AddObjectToObject(p, "target");
    cJSON_AddStringToObject(t, "type", "commission");
    cJSON_AddStringToObject(t, "id", id);
    cJSON *ch = cJSON_AddObjectToObject(p, "changes");
    cJSON_AddItemToObject(ch, "before", before != NULL ? before : cJSON_CreateNull());
    cJSON_AddItemToObject(ch, "after", after != NULL ? after : cJSON_CreateNull());
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(cause->payload, "metadata");
    if (meta != NULL)
        cJSON_AddItemToObject(p, "metadata", cJSON_Duplicate(meta, true));
    cJSON_AddStringToObject(p, "causedBy", cause->id);
    return p;
}

static cJSON *commission_json(const bson_t *doc, void *arg)
{
    return payment_json(doc, arg);
}

int commission_on_confirmed(const td_event *ev, mongoc_client_t *c, const char *booking)
{
    booking_acct b;
    int rc = booking_known(c, booking, &b);
    if (rc == TD_ENOTFOUND)
        return TD_OK;
    if (rc != TD_OK)
        return rc;
    int bp;
    int64_t rates_version;
    rc = rate_for(c, b.agent, b.agent_role, &bp, &rates_version);
    if (rc != TD_OK)
        return rc;
    int64_t net = b.total - b.tax - b.discount;
    if (net < 0)
        net = 0;
    int64_t amount = (net * bp + 5000) / 10000;
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t agent;
    bson_oid_init_from_string(&agent, b.agent);
    BSON_APPEND_OID(&doc, "_id", &b.oid);
    BSON_APPEND_OID(&doc, "booking", &b.oid);
    BSON_APPEND_UTF8(&doc, "bookingReference", b.reference);
    BSON_APPEND_OID(&doc, "agent", &agent);
    BSON_APPEND_UTF8(&doc, "agentRole", b.agent_role);
    BSON_APPEND_UTF8(&doc, "currency", b.currency);
    BSON_APPEND_INT32(&doc, "decimals", b.decimals);
    BSON_APPEND_INT64(&doc, "netMinor", net);
    BSON_APPEND_DOUBLE(&doc, "net", td_money_to_double(net, b.decimals));
    BSON_APPEND_INT32(&doc, "rateBasisPoints", bp);
    BSON_APPEND_INT64(&doc, "ratesVersion", rates_version);
    BSON_APPEND_INT64(&doc, "amountMinor", amount);
    BSON_APPEND_DOUBLE(&doc, "amount", td_money_to_double(amount, b.decimals));
    BSON_APPEND_UTF8(&doc, "status", "pending");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    cJSON *payload =
        system_payload("COMMISSION_CREATED", b.id, ev, NULL, commission_json(&doc, NULL));
    char evid[25];
    rc = td_bus_stage(&doc, "COMMISSION_CREATED", payload, evid);
    cJSON_Delete(payload);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_COMMISSIONS);
    bson_error_t err;
    if (rc == TD_OK && !mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err))
        rc = td_mongo_rc(&err);
    mongoc_collection_destroy(cl);
    if (rc == TD_OK) {
        put_copy(COLL_COMMISSIONS, &doc, NULL);
        td_cache_invalidate(CACHE_NS);
    }
    if (rc == TD_OK && events_bus != NULL) /* staged in the document: else the sweeper */
        TD_IGNORE(td_bus_commit_doc(events_bus, c, COLL_COMMISSIONS, &doc));
    if (rc == TD_ECONFLICT)
        rc = TD_OK; /* made before: one per booking */
    bson_destroy(&doc);
    return rc;
}

/* One conditional update with a staged event, then its commit: TD_ENOTFOUND when
 * the filter matched nothing (nothing to do). */
static int system_update(mongoc_client_t *c, bson_t *filter, bson_t *set, const char *type,
                         const cJSON *payload)
{
    bson_t update = BSON_INITIALIZER;
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    bson_t *inc = BCON_NEW("version", BCON_INT64(1));
    BSON_APPEND_DOCUMENT(&update, "$inc", inc);
    bson_destroy(inc);
    char evid[25];
    int rc = td_bus_stage_update(&update, type, payload, evid);
    bson_t written;
    if (rc == TD_OK)
        rc = td_mongo_find_and_modify(c, COLL_COMMISSIONS, filter, &update, true, &written);
    if (rc == TD_OK) {
        put_copy(COLL_COMMISSIONS, &written, NULL);
        td_cache_invalidate(CACHE_NS);
        /* staged in the document: if this fails the sweeper moves it */
        if (events_bus != NULL)
            TD_IGNORE(td_bus_commit_doc(events_bus, c, COLL_COMMISSIONS, &written));
        bson_destroy(&written);
    }
    bson_destroy(&update);
    return rc;
}

int commission_on_closed(const td_event *ev, mongoc_client_t *c, const char *booking)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, booking);
    int64_t now = td_now_ms();
    /* pending or approved: cancelled */
    bson_t *filter = BCON_NEW("_id", BCON_OID(&oid), "status", "{", "$in", "[",
                              BCON_UTF8("pending"), BCON_UTF8("approved"), "]", "}");
    bson_t *set = BCON_NEW("status", BCON_UTF8("cancelled"), "updatedAt", BCON_DATE_TIME(now));
    cJSON *after = cJSON_CreateObject();
    cJSON_AddStringToObject(after, "status", "cancelled");
    cJSON *payload = system_payload("COMMISSION_CANCELLED", booking, ev, NULL, after);
    int rc = system_update(c, filter, set, "COMMISSION_CANCELLED", payload);
    cJSON_Delete(payload);
    bson_destroy(filter);
    bson_destroy(set);
    if (rc != TD_ENOTFOUND)
        return rc;
    /* paid and not yet adjusted: a negative adjustment */
    bson_t doc;
    bson_init(&doc);
    filter = BCON_NEW("_id", BCON_OID(&oid));
    rc = td_store_find_one(c, COLL_COMMISSIONS, filter, &doc);
    bson_destroy(filter);
    if (rc == TD_OK &&
        strcmp(td_bson_str(&doc, "status") ? td_bson_str(&doc, "status") : "", "paid") == 0) {
        int64_t amount = td_bson_int(&doc, "amountMinor", 0);
        int decimals = (int)td_bson_int(&doc, "decimals", 2);
        filter = BCON_NEW("_id", BCON_OID(&oid), "status", BCON_UTF8("paid"), "adjusted", "{",
                          "$exists", BCON_BOOL(false), "}");
        set = BCON_NEW("adjusted", BCON_BOOL(true), "adjustmentMinor", BCON_INT64(-amount),
                       "adjustment", BCON_DOUBLE(td_money_to_double(-amount, decimals)),
                       "adjustedAt", BCON_DATE_TIME(now), "updatedAt", BCON_DATE_TIME(now));
        after = cJSON_CreateObject();
        cJSON_AddNumberToObject(after, "adjustmentMinor", (double)-amount);
        payload = system_payload("COMMISSION_ADJUSTED", booking, ev, NULL, after);
        rc = system_update(c, filter, set, "COMMISSION_ADJUSTED", payload);
        cJSON_Delete(payload);
        bson_destroy(filter);
        bson_destroy(set);
    }
    bson_destroy(&doc);
    return rc == TD_ENOTFOUND ? TD_OK : rc;
}

static bool sees_all(const td_req *req)
{
    return td_req_can(req, APPROVE);
}

static void scope(const td_req *req, bson_t *filter)
{
    if (sees_all(req))
        return;
    bson_oid_t me;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    BSON_APPEND_OID(filter, "agent", &me);
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (td_list_parse(&list_spec, req->query, &l, res) == TD_OK) {
        bson_iter_t it;
        if (!sees_all(req) && bson_iter_init_find(&it, &l.filter, "agent")) {
            char who[25] = "";
            if (BSON_ITER_HOLDS_OID(&it))
                bson_oid_to_string(bson_iter_oid(&it), who);
            if (strcmp(who, req->principal.agent_id) != 0) {
                td_fail(res, 403, "FORBIDDEN", "You may only list your own commissions", NULL);
                goto out;
            }
        } else {
            scope(req, &l.filter);
        }
        mongoc_client_t *c = td_req_mongo(req);
        cJSON *items = NULL;
        int64_t total = 0;
        bool degraded = false;
        int rc = c == NULL ? TD_EUNAVAIL
                 : td_list_copy_if_on(list_copy) != NULL
                     ? td_listindex_query_degraded(list_copy, c, &l, &items, &total, &degraded)
                     : TD_EUNAVAIL;
        td_list_answer_model(req, res, rc, items, total, degraded, COLL_COMMISSIONS, &l,
                             commission_json); /* answers, or parks the request */
    }
out:
    td_list_free(&l);
    return 0;
}

/* Moves commission `hex` from one of `from` to `to` with its event; answers the
 * updated commission, 404, 409 INVALID_TRANSITION (naming the status) or 409
 * VERSION_CONFLICT. */
static int transition(td_req *req, td_res *res, const char *hex, const char *const *from,
                      const char *to, const char *type, bson_t *extra_set)
{
    if (!td_is_object_id(hex))
        return td_fail(res, 400, "INVALID_ID", "The id must be 24 hex digits", NULL);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, hex);
    bson_t filter = BSON_INITIALIZER, doc, updated;
    BSON_APPEND_OID(&filter, "_id", &oid);
    bson_init(&doc);
    bson_init(&updated);
    int rc = td_store_find_one(c, COLL_COMMISSIONS, &filter, &doc);
    bson_destroy(&filter);
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "Commission not found");
        goto out;
    }
    const char *status = td_bson_str(&doc, "status");
    bool ok = false;
    for (int i = 0; status != NULL && from[i] != NULL; i++)
        ok |= strcmp(status, from[i]) == 0;
    if (!ok) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "status", status != NULL ? status : "");
        cJSON_AddStringToObject(d, "to", to);
        td_fail(res, 409, "INVALID_TRANSITION", "The commission cannot move to that status now", d);
        goto out;
    }
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "status", to);
    char field[48];
    TD_IGNORE(
        td_fmt(field, sizeof field, "%sAt", to)); /* sized for it: ids, numbers, names of ours */
    BSON_APPEND_DATE_TIME(&set, field, td_now_ms());
    TD_IGNORE(
        td_fmt(field, sizeof field, "%sBy", to)); /* sized for it: ids, numbers, names of ours */
    BSON_APPEND_UTF8(&set, field, req->principal.agent_id);
    if (extra_set != NULL)
        bson_concat(&set, extra_set);
    bson_append_document_end(&update, &set);
    cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
    cJSON_AddStringToObject(before, "status", status);
    cJSON_AddStringToObject(after, "status", to);
    cJSON *payload = td_event_payload(req, type, "commission", hex, before, after);
    cJSON_AddItemToObject(payload, "commission", commission_json(&doc, NULL));
    rc = td_store_update(req, COLL_COMMISSIONS, &oid, td_bson_int(&doc, "version", 0), &update,
                         type, payload, &updated);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc == TD_OK) {
        td_cache_invalidate(CACHE_NS);
        td_ok(res, 200, commission_json(&updated, NULL));
    } else if (rc == TD_ENOTFOUND)
        td_fail(res, 409, "VERSION_CONFLICT", "The commission changed meanwhile; reload and retry",
                NULL);
    else
        td_fail_rc(res, rc, NULL);
out:
    bson_destroy(&doc);
    bson_destroy(&updated);
    return 0;
}

static const char *const from_pending[] = {"pending", NULL};

static int approve(td_req *req, td_res *res)
{
    return transition(req, res, td_req_param(req, "id"), from_pending, "approved",
                      "COMMISSION_APPROVED", NULL);
}

static int reject(td_req *req, td_res *res)
{
    static const char *const fields[] = {"reason", NULL};
    static const char *const from[] = {"pending", "approved", NULL};
    cJSON *body = NULL;
    const char *reason = NULL;
    if (td_req_json(req, res, &body) == TD_OK && td_check_fields(body, fields, res) == TD_OK &&
        td_get_str(body, "reason", true, 1, 500, res, &reason) == TD_OK) {
        bson_t *extra = BCON_NEW("rejectionReason", BCON_UTF8(reason));
        transition(req, res, td_req_param(req, "id"), from, "rejected", "COMMISSION_REJECTED",
                   extra);
        bson_destroy(extra);
    }
    cJSON_Delete(body);
    return 0;
}

static int pay_out(td_req *req, td_res *res)
{
    static const char *const fields[] = {"payoutReference", NULL};
    static const char *const from[] = {"approved", NULL};
    cJSON *body = NULL;
    const char *ref = NULL;
    if (td_req_json(req, res, &body) == TD_OK && td_check_fields(body, fields, res) == TD_OK &&
        td_get_str(body, "payoutReference", true, 1, 120, res, &ref) == TD_OK) {
        bson_t *extra = BCON_NEW("payoutReference", BCON_UTF8(ref));
        transition(req, res, td_req_param(req, "id"), from, "paid", "COMMISSION_PAID", extra);
        bson_destroy(extra);
    }
    cJSON_Delete(body);
    return 0;
}

/* {ids: [...]} (1..BULK_MAX): each approved on its own; answers per id
 * {id, status, code?}. */
static int bulk_approve(td_req *req, td_res *res)
{
    static const char *const fields[] = {"ids", NULL};
    cJSON *body = NULL;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK)
        goto out;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    int n = cJSON_GetArraySize(ids);
    if (!cJSON_IsArray(ids) || n < 1 || n > BULK_MAX) {
        td_fail_field(res, "ids", "ids must be a list of 1 to 100 commission ids");
        goto out;
    }
    for (const cJSON *id = ids->child; id != NULL; id = id->next)
        if (!cJSON_IsString(id) || !td_is_object_id(id->valuestring)) {
            td_fail_field(res, "ids", "ids must be commission ids (24 hex digits)");
            goto out;
        }
    cJSON *results = cJSON_CreateArray();
    int approved = 0;
    for (const cJSON *id = ids->child; id != NULL; id = id->next) {
        td_res one = {0};
        transition(req, &one, id->valuestring, from_pending, "approved", "COMMISSION_APPROVED",
                   NULL);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", id->valuestring);
        cJSON_AddNumberToObject(r, "status", one.status);
        if (one.status != 200 && one.body != NULL) {
            cJSON *parsed = cJSON_Parse(one.body);
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(parsed, "error"), "code");
            if (cJSON_IsString(code))
                cJSON_AddStringToObject(r, "code", code->valuestring);
            cJSON_Delete(parsed);
        }
        approved += one.status == 200;
        cJSON_AddItemToArray(results, r);
        td_res_clear(&one);
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "approved", approved);
    cJSON_AddItemToObject(data, "results", results);
    td_ok(res, 200, data);
out:
    cJSON_Delete(body);
    return 0;
}
