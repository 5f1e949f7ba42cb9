/* Unit tests of shared/src/listindex.c under concurrency: several writer threads put
 * documents (new ones and newer versions of the same ones) while reader threads page
 * through filtered lists, for a whole-document copy and for a columns-only copy with
 * a small JSON ring. Readers check every answer is consistent (each item matches the
 * filter, no more items than the total); after the writers finish, the copy holds each
 * document once at its highest version. Meant for the ThreadSanitizer build
 * (scripts/build tsan; docs/notes/tests.md); runs in the ASan and valgrind builds too. */
#include "tripdesk/common.h"
#include "tripdesk/listindex.h"

#include "run_suite.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITERS 3
#define READERS 3
#define NIDS 300            /* distinct documents, shared by every writer */
#define PUTS_PER_WRITER 900 /* each id put about WRITERS * 3 times */
#define READS_PER_READER 60
#define RING_BYTES 4096 /* columns-only copy: JSON of a few dozen rows only */

static const char *const statuses[] = {"pending", "confirmed", "cancelled", NULL};
static const td_qp params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", NULL};
static const char *const sort_fields[] = {"createdAt", NULL};
static const td_list_spec spec = {params, sort_names, sort_fields, "createdAt", -1};
static const char *const fields[] = {"status", "createdAt", NULL};

static int64_t version_counter;   /* atomic: every put gets a new, higher version */
static int64_t max_version[NIDS]; /* atomic: highest version put per id */

/* id i as 24 hex digits. */
static void id_hex(int i, char hex[25])
{
    snprintf(hex, 25, "%024x", 0x200000 + i);
}

/* A document: _id (ObjectId, or its hex string for the columns-only copy), status,
 * createdAt and version. */
static bson_t *make_doc(int i, int64_t version, bool string_id)
{
    bson_t *d = bson_new();
    char hex[25];
    id_hex(i, hex);
    if (string_id) {
        BSON_APPEND_UTF8(d, "_id", hex);
    } else {
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, hex);
        BSON_APPEND_OID(d, "_id", &oid);
    }
    BSON_APPEND_UTF8(d, "status", statuses[version % 3]);
    BSON_APPEND_DATE_TIME(d, "createdAt", 1798761600000LL + i * 1000LL);
    BSON_APPEND_INT64(d, "version", version);
    return d;
}

/* {"id", "status", "version"}, the id as hex whatever its BSON type. */
static cJSON *render(const bson_t *doc, void *arg)
{
    (void)arg;
    bson_iter_t it;
    char hex[25];
    cJSON *o = cJSON_CreateObject();
    if (bson_iter_init_find(&it, doc, "_id")) {
        if (BSON_ITER_HOLDS_OID(&it))
            bson_oid_to_string(bson_iter_oid(&it), hex);
        else
            snprintf(hex, sizeof hex, "%s",
                     BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : "");
        cJSON_AddStringToObject(o, "id", hex);
    }
    if (bson_iter_init_find(&it, doc, "status") && BSON_ITER_HOLDS_UTF8(&it))
        cJSON_AddStringToObject(o, "status", bson_iter_utf8(&it, NULL));
    if (bson_iter_init_find(&it, doc, "version"))
        cJSON_AddNumberToObject(o, "version", (double)bson_iter_as_int64(&it));
    return o;
}

/* An item of an answer: raw JSON (the copy splices rendered documents) or an object. */
static cJSON *item_object(const cJSON *item)
{
    if (cJSON_IsRaw(item))
        return cJSON_Parse(item->valuestring);
    return cJSON_Duplicate(item, true);
}

typedef struct {
    td_listindex *ix;
    bool string_ids;
    int seed;
    int answered, unavailable; /* reader's tally */
    int bad;                   /* reader: inconsistent answers seen */
} worker;

