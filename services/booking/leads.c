/*
 * /api/leads: the lead pipeline (PRD steps 2, 3, 6). A lead belongs to its assigned
 * agent (canViewAllLeads widens that) and moves new -> contacted -> qualified ->
 * proposal -> negotiation; any open lead may be lost, and it becomes converted only
 * through POST /api/leads/:id/convert, which links or creates the customer and
 * optionally books the trip (bookings.c). Converted and lost leads are closed: no
 * more edits nor status changes.
 *
 * Derived fields: searchText and nameKey (hidden by doc_json), _priorityRank and
 * _statusRank (internal, so that sortBy=priority|status follow urgency and pipeline
 * order rather than the alphabet).
 */
#include "booking.h"

#include "tripdesk/transitions.h"

#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

static int list(td_req *req, td_res *res);
static int create(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int update(td_req *req, td_res *res);
static int remove_lead(td_req *req, td_res *res);
static int change_status(td_req *req, td_res *res);
static int assign(td_req *req, td_res *res);
static int convert(td_req *req, td_res *res);

#define VIEW_ALL VIEW_ALL_LEADS /* cached_lists.h */
#define ASSIGN "canAssignLeads"
#define DELETE_ROLE "admin"
#define LIST (&booking_cached_lists[CACHED_LEADS])
#define OWNER "assignedAgent"

const td_route lead_routes[] = {
    {"GET", "/api/leads", list, 0, NULL},
    {"POST", "/api/leads", create, TD_ROUTE_IDEMPOTENT, NULL},
    {"GET", "/api/leads/:id", get, 0, NULL},
    {"PUT", "/api/leads/:id", update, 0, NULL},
    {"DELETE", "/api/leads/:id", remove_lead, 0, NULL},
    {"PATCH", "/api/leads/:id/status", change_status, 0, NULL},
    {"PATCH", "/api/leads/:id/assign", assign, 0, ASSIGN},
    {"POST", "/api/leads/:id/convert", convert, TD_ROUTE_IDEMPOTENT, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

#define NAME_LEN_MAX 60
#define PHONE_LEN_MIN 6
#define PHONE_LEN_MAX 25
#define DESTINATION_LEN_MAX 120
#define REASON_LEN_MAX 500
#define CONVERT_TRIES 3 /* re-reads when an edit races the final conversion write */

/* Pipeline order: the index is the stored _statusRank. */
static const char *const statuses[] = {"new",         "contacted", "qualified", "proposal",
                                       "negotiation", "converted", "lost",      NULL};
static const char *const sources[] = {"website", "referral", "social_media", "walk_in", "phone",
                                      "email",   "partner",  "other",        NULL};
/* Urgency order: the index is the stored _priorityRank. */
static const char *const priorities[] = {"low", "medium", "high", "urgent", NULL};

/* The status machine of PATCH /status; "converted" is reached only by /convert. */
static const td_transition transitions[] = {
    {"new", {"contacted", "lost"}},
    {"contacted", {"qualified", "lost"}},
    {"qualified", {"proposal", "lost"}},
    {"proposal", {"negotiation", "lost"}},
    {"negotiation", {"lost", NULL}},
    {"converted", {NULL, NULL}},
    {"lost", {NULL, NULL}},
};

static const td_qp list_params[] = {
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"status", TD_QP_IN, "status", statuses},
    {"source", TD_QP_IN, "source", sources},
    {"priority", TD_QP_IN, "priority", priorities},
    {"assignedAgent", TD_QP_OID, OWNER, NULL},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "updatedAt", "priority",
                                         "status",    "name",      NULL};
static const char *const sort_fields[] = {"createdAt",   "updatedAt", "_priorityRank",
                                          "_statusRank", "nameKey",   NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_listindex *list_copy;

int leads_list_new(void)
{
    return list_copy_new(&list_copy, COLL_LEADS, LIST, &list_spec, OWNER);
}

int leads_indexes(mongoc_client_t *c)
{
    struct {
        const char *name;
        const char *keys[2];
        int dirs[2];
    } idx[] = {
        {"lead_agent_created", {OWNER, "createdAt"}, {1, -1}},
        {"lead_status_created", {"status", "createdAt"}, {1, -1}},
        {"lead_source", {"source", NULL}, {1, 0}},
        {"lead_priority", {"priority", NULL}, {1, 0}},
    };
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        bson_t keys = BSON_INITIALIZER;
        for (int k = 0; k < 2 && idx[i].keys[k] != NULL; k++)
            BSON_APPEND_INT32(&keys, idx[i].keys[k], idx[i].dirs[k]);
        int rc = td_mongo_index(c, COLL_LEADS, &keys, idx[i].name, false);
        bson_destroy(&keys);
        if (rc != TD_OK)
            return rc;
    }
    return TD_OK;
}

static int rank_of(const char *value, const char *const *values)
{
    for (int i = 0; value != NULL && values[i] != NULL; i++)
        if (strcmp(value, values[i]) == 0)
            return i;
    return 0;
}

static bool closed(const char *status)
{
    return status == NULL || strcmp(status, "converted") == 0 || strcmp(status, "lost") == 0;
}

/* The editable content of a lead; NULL / has_* false: absent. */
typedef struct {
    const char *first, *last, *email, *phone, *source, *priority, *destination, *notes;
    const char *currency;
    double amount;
    bool has_amount;
    int64_t from, to;
    bool has_from, has_to;
} lead_fields;

/* A create or update body: the given fields, the optional assignee (create) and
 * version (update). */
typedef struct {
    lead_fields f;
    char email[TD_EMAIL_MAX + 1];
    const char *assigned;
    int64_t version;
} lead_input;

/* An optional sub-object of body: *out NULL when absent (or null); 400 when it is
 * not an object or holds an unknown field. */
static int get_object(const cJSON *body, const char *name, const char *const *allowed, td_res *res,
                      const cJSON **out)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (v == NULL || cJSON_IsNull(v))
        return TD_OK;
    if (!cJSON_IsObject(v)) {
        char msg[96];
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be an object", name)); /* a name of ours */
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    if (td_check_fields(v, allowed, res) != TD_OK)
        return TD_EINVAL;
    *out = v;
    return TD_OK;
}

static int require(const cJSON *obj, const char *path, td_res *res)
{
    if (obj != NULL)
        return TD_OK;
    char msg[96];
    TD_IGNORE(td_fmt(msg, sizeof msg, "%s is required", path)); /* fits: a path of ours */
    td_fail_field(res, path, msg);
    return TD_EINVAL;
}

static int check_phone(const char *phone, const char *path, td_res *res)
{
    if (phone != NULL && !td_valid_phone(phone)) {
        td_fail_field(res, path, "Enter a valid phone number");
        return TD_EINVAL;
    }
    return TD_OK;
}

static int check_currency(const char *cur, td_res *res)
{
    bool ok = cur == NULL || strlen(cur) == 3;
    for (int i = 0; ok && cur != NULL && i < 3; i++)
        ok = cur[i] >= 'A' && cur[i] <= 'Z';
    if (!ok) {
        td_fail_field(res, "budget.currency", "currency must be an ISO 4217 code such as INR");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* Validates a create (name and contactInfo required) or update (all optional)
 * body; rules spanning fields are checked on the merged lead (check_lead). */
static int read_input(const cJSON *body, bool create, td_res *res, lead_input *in)
{
    static const char *const create_fields[] = {
        "name",   "contactInfo", "source", "priority", "assignedAgent", "interestedDestination",
        "budget", "travelDates", "notes",  NULL};
    static const char *const update_fields[] = {
        "name",   "contactInfo", "source", "priority", "interestedDestination",
        "budget", "travelDates", "notes",  "version",  NULL};
    static const char *const name_fields[] = {"firstName", "lastName", NULL};
    static const char *const contact_fields[] = {"email", "phone", NULL};
    static const char *const budget_fields[] = {"amount", "currency", NULL};
    static const char *const date_fields[] = {"from", "to", NULL};
    memset(in, 0, sizeof *in);
    in->version = -1;
    const cJSON *name, *contact, *budget, *dates;
    bool has_email = false;
    if (td_check_fields(body, create ? create_fields : update_fields, res) != TD_OK ||
        get_object(body, "name", name_fields, res, &name) != TD_OK ||
        get_object(body, "contactInfo", contact_fields, res, &contact) != TD_OK ||
        get_object(body, "budget", budget_fields, res, &budget) != TD_OK ||
        get_object(body, "travelDates", date_fields, res, &dates) != TD_OK)
        return TD_EINVAL;
    if (create &&
        (require(name, "name", res) != TD_OK || require(contact, "contactInfo", res) != TD_OK))
        return TD_EINVAL;
    if (name != NULL &&
        (td_get_str(name, "firstName", create, 1, NAME_LEN_MAX, res, &in->f.first) != TD_OK ||
         td_get_str(name, "lastName", create, 1, NAME_LEN_MAX, res, &in->f.last) != TD_OK))
        return TD_EINVAL;
    if (contact != NULL &&
        (td_get_email(contact, "email", false, res, in->email, &has_email) != TD_OK ||
         td_get_str(contact, "phone", false, PHONE_LEN_MIN, PHONE_LEN_MAX, res, &in->f.phone) !=
             TD_OK ||
         check_phone(in->f.phone, "contactInfo.phone", res) != TD_OK))
        return TD_EINVAL;
    if (has_email)
        in->f.email = in->email;
    if (budget != NULL &&
        (td_get_number(budget, "amount", create, 0, MONEY_MAX, 2, res, &in->f.amount,
                       &in->f.has_amount) != TD_OK ||
         td_get_str(budget, "currency", create, 3, 3, res, &in->f.currency) != TD_OK ||
         check_currency(in->f.currency, res) != TD_OK))
        return TD_EINVAL;
    if (dates != NULL &&
        (get_date(dates, "from", "travelDates.from", create, res, &in->f.from, &in->f.has_from) !=
             TD_OK ||
         get_date(dates, "to", "travelDates.to", create, res, &in->f.to, &in->f.has_to) != TD_OK))
        return TD_EINVAL;
    if (td_get_enum(body, "source", false, sources, res, &in->f.source) != TD_OK ||
        td_get_enum(body, "priority", false, priorities, res, &in->f.priority) != TD_OK ||
        td_get_str(body, "interestedDestination", false, 1, DESTINATION_LEN_MAX, res,
                   &in->f.destination) != TD_OK ||
        td_get_str(body, "notes", false, 0, TEXT_MAX, res, &in->f.notes) != TD_OK ||
        td_get_str(body, "assignedAgent", false, 1, 64, res, &in->assigned) != TD_OK)
        return TD_EINVAL;
    if (in->assigned != NULL && !td_is_object_id(in->assigned)) {
        td_fail_field(res, "assignedAgent", "assignedAgent must be an agent id (24 hex digits)");
        return TD_EINVAL;
    }
    if (!create && get_version(body, res, &in->version) != TD_OK)
        return TD_EINVAL;
    return TD_OK;
}

/* Rules over the whole (merged) lead. */
static int check_lead(const lead_fields *m, td_res *res)
{
    if (m->email == NULL && m->phone == NULL) {
        td_fail_field(res, "contactInfo", "contactInfo needs an email or a phone number");
        return TD_EINVAL;
    }
    if (m->has_amount != (m->currency != NULL)) {
        const char *missing = m->has_amount ? "budget.currency" : "budget.amount";
        char msg[64];
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s is required", missing)); /* a path of ours */
        td_fail_field(res, missing, msg);
        return TD_EINVAL;
    }
    if (m->has_from && m->has_to && m->to < m->from) {
        td_fail_field(res, "travelDates.to", "travelDates.to must not be before travelDates.from");
        return TD_EINVAL;
    }
    return TD_OK;
}

/* The stored lead's editable content. */
static void stored_fields(const bson_t *doc, lead_fields *s)
{
    memset(s, 0, sizeof *s);
    s->first = td_bson_str(doc, "name.firstName");
    s->last = td_bson_str(doc, "name.lastName");
    s->email = td_bson_str(doc, "contactInfo.email");
    s->phone = td_bson_str(doc, "contactInfo.phone");
    s->source = td_bson_str(doc, "source");
    s->priority = td_bson_str(doc, "priority");
    s->destination = td_bson_str(doc, "interestedDestination");
    s->notes = td_bson_str(doc, "notes");
    s->currency = td_bson_str(doc, "budget.currency");
    bson_iter_t it;
    s->has_amount = td_bson_at(doc, "budget.amount", &it) && BSON_ITER_HOLDS_NUMBER(&it);
    s->amount = td_bson_num(doc, "budget.amount", 0);
    s->has_from = td_bson_at(doc, "travelDates.from", &it) && BSON_ITER_HOLDS_DATE_TIME(&it);
    s->from = td_bson_date(doc, "travelDates.from", 0);
    s->has_to = td_bson_at(doc, "travelDates.to", &it) && BSON_ITER_HOLDS_DATE_TIME(&it);
    s->to = td_bson_date(doc, "travelDates.to", 0);
}

/* The given fields over the stored ones. */
static void merge(const lead_fields *in, const lead_fields *s, lead_fields *m)
{
#define PICK(f) m->f = in->f != NULL ? in->f : s->f
    PICK(first);
    PICK(last);
    PICK(email);
    PICK(phone);
    PICK(source);
    PICK(priority);
    PICK(destination);
    PICK(notes);
    PICK(currency);
#undef PICK
    m->has_amount = in->has_amount || s->has_amount;
    m->amount = in->has_amount ? in->amount : s->amount;
    m->has_from = in->has_from || s->has_from;
    m->from = in->has_from ? in->from : s->from;
    m->has_to = in->has_to || s->has_to;
    m->to = in->has_to ? in->to : s->to;
}

/* Writes the editable fields of a lead, as stored. */
static void append_fields(bson_t *doc, const lead_fields *m)
{
    bson_t sub;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "name", &sub);
    BSON_APPEND_UTF8(&sub, "firstName", m->first);
    BSON_APPEND_UTF8(&sub, "lastName", m->last);
    bson_append_document_end(doc, &sub);
    BSON_APPEND_DOCUMENT_BEGIN(doc, "contactInfo", &sub);
    if (m->email != NULL)
        BSON_APPEND_UTF8(&sub, "email", m->email);
    if (m->phone != NULL)
        BSON_APPEND_UTF8(&sub, "phone", m->phone);
    bson_append_document_end(doc, &sub);
    BSON_APPEND_UTF8(doc, "source", m->source);
    BSON_APPEND_UTF8(doc, "priority", m->priority);
    if (m->destination != NULL)
        BSON_APPEND_UTF8(doc, "interestedDestination", m->destination);
    if (m->has_amount) {
        BSON_APPEND_DOCUMENT_BEGIN(doc, "budget", &sub);
        BSON_APPEND_DOUBLE(&sub, "amount", m->amount);
        BSON_APPEND_UTF8(&sub, "currency", m->currency);
        bson_append_document_end(doc, &sub);
    }
    if (m->has_from || m->has_to) {
        BSON_APPEND_DOCUMENT_BEGIN(doc, "travelDates", &sub);
        if (m->has_from)
            BSON_APPEND_DATE_TIME(&sub, "from", m->from);
        if (m->has_to)
            BSON_APPEND_DATE_TIME(&sub, "to", m->to);
        bson_append_document_end(doc, &sub);
    }
    if (m->notes != NULL)
        BSON_APPEND_UTF8(doc, "notes", m->notes);
}

/* Derived fields from the merged values. */
static void derived(bson_t *doc, const lead_fields *m)
{
    char buf[DERIVED_TEXT_SIZE], low[DERIVED_TEXT_SIZE];
    /* fit: every part is validated to its limit, which DERIVED_TEXT_SIZE holds together */
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s %s %s %s", m->first, m->last, m->email ? m->email : "",
                     m->phone ? m->phone : "", m->destination ? m->destination : ""));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "searchText", low);
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s", m->last, m->first));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(doc, "nameKey", low);
    BSON_APPEND_INT32(doc, "_priorityRank", rank_of(m->priority, priorities));
}

