/*
 * test_template.c: certificate templates (sub-ca/template.c).
 *
 * A template is the online CA's policy, and the attacks on AD CS show
 * where such a policy breaks: an enrollee who picks the name in a login
 * certificate (ESC1), a certificate for any purpose (ESC2), a request
 * attribute that becomes a name (ESC6), a request extension that becomes
 * an EKU (ESC15), a template anyone can edit (ESC4/5).  So these tests
 * pin down, with the exact message an operator reads, every lint that
 * refuses such a template at load time, and feed template_apply() real
 * PKCS#10 requests built here with OpenSSL that try each trick, checking
 * that nothing the template does not allow reaches the profile and that
 * each dropped part is noted.  Every accepted case has its off-by-one or
 * malformed twin next to it.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/profile.h"
#include "sub-ca/template.h"
#include "tests/unit/harness.h"

#define F "T.yaml"
#define NOW 1750000000LL

static EVP_PKEY *rsa1024, *rsa2047, *rsa2048, *rsa3072, *rsa4096;
static EVP_PKEY *p256, *p384, *p521, *ed25519;
static char tmpdir[256];
static int dirseq;

static char *enrollee_roles[] = { "enrollee", NULL };
static const struct tpl_identity bob = { "bob", "bob@example.org",
	enrollee_roles, NULL };

/* ---- helpers -------------------------------------------------------- */

static void
dump(const struct cfg_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("#   %s\n", e->msg[i]);
}

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

static void
count_is(const struct cfg_errors *e, size_t n)
{
	if (e->n != n) {
		dump(e);
		fail_msg("%zu messages, want %zu", e->n, n);
	}
}

static void
expect(int r, int code, const char *text)
{
	if (r != code)
		fail_msg("want %s, have %s: %s", cairn_errname(code),
		    cairn_errname(r), cairn_errmsg(r));
	if (text != NULL && strcmp(cairn_errmsg(r), text) != 0)
		fail_msg("message is\n  \"%s\"\nwant\n  \"%s\"",
		    cairn_errmsg(r), text);
}

/*
 * The base template, one key per line.  tpl() replaces the lines named
 * in `omit` ("7,9") by comments, so that line numbers never move, and
 * appends `extra` from line 10 on.
 */
static const char *const base[] = {
	"template: T",                                                /* 1 */
	"version: 1",                                                 /* 2 */
	"validity: 90d",                                              /* 3 */
	"enroll: { roles: [enrollee] }",                              /* 4 */
	"keys: [rsa-2048, ec-p256]",                                  /* 5 */
	"key_usage: [digitalSignature, keyEncipherment]",             /* 6 */
	"extended_key_usage: [serverAuth]",                           /* 7 */
	"subject: { CN: { from: request, patterns: [\"*.example.org\"] } }",
	"san: { dns: { from: request, suffixes: [example.org], max: 3 } }",
};
#define NBASE (sizeof(base) / sizeof(base[0]))

static char *
tpl_text(const char *omit, const char *extra)
{
	char *buf = NULL, num[8];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < NBASE; i++) {
		snprintf(num, sizeof(num), "%zu", i + 1);
		if (omit != NULL && strstr(omit, num) != NULL)
			fprintf(f, "# (line %zu left out)\n", i + 1);
		else
			fprintf(f, "%s\n", base[i]);
	}
	fprintf(f, "%s", extra != NULL ? extra : "");
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Load through an exact-size heap copy, so an over-read shows in ASan. */
static int
tpl_load(const char *omit, const char *extra, struct template **t,
    struct cfg_errors *e)
{
	char *text = tpl_text(omit, extra), *copy;
	size_t len = strlen(text);
	int r;

	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, text, len);
	*t = (struct template *)&e; /* must be overwritten */
	r = template_load_mem(F, copy, len, t, e);
	free(copy);
	free(text);
	return r;
}

static struct template *
tpl_ok(const char *omit, const char *extra)
{
	struct cfg_errors e = { 0 };
	struct template *t;
	int r = tpl_load(omit, extra, &t, &e);

	if (r != 0 || e.n != 0 || t == NULL) {
		dump(&e);
		fail_msg("load failed: %s", cairn_errname(r));
	}
	return t;
}

/* The template must be refused with exactly the messages given. */
static void
tpl_bad(const char *omit, const char *extra, ...)
{
	struct cfg_errors e = { 0 };
	struct template *t;
	const char *want;
	va_list ap;
	size_t n = 0;
	int r = tpl_load(omit, extra, &t, &e);

	if (r != CAIRN_E_CONFIG) {
		dump(&e);
		if (r == 0)
			template_free(t);
		fail_msg("load: %s, want CAIRN_E_CONFIG", cairn_errname(r));
	}
	assert_null(t);
	va_start(ap, extra);
	while ((want = va_arg(ap, const char *)) != NULL)
		msg_is(&e, n++, want);
	va_end(ap);
	count_is(&e, n);
	cfg_errors_free(&e);
}

static EVP_PKEY *
keygen(const char *type, const char *curve, size_t bits)
{
	EVP_PKEY *k;

	if (curve != NULL)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type, curve);
	else if (bits != 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type, bits);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(k);
	return k;
}

/* ---- requests ------------------------------------------------------- */

struct rq {
	X509_REQ *x;
	GENERAL_NAMES *san;
	STACK_OF(X509_EXTENSION) *exts;
};

static void
rq_init(struct rq *q, EVP_PKEY *key)
{
	q->x = X509_REQ_new();
	assert_non_null(q->x);
	assert_int_equal(X509_REQ_set_version(q->x, 0), 1);
	assert_int_equal(X509_REQ_set_pubkey(q->x, key), 1);
	q->san = NULL;
	q->exts = sk_X509_EXTENSION_new_null();
	assert_non_null(q->exts);
}

static void
rq_subj_type(struct rq *q, const char *type, int strtype, const void *v,
    int len)
{
	assert_int_equal(X509_NAME_add_entry_by_txt(
	    X509_REQ_get_subject_name(q->x), type, strtype,
	    (const unsigned char *)v, len, -1, 0), 1);
}

static void
rq_subj(struct rq *q, const char *type, const char *v)
{
	rq_subj_type(q, type, MBSTRING_UTF8, v, -1);
}

/* A GeneralName of `type` holding `len` bytes, as they are. */
static void
rq_gen(struct rq *q, int type, const void *data, int len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() :
	    ASN1_IA5STRING_new();

	assert_non_null(g);
	assert_non_null(s);
	assert_int_equal(ASN1_STRING_set(s, data, len), 1);
	GENERAL_NAME_set0_value(g, type, s);
	if (q->san == NULL)
		assert_non_null(q->san = GENERAL_NAMES_new());
	assert_true(sk_GENERAL_NAME_push(q->san, g) > 0);
}

static void
rq_dns(struct rq *q, const char *s)
{
	rq_gen(q, GEN_DNS, s, (int)strlen(s));
}

static void
rq_email(struct rq *q, const char *s)
{
	rq_gen(q, GEN_EMAIL, s, (int)strlen(s));
}

static void
rq_uri(struct rq *q, const char *s)
{
	rq_gen(q, GEN_URI, s, (int)strlen(s));
}

static void
rq_ip(struct rq *q, const char *s)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		rq_gen(q, GEN_IPADD, a, 4);
	else if (inet_pton(AF_INET6, s, a) == 1)
		rq_gen(q, GEN_IPADD, a, 16);
	else
		fail_msg("bad address %s", s);
}

/* An otherName of type `oid` holding a UTF8String. */
static void
rq_other(struct rq *q, const char *oid, const char *s)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_TYPE *v = ASN1_TYPE_new();
	ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();

	assert_non_null(g);
	assert_non_null(v);
	assert_non_null(u);
	assert_int_equal(ASN1_STRING_set(u, s, -1), 1);
	ASN1_TYPE_set(v, V_ASN1_UTF8STRING, u);
	assert_int_equal(GENERAL_NAME_set0_othername(g, OBJ_txt2obj(oid, 1),
	    v), 1);
	if (q->san == NULL)
		assert_non_null(q->san = GENERAL_NAMES_new());
	assert_true(sk_GENERAL_NAME_push(q->san, g) > 0);
}

/* An extension made by OpenSSL's config syntax ("critical,CA:TRUE"). */
static void
rq_ext_conf(struct rq *q, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	assert_non_null(e);
	assert_true(sk_X509_EXTENSION_push(q->exts, e) > 0);
}

/* An extension of `oid` whose value is `der` as it is. */
static void
rq_ext_raw(struct rq *q, const char *oid, int crit, const void *der,
    int len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	X509_EXTENSION *e;

	assert_non_null(os);
	assert_non_null(o);
	assert_int_equal(ASN1_OCTET_STRING_set(os, der, len), 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, crit, os);
	assert_non_null(e);
	assert_true(sk_X509_EXTENSION_push(q->exts, e) > 0);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

/* The SAN built so far as an extension, in its place among the others. */
static void
rq_san_ext(struct rq *q)
{
	X509_EXTENSION *e;

	if (q->san == NULL)
		return;
	e = X509V3_EXT_i2d(NID_subject_alt_name, 0, q->san);
	assert_non_null(e);
	assert_true(sk_X509_EXTENSION_push(q->exts, e) > 0);
	GENERAL_NAMES_free(q->san);
	q->san = NULL;
}

static X509_REQ *
rq_done(struct rq *q, EVP_PKEY *key)
{
	X509_REQ *x = q->x;

	rq_san_ext(q);
	if (sk_X509_EXTENSION_num(q->exts) > 0)
		assert_int_equal(X509_REQ_add_extensions(x, q->exts), 1);
	sk_X509_EXTENSION_pop_free(q->exts, X509_EXTENSION_free);
	assert_true(X509_REQ_sign(x, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	assert_int_equal(X509_REQ_verify(x, key), 1);
	return x;
}

/* A request with CN `cn` (NULL: none) and DNS names. */
static X509_REQ *
req_dns(EVP_PKEY *key, const char *cn, ...)
{
	struct rq q;
	const char *s;
	va_list ap;

	rq_init(&q, key);
	if (cn != NULL)
		rq_subj(&q, "CN", cn);
	va_start(ap, cn);
	while ((s = va_arg(ap, const char *)) != NULL)
		rq_dns(&q, s);
	va_end(ap);
	return rq_done(&q, key);
}

/* ---- applying ------------------------------------------------------- */

struct out {
	struct profile *p;
	char **notes;
};

static void
out_free(struct out *o)
{
	size_t i;

	profile_free(o->p);
	for (i = 0; o->notes != NULL && o->notes[i] != NULL; i++)
		free(o->notes[i]);
	free(o->notes);
	memset(o, 0, sizeof(*o));
}

static int
apply(const struct template *t, const struct tpl_identity *id,
    X509_REQ *x, struct out *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->p = profile_new();
	assert_non_null(o->p);
	o->notes = (char **)&o; /* must be overwritten */
	r = template_apply(t, id, x, NOW, o->p, &o->notes);
	if (r != 0)
		assert_null(o->notes);
	return r;
}

/* Apply must succeed. */
static void
apply_ok(const struct template *t, const struct tpl_identity *id,
    X509_REQ *x, struct out *o)
{
	int r = apply(t, id, x, o);

	if (r != 0)
		fail_msg("apply: %s: %s", cairn_errname(r), cairn_errmsg(r));
}

/* Apply must fail with `code` and `text`; the profile stays empty. */
static void
apply_bad(const struct template *t, const struct tpl_identity *id,
    X509_REQ *x, int code, const char *text)
{
	struct out o;
	int r = apply(t, id, x, &o);

	expect(r, code, text);
	assert_null(o.p->subject);
	assert_null(o.p->san_dns);
	assert_null(o.p->san_ip);
	assert_null(o.p->san_email);
	assert_null(o.p->eku);
	assert_null(o.p->extra);
	assert_int_equal(o.p->key_usage, 0);
	out_free(&o);
}

/* "CN=a/O=b", the subject in order. */
static const char *
subj(const X509_NAME *n, char *buf, size_t size)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *s;
	int i;

	buf[0] = '\0';
	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		e = X509_NAME_get_entry(n, i);
		s = X509_NAME_ENTRY_get_data(e);
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s=%.*s",
		    i ? "/" : "", OBJ_nid2sn(OBJ_obj2nid(
		    X509_NAME_ENTRY_get_object(e))), ASN1_STRING_length(s),
		    (const char *)ASN1_STRING_get0_data(s));
	}
	return buf;
}

static void
subj_is(const struct profile *p, const char *want)
{
	char buf[1024];

	assert_string_equal(subj(p->subject, buf, sizeof(buf)), want);
}

/* "a,b,c" for a NULL-terminated list ("" for NULL). */
static const char *
join(char *const *v, char *buf, size_t size)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; v != NULL && v[i] != NULL; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
		    i ? "," : "", v[i]);
	return buf;
}

static void
list_is(char *const *v, const char *want)
{
	char buf[4096];

	assert_string_equal(join(v, buf, sizeof(buf)), want);
}

/* The notes must be exactly those given. */
static void
notes_are(char **notes, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	va_start(ap, notes);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (notes == NULL || notes[i] == NULL)
			fail_msg("no note %zu, want \"%s\"", i, want);
		else if (strcmp(notes[i], want) != 0)
			fail_msg("note %zu is\n  \"%s\"\nwant\n  \"%s\"", i,
			    notes[i], want);
		i++;
	}
	va_end(ap);
	if (notes != NULL && notes[i] != NULL)
		fail_msg("unexpected note %zu: \"%s\"", i, notes[i]);
	if (i == 0)
		assert_null(notes);
}

/* ---- files ---------------------------------------------------------- */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A fresh directory (mode 0755) under tmpdir; its path into `out`. */
static const char *
new_dir(char out[300])
{
	snprintf(out, 300, "%s/d%d", tmpdir, ++dirseq);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(chmod(out, 0755), 0);
	return out;
}

