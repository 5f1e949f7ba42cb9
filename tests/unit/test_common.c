/* Unit tests of shared/src/common.c: ObjectId generation and validation, ISO-8601
 * time formatting, clocks, bounded formatting (td_fmt) and result-code names. */
#include "tripdesk/common.h"

#include "run_suite.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANY_IDS 100000
#define ID_THREADS 4
#define IDS_PER_THREAD 25000

static int cmp_ids(const void *a, const void *b)
{
    return memcmp(a, b, 25);
}

/* Fails when two of the n ids (25-byte strings) are equal; sorts ids. */
static void assert_unique(char (*ids)[25], size_t n)
{
    qsort(ids, n, sizeof ids[0], cmp_ids);
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "duplicate id %s", ids[i]);
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* ---- td_new_id ---- */

START_TEST(new_id_is_24_lowercase_hex_digits)
{
    char id[25];
    memset(id, 'x', sizeof id);
    td_new_id(id);
    ck_assert_uint_eq(strlen(id), 24);
    ck_assert_msg(is_lower_hex(id, 24), "bad id %s", id);
    ck_assert(td_is_object_id(id));
}
END_TEST

START_TEST(new_id_starts_with_current_unix_seconds)
{
    int64_t before = td_now_ms() / 1000;
    char id[25];
    td_new_id(id);
    int64_t after = td_now_ms() / 1000;
    char secs_hex[9];
    memcpy(secs_hex, id, 8);
    secs_hex[8] = '\0';
    int64_t secs = (int64_t)strtoll(secs_hex, NULL, 16);
    ck_assert_int_ge(secs, before);
    ck_assert_int_le(secs, after);
}
END_TEST

START_TEST(new_id_keeps_process_part_and_counts_up)
{
    char a[25], b[25];
    td_new_id(a);
    td_new_id(b);
    /* Bytes 4..8 (hex digits 8..17) are the per-process random part. */
    ck_assert_int_eq(memcmp(a + 8, b + 8, 10), 0);
    unsigned long ca = strtoul(a + 18, NULL, 16), cb = strtoul(b + 18, NULL, 16);
    ck_assert_uint_eq(cb, (ca + 1) & 0xffffff);
}
END_TEST

START_TEST(new_id_is_unique_over_100k_ids)
{
    char(*ids)[25] = malloc(MANY_IDS * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    for (int i = 0; i < MANY_IDS; i++) {
        td_new_id(ids[i]);
        ck_assert(td_is_object_id(ids[i]));
    }
    assert_unique(ids, MANY_IDS);
    free(ids);
}
END_TEST

static void *make_ids(void *arg)
{
    char(*ids)[25] = arg;
    for (int i = 0; i < IDS_PER_THREAD; i++)
        td_new_id(ids[i]);
    return NULL;
}

START_TEST(new_id_is_unique_across_threads)
{
    char(*ids)[25] = malloc((size_t)ID_THREADS * IDS_PER_THREAD * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    pthread_t th[ID_THREADS];
    for (int t = 0; t < ID_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, make_ids, ids + t * IDS_PER_THREAD), 0);
    for (int t = 0; t < ID_THREADS; t++)
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    assert_unique(ids, (size_t)ID_THREADS * IDS_PER_THREAD);
    free(ids);
}
END_TEST

/* ---- td_is_object_id ---- */

START_TEST(grow_doubles_a_full_array_and_keeps_its_elements)
{
    int *v = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 40; n++) {
        ck_assert_int_eq(td_grow((void **)&v, &cap, n, sizeof *v, 4), TD_OK);
        ck_assert_uint_gt(cap, n);
        v[n] = (int)n;
    }
    ck_assert_uint_eq(cap, 64);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(v[i], i);
    free(v);
}
END_TEST

START_TEST(hash_is_fnv1a)
{
    /* published FNV-1a (32 bit) test vectors */
    ck_assert_uint_eq(td_hash("", 0), 0x811c9dc5u);
    ck_assert_uint_eq(td_hash("a", 1), 0xe40c292cu);
    ck_assert_uint_eq(td_hash("foobar", 6), 0xbf9cf968u);
}
END_TEST

