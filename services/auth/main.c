/* tripdesk-auth: wiring only. Agents, sessions and the permission matrix. */
#include "auth.h"

#include "tripdesk/config.h"

#include <sodium.h>

#define RESYNC_INTERVAL_MS 30000
#define DIRECTORY_MAINTAIN_MS 1000 /* decides auto, loads and reloads the directory */

auth_config auth_cfg;

static void resync(td_service *svc, mongoc_client_t *c)
{
    matrix_publish(svc, c);
    tokens_resync(svc, c);
}

int main(void)
{
    td_service *svc;
    if (sodium_init() < 0 || td_service_new(&svc, "auth") != TD_OK)
        return 1;
    auth_cfg.access_ttl_s = td_env_int(ENV_ACCESS_TTL, 900, 30, 86400);
    auth_cfg.refresh_ttl_s = td_env_int(ENV_REFRESH_TTL, 604800, 300, (int64_t)90 * 86400);
    auth_cfg.register_ip_max = td_env_int(ENV_REGISTER_IP_MAX, REGISTER_IP_MAX_DEFAULT, 1, 1000000);
    int rc = td_token_init();
    if (rc == TD_OK)
        rc = td_service_add_builtin_routes(svc, "/api/auth");
    td_router *r = td_service_router(svc);
    if (rc == TD_OK)
        rc = td_router_add_table(r, session_routes);
    if (rc == TD_OK)
        rc = directory_new();
    if (rc == TD_OK) /* before agent_routes: /api/agents/directory is not an :id */
        rc = td_router_add_table(r, directory_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, agent_routes);
    if (rc == TD_OK)
        rc = td_router_add_table(r, permission_routes);
    if (rc == TD_OK)
        rc = td_bus_track_collection(td_service_bus(svc), COLL_AGENTS);
    if (rc == TD_OK)
        rc = td_bus_track_collection(td_service_bus(svc), COLL_MATRIX);
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "revocation-resync", RESYNC_INTERVAL_MS, resync);
    if (rc == TD_OK)
        rc = td_service_add_task(svc, "agent directory", DIRECTORY_MAINTAIN_MS, directory_maintain);
    td_service_on_mongo_ready(svc, auth_init_database);
    if (rc == TD_OK)
        rc = td_service_run(svc);
    td_service_free(svc);
    td_store_observers_clear();
    directory_free();
    return rc == TD_OK ? 0 : 1;
}
