/* /api/customers: an agency's customers, owned by the agent who created them. */
#include "booking.h"

#include "tripdesk/docmatch.h"
#include "tripdesk/idempotency.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int list(td_req *req, td_res *res);
static int create(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int update(td_req *req, td_res *res);
static int remove_customer(td_req *req, td_res *res);

const td_route customer_routes[] = {
    {"GET", "/api/customers", list, 0, NULL},
    {"POST", "/api/customers", create, TD_ROUTE_IDEMPOTENT, NULL},
    {"GET", "/api/customers/:id", get, 0, NULL},
    {"PUT", "/api/customers/:id", update, 0, NULL},
    {"DELETE", "/api/customers/:id", remove_customer, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

#define VIEW_ALL VIEW_ALL_CUSTOMERS /* cached_lists.h */
#define DELETE_ANY "canDeleteAnyCustomer"
#define LIST (&booking_cached_lists[CACHED_CUSTOMERS])
#define OWNER "agent"

static const char *const fields[] = {
    "firstName",   "lastName",       "email", "phone",   "city",  "country", "address",
    "dateOfBirth", "passportNumber", "notes", "version", "force", NULL};

static const td_qp list_params[] = {
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"city", TD_QP_SEARCH, "cityKey", NULL},
    {"agent", TD_QP_OID, OWNER, NULL},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"name", "createdAt", "updatedAt", "city", NULL};
static const char *const sort_fields[] = {"nameKey", "createdAt", "updatedAt", "cityKey", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_listindex *list_copy;

/* The duplicate keys, extracted by the list copy for the duplicate lookups. */
#define EMAIL_KEY "emailKey"
#define PHONE_KEY "phoneKey"
#define PHONE_KEY_SIZE 32 /* a phone is at most 25 characters */
static const char *const key_fields[] = {EMAIL_KEY, PHONE_KEY, NULL};

int customers_list_new(void)
{
    return list_copy_new_extra(&list_copy, COLL_CUSTOMERS, LIST, &list_spec, OWNER, key_fields);
}

int customers_indexes(mongoc_client_t *c)
{
    bson_t k1 = BSON_INITIALIZER, k2 = BSON_INITIALIZER, k3 = BSON_INITIALIZER;
    BSON_APPEND_INT32(&k1, OWNER, 1);
    BSON_APPEND_INT32(&k1, "createdAt", -1);
    BSON_APPEND_INT32(&k2, "cityKey", 1);
    BSON_APPEND_INT32(&k3, "nameKey", 1);
    bson_t k4 = BSON_INITIALIZER, k5 = BSON_INITIALIZER;
    BSON_APPEND_INT32(&k4, EMAIL_KEY, 1);
    BSON_APPEND_INT32(&k5, PHONE_KEY, 1);
    int rc = td_mongo_index(c, COLL_CUSTOMERS, &k1, "customer_agent_created", false);
    if (rc == TD_OK)
        rc = td_mongo_index(c, COLL_CUSTOMERS, &k2, "customer_city", false);
    if (rc == TD_OK)
        rc = td_mongo_index(c, COLL_CUSTOMERS, &k3, "customer_name", false);
    if (rc == TD_OK)
        rc = td_mongo_index(c, COLL_CUSTOMERS, &k4, "customer_email_key", false);
    if (rc == TD_OK)
        rc = td_mongo_index(c, COLL_CUSTOMERS, &k5, "customer_phone_key", false);
    bson_destroy(&k1);
    bson_destroy(&k2);
    bson_destroy(&k3);
    bson_destroy(&k4);
    bson_destroy(&k5);
    return rc;
}

void customer_name(const bson_t *customer, char *buf, size_t len)
{
    const char *f = td_bson_str(customer, "firstName"), *l = td_bson_str(customer, "lastName");
    /* fits: the caller gives CUSTOMER_NAME_SIZE, sized from the names' limits */
    TD_IGNORE(td_fmt(buf, len, "%s %s", f != NULL ? f : "", l != NULL ? l : ""));
    td_utf8_trim(buf);
}

void customer_keys(bson_t *doc, const char *email, const char *phone)
{
    if (email != NULL) {
        char low[TD_EMAIL_MAX + 1];
        lower_into(low, sizeof low, email);
        const char *start = low;
        while (isspace((unsigned char)*start))
            start++;
        if (*start != '\0')
            BSON_APPEND_UTF8(doc, EMAIL_KEY, start);
    }
    char digits[PHONE_KEY_SIZE];
    size_t n = 0;
    for (const char *p = phone; p != NULL && *p != '\0' && n + 1 < sizeof digits; p++)
        if (isdigit((unsigned char)*p))
            digits[n++] = *p;
    digits[n] = '\0';
    if (n > 0)
        BSON_APPEND_UTF8(doc, PHONE_KEY, digits);
}

int customer_read_force(const td_req *req, const cJSON *body, td_res *res, bool *force)
{
    *force = false;
    td_query q;
    if (td_query_parse(req->query, &q) != TD_OK) {
        td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
        return TD_EINVAL;
    }
    const char *v = td_query_get(&q, "force");
    int rc = TD_OK;
    if (v != NULL && strcmp(v, "true") == 0) {
        *force = true;
    } else if (v != NULL && strcmp(v, "false") != 0) {
        td_fail_field(res, "force", "force must be true or false");
        rc = TD_EINVAL;
    }
    td_query_free(&q);
    bool in_body = false, present = false;
    if (rc == TD_OK && body != NULL &&
        td_get_bool(body, "force", false, res, &in_body, &present) != TD_OK)
        rc = TD_EINVAL;
    if (present && in_body)
        *force = true;
    return rc;
}

/* The first other live customer whose `field` is `key`, as the API shows it, into
 * *found (NULL when none). */
static int find_by_key(td_req *req, mongoc_client_t *c, const char *field, const char *key,
                       const bson_oid_t *self, cJSON **found)
{
    *found = NULL;
    td_list l;
    memset(&l, 0, sizeof l);
    l.page = 1;
    l.limit = 1;
    bson_init(&l.filter);
    bson_init(&l.sort);
    BSON_APPEND_UTF8(&l.filter, field, key);
    BSON_APPEND_BOOL(&l.filter, "deleted", false);
    if (self != NULL) {
        bson_t ne;
        BSON_APPEND_DOCUMENT_BEGIN(&l.filter, "_id", &ne);
        BSON_APPEND_OID(&ne, "$ne", self);
        bson_append_document_end(&l.filter, &ne);
    }
    BSON_APPEND_INT32(&l.sort, "createdAt", 1);
    cJSON *items = NULL;
    int64_t total = 0;
    bool degraded = false;
    td_listindex *copy = td_list_copy_if_on(list_copy);
    /* The copy answers (also degraded, while Redis is away: it holds this daemon's
     * writes); a copy still loading or off: the indexed filter. */
    int rc = copy != NULL ? td_listindex_query_degraded(copy, c, &l, &items, &total, &degraded)
                          : TD_EUNAVAIL;
    if (rc == TD_OK) {
        const cJSON *first = cJSON_GetArrayItem(items, 0);
        if (first != NULL)
            *found =
                cJSON_IsRaw(first) ? cJSON_Parse(first->valuestring) : cJSON_Duplicate(first, true);
        if (first != NULL && *found == NULL)
            rc = TD_ENOMEM;
    } else {
        bson_t doc;
        rc = td_store_find_one(c, COLL_CUSTOMERS, &l.filter, &doc);
        if (rc == TD_OK) {
            *found = doc_json(&doc, NULL);
            bson_destroy(&doc);
        } else if (rc == TD_ENOTFOUND) {
            rc = TD_OK;
        }
    }
    (void)req;
    cJSON_Delete(items);
    td_list_free(&l);
    return rc;
}

int customer_check_duplicate(td_req *req, td_res *res, const char *email, const char *phone,
                             const bson_oid_t *self)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_EUNAVAIL;
    }
    bson_t keys = BSON_INITIALIZER;
    customer_keys(&keys, email, phone);
    const char *fields[] = {EMAIL_KEY, PHONE_KEY};
    const char *names[] = {"email", "phone"};
    cJSON *found = NULL;
    int rc = TD_OK, which = 0;
    for (; rc == TD_OK && found == NULL && which < 2; which++) {
        const char *key = td_bson_str(&keys, fields[which]);
        if (key != NULL)
            rc = find_by_key(req, c, fields[which], key, self, &found);
    }
    bson_destroy(&keys);
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "duplicate check failed");
        return rc;
    }
    if (found == NULL)
        return TD_OK;
    which--; /* the loop stepped past the field that matched */
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(found, OWNER);
    bool visible =
        td_req_can(req, VIEW_ALL) ||
        (cJSON_IsString(owner) && strcmp(owner->valuestring, req->principal.agent_id) == 0);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", names[which]);
    char msg[CUSTOMER_NAME_SIZE + 96];
    if (visible) {
        cJSON *who = cJSON_AddObjectToObject(details, "customer");
        const char *keep[] = {"_id", "firstName", "lastName"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(found, keep[i]);
            cJSON_AddStringToObject(who, keep[i], cJSON_IsString(v) ? v->valuestring : "");
        }
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(found, "firstName");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(found, "lastName");
        /* fits: a field name of ours and the two names within their limits */
        TD_IGNORE(td_fmt(msg, sizeof msg, "A customer with this %s already exists: %s %s",
                         names[which], cJSON_IsString(f) ? f->valuestring : "",
                         cJSON_IsString(l) ? l->valuestring : ""));
    } else {
        cJSON_AddNullToObject(details, "customer");
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "Another agent's customer has this %s", names[which]));
    }
    cJSON_AddStringToObject(details, "force",
                            "Send force: true (or ?force=true) to save it anyway");
    td_fail(res, 409, "POSSIBLE_DUPLICATE", msg, details);
    cJSON_Delete(found);
    return TD_ECONFLICT;
}

