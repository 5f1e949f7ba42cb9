/* Response helpers (the one place that builds the JSON envelope and errors),
 * request body and query-string parsing. */
#include "tripdesk/http.h"

#include "tripdesk/common.h"
#include "tripdesk/validate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *td_req_param(const td_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

/* Takes ownership of root; serialises it into res. */
static int set_body(td_res *res, int status, cJSON *root)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->status = status;
    if (root == NULL)
        return TD_ENOMEM;
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        res->status = 500;
        return TD_ENOMEM;
    }
    res->body = text;
    res->body_len = strlen(text);
    return TD_OK;
}

int td_ok(td_res *res, int status, cJSON *data)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL) {
        cJSON_Delete(data);
        return set_body(res, 500, NULL);
    }
    cJSON_AddBoolToObject(root, "success", true);
    cJSON_AddItemToObject(root, "data", data != NULL ? data : cJSON_CreateNull());
    return set_body(res, status, root);
}

int td_ok_page(td_res *res, cJSON *data, int64_t page, int64_t limit, int64_t total)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *pg = cJSON_CreateObject();
    if (root == NULL || pg == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(pg);
        cJSON_Delete(data);
        return set_body(res, 500, NULL);
    }
    int64_t pages = limit > 0 ? total / limit + (total % limit != 0) : 0;
    cJSON_AddBoolToObject(root, "success", true);
    cJSON_AddItemToObject(root, "data", data != NULL ? data : cJSON_CreateArray());
    cJSON_AddNumberToObject(pg, "page", (double)page);
    cJSON_AddNumberToObject(pg, "limit", (double)limit);
    cJSON_AddNumberToObject(pg, "totalDocs", (double)total);
    cJSON_AddNumberToObject(pg, "totalPages", (double)pages);
    cJSON_AddBoolToObject(pg, "hasNext", page < pages);
    cJSON_AddBoolToObject(pg, "hasPrev", page > 1);
    cJSON_AddItemToObject(root, "pagination", pg);
    return set_body(res, 200, root);
}

static cJSON *error_tree(const char *code, const char *message, cJSON *details)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_CreateObject();
    if (root == NULL || err == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(err);
        cJSON_Delete(details);
        return NULL;
    }
    cJSON_AddBoolToObject(root, "success", false);
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    if (details != NULL)
        cJSON_AddItemToObject(err, "details", details);
    cJSON_AddItemToObject(root, "error", err);
    return root;
}

int td_fail(td_res *res, int status, const char *code, const char *message, cJSON *details)
{
    set_body(res, status, error_tree(code, message, details));
    return TD_OK;
}

int td_fail_field(td_res *res, const char *field, const char *message)
{
    cJSON *details = cJSON_CreateObject();
    if (details != NULL)
        cJSON_AddStringToObject(details, "field", field);
    return td_fail(res, 400, "VALIDATION_ERROR", message, details);
}

/* The one table from a TD_E* result to its HTTP answer. what_ok: the caller's
 * message (td_fail_rc's `what`) may replace the default one, because the code is
 * about the caller's own request, not an internal failure it should not show. */
static const td_http_error http_errors[] = {
    {TD_ENOMEM, 500, "INTERNAL_ERROR", "Internal error", false},
    {TD_EINVAL, 400, "VALIDATION_ERROR", "The request is not valid", true},
    {TD_ENOTFOUND, 404, "NOT_FOUND", "No such resource", true},
    {TD_ECONFLICT, 409, "CONFLICT", "The request conflicts with the current state", true},
    {TD_EUNAVAIL, 503, "DATABASE_UNAVAILABLE", "The database is unreachable; try again shortly",
     false},
    {TD_ETIMEDOUT, 503, "DATABASE_UNAVAILABLE", "The database is unreachable; try again shortly",
     false},
    {TD_EMETHOD, 405, "METHOD_NOT_ALLOWED", "Method not allowed on this resource", false},
    {TD_EIO, 500, "INTERNAL_ERROR", "Internal error", false},
    {TD_EDEADLINE, 504, "DEADLINE_EXCEEDED",
     "The request ran out of time before it was done; nothing more is done for it", false},
    {TD_EAGAIN, 503, "SERVICE_UNAVAILABLE", "The service is busy; retry shortly", false},
};

/* What any code not in the table (TD_OK included: a caller's bug) answers. */
static const td_http_error http_error_other = {0, 500, "INTERNAL_ERROR", "Internal error", false};

const td_http_error *td_http_error_of(int rc)
{
    for (size_t i = 0; i < sizeof http_errors / sizeof http_errors[0]; i++)
        if (http_errors[i].rc == rc)
            return &http_errors[i];
    return &http_error_other;
}

