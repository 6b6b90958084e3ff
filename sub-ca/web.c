/*
 * web.c: the web enrollment pages (the AD CS "certsrv" pages), over HTTPS:
 * the site itself (who is signed in, sign-in and sign-out, CSRF tokens,
 * layout, the home and CA pages, routing); the pages on requests and
 * certificates are in webpage.c.
 *
 *   GET  /, /certsrv/            home: what one can do here
 *   GET  /certsrv/login          the sign-in form; POST signs in
 *   POST /certsrv/logout         signs out
 *   GET  /certsrv/submit         submit a CSR (paste or upload) on a
 *                                template the account may use; POST submits
 *                                through issue_submit(), as REST does
 *   GET  /certsrv/requests       the account's own requests
 *   GET  /certsrv/requests/ID    a request's status: issued (downloads),
 *                                pending, denied (with the reason)
 *   POST /certsrv/requests/ID/approve, .../deny       certificate managers
 *   GET  /certsrv/pending        pending requests (managers)
 *   GET  /certsrv/certs          issued and revoked certificates (managers,
 *                                auditors); POST .../SERIAL/revoke and
 *                                .../SERIAL/unhold (managers)
 *   GET  /certsrv/certs/SERIAL.pem, .cer (DER), -chain.pem, .p7b
 *   GET  /certsrv/challenges     SCEP one-time challenges (managers); POST
 *                                makes one, .../ID/revoke revokes one
 *                                (sub-ca/webscep.c)
 *   GET  /certsrv/ca             the CA certificate, chain and CRLs
 *   GET  /certsrv/ca.pem, /certsrv/style.css
 *
 * The pages only parse and authenticate; every decision (may this account
 * enroll on that template, approve this request, revoke) is the core's
 * (ca.h), which also audits it.  The pages' own rules, against the
 * AD CS ESC8 class and the web's usual attacks:
 *   - HTTPS only: cmd_serve.c's handle() answers plain HTTP with 403
 *     before anything here runs.  No NTLM or Negotiate, ever: such an
 *     Authorization header is refused; no page asks for HTTP
 *     authentication.
 *   - Who: a TLS client certificate bound to an account (web_authenticate),
 *     else a session made by the login form (account and password checked
 *     with Argon2id; sub-ca/websession.h).  The session id lives only in
 *     the cookie __Host-cairn_session (Secure; HttpOnly; SameSite=Strict;
 *     Path=/); sessions are in memory, so a restart signs everybody out.
 *   - CSRF: every form that changes something carries a synchronizer
 *     token: the session's own random token, or for a client certificate
 *     an HMAC of the account and the certificate under a key made at each
 *     start; the login form's token is an HMAC of a random pre-login
 *     cookie (a signed double-submit cookie: no state before sign-in).
 *     Tokens are compared in constant time; a POST without a valid one is
 *     403.  An Origin (or else Referer) header, when sent, must be this
 *     site's own https origin.
 *   - Output: every string from outside goes through html.h's escaping;
 *     pages send a Content-Security-Policy without scripts, frame-ancestors
 *     'none', nosniff and no-store.
 *   - Audit: sign-in and its refusals, sign-out, refused forms (of a
 *     signed-in account) here; approvals, denials, revocations and
 *     requests by the core.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/account.h"
#include "sub-ca/html.h"
#include "sub-ca/web-int.h"
#include "sub-ca/web.h"
#include "sub-ca/webform.h"
#include "sub-ca/websession.h"

#define SESSION_COOKIE "__Host-cairn_session"
#define LOGIN_COOKIE "__Host-cairn_login"
#define COOKIE_ATTRS "Secure; HttpOnly; SameSite=Strict; Path=/"
/* Longest password the form takes (Argon2 takes more; nobody types it). */
#define PASSWORD_MAX 1024

struct web {
	struct websession_table *sessions;
	/* HMAC key for the login form's tokens and client-certificate CSRF
	 * tokens; new at each start, so a restart also voids those. */
	uint8_t key[32];
};

int
web_start(struct server *srv)
{
	struct web *w;
	int r;

	srv->web = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (RAND_bytes(w->key, sizeof(w->key)) != 1) {
		free(w);
		return cairn_error_crypto(CAIRN_E_CRYPTO, "the CSPRNG failed");
	}
	if ((r = websession_table_new(CAIRN_WEB_SESSIONS_MAX,
	    CAIRN_WEB_SESSIONS_PER_ACCOUNT, CAIRN_WEB_SESSION_IDLE_SEC,
	    CAIRN_WEB_SESSION_LIFE_SEC, &w->sessions)) != 0) {
		OPENSSL_cleanse(w->key, sizeof(w->key));
		free(w);
		return r;
	}
	srv->web = w;
	return 0;
}

