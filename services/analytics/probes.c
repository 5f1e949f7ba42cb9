/* GET /api/dashboard/bus/probes?tag=X (admin): how many distinct probe events with
 * that tag reached analytics, per publisher, and how many deliveries were duplicates
 * (a delivery of an event already handled). */
#include "analytics.h"

#include "tripdesk/bsonpath.h"
#include "tripdesk/mongo.h"

#include <string.h>

#define PROBE_TAG_MAX 64

/* Duplicate deliveries recorded for tag (0 when none or unknown). */
static int64_t duplicates(mongoc_client_t *c, const char *tag)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_BUS_PROBE_STATS);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(tag));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    int64_t n = 0;
    if (mongoc_cursor_next(cur, &doc))
        n = td_bson_int(doc, "duplicates", 0);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(filter);
    return n;
}

int probes_get(td_req *req, td_res *res)
{
    if (!td_req_has_role(req, "admin"))
        return td_fail(res, 403, "FORBIDDEN", "Admin role required", NULL);
    td_query q;
    if (td_query_parse(req->query, &q) != TD_OK)
        return td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
    int rc = 0;
    for (int i = 0; i < q.count; i++)
        if (strcmp(q.items[i].name, "tag") != 0) {
            rc = td_fail_field(res, q.items[i].name, "Unknown query parameter");
            goto out;
        }
    const char *tag = td_query_get(&q, "tag");
    if (tag == NULL || tag[0] == '\0' || strlen(tag) > PROBE_TAG_MAX) {
        rc = td_fail_field(res, "tag", "tag must be a string of 1 to 64 characters");
        goto out;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        rc = td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$match", "{", "tag", BCON_UTF8(tag), "}",
                                "}", "{", "$group", "{", "_id", BCON_UTF8("$publisher"), "count",
                                "{", "$sum", BCON_INT32(1), "}", "}", "}", "]");
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_BUS_PROBES);
    mongoc_cursor_t *cur =
        mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    cJSON *by = cJSON_CreateObject();
    int64_t total = 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        const char *pub = td_bson_str(doc, "_id");
        int64_t n = td_bson_int(doc, "count", 0);
        if (pub != NULL)
            cJSON_AddNumberToObject(by, pub, (double)n);
        total += n;
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur, &err)) {
        cJSON_Delete(by);
        rc = td_fail_rc(res, td_mongo_rc(&err), "query failed");
    } else {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "tag", tag);
        cJSON_AddNumberToObject(data, "received", (double)total);
        cJSON_AddItemToObject(data, "byPublisher", by);
        cJSON_AddNumberToObject(data, "duplicateDeliveries", (double)duplicates(c, tag));
        rc = td_ok(res, 200, data);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    bson_destroy(pipeline);
out:
    td_query_free(&q);
    return rc;
}
