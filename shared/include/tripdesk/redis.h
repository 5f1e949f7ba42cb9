/*
 * Redis through hiredis, degrading: each thread has its own connection with short
 * timeouts; when Redis is down the calls fail fast (TD_EUNAVAIL) without touching
 * the network for a back-off period, and the connection is re-made by itself.
 */
#ifndef TRIPDESK_REDIS_H
#define TRIPDESK_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#define TD_REDIS_TIMEOUT_MS 250  /* connect and command timeout */
#define TD_REDIS_RETRY_MS 1000   /* back-off after a failure */

/* Reads REDIS_URL (redis://host:port[/db]). Call once before any other call. */
int td_redis_init(void);

/* Closes the calling thread's connection (call before a thread exits). */
void td_redis_thread_done(void);

/* GET: on hit *out is a malloc'd NUL-terminated copy (caller frees) and *len its
 * length; TD_ENOTFOUND on a miss; TD_EUNAVAIL when Redis is down. */
int td_redis_get(const char *key, char **out, size_t *len);

/* MGET of n keys in one round trip: vals[i] is a malloc'd copy or NULL when the key
 * is absent (caller frees each). TD_EUNAVAIL when Redis is down (all NULL). */
int td_redis_mget(const char *const *keys, int n, char **vals);

/* SET with a TTL in seconds. */
int td_redis_setex(const char *key, const char *val, size_t len, int ttl_s);

/* DEL one key. */
int td_redis_del(const char *key);

/* Deletes every key matching a glob pattern (SCAN, never KEYS). */
int td_redis_del_pattern(const char *pattern);

/* INCR with expiry on first increment (ttl_s 0: none); *out gets the new value. */
int td_redis_incr_ttl(const char *key, int ttl_s, long long *out);

/* TTL in seconds of a key (TD_ENOTFOUND when absent or without expiry). */
int td_redis_ttl(const char *key, long long *secs);

/* PING: true when Redis answers right now. */
bool td_redis_ping(void);

#endif
