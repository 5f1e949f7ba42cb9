/*
 * The job queue (jobs.h): each change of a job's state is one Lua script run with
 * td_redis_eval, so that it is atomic across daemons, and the dispatcher that takes
 * jobs for a process's workers, runs them on its pool and keeps their leases.
 *
 * Keys of queue Q (docs/notes/jobs.md):
 *   td:job:Q:<id>        the job's hash
 *   td:jobs:Q:waiting    sorted set, score priority * 2^33 + enqueue sequence
 *   td:jobs:Q:delayed    sorted set, score: when due (unix ms)
 *   td:jobs:Q:active     sorted set, score: lease expiry (unix ms)
 *   td:jobs:Q:completed, :dead, :cancelled   sorted sets, score: when finished
 *   td:jobs:Q:seq        the enqueue sequence;  td:jobs:queues  the set of queues
 */
#include "tripdesk/jobs.h"

#include "tripdesk/config.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/redis.h"
#include "tripdesk/schedule.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_MAX (TD_JOB_QUEUE_MAX + TD_JOB_ID_MAX + 32)
#define NUM_LEN 32
#define QUEUES_KEY "td:jobs:queues"
/* A valid queue and id (or the longest set name) fit a key; job_key / set_key still
 * check, so that a key is never used cut. */
_Static_assert(sizeof "td:job::" + TD_JOB_QUEUE_MAX + TD_JOB_ID_MAX <= KEY_MAX, "job key size");
_Static_assert(sizeof "td:jobs::cancelled" + TD_JOB_QUEUE_MAX <= KEY_MAX, "set key size");
#define ORDER_SEQ_SPAN "8589934592" /* 2^33: the waiting score's sequence part */

/* ---- Lua ------------------------------------------------------------------------ */

/* Helpers every script starts with: exact decimal of a number (tostring keeps 14
 * digits only), a job's errors list grown by one (its last TD_JOB_ERRORS_KEPT),
 * and the schedule's record of its last run (schedule.c) when the job is one. */
#define LUA_COMMON                                                                                 \
    "local function fmt(x) return string.format('%.0f', x) end "                                   \
    "local function add_error(k, attempt, now, msg) "                                              \
    "  local e = redis.call('HGET', k, 'errors') "                                                 \
    "  local errs = {} "                                                                           \
    "  if e then errs = cjson.decode(e) end "                                                      \
    "  errs[#errs + 1] = {attempt = tonumber(attempt), at = tonumber(now), error = msg} "          \
    "  while #errs > 10 do table.remove(errs, 1) end "                                             \
    "  redis.call('HSET', k, 'last_error', msg, 'errors', cjson.encode(errs)) "                    \
    "end "                                                                                         \
    "local function sched_done(k, status, now) "                                                   \
    "  local f = redis.call('HMGET', k, 'schedule', 'started', 'id') "                             \
    "  if not f[1] then return end "                                                               \
    "  local d = 0 "                                                                               \
    "  if f[2] then d = tonumber(now) - tonumber(f[2]) end "                                       \
    "  redis.call('HSET', 'td:sched:' .. f[1], 'last_status', status, 'last_duration_ms', "        \
    "    fmt(d), 'last_run_at', f[2] or now, 'last_job', f[3]) "                                   \
    "end "                                                                                         \
    "local function holds(k, worker, attempt) "                                                    \
    "  local f = redis.call('HMGET', k, 'state', 'owner', 'attempts') "                            \
    "  return f[1] == 'active' and f[2] == worker and f[3] == attempt "                            \
    "end "

/* KEYS job, waiting, delayed, seq, queues; ARGV id, now, delay, priority, attempts,
 * backoff, payload, schedule ('' none), queue. 1 created, 0 the id exists. */
static td_redis_script enqueue_script = {
    .src = LUA_COMMON
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
    "local now = tonumber(ARGV[2]) local delay = tonumber(ARGV[3]) "
    "local seq = redis.call('INCR', KEYS[4]) % " ORDER_SEQ_SPAN " "
    "local order = fmt(tonumber(ARGV[4]) * " ORDER_SEQ_SPAN " + seq) "
    "local state = 'waiting' if delay > 0 then state = 'delayed' end "
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'queue', ARGV[9], 'state', state, "
    "  'payload', ARGV[7], 'attempts', 0, 'max_attempts', ARGV[5], 'backoff', ARGV[6], "
    "  'priority', ARGV[4], 'order', order, 'progress', 0, 'created', ARGV[2]) "
    "if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'schedule', ARGV[8]) end "
    "if delay > 0 then redis.call('ZADD', KEYS[3], fmt(now + delay), ARGV[1]) "
    "else redis.call('ZADD', KEYS[2], order, ARGV[1]) end "
    "redis.call('SADD', KEYS[5], ARGV[9]) "
    "return 1"};

/* KEYS waiting, delayed, active; ARGV queue, now, worker, lease until, max.
 * Promotes due delayed jobs, then takes the best waiting ones:
 * {{id, payload, attempt, max attempts, created}...}. */
static td_redis_script take_script = {
    .src = LUA_COMMON
    "local jp = 'td:job:' .. ARGV[1] .. ':' "
    "local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, 1000) "
    "for _, id in ipairs(due) do "
    "  redis.call('ZREM', KEYS[2], id) "
    "  local order = redis.call('HGET', jp .. id, 'order') "
    "  if order then redis.call('ZADD', KEYS[1], order, id) "
    "    redis.call('HSET', jp .. id, 'state', 'waiting') end "
    "end "
    "local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1) "
    "local out = {} "
    "for _, id in ipairs(ids) do "
    "  local k = jp .. id "
    "  redis.call('ZREM', KEYS[1], id) "
    "  if redis.call('EXISTS', k) == 1 then "
    "    redis.call('ZADD', KEYS[3], ARGV[4], id) "
    "    local a = redis.call('HINCRBY', k, 'attempts', 1) "
    "    redis.call('HSET', k, 'state', 'active', 'started', ARGV[2], 'owner', ARGV[3], "
    "      'lease_until', ARGV[4]) "
    "    redis.call('HDEL', k, 'due') "
    "    local f = redis.call('HMGET', k, 'payload', 'max_attempts', 'created') "
    "    out[#out + 1] = {id, f[1], a, tonumber(f[2]), f[3]} "
    "  end "
    "end "
    "return out"};

