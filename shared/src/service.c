/*
 * The service framework. The REP socket dials the gateway; TRIPDESK_CONTEXTS nng
 * contexts each run a small state machine driven by their aio callback:
 *
 *   RECV --(request)--> WORK (inline route: on the aio thread; else a worker)
 *   WORK --(reply)----> SEND --(sent)--> RECV
 *   WORK --(expired)--> RECV (no reply: the gateway has answered 504 already)
 *   WORK --(retry)----> PARK --(timer)--> WORK (td_req_retry_in; no worker held)
 *
 * Aio callbacks never block: handlers that touch MongoDB or Redis run on the
 * worker pool, and a handler that must wait for something asks to be run again
 * later (PARK) rather than sleeping on its worker. On SIGTERM receiving stops, in-flight requests finish, then the
 * daemon exits.
 */
#include "tripdesk/service.h"

#include "envelope.pb-c.h"
#include "tripdesk/cache.h"
#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/endpoint.h"
#include "tripdesk/idempotency.h"
#include "tripdesk/jobs.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/permissions.h"
#include "tripdesk/redis.h"
#include "tripdesk/registry.h"
#include "tripdesk/validate.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 2048
#define PROBE_MAX_EVENTS 1000
#define PROBE_TAG_MAX 64
#define INIT_RETRY_MS 1000

typedef enum { ST_IDLE, ST_RECV, ST_WORK, ST_PARK, ST_SEND } ctx_state;

typedef struct work {
    struct td_service *svc;
    nng_ctx ctx;
    nng_aio *aio;
    ctx_state state;
    Tripdesk__Request *pb; /* the request being handled (unpacked once) */
    int64_t arrived_ms;    /* monotonic, when received */
    int attempt;           /* runs of its handler so far */
    td_idem idem;          /* its Idempotency-Key claim, kept across parked runs */
    bool idem_held;        /* idem is claimed (taken by the first run) */
    struct work *next;
} work;

/* Other work for the pool (jobs.c's handlers), run after queued requests. */
typedef struct pool_item {
    td_pool_fn fn;
    void *arg;
    struct pool_item *next;
} pool_item;

struct td_service {
    const char *name;
    td_router *router;
    td_bus *bus;
    td_service_init_fn init_fn;
    int init_done;

    nng_socket sock;
    work *works;
    int nworks;
    pthread_t *threads;
    int nthreads;
    pthread_t init_thread;
    int init_thread_started;
    int task_thread_started;
    int nstarted; /* worker threads started */

    pthread_mutex_t mu;
    pthread_cond_t cv;             /* workers wait for work */
    pthread_cond_t idle;           /* drain waits for contexts to go idle */
    work *head, *tail;             /* queue for workers */
    pool_item *items, *items_tail; /* other work for them (td_service_submit) */
    td_jobs *jobs;                 /* its job workers and schedules, or NULL */
    int stopping;                  /* no new receives */
    int quitting;                  /* workers exit */
    int active;                    /* contexts not idle */
    td_heartbeat *hb;

    struct {
        const char *name;
        int64_t interval_ms;
        td_task_fn fn;
        int64_t next_at;
    } tasks[TD_MAX_TASKS];
    int ntasks;
    pthread_t task_thread;
};

static void arm_recv(work *w);

int td_service_new(td_service **out, const char *name)
{
    td_service *svc = calloc(1, sizeof *svc);
    if (svc == NULL)
        return TD_ENOMEM;
    svc->name = name;
    td_log_init(name);
    int rc = td_router_new(&svc->router);
    if (rc == TD_OK)
        rc = td_bus_new(&svc->bus, name);
    if (rc == TD_OK) {
        rc = pthread_mutex_init(&svc->mu, NULL) == 0 && pthread_cond_init(&svc->cv, NULL) == 0 &&
                     pthread_cond_init(&svc->idle, NULL) == 0
                 ? TD_OK
                 : TD_ENOMEM;
        if (rc != TD_OK) {
            /* zeroed (not yet initialised) is glibc's static initialiser: destroyable */
            pthread_mutex_destroy(&svc->mu);
            pthread_cond_destroy(&svc->cv);
            pthread_cond_destroy(&svc->idle);
            td_bus_free(svc->bus);
        }
    }
    if (rc != TD_OK) {
        td_error("cannot create the %s service: %s", name, td_strerror(rc));
        td_router_free(svc->router);
        free(svc);
        return rc;
    }
    *out = svc;
    return TD_OK;
}

