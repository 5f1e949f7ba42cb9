/* Unit tests of shared/src/token.c: HS256 signing and verification, the claim, issuer
 * and algorithm checks libjwt leaves out, and where the secret comes from. */
#include "tripdesk/token.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"

#include "run_suite.h"

#include <check.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "0123456789abcdef0123456789abcdef-unit-test"
#define OTHER_SECRET "fedcba9876543210fedcba9876543210-other-key"
#define NOW ((int64_t)1770000000) /* a fixed instant in 2026, unix seconds */
#define HOUR 3600

static void clear_env(void)
{
    unsetenv(TD_ENV_JWT_SECRET);
    unsetenv(TD_ENV_JWT_ISSUER);
    unsetenv(TD_ENV_DEV_MODE);
}

/* Every test starts from the same key and the default issuer, whatever the one
 * before it did (tests share one process when CK_FORK=no). */
static void setup(void)
{
    clear_env();
    setenv(TD_ENV_JWT_SECRET, SECRET, 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
}

static void teardown(void)
{
    clear_env();
}

static td_claims valid_claims(void)
{
    td_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", "65f1c0ffee0123456789abcd");
    snprintf(c.role, sizeof c.role, "%s", "agent");
    snprintf(c.jti, sizeof c.jti, "%s", "jti-0001");
    c.iat = NOW;
    c.exp = NOW + HOUR;
    c.ver = 3;
    return c;
}

/* Signs claims with td_token_sign; the caller frees the token. */
static char *sign(const td_claims *c)
{
    char *token = NULL;
    ck_assert_int_eq(td_token_sign(c, &token), TD_OK);
    ck_assert_ptr_nonnull(token);
    return token;
}

static td_token_result verify(const char *token, int64_t now)
{
    td_claims out;
    return td_token_verify(token, now, &out);
}

/* base64url without padding of len bytes; malloc'd, the caller frees it. */
static char *b64url(const char *in, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len * 4 / 3 + 4);
    ck_assert_ptr_nonnull(out);
    size_t w = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[w++] = abc[(v >> 18) & 63];
        out[w++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[w++] = abc[(v >> 6) & 63];
        if (i + 2 < len)
            out[w++] = abc[v & 63];
    }
    out[w] = '\0';
    return out;
}

/* Builds "b64(header).b64(payload).sig" by hand; malloc'd. */
static char *hand_token(const char *header, const char *payload, const char *sig)
{
    char *h = b64url(header, strlen(header));
    char *p = b64url(payload, strlen(payload));
    size_t cap = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    snprintf(t, cap, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return t;
}

/* A JSON payload with every claim TripDesk signs, valid at NOW. */
static void full_payload(char *buf, size_t len, const char *iss, const char *role)
{
    snprintf(buf, len,
             "{\"sub\":\"65f1c0ffee0123456789abcd\",\"role\":\"%s\",\"iss\":\"%s\","
             "\"exp\":%lld,\"iat\":%lld,\"ver\":1}",
             role, iss, (long long)(NOW + HOUR), (long long)NOW);
}

/* Signs grants (a JSON object) with libjwt directly using alg and key; malloc'd. */
static char *libjwt_token(jwt_alg_t alg, const char *key, const char *grants_json)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, grants_json), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key)), 0);
    char *t = jwt_encode_str(jwt);
    jwt_free(jwt);
    ck_assert_ptr_nonnull(t);
    /* jwt_encode_str allocates with libjwt's allocator, which is malloc by default. */
    return t;
}

/* ---- sign and verify ---- */

START_TEST(token_sign_then_verify_round_trips_claims)
{
    td_claims in = valid_claims();
    char *token = sign(&in);
    ck_assert_int_eq(strncmp(token, "eyJ", 3), 0);
    td_claims out;
    memset(&out, 0xab, sizeof out);
    ck_assert_int_eq(td_token_verify(token, NOW, &out), TD_TOKEN_OK);
    ck_assert_str_eq(out.sub, in.sub);
    ck_assert_str_eq(out.role, in.role);
    ck_assert_str_eq(out.jti, in.jti);
    ck_assert_int_eq(out.exp, in.exp);
    ck_assert_int_eq(out.iat, in.iat);
    ck_assert_int_eq(out.ver, in.ver);
    free(token);
}
END_TEST

