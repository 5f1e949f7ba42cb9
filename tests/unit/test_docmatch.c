/* Unit tests of shared/src/docmatch.c: evaluating list filters and sorts in memory.
 * Filters come from td_list_parse where it can build them, so the tests also prove
 * the evaluator agrees with the builder's output; the rest are hand-built. */
#include "tripdesk/docmatch.h"
#include "tripdesk/query.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX 2048
#define DEEP_AND 150
#define DEEP_DOC 100000

static const char *const statuses[] = {"pending", "confirmed", "cancelled", NULL};
static const td_qp params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"type", TD_QP_EQ, "type", NULL},
    {"customer", TD_QP_OID, "customer", NULL},
    {"tag", TD_QP_IN, "tags", NULL},
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"minAmount", TD_QP_MIN, "pricing.totalAmount", NULL},
    {"maxAmount", TD_QP_MAX, "pricing.totalAmount", NULL},
    {"from", TD_QP_DATE_FROM, "tripDetails.startDate", NULL},
    {"to", TD_QP_DATE_TO, "tripDetails.startDate", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "amount", NULL};
static const char *const sort_fields[] = {"createdAt", "pricing.totalAmount", NULL};
static const td_list_spec spec = {params, sort_names, sort_fields, "createdAt", -1};

#define OID_A "65f000000000000000000001"
#define OID_B "65f000000000000000000002"
#define OID_C "65f000000000000000000003"

/* A document from extended JSON written with ' for " (so tests stay readable). */
static bson_t *J(const char *json)
{
    char buf[JSON_MAX];
    size_t n = strlen(json);
    ck_assert_uint_lt(n, sizeof buf);
    for (size_t i = 0; i <= n; i++)
        buf[i] = json[i] == '\'' ? '"' : json[i];
    bson_error_t err;
    bson_t *b = bson_new_from_json((const uint8_t *)buf, -1, &err);
    ck_assert_msg(b != NULL, "bad JSON %s: %s", buf, err.message);
    return b;
}

/* td_doc_match of a hand-built filter against a document, both as JSON. */
static bool fmatch(const char *filter, const char *doc)
{
    bson_t *f = J(filter), *d = J(doc);
    bool m = td_doc_match(f, d);
    bson_destroy(f);
    bson_destroy(d);
    return m;
}

/* td_doc_match of {field: {$regex: pattern[, $options: options]}} against a document.
 * (Built by hand: the JSON parser reads {$regex, $options} as a BSON regex value.) */
static bool rmatch(const char *field, const char *pattern, const char *options, const char *doc)
{
    bson_t *f = bson_new(), *d = J(doc), sub;
    BSON_APPEND_DOCUMENT_BEGIN(f, field, &sub);
    BSON_APPEND_UTF8(&sub, "$regex", pattern);
    if (options != NULL)
        BSON_APPEND_UTF8(&sub, "$options", options);
    bson_append_document_end(f, &sub);
    bool m = td_doc_match(f, d);
    bson_destroy(f);
    bson_destroy(d);
    return m;
}

/* td_doc_match of the filter td_list_parse builds from query string q. */
static bool qmatch(const char *q, const char *doc)
{
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, q, &l, &res), TD_OK);
    bson_t *d = J(doc);
    bool m = td_doc_match(&l.filter, d);
    bson_destroy(d);
    td_list_free(&l);
    td_res_clear(&res);
    return m;
}

/* ---- equality ---- */

START_TEST(match_false_does_not_match_a_missing_field)
{
    const char *f = "{'deleted': false}";
    ck_assert(fmatch(f, "{'deleted': false}"));
    ck_assert(!fmatch(f, "{}"));
    ck_assert(!fmatch(f, "{'deleted': null}"));
    ck_assert(!fmatch(f, "{'deleted': 0}"));
    ck_assert(!fmatch(f, "{'deleted': true}"));
    ck_assert(fmatch("{'deleted': true}", "{'deleted': [false, true]}"));
}
END_TEST

START_TEST(match_null_matches_null_missing_and_arrays_holding_null)
{
    const char *f = "{'agent': null}";
    ck_assert(fmatch(f, "{}"));
    ck_assert(fmatch(f, "{'agent': null}"));
    ck_assert(fmatch(f, "{'agent': [1, null]}"));
    ck_assert(fmatch(f, "{'other': 1}"));
    ck_assert(!fmatch(f, "{'agent': []}"));
    ck_assert(!fmatch(f, "{'agent': false}"));
    ck_assert(!fmatch(f, "{'agent': 0}"));
    ck_assert(!fmatch(f, "{'agent': ''}"));
    ck_assert(!fmatch("{'agent': {'$ne': null}}", "{}"));
    ck_assert(!fmatch("{'agent': {'$ne': null}}", "{'agent': null}"));
    ck_assert(fmatch("{'agent': {'$ne': null}}", "{'agent': 'x'}"));
    ck_assert(fmatch("{'agent': {'$in': ['x', null]}}", "{}"));
}
END_TEST

