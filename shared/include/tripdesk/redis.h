/*
 * Redis through hiredis, degrading: each thread has its own connection with short
 * timeouts; when Redis is down the calls fail fast (TD_EUNAVAIL) without touching
 * the network for a back-off period, and the connection is re-made by itself.
 */
#ifndef TRIPDESK_REDIS_H
#define TRIPDESK_REDIS_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_REDIS_TIMEOUT_MS 250 /* connect and command timeout */
#define TD_REDIS_RETRY_MS 1000  /* back-off after a failure */
#define TD_REDIS_RUN_ID_MAX 48  /* a server's run_id (40 hex digits) and its NUL */

/* Reads REDIS_URL (redis://host:port[/db]). Call once before any other call. */
TD_MUST_CHECK int td_redis_init(void);

/* Closes the calling thread's connection (call before a thread exits). */
void td_redis_thread_done(void);

/* GET: on hit *out is a malloc'd NUL-terminated copy (caller frees) and *len its
 * length; TD_ENOTFOUND on a miss; TD_EUNAVAIL when Redis is down. */
TD_MUST_CHECK int td_redis_get(const char *key, char **out, size_t *len);

/* MGET of n keys in one round trip: vals[i] is a malloc'd copy or NULL when the key
 * is absent (caller frees each). TD_EUNAVAIL when Redis is down (all NULL). */
TD_MUST_CHECK int td_redis_mget(const char *const *keys, int n, char **vals);

/* A generation-keyed read in one round trip: reads gen_key (absent: "0") into
 * *gen as "<run_id>.<value>" (run_id: the Redis process's, so a restarted Redis
 * never answers with an entry stored before the restart), then the key prefix + gen + suffix into *out / *len (both malloc'd; the
 * caller frees them). TD_ENOTFOUND when that key is absent (*gen still set);
 * TD_EUNAVAIL when Redis is down or did not give its run_id. When held_gen (may be NULL) equals the current
 * generation, the entry is not sent: TD_OK with *out NULL means it still exists
 * (the caller's copy of that generation is current), TD_ENOTFOUND that it is gone. */
TD_MUST_CHECK int td_redis_get_by_gen(const char *gen_key, const char *prefix, const char *suffix,
                                      const char *held_gen, char **gen, char **out, size_t *len);

/* Change streams (how daemons tell each other what they wrote). */
#define TD_STREAM_ID_LEN 48
typedef void (*td_stream_fn)(const char *value, void *arg);

/* XADD of one value to stream key, trimming entries older than keep_ms. */
TD_MUST_CHECK int td_redis_stream_add(const char *key, int64_t keep_ms, const char *value);

/* In one round trip: reads marker_key into *marker (malloc'd; NULL when absent)
 * and up to count entries of stream key after last_id ("" = from the start),
 * calling fn for each value in order and advancing last_id; *n gets the count. */
TD_MUST_CHECK int td_redis_stream_read(const char *marker_key, const char *key,
                                       char last_id[TD_STREAM_ID_LEN], int count, char **marker,
                                       td_stream_fn fn, void *arg, int *n);

/* SET key val (only_new: NX, then TD_ECONFLICT when the key exists). */
TD_MUST_CHECK int td_redis_set(const char *key, const char *val, bool only_new);

/* SET with a TTL in seconds. */
TD_MUST_CHECK int td_redis_setex(const char *key, const char *val, size_t len, int ttl_s);

/* DEL one key. */
TD_MUST_CHECK int td_redis_del(const char *key);

/* INCR with expiry on first increment (ttl_s 0: none); *out gets the new value. */
TD_MUST_CHECK int td_redis_incr_ttl(const char *key, int ttl_s, long long *out);

/* DECR of a key that exists (its expiry kept); nothing when it does not. */
TD_MUST_CHECK int td_redis_decr_existing(const char *key);

/* TTL in seconds of a key (TD_ENOTFOUND when absent or without expiry). */
TD_MUST_CHECK int td_redis_ttl(const char *key, long long *secs);

/* Lua scripts (td_redis_eval): a script is a static td_redis_script naming its
 * source; its SHA1 is learnt from Redis on first use (SCRIPT LOAD) and kept for
 * every thread. Define one as `static td_redis_script s = {.src = "..."};`. */
#define TD_REDIS_SHA_LEN 41 /* 40 hex digits and the NUL */
typedef struct td_redis_script {
    const char *src;
    char sha[TD_REDIS_SHA_LEN]; /* "" until learnt (redis.c guards it) */
} td_redis_script;

/* A parsed reply: nil, an integer, a string (bulk or status, NUL-terminated) or an
 * array of replies. Freed with td_reply_free (the whole tree). */
typedef enum { TD_REPLY_NIL, TD_REPLY_INT, TD_REPLY_STR, TD_REPLY_ARRAY } td_reply_type;
typedef struct td_reply {
    td_reply_type type;
    long long integer;     /* TD_REPLY_INT */
    char *str;             /* TD_REPLY_STR */
    size_t len;            /* its length */
    size_t n;              /* TD_REPLY_ARRAY: elements */
    struct td_reply *elem; /* n replies */
} td_reply;
void td_reply_free(td_reply *r);

/* Runs script s with nkeys keys and nargs arguments (NUL-terminated strings) through
 * the calling thread's connection and the circuit breaker: EVALSHA, and EVAL when
 * the server does not know the script (NOSCRIPT: a restarted or flushed Redis),
 * which loads it again. *out gets the reply (caller frees with td_reply_free).
 * TD_EUNAVAIL when Redis is down; TD_EIO when the script failed (logged);
 * TD_EINVAL beyond TD_REDIS_EVAL_MAX_ARGS keys + arguments. */
#define TD_REDIS_EVAL_MAX_ARGS 32
TD_MUST_CHECK int td_redis_eval(td_redis_script *s, int nkeys, const char *const *keys, int nargs,
                                const char *const *args, td_reply **out);

/* PING: true when Redis answers right now. */
bool td_redis_ping(void);

#endif
