/*
 * Background jobs on Redis, with the semantics BullMQ users know: named queues,
 * jobs with an optional id (enqueueing the same id twice is a no-op), a delay, a
 * priority, attempts with exponential back-off, a lease a worker renews while it
 * works (a job whose worker died is taken again once the lease has run out),
 * dead letters, progress, results and retention. Every change of a job's state is
 * one Lua script, so it is atomic across daemons (docs/notes/jobs.md lists the
 * keys and the scripts).
 *
 * Redis down: every call returns TD_EUNAVAIL at once (the circuit breaker of
 * redis.h); an enqueue that returned TD_EUNAVAIL did not happen, and the caller
 * answers 503 (td_fail_rc(res, TD_EUNAVAIL, ...)): nothing is acknowledged that is
 * not in Redis. What Redis acknowledged survives a Redis restart only with
 * persistence on (appendonly yes, as scripts/run and the test stack start it).
 *
 * Standalone Redis only: the scripts reach the job hashes by name (not Cluster-safe).
 */
#ifndef TRIPDESK_JOBS_H
#define TRIPDESK_JOBS_H

#include "common.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct _mongoc_client_t;

#define TD_JOB_LEASE_MS 30000          /* a worker's hold on a job, renewed every third */
#define TD_JOB_DEFAULT_ATTEMPTS 3      /* runs before a job is dead */
#define TD_JOB_MAX_ATTEMPTS 100        /* the most opts.attempts may ask */
#define TD_JOB_DEFAULT_BACKOFF_MS 1000 /* before retry n: backoff * 2^(n-1) */
#define TD_JOB_MAX_BACKOFF_MS (24LL * 3600 * 1000) /* a retry's delay is capped by it */
#define TD_JOB_PRIORITY_MAX 1000000                /* 0 (default) runs first, then 1, 2... */
#define TD_JOB_MAX_DELAY_MS (366LL * 24 * 3600 * 1000)
#define TD_JOB_ID_MAX 128     /* a job id: 1..128 printable characters, no space */
#define TD_JOB_QUEUE_MAX 64   /* a queue name: 1..64 of [a-z0-9_-] */
#define TD_JOB_ERRORS_KEPT 10 /* a job's errors list keeps its last ones */
#define TD_JOB_MSG_MAX 1024   /* an error or progress message is cut to this */
#define TD_JOB_WORKER_MAX 128 /* a worker id */
#define TD_JOB_LIST_MAX 200   /* the most ids td_job_list returns in one page */
#define TD_JOB_PAYLOAD_MAX ((size_t)1024 * 1024) /* a payload's bytes at most */

/* Retention of finished jobs: completed and cancelled ones are removed after
 * TD_JOBS_KEEP_COMPLETED_S, dead ones after TD_JOBS_KEEP_DEAD_S; TRIPDESK_JOBS_KEEP_S,
 * when set, is the time for all of them. */
#define TD_ENV_JOBS_KEEP "TRIPDESK_JOBS_KEEP_S"
#define TD_JOBS_KEEP_COMPLETED_S (24LL * 3600)
#define TD_JOBS_KEEP_DEAD_S (7LL * 24 * 3600)

typedef enum {
    TD_JOB_WAITING,
    TD_JOB_DELAYED,
    TD_JOB_ACTIVE,
    TD_JOB_COMPLETED,
    TD_JOB_DEAD,
    TD_JOB_CANCELLED,
    TD_JOB_NSTATES
} td_job_state;

/* "waiting", "delayed"...; td_job_state_parse: TD_EINVAL for an unknown name. */
const char *td_job_state_name(td_job_state s);
TD_MUST_CHECK int td_job_state_parse(const char *name, td_job_state *out);

/* What to enqueue; zero values take the defaults. payload: a JSON text (NULL: "{}"),
 * not checked here. schedule: the schedule that made the job (schedule.c), or NULL. */
typedef struct td_job_opts {
    const char *id;     /* NULL: a new ObjectId */
    int64_t delay_ms;   /* 0..TD_JOB_MAX_DELAY_MS */
    int priority;       /* 0..TD_JOB_PRIORITY_MAX, lower first; then enqueue order */
    int attempts;       /* 1..TD_JOB_MAX_ATTEMPTS; 0: TD_JOB_DEFAULT_ATTEMPTS */
    int64_t backoff_ms; /* 0: TD_JOB_DEFAULT_BACKOFF_MS */
    const char *payload;
    const char *schedule;
} td_job_opts;

