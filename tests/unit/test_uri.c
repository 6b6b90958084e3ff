/*
 * test_uri.c: PKCS#11 URIs (RFC 7512) in pkcs11/uri.c.
 *
 * A URI is how an operator names a token and a key, so the parser is the
 * first code to see text typed by a person or pasted from a file.  These
 * tests pin down what is accepted (every RFC 7512 example Cairn supports,
 * decoded field by field), what is refused, with which code and with a
 * message that points at the offending offset or attribute, that format()
 * and parse() are inverses, and how a URI matches the blank-padded
 * structures a PKCS#11 module returns.
 *
 * Every parse goes through an exact-size heap copy of the input, never a
 * NUL-terminated literal, so that an over-read past `len` is visible to
 * valgrind or ASan rather than hidden by the terminator.
 */
#include "config.h"

#include <limits.h>
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
#include "pkcs11/uri.h"

/* parse() must overwrite *out even on failure; start from a non-NULL. */
static struct cairn_p11_uri poison;

/* Parse s[0..len) from an exact-size heap copy (see the top comment). */
static int
parse_n(const char *s, size_t len, struct cairn_p11_uri **out)
{
	char *buf;
	int r;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, s, len);
	*out = &poison;
	r = cairn_p11_uri_parse(buf, len, out);
	free(buf);
	return r;
}

static struct cairn_p11_uri *
parse_ok_n(const char *s, size_t len)
{
	struct cairn_p11_uri *u;
	int r;

	if ((r = parse_n(s, len, &u)) != 0)
		fail_msg("parse \"%.*s\": %s: %s", (int)len, s,
		    cairn_errname(r), cairn_errmsg(r));
	if (u == NULL || u == &poison)
		fail_msg("parse \"%.*s\": success without a URI", (int)len, s);
	return u;
}

static struct cairn_p11_uri *
parse_ok(const char *s)
{
	return parse_ok_n(s, strlen(s));
}

/*
 * Expect parse() to fail with `want`, leave *out NULL, and say `needle`
 * (typically "offset N" or the attribute's name) in its message.  `what`
 * names the case in a failure report, for inputs that do not print.
 */
static void
fail_n(const char *what, const char *s, size_t len, int want,
    const char *needle)
{
	struct cairn_p11_uri *u;
	const char *msg;
	int r;

	r = parse_n(s, len, &u);
	if (r == 0) {
		if (u != &poison)
			cairn_p11_uri_free(u);
		fail_msg("%s: accepted, want %s", what, cairn_errname(want));
	}
	msg = cairn_errmsg(r);
	if (r != want)
		fail_msg("%s: got %s (%s), want %s", what, cairn_errname(r),
		    msg, cairn_errname(want));
	if (u != NULL)
		fail_msg("%s: *out is not NULL after a failure", what);
	if (needle != NULL && strstr(msg, needle) == NULL)
		fail_msg("%s: message \"%s\" does not mention \"%s\"", what,
		    msg, needle);
}

static void
fail_s(const char *s, int want, const char *needle)
{
	fail_n(s, s, strlen(s), want, needle);
}

/* NULL `want` means the attribute must be absent. */
static void
expect_str(const char *uri, const char *field, const char *got,
    const char *want)
{
	if (want == NULL && got != NULL)
		fail_msg("%s: %s is \"%s\", want absent", uri, field, got);
	if (want != NULL && got == NULL)
		fail_msg("%s: %s is absent, want \"%s\"", uri, field, want);
	if (want != NULL && strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", want \"%s\"", uri, field, got,
		    want);
}

/*
 * ---- RFC 7512 section 3 examples ----
 *
 * Each example with every field of the result spelled out: a field not
 * named in the table must come out absent (NULL, 0), so an attribute that
 * lands in the wrong member is caught too.
 */
struct want {
	const char *uri;
	const char *token, *manufacturer, *serial, *model;
	const char *lib_manufacturer, *lib_description;
	int has_lib_version;
	unsigned lib_major, lib_minor;
	const char *slot_description, *slot_manufacturer;
	int has_slot_id;
	unsigned long slot_id;
	const char *object;
	int has_id;
	const char *id;
	size_t id_len;
	enum cairn_p11_objtype type;
	const char *pin_source, *module_name, *module_path;
	const char *unknown_attr;
};

static const struct want rfc_examples[] = {
	{ .uri = "pkcs11:" },
	{
	    .uri = "pkcs11:object=my-pubkey;type=public",
	    .object = "my-pubkey",
	    .type = CAIRN_P11_TYPE_PUBLIC,
	},
	{
	    .uri = "pkcs11:object=my-key;type=private"
		   "?pin-source=file:/etc/token",
	    .object = "my-key",
	    .type = CAIRN_P11_TYPE_PRIVATE,
	    .pin_source = "file:/etc/token",
	},
	{
	    .uri = "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;"
		   "manufacturer=Snake%20Oil,%20Inc.;model=1.0;"
		   "object=my-certificate;type=cert;"
		   "id=%69%95%3E%5C%F4%BD%EC%91;serial="
		   "?pin-source=file:/etc/token_pin",
	    .token = "The Software PKCS#11 Softtoken",
	    .manufacturer = "Snake Oil, Inc.",
	    .model = "1.0",
	    .object = "my-certificate",
	    .type = CAIRN_P11_TYPE_CERT,
	    .has_id = 1,
	    .id = "\x69\x95\x3E\x5C\xF4\xBD\xEC\x91",
	    .id_len = 8,
	    .serial = "", /* present and empty: matches only an empty serial */
	    .pin_source = "file:/etc/token_pin",
	},
	{
	    .uri = "pkcs11:object=my-sign-key;type=private"
		   "?module-name=mypkcs11",
	    .object = "my-sign-key",
	    .type = CAIRN_P11_TYPE_PRIVATE,
	    .module_name = "mypkcs11",
	},
	{
	    .uri = "pkcs11:object=my-sign-key;type=private"
		   "?module-path=/mnt/libmypkcs11.so.1",
	    .object = "my-sign-key",
	    .type = CAIRN_P11_TYPE_PRIVATE,
	    .module_path = "/mnt/libmypkcs11.so.1",
	},
	{
	    .uri = "pkcs11:slot-description=Sun%20Metaslot",
	    .slot_description = "Sun Metaslot",
	},
	{
	    .uri = "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
		   "library-description=Soft%20Token%20Library;"
		   "library-version=1.23",
	    .lib_manufacturer = "Snake Oil, Inc.",
	    .lib_description = "Soft Token Library",
	    .has_lib_version = 1,
	    .lib_major = 1,
	    .lib_minor = 23,
	},
	{
	    /* lower- and mixed-case hex in id */
	    .uri = "pkcs11:token=My%20token%25%20created%20by%20Joe;"
		   "library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
	    .token = "My token% created by Joe",
	    .has_lib_version = 1,
	    .lib_major = 3,
	    .lib_minor = 0,
	    .has_id = 1,
	    .id = "\x01\x02\x03\xBA\xDD\xCA\xFE\x04\x05\x06",
	    .id_len = 10,
	},
	{
	    .uri = "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;"
		   "object=my-certificate;type=cert",
	    .token = "A name with a substring %;",
	    .object = "my-certificate",
	    .type = CAIRN_P11_TYPE_CERT,
	},
	{
	    .uri = "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:"
		   "%20%C3%A1;object=my-certificate;type=cert",
	    .token = "Name with a small A with acute: \xC3\xA1",
	    .object = "my-certificate",
	    .type = CAIRN_P11_TYPE_CERT,
	},
	{
	    /* vendor-aaa kept (matches nothing); vendor-bbb ignored */
	    .uri = "pkcs11:token=my-token;object=my-certificate;type=cert;"
		   "vendor-aaa=value-a"
		   "?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
	    .token = "my-token",
	    .object = "my-certificate",
	    .type = CAIRN_P11_TYPE_CERT,
	    .pin_source = "file:/etc/token_pin",
	    .unknown_attr = "vendor-aaa",
	},
};

