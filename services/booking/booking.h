/*
 * The booking service's map: customers, the lead pipeline, bookings and
 * itineraries (PRD steps 1, 5, 6). One file per resource with its route table at
 * the top; conflicts.c holds the booking conflict rules, access.c the object-level
 * authorization every resource shares.
 *
 * Collections (database tripdesk_booking): customers, leads, bookings, itineraries,
 * booking_slots (per customer and destination, the date ranges its live bookings
 *   hold: conflicts.c),
 * locks (short-lived locks that serialise a lead's conversion across daemons).
 * Every document has _id, createdAt, updatedAt, version and a lower-case
 * searchText; owners are agent ObjectIds. access.c also keeps each list's
 * in-memory copy (listindex.h) when TRIPDESK_LIST_COPIES says so, fed by a
 * td_store write observer.
 */
#ifndef BOOKING_H
#define BOOKING_H

#include "cached_lists.h"
#include "tripdesk/bsonpath.h"
#include "tripdesk/cache.h"
#include "tripdesk/docjson.h"
#include "tripdesk/listcopies.h"
#include "tripdesk/listindex.h"
#include "tripdesk/mongo.h"
#include "tripdesk/permissions.h"
#include "tripdesk/query.h"
#include "tripdesk/service.h"
#include "tripdesk/store.h"
#include "tripdesk/validate.h"
#include "tripdesk/idempotency.h"

#define COLL_CUSTOMERS "customers"
#define COLL_LEADS "leads"
#define COLL_BOOKINGS "bookings"
#define COLL_ITINERARIES "itineraries"
#define COLL_LOCKS "locks"
#define COLL_SLOTS "booking_slots"

/* Cache TTLs (PRD step 1); the cached lists themselves: cached_lists.h. */
#define TTL_BOOKINGS_S 300
#define TTL_LEADS_S 300
#define TTL_CUSTOMERS_S 600

#define MONEY_MAX 1e10
#define TEXT_MAX 2000

/* access.c: object-level authorization. An agent sees and changes its own records;
 * a permission (canViewAllBookings, ...) widens that. */
bool owns(const td_req *req, const bson_t *doc, const char *owner_field);
void scope_filter(const td_req *req, bson_t *filter, const char *owner_field, const char *view_all);
const char *scope_key(const td_req *req, const char *view_all);
/* Loads the :id document the caller may see into out; otherwise answers 400 (bad
 * id), 404 (absent or not visible) or 503 and returns non-zero. */
/* Records are deleted softly (deleted: true) so their staged events survive. */
int load_visible(td_req *req, td_res *res, const char *coll, const char *owner_field,
                 const char *view_all, bson_t *out);
int parse_oid(const char *s, bson_oid_t *oid);
cJSON *doc_json(const bson_t *doc, void *arg);
/* Lower-cased copy of src (ASCII letters; other bytes kept) into dst of len bytes;
 * a cut never splits a UTF-8 character. */
void lower_into(char *dst, size_t len, const char *src);
/* Buffers for text built from request fields, sized from their character limits
 * (TD_UTF8_BYTES: 4 bytes a character): a destination key, a customer's "first
 * last" name, and the searchText/name keys every resource derives. */
#define DESTINATION_CHARS 120
#define DEST_KEY_SIZE (TD_UTF8_BYTES(DESTINATION_CHARS) + 1)
#define CUSTOMER_NAME_SIZE (TD_UTF8_BYTES(60 + 1 + 60) + 1)
#define DERIVED_TEXT_SIZE 4096
/* Reads "YYYY-MM-DD" (or full ISO-8601 UTC) field into ms; TD_EINVAL fills res. */
int get_date(const cJSON *obj, const char *name, const char *path, bool required, td_res *res,
             int64_t *ms, bool *present);
/* A version given by the client for optimistic concurrency (optional). */
int get_version(const cJSON *body, td_res *res, int64_t *version);
/* 409 VERSION_CONFLICT or 404 after a failed td_store_update. */
int update_failed(td_res *res, int rc);

