/*
 * /api/itineraries: day-by-day trip plans, owned by the agent who wrote them and
 * visible as bookings are (canViewAllBookings; canUpdateAnyBooking and
 * canDeleteAnyBooking to change or delete another agent's). An itinerary may link a
 * booking and a customer the caller can see; POST /:id/clone copies one as a new
 * plan of the caller's, without the booking link.
 *
 * Derived fields: searchText and destinationKey (hidden by doc_json), _titleKey
 * (internal, for sortBy=title regardless of case).
 */
#include "booking.h"

#include <stdio.h>
#include <string.h>

static int list(td_req *req, td_res *res);
static int create(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int update(td_req *req, td_res *res);
static int remove_itinerary(td_req *req, td_res *res);
static int clone(td_req *req, td_res *res);

const td_route itinerary_routes[] = {
    {"GET", "/api/itineraries", list, 0, NULL},
    {"POST", "/api/itineraries", create, TD_ROUTE_IDEMPOTENT, NULL},
    {"GET", "/api/itineraries/:id", get, 0, NULL},
    {"PUT", "/api/itineraries/:id", update, 0, NULL},
    {"DELETE", "/api/itineraries/:id", remove_itinerary, 0, NULL},
    {"POST", "/api/itineraries/:id/clone", clone, TD_ROUTE_IDEMPOTENT, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

#define VIEW_ALL VIEW_ALL_BOOKINGS /* cached_lists.h */
#define UPDATE_ANY "canUpdateAnyBooking"
#define DELETE_ANY "canDeleteAnyBooking"
#define LIST (&booking_cached_lists[CACHED_ITINERARIES])
#define OWNER "agent"
#define BOOKING_OWNER "agent"

/* Not in PRD step 1's table: cached like the other lists, in its own namespace. */
#define TTL_ITINERARIES_S 300

#define TITLE_LEN_MAX 200
#define DESTINATION_LEN_MAX 120
#define PLACE_LEN_MAX 200
#define MAX_DAYS 60
#define MAX_ACTIVITIES 30
#define DAY_MS 86400000LL
#define CLONE_PREFIX "Copy of "

static const char *const meals[] = {"breakfast", "lunch", "dinner", NULL};

static const td_qp list_params[] = {
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"destination", TD_QP_SEARCH, "destinationKey", NULL},
    {"booking", TD_QP_OID, "booking", NULL},
    {"customer", TD_QP_OID, "customer", NULL},
    {"agent", TD_QP_OID, OWNER, NULL},
    {"startDateFrom", TD_QP_DATE_FROM, "startDate", NULL},
    {"startDateTo", TD_QP_DATE_TO, "startDate", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "updatedAt", "startDate", "title", NULL};
static const char *const sort_fields[] = {"createdAt", "updatedAt", "startDate", "_titleKey", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_listindex *list_copy;

int itineraries_list_new(void)
{
    return list_copy_new(&list_copy, COLL_ITINERARIES, LIST, &list_spec, OWNER);
}

int itineraries_indexes(mongoc_client_t *c)
{
    bson_t k1 = BSON_INITIALIZER, k2 = BSON_INITIALIZER;
    BSON_APPEND_INT32(&k1, OWNER, 1);
    BSON_APPEND_INT32(&k1, "createdAt", -1);
    BSON_APPEND_INT32(&k2, "booking", 1);
    int rc = td_mongo_index(c, COLL_ITINERARIES, &k1, "itinerary_agent_created", false);
    if (rc == TD_OK)
        rc = td_mongo_index(c, COLL_ITINERARIES, &k2, "itinerary_booking", false);
    bson_destroy(&k1);
    bson_destroy(&k2);
    return rc;
}

/* A field path for error details: "days[2].activities[0].time". */
static const char *path_of(char *buf, size_t len, const char *prefix, const char *name)
{
    /* fits: array names of ours and indices below their maxima; only an error
     * message names it, where even a cut path still names the place */
    TD_IGNORE(td_fmt(buf, len, "%s.%s", prefix, name));
    return buf;
}

static int fail_path(td_res *res, const char *path, const char *fmt, const char *what)
{
    char msg[200];
    /* fits: a path (see path_of) and a message of ours */
    TD_IGNORE(td_fmt(msg, sizeof msg, fmt, path, what != NULL ? what : ""));
    return td_fail_field(res, path, msg);
}

/* An optional array member: *out NULL when absent; 400 when not an array or longer
 * than max. */
static int get_array(const cJSON *obj, const char *name, const char *path, int max, td_res *res,
                     const cJSON **out)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (v == NULL || cJSON_IsNull(v))
        return TD_OK;
    if (!cJSON_IsArray(v)) {
        fail_path(res, path, "%s must be an array%s", NULL);
        return TD_EINVAL;
    }
    if (cJSON_GetArraySize(v) > max) {
        char msg[120];
        /* fits: a path (see path_of) and a number */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s may hold at most %d entries", path, max));
        td_fail_field(res, path, msg);
        return TD_EINVAL;
    }
    *out = v;
    return TD_OK;
}

static bool valid_time(const char *s)
{
    return strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
           (s[0] != '2' || s[1] <= '3') && s[2] == ':' && s[3] >= '0' && s[3] <= '5' &&
           s[4] >= '0' && s[4] <= '9';
}

/* Validates one activity and appends it to arr under key. */
static int read_activity(const cJSON *a, const char *path, td_res *res, bson_t *arr,
                         const char *key)
{
    static const char *const fields[] = {"time", "title", "description", "location", NULL};
    const char *time = NULL, *title = NULL, *description = NULL, *location = NULL;
    if (!cJSON_IsObject(a)) {
        fail_path(res, path, "%s must be an object%s", NULL);
        return TD_EINVAL;
    }
    if (td_check_fields(a, fields, res) != TD_OK ||
        td_get_str(a, "time", false, 5, 5, res, &time) != TD_OK ||
        td_get_str(a, "title", true, 1, TITLE_LEN_MAX, res, &title) != TD_OK ||
        td_get_str(a, "description", false, 0, TEXT_MAX, res, &description) != TD_OK ||
        td_get_str(a, "location", false, 1, PLACE_LEN_MAX, res, &location) != TD_OK)
        return TD_EINVAL;
    if (time != NULL && !valid_time(time)) {
        char p[96];
        fail_path(res, path_of(p, sizeof p, path, "time"), "%s must be a time HH:MM%s", NULL);
        return TD_EINVAL;
    }
    bson_t doc;
    BSON_APPEND_DOCUMENT_BEGIN(arr, key, &doc);
    if (time != NULL)
        BSON_APPEND_UTF8(&doc, "time", time);
    BSON_APPEND_UTF8(&doc, "title", title);
    if (description != NULL)
        BSON_APPEND_UTF8(&doc, "description", description);
    if (location != NULL)
        BSON_APPEND_UTF8(&doc, "location", location);
    bson_append_document_end(arr, &doc);
    return TD_OK;
}

/* Validates one day of a trip from start to end (ms, whole days) after day number
 * *prev and appends it to arr under key. */
static int read_day(const cJSON *d, const char *path, int64_t start, int64_t end, long long *prev,
                    td_res *res, bson_t *arr, const char *key)
{
    static const char *const fields[] = {"day",           "date",  "title", "activities",
                                         "accommodation", "meals", "notes", NULL};
    const char *title = NULL, *accommodation = NULL, *notes = NULL;
    const cJSON *activities, *meal_list;
    long long day = 0;
    bool has_day, has_date;
    int64_t date = 0;
    char p[64];
    if (!cJSON_IsObject(d)) {
        fail_path(res, path, "%s must be an object%s", NULL);
        return TD_EINVAL;
    }
    if (td_check_fields(d, fields, res) != TD_OK ||
        td_get_int(d, "day", true, 1, MAX_DAYS, res, &day, &has_day) != TD_OK ||
        get_date(d, "date", path_of(p, sizeof p, path, "date"), false, res, &date, &has_date) !=
            TD_OK ||
        td_get_str(d, "title", true, 1, TITLE_LEN_MAX, res, &title) != TD_OK ||
        td_get_str(d, "accommodation", false, 1, PLACE_LEN_MAX, res, &accommodation) != TD_OK ||
        td_get_str(d, "notes", false, 0, TEXT_MAX, res, &notes) != TD_OK ||
        get_array(d, "activities", path_of(p, sizeof p, path, "activities"), MAX_ACTIVITIES, res,
                  &activities) != TD_OK ||
        get_array(d, "meals", path_of(p, sizeof p, path, "meals"), 3, res, &meal_list) != TD_OK)
        return TD_EINVAL;
    long long trip_days = (end - start) / DAY_MS + 1;
    if (day <= *prev) {
        fail_path(res, path_of(p, sizeof p, path, "day"),
                  "%s: day numbers must be unique and ascending%s", NULL);
        return TD_EINVAL;
    }
    if (day > trip_days) {
        char what[64];
        /* fits: a phrase and one number */
        TD_IGNORE(td_fmt(what, sizeof what, " (%lld days from startDate to endDate)", trip_days));
        fail_path(res, path_of(p, sizeof p, path, "day"), "%s is after the trip's last day%s",
                  what);
        return TD_EINVAL;
    }
    if (has_date && (date < start || date >= end + DAY_MS)) {
        fail_path(res, path_of(p, sizeof p, path, "date"),
                  "%s must lie between startDate and endDate%s", NULL);
        return TD_EINVAL;
    }
    int meal_idx[3], n_meals = 0, i = 0;
    unsigned seen = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, meal_list)
    {
        int m = 0;
        while (meals[m] != NULL &&
               !(cJSON_IsString(item) && strcmp(item->valuestring, meals[m]) == 0))
            m++;
        if (meals[m] == NULL || (seen & (1u << m)) != 0) {
            char mpath[96];
            /* fits: "days[<n>]" and an index below 3 */
            TD_IGNORE(td_fmt(mpath, sizeof mpath, "%s.meals[%d]", path, n_meals));
            fail_path(res, mpath, "%s must be one of breakfast, lunch, dinner, each once%s", NULL);
            return TD_EINVAL;
        }
        seen |= 1u << m;
        meal_idx[n_meals++] = m;
    }
    bson_t acts = BSON_INITIALIZER;
    cJSON_ArrayForEach(item, activities)
    {
        char apath[96], k[16];
        /* fit: "days[<n>]" and one index; one int */
        TD_IGNORE(td_fmt(apath, sizeof apath, "%s.activities[%d]", path, i));
        TD_IGNORE(td_fmt(k, sizeof k, "%d", i++));
        if (read_activity(item, apath, res, &acts, k) != TD_OK) {
            bson_destroy(&acts);
            return TD_EINVAL;
        }
    }
    *prev = day;
    bson_t doc, list;
    BSON_APPEND_DOCUMENT_BEGIN(arr, key, &doc);
    BSON_APPEND_INT32(&doc, "day", (int32_t)day);
    if (has_date)
        BSON_APPEND_DATE_TIME(&doc, "date", date);
    BSON_APPEND_UTF8(&doc, "title", title);
    BSON_APPEND_ARRAY(&doc, "activities", &acts);
    bson_destroy(&acts);
    if (accommodation != NULL)
        BSON_APPEND_UTF8(&doc, "accommodation", accommodation);
    BSON_APPEND_ARRAY_BEGIN(&doc, "meals", &list);
    for (i = 0; i < n_meals; i++) {
        char k[16];
        TD_IGNORE(td_fmt(k, sizeof k, "%d", i)); /* fits: one int */
        BSON_APPEND_UTF8(&list, k, meals[meal_idx[i]]);
    }
    bson_append_array_end(&doc, &list);
    if (notes != NULL)
        BSON_APPEND_UTF8(&doc, "notes", notes);
    bson_append_document_end(arr, &doc);
    return TD_OK;
}

/* Validates the plan of a trip from start to end into arr (an initialised array). */
static int read_days(const cJSON *days, int64_t start, int64_t end, td_res *res, bson_t *arr)
{
    long long prev = 0;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, days)
    {
        char path[32], key[16];
        /* fit: a word and one int; one int */
        TD_IGNORE(td_fmt(path, sizeof path, "days[%d]", i));
        TD_IGNORE(td_fmt(key, sizeof key, "%d", i++));
        if (read_day(d, path, start, end, &prev, res, arr, key) != TD_OK)
            return TD_EINVAL;
    }
    return TD_OK;
}

typedef struct {
    const char *title, *destination, *notes, *booking, *customer;
    bool unlink_booking, unlink_customer; /* update: "booking": null */
    int64_t start, end;
    bool has_start, has_end;
    const cJSON *days;
    int64_t version;
} itinerary_input;

/* Validates a create (title, destination and dates required) or update (all
 * optional) body; the plan is checked against the merged dates (read_days). */
static int read_input(const cJSON *body, bool create, td_res *res, itinerary_input *in)
{
    static const char *const create_fields[] = {"title",   "destination", "startDate",
                                                "endDate", "booking",     "customer",
                                                "days",    "notes",       NULL};
    static const char *const update_fields[] = {"title",   "destination", "startDate", "endDate",
                                                "booking", "customer",    "days",      "notes",
                                                "version", NULL};
    memset(in, 0, sizeof *in);
    in->version = -1;
    if (td_check_fields(body, create ? create_fields : update_fields, res) != TD_OK ||
        td_get_str(body, "title", create, 1, TITLE_LEN_MAX, res, &in->title) != TD_OK ||
        td_get_str(body, "destination", create, 1, DESTINATION_LEN_MAX, res, &in->destination) !=
            TD_OK ||
        get_date(body, "startDate", "startDate", create, res, &in->start, &in->has_start) !=
            TD_OK ||
        get_date(body, "endDate", "endDate", create, res, &in->end, &in->has_end) != TD_OK ||
        td_get_str(body, "booking", false, 1, 64, res, &in->booking) != TD_OK ||
        td_get_str(body, "customer", false, 1, 64, res, &in->customer) != TD_OK ||
        td_get_str(body, "notes", false, 0, TEXT_MAX, res, &in->notes) != TD_OK ||
        get_array(body, "days", "days", MAX_DAYS, res, &in->days) != TD_OK)
        return TD_EINVAL;
    if (in->booking != NULL && !td_is_object_id(in->booking)) {
        td_fail_field(res, "booking", "booking must be a booking id (24 hex digits)");
        return TD_EINVAL;
    }
    if (in->customer != NULL && !td_is_object_id(in->customer)) {
        td_fail_field(res, "customer", "customer must be a customer id (24 hex digits)");
        return TD_EINVAL;
    }
    if (!create) {
        in->unlink_booking = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "booking"));
        in->unlink_customer = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "customer"));
        if (get_version(body, res, &in->version) != TD_OK)
            return TD_EINVAL;
    }
    return TD_OK;
}

