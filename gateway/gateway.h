/*
 * The gateway: the one HTTP server of TripDesk (civetweb). It owns request ids,
 * CORS, security headers, body limits, JWT verification, the route table
 * (path prefix -> service), forwarding over nng req/rep, /api/health and the web UI.
 * This header is the map of its files.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tripdesk/http.h"
#include "tripdesk/token.h"

#define GW_REQUEST_ID_MAX 64
#define GW_DEFAULT_PORT 8080
#define GW_DEFAULT_TIMEOUT_MS 5000
#define GW_DEFAULT_MAX_BODY ((int64_t)1024 * 1024)
#define GW_DEFAULT_HTTP_THREADS 128
#define GW_REGISTRY_TIMEOUT_MS 1000
#define GW_URI_MAX 8192 /* path + query; longer is 414 before any other check */

typedef struct {
    int port;
    int64_t timeout_ms;
    int64_t max_body;
    int http_threads;
    char web_root[1024];
    char cors_origins[1024];
    int64_t started_ms;
} gw_config;

extern gw_config gw_cfg;

/* One HTTP exchange as the gateway handles it. */
typedef struct {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    char request_id[GW_REQUEST_ID_MAX + 1];
    const char *origin; /* allowed CORS origin, or NULL */
    bool close;         /* answer with Connection: close (civetweb then closes) */
} gw_exchange;

/* routes.c: the route table. */
typedef struct {
    const char *prefix; /* "/api/bookings" matches itself and "/api/bookings/..." */
    const char *service;
} gw_route;

const char *gw_route_service(const char *path);
bool gw_route_is_public(const char *method, const char *path);
int64_t gw_route_body_limit(const char *path);

/* respond.c: writing responses with the common headers. */
void gw_send(gw_exchange *ex, int status, const char *content_type, const char *body, size_t len,
             const char *extra_headers[][2], int nextra);
void gw_send_error(gw_exchange *ex, int status, const char *code, const char *message,
                   cJSON *details);
void gw_send_json(gw_exchange *ex, int status, cJSON *root); /* takes root */
/* A service's JSON answer (forwarded, or a cache hit) with its own headers; API
 * answers are never cached by clients (Cache-Control: no-store). */
void gw_send_api(gw_exchange *ex, int status, const char *body, size_t len, const td_pair *headers,
                 int nheaders);
const char *gw_cors_origin(const struct mg_connection *conn);

/* upstream.c: nng req/rep to the services. */
int gw_upstream_start(void);
void gw_upstream_stop(void);
int gw_upstream_instances(const char *service);
void gw_forward(gw_exchange *ex, const char *service, const td_claims *principal, uint32_t perms,
                const uint8_t *body, size_t body_len);

/* health.c: GET /api/health from the registry. */
int gw_health_start(void);
void gw_health_stop(void);
void gw_health(gw_exchange *ex, bool with_pids); /* pids: the caller has a valid token */

/* principal.c: revocation and permissions of a verified token. */
enum { GW_PRINCIPAL_OK = 0, GW_PRINCIPAL_REVOKED, GW_PRINCIPAL_INVALID };
void gw_principal_init(void);
td_token_result gw_verify_token(const char *token, int64_t now, td_claims *claims);
int gw_principal(const td_claims *claims, uint32_t *perms);

/* cache_hits.c: registers the services' cached lists (at start), then answers a
 * cached list from Redis without the service; false when the request must be
 * forwarded (not a cached list, a miss, cache off, Redis down). */
int gw_cached_lists_init(void);
bool gw_serve_cached(gw_exchange *ex, const td_claims *principal, uint32_t perms);

/* static_files.c: the web UI with SPA fallback. */
void gw_static(gw_exchange *ex);

#endif
