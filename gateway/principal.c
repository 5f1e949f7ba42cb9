/*
 * The principal of a verified token: is it still valid, and what may it do.
 * One Redis round trip per request reads the agent's token version (tokens older
 * than it were revoked: logout of all sessions, password/role/status change), the
 * token's own denylist entry (logout) and the permission matrix's version; a new
 * version makes us fetch and parse the matrix once. While Redis is unreachable the
 * last known matrix (or the built-in defaults) applies and revocations made since
 * cannot be seen: access tokens then stay valid until they expire (documented
 * degraded mode).
 */
#include "gateway.h"

#include "tripdesk/common.h"
#include "tripdesk/log.h"
#include "tripdesk/permissions.h"
#include "tripdesk/redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_rwlock_t matrix_lock = PTHREAD_RWLOCK_INITIALIZER;
static td_matrix matrix; /* version 0: the built-in defaults */

/* Verified tokens, per civetweb thread: a client sends the same access token with
 * every request, and verifying it (base64, two JSON parses, an HMAC) is the largest
 * part of the gateway's own work. An entry holds the exact token and its claims;
 * expiry is still checked on every use. */
#define TOKEN_CACHE_SLOTS 16

typedef struct {
    char *token;
    td_claims claims;
} token_slot;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    token_slot *slots = p;
    for (int i = 0; i < TOKEN_CACHE_SLOTS; i++)
        free(slots[i].token);
    free(slots);
}

static bool cache_ok; /* the key exists: without it tokens are verified uncached */

static void cache_init(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
    if (!cache_ok)
        td_error("gateway: no thread key: tokens are verified without the cache");
}

td_token_result gw_verify_token(const char *token, int64_t now, td_claims *claims)
{
    TD_IGNORE(pthread_once(&cache_once, cache_init)); /* fails only for a bad once_control */
    token_slot *slots = cache_ok ? pthread_getspecific(cache_key) : NULL;
    if (cache_ok && slots == NULL && (slots = calloc(TOKEN_CACHE_SLOTS, sizeof *slots)) != NULL &&
        pthread_setspecific(cache_key, slots) != 0) {
        free(slots); /* no memory for the key's value: uncached this time */
        slots = NULL;
    }
    uint32_t h = td_hash(token, strlen(token));
    token_slot *slot = slots != NULL ? &slots[h % TOKEN_CACHE_SLOTS] : NULL;
    if (slot != NULL && slot->token != NULL && strcmp(slot->token, token) == 0) {
        *claims = slot->claims;
        return claims->exp > now ? TD_TOKEN_OK : TD_TOKEN_EXPIRED;
    }
    td_token_result r = td_token_verify(token, now, claims);
    if (r == TD_TOKEN_OK && slot != NULL) {
        free(slot->token);
        slot->token = strdup(token);
        slot->claims = *claims;
    }
    return r;
}

void gw_principal_init(void)
{
    td_matrix_defaults(&matrix);
}

/* Fetches and installs the cached matrix when its version differs from ours. */
static void refresh_matrix(long long version)
{
    pthread_rwlock_rdlock(&matrix_lock);
    bool current = matrix.version == version;
    pthread_rwlock_unlock(&matrix_lock);
    if (current)
        return;
    char *text = NULL;
    size_t len;
    if (td_redis_get(TD_PERM_CACHE_KEY, &text, &len) != TD_OK)
        return;
    cJSON *json = cJSON_ParseWithLength(text, len);
    td_matrix m;
    if (json != NULL && td_matrix_from_json(json, &m) == TD_OK) {
        pthread_rwlock_wrlock(&matrix_lock);
        if (m.version > matrix.version || matrix.version == 0 || m.version == version)
            matrix = m;
        pthread_rwlock_unlock(&matrix_lock);
    } else {
        td_warn("the cached permission matrix is malformed; keeping version %lld",
                (long long)matrix.version);
    }
    cJSON_Delete(json);
    free(text);
}

int gw_principal(const td_claims *claims, uint32_t *perms)
{
    int rank = td_role_rank(claims->role);
    if (rank < 0)
        return GW_PRINCIPAL_INVALID;
    char k_ver[128], k_deny[128];
    /* fit: the claims are strings of at most TD_TOKEN_FIELD_MAX - 1 bytes */
    TD_IGNORE(td_fmt(k_ver, sizeof k_ver, "auth:tokver:%s", claims->sub));
    TD_IGNORE(td_fmt(k_deny, sizeof k_deny, "auth:deny:%s", claims->jti[0] ? claims->jti : "-"));
    const char *keys[3] = {k_ver, k_deny, TD_PERM_VERSION_KEY};
    char *vals[3];
    int rc = td_redis_mget(keys, 3, vals);
    int result = GW_PRINCIPAL_OK;
    if (rc == TD_OK) {
        if (vals[0] != NULL && atoll(vals[0]) > claims->ver)
            result = GW_PRINCIPAL_REVOKED;
        if (vals[1] != NULL)
            result = GW_PRINCIPAL_REVOKED;
        if (vals[2] != NULL)
            refresh_matrix(atoll(vals[2]));
    }
    for (int i = 0; i < 3; i++)
        free(vals[i]);
    pthread_rwlock_rdlock(&matrix_lock);
    *perms = matrix.bits[rank];
    pthread_rwlock_unlock(&matrix_lock);
    return result;
}
