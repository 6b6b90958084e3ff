/*
 * test_audit.c: hash-chained, signed logs (lib/audit.c).
 *
 * Logs are written through audit_open/append/checkpoint with software
 * P-256 and RSA-3072 keys and with keys inside a SoftHSM2 token, verified,
 * checked against independent tools (openssl dgst, sha256sum), reopened
 * and continued.  Then every kind of tampering an auditor must catch is
 * applied to a good log and the exact first line and message are checked,
 * through both readers (audit_verify_mem and the bounded file reader).
 * Finally every refusal of the writers is checked to have written nothing.
 *
 * The test also makes the seed corpus of tests/fuzz/fuzz_audit.c:
 *	CAIRN_AUDIT_WRITE_SEEDS=$srcdir/tests/fuzz/corpus/audit \
 *	    tests/unit/test_audit
 * writes it there, and every run checks the committed seeds still mean
 * what their names say (good-* verify with the test key, bad-* do not).
 */
/* The lying signer below needs EC_KEY_METHOD (deprecated, as in
 * pkcs11/evp.c). */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <dirent.h>
#include <errno.h>
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

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/audit.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

/*
 * TEST KEY ONLY.  A P-256 key made with `openssl genpkey` for these tests
 * and for the fuzz seeds; tests/fuzz/fuzz_audit.c embeds the same PEM to
 * check the seeds' signatures.  It signs nothing real and never will.
 */
static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM5dSJ76c9oV98yPq\n"
    "NbgfSFlnmSnq/NFBVJxNbtSj+VShRANCAATFKjYqKutaRBpnCu5upJe3I7dwEf15\n"
    "ChK5zRmUR7Jyn/XgzoaYgkKCgKihkM3cSBh4/kENs7M78+Fn0yp8lL2Z\n"
    "-----END PRIVATE KEY-----\n";

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define LINE_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define MAX_LINES 64

static struct th_token tt;
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;
static char dir[PATH_MAX];      /* logs and peer files live here */
static int nfile;               /* for fresh file names */

/* Software keys, each with a public-only twin for verifying. */
static EVP_PKEY *ec_key, *ec_pub, *rsa_key, *rsa_pub, *other_key, *other_pub;
static EVP_PKEY *fixed_key, *fixed_pub;

/* ---- helpers ----------------------------------------------------------- */

static EVP_PKEY *
public_only(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub;
	int len;

	assert_true((len = i2d_PUBKEY(k, &der)) > 0);
	p = der;
	assert_non_null(pub = d2i_PUBKEY(NULL, &p, len));
	OPENSSL_free(der);
	return pub;
}

static void
fpr_hex(EVP_PKEY *k, char out[65])
{
	uint8_t md[32];

	assert_int_equal(cairn_spki_sha256(k, md), 0);
	cairn_hex(out, md, sizeof(md), 0);
}

static void
sha256_hex(const void *p, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen;

	assert_int_equal(EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL), 1);
	cairn_hex(out, md, sizeof(md), 0);
}

/* out = a "/" b, which must fit. */
static const char *
join(char out[PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	assert_true(n > 0 && n < PATH_MAX);
	return out;
}

/* A fresh path in the test directory. */
static const char *
new_path(char out[PATH_MAX], const char *what)
{
	int n = snprintf(out, PATH_MAX, "%s/%s-%d.log", dir, what, ++nfile);

	assert_true(n > 0 && n < PATH_MAX);
	return out;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The file holds exactly `len` bytes of `buf`. */
static void
assert_file_is(const char *path, const char *buf, size_t len)
{
	size_t n;
	char *now = slurp(path, &n);

	assert_int_equal(n, len);
	assert_memory_equal(now, buf, len);
	free(now);
}

/* A record as a ceremony step writes it. */
static json_t *
record(const char *step, int i)
{
	json_t *o = json_pack("{s:s, s:s, s:[s,s], s:{s:s, s:s}, s:i, s:s}",
	    "operator", "alice", "step", step, "witnesses", "bob", "carol",
	    "digests", "csr.der",
	    "7b1f3e0c4d2a5968e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8",
	    "root.pem",
	    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
	    "n", i, "result", "ok");

	assert_non_null(o);
	return o;
}

static void
append_record(struct audit_log *log, const char *step, int i)
{
	json_t *o = record(step, i);
	int r = audit_append(log, o);

	if (r != 0)
		print_error("audit_append: %s\n", cairn_errmsg(r));
	assert_int_equal(r, 0);
	json_decref(o);
}

static void
checkpoint(struct audit_log *log, EVP_PKEY *key, EVP_PKEY *pub,
    const EVP_MD *md)
{
	int r = audit_checkpoint(log, key, pub, md);

	if (r != 0)
		print_error("audit_checkpoint: %s\n", cairn_errmsg(r));
	assert_int_equal(r, 0);
}

/*
 * The standard log of these tests: records on lines 1-6, a checkpoint on
 * line 7 (sha256), records on 8-9, a checkpoint on 10 (`md2`).
 */
static void
make_log(const char *path, EVP_PKEY *key, EVP_PKEY *pub, const EVP_MD *md2)
{
	static const char *const steps[] = { "start", "generate-key",
		"self-sign", "lint", "export", "backup" };
	struct audit_log *log = NULL;
	int i;

	assert_int_equal(audit_open(path, &log), 0);
	for (i = 0; i < 6; i++)
		append_record(log, steps[i], i + 1);
	checkpoint(log, key, pub, EVP_sha256());
	append_record(log, "sign-subordinate", 8);
	append_record(log, "close", 9);
	checkpoint(log, key, pub, md2);
	assert_int_equal(audit_seq(log), 10);
	audit_close(log);
}

static void
verify_ok(const char *path, EVP_PKEY *pub, struct audit_report *rep)
{
	int r = audit_verify_file(path, pub, rep);

	if (r != 0)
		print_error("audit_verify_file: %s\n", cairn_errmsg(r));
	assert_int_equal(r, 0);
}

/* ---- lines of a log, to tamper with ------------------------------------ */

struct lines {
	size_t n;
	char *l[MAX_LINES];     /* without "\n" */
};

static void
lines_read(struct lines *L, const char *path)
{
	size_t len, i, start = 0;
	char *buf = slurp(path, &len);

	memset(L, 0, sizeof(*L));
	for (i = 0; i < len; i++)
		if (buf[i] == '\n') {
			assert_true(L->n < MAX_LINES);
			L->l[L->n++] = strndup(buf + start, i - start);
			start = i + 1;
		}
	assert_int_equal(start, len);
	free(buf);
}

static void
lines_free(struct lines *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free(L->l[i]);
	L->n = 0;
}

/* The log text, every line with its "\n". */
static char *
lines_join(const struct lines *L, size_t *len)
{
	size_t i, n = 0;
	char *buf, *p;

	for (i = 0; i < L->n; i++)
		n += strlen(L->l[i]) + 1;
	assert_non_null(buf = p = malloc(n + 1));
	for (i = 0; i < L->n; i++) {
		memcpy(p, L->l[i], strlen(L->l[i]));
		p += strlen(L->l[i]);
		*p++ = '\n';
	}
	*p = '\0';
	*len = n;
	return buf;
}

/* Line numbers below are 1-based, as the messages count. */
static void
lines_set(struct lines *L, size_t k, const char *s)
{
	assert_true(k >= 1 && k <= L->n);
	free(L->l[k - 1]);
	L->l[k - 1] = strdup(s);
}

static void
lines_delete(struct lines *L, size_t k)
{
	assert_true(k >= 1 && k <= L->n);
	free(L->l[k - 1]);
	memmove(&L->l[k - 1], &L->l[k], (L->n - k) * sizeof(L->l[0]));
	L->n--;
}

static void
lines_insert(struct lines *L, size_t k, const char *s)
{
	assert_true(k >= 1 && k <= L->n + 1 && L->n < MAX_LINES);
	memmove(&L->l[k], &L->l[k - 1], (L->n - k + 1) * sizeof(L->l[0]));
	L->l[k - 1] = strdup(s);
	L->n++;
}

static void
lines_swap(struct lines *L, size_t a, size_t b)
{
	char *t = L->l[a - 1];

	L->l[a - 1] = L->l[b - 1];
	L->l[b - 1] = t;
}

static json_t *
line_json(const struct lines *L, size_t k)
{
	json_error_t e;
	json_t *o = json_loads(L->l[k - 1], JSON_REJECT_DUPLICATES, &e);

	assert_non_null(o);
	return o;
}

static void
line_put_json(struct lines *L, size_t k, const json_t *o)
{
	char *s = json_dumps(o, LINE_FLAGS);

	assert_non_null(s);
	lines_set(L, k, s);
	free(s);
}

/* Set field `key` of line k to `val` (stolen), or delete it (NULL). */
static void
edit(struct lines *L, size_t k, const char *key, json_t *val)
{
	json_t *o = line_json(L, k);

	if (val != NULL)
		assert_int_equal(json_object_set_new(o, key, val), 0);
	else
		json_object_del(o, key);
	line_put_json(L, k, o);
	json_decref(o);
}

/*
 * Re-sign checkpoint line k with `key`, as a forger holding the key could:
 * the test's own rendering of the signed message of audit.h.
 */
static void
resign(struct lines *L, size_t k, EVP_PKEY *key)
{
	json_t *o = line_json(L, k);
	const char *mdn = json_string_value(json_object_get(o, "md"));
	const EVP_MD *md = EVP_get_digestbyname(mdn);
	char msg[256], fpr[65];
	unsigned char sig[1024], b64[1400];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = sizeof(sig);
	int n;

	assert_non_null(md);
	n = snprintf(msg, sizeof(msg),
	    "cairn-audit-checkpoint-v1\n%lld\n%s\n%s\n",
	    (long long)json_integer_value(json_object_get(o, "seq")),
	    json_string_value(json_object_get(o, "prev")),
	    json_string_value(json_object_get(o, "time")));
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (unsigned char *)msg, (size_t)n), 1);
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock(b64, sig, (int)siglen);
	fpr_hex(key, fpr);
	json_object_set_new(o, "sig", json_string((char *)b64));
	json_object_set_new(o, "signer", json_string(fpr));
	line_put_json(L, k, o);
	json_decref(o);
}