/* KEYS job, active; ARGV id, worker, attempt, lease until. 1 renewed, 0 not held. */
static td_redis_script renew_script = {.src = LUA_COMMON
                                       "if not holds(KEYS[1], ARGV[2], ARGV[3]) then return 0 end "
                                       "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) "
                                       "redis.call('HSET', KEYS[1], 'lease_until', ARGV[4]) "
                                       "return 1"};

/* KEYS job; ARGV worker, attempt, percent, message. 1 stored, 0 not held. */
static td_redis_script progress_script = {
    .src = LUA_COMMON "if not holds(KEYS[1], ARGV[1], ARGV[2]) then return 0 end "
                      "redis.call('HSET', KEYS[1], 'progress', ARGV[3], 'progress_msg', ARGV[4]) "
                      "return 1"};

/* KEYS job, active, completed; ARGV id, worker, attempt, now, result ('' none).
 * 1 completed, 0 not held. */
static td_redis_script complete_script = {
    .src = LUA_COMMON "if not holds(KEYS[1], ARGV[2], ARGV[3]) then return 0 end "
                      "redis.call('ZREM', KEYS[2], ARGV[1]) "
                      "redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1]) "
                      "redis.call('HSET', KEYS[1], 'state', 'completed', 'finished', ARGV[4]) "
                      "if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[5]) end "
                      "redis.call('HDEL', KEYS[1], 'owner', 'lease_until') "
                      "sched_done(KEYS[1], 'completed', ARGV[4]) "
                      "return 1"};

/* KEYS job, active, delayed, dead; ARGV id, worker, attempt, now, error, max
 * back-off. {0} not held, {1, due} delayed for the next attempt, {2} dead. */
static td_redis_script fail_script = {
    .src =
        LUA_COMMON "if not holds(KEYS[1], ARGV[2], ARGV[3]) then return {0} end "
                   "local f = redis.call('HMGET', KEYS[1], 'attempts', 'max_attempts', 'backoff') "
                   "local a = tonumber(f[1]) local now = tonumber(ARGV[4]) "
                   "redis.call('ZREM', KEYS[2], ARGV[1]) "
                   "redis.call('HDEL', KEYS[1], 'owner', 'lease_until') "
                   "add_error(KEYS[1], a, ARGV[4], ARGV[5]) "
                   "if a >= tonumber(f[2]) then "
                   "  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1]) "
                   "  redis.call('HSET', KEYS[1], 'state', 'dead', 'finished', ARGV[4]) "
                   "  sched_done(KEYS[1], 'dead', ARGV[4]) "
                   "  return {2} "
                   "end "
                   "local d = tonumber(f[3]) * 2 ^ (a - 1) "
                   "if d > tonumber(ARGV[6]) then d = tonumber(ARGV[6]) end "
                   "local due = fmt(now + d) "
                   "redis.call('ZADD', KEYS[3], due, ARGV[1]) "
                   "redis.call('HSET', KEYS[1], 'state', 'delayed', 'due', due) "
                   "sched_done(KEYS[1], 'retrying', ARGV[4]) "
                   "return {1, due}"};

/* KEYS active, waiting, dead; ARGV queue, now. Jobs whose lease ran out: back to
 * waiting, or dead after their last attempt. The number moved. */
static td_redis_script stalled_script = {
    .src = LUA_COMMON
    "local jp = 'td:job:' .. ARGV[1] .. ':' "
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, 1000) "
    "local n = 0 "
    "for _, id in ipairs(ids) do "
    "  local k = jp .. id "
    "  redis.call('ZREM', KEYS[1], id) "
    "  local f = redis.call('HMGET', k, 'attempts', 'max_attempts', 'order', 'owner') "
    "  if f[1] then "
    "    add_error(k, f[1], ARGV[2], 'stalled: the lease of ' .. (f[4] or '?') .. "
    "      ' ran out (its worker died or hung)') "
    "    redis.call('HDEL', k, 'owner', 'lease_until') "
    "    if tonumber(f[1]) >= tonumber(f[2]) then "
    "      redis.call('ZADD', KEYS[3], ARGV[2], id) "
    "      redis.call('HSET', k, 'state', 'dead', 'finished', ARGV[2]) "
    "      sched_done(k, 'dead', ARGV[2]) "
    "    else "
    "      redis.call('ZADD', KEYS[2], f[3], id) "
    "      redis.call('HSET', k, 'state', 'waiting') "
    "    end "
    "    n = n + 1 "
    "  end "
    "end "
    "return n"};

/* KEYS completed, cancelled, dead; ARGV queue, now, keep completed ms, keep dead
 * ms. Removes finished jobs past their retention; the number removed. */
static td_redis_script purge_script = {
    .src = LUA_COMMON "local jp = 'td:job:' .. ARGV[1] .. ':' local n = 0 "
                      "local function purge(set, keep) "
                      "  local ids = redis.call('ZRANGEBYSCORE', set, '-inf', "
                      "    '(' .. fmt(tonumber(ARGV[2]) - tonumber(keep)), 'LIMIT', 0, 1000) "
                      "  for _, id in ipairs(ids) do "
                      "    redis.call('DEL', jp .. id) redis.call('ZREM', set, id) n = n + 1 "
                      "  end "
                      "end "
                      "purge(KEYS[1], ARGV[3]) purge(KEYS[2], ARGV[3]) purge(KEYS[3], ARGV[4]) "
                      "return n"};

/* KEYS job, waiting, delayed, cancelled; ARGV id, now. 1 cancelled, 0 not
 * waiting or delayed, -1 absent. */
static td_redis_script cancel_script = {
    .src = "local st = redis.call('HGET', KEYS[1], 'state') "
           "if not st then return -1 end "
           "if st ~= 'waiting' and st ~= 'delayed' then return 0 end "
           "redis.call('ZREM', KEYS[2], ARGV[1]) redis.call('ZREM', KEYS[3], ARGV[1]) "
           "redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) "
           "redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished', ARGV[2]) "
           "return 1"};

