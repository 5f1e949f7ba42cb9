/* Unit tests of shared/src/config.c: environment readers with defaults, bounds and
 * the accepted boolean spellings. */
#include "tripdesk/config.h"

#include "run_suite.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VAR "TRIPDESK_UNIT_TEST_VALUE"

/* Tests share one process when CK_FORK=no: start and end without the variable. */
static void clear_env(void)
{
    unsetenv(VAR);
}

static int64_t env_int(const char *value, int64_t def, int64_t min, int64_t max)
{
    setenv(VAR, value, 1);
    return td_env_int(VAR, def, min, max);
}

static bool env_bool(const char *value, bool def)
{
    setenv(VAR, value, 1);
    return td_env_bool(VAR, def);
}

/* ---- td_env_str ---- */

START_TEST(env_str_unset_is_default)
{
    ck_assert_str_eq(td_env_str(VAR, "fallback"), "fallback");
    ck_assert_ptr_null(td_env_str(VAR, NULL));
}
END_TEST

START_TEST(env_str_empty_is_default)
{
    setenv(VAR, "", 1);
    ck_assert_str_eq(td_env_str(VAR, "fallback"), "fallback");
    ck_assert_ptr_null(td_env_str(VAR, NULL));
}
END_TEST

START_TEST(env_str_returns_value_verbatim)
{
    setenv(VAR, "mongodb://db:27017", 1);
    ck_assert_str_eq(td_env_str(VAR, "fallback"), "mongodb://db:27017");
    setenv(VAR, " ", 1);
    ck_assert_str_eq(td_env_str(VAR, "fallback"), " ");
}
END_TEST

/* ---- td_env_int ---- */

START_TEST(env_int_unset_or_empty_is_default)
{
    ck_assert_int_eq(td_env_int(VAR, 8, 1, 64), 8);
    ck_assert_int_eq(env_int("", 8, 1, 64), 8);
}
END_TEST

START_TEST(env_int_parses_decimal_value)
{
    ck_assert_int_eq(env_int("42", 8, 1, 64), 42);
    ck_assert_int_eq(env_int("+7", 8, 1, 64), 7);
    ck_assert_int_eq(env_int("-5", 0, -10, 10), -5);
    ck_assert_int_eq(env_int("007", 8, 1, 64), 7);
}
END_TEST

START_TEST(env_int_bounds_are_inclusive)
{
    ck_assert_int_eq(env_int("1", 8, 1, 64), 1);
    ck_assert_int_eq(env_int("64", 8, 1, 64), 64);
}
END_TEST

START_TEST(env_int_out_of_bounds_is_default)
{
    ck_assert_int_eq(env_int("0", 8, 1, 64), 8);
    ck_assert_int_eq(env_int("65", 8, 1, 64), 8);
    ck_assert_int_eq(env_int("-1", 8, 1, 64), 8);
    ck_assert_int_eq(env_int("1000000", 5000, 100, 60000), 5000);
}
END_TEST

