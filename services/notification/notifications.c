/*
 * /api/notifications (PRD 3.3.2): an agent's own notifications, newest first
 * (filters type, isRead, priority; paginated), the unread count for the bell, mark
 * one or all read, delete; and SYSTEM messages an admin sends
 * (canManageNotifications) to agents by id, by role, or to all.
 *
 * A notification is one document per (event, recipient) whose _id is derived from
 * both (notification_id), written by the event handlers (triggers.c) with a plain
 * insert: a second delivery of the event meets its own duplicate key. Deleting
 * hides it (`visible: false`), so the list copy, which only ever puts documents,
 * stays right. Every list and count comes from that copy: an agent's filter on the
 * embedded FerretDB would decode the whole collection.
 */
#include "notification.h"

#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

#define READ_ALL_MAX 5000 /* notifications one read-all marks (the rest: call again) */
#define SYSTEM_RECIPIENTS_MAX 1000

static int list(td_req *req, td_res *res);
static int unread_count(td_req *req, td_res *res);
static int mark_read(td_req *req, td_res *res);
static int mark_all_read(td_req *req, td_res *res);
static int remove_one(td_req *req, td_res *res);
static int send_system(td_req *req, td_res *res);

const td_route notification_routes[] = {
    {"GET", "/api/notifications", list, 0, NULL},
    {"GET", "/api/notifications/unread-count", unread_count, 0, NULL},
    {"PATCH", "/api/notifications/read-all", mark_all_read, 0, NULL},
    {"PATCH", "/api/notifications/:id/read", mark_read, 0, NULL},
    {"DELETE", "/api/notifications/:id", remove_one, 0, NULL},
    {"POST", "/api/notifications/system", send_system, TD_ROUTE_IDEMPOTENT, MANAGE_NOTIFICATIONS},
    {NULL, NULL, NULL, 0, NULL},
};

const ntype_info ntypes[NT_COUNT] = {
    [NT_LEAD_ASSIGNED] = {"LEAD_ASSIGNED", "high", true},
    [NT_BOOKING_CONFIRMED] = {"BOOKING_CONFIRMED", "high", true},
    [NT_BOOKING_CANCELLED] = {"BOOKING_CANCELLED", "medium", false},
    [NT_PAYMENT_RECEIVED] = {"PAYMENT_RECEIVED", "high", true},
    [NT_AGENT_APPROVED] = {"AGENT_APPROVED", "high", true},
    [NT_ROLE_CHANGED] = {"ROLE_CHANGED", "medium", true},
    [NT_COMMISSION_APPROVED] = {"COMMISSION_APPROVED", "medium", true},
    [NT_LEAD_STATUS_CHANGED] = {"LEAD_STATUS_CHANGED", "low", false},
    [NT_BOOKING_REMINDER] = {"BOOKING_REMINDER", "medium", true},
    [NT_SYSTEM] = {"SYSTEM", "medium", true},
};

int ntype_of(const char *name)
{
    for (int t = 0; name != NULL && t < NT_COUNT; t++)
        if (strcmp(ntypes[t].name, name) == 0)
            return t;
    return -1;
}

static const char *const type_names[] = {"LEAD_ASSIGNED",
                                         "BOOKING_CONFIRMED",
                                         "BOOKING_CANCELLED",
                                         "PAYMENT_RECEIVED",
                                         "AGENT_APPROVED",
                                         "ROLE_CHANGED",
                                         "COMMISSION_APPROVED",
                                         "LEAD_STATUS_CHANGED",
                                         "BOOKING_REMINDER",
                                         "SYSTEM",
                                         NULL};
static const char *const priorities[] = {"low", "medium", "high", NULL};
static const td_qp list_params[] = {
    {"type", TD_QP_IN, "type", type_names},
    {"isRead", TD_QP_BOOL, "isRead", NULL},
    {"priority", TD_QP_IN, "priority", priorities},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "priority", NULL};
static const char *const sort_fields[] = {"createdAt", "priority", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static td_listindex *list_copy;
static const char *const hidden[] = {"visible", "event", NULL};

static cJSON *notification_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden);
}

int notifications_list_new(void)
{
    const char *fields[] = {"recipient", "type",      "isRead", "visible",
                            "priority",  "createdAt", NULL};
    return td_listindex_new(&list_copy, COLL_NOTIFICATIONS, "notifications", fields,
                            notification_json);
}

void notifications_list_maintain(mongoc_client_t *c)
{
    if (list_copy != NULL)
        td_listindex_maintain(list_copy, c);
}

void notifications_list_free(void)
{
    td_listindex_free(list_copy);
    list_copy = NULL;
}

