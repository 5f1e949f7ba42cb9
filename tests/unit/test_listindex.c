/* Unit tests of shared/src/listindex.c: the in-memory list copy answers every query
 * the list builder makes exactly like a reference evaluation with docmatch.c
 * (MongoDB's semantics) over the same documents — same total, same page, same
 * order — including mixed and missing types; newer versions replace older ones. */
#define _GNU_SOURCE /* qsort_r */
#include "tripdesk/docmatch.h"
#include "tripdesk/listindex.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = {"pending",   "confirmed", "in_progress", "completed",
                                       "cancelled", "refunded",  NULL};
static const char *const trip_types[] = {"family", "honeymoon", "business", "group", NULL};
static const char *const priorities[] = {"low", "medium", "high", "urgent", NULL};
static const td_qp params[] = {
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"destination", TD_QP_SEARCH, "destinationKey", NULL},
    {"status", TD_QP_IN, "status", statuses},
    {"tripType", TD_QP_IN, "tripDetails.tripType", trip_types},
    {"priority", TD_QP_IN, "priority", priorities},
    {"agent", TD_QP_OID, "agent", NULL},
    {"startDateFrom", TD_QP_DATE_FROM, "tripDetails.startDate", NULL},
    {"startDateTo", TD_QP_DATE_TO, "tripDetails.startDate", NULL},
    {"minAmount", TD_QP_MIN, "pricing.totalAmount", NULL},
    {"maxAmount", TD_QP_MAX, "pricing.totalAmount", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt",        "startDate", "totalAmount",
                                         "bookingReference", "priority",  NULL};
static const char *const sort_fields[] = {
    "createdAt", "tripDetails.startDate", "pricing.totalAmount", "bookingReference", "priority",
    NULL};
static const td_list_spec spec = {params, sort_names, sort_fields, "createdAt", -1};
static const char *const fields[] = {"searchText",
                                     "destinationKey",
                                     "status",
                                     "tripDetails.tripType",
                                     "priority",
                                     "agent",
                                     "tripDetails.startDate",
                                     "pricing.totalAmount",
                                     "createdAt",
                                     "bookingReference",
                                     "deleted",
                                     NULL};

#define NDOCS 1200 /* more distinct references than a column interns */
#define DAY_MS 86400000LL
#define BASE_MS 1798761600000LL /* 2027-01-01 */

static unsigned rng = 12345;
static unsigned next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}
static const char *pick(const char *const *list)
{
    int n = 0;
    while (list[n] != NULL)
        n++;
    return list[next_rand() % (unsigned)n];
}

static void agent_oid(int i, bson_oid_t *oid)
{
    char hex[25];
    snprintf(hex, sizeof hex, "%024x", 0xa9e0 + i);
    bson_oid_init_from_string(oid, hex);
}

/* A booking-like document; one in seven of some fields missing, amounts of mixed
 * numeric types and now and then a string, status sometimes null. */
