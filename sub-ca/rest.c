/*
 * rest.c: the REST API (JSON), /api/v1.
 *
 *   POST /api/v1/requests            {"template": T, "csr": PEM} or the CSR
 *                                    itself (PEM or DER) with ?template=T
 *        201 issued {"id", "status", "serial", "certificate", "chain",
 *                    "notes"}; 202 pending {"id", "status"}
 *   GET  /api/v1/requests/ID         the request's status (own requests;
 *                                    managers: any)
 *   POST /api/v1/requests/ID/approve managers (never their own)
 *   POST /api/v1/requests/ID/deny    managers, {"reason": ...}
 *   GET  /api/v1/certificates/SERIAL PEM (?format=der for DER)
 *   GET  /api/v1/certificates        managers: {"certificates": [...]}
 *   POST /api/v1/certificates/SERIAL/revoke  managers, {"reason": R}
 *   GET  /api/v1/ca/chain            this CA and the root, PEM
 *   POST /api/v1/scep/challenges     managers: a one-time SCEP challenge,
 *                                    {"template", "subject"?, "expires"?}
 * Errors: {"error": {"code": "...", "message": "..."}} with a 4xx/5xx.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "lib/csr.h"
#include "lib/error.h"
#include "lib/util.h"
#include "sub-ca/scep.h"
#include "sub-ca/web.h"

void
rest_error(struct http_response *resp, int status, const char *code,
    const char *message)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code,
	    "message", message);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	http_resp_text(resp, status, "application/json", s != NULL ? s :
	    "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
	    "memory\"}}");
	free(s);
	json_decref(o);
}

static const char *
code_name(int r)
{
	switch (r) {
	case CAIRN_E_CSR: return "bad_csr";
	case CAIRN_E_POLICY: return "policy";
	case CAIRN_E_DENIED: return "forbidden";
	case CAIRN_E_AUTH: return "unauthenticated";
	case CAIRN_E_NOT_FOUND: return "not_found";
	case CAIRN_E_STATE: return "conflict";
	case CAIRN_E_INVAL: return "bad_request";
	case CAIRN_E_TOO_LARGE: return "too_large";
	default: return "internal";
	}
}

static void
fail(struct http_response *resp, int r)
{
	int st = web_status(r);

	rest_error(resp, st, code_name(r), st >= 500 ? "the CA could not "
	    "complete the request; the operator's log has the reason" :
	    cairn_errmsg(r));
	if (r == CAIRN_E_AUTH)
		http_resp_header(resp, "WWW-Authenticate: Basic "
		    "realm=\"cairn\", charset=\"UTF-8\"");
}

void
rest_reply(struct http_response *resp, int status, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	if (s == NULL)
		rest_error(resp, 500, "internal", "out of memory");
	else
		http_resp_text(resp, status, "application/json", s);
	free(s);
	json_decref(o);
}

static char *
pem_of(X509 *x, X509 *x2, X509 *x3)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long len;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 &&
	    (x2 == NULL || PEM_write_bio_X509(b, x2) == 1) &&
	    (x3 == NULL || PEM_write_bio_X509(b, x3) == 1) &&
	    (len = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	BIO_free(b);
	return s;
}

static void
issued_reply(struct server *srv, struct http_response *resp,
    struct issue_result *res)
{
	json_t *o, *notes = json_array();
	char *cert = NULL, *chain = NULL;
	size_t i;

	for (i = 0; notes != NULL && res->notes != NULL &&
	    res->notes[i] != NULL; i++)
		json_array_append_new(notes, json_string(res->notes[i]));
	if (res->status == ISSUE_PENDING) {
		rest_reply(resp, 202, json_pack("{s:I, s:s, s:o*}", "id",
		    (json_int_t)res->request_id, "status", "pending", "notes",
		    notes));
		return;
	}
	cert = pem_of(res->cert, NULL, NULL);
	chain = pem_of(res->cert, srv->ca->cert, srv->ca->root);
	o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:o*}", "id",
	    (json_int_t)res->request_id, "status", "issued", "serial",
	    res->serial, "certificate", cert, "chain", chain, "notes", notes);
	rest_reply(resp, 201, o);
	free(cert);
	free(chain);
}

static void
submit(struct server *srv, const struct http_request *req,
    struct http_response *resp, const struct actor *who)
{
	const char *ctype = http_header(req, "Content-Type");
	const char *tname = http_query_arg(req, "template");
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	json_t *body = NULL;
	const char *csr_text = NULL;
	const void *csr = req->body;
	size_t csr_len = req->body_len;
	json_error_t jerr;
	int r;

	if (ctype != NULL && strncmp(ctype, "application/json", 16) == 0) {
		body = json_loadb((const char *)req->body, req->body_len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (body == NULL || !json_is_object(body)) {
			rest_error(resp, 400, "bad_request", "the body is not "
			    "a JSON object: send {\"template\": NAME, \"csr\": "
			    "PEM}");
			goto out;
		}
		if (json_unpack(body, "{s:s, s:s}", "template", &tname,
		    "csr", &csr_text) != 0) {
			rest_error(resp, 400, "bad_request", "want "
			    "{\"template\": NAME, \"csr\": PEM}, both strings");
			goto out;
		}
		csr = csr_text;
		csr_len = strlen(csr_text);
	}
	if (tname == NULL) {
		rest_error(resp, 400, "bad_request", "name the template: "
		    "?template=NAME, or {\"template\": NAME} in JSON");
		goto out;
	}
	if ((r = csr_parse(csr, csr_len, &rq.csr)) != 0) {
		fail(resp, r);
		goto out;
	}
	rq.template_name = tname;
	rq.who = who;
	rq.via = "rest";
	if ((r = issue_submit(srv->ca, &rq, &res)) != 0) {
		fail(resp, r);
		goto out;
	}
	issued_reply(srv, resp, &res);
out:
	issue_result_clear(&res);
	X509_REQ_free(rq.csr);
	json_decref(body);
}

static void
request_status(struct server *srv, struct http_response *resp,
    const struct actor *who, long long id)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int ok = 0;

	store_lock(srv->ca->store);
	if (sqlite3_prepare_v2(store_db(srv->ca->store), "SELECT status, "
	    "template, requester, serial, note FROM requests WHERE id = ?", -1,
	    &st, NULL) == SQLITE_OK && sqlite3_bind_int64(st, 1, id) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *requester = (const char *)
		    sqlite3_column_text(st, 2);

		ok = 1;
		if (requester != NULL && strcmp(requester, who->name) != 0 &&
		    !(who->roles & ROLE_MANAGER))
			ok = 2;
		else
			o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?}", "id",
			    (json_int_t)id, "status",
			    sqlite3_column_text(st, 0), "template",
			    sqlite3_column_text(st, 1), "requester",
			    requester, "serial", sqlite3_column_text(st, 3),
			    "note", sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	store_unlock(srv->ca->store);
	/* Another account's request is as invisible as a missing one. */
	if (ok != 1)
		rest_error(resp, 404, "not_found", "no such request");
	else
		rest_reply(resp, 200, o);
}