/* KEYS job, dead, waiting; ARGV id. 1 back to waiting, 0 not dead, -1 absent. */
static td_redis_script retry_script = {
    .src = "local f = redis.call('HMGET', KEYS[1], 'state', 'order') "
           "if not f[1] then return -1 end "
           "if f[1] ~= 'dead' then return 0 end "
           "redis.call('ZREM', KEYS[2], ARGV[1]) "
           "redis.call('ZADD', KEYS[3], f[2], ARGV[1]) "
           "redis.call('HSET', KEYS[1], 'state', 'waiting', 'attempts', 0) "
           "redis.call('HDEL', KEYS[1], 'finished', 'due') "
           "return 1"};

/* KEYS td:jobs:queues. The queue names, sorted. */
static td_redis_script queues_script = {.src = "return redis.call('SORT', KEYS[1], 'ALPHA')"};

/* KEYS job. Its fields, flat. */
static td_redis_script get_script = {.src = "return redis.call('HGETALL', KEYS[1])"};

/* KEYS the six state sets (td_job_state order); ARGV which (1-based), offset,
 * limit. {{counts}, {ids newest first}}. */
static td_redis_script list_script = {
    .src = "local counts = {} "
           "for i = 1, 6 do counts[i] = redis.call('ZCARD', KEYS[i]) end "
           "local o = tonumber(ARGV[2]) "
           "local ids = redis.call('ZREVRANGE', KEYS[tonumber(ARGV[1])], o, "
           "  o + tonumber(ARGV[3]) - 1) "
           "return {counts, ids}"};

/* ---- Names, keys, clock ---------------------------------------------------------- */

static const char *const state_names[TD_JOB_NSTATES] = {"waiting",   "delayed", "active",
                                                        "completed", "dead",    "cancelled"};

const char *td_job_state_name(td_job_state s)
{
    return s >= 0 && s < TD_JOB_NSTATES ? state_names[s] : "unknown";
}

int td_job_state_parse(const char *name, td_job_state *out)
{
    for (int i = 0; i < TD_JOB_NSTATES; i++)
        if (name != NULL && strcmp(name, state_names[i]) == 0) {
            *out = (td_job_state)i;
            return TD_OK;
        }
    return TD_EINVAL;
}

bool td_job_queue_valid(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > TD_JOB_QUEUE_MAX)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

bool td_job_id_valid(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n > TD_JOB_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f)
            return false;
    return true;
}

static int64_t (*clock_fn)(void) = td_now_ms;

void td_jobs_set_clock(int64_t (*now_ms)(void))
{
    clock_fn = now_ms != NULL ? now_ms : td_now_ms;
}

int64_t td_jobs_now_ms(void)
{
    return clock_fn();
}

/* The key of job id of queue into buf (KEY_MAX bytes); TD_EINVAL when it does not
 * fit (never for a valid queue and id: see KEY_MAX). */
TD_MUST_CHECK static int job_key(char *buf, const char *queue, const char *id)
{
    return td_fmt(buf, KEY_MAX, "td:job:%s:%s", queue, id);
}

/* The key of queue's state set (or sequence) named set; TD_EINVAL when it does not fit. */
TD_MUST_CHECK static int set_key(char *buf, const char *queue, const char *set)
{
    return td_fmt(buf, KEY_MAX, "td:jobs:%s:%s", queue, set);
}

static void num(char *buf, int64_t v)
{
    TD_IGNORE(td_fmt(buf, NUM_LEN, "%lld", (long long)v)); /* fits: one 64-bit number */
}

/* A message cut to TD_JOB_MSG_MAX bytes (into buf), at a character boundary. */
static const char *cut(const char *msg, char buf[TD_JOB_MSG_MAX + 1])
{
    td_fmt_text(buf, TD_JOB_MSG_MAX + 1, "%s", msg != NULL ? msg : "");
    return buf;
}

/* The integer of a reply (or of its first element), else def. */
static long long reply_int(const td_reply *r, long long def)
{
    if (r == NULL)
        return def;
    if (r->type == TD_REPLY_ARRAY && r->n > 0)
        r = &r->elem[0];
    if (r->type == TD_REPLY_INT)
        return r->integer;
    if (r->type == TD_REPLY_STR)
        return strtoll(r->str, NULL, 10);
    return def;
}

/* ---- Queue calls ----------------------------------------------------------------- */

int td_job_enqueue(const char *queue, const td_job_opts *opts, char id_out[TD_JOB_ID_MAX + 1],
                   bool *created)
{
    *created = false;
    td_job_opts o = opts != NULL ? *opts : (td_job_opts){0};
    char idbuf[TD_JOB_ID_MAX + 1];
    if (o.id == NULL) {
        td_new_id(idbuf);
        o.id = idbuf;
    }
    if (o.attempts == 0)
        o.attempts = TD_JOB_DEFAULT_ATTEMPTS;
    if (o.backoff_ms == 0)
        o.backoff_ms = TD_JOB_DEFAULT_BACKOFF_MS;
    if (!td_job_queue_valid(queue) || !td_job_id_valid(o.id) || o.delay_ms < 0 ||
        o.delay_ms > TD_JOB_MAX_DELAY_MS || o.priority < 0 || o.priority > TD_JOB_PRIORITY_MAX ||
        o.attempts < 1 || o.attempts > TD_JOB_MAX_ATTEMPTS || o.backoff_ms < 0 ||
        o.backoff_ms > TD_JOB_MAX_BACKOFF_MS ||
        (o.schedule != NULL && !td_job_queue_valid(o.schedule)) ||
        (o.payload != NULL && strlen(o.payload) > TD_JOB_PAYLOAD_MAX))
        return TD_EINVAL;
    char k[4][KEY_MAX], now[NUM_LEN], delay[NUM_LEN], prio[NUM_LEN], att[NUM_LEN], back[NUM_LEN];
    if (job_key(k[0], queue, o.id) != TD_OK || set_key(k[1], queue, "waiting") != TD_OK ||
        set_key(k[2], queue, "delayed") != TD_OK || set_key(k[3], queue, "seq") != TD_OK)
        return TD_EINVAL;
    num(now, td_jobs_now_ms());
    num(delay, o.delay_ms);
    num(prio, o.priority);
    num(att, o.attempts);
    num(back, o.backoff_ms);
    const char *keys[] = {k[0], k[1], k[2], k[3], QUEUES_KEY};
    const char *args[] = {o.id,
                          now,
                          delay,
                          prio,
                          att,
                          back,
                          o.payload != NULL ? o.payload : "{}",
                          o.schedule != NULL ? o.schedule : "",
                          queue};
    td_reply *r;
    int rc = td_redis_eval(&enqueue_script, 5, keys, 9, args, &r);
    if (rc != TD_OK)
        return rc;
    *created = reply_int(r, 0) == 1;
    td_reply_free(r);
    if (id_out != NULL)
        TD_IGNORE(td_fmt(id_out, TD_JOB_ID_MAX + 1, "%s", o.id)); /* fits: a valid id */
    return TD_OK;
}

