/*
 * Forwarding to services over nng req/rep. The gateway listens on one REQ socket
 * per service and instances dial in, so adding an instance needs no configuration;
 * nng spreads requests over the connected pipes. Each in-flight request has its own
 * nng context, so requests run concurrently.
 */
#include "gateway.h"

#include "envelope.pb-c.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/http.h"
#include "tripdesk/idempotency.h"
#include "tripdesk/log.h"
#include "tripdesk/permissions.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Request headers a service may need. */
static const char *const forwarded_headers[] = {"Content-Type", "Accept", "If-Match",
                                                "Accept-Language", NULL};

typedef struct {
    const char *name;
    nng_socket sock;
    int pipes; /* atomic: connected instances */
} upstream;

static upstream ups[TD_SERVICE_COUNT];

/* Each civetweb thread keeps one nng context and aio per service for its requests
 * (one request at a time per thread): opening them per request costs about a third
 * of the round trip. Freed when the thread exits. */
typedef struct {
    nng_ctx ctx[TD_SERVICE_COUNT];
    nng_aio *aio[TD_SERVICE_COUNT];
    bool open[TD_SERVICE_COUNT];
} thread_channels;

static pthread_key_t channels_key;
static pthread_once_t channels_once = PTHREAD_ONCE_INIT;

static void channels_free(void *p)
{
    thread_channels *tc = p;
    for (int i = 0; i < TD_SERVICE_COUNT; i++)
        if (tc->open[i]) {
            nng_aio_free(tc->aio[i]);
            TD_IGNORE(nng_ctx_close(tc->ctx[i])); /* the thread is leaving: nothing to do */
        }
    free(tc);
}

static bool channels_ok; /* the key exists (else every request answers 503) */

static void channels_init(void)
{
    channels_ok = pthread_key_create(&channels_key, channels_free) == 0;
    if (!channels_ok)
        td_error("gateway: no thread key for the service channels");
}

/* The calling thread's context and aio for service index i; 0 or an nng error. */
static int channel(int i, nng_ctx *ctx, nng_aio **aio)
{
    TD_IGNORE(pthread_once(&channels_once, channels_init)); /* fails only for a bad once */
    if (!channels_ok)
        return NNG_ENOMEM;
    thread_channels *tc = pthread_getspecific(channels_key);
    if (tc == NULL) {
        tc = calloc(1, sizeof *tc);
        if (tc == NULL)
            return NNG_ENOMEM;
        if (pthread_setspecific(channels_key, tc) != 0) {
            free(tc); /* kept nowhere: it would leak a context per request */
            return NNG_ENOMEM;
        }
    }
    if (!tc->open[i]) {
        int rv = nng_aio_alloc(&tc->aio[i], NULL, NULL);
        if (rv != 0)
            return rv;
        if ((rv = nng_ctx_open(&tc->ctx[i], ups[i].sock)) != 0) {
            nng_aio_free(tc->aio[i]);
            return rv;
        }
        tc->open[i] = true;
    }
    *ctx = tc->ctx[i];
    *aio = tc->aio[i];
    return 0;
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    upstream *u = arg;
    if (ev == NNG_PIPE_EV_ADD_POST) {
        int n = __atomic_add_fetch(&u->pipes, 1, __ATOMIC_RELAXED);
        td_info("%s instance connected (%d now)", u->name, n);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        int n = __atomic_sub_fetch(&u->pipes, 1, __ATOMIC_RELAXED);
        td_info("%s instance disconnected (%d now)", u->name, n);
    }
}

int gw_upstream_start(void)
{
    for (int i = 0; i < TD_SERVICE_COUNT; i++) {
        upstream *u = &ups[i];
        u->name = td_service_names[i];
        char url[TD_URL_MAX];
        if (td_endpoint_url(TD_EP_GATEWAY, u->name, 1, url, sizeof url) != TD_OK) {
            td_error("no address for %s (%s too long?)", u->name, TD_ENV_IPC_DIR);
            return TD_EIO;
        }
        int rv = nng_req0_open(&u->sock);
        /* Never re-send on a timer: a POST must not run twice. */
        if (rv == 0)
            rv = nng_socket_set_ms(u->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
        if (rv == 0)
            rv = nng_socket_set_size(u->sock, NNG_OPT_RECVMAXSZ, 0);
        if (rv == 0)
            rv = nng_pipe_notify(u->sock, NNG_PIPE_EV_ADD_POST, pipe_event, u);
        if (rv == 0)
            rv = nng_pipe_notify(u->sock, NNG_PIPE_EV_REM_POST, pipe_event, u);
        if (rv == 0)
            rv = nng_listen(u->sock, url, NULL, 0);
        if (rv != 0) {
            td_error("listen %s: %s", url, nng_strerror(rv));
            return TD_EIO;
        }
    }
    return TD_OK;
}

void gw_upstream_stop(void)
{
    for (int i = 0; i < TD_SERVICE_COUNT; i++)
        TD_IGNORE(nng_close(ups[i].sock)); /* shutting down: fails only when closed */
}

static upstream *find(const char *service)
{
    int i = td_service_index(service);
    return i >= 0 ? &ups[i] : NULL;
}

int gw_upstream_instances(const char *service)
{
    upstream *u = find(service);
    return u != NULL ? __atomic_load_n(&u->pipes, __ATOMIC_RELAXED) : 0;
}

/* Packs the request envelope into a new message; NULL on failure. */
static nng_msg *pack_request(gw_exchange *ex, const td_claims *principal, uint32_t perms,
                             const uint8_t *body, size_t body_len, int64_t deadline)
{
    const struct mg_request_info *ri = ex->ri;
    Tripdesk__Request rq = TRIPDESK__REQUEST__INIT;
    Tripdesk__Principal pr = TRIPDESK__PRINCIPAL__INIT;
    Tripdesk__Header hdrs[8];
    Tripdesk__Header *hp[8];
    size_t nh = 0;
    for (int i = 0; forwarded_headers[i] != NULL && nh < 8; i++) {
        const char *v = mg_get_header(ex->conn, forwarded_headers[i]);
        if (v == NULL)
            continue;
        tripdesk__header__init(&hdrs[nh]);
        hdrs[nh].name = (char *)forwarded_headers[i];
        hdrs[nh].value = (char *)v;
        hp[nh] = &hdrs[nh];
        nh++;
    }
    const char *ua = mg_get_header(ex->conn, "User-Agent");
    rq.request_id = ex->request_id;
    rq.method = (char *)ri->request_method;
    rq.path = (char *)ri->local_uri;
    rq.query = (char *)(ri->query_string != NULL ? ri->query_string : "");
    rq.n_headers = nh;
    rq.headers = hp;
    rq.body.data = (uint8_t *)body;
    rq.body.len = body_len;
    rq.client_ip = (char *)ri->remote_addr;
    rq.user_agent = (char *)(ua != NULL ? ua : "");
    rq.deadline_ms = deadline;
    const char *ikey = mg_get_header(ex->conn, TD_IDEM_HEADER);
    rq.idempotency_key = (char *)(ikey != NULL ? ikey : "");
    char *names[TD_PERM_COUNT];
    if (principal != NULL) {
        size_t np = 0;
        for (int i = 0; i < TD_PERM_COUNT; i++)
            if (perms >> i & 1u)
                names[np++] = (char *)td_permission_names[i];
        pr.permissions = names;
        pr.n_permissions = np;
        pr.agent_id = (char *)principal->sub;
        pr.role = (char *)principal->role;
        pr.token_id = (char *)principal->jti;
        rq.principal = &pr;
    }
    size_t len = tripdesk__request__get_packed_size(&rq);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, len) != 0)
        return NULL;
    tripdesk__request__pack(&rq, nng_msg_body(msg));
    return msg;
}

