/*
 * The events that make notifications (PRD 3.2), each to its recipients:
 *   auth     AGENT_APPROVED, AGENT_ROLE_CHANGED        -> the agent
 *   booking  LEAD_ASSIGNED (and LEAD_CREATED for
 *            another agent)                            -> the lead's new agent
 *            LEAD_STATUS_CHANGED                       -> the lead's agent
 *            BOOKING_STATUS_CHANGED to confirmed       -> the booking's agent
 *            BOOKING_CANCELLED                         -> the booking's agent, admins
 *            BOOKING_REMINDER                          -> the booking's agent
 *   payment  PAYMENT_RECEIVED                          -> the booking's agent, admins
 *            COMMISSION_APPROVED                       -> the commission's agent
 * Nobody is told of what they did themselves (the event's actor). Each
 * notification's id is derived from the event and the recipient, so a
 * redelivered event makes nothing twice. An event this service cannot read
 * (malformed, missing ids) is logged and skipped; it never holds up the stream.
 * The copies of agents, bookings and customers (people.c) are kept from the same
 * streams first.
 */
#include "notification.h"

#include "tripdesk/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 600 /* a title or message made here */

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static const cJSON *obj(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *actor_of(const td_event *ev)
{
    return json_str(obj(ev->payload, "actor"), "id");
}

/* Adds n for recipient unless the recipient is the event's actor. */
static int tell(const td_event *ev, mongoc_client_t *c, const char *recipient, const notice *n)
{
    const char *actor = actor_of(ev);
    if (recipient == NULL || (actor != NULL && strcmp(actor, recipient) == 0))
        return TD_OK;
    return notification_add(c, ev->id, ev->time_ms, recipient, n);
}

/* n for `agent` (may be NULL) and every administrator, each once. */
static int tell_with_admins(const td_event *ev, mongoc_client_t *c, const char *agent,
                            const notice *n)
{
    int rc = tell(ev, c, agent, n);
    char(*ids)[25] = NULL;
    size_t count = 0;
    if (rc == TD_OK)
        rc = admins_known(c, &ids, &count);
    for (size_t i = 0; rc == TD_OK && i < count; i++)
        if (agent == NULL || strcmp(ids[i], agent) != 0)
            rc = tell(ev, c, ids[i], n);
    free(ids);
    return rc;
}

static void lead_name(const cJSON *lead, char *buf, size_t len)
{
    const cJSON *name = obj(lead, "name");
    td_fmt_text(buf, len, "%s %s", or_empty(json_str(name, "firstName")),
                or_empty(json_str(name, "lastName")));
}

static int lead_event(const td_event *ev, mongoc_client_t *c)
{
    const cJSON *lead = obj(ev->payload, "lead");
    const char *id = json_str(obj(ev->payload, "target"), "id");
    const char *agent = json_str(ev->payload, "assignedAgent");
    if (!td_is_object_id(id) || !td_is_object_id(agent)) {
        td_warn("%s %s without lead or agent id: skipped", ev->type, ev->id);
        return TD_OK;
    }
    char who[300], title[TEXT_MAX], message[TEXT_MAX];
    lead_name(lead, who, sizeof who);
    const char *dest = json_str(lead, "interestedDestination");
    if (strcmp(ev->type, "LEAD_STATUS_CHANGED") == 0) {
        const cJSON *ch = obj(ev->payload, "changes");
        const char *from = json_str(obj(ch, "before"), "status");
        const char *to = json_str(obj(ch, "after"), "status");
        td_fmt_text(title, sizeof title, "Lead %s is now %s", who, or_empty(to));
        td_fmt_text(message, sizeof message, "The lead %s%s%s moved from %s to %s.", who,
                    dest != NULL ? " for " : "", or_empty(dest), or_empty(from), or_empty(to));
        notice n = {NT_LEAD_STATUS_CHANGED, title, message, "lead", id, NULL};
        return tell(ev, c, agent, &n);
    }
    td_fmt_text(title, sizeof title, "New lead: %s", who);
    td_fmt_text(message, sizeof message, "The lead %s%s%s was assigned to you.", who,
                dest != NULL ? " interested in " : "", or_empty(dest));
    notice n = {NT_LEAD_ASSIGNED, title, message, "lead", id, NULL};
    return tell(ev, c, agent, &n);
}

/* "<reference> to <destination> for <customer>" of a known booking. */
static void booking_words(mongoc_client_t *c, const booking_info *b, char *buf, size_t len)
{
    bson_t doc = BSON_INITIALIZER, filter = BSON_INITIALIZER;
    char customer[200] = "";
    if (td_is_object_id(b->customer)) {
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, b->customer);
        BSON_APPEND_OID(&filter, "_id", &oid);
        if (td_store_find_one(c, COLL_CUSTOMERS, &filter, &doc) == TD_OK)
            td_fmt_text(customer, sizeof customer, "%s %s",
                        or_empty(td_bson_str(&doc, "firstName")),
                        or_empty(td_bson_str(&doc, "lastName")));
    }
    td_fmt_text(buf, len, "%s%s%s%s%s", b->reference, b->destination[0] != '\0' ? " to " : "",
                b->destination, customer[0] != '\0' ? " for " : "", customer);
    bson_destroy(&doc);
    bson_destroy(&filter);
}

