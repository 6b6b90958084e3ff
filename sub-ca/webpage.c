/*
 * webpage.c: the web enrollment pages that show and change requests and
 * certificates (see web.c for the site, who is signed in and the rules
 * every page keeps): submit a CSR, a request's status and the account's
 * requests, pending requests with approve and deny, issued and revoked
 * certificates with revoke and un-hold, and certificate downloads.
 *
 * Each page only parses and authenticates: issue_submit(),
 * issue_approve(), issue_deny(), ca_revoke() and ca_unhold() decide and
 * audit.  The lists are reads; who may see them follows REST (rest.c):
 * a request to its requester and managers, pending requests to managers,
 * certificates to managers and auditors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "lib/csr.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/html.h"
#include "sub-ca/web-int.h"
#include "sub-ca/web.h"
#include "sub-ca/webform.h"

/* Longest denial reason kept with a request. */
#define REASON_MAX 500

/* RFC 5280 reasons a manager may give (ca_reason_parse's names). */
static const char *const reasons[] = { "unspecified", "keyCompromise",
	"affiliationChanged", "superseded", "cessationOfOperation",
	"certificateHold", "privilegeWithdrawn", NULL };

static char *
csr_subject(const void *der, int len)
{
	const unsigned char *p = der;
	X509_REQ *rq;
	char *s = NULL;

	if (der != NULL && (rq = d2i_X509_REQ(NULL, &p, len)) != NULL) {
		s = web_name_text(X509_REQ_get_subject_name(rq));
		X509_REQ_free(rq);
	}
	return s;
}

/* ---- submit -------------------------------------------------------------- */

static void
identity(const struct actor *a, struct tpl_identity *id)
{
	id->account = a->name;
	id->email = a->email;
	id->roles = a->role_names;
	id->groups = a->groups;
}

void
webpage_submit_form(struct ctx *c, int status, const char *error,
    const char *tname, const char *csr_text)
{
	const struct template_set *ts = c->srv->ca->templates;
	struct tpl_identity id;
	struct html h = { 0 };
	size_t i, n = 0;

	identity(&c->who, &id);
	web_page_begin(c, &h, "Request a certificate");
	if (error != NULL)
		html_fmt(&h, "<p class=\"error\" role=\"alert\" id=\"error\">%s"
		    "</p>\n", error);
	html_raw(&h, "<p>Make a certificate signing request (PKCS#10) with "
	    "your own tool, for example <code>openssl req -new -newkey "
	    "ec -pkeyopt ec_paramgen_curve:P-256 -keyout my.key -out my.csr"
	    "</code>, then paste it or choose the file. The private key "
	    "stays with you. The template decides what the certificate "
	    "says; what it does not allow is dropped or refused.</p>\n"
	    "<form method=\"post\" action=\"/certsrv/submit\" "
	    "enctype=\"multipart/form-data\">\n");
	web_csrf_input(&h, c);
	html_raw(&h, "\n<label for=\"template\">Certificate template</label>\n"
	    "<select id=\"template\" name=\"template\" required>\n");
	for (i = 0; ts != NULL && i < ts->n; i++) {
		const struct template *t = ts->t[i];

		if (template_may_enroll(t, &id) != 0)
			continue;
		n++;
		html_fmt(&h, "<option value=\"%s\"%s>%s%s%s%s</option>\n",
		    t->name, tname != NULL && strcmp(tname, t->name) == 0 ?
		    " selected" : "", t->name, t->description != NULL ?
		    ": " : "", t->description != NULL ? t->description : "",
		    t->approval ? " (needs a manager's approval)" : "");
	}
	cairn_error_clear();
	html_raw(&h, "</select>\n");
	if (n == 0)
		html_raw(&h, "<p class=\"error\">Your account may not enroll "
		    "on any template: ask the CA's administrator for the role "
		    "or group a template needs.</p>\n");
	html_fmt(&h, "<label for=\"csr\">Certificate request (PEM)</label>\n"
	    "<textarea id=\"csr\" name=\"csr\" rows=\"12\" cols=\"70\" "
	    "spellcheck=\"false\" placeholder=\"-----BEGIN CERTIFICATE "
	    "REQUEST-----\">%s</textarea>\n"
	    "<label for=\"csrfile\">or a request file (PEM or DER)</label>\n"
	    "<input type=\"file\" id=\"csrfile\" name=\"csrfile\" "
	    "accept=\".csr,.req,.pem,.der,.p10\">\n"
	    "<div><button type=\"submit\">Submit</button></div>\n</form>\n",
	    csr_text != NULL ? csr_text : "");
	web_page_end(&h);
	web_send_page(c, status, &h);
}

