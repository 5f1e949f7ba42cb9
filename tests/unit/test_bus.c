/* Unit tests of shared/src/bus.c without a database or sockets: the staged form of an
 * event (in a domain document, or pushed by an update), the subscriber's decision for
 * each sequence (the dedup of events seen twice, gaps), the relay's queue of confirmed
 * prepared events (oldest first, each once), the event a replay builds from an outbox
 * entry, and the parts of the bus that work before it is started. The relay's
 * sequencing against the outbox and replay over nng need MongoDB and the daemons:
 * tests/integration/test_bus.py.
 *
 * bus.c is included, not linked, to reach its static parts (the library's bus.o is
 * then not pulled in: this file defines every symbol it has). */
#include "../../shared/src/bus.c"

#include "tripdesk/common.h"

#include "run_suite.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The single staged event of an `_events` array at iter (an array). */
static void staged_event(bson_iter_t *arr, const char *id, const char *type, const char *json)
{
    bson_iter_t ev, f;
    ck_assert(bson_iter_recurse(arr, &ev));
    ck_assert(bson_iter_next(&ev));
    ck_assert_str_eq(bson_iter_key(&ev), "0");
    ck_assert(BSON_ITER_HOLDS_DOCUMENT(&ev));
    ck_assert(bson_iter_recurse(&ev, &f));
    int seen = 0;
    int64_t now = td_now_ms();
    while (bson_iter_next(&f)) {
        const char *k = bson_iter_key(&f);
        if (strcmp(k, "id") == 0) {
            ck_assert_str_eq(bson_iter_utf8(&f, NULL), id);
        } else if (strcmp(k, "type") == 0) {
            ck_assert_str_eq(bson_iter_utf8(&f, NULL), type);
        } else if (strcmp(k, "time") == 0) {
            ck_assert(BSON_ITER_HOLDS_INT64(&f));
            ck_assert_int_le(bson_iter_int64(&f), now);
            ck_assert_int_gt(bson_iter_int64(&f), now - 60000);
        } else if (strcmp(k, "payload") == 0) {
            ck_assert_str_eq(bson_iter_utf8(&f, NULL), json);
        } else {
            ck_abort_msg("unexpected field %s", k);
        }
        seen++;
    }
    ck_assert_int_eq(seen, 4);
    ck_assert(!bson_iter_next(&ev)); /* one event only */
}

START_TEST(an_insert_stages_its_event_in_the_document)
{
    cJSON *payload = cJSON_Parse("{\"action\":\"X\",\"n\":1}");
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "name", "kept");
    char id[25];
    ck_assert_int_eq(td_bus_stage(&doc, "THING_CREATED", payload, id), TD_OK);
    ck_assert_uint_eq(strlen(id), 24);
    bson_iter_t it;
    ck_assert(bson_iter_init_find(&it, &doc, "name"));
    ck_assert(bson_iter_init_find(&it, &doc, "_events"));
    ck_assert(BSON_ITER_HOLDS_ARRAY(&it));
    staged_event(&it, id, "THING_CREATED", "{\"action\":\"X\",\"n\":1}");
    bson_destroy(&doc);
    cJSON_Delete(payload);
}
END_TEST

START_TEST(an_update_pushes_its_event_beside_its_other_operators)
{
    cJSON *payload = cJSON_Parse("{\"a\":[1,2]}");
    bson_t update = BSON_INITIALIZER, set;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "status", "confirmed");
    bson_append_document_end(&update, &set);
    char id[25];
    ck_assert_int_eq(td_bus_stage_update(&update, "THING_UPDATED", payload, id), TD_OK);
    bson_iter_t it, push;
    ck_assert(bson_iter_init_find(&it, &update, "$set"));
    ck_assert(bson_iter_init_find(&it, &update, "$push"));
    ck_assert(bson_iter_recurse(&it, &push));
    ck_assert(bson_iter_next(&push));
    ck_assert_str_eq(bson_iter_key(&push), "_events");
    /* $push of one document: wrap it as the array staged_event reads */
    bson_t arr = BSON_INITIALIZER;
    const uint8_t *data;
    uint32_t len;
    bson_iter_document(&push, &len, &data);
    bson_t one;
    ck_assert(bson_init_static(&one, data, len));
    BSON_APPEND_DOCUMENT(&arr, "0", &one);
    bson_t wrap = BSON_INITIALIZER;
    BSON_APPEND_ARRAY(&wrap, "_events", &arr);
    ck_assert(bson_iter_init_find(&it, &wrap, "_events"));
    staged_event(&it, id, "THING_UPDATED", "{\"a\":[1,2]}");
    ck_assert(!bson_iter_next(&push));
    bson_destroy(&wrap);
    bson_destroy(&arr);
    bson_destroy(&update);
    cJSON_Delete(payload);
}
END_TEST