/* The booking an event is about, from the copy; TD_ENOTFOUND (logged) when unknown. */
static int booking_of(const td_event *ev, mongoc_client_t *c, const char *id, booking_info *b)
{
    int rc = booking_seen(c, id, b);
    if (rc == TD_ENOTFOUND)
        td_warn("%s %s: booking %s not known: skipped", ev->type, ev->id, or_empty(id));
    return rc;
}

static int booking_event(const td_event *ev, mongoc_client_t *c)
{
    const char *id = json_str(obj(ev->payload, "target"), "id");
    const char *to = json_str(obj(obj(ev->payload, "changes"), "after"), "status");
    bool cancelled = strcmp(ev->type, "BOOKING_CANCELLED") == 0;
    bool reminder = strcmp(ev->type, "BOOKING_REMINDER") == 0;
    if (!cancelled && !reminder && (to == NULL || strcmp(to, "confirmed") != 0))
        return TD_OK;
    booking_info b;
    int rc = booking_of(ev, c, id, &b);
    if (rc != TD_OK)
        return rc == TD_ENOTFOUND ? TD_OK : rc;
    char words[400], title[TEXT_MAX], message[TEXT_MAX];
    booking_words(c, &b, words, sizeof words);
    if (reminder) {
        td_fmt_text(title, sizeof title, "Trip in 7 days: %s", b.reference);
        td_fmt_text(message, sizeof message, "The trip of booking %s starts in 7 days.", words);
        notice n = {NT_BOOKING_REMINDER, title, message, "booking", b.id, NULL};
        return tell(ev, c, b.agent, &n);
    }
    if (cancelled) {
        const char *reason = json_str(ev->payload, "reason");
        td_fmt_text(title, sizeof title, "Booking %s cancelled", b.reference);
        td_fmt_text(message, sizeof message, "The booking %s was cancelled%s%s.", words,
                    reason != NULL ? ": " : "", or_empty(reason));
        notice n = {NT_BOOKING_CANCELLED, title, message, "booking", b.id, NULL};
        return tell_with_admins(ev, c, b.agent, &n);
    }
    td_fmt_text(title, sizeof title, "Booking %s confirmed", b.reference);
    td_fmt_text(message, sizeof message, "The booking %s is confirmed.", words);
    notice n = {NT_BOOKING_CONFIRMED, title, message, "booking", b.id, NULL};
    return tell(ev, c, b.agent, &n);
}

static int agent_event(const td_event *ev, mongoc_client_t *c)
{
    const char *id = json_str(obj(ev->payload, "target"), "id");
    if (!td_is_object_id(id))
        return TD_OK;
    const cJSON *ch = obj(ev->payload, "changes");
    char title[TEXT_MAX], message[TEXT_MAX];
    if (strcmp(ev->type, "AGENT_APPROVED") == 0) {
        td_fmt_text(title, sizeof title, "Your account is approved");
        td_fmt_text(message, sizeof message,
                    "Welcome to TripDesk: your account is active and you can sign in.");
        notice n = {NT_AGENT_APPROVED, title, message, "agent", id, NULL};
        return tell(ev, c, id, &n);
    }
    const char *from = json_str(obj(ch, "before"), "role");
    const char *to = json_str(obj(ch, "after"), "role");
    td_fmt_text(title, sizeof title, "Your role is now %s", or_empty(to));
    td_fmt_text(message, sizeof message, "An administrator changed your role from %s to %s.",
                or_empty(from), or_empty(to));
    notice n = {NT_ROLE_CHANGED, title, message, "agent", id, NULL};
    return tell(ev, c, id, &n);
}