static int check_dates(int64_t start, int64_t end, td_res *res)
{
    if (end < start) {
        td_fail_field(res, "endDate", "endDate must not be before startDate");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* The linked booking, if the caller can see it (as bookings.c scopes them); 422
 * UNKNOWN_BOOKING otherwise. *customer gets the booking's customer ("" if none). */
static int check_booking(td_req *req, td_res *res, const char *id, char customer[25])
{
    bson_oid_t oid;
    parse_oid(id, &oid);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_EUNAVAIL;
    }
    bson_t filter = BSON_INITIALIZER, doc;
    bson_init(&doc);
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_BOOL(&filter, "deleted", false);
    scope_filter(req, &filter, BOOKING_OWNER, VIEW_ALL);
    int rc = td_store_find_one(c, COLL_BOOKINGS, &filter, &doc);
    bson_destroy(&filter);
    td_bson_oid_hex(&doc, "customer", customer);
    bson_destroy(&doc);
    if (rc == TD_ENOTFOUND) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "booking");
        td_fail(res, 422, "UNKNOWN_BOOKING", "No such booking (or not one of yours)", details);
    } else if (rc != TD_OK) {
        td_fail_rc(res, rc, NULL);
    }
    return rc;
}

static int check_customer(td_req *req, td_res *res, const char *id)
{
    bson_t doc;
    bson_init(&doc);
    int rc = customer_find_visible(req, id, &doc);
    bson_destroy(&doc);
    if (rc == TD_ENOTFOUND || rc == TD_EINVAL) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "field", "customer");
        td_fail(res, 422, "UNKNOWN_CUSTOMER", "No such customer (or not one of yours)", details);
    } else if (rc != TD_OK) {
        td_fail_rc(res, rc, NULL);
    }
    return rc;
}