/*
 * Mend the chain from line k on: each line's prev becomes the hash of the
 * line before, as a forger would redo it; with `renumber`, seq becomes the
 * line number; with `key`, checkpoints are signed again.
 */
static void
fix_chain(struct lines *L, size_t k, int renumber, EVP_PKEY *key)
{
	char h[65];
	json_t *o;

	for (; k <= L->n; k++) {
		if (k == 1)
			memcpy(h, ZERO_HASH, sizeof(h));
		else
			sha256_hex(L->l[k - 2], strlen(L->l[k - 2]), h);
		o = line_json(L, k);
		json_object_set_new(o, "prev", json_string(h));
		if (renumber)
			json_object_set_new(o, "seq",
			    json_integer((json_int_t)k));
		line_put_json(L, k, o);
		if (key != NULL && strcmp(json_string_value(
		    json_object_get(o, "type")), "checkpoint") == 0)
			resign(L, k, key);
		json_decref(o);
	}
}

/*
 * The log `buf` fails to verify with `want` as its message, through both
 * readers: audit_verify_mem, and audit_verify_file (which prefixes the
 * path).  `want` is the whole message, or its start when it ends in "*".
 */
static void
expect_bad(const char *buf, size_t len, EVP_PKEY *pub, const char *want)
{
	struct audit_report rep;
	char path[PATH_MAX], msg[CAIRN_ERRMSG_MAX];
	size_t wl = strlen(want), pl;
	int prefix = wl > 0 && want[wl - 1] == '*', r;
	const char *m;

	if (prefix)
		wl--;
	memset(&rep, 0xa5, sizeof(rep));
	r = audit_verify_mem(buf, len, pub, &rep);
	snprintf(msg, sizeof(msg), "%s", cairn_errmsg(r));
	if (r != CAIRN_E_AUDIT || strncmp(msg, want, wl) != 0 ||
	    (!prefix && msg[wl] != '\0'))
		print_error("want: %s\nhave: %s (%s)\n", want, msg,
		    cairn_errname(r));
	assert_int_equal(r, CAIRN_E_AUDIT);
	assert_true(strncmp(msg, want, wl) == 0);
	if (!prefix)
		assert_int_equal(msg[wl], '\0');
	/* Nothing reported on failure. */
	assert_int_equal(rep.lines, 0);
	assert_int_equal(rep.checkpoints, 0);

	new_path(path, "bad");
	spit(path, buf != NULL ? buf : "", len);
	r = audit_verify_file(path, pub, &rep);
	m = cairn_errmsg(r);
	pl = strlen(path);
	if (r != CAIRN_E_AUDIT || strncmp(m, path, pl) != 0 ||
	    strncmp(m + pl, ": ", 2) != 0 || strcmp(m + pl + 2, msg) != 0)
		print_error("file reader: %s\nmem reader:  %s\n", m, msg);
	assert_int_equal(r, CAIRN_E_AUDIT);
	assert_true(strncmp(m, path, pl) == 0 &&
	    strncmp(m + pl, ": ", 2) == 0);
	assert_string_equal(m + pl + 2, msg);
	unlink(path);
}

static void
expect_bad_lines(const struct lines *L, EVP_PKEY *pub, const char *want)
{
	size_t len;
	char *buf = lines_join(L, &len);

	expect_bad(buf, len, pub, want);
	free(buf);
}

static void
expect_good_lines(const struct lines *L, EVP_PKEY *pub)
{
	struct audit_report rep;
	size_t len;
	char *buf = lines_join(L, &len);
	int r = audit_verify_mem(buf, len, pub, &rep);

	if (r != 0)
		print_error("%s\n", cairn_errmsg(r));
	assert_int_equal(r, 0);
	assert_int_equal(rep.lines, L->n);
	free(buf);
}

/* A standard log signed by the fixed test key, read into lines. */
static void
standard_lines(struct lines *L)
{
	char path[PATH_MAX];

	make_log(new_path(path, "std"), fixed_key, fixed_pub, EVP_sha384());
	lines_read(L, path);
	assert_int_equal(L->n, 10);
}

/* ---- set-up ------------------------------------------------------------- */

static int
setup(void **state)
{
	BIO *b;
	int n;

	if (th_token_create(&tt, "audit-test") != 0 ||
	    th_open(th_module(), "audit-test", &p11, &tok) != 0)
		return -1;
	n = snprintf(dir, sizeof(dir), "%s/logs", tt.dir);
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdir(dir, 0700) != 0)
		return -1;
	if ((ec_key = EVP_EC_gen("P-256")) == NULL ||
	    (rsa_key = EVP_RSA_gen(3072)) == NULL ||
	    (other_key = EVP_EC_gen("P-256")) == NULL)
		return -1;
	ec_pub = public_only(ec_key);
	rsa_pub = public_only(rsa_key);
	other_pub = public_only(other_key);
	b = BIO_new_mem_buf(test_key_pem, -1);
	fixed_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (fixed_key == NULL)
		return -1;
	fixed_pub = public_only(fixed_key);
	return 0;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ec_pub);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(rsa_pub);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(other_pub);
	EVP_PKEY_free(fixed_key);
	EVP_PKEY_free(fixed_pub);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	return 0;
}

/* ---- good logs ---------------------------------------------------------- */

/* Write, verify from file and memory, and read the report. */
static void
write_and_verify(EVP_PKEY *key, EVP_PKEY *pub, const EVP_MD *md2)
{
	struct audit_report rep, rep2;
	struct audit_log *log = NULL;
	char path[PATH_MAX], head[65];
	size_t len;
	char *buf;
	struct lines L;

	make_log(new_path(path, "good"), key, pub, md2);
	verify_ok(path, pub, &rep);
	assert_int_equal(rep.lines, 10);
	assert_int_equal(rep.checkpoints, 2);
	assert_int_equal(rep.last_checkpoint, 10);
	/* The head is the hash of the last line, as sha256sum sees it. */
	lines_read(&L, path);
	sha256_hex(L.l[9], strlen(L.l[9]), head);
	assert_string_equal(rep.head, head);
	lines_free(&L);
	/* Reopening gives the same seq and head. */
	assert_int_equal(audit_open(path, &log), 0);
	assert_int_equal(audit_seq(log), 10);
	assert_string_equal(audit_head(log), head);
	audit_close(log);

	buf = slurp(path, &len);
	assert_int_equal(audit_verify_mem(buf, len, pub, &rep2), 0);
	assert_memory_equal(&rep, &rep2, sizeof(rep));
	/* Without a key: structure and chain only, same report. */
	assert_int_equal(audit_verify_mem(buf, len, NULL, &rep2), 0);
	assert_memory_equal(&rep, &rep2, sizeof(rep));
	free(buf);
}

static void
test_software_ec_p256(void **state)
{
	write_and_verify(ec_key, ec_pub, EVP_sha384());
	write_and_verify(ec_key, ec_pub, EVP_sha512());
}

static void
test_software_rsa_3072(void **state)
{
	write_and_verify(rsa_key, rsa_pub, EVP_sha512());
	write_and_verify(rsa_key, rsa_pub, EVP_sha256());
}

/* Keys in the token: their private operations run in SoftHSM2. */
static void
test_token_keys(void **state)
{
	static const struct {
		enum cairn_key_type type;
		const char *label;
	} kinds[] = {
		{ CAIRN_KEY_EC_P256, "audit-ec" },
		{ CAIRN_KEY_RSA_3072, "audit-rsa" },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct cairn_p11_keygen kg = { kinds[i].type, kinds[i].label,
			0 };
		struct cairn_p11_key *k = NULL;
		EVP_PKEY *pk;
		int r;

		r = cairn_p11_key_generate(tok, &kg, &k);
		if (r != 0)
			print_error("%s\n", cairn_errmsg(r));
		assert_int_equal(r, 0);
		assert_non_null(pk = cairn_p11_key_get1_pkey(k));
		write_and_verify(pk, cairn_p11_key_get0_public(k),
		    EVP_sha384());
		EVP_PKEY_free(pk);
		cairn_p11_key_free(k);
	}
}

/*
 * An independent reading of the format: rebuild a checkpoint's signed
 * message from its line and let `openssl dgst` verify the signature;
 * `openssl pkey | sha256sum` must give its signer, and `sed | sha256sum`
 * the prev of the line after.
 */
