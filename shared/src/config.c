/* Environment configuration readers. */
#include "tripdesk/config.h"

#include <errno.h>
#include <stdlib.h>
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
