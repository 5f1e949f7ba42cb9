/* tripdesk-gateway: configuration, the request pipeline and the daemon's life. */
#include "gateway.h"

#include "tripdesk/cache.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"
#include "tripdesk/redis.h"

#include <nng/nng.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

gw_config gw_cfg;

#define LISTEN_MAX 128 /* "<TRIPDESK_BIND>:<port>", civetweb's listening_ports */

/* Keeps a client-supplied request id when it is short and plain, else makes one. */
static void set_request_id(gw_exchange *ex)
{
    const char *given = mg_get_header(ex->conn, "X-Request-Id");
    if (given != NULL) {
        size_t n = strlen(given);
        bool ok = n > 0 && n <= GW_REQUEST_ID_MAX;
        for (size_t i = 0; ok && i < n; i++) {
            char c = given[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        }
        if (ok) {
            memcpy(ex->request_id, given, n + 1);
            return;
        }
    }
    char id[25];
    td_new_id(id);
    memcpy(ex->request_id, id, sizeof id);
}

/* Longest Content-Length we parse: 18 digits cannot overflow int64_t. */
#define CONTENT_LENGTH_DIGITS_MAX 18

/* True for a byte of an HTTP token (RFC 9110 tchar): header names are tokens. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * True when the raw header line had white space between its name and the colon
 * ("Transfer-Encoding : chunked"), which RFC 9112 says must be refused. civetweb
 * 1.15 accepts it: it overwrites those spaces and the colon with NULs and points
 * the value past them, so the line's bytes still show it — a second NUL right after
 * the name's terminator, before the value begins. (A plain "Name: v" has the colon's
 * NUL then the space; "Name:v" has the value right after the NUL.)
 */
static bool space_before_colon(const char *name, const char *value)
{
    size_t n = strlen(name);
    return value > name + n + 1 && name[n + 1] == '\0';
}

/*
 * Checks how the request says where its body ends, on the raw headers civetweb
 * parsed (duplicates stay visible there; civetweb itself reads only the first).
 * Refused, because a proxy in front of us may frame the body differently
 * (request smuggling): Content-Length together with Transfer-Encoding, two
 * Content-Lengths, a Content-Length that is not plain digits ("+2", " 2", "2,2"),
 * two Transfer-Encodings or one other than "chunked", a header name that is not a
 * token ("Transfer-Encoding " before the colon) and control bytes in a value (a
 * tab is legal). Returns NULL when the framing is sound, else the reason.
 */
static const char *bad_framing(const struct mg_request_info *ri)
{
    int lengths = 0, encodings = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name;
        const char *value = ri->http_headers[i].value != NULL ? ri->http_headers[i].value : "";
        if (name == NULL || name[0] == '\0')
            return "A header has no name";
        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
            if (!is_tchar(*p))
                return "A header name contains a character that is not allowed";
        if (space_before_colon(name, value))
            return "A header name is followed by white space before its colon";
        for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                return "A header value contains a control character";
        if (strcasecmp(name, "Content-Length") == 0) {
            size_t n = strlen(value);
            if (++lengths > 1)
                return "The request has more than one Content-Length";
            if (n == 0 || n > CONTENT_LENGTH_DIGITS_MAX || strspn(value, "0123456789") != n)
                return "Content-Length must be a plain decimal number";
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (++encodings > 1)
                return "The request has more than one Transfer-Encoding";
            if (strcasecmp(value, "chunked") != 0)
                return "Only Transfer-Encoding: chunked is supported";
        }
    }
    if (lengths > 0 && encodings > 0)
        return "The request has both Content-Length and Transfer-Encoding";
    return NULL;
}

/* Answers 400 and closes the connection: after a request whose end is in doubt, the
 * next bytes on it cannot be trusted to start a request. */
static void refuse_and_close(gw_exchange *ex, const char *why)
{
    ex->close = true;
    mg_disable_connection_keep_alive(ex->conn);
    gw_send_error(ex, 400, "BAD_REQUEST", why, NULL);
}

