/* The permission matrix: names, defaults, bit form and JSON form. */
#include "tripdesk/permissions.h"

#include "tripdesk/common.h"

#include <string.h>

const char *const td_roles[TD_ROLE_COUNT + 1] = {"junior_agent", "agent",       "senior_agent",
                                                 "admin",        "super_admin", NULL};

const char *const td_permission_names[TD_PERM_COUNT] = {
    "canCreateAdmin",         "canDeleteAgents",         "canViewAllAgents",
    "canApproveAgents",       "canChangeAnyRole",        "canViewAllBookings",
    "canDeleteAnyBooking",    "canUpdateAnyBooking",     "canViewAllCustomers",
    "canDeleteAnyCustomer",   "canApproveCommissions",   "canProcessRefunds",
    "canViewAllPayments",     "canViewFinancialReports", "canAssignLeads",
    "canViewAllLeads",        "canManageSettings",       "canViewAuditLogs",
    "canManageTeam",          "canUploadFiles",          "canViewAnalytics",
    "canManageNotifications",
};

/* Lowest role that has each permission by default (rank), -1: nobody but as listed. */
static const int default_min_rank[TD_PERM_COUNT] = {
    4, /* canCreateAdmin: super_admin */
    3, /* canDeleteAgents */
    3, /* canViewAllAgents */
    3, /* canApproveAgents */
    3, /* canChangeAnyRole */
    2, /* canViewAllBookings: senior_agent+ */
    3, /* canDeleteAnyBooking */
    2, /* canUpdateAnyBooking */
    2, /* canViewAllCustomers */
    3, /* canDeleteAnyCustomer */
    3, /* canApproveCommissions */
    3, /* canProcessRefunds */
    3, /* canViewAllPayments */
    3, /* canViewFinancialReports */
    2, /* canAssignLeads */
    2, /* canViewAllLeads */
    4, /* canManageSettings: super_admin */
    3, /* canViewAuditLogs */
    2, /* canManageTeam */
    1, /* canUploadFiles: agent+ */
    2, /* canViewAnalytics */
    3, /* canManageNotifications */
};

static const char *const locked_names[] = {"canManageSettings",
                                           "canViewAllAgents",
                                           "canApproveAgents",
                                           "canChangeAnyRole",
                                           "canCreateAdmin",
                                           "canDeleteAgents",
                                           NULL};

int td_role_rank(const char *role)
{
    for (int i = 0; role != NULL && i < TD_ROLE_COUNT; i++)
        if (strcmp(role, td_roles[i]) == 0)
            return i;
    return -1;
}

int td_permission_index(const char *name)
{
    for (int i = 0; name != NULL && i < TD_PERM_COUNT; i++)
        if (strcmp(name, td_permission_names[i]) == 0)
            return i;
    return -1;
}

void td_matrix_defaults(td_matrix *m)
{
    memset(m, 0, sizeof *m);
    for (int r = 0; r < TD_ROLE_COUNT; r++)
        for (int p = 0; p < TD_PERM_COUNT; p++)
            if (r >= default_min_rank[p])
                m->bits[r] |= 1u << p;
}

uint32_t td_matrix_locked_bits(void)
{
    uint32_t bits = 0;
    for (int i = 0; locked_names[i] != NULL; i++)
        bits |= 1u << td_permission_index(locked_names[i]);
    return bits;
}

cJSON *td_matrix_role_json(const td_matrix *m, int role_rank)
{
    cJSON *o = cJSON_CreateObject();
    for (int p = 0; o != NULL && p < TD_PERM_COUNT; p++)
        cJSON_AddBoolToObject(o, td_permission_names[p], (m->bits[role_rank] >> p & 1u) != 0);
    return o;
}

cJSON *td_matrix_to_json(const td_matrix *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *roles = cJSON_CreateObject();
    if (root == NULL || roles == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(roles);
        return NULL;
    }
    cJSON_AddNumberToObject(root, "version", (double)m->version);
    for (int r = TD_ROLE_COUNT - 1; r >= 0; r--)
        cJSON_AddItemToObject(roles, td_roles[r], td_matrix_role_json(m, r));
    cJSON_AddItemToObject(root, "roles", roles);
    return root;
}

int td_matrix_from_json(const cJSON *json, td_matrix *m)
{
    memset(m, 0, sizeof *m);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(json, "version");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(json, "roles");
    if (!cJSON_IsNumber(version) || !cJSON_IsObject(roles))
        return TD_EINVAL;
    m->version = (int64_t)version->valuedouble;
    for (int r = 0; r < TD_ROLE_COUNT; r++) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(roles, td_roles[r]);
        if (!cJSON_IsObject(role))
            return TD_EINVAL;
        for (int p = 0; p < TD_PERM_COUNT; p++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(role, td_permission_names[p]);
            if (!cJSON_IsBool(v))
                return TD_EINVAL;
            if (cJSON_IsTrue(v))
                m->bits[r] |= 1u << p;
        }
    }
    return TD_OK;
}
