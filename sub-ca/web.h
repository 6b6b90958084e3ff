/*
 * web.h: what the daemon's front ends share: the server state, how a
 * request is authenticated, and JSON/HTML answers.
 *
 * Front ends parse and authenticate, then call the core (ca.h); they
 * never decide policy themselves.
 */
#ifndef CAIRN_WEB_H
#define CAIRN_WEB_H

#include <openssl/x509_vfy.h>

#include "sub-ca/ca.h"
#include "sub-ca/http.h"

struct server {
	struct ca *ca;
	X509_STORE *trust;      /* root + this CA: for client certificates */
	struct scep *scep;      /* SCEP (sub-ca/scep.h); NULL when off */
};

/*
 * web_authenticate: who sent `req`.  Over TLS only: a client certificate
 * issued by this CA, not revoked, bound to an account
 * (account_by_cert); else HTTP Basic with an account's password.  No
 * credentials: CAIRN_E_AUTH "authentication required".  An
 * "Authorization: NTLM" or "Negotiate" header is refused outright
 * (nothing to relay to: ESC8).
 */
int web_authenticate(struct server *srv, const struct http_request *req,
    struct actor *who);

/* web_status: the HTTP status for a CAIRN_E_* code. */
int web_status(int r);

/* rest_handle: /api/v1/... (sub-ca/rest.c). */
void rest_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp);

/* rest_error: a JSON error {"error": {"code": ..., "message": ...}}. */
void rest_error(struct http_response *resp, int status, const char *code,
    const char *message);

#endif /* CAIRN_WEB_H */
