/* Responses: every answer carries the request id, security headers and, for an
 * allowed origin, CORS headers. */
#include "gateway.h"

#include "tripdesk/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allowed CORS origin of the request (from TRIPDESK_CORS_ORIGINS), or NULL. */
const char *gw_cors_origin(const struct mg_connection *conn)
{
    const char *origin = mg_get_header(conn, "Origin");
    if (origin == NULL || gw_cfg.cors_origins[0] == '\0')
        return NULL;
    if (strcmp(gw_cfg.cors_origins, "*") == 0)
        return origin;
    size_t n = strlen(origin);
    const char *p = gw_cfg.cors_origins;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, origin, n) == 0)
            return origin;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return NULL;
}

void gw_send(gw_exchange *ex, int status, const char *content_type, const char *body,
             size_t len, const char *extra_headers[][2], int nextra)
{
    struct mg_connection *c = ex->conn;
    char clen[32];
    snprintf(clen, sizeof clen, "%zu", len);
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", content_type, -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_add(c, "X-Request-Id", ex->request_id, -1);
    mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(c, "X-Frame-Options", "DENY", -1);
    mg_response_header_add(c, "Referrer-Policy", "no-referrer", -1);
    mg_response_header_add(c, "Cross-Origin-Opener-Policy", "same-origin", -1);
    mg_response_header_add(c, "Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: blob:; "
                           "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                           "base-uri 'self'; form-action 'self'",
                           -1);
    if (ex->origin != NULL) {
        mg_response_header_add(c, "Access-Control-Allow-Origin", ex->origin, -1);
        if (strcmp(gw_cfg.cors_origins, "*") != 0)
            mg_response_header_add(c, "Access-Control-Allow-Credentials", "true", -1);
        mg_response_header_add(c, "Access-Control-Expose-Headers",
                               "X-Request-Id, X-Cache, Retry-After", -1);
        mg_response_header_add(c, "Vary", "Origin", -1);
    }
    for (int i = 0; i < nextra; i++)
        mg_response_header_add(c, extra_headers[i][0], extra_headers[i][1], -1);
    mg_response_header_send(c);
    if (len > 0 && strcmp(ex->ri->request_method, "HEAD") != 0)
        mg_write(c, body, len);
}

void gw_send_json(gw_exchange *ex, int status, cJSON *root)
{
    char *text = root != NULL ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL) {
        static const char oom[] =
            "{\"success\":false,\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"Out of memory\"}}";
        gw_send(ex, 500, "application/json", oom, sizeof oom - 1, NULL, 0);
        return;
    }
    const char *extra[][2] = {{"Cache-Control", "no-store"}};
    gw_send(ex, status, "application/json", text, strlen(text), extra, 1);
    free(text);
}

void gw_send_error(gw_exchange *ex, int status, const char *code, const char *message,
                   cJSON *details)
{
    char *text = td_error_body(code, message, details);
    const char *extra[][2] = {{"Cache-Control", "no-store"}};
    if (text == NULL) {
        gw_send(ex, 500, "application/json", "{}", 2, extra, 1);
        return;
    }
    gw_send(ex, status, "application/json", text, strlen(text), extra, 1);
    free(text);
}
