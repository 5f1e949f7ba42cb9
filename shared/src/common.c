/* Result codes, time and id utilities. */
#include "tripdesk/common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

const char *td_strerror(int rc)
{
    switch (rc) {
    case TD_OK: return "ok";
    case TD_ENOMEM: return "out of memory";
    case TD_EINVAL: return "invalid input";
    case TD_ENOTFOUND: return "not found";
    case TD_ECONFLICT: return "conflict";
    case TD_EUNAVAIL: return "dependency unavailable";
    case TD_ETIMEDOUT: return "timed out";
    case TD_EMETHOD: return "method not allowed";
    case TD_EIO: return "i/o error";
    case TD_EDEADLINE: return "deadline exceeded";
    case TD_EAGAIN: return "busy, retry later";
    default: return "unknown error";
    }
}

int td_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (size > 0)
            buf[0] = '\0';
        return TD_EINVAL;
    }
    return (size_t)n < size ? TD_OK : TD_EINVAL;
}

void td_fmt_text(char *buf, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
        return;
    }
    size_t len = (size_t)n < size ? (size_t)n : size - 1;
    /* cut: never inside a UTF-8 sequence (back over its continuation bytes and its
     * lead byte when the sequence is not whole) */
    if ((size_t)n >= size) {
        size_t k = len;
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)buf[k - 1] & 0x80) != 0) {
            unsigned char lead = (unsigned char)buf[k - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (len - (k - 1) < need)
                len = k - 1;
        }
        buf[len] = '\0';
    }
}

uint32_t td_hash(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int64_t td_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t td_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Time from now to margin_ms before deadline_ms, never below floor_ms; INT64_MAX
 * when there is no deadline. Every deadline function below is this one. */
static int64_t remaining_ms(int64_t deadline_ms, int64_t margin_ms, int64_t floor_ms)
{
    if (deadline_ms == 0)
        return INT64_MAX;
    int64_t left = deadline_ms - margin_ms - td_now_ms();
    return left > floor_ms ? left : floor_ms;
}

int64_t td_deadline_after(int64_t timeout_ms)
{
    return td_now_ms() + timeout_ms;
}

int64_t td_deadline_left_ms(int64_t deadline_ms)
{
    return remaining_ms(deadline_ms, TD_DEADLINE_MARGIN_MS, INT64_MIN);
}

int64_t td_deadline_timeout_ms(int64_t deadline_ms, int64_t floor_ms)
{
    return remaining_ms(deadline_ms, TD_DEADLINE_MARGIN_MS, floor_ms);
}

int64_t td_deadline_until_ms(int64_t deadline_ms, int64_t floor_ms)
{
    return remaining_ms(deadline_ms, 0, floor_ms);
}

int64_t td_deadline_overdue_ms(int64_t deadline_ms)
{
    return deadline_ms != 0 ? -remaining_ms(deadline_ms, 0, INT64_MIN) : 0;
}

bool td_deadline_passed(int64_t deadline_ms)
{
    return deadline_ms != 0 && td_deadline_overdue_ms(deadline_ms) >= 0;
}

static __thread int64_t tls_deadline;

void td_deadline_set(int64_t deadline_ms)
{
    tls_deadline = deadline_ms;
}

int64_t td_deadline_current(void)
{
    return tls_deadline;
}

void td_iso_time(int64_t ms, char *buf)
{
    /* Floor division: before the epoch the millisecond part still counts up from the
     * start of its second. */
    int64_t rem = ms % 1000;
    time_t secs = (time_t)(ms / 1000);
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, TD_ISO_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    /* fits: the date and time take at most 24 bytes (a year of 9 digits), the
     * milliseconds 5 more */
    TD_IGNORE(td_fmt(buf + n, TD_ISO_TIME_LEN - n, ".%03dZ", (int)rem));
}

/* ObjectId layout: 4-byte seconds, 5 random bytes per process, 3-byte counter. */
static uint8_t oid_random[5];
static uint32_t oid_counter;
static pthread_once_t oid_once = PTHREAD_ONCE_INIT;

static void oid_init(void)
{
    uint8_t seed[8];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        uint64_t fallback = (uint64_t)td_mono_ms() ^ ((uint64_t)getpid() << 32);
        memcpy(seed, &fallback, sizeof seed);
    }
    memcpy(oid_random, seed, sizeof oid_random);
    oid_counter = (uint32_t)seed[5] << 16 | (uint32_t)seed[6] << 8 | seed[7];
}

void td_new_id(char buf[25])
{
    pthread_once(&oid_once, oid_init);
    uint32_t secs = (uint32_t)(td_now_ms() / 1000);
    uint32_t cnt = __atomic_add_fetch(&oid_counter, 1, __ATOMIC_RELAXED) & 0xffffff;
    uint8_t b[12] = {(uint8_t)(secs >> 24), (uint8_t)(secs >> 16), (uint8_t)(secs >> 8),
                     (uint8_t)secs,         oid_random[0],         oid_random[1],
                     oid_random[2],         oid_random[3],         oid_random[4],
                     (uint8_t)(cnt >> 16),  (uint8_t)(cnt >> 8),   (uint8_t)cnt};
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 12; i++) {
        buf[2 * i] = hex[b[i] >> 4];
        buf[2 * i + 1] = hex[b[i] & 15];
    }
    buf[24] = '\0';
}

bool td_is_object_id(const char *s)
{
    if (s == NULL)
        return false;
    for (int i = 0; i < 24; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return s[24] == '\0';
}

void td_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int td_grow(void **v, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return TD_OK;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(*v, c * elem);
    if (p == NULL)
        return TD_ENOMEM;
    *v = p;
    *cap = c;
    return TD_OK;
}
