/*
 * Lossless event bus.
 *
 * Publisher: every event is first written to the service's `outbox` collection;
 * one relay per service (the holder of a lease in MongoDB) gives outbox events their
 * gapless per-publisher sequence numbers in order, publishes them on nng pub/sub
 * ("<publisher>.<TYPE>\0" + protobuf Event) and answers replay requests from the
 * outbox over req/rep.
 *
 * A domain write and its event are made crash-safe without transactions: the event
 * is staged inside the domain document (`_events` array) by the same write, then
 * moved to the outbox (idempotent by event id) and pulled from the document; a
 * sweeper moves leftovers at start and periodically.
 *
 * Subscriber: remembers the last sequence handled per publisher (`bus_cursors`),
 * handles sequence last+1, ignores older ones, and on a gap, at start and when
 * idle asks the publisher to replay from last+1; the cursor is saved at most every
 * 100 ms during a burst and when it ends. Handlers must be idempotent by event id
 * (a crash delivers again what was handled since the cursor was last saved).
 */
#ifndef TRIPDESK_BUS_H
#define TRIPDESK_BUS_H

#include "common.h"

#include <bson/bson.h>
#include <cjson/cJSON.h>
#include <mongoc/mongoc.h>
#include <stdint.h>

#define TD_BUS_LEASE_MS 5000           /* relay lease lifetime */
#define TD_BUS_TEST_DELAY_MAX_MS 60000 /* TRIPDESK_TEST_RELAY_DELAY_MS at most */
#define TD_BUS_RELAY_POLL_MS 500    /* relay polls for other instances' events (own ones wake it) */
#define TD_BUS_IDLE_CATCHUP_MS 1000 /* subscriber asks for replay when idle */
#define TD_BUS_REPLAY_BATCH 200
#define TD_BUS_REPLAY_TIMEOUT_MS 10000 /* generous: a slow replay must still land */
#define TD_BUS_REPLAY_SEND_MS 500      /* a replay request finds a connected server */
#define TD_BUS_SWEEP_MS                                                                            \
    600000 /* crash leftovers: a full scan (35,000 documents of the
                                      demo data: ~12 s of FerretDB's CPU), so rarely;
                                      at start too; TRIPDESK_BUS_SWEEP_MS overrides */

typedef struct td_bus td_bus;

/* An event as handlers see it (payload is the parsed JSON object). */
typedef struct {
    const char *id;
    const char *type;
    const char *publisher;
    uint64_t sequence;
    int64_t time_ms;
    const cJSON *payload;
} td_event;

/* Handles one event with a MongoDB client of the subscriber's own. Returns 0 when
 * the event is done with (handled, or deliberately ignored), TD_EUNAVAIL/TD_EIO to
 * have it retried later. */
typedef int (*td_event_handler)(const td_event *ev, mongoc_client_t *mongo, void *arg);

/* Creates the bus for service `self`. */
TD_MUST_CHECK int td_bus_new(td_bus **out, const char *self);

/* Subscribes to every event of `publisher` (call before td_bus_start). */
TD_MUST_CHECK int td_bus_subscribe(td_bus *bus, const char *publisher, td_event_handler h,
                                   void *arg);

/* Registers a domain collection whose documents may hold staged `_events`. */
TD_MUST_CHECK int td_bus_track_collection(td_bus *bus, const char *coll);

/* Opens and dials the subscriptions, then starts the relay, replay server, sweeper
 * and subscriber threads. TD_EIO (logged) when a socket or a thread cannot be
 * started: the daemon must not run deaf; td_bus_free still cleans up. */
TD_MUST_CHECK int td_bus_start(td_bus *bus);

/* Stops all threads and frees the bus. */
void td_bus_free(td_bus *bus);

/* Publishes an event that has no domain write of its own: one outbox insert.
 * payload is borrowed. *id_out (25 bytes) gets the event id when non-NULL. */
TD_MUST_CHECK int td_bus_publish(td_bus *bus, mongoc_client_t *c, const char *type,
                                 const cJSON *payload, char *id_out);

/* Appends to `doc` an `_events` array holding one staged event, for a domain insert
 * or $set; then, after the write succeeded, call td_bus_commit. */
TD_MUST_CHECK int td_bus_stage(bson_t *doc, const char *type, const cJSON *payload,
                               char id_out[25]);

/* Appends to an update document a `$push` of one staged event (merged into the
 * update's own $push when it has one); then, after the update succeeded, call
 * td_bus_commit. */
TD_MUST_CHECK int td_bus_stage_update(bson_t *update, const char *type, const cJSON *payload,
                                      char id_out[25]);

/* The event of a domain insert, written to outbox_pending before the document
 * ("prepared") when this instance holds the relay lease (td_bus_is_relay): the relay
 * sequences it once td_bus_confirm says the insert is in, so the document needs no
 * staged event and no second write to pull it. After a crash (or a lease change) a
 * prepared event nobody confirmed is published when, TD_BUS_PREPARED_GRACE_MS after
 * it was written, its document exists, and dropped when it does not. When this
 * instance is not the relay, stage the event in the document instead. An error:
 * the event could not be written (it may be there): do not insert the document.
 * Events prepared at the same moment by several requests are written with one
 * insert. */
bool td_bus_is_relay(td_bus *bus);
#define TD_BUS_PREPARED_GRACE_MS 30000
typedef struct {
    char id[25];
    int64_t time;
} td_bus_prepared;
TD_MUST_CHECK int td_bus_prepare(td_bus *bus, mongoc_client_t *c, const char *coll,
                                 const bson_oid_t *doc_id, const char *type, const cJSON *payload,
                                 td_bus_prepared *out);

/* The insert of a prepared event's document succeeded: the relay sends the event
 * from memory (type and payload as given to td_bus_prepare). */
void td_bus_confirm(td_bus *bus, const td_bus_prepared *ev, const char *type, const cJSON *payload);

/* The same when the insert took so long (TD_BUS_PREPARED_GRACE_MS / 2 or more) that
 * the relay may be about to drop the event as never written: makes it a plain
 * pending event first (or writes it again, when it was dropped already). */
TD_MUST_CHECK int td_bus_confirm_late(td_bus *bus, mongoc_client_t *c, const td_bus_prepared *ev,
                                      const char *type, const cJSON *payload);

/* The insert certainly failed (a duplicate key): forgets the prepared event. After
 * any other error the insert may still have happened: leave the event, the relay
 * decides by the document after the grace period. */
void td_bus_abandon(td_bus *bus, mongoc_client_t *c, const td_bus_prepared *ev);

/* Moves the staged events of document `doc_id` (an ObjectId hex or string id) in
 * `coll` to the outbox and wakes the relay. */
TD_MUST_CHECK int td_bus_commit(td_bus *bus, mongoc_client_t *c, const char *coll,
                                const char *doc_id);

/* The same for a document already in hand (as inserted, or as returned by
 * findAndModify): saves reading it back. */
TD_MUST_CHECK int td_bus_commit_doc(td_bus *bus, mongoc_client_t *c, const char *coll,
                                    const bson_t *doc);

/* What a subscriber that handled publisher's events up to sequence `last` does with
 * one of sequence `seq` (live or replayed): TD_BUS_SEEN ignores it (an event seen
 * twice), TD_BUS_NEXT hands it to the handler, TD_BUS_GAP asks for a replay first. */
typedef enum { TD_BUS_SEEN, TD_BUS_NEXT, TD_BUS_GAP } td_bus_step;
td_bus_step td_bus_next_step(uint64_t last, uint64_t seq);

#endif
