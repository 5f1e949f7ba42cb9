/*
 * tripdesk-bench-bare: the baseline of tests/bench/run_bench.py. A civetweb server
 * with the gateway's options (gateway/main.c: 128 threads, keep-alive, same
 * timeouts and backlog) whose one handler answers every request with the body
 * booking's GET /api/bookings/ping produces, without auth, routing or nng. What
 * the gateway adds on top of this is the platform's per-request cost.
 *
 *   tripdesk-bench-bare PORT [--tcp-nodelay] [--single-write] [--threads N]
 *
 * By default the response goes out as the gateway's gw_send writes it: headers through
 * mg_response_header_start/add/send, then the body with mg_write - two writes. Options
 * (for diagnosis, see docs/performance.md; run_bench.py uses --tcp-nodelay):
 *   --tcp-nodelay   adds civetweb's "tcp_nodelay" option, which the gateway does not set
 *   --single-write  writes status line, headers and body with one mg_write instead
 * SIGINT/SIGTERM stop it.
 */
#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] =
    "{\"success\":true,\"data\":{\"service\":\"booking\",\"status\":\"ok\",\"version\":\"0.1.0\"}}";

static int single_write;

static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    if (single_write) {
        char buf[512];
        int n = snprintf(buf, sizeof buf,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                         "Connection: keep-alive\r\n\r\n%s",
                         sizeof body - 1, body);
        mg_write(conn, buf, (size_t)n);
        return 1;
    }
    char clen[32];
    snprintf(clen, sizeof clen, "%zu", sizeof body - 1);
    mg_response_header_start(conn, 200);
    mg_response_header_add(conn, "Content-Type", "application/json", -1);
    mg_response_header_add(conn, "Content-Length", clen, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_send(conn);
    mg_write(conn, body, sizeof body - 1);
    return 1;
}

int main(int argc, char **argv)
{
    int nthreads = 128, nodelay = 0, bad = argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535;
    for (int i = 2; !bad && i < argc; i++) {
        if (strcmp(argv[i], "--tcp-nodelay") == 0)
            nodelay = 1;
        else if (strcmp(argv[i], "--single-write") == 0)
            single_write = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            nthreads = atoi(argv[++i]);
        else
            bad = 1;
    }
    if (bad) {
        fprintf(stderr, "usage: %s PORT [--tcp-nodelay] [--single-write] [--threads N]\n", argv[0]);
        return 2;
    }
    char port[32], threads[16];
    snprintf(port, sizeof port, "127.0.0.1:%d", atoi(argv[1]));
    snprintf(threads, sizeof threads, "%d", nthreads);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *options[] = {"listening_ports",
                             port,
                             "num_threads",
                             threads,
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
    mg_set_request_handler(ctx, "/", handle, NULL);
    fprintf(stderr, "bare civetweb listening on http://%s with %s threads%s%s\n", port, threads,
            nodelay ? ", tcp_nodelay" : "", single_write ? ", single write" : "");

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