void
web_stop(struct server *srv)
{
	if (srv->web == NULL)
		return;
	websession_table_free(srv->web->sessions);
	OPENSSL_cleanse(srv->web->key, sizeof(srv->web->key));
	free(srv->web);
	srv->web = NULL;
}

/* ---- small helpers ------------------------------------------------------- */

/* hex(HMAC-SHA256(key, a || 0 || b)) into out[65]. */
static int
mac_hex(const struct web *w, const char *a, const char *b,
    char out[WEBSESSION_TOKEN_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t la = strlen(a), lb = strlen(b);
	unsigned char *msg = malloc(la + lb + 1);
	int ok;

	out[0] = '\0';
	if (msg == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	memcpy(msg, a, la);
	msg[la] = '\0';
	memcpy(msg + la + 1, b, lb);
	ok = HMAC(EVP_sha256(), w->key, sizeof(w->key), msg, la + lb + 1, md,
	    &mdlen) != NULL && mdlen == 32;
	free(msg);
	if (!ok)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "computing a form "
		    "token");
	cairn_hex(out, md, 32, 0);
	return 0;
}

const char *
web_fmt_date(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%d",
	    &tm) == 0)
		snprintf(out, 32, "%lld", t);
	return out;
}

const char *
web_fmt_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, 32, "%lld", t);
	return out;
}

/* A name as text for people: UTF-8, RFC 2253 order, values as they are
 * (no RFC 2253 backslashes); new string or NULL.  Only ever shown through
 * html.h's escaping. */
char *
web_name_text(X509_NAME *n)
{
	return cairn_name_text(n, 0);
}

/* The subject a stored CSR asks for (DER blob), as text; new or NULL. */
void
web_security_headers(struct http_response *resp)
{
	http_resp_header(resp, "Content-Security-Policy: default-src 'none'; "
	    "style-src 'self'; img-src 'self'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	http_resp_header(resp, "X-Content-Type-Options: nosniff");
	http_resp_header(resp, "X-Frame-Options: DENY");
	http_resp_header(resp, "Referrer-Policy: same-origin");
	http_resp_header(resp, "Cache-Control: no-store");
}

void
web_send_page(struct ctx *c, int status, struct html *h)
{
	size_t len;
	char *s = html_take(h, &len);

	if (s == NULL) {
		c->resp->failed = 1;
		return;
	}
	http_resp_bytes(c->resp, status, "text/html; charset=utf-8", s, len);
	free(s);
	web_security_headers(c->resp);
}

void
web_redirect(struct ctx *c, const char *where)
{
	http_resp_text(c->resp, 303, "text/plain; charset=utf-8",
	    "see other\n");
	http_resp_header(c->resp, "Location: %s", where);
	web_security_headers(c->resp);
}

int
web_is_manager(const struct ctx *c)
{
	return c->authed && (c->who.roles & ROLE_MANAGER);
}

int
web_may_list_certs(const struct ctx *c)
{
	return c->authed && (c->who.roles & (ROLE_MANAGER | ROLE_AUDITOR));
}

static void
roles_text(struct html *h, const struct actor *a)
{
	static const enum ca_role all[] = { ROLE_ADMIN, ROLE_MANAGER,
		ROLE_AUDITOR, ROLE_ENROLLEE };
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (a->roles & all[i])
			html_fmt(h, "%s%s", n++ ? ", " : "",
			    ca_role_name(all[i]));
	if (n == 0)
		html_raw(h, "no role");
}

void
web_csrf_input(struct html *h, const struct ctx *c)
{
	html_fmt(h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    c->csrf);
}

/* The CN of `x` (UTF-8), or its whole subject; new string or NULL. */
static char *
common_name(X509 *x)
{
	X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	unsigned char *u = NULL;
	char *s = NULL;
	int len;

	if (i < 0 || (len = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)))) < 0)
		return web_name_text(n);
	if ((s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, u, (size_t)len);
		s[len] = '\0';
	}
	OPENSSL_free(u);
	return s;
}

