/*
 * test_cfg.c: the strict YAML loader and its checkers (lib/cfg.c).
 *
 * Ceremony scripts are written by an operator and read back to witnesses,
 * so these tests pin down three things: what a well-formed script yields
 * (a tree with the right lines, every getter's value); what is refused
 * (each strictness rule of cfg.h, each getter's wrong values), always with
 * the exact "file:line: message" the operator will read; and that a
 * hostile file costs neither time (billion laughs) nor terminal integrity
 * (control characters in messages).
 *
 * Every load goes through an exact-size heap copy of the text, never a
 * NUL-terminated literal, so that an over-read past `len` shows under
 * ASan or valgrind.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"

#define F "root-init.yaml"

/* ---- helpers ------------------------------------------------------------ */

static int
load_n(const char *text, size_t len, struct cfg_doc **doc,
    struct cfg_errors *errs)
{
	char *buf;
	int r;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, text, len);
	*doc = (struct cfg_doc *)&errs; /* must be overwritten */
	r = cfg_load_mem(F, buf, len, doc, errs);
	free(buf);
	return r;
}

static void
dump(const struct cfg_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("#   %s\n", e->msg[i]);
}

/* Load text that must load; the errors list must stay empty. */
static struct cfg_doc *
load_ok(const char *text)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	int r;

	r = load_n(text, strlen(text), &doc, &e);
	if (r != 0 || e.n != 0 || doc == NULL) {
		dump(&e);
		fail_msg("load failed: %s (%zu problems)", cairn_errname(r),
		    e.n);
	}
	return doc;
}

/* Load text that must be refused with CAIRN_E_CONFIG and no document. */
static void
load_bad_n(const char *text, size_t len, struct cfg_errors *e)
{
	struct cfg_doc *doc;
	int r;

	r = load_n(text, len, &doc, e);
	if (r != CAIRN_E_CONFIG) {
		dump(e);
		if (r == 0)
			cfg_doc_free(doc);
		fail_msg("load: %s, want CAIRN_E_CONFIG", cairn_errname(r));
	}
	assert_null(doc);
	assert_true(e->n > 0);
}

static void
load_bad(const char *text, struct cfg_errors *e)
{
	load_bad_n(text, strlen(text), e);
}

/* Message i must be exactly `want`. */
static void
msg_is(const struct cfg_errors *e, size_t i, const char *want)
{
	if (i >= e->n) {
		dump(e);
		fail_msg("no message %zu (have %zu), want \"%s\"", i, e->n,
		    want);
	}
	if (strcmp(e->msg[i], want) != 0) {
		dump(e);
		fail_msg("message %zu is\n  \"%s\"\nwant\n  \"%s\"", i,
		    e->msg[i], want);
	}
}

/* Some message must start with `prefix` ("file:line: ") and contain
 * `needle`. */
static void
msg_has(const struct cfg_errors *e, const char *prefix, const char *needle)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(e->msg[i], needle) != NULL)
			return;
	dump(e);
	fail_msg("no message \"%s...%s\"", prefix, needle);
}

/* The only message must be `want`. */
static void
only_msg(const struct cfg_errors *e, const char *want)
{
	msg_is(e, 0, want);
	if (e->n != 1) {
		dump(e);
		fail_msg("%zu messages, want 1", e->n);
	}
}

/* A fixture for the getters: one document and a checker over it. */
struct fx {
	struct cfg_doc *doc;
	struct cfg_errors e;
	struct cfg_check c;
	const struct cfg_node *root;
};

static void
fx_load(struct fx *x, const char *text)
{
	memset(x, 0, sizeof(*x));
	x->doc = load_ok(text);
	x->c.doc = x->doc;
	x->c.errs = &x->e;
	x->root = cfg_root(x->doc);
}

static void
fx_free(struct fx *x)
{
	cfg_doc_free(x->doc);
	cfg_errors_free(&x->e);
}

/* No problem recorded so far. */
static void
fx_clean(struct fx *x)
{
	if (x->e.n != 0) {
		dump(&x->e);
		fail_msg("%zu unexpected problems", x->e.n);
	}
}

/* Exactly one problem recorded, `want`; then forget it. */
static void
fx_one(struct fx *x, const char *want)
{
	only_msg(&x->e, want);
	cfg_errors_free(&x->e);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a whole ceremony script -------------------------------------------- */

static const char ceremony[] =
    "# root-init.yaml: make the root key and self-sign the root.\n"  /* 1 */
    "ceremony: root-init\n"                                          /* 2 */
    "version: 1\n"                                                   /* 3 */
    "operators:\n"                                                   /* 4 */
    "  - Alice Martin\n"                                             /* 5 */
    "  - Bob Chen\n"                                                 /* 6 */
    "witnesses: [Carol Diaz, \"Dan O'Neil\"]\n"                      /* 7 */
    "hsm:\n"                                                         /* 8 */
    "  module: /usr/lib/softhsm/libsofthsm2.so\n"                    /* 9 */
    "  token: 'Cairn Root CA'\n"                                     /* 10 */
    "key:\n"                                                         /* 11 */
    "  label: root-2026\n"                                           /* 12 */
    "  type: ec-p384\n"                                              /* 13 */
    "certificate:\n"                                                 /* 14 */
    "  subject: \"CN=Cairn Root CA 2026,O=Example,C=NL\"\n"          /* 15 */
    "  serial: \"42\"\n"                                             /* 16 */
    "  not-before: 2026-11-25T00:00:00Z\n"                           /* 17 */
    "  validity: 20y\n"                                              /* 18 */
    "  path-length: 1\n"                                             /* 19 */
    "  policy: 1.3.6.1.4.1.99999.1.1\n"                              /* 20 */
    "  ca: true\n"                                                   /* 21 */
    "  crl-urls:\n"                                                  /* 22 */
    "    - http://crl.example.org/root.crl\n"                        /* 23 */
    "  extensions: {}\n"                                             /* 24 */
    "transcript: |\n"                                                /* 25 */
    "  Read the fingerprint aloud.\n"                                /* 26 */
    "  Witnesses sign the log.\n"                                    /* 27 */
    "dry-run: false\n"                                               /* 28 */
    "offset: -3\n"                                                   /* 29 */
    "note: ~\n";                                                     /* 30 */

static void
test_ceremony(void **state)
{
	static const char *const top[] = { "ceremony", "version", "operators",
		"witnesses", "hsm", "key", "certificate", "transcript",
		"dry-run", "offset", "note", NULL };
	static const char *const certkeys[] = { "subject", "serial",
		"not-before", "validity", "path-length", "policy", "ca",
		"crl-urls", "extensions", NULL };
	static const char *const types[] = { "rsa-3072", "rsa-4096",
		"ec-p256", "ec-p384", NULL };
	struct fx x;
	const struct cfg_node *hsm, *key, *cert, *ops, *wit, *crl, *ext, *n;
	size_t count;

	(void)state;
	fx_load(&x, ceremony);
	assert_string_equal(cfg_doc_name(x.doc), F);
	assert_int_equal(cfg_type(x.root), CFG_MAP);
	assert_int_equal(cfg_len(x.root), 11);
	assert_int_equal(cfg_keys(&x.c, x.root, top), 0);
	assert_string_equal(cfg_key(x.root, 0), "ceremony");
	assert_int_equal(cfg_line(cfg_key_node(x.root, 0)), 2);
	assert_int_equal(cfg_line(cfg_value(x.root, 0)), 2);
	assert_string_equal(cfg_key(x.root, 10), "note");

	assert_string_equal(cfg_want_str(&x.c, x.root, "ceremony", 1, NULL),
	    "root-init");
	assert_int_equal(cfg_want_int(&x.c, x.root, "version", 1, 1, 1, 0), 1);
	assert_int_equal(cfg_want_int(&x.c, x.root, "offset", 1, -10, 10, 0),
	    -3);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "dry-run", 1, 1), 0);
	/* A null value is absent: the default comes back, no problem. */
	assert_string_equal(cfg_want_str(&x.c, x.root, "note", 0, "none"),
	    "none");
	assert_null(cfg_want_str(&x.c, x.root, "absent", 0, NULL));

	ops = cfg_want_strlist(&x.c, x.root, "operators", 1, &count);
	assert_non_null(ops);
	assert_int_equal(count, 2);
	assert_int_equal(cfg_type(ops), CFG_SEQ);
	assert_int_equal(cfg_line(ops), 5);
	assert_string_equal(cfg_scalar(cfg_item(ops, 0)), "Alice Martin");
	assert_string_equal(cfg_scalar(cfg_item(ops, 1)), "Bob Chen");
	assert_int_equal(cfg_line(cfg_item(ops, 1)), 6);
	assert_null(cfg_item(ops, 2));
	wit = cfg_want_strlist(&x.c, x.root, "witnesses", 1, &count);
	assert_int_equal(count, 2);
	assert_false(cfg_quoted(cfg_item(wit, 0)));
	assert_true(cfg_quoted(cfg_item(wit, 1)));
	assert_string_equal(cfg_scalar(cfg_item(wit, 1)), "Dan O'Neil");

	hsm = cfg_want_map(&x.c, x.root, "hsm", 1);
	assert_non_null(hsm);
	assert_string_equal(cfg_want_str(&x.c, hsm, "module", 1, NULL),
	    "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg_want_str(&x.c, hsm, "token", 1, NULL),
	    "Cairn Root CA");
	assert_true(cfg_quoted(cfg_get(hsm, "token")));
	assert_string_equal(cfg_want_str(&x.c, hsm, "pin-source", 0, "prompt"),
	    "prompt");

	key = cfg_want_map(&x.c, x.root, "key", 1);
	assert_int_equal(cfg_want_enum(&x.c, key, "type", 1, types, -1), 3);
	assert_int_equal(cfg_want_enum(&x.c, key, "curve", 0, types, 1), 1);

	cert = cfg_want_map(&x.c, x.root, "certificate", 1);
	assert_non_null(cert);
	assert_int_equal(cfg_line(cert), 15);
	assert_int_equal(cfg_keys(&x.c, cert, certkeys), 0);
	assert_string_equal(cfg_want_str(&x.c, cert, "subject", 1, NULL),
	    "CN=Cairn Root CA 2026,O=Example,C=NL");
	/* A quoted number is a string, and a string getter takes it. */
	assert_string_equal(cfg_want_str(&x.c, cert, "serial", 1, NULL), "42");
	assert_true(cfg_quoted(cfg_get(cert, "serial")));
	assert_int_equal(cfg_want_time(&x.c, cert, "not-before", 1, -1),
	    1795564800LL);
	assert_int_equal(cfg_want_duration(&x.c, cert, "validity", 1, -1),
	    630720000LL);
	assert_int_equal(cfg_want_int(&x.c, cert, "path-length", 0, 0, 10, -1),
	    1);
	assert_string_equal(cfg_want_oid(&x.c, cert, "policy", 1),
	    "1.3.6.1.4.1.99999.1.1");
	assert_int_equal(cfg_want_bool(&x.c, cert, "ca", 1, 0), 1);
	crl = cfg_want_strlist(&x.c, cert, "crl-urls", 0, &count);
	assert_int_equal(count, 1);
	assert_int_equal(cfg_line(crl), 23);
	ext = cfg_want_map(&x.c, cert, "extensions", 1);
	assert_non_null(ext);
	assert_int_equal(cfg_len(ext), 0);
	assert_null(cfg_want_seq(&x.c, cert, "aia", 0));
	assert_null(cfg_want_map(&x.c, cert, "name-constraints", 0));

	n = cfg_get(x.root, "transcript");
	assert_string_equal(cfg_scalar(n),
	    "Read the fingerprint aloud.\nWitnesses sign the log.\n");
	assert_int_equal(cfg_line(n), 25);
	assert_true(cfg_quoted(n)); /* a block scalar is a string too */
	assert_int_equal(cfg_len(n), 0);
	assert_null(cfg_item(n, 0));
	assert_null(cfg_key(n, 0));
	assert_null(cfg_scalar(cert));
	fx_clean(&x);
	fx_free(&x);
}

