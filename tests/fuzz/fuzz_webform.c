/*
 * fuzz_webform.c: libFuzzer target for the web pages' form parser and
 * Cookie reader (sub-ca/webform.c) and the HTML escaping (sub-ca/html.c).
 *
 * Input: a Content-Type line, '\n', then the body (no newline in the
 * first 200 bytes: the whole input is an urlencoded body).  The parser
 * must neither crash, read past the body, leak, nor hold anything but
 * what webform.h promises: at most CAIRN_WEBFORM_FIELDS_MAX fields with
 * distinct well-formed names, each value NUL-terminated.  What it accepts
 * must survive a round trip (encoded again, urlencoded and as multipart
 * with a boundary of our own, it parses to the same fields), and every
 * value, escaped as HTML, must hold no markup character and be text that
 * webform_text() accepts.  The Content-Type line is also read as a Cookie
 * header.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/html.h"
#include "sub-ca/webform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define URLENC "application/x-www-form-urlencoded"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
pct(struct buf *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == '_') {
			put(b, &s[i], 1);
		} else if (s[i] == ' ') {
			put(b, "+", 1);
		} else {
			e[0] = '%';
			e[1] = hex[s[i] >> 4];
			e[2] = hex[s[i] & 15];
			put(b, e, 3);
		}
	}
}

static int
same(const struct webform *a, const struct webform *b, int with_files)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct webform_field *x = &a->f[i], *y = &b->f[i];

		if (strcmp(x->name, y->name) != 0 || x->len != y->len ||
		    memcmp(x->value, y->value, x->len) != 0)
			return 0;
		if (with_files && (x->is_file != y->is_file ||
		    strcmp(x->ctype, y->ctype) != 0 || (x->is_file &&
		    strcmp(x->filename, y->filename) != 0)))
			return 0;
	}
	return 1;
}

static int
occurs(const struct webform *f, const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < f->n; i++)
		if (memmem(f->f[i].value, f->f[i].len, s, n) != NULL ||
		    (f->f[i].filename != NULL && strstr(f->f[i].filename,
		    s) != NULL) || strstr(f->f[i].ctype, s) != NULL)
			return 1;
	return 0;
}

static void
check_fields(const struct webform *f)
{
	size_t i, j, k;
	const char *s;

	if (f->n > CAIRN_WEBFORM_FIELDS_MAX)
		abort();
	for (i = 0; i < f->n; i++) {
		const struct webform_field *x = &f->f[i];
		size_t nl = strlen(x->name);

		if (nl == 0 || nl > CAIRN_WEBFORM_NAME_MAX ||
		    x->value[x->len] != 0 || (x->is_file != (x->filename !=
		    NULL)))
			abort();
		for (k = 0; k < nl; k++)
			if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"
			    "LMNOPQRSTUVWXYZ0123456789_.-", x->name[k]) ==
			    NULL)
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(f->f[j].name, x->name) == 0)
				abort();
		if (webform_get(f, x->name) != x)
			abort();
		if (webform_text(f, x->name, &s) == 0 &&
		    (s != (const char *)x->value || strlen(s) != x->len))
			abort();
	}
}

/* Escaped, a value holds no markup, and is text. */
static void
check_html(const struct webform_field *x)
{
	struct html h = { 0 };
	struct buf b = { 0 };
	struct webform *g = NULL;
	const char *s;
	char *out;
	size_t len, i;

	html_textn(&h, (const char *)x->value, x->len);
	if ((out = html_take(&h, &len)) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (strchr("<>\"'", out[i]) != NULL || out[i] == '\0')
			abort();
		if (out[i] == '&' && strncmp(out + i, "&amp;", 5) != 0 &&
		    strncmp(out + i, "&lt;", 4) != 0 &&
		    strncmp(out + i, "&gt;", 4) != 0 &&
		    strncmp(out + i, "&quot;", 6) != 0 &&
		    strncmp(out + i, "&#39;", 5) != 0)
			abort();
	}
	puts_(&b, "v=");
	pct(&b, (const uint8_t *)out, len);
	if (b.len <= CAIRN_HTTP_BODY_MAX) {
		if (webform_parse(URLENC, b.p, b.len, &g) != 0 ||
		    webform_text(g, "v", &s) != 0 || strcmp(s, out) != 0)
			abort();
		webform_free(g);
	}
	free(b.p);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
	char ctype[201], cookie[65], bnd[40];
	struct webform *f = NULL, *g = NULL;
	struct buf b = { 0 };
	const uint8_t *body = data;
	uint8_t *copy;
	size_t blen = size, i;
	int r, n = 0;

	if (nl != NULL) {
		memcpy(ctype, data, (size_t)(nl - data));
		ctype[nl - data] = '\0';
		body = nl + 1;
		blen = size - (size_t)(nl - data) - 1;
	} else {
		strcpy(ctype, URLENC);
	}
	if (webform_cookie(ctype, "a", cookie, sizeof(cookie)) == 0 &&
	    strlen(cookie) >= sizeof(cookie))
		abort();
	/* Exactly blen bytes, no NUL after them: ASan sees an over-read. */
	if ((copy = malloc(blen > 0 ? blen : 1)) == NULL)
		return 0;
	memcpy(copy, body, blen);
	r = webform_parse(ctype, copy, blen, &f);
	free(copy);
	if (r != 0) {
		if (f != NULL)
			abort();
		return 0;
	}
	check_fields(f);
	for (i = 0; i < f->n; i++)
		check_html(&f->f[i]);

	/* urlencoded again: the same names and values */
	for (i = 0; i < f->n; i++) {
		if (i > 0)
			puts_(&b, "&");
		pct(&b, (const uint8_t *)f->f[i].name, strlen(f->f[i].name));
		puts_(&b, "=");
		pct(&b, f->f[i].value, f->f[i].len);
	}
	if (b.len <= CAIRN_HTTP_BODY_MAX) {
		if (webform_parse(URLENC, b.p, b.len, &g) != 0 ||
		    !same(f, g, 0))
			abort();
		webform_free(g);
		g = NULL;
	}

	/* multipart again, with a boundary no field holds */
	do
		snprintf(bnd, sizeof(bnd), "cairnFuzz%d", n++);
	while (occurs(f, bnd));
	b.len = 0;
	for (i = 0; i < f->n; i++) {
		const struct webform_field *x = &f->f[i];

		puts_(&b, "--");
		puts_(&b, bnd);
		puts_(&b, "\r\nContent-Disposition: form-data; name=\"");
		puts_(&b, x->name);
		puts_(&b, "\"");
		if (x->is_file) {
			puts_(&b, "; filename=\"");
			puts_(&b, x->filename);
			puts_(&b, "\"");
		}
		puts_(&b, "\r\n");
		if (x->ctype[0] != '\0') {
			puts_(&b, "Content-Type: ");
			puts_(&b, x->ctype);
			puts_(&b, "\r\n");
		}
		puts_(&b, "\r\n");
		put(&b, x->value, x->len);
		puts_(&b, "\r\n");
	}
	puts_(&b, "--");
	puts_(&b, bnd);
	puts_(&b, "--\r\n");
	snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s",
	    bnd);
	/* A filename or Content-Type too long for a header line, or one a
	 * header cannot carry, is refused; anything else must come back. */
	r = b.len <= CAIRN_HTTP_BODY_MAX ?
	    webform_parse(ctype, b.p, b.len, &g) : -1;
	if (r == 0 && !same(f, g, 1))
		abort();
	if (r != 0 && b.len <= CAIRN_HTTP_BODY_MAX) {
		int fits = 1;

		for (i = 0; i < f->n; i++)
			if ((f->f[i].filename != NULL &&
			    strlen(f->f[i].filename) > 900))
				fits = 0;
		if (fits)
			abort();
	}
	webform_free(g);
	webform_free(f);
	free(b.p);
	cairn_error_clear();
	return 0;
}