void
web_page_begin(struct ctx *c, struct html *h, const char *title)
{
	char *ca = c->srv->ca->cert != NULL ? common_name(c->srv->ca->cert) :
	    NULL;

	html_fmt(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>%s - Cairn certificate services"
	    "</title>\n<link rel=\"stylesheet\" href=\"/certsrv/style.css\">\n"
	    "</head>\n<body>\n<header>\n<p class=\"brand\"><a href=\""
	    "/certsrv/\">Cairn certificate services</a></p>\n"
	    "<p class=\"ca\">%s</p>\n", title, ca != NULL ? ca : "");
	free(ca);
	html_raw(h, "<nav aria-label=\"main\"><ul>\n"
	    "<li><a href=\"/certsrv/\">Home</a></li>\n");
	if (c->authed) {
		html_raw(h, "<li><a href=\"/certsrv/submit\">Request a "
		    "certificate</a></li>\n<li><a href=\"/certsrv/requests\">"
		    "My requests</a></li>\n");
		if (web_is_manager(c))
			html_raw(h, "<li><a href=\"/certsrv/pending\">Pending "
			    "requests</a></li>\n<li><a href=\"/certsrv/"
			    "challenges\">SCEP challenges</a></li>\n");
		if (web_may_list_certs(c))
			html_raw(h, "<li><a href=\"/certsrv/certs\">"
			    "Certificates</a></li>\n");
	}
	html_raw(h, "<li><a href=\"/certsrv/ca\">CA certificate and CRL</a>"
	    "</li>\n</ul></nav>\n<div class=\"who\">");
	if (c->authed) {
		html_fmt(h, "Signed in as <strong id=\"account\">%s</strong> "
		    "(", c->who.name);
		roles_text(h, &c->who);
		html_raw(h, c->by_cert ? "; client certificate)" : ")");
		if (!c->by_cert) {
			html_raw(h, " <form method=\"post\" action=\""
			    "/certsrv/logout\" class=\"inline\">");
			web_csrf_input(h, c);
			html_raw(h, "<button type=\"submit\">Sign out</button>"
			    "</form>");
		}
	} else {
		html_raw(h, "<a href=\"/certsrv/login\">Sign in</a>");
	}
	html_fmt(h, "</div>\n</header>\n<main>\n<h1>%s</h1>\n", title);
}

void
web_page_end(struct html *h)
{
	html_raw(h, "</main>\n<footer><p>Cairn issuing CA. Pages served over "
	    "HTTPS only; no scripts.</p></footer>\n</body>\n</html>\n");
}

void
web_error_page(struct ctx *c, int status, const char *title,
    const char *msg)
{
	struct html h = { 0 };

	web_page_begin(c, &h, title);
	html_fmt(&h, "<p class=\"error\" role=\"alert\">%s</p>\n", msg);
	html_raw(&h, "<p><a href=\"/certsrv/\">Back to the home page</a>"
	    "</p>\n");
	web_page_end(&h);
	web_send_page(c, status, &h);
}

/* An error from the core: its message for a 4xx, a generic one for 5xx
 * (the detail is in the audit log or on the daemon's stderr). */
void
web_core_error(struct ctx *c, const char *title, int r)
{
	int st = web_status(r);

	if (st >= 500)
		fprintf(stderr, "cairn-sub: web: %s: %s\n", title,
		    cairn_errmsg(r));
	web_error_page(c, st, title, st >= 500 ? "The CA could not complete "
	    "the request; the operator's log has the reason." :
	    cairn_errmsg(r));
}

/* ---- authentication ------------------------------------------------------ */

static void
authenticate(struct ctx *c)
{
	struct web *w = c->srv->web;
	char account[WEBSESSION_ACCOUNT_MAX + 1];
	const char *cookies = http_header(c->req, "Cookie");

	if (c->req->client_n > 0) {
		if (web_authenticate(c->srv, c->req, &c->who) == 0) {
			uint8_t md[32];
			char hex[65];

			if (EVP_Digest(c->req->client_der[0],
			    c->req->client_der_len[0], md, NULL, EVP_sha256(),
			    NULL) == 1 && mac_hex(w, c->who.name,
			    cairn_hex(hex, md, 32, 0), c->csrf) == 0) {
				c->authed = c->by_cert = 1;
				return;
			}
		}
		/* A certificate that names no account grants nothing; a
		 * session may still. */
		actor_clear(&c->who);
		cairn_error_clear();
	}
	if (webform_cookie(cookies, SESSION_COOKIE, c->sid, sizeof(c->sid)) !=
	    0 || websession_lookup(w->sessions, c->sid, store_now(), account,
	    c->csrf) != 0) {
		c->sid[0] = c->csrf[0] = '\0';
		cairn_error_clear();
		return;
	}
	if (actor_load(c->srv->ca, account, &c->who) != 0) {
		/* disabled or removed since sign-in */
		websession_destroy(w->sessions, c->sid);
		c->sid[0] = c->csrf[0] = '\0';
		cairn_error_clear();
		return;
	}
	c->authed = 1;
}