/*
 * Checks the links of the merged itinerary when they change: the booking and the
 * customer must be visible to the caller. A newly linked booking brings its
 * customer unless the body names one (customer_given), which must then be the
 * booking's (422 BOOKING_CUSTOMER_MISMATCH). *customer may be replaced by the
 * booking's customer, held in buf.
 */
static int check_links(td_req *req, td_res *res, const char *booking, bool booking_changed,
                       const char **customer, bool customer_given, bool customer_changed,
                       char buf[25])
{
    if (booking != NULL && (booking_changed || customer_changed)) {
        if (check_booking(req, res, booking, buf) != TD_OK)
            return TD_EINVAL;
        if (buf[0] != '\0' && !customer_given) {
            *customer = buf;
            return TD_OK;
        }
        if (buf[0] != '\0' && (*customer == NULL || strcmp(buf, *customer) != 0)) {
            cJSON *details = cJSON_CreateObject();
            cJSON_AddStringToObject(details, "field", "customer");
            cJSON_AddStringToObject(details, "bookingCustomer", buf);
            td_fail(res, 422, "BOOKING_CUSTOMER_MISMATCH",
                    "The customer is not the linked booking's customer", details);
            return TD_EINVAL;
        }
    }
    if (*customer != NULL && customer_changed && check_customer(req, res, *customer) != TD_OK)
        return TD_EINVAL;
    return TD_OK;
}

