/* Event payloads of the auth service: who did what to whom, what changed, from
 * where — everything the audit and notification services need. */
#include "auth.h"

#include "tripdesk/log.h"

cJSON *event_payload(const td_req *req, const char *action, const char *target_type,
                     const char *target_id, cJSON *before, cJSON *after)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "action", action);
    if (req->principal.present) {
        cJSON *actor = cJSON_AddObjectToObject(p, "actor");
        cJSON_AddStringToObject(actor, "id", req->principal.agent_id);
        cJSON_AddStringToObject(actor, "role", req->principal.role);
    } else {
        cJSON_AddNullToObject(p, "actor");
    }
    cJSON *target = cJSON_AddObjectToObject(p, "target");
    cJSON_AddStringToObject(target, "type", target_type);
    cJSON_AddStringToObject(target, "id", target_id);
    cJSON *changes = cJSON_AddObjectToObject(p, "changes");
    cJSON_AddItemToObject(changes, "before", before != NULL ? before : cJSON_CreateNull());
    cJSON_AddItemToObject(changes, "after", after != NULL ? after : cJSON_CreateNull());
    cJSON *meta = cJSON_AddObjectToObject(p, "metadata");
    cJSON_AddStringToObject(meta, "ip", req->client_ip);
    cJSON_AddStringToObject(meta, "userAgent", req->user_agent);
    cJSON_AddStringToObject(meta, "requestId", req->request_id);
    return p;
}

/* Moves the events staged by a successful write to the outbox. A failure here is
 * not the caller's: the sweeper moves them later. */
int event_commit(td_req *req, const char *coll, const char *id)
{
    int rc = td_bus_commit(td_service_bus(req->service), td_req_mongo(req), coll, id);
    if (rc != TD_OK)
        td_log(TD_LOG_WARN, req->request_id, "event of %s/%s left for the sweeper: %s", coll,
               id, td_strerror(rc));
    return TD_OK;
}
