/* Unit tests of shared/src/mongo.c that need no server: how driver errors map to
 * result codes, and the maxTimeMS a request's deadline puts into options. */
#include "tripdesk/common.h"
#include "tripdesk/mongo.h"

#include "run_suite.h"

#include <check.h>

static bson_error_t error_of(uint32_t domain, uint32_t code)
{
    bson_error_t err;
    bson_set_error(&err, domain, code, "test");
    return err;
}

START_TEST(rc_maps_duplicate_key_to_conflict)
{
    bson_error_t err = error_of(MONGOC_ERROR_SERVER, 11000);
    ck_assert_int_eq(td_mongo_rc(&err), TD_ECONFLICT);
}
END_TEST

START_TEST(rc_maps_network_and_selection_to_unavailable)
{
    /* a socket timeout (a paused server) is a stream error */
    bson_error_t err = error_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET);
    ck_assert_int_eq(td_mongo_rc(&err), TD_EUNAVAIL);
    err = error_of(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE);
    ck_assert_int_eq(td_mongo_rc(&err), TD_EUNAVAIL);
}
END_TEST

START_TEST(rc_maps_max_time_expired_to_deadline)
{
    bson_error_t err = error_of(MONGOC_ERROR_SERVER, TD_MONGO_MAXTIME_CODE);
    ck_assert_int_eq(td_mongo_rc(&err), TD_EDEADLINE);
    err = error_of(MONGOC_ERROR_SERVER, 2); /* BadValue */
    ck_assert_int_eq(td_mongo_rc(&err), TD_EIO);
}
END_TEST

START_TEST(time_opts_add_nothing_without_a_deadline)
{
    td_deadline_set(0);
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    ck_assert(!bson_has_field(&opts, "maxTimeMS"));
    bson_destroy(&opts);
}
END_TEST

START_TEST(time_opts_bound_by_the_time_left)
{
    td_deadline_set(td_now_ms() + 3000);
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    bson_iter_t it;
    ck_assert(bson_iter_init_find(&it, &opts, "maxTimeMS"));
    int64_t ms = bson_iter_as_int64(&it);
    ck_assert_int_le(ms, 3000 - TD_DEADLINE_MARGIN_MS);
    ck_assert_int_gt(ms, 3000 - TD_DEADLINE_MARGIN_MS - 500);
    bson_destroy(&opts);
    td_deadline_set(0);
}
END_TEST

START_TEST(time_opts_ask_for_at_least_1_ms_once_the_time_is_up)
{
    td_deadline_set(td_now_ms() - 10);
    bson_t opts = BSON_INITIALIZER;
    td_mongo_time_opts(&opts);
    bson_iter_t it;
    ck_assert(bson_iter_init_find(&it, &opts, "maxTimeMS"));
    ck_assert_int_eq(bson_iter_as_int64(&it), 1);
    bson_destroy(&opts);
    td_deadline_set(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mongo");
    TCase *rc = tcase_create("rc");
    tcase_add_test(rc, rc_maps_duplicate_key_to_conflict);
    tcase_add_test(rc, rc_maps_network_and_selection_to_unavailable);
    tcase_add_test(rc, rc_maps_max_time_expired_to_deadline);
    suite_add_tcase(s, rc);
    TCase *time = tcase_create("deadline");
    tcase_add_test(time, time_opts_add_nothing_without_a_deadline);
    tcase_add_test(time, time_opts_bound_by_the_time_left);
    tcase_add_test(time, time_opts_ask_for_at_least_1_ms_once_the_time_is_up);
    suite_add_tcase(s, time);
    return run_suite(s);
}