START_TEST(match_numbers_are_equal_across_int32_int64_and_double)
{
    const char *f = "{'n': {'$numberInt': '5'}}";
    ck_assert(fmatch(f, "{'n': {'$numberDouble': '5.0'}}"));
    ck_assert(fmatch(f, "{'n': {'$numberLong': '5'}}"));
    ck_assert(fmatch(f, "{'n': {'$numberInt': '5'}}"));
    ck_assert(!fmatch(f, "{'n': 5.5}"));
    ck_assert(!fmatch(f, "{'n': '5'}"));
    ck_assert(!fmatch(f, "{'n': true}"));
    ck_assert(fmatch("{'n': {'$numberDouble': '5.0'}}", "{'n': {'$numberInt': '5'}}"));
    ck_assert(fmatch("{'n': {'$numberDouble': '-0.0'}}", "{'n': {'$numberInt': '0'}}"));
    /* 2^53 + 1 has no double: it must not round to 2^53. */
    ck_assert(!fmatch("{'n': {'$numberDouble': '9007199254740992.0'}}",
                      "{'n': {'$numberLong': '9007199254740993'}}"));
    ck_assert(fmatch("{'n': {'$numberDouble': '9007199254740992.0'}}",
                     "{'n': {'$numberLong': '9007199254740992'}}"));
    ck_assert(fmatch("{'n': {'$numberDouble': 'NaN'}}", "{'n': {'$numberDouble': 'NaN'}}"));
    ck_assert(!fmatch("{'n': {'$numberDouble': 'NaN'}}", "{'n': 0}"));
}
END_TEST

START_TEST(match_equality_of_strings_object_ids_booleans_and_dates)
{
    ck_assert(qmatch("type=flight", "{'type': 'flight'}"));
    ck_assert(!qmatch("type=flight", "{'type': 'Flight'}"));
    ck_assert(!qmatch("type=flight", "{'type': 'flights'}"));
    ck_assert(!qmatch("type=flight", "{}"));
    ck_assert(qmatch("customer=" OID_A, "{'customer': {'$oid': '" OID_A "'}}"));
    ck_assert(!qmatch("customer=" OID_A, "{'customer': {'$oid': '" OID_B "'}}"));
    ck_assert(!qmatch("customer=" OID_A, "{'customer': '" OID_A "'}"));
    ck_assert(fmatch("{'vip': true}", "{'vip': true}"));
    ck_assert(!fmatch("{'vip': true}", "{'vip': 1}"));
    ck_assert(!fmatch("{'vip': true}", "{'vip': 'true'}"));
    const char *f = "{'at': {'$date': '2026-03-01T10:00:00.000Z'}}";
    ck_assert(fmatch(f, "{'at': {'$date': '2026-03-01T10:00:00.000Z'}}"));
    ck_assert(!fmatch(f, "{'at': {'$date': '2026-03-01T10:00:00.001Z'}}"));
    ck_assert(!fmatch(f, "{'at': {'$numberLong': '1772359200000'}}"));
    ck_assert(!fmatch(f, "{'at': '2026-03-01T10:00:00.000Z'}"));
    ck_assert(fmatch("{'at': {'$eq': {'$date': '2026-03-01T10:00:00.000Z'}}}",
                     "{'at': {'$date': '2026-03-01T10:00:00.000Z'}}"));
}
END_TEST

START_TEST(match_embedded_document_equality_is_whole_and_ordered)
{
    const char *f = "{'pricing': {'currency': 'EUR', 'total': 10}}";
    ck_assert(fmatch(f, "{'pricing': {'currency': 'EUR', 'total': 10.0}}"));
    ck_assert(!fmatch(f, "{'pricing': {'total': 10, 'currency': 'EUR'}}"));
    ck_assert(!fmatch(f, "{'pricing': {'currency': 'EUR', 'total': 10, 'x': 1}}"));
    ck_assert(fmatch("{'p': {}}", "{'p': {}}"));
    ck_assert(!fmatch("{'p': {}}", "{'p': {'a': 1}}"));
}
END_TEST

/* ---- $in / $nin / $ne ---- */

START_TEST(match_in_list_from_the_builder)
{
    const char *q = "status=pending,confirmed";
    ck_assert(qmatch(q, "{'status': 'pending'}"));
    ck_assert(qmatch(q, "{'status': 'confirmed'}"));
    ck_assert(!qmatch(q, "{'status': 'cancelled'}"));
    ck_assert(!qmatch(q, "{}"));
    ck_assert(!qmatch(q, "{'status': null}"));
    ck_assert(qmatch(q, "{'status': ['cancelled', 'pending']}"));
}
END_TEST

START_TEST(match_in_with_object_ids)
{
    const char *f = "{'customer': {'$in': [{'$oid': '" OID_A "'}, {'$oid': '" OID_B "'}]}}";
    ck_assert(fmatch(f, "{'customer': {'$oid': '" OID_B "'}}"));
    ck_assert(!fmatch(f, "{'customer': {'$oid': '" OID_C "'}}"));
    ck_assert(!fmatch(f, "{'customer': '" OID_A "'}"));
    ck_assert(!fmatch(f, "{}"));
    ck_assert(fmatch(f, "{'customer': [{'$oid': '" OID_C "'}, {'$oid': '" OID_A "'}]}"));
    ck_assert(!fmatch("{'customer': {'$in': []}}", "{'customer': 1}"));
}
END_TEST