static void set_status(bson_t *set, const char *status, int64_t now)
{
    char field[64];
    BSON_APPEND_UTF8(set, "status", status);
    BSON_APPEND_INT32(set, "_statusRank", rank_of(status, statuses));
    /* fits: status is one of the lead statuses */
    TD_IGNORE(td_fmt(field, sizeof field, "statusDates.%s", status));
    BSON_APPEND_DATE_TIME(set, field, now);
    BSON_APPEND_DATE_TIME(set, "lastActivityAt", now);
}

/* The lead as an update will leave it: the stored document with the top-level
 * fields of $set replaced and version bumped. The event is staged in the same write,
 * so its snapshot is built before the write (updatedAt to the millisecond). */
static cJSON *projected(const bson_t *doc, const bson_t *update)
{
    bson_t set, out = BSON_INITIALIZER;
    bson_iter_t it, s;
    const uint8_t *data;
    uint32_t len;
    bool has_set = bson_iter_init_find(&it, update, "$set") && BSON_ITER_HOLDS_DOCUMENT(&it);
    if (has_set) {
        bson_iter_document(&it, &len, &data);
        bson_init_static(&set, data, len);
    }
    bson_iter_init(&it, doc);
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (has_set && bson_iter_init_find(&s, &set, key))
            continue;
        if (strcmp(key, "version") == 0)
            BSON_APPEND_INT64(&out, key, bson_iter_as_int64(&it) + 1);
        else if (strcmp(key, "updatedAt") == 0)
            BSON_APPEND_DATE_TIME(&out, key, td_now_ms());
        else
            bson_append_iter(&out, key, -1, &it);
    }
    if (has_set && bson_iter_init(&s, &set))
        while (bson_iter_next(&s))
            if (strchr(bson_iter_key(&s), '.') == NULL)
                bson_append_iter(&out, bson_iter_key(&s), -1, &s);
    cJSON *json = doc_json(&out, NULL);
    bson_destroy(&out);
    return json;
}

