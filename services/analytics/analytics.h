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

#include "tripdesk/listindex.h"
#include "tripdesk/service.h"
#include "tripdesk/tally.h"

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
cJSON *audit_entry_json(const bson_t *doc, void *arg); /* an entry as the API shows it */

/* jobs_api.c: /api/jobs (queues, jobs, schedules; admins) */
extern const td_route jobs_api_routes[];

/* audit_model.c: the audit trail's read model (lists and stats on FerretDB) */
#define AUDIT_ENV_JSON_MB "TRIPDESK_AUDIT_JSON_MB"       /* JSON of the latest entries, 32 */
#define AUDIT_ENV_MAX_ENTRIES "TRIPDESK_AUDIT_MODEL_MAX" /* entries the model holds */
#define AUDIT_JSON_MB_DEFAULT 32
#define AUDIT_MAX_ENTRIES_DEFAULT 2000000
int audit_model_new(void);
void audit_model_free(void);
/* Decides, once MongoDB answers, whether the model serves (listcopies.h). */
int audit_model_decide(mongoc_client_t *c);
void audit_model_maintain(td_service *svc, mongoc_client_t *c); /* periodic task */
void audit_model_put(const bson_t *doc);                        /* an entry written */
/* TD_OK with the page, TD_ETIMEDOUT during the first load (answer 503), anything
 * else: ask the database. */
int audit_model_list(mongoc_client_t *c, const td_list *l, cJSON **items, int64_t *total);
/* Counts per (action, resourceType, severity) created in [from, to]; same codes. */
int audit_model_stats(mongoc_client_t *c, int64_t from, int64_t to, td_tally_fn fn, void *arg);

#endif
