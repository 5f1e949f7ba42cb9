/*
 * tripdesk-bench-listindex [documents] [queries]: what one list query costs the
 * in-memory list copy (shared/src/listindex.c) alone, without HTTP, nng or Redis.
 * Fills a copy with booking-like documents (allocated among unrelated blocks, as in
 * a daemon's heap) and times GET /api/bookings?status=confirmed&tripType=family&
 * limit=20 — the benchmark's list — as filter, sort, page and response items, then
 * the same with every document's fields read from BSON instead (td_doc_match, the
 * reference evaluator), for comparison. Prints milliseconds per query, and the
 * memory the copy holds per document (glibc's allocated bytes, malloc overhead
 * included, the benchmark's own documents and heap spreaders excluded).
 */
#include "tripdesk/docjson.h"
#include "tripdesk/docmatch.h"
#include "tripdesk/listindex.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *const statuses[] = {"pending",   "confirmed", "in_progress", "completed",
                                       "cancelled", "refunded",  NULL};
static const char *const trip_types[] = {"leisure", "honeymoon",  "family", "adventure", "business",
                                         "group",   "pilgrimage", "cruise", NULL};
static const td_qp params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"tripType", TD_QP_IN, "tripDetails.tripType", trip_types},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", NULL};
static const char *const sort_fields[] = {"createdAt", NULL};
static const td_list_spec spec = {params, sort_names, sort_fields, "createdAt", -1};
/* the booking list's fields (bookings.c list_params and sort fields) */
static const char *const fields[] = {"searchText",
                                     "destinationKey",
                                     "status",
                                     "tripDetails.tripType",
                                     "priority",
                                     "paymentStatus",
                                     "agent",
                                     "customer",
                                     "tripDetails.startDate",
                                     "createdAt",
                                     "pricing.totalAmount",
                                     "updatedAt",
                                     "bookingReference",
                                     "deleted",
                                     NULL};
static const char *const hidden[] = {"searchText", "destinationKey", "deleted", NULL};

static cJSON *render(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static bson_t *booking(int i)
{
    bson_t *d = bson_new(), trip, tv, pricing;
    bson_oid_t id;
    bson_oid_init(&id, NULL);
    char ref[32];
    snprintf(ref, sizeof ref, "TD-261126-%05d", i);
    const char *status = statuses[rand() % 6], *type = trip_types[rand() % 8];
    BSON_APPEND_OID(d, "_id", &id);
    BSON_APPEND_UTF8(d, "bookingReference", ref);
    BSON_APPEND_OID(d, "customer", &id);
    BSON_APPEND_UTF8(d, "customerName", "Meera Iyer");
    BSON_APPEND_UTF8(d, "customerEmail", "meera@example.com");
    BSON_APPEND_OID(d, "agent", &id);
    BSON_APPEND_DOCUMENT_BEGIN(d, "tripDetails", &trip);
    BSON_APPEND_UTF8(&trip, "title", "Paris escape");
    BSON_APPEND_UTF8(&trip, "destination", "Paris");
    BSON_APPEND_DATE_TIME(&trip, "startDate", 1790000000000LL + rand() % 700 * 86400000LL);
    BSON_APPEND_DATE_TIME(&trip, "endDate", 1790000000000LL + 700 * 86400000LL);
    BSON_APPEND_UTF8(&trip, "tripType", type);
    BSON_APPEND_DOCUMENT_BEGIN(&trip, "travellers", &tv);
    BSON_APPEND_INT32(&tv, "adults", 2);
    BSON_APPEND_INT32(&tv, "children", 1);
    bson_append_document_end(&trip, &tv);
    bson_append_document_end(d, &trip);
    BSON_APPEND_DOCUMENT_BEGIN(d, "pricing", &pricing);
    BSON_APPEND_DOUBLE(&pricing, "totalAmount", rand() % 500000);
    BSON_APPEND_UTF8(&pricing, "currency", "INR");
    bson_append_document_end(d, &pricing);
    BSON_APPEND_UTF8(d, "priority", "medium");
    BSON_APPEND_UTF8(d, "status", status);
    BSON_APPEND_UTF8(d, "paymentStatus", "unpaid");
    BSON_APPEND_UTF8(d, "destinationKey", "paris");
    BSON_APPEND_UTF8(d, "searchText", "td-261126 paris escape paris meera iyer meera@example.com");
    BSON_APPEND_BOOL(d, "deleted", false);
    BSON_APPEND_DATE_TIME(d, "createdAt", 1790000000000LL + i * 1000LL);
    BSON_APPEND_DATE_TIME(d, "updatedAt", 1790000000000LL + i * 1000LL);
    BSON_APPEND_INT64(d, "version", 1);
    return d;
}

int main(int argc, char **argv)
{
    int ndocs = argc > 1 ? atoi(argv[1]) : 20000, nq = argc > 2 ? atoi(argv[2]) : 200;
    if (ndocs <= 0 || nq <= 0)
        return 2;
    srand(2026);
    td_listindex *ix;
    if (td_listindex_new(&ix, "bookings", "bench", fields, render) != TD_OK)
        return 1;
    bson_t **docs = calloc((size_t)ndocs, sizeof *docs);
    void **noise = calloc((size_t)ndocs, sizeof *noise);
    for (int i = 0; i < ndocs; i++)
        docs[i] = booking(i);
    /* the copy's allocations: what the heap grew by, less the spreaders */
    size_t before = mallinfo2().uordblks, spread = 0;
    for (int i = 0; i < ndocs; i++) {
        td_listindex_put_local(ix, docs[i]);
        noise[i] = malloc(3000 + (size_t)(rand() % 4000)); /* spread the heap */
        spread += malloc_usable_size(noise[i]);
    }
    size_t held = mallinfo2().uordblks - before - spread;
    td_list l;
    td_res res = {0};
    if (td_list_parse(&spec, "status=confirmed&tripType=family&limit=20", &l, &res) != TD_OK)
        return 1;
    BSON_APPEND_BOOL(&l.filter, "deleted", false);
    int64_t total = 0;
    double t0 = now_ms();
    for (int q = 0; q < nq; q++) {
        cJSON *items;
        if (td_listindex_select(ix, &l, &items, &total) != TD_OK)
            return 1;
        char *text = cJSON_PrintUnformatted(items);
        free(text);
        cJSON_Delete(items);
    }
    double copy_ms = (now_ms() - t0) / nq;
    t0 = now_ms();
    int64_t matched = 0;
    int nref = nq < 20 ? nq : 20;
    for (int q = 0; q < nref; q++) {
        matched = 0;
        for (int i = 0; i < ndocs; i++)
            matched += td_doc_match(&l.filter, docs[i]);
    }
    double bson_ms = (now_ms() - t0) / nref;
    printf("%d documents, %lld match: list copy %.3f ms per query (filter, sort, page of 20, "
           "response items printed); the filter alone evaluated on BSON %.3f ms\n",
           ndocs, (long long)total, copy_ms, bson_ms);
    printf("memory: %zu bytes held by the copy, %.0f bytes per document\n", held,
           (double)held / ndocs);
    if (matched != total)
        printf("warning: the reference evaluator counted %lld\n", (long long)matched);
    td_list_free(&l);
    td_res_clear(&res);
    td_listindex_free(ix);
    for (int i = 0; i < ndocs; i++) {
        bson_destroy(docs[i]);
        free(noise[i]);
    }
    free(docs);
    free(noise);
    return 0;
}
