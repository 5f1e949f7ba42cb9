/* Unit tests of shared/src/listcopies.c: TRIPDESK_LIST_COPIES read once per process,
 * auto undecided until a server was asked, a bad value refused. */
#include "tripdesk/listcopies.h"

#include "tripdesk/config.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>

static int configure(const char *value)
{
    if (value == NULL)
        unsetenv(TD_ENV_LIST_COPIES);
    else
        setenv(TD_ENV_LIST_COPIES, value, 1);
    return td_list_copies_configure();
}

static td_listindex *const some_copy = (td_listindex *)&some_copy; /* only compared */

START_TEST(unset_is_auto_and_undecided_without_a_server)
{
    ck_assert_int_eq(configure(NULL), TD_OK);
    ck_assert_int_eq(td_list_copies_use(), TD_COPIES_UNDECIDED);
    ck_assert_int_eq(td_list_copies_decide(NULL), TD_COPIES_UNDECIDED);
    ck_assert_ptr_null(td_list_copy_if_on(some_copy));
}
END_TEST

START_TEST(on_and_off_are_decided_without_asking)
{
    ck_assert_int_eq(configure("on"), TD_OK);
    ck_assert_int_eq(td_list_copies_use(), TD_COPIES_ON);
    ck_assert_int_eq(td_list_copies_decide(NULL), TD_COPIES_ON);
    ck_assert_ptr_eq(td_list_copy_if_on(some_copy), some_copy);
    ck_assert_ptr_null(td_list_copy_if_on(NULL));
    ck_assert_int_eq(configure("off"), TD_OK);
    ck_assert_int_eq(td_list_copies_use(), TD_COPIES_OFF);
    ck_assert_int_eq(td_list_copies_decide(NULL), TD_COPIES_OFF);
    ck_assert_ptr_null(td_list_copy_if_on(some_copy));
    ck_assert_int_eq(configure("auto"), TD_OK);
    ck_assert_int_eq(td_list_copies_use(), TD_COPIES_UNDECIDED);
}
END_TEST

START_TEST(a_bad_value_is_refused_and_changes_nothing)
{
    ck_assert_int_eq(configure("on"), TD_OK);
    const char *bad[] = {"OFF", "maybe", "1", "on "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(configure(bad[i]), TD_EINVAL);
        ck_assert_int_eq(td_list_copies_use(), TD_COPIES_ON);
    }
    unsetenv(TD_ENV_LIST_COPIES);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listcopies");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unset_is_auto_and_undecided_without_a_server);
    tcase_add_test(tc, on_and_off_are_decided_without_asking);
    tcase_add_test(tc, a_bad_value_is_refused_and_changes_nothing);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
