/* In-process evaluation of list filters and sorts with MongoDB's semantics. */
#include "tripdesk/docmatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Nesting limit for "$and" and for embedded values compared by value, so a hostile
 * document cannot exhaust the stack (MongoDB stores at most 100 levels). */
#define DM_MAX_DEPTH 100

/* Longest literal a "$regex" may unescape to (td_regex_escape writes far less). */
#define DM_MAX_NEEDLE 4096

/* Characters that are regex syntax when not escaped; '-' and '/' are literal. */
#define DM_REGEX_META "^$.|?*+()[]{}"

/* UTF-8 of the two non-ASCII letters PCRE's caseless matching folds onto ASCII. */
#define DM_KELVIN_SIGN "\xe2\x84\xaa" /* U+212A, a case variant of k */
#define DM_LONG_S "\xc5\xbf"          /* U+017F, a case variant of s */

#define DM_SIGN(x) (((x) > 0) - ((x) < 0))

/* Outcome of one condition. DM_BAD: outside the supported subset (or a query MongoDB
 * would reject); td_doc_match reports it as no match, and negations keep it. */
enum { DM_NO = 0, DM_YES = 1, DM_BAD = -1 };

/* MongoDB's canonical type classes; their numeric order is the BSON sort order. */
enum {
    DM_T_MINKEY = -1,
    DM_T_UNDEFINED = 0, /* also an empty array as a sort key */
    DM_T_NULL = 5,      /* also a missing field */
    DM_T_NUMBER = 10,
    DM_T_STRING = 15,
    DM_T_OBJECT = 20,
    DM_T_ARRAY = 25,
    DM_T_BINARY = 30,
    DM_T_OID = 35,
    DM_T_BOOL = 40,
    DM_T_DATE = 45,
    DM_T_TIMESTAMP = 47,
    DM_T_REGEX = 50,
    DM_T_DBPOINTER = 55,
    DM_T_CODE = 60,
    DM_T_CODEWSCOPE = 65,
    DM_T_MAXKEY = 127,
    DM_T_UNKNOWN = 128,
};

/* State of one value comparison: nesting depth, and whether the answer is inexact
 * (a Decimal128 was compared through a double, or the depth limit was hit). */
typedef struct {
    int depth;
    bool inexact;
} dm_cmp;

/* A number as MongoDB compares it: an exact integer or a double. */
typedef struct {
    bool is_int;
    int64_t i;
    double d;
} dm_num;

/* A literal "$regex": the unescaped text and how to compare it. */
typedef struct {
    char needle[DM_MAX_NEEDLE];
    size_t len;
    bool icase;
    const char *pattern; /* as given, for equality with a stored BSON regex */
    const char *flags;
} dm_regex;

typedef enum { DM_OP_GT, DM_OP_GTE, DM_OP_LT, DM_OP_LTE } dm_range_op;

typedef struct {
    dm_range_op op;
    const bson_iter_t *rhs;
} dm_range;

/* The value a filter path leads to: rc is td_doc_find_path's result. */
typedef struct {
    int rc;
    bson_iter_t it;
} dm_at;

/* A sort key: a value, or (has false) null for missing or undefined for []. */
typedef struct {
    bool has;
    int canon;
    bson_iter_t it;
} dm_key;

typedef int (*dm_pred)(const bson_iter_t *v, const void *arg);

static int compare_values(const bson_iter_t *a, const bson_iter_t *b, dm_cmp *c);

