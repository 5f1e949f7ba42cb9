/*
 * tripdesk-registry: daemons send heartbeats here; the gateway asks for the live
 * instances to answer /api/health. An instance not heard from for
 * TRIPDESK_INSTANCE_TTL_MS is dropped (a killed daemon shows down within it).
 * One REP socket, one thread: the work per message is tiny.
 */
#include "registry.pb-c.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/log.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INSTANCES 256
#define RECV_POLL_MS 200

typedef struct {
    Tripdesk__Instance *inst; /* unpacked, owned */
    int64_t last_seen;
} slot;

static slot slots[MAX_INSTANCES];
static int nslots;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void drop_slot(int i)
{
    tripdesk__instance__free_unpacked(slots[i].inst, NULL);
    slots[i] = slots[--nslots];
}

static void expire(int64_t now, int64_t ttl)
{
    for (int i = nslots - 1; i >= 0; i--)
        if (now - slots[i].last_seen > ttl) {
            td_info("%s instance %s (pid %d) expired", slots[i].inst->service,
                    slots[i].inst->instance_id, slots[i].inst->pid);
            drop_slot(i);
        }
}

/* Records a heartbeat; takes ownership of inst. */
static void heartbeat(Tripdesk__Instance *inst, bool leaving, int64_t now)
{
    for (int i = 0; i < nslots; i++) {
        if (strcmp(slots[i].inst->instance_id, inst->instance_id) != 0)
            continue;
        drop_slot(i);
        break;
    }
    if (leaving) {
        td_info("%s instance %s (pid %d) left", inst->service, inst->instance_id, inst->pid);
        tripdesk__instance__free_unpacked(inst, NULL);
        return;
    }
    if (nslots == MAX_INSTANCES) {
        tripdesk__instance__free_unpacked(inst, NULL);
        return;
    }
    slots[nslots].inst = inst;
    slots[nslots].last_seen = now;
    nslots++;
}

static nng_msg *answer(nng_msg *msg, int64_t started, int64_t ttl)
{
    int64_t now = td_now_ms();
    Tripdesk__RegistryRequest *rq = tripdesk__registry_request__unpack(
        NULL, nng_msg_len(msg), (const uint8_t *)nng_msg_body(msg));
    if (rq != NULL && rq->heartbeat != NULL) {
        /* Move the instance out of the request so it outlives it. */
        Tripdesk__Instance *inst = rq->heartbeat;
        size_t len = tripdesk__instance__get_packed_size(inst);
        uint8_t *buf = malloc(len);
        if (buf != NULL) {
            tripdesk__instance__pack(inst, buf);
            Tripdesk__Instance *copy = tripdesk__instance__unpack(NULL, len, buf);
            if (copy != NULL)
                heartbeat(copy, rq->leaving, now);
            free(buf);
        }
    }
    expire(now, ttl);
    Tripdesk__RegistryReply rp = TRIPDESK__REGISTRY_REPLY__INIT;
    Tripdesk__Instance *list[MAX_INSTANCES];
    rp.now_ms = now;
    rp.registry_started_ms = started;
    if (rq != NULL && rq->heartbeat == NULL) {
        for (int i = 0; i < nslots; i++) {
            slots[i].inst->last_seen_ms = slots[i].last_seen;
            list[i] = slots[i].inst;
        }
        rp.instances = list;
        rp.n_instances = (size_t)nslots;
    }
    if (rq != NULL)
        tripdesk__registry_request__free_unpacked(rq, NULL);
    nng_msg *out;
    if (nng_msg_alloc(&out, tripdesk__registry_reply__get_packed_size(&rp)) != 0)
        return NULL;
    tripdesk__registry_reply__pack(&rp, nng_msg_body(out));
    return out;
}

int main(void)
{
    td_log_init("registry");
    struct sigaction sa = {.sa_handler = on_signal};
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        td_error("cannot set up signal handling");
        return 1;
    }
    int64_t ttl = td_env_int(TD_ENV_INSTANCE_TTL_MS, 3000, 500, 60000);
    int64_t started = td_now_ms();

    char url[TD_URL_MAX];
    TD_IGNORE(
        td_endpoint_url(TD_EP_REGISTRY, NULL, 1, url, sizeof url)); /* no service: cannot fail */
    nng_socket sock;
    int rv = nng_rep0_open(&sock);
    if (rv == 0) /* the stop flag is polled at this interval */
        rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, RECV_POLL_MS);
    if (rv == 0)
        rv = nng_listen(sock, url, NULL, 0);
    if (rv != 0) {
        td_error("listen %s: %s", url, nng_strerror(rv));
        return 1;
    }
    td_info("registry %s listening on %s (instance ttl %lld ms)", TD_VERSION, url, (long long)ttl);
    while (!stop) {
        nng_msg *msg;
        rv = nng_recvmsg(sock, &msg, 0);
        if (rv != 0)
            continue;
        nng_msg *reply = answer(msg, started, ttl);
        nng_msg_free(msg);
        if (reply != NULL && nng_sendmsg(sock, reply, 0) != 0)
            nng_msg_free(reply);
    }
    TD_IGNORE(nng_close(sock)); /* shutting down: fails only when closed already */
    while (nslots > 0)
        drop_slot(0);
    nng_fini();
    td_info("stopped");
    return 0;
}
