/*
 * webscep.c: the managers' page for SCEP one-time challenge passwords
 * (what NDES's mscep_admin page is to AD CS): make a challenge for a
 * template, optionally bound to a subject pattern and with a lifetime,
 * see it once, list the challenges that can still be used, revoke one.
 *
 * The page only parses and authenticates (see web.c for sign-in, CSRF and
 * the layout); scep_challenge_new() and scep_challenge_revoke() decide
 * who may, store the secret hashed, and audit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "sub-ca/html.h"
#include "sub-ca/scep.h"
#include "sub-ca/web-int.h"
#include "sub-ca/web.h"
#include "sub-ca/webform.h"

/* The templates a SCEP challenge may name: those loaded. */
static void
template_options(struct ctx *c, struct html *h, const char *selected)
{
	const struct template_set *ts = c->srv->ca->templates;
	size_t i;

	for (i = 0; ts != NULL && i < ts->n; i++)
		html_fmt(h, "<option value=\"%s\"%s>%s</option>\n",
		    ts->t[i]->name, selected != NULL &&
		    strcmp(selected, ts->t[i]->name) == 0 ? " selected" : "",
		    ts->t[i]->name);
}

/* The page: an optional message (error or the new secret), the form,
 * and the challenges that can still be used. */
static void
page(struct ctx *c, int status, const char *error,
    const struct scep_challenge *made, const char *tname)
{
	struct scep_challenge *list = NULL;
	struct html h = { 0 };
	size_t i, n = 0;
	char t1[32], t2[32];
	int r;

	web_page_begin(c, &h, "SCEP challenge passwords");
	if (error != NULL)
		html_fmt(&h, "<p class=\"error\" role=\"alert\" id=\"error\">%s"
		    "</p>\n", error);
	if (made != NULL)
		html_fmt(&h, "<div class=\"notice\" role=\"status\">"
		    "<p>Challenge %lld for template <strong>%s</strong>, valid "
		    "until %s%s%s:</p>\n<p><code id=\"secret\">%s</code></p>\n"
		    "<p>It is shown only now and works once: give it to the "
		    "device's administrator by a channel you trust.</p></div>\n",
		    made->id, made->template_name,
		    web_fmt_time(made->expires, t1), made->subject != NULL ?
		    ", for subjects matching " : "", made->subject != NULL ?
		    made->subject : "", made->secret);
	html_raw(&h, "<p>A network device or an MDM enrolls by SCEP with a "
	    "one-time challenge password. Each challenge names the template "
	    "that decides the certificate, may bind the request's subject to "
	    "a pattern (<code>CN=r1.example.org</code>, or a whole subject "
	    "with <code>*</code> wildcards), and expires.</p>\n"
	    "<form method=\"post\" action=\"/certsrv/challenges\">\n");
	web_csrf_input(&h, c);
	html_raw(&h, "\n<label for=\"template\">Template</label>\n"
	    "<select id=\"template\" name=\"template\" required>\n");
	template_options(c, &h, tname != NULL ? tname : "Router");
	html_raw(&h, "</select>\n<label for=\"subject\">Subject pattern "
	    "(optional)</label>\n<input type=\"text\" id=\"subject\" "
	    "name=\"subject\" maxlength=\"256\" placeholder=\"CN=*.routers."
	    "example.org\">\n<label for=\"expires\">Valid for</label>\n"
	    "<input type=\"text\" id=\"expires\" name=\"expires\" "
	    "maxlength=\"16\" value=\"1h\" pattern=\"[0-9]+[smhd]\" "
	    "title=\"a number and s, m, h or d\">\n"
	    "<div><button type=\"submit\">Make a challenge</button></div>\n"
	    "</form>\n");
	html_raw(&h, "<table id=\"challenges\">\n<caption>Challenges that can "
	    "still be used, newest first</caption>\n<thead><tr><th "
	    "scope=\"col\">Challenge</th><th scope=\"col\">Template</th><th "
	    "scope=\"col\">Subject</th><th scope=\"col\">Made by</th><th "
	    "scope=\"col\">Made</th><th scope=\"col\">Expires</th><th "
	    "scope=\"col\">Revoke</th></tr></thead>\n<tbody>\n");
	if ((r = scep_challenge_list(c->srv->ca, 0, &list, &n)) != 0)
		fprintf(stderr, "cairn-sub: listing challenges: %s\n",
		    cairn_errmsg(r));
	for (i = 0; i < n; i++) {
		html_fmt(&h, "<tr id=\"ch-%lld\"><td>%lld</td><td>%s</td>"
		    "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
		    list[i].id, list[i].id, list[i].template_name,
		    list[i].subject != NULL ? list[i].subject : "any",
		    list[i].created_by, web_fmt_time(list[i].created, t1),
		    web_fmt_time(list[i].expires, t2));
		html_fmt(&h, "<form method=\"post\" action=\"/certsrv/"
		    "challenges/%lld/revoke\">", list[i].id);
		web_csrf_input(&h, c);
		html_raw(&h, "<button type=\"submit\">Revoke</button></form>"
		    "</td></tr>\n");
	}
	if (n == 0)
		html_raw(&h, "<tr><td colspan=\"7\">None.</td></tr>\n");
	html_raw(&h, "</tbody>\n</table>\n");
	scep_challenge_list_free(list, n);
	web_page_end(&h);
	web_send_page(c, status, &h);
}