static int canon(bson_type_t t)
{
    switch (t) {
    case BSON_TYPE_MINKEY: return DM_T_MINKEY;
    case BSON_TYPE_UNDEFINED: return DM_T_UNDEFINED;
    case BSON_TYPE_NULL: return DM_T_NULL;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DECIMAL128: return DM_T_NUMBER;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return DM_T_STRING;
    case BSON_TYPE_DOCUMENT: return DM_T_OBJECT;
    case BSON_TYPE_ARRAY: return DM_T_ARRAY;
    case BSON_TYPE_BINARY: return DM_T_BINARY;
    case BSON_TYPE_OID: return DM_T_OID;
    case BSON_TYPE_BOOL: return DM_T_BOOL;
    case BSON_TYPE_DATE_TIME: return DM_T_DATE;
    case BSON_TYPE_TIMESTAMP: return DM_T_TIMESTAMP;
    case BSON_TYPE_REGEX: return DM_T_REGEX;
    case BSON_TYPE_DBPOINTER: return DM_T_DBPOINTER;
    case BSON_TYPE_CODE: return DM_T_CODE;
    case BSON_TYPE_CODEWSCOPE: return DM_T_CODEWSCOPE;
    case BSON_TYPE_MAXKEY: return DM_T_MAXKEY;
    default: return DM_T_UNKNOWN;
    }
}

static int canon_of(const bson_iter_t *it)
{
    return canon(bson_iter_type(it));
}

static dm_num num_of(const bson_iter_t *it, dm_cmp *c)
{
    dm_num n = {false, 0, 0.0};
    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
        n.is_int = true;
        n.i = bson_iter_int32(it);
        break;
    case BSON_TYPE_INT64:
        n.is_int = true;
        n.i = bson_iter_int64(it);
        break;
    case BSON_TYPE_DOUBLE: n.d = bson_iter_double(it); break;
    case BSON_TYPE_DECIMAL128: {
        bson_decimal128_t dec;
        char s[BSON_DECIMAL128_STRING];
        if (bson_iter_decimal128(it, &dec)) {
            bson_decimal128_to_string(&dec, s);
            n.d = strtod(s, NULL);
        }
        c->inexact = true;
        break;
    }
    default: c->inexact = true; break;
    }
    return n;
}

static bool num_is_nan(dm_num n)
{
    return !n.is_int && isnan(n.d);
}

