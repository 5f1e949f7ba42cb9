/*
 * Response cache in Redis for list endpoints (PRD step 1), with X-Cache: HIT, MISS
 * or BYPASS. Each namespace ("bookings", "customers", ...) has a generation number
 * (<ns>:gen) that every write increments; cache keys embed it, so a write makes every
 * older entry unreachable at once — also an entry a slow reader stores after the
 * write — and the next read by anyone sees the change. Old entries expire by TTL.
 * Keys also embed the run_id of the Redis process, so after a restart that restored
 * an older data set (RDB, AOF) no entry stored before the restart is ever served:
 * the generation it brought back may predate writes it missed.
 * CACHE_ENABLED=false or Redis down: BYPASS, straight to MongoDB.
 * Each process keeps copies of the entries it served, sent again only when Redis
 * says that its copy is no longer the current generation's entry.
 */
#ifndef TRIPDESK_CACHE_H
#define TRIPDESK_CACHE_H

#include "common.h"

#include "http.h"

#include <stdint.h>

typedef enum { TD_CACHE_BYPASS = 0, TD_CACHE_HIT, TD_CACHE_MISS } td_cache_state;

/* A generation as text: "<Redis run_id>.<counter>" (40 hex digits, an int64, NUL). */
#define TD_CACHE_GEN_MAX 72

typedef struct {
    td_cache_state state;
    char key[720]; /* <ns>:list:<gen>:... */
    char id[600];  /* the same without the generation */
    char gen[TD_CACHE_GEN_MAX];
} td_cache_slot;

/* The cached lists. The gateway answers a GET of such a path itself when the
 * cache holds the answer (no hop to the service); the owning service fills the
 * entries. An entry's key names everything the answer depends on: the namespace's
 * generation, the scope (td_cache_scope) and the raw query string.
 * The owning service defines its lists (e.g. services/booking/cached_lists.h) and
 * registers them at start; the gateway compiles the same definition and registers
 * it too, so both build byte-identical keys. shared/ knows no list. */
typedef struct {
    const char *path;     /* "/api/bookings" */
    const char *ns;       /* "bookings" (a string constant) */
    const char *view_all; /* the permission that widens the scope to every record */
} td_cached_list;

#define TD_CACHED_LISTS_MAX 32
#define TD_CACHE_NS_MAX 48 /* a namespace's length: <ns>:gen must fit the key buffers */

/* Registers n lists (lists stays borrowed: a static table) at start, before
 * requests. TD_EINVAL (logged) for a list without path, namespace or a known
 * permission (permissions.h), or a path registered already; TD_ENOMEM beyond
 * TD_CACHED_LISTS_MAX. td_cached_lists_clear forgets them (tests). */
TD_MUST_CHECK int td_cached_lists_register(const td_cached_list *lists, size_t n);
void td_cached_lists_clear(void);

/* The registered list served at exactly this path, or NULL. */
const td_cached_list *td_cached_list_find(const char *path);

/* "all" when permissions (bit i: td_permission_names[i]) hold view_all, else
 * agent_id: callers who see the same records share entries. */
const char *td_cache_scope(uint32_t permissions, const char *view_all, const char *agent_id);

/* Looks up <ns>:list:<gen>:<scope>:<query>. On a hit res holds the cached
 * response (status 200) and X-Cache: HIT. Otherwise slot remembers the key so that
 * td_cache_store can fill it. */
td_cache_state td_cache_lookup(td_res *res, td_cache_slot *slot, const char *ns, const char *scope,
                               const char *query);

/* Stores a successful (200) response under the slot's key with ttl_s and sets
 * X-Cache on res (MISS, or BYPASS). */
void td_cache_store(td_res *res, const td_cache_slot *slot, int ttl_s);

/* Frees this process's copies of cache entries (at exit). */
void td_cache_free(void);

/* Invalidates a namespace (a write happened). */
void td_cache_invalidate(const char *ns);

/* Retries the invalidations Redis missed while it was unreachable (the service
 * framework calls it every 100 ms; lookups call it too). */
void td_cache_retry_pending(void);

bool td_cache_enabled(void);

#endif
