/* Unit tests of shared/src/http.c: the JSON envelope, pagination maths, response
 * headers, request body parsing and query-string decoding. */
#include "tripdesk/http.h"

#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static td_res res;

static void setup(void)
{
    memset(&res, 0, sizeof res);
}

static void teardown(void)
{
    td_res_clear(&res);
}

/* Parses the response body; the caller cJSON_Delete's the tree. */
static cJSON *body_json(void)
{
    ck_assert_ptr_nonnull(res.body);
    ck_assert_uint_eq(res.body_len, strlen(res.body));
    cJSON *doc = cJSON_Parse(res.body);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Checks res holds {"success":false,"error":{"code":code,...}} with the given status. */
static void assert_error(int status, const char *code)
{
    ck_assert_int_eq(res.status, status);
    cJSON *doc = body_json();
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "success")));
    cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    ck_assert(cJSON_IsObject(err));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code")), code);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "message")));
    cJSON_Delete(doc);
}

static double pg_number(const cJSON *pg, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(pg, name);
    ck_assert_msg(cJSON_IsNumber(item), "pagination.%s is not a number", name);
    return cJSON_GetNumberValue(item);
}

static bool pg_bool(const cJSON *pg, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(pg, name);
    ck_assert_msg(cJSON_IsBool(item), "pagination.%s is not a boolean", name);
    return cJSON_IsTrue(item);
}

/* Runs td_ok_page and checks totalPages, hasNext and hasPrev. */
static void assert_page(int64_t page, int64_t limit, int64_t total, int64_t pages, bool next,
                        bool prev)
{
    ck_assert_int_eq(td_ok_page(&res, cJSON_CreateArray(), page, limit, total), TD_OK);
    ck_assert_int_eq(res.status, 200);
    cJSON *doc = body_json();
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "success")));
    ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "data")));
    cJSON *pg = cJSON_GetObjectItemCaseSensitive(doc, "pagination");
    ck_assert(cJSON_IsObject(pg));
    ck_assert_int_eq((int64_t)pg_number(pg, "page"), page);
    ck_assert_int_eq((int64_t)pg_number(pg, "limit"), limit);
    ck_assert_int_eq((int64_t)pg_number(pg, "totalDocs"), total);
    ck_assert_int_eq((int64_t)pg_number(pg, "totalPages"), pages);
    ck_assert_int_eq(pg_bool(pg, "hasNext"), next);
    ck_assert_int_eq(pg_bool(pg, "hasPrev"), prev);
    cJSON_Delete(doc);
}

/* ---- envelope ---- */

START_TEST(ok_wraps_data_in_success_envelope)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "id", "abc");
    ck_assert_int_eq(td_ok(&res, 201, data), TD_OK);
    ck_assert_int_eq(res.status, 201);
    ck_assert_str_eq(res.body, "{\"success\":true,\"data\":{\"id\":\"abc\"}}");
    ck_assert_uint_eq(res.body_len, strlen(res.body));
}
END_TEST

START_TEST(ok_with_null_data_gives_json_null)
{
    ck_assert_int_eq(td_ok(&res, 200, NULL), TD_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.body, "{\"success\":true,\"data\":null}");
}
END_TEST

START_TEST(ok_replaces_previous_body)
{
    ck_assert_int_eq(td_fail(&res, 404, "NOT_FOUND", "gone", NULL), TD_OK);
    ck_assert_int_eq(td_ok(&res, 200, cJSON_CreateNumber(7)), TD_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.body, "{\"success\":true,\"data\":7}");
}
END_TEST