static void preflight(gw_exchange *ex)
{
    const char *extra[][2] = {
        {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"},
        {"Access-Control-Allow-Headers",
         "Authorization, Content-Type, X-Request-Id, If-Match, Idempotency-Key"},
        {"Access-Control-Max-Age", "600"},
    };
    gw_send(ex, 204, "text/plain", "", 0, extra, ex->origin != NULL ? 3 : 0);
}

/* Reads the body, enforcing the route's limit. Returns 0, or the HTTP status of the
 * error already sent. */
static int read_body(gw_exchange *ex, int64_t limit, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    long long declared = ex->ri->content_length;
    if (declared > limit) {
        gw_send_error(ex, 413, "PAYLOAD_TOO_LARGE", "The request body is too large", NULL);
        return 413;
    }
    size_t cap = declared > 0 ? (size_t)declared : 0;
    if (declared < 0)
        cap = 4096; /* chunked: grow as it comes */
    if (cap == 0)
        return 0;
    uint8_t *buf = malloc(cap);
    size_t got = 0;
    for (;;) {
        if (buf == NULL) {
            gw_send_error(ex, 500, "INTERNAL_ERROR", "Out of memory", NULL);
            return 500;
        }
        if (got == cap) {
            if (declared >= 0)
                break;
            if ((int64_t)cap > limit) {
                free(buf);
                gw_send_error(ex, 413, "PAYLOAD_TOO_LARGE", "The request body is too large", NULL);
                return 413;
            }
            if (td_grow((void **)&buf, &cap, got, 1, cap) != TD_OK) {
                free(buf);
                gw_send_error(ex, 500, "INTERNAL_ERROR", "Out of memory", NULL);
                return 500;
            }
            continue;
        }
        int n = mg_read(ex->conn, buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if ((int64_t)got > limit) {
        free(buf);
        gw_send_error(ex, 413, "PAYLOAD_TOO_LARGE", "The request body is too large", NULL);
        return 413;
    }
    *out = buf;
    *len = got;
    return 0;
}

static bool is_json(const char *ct)
{
    size_t n = strlen("application/json");
    return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';');
}

/* True when the request carries a valid, unrevoked access token (public routes
 * that show more to a signed-in caller). */
static bool has_valid_token(gw_exchange *ex)
{
    const char *auth = mg_get_header(ex->conn, "Authorization");
    td_claims claims;
    uint32_t perms;
    return auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 &&
           gw_verify_token(auth + 7, td_now_ms() / 1000, &claims) == TD_TOKEN_OK &&
           gw_principal(&claims, &perms) == GW_PRINCIPAL_OK;
}

static void api(gw_exchange *ex)
{
    const char *method = ex->ri->request_method;
    const char *path = ex->ri->local_uri;
    if (strcmp(path, "/api/health") == 0) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            gw_health(ex, has_valid_token(ex));
        else
            gw_send_error(ex, 405, "METHOD_NOT_ALLOWED", "Use GET", NULL);
        return;
    }
    const char *service = gw_route_service(path);
    if (service == NULL) {
        gw_send_error(ex, 404, "NOT_FOUND", "No such API route", NULL);
        return;
    }
    td_claims claims;
    uint32_t perms = 0;
    bool authed = false;
    if (!gw_route_is_public(method, path)) {
        const char *auth = mg_get_header(ex->conn, "Authorization");
        if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
            gw_send_error(ex, 401, "UNAUTHORIZED", "A Bearer access token is required", NULL);
            return;
        }
        td_token_result tr = gw_verify_token(auth + 7, td_now_ms() / 1000, &claims);
        if (tr != TD_TOKEN_OK) {
            gw_send_error(ex, 401, tr == TD_TOKEN_EXPIRED ? "TOKEN_EXPIRED" : "INVALID_TOKEN",
                          td_token_reason(tr), NULL);
            return;
        }
        int pr = gw_principal(&claims, &perms);
        if (pr != GW_PRINCIPAL_OK) {
            gw_send_error(ex, 401, pr == GW_PRINCIPAL_REVOKED ? "TOKEN_REVOKED" : "INVALID_TOKEN",
                          pr == GW_PRINCIPAL_REVOKED ? "The access token has been revoked"
                                                     : "The access token names an unknown role",
                          NULL);
            return;
        }
        authed = true;
        if (gw_serve_cached(ex, &claims, perms))
            return;
    }
    uint8_t *body = NULL;
    size_t body_len = 0;
    if (read_body(ex, gw_route_body_limit(path), &body, &body_len) != 0)
        return;
    if (body_len > 0 && !is_json(mg_get_header(ex->conn, "Content-Type"))) {
        free(body);
        gw_send_error(ex, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json",
                      NULL);
        return;
    }
    gw_forward(ex, service, authed ? &claims : NULL, perms, body, body_len);
    free(body);
}

static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    gw_exchange ex = {.conn = conn, .ri = mg_get_request_info(conn)};
    set_request_id(&ex);
    ex.origin = gw_cors_origin(conn);
    const char *framing = bad_framing(ex.ri);
    if (framing != NULL) {
        refuse_and_close(&ex, framing);
        return 1;
    }
    const char *path = ex.ri->local_uri != NULL ? ex.ri->local_uri : "/";
    const char *query = ex.ri->query_string != NULL ? ex.ri->query_string : "";
    if (strlen(path) + strlen(query) > GW_URI_MAX) {
        gw_send_error(&ex, 414, "URI_TOO_LONG", "The request URI is too long", NULL);
        return 1;
    }
    bool is_api = strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0;
    if (strcmp(ex.ri->request_method, "OPTIONS") == 0)
        preflight(&ex);
    else if (is_api)
        api(&ex);
    else
        gw_static(&ex);
    return 1;
}

