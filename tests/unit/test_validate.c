/* Unit tests of shared/src/validate.c: strict UTF-8, JSON text every service may
 * store, truncation that never splits a character, and the request-body getters. */
#include "tripdesk/validate.h"

#include "tripdesk/common.h"

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

/* The error code and details.field of res (a 400 the getters wrote). */
static void assert_field_error(const char *field)
{
    ck_assert_int_eq(res.status, 400);
    cJSON *doc = cJSON_Parse(res.body);
    ck_assert_ptr_nonnull(doc);
    cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code")),
                     "VALIDATION_ERROR");
    cJSON *details = cJSON_GetObjectItemCaseSensitive(err, "details");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(details, "field")),
                     field);
    cJSON_Delete(doc);
}

typedef struct {
    const char *bytes;
    size_t len;
    bool valid;
    const char *what;
} utf8_case;

#define CASE(lit, ok, what)                                                                        \
    {                                                                                              \
        lit, sizeof lit - 1, ok, what                                                              \
    }

static const utf8_case utf8_table[] = {
    CASE("", true, "empty"),
    CASE("plain ascii", true, "ASCII"),
    CASE("caf\xc3\xa9", true, "2-byte U+00E9"),
    CASE("\xe0\xa4\xa8\xe0\xa4\xae", true, "3-byte Devanagari"),
    CASE("\xe2\x82\xac", true, "3-byte U+20AC"),
    CASE("\xf0\x9f\x98\x80", true, "4-byte U+1F600"),
    CASE("\xf4\x8f\xbf\xbf", true, "U+10FFFF, the last code point"),
    CASE("\xed\x9f\xbf", true, "U+D7FF, just below the surrogates"),
    CASE("\xee\x80\x80", true, "U+E000, just above the surrogates"),
    CASE("\xc0\xaf", false, "overlong 2-byte '/'"),
    CASE("\xc1\xbf", false, "overlong 2-byte U+007F"),
    CASE("\xe0\x80\xaf", false, "overlong 3-byte '/'"),
    CASE("\xe0\x9f\xbf", false, "overlong 3-byte U+07FF"),
    CASE("\xf0\x80\x80\xaf", false, "overlong 4-byte '/'"),
    CASE("\xf0\x8f\xbf\xbf", false, "overlong 4-byte U+FFFF"),
    CASE("\xed\xa0\x80", false, "surrogate U+D800"),
    CASE("\xed\xbf\xbf", false, "surrogate U+DFFF"),
    CASE("\xed\xa0\xbd\xed\xb8\x80", false, "CESU-8 surrogate pair"),
    CASE("\xf4\x90\x80\x80", false, "U+110000, beyond the last code point"),
    CASE("\xf5\x80\x80\x80", false, "lead byte 0xF5"),
    CASE("\xff", false, "byte 0xFF"),
    CASE("\x80", false, "lone continuation byte"),
    CASE("a\xc3", false, "truncated 2-byte sequence"),
    CASE("\xe2\x82", false, "truncated 3-byte sequence"),
    CASE("\xf0\x9f\x98", false, "truncated 4-byte sequence"),
    CASE("\xc3\x28", false, "bad continuation byte"),
    CASE("a\0b", false, "NUL byte"),
};

START_TEST(utf8_valid_follows_the_table)
{
    for (size_t i = 0; i < sizeof utf8_table / sizeof utf8_table[0]; i++) {
        const utf8_case *c = &utf8_table[i];
        ck_assert_msg(td_utf8_valid(c->bytes, c->len) == c->valid, "%s: expected %s", c->what,
                      c->valid ? "valid" : "invalid");
    }
}
END_TEST

