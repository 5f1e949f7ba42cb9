/*
 * /api/audit-logs (PRD step 2): the audit trail the analytics service builds from
 * every service's events (audit_entry.c). Listing with filters and pages, totals
 * per resource type, severity and action, and one entry. Reading it needs the
 * canViewAuditLogs permission (admin and above by default); nobody writes it
 * through the API.
 */
#include "analytics.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/docjson.h"
#include "tripdesk/mongo.h"
#include "tripdesk/query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_PERMISSION "canViewAuditLogs"
#define ACTION_NAME_MAX 64 /* an action is [A-Z][A-Z0-9_]* of at most this length */
#define STATS_TOP_ACTIONS 20
#define NO_BOUND INT64_MIN /* a period without this bound (dates may precede 1970) */

static int list(td_req *req, td_res *res);
static int stats(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);

const td_route audit_log_routes[] = {
    {"GET", "/api/audit-logs", list, 0, AUDIT_PERMISSION},
    {"GET", "/api/audit-logs/stats", stats, 0, AUDIT_PERMISSION},
    {"GET", "/api/audit-logs/:id", get, 0, AUDIT_PERMISSION},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const hidden_fields[] = {"searchText", "severityRank", NULL};

static const td_qp list_params[] = {
    {"action", TD_QP_IN, "action", NULL},
    {"performedBy", TD_QP_EQ, "performedBy", NULL},
    {"resourceType", TD_QP_IN, "resourceType", audit_resource_types},
    {"targetId", TD_QP_EQ, "targetId", NULL},
    {"severity", TD_QP_IN, "severity", audit_severities},
    {"startDate", TD_QP_DATE_FROM, "createdAt", NULL},
    {"endDate", TD_QP_DATE_TO, "createdAt", NULL},
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "action", "severity", NULL};
static const char *const sort_fields[] = {"createdAt", "action", "severityRank", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

/* Answers 400 naming the parameter; returns TD_EINVAL for the caller to pass on. */
static int bad_param(td_res *res, const char *name, const char *message)
{
    td_fail_field(res, name, message);
    return TD_EINVAL;
}

cJSON *audit_entry_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden_fields);
}

/* Lower-case copy of a 24-hex id into buf (ids are stored lower-case). */
static void lower_id(const char *id, char buf[25])
{
    for (int i = 0; i < 24; i++)
        buf[i] = (char)tolower((unsigned char)id[i]);
    buf[24] = '\0';
}

/* True when every comma-separated name in list looks like an action. */
static bool action_names(const char *list)
{
    size_t n = 0;
    for (const char *p = list;; p++) {
        if (*p == ',' || *p == '\0') {
            if (n == 0)
                return false;
            if (*p == '\0')
                return true;
            n = 0;
            continue;
        }
        bool ok = n == 0 ? (*p >= 'A' && *p <= 'Z')
                         : (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!ok || ++n > ACTION_NAME_MAX)
            return false;
    }
}

/*
 * The period of startDate/endDate in q: fills *from and *to (ms; NO_BOUND when absent) or
 * answers 400 (bad date, or a start after the end) and returns TD_EINVAL.
 */
static int period(const td_query *q, td_res *res, int64_t *from, int64_t *to)
{
    const char *start = td_query_get(q, "startDate"), *end = td_query_get(q, "endDate");
    *from = *to = NO_BOUND;
    if (start != NULL && td_parse_date(start, false, from) != TD_OK)
        return bad_param(res, "startDate", "startDate must be a date (YYYY-MM-DD or ISO-8601 UTC)");
    if (end != NULL && td_parse_date(end, true, to) != TD_OK)
        return bad_param(res, "endDate", "endDate must be a date (YYYY-MM-DD or ISO-8601 UTC)");
    if (*from != NO_BOUND && *to != NO_BOUND && *from > *to)
        return bad_param(res, "endDate", "endDate must not be before startDate");
    return TD_OK;
}

