/*
 * Request-body validation: no unknown fields (no mass assignment), types, lengths
 * and formats checked, each failure a 400 naming the field. Every getter returns
 * TD_OK (with *out set, or left NULL/unchanged when the optional field is absent)
 * or TD_EINVAL after filling res; handlers just `return 0` then.
 */
#ifndef TRIPDESK_VALIDATE_H
#define TRIPDESK_VALIDATE_H

#include "http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Rejects a field of body that is not in allowed (NULL-terminated). */
int td_check_fields(const cJSON *body, const char *const *allowed, td_res *res);

/* A string of min..max characters (UTF-8 bytes); leading/trailing spaces refused. */
int td_get_str(const cJSON *body, const char *name, bool required, size_t min, size_t max,
               td_res *res, const char **out);

/* A string that must be one of values (NULL-terminated). */
int td_get_enum(const cJSON *body, const char *name, bool required,
                const char *const *values, td_res *res, const char **out);

/* An email address (lower-cased copy into buf, which holds TD_EMAIL_MAX+1). */
#define TD_EMAIL_MAX 254
int td_get_email(const cJSON *body, const char *name, bool required, td_res *res, char *buf,
                 bool *present);

/* A boolean. */
int td_get_bool(const cJSON *body, const char *name, bool required, td_res *res, bool *out,
                bool *present);

/* An integer in [min, max]. */
int td_get_int(const cJSON *body, const char *name, bool required, long long min,
               long long max, td_res *res, long long *out, bool *present);

/* A number in [min, max] with at most `decimals` decimal places. */
int td_get_number(const cJSON *body, const char *name, bool required, double min, double max,
                  int decimals, td_res *res, double *out, bool *present);

/* Shape checks. */
bool td_valid_email(const char *s);
bool td_valid_phone(const char *s);

#endif