td_router *td_service_router(td_service *svc)
{
    return svc->router;
}
td_bus *td_service_bus(td_service *svc)
{
    return svc->bus;
}

int td_service_add_task(td_service *svc, const char *name, int64_t interval_ms, td_task_fn fn)
{
    if (svc->ntasks == TD_MAX_TASKS || interval_ms <= 0)
        return TD_EINVAL;
    svc->tasks[svc->ntasks].name = name;
    svc->tasks[svc->ntasks].interval_ms = interval_ms;
    svc->tasks[svc->ntasks].fn = fn;
    svc->tasks[svc->ntasks].next_at = 0;
    svc->ntasks++;
    return TD_OK;
}

#define TASK_TICK_MS 100

/* Runs the periodic tasks while the service is not stopping. */
static void *task_main(void *arg)
{
    td_service *svc = arg;
    for (;;) {
        pthread_mutex_lock(&svc->mu);
        int stop = svc->stopping;
        pthread_mutex_unlock(&svc->mu);
        if (stop)
            break;
        td_cache_retry_pending(); /* the gateway serves hits: do not wait for a lookup */
        int64_t now = td_mono_ms();
        for (int i = 0; i < svc->ntasks; i++) {
            if (now < svc->tasks[i].next_at)
                continue;
            mongoc_client_t *c = td_mongo_pop();
            if (c != NULL) {
                svc->tasks[i].fn(svc, c);
                td_mongo_push(c);
            }
            svc->tasks[i].next_at = td_mono_ms() + svc->tasks[i].interval_ms;
        }
        td_sleep_ms(TASK_TICK_MS);
    }
    td_redis_thread_done();
    return NULL;
}
const char *td_service_name(const td_service *svc)
{
    return svc->name;
}

void td_service_on_mongo_ready(td_service *svc, td_service_init_fn fn)
{
    svc->init_fn = fn;
}

mongoc_client_t *td_req_mongo(td_req *req)
{
    if (req->mongo == NULL && !td_mongo_reachable())
        return NULL; /* known down: answer 503 at once */
    if (req->mongo == NULL)
        req->mongo = td_mongo_pop();
    return req->mongo;
}

bool td_req_can(const td_req *req, const char *permission)
{
    int bit = td_permission_index(permission);
    return req->principal.present && bit >= 0 && (req->principal.permissions >> bit & 1u);
}

bool td_req_has_role(const td_req *req, const char *min_role)
{
    return req->principal.present && td_role_rank(req->principal.role) >= td_role_rank(min_role);
}

/* Header value of an envelope, or NULL. */
static const char *env_header(const Tripdesk__Request *pb, const char *name)
{
    for (size_t i = 0; i < pb->n_headers; i++)
        if (strcasecmp(pb->headers[i]->name, name) == 0)
            return pb->headers[i]->value;
    return NULL;
}

bool td_req_retry_in(td_req *req, int delay_ms, int64_t wait_max_ms)
{
    td_service *svc = req->service;
    pthread_mutex_lock(&svc->mu);
    bool stopping = svc->stopping;
    pthread_mutex_unlock(&svc->mu);
    if (stopping || delay_ms < 0 || td_mono_ms() + delay_ms - req->arrived_ms > wait_max_ms)
        return false;
    int64_t left = td_deadline_timeout_ms(req->deadline_ms, 0);
    if (left < delay_ms)
        delay_ms = (int)left; /* woken at the deadline: answered 504 */
    req->park_ms = delay_ms;
    return true;
}

/* What became of a request: answered (res filled), dropped, or parked. */
typedef enum { OUT_REPLY, OUT_DROP, OUT_PARK } outcome;

/* Runs the route for one request envelope (run number `attempt`, received at
 * arrived_ms) and fills res; *park_ms gets the delay when parked. */
