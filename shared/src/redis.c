/* Degrading Redis wrapper: one hiredis context per thread, short timeouts, back-off. */
#include "tripdesk/redis.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char redis_host[256] = "127.0.0.1";
static int redis_port = 6379;
static int redis_db = 0;

static __thread redisContext *tls_ctx;
/* Monotonic ms before which no thread talks to Redis (atomic; 0: Redis answers):
 * set when a connect, or a command on a fresh connection, failed. One back-off for
 * the whole process, a circuit breaker: with Redis stopped or paused only one probe
 * per TD_REDIS_RETRY_MS pays a timeout, instead of every thread on every call. */
static int64_t down_until;
static __thread bool tls_probing; /* this thread probes for the others (see backing_off) */
/* The run_id (INFO server) of the Redis process tls_ctx is connected to: a
 * connection never outlives its server, so it names the data set the connection
 * sees ("" when the server did not tell). */
static __thread char tls_run_id[TD_REDIS_RUN_ID_MAX];

/* Frees a thread's connection when the thread exits, whoever created the thread
 * (civetweb's workers included). */
static pthread_key_t ctx_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void ctx_destroy(void *c)
{
    redisFree(c);
}

static void key_init(void)
{
    /* without the key a thread's connection is only freed by td_redis_thread_done */
    if (pthread_key_create(&ctx_key, ctx_destroy) != 0)
        td_error("redis: no thread key: connections of exiting threads are not freed");
}

int td_redis_init(void)
{
    const char *url = td_env_str(TD_ENV_REDIS_URL, "redis://127.0.0.1:6379");
    const char *p = url;
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    const char *at = strchr(p, '@'); /* credentials are not supported: ignore them */
    if (at != NULL)
        p = at + 1;
    char host[256];
    int port = 6379, db = 0;
    int n = sscanf(p, "%255[^:/]:%d/%d", host, &port, &db);
    if (n < 1) {
        td_error("invalid %s: %s", TD_ENV_REDIS_URL, url);
        return TD_EINVAL;
    }
    TD_IGNORE(td_fmt(redis_host, sizeof redis_host, "%s", host)); /* fits: same size */
    redis_port = port;
    redis_db = db;
    return TD_OK;
}

void td_redis_thread_done(void)
{
    if (tls_ctx != NULL)
        redisFree(tls_ctx);
    tls_ctx = NULL;
    pthread_once(&key_once, key_init);
    TD_IGNORE(pthread_setspecific(ctx_key, NULL)); /* fails only without the key: none set */
}

static void back_off(void)
{
    tls_probing = false;
    __atomic_store_n(&down_until, td_mono_ms() + TD_REDIS_RETRY_MS, __ATOMIC_RELEASE);
}

/* Whether the calling thread must leave Redis alone now. When a back-off has run
 * out, one thread probes (it extends the back-off for the others meanwhile). */