START_TEST(is_object_id_accepts_24_hex_digits)
{
    ck_assert(td_is_object_id("507f1f77bcf86cd799439011"));
    ck_assert(td_is_object_id("000000000000000000000000"));
    ck_assert(td_is_object_id("ffffffffffffffffffffffff"));
    ck_assert(td_is_object_id("507F1F77BCF86CD799439011"));
    ck_assert(td_is_object_id("507f1F77bcF86cd799439011"));
}
END_TEST

START_TEST(is_object_id_rejects_wrong_length)
{
    ck_assert(!td_is_object_id(NULL));
    ck_assert(!td_is_object_id(""));
    ck_assert(!td_is_object_id("507f1f77bcf86cd79943901"));   /* 23 */
    ck_assert(!td_is_object_id("507f1f77bcf86cd7994390111")); /* 25 */
    ck_assert(!td_is_object_id("507f1f77bcf86cd799439011 "));
    ck_assert(!td_is_object_id("abc"));
}
END_TEST

START_TEST(is_object_id_rejects_non_hex)
{
    ck_assert(!td_is_object_id("507f1f77bcf86cd79943901g"));
    ck_assert(!td_is_object_id("g07f1f77bcf86cd799439011"));
    ck_assert(!td_is_object_id("507f1f77-bcf86cd79943901"));
    ck_assert(!td_is_object_id(" 507f1f77bcf86cd79943901"));
    ck_assert(!td_is_object_id("0x507f1f77bcf86cd7994390"));
    ck_assert(!td_is_object_id("{\"$ne\":null}xxxxxxxxxxxx"));
}
END_TEST

START_TEST(is_object_id_stops_at_short_string_without_overread)
{
    /* An exact-size heap buffer: ASan/valgrind catch any read past the NUL. */
    char *s = malloc(4);
    ck_assert_ptr_nonnull(s);
    memcpy(s, "abc", 4);
    ck_assert(!td_is_object_id(s));
    free(s);
    char *full = malloc(25);
    ck_assert_ptr_nonnull(full);
    memcpy(full, "507f1f77bcf86cd799439011", 25);
    ck_assert(td_is_object_id(full));
    free(full);
}
END_TEST

/* ---- td_iso_time ---- */

static void assert_iso(int64_t ms, const char *want)
{
    char buf[TD_ISO_TIME_LEN];
    memset(buf, 'x', sizeof buf);
    td_iso_time(ms, buf);
    ck_assert_str_eq(buf, want);
}

START_TEST(iso_time_formats_epoch)
{
    assert_iso(0, "1970-01-01T00:00:00.000Z");
}
END_TEST

START_TEST(iso_time_formats_known_instant)
{
    assert_iso(1771061400000, "2026-02-14T09:30:00.000Z");
}
END_TEST

START_TEST(iso_time_keeps_milliseconds)
{
    assert_iso(1000000000123, "2001-09-09T01:46:40.123Z");
    assert_iso(1, "1970-01-01T00:00:00.001Z");
    assert_iso(999, "1970-01-01T00:00:00.999Z");
    assert_iso(1771061400050, "2026-02-14T09:30:00.050Z");
}
END_TEST

START_TEST(iso_time_handles_leap_day_and_year_ends)
{
    assert_iso(951782400999, "2000-02-29T00:00:00.999Z");
    assert_iso(951868799000, "2000-02-29T23:59:59.000Z");
    assert_iso(4102444800000, "2100-01-01T00:00:00.000Z");
    assert_iso(253402300799999, "9999-12-31T23:59:59.999Z");
}
END_TEST

START_TEST(iso_time_formats_whole_seconds_before_epoch)
{
    assert_iso(-1000, "1969-12-31T23:59:59.000Z");
    assert_iso(-14182940000, "1969-07-20T20:17:40.000Z");
}
END_TEST

