/*
 * uri.h: PKCS#11 URIs (RFC 7512): parse, format, match.
 *
 * A URI names a module, a slot, a token and an object, for example
 *	pkcs11:token=Cairn%20Root;object=root-2026;id=%6e%0f...;type=private
 * Cairn prints such a URI for every key it makes and accepts one wherever
 * a key or a token is chosen.
 *
 * Decisions beyond the RFC (each enforced by tests/unit/test_uri.c):
 *  - `pin-value` is refused (CAIRN_E_URI_UNSUPPORTED): a PIN must never sit
 *    on a command line, in a shell history or in a config file.  Use
 *    `pin-source=file:/path`, --pin-file or CAIRN_PIN.
 *  - a path attribute Cairn does not know (including vendor attributes) is
 *    kept by name; per RFC 7512 section 2.5 such a URI matches nothing, and
 *    the "not found" message names the attribute.  Unknown query
 *    attributes are ignored, as the RFC asks.
 *  - a path or query attribute given twice is a syntax error.
 *  - `module-path` must be absolute.
 *  - values may not contain NUL (%00), except `id`, which is raw bytes.
 */
#ifndef CAIRN_P11_URI_H
#define CAIRN_P11_URI_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

enum cairn_p11_objtype {
	CAIRN_P11_TYPE_ANY = 0, /* no type= attribute */
	CAIRN_P11_TYPE_PUBLIC,
	CAIRN_P11_TYPE_PRIVATE,
	CAIRN_P11_TYPE_CERT,
	CAIRN_P11_TYPE_SECRET_KEY,
	CAIRN_P11_TYPE_DATA,
};

/*
 * A parsed URI.  A string member that is NULL was absent; "" was present
 * with an empty value (which matches only an empty field).
 */
struct cairn_p11_uri {
	/* token (CK_TOKEN_INFO) */
	char *token;         /* label */
	char *manufacturer;
	char *serial;
	char *model;
	/* library (CK_INFO) */
	char *lib_manufacturer;
	char *lib_description;
	int has_lib_version;
	unsigned lib_version_major, lib_version_minor;
	/* slot (CK_SLOT_INFO) */
	char *slot_description;
	char *slot_manufacturer;
	int has_slot_id;
	CK_SLOT_ID slot_id;
	/* object */
	char *object;        /* CKA_LABEL */
	int has_id;
	uint8_t *id;         /* CKA_ID; may be NULL with id_len 0 when "id=" */
	size_t id_len;
	enum cairn_p11_objtype type;
	/* query */
	char *pin_source;
	char *module_name;
	char *module_path;
	/* the first path attribute Cairn does not know, or NULL */
	char *unknown_attr;
};

/*
 * cairn_p11_uri_parse: parse `len` bytes of `s` (need not be NUL
 * terminated).  On success *out is a new URI to free with
 * cairn_p11_uri_free().  Errors: CAIRN_E_URI_SYNTAX (with the offset and
 * the rule broken), CAIRN_E_URI_UNSUPPORTED (pin-value), CAIRN_E_TOO_LARGE.
 */
int cairn_p11_uri_parse(const char *s, size_t len, struct cairn_p11_uri **out);

/* cairn_p11_uri_new: an empty URI ("pkcs11:"), or NULL without memory. */
struct cairn_p11_uri *cairn_p11_uri_new(void);

/* cairn_p11_uri_free: accepts NULL. */
void cairn_p11_uri_free(struct cairn_p11_uri *uri);

/*
 * cairn_p11_uri_format: the canonical text of `uri`: attributes in a fixed
 * order, every byte the component does not allow raw percent-encoded with
 * upper-case hex, `id` always fully encoded.  Parsing the result yields an
 * equal URI.  Returns a new string (free()), or NULL without memory or
 * when the text would be longer than CAIRN_URI_MAX (it is at most three
 * times the length of the text the URI was parsed from).
 */
char *cairn_p11_uri_format(const struct cairn_p11_uri *uri);

/* cairn_p11_uri_equal: 1 when both name exactly the same attributes. */
int cairn_p11_uri_equal(const struct cairn_p11_uri *a,
    const struct cairn_p11_uri *b);

/* cairn_p11_is_uri: 1 when `s` starts with "pkcs11:" (any case). */
int cairn_p11_is_uri(const char *s);

/* cairn_p11_objtype_name: "private", "public", ... or "any". */
const char *cairn_p11_objtype_name(enum cairn_p11_objtype t);

/*
 * Matching (RFC 7512 section 2.5): every attribute present in the URI must
 * equal the corresponding field; absent attributes match anything.
 * PKCS#11 pads its fixed-width strings with blanks; the comparison strips
 * them.  A URI with an unknown path attribute matches nothing.
 */
int cairn_p11_uri_match_library(const struct cairn_p11_uri *uri,
    const CK_INFO *info);
int cairn_p11_uri_match_slot(const struct cairn_p11_uri *uri, CK_SLOT_ID id,
    const CK_SLOT_INFO *info);
int cairn_p11_uri_match_token(const struct cairn_p11_uri *uri,
    const CK_TOKEN_INFO *info);

/*
 * cairn_p11_padded_str: copy a blank-padded PKCS#11 field of `width` bytes
 * into `out` (width+1 bytes) without the padding.  Returns out.
 */
char *cairn_p11_padded_str(char *out, const CK_UTF8CHAR *field, size_t width);

#endif /* CAIRN_P11_URI_H */
