/*
 * Audit log entries from events (PRD step 2). Every event but BUS_PROBE becomes one
 * document of audit_logs whose _id is the event id: a redelivered event is a
 * duplicate key, which counts as done, so there is never a second entry.
 *
 * Event payloads are {action, actor {id, role} | null, target {type, id}, changes
 * {before, after}, metadata {ip, userAgent, requestId}, ...snapshot fields}. The
 * JSON is copied into BSON here rather than with bson_init_from_json: strings and
 * keys are made valid UTF-8, '$' and '.' in keys become their full-width forms,
 * duplicate keys are dropped and over-deep or oversized parts are cut, so that no
 * payload can make the insert fail for good and stall its publisher's stream (the
 * bus redelivers an event until its handler succeeds).
 */
#include "analytics.h"

#include "tripdesk/common.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_MAX_DEPTH 32                        /* nesting kept in changes and details */
#define AUDIT_MAX_PART_BYTES ((size_t)256 * 1024) /* changes or details larger: not kept */
#define AUDIT_MAX_STR 1024                        /* top-level strings are cut to this */
#define AUDIT_SEARCH_MAX 2048                     /* bytes of searchText */
#define MAX_SAFE_INT 9007199254740992.0           /* 2^53: integral doubles below are int64 */

/* U+FFFD, U+FF04 (full-width '$'), U+FF0E (full-width '.') in UTF-8. */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"
#define UTF8_FULLWIDTH_DOLLAR "\xEF\xBC\x84"
#define UTF8_FULLWIDTH_DOT "\xEF\xBC\x8E"

const char *const audit_resource_types[] = {"booking",    "payment",    "lead",      "agent",
                                            "customer",   "commission", "itinerary", "auth",
                                            "permission", "system",     NULL};
const char *const audit_severities[] = {"info", "warning", "critical", NULL};

static const struct {
    const char *prefix;
    const char *type;
} resource_prefixes[] = {
    {"BOOKING_", "booking"},
    {"PAYMENT_", "payment"},
    {"LEAD_", "lead"},
    {"AGENT_", "agent"},
    {"CUSTOMER_", "customer"},
    {"COMMISSION_", "commission"},
    {"ITINERARY_", "itinerary"},
    {"AUTH_", "auth"},
    {"PERMISSIONS_", "permission"},
    {NULL, NULL},
};

static const char *const critical_actions[] = {
    "AGENT_DELETED",       "AGENT_ROLE_CHANGED", "PERMISSIONS_UPDATED", "PERMISSIONS_RESET",
    "AUTH_REFRESH_REUSED", "BOOKING_DELETED",    "PAYMENT_REFUNDED",    NULL,
};
static const char *const warning_actions[] = {
    "AUTH_LOGIN_FAILED", "AGENT_DEACTIVATED", "BOOKING_CANCELLED", "PAYMENT_FAILED",
    "LEAD_DELETED",      "CUSTOMER_DELETED",  "ITINERARY_DELETED", NULL,
};

/* Actions an agent performs on itself through a public route (sign-in,
 * self-registration): the event names no actor, the target agent is the actor. */
static const char *const self_actions[] = {"AUTH_LOGIN", "AGENT_REGISTERED", NULL};

/* Payload members that are not copied into `details`. */
static const char *const envelope_members[] = {"action",  "actor",    "target",
                                               "changes", "metadata", NULL};

