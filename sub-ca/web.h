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

struct web;

struct server {
	struct ca *ca;
	X509_STORE *trust;      /* root + this CA: for client certificates */
	struct web *web;        /* web enrollment pages' state (web.c) */
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

/* rest_fail: the JSON error for CAIRN_E_* `r` (5xx without the detail,
 * which is the operator's).  rest_reply_issued: 201 with the certificate
 * and chain, or 202 pending, as POST /api/v1/requests answers. */
void rest_fail(struct http_response *resp, int r);
/* rest_reply: answer `status` with the JSON object `o` (taken), keys
 * sorted; 500 when it cannot be encoded. */
void rest_reply(struct http_response *resp, int status, json_t *o);
void rest_reply_issued(struct server *srv, struct http_response *resp,
    struct issue_result *res);
/* web_start: the web pages' state (sessions, token key) in srv->web;
 * web_stop frees it (every session ends). */
int web_start(struct server *srv);
void web_stop(struct server *srv);

/* web_handle: the web enrollment pages (sub-ca/web.c): "/" and
 * /certsrv/...; 1 when it answered, 0 for a path that is not its own. */
int web_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp);

#endif /* CAIRN_WEB_H */