static void derived(bson_t *doc, const char *title, const char *destination)
{
    char buf[DERIVED_TEXT_SIZE], low[DERIVED_TEXT_SIZE];
    /* fits: both validated to their limits, which DERIVED_TEXT_SIZE holds together */
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s", title, destination));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "searchText", low);
    lower_into(low, sizeof low, destination);
    BSON_APPEND_UTF8(doc, "destinationKey", low);
    lower_into(low, sizeof low, title);
    BSON_APPEND_UTF8(doc, "_titleKey", low);
}

static void append_oid(bson_t *doc, const char *field, const char *hex)
{
    bson_oid_t oid;
    parse_oid(hex, &oid);
    BSON_APPEND_OID(doc, field, &oid);
}

static cJSON *snapshot(const bson_t *doc)
{
    return doc_json(doc, NULL);
}

/* Inserts a new itinerary doc, staging `type` with its snapshot (and extra's
 * members), and answers 201. */
static void insert(td_req *req, td_res *res, bson_t *doc, const char *type, const cJSON *extra)
{
    char hex[25];
    td_bson_oid_hex(doc, "_id", hex);
    cJSON *payload = td_event_payload(req, type, "itinerary", hex, NULL, NULL);
    for (const cJSON *e = extra != NULL ? extra->child : NULL; e != NULL; e = e->next)
        cJSON_AddItemToObject(payload, e->string, cJSON_Duplicate(e, true));
    cJSON_AddItemToObject(payload, "itinerary", snapshot(doc));
    int rc = td_store_insert(req, COLL_ITINERARIES, doc, type, payload);
    cJSON_Delete(payload);
    if (rc == TD_OK)
        td_ok(res, 201, snapshot(doc));
    else
        td_fail_rc(res, rc, "create failed");
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (list_begin(req, res, &list_spec, OWNER, VIEW_ALL, &l) == TD_OK)
        list_run(req, res, &l, COLL_ITINERARIES, OWNER, LIST, TTL_ITINERARIES_S, list_copy);
    td_list_free(&l);
    return 0;
}