/* The two messages quoted in the brief, byte for byte. */
static void
test_brief_messages(void **state)
{
	static const char *const certkeys[] = { "subject", "validity", NULL };
	struct fx x;

	(void)state;
	fx_load(&x,
	    "version: 1\n"
	    "certificate:\n"
	    "  subjct: CN=Root\n"
	    "validity: forever\n");
	assert_int_equal(cfg_keys(&x.c, cfg_get(x.root, "certificate"),
	    certkeys), 1);
	fx_one(&x, F ":3: unknown key 'subjct' in 'certificate'; "
	    "did you mean 'subject'?");
	assert_int_equal(cfg_want_duration(&x.c, x.root, "validity", 1, 5), -1);
	fx_one(&x, F ":4: validity: want a duration such as 20y or 365d, "
	    "have 'forever'");
	fx_free(&x);
}

/* ---- getters, one by one: success and every failure --------------------- */

static void
test_want_str(void **state)
{
	struct fx x;

	(void)state;
	fx_load(&x,
	    "a: plain text\n"     /* 1 */
	    "b: 'single'\n"       /* 2 */
	    "c: \"double\"\n"     /* 3 */
	    "d:\n"                /* 4 */
	    "e: ~\n"              /* 5 */
	    "f: null\n"           /* 6 */
	    "g: ''\n"             /* 7 */
	    "h: [x]\n"            /* 8 */
	    "i: 'null'\n"         /* 9 */
	    "j: 42\n"             /* 10 */
	    "k:\n"                /* 11 */
	    "  l: 1\n");          /* 12 */
	assert_string_equal(cfg_want_str(&x.c, x.root, "a", 1, NULL),
	    "plain text");
	assert_string_equal(cfg_want_str(&x.c, x.root, "b", 1, NULL), "single");
	assert_string_equal(cfg_want_str(&x.c, x.root, "c", 1, NULL), "double");
	/* Quoted, an empty or "null" text is a string like any other. */
	assert_string_equal(cfg_want_str(&x.c, x.root, "g", 1, NULL), "");
	assert_string_equal(cfg_want_str(&x.c, x.root, "i", 1, NULL), "null");
	/* A plain number is text to a string getter. */
	assert_string_equal(cfg_want_str(&x.c, x.root, "j", 1, NULL), "42");
	/* Optional and null: the default. */
	assert_string_equal(cfg_want_str(&x.c, x.root, "d", 0, "dd"), "dd");
	assert_string_equal(cfg_want_str(&x.c, x.root, "e", 0, "ee"), "ee");
	assert_string_equal(cfg_want_str(&x.c, x.root, "f", 0, "ff"), "ff");
	assert_string_equal(cfg_want_str(&x.c, x.root, "zz", 0, "zz"), "zz");
	fx_clean(&x);

	assert_null(cfg_want_str(&x.c, x.root, "d", 1, NULL));
	fx_one(&x, F ":4: d: want a string, have nothing");
	assert_null(cfg_want_str(&x.c, x.root, "e", 1, NULL));
	fx_one(&x, F ":5: e: want a string, have null");
	assert_null(cfg_want_str(&x.c, x.root, "f", 1, NULL));
	fx_one(&x, F ":6: f: want a string, have null");
	assert_null(cfg_want_str(&x.c, x.root, "h", 1, NULL));
	fx_one(&x, F ":8: h: want a string, have a list");
	assert_null(cfg_want_str(&x.c, x.root, "k", 0, NULL));
	fx_one(&x, F ":11: k: want a string, have a mapping");
	assert_null(cfg_want_str(&x.c, x.root, "missing", 1, NULL));
	fx_one(&x, F ":1: missing required key 'missing'");
	assert_null(cfg_want_str(&x.c, cfg_get(x.root, "k"), "m", 1, NULL));
	fx_one(&x, F ":11: missing required key 'm' in 'k'");
	/* A section that is not a mapping is reported once, however many
	 * getters read it. */
	assert_null(cfg_want_str(&x.c, cfg_get(x.root, "a"), "m", 1, NULL));
	assert_null(cfg_want_str(&x.c, cfg_get(x.root, "a"), "n", 1, NULL));
	fx_one(&x, F ":1: a: want a mapping, have 'plain text'");
	/* No section at all (absent, or its absence already reported):
	 * nothing more to say. */
	assert_string_equal(cfg_want_str(&x.c, NULL, "m", 1, "dflt"), "dflt");
	fx_clean(&x);
	fx_free(&x);
}

static void
test_want_int(void **state)
{
	struct fx x;

	(void)state;
	fx_load(&x,
	    "zero: 0\n"                      /* 1 */
	    "pos: 4096\n"                    /* 2 */
	    "neg: -12\n"                     /* 3 */
	    "max: 9223372036854775807\n"     /* 4 */
	    "min: -9223372036854775808\n"    /* 5 */
	    "over: 9223372036854775808\n"    /* 6 */
	    "quoted: \"42\"\n"               /* 7 */
	    "lead: 007\n"                    /* 8 */
	    "plus: +5\n"                     /* 9 */
	    "under: 1_000\n"                 /* 10 */
	    "hex: 0x10\n"                    /* 11 */
	    "oct: 0o17\n"                    /* 12 */
	    "negzero: -0\n"                  /* 13 */
	    "float: 1.5\n"                   /* 14 */
	    "word: many\n"                   /* 15 */
	    "list: [1]\n"                    /* 16 */
	    "empty:\n"                       /* 17 */
	    "qword: 'abc'\n");               /* 18 */
	assert_int_equal(cfg_want_int(&x.c, x.root, "zero", 1, 0, 10, 5), 0);
	assert_int_equal(cfg_want_int(&x.c, x.root, "pos", 1, 2048, 8192, 5),
	    4096);
	assert_int_equal(cfg_want_int(&x.c, x.root, "neg", 1, -12, 0, 5), -12);
	assert_true(cfg_want_int(&x.c, x.root, "max", 1, LLONG_MIN, LLONG_MAX,
	    5) == LLONG_MAX);
	assert_true(cfg_want_int(&x.c, x.root, "min", 1, LLONG_MIN, LLONG_MAX,
	    5) == LLONG_MIN);
	assert_int_equal(cfg_want_int(&x.c, x.root, "absent", 0, 0, 10, 7), 7);
	assert_int_equal(cfg_want_int(&x.c, x.root, "empty", 0, 0, 10, 7), 7);
	fx_clean(&x);

	assert_int_equal(cfg_want_int(&x.c, x.root, "pos", 1, 0, 100, 5), 5);
	fx_one(&x, F ":2: pos: want an integer from 0 to 100, have '4096' "
	    "(out of range)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "neg", 1, 0, LLONG_MAX, 5),
	    5);
	fx_one(&x, F ":3: neg: want an integer of at least 0, have '-12' "
	    "(out of range)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "pos", 1, LLONG_MIN, 10,
	    5), 5);
	fx_one(&x, F ":2: pos: want an integer of at most 10, have '4096' "
	    "(out of range)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "over", 1, LLONG_MIN,
	    LLONG_MAX, 5), 5);
	fx_one(&x, F ":6: over: want an integer, have '9223372036854775808' "
	    "(out of range)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "quoted", 1, 0, 100, 5), 5);
	fx_one(&x, F ":7: quoted: want an integer from 0 to 100, have '42' "
	    "(quoted: a number is written without quotes)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "qword", 1, 0, 100, 5), 5);
	fx_one(&x, F ":18: qword: want an integer from 0 to 100, have 'abc'");
	{
		static const struct {
			const char *key, *have;
			int line;
		} bad[] = {
			{ "lead", "007", 8 }, { "plus", "+5", 9 },
			{ "under", "1_000", 10 }, { "hex", "0x10", 11 },
			{ "oct", "0o17", 12 }, { "negzero", "-0", 13 },
			{ "float", "1.5", 14 }, { "word", "many", 15 },
		};
		char want[256];
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(cfg_want_int(&x.c, x.root, bad[i].key,
			    1, LLONG_MIN, LLONG_MAX, 5), 5);
			snprintf(want, sizeof(want), F ":%d: %s: want an "
			    "integer, have '%s' (decimal digits only, no "
			    "leading zeros, '+', '_', or 0x)", bad[i].line,
			    bad[i].key, bad[i].have);
			fx_one(&x, want);
		}
	}
	assert_int_equal(cfg_want_int(&x.c, x.root, "list", 1, 0, 1, 5), 5);
	fx_one(&x, F ":16: list: want an integer from 0 to 1, have a list");
	assert_int_equal(cfg_want_int(&x.c, x.root, "empty", 1, 0, 1, 5), 5);
	fx_one(&x, F ":17: empty: want an integer from 0 to 1, have nothing");
	assert_int_equal(cfg_want_int(&x.c, x.root, "nope", 1, 0, 1, 5), 5);
	fx_one(&x, F ":1: missing required key 'nope'");
	fx_free(&x);
}