static bson_t *make_doc(int i, int64_t version)
{
    bson_t *d = bson_new(), td, pricing;
    bson_oid_t id, agent;
    char hex[25], ref[32], text[128], dest[32];
    snprintf(hex, sizeof hex, "%024x", 0x100000 + i);
    bson_oid_init_from_string(&id, hex);
    BSON_APPEND_OID(d, "_id", &id);
    snprintf(ref, sizeof ref, "TD-%06u-%05d", next_rand() % 1000, i);
    BSON_APPEND_UTF8(d, "bookingReference", ref);
    unsigned r = next_rand();
    /* picked first: the BSON_APPEND macros evaluate their value twice */
    const char *status = pick(statuses), *priority = pick(priorities), *trip = pick(trip_types);
    if (r % 11 == 0)
        BSON_APPEND_NULL(d, "status");
    else
        BSON_APPEND_UTF8(d, "status", status);
    if (r % 7 != 1)
        BSON_APPEND_UTF8(d, "priority", priority);
    agent_oid((int)(next_rand() % 3), &agent);
    BSON_APPEND_OID(d, "agent", &agent);
    snprintf(dest, sizeof dest, "%s",
             pick((const char *const[]){"paris", "bali", "kyoto", "rome", "goa", NULL}));
    BSON_APPEND_UTF8(d, "destinationKey", dest);
    snprintf(text, sizeof text, "%s %s trip for meera%d", ref, dest, i % 13);
    for (char *p = text; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    BSON_APPEND_UTF8(d, "searchText", text);
    BSON_APPEND_DOCUMENT_BEGIN(d, "tripDetails", &td);
    if (r % 7 != 2)
        BSON_APPEND_UTF8(&td, "tripType", trip);
    if (r % 7 != 3)
        BSON_APPEND_DATE_TIME(&td, "startDate", BASE_MS + (int64_t)(next_rand() % 700) * DAY_MS);
    bson_append_document_end(d, &td);
    BSON_APPEND_DOCUMENT_BEGIN(d, "pricing", &pricing);
    unsigned a = next_rand();
    switch (a % 9) {
    case 0: BSON_APPEND_INT32(&pricing, "totalAmount", (int32_t)(a % 100000)); break;
    case 1: BSON_APPEND_INT64(&pricing, "totalAmount", (int64_t)(a % 100000)); break;
    case 2: BSON_APPEND_UTF8(&pricing, "totalAmount", "12000"); break;
    case 3: break; /* missing */
    default: BSON_APPEND_DOUBLE(&pricing, "totalAmount", (double)(a % 100000) + 0.25); break;
    }
    bson_append_document_end(d, &pricing);
    if (r % 5 != 4)
        BSON_APPEND_BOOL(d, "deleted", r % 13 == 0);
    /* a few equal creation times, so the _id tie-break matters */
    BSON_APPEND_DATE_TIME(d, "createdAt", BASE_MS + (int64_t)(i / 3) * 1000);
    BSON_APPEND_INT64(d, "version", version);
    return d;
}

static cJSON *id_only(const bson_t *doc, void *arg)
{
    (void)arg;
    char hex[25];
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
        return NULL;
    bson_oid_to_string(bson_iter_oid(&it), hex);
    return cJSON_CreateString(hex);
}

static bson_t *docs[NDOCS];

static int by_sort(const void *a, const void *b, void *sort)
{
    return td_doc_compare(sort, *(bson_t *const *)a, *(bson_t *const *)b);
}

/* The reference: every document through td_doc_match, sorted by td_doc_compare. */
static cJSON *reference(const td_list *l, int64_t *total)
{
    bson_t **hits = malloc(NDOCS * sizeof *hits);
    int64_t n = 0;
    for (int i = 0; i < NDOCS; i++)
        if (td_doc_match(&l->filter, docs[i]))
            hits[n++] = docs[i];
    qsort_r(hits, (size_t)n, sizeof *hits, by_sort, (void *)&l->sort);
    cJSON *arr = cJSON_CreateArray();
    for (int64_t i = (l->page - 1) * l->limit; i < n && i < l->page * l->limit; i++)
        cJSON_AddItemToArray(arr, id_only(hits[i], NULL));
    free(hits);
    *total = n;
    return arr;
}

static td_listindex *filled(void)
{
    td_listindex *ix;
    ck_assert_int_eq(td_listindex_new(&ix, "bookings", "test", fields, id_only), TD_OK);
    for (int i = 0; i < NDOCS; i++)
        td_listindex_put_local(ix, docs[i]);
    return ix;
}

static void setup(void)
{
    rng = 12345;
    for (int i = 0; i < NDOCS; i++)
        docs[i] = make_doc(i, 1);
}

static void teardown(void)
{
    for (int i = 0; i < NDOCS; i++)
        bson_destroy(docs[i]);
}

/* Runs query (plus what list_run adds: deleted false, maybe an agent scope)
 * through both and compares. */
static void same_answer_with(td_listindex *ix, const char *query, bool scoped,
                             const char *extra_json)
{
    td_list l;
    td_res res = {0};
    ck_assert_msg(td_list_parse(&spec, query, &l, &res) == TD_OK, "parse %s", query);
    if (extra_json != NULL) {
        bson_t *extra = bson_new_from_json((const uint8_t *)extra_json, -1, NULL);
        ck_assert_msg(extra != NULL, "json %s", extra_json);
        bson_concat(&l.filter, extra);
        bson_destroy(extra);
    }
    BSON_APPEND_BOOL(&l.filter, "deleted", false);
    if (scoped) {
        bson_oid_t agent;
        agent_oid(1, &agent);
        BSON_APPEND_OID(&l.filter, "agent", &agent);
    }
    cJSON *got = NULL;
    int64_t got_total = -1, want_total = -1;
    ck_assert_int_eq(td_listindex_select(ix, &l, &got, &got_total), TD_OK);
    cJSON *want = reference(&l, &want_total);
    char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
    ck_assert_msg(got_total == want_total, "%s: total %lld, reference %lld", query,
                  (long long)got_total, (long long)want_total);
    ck_assert_msg(strcmp(g, w) == 0, "%s:\n  copy      %s\n  reference %s", query, g, w);
    free(g);
    free(w);
    cJSON_Delete(got);
    cJSON_Delete(want);
    td_list_free(&l);
    td_res_clear(&res);
}

static void same_answer(td_listindex *ix, const char *query, bool scoped)
{
    same_answer_with(ix, query, scoped, NULL);
}

START_TEST(listindex_answers_like_the_reference)
{
    td_listindex *ix = filled();
    ck_assert_uint_eq(td_listindex_size(ix), NDOCS);
    static const char *const queries[] = {
        "",
        "limit=100&page=2",
        "status=confirmed",
        "status=confirmed,pending&tripType=family&limit=7&page=2",
        "priority=urgent,high&sortBy=totalAmount&sortOrder=asc&limit=50",
        "minAmount=20000&maxAmount=60000&sortBy=totalAmount",
        "minAmount=12000&sortBy=totalAmount&sortOrder=asc&limit=100&page=3",
        "startDateFrom=2027-03-01&startDateTo=2027-09-30&sortBy=startDate&sortOrder=asc",
        "startDateTo=2027-02-01&sortBy=startDate",
        "search=meera3&sortBy=bookingReference&sortOrder=asc",
        "search=td-0&limit=5&page=4",
        "destination=par&status=cancelled,refunded,completed",
        "sortBy=priority&sortOrder=asc&limit=100",
        "sortBy=priority&limit=30&page=6",
        "agent=00000000000000000000a9e2&sortBy=createdAt&sortOrder=asc",
        "tripType=group&priority=low&minAmount=1&limit=3",
        "search=a.b",
        "page=40",
        NULL,
    };
    for (int i = 0; queries[i] != NULL; i++) {
        same_answer(ix, queries[i], false);
        same_answer(ix, queries[i], true);
    }
    td_listindex_free(ix);
}
END_TEST

/* Filters the list builder does not make, for the paths where equality is decided
 * by the columns' codes: $ne/$nin, values no document holds, booleans, and a column
 * with more distinct strings than it interns (bookingReference), where it is not. */
START_TEST(listindex_equality_by_codes_answers_like_the_reference)
{
    td_listindex *ix = filled();
    static const char *const filters[] = {
        "{\"status\": \"confirmed\"}",
        "{\"status\": {\"$ne\": \"pending\"}}",
        "{\"status\": {\"$nin\": [\"pending\", \"confirmed\"]}}",
        "{\"status\": {\"$in\": [\"refunded\", null]}}",
        "{\"status\": \"no-such-status\"}",
        "{\"status\": {\"$ne\": \"no-such-status\"}, \"priority\": {\"$ne\": \"low\"}}",
        "{\"status\": null}",
        "{\"priority\": {\"$in\": [\"urgent\", \"low\", \"none\"]}, \"tripDetails.tripType\": "
        "\"group\"}",
        "{\"bookingReference\": {\"$ne\": \"TD-000500-00007\"}}",
        "{\"searchText\": {\"$nin\": [\"x\", \"y\"]}, \"status\": \"completed\"}",
        "{\"deleted\": {\"$ne\": true}, \"status\": {\"$in\": [\"cancelled\"]}}",
        NULL,
    };
    for (int i = 0; filters[i] != NULL; i++) {
        same_answer_with(ix, "limit=100", false, filters[i]);
        same_answer_with(ix, "sortBy=priority&sortOrder=asc&limit=40&page=2", true, filters[i]);
    }
    /* a reference the copy holds, found through a column that has no codes */
    bson_iter_t it;
    ck_assert(bson_iter_init_find(&it, docs[1100], "bookingReference"));
    char eq[96];
    snprintf(eq, sizeof eq, "{\"bookingReference\": \"%s\"}", bson_iter_utf8(&it, NULL));
    same_answer_with(ix, "", false, eq);
    td_listindex_free(ix);
}
END_TEST

START_TEST(listindex_empty_answers_nothing)
{
    td_listindex *ix;
    ck_assert_int_eq(td_listindex_new(&ix, "bookings", "test", fields, id_only), TD_OK);
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, "status=confirmed&tripType=family", &l, &res), TD_OK);
    BSON_APPEND_BOOL(&l.filter, "deleted", false);
    cJSON *items = NULL;
    int64_t total = -1;
    ck_assert_int_eq(td_listindex_select(ix, &l, &items, &total), TD_OK);
    ck_assert_int_eq(total, 0);
    ck_assert_int_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    td_list_free(&l);
    td_res_clear(&res);
    td_listindex_free(ix);
}
END_TEST

