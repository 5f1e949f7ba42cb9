/*
 * Cron expressions: the parser of the five fields into bit sets, the next fire time
 * in the local time zone (field by field over the civil calendar, mapped to instants
 * through the zone's UTC offsets, with the daylight saving rules of cron.h), and the
 * process's time zone.
 */
#include "tripdesk/cron.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MINUTE_S INT64_C(60)
#define HOUR_S INT64_C(3600)
#define DAY_S INT64_C(86400)
#define MONTHS 12
#define NAME_LEN 3
#define NUMBER_DIGITS_MAX 4 /* more digits than this is out of range in every field */
#define QUOTE_MAX 24        /* how much of the offending text an error message quotes */
/* The largest backward jump of a zone's clock that td_cron_next looks back over
 * (the fall-back of daylight saving time is 1 hour, 2 in a few zones' history). */
#define DST_SHIFT_MAX_S (3 * HOUR_S)
#define TZ_NAME_MAX 128
#define TZIF_MAGIC "TZif"
#define TZIF_MAGIC_LEN 4

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* What a field accepts: values lo-hi, '*' and n/s running to star_hi, steps up to
 * size, names (names[i] is the value base + i). */
typedef struct {
    const char *name;
    int lo, hi, star_hi, size;
    const char *const *names;
    int names_n, names_base;
    bool question; /* '?' is '*' */
} field_def;

enum { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY };

static const field_def fields[TD_CRON_FIELDS] = {
    {"minute", 0, 59, 59, 60, NULL, 0, 0, false},
    {"hour", 0, 23, 23, 24, NULL, 0, 0, false},
    {"day of month", 1, 31, 31, 31, NULL, 0, 0, true},
    {"month", 1, 12, 12, 12, month_names, MONTHS, 1, false},
    {"day of week", 0, 7, 6, 7, day_names, 7, 0, true},
};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

/* The field being parsed: its text [p, end), its number (0-based) and the error
 * buffer. */
typedef struct {
    const char *p, *start, *end;
    int idx;
    char *err;
} cursor;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Writes "field N (name): <message>" into the error buffer. */
__attribute__((format(printf, 2, 3))) static int field_error(const cursor *cur, const char *fmt,
                                                             ...)
{
    if (cur->err == NULL)
        return TD_EINVAL;
    int n =
        snprintf(cur->err, TD_CRON_ERR_MAX, "field %d (%s): ", cur->idx + 1, fields[cur->idx].name);
    if (n > 0 && n < TD_CRON_ERR_MAX) {
        va_list ap;
        va_start(ap, fmt);
        TD_IGNORE(vsnprintf(cur->err + n, (size_t)(TD_CRON_ERR_MAX - n), fmt, ap)); /* cut */
        va_end(ap);
    }
    return TD_EINVAL;
}

/* A character of the expression as an error message shows it. */
static void describe_char(char c, char buf[16])
{
    if (isprint((unsigned char)c))
        TD_IGNORE(snprintf(buf, 16, "'%c'", c) < 0);
    else
        TD_IGNORE(snprintf(buf, 16, "byte 0x%02x", (unsigned)(unsigned char)c) < 0);
}

/* Reads one value (a number, or a name where the field has names) at cur->p. */
static int parse_value(cursor *cur, int *value)
{
    const field_def *f = &fields[cur->idx];
    const char *s = cur->p;
    const char *e = s;
    if (e < cur->end && isdigit((unsigned char)*e)) {
        long v = 0;
        while (e < cur->end && isdigit((unsigned char)*e)) {
            if (e - s < NUMBER_DIGITS_MAX)
                v = v * 10 + (*e - '0');
            e++;
        }
        int len = (int)(e - s);
        if (len > NUMBER_DIGITS_MAX || v < f->lo || v > f->hi)
            return field_error(cur, "%.*s%s is out of range %d-%d",
                               len < QUOTE_MAX ? len : QUOTE_MAX, s, len > QUOTE_MAX ? "..." : "",
                               f->lo, f->hi);
        *value = (int)v;
        cur->p = e;
        return TD_OK;
    }
    if (e < cur->end && isalpha((unsigned char)*e)) {
        while (e < cur->end && isalpha((unsigned char)*e))
            e++;
        int len = (int)(e - s);
        int shown = len < QUOTE_MAX ? len : QUOTE_MAX;
        if (f->names == NULL)
            return field_error(cur, "'%.*s' is not a number (%d-%d)", shown, s, f->lo, f->hi);
        for (int i = 0; len == NAME_LEN && i < f->names_n; i++)
            if (strncasecmp(s, f->names[i], NAME_LEN) == 0) {
                *value = f->names_base + i;
                cur->p = e;
                return TD_OK;
            }
        return field_error(cur, "unknown name '%.*s' (%s-%s or %d-%d)", shown, s, f->names[0],
                           f->names[f->names_n - 1], f->lo, f->hi);
    }
    if (e >= cur->end)
        return field_error(cur, "a number is missing at the end of \"%.*s\"",
                           (int)(cur->end - cur->start), cur->start);
    char c[16];
    describe_char(*e, c);
    return field_error(cur, "expected a number%s, found %s", f->names ? " or a name" : "", c);
}

