/* MongoDB client pool for the process and small helpers over mongo-c-driver. */
#include "tripdesk/mongo.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"
#include "tripdesk/log.h"

#include <stdio.h>
#include <string.h>

static mongoc_client_pool_t *pool;
static char dbname[128];
static int reachable = 1; /* atomic */

/* What the driver says when a server lacks the command that ends sessions (FerretDB
 * 1.24, at every clean shutdown). */
#define ENDSESSIONS_UNSUPPORTED "\"endSessions\": no such command"

int td_mongo_log_level(mongoc_log_level_t level, const char *message)
{
    switch (level) {
    case MONGOC_LOG_LEVEL_ERROR:
    case MONGOC_LOG_LEVEL_CRITICAL: return TD_LOG_ERROR;
    case MONGOC_LOG_LEVEL_WARNING:
        if (message != NULL && strstr(message, ENDSESSIONS_UNSUPPORTED) != NULL)
            return TD_LOG_DEBUG;
        return TD_LOG_WARN;
    case MONGOC_LOG_LEVEL_MESSAGE: return TD_LOG_INFO;
    case MONGOC_LOG_LEVEL_INFO:
    case MONGOC_LOG_LEVEL_DEBUG: return TD_LOG_DEBUG;
    default: return -1;
    }
}

/* mongo-c-driver's own messages as the daemon's JSON log lines (its default handler
 * prints plain text on stderr, which `scripts/run` could not show as log lines). */
static void mongo_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    int lvl = td_mongo_log_level(level, message);
    if (lvl < 0)
        return;
    td_log((td_log_level)lvl, NULL, "mongoc %s: %s", domain != NULL ? domain : "",
           message != NULL ? message : "");
}

int td_mongo_init(const char *service)
{
    mongoc_log_set_handler(mongo_log, NULL);
    mongoc_init();
    const char *base = td_env_str(TD_ENV_MONGO_URI, "mongodb://127.0.0.1:27017");
    if (td_fmt(dbname, sizeof dbname, "%s%s", td_env_str(TD_ENV_DB_PREFIX, "tripdesk_"), service) !=
        TD_OK) {
        td_error("%s is too long: the database name must be below %zu bytes", TD_ENV_DB_PREFIX,
                 sizeof dbname);
        return TD_EINVAL;
    }

    bson_error_t err;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(base, &err);
    if (uri == NULL) {
        td_error("invalid %s: %s", TD_ENV_MONGO_URI, err.message);
        return TD_EINVAL;
    }
    /* Fail fast when the server or the pool is unavailable, never hang a worker. */
    bool ok = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                             TD_MONGO_SELECT_TIMEOUT_MS) &&
              mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS,
                                             TD_MONGO_SELECT_TIMEOUT_MS) &&
              mongoc_uri_set_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS,
                                             TD_MONGO_WAIT_QUEUE_MS) &&
              mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                             (int32_t)td_env_int(TD_ENV_MONGO_SOCKET_TIMEOUT,
                                                                 TD_MONGO_SOCKET_TIMEOUT_MS, 100,
                                                                 600000)) &&
              mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE, false) &&
              mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, false) &&
              /* a retried read after a socket timeout would double the wait (3 s, measured) */
              mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYREADS, false);
    if (!ok) {
        td_error("%s: its timeouts and retry options cannot be set", TD_ENV_MONGO_URI);
        mongoc_uri_destroy(uri);
        return TD_EINVAL;
    }
    pool = mongoc_client_pool_new(uri);
    mongoc_uri_destroy(uri);
    if (pool == NULL) {
        td_error("%s: cannot make a client pool", TD_ENV_MONGO_URI);
        return TD_EINVAL;
    }
    mongoc_client_pool_max_size(pool, TD_MONGO_MAX_POOL);
    if (!mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2)) {
        td_error("the MongoDB client pool refused error API version 2");
        mongoc_client_pool_destroy(pool);
        pool = NULL;
        return TD_EINVAL;
    }
    return TD_OK;
}

void td_mongo_cleanup(void)
{
    if (pool != NULL)
        mongoc_client_pool_destroy(pool);
    pool = NULL;
    mongoc_cleanup();
}

mongoc_client_t *td_mongo_pop(void)
{
    return pool != NULL ? mongoc_client_pool_pop(pool) : NULL;
}

void td_mongo_push(mongoc_client_t *c)
{
    if (c != NULL)
        mongoc_client_pool_push(pool, c);
}

mongoc_collection_t *td_mongo_coll(mongoc_client_t *c, const char *name)
{
    return mongoc_client_get_collection(c, dbname, name);
}

void td_mongo_set_reachable(bool up)
{
    __atomic_store_n(&reachable, up ? 1 : 0, __ATOMIC_RELAXED);
}

bool td_mongo_reachable(void)
{
    return __atomic_load_n(&reachable, __ATOMIC_RELAXED) != 0;
}

bool td_mongo_ping(mongoc_client_t *c)
{
    bson_t cmd = BSON_INITIALIZER;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bson_error_t err;
    bool ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, NULL, &err);
    bson_destroy(&cmd);
    return ok;
}