/* Exact order of an int64 and a double (no rounding of the integer); NaN is lowest. */
static int cmp_int_double(int64_t l, double d)
{
    if (isnan(d))
        return 1;
    if (d >= 9223372036854775808.0) /* 2^63: above every int64 */
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (l != ti)
        return l < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

/* Numeric order across int32/int64/double: NaN equals NaN and is below all numbers. */
static int cmp_num(dm_num a, dm_num b)
{
    if (a.is_int && b.is_int)
        return (a.i > b.i) - (a.i < b.i);
    if (a.is_int)
        return cmp_int_double(a.i, b.d);
    if (b.is_int)
        return -cmp_int_double(b.i, a.d);
    if (isnan(a.d) || isnan(b.d))
        return isnan(a.d) && isnan(b.d) ? 0 : isnan(a.d) ? -1 : 1;
    return (a.d > b.d) - (a.d < b.d);
}

/* Byte order, the shorter of two equal prefixes first (MongoDB's string order). */
static int cmp_bytes(const void *a, size_t la, const void *b, size_t lb)
{
    size_t n = la < lb ? la : lb;
    int r = n > 0 ? memcmp(a, b, n) : 0;
    if (r != 0)
        return DM_SIGN(r);
    return (la > lb) - (la < lb);
}

static const char *str_of(const bson_iter_t *it, uint32_t *len)
{
    if (BSON_ITER_HOLDS_SYMBOL(it))
        return bson_iter_symbol(it, len);
    return bson_iter_utf8(it, len);
}

/* Compares the remaining elements of two documents as MongoDB's woCompare does:
 * type class, then field name, then value, element by element; shorter first. */
static int cmp_elements(bson_iter_t *ia, bson_iter_t *ib, dm_cmp *c)
{
    if (c->depth >= DM_MAX_DEPTH) {
        c->inexact = true;
        return 0;
    }
    c->depth++;
    int r = 0;
    for (;;) {
        bool na = bson_iter_next(ia), nb = bson_iter_next(ib);
        if (!na || !nb) {
            r = na ? 1 : nb ? -1 : 0;
            break;
        }
        int ta = canon_of(ia), tb = canon_of(ib);
        if (ta != tb) {
            r = ta < tb ? -1 : 1;
            break;
        }
        r = DM_SIGN(strcmp(bson_iter_key(ia), bson_iter_key(ib)));
        if (r != 0)
            break;
        r = compare_values(ia, ib, c);
        if (r != 0)
            break;
    }
    c->depth--;
    return r;
}

static int cmp_embedded(const bson_iter_t *a, const bson_iter_t *b, dm_cmp *c)
{
    bson_iter_t ia, ib;
    if (!bson_iter_recurse(a, &ia) || !bson_iter_recurse(b, &ib)) {
        c->inexact = true;
        return 0;
    }
    return cmp_elements(&ia, &ib, c);
}

static int cmp_codewscope(const bson_iter_t *a, const bson_iter_t *b, dm_cmp *c)
{
    uint32_t la, lb, sla, slb;
    const uint8_t *sa, *sb;
    const char *ca = bson_iter_codewscope(a, &la, &sla, &sa);
    const char *cb = bson_iter_codewscope(b, &lb, &slb, &sb);
    int r = cmp_bytes(ca, la, cb, lb);
    if (r != 0)
        return r;
    bson_t da, db;
    bson_iter_t ia, ib;
    if (!bson_init_static(&da, sa, sla) || !bson_init_static(&db, sb, slb) ||
        !bson_iter_init(&ia, &da) || !bson_iter_init(&ib, &db)) {
        c->inexact = true;
        return 0;
    }
    return cmp_elements(&ia, &ib, c);
}

/* MongoDB's order of two BSON values (compareElementValues): type class first,
 * then the value within the class. Returns -1, 0 or 1. */
static int compare_values(const bson_iter_t *a, const bson_iter_t *b, dm_cmp *c)
{
    int ta = canon_of(a), tb = canon_of(b);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    switch (ta) {
    case DM_T_NUMBER: return cmp_num(num_of(a, c), num_of(b, c));
    case DM_T_STRING: {
        uint32_t la, lb;
        const char *sa = str_of(a, &la), *sb = str_of(b, &lb);
        return cmp_bytes(sa, la, sb, lb);
    }
    case DM_T_OBJECT:
    case DM_T_ARRAY: return cmp_embedded(a, b, c);
    case DM_T_BINARY: {
        bson_subtype_t sa, sb;
        uint32_t la, lb;
        const uint8_t *da, *db;
        bson_iter_binary(a, &sa, &la, &da);
        bson_iter_binary(b, &sb, &lb, &db);
        if (la != lb)
            return la < lb ? -1 : 1;
        if (sa != sb)
            return sa < sb ? -1 : 1;
        return cmp_bytes(da, la, db, lb);
    }
    case DM_T_OID: return cmp_bytes(bson_iter_oid(a)->bytes, 12, bson_iter_oid(b)->bytes, 12);
    case DM_T_BOOL: return (int)bson_iter_bool(a) - (int)bson_iter_bool(b);
    case DM_T_DATE: {
        int64_t da = bson_iter_date_time(a), db = bson_iter_date_time(b);
        return (da > db) - (da < db);
    }
    case DM_T_TIMESTAMP: {
        uint32_t ta_s, ta_i, tb_s, tb_i;
        bson_iter_timestamp(a, &ta_s, &ta_i);
        bson_iter_timestamp(b, &tb_s, &tb_i);
        if (ta_s != tb_s)
            return ta_s < tb_s ? -1 : 1;
        return (ta_i > tb_i) - (ta_i < tb_i);
    }
    case DM_T_REGEX: {
        const char *fa, *fb;
        const char *pa = bson_iter_regex(a, &fa), *pb = bson_iter_regex(b, &fb);
        int r = DM_SIGN(strcmp(pa, pb));
        return r != 0 ? r : DM_SIGN(strcmp(fa, fb));
    }
    case DM_T_DBPOINTER: {
        uint32_t la, lb;
        const char *ca, *cb;
        const bson_oid_t *oa, *ob;
        bson_iter_dbpointer(a, &la, &ca, &oa);
        bson_iter_dbpointer(b, &lb, &cb, &ob);
        int r = cmp_bytes(ca, la, cb, lb);
        return r != 0 ? r : cmp_bytes(oa->bytes, 12, ob->bytes, 12);
    }
    case DM_T_CODE: {
        uint32_t la, lb;
        const char *ca = bson_iter_code(a, &la), *cb = bson_iter_code(b, &lb);
        return cmp_bytes(ca, la, cb, lb);
    }
    case DM_T_CODEWSCOPE: return cmp_codewscope(a, b, c);
    default: return 0; /* MinKey, undefined, null, MaxKey: one value each */
    }
}

static bool path_ok(const char *path)
{
    size_t n = strlen(path);
    return n > 0 && path[0] != '.' && path[n - 1] != '.' && strstr(path, "..") == NULL;
}

/* Moves it to the element named by the len bytes at key (exact, first occurrence). */
static bool find_key(bson_iter_t *it, const char *key, size_t len)
{
    while (bson_iter_next(it)) {
        const char *k = bson_iter_key(it);
        if (strncmp(k, key, len) == 0 && k[len] == '\0')
            return true;
    }
    return false;
}

int td_doc_find_path(const bson_t *doc, const char *path, bson_iter_t *out)
{
    bson_iter_t it;
    if (doc == NULL || path == NULL || !path_ok(path) || !bson_iter_init(&it, doc))
        return TD_EINVAL;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (!find_key(&it, p, len))
            return TD_ENOTFOUND;
        if (dot == NULL) {
            *out = it;
            return TD_OK;
        }
        if (BSON_ITER_HOLDS_ARRAY(&it))
            return TD_EINVAL;
        if (!BSON_ITER_HOLDS_DOCUMENT(&it))
            return TD_ENOTFOUND;
        bson_iter_t child;
        if (!bson_iter_recurse(&it, &child))
            return TD_EINVAL;
        it = child;
        p = dot + 1;
    }
}

