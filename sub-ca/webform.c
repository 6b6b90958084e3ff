/*
 * webform.c: HTML form bodies and the Cookie header (see webform.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/webform.h"

#define URLENC "application/x-www-form-urlencoded"
#define MULTIPART "multipart/form-data"

void
webform_free(struct webform *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->f[i].value);
		free(f->f[i].filename);
	}
	free(f);
}

const struct webform_field *
webform_get(const struct webform *f, const char *name)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return &f->f[i];
	return NULL;
}

/* Is s[0..len) UTF-8 without NUL or control characters but \t \r \n? */
static int
text_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
			    c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			c &= 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		/* overlong, surrogates, beyond U+10FFFF, C1 controls */
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
		    (c >= 0x80 && c <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
webform_text(const struct webform *f, const char *name, const char **out)
{
	const struct webform_field *fl = webform_get(f, name);

	*out = NULL;
	if (fl == NULL)
		return cairn_error(CAIRN_E_NOT_FOUND, "the form has no field "
		    "\"%s\"", name);
	if (!text_ok(fl->value, fl->len))
		return cairn_error(CAIRN_E_INVAL, "form field \"%s\" is not "
		    "text (a NUL or control character, or not UTF-8)", name);
	*out = (const char *)fl->value;
	return 0;
}

static int
name_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Append a field; takes ownership of value (and filename) either way. */
static int
add_field(struct webform *f, const char *name, size_t namelen,
    uint8_t *value, size_t len, char *filename)
{
	struct webform_field *fl;
	size_t i;
	int r;

	if (namelen == 0 || namelen > CAIRN_WEBFORM_NAME_MAX) {
		r = cairn_error(CAIRN_E_INVAL, "form field %zu: a name of %zu "
		    "characters (want 1..%d)", f->n + 1, namelen,
		    CAIRN_WEBFORM_NAME_MAX);
		goto fail;
	}
	for (i = 0; i < namelen; i++)
		if (!name_char((unsigned char)name[i])) {
			r = cairn_error(CAIRN_E_INVAL, "form field %zu: the "
			    "name has a character outside [A-Za-z0-9_.-] at "
			    "offset %zu", f->n + 1, i);
			goto fail;
		}
	for (i = 0; i < f->n; i++)
		if (strlen(f->f[i].name) == namelen &&
		    memcmp(f->f[i].name, name, namelen) == 0) {
			r = cairn_error(CAIRN_E_INVAL, "form field \"%.*s\" is "
			    "sent twice", (int)namelen, name);
			goto fail;
		}
	if (f->n >= CAIRN_WEBFORM_FIELDS_MAX) {
		r = cairn_error(CAIRN_E_TOO_LARGE, "the form has more than %d "
		    "fields", CAIRN_WEBFORM_FIELDS_MAX);
		goto fail;
	}
	fl = &f->f[f->n++];
	memset(fl, 0, sizeof(*fl));
	memcpy(fl->name, name, namelen);
	fl->name[namelen] = '\0';
	fl->value = value;
	fl->len = len;
	fl->filename = filename;
	fl->is_file = filename != NULL;
	return 0;
fail:
	free(value);
	free(filename);
	return r;
}

/* Percent-decode s[0..len) ('+' is a space) into a new NUL-terminated
 * buffer; *outlen its length. */
static int
urldecode(const uint8_t *s, size_t len, size_t field, uint8_t **out,
    size_t *outlen)
{
	uint8_t *d;
	size_t i, n = 0;
	int hi, lo;

	*out = NULL;
	if ((d = malloc(len + 1)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			d[n++] = ' ';
		} else if (s[i] == '%') {
			if (len - i < 3 || (hi = cairn_hexdigit(s[i + 1])) < 0 ||
			    (lo = cairn_hexdigit(s[i + 2])) < 0) {
				free(d);
				return cairn_error(CAIRN_E_INVAL, "form field "
				    "%zu: '%%' not followed by two hex digits",
				    field);
			}
			d[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			d[n++] = s[i];
		}
	}
	d[n] = '\0';
	*out = d;
	*outlen = n;
	return 0;
}

static int
parse_urlencoded(const uint8_t *body, size_t len, struct webform *f)
{
	const uint8_t *p = body, *end = body + len, *amp, *eq;
	uint8_t *name = NULL, *value = NULL;
	size_t nlen, vlen, field = 0;
	int r;

	if (len == 0)
		return 0;
	for (;;) {
		field++;
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p)
			return cairn_error(CAIRN_E_INVAL, "form field %zu is "
			    "empty (\"&&\", or '&' at the start or the end)",
			    field);
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			return cairn_error(CAIRN_E_INVAL, "form field %zu has "
			    "no '='", field);
		if ((r = urldecode(p, (size_t)(eq - p), field, &name,
		    &nlen)) != 0)
			return r;
		if ((r = urldecode(eq + 1, (size_t)(amp - eq - 1), field,
		    &value, &vlen)) != 0) {
			free(name);
			return r;
		}
		r = add_field(f, (const char *)name, nlen, value, vlen, NULL);
		free(name);
		if (r != 0)
			return r;
		if (amp == end)
			return 0;
		p = amp + 1;
		if (p == end)
			return cairn_error(CAIRN_E_INVAL, "form field %zu is "
			    "empty (\"&&\", or '&' at the start or the end)",
			    field + 1);
	}
}

/* ---- multipart/form-data --------------------------------------------- */

/* RFC 2046 bchars, without the space (allowed inside, not at the end:
 * we take a quoted boundary with spaces, as the RFC does). */
static int
bchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("'()+_,-./:=?", c) != NULL;
}