START_TEST(iso_time_handles_instants_past_2038)
{
    assert_iso(2147483648000, "2038-01-19T03:14:08.000Z");
}
END_TEST

/* ---- clocks ---- */

START_TEST(now_ms_is_wall_clock_milliseconds)
{
    int64_t now = td_now_ms();
    /* Between 2020-01-01 and 2100-01-01. */
    ck_assert_int_gt(now, 1577836800000);
    ck_assert_int_lt(now, 4102444800000);
}
END_TEST

START_TEST(sleep_ms_waits_at_least_that_long_on_monotonic_clock)
{
    int64_t t0 = td_mono_ms();
    td_sleep_ms(30);
    int64_t t1 = td_mono_ms();
    ck_assert_int_ge(t1 - t0, 30);
    td_sleep_ms(0);
    ck_assert_int_ge(td_mono_ms(), t1);
}
END_TEST

/* ---- td_strerror ---- */

START_TEST(strerror_names_every_code)
{
    ck_assert_str_eq(td_strerror(TD_OK), "ok");
    ck_assert_str_eq(td_strerror(TD_ENOMEM), "out of memory");
    ck_assert_str_eq(td_strerror(TD_EINVAL), "invalid input");
    ck_assert_str_eq(td_strerror(TD_ENOTFOUND), "not found");
    ck_assert_str_eq(td_strerror(TD_ECONFLICT), "conflict");
    ck_assert_str_eq(td_strerror(TD_EUNAVAIL), "dependency unavailable");
    ck_assert_str_eq(td_strerror(TD_ETIMEDOUT), "timed out");
    ck_assert_str_eq(td_strerror(TD_EMETHOD), "method not allowed");
    ck_assert_str_eq(td_strerror(TD_EIO), "i/o error");
    ck_assert_str_eq(td_strerror(TD_EDEADLINE), "deadline exceeded");
    ck_assert_str_eq(td_strerror(TD_EAGAIN), "busy, retry later");
}
END_TEST

START_TEST(strerror_of_unknown_code_is_unknown_error)
{
    ck_assert_str_eq(td_strerror(1), "unknown error");
    ck_assert_str_eq(td_strerror(-99), "unknown error");
    ck_assert_str_eq(td_strerror(-1000), "unknown error");
}
END_TEST

START_TEST(deadline_left_is_time_to_deadline_less_margin)
{
    int64_t now = td_now_ms();
    int64_t left = td_deadline_left_ms(now + 1000);
    ck_assert_int_le(left, 1000 - TD_DEADLINE_MARGIN_MS);
    ck_assert_int_ge(left, 1000 - TD_DEADLINE_MARGIN_MS - 50);
    ck_assert_int_le(td_deadline_left_ms(now + TD_DEADLINE_MARGIN_MS), 0);
    ck_assert_int_lt(td_deadline_left_ms(now - 5000), -5000);
}
END_TEST

START_TEST(no_deadline_leaves_all_the_time_and_never_passes)
{
    ck_assert(td_deadline_left_ms(0) == INT64_MAX);
    ck_assert(!td_deadline_passed(0));
}
END_TEST

START_TEST(deadline_passes_at_the_deadline_itself)
{
    int64_t now = td_now_ms();
    ck_assert(td_deadline_passed(now - 1));
    ck_assert(!td_deadline_passed(now + 60000));
}
END_TEST

START_TEST(deadline_after_is_now_plus_the_timeout)
{
    int64_t before = td_now_ms();
    int64_t d = td_deadline_after(5000);
    int64_t after = td_now_ms();
    ck_assert_int_ge(d, before + 5000);
    ck_assert_int_le(d, after + 5000);
}
END_TEST

