/* The pure part of the booking conflict check (see slots.h). */
#include "slots.h"

#include <stdio.h>
#include <string.h>

bool slot_overlaps(const slot_entry *e, const char *dest, int64_t start, int64_t end)
{
    return strcmp(e->dest, dest) == 0 && e->start_ms <= end && e->end_ms >= start;
}

slot_verdict slot_judge(const slot_entry *e, const slot_entry *mine, int64_t now)
{
    if (bson_oid_equal(&e->booking, &mine->booking) ||
        !slot_overlaps(e, mine->dest, mine->start_ms, mine->end_ms))
        return SLOT_FREE;
    return now - e->at_ms < SLOT_GRACE_MS ? SLOT_HELD : SLOT_CHECK;
}

bool slot_has_same(const slot_list *l, const slot_entry *mine)
{
    for (size_t i = 0; i < l->n; i++)
        if (bson_oid_equal(&l->v[i].booking, &mine->booking) &&
            strcmp(l->v[i].dest, mine->dest) == 0 && l->v[i].start_ms == mine->start_ms &&
            l->v[i].end_ms == mine->end_ms)
            return true;
    return false;
}

bool slot_keep_only(slot_list *l, const bson_oid_t *booking, const char *dest, int64_t start,
                    int64_t end)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        const slot_entry *e = &l->v[i];
        bool keep =
            !bson_oid_equal(&e->booking, booking) || (dest != NULL && strcmp(e->dest, dest) == 0 &&
                                                      e->start_ms == start && e->end_ms == end);
        if (keep)
            l->v[kept++] = *e;
    }
    bool changed = kept != l->n;
    l->n = kept;
    return changed;
}

void slot_conflict(const slot_entry *e, int64_t start, int64_t end, conflict *found)
{
    memset(found, 0, sizeof *found);
    bson_oid_to_string(&e->booking, found->id);
    /* fits: both are 32-byte references */
    TD_IGNORE(td_fmt(found->reference, sizeof found->reference, "%s", e->reference));
    found->start_ms = e->start_ms;
    found->end_ms = e->end_ms;
    found->exact = e->start_ms == start && e->end_ms == end;
}
