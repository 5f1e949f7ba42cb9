/*
 * The pure part of the booking conflict check (conflicts.c): what the entries of a
 * customer's slot document mean for a new reservation, without the database, so it
 * is unit-tested (tests/unit/test_slots.c).
 */
#ifndef TRIPDESK_BOOKING_SLOTS_H
#define TRIPDESK_BOOKING_SLOTS_H

#include "booking.h"

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

/* An entry younger than this belongs to a write that may still be in flight and
 * always counts; an older overlapping one is checked against its booking first. */
#define SLOT_GRACE_MS 30000

/* One reserved range of a slot document. */
typedef struct {
    bson_oid_t booking;
    char reference[32];
    char dest[DEST_KEY_SIZE];
    int64_t start_ms, end_ms, at_ms;
} slot_entry;

typedef struct {
    slot_entry *v;
    size_t n, cap;
    int64_t version; /* 0: no document yet */
} slot_list;

/* Whether e holds a range at dest overlapping [start, end] (inclusive days). */
bool slot_overlaps(const slot_entry *e, const char *dest, int64_t start, int64_t end);

typedef enum {
    SLOT_FREE,  /* no obstacle: mine's own entry, or no overlap */
    SLOT_HELD,  /* a conflict: overlapping and young (a write in flight or just done) */
    SLOT_CHECK, /* overlapping but old: counts only if its booking still holds it */
} slot_verdict;

/* What entry e means for reservation mine (booking, dest, start, end) at now (ms). */
slot_verdict slot_judge(const slot_entry *e, const slot_entry *mine, int64_t now);

/* Whether l holds mine's exact range for mine's booking already (a retried write). */
bool slot_has_same(const slot_list *l, const slot_entry *mine);

/* Drops booking's entries from l but the one for exactly dest/start/end (dest NULL:
 * all of them); true when something was dropped. */
bool slot_keep_only(slot_list *l, const bson_oid_t *booking, const char *dest, int64_t start,
                    int64_t end);

/* Describes e as the booking a reservation [start, end] conflicts with. */
void slot_conflict(const slot_entry *e, int64_t start, int64_t end, conflict *found);

#endif
