/*
 * Access tokens: HS256 JWTs with sub, role, exp, iss, iat and jti. Signed by the
 * auth service and verified by the gateway with the same code. libjwt 1.10 takes
 * the algorithm from the token and checks no claims, so verification checks the
 * algorithm, exp and iss itself.
 */
#ifndef TRIPDESK_TOKEN_H
#define TRIPDESK_TOKEN_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_TOKEN_FIELD_MAX 64
#define TD_TOKEN_MAX_LEN 4096
#define TD_JWT_SECRET_MIN 32
#define TD_OBJECT_ID_HEX 24 /* sub: the agent's ObjectId in hex */

typedef struct {
    char sub[TD_TOKEN_FIELD_MAX]; /* agent id */
    char role[TD_TOKEN_FIELD_MAX];
    char jti[TD_TOKEN_FIELD_MAX];
    int64_t exp; /* unix seconds */
    int64_t iat;
    int64_t ver; /* the agent's token version */
} td_claims;

typedef enum {
    TD_TOKEN_OK = 0,
    TD_TOKEN_MALFORMED, /* not a JWT, or bad signature */
    TD_TOKEN_BAD_ALG,   /* anything but HS256, "none" included */
    TD_TOKEN_EXPIRED,
    TD_TOKEN_BAD_ISSUER,
    TD_TOKEN_BAD_CLAIMS, /* sub/role/exp missing or out of shape (sub not an ObjectId) */
} td_token_result;

/* Reads TRIPDESK_JWT_SECRET (at least TD_JWT_SECRET_MIN bytes) and the issuer. Without
 * a secret, a fixed development secret is used only when TRIPDESK_DEV_MODE=true;
 * otherwise TD_EINVAL. Outside dev mode a weak secret is TD_EINVAL too. */
TD_MUST_CHECK int td_token_init(void);

/* True for a secret production refuses: the published development secret, or one
 * character repeated. */
bool td_token_secret_is_weak(const char *s);

/* Verifies token at time now (unix seconds) and fills claims. */
td_token_result td_token_verify(const char *token, int64_t now, td_claims *claims);

/* Signs claims (exp, iat set by the caller). *out is malloc'd; caller frees. */
TD_MUST_CHECK int td_token_sign(const td_claims *claims, char **out);

/* Human-readable reason for a verification result. */
const char *td_token_reason(td_token_result r);

#endif