/* A small valid template called `name`. */
static void
write_tpl(const char *dir, const char *file, const char *name, mode_t mode)
{
	char path[400], text[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(text, sizeof(text), "template: %s\nversion: 1\n"
	    "validity: 30d\nenroll: { roles: [enrollee] }\n"
	    "keys: [ec-p256]\nkey_usage: [digitalSignature]\n"
	    "extended_key_usage: [clientAuth]\nsubject: { CN: { from: "
	    "account } }\n", name);
	write_file(path, text, mode);
}

/* The source tree: CAIRN_SRCDIR under make check; run by hand, where
 * this file was compiled from (configure was given an absolute path). */
static const char *
src_dir(char out[PATH_MAX])
{
	const char *src = getenv("CAIRN_SRCDIR");
	size_t n = strlen(__FILE__) - strlen("/tests/unit/test_template.c");

	if (src != NULL && src[0] != '\0')
		snprintf(out, PATH_MAX, "%s", src);
	else if (__FILE__[0] == '/')
		snprintf(out, PATH_MAX, "%.*s", (int)n, __FILE__);
	else
		fail_msg("CAIRN_SRCDIR is not set: run through make check");
	return out;
}

static int
dir_load(const char *dir, struct template_set **s, struct cfg_errors *e)
{
	*s = (struct template_set *)&e; /* must be overwritten */
	return template_load_dir(dir, s, e);
}

/* The directory must be refused with exactly the messages given. */
static void
dir_bad(const char *dir, ...)
{
	struct cfg_errors e = { 0 };
	struct template_set *s;
	const char *want;
	va_list ap;
	size_t n = 0;
	int r = dir_load(dir, &s, &e);

	if (r != CAIRN_E_CONFIG) {
		dump(&e);
		template_set_free(r == 0 ? s : NULL);
		fail_msg("load: %s, want CAIRN_E_CONFIG", cairn_errname(r));
	}
	assert_null(s);
	va_start(ap, dir);
	while ((want = va_arg(ap, const char *)) != NULL)
		msg_is(&e, n++, want);
	va_end(ap);
	count_is(&e, n);
	cfg_errors_free(&e);
}

static struct template_set *
dir_ok(const char *dir, size_t n)
{
	struct cfg_errors e = { 0 };
	struct template_set *s;
	int r = dir_load(dir, &s, &e);

	if (r != 0) {
		dump(&e);
		fail_msg("load %s: %s", dir, cairn_errname(r));
	}
	count_is(&e, 0);
	assert_non_null(s);
	assert_int_equal(s->n, n);
	return s;
}

/* ---- loading -------------------------------------------------------- */

static void
test_base(void **state)
{
	unsigned char md[32];
	char hex[65], *t0;
	struct template *t;
	size_t i;

	(void)state;
	t = tpl_ok(NULL, "description: Test servers\npolicies: [2.23.140.1."
	    "2.1]\ncsr_extensions: [1.3.6.1.4.1.99999.1]\n");
	assert_string_equal(t->name, "T");
	assert_string_equal(t->path, F);
	assert_string_equal(t->description, "Test servers");
	assert_int_equal(t->version, 1);
	assert_int_equal(t->validity, 90 * 86400);
	assert_false(t->approval);
	list_is(t->roles, "enrollee");
	assert_null(t->groups);
	assert_int_equal(t->keys, TPL_KEY_RSA_2048 | TPL_KEY_EC_P256);
	assert_int_equal(t->key_usage, PROFILE_KU_DIGITAL_SIGNATURE |
	    PROFILE_KU_KEY_ENCIPHERMENT);
	list_is(t->eku, "serverAuth");
	list_is(t->policies, "2.23.140.1.2.1");
	assert_false(t->ocsp_nocheck);
	assert_false(t->auth);
	assert_int_equal(t->n_subject, 1);
	assert_string_equal(t->subject[0].type, "CN");
	assert_int_equal(t->subject[0].from, TPL_REQUEST);
	list_is(t->subject[0].patterns, "*.example.org");
	assert_false(t->subject[0].required);
	assert_int_equal(t->dns.from, TPL_REQUEST);
	list_is(t->dns.allowed, "example.org");
	assert_int_equal(t->dns.max, 3);
	assert_false(t->dns.wildcards);
	assert_false(t->dns.include_cn);
	assert_int_equal(t->ip.from, TPL_NONE);
	assert_int_equal(t->email.from, TPL_NONE);
	list_is(t->csr_extensions, "1.3.6.1.4.1.99999.1");
	/* The digest is SHA-256 of the bytes, computed independently. */
	t0 = tpl_text(NULL, "description: Test servers\npolicies: [2.23.140."
	    "1.2.1]\ncsr_extensions: [1.3.6.1.4.1.99999.1]\n");
	assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, t0, strlen(t0),
	    md, NULL), 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(t->digest, hex);
	free(t0);
	template_free(t);
	/* One more byte (a comment) is another digest. */
	t = tpl_ok(NULL, "#\n");
	assert_string_not_equal(t->digest, hex);
	template_free(t);
	template_free(NULL);
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	tpl_bad(NULL, "subjct: {}\n",
	    F ":10: unknown key 'subjct'; did you mean 'subject'?", NULL);
	tpl_bad(NULL, "approvals: true\n",
	    F ":10: unknown key 'approvals'; did you mean 'approval'?", NULL);
	tpl_bad(NULL, "colour: blue\n",
	    F ":10: unknown key 'colour' (known keys: template, version, "
	    "description, validity, approval, enroll, keys, key_usage, "
	    "extended_key_usage, policies, ocsp_nocheck, subject, san, "
	    "csr_extensions, attestation, attestation_trust)", NULL);
	tpl_bad("9", "san: { dns: { from: request, sufixes: [example.org] } "
	    "}\n",
	    F ":10: unknown key 'sufixes' in 'san.dns'; did you mean "
	    "'suffixes'?",
	    F ":10: san.dns: from: request needs suffixes (else an enrollee "
	    "could ask for any name)", NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [example.org], "
	    "wildcard: true } }\n",
	    F ":10: unknown key 'wildcard' in 'san.dns'; did you mean "
	    "'wildcards'?", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.0/24], "
	    "include_cn: true } }\n",
	    F ":10: unknown key 'include_cn' in 'san.ip' (known keys: from, "
	    "networks, max)", NULL);
	tpl_bad("9", "san: { dsn: { from: request } }\n",
	    F ":10: unknown key 'dsn' in 'san'; did you mean 'dns'?", NULL);
	tpl_bad("8", "subject: { CN: { from: request, pattern: [x] } }\n",
	    F ":10: unknown key 'pattern' in 'subject.CN'; did you mean "
	    "'patterns'?",
	    F ":10: subject.CN: from: request needs patterns (else an "
	    "enrollee could ask for any name)", NULL);
	tpl_bad("4", "enroll: { role: [enrollee] }\n",
	    F ":10: unknown key 'role' in 'enroll'; did you mean 'roles'?",
	    NULL);
}

static void
test_wrong_types(void **state)
{
	struct template *t;
	char name[80], extra[128];

	(void)state;
	tpl_bad("2", "version: one\n", F ":10: version: want an integer of "
	    "at least 1, have 'one' (decimal digits only, no leading zeros, "
	    "'+', '_', or 0x)", NULL);
	tpl_bad("2", "version: 0\n", F ":10: version: want an integer of "
	    "at least 1, have '0' (out of range)", NULL);
	tpl_bad("2", NULL, F ":1: missing required key 'version'", NULL);
	tpl_bad("3", "validity: forever\n", F ":10: validity: want a "
	    "duration such as 20y or 365d, have 'forever'", NULL);
	tpl_bad("3", "validity: 59m\n",
	    F ":10: validity: 59m is outside 1h to 825d", NULL);
	t = tpl_ok("3", "validity: 1h\n");
	assert_int_equal(t->validity, 3600);
	template_free(t);
	t = tpl_ok("3", "validity: 825d\n");
	assert_int_equal(t->validity, 825LL * 86400);
	template_free(t);
	tpl_bad("3", "validity: 826d\n",
	    F ":10: validity: 826d is outside 1h to 825d", NULL);
	tpl_bad("3", "validity: 3y\n",
	    F ":10: validity: 3y is outside 1h to 825d", NULL);
	tpl_bad(NULL, "approval: yes\n", F ":10: approval: want true or "
	    "false, have 'yes' (write true or false: YAML 1.1 spellings are "
	    "ambiguous)", NULL);
	tpl_bad("5", "keys: rsa-2048\n", F ":10: keys: want a list of "
	    "strings, have 'rsa-2048'", NULL);
	tpl_bad("4", "enroll: [enrollee]\n", F ":10: enroll: want a mapping, "
	    "have a list", NULL);
	tpl_bad("8,9", "subject: [CN]\n", F ":10: subject: want a mapping, "
	    "have a list", NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [example.org], "
	    "max: 0 } }\n", F ":10: san.dns.max: want an integer from 1 to "
	    "100, have '0' (out of range)", NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [example.org], "
	    "max: 101 } }\n", F ":10: san.dns.max: want an integer from 1 "
	    "to 100, have '101' (out of range)", NULL);
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [example.org]"
	    ", max: 100 } }\n");
	assert_int_equal(t->dns.max, 100);
	template_free(t);
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [example.org]"
	    " } }\n");
	assert_int_equal(t->dns.max, 1);
	template_free(t);
	tpl_bad("8", "subject: { CN: { from: fixed, patterns: [x] } }\n",
	    F ":10: subject.CN.from: want one of request, account, have "
	    "'fixed'", NULL);
	tpl_bad("8", "subject: { CN: { patterns: [x] } }\n",
	    F ":10: missing required key 'from' in 'subject.CN'", NULL);
	tpl_bad("1", "template: Web Server\n", F ":10: template: \"Web "
	    "Server\" is not a template name (1 to 64 letters, digits, '-' "
	    "and '_')", NULL);
	tpl_bad("1", "template: ''\n", F ":10: template: \"\" is not a "
	    "template name (1 to 64 letters, digits, '-' and '_')", NULL);
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(extra, sizeof(extra), "template: %s\n", name);
	t = tpl_ok("1", extra);
	assert_string_equal(t->name, name);
	template_free(t);
	snprintf(extra, sizeof(extra), "template: %sa\n", name);
	tpl_bad("1", extra, "T.yaml:10: template: \"aaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not a template "
	    "name (1 to 64 letters, digits, '-' and '_')", NULL);
	/* Not a mapping at all, and not YAML. */
	tpl_bad("1,2,3,4,5,6,7,8,9", "- a\n",
	    F ":10: a template is a mapping (key: value lines)", NULL);
}

static void
test_parse_errors(void **state)
{
	struct cfg_errors e = { 0 };
	struct template *t;
	int r;

	(void)state;
	t = (struct template *)&e;
	r = template_load_mem(F, "template: [", 11, &t, &e);
	assert_int_equal(r, CAIRN_E_CONFIG);
	assert_null(t);
	count_is(&e, 1);
	assert_non_null(strstr(e.msg[0], F ":2: "));
	cfg_errors_free(&e);
	/* A duplicate key is cfg's refusal, seen through templates too. */
	tpl_bad(NULL, "version: 2\n", F ":10: duplicate key 'version' "
	    "(first at line 2)", NULL);
	/* errs may be NULL: the template is refused all the same. */
	r = template_load_mem(F, "x: 1\n", 5, &t, NULL);
	assert_int_equal(r, CAIRN_E_CONFIG);
	assert_null(t);
}

/* ESC2: a certificate without an EKU, or with anyExtendedKeyUsage, is
 * valid for anything. */
static void
test_lint_eku(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("7", "extended_key_usage: []\n", F ":10: extended_key_usage: "
	    "empty: a certificate without one is valid for any purpose "
	    "(ESC2); name what certificates are for", NULL);
	tpl_bad("7", NULL, F ":1: missing required key 'extended_key_usage'",
	    NULL);
	tpl_bad("7", "extended_key_usage: [serverAuth, anyExtendedKeyUsage]\n",
	    F ":10: extended_key_usage: anyExtendedKeyUsage is never issued: "
	    "it is valid for any purpose (ESC2)", NULL);
	tpl_bad("7", "extended_key_usage: [2.5.29.37.0]\n",
	    F ":10: extended_key_usage: anyExtendedKeyUsage is never issued: "
	    "it is valid for any purpose (ESC2)", NULL);
	tpl_bad("7", "extended_key_usage: [serverAuht]\n",
	    F ":10: extended_key_usage: \"serverAuht\" is not a known name "
	    "(serverAuth, clientAuth, OCSPSigning, ...) nor a dotted OID",
	    NULL);
	tpl_bad("7", "extended_key_usage: [1.3.6.01]\n",
	    F ":10: extended_key_usage: \"1.3.6.01\" is not a known name "
	    "(serverAuth, clientAuth, OCSPSigning, ...) nor a dotted OID",
	    NULL);
	tpl_bad("7", "extended_key_usage: [serverAuth, 1.3.6.1.5.5.7.3.1]\n",
	    F ":10: extended_key_usage: \"1.3.6.1.5.5.7.3.1\" is listed "
	    "twice", NULL);
	/* The twins: a private EKU by OID, and a known one by name. */
	t = tpl_ok("7", "extended_key_usage: [serverAuth, "
	    "1.3.6.1.4.1.99999.3.1]\n");
	list_is(t->eku, "serverAuth,1.3.6.1.4.1.99999.3.1");
	template_free(t);
}

/* ESC1: a login certificate whose name the enrollee picks. */
static void
test_lint_esc1(void **state)
{
	static const struct {
		const char *eku, *name;
	} auth[] = {
		{ "clientAuth", "clientAuth" },
		{ "1.3.6.1.5.5.7.3.2", "clientAuth" },
		{ "1.3.6.1.4.1.311.20.2.2", "smartcardLogon" },
		{ "1.3.6.1.5.2.3.4", "PKINIT client" },
		{ "1.3.6.1.4.1.311.20.2.1", "certificate request agent" },
	};
	char extra[256], m1[256], m2[256];
	struct template *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
		snprintf(extra, sizeof(extra), "extended_key_usage: "
		    "[serverAuth, %s]\n", auth[i].eku);
		snprintf(m1, sizeof(m1), F ":8: subject.CN: from: request in "
		    "an authentication template (%s) needs approval: true, "
		    "or take the name from: account (ESC1)", auth[i].name);
		snprintf(m2, sizeof(m2), F ":9: san.dns: from: request in an "
		    "authentication template (%s) needs approval: true, or "
		    "take the name from: account (ESC1)", auth[i].name);
		tpl_bad("7", extra, m1, m2, NULL);
		/* Twin: a certificate manager approves each request. */
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		    "approval: true\n");
		t = tpl_ok("7", extra);
		assert_true(t->auth);
		assert_true(t->approval);
		template_free(t);
	}
	/* Each name source on its own. */
	tpl_bad("7,8", "extended_key_usage: [clientAuth]\n",
	    F ":9: san.dns: from: request in an authentication template "
	    "(clientAuth) needs approval: true, or take the name from: "
	    "account (ESC1)", NULL);
	tpl_bad("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { O: "
	    "Example, OU: { from: request, patterns: [Sales] } }\n",
	    F ":11: subject.OU: from: request in an authentication template "
	    "(clientAuth) needs approval: true, or take the name from: "
	    "account (ESC1)", NULL);
	tpl_bad("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { CN: "
	    "{ from: account } }\nsan: { email: { from: request, domains: "
	    "[example.org] } }\n",
	    F ":12: san.email: from: request in an authentication template "
	    "(clientAuth) needs approval: true, or take the name from: "
	    "account (ESC1)", NULL);
	tpl_bad("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { CN: "
	    "{ from: account } }\nsan: { ip: { from: request, networks: "
	    "[10.0.0.0/8] } }\n",
	    F ":12: san.ip: from: request in an authentication template "
	    "(clientAuth) needs approval: true, or take the name from: "
	    "account (ESC1)", NULL);
	/* Twin: every name from the account, no approval needed. */
	t = tpl_ok("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { "
	    "O: Example, CN: { from: account } }\nsan: { email: { from: "
	    "account } }\n");
	assert_true(t->auth);
	assert_false(t->approval);
	assert_int_equal(t->subject[0].from, TPL_FIXED);
	assert_string_equal(t->subject[0].value, "Example");
	assert_int_equal(t->subject[1].from, TPL_ACCOUNT);
	assert_int_equal(t->email.from, TPL_ACCOUNT);
	template_free(t);
	/* serverAuth alone (the base) is no authentication template. */
	t = tpl_ok(NULL, NULL);
	assert_false(t->auth);
	template_free(t);
}

