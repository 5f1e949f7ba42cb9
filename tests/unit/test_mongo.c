/* Unit tests of shared/src/mongo.c: mongo-c-driver's messages become JSON log lines
 * at the mapped level, errors map to result codes, and request deadlines bound the
 * time a command may take (no server is needed: the pool connects lazily). */
#include "tripdesk/mongo.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_level_mapping)
{
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_ERROR, "x"), TD_LOG_ERROR);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_CRITICAL, "x"), TD_LOG_ERROR);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_WARNING, "x"), TD_LOG_WARN);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_WARNING, NULL), TD_LOG_WARN);
    ck_assert_int_eq(
        td_mongo_log_level(MONGOC_LOG_LEVEL_WARNING,
                           "Couldn't send \"endSessions\": no such command: 'endSessions'"),
        TD_LOG_DEBUG);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_MESSAGE, "x"), TD_LOG_INFO);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_INFO, "x"), TD_LOG_DEBUG);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_DEBUG, "x"), TD_LOG_DEBUG);
    ck_assert_int_eq(td_mongo_log_level(MONGOC_LOG_LEVEL_TRACE, "x"), -1);
}
END_TEST

/* Runs fn with stderr going to a temporary file; returns what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
    fn();
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    long n = ftell(tmp);
    ck_assert_int_ge(n, 0);
    char *text = calloc((size_t)n + 1, 1);
    ck_assert_ptr_nonnull(text);
    rewind(tmp);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return text;
}

static void log_through_driver(void)
{
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "client", "server selection is slow");
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "client",
               "Couldn't send \"endSessions\": no such command: 'endSessions'");
}

START_TEST(test_driver_messages_are_json_lines)
{
    setenv(TD_ENV_MONGO_URI, "mongodb://127.0.0.1:1", 1);
    td_log_init("unit");
    ck_assert_int_eq(td_mongo_init("unit"), TD_OK);
    char *out = capture_stderr(log_through_driver);
    /* One line, JSON, at warn; the endSessions warning is below the default level. */
    ck_assert_msg(out[0] == '{', "not a JSON line: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "\"level\":\"warn\""));
    ck_assert_ptr_nonnull(strstr(out, "mongoc client: server selection is slow"));
    ck_assert_ptr_null(strstr(out, "endSessions"));
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, "");
    free(out);
    td_mongo_cleanup();
}
END_TEST

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
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_level_mapping);
    tcase_add_test(tc, test_driver_messages_are_json_lines);
    suite_add_tcase(s, tc);
    TCase *rc = tcase_create("rc");
    tcase_add_test(rc, rc_maps_duplicate_key_to_conflict);
    tcase_add_test(rc, rc_maps_network_and_selection_to_unavailable);
    tcase_add_test(rc, rc_maps_max_time_expired_to_deadline);
    suite_add_tcase(s, rc);
    TCase *time = tcase_create("time");
    tcase_add_test(time, time_opts_add_nothing_without_a_deadline);
    tcase_add_test(time, time_opts_bound_by_the_time_left);
    tcase_add_test(time, time_opts_ask_for_at_least_1_ms_once_the_time_is_up);
    suite_add_tcase(s, time);
    return run_suite(s);
}
