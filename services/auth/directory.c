/*
 * GET /api/agents/directory: the agents' names for those who see other agents'
 * records (canViewAllAgents, canAssignLeads or canViewAllBookings) without being
 * allowed the whole agent list: {_id, firstName, lastName, email, role} only.
 *   ?search=text   active agents whose name, email or agency contains it
 *   ?ids=a,b,...   these agents (any status but deleted), to name the agents a page
 *                  shows; with search too: those of them that match
 *   ?limit=n       at most n (1..20, default 10)
 * Sorted by last name, first name.
 *
 * Served from an in-memory copy of the agents (listindex.h) when the list copies are
 * on (TRIPDESK_LIST_COPIES=auto: on FerretDB), fed by every td_store write to agents
 * and by the super_admin seed; otherwise (off, MongoDB, or the copy unable to
 * answer) from the database with the same filter.
 */
#include "auth.h"

#include "tripdesk/config.h"
#include "tripdesk/listcopies.h"
#include "tripdesk/listindex.h"
#include "tripdesk/log.h"
#include "tripdesk/query.h"

#include <stdlib.h>
#include <string.h>

#define DIRECTORY_NS "auth:agents"
#define DIRECTORY_LIMIT_DEFAULT 10
#define DIRECTORY_LIMIT_MAX 20
#define DIRECTORY_IDS_MAX 20
#define OID_HEX_LEN 24

static int directory(td_req *req, td_res *res);

