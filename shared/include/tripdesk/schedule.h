/*
 * Cron schedules that enqueue jobs (jobs.h). Each occurrence of a schedule becomes
 * the job "<name>:<occurrence unix seconds>" on its queue, so with several
 * instances of a service each occurrence runs once: the job id's dedupe does it.
 * An occurrence missed while no instance ran is caught up at start, once (only the
 * latest missed one), when the schedule's policy says so. Each schedule's state
 * (expression, time zone, last occurrence, last run's status and duration, next
 * run) is kept in Redis, for td_schedule_list.
 */
#ifndef TRIPDESK_SCHEDULE_H
#define TRIPDESK_SCHEDULE_H

#include "common.h"

#include <cjson/cJSON.h>

typedef enum {
    TD_CATCH_UP_NONE, /* missed occurrences are skipped */
    TD_CATCH_UP_LAST, /* the latest missed occurrence runs once at start */
} td_catch_up;

#define TD_SCHEDULE_NAME_MAX 64 /* [a-z0-9_-], like a queue name */
#define TD_SCHEDULE_MAX 32      /* schedules per process */
#define TD_SCHEDULE_ERR_MAX 256 /* a rejected schedule's message */
/* The catch-up looks this far back for a missed occurrence at most. */
#define TD_SCHEDULE_CATCH_UP_MAX_S (366LL * 24 * 3600)

typedef struct td_scheduler td_scheduler;

TD_MUST_CHECK int td_scheduler_new(td_scheduler **out);
void td_scheduler_free(td_scheduler *s);

/* Adds a schedule: its expression is parsed now. TD_EINVAL with err saying why,
 * naming the schedule (bad name, bad expression, bad queue, too many). */
TD_MUST_CHECK int td_scheduler_add(td_scheduler *s, const char *name, const char *cron_expr,
                                   const char *queue, td_catch_up catch_up,
                                   char err[TD_SCHEDULE_ERR_MAX]);

/* Number of schedules added. */
int td_scheduler_count(const td_scheduler *s);

/* Runs the schedules at now_s (unix seconds): the first call registers them in
 * Redis and catches up what their policy says; every call enqueues each
 * occurrence that is due (when several are due at once, only the latest). *fired
 * (may be NULL) gets the number of jobs this call created. TD_EUNAVAIL when Redis
 * is down: the next call does what this one could not. */
TD_MUST_CHECK int td_scheduler_tick(td_scheduler *s, int64_t now_s, int *fired);

/* Every registered schedule, from Redis (caller deletes it): an array of
 * {name, expression, timezone, queue, catchUp, lastOccurrence, lastRunAt,
 * lastStatus, lastDurationMs, nextRun} (times in unix ms; absent when unknown). */
TD_MUST_CHECK int td_schedule_list(cJSON **out);

#endif
