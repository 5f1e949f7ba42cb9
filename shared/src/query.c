/* The list query builder: whitelisted parameters -> filter, sort, page. */
#include "tripdesk/query.h"

#include "tripdesk/listindex.h"
#include "tripdesk/mongo.h"
#include "tripdesk/service.h"
#include "tripdesk/validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BAD_VALUE_SHOWN 128 /* bytes of a rejected value quoted in its message */

static int bad(td_res *res, const char *param, const char *fmt, const char *detail)
{
    char msg[256], shown[BAD_VALUE_SHOWN + 1];
    const char *d = detail != NULL ? detail : "";
    size_t k = td_utf8_fit(d, BAD_VALUE_SHOWN);
    memcpy(shown, d, k);
    shown[k] = '\0';
    /* fits: a parameter name and a message of ours, and at most BAD_VALUE_SHOWN bytes
     * of the value, cut on a character boundary */
    TD_IGNORE(td_fmt(msg, sizeof msg, fmt, param, shown));
    td_fail_field(res, param, msg);
    return TD_EINVAL;
}

static bool days_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d <= max;
}

int td_parse_date(const char *s, bool end_of_day, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0, n = 0;
    size_t len = strlen(s);
    if (len == 10) {
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
            return TD_EINVAL;
    } else if (len == 20 || len == 24) {
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
            return TD_EINVAL;
        if (len == 24) {
            if (s[19] != '.' || !isdigit((unsigned char)s[20]) || !isdigit((unsigned char)s[21]) ||
                !isdigit((unsigned char)s[22]))
                return TD_EINVAL;
            milli = (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0');
        }
        if (s[len - 1] != 'Z' || h > 23 || mi > 59 || sec > 59)
            return TD_EINVAL;
    } else {
        return TD_EINVAL;
    }
    if (s[4] != '-' || s[7] != '-' || !days_valid(y, mo, d))
        return TD_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm) * 1000 + milli;
    if (len == 10 && end_of_day)
        t += 86400000 - 1;
    *ms = t;
    return TD_OK;
}

int td_regex_escape(const char *s, char *buf, size_t len)
{
    size_t w = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (w + 3 >= len)
            return TD_EINVAL;
        if (strchr("\\^$.|?*+()[]{}/-", *p) != NULL)
            buf[w++] = '\\';
        buf[w++] = (char)tolower((unsigned char)*p);
    }
    buf[w] = '\0';
    return TD_OK;
}

static bool in_list(const char *v, const char *const *values)
{
    if (values == NULL)
        return true;
    for (int i = 0; values[i] != NULL; i++)
        if (strcmp(v, values[i]) == 0)
            return true;
    return false;
}

/* Appends one whitelisted parameter's condition to the filter. */
static int apply(const td_qp *qp, const char *value, bson_t *filter, td_res *res)
{
    bson_t sub;
    if (value[0] == '\0')
        return bad(res, qp->param, "%s must not be empty%s", NULL);
    switch (qp->kind) {
    case TD_QP_IN: {
        char copy[1024];
        if (strlen(value) >= sizeof copy)
            return bad(res, qp->param, "%s is too long%s", NULL);
        strcpy(copy, value);
        bson_t arr;
        BSON_APPEND_DOCUMENT_BEGIN(filter, qp->field, &sub);
        BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &arr);
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
            if (n == TD_LIST_MAX_IN || !in_list(tok, qp->values) || strlen(tok) > 128) {
                bson_append_array_end(&sub, &arr);
                bson_append_document_end(filter, &sub);
                return bad(res, qp->param, "%s has a value that is not allowed: %s", tok);
            }
            char key[16];
            TD_IGNORE(td_fmt(key, sizeof key, "%d", n++)); /* fits: one int */
            BSON_APPEND_UTF8(&arr, key, tok);
        }
        bson_append_array_end(&sub, &arr);
        bson_append_document_end(filter, &sub);
        return n > 0 ? TD_OK : bad(res, qp->param, "%s must not be empty%s", NULL);
    }
    case TD_QP_EQ:
        if (!in_list(value, qp->values) || strlen(value) > 128)
            return bad(res, qp->param, "%s has a value that is not allowed: %s", value);
        BSON_APPEND_UTF8(filter, qp->field, value);
        return TD_OK;
    case TD_QP_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return bad(res, qp->param, "%s must be true or false%s", NULL);
        BSON_APPEND_BOOL(filter, qp->field, strcmp(value, "true") == 0);
        return TD_OK;
    case TD_QP_OID: {
        if (!td_is_object_id(value))
            return bad(res, qp->param, "%s must be an id (24 hex digits)%s", NULL);
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, value);
        BSON_APPEND_OID(filter, qp->field, &oid);
        return TD_OK;
    }
    case TD_QP_DATE_FROM:
    case TD_QP_DATE_TO: {
        int64_t ms;
        if (td_parse_date(value, qp->kind == TD_QP_DATE_TO, &ms) != TD_OK)
            return bad(res, qp->param, "%s must be a date (YYYY-MM-DD or ISO-8601 UTC)%s", NULL);
        BSON_APPEND_DOCUMENT_BEGIN(filter, qp->field, &sub);
        BSON_APPEND_DATE_TIME(&sub, qp->kind == TD_QP_DATE_FROM ? "$gte" : "$lte", ms);
        bson_append_document_end(filter, &sub);
        return TD_OK;
    }
    case TD_QP_MIN:
    case TD_QP_MAX: {
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno != 0 || *end != '\0' || !isfinite(d) || isspace((unsigned char)value[0]))
            return bad(res, qp->param, "%s must be a number%s", NULL);
        BSON_APPEND_DOCUMENT_BEGIN(filter, qp->field, &sub);
        BSON_APPEND_DOUBLE(&sub, qp->kind == TD_QP_MIN ? "$gte" : "$lte", d);
        bson_append_document_end(filter, &sub);
        return TD_OK;
    }
    case TD_QP_SEARCH: {
        char esc[TD_SEARCH_MAX * 2 + 8];
        if (strlen(value) > TD_SEARCH_MAX)
            return bad(res, qp->param, "%s must be at most 100 characters%s", NULL);
        td_regex_escape(value, esc, sizeof esc);
        BSON_APPEND_DOCUMENT_BEGIN(filter, qp->field, &sub);
        BSON_APPEND_UTF8(&sub, "$regex", esc);
        bson_append_document_end(filter, &sub);
        return TD_OK;
    }
    }
    return TD_EINVAL;
}

