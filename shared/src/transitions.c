/* Status machine checks and their 422 answer. */
#include "tripdesk/transitions.h"

#include <stdio.h>
#include <string.h>

static const td_transition *row(const td_transition *table, size_t n, const char *from)
{
    for (size_t i = 0; from != NULL && i < n; i++)
        if (strcmp(table[i].from, from) == 0)
            return &table[i];
    return NULL;
}

bool td_transition_allowed(const td_transition *table, size_t n, const char *from, const char *to)
{
    const td_transition *r = row(table, n, from);
    for (int k = 0; r != NULL && k < TD_MAX_NEXT && r->to[k] != NULL; k++)
        if (strcmp(r->to[k], to) == 0)
            return true;
    return false;
}

int td_transition_fail(td_res *res, const td_transition *table, size_t n, const char *from,
                       const char *to, const char *noun, const char *message)
{
    const td_transition *r = row(table, n, from);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "from", from != NULL ? from : "");
    cJSON_AddStringToObject(details, "to", to);
    cJSON *allowed = cJSON_AddArrayToObject(details, "allowed");
    for (int k = 0; r != NULL && k < TD_MAX_NEXT && r->to[k] != NULL; k++)
        cJSON_AddItemToArray(allowed, cJSON_CreateString(r->to[k]));
    char msg[200];
    if (message == NULL) {
        /* fits: two status names and a noun of ours */
        TD_IGNORE(td_fmt(msg, sizeof msg, "A %s %s cannot become %s", from != NULL ? from : "",
                         noun, to));
        message = msg;
    }
    return td_fail(res, 422, "INVALID_STATUS_TRANSITION", message, details);
}