/* ESC15 and its kin: extensions that only the template or the CA make. */
static void
test_lint_csr_extensions(void **state)
{
	static const struct {
		const char *oid, *msg;
	} refused[] = {
		{ "2.5.29.19", "2.5.29.19 (basicConstraints) is made by the "
		    "template or the CA, never copied from a request" },
		{ "2.5.29.15", "2.5.29.15 (keyUsage) is made by the template "
		    "or the CA, never copied from a request" },
		{ "2.5.29.37", "2.5.29.37 (extendedKeyUsage) is made by the "
		    "template or the CA, never copied from a request" },
		{ "2.5.29.17", "2.5.29.17 (subjectAltName) is made by the "
		    "template or the CA, never copied from a request" },
		{ "2.5.29.14", "2.5.29.14 (subjectKeyIdentifier) is made by "
		    "the template or the CA, never copied from a request" },
		{ "2.5.29.35", "2.5.29.35 (authorityKeyIdentifier) is made by "
		    "the template or the CA, never copied from a request" },
		{ "2.5.29.31", "2.5.29.31 (cRLDistributionPoints) is made by "
		    "the template or the CA, never copied from a request" },
		{ "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.1.1 "
		    "(authorityInfoAccess) is made by the template or the CA, "
		    "never copied from a request" },
		{ "2.5.29.32", "2.5.29.32 (certificatePolicies) is made by the "
		    "template or the CA, never copied from a request" },
		{ "2.5.29.30", "2.5.29.30 (nameConstraints) is made by the "
		    "template or the CA, never copied from a request" },
		{ "1.3.6.1.5.5.7.48.1.5", "1.3.6.1.5.5.7.48.1.5 (ocsp-nocheck) "
		    "is made by the template or the CA, never copied from a "
		    "request" },
		{ "1.3.6.1.4.1.311.21.10", "1.3.6.1.4.1.311.21.10 (Microsoft "
		    "application policies) is never copied from a request: it "
		    "acts as an EKU on Windows (ESC15)" },
		{ "1.3.6.1.4.1.311.25.2", "1.3.6.1.4.1.311.25.2 (Microsoft SID "
		    "extension) is never copied from a request: it maps the "
		    "certificate to an Active Directory account" },
	};
	char extra[128], msg[300];
	struct template *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(extra, sizeof(extra), "csr_extensions: [%s]\n",
		    refused[i].oid);
		snprintf(msg, sizeof(msg), F ":10: csr_extensions: %s",
		    refused[i].msg);
		tpl_bad(NULL, extra, msg, NULL);
	}
	tpl_bad(NULL, "csr_extensions: [subjectAltName]\n",
	    F ":10: csr_extensions: \"subjectAltName\" is not a dotted OID "
	    "such as 1.3.6.1.4.1.99999.1 (only digits and dots, no empty "
	    "arc)", NULL);
	tpl_bad(NULL, "csr_extensions: [1.3.6.1.4.1.099]\n",
	    F ":10: csr_extensions: \"1.3.6.1.4.1.099\" is not a dotted OID "
	    "such as 1.3.6.1.4.1.99999.1 (no leading zeros)", NULL);
	tpl_bad(NULL, "csr_extensions: [1.3.6.1.]\n",
	    F ":10: csr_extensions: \"1.3.6.1.\" is not a dotted OID such as "
	    "1.3.6.1.4.1.99999.1 (only digits and dots, no empty arc)", NULL);
	tpl_bad(NULL, "csr_extensions: [\"3.1\"]\n",
	    F ":10: csr_extensions: \"3.1\" is not a dotted OID such as "
	    "1.3.6.1.4.1.99999.1 (an arc out of range)", NULL);
	tpl_bad(NULL, "csr_extensions: [\"1\"]\n",
	    F ":10: csr_extensions: \"1\" is not a dotted OID such as "
	    "1.3.6.1.4.1.99999.1 (at least two arcs)", NULL);
	tpl_bad(NULL, "csr_extensions: [1.3.6.1.4.1.99999.1, "
	    "1.3.6.1.4.1.99999.1]\n", F ":10: csr_extensions: "
	    "\"1.3.6.1.4.1.99999.1\" is listed twice", NULL);
	/* Twins: the parents and children of refused OIDs are others. */
	t = tpl_ok(NULL, "csr_extensions: [1.3.6.1.4.1.311.21, "
	    "1.3.6.1.4.1.311.21.10.1, 2.5.29.170]\n");
	list_is(t->csr_extensions, "1.3.6.1.4.1.311.21,"
	    "1.3.6.1.4.1.311.21.10.1,2.5.29.170");
	template_free(t);
}

static void
test_lint_key_usage(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("6", "key_usage: [digitalSignature, keyCertSign]\n",
	    F ":10: key_usage: keyCertSign is for CA certificates; templates "
	    "issue end-entity certificates only", NULL);
	tpl_bad("6", "key_usage: [cRLSign]\n", F ":10: key_usage: cRLSign is "
	    "for CA certificates; templates issue end-entity certificates "
	    "only", NULL);
	tpl_bad("6", "key_usage: [digitalsignature]\n", F ":10: key_usage: "
	    "\"digitalsignature\" is not one of digitalSignature, "
	    "nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement",
	    NULL);
	tpl_bad("6", "key_usage: []\n", F ":10: key_usage: empty: list the "
	    "key usages certificates carry", NULL);
	t = tpl_ok("6", "key_usage: [digitalSignature, nonRepudiation, "
	    "keyEncipherment, dataEncipherment, keyAgreement]\n");
	assert_int_equal(t->key_usage, PROFILE_KU_DIGITAL_SIGNATURE |
	    PROFILE_KU_NON_REPUDIATION | PROFILE_KU_KEY_ENCIPHERMENT |
	    PROFILE_KU_DATA_ENCIPHERMENT | PROFILE_KU_KEY_AGREEMENT);
	template_free(t);
}

static void
test_lint_keys(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("5", "keys: [rsa-1024]\n", F ":10: keys: \"rsa-1024\" is not "
	    "one of rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384", NULL);
	tpl_bad("5", "keys: [ec-p256, ec-p521]\n", F ":10: keys: \"ec-p521\" "
	    "is not one of rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384",
	    NULL);
	tpl_bad("5", "keys: []\n", F ":10: keys: empty: list the key types "
	    "enrollees may use", NULL);
	t = tpl_ok("5", "keys: [rsa-2048, rsa-3072, rsa-4096, ec-p256, "
	    "ec-p384]\n");
	assert_int_equal(t->keys, TPL_KEY_RSA_2048 | TPL_KEY_RSA_3072 |
	    TPL_KEY_RSA_4096 | TPL_KEY_EC_P256 | TPL_KEY_EC_P384);
	template_free(t);
}

static void
test_lint_ocsp_nocheck(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad(NULL, "ocsp_nocheck: true\n", F ":10: ocsp_nocheck: true "
	    "only goes with extended_key_usage OCSPSigning", NULL);
	t = tpl_ok("7", "extended_key_usage: [OCSPSigning]\nocsp_nocheck: "
	    "true\n");
	assert_true(t->ocsp_nocheck);
	template_free(t);
	t = tpl_ok("7", "extended_key_usage: [1.3.6.1.5.5.7.3.9]\n"
	    "ocsp_nocheck: true\n");
	assert_true(t->ocsp_nocheck);
	template_free(t);
	t = tpl_ok(NULL, "ocsp_nocheck: false\n");
	assert_false(t->ocsp_nocheck);
	template_free(t);
}

static void
test_lint_names_nobody(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("8,9", NULL, F ":1: the template names nobody: give at least "
	    "one subject field or a san rule", NULL);
	tpl_bad("8,9", "subject: {}\nsan: {}\n", F ":1: the template names "
	    "nobody: give at least one subject field or a san rule", NULL);
	t = tpl_ok("8", NULL);
	assert_int_equal(t->n_subject, 0);
	template_free(t);
	t = tpl_ok("9", NULL);
	template_free(t);
	t = tpl_ok("8,9", "subject: { O: Example }\n");
	template_free(t);
}

static void
test_lint_enroll(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("4", "enroll: { roles: [] }\n", F ":10: enroll: no role and "
	    "no group: nobody could use this template", NULL);
	tpl_bad("4", "enroll: {}\n", F ":10: enroll: no role and no group: "
	    "nobody could use this template", NULL);
	tpl_bad("4", "enroll: { roles: [], groups: [] }\n", F ":10: enroll: "
	    "no role and no group: nobody could use this template", NULL);
	tpl_bad("4", NULL, F ":1: missing required key 'enroll'", NULL);
	/* A misspelt role says so, and only that. */
	tpl_bad("4", "enroll: { roles: [enrolee] }\n", F ":10: enroll.roles: "
	    "\"enrolee\" is not one of admin, manager, auditor, enrollee",
	    NULL);
	tpl_bad("4", "enroll: { groups: [''] }\n", F ":10: groups: an empty "
	    "string", NULL);
	t = tpl_ok("4", "enroll: { groups: [web-admins, ops] }\n");
	assert_null(t->roles);
	list_is(t->groups, "web-admins,ops");
	template_free(t);
	t = tpl_ok("4", "enroll: { roles: [admin, manager, auditor, "
	    "enrollee] }\n");
	list_is(t->roles, "admin,manager,auditor,enrollee");
	template_free(t);
}

/* A name from the request needs a rule bounding it. */
static void
test_lint_request_rules(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("8", "subject: { CN: { from: request } }\n", F ":10: "
	    "subject.CN: from: request needs patterns (else an enrollee could "
	    "ask for any name)", NULL);
	tpl_bad("8", "subject: { CN: { from: request, patterns: [] } }\n",
	    F ":10: subject.CN: from: request needs patterns (else an "
	    "enrollee could ask for any name)", NULL);
	tpl_bad("8", "subject: { CN: { from: request, patterns: [\"*\"] } }\n",
	    F ":10: subject.CN.patterns: \"*\" matches any name; write the "
	    "names an enrollee may ask for, such as \"*.example.org\"", NULL);
	tpl_bad("8", "subject: { CN: { from: request, patterns: [a, \"**\"] "
	    "} }\n", F ":10: subject.CN.patterns: \"**\" matches any name; "
	    "write the names an enrollee may ask for, such as "
	    "\"*.example.org\"", NULL);
	tpl_bad("8", "subject: { CN: { from: request, patterns: [''] } }\n",
	    F ":10: patterns: an empty string", NULL);
	tpl_bad("8", "subject: { CN: { from: account, patterns: [x] } }\n",
	    F ":10: subject.CN: patterns and required only go with from: "
	    "request", NULL);
	tpl_bad("9", "san: { dns: { from: request } }\n", F ":10: san.dns: "
	    "from: request needs suffixes (else an enrollee could ask for "
	    "any name)", NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [] } }\n",
	    F ":10: san.dns: from: request needs suffixes (else an enrollee "
	    "could ask for any name)", NULL);
	tpl_bad("9", "san: { ip: { from: request } }\n", F ":10: san.ip: "
	    "from: request needs networks (else an enrollee could ask for "
	    "any name)", NULL);
	tpl_bad("9", "san: { email: { from: request } }\n", F ":10: "
	    "san.email: from: request needs domains (else an enrollee could "
	    "ask for any name)", NULL);
	tpl_bad("9", "san: { dns: { from: account } }\n", F ":10: san.dns: "
	    "from: account is only for email (an account has a name and an "
	    "e-mail address, not a host name or an address)", NULL);
	tpl_bad("9", "san: { ip: { from: account } }\n", F ":10: san.ip: "
	    "from: account is only for email (an account has a name and an "
	    "e-mail address, not a host name or an address)", NULL);
	tpl_bad("9", "san: { email: { from: account, domains: [a.org] } }\n",
	    F ":10: san.email: from: account takes the account's own "
	    "address; domains and max only go with from: request", NULL);
	/* Suffixes are domain names: no trailing dot, no wildcard. */
	tpl_bad("9", "san: { dns: { from: request, suffixes: [example.org.] "
	    "} }\n", F ":10: san.dns.suffixes: \"example.org.\" is not a "
	    "domain name such as example.org (no wildcard, no trailing dot)",
	    NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [\"*.example."
	    "org\"] } }\n", F ":10: san.dns.suffixes: \"*.example.org\" is "
	    "not a domain name such as example.org (no wildcard, no trailing "
	    "dot)", NULL);
	tpl_bad("9", "san: { dns: { from: request, suffixes: [.example.org] "
	    "} }\n", F ":10: san.dns.suffixes: \".example.org\" is not a "
	    "domain name such as example.org (no wildcard, no trailing dot)",
	    NULL);
	tpl_bad("9", "san: { email: { from: request, domains: [\"@a.org\"] "
	    "} }\n", F ":10: san.email.domains: \"@a.org\" is not a domain "
	    "name such as example.org (no wildcard, no trailing dot)", NULL);
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [Example.ORG, "
	    "b.test] }, email: { from: request, domains: [Example.Org] } }\n");
	list_is(t->dns.allowed, "example.org,b.test");
	list_is(t->email.allowed, "example.org");
	template_free(t);
	/* Networks: no host bits, no /0, a prefix that fits. */
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.1/24] "
	    "} }\n", F ":10: san.ip.networks: \"192.0.2.1/24\" is not a "
	    "network such as 192.0.2.0/24 or 2001:db8::/32 (no host bits "
	    "set, not /0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [0.0.0.0/0] } "
	    "}\n", F ":10: san.ip.networks: \"0.0.0.0/0\" is not a network "
	    "such as 192.0.2.0/24 or 2001:db8::/32 (no host bits set, not "
	    "/0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [\"::/0\"] } "
	    "}\n", F ":10: san.ip.networks: \"::/0\" is not a network such "
	    "as 192.0.2.0/24 or 2001:db8::/32 (no host bits set, not /0)",
	    NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.0/33] "
	    "} }\n", F ":10: san.ip.networks: \"192.0.2.0/33\" is not a "
	    "network such as 192.0.2.0/24 or 2001:db8::/32 (no host bits "
	    "set, not /0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.0] } "
	    "}\n", F ":10: san.ip.networks: \"192.0.2.0\" is not a network "
	    "such as 192.0.2.0/24 or 2001:db8::/32 (no host bits set, not "
	    "/0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.0/] } "
	    "}\n", F ":10: san.ip.networks: \"192.0.2.0/\" is not a network "
	    "such as 192.0.2.0/24 or 2001:db8::/32 (no host bits set, not "
	    "/0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [192.0.2.0/024] "
	    "} }\n", F ":10: san.ip.networks: \"192.0.2.0/024\" is not a "
	    "network such as 192.0.2.0/24 or 2001:db8::/32 (no host bits "
	    "set, not /0)", NULL);
	tpl_bad("9", "san: { ip: { from: request, networks: [\"2001:db8::1/"
	    "32\"] } }\n", F ":10: san.ip.networks: \"2001:db8::1/32\" is "
	    "not a network such as 192.0.2.0/24 or 2001:db8::/32 (no host "
	    "bits set, not /0)", NULL);
	t = tpl_ok("9", "san: { ip: { from: request, networks: [192.0.2.0/24,"
	    " 10.1.2.3/32, \"2001:db8::/32\", \"::1/128\"] } }\n");
	list_is(t->ip.allowed, "192.0.2.0/24,10.1.2.3/32,2001:db8::/32,"
	    "::1/128");
	template_free(t);
	tpl_bad("8,9", "subject: { O: X }\nsan: { dns: { from: request, "
	    "suffixes: [a.org], include_cn: true } }\n", F ":11: san.dns: "
	    "include_cn, but the template has no subject CN", NULL);
}