static int create(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    itinerary_input in;
    bson_t days = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    char buf[25];
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, true, res, &in) != TD_OK ||
        check_dates(in.start, in.end, res) != TD_OK ||
        read_days(in.days, in.start, in.end, res, &days) != TD_OK ||
        check_links(req, res, in.booking, in.booking != NULL, &in.customer, in.customer != NULL,
                    in.customer != NULL, buf) != TD_OK)
        goto out;
    bson_oid_t id, me;
    td_req_new_oid(req, &id);
    bson_oid_init_from_string(&me, req->principal.agent_id);
    int64_t now = td_now_ms();
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "title", in.title);
    BSON_APPEND_UTF8(&doc, "destination", in.destination);
    BSON_APPEND_DATE_TIME(&doc, "startDate", in.start);
    BSON_APPEND_DATE_TIME(&doc, "endDate", in.end);
    if (in.booking != NULL)
        append_oid(&doc, "booking", in.booking);
    if (in.customer != NULL)
        append_oid(&doc, "customer", in.customer);
    BSON_APPEND_ARRAY(&doc, "days", &days);
    if (in.notes != NULL)
        BSON_APPEND_UTF8(&doc, "notes", in.notes);
    BSON_APPEND_OID(&doc, OWNER, &me);
    BSON_APPEND_BOOL(&doc, "deleted", false);
    derived(&doc, in.title, in.destination);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    insert(req, res, &doc, "ITINERARY_CREATED", NULL);