static void
peer_check(const char *log, size_t k, EVP_PKEY *pub)
{
	char p[PATH_MAX + 32], fpr[80], h[80], msg[256];
	struct lines L;
	json_t *o;
	FILE *f;
	int n;

	lines_read(&L, log);
	o = line_json(&L, k);
	n = snprintf(msg, sizeof(msg),
	    "cairn-audit-checkpoint-v1\n%lld\n%s\n%s\n",
	    (long long)json_integer_value(json_object_get(o, "seq")),
	    json_string_value(json_object_get(o, "prev")),
	    json_string_value(json_object_get(o, "time")));
	snprintf(p, sizeof(p), "%s/msg.bin", dir);
	spit(p, msg, (size_t)n);
	snprintf(p, sizeof(p), "%s/sig.b64", dir);
	spit(p, json_string_value(json_object_get(o, "sig")),
	    json_string_length(json_object_get(o, "sig")));
	snprintf(p, sizeof(p), "%s/pub.pem", dir);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(PEM_write_PUBKEY(f, pub), 1);
	fclose(f);

	assert_int_equal(th_run("cd '%s' && openssl base64 -d -A -in sig.b64 "
	    "-out sig.bin && openssl dgst -%s -verify pub.pem -signature "
	    "sig.bin msg.bin >/dev/null", dir,
	    json_string_value(json_object_get(o, "md"))), 0);
	/* The same command refuses a changed message: it really checks. */
	msg[n - 2] ^= 1;
	snprintf(p, sizeof(p), "%s/msg.bin", dir);
	spit(p, msg, (size_t)n);
	assert_int_not_equal(th_run("cd '%s' && openssl dgst -%s -verify "
	    "pub.pem -signature sig.bin msg.bin >/dev/null 2>&1", dir,
	    json_string_value(json_object_get(o, "md"))), 0);

	assert_int_equal(th_run("cd '%s' && openssl pkey -pubin -in pub.pem "
	    "-outform DER | sha256sum | cut -c1-64 >fpr.txt", dir), 0);
	snprintf(p, sizeof(p), "%s/fpr.txt", dir);
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(fpr, sizeof(fpr), f));
	fclose(f);
	fpr[strcspn(fpr, "\n")] = '\0';
	assert_string_equal(fpr, json_string_value(json_object_get(o,
	    "signer")));

	assert_int_equal(th_run("sed -n '%zup' '%s' | tr -d '\\n' | sha256sum "
	    "| cut -c1-64 >'%s/h.txt'", k - 1, log, dir), 0);
	snprintf(p, sizeof(p), "%s/h.txt", dir);
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(h, sizeof(h), f));
	fclose(f);
	h[strcspn(h, "\n")] = '\0';
	assert_string_equal(h, json_string_value(json_object_get(o, "prev")));
	json_decref(o);
	lines_free(&L);
}

static void
test_peer_openssl(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P256, "audit-peer", 0 };
	struct cairn_p11_key *k = NULL;
	char path[PATH_MAX];
	EVP_PKEY *pk;

	make_log(new_path(path, "peer-ec"), ec_key, ec_pub, EVP_sha384());
	peer_check(path, 7, ec_pub);
	peer_check(path, 10, ec_pub);
	make_log(new_path(path, "peer-rsa"), rsa_key, rsa_pub, EVP_sha512());
	peer_check(path, 7, rsa_pub);
	peer_check(path, 10, rsa_pub);
	/* A token signature, too. */
	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	assert_non_null(pk = cairn_p11_key_get1_pkey(k));
	make_log(new_path(path, "peer-token"), pk,
	    cairn_p11_key_get0_public(k), EVP_sha256());
	peer_check(path, 10, cairn_p11_key_get0_public(k));
	EVP_PKEY_free(pk);
	cairn_p11_key_free(k);
}

/* What a line looks like, byte for byte. */
static void
test_line_format(void **state)
{
	struct audit_log *log = NULL;
	char path[PATH_MAX], want[512], fpr[65], h1[65];
	struct lines L;
	json_t *o, *cp;
	const char *t, *key;
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
	size_t n;

	/* Keys sorted, compact, non-ASCII escaped. */
	o = json_pack("{s:s, s:i, s:[i,b,n], s:{s:s}}", "zeta", "caf\xc3\xa9",
	    "alpha", 1, "mid", 2, 1, "obj", "k", "<\"\\>");
	assert_int_equal(audit_open(new_path(path, "format"), &log), 0);
	assert_int_equal(audit_append(log, o), 0);
	checkpoint(log, ec_key, ec_pub, EVP_sha256());
	audit_close(log);
	json_decref(o);
	lines_read(&L, path);
	assert_int_equal(L.n, 2);
	o = line_json(&L, 1);
	t = json_string_value(json_object_get(o, "time"));
	snprintf(want, sizeof(want), "{\"alpha\":1,\"mid\":[2,true,null],"
	    "\"obj\":{\"k\":\"<\\\"\\\\>\"},\"prev\":\"%s\",\"seq\":1,"
	    "\"time\":\"%s\",\"type\":\"record\",\"zeta\":\"caf\\u00E9\"}",
	    ZERO_HASH, t);
	assert_string_equal(L.l[0], want);
	/* The time is now, in UTC, to the second. */
	assert_int_equal(strlen(t), 20);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT", &tm);
	assert_memory_equal(t, ts, 11);
	assert_int_equal(t[19], 'Z');
	json_decref(o);

	/* A checkpoint has exactly its seven fields. */
	cp = line_json(&L, 2);
	assert_int_equal(json_object_size(cp), 7);
	json_object_foreach(cp, key, o) {
		snprintf(want, sizeof(want), " %s ", key);
		assert_non_null(strstr(" seq prev time type signer md sig ",
		    want));
	}
	fpr_hex(ec_pub, fpr);
	sha256_hex(L.l[0], strlen(L.l[0]), h1);
	assert_string_equal(json_string_value(json_object_get(cp, "signer")),
	    fpr);
	assert_string_equal(json_string_value(json_object_get(cp, "prev")), h1);
	assert_string_equal(json_string_value(json_object_get(cp, "md")),
	    "sha256");
	assert_string_equal(json_string_value(json_object_get(cp, "type")),
	    "checkpoint");
	assert_int_equal(json_integer_value(json_object_get(cp, "seq")), 2);
	n = strlen(json_string_value(json_object_get(cp, "sig")));
	assert_true(n > 80 && n % 4 == 0);
	json_decref(cp);
	lines_free(&L);
}

/* A log reopened continues its chain; a ceremony may add a checkpoint
 * after records left by an earlier, interrupted run. */
static void
test_reopen_continues(void **state)
{
	struct audit_report rep;
	struct audit_log *log = NULL;
	char path[PATH_MAX], head[65];
	struct stat st;

	assert_int_equal(audit_open(new_path(path, "reopen"), &log), 0);
	assert_int_equal(audit_seq(log), 0);
	assert_string_equal(audit_head(log), ZERO_HASH);
	/* Created 0600 at once. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 0);
	append_record(log, "first", 1);
	append_record(log, "second", 2);
	snprintf(head, sizeof(head), "%s", audit_head(log));
	audit_close(log);

	/* Records only: not a finished log, but one that may go on. */
	assert_int_equal(audit_verify_file(path, ec_pub, &rep), CAIRN_E_AUDIT);
	assert_int_equal(audit_open(path, &log), 0);
	assert_int_equal(audit_seq(log), 2);
	assert_string_equal(audit_head(log), head);
	append_record(log, "third", 3);
	checkpoint(log, ec_key, ec_pub, EVP_sha256());
	audit_close(log);

	assert_int_equal(audit_open(path, &log), 0);
	assert_int_equal(audit_seq(log), 4);
	append_record(log, "next ceremony", 5);
	checkpoint(log, ec_key, ec_pub, EVP_sha512());
	audit_close(log);
	verify_ok(path, ec_pub, &rep);
	assert_int_equal(rep.lines, 6);
	assert_int_equal(rep.checkpoints, 2);
	assert_int_equal(rep.last_checkpoint, 6);
}

/* ---- tampering ---------------------------------------------------------- */

/*
 * One byte changed anywhere in the log, to several values: the first bad
 * line is the changed one, or the one after it, whose prev no longer
 * matches.  A change in the last line (a checkpoint) is caught by that
 * line itself.
 */
static void
test_tamper_any_byte(void **state)
{
	static const int flips[] = { 0x01, 0x80, -'\n', -' ', -'"' };
	struct audit_report rep;
	struct lines L;
	size_t len, i, j, k;
	char *buf, a[48], b[96];
	int r;

	standard_lines(&L);
	buf = lines_join(&L, &len);
	for (k = 1, i = 0; i < len; i++) {
		for (j = 0; j < sizeof(flips) / sizeof(flips[0]); j++) {
			char old = buf[i];
			const char *m;

			buf[i] = flips[j] > 0 ? (char)(old ^ flips[j]) :
			    (char)-flips[j];
			if (buf[i] == old)
				continue;
			r = audit_verify_mem(buf, len, fixed_pub, &rep);
			m = cairn_errmsg(r);
			snprintf(a, sizeof(a), "line %zu: ", k);
			snprintf(b, sizeof(b), "line %zu: prev does not match "
			    "the hash of line %zu:", k + 1, k);
			if (r != CAIRN_E_AUDIT ||
			    (strncmp(m, a, strlen(a)) != 0 && (k == L.n ||
			    strncmp(m, b, strlen(b)) != 0)))
				print_error("byte %zu (line %zu) set to "
				    "0x%02x: %s: %s\n", i, k,
				    (unsigned char)buf[i], cairn_errname(r), m);
			assert_int_equal(r, CAIRN_E_AUDIT);
			assert_true(strncmp(m, a, strlen(a)) == 0 ||
			    (k < L.n && strncmp(m, b, strlen(b)) == 0));
			buf[i] = old;
		}
		if (buf[i] == '\n')
			k++;
	}
	free(buf);

	/* The message of audit.h, exactly: a value changed in line 6. */
	L.l[5][strstr(L.l[5], "alice") - L.l[5]] = 'A';
	expect_bad_lines(&L, fixed_pub, "line 7: prev does not match the hash "
	    "of line 6: line 6 was changed, or lines were removed or "
	    "reordered before line 7");
	lines_free(&L);
}

