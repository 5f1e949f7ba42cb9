/* Object-level authorization and small helpers shared by the booking resources. */
#include "booking.h"

#include "tripdesk/config.h"
#include "tripdesk/listcopies.h"
#include "tripdesk/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int parse_oid(const char *s, bson_oid_t *oid)
{
    if (!td_is_object_id(s))
        return TD_EINVAL;
    char lower[25];
    lower_into(lower, sizeof lower, s);
    bson_oid_init_from_string(oid, lower);
    return TD_OK;
}

void lower_into(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
    td_utf8_trim(dst);
}

bool owns(const td_req *req, const bson_t *doc, const char *owner_field)
{
    char owner[25];
    td_bson_oid_hex(doc, owner_field, owner);
    return strcmp(owner, req->principal.agent_id) == 0;
}

void scope_filter(const td_req *req, bson_t *filter, const char *owner_field, const char *view_all)
{
    if (td_req_can(req, view_all))
        return;
    bson_oid_t me;
    bson_oid_init_from_string(&me, req->principal.agent_id);
    BSON_APPEND_OID(filter, owner_field, &me);
}

const char *scope_key(const td_req *req, const char *view_all)
{
    return td_cache_scope(req->principal.permissions, view_all, req->principal.agent_id);
}

int load_visible(td_req *req, td_res *res, const char *coll, const char *owner_field,
                 const char *view_all, bson_t *out)
{
    bson_oid_t oid;
    if (parse_oid(td_req_param(req, "id"), &oid) != TD_OK) {
        td_fail(res, 400, "INVALID_ID", "The id must be 24 hex digits", NULL);
        return TD_EINVAL;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL) {
        td_fail_rc(res, TD_EUNAVAIL, NULL);
        return TD_EUNAVAIL;
    }
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_BOOL(&filter, "deleted", false);
    scope_filter(req, &filter, owner_field, view_all);
    int rc = td_store_find_one(c, coll, &filter, out);
    bson_destroy(&filter);
    if (rc != TD_OK)
        td_fail_rc(res, rc, "Not found");
    return rc;
}

static const char *const hidden[] = {"searchText", "destinationKey", "nameKey", "cityKey",
                                     "emailKey",   "phoneKey",       "deleted", NULL};

cJSON *doc_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden);
}

int get_date(const cJSON *obj, const char *name, const char *path, bool required, td_res *res,
             int64_t *ms, bool *present)
{
    *present = false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (v == NULL || cJSON_IsNull(v)) {
        if (!required)
            return TD_OK;
        char msg[128];
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s is required", path)); /* fits: a path of ours */
        td_fail_field(res, path, msg);
        return TD_EINVAL;
    }
    if (!cJSON_IsString(v) || td_parse_date(v->valuestring, false, ms) != TD_OK) {
        char msg[160];
        /* fits: a field path of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "%s must be a date (YYYY-MM-DD)", path));
        td_fail_field(res, path, msg);
        return TD_EINVAL;
    }
    *present = true;
    return TD_OK;
}

int get_version(const cJSON *body, td_res *res, int64_t *version)
{
    long long v;
    bool present;
    *version = -1;
    int rc = td_get_int(body, "version", false, 0, 1LL << 52, res, &v, &present);
    if (rc == TD_OK && present)
        *version = v;
    return rc;
}

int update_failed(td_res *res, int rc)
{
    if (rc == TD_ENOTFOUND)
        return td_fail(res, 409, "VERSION_CONFLICT",
                       "The record was changed by someone else meanwhile; reload and retry", NULL);
    return td_fail_rc(res, rc, "update failed");
}

int list_begin(td_req *req, td_res *res, const td_list_spec *spec, const char *owner_param,
               const char *view_all, td_list *l)
{
    int rc = td_list_parse(spec, req->query, l, res);
    if (rc != TD_OK)
        return rc;
    bson_iter_t it;
    if (!td_req_can(req, view_all) && owner_param != NULL &&
        bson_iter_init_find(&it, &l->filter, owner_param)) {
        char who[25] = "";
        if (BSON_ITER_HOLDS_OID(&it))
            bson_oid_to_string(bson_iter_oid(&it), who);
        if (strcmp(who, req->principal.agent_id) != 0) {
            td_fail(res, 403, "FORBIDDEN", "You may only list your own records", NULL);
            return TD_EINVAL;
        }
        /* it names the caller: the scope filter below says the same */
        bson_t copy = BSON_INITIALIZER;
        bson_copy_to_excluding_noinit(&l->filter, &copy, owner_param, NULL);
        bson_destroy(&l->filter);
        bson_init(&l->filter);
        bson_concat(&l->filter, &copy);
        bson_destroy(&copy);
    }
    return TD_OK;
}

int changed_fields(const bson_t *fields, const cJSON *old, const cJSON *new, bson_t *set,
                   cJSON *before, cJSON *after)
{
    bson_iter_t it;
    int changed = 0;
    if (!bson_iter_init(&it, fields))
        return 0;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(old, key);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(new, key);
        if (o != NULL && cJSON_Compare(o, n, true))
            continue;
        bson_append_iter(set, key, -1, &it);
        cJSON_AddItemToObject(before, key,
                              o != NULL ? cJSON_Duplicate(o, true) : cJSON_CreateNull());
        cJSON_AddItemToObject(after, key, cJSON_Duplicate(n, true));
        changed++;
    }
    return changed;
}

const td_cached_list booking_cached_lists[CACHED_LISTS_N] = BOOKING_CACHED_LISTS;

/* What a list keeps in step with the writes to its collection (a td_store
 * observer): its copy, if any, and its cache namespace. */