int customer_find_visible(td_req *req, const char *id, bson_t *out)
{
    bson_oid_t oid;
    if (parse_oid(id, &oid) != TD_OK)
        return TD_EINVAL;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return TD_EUNAVAIL;
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_BOOL(&filter, "deleted", false);
    scope_filter(req, &filter, OWNER, VIEW_ALL);
    /* From the list copy when it holds the customer (a booking creation then costs
     * the database one read less), with the filter the database would apply. */
    bson_t held;
    td_listindex *copy = td_list_copy_if_on(list_copy);
    int rc = copy != NULL ? td_listindex_get(copy, c, &oid, &held) : TD_EUNAVAIL;
    if (rc == TD_OK) {
        bool visible = td_doc_match(&filter, &held);
        if (visible)
            bson_copy_to(&held, out);
        bson_destroy(&held);
        rc = visible ? TD_OK : TD_ENOTFOUND;
    } else {
        rc = td_store_find_one(c, COLL_CUSTOMERS, &filter, out);
    }
    bson_destroy(&filter);
    return rc;
}

typedef struct {
    const char *first, *last, *phone, *city, *country, *address, *passport, *notes;
    char email[TD_EMAIL_MAX + 1];
    bool has_email, has_dob;
    int64_t dob;
    int64_t version;
} customer_input;

