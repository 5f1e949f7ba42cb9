/*
 * /api/jobs: the operations view of the background jobs (jobs.h, schedule.h). The
 * queues and the schedules live in Redis, so this daemon shows those of every
 * service: the queues with their counts per state, the jobs of a queue in one state
 * (paged), one job (progress, attempts, errors), retrying a dead job, cancelling a
 * waiting or delayed one, the schedules and "run now". Admins only (the
 * canViewAuditLogs permission, admin and above by default, the audit trail's);
 * Redis down: 503 (td_fail_rc of TD_EUNAVAIL).
 */
#include "analytics.h"

#include "tripdesk/jobs.h"
#include "tripdesk/log.h"
#include "tripdesk/query.h"
#include "tripdesk/schedule.h"

#include <string.h>

#define JOBS_PERMISSION "canViewAuditLogs" /* admin and above */
#define RUN_NOW_PAYLOAD_MAX (TD_SCHEDULE_NAME_MAX + 64)

static int queues(td_req *req, td_res *res);
static int list(td_req *req, td_res *res);
static int get(td_req *req, td_res *res);
static int retry(td_req *req, td_res *res);
static int cancel(td_req *req, td_res *res);
static int schedules(td_req *req, td_res *res);
static int run_now(td_req *req, td_res *res);

const td_route jobs_api_routes[] = {
    {"GET", "/api/jobs", list, 0, JOBS_PERMISSION},
    {"GET", "/api/jobs/queues", queues, 0, JOBS_PERMISSION},
    {"GET", "/api/jobs/schedules", schedules, 0, JOBS_PERMISSION},
    {"POST", "/api/jobs/schedules/:name/run", run_now, 0, JOBS_PERMISSION},
    {"GET", "/api/jobs/:queue/:id", get, 0, JOBS_PERMISSION},
    {"POST", "/api/jobs/:queue/:id/retry", retry, 0, JOBS_PERMISSION},
    {"POST", "/api/jobs/:queue/:id/cancel", cancel, 0, JOBS_PERMISSION},
    {NULL, NULL, NULL, 0, NULL},
};

static const char *const state_names[] = {"waiting", "delayed",   "active", "completed",
                                          "dead",    "cancelled", NULL};
_Static_assert(sizeof state_names / sizeof state_names[0] == TD_JOB_NSTATES + 1,
               "one name per job state");

static const td_qp list_params[] = {
    {"queue", TD_QP_EQ, "queue", NULL},
    {"state", TD_QP_EQ, "state", state_names},
    {NULL, 0, NULL, NULL},
};
static const char *const no_sort[] = {NULL}; /* newest first in the state, always */
static const td_list_spec list_spec = {list_params, no_sort, no_sort, "createdAt", -1};

/* The string value of field in the parsed filter, or NULL. */
static const char *filter_value(const td_list *l, const char *field)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, &l->filter, field) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

/* Answers a jobs call's failure: 404 / 409 with code conflict_code / 503 / 500. */
static int fail_job(td_res *res, int rc, const char *conflict_code, const char *conflict_msg)
{
    if (rc == TD_ENOTFOUND)
        return td_fail(res, 404, "NOT_FOUND", "No such job", NULL);
    if (rc == TD_ECONFLICT)
        return td_fail(res, 409, conflict_code, conflict_msg, NULL);
    return td_fail_rc(res, rc, NULL);
}

/* The path's queue and job id, or a 400 (their form) answered: NULL. */
static bool job_params(td_req *req, td_res *res, const char **queue, const char **id)
{
    *queue = td_req_param(req, "queue");
    *id = td_req_param(req, "id");
    if (*queue == NULL || !td_job_queue_valid(*queue)) {
        td_fail_field(res, "queue", "queue must be 1 to 64 of a-z, 0-9, _ and -");
        return false;
    }
    if (*id == NULL || !td_job_id_valid(*id)) {
        td_fail_field(res, "id", "id must be 1 to 128 printable characters");
        return false;
    }
    return true;
}