static void unavailable(gw_exchange *ex, const char *service, int status, const char *code,
                        const char *what)
{
    char msg[160];
    /* fits: a service name and a phrase of ours */
    TD_IGNORE(td_fmt(msg, sizeof msg, "The %s service %s", service, what));
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "service", service);
    gw_send_error(ex, status, code, msg, details);
}

/* Writes the service's response envelope to the client. */
static void relay_response(gw_exchange *ex, const Tripdesk__Response *rs)
{
    td_pair headers[TD_MAX_RES_HEADERS];
    int n = 0;
    for (size_t i = 0; i < rs->n_headers && n < TD_MAX_RES_HEADERS; i++, n++) {
        headers[n].name = rs->headers[i]->name;
        headers[n].value = rs->headers[i]->value;
    }
    int status = rs->status >= 100 && rs->status <= 599 ? rs->status : 502;
    gw_send_api(ex, status, (const char *)rs->body.data, rs->body.len, headers, n);
}

void gw_forward(gw_exchange *ex, const char *service, const td_claims *principal, uint32_t perms,
                const uint8_t *body, size_t body_len)
{
    upstream *u = find(service);
    if (u == NULL || __atomic_load_n(&u->pipes, __ATOMIC_RELAXED) == 0) {
        unavailable(ex, service, 503, "SERVICE_UNAVAILABLE", "is unavailable");
        return;
    }
    const char *ikey = mg_get_header(ex->conn, TD_IDEM_HEADER);
    if (ikey != NULL && !td_idem_key_valid(ikey)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "header", TD_IDEM_HEADER);
        gw_send_error(ex, 400, "INVALID_IDEMPOTENCY_KEY",
                      "Idempotency-Key must be 1 to 255 printable ASCII characters", details);
        return;
    }
    int64_t deadline = td_deadline_after(gw_cfg.timeout_ms);
    nng_msg *msg = pack_request(ex, principal, perms, body, body_len, deadline);
    nng_ctx ctx;
    nng_aio *aio = NULL;
    if (msg == NULL || channel((int)(u - ups), &ctx, &aio) != 0) {
        nng_msg_free(msg);
        gw_send_error(ex, 500, "INTERNAL_ERROR", "Out of resources", NULL);
        return;
    }
    nng_aio_set_timeout(aio, (nng_duration)gw_cfg.timeout_ms);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    if (rv == 0) {
        nng_aio_set_timeout(aio, (nng_duration)td_deadline_until_ms(deadline, 1));
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    } else {
        nng_msg_free(nng_aio_get_msg(aio));
    }
    if (rv == 0) {
        nng_msg *reply = nng_aio_get_msg(aio);
        Tripdesk__Response *rs =
            tripdesk__response__unpack(NULL, nng_msg_len(reply), nng_msg_body(reply));
        if (rs != NULL) {
            relay_response(ex, rs);
            tripdesk__response__free_unpacked(rs, NULL);
        } else {
            unavailable(ex, service, 502, "BAD_GATEWAY", "sent a malformed response");
        }
        nng_msg_free(reply);
    } else if (rv == NNG_ETIMEDOUT) {
        td_log(TD_LOG_WARN, ex->request_id, "%s %s: %s did not answer in %lld ms",
               ex->ri->request_method, ex->ri->local_uri, service, (long long)gw_cfg.timeout_ms);
        unavailable(ex, service, 504, "SERVICE_TIMEOUT", "did not answer in time");
    } else {
        unavailable(ex, service, 503, "SERVICE_UNAVAILABLE", "is unavailable");
    }
    /* A timed-out request is abandoned by the next send on this context. */
}