int td_fail_rc(td_res *res, int rc, const char *what)
{
    const td_http_error *e = td_http_error_of(rc);
    const char *message = e->what_ok && what != NULL ? what : e->message;
    return td_fail(res, e->status, e->code, message, NULL);
}

char *td_error_body(const char *code, const char *message, cJSON *details)
{
    cJSON *root = error_tree(code, message, details);
    if (root == NULL)
        return NULL;
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

int td_res_header(td_res *res, const char *name, const char *value)
{
    if (res->nheaders >= TD_MAX_RES_HEADERS)
        return TD_EINVAL;
    char *copy = strdup(value);
    if (copy == NULL)
        return TD_ENOMEM;
    res->headers[res->nheaders].name = name;
    res->headers[res->nheaders].value = copy;
    res->nheaders++;
    return TD_OK;
}

void td_res_clear(td_res *res)
{
    free(res->body);
    for (int i = 0; i < res->nheaders; i++)
        free((char *)res->headers[i].value);
    memset(res, 0, sizeof *res);
}

int td_req_json(const td_req *req, td_res *res, cJSON **out)
{
    *out = NULL;
    const char *ct = req->content_type != NULL ? req->content_type : "";
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0 || (ct[n] != '\0' && ct[n] != ';')) {
        td_fail(res, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json", NULL);
        return TD_EINVAL;
    }
    if (!td_json_text_ok((const char *)req->body, req->body_len)) {
        td_fail(res, 400, "MALFORMED_JSON",
                "The request body must be valid UTF-8 JSON without NUL characters", NULL);
        return TD_EINVAL;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts((const char *)req->body, req->body_len, &end, 0);
    if (doc == NULL) {
        td_fail(res, 400, "MALFORMED_JSON", "The request body is not valid JSON", NULL);
        return TD_EINVAL;
    }
    /* Only whitespace may follow the document. */
    const char *stop = (const char *)req->body + req->body_len;
    while (end != NULL && end < stop &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t' || *end == '\0'))
        end++;
    if (end != NULL && end < stop) {
        cJSON_Delete(doc);
        td_fail(res, 400, "MALFORMED_JSON", "The request body is not valid JSON", NULL);
        return TD_EINVAL;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        td_fail(res, 400, "VALIDATION_ERROR", "The request body must be a JSON object", NULL);
        return TD_EINVAL;
    }
    *out = doc;
    return TD_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' in place over [s, s+len); returns new length or -1. */
static long url_decode(char *s, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        if (s[r] == '+') {
            s[w++] = ' ';
        } else if (s[r] == '%') {
            if (r + 2 >= len)
                return -1;
            int hi = hexval(s[r + 1]), lo = hexval(s[r + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            char c = (char)(hi << 4 | lo);
            if (c == '\0')
                return -1;
            s[w++] = c;
            r += 2;
        } else {
            s[w++] = s[r];
        }
    }
    s[w] = '\0';
    return (long)w;
}

int td_query_parse(const char *raw, td_query *q)
{
    memset(q, 0, sizeof *q);
    if (raw == NULL || raw[0] == '\0')
        return TD_OK;
    q->storage = strdup(raw);
    if (q->storage == NULL)
        return TD_ENOMEM;
    char *p = q->storage;
    while (*p != '\0') {
        char *amp = strchr(p, '&');
        size_t seglen = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (amp != NULL)
            *amp = '\0';
        if (seglen > 0) {
            if (q->count >= TD_MAX_QUERY_PARAMS)
                goto bad;
            char *eq = memchr(p, '=', seglen);
            char *val = "";
            size_t namelen = seglen;
            if (eq != NULL) {
                *eq = '\0';
                namelen = (size_t)(eq - p);
                val = eq + 1;
                if (url_decode(val, seglen - namelen - 1) < 0)
                    goto bad;
            }
            if (url_decode(p, namelen) < 0)
                goto bad;
            /* Decoded bytes must be UTF-8 like any other text we store or echo. */
            if (!td_utf8_valid(p, strlen(p)) || !td_utf8_valid(val, strlen(val)))
                goto bad;
            q->items[q->count].name = p;
            q->items[q->count].value = val;
            q->count++;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    return TD_OK;
bad:
    td_query_free(q);
    return TD_EINVAL;
}

const char *td_query_get(const td_query *q, const char *name)
{
    for (int i = 0; i < q->count; i++)
        if (strcmp(q->items[i].name, name) == 0)
            return q->items[i].value;
    return NULL;
}

void td_query_free(td_query *q)
{
    free(q->storage);
    memset(q, 0, sizeof *q);
}
