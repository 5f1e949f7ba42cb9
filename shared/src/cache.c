/* Generation-keyed response cache in Redis. */
#include "tripdesk/cache.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"
#include "tripdesk/permissions.h"
#include "tripdesk/redis.h"

#include <pthread.h>
#include <stdint.h>
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
    /* a namespace too long for its key stays pending: its lookups bypass the cache */
    return td_fmt(genkey, sizeof genkey, "%s:gen", ns) == TD_OK &&
           td_redis_incr_ttl(genkey, 0, &v) == TD_OK;
}

/* Retries the missed invalidations; true when ns (may be NULL) still has one. */
static bool retry_pending(const char *ns)
{
    bool dirty = false;
    pthread_mutex_lock(&pending_mu);
    for (int i = 0; i < PENDING_MAX; i++) {
        if (pending[i] != NULL && bump(pending[i]))
            pending[i] = NULL;
        dirty |= ns != NULL && pending[i] != NULL && strcmp(pending[i], ns) == 0;
    }
    pthread_mutex_unlock(&pending_mu);
    return dirty;
}

void td_cache_retry_pending(void)
{
    retry_pending(NULL);
}

/* In-process copies of entries this daemon read or stored (a direct-mapped table
 * keyed by the entry's key without its generation). Redis stays the authority: a
 * copy is served only when the lookup's round trip has confirmed that Redis still
 * holds the entry under the current generation, so a write, an expiry or a Redis
 * restart is seen exactly as without the copies; only the payload no longer crosses
 * the socket on every hit. */
#define L1_SLOTS 512
#define L1_ENTRY_MAX ((size_t)256 * 1024)
#define L1_TOTAL_MAX ((size_t)32 * 1024 * 1024)

typedef struct {
    char *id; /* NULL: empty */
    char gen[TD_CACHE_GEN_MAX];
    char *body;
    size_t len;
} l1_entry;

static l1_entry l1[L1_SLOTS];
static size_t l1_bytes;
static pthread_mutex_t l1_mu = PTHREAD_MUTEX_INITIALIZER;

static l1_entry *l1_slot(const char *id)
{
    return &l1[td_hash(id, strlen(id)) % L1_SLOTS];
}

/* The generation of the copy held for id, if any. */
static bool l1_gen(const char *id, char gen[TD_CACHE_GEN_MAX])
{
    pthread_mutex_lock(&l1_mu);
    l1_entry *e = l1_slot(id);
    bool held = e->id != NULL && strcmp(e->id, id) == 0;
    if (held)
        memcpy(gen, e->gen, sizeof e->gen);
    pthread_mutex_unlock(&l1_mu);
    return held;
}

/* A malloc'd copy of the body held for id at generation gen; NULL when it was
 * replaced meanwhile (or on ENOMEM). */
static char *l1_body(const char *id, const char *gen, size_t *len)
{
    char *out = NULL;
    pthread_mutex_lock(&l1_mu);
    l1_entry *e = l1_slot(id);
    if (e->id != NULL && strcmp(e->id, id) == 0 && strcmp(e->gen, gen) == 0 &&
        (out = malloc(e->len + 1)) != NULL) {
        memcpy(out, e->body, e->len + 1);
        *len = e->len;
    }
    pthread_mutex_unlock(&l1_mu);
    return out;
}

