/*
 * The payment service's events as the booking service sees them: PAYMENT_RECEIVED
 * and PAYMENT_REFUNDED carry the booking's account after the change
 * (payload.booking: paymentStatus and accountVersion, which grows by one with every
 * change of the account). The booking takes the status only from an account
 * version newer than the one it holds (paymentVersion), so a late or repeated event
 * changes nothing twice; the write bumps the booking's version, goes into the list
 * copy and invalidates the bookings list cache (bookings_written).
 */
#include "booking.h"

#include "tripdesk/log.h"

#include <string.h>

static const char *const payment_statuses[] = {"unpaid", "partially_paid", "paid", "refunded",
                                               NULL};

static bool known_status(const char *s)
{
    for (int i = 0; s != NULL && payment_statuses[i] != NULL; i++)
        if (strcmp(s, payment_statuses[i]) == 0)
            return true;
    return false;
}

/* One findAndModify of the booking under filter: TD_OK with the new document, or
 * TD_ENOTFOUND when nothing matched. */
static int apply(mongoc_client_t *c, const bson_t *filter, const char *status, int64_t av,
                 bson_t *out)
{
    bson_t *update = BCON_NEW("$set", "{", "paymentStatus", BCON_UTF8(status), "paymentVersion",
                              BCON_INT64(av), "updatedAt", BCON_DATE_TIME(td_now_ms()), "}", "$inc",
                              "{", "version", BCON_INT64(1), "}");
    int rc = td_mongo_find_and_modify(c, COLL_BOOKINGS, filter, update, true, out);
    bson_destroy(update);
    return rc;
}

int payment_event(const td_event *ev, mongoc_client_t *c, void *arg)
{
    (void)arg;
    if (strcmp(ev->type, "PAYMENT_RECEIVED") != 0 && strcmp(ev->type, "PAYMENT_REFUNDED") != 0)
        return TD_OK;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(ev->payload, "booking");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "booking");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "paymentStatus");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(b, "accountVersion");
    if (!cJSON_IsString(id) || !td_is_object_id(id->valuestring) || !cJSON_IsString(st) ||
        !known_status(st->valuestring) || !cJSON_IsNumber(av)) {
        td_warn("%s %s without a booking's payment status: ignored", ev->type, ev->id);
        return TD_OK;
    }
    bson_oid_t oid;
    parse_oid(id->valuestring, &oid);
    int64_t version = (int64_t)av->valuedouble;
    bson_t *newer =
        BCON_NEW("_id", BCON_OID(&oid), "paymentVersion", "{", "$lt", BCON_INT64(version), "}");
    bson_t *first =
        BCON_NEW("_id", BCON_OID(&oid), "paymentVersion", "{", "$exists", BCON_BOOL(false), "}");
    bson_t doc;
    bson_init(&doc);
    int rc = apply(c, newer, st->valuestring, version, &doc);
    if (rc == TD_ENOTFOUND)
        rc = apply(c, first, st->valuestring, version, &doc);
    if (rc == TD_OK)
        bookings_written(&doc);
    else if (rc == TD_ENOTFOUND)
        rc = TD_OK; /* newer status held already, or no such booking */
    bson_destroy(&doc);
    bson_destroy(newer);
    bson_destroy(first);
    return rc;
}
