/*
 * Reading one value of a BSON document by its path: a field name, or a dotted path
 * into embedded documents ("tripDetails.startDate"). The one set of accessors for
 * the library and the services: each answers the value when it is there and of the
 * type asked for, and NULL, false or the caller's default otherwise (absent, of
 * another type, or a path through a non-document).
 */
#ifndef TRIPDESK_BSONPATH_H
#define TRIPDESK_BSONPATH_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

/* Points *out at the value at path; false when there is none. */
bool td_bson_at(const bson_t *doc, const char *path, bson_iter_t *out);

/* A string, or NULL. */
const char *td_bson_str(const bson_t *doc, const char *path);

/* A number (int32, int64 or double, the last truncated), or def. */
int64_t td_bson_int(const bson_t *doc, const char *path, int64_t def);

/* A number as a double, or def. */
double td_bson_num(const bson_t *doc, const char *path, double def);

/* A boolean, or def. */
bool td_bson_bool(const bson_t *doc, const char *path, bool def);

/* A date in ms since the epoch, or def. */
int64_t td_bson_date(const bson_t *doc, const char *path, int64_t def);

/* An ObjectId copied into *out; false (and *out untouched) when there is none. */
bool td_bson_oid(const bson_t *doc, const char *path, bson_oid_t *out);

/* The hex of an ObjectId, or "" when there is none; buf holds 25 bytes. */
const char *td_bson_oid_hex(const bson_t *doc, const char *path, char buf[25]);

#endif