static outcome dispatch(td_service *svc, const Tripdesk__Request *pb, int64_t arrived_ms,
                        int attempt, td_res *res, int *park_ms, td_idem *idem, bool *idem_held)
{
    td_req req = {0};
    req.arrived_ms = arrived_ms;
    req.attempt = attempt;
    req.park_ms = -1;
    req.request_id = pb->request_id;
    req.method = pb->method;
    req.path = pb->path;
    req.query = pb->query;
    req.content_type = env_header(pb, "content-type");
    req.client_ip = pb->client_ip;
    req.user_agent = pb->user_agent;
    req.body = pb->body.data;
    req.body_len = pb->body.len;
    req.deadline_ms = pb->deadline_ms;
    req.service = svc;
    if (pb->principal != NULL && pb->principal->agent_id[0] != '\0') {
        req.principal.present = true;
        req.principal.agent_id = pb->principal->agent_id;
        req.principal.role = pb->principal->role;
        req.principal.token_id = pb->principal->token_id;
        for (size_t i = 0; i < pb->principal->n_permissions; i++) {
            int bit = td_permission_index(pb->principal->permissions[i]);
            if (bit >= 0)
                req.principal.permissions |= 1u << bit;
        }
    }

    size_t plen = strlen(pb->path);
    if (plen >= PATH_MAX_LEN) {
        td_fail(res, 414, "URI_TOO_LONG", "The request path is too long", NULL);
        return OUT_REPLY;
    }
    char scratch[PATH_MAX_LEN];
    const td_route *route;
    int rc = td_router_match(svc->router, pb->method, pb->path, scratch, &route, &req);
    if (rc == TD_EMETHOD) {
        td_fail(res, 405, "METHOD_NOT_ALLOWED", "Method not allowed on this resource", NULL);
        return OUT_REPLY;
    }
    if (rc != TD_OK) {
        td_fail(res, 404, "NOT_FOUND", "No such route", NULL);
        return OUT_REPLY;
    }
    if (!(route->flags & TD_ROUTE_PUBLIC) && !req.principal.present) {
        td_fail(res, 401, "UNAUTHORIZED", "Authentication required", NULL);
        return OUT_REPLY;
    }
    if (route->permission != NULL && !td_req_can(&req, route->permission)) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "permission", route->permission);
        td_fail(res, 403, "FORBIDDEN", "Your role lacks the permission this action needs", details);
        return OUT_REPLY;
    }
    if (attempt == 0 && td_deadline_passed(pb->deadline_ms)) {
        /* It waited in a queue past its deadline: the gateway has answered 504
         * already, and nobody waits for the work; none is done. */
        td_log(TD_LOG_WARN, req.request_id, "%s %s dropped: its deadline passed %lld ms ago",
               req.method, req.path, (long long)td_deadline_overdue_ms(pb->deadline_ms));
        return OUT_DROP;
    }
    if (attempt > 0 && td_deadline_left_ms(pb->deadline_ms) <= 0) {
        /* Woken at its deadline while waiting to be run again: given up. */
        td_log(TD_LOG_WARN, req.request_id, "%s %s gave up after %d runs: deadline", req.method,
               req.path, attempt);
        td_fail_rc(res, TD_EDEADLINE, NULL);
        if (*idem_held) {
            req.idem = idem; /* a 5xx releases the claim: a retry runs again at once */
            td_idem_finish(&req, res, idem);
            *idem_held = false;
        }
        if (req.mongo != NULL)
            td_mongo_push(req.mongo);
        return OUT_REPLY;
    }
    /* The key is claimed by the first run only; a parked request's later runs hold
     * the same claim and make the same document ids again. */
    bool keyed = (route->flags & TD_ROUTE_IDEMPOTENT) && pb->idempotency_key[0] != '\0';
    bool run = true;
    if (keyed && !*idem_held) {
        run = td_idem_begin(&req, res, pb->idempotency_key, idem) == TD_IDEM_RUN;
        *idem_held = run;
    } else if (*idem_held) {
        idem->next = 0;
        req.idem = idem;
    }
    if (run) {
        td_deadline_set(pb->deadline_ms);
        route->handler(&req, res);
        td_deadline_set(0);
    }
    if (req.park_ms >= 0) {
        if (req.mongo != NULL)
            td_mongo_push(req.mongo);
        td_res_clear(res);
        *park_ms = req.park_ms;
        return OUT_PARK;
    }
    if (res->status == 0)
        td_fail(res, 500, "INTERNAL_ERROR", "Handler produced no response", NULL);
    if (req.idem != NULL) {
        td_idem_finish(&req, res, idem);
        *idem_held = false;
    }
    if (req.mongo != NULL)
        td_mongo_push(req.mongo);
    if (res->status >= 500)
        td_log(TD_LOG_WARN, req.request_id, "%s %s -> %d", req.method, req.path, res->status);
    return OUT_REPLY;
}