/* Reads the step after a '/': 1 to the field's size. */
static int parse_step(cursor *cur, int *step)
{
    const field_def *f = &fields[cur->idx];
    const char *s = cur->p;
    const char *e = s;
    long v = 0;
    while (e < cur->end && isdigit((unsigned char)*e)) {
        if (e - s < NUMBER_DIGITS_MAX)
            v = v * 10 + (*e - '0');
        e++;
    }
    int len = (int)(e - s);
    if (len == 0) {
        if (e >= cur->end)
            return field_error(cur, "a step is missing after '/'");
        char c[16];
        describe_char(*e, c);
        return field_error(cur, "the step after '/' must be a number, found %s", c);
    }
    if (len > NUMBER_DIGITS_MAX || v < 1 || v > f->size)
        return field_error(cur, "step %.*s%s is out of range 1-%d",
                           len < QUOTE_MAX ? len : QUOTE_MAX, s, len > QUOTE_MAX ? "..." : "",
                           f->size);
    *step = (int)v;
    cur->p = e;
    return TD_OK;
}

/* Parses one item of a list (*, n, a-b, each with an optional /s) into bits. */
static int parse_item(cursor *cur, uint64_t *bits)
{
    const field_def *f = &fields[cur->idx];
    int a, b, step = 1, rc;
    bool single = false;
    const char *item = cur->p;
    if (cur->p < cur->end && (*cur->p == '*' || *cur->p == '?')) {
        if (*cur->p == '?' && !f->question)
            return field_error(cur, "'?' is allowed in the day fields only");
        cur->p++;
        a = f->lo;
        b = f->star_hi;
    } else {
        if ((rc = parse_value(cur, &a)) != TD_OK)
            return rc;
        b = a;
        single = true;
        if (cur->p < cur->end && *cur->p == '-') {
            cur->p++;
            if ((rc = parse_value(cur, &b)) != TD_OK)
                return rc;
            single = false;
            if (b < a)
                return field_error(cur, "range %.*s is reversed (%d is after %d)",
                                   (int)(cur->p - item), item, a, b);
        }
    }
    if (cur->p < cur->end && *cur->p == '/') {
        cur->p++;
        if ((rc = parse_step(cur, &step)) != TD_OK)
            return rc;
        if (single) /* n/s: from n to the field's maximum */
            b = a > f->star_hi ? a : f->star_hi;
    }
    for (int v = a; v <= b; v += step)
        *bits |= (uint64_t)1 << v;
    return TD_OK;
}

/* Parses field idx, the text [s, e), into its bit set and flags. */
static int parse_field(int idx, const char *s, const char *e, uint64_t *bits, bool *any, bool *star,
                       char *err)
{
    cursor cur = {s, s, e, idx, err};
    *bits = 0;
    *any = (e - s == 1) && (*s == '*' || *s == '?');
    *star = *s == '*';
    for (;;) {
        if (cur.p < cur.end && *cur.p == ',')
            return field_error(&cur, "empty item in the list \"%.*s\"", (int)(e - s), s);
        int rc = parse_item(&cur, bits);
        if (rc != TD_OK)
            return rc;
        if (cur.p >= cur.end)
            return TD_OK;
        if (*cur.p != ',') {
            char c[16];
            describe_char(*cur.p, c);
            return field_error(&cur, "unexpected %s in \"%.*s\"", c, (int)(e - s), s);
        }
        cur.p++;
        if (cur.p >= cur.end)
            return field_error(&cur, "empty item in the list \"%.*s\"", (int)(e - s), s);
    }
}

