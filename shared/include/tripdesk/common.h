/*
 * Common definitions of the TripDesk shared library: result codes, limits and
 * small utilities (time, ids) every daemon uses.
 */
#ifndef TRIPDESK_COMMON_H
#define TRIPDESK_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_VERSION "0.1.0"

/* Result codes: 0 is success, everything else is negative. */
enum {
    TD_OK = 0,
    TD_ENOMEM = -1,
    TD_EINVAL = -2,     /* bad input */
    TD_ENOTFOUND = -3,  /* no such thing */
    TD_ECONFLICT = -4,  /* unique key or version conflict */
    TD_EUNAVAIL = -5,   /* a dependency (MongoDB, Redis, a peer) is unreachable */
    TD_ETIMEDOUT = -6,
    TD_EMETHOD = -7,    /* path known, method not */
    TD_EIO = -8,        /* any other failure of a dependency */
};

/* Short name of a result code, for logs. */
const char *td_strerror(int rc);

/* Wall-clock time in ms since the epoch; monotonic ms for intervals. */
int64_t td_now_ms(void);

/* FNV-1a of n bytes: the hash of the in-process tables (not for security). */
uint32_t td_hash(const void *data, size_t n);

/* Makes room for one more element in a growable array *v of *cap elements of elem
 * bytes holding n: doubles it when full (first: the first capacity). TD_ENOMEM
 * leaves *v and *cap as they were. */
int td_grow(void **v, size_t *cap, size_t n, size_t elem, size_t first);
int64_t td_mono_ms(void);

/* Formats unix ms as ISO-8601 UTC with milliseconds ("2026-02-14T09:30:00.000Z").
 * buf must hold at least TD_ISO_TIME_LEN bytes. */
#define TD_ISO_TIME_LEN 32
void td_iso_time(int64_t ms, char *buf);

/* Writes a new random 24-hex-digit ObjectId string into buf (25 bytes). */
void td_new_id(char buf[25]);

/* True when s is a 24-hex-digit ObjectId string. */
bool td_is_object_id(const char *s);

/* Sleeps for ms milliseconds. */
void td_sleep_ms(int64_t ms);

#endif