START_TEST(match_nin_matches_a_missing_field)
{
    const char *f = "{'status': {'$nin': ['cancelled', 'deleted']}}";
    ck_assert(fmatch(f, "{}"));
    ck_assert(fmatch(f, "{'status': null}"));
    ck_assert(fmatch(f, "{'status': 'pending'}"));
    ck_assert(!fmatch(f, "{'status': 'cancelled'}"));
    ck_assert(!fmatch(f, "{'status': ['pending', 'deleted']}"));
    ck_assert(!fmatch("{'status': {'$nin': [null]}}", "{}"));
    ck_assert(fmatch("{'status': {'$nin': []}}", "{}"));
}
END_TEST

START_TEST(match_ne_matches_missing_and_excludes_arrays_holding_the_value)
{
    const char *f = "{'status': {'$ne': 'deleted'}}";
    ck_assert(fmatch(f, "{}"));
    ck_assert(fmatch(f, "{'status': 'active'}"));
    ck_assert(fmatch(f, "{'status': ['active']}"));
    ck_assert(!fmatch(f, "{'status': 'deleted'}"));
    ck_assert(!fmatch(f, "{'status': ['active', 'deleted']}"));
    ck_assert(fmatch("{'n': {'$ne': 1}}", "{'n': 1.5}"));
    ck_assert(!fmatch("{'n': {'$ne': 1}}", "{'n': 1.0}"));
}
END_TEST

/* ---- ranges ---- */

START_TEST(match_numeric_ranges_across_int32_int64_and_double)
{
    const char *q = "minAmount=10";
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': {'$numberInt': '10'}}}"));
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': 10.5}}"));
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': {'$numberLong': '11'}}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': {'$numberLong': '9'}}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': 9.99}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': '20'}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': null}}"));
    ck_assert(!qmatch(q, "{'pricing': {}}"));
    ck_assert(!qmatch(q, "{}"));
    ck_assert(qmatch("maxAmount=9.5", "{'pricing': {'totalAmount': {'$numberInt': '9'}}}"));
    ck_assert(!qmatch("maxAmount=9.5", "{'pricing': {'totalAmount': {'$numberInt': '10'}}}"));
    ck_assert(fmatch("{'n': {'$gt': {'$numberDouble': '9007199254740992.0'}}}",
                     "{'n': {'$numberLong': '9007199254740993'}}"));
    ck_assert(!fmatch("{'n': {'$lt': 3}}", "{'n': {'$numberDouble': 'NaN'}}"));
    ck_assert(!fmatch("{'n': {'$gte': 0}}", "{'n': {'$numberDouble': 'NaN'}}"));
    ck_assert(
        fmatch("{'n': {'$lte': {'$numberDouble': 'NaN'}}}", "{'n': {'$numberDouble': 'NaN'}}"));
    ck_assert(!fmatch("{'n': {'$lt': {'$numberDouble': 'Infinity'}}}",
                      "{'n': {'$numberDouble': 'NaN'}}"));
}
END_TEST

START_TEST(match_ranges_compare_only_within_one_type_class)
{
    ck_assert(fmatch("{'s': {'$gte': 'm'}}", "{'s': 'n'}"));
    ck_assert(!fmatch("{'s': {'$gte': 'm'}}", "{'s': 100}"));
    ck_assert(!fmatch("{'n': {'$gte': 1}}", "{'n': 'zzz'}"));
    ck_assert(!fmatch("{'n': {'$gte': 1}}", "{'n': true}"));
    ck_assert(!fmatch("{'n': {'$gte': 1}}", "{'n': {'$date': '2026-01-01T00:00:00Z'}}"));
    ck_assert(!fmatch("{'d': {'$gte': {'$date': '2026-01-01T00:00:00Z'}}}", "{'d': 1e15}"));
    ck_assert(fmatch("{'id': {'$gt': {'$oid': '" OID_A "'}}}", "{'id': {'$oid': '" OID_B "'}}"));
    ck_assert(fmatch("{'n': {'$gte': null}}", "{}"));
    ck_assert(!fmatch("{'n': {'$gt': null}}", "{}"));
    ck_assert(!fmatch("{'n': {'$gt': null}}", "{'n': 1}"));
}
END_TEST

START_TEST(match_date_ranges_from_the_builder)
{
    const char *q = "from=2026-03-01&to=2026-03-31";
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, q, &l, &res), TD_OK);
    ck_assert(bson_has_field(&l.filter, "$and")); /* both ends on one field */
    td_list_free(&l);
    td_res_clear(&res);
    ck_assert(qmatch(q, "{'tripDetails': {'startDate': {'$date': '2026-03-01T00:00:00.000Z'}}}"));
    ck_assert(qmatch(q, "{'tripDetails': {'startDate': {'$date': '2026-03-31T23:59:59.999Z'}}}"));
    ck_assert(!qmatch(q, "{'tripDetails': {'startDate': {'$date': '2026-04-01T00:00:00.000Z'}}}"));
    ck_assert(!qmatch(q, "{'tripDetails': {'startDate': {'$date': '2026-02-28T23:59:59.999Z'}}}"));
    ck_assert(!qmatch(q, "{'tripDetails': {'startDate': '2026-03-15'}}"));
    ck_assert(!qmatch(q, "{'tripDetails': {'startDate': {'$numberLong': '1773532800000'}}}"));
    ck_assert(!qmatch(q, "{'tripDetails': {}}"));
    ck_assert(qmatch("from=1960-01-01", "{'tripDetails': {'startDate': {'$date': "
                                        "{'$numberLong': '-1000'}}}}"));
}
END_TEST