static void
test_tamper_lines(void **state)
{
	struct audit_report rep;
	struct lines L;
	size_t len;
	char *buf, head[65];

	/* Two lines swapped. */
	standard_lines(&L);
	lines_swap(&L, 3, 4);
	expect_bad_lines(&L, fixed_pub, "line 3: seq is 4, expected 3: lines "
	    "were removed or reordered before line 3, or line 3 was changed");
	lines_free(&L);

	/* Swapped, and the chain mended by someone without the key. */
	standard_lines(&L);
	lines_swap(&L, 3, 4);
	fix_chain(&L, 1, 1, NULL);
	expect_bad_lines(&L, fixed_pub, "line 7: checkpoint signature does not "
	    "verify with the given key*");
	lines_free(&L);

	/* A line deleted in the middle. */
	standard_lines(&L);
	lines_delete(&L, 4);
	expect_bad_lines(&L, fixed_pub, "line 4: seq is 5, expected 4: lines "
	    "were removed or reordered before line 4, or line 4 was changed");
	fix_chain(&L, 4, 1, NULL);
	expect_bad_lines(&L, fixed_pub, "line 6: checkpoint signature does not "
	    "verify with the given key*");
	lines_free(&L);

	/* A line inserted: a copy of an old one, then a forged one. */
	standard_lines(&L);
	lines_insert(&L, 5, L.l[1]);
	expect_bad_lines(&L, fixed_pub, "line 5: seq is 2, expected 5: a line "
	    "was inserted, repeated or reordered before line 5, or line 5 was "
	    "changed");
	lines_free(&L);
	standard_lines(&L);
	lines_insert(&L, 5, L.l[4]);
	edit(&L, 5, "step", json_string("forged"));
	/* A well-made line 5 pushes the old line 5 to line 6. */
	expect_bad_lines(&L, fixed_pub, "line 6: seq is 5, expected 6*");
	lines_free(&L);
	standard_lines(&L);
	lines_insert(&L, 5, L.l[4]);
	edit(&L, 5, "step", json_string("forged"));
	fix_chain(&L, 5, 1, NULL);
	expect_bad_lines(&L, fixed_pub, "line 8: checkpoint signature does not "
	    "verify with the given key*");
	/* Only the key can make it whole again. */
	fix_chain(&L, 5, 1, fixed_key);
	expect_good_lines(&L, fixed_pub);
	lines_free(&L);

	/* The last checkpoint deleted: the tail is not covered. */
	standard_lines(&L);
	lines_delete(&L, 10);
	expect_bad_lines(&L, fixed_pub, "line 8: not covered by a signature: "
	    "lines 8 to 9 follow the last checkpoint (line 7): the final "
	    "checkpoint was removed, or the log was cut or never closed");
	lines_free(&L);
	/* Cut exactly after a checkpoint: verifies, but with another head
	 * and seq than the transcript's, which is what they are for. */
	standard_lines(&L);
	sha256_hex(L.l[9], strlen(L.l[9]), head);
	lines_delete(&L, 10);
	lines_delete(&L, 9);
	lines_delete(&L, 8);
	buf = lines_join(&L, &len);
	assert_int_equal(audit_verify_mem(buf, len, fixed_pub, &rep), 0);
	assert_int_equal(rep.lines, 7);
	assert_int_equal(rep.last_checkpoint, 7);
	assert_string_not_equal(rep.head, head);
	free(buf);
	lines_free(&L);

	/* Truncated in the middle of a line, or just its newline lost. */
	standard_lines(&L);
	buf = lines_join(&L, &len);
	expect_bad(buf, len - strlen(L.l[9]) / 2, fixed_pub, "line 10: the "
	    "log ends in the middle of line 10 (no newline at its end): the "
	    "log was cut");
	expect_bad(buf, len - 1, fixed_pub, "line 10: the log ends in the "
	    "middle of line 10 (no newline at its end): the log was cut");
	expect_bad(buf, len - strlen(L.l[9]) - 3, fixed_pub, "line 9: the log "
	    "ends in the middle of line 9*");
	free(buf);
	lines_free(&L);
}

static void
test_tamper_seq(void **state)
{
	struct lines L;

	/* A gap, the chain otherwise intact. */
	standard_lines(&L);
	edit(&L, 5, "seq", json_integer(6));
	fix_chain(&L, 6, 0, NULL);
	expect_bad_lines(&L, fixed_pub, "line 5: seq is 6, expected 5: lines "
	    "were removed or reordered before line 5, or line 5 was changed");
	lines_free(&L);
	/* A duplicate. */
	standard_lines(&L);
	edit(&L, 5, "seq", json_integer(4));
	fix_chain(&L, 6, 0, NULL);
	expect_bad_lines(&L, fixed_pub, "line 5: seq is 4, expected 5: a line "
	    "was inserted, repeated or reordered before line 5, or line 5 was "
	    "changed");
	lines_free(&L);
	/* Not a positive integer. */
	standard_lines(&L);
	edit(&L, 1, "seq", json_integer(0));
	expect_bad_lines(&L, fixed_pub, "line 1: seq is 0, not a positive "
	    "integer");
	edit(&L, 1, "seq", json_integer(-1));
	expect_bad_lines(&L, fixed_pub, "line 1: seq is -1, not a positive "
	    "integer");
	edit(&L, 1, "seq", json_string("1"));
	expect_bad_lines(&L, fixed_pub, "line 1: seq is a string, not a "
	    "positive integer");
	edit(&L, 1, "seq", json_real(1.0));
	expect_bad_lines(&L, fixed_pub, "line 1: seq is a number, not a "
	    "positive integer");
	edit(&L, 1, "seq", NULL);
	expect_bad_lines(&L, fixed_pub, "line 1: no \"seq\" field");
	lines_free(&L);
	/* A number too large for any integer type. */
	standard_lines(&L);
	lines_set(&L, 2, "{\"seq\":99999999999999999999999}");
	expect_bad_lines(&L, fixed_pub, "line 2: not valid JSON: too big "
	    "integer*");
	lines_free(&L);
}

static void
test_tamper_signatures(void **state)
{
	struct audit_report rep;
	char path[PATH_MAX], want[256], fo[65], fg[65];
	struct lines L;
	json_t *o;
	size_t len;
	char *buf, *sig;

	/* Signed by another key. */
	make_log(new_path(path, "other"), other_key, other_pub, EVP_sha256());
	lines_read(&L, path);
	fpr_hex(other_pub, fo);
	fpr_hex(fixed_pub, fg);
	snprintf(want, sizeof(want), "line 7: checkpoint signed by key %s, not "
	    "by the given key %s", fo, fg);
	expect_bad_lines(&L, fixed_pub, want);
	/* ... and claiming to be by the given one. */
	edit(&L, 7, "signer", json_string(fg));
	expect_bad_lines(&L, fixed_pub, "line 7: checkpoint signature does not "
	    "verify with the given key: line 7 was changed after it was "
	    "signed, or the key that signed it is not the one its signer "
	    "field names");
	lines_free(&L);

	/* One bit of the signature flipped, in the middle and at the end. */
	standard_lines(&L);
	o = line_json(&L, 10);
	sig = strdup(json_string_value(json_object_get(o, "sig")));
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	json_decref(o);
	edit(&L, 10, "sig", json_string(sig));
	free(sig);
	expect_bad_lines(&L, fixed_pub, "line 10: checkpoint signature does "
	    "not verify with the given key*");
	/* Without a key only the structure is checked: the last signature
	 * is then not checked at all (audit.h). */
	buf = lines_join(&L, &len);
	assert_int_equal(audit_verify_mem(buf, len, NULL, &rep), 0);
	free(buf);
	lines_free(&L);
	standard_lines(&L);
	o = line_json(&L, 7);
	sig = strdup(json_string_value(json_object_get(o, "sig")));
	sig[4] = sig[4] == 'A' ? 'B' : 'A';
	json_decref(o);
	edit(&L, 7, "sig", json_string(sig));
	free(sig);
	fix_chain(&L, 8, 0, NULL);
	expect_bad_lines(&L, fixed_pub, "line 7: checkpoint signature does not "
	    "verify with the given key*");
	lines_free(&L);

	/* Another digest named than the one signed with. */
	standard_lines(&L);
	edit(&L, 10, "md", json_string("sha512"));
	expect_bad_lines(&L, fixed_pub, "line 10: checkpoint signature does "
	    "not verify with the given key*");
	edit(&L, 10, "md", json_string("sha1"));
	expect_bad_lines(&L, fixed_pub, "line 10: md is \"sha1\": want sha256, "
	    "sha384 or sha512");
	edit(&L, 10, "md", json_string("SHA256"));
	expect_bad_lines(&L, fixed_pub, "line 10: md is \"SHA256\"*");
	lines_free(&L);

	/* Base64 must be exact: no whitespace, padding, no stray bits. */
	standard_lines(&L);
	edit(&L, 10, "sig", json_string("AAAA AAA="));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64 (RFC 4648, "
	    "padded, nothing else)");
	edit(&L, 10, "sig", json_string("AAB"));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64*");
	edit(&L, 10, "sig", json_string("AB=="));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64*");
	edit(&L, 10, "sig", json_string("AAF="));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64*");
	edit(&L, 10, "sig", json_string("A=AA"));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64*");
	edit(&L, 10, "sig", json_string(""));
	expect_bad_lines(&L, NULL, "line 10: sig is not base64*");
	edit(&L, 10, "sig", json_string("AA=="));
	expect_bad_lines(&L, fixed_pub, "line 10: checkpoint signature does "
	    "not verify*");
	/* ...and a well-formed one passes without a key. */
	buf = lines_join(&L, &len);
	assert_int_equal(audit_verify_mem(buf, len, NULL, &rep), 0);
	free(buf);
	edit(&L, 10, "signer", json_string("ABC"));
	expect_bad_lines(&L, NULL, "line 10: signer is not 64 lowercase hex "
	    "digits (a SHA-256 key fingerprint)");
	edit(&L, 10, "signer", NULL);
	expect_bad_lines(&L, NULL, "line 10: no \"signer\" field");
	lines_free(&L);
}