/* Appends {createdAt: {$gte: from, $lte: to}} (either bound optional) to filter. */
static void append_period(bson_t *filter, int64_t from, int64_t to)
{
    if (from == NO_BOUND && to == NO_BOUND)
        return;
    bson_t range;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "createdAt", &range);
    if (from != NO_BOUND)
        BSON_APPEND_DATE_TIME(&range, "$gte", from);
    if (to != NO_BOUND)
        BSON_APPEND_DATE_TIME(&range, "$lte", to);
    bson_append_document_end(filter, &range);
}

/*
 * What the list builder cannot check: performedBy is an agent id, action names are
 * well-formed, and the period is in order. Rebuilds the filter's performedBy (as
 * lower case) and createdAt (one range document rather than two createdAt keys).
 */
static int refine(const td_req *req, td_list *l, td_res *res)
{
    td_query q;
    if (td_query_parse(req->query, &q) != TD_OK) {
        td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
        return TD_EINVAL;
    }
    int rc = TD_OK;
    const char *actor = td_query_get(&q, "performedBy");
    const char *actions = td_query_get(&q, "action");
    int64_t from, to;
    if (actor != NULL && !td_is_object_id(actor)) {
        rc = bad_param(res, "performedBy", "performedBy must be an agent id (24 hex digits)");
    } else if (actions != NULL && !action_names(actions)) {
        rc = bad_param(res, "action",
                       "action must be action names (A-Z, 0-9, _) separated by commas");
    } else if ((rc = period(&q, res, &from, &to)) == TD_OK) {
        bson_t filter = BSON_INITIALIZER;
        bson_copy_to_excluding_noinit(&l->filter, &filter, "performedBy", "createdAt", NULL);
        if (actor != NULL) {
            char id[25];
            lower_id(actor, id);
            BSON_APPEND_UTF8(&filter, "performedBy", id);
        }
        append_period(&filter, from, to);
        bson_destroy(&l->filter);
        bson_copy_to(&filter, &l->filter);
        bson_destroy(&filter);
    }
    td_query_free(&q);
    return rc;
}

/* 503 LIST_LOADING: the read model is being loaded after a start. */
static int loading(td_res *res)
{
    td_res_header(res, "Retry-After", "2");
    return td_fail(res, 503, "LIST_LOADING",
                   "The audit trail is being loaded after a restart; retry in a few seconds", NULL);
}

/* A parsed list from the read model, or from the database when the model cannot
 * answer (off, Redis unreachable, reloading): same answers either way. */
static void answer_list(td_req *req, td_res *res, const td_list *l)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return;
    }
    cJSON *items = NULL;
    int64_t total = 0;
    int rc = audit_model_list(c, l, &items, &total);
    td_list_answer_model(req, res, rc, items, total, false, COLL_AUDIT_LOGS, l,
                         audit_entry_json); /* answers, or parks the request */
}

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (td_list_parse(&list_spec, req->query, &l, res) != TD_OK || refine(req, &l, res) != TD_OK) {
        td_list_free(&l);
        return 0;
    }
    answer_list(req, res, &l);
    td_list_free(&l);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    const char *raw = td_req_param(req, "id");
    if (!td_is_object_id(raw))
        return td_fail(res, 400, "INVALID_ID", "The audit log id must be 24 hex digits", NULL);
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    char id[25];
    lower_id(raw, id);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_AUDIT_LOGS);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
    const bson_t *doc;
    bson_error_t err;
    if (mongoc_cursor_next(cur, &doc))
        td_ok(res, 200, audit_entry_json(doc, NULL));
    else if (mongoc_cursor_error(cur, &err))
        td_fail_rc(res, td_mongo_rc(&err), "query failed");
    else
        td_fail(res, 404, "NOT_FOUND", "No such audit log entry", NULL);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(opts);
    bson_destroy(filter);
    return 0;
}

typedef void (*group_add)(cJSON *out, const char *value, int64_t count);

/*
 * Counts the entries matching `match` per value of `field` ($match, $group, and for
 * a limit $sort by count and $limit). Calls add(out, value, count) for each group.
 */