static int
blank(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return 0;
	return 1;
}

void
webpage_submit_post(struct ctx *c)
{
	struct webform *form = NULL;
	const struct webform_field *file;
	const char *tname = NULL, *text = NULL;
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	const void *csr;
	size_t len;
	int r;

	if (web_post_guard(c, &form) != 0)
		return;
	if (webform_text(form, "template", &tname) != 0 || tname[0] == '\0') {
		webpage_submit_form(c, 400, "Choose a template.", NULL, NULL);
		goto out;
	}
	if (webform_get(form, "csr") != NULL &&
	    (r = webform_text(form, "csr", &text)) != 0) {
		webpage_submit_form(c, 400, cairn_errmsg(r), tname, NULL);
		goto out;
	}
	file = webform_get(form, "csrfile");
	if (file != NULL && file->len > 0 && text != NULL &&
	    !blank((const uint8_t *)text, strlen(text))) {
		webpage_submit_form(c, 400, "Paste the request or choose a "
		    "file, not both.", tname, text);
		goto out;
	}
	if (file != NULL && file->len > 0) {
		csr = file->value;
		len = file->len;
	} else if (text != NULL && !blank((const uint8_t *)text,
	    strlen(text))) {
		csr = text;
		len = strlen(text);
	} else {
		webpage_submit_form(c, 400, "Paste a certificate request or "
		    "choose a request file.", tname, NULL);
		goto out;
	}
	if ((r = csr_parse(csr, len, &rq.csr)) != 0) {
		webpage_submit_form(c, web_status(r), cairn_errmsg(r), tname,
		    text);
		goto out;
	}
	rq.template_name = tname;
	rq.who = &c->who;
	rq.via = "web";
	if ((r = issue_submit(c->srv->ca, &rq, &res)) != 0) {
		int st = web_status(r);

		if (st >= 500)
			fprintf(stderr, "cairn-sub: web: submit: %s\n",
			    cairn_errmsg(r));
		webpage_submit_form(c, st, st >= 500 ? "The CA could not "
		    "complete the request; the operator's log has the reason." :
		    cairn_errmsg(r), tname, text);
		goto out;
	}
	webpage_request(c, res.request_id, res.status == ISSUE_ISSUED ? 201 :
	    202, res.notes);
out:
	issue_result_clear(&res);
	X509_REQ_free(rq.csr);
	webform_free(form);
}

/* ---- requests ------------------------------------------------------------ */

/* A request's row, copied out of the store. */
struct reqrow {
	char status[16], tname[129], requester[129], serial[33];
	char decided_by[129];
	char *note, *asked, *subject;   /* owned; may be NULL */
	long long created, decided_at, not_after, revoked_at;
	int has_cert, revoked, reason;
};

static void
reqrow_clear(struct reqrow *q)
{
	free(q->note);
	free(q->asked);
	free(q->subject);
	memset(q, 0, sizeof(*q));
}

static void
copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", v != NULL ? (const char *)v : "");
}

static char *
dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v != NULL ? strdup((const char *)v) : NULL;
}

