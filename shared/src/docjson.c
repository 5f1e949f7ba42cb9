/* BSON -> JSON for API responses. */
#include "tripdesk/docjson.h"

#include "tripdesk/common.h"

#include <string.h>

static cJSON *value_to_json(bson_iter_t *it, const char *const *hide);

static bool hidden(const char *key, const char *const *hide)
{
    if (key[0] == '_' && strcmp(key, "_id") != 0)
        return true;
    for (int i = 0; hide != NULL && hide[i] != NULL; i++)
        if (strcmp(key, hide[i]) == 0)
            return true;
    return false;
}

static cJSON *container_to_json(bson_iter_t *it, bool array, const char *const *hide)
{
    bson_iter_t child;
    if (!bson_iter_recurse(it, &child))
        return cJSON_CreateNull();
    cJSON *out = array ? cJSON_CreateArray() : cJSON_CreateObject();
    while (bson_iter_next(&child)) {
        if (!array && hidden(bson_iter_key(&child), hide))
            continue;
        cJSON *v = value_to_json(&child, NULL);
        if (array)
            cJSON_AddItemToArray(out, v);
        else
            cJSON_AddItemToObject(out, bson_iter_key(&child), v);
    }
    return out;
}

static cJSON *value_to_json(bson_iter_t *it, const char *const *hide)
{
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8: return cJSON_CreateString(bson_iter_utf8(it, NULL));
    case BSON_TYPE_INT32: return cJSON_CreateNumber(bson_iter_int32(it));
    case BSON_TYPE_INT64: return cJSON_CreateNumber((double)bson_iter_int64(it));
    case BSON_TYPE_DOUBLE: return cJSON_CreateNumber(bson_iter_double(it));
    case BSON_TYPE_BOOL: return cJSON_CreateBool(bson_iter_bool(it));
    case BSON_TYPE_OID: {
        char hex[25];
        bson_oid_to_string(bson_iter_oid(it), hex);
        return cJSON_CreateString(hex);
    }
    case BSON_TYPE_DATE_TIME: {
        char ts[TD_ISO_TIME_LEN];
        td_iso_time(bson_iter_date_time(it), ts);
        return cJSON_CreateString(ts);
    }
    case BSON_TYPE_DOCUMENT: return container_to_json(it, false, hide);
    case BSON_TYPE_ARRAY: return container_to_json(it, true, hide);
    default: return cJSON_CreateNull();
    }
}

cJSON *td_bson_to_json(const bson_t *doc, const char *const *hide)
{
    bson_iter_t it;
    cJSON *out = cJSON_CreateObject();
    if (out == NULL || !bson_iter_init(&it, doc))
        return out;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (hidden(key, hide))
            continue;
        cJSON_AddItemToObject(out, key, value_to_json(&it, NULL));
    }
    return out;
}
