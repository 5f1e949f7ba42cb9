/* Unit tests of shared/src/bsonpath.c: each accessor answers the value at a field
 * name or a dotted path when it is there and of its type, and NULL, false or the
 * caller's default when it is absent, of another type, or behind a non-document. */
#include "tripdesk/bsonpath.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

#define WHEN_MS 1798761600000LL /* 2027-01-01 */
#define OID_HEX "65a1b2c3d4e5f60718293a4b"

static bson_t *doc;

/* {name, count, ratio, big, when, id, trip: {title, start, travellers: {adults}},
 *  tags: ["a"], flag} */
static void setup(void)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, OID_HEX);
    doc = BCON_NEW("name", BCON_UTF8("Ada"), "count", BCON_INT32(7), "ratio", BCON_DOUBLE(2.75),
                   "big", BCON_INT64(5000000000LL), "when", BCON_DATE_TIME(WHEN_MS), "id",
                   BCON_OID(&oid), "trip", "{", "title", BCON_UTF8("Lisbon"), "start",
                   BCON_DATE_TIME(WHEN_MS + 1), "owner", BCON_OID(&oid), "travellers", "{",
                   "adults", BCON_INT32(2), "}", "}", "tags", "[", BCON_UTF8("a"), "]", "flag",
                   BCON_BOOL(true));
}

static void teardown(void)
{
    bson_destroy(doc);
}

START_TEST(test_str)
{
    ck_assert_str_eq(td_bson_str(doc, "name"), "Ada");
    ck_assert_str_eq(td_bson_str(doc, "trip.title"), "Lisbon");
    ck_assert_ptr_null(td_bson_str(doc, "missing"));
    ck_assert_ptr_null(td_bson_str(doc, "count"));      /* another type */
    ck_assert_ptr_null(td_bson_str(doc, "trip"));       /* a document */
    ck_assert_ptr_null(td_bson_str(doc, "name.first")); /* through a string */
    ck_assert_ptr_null(td_bson_str(doc, "trip.nothing"));
}
END_TEST

START_TEST(test_int_and_num)
{
    ck_assert_int_eq(td_bson_int(doc, "count", -1), 7);
    ck_assert_int_eq(td_bson_int(doc, "big", -1), 5000000000LL);
    ck_assert_int_eq(td_bson_int(doc, "ratio", -1), 2); /* a double, truncated */
    ck_assert_int_eq(td_bson_int(doc, "trip.travellers.adults", -1), 2);
    ck_assert_int_eq(td_bson_int(doc, "missing", -1), -1);
    ck_assert_int_eq(td_bson_int(doc, "name", -1), -1);
    ck_assert_int_eq(td_bson_int(doc, "when", -1), -1); /* a date is no number */
    ck_assert_int_eq(td_bson_int(doc, "flag", -1), -1);
    ck_assert_double_eq(td_bson_num(doc, "ratio", -1), 2.75);
    ck_assert_double_eq(td_bson_num(doc, "count", -1), 7);
    ck_assert_double_eq(td_bson_num(doc, "trip.travellers.adults", -1), 2);
    ck_assert_double_eq(td_bson_num(doc, "trip.travellers.children", -1), -1);
    ck_assert_double_eq(td_bson_num(doc, "name", -1), -1);
}
END_TEST

START_TEST(test_bool)
{
    ck_assert(td_bson_bool(doc, "flag", false));
    ck_assert(!td_bson_bool(doc, "missing", false));
    ck_assert(td_bson_bool(doc, "missing", true));
    ck_assert(td_bson_bool(doc, "count", true)); /* a number is no boolean */
    ck_assert(!td_bson_bool(doc, "count", false));
}
END_TEST

START_TEST(test_date)
{
    ck_assert_int_eq(td_bson_date(doc, "when", 0), WHEN_MS);
    ck_assert_int_eq(td_bson_date(doc, "trip.start", 0), WHEN_MS + 1);
    ck_assert_int_eq(td_bson_date(doc, "big", 0), 0); /* a number is no date */
    ck_assert_int_eq(td_bson_date(doc, "trip.end", 42), 42);
}
END_TEST

START_TEST(test_oid)
{
    bson_oid_t want, got, untouched;
    bson_oid_init_from_string(&want, OID_HEX);
    ck_assert(td_bson_oid(doc, "id", &got));
    ck_assert_int_eq(bson_oid_compare(&got, &want), 0);
    ck_assert(td_bson_oid(doc, "trip.owner", &got));
    ck_assert_int_eq(bson_oid_compare(&got, &want), 0);
    memset(&untouched, 0x5a, sizeof untouched);
    got = untouched;
    ck_assert(!td_bson_oid(doc, "name", &got));
    ck_assert(!td_bson_oid(doc, "missing", &got));
    ck_assert_int_eq(memcmp(&got, &untouched, sizeof got), 0);

    char hex[25] = "stale";
    ck_assert_str_eq(td_bson_oid_hex(doc, "id", hex), OID_HEX);
    ck_assert_str_eq(td_bson_oid_hex(doc, "trip.owner", hex), OID_HEX);
    ck_assert_str_eq(td_bson_oid_hex(doc, "name", hex), "");
    ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_at)
{
    bson_iter_t it;
    ck_assert(td_bson_at(doc, "flag", &it));
    ck_assert(BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it));
    ck_assert(td_bson_at(doc, "trip.travellers", &it));
    ck_assert(BSON_ITER_HOLDS_DOCUMENT(&it));
    ck_assert(td_bson_at(doc, "tags.0", &it)); /* an array element by its index */
    ck_assert_str_eq(bson_iter_utf8(&it, NULL), "a");
    ck_assert(!td_bson_at(doc, "tags.1", &it));
    ck_assert(!td_bson_at(doc, "", &it));
    ck_assert(!td_bson_at(doc, NULL, &it));
    ck_assert(!td_bson_at(NULL, "name", &it));

    bson_t empty = BSON_INITIALIZER;
    ck_assert_ptr_null(td_bson_str(&empty, "name"));
    ck_assert_int_eq(td_bson_int(&empty, "count", 9), 9);
    bson_destroy(&empty);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bsonpath");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_str);
    tcase_add_test(tc, test_int_and_num);
    tcase_add_test(tc, test_bool);
    tcase_add_test(tc, test_date);
    tcase_add_test(tc, test_oid);
    tcase_add_test(tc, test_at);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
