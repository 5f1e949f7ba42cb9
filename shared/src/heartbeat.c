/* Registry client: periodic heartbeats with dependency reachability. The probes run
 * on their own thread so that a slow MongoDB never delays a heartbeat. */
#include "tripdesk/registry.h"

#include "registry.pb-c.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/log.h"
#include "tripdesk/redis.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEARTBEAT_TIMEOUT_MS 1000

struct td_heartbeat {
    const char *service;
    char instance_id[25];
    int64_t started_ms;
    td_probe_fn mongo_probe, redis_probe;
    int mongo_ok, redis_ok, draining; /* atomics */
    int stop;
    int64_t interval_ms;
    nng_socket sock;
    pthread_t hb_thread, probe_thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Sleeps up to ms or until stop is requested; returns true when stopping. */
static bool wait_or_stop(td_heartbeat *hb, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&hb->mu);
    if (!hb->stop)
        pthread_cond_timedwait(&hb->cv, &hb->mu, &ts);
    bool stop = hb->stop;
    pthread_mutex_unlock(&hb->mu);
    return stop;
}

static void *probe_main(void *arg)
{
    td_heartbeat *hb = arg;
    do {
        if (hb->mongo_probe != NULL)
            __atomic_store_n(&hb->mongo_ok, hb->mongo_probe() ? 1 : 0, __ATOMIC_RELAXED);
        if (hb->redis_probe != NULL)
            __atomic_store_n(&hb->redis_ok, hb->redis_probe() ? 1 : 0, __ATOMIC_RELAXED);
    } while (!wait_or_stop(hb, hb->interval_ms));
    td_redis_thread_done();
    return NULL;
}

/* Sends one heartbeat; the reply is only an acknowledgement. */
static void send_heartbeat(td_heartbeat *hb, bool leaving)
{
    Tripdesk__Instance inst = TRIPDESK__INSTANCE__INIT;
    inst.service = (char *)hb->service;
    inst.instance_id = hb->instance_id;
    inst.pid = (int32_t)getpid();
    inst.version = TD_VERSION;
    inst.started_ms = hb->started_ms;
    inst.uses_mongo = hb->mongo_probe != NULL;
    inst.uses_redis = hb->redis_probe != NULL;
    inst.mongo_ok = __atomic_load_n(&hb->mongo_ok, __ATOMIC_RELAXED);
    inst.redis_ok = __atomic_load_n(&hb->redis_ok, __ATOMIC_RELAXED);
    inst.draining = __atomic_load_n(&hb->draining, __ATOMIC_RELAXED);
    Tripdesk__RegistryRequest req = TRIPDESK__REGISTRY_REQUEST__INIT;
    req.heartbeat = &inst;
    req.leaving = leaving;

    size_t len = tripdesk__registry_request__get_packed_size(&req);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, len) != 0)
        return;
    tripdesk__registry_request__pack(&req, nng_msg_body(msg));
    if (nng_sendmsg(hb->sock, msg, 0) != 0) {
        nng_msg_free(msg);
        return;
    }
    nng_msg *reply;
    if (nng_recvmsg(hb->sock, &reply, 0) == 0)
        nng_msg_free(reply);
}

static void *hb_main(void *arg)
{
    td_heartbeat *hb = arg;
    do {
        send_heartbeat(hb, false);
    } while (!wait_or_stop(hb, hb->interval_ms));
    send_heartbeat(hb, true);
    return NULL;
}

int td_heartbeat_start(td_heartbeat **out, const char *service, td_probe_fn mongo_probe,
                       td_probe_fn redis_probe)
{
    td_heartbeat *hb = calloc(1, sizeof *hb);
    if (hb == NULL)
        return TD_ENOMEM;
    hb->service = service;
    td_new_id(hb->instance_id);
    hb->started_ms = td_now_ms();
    hb->mongo_probe = mongo_probe;
    hb->redis_probe = redis_probe;
    hb->interval_ms = td_env_int(TD_ENV_HEARTBEAT_MS, 1000, 100, 60000);
    bool opened = false;
    if (pthread_mutex_init(&hb->mu, NULL) != 0 || pthread_cond_init(&hb->cv, NULL) != 0) {
        td_error("heartbeat: cannot initialise its lock");
        goto fail; /* zeroed is glibc's static initialiser: the destroys below are safe */
    }

    char url[TD_URL_MAX];
    int rv = td_endpoint_url(TD_EP_REGISTRY, NULL, 0, url, sizeof url) == TD_OK
                 ? nng_req0_open(&hb->sock)
                 : NNG_EINVAL;
    opened = rv == 0;
    if (rv == 0)
        rv = nng_socket_set_ms(hb->sock, NNG_OPT_SENDTIMEO, HEARTBEAT_TIMEOUT_MS);
    if (rv == 0)
        rv = nng_socket_set_ms(hb->sock, NNG_OPT_RECVTIMEO, HEARTBEAT_TIMEOUT_MS);
    if (rv == 0)
        rv = nng_socket_set_ms(hb->sock, NNG_OPT_RECONNMINT, 100);
    if (rv == 0)
        rv = nng_socket_set_ms(hb->sock, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0)
        rv = nng_dial(hb->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        td_error("registry dial %s: %s", url, nng_strerror(rv));
        goto fail;
    }
    int err = pthread_create(&hb->probe_thread, NULL, probe_main, hb);
    if (err == 0) {
        err = pthread_create(&hb->hb_thread, NULL, hb_main, hb);
        if (err != 0) { /* stop the probe thread that did start */
            pthread_mutex_lock(&hb->mu);
            hb->stop = 1;
            pthread_cond_broadcast(&hb->cv);
            pthread_mutex_unlock(&hb->mu);
            (void)pthread_join(hb->probe_thread, NULL); /* joinable: cannot fail */
        }
    }
    if (err != 0) {
        td_error("cannot start the heartbeat threads: %s", strerror(err));
        goto fail;
    }
    *out = hb;
    return TD_OK;
fail:
    if (opened)
        (void)nng_close(hb->sock); /* failing already: nothing more to report */
    pthread_mutex_destroy(&hb->mu);
    pthread_cond_destroy(&hb->cv);
    free(hb);
    return TD_EIO;
}

void td_heartbeat_draining(td_heartbeat *hb)
{
    __atomic_store_n(&hb->draining, 1, __ATOMIC_RELAXED);
}

void td_heartbeat_stop(td_heartbeat *hb)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);
    hb->stop = 1;
    pthread_cond_broadcast(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    (void)pthread_join(hb->hb_thread, NULL); /* joinable: cannot fail */
    (void)pthread_join(hb->probe_thread, NULL);
    TD_IGNORE(nng_close(hb->sock)); /* stopping: fails only when closed already */
    pthread_mutex_destroy(&hb->mu);
    pthread_cond_destroy(&hb->cv);
    free(hb);
}
