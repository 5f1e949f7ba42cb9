/* Committing the events the auth service stages in its documents. */
#include "auth.h"

#include "tripdesk/log.h"

/* Moves the events staged by a successful write to the outbox. A failure here is
 * not the caller's: the sweeper moves them later. */
int event_commit(td_req *req, const char *coll, const char *id)
{
    int rc = td_bus_commit(td_service_bus(req->service), td_req_mongo(req), coll, id);
    if (rc != TD_OK)
        td_log(TD_LOG_WARN, req->request_id, "event of %s/%s left for the sweeper: %s", coll, id,
               td_strerror(rc));
    return TD_OK;
}
