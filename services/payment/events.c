/*
 * The payment service's event wiring: it subscribes to the booking service's
 * events (bookings_known.c keeps the copy; the bus replays the stream from its
 * start on a first run, so earlier bookings are known too) and tracks the
 * collections whose documents stage its own events (payments: PAYMENT_RECEIVED,
 * PAYMENT_REFUNDED), which the outbox relay publishes and the booking and
 * analytics services consume.
 */
#include "payment.h"

int payment_events_setup(td_bus *bus)
{
    int rc = td_bus_subscribe(bus, "booking", booking_event, NULL);
    if (rc == TD_OK)
        rc = td_bus_track_collection(bus, COLL_PAYMENTS);
    if (rc == TD_OK)
        rc = td_bus_track_collection(bus, COLL_COMMISSIONS);
    commissions_set_bus(bus);
    return rc;
}