static void
test_lint_subject(void **state)
{
	struct template *t;

	(void)state;
	tpl_bad("8", "subject: { C: de, CN: { from: account } }\n", F ":10: "
	    "subject C must be a two-letter upper-case country code (ISO "
	    "3166), not \"de\"", NULL);
	tpl_bad("8", "subject: { UID: x }\n", F ":10: subject: \"UID\" is not "
	    "one of C, ST, L, O, OU, CN, DC, serialNumber, "
	    "organizationIdentifier, emailAddress", NULL);
	tpl_bad("8", "subject: { O: }\n", F ":10: subject.O: want a string, "
	    "have nothing", NULL);
	tpl_bad("8", "subject: { O: [a] }\n", F ":10: subject.O: want a "
	    "string, have a list", NULL);
	tpl_bad("8", "subject: { O: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaa }\n", F ":10: subject O must have 1 to "
	    "64 bytes (RFC 5280 upper bounds), has 65", NULL);
	t = tpl_ok("8", "subject: { C: DE, O: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, CN: { from: request, "
	    "patterns: [\"*.example.org\"], required: true } }\n");
	assert_int_equal(t->n_subject, 3);
	assert_string_equal(t->subject[0].type, "C");
	assert_string_equal(t->subject[1].type, "O");
	assert_string_equal(t->subject[2].type, "CN");
	assert_true(t->subject[2].required);
	template_free(t);
}

/* Many problems in one file: all reported, in line order. */
static void
test_many_problems(void **state)
{
	(void)state;
	tpl_bad("5,6,7", "keys: [rsa-1024]\nkey_usage: [keyCertSign]\n"
	    "extended_key_usage: [anyExtendedKeyUsage]\nocsp_nocheck: true\n",
	    F ":10: keys: \"rsa-1024\" is not one of rsa-2048, rsa-3072, "
	    "rsa-4096, ec-p256, ec-p384",
	    F ":11: key_usage: keyCertSign is for CA certificates; templates "
	    "issue end-entity certificates only",
	    F ":12: extended_key_usage: anyExtendedKeyUsage is never issued: "
	    "it is valid for any purpose (ESC2)",
	    F ":13: ocsp_nocheck: true only goes with extended_key_usage "
	    "OCSPSigning", NULL);
}

/* ---- files and directories ------------------------------------------ */

static void
test_load_file(void **state)
{
	struct cfg_errors e = { 0 };
	struct template *t;
	char dir[300], path[400], link[400];
	char want[1200], *text, *big;
	size_t len;
	int r;

	(void)state;
	new_dir(dir);
	snprintf(path, sizeof(path), "%s/T.yaml", dir);
	text = tpl_text(NULL, NULL);
	write_file(path, text, 0644);
	r = template_load_file(path, &t, &e);
	assert_int_equal(r, 0);
	count_is(&e, 0);
	assert_string_equal(t->path, path);
	assert_string_equal(t->name, "T");
	template_free(t);
	/* A symbolic link to it is refused. */
	snprintf(link, sizeof(link), "%s/L.yaml", dir);
	assert_int_equal(symlink(path, link), 0);
	t = (struct template *)&e;
	assert_int_equal(template_load_file(link, &t, &e), CAIRN_E_CONFIG);
	assert_null(t);
	snprintf(want, sizeof(want), "%s: %s (symbolic links are refused)",
	    link, strerror(ELOOP));
	msg_is(&e, 0, want);
	count_is(&e, 1);
	cfg_errors_free(&e);
	/* Missing. */
	snprintf(link, sizeof(link), "%s/none.yaml", dir);
	assert_int_equal(template_load_file(link, &t, &e), CAIRN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: %s", link, strerror(ENOENT));
	msg_is(&e, 0, want);
	cfg_errors_free(&e);
	/* CFG_FILE_MAX bytes load; one more is refused. */
	len = strlen(text);
	big = malloc(CFG_FILE_MAX + 2);
	assert_non_null(big);
	memcpy(big, text, len);
	memset(big + len, '#', CFG_FILE_MAX - len);
	big[CFG_FILE_MAX - 1] = '\n';
	big[CFG_FILE_MAX] = '\0';
	write_file(path, big, 0644);
	assert_int_equal(template_load_file(path, &t, &e), 0);
	template_free(t);
	big[CFG_FILE_MAX] = '\n';
	big[CFG_FILE_MAX + 1] = '\0';
	write_file(path, big, 0644);
	assert_int_equal(template_load_file(path, &t, &e), CAIRN_E_CONFIG);
	assert_null(t);
	snprintf(want, sizeof(want), "%s: %d bytes, more than the %d allowed",
	    path, CFG_FILE_MAX + 1, CFG_FILE_MAX);
	msg_is(&e, 0, want);
	count_is(&e, 1);
	cfg_errors_free(&e);
	/* A lint problem names the file's path. */
	free(text);
	text = tpl_text("7", "extended_key_usage: []\n");
	write_file(path, text, 0644);
	assert_int_equal(template_load_file(path, &t, NULL), CAIRN_E_CONFIG);
	assert_int_equal(template_load_file(path, &t, &e), CAIRN_E_CONFIG);
	snprintf(want, sizeof(want), "%s:10: extended_key_usage: empty: a "
	    "certificate without one is valid for any purpose (ESC2); name "
	    "what certificates are for", path);
	msg_is(&e, 0, want);
	cfg_errors_free(&e);
	free(text);
	free(big);
}

static void
test_load_dir(void **state)
{
	struct template_set *s;
	char dir[300], p[400];

	(void)state;
	new_dir(dir);
	write_tpl(dir, "b.yaml", "Beta", 0644);
	write_tpl(dir, "a.yaml", "Alpha", 0600);
	write_tpl(dir, "c.yaml", "Gamma", 0444);
	/* Not read: other names, dot files, a subdirectory. */
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	write_file(p, "not yaml", 0666);
	snprintf(p, sizeof(p), "%s/x.yml", dir);
	write_file(p, "not: read", 0644);
	snprintf(p, sizeof(p), "%s/.#a.yaml", dir);
	assert_int_equal(symlink("/nonexistent", p), 0);
	snprintf(p, sizeof(p), "%s/.hidden.yaml", dir);
	write_file(p, "broken: [", 0666);
	snprintf(p, sizeof(p), "%s/sub.yaml", dir);
	assert_int_equal(mkdir(p, 0777), 0);
	snprintf(p, sizeof(p), "%s/sub.yaml/d.yaml", dir);
	write_file(p, "broken: [", 0666);
	snprintf(p, sizeof(p), "%s/.yaml", dir);
	write_file(p, "broken: [", 0666);
	s = dir_ok(dir, 3);
	assert_string_equal(s->t[0]->name, "Alpha");
	assert_string_equal(s->t[1]->name, "Beta");
	assert_string_equal(s->t[2]->name, "Gamma");
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	assert_string_equal(s->t[0]->path, p);
	assert_ptr_equal(template_find(s, "Alpha"), s->t[0]);
	assert_ptr_equal(template_find(s, "Beta"), s->t[1]);
	assert_ptr_equal(template_find(s, "Gamma"), s->t[2]);
	assert_null(template_find(s, "alpha"));
	assert_null(template_find(s, "Alph"));
	assert_null(template_find(s, "Zeta"));
	assert_null(template_find(s, ""));
	assert_null(template_find(s, NULL));
	assert_null(template_find(NULL, "Alpha"));
	template_set_free(s);
	template_set_free(NULL);
}

/* ESC4/ESC5: whoever can write a template or its directory decides
 * what the CA issues. */
static void
test_load_dir_perms(void **state)
{
	static const struct {
		mode_t mode;
		const char *who;
	} bad[] = {
		{ 0664, "its group" }, { 0646, "others" }, { 0666, "others" },
		{ 0620, "its group" }, { 0602, "others" },
	};
	struct template_set *s;
	char dir[300], p[400], want[1200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		new_dir(dir);
		write_tpl(dir, "a.yaml", "A", 0644);
		write_tpl(dir, "b.yaml", "B", bad[i].mode);
		snprintf(p, sizeof(p), "%s/b.yaml", dir);
		snprintf(want, sizeof(want), "%s: writable by %s (mode %04o): "
		    "whoever can write it decides what the CA issues (ESC4); "
		    "chmod go-w it", p, bad[i].who, (unsigned)bad[i].mode);
		dir_bad(dir, want, NULL);
		/* Twin: chmod go-w, as the message says. */
		assert_int_equal(chmod(p, bad[i].mode & ~(mode_t)022), 0);
		template_set_free(dir_ok(dir, 2));
		/* The directory itself. */
		assert_int_equal(chmod(dir, 0755 | (bad[i].mode & 022)), 0);
		snprintf(want, sizeof(want), "%s: writable by %s (mode %04o): "
		    "whoever can write it decides what the CA issues (ESC4); "
		    "chmod go-w it", dir, bad[i].who,
		    (unsigned)(0755 | (bad[i].mode & 022)));
		dir_bad(dir, want, NULL);
		assert_int_equal(chmod(dir, 0700), 0);
		s = dir_ok(dir, 2);
		template_set_free(s);
	}
	/* Sticky /tmp-like directories are writable all the same. */
	new_dir(dir);
	write_tpl(dir, "a.yaml", "A", 0644);
	assert_int_equal(chmod(dir, 01777), 0);
	snprintf(want, sizeof(want), "%s: writable by others (mode 1777): "
	    "whoever can write it decides what the CA issues (ESC4); chmod "
	    "go-w it", dir);
	dir_bad(dir, want, NULL);
}

static void
test_load_dir_links(void **state)
{
	char dir[300], other[300], p[400];
	char q[400], want[1200];

	(void)state;
	/* A template that is a link, even to a good file, is refused. */
	new_dir(other);
	write_tpl(other, "x.yaml", "X", 0644);
	new_dir(dir);
	write_tpl(dir, "a.yaml", "A", 0644);
	snprintf(p, sizeof(p), "%s/b.yaml", dir);
	snprintf(q, sizeof(q), "%s/x.yaml", other);
	assert_int_equal(symlink(q, p), 0);
	snprintf(want, sizeof(want), "%s: a symbolic link: templates and "
	    "their directory must be the CA's own files (ESC4)", p);
	dir_bad(dir, want, NULL);
	/* A dangling one too. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/nonexistent/x.yaml", p), 0);
	dir_bad(dir, want, NULL);
	/* The directory as a link. */
	assert_int_equal(unlink(p), 0);
	template_set_free(dir_ok(dir, 1));
	snprintf(p, sizeof(p), "%s/link%d", tmpdir, ++dirseq);
	assert_int_equal(symlink(dir, p), 0);
	snprintf(want, sizeof(want), "%s: a symbolic link: templates and "
	    "their directory must be the CA's own files (ESC4)", p);
	dir_bad(p, want, NULL);
	/* A FIFO named like a template: refused, and no hang. */
	snprintf(p, sizeof(p), "%s/f.yaml", dir);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(want, sizeof(want), "%s: not a regular file", p);
	dir_bad(dir, want, NULL);
	/* Missing and not a directory. */
	snprintf(p, sizeof(p), "%s/none", tmpdir);
	snprintf(want, sizeof(want), "%s: %s", p, strerror(ENOENT));
	dir_bad(p, want, NULL);
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	snprintf(want, sizeof(want), "%s: %s", p, strerror(ENOTDIR));
	dir_bad(p, want, NULL);
}

/* Files of another owner could be made writable by that owner. */
static void
test_load_dir_owner(void **state)
{
	char dir[300], p[400], want[1200];

	(void)state;
	if (geteuid() != 0) {
		/* Only root can give a file away; as another user every
		 * file made here is the CA's own, which the other tests
		 * show is accepted. */
		print_message("# not root: chown cases not run\n");
		return;
	}
	new_dir(dir);
	write_tpl(dir, "a.yaml", "A", 0644);
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	assert_int_equal(chown(p, 65534, 65534), 0);
	snprintf(want, sizeof(want), "%s: owned by uid 65534, neither root "
	    "nor the CA (uid 0): its owner could make it writable (ESC4); "
	    "chown it", p);
	dir_bad(dir, want, NULL);
	assert_int_equal(chown(p, 0, 65534), 0);
	template_set_free(dir_ok(dir, 1));
	assert_int_equal(chown(dir, 65534, 0), 0);
	snprintf(want, sizeof(want), "%s: owned by uid 65534, neither root "
	    "nor the CA (uid 0): its owner could make it writable (ESC4); "
	    "chown it", dir);
	dir_bad(dir, want, NULL);
}

static void
test_load_dir_problems(void **state)
{
	char dir[300], p[400], q[400];
	char want[1200], name[32];
	struct template_set *s;
	int i;

	(void)state;
	/* Empty, or nothing but other files. */
	new_dir(dir);
	snprintf(want, sizeof(want), "%s: no templates (*.yaml files): the "
	    "CA would issue nothing", dir);
	dir_bad(dir, want, NULL);
	snprintf(p, sizeof(p), "%s/README", dir);
	write_file(p, "templates go here\n", 0644);
	dir_bad(dir, want, NULL);
	/* Two templates of one name. */
	write_tpl(dir, "one.yaml", "Same", 0644);
	write_tpl(dir, "two.yaml", "Same", 0644);
	write_tpl(dir, "three.yaml", "Other", 0644);
	snprintf(p, sizeof(p), "%s/one.yaml", dir);
	snprintf(q, sizeof(q), "%s/two.yaml", dir);
	snprintf(want, sizeof(want), "%s: template Same is also defined in "
	    "%s; template names must be unique", q, p);
	dir_bad(dir, want, NULL);
	/* One bad template among good ones refuses the whole set, and
	 * every problem of every file is reported. */
	assert_int_equal(unlink(q), 0);
	template_set_free(dir_ok(dir, 2));
	snprintf(p, sizeof(p), "%s/bad.yaml", dir);
	write_file(p, "template: Bad\nversion: 0\n", 0644);
	snprintf(q, sizeof(q), "%s/worse.yaml", dir);
	write_file(q, "template: [\n", 0644);
	{
		struct cfg_errors e = { 0 };
		char w1[600];

		assert_int_equal(dir_load(dir, &s, &e), CAIRN_E_CONFIG);
		assert_null(s);
		snprintf(w1, sizeof(w1), "%s:2: version: want an integer of at "
		    "least 1, have '0' (out of range)", p);
		msg_is(&e, 0, w1);
		assert_true(e.n >= 6);
		assert_non_null(strstr(e.msg[e.n - 1], "worse.yaml:"));
		cfg_errors_free(&e);
	}
	/* CAIRN_TEMPLATES_MAX files load; one more is refused. */
	new_dir(dir);
	for (i = 0; i < CAIRN_TEMPLATES_MAX; i++) {
		snprintf(name, sizeof(name), "t%03d.yaml", i);
		snprintf(q, sizeof(q), "T%03d", i);
		write_tpl(dir, name, q, 0644);
	}
	s = dir_ok(dir, CAIRN_TEMPLATES_MAX);
	assert_non_null(template_find(s, "T000"));
	assert_non_null(template_find(s, "T255"));
	template_set_free(s);
	write_tpl(dir, "t999.yaml", "T999", 0644);
	snprintf(want, sizeof(want), "%s: %d templates (*.yaml files), more "
	    "than the %d allowed", dir, CAIRN_TEMPLATES_MAX + 1,
	    CAIRN_TEMPLATES_MAX);
	dir_bad(dir, want, NULL);
}

/* The templates Cairn ships all load, and say what their comments say. */
static void
test_shipped(void **state)
{
	static const char *const files[] = { "WebServer", "ClientAuth",
		"User", "OCSPSigning", "Router" };
	char srcdir[PATH_MAX], dir[300], from[PATH_MAX + 128];
	char to[400], *buf;
	const struct template *t;
	struct template_set *s;
	FILE *f;
	size_t i, len;
	long n;

	(void)state;
	src_dir(srcdir);
	/* Copied, so that the checkout's modes and owner do not matter. */
	new_dir(dir);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), "%s/sub-ca/templates/%s.yaml",
		    srcdir, files[i]);
		snprintf(to, sizeof(to), "%s/%s.yaml", dir, files[i]);
		assert_non_null(f = fopen(from, "rb"));
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		assert_true((n = ftell(f)) > 0);
		rewind(f);
		len = (size_t)n;
		assert_non_null(buf = calloc(1, len + 1));
		assert_int_equal(fread(buf, 1, len, f), len);
		fclose(f);
		write_file(to, buf, 0644);
		free(buf);
	}
	s = dir_ok(dir, 5);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		assert_non_null(t = template_find(s, files[i]));
		assert_int_equal(t->version, 1);
		assert_non_null(t->description);
		list_is(t->roles, strcmp(files[i], "OCSPSigning") == 0 ?
		    "admin" : "enrollee");
		assert_int_equal(strlen(t->digest), 64);
		assert_null(t->csr_extensions);
	}
	t = template_find(s, "WebServer");
	list_is(t->eku, "serverAuth");
	assert_false(t->auth);
	assert_false(t->approval);
	assert_int_equal(t->subject[0].from, TPL_REQUEST);
	assert_true(t->subject[0].required);
	assert_int_equal(t->dns.from, TPL_REQUEST);
	list_is(t->dns.allowed, "example.org");
	assert_true(t->dns.include_cn);
	assert_false(t->dns.wildcards);
	t = template_find(s, "ClientAuth");
	list_is(t->eku, "clientAuth");
	assert_true(t->auth);
	assert_false(t->approval);
	assert_int_equal(t->subject[1].from, TPL_ACCOUNT);
	assert_int_equal(t->dns.from, TPL_NONE);
	assert_int_equal(t->ip.from, TPL_NONE);
	assert_int_equal(t->email.from, TPL_NONE);
	t = template_find(s, "User");
	list_is(t->eku, "clientAuth,emailProtection");
	assert_true(t->auth);
	assert_int_equal(t->subject[0].from, TPL_ACCOUNT);
	assert_int_equal(t->email.from, TPL_ACCOUNT);
	t = template_find(s, "OCSPSigning");
	list_is(t->eku, "OCSPSigning");
	assert_true(t->ocsp_nocheck);
	assert_true(t->approval);
	assert_int_equal(t->subject[1].from, TPL_REQUEST);
	t = template_find(s, "Router");
	list_is(t->eku, "serverAuth,1.3.6.1.5.5.7.3.17");
	assert_false(t->auth);
	assert_false(t->approval);
	assert_int_equal(t->dns.from, TPL_REQUEST);
	assert_int_equal(t->ip.from, TPL_REQUEST);
	list_is(t->ip.allowed, "192.0.2.0/24,2001:db8:100::/48");
	template_set_free(s);
}

