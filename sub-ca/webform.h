/*
 * webform.h: what a browser sends the web enrollment pages: HTML form
 * bodies (application/x-www-form-urlencoded and multipart/form-data, the
 * latter for the CSR file upload) and the Cookie header.
 *
 * The bytes come from anyone who can reach the HTTPS port, before any
 * authentication, so this is a parser in the project's sense: bounded
 * (CAIRN_WEBFORM_* in lib/limits.h, and the body itself is at most
 * CAIRN_HTTP_BODY_MAX), strict (what a browser never sends is refused
 * with a message naming it, rather than guessed at), and it does nothing
 * but split and decode: what a field means is the page's business
 * (sub-ca/web.c).  Fuzzed by tests/fuzz/fuzz_webform.c.
 *
 * What is accepted, and why the rest is refused:
 *   - urlencoded (WHATWG URL "application/x-www-form-urlencoded"
 *     serializer): "name=value" pairs joined by '&'; '+' is a space and
 *     "%XX" a byte.  An empty body is a form with no fields.  Refused: an
 *     empty pair ("a=1&&b=2", a trailing '&'), a pair without '=', a '%'
 *     without two hex digits.
 *   - multipart/form-data (RFC 7578, with RFC 2046 bodies): the boundary
 *     from the Content-Type (1..70 characters of RFC 2046 bchars, quoted
 *     or not); the body starts with the first delimiter (browsers send no
 *     preamble) and ends with the close delimiter, optionally followed by
 *     CRLF; each part has a Content-Disposition "form-data" with a quoted
 *     name (and, for a file, a quoted filename) and optionally a
 *     Content-Type; any other part header or disposition parameter is
 *     refused (browsers send no others: RFC 7578 4.7 deprecates
 *     Content-Transfer-Encoding).
 *   - for both: field names are 1..CAIRN_WEBFORM_NAME_MAX characters of
 *     [A-Za-z0-9_.-] (our pages name their fields so); a name that comes
 *     twice is refused (no page takes a list, and "which one wins" is how
 *     parameter pollution starts); at most CAIRN_WEBFORM_FIELDS_MAX
 *     fields.  Values are bytes (an uploaded DER request holds NULs);
 *     webform_text() is the accessor for text fields.
 */
#ifndef CAIRN_WEBFORM_H
#define CAIRN_WEBFORM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/limits.h"

struct webform_field {
	char name[CAIRN_WEBFORM_NAME_MAX + 1];
	uint8_t *value;          /* len bytes and a NUL after them */
	size_t len;
	int is_file;             /* multipart part with a filename */
	char *filename;          /* as sent (may be ""), when is_file */
	char ctype[128];         /* the part's Content-Type, or "" */
};

struct webform {
	struct webform_field f[CAIRN_WEBFORM_FIELDS_MAX];
	size_t n;
};

/*
 * webform_parse: parse `len` bytes of `body` sent with Content-Type
 * `ctype` (NULL when the request had none).  Returns 0 and *out (new,
 * webform_free()), or with *out NULL:
 *   CAIRN_E_INVAL      a Content-Type that is neither form type, or a
 *                      body that breaks the rules above (the detail names
 *                      the rule and where: "form field 3: ...");
 *   CAIRN_E_TOO_LARGE  more than CAIRN_WEBFORM_FIELDS_MAX fields;
 *   CAIRN_E_NOMEM.
 */
int webform_parse(const char *ctype, const uint8_t *body, size_t len,
    struct webform **out);
void webform_free(struct webform *f);

/* webform_get: field `name` (borrowed), or NULL. */
const struct webform_field *webform_get(const struct webform *f,
    const char *name);

/*
 * webform_text: the value of text field `name` as a C string (borrowed).
 * 0; CAIRN_E_NOT_FOUND when the form has no such field; CAIRN_E_INVAL
 * when it holds a NUL byte, a control character other than tab, CR and
 * LF, or is not UTF-8 (what a text box never sends; shown to people and
 * written to the audit log, so refused here once).
 */
int webform_text(const struct webform *f, const char *name, const char **out);

/*
 * webform_cookie: the value of cookie `name` in a Cookie request header
 * ("a=1; b=2", RFC 6265 5.4), copied into `out` (`outlen` bytes with the
 * NUL).  0; CAIRN_E_NOT_FOUND when `header` is NULL or names no such
 * cookie; CAIRN_E_INVAL for a header over CAIRN_HTTP_HEADER_MAX, a value
 * that does not fit, or one with characters outside RFC 6265 cookie-octets
 * (ours are hex); CAIRN_E_INVAL too when the cookie is sent twice (a
 * second cookie of the same name comes from somewhere else: a sibling
 * host or a plain-HTTP page may have set it).
 */
int webform_cookie(const char *header, const char *name, char *out,
    size_t outlen);

#endif /* CAIRN_WEBFORM_H */