void td_taken_free(td_job *jobs, int n)
{
    for (int i = 0; jobs != NULL && i < n; i++)
        free(jobs[i].payload);
    free(jobs);
}

int td_job_take(const char *queue, const char *worker, int64_t lease_ms, int max, td_job **jobs,
                int *n)
{
    *jobs = NULL;
    *n = 0;
    if (!td_job_queue_valid(queue) || max < 1 || lease_ms < 1 ||
        strlen(worker) >= TD_JOB_WORKER_MAX)
        return TD_EINVAL;
    char k[3][KEY_MAX], now[NUM_LEN], until[NUM_LEN], mx[NUM_LEN];
    if (set_key(k[0], queue, "waiting") != TD_OK || set_key(k[1], queue, "delayed") != TD_OK ||
        set_key(k[2], queue, "active") != TD_OK)
        return TD_EINVAL;
    int64_t t = td_jobs_now_ms();
    num(now, t);
    num(until, t + lease_ms);
    num(mx, max);
    const char *keys[] = {k[0], k[1], k[2]};
    const char *args[] = {queue, now, worker, until, mx};
    td_reply *r;
    int rc = td_redis_eval(&take_script, 3, keys, 5, args, &r);
    if (rc != TD_OK)
        return rc;
    if (r->type != TD_REPLY_ARRAY || r->n == 0)
        goto out;
    *jobs = calloc(r->n, sizeof **jobs);
    if (*jobs == NULL) {
        rc = TD_ENOMEM; /* taken all the same: their leases hand them back */
        goto out;
    }
    for (size_t i = 0; i < r->n; i++) {
        const td_reply *e = &r->elem[i];
        if (e->type != TD_REPLY_ARRAY || e->n < 5 || e->elem[0].type != TD_REPLY_STR)
            continue;
        td_job *j = &(*jobs)[*n];
        /* queue and worker were checked above; the id comes from Redis: one that does
         * not fit (not written by td_job_enqueue) is left to its lease, never cut */
        if (td_fmt(j->id, sizeof j->id, "%s", e->elem[0].str) != TD_OK) {
            td_warn("jobs: a job of queue %s has an id over %d bytes; not run", queue,
                    TD_JOB_ID_MAX);
            continue;
        }
        TD_IGNORE(td_fmt(j->queue, sizeof j->queue, "%s", queue));
        TD_IGNORE(td_fmt(j->worker, sizeof j->worker, "%s", worker));
        j->payload = strdup(e->elem[1].type == TD_REPLY_STR ? e->elem[1].str : "{}");
        if (j->payload == NULL) {
            rc = TD_ENOMEM;
            break;
        }
        j->attempt = (int)reply_int(&e->elem[2], 1);
        j->max_attempts = (int)reply_int(&e->elem[3], 1);
        j->created_ms = reply_int(&e->elem[4], 0);
        (*n)++;
    }
    if (rc != TD_OK) {
        td_taken_free(*jobs, *n);
        *jobs = NULL;
        *n = 0;
    }
out:
    td_reply_free(r);
    return rc;
}

int td_job_renew(const td_job *job, int64_t lease_ms)
{
    char k[2][KEY_MAX], att[NUM_LEN], until[NUM_LEN];
    if (job_key(k[0], job->queue, job->id) != TD_OK || set_key(k[1], job->queue, "active") != TD_OK)
        return TD_EINVAL;
    num(att, job->attempt);
    num(until, td_jobs_now_ms() + lease_ms);
    const char *keys[] = {k[0], k[1]};
    const char *args[] = {job->id, job->worker, att, until};
    td_reply *r;
    int rc = td_redis_eval(&renew_script, 2, keys, 4, args, &r);
    if (rc != TD_OK)
        return rc;
    rc = reply_int(r, 0) == 1 ? TD_OK : TD_ECONFLICT;
    td_reply_free(r);
    return rc;
}

int td_job_set_progress(const td_job *job, int pct, const char *msg)
{
    if (pct < 0 || pct > 100)
        return TD_EINVAL;
    char k[KEY_MAX], att[NUM_LEN], p[NUM_LEN], m[TD_JOB_MSG_MAX + 1];
    if (job_key(k, job->queue, job->id) != TD_OK)
        return TD_EINVAL;
    num(att, job->attempt);
    num(p, pct);
    const char *keys[] = {k};
    const char *args[] = {job->worker, att, p, cut(msg, m)};
    td_reply *r;
    int rc = td_redis_eval(&progress_script, 1, keys, 4, args, &r);
    if (rc != TD_OK)
        return rc;
    rc = reply_int(r, 0) == 1 ? TD_OK : TD_ECONFLICT;
    td_reply_free(r);
    return rc;
}

int td_job_complete(const td_job *job, const char *result)
{
    char k[3][KEY_MAX], att[NUM_LEN], now[NUM_LEN];
    if (job_key(k[0], job->queue, job->id) != TD_OK ||
        set_key(k[1], job->queue, "active") != TD_OK ||
        set_key(k[2], job->queue, "completed") != TD_OK)
        return TD_EINVAL;
    num(att, job->attempt);
    num(now, td_jobs_now_ms());
    const char *keys[] = {k[0], k[1], k[2]};
    const char *args[] = {job->id, job->worker, att, now, result != NULL ? result : ""};
    td_reply *r;
    int rc = td_redis_eval(&complete_script, 3, keys, 5, args, &r);
    if (rc != TD_OK)
        return rc;
    rc = reply_int(r, 0) == 1 ? TD_OK : TD_ECONFLICT;
    td_reply_free(r);
    return rc;
}