START_TEST(match_and_with_two_ranges_on_one_field)
{
    const char *q = "minAmount=10&maxAmount=20";
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': 15}}"));
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': 20.0}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': 25}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': 5}}"));
    /* Without $elemMatch each bound may be met by a different element. */
    ck_assert(qmatch(q, "{'pricing': {'totalAmount': [5, 25]}}"));
    ck_assert(!qmatch(q, "{'pricing': {'totalAmount': [30, 40]}}"));
    const char *f = "{'n': {'$gte': 10, '$lte': 20}}";
    ck_assert(fmatch(f, "{'n': 12}"));
    ck_assert(fmatch(f, "{'n': [5, 25]}"));
    ck_assert(!fmatch(f, "{'n': 21}"));
    ck_assert(qmatch("status=pending&minAmount=10&maxAmount=20",
                     "{'status': 'pending', 'pricing': {'totalAmount': 12.5}}"));
    ck_assert(!qmatch("status=pending&minAmount=10&maxAmount=20",
                      "{'status': 'confirmed', 'pricing': {'totalAmount': 12.5}}"));
}
END_TEST

START_TEST(match_conjunction_of_fields_needs_all)
{
    const char *f = "{'status': 'pending', 'deleted': false}";
    ck_assert(fmatch(f, "{'deleted': false, 'status': 'pending'}"));
    ck_assert(!fmatch(f, "{'status': 'pending'}"));
    ck_assert(!fmatch(f, "{'deleted': false, 'status': 'confirmed'}"));
    ck_assert(fmatch("{}", "{'a': 1}"));
    ck_assert(fmatch("{'$and': [{'a': 1}, {'$and': [{'b': 2}]}]}", "{'a': 1, 'b': 2}"));
    ck_assert(!fmatch("{'$and': [{'a': 1}, {'$and': [{'b': 2}]}]}", "{'a': 1, 'b': 3}"));
}
END_TEST

/* ---- paths and arrays ---- */

START_TEST(match_dotted_paths_through_embedded_documents)
{
    const char *f = "{'tripDetails.city': 'Paris'}";
    ck_assert(fmatch(f, "{'tripDetails': {'city': 'Paris'}}"));
    ck_assert(!fmatch(f, "{'tripDetails': {'city': 'Rome'}}"));
    ck_assert(!fmatch(f, "{'tripDetails': 'Paris'}"));
    ck_assert(!fmatch(f, "{'tripDetails.city': 'Paris'}"));
    ck_assert(fmatch("{'a.b.c': 1}", "{'a': {'b': {'c': 1}}}"));
    ck_assert(fmatch("{'a.b': null}", "{'a': 5}"));
    ck_assert(fmatch("{'a.b': {'$exists': false}}", "{'a': {'c': 1}}"));
    /* MongoDB would look into the array's elements; this subset never matches. */
    ck_assert(!fmatch(f, "{'tripDetails': [{'city': 'Paris'}]}"));
    ck_assert(!fmatch("{'tripDetails.city': {'$exists': false}}", "{'tripDetails': []}"));
    ck_assert(!fmatch("{'a..b': 1}", "{'a': {'': {'b': 1}}}"));

    bson_t *d = J("{'a': {'b': {'c': 7}}, 'x': [1]}");
    bson_iter_t it;
    ck_assert_int_eq(td_doc_find_path(d, "a.b.c", &it), TD_OK);
    ck_assert_int_eq(bson_iter_int32(&it), 7);
    ck_assert_int_eq(td_doc_find_path(d, "a.B", &it), TD_ENOTFOUND);
    ck_assert_int_eq(td_doc_find_path(d, "a.b.c.d", &it), TD_ENOTFOUND);
    ck_assert_int_eq(td_doc_find_path(d, "x", &it), TD_OK);
    ck_assert_int_eq(td_doc_find_path(d, "x.0", &it), TD_EINVAL);
    ck_assert_int_eq(td_doc_find_path(d, "a.", &it), TD_EINVAL);
    ck_assert_int_eq(td_doc_find_path(d, "", &it), TD_EINVAL);
    bson_destroy(d);
}
END_TEST