static void
cert_get(struct server *srv, const struct http_request *req,
    struct http_response *resp, const char *serial_in)
{
	const char *fmt = http_query_arg(req, "format");
	sqlite3_stmt *st = NULL;
	char serial[33];
	X509 *x = NULL;
	int r;

	if ((r = ca_serial_norm(serial_in, serial)) != 0) {
		fail(resp, r);
		return;
	}
	store_lock(srv->ca->store);
	if (sqlite3_prepare_v2(store_db(srv->ca->store), "SELECT der FROM "
	    "certs WHERE serial = ? AND status = 'issued'", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		if (fmt != NULL && strcmp(fmt, "der") == 0)
			http_resp_bytes(resp, 200, "application/pkix-cert", p,
			    (size_t)len);
		else
			x = d2i_X509(NULL, &p, len);
	} else {
		rest_error(resp, 404, "not_found", "no certificate with that "
		    "serial was issued by this CA");
	}
	sqlite3_finalize(st);
	store_unlock(srv->ca->store);
	if (x != NULL) {
		char *pem = pem_of(x, NULL, NULL);

		if (pem != NULL)
			http_resp_text(resp, 200, "application/x-pem-file",
			    pem);
		free(pem);
		X509_free(x);
	}
}

static void
cert_list(struct server *srv, struct http_response *resp)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();
	/* Every certificate: not under the lock issuance commits with. */
	sqlite3 *db = store_scan_begin(srv->ca->store);

	if (a != NULL && sqlite3_prepare_v2(db, "SELECT "
	    "serial, status, subject, template, requester, not_after, "
	    "revoked_at, reason FROM certs ORDER BY created", -1, &st, NULL) ==
	    SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s, s:I, s:o}", "serial",
			    sqlite3_column_text(st, 0), "status",
			    sqlite3_column_text(st, 1), "subject",
			    sqlite3_column_text(st, 2), "template",
			    sqlite3_column_text(st, 3), "requester",
			    sqlite3_column_text(st, 4), "not_after",
			    (json_int_t)sqlite3_column_int64(st, 5), "revoked",
			    sqlite3_column_type(st, 6) == SQLITE_NULL ?
			    json_false() : json_pack("{s:I, s:s}", "at",
			    (json_int_t)sqlite3_column_int64(st, 6), "reason",
			    ca_reason_name(sqlite3_column_int(st, 7)))));
	sqlite3_finalize(st);
	store_scan_end(srv->ca->store, db);
	rest_reply(resp, 200, json_pack("{s:o}", "certificates", a));
}

/* POST /scep/challenges: a one-time SCEP challenge (scep_challenge_new
 * checks the role and audits). */
static void
scep_challenge(struct server *srv, const struct http_request *req,
    struct http_response *resp, const struct actor *who)
{
	struct scep_challenge c = { 0 };
	const char *tname = NULL, *subject = NULL, *expires = NULL;
	json_error_t jerr;
	json_t *b;
	long long ttl = 0;
	int r;