int td_job_fail(const td_job *job, const char *error, td_job_state *state)
{
    char k[4][KEY_MAX], att[NUM_LEN], now[NUM_LEN], maxb[NUM_LEN], m[TD_JOB_MSG_MAX + 1];
    if (job_key(k[0], job->queue, job->id) != TD_OK ||
        set_key(k[1], job->queue, "active") != TD_OK ||
        set_key(k[2], job->queue, "delayed") != TD_OK || set_key(k[3], job->queue, "dead") != TD_OK)
        return TD_EINVAL;
    num(att, job->attempt);
    num(now, td_jobs_now_ms());
    num(maxb, TD_JOB_MAX_BACKOFF_MS);
    const char *keys[] = {k[0], k[1], k[2], k[3]};
    const char *args[] = {job->id, job->worker, att, now, cut(error, m), maxb};
    td_reply *r;
    int rc = td_redis_eval(&fail_script, 4, keys, 6, args, &r);
    if (rc != TD_OK)
        return rc;
    long long what = reply_int(r, 0);
    td_reply_free(r);
    if (what == 0)
        return TD_ECONFLICT;
    if (state != NULL)
        *state = what == 2 ? TD_JOB_DEAD : TD_JOB_DELAYED;
    return TD_OK;
}

int td_jobs_recover_stalled(const char *queue, int *n)
{
    *n = 0;
    if (!td_job_queue_valid(queue))
        return TD_EINVAL;
    char k[3][KEY_MAX], now[NUM_LEN];
    if (set_key(k[0], queue, "active") != TD_OK || set_key(k[1], queue, "waiting") != TD_OK ||
        set_key(k[2], queue, "dead") != TD_OK)
        return TD_EINVAL;
    num(now, td_jobs_now_ms());
    const char *keys[] = {k[0], k[1], k[2]};
    const char *args[] = {queue, now};
    td_reply *r;
    int rc = td_redis_eval(&stalled_script, 3, keys, 2, args, &r);
    if (rc != TD_OK)
        return rc;
    *n = (int)reply_int(r, 0);
    td_reply_free(r);
    if (*n > 0)
        td_warn("jobs: %d stalled job(s) of queue %s recovered (lease ran out)", *n, queue);
    return TD_OK;
}

int td_jobs_purge(const char *queue, int *n)
{
    *n = 0;
    if (!td_job_queue_valid(queue))
        return TD_EINVAL;
    int64_t keep = td_env_int(TD_ENV_JOBS_KEEP, -1, 0, 10LL * 365 * 24 * 3600);
    int64_t keep_done = keep >= 0 ? keep : TD_JOBS_KEEP_COMPLETED_S;
    int64_t keep_dead = keep >= 0 ? keep : TD_JOBS_KEEP_DEAD_S;
    char k[3][KEY_MAX], now[NUM_LEN], kd[NUM_LEN], kx[NUM_LEN];
    if (set_key(k[0], queue, "completed") != TD_OK || set_key(k[1], queue, "cancelled") != TD_OK ||
        set_key(k[2], queue, "dead") != TD_OK)
        return TD_EINVAL;
    num(now, td_jobs_now_ms());
    num(kd, keep_done * 1000);
    num(kx, keep_dead * 1000);
    const char *keys[] = {k[0], k[1], k[2]};
    const char *args[] = {queue, now, kd, kx};
    td_reply *r;
    int rc = td_redis_eval(&purge_script, 3, keys, 4, args, &r);
    if (rc != TD_OK)
        return rc;
    *n = (int)reply_int(r, 0);
    td_reply_free(r);
    return TD_OK;
}

/* Runs the cancel or the retry script: both answer 1 / 0 / -1. */
static int change(td_redis_script *s, const char *queue, const char *id, const char *from,
                  const char *to)
{
    if (!td_job_queue_valid(queue) || !td_job_id_valid(id))
        return TD_EINVAL;
    char k[4][KEY_MAX], now[NUM_LEN];
    if (job_key(k[0], queue, id) != TD_OK || set_key(k[1], queue, from) != TD_OK ||
        set_key(k[2], queue, to) != TD_OK || set_key(k[3], queue, "cancelled") != TD_OK)
        return TD_EINVAL;
    num(now, td_jobs_now_ms());
    const char *keys[] = {k[0], k[1], k[2], k[3]};
    const char *args[] = {id, now};
    td_reply *r;
    int rc = td_redis_eval(s, s == &cancel_script ? 4 : 3, keys, 2, args, &r);
    if (rc != TD_OK)
        return rc;
    long long v = reply_int(r, -1);
    td_reply_free(r);
    return v == 1 ? TD_OK : v == 0 ? TD_ECONFLICT : TD_ENOTFOUND;
}

int td_job_cancel(const char *queue, const char *id)
{
    return change(&cancel_script, queue, id, "waiting", "delayed");
}

int td_job_retry(const char *queue, const char *id)
{
    return change(&retry_script, queue, id, "dead", "waiting");
}

/* Adds hash field value v as a number (unix ms, counts) when it is one. */
static void add_num(cJSON *o, const char *name, const char *v)
{
    if (v != NULL)
        cJSON_AddNumberToObject(o, name, (double)strtoll(v, NULL, 10));
}

/* Adds a JSON text as a tree (a string when it does not parse). */
static void add_json(cJSON *o, const char *name, const char *v)
{
    if (v == NULL)
        return;
    cJSON *t = cJSON_Parse(v);
    if (t == NULL)
        t = cJSON_CreateString(v);
    cJSON_AddItemToObject(o, name, t);
}