START_TEST(match_arrays_match_when_any_element_does)
{
    const char *d = "{'tags': ['beach', 'family'], 'n': [1, 50]}";
    ck_assert(fmatch("{'tags': 'family'}", d));
    ck_assert(!fmatch("{'tags': 'ski'}", d));
    ck_assert(qmatch("tag=ski,family", d));
    ck_assert(!qmatch("tag=ski,city", d));
    ck_assert(rmatch("tags", "fam", NULL, d));
    ck_assert(!rmatch("tags", "ski", NULL, d));
    ck_assert(fmatch("{'tags': ['beach', 'family']}", d));
    ck_assert(!fmatch("{'tags': ['family', 'beach']}", d));
    ck_assert(!fmatch("{'tags': {'$ne': 'beach'}}", d));
    ck_assert(!fmatch("{'tags': {'$nin': ['beach']}}", d));
    ck_assert(fmatch("{'n': {'$gt': 40}}", d));
    ck_assert(fmatch("{'n': {'$lt': 2}}", d));
    ck_assert(!fmatch("{'n': {'$gt': 50}}", d));
    ck_assert(fmatch("{'tags': {'$exists': true}}", "{'tags': []}"));
    ck_assert(fmatch("{'m': [1, 2]}", "{'m': [[1, 2], 3]}"));
}
END_TEST

/* ---- $regex ---- */

START_TEST(match_search_regex_is_a_literal_substring)
{
    ck_assert(qmatch("search=a.b", "{'searchText': 'xa.by'}"));
    ck_assert(!qmatch("search=a.b", "{'searchText': 'axb'}"));
    ck_assert(qmatch("search=Pa.ris%24", "{'searchText': 'trip to pa.ris$ now'}"));
    ck_assert(!qmatch("search=Pa.ris%24", "{'searchText': 'paris'}"));
    ck_assert(!qmatch("search=Pa.ris%24", "{'searchText': 'PA.RIS$'}")); /* no $options */
    ck_assert(qmatch("search=new-york%2F2", "{'searchText': 'new-york/2026'}"));
    ck_assert(qmatch("search=(1%2B1)*%5B2%5D%7B3%7D%7Cx%3F%5E%5C",
                     "{'searchText': '= (1+1)*[2]{3}|x?^\\\\ ='}"));
    ck_assert(!qmatch("search=(1%2B1)", "{'searchText': '11'}"));
    ck_assert(qmatch("search=caf%C3%A9", "{'searchText': 'un caf\\u00e9'}"));
    ck_assert(!qmatch("search=a.b", "{'searchText': 42}"));
    ck_assert(!qmatch("search=a.b", "{}"));
    ck_assert(rmatch("s", "", NULL, "{'s': ''}"));
}
END_TEST

START_TEST(match_regex_option_i_folds_case)
{
    ck_assert(rmatch("s", "paris", "i", "{'s': 'PARIS'}"));
    ck_assert(rmatch("s", "pa\\.ris", "i", "{'s': 'Pa.ris, FR'}"));
    ck_assert(!rmatch("s", "paris", NULL, "{'s': 'PARIS'}"));
    ck_assert(!rmatch("s", "paris", "", "{'s': 'PARIS'}"));
    ck_assert(rmatch("s", "ok", "i", "{'s': 'o\\u212a'}")); /* Kelvin sign */
    ck_assert(rmatch("s", "ss", "i", "{'s': 'S\\u017f'}")); /* long s */
    ck_assert(rmatch("s", "a", "ms", "{'s': 'a'}"));
    ck_assert(!rmatch("s", "a", "x", "{'s': 'a'}"));
    ck_assert(!rmatch("s", "caf\xc3\xa9", "i", "{'s': 'caf\\u00e9'}"));
    ck_assert(rmatch("s", "caf\xc3\xa9", NULL, "{'s': 'caf\\u00e9'}"));

    /* $options before $regex, and $regex given as a BSON regex. */
    bson_t *f = BCON_NEW("s", "{", "$options", BCON_UTF8("i"), "$regex", BCON_UTF8("x"), "}");
    bson_t *g = BCON_NEW("s", "{", "$regex", BCON_REGEX("x", ""), "$options", BCON_UTF8("i"), "}");
    bson_t *d = J("{'s': 'aXb'}");
    ck_assert(td_doc_match(f, d));
    ck_assert(td_doc_match(g, d));
    bson_destroy(f);
    bson_destroy(g);
    bson_destroy(d);

    /* A bare regex value and a regex in $in are regex matches too. */
    ck_assert(fmatch("{'s': {'$regularExpression': {'pattern': 'pa\\\\.ris', 'options': 'i'}}}",
                     "{'s': 'PA.RIS'}"));
    ck_assert(!fmatch("{'s': {'$regularExpression': {'pattern': 'pa\\\\.ris', 'options': ''}}}",
                      "{'s': 'PAxRIS'}"));
    ck_assert(fmatch("{'s': {'$in': [{'$regularExpression': {'pattern': 'x', 'options': 'i'}}]}}",
                     "{'s': 'aXb'}"));
}
END_TEST