static void
check_want(const struct cairn_p11_uri *u, const struct want *w)
{
	const char *s = w->uri;

	expect_str(s, "token", u->token, w->token);
	expect_str(s, "manufacturer", u->manufacturer, w->manufacturer);
	expect_str(s, "serial", u->serial, w->serial);
	expect_str(s, "model", u->model, w->model);
	expect_str(s, "library-manufacturer", u->lib_manufacturer,
	    w->lib_manufacturer);
	expect_str(s, "library-description", u->lib_description,
	    w->lib_description);
	expect_str(s, "slot-description", u->slot_description,
	    w->slot_description);
	expect_str(s, "slot-manufacturer", u->slot_manufacturer,
	    w->slot_manufacturer);
	expect_str(s, "object", u->object, w->object);
	expect_str(s, "pin-source", u->pin_source, w->pin_source);
	expect_str(s, "module-name", u->module_name, w->module_name);
	expect_str(s, "module-path", u->module_path, w->module_path);
	expect_str(s, "unknown_attr", u->unknown_attr, w->unknown_attr);
	if (u->has_lib_version != w->has_lib_version ||
	    (w->has_lib_version && (u->lib_version_major != w->lib_major ||
	    u->lib_version_minor != w->lib_minor)))
		fail_msg("%s: library-version %d %u.%u, want %d %u.%u", s,
		    u->has_lib_version, u->lib_version_major,
		    u->lib_version_minor, w->has_lib_version, w->lib_major,
		    w->lib_minor);
	if (u->has_slot_id != w->has_slot_id ||
	    (w->has_slot_id && u->slot_id != w->slot_id))
		fail_msg("%s: slot-id %d %lu, want %d %lu", s, u->has_slot_id,
		    (unsigned long)u->slot_id, w->has_slot_id, w->slot_id);
	if (u->has_id != w->has_id || u->id_len != w->id_len ||
	    (w->id_len > 0 && memcmp(u->id, w->id, w->id_len) != 0))
		fail_msg("%s: id differs (has_id %d, %zu bytes)", s, u->has_id,
		    u->id_len);
	if (u->type != w->type)
		fail_msg("%s: type %s, want %s", s,
		    cairn_p11_objtype_name(u->type),
		    cairn_p11_objtype_name(w->type));
}

static void
test_rfc_examples(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc_examples) / sizeof(rfc_examples[0]); i++) {
		struct cairn_p11_uri *u = parse_ok(rfc_examples[i].uri);

		check_want(u, &rfc_examples[i]);
		cairn_p11_uri_free(u);
	}
}

static void
test_rfc_pin_value(void **state)
{
	static const char uri[] = "pkcs11:token=Software%20PKCS%2311%20"
				  "softtoken;manufacturer=Snake%20Oil,%20Inc."
				  "?pin-value=the-pin";
	struct cairn_p11_uri *u;
	int r;

	(void)state;
	fail_s(uri, CAIRN_E_URI_UNSUPPORTED, "pin-value");
	/* The refusal must not repeat the PIN it refuses. */
	r = parse_n(uri, strlen(uri), &u);
	assert_int_equal(r, CAIRN_E_URI_UNSUPPORTED);
	assert_null(strstr(cairn_errmsg(r), "the-pin"));
	/* Refused wherever it sits in the query, alone or not. */
	fail_s("pkcs11:?pin-value=1234", CAIRN_E_URI_UNSUPPORTED, "pin-value");
	fail_s("pkcs11:?pin-source=file:/x&pin-value=1234",
	    CAIRN_E_URI_UNSUPPORTED, "pin-value");
}

/* ---- percent-encoding ---- */

static const char hexdig[] = "0123456789ABCDEF";
static const char hexlow[] = "0123456789abcdef";

/* Append "%XX" for each byte of v to p; returns the new end. */
static char *
put_pct(char *p, const uint8_t *v, size_t n, const char *digits)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*p++ = '%';
		*p++ = digits[v[i] >> 4];
		*p++ = digits[v[i] & 0xf];
	}
	*p = '\0';
	return p;
}

static void
test_pct_every_byte(void **state)
{
	const char *digits[] = { hexdig, hexlow };
	uint8_t all[255];
	char uri[32 + 3 * sizeof(all)], *p;
	struct cairn_p11_uri *u;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i + 1);
	for (k = 0; k < 2; k++) {
		p = uri + sprintf(uri, "pkcs11:token=");
		put_pct(p, all, sizeof(all), digits[k]);
		u = parse_ok(uri);
		assert_non_null(u->token);
		assert_int_equal(strlen(u->token), sizeof(all));
		assert_memory_equal(u->token, all, sizeof(all));
		cairn_p11_uri_free(u);
	}
	/* The same in a query value, where the raw set differs. */
	p = uri + sprintf(uri, "pkcs11:?pin-source=");
	put_pct(p, all, sizeof(all), hexdig);
	u = parse_ok(uri);
	assert_int_equal(strlen(u->pin_source), sizeof(all));
	assert_memory_equal(u->pin_source, all, sizeof(all));
	cairn_p11_uri_free(u);
}