static int
ws(int c)
{
	return c == ' ' || c == '\t';
}

/* The boundary parameter of a multipart Content-Type. */
static int
boundary_of(const char *ctype, char *out)
{
	const char *p = ctype + strlen(MULTIPART);
	size_t n = 0;
	int quoted;

	while (ws(*p))
		p++;
	if (*p != ';')
		return cairn_error(CAIRN_E_INVAL, "multipart/form-data without "
		    "a boundary parameter");
	p++;
	while (ws(*p))
		p++;
	if (strncasecmp(p, "boundary=", 9) != 0)
		return cairn_error(CAIRN_E_INVAL, "multipart/form-data: want "
		    "\"; boundary=...\" and no other parameter");
	p += 9;
	if ((quoted = *p == '"'))
		p++;
	while (*p != '\0' && *p != '"' && n <= CAIRN_WEBFORM_BOUNDARY_MAX) {
		if (!bchar((unsigned char)*p) && !(quoted && *p == ' '))
			break;
		out[n++] = *p++;
	}
	if (quoted) {
		if (*p != '"')
			return cairn_error(CAIRN_E_INVAL, "multipart boundary: "
			    "unterminated quote or a character outside RFC "
			    "2046 bchars");
		p++;
	}
	while (ws(*p))
		p++;
	if (*p != '\0' || n == 0 || n > CAIRN_WEBFORM_BOUNDARY_MAX ||
	    out[n - 1] == ' ')
		return cairn_error(CAIRN_E_INVAL, "multipart boundary: want "
		    "1..%d characters of RFC 2046 bchars, nothing after it",
		    CAIRN_WEBFORM_BOUNDARY_MAX);
	out[n] = '\0';
	return 0;
}

static const uint8_t *
find(const uint8_t *hay, size_t hlen, const void *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* A quoted-string as browsers write it in Content-Disposition (they
 * percent-encode '"', CR and LF: no backslash escapes).  *p is at the
 * opening quote; on return past the closing one.  The value is copied
 * into a new string. */
static int
quoted(const char **pp, const char *end, char **out, size_t part)
{
	const char *p = *pp + 1, *q;

	*out = NULL;
	if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
		return cairn_error(CAIRN_E_INVAL, "form part %zu: a quoted "
		    "value without its closing quote", part);
	/* part_headers() refused NUL bytes in the line already */
	if ((*out = strndup(p, (size_t)(q - p))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	*pp = q + 1;
	return 0;
}

/* Content-Disposition: form-data; name="x"[; filename="y"] */
static int
disposition(const char *v, const char *end, char **name, char **filename,
    size_t part)
{
	const char *p = v;
	char **dst;
	int r;

	if ((size_t)(end - p) < 9 || strncasecmp(p, "form-data", 9) != 0)
		return cairn_error(CAIRN_E_INVAL, "form part %zu: "
		    "Content-Disposition is not form-data", part);
	p += 9;
	for (;;) {
		while (p < end && ws(*p))
			p++;
		if (p == end)
			break;
		if (*p++ != ';')
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "Content-Disposition: want ';' between parameters",
			    part);
		while (p < end && ws(*p))
			p++;
		if ((size_t)(end - p) >= 5 && strncasecmp(p, "name=", 5) == 0) {
			dst = name;
			p += 5;
		} else if ((size_t)(end - p) >= 9 &&
		    strncasecmp(p, "filename=", 9) == 0) {
			dst = filename;
			p += 9;
		} else {
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "Content-Disposition: only name and filename are "
			    "accepted", part);
		}
		if (*dst != NULL)
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "Content-Disposition: a parameter given twice",
			    part);
		if (p == end || *p != '"')
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "Content-Disposition: want a quoted value", part);
		if ((r = quoted(&p, end, dst, part)) != 0)
			return r;
	}
	if (*name == NULL)
		return cairn_error(CAIRN_E_INVAL, "form part %zu: "
		    "Content-Disposition without a name", part);
	return 0;
}