static void
test_tamper_fields(void **state)
{
	static const char *const sigfields[] = { "sig", "signer", "md" };
	char want[128];
	struct lines L;
	size_t i;

	/* A record carrying what only checkpoints carry. */
	for (i = 0; i < 3; i++) {
		standard_lines(&L);
		edit(&L, 3, sigfields[i], json_string("AAAA"));
		fix_chain(&L, 4, 0, NULL);
		snprintf(want, sizeof(want), "line 3: a record may not carry "
		    "\"%s\": only checkpoints are signed", sigfields[i]);
		expect_bad_lines(&L, fixed_pub, want);
		lines_free(&L);
	}
	/* A checkpoint carrying more. */
	standard_lines(&L);
	edit(&L, 10, "note", json_string("added later"));
	expect_bad_lines(&L, fixed_pub, "line 10: a checkpoint carries exactly "
	    "seq, prev, time, type, signer, md and sig; this one has \"note\" "
	    "besides");
	lines_free(&L);

	/* prev: the format, and line 1's zeros. */
	standard_lines(&L);
	memset(want, '1', 64);
	want[64] = '\0';
	edit(&L, 1, "prev", json_string(want));
	expect_bad_lines(&L, fixed_pub, "line 1: prev is not 64 zeros, as the "
	    "first line's must be: lines were removed before line 1");
	lines_free(&L);
	standard_lines(&L);
	{
		json_t *o = line_json(&L, 4);
		char *up = strdup(json_string_value(json_object_get(o,
		    "prev")));
		size_t j;

		for (j = 0; up[j] != '\0'; j++)
			if (up[j] >= 'a' && up[j] <= 'f')
				up[j] = (char)(up[j] - 'a' + 'A');
		edit(&L, 4, "prev", json_string(up));
		free(up);
		json_decref(o);
	}
	expect_bad_lines(&L, fixed_pub, "line 4: prev is not 64 lowercase hex "
	    "digits (a SHA-256 hash)");
	edit(&L, 4, "prev", json_integer(1));
	expect_bad_lines(&L, fixed_pub, "line 4: \"prev\" is an integer, not a "
	    "string");
	edit(&L, 4, "prev", NULL);
	expect_bad_lines(&L, fixed_pub, "line 4: no \"prev\" field");
	lines_free(&L);

	/* type. */
	standard_lines(&L);
	edit(&L, 2, "type", json_string("Record"));
	expect_bad_lines(&L, fixed_pub, "line 2: type is \"Record\": want "
	    "\"record\" or \"checkpoint\"");
	edit(&L, 2, "type", json_stringn("record\0x", 8));
	expect_bad_lines(&L, fixed_pub, "line 2: not valid JSON: \\u0000 is "
	    "not allowed*");
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 2, "type", NULL);
	expect_bad_lines(&L, fixed_pub, "line 2: no \"type\" field");
	lines_free(&L);
	/* A record turned into a checkpoint lacks the signature fields. */
	standard_lines(&L);
	edit(&L, 2, "type", json_string("checkpoint"));
	expect_bad_lines(&L, fixed_pub, "line 2: a checkpoint carries exactly "
	    "seq, prev, time, type, signer, md and sig; this one has *");
	lines_free(&L);
}

/* Times: RFC 3339 in UTC, a real calendar date. */
static void
test_tamper_time(void **state)
{
	static const char *const good[] = {
		"2024-02-29T12:00:00Z", "2000-02-29T00:00:00Z",
		"2026-12-31T23:59:60Z", "2026-11-25T10:00:00.5Z",
		"2026-11-25T10:00:00.123456789Z", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z",
	};
	static const struct {
		const char *t, *why;
	} bad[] = {
		{ "2023-02-29T12:00:00Z", "no such day in that month" },
		{ "1900-02-29T12:00:00Z", "no such day in that month" },
		{ "2026-04-31T12:00:00Z", "no such day in that month" },
		{ "2026-02-30T12:00:00Z", "no such day in that month" },
		{ "2026-01-00T12:00:00Z", "no such day in that month" },
		{ "2026-13-01T12:00:00Z", "no such month" },
		{ "2026-00-01T12:00:00Z", "no such month" },
		{ "2026-01-01T24:00:00Z", "no such hour or minute" },
		{ "2026-01-01T12:60:00Z", "no such hour or minute" },
		{ "2026-01-01T12:00:60Z", "no such second (60 only at 23:59, a "
		    "leap second)" },
		{ "2026-01-01T23:59:61Z", "no such second*" },
		{ "2026-01-01t12:00:00Z", "not of the form*" },
		{ "2026-01-01T12:00:00z", "not of the form*" },
		{ "2026-01-01T12:00:00+00:00", "not of the form*" },
		{ "2026-01-01 12:00:00Z", "not of the form*" },
		{ "2026-01-01T12:00:00", "not of the form*" },
		{ "2026-1-01T12:00:00Z", "not of the form*" },
		{ "2026-01-01T12:00:00.Z", "not of the form*" },
		{ "2026-01-01T12:00:00.1234567890Z", "not of the form*" },
		{ "2026-01-01T12:00:00.12aZ", "its fraction of a second is not "
		    "digits" },
		{ "+2026-01-01T12:00:00Z", "not of the form*" },
		{ "", "not of the form*" },
	};
	char want[256];
	struct lines L;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		standard_lines(&L);
		edit(&L, 3, "time", json_string(good[i]));
		fix_chain(&L, 4, 0, fixed_key);
		expect_good_lines(&L, fixed_pub);
		/* In a checkpoint, too: the signed message carries it. */
		edit(&L, 10, "time", json_string(good[i]));
		resign(&L, 10, fixed_key);
		expect_good_lines(&L, fixed_pub);
		lines_free(&L);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		standard_lines(&L);
		edit(&L, 3, "time", json_string(bad[i].t));
		fix_chain(&L, 4, 0, fixed_key);
		snprintf(want, sizeof(want), "line 3: time \"%s\" is not an "
		    "RFC 3339 UTC time: %s", bad[i].t, bad[i].why);
		expect_bad_lines(&L, fixed_pub, want);
		lines_free(&L);
	}
	/* Not a string at all; and a time changed in a signed checkpoint. */
	standard_lines(&L);
	edit(&L, 3, "time", json_integer(1700000000));
	expect_bad_lines(&L, fixed_pub, "line 3: \"time\" is an integer, not a "
	    "string");
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 10, "time", json_string("2000-01-01T00:00:00Z"));
	expect_bad_lines(&L, fixed_pub, "line 10: checkpoint signature does "
	    "not verify*");
	lines_free(&L);
}

/* Lines that are not one JSON object ending in "\n". */
static void
test_tamper_syntax(void **state)
{
	struct lines L;
	size_t len, k;
	char *buf, *s;

	/* Duplicate keys: two readers could take either value. */
	standard_lines(&L);
	assert_non_null(s = malloc(strlen(L.l[2]) + 16));
	sprintf(s, "{\"seq\":3,%s", L.l[2] + 1);
	lines_set(&L, 3, s);
	free(s);
	expect_bad_lines(&L, fixed_pub, "line 3: a key appears twice in the "
	    "object (duplicate object key near '\"seq\"'): one line, one "
	    "meaning");
	lines_free(&L);

	/* Not an object. */
	standard_lines(&L);
	lines_set(&L, 3, "[1,2,3]");
	expect_bad_lines(&L, fixed_pub, "line 3: is an array, not a JSON "
	    "object");
	lines_set(&L, 3, "\"record\"");
	expect_bad_lines(&L, fixed_pub, "line 3: is a string, not a JSON "
	    "object");
	lines_set(&L, 3, "3");
	expect_bad_lines(&L, fixed_pub, "line 3: is an integer, not a JSON "
	    "object");
	lines_set(&L, 3, "null");
	expect_bad_lines(&L, fixed_pub, "line 3: is null, not a JSON object");
	lines_set(&L, 3, "{\"seq\":3");
	expect_bad_lines(&L, fixed_pub, "line 3: not valid JSON: *");
	lines_set(&L, 3, "{\"seq\":3,}");
	expect_bad_lines(&L, fixed_pub, "line 3: not valid JSON: *");
	/* Invalid UTF-8 inside a string. */
	lines_set(&L, 3, "{\"a\":\"\xff\"}");
	expect_bad_lines(&L, fixed_pub, "line 3: not valid JSON: *");
	lines_free(&L);

	/* Trailing data after the object. */
	standard_lines(&L);
	assert_non_null(s = malloc(strlen(L.l[2]) + 8));
	sprintf(s, "%s{}", L.l[2]);
	lines_set(&L, 3, s);
	expect_bad_lines(&L, fixed_pub, "line 3: data after the JSON object "
	    "(byte *");
	sprintf(s, "%sx", L.l[2]);
	lines_set(&L, 3, s);
	expect_bad_lines(&L, fixed_pub, "line 3: *");
	lines_free(&L);
	free(s);

	/* CR LF, at one line and at all. */
	standard_lines(&L);
	assert_non_null(s = malloc(strlen(L.l[2]) + 2));
	sprintf(s, "%s\r", L.l[2]);
	lines_set(&L, 3, s);
	free(s);
	expect_bad_lines(&L, fixed_pub, "line 3: ends with CR LF: log lines "
	    "end with LF alone (was the log converted to Windows line ends?)");
	lines_free(&L);
	standard_lines(&L);
	for (k = 1; k <= L.n; k++) {
		assert_non_null(s = malloc(strlen(L.l[k - 1]) + 2));
		sprintf(s, "%s\r", L.l[k - 1]);
		lines_set(&L, k, s);
		free(s);
	}
	expect_bad_lines(&L, fixed_pub, "line 1: ends with CR LF*");
	lines_free(&L);

	/* An empty line; a NUL byte; a byte order mark. */
	standard_lines(&L);
	lines_insert(&L, 4, "");
	expect_bad_lines(&L, fixed_pub, "line 4: empty line: a log line is "
	    "never empty (a blank line was inserted, or line 4 was emptied)");
	lines_free(&L);
	standard_lines(&L);
	buf = lines_join(&L, &len);
	buf[strlen(L.l[0]) + 5] = '\0';
	expect_bad(buf, len, fixed_pub, "line 2: contains a NUL byte");
	free(buf);
	assert_non_null(s = malloc(strlen(L.l[0]) + 4));
	sprintf(s, "\xef\xbb\xbf%s", L.l[0]);
	lines_set(&L, 1, s);
	free(s);
	expect_bad_lines(&L, fixed_pub, "line 1: starts with a UTF-8 byte "
	    "order mark: the log was re-saved by an editor");
	lines_free(&L);
}