/* Applies pred as MongoDB applies a condition to a field's value: to each element
 * of an array, then to the array itself; to any other value once. */
static int any_value(const bson_iter_t *v, dm_pred pred, const void *arg)
{
    if (BSON_ITER_HOLDS_ARRAY(v)) {
        bson_iter_t el;
        if (!bson_iter_recurse(v, &el))
            return DM_BAD;
        while (bson_iter_next(&el)) {
            int r = pred(&el, arg);
            if (r != DM_NO)
                return r;
        }
    }
    return pred(v, arg);
}

static int negate(int r)
{
    return r == DM_BAD ? DM_BAD : r == DM_YES ? DM_NO : DM_YES;
}

/* ---- equality ---- */

static int pred_eq(const bson_iter_t *v, const void *arg)
{
    const bson_iter_t *rhs = arg;
    if (BSON_ITER_HOLDS_NULL(rhs)) {
        /* Whether null matches undefined depends on the MongoDB version. */
        if (BSON_ITER_HOLDS_UNDEFINED(v))
            return DM_BAD;
        return BSON_ITER_HOLDS_NULL(v) ? DM_YES : DM_NO;
    }
    if (canon_of(v) != canon_of(rhs))
        return DM_NO;
    dm_cmp c = {0, false};
    int r = compare_values(v, rhs, &c);
    if (c.inexact)
        return DM_BAD;
    return r == 0 ? DM_YES : DM_NO;
}

static int match_eq(const dm_at *at, const bson_iter_t *rhs)
{
    if (BSON_ITER_HOLDS_UNDEFINED(rhs))
        return DM_BAD;
    if (at->rc == TD_ENOTFOUND)
        return BSON_ITER_HOLDS_NULL(rhs) ? DM_YES : DM_NO;
    return any_value(&at->it, pred_eq, rhs);
}

/* ---- $regex ---- */

