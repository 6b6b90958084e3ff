/*
 * uri.c: PKCS#11 URIs (RFC 7512).
 *
 * Grammar (RFC 7512 section 2.3), the parts that decide what is accepted:
 *   pk11-URI       = "pkcs11:" pk11-path [ "?" pk11-query ]
 *   pk11-path      = [ pk11-pattr *(";" pk11-pattr) ]
 *   pk11-query     = [ pk11-qattr *("&" pk11-qattr) ]
 *   path value     = *( unreserved / pk11-path-res-avail / pct-encoded )
 *   query value    = *( unreserved / pk11-query-res-avail / pct-encoded )
 *   pk11-res-avail = ":" / "[" / "]" / "@" / "!" / "$" / "'" / "(" / ")"
 *                    / "*" / "+" / "," / "="
 *   pk11-path-res-avail  = pk11-res-avail / "&"
 *   pk11-query-res-avail = pk11-res-avail / "/" / "?" / "|"
 *   vendor attribute name = 1*( ALPHA / DIGIT / "-" / "_" )
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "pkcs11/uri.h"

enum attr_kind { K_STR, K_ID, K_TYPE, K_SLOT_ID, K_VERSION };

/* Every attribute Cairn knows, in the order cairn_p11_uri_format() writes. */
static const struct attr_def {
	const char *name;
	int query;             /* 1: query component, 0: path */
	enum attr_kind kind;
	size_t off;            /* offset of the char * member (K_STR) */
} attrs[] = {
#define S(n, q, m) { n, q, K_STR, offsetof(struct cairn_p11_uri, m) }
	S("token", 0, token),
	S("manufacturer", 0, manufacturer),
	S("serial", 0, serial),
	S("model", 0, model),
	S("library-manufacturer", 0, lib_manufacturer),
	S("library-description", 0, lib_description),
	{ "library-version", 0, K_VERSION, 0 },
	S("slot-description", 0, slot_description),
	S("slot-manufacturer", 0, slot_manufacturer),
	{ "slot-id", 0, K_SLOT_ID, 0 },
	S("object", 0, object),
	{ "id", 0, K_ID, 0 },
	{ "type", 0, K_TYPE, 0 },
	S("module-name", 1, module_name),
	S("module-path", 1, module_path),
	S("pin-source", 1, pin_source),
	{ "pin-value", 1, K_STR, (size_t)-1 },
#undef S
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

static const char *const type_names[] = {
	[CAIRN_P11_TYPE_ANY] = "any",
	[CAIRN_P11_TYPE_PUBLIC] = "public",
	[CAIRN_P11_TYPE_PRIVATE] = "private",
	[CAIRN_P11_TYPE_CERT] = "cert",
	[CAIRN_P11_TYPE_SECRET_KEY] = "secret-key",
	[CAIRN_P11_TYPE_DATA] = "data",
};

const char *
cairn_p11_objtype_name(enum cairn_p11_objtype t)
{
	if ((size_t)t < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[t];
	return "unknown";
}

/* ASCII only: isalnum() would follow the locale. */
static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int
is_res_avail(unsigned char c)
{
	return strchr(":[]@!$'()*+,=", c) != NULL && c != '\0';
}

static int
value_char_ok(unsigned char c, int query)
{
	if (is_unreserved(c) || is_res_avail(c))
		return 1;
	if (query)
		return c == '/' || c == '?' || c == '|';
	return c == '&';
}

struct cairn_p11_uri *
cairn_p11_uri_new(void)
{
	return calloc(1, sizeof(struct cairn_p11_uri));
}

static char **
str_member(struct cairn_p11_uri *uri, const struct attr_def *d)
{
	return (char **)(void *)((char *)uri + d->off);
}

static const char *const *
str_member_c(const struct cairn_p11_uri *uri, const struct attr_def *d)
{
	return (const char *const *)(const void *)((const char *)uri + d->off);
}

void
cairn_p11_uri_free(struct cairn_p11_uri *uri)
{
	size_t i;

	if (uri == NULL)
		return;
	for (i = 0; i < NATTRS; i++)
		if (attrs[i].kind == K_STR && attrs[i].off != (size_t)-1)
			free(*str_member(uri, &attrs[i]));
	free(uri->id);
	free(uri->unknown_attr);
	free(uri);
}

int
cairn_p11_is_uri(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

/*
 * Decode the value s[0..len) (at offset `off` of the URI, for messages)
 * into a new buffer of *outlen bytes plus a NUL.
 */
static int
decode_value(const char *s, size_t len, size_t off, int query,
    const char *name, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	size_t i, n = 0;
	int hi, lo;

	*out = NULL;
	*outlen = 0;
	if ((buf = malloc(len + 1)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (len - i < 3 ||
			    (hi = cairn_hexdigit((unsigned char)s[i + 1])) < 0 ||
			    (lo = cairn_hexdigit((unsigned char)s[i + 2])) < 0) {
				free(buf);
				return cairn_error(CAIRN_E_URI_SYNTAX,
				    "offset %zu: '%%' in the value of %s must be "
				    "followed by two hex digits (RFC 3986 "
				    "pct-encoded)", off + i, name);
			}
			buf[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
			continue;
		}
		if (!value_char_ok(c, query)) {
			free(buf);
			if (c >= 0x21 && c < 0x7f)
				return cairn_error(CAIRN_E_URI_SYNTAX,
				    "offset %zu: character '%c' is not allowed "
				    "in the %s value of %s; percent-encode it as "
				    "%%%02X (RFC 7512 section 2.3)", off + i, c,
				    query ? "query" : "path", name, c);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: byte 0x%02x is not allowed in the %s "
			    "value of %s; percent-encode it as %%%02X (RFC 7512 "
			    "section 2.3)", off + i, c,
			    query ? "query" : "path", name, c);
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	*out = buf; /* transferred */
	*outlen = n;
	return 0;
}

static int
parse_ulong(const uint8_t *v, size_t len, unsigned long max,
    unsigned long *out)
{
	unsigned long x = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (max - (unsigned long)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (unsigned long)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* Store one decoded attribute `d` into `uri`. */
static int
set_attr(struct cairn_p11_uri *uri, const struct attr_def *d, uint8_t *v,
    size_t vlen, size_t off)
{
	unsigned long a, b;
	const uint8_t *dot;
	size_t i;

	switch (d->kind) {
	case K_ID:
		if (vlen > CAIRN_P11_ID_MAX) {
			free(v);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: id of %zu bytes is longer than the "
			    "%d Cairn accepts", off, vlen, CAIRN_P11_ID_MAX);
		}
		uri->has_id = 1;
		if (vlen == 0) {
			free(v);
			return 0;
		}
		uri->id = v; /* transferred */
		uri->id_len = vlen;
		return 0;
	case K_TYPE:
		for (i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (strlen(type_names[i]) == vlen &&
			    memcmp(type_names[i], v, vlen) == 0) {
				uri->type = (enum cairn_p11_objtype)i;
				free(v);
				return 0;
			}
		free(v);
		return cairn_error(CAIRN_E_URI_SYNTAX,
		    "offset %zu: type must be one of public, private, cert, "
		    "secret-key, data (RFC 7512 section 2.3)", off);
	case K_SLOT_ID:
		if (parse_ulong(v, vlen, (unsigned long)-1, &a) != 0) {
			free(v);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: slot-id must be a decimal number that "
			    "fits a CK_SLOT_ID", off);
		}
		free(v);
		uri->has_slot_id = 1;
		uri->slot_id = a;
		return 0;
	case K_VERSION:
		dot = memchr(v, '.', vlen);
		if (parse_ulong(v, dot ? (size_t)(dot - v) : vlen, 255, &a) !=
		    0 ||
		    (dot != NULL &&
			parse_ulong(dot + 1, vlen - (size_t)(dot - v) - 1, 255,
			    &b) != 0)) {
			free(v);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: library-version must be MAJOR or "
			    "MAJOR.MINOR, each 0..255", off);
		}
		free(v);
		uri->has_lib_version = 1;
		uri->lib_version_major = (unsigned)a;
		uri->lib_version_minor = dot ? (unsigned)b : 0;
		return 0;
	case K_STR:
		if (memchr(v, '\0', vlen) != NULL) {
			free(v);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: the value of %s contains %%00; only id "
			    "may hold a NUL byte", off, d->name);
		}
		if (strcmp(d->name, "module-path") == 0 && v[0] != '/') {
			free(v);
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: module-path must be an absolute path "
			    "(RFC 7512 section 2.3)", off);
		}
		*str_member(uri, d) = (char *)v; /* transferred */
		return 0;
	}
	free(v);
	return cairn_error(CAIRN_E_INTERNAL, "unknown attribute kind");
}

static int
valid_attr_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/*
 * Parse the attributes of one component, s[pos..stop), separated by ';'
 * (path) or '&' (query), into `uri`.  `seen` collects names to refuse
 * repeats.
 */
/* An attribute name as it appears in the input, for repeat checks. */
struct seen_name {
	const char *p;
	size_t len;
	int query;
};

static int
parse_component(struct cairn_p11_uri *uri, const char *s, size_t pos,
    size_t stop, int query, struct seen_name *seen, size_t *nseen)
{
	const char sep = query ? '&' : ';';
	size_t end, nlen, vlen, i;
	const struct attr_def *d;
	const char *name, *eq;
	uint8_t *v;
	int r;

	if (pos == stop)
		return 0; /* empty component: "pkcs11:" or "pkcs11:?" */
	for (;; pos = end + 1) {
		for (end = pos; end < stop && s[end] != sep; end++)
			;
		if (end == pos)
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: empty attribute (stray '%c')", pos,
			    sep);
		name = s + pos;
		if ((eq = memchr(name, '=', end - pos)) == NULL)
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: attribute \"%.*s\" has no '=' (write "
			    "name=value)", pos, (int)(end - pos), name);
		nlen = (size_t)(eq - name);
		if (!valid_attr_name(name, nlen))
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: attribute name \"%.*s\" may hold only "
			    "letters, digits, '-' and '_'", pos, (int)nlen,
			    name);
		for (i = 0; i < *nseen; i++)
			if (seen[i].query == query && seen[i].len == nlen &&
			    memcmp(seen[i].p, name, nlen) == 0)
				return cairn_error(CAIRN_E_URI_SYNTAX,
				    "offset %zu: attribute %.*s appears twice",
				    pos, (int)nlen, name);
		if (*nseen == CAIRN_URI_ATTRS_MAX)
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: more than %d attributes", pos,
			    CAIRN_URI_ATTRS_MAX);
		d = NULL;
		for (i = 0; i < NATTRS; i++)
			if (strlen(attrs[i].name) == nlen &&
			    memcmp(attrs[i].name, name, nlen) == 0) {
				d = &attrs[i];
				break;
			}
		seen[*nseen].p = name;
		seen[*nseen].len = nlen;
		seen[*nseen].query = query;
		(*nseen)++;
		if (d != NULL && d->off == (size_t)-1)
			/* pin-value: refused wherever it stands, and its value
			 * is never even decoded. */
			return cairn_error(CAIRN_E_URI_UNSUPPORTED,
			    "pin-value in a PKCS#11 URI is refused: a PIN must "
			    "not appear on a command line or in a file that "
			    "names keys. Use pin-source=file:/path, --pin-file "
			    "FILE or the CAIRN_PIN environment variable");
		if (d != NULL && d->query != query)
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: %s belongs in the %s component "
			    "(RFC 7512 section 2.3)", pos, d->name,
			    d->query ? "query (after '?')" :
				       "path (before '?')");
		if ((r = decode_value(eq + 1, (size_t)(s + end - (eq + 1)),
		    (size_t)(eq + 1 - s), query,
		    d ? d->name : "a vendor attribute", &v, &vlen)) != 0)
			return r;
		if (d != NULL) {
			if ((r = set_attr(uri, d, v, vlen, pos)) != 0)
				return r;
		} else {
			/* Unknown path attribute: remember the first one's
			 * name, so that matching can refuse and say why.
			 * Unknown query attributes are ignored (RFC 7512
			 * section 2.5), but counted and checked for repeats
			 * like any other. */
			free(v);
			if (!query && uri->unknown_attr == NULL &&
			    (uri->unknown_attr = strndup(name, nlen)) == NULL)
				return cairn_error(CAIRN_E_NOMEM,
				    "out of memory");
		}
		if (end == stop)
			return 0;
		if (end + 1 == stop)
			return cairn_error(CAIRN_E_URI_SYNTAX,
			    "offset %zu: empty attribute (trailing '%c')", end,
			    sep);
	}
}

