/*
 * GET /api/commissions/summary: pending, approved and paid totals (and the
 * adjustments of paid commissions of cancelled bookings) per currency, an agent's
 * own or, with canApproveCommissions, everyone's.
 *
 * The read rule (docs/architecture.md): on the embedded FerretDB only reads by _id
 * go to the database, so the totals come from a read model kept beside the
 * commission list copy (listindex.h ext_*): per (agent, currency, status) the sum
 * of amountMinor and of adjustmentMinor and the count, in integer minor units. The
 * copy calls it for every document it takes in (ext_add) and for every newer
 * version of one it holds (ext_replace: the old version out, the new in), whether
 * written here or re-read after another daemon's write; a reload of the copy
 * rebuilds it. The answer says `X-List-Source: memory`.
 *
 * TRIPDESK_LIST_COPIES=off (or auto on MongoDB, whose indexes serve the query) and
 * whenever the copy cannot answer (Redis unreachable, a model that ran out of
 * memory): the same totals from the commissions in the database, `X-List-Source:
 * database`. During the copy's first load the request waits as a list does, then
 * 503 LIST_LOADING.
 *
 * Cached in Redis as before (namespace "commissions", 5 min, per scope, X-Cache);
 * every commission write invalidates it.
 */
#include "payment.h"

#include "tripdesk/cache.h"
#include "tripdesk/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUMMARY_TTL_S 300 /* PRD step 1: commissions:summary, 5 min */
#define MODEL_SLOTS_MIN 64
#define CURRENCY_MAX 8

/* The statuses a commission has; the summary's totals are by these indexes. */
static const char *const status_names[] = {"pending",  "approved",  "paid",
                                           "rejected", "cancelled", NULL};
enum { ST_PENDING, ST_APPROVED, ST_PAID, ST_REJECTED, ST_CANCELLED, NSTATUS };

