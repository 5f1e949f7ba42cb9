/*
 * BSON documents to API JSON: ObjectId -> hex string, dates -> ISO-8601 UTC,
 * int32/int64/double -> numbers, nested documents and arrays kept. Fields whose
 * name starts with '_' (other than _id) are internal (e.g. staged `_events`) and
 * never leave the service, nor do the names in `hide`.
 */
#ifndef TRIPDESK_DOCJSON_H
#define TRIPDESK_DOCJSON_H

#include <bson/bson.h>
#include <cjson/cJSON.h>

/* hide: NULL-terminated field names to leave out (may be NULL). Caller owns result. */
cJSON *td_bson_to_json(const bson_t *doc, const char *const *hide);

#endif