int
cairn_p11_uri_parse(const char *s, size_t len, struct cairn_p11_uri **out)
{
	struct cairn_p11_uri *uri = NULL;
	struct seen_name seen[CAIRN_URI_ATTRS_MAX];
	const char *nul, *q;
	size_t nseen = 0, qpos;
	int r;

	*out = NULL;
	if (len > CAIRN_URI_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE,
		    "PKCS#11 URI of %zu bytes is longer than the %d allowed",
		    len, CAIRN_URI_MAX);
	if (len < 7 || strncasecmp(s, "pkcs11:", 7) != 0)
		return cairn_error(CAIRN_E_URI_SYNTAX,
		    "a PKCS#11 URI starts with \"pkcs11:\"");
	if ((nul = memchr(s, '\0', len)) != NULL)
		return cairn_error(CAIRN_E_URI_SYNTAX,
		    "offset %zu: NUL byte in the URI", (size_t)(nul - s));
	if ((uri = cairn_p11_uri_new()) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");

	/* The first '?' ends the path; '?' may appear again in the query. */
	q = memchr(s + 7, '?', len - 7);
	qpos = q != NULL ? (size_t)(q - s) : len;
	if ((r = parse_component(uri, s, 7, qpos, 0, seen, &nseen)) != 0 ||
	    (q != NULL &&
		(r = parse_component(uri, s, qpos + 1, len, 1, seen, &nseen)) !=
		    0)) {
		cairn_p11_uri_free(uri);
		return r;
	}
	*out = uri; /* transferred */
	return 0;
}

/*
 * Append the value, percent-encoding every byte its component does not
 * allow raw (so "Snake Oil, Inc." keeps its comma), or every byte when
 * `force` (id: binary, always %XX).
 */
static int
append_enc(char **buf, size_t *len, size_t *cap, const uint8_t *v,
    size_t vlen, int query, int force)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < vlen; i++) {
		if (*cap - *len < 4) {
			size_t ncap = *cap * 2 + 64;
			char *nbuf = realloc(*buf, ncap);
			if (nbuf == NULL)
				return -1;
			*buf = nbuf;
			*cap = ncap;
		}
		if (!force && value_char_ok(v[i], query)) {
			(*buf)[(*len)++] = (char)v[i];
		} else {
			(*buf)[(*len)++] = '%';
			(*buf)[(*len)++] = hex[v[i] >> 4];
			(*buf)[(*len)++] = hex[v[i] & 0xf];
		}
	}
	(*buf)[*len] = '\0';
	return 0;
}