START_TEST(an_update_with_its_own_push_gets_the_event_in_that_push)
{
    cJSON *payload = cJSON_Parse("{\"r\":1}");
    bson_t update = BSON_INITIALIZER, push, item, inc;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$push", &push);
    BSON_APPEND_DOCUMENT_BEGIN(&push, "refunds", &item);
    BSON_APPEND_INT64(&item, "amountMinor", 500);
    bson_append_document_end(&push, &item);
    bson_append_document_end(&update, &push);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "refundedMinor", 500);
    bson_append_document_end(&update, &inc);
    char id[25];
    ck_assert_int_eq(td_bus_stage_update(&update, "THING_REFUNDED", payload, id), TD_OK);
    int pushes = 0;
    bson_iter_t it, p;
    ck_assert(bson_iter_init(&it, &update));
    while (bson_iter_next(&it))
        pushes += strcmp(bson_iter_key(&it), "$push") == 0;
    ck_assert_int_eq(pushes, 1); /* one $push operator, holding both fields */
    ck_assert(bson_iter_init_find(&it, &update, "$inc"));
    ck_assert(bson_iter_init_find(&it, &update, "$push"));
    ck_assert(bson_iter_recurse(&it, &p));
    ck_assert(bson_iter_next(&p));
    ck_assert_str_eq(bson_iter_key(&p), "refunds");
    ck_assert(bson_iter_init_find(&it, &update, "$push"));
    bson_iter_t amount;
    ck_assert(bson_iter_recurse(&it, &p) &&
              bson_iter_find_descendant(&p, "refunds.amountMinor", &amount));
    ck_assert_int_eq(bson_iter_int64(&amount), 500);
    ck_assert(bson_iter_init_find(&it, &update, "$push"));
    ck_assert(bson_iter_recurse(&it, &p) && bson_iter_find(&p, "_events"));
    ck_assert(BSON_ITER_HOLDS_DOCUMENT(&p));
    bson_destroy(&update);
    cJSON_Delete(payload);
}
END_TEST

START_TEST(every_staged_event_gets_its_own_id)
{
    cJSON *payload = cJSON_CreateObject();
    char ids[64][25];
    for (int i = 0; i < 64; i++) {
        bson_t doc = BSON_INITIALIZER;
        ck_assert_int_eq(td_bus_stage(&doc, "T", payload, ids[i]), TD_OK);
        bson_destroy(&doc);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(ids[i], ids[j]);
    }
    cJSON_Delete(payload);
}
END_TEST

START_TEST(a_subscriber_handles_the_next_ignores_the_seen_and_replays_gaps)
{
    ck_assert_int_eq(td_bus_next_step(0, 1), TD_BUS_NEXT);
    ck_assert_int_eq(td_bus_next_step(41, 42), TD_BUS_NEXT);
    ck_assert_int_eq(td_bus_next_step(42, 42), TD_BUS_SEEN); /* delivered twice */
    ck_assert_int_eq(td_bus_next_step(42, 7), TD_BUS_SEEN);  /* an old replay */
    ck_assert_int_eq(td_bus_next_step(42, 0), TD_BUS_SEEN);
    ck_assert_int_eq(td_bus_next_step(42, 44), TD_BUS_GAP); /* 43 missing */
    ck_assert_int_eq(td_bus_next_step(0, 2), TD_BUS_GAP);
    ck_assert_int_eq(td_bus_next_step(UINT64_MAX - 1, UINT64_MAX), TD_BUS_NEXT);
    ck_assert_int_eq(td_bus_next_step(UINT64_MAX, UINT64_MAX), TD_BUS_SEEN);
}
END_TEST

/* A stream of sequences with duplicates and a reordering, as pub/sub and replays may
 * deliver them: applied through td_bus_next_step, each is handled once and in order,
 * and a gap stops delivery until what is missing comes. */