static void
test_want_bool(void **state)
{
	static const char *const traps[] = { "yes", "no", "on", "off", "y",
		"n", "True", "FALSE", "Yes", "OFF" };
	struct fx x;
	char text[64], want[256];
	size_t i;

	(void)state;
	fx_load(&x,
	    "t: true\n"
	    "f: false\n"
	    "q: \"true\"\n"
	    "one: 1\n"
	    "m: {a: 1}\n"
	    "nul: null\n");
	assert_int_equal(cfg_want_bool(&x.c, x.root, "t", 1, 0), 1);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "f", 1, 1), 0);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "absent", 0, 1), 1);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "nul", 0, 1), 1);
	fx_clean(&x);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "q", 1, 0), 0);
	fx_one(&x, F ":3: q: want true or false, have 'true' (quoted: write "
	    "true or false without quotes)");
	assert_int_equal(cfg_want_bool(&x.c, x.root, "one", 1, 0), 0);
	fx_one(&x, F ":4: one: want true or false, have '1'");
	assert_int_equal(cfg_want_bool(&x.c, x.root, "m", 1, 0), 0);
	fx_one(&x, F ":5: m: want true or false, have a mapping");
	assert_int_equal(cfg_want_bool(&x.c, x.root, "nul", 1, 0), 0);
	fx_one(&x, F ":6: nul: want true or false, have null");
	assert_int_equal(cfg_want_bool(&x.c, x.root, "absent", 1, 0), 0);
	fx_one(&x, F ":1: missing required key 'absent'");
	fx_free(&x);

	/* YAML 1.1's booleans: refused, and the message says what to write. */
	for (i = 0; i < sizeof(traps) / sizeof(traps[0]); i++) {
		snprintf(text, sizeof(text), "\n\nca: %s\n", traps[i]);
		fx_load(&x, text);
		assert_int_equal(cfg_want_bool(&x.c, x.root, "ca", 1, 0), 0);
		snprintf(want, sizeof(want), F ":3: ca: want true or false, "
		    "have '%s' (write true or false: YAML 1.1 spellings are "
		    "ambiguous)", traps[i]);
		fx_one(&x, want);
		fx_free(&x);
	}
}

static void
test_want_enum(void **state)
{
	static const char *const types[] = { "rsa-3072", "rsa-4096",
		"ec-p256", "ec-p384", NULL };
	struct fx x;

	(void)state;
	fx_load(&x,
	    "a: rsa-3072\n"
	    "b: 'ec-p384'\n"
	    "c: ec-p386\n"
	    "d: dsa\n"
	    "e: [ec-p256]\n"
	    "f:\n");
	assert_int_equal(cfg_want_enum(&x.c, x.root, "a", 1, types, -1), 0);
	assert_int_equal(cfg_want_enum(&x.c, x.root, "b", 1, types, -1), 3);
	assert_int_equal(cfg_want_enum(&x.c, x.root, "absent", 0, types, 2), 2);
	assert_int_equal(cfg_want_enum(&x.c, x.root, "f", 0, types, 1), 1);
	fx_clean(&x);
	assert_int_equal(cfg_want_enum(&x.c, x.root, "c", 1, types, 0), -1);
	fx_one(&x, F ":3: c: want one of rsa-3072, rsa-4096, ec-p256, ec-p384, "
	    "have 'ec-p386' (did you mean 'ec-p384'?)");
	assert_int_equal(cfg_want_enum(&x.c, x.root, "d", 1, types, 0), -1);
	fx_one(&x, F ":4: d: want one of rsa-3072, rsa-4096, ec-p256, ec-p384, "
	    "have 'dsa'");
	assert_int_equal(cfg_want_enum(&x.c, x.root, "e", 1, types, 0), -1);
	fx_one(&x, F ":5: e: want one of rsa-3072, rsa-4096, ec-p256, ec-p384, "
	    "have a list");
	assert_int_equal(cfg_want_enum(&x.c, x.root, "f", 1, types, 0), -1);
	fx_one(&x, F ":6: f: want one of rsa-3072, rsa-4096, ec-p256, ec-p384, "
	    "have nothing");
	assert_int_equal(cfg_want_enum(&x.c, x.root, "absent", 1, types, 0),
	    -1);
	fx_one(&x, F ":1: missing required key 'absent'");
	fx_free(&x);
}

static void
test_want_time(void **state)
{
	static const struct {
		const char *text;
		long long want;
	} good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-25T00:00:00Z", 1795564800LL },
		/* leap years: divisible by 4, by 400, not by 100 alone */
		{ "2024-02-29T12:34:56Z", 1709210096LL },
		{ "2000-02-29T23:59:59Z", 951868799LL },
		/* past 32-bit time_t, and the last GeneralizedTime second */
		{ "2038-01-19T03:14:08Z", 2147483648LL },
		{ "9999-12-31T23:59:59Z", 253402300799LL },
		{ "'2026-11-25T00:00:00Z'", 1795564800LL },
	};
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "2025-02-29T00:00:00Z", " (February 2025 has 28 days)" },
		{ "2100-02-29T00:00:00Z", " (February 2100 has 28 days)" },
		{ "2026-04-31T00:00:00Z", " (April 2026 has 30 days)" },
		{ "2026-01-00T00:00:00Z", " (January 2026 has 31 days)" },
		{ "2026-13-01T00:00:00Z", " (there is no month 13)" },
		{ "2026-00-01T00:00:00Z", " (there is no month 00)" },
		{ "2026-11-25T24:00:00Z", " (hours go from 00 to 23)" },
		{ "2026-11-25T23:60:00Z", " (minutes go from 00 to 59)" },
		{ "2016-12-31T23:59:60Z", " (seconds go from 00 to 59; leap "
		    "seconds are refused)" },
		{ "2026-11-25T00:00:00+01:00", " (only UTC, written with a "
		    "final Z)" },
		{ "2026-11-25T00:00:00", " (only UTC, written with a final "
		    "Z)" },
		{ "2026-11-25T00:00:00.5Z", " (no fractions of a second)" },
		{ "2026-11-25", " (a date alone: add the time, as in "
		    "2026-11-25T00:00:00Z)" },
		{ "1969-12-31T23:59:59Z", " (before 1970)" },
		{ "2026-11-25 00:00:00Z", "" },
		{ "2026-11-25t00:00:00z", "" },
		{ "20261125T000000Z", "" },
		{ "+2026-11-25T00:00:00Z", "" },
		{ "tomorrow", "" },
	};
	struct fx x;
	char text[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "at: %s\n", good[i].text);
		fx_load(&x, text);
		if (cfg_want_time(&x.c, x.root, "at", 1, -5) != good[i].want)
			fail_msg("%s: want %lld", good[i].text, good[i].want);
		fx_clean(&x);
		fx_free(&x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "x: 1\nat: '%s'\n", bad[i].text);
		fx_load(&x, text);
		assert_int_equal(cfg_want_time(&x.c, x.root, "at", 1, 5), -1);
		snprintf(want, sizeof(want), F ":2: at: want a UTC time such "
		    "as 2026-11-25T00:00:00Z, have '%s'%s", bad[i].text,
		    bad[i].why);
		fx_one(&x, want);
		fx_free(&x);
	}
	fx_load(&x, "a: [1]\nb:\n");
	assert_int_equal(cfg_want_time(&x.c, x.root, "b", 0, 77), 77);
	assert_int_equal(cfg_want_time(&x.c, x.root, "c", 0, 78), 78);
	fx_clean(&x);
	assert_int_equal(cfg_want_time(&x.c, x.root, "a", 1, 5), -1);
	fx_one(&x, F ":1: a: want a UTC time such as 2026-11-25T00:00:00Z, "
	    "have a list");
	assert_int_equal(cfg_want_time(&x.c, x.root, "b", 1, 5), -1);
	fx_one(&x, F ":2: b: want a UTC time such as 2026-11-25T00:00:00Z, "
	    "have nothing");
	assert_int_equal(cfg_want_time(&x.c, x.root, "c", 1, 5), -1);
	fx_one(&x, F ":1: missing required key 'c'");
	fx_free(&x);
}