static void l1_put(const char *id, const char *gen, const char *body, size_t len)
{
    if (len > L1_ENTRY_MAX || strlen(gen) >= sizeof l1[0].gen)
        return;
    char *idc = strdup(id), *copy = malloc(len + 1);
    if (idc == NULL || copy == NULL) {
        free(idc);
        free(copy);
        return;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    pthread_mutex_lock(&l1_mu);
    l1_entry *e = l1_slot(id);
    if (e->id != NULL) {
        l1_bytes -= e->len;
        free(e->id);
        free(e->body);
        e->id = NULL;
    }
    if (l1_bytes + len <= L1_TOTAL_MAX) {
        e->id = idc;
        e->body = copy;
        e->len = len;
        TD_IGNORE(td_fmt(e->gen, sizeof e->gen, "%s", gen)); /* fits: checked above */
        l1_bytes += len;
        idc = copy = NULL;
    }
    pthread_mutex_unlock(&l1_mu);
    free(idc);
    free(copy);
}

void td_cache_free(void)
{
    pthread_mutex_lock(&l1_mu);
    for (int i = 0; i < L1_SLOTS; i++) {
        free(l1[i].id);
        free(l1[i].body);
        l1[i].id = l1[i].body = NULL;
    }
    l1_bytes = 0;
    pthread_mutex_unlock(&l1_mu);
}

/* The cached lists the services (and the gateway, from the same definitions)
 * registered at start; read-only afterwards. */
static const td_cached_list *registered[TD_CACHED_LISTS_MAX];
static size_t nregistered;

int td_cached_lists_register(const td_cached_list *lists, size_t n)
{
    if (n > TD_CACHED_LISTS_MAX - nregistered)
        return TD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const td_cached_list *l = &lists[i];
        if (l->path == NULL || l->ns == NULL || l->view_all == NULL ||
            td_permission_index(l->view_all) < 0 || strlen(l->ns) > TD_CACHE_NS_MAX ||
            td_cached_list_find(l->path) != NULL) {
            td_error("cached list %s: incomplete, unknown permission, long namespace or "
                     "registered twice",
                     l->path != NULL ? l->path : "(null)");
            return TD_EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++)
        registered[nregistered++] = &lists[i];
    return TD_OK;
}

void td_cached_lists_clear(void)
{
    nregistered = 0;
}

const td_cached_list *td_cached_list_find(const char *path)
{
    for (size_t i = 0; path != NULL && i < nregistered; i++)
        if (strcmp(path, registered[i]->path) == 0)
            return registered[i];
    return NULL;
}

const char *td_cache_scope(uint32_t permissions, const char *view_all, const char *agent_id)
{
    int bit = td_permission_index(view_all);
    return bit >= 0 && (permissions >> bit & 1u) ? "all" : agent_id;
}

bool td_cache_enabled(void)
{
    return td_env_bool(TD_ENV_CACHE_ENABLED, true);
}

td_cache_state td_cache_lookup(td_res *res, td_cache_slot *slot, const char *ns, const char *scope,
                               const char *query)
{
    slot->state = TD_CACHE_BYPASS;
    slot->key[0] = slot->id[0] = slot->gen[0] = '\0';
    if (!td_cache_enabled())
        return TD_CACHE_BYPASS;
    if (retry_pending(ns))
        return TD_CACHE_BYPASS; /* a write this process made is not invalidated yet */
    char genkey[64], prefix[80], suffix[560], held[TD_CACHE_GEN_MAX], *gen = NULL, *body = NULL;
    size_t len = 0;
    if (td_fmt(genkey, sizeof genkey, "%s:gen", ns) != TD_OK ||
        td_fmt(prefix, sizeof prefix, "%s:list:", ns) != TD_OK ||
        td_fmt(suffix, sizeof suffix, ":%s:%s", scope, query != NULL ? query : "") != TD_OK ||
        td_fmt(slot->id, sizeof slot->id, "%s%s", prefix, suffix) != TD_OK)
        return TD_CACHE_BYPASS; /* too long to cache: just serve it */
    bool have = l1_gen(slot->id, held);
    /* <ns>:list:<gen>:<scope>:<page>:<limit>:<query>, read with its generation in
     * one round trip (only its existence when our copy has that generation) */
    int rc = td_redis_get_by_gen(genkey, prefix, suffix, have ? held : NULL, &gen, &body, &len);
    if (rc != TD_OK && rc != TD_ENOTFOUND)
        return TD_CACHE_BYPASS;
    bool fits = td_fmt(slot->key, sizeof slot->key, "%s%s%s", prefix, gen, suffix) == TD_OK &&
                td_fmt(slot->gen, sizeof slot->gen, "%s", gen) == TD_OK;
    free(gen);
    if (!fits) {
        free(body);
        return TD_CACHE_BYPASS;
    }
    if (rc == TD_OK && body == NULL) {
        body = l1_body(slot->id, slot->gen, &len);
        /* replaced since l1_gen by another thread: read the entry itself */
        if (body == NULL && (rc = td_redis_get(slot->key, &body, &len)) != TD_OK &&
            rc != TD_ENOTFOUND)
            return TD_CACHE_BYPASS;
    } else if (rc == TD_OK) {
        l1_put(slot->id, slot->gen, body, len);
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
        l1_put(slot->id, slot->gen, res->body, res->body_len);
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
