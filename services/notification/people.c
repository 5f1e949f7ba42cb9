/*
 * What the notification service knows of agents, bookings and customers, kept
 * from the auth and booking services' events (it reads no other database): each
 * a document by the other service's _id with `seq`, the sequence of the last event
 * applied, so that an event delivered twice or late changes nothing twice. The
 * active administrators are also kept in memory: several notifications go to all
 * of them, and finding them in the database would be a filter scan.
 */
#include "notification.h"

#include "tripdesk/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMINS_MAX 1024

static pthread_mutex_t admins_mu = PTHREAD_MUTEX_INITIALIZER;
static char (*admins)[25];
static size_t nadmins;

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The value of `name` in after when it changed there, else in snap. */
static const char *changed_str(const cJSON *after, const cJSON *snap, const char *name)
{
    const char *v = json_str(after, name);
    return v != NULL ? v : json_str(snap, name);
}

static void admin_set(const char *id, bool admin)
{
    pthread_mutex_lock(&admins_mu);
    size_t i = 0;
    while (i < nadmins && strcmp(admins[i], id) != 0)
        i++;
    if (admin && i == nadmins) {
        if (admins == NULL)
            admins = calloc(ADMINS_MAX, sizeof *admins);
        if (admins != NULL && nadmins < ADMINS_MAX)
            memcpy(admins[nadmins++], id, 25);
        else
            td_warn("more than %d administrators: %s gets no admin notifications", ADMINS_MAX, id);
    } else if (!admin && i < nadmins) {
        memcpy(admins[i], admins[--nadmins], 25);
    }
    pthread_mutex_unlock(&admins_mu);
}

static bool is_admin(const char *role, const char *status)
{
    return role != NULL && status != NULL && strcmp(status, "active") == 0 &&
           (strcmp(role, "admin") == 0 || strcmp(role, "super_admin") == 0);
}

/* Applies `set` to the copy of id in coll if the event (seq) is newer than the
 * last one applied; creates it when there is none. A newer one applied already:
 * nothing (TD_OK). */
static int copy_put(mongoc_client_t *c, const char *coll, const char *id, uint64_t seq, bson_t *set)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    BSON_APPEND_INT64(set, "seq", (int64_t)seq);
    bson_t *filter =
        BCON_NEW("_id", BCON_OID(&oid), "seq", "{", "$lt", BCON_INT64((int64_t)seq), "}");
    bson_t update = BSON_INITIALIZER, reply;
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    bson_error_t err;
    int rc = TD_OK;
    if (!mongoc_collection_update_one(cl, filter, &update, NULL, &reply, &err)) {
        rc = td_mongo_rc(&err);
    } else if (td_bson_int(&reply, "matchedCount", 0) == 0) {
        bson_t doc = BSON_INITIALIZER;
        BSON_APPEND_OID(&doc, "_id", &oid);
        bson_concat(&doc, set);
        if (!mongoc_collection_insert_one(cl, &doc, NULL, NULL, &err) &&
            (rc = td_mongo_rc(&err)) == TD_ECONFLICT)
            rc = TD_OK; /* there, with a newer event applied */
        bson_destroy(&doc);
    }
    bson_destroy(&reply);
    mongoc_collection_destroy(cl);
    bson_destroy(filter);
    bson_destroy(&update);
    return rc;
}

static void append_str(bson_t *b, const char *key, const char *v)
{
    if (v != NULL)
        BSON_APPEND_UTF8(b, key, v);
}

/* AGENT_*: the agent as the event's snapshot (before) shows it, with what changed. */
static int agent_event(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *snap = cJSON_GetObjectItemCaseSensitive(ev->payload, "agent");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ev->payload, "changes");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(changes, "after");
    const char *id = json_str(snap, "_id");
    if (!td_is_object_id(id))
        return TD_OK; /* not about one agent (login failures, permissions) */
    const char *role = changed_str(after, snap, "role");
    const char *status =
        strcmp(ev->type, "AGENT_DELETED") == 0 ? "deleted" : changed_str(after, snap, "status");
    bson_t set = BSON_INITIALIZER;
    append_str(&set, "firstName", changed_str(after, snap, "firstName"));
    append_str(&set, "lastName", changed_str(after, snap, "lastName"));
    append_str(&set, "email", changed_str(after, snap, "email"));
    append_str(&set, "role", role);
    append_str(&set, "status", status);
    int rc = copy_put(c, COLL_AGENTS, id, ev->sequence, &set);
    bson_destroy(&set);
    if (rc == TD_OK) {
        agent_info a;
        /* the copy as it now stands (a newer event may have been applied first) */
        if (agent_known(c, id, &a) == TD_OK)
            admin_set(id, is_admin(a.role, a.status));
    }
    return rc;
}

static int booking_event(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ev->payload, "booking");
    const char *id = json_str(b, "_id");
    if (!td_is_object_id(id))
        return TD_OK;
    const cJSON *trip = cJSON_GetObjectItemCaseSensitive(b, "tripDetails");
    bson_t set = BSON_INITIALIZER;
    append_str(&set, "bookingReference", json_str(b, "bookingReference"));
    append_str(&set, "agent", json_str(b, "agent"));
    append_str(&set, "customer", json_str(b, "customer"));
    append_str(&set, "destination", json_str(trip, "destination"));
    int rc = copy_put(c, COLL_BOOKINGS, id, ev->sequence, &set);
    bson_destroy(&set);
    return rc;
}