/* Runs w's unpacked request (NULL: malformed) and builds its reply. NULL when
 * there is none to send: dropped, or parked (*park_ms >= 0, w->pb kept for the
 * next run); else w->pb is freed. */
static nng_msg *handle(td_service *svc, work *w, int *park_ms)
{
    td_res res = {0};
    Tripdesk__Request *pb = w->pb;
    outcome o = OUT_REPLY;
    *park_ms = -1;
    if (pb == NULL)
        td_fail(&res, 400, "BAD_ENVELOPE", "Malformed request envelope", NULL);
    else
        o = dispatch(svc, pb, w->arrived_ms, w->attempt++, &res, park_ms, &w->idem, &w->idem_held);
    if (o == OUT_PARK)
        return NULL;
    w->pb = NULL;
    if (o == OUT_DROP) {
        td_res_clear(&res);
        tripdesk__request__free_unpacked(pb, NULL);
        return NULL;
    }

    Tripdesk__Response out = TRIPDESK__RESPONSE__INIT;
    Tripdesk__Header hdrs[TD_MAX_RES_HEADERS];
    Tripdesk__Header *hp[TD_MAX_RES_HEADERS];
    out.status = res.status;
    out.body.data = (uint8_t *)res.body;
    out.body.len = res.body_len;
    for (int i = 0; i < res.nheaders; i++) {
        tripdesk__header__init(&hdrs[i]);
        hdrs[i].name = (char *)res.headers[i].name;
        hdrs[i].value = (char *)res.headers[i].value;
        hp[i] = &hdrs[i];
    }
    out.n_headers = (size_t)res.nheaders;
    out.headers = hp;
    nng_msg *reply = NULL;
    size_t len = tripdesk__response__get_packed_size(&out);
    if (nng_msg_alloc(&reply, len) == 0)
        tripdesk__response__pack(&out, nng_msg_body(reply));
    td_res_clear(&res);
    if (pb != NULL)
        tripdesk__request__free_unpacked(pb, NULL);
    return reply;
}

/* True when the request can be answered on the aio thread: an inline route, or an
 * answer that needs no handler (malformed envelope, 404, 405). */
static bool is_inline(td_service *svc, const Tripdesk__Request *pb)
{
    if (pb == NULL || strlen(pb->path) >= PATH_MAX_LEN)
        return true;
    char scratch[PATH_MAX_LEN];
    const td_route *route;
    td_req req = {0};
    if (td_router_match(svc->router, pb->method, pb->path, scratch, &route, &req) != TD_OK)
        return true;
    return (route->flags & TD_ROUTE_INLINE) != 0;
}

