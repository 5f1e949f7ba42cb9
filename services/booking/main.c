/* tripdesk-booking: wiring only. Customers, leads, bookings and itineraries. */
#include "booking.h"

#include "tripdesk/idempotency.h"

/* Decides TRIPDESK_LIST_COPIES=auto, loads the list copies (first run), and reloads
 * them when due: the periodic backstop, or after Redis lost track. Until loaded (and
 * with copies off), lists come from MongoDB. */
static void maintain_lists(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    list_copies_maintain(c);
}

/* Removes the Idempotency-Key records whose retention ended. */
static void purge_idempotency(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    td_idem_purge(c);
}

static int init_database(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    int rc = customers_indexes(c);
    if (rc == TD_OK)
        rc = leads_indexes(c);
    if (rc == TD_OK)
        rc = bookings_indexes(c);
    if (rc == TD_OK)
        rc = slots_build(c);
    if (rc == TD_OK)
        rc = itineraries_indexes(c);
    return rc;
}

int main(void)
{
    td_service *svc;
    if (td_service_new(&svc, "booking") != TD_OK)
        return 1;
    td_router *r = td_service_router(svc);
    td_bus *bus = td_service_bus(svc);
    int rc = list_copies_configure();
    if (rc == TD_OK)
        rc = bookings_list_new();
    if (rc == TD_OK)
        rc = customers_list_new();
    if (rc == TD_OK)
        rc = leads_list_new();
    if (rc == TD_OK)
        rc = itineraries_list_new();
    if (rc == TD_OK)
        rc = td_service_add_builtin_routes(svc, "/api/bookings");
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "list copies", 1000, maintain_lists);
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "idempotency purge", TD_IDEM_BUCKET_MS, purge_idempotency);
    if (rc == TD_OK)
        rc = td_router_add_table(r, booking_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, customer_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, lead_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, itinerary_routes);
    const char *tracked[] = {COLL_CUSTOMERS, COLL_LEADS, COLL_BOOKINGS, COLL_ITINERARIES};
    for (size_t i = 0; rc == TD_OK && i < sizeof tracked / sizeof tracked[0]; i++)
        rc = td_bus_track_collection(bus, tracked[i]);
    if (rc == TD_OK)
        rc = td_bus_subscribe(bus, "payment", payment_event, NULL);
    td_service_on_mongo_ready(svc, init_database);
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    list_copies_free();
    slots_cache_free();
    return rc == TD_OK ? 0 : 1;
}
