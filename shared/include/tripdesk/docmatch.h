/*
 * In-process evaluation of the filters and sorts the list query builder (query.h,
 * td_list_parse) produces, so a service can answer a list query from documents it
 * holds in memory with the results MongoDB would give for the same filter and sort.
 *
 * Supported filter subset (MongoDB semantics, no collation):
 *   - a top-level conjunction of fields, and "$and": [ {filter}, ... ];
 *   - dotted paths through embedded documents ("pricing.totalAmount"); a path that
 *     runs into a scalar is missing, one that runs through an array is unsupported;
 *   - {f: v} equality (v of any type; a regex v is a regex match), "$eq", "$ne",
 *     "$in", "$nin" (missing and null are equal to null; false is not missing);
 *   - "$gt", "$gte", "$lt", "$lte" between values of the same type class only
 *     (numbers across int32/int64/double, strings, dates, ObjectIds, booleans, ...);
 *   - "$regex" (with optional "$options" i, m, s) for literal patterns only, as
 *     td_regex_escape writes them: a pattern with an unescaped metacharacter or a
 *     backslash before a letter or digit is unsupported; "i" needs an ASCII pattern;
 *   - "$exists" with a boolean or a number.
 * When the value at a path is an array, a condition holds when it holds for any
 * element (or, for equality and $in, for the whole array); $ne and $nin are their
 * negation. Anything else ($or, $elemMatch, Decimal128 comparisons, unknown
 * operators, malformed filters) is unsupported and never matches.
 *
 * Sort: {path: 1 | -1, ...} in MongoDB's BSON order (missing = null lowest, then
 * numbers, strings byte-wise, objects, arrays, binary, ObjectIds, booleans, dates,
 * timestamps, ...); an array field sorts by its smallest element ascending and its
 * largest descending, an empty array below null; Decimal128 sorts by its nearest
 * double.
 *
 * Nothing here allocates or keeps pointers: callers own every bson_t they pass.
 */
#ifndef TRIPDESK_DOCMATCH_H
#define TRIPDESK_DOCMATCH_H

#include "common.h"

#include <bson/bson.h>

/* Finds the value at a dotted path. TD_OK with *out on it; TD_ENOTFOUND when absent
 * (or the path runs into a scalar); TD_EINVAL for an empty component or an array on
 * the way (MongoDB would look into its elements, which this subset does not). */
TD_MUST_CHECK int td_doc_find_path(const bson_t *doc, const char *path, bson_iter_t *out);

/* True when doc matches filter; false when it does not or filter is unsupported. */
bool td_doc_match(const bson_t *filter, const bson_t *doc);

/* <0, 0 or >0 as a comes before, ties with or comes after b under sort ({path: 1|-1}).
 * Paths through arrays compare as missing; an invalid spec ties everything. */
int td_doc_compare(const bson_t *sort, const bson_t *a, const bson_t *b);

#endif
