/*
 * Method + path-pattern router. Patterns are literal segments and ":name"
 * parameters ("/api/bookings/:id/status"); a literal segment wins over a parameter
 * at the same position, so "/api/bookings/stats" and "/api/bookings/:id" coexist.
 */
#ifndef TRIPDESK_ROUTER_H
#define TRIPDESK_ROUTER_H

#include "common.h"

#include "http.h"

typedef int (*td_handler)(td_req *req, td_res *res);

/* Route flags. */
#define TD_ROUTE_PUBLIC 0x1     /* no principal required (the gateway decides too) */
#define TD_ROUTE_INLINE 0x2     /* touches no MongoDB/Redis: may run on the nng aio thread */
#define TD_ROUTE_IDEMPOTENT 0x4 /* a create honouring Idempotency-Key (idempotency.h) */

typedef struct {
    const char *method;
    const char *pattern;
    td_handler handler;
    int flags;
    const char *permission; /* permission the caller needs, or NULL */
} td_route;

typedef struct td_router td_router;

TD_MUST_CHECK int td_router_new(td_router **out);
void td_router_free(td_router *r);

/* Adds a route; pattern must start with '/'. The strings must outlive the router. */
TD_MUST_CHECK int td_router_add(td_router *r, const char *method, const char *pattern, td_handler h,
                                int flags, const char *permission);

/* Adds every route of a NULL-handler-terminated table. */
TD_MUST_CHECK int td_router_add_table(td_router *r, const td_route *table);

/* Finds the route for method and path and fills req->params (values point into
 * scratch, which must hold strlen(path)+1 bytes). Returns 0, TD_ENOTFOUND or
 * TD_EMETHOD (path matches, method does not). */
TD_MUST_CHECK int td_router_match(const td_router *r, const char *method, const char *path,
                                  char *scratch, const td_route **route, td_req *req);

#endif
