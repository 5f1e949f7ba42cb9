/*
 * Requests and responses as a service handler sees them, and the response helpers
 * that are the only place where the JSON envelope and the error model are built:
 *   {"success":true,"data":...,"pagination":{...}}
 *   {"success":false,"error":{"code":"...","message":"...","details":{...}}}
 */
#ifndef TRIPDESK_HTTP_H
#define TRIPDESK_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define TD_MAX_PARAMS 8
#define TD_MAX_RES_HEADERS 8
#define TD_MAX_QUERY_PARAMS 64

typedef struct {
    const char *name;
    const char *value;
} td_pair;

typedef struct {
    bool present;
    const char *agent_id;
    const char *role;
    const char *token_id;
    uint32_t permissions; /* bit i: td_permission_names[i] granted */
} td_principal;

typedef struct td_req {
    const char *request_id;
    const char *method;
    const char *path;
    const char *query; /* raw, without '?' ("" when none) */
    const char *content_type;
    const char *client_ip;
    const char *user_agent;
    const uint8_t *body;
    size_t body_len;
    int64_t deadline_ms; /* unix ms (0: none); see td_deadline_left_ms */
    int64_t arrived_ms;  /* monotonic ms it reached the service (td_req_retry_in) */
    int attempt;         /* 0; then 1, 2... for each run after td_req_retry_in */
    int park_ms;         /* set by td_req_retry_in: run again after this long (-1: no) */
    td_principal principal;
    td_pair params[TD_MAX_PARAMS]; /* path parameters, e.g. {"id", "..."} */
    int nparams;
    struct td_service *service;
    struct _mongoc_client_t *mongo; /* popped on first td_req_mongo() */
    struct td_idem *idem;           /* its Idempotency-Key claim (idempotency.h) */
} td_req;

typedef struct td_res {
    int status;
    char *body; /* malloc'd JSON text, freed by the framework */
    size_t body_len;
    td_pair headers[TD_MAX_RES_HEADERS]; /* values malloc'd, names static */
    int nheaders;
} td_res;

/* Path parameter by name, or NULL. */
const char *td_req_param(const td_req *req, const char *name);

/* Parses the body as a JSON object into *out (caller cJSON_Delete's it). On failure
 * fills res with 415 (not application/json) or 400 (malformed, not an object, not
 * valid UTF-8, a NUL character or \u0000 in it) and returns TD_EINVAL; the handler
 * then just returns. */
TD_MUST_CHECK int td_req_json(const td_req *req, td_res *res, cJSON **out);

/* Parsed query string: decoded name/value pairs, stored in one allocation. */
typedef struct {
    td_pair items[TD_MAX_QUERY_PARAMS];
    int count;
    char *storage;
} td_query;

/* Decodes a raw query string. Returns TD_EINVAL for too many parameters, bad
 * percent-encoding or decoded bytes that are not UTF-8. Free with td_query_free. */
TD_MUST_CHECK int td_query_parse(const char *raw, td_query *q);
const char *td_query_get(const td_query *q, const char *name);
void td_query_free(td_query *q);

/* Success: {"success":true,"data":data}; takes ownership of data (NULL gives null). */
int td_ok(td_res *res, int status, cJSON *data);

/* Success with pagination metadata. */
int td_ok_page(td_res *res, cJSON *data, int64_t page, int64_t limit, int64_t total);

/* Error: fills res and returns 0 so handlers can `return td_fail(...)`.
 * details may be NULL; ownership is taken. */
int td_fail(td_res *res, int status, const char *code, const char *message, cJSON *details);

/* Validation error naming one field: 400 VALIDATION_ERROR, details {"field": field}. */
int td_fail_field(td_res *res, const char *field, const char *message);

/* The HTTP answer of a TD_E* result: the one mapping (see docs/notes/errors.md). */
typedef struct {
    int rc;              /* TD_E* */
    int status;          /* HTTP status */
    const char *code;    /* error.code */
    const char *message; /* default error.message */
    bool what_ok;        /* the caller's message may replace it (client errors) */
} td_http_error;

/* The entry for rc; an unknown code (or TD_OK) gives 500 INTERNAL_ERROR. Static. */
const td_http_error *td_http_error_of(int rc);

/* Answers a TD_E* result as its HTTP error (td_http_error_of): what replaces the
 * default message for client errors (400, 404, 409) when not NULL. Returns 0. */
int td_fail_rc(td_res *res, int rc, const char *what);

/* Adds a response header; value is copied. */
int td_res_header(td_res *res, const char *name, const char *value);

/* Releases what a response holds. */
void td_res_clear(td_res *res);

/* Builds a whole error body (used by the gateway, which has no td_res).
 * Returns malloc'd JSON text or NULL. */
char *td_error_body(const char *code, const char *message, cJSON *details);

#endif