static int parse_int(const char *v, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] == '\0' || !isdigit((unsigned char)v[0]) || n < min ||
        n > max)
        return TD_EINVAL;
    *out = n;
    return TD_OK;
}

int td_list_parse(const td_list_spec *spec, const char *raw, td_list *out, td_res *res)
{
    memset(out, 0, sizeof *out);
    bson_init(&out->filter);
    bson_init(&out->sort);
    out->page = 1;
    out->limit = TD_LIST_DEFAULT_LIMIT;
    td_query q;
    if (td_query_parse(raw, &q) != TD_OK) {
        td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
        return TD_EINVAL;
    }
    int rc = TD_OK;
    const char *sort_by = NULL, *order = NULL;
    /* Each condition is built on its own, then combined: two on one field (a date or
     * amount range) must not become two equal keys of one filter document, which
     * MongoDB resolves to the last one and FerretDB 1.24 rejects by crashing. */
    bson_t conds[TD_MAX_QUERY_PARAMS];
    const char *fields[TD_MAX_QUERY_PARAMS];
    int nconds = 0;
    for (int i = 0; i < q.count && rc == TD_OK; i++) {
        const char *name = q.items[i].name, *value = q.items[i].value;
        for (int j = 0; j < i; j++)
            if (strcmp(q.items[j].name, name) == 0) {
                rc = bad(res, name, "%s is given more than once%s", NULL);
                break;
            }
        if (rc != TD_OK)
            break;
        if (strcmp(name, "page") == 0) {
            if (parse_int(value, 1, 1000000, &out->page) != TD_OK)
                rc = bad(res, name, "%s must be a whole number of at least 1%s", NULL);
        } else if (strcmp(name, "limit") == 0) {
            if (parse_int(value, 1, TD_LIST_MAX_LIMIT, &out->limit) != TD_OK)
                rc = bad(res, name, "%s must be a whole number from 1 to 100%s", NULL);
        } else if (strcmp(name, "sortBy") == 0) {
            sort_by = value;
        } else if (strcmp(name, "sortOrder") == 0) {
            order = value;
            if (strcmp(value, "asc") != 0 && strcmp(value, "desc") != 0)
                rc = bad(res, name, "%s must be asc or desc%s", NULL);
        } else {
            const td_qp *qp = spec->params;
            while (qp != NULL && qp->param != NULL && strcmp(qp->param, name) != 0)
                qp++;
            if (qp == NULL || qp->param == NULL) {
                rc = bad(res, name, "Unknown query parameter '%s'%s", NULL);
            } else {
                bson_init(&conds[nconds]);
                fields[nconds] = qp->field;
                rc = apply(qp, value, &conds[nconds], res);
                nconds++;
            }
        }
    }
    bool repeated = false;
    for (int i = 0; i < nconds; i++)
        for (int j = 0; j < i; j++)
            repeated |= strcmp(fields[i], fields[j]) == 0;
    if (rc == TD_OK && repeated) {
        bson_t and;
        BSON_APPEND_ARRAY_BEGIN(&out->filter, "$and", &and);
        for (int i = 0; i < nconds; i++) {
            char key[16];
            TD_IGNORE(td_fmt(key, sizeof key, "%d", i)); /* fits: one int */
            BSON_APPEND_DOCUMENT(&and, key, &conds[i]);
        }
        bson_append_array_end(&out->filter, &and);
    } else if (rc == TD_OK) {
        for (int i = 0; i < nconds; i++)
            bson_concat(&out->filter, &conds[i]);
    }
    for (int i = 0; i < nconds; i++)
        bson_destroy(&conds[i]);
    const char *sort_field = spec->default_sort;
    int dir = spec->default_order;
    if (rc == TD_OK && sort_by != NULL) {
        sort_field = NULL;
        for (int i = 0; spec->sort_names != NULL && spec->sort_names[i] != NULL; i++)
            if (strcmp(sort_by, spec->sort_names[i]) == 0)
                sort_field = spec->sort_fields[i];
        if (sort_field == NULL)
            rc = bad(res, "sortBy", "%s has a value that is not allowed: %s", sort_by);
    }
    if (order != NULL)
        dir = strcmp(order, "asc") == 0 ? 1 : -1;
    if (rc == TD_OK) {
        BSON_APPEND_INT32(&out->sort, sort_field, dir);
        if (strcmp(sort_field, "_id") != 0)
            BSON_APPEND_INT32(&out->sort, "_id", dir); /* stable pages */
    }
    td_query_free(&q);
    return rc;
}