static int
managers_only(struct ctx *c)
{
	if (web_is_manager(c))
		return 0;
	web_error_page(c, 403, "SCEP challenge passwords", "Making and "
	    "revoking SCEP challenges needs the certificate manager role.");
	return -1;
}

void
webscep_page(struct ctx *c)
{
	if (managers_only(c) == 0)
		page(c, 200, NULL, NULL, NULL);
}

void
webscep_new(struct ctx *c)
{
	struct webform *form = NULL;
	struct scep_challenge made = { 0 };
	const char *tname = NULL, *subject = NULL, *expires = NULL;
	long long ttl = 0;
	int r;

	if (managers_only(c) != 0 || web_post_guard(c, &form) != 0)
		return;
	if ((r = webform_text(form, "template", &tname)) != 0 ||
	    (webform_get(form, "subject") != NULL &&
	    (r = webform_text(form, "subject", &subject)) != 0) ||
	    (webform_get(form, "expires") != NULL &&
	    (r = webform_text(form, "expires", &expires)) != 0)) {
		page(c, 400, cairn_errmsg(r), NULL, tname);
		goto out;
	}
	if (subject != NULL && subject[0] == '\0')
		subject = NULL;
	if (expires != NULL && expires[0] != '\0' &&
	    (r = scep_duration_parse(expires, &ttl)) != 0) {
		page(c, 400, cairn_errmsg(r), NULL, tname);
		goto out;
	}
	if ((r = scep_challenge_new(c->srv->ca, &c->who, tname, subject, ttl,
	    &made)) != 0) {
		if (web_status(r) >= 500)
			web_core_error(c, "SCEP challenge passwords", r);
		else
			page(c, web_status(r), cairn_errmsg(r), NULL, tname);
		goto out;
	}
	/* The secret is on this answer only: never a redirect that a
	 * reload would not show again, never stored in clear. */
	page(c, 201, NULL, &made, tname);
out:
	scep_challenge_clear(&made);
	webform_free(form);
}

void
webscep_revoke(struct ctx *c, long long id)
{
	struct webform *form = NULL;
	int r;

	if (managers_only(c) != 0 || web_post_guard(c, &form) != 0)
		return;
	if ((r = scep_challenge_revoke(c->srv->ca, &c->who, id)) != 0)
		web_core_error(c, "Revoking a challenge", r);
	else
		web_redirect(c, "/certsrv/challenges");
	webform_free(form);
}