START_TEST(token_without_jti_verifies_with_empty_jti)
{
    td_claims in = valid_claims();
    in.jti[0] = '\0';
    char *token = sign(&in);
    td_claims out;
    ck_assert_int_eq(td_token_verify(token, NOW, &out), TD_TOKEN_OK);
    ck_assert_str_eq(out.jti, "");
    ck_assert_str_eq(out.sub, in.sub);
    free(token);
}
END_TEST

START_TEST(token_signed_by_libjwt_hs256_with_same_secret_verifies)
{
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "admin");
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    td_claims out;
    ck_assert_int_eq(td_token_verify(token, NOW, &out), TD_TOKEN_OK);
    ck_assert_str_eq(out.role, "admin");
    free(token);
}
END_TEST

START_TEST(token_expired_is_rejected)
{
    td_claims in = valid_claims();
    in.exp = NOW - 1;
    char *token = sign(&in);
    td_claims out;
    ck_assert_int_eq(td_token_verify(token, NOW, &out), TD_TOKEN_EXPIRED);
    free(token);
}
END_TEST

START_TEST(token_expires_at_exactly_exp)
{
    td_claims in = valid_claims();
    char *token = sign(&in);
    ck_assert_int_eq(verify(token, in.exp - 1), TD_TOKEN_OK);
    ck_assert_int_eq(verify(token, in.exp), TD_TOKEN_EXPIRED);
    ck_assert_int_eq(verify(token, in.exp + 1), TD_TOKEN_EXPIRED);
    free(token);
}
END_TEST

START_TEST(token_of_other_issuer_is_bad_issuer)
{
    setenv(TD_ENV_JWT_ISSUER, "someone-else", 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    td_claims in = valid_claims();
    char *token = sign(&in);
    /* The signer's own issuer accepts it... */
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_OK);
    /* ...the default issuer, with the same key, does not. */
    unsetenv(TD_ENV_JWT_ISSUER);
    ck_assert_int_eq(td_token_init(), TD_OK);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_ISSUER);
    free(token);
}
END_TEST

START_TEST(token_without_issuer_is_bad_issuer)
{
    char payload[512];
    snprintf(payload, sizeof payload, "{\"sub\":\"a1\",\"role\":\"agent\",\"exp\":%lld}",
             (long long)(NOW + HOUR));
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_ISSUER);
    free(token);
}
END_TEST

START_TEST(token_with_tampered_payload_is_malformed)
{
    td_claims in = valid_claims();
    char *token = sign(&in);
    char *dot1 = strchr(token, '.');
    ck_assert_ptr_nonnull(dot1);
    char *dot2 = strchr(dot1 + 1, '.');
    ck_assert_ptr_nonnull(dot2);

    /* Same header and signature, payload re-encoded with a raised role. */
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "admin");
    char *forged_payload = b64url(payload, strlen(payload));
    *dot1 = '\0';
    size_t cap = strlen(token) + strlen(forged_payload) + strlen(dot2) + 2;
    char *forged = malloc(cap);
    ck_assert_ptr_nonnull(forged);
    snprintf(forged, cap, "%s.%s%s", token, forged_payload, dot2);
    *dot1 = '.';
    ck_assert_int_eq(verify(forged, NOW), TD_TOKEN_MALFORMED);

    /* One flipped character of the original payload. */
    dot1[2] = dot1[2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);

    free(forged);
    free(forged_payload);
    free(token);
}
END_TEST

START_TEST(token_with_tampered_signature_is_malformed)
{
    td_claims in = valid_claims();
    char *token = sign(&in);
    size_t n = strlen(token);
    token[n - 2] = token[n - 2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);
    /* Signature removed entirely. */
    strrchr(token, '.')[1] = '\0';
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);
    free(token);
}
END_TEST

START_TEST(token_signed_with_other_secret_is_malformed)
{
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "agent");
    char *token = libjwt_token(JWT_ALG_HS256, OTHER_SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);
    free(token);
}
END_TEST

START_TEST(token_is_rejected_after_secret_rotation)
{
    td_claims in = valid_claims();
    char *token = sign(&in);
    setenv(TD_ENV_JWT_SECRET, OTHER_SECRET, 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);
    free(token);
}
END_TEST