static int group_by(mongoc_collection_t *coll, const bson_t *match, const char *field, int limit,
                    group_add add, cJSON *out)
{
    char ref[64];
    if (td_fmt(ref, sizeof ref, "$%s", field) != TD_OK)
        return TD_EINVAL; /* a field name of ours too long: a bug, never a cut path */
    bson_t pipeline = BSON_INITIALIZER, stages, stage, inner, sum;
    BSON_APPEND_ARRAY_BEGIN(&pipeline, "pipeline", &stages);
    BSON_APPEND_DOCUMENT_BEGIN(&stages, "0", &stage);
    BSON_APPEND_DOCUMENT(&stage, "$match", match);
    bson_append_document_end(&stages, &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stages, "1", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$group", &inner);
    BSON_APPEND_UTF8(&inner, "_id", ref);
    BSON_APPEND_DOCUMENT_BEGIN(&inner, "count", &sum);
    BSON_APPEND_INT32(&sum, "$sum", 1);
    bson_append_document_end(&inner, &sum);
    bson_append_document_end(&stage, &inner);
    bson_append_document_end(&stages, &stage);
    if (limit > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&stages, "2", &stage);
        BSON_APPEND_DOCUMENT_BEGIN(&stage, "$sort", &inner);
        BSON_APPEND_INT32(&inner, "count", -1);
        BSON_APPEND_INT32(&inner, "_id", 1);
        bson_append_document_end(&stage, &inner);
        bson_append_document_end(&stages, &stage);
        BSON_APPEND_DOCUMENT_BEGIN(&stages, "3", &stage);
        BSON_APPEND_INT32(&stage, "$limit", limit);
        bson_append_document_end(&stages, &stage);
    }
    bson_append_array_end(&pipeline, &stages);

    mongoc_cursor_t *cur =
        mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, &pipeline, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        const char *value = td_bson_str(doc, "_id");
        if (value != NULL)
            add(out, value, td_bson_int(doc, "count", 0));
    }
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? td_mongo_rc(&err) : TD_OK;
    mongoc_cursor_destroy(cur);
    bson_destroy(&pipeline);
    return rc;
}

/* Sets out[value] = count (out is pre-filled with zeros for every known value). */
static void set_count(cJSON *out, const char *value, int64_t count)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive(out, value);
    if (item != NULL)
        cJSON_SetNumberValue(item, (double)count);
    else
        cJSON_AddNumberToObject(out, value, (double)count);
}

static void push_action(cJSON *out, const char *value, int64_t count)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "action", value);
    cJSON_AddNumberToObject(item, "count", (double)count);
    cJSON_AddItemToArray(out, item);
}

static cJSON *zeros(const char *const *names)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; names[i] != NULL; i++)
        cJSON_AddNumberToObject(o, names[i], 0);
    return o;
}

static void add_bound(cJSON *obj, const char *name, int64_t ms)
{
    if (ms == NO_BOUND) {
        cJSON_AddNullToObject(obj, name);
    } else {
        char ts[TD_ISO_TIME_LEN];
        td_iso_time(ms, ts);
        cJSON_AddStringToObject(obj, name, ts);
    }
}

/* The read model's counts (audit_model_stats) summed per resource type, severity
 * and action, like the database's $group of each (null values are no group). */
typedef struct {
    cJSON *resources, *severities, *actions; /* actions: {name: count} */
} tallied;

static void add_count(cJSON *out, const char *value, int64_t count)
{
    if (value == NULL)
        return;
    cJSON *item = cJSON_GetObjectItemCaseSensitive(out, value);
    if (item != NULL)
        cJSON_SetNumberValue(item, item->valuedouble + (double)count);
    else
        cJSON_AddNumberToObject(out, value, (double)count);
}

static void tally_one(const char *const *values, int64_t count, void *arg)
{
    tallied *tl = arg;
    add_count(tl->actions, values[0], count);
    add_count(tl->resources, values[1], count);
    add_count(tl->severities, values[2], count);
}

static int by_count(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    if (x->valuedouble != y->valuedouble)
        return x->valuedouble > y->valuedouble ? -1 : 1;
    return strcmp(x->string, y->string);
}