/* Validates a create (required fields) or an update (all optional) body. */
static int read_input(const cJSON *body, bool create, td_res *res, customer_input *in)
{
    memset(in, 0, sizeof *in);
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "firstName", create, 1, 60, res, &in->first) != TD_OK ||
        td_get_str(body, "lastName", create, 1, 60, res, &in->last) != TD_OK ||
        td_get_email(body, "email", false, res, in->email, &in->has_email) != TD_OK ||
        td_get_str(body, "phone", create, 6, 25, res, &in->phone) != TD_OK ||
        td_get_str(body, "city", false, 1, 80, res, &in->city) != TD_OK ||
        td_get_str(body, "country", false, 2, 80, res, &in->country) != TD_OK ||
        td_get_str(body, "address", false, 1, 300, res, &in->address) != TD_OK ||
        td_get_str(body, "passportNumber", false, 5, 20, res, &in->passport) != TD_OK ||
        td_get_str(body, "notes", false, 0, TEXT_MAX, res, &in->notes) != TD_OK ||
        get_date(body, "dateOfBirth", "dateOfBirth", false, res, &in->dob, &in->has_dob) != TD_OK ||
        get_version(body, res, &in->version) != TD_OK)
        return TD_EINVAL;
    if (in->phone != NULL && !td_valid_phone(in->phone)) {
        td_fail_field(res, "phone", "Enter a valid phone number");
        return TD_EINVAL;
    }
    if (in->has_dob && in->dob > td_now_ms()) {
        td_fail_field(res, "dateOfBirth", "dateOfBirth cannot be in the future");
        return TD_EINVAL;
    }
    if (create && in->version >= 0) {
        td_fail_field(res, "version", "Unknown field 'version'");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* Derived fields from the merged values. */
static void derived(bson_t *doc, const char *first, const char *last, const char *email,
                    const char *phone, const char *city)
{
    char buf[DERIVED_TEXT_SIZE], low[DERIVED_TEXT_SIZE];
    /* fit: every part is validated to its limit, which DERIVED_TEXT_SIZE holds together */
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s %s %s %s", first, last, email ? email : "",
                     phone ? phone : "", city ? city : ""));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "searchText", low);
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s", last, first));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "nameKey", low);
    lower_into(low, sizeof low, city != NULL ? city : "");
    BSON_APPEND_UTF8(doc, "cityKey", low);
    customer_keys(doc, email, phone);
}

