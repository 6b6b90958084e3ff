/*
 * test_webform.c: what the web pages read and write: form bodies and the
 * Cookie header (sub-ca/webform.c), and escaped HTML (sub-ca/html.c).
 *
 * Forms arrive from anyone who can reach the HTTPS port, before any
 * authentication.  These tests pin down what a browser sends (urlencoded
 * and multipart bodies shaped as Chromium and curl make them), that each
 * rule in webform.h refuses with its code and a message naming it, the
 * limits and their off-by-one twins, and that every proper prefix of a
 * multipart body is refused (a truncated upload is never half-read).
 * Every parse goes through an exact-size heap copy, so an over-read past
 * the length is visible to ASan.
 *
 * HTML: everything that is not this program's own markup comes out
 * escaped, and bytes that are not UTF-8 come out as U+FFFD.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/html.h"
#include "sub-ca/webform.h"

#define URLENC "application/x-www-form-urlencoded"

static int
parse_n(const char *ctype, const void *body, size_t len, struct webform **out)
{
	uint8_t *buf = malloc(len > 0 ? len : 1);
	int r;

	assert_non_null(buf);
	memcpy(buf, body, len);
	*out = (struct webform *)1;  /* must be overwritten */
	r = webform_parse(ctype, buf, len, out);
	free(buf);
	if (r != 0)
		assert_null(*out);
	return r;
}

static int
parse(const char *ctype, const char *body, struct webform **out)
{
	return parse_n(ctype, body, strlen(body), out);
}

/* Refused with `code`, and the detail mentions `words`. */
static void
refused(const char *ctype, const void *body, size_t len, int code,
    const char *words)
{
	struct webform *f;
	int r = parse_n(ctype, body, len, &f);

	if (r != code)
		fail_msg("want %s, got %s (%s) for \"%.*s\"",
		    cairn_errname(code), cairn_errname(r), cairn_errmsg(r),
		    (int)(len > 200 ? 200 : len), (const char *)body);
	if (strstr(cairn_errmsg(r), words) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", cairn_errmsg(r),
		    words);
}

static void
refused_s(const char *ctype, const char *body, int code, const char *words)
{
	refused(ctype, body, strlen(body), code, words);
}

static const char *
text(const struct webform *f, const char *name)
{
	const char *s;
	int r = webform_text(f, name, &s);

	if (r != 0)
		fail_msg("field %s: %s", name, cairn_errmsg(r));
	return s;
}

/* ---- urlencoded ---------------------------------------------------------- */

static void
test_urlencoded_login(void **state)
{
	struct webform *f;

	(void)state;
	/* What Chromium sends for the login form. */
	assert_int_equal(parse(URLENC, "csrf=0a1b&account=alice&password=p%40ss"
	    "+w%C3%B6rd%21%26%3D", &f), 0);
	assert_int_equal(f->n, 3);
	assert_string_equal(text(f, "csrf"), "0a1b");
	assert_string_equal(text(f, "account"), "alice");
	assert_string_equal(text(f, "password"), "p@ss w\xc3\xb6rd!&=");
	assert_int_equal(webform_get(f, "password")->len, 13);
	assert_false(webform_get(f, "password")->is_file);
	assert_null(webform_get(f, "missing"));
	assert_int_equal(webform_text(f, "missing", &(const char *){ 0 }),
	    CAIRN_E_NOT_FOUND);
	webform_free(f);
}

