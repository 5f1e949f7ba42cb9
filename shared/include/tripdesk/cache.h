/*
 * Response cache in Redis for list endpoints (PRD step 1), with X-Cache: HIT, MISS
 * or BYPASS. Each namespace ("bookings", "customers", ...) has a generation number
 * (<ns>:gen) that every write increments; cache keys embed it, so a write makes every
 * older entry unreachable at once — also an entry a slow reader stores after the
 * write — and the next read by anyone sees the change. Old entries expire by TTL.
 * CACHE_ENABLED=false or Redis down: BYPASS, straight to MongoDB.
 */
#ifndef TRIPDESK_CACHE_H
#define TRIPDESK_CACHE_H

#include "http.h"

typedef enum { TD_CACHE_BYPASS = 0, TD_CACHE_HIT, TD_CACHE_MISS } td_cache_state;

typedef struct {
    td_cache_state state;
    char key[600];
} td_cache_slot;

/* Looks up <ns>:list:<gen>:<scope>:<page>:<limit>:<query>. On a hit res holds the
 * cached response (status 200) and X-Cache: HIT. Otherwise slot remembers the key
 * so that td_cache_store can fill it. */
td_cache_state td_cache_lookup(td_res *res, td_cache_slot *slot, const char *ns,
                               const char *scope, long long page, long long limit,
                               const char *query);

/* Stores a successful (200) response under the slot's key with ttl_s and sets
 * X-Cache on res (MISS, or BYPASS). */
void td_cache_store(td_res *res, const td_cache_slot *slot, int ttl_s);

/* Invalidates a namespace (a write happened). */
void td_cache_invalidate(const char *ns);

bool td_cache_enabled(void);

#endif