static void
test_want_duration(void **state)
{
	static const struct {
		const char *text;
		long long want;
	} good[] = {
		{ "20y", 630720000LL }, { "1y", 31536000LL },
		{ "365d", 31536000LL }, { "12h", 43200LL }, { "30m", 1800LL },
		{ "45s", 45LL }, { "9223372036854775807s", LLONG_MAX },
		{ "292471208677y", 292471208677LL * 31536000LL },
	};
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "forever", "" },
		{ "0d", " (it must be more than zero)" },
		{ "007d", " (no leading zeros)" },
		{ "-1d", " (a positive number and a unit)" },
		{ "+1d", " (a positive number and a unit)" },
		{ "20", " (add a unit: y, d, h, m or s)" },
		{ "2w", " (units are y (365 days), d, h, m and s)" },
		{ "20Y", " (units are y (365 days), d, h, m and s)" },
		{ "1d2h", " (one number and one unit)" },
		{ "20 y", " (units are y (365 days), d, h, m and s)" },
		{ "y", "" },
		{ "9223372036854775808s", " (too long)" },
		{ "292471208678y", " (too long)" },
		{ "106751991167301d", " (too long)" },
		{ "99999999999999999999999999y", " (too long)" },
	};
	struct fx x;
	char text[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "validity: %s\n", good[i].text);
		fx_load(&x, text);
		if (cfg_want_duration(&x.c, x.root, "validity", 1, -5) !=
		    good[i].want)
			fail_msg("%s: want %lld", good[i].text, good[i].want);
		fx_clean(&x);
		fx_free(&x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "a: 1\nb: 2\nvalidity: %s\n",
		    bad[i].text);
		fx_load(&x, text);
		assert_int_equal(cfg_want_duration(&x.c, x.root, "validity",
		    1, 5), -1);
		snprintf(want, sizeof(want), F ":3: validity: want a duration "
		    "such as 20y or 365d, have '%s'%s", bad[i].text,
		    bad[i].why);
		fx_one(&x, want);
		fx_free(&x);
	}
	fx_load(&x, "m: {}\n");
	assert_int_equal(cfg_want_duration(&x.c, x.root, "n", 0, 60), 60);
	fx_clean(&x);
	assert_int_equal(cfg_want_duration(&x.c, x.root, "m", 0, 60), -1);
	fx_one(&x, F ":1: m: want a duration such as 20y or 365d, have a "
	    "mapping");
	assert_int_equal(cfg_want_duration(&x.c, x.root, "n", 1, 60), -1);
	fx_one(&x, F ":1: missing required key 'n'");
	fx_free(&x);
}

static void
test_want_oid(void **state)
{
	static const char *const good[] = { "1.3.6.1.4.1.99999.1", "2.5",
		"0.0", "1.39", "2.999", "2.5.29.32.0",
		"1.2.18446744073709551615", "'1.3.6.1'" };
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "1", "at least two arcs" },
		{ "3.1", "the first arc is 0, 1 or 2" },
		{ "1.40", "the second arc is at most 39 under 0 and 1" },
		{ "0.40", "the second arc is at most 39 under 0 and 1" },
		{ "1.2.03", "no leading zeros" },
		{ "01.2", "no leading zeros" },
		{ "1..2", "an empty arc" },
		{ "1.2.", "an empty arc" },
		{ ".1.2", "an empty arc" },
		{ "1.2.18446744073709551616", "an arc larger than 64 bits" },
		{ "1.2.a", "only digits and dots" },
		{ "1.2 .3", "only digits and dots" },
		{ "id-ce", "only digits and dots" },
	};
	struct fx x;
	char text[128], want[256];
	size_t i;
	const char *got;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "policy: %s\n", good[i]);
		fx_load(&x, text);
		got = cfg_want_oid(&x.c, x.root, "policy", 1);
		assert_non_null(got);
		assert_string_equal(got, good[i][0] == '\'' ? "1.3.6.1" :
		    good[i]);
		fx_clean(&x);
		fx_free(&x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "policy: '%s'\n", bad[i].text);
		fx_load(&x, text);
		assert_null(cfg_want_oid(&x.c, x.root, "policy", 1));
		snprintf(want, sizeof(want), F ":1: policy: want an OID such "
		    "as 1.3.6.1.4.1.99999.1, have '%s' (%s)", bad[i].text,
		    bad[i].why);
		fx_one(&x, want);
		fx_free(&x);
	}
	fx_load(&x, "p: [1.2]\n");
	assert_null(cfg_want_oid(&x.c, x.root, "q", 0));
	fx_clean(&x);
	assert_null(cfg_want_oid(&x.c, x.root, "p", 0));
	fx_one(&x, F ":1: p: want an OID such as 1.3.6.1.4.1.99999.1, have a "
	    "list");
	assert_null(cfg_want_oid(&x.c, x.root, "q", 1));
	fx_one(&x, F ":1: missing required key 'q'");
	fx_free(&x);
}

static void
test_want_strlist(void **state)
{
	struct fx x;
	const struct cfg_node *l;
	size_t n = 99;

	(void)state;
	fx_load(&x,
	    "ok: [a, 'b', 3]\n"  /* 1 */
	    "none: []\n"         /* 2 */
	    "bad:\n"             /* 3 */
	    "  - fine\n"         /* 4 */
	    "  - {k: v}\n"       /* 5 */
	    "  -\n"              /* 6 */
	    "  - [x]\n"          /* 7 */
	    "scalar: one\n"      /* 8 */
	    "nul: ~\n");         /* 9 */
	l = cfg_want_strlist(&x.c, x.root, "ok", 1, &n);
	assert_non_null(l);
	assert_int_equal(n, 3);
	assert_string_equal(cfg_scalar(cfg_item(l, 2)), "3");
	l = cfg_want_strlist(&x.c, x.root, "none", 1, &n);
	assert_non_null(l);
	assert_int_equal(n, 0);
	n = 99;
	assert_null(cfg_want_strlist(&x.c, x.root, "absent", 0, &n));
	assert_int_equal(n, 0);
	n = 99;
	assert_null(cfg_want_strlist(&x.c, x.root, "nul", 0, &n));
	assert_int_equal(n, 0);
	fx_clean(&x);

	n = 99;
	assert_null(cfg_want_strlist(&x.c, x.root, "bad", 1, &n));
	assert_int_equal(n, 0);
	assert_int_equal(x.e.n, 3);
	msg_is(&x.e, 0, F ":5: bad[1]: want a string, have a mapping");
	msg_is(&x.e, 1, F ":6: bad[2]: want a string, have nothing");
	msg_is(&x.e, 2, F ":7: bad[3]: want a string, have a list");
	cfg_errors_free(&x.e);
	assert_null(cfg_want_strlist(&x.c, x.root, "scalar", 1, &n));
	fx_one(&x, F ":8: scalar: want a list of strings, have 'one'");
	assert_null(cfg_want_strlist(&x.c, x.root, "nul", 1, &n));
	fx_one(&x, F ":9: nul: want a list of strings, have null");
	assert_null(cfg_want_strlist(&x.c, x.root, "absent", 1, &n));
	fx_one(&x, F ":1: missing required key 'absent'");
	fx_free(&x);
}

static void
test_want_map_seq(void **state)
{
	struct fx x;
	const struct cfg_node *m, *s, *step;

	(void)state;
	fx_load(&x,
	    "hsm:\n"              /* 1 */
	    "  token: Root\n"     /* 2 */
	    "steps:\n"            /* 3 */
	    "  - action: keygen\n"/* 4 */
	    "    label: k1\n"     /* 5 */
	    "  - action: sign\n"  /* 6 */
	    "word: text\n"        /* 7 */
	    "empty:\n");          /* 8 */
	m = cfg_want_map(&x.c, x.root, "hsm", 1);
	assert_non_null(m);
	assert_int_equal(cfg_len(m), 1);
	s = cfg_want_seq(&x.c, x.root, "steps", 1);
	assert_non_null(s);
	assert_int_equal(cfg_len(s), 2);
	assert_null(cfg_want_map(&x.c, x.root, "absent", 0));
	assert_null(cfg_want_seq(&x.c, x.root, "empty", 0));
	fx_clean(&x);

	assert_null(cfg_want_map(&x.c, x.root, "steps", 1));
	fx_one(&x, F ":3: steps: want a mapping, have a list");
	assert_null(cfg_want_seq(&x.c, x.root, "hsm", 1));
	fx_one(&x, F ":1: hsm: want a list, have a mapping");
	assert_null(cfg_want_map(&x.c, x.root, "word", 1));
	fx_one(&x, F ":7: word: want a mapping, have 'text'");
	assert_null(cfg_want_seq(&x.c, x.root, "empty", 1));
	fx_one(&x, F ":8: empty: want a list, have nothing");
	assert_null(cfg_want_map(&x.c, x.root, "absent", 1));
	fx_one(&x, F ":1: missing required key 'absent'");
	/* Inside a list item, names and lines point into the item. */
	step = cfg_item(s, 1);
	assert_null(cfg_want_str(&x.c, step, "label", 1, NULL));
	fx_one(&x, F ":6: missing required key 'label' in 'steps[1]'");
	assert_null(cfg_want_map(&x.c, cfg_item(s, 0), "label", 1));
	fx_one(&x, F ":5: steps[0].label: want a mapping, have 'k1'");
	/* The root itself, when it is not a mapping. */
	fx_free(&x);
	fx_load(&x, "- a\n- b\n");
	assert_null(cfg_want_str(&x.c, x.root, "k", 1, NULL));
	fx_one(&x, F ":1: the document: want a mapping, have a list");
	fx_free(&x);
}

