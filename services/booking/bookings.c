/*
 * /api/bookings: bookings with a human-readable reference, trip details, pricing,
 * priority, the status machine and conflict protection (conflicts.c). Agents see and
 * change their own bookings unless canViewAllBookings / canUpdateAnyBooking /
 * canDeleteAnyBooking say otherwise. Money: decimal amounts in the major unit of an
 * explicit ISO 4217 currency.
 */
#include "booking.h"

#include "tripdesk/log.h"
#include "tripdesk/transitions.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int list(td_req *req, td_res *res);
static int create(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int update(td_req *req, td_res *res);
static int change_status(td_req *req, td_res *res);
static int remove_booking(td_req *req, td_res *res);

const td_route booking_routes[] = {
    {"GET", "/api/bookings", list, 0, NULL},
    {"POST", "/api/bookings", create, TD_ROUTE_IDEMPOTENT, NULL},
    {"GET", "/api/bookings/:id", get, 0, NULL},
    {"PUT", "/api/bookings/:id", update, 0, NULL},
    {"PATCH", "/api/bookings/:id/status", change_status, 0, NULL},
    {"DELETE", "/api/bookings/:id", remove_booking, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

#define VIEW_ALL VIEW_ALL_BOOKINGS /* cached_lists.h */
#define UPDATE_ANY "canUpdateAnyBooking"
#define DELETE_ANY "canDeleteAnyBooking"
#define LIST (&booking_cached_lists[CACHED_BOOKINGS])
#define OWNER "agent"
#define REFERENCE_TRIES 5

static const char *const statuses[] = {"pending",   "confirmed", "in_progress", "completed",
                                       "cancelled", "refunded",  NULL};
static const char *const trip_types[] = {"leisure", "honeymoon",  "family", "adventure", "business",
                                         "group",   "pilgrimage", "cruise", "other",     NULL};
static const char *const priorities[] = {"low", "medium", "high", "urgent", NULL};
static const char *const payment_statuses[] = {"unpaid", "partially_paid", "paid", "refunded",
                                               NULL};

/* The status machine: allowed next states of each state. */
static const td_transition transitions[] = {
    {"pending", {"confirmed", "cancelled", NULL}},
    {"confirmed", {"in_progress", "cancelled", NULL}},
    {"in_progress", {"completed", "cancelled", NULL}},
    {"completed", {"refunded", NULL, NULL}},
    {"cancelled", {"refunded", NULL, NULL}},
    {"refunded", {NULL, NULL, NULL}},
};

static const td_qp list_params[] = {
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"destination", TD_QP_SEARCH, "destinationKey", NULL},
    {"status", TD_QP_IN, "status", statuses},
    {"tripType", TD_QP_IN, "tripDetails.tripType", trip_types},
    {"priority", TD_QP_IN, "priority", priorities},
    {"paymentStatus", TD_QP_IN, "paymentStatus", payment_statuses},
    {"agent", TD_QP_OID, OWNER, NULL},
    {"customer", TD_QP_OID, "customer", NULL},
    {"startDateFrom", TD_QP_DATE_FROM, "tripDetails.startDate", NULL},
    {"startDateTo", TD_QP_DATE_TO, "tripDetails.startDate", NULL},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {"minAmount", TD_QP_MIN, "pricing.totalAmount", NULL},
    {"maxAmount", TD_QP_MAX, "pricing.totalAmount", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt",   "updatedAt",        "startDate",
                                         "totalAmount", "bookingReference", "status",
                                         "priority",    "destination",      NULL};
static const char *const sort_fields[] = {"createdAt",
                                          "updatedAt",
                                          "tripDetails.startDate",
                                          "pricing.totalAmount",
                                          "bookingReference",
                                          "status",
                                          "priority",
                                          "destinationKey",
                                          NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_listindex *list_copy;

int bookings_list_new(void)
{
    return list_copy_new(&list_copy, COLL_BOOKINGS, LIST, &list_spec, OWNER);
}

void bookings_written(const bson_t *doc)
{
    td_listindex *ix = td_list_copy_if_on(list_copy);
    if (ix != NULL)
        td_listindex_put(ix, doc);
    td_cache_invalidate(LIST->ns);
}

int bookings_indexes(mongoc_client_t *c)
{
    struct {
        const char *name;
        const char *keys[4];
        int dirs[4];
        bool unique;
    } idx[] = {
        {"booking_reference", {"bookingReference"}, {1}, true},
        {"booking_conflict_check",
         {"customer", "destinationKey", "tripDetails.startDate", "tripDetails.endDate"},
         {1, 1, 1, 1},
         false},
        {"booking_agent_created", {OWNER, "createdAt"}, {1, -1}, false},
        {"booking_status_created", {"status", "createdAt"}, {1, -1}, false},
        {"booking_start", {"tripDetails.startDate"}, {1}, false},
        {"booking_amount", {"pricing.totalAmount"}, {1}, false},
    };
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        bson_t keys = BSON_INITIALIZER;
        for (int k = 0; k < 4 && idx[i].keys[k] != NULL; k++)
            BSON_APPEND_INT32(&keys, idx[i].keys[k], idx[i].dirs[k]);
        int rc = td_mongo_index(c, COLL_BOOKINGS, &keys, idx[i].name, idx[i].unique);
        bson_destroy(&keys);
        if (rc != TD_OK)
            return rc;
    }
    return TD_OK;
}

/* "TD-260226-7KQ2M": date plus five random Crockford base32 characters. */
static void new_reference(char buf[32])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char rnd[6];
    for (int i = 0; i < 5; i++)
        rnd[i] = alphabet[randombytes_uniform(32)];
    rnd[5] = '\0';
    /* fits: 15 characters */
    TD_IGNORE(
        td_fmt(buf, 32, "TD-%02d%02d%02d-%s", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, rnd));
}

typedef struct {
    bool has_trip, has_pricing;
    const char *title, *destination, *trip_type, *currency, *priority, *notes, *customer;
    int64_t start, end;
    bool has_start, has_end;
    long long adults, children, infants;
    bool has_adults, has_children, has_infants;
    double total, tax, discount;
    bool has_total, has_tax, has_discount;
    int64_t version;
} booking_input;

static int validate_currency(const char *cur, td_res *res)
{
    bool ok = cur != NULL && strlen(cur) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = cur[i] >= 'A' && cur[i] <= 'Z';
    if (!ok) {
        td_fail_field(res, "pricing.currency", "currency must be an ISO 4217 code such as INR");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* Reads and checks a create (all required) or update (all optional) body. */
static int read_input(const cJSON *body, bool create, td_res *res, booking_input *in)
{
    static const char *const create_fields[] = {"customer", "tripDetails", "pricing",
                                                "priority", "notes",       NULL};
    static const char *const update_fields[] = {"tripDetails", "pricing", "priority",
                                                "notes",       "version", NULL};
    static const char *const trip_fields[] = {"title",    "destination", "startDate", "endDate",
                                              "tripType", "travellers",  NULL};
    static const char *const traveller_fields[] = {"adults", "children", "infants", NULL};
    static const char *const pricing_fields[] = {"totalAmount", "currency", "taxAmount", "discount",
                                                 NULL};
    memset(in, 0, sizeof *in);
    in->version = -1;
    if (td_check_fields(body, create ? create_fields : update_fields, res) != TD_OK)
        return TD_EINVAL;
    if (create) {
        if (td_get_str(body, "customer", true, 1, 64, res, &in->customer) != TD_OK)
            return TD_EINVAL;
        if (!td_is_object_id(in->customer)) {
            td_fail_field(res, "customer", "customer must be a customer id (24 hex digits)");
            return TD_EINVAL;
        }
    } else {
        if (get_version(body, res, &in->version) != TD_OK)
            return TD_EINVAL;
        if (in->version < 0) {
            td_fail_field(res, "version", "version is required to update a booking");
            return TD_EINVAL;
        }
    }
    if (td_get_enum(body, "priority", false, priorities, res, &in->priority) != TD_OK ||
        td_get_str(body, "notes", false, 0, TEXT_MAX, res, &in->notes) != TD_OK)
        return TD_EINVAL;

    const cJSON *trip = cJSON_GetObjectItemCaseSensitive(body, "tripDetails");
    if (trip == NULL && create) {
        td_fail_field(res, "tripDetails", "tripDetails is required");
        return TD_EINVAL;
    }
    if (trip != NULL) {
        if (!cJSON_IsObject(trip)) {
            td_fail_field(res, "tripDetails", "tripDetails must be an object");
            return TD_EINVAL;
        }
        in->has_trip = true;
        if (td_check_fields(trip, trip_fields, res) != TD_OK ||
            td_get_str(trip, "title", create, 1, 200, res, &in->title) != TD_OK ||
            td_get_str(trip, "destination", create, 1, DESTINATION_CHARS, res, &in->destination) !=
                TD_OK ||
            get_date(trip, "startDate", "tripDetails.startDate", create, res, &in->start,
                     &in->has_start) != TD_OK ||
            get_date(trip, "endDate", "tripDetails.endDate", create, res, &in->end, &in->has_end) !=
                TD_OK ||
            td_get_enum(trip, "tripType", create, trip_types, res, &in->trip_type) != TD_OK)
            return TD_EINVAL;
        const cJSON *tv = cJSON_GetObjectItemCaseSensitive(trip, "travellers");
        if (tv == NULL && create) {
            td_fail_field(res, "tripDetails.travellers", "tripDetails.travellers is required");
            return TD_EINVAL;
        }
        if (tv != NULL) {
            if (!cJSON_IsObject(tv) || td_check_fields(tv, traveller_fields, res) != TD_OK) {
                if (!cJSON_IsObject(tv))
                    td_fail_field(res, "tripDetails.travellers", "travellers must be an object");
                return TD_EINVAL;
            }
            if (td_get_int(tv, "adults", true, 1, 500, res, &in->adults, &in->has_adults) !=
                    TD_OK ||
                td_get_int(tv, "children", false, 0, 500, res, &in->children, &in->has_children) !=
                    TD_OK ||
                td_get_int(tv, "infants", false, 0, 100, res, &in->infants, &in->has_infants) !=
                    TD_OK)
                return TD_EINVAL;
        }
    }
    const cJSON *pricing = cJSON_GetObjectItemCaseSensitive(body, "pricing");
    if (pricing == NULL && create) {
        td_fail_field(res, "pricing", "pricing is required");
        return TD_EINVAL;
    }
    if (pricing != NULL) {
        if (!cJSON_IsObject(pricing)) {
            td_fail_field(res, "pricing", "pricing must be an object");
            return TD_EINVAL;
        }
        in->has_pricing = true;
        if (td_check_fields(pricing, pricing_fields, res) != TD_OK ||
            td_get_number(pricing, "totalAmount", create, 0, MONEY_MAX, 2, res, &in->total,
                          &in->has_total) != TD_OK ||
            td_get_str(pricing, "currency", create, 3, 3, res, &in->currency) != TD_OK ||
            td_get_number(pricing, "taxAmount", false, 0, MONEY_MAX, 2, res, &in->tax,
                          &in->has_tax) != TD_OK ||
            td_get_number(pricing, "discount", false, 0, MONEY_MAX, 2, res, &in->discount,
                          &in->has_discount) != TD_OK)
            return TD_EINVAL;
        if (in->currency != NULL && validate_currency(in->currency, res) != TD_OK)
            return TD_EINVAL;
    }
    return TD_OK;
}

static void search_text(bson_t *doc, const char *ref, const char *title, const char *dest,
                        const char *customer_name, const char *customer_email)
{
    char buf[DERIVED_TEXT_SIZE], low[DERIVED_TEXT_SIZE];
    /* fits: every part is validated to its character limit, which DERIVED_TEXT_SIZE
     * holds all together */
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s %s %s %s", ref, title, dest, customer_name,
                     customer_email != NULL ? customer_email : ""));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "searchText", low);
}

/* "2026-02": the month of a date, stored so FerretDB can group by it. */
static void month_of(int64_t ms, char out[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* fits: 7 characters (the modulos bound them) */
    TD_IGNORE(td_fmt(out, 16, "%04d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100));
}

/* Writes the trip details sub-document from validated input. */
static void append_trip(bson_t *doc, const booking_input *in)
{
    bson_t trip, tv;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "tripDetails", &trip);
    BSON_APPEND_UTF8(&trip, "title", in->title);
    BSON_APPEND_UTF8(&trip, "destination", in->destination);
    BSON_APPEND_DATE_TIME(&trip, "startDate", in->start);
    BSON_APPEND_DATE_TIME(&trip, "endDate", in->end);
    BSON_APPEND_UTF8(&trip, "tripType", in->trip_type);
    BSON_APPEND_DOCUMENT_BEGIN(&trip, "travellers", &tv);
    BSON_APPEND_INT32(&tv, "adults", (int32_t)in->adults);
    BSON_APPEND_INT32(&tv, "children", (int32_t)in->children);
    BSON_APPEND_INT32(&tv, "infants", (int32_t)in->infants);
    bson_append_document_end(&trip, &tv);
    bson_append_document_end(doc, &trip);
    char month[16];
    month_of(in->start, month);
    BSON_APPEND_UTF8(doc, "startMonth", month);
}

static void append_pricing(bson_t *doc, const booking_input *in)
{
    bson_t p;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "pricing", &p);
    BSON_APPEND_DOUBLE(&p, "totalAmount", in->total);
    BSON_APPEND_UTF8(&p, "currency", in->currency);
    BSON_APPEND_DOUBLE(&p, "taxAmount", in->has_tax ? in->tax : 0);
    BSON_APPEND_DOUBLE(&p, "discount", in->has_discount ? in->discount : 0);
    bson_append_document_end(doc, &p);
}

static int check_dates(const booking_input *in, td_res *res)
{
    if (in->end < in->start) {
        td_fail_field(res, "tripDetails.endDate", "endDate must not be before startDate");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* The discount comes off the total, so it cannot be more than the total. */
static int check_pricing(const booking_input *in, td_res *res)
{
    if (in->has_discount && in->discount > in->total) {
        td_fail_field(res, "pricing.discount",
                      "pricing.discount must not be more than pricing.totalAmount");
        return TD_EINVAL;
    }
    return TD_OK;
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (list_begin(req, res, &list_spec, OWNER, VIEW_ALL, &l) == TD_OK)
        list_run(req, res, &l, COLL_BOOKINGS, OWNER, LIST, TTL_BOOKINGS_S, list_copy);
    td_list_free(&l);
    return 0;
}

int booking_create_from(td_req *req, td_res *res, const cJSON *body, const char *lead_id,
                        char id_out[25], cJSON **booking_out)
{
    booking_input in;
    *booking_out = NULL;
    id_out[0] = '\0';
    if (read_input(body, true, res, &in) != TD_OK || check_dates(&in, res) != TD_OK ||
        check_pricing(&in, res) != TD_OK)
        return TD_EINVAL;
    bson_t customer;
    bson_init(&customer);
    int rc = customer_find_visible(req, in.customer, &customer);
    if (rc != TD_OK) {
        bson_destroy(&customer);
        if (rc == TD_ENOTFOUND || rc == TD_EINVAL) {
            cJSON *details = cJSON_CreateObject();
            cJSON_AddStringToObject(details, "field", "customer");
            (void)td_fail(res, 422, "UNKNOWN_CUSTOMER", "No such customer (or not one of yours)",
                          details);
            return TD_EINVAL;
        }
        (void)td_fail_rc(res, rc, NULL);
        return rc;
    }
    mongoc_client_t *c = td_req_mongo(req);
    bson_oid_t cust, me, id;
    parse_oid(in.customer, &cust);
    bson_oid_init_from_string(&me, req->principal.agent_id);
    char dest_key[DEST_KEY_SIZE], cname[CUSTOMER_NAME_SIZE];
    lower_into(dest_key, sizeof dest_key, in.destination);
    customer_name(&customer, cname, sizeof cname);

    bool answered = false;
    for (int attempt = 0; attempt < REFERENCE_TRIES; attempt++) {
        char ref[32], hex[25];
        new_reference(ref);
        td_req_new_oid(req, &id);
        bson_oid_to_string(&id, hex);
        conflict found;
        rc = slot_reserve(c, &cust, hex, ref, dest_key, in.start, in.end, &found);
        /* run again shortly: nothing written yet (a conversion has written its
         * customer: it is not run again, and answers 409 CONCURRENT_UPDATE) */
        if (rc != TD_OK && attempt == 0 && lead_id == NULL && slot_retry(req, rc)) {
            bson_destroy(&customer);
            return TD_EAGAIN; /* parked: res stays empty */
        }
        if (rc != TD_OK) {
            slot_failed(res, rc, &found);
            answered = true;
            break;
        }
        int64_t now = td_now_ms();
        bson_t doc = BSON_INITIALIZER;
        BSON_APPEND_OID(&doc, "_id", &id);
        BSON_APPEND_UTF8(&doc, "bookingReference", ref);
        BSON_APPEND_OID(&doc, "customer", &cust);
        BSON_APPEND_UTF8(&doc, "customerName", cname);
        if (td_bson_str(&customer, "email") != NULL)
            BSON_APPEND_UTF8(&doc, "customerEmail", td_bson_str(&customer, "email"));
        BSON_APPEND_OID(&doc, OWNER, &me);
        append_trip(&doc, &in);
        append_pricing(&doc, &in);
        BSON_APPEND_UTF8(&doc, "priority", in.priority != NULL ? in.priority : "medium");
        BSON_APPEND_UTF8(&doc, "status", "pending");
        BSON_APPEND_UTF8(&doc, "paymentStatus", "unpaid");
        if (in.notes != NULL)
            BSON_APPEND_UTF8(&doc, "notes", in.notes);
        if (lead_id != NULL) {
            bson_oid_t lead;
            parse_oid(lead_id, &lead);
            BSON_APPEND_OID(&doc, "lead", &lead);
        }
        BSON_APPEND_UTF8(&doc, "destinationKey", dest_key);
        search_text(&doc, ref, in.title, in.destination, cname, td_bson_str(&customer, "email"));
        char month[16];
        month_of(now, month);
        BSON_APPEND_UTF8(&doc, "month", month);
        BSON_APPEND_BOOL(&doc, "deleted", false);
        BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
        BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
        BSON_APPEND_INT64(&doc, "version", 1);
        cJSON *payload = td_event_payload(req, "BOOKING_CREATED", "booking", hex, NULL, NULL);
        cJSON_AddItemToObject(payload, "booking", doc_json(&doc, NULL));
        rc = td_store_insert(req, COLL_BOOKINGS, &doc, "BOOKING_CREATED", payload);
        cJSON_Delete(payload);
        if (rc == TD_OK) {
            *booking_out = doc_json(&doc, NULL);
            if (*booking_out == NULL)
                rc = TD_ENOMEM; /* written; the event carries it, the answer cannot */
            else
                TD_IGNORE(td_fmt(id_out, 25, "%s", hex)); /* fits: 24 hex digits */
        }
        bson_destroy(&doc);
        if (rc == TD_OK || rc == TD_ENOMEM)
            break;
        /* Not written: give the range back (a leftover would be found stale anyway). */
        slot_settle(c, &cust, &id, dest_key, NULL, 0, 0);
        if (rc != TD_ECONFLICT) {
            (void)td_fail_rc(res, rc, "create failed");
            answered = true;
            break;
        }
        /* a duplicate reference is the only conflict possible: retry with another */
    }
    bson_destroy(&customer);
    /* not answered yet: every generated reference was taken, or out of memory */
    if (rc != TD_OK && !answered)
        (void)td_fail_rc(res, rc, "create failed");
    return rc;
}

static int create(td_req *req, td_res *res)
{
    cJSON *body = NULL, *booking = NULL;
    char id[25];
    if (td_req_json(req, res, &body) == TD_OK &&
        booking_create_from(req, res, body, NULL, id, &booking) == TD_OK)
        td_ok(res, 201, booking);
    cJSON_Delete(body);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_BOOKINGS, OWNER, VIEW_ALL, &doc) == TD_OK)
        td_ok(res, 200, doc_json(&doc, NULL));
    bson_destroy(&doc);
    return 0;
}

static bool closed(const char *status)
{
    return strcmp(status, "completed") == 0 || strcmp(status, "cancelled") == 0 ||
           strcmp(status, "refunded") == 0;
}

/* Loads the :id booking the caller may change (owner, or canUpdateAnyBooking). */
static int load_changeable(td_req *req, td_res *res, bson_t *doc)
{
    if (load_visible(req, res, COLL_BOOKINGS, OWNER, VIEW_ALL, doc) != TD_OK)
        return TD_EINVAL;
    if (!owns(req, doc, OWNER) && !td_req_can(req, UPDATE_ANY)) {
        td_fail(res, 403, "FORBIDDEN", "Changing another agent's booking needs canUpdateAnyBooking",
                NULL);
        return TD_EINVAL;
    }
    return TD_OK;
}

static int update(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    booking_input in;
    bson_t doc, updated;
    bson_init(&doc);
    bson_init(&updated);
    bool reserved = false;
    bson_oid_t cust, id;
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, false, res, &in) != TD_OK)
        goto out;
    if (load_changeable(req, res, &doc) != TD_OK)
        goto out;
    const char *status = td_bson_str(&doc, "status");
    if (status != NULL && closed(status)) {
        td_fail(res, 422, "BOOKING_CLOSED",
                "A completed, cancelled or refunded booking cannot be edited", NULL);
        goto out;
    }
    if (in.version != td_bson_int(&doc, "version", 0)) {
        update_failed(res, TD_ENOTFOUND);
        goto out;
    }
    /* Merge the given fields over the stored ones. */
    booking_input m = in;
    m.title = in.title ? in.title : td_bson_str(&doc, "tripDetails.title");
    m.destination = in.destination ? in.destination : td_bson_str(&doc, "tripDetails.destination");
    m.trip_type = in.trip_type ? in.trip_type : td_bson_str(&doc, "tripDetails.tripType");
    m.start = in.has_start ? in.start : td_bson_date(&doc, "tripDetails.startDate", 0);
    m.end = in.has_end ? in.end : td_bson_date(&doc, "tripDetails.endDate", 0);
    m.adults = in.has_adults ? in.adults
                             : (long long)td_bson_num(&doc, "tripDetails.travellers.adults", 0);
    m.children = in.has_children
                     ? in.children
                     : (long long)td_bson_num(&doc, "tripDetails.travellers.children", 0);
    m.infants = in.has_infants ? in.infants
                               : (long long)td_bson_num(&doc, "tripDetails.travellers.infants", 0);
    m.total = in.has_total ? in.total : td_bson_num(&doc, "pricing.totalAmount", 0);
    m.currency = in.currency ? in.currency : td_bson_str(&doc, "pricing.currency");
    m.tax = in.has_tax ? in.tax : td_bson_num(&doc, "pricing.taxAmount", 0);
    m.has_tax = true;
    m.discount = in.has_discount ? in.discount : td_bson_num(&doc, "pricing.discount", 0);
    m.has_discount = true;
    if (check_dates(&m, res) != TD_OK || check_pricing(&m, res) != TD_OK)
        goto out;
    char hex[25], dest_key[DEST_KEY_SIZE], old_key[DEST_KEY_SIZE];
    td_bson_oid_hex(&doc, "_id", hex);
    parse_oid(hex, &id);
    lower_into(dest_key, sizeof dest_key, m.destination);
    lower_into(old_key, sizeof old_key, td_bson_str(&doc, "tripDetails.destination"));
    int64_t old_start = td_bson_date(&doc, "tripDetails.startDate", 0);
    int64_t old_end = td_bson_date(&doc, "tripDetails.endDate", 0);
    mongoc_client_t *c = td_req_mongo(req);
    bool moved = strcmp(dest_key, old_key) != 0 || m.start != old_start || m.end != old_end;
    if (moved) {
        if (!td_bson_oid(&doc, "customer", &cust)) {
            td_fail(res, 500, "INTERNAL_ERROR", "The booking has no customer", NULL);
            goto out;
        }
        /* The new range is reserved beside the old one until the update is in. */
        conflict found;
        const char *ref = td_bson_str(&doc, "bookingReference");
        int rc =
            slot_reserve(c, &cust, hex, ref != NULL ? ref : "", dest_key, m.start, m.end, &found);
        if (rc != TD_OK && !slot_retry(req, rc)) /* retried: nothing written yet */
            slot_failed(res, rc, &found);
        if (rc != TD_OK)
            goto out;
        reserved = true;
    }
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    append_trip(&set, &m);
    append_pricing(&set, &m);
    if (in.priority != NULL)
        BSON_APPEND_UTF8(&set, "priority", in.priority);
    if (in.notes != NULL)
        BSON_APPEND_UTF8(&set, "notes", in.notes);
    BSON_APPEND_UTF8(&set, "destinationKey", dest_key);
    const char *cname = td_bson_str(&doc, "customerName");
    search_text(&set, td_bson_str(&doc, "bookingReference"), m.title, m.destination,
                cname != NULL ? cname : "", td_bson_str(&doc, "customerEmail"));
    bson_append_document_end(&update, &set);
    cJSON *before = doc_json(&doc, NULL);
    /* after: the pricing and dates as they are now (the payment service's copy) */
    cJSON *after = cJSON_CreateObject();
    cJSON *ap = cJSON_AddObjectToObject(after, "pricing");
    cJSON_AddNumberToObject(ap, "totalAmount", m.total);
    cJSON_AddStringToObject(ap, "currency", m.currency);
    cJSON_AddNumberToObject(ap, "taxAmount", m.tax);
    cJSON_AddNumberToObject(ap, "discount", m.discount);
    cJSON *at = cJSON_AddObjectToObject(after, "tripDetails");
    char day[TD_ISO_TIME_LEN];
    td_iso_time(m.start, day);
    cJSON_AddStringToObject(at, "startDate", day);
    td_iso_time(m.end, day);
    cJSON_AddStringToObject(at, "endDate", day);
    cJSON *payload = td_event_payload(req, "BOOKING_UPDATED", "booking", hex, before, after);
    int rc = td_store_update(req, COLL_BOOKINGS, &id, in.version, &update, "BOOKING_UPDATED",
                             payload, &updated);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc == TD_OK)
        td_ok(res, 200, doc_json(&updated, NULL));
    else
        update_failed(res, rc);
    /* Keep the range the booking holds now, drop the other: the old one, in the old
     * destination's document, after an update; the new one when it failed. */
    if (reserved && rc == TD_OK)
        slot_settle(c, &cust, &id, old_key, dest_key, m.start, m.end);
    else if (reserved)
        slot_settle(c, &cust, &id, dest_key, old_key, old_start, old_end);