static int customer_event(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *snap = cJSON_GetObjectItemCaseSensitive(ev->payload, "customer");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ev->payload, "changes");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(changes, "after");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(ev->payload, "target");
    const char *id = json_str(target, "id");
    if (!td_is_object_id(id))
        return TD_OK;
    bson_t set = BSON_INITIALIZER;
    append_str(&set, "firstName", changed_str(after, snap, "firstName"));
    append_str(&set, "lastName", changed_str(after, snap, "lastName"));
    append_str(&set, "email", changed_str(after, snap, "email"));
    int rc = copy_put(c, COLL_CUSTOMERS, id, ev->sequence, &set);
    bson_destroy(&set);
    return rc;
}

int people_event(const td_event *ev, mongoc_client_t *c, void *arg)
{
    (void)arg;
    if (strncmp(ev->type, "AGENT_", 6) == 0)
        return agent_event(ev, c);
    if (strcmp(ev->type, "BOOKING_CREATED") == 0)
        return booking_event(ev, c);
    if (strcmp(ev->type, "CUSTOMER_CREATED") == 0 || strcmp(ev->type, "CUSTOMER_UPDATED") == 0)
        return customer_event(ev, c);
    return TD_OK;
}

static int find_by_id(mongoc_client_t *c, const char *coll, const char *id, bson_t *out)
{
    if (!td_is_object_id(id))
        return TD_ENOTFOUND;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    int rc = td_store_find_one(c, coll, &filter, out);
    bson_destroy(&filter);
    return rc;
}

static void copy_field(char *dst, size_t len, const bson_t *doc, const char *field)
{
    const char *s = td_bson_str(doc, field);
    td_fmt_text(dst, len, "%s", s != NULL ? s : ""); /* cut to the field's size */
}

void agent_from_doc(const bson_t *doc, agent_info *out)
{
    memset(out, 0, sizeof *out);
    td_bson_oid_hex(doc, "_id", out->id);
    const char *first = td_bson_str(doc, "firstName"), *last = td_bson_str(doc, "lastName");
    td_fmt_text(out->name, sizeof out->name, "%s%s%s", first != NULL ? first : "",
                first != NULL && last != NULL ? " " : "", last != NULL ? last : "");
    copy_field(out->email, sizeof out->email, doc, "email");
    copy_field(out->role, sizeof out->role, doc, "role");
    copy_field(out->status, sizeof out->status, doc, "status");
}

int agent_known(mongoc_client_t *c, const char *id, agent_info *out)
{
    memset(out, 0, sizeof *out);
    bson_t doc;
    bson_init(&doc);
    int rc = find_by_id(c, COLL_AGENTS, id, &doc);
    if (rc == TD_OK)
        agent_from_doc(&doc, out);
    bson_destroy(&doc);
    return rc;
}

int booking_seen(mongoc_client_t *c, const char *id, booking_info *out)
{
    memset(out, 0, sizeof *out);
    bson_t doc;
    bson_init(&doc);
    int rc = find_by_id(c, COLL_BOOKINGS, id, &doc);
    if (rc == TD_OK) {
        memcpy(out->id, id, 25);
        copy_field(out->reference, sizeof out->reference, &doc, "bookingReference");
        copy_field(out->agent, sizeof out->agent, &doc, "agent");
        copy_field(out->customer, sizeof out->customer, &doc, "customer");
        copy_field(out->destination, sizeof out->destination, &doc, "destination");
    }
    bson_destroy(&doc);
    return rc;
}

int admins_known(mongoc_client_t *c, char (**ids)[25], size_t *n)
{
    (void)c;
    pthread_mutex_lock(&admins_mu);
    *n = nadmins;
    *ids = nadmins > 0 ? malloc(nadmins * sizeof **ids) : NULL;
    int rc = nadmins > 0 && *ids == NULL ? TD_ENOMEM : TD_OK;
    if (*ids != NULL)
        memcpy(*ids, admins, nadmins * sizeof **ids);
    if (rc != TD_OK)
        *n = 0;
    pthread_mutex_unlock(&admins_mu);
    return rc;
}

int people_init(mongoc_client_t *c)
{
    /* once at start: the administrators among the agents known so far (a small
     * collection; afterwards the events keep the set) */
    mongoc_collection_t *cl = td_mongo_coll(c, COLL_AGENTS);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(cl, &filter, NULL, NULL);
    const bson_t *doc;
    char hex[25];
    while (mongoc_cursor_next(cur, &doc))
        if (is_admin(td_bson_str(doc, "role"), td_bson_str(doc, "status")))
            admin_set(td_bson_oid_hex(doc, "_id", hex), true);
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? td_mongo_rc(&err) : TD_OK;
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(cl);
    return rc;
}

void people_free(void)
{
    pthread_mutex_lock(&admins_mu);
    free(admins);
    admins = NULL;
    nadmins = 0;
    pthread_mutex_unlock(&admins_mu);
}
