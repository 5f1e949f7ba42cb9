/* tripdesk-payment: wiring only. Payments and refunds of the bookings it knows from
 * the booking service's events (payment.h). */
#include "payment.h"

/* Loads the payment list copy (first run) and reloads it when due. */
static void maintain_lists(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    payments_list_maintain(c);
    commissions_list_maintain(c);
}

/* Removes the Idempotency-Key records whose retention ended. */
static void purge_idempotency(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    td_idem_purge(c);
}

/* Gives back the account reservations of payments that were never written. */
static void reconcile_accounts(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    reservations_reconcile(c);
}

static int init_database(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    int rc = bookings_indexes(c);
    if (rc == TD_OK)
        rc = payments_indexes(c);
    if (rc == TD_OK)
        rc = commissions_indexes(c);
    return rc;
}

int main(void)
{
    td_service *svc;
    if (td_service_new(&svc, "payment") != TD_OK)
        return 1;
    td_router *r = td_service_router(svc);
    int rc = td_list_copies_configure();
    if (rc == TD_OK)
        rc = payments_list_new();
    if (rc == TD_OK)
        rc = commissions_list_new();
    if (rc == TD_OK)
        rc = td_service_add_builtin_routes(svc, "/api/payments");
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "list copies", 1000, maintain_lists);
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "idempotency purge", TD_IDEM_BUCKET_MS, purge_idempotency);
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "account reconciliation", RECONCILE_MS, reconcile_accounts);
    if (rc == TD_OK)
        rc = td_router_add_table(r, payment_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, refund_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, rate_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, commission_routes);
    if (rc == TD_OK)
        rc = payment_events_setup(td_service_bus(svc));
    td_service_on_mongo_ready(svc, init_database);
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    payments_list_free();
    commissions_list_free();
    return rc == TD_OK ? 0 : 1;
}