START_TEST(a_stream_with_duplicates_is_handled_once_in_order)
{
    const uint64_t arriving[] = {1, 2, 2, 1, 3, 5, 4, 5, 4, 6, 6, 3, 7};
    uint64_t last = 0, handled[16];
    int n = 0, gaps = 0;
    for (size_t i = 0; i < sizeof arriving / sizeof arriving[0]; i++) {
        switch (td_bus_next_step(last, arriving[i])) {
        case TD_BUS_NEXT: handled[n++] = last = arriving[i]; break;
        case TD_BUS_GAP: gaps++; break;
        case TD_BUS_SEEN: break;
        }
    }
    ck_assert_int_eq(gaps, 1); /* 5 before 4 */
    /* 5 came before 4 and is not handled then: it arrives again after 4 */
    ck_assert_int_eq(n, 7);
    for (int i = 0; i < n; i++)
        ck_assert_uint_eq(handled[i], (uint64_t)i + 1);
}
END_TEST

/* A confirmed prepared event as td_bus_confirm makes it (without a real payload). */
static struct confirmed *confirmed_event(int i)
{
    struct confirmed *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    snprintf(e->id, sizeof e->id, "%024x", 0xe00000 + i);
    e->event = BCON_NEW("_id", BCON_UTF8(e->id), "type", BCON_UTF8("T"), "time", BCON_INT64(i),
                        "payload", BCON_UTF8("{}"));
    return e;
}

START_TEST(confirmed_events_leave_the_relay_queue_oldest_first_and_once)
{
    td_bus *bus;
    ck_assert_int_eq(td_bus_new(&bus, "booking"), TD_OK);
    enum { N = 3 * CONFIRMED_BUCKETS }; /* every bucket holds several */
    for (int i = 0; i < N; i++) {
        struct confirmed *e = confirmed_event(i);
        pthread_mutex_lock(&bus->confirmed_mu);
        confirmed_add(bus, e);
        pthread_mutex_unlock(&bus->confirmed_mu);
    }
    char id[25];
    snprintf(id, sizeof id, "%024x", 0xe00000 + N - 1);
    ck_assert(confirmed_has(bus, id));
    ck_assert(!confirmed_has(bus, "000000000000000000000000"));
    ck_assert(!confirmed_has(bus, NULL));
    struct confirmed *batch[RELAY_BATCH];
    int seen = 0;
    int n;
    while ((n = confirmed_take(bus, batch, RELAY_BATCH)) > 0) {
        ck_assert_int_le(n, RELAY_BATCH);
        for (int k = 0; k < n; k++, seen++) {
            snprintf(id, sizeof id, "%024x", 0xe00000 + seen);
            ck_assert_str_eq(batch[k]->id, id); /* in confirmation order */
            ck_assert(!confirmed_has(bus, id)); /* taken: out of the set too */
            confirmed_free(batch[k]);
        }
    }
    ck_assert_int_eq(seen, N);
    ck_assert_ptr_null(bus->first);
    ck_assert_ptr_null(bus->last);
    /* what a lost lease leaves is freed by confirmed_clear (valgrind checks) */
    for (int i = 0; i < 5; i++) {
        struct confirmed *e = confirmed_event(i);
        pthread_mutex_lock(&bus->confirmed_mu);
        confirmed_add(bus, e);
        pthread_mutex_unlock(&bus->confirmed_mu);
    }
    confirmed_clear(bus);
    ck_assert(!confirmed_has(bus, "000000000000000000e00000"));
    ck_assert_int_eq(confirmed_take(bus, batch, RELAY_BATCH), 0);
    td_bus_free(bus);
}
END_TEST