START_TEST(match_regex_with_unescaped_metacharacters_never_matches)
{
    ck_assert(!rmatch("s", "a.b", NULL, "{'s': 'a.b'}"));
    ck_assert(!rmatch("s", "a.b", NULL, "{'s': 'axb'}"));
    ck_assert(!rmatch("s", "^a", NULL, "{'s': 'a'}"));
    ck_assert(!rmatch("s", "a|b", NULL, "{'s': 'a|b'}"));
    ck_assert(!rmatch("s", "a+", NULL, "{'s': 'a+'}"));
    ck_assert(!rmatch("s", "\\d", NULL, "{'s': 'd'}"));
    ck_assert(!rmatch("s", "a\\", NULL, "{'s': 'a'}"));
    ck_assert(!fmatch("{'s': {'$regularExpression': {'pattern': 'a.b', 'options': ''}}}",
                      "{'s': 'a.b'}"));
    ck_assert(!fmatch("{'s': {'$nin': [{'$regularExpression': {'pattern': 'a*', "
                      "'options': ''}}]}}",
                      "{'s': 'b'}"));
    bson_t *f = BCON_NEW("s", "{", "$options", BCON_UTF8("i"), "}");
    bson_t *g = BCON_NEW("s", "{", "$regex", BCON_INT32(1), "}");
    bson_t *h = BCON_NEW("s", "{", "$regex", BCON_REGEX("a", "i"), "$options", BCON_UTF8("i"), "}");
    bson_t *d = J("{'s': 'a'}");
    ck_assert(!td_doc_match(f, d)); /* $options without $regex */
    ck_assert(!td_doc_match(g, d));
    ck_assert(!td_doc_match(h, d)); /* options in both places */
    bson_destroy(f);
    bson_destroy(g);
    bson_destroy(h);
    bson_destroy(d);
}
END_TEST

/* ---- $exists and unsupported filters ---- */

START_TEST(match_exists_tests_presence_not_value)
{
    ck_assert(fmatch("{'a': {'$exists': true}}", "{'a': null}"));
    ck_assert(fmatch("{'a': {'$exists': true}}", "{'a': false}"));
    ck_assert(!fmatch("{'a': {'$exists': true}}", "{}"));
    ck_assert(fmatch("{'a': {'$exists': false}}", "{}"));
    ck_assert(!fmatch("{'a': {'$exists': false}}", "{'a': null}"));
    ck_assert(fmatch("{'a': {'$exists': 1}}", "{'a': 0}"));
    ck_assert(fmatch("{'a': {'$exists': 0}}", "{'b': 0}"));
}
END_TEST

START_TEST(match_unsupported_filters_never_match)
{
    const char *d = "{'a': 1, 'b': [1, 2], 'd': {'$numberDecimal': '1'}}";
    ck_assert(!fmatch("{'$or': [{'a': 1}]}", d));
    ck_assert(!fmatch("{'$where': 'true'}", d));
    ck_assert(!fmatch("{'b': {'$elemMatch': {'$gt': 0}}}", d));
    ck_assert(!fmatch("{'a': {'$gt': 0, '$foo': 1}}", d));
    ck_assert(!fmatch("{'a': {'$in': 1}}", d));
    ck_assert(!fmatch("{'a': {'$nin': 1}}", d));
    ck_assert(!fmatch("{'a': {'$in': [{'$gt': 0}]}}", d));
    ck_assert(!fmatch("{'a': {'$nin': [{'$gt': 5}]}}", d));
    ck_assert(!fmatch("{'b': {'$gt': [0]}}", d));
    ck_assert(
        !fmatch("{'a': {'$ne': {'$regularExpression': {'pattern': 'x', 'options': ''}}}}", d));
    ck_assert(!fmatch("{'$and': []}", d));
    ck_assert(!fmatch("{'$and': [1]}", d));
    ck_assert(!fmatch("{'$and': {'a': 1}}", d));
    ck_assert(!fmatch("{'a': {'$exists': 'yes'}}", d));
    ck_assert(!fmatch("{'d': 1}", d));
    ck_assert(!fmatch("{'d': {'$gte': 0}}", d));
    ck_assert(!fmatch("{'a': {'$gte': {'$numberDecimal': '0'}}}", d));
    ck_assert(!fmatch("{'a': {'$gt': {'$minKey': 1}}}", d));
    ck_assert(!td_doc_match(NULL, NULL));

    /* Deeper than the nesting limit: no match, no stack overflow. */
    bson_t *f = bson_new(), *doc = J(d);
    bson_t *cur = f, levels[DEEP_AND], arrays[DEEP_AND];
    for (int i = 0; i < DEEP_AND; i++) {
        BSON_APPEND_ARRAY_BEGIN(cur, "$and", &arrays[i]);
        BSON_APPEND_DOCUMENT_BEGIN(&arrays[i], "0", &levels[i]);
        cur = &levels[i];
    }
    BSON_APPEND_INT32(cur, "a", 1);
    for (int i = DEEP_AND - 1; i >= 0; i--) {
        bson_append_document_end(&arrays[i], &levels[i]);
        bson_append_array_end(i == 0 ? f : &levels[i - 1], &arrays[i]);
    }
    ck_assert(!td_doc_match(f, doc));
    bson_destroy(f);
    bson_destroy(doc);
}
END_TEST

/* ---- sort ---- */

static const bson_t *qsort_spec;

static int qsort_cmp(const void *a, const void *b)
{
    return td_doc_compare(qsort_spec, *(bson_t *const *)a, *(bson_t *const *)b);
}

