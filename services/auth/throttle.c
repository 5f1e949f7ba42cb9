/*
 * Brute-force protection of sign-in: failed attempts are counted per account and
 * per client IP over THROTTLE_WINDOW_S; past the limits sign-in answers 429 with
 * Retry-After. Counters live in Redis (shared by all auth instances); while Redis
 * is down they live in this process, so protection never switches off.
 */
#include "auth.h"

#include "tripdesk/common.h"
#include "tripdesk/redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_SLOTS 1024

typedef struct {
    char key[160];
    int count;
    int64_t expires_ms;
} local_counter;

static local_counter local[LOCAL_SLOTS];
static pthread_mutex_t local_mu = PTHREAD_MUTEX_INITIALIZER;

static void key_for(char *buf, size_t len, const char *kind, const char *who)
{
    snprintf(buf, len, "auth:fail:%s:%s", kind, who);
}

/* The in-process counter for key (created when add), NULL when absent/expired. */
static local_counter *local_find(const char *key, bool add)
{
    int64_t now = td_now_ms();
    unsigned h = 5381;
    for (const char *p = key; *p != '\0'; p++)
        h = h * 33 + (unsigned char)*p;
    local_counter *slot = &local[h % LOCAL_SLOTS];
    if (slot->expires_ms <= now || strcmp(slot->key, key) != 0) {
        if (!add)
            return NULL;
        if (slot->expires_ms > now && slot->count > 0 && strcmp(slot->key, key) != 0) {
            /* Collision with a live counter: keep the larger risk, share the slot. */
            snprintf(slot->key, sizeof slot->key, "%s", key);
            return slot;
        }
        snprintf(slot->key, sizeof slot->key, "%s", key);
        slot->count = 0;
        slot->expires_ms = now + THROTTLE_WINDOW_S * 1000LL;
    }
    return slot;
}

/* Current count and seconds left for key; Redis first, then the local table. */
static int count_of(const char *key, int *ttl_s)
{
    char *val = NULL;
    size_t len = 0;
    int rc = td_redis_get(key, &val, &len);
    if (rc == TD_OK || rc == TD_ENOTFOUND) {
        int n = val != NULL ? atoi(val) : 0;
        free(val);
        long long ttl = THROTTLE_WINDOW_S;
        td_redis_ttl(key, &ttl);
        *ttl_s = (int)ttl;
        return n;
    }
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(key, false);
    int n = c != NULL ? c->count : 0;
    *ttl_s = c != NULL ? (int)((c->expires_ms - td_now_ms()) / 1000 + 1) : 0;
    pthread_mutex_unlock(&local_mu);
    return n;
}

static void bump(const char *key)
{
    long long n;
    if (td_redis_incr_ttl(key, THROTTLE_WINDOW_S, &n) == TD_OK)
        return;
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(key, true);
    c->count++;
    pthread_mutex_unlock(&local_mu);
}

int throttle_check(const char *email, const char *ip, int *retry_after_s)
{
    char k1[160], k2[160];
    key_for(k1, sizeof k1, "acct", email);
    key_for(k2, sizeof k2, "ip", ip);
    int t1, t2;
    int n1 = count_of(k1, &t1), n2 = count_of(k2, &t2);
    if (n1 >= THROTTLE_ACCOUNT_MAX || n2 >= THROTTLE_IP_MAX) {
        *retry_after_s = n1 >= THROTTLE_ACCOUNT_MAX ? t1 : t2;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        return TD_ECONFLICT;
    }
    return TD_OK;
}

void throttle_fail(const char *email, const char *ip)
{
    char k[160];
    key_for(k, sizeof k, "acct", email);
    bump(k);
    key_for(k, sizeof k, "ip", ip);
    bump(k);
}

void throttle_reset(const char *email)
{
    char k[160];
    key_for(k, sizeof k, "acct", email);
    td_redis_del(k);
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(k, false);
    if (c != NULL)
        c->expires_ms = 0;
    pthread_mutex_unlock(&local_mu);
}