START_TEST(ok_page_with_null_data_gives_empty_array)
{
    ck_assert_int_eq(td_ok_page(&res, NULL, 1, 20, 0), TD_OK);
    cJSON *doc = body_json();
    cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    ck_assert(cJSON_IsArray(data));
    ck_assert_int_eq(cJSON_GetArraySize(data), 0);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(ok_page_rounds_total_pages_up)
{
    assert_page(1, 20, 41, 3, true, false);
}
END_TEST

START_TEST(ok_page_exact_multiple_has_no_extra_page)
{
    assert_page(2, 20, 40, 2, false, true);
}
END_TEST

START_TEST(ok_page_middle_page_has_next_and_prev)
{
    assert_page(2, 10, 25, 3, true, true);
}
END_TEST

START_TEST(ok_page_last_page_has_no_next)
{
    assert_page(3, 10, 25, 3, false, true);
}
END_TEST

START_TEST(ok_page_single_partial_page_has_neither)
{
    assert_page(1, 10, 1, 1, false, false);
}
END_TEST

START_TEST(ok_page_zero_total_has_zero_pages_and_no_next)
{
    assert_page(1, 10, 0, 0, false, false);
}
END_TEST

START_TEST(ok_page_zero_limit_has_zero_pages)
{
    assert_page(1, 0, 50, 0, false, false);
}
END_TEST

START_TEST(ok_page_beyond_last_has_prev_but_no_next)
{
    assert_page(9, 10, 25, 3, false, true);
}
END_TEST

START_TEST(fail_builds_error_envelope_with_details)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "bookingId", "b1");
    ck_assert_int_eq(td_fail(&res, 409, "BOOKING_CONFLICT", "Overlaps b1", details), TD_OK);
    ck_assert_int_eq(res.status, 409);
    ck_assert_str_eq(res.body, "{\"success\":false,\"error\":{\"code\":\"BOOKING_CONFLICT\","
                               "\"message\":\"Overlaps b1\",\"details\":{\"bookingId\":\"b1\"}}}");
}
END_TEST

START_TEST(fail_without_details_omits_details)
{
    ck_assert_int_eq(td_fail(&res, 404, "NOT_FOUND", "No such booking", NULL), TD_OK);
    ck_assert_int_eq(res.status, 404);
    ck_assert_str_eq(res.body, "{\"success\":false,\"error\":{\"code\":\"NOT_FOUND\","
                               "\"message\":\"No such booking\"}}");
}
END_TEST

START_TEST(fail_escapes_message_text)
{
    ck_assert_int_eq(td_fail(&res, 400, "BAD", "say \"hi\"\n", NULL), TD_OK);
    cJSON *doc = body_json();
    cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message")),
                     "say \"hi\"\n");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(fail_field_is_400_validation_error_naming_field)
{
    ck_assert_int_eq(td_fail_field(&res, "email", "email is required"), TD_OK);
    ck_assert_int_eq(res.status, 400);
    ck_assert_str_eq(res.body, "{\"success\":false,\"error\":{\"code\":\"VALIDATION_ERROR\","
                               "\"message\":\"email is required\","
                               "\"details\":{\"field\":\"email\"}}}");
}
END_TEST

START_TEST(fail_rc_maps_unavailable_and_timeout_to_503)
{
    td_fail_rc(&res, TD_EUNAVAIL, "booking");
    assert_error(503, "DATABASE_UNAVAILABLE");
    td_fail_rc(&res, TD_ETIMEDOUT, "booking");
    assert_error(503, "DATABASE_UNAVAILABLE");
}
END_TEST

START_TEST(fail_rc_maps_deadline_to_504_deadline_exceeded)
{
    td_fail_rc(&res, TD_EDEADLINE, "booking");
    assert_error(504, "DEADLINE_EXCEEDED");
}
END_TEST

START_TEST(fail_rc_maps_conflict_to_409_with_message)
{
    ck_assert_int_eq(td_fail_rc(&res, TD_ECONFLICT, "Email already registered"), TD_OK);
    assert_error(409, "CONFLICT");
    ck_assert_ptr_nonnull(strstr(res.body, "\"message\":\"Email already registered\""));
}
END_TEST

START_TEST(fail_rc_maps_not_found_to_404)
{
    td_fail_rc(&res, TD_ENOTFOUND, "Booking not found");
    assert_error(404, "NOT_FOUND");
    ck_assert_ptr_nonnull(strstr(res.body, "\"message\":\"Booking not found\""));
}
END_TEST

START_TEST(fail_rc_maps_invalid_to_400)
{
    td_fail_rc(&res, TD_EINVAL, "bad id");
    assert_error(400, "VALIDATION_ERROR");
}
END_TEST

