/* Typed reads of one value of a BSON document by field name or dotted path. */
#include "tripdesk/bsonpath.h"

bool td_bson_at(const bson_t *doc, const char *path, bson_iter_t *out)
{
    bson_iter_t it;
    return doc != NULL && path != NULL && bson_iter_init(&it, doc) &&
           bson_iter_find_descendant(&it, path, out);
}

const char *td_bson_str(const bson_t *doc, const char *path)
{
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL)
                                                                   : NULL;
}

int64_t td_bson_int(const bson_t *doc, const char *path, int64_t def)
{
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it)
                                                                     : def;
}

double td_bson_num(const bson_t *doc, const char *path, double def)
{
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_double(&it)
                                                                     : def;
}

bool td_bson_bool(const bson_t *doc, const char *path, bool def)
{
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_BOOL(&it) ? bson_iter_bool(&it) : def;
}

int64_t td_bson_date(const bson_t *doc, const char *path, int64_t def)
{
    bson_iter_t it;
    return td_bson_at(doc, path, &it) && BSON_ITER_HOLDS_DATE_TIME(&it) ? bson_iter_date_time(&it)
                                                                        : def;
}

bool td_bson_oid(const bson_t *doc, const char *path, bson_oid_t *out)
{
    bson_iter_t it;
    if (!td_bson_at(doc, path, &it) || !BSON_ITER_HOLDS_OID(&it))
        return false;
    bson_oid_copy(bson_iter_oid(&it), out);
    return true;
}

const char *td_bson_oid_hex(const bson_t *doc, const char *path, char buf[25])
{
    bson_oid_t oid;
    buf[0] = '\0';
    if (td_bson_oid(doc, path, &oid))
        bson_oid_to_string(&oid, buf);
    return buf;
}