out:
    cJSON_Delete(body);
    bson_destroy(&doc);
    bson_destroy(&updated);
    return 0;
}

/* After a booking stopped holding its dates (cancelled, refunded, deleted): frees
 * them for the customer's other bookings. A failure here only delays that until
 * the entry is found stale. */
static void release_range(mongoc_client_t *c, const bson_t *doc)
{
    bson_oid_t cust, id;
    if (c == NULL || !td_bson_oid(doc, "customer", &cust) || !td_bson_oid(doc, "_id", &id))
        return;
    const char *at = td_bson_str(doc, "destinationKey");
    int rc = slot_settle(c, &cust, &id, at != NULL ? at : "", NULL, 0, 0);
    if (rc != TD_OK)
        td_warn("booking slot of a closed booking not freed (%s)", td_strerror(rc));
}

#define DAY_MS 86400000LL

/* The UTC day number of a time: days since 1970-01-01. */
static int64_t utc_day(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

/* "2027-03-01": the UTC date of a time. */
static void utc_date(int64_t ms, char out[TD_ISO_TIME_LEN])
{
    td_iso_time(ms, out);
    out[10] = '\0';
}

/* A trip cannot start before its start date or be completed before its end date
 * (UTC days): 409 BOOKING_NOT_STARTED / BOOKING_NOT_ENDED naming the dates. */
static int check_trip_dates(const bson_t *doc, const char *to, td_res *res)
{
    bool starting = strcmp(to, "in_progress") == 0, ending = strcmp(to, "completed") == 0;
    if (!starting && !ending)
        return TD_OK;
    const char *name = starting ? "startDate" : "endDate";
    int64_t date = td_bson_date(doc, starting ? "tripDetails.startDate" : "tripDetails.endDate", 0);
    int64_t now = td_now_ms();
    if (utc_day(now) >= utc_day(date))
        return TD_OK;
    char day[TD_ISO_TIME_LEN], today[TD_ISO_TIME_LEN];
    utc_date(date, day);
    utc_date(now, today);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "status", to);
    cJSON_AddStringToObject(details, name, day);
    cJSON_AddStringToObject(details, "today", today);
    if (starting)
        td_fail(res, 409, "BOOKING_NOT_STARTED",
                "A booking cannot be in progress before its start date", details);
    else
        td_fail(res, 409, "BOOKING_NOT_ENDED", "A booking cannot be completed before its end date",
                details);
    return TD_ECONFLICT;
}