static bool backing_off(void)
{
    int64_t until = __atomic_load_n(&down_until, __ATOMIC_ACQUIRE);
    if (until == 0 || tls_probing)
        return false;
    int64_t now = td_mono_ms();
    if (now < until)
        return true;
    tls_probing = __atomic_compare_exchange_n(&down_until, &until, now + TD_REDIS_RETRY_MS, false,
                                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return !tls_probing; /* the probe ends in answered() or back_off() */
}

/* Redis answered: everyone may use it again. */
static void answered(void)
{
    tls_probing = false;
    if (__atomic_load_n(&down_until, __ATOMIC_ACQUIRE) != 0)
        __atomic_store_n(&down_until, 0, __ATOMIC_RELEASE);
}

static void drop(const char *why)
{
    if (tls_ctx != NULL) {
        td_debug("redis connection dropped: %s", why);
        redisFree(tls_ctx);
        TD_IGNORE(pthread_setspecific(ctx_key, NULL)); /* fails only without the key */
    }
    tls_ctx = NULL;
    tls_run_id[0] = '\0';
}

/* Reads the run_id of the server c is connected to into tls_run_id; false when the
 * server did not answer at all (a paused Redis accepts connections). */
static bool read_run_id(redisContext *c)
{
    tls_run_id[0] = '\0';
    redisReply *r = redisCommand(c, "INFO server");
    const char *at = r != NULL && r->type == REDIS_REPLY_STRING ? strstr(r->str, "run_id:") : NULL;
    if (at != NULL) {
        at += strlen("run_id:");
        size_t n = strspn(at, "0123456789abcdefABCDEF");
        if (n > 0 && n < sizeof tls_run_id) {
            memcpy(tls_run_id, at, n);
            tls_run_id[n] = '\0';
        }
    }
    if (r == NULL)
        return false;
    freeReplyObject(r);
    return true;
}

/* The calling thread's connection, (re)made when needed; NULL during back-off. */
static redisContext *conn(void)
{
    if (backing_off())
        return NULL;
    if (tls_ctx != NULL)
        return tls_ctx;
    struct timeval tv = {0, (suseconds_t)TD_REDIS_TIMEOUT_MS * 1000};
    redisContext *c = redisConnectWithTimeout(redis_host, redis_port, tv);
    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        back_off();
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) { /* without it a command could hang a worker */
        redisFree(c);
        back_off();
        return NULL;
    }
    tls_ctx = c;
    pthread_once(&key_once, key_init);
    /* fails only without the key (logged in key_init): the connection still works */
    TD_IGNORE(pthread_setspecific(ctx_key, c));
    if (redis_db != 0) {
        redisReply *r = redisCommand(c, "SELECT %d", redis_db);
        bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;
        if (r != NULL)
            freeReplyObject(r);
        if (!ok) {
            drop("select failed");
            back_off();
            return NULL;
        }
    }
    if (!read_run_id(c)) {
        drop("no answer to INFO");
        back_off();
        return NULL;
    }
    return tls_ctx;
}

/* Runs a command; NULL (and the connection dropped) when Redis failed. A failure on
 * a connection made earlier (typically: Redis restarted since) is retried once on a
 * fresh connection, so a restart costs no write. */
static redisReply *command(const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = tls_ctx == NULL;
        redisContext *c = conn();
        if (c == NULL)
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(c, fmt, ap);
        va_end(ap);
        if (r == NULL) {
            drop(c->errstr);
            if (fresh) {
                back_off();
                return NULL;
            }
            continue; /* reconnect at once, once */
        }
        answered();
        if (r->type == REDIS_REPLY_ERROR) {
            td_warn("redis error: %s", r->str);
            freeReplyObject(r);
            return NULL;
        }
        return r;
    }
    return NULL;
}

/* Copies a bulk-string reply into a malloc'd NUL-terminated string. */
static int copy_string(const redisReply *r, char **out, size_t *len)
{
    *out = malloc(r->len + 1);
    if (*out == NULL)
        return TD_ENOMEM;
    memcpy(*out, r->str, r->len);
    (*out)[r->len] = '\0';
    if (len != NULL)
        *len = r->len;
    return TD_OK;
}

int td_redis_get(const char *key, char **out, size_t *len)
{
    *out = NULL;
    redisReply *r = command("GET %s", key);
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = r->type == REDIS_REPLY_STRING ? copy_string(r, out, len) : TD_ENOTFOUND;
    freeReplyObject(r);
    return rc;
}

/* Reads the generation, then the entry of that generation, inside Redis. The
 * generation handed back is "<run_id>.<counter>" (ARGV[4]: the server's run_id as
 * the connection learnt it), so entries stored by an earlier run of Redis — brought
 * back by an RDB or AOF that predates writes the counter missed — are never read.
 * When the caller already holds the entry of generation ARGV[3], only whether it
 * still exists comes back (1 or 0), not the entry itself. */
static const char gen_get_script[] =
    "local g = ARGV[4] .. '.' .. (redis.call('GET', KEYS[1]) or '0') "
    "local k = ARGV[1] .. g .. ARGV[2] "
    "if g == ARGV[3] then return {g, redis.call('EXISTS', k)} end "
    "return {g, redis.call('GET', k)}";

