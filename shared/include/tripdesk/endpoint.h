/*
 * nng addresses of every daemon-to-daemon channel, derived from one place.
 * ipc (default): ipc://$TRIPDESK_IPC_DIR/<name>.ipc.
 * tcp: tcp://<host>:<TRIPDESK_NNG_PORT_BASE + offset>, the owner listening on all
 * interfaces and the others dialling TRIPDESK_HOST_<OWNER> (default 127.0.0.1).
 */
#ifndef TRIPDESK_ENDPOINT_H
#define TRIPDESK_ENDPOINT_H

#include "common.h"

#include <stddef.h>

#define TD_URL_MAX 512

/* The five services, in a fixed order used for endpoint offsets. */
#define TD_SERVICE_COUNT 5
extern const char *const td_service_names[TD_SERVICE_COUNT];

/* Index of a service name in td_service_names, or -1. */
int td_service_index(const char *name);

typedef enum {
    TD_EP_GATEWAY,  /* gateway listens (one per service), services dial: requests */
    TD_EP_REGISTRY, /* registry listens: heartbeats and health queries */
    TD_EP_BUS,      /* publisher listens (one per service): events */
    TD_EP_REPLAY,   /* publisher listens (one per service): event replay */
} td_endpoint_kind;

/* Writes the URL to listen on (listen != 0) or to dial for an endpoint; service
 * names the service for the per-service kinds and is ignored for the registry.
 * Returns 0, or TD_EINVAL for an unknown service. */
TD_MUST_CHECK int td_endpoint_url(td_endpoint_kind kind, const char *service, int listen, char *buf,
                                  size_t len);

#endif