int td_mongo_rc(const bson_error_t *err)
{
    if (err->code == 11000 || err->code == 11001)
        return TD_ECONFLICT;
    if (err->code == TD_MONGO_MAXTIME_CODE && err->domain == MONGOC_ERROR_SERVER)
        return TD_EDEADLINE;
    if (err->domain == MONGOC_ERROR_SERVER_SELECTION || err->domain == MONGOC_ERROR_STREAM ||
        err->domain == MONGOC_ERROR_CLIENT)
        return TD_EUNAVAIL;
    return TD_EIO;
}

int td_mongo_find_and_modify(mongoc_client_t *c, const char *coll, const bson_t *filter,
                             const bson_t *update, bool return_new, bson_t *out)
{
    mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new();
    mongoc_collection_t *cl = td_mongo_coll(c, coll);
    bson_t reply = BSON_INITIALIZER;
    bson_error_t err;
    bson_iter_t it;
    int rc = TD_EIO;
    if (!mongoc_find_and_modify_opts_set_update(opts, update) ||
        !mongoc_find_and_modify_opts_set_flags(opts, return_new ? MONGOC_FIND_AND_MODIFY_RETURN_NEW
                                                                : MONGOC_FIND_AND_MODIFY_NONE))
        goto out; /* an update the driver refuses: our bug, not the server's */
    bson_destroy(&reply);
    if (!mongoc_collection_find_and_modify_with_opts(cl, filter, opts, &reply, &err)) {
        rc = td_mongo_rc(&err);
    } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t len;
        bson_iter_document(&it, &len, &data);
        bson_t doc;
        rc = bson_init_static(&doc, data, len) ? TD_OK : TD_EIO;
        if (rc == TD_OK && out != NULL)
            bson_copy_to(&doc, out);
    } else {
        rc = TD_ENOTFOUND;
    }
out:
    bson_destroy(&reply);
    mongoc_collection_destroy(cl);
    mongoc_find_and_modify_opts_destroy(opts);
    return rc;
}

void td_mongo_time_opts(bson_t *opts)
{
    int64_t deadline = td_deadline_current();
    if (deadline == 0)
        return;
    BSON_APPEND_INT64(opts, "maxTimeMS", td_deadline_timeout_ms(deadline, 1));
}

int td_mongo_is_ferretdb(mongoc_client_t *c, bool *yes)
{
    static int known = -1; /* atomic: -1 not asked yet, else 0/1 */
    int v = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
    if (v >= 0) {
        *yes = v == 1;
        return TD_OK;
    }
    bson_t cmd = BSON_INITIALIZER, reply;
    BSON_APPEND_INT32(&cmd, "buildInfo", 1);
    bson_error_t err;
    bool ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &err);
    bson_iter_t it;
    v = ok && bson_iter_init_find(&it, &reply, "ferretdbVersion") ? 1 : 0;
    bson_destroy(&cmd);
    bson_destroy(&reply);
    *yes = v == 1;
    if (!ok)
        return td_mongo_rc(&err);
    __atomic_store_n(&known, v, __ATOMIC_RELEASE);
    return TD_OK;
}

/* Whether the server is FerretDB; false when it cannot be asked now. */
static bool is_ferretdb(mongoc_client_t *c)
{
    bool yes;
    return td_mongo_is_ferretdb(c, &yes) == TD_OK && yes;
}

/* FerretDB 1.24's SQLite backend narrows a query by _id only and evaluates every
 * other filter by decoding the documents, so a secondary index never speeds up a
 * read there; yet each one is an expression on the document's JSON that every
 * insert and update re-evaluates (measured: an update of a booking costs FerretDB
 * 1.9 ms of CPU with the booking's six non-unique indexes, 1.0 ms without). On
 * FerretDB non-unique indexes are therefore dropped (also those an earlier version
 * created); unique ones enforce uniqueness and are kept. MongoDB gets them all. */
static int drop_index(mongoc_client_t *c, const char *coll, const char *name)
{
    bson_t cmd = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&cmd, "dropIndexes", coll);
    BSON_APPEND_UTF8(&cmd, "index", name);
    bson_error_t err;
    bool ok = mongoc_client_write_command_with_opts(c, dbname, &cmd, NULL, NULL, &err);
    bson_destroy(&cmd);
    /* absent index or collection (codes 27, 26): nothing to drop */
    if (!ok && err.code != 27 && err.code != 26) {
        td_warn("dropIndexes %s.%s failed: %s", coll, name, err.message);
        return td_mongo_rc(&err);
    }
    return TD_OK;
}

int td_mongo_index(mongoc_client_t *c, const char *coll, const bson_t *keys, const char *name,
                   bool unique)
{
    if (!unique && is_ferretdb(c))
        return drop_index(c, coll, name);
    bson_t cmd = BSON_INITIALIZER, indexes, index;
    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
    BSON_APPEND_DOCUMENT(&index, "key", keys);
    BSON_APPEND_UTF8(&index, "name", name);
    if (unique)
        BSON_APPEND_BOOL(&index, "unique", true);
    bson_append_document_end(&indexes, &index);
    bson_append_array_end(&cmd, &indexes);
    bson_error_t err;
    bool ok = mongoc_client_write_command_with_opts(c, dbname, &cmd, NULL, NULL, &err);
    bson_destroy(&cmd);
    if (!ok) {
        td_warn("createIndexes %s.%s failed: %s", coll, name, err.message);
        return td_mongo_rc(&err);
    }
    return TD_OK;
}
