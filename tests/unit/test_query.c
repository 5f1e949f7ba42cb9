/* Unit tests of shared/src/query.c: the list query builder. */
#include "tripdesk/query.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = {"pending", "confirmed", NULL};
static const td_qp params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"customer", TD_QP_OID, "customer", NULL},
    {"minAmount", TD_QP_MIN, "amount", NULL},
    {"maxAmount", TD_QP_MAX, "amount", NULL},
    {"from", TD_QP_DATE_FROM, "start", NULL},
    {"to", TD_QP_DATE_TO, "start", NULL},
    {"isRead", TD_QP_BOOL, "isRead", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "amount", NULL};
static const char *const sort_fields[] = {"createdAt", "pricing.amount", NULL};
static const td_list_spec spec = {params, sort_names, sort_fields, "createdAt", -1};

/* Parses q; returns the HTTP status (200 when accepted) and the filter as JSON. */
static int parse(const char *q, char **filter_json)
{
    td_list l;
    td_res res = {0};
    int rc = td_list_parse(&spec, q, &l, &res);
    int status = rc == TD_OK ? 200 : res.status;
    if (filter_json != NULL)
        *filter_json = bson_as_relaxed_extended_json(&l.filter, NULL);
    td_list_free(&l);
    td_res_clear(&res);
    return status;
}

START_TEST(query_defaults_page_limit_and_sort)
{
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, "", &l, &res), TD_OK);
    ck_assert_int_eq(l.page, 1);
    ck_assert_int_eq(l.limit, TD_LIST_DEFAULT_LIMIT);
    char *sort = bson_as_relaxed_extended_json(&l.sort, NULL);
    ck_assert_str_eq(sort, "{ \"createdAt\" : -1, \"_id\" : -1 }");
    bson_free(sort);
    td_list_free(&l);
}
END_TEST

START_TEST(query_rejects_unknown_repeated_and_operator_parameters)
{
    ck_assert_int_eq(parse("nope=1", NULL), 400);
    ck_assert_int_eq(parse("status=pending&status=confirmed", NULL), 400);
    ck_assert_int_eq(parse("status%5B%24ne%5D=x", NULL), 400);
    ck_assert_int_eq(parse("status=weird", NULL), 400);
    ck_assert_int_eq(parse("limit=101", NULL), 400);
    ck_assert_int_eq(parse("limit=0", NULL), 400);
    ck_assert_int_eq(parse("page=abc", NULL), 400);
    ck_assert_int_eq(parse("sortBy=secret", NULL), 400);
    ck_assert_int_eq(parse("sortOrder=sideways", NULL), 400);
    ck_assert_int_eq(parse("customer=123", NULL), 400);
    ck_assert_int_eq(parse("minAmount=1e999", NULL), 400);
    ck_assert_int_eq(parse("minAmount=12abc", NULL), 400);
    ck_assert_int_eq(parse("from=2026-02-30", NULL), 400);
    ck_assert_int_eq(parse("from=", NULL), 400);
}
END_TEST

START_TEST(query_in_list_becomes_in_operator)
{
    char *f;
    ck_assert_int_eq(parse("status=pending,confirmed", &f), 200);
    ck_assert_str_eq(f, "{ \"status\" : { \"$in\" : [ \"pending\", \"confirmed\" ] } }");
    bson_free(f);
}
END_TEST

START_TEST(query_boolean_is_true_or_false_only)
{
    char *f;
    ck_assert_int_eq(parse("isRead=false", &f), 200);
    ck_assert_str_eq(f, "{ \"isRead\" : false }");
    bson_free(f);
    ck_assert_int_eq(parse("isRead=true", &f), 200);
    ck_assert_str_eq(f, "{ \"isRead\" : true }");
    bson_free(f);
    ck_assert_int_eq(parse("isRead=yes", NULL), 400);
    ck_assert_int_eq(parse("isRead=", NULL), 400);
}
END_TEST

START_TEST(query_search_is_escaped_lower_case_regex)
{
    char *f;
    ck_assert_int_eq(parse("search=Pa.ris%24", &f), 200);
    ck_assert_str_eq(f, "{ \"searchText\" : { \"$regex\" : \"pa\\\\.ris\\\\$\" } }");
    bson_free(f);
}
END_TEST

START_TEST(query_both_ends_of_a_range_never_repeat_a_key)
{
    char *f;
    ck_assert_int_eq(parse("minAmount=10&maxAmount=20&status=pending", &f), 200);
    ck_assert_str_eq(f, "{ \"$and\" : [ { \"amount\" : { \"$gte\" : 10.0 } }, "
                        "{ \"amount\" : { \"$lte\" : 20.0 } }, "
                        "{ \"status\" : { \"$in\" : [ \"pending\" ] } } ] }");
    bson_free(f);
}
END_TEST

START_TEST(query_date_to_a_bare_day_includes_the_whole_day)
{
    int64_t from, to;
    ck_assert_int_eq(td_parse_date("2026-03-01", false, &from), TD_OK);
    ck_assert_int_eq(td_parse_date("2026-03-01", true, &to), TD_OK);
    ck_assert_int_eq(to - from, 86400000 - 1);
    ck_assert_int_eq(td_parse_date("2026-03-01T10:20:30.123Z", false, &from), TD_OK);
    ck_assert_int_eq(from % 1000, 123);
    ck_assert_int_eq(td_parse_date("2024-02-29", false, &from), TD_OK);
    ck_assert_int_eq(td_parse_date("2023-02-29", false, &from), TD_EINVAL);
    ck_assert_int_eq(td_parse_date("2026-03-01T25:00:00Z", false, &from), TD_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, query_defaults_page_limit_and_sort);
    tcase_add_test(tc, query_rejects_unknown_repeated_and_operator_parameters);
    tcase_add_test(tc, query_in_list_becomes_in_operator);
    tcase_add_test(tc, query_boolean_is_true_or_false_only);
    tcase_add_test(tc, query_search_is_escaped_lower_case_regex);
    tcase_add_test(tc, query_both_ends_of_a_range_never_repeat_a_key);
    tcase_add_test(tc, query_date_to_a_bare_day_includes_the_whole_day);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