static void
test_pct_malformed(void **state)
{
	static const struct {
		const char *uri, *needle;
	} bad[] = {
		{ "pkcs11:token=a%", "offset 14:" },
		{ "pkcs11:token=%", "offset 13:" },
		{ "pkcs11:token=%4", "offset 13:" },
		{ "pkcs11:token=%zz", "offset 13:" },
		{ "pkcs11:token=%G0", "offset 13:" },
		{ "pkcs11:token=%0G", "offset 13:" },
		{ "pkcs11:token=ab%4;object=x", "offset 15:" },
		{ "pkcs11:id=%4", "offset 10:" },
		{ "pkcs11:?pin-source=file:%2", "offset 24:" },
		{ "pkcs11:?pin-source=%%41", "offset 19:" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail_s(bad[i].uri, CAIRN_E_URI_SYNTAX, bad[i].needle);
}

/* The characters RFC 7512 allows raw in a value besides "unreserved". */
#define PATH_RAW ":[]@!$'()*+,=&"
#define QUERY_RAW ":[]@!$'()*+,=/?|"

static int
is_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * Every byte 0x00..0xff between "a" and "b" in a path value, then in a
 * query value: accepted exactly when the grammar allows it raw, and then
 * decoded to itself.  ';', '?' and '&' end the value instead, so those
 * fail on the attribute that follows ("b" has no '=').
 */
static void
test_raw_bytes_exhaustive(void **state)
{
	static const char path[] = "pkcs11:token=a";   /* byte at 14 */
	static const char query[] = "pkcs11:?pin-source=a"; /* at 20 */
	char uri[64], what[64], needle[32], val[4];
	struct cairn_p11_uri *u;
	size_t len, at;
	int c, q, ok;

	(void)state;
	for (q = 0; q <= 1; q++) {
		for (c = 0; c <= 0xff; c++) {
			const char *pre = q ? query : path;

			len = strlen(pre);
			at = len;
			memcpy(uri, pre, len);
			uri[len++] = (char)c;
			uri[len++] = 'b';
			snprintf(what, sizeof(what),
			    "%s value with byte 0x%02x", q ? "query" : "path",
			    c);
			ok = c != 0 && (is_unreserved(c) ||
			    strchr(q ? QUERY_RAW : PATH_RAW, c) != NULL);
			if (ok) {
				u = parse_ok_n(uri, len);
				val[0] = 'a';
				val[1] = (char)c;
				val[2] = 'b';
				val[3] = '\0';
				expect_str(what, "value",
				    q ? u->pin_source : u->token, val);
				cairn_p11_uri_free(u);
				continue;
			}
			if (c == (q ? '&' : ';') || (!q && c == '?'))
				at++; /* the separator ended the value */
			snprintf(needle, sizeof(needle), "offset %zu:", at);
			fail_n(what, uri, len, CAIRN_E_URI_SYNTAX, needle);
		}
	}
}

/* The characters called out in the brief, with the message they get. */
static void
test_raw_chars_named(void **state)
{
	static const struct {
		const char *uri, *needle;
	} bad[] = {
		{ "pkcs11:token=a b", "offset 14: byte 0x20" },
		{ "pkcs11:token=a\"b", "offset 14: character '\"'" },
		{ "pkcs11:token=a<b", "offset 14: character '<'" },
		{ "pkcs11:token=a>b", "offset 14: character '>'" },
		{ "pkcs11:token=a\\b", "offset 14: character '\\'" },
		{ "pkcs11:token=a^b", "offset 14: character '^'" },
		{ "pkcs11:token=a`b", "offset 14: character '`'" },
		{ "pkcs11:token=a{b", "offset 14: character '{'" },
		{ "pkcs11:token=a}b", "offset 14: character '}'" },
		{ "pkcs11:token=a#b", "offset 14: character '#'" },
		{ "pkcs11:token=a\x80" "b", "offset 14: byte 0x80" },
		{ "pkcs11:token=a\xc3\xa1", "offset 14: byte 0xc3" },
		{ "pkcs11:token=a|b", "offset 14: character '|'" },
		/* '/' is for the query only */
		{ "pkcs11:object=a/b", "offset 15: character '/'" },
		/* a '?' ends the path: "b" is then a query attribute */
		{ "pkcs11:token=a?b", "offset 15: attribute \"b\" has no '='" },
		/* ';' separates query attributes only in the path */
		{ "pkcs11:?pin-source=a;b", "offset 20: character ';'" },
		{ "pkcs11:?pin-source=a b", "offset 20: byte 0x20" },
		{ "pkcs11:?pin-source=a#b", "offset 20: character '#'" },
		{ "pkcs11:?module-name=a\"b", "offset 21: character '\"'" },
	};
	static const struct {
		const char *uri, *token, *pin_source;
	} good[] = {
		{ "pkcs11:token=a&b", "a&b", NULL },
		{ "pkcs11:token=a=b", "a=b", NULL },
		{ "pkcs11:token=" PATH_RAW, PATH_RAW, NULL },
		{ "pkcs11:?pin-source=file:/a/b", NULL, "file:/a/b" },
		{ "pkcs11:?pin-source=a?b", NULL, "a?b" },
		{ "pkcs11:?pin-source=a|b", NULL, "a|b" },
		{ "pkcs11:?pin-source=" QUERY_RAW, NULL, QUERY_RAW },
	};
	struct cairn_p11_uri *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail_s(bad[i].uri, CAIRN_E_URI_SYNTAX, bad[i].needle);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		u = parse_ok(good[i].uri);
		expect_str(good[i].uri, "token", u->token, good[i].token);
		expect_str(good[i].uri, "pin-source", u->pin_source,
		    good[i].pin_source);
		cairn_p11_uri_free(u);
	}
}

/* ---- attribute names ---- */

static void
test_unknown_attrs(void **state)
{
	static const struct {
		const char *uri, *needle;
	} bad[] = {
		{ "pkcs11:to.ken=x", "attribute name \"to.ken\"" },
		{ "pkcs11:=x", "offset 7: attribute name \"\"" },
		{ "pkcs11:token=a;t%6Fken=x", "attribute name \"t%6Fken\"" },
		{ "pkcs11:vendor:aaa=x", "attribute name \"vendor:aaa\"" },
		{ "pkcs11:?vendor.bbb=x", "attribute name \"vendor.bbb\"" },
		{ "pkcs11:?=x", "offset 8: attribute name \"\"" },
		/* known attributes in the wrong component */
		{ "pkcs11:pin-source=file:/x",
		    "pin-source belongs in the query" },
		{ "pkcs11:module-path=/x.so",
		    "module-path belongs in the query" },
		{ "pkcs11:?token=x", "token belongs in the path" },
		{ "pkcs11:?id=%01", "id belongs in the path" },
		/* an unknown attribute's value obeys the grammar too */
		{ "pkcs11:vendor-aaa=a b", "offset 19: byte 0x20" },
		{ "pkcs11:?vendor-bbb=a%zz", "offset 20:" },
	};
	struct cairn_p11_uri *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail_s(bad[i].uri, CAIRN_E_URI_SYNTAX, bad[i].needle);

	/* A path vendor attribute: kept by (first) name. */
	u = parse_ok("pkcs11:token=t;vendor-aaa=value-a;x_y-2=z");
	expect_str("path vendor", "unknown_attr", u->unknown_attr,
	    "vendor-aaa");
	expect_str("path vendor", "token", u->token, "t");
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:vendor-aaa=");
	expect_str("empty vendor", "unknown_attr", u->unknown_attr,
	    "vendor-aaa");
	cairn_p11_uri_free(u);

	/* A query vendor attribute: ignored altogether. */
	u = parse_ok("pkcs11:token=t?vendor-bbb=value-b&x=/y?z|w");
	assert_null(u->unknown_attr);
	expect_str("query vendor", "token", u->token, "t");
	cairn_p11_uri_free(u);

	/* Names are case-sensitive: "Token" is a vendor attribute. */
	u = parse_ok("pkcs11:Token=t");
	assert_null(u->token);
	expect_str("Token", "unknown_attr", u->unknown_attr, "Token");
	cairn_p11_uri_free(u);
}

/* ---- empty values and empty attributes ---- */

static void
test_empty(void **state)
{
	static const struct {
		const char *uri, *needle;
	} bad[] = {
		{ "pkcs11:;", "offset 7: empty attribute" },
		{ "pkcs11:;token=a", "offset 7: empty attribute" },
		{ "pkcs11:token=a;;object=b", "offset 15: empty attribute" },
		{ "pkcs11:token=a;", "offset 14: empty attribute" },
		{ "pkcs11:token=a;?pin-source=x",
		    "offset 14: empty attribute" },
		{ "pkcs11:?&", "offset 8: empty attribute" },
		{ "pkcs11:?pin-source=file:/x&", "offset 26: empty attribute" },
		{ "pkcs11:?&pin-source=file:/x", "offset 8: empty attribute" },
		{ "pkcs11:?pin-source=a&&x=y", "offset 21: empty attribute" },
		/* no '=' */
		{ "pkcs11:token", "offset 7: attribute \"token\" has no '='" },
		{ "pkcs11:token=a;object", "offset 15: attribute \"object\"" },
		{ "pkcs11:?pin-source", "offset 8: attribute \"pin-source\"" },
		{ "pkcs11:??", "offset 8: attribute \"?\" has no '='" },
	};
	struct cairn_p11_uri *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail_s(bad[i].uri, CAIRN_E_URI_SYNTAX, bad[i].needle);

	u = parse_ok("pkcs11:token=");
	expect_str("token=", "token", u->token, "");
	cairn_p11_uri_free(u);

	u = parse_ok("pkcs11:id=");
	assert_int_equal(u->has_id, 1);
	assert_int_equal(u->id_len, 0);
	cairn_p11_uri_free(u);

	u = parse_ok("pkcs11:object=;serial=;model=?module-name=");
	expect_str("empties", "object", u->object, "");
	expect_str("empties", "serial", u->serial, "");
	expect_str("empties", "model", u->model, "");
	expect_str("empties", "module-name", u->module_name, "");
	assert_null(u->token);
	cairn_p11_uri_free(u);

	/* An empty path, an empty query, or both. */
	u = parse_ok("pkcs11:?");
	assert_null(u->pin_source);
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:token=a?");
	expect_str("token=a?", "token", u->token, "a");
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:?pin-source=file:/p");
	expect_str("query only", "pin-source", u->pin_source, "file:/p");
	cairn_p11_uri_free(u);
}

/* ---- duplicates and typed values ---- */

static void
test_values(void **state)
{
	static const struct {
		const char *uri;
		int code;
		const char *needle;
	} bad[] = {
		{ "pkcs11:token=a;token=b", CAIRN_E_URI_SYNTAX,
		    "offset 15: attribute token appears twice" },
		{ "pkcs11:token=a;object=b;token=a", CAIRN_E_URI_SYNTAX,
		    "token appears twice" },
		{ "pkcs11:id=%01;id=%01", CAIRN_E_URI_SYNTAX,
		    "id appears twice" },
		{ "pkcs11:type=cert;type=cert", CAIRN_E_URI_SYNTAX,
		    "type appears twice" },
		{ "pkcs11:?pin-source=a&pin-source=b", CAIRN_E_URI_SYNTAX,
		    "offset 21: attribute pin-source appears twice" },
		{ "pkcs11:vendor-aaa=1;vendor-aaa=2", CAIRN_E_URI_SYNTAX,
		    "vendor-aaa appears twice" },
		{ "pkcs11:type=foo", CAIRN_E_URI_SYNTAX, "offset 7: type" },
		{ "pkcs11:type=", CAIRN_E_URI_SYNTAX, "offset 7: type" },
		{ "pkcs11:token=x;type=privat", CAIRN_E_URI_SYNTAX,
		    "offset 15: type" },
		{ "pkcs11:type=private-key", CAIRN_E_URI_SYNTAX, "type" },
		{ "pkcs11:slot-id=-1", CAIRN_E_URI_SYNTAX,
		    "offset 7: slot-id" },
		{ "pkcs11:slot-id=", CAIRN_E_URI_SYNTAX, "offset 7: slot-id" },
		{ "pkcs11:slot-id=+1", CAIRN_E_URI_SYNTAX, "slot-id" },
		{ "pkcs11:slot-id=0x10", CAIRN_E_URI_SYNTAX, "slot-id" },
		{ "pkcs11:slot-id=1%20", CAIRN_E_URI_SYNTAX, "slot-id" },
		{ "pkcs11:slot-id=99999999999999999999999", CAIRN_E_URI_SYNTAX,
		    "slot-id" },
		{ "pkcs11:library-version=1.", CAIRN_E_URI_SYNTAX,
		    "offset 7: library-version" },
		{ "pkcs11:library-version=.1", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:library-version=", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:library-version=256", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:library-version=1.256", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:library-version=1.2.3", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:library-version=v1", CAIRN_E_URI_SYNTAX,
		    "library-version" },
		{ "pkcs11:?module-path=lib.so", CAIRN_E_URI_SYNTAX,
		    "offset 8: module-path must be an absolute path" },
		{ "pkcs11:?module-path=", CAIRN_E_URI_SYNTAX, "module-path" },
		{ "pkcs11:?module-path=./lib.so", CAIRN_E_URI_SYNTAX,
		    "module-path" },
		{ "pkcs11:token=a%00b", CAIRN_E_URI_SYNTAX,
		    "offset 7: the value of token contains %00" },
		{ "pkcs11:object=%00", CAIRN_E_URI_SYNTAX, "object" },
		{ "pkcs11:?pin-source=file:/x%00", CAIRN_E_URI_SYNTAX,
		    "pin-source" },
		{ "http:foo", CAIRN_E_URI_SYNTAX, "pkcs11:" },
		{ "pkcs11", CAIRN_E_URI_SYNTAX, "pkcs11:" },
		{ "", CAIRN_E_URI_SYNTAX, "pkcs11:" },
		{ " pkcs11:", CAIRN_E_URI_SYNTAX, "pkcs11:" },
		{ "pkcs12:token=x", CAIRN_E_URI_SYNTAX, "pkcs11:" },
	};
	char uri[64];
	struct cairn_p11_uri *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fail_s(bad[i].uri, bad[i].code, bad[i].needle);

	/* A NUL byte in the text (not %00) is refused wherever it is. */
	fail_n("raw NUL", "pkcs11:token=a\0b", 16, CAIRN_E_URI_SYNTAX,
	    "offset 14: NUL byte");

	u = parse_ok("pkcs11:slot-id=42");
	assert_int_equal(u->has_slot_id, 1);
	assert_int_equal(u->slot_id, 42);
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:slot-id=0");
	assert_int_equal(u->has_slot_id, 1);
	assert_int_equal(u->slot_id, 0);
	cairn_p11_uri_free(u);
	/* The largest CK_SLOT_ID, and one more. */
	snprintf(uri, sizeof(uri), "pkcs11:slot-id=%lu", ULONG_MAX);
	u = parse_ok(uri);
	assert_true(u->slot_id == ULONG_MAX);
	cairn_p11_uri_free(u);
	uri[strlen(uri) - 1]++; /* ULONG_MAX ends in 5 on every ABI */
	fail_s(uri, CAIRN_E_URI_SYNTAX, "slot-id");

	u = parse_ok("pkcs11:library-version=0");
	assert_int_equal(u->has_lib_version, 1);
	assert_int_equal(u->lib_version_major, 0);
	assert_int_equal(u->lib_version_minor, 0);
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:library-version=255.255");
	assert_int_equal(u->lib_version_major, 255);
	assert_int_equal(u->lib_version_minor, 255);
	cairn_p11_uri_free(u);

	u = parse_ok("pkcs11:type=secret-key");
	assert_int_equal(u->type, CAIRN_P11_TYPE_SECRET_KEY);
	cairn_p11_uri_free(u);
	u = parse_ok("pkcs11:type=data");
	assert_int_equal(u->type, CAIRN_P11_TYPE_DATA);
	cairn_p11_uri_free(u);

	u = parse_ok("pkcs11:id=%00%01");
	assert_int_equal(u->has_id, 1);
	assert_int_equal(u->id_len, 2);
	assert_memory_equal(u->id, "\x00\x01", 2);
	cairn_p11_uri_free(u);

	/* The scheme is case-insensitive (RFC 3986 section 3.1). */
	u = parse_ok("PKCS11:token=x");
	expect_str("PKCS11:", "token", u->token, "x");
	cairn_p11_uri_free(u);
	u = parse_ok("pKcS11:");
	cairn_p11_uri_free(u);
	assert_int_equal(cairn_p11_is_uri("PkCs11:x"), 1);
	assert_int_equal(cairn_p11_is_uri("pkcs11"), 0);
	assert_int_equal(cairn_p11_is_uri(NULL), 0);

	u = parse_ok("pkcs11:?module-path=/usr/lib/softhsm/libsofthsm2.so");
	expect_str("module-path", "module-path", u->module_path,
	    "/usr/lib/softhsm/libsofthsm2.so");
	cairn_p11_uri_free(u);
}

/*
 * A second, different vendor attribute given twice.  The header promises
 * that any repeated path attribute is a syntax error.
 */
static void
test_duplicate_second_vendor(void **state)
{
	(void)state;
	fail_s("pkcs11:vendor-aaa=1;vendor-bbb=2;vendor-bbb=3",
	    CAIRN_E_URI_SYNTAX, "vendor-bbb appears twice");
}

/* ---- hard limits ---- */

static void
test_limits(void **state)
{
	char *uri, *p, needle[64];
	uint8_t id[CAIRN_P11_ID_MAX + 1];
	struct cairn_p11_uri *u;
	size_t i, len;

	(void)state;
	uri = malloc(CAIRN_URI_MAX + 2);
	assert_non_null(uri);

	/* Exactly CAIRN_URI_MAX bytes is fine, one more is not. */
	len = (size_t)sprintf(uri, "pkcs11:token=");
	memset(uri + len, 'a', CAIRN_URI_MAX + 1 - len);
	u = parse_ok_n(uri, CAIRN_URI_MAX);
	assert_int_equal(strlen(u->token), CAIRN_URI_MAX - len);
	cairn_p11_uri_free(u);
	snprintf(needle, sizeof(needle), "%d bytes", CAIRN_URI_MAX + 1);
	fail_n("CAIRN_URI_MAX + 1 bytes", uri, CAIRN_URI_MAX + 1,
	    CAIRN_E_TOO_LARGE, needle);

	/* An id of CAIRN_P11_ID_MAX bytes is fine, one more is not. */
	for (i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(i * 7);
	p = uri + sprintf(uri, "pkcs11:id=");
	put_pct(p, id, CAIRN_P11_ID_MAX, hexdig);
	u = parse_ok(uri);
	assert_int_equal(u->id_len, CAIRN_P11_ID_MAX);
	assert_memory_equal(u->id, id, CAIRN_P11_ID_MAX);
	cairn_p11_uri_free(u);
	put_pct(p, id, CAIRN_P11_ID_MAX + 1, hexdig);
	snprintf(needle, sizeof(needle), "id of %d bytes",
	    CAIRN_P11_ID_MAX + 1);
	fail_s(uri, CAIRN_E_URI_SYNTAX, needle);
	/* Raw characters count as bytes too. */
	len = (size_t)sprintf(uri, "pkcs11:id=");
	memset(uri + len, 'x', CAIRN_P11_ID_MAX + 1);
	uri[len + CAIRN_P11_ID_MAX + 1] = '\0';
	fail_s(uri, CAIRN_E_URI_SYNTAX, needle);

	free(uri);
}

/*
 * CAIRN_URI_ATTRS_MAX distinct attributes are fine (only vendor ones, so
 * that no known attribute can be refused for another reason), one more is
 * a syntax error.
 */
static void
test_attrs_max(void **state)
{
	char uri[2048], needle[64];
	size_t len;
	int i;

	(void)state;
	len = (size_t)sprintf(uri, "pkcs11:");
	for (i = 0; i < CAIRN_URI_ATTRS_MAX; i++)
		len += (size_t)sprintf(uri + len, "%sv%d=%d", i ? ";" : "", i,
		    i);
	cairn_p11_uri_free(parse_ok(uri));
	sprintf(uri + len, ";v%d=%d", i, i);
	snprintf(needle, sizeof(needle), "more than %d attributes",
	    CAIRN_URI_ATTRS_MAX);
	fail_s(uri, CAIRN_E_URI_SYNTAX, needle);
}

/*
 * parse() reads s[0..len) and nothing else: a prefix of a longer string
 * parses as the prefix alone.  (That the bytes after `len` are not even
 * looked at is what the exact-size copies in parse_n() let valgrind and
 * ASan check, for every test in this file.)
 */
static void
test_len_bound(void **state)
{
	static const char full[] = "pkcs11:token=abc;object=x%41?pin-source=y";
	struct cairn_p11_uri *u;

	(void)state;
	u = parse_ok_n(full, strlen("pkcs11:token=abc"));
	expect_str("prefix", "token", u->token, "abc");
	assert_null(u->object);
	cairn_p11_uri_free(u);
	u = parse_ok_n(full, strlen("pkcs11:token=abc;object=x%41"));
	expect_str("prefix", "object", u->object, "xA");
	assert_null(u->pin_source);
	cairn_p11_uri_free(u);
	/* Cut inside "%41": the escape is incomplete within `len`. */
	fail_n("cut escape", full, strlen("pkcs11:token=abc;object=x%4"),
	    CAIRN_E_URI_SYNTAX, "offset 25:");
	fail_n("cut scheme", full, 6, CAIRN_E_URI_SYNTAX, "pkcs11:");
	/* Cut right after the separators. */
	fail_n("cut after ;", full, strlen("pkcs11:token=abc;"),
	    CAIRN_E_URI_SYNTAX, "offset 16: empty attribute");
	u = parse_ok_n(full, strlen("pkcs11:token=abc;object=x%41?"));
	assert_null(u->pin_source);
	cairn_p11_uri_free(u);
}

/* ---- format ---- */

/* parse(s), format, parse again: equal, and format is a fixed point. */
static void
roundtrip_n(const char *what, const char *s, size_t len)
{
	struct cairn_p11_uri *a, *b;
	char *f1, *f2;
	int r;

	a = parse_ok_n(s, len);
	f1 = cairn_p11_uri_format(a);
	assert_non_null(f1);
	if ((r = parse_n(f1, strlen(f1), &b)) != 0)
		fail_msg("%s: format gave \"%.200s...\" (%zu bytes), which "
		    "does not parse: %s: %s", what, f1, strlen(f1),
		    cairn_errname(r), cairn_errmsg(r));
	if (!cairn_p11_uri_equal(a, b))
		fail_msg("%s: parse(format(u)) != u; format gave \"%s\"", what,
		    f1);
	if (!cairn_p11_uri_equal(b, a))
		fail_msg("%s: equal() is not symmetric", what);
	f2 = cairn_p11_uri_format(b);
	assert_non_null(f2);
	if (strcmp(f1, f2) != 0)
		fail_msg("%s: format is not canonical: \"%s\" then \"%s\"",
		    what, f1, f2);
	free(f1);
	free(f2);
	cairn_p11_uri_free(a);
	cairn_p11_uri_free(b);
}

static void
roundtrip(const char *s)
{
	roundtrip_n(s, s, strlen(s));
}

static void
test_format_roundtrip(void **state)
{
	static const char *const uris[] = {
		"pkcs11:",
		"PKCS11:token=x",
		"pkcs11:token=",
		"pkcs11:id=",
		"pkcs11:id=%00%01",
		"pkcs11:slot-id=42;slot-description=Sun%20Metaslot;"
		"slot-manufacturer=Sun",
		"pkcs11:library-version=0",
		"pkcs11:library-version=255.255",
		"pkcs11:type=secret-key",
		"pkcs11:type=data;object=d",
		"pkcs11:token=" PATH_RAW,
		"pkcs11:?pin-source=" QUERY_RAW,
		"pkcs11:?module-name=m&module-path=/a:b/c?d|e&pin-source=f",
		"pkcs11:token=x?vendor-bbb=ignored",
		"pkcs11:vendor-aaa=value-a",
		"pkcs11:Token=x;token=y",
		"pkcs11:token=Cairn%20Root%20CA;object=root-key;"
		"id=%F3%3B%F8%87%E8%9C%54%BD%07%50%9E%B7%DA%B5%3B%5E;"
		"type=private",
	};
	uint8_t all[256];
	char uri[64 + 3 * sizeof(all)], *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc_examples) / sizeof(rfc_examples[0]); i++)
		roundtrip(rfc_examples[i].uri);
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		roundtrip(uris[i]);

	/* Every byte value in each kind of value; ids hold at most 255. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	p = uri + sprintf(uri, "pkcs11:token=");
	put_pct(p, all + 1, 255, hexdig);
	roundtrip(uri);
	p = uri + sprintf(uri, "pkcs11:object=");
	put_pct(p, all + 1, 255, hexlow);
	roundtrip(uri);
	p = uri + sprintf(uri, "pkcs11:?pin-source=");
	put_pct(p, all + 1, 255, hexdig);
	roundtrip(uri);
	p = uri + sprintf(uri, "pkcs11:?module-path=/");
	put_pct(p, all + 1, 255, hexdig);
	roundtrip(uri);
	p = uri + sprintf(uri, "pkcs11:id=");
	put_pct(p, all, 255, hexdig);
	roundtrip(uri);
	p = uri + sprintf(uri, "pkcs11:id=");
	put_pct(p, all + 1, 255, hexlow);
	roundtrip(uri);
}

/*
 * A URI that parse() accepts at the size limit, made of characters that
 * may stand raw in the input but that format() percent-encodes: the
 * header promises that the formatted text parses back to an equal URI.
 */
static void
test_format_roundtrip_at_limit(void **state)
{
	char *uri;
	size_t len;

	(void)state;
	uri = malloc(CAIRN_URI_MAX);
	assert_non_null(uri);
	len = (size_t)sprintf(uri, "pkcs11:token=");
	memset(uri + len, ',', CAIRN_URI_MAX - len);
	roundtrip_n("4096-byte token=,,,...", uri, CAIRN_URI_MAX);
	free(uri);
}

/* The value of attribute `name` in formatted URI `f`, and its length. */
static const char *
find_value(const char *f, const char *name, size_t *len)
{
	size_t n = strlen(name);
	const char *p;

	for (p = f; (p = strstr(p, name)) != NULL; p++)
		if ((p[-1] == ':' || p[-1] == ';' || p[-1] == '?' ||
		    p[-1] == '&') && p[n] == '=') {
			p += n + 1;
			*len = strcspn(p, ";?&");
			return p;
		}
	return NULL;
}

static void
test_format_exact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "pkcs11:", "pkcs11:" },
		{ "pkcs11:?", "pkcs11:" },
		{ "pkcs11:token=a%20b", "pkcs11:token=a%20b" },
		{ "PKCS11:token=x", "pkcs11:token=x" },
		{ "pkcs11:token=", "pkcs11:token=" },
		{ "pkcs11:id=", "pkcs11:id=" },
		/* punctuation the component allows stays raw */
		{ "pkcs11:token=a,b", "pkcs11:token=a,b" },
		{ "pkcs11:token=a%2Cb%3A", "pkcs11:token=a,b:" },
		{ "pkcs11:token=a%26b%3Fc", "pkcs11:token=a&b%3Fc" },
		{ "pkcs11:?pin-source=file:/a%3Fb%3Bc", "pkcs11:?pin-source=file:/a?b%3Bc" },
		{ "pkcs11:token=%7e%2d", "pkcs11:token=~-" },
		{ "pkcs11:id=%ba%dd", "pkcs11:id=%BA%DD" },
		{ "pkcs11:id=abc", "pkcs11:id=%61%62%63" },
		{ "pkcs11:library-version=3", "pkcs11:library-version=3.0" },
		{ "pkcs11:library-version=01.002",
		    "pkcs11:library-version=1.2" },
		{ "pkcs11:slot-id=007", "pkcs11:slot-id=7" },
		/* a fixed order, whatever the input's */
		{ "pkcs11:type=private;object=k;token=T",
		    "pkcs11:token=T;object=k;type=private" },
		{ "pkcs11:?pin-source=file:/etc/token_pin&module-name=m",
		    "pkcs11:?module-name=m&pin-source=file:/etc/token_pin" },
		/* the unknown attribute survives, so the result still
		 * matches nothing; query vendor attributes do not */
		{ "pkcs11:vendor-aaa=value-a;token=x?vendor-bbb=b",
		    "pkcs11:token=x;vendor-aaa=" },
		{ "pkcs11:token=Cairn%20Root%20CA;object=root-key;"
		  "id=%F3%3B%F8%87%E8%9C%54%BD%07%50%9E%B7%DA%B5%3B%5E;"
		  "type=private",
		    "pkcs11:token=Cairn%20Root%20CA;object=root-key;"
		    "id=%F3%3B%F8%87%E8%9C%54%BD%07%50%9E%B7%DA%B5%3B%5E;"
		    "type=private" },
	};
	struct cairn_p11_uri *u;
	const char *v;
	char uri[64 + 3 * 255], *f;
	uint8_t all[255];
	size_t i, vlen;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u = parse_ok(cases[i].in);
		f = cairn_p11_uri_format(u);
		assert_non_null(f);
		if (strcmp(f, cases[i].out) != 0)
			fail_msg("format(%s) = \"%s\", want \"%s\"",
			    cases[i].in, f, cases[i].out);
		free(f);
		cairn_p11_uri_free(u);
	}

	/* The id is always every byte as upper-case %XX, even raw input. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i + 1);
	sprintf(uri, "pkcs11:object=o;id=");
	memcpy(uri + strlen(uri), "az09-._~", 9);
	u = parse_ok(uri);
	f = cairn_p11_uri_format(u);
	assert_string_equal(f, "pkcs11:object=o;id=%61%7A%30%39%2D%2E%5F%7E");
	free(f);
	cairn_p11_uri_free(u);
	put_pct(uri + sprintf(uri, "pkcs11:slot-id=1;id="), all, sizeof(all),
	    hexlow);
	u = parse_ok(uri);
	f = cairn_p11_uri_format(u);
	v = find_value(f, "id", &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 3 * sizeof(all));
	for (i = 0; i < sizeof(all); i++) {
		assert_int_equal(v[3 * i], '%');
		assert_int_equal(v[3 * i + 1], hexdig[all[i] >> 4]);
		assert_int_equal(v[3 * i + 2], hexdig[all[i] & 0xf]);
	}
	free(f);
	cairn_p11_uri_free(u);

	/* Formatting a hand-built URI (what key.c does) works the same. */
	u = cairn_p11_uri_new();
	assert_non_null(u);
	u->token = strdup("T 1");
	u->has_id = 1;
	u->id = malloc(2);
	assert_non_null(u->id);
	memcpy(u->id, "\x00\xff", 2);
	u->id_len = 2;
	u->type = CAIRN_P11_TYPE_PRIVATE;
	f = cairn_p11_uri_format(u);
	assert_string_equal(f, "pkcs11:token=T%201;id=%00%FF;type=private");
	free(f);
	cairn_p11_uri_free(u);
	cairn_p11_uri_free(NULL);
}