/* Is the request's Origin (or else Referer), when sent, this site? */
static int
same_origin(const struct http_request *req)
{
	const char *host = http_header(req, "Host");
	const char *origin = http_header(req, "Origin");
	const char *referer = http_header(req, "Referer");
	size_t hl;

	if (origin == NULL && referer == NULL)
		return 1;
	if (host == NULL || (hl = strlen(host)) == 0 || hl > 255)
		return 0;
	if (origin != NULL)
		return strncmp(origin, "https://", 8) == 0 &&
		    strcasecmp(origin + 8, host) == 0;
	return strncmp(referer, "https://", 8) == 0 &&
	    strncasecmp(referer + 8, host, hl) == 0 &&
	    (referer[8 + hl] == '/' || referer[8 + hl] == '\0');
}

/* Audit a refused form of a signed-in account (anonymous ones are not
 * written: anybody could fill the log with them). */
static void
audit_form_refusal(struct ctx *c, int why)
{
	json_t *f;

	if (!c->authed)
		return;
	f = json_pack("{s:s, s:s, s:s}", "via", "web", "path", c->req->path,
	    "remote", c->req->remote != NULL ? c->req->remote : "");
	ca_audit_refusal(c->srv->ca, "web form refused", c->who.name, f, why);
	json_decref(f);
}

/*
 * A state-changing POST: same origin, a form that parses, and the CSRF
 * token of this session.  0 with *form, or the page is answered (403,
 * 400) and -1 returned.
 */
int
web_post_guard(struct ctx *c, struct webform **form)
{
	const char *tok;
	int r;

	*form = NULL;
	if (!c->authed) {
		web_error_page(c, 403, "Not signed in", "Sign in first (your "
		    "session may have ended).");
		return -1;
	}
	if (!same_origin(c->req)) {
		r = cairn_error(CAIRN_E_DENIED, "a form posted from another "
		    "site (Origin or Referer is not this one)");
		audit_form_refusal(c, r);
		web_error_page(c, 403, "Refused", cairn_errmsg(r));
		return -1;
	}
	/* No body at all is a form without a token (403 below), not a
	 * malformed one. */
	if (c->req->body_len == 0 && http_header(c->req, "Content-Type") ==
	    NULL)
		r = (*form = calloc(1, sizeof(**form))) != NULL ? 0 :
		    cairn_error(CAIRN_E_NOMEM, "out of memory");
	else
		r = webform_parse(http_header(c->req, "Content-Type"),
		    c->req->body, c->req->body_len, form);
	if (r != 0) {
		web_error_page(c, web_status(r), "The form did not parse",
		    cairn_errmsg(r));
		return -1;
	}
	if (webform_text(*form, "csrf", &tok) != 0 ||
	    !websession_token_eq(tok, c->csrf)) {
		r = cairn_error(CAIRN_E_DENIED, "the form's CSRF token is "
		    "missing or wrong: reload the page and try again");
		audit_form_refusal(c, r);
		webform_free(*form);
		*form = NULL;
		web_error_page(c, 403, "Refused", cairn_errmsg(r));
		return -1;
	}
	return 0;
}

/* ---- home, style, CA downloads ------------------------------------------- */

static const char style_css[] =
    ":root{--fg:#1d2430;--muted:#5b6573;--line:#d5dae1;--accent:#1f5fa8;"
    "--bg:#f6f7f9;--err:#a12622;--ok:#1e6b34}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
    "header{background:#fff;border-bottom:1px solid var(--line);"
    "padding:.8rem 1.5rem}\n"
    ".brand{margin:0;font-weight:600;font-size:1.2rem}\n"
    ".brand a{color:var(--fg);text-decoration:none}\n"
    ".ca{margin:0;color:var(--muted);font-size:.85rem}\n"
    "nav ul{list-style:none;margin:.6rem 0 0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:.3rem 1.2rem}\n"
    "a{color:var(--accent)}\n"
    ".who{margin-top:.5rem;font-size:.9rem;color:var(--muted)}\n"
    "main{max-width:76rem;margin:1.5rem auto;padding:1.5rem;background:#fff;"
    "border:1px solid var(--line);border-radius:6px}\n"
    "h1{margin-top:0;font-size:1.5rem}\n"
    "h2{font-size:1.15rem;margin-top:1.8rem}\n"
    "table{border-collapse:collapse;width:100%;margin:.8rem 0;font-size:.92rem}"
    "\n"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}\n"
    "th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;"
    "text-align:left;vertical-align:top}\n"
    "th{background:#eef1f5}\n"
    "td.mono,.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;"
    "font-size:.8rem;word-break:break-all}\n"
    "td.nowrap,td.mono.nowrap{white-space:nowrap;word-break:normal}\n"
    "td.serial{word-break:normal}\n"
    ".scroll{overflow-x:auto}\n"
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap}\n"
    "label{display:block;font-weight:600;margin:.9rem 0 .3rem}\n"
    "input[type=text],input[type=password],select,textarea{width:100%;"
    "max-width:40rem;padding:.45rem;border:1px solid #aab3bf;"
    "border-radius:4px;font:inherit}\n"
    "textarea{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;"
    "font-size:.85rem}\n"
    "button{margin-top:.9rem;padding:.45rem 1rem;border:1px solid "
    "var(--accent);background:var(--accent);color:#fff;border-radius:4px;"
    "font:inherit;cursor:pointer}\n"
    "button.secondary{background:#fff;color:var(--accent)}\n"
    "td form{display:inline-flex;gap:.4rem;align-items:center;margin:0 .4rem "
    ".2rem 0}\ntd input[type=text]{width:12rem}\n"
    "td form button,td form select,td form input{margin:0;width:auto}\n"
    "form.inline{display:inline}form.inline button{margin:0;padding:.1rem "
    ".6rem;font-size:.85rem}\n"
    ".error{color:var(--err);background:#fbeceb;border:1px solid #ecc5c2;"
    "padding:.6rem .8rem;border-radius:4px}\n"
    ".ok{color:var(--ok);background:#e9f5ec;border:1px solid #bfe0c8;"
    "padding:.6rem .8rem;border-radius:4px}\n"
    ".hint{color:var(--muted);font-size:.9rem}\n"
    ".status{font-weight:600}\n"
    "footer{text-align:center;color:var(--muted);font-size:.8rem;"
    "padding:1rem}\n";