/* The common event payload plus the lead's snapshot (after `update`, when given)
 * and its assignee, to whom notifications go. before/after are taken. */
static cJSON *lead_payload(td_req *req, const char *action, const char *hex, const bson_t *lead,
                           const bson_t *update, cJSON *before, cJSON *after)
{
    cJSON *payload = td_event_payload(req, action, "lead", hex, before, after);
    cJSON *snap = update != NULL ? projected(lead, update) : doc_json(lead, NULL);
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(snap, OWNER);
    cJSON_AddStringToObject(payload, "assignedAgent",
                            cJSON_IsString(agent) ? agent->valuestring : "");
    cJSON_AddItemToObject(payload, "lead", snap);
    return payload;
}

/* Applies update to the stored lead doc if its version is still `version`, staging
 * event `type` (before/after taken, members of extra copied into the payload).
 * *updated (may be NULL) gets the new document. */
static int write_lead(td_req *req, const bson_t *doc, int64_t version, bson_t *update,
                      const char *type, cJSON *before, cJSON *after, const cJSON *extra,
                      bson_t *updated)
{
    char hex[25];
    bson_oid_t id;
    parse_oid(td_bson_oid_hex(doc, "_id", hex), &id);
    cJSON *payload = lead_payload(req, type, hex, doc, update, before, after);
    for (const cJSON *e = extra != NULL ? extra->child : NULL; e != NULL; e = e->next)
        cJSON_AddItemToObject(payload, e->string, cJSON_Duplicate(e, true));
    int rc = td_store_update(req, COLL_LEADS, &id, version, update, type, payload, updated);
    cJSON_Delete(payload);
    return rc;
}

