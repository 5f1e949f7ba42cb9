/* Responses: every answer carries the request id, security headers and, for an
 * allowed origin, CORS headers. */
#define _GNU_SOURCE /* strcasestr */
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

#define SINGLE_WRITE_MAX ((size_t)64 * 1024)

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* Whether the client keeps the connection (HTTP/1.1 unless "close"; 1.0 only with
 * "keep-alive"): civetweb decides the same way after the handler returns. */
static bool keeps_alive(gw_exchange *ex)
{
    if (ex->close)
        return false;
    const char *conn = mg_get_header(ex->conn, "Connection");
    const char *ver = ex->ri->http_version;
    if (conn != NULL)
        return strcasestr(conn, "keep-alive") != NULL ||
               (strcasestr(conn, "close") == NULL && ver != NULL && strcmp(ver, "1.1") == 0);
    return ver != NULL && strcmp(ver, "1.1") == 0;
}

/* Appends "name: value\r\n" at n; header values never contain CR/LF (they are
 * ours, or service headers the framework built). Returns the new length, or cap
 * once one did not fit (a header is never sent cut: gw_send answers 500). */
static size_t add(char *buf, size_t cap, size_t n, const char *name, const char *value)
{
    if (n >= cap || td_fmt(buf + n, cap - n, "%s: %s\r\n", name, value) != TD_OK)
        return cap;
    return n + strlen(buf + n);
}

/* Writes "HTTP/1.1 <status> <reason>\r\n" into buf; its length. */
static size_t status_line(char *buf, size_t cap, int status)
{
    /* fits: a number and a reason phrase of ours */
    TD_IGNORE(td_fmt(buf, cap, "HTTP/1.1 %d %s\r\n", status, reason(status)));
    return strlen(buf);
}

/*
 * Writes the whole response — status line, headers, body — with one write for all
 * but large bodies: a second small write per response costs as much as the rest of
 * a trivial request (see docs/performance.md).
 */
void gw_send(gw_exchange *ex, int status, const char *content_type, const char *body, size_t len,
             const char *extra_headers[][2], int nextra)
{
    char head[4096];
    size_t n = status_line(head, sizeof head, status);
    char clen[32];
    /* fits: one number */
    TD_IGNORE(td_fmt(clen, sizeof clen, "%zu", len));
    n = add(head, sizeof head, n, "Content-Type", content_type);
    n = add(head, sizeof head, n, "Content-Length", clen);
    n = add(head, sizeof head, n, "X-Request-Id", ex->request_id);
    n = add(head, sizeof head, n, "X-Content-Type-Options", "nosniff");
    n = add(head, sizeof head, n, "X-Frame-Options", "DENY");
    n = add(head, sizeof head, n, "Referrer-Policy", "no-referrer");
    n = add(head, sizeof head, n, "Cross-Origin-Opener-Policy", "same-origin");
    n = add(head, sizeof head, n, "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
    if (ex->origin != NULL) {
        n = add(head, sizeof head, n, "Access-Control-Allow-Origin", ex->origin);
        if (strcmp(gw_cfg.cors_origins, "*") != 0)
            n = add(head, sizeof head, n, "Access-Control-Allow-Credentials", "true");
        n = add(head, sizeof head, n, "Access-Control-Expose-Headers",
                "X-Request-Id, X-Cache, Retry-After, Idempotent-Replayed");
        n = add(head, sizeof head, n, "Vary", "Origin");
    }
    for (int i = 0; i < nextra; i++)
        n = add(head, sizeof head, n, extra_headers[i][0], extra_headers[i][1]);
    n = add(head, sizeof head, n, "Connection", keeps_alive(ex) ? "keep-alive" : "close");
    if (n + 2 >= sizeof head) {
        static const char overflow[] = "HTTP/1.1 500 Internal Server Error\r\n"
                                       "Content-Length: 0\r\nConnection: close\r\n\r\n";
        mg_write(ex->conn, overflow, sizeof overflow - 1);
        return;
    }
    head[n++] = '\r';
    head[n++] = '\n';
    /* The method is unknown when civetweb could not parse the request line. */
    const char *method = ex->ri->request_method;
    bool with_body = len > 0 && (method == NULL || strcmp(method, "HEAD") != 0);
    if (with_body && len <= SINGLE_WRITE_MAX) {
        char *all = malloc(n + len);
        if (all != NULL) {
            memcpy(all, head, n);
            memcpy(all + n, body, len);
            mg_write(ex->conn, all, n + len);
            free(all);
            return;
        }
    }
    mg_write(ex->conn, head, n);
    if (with_body)
        mg_write(ex->conn, body, len);
}

void gw_send_json(gw_exchange *ex, int status, cJSON *root)
{
    char *text = root != NULL ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL) {
        static const char oom[] = "{\"success\":false,\"error\":{\"code\":\"INTERNAL_ERROR\","
                                  "\"message\":\"Out of memory\"}}";
        gw_send(ex, 500, "application/json", oom, sizeof oom - 1, NULL, 0);
        return;
    }
    const char *extra[][2] = {{"Cache-Control", "no-store"}};
    gw_send(ex, status, "application/json", text, strlen(text), extra, 1);
    free(text);
}

void gw_send_api(gw_exchange *ex, int status, const char *body, size_t len, const td_pair *headers,
                 int nheaders)
{
    const char *extra[TD_MAX_RES_HEADERS + 1][2] = {{"Cache-Control", "no-store"}};
    int n = 1;
    for (int i = 0; i < nheaders && n < TD_MAX_RES_HEADERS + 1; i++, n++) {
        extra[n][0] = headers[i].name;
        extra[n][1] = headers[i].value;
    }
    gw_send(ex, status, "application/json", body, len, extra, n);
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
