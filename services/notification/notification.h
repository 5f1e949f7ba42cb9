/*
 * The notification service's map (issue 14): in-app notifications made from the
 * other services' events, each for the right recipients, exactly once per event
 * and recipient, and the API an agent reads them with.
 *
 * It reads no other service's database: what it needs of agents, bookings and
 * customers it keeps from their events (people.c), from the start of each stream
 * on a first run (the bus replays it), so that those created before it first ran
 * are known too.
 *
 * Collections (database tripdesk_notification):
 *   notifications  one per (event, recipient): its _id is derived from both
 *                  (notification_id), so an event delivered twice, or handled by two
 *                  daemons, makes one (notifications.c, triggers.c).
 *   agents         the agent copy: name, email, role, status (people.c).
 *   bookings       the booking copy: reference, agent, customer, destination, start.
 *   customers      the customer copy: name, email.
 *   preferences    one per agent: which types in-app, which by email (preferences.c).
 *
 * Lists and unread counts come from the list copy of notifications (the platform's
 * read rule: on the embedded FerretDB only reads by _id go to the database).
 */
#ifndef NOTIFICATION_H
#define NOTIFICATION_H

#include "tripdesk/bsonpath.h"
#include "tripdesk/bus.h"
#include "tripdesk/docjson.h"
#include "tripdesk/idempotency.h"
#include "tripdesk/listindex.h"
#include "tripdesk/mongo.h"
#include "tripdesk/query.h"
#include "tripdesk/service.h"
#include "tripdesk/store.h"
#include "tripdesk/validate.h"

#include <stdbool.h>

#define COLL_NOTIFICATIONS "notifications"
#define COLL_AGENTS "agents"
#define COLL_BOOKINGS "bookings"
#define COLL_CUSTOMERS "customers"
#define COLL_PREFERENCES "preferences"

#define MANAGE_NOTIFICATIONS "canManageNotifications"
#define TITLE_MAX 200
#define MESSAGE_MAX 2000

/* The notification types of PRD 3.3.1, with their channel and priority (3.2). */
typedef enum {
    NT_LEAD_ASSIGNED,
    NT_BOOKING_CONFIRMED,
    NT_BOOKING_CANCELLED,
    NT_PAYMENT_RECEIVED,
    NT_AGENT_APPROVED,
    NT_ROLE_CHANGED,
    NT_COMMISSION_APPROVED,
    NT_LEAD_STATUS_CHANGED,
    NT_BOOKING_REMINDER,
    NT_SYSTEM,
    NT_COUNT
} ntype;

typedef struct {
    const char *name;     /* LEAD_ASSIGNED ... */
    const char *priority; /* low, medium, high */
    bool email;           /* sent by email too unless the agent turned it off */
} ntype_info;

extern const ntype_info ntypes[NT_COUNT];
/* The type named `name`, or -1. */
int ntype_of(const char *name);

/* What one notification says (strings borrowed). */
typedef struct {
    ntype type;
    const char *title, *message;
    const char *resource_type; /* booking, lead, payment, commission, agent; NULL: none */
    const char *resource_id;   /* 24 hex digits, or NULL */
    const char *priority;      /* NULL: the type's */
} notice;

/* notifications.c */
extern const td_route notification_routes[];
int notifications_list_new(void);
void notifications_list_maintain(mongoc_client_t *c);
void notifications_list_free(void);
/* The notification of event `event_id` for agent `recipient`: its _id (the event's
 * time in the first four bytes, so ids sort about as created). */
void notification_id(const char *event_id, int64_t event_ms, const char *recipient,
                     bson_oid_t *out);
/* Writes n's notification for recipient (an agent id), made by event_id at
 * event_ms (id as notification_id; a second delivery finds it: TD_OK). The
 * recipient's preferences decide whether it shows in-app and whether it is for
 * email; one turned off on both channels is not written. */
int notification_add(mongoc_client_t *c, const char *event_id, int64_t event_ms,
                     const char *recipient, const notice *n);

/* preferences.c */
extern const td_route preference_routes[];
/* Whether agent `agent` wants type t in-app and by email (defaults: in-app all,
 * email for the types whose channel has it). */
int preferences_of(mongoc_client_t *c, const char *agent, ntype t, bool *in_app, bool *email);

/* people.c: what the other services' events say of agents, bookings, customers */
typedef struct {
    char id[25], name[160], email[256], role[24], status[24];
} agent_info;
typedef struct {
    char id[25], reference[40], agent[25], customer[25], destination[160];
} booking_info;
int people_event(const td_event *ev, mongoc_client_t *c, void *arg);
int agent_known(mongoc_client_t *c, const char *id, agent_info *out);
void agent_from_doc(const bson_t *doc, agent_info *out);
int booking_seen(mongoc_client_t *c, const char *id, booking_info *out);
/* The active admins (admin, super_admin) known: *ids (caller frees) of *n. */
int admins_known(mongoc_client_t *c, char (**ids)[25], size_t *n);
/* The admins copy is loaded once MongoDB answers (init) and kept from events. */
int people_init(mongoc_client_t *c);
void people_free(void);

/* triggers.c: the events that make notifications */
int triggers_setup(td_bus *bus);

#endif
