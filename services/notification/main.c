/* tripdesk-notification: wiring only. In-app notifications made from the other
 * services' events (notification.h). */
#include "notification.h"

/* Loads the notification list copy (first run) and reloads it when due. */
static void maintain_list(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    notifications_list_maintain(c);
}

static int init_database(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    return people_init(c);
}

int main(void)
{
    td_service *svc;
    if (td_service_new(&svc, "notification") != TD_OK)
        return 1;
    td_router *r = td_service_router(svc);
    int rc = notifications_list_new();
    if (rc == TD_OK)
        rc = td_service_add_builtin_routes(svc, "/api/notifications");
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "list copy", 1000, maintain_list);
    if (rc == TD_OK)
        rc = td_router_add_table(r, preference_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, notification_routes);
    if (rc == TD_OK)
        rc = triggers_setup(td_service_bus(svc));
    td_service_on_mongo_ready(svc, init_database);
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    notifications_list_free();
    people_free();
    return rc == TD_OK ? 0 : 1;
}
