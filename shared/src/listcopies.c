/* TRIPDESK_LIST_COPIES: one decision per process (tripdesk/listcopies.h). */
#include "tripdesk/listcopies.h"

#include "tripdesk/config.h"
#include "tripdesk/log.h"
#include "tripdesk/mongo.h"

static const char *const modes[] = {"auto", "on", "off", NULL};
enum { MODE_AUTO, MODE_ON, MODE_OFF };

static int use = TD_COPIES_UNDECIDED; /* atomic: a td_copies_use */

int td_list_copies_configure(void)
{
    char why[384];
    int mode;
    int rc = td_env_choice(TD_ENV_LIST_COPIES, modes, MODE_AUTO, &mode, why, sizeof why);
    if (rc != TD_OK) {
        td_error("%s", why);
        return rc;
    }
    int state = mode == MODE_ON    ? TD_COPIES_ON
                : mode == MODE_OFF ? TD_COPIES_OFF
                                   : TD_COPIES_UNDECIDED;
    __atomic_store_n(&use, state, __ATOMIC_RELEASE);
    return TD_OK;
}

td_copies_use td_list_copies_decide(mongoc_client_t *c)
{
    int state = __atomic_load_n(&use, __ATOMIC_ACQUIRE);
    bool ferret;
    if (state != TD_COPIES_UNDECIDED || c == NULL || td_mongo_is_ferretdb(c, &ferret) != TD_OK)
        return (td_copies_use)state;
    int want = ferret ? TD_COPIES_ON : TD_COPIES_OFF;
    int expected = TD_COPIES_UNDECIDED;
    /* several threads may ask at once: one decides, and one says so */
    if (__atomic_compare_exchange_n(&use, &expected, want, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        td_info("lists, counts and summaries from %s (%s=auto, %s)",
                ferret ? "in-memory copies" : "the database", TD_ENV_LIST_COPIES,
                ferret ? "FerretDB" : "MongoDB: its indexes serve them");
    return (td_copies_use)__atomic_load_n(&use, __ATOMIC_ACQUIRE);
}

td_copies_use td_list_copies_use(void)
{
    return (td_copies_use)__atomic_load_n(&use, __ATOMIC_ACQUIRE);
}

td_listindex *td_list_copy_if_on(td_listindex *ix)
{
    return td_list_copies_use() == TD_COPIES_ON ? ix : NULL;
}
