/* Money in integer minor units: parsing, formatting, the currencies' decimals. */
#include "tripdesk/money.h"

#include "tripdesk/common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MONEY_EPSILON 1e-9

static const char *const zero_decimals[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                            "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                            "VND", "VUV", "XAF", "XOF", "XPF", NULL};
static const char *const three_decimals[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};

static bool listed(const char *const *list, const char *code)
{
    for (int i = 0; code != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], code) == 0)
            return true;
    return false;
}

int td_money_decimals(const char *currency)
{
    if (listed(zero_decimals, currency))
        return 0;
    if (listed(three_decimals, currency))
        return 3;
    return 2;
}

static int64_t pow10i(int n)
{
    int64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

int td_money_parse(const char *text, int decimals, int64_t *minor)
{
    if (text == NULL || decimals < 0 || decimals > 3)
        return TD_EINVAL;
    int64_t major = 0, frac = 0;
    int digits = 0, places = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        major = major * 10 + (*p - '0');
        if (major > TD_MONEY_MAX_MAJOR)
            return TD_EINVAL;
    }
    if (digits == 0)
        return TD_EINVAL;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, places++) {
            if (places >= decimals)
                return TD_EINVAL;
            frac = frac * 10 + (*p - '0');
        }
        if (places == 0)
            return TD_EINVAL; /* "12." */
    }
    if (*p != '\0')
        return TD_EINVAL;
    int64_t scale = pow10i(decimals);
    int64_t v = major * scale + frac * pow10i(decimals - places);
    if (v > TD_MONEY_MAX_MAJOR * scale)
        return TD_EINVAL;
    *minor = v;
    return TD_OK;
}

int td_money_from_double(double v, int decimals, int64_t *minor)
{
    if (decimals < 0 || decimals > 3 || !isfinite(v) || v < 0 || v > (double)TD_MONEY_MAX_MAJOR)
        return TD_EINVAL;
    double scaled = v * (double)pow10i(decimals);
    double r = round(scaled);
    if (fabs(scaled - r) > MONEY_EPSILON * fmax(1.0, fabs(scaled)))
        return TD_EINVAL;
    *minor = (int64_t)r;
    return TD_OK;
}

void td_money_format(int64_t minor, int decimals, char buf[TD_MONEY_TEXT_MAX])
{
    if (decimals < 0 || decimals > 3)
        decimals = 2;
    int64_t scale = pow10i(decimals);
    /* magnitude as unsigned: INT64_MIN has no positive counterpart */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    const char *sign = minor < 0 ? "-" : "";
    /* fits: TD_MONEY_TEXT_MAX holds any int64 with sign, point and NUL */
    if (decimals == 0)
        TD_IGNORE(td_fmt(buf, TD_MONEY_TEXT_MAX, "%s%llu", sign, (unsigned long long)mag));
    else
        TD_IGNORE(td_fmt(buf, TD_MONEY_TEXT_MAX, "%s%llu.%0*llu", sign,
                         (unsigned long long)(mag / (uint64_t)scale), decimals,
                         (unsigned long long)(mag % (uint64_t)scale)));
}

double td_money_to_double(int64_t minor, int decimals)
{
    return (double)minor / (double)pow10i(decimals < 0 || decimals > 3 ? 2 : decimals);
}