static void
test_urlencoded_shapes(void **state)
{
	struct webform *f;

	(void)state;
	assert_int_equal(parse(URLENC, "", &f), 0);
	assert_int_equal(f->n, 0);
	webform_free(f);
	assert_int_equal(parse(URLENC "; charset=UTF-8", "a=", &f), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(text(f, "a"), "");
	webform_free(f);
	assert_int_equal(parse("Application/X-WWW-Form-URLEncoded", "a==b",
	    &f), 0);
	assert_string_equal(text(f, "a"), "=b");
	webform_free(f);
	/* percent-encoded names are decoded before the check */
	assert_int_equal(parse(URLENC, "%61%2Db=1&x.y_Z-9=2", &f), 0);
	assert_string_equal(text(f, "a-b"), "1");
	assert_string_equal(text(f, "x.y_Z-9"), "2");
	webform_free(f);
	/* a NUL in a value is kept, and is not text */
	assert_int_equal(parse(URLENC, "v=a%00b", &f), 0);
	assert_int_equal(webform_get(f, "v")->len, 3);
	assert_int_equal(webform_get(f, "v")->value[3], 0);
	assert_int_equal(webform_text(f, "v", &(const char *){ 0 }),
	    CAIRN_E_INVAL);
	webform_free(f);
}

static void
test_urlencoded_refused(void **state)
{
	(void)state;
	refused_s(URLENC, "a", CAIRN_E_INVAL, "no '='");
	refused_s(URLENC, "a=1&b", CAIRN_E_INVAL, "field 2 has no '='");
	refused_s(URLENC, "a=1&&b=2", CAIRN_E_INVAL, "field 2 is empty");
	refused_s(URLENC, "a=1&", CAIRN_E_INVAL, "field 2 is empty");
	refused_s(URLENC, "&a=1", CAIRN_E_INVAL, "field 1 is empty");
	refused_s(URLENC, "&", CAIRN_E_INVAL, "field 1 is empty");
	refused_s(URLENC, "a=%4", CAIRN_E_INVAL, "two hex digits");
	refused_s(URLENC, "a=%", CAIRN_E_INVAL, "two hex digits");
	refused_s(URLENC, "a=%zz", CAIRN_E_INVAL, "two hex digits");
	refused_s(URLENC, "a%G0=1", CAIRN_E_INVAL, "two hex digits");
	refused_s(URLENC, "=1", CAIRN_E_INVAL, "a name of 0 characters");
	refused_s(URLENC, "a+b=1", CAIRN_E_INVAL, "outside [A-Za-z0-9_.-]");
	refused_s(URLENC, "a%00=1", CAIRN_E_INVAL, "outside");
	refused_s(URLENC, "a%3C=1", CAIRN_E_INVAL, "outside");
	refused_s(URLENC, "a=1&b=2&a=3", CAIRN_E_INVAL,
	    "\"a\" is sent twice");
	refused_s(URLENC, "a=1&%61=3", CAIRN_E_INVAL, "sent twice");
}

static void
test_content_type(void **state)
{
	(void)state;
	refused_s(NULL, "a=1", CAIRN_E_INVAL, "without a Content-Type");
	refused_s("text/plain", "a=1", CAIRN_E_INVAL,
	    "want application/x-www-form-urlencoded or multipart/form-data");
	refused_s(URLENC "x", "a=1", CAIRN_E_INVAL, "want");
	refused_s("application/json", "{}", CAIRN_E_INVAL, "want");
	refused_s("multipart/mixed; boundary=x", "--x--", CAIRN_E_INVAL,
	    "want");
}

static void
test_name_and_field_limits(void **state)
{
	struct webform *f;
	char name[CAIRN_WEBFORM_NAME_MAX + 2], *body;
	size_t i, n;

	(void)state;
	memset(name, 'n', sizeof(name));
	name[CAIRN_WEBFORM_NAME_MAX] = '\0';
	body = malloc(CAIRN_WEBFORM_NAME_MAX + 8);
	snprintf(body, CAIRN_WEBFORM_NAME_MAX + 8, "%s=1", name);
	assert_int_equal(parse(URLENC, body, &f), 0);
	assert_string_equal(text(f, name), "1");
	webform_free(f);
	name[CAIRN_WEBFORM_NAME_MAX] = 'n';
	name[CAIRN_WEBFORM_NAME_MAX + 1] = '\0';
	snprintf(body, CAIRN_WEBFORM_NAME_MAX + 8, "%s=1", name);
	refused_s(URLENC, body, CAIRN_E_INVAL, "a name of 65 characters");
	free(body);

	/* CAIRN_WEBFORM_FIELDS_MAX fields, then one more */
	body = malloc(16 * (CAIRN_WEBFORM_FIELDS_MAX + 1));
	for (i = 0, n = 0; i < CAIRN_WEBFORM_FIELDS_MAX; i++)
		n += (size_t)sprintf(body + n, "%sf%zu=%zu", i ? "&" : "", i,
		    i);
	assert_int_equal(parse(URLENC, body, &f), 0);
	assert_int_equal(f->n, CAIRN_WEBFORM_FIELDS_MAX);
	assert_string_equal(text(f, "f31"), "31");
	webform_free(f);
	sprintf(body + n, "&f%d=x", CAIRN_WEBFORM_FIELDS_MAX);
	refused_s(URLENC, body, CAIRN_E_TOO_LARGE, "more than 32 fields");
	free(body);

	/* the body limit is the HTTP body limit */
	body = calloc(1, CAIRN_HTTP_BODY_MAX + 2);
	memset(body, 'a', CAIRN_HTTP_BODY_MAX + 1);
	body[0] = 'v';
	body[1] = '=';
	refused(URLENC, body, CAIRN_HTTP_BODY_MAX + 1, CAIRN_E_TOO_LARGE,
	    "over 65536 bytes");
	assert_int_equal(parse_n(URLENC, body, CAIRN_HTTP_BODY_MAX, &f), 0);
	assert_int_equal(webform_get(f, "v")->len, CAIRN_HTTP_BODY_MAX - 2);
	webform_free(f);
	free(body);
}

/* ---- multipart ----------------------------------------------------------- */

#define CHROME_B "----WebKitFormBoundarygK3P2zD4yV7rTmQx"
#define CHROME_CT "multipart/form-data; boundary=" CHROME_B

/* A DER-ish file: NUL bytes, CR, LF, even "--" at a line start. */
static const uint8_t der[] = { 0x30, 0x82, 0x00, 0x0d, 0x0a, 0x2d, 0x2d,
	0x0d, 0x0a, 0x00, 0xff, 0x0d };

/* The submit form as Chromium sends it, with `der` as the file. */
static size_t
chrome_body(uint8_t *out)
{
	size_t n = 0;

#define PUT(s) (memcpy(out + n, s, strlen(s)), n += strlen(s))
	PUT("--" CHROME_B "\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	    "c0ffee\r\n"
	    "--" CHROME_B "\r\n"
	    "Content-Disposition: form-data; name=\"template\"\r\n\r\n"
	    "WebServer\r\n"
	    "--" CHROME_B "\r\n"
	    "Content-Disposition: form-data; name=\"csr\"\r\n\r\n"
	    "\r\n"
	    "--" CHROME_B "\r\n"
	    "Content-Disposition: form-data; name=\"csrfile\"; "
	    "filename=\"my host.der\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n");
	memcpy(out + n, der, sizeof(der));
	n += sizeof(der);
	PUT("\r\n--" CHROME_B "--\r\n");
#undef PUT
	return n;
}

static void
test_multipart_chrome(void **state)
{
	uint8_t body[1024];
	const struct webform_field *fl;
	struct webform *f;
	size_t n = chrome_body(body);

	(void)state;
	assert_int_equal(parse_n(CHROME_CT, body, n, &f), 0);
	assert_int_equal(f->n, 4);
	assert_string_equal(text(f, "csrf"), "c0ffee");
	assert_string_equal(text(f, "template"), "WebServer");
	assert_string_equal(text(f, "csr"), "");
	assert_non_null(fl = webform_get(f, "csrfile"));
	assert_true(fl->is_file);
	assert_string_equal(fl->filename, "my host.der");
	assert_string_equal(fl->ctype, "application/octet-stream");
	assert_int_equal(fl->len, sizeof(der));
	assert_memory_equal(fl->value, der, sizeof(der));
	assert_int_equal(fl->value[fl->len], 0);
	assert_int_equal(webform_text(f, "csrfile", &(const char *){ 0 }),
	    CAIRN_E_INVAL);
	assert_false(webform_get(f, "csrf")->is_file);
	assert_string_equal(webform_get(f, "csrf")->ctype, "");
	webform_free(f);
	/* without the CRLF after the close delimiter too */
	assert_int_equal(parse_n(CHROME_CT, body, n - 2, &f), 0);
	assert_int_equal(f->n, 4);
	webform_free(f);
}

/* Every proper prefix is refused; only the whole body (and the body less
 * its final CRLF) parse. */
static void
test_multipart_truncated(void **state)
{
	uint8_t body[1024];
	struct webform *f;
	size_t n = chrome_body(body), k;
	int r;

	(void)state;
	for (k = 0; k < n; k++) {
		r = parse_n(CHROME_CT, body, k, &f);
		if (k == n - 2) {
			assert_int_equal(r, 0);
			webform_free(f);
			continue;
		}
		if (r != CAIRN_E_INVAL)
			fail_msg("a body cut at %zu of %zu: %s", k, n,
			    cairn_errname(r));
	}
	/* and so is one with a byte changed after the close delimiter */
	body[n - 1] = 'x';
	refused(CHROME_CT, body, n, CAIRN_E_INVAL,
	    "after the closing boundary");
}

static void
test_multipart_curl_and_quoting(void **state)
{
	struct webform *f;

	(void)state;
	/* curl -F, with a quoted boundary and header case as it likes */
	assert_int_equal(parse("Multipart/Form-Data;  Boundary=\"abc def\"",
	    "--abc def\r\ncontent-disposition: FORM-DATA;name=\"a\"\r\n\r\n"
	    "x\r\n--abc def\r\nCONTENT-TYPE:text/plain\r\nContent-Disposition:"
	    " form-data; name=\"b\"; filename=\"\"\r\n\r\n\r\n--abc def--",
	    &f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(text(f, "a"), "x");
	assert_true(webform_get(f, "b")->is_file);
	assert_string_equal(webform_get(f, "b")->filename, "");
	assert_string_equal(webform_get(f, "b")->ctype, "text/plain");
	assert_int_equal(webform_get(f, "b")->len, 0);
	webform_free(f);
	/* no fields at all */
	assert_int_equal(parse("multipart/form-data; boundary=q", "--q--",
	    &f), 0);
	assert_int_equal(f->n, 0);
	webform_free(f);
}

static void
test_multipart_boundary(void **state)
{
	char ct[200], body[300];
	struct webform *f;

	(void)state;
	memset(body, 0, sizeof(body));
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.*s",
	    CAIRN_WEBFORM_BOUNDARY_MAX, "0123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789");
	snprintf(body, sizeof(body), "--%.*s--", CAIRN_WEBFORM_BOUNDARY_MAX,
	    ct + 30);
	assert_int_equal(parse(ct, body, &f), 0);
	webform_free(f);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.*s",
	    CAIRN_WEBFORM_BOUNDARY_MAX + 1, "012345678901234567890123456789"
	    "01234567890123456789012345678901234567890123456789");
	refused_s(ct, "--x--", CAIRN_E_INVAL, "1..70 characters");
	refused_s("multipart/form-data", "--x--", CAIRN_E_INVAL,
	    "without a boundary");
	refused_s("multipart/form-data; boundary=", "--x--", CAIRN_E_INVAL,
	    "1..70");
	refused_s("multipart/form-data; boundary=\"\"", "----", CAIRN_E_INVAL,
	    "1..70");
	refused_s("multipart/form-data; charset=utf-8", "--x--",
	    CAIRN_E_INVAL, "no other parameter");
	refused_s("multipart/form-data; boundary=x; charset=utf-8", "--x--",
	    CAIRN_E_INVAL, "nothing after it");
	refused_s("multipart/form-data; boundary=a<b", "--a<b--",
	    CAIRN_E_INVAL, "bchars");
	refused_s("multipart/form-data; boundary=\"ab", "--ab--",
	    CAIRN_E_INVAL, "unterminated quote");
	refused_s("multipart/form-data; boundary=\"ab \"", "--ab --",
	    CAIRN_E_INVAL, "1..70");
}

#define MP "multipart/form-data; boundary=B"
#define CD "Content-Disposition: form-data; name=\"a\""

static void
test_multipart_refused(void **state)
{
	char big[CAIRN_WEBFORM_PART_HEADER_MAX + 100];
	struct webform *f;

	(void)state;
	refused_s(MP, "", CAIRN_E_INVAL, "does not start with the boundary");
	refused_s(MP, "preamble\r\n--B--", CAIRN_E_INVAL, "does not start");
	refused_s(MP, "--C--", CAIRN_E_INVAL, "does not start");
	refused_s(MP, "--Bx", CAIRN_E_INVAL, "want CRLF or \"--\"");
	refused_s(MP, "--B\r\n" CD "\r\n\r\nv", CAIRN_E_INVAL,
	    "no boundary after its content");
	refused_s(MP, "--B\r\n" CD "\r\n\r\nv\r\n--B", CAIRN_E_INVAL,
	    "want CRLF or \"--\" after boundary 2");
	refused_s(MP, "--B\r\n" CD "\r\n\r\nv\r\n--B--\r\n\r\n", CAIRN_E_INVAL,
	    "bytes after the closing boundary");
	refused_s(MP, "--B\r\n" CD, CAIRN_E_INVAL, "without their end");
	refused_s(MP, "--B\r\n\r\nv\r\n--B--", CAIRN_E_INVAL,
	    "no Content-Disposition");
	refused_s(MP, "--B\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--",
	    CAIRN_E_INVAL, "no Content-Disposition");
	refused_s(MP, "--B\r\nContent-Disposition: attachment; name=\"a\""
	    "\r\n\r\nv\r\n--B--", CAIRN_E_INVAL, "is not form-data");
	refused_s(MP, "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n"
	    "--B--", CAIRN_E_INVAL, "without a name");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "v\r\n--B--", CAIRN_E_INVAL, "want a quoted value");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	    "v\r\n--B--", CAIRN_E_INVAL, "without its closing quote");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=\"a\" "
	    "filename=\"f\"\r\n\r\nv\r\n--B--", CAIRN_E_INVAL, "want ';'");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=\"a\"; "
	    "name=\"b\"\r\n\r\nv\r\n--B--", CAIRN_E_INVAL, "given twice");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=\"a\"; "
	    "filename*=UTF-8''x\r\n\r\nv\r\n--B--", CAIRN_E_INVAL,
	    "only name and filename");
	refused_s(MP, "--B\r\n" CD "\r\n" CD "\r\n\r\nv\r\n--B--",
	    CAIRN_E_INVAL, "Content-Disposition twice");
	refused_s(MP, "--B\r\n" CD "\r\nContent-Type: a\r\nContent-Type: b\r\n"
	    "\r\nv\r\n--B--", CAIRN_E_INVAL, "Content-Type twice");
	refused_s(MP, "--B\r\n" CD "\r\nContent-Transfer-Encoding: base64\r\n"
	    "\r\ndg==\r\n--B--", CAIRN_E_INVAL,
	    "\"Content-Transfer-Encoding\" is not accepted");
	refused_s(MP, "--B\r\n" CD "\r\nno colon here\r\n\r\nv\r\n--B--",
	    CAIRN_E_INVAL, "without ':'");
	refused_s(MP, "--B\r\n" CD "\r\n\r\nv\r\n--B\r\n" CD "\r\n\r\nw\r\n"
	    "--B--", CAIRN_E_INVAL, "\"a\" is sent twice");
	refused_s(MP, "--B\r\nContent-Disposition: form-data; name=\"a b\""
	    "\r\n\r\nv\r\n--B--", CAIRN_E_INVAL, "outside");
	refused(MP, "--B\r\nContent-Disposition: form-data; name=\"a\0\"\r\n"
	    "\r\nv\r\n--B--", 58, CAIRN_E_INVAL, "a NUL byte in a header");
	/* the two headers a part may have, each once */
	assert_int_equal(parse(MP, "--B\r\n" CD "\r\nContent-Type: a\r\n"
	    "\r\nv\r\n--B--", &f), 0);
	webform_free(f);
	refused_s(MP, "--B\r\n" CD "\r\nContent-Type: a\r\n" CD "\r\n"
	    "\r\nv\r\n--B--", CAIRN_E_INVAL, "Content-Disposition twice");
	/* a header line of the limit, then one byte over */
	memset(big, 0, sizeof(big));
	snprintf(big, sizeof(big), "--B\r\nContent-Disposition: form-data; "
	    "name=\"a\"; filename=\"%0*d\"\r\n\r\nv\r\n--B--",
	    CAIRN_WEBFORM_PART_HEADER_MAX - 53, 0);
	assert_int_equal(parse(MP, big, &f), 0);
	assert_int_equal(strlen(webform_get(f, "a")->filename),
	    CAIRN_WEBFORM_PART_HEADER_MAX - 53);
	webform_free(f);
	snprintf(big, sizeof(big), "--B\r\nContent-Disposition: form-data; "
	    "name=\"a\"; filename=\"%0*d\"\r\n\r\nv\r\n--B--",
	    CAIRN_WEBFORM_PART_HEADER_MAX - 52, 0);
	refused_s(MP, big, CAIRN_E_INVAL, "a header over 1024 bytes");
}