/* A line of exactly CAIRN_AUDIT_LINE_MAX bytes is written and read; one
 * more byte is refused by the writer and by both readers. */
static void
test_line_max(void **state)
{
	struct audit_report rep;
	struct audit_log *log = NULL;
	char path[PATH_MAX], before[PATH_MAX];
	size_t base, len, blen;
	char *s, *buf, *pad, *big, *bbuf;
	json_t *o, *t;
	struct lines L;

	assert_int_equal(audit_open(new_path(path, "max"), &log), 0);
	append_record(log, "first", 1);
	/* The length of line 2 without its padding. */
	t = json_pack("{s:s, s:s, s:i, s:s, s:s}", "pad", "", "prev",
	    ZERO_HASH, "seq", 2, "time", "2000-01-01T00:00:00Z", "type",
	    "record");
	s = json_dumps(t, LINE_FLAGS);
	base = strlen(s);
	free(s);
	json_decref(t);
	assert_non_null(pad = malloc(CAIRN_AUDIT_LINE_MAX + 2));
	memset(pad, 'x', CAIRN_AUDIT_LINE_MAX + 1);

	/* One byte too many: refused, nothing written. */
	bbuf = slurp(path, &blen);
	pad[CAIRN_AUDIT_LINE_MAX - base + 1] = '\0';
	o = json_pack("{s:s}", "pad", pad);
	assert_int_equal(audit_append(log, o), CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "65537 bytes, "
	    "more than CAIRN_AUDIT_LINE_MAX"));
	json_decref(o);
	assert_file_is(path, bbuf, blen);
	assert_int_equal(audit_seq(log), 1);
	free(bbuf);

	/* Exactly the limit: written, and read by both readers. */
	pad[CAIRN_AUDIT_LINE_MAX - base + 1] = 'x';
	pad[CAIRN_AUDIT_LINE_MAX - base] = '\0';
	o = json_pack("{s:s}", "pad", pad);
	assert_int_equal(audit_append(log, o), 0);
	json_decref(o);
	checkpoint(log, ec_key, ec_pub, EVP_sha256());
	audit_close(log);
	lines_read(&L, path);
	assert_int_equal(strlen(L.l[1]), CAIRN_AUDIT_LINE_MAX);
	verify_ok(path, ec_pub, &rep);
	assert_int_equal(rep.lines, 3);
	buf = slurp(path, &len);
	assert_int_equal(audit_verify_mem(buf, len, ec_pub, &rep), 0);
	free(buf);
	/* It is reopened, too. */
	assert_int_equal(audit_open(path, &log), 0);
	assert_int_equal(audit_seq(log), 3);
	audit_close(log);

	/* One byte more in the file: both readers refuse line 2, whether
	 * a newline follows somewhere or never. */
	assert_non_null(big = malloc(CAIRN_AUDIT_LINE_MAX + 2));
	memset(big, 'x', CAIRN_AUDIT_LINE_MAX + 1);
	big[CAIRN_AUDIT_LINE_MAX + 1] = '\0';
	lines_set(&L, 2, big);
	expect_bad_lines(&L, ec_pub, "line 2: longer than 65536 bytes "
	    "(CAIRN_AUDIT_LINE_MAX): not a line this log format writes");
	buf = lines_join(&L, &len);
	len = strlen(L.l[0]) + 1 + CAIRN_AUDIT_LINE_MAX + 1;
	expect_bad(buf, len, ec_pub, "line 2: longer than 65536 bytes*");
	/* Exactly the limit and no newline: a cut line. */
	expect_bad(buf, len - 1, ec_pub, "line 2: the log ends in the middle "
	    "of line 2*");
	/* A broken log of that shape is not appended to either. */
	spit(new_path(before, "max-open"), buf, len);
	assert_int_equal(audit_open(before, &log), CAIRN_E_AUDIT);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_AUDIT), "line 2: longer "
	    "than 65536 bytes"));
	assert_null(log);
	assert_file_is(before, buf, len);
	free(buf);
	free(big);
	free(pad);
	lines_free(&L);
}

static void
test_empty_and_unsigned(void **state)
{
	struct audit_report rep;
	struct audit_log *log = NULL;
	char path[PATH_MAX];
	struct lines L;
	size_t len;
	char *buf;

	expect_bad("", 0, fixed_pub, "line 1: the log is empty: a log has at "
	    "least one line and ends with a checkpoint");
	expect_bad(NULL, 0, NULL, "line 1: the log is empty*");
	expect_bad("\n", 1, NULL, "line 1: empty line*");

	/* Records and no checkpoint. */
	assert_int_equal(audit_open(new_path(path, "unsigned"), &log), 0);
	append_record(log, "one", 1);
	append_record(log, "two", 2);
	audit_close(log);
	buf = slurp(path, &len);
	expect_bad(buf, len, fixed_pub, "line 1: not covered by a signature: "
	    "the log has no checkpoint, so none of its 2 lines is signed");
	expect_bad(buf, len, NULL, "line 1: not covered by a signature*");
	free(buf);

	/* A lone checkpoint is a whole log. */
	assert_int_equal(audit_open(new_path(path, "lone"), &log), 0);
	checkpoint(log, fixed_key, fixed_pub, EVP_sha512());
	audit_close(log);
	verify_ok(path, fixed_pub, &rep);
	assert_int_equal(rep.lines, 1);
	assert_int_equal(rep.checkpoints, 1);
	assert_int_equal(rep.last_checkpoint, 1);
	lines_read(&L, path);
	buf = lines_join(&L, &len);
	/* Twice: line 2 repeats seq 1. */
	buf = realloc(buf, 2 * len);
	memcpy(buf + len, buf, len);
	expect_bad(buf, 2 * len, fixed_pub, "line 2: seq is 1, expected 2*");
	free(buf);
	lines_free(&L);

	/* Bad arguments. */
	assert_int_equal(audit_verify_mem("x", 1, NULL, NULL), CAIRN_E_INVAL);
	assert_int_equal(audit_verify_mem(NULL, 1, NULL, &rep), CAIRN_E_INVAL);
	assert_int_equal(audit_verify_file(NULL, NULL, &rep), CAIRN_E_INVAL);
	assert_int_equal(audit_verify_file(path, NULL, NULL), CAIRN_E_INVAL);
}

/*
 * A log of several MiB, with lines of many lengths, so that lines straddle
 * every position of the file reader's buffer: audit_open reads it through
 * that reader, and a change near its end is still named by its line.
 */
static void
test_large_log(void **state)
{
	struct audit_report rep;
	struct audit_log *log = NULL;
	char path[PATH_MAX], prev[65], *line, *buf;
	size_t i, len, off = 0, last_start = 0;
	FILE *f;
	int w;

	assert_non_null(line = malloc(CAIRN_AUDIT_LINE_MAX + 1));
	assert_non_null(f = fopen(new_path(path, "large"), "w"));
	memcpy(prev, ZERO_HASH, sizeof(prev));
	for (i = 1; i <= 400; i++) {
		size_t pad = (i * 7919) % 40000;

		w = snprintf(line, CAIRN_AUDIT_LINE_MAX + 1,
		    "{\"pad\":\"%*s\",\"prev\":\"%s\",\"seq\":%zu,"
		    "\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"record\"}",
		    (int)pad, "", prev, i);
		assert_true(w > 0 && w < CAIRN_AUDIT_LINE_MAX);
		sha256_hex(line, (size_t)w, prev);
		fprintf(f, "%s\n", line);
		if (i == 399)
			last_start = off;
		off += (size_t)w + 1;
	}
	assert_int_equal(fclose(f), 0);
	assert_true(off > 6 * 1024 * 1024);
	free(line);

	assert_int_equal(audit_open(path, &log), 0);
	assert_int_equal(audit_seq(log), 400);
	assert_string_equal(audit_head(log), prev);
	checkpoint(log, ec_key, ec_pub, EVP_sha256());
	audit_close(log);
	verify_ok(path, ec_pub, &rep);
	assert_int_equal(rep.lines, 401);
	assert_int_equal(rep.last_checkpoint, 401);

	buf = slurp(path, &len);
	buf[last_start + 10] = 'x';             /* in line 399's padding */
	expect_bad(buf, len, ec_pub, "line 400: prev does not match the hash "
	    "of line 399*");
	free(buf);
}

/* A file over CAIRN_AUDIT_FILE_MAX is refused before it is read. */
static void
test_file_max(void **state)
{
	struct audit_report rep;
	char path[PATH_MAX];
	FILE *f;
	int r;

	assert_non_null(f = fopen(new_path(path, "huge"), "w"));
	assert_int_equal(ftruncate(fileno(f), CAIRN_AUDIT_FILE_MAX + 1), 0);
	fclose(f);
	r = audit_verify_file(path, ec_pub, &rep);
	assert_int_equal(r, CAIRN_E_TOO_LARGE);
	assert_non_null(strstr(cairn_errmsg(r), "line 1: the log is larger "
	    "than 268435456 bytes"));
	assert_int_equal(truncate(path, CAIRN_AUDIT_FILE_MAX), 0);
	/* At the limit it is read, and its first line is too long. */
	r = audit_verify_file(path, ec_pub, &rep);
	assert_int_equal(r, CAIRN_E_AUDIT);
	assert_non_null(strstr(cairn_errmsg(r), "line 1: longer than"));
	unlink(path);
}