void notification_id(const char *event_id, int64_t event_ms, const char *recipient, bson_oid_t *out)
{
    char key[80];
    TD_IGNORE(td_fmt(key, sizeof key, "%s:%s", event_id, recipient)); /* two ids: always fits */
    td_derive_oid(key, event_ms, out);
}

int notification_add(mongoc_client_t *c, const char *event_id, int64_t event_ms,
                     const char *recipient, const notice *n)
{
    if (!td_is_object_id(recipient))
        return TD_OK; /* nobody to tell */
    bool in_app = true, email = ntypes[n->type].email;
    int rc = preferences_of(c, recipient, n->type, &in_app, &email);
    if (rc != TD_OK)
        return rc;
    if (!in_app && !email)
        return TD_OK; /* turned off on both channels */
    bson_oid_t id, who;
    notification_id(event_id, event_ms, recipient, &id);
    bson_oid_init_from_string(&who, recipient);
    int64_t now = td_now_ms();
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "recipient", &who);
    BSON_APPEND_UTF8(&doc, "type", ntypes[n->type].name);
    BSON_APPEND_UTF8(&doc, "title", n->title);
    BSON_APPEND_UTF8(&doc, "message", n->message);
    if (n->resource_type != NULL && td_is_object_id(n->resource_id)) {
        bson_oid_t rid;
        bson_oid_init_from_string(&rid, n->resource_id);
        BSON_APPEND_UTF8(&doc, "resourceType", n->resource_type);
        BSON_APPEND_OID(&doc, "resourceId", &rid);
    }
    BSON_APPEND_UTF8(&doc, "priority",
                     n->priority != NULL ? n->priority : ntypes[n->type].priority);
    BSON_APPEND_BOOL(&doc, "isRead", false);
    BSON_APPEND_NULL(&doc, "readAt");
    BSON_APPEND_BOOL(&doc, "inApp", in_app);
    BSON_APPEND_BOOL(&doc, "visible", in_app);
    BSON_APPEND_BOOL(&doc, "emailWanted", email);
    BSON_APPEND_BOOL(&doc, "emailSent", false);
    BSON_APPEND_UTF8(&doc, "event", event_id);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_INT64(&doc, "version", 1);
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_NOTIFICATIONS);
    bson_error_t err;
    if (mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err)) {
        td_listindex_put(list_copy, &doc);
    } else if ((rc = td_mongo_rc(&err)) == TD_ECONFLICT) {
        rc = TD_OK; /* this event's notification for this agent exists */
    }
    mongoc_collection_destroy(cl);
    bson_destroy(&doc);
    return rc;
}

/* The caller's own, visible: what every read of this API is narrowed to. */
static void mine(const td_req *req, bson_t *filter)
{
    bson_oid_t me;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    BSON_APPEND_OID(filter, "recipient", &me);
    BSON_APPEND_BOOL(filter, "visible", true);
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (td_list_parse(&list_spec, req->query, &l, res) != TD_OK)
        goto out;
    mine(req, &l.filter);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    cJSON *items = NULL;
    int64_t total = 0;
    bool degraded = false;
    int rc = td_listindex_query_degraded(list_copy, c, &l, &items, &total, &degraded);
    td_list_answer_model(req, res, rc, items, total, degraded, COLL_NOTIFICATIONS, &l,
                         notification_json);
out:
    td_list_free(&l);
    return 0;
}

/* The caller's unread notifications: their count (from the copy). */
static int count_unread(td_req *req, mongoc_client_t *c, int64_t *n, bool *degraded)
{
    td_list l;
    td_res scratch = {0};
    int rc = td_list_parse(&list_spec, "limit=1", &l, &scratch);
    td_res_clear(&scratch);
    if (rc == TD_OK) {
        mine(req, &l.filter);
        BSON_APPEND_BOOL(&l.filter, "isRead", false);
        cJSON *items = NULL;
        rc = td_listindex_query_degraded(list_copy, c, &l, &items, n, degraded);
        cJSON_Delete(items);
    }
    td_list_free(&l);
    return rc;
}

static int unread_count(td_req *req, td_res *res)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    int64_t n = 0;
    bool degraded = false;
    int rc = count_unread(req, c, &n, &degraded);
    if (rc == TD_EAGAIN) {
        if (!td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS))
            td_fail(res, 503, "LIST_LOADING",
                    "This list is being loaded after a restart; retry in a few seconds", NULL);
        return 0;
    }
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "the unread count is not available");
    if (degraded)
        td_res_header(res, "X-List-Degraded", "unsynced");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "count", (double)n);
    return td_ok(res, 200, d);
}

/* Updates the caller's visible notification :id with `set`; 404 when it is not
 * theirs (another agent's looks like none). */