static void
page_home(struct ctx *c)
{
	struct html h = { 0 };

	web_page_begin(c, &h, "Welcome");
	html_raw(&h, "<p>Use this site to request a certificate from this "
	    "certification authority, to see what became of your requests, "
	    "and to download the CA certificate, its chain and the "
	    "certificate revocation list.</p>\n<h2>Select a task</h2>\n<ul>\n");
	if (c->authed) {
		html_raw(&h, "<li><a href=\"/certsrv/submit\">Request a "
		    "certificate</a> with a certificate signing request "
		    "(PKCS#10)</li>\n<li><a href=\"/certsrv/requests\">View "
		    "the status of your requests</a></li>\n");
		if (web_is_manager(c))
			html_raw(&h, "<li><a href=\"/certsrv/pending\">Approve "
			    "or deny pending requests</a></li>\n<li><a href=\""
			    "/certsrv/challenges\">Make one-time SCEP challenge "
			    "passwords</a> for network devices</li>\n");
		if (web_may_list_certs(c))
			html_raw(&h, "<li><a href=\"/certsrv/certs\">Issued "
			    "and revoked certificates</a></li>\n");
	} else {
		html_raw(&h, "<li><a href=\"/certsrv/login\">Sign in</a> to "
		    "request certificates (with your account's password, or "
		    "a client certificate bound to your account)</li>\n");
	}
	html_raw(&h, "<li><a href=\"/certsrv/ca\">Download a CA certificate, "
	    "certificate chain, or CRL</a></li>\n</ul>\n");
	web_page_end(&h);
	web_send_page(c, 200, &h);
}

static void
fingerprint_row(struct html *h, const char *what, X509 *x)
{
	uint8_t md[32];
	unsigned int n = 0;
	char hex[3 * 32], *subj;

	if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return;
	cairn_hex(hex, md, 32, ':');
	subj = web_name_text(X509_get_subject_name(x));
	html_fmt(h, "<tr><th scope=\"row\">%s</th><td>%s</td><td class=\""
	    "mono\">%s</td></tr>\n", what, subj != NULL ? subj : "", hex);
	free(subj);
}

static void
page_ca(struct ctx *c)
{
	struct html h = { 0 };

	web_page_begin(c, &h, "CA certificate, chain and CRL");
	html_raw(&h, "<p>These files are public: relying parties also fetch "
	    "them over plain HTTP from the addresses in every certificate."
	    "</p>\n<table>\n<caption>Downloads</caption>\n<thead><tr><th "
	    "scope=\"col\">File</th><th scope=\"col\">Format</th></tr></thead>"
	    "\n<tbody>\n"
	    "<tr><td><a href=\"/certsrv/ca.pem\" download>CA certificate</a>"
	    "</td><td>PEM</td></tr>\n"
	    "<tr><td><a href=\"/ca/ca.der\" download=\"ca.cer\">CA "
	    "certificate</a></td><td>DER</td></tr>\n"
	    "<tr><td><a href=\"/ca/chain.pem\" download>Certificate chain "
	    "(this CA and the root)</a></td><td>PEM</td></tr>\n"
	    "<tr><td><a href=\"/ca/chain.p7b\" download>Certificate chain "
	    "(this CA and the root)</a></td><td>PKCS#7</td></tr>\n"
	    "<tr><td><a href=\"/crl/ca.crl\" download>Current CRL of this CA"
	    "</a></td><td>DER</td></tr>\n"
	    "<tr><td><a href=\"/crl/root.crl\" download>Current CRL of the "
	    "root</a></td><td>DER</td></tr>\n</tbody>\n</table>\n"
	    "<table>\n<caption>SHA-256 fingerprints</caption>\n<thead><tr>"
	    "<th scope=\"col\">Certificate</th><th scope=\"col\">Subject</th>"
	    "<th scope=\"col\">SHA-256</th></tr></thead>\n<tbody>\n");
	fingerprint_row(&h, "This CA", c->srv->ca->cert);
	fingerprint_row(&h, "Root", c->srv->ca->root);
	html_raw(&h, "</tbody>\n</table>\n");
	web_page_end(&h);
	web_send_page(c, 200, &h);
}

