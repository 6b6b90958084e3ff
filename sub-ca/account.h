/*
 * account.h: who may use the CA.
 *
 * Accounts authenticate by TLS client certificate (bound to the account
 * by the certificate's issuer and serial number, never by a name inside
 * it: the AD CS ESC9/10/14 lesson) or by password over TLS only (hashed
 * with Argon2id).  Roles follow AD CS role separation: admin (CA
 * administrator), manager (certificate manager), auditor, enrollee; with
 * separation on, one account holds at most one of the first three.
 * Every change is audited and needs the admin role (or the local
 * operator).
 */
#ifndef CAIRN_ACCOUNT_H
#define CAIRN_ACCOUNT_H

#include <openssl/x509.h>

#include "sub-ca/ca.h"

/* "<sha256 of issuer DER>:<serial hex>" */
#define ACCOUNT_CERT_KEY_MAX 160

/* account_add: a new account; `email` and `password` may be NULL (a
 * password of at least 12 characters). CAIRN_E_EXISTS when taken. */
int account_add(struct ca *ca, const char *name, const char *email,
    const char *password, const struct actor *who);
/* account_role: grant (add 1) or remove a role; CAIRN_E_DENIED when
 * separation forbids the combination. */
int account_role(struct ca *ca, const char *name, enum ca_role role, int add,
    const struct actor *who);
int account_group(struct ca *ca, const char *name, const char *group,
    const struct actor *who);
/* account_password_check: 0, or CAIRN_E_AUTH (same message for an
 * unknown account and a wrong password). */
int account_password_check(struct ca *ca, const char *name, const char *pw);
/* account_password_check_from: the same for a client at `remote` (an
 * address; NULL: not throttled): after CAIRN_AUTH_FAIL_MAX wrong
 * passwords for `name` from `remote` within CAIRN_AUTH_FAIL_WINDOW
 * seconds, attempts from there are refused unchecked (CAIRN_E_AUTH, "too
 * many wrong passwords ...") until the window ends; a right password
 * clears the count. */
int account_password_check_from(struct ca *ca, const char *name,
    const char *pw, const char *remote);
/* account_argon2_peak: the most Argon2id checks this process ran at
 * once (never above CAIRN_AUTH_ARGON2_MAX; for the tests). */
int account_argon2_peak(void);
/* account_cert_key: the binding key of certificate `x`. */
int account_cert_key(X509 *x, char out[ACCOUNT_CERT_KEY_MAX]);
int account_bind_cert(struct ca *ca, const char *name, X509 *x,
    const struct actor *who);
/* account_by_cert: the account `x` is bound to; CAIRN_E_AUTH when none. */
int account_by_cert(struct ca *ca, X509 *x, char *name, size_t namelen);

#endif /* CAIRN_ACCOUNT_H */
