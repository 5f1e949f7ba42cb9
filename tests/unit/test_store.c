/* Unit tests of shared/src/store.c without a database: the common event payload, the
 * update document a versioned update sends (the caller's operators merged with
 * updatedAt and the version increment, each operator once), and the bound on write
 * observers. The writes themselves (compare-and-set on version, staged events) are
 * tested through the gateway (tests/integration: VERSION_CONFLICT, test_bus.py). */
#include "tripdesk/store.h"

#include "tripdesk/common.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static td_req request(bool signed_in)
{
    td_req r;
    memset(&r, 0, sizeof r);
    r.request_id = "req-1";
    r.client_ip = "10.0.0.7";
    r.user_agent = "ua/1";
    r.principal.present = signed_in;
    r.principal.agent_id = "64b000000000000000000001";
    r.principal.role = "agent";
    return r;
}

START_TEST(the_event_payload_names_actor_target_changes_and_request)
{
    td_req r = request(true);
    cJSON *before = cJSON_Parse("{\"status\":\"pending\"}");
    cJSON *p = td_event_payload(&r, "BOOKING_UPDATED", "booking", "b1", before, NULL);
    char *json = cJSON_PrintUnformatted(p);
    ck_assert_str_eq(json, "{\"action\":\"BOOKING_UPDATED\","
                           "\"actor\":{\"id\":\"64b000000000000000000001\",\"role\":\"agent\"},"
                           "\"target\":{\"type\":\"booking\",\"id\":\"b1\"},"
                           "\"changes\":{\"before\":{\"status\":\"pending\"},\"after\":null},"
                           "\"metadata\":{\"ip\":\"10.0.0.7\",\"userAgent\":\"ua/1\","
                           "\"requestId\":\"req-1\"}}");
    free(json);
    cJSON_Delete(p);
    r = request(false);
    p = td_event_payload(&r, "USER_REGISTERED", "user", "u1", NULL, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "actor")));
    cJSON_Delete(p);
}
END_TEST

/* The names of doc's top-level keys, comma-separated, into buf. */
static void keys(const bson_t *doc, char *buf, size_t len)
{
    bson_iter_t it;
    buf[0] = '\0';
    ck_assert(bson_iter_init(&it, doc));
    while (bson_iter_next(&it)) {
        if (buf[0] != '\0')
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, bson_iter_key(&it), len - strlen(buf) - 1);
    }
}

START_TEST(an_update_merges_the_callers_set_and_inc_with_version_and_updated_at)
{
    bson_t *update =
        BCON_NEW("$set", "{", "status", BCON_UTF8("confirmed"), "}", "$inc", "{", "stats.views",
                 BCON_INT32(2), "}", "$unset", "{", "reason", BCON_UTF8(""), "}");
    bson_t full = BSON_INITIALIZER;
    td_store_update_doc(update, 1798761600000LL, &full);
    char names[128];
    keys(&full, names, sizeof names);
    ck_assert_str_eq(names, "$unset,$set,$inc"); /* each operator once */
    bson_iter_t it, f;
    ck_assert(bson_iter_init(&it, &full));
    ck_assert(bson_iter_find_descendant(&it, "$set.status", &f));
    ck_assert_str_eq(bson_iter_utf8(&f, NULL), "confirmed");
    ck_assert(bson_iter_init(&it, &full));
    ck_assert(bson_iter_find_descendant(&it, "$set.updatedAt", &f));
    ck_assert(BSON_ITER_HOLDS_DATE_TIME(&f));
    ck_assert_int_eq(bson_iter_date_time(&f), 1798761600000LL);
    bson_t inc;
    const uint8_t *data;
    uint32_t len;
    ck_assert(bson_iter_init_find(&it, &full, "$inc"));
    bson_iter_document(&it, &len, &data);
    ck_assert(bson_init_static(&inc, data, len));
    keys(&inc, names, sizeof names);
    ck_assert_str_eq(names, "stats.views,version"); /* the caller's increment kept */
    ck_assert(bson_iter_init_find(&f, &inc, "version"));
    ck_assert_int_eq(bson_iter_as_int64(&f), 1);
    bson_destroy(&full);
    bson_destroy(update);
}
END_TEST

START_TEST(an_update_without_set_or_inc_still_versions)
{
    bson_t *update = BCON_NEW("$unset", "{", "x", BCON_UTF8(""), "}");
    bson_t full = BSON_INITIALIZER;
    td_store_update_doc(update, 5, &full);
    char *json = bson_as_relaxed_extended_json(&full, NULL);
    ck_assert_str_eq(json, "{ \"$unset\" : { \"x\" : \"\" }, \"$set\" : { \"updatedAt\" : "
                           "{ \"$date\" : \"1970-01-01T00:00:00.005Z\" } }, \"$inc\" : "
                           "{ \"version\" : 1 } }");
    bson_free(json);
    bson_destroy(&full);
    bson_destroy(update);
}
END_TEST

static void observer(const char *coll, const bson_t *doc, void *arg)
{
    (void)coll;
    (void)doc;
    (void)arg;
}

START_TEST(write_observers_are_bounded)
{
    td_store_observers_clear();
    for (int i = 0; i < TD_STORE_OBSERVERS_MAX; i++)
        ck_assert_int_eq(td_store_on_write("things", observer, NULL), TD_OK);
    ck_assert_int_eq(td_store_on_write("things", observer, NULL), TD_ENOMEM);
    td_store_observers_clear();
    ck_assert_int_eq(td_store_on_write("things", observer, NULL), TD_OK);
    td_store_observers_clear();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, the_event_payload_names_actor_target_changes_and_request);
    tcase_add_test(tc, an_update_merges_the_callers_set_and_inc_with_version_and_updated_at);
    tcase_add_test(tc, an_update_without_set_or_inc_still_versions);
    tcase_add_test(tc, write_observers_are_bounded);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