/* ---- sign in, sign out --------------------------------------------------- */

/* The pre-login cookie: reuse the browser's, else make one. */
static int
login_pre(struct ctx *c, char pre[WEBSESSION_TOKEN_LEN + 1], int *fresh)
{
	uint8_t b[32];

	*fresh = 0;
	if (webform_cookie(http_header(c->req, "Cookie"), LOGIN_COOKIE, pre,
	    WEBSESSION_TOKEN_LEN + 1) == 0 &&
	    strlen(pre) == WEBSESSION_TOKEN_LEN)
		return 0;
	cairn_error_clear();
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "the CSPRNG failed");
	cairn_hex(pre, b, sizeof(b), 0);
	*fresh = 1;
	return 0;
}

static void
login_form(struct ctx *c, int status, const char *error, const char *account)
{
	char pre[WEBSESSION_TOKEN_LEN + 1], tok[WEBSESSION_TOKEN_LEN + 1];
	struct html h = { 0 };
	int fresh, r;

	if ((r = login_pre(c, pre, &fresh)) != 0 ||
	    (r = mac_hex(c->srv->web, "login", pre, tok)) != 0) {
		web_core_error(c, "Sign in", r);
		return;
	}
	web_page_begin(c, &h, "Sign in");
	if (error != NULL)
		html_fmt(&h, "<p class=\"error\" role=\"alert\" id=\"error\">%s"
		    "</p>\n", error);
	html_fmt(&h, "<form method=\"post\" action=\"/certsrv/login\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
	    "<label for=\"account\">Account</label>\n"
	    "<input type=\"text\" id=\"account\" name=\"account\" "
	    "autocomplete=\"username\" required maxlength=\"128\" value=\"%s\">"
	    "\n<label for=\"password\">Password</label>\n"
	    "<input type=\"password\" id=\"password\" name=\"password\" "
	    "autocomplete=\"current-password\" required>\n"
	    "<div><button type=\"submit\">Sign in</button></div>\n</form>\n"
	    "<p class=\"hint\">A client certificate bound to your account "
	    "signs you in without a password. This site never asks for "
	    "Windows (NTLM) credentials.</p>\n", tok,
	    account != NULL ? account : "");
	web_page_end(&h);
	web_send_page(c, status, &h);
	if (fresh)
		http_resp_header(c->resp, "Set-Cookie: " LOGIN_COOKIE "=%s; "
		    COOKIE_ATTRS "; Max-Age=3600", pre);
}

