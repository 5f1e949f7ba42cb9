/*
 * The job queue's benchmark driver (tests/bench/run_jobs_bench.py runs it): P
 * producer threads enqueue N no-op jobs, one td_job_enqueue each, while a dispatcher
 * (td_jobs) runs them on K pool threads with concurrency K. It prints one JSON line:
 * jobs/s from the first enqueue to the last completion, and the end-to-end latency
 * (enqueue to the handler's start, as the BullMQ driver measures it) p50/p99.
 *
 * With RATE (jobs/s in all, 0: as fast as they can) the producers pace themselves,
 * for the latency at a load both queues sustain.
 *
 * usage: tripdesk-bench-jobs PORT N K [P [RATE]]
 */
#include "tripdesk/jobs.h"
#include "tripdesk/redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE "bench"
#define POOL_MAX 256
#define PRODUCERS_MAX 64
#define DEFAULT_PRODUCERS 4
#define WAIT_STEP_MS 1
#define GIVE_UP_MS 600000

typedef struct item {
    td_pool_fn fn;
    void *arg;
    struct item *next;
} item;

/* A plain pool of threads over a queue of (fn, arg), like the service's. */
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *head, *tail;
    bool quit;
    pthread_t t[POOL_MAX];
    int n;
} pool;

static int64_t *latency_ms;
static int64_t nlat;
static int njobs;
static int per_producer;
static int64_t enqueue_failures;
static double rate; /* jobs/s of all producers, 0: unpaced */
static int64_t t_start;

static void *pool_main(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->quit)
            pthread_cond_wait(&p->cv, &p->mu);
        item *it = p->head;
        if (it != NULL) {
            p->head = it->next;
            if (p->head == NULL)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (it == NULL)
            break;
        it->fn(it->arg);
        free(it);
    }
    td_redis_thread_done();
    return NULL;
}

static int pool_submit(void *arg, td_pool_fn fn, void *farg)
{
    pool *p = arg;
    item *it = malloc(sizeof *it);
    if (it == NULL)
        return TD_ENOMEM;
    *it = (item){fn, farg, NULL};
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->next = it;
    else
        p->head = it;
    p->tail = it;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return TD_OK;
}

/* The no-op handler: records how long the job waited since it was enqueued. */
static int noop(td_job_ctx *ctx)
{
    int64_t i = __atomic_fetch_add(&nlat, 1, __ATOMIC_ACQ_REL);
    if (i < njobs)
        latency_ms[i] = td_now_ms() - ctx->job->created_ms;
    return TD_OK;
}

static void *produce(void *arg)
{
    int64_t nprod = *(const int *)arg;
    for (int i = 0; i < per_producer; i++) {
        if (rate > 0) { /* job i of each producer is due at i * P / rate */
            int64_t due = t_start + (int64_t)((double)i * (double)nprod * 1000.0 / rate);
            int64_t wait = due - td_mono_ms();
            if (wait > 0)
                td_sleep_ms(wait);
        }
        bool created;
        if (td_job_enqueue(QUEUE, &(td_job_opts){.payload = "{\"n\":1}"}, NULL, &created) != TD_OK)
            __atomic_add_fetch(&enqueue_failures, 1, __ATOMIC_ACQ_REL);
    }
    td_redis_thread_done();
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT N K [P [RATE]]\n", argv[0]);
        return 2;
    }
    char url[64];
    TD_IGNORE(td_fmt(url, sizeof url, "redis://127.0.0.1:%d", atoi(argv[1]))); /* fits: one int */
    setenv("REDIS_URL", url, 1);
    setenv("TRIPDESK_LOG_LEVEL", "warn", 0);
    njobs = atoi(argv[2]);
    int k = atoi(argv[3]);
    int np = argc > 4 ? atoi(argv[4]) : DEFAULT_PRODUCERS;
    rate = argc > 5 ? atof(argv[5]) : 0;
    if (njobs < 1 || k < 1 || k > POOL_MAX || np < 1 || np > PRODUCERS_MAX || njobs % np != 0) {
        fprintf(stderr, "N >= 1 (a multiple of P), 1 <= K <= %d, 1 <= P <= %d\n", POOL_MAX,
                PRODUCERS_MAX);
        return 2;
    }
    per_producer = njobs / np;
    latency_ms = calloc((size_t)njobs, sizeof *latency_ms);
    if (latency_ms == NULL || td_redis_init() != TD_OK)
        return 1;
    pool p = {.n = k};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (int i = 0; i < k; i++)
        if (pthread_create(&p.t[i], NULL, pool_main, &p) != 0)
            return 1;
    td_jobs *r;
    if (td_jobs_new(&r, "bench", pool_submit, &p) != TD_OK ||
        td_jobs_add_worker(r, QUEUE, noop, NULL, k) != TD_OK || td_jobs_start(r) != TD_OK)
        return 1;

    int64_t t0 = td_mono_ms();
    t_start = t0;
    pthread_t prod[PRODUCERS_MAX];
    for (int i = 0; i < np; i++)
        if (pthread_create(&prod[i], NULL, produce, &np) != 0)
            return 1;
    for (int i = 0; i < np; i++)
        pthread_join(prod[i], NULL);
    int64_t t_enq = td_mono_ms();
    int64_t want = njobs - __atomic_load_n(&enqueue_failures, __ATOMIC_ACQUIRE);
    while (td_jobs_done_count(r) < want && td_mono_ms() - t0 < GIVE_UP_MS)
        td_sleep_ms(WAIT_STEP_MS);
    int64_t t_end = td_mono_ms();
    int64_t done = td_jobs_done_count(r);

    td_jobs_stop(r, 1000);
    pthread_mutex_lock(&p.mu);
    p.quit = true;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < k; i++)
        pthread_join(p.t[i], NULL);
    td_jobs_free(r);

    int64_t n = nlat < njobs ? nlat : njobs;
    qsort(latency_ms, (size_t)n, sizeof *latency_ms, cmp);
    double secs = (double)(t_end - t0) / 1000.0;
    printf("{\"impl\":\"tripdesk\",\"rate\":%.0f,\"jobs\":%d,\"workers\":%d,\"producers\":%d,"
           "\"done\":%lld,\"enqueue_failures\":%lld,\"seconds\":%.3f,"
           "\"enqueue_seconds\":%.3f,\"jobs_per_s\":%.1f,\"p50_ms\":%lld,\"p99_ms\":%lld}\n",
           rate, njobs, k, np, (long long)done, (long long)enqueue_failures, secs,
           (double)(t_enq - t0) / 1000.0, secs > 0 ? (double)done / secs : 0.0,
           (long long)(n > 0 ? latency_ms[n / 2] : 0),
           (long long)(n > 0 ? latency_ms[(n * 99) / 100] : 0));
    free(latency_ms);
    td_redis_thread_done();
    return done == njobs ? 0 : 1;
}