/* Writes a message that is about the whole expression into the error buffer. */
__attribute__((format(printf, 2, 3))) static int expr_error(char *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        TD_IGNORE(vsnprintf(err, TD_CRON_ERR_MAX, fmt, ap)); /* cut to the buffer */
        va_end(ap);
    }
    return TD_EINVAL;
}

/* Expands a macro "@name" (the whole expression, blanks around allowed) and parses
 * what it stands for. */
static int parse_macro(const char *s, td_cron *out, char *err)
{
    const char *e = s;
    while (*e != '\0' && !is_blank(*e))
        e++;
    const char *rest = e;
    while (is_blank(*rest))
        rest++;
    int len = (int)(e - s);
    int shown = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
        if (strlen(macros[i].name) != (size_t)len || strncasecmp(macros[i].name, s, len) != 0)
            continue;
        if (*rest != '\0')
            return expr_error(err, "macro %.*s takes no fields after it", shown, s);
        return td_cron_parse(macros[i].expr, out, err);
    }
    return expr_error(err,
                      "unknown macro %.*s (@hourly @daily @midnight @weekly @monthly "
                      "@yearly @annually)",
                      shown, s);
}

int td_cron_parse(const char *expr, td_cron *out, char err[TD_CRON_ERR_MAX])
{
    if (expr == NULL || out == NULL)
        return expr_error(err, "no expression");
    const char *p = expr;
    while (is_blank(*p))
        p++;
    if (*p == '\0')
        return expr_error(err, "empty expression");
    if (*p == '@')
        return parse_macro(p, out, err);
    const char *start[TD_CRON_FIELDS + 1], *end[TD_CRON_FIELDS + 1];
    int n = 0;
    while (*p != '\0') {
        if (n <= TD_CRON_FIELDS)
            start[n] = p;
        while (*p != '\0' && !is_blank(*p))
            p++;
        if (n <= TD_CRON_FIELDS)
            end[n] = p;
        n++;
        while (is_blank(*p))
            p++;
    }
    if (n != TD_CRON_FIELDS)
        return expr_error(err,
                          "expected 5 fields (minute hour day-of-month month day-of-week), "
                          "found %d",
                          n);
    uint64_t bits[TD_CRON_FIELDS];
    bool any[TD_CRON_FIELDS], star[TD_CRON_FIELDS];
    for (int i = 0; i < TD_CRON_FIELDS; i++) {
        int rc = parse_field(i, start[i], end[i], &bits[i], &any[i], &star[i], err);
        if (rc != TD_OK)
            return rc;
    }
    td_cron c = {0};
    c.minutes = bits[F_MINUTE];
    c.hours = (uint32_t)bits[F_HOUR];
    c.mdays = (uint32_t)bits[F_MDAY];
    c.months = (uint16_t)bits[F_MONTH];
    uint64_t wd = bits[F_WDAY];
    c.wdays = (uint8_t)((wd & 0x7f) | ((wd >> 7) & 1)); /* 7 is Sunday, bit 0 */
    c.mday_any = any[F_MDAY];
    c.wday_any = any[F_WDAY];
    c.minute_star = star[F_MINUTE];
    c.hour_star = star[F_HOUR];
    *out = c;
    return TD_OK;
}