static void
login_post(struct ctx *c)
{
	struct web *w = c->srv->web;
	struct webform *form = NULL;
	const char *tok = NULL, *account = NULL, *pw = NULL;
	char pre[WEBSESSION_TOKEN_LEN + 1], want[WEBSESSION_TOKEN_LEN + 1];
	char sid[WEBSESSION_ID_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
	json_t *f = NULL;
	int r;

	if (!same_origin(c->req)) {
		web_error_page(c, 403, "Refused", "a sign-in form posted from "
		    "another site (Origin or Referer is not this one)");
		return;
	}
	if ((r = webform_parse(http_header(c->req, "Content-Type"),
	    c->req->body, c->req->body_len, &form)) != 0) {
		web_error_page(c, web_status(r), "The form did not parse",
		    cairn_errmsg(r));
		return;
	}
	if (webform_cookie(http_header(c->req, "Cookie"), LOGIN_COOKIE, pre,
	    sizeof(pre)) != 0 || strlen(pre) != WEBSESSION_TOKEN_LEN ||
	    mac_hex(w, "login", pre, want) != 0 ||
	    webform_text(form, "csrf", &tok) != 0 ||
	    !websession_token_eq(tok, want)) {
		cairn_error_clear();
		web_error_page(c, 403, "Refused", "The sign-in form's token is "
		    "missing or wrong (the form is old, or cookies are off): "
		    "reload the sign-in page and try again.");
		goto out;
	}
	if (webform_text(form, "account", &account) != 0 ||
	    webform_text(form, "password", &pw) != 0 || account[0] == '\0' ||
	    strlen(account) > WEBSESSION_ACCOUNT_MAX ||
	    strlen(pw) > PASSWORD_MAX) {
		cairn_error_clear();
		login_form(c, 400, "Give an account name (up to 128 "
		    "characters) and its password.", NULL);
		goto out;
	}
	f = json_pack("{s:s, s:s, s:s}", "via", "web", "method", "password",
	    "remote", c->req->remote != NULL ? c->req->remote : "");
	if ((r = account_password_check_from(c->srv->ca, account, pw,
	    c->req->remote)) != 0 ||
	    (r = actor_load(c->srv->ca, account, &c->who)) != 0) {
		ca_audit_refusal(c->srv->ca, "login refused", account, f, r);
		actor_clear(&c->who);
		login_form(c, 403, "Wrong account name or password.", account);
		goto out;
	}
	/* Audited before the session exists: no audit, no sign-in. */
	if ((r = ca_audit_event(c->srv->ca, "login", account, f)) != 0 ||
	    (r = websession_create(w->sessions, account, store_now(), sid,
	    csrf)) != 0) {
		actor_clear(&c->who);
		web_core_error(c, "Sign in", r);
		goto out;
	}
	/* A session the browser had before is ended (no fixation). */
	if (webform_cookie(http_header(c->req, "Cookie"), SESSION_COOKIE,
	    c->sid, sizeof(c->sid)) == 0)
		websession_destroy(w->sessions, c->sid);
	cairn_error_clear();
	web_redirect(c, "/certsrv/");
	http_resp_header(c->resp, "Set-Cookie: " SESSION_COOKIE "=%s; "
	    COOKIE_ATTRS, sid);
	http_resp_header(c->resp, "Set-Cookie: " LOGIN_COOKIE "=; "
	    COOKIE_ATTRS "; Max-Age=0");
	OPENSSL_cleanse(sid, sizeof(sid));
out:
	json_decref(f);
	webform_free(form);
}

static void
logout_post(struct ctx *c)
{
	struct webform *form;

	if (web_post_guard(c, &form) != 0)
		return;
	webform_free(form);
	if (c->by_cert) {
		web_error_page(c, 400, "Sign out", "You are signed in by your "
		    "client certificate: remove it from the browser, or "
		    "close the browser, to sign out.");
		return;
	}
	websession_destroy(c->srv->web->sessions, c->sid);
	ca_audit_event(c->srv->ca, "logout", c->who.name, NULL);
	cairn_error_clear();
	web_redirect(c, "/certsrv/");
	http_resp_header(c->resp, "Set-Cookie: " SESSION_COOKIE "=; "
	    COOKIE_ATTRS "; Max-Age=0");
}

/* ---- routing ------------------------------------------------------------- */

static int
is_get(const struct http_request *req)
{
	return strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0;
}

static int
is_post(const struct http_request *req)
{
	return strcmp(req->method, "POST") == 0;
}

static void
not_allowed(struct ctx *c, const char *allow)
{
	web_error_page(c, 405, "Method not allowed", "This page does not take "
	    "that method.");
	http_resp_header(c->resp, "Allow: %s", allow);
}

static void
need_signin(struct ctx *c)
{
	if (is_get(c->req))
		web_redirect(c, "/certsrv/login");
	else
		web_error_page(c, 403, "Not signed in", "Sign in first (your "
		    "session may have ended).");
}

/* A request id: 1..18 decimal digits, no sign, no leading zero; what
 * follows, or NULL. */
static const char *
parse_id(const char *s, long long *id)
{
	long long v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 18 || (i == 0 && s[i] == '0'))
			return NULL;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return NULL;
	*id = v;
	return s + i;
}