	b = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (b == NULL || json_unpack(b, "{s:s, s?s, s?s}", "template", &tname,
	    "subject", &subject, "expires", &expires) != 0) {
		rest_error(resp, 400, "bad_request", "want {\"template\": "
		    "NAME, \"subject\": PATTERN (optional), \"expires\": "
		    "\"1h\" (optional)}");
		goto out;
	}
	if ((expires != NULL && (r = scep_duration_parse(expires,
	    &ttl)) != 0) ||
	    (r = scep_challenge_new(srv->ca, who, tname, subject, ttl,
		&c)) != 0) {
		fail(resp, r);
		goto out;
	}
	rest_reply(resp, 201, json_pack("{s:I, s:s, s:s, s:s?, s:I}", "id",
	    (json_int_t)c.id, "challenge", c.secret, "template",
	    c.template_name, "subject", c.subject, "expires",
	    (json_int_t)c.expires));
out:
	scep_challenge_clear(&c);
	json_decref(b);
}

static json_t *
json_body(const struct http_request *req)
{
	json_error_t e;

	if (req->body_len == 0)
		return json_object();
	return json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &e);
}

void
rest_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp)
{
	const char *p = req->path + strlen("/api/v1");
	struct actor who;
	char tail[128] = "", serial[80];
	long long id = 0;
	int r, n = 0;

	if (strcmp(p, "/ca/chain") == 0 && strcmp(req->method, "GET") == 0) {
		char *pem = pem_of(srv->ca->cert, srv->ca->root, NULL);

		if (pem != NULL)
			http_resp_text(resp, 200, "application/x-pem-file",
			    pem);
		free(pem);
		return;
	}
	if ((r = web_authenticate(srv, req, &who)) != 0) {
		fail(resp, r);
		return;
	}
	if (strcmp(p, "/requests") == 0) {
		if (strcmp(req->method, "POST") == 0)
			submit(srv, req, resp, &who);
		else
			rest_error(resp, 405, "method", "POST a CSR here");
	} else if (sscanf(p, "/requests/%lld%n", &id, &n) == 1 &&
	    p[n] == '\0' && strcmp(req->method, "GET") == 0) {
		request_status(srv, resp, &who, id);
	} else if (sscanf(p, "/requests/%lld/%127s", &id, tail) == 2 &&
	    strcmp(req->method, "POST") == 0 && (strcmp(tail, "approve") == 0
	    || strcmp(tail, "deny") == 0)) {
		if (strcmp(tail, "approve") == 0) {
			struct issue_result res = { 0 };

			if ((r = issue_approve(srv->ca, id, &who, &res)) != 0)
				fail(resp, r);
			else
				issued_reply(srv, resp, &res);
			issue_result_clear(&res);
		} else {
			json_t *b = json_body(req);
			const char *why = NULL;

			if (b != NULL)
				json_unpack(b, "{s?s}", "reason", &why);
			if ((r = issue_deny(srv->ca, id, &who, why)) != 0)
				fail(resp, r);
			else
				rest_reply(resp, 200, json_pack("{s:I, s:s}", "id",
				    (json_int_t)id, "status", "denied"));
			json_decref(b);
		}
	} else if (strcmp(p, "/certificates") == 0 &&
	    strcmp(req->method, "GET") == 0) {
		if (!(who.roles & (ROLE_MANAGER | ROLE_AUDITOR)))
			rest_error(resp, 403, "forbidden", "listing "
			    "certificates needs the manager or auditor role");
		else
			cert_list(srv, resp);
	} else if (sscanf(p, "/certificates/%79[^/]/%127s", serial,
	    tail) == 2 && strcmp(tail, "revoke") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		json_t *b = json_body(req);
		const char *rs = "unspecified";
		int reason = 0;

		if (b == NULL || json_unpack(b, "{s?s}", "reason", &rs) != 0)
			rest_error(resp, 400, "bad_request", "want {\"reason\": "
			    "NAME}");
		else if ((r = ca_reason_parse(rs, &reason)) != 0 ||
		    (r = ca_revoke(srv->ca, serial, reason, &who)) != 0)
			fail(resp, r);
		else
			rest_reply(resp, 200, json_pack("{s:s, s:s}", "serial",
			    serial, "status", "revoked"));
		json_decref(b);
	} else if (sscanf(p, "/certificates/%79[^/]%n", serial, &n) == 1 &&
	    p[n] == '\0' && strcmp(req->method, "GET") == 0) {
		cert_get(srv, req, resp, serial);
	} else if (strcmp(p, "/scep/challenges") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		scep_challenge(srv, req, resp, &who);
	} else {
		rest_error(resp, 404, "not_found", "no such API path; see "
		    "docs/cairn-sub.md");
	}
	actor_clear(&who);
}

/* For the other JSON front ends (sub-ca/tpm.c): the same answers. */
void
rest_fail(struct http_response *resp, int r)
{
	fail(resp, r);
}

void
rest_reply_issued(struct server *srv, struct http_response *resp,
    struct issue_result *res)
{
	issued_reply(srv, resp, res);
}