/* ---- matching ---- */

/* Fill a fixed-width PKCS#11 field as a module does: blank padded. */
static void
pad(CK_UTF8CHAR *field, size_t width, const char *s)
{
	size_t n = strlen(s);

	assert_true(n <= width);
	memset(field, ' ', width);
	memcpy(field, s, n);
}

#define PAD(field, s) pad((field), sizeof(field), (s))

static CK_INFO lib_info;
static CK_SLOT_INFO slot_info;
static CK_TOKEN_INFO token_info;
#define SLOT 3

static int
setup_infos(void **state)
{
	(void)state;
	memset(&lib_info, 0, sizeof(lib_info));
	lib_info.cryptokiVersion.major = 2;
	lib_info.cryptokiVersion.minor = 40;
	PAD(lib_info.manufacturerID, "SoftHSM");
	PAD(lib_info.libraryDescription, "Implementation of PKCS11");
	lib_info.libraryVersion.major = 2;
	lib_info.libraryVersion.minor = 6;

	memset(&slot_info, 0, sizeof(slot_info));
	PAD(slot_info.slotDescription, "SoftHSM slot ID 0x3");
	PAD(slot_info.manufacturerID, "SoftHSM project");
	slot_info.flags = CKF_TOKEN_PRESENT;

	memset(&token_info, 0, sizeof(token_info));
	PAD(token_info.label, "Cairn Root CA");
	PAD(token_info.manufacturerID, "SoftHSM project");
	PAD(token_info.model, "SoftHSM v2");
	/* a serial that fills its 16 bytes: no padding at all */
	PAD(token_info.serialNumber, "8d1e4a5c2b3f7a90");
	return 0;
}

