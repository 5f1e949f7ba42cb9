/* Unit tests of shared/src/mongo.c: mongo-c-driver's messages become JSON log lines
 * at the mapped level (no server is needed: the pool connects lazily). */
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

int main(void)
{
    Suite *s = suite_create("mongo");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_level_mapping);
    tcase_add_test(tc, test_driver_messages_are_json_lines);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
