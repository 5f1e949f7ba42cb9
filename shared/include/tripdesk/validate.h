/*
 * Request-body validation: no unknown fields (no mass assignment), types, lengths
 * and formats checked, each failure a 400 naming the field. Every getter returns
 * TD_OK (with *out set, or left NULL/unchanged when the optional field is absent)
 * or TD_EINVAL after filling res; handlers just `return 0` then.
 */
#ifndef TRIPDESK_VALIDATE_H
#define TRIPDESK_VALIDATE_H

#include "common.h"

#include "http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Rejects a field of body that is not in allowed (NULL-terminated). */
TD_MUST_CHECK int td_check_fields(const cJSON *body, const char *const *allowed, td_res *res);

/* A string of min..max characters (code points of valid UTF-8; control characters
 * refused); leading/trailing spaces refused. */
TD_MUST_CHECK int td_get_str(const cJSON *body, const char *name, bool required, size_t min,
                             size_t max, td_res *res, const char **out);

/* A string that must be one of values (NULL-terminated). */
TD_MUST_CHECK int td_get_enum(const cJSON *body, const char *name, bool required,
                              const char *const *values, td_res *res, const char **out);

/* An email address (lower-cased copy into buf, which holds TD_EMAIL_MAX+1). */
#define TD_EMAIL_MAX 254
TD_MUST_CHECK int td_get_email(const cJSON *body, const char *name, bool required, td_res *res,
                               char *buf, bool *present);

/* A boolean. */
TD_MUST_CHECK int td_get_bool(const cJSON *body, const char *name, bool required, td_res *res,
                              bool *out, bool *present);

/* An integer in [min, max]. */
TD_MUST_CHECK int td_get_int(const cJSON *body, const char *name, bool required, long long min,
                             long long max, td_res *res, long long *out, bool *present);

/* A number in [min, max] with at most `decimals` decimal places. */
TD_MUST_CHECK int td_get_number(const cJSON *body, const char *name, bool required, double min,
                                double max, int decimals, td_res *res, double *out, bool *present);

/* UTF-8 (RFC 3629). td_utf8_valid: len bytes of well-formed UTF-8 (no overlong
 * forms, no surrogates U+D800..DFFF, nothing above U+10FFFF, no NUL).
 * td_json_text_ok: a request body every service may store: valid UTF-8 and no
 * \u0000 escape (cJSON would cut the string there); trailing NULs are allowed.
 * td_utf8_fit: the longest prefix of s of at most max bytes that does not split a
 * sequence. td_utf8_trim: drops an incomplete sequence at the end of s (after a
 * truncating snprintf). A limit of n characters needs TD_UTF8_BYTES(n) bytes. */
#define TD_UTF8_BYTES(chars) ((chars)*4)
bool td_utf8_valid(const char *s, size_t len);
bool td_json_text_ok(const char *s, size_t len);
size_t td_utf8_fit(const char *s, size_t max);
void td_utf8_trim(char *s);

/* Shape checks. */
bool td_valid_email(const char *s);
bool td_valid_phone(const char *s);

#endif