static void *writer_main(void *arg)
{
    worker *w = arg;
    unsigned r = (unsigned)w->seed;
    for (int k = 0; k < PUTS_PER_WRITER; k++) {
        r = r * 1103515245u + 12345u;
        int i = (int)((r >> 8) % NIDS);
        int64_t v = __atomic_add_fetch(&version_counter, 1, __ATOMIC_RELAXED);
        bson_t *d = make_doc(i, v, w->string_ids);
        td_listindex_put_local(w->ix, d);
        bson_destroy(d);
        int64_t seen = __atomic_load_n(&max_version[i], __ATOMIC_RELAXED);
        while (v > seen && !__atomic_compare_exchange_n(&max_version[i], &seen, v, false,
                                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            ;
    }
    return NULL;
}

/* Pages through status=<s> while the writers run. */
static void *reader_main(void *arg)
{
    worker *w = arg;
    for (int k = 0; k < READS_PER_READER; k++) {
        const char *status = statuses[(k + w->seed) % 3];
        char query[96];
        snprintf(query, sizeof query, "status=%s&limit=50&page=%d", status, 1 + k % 3);
        td_list l;
        td_res res = {0};
        if (td_list_parse(&spec, query, &l, &res) != TD_OK) {
            w->bad++;
            td_res_clear(&res);
            continue;
        }
        cJSON *items = NULL;
        int64_t total = -1;
        int rc = td_listindex_select(w->ix, &l, &items, &total);
        if (rc == TD_OK) {
            w->answered++;
            int n = cJSON_GetArraySize(items);
            if (total < 0 || total > NIDS || n > 50 || n > total)
                w->bad++;
            const cJSON *it;
            cJSON_ArrayForEach(it, items)
            {
                cJSON *o = item_object(it);
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
                if (!cJSON_IsString(st) || strcmp(st->valuestring, status) != 0)
                    w->bad++;
                cJSON_Delete(o);
            }
        } else if (rc == TD_EUNAVAIL) {
            w->unavailable++; /* columns-only: a page row whose JSON left the ring */
        } else {
            w->bad++;
        }
        cJSON_Delete(items);
        td_list_free(&l);
        td_res_clear(&res);
        (void)td_listindex_size(w->ix);
        (void)td_listindex_bytes(w->ix);
    }
    return NULL;
}

/* Runs the writers and readers on ix, then checks the readers' tallies. */
static void hammer(td_listindex *ix, bool string_ids, bool every_read_answers)
{
    version_counter = 0;
    memset(max_version, 0, sizeof max_version);
    worker ws[WRITERS + READERS];
    pthread_t th[WRITERS + READERS];
    for (int t = 0; t < WRITERS + READERS; t++) {
        ws[t] = (worker){ix, string_ids, 17 + 31 * t, 0, 0, 0};
        ck_assert_int_eq(
            pthread_create(&th[t], NULL, t < WRITERS ? writer_main : reader_main, &ws[t]), 0);
    }
    int answered = 0, unavailable = 0;
    for (int t = 0; t < WRITERS + READERS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_int_eq(ws[t].bad, 0);
        answered += ws[t].answered;
        unavailable += ws[t].unavailable;
    }
    ck_assert_int_eq(answered + unavailable, READERS * READS_PER_READER);
    if (every_read_answers)
        ck_assert_int_eq(unavailable, 0);
}

/* Every id put holds its highest version (pages of status=s for each status). */
static void check_final(td_listindex *ix)
{
    int seen_ids = 0, puts = 0;
    for (int i = 0; i < NIDS; i++)
        puts += max_version[i] > 0;
    for (int s = 0; statuses[s] != NULL; s++)
        for (int page = 1;; page++) {
            char query[96];
            snprintf(query, sizeof query, "status=%s&limit=100&page=%d", statuses[s], page);
            td_list l;
            td_res res = {0};
            ck_assert_int_eq(td_list_parse(&spec, query, &l, &res), TD_OK);
            cJSON *items = NULL;
            int64_t total = -1;
            ck_assert_int_eq(td_listindex_select(ix, &l, &items, &total), TD_OK);
            int n = cJSON_GetArraySize(items);
            const cJSON *it;
            cJSON_ArrayForEach(it, items)
            {
                cJSON *o = item_object(it);
                const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
                ck_assert_ptr_nonnull(hex);
                int i = (int)strtol(hex, NULL, 16) - 0x200000;
                ck_assert_int_ge(i, 0);
                ck_assert_int_lt(i, NIDS);
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
                ck_assert_int_eq((int64_t)cJSON_GetNumberValue(v), max_version[i]);
                seen_ids++;
                cJSON_Delete(o);
            }
            cJSON_Delete(items);
            td_list_free(&l);
            td_res_clear(&res);
            if (n < 100)
                break;
        }
    ck_assert_int_eq(seen_ids, puts);
    ck_assert_uint_eq(td_listindex_size(ix), (size_t)puts);
}

START_TEST(concurrent_writers_and_readers_of_a_whole_copy)
{
    td_listindex *ix;
    ck_assert_int_eq(td_listindex_new(&ix, "things", "test", fields, render), TD_OK);
    hammer(ix, false, true);
    check_final(ix);
    td_listindex_free(ix);
}
END_TEST

static int ext_rows; /* the read model: documents new to the table */

static void *ext_new(void *arg)
{
    (void)arg;
    ext_rows = 0;
    return &ext_rows;
}
static void ext_add(void *ext, const bson_t *doc)
{
    (void)doc;
    (*(int *)ext)++; /* called under the table's write lock */
}
static void ext_free(void *ext)
{
    (void)ext;
}

START_TEST(concurrent_writers_and_readers_of_a_columns_only_copy)
{
    td_listindex_opts opts = {.string_ids = true,
                              .columns_only = true,
                              .json_bytes = RING_BYTES,
                              .ext_new = ext_new,
                              .ext_add = ext_add,
                              .ext_free = ext_free};
    td_listindex *ix;
    ck_assert_int_eq(td_listindex_new_opts(&ix, "entries", "test", fields, render, &opts), TD_OK);
    hammer(ix, true, false);
    int puts = 0;
    for (int i = 0; i < NIDS; i++)
        puts += max_version[i] > 0;
    ck_assert_uint_eq(td_listindex_size(ix), (size_t)puts);
    ck_assert_int_eq(ext_rows, puts); /* each document added to the model once */
    td_listindex_free(ix);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listindex_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, concurrent_writers_and_readers_of_a_whole_copy);
    tcase_add_test(tc, concurrent_writers_and_readers_of_a_columns_only_copy);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