START_TEST(json_text_refuses_nul_escapes_and_invalid_bytes)
{
    static const struct {
        const char *text;
        bool ok;
    } table[] = {
        {"{\"a\":\"b\"}", true},
        {"{\"a\":\"\\ud83d\\ude00\"}", true}, /* an escaped pair: the parser checks it */
        {"{\"a\":\"\\\\u0000\"}", true},      /* an escaped backslash, then text */
        {"{\"a\":\"\\u0001\"}", true},
        {"{\"a\":\"x\\u0000y\"}", false},
        {"{\"\\u0000\":1}", false},
        {"{\"a\":\"\\\\\\u0000\"}", false}, /* backslash escape, then \u0000 */
        {"{\"a\":\"caf\xc3\xa9\"}", true},
        {"{\"a\":\"\xc0\xaf\"}", false},
        {"{\"a\":\"\xed\xa0\x80\"}", false},
        {"{\"a\":\"\xf4\x90\x80\x80\"}", false},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        ck_assert_msg(td_json_text_ok(table[i].text, strlen(table[i].text)) == table[i].ok, "'%s'",
                      table[i].text);
    static const char nul_inside[] = "{\"a\":\"x\0y\"}";
    ck_assert(!td_json_text_ok(nul_inside, sizeof nul_inside - 1));
    static const char nul_after[] = "{\"a\":1}\0\0";
    ck_assert(td_json_text_ok(nul_after, sizeof nul_after - 1));
}
END_TEST

START_TEST(utf8_fit_never_splits_a_character)
{
    /* "é" is 2 bytes, "€" 3, "😀" 4. */
    static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11};
    for (size_t max = 0; max < sizeof want / sizeof want[0]; max++) {
        size_t n = td_utf8_fit(s, max);
        ck_assert_msg(n == want[max], "max %zu: got %zu", max, n);
        ck_assert(td_utf8_valid(s, n));
    }
}
END_TEST