/* The STATS_TOP_ACTIONS most frequent actions, most first (ties by name), as the
 * database's $sort {count: -1, _id: 1} and $limit give them. */
static void top_actions(const cJSON *actions, cJSON *out)
{
    int n = cJSON_GetArraySize(actions), k = 0;
    const cJSON **v = malloc((size_t)(n + 1) * sizeof(const cJSON *));
    if (v == NULL)
        return;
    for (const cJSON *a = actions->child; a != NULL; a = a->next)
        v[k++] = a;
    qsort(v, (size_t)k, sizeof(const cJSON *), by_count);
    for (int i = 0; i < k && i < STATS_TOP_ACTIONS; i++)
        push_action(out, v[i]->string, (int64_t)v[i]->valuedouble);
    free(v);
}

static int stats(td_req *req, td_res *res)
{
    td_query q;
    if (td_query_parse(req->query, &q) != TD_OK)
        return td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
    int64_t from = NO_BOUND, to = NO_BOUND;
    int rc = TD_OK;
    for (int i = 0; rc == TD_OK && i < q.count; i++) {
        const char *name = q.items[i].name;
        if (strcmp(name, "startDate") != 0 && strcmp(name, "endDate") != 0)
            rc = bad_param(res, name, "Unknown query parameter");
        else if (q.items[i].value[0] == '\0')
            rc = bad_param(res, name, "The parameter must not be empty");
        for (int j = 0; rc == TD_OK && j < i; j++)
            if (strcmp(q.items[j].name, name) == 0)
                rc = bad_param(res, name, "The parameter is given more than once");
    }
    if (rc == TD_OK)
        rc = period(&q, res, &from, &to);
    td_query_free(&q);
    if (rc != TD_OK)
        return 0;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);

    cJSON *by_resource = zeros(audit_resource_types), *by_severity = zeros(audit_severities);
    cJSON *by_action = cJSON_CreateArray();
    tallied tl = {by_resource, by_severity, cJSON_CreateObject()};
    rc = tl.actions != NULL ? audit_model_stats(c, from, to, tally_one, &tl) : TD_ENOMEM;
    if (rc == TD_OK)
        top_actions(tl.actions, by_action);
    cJSON_Delete(tl.actions);
    if (rc == TD_EAGAIN) {
        cJSON_Delete(by_resource);
        cJSON_Delete(by_severity);
        cJSON_Delete(by_action);
        if (td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS))
            return TD_OK;
        return loading(res);
    }
    td_res_header(res, "X-List-Source", rc == TD_OK ? "memory" : "database");
    if (rc != TD_OK) {
        bson_t match = BSON_INITIALIZER;
        append_period(&match, from, to);
        mongoc_collection_t *coll = td_mongo_coll(c, COLL_AUDIT_LOGS);
        rc = group_by(coll, &match, "resourceType", 0, set_count, by_resource);
        if (rc == TD_OK)
            rc = group_by(coll, &match, "severity", 0, set_count, by_severity);
        if (rc == TD_OK)
            rc = group_by(coll, &match, "action", STATS_TOP_ACTIONS, push_action, by_action);
        mongoc_collection_destroy(coll);
        bson_destroy(&match);
    }
    if (rc != TD_OK) {
        cJSON_Delete(by_resource);
        cJSON_Delete(by_severity);
        cJSON_Delete(by_action);
        return td_fail_rc(res, rc, "query failed");
    }
    double total = 0;
    for (const cJSON *s = by_severity->child; s != NULL; s = s->next)
        total += s->valuedouble;
    cJSON *data = cJSON_CreateObject();
    cJSON *p = cJSON_AddObjectToObject(data, "period");
    add_bound(p, "startDate", from);
    add_bound(p, "endDate", to);
    cJSON_AddNumberToObject(data, "total", total);
    cJSON_AddItemToObject(data, "byResourceType", by_resource);
    cJSON_AddItemToObject(data, "bySeverity", by_severity);
    cJSON_AddItemToObject(data, "byAction", by_action);
    return td_ok(res, 200, data);
}