/* write_lead over the loaded version, answering 200 with the updated lead. */
static void write_and_answer(td_req *req, td_res *res, const bson_t *doc, bson_t *update,
                             const char *type, cJSON *before, cJSON *after, const cJSON *extra)
{
    bson_t updated;
    bson_init(&updated);
    int rc = write_lead(req, doc, td_bson_int(doc, "version", 0), update, type, before, after,
                        extra, &updated);
    if (rc == TD_OK)
        td_ok(res, 200, doc_json(&updated, NULL));
    else
        update_failed(res, rc);
    bson_destroy(&updated);
}

/* 409 when the client named a version (>= 0) other than the stored one. */
static int stale(const bson_t *doc, int64_t version, td_res *res)
{
    if (version >= 0 && version != td_bson_int(doc, "version", 0)) {
        update_failed(res, TD_ENOTFOUND);
        return TD_ECONFLICT;
    }
    return TD_OK;
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (list_begin(req, res, &list_spec, OWNER, VIEW_ALL, &l) == TD_OK)
        list_run(req, res, &l, COLL_LEADS, OWNER, LIST, TTL_LEADS_S, list_copy);
    td_list_free(&l);
    return 0;
}

static int create(td_req *req, td_res *res)
{
    cJSON *body = NULL;
    lead_input in;
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, true, res, &in) != TD_OK)
        goto out;
    lead_fields m = in.f;
    if (m.source == NULL)
        m.source = "other";
    if (m.priority == NULL)
        m.priority = "medium";
    if (check_lead(&m, res) != TD_OK)
        goto out;
    bson_oid_t id, me, assignee;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    bson_oid_copy(&me, &assignee);
    if (in.assigned != NULL) {
        parse_oid(in.assigned, &assignee);
        if (!bson_oid_equal(&assignee, &me) && !td_req_can(req, ASSIGN)) {
            cJSON *details = cJSON_CreateObject();
            cJSON_AddStringToObject(details, "permission", ASSIGN);
            td_fail(res, 403, "FORBIDDEN", "Assigning a lead to another agent needs canAssignLeads",
                    details);
            goto out;
        }
    }
    td_req_new_oid(req, &id);
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &id);
    append_fields(&doc, &m);
    BSON_APPEND_UTF8(&doc, "status", "new");
    BSON_APPEND_OID(&doc, OWNER, &assignee);
    BSON_APPEND_OID(&doc, "createdBy", &me);
    BSON_APPEND_DATE_TIME(&doc, "lastActivityAt", now);
    BSON_APPEND_BOOL(&doc, "deleted", false);
    derived(&doc, &m);
    BSON_APPEND_INT32(&doc, "_statusRank", rank_of("new", statuses));
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    char hex[25];
    bson_oid_to_string(&id, hex);
    cJSON *payload = lead_payload(req, "LEAD_CREATED", hex, &doc, NULL, NULL, NULL);
    int rc = td_store_insert(req, COLL_LEADS, &doc, "LEAD_CREATED", payload);
    cJSON_Delete(payload);
    if (rc == TD_OK)
        td_ok(res, 201, doc_json(&doc, NULL));
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
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &doc) == TD_OK)
        td_ok(res, 200, doc_json(&doc, NULL));
    bson_destroy(&doc);
    return 0;
}