/* ---- refusals of the writers -------------------------------------------- */

/* audit_open reads the chain first and never appends to a broken log. */
static void
test_open_refuses_broken(void **state)
{
	struct audit_log *log = NULL;
	char path[PATH_MAX];
	struct lines L;
	size_t len;
	char *buf;
	int r;

	standard_lines(&L);
	/* A changed record. */
	L.l[3][strstr(L.l[3], "alice") - L.l[3]] = 'A';
	buf = lines_join(&L, &len);
	spit(new_path(path, "broken"), buf, len);
	r = audit_open(path, &log);
	assert_int_equal(r, CAIRN_E_AUDIT);
	assert_null(log);
	assert_non_null(strstr(cairn_errmsg(r), ": refusing to append to a "
	    "log that does not verify: line 5: prev does not match the hash "
	    "of line 4"));
	assert_file_is(path, buf, len);
	free(buf);
	lines_free(&L);

	/* A cut log: appending would glue a line onto half of one. */
	standard_lines(&L);
	buf = lines_join(&L, &len);
	spit(new_path(path, "cut"), buf, len - 7);
	assert_int_equal(audit_open(path, &log), CAIRN_E_AUDIT);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_AUDIT), "line 10: the log "
	    "ends in the middle of line 10"));
	assert_file_is(path, buf, len - 7);
	/* CR LF. */
	buf[len - 1] = '\r';
	buf = realloc(buf, len + 1);
	buf[len] = '\n';
	spit(new_path(path, "crlf"), buf, len + 1);
	assert_int_equal(audit_open(path, &log), CAIRN_E_AUDIT);
	assert_file_is(path, buf, len + 1);
	free(buf);
	lines_free(&L);

	/* Signatures are not checked on open: the tail may be continued,
	 * and a checkpoint by another key does not stop a ceremony. */
	make_log(new_path(path, "other-key"), other_key, other_pub,
	    EVP_sha256());
	assert_int_equal(audit_open(path, &log), 0);
	append_record(log, "continued", 11);
	audit_close(log);
}

static void
test_append_refuses(void **state)
{
	static const char *const reserved[] = { "seq", "prev", "time", "type",
		"sig", "signer", "md" };
	struct audit_log *log = NULL;
	char path[PATH_MAX], want[200];
	size_t i, len;
	char *before;
	json_t *o, *a;

	assert_int_equal(audit_open(new_path(path, "refuse"), &log), 0);
	append_record(log, "first", 1);
	before = slurp(path, &len);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		o = record("bad", 2);
		json_object_set_new(o, reserved[i], json_string("x"));
		assert_int_equal(audit_append(log, o), CAIRN_E_INVAL);
		snprintf(want, sizeof(want), "a record may not carry \"%s\": "
		    "the log sets seq, prev, time and type, and only "
		    "checkpoints carry sig, signer and md", reserved[i]);
		assert_string_equal(cairn_errmsg(CAIRN_E_INVAL), want);
		json_decref(o);
	}
	/* Not an object. */
	a = json_pack("[s]", "x");
	assert_int_equal(audit_append(log, a), CAIRN_E_INVAL);
	json_decref(a);
	a = json_object();
	assert_int_equal(audit_append(log, NULL), CAIRN_E_INVAL);
	assert_int_equal(audit_append(NULL, a), CAIRN_E_INVAL);
	json_decref(a);
	/* A value the verifier would refuse (a NUL inside a string). */
	o = json_pack("{s:s%}", "blob", "a\0b", (size_t)3);
	assert_int_equal(audit_append(log, o), CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "refusing to "
	    "write a line that would not verify: line 2: not valid JSON"));
	json_decref(o);

	assert_file_is(path, before, len);
	assert_int_equal(audit_seq(log), 1);
	/* Still usable. */
	append_record(log, "second", 2);
	assert_int_equal(audit_seq(log), 2);
	audit_close(log);
	free(before);
}

/*
 * A signer that returns a wrong signature, as a faulty token could: the
 * real ECDSA signature with its last byte changed.
 */
static int (*real_sign)(int, const unsigned char *, int, unsigned char *,
    unsigned int *, const BIGNUM *, const BIGNUM *, EC_KEY *);

static int
lying_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	int ok = real_sign(type, dgst, dlen, sig, siglen, kinv, r, ec);

	if (ok == 1 && *siglen > 0)
		sig[*siglen - 1] ^= 0x01;
	return ok;
}

static void
test_checkpoint_refuses(void **state)
{
	int (*setup_fn)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);
	ECDSA_SIG *(*sign_sig)(const unsigned char *, int, const BIGNUM *,
	    const BIGNUM *, EC_KEY *);
	struct audit_report rep;
	struct audit_log *log = NULL;
	EC_KEY_METHOD *meth;
	EVP_PKEY *liar;
	EC_KEY *ec;
	char path[PATH_MAX];
	size_t len;
	char *before;

	assert_int_equal(audit_open(new_path(path, "cp-refuse"), &log), 0);
	append_record(log, "first", 1);
	before = slurp(path, &len);

	assert_int_equal(audit_checkpoint(log, ec_key, ec_pub, EVP_sha1()),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "want sha256, "
	    "sha384 or sha512"));
	assert_int_equal(audit_checkpoint(log, ec_key, ec_pub, EVP_sha224()),
	    CAIRN_E_INVAL);
	assert_int_equal(audit_checkpoint(log, NULL, ec_pub, EVP_sha256()),
	    CAIRN_E_INVAL);
	assert_int_equal(audit_checkpoint(log, ec_key, NULL, EVP_sha256()),
	    CAIRN_E_INVAL);
	assert_int_equal(audit_checkpoint(log, ec_key, ec_pub, NULL),
	    CAIRN_E_INVAL);
	/* The public key of another key pair. */
	assert_int_equal(audit_checkpoint(log, ec_key, other_pub, EVP_sha256()),
	    CAIRN_E_CRYPTO);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CRYPTO), "does not verify "
	    "with the public key"));
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CRYPTO), "nothing was "
	    "written"));
	/* A key that cannot sign with the public key's algorithm. */
	assert_int_equal(audit_checkpoint(log, rsa_key, ec_pub, EVP_sha256()),
	    CAIRN_E_CRYPTO);

	/* A lying signer. */
	assert_non_null(meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL()));
	EC_KEY_METHOD_get_sign(meth, &real_sign, &setup_fn, &sign_sig);
	EC_KEY_METHOD_set_sign(meth, lying_sign, setup_fn, sign_sig);
	{
		EC_KEY *orig = EVP_PKEY_get1_EC_KEY(ec_key);

		assert_non_null(orig);
		assert_non_null(ec = EC_KEY_dup(orig));
		EC_KEY_free(orig);
	}
	/* Before EVP_PKEY_assign, which decides the key is "foreign". */
	assert_int_equal(EC_KEY_set_method(ec, meth), 1);
	assert_non_null(liar = EVP_PKEY_new());
	assert_int_equal(EVP_PKEY_assign_EC_KEY(liar, ec), 1);
	assert_int_equal(audit_checkpoint(log, liar, ec_pub, EVP_sha256()),
	    CAIRN_E_CRYPTO);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CRYPTO), "the token "
	    "returned a bad signature; nothing was written"));
	EVP_PKEY_free(liar);
	EC_KEY_METHOD_free(meth);

	assert_file_is(path, before, len);
	assert_int_equal(audit_seq(log), 1);
	/* The honest key still closes the log. */
	checkpoint(log, ec_key, ec_pub, EVP_sha256());
	audit_close(log);
	verify_ok(path, ec_pub, &rep);
	assert_int_equal(rep.lines, 2);
	free(before);
}

static void
test_paths_refused(void **state)
{
	struct audit_report rep;
	struct audit_log *log = NULL;
	char path[PATH_MAX], lnk[PATH_MAX], target[PATH_MAX];
	struct stat st;
	int r;

	/* A symlink to where a log would go: refused, nothing created. */
	new_path(target, "target");
	new_path(lnk, "link");
	assert_int_equal(symlink(target, lnk), 0);
	r = audit_open(lnk, &log);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(log);
	assert_non_null(strstr(cairn_errmsg(r), "symbolic links are refused"));
	assert_int_not_equal(lstat(target, &st), 0);
	/* A symlink to a good log: refused for writing and for reading. */
	make_log(target, ec_key, ec_pub, EVP_sha256());
	assert_int_equal(audit_open(lnk, &log), CAIRN_E_IO);
	r = audit_verify_file(lnk, ec_pub, &rep);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "symbolic links are refused"));

	/* A directory, a missing file. */
	assert_int_equal(audit_open(dir, &log), CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_IO), "not a regular file"));
	assert_int_equal(audit_verify_file(dir, ec_pub, &rep), CAIRN_E_IO);
	join(path, dir, "missing/x.log");
	assert_int_equal(audit_open(path, &log), CAIRN_E_IO);
	assert_int_equal(audit_verify_file(path, ec_pub, &rep), CAIRN_E_IO);
}

/* One writer at a time; and a log changed behind the writer's back is
 * not appended to. */