static bool listed(const char *s, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static const char *resource_type(const char *action)
{
    for (int i = 0; resource_prefixes[i].prefix != NULL; i++)
        if (strncmp(action, resource_prefixes[i].prefix, strlen(resource_prefixes[i].prefix)) == 0)
            return resource_prefixes[i].type;
    return "system";
}

/* Severity name and its rank (1 info, 2 warning, 3 critical; sortBy=severity). */
static const char *severity(const char *action, int *rank)
{
    if (listed(action, critical_actions)) {
        *rank = 3;
        return "critical";
    }
    if (listed(action, warning_actions)) {
        *rank = 2;
        return "warning";
    }
    *rank = 1;
    return "info";
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    return bson_utf8_validate((const char *)s, len, false) ? len : 0;
}

/*
 * A copy of s cut to at most max bytes (on a character boundary) with invalid
 * UTF-8 replaced by U+FFFD; for a key also '$' and '.' replaced by their
 * full-width forms and "" by "(empty)", as MongoDB allows none of them. NULL when
 * out of memory. Caller frees.
 */
static char *clean(const char *s, size_t max, bool key)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (key && n == 0)
        return strdup("(empty)");
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len = key && (*p == '$' || *p == '.') ? 0 : utf8_seq(p, n - i);
        if (len > 0) {
            memcpy(out + w, p, len);
            w += len;
            i += len;
            continue;
        }
        const char *sub = !key        ? UTF8_REPLACEMENT
                          : *p == '$' ? UTF8_FULLWIDTH_DOLLAR
                          : *p == '.' ? UTF8_FULLWIDTH_DOT
                                      : UTF8_REPLACEMENT;
        memcpy(out + w, sub, 3);
        w += 3;
        i++;
    }
    out[w] = '\0';
    return out;
}

/* Appends a cleaned string, or null when s is NULL. */
static void append_str(bson_t *doc, const char *key, const char *s, size_t max)
{
    char *v = s != NULL ? clean(s, max, false) : NULL;
    if (v != NULL)
        BSON_APPEND_UTF8(doc, key, v);
    else
        BSON_APPEND_NULL(doc, key);
    free(v);
}

/* Appends one JSON value as BSON under key (already a valid key). */
static void append_json(bson_t *doc, const char *key, const cJSON *v, int depth)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        if (depth >= AUDIT_MAX_DEPTH) {
            char *text = cJSON_PrintUnformatted(v);
            append_str(doc, key, text, AUDIT_MAX_STR);
            free(text);
            return;
        }
        bool array = cJSON_IsArray(v);
        bson_t child;
        if (array)
            bson_append_array_begin(doc, key, -1, &child);
        else
            bson_append_document_begin(doc, key, -1, &child);
        int n = 0;
        for (const cJSON *c = v->child; c != NULL; c = c->next) {
            char idx[16];
            char *k = NULL;
            if (array) {
                TD_IGNORE(td_fmt(idx, sizeof idx, "%d", n++)); /* fits: one int */
            } else {
                k = clean(c->string != NULL ? c->string : "", AUDIT_MAX_STR, true);
                if (k == NULL || bson_has_field(&child, k)) { /* first of duplicates wins */
                    free(k);
                    continue;
                }
            }
            append_json(&child, array ? idx : k, c, depth + 1);
            free(k);
        }
        if (array)
            bson_append_array_end(doc, &child);
        else
            bson_append_document_end(doc, &child);
    } else if (cJSON_IsString(v)) {
        append_str(doc, key, v->valuestring, AUDIT_MAX_PART_BYTES);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d > -MAX_SAFE_INT && d < MAX_SAFE_INT && (double)(int64_t)d == d)
            BSON_APPEND_INT64(doc, key, (int64_t)d);
        else
            BSON_APPEND_DOUBLE(doc, key, d);
    } else if (cJSON_IsBool(v)) {
        BSON_APPEND_BOOL(doc, key, cJSON_IsTrue(v));
    } else {
        BSON_APPEND_NULL(doc, key);
    }
}

/* Appends part as a sub-document, or null when it came out larger than
 * AUDIT_MAX_PART_BYTES (*cut set then). */
