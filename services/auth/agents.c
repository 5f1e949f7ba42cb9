/*
 * /api/agents: listing, reading and administering agents. Every change is an
 * optimistic update on the agent's `version`, stages its AGENT_* event in the same
 * write, and — when it changes what a token grants (status, role, deletion) —
 * bumps the agent's token version so earlier access tokens stop working at once.
 */
#include "auth.h"

#include "tripdesk/query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int list(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int approve(td_req *req, td_res *res);
static int deactivate(td_req *req, td_res *res);
static int change_role(td_req *req, td_res *res);
static int update_profile(td_req *req, td_res *res);
static int remove_agent(td_req *req, td_res *res);

const td_route agent_routes[] = {
    {"GET", "/api/agents", list, 0, "canViewAllAgents"},
    {"GET", "/api/agents/:id", get, 0, NULL},
    {"PATCH", "/api/agents/:id/approve", approve, 0, "canApproveAgents"},
    {"PATCH", "/api/agents/:id/deactivate", deactivate, 0, "canApproveAgents"},
    {"PATCH", "/api/agents/:id/role", change_role, 0, "canChangeAnyRole"},
    {"PUT", "/api/agents/:id", update_profile, 0, NULL},
    {"DELETE", "/api/agents/:id", remove_agent, 0, "canDeleteAgents"},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const statuses[] = {"pending", "active", "deactivated", NULL};
static const char *const hidden_fields[] = {"passwordHash", "searchText", "tokenVersion",
                                            "tokensRevokedAt", NULL};

cJSON *agent_json(const bson_t *doc, void *arg)
{
    (void)arg;
    return td_bson_to_json(doc, hidden_fields);
}

void agent_search_text(bson_t *doc, const char *email, const char *first, const char *last,
                       const char *agency)
{
    /* Sized from the limits: an email, two 60- and one 120-character names. */
    char buf[TD_EMAIL_MAX + TD_UTF8_BYTES(60 + 60 + 120) + 4];
    /* fits: every part is validated to its limit before */
    TD_IGNORE(
        td_fmt(buf, sizeof buf, "%s %s %s %s", email, first, last, agency != NULL ? agency : ""));
    for (char *p = buf; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    BSON_APPEND_UTF8(doc, "searchText", buf);
}

int agent_find(mongoc_client_t *c, const char *id, bson_t *out)
{
    if (!td_is_object_id(id))
        return TD_ENOTFOUND;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    bson_t *filter =
        BCON_NEW("_id", BCON_OID(&oid), "status", "{", "$ne", BCON_UTF8("deleted"), "}");
    int rc = td_store_find_one(c, COLL_AGENTS, filter, out);
    bson_destroy(filter);
    return rc;
}

int agent_find_email(mongoc_client_t *c, const char *email, bson_t *out)
{
    bson_t *filter = BCON_NEW("email", BCON_UTF8(email));
    int rc = td_store_find_one(c, COLL_AGENTS, filter, out);
    bson_destroy(filter);
    return rc;
}

/* Loads the agent named by the :id parameter into out, or answers 400/404/503. */
static int load_target(td_req *req, td_res *res, bson_t *out)
{
    const char *id = td_req_param(req, "id");
    if (!td_is_object_id(id)) {
        td_fail(res, 400, "INVALID_ID", "The agent id must be 24 hex digits", NULL);
        return TD_EINVAL;
    }
    mongoc_client_t *c = td_req_mongo(req);
    int rc = c != NULL ? agent_find(c, id, out) : TD_EUNAVAIL;
    if (rc != TD_OK) {
        td_fail_rc(res, rc, "No such agent");
        return rc;
    }
    return TD_OK;
}

static bool is_self(const td_req *req, const bson_t *agent)
{
    char id[25];
    return strcmp(td_bson_oid_hex(agent, "_id", id), req->principal.agent_id) == 0;
}

/* The actor may administer the target: not itself, and of a lower role (a
 * super_admin may administer another super_admin). */
static bool can_manage(const td_req *req, const bson_t *target)
{
    int actor = td_role_rank(req->principal.role);
    int other = td_role_rank(td_bson_str(target, "role"));
    return !is_self(req, target) && (actor > other || actor == td_role_rank("super_admin"));
}

static int forbid(td_res *res, const char *message)
{
    return td_fail(res, 403, "FORBIDDEN", message, NULL);
}

/*
 * Applies `set` to the target if it is still at the version we read, with an event
 * of type `action` staged in the same write. revoke bumps the token version.
 * Answers the response (the updated agent, or the error).
 */
static int apply(td_req *req, td_res *res, const bson_t *target, bson_t *set, bool revoke,
                 const char *action, cJSON *before, cJSON *after)
{
    char id[25];
    td_bson_oid_hex(target, "_id", id);
    bson_t update = BSON_INITIALIZER, inc, updated = BSON_INITIALIZER;
    if (revoke)
        BSON_APPEND_DATE_TIME(set, "tokensRevokedAt", td_now_ms());
    BSON_APPEND_DOCUMENT(&update, "$set", set);
    if (revoke) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
        BSON_APPEND_INT64(&inc, "tokenVersion", 1);
        bson_append_document_end(&update, &inc);
    }
    cJSON *payload = td_event_payload(req, action, "agent", id, before, after);
    cJSON_AddItemToObject(payload, "agent", agent_json(target, NULL));
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    int rc = td_store_update(req, COLL_AGENTS, &oid, td_bson_int(target, "version", 0), &update,
                             action, payload, &updated);
    cJSON_Delete(payload);
    if (rc == TD_OK) {
        if (revoke)
            tokens_revoke_agent(td_req_mongo(req), id, td_bson_int(&updated, "tokenVersion", 0));
        rc = td_ok(res, 200, agent_json(&updated, NULL));
    } else if (rc == TD_ENOTFOUND) {
        (void)td_fail(res, 409, "VERSION_CONFLICT",
                      "The agent was changed by someone else meanwhile; reload and retry", NULL);
    } else {
        (void)td_fail_rc(res, rc, "update failed");
    }
    bson_destroy(&update);
    bson_destroy(&updated);
    return rc;
}

static cJSON *one_field(const char *name, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, name, value != NULL ? value : "");
    return o;
}