/* The pages that need a signed-in account. */
static void
route_authed(struct ctx *c, const char *p)
{
	char serial[80], tail[32];
	const char *rest;
	long long id;
	int n = 0;

	if (strcmp(p, "/submit") == 0) {
		if (is_get(c->req))
			webpage_submit_form(c, 200, NULL, NULL, NULL);
		else if (is_post(c->req))
			webpage_submit_post(c);
		else
			not_allowed(c, "GET, POST");
	} else if (strcmp(p, "/logout") == 0) {
		if (is_post(c->req))
			logout_post(c);
		else
			not_allowed(c, "POST");
	} else if (strcmp(p, "/requests") == 0) {
		if (is_get(c->req))
			webpage_requests(c);
		else
			not_allowed(c, "GET");
	} else if (strcmp(p, "/pending") == 0) {
		if (is_get(c->req))
			webpage_pending(c);
		else
			not_allowed(c, "GET");
	} else if (strcmp(p, "/certs") == 0) {
		if (is_get(c->req))
			webpage_certs(c);
		else
			not_allowed(c, "GET");
	} else if (strcmp(p, "/challenges") == 0) {
		if (is_get(c->req))
			webscep_page(c);
		else if (is_post(c->req))
			webscep_new(c);
		else
			not_allowed(c, "GET, POST");
	} else if (strncmp(p, "/challenges/", 12) == 0 &&
	    (rest = parse_id(p + 12, &id)) != NULL &&
	    strcmp(rest, "/revoke") == 0) {
		if (is_post(c->req))
			webscep_revoke(c, id);
		else
			not_allowed(c, "POST");
	} else if (strncmp(p, "/requests/", 10) == 0 &&
	    (rest = parse_id(p + 10, &id)) != NULL && *rest == '\0') {
		if (is_get(c->req))
			webpage_request(c, id, 200, NULL);
		else
			not_allowed(c, "GET");
	} else if (strncmp(p, "/requests/", 10) == 0 &&
	    (rest = parse_id(p + 10, &id)) != NULL &&
	    (strcmp(rest, "/approve") == 0 || strcmp(rest, "/deny") == 0)) {
		if (is_post(c->req))
			webpage_decide(c, id, strcmp(rest, "/approve") == 0);
		else
			not_allowed(c, "POST");
	} else if (sscanf(p, "/certs/%64[0-9a-fA-F]/%31s%n", serial, tail,
	    &n) == 2 && p[n] == '\0' && (strcmp(tail, "revoke") == 0 ||
	    strcmp(tail, "unhold") == 0)) {
		if (is_post(c->req))
			webpage_revoke(c, serial, strcmp(tail, "unhold") == 0);
		else
			not_allowed(c, "POST");
	} else if (sscanf(p, "/certs/%64[0-9a-fA-F]%31s%n", serial, tail,
	    &n) == 2 && p[n] == '\0') {
		if (is_get(c->req))
			webpage_download(c, serial, tail);
		else
			not_allowed(c, "GET");
	} else {
		web_error_page(c, 404, "Not found", "There is no such page.");
	}
}

int
web_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp)
{
	const char *auth = http_header(req, "Authorization");
	const char *p;
	struct ctx c;

	if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/certsrv") == 0)
		p = "/";
	else if (strncmp(req->path, "/certsrv/", 9) == 0)
		p = req->path + 8;
	else
		return 0;
	memset(&c, 0, sizeof(c));
	c.srv = srv;
	c.req = req;
	c.resp = resp;
	if (!req->tls || srv->web == NULL) {
		/* handle() answers plain HTTP before this; never serve a
		 * page, a form or a token over it. */
		http_resp_text(resp, 403, NULL, "HTTPS only\n");
		return 1;
	}
	if (auth != NULL && (strncasecmp(auth, "NTLM", 4) == 0 ||
	    strncasecmp(auth, "Negotiate", 9) == 0)) {
		web_error_page(&c, 401, "Refused", "NTLM and Negotiate are "
		    "never accepted here (nothing can be relayed to this "
		    "site): sign in with your account's password or a client "
		    "certificate.");
		return 1;
	}
	if (strcmp(p, "/style.css") == 0) {
		http_resp_text(resp, 200, "text/css; charset=utf-8", style_css);
		http_resp_header(resp, "X-Content-Type-Options: nosniff");
		http_resp_header(resp, "Cache-Control: max-age=3600");
		return 1;
	}
	authenticate(&c);
	if (strcmp(p, "/") == 0) {
		if (is_get(req))
			page_home(&c);
		else
			not_allowed(&c, "GET");
	} else if (strcmp(p, "/ca") == 0) {
		if (is_get(req))
			page_ca(&c);
		else
			not_allowed(&c, "GET");
	} else if (strcmp(p, "/ca.pem") == 0) {
		BIO *b = BIO_new(BIO_s_mem());
		char *s;
		long len;

		if (b != NULL && PEM_write_bio_X509(b, srv->ca->cert) == 1 &&
		    (len = BIO_get_mem_data(b, &s)) > 0) {
			http_resp_bytes(resp, 200, "application/x-pem-file", s,
			    (size_t)len);
			http_resp_header(resp, "Content-Disposition: "
			    "attachment; filename=\"ca.pem\"");
		} else {
			resp->failed = 1;
		}
		BIO_free(b);
	} else if (strcmp(p, "/login") == 0) {
		if (is_get(req))
			login_form(&c, 200, NULL, NULL);
		else if (is_post(req))
			login_post(&c);
		else
			not_allowed(&c, "GET, POST");
	} else if (!c.authed) {
		need_signin(&c);
	} else {
		route_authed(&c, p);
	}
	actor_clear(&c.who);
	cairn_error_clear();
	return 1;
}