/* "1250.5 INR" */
static void amount_words(const cJSON *o, char *buf, size_t len)
{
    const cJSON *a = obj(o, "amount");
    td_fmt_text(buf, len, "%.2f %s", cJSON_IsNumber(a) ? a->valuedouble : 0.0,
                or_empty(json_str(o, "currency")));
}

static int payment_event(const td_event *ev, mongoc_client_t *c)
{
    char amount[64], title[TEXT_MAX], message[TEXT_MAX];
    if (strcmp(ev->type, "COMMISSION_APPROVED") == 0) {
        const cJSON *cm = obj(ev->payload, "commission");
        const char *id = json_str(obj(ev->payload, "target"), "id");
        amount_words(cm, amount, sizeof amount);
        td_fmt_text(title, sizeof title, "Commission approved: %s", amount);
        td_fmt_text(message, sizeof message, "Your commission of %s on booking %s was approved.",
                    amount, or_empty(json_str(cm, "bookingReference")));
        notice n = {NT_COMMISSION_APPROVED, title, message, "commission", id, NULL};
        return tell(ev, c, json_str(cm, "agent"), &n);
    }
    const cJSON *p = obj(ev->payload, "payment");
    const char *booking = json_str(p, "booking");
    booking_info b;
    int rc = booking_of(ev, c, booking, &b);
    if (rc != TD_OK)
        return rc == TD_ENOTFOUND ? TD_OK : rc;
    char words[400];
    booking_words(c, &b, words, sizeof words);
    amount_words(p, amount, sizeof amount);
    const cJSON *summary = obj(ev->payload, "booking");
    const cJSON *outstanding = obj(summary, "outstanding");
    td_fmt_text(title, sizeof title, "Payment received: %s", amount);
    td_fmt_text(message, sizeof message, "%s (%s) was paid for booking %s; %.2f %s outstanding.",
                amount, or_empty(json_str(p, "paymentMethod")), words,
                cJSON_IsNumber(outstanding) ? outstanding->valuedouble : 0.0,
                or_empty(json_str(p, "currency")));
    notice n = {NT_PAYMENT_RECEIVED, title, message, "payment", json_str(p, "_id"), NULL};
    return tell_with_admins(ev, c, b.agent, &n);
}

/* One handler per publisher: the copies first, then the notifications. */
static int on_auth(const td_event *ev, mongoc_client_t *c, void *arg)
{
    int rc = people_event(ev, c, arg);
    if (rc == TD_OK &&
        (strcmp(ev->type, "AGENT_APPROVED") == 0 || strcmp(ev->type, "AGENT_ROLE_CHANGED") == 0))
        rc = agent_event(ev, c);
    return rc;
}

static int on_booking(const td_event *ev, mongoc_client_t *c, void *arg)
{
    int rc = people_event(ev, c, arg);
    if (rc != TD_OK)
        return rc;
    if (strcmp(ev->type, "LEAD_ASSIGNED") == 0 || strcmp(ev->type, "LEAD_STATUS_CHANGED") == 0)
        return lead_event(ev, c);
    if (strcmp(ev->type, "LEAD_CREATED") == 0) { /* created for another agent: assigned */
        const char *agent = json_str(ev->payload, "assignedAgent");
        const char *actor = actor_of(ev);
        return agent != NULL && actor != NULL && strcmp(agent, actor) != 0 ? lead_event(ev, c)
                                                                           : TD_OK;
    }
    if (strcmp(ev->type, "BOOKING_STATUS_CHANGED") == 0 ||
        strcmp(ev->type, "BOOKING_CANCELLED") == 0 || strcmp(ev->type, "BOOKING_REMINDER") == 0)
        return booking_event(ev, c);
    return TD_OK;
}

static int on_payment(const td_event *ev, mongoc_client_t *c, void *arg)
{
    (void)arg;
    if (strcmp(ev->type, "PAYMENT_RECEIVED") == 0 || strcmp(ev->type, "COMMISSION_APPROVED") == 0)
        return payment_event(ev, c);
    return TD_OK;
}

int triggers_setup(td_bus *bus)
{
    int rc = td_bus_subscribe(bus, "auth", on_auth, NULL);
    if (rc == TD_OK)
        rc = td_bus_subscribe(bus, "booking", on_booking, NULL);
    if (rc == TD_OK)
        rc = td_bus_subscribe(bus, "payment", on_payment, NULL);
    return rc;
}