int td_redis_get_by_gen(const char *gen_key, const char *prefix, const char *suffix,
                        const char *held_gen, char **gen, char **out, size_t *len)
{
    *gen = NULL;
    *out = NULL;
    redisReply *r = NULL;
    /* The run_id sent must be the one of the server that runs the script: when
     * command() had to reconnect, the answer came from another run; ask again. */
    for (int attempt = 0; attempt < 2 && r == NULL; attempt++) {
        char run[TD_REDIS_RUN_ID_MAX];
        if (conn() == NULL)
            return TD_EUNAVAIL;
        if (tls_run_id[0] == '\0')
            return TD_EUNAVAIL; /* a server that does not say which run it is */
        memcpy(run, tls_run_id, sizeof run);
        r = command("EVAL %s 1 %s %s %s %s %s", gen_get_script, gen_key, prefix, suffix,
                    held_gen != NULL ? held_gen : "", run);
        if (r == NULL)
            return TD_EUNAVAIL;
        if (strcmp(run, tls_run_id) != 0) {
            freeReplyObject(r);
            r = NULL;
        }
    }
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = TD_EIO;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        rc = copy_string(r->element[0], gen, NULL);
        const redisReply *e = r->elements >= 2 ? r->element[1] : NULL;
        bool held = e != NULL && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
        if (rc == TD_OK && e != NULL && e->type == REDIS_REPLY_STRING)
            rc = copy_string(e, out, len);
        else if (rc == TD_OK && !held) /* with held: TD_OK, *out stays NULL */
            rc = TD_ENOTFOUND;
    }
    freeReplyObject(r);
    if (rc != TD_OK && rc != TD_ENOTFOUND) {
        free(*gen);
        *gen = NULL;
    }
    return rc;
}

int td_redis_stream_add(const char *key, int64_t keep_ms, const char *value)
{
    char minid[32];
    /* fits: one 64-bit number */
    TD_IGNORE(td_fmt(minid, sizeof minid, "%lld", (long long)(td_now_ms() - keep_ms)));
    redisReply *r = command("XADD %s MINID ~ %s * v %s", key, minid, value);
    if (r == NULL)
        return TD_EUNAVAIL;
    freeReplyObject(r);
    return TD_OK;
}

/* The stream's entries after ARGV[1] (an exclusive XRANGE start) with the marker. */
static const char stream_read_script[] =
    "return {redis.call('GET', KEYS[1]), "
    "redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])}";

int td_redis_stream_read(const char *marker_key, const char *key, char last_id[TD_STREAM_ID_LEN],
                         int count, char **marker, td_stream_fn fn, void *arg, int *n)
{
    *marker = NULL;
    *n = 0;
    char start[TD_STREAM_ID_LEN + 1], cnt[16];
    /* fit: last_id is a string of a buffer one byte shorter, count one int */
    TD_IGNORE(td_fmt(start, sizeof start, last_id[0] == '\0' ? "-%s" : "(%s", last_id));
    TD_IGNORE(td_fmt(cnt, sizeof cnt, "%d", count));
    redisReply *r =
        command("EVAL %s 2 %s %s %s %s", stream_read_script, marker_key, key, start, cnt);
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = TD_OK;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        rc = TD_EIO;
    } else {
        if (r->element[0]->type == REDIS_REPLY_STRING)
            rc = copy_string(r->element[0], marker, NULL);
        const redisReply *entries = r->element[1];
        for (size_t i = 0;
             rc == TD_OK && entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
                e->element[0]->type != REDIS_REPLY_STRING ||
                e->element[1]->type != REDIS_REPLY_ARRAY)
                continue;
            const redisReply *fields = e->element[1];
            for (size_t f = 0; f + 1 < fields->elements; f += 2)
                if (fields->element[f + 1]->type == REDIS_REPLY_STRING)
                    fn(fields->element[f + 1]->str, arg);
            /* fits: a stream id is two 64-bit numbers, at most 41 characters */
            TD_IGNORE(td_fmt(last_id, TD_STREAM_ID_LEN, "%s", e->element[0]->str));
            (*n)++;
        }
    }
    freeReplyObject(r);
    return rc;
}

int td_redis_set(const char *key, const char *val, bool only_new)
{
    redisReply *r = only_new ? command("SET %s %s NX", key, val) : command("SET %s %s", key, val);
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = r->type == REDIS_REPLY_NIL ? TD_ECONFLICT : TD_OK;
    freeReplyObject(r);
    return rc;
}