/* ---- enrolling and keys --------------------------------------------- */

static void
test_may_enroll(void **state)
{
	static char *admin[] = { "admin", NULL };
	static char *two[] = { "auditor", "enrollee", NULL };
	static char *web[] = { "web-admins", NULL };
	static char *other[] = { "db-admins", NULL };
	struct tpl_identity id = { "alice", NULL, NULL, NULL };
	struct template *t;

	(void)state;
	t = tpl_ok("4", "enroll: { roles: [enrollee, manager], groups: "
	    "[web-admins] }\n");
	id.roles = two;
	assert_int_equal(template_may_enroll(t, &id), 0);
	id.roles = NULL;
	id.groups = web;
	assert_int_equal(template_may_enroll(t, &id), 0);
	id.roles = admin;
	id.groups = other;
	expect(template_may_enroll(t, &id), CAIRN_E_DENIED, "account alice "
	    "may not enroll on template T: it needs role enrollee or manager "
	    "or group web-admins");
	id.roles = NULL;
	id.groups = NULL;
	expect(template_may_enroll(t, &id), CAIRN_E_DENIED, "account alice "
	    "may not enroll on template T: it needs role enrollee or manager "
	    "or group web-admins");
	id.account = NULL;
	id.roles = two;
	expect(template_may_enroll(t, &id), CAIRN_E_DENIED, "template T: "
	    "enrolling needs an authenticated account");
	expect(template_may_enroll(t, NULL), CAIRN_E_DENIED, "template T: "
	    "enrolling needs an authenticated account");
	template_free(t);
	/* Roles are compared exactly. */
	t = tpl_ok(NULL, NULL);
	id.account = "eve\x1b[2J";
	id.roles = admin;
	expect(template_may_enroll(t, &id), CAIRN_E_DENIED, "account "
	    "eve\\x1b[2J may not enroll on template T: it needs role "
	    "enrollee");
	template_free(t);
}

static void
test_key_type(void **state)
{
	static const struct {
		EVP_PKEY **k;
		unsigned bit;
		const char *desc;
	} keys[] = {
		{ &rsa1024, 0, "RSA 1024" },
		{ &rsa2047, 0, "RSA 2047" },
		{ &rsa2048, TPL_KEY_RSA_2048, "RSA 2048" },
		{ &rsa3072, TPL_KEY_RSA_3072, "RSA 3072" },
		{ &rsa4096, TPL_KEY_RSA_4096, "RSA 4096" },
		{ &p256, TPL_KEY_EC_P256, "EC P-256" },
		{ &p384, TPL_KEY_EC_P384, "EC P-384" },
		{ &p521, 0, "EC secp521r1" },
		{ &ed25519, 0, "ED25519" },
	};
	char desc[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(template_key_type(*keys[i].k, desc,
		    sizeof(desc)), keys[i].bit);
		assert_string_equal(desc, keys[i].desc);
	}
	assert_int_equal(template_key_type(NULL, desc, sizeof(desc)), 0);
	assert_string_equal(desc, "no key");
	/* A short buffer is cut, never overrun. */
	assert_int_equal(template_key_type(p256, desc, 4), TPL_KEY_EC_P256);
	assert_string_equal(desc, "EC ");
}

static void
test_apply_keys(void **state)
{
	struct template *t;
	struct out o;
	X509_REQ *x;
	size_t i;
	struct {
		EVP_PKEY **k;
		const char *msg;
	} bad[] = {
		{ &rsa1024, "template T does not accept RSA 1024 keys; it "
		    "accepts rsa-2048, ec-p256" },
		{ &rsa2047, "template T does not accept RSA 2047 keys; it "
		    "accepts rsa-2048, ec-p256" },
		{ &rsa3072, "template T does not accept RSA 3072 keys; it "
		    "accepts rsa-2048, ec-p256" },
		{ &p384, "template T does not accept EC P-384 keys; it "
		    "accepts rsa-2048, ec-p256" },
		{ &p521, "template T does not accept EC secp521r1 keys; it "
		    "accepts rsa-2048, ec-p256" },
		{ &ed25519, "template T does not accept ED25519 keys; it "
		    "accepts rsa-2048, ec-p256" },
	};

	(void)state;
	t = tpl_ok(NULL, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = req_dns(*bad[i].k, "www.example.org", NULL);
		apply_bad(t, &bob, x, CAIRN_E_POLICY, bad[i].msg);
		X509_REQ_free(x);
	}
	x = req_dns(rsa2048, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	/* RSA keys get keyEncipherment ... */
	assert_int_equal(o.p->key_usage, PROFILE_KU_DIGITAL_SIGNATURE |
	    PROFILE_KU_KEY_ENCIPHERMENT);
	out_free(&o);
	X509_REQ_free(x);
	/* ... EC keys never (RFC 8813). */
	x = req_dns(p256, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	assert_int_equal(o.p->key_usage, PROFILE_KU_DIGITAL_SIGNATURE);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
	/* P-384 and RSA 3072 are accepted where listed. */
	t = tpl_ok("5", "keys: [rsa-3072, ec-p384]\n");
	x = req_dns(p384, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(rsa3072, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "www.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "template T does not accept "
	    "EC P-256 keys; it accepts rsa-3072, ec-p384");
	X509_REQ_free(x);
	template_free(t);
}

/* ---- applying: names ------------------------------------------------ */

static void
test_apply_basic(void **state)
{
	struct template *t;
	struct out o;
	X509_REQ *x;

	(void)state;
	t = tpl_ok(NULL, "policies: [2.23.140.1.2.1]\n");
	x = req_dns(p256, "www.example.org", "www.example.org",
	    "api.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=www.example.org");
	list_is(o.p->san_dns, "www.example.org,api.example.org");
	assert_null(o.p->san_ip);
	assert_null(o.p->san_email);
	assert_null(o.p->san_uri);
	list_is(o.p->eku, "serverAuth");
	list_is(o.p->policies, "2.23.140.1.2.1");
	assert_false(o.p->ocsp_nocheck);
	assert_false(o.p->ca);
	assert_int_equal(o.p->not_before, NOW - 60);
	assert_int_equal(o.p->not_after, NOW + 90 * 86400);
	assert_null(o.p->extra);
	notes_are(o.notes, NULL);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* Suffixes match whole labels, without regard to case. */
static void
test_apply_dns_suffix(void **state)
{
	static const char *const good[] = { "example.org", "www.example.org",
		"a.b.c.example.org", "EXAMPLE.ORG", "Www.Example.Org",
		"xn--bcher-kva.example.org", "a-b.example.org",
		"0.example.org" };
	static const char *const want[] = { "example.org", "www.example.org",
		"a.b.c.example.org", "example.org", "www.example.org",
		"xn--bcher-kva.example.org", "a-b.example.org",
		"0.example.org" };
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "evil-example.org", "it is not under an allowed suffix" },
		{ "wwwexample.org", "it is not under an allowed suffix" },
		{ "example.org.evil.com", "it is not under an allowed suffix" },
		{ "example.com", "it is not under an allowed suffix" },
		{ "org", "it is not under an allowed suffix" },
		{ "xample.org", "it is not under an allowed suffix" },
		{ "www.example.org.", "it is not a host name" },
		{ "example.org.", "it is not a host name" },
		{ ".example.org", "it is not a host name" },
		{ "a..example.org", "it is not a host name" },
		{ "-a.example.org", "it is not a host name" },
		{ "a-.example.org", "it is not a host name" },
		{ "a_b.example.org", "it is not a host name" },
		{ "a b.example.org", "it is not a host name" },
		{ "a/b.example.org", "it is not a host name" },
		{ "*.example.org", "wildcards are not allowed" },
		{ "w*.example.org", "it is not a host name" },
		{ "*", "it is not a host name" },
	};
	char name[300], msg[600];
	struct template *t;
	struct out o;
	X509_REQ *x;
	size_t i;

	(void)state;
	t = tpl_ok("8", NULL);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		x = req_dns(p256, NULL, good[i], NULL);
		apply_ok(t, &bob, x, &o);
		list_is(o.p->san_dns, want[i]);
		assert_null(o.p->subject);
		out_free(&o);
		X509_REQ_free(x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = req_dns(p256, NULL, "ok.example.org", bad[i].name, NULL);
		snprintf(msg, sizeof(msg), "subjectAltName: DNS name \"%s\" is "
		    "refused by template T: %s", bad[i].name, bad[i].why);
		apply_bad(t, &bob, x, CAIRN_E_POLICY, msg);
		X509_REQ_free(x);
	}
	/* Labels of 63 bytes pass, 64 do not; 253 bytes in all pass. */
	memset(name, 'a', 63);
	snprintf(name + 63, sizeof(name) - 63, ".example.org");
	x = req_dns(p256, NULL, name, NULL);
	apply_ok(t, &bob, x, &o);
	out_free(&o);
	X509_REQ_free(x);
	memset(name, 'a', 64);
	snprintf(name + 64, sizeof(name) - 64, ".example.org");
	x = req_dns(p256, NULL, name, NULL);
	snprintf(msg, sizeof(msg), "subjectAltName: DNS name \"%s\" is refused "
	    "by template T: it is not a host name", name);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, msg);
	X509_REQ_free(x);
	/* Three labels of 63, one of 49 and ".example.org": 253 bytes. */
	for (i = 0; i < 3; i++) {
		memset(name + i * 64, 'a', 63);
		name[i * 64 + 63] = '.';
	}
	memset(name + 192, 'b', 50);
	snprintf(name + 241, sizeof(name) - 241, ".example.org");
	assert_int_equal(strlen(name), 253);
	x = req_dns(p256, NULL, name, NULL);
	apply_ok(t, &bob, x, &o);
	out_free(&o);
	X509_REQ_free(x);
	snprintf(name + 242, sizeof(name) - 242, ".example.org");
	assert_int_equal(strlen(name), 254);
	x = req_dns(p256, NULL, name, NULL);
	snprintf(msg, sizeof(msg), "subjectAltName: DNS name \"%.128s...\" "
	    "is refused by template T: it is not a host name", name);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, msg);
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_dns_bytes(void **state)
{
	static const char nul[] = "a.example.org\0.evil.com";
	static const char esc[] = "a\x1b[2J.example.org";
	static const char utf8[] = "b\xc3\xbc" "cher.example.org";
	struct template *t;
	struct rq q;
	X509_REQ *x;

	(void)state;
	t = tpl_ok("8", NULL);
	rq_init(&q, p256);
	rq_gen(&q, GEN_DNS, nul, (int)sizeof(nul) - 1);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"a.example.org\\x00.evil.com\" is not text of 1 to 255 bytes");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_gen(&q, GEN_DNS, esc, (int)sizeof(esc) - 1);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"a\\x1b[2J.example.org\" is not text of 1 to 255 bytes");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_gen(&q, GEN_DNS, utf8, (int)sizeof(utf8) - 1);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"b\\xc3\\xbccher.example.org\" is refused by template T: it is "
	    "not a host name");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_gen(&q, GEN_DNS, "", 0);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name \"\" "
	    "is not text of 1 to 255 bytes");
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_wildcards(void **state)
{
	struct template *t;
	struct out o;
	X509_REQ *x;

	(void)state;
	t = tpl_ok("8,9", "san: { dns: { from: request, suffixes: "
	    "[example.org], max: 3, wildcards: true } }\n");
	x = req_dns(p256, NULL, "*.example.org", "*.www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "*.example.org,*.www.example.org");
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, NULL, "*.*.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"*.*.example.org\" is refused by template T: it is not a host "
	    "name");
	X509_REQ_free(x);
	x = req_dns(p256, NULL, "*.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"*.org\" is refused by template T: it is not under an allowed "
	    "suffix");
	X509_REQ_free(x);
	x = req_dns(p256, NULL, "*.evil-example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"*.evil-example.org\" is refused by template T: it is not under "
	    "an allowed suffix");
	X509_REQ_free(x);
	x = req_dns(p256, NULL, "www*.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: DNS name "
	    "\"www*.example.org\" is refused by template T: it is not a host "
	    "name");
	X509_REQ_free(x);
	template_free(t);
}

