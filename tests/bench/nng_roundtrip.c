/*
 * tripdesk-bench-nngrt: a diagnostic target of tests/bench/run_bench.py that isolates
 * the cost of one nng req/rep round-trip per HTTP request, without the gateway's
 * logic (no JWT, request id, CORS, routing, protobuf envelopes or extra headers).
 *
 *   tripdesk-bench-nngrt serve PORT URL [--tcp-nodelay]
 *       civetweb with the gateway's options; the handler sends the ping body over a
 *       REQ socket listening on URL and answers with the reply, written in one
 *       mg_write (like tripdesk-bench-bare --single-write). Any path except
 *       /reuse opens a context and allocates an aio per request (send, wait,
 *       receive, wait, free: gw_forward before commit 5b7b1ff); /reuse keeps one
 *       context and aio per civetweb thread (as gw_forward does since).
 *   tripdesk-bench-nngrt echo URL [CONTEXTS]
 *       a REP socket dialling URL with CONTEXTS (64) contexts driven by aio callbacks
 *       that send every request straight back, like an inline route in
 *       shared/src/service.c.
 *
 * SIGINT/SIGTERM stop either.
 */
#include <civetweb.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 5000

static const char body[] =
    "{\"success\":true,\"data\":{\"service\":\"booking\",\"status\":\"ok\",\"version\":\"0.1.0\"}}";

static nng_socket req_sock;

static void wait_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
}

static void block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The whole response in one write: the cheapest way to answer with civetweb, so that
 * this target adds nothing but the nng round-trip to tripdesk-bench-bare --single-write. */
static void reply(struct mg_connection *conn, int status, const void *data, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                     "Connection: keep-alive\r\n\r\n",
                     status, status == 200 ? "OK" : "Error", len);
    char *buf = malloc((size_t)n + len);
    if (buf == NULL)
        return;
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, data, len);
    mg_write(conn, buf, (size_t)n + len);
    free(buf);
}

/* The context and aio a /reuse request uses: one per civetweb thread, kept. */
static __thread nng_ctx kept_ctx;
static __thread nng_aio *kept_aio;

static int handle(struct mg_connection *conn, void *cbdata)
{
    int reuse = cbdata != NULL;
    nng_msg *msg;
    nng_ctx ctx;
    nng_aio *aio;
    if (nng_msg_alloc(&msg, sizeof body - 1) != 0) {
        reply(conn, 500, "{}", 2);
        return 1;
    }
    memcpy(nng_msg_body(msg), body, sizeof body - 1);
    if (reuse && kept_aio != NULL) {
        ctx = kept_ctx;
        aio = kept_aio;
    } else {
        if (nng_ctx_open(&ctx, req_sock) != 0) {
            nng_msg_free(msg);
            reply(conn, 500, "{}", 2);
            return 1;
        }
        if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
            nng_msg_free(msg);
            nng_ctx_close(ctx);
            reply(conn, 500, "{}", 2);
            return 1;
        }
        if (reuse) {
            kept_ctx = ctx;
            kept_aio = aio;
        }
    }
    nng_aio_set_timeout(aio, TIMEOUT_MS);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    if (rv == 0) {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    } else {
        nng_msg_free(nng_aio_get_msg(aio));
    }
    if (rv == 0) {
        nng_msg *r = nng_aio_get_msg(aio);
        reply(conn, 200, nng_msg_body(r), nng_msg_len(r));
        nng_msg_free(r);
    } else {
        reply(conn, 503, "{}", 2);
    }
    if (!reuse) {
        nng_aio_free(aio);
        nng_ctx_close(ctx);
    }
    return 1;
}

static int serve(const char *port_arg, const char *url, int nodelay)
{
    int rv = nng_req0_open(&req_sock);
    if (rv == 0) {
        nng_socket_set_ms(req_sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
        nng_socket_set_size(req_sock, NNG_OPT_RECVMAXSZ, 0);
        rv = nng_listen(req_sock, url, NULL, 0);
    }
    if (rv != 0) {
        fprintf(stderr, "listen %s: %s\n", url, nng_strerror(rv));
        return 1;
    }
    char port[32];
    snprintf(port, sizeof port, "127.0.0.1:%d", atoi(port_arg));
    const char *options[] = {"listening_ports",
                             port,
                             "num_threads",
                             "128",
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "15000",
                             "request_timeout_ms",
                             "30000",
                             "listen_backlog",
                             "1024",
                             "access_control_allow_methods",
                             "",
                             "access_control_allow_origin",
                             "",
                             nodelay ? "tcp_nodelay" : NULL,
                             "1",
                             NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (ctx == NULL) {
        fprintf(stderr, "cannot listen on %s\n", port);
        return 1;
    }
    static int reuse_mark;
    mg_set_request_handler(ctx, "/", handle, NULL);
    mg_set_request_handler(ctx, "/reuse", handle, &reuse_mark);
    fprintf(stderr, "nng round-trip server on http://%s -> %s%s\n", port, url,
            nodelay ? " (tcp_nodelay)" : "");
    wait_signal();
    mg_stop(ctx);
    mg_exit_library();
    nng_close(req_sock);
    return 0;
}

typedef struct {
    nng_ctx ctx;
    nng_aio *aio;
    int sending;
} slot;

static void echo_cb(void *arg)
{
    slot *s = arg;
    int rv = nng_aio_result(s->aio);
    if (s->sending) {
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(s->aio));
        s->sending = 0;
        nng_ctx_recv(s->ctx, s->aio);
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return;
    if (rv != 0) {
        nng_ctx_recv(s->ctx, s->aio);
        return;
    }
    s->sending = 1; /* the request message goes straight back */
    nng_ctx_send(s->ctx, s->aio);
}

static int echo(const char *url, int nctx)
{
    nng_socket sock;
    int rv = nng_rep0_open(&sock);
    if (rv != 0)
        return 1;
    nng_socket_set_ms(sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(sock, NNG_OPT_RECONNMAXT, 1000);
    nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 0);
    slot *slots = calloc((size_t)nctx, sizeof *slots);
    if (slots == NULL)
        return 1;
    for (int i = 0; i < nctx; i++)
        if (nng_aio_alloc(&slots[i].aio, echo_cb, &slots[i]) != 0 ||
            nng_ctx_open(&slots[i].ctx, sock) != 0)
            return 1;
    rv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        fprintf(stderr, "dial %s: %s\n", url, nng_strerror(rv));
        return 1;
    }
    for (int i = 0; i < nctx; i++)
        nng_ctx_recv(slots[i].ctx, slots[i].aio);
    fprintf(stderr, "nng echo on %s with %d contexts\n", url, nctx);
    wait_signal();
    nng_close(sock);
    for (int i = 0; i < nctx; i++)
        nng_aio_free(slots[i].aio);
    free(slots);
    return 0;
}

int main(int argc, char **argv)
{
    block_signals();
    int nodelay = argc == 5 && strcmp(argv[4], "--tcp-nodelay") == 0;
    if ((argc == 4 || nodelay) && strcmp(argv[1], "serve") == 0 && atoi(argv[2]) > 0 &&
        atoi(argv[2]) <= 65535)
        return serve(argv[2], argv[3], nodelay);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "echo") == 0)
        return echo(argv[2], argc == 4 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 64);
    fprintf(stderr, "usage: %s serve PORT URL [--tcp-nodelay] | echo URL [CONTEXTS]\n", argv[0]);
    return 2;
}
