/*
 * Configuration from environment variables only, with safe local defaults.
 * The variables the shared library and the gateway read are named here once; a
 * service's own ones are named in its header (e.g. services/auth/auth.h).
 */
#ifndef TRIPDESK_CONFIG_H
#define TRIPDESK_CONFIG_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_ENV_PORT "TRIPDESK_PORT"                   /* gateway HTTP port, 8080 */
#define TD_ENV_IPC_DIR "TRIPDESK_IPC_DIR"             /* nng ipc sockets, var/run */
#define TD_ENV_NNG_TRANSPORT "TRIPDESK_NNG_TRANSPORT" /* ipc (default) or tcp */
#define TD_ENV_NNG_PORT_BASE "TRIPDESK_NNG_PORT_BASE" /* tcp transport, 7100 */
#define TD_ENV_MONGO_URI "MONGO_URI"                  /* mongodb://127.0.0.1:27017 */
#define TD_ENV_MONGO_SOCKET_TIMEOUT "TRIPDESK_MONGO_SOCKET_TIMEOUT_MS" /* 1500 */
#define TD_ENV_DB_PREFIX "TRIPDESK_DB_PREFIX"                          /* tripdesk_ */
#define TD_ENV_REDIS_URL "REDIS_URL"                                   /* redis://127.0.0.1:6379 */
#define TD_ENV_CACHE_ENABLED "CACHE_ENABLED"                           /* true */
#define TD_ENV_JWT_SECRET "TRIPDESK_JWT_SECRET"              /* required unless dev mode */
#define TD_ENV_JWT_ISSUER "TRIPDESK_JWT_ISSUER"              /* tripdesk */
#define TD_ENV_DEV_MODE "TRIPDESK_DEV_MODE"                  /* true allows a dev JWT secret */
#define TD_ENV_WORKERS "TRIPDESK_WORKERS"                    /* service worker threads, 8 */
#define TD_ENV_CONTEXTS "TRIPDESK_CONTEXTS"                  /* service nng contexts, 64 */
#define TD_ENV_REQUEST_TIMEOUT "TRIPDESK_REQUEST_TIMEOUT_MS" /* gateway deadline, 5000 */
#define TD_ENV_MAX_BODY "TRIPDESK_MAX_BODY_BYTES"            /* gateway JSON body limit, 1 MiB */
#define TD_ENV_HTTP_THREADS "TRIPDESK_HTTP_THREADS"          /* gateway connections, 128 */
#define TD_ENV_WEB_ROOT "TRIPDESK_WEB_ROOT"                  /* gateway/web/dist */
#define TD_ENV_CORS_ORIGINS "TRIPDESK_CORS_ORIGINS"          /* comma list, or * */
#define TD_ENV_HEARTBEAT_MS "TRIPDESK_HEARTBEAT_MS"          /* 1000 */
#define TD_ENV_INSTANCE_TTL_MS "TRIPDESK_INSTANCE_TTL_MS"    /* registry, 3000 */
#define TD_ENV_HOST_PREFIX "TRIPDESK_HOST_"                  /* + daemon: tcp host to dial */
#define TD_ENV_LOG_LEVEL "TRIPDESK_LOG_LEVEL"                /* debug|info|warn|error, info */
#define TD_ENV_BIND "TRIPDESK_BIND"                          /* gateway listen address, 127.0.0.1 */
#define TD_ENV_BUS_SWEEP_MS "TRIPDESK_BUS_SWEEP_MS"          /* bus sweeper period, 600000 */
#define TD_ENV_LIST_COPIES "TRIPDESK_LIST_COPIES"            /* auto|on|off, auto (listindex.h) */
/* tests only: the bus relay publishes each event this many ms after its time (bus.c) */
#define TD_ENV_TEST_RELAY_DELAY_MS "TRIPDESK_TEST_RELAY_DELAY_MS"

/* String value of name, or def when unset or empty. */
const char *td_env_str(const char *name, const char *def);

/* Integer value of name within [min, max], or def when unset or invalid. */
int64_t td_env_int(const char *name, int64_t def, int64_t min, int64_t max);

/* Boolean value of name ("1", "true", "yes", "on" / "0", "false", "no", "off"), or def. */
bool td_env_bool(const char *name, bool def);

/* The index in choices (NULL-terminated, compared exactly) of name's value into
 * *out, def when unset or empty. Any other value is TD_EINVAL with why (whylen
 * bytes) saying so, naming the variable and the accepted values: the caller logs it
 * and refuses to start. */
TD_MUST_CHECK int td_env_choice(const char *name, const char *const *choices, int def, int *out,
                                char *why, size_t whylen);

#endif
