/* Unit tests of shared/src/money.c: exact minor-unit parsing, formatting and sums. */
#include "tripdesk/common.h"
#include "tripdesk/money.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

START_TEST(three_times_ten_cents_is_thirty_cents)
{
    int64_t a, sum = 0;
    ck_assert_int_eq(td_money_parse("0.10", 2, &a), TD_OK);
    for (int i = 0; i < 3; i++)
        sum += a;
    char buf[TD_MONEY_TEXT_MAX];
    td_money_format(sum, 2, buf);
    ck_assert_str_eq(buf, "0.30");
    ck_assert_int_eq(sum, 30);
}
END_TEST

START_TEST(json_number_ten_cents_thrice_is_thirty_cents)
{
    int64_t a;
    ck_assert_int_eq(td_money_from_double(0.1, 2, &a), TD_OK);
    ck_assert_int_eq(a * 3, 30);
    ck_assert(td_money_to_double(a * 3, 2) == 0.3);
}
END_TEST

START_TEST(parse_accepts_fewer_places_and_whole_amounts)
{
    int64_t v;
    ck_assert_int_eq(td_money_parse("12", 2, &v), TD_OK);
    ck_assert_int_eq(v, 1200);
    ck_assert_int_eq(td_money_parse("12.5", 2, &v), TD_OK);
    ck_assert_int_eq(v, 1250);
    ck_assert_int_eq(td_money_parse("1.005", 3, &v), TD_OK);
    ck_assert_int_eq(v, 1005);
    ck_assert_int_eq(td_money_parse("700", 0, &v), TD_OK);
    ck_assert_int_eq(v, 700);
}
END_TEST

START_TEST(parse_refuses_extra_places_signs_and_junk)
{
    int64_t v = 42;
    const char *bad[] = {"0.105", "",   ".5",  "12.", "-1",          "+1", "1e3",
                         " 1",    "1 ", "1,5", "abc", "99999999999", NULL};
    for (int i = 0; bad[i] != NULL; i++)
        ck_assert_msg(td_money_parse(bad[i], 2, &v) == TD_EINVAL, "accepted %s", bad[i]);
    ck_assert_int_eq(td_money_parse("1.5", 0, &v), TD_EINVAL);
    ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(from_double_refuses_sub_minor_amounts)
{
    int64_t v;
    ck_assert_int_eq(td_money_from_double(0.105, 2, &v), TD_EINVAL);
    ck_assert_int_eq(td_money_from_double(10.5, 0, &v), TD_EINVAL);
    ck_assert_int_eq(td_money_from_double(-1, 2, &v), TD_EINVAL);
    ck_assert_int_eq(td_money_from_double(1e11, 2, &v), TD_EINVAL);
    ck_assert_int_eq(td_money_from_double(19.99, 2, &v), TD_OK);
    ck_assert_int_eq(v, 1999);
    ck_assert_int_eq(td_money_from_double(1234567.89, 2, &v), TD_OK);
    ck_assert_int_eq(v, 123456789);
}
END_TEST

START_TEST(format_pads_and_signs)
{
    char buf[TD_MONEY_TEXT_MAX];
    td_money_format(5, 2, buf);
    ck_assert_str_eq(buf, "0.05");
    td_money_format(-500, 2, buf);
    ck_assert_str_eq(buf, "-5.00");
    td_money_format(1200, 0, buf);
    ck_assert_str_eq(buf, "1200");
    td_money_format(1005, 3, buf);
    ck_assert_str_eq(buf, "1.005");
    td_money_format(INT64_MIN, 2, buf);
    ck_assert_str_eq(buf, "-92233720368547758.08");
}
END_TEST

START_TEST(decimals_follow_iso_4217)
{
    ck_assert_int_eq(td_money_decimals("INR"), 2);
    ck_assert_int_eq(td_money_decimals("USD"), 2);
    ck_assert_int_eq(td_money_decimals("JPY"), 0);
    ck_assert_int_eq(td_money_decimals("KWD"), 3);
    ck_assert_int_eq(td_money_decimals(NULL), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("money");
    TCase *tc = tcase_create("money");
    tcase_add_test(tc, three_times_ten_cents_is_thirty_cents);
    tcase_add_test(tc, json_number_ten_cents_thrice_is_thirty_cents);
    tcase_add_test(tc, parse_accepts_fewer_places_and_whole_amounts);
    tcase_add_test(tc, parse_refuses_extra_places_signs_and_junk);
    tcase_add_test(tc, from_double_refuses_sub_minor_amounts);
    tcase_add_test(tc, format_pads_and_signs);
    tcase_add_test(tc, decimals_follow_iso_4217);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