static int update(td_req *req, td_res *res)
{
    cJSON *body = NULL, *old = NULL, *new = NULL;
    lead_input in;
    bson_t doc, fields = BSON_INITIALIZER, update = BSON_INITIALIZER;
    bson_init(&doc);
    if (td_req_json(req, res, &body) != TD_OK || read_input(body, false, res, &in) != TD_OK)
        goto out;
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (closed(td_bson_str(&doc, "status"))) {
        td_fail(res, 422, "LEAD_CLOSED", "A converted or lost lead cannot be edited", NULL);
        goto out;
    }
    if (stale(&doc, in.version, res) != TD_OK)
        goto out;
    lead_fields s, m;
    stored_fields(&doc, &s);
    merge(&in.f, &s, &m);
    if (check_lead(&m, res) != TD_OK)
        goto out;
    /* Compare the merged fields with the stored ones, top-level field by field. */
    append_fields(&fields, &m);
    old = doc_json(&doc, NULL);
    new = doc_json(&fields, NULL);
    cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    int changed = changed_fields(&fields, old, new, &set, before, after);
    derived(&set, &m);
    BSON_APPEND_DATE_TIME(&set, "lastActivityAt", td_now_ms());
    bson_append_document_end(&update, &set);
    if (changed == 0) {
        cJSON_Delete(before);
        cJSON_Delete(after);
        td_ok(res, 200, doc_json(&doc, NULL));
        goto out;
    }
    write_and_answer(req, res, &doc, &update, "LEAD_UPDATED", before, after, NULL);
out:
    cJSON_Delete(body);
    cJSON_Delete(old);
    cJSON_Delete(new);
    bson_destroy(&doc);
    bson_destroy(&fields);
    bson_destroy(&update);
    return 0;
}

static int remove_lead(td_req *req, td_res *res)
{
    bson_t doc;
    bson_init(&doc);
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    if (!owns(req, &doc, OWNER) && !td_req_has_role(req, DELETE_ROLE)) {
        td_fail(res, 403, "FORBIDDEN", "Only the assigned agent or an admin may delete a lead",
                NULL);
        goto out;
    }
    char hex[25];
    td_bson_oid_hex(&doc, "_id", hex);
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_BOOL(&set, "deleted", true);
    BSON_APPEND_DATE_TIME(&set, "deletedAt", td_now_ms());
    bson_append_document_end(&update, &set);
    int rc = write_lead(req, &doc, td_bson_int(&doc, "version", 0), &update, "LEAD_DELETED",
                        doc_json(&doc, NULL), NULL, NULL, NULL);
    bson_destroy(&update);
    if (rc == TD_OK) {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "_id", hex);
        cJSON_AddBoolToObject(data, "deleted", true);
        td_ok(res, 200, data);
    } else {
        update_failed(res, rc);
    }
out:
    bson_destroy(&doc);
    return 0;
}

static int change_status(td_req *req, td_res *res)
{
    static const char *const fields[] = {"status", "reason", "version", NULL};
    cJSON *body = NULL;
    const char *to = NULL, *reason = NULL;
    int64_t version = -1;
    bson_t doc;
    bson_init(&doc);
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_enum(body, "status", true, statuses, res, &to) != TD_OK ||
        td_get_str(body, "reason", false, 1, REASON_LEN_MAX, res, &reason) != TD_OK ||
        get_version(body, res, &version) != TD_OK)
        goto out;
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &doc) != TD_OK)
        goto out;
    const char *from = td_bson_str(&doc, "status");
    if (from == NULL)
        from = "";
    size_t nt = sizeof transitions / sizeof transitions[0];
    if (!td_transition_allowed(transitions, nt, from, to)) {
        td_transition_fail(res, transitions, nt, from, to, "lead",
                           strcmp(to, "converted") == 0 && !closed(from)
                               ? "A lead becomes converted only through POST "
                                 "/api/leads/:id/convert"
                               : NULL);
        goto out;
    }
    if (stale(&doc, version, res) != TD_OK)
        goto out;
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    set_status(&set, to, td_now_ms());
    if (reason != NULL)
        BSON_APPEND_UTF8(&set, "statusReason", reason);
    bson_append_document_end(&update, &set);
    cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject(), *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", from);
    cJSON_AddStringToObject(a, "status", to);
    if (reason != NULL)
        cJSON_AddStringToObject(extra, "reason", reason);
    write_and_answer(req, res, &doc, &update, "LEAD_STATUS_CHANGED", b, a, extra);
    cJSON_Delete(extra);
    bson_destroy(&update);
out:
    cJSON_Delete(body);
    bson_destroy(&doc);
    return 0;
}

/* Hands a lead to another agent (canAssignLeads, checked by the router). The
 * agent id is taken on trust: agents live in the auth service's database. */
