/* Unit tests of services/booking/slots.c, the pure part of the booking conflict check:
 * which entries of a customer's slot document block a new reservation (overlap at the
 * same destination, inclusive days; young entries count, old ones are checked), a
 * retried reservation found again, what settling keeps, and the conflict described. */
#include "slots.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400000LL
#define T0 1798761600000LL /* 2027-01-01 */
#define NOW (T0 - 100 * DAY)

static slot_entry entry(int booking, const char *dest, int from_day, int to_day, int64_t at)
{
    slot_entry e;
    memset(&e, 0, sizeof e);
    char hex[25];
    snprintf(hex, sizeof hex, "%024x", 0xb00000 + booking);
    bson_oid_init_from_string(&e.booking, hex);
    snprintf(e.reference, sizeof e.reference, "TD-%d", booking);
    snprintf(e.dest, sizeof e.dest, "%s", dest);
    e.start_ms = T0 + from_day * DAY;
    e.end_ms = T0 + to_day * DAY;
    e.at_ms = at;
    return e;
}

START_TEST(overlap_is_inclusive_and_per_destination)
{
    slot_entry e = entry(1, "paris", 10, 15, NOW);
    ck_assert(slot_overlaps(&e, "paris", T0 + 15 * DAY, T0 + 20 * DAY)); /* same last day */
    ck_assert(slot_overlaps(&e, "paris", T0 + 5 * DAY, T0 + 10 * DAY));  /* same first day */
    ck_assert(slot_overlaps(&e, "paris", T0 + 11 * DAY, T0 + 12 * DAY)); /* inside */
    ck_assert(slot_overlaps(&e, "paris", T0, T0 + 30 * DAY));            /* around */
    ck_assert(!slot_overlaps(&e, "paris", T0 + 16 * DAY, T0 + 20 * DAY));
    ck_assert(!slot_overlaps(&e, "paris", T0, T0 + 9 * DAY));
    ck_assert(!slot_overlaps(&e, "rome", T0 + 11 * DAY, T0 + 12 * DAY));
    ck_assert(!slot_overlaps(&e, "par", T0 + 11 * DAY, T0 + 12 * DAY)); /* whole key */
}
END_TEST

START_TEST(young_overlaps_block_old_ones_are_checked_own_ones_never_count)
{
    slot_entry mine = entry(9, "paris", 12, 14, 0);
    slot_entry young = entry(1, "paris", 10, 15, NOW - SLOT_GRACE_MS + 1);
    slot_entry old = entry(1, "paris", 10, 15, NOW - SLOT_GRACE_MS);
    slot_entry own = entry(9, "paris", 10, 15, NOW);
    slot_entry elsewhere = entry(2, "rome", 10, 15, NOW);
    slot_entry later = entry(3, "paris", 15, 20, NOW);
    ck_assert_int_eq(slot_judge(&young, &mine, NOW), SLOT_HELD);
    ck_assert_int_eq(slot_judge(&old, &mine, NOW), SLOT_CHECK);
    ck_assert_int_eq(slot_judge(&own, &mine, NOW), SLOT_FREE);
    ck_assert_int_eq(slot_judge(&elsewhere, &mine, NOW), SLOT_FREE);
    ck_assert_int_eq(slot_judge(&later, &mine, NOW), SLOT_FREE);
}
END_TEST

START_TEST(a_retried_reservation_is_found_again_only_exactly)
{
    slot_entry v[] = {entry(1, "paris", 1, 3, NOW), entry(9, "paris", 12, 14, NOW)};
    slot_list l = {v, 2, 2, 3};
    slot_entry mine = entry(9, "paris", 12, 14, 0);
    ck_assert(slot_has_same(&l, &mine));
    mine.end_ms += DAY;
    ck_assert(!slot_has_same(&l, &mine));
    slot_entry moved = entry(9, "rome", 12, 14, 0);
    ck_assert(!slot_has_same(&l, &moved));
    slot_entry other = entry(1, "paris", 12, 14, 0);
    ck_assert(!slot_has_same(&l, &other));
}
END_TEST

START_TEST(settling_keeps_the_range_held_and_drops_the_others_of_that_booking)
{
    slot_entry v[] = {entry(1, "paris", 1, 3, NOW), entry(9, "paris", 12, 14, NOW),
                      entry(9, "paris", 20, 25, NOW), entry(2, "paris", 12, 14, NOW)};
    slot_list l = {v, 4, 4, 7};
    /* booking 9 moved to days 20-25: its old range goes, the others' stay, in order */
    ck_assert(slot_keep_only(&l, &v[1].booking, "paris", T0 + 20 * DAY, T0 + 25 * DAY));
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.v[0].reference, "TD-1");
    ck_assert_int_eq(l.v[1].start_ms, T0 + 20 * DAY);
    ck_assert_str_eq(l.v[2].reference, "TD-2");
    ck_assert_int_eq(l.version, 7);
    /* nothing to drop: unchanged */
    ck_assert(!slot_keep_only(&l, &l.v[1].booking, "paris", T0 + 20 * DAY, T0 + 25 * DAY));
    ck_assert_uint_eq(l.n, 3);
    /* cancelled (dest NULL): every range of booking 9 goes */
    bson_oid_t nine = l.v[1].booking;
    ck_assert(slot_keep_only(&l, &nine, NULL, 0, 0));
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.v[1].reference, "TD-2");
}
END_TEST

START_TEST(the_conflict_names_the_booking_and_says_whether_it_is_identical)
{
    slot_entry e = entry(1, "paris", 10, 15, NOW);
    conflict c;
    slot_conflict(&e, T0 + 10 * DAY, T0 + 15 * DAY, &c);
    ck_assert_str_eq(c.id, "000000000000000000b00001");
    ck_assert_str_eq(c.reference, "TD-1");
    ck_assert_int_eq(c.start_ms, e.start_ms);
    ck_assert_int_eq(c.end_ms, e.end_ms);
    ck_assert(c.exact);
    slot_conflict(&e, T0 + 11 * DAY, T0 + 15 * DAY, &c);
    ck_assert(!c.exact);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slots");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, overlap_is_inclusive_and_per_destination);
    tcase_add_test(tc, young_overlaps_block_old_ones_are_checked_own_ones_never_count);
    tcase_add_test(tc, a_retried_reservation_is_found_again_only_exactly);
    tcase_add_test(tc, settling_keeps_the_range_held_and_drops_the_others_of_that_booking);
    tcase_add_test(tc, the_conflict_names_the_booking_and_says_whether_it_is_identical);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