out:
    cJSON_Delete(body);
    bson_destroy(&days);
    bson_destroy(&doc);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_ITINERARIES, OWNER, VIEW_ALL, &doc) == TD_OK)
        td_ok(res, 200, snapshot(&doc));
    bson_destroy(&doc);
    return 0;
}

/* Validates the stored plan against new trip dates (days were not resent). */
static int recheck_days(const bson_t *doc, int64_t start, int64_t end, td_res *res)
{
    cJSON *stored = snapshot(doc);
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(stored, "days");
    bson_t scratch = BSON_INITIALIZER;
    int rc = cJSON_IsArray(days) ? read_days(days, start, end, res, &scratch) : TD_OK;
    bson_destroy(&scratch);
    cJSON_Delete(stored);
    return rc;
}

static int update(td_req *req, td_res *res)
{
    cJSON *body = NULL, *old = NULL, *new = NULL;
    itinerary_input in;
    bson_t doc, updated, days = BSON_INITIALIZER, fields = BSON_INITIALIZER,
                         update = BSON_INITIALIZER;
    bson_init(&doc);
    bson_init(&updated);
    char buf[25], stored_booking[25], stored_customer[25];
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, false, res, &in) != TD_OK)
        goto out;
    if (load_visible(req, res, COLL_ITINERARIES, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_can(req, UPDATE_ANY)) {
        td_fail(res, 403, "FORBIDDEN",
                "Changing another agent's itinerary needs canUpdateAnyBooking", NULL);
        goto out;
    }
    if (in.version >= 0 && in.version != td_bson_int(&doc, "version", 0)) {
        update_failed(res, TD_ENOTFOUND);
        goto out;
    }
    /* Merge over the stored values and validate the whole. */
    int64_t start = in.has_start ? in.start : td_bson_date(&doc, "startDate", 0);
    int64_t end = in.has_end ? in.end : td_bson_date(&doc, "endDate", 0);
    if (check_dates(start, end, res) != TD_OK)
        goto out;
    if (in.days != NULL) {
        if (read_days(in.days, start, end, res, &days) != TD_OK)
            goto out;
    } else if ((in.has_start || in.has_end) && recheck_days(&doc, start, end, res) != TD_OK) {
        goto out;
    }
    td_bson_oid_hex(&doc, "booking", stored_booking);
    td_bson_oid_hex(&doc, "customer", stored_customer);
    const char *booking = in.unlink_booking           ? NULL
                          : in.booking != NULL        ? in.booking
                          : stored_booking[0] != '\0' ? stored_booking
                                                      : NULL;
    const char *customer = in.unlink_customer           ? NULL
                           : in.customer != NULL        ? in.customer
                           : stored_customer[0] != '\0' ? stored_customer
                                                        : NULL;
    bool booking_changed = in.booking != NULL && strcmp(in.booking, stored_booking) != 0;
    bool customer_given = in.customer != NULL || in.unlink_customer;
    bool customer_changed = in.customer != NULL && strcmp(in.customer, stored_customer) != 0;
    if (check_links(req, res, booking, booking_changed, &customer, customer_given, customer_changed,
                    buf) != TD_OK)
        goto out;

    /* The fields as they will be; only those that differ are written. */
    const char *title = in.title != NULL ? in.title : td_bson_str(&doc, "title");
    const char *destination =
        in.destination != NULL ? in.destination : td_bson_str(&doc, "destination");
    BSON_APPEND_UTF8(&fields, "title", title != NULL ? title : "");
    BSON_APPEND_UTF8(&fields, "destination", destination != NULL ? destination : "");
    BSON_APPEND_DATE_TIME(&fields, "startDate", start);
    BSON_APPEND_DATE_TIME(&fields, "endDate", end);
    if (booking != NULL)
        append_oid(&fields, "booking", booking);
    if (customer != NULL)
        append_oid(&fields, "customer", customer);
    if (in.days != NULL)
        BSON_APPEND_ARRAY(&fields, "days", &days);
    if (in.notes != NULL)
        BSON_APPEND_UTF8(&fields, "notes", in.notes);
    old = snapshot(&doc);
    new = snapshot(&fields);
    cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
    bson_t set, unset;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    int changed = changed_fields(&fields, old, new, &set, before, after);
    derived(&set, title != NULL ? title : "", destination != NULL ? destination : "");
    bson_append_document_end(&update, &set);
    const char *links[][2] = {{"booking", stored_booking}, {"customer", stored_customer}};
    bool unlink[] = {booking == NULL && stored_booking[0] != '\0',
                     customer == NULL && stored_customer[0] != '\0'};
    if (unlink[0] || unlink[1]) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$unset", &unset);
        for (int i = 0; i < 2; i++) {
            if (!unlink[i])
                continue;
            BSON_APPEND_UTF8(&unset, links[i][0], "");
            cJSON_AddStringToObject(before, links[i][0], links[i][1]);
            cJSON_AddNullToObject(after, links[i][0]);
            changed++;
        }
        bson_append_document_end(&update, &unset);
    }
    if (changed == 0) {
        cJSON_Delete(before);
        cJSON_Delete(after);
        td_ok(res, 200, snapshot(&doc));
        goto out;
    }
    char hex[25];
    bson_oid_t oid;
    parse_oid(td_bson_oid_hex(&doc, "_id", hex), &oid);
    cJSON *payload = td_event_payload(req, "ITINERARY_UPDATED", "itinerary", hex, before, after);
    int rc = td_store_update(req, COLL_ITINERARIES, &oid, td_bson_int(&doc, "version", 0), &update,
                             "ITINERARY_UPDATED", payload, &updated);
    cJSON_Delete(payload);
    if (rc == TD_OK)
        td_ok(res, 200, snapshot(&updated));
    else
        update_failed(res, rc);
