/* tripdesk-analytics: wiring only. It subscribes to every service's events (bus
 * probes, audit trail) and serves /api/dashboard, /api/audit-logs and /api/jobs. */
#include "analytics.h"

#include "tripdesk/endpoint.h"

#define AUDIT_MODEL_TASK_MS 1000 /* first load, reloads when due */

static const td_route routes[] = {
    {"GET", "/api/dashboard/bus/probes", probes_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

int main(void)
{
    td_service *svc;
    if (td_service_new(&svc, "analytics") != TD_OK)
        return 1;
    int rc = audit_model_new();
    if (rc == TD_OK)
        rc = td_service_add_builtin_routes(svc, "/api/dashboard");
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "audit model", AUDIT_MODEL_TASK_MS, audit_model_maintain);
    if (rc == TD_OK)
        rc = td_router_add_table(td_service_router(svc), routes);
    if (rc == TD_OK)
        rc = td_router_add_table(td_service_router(svc), audit_log_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(td_service_router(svc), jobs_api_routes);
    for (int i = 0; rc == TD_OK && i < TD_SERVICE_COUNT; i++)
        rc = td_bus_subscribe(td_service_bus(svc), td_service_names[i], on_event, NULL);
    td_service_on_mongo_ready(svc, init_database);
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    audit_model_free();
    return rc == TD_OK ? 0 : 1;
}
