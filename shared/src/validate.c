/* Request-body validation helpers. */
#include "tripdesk/validate.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define UNKNOWN_FIELD_SHOWN 64 /* bytes of an unknown field's name in the message */

int td_check_fields(const cJSON *body, const char *const *allowed, td_res *res)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, body)
    {
        bool ok = false;
        for (int i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(item->string, allowed[i]) == 0;
        if (!ok) {
            char msg[160];
            int shown = (int)td_utf8_fit(item->string, UNKNOWN_FIELD_SHOWN);
            /* fits: at most UNKNOWN_FIELD_SHOWN bytes of the name */
            TD_IGNORE(td_fmt(msg, sizeof msg, "Unknown field '%.*s'", shown, item->string));
            td_fail_field(res, item->string, msg);
            return TD_EINVAL;
        }
    }
    return TD_OK;
}

static int missing(td_res *res, const char *name)
{
    char msg[128];
    /* fits: a field name of ours */
    TD_IGNORE(td_fmt(msg, sizeof msg, "%s is required", name));
    td_fail_field(res, name, msg);
    return TD_EINVAL;
}

/* The item, or NULL when absent (JSON null counts as absent). */
static const cJSON *field(const cJSON *body, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    return cJSON_IsNull(v) ? NULL : v;
}

/* Length of the UTF-8 sequence starting at p (at most n bytes there) when it is a
 * well-formed one (RFC 3629: shortest form, no surrogates, at most U+10FFFF), else 0.
 * *cp gets the code point. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) { /* 0xc0, 0xc1: overlong 2-byte forms */
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) { /* 0xf5..: beyond U+10FFFF */
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool td_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_seq(p + i, len - i, &cp);
        if (n == 0 || cp == 0)
            return false;
        i += n;
    }
    return true;
}

bool td_json_text_ok(const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == '\0') /* a C string's terminator sent along */
        len--;
    if (!td_utf8_valid(s, len))
        return false;
    /* Outside strings a backslash is a syntax error the parser reports. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
            return false;
        i++; /* the escaped character, "\\" included */
    }
    return true;
}

static bool is_continuation(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

size_t td_utf8_fit(const char *s, size_t max)
{
    size_t len = strnlen(s, max + 1);
    if (len <= max)
        return len;
    /* s[cut] is the first byte left out: back up while it continues a sequence. */
    size_t cut = max;
    while (cut > 0 && is_continuation(s[cut]))
        cut--;
    return cut;
}

void td_utf8_trim(char *s)
{
    size_t len = strlen(s), lead = len;
    while (lead > 0 && len - lead < 4 && is_continuation(s[lead - 1]))
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (len - (lead - 1) < want)
        s[lead - 1] = '\0';
}

/* Number of UTF-8 characters, or -1 when the bytes are not valid UTF-8 or hold
 * control characters. */
static long utf8_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left > 0) {
        uint32_t cp;
        size_t len = utf8_seq(p, left, &cp);
        if (len == 0 || cp < 0x20 || cp == 0x7f)
            return -1;
        p += len;
        left -= len;
        n++;
    }
    return n;
}