START_TEST(deadline_timeout_is_left_less_margin_but_never_below_the_floor)
{
    int64_t now = td_now_ms();
    int64_t t = td_deadline_timeout_ms(now + 1000, 1);
    ck_assert_int_le(t, 1000 - TD_DEADLINE_MARGIN_MS);
    ck_assert_int_ge(t, 1000 - TD_DEADLINE_MARGIN_MS - 50);
    ck_assert_int_eq(td_deadline_timeout_ms(now + TD_DEADLINE_MARGIN_MS / 2, 1), 1);
    ck_assert_int_eq(td_deadline_timeout_ms(now - 5000, 0), 0);
    ck_assert(td_deadline_timeout_ms(0, 1) == INT64_MAX);
}
END_TEST

START_TEST(deadline_until_has_no_margin_and_a_floor)
{
    int64_t now = td_now_ms();
    int64_t u = td_deadline_until_ms(now + 1000, 1);
    ck_assert_int_le(u, 1000);
    ck_assert_int_ge(u, 1000 - 50);
    ck_assert_int_gt(u, td_deadline_left_ms(now + 1000)); /* the margin is not taken */
    ck_assert_int_eq(td_deadline_until_ms(now - 5000, 1), 1);
    ck_assert(td_deadline_until_ms(0, 1) == INT64_MAX);
}
END_TEST

START_TEST(deadline_overdue_counts_from_the_deadline)
{
    int64_t now = td_now_ms();
    int64_t o = td_deadline_overdue_ms(now - 3000);
    ck_assert_int_ge(o, 3000);
    ck_assert_int_le(o, 3000 + 50);
    ck_assert_int_lt(td_deadline_overdue_ms(now + 60000), 0);
    ck_assert_int_eq(td_deadline_overdue_ms(0), 0);
}
END_TEST

static void *other_thread_deadline(void *arg)
{
    *(int64_t *)arg = td_deadline_current();
    return NULL;
}

START_TEST(current_deadline_belongs_to_the_calling_thread)
{
    ck_assert_int_eq(td_deadline_current(), 0);
    td_deadline_set(12345);
    int64_t seen = -1;
    pthread_t t;
    pthread_create(&t, NULL, other_thread_deadline, &seen);
    pthread_join(t, NULL);
    ck_assert_int_eq(seen, 0);
    ck_assert_int_eq(td_deadline_current(), 12345);
    td_deadline_set(0);
    ck_assert_int_eq(td_deadline_current(), 0);
}
END_TEST

/* ---- td_fmt ---- */

START_TEST(fmt_that_fits_is_ok)
{
    char buf[16];
    ck_assert_int_eq(td_fmt(buf, sizeof buf, "%s-%d", "ab", 42), TD_OK);
    ck_assert_str_eq(buf, "ab-42");
}
END_TEST

START_TEST(fmt_that_exactly_fits_is_ok)
{
    char buf[6];
    ck_assert_int_eq(td_fmt(buf, sizeof buf, "%s%d", "abc", 12), TD_OK);
    ck_assert_str_eq(buf, "abc12");
}
END_TEST

START_TEST(fmt_truncated_is_einval_and_nul_terminated)
{
    char buf[6];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(td_fmt(buf, sizeof buf, "%s%d", "abc", 123), TD_EINVAL);
    ck_assert_str_eq(buf, "abc12");
    char one[1] = {'x'};
    ck_assert_int_eq(td_fmt(one, sizeof one, "%s", "a"), TD_EINVAL);
    ck_assert_int_eq(one[0], '\0');
    ck_assert_int_eq(td_fmt(one, sizeof one, "%s", ""), TD_OK);
}
END_TEST

START_TEST(fmt_text_cuts_at_a_character_boundary)
{
    char buf[6];
    td_fmt_text(buf, sizeof buf, "%s", "abc\xc3\xa9\xc3\xa9");        /* abcéé: 7 bytes */
    ck_assert_str_eq(buf, "abc\xc3\xa9");                             /* not half of the 2nd é */
    td_fmt_text(buf, sizeof buf, "%s", "ab\xe2\x82\xac\xe2\x82\xac"); /* ab€€ */
    ck_assert_str_eq(buf, "ab\xe2\x82\xac");
    td_fmt_text(buf, sizeof buf, "%s", "abcd\xe2\x82\xac"); /* the € would not fit at all */
    ck_assert_str_eq(buf, "abcd");
    td_fmt_text(buf, sizeof buf, "%s", "short");
    ck_assert_str_eq(buf, "short");
}
END_TEST