static void
test_keys(void **state)
{
	static const char *const allowed[] = { "subject", "serial",
		"validity", "extensions", NULL };
	static const char *const tie[] = { "abcx", "abcy", NULL };
	static const char *const none[] = { NULL };
	struct fx x;

	(void)state;
	fx_load(&x,
	    "subjct: a\n"        /* 1: one deletion */
	    "Serial: 1\n"        /* 2: case */
	    "valdity: 2y\n"      /* 3 */
	    "colour: red\n"      /* 4: nothing close */
	    "extensions: {}\n"   /* 5: known */
	    "abc: 1\n"           /* 6 */
	    "list: [1]\n");      /* 7 */
	assert_int_equal(cfg_keys(&x.c, x.root, allowed), 6);
	assert_int_equal(x.e.n, 6);
	msg_is(&x.e, 0, F ":1: unknown key 'subjct'; did you mean 'subject'?");
	msg_is(&x.e, 1, F ":2: unknown key 'Serial'; did you mean 'serial'?");
	msg_is(&x.e, 2, F ":3: unknown key 'valdity'; did you mean "
	    "'validity'?");
	msg_is(&x.e, 3, F ":4: unknown key 'colour' (known keys: subject, "
	    "serial, validity, extensions)");
	msg_is(&x.e, 4, F ":6: unknown key 'abc' (known keys: subject, "
	    "serial, validity, extensions)");
	msg_is(&x.e, 5, F ":7: unknown key 'list' (known keys: subject, "
	    "serial, validity, extensions)");
	cfg_errors_free(&x.e);
	/* Equally close: the first allowed key is suggested. */
	assert_int_equal(cfg_keys(&x.c, x.root, tie), 7);
	msg_has(&x.e, F ":6: ", "unknown key 'abc'; did you mean 'abcx'?");
	cfg_errors_free(&x.e);
	assert_int_equal(cfg_keys(&x.c, x.root, none), 7);
	msg_is(&x.e, 0, F ":1: unknown key 'subjct' (known keys: none)");
	cfg_errors_free(&x.e);
	/* Not a mapping: reported, counted once. */
	assert_int_equal(cfg_keys(&x.c, cfg_get(x.root, "list"), allowed), 1);
	fx_one(&x, F ":7: list: want a mapping, have a list");
	/* An absent optional section: nothing to check. */
	assert_int_equal(cfg_keys(&x.c, NULL, allowed), 0);
	fx_clean(&x);
	fx_free(&x);

	/* Nested: the message names the section. */
	fx_load(&x, "a:\n  b:\n    - c: 1\n      cc: 2\n");
	assert_int_equal(cfg_keys(&x.c, cfg_item(cfg_get(cfg_get(x.root, "a"),
	    "b"), 0), (const char *const[]){ "c", NULL }), 1);
	fx_one(&x, F ":4: unknown key 'cc' in 'a.b[0]'; did you mean 'c'?");
	fx_free(&x);
}

static void
test_fail_and_add(void **state)
{
	struct cfg_errors e = { 0 };
	struct fx x;

	(void)state;
	cfg_errors_add(&e, "f.yaml", 3, "three %d", 3);
	cfg_errors_add(&e, "f.yaml", 0, "no line");
	cfg_errors_add(&e, "f.yaml", 3, "three %d", 3); /* add appends */
	assert_int_equal(e.n, 3);
	msg_is(&e, 0, "f.yaml:3: three 3");
	msg_is(&e, 1, "f.yaml: no line");
	msg_is(&e, 2, "f.yaml:3: three 3");
	cfg_errors_free(&e);
	assert_null(e.msg);
	assert_int_equal(e.n, 0);
	cfg_errors_free(&e); /* twice is fine */

	fx_load(&x, "a: 1\nb:\n  c: 2\n");
	cfg_fail(&x.c, cfg_get(cfg_get(x.root, "b"), "c"), "c is %s", "odd");
	cfg_fail(&x.c, NULL, "whole file");
	cfg_fail(&x.c, cfg_get(cfg_get(x.root, "b"), "c"), "c is %s", "odd");
	assert_int_equal(x.e.n, 2);
	msg_is(&x.e, 0, F ":3: c is odd");
	msg_is(&x.e, 1, F ": whole file");
	fx_free(&x);
}

/* ---- the tree API on edge inputs ---------------------------------------- */

static void
test_tree_api(void **state)
{
	struct cfg_doc *doc;
	const struct cfg_node *r, *m;

	(void)state;
	assert_null(cfg_root(NULL));
	assert_null(cfg_doc_name(NULL));
	assert_int_equal(cfg_type(NULL), 0);
	assert_int_equal(cfg_line(NULL), 0);
	assert_null(cfg_scalar(NULL));
	assert_false(cfg_quoted(NULL));
	assert_int_equal(cfg_len(NULL), 0);
	assert_null(cfg_item(NULL, 0));
	assert_null(cfg_key(NULL, 0));
	assert_null(cfg_key_node(NULL, 0));
	assert_null(cfg_value(NULL, 0));
	assert_null(cfg_get(NULL, "a"));
	cfg_doc_free(NULL);

	doc = load_ok("a: {b: 1, c: [x, y]}\n"
	    "d: \"\"\n"
	    "e:\n"
	    "\n"
	    "f: 2\n");
	r = cfg_root(doc);
	m = cfg_get(r, "a");
	assert_int_equal(cfg_type(m), CFG_MAP);
	assert_int_equal(cfg_len(m), 2);
	assert_null(cfg_key(m, 2));
	assert_null(cfg_value(m, 2));
	assert_null(cfg_key_node(m, 2));
	assert_null(cfg_item(m, 0)); /* a mapping is not a list */
	assert_null(cfg_get(cfg_get(m, "c"), "x")); /* a list is no mapping */
	assert_null(cfg_get(m, NULL));
	assert_string_equal(cfg_scalar(cfg_item(cfg_get(m, "c"), 1)), "y");
	assert_true(cfg_quoted(cfg_get(r, "d")));
	assert_string_equal(cfg_scalar(cfg_get(r, "d")), "");
	/* An empty value is on its key's line, not the next token's. */
	assert_int_equal(cfg_line(cfg_get(r, "e")), 3);
	assert_string_equal(cfg_scalar(cfg_get(r, "e")), "");
	assert_false(cfg_quoted(cfg_get(r, "e")));
	assert_int_equal(cfg_line(cfg_get(r, "f")), 5);
	cfg_doc_free(doc);

	/* CRLF line ends count as one line each. */
	doc = load_ok("a: 1\r\nb: 2\r\n\r\nc: 3\r\n");
	assert_int_equal(cfg_line(cfg_get(cfg_root(doc), "c")), 4);
	cfg_doc_free(doc);

	/* A document may be a single scalar or a list. */
	doc = load_ok("just text\n");
	assert_int_equal(cfg_type(cfg_root(doc)), CFG_SCALAR);
	assert_string_equal(cfg_scalar(cfg_root(doc)), "just text");
	cfg_doc_free(doc);

	/* Non-ASCII UTF-8 is text like any other. */
	doc = load_ok("name: Zo\xc3\xab \xe6\x9d\xb1\xe4\xba\xac "
	    "\xf0\x9f\x94\x91\n");
	assert_string_equal(cfg_scalar(cfg_get(cfg_root(doc), "name")),
	    "Zo\xc3\xab \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x94\x91");
	cfg_doc_free(doc);

	/* A UTF-8 byte order mark is allowed, and explicit markers too. */
	doc = load_ok("\xef\xbb\xbf%YAML 1.1\n---\na: 1\n...\n");
	assert_int_equal(cfg_line(cfg_get(cfg_root(doc), "a")), 3);
	cfg_doc_free(doc);
}

/* ---- strictness: each refusal of cfg.h ---------------------------------- */

static void
test_duplicate_keys(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad("a: 1\nb: 2\na: 3\n", &e);
	only_msg(&e, F ":3: duplicate key 'a' (first at line 1)");
	cfg_errors_free(&e);

	load_bad("cert:\n"
	    "  subject: x\n"
	    "  serial: 1\n"
	    "  subject: y\n"
	    "  subject: z\n"
	    "other:\n"
	    "  subject: fine\n", &e);
	assert_int_equal(e.n, 2);
	msg_is(&e, 0, F ":4: duplicate key 'subject' in 'cert' (first at "
	    "line 2)");
	msg_is(&e, 1, F ":5: duplicate key 'subject' in 'cert' (first at "
	    "line 2)");
	cfg_errors_free(&e);

	/* Flow style, and quoting does not make a key another key. */
	load_bad("{a: 1, b: 2, a: 3}\n", &e);
	only_msg(&e, F ":1: duplicate key 'a' (first at line 1)");
	cfg_errors_free(&e);
}