/* `max` bounds the DNS names, the CN from include_cn among them. */
static void
test_apply_max(void **state)
{
	struct template *t;
	struct out o;
	X509_REQ *x;

	(void)state;
	t = tpl_ok(NULL, NULL);
	x = req_dns(p256, NULL, "a.example.org", "b.example.org",
	    "c.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "a.example.org,b.example.org,c.example.org");
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, NULL, "a.example.org", "b.example.org",
	    "c.example.org", "d.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: 4 DNS names, "
	    "more than the 3 template T allows");
	X509_REQ_free(x);
	/* Repeats count once, whatever their case. */
	x = req_dns(p256, NULL, "a.example.org", "A.EXAMPLE.ORG",
	    "b.example.org", "c.example.org", "a.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "a.example.org,b.example.org,c.example.org");
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [example.org]"
	    ", max: 2, include_cn: true } }\n");
	x = req_dns(p256, "www.example.org", "a.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "a.example.org,www.example.org");
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "www.example.org", "a.example.org",
	    "b.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: 3 DNS names, "
	    "more than the 2 template T allows");
	X509_REQ_free(x);
	x = req_dns(p256, "www.example.org", "a.example.org",
	    "WWW.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "a.example.org,www.example.org");
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_include_cn(void **state)
{
	struct template *t;
	struct out o;
	X509_REQ *x;

	(void)state;
	/* The CN's pattern is wider than the DNS rule: a CN that passes
	 * one and not the other stays a CN. */
	t = tpl_ok("8,9", "subject: { CN: { from: request, patterns: "
	    "[\"*.example.*\", \"*Box*\"] } }\nsan: { dns: { from: request, "
	    "suffixes: [example.org], max: 3, include_cn: true } }\n");
	x = req_dns(p256, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=www.example.org");
	list_is(o.p->san_dns, "www.example.org");
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "www.example.com", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=www.example.com");
	assert_null(o.p->san_dns);
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "My Box.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=My Box.example.org");
	assert_null(o.p->san_dns);
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "www.example.com", "a.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "a.example.org");
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
	/* Without include_cn the CN is never a DNS name. */
	t = tpl_ok(NULL, NULL);
	x = req_dns(p256, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=www.example.org");
	assert_null(o.p->san_dns);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_ip(void **state)
{
	static const char *const good[] = { "192.0.2.0", "192.0.2.1",
		"192.0.2.255", "10.1.2.3", "2001:db8:100::1",
		"2001:db8:100:ffff:ffff:ffff:ffff:ffff" };
	/* IPv4 in IPv6 clothes is no IPv4 address. */
	static const char *const bad[] = { "192.0.1.255", "192.0.3.0",
		"10.1.2.2", "10.1.2.4", "2001:db8:101::", "2001:db8:ff::1",
		"::ffff:192.0.2.1", "::192.0.2.1", "2001:db8::" };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	char msg[300];
	size_t i;

	(void)state;
	t = tpl_ok("8,9", "san: { ip: { from: request, networks: "
	    "[192.0.2.0/24, 10.1.2.3/32, \"2001:db8:100::/48\"], max: 2 } }\n");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rq_init(&q, p256);
		rq_ip(&q, good[i]);
		x = rq_done(&q, p256);
		apply_ok(t, &bob, x, &o);
		list_is(o.p->san_ip, good[i]);
		out_free(&o);
		X509_REQ_free(x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq_init(&q, p256);
		rq_ip(&q, bad[i]);
		x = rq_done(&q, p256);
		snprintf(msg, sizeof(msg), "subjectAltName: IP name \"%s\" is "
		    "refused by template T: it is not in an allowed network",
		    bad[i]);
		apply_bad(t, &bob, x, CAIRN_E_POLICY, msg);
		X509_REQ_free(x);
	}
	/* An iPAddress of the name-constraint form (address and mask). */
	rq_init(&q, p256);
	rq_gen(&q, GEN_IPADD, "\xc0\x00\x02\x01\xff\xff\xff\x00", 8);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: an IP address "
	    "of 8 bytes is not an address");
	X509_REQ_free(x);
	/* max: 2. */
	rq_init(&q, p256);
	rq_ip(&q, "192.0.2.1");
	rq_ip(&q, "192.0.2.2");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_ip, "192.0.2.1,192.0.2.2");
	out_free(&o);
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_ip(&q, "192.0.2.1");
	rq_ip(&q, "192.0.2.2");
	rq_ip(&q, "192.0.2.3");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: 3 IP names, "
	    "more than the 2 template T allows");
	X509_REQ_free(x);
	/* DNS names are not taken by this template: dropped, noted. */
	rq_init(&q, p256);
	rq_ip(&q, "192.0.2.1");
	rq_dns(&q, "www.example.org");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_ip, "192.0.2.1");
	assert_null(o.p->san_dns);
	notes_are(o.notes, "subjectAltName: template T takes no DNS names "
	    "from requests; dropped DNS:www.example.org", NULL);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
	/* Conversely, an address where the template takes none. */
	t = tpl_ok(NULL, NULL);
	rq_init(&q, p256);
	rq_ip(&q, "192.0.2.1");
	rq_dns(&q, "www.example.org");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	assert_null(o.p->san_ip);
	notes_are(o.notes, "subjectAltName: template T takes no IP names "
	    "from requests; dropped IP Address:192.0.2.1", NULL);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_email(void **state)
{
	static const char *const good[] = { "bob@example.org",
		"Bob.Smith+tag@EXAMPLE.ORG", "x@b.test" };
	static const struct {
		const char *addr, *why;
	} bad[] = {
		{ "bob@sub.example.org", "its domain is not an allowed one" },
		{ "bob@evil-example.org", "its domain is not an allowed one" },
		{ "bob@example.org.", "its domain is not a host name" },
		{ "bob@example.com", "its domain is not an allowed one" },
		{ "bob", "it is not an e-mail address" },
		{ "@example.org", "it is not an e-mail address" },
		{ "a@b@example.org", "it is not an e-mail address" },
		{ "a b@example.org", "it is not an e-mail address" },
	};
	static struct tpl_identity noemail = { "carol", NULL, NULL, NULL };
	static struct tpl_identity bademail = { "dave", "dave", NULL, NULL };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	char msg[300];
	size_t i;

	(void)state;
	t = tpl_ok("8,9", "san: { email: { from: request, domains: "
	    "[example.org, b.test], max: 1 } }\n");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rq_init(&q, p256);
		rq_email(&q, good[i]);
		x = rq_done(&q, p256);
		apply_ok(t, &bob, x, &o);
		list_is(o.p->san_email, good[i]);
		out_free(&o);
		X509_REQ_free(x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq_init(&q, p256);
		rq_email(&q, bad[i].addr);
		x = rq_done(&q, p256);
		snprintf(msg, sizeof(msg), "subjectAltName: e-mail name \"%s\" "
		    "is refused by template T: %s", bad[i].addr, bad[i].why);
		apply_bad(t, &bob, x, CAIRN_E_POLICY, msg);
		X509_REQ_free(x);
	}
	rq_init(&q, p256);
	rq_email(&q, "a@example.org");
	rq_email(&q, "b@example.org");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: 2 e-mail names, "
	    "more than the 1 template T allows");
	X509_REQ_free(x);
	template_free(t);
	/* From the account: the request's addresses are dropped. */
	t = tpl_ok("8,9", "subject: { CN: { from: account } }\nsan: { email: "
	    "{ from: account } }\n");
	rq_init(&q, p256);
	rq_email(&q, "ceo@example.org");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=bob");
	list_is(o.p->san_email, "bob@example.org");
	notes_are(o.notes, "subjectAltName: template T takes the e-mail names "
	    "from the account; dropped email:ceo@example.org", NULL);
	out_free(&o);
	apply_bad(t, &noemail, x, CAIRN_E_POLICY, "template T puts the "
	    "account's e-mail address in certificates, and account carol has "
	    "none");
	apply_bad(t, &bademail, x, CAIRN_E_POLICY, "template T puts the "
	    "account's e-mail address in certificates, and account dave has "
	    "no valid one");
	X509_REQ_free(x);
	template_free(t);
}

static void
test_apply_subject(void **state)
{
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	char big[100];

	(void)state;
	t = tpl_ok("8", "subject: { C: DE, O: Example, CN: { from: request, "
	    "patterns: [\"*.example.org\", \"example.org\"], required: true } "
	    "}\n");
	/* Fields in the template's order; the request's are dropped. */
	rq_init(&q, p256);
	rq_subj(&q, "O", "Evil Corp");
	rq_subj(&q, "CN", "www.example.org");
	rq_subj(&q, "OU", "Domain Admins");
	rq_subj(&q, "CN", "admin.example.org");
	rq_subj(&q, "UID", "root");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "C=DE/O=Example/CN=www.example.org");
	notes_are(o.notes,
	    "subject: template T fixes O; dropped O=Evil Corp from the "
	    "request",
	    "subject: template T does not take OU; dropped OU=Domain Admins "
	    "from the request",
	    "subject: template T takes only the first CN; dropped "
	    "CN=admin.example.org from the request",
	    "subject: template T does not take UID; dropped UID=root from "
	    "the request", NULL);
	out_free(&o);
	X509_REQ_free(x);
	/* The first CN counts, even when a later one would pass. */
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.evil.com");
	rq_subj(&q, "CN", "www.example.org");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN \"www.evil.com\" is "
	    "not allowed by template T, which takes CN matching "
	    "\"*.example.org\", \"example.org\"");
	X509_REQ_free(x);
	/* Patterns are fnmatch(3) with no flags: case counts. */
	x = req_dns(p256, "WWW.EXAMPLE.ORG", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN \"WWW.EXAMPLE.ORG\" "
	    "is not allowed by template T, which takes CN matching "
	    "\"*.example.org\", \"example.org\"");
	X509_REQ_free(x);
	x = req_dns(p256, "example.org", NULL);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "C=DE/O=Example/CN=example.org");
	out_free(&o);
	X509_REQ_free(x);
	x = req_dns(p256, "xexample.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN \"xexample.org\" is "
	    "not allowed by template T, which takes CN matching "
	    "\"*.example.org\", \"example.org\"");
	X509_REQ_free(x);
	/* Required: a request without a CN is refused. */
	x = req_dns(p256, NULL, "www.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "template T needs subject CN in "
	    "the request, which has none");
	X509_REQ_free(x);
	/* Control characters and NULs are refused, not matched. */
	x = req_dns(p256, "a\nb.example.org", NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN of the request is "
	    "not printable text");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_subj_type(&q, "CN", V_ASN1_UTF8STRING, "a\0.example.org", 14);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN of the request is "
	    "not printable text");
	X509_REQ_free(x);
	/* A BMPString CN is read as the text it holds. */
	rq_init(&q, p256);
	rq_subj_type(&q, "CN", V_ASN1_BMPSTRING, "\0w\0.\0e\0x\0a\0m\0p\0l\0e"
	    "\0.\0o\0r\0g", 26);
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "C=DE/O=Example/CN=w.example.org");
	out_free(&o);
	X509_REQ_free(x);
	/* 64 bytes pass, 65 meet profile_subject_add()'s bound. */
	memset(big, 'a', 52);
	snprintf(big + 52, sizeof(big) - 52, ".example.org");
	x = req_dns(p256, big, NULL);
	apply_ok(t, &bob, x, &o);
	out_free(&o);
	X509_REQ_free(x);
	/* OpenSSL's own builder refuses 65 bytes: bypass it. */
	memset(big, 'a', 53);
	snprintf(big + 53, sizeof(big) - 53, ".example.org");
	rq_init(&q, p256);
	rq_subj_type(&q, "CN", V_ASN1_UTF8STRING, big, -1);
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subject CN of the request: "
	    "subject CN must have 1 to 64 bytes (RFC 5280 upper bounds), has "
	    "65");
	X509_REQ_free(x);
	template_free(t);
	/* Not required: a request without one gets none... */
	t = tpl_ok(NULL, NULL);
	x = req_dns(p256, NULL, "www.example.org", NULL);
	apply_ok(t, &bob, x, &o);
	assert_null(o.p->subject);
	list_is(o.p->san_dns, "www.example.org");
	out_free(&o);
	X509_REQ_free(x);
	/* ...but a certificate must name someone. */
	x = req_dns(p256, NULL, NULL);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "template T: the request gives "
	    "no name the template takes; the certificate would name nobody");
	X509_REQ_free(x);
	template_free(t);
}

/* The account's name, never the request's. */
static void
test_apply_account(void **state)
{
	static struct tpl_identity longname = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, NULL };
	static struct tpl_identity none = { NULL, NULL, NULL, NULL };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;

	(void)state;
	t = tpl_ok("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { O: "
	    "Example, CN: { from: account } }\n");
	rq_init(&q, p256);
	rq_subj(&q, "CN", "Administrator");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "O=Example/CN=bob");
	notes_are(o.notes, "subject: template T takes CN from the account; "
	    "dropped CN=Administrator from the request", NULL);
	out_free(&o);
	apply_bad(t, &longname, x, CAIRN_E_POLICY, "template T: subject CN "
	    "must have 1 to 64 bytes (RFC 5280 upper bounds), has 65");
	apply_bad(t, &none, x, CAIRN_E_POLICY, "template T issues only to "
	    "authenticated accounts");
	apply_bad(t, NULL, x, CAIRN_E_POLICY, "template T issues only to "
	    "authenticated accounts");
	X509_REQ_free(x);
	template_free(t);
}

