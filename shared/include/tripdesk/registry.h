/*
 * Registry client: a daemon's heartbeat thread. Every TRIPDESK_HEARTBEAT_MS it tells
 * the registry who it is and whether its MongoDB and Redis are reachable.
 */
#ifndef TRIPDESK_REGISTRY_H
#define TRIPDESK_REGISTRY_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct td_heartbeat td_heartbeat;

/* Probe of a dependency, run on the heartbeat thread. */
typedef bool (*td_probe_fn)(void);

/* Starts heartbeats for `service`; mongo_probe / redis_probe may be NULL when the
 * daemon does not use that dependency. */
TD_MUST_CHECK int td_heartbeat_start(td_heartbeat **out, const char *service,
                                     td_probe_fn mongo_probe, td_probe_fn redis_probe);

/* Marks the instance as draining (reported as such) */
void td_heartbeat_draining(td_heartbeat *hb);

/* Sends a last "leaving" message and stops the thread. */
void td_heartbeat_stop(td_heartbeat *hb);

#endif
