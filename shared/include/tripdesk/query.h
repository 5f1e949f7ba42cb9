/*
 * The list query builder (PRD step 6): turns a raw query string into a MongoDB
 * filter, sort and page from a per-endpoint whitelist. Unknown or repeated
 * parameters, operator-looking names ("status[$ne]"), bad dates, non-numeric
 * amounts and limit > TD_LIST_MAX_LIMIT are 400s, so nothing a client sends
 * becomes a MongoDB operator. Works on MongoDB and FerretDB alike.
 */
#ifndef TRIPDESK_QUERY_H
#define TRIPDESK_QUERY_H

#include "common.h"

#include "http.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>

#define TD_LIST_DEFAULT_LIMIT 20
#define TD_LIST_MAX_LIMIT 100
#define TD_LIST_MAX_IN 20
#define TD_SEARCH_MAX 100

typedef enum {
    TD_QP_IN,        /* comma-separated values -> {field: {$in: [...]}} */
    TD_QP_EQ,        /* one string -> {field: value} */
    TD_QP_OID,       /* one ObjectId -> {field: ObjectId} */
    TD_QP_BOOL,      /* true or false -> {field: bool} */
    TD_QP_DATE_FROM, /* date -> {field: {$gte: date}} */
    TD_QP_DATE_TO,   /* date -> {field: {$lte: date}} (a bare day: through its end) */
    TD_QP_MIN,       /* number -> {field: {$gte: n}} */
    TD_QP_MAX,       /* number -> {field: {$lte: n}} */
    TD_QP_SEARCH,    /* text -> {field: {$regex: escaped lower-case text}} */
} td_qp_kind;

typedef struct {
    const char *param; /* query parameter; NULL ends a table */
    td_qp_kind kind;
    const char *field;         /* document field */
    const char *const *values; /* allowed values for IN/EQ, NULL-terminated; NULL: any */
} td_qp;

typedef struct {
    const td_qp *params;
    const char *const *sort_names;  /* allowed sortBy values, NULL-terminated */
    const char *const *sort_fields; /* the document field of each sortBy value */
    const char *default_sort;       /* document field */
    int default_order;              /* 1 ascending, -1 descending */
} td_list_spec;

typedef struct {
    int64_t page, limit;
    bson_t filter; /* the handler may append object-level conditions */
    bson_t sort;
} td_list;

/* Parses raw against spec. On TD_EINVAL res holds the 400. Always td_list_free. */
TD_MUST_CHECK int td_list_parse(const td_list_spec *spec, const char *raw, td_list *out,
                                td_res *res);
void td_list_free(td_list *l);

/* Converts one document for the response; returns NULL to skip it. */
typedef cJSON *(*td_doc_to_json)(const bson_t *doc, void *arg);

/* Counts and fetches the page: *items (caller owns) and *total. TD_E* on failure. */
TD_MUST_CHECK int td_list_run(mongoc_collection_t *coll, const td_list *l, td_doc_to_json conv,
                              void *arg, cJSON **items, int64_t *total);

/* Answers a parsed list from collection coll of the request's database: 200 with the
 * page and its pagination, 503 when MongoDB is down, or the query's error. Returns
 * TD_OK when it answered the page, else what failed (res holds the error answer). */
int td_list_answer(td_req *req, td_res *res, const char *coll, const td_list *l,
                   td_doc_to_json conv, void *arg);

/* Answers a parsed list with what a read model (a list copy) made of it: rc TD_OK
 * with items (taken) and total: that page, X-List-Source: memory (and X-List-Degraded:
 * unsynced when degraded); TD_EAGAIN, the model's first load: the request is parked to
 * run again shortly without holding a worker (td_req_retry_in), and after
 * TD_LIST_LOADING_WAIT_MS answered 503 LIST_LOADING with Retry-After; anything else:
 * the list from MongoDB (td_list_answer), X-List-Source: database. Returns TD_OK when
 * the page was answered, TD_EAGAIN when parked or loading, else what failed. */
int td_list_answer_model(td_req *req, td_res *res, int rc, cJSON *items, int64_t total,
                         bool degraded, const char *coll, const td_list *l, td_doc_to_json conv);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.sss]Z" to unix ms; end_of_day makes
 * a bare day mean its last millisecond. Returns TD_OK or TD_EINVAL. */
TD_MUST_CHECK int td_parse_date(const char *s, bool end_of_day, int64_t *ms);

/* Escapes regex metacharacters of s into buf (lower-cased). */
int td_regex_escape(const char *s, char *buf, size_t len);

#endif