static cJSON *snapshot(const bson_t *doc)
{
    return doc_json(doc, NULL);
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (list_begin(req, res, &list_spec, OWNER, VIEW_ALL, &l) == TD_OK)
        list_run(req, res, &l, COLL_CUSTOMERS, OWNER, LIST, TTL_CUSTOMERS_S, list_copy);
    td_list_free(&l);
    return 0;
}

static int create(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    customer_input in;
    bool force;
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, true, res, &in) != TD_OK ||
        customer_read_force(req, body, res, &force) != TD_OK)
        goto out;
    /* The id first: a retry of a create that wrote but never answered makes the same
     * id again (Idempotency-Key), and the customer it made then is no duplicate. */
    bson_oid_t id, me;
    td_req_new_oid(req, &id);
    if (!force &&
        customer_check_duplicate(req, res, in.has_email ? in.email : NULL, in.phone, &id) != TD_OK)
        goto out;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "firstName", in.first);
    BSON_APPEND_UTF8(&doc, "lastName", in.last);
    if (in.has_email)
        BSON_APPEND_UTF8(&doc, "email", in.email);
    BSON_APPEND_UTF8(&doc, "phone", in.phone);
    const char *opt[][2] = {{"city", in.city},
                            {"country", in.country},
                            {"address", in.address},
                            {"passportNumber", in.passport},
                            {"notes", in.notes}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (opt[i][1] != NULL)
            BSON_APPEND_UTF8(&doc, opt[i][0], opt[i][1]);
    if (in.has_dob)
        BSON_APPEND_DATE_TIME(&doc, "dateOfBirth", in.dob);
    BSON_APPEND_OID(&doc, OWNER, &me);
    BSON_APPEND_BOOL(&doc, "deleted", false);
    derived(&doc, in.first, in.last, in.has_email ? in.email : NULL, in.phone, in.city);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    char hex[25];
    bson_oid_to_string(&id, hex);
    cJSON *payload = td_event_payload(req, "CUSTOMER_CREATED", "customer", hex, NULL, NULL);
    cJSON_AddItemToObject(payload, "customer", snapshot(&doc));
    int rc = td_store_insert(req, COLL_CUSTOMERS, &doc, "CUSTOMER_CREATED", payload);
    cJSON_Delete(payload);
    if (rc == TD_OK)
        td_ok(res, 201, snapshot(&doc));
    else
        td_fail_rc(res, rc, "create failed");
    bson_destroy(&doc);
out:
    cJSON_Delete(body);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_CUSTOMERS, OWNER, VIEW_ALL, &doc) == TD_OK)
        td_ok(res, 200, snapshot(&doc));
    bson_destroy(&doc);
    return 0;
}

