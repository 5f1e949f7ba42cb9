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

/* Hex of an ObjectId field, or "" when absent; buf holds 25 bytes. */
const char *td_bson_oid_hex(const bson_t *doc, const char *field, char buf[25]);

/* String field or NULL; int64 field or def. */
const char *td_bson_str(const bson_t *doc, const char *field);
int64_t td_bson_int(const bson_t *doc, const char *field, int64_t def);

#endif
