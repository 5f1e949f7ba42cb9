/*
 * Counts of documents per combination of a few string fields, over time: a read
 * model kept as documents are written (listindex.h's ext_add), so that totals per
 * field for any period come from counters rather than from a scan or an aggregation
 * (FerretDB's SQLite backend decodes the whole collection for a $group).
 *
 * Per combination of values ("key": the strings of the fields named at creation, a
 * missing or non-string value counting as NULL) it keeps the sorted times of its
 * documents (one int64 per document) and how many had no date: a period's count is
 * two binary searches per key, like MongoDB's {time: {$gte: from, $lte: to}}, which
 * a document without a date never matches. Documents are only ever added.
 */
#ifndef TRIPDESK_TALLY_H
#define TRIPDESK_TALLY_H

#include "common.h"

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#define TD_TALLY_MAX_FIELDS 4
#define TD_TALLY_NO_BOUND INT64_MIN /* a period without this bound */

typedef struct td_tally td_tally;

/* A tally keyed by the top-level string fields `fields` (NULL-terminated, at most
 * TD_TALLY_MAX_FIELDS), timed by the date field `time_field`. */
TD_MUST_CHECK int td_tally_new(td_tally **out, const char *const *fields, const char *time_field);
void td_tally_free(td_tally *t);

/* Counts doc. TD_ENOMEM when it could not (the tally is then short by one). */
TD_MUST_CHECK int td_tally_add(td_tally *t, const bson_t *doc);

/* Calls fn(values, count, arg) for each key with documents in [from, to] (ms,
 * inclusive; TD_TALLY_NO_BOUND for an open side; with no bound at all documents
 * without a date count too); values[i] is the key's value of fields[i] or NULL. */
typedef void (*td_tally_fn)(const char *const *values, int64_t count, void *arg);
void td_tally_each(const td_tally *t, int64_t from, int64_t to, td_tally_fn fn, void *arg);

/* Documents counted, and bytes held (for logs). */
int64_t td_tally_total(const td_tally *t);
size_t td_tally_bytes(const td_tally *t);

#endif
