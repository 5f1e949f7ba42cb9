/* Unit tests of shared/src/tally.c: the counts per key for a period are those of a
 * reference evaluation with docmatch.c (MongoDB's {createdAt: {$gte, $lte}}) over
 * the same documents, added in any order, with missing and non-string key values
 * and documents without a date. */
#include "tripdesk/docmatch.h"
#include "tripdesk/tally.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDOCS 3000
#define DAY_MS 86400000LL
#define BASE_MS 1798761600000LL /* 2027-01-01 */
#define NACTIONS 7

static const char *const fields[] = {"action", "resourceType", "severity", NULL};
static const char *const actions[NACTIONS] = {
    "AUTH_LOGIN", "AGENT_APPROVED", "BOOKING_CREATED", "BOOKING_DELETED", "LEAD_DELETED",
    "X",          "PAYMENT_FAILED"};
static bson_t *docs[NDOCS];
static unsigned rng = 777;

static unsigned next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

/* An audit-like document; now and then a field missing, of another type, or no date. */
static bson_t *make_doc(int i)
{
    bson_t *d = bson_new();
    unsigned r = next_rand();
    int a = (int)(next_rand() % NACTIONS);
    BSON_APPEND_INT32(d, "_id", i);
    if (r % 17 == 0)
        BSON_APPEND_INT32(d, "action", 5);
    else if (r % 19 != 1)
        BSON_APPEND_UTF8(d, "action", actions[a]);
    if (r % 13 != 2)
        BSON_APPEND_UTF8(d, "resourceType", a < 2 ? "auth" : a < 4 ? "booking" : "lead");
    if (r % 11 == 3)
        BSON_APPEND_NULL(d, "severity");
    else
        BSON_APPEND_UTF8(d, "severity", a == 3 ? "critical" : a >= 4 ? "warning" : "info");
    if (r % 23 == 4)
        BSON_APPEND_UTF8(d, "createdAt", "2027-01-02");
    else if (r % 29 != 5) /* half in order, half anywhere in the year */
        BSON_APPEND_DATE_TIME(d, "createdAt",
                              r % 2 ? BASE_MS + (int64_t)i * 10000
                                    : BASE_MS + (int64_t)(next_rand() % 365) * DAY_MS +
                                          (int64_t)(next_rand() % 1000));
    return d;
}

static void setup(void)
{
    rng = 777;
    for (int i = 0; i < NDOCS; i++)
        docs[i] = make_doc(i);
}

static void teardown(void)
{
    for (int i = 0; i < NDOCS; i++)
        bson_destroy(docs[i]);
}

/* The counts as one string "action|resource|severity=n;..." in a canonical order. */
typedef struct {
    char lines[512][128];
    int n;
} counts;

static void add_line(counts *c, const char *const *v, int64_t n)
{
    ck_assert_int_lt(c->n, 512);
    snprintf(c->lines[c->n++], sizeof c->lines[0], "%s|%s|%s=%lld", v[0] ? v[0] : "-",
             v[1] ? v[1] : "-", v[2] ? v[2] : "-", (long long)n);
}

static void collect(const char *const *values, int64_t count, void *arg)
{
    add_line(arg, values, count);
}

static int by_line(const void *a, const void *b)
{
    return strcmp(a, b);
}

static const char *str_of(const bson_t *d, const char *f)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, d, f) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL)
                                                                       : NULL;
}