static int change_status(td_req *req, td_res *res)
{
    static const char *const fields[] = {"status", "reason", "version", NULL};
    cJSON *body = NULL;
    const char *to = NULL, *reason = NULL;
    int64_t version = -1;
    bson_t doc, updated;
    bson_init(&doc);
    bson_init(&updated);
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_enum(body, "status", true, statuses, res, &to) != TD_OK ||
        td_get_str(body, "reason", false, 1, 500, res, &reason) != TD_OK ||
        get_version(body, res, &version) != TD_OK)
        goto out;
    if (load_changeable(req, res, &doc) != TD_OK)
        goto out;
    const char *from = td_bson_str(&doc, "status");
    size_t nt = sizeof transitions / sizeof transitions[0];
    if (!td_transition_allowed(transitions, nt, from, to)) {
        td_transition_fail(res, transitions, nt, from, to, "booking", NULL);
        goto out;
    }
    if (check_trip_dates(&doc, to, res) != TD_OK)
        goto out;
    if (version >= 0 && version != td_bson_int(&doc, "version", 0)) {
        update_failed(res, TD_ENOTFOUND);
        goto out;
    }
    char hex[25];
    bson_oid_t id;
    parse_oid(td_bson_oid_hex(&doc, "_id", hex), &id);
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "status", to);
    char field[64];
    /* fits: to is one of the booking statuses (checked by the transition table) */
    TD_IGNORE(td_fmt(field, sizeof field, "statusDates.%s", to));
    BSON_APPEND_DATE_TIME(&set, field, td_now_ms());
    if (reason != NULL)
        BSON_APPEND_UTF8(&set, "statusReason", reason);
    bson_append_document_end(&update, &set);
    const char *type =
        strcmp(to, "cancelled") == 0 ? "BOOKING_CANCELLED" : "BOOKING_STATUS_CHANGED";
    cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", from);
    cJSON_AddStringToObject(a, "status", to);
    cJSON *payload = td_event_payload(req, type, "booking", hex, b, a);
    if (reason != NULL)
        cJSON_AddStringToObject(payload, "reason", reason);
    int rc = td_store_update(req, COLL_BOOKINGS, &id, td_bson_int(&doc, "version", 0), &update,
                             type, payload, &updated);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc == TD_OK) {
        if (strcmp(to, "cancelled") == 0 || strcmp(to, "refunded") == 0)
            release_range(td_req_mongo(req), &doc);
        td_ok(res, 200, doc_json(&updated, NULL));
    } else {
        update_failed(res, rc);
    }
out:
    cJSON_Delete(body);
    bson_destroy(&doc);
    bson_destroy(&updated);
    return 0;
}

static int remove_booking(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_BOOKINGS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_can(req, DELETE_ANY)) {
        td_fail(res, 403, "FORBIDDEN", "Deleting another agent's booking needs canDeleteAnyBooking",
                NULL);
        goto out;
    }
    if (soft_delete(req, res, COLL_BOOKINGS, &doc, "BOOKING_DELETED", "booking") == TD_OK)
        release_range(td_req_mongo(req), &doc);
out:
    bson_destroy(&doc);
    return 0;
}