int td_job_get(const char *queue, const char *id, cJSON **out)
{
    *out = NULL;
    if (!td_job_queue_valid(queue) || !td_job_id_valid(id))
        return TD_EINVAL;
    char k[KEY_MAX];
    if (job_key(k, queue, id) != TD_OK)
        return TD_EINVAL;
    const char *keys[] = {k};
    td_reply *r;
    int rc = td_redis_eval(&get_script, 1, keys, 0, NULL, &r);
    if (rc != TD_OK)
        return rc;
    if (r->type != TD_REPLY_ARRAY || r->n == 0) {
        td_reply_free(r);
        return TD_ENOTFOUND;
    }
    static const char *const fields[] = {
        "state",        "payload", "attempts",    "max_attempts", "priority", "progress",
        "progress_msg", "result",  "last_error",  "errors",       "created",  "started",
        "finished",     "owner",   "lease_until", "schedule",     "due"};
    enum { NFIELDS = sizeof fields / sizeof fields[0] };
    const char *v[NFIELDS] = {0};
    for (size_t i = 0; i + 1 < r->n; i += 2)
        for (int f = 0; f < NFIELDS; f++)
            if (r->elem[i].type == TD_REPLY_STR && strcmp(r->elem[i].str, fields[f]) == 0 &&
                r->elem[i + 1].type == TD_REPLY_STR)
                v[f] = r->elem[i + 1].str;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        td_reply_free(r);
        return TD_ENOMEM;
    }
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "queue", queue);
    cJSON_AddStringToObject(o, "state", v[0] != NULL ? v[0] : "unknown");
    add_json(o, "payload", v[1]);
    add_num(o, "attempts", v[2]);
    add_num(o, "maxAttempts", v[3]);
    add_num(o, "priority", v[4]);
    add_num(o, "progress", v[5]);
    if (v[6] != NULL)
        cJSON_AddStringToObject(o, "progressMessage", v[6]);
    add_json(o, "result", v[7]);
    if (v[8] != NULL)
        cJSON_AddStringToObject(o, "lastError", v[8]);
    if (v[9] != NULL)
        add_json(o, "errors", v[9]);
    else
        cJSON_AddItemToObject(o, "errors", cJSON_CreateArray());
    add_num(o, "createdAt", v[10]);
    add_num(o, "startedAt", v[11]);
    add_num(o, "finishedAt", v[12]);
    if (v[13] != NULL)
        cJSON_AddStringToObject(o, "leaseOwner", v[13]);
    add_num(o, "leaseUntil", v[14]);
    if (v[15] != NULL)
        cJSON_AddStringToObject(o, "schedule", v[15]);
    add_num(o, "dueAt", v[16]);
    td_reply_free(r);
    *out = o;
    return TD_OK;
}

int td_job_list(const char *queue, td_job_state state, int offset, int limit, cJSON **out)
{
    *out = NULL;
    if (!td_job_queue_valid(queue) || state < 0 || state >= TD_JOB_NSTATES || offset < 0 ||
        limit < 1 || limit > TD_JOB_LIST_MAX)
        return TD_EINVAL;
    char k[TD_JOB_NSTATES][KEY_MAX], which[NUM_LEN], off[NUM_LEN], lim[NUM_LEN];
    const char *keys[TD_JOB_NSTATES];
    for (int i = 0; i < TD_JOB_NSTATES; i++) {
        if (set_key(k[i], queue, state_names[i]) != TD_OK)
            return TD_EINVAL;
        keys[i] = k[i];
    }
    num(which, state + 1);
    num(off, offset);
    num(lim, limit);
    const char *args[] = {which, off, lim};
    td_reply *r;
    int rc = td_redis_eval(&list_script, TD_JOB_NSTATES, keys, 3, args, &r);
    if (rc != TD_OK)
        return rc;
    if (r->type != TD_REPLY_ARRAY || r->n != 2 || r->elem[0].type != TD_REPLY_ARRAY ||
        r->elem[0].n != TD_JOB_NSTATES) {
        td_reply_free(r);
        return TD_EIO;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(o, "ids");
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    if (o == NULL || ids == NULL || counts == NULL) {
        cJSON_Delete(o);
        td_reply_free(r);
        return TD_ENOMEM;
    }
    for (int i = 0; i < TD_JOB_NSTATES; i++)
        cJSON_AddNumberToObject(counts, state_names[i], (double)reply_int(&r->elem[0].elem[i], 0));
    cJSON_AddNumberToObject(o, "total", (double)reply_int(&r->elem[0].elem[state], 0));
    const td_reply *l = &r->elem[1];
    for (size_t i = 0; l->type == TD_REPLY_ARRAY && i < l->n; i++)
        if (l->elem[i].type == TD_REPLY_STR)
            cJSON_AddItemToArray(ids, cJSON_CreateString(l->elem[i].str));
    td_reply_free(r);
    *out = o;
    return TD_OK;
}

int td_job_queues(cJSON **out)
{
    *out = NULL;
    const char *keys[] = {QUEUES_KEY};
    td_reply *r;
    int rc = td_redis_eval(&queues_script, 1, keys, 0, NULL, &r);
    if (rc != TD_OK)
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && r->type == TD_REPLY_ARRAY && i < r->n; i++)
        if (r->elem[i].type == TD_REPLY_STR)
            cJSON_AddItemToArray(a, cJSON_CreateString(r->elem[i].str));
    td_reply_free(r);
    if (a == NULL)
        return TD_ENOMEM;
    *out = a;
    return TD_OK;
}

/* ---- The dispatcher -------------------------------------------------------------- */

#define TAKE_BATCH 32             /* jobs taken per script run at most */
#define IDLE_MIN_MS 1             /* poll interval right after a job was seen */
#define IDLE_MAX_MS 25            /* poll interval of an idle queue */
#define STALLED_CHECK_MAX_MS 5000 /* stalled check period: lease / 2, at most this */
#define PURGE_EVERY_MS 60000
#define SCHEDULE_TICK_MS 500
#define RENEW_BATCH 64 /* leases renewed per pass */

typedef struct worker_reg {
    char queue[TD_JOB_QUEUE_MAX + 1];
    td_job_fn fn;
    void *arg;
    int concurrency;
    int running;
} worker_reg;

/* One job in flight: owned by the dispatcher's list until its handler has run. */
struct td_job_run {
    td_jobs *r;
    worker_reg *w;
    td_job job;
    int64_t renewed_ms; /* monotonic */
    char *result;
    char error[TD_JOB_MSG_MAX + 1];
    struct _mongoc_client_t *mongo;
    struct td_job_run *next;
};

struct td_jobs {
    char worker_id[TD_JOB_WORKER_MAX];
    td_pool_submit_fn submit;
    void *pool;
    worker_reg workers[TD_JOBS_MAX_WORKERS];
    int nworkers;
    td_scheduler *sched;
    bool bad_schedule;
    int64_t lease_ms;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* the dispatcher waits: a job finished, or stop */
    bool started, stopping;
    int64_t drain_until; /* monotonic, once stopping */
    struct td_job_run *runs;
    int running;
    int64_t done;
    pthread_t thread;
};