/* ---- text ---------------------------------------------------------------- */

static void
test_text_utf8(void **state)
{
	static const struct {
		const char *enc;   /* urlencoded value */
		int ok;
	} cases[] = {
		{ "plain", 1 },
		{ "tab%09cr%0Dlf%0A", 1 },
		{ "%C3%B6%E2%82%AC%F0%9F%94%91", 1 },   /* ö € 🔑 */
		{ "%01", 0 },
		{ "%7F", 0 },
		{ "%C2%85", 0 },                        /* C1 control */
		{ "%C0%AF", 0 },                        /* overlong '/' */
		{ "%E0%80%AF", 0 },                     /* overlong */
		{ "%ED%A0%80", 0 },                     /* surrogate */
		{ "%F4%90%80%80", 0 },                  /* > U+10FFFF */
		{ "%C3", 0 },                           /* cut */
		{ "%E2%82", 0 },
		{ "%FF", 0 },
		{ "%80", 0 },
	};
	char body[64];
	struct webform *f;
	const char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "v=%s", cases[i].enc);
		assert_int_equal(parse(URLENC, body, &f), 0);
		if (cases[i].ok) {
			assert_int_equal(webform_text(f, "v", &s), 0);
		} else {
			if (webform_text(f, "v", &s) != CAIRN_E_INVAL)
				fail_msg("%s accepted as text", cases[i].enc);
			assert_null(s);
			assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL),
			    "not text"));
		}
		webform_free(f);
	}
}