int td_redis_mget(const char *const *keys, int n, char **vals)
{
    const char *argv[16];
    size_t lens[16];
    for (int i = 0; i < n; i++)
        vals[i] = NULL;
    if (n < 1 || n > 15)
        return TD_EINVAL;
    argv[0] = "MGET";
    lens[0] = 4;
    for (int i = 0; i < n; i++) {
        argv[i + 1] = keys[i];
        lens[i + 1] = strlen(keys[i]);
    }
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2 && r == NULL; attempt++) {
        bool fresh = tls_ctx == NULL;
        redisContext *c = conn();
        if (c == NULL)
            return TD_EUNAVAIL;
        r = redisCommandArgv(c, n + 1, argv, lens);
        if (r == NULL) {
            drop(c->errstr);
            if (fresh) {
                back_off();
                return TD_EUNAVAIL;
            }
        } else {
            answered();
        }
    }
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = TD_OK;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)n) {
        rc = TD_EIO;
    } else {
        for (int i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            if (e->type == REDIS_REPLY_STRING) {
                vals[i] = malloc(e->len + 1);
                if (vals[i] != NULL) {
                    memcpy(vals[i], e->str, e->len);
                    vals[i][e->len] = '\0';
                }
            }
        }
    }
    freeReplyObject(r);
    return rc;
}

int td_redis_setex(const char *key, const char *val, size_t len, int ttl_s)
{
    redisReply *r = command("SET %s %b EX %d", key, val, len, ttl_s);
    if (r == NULL)
        return TD_EUNAVAIL;
    freeReplyObject(r);
    return TD_OK;
}

int td_redis_del(const char *key)
{
    redisReply *r = command("DEL %s", key);
    if (r == NULL)
        return TD_EUNAVAIL;
    freeReplyObject(r);
    return TD_OK;
}

int td_redis_incr_ttl(const char *key, int ttl_s, long long *out)
{
    redisReply *r = command("INCR %s", key);
    if (r == NULL)
        return TD_EUNAVAIL;
    *out = r->integer;
    freeReplyObject(r);
    if (*out == 1 && ttl_s > 0) {
        r = command("EXPIRE %s %d", key, ttl_s);
        if (r == NULL)
            return TD_EUNAVAIL;
        freeReplyObject(r);
    }
    return TD_OK;
}

int td_redis_decr_existing(const char *key)
{
    /* DECR alone would create a key without expiry when the window just ended. */
    redisReply *r = command("EVAL %s 1 %s",
                            "if redis.call('EXISTS', KEYS[1]) == 1 then "
                            "return redis.call('DECR', KEYS[1]) end return 0",
                            key);
    if (r == NULL)
        return TD_EUNAVAIL;
    freeReplyObject(r);
    return TD_OK;
}

int td_redis_ttl(const char *key, long long *secs)
{
    redisReply *r = command("TTL %s", key);
    if (r == NULL)
        return TD_EUNAVAIL;
    *secs = r->integer;
    freeReplyObject(r);
    return *secs > 0 ? TD_OK : TD_ENOTFOUND;
}

bool td_redis_ping(void)
{
    redisReply *r = command("PING");
    if (r == NULL)
        return false;
    freeReplyObject(r);
    return true;
}

/* ---- Lua scripts ---------------------------------------------------------------- */

/* Guards every td_redis_script's sha (learnt once, read by every thread). */
static pthread_mutex_t script_mu = PTHREAD_MUTEX_INITIALIZER;

/* Frees what reply node r holds (not r itself). */
static void reply_clear(td_reply *r)
{
    for (size_t i = 0; i < r->n; i++)
        reply_clear(&r->elem[i]);
    free(r->elem);
    free(r->str);
}

void td_reply_free(td_reply *r)
{
    if (r == NULL)
        return;
    reply_clear(r);
    free(r);
}