/* ESC1: a login template takes no name from the request, whatever kind
 * of name the request tries. */
static void
test_apply_esc1(void **state)
{
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;

	(void)state;
	t = tpl_ok("7,8,9", "extended_key_usage: [clientAuth]\nsubject: { CN: "
	    "{ from: account } }\n");
	rq_init(&q, rsa2048);
	rq_subj(&q, "CN", "administrator");
	rq_subj(&q, "emailAddress", "administrator@corp.example");
	rq_dns(&q, "dc01.corp.example");
	rq_other(&q, "1.3.6.1.4.1.311.20.2.3", "administrator@corp.example");
	rq_email(&q, "administrator@corp.example");
	rq_uri(&q, "tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-500");
	rq_ip(&q, "10.0.0.1");
	rq_other(&q, "1.3.6.1.4.1.99999.7", "x");
	x = rq_done(&q, rsa2048);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=bob");
	assert_null(o.p->san_dns);
	assert_null(o.p->san_email);
	assert_null(o.p->san_ip);
	assert_null(o.p->san_uri);
	assert_null(o.p->extra);
	notes_are(o.notes,
	    "subject: template T takes CN from the account; dropped "
	    "CN=administrator from the request",
	    "subject: template T does not take emailAddress; dropped "
	    "emailAddress=administrator@corp.example from the request",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped DNS:dc01.corp.example",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped othername:UPN:administrator@corp.example",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped email:administrator@corp.example",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped URI:tag:microsoft.com,2022-09-14:sid:"
	    "S-1-5-21-1-2-3-500",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped IP Address:10.0.0.1",
	    "subjectAltName: template T takes no names from requests; "
	    "dropped othername:1.3.6.1.4.1.99999.7:x", NULL);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* Names of kinds no template takes, next to ones it does. */
static void
test_apply_other_kinds(void **state)
{
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	GENERAL_NAME *g;
	X509_NAME *dn;

	(void)state;
	t = tpl_ok(NULL, NULL);
	rq_init(&q, p256);
	rq_dns(&q, "www.example.org");
	rq_other(&q, "1.3.6.1.4.1.311.20.2.3", "admin@corp.example");
	rq_uri(&q, "https://evil.example/");
	g = GENERAL_NAME_new();
	dn = X509_NAME_new();
	assert_int_equal(X509_NAME_add_entry_by_txt(dn, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Admin", -1, -1, 0), 1);
	GENERAL_NAME_set0_value(g, GEN_DIRNAME, dn);
	assert_true(sk_GENERAL_NAME_push(q.san, g) > 0);
	g = GENERAL_NAME_new();
	GENERAL_NAME_set0_value(g, GEN_RID, OBJ_txt2obj("1.2.3.4", 1));
	assert_true(sk_GENERAL_NAME_push(q.san, g) > 0);
	rq_email(&q, "a@example.org");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "www.example.org");
	notes_are(o.notes,
	    "subjectAltName: template T takes no otherName names from "
	    "requests; dropped othername:UPN:admin@corp.example",
	    "subjectAltName: template T takes no URI names from requests; "
	    "dropped URI:https://evil.example/",
	    "subjectAltName: template T takes no directory names from "
	    "requests; dropped DirName:CN = Admin",
	    "subjectAltName: template T takes no registeredID names from "
	    "requests; dropped Registered ID:1.2.3.4",
	    "subjectAltName: template T takes no e-mail names from requests; "
	    "dropped email:a@example.org", NULL);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* ---- applying: attributes and extensions ---------------------------- */

/* DER of an AD CS enrollment name-value pair: SEQUENCE { BMPString name,
 * BMPString value } (MS-WCCE 2.2.2.7.10). */
static size_t
nvpair(unsigned char *out, const char *name, const char *value)
{
	const char *s[2] = { name, value };
	size_t n = 2, i, k;

	for (k = 0; k < 2; k++) {
		out[n++] = 0x1e;
		out[n++] = (unsigned char)(2 * strlen(s[k]));
		for (i = 0; s[k][i] != '\0'; i++) {
			out[n++] = 0;
			out[n++] = (unsigned char)s[k][i];
		}
	}
	out[0] = 0x30;
	out[1] = (unsigned char)(n - 2);
	return n;
}

/* ESC6: request attributes never become names or extensions. */
static void
test_apply_attributes(void **state)
{
	unsigned char der[200];
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	X509_ATTRIBUTE *attr;
	ASN1_OBJECT *nv;
	size_t len, i;

	(void)state;
	t = tpl_ok(NULL, NULL);
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	rq_dns(&q, "www.example.org");
	x = rq_done(&q, p256);
	assert_int_equal(X509_REQ_add1_attr_by_NID(x,
	    NID_pkcs9_challengePassword, MBSTRING_ASC,
	    (const unsigned char *)"s3cret-otp", -1), 1);
	/* Two pairs, as certreq writes them: values of one attribute. */
	nv = OBJ_txt2obj("1.3.6.1.4.1.311.13.2.1", 1);
	len = nvpair(der, "SAN", "upn=administrator@corp.example");
	attr = X509_ATTRIBUTE_create_by_OBJ(NULL, nv, V_ASN1_SEQUENCE, der,
	    (int)len);
	assert_non_null(attr);
	len = nvpair(der, "CertificateTemplate", "DomainController");
	assert_int_equal(X509_ATTRIBUTE_set1_data(attr, V_ASN1_SEQUENCE, der,
	    (int)len), 1);
	assert_int_equal(X509_ATTRIBUTE_count(attr), 2);
	assert_int_equal(X509_REQ_add1_attr(x, attr), 1);
	X509_ATTRIBUTE_free(attr);
	ASN1_OBJECT_free(nv);
	assert_int_equal(X509_REQ_add1_attr_by_txt(x, "1.3.6.1.4.1.99999.9",
	    MBSTRING_ASC, (const unsigned char *)"x", -1), 1);
	assert_true(X509_REQ_sign(x, p256, EVP_sha256()) > 0);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=www.example.org");
	list_is(o.p->san_dns, "www.example.org");
	assert_null(o.p->san_email);
	assert_null(o.p->extra);
	notes_are(o.notes,
	    "request attribute 1.2.840.113549.1.9.7 (challengePassword): "
	    "attributes never become certificate content (ESC6); dropped",
	    "request attribute 1.3.6.1.4.1.311.13.2.1 (enrollment name-value "
	    "pair): attributes never become certificate content (ESC6); "
	    "dropped",
	    "request attribute 1.3.6.1.4.1.99999.9: attributes never become "
	    "certificate content (ESC6); dropped", NULL);
	/* The challenge password is a secret: never in a note. */
	for (i = 0; o.notes[i] != NULL; i++)
		assert_null(strstr(o.notes[i], "s3cret"));
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* ESC15 and its kin: extensions of the request are dropped unless the
 * template copies them, and those the template makes are never copied. */
static void
test_apply_extensions(void **state)
{
	/* Application policies { clientAuth }: SEQUENCE { SEQUENCE { OID
	 * 1.3.6.1.5.5.7.3.2 } }. */
	static const unsigned char appol[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06,
		0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };
	static const unsigned char null[] = { 0x05, 0x00 };
	static const unsigned char utf8[] = { 0x0c, 0x02, 'h', 'i' };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	X509_EXTENSION *e;
	char oid[80];

	(void)state;
	t = tpl_ok(NULL, NULL);
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	rq_ext_raw(&q, "1.3.6.1.4.1.311.21.10", 0, appol, sizeof(appol));
	rq_ext_conf(&q, NID_ext_key_usage, "clientAuth,anyExtendedKeyUsage");
	rq_ext_conf(&q, NID_basic_constraints, "critical,CA:TRUE");
	rq_ext_conf(&q, NID_key_usage, "critical,keyCertSign,cRLSign");
	rq_ext_raw(&q, "1.3.6.1.5.5.7.48.1.5", 0, null, sizeof(null));
	rq_ext_raw(&q, "1.3.6.1.4.1.311.25.2", 0, utf8, sizeof(utf8));
	rq_ext_raw(&q, "1.3.6.1.4.1.99999.1", 1, utf8, sizeof(utf8));
	rq_ext_raw(&q, "1.3.6.1.4.1.99999.2", 0, utf8, sizeof(utf8));
	rq_dns(&q, "www.example.org");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->eku, "serverAuth");
	assert_false(o.p->ca);
	assert_false(o.p->ocsp_nocheck);
	assert_int_equal(o.p->key_usage, PROFILE_KU_DIGITAL_SIGNATURE);
	list_is(o.p->san_dns, "www.example.org");
	assert_null(o.p->extra);
	notes_are(o.notes,
	    "extension 1.3.6.1.4.1.311.21.10 (Microsoft application "
	    "policies): never copied from a request: it acts as an EKU on "
	    "Windows (ESC15); dropped",
	    "extension 2.5.29.37 (extendedKeyUsage): never copied from a "
	    "request; dropped",
	    "extension 2.5.29.19 (basicConstraints): never copied from a "
	    "request; dropped",
	    "extension 2.5.29.15 (keyUsage): never copied from a request; "
	    "dropped",
	    "extension 1.3.6.1.5.5.7.48.1.5 (ocsp-nocheck): never copied "
	    "from a request; dropped",
	    "extension 1.3.6.1.4.1.311.25.2 (Microsoft SID extension): never "
	    "copied from a request: it maps the certificate to an Active "
	    "Directory account; dropped",
	    "extension 1.3.6.1.4.1.99999.1: template T does not copy it from "
	    "requests; dropped",
	    "extension 1.3.6.1.4.1.99999.2: template T does not copy it from "
	    "requests; dropped", NULL);
	out_free(&o);
	template_free(t);
	/* Allow-listed: copied as it is, critical flag and all; only it. */
	t = tpl_ok(NULL, "csr_extensions: [1.3.6.1.4.1.99999.1]\n");
	apply_ok(t, &bob, x, &o);
	assert_int_equal(sk_X509_EXTENSION_num(o.p->extra), 1);
	e = sk_X509_EXTENSION_value(o.p->extra, 0);
	OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1);
	assert_string_equal(oid, "1.3.6.1.4.1.99999.1");
	assert_int_equal(X509_EXTENSION_get_critical(e), 1);
	assert_int_equal(ASN1_STRING_length(X509_EXTENSION_get_data(e)), 4);
	assert_memory_equal(ASN1_STRING_get0_data(X509_EXTENSION_get_data(e)),
	    utf8, 4);
	list_is(o.p->eku, "serverAuth");
	assert_non_null(o.notes);
	assert_null(strstr(o.notes[6], "99999.1"));
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* Requests that cannot be read one way only. */
static void
test_apply_malformed(void **state)
{
	static const unsigned char junk[] = { 0x04, 0x03, 'x', 'y', 'z' };
	STACK_OF(X509_EXTENSION) *exts;
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	char name[32];
	int i, k;

	(void)state;
	t = tpl_ok(NULL, "csr_extensions: [1.3.6.1.4.1.99999.1]\n");
	/* Two extension requests: OpenSSL would read only the first. */
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	x = rq_done(&q, p256);
	exts = sk_X509_EXTENSION_new_null();
	assert_true(sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL,
	    NULL, NID_subject_alt_name, "DNS:www.example.org")) > 0);
	assert_int_equal(X509_REQ_add_extensions_nid(x, exts, NID_ext_req),
	    1);
	assert_int_equal(X509_REQ_add_extensions_nid(x, exts,
	    NID_ms_ext_req), 1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	assert_true(X509_REQ_sign(x, p256, EVP_sha256()) > 0);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request carries more than one "
	    "extension request");
	X509_REQ_free(x);
	/* The Microsoft extension request alone is read like the other. */
	rq_init(&q, p256);
	x = rq_done(&q, p256);
	exts = sk_X509_EXTENSION_new_null();
	assert_true(sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL,
	    NULL, NID_subject_alt_name, "DNS:ms.example.org")) > 0);
	assert_int_equal(X509_REQ_add_extensions_nid(x, exts,
	    NID_ms_ext_req), 1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	assert_true(X509_REQ_sign(x, p256, EVP_sha256()) > 0);
	apply_ok(t, &bob, x, &o);
	list_is(o.p->san_dns, "ms.example.org");
	out_free(&o);
	X509_REQ_free(x);
	/* One extension twice: which would count? */
	rq_init(&q, p256);
	rq_dns(&q, "a.example.org");
	rq_san_ext(&q);
	rq_dns(&q, "evil.com");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request asks for extension "
	    "2.5.29.17 twice");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	rq_ext_raw(&q, "1.3.6.1.4.1.99999.1", 0, junk, sizeof(junk));
	rq_ext_raw(&q, "1.3.6.1.4.1.99999.1", 0, junk, sizeof(junk));
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request asks for extension "
	    "1.3.6.1.4.1.99999.1 twice");
	X509_REQ_free(x);
	/* A subjectAltName that is not GeneralNames. */
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	rq_ext_raw(&q, "2.5.29.17", 0, junk, sizeof(junk));
	x = rq_done(&q, p256);
	assert_int_equal(apply(t, &bob, x, &o), CAIRN_E_CSR);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CSR), "the request's "
	    "subjectAltName cannot be decoded"));
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
	/* CAIRN_CSR_NAMES_MAX names are read; one more is refused. */
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [example.org]"
	    ", max: 100 } }\n");
	rq_init(&q, p256);
	for (i = 0; i < CAIRN_CSR_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "h%d.example.org", i);
		rq_dns(&q, name);
	}
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	assert_int_equal(profile_strv_len(o.p->san_dns), CAIRN_CSR_NAMES_MAX);
	out_free(&o);
	X509_REQ_free(x);
	rq_init(&q, p256);
	for (i = 0; i <= CAIRN_CSR_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "h%d.example.org", i);
		rq_dns(&q, name);
	}
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request asks for 101 subject "
	    "alternative names, more than the 100 allowed");
	X509_REQ_free(x);
	/* The subject likewise. */
	rq_init(&q, p256);
	for (i = 0; i < CAIRN_CSR_NAMES_MAX; i++)
		rq_subj(&q, "OU", "x");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "template T: the request gives "
	    "no name the template takes; the certificate would name nobody");
	X509_REQ_free(x);
	rq_init(&q, p256);
	for (i = 0; i <= CAIRN_CSR_NAMES_MAX; i++)
		rq_subj(&q, "OU", "x");
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request's subject has 101 "
	    "fields, more than the 100 allowed");
	X509_REQ_free(x);
	/* Extensions and attributes likewise: each would be a note. */
	for (k = 0; k < 2; k++) {
		rq_init(&q, p256);
		rq_subj(&q, "CN", "www.example.org");
		for (i = 0; k == 0 && i < CAIRN_CSR_NAMES_MAX; i++) {
			snprintf(name, sizeof(name), "1.3.6.1.4.1.99999.5.%d",
			    i);
			rq_ext_raw(&q, name, 0, junk, sizeof(junk));
		}
		x = rq_done(&q, p256);
		for (i = 0; k == 1 && i < CAIRN_CSR_NAMES_MAX; i++) {
			snprintf(name, sizeof(name), "1.3.6.1.4.1.99999.6.%d",
			    i);
			assert_int_equal(X509_REQ_add1_attr_by_txt(x, name,
			    MBSTRING_ASC, (const unsigned char *)"x", -1), 1);
		}
		assert_true(X509_REQ_sign(x, p256, EVP_sha256()) > 0);
		apply_ok(t, &bob, x, &o);
		assert_int_equal(profile_strv_len(o.notes),
		    CAIRN_CSR_NAMES_MAX);
		out_free(&o);
		X509_REQ_free(x);
	}
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	for (i = 0; i <= CAIRN_CSR_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "1.3.6.1.4.1.99999.5.%d", i);
		rq_ext_raw(&q, name, 0, junk, sizeof(junk));
	}
	x = rq_done(&q, p256);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request carries 101 "
	    "extensions, more than the 100 allowed");
	X509_REQ_free(x);
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	x = rq_done(&q, p256);
	for (i = 0; i <= CAIRN_CSR_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "1.3.6.1.4.1.99999.6.%d", i);
		assert_int_equal(X509_REQ_add1_attr_by_txt(x, name,
		    MBSTRING_ASC, (const unsigned char *)"x", -1), 1);
	}
	assert_true(X509_REQ_sign(x, p256, EVP_sha256()) > 0);
	apply_bad(t, &bob, x, CAIRN_E_CSR, "the request carries 101 "
	    "attributes, more than the 100 allowed");
	X509_REQ_free(x);
	template_free(t);
}

