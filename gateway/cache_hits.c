/* Cache hits answered by the gateway itself. A GET of a cached list (see
 * td_cached_list_find) whose answer Redis holds for the caller's scope is sent from
 * the cache without the hop to the owning service; everything else, misses included,
 * is forwarded, and the service fills the cache. The lists are the owning services'
 * own definitions, compiled in here (booking/cached_lists.h), so the key is the one
 * the service uses (namespace generation, scope, raw query), and a write is seen on
 * the very next read exactly as when the service answers. */
#include "gateway.h"

#include "booking/cached_lists.h"
#include "tripdesk/cache.h"
#include "tripdesk/http.h"

#include <string.h>

static const td_cached_list booking_lists[CACHED_LISTS_N] = BOOKING_CACHED_LISTS;

int gw_cached_lists_init(void)
{
    return td_cached_lists_register(booking_lists, CACHED_LISTS_N);
}

bool gw_serve_cached(gw_exchange *ex, const td_claims *principal, uint32_t perms)
{
    const td_cached_list *list = td_cached_list_find(ex->ri->local_uri);
    if (list == NULL || strcmp(ex->ri->request_method, "GET") != 0 || ex->ri->content_length > 0)
        return false;
    td_res res = {0};
    td_cache_slot slot;
    const char *query = ex->ri->query_string != NULL ? ex->ri->query_string : "";
    if (td_cache_lookup(&res, &slot, list->ns,
                        td_cache_scope(perms, list->view_all, principal->sub),
                        query) != TD_CACHE_HIT) {
        td_res_clear(&res);
        return false;
    }
    gw_send_api(ex, res.status, res.body, res.body_len, res.headers, res.nheaders);
    td_res_clear(&res);
    return true;
}