/* Sorts the documents (JSON, each with an int _id) by sort and checks the _ids. */
static void assert_sorted(const bson_t *sort, const char *const *docs, const int *want, int n)
{
    bson_t *d[32];
    ck_assert_int_le(n, 32);
    for (int i = 0; i < n; i++)
        d[i] = J(docs[i]);
    qsort_spec = sort;
    qsort(d, (size_t)n, sizeof d[0], qsort_cmp);
    for (int i = 0; i < n; i++) {
        bson_iter_t it;
        ck_assert(bson_iter_init_find(&it, d[i], "_id"));
        ck_assert_msg(bson_iter_as_int64(&it) == want[i], "position %d: _id %d, want %d", i,
                      (int)bson_iter_as_int64(&it), want[i]);
    }
    for (int i = 0; i < n; i++)
        bson_destroy(d[i]);
}

START_TEST(compare_orders_mixed_types_as_mongodb)
{
    static const char *const docs[] = {
        "{'_id': 0, 'v': {'$date': '2026-01-01T00:00:00Z'}}",
        "{'_id': 1, 'v': true}",
        "{'_id': 2, 'v': false}",
        "{'_id': 3, 'v': {'$oid': '" OID_B "'}}",
        "{'_id': 4, 'v': {'$oid': '" OID_A "'}}",
        "{'_id': 5, 'v': {'$binary': {'base64': 'AAAA', 'subType': '00'}}}",
        "{'_id': 6, 'v': {'a': 2}}",
        "{'_id': 7, 'v': {'a': 1}}",
        "{'_id': 8, 'v': {}}",
        "{'_id': 9, 'v': 'b'}",
        "{'_id': 10, 'v': 'ab'}",
        "{'_id': 11, 'v': 'a'}",
        "{'_id': 12, 'v': 'B'}",
        "{'_id': 13, 'v': 'caf\\u00e9'}",
        "{'_id': 14, 'v': {'$numberLong': '3'}}",
        "{'_id': 15, 'v': 2.5}",
        "{'_id': 16, 'v': {'$numberInt': '2'}}",
        "{'_id': 17, 'v': {'$numberDouble': 'NaN'}}",
        "{'_id': 18, 'v': -1}",
        "{'_id': 19, 'v': null}",
        "{'_id': 20}",
        "{'_id': 21, 'v': {'$date': '1969-12-31T23:59:59Z'}}",
        "{'_id': 22, 'v': {'$numberDouble': '-Infinity'}}",
    };
    static const int asc[] = {19, 20, 17, 22, 18, 16, 15, 14, 12, 11, 10, 9,
                              13, 8,  7,  6,  5,  4,  3,  2,  1,  21, 0};
    bson_t *sort = J("{'v': 1, '_id': 1}");
    assert_sorted(sort, docs, asc, 23);
    bson_destroy(sort);
    int desc[23];
    for (int i = 0; i < 23; i++)
        desc[i] = asc[22 - i];
    sort = J("{'v': -1, '_id': -1}");
    assert_sorted(sort, docs, desc, 23);
    bson_destroy(sort);
}
END_TEST

START_TEST(compare_arrays_sort_by_smallest_ascending_and_largest_descending)
{
    static const char *const docs[] = {
        "{'_id': 1, 'v': [1, 10]}",  "{'_id': 2, 'v': 5}", "{'_id': 3, 'v': []}", "{'_id': 4}",
        "{'_id': 5, 'v': ['a', 7]}",
    };
    static const int asc[] = {3, 4, 1, 2, 5};
    static const int desc[] = {5, 1, 2, 4, 3};
    bson_t *sort = J("{'v': 1}");
    assert_sorted(sort, docs, asc, 5);
    bson_destroy(sort);
    sort = J("{'v': -1}");
    assert_sorted(sort, docs, desc, 5);
    bson_destroy(sort);
}
END_TEST

START_TEST(compare_ties_are_broken_by_the_second_key)
{
    td_list l;
    td_res res = {0};
    ck_assert_int_eq(td_list_parse(&spec, "", &l, &res), TD_OK); /* createdAt -1, _id -1 */
    static const char *const newest[] = {
        "{'_id': 1, 'createdAt': {'$date': '2026-03-01T00:00:00Z'}}",
        "{'_id': 2, 'createdAt': {'$date': '2026-03-02T00:00:00Z'}}",
        "{'_id': 3, 'createdAt': {'$date': '2026-03-01T00:00:00Z'}}",
        "{'_id': 4}",
        "{'_id': 5, 'createdAt': {'$date': '2026-03-02T00:00:00Z'}}",
    };
    static const int want[] = {5, 2, 3, 1, 4};
    assert_sorted(&l.sort, newest, want, 5);
    td_list_free(&l);

    ck_assert_int_eq(td_list_parse(&spec, "sortBy=amount&sortOrder=asc", &l, &res), TD_OK);
    static const char *const amounts[] = {
        "{'_id': 1, 'pricing': {'totalAmount': 10.0}}",
        "{'_id': 2, 'pricing': {'totalAmount': {'$numberInt': '10'}}}",
        "{'_id': 3, 'pricing': {'totalAmount': {'$numberLong': '9'}}}",
        "{'_id': 4, 'pricing': {}}",
        "{'_id': 5, 'pricing': {'totalAmount': 9.5}}",
    };
    static const int by_amount[] = {4, 3, 5, 1, 2};
    assert_sorted(&l.sort, amounts, by_amount, 5);
    td_list_free(&l);
    td_res_clear(&res);
}
END_TEST