static int assign(td_req *req, td_res *res)
{
    static const char *const fields[] = {"agentId", "version", NULL};
    cJSON *body = NULL;
    const char *agent = NULL;
    int64_t version = -1;
    bson_t doc;
    bson_init(&doc);
    bson_oid_t to;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "agentId", true, 1, 64, res, &agent) != TD_OK ||
        get_version(body, res, &version) != TD_OK)
        goto out;
    if (parse_oid(agent, &to) != TD_OK) {
        td_fail_field(res, "agentId", "agentId must be an agent id (24 hex digits)");
        goto out;
    }
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &doc) != TD_OK ||
        stale(&doc, version, res) != TD_OK)
        goto out;
    char from[25], hex[25];
    td_bson_oid_hex(&doc, OWNER, from);
    bson_oid_to_string(&to, hex);
    if (strcmp(from, hex) == 0) {
        td_ok(res, 200, doc_json(&doc, NULL)); /* already theirs: nothing to record */
        goto out;
    }
    int64_t now = td_now_ms();
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_OID(&set, OWNER, &to);
    BSON_APPEND_DATE_TIME(&set, "assignedAt", now);
    BSON_APPEND_DATE_TIME(&set, "lastActivityAt", now);
    bson_append_document_end(&update, &set);
    cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject(), *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(b, OWNER, from);
    cJSON_AddStringToObject(a, OWNER, hex);
    cJSON_AddStringToObject(extra, "previousAgent", from);
    write_and_answer(req, res, &doc, &update, "LEAD_ASSIGNED", b, a, extra);
    cJSON_Delete(extra);
    bson_destroy(&update);
out:
    cJSON_Delete(body);
    bson_destroy(&doc);
    return 0;
}

/* The customer a conversion creates: the lead's name and contact, each overridable
 * by the body's `customer`. */
typedef struct {
    const char *first, *last, *phone;
    char email[TD_EMAIL_MAX + 1];
    bool has_email;
} new_customer;

/* Inserts a customer owned by the caller, shaped as customers.c shapes them, with
 * a link to the lead (CUSTOMER_CREATED). *out (initialised) gets the document. */
static int insert_customer(td_req *req, const bson_t *lead, const new_customer *nc, bson_t *out)
{
    bson_oid_t id, me, lead_id;
    char hex[25], lead_hex[25], buf[600], low[600];
    td_req_new_oid(req, &id);
    bson_oid_to_string(&id, hex);
    bson_oid_init_from_string(&me, req->principal.agent_id);
    parse_oid(td_bson_oid_hex(lead, "_id", lead_hex), &lead_id);
    const char *email = nc->has_email ? nc->email : NULL;
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "firstName", nc->first);
    BSON_APPEND_UTF8(&doc, "lastName", nc->last);
    if (email != NULL)
        BSON_APPEND_UTF8(&doc, "email", email);
    BSON_APPEND_UTF8(&doc, "phone", nc->phone);
    BSON_APPEND_OID(&doc, "agent", &me);
    BSON_APPEND_OID(&doc, "lead", &lead_id);
    BSON_APPEND_BOOL(&doc, "deleted", false);
    /* fit: the lead's fields, validated to their limits, which DERIVED_TEXT_SIZE holds */
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s %s %s %s", nc->first, nc->last, email ? email : "",
                     nc->phone, ""));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(&doc, "searchText", low);
    TD_IGNORE(td_fmt(buf, sizeof buf, "%s %s", nc->last, nc->first));
    lower_into(low, sizeof low, buf);
    BSON_APPEND_UTF8(&doc, "nameKey", low);
    BSON_APPEND_UTF8(&doc, "cityKey", "");
    customer_keys(&doc, email, nc->phone);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    cJSON *payload = td_event_payload(req, "CUSTOMER_CREATED", "customer", hex, NULL, NULL);
    cJSON_AddItemToObject(payload, "customer", doc_json(&doc, NULL));
    cJSON_AddStringToObject(payload, "lead", lead_hex);
    int rc = td_store_insert(req, COLL_CUSTOMERS, &doc, "CUSTOMER_CREATED", payload);
    cJSON_Delete(payload);
    if (rc == TD_OK) {
        bson_destroy(out);
        bson_copy_to(&doc, out);
    }
    bson_destroy(&doc);
    return rc;
}

/* Undoes insert_customer when the booking of the same conversion failed: deleted
 * softly (CUSTOMER_DELETED), as customers are, so the two events stay paired. */
static void discard_customer(td_req *req, const bson_t *customer)
{
    char hex[25];
    bson_oid_t id;
    parse_oid(td_bson_oid_hex(customer, "_id", hex), &id);
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_BOOL(&set, "deleted", true);
    BSON_APPEND_DATE_TIME(&set, "deletedAt", td_now_ms());
    bson_append_document_end(&update, &set);
    cJSON *payload =
        td_event_payload(req, "CUSTOMER_DELETED", "customer", hex, doc_json(customer, NULL), NULL);
    cJSON_AddStringToObject(payload, "reason", "lead conversion failed");
    int rc = td_store_update(req, COLL_CUSTOMERS, &id, td_bson_int(customer, "version", 0), &update,
                             "CUSTOMER_DELETED", payload, NULL);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc != TD_OK)
        td_log(TD_LOG_WARN, req->request_id, "customer %s of a failed conversion kept: %s", hex,
               td_strerror(rc));
}

/* The lead by id (not deleted), whoever it is assigned to: the caller's right to it
 * was established by load_visible. */
static int reload(mongoc_client_t *c, const bson_oid_t *id, bson_t *out)
{
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", id);
    BSON_APPEND_BOOL(&filter, "deleted", false);
    bson_destroy(out);
    int rc = td_store_find_one(c, COLL_LEADS, &filter, out);
    if (rc != TD_OK)
        bson_init(out);
    bson_destroy(&filter);
    return rc;
}