START_TEST(listindex_keeps_the_newest_version)
{
    td_listindex *ix = filled();
    /* document 5 again, older (ignored), then newer and confirmed (kept) */
    bson_t *older = make_doc(5, 0);
    td_listindex_put_local(ix, older);
    bson_t *newer = bson_new();
    bson_copy_to_excluding_noinit(docs[5], newer, "status", "version", "deleted", NULL);
    BSON_APPEND_UTF8(newer, "status", "confirmed");
    BSON_APPEND_BOOL(newer, "deleted", false);
    BSON_APPEND_INT64(newer, "version", 2);
    td_listindex_put_local(ix, newer);
    ck_assert_uint_eq(td_listindex_size(ix), NDOCS);
    bson_destroy(docs[5]);
    docs[5] = newer;
    same_answer(ix, "status=confirmed&limit=100", false);
    bson_destroy(older);
    td_listindex_free(ix);
}
END_TEST

START_TEST(listindex_refuses_what_it_does_not_evaluate)
{
    td_listindex *ix = filled();
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, "", &l, &res), TD_OK);
    BSON_APPEND_UTF8(&l.filter, "notes", "x"); /* not a field of the copy */
    cJSON *items = NULL;
    int64_t total;
    ck_assert_int_eq(td_listindex_select(ix, &l, &items, &total), TD_EINVAL);
    ck_assert_ptr_null(items);
    td_list_free(&l);
    td_res_clear(&res);
    td_listindex_free(ix);
}
END_TEST