/* ---- The civil calendar (proleptic Gregorian, no zone): "wall" seconds ---- */

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse: y-m-d of a day number. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[MONTHS] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Whether day y-m-d matches the day fields (Vixie rule, cron.h). */
static bool day_matches(const td_cron *c, int64_t y, int m, int d)
{
    int64_t z = days_from_civil(y, m, d);
    int wd = (int)(((z + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    bool dom = (c->mdays >> d) & 1u, dow = (c->wdays >> wd) & 1u;
    if (c->mday_any)
        return c->wday_any || dow;
    if (c->wday_any)
        return dom;
    return dom || dow;
}

/* The first set bit at or above from (up to max), or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
    for (int i = from; i <= max; i++)
        if ((bits >> i) & 1u)
            return i;
    return -1;
}

/* The first minute at or after wall time from (minute-aligned wall seconds) that
 * matches every field, stepping month, day, hour, minute; TD_ENOTFOUND past limit. */
static int next_wall_match(const td_cron *c, int64_t from, int64_t limit, int64_t *wall)
{
    int64_t days = floor_div(from, DAY_S), y;
    int64_t sod = from - days * DAY_S;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(sod / HOUR_S), mi = (int)(sod % HOUR_S / MINUTE_S);
    for (;;) {
        if (days_from_civil(y, m, d) * DAY_S > limit)
            return TD_ENOTFOUND;
        if (!((c->months >> m) & 1u) || d > days_in_month(y, m)) {
            if (++m > MONTHS) {
                m = 1;
                y++;
            }
            d = 1;
            h = mi = 0;
            continue;
        }
        if (!day_matches(c, y, m, d)) {
            d++;
            h = mi = 0;
            continue;
        }
        int nh = next_bit(c->hours, h, 23);
        if (nh < 0) {
            d++;
            h = mi = 0;
            continue;
        }
        if (nh != h) {
            h = nh;
            mi = 0;
        }
        int nm = next_bit(c->minutes, mi, 59);
        if (nm < 0) {
            if (++h > 23) {
                d++;
                h = 0;
            }
            mi = 0;
            continue;
        }
        int64_t w = days_from_civil(y, m, d) * DAY_S + h * HOUR_S + nm * MINUTE_S;
        if (w > limit)
            return TD_ENOTFOUND;
        *wall = w;
        return TD_OK;
    }
}

/* ---- Wall times and instants in the local zone ---- */

/* The local zone's UTC offset (seconds east) at instant t. */
static bool offset_at(int64_t t, int64_t *off)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL)
        return false;
    *off = tm.tm_gmtoff;
    return true;
}

/* The first instant in (lo, hi] whose offset is not off_lo, given that lo has off_lo
 * and hi has not: the moment the zone's clock changed. */
static bool offset_change(int64_t lo, int64_t hi, int64_t off_lo, int64_t *at)
{
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2, off;
        if (!offset_at(mid, &off))
            return false;
        if (off == off_lo)
            lo = mid;
        else
            hi = mid;
    }
    *at = hi;
    return true;
}

/* The instants at which wall time w (minute-aligned) fires under c's daylight saving
 * rules (cron.h), earliest first: one, two (the repeated hour, for S/ schedules),
 * the end of the gap (a missing time with a named hour) or none. */