/*
 * One part's headers, from p up to and including the empty line; *body
 * is where its content starts.
 */
static int
part_headers(const uint8_t *p, const uint8_t *end, size_t part, char **name,
    char **filename, char ctype[128], const uint8_t **body)
{
	const uint8_t *eol;
	const char *line, *colon, *v, *le;
	size_t llen;
	int r, have_ct = 0;

	for (;;) {
		eol = find(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "headers without their end (CRLF CRLF)", part);
		llen = (size_t)(eol - p);
		if (llen == 0) {
			*body = eol + 2;
			break;
		}
		if (llen > CAIRN_WEBFORM_PART_HEADER_MAX)
			return cairn_error(CAIRN_E_INVAL, "form part %zu: a "
			    "header over %d bytes", part,
			    CAIRN_WEBFORM_PART_HEADER_MAX);
		line = (const char *)p;
		le = line + llen;
		if (memchr(line, '\0', llen) != NULL)
			return cairn_error(CAIRN_E_INVAL, "form part %zu: a "
			    "NUL byte in a header", part);
		if ((colon = memchr(line, ':', llen)) == NULL)
			return cairn_error(CAIRN_E_INVAL, "form part %zu: a "
			    "header line without ':'", part);
		v = colon + 1;
		while (v < le && ws(*v))
			v++;
		while (le > v && ws(le[-1]))
			le--;
		if ((size_t)(colon - line) == 19 &&
		    strncasecmp(line, "Content-Disposition", 19) == 0) {
			if (*name != NULL)
				return cairn_error(CAIRN_E_INVAL, "form part "
				    "%zu: Content-Disposition twice", part);
			if ((r = disposition(v, le, name, filename,
			    part)) != 0)
				return r;
		} else if ((size_t)(colon - line) == 12 &&
		    strncasecmp(line, "Content-Type", 12) == 0) {
			if (have_ct++ || (size_t)(le - v) >= 128)
				return cairn_error(CAIRN_E_INVAL, "form part "
				    "%zu: Content-Type twice or over 127 "
				    "bytes", part);
			memcpy(ctype, v, (size_t)(le - v));
			ctype[le - v] = '\0';
		} else {
			return cairn_error(CAIRN_E_INVAL, "form part %zu: "
			    "header \"%.*s\" is not accepted (only "
			    "Content-Disposition and Content-Type)", part,
			    (int)((colon - line) > 40 ? 40 : colon - line),
			    line);
		}
		p = eol + 2;
	}
	if (*name == NULL)
		return cairn_error(CAIRN_E_INVAL, "form part %zu: no "
		    "Content-Disposition", part);
	return 0;
}

static int
parse_multipart(const char *ctype, const uint8_t *body, size_t len,
    struct webform *f)
{
	char b[CAIRN_WEBFORM_BOUNDARY_MAX + 1];
	char delim[CAIRN_WEBFORM_BOUNDARY_MAX + 5];
	const uint8_t *p = body, *end = body + len, *content = NULL, *next;
	char *name = NULL, *filename = NULL, pct[128];
	uint8_t *value;
	size_t blen, dlen, part = 0;
	int r;