/* Reads the body of POST /convert into nc (overrides), *customer_id, *booking. */
static int read_convert(const cJSON *body, td_res *res, new_customer *nc, const char **customer_id,
                        const cJSON **booking, int64_t *version)
{
    static const char *const fields[] = {"customerId", "customer", "booking",
                                         "version",    "force",    NULL};
    static const char *const customer_fields[] = {"firstName", "lastName", "email", "phone", NULL};
    const cJSON *cust;
    memset(nc, 0, sizeof *nc);
    *customer_id = NULL;
    *booking = NULL;
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "customerId", false, 1, 64, res, customer_id) != TD_OK ||
        get_object(body, "customer", customer_fields, res, &cust) != TD_OK ||
        get_version(body, res, version) != TD_OK)
        return TD_EINVAL;
    if (*customer_id != NULL && !td_is_object_id(*customer_id)) {
        td_fail_field(res, "customerId", "customerId must be a customer id (24 hex digits)");
        return TD_EINVAL;
    }
    if (*customer_id != NULL && cust != NULL) {
        td_fail_field(res, "customer", "Give either customerId or customer, not both");
        return TD_EINVAL;
    }
    if (cust != NULL &&
        (td_get_str(cust, "firstName", false, 1, NAME_LEN_MAX, res, &nc->first) != TD_OK ||
         td_get_str(cust, "lastName", false, 1, NAME_LEN_MAX, res, &nc->last) != TD_OK ||
         td_get_email(cust, "email", false, res, nc->email, &nc->has_email) != TD_OK ||
         td_get_str(cust, "phone", false, PHONE_LEN_MIN, PHONE_LEN_MAX, res, &nc->phone) != TD_OK ||
         check_phone(nc->phone, "customer.phone", res) != TD_OK))
        return TD_EINVAL;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(body, "booking");
    if (b != NULL && !cJSON_IsNull(b)) {
        if (!cJSON_IsObject(b)) {
            td_fail_field(res, "booking", "booking must be an object");
            return TD_EINVAL;
        }
        if (cJSON_GetObjectItemCaseSensitive(b, "customer") != NULL) {
            td_fail_field(res, "booking.customer",
                          "Unknown field 'customer' in booking: the conversion sets it");
            return TD_EINVAL;
        }
        *booking = b;
    }
    return TD_OK;
}

/* Completes nc from the lead; 422 when the lead lacks what a customer needs. */
static int customer_from_lead(const bson_t *lead, new_customer *nc, td_res *res)
{
    if (nc->first == NULL)
        nc->first = td_bson_str(lead, "name.firstName");
    if (nc->last == NULL)
        nc->last = td_bson_str(lead, "name.lastName");
    if (nc->phone == NULL)
        nc->phone = td_bson_str(lead, "contactInfo.phone");
    const char *email = td_bson_str(lead, "contactInfo.email");
    if (!nc->has_email && email != NULL && strlen(email) <= TD_EMAIL_MAX) {
        strcpy(nc->email, email);
        nc->has_email = true;
    }
    const char *missing = nc->first == NULL   ? "customer.firstName"
                          : nc->last == NULL  ? "customer.lastName"
                          : nc->phone == NULL ? "customer.phone"
                                              : NULL;
    if (missing == NULL)
        return TD_OK;
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", missing);
    char msg[160];
    /* fits: a field path of ours, twice */
    TD_IGNORE(td_fmt(msg, sizeof msg, "The lead has no %s for the new customer; give %s",
                     missing + 9, missing));
    td_fail(res, 422, "LEAD_INCOMPLETE", msg, details);
    return TD_EINVAL;
}

/* Marks the lead converted (LEAD_CONVERTED). An edit racing this write only bumps
 * the version: re-read and retry while the lead is still open. */
static int mark_converted(td_req *req, bson_t *lead, const char *customer, const char *booking,
                          bool created, bson_t *updated)
{
    bson_oid_t id, cust, book;
    char hex[25];
    parse_oid(td_bson_oid_hex(lead, "_id", hex), &id);
    parse_oid(customer, &cust);
    if (booking != NULL)
        parse_oid(booking, &book);
    int rc = TD_ENOTFOUND;
    for (int attempt = 0; attempt < CONVERT_TRIES; attempt++) {
        if (attempt > 0 &&
            (reload(td_req_mongo(req), &id, lead) != TD_OK || closed(td_bson_str(lead, "status"))))
            break;
        const char *from = td_bson_str(lead, "status");
        int64_t now = td_now_ms();
        bson_t update = BSON_INITIALIZER, set;
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        set_status(&set, "converted", now);
        BSON_APPEND_OID(&set, "customer", &cust);
        if (booking != NULL)
            BSON_APPEND_OID(&set, "booking", &book);
        BSON_APPEND_DATE_TIME(&set, "convertedAt", now);
        bson_append_document_end(&update, &set);
        cJSON *b = cJSON_CreateObject(), *a = cJSON_CreateObject(), *extra = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "status", from != NULL ? from : "");
        cJSON_AddStringToObject(a, "status", "converted");
        cJSON_AddStringToObject(a, "customer", customer);
        cJSON_AddStringToObject(extra, "customer", customer);
        if (booking != NULL) {
            cJSON_AddStringToObject(a, "booking", booking);
            cJSON_AddStringToObject(extra, "booking", booking);
        } else {
            cJSON_AddNullToObject(extra, "booking");
        }
        cJSON_AddBoolToObject(extra, "customerCreated", created);
        rc = write_lead(req, lead, td_bson_int(lead, "version", 0), &update, "LEAD_CONVERTED", b, a,
                        extra, updated);
        cJSON_Delete(extra);
        bson_destroy(&update);
        if (rc != TD_ENOTFOUND)
            break;
    }
    return rc;
}