START_TEST(fail_rc_maps_other_codes_to_500_without_leaking_what)
{
    static const int codes[] = {TD_EIO, TD_ENOMEM, TD_OK, -99};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        td_fail_rc(&res, codes[i], "secret internals");
        assert_error(500, "INTERNAL_ERROR");
        ck_assert_ptr_null(strstr(res.body, "secret internals"));
    }
}
END_TEST

/* Every TD_E* code, from TD_ENOMEM (-1) down to TD_EAGAIN (the last), with the
 * status and code string it must answer. */
static const struct {
    int rc;
    int status;
    const char *code;
} every_code[] = {
    {TD_ENOMEM, 500, "INTERNAL_ERROR"},         {TD_EINVAL, 400, "VALIDATION_ERROR"},
    {TD_ENOTFOUND, 404, "NOT_FOUND"},           {TD_ECONFLICT, 409, "CONFLICT"},
    {TD_EUNAVAIL, 503, "DATABASE_UNAVAILABLE"}, {TD_ETIMEDOUT, 503, "DATABASE_UNAVAILABLE"},
    {TD_EMETHOD, 405, "METHOD_NOT_ALLOWED"},    {TD_EIO, 500, "INTERNAL_ERROR"},
    {TD_EDEADLINE, 504, "DEADLINE_EXCEEDED"},   {TD_EAGAIN, 503, "SERVICE_UNAVAILABLE"},
};

START_TEST(error_of_maps_every_code_to_its_status_and_code)
{
    size_t n = sizeof every_code / sizeof every_code[0];
    ck_assert_int_eq(every_code[n - 1].rc, TD_EAGAIN); /* a new code: add it here */
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(every_code[i].rc, -(int)(i + 1)); /* none skipped */
        const td_http_error *e = td_http_error_of(every_code[i].rc);
        ck_assert_int_eq(e->rc, every_code[i].rc);
        ck_assert_int_eq(e->status, every_code[i].status);
        ck_assert_str_eq(e->code, every_code[i].code);
        ck_assert_ptr_nonnull(e->message);
        ck_assert_uint_gt(strlen(e->message), 0);
    }
}
END_TEST

START_TEST(fail_rc_answers_every_code_with_its_status_and_code)
{
    for (size_t i = 0; i < sizeof every_code / sizeof every_code[0]; i++) {
        ck_assert_int_eq(td_fail_rc(&res, every_code[i].rc, NULL), TD_OK);
        assert_error(every_code[i].status, every_code[i].code);
    }
}
END_TEST

START_TEST(fail_rc_without_what_gives_a_default_message)
{
    td_fail_rc(&res, TD_ENOTFOUND, NULL);
    cJSON *doc = body_json();
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message")),
                     "No such resource");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(error_body_matches_fail_envelope)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddNumberToObject(details, "retryAfter", 5);
    char *text = td_error_body("RATE_LIMITED", "Slow down", details);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMITED\","
                           "\"message\":\"Slow down\",\"details\":{\"retryAfter\":5}}}");
    free(text);
}
END_TEST

/* ---- response headers ---- */

START_TEST(res_header_copies_value)
{
    char value[] = "req-1";
    ck_assert_int_eq(td_res_header(&res, "X-Request-Id", value), TD_OK);
    value[0] = 'X';
    ck_assert_int_eq(res.nheaders, 1);
    ck_assert_str_eq(res.headers[0].name, "X-Request-Id");
    ck_assert_str_eq(res.headers[0].value, "req-1");
    ck_assert_ptr_ne(res.headers[0].value, value);
}
END_TEST

START_TEST(res_header_rejects_more_than_max)
{
    char v[16];
    for (int i = 0; i < TD_MAX_RES_HEADERS; i++) {
        snprintf(v, sizeof v, "v%d", i);
        ck_assert_int_eq(td_res_header(&res, "X-N", v), TD_OK);
    }
    ck_assert_int_eq(td_res_header(&res, "X-Extra", "no"), TD_EINVAL);
    ck_assert_int_eq(res.nheaders, TD_MAX_RES_HEADERS);
    ck_assert_str_eq(res.headers[TD_MAX_RES_HEADERS - 1].value, "v7");
}
END_TEST

