/*
 * Cron expressions (the five fields of crontab(5)) and their next fire time in the
 * process's local time zone, for the scheduler of background jobs; and the process's
 * time zone itself, set from an IANA name (TRIPDESK_TIMEZONE).
 *
 * Syntax: "minute hour day-of-month month day-of-week", fields separated by spaces or
 * tabs (leading and trailing blanks are ignored). A field is a comma list of items;
 * an item is '*', a number n, a range a-b, or any of those followed by a step /s:
 * S/s (in these comments S/ stands for an asterisk and a slash, which would end the
 * comment) is every s-th value from the field's minimum, a-b/s every s-th from a to
 * b, n/s every s-th from n to the field's maximum. Ranges are a <= b (no wrap-around).
 * Ranges: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of
 * week 0-7 or SUN-SAT (0 and 7 are both Sunday; the maximum that '*' and n/s run to
 * is 6). Names are the three-letter English ones in any case, usable wherever a
 * number is. Steps run from 1 to the field's size (60, 24, 31, 12, 7). '?' is '*' in
 * the day-of-month and day-of-week fields only. Macros (the whole expression):
 * @hourly "0 * * * *", @daily and @midnight "0 0 * * *", @weekly "0 0 * * 0",
 * @monthly "0 0 1 * *", @yearly and @annually "0 0 1 1 *". Nothing else: no L, W, #,
 * seconds or years fields, no @reboot.
 *
 * Day rule (Vixie cron, cronie): when both day fields are restricted (neither is
 * exactly '*' or '?'), a day matches if EITHER its day of month or its day of week
 * does; when one of them is '*' or '?', only the other counts. A star with a step
 * (S/2) is a restriction here (cronie, which looks at the first character only, takes
 * it as '*').
 *
 * Daylight saving time. Fire times are local wall-clock minutes (second 0).
 *  - Spring forward: a local time that does not exist that day (02:30 in
 *    Europe/London on the last Sunday of March) fires once, at the first instant
 *    after the gap (03:00 local), when the hour field does not begin with '*' (the
 *    hour is named: "30 2 * * *", "S/15 2 * * *", "0 1-3 * * *"); several such times
 *    in one gap make that one fire. When the hour field begins with '*'
 *    ("S/15 * * * *", "30 * * * *", "0 S/2 * * *") the missing times simply do not
 *    occur.
 *  - Fall back: a local time that happens twice fires once, at its first occurrence,
 *    unless the minute or the hour field begins with '*' (every minute, every N
 *    minutes, hourly, every N hours): those run on real time and fire in both passes
 *    of the repeated hour, as cronie does.
 * Zone offsets are assumed to change at most once within any two days (true of every
 * zone in tzdata for these years).
 */
#ifndef TRIPDESK_CRON_H
#define TRIPDESK_CRON_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define TD_CRON_ERR_MAX 160
#define TD_CRON_FIELDS 5
#define TD_CRON_SEARCH_YEARS 5 /* td_cron_next looks this far ahead (in local time) */
/* td_cron_next takes after_s in [0, TD_CRON_AFTER_MAX] (years 1970 to 9000). */
#define TD_CRON_AFTER_MAX 221845392000LL /* 9000-01-01T00:00:00Z */

#define TD_ENV_TIMEZONE "TRIPDESK_TIMEZONE" /* IANA zone of the process, UTC */
#define TD_TIMEZONE_DEFAULT "UTC"
#define TD_ZONEINFO_DIR "/usr/share/zoneinfo"

/* A parsed expression: the set of values of each field as bits. */
typedef struct {
    uint64_t minutes;        /* bit m: minute m (0-59) */
    uint32_t hours;          /* bit h (0-23) */
    uint32_t mdays;          /* bit d (1-31) */
    uint16_t months;         /* bit m (1-12) */
    uint8_t wdays;           /* bit d (0-6, Sunday 0; 7 in the text is Sunday too) */
    bool mday_any, wday_any; /* the field was '*' (or '?'): Vixie rule for dom/dow */
    /* The minute / hour field began with '*' ('*' or S/n): the daylight saving rules
     * above (td_cron_parse sets them). */
    bool minute_star, hour_star;
} td_cron;

/* Parses five fields "min hour dom month dow": '*', numbers, ranges a-b, lists a,b,
 * steps S/n and a-b/n and n/m (from n), month names JAN-DEC and day names SUN-SAT
 * (any case), and the macros @hourly @daily @midnight @weekly @monthly @yearly
 * @annually. TD_EINVAL with a clear message in err (which field, what is wrong:
 * "field 2 (hour): 24 is out of range 0-23") on anything else: empty, 4 or 6 fields,
 * out of range, reversed range, step 0, junk characters, overflow numbers. *out is
 * written only on success; err (which may be NULL) only on failure. */
TD_MUST_CHECK int td_cron_parse(const char *expr, td_cron *out, char err[TD_CRON_ERR_MAX]);

/* The first fire time strictly after after_s (Unix seconds), in the process's local
 * time zone (see td_timezone_set), into *next_s. TD_ENOTFOUND when there is none
 * within 5 years (e.g. "0 0 30 2 *"): no matching local time in the
 * TD_CRON_SEARCH_YEARS years after after_s's local date and time. TD_EINVAL for
 * after_s outside [0, TD_CRON_AFTER_MAX] or a td_cron with a field of no values.
 * *next_s is written only on success. Thread-safe (localtime_r) once the zone is set. */
TD_MUST_CHECK int td_cron_next(const td_cron *c, int64_t after_s, int64_t *next_s);

/* Sets the process's time zone (TZ + tzset) from an IANA name such as
 * "Europe/London" or "UTC"; TD_EINVAL for a name with no zone file under
 * /usr/share/zoneinfo (or containing ".."), leaving the zone unchanged. Call at start
 * (single-threaded). td_timezone_from_env reads TRIPDESK_TIMEZONE (default UTC).
 * A zone file is a regular file starting with the TZif magic (not a directory such
 * as "Europe", not zone.tab); the name is letters, digits and "/_+-" only, and does
 * not start with '/'. */
TD_MUST_CHECK int td_timezone_set(const char *name);
TD_MUST_CHECK int td_timezone_from_env(void);

/* The zone last set by td_timezone_set (TD_TIMEZONE_DEFAULT before any). */
const char *td_timezone_name(void);

#endif
