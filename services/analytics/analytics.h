/*
 * The analytics service's map: its resources and event handling.
 *
 * Collections (database tripdesk_analytics):
 *   bus_probes       {_id: eventId, tag, publisher, sequence, publishedAt, receivedAt}
 *   bus_probe_stats  {_id: tag, duplicates}
 *   audit_logs       {_id: eventId, action, performedBy, performedByRole, resourceType,
 *                     targetType, targetId, changes {before, after}, details, metadata
 *                     {ip, userAgent, requestId}, severity, severityRank, publisher,
 *                     sequence, createdAt, searchText}
 *
 * Every event but BUS_PROBE becomes one audit log entry, keyed by the event id so a
 * redelivered event never makes a second one.
 */
#ifndef ANALYTICS_H
#define ANALYTICS_H

#include "tripdesk/service.h"

#define COLL_BUS_PROBES "bus_probes"
#define COLL_BUS_PROBE_STATS "bus_probe_stats" /* {_id: tag, duplicates} */
#define COLL_AUDIT_LOGS "audit_logs"

/* events.c */
int on_event(const td_event *ev, mongoc_client_t *mongo, void *arg);
int init_database(td_service *svc, mongoc_client_t *c);

/* probes.c */
int probes_get(td_req *req, td_res *res);

/* audit_entry.c: an event as an audit log entry */
extern const char *const audit_resource_types[]; /* NULL-terminated */
extern const char *const audit_severities[];     /* info, warning, critical; NULL-terminated */
int audit_record(const td_event *ev, mongoc_client_t *c);
int audit_indexes(mongoc_client_t *c);

/* audit_logs.c: /api/audit-logs */
extern const td_route audit_log_routes[];

#endif