static int status_index(const char *s)
{
    for (int i = 0; s != NULL && status_names[i] != NULL; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

/* What the model and the database path take of one commission. */
typedef struct {
    char agent[25];
    const char *currency;
    int status, decimals;
    int64_t amount, adjustment;
} commission_facts;

static bool facts_of(const bson_t *doc, commission_facts *f)
{
    td_bson_oid_hex(doc, "agent", f->agent);
    f->currency = td_bson_str(doc, "currency");
    f->status = status_index(td_bson_str(doc, "status"));
    f->decimals = (int)td_bson_int(doc, "decimals", 2);
    f->amount = td_bson_int(doc, "amountMinor", 0);
    f->adjustment = td_bson_int(doc, "adjustmentMinor", 0);
    return f->currency != NULL && strlen(f->currency) < CURRENCY_MAX && f->status >= 0;
}

/* ---- the read model: sums per (agent, currency, status) --------------------------- */

typedef struct {
    char agent[25], currency[CURRENCY_MAX];
    int status, decimals;
    int64_t amount, adjustment, count;
} sum_row;

typedef struct {
    sum_row *rows;
    size_t n, cap;
    uint32_t *slots; /* row index + 1; 0: empty (open addressing) */
    size_t nslots;   /* power of two */
    bool inexact;    /* a put found no memory: the model is short by it */
} sum_model;

static uint32_t row_hash(const char *agent, const char *currency, int status)
{
    char key[48];
    int n = snprintf(key, sizeof key, "%s|%s|%d", agent, currency, status);
    return td_hash(key, (size_t)n);
}

static int model_rehash(sum_model *m, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (slots == NULL)
        return TD_ENOMEM;
    for (size_t r = 0; r < m->n; r++) {
        size_t i =
            row_hash(m->rows[r].agent, m->rows[r].currency, m->rows[r].status) & (nslots - 1);
        while (slots[i] != 0)
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)(r + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return TD_OK;
}

/* The row of (agent, currency, status), made when new; NULL without memory. */
static sum_row *model_row(sum_model *m, const commission_facts *f)
{
    if ((m->n + 1) * 2 > m->nslots &&
        model_rehash(m, m->nslots == 0 ? MODEL_SLOTS_MIN : m->nslots * 2) != TD_OK)
        return NULL;
    size_t i = row_hash(f->agent, f->currency, f->status) & (m->nslots - 1);
    for (; m->slots[i] != 0; i = (i + 1) & (m->nslots - 1)) {
        sum_row *r = &m->rows[m->slots[i] - 1];
        if (r->status == f->status && strcmp(r->agent, f->agent) == 0 &&
            strcmp(r->currency, f->currency) == 0)
            return r;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap == 0 ? MODEL_SLOTS_MIN : m->cap * 2;
        sum_row *rows = realloc(m->rows, cap * sizeof *rows);
        if (rows == NULL)
            return NULL;
        m->rows = rows;
        m->cap = cap;
    }
    sum_row *r = &m->rows[m->n];
    memset(r, 0, sizeof *r);
    TD_IGNORE(td_fmt(r->agent, sizeof r->agent, "%s",
                     f->agent)); /* sized for it: ids, numbers, names of ours */
    TD_IGNORE(td_fmt(r->currency, sizeof r->currency, "%s",
                     f->currency)); /* sized for it: ids, numbers, names of ours */
    r->status = f->status;
    r->decimals = f->decimals;
    m->slots[i] = (uint32_t)++m->n;
    return r;
}

/* Adds (sign 1) or takes out (sign -1) one commission. */
static void model_apply(sum_model *m, const bson_t *doc, int sign)
{
    commission_facts f;
    if (!facts_of(doc, &f))
        return;
    sum_row *r = model_row(m, &f);
    if (r == NULL) {
        if (!m->inexact)
            td_warn("commission summary model: out of memory; the database answers until "
                    "the next reload");
        m->inexact = true;
        return;
    }
    r->amount += sign * f.amount;
    r->adjustment += sign * f.adjustment;
    r->count += sign;
}

static void *model_new(void *arg)
{
    (void)arg;
    return calloc(1, sizeof(sum_model));
}

static void model_add(void *ext, const bson_t *doc)
{
    model_apply(ext, doc, 1);
}

static void model_replace(void *ext, const bson_t *old, const bson_t *doc)
{
    model_apply(ext, old, -1);
    model_apply(ext, doc, 1);
}

static void model_free(void *ext)
{
    sum_model *m = ext;
    if (m == NULL)
        return;
    free(m->rows);
    free(m->slots);
    free(m);
}

void commission_model_opts(td_listindex_opts *o)
{
    o->ext_new = model_new;
    o->ext_add = model_add;
    o->ext_replace = model_replace;
    o->ext_free = model_free;
}

/* ---- totals per currency ---------------------------------------------------------- */

typedef struct {
    char currency[CURRENCY_MAX];
    int decimals;
    int64_t minor[NSTATUS], count[NSTATUS], adjustments;
} cur_totals;

typedef struct {
    cur_totals *c;
    size_t n, cap;
    bool oom;
} totals;

static void totals_add(totals *t, const char *currency, int decimals, int status, int64_t amount,
                       int64_t adjustment, int64_t count)
{
    cur_totals *c = NULL;
    for (size_t i = 0; i < t->n && c == NULL; i++)
        if (strcmp(t->c[i].currency, currency) == 0)
            c = &t->c[i];
    if (c == NULL) {
        if (t->n == t->cap) {
            size_t cap = t->cap == 0 ? 8 : t->cap * 2;
            cur_totals *grown = realloc(t->c, cap * sizeof *grown);
            if (grown == NULL) {
                t->oom = true;
                return;
            }
            t->c = grown;
            t->cap = cap;
        }
        c = &t->c[t->n++];
        memset(c, 0, sizeof *c);
        TD_IGNORE(td_fmt(c->currency, sizeof c->currency, "%s",
                         currency)); /* sized for it: ids, numbers, names of ours */
        c->decimals = decimals;
    }
    c->minor[status] += amount;
    c->count[status] += count;
    c->adjustments += adjustment;
}

static int by_currency(const void *a, const void *b)
{
    return strcmp(((const cur_totals *)a)->currency, ((const cur_totals *)b)->currency);
}

/* byCurrency.{CUR}: {pending, approved, paid, adjustments, their *Minor forms,
 * count (every status), counts per status, decimals}. */
static cJSON *totals_json(totals *t)
{
    if (t->n > 1)
        qsort(t->c, t->n, sizeof *t->c, by_currency);
    cJSON *by = cJSON_CreateObject();
    for (size_t i = 0; i < t->n; i++) {
        const cur_totals *c = &t->c[i];
        cJSON *o = cJSON_AddObjectToObject(by, c->currency);
        int64_t all = 0;
        for (int s = ST_PENDING; s <= ST_PAID; s++)
            cJSON_AddNumberToObject(o, status_names[s],
                                    td_money_to_double(c->minor[s], c->decimals));
        cJSON_AddNumberToObject(o, "adjustments", td_money_to_double(c->adjustments, c->decimals));
        for (int s = ST_PENDING; s <= ST_PAID; s++) {
            char key[32];
            TD_IGNORE(td_fmt(key, sizeof key, "%sMinor",
                             status_names[s])); /* sized for it: ids, numbers, names of ours */
            cJSON_AddNumberToObject(o, key, (double)c->minor[s]);
        }
        cJSON_AddNumberToObject(o, "adjustmentsMinor", (double)c->adjustments);
        cJSON *counts = cJSON_AddObjectToObject(o, "counts");
        for (int s = 0; s < NSTATUS; s++) {
            cJSON_AddNumberToObject(counts, status_names[s], (double)c->count[s]);
            all += c->count[s];
        }
        cJSON_AddNumberToObject(o, "count", (double)all);
        cJSON_AddNumberToObject(o, "decimals", c->decimals);
    }
    return by;
}

typedef struct {
    const char *agent; /* NULL: every agent's */
    totals *t;
    bool inexact;
} model_read;

static void read_model(const void *ext, void *arg)
{
    const sum_model *m = ext;
    model_read *r = arg;
    r->inexact = m->inexact;
    for (size_t i = 0; i < m->n && !r->inexact; i++) {
        const sum_row *row = &m->rows[i];
        if (row->count == 0 || (r->agent != NULL && strcasecmp(row->agent, r->agent) != 0))
            continue;
        totals_add(r->t, row->currency, row->decimals, row->status, row->amount, row->adjustment,
                   row->count);
    }
}

/* The same totals from the database (its own filter on agent: MongoDB's index). */
static int totals_from_db(mongoc_client_t *c, const char *agent, totals *t)
{
    bson_t filter = BSON_INITIALIZER;
    if (agent != NULL) {
        bson_oid_t me;
        bson_oid_init_from_string(&me, agent);
        BSON_APPEND_OID(&filter, "agent", &me);
    }
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_COMMISSIONS);
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, &filter, &opts, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        commission_facts f;
        if (facts_of(doc, &f))
            totals_add(t, f.currency, f.decimals, f.status, f.amount, f.adjustment, 1);
    }
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? td_mongo_rc(&err) : TD_OK;
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(cl);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc != TD_OK ? rc : t->oom ? TD_ENOMEM : TD_OK;
}

int commission_summary(td_req *req, td_res *res)
{
    bool all = td_req_can(req, APPROVE_COMMISSIONS);
    td_cache_slot slot;
    if (td_cache_lookup(res, &slot, COMMISSIONS_CACHE_NS,
                        td_cache_scope(req->principal.permissions, APPROVE_COMMISSIONS,
                                       req->principal.agent_id),
                        req->query) == TD_CACHE_HIT)
        return 0;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    const char *agent = all ? NULL : req->principal.agent_id;
    if (agent != NULL && !td_is_object_id(agent))
        return td_fail(res, 403, "FORBIDDEN", "No agent to summarise the commissions of", NULL);
    totals t = {0};
    int rc = TD_EUNAVAIL;
    td_listindex *copy = td_list_copy_if_on(commissions_list_copy());
    if (copy != NULL) {
        model_read r = {agent, &t, false};
        rc = td_listindex_ext_read(copy, c, read_model, &r);
        if (rc == TD_EAGAIN) { /* the copy's first load: wait as a list does */
            free(t.c);
            if (td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS))
                return 0;
            td_res_header(res, "Retry-After", "2");
            return td_fail(res, 503, "LIST_LOADING",
                           "The commissions are being loaded after a restart; retry in a few "
                           "seconds",
                           NULL);
        }
        if (rc == TD_OK && (r.inexact || t.oom))
            rc = TD_ENOMEM;
        if (rc != TD_OK) { /* the database answers instead */
            free(t.c);
            memset(&t, 0, sizeof t);
        }
    }
    const char *source = rc == TD_OK ? "memory" : "database";
    if (rc != TD_OK)
        rc = totals_from_db(c, agent, &t);
    if (rc != TD_OK) {
        free(t.c);
        return td_fail_rc(res, rc, NULL);
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, "byCurrency", totals_json(&t));
    free(t.c);
    td_res_header(res, "X-List-Source", source);
    td_ok(res, 200, data);
    td_cache_store(res, &slot, SUMMARY_TTL_S);
    return 0;
}

int commissions_indexes(mongoc_client_t *c)
{
    /* the database path's filter (an agent's own); dropped on FerretDB (mongo.c) */
    bson_t keys = BSON_INITIALIZER;
    BSON_APPEND_INT32(&keys, "agent", 1);
    BSON_APPEND_INT32(&keys, "status", 1);
    int rc = td_mongo_index(c, COLL_COMMISSIONS, &keys, "commission_agent_status", false);
    bson_destroy(&keys);
    return rc;
}