/* GET /api/jobs/queues: [{queue, counts: {waiting: n, ...}, total}]. */
static int queues(td_req *req, td_res *res)
{
    (void)req;
    cJSON *names = NULL;
    int rc = td_job_queues(&names);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    cJSON *out = cJSON_CreateArray();
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n) || !td_job_queue_valid(n->valuestring))
            continue;
        cJSON *page = NULL;
        rc = td_job_list(n->valuestring, TD_JOB_WAITING, 0, 1, &page);
        if (rc != TD_OK)
            break;
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "queue", n->valuestring);
        cJSON *counts = cJSON_DetachItemFromObject(page, "counts");
        double total = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, counts) total += cJSON_IsNumber(c) ? c->valuedouble : 0;
        cJSON_AddItemToObject(q, "counts", counts != NULL ? counts : cJSON_CreateObject());
        cJSON_AddNumberToObject(q, "total", total);
        cJSON_AddItemToArray(out, q);
        cJSON_Delete(page);
    }
    cJSON_Delete(names);
    if (rc != TD_OK) {
        cJSON_Delete(out);
        return td_fail_rc(res, rc, NULL);
    }
    return td_ok(res, 200, out);
}

/* GET /api/jobs?queue=Q&state=S&page&limit: the jobs of Q in state S, newest first,
 * each as td_job_get gives it (one that retention removed meanwhile is left out). */
static int list(td_req *req, td_res *res)
{
    td_list l;
    cJSON *page = NULL, *items = NULL;
    if (td_list_parse(&list_spec, req->query, &l, res) != TD_OK)
        goto out;
    const char *queue = filter_value(&l, "queue");
    const char *state_name = filter_value(&l, "state");
    td_job_state state = TD_JOB_WAITING;
    if (queue == NULL || !td_job_queue_valid(queue)) {
        td_fail_field(res, "queue", "queue is required: 1 to 64 of a-z, 0-9, _ and -");
        goto out;
    }
    if (state_name != NULL && td_job_state_parse(state_name, &state) != TD_OK) {
        td_fail_field(res, "state", "state must be a job state");
        goto out;
    }
    if (state_name == NULL) {
        td_fail_field(res, "state",
                      "state is required: waiting, delayed, active, completed, "
                      "dead or cancelled");
        goto out;
    }
    int64_t offset = (l.page - 1) * l.limit;
    int limit = (int)(l.limit < TD_JOB_LIST_MAX ? l.limit : TD_JOB_LIST_MAX);
    if (offset > INT32_MAX) {
        td_fail_field(res, "page", "page is too large");
        goto out;
    }
    int rc = td_job_list(queue, state, (int)offset, limit, &page);
    if (rc != TD_OK) {
        td_fail_rc(res, rc, NULL);
        goto out;
    }
    items = cJSON_CreateArray();
    const cJSON *id;
    cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(page, "ids"))
    {
        cJSON *job = NULL;
        if (!cJSON_IsString(id))
            continue;
        rc = td_job_get(queue, id->valuestring, &job);
        if (rc == TD_ENOTFOUND)
            continue;
        if (rc != TD_OK) {
            td_fail_rc(res, rc, NULL);
            goto out;
        }
        cJSON_AddItemToArray(items, job);
    }
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(page, "total");
    td_ok_page(res, items, l.page, l.limit,
               cJSON_IsNumber(total) ? (int64_t)total->valuedouble : 0);
    items = NULL;
out:
    cJSON_Delete(items);
    cJSON_Delete(page);
    td_list_free(&l);
    return 0;
}

/* GET /api/jobs/:queue/:id */
static int get(td_req *req, td_res *res)
{
    const char *queue, *id;
    if (!job_params(req, res, &queue, &id))
        return 0;
    cJSON *job = NULL;
    int rc = td_job_get(queue, id, &job);
    if (rc != TD_OK)
        return fail_job(res, rc, "CONFLICT", "");
    return td_ok(res, 200, job);
}

