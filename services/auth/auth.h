/*
 * The auth service's map: agents, sign-in sessions and the permission matrix.
 *
 * Collections (database tripdesk_auth):
 *   agents            {_id, email (unique), passwordHash, firstName, lastName, phone,
 *                      agencyName, role, status, tokenVersion, tokensRevokedAt,
 *                      searchText, createdAt, updatedAt, lastLoginAt, version, _events}
 *   refresh_tokens    {_id: sha256(token), agentId, familyId, tokenVersion, used,
 *                      revoked, accessJti, accessExpiresAt (the access token issued
 *                      with it), expiresAt, createdAt, ip, userAgent, prev, next
 *                      (the keys of its predecessor and successor in the family)}
 *   revoked_tokens    {_id: jti, agentId, expiresAt}      logged-out access tokens
 *   permission_matrix {_id: "matrix", version, roles, updatedAt, updatedBy, _events}
 *   permission_history{_id, version, role, before, after, changedBy, changedAt}
 *
 * Revocation reaches the gateway through Redis: auth:tokver:<agentId> (the agent's
 * token version; older access tokens are refused) and auth:deny:<jti>.
 */
#ifndef AUTH_H
#define AUTH_H

#include "tripdesk/bsonpath.h"
#include "tripdesk/docjson.h"
#include "tripdesk/mongo.h"
#include "tripdesk/permissions.h"
#include "tripdesk/service.h"
#include "tripdesk/store.h"
#include "tripdesk/token.h"
#include "tripdesk/validate.h"

#define COLL_AGENTS "agents"
#define COLL_REFRESH "refresh_tokens"
#define COLL_REVOKED "revoked_tokens"
#define COLL_MATRIX "permission_matrix"
#define COLL_PERM_HISTORY "permission_history"

#define ENV_ACCESS_TTL "TRIPDESK_ACCESS_TTL_S"   /* 900 */
#define ENV_REFRESH_TTL "TRIPDESK_REFRESH_TTL_S" /* 604800 */
#define ENV_ADMIN_EMAIL "TRIPDESK_ADMIN_EMAIL"
#define ENV_ADMIN_PASSWORD "TRIPDESK_ADMIN_PASSWORD"
#define ENV_REGISTER_IP_MAX "TRIPDESK_REGISTER_IP_MAX" /* registrations per IP, 15 min */
#define REGISTER_IP_MAX_DEFAULT 10

#define TOKVER_KEY "auth:tokver:%s"
#define DENY_KEY "auth:deny:%s"
#define REVOCATION_SLACK_S 60 /* revocation keys outlive the tokens they refuse */

typedef struct {
    int64_t access_ttl_s;
    int64_t refresh_ttl_s;
    int64_t register_ip_max;
} auth_config;

extern auth_config auth_cfg;

/* passwords.c */
int password_policy(const char *password, const char *email, td_res *res, const char *field);
int password_hash(const char *password, char out[128]);
bool password_verify(const char *hash, const char *password);
void password_burn_time(const char *password);

/* tokens.c: access and refresh tokens, revocation */
typedef struct {
    char *access;
    char refresh[64];
} token_pair;
/* A fresh refresh token into out->refresh and its storage key into key. */
void tokens_new_refresh(token_pair *out, char key[65]);
/* Signs an access token for agent and stores the refresh token: out->refresh when
 * set (tokens_new_refresh: a rotation names it first), else a new one. family NULL:
 * a new family; prev: the key of the token it replaces (NULL at sign-in). */
int tokens_issue(mongoc_client_t *c, const bson_t *agent, const char *family, const char *prev,
                 const td_req *req, token_pair *out);
void tokens_pair_free(token_pair *p);
cJSON *tokens_json(token_pair *p, const bson_t *agent); /* takes p->access */
int tokens_revoke_agent(mongoc_client_t *c, const char *agent_id, int64_t token_version);
int tokens_deny_access(mongoc_client_t *c, const td_req *req);
/* The refresh token stored under key (its SHA-256, hex) into *doc (initialised on
 * TD_OK); TD_ENOTFOUND. */
int tokens_find_refresh(mongoc_client_t *c, const char *key, bson_t *doc);
/* Marks the unused refresh token key revoked; TD_ENOTFOUND when used or revoked. */
int tokens_revoke_unused(mongoc_client_t *c, const char *key);
/* Revokes the family of refresh token `key` (its storage key) and denies the
 * family's access tokens still valid, reading by _id only (tokens.c). */
int tokens_revoke_family(mongoc_client_t *c, const char *key);
void tokens_resync(td_service *svc, mongoc_client_t *c);

/* throttle.c: brute-force protection of sign-in and registration. An attempt takes
 * its slots first (TD_ECONFLICT with *retry_after_s: refuse with 429), then tells
 * how it went: succeeded (the account's counter reset, the IP's slot back) or
 * unchecked (no password was verified: both slots back); a failure keeps them. */
#define THROTTLE_WINDOW_S 900
#define THROTTLE_ACCOUNT_MAX 5
#define THROTTLE_IP_MAX 20
int throttle_take(const char *email, const char *ip, int *retry_after_s);
void throttle_succeeded(const char *email, const char *ip);
void throttle_unchecked(const char *email, const char *ip);
/* Takes one of ip's auth_cfg.register_ip_max registration attempts per
 * THROTTLE_WINDOW_S (counted whatever their outcome). */
int throttle_register(const char *ip, int *retry_after_s);

/* agents.c */
extern const td_route agent_routes[];
cJSON *agent_json(const bson_t *doc, void *arg);
int agent_find(mongoc_client_t *c, const char *id, bson_t *out); /* TD_ENOTFOUND */
int agent_find_email(mongoc_client_t *c, const char *email, bson_t *out);
void agent_search_text(bson_t *doc, const char *email, const char *first, const char *last,
                       const char *agency);

/* directory.c: GET /api/agents/directory from an in-memory copy of the agents.
 * directory_new reads TRIPDESK_LIST_COPIES and registers its write observer (call
 * before running); directory_maintain (a periodic task) decides auto and loads;
 * directory_put hands it an agent written outside td_store (the seed). */
extern const td_route directory_routes[];
cJSON *directory_json(const bson_t *doc, void *arg);
int directory_new(void);
void directory_maintain(td_service *svc, mongoc_client_t *c);
void directory_put(const bson_t *doc);
void directory_free(void);

/* sessions.c */
extern const td_route session_routes[];

/* permissions.c */
extern const td_route permission_routes[];
int matrix_load(mongoc_client_t *c, td_matrix *m);
void matrix_publish(td_service *svc, mongoc_client_t *c);

/* events.c (payloads: td_event_payload of tripdesk/store.h plus the agent) */
int event_commit(td_req *req, const char *coll, const char *id);

/* bootstrap.c */
int auth_init_database(td_service *svc, mongoc_client_t *c);

#endif