/* ---- the audit trail's form: string ids, columns only, a bounded JSON ring -------- */

static const char *const audit_actions[] = {"AUTH_LOGIN",      "AGENT_APPROVED", "BOOKING_CREATED",
                                            "BOOKING_DELETED", "LEAD_DELETED",   NULL};
static const char *const audit_resources[] = {"auth", "agent", "booking", "lead", NULL};
static const char *const audit_severities[] = {"info", "warning", "critical", NULL};
static const td_qp audit_params[] = {
    {"action", TD_QP_IN, "action", NULL},
    {"performedBy", TD_QP_EQ, "performedBy", NULL},
    {"resourceType", TD_QP_IN, "resourceType", audit_resources},
    {"targetId", TD_QP_EQ, "targetId", NULL},
    {"severity", TD_QP_IN, "severity", audit_severities},
    {"startDate", TD_QP_DATE_FROM, "createdAt", NULL},
    {"endDate", TD_QP_DATE_TO, "createdAt", NULL},
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const audit_sort_names[] = {"createdAt", "action", "severity", NULL};
static const char *const audit_sort_fields[] = {"createdAt", "action", "severityRank", NULL};
static const td_list_spec audit_spec = {audit_params, audit_sort_names, audit_sort_fields,
                                        "createdAt", -1};
static const char *const audit_fields[] = {"action",     "performedBy",  "resourceType",
                                           "targetId",   "severity",     "createdAt",
                                           "searchText", "severityRank", NULL};

/* An audit entry shaped like audit_entry.c's: a 24-hex string _id, actors among a
 * few agents (sometimes null), targets of many ids (more than a column interns). */
static bson_t *make_entry(int i)
{
    bson_t *d = bson_new();
    char id[25], actor[25], target[25], text[160];
    snprintf(id, sizeof id, "%024x", 0xe0000 + i);
    BSON_APPEND_UTF8(d, "_id", id);
    unsigned r = next_rand();
    const char *action = pick(audit_actions);
    BSON_APPEND_UTF8(d, "action", action);
    snprintf(actor, sizeof actor, "%024x", 0xa9e0 + (int)(r % 4));
    if (r % 9 == 0)
        BSON_APPEND_NULL(d, "performedBy");
    else
        BSON_APPEND_UTF8(d, "performedBy", actor);
    const char *resource = pick(audit_resources); /* the macro evaluates it twice */
    BSON_APPEND_UTF8(d, "resourceType", resource);
    snprintf(target, sizeof target, "%024x", 0x7000 + (int)(next_rand() % 1500));
    BSON_APPEND_UTF8(d, "targetId", target);
    int rank = (int)(next_rand() % 3);
    BSON_APPEND_UTF8(d, "severity", audit_severities[rank]);
    BSON_APPEND_INT32(d, "severityRank", rank + 1);
    BSON_APPEND_DATE_TIME(d, "createdAt", BASE_MS + (int64_t)(i / 2) * 60000);
    snprintf(text, sizeof text, "%s %s 127.0.0.%d req-%d", action, target, i % 7, i);
    for (char *p = text; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    BSON_APPEND_UTF8(d, "searchText", text);
    return d;
}

static cJSON *str_id(const bson_t *doc, void *arg)
{
    (void)arg;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it))
        return NULL;
    return cJSON_CreateString(bson_iter_utf8(&it, NULL));
}

