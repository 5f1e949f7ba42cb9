/* The analytics service's map: its resources and event handling. */
#ifndef ANALYTICS_H
#define ANALYTICS_H

#include "tripdesk/service.h"

#define COLL_BUS_PROBES "bus_probes"
#define COLL_BUS_PROBE_STATS "bus_probe_stats" /* {_id: tag, duplicates} */

/* events.c */
int on_event(const td_event *ev, mongoc_client_t *mongo, void *arg);
int init_database(td_service *svc, mongoc_client_t *c);

/* probes.c */
int probes_get(td_req *req, td_res *res);

#endif
