/* Environment configuration readers. */
#include "tripdesk/config.h"

#include "tripdesk/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *td_env_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : def;
}

int64_t td_env_int(const char *name, int64_t def, int64_t min, int64_t max)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return def;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return def;
    return n;
}

bool td_env_bool(const char *name, bool def)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return def;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
        return true;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off"))
        return false;
    return def;
}

int td_env_choice(const char *name, const char *const *choices, int def, int *out, char *why,
                  size_t whylen)
{
    *out = def;
    if (whylen > 0)
        why[0] = '\0';
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return TD_OK;
    char allowed[256] = "";
    size_t used = 0;
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return TD_OK;
        }
        /* a list too long for the message ends at the last choice that fits */
        if (used < sizeof allowed && td_fmt(allowed + used, sizeof allowed - used, "%s%s",
                                            i > 0 ? ", " : "", choices[i]) == TD_OK)
            used += strlen(allowed + used);
        else if (used < sizeof allowed)
            allowed[used] = '\0';
    }
    /* a message: one cut short still names the variable */
    TD_IGNORE(td_fmt(why, whylen, "%s must be one of %s (got \"%.64s\")", name, allowed, v));
    return TD_EINVAL;
}