/* An update's changes: every top-level field of `fields` whose JSON form (in `new`)
 * differs from the stored one (in `old`) is appended to `set` and recorded in
 * `before`/`after`. Returns how many changed. */
int changed_fields(const bson_t *fields, const cJSON *old, const cJSON *new, bson_t *set,
                   cJSON *before, cJSON *after);
/* Soft-deletes doc (deleted: true, deletedAt) with event `type` carrying the record
 * as it was; answers {_id, deleted: true} or the error. TD_OK when deleted, else
 * the store's TD_E* (res then holds its error answer). */
int soft_delete(td_req *req, td_res *res, const char *coll, const bson_t *doc, const char *type,
                const char *target_type);
/* A list request: rejects an owner filter the caller may not use, then parses. */
int list_begin(td_req *req, td_res *res, const td_list_spec *spec, const char *owner_param,
               const char *view_all, td_list *l);
/* The cached lists, registered by list_copies_configure. */
extern const td_cached_list booking_cached_lists[CACHED_LISTS_N];
/* Reads TRIPDESK_LIST_COPIES (auto|on|off; anything else is logged and TD_EINVAL:
 * the daemon does not start) and registers the cached lists. Call first. */
int list_copies_configure(void);
/* The in-memory copy of coll (listindex.h) for the cached list `list`: extracts every
 * field spec filters and sorts on, plus the owner and `deleted`. A td_store observer
 * keeps it in step with every write to coll and invalidates the list's cache
 * namespace. *out is NULL with TRIPDESK_LIST_COPIES=off (the observer still
 * invalidates). list_copies_maintain decides auto (FerretDB: on, MongoDB: off), then
 * loads and reloads the copies. */
int list_copy_new(td_listindex **out, const char *coll, const td_cached_list *list,
                  const td_list_spec *spec, const char *owner_field);
/* The same with more extracted fields (NULL-terminated, NULL: none) that the service
 * queries itself (the customers' emailKey/phoneKey duplicate lookups). */
int list_copy_new_extra(td_listindex **out, const char *coll, const td_cached_list *list,
                        const td_list_spec *spec, const char *owner_field,
                        const char *const *extra);
void list_copies_maintain(mongoc_client_t *c);
void list_copies_free(void);
/* Runs a parsed list over coll (scoped by list->view_all, non-deleted) through the
 * list's cache namespace, from the in-memory copy ix when the copies are on and it
 * can answer (ix may be NULL), else from MongoDB; X-List-Source says which. */
int list_run(td_req *req, td_res *res, td_list *l, const char *coll, const char *owner_field,
             const td_cached_list *list, int ttl_s, td_listindex *ix);

/* customers.c */
extern const td_route customer_routes[];
int customers_indexes(mongoc_client_t *c);
int customers_list_new(void);
int customer_find_visible(td_req *req, const char *id, bson_t *out);
void customer_name(const bson_t *customer, char *buf, size_t len);
/* Appends the normalised duplicate keys of a customer to doc: emailKey (trimmed,
 * lower case; only with an email) and phoneKey (the digits of the phone). */
void customer_keys(bson_t *doc, const char *email, const char *phone);
/* The `force` option of a write that may create a duplicate: ?force=true|false or a
 * boolean body field "force" (body may be NULL). TD_EINVAL answers 400. */
int customer_read_force(const td_req *req, const cJSON *body, td_res *res, bool *force);
/* Looks for another live customer of the agency (not `self`, which may be NULL) with
 * the same email or phone keys. TD_OK: none. TD_ECONFLICT: res holds 409
 * POSSIBLE_DUPLICATE naming it (its id and name only when the caller may view it).
 * Another TD_E*: res holds the error. From the customers' list copy when it can
 * answer, else an indexed MongoDB filter. */
int customer_check_duplicate(td_req *req, td_res *res, const char *email, const char *phone,
                             const bson_oid_t *self);

