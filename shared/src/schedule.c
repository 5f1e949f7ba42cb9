/*
 * Cron schedules (schedule.h): each schedule's next occurrence is computed with the
 * cron parser (cron.h) in the configured time zone; a due occurrence is enqueued as
 * the job "<name>:<unix seconds>", which every instance of the service enqueues
 * alike and the queue keeps once. Redis keeps, per schedule, td:sched:<name> (a
 * hash: expression, time zone, queue, catch-up policy, last occurrence enqueued,
 * next run; the job scripts of jobs.c add the last run's status, start and
 * duration) and the set td:schedules of their names.
 */
#include "tripdesk/schedule.h"

#include "tripdesk/config.h"
#include "tripdesk/cron.h"
#include "tripdesk/jobs.h"
#include "tripdesk/log.h"
#include "tripdesk/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_MAX 64
#define EXPR_MAX 128
#define KEY_MAX 96
#define NUM_LEN 32
#define PAYLOAD_MAX (TD_SCHEDULE_NAME_MAX + 64)
/* What fire() formats fits by construction: a valid name and a 64-bit number. */
_Static_assert(sizeof "td:sched:" + TD_SCHEDULE_NAME_MAX <= KEY_MAX, "schedule key size");
_Static_assert(TD_SCHEDULE_NAME_MAX + sizeof ":-9223372036854775808" <= TD_JOB_ID_MAX + 1,
               "occurrence job id size");
_Static_assert(sizeof "{\"schedule\":\"\",\"occurrence\":-9223372036854775808}" +
                       TD_SCHEDULE_NAME_MAX <=
                   PAYLOAD_MAX,
               "occurrence payload size");
#define CATCH_UP_MAX_STEPS 1000000 /* occurrences looked at by one catch-up at most */

typedef struct sched {
    char name[TD_SCHEDULE_NAME_MAX + 1];
    char expr[EXPR_MAX];
    char queue[TD_JOB_QUEUE_MAX + 1];
    td_catch_up catch_up;
    td_cron cron;
    int64_t next_s;    /* the next occurrence to enqueue (set at registration) */
    int64_t pending_s; /* a missed occurrence to catch up, or -1 */
} sched;

struct td_scheduler {
    sched s[TD_SCHEDULE_MAX];
    int n;
    bool registered; /* in Redis, with next_s / pending_s computed */
    char tz[TZ_MAX];
};

/* KEYS td:sched:<name>, td:schedules; ARGV name, expression, time zone, queue,
 * catch-up. Records the schedule; its last occurrence enqueued (or nil). */
static td_redis_script register_script = {
    .src = "redis.call('HSET', KEYS[1], 'name', ARGV[1], 'expression', ARGV[2], "
           "  'timezone', ARGV[3], 'queue', ARGV[4], 'catch_up', ARGV[5]) "
           "redis.call('SADD', KEYS[2], ARGV[1]) "
           "return redis.call('HGET', KEYS[1], 'last_occurrence')"};

/* KEYS td:sched:<name>; ARGV occurrence, next run (unix s). */
static td_redis_script fired_script = {
    .src = "local last = tonumber(redis.call('HGET', KEYS[1], 'last_occurrence') or '-1') "
           "if tonumber(ARGV[1]) > last then "
           "  redis.call('HSET', KEYS[1], 'last_occurrence', ARGV[1]) end "
           "redis.call('HSET', KEYS[1], 'next_run', ARGV[2]) "
           "return 1"};

/* KEYS td:schedules. Every schedule's hash, flat: {{f, v, ...}, ...}. */
static td_redis_script list_script = {
    .src = "local out = {} "
           "for _, n in ipairs(redis.call('SORT', KEYS[1], 'ALPHA')) do "
           "  out[#out + 1] = redis.call('HGETALL', 'td:sched:' .. n) "
           "end "
           "return out"};

int td_scheduler_new(td_scheduler **out)
{
    *out = NULL;
    const char *tz = td_env_str(TD_ENV_TIMEZONE, TD_TIMEZONE_DEFAULT);
    if (td_timezone_from_env() != TD_OK) {
        td_error("%s=%s is not a known time zone", TD_ENV_TIMEZONE, tz);
        return TD_EINVAL;
    }
    td_scheduler *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TD_ENOMEM;
    if (td_fmt(s->tz, sizeof s->tz, "%s", tz) != TD_OK) { /* listed whole or not at all */
        td_error("%s=%s: a time zone name of at most %d bytes", TD_ENV_TIMEZONE, tz, TZ_MAX - 1);
        free(s);
        return TD_EINVAL;
    }
    *out = s;
    return TD_OK;
}

void td_scheduler_free(td_scheduler *s)
{
    free(s);
}

int td_scheduler_count(const td_scheduler *s)
{
    return s->n;
}

