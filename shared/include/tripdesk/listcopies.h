/* Whether this process serves its lists, counts and summaries from in-memory copies
 * (listindex.h, tally.h) or from the database: TRIPDESK_LIST_COPIES=auto|on|off,
 * decided once per process for every copy it keeps.
 *
 *   on    always the copies
 *   off   always the database (its declared indexes)
 *   auto  the copies on FerretDB, whose SQLite backend reads no secondary index and
 *         decodes the whole collection for any filter but _id; the database on
 *         MongoDB. Undecided until the server could be asked once (td_list_copies_decide).
 *
 * Configure once at start (before the worker pool runs); the state is read with
 * atomics afterwards, from any thread. */
#ifndef TRIPDESK_LISTCOPIES_H
#define TRIPDESK_LISTCOPIES_H

#include <mongoc/mongoc.h>

#include "tripdesk/common.h"

typedef enum {
    TD_COPIES_UNDECIDED = 0, /* auto, and the server not asked yet */
    TD_COPIES_ON,
    TD_COPIES_OFF,
} td_copies_use;

/* Reads TRIPDESK_LIST_COPIES. TD_EINVAL (logged, naming the variable and the
 * values it takes) when it is none of auto, on, off. Again later: reads it again. */
TD_MUST_CHECK int td_list_copies_configure(void);

/* auto: asks the server whether it is FerretDB (once; c may be NULL: nothing asked)
 * and logs the decision. Returns the state after. */
td_copies_use td_list_copies_decide(mongoc_client_t *c);

/* The state, never asking. */
td_copies_use td_list_copies_use(void);

typedef struct td_listindex td_listindex;

/* ix when the copies are on (decided), else NULL: the caller asks the database. */
td_listindex *td_list_copy_if_on(td_listindex *ix);

#endif
