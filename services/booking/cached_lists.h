/*
 * The booking service's cached lists: path, cache namespace and the permission that
 * widens an entry's scope to every record. The one definition of them: the booking
 * service registers it (td_cached_lists_register) and answers these lists through
 * the cache, and the gateway compiles this same header (gateway/cache_hits.c) to
 * answer their cache hits itself with byte-identical keys (cache.h).
 * Macros only: the gateway includes it without the rest of the service.
 */
#ifndef BOOKING_CACHED_LISTS_H
#define BOOKING_CACHED_LISTS_H

#include "tripdesk/cache.h"

/* The permissions that widen a list's scope (and a record's visibility). */
#define VIEW_ALL_BOOKINGS "canViewAllBookings"
#define VIEW_ALL_CUSTOMERS "canViewAllCustomers"
#define VIEW_ALL_LEADS "canViewAllLeads"

/* Cache namespaces. */
#define CACHE_BOOKINGS "bookings"
#define CACHE_CUSTOMERS "customers"
#define CACHE_LEADS "leads"
#define CACHE_ITINERARIES "itineraries"

enum { CACHED_BOOKINGS, CACHED_CUSTOMERS, CACHED_LEADS, CACHED_ITINERARIES, CACHED_LISTS_N };

/* The table's initializer, indexed by the enum above: the service instantiates it
 * once (access.c: booking_cached_lists), the gateway once (cache_hits.c). */
#define BOOKING_CACHED_LISTS                                                                       \
    {                                                                                              \
        [CACHED_BOOKINGS] = {"/api/bookings", CACHE_BOOKINGS, VIEW_ALL_BOOKINGS},                  \
        [CACHED_CUSTOMERS] = {"/api/customers", CACHE_CUSTOMERS, VIEW_ALL_CUSTOMERS},              \
        [CACHED_LEADS] =                                                                           \
            {"/api/leads", CACHE_LEADS,                                                            \
             VIEW_ALL_LEADS}, /* an itinerary is seen with its booking's permission */             \
            [CACHED_ITINERARIES] = {"/api/itineraries", CACHE_ITINERARIES, VIEW_ALL_BOOKINGS},     \
    }

#endif