START_TEST(the_test_relay_delay_holds_events_younger_than_it)
{
    td_bus *bus;
    ck_assert_int_eq(setenv(TD_ENV_TEST_RELAY_DELAY_MS, "5000", 1), 0);
    ck_assert_int_eq(td_bus_new(&bus, "payment"), TD_OK);
    ck_assert_int_eq(unsetenv(TD_ENV_TEST_RELAY_DELAY_MS), 0);
    ck_assert_int_eq(bus->test_delay_ms, 5000);
    int64_t now = td_now_ms();
    ck_assert(held_for_test(bus, now - 100));
    ck_assert(!held_for_test(bus, now - 6000));
    /* two old enough, then a young one, then an old one behind it: order is kept */
    const int64_t times[] = {now - 9000, now - 7000, now - 10, now - 8000};
    for (int i = 0; i < 4; i++) {
        struct confirmed *e = confirmed_event(i);
        bson_destroy(e->event);
        e->event = BCON_NEW("_id", BCON_UTF8(e->id), "type", BCON_UTF8("T"), "time",
                            BCON_INT64(times[i]), "payload", BCON_UTF8("{}"));
        pthread_mutex_lock(&bus->confirmed_mu);
        confirmed_add(bus, e);
        pthread_mutex_unlock(&bus->confirmed_mu);
    }
    ck_assert_int_eq(confirmed_due(bus, RELAY_BATCH), 2);
    ck_assert_int_eq(confirmed_due(bus, 1), 1);
    confirmed_clear(bus);
    td_bus_free(bus);
    /* without the variable nothing is held */
    ck_assert_int_eq(td_bus_new(&bus, "payment"), TD_OK);
    ck_assert(!held_for_test(bus, td_now_ms()));
    ck_assert_int_eq(confirmed_due(bus, 7), 7);
    td_bus_free(bus);
}
END_TEST

START_TEST(a_replayed_event_is_built_from_its_outbox_entry)
{
    bson_t *doc = BCON_NEW("_id", BCON_INT64(42), "eventId", BCON_UTF8("64b0000000000000000000aa"),
                           "type", BCON_UTF8("BOOKING_CREATED"), "time", BCON_INT64(1234),
                           "payload", BCON_UTF8("{\"a\":1}"));
    Tripdesk__Event *ev = event_from_outbox(doc, "booking");
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_eq(ev->sequence, 42);
    ck_assert_str_eq(ev->id, "64b0000000000000000000aa");
    ck_assert_str_eq(ev->type, "BOOKING_CREATED");
    ck_assert_str_eq(ev->publisher, "booking");
    ck_assert_int_eq(ev->time_ms, 1234);
    ck_assert_uint_eq(ev->payload.len, 7);
    ck_assert_mem_eq(ev->payload.data, "{\"a\":1}", 7);
    free_event(ev);
    bson_destroy(doc);
    /* an entry without payload (never written so) still gives a parseable event */
    doc = BCON_NEW("_id", BCON_INT64(43));
    ev = event_from_outbox(doc, "booking");
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_eq(ev->sequence, 43);
    ck_assert_str_eq(ev->id, "");
    ck_assert_mem_eq(ev->payload.data, "{}", 2);
    free_event(ev);
    bson_destroy(doc);
}
END_TEST

static int never(const td_event *ev, mongoc_client_t *mongo, void *arg)
{
    (void)ev;
    (void)mongo;
    (void)arg;
    return TD_OK;
}

START_TEST(subscriptions_and_tracking_are_checked_before_start)
{
    td_bus *bus;
    ck_assert_int_eq(td_bus_new(&bus, "booking"), TD_OK);
    ck_assert_int_eq(td_bus_subscribe(bus, "analytics", never, NULL), TD_OK);
    ck_assert_int_lt(td_bus_subscribe(bus, "nosuchservice", never, NULL), 0);
    ck_assert_int_eq(td_bus_track_collection(bus, "bookings"), TD_OK);
    ck_assert(!td_bus_is_relay(bus));
    td_bus_free(bus);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("bus");
    tcase_add_test(tc, an_insert_stages_its_event_in_the_document);
    tcase_add_test(tc, an_update_pushes_its_event_beside_its_other_operators);
    tcase_add_test(tc, an_update_with_its_own_push_gets_the_event_in_that_push);
    tcase_add_test(tc, every_staged_event_gets_its_own_id);
    tcase_add_test(tc, a_subscriber_handles_the_next_ignores_the_seen_and_replays_gaps);
    tcase_add_test(tc, a_stream_with_duplicates_is_handled_once_in_order);
    tcase_add_test(tc, subscriptions_and_tracking_are_checked_before_start);
    tcase_add_test(tc, confirmed_events_leave_the_relay_queue_oldest_first_and_once);
    tcase_add_test(tc, a_replayed_event_is_built_from_its_outbox_entry);
    tcase_add_test(tc, the_test_relay_delay_holds_events_younger_than_it);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