typedef struct {
    td_listindex *copy;
    const td_cached_list *list;
} list_watch;

static list_watch watches[CACHED_LISTS_N];
static int nwatches;

int list_copies_configure(void)
{
    int rc = td_list_copies_configure();
    return rc != TD_OK ? rc : td_cached_lists_register(booking_cached_lists, CACHED_LISTS_N);
}

/* After each write to a list's collection: the copy gets the document (also while
 * auto is undecided, so that the other daemons hear of it), the cache a new
 * generation. */
static void on_write(const char *coll, const bson_t *doc, void *arg)
{
    (void)coll;
    const list_watch *w = arg;
    if (w->copy != NULL && td_list_copies_use() != TD_COPIES_OFF)
        td_listindex_put(w->copy, doc);
    td_cache_invalidate(w->list->ns);
}

int list_copy_new(td_listindex **out, const char *coll, const td_cached_list *list,
                  const td_list_spec *spec, const char *owner_field)
{
    return list_copy_new_extra(out, coll, list, spec, owner_field, NULL);
}

int list_copy_new_extra(td_listindex **out, const char *coll, const td_cached_list *list,
                        const td_list_spec *spec, const char *owner_field, const char *const *extra)
{
    *out = NULL;
    if (nwatches == CACHED_LISTS_N)
        return TD_ENOMEM;
    const char *fields[40];
    int n = 0;
    for (const td_qp *qp = spec->params; qp->param != NULL && n < 24; qp++)
        fields[n++] = qp->field;
    for (int i = 0; spec->sort_fields[i] != NULL && n < 36; i++)
        fields[n++] = spec->sort_fields[i];
    fields[n++] = spec->default_sort;
    fields[n++] = owner_field;
    fields[n++] = "deleted";
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 39; i++)
        fields[n++] = extra[i];
    fields[n] = NULL;
    int rc = TD_OK;
    if (td_list_copies_use() != TD_COPIES_OFF)
        rc = td_listindex_new(out, coll, list->ns, fields, doc_json);
    if (rc != TD_OK)
        return rc;
    list_watch *w = &watches[nwatches];
    w->copy = *out;
    w->list = list;
    rc = td_store_on_write(coll, on_write, w);
    if (rc == TD_OK)
        nwatches++;
    else
        td_listindex_free(*out);
    return rc;
}

void list_copies_maintain(mongoc_client_t *c)
{
    if (td_list_copies_decide(c) != TD_COPIES_ON)
        return;
    for (int i = 0; i < nwatches; i++)
        if (watches[i].copy != NULL)
            td_listindex_maintain(watches[i].copy, c);
}

void list_copies_free(void)
{
    td_store_observers_clear();
    for (int i = 0; i < nwatches; i++)
        td_listindex_free(watches[i].copy);
    nwatches = 0;
}

int list_run(td_req *req, td_res *res, td_list *l, const char *coll, const char *owner_field,
             const td_cached_list *list, int ttl_s, td_listindex *ix)
{
    td_cache_slot slot;
    /* The gateway serves this list's hits from the registered definition: a path
     * served under another one is not cached at all. */
    if (td_cached_list_find(req->path) != list) {
        td_error("%s is not registered as the cached list %s: not cached", req->path, list->path);
        slot.state = TD_CACHE_BYPASS;
    } else if (td_cache_lookup(res, &slot, list->ns, scope_key(req, list->view_all), req->query) ==
               TD_CACHE_HIT) {
        return TD_OK;
    }
    mongoc_client_t *c = td_req_mongo(req);
    if (c == NULL)
        return td_fail_rc(res, TD_EUNAVAIL, NULL);
    BSON_APPEND_BOOL(&l->filter, "deleted", false);
    scope_filter(req, &l->filter, owner_field, list->view_all);
    cJSON *items = NULL;
    int64_t total = 0;
    ix = td_list_copy_if_on(ix);
    bool degraded = false;
    int rc =
        ix != NULL ? td_listindex_query_degraded(ix, c, l, &items, &total, &degraded) : TD_EUNAVAIL;
    rc = td_list_answer_model(req, res, rc, items, total, degraded, coll, l, doc_json);
    if (rc == TD_EAGAIN)
        return TD_OK; /* parked, or 503 LIST_LOADING: nothing to cache */
    if (degraded)     /* maybe without other daemons' writes: never cached */
        slot.state = TD_CACHE_BYPASS;
    if (rc == TD_OK)
        td_cache_store(res, &slot, ttl_s); /* says X-Cache: MISS or BYPASS too */
    return TD_OK;
}

int soft_delete(td_req *req, td_res *res, const char *coll, const bson_t *doc, const char *type,
                const char *target_type)
{
    char hex[25];
    bson_oid_t id;
    parse_oid(td_bson_oid_hex(doc, "_id", hex), &id);
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_BOOL(&set, "deleted", true);
    BSON_APPEND_DATE_TIME(&set, "deletedAt", td_now_ms());
    bson_append_document_end(&update, &set);
    cJSON *payload = td_event_payload(req, type, target_type, hex, doc_json(doc, NULL), NULL);
    int rc = td_store_update(req, coll, &id, td_bson_int(doc, "version", 0), &update, type, payload,
                             NULL);
    cJSON_Delete(payload);
    bson_destroy(&update);
    if (rc != TD_OK) {
        (void)update_failed(res, rc); /* the answer; rc says what happened */
        return rc;
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "_id", hex);
    cJSON_AddBoolToObject(data, "deleted", true);
    return td_ok(res, 200, data);
}