START_TEST(token_alg_none_is_rejected)
{
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "admin");
    static const char *const headers[] = {"{\"alg\":\"none\"}",
                                          "{\"alg\":\"none\",\"typ\":\"JWT\"}",
                                          "{\"alg\":\"NONE\",\"typ\":\"JWT\"}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *token = hand_token(headers[i], payload, "");
        td_claims out;
        td_token_result r = td_token_verify(token, NOW, &out);
        ck_assert_msg(r == TD_TOKEN_MALFORMED || r == TD_TOKEN_BAD_ALG,
                      "alg none header %s gave %d", headers[i], (int)r);
        ck_assert_str_eq(out.role, "");
        free(token);
    }
}
END_TEST

START_TEST(token_alg_none_with_forged_signature_is_rejected)
{
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "admin");
    char *token = hand_token("{\"alg\":\"none\"}", payload, "c2lnbmF0dXJl");
    td_token_result r = verify(token, NOW);
    ck_assert_msg(r == TD_TOKEN_MALFORMED || r == TD_TOKEN_BAD_ALG, "gave %d", (int)r);
    free(token);
}
END_TEST

START_TEST(token_hs512_with_same_secret_is_bad_alg)
{
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", "agent");
    static const jwt_alg_t algs[] = {JWT_ALG_HS384, JWT_ALG_HS512};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char *token = libjwt_token(algs[i], SECRET, payload);
        /* The signature is valid for its algorithm; the algorithm is what is wrong. */
        ck_assert_msg(verify(token, NOW) == TD_TOKEN_BAD_ALG, "alg %d accepted or misread",
                      (int)algs[i]);
        free(token);
    }
}
END_TEST

START_TEST(token_missing_role_is_bad_claims)
{
    char payload[512];
    snprintf(payload, sizeof payload, "{\"sub\":\"a1\",\"iss\":\"tripdesk\",\"exp\":%lld}",
             (long long)(NOW + HOUR));
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);
}
END_TEST

START_TEST(token_empty_role_is_bad_claims)
{
    td_claims in = valid_claims();
    in.role[0] = '\0';
    char *token = sign(&in);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);
}
END_TEST

START_TEST(token_missing_sub_or_exp_is_bad_claims)
{
    char payload[512];
    snprintf(payload, sizeof payload, "{\"role\":\"agent\",\"iss\":\"tripdesk\",\"exp\":%lld}",
             (long long)(NOW + HOUR));
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);

    token = libjwt_token(JWT_ALG_HS256, SECRET,
                         "{\"sub\":\"a1\",\"role\":\"agent\",\"iss\":\"tripdesk\"}");
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);
}
END_TEST

START_TEST(token_sub_or_role_of_wrong_type_is_bad_claims)
{
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"sub\":42,\"role\":\"agent\",\"iss\":\"tripdesk\",\"exp\":%lld}",
             (long long)(NOW + HOUR));
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);

    snprintf(payload, sizeof payload,
             "{\"sub\":\"a1\",\"role\":[\"admin\"],\"iss\":\"tripdesk\",\"exp\":%lld}",
             (long long)(NOW + HOUR));
    token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_BAD_CLAIMS);
    free(token);
}
END_TEST

START_TEST(token_overlong_role_is_bad_claims)
{
    char role[TD_TOKEN_FIELD_MAX + 1];
    memset(role, 'r', TD_TOKEN_FIELD_MAX);
    role[TD_TOKEN_FIELD_MAX] = '\0';
    char payload[512];
    full_payload(payload, sizeof payload, "tripdesk", role);
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, payload);
    td_claims out;
    ck_assert_int_eq(td_token_verify(token, NOW, &out), TD_TOKEN_BAD_CLAIMS);
    free(token);
}
END_TEST