/* The reference: td_doc_match of the period filter, grouped by hand. */
static void reference(int64_t from, int64_t to, counts *out)
{
    bson_t filter = BSON_INITIALIZER, range;
    if (from != TD_TALLY_NO_BOUND || to != TD_TALLY_NO_BOUND) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "createdAt", &range);
        if (from != TD_TALLY_NO_BOUND)
            BSON_APPEND_DATE_TIME(&range, "$gte", from);
        if (to != TD_TALLY_NO_BOUND)
            BSON_APPEND_DATE_TIME(&range, "$lte", to);
        bson_append_document_end(&filter, &range);
    }
    static char keys[NDOCS][96];
    static int64_t nkey[NDOCS];
    int nkeys = 0;
    for (int i = 0; i < NDOCS; i++) {
        if (!td_doc_match(&filter, docs[i]))
            continue;
        const char *v[3] = {str_of(docs[i], "action"), str_of(docs[i], "resourceType"),
                            str_of(docs[i], "severity")};
        char k[96];
        snprintf(k, sizeof k, "%s|%s|%s", v[0] ? v[0] : "-", v[1] ? v[1] : "-", v[2] ? v[2] : "-");
        int j = 0;
        while (j < nkeys && strcmp(keys[j], k) != 0)
            j++;
        if (j == nkeys) {
            snprintf(keys[nkeys], sizeof keys[0], "%s", k);
            nkey[nkeys++] = 0;
        }
        nkey[j]++;
    }
    out->n = 0;
    for (int j = 0; j < nkeys; j++)
        snprintf(out->lines[out->n++], sizeof out->lines[0], "%.96s=%lld", keys[j],
                 (long long)nkey[j]);
    qsort(out->lines, (size_t)out->n, sizeof out->lines[0], by_line);
    bson_destroy(&filter);
}

static void same_counts(const td_tally *t, int64_t from, int64_t to)
{
    static counts got, want;
    got.n = 0;
    td_tally_each(t, from, to, collect, &got);
    qsort(got.lines, (size_t)got.n, sizeof got.lines[0], by_line);
    reference(from, to, &want);
    ck_assert_msg(got.n == want.n, "[%lld, %lld]: %d keys, reference %d", (long long)from,
                  (long long)to, got.n, want.n);
    for (int i = 0; i < got.n; i++)
        ck_assert_msg(strcmp(got.lines[i], want.lines[i]) == 0, "[%lld, %lld]: %s, reference %s",
                      (long long)from, (long long)to, got.lines[i], want.lines[i]);
}

START_TEST(tally_counts_periods_like_the_reference)
{
    td_tally *t;
    ck_assert_int_eq(td_tally_new(&t, fields, "createdAt"), TD_OK);
    for (int i = 0; i < NDOCS; i++)
        ck_assert_int_eq(td_tally_add(t, docs[i]), TD_OK);
    ck_assert_int_eq(td_tally_total(t), NDOCS);
    ck_assert_uint_gt(td_tally_bytes(t), NDOCS * sizeof(int64_t) / 2);
    same_counts(t, TD_TALLY_NO_BOUND, TD_TALLY_NO_BOUND);
    same_counts(t, BASE_MS, TD_TALLY_NO_BOUND);
    same_counts(t, TD_TALLY_NO_BOUND, BASE_MS + 40 * DAY_MS);
    same_counts(t, BASE_MS + 10 * DAY_MS, BASE_MS + 10 * DAY_MS + DAY_MS - 1);
    same_counts(t, BASE_MS + 100 * DAY_MS, BASE_MS + 100 * DAY_MS); /* one instant */
    same_counts(t, BASE_MS + 20000, BASE_MS + 20000);               /* an in-order stamp */
    same_counts(t, BASE_MS - 5 * DAY_MS, BASE_MS - 1);              /* before everything */
    same_counts(t, BASE_MS + 400 * DAY_MS, TD_TALLY_NO_BOUND);      /* after everything */
    for (int k = 0; k < 40; k++) {
        int64_t a = BASE_MS + (int64_t)(next_rand() % 370) * DAY_MS / 2 + next_rand() % 5000;
        int64_t b = a + (int64_t)(next_rand() % 90) * DAY_MS + next_rand() % 99999;
        same_counts(t, a, b);
    }
    td_tally_free(t);
}
END_TEST

START_TEST(tally_empty_counts_nothing)
{
    td_tally *t;
    ck_assert_int_eq(td_tally_new(&t, fields, "createdAt"), TD_OK);
    counts got = {.n = 0};
    td_tally_each(t, TD_TALLY_NO_BOUND, TD_TALLY_NO_BOUND, collect, &got);
    ck_assert_int_eq(got.n, 0);
    ck_assert_int_eq(td_tally_total(t), 0);
    td_tally_free(t);
    const char *const five[] = {"a", "b", "c", "d", "e", NULL};
    ck_assert_int_eq(td_tally_new(&t, five, "createdAt"), TD_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tally");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tally_counts_periods_like_the_reference);
    tcase_add_test(tc, tally_empty_counts_nothing);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