static void
test_keys_plain(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad("\"subject\": x\n", &e);
	only_msg(&e, F ":1: key 'subject' must be written plain, without "
	    "quotes, block indicator or tag");
	cfg_errors_free(&e);
	load_bad("a: 1\n'b': 2\n", &e);
	only_msg(&e, F ":2: key 'b' must be written plain, without quotes, "
	    "block indicator or tag");
	cfg_errors_free(&e);
	load_bad("a: 1\n!!str b: 2\n", &e);
	only_msg(&e, F ":2: key 'b' must be written plain, without quotes, "
	    "block indicator or tag");
	cfg_errors_free(&e);
	load_bad("? [a, b]\n: 1\n", &e);
	only_msg(&e, F ":1: a key must be a plain word, not a list");
	cfg_errors_free(&e);
	load_bad("{{a: 1}: 2}\n", &e);
	only_msg(&e, F ":1: a key must be a plain word, not a mapping");
	cfg_errors_free(&e);
	load_bad("a: 1\n?\n: 2\n", &e);
	only_msg(&e, F ":2: empty key");
	cfg_errors_free(&e);
}

static void
test_anchors_aliases(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad("base: &b\n"
	    "  x: 1\n"
	    "copy: *b\n", &e);
	assert_int_equal(e.n, 2);
	msg_is(&e, 0, F ":1: anchor '&b' refused: YAML anchors and aliases "
	    "are not allowed, write each value out in full");
	msg_is(&e, 1, F ":3: alias '*b' refused: YAML anchors and aliases "
	    "are not allowed, write each value out in full");
	cfg_errors_free(&e);

	/* An anchor alone, never used, is refused as well. */
	load_bad("a: &x 1\n", &e);
	only_msg(&e, F ":1: anchor '&x' refused: YAML anchors and aliases are "
	    "not allowed, write each value out in full");
	cfg_errors_free(&e);
	/* An alias as a key, and merge keys. */
	load_bad("a: &k key\n*k : 2\n", &e);
	assert_int_equal(e.n, 2);
	msg_has(&e, F ":2: ", "alias '*k' refused");
	cfg_errors_free(&e);
	load_bad("d: &d {a: 1}\ne:\n  <<: *d\n  b: 2\n", &e);
	msg_has(&e, F ":3: ", "alias '*d' refused");
	cfg_errors_free(&e);
	load_bad("- &s [a]\n- *s\n", &e);
	assert_int_equal(e.n, 2);
	cfg_errors_free(&e);
}

/* Billion laughs: 9 levels of 9 aliases would be 9^9 nodes expanded. */
static void
test_billion_laughs(void **state)
{
	static const char lol[] =
	    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct cfg_errors e = { 0 };
	double t0, dt;

	(void)state;
	t0 = now();
	load_bad(lol, &e);
	dt = now() - t0;
	if (dt > 0.5)
		fail_msg("billion laughs took %.3f s", dt);
	/* 9 anchors and 72 aliases: each one reported, in line order. */
	assert_int_equal(e.n, 81);
	msg_is(&e, 0, F ":1: anchor '&a' refused: YAML anchors and aliases are "
	    "not allowed, write each value out in full");
	msg_is(&e, 2, F ":2: alias '*a' refused: YAML anchors and aliases are "
	    "not allowed, write each value out in full");
	msg_has(&e, F ":9: ", "alias '*h' refused");
	cfg_errors_free(&e);
}

/* A flood of problems stops at CFG_PROBLEMS_MAX (100) with a last word. */
static void
test_too_many_problems(void **state)
{
	struct cfg_errors e = { 0 };
	char *text;
	size_t i, len = 0;

	(void)state;
	text = malloc(8 + 500 * 6);
	assert_non_null(text);
	len += (size_t)sprintf(text + len, "a: [");
	for (i = 0; i < 500; i++)
		len += (size_t)sprintf(text + len, "*x, ");
	len += (size_t)sprintf(text + len, "1]\n");
	load_bad_n(text, len, &e);
	assert_int_equal(e.n, 101);
	msg_is(&e, 100, F ": more than 100 problems; stopped reading");
	cfg_errors_free(&e);
	free(text);
}

static void
test_tags(void **state)
{
	struct cfg_errors e = { 0 };
	struct fx x;

	(void)state;
	/* The core schema's tags are allowed where they are true. */
	fx_load(&x,
	    "a: !!str 42\n"
	    "b: !!int 42\n"
	    "c: !!bool true\n"
	    "d: !!null ~\n"
	    "e: !!float 1.5e3\n"
	    "f: !!map {k: v}\n"
	    "g: !!seq [1]\n"
	    "h: !<tag:yaml.org,2002:str> text\n");
	/* !!str makes a string of what would read as a number. */
	assert_true(cfg_quoted(cfg_get(x.root, "a")));
	assert_int_equal(cfg_want_int(&x.c, x.root, "a", 1, 0, 100, 5), 5);
	fx_one(&x, F ":1: a: want an integer from 0 to 100, have '42' "
	    "(quoted: a number is written without quotes)");
	assert_int_equal(cfg_want_int(&x.c, x.root, "b", 1, 0, 100, 5), 42);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "c", 1, 0), 1);
	assert_string_equal(cfg_want_str(&x.c, x.root, "d", 0, "dd"), "dd");
	assert_non_null(cfg_want_map(&x.c, x.root, "f", 1));
	assert_non_null(cfg_want_seq(&x.c, x.root, "g", 1));
	assert_string_equal(cfg_want_str(&x.c, x.root, "h", 1, NULL), "text");
	fx_clean(&x);
	fx_free(&x);

	load_bad("a: !foo bar\n", &e);
	only_msg(&e, F ":1: tag '!foo' refused: only the core tags !!str, "
	    "!!int, !!bool, !!null, !!float, !!map and !!seq are allowed");
	cfg_errors_free(&e);
	load_bad("a: ! bar\n", &e);
	only_msg(&e, F ":1: tag '!' refused: only the core tags !!str, "
	    "!!int, !!bool, !!null, !!float, !!map and !!seq are allowed");
	cfg_errors_free(&e);
	load_bad("a: !!binary aGVsbG8=\n", &e);
	only_msg(&e, F ":1: tag '!!binary' refused: only !!str, !!int, "
	    "!!bool, !!null, !!float, !!map and !!seq are allowed");
	cfg_errors_free(&e);
	load_bad("a: !!python/object:os.system x\n", &e);
	msg_has(&e, F ":1: ", "tag '!!python/object:os.system' refused");
	cfg_errors_free(&e);
	load_bad("%TAG !e! tag:example.com,2026:\n---\na: !e!thing x\n", &e);
	only_msg(&e, F ":3: tag 'tag:example.com,2026:thing' refused: only "
	    "the core tags !!str, !!int, !!bool, !!null, !!float, !!map and "
	    "!!seq are allowed");
	cfg_errors_free(&e);
	load_bad("a: !!int abc\n", &e);
	only_msg(&e, F ":1: tag '!!int' on 'abc', which is not of that type");
	cfg_errors_free(&e);
	load_bad("a: !!int '42'\n", &e);
	only_msg(&e, F ":1: tag '!!int' on a quoted value '42': write the "
	    "value without quotes");
	cfg_errors_free(&e);
	load_bad("a: !!bool yes\n", &e);
	only_msg(&e, F ":1: tag '!!bool' on 'yes', which is not of that type");
	cfg_errors_free(&e);
	load_bad("a: !!null x\n", &e);
	only_msg(&e, F ":1: tag '!!null' on 'x', which is not of that type");
	cfg_errors_free(&e);
	load_bad("a: !!float x\n", &e);
	only_msg(&e, F ":1: tag '!!float' on 'x', which is not of that type");
	cfg_errors_free(&e);
	load_bad("a: !!map [1]\n", &e);
	only_msg(&e, F ":1: tag '!!map' on a list");
	cfg_errors_free(&e);
	load_bad("a: !!seq {b: 1}\n", &e);
	only_msg(&e, F ":1: tag '!!seq' on a mapping");
	cfg_errors_free(&e);
	load_bad("a: !!str [1]\n", &e);
	only_msg(&e, F ":1: tag '!!str' on a list");
	cfg_errors_free(&e);
	load_bad("a: !!map x\n", &e);
	only_msg(&e, F ":1: tag '!!map' on 'x', which is not a mapping");
	cfg_errors_free(&e);
	load_bad("a: !!set {x}\n", &e);
	msg_has(&e, F ":1: ", "tag '!!set' refused");
	cfg_errors_free(&e);
}

static void
test_documents(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad("a: 1\n---\nb: 2\n", &e);
	only_msg(&e, F ":2: a second document: a file holds exactly one");
	cfg_errors_free(&e);
	load_bad("---\na: 1\n...\n---\nb: 2\n", &e);
	only_msg(&e, F ":4: a second document: a file holds exactly one");
	cfg_errors_free(&e);
	/* A stray "---" at the end starts an (empty) second document. */
	load_bad("a: 1\n---\n", &e);
	only_msg(&e, F ":2: a second document: a file holds exactly one");
	cfg_errors_free(&e);
}

static void
test_empty(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad_n("", 0, &e);
	only_msg(&e, F ": the file is empty: no YAML document in it");
	cfg_errors_free(&e);
	load_bad("\n\n   \n", &e);
	only_msg(&e, F ": the file is empty: no YAML document in it");
	cfg_errors_free(&e);
	load_bad("# a ceremony script, to be written\n", &e);
	only_msg(&e, F ": the file is empty: no YAML document in it");
	cfg_errors_free(&e);
	load_bad("---\n", &e);
	only_msg(&e, F ":1: the document is empty");
	cfg_errors_free(&e);
	load_bad("# nothing\n---\n...\n", &e);
	only_msg(&e, F ":2: the document is empty");
	cfg_errors_free(&e);
	load_bad("~\n", &e);
	only_msg(&e, F ":1: the document is empty ('~')");
	cfg_errors_free(&e);
	load_bad("\nnull\n", &e);
	only_msg(&e, F ":2: the document is empty ('null')");
	cfg_errors_free(&e);
}

