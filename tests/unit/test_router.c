/* Unit tests of shared/src/router.c: matching, parameters, literal precedence. */
#include "tripdesk/router.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int h_list(td_req *req, td_res *res)
{
    (void)req;
    (void)res;
    return 0;
}
static int h_get(td_req *req, td_res *res)
{
    (void)req;
    (void)res;
    return 0;
}
static int h_status(td_req *req, td_res *res)
{
    (void)req;
    (void)res;
    return 0;
}
static int h_stats(td_req *req, td_res *res)
{
    (void)req;
    (void)res;
    return 0;
}

static td_router *router;

static void setup(void)
{
    ck_assert_int_eq(td_router_new(&router), TD_OK);
    ck_assert_int_eq(td_router_add(router, "GET", "/api/bookings", h_list, 0, NULL), TD_OK);
    ck_assert_int_eq(td_router_add(router, "GET", "/api/bookings/:id", h_get, 0, NULL), TD_OK);
    ck_assert_int_eq(td_router_add(router, "PATCH", "/api/bookings/:id/status", h_status, 0, NULL),
                     TD_OK);
    ck_assert_int_eq(td_router_add(router, "GET", "/api/bookings/stats", h_stats, 0, NULL), TD_OK);
}

static void teardown(void)
{
    td_router_free(router);
}

START_TEST(router_matches_parameter_and_names_it)
{
    char scratch[256];
    const td_route *route;
    td_req req = {0};
    ck_assert_int_eq(
        td_router_match(router, "PATCH", "/api/bookings/abc123/status", scratch, &route, &req),
        TD_OK);
    ck_assert_ptr_eq(route->handler, h_status);
    ck_assert_int_eq(req.nparams, 1);
    ck_assert_str_eq(req.params[0].name, "id");
    ck_assert_str_eq(td_req_param(&req, "id"), "abc123");
}
END_TEST

START_TEST(router_literal_segment_wins_over_parameter)
{
    char scratch[256];
    const td_route *route;
    td_req req = {0};
    ck_assert_int_eq(td_router_match(router, "GET", "/api/bookings/stats", scratch, &route, &req),
                     TD_OK);
    ck_assert_ptr_eq(route->handler, h_stats);
    ck_assert_int_eq(td_router_match(router, "GET", "/api/bookings/x1", scratch, &route, &req),
                     TD_OK);
    ck_assert_ptr_eq(route->handler, h_get);
}
END_TEST

START_TEST(router_unknown_path_is_not_found_and_wrong_method_is_405)
{
    char scratch[256];
    const td_route *route;
    td_req req = {0};
    ck_assert_int_eq(td_router_match(router, "GET", "/api/nothing", scratch, &route, &req),
                     TD_ENOTFOUND);
    ck_assert_int_eq(td_router_match(router, "DELETE", "/api/bookings", scratch, &route, &req),
                     TD_EMETHOD);
    ck_assert_int_eq(td_router_match(router, "GET", "/api/bookings/a/b/c", scratch, &route, &req),
                     TD_ENOTFOUND);
}
END_TEST

START_TEST(router_rejects_bad_patterns)
{
    ck_assert_int_eq(td_router_add(router, "GET", "no-slash", h_get, 0, NULL), TD_EINVAL);
    ck_assert_int_eq(td_router_add(router, "GET", "/api/:", h_get, 0, NULL), TD_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, router_matches_parameter_and_names_it);
    tcase_add_test(tc, router_literal_segment_wins_over_parameter);
    tcase_add_test(tc, router_unknown_path_is_not_found_and_wrong_method_is_405);
    tcase_add_test(tc, router_rejects_bad_patterns);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
