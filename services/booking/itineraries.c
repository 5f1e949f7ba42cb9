/* Placeholder while /api/itineraries is being written: no routes yet. */
#include "booking.h"

const td_route itinerary_routes[] = {{NULL, NULL, NULL, 0, NULL}};

int itineraries_indexes(mongoc_client_t *c)
{
    (void)c;
    return TD_OK;
}