START_TEST(res_clear_releases_and_zeroes)
{
    td_ok(&res, 200, NULL);
    td_res_header(&res, "X-A", "a");
    td_res_clear(&res);
    ck_assert_ptr_null(res.body);
    ck_assert_uint_eq(res.body_len, 0);
    ck_assert_int_eq(res.nheaders, 0);
    ck_assert_int_eq(res.status, 0);
    /* Headers can be added again after a clear. */
    ck_assert_int_eq(td_res_header(&res, "X-B", "b"), TD_OK);
}
END_TEST

/* ---- td_req_json ---- */

/* Runs td_req_json over a copy of body held in an exact-length heap buffer (no
 * terminating NUL), so reads past the body are caught by ASan and valgrind. */
static int req_json(const char *ct, const char *body, size_t len, cJSON **out)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, body, len);
    td_req req = {0};
    req.content_type = ct;
    req.body = copy;
    req.body_len = len;
    int rc = td_req_json(&req, &res, out);
    free(copy);
    return rc;
}

static int req_json_str(const char *ct, const char *body, cJSON **out)
{
    return req_json(ct, body, strlen(body), out);
}

START_TEST(req_json_parses_object)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json_str("application/json", "{\"name\":\"Ana\",\"n\":2}", &doc), TD_OK);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "name")), "Ana");
    ck_assert_ptr_null(res.body);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(req_json_accepts_charset_parameter)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json_str("application/json; charset=utf-8", "{}", &doc), TD_OK);
    ck_assert_ptr_nonnull(doc);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(req_json_content_type_is_case_insensitive)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json_str("Application/JSON", "{}", &doc), TD_OK);
    ck_assert_ptr_nonnull(doc);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(req_json_accepts_trailing_whitespace)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json_str("application/json", "  {\"a\":1} \r\n\t ", &doc), TD_OK);
    ck_assert_ptr_nonnull(doc);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(req_json_missing_content_type_is_415)
{
    cJSON *doc = (cJSON *)&doc;
    ck_assert_int_eq(req_json_str(NULL, "{}", &doc), TD_EINVAL);
    ck_assert_ptr_null(doc);
    assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}
END_TEST

START_TEST(req_json_wrong_content_type_is_415)
{
    static const char *const types[] = {"text/plain", "", "application/x-www-form-urlencoded",
                                        "application/jso", "text/json"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        cJSON *doc = NULL;
        ck_assert_int_eq(req_json_str(types[i], "{}", &doc), TD_EINVAL);
        ck_assert_ptr_null(doc);
        assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
}
END_TEST

START_TEST(req_json_content_type_prefix_match_is_415)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json_str("application/jsonx", "{}", &doc), TD_EINVAL);
    ck_assert_ptr_null(doc);
    assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    ck_assert_int_eq(req_json_str("application/json-patch+json", "{}", &doc), TD_EINVAL);
    assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}
END_TEST

START_TEST(req_json_bad_json_is_400_malformed)
{
    static const char *const bodies[] = {"{", "{\"a\":}", "{'a':1}", "nope", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cJSON *doc = NULL;
        ck_assert_int_eq(req_json_str("application/json", bodies[i], &doc), TD_EINVAL);
        ck_assert_ptr_null(doc);
        assert_error(400, "MALFORMED_JSON");
    }
}
END_TEST

START_TEST(req_json_empty_body_is_400_malformed)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json("application/json", "", 0, &doc), TD_EINVAL);
    ck_assert_ptr_null(doc);
    assert_error(400, "MALFORMED_JSON");
    td_req req = {0};
    req.content_type = "application/json";
    ck_assert_int_eq(td_req_json(&req, &res, &doc), TD_EINVAL);
    assert_error(400, "MALFORMED_JSON");
}
END_TEST

START_TEST(req_json_trailing_garbage_is_400_malformed)
{
    static const char *const bodies[] = {"{} x", "{\"a\":1}{\"b\":2}", "{}]", "{} \n,"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cJSON *doc = NULL;
        ck_assert_int_eq(req_json_str("application/json", bodies[i], &doc), TD_EINVAL);
        ck_assert_ptr_null(doc);
        assert_error(400, "MALFORMED_JSON");
    }
}
END_TEST