static bson_t *entries[NDOCS];
static int ext_adds;

static void *count_new(void *arg)
{
    (void)arg;
    return &ext_adds;
}
static void count_add(void *ext, const bson_t *doc)
{
    (void)doc;
    (*(int *)ext)++;
}
static void count_free(void *ext)
{
    (void)ext;
}

static td_listindex *audit_copy(size_t json_bytes, size_t max_rows)
{
    td_listindex_opts opts = {.string_ids = true,
                              .columns_only = true,
                              .json_bytes = json_bytes,
                              .max_rows = max_rows,
                              .ext_new = count_new,
                              .ext_add = count_add,
                              .ext_free = count_free};
    td_listindex *ix;
    ext_adds = 0;
    ck_assert_int_eq(td_listindex_new_opts(&ix, "audit_logs", "test", audit_fields, str_id, &opts),
                     TD_OK);
    for (int i = 0; i < NDOCS; i++)
        td_listindex_put_local(ix, entries[i]);
    return ix;
}

static void audit_setup(void)
{
    rng = 4242;
    for (int i = 0; i < NDOCS; i++)
        entries[i] = make_entry(i);
}

static void audit_teardown(void)
{
    for (int i = 0; i < NDOCS; i++)
        bson_destroy(entries[i]);
}

/* Both answers to query (with the refinement audit_logs.c makes: one createdAt range). */
static int audit_answer(td_listindex *ix, const char *query, const char *extra_json, char **got,
                        char **want, int64_t *got_total, int64_t *want_total)
{
    td_list l;
    td_res res = {0};
    ck_assert_msg(td_list_parse(&audit_spec, query, &l, &res) == TD_OK, "parse %s", query);
    if (extra_json != NULL) {
        bson_t *extra = bson_new_from_json((const uint8_t *)extra_json, -1, NULL);
        ck_assert_msg(extra != NULL, "json %s", extra_json);
        bson_concat(&l.filter, extra);
        bson_destroy(extra);
    }
    cJSON *items = NULL;
    int rc = td_listindex_select(ix, &l, &items, got_total);
    bson_t **hits = malloc(NDOCS * sizeof *hits);
    int64_t n = 0;
    for (int i = 0; i < NDOCS; i++)
        if (td_doc_match(&l.filter, entries[i]))
            hits[n++] = entries[i];
    qsort_r(hits, (size_t)n, sizeof *hits, by_sort, (void *)&l.sort);
    cJSON *arr = cJSON_CreateArray();
    for (int64_t i = (l.page - 1) * l.limit; i < n && i < l.page * l.limit; i++)
        cJSON_AddItemToArray(arr, str_id(hits[i], NULL));
    *want_total = n;
    *got = items != NULL ? cJSON_PrintUnformatted(items) : NULL;
    *want = cJSON_PrintUnformatted(arr);
    free(hits);
    cJSON_Delete(arr);
    cJSON_Delete(items);
    td_list_free(&l);
    td_res_clear(&res);
    return rc;
}

