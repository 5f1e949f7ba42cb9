/* Generation-keyed response cache in Redis. */
#include "tripdesk/cache.h"

#include "tripdesk/config.h"
#include "tripdesk/log.h"
#include "tripdesk/redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Namespaces whose invalidation could not reach Redis: retried before the next
 * lookup, so entries cached before an outage are never served after a write. */
#define PENDING_MAX 16
static const char *pending[PENDING_MAX];
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;

static bool bump(const char *ns)
{
    char genkey[64];
    long long v;
    snprintf(genkey, sizeof genkey, "%s:gen", ns);
    return td_redis_incr_ttl(genkey, 0, &v) == TD_OK;
}

static void retry_pending(void)
{
    pthread_mutex_lock(&pending_mu);
    for (int i = 0; i < PENDING_MAX; i++)
        if (pending[i] != NULL && bump(pending[i]))
            pending[i] = NULL;
    pthread_mutex_unlock(&pending_mu);
}

bool td_cache_enabled(void)
{
    return td_env_bool(TD_ENV_CACHE_ENABLED, true);
}

td_cache_state td_cache_lookup(td_res *res, td_cache_slot *slot, const char *ns,
                               const char *scope, long long page, long long limit,
                               const char *query)
{
    slot->state = TD_CACHE_BYPASS;
    slot->key[0] = '\0';
    if (!td_cache_enabled())
        return TD_CACHE_BYPASS;
    retry_pending();
    pthread_mutex_lock(&pending_mu);
    bool dirty = false;
    for (int i = 0; i < PENDING_MAX; i++)
        dirty |= pending[i] != NULL && strcmp(pending[i], ns) == 0;
    pthread_mutex_unlock(&pending_mu);
    if (dirty)
        return TD_CACHE_BYPASS;
    char genkey[64], prefix[80], suffix[560], *gen = NULL, *body = NULL;
    size_t len;
    snprintf(genkey, sizeof genkey, "%s:gen", ns);
    snprintf(prefix, sizeof prefix, "%s:list:", ns);
    int n = snprintf(suffix, sizeof suffix, ":%s:%lld:%lld:%s", scope, page, limit,
                     query != NULL ? query : "");
    if (n < 0 || (size_t)n >= sizeof suffix)
        return TD_CACHE_BYPASS; /* too long to cache: just serve it */
    /* <ns>:list:<gen>:<scope>:<page>:<limit>:<query>, read with its generation in
     * one round trip */
    int rc = td_redis_get_by_gen(genkey, prefix, suffix, &gen, &body, &len);
    if (rc != TD_OK && rc != TD_ENOTFOUND)
        return TD_CACHE_BYPASS;
    n = snprintf(slot->key, sizeof slot->key, "%s%s%s", prefix, gen, suffix);
    free(gen);
    if (n < 0 || (size_t)n >= sizeof slot->key) {
        free(body);
        return TD_CACHE_BYPASS;
    }
    if (rc == TD_OK) {
        free(res->body);
        res->body = body;
        res->body_len = len;
        res->status = 200;
        td_res_header(res, "X-Cache", "HIT");
        slot->state = TD_CACHE_HIT;
        return TD_CACHE_HIT;
    }
    slot->state = rc == TD_ENOTFOUND ? TD_CACHE_MISS : TD_CACHE_BYPASS;
    return slot->state;
}

void td_cache_store(td_res *res, const td_cache_slot *slot, int ttl_s)
{
    if (slot->state == TD_CACHE_MISS && res->status == 200 && res->body != NULL &&
        td_redis_setex(slot->key, res->body, res->body_len, ttl_s) == TD_OK) {
        td_res_header(res, "X-Cache", "MISS");
        return;
    }
    td_res_header(res, "X-Cache", slot->state == TD_CACHE_MISS ? "MISS" : "BYPASS");
}

/* ns must be a string constant (it is remembered while Redis is down). */
void td_cache_invalidate(const char *ns)
{
    if (bump(ns))
        return;
    td_warn("cache %s not invalidated (Redis down); retried before the next lookup", ns);
    pthread_mutex_lock(&pending_mu);
    int free_slot = -1;
    bool known = false;
    for (int i = 0; i < PENDING_MAX; i++) {
        if (pending[i] == NULL && free_slot < 0)
            free_slot = i;
        known |= pending[i] != NULL && strcmp(pending[i], ns) == 0;
    }
    if (!known && free_slot >= 0)
        pending[free_slot] = ns;
    pthread_mutex_unlock(&pending_mu);
}
