/*
 * web-int.h: what the two halves of the web enrollment pages share:
 * sub-ca/web.c (the site: sign-in, sessions, CSRF, layout, routing;
 * web_*) and sub-ca/webpage.c (the pages on requests and certificates;
 * webpage_*).  Nothing outside those two files includes it.
 */
#ifndef CAIRN_WEB_INT_H
#define CAIRN_WEB_INT_H

#include <openssl/x509.h>

#include "sub-ca/ca.h"
#include "sub-ca/html.h"
#include "sub-ca/http.h"
#include "sub-ca/webform.h"
#include "sub-ca/websession.h"

struct server;

/* One request to the pages, as web_handle() authenticated it. */
struct ctx {
	struct server *srv;
	const struct http_request *req;
	struct http_response *resp;
	struct actor who;                     /* when authed */
	int authed;
	int by_cert;                          /* by TLS client certificate */
	char sid[WEBSESSION_ID_LEN + 1];      /* when signed in by session */
	char csrf[WEBSESSION_TOKEN_LEN + 1];  /* what forms must carry */
};

/* ---- web.c: layout and answers ---------------------------------------- */

/* web_page_begin: the page's head, header and navigation (for who is
 * signed in), and <h1>title</h1>; web_page_end closes it. */
void web_page_begin(struct ctx *c, struct html *h, const char *title);
void web_page_end(struct html *h);
/* web_send_page: answer `status` with the page built in `h` (taken). */
void web_send_page(struct ctx *c, int status, struct html *h);
/* web_error_page: a whole page saying `msg` (escaped). */
void web_error_page(struct ctx *c, int status, const char *title,
    const char *msg);
/* web_core_error: the page for an error `r` from the core: its message
 * for a 4xx, a generic one for a 5xx (the detail goes to stderr). */
void web_core_error(struct ctx *c, const char *title, int r);
/* web_redirect: 303 to `where` (a path of this site). */
void web_redirect(struct ctx *c, const char *where);
/* web_security_headers: CSP without scripts, nosniff, frame and cache
 * headers, for any answer of the pages. */
void web_security_headers(struct http_response *resp);
/* web_csrf_input: the hidden field every state-changing form carries. */
void web_csrf_input(struct html *h, const struct ctx *c);
/* web_post_guard: the checks of every state-changing POST but sign-in:
 * signed in, same origin, a form that parses, the right CSRF token.  0
 * and *form (webform_free()), or the page is answered (403 or 400) and
 * -1 returned. */
int web_post_guard(struct ctx *c, struct webform **form);

int web_is_manager(const struct ctx *c);
int web_may_list_certs(const struct ctx *c);   /* managers, auditors */

/* Times as "2026-01-31 12:00 UTC" / "2026-01-31" in `out` (returned). */
const char *web_fmt_time(long long t, char out[32]);
const char *web_fmt_date(long long t, char out[32]);
/* web_name_text: a name for people (UTF-8, RFC 2253 order, values as
 * they are: only ever shown escaped); new string or NULL. */
char *web_name_text(X509_NAME *n);

/* ---- webpage.c --------------------------------------------------------- */

void webpage_submit_form(struct ctx *c, int status, const char *error,
    const char *tname, const char *csr_text);
void webpage_submit_post(struct ctx *c);
/* webpage_request: request `id` (answering `status`), with the notes of
 * what the template dropped when it was just submitted (may be NULL). */
void webpage_request(struct ctx *c, long long id, int status, char **notes);
void webpage_requests(struct ctx *c);
void webpage_pending(struct ctx *c);
void webpage_decide(struct ctx *c, long long id, int approve);
void webpage_certs(struct ctx *c);
void webpage_revoke(struct ctx *c, const char *serial, int unhold);
/* webpage_download: SERIAL with suffix .pem, .cer, -chain.pem or .p7b */
void webpage_download(struct ctx *c, const char *serial_in,
    const char *suffix);

/* ---- webscep.c: the managers' SCEP challenge page --------------------- */

void webscep_page(struct ctx *c);                 /* GET /challenges */
void webscep_new(struct ctx *c);                  /* POST /challenges */
void webscep_revoke(struct ctx *c, long long id); /* POST .../ID/revoke */

#endif /* CAIRN_WEB_INT_H */