START_TEST(req_json_garbage_after_embedded_nul_is_400_malformed)
{
    cJSON *doc = NULL;
    static const char body[] = "{}\0garbage";
    ck_assert_int_eq(req_json("application/json", body, sizeof body - 1, &doc), TD_EINVAL);
    ck_assert_ptr_null(doc);
    assert_error(400, "MALFORMED_JSON");
}
END_TEST

START_TEST(req_json_invalid_utf8_or_nul_is_400_and_parses_nothing)
{
    static const char *const bad[] = {
        "{\"name\":\"\xc0\xaf\"}",         /* overlong */
        "{\"name\":\"\xed\xa0\x80\"}",     /* surrogate U+D800 */
        "{\"name\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"name\":\"\xe2\x82\"}",         /* truncated sequence */
        "{\"name\":\"a\\u0000b\"}",        /* NUL escape */
        "{\"name\":\"\\ud800\"}",          /* lone escaped surrogate */
        "{\"name\":\"\\udc00\\ud800\"}",   /* escaped pair in the wrong order */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *doc = NULL;
        ck_assert_msg(req_json_str("application/json", bad[i], &doc) == TD_EINVAL, "%s", bad[i]);
        ck_assert_ptr_null(doc);
        assert_error(400, "MALFORMED_JSON");
        td_res_clear(&res);
    }
    static const char nul_in_string[] = "{\"name\":\"a\0b\"}";
    cJSON *doc = NULL;
    ck_assert_int_eq(req_json("application/json", nul_in_string, sizeof nul_in_string - 1, &doc),
                     TD_EINVAL);
    assert_error(400, "MALFORMED_JSON");
}
END_TEST

START_TEST(req_json_accepts_multibyte_text_and_escaped_pairs)
{
    cJSON *doc = NULL;
    ck_assert_int_eq(
        req_json_str("application/json",
                     "{\"a\":\"\xe0\xa4\xa8\xf0\x9f\x98\x80\",\"b\":\"\\ud83d\\ude00\"}", &doc),
        TD_OK);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "b")),
                     "\xf0\x9f\x98\x80");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(req_json_non_object_is_400_validation_error)
{
    static const char *const bodies[] = {"[1,2]", "\"text\"", "42", "null", "true"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cJSON *doc = NULL;
        ck_assert_int_eq(req_json_str("application/json", bodies[i], &doc), TD_EINVAL);
        ck_assert_ptr_null(doc);
        assert_error(400, "VALIDATION_ERROR");
    }
}
END_TEST

/* ---- query strings ---- */

static td_query q;

static void q_setup(void)
{
    memset(&q, 0, sizeof q);
}

static void q_teardown(void)
{
    td_query_free(&q);
}

START_TEST(query_empty_or_null_has_no_params)
{
    ck_assert_int_eq(td_query_parse("", &q), TD_OK);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(td_query_get(&q, "a"));
    td_query_free(&q);
    ck_assert_int_eq(td_query_parse(NULL, &q), TD_OK);
    ck_assert_int_eq(q.count, 0);
}
END_TEST

START_TEST(query_splits_pairs_in_order)
{
    ck_assert_int_eq(td_query_parse("page=2&limit=20&status=confirmed", &q), TD_OK);
    ck_assert_int_eq(q.count, 3);
    ck_assert_str_eq(q.items[0].name, "page");
    ck_assert_str_eq(q.items[0].value, "2");
    ck_assert_str_eq(q.items[1].name, "limit");
    ck_assert_str_eq(q.items[2].value, "confirmed");
    ck_assert_str_eq(td_query_get(&q, "limit"), "20");
    ck_assert_str_eq(td_query_get(&q, "status"), "confirmed");
}
END_TEST

START_TEST(query_decodes_percent_escapes_and_plus)
{
    ck_assert_int_eq(td_query_parse("q=New+York%2C%20NY&e=a%40b.c&x=%7e%7E", &q), TD_OK);
    ck_assert_str_eq(td_query_get(&q, "q"), "New York, NY");
    ck_assert_str_eq(td_query_get(&q, "e"), "a@b.c");
    ck_assert_str_eq(td_query_get(&q, "x"), "~~");
}
END_TEST