START_TEST(env_int_invalid_text_is_default)
{
    static const char *const bad[] = {"abc", "42abc", "42 ", "4 2", "1.5", "0x10",
                                      "-",   "+",     " ",   "1e3", "ten"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(env_int(bad[i], 8, 0, 1000000) == 8, "'%s' was accepted", bad[i]);
}
END_TEST

START_TEST(env_int_overflow_is_default)
{
    ck_assert_int_eq(env_int("9223372036854775808", 8, INT64_MIN, INT64_MAX), 8);
    ck_assert_int_eq(env_int("-9223372036854775809", 8, INT64_MIN, INT64_MAX), 8);
    ck_assert_int_eq(env_int("99999999999999999999999", 8, INT64_MIN, INT64_MAX), 8);
}
END_TEST

START_TEST(env_int_accepts_int64_extremes)
{
    ck_assert_int_eq(env_int("9223372036854775807", 8, INT64_MIN, INT64_MAX), INT64_MAX);
    ck_assert_int_eq(env_int("-9223372036854775808", 8, INT64_MIN, INT64_MAX), INT64_MIN);
}
END_TEST

/* ---- td_env_bool ---- */

START_TEST(env_bool_unset_or_empty_is_default)
{
    ck_assert(td_env_bool(VAR, true));
    ck_assert(!td_env_bool(VAR, false));
    ck_assert(env_bool("", true));
    ck_assert(!env_bool("", false));
}
END_TEST

START_TEST(env_bool_true_spellings)
{
    static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "True", "YES", "On"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert_msg(env_bool(yes[i], false), "'%s' is not true", yes[i]);
}
END_TEST

START_TEST(env_bool_false_spellings)
{
    static const char *const no[] = {"0", "false", "no", "off", "FALSE", "False", "NO", "oFF"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(!env_bool(no[i], true), "'%s' is not false", no[i]);
}
END_TEST

START_TEST(env_bool_unrecognised_is_default)
{
    static const char *const other[] = {"2",     "y",     "n",     "t",  "enabled",
                                        "truee", " true", "true ", "-1", "01"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        ck_assert_msg(env_bool(other[i], true), "'%s' with default true", other[i]);
        ck_assert_msg(!env_bool(other[i], false), "'%s' with default false", other[i]);
    }
}
END_TEST

/* ---- td_env_choice ---- */

static const char *const modes[] = {"auto", "on", "off", NULL};

START_TEST(env_choice_unset_or_empty_is_default)
{
    int v = -1;
    char why[128];
    ck_assert_int_eq(td_env_choice(VAR, modes, 0, &v, why, sizeof why), 0);
    ck_assert_int_eq(v, 0);
    setenv(VAR, "", 1);
    v = -1;
    ck_assert_int_eq(td_env_choice(VAR, modes, 2, &v, why, sizeof why), 0);
    ck_assert_int_eq(v, 2);
}
END_TEST

START_TEST(env_choice_gives_the_index)
{
    int v = -1;
    char why[128];
    setenv(VAR, "off", 1);
    ck_assert_int_eq(td_env_choice(VAR, modes, 0, &v, why, sizeof why), 0);
    ck_assert_int_eq(v, 2);
    setenv(VAR, "on", 1);
    ck_assert_int_eq(td_env_choice(VAR, modes, 0, &v, why, sizeof why), 0);
    ck_assert_int_eq(v, 1);
}
END_TEST

START_TEST(env_choice_rejects_anything_else_and_says_why)
{
    const char *bad[] = {"OFF", "true", "of", "on ", "auto,on"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int v = -1;
        char why[128];
        setenv(VAR, bad[i], 1);
        ck_assert_int_lt(td_env_choice(VAR, modes, 0, &v, why, sizeof why), 0);
        ck_assert_int_eq(v, 0);
        ck_assert_ptr_nonnull(strstr(why, VAR));
        ck_assert_ptr_nonnull(strstr(why, "auto, on, off"));
        ck_assert_ptr_nonnull(strstr(why, bad[i]));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("env");
    tcase_add_checked_fixture(tc, clear_env, clear_env);
    tcase_add_test(tc, env_str_unset_is_default);
    tcase_add_test(tc, env_str_empty_is_default);
    tcase_add_test(tc, env_str_returns_value_verbatim);
    tcase_add_test(tc, env_int_unset_or_empty_is_default);
    tcase_add_test(tc, env_int_parses_decimal_value);
    tcase_add_test(tc, env_int_bounds_are_inclusive);
    tcase_add_test(tc, env_int_out_of_bounds_is_default);
    tcase_add_test(tc, env_int_invalid_text_is_default);
    tcase_add_test(tc, env_int_overflow_is_default);
    tcase_add_test(tc, env_int_accepts_int64_extremes);
    tcase_add_test(tc, env_bool_unset_or_empty_is_default);
    tcase_add_test(tc, env_bool_true_spellings);
    tcase_add_test(tc, env_bool_false_spellings);
    tcase_add_test(tc, env_bool_unrecognised_is_default);
    tcase_add_test(tc, env_choice_unset_or_empty_is_default);
    tcase_add_test(tc, env_choice_gives_the_index);
    tcase_add_test(tc, env_choice_rejects_anything_else_and_says_why);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