static const td_qp list_params[] = {
    {"status", TD_QP_IN, "status", statuses},
    {"role", TD_QP_IN, "role", td_roles},
    {"search", TD_QP_SEARCH, "searchText", NULL},
    {"createdFrom", TD_QP_DATE_FROM, "createdAt", NULL},
    {"createdTo", TD_QP_DATE_TO, "createdAt", NULL},
    {NULL, 0, NULL, NULL},
};
static const char *const sort_names[] = {"createdAt", "email",       "lastName", "role",
                                         "status",    "lastLoginAt", NULL};
static const char *const sort_fields[] = {"createdAt", "email",       "lastName", "role",
                                          "status",    "lastLoginAt", NULL};
static const td_list_spec list_spec = {list_params, sort_names, sort_fields, "createdAt", -1};

static int list(td_req *req, td_res *res)
{
    td_list l;
    if (td_list_parse(&list_spec, req->query, &l, res) != TD_OK) {
        td_list_free(&l);
        return 0;
    }
    bson_iter_t it;
    if (!bson_iter_init_find(&it, &l.filter, "status")) {
        bson_t ne;
        BSON_APPEND_DOCUMENT_BEGIN(&l.filter, "status", &ne);
        BSON_APPEND_UTF8(&ne, "$ne", "deleted");
        bson_append_document_end(&l.filter, &ne);
    }
    td_list_answer(req, res, COLL_AGENTS, &l, agent_json, NULL);
    td_list_free(&l);
    return 0;
}

static int get(td_req *req, td_res *res)
{
    bson_t agent;
    bson_init(&agent);
    if (load_target(req, res, &agent) == TD_OK) {
        if (is_self(req, &agent) || td_req_can(req, "canViewAllAgents"))
            td_ok(res, 200, agent_json(&agent, NULL));
        else
            forbid(res, "You may only view your own profile");
    }
    bson_destroy(&agent);
    return 0;
}

/* approve / deactivate: a status transition with its event. */
static int set_status(td_req *req, td_res *res, const char *to, const char *action)
{
    bson_t agent;
    bson_init(&agent);
    if (load_target(req, res, &agent) != TD_OK)
        goto out;
    if (!can_manage(req, &agent)) {
        forbid(res, is_self(req, &agent) ? "You cannot change your own account status"
                                         : "You cannot administer an agent of your role or above");
        goto out;
    }
    const char *from = td_bson_str(&agent, "status");
    if (from != NULL && strcmp(from, to) == 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "status", from);
        td_fail(res, 422, "INVALID_STATUS_TRANSITION",
                strcmp(to, "active") == 0 ? "The agent is already active"
                                          : "The agent is already deactivated",
                details);
        goto out;
    }
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&set, "status", to);
    if (strcmp(to, "active") == 0) {
        bson_oid_t by;
        bson_oid_init_from_string(&by, req->principal.agent_id);
        BSON_APPEND_OID(&set, "approvedBy", &by);
        BSON_APPEND_DATE_TIME(&set, "approvedAt", td_now_ms());
    }
    apply(req, res, &agent, &set, strcmp(to, "active") != 0, action, one_field("status", from),
          one_field("status", to));
    bson_destroy(&set);
out:
    bson_destroy(&agent);
    return 0;
}

static int approve(td_req *req, td_res *res)
{
    return set_status(req, res, "active", "AGENT_APPROVED");
}

static int deactivate(td_req *req, td_res *res)
{
    return set_status(req, res, "deactivated", "AGENT_DEACTIVATED");
}