int td_scheduler_add(td_scheduler *s, const char *name, const char *cron_expr, const char *queue,
                     td_catch_up catch_up, char err[TD_SCHEDULE_ERR_MAX])
{
    err[0] = '\0';
    const char *nm = name != NULL ? name : "(null)";
    if (!td_job_queue_valid(name) || strlen(name) > TD_SCHEDULE_NAME_MAX) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: bad name (1..%d of [a-z0-9_-])", nm,
                    TD_SCHEDULE_NAME_MAX);
        return TD_EINVAL;
    }
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->s[i].name, name) == 0) {
            td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: added twice", nm);
            return TD_EINVAL;
        }
    if (!td_job_queue_valid(queue)) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: bad queue name", nm);
        return TD_EINVAL;
    }
    if (catch_up != TD_CATCH_UP_NONE && catch_up != TD_CATCH_UP_LAST) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: unknown catch-up policy %d", nm,
                    (int)catch_up);
        return TD_EINVAL;
    }
    if (s->n == TD_SCHEDULE_MAX) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: more than %d schedules", nm,
                    TD_SCHEDULE_MAX);
        return TD_EINVAL;
    }
    if (cron_expr == NULL || strlen(cron_expr) >= EXPR_MAX) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: missing or too long cron expression",
                    nm);
        return TD_EINVAL;
    }
    sched *c = &s->s[s->n];
    char why[TD_CRON_ERR_MAX] = "";
    if (td_cron_parse(cron_expr, &c->cron, why) != TD_OK) {
        td_fmt_text(err, TD_SCHEDULE_ERR_MAX, "schedule %s: bad cron expression \"%s\": %s", nm,
                    cron_expr, why);
        return TD_EINVAL;
    }
    /* fit: each was checked against its buffer's size above */
    TD_IGNORE(td_fmt(c->name, sizeof c->name, "%s", name));
    TD_IGNORE(td_fmt(c->expr, sizeof c->expr, "%s", cron_expr));
    TD_IGNORE(td_fmt(c->queue, sizeof c->queue, "%s", queue));
    c->catch_up = catch_up;
    c->pending_s = -1;
    s->n++;
    return TD_OK;
}

/* The latest occurrence of c in (after_s, until_s], or -1. */
static int64_t latest_in(const sched *c, int64_t after_s, int64_t until_s)
{
    int64_t found = -1, t = after_s;
    if (t < until_s - TD_SCHEDULE_CATCH_UP_MAX_S)
        t = until_s - TD_SCHEDULE_CATCH_UP_MAX_S;
    for (int i = 0; i < CATCH_UP_MAX_STEPS; i++) {
        int64_t next;
        if (td_cron_next(&c->cron, t, &next) != TD_OK || next > until_s)
            break;
        found = t = next;
    }
    return found;
}

/* Registers every schedule in Redis and works out what to run: the next
 * occurrence from now on (one at now_s itself included), and a missed one. */
static int register_all(td_scheduler *s, int64_t now_s)
{
    for (int i = 0; i < s->n; i++) {
        sched *c = &s->s[i];
        char key[KEY_MAX];
        if (td_fmt(key, sizeof key, "td:sched:%s", c->name) != TD_OK)
            return TD_EINVAL;
        const char *keys[] = {key, "td:schedules"};
        const char *args[] = {c->name, c->expr, s->tz, c->queue,
                              c->catch_up == TD_CATCH_UP_LAST ? "last" : "none"};
        td_reply *r;
        int rc = td_redis_eval(&register_script, 2, keys, 5, args, &r);
        if (rc != TD_OK)
            return rc;
        int64_t last = r->type == TD_REPLY_STR ? strtoll(r->str, NULL, 10) : -1;
        td_reply_free(r);
        if (td_cron_next(&c->cron, now_s - 1, &c->next_s) != TD_OK)
            c->next_s = INT64_MAX; /* never fires (e.g. 30 February) */
        c->pending_s = -1;
        if (c->catch_up == TD_CATCH_UP_LAST && last >= 0 && last < now_s - 1) {
            c->pending_s = latest_in(c, last, now_s - 1);
            if (c->pending_s >= 0)
                td_info("schedule %s: occurrence %lld was missed; it runs now (catch-up)", c->name,
                        (long long)c->pending_s);
        }
    }
    s->registered = true;
    return TD_OK;
}