static void audit_same(td_listindex *ix, const char *query, const char *extra_json)
{
    char *g, *w;
    int64_t gt, wt;
    ck_assert_int_eq(audit_answer(ix, query, extra_json, &g, &w, &gt, &wt), TD_OK);
    ck_assert_msg(gt == wt, "%s %s: total %lld, reference %lld", query,
                  extra_json ? extra_json : "", (long long)gt, (long long)wt);
    ck_assert_msg(strcmp(g, w) == 0, "%s %s:\n  copy      %s\n  reference %s", query,
                  extra_json ? extra_json : "", g, w);
    free(g);
    free(w);
}

START_TEST(listindex_audit_columns_only_answers_like_the_reference)
{
    td_listindex *ix = audit_copy(64 * 1024 * 1024, 0);
    ck_assert_uint_eq(td_listindex_size(ix), NDOCS);
    ck_assert_int_eq(ext_adds, NDOCS);
    static const char *const queries[] = {
        "",
        "limit=100&page=3",
        "action=AUTH_LOGIN,BOOKING_DELETED",
        "performedBy=00000000000000000000a9e1&sortBy=createdAt&sortOrder=asc",
        "resourceType=booking,lead&severity=critical&limit=50",
        "targetId=000000000000000000007123",
        "targetId=000000000000000000007123&action=AUTH_LOGIN",
        "search=127.0.0.3&sortBy=action&sortOrder=asc&limit=30&page=2",
        "search=REQ-11",
        "sortBy=severity&limit=100&page=4",
        "sortBy=severity&sortOrder=asc&severity=info,warning",
        "sortBy=action&limit=7&page=9",
        "startDate=2027-01-01T03:00:00.000Z&sortBy=createdAt&sortOrder=asc",
        "endDate=2027-01-01&limit=100",
        "performedBy=00000000000000000000a9e9",
        "page=300",
        NULL,
    };
    for (int i = 0; queries[i] != NULL; i++)
        audit_same(ix, queries[i], NULL);
    /* a period as audit_logs.c refines it (one createdAt document), and a null actor */
    audit_same(ix, "sortBy=action",
               "{\"createdAt\": {\"$gte\": {\"$date\": 1798768800000}, "
               "\"$lte\": {\"$date\": 1798776000000}}}");
    audit_same(ix, "limit=100", "{\"performedBy\": null}");
    /* the documents are not kept: read them from the database */
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, "0000000000000000000e0005");
    bson_t out;
    ck_assert_int_eq(td_listindex_get(ix, NULL, &oid, &out), TD_EUNAVAIL);
    /* a newer put of an entry it holds is no second one for the read model */
    td_listindex_put_local(ix, entries[17]);
    ck_assert_int_eq(ext_adds, NDOCS);
    ck_assert_uint_eq(td_listindex_size(ix), NDOCS);
    audit_same(ix, "targetId=000000000000000000007123", NULL);
    td_listindex_free(ix);
}
END_TEST

START_TEST(listindex_json_ring_keeps_the_latest_within_its_bound)
{
    /* room for about 100 of the ids' JSON ("\"...\"" 26 bytes + 1) */
    td_listindex *all = audit_copy(64 * 1024 * 1024, 0);
    td_listindex *ix = audit_copy(100 * 27, 0);
    ck_assert_uint_ge(td_listindex_bytes(all), td_listindex_bytes(ix) + (NDOCS - 100) * 27);
    td_listindex_free(all);
    char *g, *w;
    int64_t gt, wt;
    /* the newest page: all in the ring */
    ck_assert_int_eq(audit_answer(ix, "limit=50", NULL, &g, &w, &gt, &wt), TD_OK);
    ck_assert_str_eq(g, w);
    free(g);
    free(w);
    /* an old page: not held, and no database to read it from */
    ck_assert_int_eq(audit_answer(ix, "sortBy=createdAt&sortOrder=asc", NULL, &g, &w, &gt, &wt),
                     TD_EUNAVAIL);
    ck_assert_ptr_null(g);
    free(w);
    td_listindex_free(ix);
}
END_TEST

START_TEST(listindex_holds_no_more_than_max_rows)
{
    td_listindex *ix = audit_copy(1024 * 1024, 500);
    ck_assert_uint_eq(td_listindex_size(ix), 500);
    ck_assert_int_eq(ext_adds, 500);
    td_listindex_free(ix);
}
END_TEST