static void
test_syntax_errors(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	/* A tab indenting a line: libyaml's message, the line, a hint. */
	load_bad("certificate:\n\tsubject: x\n", &e);
	only_msg(&e, F ":2: found character that cannot start any token "
	    "(while scanning for the next token at line 2); tabs cannot "
	    "indent YAML, use spaces");
	cfg_errors_free(&e);
	load_bad("certificate:\n  subject: x\n\tserial: 1\n", &e);
	only_msg(&e, F ":3: found a tab character that violates indentation "
	    "(while scanning a plain scalar at line 2); tabs cannot indent "
	    "YAML, use spaces");
	cfg_errors_free(&e);
	load_bad("a:\n  b: 1\n c: 2\n", &e);
	only_msg(&e, F ":3: did not find expected key (while parsing a "
	    "block mapping at line 1)");
	cfg_errors_free(&e);
	load_bad("a: [1, 2\nb: 3\n", &e);
	msg_has(&e, F ":", "(while parsing a flow sequence at line 1)");
	cfg_errors_free(&e);
	load_bad("a: \"unterminated\n", &e);
	msg_has(&e, F ":2: ", "found unexpected end of stream (while "
	    "scanning a quoted scalar at line 1)");
	cfg_errors_free(&e);
	/* Problems found before a syntax error are reported with it. */
	load_bad("a: 1\na: 2\nb: [\n", &e);
	assert_int_equal(e.n, 2);
	msg_is(&e, 0, F ":2: duplicate key 'a' (first at line 1)");
	cfg_errors_free(&e);
	load_bad("%YAML 2.0\n---\na: 1\n", &e);
	msg_has(&e, F ":1: ", "found incompatible YAML document");
	cfg_errors_free(&e);
}