static void
expect_match(const char *uri, int lib, int slot, int tok)
{
	struct cairn_p11_uri *u = parse_ok(uri);
	int l, s, t;

	l = cairn_p11_uri_match_library(u, &lib_info);
	s = cairn_p11_uri_match_slot(u, SLOT, &slot_info);
	t = cairn_p11_uri_match_token(u, &token_info);
	if (l != lib || s != slot || t != tok)
		fail_msg("%s: library/slot/token match %d/%d/%d, want %d/%d/%d",
		    uri, l, s, t, lib, slot, tok);
	cairn_p11_uri_free(u);
}

static void
test_match(void **state)
{
	static const struct {
		const char *uri;
		int lib, slot, tok;
	} cases[] = {
		{ "pkcs11:", 1, 1, 1 },
		/* token: label, padding stripped, exact and case-sensitive */
		{ "pkcs11:token=Cairn%20Root%20CA", 1, 1, 1 },
		{ "pkcs11:token=Cairn%20Root", 1, 1, 0 },
		{ "pkcs11:token=Cairn%20Root%20CA2", 1, 1, 0 },
		{ "pkcs11:token=cairn%20root%20ca", 1, 1, 0 },
		{ "pkcs11:token=", 1, 1, 0 },
		{ "pkcs11:serial=8d1e4a5c2b3f7a90", 1, 1, 1 },
		{ "pkcs11:serial=8d1e4a5c2b3f7a9", 1, 1, 0 },
		{ "pkcs11:serial=", 1, 1, 0 },
		{ "pkcs11:model=SoftHSM%20v2", 1, 1, 1 },
		{ "pkcs11:model=SoftHSM", 1, 1, 0 },
		{ "pkcs11:manufacturer=SoftHSM%20project", 1, 1, 1 },
		{ "pkcs11:manufacturer=SoftHSM", 1, 1, 0 },
		{ "pkcs11:token=Cairn%20Root%20CA;"
		  "manufacturer=SoftHSM%20project;serial=8d1e4a5c2b3f7a90;"
		  "model=SoftHSM%20v2", 1, 1, 1 },
		{ "pkcs11:token=Cairn%20Root%20CA;"
		  "manufacturer=SoftHSM%20project;serial=8d1e4a5c2b3f7a90;"
		  "model=SoftHSM%20v3", 1, 1, 0 },
		/* slot */
		{ "pkcs11:slot-id=3", 1, 1, 1 },
		{ "pkcs11:slot-id=4", 1, 0, 1 },
		{ "pkcs11:slot-id=0", 1, 0, 1 },
		{ "pkcs11:slot-description=SoftHSM%20slot%20ID%200x3",
		    1, 1, 1 },
		{ "pkcs11:slot-description=SoftHSM%20slot%20ID%200x", 1, 0, 1 },
		{ "pkcs11:slot-manufacturer=SoftHSM%20project", 1, 1, 1 },
		{ "pkcs11:slot-manufacturer=SoftHSM", 1, 0, 1 },
		{ "pkcs11:slot-id=3;slot-description=SoftHSM%20slot%20ID%200x3;"
		  "slot-manufacturer=SoftHSM%20project", 1, 1, 1 },
		/* library */
		{ "pkcs11:library-manufacturer=SoftHSM", 1, 1, 1 },
		{ "pkcs11:library-manufacturer=SoftHSM%20project", 0, 1, 1 },
		{ "pkcs11:library-description=Implementation%20of%20PKCS11",
		    1, 1, 1 },
		{ "pkcs11:library-description=Implementation", 0, 1, 1 },
		{ "pkcs11:library-version=2.6", 1, 1, 1 },
		{ "pkcs11:library-version=2", 0, 1, 1 },
		{ "pkcs11:library-version=2.60", 0, 1, 1 },
		{ "pkcs11:library-version=6.2", 0, 1, 1 },
		/* object and query attributes do not take part */
		{ "pkcs11:object=k;id=%01;type=private"
		  "?module-path=/x.so&pin-source=file:/p", 1, 1, 1 },
		{ "pkcs11:?vendor-bbb=value-b", 1, 1, 1 },
		/* an unknown path attribute matches nothing at all */
		{ "pkcs11:vendor-aaa=value-a", 0, 0, 0 },
		{ "pkcs11:token=Cairn%20Root%20CA;vendor-aaa=x", 0, 0, 0 },
		{ "pkcs11:token=my-token;object=my-certificate;type=cert;"
		  "vendor-aaa=value-a"
		  "?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
		    0, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_match(cases[i].uri, cases[i].lib, cases[i].slot,
		    cases[i].tok);
}

static void
test_match_version(void **state)
{
	(void)state;
	lib_info.libraryVersion.major = 3;
	lib_info.libraryVersion.minor = 0;
	expect_match("pkcs11:library-version=3", 1, 1, 1);
	expect_match("pkcs11:library-version=3.0", 1, 1, 1);
	expect_match("pkcs11:library-version=3.1", 0, 1, 1);
	lib_info.libraryVersion.minor = 1;
	expect_match("pkcs11:library-version=3", 0, 1, 1);
	expect_match("pkcs11:library-version=3.1", 1, 1, 1);
}

static void
test_match_padding(void **state)
{
	(void)state;
	/* An empty label is all blanks: only "token=" names it. */
	PAD(token_info.label, "");
	expect_match("pkcs11:token=", 1, 1, 1);
	expect_match("pkcs11:", 1, 1, 1);
	expect_match("pkcs11:token=x", 1, 1, 0);
	/* A label that fills all 32 bytes, so has no padding. */
	PAD(token_info.label, "0123456789abcdef0123456789ABCDEF");
	expect_match("pkcs11:token=0123456789abcdef0123456789ABCDEF", 1, 1, 1);
	expect_match("pkcs11:token=0123456789abcdef0123456789ABCDE", 1, 1, 0);
	/* Blanks inside a label are part of it. */
	PAD(token_info.label, "a  b");
	expect_match("pkcs11:token=a%20%20b", 1, 1, 1);
	expect_match("pkcs11:token=a%20b", 1, 1, 0);
	/* UTF-8 in a label, as in the RFC's example (shortened to fit). */
	PAD(token_info.label, "Small A with acute: \xC3\xA1");
	expect_match("pkcs11:token=Small%20A%20with%20acute:%20%C3%A1", 1, 1,
	    1);
	expect_match("pkcs11:token=Small%20A%20with%20acute:%20a", 1, 1, 0);

	{
		char out[sizeof(token_info.label) + 1];

		PAD(token_info.label, "Cairn");
		assert_string_equal(cairn_p11_padded_str(out, token_info.label,
		    sizeof(token_info.label)), "Cairn");
	}
}

/*
 * pin-value is refused wherever it stands and whatever its value, and a
 * URI whose canonical text would pass CAIRN_URI_MAX is not formatted
 * (what Cairn prints must parse again).
 */
static void
test_pin_value_anywhere_and_format_limit(void **state)
{
	static const char *const pins[] = {
		"pkcs11:pin-value=1234",
		"pkcs11:?pin-value=%00",
		"pkcs11:token=t?pin-source=file:/p&pin-value=1",
	};
	struct cairn_p11_uri *u = NULL;
	size_t i, len;
	char *text, *f;
	int r;

	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		r = cairn_p11_uri_parse(pins[i], strlen(pins[i]), &u);
		assert_int_equal(r, CAIRN_E_URI_UNSUPPORTED);
		assert_null(u);
		assert_null(strstr(cairn_errmsg(r), "1234"));
	}
	/* 255 raw id bytes triple when formatted; with a long label the
	 * canonical text would pass the limit. */
	len = CAIRN_URI_MAX;
	assert_non_null(text = malloc(len + 1));
	memcpy(text, "pkcs11:id=", 10);
	memset(text + 10, 'a', 255);
	memcpy(text + 265, ";token=", 7);
	memset(text + 272, 'b', len - 272);
	text[len] = '\0';
	assert_int_equal(cairn_p11_uri_parse(text, len, &u), 0);
	assert_null(f = cairn_p11_uri_format(u));
	cairn_p11_uri_free(u);
	/* The same with a short label formats and parses back. */
	text[300] = '\0';
	assert_int_equal(cairn_p11_uri_parse(text, 300, &u), 0);
	assert_non_null(f = cairn_p11_uri_format(u));
	assert_int_equal(strlen(f), 300 + 2 * 255);
	free(f);
	cairn_p11_uri_free(u);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_rfc_pin_value),
		cmocka_unit_test(test_pct_every_byte),
		cmocka_unit_test(test_pct_malformed),
		cmocka_unit_test(test_raw_bytes_exhaustive),
		cmocka_unit_test(test_raw_chars_named),
		cmocka_unit_test(test_unknown_attrs),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_duplicate_second_vendor),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_attrs_max),
		cmocka_unit_test(test_len_bound),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_format_roundtrip_at_limit),
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_pin_value_anywhere_and_format_limit),
		cmocka_unit_test_setup(test_match, setup_infos),
		cmocka_unit_test_setup(test_match_version, setup_infos),
		cmocka_unit_test_setup(test_match_padding, setup_infos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