/* A read model of changing documents: how many hold each status (3 statuses). */
static const char *const model_statuses[] = {"pending", "approved", "paid", NULL};
typedef struct {
    int n[3], replaced;
} status_model;
static status_model the_model;

static int status_slot(const bson_t *doc)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "status") || !BSON_ITER_HOLDS_UTF8(&it))
        return -1;
    for (int i = 0; model_statuses[i] != NULL; i++)
        if (strcmp(bson_iter_utf8(&it, NULL), model_statuses[i]) == 0)
            return i;
    return -1;
}
static void *model_new(void *arg)
{
    (void)arg;
    memset(&the_model, 0, sizeof the_model);
    return &the_model;
}
static void model_add(void *ext, const bson_t *doc)
{
    status_model *m = ext;
    int i = status_slot(doc);
    if (i >= 0)
        m->n[i]++;
}
static void model_replace(void *ext, const bson_t *old, const bson_t *doc)
{
    status_model *m = ext;
    int i = status_slot(old);
    if (i >= 0)
        m->n[i]--;
    model_add(ext, doc);
    m->replaced++;
}
static void model_free(void *ext)
{
    (void)ext;
}
static cJSON *model_render(const bson_t *doc, void *arg)
{
    (void)doc;
    (void)arg;
    return cJSON_CreateObject();
}
static bson_t *status_doc(int id, const char *status, int64_t version)
{
    char hex[25];
    bson_oid_t oid;
    snprintf(hex, sizeof hex, "%024x", 0x200000 + id);
    bson_oid_init_from_string(&oid, hex);
    return BCON_NEW("_id", BCON_OID(&oid), "status", BCON_UTF8(status), "version",
                    BCON_INT64(version));
}
static void put_status(td_listindex *ix, int id, const char *status, int64_t version)
{
    bson_t *d = status_doc(id, status, version);
    td_listindex_put_local(ix, d);
    bson_destroy(d);
}

START_TEST(listindex_model_follows_replaced_documents)
{
    const char *fields[] = {"status", NULL};
    td_listindex_opts opts = {.ext_new = model_new,
                              .ext_add = model_add,
                              .ext_replace = model_replace,
                              .ext_free = model_free};
    td_listindex *ix;
    ck_assert_int_eq(td_listindex_new_opts(&ix, "commissions", "test", fields, model_render, &opts),
                     TD_OK);
    put_status(ix, 1, "pending", 1);
    put_status(ix, 2, "pending", 1);
    put_status(ix, 3, "pending", 1);
    ck_assert_int_eq(the_model.n[0], 3);
    put_status(ix, 1, "approved", 2); /* moved: out of pending, into approved */
    put_status(ix, 1, "paid", 3);
    put_status(ix, 2, "approved", 2);
    put_status(ix, 2, "pending", 1); /* an older version: ignored, the model too */
    put_status(ix, 3, "pending", 1); /* the same version again: nothing changes */
    ck_assert_int_eq(the_model.n[0], 1);
    ck_assert_int_eq(the_model.n[1], 1);
    ck_assert_int_eq(the_model.n[2], 1);
    ck_assert_int_eq(the_model.replaced, 4);
    ck_assert_uint_eq(td_listindex_size(ix), 3);
    td_listindex_free(ix);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listindex");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, listindex_answers_like_the_reference);
    tcase_add_test(tc, listindex_equality_by_codes_answers_like_the_reference);
    tcase_add_test(tc, listindex_empty_answers_nothing);
    tcase_add_test(tc, listindex_keeps_the_newest_version);
    tcase_add_test(tc, listindex_refuses_what_it_does_not_evaluate);
    tcase_add_test(tc, listindex_model_follows_replaced_documents);
    suite_add_tcase(s, tc);
    TCase *audit = tcase_create("audit");
    tcase_add_checked_fixture(audit, audit_setup, audit_teardown);
    tcase_set_timeout(audit, 60);
    tcase_add_test(audit, listindex_audit_columns_only_answers_like_the_reference);
    tcase_add_test(audit, listindex_json_ring_keeps_the_latest_within_its_bound);
    tcase_add_test(audit, listindex_holds_no_more_than_max_rows);
    suite_add_tcase(s, audit);
    return run_suite(s);
}