/* leads.c */
extern const td_route lead_routes[];
int leads_indexes(mongoc_client_t *c);
int leads_list_new(void);

/* bookings.c */
extern const td_route booking_routes[];
int bookings_indexes(mongoc_client_t *c);
int bookings_list_new(void);
/* A booking document written outside td_store (payment_events.c): puts it into the
 * list copy and invalidates the bookings list cache. */
void bookings_written(const bson_t *doc);
/* Creates a booking for a customer from a JSON body (used by lead conversion too).
 * TD_OK: written; its id in id_out and its JSON in *booking_out (caller frees; res
 * untouched). TD_EAGAIN: the request was parked to run again (res untouched). Any
 * other TD_E*: nothing written and res holds the error answer. */
int booking_create_from(td_req *req, td_res *res, const cJSON *body, const char *lead_id,
                        char id_out[25], cJSON **booking_out);

/* payment_events.c: the payment service's events set a booking's paymentStatus. */
int payment_event(const td_event *ev, mongoc_client_t *c, void *arg);

/* conflicts.c */
typedef struct {
    char id[25];
    char reference[32];
    int64_t start_ms, end_ms;
    bool exact;
} conflict;
/* Serialises writes concerning one record (a lead's conversion) across daemons:
 * a lock document "lock:<id>" with a lease. One attempt: TD_EAGAIN while another
 * holds it; the handler then asks to be run again (record_lock_retry). */
int record_lock(mongoc_client_t *c, const bson_oid_t *id, char token[25]);
#define LOCK_RETRY_MS 20      /* a held lock is tried again after this, then doubling, */
#define LOCK_RETRY_MAX_MS 160 /* up to this: many waiters cost the daemon little */
#define LOCK_WAIT_MS 3000     /* then 409 CONCURRENT_UPDATE */
/* After TD_EAGAIN from record_lock or slot_reserve: true when the request will be
 * run again shortly (the handler returns at once, having written nothing). */
bool record_lock_retry(td_req *req);
bool slot_retry(td_req *req, int rc);
/* The first load of a list copy: asked again this often, this long (then 503). */
#define LIST_LOADING_POLL_MS TD_LIST_LOADING_POLL_MS
#define LIST_LOADING_WAIT_MS TD_LIST_LOADING_WAIT_MS
void record_unlock(mongoc_client_t *c, const bson_oid_t *id, const char *token);
/* Reserves [start, end] at destination key `dest` for booking `booking_hex` in the
 * customer's slot document: TD_ECONFLICT with *found when another live booking of
 * the customer holds an overlapping range there; TD_EAGAIN when the document
 * kept changing over a few tries (slot_retry); TD_EUNAVAIL while the slots are being built at start. The
 * booking's other ranges (an update's old one) stay until slot_settle. */
int slot_reserve(mongoc_client_t *c, const bson_oid_t *customer, const char *booking_hex,
                 const char *reference, const char *dest, int64_t start, int64_t end,
                 conflict *found);
/* Drops the booking's ranges from the customer's slot document at destination key
 * `at` except the one given (dest NULL: all of them, for a cancelled, refunded or
 * deleted booking). */
int slot_settle(mongoc_client_t *c, const bson_oid_t *customer, const bson_oid_t *booking,
                const char *at, const char *dest, int64_t start, int64_t end);
/* Builds the slot documents from the bookings once per database (at start). */
int slots_build(mongoc_client_t *c);
/* Frees this daemon's copies of slot documents (at exit). */
void slots_cache_free(void);
/* Answers a failed slot_reserve: 409 with the conflict, 409 CONCURRENT_UPDATE, or the
 * dependency's error. */
int slot_failed(td_res *res, int rc, const conflict *found);

/* itineraries.c */
extern const td_route itinerary_routes[];
int itineraries_indexes(mongoc_client_t *c);
int itineraries_list_new(void);

#endif
