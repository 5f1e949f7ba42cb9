/* Method + path-pattern router with ":name" parameters. */
#include "tripdesk/router.h"

#include "tripdesk/common.h"

#include <stdlib.h>
#include <string.h>

#define ROUTER_MAX_SEGMENTS 16
#define ROUTER_PARAM_NAME_MAX 32

typedef struct {
    td_route route;
    const char *segs[ROUTER_MAX_SEGMENTS];
    size_t seglen[ROUTER_MAX_SEGMENTS];
    char pname[ROUTER_MAX_SEGMENTS][ROUTER_PARAM_NAME_MAX]; /* ":id" -> "id" */
    int nsegs;
} entry;

struct td_router {
    entry *entries;
    size_t count, cap;
};

int td_router_new(td_router **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? TD_OK : TD_ENOMEM;
}

void td_router_free(td_router *r)
{
    if (r == NULL)
        return;
    free(r->entries);
    free(r);
}

int td_router_add(td_router *r, const char *method, const char *pattern, td_handler h, int flags,
                  const char *permission)
{
    if (pattern == NULL || pattern[0] != '/' || method == NULL || h == NULL)
        return TD_EINVAL;
    if (td_grow((void **)&r->entries, &r->cap, r->count, sizeof *r->entries, 32) != TD_OK)
        return TD_ENOMEM;
    entry *e = &r->entries[r->count];
    memset(e, 0, sizeof *e);
    e->route = (td_route){method, pattern, h, flags, permission};
    const char *p = pattern + 1;
    while (*p != '\0') {
        if (e->nsegs == ROUTER_MAX_SEGMENTS)
            return TD_EINVAL;
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        e->segs[e->nsegs] = p;
        e->seglen[e->nsegs] = len;
        if (p[0] == ':') {
            if (len < 2 || len > ROUTER_PARAM_NAME_MAX)
                return TD_EINVAL;
            memcpy(e->pname[e->nsegs], p + 1, len - 1);
            e->pname[e->nsegs][len - 1] = '\0';
        }
        e->nsegs++;
        p += len;
        if (*p == '/')
            p++;
    }
    r->count++;
    return TD_OK;
}

int td_router_add_table(td_router *r, const td_route *table)
{
    for (const td_route *t = table; t->handler != NULL; t++) {
        int rc = td_router_add(r, t->method, t->pattern, t->handler, t->flags, t->permission);
        if (rc != TD_OK)
            return rc;
    }
    return TD_OK;
}

/* Score of a match: one point per literal segment, so literals win over params;
 * -1 when the path does not match. */
static int match_entry(const entry *e, char *const *segs, const size_t *lens, int n)
{
    if (e->nsegs != n)
        return -1;
    int score = 0;
    for (int i = 0; i < n; i++) {
        if (e->segs[i][0] == ':') {
            if (lens[i] == 0)
                return -1;
            continue;
        }
        if (e->seglen[i] != lens[i] || memcmp(e->segs[i], segs[i], lens[i]) != 0)
            return -1;
        score++;
    }
    return score;
}

int td_router_match(const td_router *r, const char *method, const char *path, char *scratch,
                    const td_route **route, td_req *req)
{
    *route = NULL;
    if (path == NULL || path[0] != '/')
        return TD_ENOTFOUND;
    strcpy(scratch, path);
    char *segs[ROUTER_MAX_SEGMENTS];
    size_t lens[ROUTER_MAX_SEGMENTS];
    int n = 0;
    char *p = scratch + 1;
    while (*p != '\0') {
        if (n == ROUTER_MAX_SEGMENTS)
            return TD_ENOTFOUND;
        char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        segs[n] = p;
        lens[n] = len;
        n++;
        p += len;
        if (*p == '/') {
            *p = '\0';
            p++;
        }
    }
    const entry *best = NULL;
    int best_score = -1;
    bool path_known = false;
    for (size_t i = 0; i < r->count; i++) {
        const entry *e = &r->entries[i];
        int score = match_entry(e, segs, lens, n);
        if (score < 0)
            continue;
        path_known = true;
        if (strcmp(e->route.method, method) == 0 && score > best_score) {
            best = e;
            best_score = score;
        }
    }
    if (best == NULL)
        return path_known ? TD_EMETHOD : TD_ENOTFOUND;
    req->nparams = 0;
    for (int i = 0; i < n && req->nparams < TD_MAX_PARAMS; i++) {
        if (best->segs[i][0] != ':')
            continue;
        req->params[req->nparams].name = best->pname[i];
        req->params[req->nparams].value = segs[i];
        req->nparams++;
    }
    *route = &best->route;
    return TD_OK;
}