/* ---- Cookie -------------------------------------------------------------- */

static void
test_cookie(void **state)
{
	char v[65], small[4];

	(void)state;
	assert_int_equal(webform_cookie("a=1; b=22;c=333", "b", v, sizeof(v)),
	    0);
	assert_string_equal(v, "22");
	assert_int_equal(webform_cookie("a=1; b=22;c=333", "c", v, sizeof(v)),
	    0);
	assert_string_equal(v, "333");
	assert_int_equal(webform_cookie("xa=1; a=2", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	assert_int_equal(webform_cookie("a=\"q\"", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "q");
	assert_int_equal(webform_cookie("flag; a=", "a", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(webform_cookie("A=1", "a", v, sizeof(v)),
	    CAIRN_E_NOT_FOUND);
	assert_int_equal(webform_cookie("", "a", v, sizeof(v)),
	    CAIRN_E_NOT_FOUND);
	assert_int_equal(webform_cookie(NULL, "a", v, sizeof(v)),
	    CAIRN_E_NOT_FOUND);
	assert_int_equal(webform_cookie("a=1; a=1", "a", v, sizeof(v)),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "sent twice"));
	/* three bytes fit in four, four do not */
	assert_int_equal(webform_cookie("a=123", "a", small, sizeof(small)),
	    0);
	assert_string_equal(small, "123");
	assert_int_equal(webform_cookie("a=1234", "a", small, sizeof(small)),
	    CAIRN_E_INVAL);
	assert_string_equal(small, "");
	assert_int_equal(webform_cookie("a=x y", "a", v, sizeof(v)),
	    CAIRN_E_INVAL);
	assert_int_equal(webform_cookie("a=x,y", "a", v, sizeof(v)),
	    CAIRN_E_INVAL);
	assert_int_equal(webform_cookie("a=x\\y", "a", v, sizeof(v)),
	    CAIRN_E_INVAL);
	assert_int_equal(webform_cookie("a=\xc3\xb6", "a", v, sizeof(v)),
	    CAIRN_E_INVAL);
}

static void
test_cookie_limit(void **state)
{
	char *h = malloc(CAIRN_HTTP_HEADER_MAX + 2), v[8];

	(void)state;
	memset(h, 'x', CAIRN_HTTP_HEADER_MAX + 1);
	memcpy(h, "a=1; z=", 7);
	h[CAIRN_HTTP_HEADER_MAX] = '\0';
	assert_int_equal(webform_cookie(h, "a", v, sizeof(v)), 0);
	h[CAIRN_HTTP_HEADER_MAX] = 'x';
	h[CAIRN_HTTP_HEADER_MAX + 1] = '\0';
	assert_int_equal(webform_cookie(h, "a", v, sizeof(v)), CAIRN_E_INVAL);
	free(h);
}

/* ---- HTML ---------------------------------------------------------------- */

#define FFFD "\xef\xbf\xbd"

static char *
take(struct html *h)
{
	size_t len;
	char *s = html_take(h, &len);

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

static void
test_html_escape(void **state)
{
	struct html h = { 0 };
	char *s;

	(void)state;
	html_raw(&h, "<p>");
	html_text(&h, "<script>alert(\"x\" & 'y')</script>");
	html_raw(&h, "</p>");
	s = take(&h);
	assert_string_equal(s, "<p>&lt;script&gt;alert(&quot;x&quot; &amp; "
	    "&#39;y&#39;)&lt;/script&gt;</p>");
	free(s);
	/* not UTF-8, controls, NUL: U+FFFD each; UTF-8, tab, CR, LF kept */
	{
		static const char in[] = "a\x01" "b\xc3\xb6\xff\xc0\xaf"
		    "\xed\xa0\x80\t\r\nc\x7f\xe2\x82";
		static const char want[] = "a" FFFD "b\xc3\xb6" FFFD FFFD FFFD
		    FFFD FFFD FFFD "\t\r\nc" FFFD FFFD FFFD FFFD;

		html_textn(&h, in, sizeof(in));  /* with the NUL */
		s = take(&h);
		assert_string_equal(s, want);
		free(s);
	}
	/* the length is honoured: no read past it */
	html_textn(&h, "abc<def", 4);
	s = take(&h);
	assert_string_equal(s, "abc&lt;");
	free(s);
	/* nothing written is an empty string, not NULL */
	s = take(&h);
	assert_string_equal(s, "");
	free(s);
}

static void
test_html_fmt(void **state)
{
	struct html h = { 0 };
	const char *volatile null = NULL;  /* hidden from the format check */
	size_t len;
	char *s;

	(void)state;
	html_fmt(&h, "<a href=\"/r/%lld\" title=\"%s\">%s %d%% %u %llu %zu</a>",
	    -5LL, "\"><script>", null, -1, 7u, 18446744073709551615ULL,
	    (size_t)42);
	s = take(&h);
	assert_string_equal(s, "<a href=\"/r/-5\" title=\"&quot;&gt;&lt;script"
	    "&gt;\"> -1% 7 18446744073709551615 42</a>");
	free(s);
	/* a conversion html_fmt does not know fails the whole page */
	html_raw(&h, "<p>");
	html_fmt(&h, "%c", 'x');
	html_raw(&h, "more");
	assert_null(html_take(&h, &len));
	assert_int_equal(len, 0);
	/* and the buffer is usable again */
	html_raw(&h, "ok");
	s = take(&h);
	assert_string_equal(s, "ok");
	free(s);
}

static void
test_html_large(void **state)
{
	struct html h = { 0 };
	char *big = malloc(100001), *s;
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++)
		big[i] = "<a&"[i % 3];
	big[100000] = '\0';
	html_text(&h, big);
	s = take(&h);
	assert_int_equal(strlen(s), 100000 / 3 * (4 + 1 + 5) + 4);
	free(s);
	free(big);
	html_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded_login),
		cmocka_unit_test(test_urlencoded_shapes),
		cmocka_unit_test(test_urlencoded_refused),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_name_and_field_limits),
		cmocka_unit_test(test_multipart_chrome),
		cmocka_unit_test(test_multipart_truncated),
		cmocka_unit_test(test_multipart_curl_and_quoting),
		cmocka_unit_test(test_multipart_boundary),
		cmocka_unit_test(test_multipart_refused),
		cmocka_unit_test(test_text_utf8),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_cookie_limit),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_html_fmt),
		cmocka_unit_test(test_html_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