START_TEST(fmt_into_size_zero_writes_nothing_and_is_einval)
{
    char buf[4] = {'x', 'y', 'z', '\0'};
    ck_assert_int_eq(td_fmt(buf, 0, "%s", "a"), TD_EINVAL);
    ck_assert_int_eq(td_fmt(buf, 0, "%s", ""), TD_EINVAL);
    ck_assert_str_eq(buf, "xyz");
    ck_assert_int_eq(td_fmt(NULL, 0, "%d", 7), TD_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");

    TCase *ids = tcase_create("ids");
    tcase_set_timeout(ids, 60);
    tcase_add_test(ids, hash_is_fnv1a);
    tcase_add_test(ids, grow_doubles_a_full_array_and_keeps_its_elements);
    tcase_add_test(ids, new_id_is_24_lowercase_hex_digits);
    tcase_add_test(ids, new_id_starts_with_current_unix_seconds);
    tcase_add_test(ids, new_id_keeps_process_part_and_counts_up);
    tcase_add_test(ids, new_id_is_unique_over_100k_ids);
    tcase_add_test(ids, new_id_is_unique_across_threads);
    tcase_add_test(ids, is_object_id_accepts_24_hex_digits);
    tcase_add_test(ids, is_object_id_rejects_wrong_length);
    tcase_add_test(ids, is_object_id_rejects_non_hex);
    tcase_add_test(ids, is_object_id_stops_at_short_string_without_overread);
    suite_add_tcase(s, ids);

    TCase *clocks = tcase_create("time");
    tcase_add_test(clocks, iso_time_formats_epoch);
    tcase_add_test(clocks, iso_time_formats_known_instant);
    tcase_add_test(clocks, iso_time_keeps_milliseconds);
    tcase_add_test(clocks, iso_time_handles_leap_day_and_year_ends);
    tcase_add_test(clocks, iso_time_formats_whole_seconds_before_epoch);
    tcase_add_test(clocks, iso_time_handles_instants_past_2038);
    tcase_add_test(clocks, now_ms_is_wall_clock_milliseconds);
    tcase_add_test(clocks, sleep_ms_waits_at_least_that_long_on_monotonic_clock);
    tcase_add_test(clocks, deadline_left_is_time_to_deadline_less_margin);
    tcase_add_test(clocks, no_deadline_leaves_all_the_time_and_never_passes);
    tcase_add_test(clocks, deadline_passes_at_the_deadline_itself);
    tcase_add_test(clocks, deadline_after_is_now_plus_the_timeout);
    tcase_add_test(clocks, deadline_timeout_is_left_less_margin_but_never_below_the_floor);
    tcase_add_test(clocks, deadline_until_has_no_margin_and_a_floor);
    tcase_add_test(clocks, deadline_overdue_counts_from_the_deadline);
    tcase_add_test(clocks, current_deadline_belongs_to_the_calling_thread);
    suite_add_tcase(s, clocks);

    TCase *fmt = tcase_create("fmt");
    tcase_add_test(fmt, fmt_that_fits_is_ok);
    tcase_add_test(fmt, fmt_that_exactly_fits_is_ok);
    tcase_add_test(fmt, fmt_truncated_is_einval_and_nul_terminated);
    tcase_add_test(fmt, fmt_into_size_zero_writes_nothing_and_is_einval);
    tcase_add_test(fmt, fmt_text_cuts_at_a_character_boundary);
    suite_add_tcase(s, fmt);

    TCase *err = tcase_create("strerror");
    tcase_add_test(err, strerror_names_every_code);
    tcase_add_test(err, strerror_of_unknown_code_is_unknown_error);
    suite_add_tcase(s, err);

    return run_suite(s);
}