static int update_mine(td_req *req, td_res *res, bson_t *set)
{
    const char *id = td_req_param(req, "id");
    if (!td_is_object_id(id))
        return td_fail(res, 400, "INVALID_ID", "The id must be 24 hex digits", NULL);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, doc;
    BSON_APPEND_OID(&filter, "_id", &oid);
    mine(req, &filter);
    BSON_APPEND_DATE_TIME(set, "updatedAt", td_now_ms());
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "version", 1);
    bson_append_document_end(&update, &inc);
    int rc = td_mongo_find_and_modify(c, COLL_NOTIFICATIONS, &filter, &update, true, &doc);
    if (rc == TD_OK) {
        td_listindex_put(list_copy, &doc);
        td_ok(res, 200, notification_json(&doc, NULL));
        bson_destroy(&doc);
    } else if (rc == TD_ENOTFOUND) {
        td_fail(res, 404, "NOT_FOUND", "No such notification", NULL);
    } else {
        td_fail_rc(res, rc, NULL);
    }
    bson_destroy(&filter);
    bson_destroy(&update);
    return 0;
}

static int mark_read(td_req *req, td_res *res)
{
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&set, "isRead", true);
    BSON_APPEND_DATE_TIME(&set, "readAt", td_now_ms());
    update_mine(req, res, &set);
    bson_destroy(&set);
    return 0;
}

static int remove_one(td_req *req, td_res *res)
{
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&set, "visible", false);
    BSON_APPEND_DATE_TIME(&set, "deletedAt", td_now_ms());
    update_mine(req, res, &set);
    bson_destroy(&set);
    return 0;
}

/* Marks read the caller's notifications listed in items (each by _id, still
 * unread); *marked counts them. */
static int mark_listed(td_req *req, mongoc_client_t *c, const cJSON *items, int64_t *marked)
{
    int64_t now = td_now_ms();
    int rc = TD_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        /* a page from the copy holds each document as printed (raw JSON) */
        cJSON *parsed = cJSON_IsRaw(it) ? cJSON_Parse(it->valuestring) : NULL;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(parsed != NULL ? parsed : it, "_id");
        bool ok = cJSON_IsString(id) && td_is_object_id(id->valuestring);
        bson_oid_t oid;
        if (ok)
            bson_oid_init_from_string(&oid, id->valuestring);
        cJSON_Delete(parsed);
        if (!ok)
            continue;
        bson_t filter = BSON_INITIALIZER, doc;
        BSON_APPEND_OID(&filter, "_id", &oid);
        mine(req, &filter);
        BSON_APPEND_BOOL(&filter, "isRead", false);
        bson_t *update = BCON_NEW("$set", "{", "isRead", BCON_BOOL(true), "readAt",
                                  BCON_DATE_TIME(now), "updatedAt", BCON_DATE_TIME(now), "}",
                                  "$inc", "{", "version", BCON_INT64(1), "}");
        int one = td_mongo_find_and_modify(c, COLL_NOTIFICATIONS, &filter, update, true, &doc);
        if (one == TD_OK) {
            td_listindex_put(list_copy, &doc);
            bson_destroy(&doc);
            (*marked)++;
        } else if (one != TD_ENOTFOUND) { /* read meanwhile: fine */
            rc = one;
        }
        bson_destroy(update);
        bson_destroy(&filter);
        if (rc != TD_OK)
            break;
    }
    return rc;
}

/* PATCH /read-all: the caller's unread ones, found in the copy a page at a time,
 * each marked by _id (an update by filter would scan the collection on FerretDB);
 * at most READ_ALL_MAX per call ("remaining" says how many are left). */
static int mark_all_read(td_req *req, td_res *res)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    char q[32];
    TD_IGNORE(td_fmt(q, sizeof q, "limit=%d",
                     TD_LIST_MAX_LIMIT)); /* sized for it: ids, numbers, names of ours */
    int64_t marked = 0, total = 0;
    int rc = TD_OK;
    for (;;) {
        td_list l;
        td_res scratch = {0};
        rc = td_list_parse(&list_spec, q, &l, &scratch);
        td_res_clear(&scratch);
        cJSON *items = NULL;
        bool degraded = false;
        if (rc == TD_OK) {
            mine(req, &l.filter);
            BSON_APPEND_BOOL(&l.filter, "isRead", false);
            rc = td_listindex_query_degraded(list_copy, c, &l, &items, &total, &degraded);
        }
        td_list_free(&l);
        int64_t before = marked;
        if (rc == TD_OK)
            rc = mark_listed(req, c, items, &marked);
        cJSON_Delete(items);
        /* done when nothing is left, nothing could be marked, or enough for one call */
        if (rc != TD_OK || total == 0 || marked == before || marked >= READ_ALL_MAX)
            break;
    }
    if (rc == TD_EAGAIN) {
        if (!td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS))
            td_fail(res, 503, "LIST_LOADING",
                    "This list is being loaded after a restart; retry in a few seconds", NULL);
        return 0;
    }
    if (rc != TD_OK)
        return td_fail_rc(res, rc, "not every notification was marked read");
    int64_t left = 0;
    bool degraded = false;
    if (count_unread(req, c, &left, &degraded) != TD_OK)
        left = total; /* not known better */
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "marked", (double)marked);
    cJSON_AddNumberToObject(d, "remaining", (double)left);
    return td_ok(res, 200, d);
}