int td_jobs_new(td_jobs **out, const char *owner, td_pool_submit_fn submit, void *pool)
{
    static int serial;
    td_jobs *r = calloc(1, sizeof *r);
    if (r == NULL)
        return TD_ENOMEM;
    char host[64] = "host";
    TD_IGNORE(gethostname(host, sizeof host - 1)); /* "host" when it cannot say */
    /* a cut worker id could be another process's: the leases' fencing needs it whole */
    if (td_fmt(r->worker_id, sizeof r->worker_id, "%s@%s:%d.%d", owner, host, (int)getpid(),
               __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED)) != TD_OK) {
        td_error("jobs: the worker id of %s on %s is over %d bytes", owner, host,
                 TD_JOB_WORKER_MAX - 1);
        free(r);
        return TD_EINVAL;
    }
    r->submit = submit;
    r->pool = pool;
    r->lease_ms = TD_JOB_LEASE_MS;
    if (pthread_mutex_init(&r->mu, NULL) != 0 || pthread_cond_init(&r->cv, NULL) != 0) {
        /* zeroed (not yet initialised) is glibc's static initialiser: destroyable */
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return TD_ENOMEM;
    }
    *out = r;
    return TD_OK;
}

int td_jobs_add_worker(td_jobs *r, const char *queue, td_job_fn fn, void *arg, int concurrency)
{
    if (r->started || r->nworkers == TD_JOBS_MAX_WORKERS || !td_job_queue_valid(queue) ||
        fn == NULL || concurrency < 1 || concurrency > TD_JOBS_MAX_CONCURRENCY)
        return TD_EINVAL;
    worker_reg *w = &r->workers[r->nworkers++];
    TD_IGNORE(td_fmt(w->queue, sizeof w->queue, "%s", queue)); /* fits: a valid queue name */
    w->fn = fn;
    w->arg = arg;
    w->concurrency = concurrency;
    return TD_OK;
}

int td_jobs_add_schedule(td_jobs *r, const char *name, const char *cron_expr, const char *queue,
                         int catch_up)
{
    char err[TD_SCHEDULE_ERR_MAX];
    int rc = r->started ? TD_EINVAL : TD_OK;
    if (rc == TD_OK && r->sched == NULL)
        rc = td_scheduler_new(&r->sched);
    if (rc == TD_OK)
        rc = td_scheduler_add(r->sched, name, cron_expr, queue, (td_catch_up)catch_up, err);
    else
        td_fmt_text(err, sizeof err, "schedule %s: cannot be added (%s)", name, td_strerror(rc));
    if (rc != TD_OK) {
        td_error("%s", err);
        r->bad_schedule = true;
    }
    return rc;
}

void td_jobs_set_lease(td_jobs *r, int64_t lease_ms)
{
    r->lease_ms = lease_ms > 0 ? lease_ms : TD_JOB_LEASE_MS;
}

int64_t td_jobs_done_count(const td_jobs *r)
{
    return __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
}

int td_job_progress(td_job_ctx *ctx, int pct, const char *msg)
{
    return td_job_set_progress(ctx->job, pct, msg);
}

int td_job_set_result(td_job_ctx *ctx, const char *json)
{
    char *copy = json != NULL ? strdup(json) : NULL;
    if (json != NULL && copy == NULL)
        return TD_ENOMEM;
    free(ctx->run->result);
    ctx->run->result = copy;
    return TD_OK;
}

void td_job_set_error(td_job_ctx *ctx, const char *msg)
{
    cut(msg, ctx->run->error);
}

struct _mongoc_client_t *td_job_mongo(td_job_ctx *ctx)
{
    if (ctx->run->mongo == NULL && td_mongo_reachable())
        ctx->run->mongo = td_mongo_pop();
    return ctx->run->mongo;
}

/* Takes run off the dispatcher's list and frees it (its handler has run). */
static void run_done(struct td_job_run *run)
{
    td_jobs *r = run->r;
    pthread_mutex_lock(&r->mu);
    for (struct td_job_run **p = &r->runs; *p != NULL; p = &(*p)->next)
        if (*p == run) {
            *p = run->next;
            break;
        }
    run->w->running--;
    r->running--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    free(run->job.payload);
    free(run->result);
    free(run);
}

/* On a pool thread: runs one job's handler, then completes or fails the job. A
 * result that cannot be stored (Redis down, lease lost) is logged: the job runs
 * again after its lease, which handlers must allow (idempotent by job id). */
static void run_job(void *arg)
{
    struct td_job_run *run = arg;
    td_job_ctx ctx = {.job = &run->job, .arg = run->w->arg, .run = run};
    int rc = run->w->fn(&ctx);
    if (run->mongo != NULL)
        td_mongo_push(run->mongo);
    run->mongo = NULL;
    int frc;
    if (rc == TD_OK) {
        frc = td_job_complete(&run->job, run->result);
    } else {
        const char *msg = run->error[0] != '\0' ? run->error : td_strerror(rc);
        td_job_state st = TD_JOB_DELAYED;
        frc = td_job_fail(&run->job, msg, &st);
        if (frc == TD_OK)
            td_log(st == TD_JOB_DEAD ? TD_LOG_ERROR : TD_LOG_WARN, NULL,
                   "job %s:%s attempt %d/%d failed: %s%s", run->job.queue, run->job.id,
                   run->job.attempt, run->job.max_attempts, msg,
                   st == TD_JOB_DEAD ? " (dead: no attempt left)" : "");
    }
    if (frc == TD_ECONFLICT)
        td_warn("job %s:%s attempt %d: its lease was lost; outcome not recorded", run->job.queue,
                run->job.id, run->job.attempt);
    else if (frc != TD_OK)
        td_warn("job %s:%s attempt %d: outcome not recorded (%s); it runs again after its lease",
                run->job.queue, run->job.id, run->job.attempt, td_strerror(frc));
    __atomic_add_fetch(&run->r->done, 1, __ATOMIC_ACQ_REL);
    run_done(run);
}