START_TEST(query_decodes_escaped_delimiters_in_values)
{
    ck_assert_int_eq(td_query_parse("f=a%3Db%26c&g=%2B", &q), TD_OK);
    ck_assert_int_eq(q.count, 2);
    ck_assert_str_eq(td_query_get(&q, "f"), "a=b&c");
    ck_assert_str_eq(td_query_get(&q, "g"), "+");
}
END_TEST

START_TEST(query_decodes_names)
{
    ck_assert_int_eq(td_query_parse("sort%5Bby%5D=date&my+key=1", &q), TD_OK);
    ck_assert_str_eq(td_query_get(&q, "sort[by]"), "date");
    ck_assert_str_eq(td_query_get(&q, "my key"), "1");
}
END_TEST

START_TEST(query_value_keeps_later_equals_signs)
{
    ck_assert_int_eq(td_query_parse("expr=a=b", &q), TD_OK);
    ck_assert_str_eq(td_query_get(&q, "expr"), "a=b");
}
END_TEST

START_TEST(query_decodes_escape_at_end_of_value)
{
    ck_assert_int_eq(td_query_parse("a=%41&b=x%42", &q), TD_OK);
    ck_assert_str_eq(td_query_get(&q, "a"), "A");
    ck_assert_str_eq(td_query_get(&q, "b"), "xB");
}
END_TEST

START_TEST(query_empty_value_is_empty_string)
{
    ck_assert_int_eq(td_query_parse("search=&page=1", &q), TD_OK);
    ck_assert_int_eq(q.count, 2);
    ck_assert_str_eq(td_query_get(&q, "search"), "");
    ck_assert_str_eq(td_query_get(&q, "page"), "1");
}
END_TEST

START_TEST(query_name_without_equals_has_empty_value)
{
    ck_assert_int_eq(td_query_parse("archived&page=3", &q), TD_OK);
    ck_assert_int_eq(q.count, 2);
    ck_assert_str_eq(q.items[0].name, "archived");
    ck_assert_str_eq(td_query_get(&q, "archived"), "");
    ck_assert_str_eq(td_query_get(&q, "page"), "3");
}
END_TEST

START_TEST(query_skips_empty_segments)
{
    ck_assert_int_eq(td_query_parse("&&a=1&&b=2&", &q), TD_OK);
    ck_assert_int_eq(q.count, 2);
    ck_assert_str_eq(td_query_get(&q, "a"), "1");
    ck_assert_str_eq(td_query_get(&q, "b"), "2");
}
END_TEST

START_TEST(query_get_returns_first_of_repeated_names)
{
    ck_assert_int_eq(td_query_parse("tag=a&tag=b", &q), TD_OK);
    ck_assert_int_eq(q.count, 2);
    ck_assert_str_eq(td_query_get(&q, "tag"), "a");
}
END_TEST

START_TEST(query_get_is_case_sensitive_and_null_when_absent)
{
    ck_assert_int_eq(td_query_parse("Page=1", &q), TD_OK);
    ck_assert_ptr_null(td_query_get(&q, "page"));
    ck_assert_ptr_null(td_query_get(&q, "limit"));
    ck_assert_str_eq(td_query_get(&q, "Page"), "1");
}
END_TEST