void td_list_free(td_list *l)
{
    bson_destroy(&l->filter);
    bson_destroy(&l->sort);
}

int td_list_answer(td_req *req, td_res *res, const char *coll, const td_list *l,
                   td_doc_to_json conv, void *arg)
{
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        (void)td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_EUNAVAIL;
    }
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    cJSON *items;
    int64_t total;
    int rc = td_list_run(cl, l, conv, arg, &items, &total);
    mongoc_collection_destroy(cl);
    if (rc != TD_OK) {
        (void)td_fail_rc(res, rc, "query failed"); /* the answer; rc says what happened */
        return rc;
    }
    return td_ok_page(res, items, l->page, l->limit, total);
}

int td_list_run(mongoc_collection_t *coll, const td_list *l, td_doc_to_json conv, void *arg,
                cJSON **items, int64_t *total)
{
    *items = NULL;
    bson_error_t err;
    bson_t count_opts = BSON_INITIALIZER;
    td_mongo_time_opts(&count_opts); /* bounded by the request's deadline */
    int64_t n = mongoc_collection_count_documents(coll, &l->filter, &count_opts, NULL, NULL, &err);
    bson_destroy(&count_opts);
    if (n < 0)
        return td_mongo_rc(&err);
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    BSON_APPEND_DOCUMENT(&opts, "sort", &l->sort);
    BSON_APPEND_INT64(&opts, "skip", (l->page - 1) * l->limit);
    BSON_APPEND_INT64(&opts, "limit", l->limit);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &l->filter, &opts, NULL);
    cJSON *arr = cJSON_CreateArray();
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        cJSON *item = conv(doc, arg);
        if (item != NULL)
            cJSON_AddItemToArray(arr, item);
    }
    int rc = TD_OK;
    if (mongoc_cursor_error(cur, &err)) {
        rc = td_mongo_rc(&err);
        cJSON_Delete(arr);
        arr = NULL;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    *items = arr;
    *total = n;
    return rc;
}

int td_list_answer_model(td_req *req, td_res *res, int rc, cJSON *items, int64_t total,
                         bool degraded, const char *coll, const td_list *l, td_doc_to_json conv)
{
    if (rc == TD_EAGAIN) {
        if (!td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS)) {
            td_res_header(res, "Retry-After", "2");
            td_fail(res, 503, "LIST_LOADING",
                    "This list is being loaded after a restart; retry in a few seconds", NULL);
        }
        return TD_EAGAIN;
    }
    td_res_header(res, "X-List-Source", rc == TD_OK ? "memory" : "database");
    if (degraded) /* Redis unreachable: maybe without the other daemons' latest writes */
        td_res_header(res, "X-List-Degraded", "unsynced");
    if (rc == TD_OK)
        return td_ok_page(res, items, l->page, l->limit, total);
    return td_list_answer(req, res, coll, l, conv, NULL);
}