static int update(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    customer_input in;
    bson_t doc, updated;
    bson_init(&doc);
    bson_init(&updated);
    bool force;
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, false, res, &in) != TD_OK ||
        customer_read_force(req, body, res, &force) != TD_OK)
        goto out;
    if (load_visible(req, res, COLL_CUSTOMERS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_can(req, VIEW_ALL)) {
        td_fail(res, 403, "FORBIDDEN", "You may only change your own customers", NULL);
        goto out;
    }
    if (in.version >= 0 && in.version != td_bson_int(&doc, "version", 0)) {
        update_failed(res, TD_ENOTFOUND);
        goto out;
    }
    /* A new email or phone is checked like a new customer's (the others' own keys
     * were checked when they were set). */
    const char *old_email = td_bson_str(&doc, "email"), *old_phone = td_bson_str(&doc, "phone");
    const char *new_email =
        in.has_email && (old_email == NULL || strcmp(old_email, in.email) != 0) ? in.email : NULL;
    const char *new_phone =
        in.phone != NULL && (old_phone == NULL || strcmp(old_phone, in.phone) != 0) ? in.phone
                                                                                    : NULL;
    if (!force && (new_email != NULL || new_phone != NULL)) {
        bson_oid_t self;
        char self_hex[25];
        parse_oid(td_bson_oid_hex(&doc, "_id", self_hex), &self);
        if (customer_check_duplicate(req, res, new_email, new_phone, &self) != TD_OK)
            goto out;
    }
    const char *names[] = {"firstName", "lastName",       "phone", "city", "country",
                           "address",   "passportNumber", "notes", "email"};
    const char *vals[] = {in.first,    in.last,    in.phone,
                          in.city,     in.country, in.address,
                          in.passport, in.notes,   in.has_email ? in.email : NULL};
    bson_t update = BSON_INITIALIZER, set;
    cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    int changed = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (vals[i] == NULL)
            continue;
        const char *old = td_bson_str(&doc, names[i]);
        if (old != NULL && strcmp(old, vals[i]) == 0)
            continue;
        BSON_APPEND_UTF8(&set, names[i], vals[i]);
        cJSON_AddItemToObject(before, names[i],
                              old != NULL ? cJSON_CreateString(old) : cJSON_CreateNull());
        cJSON_AddStringToObject(after, names[i], vals[i]);
        changed++;
    }
    if (in.has_dob) {
        BSON_APPEND_DATE_TIME(&set, "dateOfBirth", in.dob);
        char ts[TD_ISO_TIME_LEN];
        td_iso_time(in.dob, ts);
        cJSON_AddStringToObject(after, "dateOfBirth", ts);
        changed++;
    }
#define MERGED(i, f) (vals[i] != NULL ? vals[i] : td_bson_str(&doc, f))
    const char *first = MERGED(0, "firstName"), *last = MERGED(1, "lastName");
    derived(&set, first != NULL ? first : "", last != NULL ? last : "", MERGED(8, "email"),
            MERGED(2, "phone"), MERGED(3, "city"));
#undef MERGED
    bson_append_document_end(&update, &set);
    if (changed == 0) {
        cJSON_Delete(before);
        cJSON_Delete(after);
        td_ok(res, 200, snapshot(&doc));
    } else {
        char hex[25];
        td_bson_oid_hex(&doc, "_id", hex);
        cJSON *payload = td_event_payload(req, "CUSTOMER_UPDATED", "customer", hex, before, after);
        bson_oid_t oid;
        parse_oid(hex, &oid);
        int rc = td_store_update(req, COLL_CUSTOMERS, &oid, td_bson_int(&doc, "version", 0),
                                 &update, "CUSTOMER_UPDATED", payload, &updated);
        cJSON_Delete(payload);
        if (rc == TD_OK)
            td_ok(res, 200, snapshot(&updated));
        else
            update_failed(res, rc);
    }
    bson_destroy(&update);
out:
    cJSON_Delete(body);
    bson_destroy(&doc);
    bson_destroy(&updated);
    return 0;
}

/* Live bookings of a customer block its deletion. */
static int64_t live_bookings(mongoc_client_t *c, const bson_oid_t *customer)
{
    bson_t *filter = BCON_NEW("customer", BCON_OID(customer), "deleted", BCON_BOOL(false), "status",
                              "{", "$in", "[", BCON_UTF8("pending"), BCON_UTF8("confirmed"),
                              BCON_UTF8("in_progress"), "]", "}");
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_BOOKINGS);
    bson_error_t err;
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    int64_t n = mongoc_collection_count_documents(cl, filter, &opts, NULL, NULL, &err);
    bson_destroy(&opts);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
    return n;
}

static int remove_customer(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_CUSTOMERS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_can(req, DELETE_ANY)) {
        td_fail(res, 403, "FORBIDDEN",
                "Deleting another agent's customer needs canDeleteAnyCustomer", NULL);
        goto out;
    }
    bson_oid_t oid;
    char hex[25];
    parse_oid(td_bson_oid_hex(&doc, "_id", hex), &oid);
    int64_t live = live_bookings(td_req_mongo(req), &oid);
    if (live < 0) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    if (live > 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddNumberToObject(details, "liveBookings", (double)live);
        td_fail(res, 409, "CUSTOMER_HAS_BOOKINGS",
                "The customer has pending or active bookings; cancel them first", details);
        goto out;
    }
    soft_delete(req, res, COLL_CUSTOMERS, &doc, "CUSTOMER_DELETED", "customer");
out:
    bson_destroy(&doc);
    return 0;
}