/*
 * POST /api/leads/:id/convert. Serialised per lead (a lock document, as booking
 * writes are per customer), so two conversions cannot both create a customer. The
 * booking, when asked for, is created before the lead is marked: a conflict (409)
 * or a bad booking leaves the lead open, and a customer created for it is undone.
 */
static int convert(td_req *req, td_res *res)
{
    cJSON *body = NULL, *booking_body = NULL, *booking_json = NULL;
    const cJSON *booking_in = NULL;
    const char *customer_id = NULL;
    new_customer nc;
    int64_t version = -1;
    bson_t lead, customer, updated;
    bson_init(&lead);
    bson_init(&customer);
    bson_init(&updated);
    bool locked = false, created = false;
    char token[25], lead_hex[25], cust_hex[25], book_hex[25] = "";
    bson_oid_t lead_id;
    mongoc_client_t *c = NULL;
    bool force = false;
    if (td_req_json(req, res, &body) != TD_OK ||
        read_convert(body, res, &nc, &customer_id, &booking_in, &version) != TD_OK ||
        customer_read_force(req, body, res, &force) != TD_OK)
        goto out;
    if (load_visible(req, res, COLL_LEADS, OWNER, VIEW_ALL, &lead) != TD_OK)
        goto out;
    c = td_req_mongo(req);
    parse_oid(td_bson_oid_hex(&lead, "_id", lead_hex), &lead_id);
    int rc = record_lock(c, &lead_id, token);
    if (rc == TD_EAGAIN && record_lock_retry(req))
        goto out; /* held: run again shortly, with the worker free meanwhile */
    if (rc != TD_OK) {
        if (rc == TD_EAGAIN)
            td_fail(res, 409, "CONCURRENT_UPDATE", "The lead is being converted; retry", NULL);
        else
            td_fail_rc(res, rc, NULL);
        goto out;
    }
    locked = true;
    rc = reload(c, &lead_id, &lead); /* a conversion that held the lock may have closed it */
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "Not found");
        goto out;
    }
    const char *from = td_bson_str(&lead, "status");
    if (closed(from)) {
        char msg[96];
        /* fits: a lead status of ours (from is closed, so one of them) */
        TD_IGNORE(
            td_fmt(msg, sizeof msg, "A %s lead cannot be converted", from != NULL ? from : ""));
        td_transition_fail(res, NULL, 0, from, "converted", "lead", msg);
        goto out;
    }
    if (stale(&lead, version, res) != TD_OK)
        goto out;
    if (customer_id != NULL) {
        rc = customer_find_visible(req, customer_id, &customer);
        if (rc == TD_ENOTFOUND || rc == TD_EINVAL) {
            cJSON *details = cJSON_CreateObject();
            cJSON_AddStringToObject(details, "field", "customerId");
            td_fail(res, 422, "UNKNOWN_CUSTOMER", "No such customer (or not one of yours)",
                    details);
            goto out;
        }
        if (rc != TD_OK) {
            td_fail_rc(res, rc, NULL);
            goto out;
        }
    } else {
        if (customer_from_lead(&lead, &nc, res) != TD_OK)
            goto out;
        /* A customer with the same email or phone exists: warn as POST /api/customers
         * does; the caller converts with its customerId, or with force. */
        if (!force && customer_check_duplicate(req, res, nc.has_email ? nc.email : NULL, nc.phone,
                                               NULL) != TD_OK)
            goto out;
        rc = insert_customer(req, &lead, &nc, &customer);
        if (rc != TD_OK) {
            td_fail_rc(res, rc, "customer create failed");
            goto out;
        }
        created = true;
    }
    td_bson_oid_hex(&customer, "_id", cust_hex);
    if (booking_in != NULL) {
        booking_body = cJSON_Duplicate(booking_in, true);
        cJSON_AddStringToObject(booking_body, "customer", cust_hex);
        rc = booking_create_from(req, res, booking_body, lead_hex, book_hex, &booking_json);
        if (rc != TD_OK) {
            if (created)
                discard_customer(req, &customer);
            goto out; /* the booking's own answer: 400, 409 conflict, 422, 503 */
        }
    }
    rc = mark_converted(req, &lead, cust_hex, booking_in != NULL ? book_hex : NULL, created,
                        &updated);
    if (rc != TD_OK) {
        /* what was created stays valid; say so, so the client can link it by hand */
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "customer", cust_hex);
        if (booking_in != NULL)
            cJSON_AddStringToObject(details, "booking", book_hex);
        if (rc == TD_ENOTFOUND)
            td_fail(res, 409, "VERSION_CONFLICT",
                    "The lead changed while it was converted; it was not marked converted",
                    details);
        else {
            cJSON_Delete(details);
            td_fail_rc(res, rc, "conversion failed");
        }
        goto out;
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, "lead", doc_json(&updated, NULL));
    cJSON_AddItemToObject(data, "customer", doc_json(&customer, NULL));
    cJSON_AddItemToObject(data, "booking",
                          booking_json != NULL ? booking_json : cJSON_CreateNull());
    booking_json = NULL;
    td_ok(res, 200, data);
out:
    if (locked)
        record_unlock(c, &lead_id, token);
    cJSON_Delete(body);
    cJSON_Delete(booking_body);
    cJSON_Delete(booking_json);
    bson_destroy(&lead);
    bson_destroy(&customer);
    bson_destroy(&updated);
    return 0;
}
