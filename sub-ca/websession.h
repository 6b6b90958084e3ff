/*
 * websession.h: the web pages' sign-in sessions, in memory.
 *
 * A session is made when an account signs in with its password on the
 * login form.  Its id (256 bits from the CSPRNG, 64 hex digits) travels
 * only in a cookie marked Secure, HttpOnly, SameSite=Strict (sub-ca/web.c);
 * the table keeps the id's SHA-256, not the id, and looks it up with a
 * constant-time compare.  Each session has its own CSRF token (another
 * 256 random bits), the synchronizer token every form of the session
 * carries.
 *
 * Sessions end after CAIRN_WEB_SESSION_IDLE_SEC without use, after
 * CAIRN_WEB_SESSION_LIFE_SEC in any case, on logout, and when the daemon
 * stops: the table lives in memory only, so a restart signs everybody
 * out (by design: nothing to steal from disk, nothing to expire there).
 * Limits: CAIRN_WEB_SESSIONS_MAX in all (a full table refuses the next
 * sign-in); CAIRN_WEB_SESSIONS_PER_ACCOUNT per account (the least
 * recently used is dropped for a new one).
 *
 * Thread-safe: one mutex around the table.  `now` is passed in (seconds)
 * so that the tests can move time.
 */
#ifndef CAIRN_WEBSESSION_H
#define CAIRN_WEBSESSION_H

#include <stddef.h>

#define WEBSESSION_ID_LEN 64       /* hex digits of a session id */
#define WEBSESSION_TOKEN_LEN 64    /* hex digits of a CSRF token */
#define WEBSESSION_ACCOUNT_MAX 128 /* as struct actor's name */

struct websession_table;

/* websession_table_new: an empty table with room for `max` sessions, at
 * most `per_account` of one account, ending after `idle` seconds unused
 * or `life` seconds after sign-in.  0 or CAIRN_E_NOMEM / CAIRN_E_INVAL. */
int websession_table_new(size_t max, size_t per_account, long long idle,
    long long life, struct websession_table **out);
/* websession_table_free: forget every session (ids wiped).  NULL is fine. */
void websession_table_free(struct websession_table *t);

/*
 * websession_create: a new session for `account` at `now`.  `id` and
 * `csrf` receive its id and CSRF token (hex, NUL-terminated).  Expired
 * sessions are dropped first.  Errors: CAIRN_E_TOO_LARGE when the table
 * is full ("too many people are signed in"), CAIRN_E_INVAL for an
 * account name that is empty or over WEBSESSION_ACCOUNT_MAX,
 * CAIRN_E_CRYPTO when the CSPRNG fails.
 */
int websession_create(struct websession_table *t, const char *account,
    long long now, char id[WEBSESSION_ID_LEN + 1],
    char csrf[WEBSESSION_TOKEN_LEN + 1]);

/*
 * websession_lookup: the session whose id is `id` at `now`, marked used.
 * 0 with `account` and `csrf` filled; CAIRN_E_AUTH when there is none, or
 * it expired (it is then dropped), or `id` is not 64 hex digits.
 */
int websession_lookup(struct websession_table *t, const char *id,
    long long now, char account[WEBSESSION_ACCOUNT_MAX + 1],
    char csrf[WEBSESSION_TOKEN_LEN + 1]);

/* websession_destroy: end session `id` (logout); 1 when there was one. */
int websession_destroy(struct websession_table *t, const char *id);

/* websession_count: live sessions at `now` (expired ones dropped). */
size_t websession_count(struct websession_table *t, long long now);

/* websession_token_eq: do two NUL-terminated tokens match?  Compared in
 * constant time for equal lengths (CRYPTO_memcmp); a NULL or a length
 * other than WEBSESSION_TOKEN_LEN never matches. */
int websession_token_eq(const char *a, const char *b);

#endif /* CAIRN_WEBSESSION_H */