/* The caller's part of the profile is kept; a refusal leaves it as it
 * came. */
static void
test_apply_profile(void **state)
{
	struct template *t;
	struct profile *p;
	X509_EXTENSION *e;
	char **notes = NULL;
	X509_REQ *good, *bad;

	(void)state;
	t = tpl_ok(NULL, "csr_extensions: [1.3.6.1.4.1.99999.1]\n");
	good = req_dns(p256, "www.example.org", NULL);
	bad = req_dns(p256, "www.example.org", "evil.com", NULL);
	p = profile_new();
	assert_int_equal(profile_strv_add(&p->crl_urls,
	    "http://crl.example.org/sub.crl"), 0);
	p->extra = sk_X509_EXTENSION_new_null();
	e = X509V3_EXT_conf_nid(NULL, NULL, NID_netscape_comment, "caller");
	assert_true(sk_X509_EXTENSION_push(p->extra, e) > 0);
	p->md = EVP_sha384();
	expect(template_apply(t, &bob, bad, NOW, p, &notes), CAIRN_E_POLICY,
	    "subjectAltName: DNS name \"evil.com\" is refused by template T: "
	    "it is not under an allowed suffix");
	assert_null(notes);
	assert_null(p->subject);
	assert_null(p->san_dns);
	assert_null(p->eku);
	assert_int_equal(p->key_usage, 0);
	assert_int_equal(p->not_after, 0);
	assert_int_equal(sk_X509_EXTENSION_num(p->extra), 1);
	list_is(p->crl_urls, "http://crl.example.org/sub.crl");
	assert_int_equal(template_apply(t, &bob, good, NOW, p, &notes), 0);
	assert_null(notes);
	subj_is(p, "CN=www.example.org");
	list_is(p->crl_urls, "http://crl.example.org/sub.crl");
	assert_ptr_equal(p->md, EVP_sha384());
	assert_int_equal(sk_X509_EXTENSION_num(p->extra), 1);
	/* A profile holding names already is a caller's mistake. */
	expect(template_apply(t, &bob, good, NOW, p, &notes), CAIRN_E_INVAL,
	    "template_apply: the profile holds names or usages already");
	profile_free(p);
	p = profile_new();
	assert_int_equal(profile_strv_add(&p->san_uri, "https://x/"), 0);
	expect(template_apply(t, &bob, good, NOW, p, &notes), CAIRN_E_INVAL,
	    "template_apply: the profile holds names or usages already");
	profile_free(p);
	/* Whatever the caller left in `ca`, a template issues end entities. */
	p = profile_new();
	p->ca = 1;
	p->path_len = 0;
	assert_int_equal(template_apply(t, &bob, good, NOW, p, &notes), 0);
	assert_false(p->ca);
	assert_int_equal(p->path_len, -1);
	profile_free(p);
	X509_REQ_free(good);
	X509_REQ_free(bad);
	template_free(t);
}

/* From template and request to a certificate: what profile_build()
 * makes of the profile carries the template's policy and nothing of
 * what the request tried. */
static void
test_apply_build(void **state)
{
	static const unsigned char appol[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06,
		0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;
	X509 *cert = NULL;
	GENERAL_NAMES *san;
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	char oid[80], buf[256];
	int i, crit;

	(void)state;
	t = tpl_ok("9", "san: { dns: { from: request, suffixes: [example.org]"
	    ", max: 3, include_cn: true } }\n");
	rq_init(&q, p256);
	rq_subj(&q, "CN", "www.example.org");
	rq_subj(&q, "O", "Evil");
	rq_dns(&q, "api.example.org");
	rq_other(&q, "1.3.6.1.4.1.311.20.2.3", "administrator@corp.example");
	rq_ext_raw(&q, "1.3.6.1.4.1.311.21.10", 0, appol, sizeof(appol));
	rq_ext_conf(&q, NID_basic_constraints, "critical,CA:TRUE");
	x = rq_done(&q, p256);
	apply_ok(t, &bob, x, &o);
	o.p->md = EVP_sha256();
	assert_int_equal(profile_build(o.p, p256, NULL, NULL, &cert), 0);
	assert_string_equal(X509_NAME_oneline(X509_get_subject_name(cert),
	    buf, sizeof(buf)), "/CN=www.example.org");
	for (i = 0; i < X509_get_ext_count(cert); i++) {
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(
		    X509_get_ext(cert, i)), 1);
		assert_true(strcmp(oid, "2.5.29.19") == 0 ||
		    strcmp(oid, "2.5.29.15") == 0 ||
		    strcmp(oid, "2.5.29.37") == 0 ||
		    strcmp(oid, "2.5.29.14") == 0 ||
		    strcmp(oid, "2.5.29.35") == 0 ||
		    strcmp(oid, "2.5.29.17") == 0);
	}
	san = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_GENERAL_NAME_num(san), 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(sk_GENERAL_NAME_value(san, i)->type, GEN_DNS);
	assert_memory_equal(sk_GENERAL_NAME_value(san, 0)->d.dNSName->data,
	    "api.example.org", 15);
	assert_memory_equal(sk_GENERAL_NAME_value(san, 1)->d.dNSName->data,
	    "www.example.org", 15);
	GENERAL_NAMES_free(san);
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_server_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	if (bc != NULL)
		assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(cert, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	assert_true(ASN1_BIT_STRING_get_bit(ku, 0));
	for (i = 1; i < 9; i++)
		assert_false(ASN1_BIT_STRING_get_bit(ku, i));
	ASN1_BIT_STRING_free(ku);
	X509_free(cert);
	out_free(&o);
	X509_REQ_free(x);
	template_free(t);
}

/* profile_build() puts the subject's key into the certificate by a path
 * of its own for EC and RSA keys (set_subject_key): the certificate's
 * SubjectPublicKeyInfo is byte for byte what the general path (the
 * provider's encoder) makes, the key from a parsed CSR included, and the
 * certificate carries the key decoded, as consumers expect. */
static void
test_build_key(void **state)
{
	EVP_PKEY *keys[] = { p256, p384, rsa2048, rsa3072, ed25519 };
	struct profile *p;
	unsigned char *want, *got, *der;
	const unsigned char *q;
	X509_PUBKEY *xp;
	X509_REQ *rq;
	EVP_PKEY *csr_key;
	X509 *cert;
	size_t i;
	int wl, gl, dl, pass;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		for (pass = 0; pass < 2; pass++) {
			csr_key = keys[i];
			rq = NULL;
			if (pass == 1) {
				/* The key as d2i of a CSR leaves it. */
				assert_non_null(rq = X509_REQ_new());
				assert_int_equal(X509_REQ_set_pubkey(rq,
				    keys[i]), 1);
				assert_true(X509_REQ_sign(rq, keys[i],
				    keys[i] == ed25519 ? NULL :
				    EVP_sha256()) > 0);
				der = NULL;
				assert_true((dl = i2d_X509_REQ(rq, &der)) > 0);
				X509_REQ_free(rq);
				q = der;
				assert_non_null(rq = d2i_X509_REQ(NULL, &q,
				    dl));
				OPENSSL_free(der);
				assert_non_null(csr_key =
				    X509_REQ_get0_pubkey(rq));
			}
			assert_non_null(p = profile_new());
			assert_non_null(p->subject = X509_NAME_new());
			assert_int_equal(X509_NAME_add_entry_by_txt(p->subject,
			    "CN", MBSTRING_ASC,
			    (const unsigned char *)"k.example.org", -1, -1, 0),
			    1);
			p->not_before = 1700000000;
			p->not_after = 1700086400;
			p->md = EVP_sha256();
			cert = NULL;
			assert_int_equal(profile_build(p, csr_key, NULL, NULL,
			    &cert), 0);
			want = got = NULL;
			xp = NULL;
			assert_int_equal(X509_PUBKEY_set(&xp, keys[i]), 1);
			assert_true((wl = i2d_X509_PUBKEY(xp, &want)) > 0);
			assert_true((gl = i2d_X509_PUBKEY(
			    X509_get_X509_PUBKEY(cert), &got)) > 0);
			assert_int_equal(gl, wl);
			assert_memory_equal(got, want, (size_t)wl);
			assert_non_null(X509_get0_pubkey(cert));
			assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert),
			    keys[i]), 1);
			OPENSSL_free(want);
			OPENSSL_free(got);
			X509_PUBKEY_free(xp);
			X509_free(cert);
			profile_free(p);
			X509_REQ_free(rq);
		}
	}
}

/* The shipped Router template, as a SCEP client would use it. */
static void
test_apply_router(void **state)
{
	char path[PATH_MAX + 64], srcdir[PATH_MAX];
	struct cfg_errors e = { 0 };
	struct template *t;
	struct rq q;
	struct out o;
	X509_REQ *x;

	(void)state;
	snprintf(path, sizeof(path), "%s/sub-ca/templates/Router.yaml",
	    src_dir(srcdir));
	if (template_load_file(path, &t, &e) != 0) {
		dump(&e);
		fail_msg("cannot load %s", path);
	}
	rq_init(&q, rsa2048);
	rq_subj(&q, "CN", "r1.routers.example.org");
	rq_subj(&q, "serialNumber", "FTX1234");
	rq_ip(&q, "192.0.2.10");
	rq_ip(&q, "2001:db8:100::10");
	rq_dns(&q, "r1-mgmt.routers.example.org");
	x = rq_done(&q, rsa2048);
	assert_int_equal(X509_REQ_add1_attr_by_NID(x,
	    NID_pkcs9_challengePassword, MBSTRING_ASC,
	    (const unsigned char *)"otp", -1), 1);
	assert_true(X509_REQ_sign(x, rsa2048, EVP_sha256()) > 0);
	apply_ok(t, &bob, x, &o);
	subj_is(o.p, "CN=r1.routers.example.org");
	list_is(o.p->san_dns, "r1-mgmt.routers.example.org,"
	    "r1.routers.example.org");
	list_is(o.p->san_ip, "192.0.2.10,2001:db8:100::10");
	list_is(o.p->eku, "serverAuth,1.3.6.1.5.5.7.3.17");
	assert_int_equal(o.p->key_usage, PROFILE_KU_DIGITAL_SIGNATURE |
	    PROFILE_KU_KEY_ENCIPHERMENT);
	notes_are(o.notes,
	    "request attribute 1.2.840.113549.1.9.7 (challengePassword): "
	    "attributes never become certificate content (ESC6); dropped",
	    "subject: template Router does not take serialNumber; dropped "
	    "serialNumber=FTX1234 from the request", NULL);
	out_free(&o);
	X509_REQ_free(x);
	rq_init(&q, rsa2048);
	rq_subj(&q, "CN", "r1.routers.example.org");
	rq_ip(&q, "198.51.100.1");
	x = rq_done(&q, rsa2048);
	apply_bad(t, &bob, x, CAIRN_E_POLICY, "subjectAltName: IP name "
	    "\"198.51.100.1\" is refused by template Router: it is not in an "
	    "allowed network");
	X509_REQ_free(x);
	template_free(t);
}

/* ---- set-up ---------------------------------------------------------- */

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	rsa1024 = keygen("RSA", NULL, 1024);
	rsa2047 = keygen("RSA", NULL, 2047);
	rsa2048 = keygen("RSA", NULL, 2048);
	rsa3072 = keygen("RSA", NULL, 3072);
	rsa4096 = keygen("RSA", NULL, 4096);
	p256 = keygen("EC", "P-256", 0);
	p384 = keygen("EC", "P-384", 0);
	p521 = keygen("EC", "P-521", 0);
	ed25519 = keygen("ED25519", NULL, 0);
	snprintf(tmpdir, sizeof(tmpdir), "%s/cairn-tpl-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa2047);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa3072);
	EVP_PKEY_free(rsa4096);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed25519);
	return th_run("rm -rf '%s'", tmpdir) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_lint_eku),
		cmocka_unit_test(test_lint_esc1),
		cmocka_unit_test(test_lint_csr_extensions),
		cmocka_unit_test(test_lint_key_usage),
		cmocka_unit_test(test_lint_keys),
		cmocka_unit_test(test_lint_ocsp_nocheck),
		cmocka_unit_test(test_lint_names_nobody),
		cmocka_unit_test(test_lint_enroll),
		cmocka_unit_test(test_lint_request_rules),
		cmocka_unit_test(test_lint_subject),
		cmocka_unit_test(test_many_problems),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_load_dir_perms),
		cmocka_unit_test(test_load_dir_links),
		cmocka_unit_test(test_load_dir_owner),
		cmocka_unit_test(test_load_dir_problems),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_may_enroll),
		cmocka_unit_test(test_key_type),
		cmocka_unit_test(test_apply_keys),
		cmocka_unit_test(test_apply_basic),
		cmocka_unit_test(test_apply_dns_suffix),
		cmocka_unit_test(test_apply_dns_bytes),
		cmocka_unit_test(test_apply_wildcards),
		cmocka_unit_test(test_apply_max),
		cmocka_unit_test(test_apply_include_cn),
		cmocka_unit_test(test_apply_ip),
		cmocka_unit_test(test_apply_email),
		cmocka_unit_test(test_apply_subject),
		cmocka_unit_test(test_apply_account),
		cmocka_unit_test(test_apply_esc1),
		cmocka_unit_test(test_apply_other_kinds),
		cmocka_unit_test(test_apply_attributes),
		cmocka_unit_test(test_apply_extensions),
		cmocka_unit_test(test_apply_malformed),
		cmocka_unit_test(test_apply_profile),
		cmocka_unit_test(test_apply_build),
		cmocka_unit_test(test_build_key),
		cmocka_unit_test(test_apply_router),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