static bool ascii_alnum(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static unsigned char ascii_lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* Turns a literal pattern back into its text: a backslash before an ASCII character
 * that is not a letter or digit stands for that character; an unescaped
 * metacharacter, any other escape or a NUL makes the pattern unsupported. */
static bool unescape(const char *p, uint32_t len, dm_regex *re)
{
    size_t w = 0;
    for (uint32_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\0')
            return false;
        if (ch == '\\') {
            if (++i == len)
                return false;
            ch = (unsigned char)p[i];
            if (ch == '\0' || ch >= 0x80 || ascii_alnum(ch))
                return false;
        } else if (strchr(DM_REGEX_META, ch) != NULL) {
            return false;
        }
        if (re->icase && ch >= 0x80)
            return false; /* PCRE folds non-ASCII case by Unicode tables we lack */
        if (w == sizeof re->needle)
            return false;
        re->needle[w++] = (char)(re->icase ? ascii_lower(ch) : ch);
    }
    re->len = w;
    return true;
}

/* Reads a "$regex" pattern (string or BSON regex) and its options into re. */
static bool regex_init(dm_regex *re, const bson_iter_t *pat, const bson_iter_t *opts)
{
    uint32_t len;
    const char *flags = "";
    if (BSON_ITER_HOLDS_UTF8(pat)) {
        re->pattern = bson_iter_utf8(pat, &len);
    } else if (BSON_ITER_HOLDS_REGEX(pat)) {
        re->pattern = bson_iter_regex(pat, &flags);
        len = (uint32_t)strlen(re->pattern);
    } else {
        return false;
    }
    if (opts != NULL) {
        if (!BSON_ITER_HOLDS_UTF8(opts) || flags[0] != '\0')
            return false;
        flags = bson_iter_utf8(opts, NULL);
    }
    re->flags = flags;
    re->icase = false;
    for (const char *f = flags; *f != '\0'; f++) {
        if (*f == 'i')
            re->icase = true;
        else if (*f != 'm' && *f != 's') /* m, s only change ^ $ . */
            return false;
    }
    return unescape(re->pattern, len, re);
}

/* True when the needle occurs in hay; caseless compares ASCII letters folded and lets
 * k and s match the Kelvin sign and long s, as PCRE's caseless UTF-8 mode does. */
static bool contains(const char *hay, size_t hlen, const dm_regex *re)
{
    /* A caseless match spans at least as many bytes as the needle has. */
    for (size_t s = 0; s + re->len <= hlen; s++) {
        size_t i = 0, j = s;
        while (i < re->len && j < hlen) {
            unsigned char n = (unsigned char)re->needle[i], h = (unsigned char)hay[j];
            if (re->icase)
                h = ascii_lower(h);
            if (h == n) {
                j++;
            } else if (re->icase && n == 'k' && hlen - j >= 3 &&
                       memcmp(hay + j, DM_KELVIN_SIGN, 3) == 0) {
                j += 3;
            } else if (re->icase && n == 's' && hlen - j >= 2 &&
                       memcmp(hay + j, DM_LONG_S, 2) == 0) {
                j += 2;
            } else {
                break;
            }
            i++;
        }
        if (i == re->len)
            return true;
    }
    return false;
}

static int pred_regex(const bson_iter_t *v, const void *arg)
{
    const dm_regex *re = arg;
    if (BSON_ITER_HOLDS_UTF8(v) || BSON_ITER_HOLDS_SYMBOL(v)) {
        uint32_t len;
        const char *s = str_of(v, &len);
        return contains(s, len, re) ? DM_YES : DM_NO;
    }
    if (BSON_ITER_HOLDS_REGEX(v)) { /* a stored regex matches an identical one */
        const char *flags;
        const char *p = bson_iter_regex(v, &flags);
        return strcmp(p, re->pattern) == 0 && strcmp(flags, re->flags) == 0 ? DM_YES : DM_NO;
    }
    return DM_NO;
}

static int match_regex(const dm_at *at, const bson_iter_t *pat, const bson_iter_t *opts)
{
    dm_regex re;
    if (!regex_init(&re, pat, opts))
        return DM_BAD;
    if (at->rc == TD_ENOTFOUND)
        return DM_NO;
    return any_value(&at->it, pred_regex, &re);
}

/* ---- $in / $nin ---- */

/* A $in list: an array whose elements are values or regexes, never operators. */
static bool in_list_ok(const bson_iter_t *list)
{
    bson_iter_t el;
    if (!BSON_ITER_HOLDS_ARRAY(list) || !bson_iter_recurse(list, &el))
        return false;
    while (bson_iter_next(&el)) {
        if (BSON_ITER_HOLDS_UNDEFINED(&el))
            return false;
        if (BSON_ITER_HOLDS_DOCUMENT(&el)) {
            bson_iter_t first;
            if (bson_iter_recurse(&el, &first) && bson_iter_next(&first) &&
                bson_iter_key(&first)[0] == '$')
                return false;
        }
    }
    return true;
}

static int match_in(const dm_at *at, const bson_iter_t *list)
{
    bson_iter_t el;
    if (!in_list_ok(list) || !bson_iter_recurse(list, &el))
        return DM_BAD;
    while (bson_iter_next(&el)) {
        int r = BSON_ITER_HOLDS_REGEX(&el) ? match_regex(at, &el, NULL) : match_eq(at, &el);
        if (r != DM_NO)
            return r;
    }
    return DM_NO;
}

/* ---- $gt / $gte / $lt / $lte ---- */

static int pred_range(const bson_iter_t *v, const void *arg)
{
    const dm_range *range = arg;
    if (canon_of(v) != canon_of(range->rhs))
        return DM_NO; /* MongoDB compares only within one type class */
    dm_cmp c = {0, false};
    if (canon_of(v) == DM_T_NUMBER) {
        dm_num a = num_of(v, &c), b = num_of(range->rhs, &c);
        if (c.inexact)
            return DM_BAD;
        if (num_is_nan(a) || num_is_nan(b)) /* NaN only equals NaN */
            return num_is_nan(a) && num_is_nan(b) &&
                           (range->op == DM_OP_GTE || range->op == DM_OP_LTE)
                       ? DM_YES
                       : DM_NO;
    }
    int r = compare_values(v, range->rhs, &c);
    if (c.inexact)
        return DM_BAD;
    switch (range->op) {
    case DM_OP_GT: return r > 0 ? DM_YES : DM_NO;
    case DM_OP_GTE: return r >= 0 ? DM_YES : DM_NO;
    case DM_OP_LT: return r < 0 ? DM_YES : DM_NO;
    case DM_OP_LTE: return r <= 0 ? DM_YES : DM_NO;
    }
    return DM_BAD;
}

static int match_range(const dm_at *at, dm_range_op op, const bson_iter_t *rhs)
{
    switch (canon_of(rhs)) {
    case DM_T_NULL: /* $gte/$lte null mean equal to null; $gt/$lt null match nothing */
        return op == DM_OP_GTE || op == DM_OP_LTE ? match_eq(at, rhs) : DM_NO;
    case DM_T_NUMBER:
        if (BSON_ITER_HOLDS_DECIMAL128(rhs))
            return DM_BAD;
        break;
    case DM_T_STRING:
    case DM_T_OBJECT:
    case DM_T_BINARY:
    case DM_T_OID:
    case DM_T_BOOL:
    case DM_T_DATE:
    case DM_T_TIMESTAMP: break;
    default: return DM_BAD; /* arrays, regexes, MinKey/MaxKey: other rules */
    }
    if (at->rc == TD_ENOTFOUND)
        return DM_NO;
    dm_range range = {op, rhs};
    return any_value(&at->it, pred_range, &range);
}

/* ---- $exists ---- */

static int match_exists(const dm_at *at, const bson_iter_t *rhs)
{
    bool want;
    if (BSON_ITER_HOLDS_BOOL(rhs))
        want = bson_iter_bool(rhs);
    else if (BSON_ITER_HOLDS_INT32(rhs) || BSON_ITER_HOLDS_INT64(rhs) ||
             BSON_ITER_HOLDS_DOUBLE(rhs))
        want = bson_iter_as_double(rhs) != 0.0;
    else
        return DM_BAD;
    return (at->rc == TD_OK) == want ? DM_YES : DM_NO;
}

/* ---- filters ---- */

/* True when v is an operator document ({$gte: ...}): its first key starts with '$'. */
static bool is_operator_doc(const bson_iter_t *v)
{
    bson_iter_t first;
    return BSON_ITER_HOLDS_DOCUMENT(v) && bson_iter_recurse(v, &first) && bson_iter_next(&first) &&
           bson_iter_key(&first)[0] == '$';
}

static int match_op(const dm_at *at, const char *op, const bson_iter_t *rhs)
{
    if (strcmp(op, "$eq") == 0)
        return match_eq(at, rhs);
    if (strcmp(op, "$ne") == 0)
        return BSON_ITER_HOLDS_REGEX(rhs) ? DM_BAD : negate(match_eq(at, rhs));
    if (strcmp(op, "$in") == 0)
        return match_in(at, rhs);
    if (strcmp(op, "$nin") == 0)
        return negate(match_in(at, rhs));
    if (strcmp(op, "$gt") == 0)
        return match_range(at, DM_OP_GT, rhs);
    if (strcmp(op, "$gte") == 0)
        return match_range(at, DM_OP_GTE, rhs);
    if (strcmp(op, "$lt") == 0)
        return match_range(at, DM_OP_LT, rhs);
    if (strcmp(op, "$lte") == 0)
        return match_range(at, DM_OP_LTE, rhs);
    if (strcmp(op, "$exists") == 0)
        return match_exists(at, rhs);
    return DM_BAD;
}

/* Every operator of {$op: v, ...} must hold; "$regex" takes "$options" along. */
static int match_ops(const dm_at *at, const bson_iter_t *ops)
{
    bson_iter_t it, pat, opts;
    bool has_pat = false, has_opts = false;
    if (!bson_iter_recurse(ops, &it))
        return DM_BAD;
    while (bson_iter_next(&it)) {
        const char *op = bson_iter_key(&it);
        if (strcmp(op, "$regex") == 0 || strcmp(op, "$options") == 0) {
            bool *seen = op[1] == 'r' ? &has_pat : &has_opts;
            if (*seen)
                return DM_BAD;
            *seen = true;
            if (op[1] == 'r')
                pat = it;
            else
                opts = it;
        }
    }
    if (has_opts && !has_pat)
        return DM_BAD;
    if (!bson_iter_recurse(ops, &it))
        return DM_BAD;
    while (bson_iter_next(&it)) {
        const char *op = bson_iter_key(&it);
        int r;
        if (strcmp(op, "$options") == 0)
            continue;
        if (strcmp(op, "$regex") == 0)
            r = match_regex(at, &pat, has_opts ? &opts : NULL);
        else
            r = match_op(at, op, &it);
        if (r != DM_YES)
            return r;
    }
    return DM_YES;
}

static int match_field(const bson_t *doc, const char *path, const bson_iter_t *rhs)
{
    dm_at at;
    at.rc = td_doc_find_path(doc, path, &at.it);
    if (at.rc == TD_EINVAL)
        return DM_BAD;
    if (is_operator_doc(rhs))
        return match_ops(&at, rhs);
    if (BSON_ITER_HOLDS_REGEX(rhs))
        return match_regex(&at, rhs, NULL);
    return match_eq(&at, rhs);
}

static int match_doc(const bson_t *filter, const bson_t *doc, int depth);

/* "$and": a non-empty array of filters that must all hold. */
static int match_and(const bson_iter_t *and, const bson_t *doc, int depth)
{
    bson_iter_t el;
    int n = 0;
    if (!BSON_ITER_HOLDS_ARRAY(and) || !bson_iter_recurse(and, &el))
        return DM_BAD;
    while (bson_iter_next(&el)) {
        uint32_t len;
        const uint8_t *data;
        bson_t sub;
        if (!BSON_ITER_HOLDS_DOCUMENT(&el))
            return DM_BAD;
        bson_iter_document(&el, &len, &data);
        if (!bson_init_static(&sub, data, len))
            return DM_BAD;
        int r = match_doc(&sub, doc, depth + 1);
        if (r != DM_YES)
            return r;
        n++;
    }
    return n > 0 ? DM_YES : DM_BAD;
}

static int match_doc(const bson_t *filter, const bson_t *doc, int depth)
{
    bson_iter_t it;
    if (depth > DM_MAX_DEPTH || !bson_iter_init(&it, filter))
        return DM_BAD;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        int r;
        if (strcmp(key, "$and") == 0)
            r = match_and(&it, doc, depth);
        else if (key[0] == '$')
            r = DM_BAD;
        else
            r = match_field(doc, key, &it);
        if (r != DM_YES)
            return r;
    }
    return DM_YES;
}