/* Whether an agent of the copy is to get a SYSTEM message sent to role / all. */
static bool system_recipient(const agent_info *a, const char *role)
{
    return strcmp(a->status, "active") == 0 && (role == NULL || strcmp(a->role, role) == 0);
}

/* POST /system {title, message, priority?, recipients?: [agent ids] | role?}:
 * without recipients nor role, every active agent known. */
static int send_system(td_req *req, td_res *res)
{
    static const char *const fields[] = {"title",      "message", "priority",
                                         "recipients", "role",    NULL};
    static const char *const roles[] = {"super_admin", "admin",        "senior_agent",
                                        "agent",       "junior_agent", NULL};
    cJSON *body = NULL;
    const char *title = NULL, *message = NULL, *priority = NULL, *role = NULL;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "title", true, 1, TITLE_MAX, res, &title) != TD_OK ||
        td_get_str(body, "message", true, 1, MESSAGE_MAX, res, &message) != TD_OK ||
        td_get_enum(body, "priority", false, priorities, res, &priority) != TD_OK ||
        td_get_enum(body, "role", false, roles, res, &role) != TD_OK)
        goto out;
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "recipients");
    if (to != NULL && (!cJSON_IsArray(to) || cJSON_GetArraySize(to) < 1 ||
                       cJSON_GetArraySize(to) > SYSTEM_RECIPIENTS_MAX)) {
        td_fail_field(res, "recipients", "recipients must be a list of 1 to 1000 agent ids");
        goto out;
    }
    if (to != NULL && role != NULL) {
        td_fail_field(res, "recipients", "give recipients or role, not both");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, to)
    {
        if (!cJSON_IsString(it) || !td_is_object_id(it->valuestring)) {
            td_fail_field(res, "recipients", "every recipient must be an agent id (24 hex digits)");
            goto out;
        }
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    bson_oid_t mid;
    td_req_new_oid(req, &mid); /* the message's id: a retry with its key makes no other */
    char mhex[25];
    bson_oid_to_string(&mid, mhex);
    notice n = {NT_SYSTEM, title, message, NULL, NULL, priority};
    int64_t now = td_now_ms(), sent = 0;
    int rc = TD_OK;
    if (to != NULL) {
        cJSON_ArrayForEach(it, to)
        {
            agent_info a;
            int known = agent_known(c, it->valuestring, &a);
            if (known == TD_ENOTFOUND) {
                cJSON *d = cJSON_CreateObject();
                cJSON_AddStringToObject(d, "agent", it->valuestring);
                td_fail(res, 422, "UNKNOWN_AGENT", "No such agent is known", d);
                goto out;
            }
            if ((rc = known) != TD_OK)
                break;
        }
        cJSON_ArrayForEach(it, to)
        {
            if (rc == TD_OK && (rc = notification_add(c, mhex, now, it->valuestring, &n)) == TD_OK)
                sent++;
        }
    } else {
        /* every agent known (a small collection, read once per message) */
        mongoc_collection_t *cl = td_mongo_coll(c, COLL_AGENTS);
        bson_t filter = BSON_INITIALIZER;
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, &filter, NULL, NULL);
        const bson_t *doc;
        while (rc == TD_OK && mongoc_cursor_next(cur, &doc)) {
            agent_info a;
            agent_from_doc(doc, &a);
            if (system_recipient(&a, role) &&
                (rc = notification_add(c, mhex, now, a.id, &n)) == TD_OK)
                sent++;
        }
        bson_error_t err;
        if (rc == TD_OK && mongoc_cursor_error(cur, &err))
            rc = td_mongo_rc(&err);
        mongoc_cursor_destroy(cur);
        bson_destroy(&filter);
        mongoc_collection_destroy(cl);
    }
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "the message did not reach every recipient");
        goto out;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "message", mhex);
    cJSON_AddNumberToObject(d, "recipients", (double)sent);
    td_ok(res, 201, d);
out:
    cJSON_Delete(body);
    return 0;
}