/* Enqueues occurrence occ_s of c; *created whether this call made the job. */
static int fire(const sched *c, int64_t occ_s, int64_t next_s, bool *created)
{
    *created = false;
    char id[TD_JOB_ID_MAX + 1], payload[PAYLOAD_MAX];
    if (td_fmt(id, sizeof id, "%s:%lld", c->name, (long long)occ_s) != TD_OK ||
        td_fmt(payload, sizeof payload, "{\"schedule\":\"%s\",\"occurrence\":%lld}", c->name,
               (long long)occ_s) != TD_OK)
        return TD_EINVAL;
    td_job_opts o = {.id = id, .payload = payload, .schedule = c->name};
    int rc = td_job_enqueue(c->queue, &o, NULL, created);
    if (rc != TD_OK)
        return rc;
    char key[KEY_MAX], occ[NUM_LEN], nxt[NUM_LEN];
    if (td_fmt(key, sizeof key, "td:sched:%s", c->name) != TD_OK)
        return TD_EINVAL;
    /* fit: 64-bit numbers */
    TD_IGNORE(td_fmt(occ, sizeof occ, "%lld", (long long)occ_s));
    TD_IGNORE(td_fmt(nxt, sizeof nxt, "%lld", (long long)next_s));
    const char *keys[] = {key};
    const char *args[] = {occ, nxt};
    td_reply *r;
    rc = td_redis_eval(&fired_script, 1, keys, 2, args, &r);
    td_reply_free(r);
    if (*created)
        td_info("schedule %s: occurrence %lld enqueued as job %s on %s", c->name, (long long)occ_s,
                id, c->queue);
    return rc;
}

int td_scheduler_tick(td_scheduler *s, int64_t now_s, int *fired)
{
    if (fired != NULL)
        *fired = 0;
    int rc = s->registered ? TD_OK : register_all(s, now_s);
    for (int i = 0; rc == TD_OK && i < s->n; i++) {
        sched *c = &s->s[i];
        bool created;
        if (c->pending_s >= 0) {
            rc = fire(c, c->pending_s, c->next_s, &created);
            if (rc != TD_OK)
                break;
            c->pending_s = -1;
            if (created && fired != NULL)
                (*fired)++;
        }
        if (now_s < c->next_s)
            continue;
        int64_t occ = c->next_s, next;
        while (td_cron_next(&c->cron, occ, &next) == TD_OK && next <= now_s)
            occ = next; /* several due at once (a stall): the latest only */
        if (td_cron_next(&c->cron, occ, &next) != TD_OK)
            next = INT64_MAX;
        rc = fire(c, occ, next, &created);
        if (rc != TD_OK)
            break;
        c->next_s = next;
        if (created && fired != NULL)
            (*fired)++;
    }
    return rc;
}

/* Adds hash field v as a number in unix ms (scale 1000 for seconds); null when it
 * is out of range (a schedule that never fires again keeps INT64_MAX). */
static void add_ms(cJSON *o, const char *name, const char *v, int64_t scale)
{
    if (v == NULL)
        return;
    long long n = strtoll(v, NULL, 10);
    if (n < 0 || n > INT64_MAX / scale)
        cJSON_AddNullToObject(o, name);
    else
        cJSON_AddNumberToObject(o, name, (double)(n * scale));
}

int td_schedule_list(cJSON **out)
{
    *out = NULL;
    const char *keys[] = {"td:schedules"};
    td_reply *r;
    int rc = td_redis_eval(&list_script, 1, keys, 0, NULL, &r);
    if (rc != TD_OK)
        return rc;
    cJSON *a = cJSON_CreateArray();
    if (a == NULL) {
        td_reply_free(r);
        return TD_ENOMEM;
    }
    for (size_t i = 0; r->type == TD_REPLY_ARRAY && i < r->n; i++) {
        const td_reply *h = &r->elem[i];
        const char *f[10] = {0};
        static const char *const names[10] = {"name",        "expression",  "timezone",
                                              "queue",       "catch_up",    "last_occurrence",
                                              "last_run_at", "last_status", "last_duration_ms",
                                              "next_run"};
        for (size_t j = 0; h->type == TD_REPLY_ARRAY && j + 1 < h->n; j += 2)
            for (int k = 0; k < 10; k++)
                if (h->elem[j].type == TD_REPLY_STR && h->elem[j + 1].type == TD_REPLY_STR &&
                    strcmp(h->elem[j].str, names[k]) == 0)
                    f[k] = h->elem[j + 1].str;
        if (f[0] == NULL)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f[0]);
        cJSON_AddStringToObject(o, "expression", f[1] != NULL ? f[1] : "");
        cJSON_AddStringToObject(o, "timezone", f[2] != NULL ? f[2] : TD_TIMEZONE_DEFAULT);
        cJSON_AddStringToObject(o, "queue", f[3] != NULL ? f[3] : "");
        cJSON_AddStringToObject(o, "catchUp", f[4] != NULL ? f[4] : "none");
        add_ms(o, "lastOccurrence", f[5], 1000);
        add_ms(o, "lastRunAt", f[6], 1);
        if (f[7] != NULL)
            cJSON_AddStringToObject(o, "lastStatus", f[7]);
        add_ms(o, "lastDurationMs", f[8], 1);
        add_ms(o, "nextRun", f[9], 1000);
        cJSON_AddItemToArray(a, o);
    }
    td_reply_free(r);
    *out = a;
    return TD_OK;
}