bool td_doc_match(const bson_t *filter, const bson_t *doc)
{
    if (filter == NULL || doc == NULL)
        return false;
    return match_doc(filter, doc, 0) == DM_YES;
}

/* ---- sort ---- */

/* 1 or -1 from a sort spec value, 0 when it is neither. */
static int sort_dir(const bson_iter_t *it)
{
    if (!BSON_ITER_HOLDS_INT32(it) && !BSON_ITER_HOLDS_INT64(it) && !BSON_ITER_HOLDS_DOUBLE(it))
        return 0;
    double d = bson_iter_as_double(it);
    return d == 1.0 ? 1 : d == -1.0 ? -1 : 0;
}

static bool sort_ok(const bson_t *sort)
{
    bson_iter_t it;
    if (!bson_iter_init(&it, sort))
        return false;
    while (bson_iter_next(&it))
        if (sort_dir(&it) == 0 || !path_ok(bson_iter_key(&it)))
            return false;
    return true;
}

/* The value MongoDB sorts a document by: the field, the smallest (ascending) or
 * largest (descending) element of an array, undefined for [], null when missing. */
static dm_key sort_key(const bson_t *doc, const char *path, int dir)
{
    dm_key k = {false, DM_T_NULL};
    bson_iter_t it, el;
    if (td_doc_find_path(doc, path, &it) != TD_OK)
        return k;
    if (!BSON_ITER_HOLDS_ARRAY(&it)) {
        k.has = true;
        k.canon = canon_of(&it);
        k.it = it;
        return k;
    }
    k.canon = DM_T_UNDEFINED;
    if (!bson_iter_recurse(&it, &el))
        return k;
    while (bson_iter_next(&el)) {
        dm_cmp c = {0, false};
        if (!k.has || dir * compare_values(&el, &k.it, &c) < 0) {
            k.has = true;
            k.it = el;
        }
    }
    if (k.has)
        k.canon = canon_of(&k.it);
    return k;
}

static int compare_keys(const dm_key *a, const dm_key *b)
{
    if (a->canon != b->canon)
        return a->canon < b->canon ? -1 : 1;
    if (!a->has || !b->has)
        return 0; /* null, missing and undefined have a single value each */
    dm_cmp c = {0, false};
    return compare_values(&a->it, &b->it, &c);
}

int td_doc_compare(const bson_t *sort, const bson_t *a, const bson_t *b)
{
    bson_iter_t it;
    if (sort == NULL || a == NULL || b == NULL || !sort_ok(sort) || !bson_iter_init(&it, sort))
        return 0;
    while (bson_iter_next(&it)) {
        int dir = sort_dir(&it);
        const char *path = bson_iter_key(&it);
        dm_key ka = sort_key(a, path, dir), kb = sort_key(b, path, dir);
        int r = compare_keys(&ka, &kb);
        if (r != 0)
            return dir * r;
    }
    return 0;
}