/* Takes what the workers have room for and hands it to the pool; the number taken. */
static int take_some(td_jobs *r)
{
    int taken = 0;
    for (int i = 0; i < r->nworkers; i++) {
        worker_reg *w = &r->workers[i];
        pthread_mutex_lock(&r->mu);
        int room = w->concurrency - w->running;
        pthread_mutex_unlock(&r->mu);
        if (room <= 0)
            continue;
        td_job *jobs;
        int n;
        int rc = td_job_take(w->queue, r->worker_id, r->lease_ms,
                             room < TAKE_BATCH ? room : TAKE_BATCH, &jobs, &n);
        if (rc != TD_OK)
            continue; /* Redis down: polled again */
        for (int j = 0; j < n; j++) {
            struct td_job_run *run = calloc(1, sizeof *run);
            if (run == NULL) {
                free(jobs[j].payload); /* its lease hands it back */
                continue;
            }
            run->r = r;
            run->w = w;
            run->job = jobs[j];
            run->renewed_ms = td_mono_ms();
            pthread_mutex_lock(&r->mu);
            run->next = r->runs;
            r->runs = run;
            w->running++;
            r->running++;
            pthread_mutex_unlock(&r->mu);
            if (r->submit(r->pool, run_job, run) != 0) {
                td_warn("job %s:%s: no worker to run it; it runs again after its lease", w->queue,
                        run->job.id);
                run_done(run);
                continue;
            }
            taken++;
        }
        free(jobs); /* the payloads went to the runs */
    }
    return taken;
}

/* Renews the leases due for it (a third of the lease since the last renewal). */
static void renew_due(td_jobs *r)
{
    td_job batch[RENEW_BATCH];
    int n = 0;
    int64_t now = td_mono_ms();
    pthread_mutex_lock(&r->mu);
    for (struct td_job_run *run = r->runs; run != NULL && n < RENEW_BATCH; run = run->next)
        if (now - run->renewed_ms >= r->lease_ms / 3) {
            batch[n] = run->job;
            batch[n++].payload = NULL;
            run->renewed_ms = now;
        }
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < n; i++) {
        int rc = td_job_renew(&batch[i], r->lease_ms);
        if (rc == TD_ECONFLICT)
            td_warn("job %s:%s: lease lost while running (taken again elsewhere)", batch[i].queue,
                    batch[i].id);
    }
}

/* Stalled checks and retention for each queue the workers serve. */
static void housekeeping(td_jobs *r, bool purge)
{
    for (int i = 0; i < r->nworkers; i++) {
        int n;
        if (td_jobs_recover_stalled(r->workers[i].queue, &n) != TD_OK)
            continue;
        if (purge && td_jobs_purge(r->workers[i].queue, &n) == TD_OK && n > 0)
            td_info("jobs: %d finished job(s) of queue %s past retention removed", n,
                    r->workers[i].queue);
    }
}

/* Waits on the dispatcher's condition for up to ms (or a finished job, or stop). */
static void wait_ms(td_jobs *r, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    ts.tv_sec += (time_t)(ms / 1000) + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *dispatch_main(void *arg)
{
    td_jobs *r = arg;
    int64_t next_check = 0, next_purge = 0, next_tick = 0, idle = IDLE_MIN_MS;
    int64_t check_every =
        r->lease_ms / 2 < STALLED_CHECK_MAX_MS ? r->lease_ms / 2 : STALLED_CHECK_MAX_MS;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        bool stopping = r->stopping;
        bool drained = r->running == 0 || td_mono_ms() >= r->drain_until;
        pthread_mutex_unlock(&r->mu);
        if (stopping && drained)
            break;
        int64_t now = td_mono_ms();
        if (!stopping && now >= next_check) {
            housekeeping(r, now >= next_purge);
            if (now >= next_purge)
                next_purge = now + PURGE_EVERY_MS;
            next_check = now + check_every;
        }
        if (!stopping && r->sched != NULL && now >= next_tick) {
            int fired;
            TD_IGNORE(td_scheduler_tick(r->sched, td_jobs_now_ms() / 1000, &fired)); /* retried */
            next_tick = now + SCHEDULE_TICK_MS;
        }
        renew_due(r);
        int taken = stopping ? 0 : take_some(r);
        idle = taken > 0 ? IDLE_MIN_MS : (idle * 2 < IDLE_MAX_MS ? idle * 2 : IDLE_MAX_MS);
        if (taken == 0) {
            pthread_mutex_lock(&r->mu);
            if (!r->stopping || r->running > 0)
                wait_ms(r, idle);
            pthread_mutex_unlock(&r->mu);
        }
    }
    td_redis_thread_done();
    return NULL;
}

int td_jobs_start(td_jobs *r)
{
    if (r->bad_schedule)
        return TD_EINVAL;
    if (r->nworkers == 0 && r->sched == NULL)
        return TD_OK;
    int err = pthread_create(&r->thread, NULL, dispatch_main, r);
    if (err != 0) {
        td_error("cannot start the job dispatcher: %s", strerror(err));
        return TD_EIO;
    }
    r->started = true;
    td_info("jobs: %d worker queue(s), %d schedule(s), worker id %s", r->nworkers,
            r->sched != NULL ? td_scheduler_count(r->sched) : 0, r->worker_id);
    return TD_OK;
}

void td_jobs_stop_taking(td_jobs *r, int64_t drain_ms)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        r->stopping = true;
        r->drain_until = td_mono_ms() + drain_ms;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void td_jobs_stop(td_jobs *r, int64_t drain_ms)
{
    if (r == NULL || !r->started)
        return;
    td_jobs_stop_taking(r, drain_ms);
    pthread_mutex_lock(&r->mu);
    int running = r->running;
    pthread_mutex_unlock(&r->mu);
    if (running > 0)
        td_info("jobs: waiting for %d running job(s)", running);
    (void)pthread_join(r->thread, NULL); /* joinable: cannot fail */
    r->started = false;
    pthread_mutex_lock(&r->mu);
    running = r->running;
    pthread_mutex_unlock(&r->mu);
    if (running > 0)
        td_warn("jobs: %d job(s) still running after the drain; their leases hand them back",
                running);
}

void td_jobs_free(td_jobs *r)
{
    if (r == NULL)
        return;
    td_jobs_stop(r, 0);
    td_scheduler_free(r->sched);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
