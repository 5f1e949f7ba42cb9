/*
 * Status machines: a table of allowed next states per state, the check, and the one
 * 422 INVALID_STATUS_TRANSITION answer with details {from, to, allowed}.
 */
#ifndef TRIPDESK_TRANSITIONS_H
#define TRIPDESK_TRANSITIONS_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>

#define TD_MAX_NEXT 4

typedef struct {
    const char *from;
    const char *to[TD_MAX_NEXT]; /* NULL-terminated when shorter */
} td_transition;

bool td_transition_allowed(const td_transition *table, size_t n, const char *from, const char *to);

/* Answers 422; message NULL gives "A <from> <noun> cannot become <to>". */
int td_transition_fail(td_res *res, const td_transition *table, size_t n, const char *from,
                       const char *to, const char *noun, const char *message);

#endif