out:
    cJSON_Delete(body);
    cJSON_Delete(old);
    cJSON_Delete(new);
    bson_destroy(&doc);
    bson_destroy(&updated);
    bson_destroy(&days);
    bson_destroy(&fields);
    bson_destroy(&update);
    return 0;
}

static int remove_itinerary(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_ITINERARIES, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_can(req, DELETE_ANY)) {
        td_fail(res, 403, "FORBIDDEN",
                "Deleting another agent's itinerary needs canDeleteAnyBooking", NULL);
        goto out;
    }
    soft_delete(req, res, COLL_ITINERARIES, &doc, "ITINERARY_DELETED", "itinerary");
out:
    bson_destroy(&doc);
    return 0;
}

/* "Copy of <title>", cut on a character boundary to TITLE_LEN_MAX characters. */
static void copy_title(const char *title, char *buf, size_t len)
{
    /* fits: the caller sizes buf for the prefix and TITLE_LEN_MAX characters, the
     * limit a stored title was validated to; the cut below is by characters */
    TD_IGNORE(td_fmt(buf, len, "%s%s", CLONE_PREFIX, title != NULL ? title : ""));
    size_t chars = 0, i = 0;
    for (; buf[i] != '\0'; i++) {
        if (((unsigned char)buf[i] & 0xC0) != 0x80 && ++chars > TITLE_LEN_MAX)
            break;
    }
    buf[i] = '\0';
}

