/*
 * The role-permission matrix (PRD step 9): the permission names, the built-in
 * defaults (seeded on first start and used when the database is unreachable), and
 * the compact form the gateway and services use: one bit per permission per role.
 * The auth service owns the stored matrix; it publishes it to Redis as
 * TD_PERM_CACHE_KEY (JSON {"version":N,"roles":{role:{name:bool}}}) and
 * TD_PERM_VERSION_KEY, from where the gateway reads it.
 */
#ifndef TRIPDESK_PERMISSIONS_H
#define TRIPDESK_PERMISSIONS_H

#include "common.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define TD_ROLE_COUNT 5
#define TD_PERM_COUNT 22
#define TD_PERM_CACHE_KEY "permissions:matrix"
#define TD_PERM_VERSION_KEY "permissions:version"

/* Roles by rank: td_roles[i] has rank i (0 = lowest); NULL-terminated. */
extern const char *const td_roles[TD_ROLE_COUNT + 1];
extern const char *const td_permission_names[TD_PERM_COUNT];

/* Rank of a role (0 junior_agent .. 4 super_admin), -1 when unknown. */
int td_role_rank(const char *role);

/* Index of a permission name, -1 when unknown. */
int td_permission_index(const char *name);

typedef struct {
    int64_t version;              /* 0 for the built-in defaults */
    uint32_t bits[TD_ROLE_COUNT]; /* bit i set: permission i granted */
} td_matrix;

/* The built-in defaults. */
void td_matrix_defaults(td_matrix *m);

/* Permissions super_admin can never lose (to keep administering permissions and
 * agents). */
uint32_t td_matrix_locked_bits(void);

/* {"version":N,"roles":{"super_admin":{"canCreateAdmin":true,...},...}} <-> matrix.
 * Parsing is strict: every role and permission present, all booleans. */
cJSON *td_matrix_to_json(const td_matrix *m);
TD_MUST_CHECK int td_matrix_from_json(const cJSON *json, td_matrix *m);

/* {"canCreateAdmin":true,...} for one role. */
cJSON *td_matrix_role_json(const td_matrix *m, int role_rank);

#endif
