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

/* On a function that returns a TD_E* result: ignoring it does not compile (the
 * build has -Werror). GCC does not take a (void) cast as a deliberate ignore: write
 * TD_IGNORE(f(...)) with a comment saying why. The response helpers (td_ok,
 * td_fail..., td_res_header) do not carry it: they answer, and return 0. */
#define TD_MUST_CHECK __attribute__((warn_unused_result))
#define TD_IGNORE(call) ((void)!(call))

/* Result codes: 0 is success, everything else is negative. */
enum {
    TD_OK = 0,
    TD_ENOMEM = -1,
    TD_EINVAL = -2,    /* bad input */
    TD_ENOTFOUND = -3, /* no such thing */
    TD_ECONFLICT = -4, /* unique key or version conflict */
    TD_EUNAVAIL = -5,  /* a dependency (MongoDB, Redis, a peer) is unreachable */
    TD_ETIMEDOUT = -6,
    TD_EMETHOD = -7,   /* path known, method not */
    TD_EIO = -8,       /* any other failure of a dependency */
    TD_EDEADLINE = -9, /* the request's deadline passed (see td_deadline_left_ms) */
    TD_EAGAIN = -10,   /* busy right now: retry the request later (td_req_retry_in) */
};

/* Formats into buf of size bytes as snprintf does: TD_OK when the whole result fit,
 * TD_EINVAL when it was truncated or the format failed (buf is then still
 * NUL-terminated; size 0 writes nothing and is always TD_EINVAL, as not even the NUL
 * fits). The one way the code formats into a buffer: a caller whose input
 * can be too long fails on TD_EINVAL; one whose buffer is sized for the content by
 * construction writes TD_IGNORE(td_fmt(...)) with a comment saying why. */
TD_MUST_CHECK int td_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A text for people (a title, a message): formatted like td_fmt, and when too long
 * cut at a character boundary, never inside a UTF-8 sequence. */
void td_fmt_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a result code, for logs. */
const char *td_strerror(int rc);

/* Wall-clock time in ms since the epoch; monotonic ms for intervals. */
int64_t td_now_ms(void);

/* FNV-1a of n bytes: the hash of the in-process tables (not for security). */
uint32_t td_hash(const void *data, size_t n);

/* Makes room for one more element in a growable array *v of *cap elements of elem
 * bytes holding n: doubles it when full (first: the first capacity). TD_ENOMEM
 * leaves *v and *cap as they were. */
TD_MUST_CHECK int td_grow(void **v, size_t *cap, size_t n, size_t elem, size_t first);
int64_t td_mono_ms(void);

/* Request deadlines: unix ms (the envelope's deadline_ms), 0 for none. A service
 * answers by TD_DEADLINE_MARGIN_MS before the deadline, so that its answer still
 * reaches the gateway before the gateway gives up and answers 504 itself. */
#define TD_DEADLINE_MARGIN_MS 200

/* The functions below are the only place deadlines are computed. */

/* The deadline of a request given timeout_ms from now (the gateway's). */
int64_t td_deadline_after(int64_t timeout_ms);

/* Time left for work before deadline_ms, less the margin (<= 0: none left);
 * INT64_MAX when deadline_ms is 0. */
int64_t td_deadline_left_ms(int64_t deadline_ms);

/* The same as a timeout to hand on (a MongoDB maxTimeMS, a parked wait): never
 * below floor_ms. */
int64_t td_deadline_timeout_ms(int64_t deadline_ms, int64_t floor_ms);

/* Time to deadline_ms itself, no margin, never below floor_ms: the gateway's own
 * wait for the answer. INT64_MAX when deadline_ms is 0. */
int64_t td_deadline_until_ms(int64_t deadline_ms, int64_t floor_ms);

/* How long ago deadline_ms passed (<= 0: not yet; 0 when deadline_ms is 0). */
int64_t td_deadline_overdue_ms(int64_t deadline_ms);

/* Whether deadline_ms (not 0) has passed. */
bool td_deadline_passed(int64_t deadline_ms);

/* The deadline of the request the calling thread is handling (0: none, e.g. a
 * periodic task). The service framework sets it around a handler, so that helpers
 * deep in a call (MongoDB options, retry loops) bound their work by it. */
void td_deadline_set(int64_t deadline_ms);
int64_t td_deadline_current(void);

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