/* Queues w for the workers. */
static void enqueue(work *w)
{
    td_service *svc = w->svc;
    pthread_mutex_lock(&svc->mu);
    w->state = ST_WORK;
    w->next = NULL;
    if (svc->tail != NULL)
        svc->tail->next = w;
    else
        svc->head = w;
    svc->tail = w;
    pthread_cond_signal(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

/* Sends the reply of a handled request, or parks it (park_ms >= 0) on its aio's
 * timer, which queues it for the workers again (ctx_cb, ST_PARK). */
static void finish(work *w, nng_msg *reply, int park_ms);

static void send_reply(work *w, nng_msg *reply)
{
    if (reply == NULL) {
        arm_recv(w); /* REP has no way to answer without a message; the gateway times out */
        return;
    }
    w->state = ST_SEND;
    nng_aio_set_msg(w->aio, reply);
    nng_ctx_send(w->ctx, w->aio);
}

static void finish(work *w, nng_msg *reply, int park_ms)
{
    if (park_ms < 0) {
        send_reply(w, reply);
        return;
    }
    w->state = ST_PARK;
    nng_sleep_aio((nng_duration)park_ms, w->aio);
}

static void go_idle(work *w)
{
    td_service *svc = w->svc;
    pthread_mutex_lock(&svc->mu);
    w->state = ST_IDLE;
    svc->active--;
    pthread_cond_broadcast(&svc->idle);
    pthread_mutex_unlock(&svc->mu);
}

static void arm_recv(work *w)
{
    td_service *svc = w->svc;
    pthread_mutex_lock(&svc->mu);
    if (svc->stopping) {
        w->state = ST_IDLE;
        svc->active--;
        pthread_cond_broadcast(&svc->idle);
    } else {
        w->state = ST_RECV;
        nng_ctx_recv(w->ctx, w->aio);
    }
    pthread_mutex_unlock(&svc->mu);
}

static void ctx_cb(void *arg)
{
    work *w = arg;
    td_service *svc = w->svc;
    int rv = nng_aio_result(w->aio);
    switch (w->state) {
    case ST_RECV:
        if (rv != 0) {
            if (rv == NNG_ECANCELED || rv == NNG_ECLOSED)
                go_idle(w);
            else
                arm_recv(w);
            return;
        }
        nng_msg *msg = nng_aio_get_msg(w->aio);
        w->pb =
            tripdesk__request__unpack(NULL, nng_msg_len(msg), (const uint8_t *)nng_msg_body(msg));
        nng_msg_free(msg);
        w->state = ST_WORK;
        w->arrived_ms = td_mono_ms();
        w->attempt = 0;
        w->idem_held = false;
        if (is_inline(svc, w->pb)) {
            int park_ms;
            nng_msg *reply = handle(svc, w, &park_ms);
            finish(w, reply, park_ms);
            return;
        }
        enqueue(w);
        return;
    case ST_PARK:
        enqueue(w); /* also when cancelled (draining): the handler then gives up */
        return;
    case ST_SEND:
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(w->aio));
        arm_recv(w);
        return;
    default: return;
    }
}

static void *worker_main(void *arg)
{
    td_service *svc = arg;
    for (;;) {
        pthread_mutex_lock(&svc->mu);
        while (svc->head == NULL && svc->items == NULL && !svc->quitting)
            pthread_cond_wait(&svc->cv, &svc->mu);
        if (svc->head == NULL && svc->items != NULL) {
            pool_item *it = svc->items;
            svc->items = it->next;
            if (svc->items == NULL)
                svc->items_tail = NULL;
            pthread_mutex_unlock(&svc->mu);
            it->fn(it->arg);
            free(it);
            continue;
        }
        if (svc->head == NULL) {
            pthread_mutex_unlock(&svc->mu);
            break;
        }
        work *w = svc->head;
        svc->head = w->next;
        if (svc->head == NULL)
            svc->tail = NULL;
        pthread_mutex_unlock(&svc->mu);
        int park_ms;
        nng_msg *reply = handle(svc, w, &park_ms);
        finish(w, reply, park_ms);
    }
    td_redis_thread_done();
    return NULL;
}

/* Consecutive failed pings before the database counts as down: one ping that ran
 * into the socket timeout (a FerretDB busy with a long scan on a loaded host) must
 * not turn every request of the daemon into a 503. */
#define MONGO_DOWN_AFTER_FAILURES 2

/* The heartbeat's database probe (its thread only): whether MongoDB counts as up. */
static bool mongo_probe(void)
{
    static int failures;
    mongoc_client_t *c = td_mongo_pop();
    bool ok = c != NULL && td_mongo_ping(c);
    if (c != NULL)
        td_mongo_push(c);
    failures = ok ? 0 : failures + 1;
    bool up = failures < MONGO_DOWN_AFTER_FAILURES;
    td_mongo_set_reachable(up);
    return up;
}

/* Runs the service's MongoDB initialisation until it succeeds or we stop. */
static void *init_main(void *arg)
{
    td_service *svc = arg;
    for (;;) {
        pthread_mutex_lock(&svc->mu);
        int stop = svc->stopping;
        pthread_mutex_unlock(&svc->mu);
        if (stop)
            break;
        mongoc_client_t *c = td_mongo_pop();
        int rc = c != NULL ? svc->init_fn(svc, c) : TD_EUNAVAIL;
        td_mongo_push(c);
        if (rc == TD_OK) {
            td_info("database initialised");
            break;
        }
        td_warn("database initialisation failed (%s); retrying", td_strerror(rc));
        td_sleep_ms(INIT_RETRY_MS);
    }
    return NULL;
}

/* Starts one of the service's threads; logs and returns TD_EIO when it cannot. */
static int start_thread(pthread_t *t, void *(*fn)(void *), td_service *svc, const char *what)
{
    int err = pthread_create(t, NULL, fn, svc);
    if (err != 0) {
        td_error("cannot start a %s thread: %s", what, strerror(err));
        return TD_EIO;
    }
    return TD_OK;
}

/* After a failed start: stops and joins every thread that did start, so that the
 * daemon exits cleanly (td_service_free then frees what they used). */
static void stop_threads(td_service *svc)
{
    pthread_mutex_lock(&svc->mu);
    svc->stopping = 1;
    svc->quitting = 1;
    pthread_cond_broadcast(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
    td_heartbeat_stop(svc->hb);
    svc->hb = NULL;
    td_jobs_stop(svc->jobs, 0);
    for (int i = 0; i < svc->nstarted; i++)
        (void)pthread_join(svc->threads[i], NULL); /* joinable: cannot fail */
    svc->nstarted = 0;
    if (svc->init_thread_started)
        (void)pthread_join(svc->init_thread, NULL);
    svc->init_thread_started = 0;
    if (svc->task_thread_started)
        (void)pthread_join(svc->task_thread, NULL);
    svc->task_thread_started = 0;
    td_bus_free(svc->bus);
    svc->bus = NULL;
}

static int start_rep(td_service *svc)
{
    char url[TD_URL_MAX];
    if (td_endpoint_url(TD_EP_GATEWAY, svc->name, 0, url, sizeof url) != TD_OK) {
        td_error("%s is not a known service: no gateway address", svc->name);
        return TD_EINVAL;
    }
    int rv = nng_rep0_open(&svc->sock);
    if (rv == 0)
        rv = nng_socket_set_ms(svc->sock, NNG_OPT_RECONNMINT, 50);
    if (rv == 0)
        rv = nng_socket_set_ms(svc->sock, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0) /* the gateway enforces limits */
        rv = nng_socket_set_size(svc->sock, NNG_OPT_RECVMAXSZ, 0);
    if (rv != 0) {
        td_error("cannot open the request socket: %s", nng_strerror(rv));
        return TD_EIO;
    }
    svc->nworks = (int)td_env_int(TD_ENV_CONTEXTS, TD_DEFAULT_CONTEXTS, 1, 4096);
    svc->works = calloc((size_t)svc->nworks, sizeof *svc->works);
    if (svc->works == NULL)
        return TD_ENOMEM;
    for (int i = 0; i < svc->nworks; i++) {
        work *w = &svc->works[i];
        w->svc = svc;
        if ((rv = nng_aio_alloc(&w->aio, ctx_cb, w)) != 0 ||
            (rv = nng_ctx_open(&w->ctx, svc->sock)) != 0) {
            td_error("cannot open request context %d: %s", i, nng_strerror(rv));
            return TD_EIO;
        }
    }
    /* Dial non-blocking: the gateway may start later; nng keeps retrying. */
    rv = nng_dial(svc->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        td_error("dial %s: %s", url, nng_strerror(rv));
        return TD_EIO;
    }
    svc->active = svc->nworks;
    for (int i = 0; i < svc->nworks; i++)
        arm_recv(&svc->works[i]);
    td_info("serving requests from %s with %d contexts", url, svc->nworks);
    return TD_OK;
}

static void drain(td_service *svc)
{
    td_info("draining in-flight requests");
    td_jobs_stop_taking(svc->jobs, TD_DRAIN_TIMEOUT_MS); /* and running jobs drain too */
    td_heartbeat_draining(svc->hb);
    pthread_mutex_lock(&svc->mu);
    svc->stopping = 1;
    pthread_mutex_unlock(&svc->mu);
    for (int i = 0; i < svc->nworks; i++)
        nng_aio_cancel(svc->works[i].aio);
    int64_t until = td_mono_ms() + TD_DRAIN_TIMEOUT_MS;
    pthread_mutex_lock(&svc->mu);
    while (svc->active > 0 && td_mono_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100L * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&svc->idle, &svc->mu, &ts);
    }
    if (svc->active > 0)
        td_warn("drain timed out with %d requests in flight", svc->active);
    pthread_mutex_unlock(&svc->mu);
    /* Running jobs finish within what is left of the drain; none is taken now. */
    int64_t left = until - td_mono_ms();
    td_jobs_stop(svc->jobs, left > 0 ? left : 0);
    pthread_mutex_lock(&svc->mu);
    svc->quitting = 1;
    pthread_cond_broadcast(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

int td_service_run(td_service *svc)
{
    /* Signals are taken synchronously by this thread; every other thread blocks them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        td_error("start failed: cannot set up signal handling");
        return TD_EIO;
    }

    int rc = td_mongo_init(svc->name);
    if (rc == TD_OK)
        rc = td_redis_init();
    if (rc != TD_OK)
        return rc;

    svc->nthreads = (int)td_env_int(TD_ENV_WORKERS, TD_DEFAULT_WORKERS, 1, 256);
    svc->threads = calloc((size_t)svc->nthreads, sizeof *svc->threads);
    if (svc->threads == NULL)
        return TD_ENOMEM;
    for (int i = 0; rc == TD_OK && i < svc->nthreads; i++) {
        rc = start_thread(&svc->threads[i], worker_main, svc, "worker");
        if (rc == TD_OK)
            svc->nstarted = i + 1;
    }
    if (rc == TD_OK && svc->init_fn != NULL &&
        (rc = start_thread(&svc->init_thread, init_main, svc, "database init")) == TD_OK)
        svc->init_thread_started = 1;
    if (rc == TD_OK && svc->ntasks > 0 &&
        (rc = start_thread(&svc->task_thread, task_main, svc, "periodic task")) == TD_OK)
        svc->task_thread_started = 1;
    if (rc == TD_OK && svc->jobs != NULL && (rc = td_jobs_start(svc->jobs)) == TD_EINVAL)
        td_error("start failed: a schedule was rejected (see above)");
    if (rc == TD_OK)
        rc = td_bus_start(svc->bus);
    if (rc == TD_OK)
        rc = start_rep(svc);
    if (rc == TD_OK)
        rc = td_heartbeat_start(&svc->hb, svc->name, mongo_probe, td_redis_ping);
    if (rc != TD_OK) {
        td_error("start failed: %s; exiting", td_strerror(rc));
        stop_threads(svc);
        return rc;
    }
    td_info("%s service %s started (pid %d)", svc->name, TD_VERSION, (int)getpid());

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    td_info("signal %d received", sig);
    drain(svc);
    for (int i = 0; i < svc->nstarted; i++)
        (void)pthread_join(svc->threads[i], NULL); /* joinable: cannot fail */
    svc->nstarted = 0;
    td_heartbeat_stop(svc->hb);
    svc->hb = NULL;
    /* shutting down: these fail only when closed already */
    TD_IGNORE(nng_close(svc->sock));
    for (int i = 0; i < svc->nworks; i++) {
        nng_aio_stop(svc->works[i].aio);
        TD_IGNORE(nng_ctx_close(svc->works[i].ctx));
    }
    if (svc->init_thread_started)
        (void)pthread_join(svc->init_thread, NULL);
    if (svc->task_thread_started)
        (void)pthread_join(svc->task_thread, NULL);
    td_bus_free(svc->bus);
    svc->bus = NULL;
    td_info("stopped");
    return TD_OK;
}

void td_service_free(td_service *svc)
{
    if (svc == NULL)
        return;
    for (int i = 0; i < svc->nworks; i++) {
        if (svc->works[i].aio != NULL)
            nng_aio_free(svc->works[i].aio);
        if (svc->works[i].pb != NULL) /* parked when the drain timed out */
            tripdesk__request__free_unpacked(svc->works[i].pb, NULL);
    }
    free(svc->works);
    free(svc->threads);
    td_jobs_free(svc->jobs);
    while (svc->items != NULL) { /* only after a failed start */
        pool_item *it = svc->items;
        svc->items = it->next;
        free(it);
    }
    td_bus_free(svc->bus);
    td_router_free(svc->router);
    pthread_mutex_destroy(&svc->mu);
    pthread_cond_destroy(&svc->cv);
    pthread_cond_destroy(&svc->idle);
    free(svc);
    td_cache_free();
    td_mongo_cleanup();
    nng_fini();
}

/* Queues fn(arg) for the worker pool (td_pool_submit_fn). */
static int pool_submit(void *pool, td_pool_fn fn, void *arg)
{
    td_service *svc = pool;
    pool_item *it = malloc(sizeof *it);
    if (it == NULL)
        return TD_ENOMEM;
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&svc->mu);
    if (svc->items_tail != NULL)
        svc->items_tail->next = it;
    else
        svc->items = it;
    svc->items_tail = it;
    pthread_cond_signal(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
    return TD_OK;
}

/* The service's job machinery, made on first use. */
static int service_jobs(td_service *svc, td_jobs **out)
{
    int rc = svc->jobs != NULL ? TD_OK : td_jobs_new(&svc->jobs, svc->name, pool_submit, svc);
    *out = svc->jobs;
    return rc;
}

int td_service_add_worker(td_service *svc, const char *queue, td_job_fn handler, int concurrency)
{
    td_jobs *j;
    int rc = service_jobs(svc, &j);
    return rc != TD_OK ? rc : td_jobs_add_worker(j, queue, handler, svc, concurrency);
}

int td_service_add_schedule(td_service *svc, const char *name, const char *cron_expr,
                            const char *queue, td_catch_up catch_up)
{
    td_jobs *j;
    int rc = service_jobs(svc, &j);
    return rc != TD_OK ? rc : td_jobs_add_schedule(j, name, cron_expr, queue, (int)catch_up);
}

/* ---- Built-in routes ---------------------------------------------------------- */

static int ping(td_req *req, td_res *res)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "service", td_service_name(req->service));
    cJSON_AddStringToObject(data, "status", "ok");
    cJSON_AddStringToObject(data, "version", TD_VERSION);
    return td_ok(res, 200, data);
}

/* POST <prefix>/bus/probe {"tag":"...","count":N}: publishes N BUS_PROBE events,
 * so an admin (or a test) can prove that events reach their subscribers. */
static int bus_probe(td_req *req, td_res *res)
{
    if (!td_req_has_role(req, "admin"))
        return td_fail(res, 403, "FORBIDDEN", "Admin role required", NULL);
    cJSON *body;
    if (td_req_json(req, res, &body) != TD_OK)
        return 0;
    static const char *const fields[] = {"tag", "count", NULL};
    int rc = 0;
    const char *tag = NULL;
    long long count = 1;
    bool has_count;
    if (td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "tag", true, 1, PROBE_TAG_MAX, res, &tag) != TD_OK ||
        td_get_int(body, "count", false, 1, PROBE_MAX_EVENTS, res, &count, &has_count) != TD_OK)
        goto out;
    int n = (int)count;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        rc = td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    int published = 0, prc = TD_OK;
    for (int i = 0; i < n && prc == TD_OK; i++) {
        cJSON *payload = cJSON_CreateObject();
        cJSON_AddStringToObject(payload, "tag", tag);
        cJSON_AddNumberToObject(payload, "index", i);
        cJSON_AddStringToObject(payload, "actor", req->principal.agent_id);
        prc = td_bus_publish(req->service->bus, c, "BUS_PROBE", payload, NULL);
        cJSON_Delete(payload);
        if (prc == TD_OK)
            published++;
    }
    if (prc != TD_OK) {
        /* Those published stay published: the bus loses none of them. */
        cJSON *details = cJSON_CreateObject();
        cJSON_AddNumberToObject(details, "published", published);
        rc = td_fail(res, 503, "DATABASE_UNAVAILABLE",
                     "The database is unreachable; not every probe was published", details);
        goto out;
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "tag", tag);
    cJSON_AddNumberToObject(data, "published", published);
    cJSON_AddStringToObject(data, "publisher", td_service_name(req->service));
    rc = td_ok(res, 202, data);
out:
    cJSON_Delete(body);
    return rc;
}

int td_service_add_builtin_routes(td_service *svc, const char *prefix)
{
    static char paths[2][128];
    /* a prefix too long is refused, never cut into another route */
    if (td_fmt(paths[0], sizeof paths[0], "%s/ping", prefix) != TD_OK ||
        td_fmt(paths[1], sizeof paths[1], "%s/bus/probe", prefix) != TD_OK)
        return TD_EINVAL;
    int rc = td_router_add(svc->router, "GET", paths[0], ping, TD_ROUTE_INLINE, NULL);
    if (rc == TD_OK)
        rc = td_router_add(svc->router, "POST", paths[1], bus_probe, 0, NULL);
    return rc;
}