/* 0 and `q`, or CAIRN_E_NOT_FOUND. */
static int
reqrow_load(struct store *s, long long id, struct reqrow *q)
{
	sqlite3_stmt *st = NULL;
	int r = CAIRN_E_NOT_FOUND;

	memset(q, 0, sizeof(*q));
	store_lock(s);
	if (sqlite3_prepare_v2(store_db(s), "SELECT r.status, r.template, "
	    "r.requester, r.serial, r.note, r.created, r.decided_by, "
	    "r.decided_at, r.csr, c.subject, c.not_after, c.revoked_at, "
	    "c.reason FROM requests r LEFT JOIN certs c ON c.serial = "
	    "r.serial WHERE r.id = ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		copy_col(q->status, sizeof(q->status), st, 0);
		copy_col(q->tname, sizeof(q->tname), st, 1);
		copy_col(q->requester, sizeof(q->requester), st, 2);
		copy_col(q->serial, sizeof(q->serial), st, 3);
		q->note = dup_col(st, 4);
		q->created = sqlite3_column_int64(st, 5);
		copy_col(q->decided_by, sizeof(q->decided_by), st, 6);
		q->decided_at = sqlite3_column_int64(st, 7);
		q->asked = csr_subject(sqlite3_column_blob(st, 8),
		    sqlite3_column_bytes(st, 8));
		q->has_cert = sqlite3_column_type(st, 9) != SQLITE_NULL;
		q->subject = dup_col(st, 9);
		q->not_after = sqlite3_column_int64(st, 10);
		q->revoked = sqlite3_column_type(st, 11) != SQLITE_NULL;
		q->revoked_at = sqlite3_column_int64(st, 11);
		q->reason = sqlite3_column_int(st, 12);
		r = 0;
	}
	sqlite3_finalize(st);
	store_unlock(s);
	return r;
}

static void
request_result(struct html *h, const struct reqrow *q)
{
	const char *st = q->status;

	if (strcmp(st, "issued") == 0)
		html_raw(h, "<p class=\"ok\" role=\"status\" id=\"result\">"
		    "The certificate was issued.</p>\n");
	else if (strcmp(st, "pending") == 0)
		html_raw(h, "<p class=\"ok\" role=\"status\" id=\"result\">"
		    "The request is pending: a certificate manager must "
		    "approve it. Come back to this page later.</p>\n");
	else if (strcmp(st, "denied") == 0)
		html_fmt(h, "<p class=\"error\" role=\"status\" id=\"result\">"
		    "The request was denied by %s. Reason: <span id=\"reason\">"
		    "%s</span></p>\n", q->decided_by[0] != '\0' ?
		    q->decided_by : "a certificate manager", q->note != NULL &&
		    q->note[0] != '\0' ? q->note : "(none given)");
	else
		html_fmt(h, "<p class=\"error\" role=\"status\" id=\"result\">"
		    "The request is %s.</p>\n", st);
}

static void
request_table(struct html *h, const struct reqrow *q)
{
	char t[32];

	html_fmt(h, "<table>\n<caption>The request</caption>\n<tbody>\n"
	    "<tr><th scope=\"row\">Status</th><td class=\"status\" "
	    "id=\"status\">%s</td></tr>\n", q->status);
	html_fmt(h, "<tr><th scope=\"row\">Template</th><td>%s</td></tr>\n"
	    "<tr><th scope=\"row\">Requester</th><td>%s</td></tr>\n",
	    q->tname, q->requester);
	html_fmt(h, "<tr><th scope=\"row\">Submitted</th><td>%s</td></tr>\n"
	    "<tr><th scope=\"row\">Subject asked for</th><td id=\"subject\">"
	    "%s</td></tr>\n", web_fmt_time(q->created, t), q->asked);
	if (q->decided_by[0] != '\0')
		html_fmt(h, "<tr><th scope=\"row\">Decided by</th><td>%s, %s"
		    "</td></tr>\n", q->decided_by,
		    web_fmt_time(q->decided_at, t));
	if (q->serial[0] != '\0' && q->has_cert) {
		html_fmt(h, "<tr><th scope=\"row\">Serial</th><td class=\""
		    "mono\" id=\"serial\">%s</td></tr>\n", q->serial);
		html_fmt(h, "<tr><th scope=\"row\">Certificate subject</th>"
		    "<td>%s</td></tr>\n", q->subject);
		html_fmt(h, "<tr><th scope=\"row\">Valid until</th><td>%s"
		    "</td></tr>\n", web_fmt_time(q->not_after, t));
		if (q->revoked)
			html_fmt(h, "<tr><th scope=\"row\">Revoked</th><td>"
			    "%s, %s</td></tr>\n", web_fmt_time(q->revoked_at,
			    t), ca_reason_name(q->reason));
	}
	html_raw(h, "</tbody>\n</table>\n");
}

static void
request_downloads(struct html *h, const char *serial)
{
	html_raw(h, "<h2>Download</h2>\n<ul id=\"downloads\">\n");
	html_fmt(h, "<li><a href=\"/certsrv/certs/%s.pem\" id=\"dl-pem\">"
	    "Certificate (PEM)</a></li>\n", serial);
	html_fmt(h, "<li><a href=\"/certsrv/certs/%s.cer\" id=\"dl-der\">"
	    "Certificate (DER)</a></li>\n", serial);
	html_fmt(h, "<li><a href=\"/certsrv/certs/%s-chain.pem\" "
	    "id=\"dl-chain\">Certificate chain (PEM)</a></li>\n", serial);
	html_fmt(h, "<li><a href=\"/certsrv/certs/%s.p7b\" id=\"dl-p7b\">"
	    "Certificate chain (PKCS#7)</a></li>\n</ul>\n", serial);
}

void
webpage_request(struct ctx *c, long long id, int status, char **notes)
{
	struct reqrow q;
	struct html h = { 0 };
	char title[64];
	size_t i;

	snprintf(title, sizeof(title), "Request %lld", id);
	/* Another account's request is as invisible as a missing one, to
	 * all but managers (as REST does). */
	if (reqrow_load(c->srv->ca->store, id, &q) != 0 ||
	    (strcmp(q.requester, c->who.name) != 0 && !web_is_manager(c))) {
		cairn_error_clear();
		reqrow_clear(&q);
		web_error_page(c, 404, title, "No such request.");
		return;
	}
	web_page_begin(c, &h, title);
	request_result(&h, &q);
	request_table(&h, &q);
	if (notes != NULL && notes[0] != NULL) {
		html_raw(&h, "<h2>What the template dropped</h2>\n"
		    "<ul id=\"notes\">\n");
		for (i = 0; notes[i] != NULL; i++)
			html_fmt(&h, "<li>%s</li>\n", notes[i]);
		html_raw(&h, "</ul>\n");
	}
	if (q.serial[0] != '\0' && strcmp(q.status, "issued") == 0)
		request_downloads(&h, q.serial);
	html_raw(&h, "<p><a href=\"/certsrv/requests\">All my requests</a>"
	    "</p>\n");
	web_page_end(&h);
	web_send_page(c, status, &h);
	reqrow_clear(&q);
}

/* ?page=N (1-based), bounded. */
static long long
page_arg(const struct ctx *c)
{
	const char *p = http_query_arg(c->req, "page");
	char *end;
	long long n;

	if (p == NULL)
		return 1;
	n = strtoll(p, &end, 10);
	if (*end != '\0' || n < 1 || n > 1000000)
		return 1;
	return n;
}

static void
pager(struct html *h, const char *path, long long page, int more)
{
	if (page <= 1 && !more)
		return;
	html_raw(h, "<nav aria-label=\"pages\"><p>");
	if (page > 1)
		html_fmt(h, "<a href=\"%s?page=%lld\">Newer</a> ", path,
		    page - 1);
	html_fmt(h, "Page %lld", page);
	if (more)
		html_fmt(h, " <a href=\"%s?page=%lld\">Older</a>", path,
		    page + 1);
	html_raw(h, "</p></nav>\n");
}

void
webpage_requests(struct ctx *c)
{
	struct store *s = c->srv->ca->store;
	sqlite3_stmt *st = NULL;
	struct html h = { 0 };
	long long page = page_arg(c);
	char t[32];
	int n = 0;

	web_page_begin(c, &h, "My requests");
	html_raw(&h, "<table id=\"requests\">\n<caption>Your certificate "
	    "requests, newest first</caption>\n<thead><tr><th scope=\"col\">"
	    "Request</th><th scope=\"col\">Submitted</th><th scope=\"col\">"
	    "Template</th><th scope=\"col\">Status</th></tr></thead>\n"
	    "<tbody>\n");
	store_lock(s);
	if (sqlite3_prepare_v2(store_db(s), "SELECT id, created, template, "
	    "status FROM requests WHERE requester = ? ORDER BY id DESC LIMIT ? "
	    "OFFSET ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, c->who.name, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_bind_int(st, 2, CAIRN_WEB_LIST_PAGE + 1) ==
	    SQLITE_OK && sqlite3_bind_int64(st, 3, (page - 1) *
	    CAIRN_WEB_LIST_PAGE) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW &&
		    ++n <= CAIRN_WEB_LIST_PAGE)
			html_fmt(&h, "<tr><td><a href=\"/certsrv/requests/"
			    "%lld\">%lld</a></td><td>%s</td><td>%s</td><td>%s"
			    "</td></tr>\n", (long long)sqlite3_column_int64(st,
			    0), (long long)sqlite3_column_int64(st, 0),
			    web_fmt_time(sqlite3_column_int64(st, 1), t),
			    sqlite3_column_text(st, 2),
			    sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	store_unlock(s);
	html_raw(&h, "</tbody>\n</table>\n");
	if (n == 0)
		html_raw(&h, "<p>No requests yet. <a href=\"/certsrv/submit\">"
		    "Request a certificate</a>.</p>\n");
	pager(&h, "/certsrv/requests", page, n > CAIRN_WEB_LIST_PAGE);
	web_page_end(&h);
	web_send_page(c, 200, &h);
}

void
webpage_pending(struct ctx *c)
{
	struct store *s = c->srv->ca->store;
	sqlite3_stmt *st = NULL;
	struct html h = { 0 };
	long long page = page_arg(c), id;
	char t[32];
	int n = 0;

	if (!web_is_manager(c)) {
		web_error_page(c, 403, "Pending requests", "Deciding requests "
		    "needs the certificate manager role.");
		return;
	}
	web_page_begin(c, &h, "Pending requests");
	html_raw(&h, "<table id=\"pending\">\n<caption>Requests waiting for a "
	    "certificate manager, oldest first</caption>\n<thead><tr><th "
	    "scope=\"col\">Request</th><th scope=\"col\">Submitted</th><th "
	    "scope=\"col\">Requester</th><th scope=\"col\">Template</th><th "
	    "scope=\"col\">Subject asked for</th><th scope=\"col\">Decision"
	    "</th></tr></thead>\n<tbody>\n");
	store_lock(s);
	if (sqlite3_prepare_v2(store_db(s), "SELECT id, created, requester, "
	    "template, csr FROM requests WHERE status = 'pending' ORDER BY id "
	    "LIMIT ? OFFSET ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int(st, 1, CAIRN_WEB_LIST_PAGE + 1) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, (page - 1) * CAIRN_WEB_LIST_PAGE) ==
	    SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW &&
		    ++n <= CAIRN_WEB_LIST_PAGE) {
			const char *requester = (const char *)
			    sqlite3_column_text(st, 2);
			char *subj = csr_subject(sqlite3_column_blob(st, 4),
			    sqlite3_column_bytes(st, 4));

			id = sqlite3_column_int64(st, 0);
			html_fmt(&h, "<tr id=\"req-%lld\"><td><a href=\""
			    "/certsrv/requests/%lld\">%lld</a></td><td>%s</td>"
			    "<td>%s</td><td>%s</td><td>%s</td><td>", id, id,
			    id, web_fmt_time(sqlite3_column_int64(st, 1), t),
			    requester, sqlite3_column_text(st, 3),
			    subj != NULL ? subj : "");
			free(subj);
			if (requester != NULL &&
			    strcmp(requester, c->who.name) == 0) {
				html_raw(&h, "<span class=\"hint\">Your own "
				    "request: another certificate manager "
				    "decides.</span>");
			} else {
				html_fmt(&h, "<form method=\"post\" action=\""
				    "/certsrv/requests/%lld/approve\">", id);
				web_csrf_input(&h, c);
				html_raw(&h, "<button type=\"submit\">Approve"
				    "</button></form>");
				html_fmt(&h, "<form method=\"post\" action=\""
				    "/certsrv/requests/%lld/deny\">", id);
				web_csrf_input(&h, c);
				html_fmt(&h, "<label for=\"reason-%lld\" "
				    "class=\"vh\">Reason for denying</label>"
				    "<input type=\"text\" id=\"reason-%lld\" "
				    "name=\"reason\" maxlength=\"%d\" "
				    "placeholder=\"reason\">"
				    "<button type=\"submit\" class=\""
				    "secondary\">Deny</button></form>", id, id,
				    REASON_MAX);
			}
			html_raw(&h, "</td></tr>\n");
		}
	}
	sqlite3_finalize(st);
	store_unlock(s);
	html_raw(&h, "</tbody>\n</table>\n");
	if (n == 0)
		html_raw(&h, "<p>No request is waiting.</p>\n");
	pager(&h, "/certsrv/pending", page, n > CAIRN_WEB_LIST_PAGE);
	web_page_end(&h);
	web_send_page(c, 200, &h);
}

void
webpage_decide(struct ctx *c, long long id, int approve)
{
	struct webform *form = NULL;
	struct issue_result res = { 0 };
	const char *why = NULL;
	char where[64];
	int r;

	if (web_post_guard(c, &form) != 0)
		return;
	if (approve) {
		r = issue_approve(c->srv->ca, id, &c->who, &res);
	} else {
		if (webform_get(form, "reason") != NULL &&
		    (r = webform_text(form, "reason", &why)) != 0) {
			web_error_page(c, 400, "Deny", cairn_errmsg(r));
			goto out;
		}
		if (why != NULL && strlen(why) > REASON_MAX) {
			web_error_page(c, 400, "Deny", "The reason is too long "
			    "(500 bytes at most).");
			goto out;
		}
		r = issue_deny(c->srv->ca, id, &c->who, why);
	}
	if (r != 0) {
		web_core_error(c, approve ? "Approval refused" :
		    "Denial refused", r);
		goto out;
	}
	snprintf(where, sizeof(where), "/certsrv/requests/%lld", id);
	web_redirect(c, where);
out:
	issue_result_clear(&res);
	webform_free(form);
}

/* ---- certificates -------------------------------------------------------- */

void
webpage_certs(struct ctx *c)
{
	struct store *s = c->srv->ca->store;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct html h = { 0 };
	long long page = page_arg(c), now = store_now();
	char t[32], t2[32];
	size_t i;
	int n = 0;

	if (!web_may_list_certs(c)) {
		web_error_page(c, 403, "Certificates", "Listing certificates "
		    "needs the certificate manager or auditor role.");
		return;
	}
	web_page_begin(c, &h, "Issued and revoked certificates");
	html_raw(&h, "<div class=\"scroll\"><table id=\"certs\">\n<caption>"
	    "Certificates, newest first</caption>\n<thead><tr><th "
	    "scope=\"col\">Serial</th><th scope=\"col\">Subject</th><th "
	    "scope=\"col\">Template</th><th scope=\"col\">Requester</th>"
	    "<th scope=\"col\">Valid until</th>"
	    "<th scope=\"col\">Status</th>");
	if (web_is_manager(c))
		html_raw(&h, "<th scope=\"col\">Action</th>");
	html_raw(&h, "</tr></thead>\n<tbody>\n");
	/* Sorting every certificate: not under the lock issuance commits
	 * with. */
	db = store_scan_begin(s);
	if (sqlite3_prepare_v2(db, "SELECT serial, status, subject, "
	    "template, requester, not_after, revoked_at, reason FROM certs "
	    "ORDER BY created DESC, serial LIMIT ? OFFSET ?", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_bind_int(st, 1, CAIRN_WEB_LIST_PAGE + 1) ==
	    SQLITE_OK && sqlite3_bind_int64(st, 2, (page - 1) *
	    CAIRN_WEB_LIST_PAGE) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW &&
		    ++n <= CAIRN_WEB_LIST_PAGE) {
			const char *serial = (const char *)
			    sqlite3_column_text(st, 0);
			const char *cstatus = (const char *)
			    sqlite3_column_text(st, 1);
			int revoked = sqlite3_column_type(st, 6) !=
			    SQLITE_NULL;
			int reason = sqlite3_column_int(st, 7);
			long long na = sqlite3_column_int64(st, 5);
			int hold = revoked && reason == 6;

			if (serial == NULL || cstatus == NULL)
				continue;
			/* 32 hex digits, as two lines of 16 when narrow */
			html_fmt(&h, "<tr id=\"cert-%s\"><td class=\"mono "
			    "serial\">", serial);
			if (strcmp(cstatus, "issued") == 0)
				html_fmt(&h, "<a href=\"/certsrv/certs/%s."
				    "pem\">", serial);
			html_textn(&h, serial, strnlen(serial, 16));
			html_raw(&h, "<wbr>");
			html_text(&h, serial + strnlen(serial, 16));
			if (strcmp(cstatus, "issued") == 0)
				html_raw(&h, "</a>");
			html_fmt(&h, "</td><td>%s</td><td>%s</td><td>%s</td>"
			    "<td class=\"nowrap\">%s</td><td class=\"status\">",
			    sqlite3_column_text(st, 2),
			    sqlite3_column_text(st, 3),
			    sqlite3_column_text(st, 4), web_fmt_date(na, t));
			if (strcmp(cstatus, "intended") == 0 && !revoked)
				html_raw(&h, "intended, never released");
			else if (hold)
				html_fmt(&h, "on hold since %s", web_fmt_date(
				    sqlite3_column_int64(st, 6), t2));
			else if (revoked)
				html_fmt(&h, "revoked (%s), %s",
				    ca_reason_name(reason), web_fmt_date(
				    sqlite3_column_int64(st, 6), t2));
			else if (na < now)
				html_raw(&h, "expired");
			else
				html_raw(&h, "valid");
			html_raw(&h, "</td>");
			if (web_is_manager(c)) {
				html_raw(&h, "<td>");
				if (!revoked || hold) {
					html_fmt(&h, "<form method=\"post\" "
					    "action=\"/certsrv/certs/%s/"
					    "revoke\">", serial);
					web_csrf_input(&h, c);
					html_fmt(&h, "<label class=\"vh\" "
					    "for=\"reason-%s\">Reason</label>"
					    "<select id=\"reason-%s\" "
					    "name=\"reason\">", serial, serial);
					for (i = 0; reasons[i] != NULL; i++)
						if (!hold || strcmp(reasons[i],
						    "certificateHold") != 0)
							html_fmt(&h, "<option>"
							    "%s</option>",
							    reasons[i]);
					html_raw(&h, "</select><button type=\""
					    "submit\">Revoke</button></form>");
				}
				if (hold) {
					html_fmt(&h, "<form method=\"post\" "
					    "action=\"/certsrv/certs/%s/"
					    "unhold\">", serial);
					web_csrf_input(&h, c);
					html_raw(&h, "<button type=\"submit\" "
					    "class=\"secondary\">Release hold"
					    "</button></form>");
				}
				html_raw(&h, "</td>");
			}
			html_raw(&h, "</tr>\n");
		}
	}
	sqlite3_finalize(st);
	store_scan_end(s, db);
	html_raw(&h, "</tbody>\n</table></div>\n");
	if (n == 0)
		html_raw(&h, "<p>No certificates yet.</p>\n");
	pager(&h, "/certsrv/certs", page, n > CAIRN_WEB_LIST_PAGE);
	web_page_end(&h);
	web_send_page(c, 200, &h);
}

void
webpage_revoke(struct ctx *c, const char *serial, int unhold)
{
	struct webform *form = NULL;
	const char *rs = NULL;
	int reason = 0, r;

	if (web_post_guard(c, &form) != 0)
		return;
	if (unhold) {
		r = ca_unhold(c->srv->ca, serial, &c->who);
	} else {
		if ((r = webform_text(form, "reason", &rs)) != 0 ||
		    (r = ca_reason_parse(rs, &reason)) != 0) {
			web_error_page(c, 400, "Revoke", r ==
			    CAIRN_E_NOT_FOUND ? "Choose a reason." :
			    cairn_errmsg(r));
			goto out;
		}
		r = ca_revoke(c->srv->ca, serial, reason, &c->who);
	}
	if (r != 0) {
		web_core_error(c, unhold ? "Release hold refused" :
		    "Revocation refused", r);
		goto out;
	}
	web_redirect(c, "/certsrv/certs");
out:
	webform_free(form);
}

/* GET /certsrv/certs/SERIAL{.pem,.cer,-chain.pem,.p7b} */
void
webpage_download(struct ctx *c, const char *serial_in, const char *suffix)
{
	struct store *s = c->srv->ca->store;
	sqlite3_stmt *st = NULL;
	STACK_OF(X509) *sk = NULL;
	PKCS7 *p7 = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	const char *ctype = NULL;
	char serial[33], *p;
	long len;
	int r, chain = strcmp(suffix, "-chain.pem") == 0,
	    der = strcmp(suffix, ".cer") == 0,
	    pkcs7 = strcmp(suffix, ".p7b") == 0;

	if (!chain && !der && !pkcs7 && strcmp(suffix, ".pem") != 0) {
		web_error_page(c, 404, "Not found", "No such download.");
		return;
	}
	if ((r = ca_serial_norm(serial_in, serial)) != 0) {
		web_error_page(c, 400, "Certificate", cairn_errmsg(r));
		return;
	}
	store_lock(s);
	if (sqlite3_prepare_v2(store_db(s), "SELECT der FROM certs WHERE "
	    "serial = ? AND status = 'issued'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_blob(st, 0);

		x = d2i_X509(NULL, &d, sqlite3_column_bytes(st, 0));
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (x == NULL) {
		web_error_page(c, 404, "Certificate", "No certificate with "
		    "that serial was issued by this CA.");
		return;
	}
	r = 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		r = -1;
	} else if (pkcs7) {
		r = (sk = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(sk, x) ||
		    !sk_X509_push(sk, c->srv->ca->cert) ||
		    !sk_X509_push(sk, c->srv->ca->root) ||
		    (p7 = PKCS7_sign(NULL, NULL, sk, NULL, PKCS7_PARTIAL)) ==
		    NULL || i2d_PKCS7_bio(b, p7) != 1;
		ctype = "application/pkcs7-mime";
	} else if (der) {
		r = i2d_X509_bio(b, x) != 1;
		ctype = "application/pkix-cert";
	} else {
		r = PEM_write_bio_X509(b, x) != 1 || (chain &&
		    (PEM_write_bio_X509(b, c->srv->ca->cert) != 1 ||
		    PEM_write_bio_X509(b, c->srv->ca->root) != 1));
		ctype = "application/x-pem-file";
	}
	if (r != 0 || (len = BIO_get_mem_data(b, &p)) <= 0) {
		cairn_error_crypto(CAIRN_E_CRYPTO, "encoding a certificate");
		web_core_error(c, "Certificate", CAIRN_E_CRYPTO);
	} else {
		http_resp_bytes(c->resp, 200, ctype, p, (size_t)len);
		web_security_headers(c->resp);
		http_resp_header(c->resp, "Content-Disposition: attachment; "
		    "filename=\"%s%s\"", serial, suffix);
	}
	BIO_free(b);
	PKCS7_free(p7);
	sk_X509_free(sk);
	X509_free(x);
}