START_TEST(utf8_trim_drops_a_cut_sequence_only)
{
    static const struct {
        const char *in, *out;
    } table[] = {
        {"abc", "abc"},
        {"ab\xc3", "ab"},
        {"ab\xc3\xa9", "ab\xc3\xa9"},
        {"\xe2\x82", ""},
        {"x\xe2\x82\xac", "x\xe2\x82\xac"},
        {"x\xf0\x9f\x98", "x"},
        {"x\xf0\x9f", "x"},
        {"x\xf0\x9f\x98\x80", "x\xf0\x9f\x98\x80"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s", table[i].in);
        td_utf8_trim(buf);
        ck_assert_str_eq(buf, table[i].out);
    }
    /* After a truncating snprintf of non-ASCII text the result is valid UTF-8. */
    char small[8];
    /* volatile: the compiler would refuse a truncation it can see (-Wformat-truncation). */
    const char *volatile nine = "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8";
    int w = snprintf(small, sizeof small, "%s", nine); /* 9 bytes into 8: cut */
    ck_assert_int_eq(w, 9);
    td_utf8_trim(small);
    ck_assert_str_eq(small, "\xe0\xa4\xa8\xe0\xa4\xae");
}
END_TEST

/* ---- the getters ---- */

static cJSON *parse(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

START_TEST(get_str_counts_characters_not_bytes)
{
    /* 60 Devanagari letters: 180 bytes, within a 60-character limit. */
    char text[400], name[200];
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(name + n, sizeof name - n, "%s", "\xe0\xa4\xa8");
    snprintf(text, sizeof text, "{\"firstName\":\"%s\"}", name);
    cJSON *doc = parse(text);
    const char *out = NULL;
    ck_assert_int_eq(td_get_str(doc, "firstName", true, 1, 60, &res, &out), TD_OK);
    ck_assert_str_eq(out, name);
    out = NULL;
    ck_assert_int_eq(td_get_str(doc, "firstName", true, 1, 59, &res, &out), TD_EINVAL);
    ck_assert_ptr_null(out);
    assert_field_error("firstName");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(get_str_refuses_invalid_utf8_control_characters_and_edges)
{
    static const char *const bodies[] = {
        "{\"s\":\"\xc0\xaf\"}",
        "{\"s\":\"\xed\xa0\x80\"}",
        "{\"s\":\"a\\u0007b\"}",
        "{\"s\":\"a\\u007fb\"}",
        "{\"s\":\" lead\"}",
        "{\"s\":\"trail \"}",
        "{\"s\":\"\"}",
        "{\"s\":42}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cJSON *doc = cJSON_Parse(bodies[i]);
        ck_assert_ptr_nonnull(doc);
        const char *out = NULL;
        ck_assert_msg(td_get_str(doc, "s", true, 1, 10, &res, &out) == TD_EINVAL, "%s", bodies[i]);
        assert_field_error("s");
        td_res_clear(&res);
        cJSON_Delete(doc);
    }
    cJSON *doc = parse("{\"s\":null}");
    const char *out = NULL;
    ck_assert_int_eq(td_get_str(doc, "s", false, 1, 10, &res, &out), TD_OK);
    ck_assert_ptr_null(out);
    ck_assert_ptr_null(res.body);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(check_fields_names_an_unknown_field_without_splitting_it)
{
    /* 30 "é" (60 bytes) then "€" (3 bytes) crosses the 64 bytes shown. */
    char name[128], text[256];
    size_t n = 0;
    n += (size_t)snprintf(name + n, sizeof name - n, "%s", "ab");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(name + n, sizeof name - n, "%s", "\xc3\xa9");
    snprintf(name + n, sizeof name - n, "%s", "\xe2\x82\xac\xe2\x82\xac");
    snprintf(text, sizeof text, "{\"known\":1,\"%s\":2}", name);
    cJSON *doc = parse(text);
    static const char *const allowed[] = {"known", NULL};
    ck_assert_int_eq(td_check_fields(doc, allowed, &res), TD_EINVAL);
    cJSON *body = cJSON_Parse(res.body);
    ck_assert_ptr_nonnull(body);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(body, "error"), "message"));
    ck_assert_ptr_nonnull(msg);
    ck_assert(td_utf8_valid(msg, strlen(msg)));
    ck_assert_ptr_nonnull(strstr(msg, "Unknown field 'ab\xc3\xa9"));
    ck_assert_ptr_null(strstr(msg, "\xe2\x82\xac")); /* cut before the euro sign */
    cJSON_Delete(body);
    cJSON_Delete(doc);
    td_res_clear(&res);
    doc = parse("{\"known\":1}");
    ck_assert_int_eq(td_check_fields(doc, allowed, &res), TD_OK);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(get_enum_accepts_listed_values_only)
{
    static const char *const values[] = {"draft", "confirmed", NULL};
    cJSON *doc = parse("{\"a\":\"draft\",\"b\":\"Draft\"}");
    const char *out = NULL;
    ck_assert_int_eq(td_get_enum(doc, "a", true, values, &res, &out), TD_OK);
    ck_assert_str_eq(out, "draft");
    ck_assert_int_eq(td_get_enum(doc, "b", true, values, &res, &out), TD_EINVAL);
    assert_field_error("b");
    ck_assert_ptr_nonnull(strstr(res.body, "draft, confirmed"));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(email_and_phone_shapes)
{
    static const char *const good_emails[] = {"a@b.co", "first.last+tag@sub.example.com", NULL};
    static const char *const bad_emails[] = {"ab",       "a@b",      "@b.co",
                                             "a@b.",     "a@.co",    "a@b..co",
                                             "a b@c.co", "a@b@c.co", "caf\xc3\xa9@x.co",
                                             "a<b@c.co", NULL};
    for (int i = 0; good_emails[i] != NULL; i++)
        ck_assert_msg(td_valid_email(good_emails[i]), "%s", good_emails[i]);
    for (int i = 0; bad_emails[i] != NULL; i++)
        ck_assert_msg(!td_valid_email(bad_emails[i]), "%s", bad_emails[i]);
    ck_assert(td_valid_phone("+91 98765 43210"));
    ck_assert(td_valid_phone("(020) 1234-5678"));
    ck_assert(!td_valid_phone("12345"));
    ck_assert(!td_valid_phone("+1234567890123456"));
    ck_assert(!td_valid_phone("98765x43210"));
}
END_TEST

START_TEST(get_email_lower_cases_into_buf)
{
    cJSON *doc = parse("{\"email\":\"Priya.Sharma@Example.COM\",\"bad\":\"nope\"}");
    char buf[TD_EMAIL_MAX + 1];
    bool present = false;
    ck_assert_int_eq(td_get_email(doc, "email", true, &res, buf, &present), TD_OK);
    ck_assert(present);
    ck_assert_str_eq(buf, "priya.sharma@example.com");
    ck_assert_int_eq(td_get_email(doc, "bad", true, &res, buf, &present), TD_EINVAL);
    ck_assert(!present);
    assert_field_error("bad");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(get_number_int_and_bool_check_type_range_and_decimals)
{
    cJSON *doc = parse("{\"p\":12.34,\"q\":12.345,\"big\":1e9,\"s\":\"1\",\"n\":7,\"f\":2.5,"
                       "\"t\":true,\"z\":0}");
    double d = 0;
    long long i = 0;
    bool present = false, b = false;
    ck_assert_int_eq(td_get_number(doc, "p", true, 0, 1e6, 2, &res, &d, &present), TD_OK);
    ck_assert(present && d == 12.34);
    ck_assert_int_eq(td_get_number(doc, "q", true, 0, 1e6, 2, &res, &d, &present), TD_EINVAL);
    td_res_clear(&res);
    ck_assert_int_eq(td_get_number(doc, "big", true, 0, 1e6, 2, &res, &d, &present), TD_EINVAL);
    td_res_clear(&res);
    ck_assert_int_eq(td_get_number(doc, "s", true, 0, 10, 0, &res, &d, &present), TD_EINVAL);
    td_res_clear(&res);
    ck_assert_int_eq(td_get_int(doc, "n", true, 1, 10, &res, &i, &present), TD_OK);
    ck_assert_int_eq(i, 7);
    ck_assert_int_eq(td_get_int(doc, "f", true, 1, 10, &res, &i, &present), TD_EINVAL);
    td_res_clear(&res);
    ck_assert_int_eq(td_get_bool(doc, "t", true, &res, &b, &present), TD_OK);
    ck_assert(b && present);
    ck_assert_int_eq(td_get_bool(doc, "z", true, &res, &b, &present), TD_EINVAL);
    assert_field_error("z");
    td_res_clear(&res);
    ck_assert_int_eq(td_get_int(doc, "absent", false, 1, 10, &res, &i, &present), TD_OK);
    ck_assert(!present);
    ck_assert_int_eq(td_get_int(doc, "absent", true, 1, 10, &res, &i, &present), TD_EINVAL);
    assert_field_error("absent");
    cJSON_Delete(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *u = tcase_create("utf8");
    tcase_add_test(u, utf8_valid_follows_the_table);
    tcase_add_test(u, json_text_refuses_nul_escapes_and_invalid_bytes);
    tcase_add_test(u, utf8_fit_never_splits_a_character);
    tcase_add_test(u, utf8_trim_drops_a_cut_sequence_only);
    suite_add_tcase(s, u);

    TCase *g = tcase_create("getters");
    tcase_add_checked_fixture(g, setup, teardown);
    tcase_add_test(g, get_str_counts_characters_not_bytes);
    tcase_add_test(g, get_str_refuses_invalid_utf8_control_characters_and_edges);
    tcase_add_test(g, check_fields_names_an_unknown_field_without_splitting_it);
    tcase_add_test(g, get_enum_accepts_listed_values_only);
    tcase_add_test(g, email_and_phone_shapes);
    tcase_add_test(g, get_email_lower_cases_into_buf);
    tcase_add_test(g, get_number_int_and_bool_check_type_range_and_decimals);
    suite_add_tcase(s, g);
    return run_suite(s);
}