START_TEST(token_garbage_is_malformed)
{
    /* No token here has an empty header or payload segment ("...", ".e30.x"): libjwt
     * 1.10 writes past a zero-byte buffer on those unless token.c rejects them first. */
    static const char *const bad[] = {"",        "abc",       "a.b",      "a.b.c",
                                      "a.b.c.d", "eyJ.eyJ.x", "e30.e30.", "not a token at all"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(verify(bad[i], NOW) == TD_TOKEN_MALFORMED, "'%s' not malformed", bad[i]);
    ck_assert_int_eq(verify(NULL, NOW), TD_TOKEN_MALFORMED);
}
END_TEST

START_TEST(token_longer_than_max_is_malformed)
{
    char *token = malloc(TD_TOKEN_MAX_LEN + 2);
    ck_assert_ptr_nonnull(token);
    memset(token, 'a', TD_TOKEN_MAX_LEN + 1);
    token[TD_TOKEN_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_MALFORMED);
    free(token);
}
END_TEST

START_TEST(token_verify_failure_leaves_claims_zeroed)
{
    td_claims out;
    memset(&out, 0x5a, sizeof out);
    ck_assert_int_eq(td_token_verify("x.y.z", NOW, &out), TD_TOKEN_MALFORMED);
    ck_assert_str_eq(out.sub, "");
    ck_assert_str_eq(out.role, "");
    ck_assert_int_eq(out.exp, 0);
}
END_TEST

/* ---- td_token_init ---- */

START_TEST(init_without_secret_fails)
{
    clear_env();
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
    setenv(TD_ENV_JWT_SECRET, "", 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
}
END_TEST

START_TEST(init_without_secret_fails_when_dev_mode_false)
{
    clear_env();
    setenv(TD_ENV_DEV_MODE, "false", 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
    setenv(TD_ENV_DEV_MODE, "maybe", 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
}
END_TEST

START_TEST(init_without_secret_uses_dev_secret_in_dev_mode)
{
    td_claims in = valid_claims();
    char *prod = sign(&in);

    clear_env();
    setenv(TD_ENV_DEV_MODE, "true", 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    char *dev = sign(&in);
    ck_assert_int_eq(verify(dev, NOW), TD_TOKEN_OK);
    /* The development key is not the configured one. */
    ck_assert_int_eq(verify(prod, NOW), TD_TOKEN_MALFORMED);
    free(dev);
    free(prod);
}
END_TEST

START_TEST(init_prefers_configured_secret_over_dev_mode)
{
    td_claims in = valid_claims();
    char *prod = sign(&in);
    setenv(TD_ENV_DEV_MODE, "true", 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    ck_assert_int_eq(verify(prod, NOW), TD_TOKEN_OK);
    free(prod);
}
END_TEST

START_TEST(init_rejects_secret_shorter_than_min)
{
    char s[TD_JWT_SECRET_MIN + 1];
    memset(s, 'k', TD_JWT_SECRET_MIN - 1);
    s[TD_JWT_SECRET_MIN - 1] = '\0';
    setenv(TD_ENV_JWT_SECRET, s, 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
    /* A short secret is refused even in dev mode. */
    setenv(TD_ENV_DEV_MODE, "true", 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
    setenv(TD_ENV_JWT_SECRET, "short", 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
}
END_TEST

/* A secret of n bytes that is not one repeated character. */
static void varied_secret(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = '\0';
}

START_TEST(init_accepts_secret_of_exactly_min_length)
{
    char s[TD_JWT_SECRET_MIN + 1];
    varied_secret(s, TD_JWT_SECRET_MIN);
    setenv(TD_ENV_JWT_SECRET, s, 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    td_claims in = valid_claims();
    char *token = sign(&in);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_OK);
    free(token);
}
END_TEST

START_TEST(init_rejects_secret_of_512_bytes_or_more)
{
    char s[513];
    varied_secret(s, 511);
    setenv(TD_ENV_JWT_SECRET, s, 1);
    ck_assert_int_eq(td_token_init(), TD_OK);
    varied_secret(s, 512);
    setenv(TD_ENV_JWT_SECRET, s, 1);
    ck_assert_int_eq(td_token_init(), TD_EINVAL);
}
END_TEST

START_TEST(production_refuses_the_development_secret_and_repeated_characters)
{
    static const char dev[] = "tripdesk-development-secret-not-for-production-use";
    char same[TD_JWT_SECRET_MIN * 2 + 1];
    memset(same, 'k', sizeof same - 1);
    same[sizeof same - 1] = '\0';
    const char *weak[] = {dev, same};
    for (size_t i = 0; i < 2; i++) {
        clear_env();
        setenv(TD_ENV_JWT_SECRET, weak[i], 1);
        ck_assert_msg(td_token_init() == TD_EINVAL, "'%s' accepted in production", weak[i]);
        setenv(TD_ENV_DEV_MODE, "false", 1);
        ck_assert_int_eq(td_token_init(), TD_EINVAL);
        /* Development mode takes them (with the dev secret's warning). */
        setenv(TD_ENV_DEV_MODE, "true", 1);
        ck_assert_int_eq(td_token_init(), TD_OK);
    }
    ck_assert(td_token_secret_is_weak(dev));
    ck_assert(td_token_secret_is_weak(same));
    ck_assert(!td_token_secret_is_weak(SECRET));
    ck_assert(!td_token_secret_is_weak("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkx"));
}
END_TEST

START_TEST(token_whose_sub_is_not_an_object_id_is_bad_claims)
{
    static const char *const subs[] = {"a1",
                                       "not-an-object-id-at-all!",
                                       "65f1c0ffee0123456789abc",
                                       "65f1c0ffee0123456789abcde",
                                       "65f1c0ffee0123456789abcg",
                                       "{\"$ne\":null}"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        td_claims in = valid_claims();
        snprintf(in.sub, sizeof in.sub, "%s", subs[i]);
        char *token = sign(&in);
        ck_assert_msg(verify(token, NOW) == TD_TOKEN_BAD_CLAIMS, "sub '%s' accepted", subs[i]);
        free(token);
    }
    td_claims in = valid_claims();
    snprintf(in.sub, sizeof in.sub, "%s", "65F1C0FFEE0123456789ABCD");
    char *token = sign(&in);
    ck_assert_int_eq(verify(token, NOW), TD_TOKEN_OK);
    free(token);
}
END_TEST

START_TEST(token_reason_is_distinct_per_result)
{
    static const td_token_result all[] = {TD_TOKEN_OK,         TD_TOKEN_MALFORMED,
                                          TD_TOKEN_BAD_ALG,    TD_TOKEN_EXPIRED,
                                          TD_TOKEN_BAD_ISSUER, TD_TOKEN_BAD_CLAIMS};
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *r = td_token_reason(all[i]);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_gt(strlen(r), 0);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(r, td_token_reason(all[j]));
    }
    ck_assert_ptr_nonnull(td_token_reason((td_token_result)99));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("token");

    TCase *tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, token_sign_then_verify_round_trips_claims);
    tcase_add_test(tc, token_without_jti_verifies_with_empty_jti);
    tcase_add_test(tc, token_signed_by_libjwt_hs256_with_same_secret_verifies);
    tcase_add_test(tc, token_expired_is_rejected);
    tcase_add_test(tc, token_expires_at_exactly_exp);
    tcase_add_test(tc, token_of_other_issuer_is_bad_issuer);
    tcase_add_test(tc, token_without_issuer_is_bad_issuer);
    tcase_add_test(tc, token_with_tampered_payload_is_malformed);
    tcase_add_test(tc, token_with_tampered_signature_is_malformed);
    tcase_add_test(tc, token_signed_with_other_secret_is_malformed);
    tcase_add_test(tc, token_is_rejected_after_secret_rotation);
    tcase_add_test(tc, token_alg_none_is_rejected);
    tcase_add_test(tc, token_alg_none_with_forged_signature_is_rejected);
    tcase_add_test(tc, token_hs512_with_same_secret_is_bad_alg);
    tcase_add_test(tc, token_missing_role_is_bad_claims);
    tcase_add_test(tc, token_empty_role_is_bad_claims);
    tcase_add_test(tc, token_missing_sub_or_exp_is_bad_claims);
    tcase_add_test(tc, token_sub_or_role_of_wrong_type_is_bad_claims);
    tcase_add_test(tc, token_overlong_role_is_bad_claims);
    tcase_add_test(tc, token_garbage_is_malformed);
    tcase_add_test(tc, token_longer_than_max_is_malformed);
    tcase_add_test(tc, token_verify_failure_leaves_claims_zeroed);
    tcase_add_test(tc, token_reason_is_distinct_per_result);
    tcase_add_test(tc, token_whose_sub_is_not_an_object_id_is_bad_claims);
    suite_add_tcase(s, tc);

    TCase *init = tcase_create("init");
    tcase_add_checked_fixture(init, setup, teardown);
    tcase_add_test(init, init_without_secret_fails);
    tcase_add_test(init, init_without_secret_fails_when_dev_mode_false);
    tcase_add_test(init, init_without_secret_uses_dev_secret_in_dev_mode);
    tcase_add_test(init, init_prefers_configured_secret_over_dev_mode);
    tcase_add_test(init, init_rejects_secret_shorter_than_min);
    tcase_add_test(init, init_accepts_secret_of_exactly_min_length);
    tcase_add_test(init, init_rejects_secret_of_512_bytes_or_more);
    tcase_add_test(init, production_refuses_the_development_secret_and_repeated_characters);
    suite_add_tcase(s, init);

    return run_suite(s);
}
