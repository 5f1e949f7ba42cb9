/* Unit tests for the pure parts of shared/src/idempotency.c: key validation, the
 * scope hash that names a record, the request fingerprint and derived ids. */
#include "tripdesk/idempotency.h"

#include "run_suite.h"

#include <check.h>
#include <string.h>

START_TEST(key_of_printable_ascii_up_to_255_is_valid)
{
    char k[TD_IDEM_KEY_MAX + 2];
    memset(k, 'a', sizeof k);
    k[TD_IDEM_KEY_MAX] = '\0';
    ck_assert(td_idem_key_valid(k));
    ck_assert(td_idem_key_valid("a b~!"));
    k[TD_IDEM_KEY_MAX] = 'a';
    k[TD_IDEM_KEY_MAX + 1] = '\0';
    ck_assert(!td_idem_key_valid(k)); /* 256 */
    ck_assert(!td_idem_key_valid(""));
    ck_assert(!td_idem_key_valid(NULL));
    ck_assert(!td_idem_key_valid("tab\there"));
    ck_assert(!td_idem_key_valid("caf\xc3\xa9"));
    ck_assert(!td_idem_key_valid("del\x7f"));
}
END_TEST

START_TEST(record_id_is_sha256_of_the_scope_and_key)
{
    char id[TD_IDEM_HEX_LEN];
    td_idem_record_id("a", "POST", "/api/customers", "k1", id);
    ck_assert_str_eq(id, "4360977024abce0ad2536f784d54bbeb5eb42a812a6891b0aea88268af4f6528");
}
END_TEST

START_TEST(derived_id_is_the_time_then_the_keys_sha256)
{
    bson_oid_t a, b, c;
    char hex[25];
    td_derive_oid("e1:a1", 1796600000123, &a);
    bson_oid_to_string(&a, hex);
    /* 1796600000 s big-endian, then SHA-256("e1:a1") from its start */
    ck_assert_str_eq(hex, "6b15f0c0feddc5cab18c0280");
    td_derive_oid("e1:a1", 1796600000123, &b);
    ck_assert(bson_oid_equal(&a, &b));
    td_derive_oid("e1:a2", 1796600000123, &c);
    ck_assert(!bson_oid_equal(&a, &c));
}
END_TEST

START_TEST(record_id_differs_by_agent_method_path_and_key)
{
    char a[TD_IDEM_HEX_LEN], b[TD_IDEM_HEX_LEN];
    td_idem_record_id("a", "POST", "/api/customers", "k1", a);
    td_idem_record_id("b", "POST", "/api/customers", "k1", b);
    ck_assert_str_ne(a, b);
    td_idem_record_id("a", "PUT", "/api/customers", "k1", b);
    ck_assert_str_ne(a, b);
    td_idem_record_id("a", "POST", "/api/leads", "k1", b);
    ck_assert_str_ne(a, b);
    td_idem_record_id("a", "POST", "/api/customers", "k2", b);
    ck_assert_str_ne(a, b);
    /* the separators keep parts apart: ("ab","c") is not ("a","bc") */
    td_idem_record_id("a", "POST", "/api/customers", "bk1", a);
    td_idem_record_id("ab", "POST", "/api/customers", "k1", b);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(fingerprint_tells_bodies_and_queries_apart)
{
    char a[TD_IDEM_HEX_LEN], b[TD_IDEM_HEX_LEN];
    td_idem_fingerprint("", (const uint8_t *)"{\"a\":1}", 7, a);
    td_idem_fingerprint("", (const uint8_t *)"{\"a\":1}", 7, b);
    ck_assert_str_eq(a, b);
    td_idem_fingerprint("", (const uint8_t *)"{\"a\":2}", 7, b);
    ck_assert_str_ne(a, b);
    td_idem_fingerprint("x=1", (const uint8_t *)"{\"a\":1}", 7, b);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(derived_ids_are_stable_distinct_and_keep_the_seed_time)
{
    bson_oid_t seed, a, b, c;
    bson_oid_init(&seed, NULL);
    td_idem_derive_oid(&seed, 0, &a);
    ck_assert(bson_oid_equal(&seed, &a));
    td_idem_derive_oid(&seed, 1, &a);
    td_idem_derive_oid(&seed, 1, &b);
    td_idem_derive_oid(&seed, 2, &c);
    ck_assert(bson_oid_equal(&a, &b));
    ck_assert(!bson_oid_equal(&a, &c) && !bson_oid_equal(&a, &seed));
    ck_assert_int_eq(bson_oid_get_time_t(&a), bson_oid_get_time_t(&seed));
}
END_TEST

START_TEST(request_without_claim_gets_fresh_ids_with_one_the_seeded_ones)
{
    td_req req = {0};
    bson_oid_t a, b;
    td_req_new_oid(&req, &a);
    td_req_new_oid(&req, &b);
    ck_assert(!bson_oid_equal(&a, &b));
    td_idem st = {0};
    bson_oid_init(&st.seed, NULL);
    req.idem = &st;
    td_req_new_oid(&req, &a);
    ck_assert(bson_oid_equal(&a, &st.seed));
    td_req_new_oid(&req, &b);
    bson_oid_t expect;
    td_idem_derive_oid(&st.seed, 1, &expect);
    ck_assert(bson_oid_equal(&b, &expect));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idempotency");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, key_of_printable_ascii_up_to_255_is_valid);
    tcase_add_test(tc, record_id_is_sha256_of_the_scope_and_key);
    tcase_add_test(tc, record_id_differs_by_agent_method_path_and_key);
    tcase_add_test(tc, derived_id_is_the_time_then_the_keys_sha256);
    tcase_add_test(tc, fingerprint_tells_bodies_and_queries_apart);
    tcase_add_test(tc, derived_ids_are_stable_distinct_and_keep_the_seed_time);
    tcase_add_test(tc, request_without_claim_gets_fresh_ids_with_one_the_seeded_ones);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
