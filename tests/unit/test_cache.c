/* Unit tests of shared/src/cache.c without Redis: registering cached lists (the
 * services' own definitions; shared/ holds none) and the scope of an entry. */
#include "tripdesk/cache.h"
#include "tripdesk/permissions.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

static const td_cached_list lists[] = {
    {"/api/things", "things", "canViewAllBookings"},
    {"/api/others", "others", "canViewAllLeads"},
};

static void clear(void)
{
    td_cached_lists_clear();
}

START_TEST(nothing_is_cached_before_a_service_registers)
{
    ck_assert_ptr_null(td_cached_list_find("/api/bookings"));
    ck_assert_ptr_null(td_cached_list_find("/api/things"));
}
END_TEST

START_TEST(registered_lists_are_found_by_exact_path)
{
    ck_assert_int_eq(td_cached_lists_register(lists, 2), 0);
    ck_assert_ptr_eq(td_cached_list_find("/api/things"), &lists[0]);
    ck_assert_ptr_eq(td_cached_list_find("/api/others"), &lists[1]);
    ck_assert_ptr_null(td_cached_list_find("/api/things/1"));
    ck_assert_ptr_null(td_cached_list_find("/api/thing"));
    ck_assert_ptr_null(td_cached_list_find(NULL));
}
END_TEST

START_TEST(bad_or_repeated_registrations_are_refused_whole)
{
    static const td_cached_list unknown_perm[] = {{"/api/x", "x", "canDoAnything"}};
    static const td_cached_list no_ns[] = {{"/api/y", NULL, "canViewAllLeads"}};
    static const td_cached_list long_ns[] = {
        {"/api/z", "a-namespace-far-too-long-for-the-key-buffers-of-the-cache", "canViewAllLeads"}};
    static const td_cached_list half_dup[] = {{"/api/new", "new", "canViewAllLeads"},
                                              {"/api/things", "things2", "canViewAllLeads"}};
    ck_assert_int_lt(td_cached_lists_register(unknown_perm, 1), 0);
    ck_assert_int_lt(td_cached_lists_register(no_ns, 1), 0);
    ck_assert_int_lt(td_cached_lists_register(long_ns, 1), 0);
    ck_assert_int_eq(td_cached_lists_register(lists, 2), 0);
    ck_assert_int_lt(td_cached_lists_register(lists, 1), 0);
    ck_assert_int_lt(td_cached_lists_register(half_dup, 2), 0);
    ck_assert_ptr_null(td_cached_list_find("/api/new")); /* nothing of a refused table */
    ck_assert_ptr_null(td_cached_list_find("/api/x"));
}
END_TEST

START_TEST(scope_is_all_only_with_the_lists_permission)
{
    int bookings = td_permission_index("canViewAllBookings");
    int leads = td_permission_index("canViewAllLeads");
    ck_assert_int_ge(bookings, 0);
    ck_assert_int_ge(leads, 0);
    const char *me = "64b000000000000000000001";
    ck_assert_str_eq(td_cache_scope(1u << bookings, lists[0].view_all, me), "all");
    ck_assert_str_eq(td_cache_scope(1u << bookings, lists[1].view_all, me), me);
    ck_assert_str_eq(td_cache_scope(0, lists[0].view_all, me), me);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("lists");
    tcase_add_checked_fixture(tc, clear, clear);
    tcase_add_test(tc, nothing_is_cached_before_a_service_registers);
    tcase_add_test(tc, registered_lists_are_found_by_exact_path);
    tcase_add_test(tc, bad_or_repeated_registrations_are_refused_whole);
    tcase_add_test(tc, scope_is_all_only_with_the_lists_permission);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