/* Append `n` bytes verbatim (separators and names). */
static int
append_raw(char **buf, size_t *len, size_t *cap, const char *v, size_t n)
{
	if (*cap - *len < n + 1) {
		size_t ncap = (*cap + n) * 2;
		char *nbuf = realloc(*buf, ncap);
		if (nbuf == NULL)
			return -1;
		*buf = nbuf;
		*cap = ncap;
	}
	memcpy(*buf + *len, v, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int
append_attr(char **buf, size_t *len, size_t *cap, int *nattr, int query,
    const char *name, const uint8_t *v, size_t vlen, int force)
{
	const char *sep = *nattr == 0 ? (query ? "?" : "") : (query ? "&" : ";");

	(*nattr)++;
	if (append_raw(buf, len, cap, sep, strlen(sep)) != 0 ||
	    append_raw(buf, len, cap, name, strlen(name)) != 0 ||
	    append_raw(buf, len, cap, "=", 1) != 0)
		return -1;
	return append_enc(buf, len, cap, v, vlen, query, force);
}

char *
cairn_p11_uri_format(const struct cairn_p11_uri *uri)
{
	char *buf, num[48];
	size_t len = 7, cap = 128, i;
	int npath = 0, nquery = 0, q;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	memcpy(buf, "pkcs11:", 8);
	for (q = 0; q <= 1; q++) {
		for (i = 0; i < NATTRS; i++) {
			const struct attr_def *d = &attrs[i];
			int *n = q ? &nquery : &npath;
			int rc = 0;

			if (d->query != q)
				continue;
			switch (d->kind) {
			case K_STR:
				if (d->off == (size_t)-1 ||
				    *str_member_c(uri, d) == NULL)
					continue;
				rc = append_attr(&buf, &len, &cap, n, q, d->name,
				    (const uint8_t *)*str_member_c(uri, d),
				    strlen(*str_member_c(uri, d)), 0);
				break;
			case K_ID:
				if (!uri->has_id)
					continue;
				rc = append_attr(&buf, &len, &cap, n, q, d->name,
				    uri->id, uri->id_len, 1);
				break;
			case K_TYPE:
				if (uri->type == CAIRN_P11_TYPE_ANY)
					continue;
				rc = append_attr(&buf, &len, &cap, n, q, d->name,
				    (const uint8_t *)type_names[uri->type],
				    strlen(type_names[uri->type]), 0);
				break;
			case K_SLOT_ID:
				if (!uri->has_slot_id)
					continue;
				snprintf(num, sizeof(num), "%lu",
				    (unsigned long)uri->slot_id);
				rc = append_attr(&buf, &len, &cap, n, q, d->name,
				    (const uint8_t *)num, strlen(num), 0);
				break;
			case K_VERSION:
				if (!uri->has_lib_version)
					continue;
				snprintf(num, sizeof(num), "%u.%u",
				    uri->lib_version_major,
				    uri->lib_version_minor);
				rc = append_attr(&buf, &len, &cap, n, q, d->name,
				    (const uint8_t *)num, strlen(num), 0);
				break;
			}
			if (rc != 0)
				goto nomem;
		}
		/* An unknown path attribute is kept (empty value) so that the
		 * formatted URI still matches nothing, as the parsed one. */
		if (!q && uri->unknown_attr != NULL &&
		    append_attr(&buf, &len, &cap, &npath, 0, uri->unknown_attr,
		    (const uint8_t *)"", 0, 0) != 0)
			goto nomem;
	}
	/* What we print must parse again. */
	if (len > CAIRN_URI_MAX)
		goto nomem;
	return buf;
nomem:
	free(buf);
	return NULL;
}

static int
streq_opt(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
cairn_p11_uri_equal(const struct cairn_p11_uri *a,
    const struct cairn_p11_uri *b)
{
	size_t i;

	for (i = 0; i < NATTRS; i++)
		if (attrs[i].kind == K_STR && attrs[i].off != (size_t)-1 &&
		    !streq_opt(*str_member_c(a, &attrs[i]),
		    *str_member_c(b, &attrs[i])))
			return 0;
	if (a->has_id != b->has_id || a->id_len != b->id_len ||
	    (a->id_len > 0 && memcmp(a->id, b->id, a->id_len) != 0))
		return 0;
	if (a->type != b->type || a->has_slot_id != b->has_slot_id ||
	    (a->has_slot_id && a->slot_id != b->slot_id))
		return 0;
	if (a->has_lib_version != b->has_lib_version ||
	    (a->has_lib_version &&
		(a->lib_version_major != b->lib_version_major ||
		    a->lib_version_minor != b->lib_version_minor)))
		return 0;
	return streq_opt(a->unknown_attr, b->unknown_attr);
}

char *
cairn_p11_padded_str(char *out, const CK_UTF8CHAR *field, size_t width)
{
	size_t n = width;

	memcpy(out, field, width);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
	return out;
}

/* 1 when the URI attribute `want` (NULL: absent) equals the padded field. */
static int
field_match(const char *want, const CK_UTF8CHAR *field, size_t width)
{
	char buf[256];

	if (want == NULL)
		return 1;
	cairn_p11_padded_str(buf, field, width);
	return strcmp(want, buf) == 0;
}

int
cairn_p11_uri_match_library(const struct cairn_p11_uri *uri,
    const CK_INFO *info)
{
	if (uri->unknown_attr != NULL)
		return 0;
	if (uri->has_lib_version &&
	    (info->libraryVersion.major != uri->lib_version_major ||
		info->libraryVersion.minor != uri->lib_version_minor))
		return 0;
	return field_match(uri->lib_manufacturer, info->manufacturerID,
		   sizeof(info->manufacturerID)) &&
	    field_match(uri->lib_description, info->libraryDescription,
		sizeof(info->libraryDescription));
}

int
cairn_p11_uri_match_slot(const struct cairn_p11_uri *uri, CK_SLOT_ID id,
    const CK_SLOT_INFO *info)
{
	if (uri->unknown_attr != NULL)
		return 0;
	if (uri->has_slot_id && uri->slot_id != id)
		return 0;
	return field_match(uri->slot_description, info->slotDescription,
		   sizeof(info->slotDescription)) &&
	    field_match(uri->slot_manufacturer, info->manufacturerID,
		sizeof(info->manufacturerID));
}

int
cairn_p11_uri_match_token(const struct cairn_p11_uri *uri,
    const CK_TOKEN_INFO *info)
{
	if (uri->unknown_attr != NULL)
		return 0;
	return field_match(uri->token, info->label, sizeof(info->label)) &&
	    field_match(uri->manufacturer, info->manufacturerID,
		sizeof(info->manufacturerID)) &&
	    field_match(uri->serial, info->serialNumber,
		sizeof(info->serialNumber)) &&
	    field_match(uri->model, info->model, sizeof(info->model));
}