	if ((r = boundary_of(ctype, b)) != 0)
		return r;
	blen = strlen(b);
	/* "\r\n--" boundary: what ends each part's content */
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", b);
	if (len < blen + 2 || memcmp(p, "--", 2) != 0 ||
	    memcmp(p + 2, b, blen) != 0)
		return cairn_error(CAIRN_E_INVAL, "multipart body: does not "
		    "start with the boundary");
	p += blen + 2;
	for (;;) {
		/* after a delimiter: "--" ends the body, CRLF starts a part */
		if (end - p >= 2 && memcmp(p, "--", 2) == 0) {
			p += 2;
			if (p == end || (end - p == 2 &&
			    memcmp(p, "\r\n", 2) == 0))
				break;
			return cairn_error(CAIRN_E_INVAL, "multipart body: "
			    "bytes after the closing boundary");
		}
		if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
			return cairn_error(CAIRN_E_INVAL, "multipart body: "
			    "want CRLF or \"--\" after boundary %zu", part + 1);
		p += 2;
		part++;
		name = filename = NULL;
		pct[0] = '\0';
		if ((r = part_headers(p, end, part, &name, &filename, pct,
		    &content)) != 0)
			goto fail;
		if ((next = find(content, (size_t)(end - content), delim,
		    dlen)) == NULL) {
			r = cairn_error(CAIRN_E_INVAL, "form part %zu: no "
			    "boundary after its content (truncated?)", part);
			goto fail;
		}
		if ((value = malloc((size_t)(next - content) + 1)) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(value, content, (size_t)(next - content));
		value[next - content] = '\0';
		r = add_field(f, name, strlen(name), value,
		    (size_t)(next - content), filename);
		filename = NULL;
		free(name);
		name = NULL;
		if (r != 0)
			return r;
		snprintf(f->f[f->n - 1].ctype, sizeof(f->f[0].ctype), "%s",
		    pct);
		p = next + dlen;
	}
	return 0;
fail:
	free(name);
	free(filename);
	return r;
}

/* Does `ctype` name media type `type` (case-insensitive), followed by
 * nothing or parameters? */
static int
is_type(const char *ctype, const char *type)
{
	size_t n = strlen(type);

	return strncasecmp(ctype, type, n) == 0 && (ctype[n] == '\0' ||
	    ctype[n] == ';' || ws(ctype[n]));
}

int
webform_parse(const char *ctype, const uint8_t *body, size_t len,
    struct webform **out)
{
	struct webform *f;
	int r;

	*out = NULL;
	if (ctype == NULL)
		return cairn_error(CAIRN_E_INVAL, "a form sent without a "
		    "Content-Type");
	if (len > CAIRN_HTTP_BODY_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "a form over %d bytes",
		    CAIRN_HTTP_BODY_MAX);
	if (body == NULL && len > 0)
		return cairn_error(CAIRN_E_INVAL, "no body");
	if (body == NULL)
		body = (const uint8_t *)"";  /* len is 0: nothing is read */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (is_type(ctype, URLENC)) {
		/* parameters (charset) ignored: browsers send UTF-8 */
		r = parse_urlencoded(body, len, f);
	} else if (is_type(ctype, MULTIPART)) {
		r = parse_multipart(ctype, body, len, f);
	} else {
		r = cairn_error(CAIRN_E_INVAL, "Content-Type \"%.60s\": want "
		    URLENC " or " MULTIPART, ctype);
	}
	if (r != 0) {
		webform_free(f);
		return r;
	}
	*out = f;
	return 0;
}

/* ---- Cookie ------------------------------------------------------------ */

/* RFC 6265 cookie-octet */
static int
cookie_octet(int c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
webform_cookie(const char *header, const char *name, char *out,
    size_t outlen)
{
	const char *p = header, *eq, *semi, *v;
	size_t nlen = strlen(name), vlen, i;
	int found = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (header == NULL)
		return cairn_error(CAIRN_E_NOT_FOUND, "no cookies");
	if (strnlen(header, CAIRN_HTTP_HEADER_MAX + 1) >
	    CAIRN_HTTP_HEADER_MAX)
		return cairn_error(CAIRN_E_INVAL, "a Cookie header over %d "
		    "bytes", CAIRN_HTTP_HEADER_MAX);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			v = eq + 1;
			vlen = (size_t)(semi - v);
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (found++)
				return cairn_error(CAIRN_E_INVAL, "cookie %s "
				    "is sent twice", name);
			if (vlen >= outlen)
				return cairn_error(CAIRN_E_INVAL, "cookie %s: "
				    "a value over %zu bytes", name,
				    outlen > 0 ? outlen - 1 : 0);
			for (i = 0; i < vlen; i++)
				if (!cookie_octet((unsigned char)v[i]))
					return cairn_error(CAIRN_E_INVAL,
					    "cookie %s: a character outside "
					    "RFC 6265 cookie-octets", name);
			memcpy(out, v, vlen);
			out[vlen] = '\0';
		}
		p = semi;
	}
	if (!found)
		return cairn_error(CAIRN_E_NOT_FOUND, "no cookie %s", name);
	return 0;
}