int td_get_str(const cJSON *body, const char *name, bool required, size_t min, size_t max,
               td_res *res, const char **out)
{
    const cJSON *v = field(body, name);
    if (v == NULL)
        return required ? missing(res, name) : TD_OK;
    char msg[160];
    if (!cJSON_IsString(v)) {
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be a string", name));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    const char *s = v->valuestring;
    long n = utf8_chars(s);
    size_t len = strlen(s);
    if (n < 0) {
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s contains invalid characters", name));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    if (len > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))) {
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must not start or end with spaces", name));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    if ((size_t)n < min || (size_t)n > max) {
        /* fits: a field name of ours and two numbers */
        if (min > 0 && n == 0)
            TD_IGNORE(td_fmt(msg, sizeof msg, "%s must not be empty", name));
        else
            TD_IGNORE(
                td_fmt(msg, sizeof msg, "%s must be %zu to %zu characters long", name, min, max));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    *out = s;
    return TD_OK;
}

int td_get_enum(const cJSON *body, const char *name, bool required, const char *const *values,
                td_res *res, const char **out)
{
    const char *s = NULL;
    int rc = td_get_str(body, name, required, 1, 64, res, &s);
    if (rc != TD_OK || s == NULL)
        return rc;
    for (int i = 0; values[i] != NULL; i++)
        if (strcmp(s, values[i]) == 0) {
            *out = s;
            return TD_OK;
        }
    char msg[512];
    /* fits: a field name of ours; a list of values too long for the message ends
     * at the last value that fits */
    TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be one of:", name));
    for (int i = 0; values[i] != NULL; i++) {
        size_t n = strlen(msg);
        if (td_fmt(msg + n, sizeof msg - n, "%s %s", i ? "," : "", values[i]) != TD_OK) {
            msg[n] = '\0';
            break;
        }
    }
    td_fail_field(res, name, msg);
    return TD_EINVAL;
}

bool td_valid_email(const char *s)
{
    size_t len = strlen(s);
    if (len < 3 || len > TD_EMAIL_MAX)
        return false;
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
        return false;
    const char *domain = at + 1;
    const char *dot = strrchr(domain, '.');
    if (dot == NULL || dot == domain || dot[1] == '\0' || strstr(domain, "..") != NULL)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || strchr("()<>,;:\\\"[]", c) != NULL)
            return false;
    }
    return true;
}

bool td_valid_phone(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (strchr("+-() .", *p) == NULL)
            return false;
    }
    return digits >= 6 && digits <= 15 &&
           (s[0] == '+' || isdigit((unsigned char)s[0]) || s[0] == '(');
}

int td_get_email(const cJSON *body, const char *name, bool required, td_res *res, char *buf,
                 bool *present)
{
    const char *s = NULL;
    *present = false;
    int rc = td_get_str(body, name, required, 3, TD_EMAIL_MAX, res, &s);
    if (rc != TD_OK || s == NULL)
        return rc;
    if (!td_valid_email(s)) {
        td_fail_field(res, name, "Enter a valid email address");
        return TD_EINVAL;
    }
    size_t i = 0;
    for (; s[i] != '\0'; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    *present = true;
    return TD_OK;
}

int td_get_bool(const cJSON *body, const char *name, bool required, td_res *res, bool *out,
                bool *present)
{
    const cJSON *v = field(body, name);
    *present = false;
    if (v == NULL)
        return required ? missing(res, name) : TD_OK;
    if (!cJSON_IsBool(v)) {
        char msg[128];
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be true or false", name));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    *out = cJSON_IsTrue(v);
    *present = true;
    return TD_OK;
}

int td_get_number(const cJSON *body, const char *name, bool required, double min, double max,
                  int decimals, td_res *res, double *out, bool *present)
{
    const cJSON *v = field(body, name);
    *present = false;
    if (v == NULL)
        return required ? missing(res, name) : TD_OK;
    char msg[160];
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        /* fits: a field name of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be a number", name));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    double d = v->valuedouble;
    if (d < min || d > max) {
        /* fits: a field name of ours and two numbers */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be between %g and %g", name, min, max));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    double scale = pow(10, decimals);
    if (fabs(d * scale - round(d * scale)) > 1e-6 * scale) {
        /* fits: a field name of ours and a number */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s may have at most %d decimal places", name, decimals));
        td_fail_field(res, name, msg);
        return TD_EINVAL;
    }
    *out = d;
    *present = true;
    return TD_OK;
}

int td_get_int(const cJSON *body, const char *name, bool required, long long min, long long max,
               td_res *res, long long *out, bool *present)
{
    double d;
    int rc = td_get_number(body, name, required, (double)min, (double)max, 0, res, &d, present);
    if (rc == TD_OK && *present)
        *out = (long long)d;
    return rc;
}
