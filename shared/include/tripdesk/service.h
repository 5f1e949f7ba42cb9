/*
 * The service framework: a service is a name, a route table and its handlers.
 * td_service_run() wires the rest: config, logging, the MongoDB pool, Redis, the
 * nng REP socket dialling the gateway served by N contexts (each an aio state
 * machine: recv -> worker -> send), a worker pool for handlers that block, the
 * event bus, registry heartbeats and a SIGTERM drain.
 */
#ifndef TRIPDESK_SERVICE_H
#define TRIPDESK_SERVICE_H

#include "common.h"

#include "bus.h"
#include "http.h"
#include "jobs.h"
#include "router.h"
#include "schedule.h"

#define TD_DEFAULT_WORKERS 8
#define TD_DEFAULT_CONTEXTS 64
#define TD_DRAIN_TIMEOUT_MS 10000

typedef struct td_service td_service;

/* Creates a service named `name` (one of td_service_names). */
TD_MUST_CHECK int td_service_new(td_service **out, const char *name);

/* Its router, to add routes to before running. */
td_router *td_service_router(td_service *svc);

/* Its event bus, to subscribe and track collections on before running. */
td_bus *td_service_bus(td_service *svc);

/* Called once MongoDB is first reachable (indexes, seeds); may run again after a
 * failure until it returns 0. */
typedef int (*td_service_init_fn)(td_service *svc, mongoc_client_t *c);
void td_service_on_mongo_ready(td_service *svc, td_service_init_fn fn);

/* A periodic task, run on the service's task thread every interval_ms (first run
 * right after start) with a MongoDB client of its own. Add before running. */
#define TD_MAX_TASKS 8
typedef void (*td_task_fn)(td_service *svc, mongoc_client_t *c);
TD_MUST_CHECK int td_service_add_task(td_service *svc, const char *name, int64_t interval_ms,
                                      td_task_fn fn);

/* Runs handler for the jobs of queue (jobs.h), at most concurrency at a time, on the
 * service's worker pool (shared with requests: keep concurrency below
 * TRIPDESK_WORKERS); ctx->arg is the service. On SIGTERM no job is taken any more
 * and those running finish within the drain. Add before running. */
TD_MUST_CHECK int td_service_add_worker(td_service *svc, const char *queue, td_job_fn handler,
                                        int concurrency);

/* Enqueues a job on queue at each occurrence of cron_expr (schedule.h). A bad
 * expression is logged naming the schedule and td_service_run fails at start (the
 * daemon exits non-zero). Add before running. */
TD_MUST_CHECK int td_service_add_schedule(td_service *svc, const char *name, const char *cron_expr,
                                          const char *queue, td_catch_up catch_up);

/* Runs until SIGTERM/SIGINT, then drains in-flight requests and returns 0. */
TD_MUST_CHECK int td_service_run(td_service *svc);
void td_service_free(td_service *svc);

/* The request's MongoDB client, popped on first use; NULL when the pool is
 * exhausted or the server is known to be down (answer 503 with td_fail_rc(res,
 * TD_EUNAVAIL, ...)). Pushed back by the framework. */
mongoc_client_t *td_req_mongo(td_req *req);

/* Asks the framework to run this request's handler again in delay_ms, from the
 * start, instead of waiting on a worker (a held lock, a list copy still loading, a
 * contended compare-and-set): the worker is free meanwhile and the request's nng
 * context waits on a timer. True when accepted: the handler then returns at once,
 * having written nothing that a re-run would repeat (whatever it put in res is
 * discarded). False when the request would then have waited more than
 * wait_max_ms since it arrived, or the service is stopping: the handler answers
 * as it would after giving up (409, 503 with Retry-After...). A request whose
 * deadline comes first is woken at its deadline (less TD_DEADLINE_MARGIN_MS) and
 * answered 504 DEADLINE_EXCEEDED by the framework. */
bool td_req_retry_in(td_req *req, int delay_ms, int64_t wait_max_ms);

/* The service's name. */
const char *td_service_name(const td_service *svc);

/* Built-in routes every service has under its own prefix:
 *   GET  <prefix>/ping       liveness of this instance
 *   POST <prefix>/bus/probe  (admin) publishes probe events through the bus
 * Added by td_service_add_builtin_routes(svc, "/api/bookings"). */
TD_MUST_CHECK int td_service_add_builtin_routes(td_service *svc, const char *prefix);

/* Role and permission checks over the principal (super_admin > admin >
 * senior_agent > agent > junior_agent). Permissions are those the gateway put in
 * the envelope from the current matrix. */
bool td_req_has_role(const td_req *req, const char *min_role);
bool td_req_can(const td_req *req, const char *permission);

#endif