static bool fire_instants(const td_cron *c, int64_t w, int64_t out[2], int *n)
{
    int64_t off_l, off_r, off;
    *n = 0;
    if (!offset_at(w - DAY_S, &off_l) || !offset_at(w + DAY_S, &off_r))
        return false;
    int64_t tl = w - off_l, tr = w - off_r;
    if (!offset_at(tl, &off))
        return false;
    if (off == off_l)
        out[(*n)++] = tl;
    if (off_r != off_l) {
        if (!offset_at(tr, &off))
            return false;
        if (off == off_r)
            out[(*n)++] = tr;
    }
    if (*n == 2) {
        if (out[1] < out[0]) {
            int64_t t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
        if (!(c->minute_star || c->hour_star))
            *n = 1; /* a fixed time fires at its first occurrence only */
        return true;
    }
    if (*n == 0 && off_r > off_l && !c->hour_star) /* in the gap: fire at its end */
        return offset_change(tr, tl, off_l, &out[(*n)++]);
    return true;
}

/* The first fire time after `after` among the wall times from `from` on (up to limit). */
static int first_fire_from(const td_cron *c, int64_t after, int64_t from, int64_t limit,
                           int64_t *next)
{
    for (;;) {
        int64_t w, t[2];
        int n, rc = next_wall_match(c, from, limit, &w);
        if (rc != TD_OK)
            return rc;
        if (!fire_instants(c, w, t, &n))
            return TD_EINVAL;
        for (int i = 0; i < n; i++)
            if (t[i] > after) {
                *next = t[i];
                return TD_OK;
            }
        from = w + MINUTE_S; /* a missing or already passed time: the next one */
    }
}

/* The wall time TD_CRON_SEARCH_YEARS after wall time w (Feb 29 becomes Feb 28). */
static int64_t years_later(int64_t w, int years)
{
    int64_t days = floor_div(w, DAY_S), y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    y += years;
    if (d > days_in_month(y, m))
        d = days_in_month(y, m);
    return days_from_civil(y, m, d) * DAY_S + (w - days * DAY_S);
}

static bool cron_valid(const td_cron *c)
{
    return (c->minutes & ((UINT64_C(1) << 60) - 1)) != 0 && (c->hours & 0xffffffu) != 0 &&
           (c->mdays & 0xfffffffeu) != 0 && (c->months & 0x1ffeu) != 0 && (c->wdays & 0x7fu) != 0;
}

/* The first fire time after after_s. Wall times after the local time of after_s are
 * searched in calendar order; when the clock goes back within DST_SHIFT_MAX_S after
 * after_s, a schedule that fires in both passes may also fire at a wall time not
 * after after_s's but after the change, which a second search from the change finds. */
int td_cron_next(const td_cron *c, int64_t after_s, int64_t *next_s)
{
    if (c == NULL || next_s == NULL || !cron_valid(c) || after_s < 0 || after_s > TD_CRON_AFTER_MAX)
        return TD_EINVAL;
    int64_t off_a;
    if (!offset_at(after_s, &off_a))
        return TD_EINVAL;
    int64_t w0 = after_s + off_a;
    int64_t limit = years_later(w0, TD_CRON_SEARCH_YEARS);
    int64_t best = 0;
    int rc =
        first_fire_from(c, after_s, floor_div(w0, MINUTE_S) * MINUTE_S + MINUTE_S, limit, &best);
    if (rc != TD_OK && rc != TD_ENOTFOUND)
        return rc;
    bool found = rc == TD_OK;
    if (c->minute_star || c->hour_star) {
        int64_t probe = after_s + DST_SHIFT_MAX_S, off_p, change, off_new;
        if (!offset_at(probe, &off_p))
            return TD_EINVAL;
        if (off_p < off_a) {
            if (!offset_change(after_s, probe, off_a, &change) || !offset_at(change, &off_new))
                return TD_EINVAL;
            int64_t from = floor_div(change + off_new + MINUTE_S - 1, MINUTE_S) * MINUTE_S;
            int64_t w, t;
            if (next_wall_match(c, from, w0, &w) == TD_OK) {
                t = w - off_new;
                int64_t off_t;
                if (!offset_at(t, &off_t))
                    return TD_EINVAL;
                if (off_t == off_new && t > after_s && (!found || t < best)) {
                    best = t;
                    found = true;
                }
            }
        }
    }
    if (!found)
        return TD_ENOTFOUND;
    *next_s = best;
    return TD_OK;
}

/* ---- The process's time zone ---- */

static char zone_name[TZ_NAME_MAX + 1] = TD_TIMEZONE_DEFAULT;

/* Whether name is a plausible zone name: "Area/City" characters, no "..", relative. */
static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("/_+-", name[i]) == NULL)
            return false;
    return true;
}

/* Whether path is a regular file that starts as a compiled zone file does. */
static bool zone_file_ok(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    char magic[TZIF_MAGIC_LEN];
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
              memcmp(magic, TZIF_MAGIC, TZIF_MAGIC_LEN) == 0;
    close(fd);
    return ok;
}

int td_timezone_set(const char *name)
{
    if (name == NULL || !zone_name_ok(name))
        return TD_EINVAL;
    char path[sizeof TD_ZONEINFO_DIR + TZ_NAME_MAX + 2];
    TD_IGNORE(snprintf(path, sizeof path, "%s/%s", TD_ZONEINFO_DIR, name) < 0); /* sized */
    if (!zone_file_ok(path))
        return TD_EINVAL;
    /* ":path" makes the C library read exactly the file checked (not TZDIR's). */
    char tz[sizeof path + 1];
    TD_IGNORE(snprintf(tz, sizeof tz, ":%s", path) < 0);
    if (setenv("TZ", tz, 1) != 0)
        return TD_ENOMEM;
    tzset();
    TD_IGNORE(snprintf(zone_name, sizeof zone_name, "%s", name) < 0);
    return TD_OK;
}

int td_timezone_from_env(void)
{
    const char *v = getenv(TD_ENV_TIMEZONE);
    return td_timezone_set(v == NULL || *v == '\0' ? TD_TIMEZONE_DEFAULT : v);
}

const char *td_timezone_name(void)
{
    return zone_name;
}
