/*
 * GET /api/health: per-service status from the registry's live instances.
 * A service is "down" with no live instance, "degraded" when an instance cannot
 * reach a dependency it uses (MongoDB, Redis) or is draining, "up" otherwise.
 * Overall "ok" when every service is up, else "degraded". Process ids are
 * operational detail: only a caller with a valid access token sees them.
 */
#include "gateway.h"

#include "registry.pb-c.h"
#include "tripdesk/common.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/log.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <string.h>

static nng_socket reg;

int gw_health_start(void)
{
    char url[TD_URL_MAX];
    TD_IGNORE(
        td_endpoint_url(TD_EP_REGISTRY, NULL, 0, url, sizeof url)); /* no service: cannot fail */
    int rv = nng_req0_open(&reg);
    if (rv == 0)
        rv = nng_socket_set_ms(reg, NNG_OPT_RECONNMINT, 100);
    if (rv == 0)
        rv = nng_socket_set_ms(reg, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0)
        rv = nng_socket_set_ms(reg, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    if (rv == 0)
        rv = nng_dial(reg, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        td_error("registry dial %s: %s", url, nng_strerror(rv));
        return TD_EIO;
    }
    return TD_OK;
}

void gw_health_stop(void)
{
    TD_IGNORE(nng_close(reg)); /* shutting down: fails only when closed already */
}

/* Whole seconds from since_ms to now_ms, as the health answer shows an uptime. */
static double uptime_s(int64_t now_ms, int64_t since_ms)
{
    int64_t seconds = (now_ms - since_ms) / 1000;
    return (double)seconds;
}

/* Asks the registry for its live instances; NULL when it does not answer. */
static Tripdesk__RegistryReply *query_registry(void)
{
    Tripdesk__RegistryRequest rq = TRIPDESK__REGISTRY_REQUEST__INIT;
    size_t len = tripdesk__registry_request__get_packed_size(&rq);
    nng_msg *msg;
    nng_ctx ctx;
    nng_aio *aio;
    if (nng_msg_alloc(&msg, len) != 0)
        return NULL;
    tripdesk__registry_request__pack(&rq, nng_msg_body(msg));
    if (nng_ctx_open(&ctx, reg) != 0) {
        nng_msg_free(msg);
        return NULL;
    }
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        nng_msg_free(msg);
        TD_IGNORE(nng_ctx_close(ctx)); /* failing already: nothing more to report */
        return NULL;
    }
    Tripdesk__RegistryReply *reply = NULL;
    nng_aio_set_timeout(aio, GW_REGISTRY_TIMEOUT_MS);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0) {
        nng_msg_free(nng_aio_get_msg(aio));
        goto out;
    }
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) == 0) {
        nng_msg *m = nng_aio_get_msg(aio);
        reply = tripdesk__registry_reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
        nng_msg_free(m);
    }
out:
    nng_aio_free(aio);
    TD_IGNORE(nng_ctx_close(ctx)); /* done with it: fails only when closed already */
    return reply;
}

static cJSON *service_health(const char *name, const Tripdesk__RegistryReply *reg_reply,
                             int64_t now, bool with_pids, bool *up)
{
    cJSON *s = cJSON_CreateObject();
    int instances = 0;
    int64_t oldest = 0;
    bool mongo_ok = true, redis_ok = true, draining = false, uses_mongo = false, uses_redis = false;
    const char *version = NULL;
    cJSON *pids = cJSON_CreateArray();
    for (size_t i = 0; reg_reply != NULL && i < reg_reply->n_instances; i++) {
        const Tripdesk__Instance *in = reg_reply->instances[i];
        if (strcmp(in->service, name) != 0)
            continue;
        instances++;
        if (oldest == 0 || in->started_ms < oldest)
            oldest = in->started_ms;
        uses_mongo |= in->uses_mongo;
        uses_redis |= in->uses_redis;
        if (in->uses_mongo && !in->mongo_ok)
            mongo_ok = false;
        if (in->uses_redis && !in->redis_ok)
            redis_ok = false;
        draining |= in->draining;
        version = in->version;
        cJSON_AddItemToArray(pids, cJSON_CreateNumber(in->pid));
    }
    const char *status = "up";
    if (instances == 0)
        status = "down";
    else if (!mongo_ok || !redis_ok || draining)
        status = "degraded";
    *up = instances > 0 && strcmp(status, "up") == 0;
    cJSON_AddStringToObject(s, "status", status);
    cJSON_AddNumberToObject(s, "instances", instances);
    cJSON_AddNumberToObject(s, "connected", gw_upstream_instances(name));
    cJSON_AddNumberToObject(s, "uptime", instances > 0 ? uptime_s(now, oldest) : 0);
    if (version != NULL)
        cJSON_AddStringToObject(s, "version", version);
    else
        cJSON_AddNullToObject(s, "version");
    cJSON_AddStringToObject(s, "mongodb",
                            instances == 0 ? "unknown"
                                           : (!uses_mongo ? "unused"
                                              : mongo_ok  ? "up"
                                                          : "down"));
    cJSON_AddStringToObject(s, "redis",
                            instances == 0 ? "unknown"
                                           : (!uses_redis ? "unused"
                                              : redis_ok  ? "up"
                                                          : "down"));
    if (with_pids)
        cJSON_AddItemToObject(s, "pids", pids);
    else
        cJSON_Delete(pids);
    return s;
}

void gw_health(gw_exchange *ex, bool with_pids)
{
    Tripdesk__RegistryReply *r = query_registry();
    int64_t now = td_now_ms();
    cJSON *root = cJSON_CreateObject();
    cJSON *data = cJSON_CreateObject();
    cJSON *services = cJSON_CreateObject();
    bool all_up = r != NULL;
    for (int i = 0; i < TD_SERVICE_COUNT; i++) {
        bool up;
        cJSON_AddItemToObject(services, td_service_names[i],
                              service_health(td_service_names[i], r, now, with_pids, &up));
        all_up &= up;
    }
    char ts[TD_ISO_TIME_LEN];
    td_iso_time(now, ts);
    cJSON_AddStringToObject(data, "status", all_up ? "ok" : "degraded");
    cJSON_AddStringToObject(data, "time", ts);
    cJSON *gw = cJSON_CreateObject();
    cJSON_AddStringToObject(gw, "status", "up");
    cJSON_AddStringToObject(gw, "version", TD_VERSION);
    cJSON_AddNumberToObject(gw, "uptime", uptime_s(now, gw_cfg.started_ms));
    cJSON_AddItemToObject(data, "gateway", gw);
    cJSON *rg = cJSON_CreateObject();
    cJSON_AddStringToObject(rg, "status", r != NULL ? "up" : "down");
    if (r != NULL)
        cJSON_AddNumberToObject(rg, "uptime", uptime_s(now, r->registry_started_ms));
    cJSON_AddItemToObject(data, "registry", rg);
    cJSON_AddItemToObject(data, "services", services);
    cJSON_AddBoolToObject(root, "success", true);
    cJSON_AddItemToObject(root, "data", data);
    if (r != NULL)
        tripdesk__registry_reply__free_unpacked(r, NULL);
    gw_send_json(ex, 200, root);
}