static int change_role(td_req *req, td_res *res)
{
    static const char *const fields[] = {"role", NULL};
    cJSON *body = NULL;
    bson_t agent;
    bson_init(&agent);
    const char *role = NULL;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_enum(body, "role", true, td_roles, res, &role) != TD_OK)
        goto out;
    if (load_target(req, res, &agent) != TD_OK)
        goto out;
    int actor = td_role_rank(req->principal.role), wanted = td_role_rank(role);
    if (is_self(req, &agent)) {
        forbid(res, "You cannot change your own role");
        goto out;
    }
    if (!can_manage(req, &agent)) {
        forbid(res, "You cannot change the role of an agent of your role or above");
        goto out;
    }
    if (wanted > actor) {
        forbid(res, "You cannot grant a role above your own");
        goto out;
    }
    if (wanted >= td_role_rank("admin") && !td_req_can(req, "canCreateAdmin")) {
        forbid(res, "Granting an admin role needs the canCreateAdmin permission");
        goto out;
    }
    const char *from = td_bson_str(&agent, "role");
    if (from != NULL && strcmp(from, role) == 0) {
        td_fail(res, 422, "ROLE_UNCHANGED", "The agent already has this role", NULL);
        goto out;
    }
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&set, "role", role);
    apply(req, res, &agent, &set, true, "AGENT_ROLE_CHANGED", one_field("role", from),
          one_field("role", role));
    bson_destroy(&set);
out:
    cJSON_Delete(body);
    bson_destroy(&agent);
    return 0;
}

static int update_profile(td_req *req, td_res *res)
{
    static const char *const fields[] = {"firstName",  "lastName", "phone",
                                         "agencyName", "version",  NULL};
    static const char *const editable[] = {"firstName", "lastName", "phone", "agencyName", NULL};
    cJSON *body = NULL;
    bson_t agent;
    bson_init(&agent);
    const char *vals[4] = {NULL, NULL, NULL, NULL};
    long long version = 0;
    bool has_version = false;
    if (td_req_json(req, res, &body) != TD_OK || td_check_fields(body, fields, res) != TD_OK ||
        td_get_str(body, "firstName", false, 1, 60, res, &vals[0]) != TD_OK ||
        td_get_str(body, "lastName", false, 1, 60, res, &vals[1]) != TD_OK ||
        td_get_str(body, "phone", false, 6, 25, res, &vals[2]) != TD_OK ||
        td_get_str(body, "agencyName", false, 1, 120, res, &vals[3]) != TD_OK ||
        td_get_int(body, "version", false, 0, 1LL << 52, res, &version, &has_version) != TD_OK)
        goto out;
    if (vals[2] != NULL && !td_valid_phone(vals[2])) {
        td_fail_field(res, "phone", "Enter a valid phone number");
        goto out;
    }
    if (vals[0] == NULL && vals[1] == NULL && vals[2] == NULL && vals[3] == NULL) {
        td_fail(res, 400, "VALIDATION_ERROR", "Nothing to update", NULL);
        goto out;
    }
    if (load_target(req, res, &agent) != TD_OK)
        goto out;
    if (!is_self(req, &agent) && !(td_req_can(req, "canManageTeam") && can_manage(req, &agent))) {
        forbid(res, "You may only edit your own profile");
        goto out;
    }
    if (has_version && version != td_bson_int(&agent, "version", 0)) {
        td_fail(res, 409, "VERSION_CONFLICT",
                "The agent was changed by someone else meanwhile; reload and retry", NULL);
        goto out;
    }
    bson_t set = BSON_INITIALIZER;
    cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
    const char *merged[4];
    for (int i = 0; i < 4; i++) {
        const char *old = td_bson_str(&agent, editable[i]);
        merged[i] = vals[i] != NULL ? vals[i] : old;
        if (vals[i] != NULL && (old == NULL || strcmp(old, vals[i]) != 0)) {
            BSON_APPEND_UTF8(&set, editable[i], vals[i]);
            cJSON_AddStringToObject(before, editable[i], old != NULL ? old : "");
            cJSON_AddStringToObject(after, editable[i], vals[i]);
        }
    }
    agent_search_text(&set, td_bson_str(&agent, "email"), merged[0], merged[1], merged[3]);
    apply(req, res, &agent, &set, false, "AGENT_PROFILE_UPDATED", before, after);
    bson_destroy(&set);
out:
    cJSON_Delete(body);
    bson_destroy(&agent);
    return 0;
}

static int remove_agent(td_req *req, td_res *res)
{
    bson_t agent;
    bson_init(&agent);
    if (load_target(req, res, &agent) != TD_OK)
        goto out;
    if (!can_manage(req, &agent)) {
        forbid(res, is_self(req, &agent) ? "You cannot delete your own account"
                                         : "You cannot delete an agent of your role or above");
        goto out;
    }
    /* A soft delete: the record stays for the audit trail and the staged event. */
    bson_t set = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&set, "status", "deleted");
    BSON_APPEND_DATE_TIME(&set, "deletedAt", td_now_ms());
    if (apply(req, res, &agent, &set, true, "AGENT_DELETED",
              one_field("status", td_bson_str(&agent, "status")),
              one_field("status", "deleted")) == TD_OK) {
        cJSON *data = cJSON_CreateObject();
        char id[25];
        cJSON_AddStringToObject(data, "_id", td_bson_oid_hex(&agent, "_id", id));
        cJSON_AddBoolToObject(data, "deleted", true);
        td_ok(res, 200, data);
    }
    bson_destroy(&set);
out:
    bson_destroy(&agent);
    return 0;
}
