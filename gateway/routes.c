/* The route table: which service owns which path prefix, which routes are public,
 * and the body-size limit per route. */
#include "gateway.h"

#include <string.h>

static const gw_route routes[] = {
    {"/api/auth", "auth"},
    {"/api/agents", "auth"},
    {"/api/permissions", "auth"},
    {"/api/bookings", "booking"},
    {"/api/customers", "booking"},
    {"/api/leads", "booking"},
    {"/api/itineraries", "booking"},
    {"/api/uploads", "booking"},
    {"/api/payments", "payment"},
    {"/api/commissions", "payment"},
    {"/api/notifications", "notification"},
    {"/api/dashboard", "analytics"},
    {"/api/audit-logs", "analytics"},
    {"/api/jobs", "analytics"},
    {NULL, NULL},
};

/* Routes reachable without an access token (besides /api/health). */
static const struct {
    const char *method;
    const char *path;
} public_routes[] = {
    {"POST", "/api/auth/login"},
    {"POST", "/api/auth/register"},
    {"POST", "/api/auth/refresh"},
    {NULL, NULL},
};

static bool has_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char *gw_route_service(const char *path)
{
    for (const gw_route *r = routes; r->prefix != NULL; r++)
        if (has_prefix(path, r->prefix))
            return r->service;
    return NULL;
}

bool gw_route_is_public(const char *method, const char *path)
{
    for (int i = 0; public_routes[i].method != NULL; i++)
        if (strcmp(method, public_routes[i].method) == 0 &&
            strcmp(path, public_routes[i].path) == 0)
            return true;
    return false;
}

int64_t gw_route_body_limit(const char *path)
{
    (void)path; /* uploads get their own limit when they land */
    return gw_cfg.max_body;
}