START_TEST(query_refuses_decoded_bytes_that_are_not_utf8)
{
    td_query q;
    ck_assert_int_eq(td_query_parse("search=%C0%AF", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("search=%ED%A0%80", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("%FF=1", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("search=caf%C3%A9", &q), TD_OK);
    ck_assert_str_eq(td_query_get(&q, "search"), "caf\xc3\xa9");
    td_query_free(&q);
}
END_TEST

START_TEST(query_does_not_modify_raw_string)
{
    const char raw[] = "a=%41+b";
    ck_assert_int_eq(td_query_parse(raw, &q), TD_OK);
    ck_assert_str_eq(raw, "a=%41+b");
    ck_assert_str_eq(td_query_get(&q, "a"), "A b");
}
END_TEST

START_TEST(query_rejects_non_hex_percent_escape)
{
    ck_assert_int_eq(td_query_parse("a=%G1", &q), TD_EINVAL);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(q.storage);
    ck_assert_int_eq(td_query_parse("a=%1G", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("%zz=1", &q), TD_EINVAL);
}
END_TEST

START_TEST(query_rejects_truncated_percent_escape)
{
    ck_assert_int_eq(td_query_parse("a=%4", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("a=%", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("a=%4&b=1", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("a=%&b=1", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("x%4=1", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("x%", &q), TD_EINVAL);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(q.storage);
}
END_TEST

START_TEST(query_rejects_encoded_nul)
{
    ck_assert_int_eq(td_query_parse("a=x%00y", &q), TD_EINVAL);
    ck_assert_int_eq(td_query_parse("a%00=1", &q), TD_EINVAL);
    ck_assert_ptr_null(q.storage);
}
END_TEST

START_TEST(query_bad_escape_in_later_pair_rejects_all)
{
    ck_assert_int_eq(td_query_parse("a=1&b=2&c=%G0", &q), TD_EINVAL);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(td_query_get(&q, "a"));
}
END_TEST

/* Builds "p0=0&p1=1&..." with n parameters into a malloc'd string. */
static char *many_params(int n)
{
    size_t cap = (size_t)n * 16 + 1;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t w = 0;
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        w += (size_t)snprintf(s + w, cap - w, "%sp%d=%d", i > 0 ? "&" : "", i, i);
    return s;
}

START_TEST(query_accepts_exactly_max_params)
{
    char *raw = many_params(TD_MAX_QUERY_PARAMS);
    ck_assert_int_eq(td_query_parse(raw, &q), TD_OK);
    free(raw);
    ck_assert_int_eq(q.count, TD_MAX_QUERY_PARAMS);
    ck_assert_str_eq(td_query_get(&q, "p0"), "0");
    ck_assert_str_eq(td_query_get(&q, "p63"), "63");
}
END_TEST

START_TEST(query_rejects_more_than_max_params)
{
    char *raw = many_params(TD_MAX_QUERY_PARAMS + 1);
    ck_assert_int_eq(td_query_parse(raw, &q), TD_EINVAL);
    free(raw);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(q.storage);
}
END_TEST

START_TEST(query_empty_segments_do_not_count_towards_limit)
{
    char *params = many_params(TD_MAX_QUERY_PARAMS);
    size_t len = strlen(params);
    char *raw = malloc(len + 5);
    ck_assert_ptr_nonnull(raw);
    snprintf(raw, len + 5, "&&%s&&", params);
    free(params);
    ck_assert_int_eq(td_query_parse(raw, &q), TD_OK);
    free(raw);
    ck_assert_int_eq(q.count, TD_MAX_QUERY_PARAMS);
}
END_TEST

START_TEST(query_free_is_idempotent)
{
    ck_assert_int_eq(td_query_parse("a=1", &q), TD_OK);
    td_query_free(&q);
    ck_assert_int_eq(q.count, 0);
    ck_assert_ptr_null(q.storage);
    td_query_free(&q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");

    TCase *env = tcase_create("envelope");
    tcase_add_checked_fixture(env, setup, teardown);
    tcase_add_test(env, ok_wraps_data_in_success_envelope);
    tcase_add_test(env, ok_with_null_data_gives_json_null);
    tcase_add_test(env, ok_replaces_previous_body);
    tcase_add_test(env, ok_page_with_null_data_gives_empty_array);
    tcase_add_test(env, ok_page_rounds_total_pages_up);
    tcase_add_test(env, ok_page_exact_multiple_has_no_extra_page);
    tcase_add_test(env, ok_page_middle_page_has_next_and_prev);
    tcase_add_test(env, ok_page_last_page_has_no_next);
    tcase_add_test(env, ok_page_single_partial_page_has_neither);
    tcase_add_test(env, ok_page_zero_total_has_zero_pages_and_no_next);
    tcase_add_test(env, ok_page_zero_limit_has_zero_pages);
    tcase_add_test(env, ok_page_beyond_last_has_prev_but_no_next);
    tcase_add_test(env, fail_builds_error_envelope_with_details);
    tcase_add_test(env, fail_without_details_omits_details);
    tcase_add_test(env, fail_escapes_message_text);
    tcase_add_test(env, fail_field_is_400_validation_error_naming_field);
    tcase_add_test(env, fail_rc_maps_unavailable_and_timeout_to_503);
    tcase_add_test(env, fail_rc_maps_deadline_to_504_deadline_exceeded);
    tcase_add_test(env, fail_rc_maps_conflict_to_409_with_message);
    tcase_add_test(env, fail_rc_maps_not_found_to_404);
    tcase_add_test(env, fail_rc_maps_invalid_to_400);
    tcase_add_test(env, fail_rc_maps_other_codes_to_500_without_leaking_what);
    tcase_add_test(env, error_of_maps_every_code_to_its_status_and_code);
    tcase_add_test(env, fail_rc_answers_every_code_with_its_status_and_code);
    tcase_add_test(env, fail_rc_without_what_gives_a_default_message);
    tcase_add_test(env, error_body_matches_fail_envelope);
    suite_add_tcase(s, env);

    TCase *hdr = tcase_create("headers");
    tcase_add_checked_fixture(hdr, setup, teardown);
    tcase_add_test(hdr, res_header_copies_value);
    tcase_add_test(hdr, res_header_rejects_more_than_max);
    tcase_add_test(hdr, res_clear_releases_and_zeroes);
    suite_add_tcase(s, hdr);

    TCase *body = tcase_create("req_json");
    tcase_add_checked_fixture(body, setup, teardown);
    tcase_add_test(body, req_json_parses_object);
    tcase_add_test(body, req_json_accepts_charset_parameter);
    tcase_add_test(body, req_json_content_type_is_case_insensitive);
    tcase_add_test(body, req_json_accepts_trailing_whitespace);
    tcase_add_test(body, req_json_missing_content_type_is_415);
    tcase_add_test(body, req_json_wrong_content_type_is_415);
    tcase_add_test(body, req_json_content_type_prefix_match_is_415);
    tcase_add_test(body, req_json_bad_json_is_400_malformed);
    tcase_add_test(body, req_json_empty_body_is_400_malformed);
    tcase_add_test(body, req_json_trailing_garbage_is_400_malformed);
    tcase_add_test(body, req_json_garbage_after_embedded_nul_is_400_malformed);
    tcase_add_test(body, req_json_non_object_is_400_validation_error);
    tcase_add_test(body, req_json_invalid_utf8_or_nul_is_400_and_parses_nothing);
    tcase_add_test(body, req_json_accepts_multibyte_text_and_escaped_pairs);
    suite_add_tcase(s, body);

    TCase *query = tcase_create("query");
    tcase_add_checked_fixture(query, q_setup, q_teardown);
    tcase_add_test(query, query_empty_or_null_has_no_params);
    tcase_add_test(query, query_splits_pairs_in_order);
    tcase_add_test(query, query_decodes_percent_escapes_and_plus);
    tcase_add_test(query, query_decodes_escaped_delimiters_in_values);
    tcase_add_test(query, query_decodes_names);
    tcase_add_test(query, query_value_keeps_later_equals_signs);
    tcase_add_test(query, query_decodes_escape_at_end_of_value);
    tcase_add_test(query, query_empty_value_is_empty_string);
    tcase_add_test(query, query_name_without_equals_has_empty_value);
    tcase_add_test(query, query_skips_empty_segments);
    tcase_add_test(query, query_get_returns_first_of_repeated_names);
    tcase_add_test(query, query_get_is_case_sensitive_and_null_when_absent);
    tcase_add_test(query, query_does_not_modify_raw_string);
    tcase_add_test(query, query_refuses_decoded_bytes_that_are_not_utf8);
    tcase_add_test(query, query_rejects_non_hex_percent_escape);
    tcase_add_test(query, query_rejects_truncated_percent_escape);
    tcase_add_test(query, query_rejects_encoded_nul);
    tcase_add_test(query, query_bad_escape_in_later_pair_rejects_all);
    tcase_add_test(query, query_accepts_exactly_max_params);
    tcase_add_test(query, query_rejects_more_than_max_params);
    tcase_add_test(query, query_empty_segments_do_not_count_towards_limit);
    tcase_add_test(query, query_free_is_idempotent);
    suite_add_tcase(s, query);

    return run_suite(s);
}