/* Enqueues a job on queue. id_out (may be NULL) gets its id; *created false when a
 * job with that id exists already (kept as it is, whatever its state, until
 * retention removes it). TD_EINVAL for a bad queue name, id or option, or a
 * payload over TD_JOB_PAYLOAD_MAX;
 * TD_EUNAVAIL when Redis is down (nothing enqueued). */
TD_MUST_CHECK int td_job_enqueue(const char *queue, const td_job_opts *opts,
                                 char id_out[TD_JOB_ID_MAX + 1], bool *created);

/* A job taken by a worker. payload is malloc'd (td_taken_free frees the array). */
typedef struct td_job {
    char queue[TD_JOB_QUEUE_MAX + 1];
    char id[TD_JOB_ID_MAX + 1];
    char worker[TD_JOB_WORKER_MAX];
    char *payload;
    int attempt; /* 1 on the first run; with worker, the lease's fencing token */
    int max_attempts;
    int64_t created_ms;
} td_job;

/* Moves due delayed jobs to waiting, then takes up to max waiting jobs (best
 * first) for worker under a lease of lease_ms. *jobs (malloc'd, NULL when none)
 * and *n get them. */
TD_MUST_CHECK int td_job_take(const char *queue, const char *worker, int64_t lease_ms, int max,
                              td_job **jobs, int *n);
void td_taken_free(td_job *jobs, int n);

/* The lease holder's calls. TD_ECONFLICT: the lease is no longer this worker's
 * (it ran out and the job was taken again, or the job was finished): the call
 * changed nothing. */
TD_MUST_CHECK int td_job_renew(const td_job *job, int64_t lease_ms);
TD_MUST_CHECK int td_job_set_progress(const td_job *job, int pct, const char *msg);
/* Completes with result (a JSON text; NULL: none). */
TD_MUST_CHECK int td_job_complete(const td_job *job, const char *result);
/* Fails this attempt with error: delayed by the back-off for the next attempt, or
 * dead after the last one. *state (may be NULL) gets which. */
TD_MUST_CHECK int td_job_fail(const td_job *job, const char *error, td_job_state *state);

/* Any worker's periodic checks on a queue. Stalled: jobs whose lease ran out (their
 * worker died or hung) go back to waiting, or are dead when that was their last
 * attempt; *n gets how many. Purge: removes finished jobs older than their
 * retention (TRIPDESK_JOBS_KEEP_S); *n gets how many. */
TD_MUST_CHECK int td_jobs_recover_stalled(const char *queue, int *n);
TD_MUST_CHECK int td_jobs_purge(const char *queue, int *n);

/* Cancels a waiting or delayed job (TD_ECONFLICT in another state); retries a dead
 * one (back to waiting, attempts reset; TD_ECONFLICT when not dead). Both:
 * TD_ENOTFOUND when there is no such job. */
TD_MUST_CHECK int td_job_cancel(const char *queue, const char *id);
TD_MUST_CHECK int td_job_retry(const char *queue, const char *id);

/* One job as a JSON object (caller cJSON_Deletes it): id, queue, state, payload,
 * attempts, maxAttempts, priority, progress, progressMessage, result, lastError,
 * errors, createdAt/startedAt/finishedAt (unix ms), leaseOwner, leaseUntil,
 * schedule. TD_ENOTFOUND when absent. */
TD_MUST_CHECK int td_job_get(const char *queue, const char *id, cJSON **out);

/* A page of the ids in one state, newest first (by the time they entered it;
 * waiting: by the order they will be taken in, last first), and the counts per
 * state: {"ids":[...],"total":n,"counts":{"waiting":n,...}} (caller deletes it).
 * limit 1..TD_JOB_LIST_MAX. */
TD_MUST_CHECK int td_job_list(const char *queue, td_job_state state, int offset, int limit,
                              cJSON **out);

/* The names of every queue a job was ever enqueued on, sorted: a JSON array of
 * strings (caller deletes it). */
