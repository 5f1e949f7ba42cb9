/*
 * The audit trail's read model (the rule for every service on the embedded FerretDB:
 * reads by _id go to the database; lists, counts and aggregates come from a read
 * model in the service). FerretDB 1.24's SQLite backend decodes the whole collection
 * for any filter but one on _id, so on a trail of tens of thousands of entries every
 * list, count or $group took seconds.
 *
 * The model is a list copy (listindex.h) of audit_logs in its columns_only form: the
 * filter and sort columns of every entry (strings of few values interned), the JSON
 * of the latest entries up to TRIPDESK_AUDIT_JSON_MB (a page's other entries are read
 * by _id), and beside it a tally (tally.h) per action, resource type and severity
 * of the entries' creation times, from which /stats counts any period. Entries are
 * written only here, from bus events: audit_record puts each one it inserts, and
 * the copy's Redis stream (analytics:audit:changes) tells the other analytics
 * daemons, which re-read it by _id, as the booking service's copies do. A load at
 * start (and every 30 min, or when Redis lost track) rebuilds both.
 *
 * TRIPDESK_LIST_COPIES=auto|on|off: auto keeps the model on FerretDB only (on
 * MongoDB the indexes serve the same queries); off sends every list and stats
 * request to the database, with the same answers.
 */
#include "analytics.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/listcopies.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"
#include "tripdesk/tally.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_MODEL_NS "analytics:audit"
#define MB ((size_t)1024 * 1024)
#define AUDIT_LOAD_LOG_MS 500 /* a maintenance run this long was a load */

static const char *const model_fields[] = {"action",     "performedBy",  "resourceType",
                                           "targetId",   "severity",     "createdAt",
                                           "searchText", "severityRank", NULL};
static const char *const tally_fields[] = {"action", "resourceType", "severity", NULL};

static td_listindex *model;

static void *tally_new(void *arg)
{
    (void)arg;
    td_tally *t;
    return td_tally_new(&t, tally_fields, "createdAt") == TD_OK ? t : NULL;
}

static void tally_add(void *ext, const bson_t *doc)
{
    if (td_tally_add(ext, doc) != TD_OK)
        td_warn("audit model: out of memory, the stats are short by one entry");
}

static void tally_free(void *ext)
{
    td_tally_free(ext);
}

int audit_model_new(void)
{
    int rc = td_list_copies_configure();
    if (rc != TD_OK || td_list_copies_use() == TD_COPIES_OFF)
        return rc;
    td_listindex_opts opts = {
        .string_ids = true,
        .columns_only = true,
        .json_bytes = (size_t)td_env_int(AUDIT_ENV_JSON_MB, AUDIT_JSON_MB_DEFAULT, 0, 4096) * MB,
        .max_rows =
            (size_t)td_env_int(AUDIT_ENV_MAX_ENTRIES, AUDIT_MAX_ENTRIES_DEFAULT, 1, 100000000),
        .ext_new = tally_new,
        .ext_add = tally_add,
        .ext_free = tally_free,
    };
    return td_listindex_new_opts(&model, COLL_AUDIT_LOGS, AUDIT_MODEL_NS, model_fields,
                                 audit_entry_json, &opts);
}

void audit_model_free(void)
{
    td_listindex_free(model);
    model = NULL;
}

int audit_model_decide(mongoc_client_t *c)
{
    td_copies_use use = td_list_copies_decide(c);
    if (use == TD_COPIES_UNDECIDED)
        return TD_EUNAVAIL; /* the server could not be asked: init_database runs again */
    td_info("audit trail: lists and stats from %s",
            use == TD_COPIES_ON ? "the read model" : "the database");
    return TD_OK;
}

void audit_model_maintain(td_service *svc, mongoc_client_t *c)
{
    (void)svc;
    if (td_list_copies_use() != TD_COPIES_ON)
        return;
    int64_t t0 = td_mono_ms();
    td_listindex_maintain(model, c);
    if (td_mono_ms() - t0 >= AUDIT_LOAD_LOG_MS) /* it loaded: say how big it is */
        td_info("audit model: %zu entries, about %zu MB", td_listindex_size(model),
                td_listindex_bytes(model) / MB);
}

void audit_model_put(const bson_t *doc)
{
    if (model != NULL && td_list_copies_use() == TD_COPIES_ON)
        td_listindex_put(model, doc);
}

int audit_model_list(mongoc_client_t *c, const td_list *l, cJSON **items, int64_t *total)
{
    if (model == NULL || td_list_copies_use() != TD_COPIES_ON)
        return TD_EUNAVAIL;
    return td_listindex_query(model, c, l, items, total);
}

typedef struct {
    int64_t from, to;
    td_tally_fn fn;
    void *arg;
} stats_read;

static void read_tally(const void *ext, void *arg)
{
    const stats_read *r = arg;
    td_tally_each(ext, r->from, r->to, r->fn, r->arg);
}

int audit_model_stats(mongoc_client_t *c, int64_t from, int64_t to, td_tally_fn fn, void *arg)
{
    if (model == NULL || td_list_copies_use() != TD_COPIES_ON)
        return TD_EUNAVAIL;
    stats_read r = {from, to, fn, arg};
    return td_listindex_ext_read(model, c, read_tally, &r);
}