static void
test_one_writer(void **state)
{
	struct audit_log *log = NULL, *second = NULL;
	char path[PATH_MAX];
	size_t len;
	char *before;
	json_t *o;
	FILE *f;
	int r;

	assert_int_equal(audit_open(new_path(path, "lock"), &log), 0);
	append_record(log, "first", 1);
	r = audit_open(path, &second);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(second);
	assert_non_null(strstr(cairn_errmsg(r), "open for writing elsewhere"));
	audit_close(log);
	assert_int_equal(audit_open(path, &second), 0);

	/* Someone else appends. */
	assert_non_null(f = fopen(path, "a"));
	fputs("{}\n", f);
	fclose(f);
	before = slurp(path, &len);
	o = json_object();
	r = audit_append(second, o);
	json_decref(o);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "the log changed since it was "
	    "opened"));
	assert_file_is(path, before, len);
	audit_close(second);
	free(before);

	/* Someone removes it. */
	assert_int_equal(audit_open(new_path(path, "gone"), &log), 0);
	append_record(log, "first", 1);
	assert_int_equal(unlink(path), 0);
	r = audit_checkpoint(log, ec_key, ec_pub, EVP_sha256());
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "removed or replaced"));
	assert_int_equal(access(path, F_OK), -1);
	audit_close(log);
	audit_close(NULL);
}

/* ---- fuzz seeds ---------------------------------------------------------- */

static void
seed(const char *out, const char *name, const struct lines *L)
{
	char p[PATH_MAX];
	size_t len;
	char *buf = lines_join(L, &len);

	join(p, out, name);
	spit(p, buf, len);
	free(buf);
}

static void
seed_raw(const char *out, const char *name, const char *buf, size_t len)
{
	char p[PATH_MAX];

	join(p, out, name);
	spit(p, buf, len);
}

/* The seed corpus: good logs signed by the test key, and each kind of
 * tampering above applied once. */
static void
write_seeds(const char *out)
{
	struct audit_log *log = NULL;
	char path[PATH_MAX], *buf;
	struct lines L;
	size_t len;
	json_t *o;

	standard_lines(&L);
	seed(out, "good-standard", &L);
	lines_swap(&L, 3, 4);
	seed(out, "bad-lines-swapped", &L);
	lines_free(&L);
	standard_lines(&L);
	lines_delete(&L, 4);
	seed(out, "bad-line-deleted", &L);
	fix_chain(&L, 4, 1, NULL);
	seed(out, "bad-line-deleted-rechained", &L);
	lines_free(&L);
	standard_lines(&L);
	lines_insert(&L, 5, L.l[1]);
	seed(out, "bad-line-inserted", &L);
	lines_free(&L);
	standard_lines(&L);
	L.l[5][strstr(L.l[5], "alice") - L.l[5]] = 'A';
	seed(out, "bad-byte-changed", &L);
	lines_free(&L);
	standard_lines(&L);
	lines_delete(&L, 10);
	seed(out, "bad-last-checkpoint-deleted", &L);
	lines_free(&L);
	standard_lines(&L);
	buf = lines_join(&L, &len);
	seed_raw(out, "bad-truncated", buf, len - strlen(L.l[9]) / 2);
	seed_raw(out, "bad-no-final-newline", buf, len - 1);
	free(buf);
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 5, "seq", json_integer(6));
	fix_chain(&L, 6, 0, NULL);
	seed(out, "bad-seq-gap", &L);
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 5, "seq", json_integer(4));
	fix_chain(&L, 6, 0, NULL);
	seed(out, "bad-seq-duplicate", &L);
	lines_free(&L);
	make_log(new_path(path, "seed-other"), other_key, other_pub,
	    EVP_sha256());
	lines_read(&L, path);
	seed(out, "bad-other-key", &L);
	lines_free(&L);
	standard_lines(&L);
	o = line_json(&L, 10);
	buf = strdup(json_string_value(json_object_get(o, "sig")));
	buf[10] = buf[10] == 'A' ? 'B' : 'A';
	edit(&L, 10, "sig", json_string(buf));
	free(buf);
	json_decref(o);
	seed(out, "bad-sig-flipped", &L);
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 3, "sig", json_string("AAAA"));
	fix_chain(&L, 4, 0, NULL);
	seed(out, "bad-record-with-sig", &L);
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 10, "note", json_string("x"));
	seed(out, "bad-checkpoint-extra-field", &L);
	edit(&L, 10, "note", NULL);
	edit(&L, 10, "md", json_string("sha1"));
	seed(out, "bad-md-sha1", &L);
	edit(&L, 10, "md", json_string("sha384"));
	edit(&L, 10, "sig", json_string("AAF="));
	seed(out, "bad-sig-stray-bits", &L);
	lines_free(&L);
	standard_lines(&L);
	assert_non_null(buf = malloc(strlen(L.l[2]) + 16));
	sprintf(buf, "{\"seq\":3,%s", L.l[2] + 1);
	lines_set(&L, 3, buf);
	free(buf);
	seed(out, "bad-duplicate-key", &L);
	lines_set(&L, 3, "[1,2,3]");
	seed(out, "bad-not-object", &L);
	lines_set(&L, 3, "");
	seed(out, "bad-empty-line", &L);
	lines_free(&L);
	standard_lines(&L);
	assert_non_null(buf = malloc(strlen(L.l[2]) + 2));
	sprintf(buf, "%s\r", L.l[2]);
	lines_set(&L, 3, buf);
	free(buf);
	seed(out, "bad-crlf", &L);
	lines_free(&L);
	standard_lines(&L);
	edit(&L, 3, "time", json_string("2026-02-30T12:00:00Z"));
	fix_chain(&L, 4, 0, fixed_key);
	seed(out, "bad-time-feb-30", &L);
	edit(&L, 3, "time", json_string("2024-02-29T23:59:60.25Z"));
	fix_chain(&L, 4, 0, fixed_key);
	seed(out, "good-leap-day-leap-second", &L);
	lines_free(&L);
	seed_raw(out, "bad-empty", "", 0);

	/* Records only; a lone checkpoint; rich field values. */
	assert_int_equal(audit_open(new_path(path, "seed-unsigned"), &log), 0);
	append_record(log, "one", 1);
	append_record(log, "two", 2);
	audit_close(log);
	lines_read(&L, path);
	seed(out, "bad-no-checkpoint", &L);
	lines_free(&L);
	assert_int_equal(audit_open(new_path(path, "seed-lone"), &log), 0);
	checkpoint(log, fixed_key, fixed_pub, EVP_sha512());
	audit_close(log);
	lines_read(&L, path);
	seed(out, "good-lone-checkpoint", &L);
	lines_free(&L);
	assert_int_equal(audit_open(new_path(path, "seed-rich"), &log), 0);
	o = json_pack("{s:s, s:[i,f,b,n,{s:[]}], s:s, s:I}", "text",
	    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91 \"q\" \\ \t",
	    "values", -1, 2.5, 0, "k", "empty", "", "big",
	    (json_int_t)9007199254740993LL);
	assert_int_equal(audit_append(log, o), 0);
	json_decref(o);
	checkpoint(log, fixed_key, fixed_pub, EVP_sha256());
	o = json_object();
	assert_int_equal(audit_append(log, o), 0);
	json_decref(o);
	checkpoint(log, fixed_key, fixed_pub, EVP_sha384());
	audit_close(log);
	lines_read(&L, path);
	seed(out, "good-rich-fields", &L);
	lines_free(&L);
}

/*
 * Every seed means what its name says: good-* verify with the test key
 * (and without a key), bad-* do not verify with it.
 */
static void
check_seeds(const char *corpus)
{
	struct audit_report rep;
	struct dirent *de;
	char p[PATH_MAX];
	int good = 0, bad = 0, r;
	DIR *d = opendir(corpus);

	if (d == NULL)
		print_error("%s: %s\n", corpus, strerror(errno));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		join(p, corpus, de->d_name);
		r = audit_verify_file(p, fixed_pub, &rep);
		if (strncmp(de->d_name, "good-", 5) == 0) {
			if (r != 0)
				print_error("%s: %s\n", p, cairn_errmsg(r));
			assert_int_equal(r, 0);
			assert_int_equal(audit_verify_file(p, NULL, &rep), 0);
			good++;
		} else {
			if (strncmp(de->d_name, "bad-", 4) != 0 || r == 0)
				print_error("%s: a seed named bad-* that "
				    "verifies, or neither good- nor bad-\n", p);
			assert_true(strncmp(de->d_name, "bad-", 4) == 0);
			assert_int_not_equal(r, 0);
			bad++;
		}
	}
	closedir(d);
	assert_true(good >= 4);
	assert_true(bad >= 20);
}

static void
test_seeds(void **state)
{
	const char *out = getenv("CAIRN_AUDIT_WRITE_SEEDS");
	char tmp[PATH_MAX];

	if (out == NULL || out[0] == '\0') {
		join(tmp, dir, "seeds");
		assert_int_equal(mkdir(tmp, 0700), 0);
		out = tmp;
	}
	write_seeds(out);
	check_seeds(out);
}

/* The committed corpus still means what its names say. */
static void
test_committed_seeds(void **state)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char corpus[PATH_MAX];

	if (src == NULL || src[0] == '\0')
		print_error("CAIRN_SRCDIR is not set: run through "
		    "make check\n");
	assert_non_null(src);
	join(corpus, src, "tests/fuzz/corpus/audit");
	check_seeds(corpus);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_software_ec_p256),
		cmocka_unit_test(test_software_rsa_3072),
		cmocka_unit_test(test_token_keys),
		cmocka_unit_test(test_peer_openssl),
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_reopen_continues),
		cmocka_unit_test(test_tamper_any_byte),
		cmocka_unit_test(test_tamper_lines),
		cmocka_unit_test(test_tamper_seq),
		cmocka_unit_test(test_tamper_signatures),
		cmocka_unit_test(test_tamper_fields),
		cmocka_unit_test(test_tamper_time),
		cmocka_unit_test(test_tamper_syntax),
		cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_empty_and_unsigned),
		cmocka_unit_test(test_large_log),
		cmocka_unit_test(test_file_max),
		cmocka_unit_test(test_open_refuses_broken),
		cmocka_unit_test(test_append_refuses),
		cmocka_unit_test(test_checkpoint_refuses),
		cmocka_unit_test(test_paths_refused),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_committed_seeds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
