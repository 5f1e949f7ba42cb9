/*
 * Brute-force protection of sign-in and registration. Sign-in attempts are counted
 * per account and per client IP over THROTTLE_WINDOW_S, and counted *before* the
 * password is checked: each attempt takes a slot with one atomic INCR, so parallel
 * attempts cannot all pass a check made before any of them failed; a success gives
 * its slots back (the account's counter is reset, the IP's decremented). Past the
 * limits the answer is 429 with Retry-After. Registrations are counted per IP the
 * same way. Counters live in Redis (shared by all auth instances); while Redis is
 * down they live in this process, so protection never switches off.
 */
#include "auth.h"

#include "tripdesk/common.h"
#include "tripdesk/redis.h"
#include "tripdesk/validate.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_SLOTS 1024
#define REGISTER_KEY "auth:register:ip:%s"
/* Sized from the inputs: a validated email (TD_EMAIL_MAX) or an IP (civetweb's
 * remote_addr, 48 bytes) after the longest prefix. A key that does not fit is never
 * cut (two long emails would share one counter): the attempt is refused. */
#define THROTTLE_KEY_MAX (sizeof "auth:fail:acct:" + TD_EMAIL_MAX)

typedef struct {
    char key[THROTTLE_KEY_MAX];
    int count;
    int64_t expires_ms;
} local_counter;

static local_counter local[LOCAL_SLOTS];
static pthread_mutex_t local_mu = PTHREAD_MUTEX_INITIALIZER;

/* TD_EINVAL when who is too long for the key (see THROTTLE_KEY_MAX). */
static int key_for(char *buf, size_t len, const char *kind, const char *who)
{
    return td_fmt(buf, len, "auth:fail:%s:%s", kind, who);
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
            TD_IGNORE(td_fmt(slot->key, sizeof slot->key, "%s", key)); /* fits: same size */
            return slot;
        }
        TD_IGNORE(td_fmt(slot->key, sizeof slot->key, "%s", key)); /* fits: same size */
        slot->count = 0;
        slot->expires_ms = now + THROTTLE_WINDOW_S * 1000LL;
    }
    return slot;
}

/* Takes one slot of key's counter: *count gets the count with it, *ttl_s the
 * seconds left in its window. Redis first, then the local table. */
static void take(const char *key, long long *count, int *ttl_s)
{
    if (td_redis_incr_ttl(key, THROTTLE_WINDOW_S, count) == TD_OK) {
        long long ttl = THROTTLE_WINDOW_S;
        if (td_redis_ttl(key, &ttl) != TD_OK)
            ttl = THROTTLE_WINDOW_S;
        *ttl_s = (int)ttl;
        return;
    }
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(key, true);
    *count = ++c->count;
    *ttl_s = (int)((c->expires_ms - td_now_ms()) / 1000 + 1);
    pthread_mutex_unlock(&local_mu);
}

/* Gives one slot back (an attempt that turned out not to be a failure). */
static void give_back(const char *key)
{
    if (td_redis_decr_existing(key) == TD_OK)
        return;
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(key, false);
    if (c != NULL && c->count > 0)
        c->count--;
    pthread_mutex_unlock(&local_mu);
}

static void forget(const char *key)
{
    TD_IGNORE(td_redis_del(key)); /* Redis down: the counter still ends with its TTL */
    pthread_mutex_lock(&local_mu);
    local_counter *c = local_find(key, false);
    if (c != NULL)
        c->expires_ms = 0;
    pthread_mutex_unlock(&local_mu);
}

static int refuse(int ttl_s, int *retry_after_s)
{
    *retry_after_s = ttl_s < 1 ? 1 : ttl_s;
    return TD_ECONFLICT;
}

int throttle_take(const char *email, const char *ip, int *retry_after_s)
{
    char k_ip[THROTTLE_KEY_MAX], k_acct[THROTTLE_KEY_MAX];
    if (key_for(k_ip, sizeof k_ip, "ip", ip) != TD_OK ||
        key_for(k_acct, sizeof k_acct, "acct", email) != TD_OK)
        return refuse(THROTTLE_WINDOW_S, retry_after_s); /* uncountable: never unlimited */
    long long n;
    int ttl;
    /* The IP first: a refused IP does not add to the accounts it tries. */
    take(k_ip, &n, &ttl);
    if (n > THROTTLE_IP_MAX)
        return refuse(ttl, retry_after_s);
    take(k_acct, &n, &ttl);
    if (n > THROTTLE_ACCOUNT_MAX)
        return refuse(ttl, retry_after_s);
    return TD_OK;
}

/* After a throttle_take that passed: its keys fitted. */
void throttle_succeeded(const char *email, const char *ip)
{
    char k[THROTTLE_KEY_MAX];
    if (key_for(k, sizeof k, "acct", email) == TD_OK)
        forget(k);
    if (key_for(k, sizeof k, "ip", ip) == TD_OK)
        give_back(k);
}

void throttle_unchecked(const char *email, const char *ip)
{
    char k[THROTTLE_KEY_MAX];
    if (key_for(k, sizeof k, "acct", email) == TD_OK)
        give_back(k);
    if (key_for(k, sizeof k, "ip", ip) == TD_OK)
        give_back(k);
}

int throttle_register(const char *ip, int *retry_after_s)
{
    char k[THROTTLE_KEY_MAX];
    if (td_fmt(k, sizeof k, REGISTER_KEY, ip) != TD_OK)
        return refuse(THROTTLE_WINDOW_S, retry_after_s); /* uncountable: never unlimited */
    long long n;
    int ttl;
    take(k, &n, &ttl);
    return n > auth_cfg.register_ip_max ? refuse(ttl, retry_after_s) : TD_OK;
}
