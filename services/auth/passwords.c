/* Password policy and argon2id hashing (libsodium). */
#define _GNU_SOURCE /* strcasestr */
#include "auth.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PASSWORD_MIN 10
#define PASSWORD_MAX 128
/* OWASP's argon2id baseline: 19 MiB, 2 passes. */
#define HASH_OPSLIMIT 2
#define HASH_MEMLIMIT ((size_t)19 * 1024 * 1024)

int password_policy(const char *password, const char *email, td_res *res, const char *field)
{
    size_t len = strlen(password);
    bool upper = false, lower = false, digit = false, symbol = false;
    for (const char *p = password; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        upper |= isupper(c) != 0;
        lower |= islower(c) != 0;
        digit |= isdigit(c) != 0;
        symbol |= (ispunct(c) != 0 || c == ' ' || c >= 0x80);
    }
    const char *msg = NULL;
    if (len < PASSWORD_MIN)
        msg = "Password must be at least 10 characters long";
    else if (len > PASSWORD_MAX)
        msg = "Password must be at most 128 characters long";
    else if (!upper || !lower || !digit || !symbol)
        msg = "Password must contain an upper-case letter, a lower-case letter, a digit and a "
              "symbol";
    if (msg == NULL && email != NULL) {
        char local[128];
        const char *at = strchr(email, '@');
        size_t n = at != NULL ? (size_t)(at - email) : strlen(email);
        if (n >= 4 && n < sizeof local) {
            memcpy(local, email, n);
            local[n] = '\0';
            if (strcasestr(password, local) != NULL)
                msg = "Password must not contain your email name";
        }
    }
    if (msg != NULL) {
        td_fail_field(res, field, msg);
        return TD_EINVAL;
    }
    return TD_OK;
}

/* auth.h sizes every hash buffer 128: libsodium's crypto_pwhash_STRBYTES. */
_Static_assert(crypto_pwhash_STRBYTES == 128, "password hash buffers are 128 bytes");

/* The one place a password is hashed, with the cost above. */
int password_hash(const char *password, char out[128])
{
    if (crypto_pwhash_str_alg(out, password, strlen(password), HASH_OPSLIMIT, HASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return TD_ENOMEM;
    return TD_OK;
}

bool password_verify(const char *hash, const char *password)
{
    return hash != NULL && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Spends the time of one verification, so that an unknown email answers as slowly
 * as a wrong password. */
void password_burn_time(const char *password)
{
    char h[crypto_pwhash_STRBYTES];
    if (password_hash(password, h) != TD_OK)
        h[0] = '\0'; /* the time is spent either way; the hash is not kept */
}
