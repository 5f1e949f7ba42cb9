/* nng endpoint addresses, derived from configuration in one place. */
#include "tripdesk/endpoint.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const td_service_names[TD_SERVICE_COUNT] = {"auth", "booking", "payment",
                                                        "notification", "analytics"};

/* tcp port layout: base+0 registry, base+1.. gateway per service, then bus, replay. */
#define PORT_REGISTRY 0
#define PORT_GATEWAY 1
#define PORT_BUS (PORT_GATEWAY + TD_SERVICE_COUNT)
#define PORT_REPLAY (PORT_BUS + TD_SERVICE_COUNT)

int td_service_index(const char *name)
{
    for (int i = 0; i < TD_SERVICE_COUNT; i++)
        if (name != NULL && strcmp(name, td_service_names[i]) == 0)
            return i;
    return -1;
}

/* Host to dial for a daemon: TRIPDESK_HOST_<DAEMON>, default loopback. */
static const char *dial_host(const char *daemon)
{
    char var[64];
    TD_IGNORE(td_fmt(var, sizeof var, "%s", TD_ENV_HOST_PREFIX)); /* fits: a constant */
    size_t n = strlen(var);
    /* fits: the daemon's name is one of ours (td_service_index knows it) */
    for (const char *p = daemon; *p != '\0' && n < sizeof var - 1; p++)
        var[n++] = (char)toupper((unsigned char)*p);
    var[n] = '\0';
    return td_env_str(var, "127.0.0.1");
}

int td_endpoint_url(td_endpoint_kind kind, const char *service, int listen, char *buf, size_t len)
{
    int idx = 0;
    if (kind != TD_EP_REGISTRY) {
        idx = td_service_index(service);
        if (idx < 0)
            return TD_EINVAL;
    }
    const char *owner = kind == TD_EP_GATEWAY    ? "gateway"
                        : kind == TD_EP_REGISTRY ? "registry"
                                                 : service;
    const char *transport = td_env_str(TD_ENV_NNG_TRANSPORT, "ipc");
    int rc; /* TD_EINVAL: too long for buf (a long TRIPDESK_IPC_DIR or host) */
    if (strcmp(transport, "tcp") == 0) {
        int64_t base = td_env_int(TD_ENV_NNG_PORT_BASE, 7100, 1024, 65000);
        int off = kind == TD_EP_REGISTRY  ? PORT_REGISTRY
                  : kind == TD_EP_GATEWAY ? PORT_GATEWAY + idx
                  : kind == TD_EP_BUS     ? PORT_BUS + idx
                                          : PORT_REPLAY + idx;
        rc = td_fmt(buf, len, "tcp://%s:%lld", listen ? "0.0.0.0" : dial_host(owner),
                    (long long)base + off);
    } else {
        const char *dir = td_env_str(TD_ENV_IPC_DIR, "var/run");
        const char *what = kind == TD_EP_GATEWAY    ? "gw-"
                           : kind == TD_EP_REGISTRY ? "registry"
                           : kind == TD_EP_BUS      ? "bus-"
                                                    : "replay-";
        rc =
            td_fmt(buf, len, "ipc://%s/%s%s.ipc", dir, what, kind == TD_EP_REGISTRY ? "" : service);
    }
    return rc;
}
