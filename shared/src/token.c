/* HS256 access tokens over libjwt, with the claim checks libjwt 1.10 leaves out. */
#include "tripdesk/token.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV_SECRET "tripdesk-development-secret-not-for-production-use"

static char secret[512];
static size_t secret_len;
static char issuer[128] = "tripdesk";

bool td_token_secret_is_weak(const char *s)
{
    if (strcmp(s, DEV_SECRET) == 0)
        return true;
    size_t n = strspn(s, (char[]){s[0], '\0'});
    return s[n] == '\0';
}

int td_token_init(void)
{
    const char *s = td_env_str(TD_ENV_JWT_SECRET, NULL);
    if (s == NULL) {
        if (!td_env_bool(TD_ENV_DEV_MODE, false)) {
            td_error("%s is not set (set %s=true to use a development secret)", TD_ENV_JWT_SECRET,
                     TD_ENV_DEV_MODE);
            return TD_EINVAL;
        }
        td_warn("using the development JWT secret (%s=true)", TD_ENV_DEV_MODE);
        s = DEV_SECRET;
    }
    if (strlen(s) < TD_JWT_SECRET_MIN || strlen(s) >= sizeof secret) {
        td_error("%s must be %d to %zu bytes", TD_ENV_JWT_SECRET, TD_JWT_SECRET_MIN,
                 sizeof secret - 1);
        return TD_EINVAL;
    }
    if (!td_env_bool(TD_ENV_DEV_MODE, false) && td_token_secret_is_weak(s)) {
        td_error("%s is the published development secret or one repeated character; "
                 "production mode needs a random secret (e.g. openssl rand -base64 48)",
                 TD_ENV_JWT_SECRET);
        return TD_EINVAL;
    }
    const char *iss = td_env_str(TD_ENV_JWT_ISSUER, "tripdesk");
    if (td_fmt(issuer, sizeof issuer, "%s", iss) != TD_OK) {
        td_error("%s must be at most %zu bytes", TD_ENV_JWT_ISSUER, sizeof issuer - 1);
        return TD_EINVAL;
    }
    TD_IGNORE(td_fmt(secret, sizeof secret, "%s", s)); /* fits: its length is checked above */
    secret_len = strlen(secret);
    return TD_OK;
}

static bool copy_claim(jwt_t *jwt, const char *name, char *dst)
{
    const char *v = jwt_get_grant(jwt, name);
    if (v == NULL || v[0] == '\0' || strlen(v) >= TD_TOKEN_FIELD_MAX)
        return false;
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

/* Reads an integer claim. libjwt 1.10's jwt_get_grant_int returns 0 with errno 0 for
 * a claim of another type, so the claim's JSON text is checked instead. */
static bool int_claim(jwt_t *jwt, const char *name, int64_t *out)
{
    char *js = jwt_get_grants_json(jwt, name);
    if (js == NULL)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(js, &end, 10);
    bool ok = errno == 0 && end != js && *end == '\0';
    free(js);
    if (ok)
        *out = v;
    return ok;
}

/* True for the 24 hex digits of an ObjectId: every service reads sub as one. */
static bool is_object_id(const char *s)
{
    return strlen(s) == TD_OBJECT_ID_HEX && strspn(s, "0123456789abcdefABCDEF") == TD_OBJECT_ID_HEX;
}

/* True when token is three base64url segments with non-empty header and payload.
 * libjwt 1.10 writes past a zero-byte buffer when one of them is empty, so such
 * tokens must never reach jwt_decode. */
static bool token_shape_ok(const char *token)
{
    int dots = 0;
    size_t seg = 0;
    for (const char *p = token; *p != '\0'; p++) {
        if (*p == '.') {
            if (seg == 0 || ++dots > 2)
                return false;
            seg = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
            seg++;
        } else {
            return false;
        }
    }
    return dots == 2 && seg > 0;
}

td_token_result td_token_verify(const char *token, int64_t now, td_claims *claims)
{
    memset(claims, 0, sizeof *claims);
    if (token == NULL || strlen(token) > TD_TOKEN_MAX_LEN || !token_shape_ok(token))
        return TD_TOKEN_MALFORMED;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)secret_len) != 0 ||
        jwt == NULL) {
        /* "alg":"none" tokens fail here too when a key is given. */
        jwt_free(jwt);
        return TD_TOKEN_MALFORMED;
    }
    td_token_result r = TD_TOKEN_OK;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        r = TD_TOKEN_BAD_ALG;
        goto out;
    }
    const char *iss = jwt_get_grant(jwt, "iss");
    if (iss == NULL || strcmp(iss, issuer) != 0) {
        r = TD_TOKEN_BAD_ISSUER;
        goto out;
    }
    if (!int_claim(jwt, "exp", &claims->exp) || !copy_claim(jwt, "sub", claims->sub) ||
        !copy_claim(jwt, "role", claims->role)) {
        r = TD_TOKEN_BAD_CLAIMS;
        goto out;
    }
    if (!is_object_id(claims->sub)) {
        r = TD_TOKEN_BAD_CLAIMS;
        goto out;
    }
    if (claims->exp <= now) {
        r = TD_TOKEN_EXPIRED;
        goto out;
    }
    copy_claim(jwt, "jti", claims->jti);
    int_claim(jwt, "iat", &claims->iat);
    int_claim(jwt, "ver", &claims->ver);
out:
    jwt_free(jwt);
    return r;
}

int td_token_sign(const td_claims *claims, char **out)
{
    *out = NULL;
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return TD_ENOMEM;
    int rc = TD_EINVAL;
    if (jwt_add_grant(jwt, "sub", claims->sub) != 0 ||
        jwt_add_grant(jwt, "role", claims->role) != 0 || jwt_add_grant(jwt, "iss", issuer) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)claims->exp) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)claims->iat) != 0 ||
        jwt_add_grant_int(jwt, "ver", (long)claims->ver) != 0)
        goto out;
    if (claims->jti[0] != '\0' && jwt_add_grant(jwt, "jti", claims->jti) != 0)
        goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)secret_len) != 0)
        goto out;
    *out = jwt_encode_str(jwt);
    rc = *out != NULL ? TD_OK : TD_ENOMEM;
out:
    jwt_free(jwt);
    return rc;
}

const char *td_token_reason(td_token_result r)
{
    switch (r) {
    case TD_TOKEN_OK: return "valid";
    case TD_TOKEN_MALFORMED: return "The access token is malformed or its signature is invalid";
    case TD_TOKEN_BAD_ALG: return "The access token uses an algorithm other than HS256";
    case TD_TOKEN_EXPIRED: return "The access token has expired";
    case TD_TOKEN_BAD_ISSUER: return "The access token was not issued by TripDesk";
    case TD_TOKEN_BAD_CLAIMS: return "The access token lacks required claims";
    }
    return "invalid token";
}