static void
test_file_max(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	char *big;
	int r;

	(void)state;
	/* Exactly CFG_FILE_MAX bytes: a long comment and one key. */
	big = malloc(CFG_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', CFG_FILE_MAX + 1);
	big[0] = '#';
	memcpy(big + CFG_FILE_MAX - 6, "\na: 1\n", 6);
	doc = NULL;
	r = cfg_load_mem(F, big, CFG_FILE_MAX, &doc, &e);
	assert_int_equal(r, 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(cfg_scalar(cfg_get(cfg_root(doc), "a")), "1");
	cfg_doc_free(doc);
	/* One more byte: refused before any parsing. */
	r = cfg_load_mem(F, big, CFG_FILE_MAX + 1, &doc, &e);
	assert_int_equal(r, CAIRN_E_TOO_LARGE);
	assert_null(doc);
	only_msg(&e, F ": 262145 bytes, more than the 262144 allowed for a "
	    "script, template or configuration");
	assert_non_null(strstr(cairn_errmsg(r), "262145 bytes"));
	cfg_errors_free(&e);
	free(big);
}

static char *
nested(size_t depth, int flow, size_t *len)
{
	char *s = malloc(flow ? depth * 2 + 8 : depth * (depth + 5) * 2 + 8);
	size_t i, n = 0;

	assert_non_null(s);
	if (flow) {
		for (i = 0; i < depth; i++)
			s[n++] = '[';
		s[n++] = '1';
		for (i = 0; i < depth; i++)
			s[n++] = ']';
		s[n++] = '\n';
	} else {
		/* "k:\n  k:\n    k: 1" */
		for (i = 0; i < depth; i++) {
			memset(s + n, ' ', 2 * i);
			n += 2 * i;
			memcpy(s + n, i + 1 < depth ? "k:\n" : "k: 1\n",
			    i + 1 < depth ? 3 : 5);
			n += i + 1 < depth ? 3 : 5;
		}
	}
	*len = n;
	return s;
}

static void
test_depth_max(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	const struct cfg_node *n;
	char *s, want[128];
	size_t len, d;

	(void)state;
	/* CFG_DEPTH_MAX levels load, flow or block. */
	s = nested(CFG_DEPTH_MAX, 1, &len);
	assert_int_equal(load_n(s, len, &doc, &e), 0);
	for (n = cfg_root(doc), d = 1; cfg_type(cfg_item(n, 0)) == CFG_SEQ;
	    n = cfg_item(n, 0))
		d++;
	assert_int_equal(d, CFG_DEPTH_MAX);
	cfg_doc_free(doc);
	free(s);
	s = nested(CFG_DEPTH_MAX, 0, &len);
	assert_int_equal(load_n(s, len, &doc, &e), 0);
	cfg_doc_free(doc);
	free(s);

	/* One more is refused. */
	snprintf(want, sizeof(want), F ":1: nested more than %d levels deep",
	    CFG_DEPTH_MAX);
	s = nested(CFG_DEPTH_MAX + 1, 1, &len);
	load_bad_n(s, len, &e);
	only_msg(&e, want);
	cfg_errors_free(&e);
	free(s);
	snprintf(want, sizeof(want), F ":%d: nested more than %d levels deep",
	    CFG_DEPTH_MAX + 1, CFG_DEPTH_MAX);
	s = nested(CFG_DEPTH_MAX + 1, 0, &len);
	load_bad_n(s, len, &e);
	only_msg(&e, want);
	cfg_errors_free(&e);
	free(s);

	/* A hostile depth (100,000 brackets) is refused at once. */
	s = nested(100000, 1, &len);
	load_bad_n(s, len, &e);
	snprintf(want, sizeof(want), F ":1: nested more than %d levels deep",
	    CFG_DEPTH_MAX);
	only_msg(&e, want);
	cfg_errors_free(&e);
	free(s);
}

/* A flow list of `items` scalars: 1 + items nodes. */
static char *
flat(size_t items, size_t *len)
{
	char *s = malloc(items * 2 + 8);
	size_t i, n = 0;

	assert_non_null(s);
	s[n++] = '[';
	for (i = 0; i < items; i++) {
		s[n++] = i > 0 ? ',' : '1';
		if (i > 0)
			s[n++] = '1';
	}
	s[n++] = ']';
	s[n++] = '\n';
	*len = n;
	return s;
}

static void
test_nodes_max(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	char *s, want[160];
	size_t len;

	(void)state;
	s = flat(CFG_NODES_MAX - 1, &len);
	assert_int_equal(load_n(s, len, &doc, &e), 0);
	assert_int_equal(cfg_len(cfg_root(doc)), CFG_NODES_MAX - 1);
	cfg_doc_free(doc);
	free(s);
	s = flat(CFG_NODES_MAX, &len);
	load_bad_n(s, len, &e);
	snprintf(want, sizeof(want), F ":1: more than %d values in the file "
	    "(keys, values and list items); this is not a script or template "
	    "Cairn reads", CFG_NODES_MAX);
	only_msg(&e, want);
	cfg_errors_free(&e);
	free(s);
}

/* A big mapping loads in reasonable time (duplicate check is sorted). */
static void
test_big_mapping(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	char *s;
	size_t n = 0, i, k = CFG_NODES_MAX / 2 - 2;
	double t0;

	(void)state;
	s = malloc(k * 16 + 16);
	assert_non_null(s);
	for (i = 0; i < k; i++)
		n += (size_t)sprintf(s + n, "k%zu: 1\n", i);
	t0 = now();
	assert_int_equal(load_n(s, n, &doc, &e), 0);
	assert_int_equal(cfg_len(cfg_root(doc)), k);
	cfg_doc_free(doc);
	/* The same with one key repeated at the end. */
	n += (size_t)sprintf(s + n, "k7: 2\n");
	load_bad_n(s, n, &e);
	only_msg(&e, F ":9999: duplicate key 'k7' (first at line 8)");
	cfg_errors_free(&e);
	if (now() - t0 > 2.0)
		fail_msg("two loads of %zu keys took %.3f s", k, now() - t0);
	free(s);
}

static void
test_nul_bytes(void **state)
{
	static const char raw[] = "a: 1\nb: x\0y\nc: 3\n";
	struct cfg_errors e = { 0 };

	(void)state;
	/* A raw NUL: libyaml refuses it, on its line. */
	load_bad_n(raw, sizeof(raw) - 1, &e);
	only_msg(&e, F ":2: control characters are not allowed (0x00 at byte "
	    "9): the file must be UTF-8 text");
	cfg_errors_free(&e);
	/* A NUL written as an escape: values hold no NUL (cfg_scalar()). */
	load_bad("a: 1\nb: \"x\\0y\"\n", &e);
	only_msg(&e, F ":2: a NUL character in 'x' (written \\0, \\x00 "
	    "or \\u0000): values cannot hold one");
	cfg_errors_free(&e);
	load_bad("a: \"\\u0000\"\n", &e);
	msg_has(&e, F ":1: ", "a NUL character");
	cfg_errors_free(&e);
}

static void
test_invalid_utf8(void **state)
{
	struct cfg_errors e = { 0 };

	(void)state;
	load_bad("a: 1\nb: caf\xe9\n", &e);
	only_msg(&e, F ":2: incomplete UTF-8 octet sequence (at byte 11): "
	    "the file must be UTF-8 text");
	cfg_errors_free(&e);
	load_bad("a: 1\n\nb: caf\xe9s\n", &e);
	only_msg(&e, F ":3: invalid trailing UTF-8 octet (0x73 at byte 13): "
	    "the file must be UTF-8 text");
	cfg_errors_free(&e);
	load_bad("a: \xff\n", &e);
	only_msg(&e, F ":1: invalid leading UTF-8 octet (0xFF at byte 3): "
	    "the file must be UTF-8 text");
	cfg_errors_free(&e);
	/* Overlong "/" (C0 AF) and a lone surrogate (ED A0 80). */
	load_bad("a: \xc0\xaf\n", &e);
	msg_has(&e, F ":1: ", "the file must be UTF-8 text");
	cfg_errors_free(&e);
	load_bad("a: \xed\xa0\x80\n", &e);
	msg_has(&e, F ":1: ", "the file must be UTF-8 text");
	cfg_errors_free(&e);
	/* Truncated at the end of the file. */
	load_bad("a: \xe6\x9d", &e);
	msg_has(&e, F ":1: ", "incomplete UTF-8 octet sequence");
	cfg_errors_free(&e);
	/* UTF-16 (with its byte order mark) is not what operators edit. */
	load_bad_n("\xff\xfe" "a\0:\0 \0" "1\0\n\0", 12, &e);
	only_msg(&e, F ":1: the file is UTF-16 (it starts with a UTF-16 byte "
	    "order mark): save it as UTF-8 text");
	cfg_errors_free(&e);
	load_bad_n("\xfe\xff" "\0a\0:\0 \0" "1\0\n", 12, &e);
	msg_has(&e, F ":1: ", "save it as UTF-8 text");
	cfg_errors_free(&e);
}

static int
has_raw_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void
test_control_chars_escaped(void **state)
{
	struct cfg_errors e = { 0 };
	struct fx x;
	size_t i;

	(void)state;
	/* Escapes in double quotes make control characters in values. */
	fx_load(&x,
	    "size: \"\\e[2J\\e[31mOK\\a\"\n"
	    "name: \"x\\u009b31m\\u202eevil\\x7f\"\n"
	    "tab: \"a\\tb\\nc\"\n");
	assert_int_equal(cfg_want_int(&x.c, x.root, "size", 1, 0, 9, 0), 0);
	assert_int_equal(cfg_want_bool(&x.c, x.root, "name", 1, 0), 0);
	assert_int_equal(cfg_want_int(&x.c, x.root, "tab", 1, 0, 9, 0), 0);
	assert_int_equal(x.e.n, 3);
	msg_is(&x.e, 0, F ":1: size: want an integer from 0 to 9, have "
	    "'\\x1b[2J\\x1b[31mOK\\x07'");
	msg_is(&x.e, 1, F ":2: name: want true or false, have "
	    "'x\\u009b31m\\u202eevil\\x7f' (quoted: write true or false "
	    "without quotes)");
	msg_is(&x.e, 2, F ":3: tab: want an integer from 0 to 9, have "
	    "'a\\x09b\\x0ac'");
	for (i = 0; i < x.e.n; i++)
		assert_false(has_raw_control(x.e.msg[i]));
	fx_free(&x);

	/* In a loader message, and in the file name. */
	load_bad("\"k\\e[1m\": 1\n", &e);
	only_msg(&e, F ":1: key 'k\\x1b[1m' must be written plain, without "
	    "quotes, block indicator or tag");
	cfg_errors_free(&e);
	cfg_errors_add(&e, "evil\n\x1b[2Jname.yaml", 2, "bad %s", "\r\x9b");
	only_msg(&e, "evil\\x0a\\x1b[2Jname.yaml:2: bad \\x0d\\x9b");
	cfg_errors_free(&e);
}

static void
test_three_problems(void **state)
{
	static const char three[] =
	    "ceremony: root-init\n"       /* 1 */
	    "key: &k\n"                   /* 2: an anchor */
	    "  label: root-2026\n"        /* 3 */
	    "certificate:\n"              /* 4 */
	    "  subject: !custom x\n"      /* 5: a tag */
	    "  serial: 1\n"               /* 6 */
	    "  subject: y\n";             /* 7: a duplicate key */
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	int r;

	(void)state;
	r = load_n(three, sizeof(three) - 1, &doc, &e);
	assert_int_equal(r, CAIRN_E_CONFIG);
	assert_null(doc);
	assert_int_equal(e.n, 3);
	msg_has(&e, F ":2: ", "anchor '&k' refused");
	msg_is(&e, 1, F ":5: tag '!custom' refused: only the core tags !!str, "
	    "!!int, !!bool, !!null, !!float, !!map and !!seq are allowed");
	msg_is(&e, 2, F ":7: duplicate key 'subject' in 'certificate' (first "
	    "at line 5)");
	assert_non_null(strstr(cairn_errmsg(r), "3 problems"));
	cfg_errors_free(&e);

	/* Getters too: three problems in one pass over a section. */
	{
		struct fx x;

		fx_load(&x, "validity: forever\nca: yes\nsize: '4096'\n");
		(void)cfg_want_duration(&x.c, x.root, "validity", 1, 0);
		(void)cfg_want_bool(&x.c, x.root, "ca", 1, 0);
		(void)cfg_want_int(&x.c, x.root, "size", 1, 1, 8192, 0);
		(void)cfg_want_str(&x.c, x.root, "subject", 0, NULL);
		assert_int_equal(x.e.n, 3);
		fx_free(&x);
	}
}

/* Errors already in the list are kept; a load appends its own. */
static void
test_errors_accumulate(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;

	(void)state;
	cfg_errors_add(&e, "other.yaml", 1, "earlier");
	assert_int_equal(load_n("a: 1\na: 2\n", 10, &doc, &e), CAIRN_E_CONFIG);
	assert_int_equal(e.n, 2);
	msg_is(&e, 0, "other.yaml:1: earlier");
	msg_is(&e, 1, F ":2: duplicate key 'a' (first at line 1)");
	/* A good load adds nothing. */
	assert_int_equal(load_n("a: 1\n", 5, &doc, &e), 0);
	assert_int_equal(e.n, 2);
	cfg_doc_free(doc);
	cfg_errors_free(&e);
	/* A NULL list is allowed: only the return value tells. */
	assert_int_equal(cfg_load_mem(F, "a: 1\na: 2\n", 10, &doc, NULL),
	    CAIRN_E_CONFIG);
	assert_null(doc);
	assert_int_equal(cfg_load_mem(F, "a: 1\n", 5, NULL, &e), CAIRN_E_INVAL);
}

/* ---- files -------------------------------------------------------------- */

static char tmpdir[] = "/tmp/cairn-test-cfg-XXXXXX";

static int
setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_load_file(void **state)
{
	struct cfg_errors e = { 0 };
	struct cfg_doc *doc;
	char good[256], bad[256], link[256], missing[256], big[256], want[600];
	char *buf;
	int r;

	(void)state;
	snprintf(good, sizeof(good), "%s/good.yaml", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.yaml", tmpdir);
	snprintf(link, sizeof(link), "%s/link.yaml", tmpdir);
	snprintf(missing, sizeof(missing), "%s/missing.yaml", tmpdir);
	snprintf(big, sizeof(big), "%s/big.yaml", tmpdir);
	write_file(good, ceremony, sizeof(ceremony) - 1);
	write_file(bad, "a: 1\n\nb: *x\n", 12);
	assert_int_equal(symlink(good, link), 0);

	r = cfg_load_file(good, &doc, &e);
	assert_int_equal(r, 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(cfg_doc_name(doc), good);
	assert_string_equal(cfg_scalar(cfg_get(cfg_root(doc), "ceremony")),
	    "root-init");
	cfg_doc_free(doc);

	/* The file's own name is in the messages. */
	r = cfg_load_file(bad, &doc, &e);
	assert_int_equal(r, CAIRN_E_CONFIG);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s:3: alias '*x' refused: YAML anchors "
	    "and aliases are not allowed, write each value out in full", bad);
	only_msg(&e, want);
	cfg_errors_free(&e);

	r = cfg_load_file(missing, &doc, &e);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	only_msg(&e, want);
	assert_string_equal(cairn_errmsg(r), want);
	cfg_errors_free(&e);

	r = cfg_load_file(tmpdir, &doc, &e);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	only_msg(&e, want);
	cfg_errors_free(&e);

	/* A symbolic link is refused, even to a good file. */
	r = cfg_load_file(link, &doc, &e);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(doc);
	msg_has(&e, link, "(symbolic links are refused)");
	assert_int_equal(e.n, 1);
	cfg_errors_free(&e);

	buf = malloc(CFG_FILE_MAX + 1);
	assert_non_null(buf);
	memset(buf, '#', CFG_FILE_MAX + 1);
	write_file(big, buf, CFG_FILE_MAX + 1);
	free(buf);
	r = cfg_load_file(big, &doc, &e);
	assert_int_equal(r, CAIRN_E_TOO_LARGE);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s: 262145 bytes, more than the 262144 "
	    "allowed", big);
	only_msg(&e, want);
	cfg_errors_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceremony),
		cmocka_unit_test(test_brief_messages),
		cmocka_unit_test(test_want_str),
		cmocka_unit_test(test_want_int),
		cmocka_unit_test(test_want_bool),
		cmocka_unit_test(test_want_enum),
		cmocka_unit_test(test_want_time),
		cmocka_unit_test(test_want_duration),
		cmocka_unit_test(test_want_oid),
		cmocka_unit_test(test_want_strlist),
		cmocka_unit_test(test_want_map_seq),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_fail_and_add),
		cmocka_unit_test(test_tree_api),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_keys_plain),
		cmocka_unit_test(test_anchors_aliases),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_too_many_problems),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_file_max),
		cmocka_unit_test(test_depth_max),
		cmocka_unit_test(test_nodes_max),
		cmocka_unit_test(test_big_mapping),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_control_chars_escaped),
		cmocka_unit_test(test_three_problems),
		cmocka_unit_test(test_errors_accumulate),
		cmocka_unit_test_setup_teardown(test_load_file, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