/* Copies hiredis reply in into node out (zeroed); TD_ENOMEM on a failed malloc. */
static int reply_copy(const redisReply *in, td_reply *out)
{
    switch (in->type) {
    case REDIS_REPLY_INTEGER:
        out->type = TD_REPLY_INT;
        out->integer = in->integer;
        return TD_OK;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: out->type = TD_REPLY_STR; return copy_string(in, &out->str, &out->len);
    case REDIS_REPLY_ARRAY:
        out->type = TD_REPLY_ARRAY;
        if (in->elements == 0)
            return TD_OK;
        out->elem = calloc(in->elements, sizeof *out->elem);
        if (out->elem == NULL)
            return TD_ENOMEM;
        out->n = in->elements;
        for (size_t i = 0; i < in->elements; i++) {
            int rc = reply_copy(in->element[i], &out->elem[i]);
            if (rc != TD_OK)
                return rc;
        }
        return TD_OK;
    default: out->type = TD_REPLY_NIL; return TD_OK;
    }
}

/* Runs one command given as argv through the calling thread's connection with the
 * same retry and circuit breaker as command(), but hands back error replies too
 * (the caller tells NOSCRIPT from other errors). NULL when Redis is unreachable. */
static redisReply *command_argv(int argc, const char **argv, const size_t *lens)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = tls_ctx == NULL;
        redisContext *c = conn();
        if (c == NULL)
            return NULL;
        redisReply *r = redisCommandArgv(c, argc, argv, lens);
        if (r != NULL) {
            answered();
            return r;
        }
        drop(c->errstr);
        if (fresh) {
            back_off();
            return NULL;
        }
    }
    return NULL;
}

/* Learns s's SHA1 with SCRIPT LOAD (once per process: the SHA is the same on every
 * server). False when Redis did not answer with one. */
static bool script_sha(td_redis_script *s, char sha[TD_REDIS_SHA_LEN])
{
    pthread_mutex_lock(&script_mu);
    memcpy(sha, s->sha, TD_REDIS_SHA_LEN);
    pthread_mutex_unlock(&script_mu);
    if (sha[0] != '\0')
        return true;
    const char *argv[] = {"SCRIPT", "LOAD", s->src};
    size_t lens[] = {6, 4, strlen(s->src)};
    redisReply *r = command_argv(3, argv, lens);
    bool ok = r != NULL && r->type == REDIS_REPLY_STRING && r->len == TD_REDIS_SHA_LEN - 1;
    if (ok) {
        memcpy(sha, r->str, r->len);
        sha[r->len] = '\0';
        pthread_mutex_lock(&script_mu);
        memcpy(s->sha, sha, TD_REDIS_SHA_LEN);
        pthread_mutex_unlock(&script_mu);
    } else if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        td_warn("redis script load failed: %s", r->str);
    }
    if (r != NULL)
        freeReplyObject(r);
    return ok;
}

int td_redis_eval(td_redis_script *s, int nkeys, const char *const *keys, int nargs,
                  const char *const *args, td_reply **out)
{
    *out = NULL;
    if (nkeys < 0 || nargs < 0 || nkeys + nargs > TD_REDIS_EVAL_MAX_ARGS)
        return TD_EINVAL;
    char sha[TD_REDIS_SHA_LEN];
    if (!script_sha(s, sha))
        return TD_EUNAVAIL;
    const char *argv[TD_REDIS_EVAL_MAX_ARGS + 3];
    size_t lens[TD_REDIS_EVAL_MAX_ARGS + 3];
    char nk[16];
    TD_IGNORE(td_fmt(nk, sizeof nk, "%d", nkeys)); /* fits: 0..TD_REDIS_EVAL_MAX_ARGS */
    argv[0] = "EVALSHA";
    argv[1] = sha;
    argv[2] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];
    int argc = 3 + nkeys + nargs;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = command_argv(argc, argv, lens);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL"; /* runs it and loads it again */
        lens[0] = 4;
        argv[1] = s->src;
        lens[1] = strlen(s->src);
        r = command_argv(argc, argv, lens);
    }
    if (r == NULL)
        return TD_EUNAVAIL;
    int rc = TD_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        td_warn("redis script error: %s", r->str);
        rc = TD_EIO;
    } else {
        td_reply *t = calloc(1, sizeof *t);
        rc = t == NULL ? TD_ENOMEM : reply_copy(r, t);
        if (rc == TD_OK)
            *out = t;
        else
            td_reply_free(t);
    }
    freeReplyObject(r);
    return rc;
}