static void append_part(bson_t *doc, const char *key, const bson_t *part, bool *cut)
{
    if (part->len > AUDIT_MAX_PART_BYTES) {
        BSON_APPEND_NULL(doc, key);
        *cut = true;
    } else {
        BSON_APPEND_DOCUMENT(doc, key, part);
    }
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

/* A non-empty string member, or NULL. */
static const char *str_member(const cJSON *obj, const char *name)
{
    const cJSON *v = member(obj, name);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

/* Appends s (lower-cased) to the search text in buf, as far as it fits. */
static void search_add(char *buf, size_t *len, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    for (const char *p = *len > 0 ? " " : ""; *p != '\0' && *len + 1 < AUDIT_SEARCH_MAX; p++)
        buf[(*len)++] = *p;
    for (; *s != '\0' && *len + 1 < AUDIT_SEARCH_MAX; s++)
        buf[(*len)++] = (char)tolower((unsigned char)*s);
    buf[*len] = '\0';
    if (*s != '\0') { /* cut: never inside a character */
        td_utf8_trim(buf);
        *len = strlen(buf);
    }
}

/* The strings of the snapshot fields (and of their direct members) for search. */
static void search_add_details(char *buf, size_t *len, const cJSON *payload)
{
    for (const cJSON *m = payload != NULL ? payload->child : NULL; m != NULL; m = m->next) {
        if (m->string == NULL || listed(m->string, envelope_members))
            continue;
        if (cJSON_IsString(m))
            search_add(buf, len, m->valuestring);
        for (const cJSON *c = cJSON_IsObject(m) ? m->child : NULL; c != NULL; c = c->next)
            if (cJSON_IsString(c))
                search_add(buf, len, c->valuestring);
    }
}

/* What an audit entry says about its event, read once from the payload. */
typedef struct {
    const cJSON *payload; /* the payload when it is an object, else NULL */
    const char *actor_id, *actor_role, *target_type, *target_id;
    const char *resource, *severity;
    int severity_rank;
} entry_info;

static void read_info(const td_event *ev, entry_info *e)
{
    memset(e, 0, sizeof *e);
    e->payload = cJSON_IsObject(ev->payload) ? ev->payload : NULL;
    const cJSON *actor = member(e->payload, "actor"), *target = member(e->payload, "target");
    e->actor_id = str_member(actor, "id");
    e->actor_role = str_member(actor, "role");
    e->target_type = str_member(target, "type");
    e->target_id = str_member(target, "id");
    if (e->actor_id == NULL && listed(ev->type, self_actions) && e->target_type != NULL &&
        strcmp(e->target_type, "agent") == 0) {
        e->actor_id = e->target_id;
        e->actor_role = str_member(member(e->payload, "agent"), "role");
    }
    e->resource = resource_type(ev->type);
    e->severity = severity(ev->type, &e->severity_rank);
}

/*
 * Builds the entry into doc. full: with changes and details; without them it is
 * the fallback for a payload the server refused.
 */
static void build(const td_event *ev, const entry_info *e, bool full, bson_t *doc)
{
    append_str(doc, "_id", ev->id, AUDIT_MAX_STR);
    append_str(doc, "action", ev->type, AUDIT_MAX_STR);
    append_str(doc, "performedBy", e->actor_id, AUDIT_MAX_STR);
    append_str(doc, "performedByRole", e->actor_role, AUDIT_MAX_STR);
    BSON_APPEND_UTF8(doc, "resourceType", e->resource);
    append_str(doc, "targetType", e->target_type, AUDIT_MAX_STR);
    append_str(doc, "targetId", e->target_id, AUDIT_MAX_STR);

    bool cut = !full;
    const cJSON *changes = member(e->payload, "changes");
    bson_t part = BSON_INITIALIZER;
    append_json(&part, "before", full ? member(changes, "before") : NULL, 1);
    append_json(&part, "after", full ? member(changes, "after") : NULL, 1);
    append_part(doc, "changes", &part, &cut);
    bson_reinit(&part);
    bool any = false;
    for (const cJSON *m = full && e->payload != NULL ? e->payload->child : NULL; m != NULL;
         m = m->next) {
        if (m->string == NULL || listed(m->string, envelope_members))
            continue;
        char *k = clean(m->string, AUDIT_MAX_STR, true);
        if (k != NULL && !bson_has_field(&part, k)) {
            append_json(&part, k, m, 1);
            any = true;
        }
        free(k);
    }
    if (any)
        append_part(doc, "details", &part, &cut);
    bson_destroy(&part);
    if (cut)
        BSON_APPEND_BOOL(doc, "truncated", true);

    const cJSON *meta = member(e->payload, "metadata");
    bson_t m;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "metadata", &m);
    append_str(&m, "ip", str_member(meta, "ip"), AUDIT_MAX_STR);
    append_str(&m, "userAgent", str_member(meta, "userAgent"), AUDIT_MAX_STR);
    append_str(&m, "requestId", str_member(meta, "requestId"), AUDIT_MAX_STR);
    bson_append_document_end(doc, &m);

    BSON_APPEND_UTF8(doc, "severity", e->severity);
    BSON_APPEND_INT32(doc, "severityRank", e->severity_rank);
    append_str(doc, "publisher", ev->publisher, AUDIT_MAX_STR);
    BSON_APPEND_INT64(doc, "sequence", (int64_t)ev->sequence);
    BSON_APPEND_DATE_TIME(doc, "createdAt", ev->time_ms > 0 ? ev->time_ms : td_now_ms());

    char text[AUDIT_SEARCH_MAX];
    size_t len = 0;
    text[0] = '\0';
    search_add(text, &len, ev->type);
    search_add(text, &len, e->resource);
    search_add(text, &len, e->actor_id);
    search_add(text, &len, e->actor_role);
    search_add(text, &len, e->target_type);
    search_add(text, &len, e->target_id);
    search_add(text, &len, str_member(meta, "ip"));
    search_add(text, &len, str_member(meta, "userAgent"));
    search_add(text, &len, str_member(meta, "requestId"));
    if (full)
        search_add_details(text, &len, e->payload);
    append_str(doc, "searchText", text, AUDIT_SEARCH_MAX);
}

/* Inserts one entry: TD_OK also when it exists already (a redelivery; *fresh false). */
static int insert(mongoc_client_t *c, const bson_t *doc, bool *fresh)
{
    mongoc_collection_t *coll = td_mongo_coll(c, COLL_AUDIT_LOGS);
    bson_error_t err;
    bool ok = mongoc_collection_insert_one(coll, doc, NULL, NULL, &err);
    mongoc_collection_destroy(coll);
    *fresh = ok;
    if (ok)
        return TD_OK;
    int rc = td_mongo_rc(&err);
    if (rc == TD_ECONFLICT)
        return TD_OK;
    if (rc != TD_EUNAVAIL)
        td_error("audit: insert failed: %s", err.message);
    return rc;
}

int audit_record(const td_event *ev, mongoc_client_t *c)
{
    entry_info e;
    read_info(ev, &e);
    bson_t doc = BSON_INITIALIZER;
    build(ev, &e, true, &doc);
    bool fresh;
    int rc = insert(c, &doc, &fresh);
    if (rc == TD_EIO) {
        /* Refused for its content: keep who/what/when rather than stall the stream. */
        bson_reinit(&doc);
        build(ev, &e, false, &doc);
        rc = insert(c, &doc, &fresh);
        if (rc == TD_OK)
            td_warn("audit: %s event %s stored without changes and details", ev->type, ev->id);
    }
    if (rc == TD_OK && fresh)
        audit_model_put(&doc); /* a redelivery is in the model already */
    bson_destroy(&doc);
    return rc;
}

/* The list and stats queries' indexes (PRD 2.4.1 plus the filters). */
int audit_indexes(mongoc_client_t *c)
{
    static const struct {
        const char *name;
        const char *f1;
        int d1;
        const char *f2;
        int d2;
    } indexes[] = {
        {"resource_created", "resourceType", 1, "createdAt", -1},
        {"target", "targetId", 1, NULL, 0},
        {"actor_created", "performedBy", 1, "createdAt", -1},
        {"action_created", "action", 1, "createdAt", -1},
    };
    int rc = TD_OK;
    for (size_t i = 0; rc == TD_OK && i < sizeof indexes / sizeof indexes[0]; i++) {
        bson_t keys = BSON_INITIALIZER;
        BSON_APPEND_INT32(&keys, indexes[i].f1, indexes[i].d1);
        if (indexes[i].f2 != NULL)
            BSON_APPEND_INT32(&keys, indexes[i].f2, indexes[i].d2);
        rc = td_mongo_index(c, COLL_AUDIT_LOGS, &keys, indexes[i].name, false);
        bson_destroy(&keys);
    }
    return rc;
}