TD_MUST_CHECK int td_job_queues(cJSON **out);

/* Whether name is a valid queue name / job id. */
bool td_job_queue_valid(const char *name);
bool td_job_id_valid(const char *id);

/* The clock the scripts are given (unix ms): td_now_ms unless a test sets its own
 * (NULL restores it). Every daemon's clock must be close (NTP): leases and delays
 * are compared across daemons. */
void td_jobs_set_clock(int64_t (*now_ms)(void));
int64_t td_jobs_now_ms(void);

/* ---- Workers ------------------------------------------------------------------ */

/* What a handler gets. It returns TD_OK (td_job_set_result may give a result) or an
 * error (td_job_set_error may say what; else the error code's name is recorded).
 * Handlers must be idempotent by job id: a job whose worker died runs again. */
typedef struct td_job_ctx {
    const td_job *job; /* queue, id, payload, attempt */
    void *arg;         /* given to td_jobs_add_worker (the td_service for a service) */
    struct td_job_run *run;
} td_job_ctx;
typedef int (*td_job_fn)(td_job_ctx *ctx);

/* Progress 0..100 and a message (may be NULL), stored at once. */
TD_MUST_CHECK int td_job_progress(td_job_ctx *ctx, int pct, const char *msg);
/* The result to store (a JSON text, copied), the error message (copied, cut). */
TD_MUST_CHECK int td_job_set_result(td_job_ctx *ctx, const char *json);
void td_job_set_error(td_job_ctx *ctx, const char *msg);
/* A MongoDB client for the handler, popped on first use and pushed back after it
 * (NULL when the pool is exhausted or MongoDB is known to be down). */
struct _mongoc_client_t *td_job_mongo(td_job_ctx *ctx);

/* The job machinery of one process (a service's): a dispatcher thread that takes
 * jobs for its workers, runs them through submit (the service's worker pool),
 * renews their leases, recovers stalled jobs, purges old ones and runs the
 * schedules. */
typedef struct td_jobs td_jobs;
typedef void (*td_pool_fn)(void *arg);
/* Runs fn(arg) on a pool thread later; non-zero when it cannot (the job is then
 * handed back to the queue by its lease). */
typedef int (*td_pool_submit_fn)(void *pool, td_pool_fn fn, void *arg);

#define TD_JOBS_MAX_WORKERS 16
#define TD_JOBS_MAX_CONCURRENCY 256

/* owner names the process in worker ids ("<owner>@<host>:<pid>.<n>"). */
TD_MUST_CHECK int td_jobs_new(td_jobs **out, const char *owner, td_pool_submit_fn submit,
                              void *pool);
/* Runs handler fn for queue's jobs, at most concurrency at a time. Before start. */
TD_MUST_CHECK int td_jobs_add_worker(td_jobs *r, const char *queue, td_job_fn fn, void *arg,
                                     int concurrency);
/* Adds a schedule (schedule.h); a bad expression is logged naming the schedule,
 * returns TD_EINVAL and makes td_jobs_start fail. Before start. */
TD_MUST_CHECK int td_jobs_add_schedule(td_jobs *r, const char *name, const char *cron_expr,
                                       const char *queue, int catch_up);
/* The lease its workers take jobs under (tests: short), TD_JOB_LEASE_MS by default. */
void td_jobs_set_lease(td_jobs *r, int64_t lease_ms);
/* Starts the dispatcher (nothing when there is no worker and no schedule). */
TD_MUST_CHECK int td_jobs_start(td_jobs *r);
/* Stops taking jobs and waits up to drain_ms for those running to finish (those
 * still running after it are recovered by another worker once their lease runs
 * out). td_jobs_stop_taking only stops the taking, at once, and sets that drain
 * deadline (a later td_jobs_stop keeps it): the dispatcher goes on renewing the
 * leases of the jobs running. */
void td_jobs_stop_taking(td_jobs *r, int64_t drain_ms);
void td_jobs_stop(td_jobs *r, int64_t drain_ms);
void td_jobs_free(td_jobs *r);
/* Jobs this process finished (completed or failed) since start: for tests. */
int64_t td_jobs_done_count(const td_jobs *r);

#endif