/* The error code of one of civetweb's own answers (a request it could not parse). */
static const char *civetweb_error_code(int status)
{
    switch (status) {
    case 400: return "BAD_REQUEST";
    case 405: return "METHOD_NOT_ALLOWED";
    case 408: return "REQUEST_TIMEOUT";
    case 411: return "LENGTH_REQUIRED";
    case 413: return "PAYLOAD_TOO_LARGE";
    case 414: return "URI_TOO_LONG";
    case 431: return "HEADERS_TOO_LARGE";
    case 505: return "HTTP_VERSION_NOT_SUPPORTED";
    default: return status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
    }
}

/*
 * civetweb's own error answers (malformed request line or headers, a request
 * larger than its buffer) get our JSON error shape and security headers instead of
 * its plain text. The request may be half parsed, so the connection is closed.
 */
static int http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    gw_exchange ex = {.conn = conn, .ri = mg_get_request_info(conn), .close = true};
    if (ex.ri == NULL)
        return 1; /* nothing to answer with: let civetweb do it */
    set_request_id(&ex);
    ex.origin = gw_cors_origin(conn);
    mg_disable_connection_keep_alive(conn);
    char msg[160];
    /* a message: cut short it still says what was wrong (and is made ASCII below) */
    TD_IGNORE(td_fmt(msg, sizeof msg, "%s",
                     errmsg != NULL && errmsg[0] != '\0' ? errmsg : "Bad request"));
    for (char *p = msg; *p != '\0'; p++) /* it may quote request bytes: keep plain ASCII */
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    gw_send_error(&ex, status >= 400 && status <= 599 ? status : 400, civetweb_error_code(status),
                  msg, NULL);
    return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    td_warn("http: %s", message);
    return 1;
}

/* TD_EINVAL (logged) when a path or list from the environment is too long. */
static int load_config(void)
{
    gw_cfg.port = (int)td_env_int(TD_ENV_PORT, GW_DEFAULT_PORT, 1, 65535);
    gw_cfg.timeout_ms = td_env_int(TD_ENV_REQUEST_TIMEOUT, GW_DEFAULT_TIMEOUT_MS, 50, 600000);
    gw_cfg.max_body = td_env_int(TD_ENV_MAX_BODY, GW_DEFAULT_MAX_BODY, 1024, 1LL << 30);
    gw_cfg.http_threads = (int)td_env_int(TD_ENV_HTTP_THREADS, GW_DEFAULT_HTTP_THREADS, 4, 4096);
    gw_cfg.started_ms = td_now_ms();
    if (td_fmt(gw_cfg.web_root, sizeof gw_cfg.web_root, "%s",
               td_env_str(TD_ENV_WEB_ROOT, "gateway/web/dist")) != TD_OK) {
        td_error("%s is too long (at most %zu bytes)", TD_ENV_WEB_ROOT, sizeof gw_cfg.web_root - 1);
        return TD_EINVAL;
    }
    if (td_fmt(gw_cfg.cors_origins, sizeof gw_cfg.cors_origins, "%s",
               td_env_str(TD_ENV_CORS_ORIGINS, "")) != TD_OK) {
        td_error("%s is too long (at most %zu bytes)", TD_ENV_CORS_ORIGINS,
                 sizeof gw_cfg.cors_origins - 1);
        return TD_EINVAL;
    }
    return TD_OK;
}

int main(void)
{
    td_log_init("gateway");
    if (load_config() != TD_OK || td_token_init() != TD_OK || td_redis_init() != TD_OK ||
        gw_cached_lists_init() != TD_OK)
        return 1;
    gw_principal_init();

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        td_error("cannot set up signal handling");
        return 1;
    }

    if (gw_upstream_start() != TD_OK || gw_health_start() != TD_OK)
        return 1;

    char port[LISTEN_MAX], threads[16];
    if (td_fmt(port, sizeof port, "%s:%d", td_env_str(TD_ENV_BIND, "127.0.0.1"), gw_cfg.port) !=
        TD_OK) {
        td_error("%s is too long for a listening address", TD_ENV_BIND);
        return 1;
    }
    TD_IGNORE(td_fmt(threads, sizeof threads, "%d", gw_cfg.http_threads)); /* fits: one int */
    const char *options[] = {
        "listening_ports", port, "num_threads", threads, "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "15000", "request_timeout_ms", "30000", "listen_backlog", "1024",
        /* Responses go out in one write; do not let Nagle hold
                              * them for the client's delayed ACK. */
        "tcp_nodelay", "1",
        /* CORS is ours (respond.c): civetweb must not answer
                              * preflights itself with its "*" default. */
        "access_control_allow_methods", "", "access_control_allow_origin", "", NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = log_message;
    callbacks.http_error = http_error;
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (ctx == NULL) {
        td_error("cannot listen on %s", port);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle, NULL);
    td_info("gateway %s listening on http://%s (web root %s)", TD_VERSION, port, gw_cfg.web_root);

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    td_info("signal %d received; finishing in-flight requests", sig);
    mg_stop(ctx); /* waits for running handlers */
    gw_health_stop();
    gw_upstream_stop();
    mg_exit_library();
    td_cache_free();
    nng_fini();
    td_info("stopped");
    return 0;
}