const td_route directory_routes[] = {
    {"GET", "/api/agents/directory", directory, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

/* Any of these lets a caller read the directory. */
static const char *const allowed_by[] = {"canViewAllAgents", "canAssignLeads", "canViewAllBookings",
                                         NULL};

static const char *const copy_fields[] = {"searchText", "status", "lastName", "firstName", NULL};
static const char *const shown[] = {"firstName", "lastName", "email", "role"};

static td_listindex *copy;

cJSON *directory_json(const bson_t *doc, void *arg)
{
    (void)arg;
    cJSON *o = cJSON_CreateObject();
    char id[25];
    cJSON_AddStringToObject(o, "_id", td_bson_oid_hex(doc, "_id", id));
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        const char *v = td_bson_str(doc, shown[i]);
        cJSON_AddStringToObject(o, shown[i], v != NULL ? v : "");
    }
    return o;
}

/* Keeps the copy in step with every write to agents (a td_store observer). */
static void on_write(const char *coll, const bson_t *doc, void *arg)
{
    (void)coll;
    (void)arg;
    directory_put(doc);
}

void directory_put(const bson_t *doc)
{
    if (copy != NULL && td_list_copies_use() != TD_COPIES_OFF)
        td_listindex_put(copy, doc);
}

int directory_new(void)
{
    int rc = td_list_copies_configure();
    if (rc != TD_OK || td_list_copies_use() == TD_COPIES_OFF)
        return rc;
    rc = td_listindex_new(&copy, COLL_AGENTS, DIRECTORY_NS, copy_fields, directory_json);
    if (rc == TD_OK)
        rc = td_store_on_write(COLL_AGENTS, on_write, NULL);
    return rc;
}

void directory_maintain(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    if (copy != NULL && td_list_copies_decide(c) == TD_COPIES_ON)
        td_listindex_maintain(copy, c);
}

void directory_free(void)
{
    td_listindex_free(copy);
    copy = NULL;
}

static int bad(td_res *res, const char *field, const char *message)
{
    td_fail_field(res, field, message);
    return TD_EINVAL;
}

/* ids=a,b,c into {$in: [ObjectId...]} under "_id" of filter; *n how many. */
static int add_ids(bson_t *filter, const char *ids, td_res *res, int *n)
{
    bson_t in, arr;
    *n = 0;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    int rc = TD_OK;
    for (const char *p = ids; rc == TD_OK && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char hex[OID_HEX_LEN + 1] = "";
        if (len == OID_HEX_LEN) /* fits: exactly OID_HEX_LEN bytes */
            TD_IGNORE(td_fmt(hex, sizeof hex, "%.*s", (int)len, p));
        if (!td_is_object_id(hex))
            rc = bad(res, "ids", "ids must be agent ids (24 hex digits) separated by commas");
        else if (*n == DIRECTORY_IDS_MAX)
            rc = bad(res, "ids", "At most 20 ids");
        if (rc == TD_OK) {
            for (size_t i = 0; i < OID_HEX_LEN; i++)
                hex[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
            bson_oid_t oid;
            bson_oid_init_from_string(&oid, hex);
            char key[16];
            const char *k;
            bson_uint32_to_string((uint32_t)*n, &k, key, sizeof key);
            BSON_APPEND_OID(&arr, k, &oid);
            (*n)++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(filter, &in);
    return rc;
}

/* The query string into l (filter, sort, page of at most 20); TD_EINVAL answered. */
static int parse(const td_req *req, td_res *res, td_list *l)
{
    td_query q;
    if (td_query_parse(req->query, &q) != TD_OK) {
        td_fail(res, 400, "VALIDATION_ERROR", "Malformed query string", NULL);
        return TD_EINVAL;
    }
    int rc = TD_OK;
    for (int i = 0; rc == TD_OK && i < q.count; i++) {
        const char *name = q.items[i].name;
        if (strcmp(name, "search") != 0 && strcmp(name, "ids") != 0 && strcmp(name, "limit") != 0)
            rc = bad(res, name, "Unknown parameter: the directory takes search, ids and limit");
        for (int j = 0; rc == TD_OK && j < i; j++)
            if (strcmp(q.items[j].name, name) == 0)
                rc = bad(res, name, "A parameter may be given once");
    }
    const char *search = td_query_get(&q, "search"), *ids = td_query_get(&q, "ids");
    const char *limit = td_query_get(&q, "limit");
    l->limit = DIRECTORY_LIMIT_DEFAULT;
    if (rc == TD_OK && limit != NULL) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || v < 1 || v > DIRECTORY_LIMIT_MAX)
            rc = bad(res, "limit", "limit must be a number from 1 to 20");
        else
            l->limit = v;
    }
    if (rc == TD_OK && search != NULL && strlen(search) > TD_SEARCH_MAX)
        rc = bad(res, "search", "search must be at most 100 characters");
    int nids = 0;
    if (rc == TD_OK && ids != NULL)
        rc = add_ids(&l->filter, ids, res, &nids);
    if (rc == TD_OK && ids != NULL && nids == 0)
        rc = bad(res, "ids", "ids must name at least one agent");
    if (rc == TD_OK && search != NULL && *search != '\0') {
        char esc[TD_SEARCH_MAX * 2 + 8];
        td_regex_escape(search, esc, sizeof esc);
        bson_t sub;
        BSON_APPEND_DOCUMENT_BEGIN(&l->filter, "searchText", &sub);
        BSON_APPEND_UTF8(&sub, "$regex", esc);
        bson_append_document_end(&l->filter, &sub);
    }
    if (rc == TD_OK && ids != NULL) {
        bson_t ne;
        BSON_APPEND_DOCUMENT_BEGIN(&l->filter, "status", &ne);
        BSON_APPEND_UTF8(&ne, "$ne", "deleted");
        bson_append_document_end(&l->filter, &ne);
    } else if (rc == TD_OK) {
        BSON_APPEND_UTF8(&l->filter, "status", "active");
    }
    td_query_free(&q);
    return rc;
}

static int directory(td_req *req, td_res *res)
{
    bool allowed = false;
    for (int i = 0; allowed_by[i] != NULL; i++)
        allowed = allowed || td_req_can(req, allowed_by[i]);
    if (!allowed)
        return td_fail(res, 403, "FORBIDDEN",
                       "The agent directory needs canViewAllAgents, canAssignLeads or "
                       "canViewAllBookings",
                       NULL);
    td_list l;
    memset(&l, 0, sizeof l);
    l.page = 1;
    bson_init(&l.filter);
    bson_init(&l.sort);
    BSON_APPEND_INT32(&l.sort, "lastName", 1);
    BSON_APPEND_INT32(&l.sort, "firstName", 1);
    if (parse(req, res, &l) != TD_OK)
        goto out;
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        goto out;
    }
    cJSON *items = NULL;
    int64_t total = 0;
    bool degraded = false;
    int rc = copy != NULL && td_list_copies_use() == TD_COPIES_ON
                 ? td_listindex_query_degraded(copy, c, &l, &items, &total, &degraded)
                 : TD_EUNAVAIL;
    if (rc == TD_EAGAIN) { /* the first load: asked again shortly, no worker held */
        if (!td_req_retry_in(req, TD_LIST_LOADING_POLL_MS, TD_LIST_LOADING_WAIT_MS)) {
            td_res_header(res, "Retry-After", "2");
            td_fail(res, 503, "LIST_LOADING",
                    "The agent directory is being loaded after a restart; retry in a few seconds",
                    NULL);
        }
        goto out;
    }
    td_res_header(res, "X-List-Source", rc == TD_OK ? "memory" : "database");
    if (degraded)
        td_res_header(res, "X-List-Degraded", "unsynced");
    if (rc == TD_OK)
        td_ok_page(res, items, l.page, l.limit, total);
    else
        td_list_answer(req, res, COLL_AGENTS, &l, directory_json, NULL);
out:
    td_list_free(&l);
    return 0;
}