START_TEST(compare_numbers_exactly_and_invalid_specs_tie)
{
    bson_t *sort = J("{'n': 1}");
    bson_t *i2 = J("{'n': {'$numberInt': '2'}}"), *d2 = J("{'n': 2.0}");
    bson_t *big = J("{'n': {'$numberLong': '9007199254740993'}}");
    bson_t *dbig = J("{'n': {'$numberDouble': '9007199254740992.0'}}");
    ck_assert_int_eq(td_doc_compare(sort, i2, d2), 0);
    ck_assert_int_gt(td_doc_compare(sort, big, dbig), 0);
    ck_assert_int_lt(td_doc_compare(sort, dbig, big), 0);
    ck_assert_int_lt(td_doc_compare(sort, d2, big), 0);
    bson_destroy(sort);
    static const char *const bad[] = {"{'n': 2}", "{'n': 'asc'}", "{'n': 0}",
                                      "{'n': {'$meta': 'textScore'}}", "{'': 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sort = J(bad[i]);
        ck_assert_int_eq(td_doc_compare(sort, i2, big), 0);
        bson_destroy(sort);
    }
    sort = J("{'n': {'$numberLong': '-1'}}");
    ck_assert_int_gt(td_doc_compare(sort, i2, big), 0);
    bson_destroy(sort);
    ck_assert_int_eq(td_doc_compare(NULL, i2, big), 0);
    bson_destroy(i2);
    bson_destroy(d2);
    bson_destroy(big);
    bson_destroy(dbig);
}
END_TEST

/* {v: {a: {a: ... {}}}} nested levels deep, written as raw BSON; caller frees. */
static uint8_t *deep_doc(int levels, size_t *len)
{
    size_t inner = 5 + 8 * (size_t)levels, n = 4 + 3 + inner + 1;
    uint8_t *b = calloc(1, n), *p = b;
    ck_assert_ptr_nonnull(b);
    uint32_t total = (uint32_t)n;
    memcpy(p, &total, 4); /* little-endian host */
    p += 4;
    *p++ = 0x03;
    *p++ = 'v';
    p++;
    for (int k = levels; k >= 0; k--) {
        uint32_t l = (uint32_t)(5 + 8 * k);
        memcpy(p, &l, 4);
        p += 4;
        if (k > 0) {
            *p++ = 0x03;
            *p++ = 'a';
            p++;
        }
    }
    *len = n; /* the rest is the zero terminators */
    return b;
}

START_TEST(compare_and_match_survive_absurd_nesting)
{
    size_t la, lb;
    uint8_t *a = deep_doc(DEEP_DOC, &la), *b = deep_doc(DEEP_DOC, &lb);
    bson_t da, db;
    ck_assert(bson_init_static(&da, a, la));
    ck_assert(bson_init_static(&db, b, lb));
    bson_t *sort = J("{'v': 1}");
    ck_assert_int_eq(td_doc_compare(sort, &da, &db), 0);
    ck_assert(!td_doc_match(&da, &db)); /* too deep to compare exactly: unsupported */
    bson_destroy(sort);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docmatch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, match_false_does_not_match_a_missing_field);
    tcase_add_test(tc, match_null_matches_null_missing_and_arrays_holding_null);
    tcase_add_test(tc, match_numbers_are_equal_across_int32_int64_and_double);
    tcase_add_test(tc, match_equality_of_strings_object_ids_booleans_and_dates);
    tcase_add_test(tc, match_embedded_document_equality_is_whole_and_ordered);
    tcase_add_test(tc, match_in_list_from_the_builder);
    tcase_add_test(tc, match_in_with_object_ids);
    tcase_add_test(tc, match_nin_matches_a_missing_field);
    tcase_add_test(tc, match_ne_matches_missing_and_excludes_arrays_holding_the_value);
    tcase_add_test(tc, match_numeric_ranges_across_int32_int64_and_double);
    tcase_add_test(tc, match_ranges_compare_only_within_one_type_class);
    tcase_add_test(tc, match_date_ranges_from_the_builder);
    tcase_add_test(tc, match_and_with_two_ranges_on_one_field);
    tcase_add_test(tc, match_conjunction_of_fields_needs_all);
    tcase_add_test(tc, match_dotted_paths_through_embedded_documents);
    tcase_add_test(tc, match_arrays_match_when_any_element_does);
    tcase_add_test(tc, match_search_regex_is_a_literal_substring);
    tcase_add_test(tc, match_regex_option_i_folds_case);
    tcase_add_test(tc, match_regex_with_unescaped_metacharacters_never_matches);
    tcase_add_test(tc, match_exists_tests_presence_not_value);
    tcase_add_test(tc, match_unsupported_filters_never_match);
    tcase_add_test(tc, compare_orders_mixed_types_as_mongodb);
    tcase_add_test(tc, compare_arrays_sort_by_smallest_ascending_and_largest_descending);
    tcase_add_test(tc, compare_ties_are_broken_by_the_second_key);
    tcase_add_test(tc, compare_numbers_exactly_and_invalid_specs_tie);
    tcase_add_test(tc, compare_and_match_survive_absurd_nesting);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