/* Stored fields a clone does not take over: identity, ownership, the booking link,
 * bookkeeping and internal fields (names starting with '_'). */
static bool not_cloned(const char *key)
{
    static const char *const skip[] = {"title",   "agent",      "booking",        "customer",
                                       "deleted", "deletedAt",  "createdAt",      "updatedAt",
                                       "version", "searchText", "destinationKey", "clonedFrom",
                                       NULL};
    if (key[0] == '_')
        return true;
    for (int i = 0; skip[i] != NULL; i++)
        if (strcmp(key, skip[i]) == 0)
            return true;
    return false;
}

static int clone(td_req *req, td_res *res)
{
    static const char *const fields[] = {"title", NULL};
    cJSON *body = NULL;
    const char *title = NULL;
    bson_t src, doc = BSON_INITIALIZER;
    bson_init(&src);
    /* the body is optional: an empty one means "no options" */
    if (req->body_len > 0 &&
        (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
         td_get_str(body, "title", false, 1, TITLE_LEN_MAX, res, &title) != TD_OK))
        goto out;
    if (load_visible(req, res, COLL_ITINERARIES, OWNER, VIEW_ALL, &src) != TD_OK)
        goto out;
    char src_hex[25], customer[25], copy[(size_t)TITLE_LEN_MAX * 4 + sizeof CLONE_PREFIX];
    td_bson_oid_hex(&src, "_id", src_hex);
    td_bson_oid_hex(&src, "customer", customer);
    if (title == NULL) {
        copy_title(td_bson_str(&src, "title"), copy, sizeof copy);
        title = copy;
    }
    bson_oid_t id, me;
    td_req_new_oid(req, &id);
    bson_oid_init_from_string(&me, req->principal.agent_id);
    int64_t now = td_now_ms();
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "title", title);
    bson_iter_t it;
    bson_iter_init(&it, &src);
    while (bson_iter_next(&it))
        if (!not_cloned(bson_iter_key(&it)))
            bson_append_iter(&doc, bson_iter_key(&it), -1, &it);
    /* the customer stays linked when the caller may see it */
    bson_t cust;
    bson_init(&cust);
    if (customer[0] != '\0' && customer_find_visible(req, customer, &cust) == TD_OK)
        append_oid(&doc, "customer", customer);
    bson_destroy(&cust);
    BSON_APPEND_OID(&doc, OWNER, &me);
    append_oid(&doc, "clonedFrom", src_hex);
    BSON_APPEND_BOOL(&doc, "deleted", false);
    const char *destination = td_bson_str(&src, "destination");
    derived(&doc, title, destination != NULL ? destination : "");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "sourceId", src_hex);
    insert(req, res, &doc, "ITINERARY_CLONED", extra);
    cJSON_Delete(extra);
out:
    cJSON_Delete(body);
    bson_destroy(&src);
    bson_destroy(&doc);
    return 0;
}