/* The job after a change, answered 200 (or its failure). */
static int answer_job(td_res *res, const char *queue, const char *id)
{
    cJSON *job = NULL;
    int rc = td_job_get(queue, id, &job);
    if (rc != TD_OK)
        return fail_job(res, rc, "CONFLICT", "");
    return td_ok(res, 200, job);
}

/* POST /api/jobs/:queue/:id/retry: a dead job back to waiting. */
static int retry(td_req *req, td_res *res)
{
    const char *queue, *id;
    if (!job_params(req, res, &queue, &id))
        return 0;
    int rc = td_job_retry(queue, id);
    if (rc != TD_OK)
        return fail_job(res, rc, "JOB_NOT_DEAD", "Only a dead job can be retried");
    td_info("job %s on %s retried by %s", id, queue,
            req->principal.agent_id != NULL ? req->principal.agent_id : "?");
    return answer_job(res, queue, id);
}

/* POST /api/jobs/:queue/:id/cancel: a waiting or delayed job cancelled. */
static int cancel(td_req *req, td_res *res)
{
    const char *queue, *id;
    if (!job_params(req, res, &queue, &id))
        return 0;
    int rc = td_job_cancel(queue, id);
    if (rc != TD_OK)
        return fail_job(res, rc, "JOB_NOT_CANCELLABLE",
                        "Only a waiting or delayed job can be cancelled");
    td_info("job %s on %s cancelled by %s", id, queue,
            req->principal.agent_id != NULL ? req->principal.agent_id : "?");
    return answer_job(res, queue, id);
}

/* GET /api/jobs/schedules: every schedule (td_schedule_list). */
static int schedules(td_req *req, td_res *res)
{
    (void)req;
    cJSON *all = NULL;
    int rc = td_schedule_list(&all);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    return td_ok(res, 200, all);
}

/* POST /api/jobs/schedules/:name/run: one job on the schedule's queue now, with the
 * payload an occurrence gets ({"schedule", "occurrence": now in unix seconds}) and
 * the id "<name>:now:<unix ms>"; 202 {queue, id}. */
static int run_now(td_req *req, td_res *res)
{
    const char *name = td_req_param(req, "name");
    cJSON *all = NULL;
    int rc = td_schedule_list(&all);
    if (rc != TD_OK)
        return td_fail_rc(res, rc, NULL);
    const char *queue = NULL;
    const cJSON *s;
    cJSON_ArrayForEach(s, all)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(s, "queue");
        if (cJSON_IsString(n) && cJSON_IsString(q) && name != NULL &&
            strcmp(n->valuestring, name) == 0)
            queue = q->valuestring;
    }
    if (queue == NULL || !td_job_queue_valid(queue)) {
        cJSON_Delete(all);
        return td_fail(res, 404, "NOT_FOUND", "No such schedule", NULL);
    }
    int64_t now = td_jobs_now_ms();
    char id[TD_JOB_ID_MAX + 1], payload[RUN_NOW_PAYLOAD_MAX];
    bool created = false;
    rc = td_fmt(id, sizeof id, "%s:now:%lld", name, (long long)now);
    if (rc == TD_OK)
        rc = td_fmt(payload, sizeof payload, "{\"schedule\":\"%s\",\"occurrence\":%lld}", name,
                    (long long)(now / 1000));
    if (rc == TD_OK) {
        td_job_opts o = {.id = id, .payload = payload, .schedule = name};
        rc = td_job_enqueue(queue, &o, NULL, &created);
    }
    if (rc != TD_OK) {
        cJSON_Delete(all);
        return td_fail_rc(res, rc, NULL);
    }
    td_info("schedule %s: run now as job %s on %s by %s", name, id, queue,
            req->principal.agent_id != NULL ? req->principal.agent_id : "?");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "queue", queue);
    cJSON_AddStringToObject(out, "id", id);
    cJSON_Delete(all);
    return td_ok(res, 202, out);
}
