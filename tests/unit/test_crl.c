/*
 * test_crl.c: the streaming CRL writer (lib/crl.c).
 *
 * lib/crl.c writes DER by hand, so every CRL it writes here is read back
 * by OpenSSL's parser and compared field by field with what was asked for,
 * and its TBSCertList is compared byte for byte with the one OpenSSL's own
 * X509_CRL API builds from the same content (same entry order, same
 * extensions): any difference in an identifier, a length form, a time
 * type or an integer's padding shows up as a byte.  The openssl command
 * checks the CRLs as a peer (crl -CAfile, verify -crl_check).  Keys: a
 * software EC P-384 and RSA-3072 key, and keys inside a SoftHSM2 token.
 * One CRL of a million entries (CAIRN_TEST_CRL_ENTRIES to change that)
 * is written in a child process whose peak memory is measured.  Every
 * failure is checked for its code, for a message naming the entry, and
 * for leaving nothing behind in the output directory.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/crl.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/profile.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

/* Entries in the large CRL; CAIRN_TEST_CRL_ENTRIES overrides (the ASan
 * run uses fewer). */
#define MILLION 1000000
/* Peak memory the large CRL may add to the writing process. */
#define MILLION_RSS_MAX_KIB (64 * 1024)
/* Generous: "a few seconds" on an idle machine; this is a shared one. */
#define MILLION_SECONDS_MAX 60.0

/* 2025-06-01T12:00:00Z, and the times around 2050 and the range ends. */
#define T2025 1748779200LL
#define T1950 (-631152000LL)
#define T2049_LAST 2524607999LL
#define T2050 2524608000LL
#define T9999_LAST 253402300799LL

static struct th_token tt;
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;

static EVP_PKEY *ec_key, *rsa_key, *other_ec;
static X509 *ec_ca, *rsa_ca;
static char base[PATH_MAX];
static int dirseq;

/* ---- sources -------------------------------------------------------- */

/* An array of entries, with faults to order. */
struct arr_src {
	const struct crl_entry *e;
	size_t n, i;
	int pass;               /* rewinds so far: 1 in pass 1, 2 in pass 2 */
	int fail_pass;          /* fail next() in this pass ... */
	size_t fail_at;         /* ... at this entry ... */
	int fail_code;          /* ... with this code */
	int fail_rewind;        /* fail the n-th rewind (0: never) */
	int bad_return;         /* next() returns this instead of 1 */
	int change;             /* pass 2: CHANGE_* */
	unsigned long nexts;    /* calls to next() */
};

enum { CHANGE_NONE, CHANGE_SERIAL, CHANGE_MORE, CHANGE_FEWER,
	CHANGE_REASON };

static int
arr_rewind(void *arg)
{
	struct arr_src *s = arg;

	s->i = 0;
	if (++s->pass == s->fail_rewind)
		return cairn_error(CAIRN_E_IO, "the source's file vanished");
	return 0;
}

static int
arr_next(void *arg, struct crl_entry *e)
{
	struct arr_src *s = arg;
	size_t n = s->n;

	s->nexts++;
	if (s->pass == 2 && s->change == CHANGE_MORE)
		n++;
	if (s->pass == 2 && s->change == CHANGE_FEWER)
		n--;
	if (s->pass == s->fail_pass && s->i == s->fail_at)
		return cairn_error(s->fail_code, "database row %zu unreadable",
		    s->i);
	if (s->i >= n)
		return 0;
	*e = s->e[s->i % s->n];
	if (s->pass == 2 && s->i == 1 && s->change == CHANGE_SERIAL)
		e->serial[e->serial_len - 1] ^= 1;
	if (s->pass == 2 && s->i == 1 && s->change == CHANGE_REASON)
		e->reason = e->reason == -1 ? 1 : -1;
	s->i++;
	return s->bad_return != 0 ? s->bad_return : 1;
}

static struct crl_source
arr_source(struct arr_src *s, const struct crl_entry *e, size_t n)
{
	struct crl_source src = { arr_next, arr_rewind, s };

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->n = n;
	return src;
}

/* A counter: entry i, made up on the spot (no memory per entry). */
struct ctr_src {
	uint64_t n, i;
};

static const int ctr_reasons[12] = { -1, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, -1 };

/*
 * Serial of 4..8 bytes whose first byte is never zero and sometimes has
 * the top bit set, the rest being i: unique for i < 2^24.  Times step by
 * a second; one in ten lies after 2050.
 */
static void
ctr_entry(uint64_t i, struct crl_entry *e)
{
	size_t len = 4 + (size_t)(i % 5), k;

	memset(e, 0, sizeof(*e));
	e->serial_len = len;
	e->serial[0] = (uint8_t)(1 + (i * 37) % 255);
	for (k = 1; k < len; k++)
		e->serial[k] = (uint8_t)(i >> (8 * (len - 1 - k)));
	e->revoked_at = T2025 - 86400 * 30 + (long long)i;
	if (i % 10 == 9)
		e->revoked_at += 40LL * 365 * 86400;
	e->reason = ctr_reasons[i % 12];
}

static int
ctr_rewind(void *arg)
{
	((struct ctr_src *)arg)->i = 0;
	return 0;
}

static int
ctr_next(void *arg, struct crl_entry *e)
{
	struct ctr_src *s = arg;

	if (s->i >= s->n)
		return 0;
	ctr_entry(s->i++, e);
	return 1;
}

static struct crl_source
ctr_source(struct ctr_src *s, uint64_t n)
{
	struct crl_source src = { ctr_next, ctr_rewind, s };

	s->n = n;
	s->i = 0;
	return src;
}

/* ---- keys, certificates, files -------------------------------------- */

static void
expect(int r, int code, const char *text)
{
	if (r != code)
		fail_msg("want %s, have %s: %s", cairn_errname(code),
		    cairn_errname(r), cairn_errmsg(r));
	if (text != NULL && strstr(cairn_errmsg(r), text) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cairn_errmsg(r), text);
}

/* RFC 7093 method 1, computed here without Cairn: the first 160 bits of
 * SHA-256 over the subjectPublicKey BIT STRING's contents. */
static void
key_id(EVP_PKEY *pub, uint8_t id[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	uint8_t md[32];
	int len;

	assert_int_equal(X509_PUBKEY_set(&xpk, pub), 1);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk),
	    1);
	assert_int_equal(EVP_Digest(bits, (size_t)len, md, NULL, EVP_sha256(),
	    NULL), 1);
	memcpy(id, md, 20);
	X509_PUBKEY_free(xpk);
}

static X509_NAME *
name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Cairn test", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

/*
 * A certificate for `pub` named `cn`, issued by `issuer` (NULL: self-
 * signed) with `signkey`; a CA (cRLSign) when `ca`.  The SKI is the RFC
 * 7093 id, so a CRL's AKI points at it.
 */
static X509 *
make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *signkey,
    const uint8_t *serial, size_t serial_len, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n = name(cn);
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	uint8_t id[20];

	assert_non_null(x);
	assert_non_null(ski);
	assert_non_null(bn);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -86400));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	key_id(pub, id);
	assert_int_equal(ASN1_OCTET_STRING_set(ski, id, 20), 1);
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_key_identifier, ski,
	    0, 0), 1);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ?
	    "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always");
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, signkey, EVP_sha256()) > 0);
	X509_NAME_free(n);
	ASN1_OCTET_STRING_free(ski);
	BN_free(bn);
	return x;
}

static void
write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

/* A fresh, empty directory for one test's outputs. */
static const char *
newdir(void)
{
	static char dir[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/d%d", base, ++dirseq);
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

static const char *
in(const char *dir, const char *file)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return path;
}

/* Names in `dir` other than . and .., for "nothing left behind". */
static int
dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") !=
		    0)
			n++;
	closedir(d);
	return n;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct crl_params
params(EVP_PKEY *pub, X509_NAME *issuer, const EVP_MD *md)
{
	struct crl_params p = { issuer, pub, T2025, T2025 + 7 * 86400, 42,
		md };

	return p;
}

/* ---- what OpenSSL says about a CRL ---------------------------------- */

static void
time_is(const ASN1_TIME *t, long long want)
{
	assert_non_null(t);
	assert_int_equal(ASN1_TIME_cmp_time_t(t, (time_t)want), 0);
	/* RFC 5280 5.1.2.4: UTCTime through 2049. */
	assert_int_equal(ASN1_STRING_type(t), want < T2050 ?
	    V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME);
}

/* The signature algorithm OpenSSL's tables give, written out here. */
static int
want_sig_nid(EVP_PKEY *pub, const EVP_MD *md)
{
	int rsa = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA;

	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		return rsa ? NID_sha256WithRSAEncryption :
		    NID_ecdsa_with_SHA256;
	case NID_sha384:
		return rsa ? NID_sha384WithRSAEncryption :
		    NID_ecdsa_with_SHA384;
	default:
		return rsa ? NID_sha512WithRSAEncryption :
		    NID_ecdsa_with_SHA512;
	}
}

/*
 * Parse `path` with OpenSSL and compare every field with `p` and the
 * entries of `src`; the signature must verify with `pub`.  Returns the
 * CRL (X509_CRL_free).
 */
static X509_CRL *
check_crl(const char *path, const struct crl_params *p,
    const struct crl_source *src, uint64_t n, const struct crl_stats *st)
{
	STACK_OF(X509_REVOKED) *revs;
	const X509_ALGOR *alg;
	const ASN1_BIT_STRING *sigbits;
	const ASN1_OBJECT *obj;
	const void *pval;
	X509_CRL *crl;
	AUTHORITY_KEYID *aki;
	ASN1_INTEGER *num;
	struct crl_entry e;
	uint8_t *der, *again = NULL, id[20], mag[21];
	const uint8_t *q;
	struct stat sb;
	uint64_t i, u64;
	size_t len;
	int ptype, crit, againlen;

	der = slurp(path, &len);
	if (st != NULL) {
		assert_int_equal(st->entries, n);
		assert_int_equal(st->bytes, len);
	}
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	q = der;
	crl = d2i_X509_CRL(NULL, &q, (long)len);
	if (crl == NULL) {
		ERR_print_errors_fp(stderr);
		fail_msg("OpenSSL cannot parse %s", path);
	}
	assert_ptr_equal(q, der + len);
	/* Re-encoded (outer SEQUENCE, algorithm, signature): the same. */
	againlen = i2d_X509_CRL(crl, &again);
	assert_int_equal(againlen, len);
	assert_memory_equal(again, der, len);
	OPENSSL_free(again);
	free(der);

	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), p->issuer),
	    0);
	time_is(X509_CRL_get0_lastUpdate(crl), p->this_update);
	time_is(X509_CRL_get0_nextUpdate(crl), p->next_update);

	/* Signature algorithm, outside and inside, with the right
	 * parameters: NULL for RSA, absent for ECDSA. */
	X509_CRL_get0_signature(crl, &sigbits, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	assert_int_equal(OBJ_obj2nid(obj), want_sig_nid(p->issuer_pub, p->md));
	assert_int_equal(ptype, EVP_PKEY_get_base_id(p->issuer_pub) ==
	    EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF);
	assert_int_equal(sigbits->flags & 0x07, 0);

	/* CRL extensions: AKI then cRLNumber, neither critical. */
	assert_int_equal(X509_CRL_get_ext_count(crl), 2);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_CRL_get_ext(crl, 0))), NID_authority_key_identifier);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_CRL_get_ext(crl, 1))), NID_crl_number);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	assert_non_null(aki);
	assert_int_equal(crit, 0);
	key_id(p->issuer_pub, id);
	assert_non_null(aki->keyid);
	assert_int_equal(ASN1_STRING_length(aki->keyid), 20);
	assert_memory_equal(ASN1_STRING_get0_data(aki->keyid), id, 20);
	assert_null(aki->issuer);
	assert_null(aki->serial);
	AUTHORITY_KEYID_free(aki);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	assert_non_null(num);
	assert_int_equal(crit, 0);
	assert_int_equal(ASN1_INTEGER_get_uint64(&u64, num), 1);
	assert_true(u64 == p->number);
	ASN1_INTEGER_free(num);

	revs = X509_CRL_get_REVOKED(crl);
	assert_int_equal(revs == NULL ? 0 : sk_X509_REVOKED_num(revs), n);
	assert_int_equal(src->rewind(src->arg), 0);
	for (i = 0; i < n; i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, (int)i);
		const ASN1_INTEGER *ser = X509_REVOKED_get0_serialNumber(rv);
		BIGNUM *bn = ASN1_INTEGER_to_BN(ser, NULL);
		ASN1_ENUMERATED *reason;

		assert_int_equal(src->next(src->arg, &e), 1);
		assert_non_null(bn);
		assert_false(BN_is_negative(bn));
		assert_int_equal(BN_num_bytes(bn), e.serial_len);
		assert_int_equal(BN_bn2bin(bn, mag), e.serial_len);
		assert_memory_equal(mag, e.serial, e.serial_len);
		BN_free(bn);
		time_is(X509_REVOKED_get0_revocationDate(rv), e.revoked_at);
		reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit,
		    NULL);
		if (e.reason < 0) {
			assert_null(reason);
			assert_int_equal(X509_REVOKED_get_ext_count(rv), 0);
		} else {
			assert_non_null(reason);
			assert_int_equal(crit, 0);
			assert_int_equal(ASN1_ENUMERATED_get(reason), e.reason);
			assert_int_equal(X509_REVOKED_get_ext_count(rv), 1);
		}
		ASN1_ENUMERATED_free(reason);
	}
	assert_int_equal(src->next(src->arg, &e), 0);
	if (X509_CRL_verify(crl, p->issuer_pub) != 1) {
		ERR_print_errors_fp(stderr);
		fail_msg("X509_CRL_verify failed on %s", path);
	}
	return crl;
}

/* The same CRL through OpenSSL's own API, signed with `key`. */
static X509_CRL *
openssl_crl(const struct crl_params *p, const struct crl_source *src,
    EVP_PKEY *key)
{
	X509_CRL *c = X509_CRL_new();
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_TIME *t;
	struct crl_entry e;
	uint8_t id[20];

	assert_non_null(c);
	assert_non_null(aki);
	assert_non_null(num);
	assert_int_equal(X509_CRL_set_version(c, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(c, p->issuer), 1);
	assert_non_null(t = ASN1_TIME_set(NULL, (time_t)p->this_update));
	assert_int_equal(X509_CRL_set1_lastUpdate(c, t), 1);
	ASN1_TIME_free(t);
	assert_non_null(t = ASN1_TIME_set(NULL, (time_t)p->next_update));
	assert_int_equal(X509_CRL_set1_nextUpdate(c, t), 1);
	ASN1_TIME_free(t);
	assert_int_equal(src->rewind(src->arg), 0);
	while (src->next(src->arg, &e) == 1) {
		X509_REVOKED *rv = X509_REVOKED_new();
		BIGNUM *bn = BN_bin2bn(e.serial, (int)e.serial_len, NULL);
		ASN1_INTEGER *ser = BN_to_ASN1_INTEGER(bn, NULL);

		assert_non_null(rv);
		assert_non_null(ser);
		assert_int_equal(X509_REVOKED_set_serialNumber(rv, ser), 1);
		assert_non_null(t = ASN1_TIME_set(NULL, (time_t)e.revoked_at));
		assert_int_equal(X509_REVOKED_set_revocationDate(rv, t), 1);
		if (e.reason >= 0) {
			ASN1_ENUMERATED *en = ASN1_ENUMERATED_new();

			assert_int_equal(ASN1_ENUMERATED_set(en, e.reason), 1);
			assert_int_equal(X509_REVOKED_add1_ext_i2d(rv,
			    NID_crl_reason, en, 0, 0), 1);
			ASN1_ENUMERATED_free(en);
		}
		assert_int_equal(X509_CRL_add0_revoked(c, rv), 1);
		ASN1_TIME_free(t);
		ASN1_INTEGER_free(ser);
		BN_free(bn);
	}
	key_id(p->issuer_pub, id);
	assert_non_null(aki->keyid = ASN1_OCTET_STRING_new());
	assert_int_equal(ASN1_OCTET_STRING_set(aki->keyid, id, 20), 1);
	assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_authority_key_identifier,
	    aki, 0, 0), 1);
	assert_int_equal(ASN1_INTEGER_set_uint64(num, p->number), 1);
	assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0),
	    1);
	assert_true(X509_CRL_sign(c, key, p->md) > 0);
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	return c;
}

/* Our TBSCertList, found in the file by OpenSSL's DER reader, must be
 * OpenSSL's own encoding of the same CRL, byte for byte. */
static void
same_tbs(const char *path, const struct crl_params *p,
    const struct crl_source *src, EVP_PKEY *key)
{
	X509_CRL *theirs = openssl_crl(p, src, key);
	const X509_ALGOR *alg;
	uint8_t *der, *tder = NULL;
	const uint8_t *q, *tbs;
	long clen;
	int tag, cls, tlen;
	size_t len, tbslen;

	der = slurp(path, &len);
	q = der;
	assert_int_equal(ASN1_get_object(&q, &clen, &tag, &cls, (long)len),
	    V_ASN1_CONSTRUCTED);
	assert_int_equal(tag, V_ASN1_SEQUENCE);
	tbs = q;
	assert_int_equal(ASN1_get_object(&q, &clen, &tag, &cls,
	    (long)(len - (size_t)(q - der))), V_ASN1_CONSTRUCTED);
	assert_int_equal(tag, V_ASN1_SEQUENCE);
	tbslen = (size_t)(q - tbs) + (size_t)clen;
	tlen = i2d_re_X509_CRL_tbs(theirs, &tder);
	assert_true(tlen > 0);
	if ((size_t)tlen != tbslen || memcmp(tder, tbs, tbslen) != 0) {
		size_t i;

		for (i = 0; i < tbslen && i < (size_t)tlen; i++)
			if (tder[i] != tbs[i])
				break;
		fail_msg("%s: TBSCertList differs from OpenSSL's (%zu vs %d "
		    "bytes) at offset %zu", path, tbslen, tlen, i);
	}
	/* And the outer signatureAlgorithm after it (OpenSSL 3.0 cannot
	 * show the inner one, which the TBS comparison covered). */
	X509_CRL_get0_signature(theirs, NULL, &alg);
	OPENSSL_free(tder);
	tder = NULL;
	assert_true((tlen = i2d_X509_ALGOR(alg, &tder)) > 0);
	assert_true(tbslen + (size_t)tlen <= len - (size_t)(tbs - der));
	assert_memory_equal(tbs + tbslen, tder, tlen);
	OPENSSL_free(tder);
	free(der);
	X509_CRL_free(theirs);
}

/* ---- entries used by the small CRLs ---------------------------------- */

/* 1; 20 bytes with the top bit set (a 21-byte INTEGER); 16 bytes. */
static const struct crl_entry three[3] = {
	{ { 0x01 }, 1, T2025 - 3600, -1 },
	{ { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66,
	    0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04 }, 20,
	  T2050 + 86400 * 400 + 1, CRL_REASON_KEY_COMPROMISE },
	{ { 0x3a, 0x91, 0x00, 0x7f, 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
	    0xde, 0xf0, 0x0f, 0x1e, 0x2d }, 16, T2049_LAST,
	  CRL_REASON_CESSATION_OF_OPERATION },
};

/* Write `n` of `e` with `key`, check it every way, compare the TBS. */
static void
small_crl(EVP_PKEY *key, EVP_PKEY *pub, const EVP_MD *md,
    const struct crl_entry *e, size_t n, long long this_update,
    long long next_update)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(pub, iss, md);
	const char *dir = newdir();
	struct crl_stats st;
	struct arr_src as;
	struct crl_source src = arr_source(&as, e, n);
	char path[PATH_MAX + 64];
	int r;

	p.this_update = this_update;
	p.next_update = next_update;
	snprintf(path, sizeof(path), "%s", in(dir, "sub.crl"));
	r = crl_write(&p, &src, key, path, 0, &st);
	expect(r, 0, NULL);
	assert_int_equal(as.pass, 2);
	assert_int_equal(dir_count(dir), 1);
	X509_CRL_free(check_crl(path, &p, &src, n, &st));
	same_tbs(path, &p, &src, key);
	X509_NAME_free(iss);
}

/* ---- set-up --------------------------------------------------------- */

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	static const uint8_t one = 1;

	snprintf(base, sizeof(base), "%s/cairn-crl-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	other_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (ec_key == NULL || other_ec == NULL || rsa_key == NULL)
		return -1;
	ec_ca = make_cert("Cairn Test Sub CA", ec_key, NULL, ec_key, &one, 1,
	    1);
	rsa_ca = make_cert("Cairn Test Sub CA", rsa_key, NULL, rsa_key, &one, 1,
	    1);
	if (th_token_create(&tt, "crl-test") != 0)
		return -1;
	return th_open(th_module(), "crl-test", &p11, &tok);
}

static int
teardown(void **state)
{
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(other_ec);
	EVP_PKEY_free(rsa_key);
	X509_free(ec_ca);
	X509_free(rsa_ca);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	if (strstr(base, "cairn-crl-") != NULL)
		th_run("rm -rf '%s'", base);
	return 0;
}

/* ---- small CRLs, compared with OpenSSL ------------------------------ */

static void
test_ec_small(void **state)
{
	size_t n;

	for (n = 0; n <= 3; n++) {
		small_crl(ec_key, ec_key, EVP_sha384(), three, n, T2025,
		    T2025 + 7 * 86400);
		/* Both CRL times on either side of 2050. */
		small_crl(ec_key, ec_key, EVP_sha384(), three, n, T2049_LAST,
		    T2050);
	}
	small_crl(ec_key, ec_key, EVP_sha256(), three, 3, T2025, T2025 + 1);
	small_crl(ec_key, ec_key, EVP_sha512(), three, 3, T2050, T2050 + 1);
}

static void
test_rsa_small(void **state)
{
	size_t n;

	for (n = 0; n <= 3; n++)
		small_crl(rsa_key, rsa_key, EVP_sha256(), three, n, T2025,
		    T2025 + 7 * 86400);
	small_crl(rsa_key, rsa_key, EVP_sha384(), three, 3, T2049_LAST,
	    T2050);
	small_crl(rsa_key, rsa_key, EVP_sha512(), three, 2, T2050,
	    T9999_LAST);
}

/* Every length form: short, 0x81, 0x82 and 0x83 for revokedCertificates
 * and the TBSCertList, and for the whole file. */
static void
test_length_forms(void **state)
{
	static const uint64_t counts[] = { 1, 2, 3, 4, 5, 6, 7, 12, 100, 1700,
		1800, 2500 };
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct ctr_src cs;
	struct crl_source src;
	struct crl_stats st;
	const char *dir = newdir();
	char path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		src = ctr_source(&cs, counts[i]);
		snprintf(path, sizeof(path), "%s/c%zu.crl", dir, i);
		expect(crl_write(&p, &src, ec_key, path, 0, &st), 0, NULL);
		X509_CRL_free(check_crl(path, &p, &src, counts[i], &st));
		same_tbs(path, &p, &src, ec_key);
	}
	X509_NAME_free(iss);
}

/*
 * Every DER length from 20 to 279 for revokedCertificates (so 127, 128,
 * 255 and 256), and TBSCertList lengths across 127/128 through the issuer
 * name's length, the file's across 255/256 with them.
 */
static void
test_length_sweep(void **state)
{
	struct crl_entry e[13];
	struct arr_src as;
	struct crl_source src;
	struct crl_params p;
	X509_NAME *iss;
	const char *dir = newdir();
	char path[PATH_MAX + 64], cn[64];
	size_t full, k, i;

	for (full = 0; full <= 12; full++)
		for (k = 1; k <= 20; k++) {
			memset(e, 0, sizeof(e));
			/* 19 + serial bytes each (no top bit, no reason):
			 * `full` of 20 bytes, and one of 20..39. */
			for (i = 0; i <= full; i++) {
				e[i].serial_len = i < full ? 1 : k;
				memset(e[i].serial, 0x11, e[i].serial_len);
				e[i].revoked_at = T2025;
				e[i].reason = -1;
			}
			iss = name("Cairn Test Sub CA");
			p = params(ec_key, iss, EVP_sha384());
			src = arr_source(&as, e, full + 1);
			snprintf(path, sizeof(path), "%s/r%zu-%zu.crl", dir,
			    full, k);
			expect(crl_write(&p, &src, ec_key, path, 0, NULL), 0,
			    NULL);
			X509_CRL_free(check_crl(path, &p, &src, full + 1,
			    NULL));
			same_tbs(path, &p, &src, ec_key);
			X509_NAME_free(iss);
		}
	for (k = 1; k <= 48; k++) {
		memset(cn, 'a', k);
		cn[k] = '\0';
		assert_non_null(iss = X509_NAME_new());
		assert_int_equal(X509_NAME_add_entry_by_txt(iss, "CN",
		    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
		p = params(ec_key, iss, EVP_sha384());
		src = arr_source(&as, three, 0);
		snprintf(path, sizeof(path), "%s/n%zu.crl", dir, k);
		expect(crl_write(&p, &src, ec_key, path, 0, NULL), 0, NULL);
		X509_CRL_free(check_crl(path, &p, &src, 0, NULL));
		same_tbs(path, &p, &src, ec_key);
		X509_NAME_free(iss);
	}
}

/* The edges that are allowed, each beside its refused twin below. */
static void
test_edges_accepted(void **state)
{
	static const struct crl_entry edges[] = {
		{ { 0x01 }, 1, T1950, 0 },
		{ { 0x7f }, 1, T9999_LAST, 10 },
		{ { 0x80 }, 1, T2049_LAST, 6 },
		{ { 0xff }, 1, T2050, 8 },
		{ { 0x01, 0x00 }, 2, 0, -1 },
		{ { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff }, 20, -1, 9 },
		{ { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    0 }, 20, 1, 2 },
	};
	static const uint64_t numbers[] = { 1, 127, 128, 255, 256, 65535,
		UINT64_MAX };
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(rsa_key, iss, EVP_sha256());
	struct arr_src as;
	struct crl_source src;
	const char *dir = newdir();
	char path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		src = arr_source(&as, edges, sizeof(edges) / sizeof(edges[0]));
		p.number = numbers[i];
		p.this_update = i % 2 ? T1950 : T9999_LAST - 1;
		p.next_update = p.this_update + 1;
		snprintf(path, sizeof(path), "%s/e%zu.crl", dir, i);
		expect(crl_write(&p, &src, rsa_key, path, 0, NULL), 0, NULL);
		X509_CRL_free(check_crl(path, &p, &src, as.n, NULL));
		same_tbs(path, &p, &src, rsa_key);
	}
	X509_NAME_free(iss);
}

/* ---- peers: the openssl command ------------------------------------- */

static void
peer_check(EVP_PKEY *key, X509 *ca, const EVP_MD *md)
{
	/* The leaf's serial is three[1]'s: revoked. */
	static const uint8_t good_serial[] = { 0x42, 0x42 };
	EVP_PKEY *leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *revoked, *good;
	const char *dir = newdir();
	struct crl_params p = params(key, X509_get_subject_name(ca), md);
	struct arr_src as;
	struct crl_source src = arr_source(&as, three, 3);
	char d[PATH_MAX];

	assert_non_null(leaf_key);
	snprintf(d, sizeof(d), "%s", dir);
	revoked = make_cert("revoked.example", leaf_key, ca, key,
	    three[1].serial, three[1].serial_len, 0);
	good = make_cert("good.example", leaf_key, ca, key, good_serial,
	    sizeof(good_serial), 0);
	write_pem(in(d, "ca.pem"), ca);
	write_pem(in(d, "revoked.pem"), revoked);
	write_pem(in(d, "good.pem"), good);
	/* Current, for verify -crl_check. */
	p.this_update = (long long)time(NULL) - 3600;
	p.next_update = p.this_update + 7 * 86400;
	expect(crl_write(&p, &src, key, in(d, "sub.crl"), 0, NULL), 0, NULL);

	assert_int_equal(th_run("openssl crl -inform DER -in '%s/sub.crl' "
	    "-CAfile '%s/ca.pem' -noout -text >'%s/text' 2>&1", d, d, d), 0);
	assert_int_equal(th_run("grep -q 'verify OK' '%s/text'", d), 0);
	assert_int_equal(th_run("grep -q 'Key Compromise' '%s/text'", d), 0);
	assert_int_equal(th_run("grep -q 'FFEEDDCCBBAA99887766554433221100"
	    "01020304' '%s/text'", d), 0);
	assert_int_equal(th_run("openssl crl -inform DER -in '%s/sub.crl' "
	    "-out '%s/sub.pem'", d, d), 0);
	assert_int_equal(th_run("openssl verify -crl_check -CAfile "
	    "'%s/ca.pem' -CRLfile '%s/sub.pem' '%s/good.pem' >'%s/v1' 2>&1",
	    d, d, d, d), 0);
	assert_int_not_equal(th_run("openssl verify -crl_check -CAfile "
	    "'%s/ca.pem' -CRLfile '%s/sub.pem' '%s/revoked.pem' >'%s/v2' 2>&1",
	    d, d, d, d), 0);
	assert_int_equal(th_run("grep -q 'certificate revoked' '%s/v2'", d),
	    0);
	X509_free(revoked);
	X509_free(good);
	EVP_PKEY_free(leaf_key);
}

static void
test_openssl_peer_ec(void **state)
{
	peer_check(ec_key, ec_ca, EVP_sha384());
}

static void
test_openssl_peer_rsa(void **state)
{
	peer_check(rsa_key, rsa_ca, EVP_sha256());
}

/* ---- a key in the token --------------------------------------------- */

static void
token_crl(enum cairn_key_type t, const char *label, const EVP_MD *md)
{
	struct cairn_p11_keygen kg = { t, label, 0 };
	struct cairn_p11_key *k = NULL;
	EVP_PKEY *pkey, *pub;

	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	assert_non_null(pkey = cairn_p11_key_get1_pkey(k));
	pub = cairn_p11_key_get0_public(k);
	small_crl(pkey, pub, md, three, 3, T2025, T2025 + 7 * 86400);
	small_crl(pkey, pub, md, three, 0, T2025, T2025 + 7 * 86400);
	EVP_PKEY_free(pkey);
	cairn_p11_key_free(k);
}

static void
test_token_ec(void **state)
{
	token_crl(CAIRN_KEY_EC_P384, "crl-ec", EVP_sha384());
}

static void
test_token_rsa(void **state)
{
	token_crl(CAIRN_KEY_RSA_3072, "crl-rsa", EVP_sha256());
}

/* ---- a million entries ---------------------------------------------- */

struct million_report {
	int r;
	long rss_before, rss_after;     /* KiB */
	double seconds;
	struct crl_stats st;
	char msg[512];
};

static void
test_million(void **state)
{
	const char *env = getenv("CAIRN_TEST_CRL_ENTRIES");
	uint64_t n = env != NULL && env[0] != '\0' ?
	    strtoull(env, NULL, 10) : MILLION;
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct million_report rep;
	struct ctr_src cs;
	struct crl_source src = ctr_source(&cs, n);
	struct timespec t0, t1;
	struct rusage ru;
	const char *dir = newdir();
	char path[PATH_MAX + 64];
	int fds[2], status;
	pid_t pid;
	ssize_t k;

	snprintf(path, sizeof(path), "%s", in(dir, "big.crl"));
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	/* In a child, so that its peak memory is the writer's alone. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		memset(&rep, 0, sizeof(rep));
		close(fds[0]);
		getrusage(RUSAGE_SELF, &ru);
		rep.rss_before = ru.ru_maxrss;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rep.r = crl_write(&p, &src, ec_key, path, 0, &rep.st);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		getrusage(RUSAGE_SELF, &ru);
		rep.rss_after = ru.ru_maxrss;
		rep.seconds = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		snprintf(rep.msg, sizeof(rep.msg), "%s", cairn_errmsg(rep.r));
		k = write(fds[1], &rep, sizeof(rep));
		_exit(k == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	k = read(fds[0], &rep, sizeof(rep));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(k, sizeof(rep));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (rep.r != 0)
		fail_msg("crl_write: %s", rep.msg);
	printf("# %llu entries: %.2f s, %.1f MiB, peak RSS %ld KiB before, "
	    "%ld KiB after (+%ld KiB)\n", (unsigned long long)n, rep.seconds,
	    (double)rep.st.bytes / (1024 * 1024), rep.rss_before,
	    rep.rss_after, rep.rss_after - rep.rss_before);
	assert_true(rep.rss_after - rep.rss_before < MILLION_RSS_MAX_KIB);
	assert_true(rep.seconds < MILLION_SECONDS_MAX);
	/* Read back whole by OpenSSL: that takes memory, ours to spend. */
	X509_CRL_free(check_crl(path, &p, &src, n, &rep.st));
	X509_NAME_free(iss);
}

/* ---- failures ------------------------------------------------------- */

static void
test_second_pass_differs(void **state)
{
	static const struct {
		int change;
		const char *text;
	} cases[] = {
		{ CHANGE_SERIAL, "different contents" },
		{ CHANGE_REASON, "different entries" },
		{ CHANGE_MORE, "more on its second pass" },
		{ CHANGE_FEWER, "3 entries" },
	};
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct arr_src as;
	struct crl_source src;
	const char *dir = newdir();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		src = arr_source(&as, three, 3);
		as.change = cases[i].change;
		expect(crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0,
		    NULL), CAIRN_E_INTERNAL, cases[i].text);
		assert_int_equal(dir_count(dir), 0);
	}
	X509_NAME_free(iss);
}

static void
test_source_errors(void **state)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct arr_src as;
	struct crl_source src;
	const char *dir = newdir();
	int pass;

	for (pass = 1; pass <= 2; pass++) {
		src = arr_source(&as, three, 3);
		as.fail_pass = pass;
		as.fail_at = 2;
		as.fail_code = CAIRN_E_IO;
		expect(crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0,
		    NULL), CAIRN_E_IO, "entry 2 (0-based): database row 2 "
		    "unreadable");
		assert_int_equal(as.pass, pass);
		assert_int_equal(dir_count(dir), 0);
	}
	for (pass = 1; pass <= 2; pass++) {
		src = arr_source(&as, three, 3);
		as.fail_rewind = pass;
		expect(crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0,
		    NULL), CAIRN_E_IO, "the source's file vanished");
		assert_int_equal(dir_count(dir), 0);
	}
	/* A source that breaks the contract: neither 0, 1 nor an error. */
	src = arr_source(&as, three, 3);
	as.bad_return = 2;
	expect(crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0, NULL),
	    CAIRN_E_INTERNAL, "returned 2 for entry 0");
	assert_int_equal(dir_count(dir), 0);
	X509_NAME_free(iss);
}

static void
test_bad_entries(void **state)
{
	static const struct {
		struct crl_entry e;
		const char *text;
	} bad[] = {
		{ { { 0x01 }, 0, T2025, -1 }, "serial of 0 bytes" },
		{ { { 0x01 }, 21, T2025, -1 }, "serial of 21 bytes" },
		{ { { 0x00, 0x80 }, 2, T2025, -1 }, "leading zero byte" },
		{ { { 0x00 }, 1, T2025, -1 }, "serial is zero" },
		{ { { 0x01 }, 1, T2025, 7 }, "reason 7" },
		{ { { 0x01 }, 1, T2025, 11 }, "reason 11" },
		{ { { 0x01 }, 1, T2025, -2 }, "reason -2" },
		{ { { 0x01 }, 1, T1950 - 1, -1 }, "outside 1950..9999" },
		{ { { 0x01 }, 1, T9999_LAST + 1, -1 }, "outside 1950..9999" },
		{ { { 0x01 }, 1, -(1LL << 62), -1 }, "outside 1950..9999" },
	};
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct crl_entry e[4];
	struct arr_src as;
	struct crl_source src;
	const char *dir = newdir();
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(e, three, sizeof(three));
		e[2] = bad[i].e;
		e[3] = three[0];
		src = arr_source(&as, e, 4);
		r = crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0, NULL);
		expect(r, CAIRN_E_INVAL, bad[i].text);
		expect(r, CAIRN_E_INVAL, "revoked entry 2 (0-based)");
		/* Refused in the first pass, before anything is written. */
		assert_int_equal(as.pass, 1);
		assert_int_equal(dir_count(dir), 0);
	}
	X509_NAME_free(iss);
}

static void
test_bad_params(void **state)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p0 = params(ec_key, iss, EVP_sha384()), p;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct arr_src as;
	struct crl_source src;
	const char *dir = newdir();
	int r;

	assert_non_null(ed);
#define BAD(stmt, key, flags, code, text) do {                              \
	p = p0;                                                             \
	stmt;                                                               \
	src = arr_source(&as, three, 3);                                    \
	r = crl_write(&p, &src, key, in(dir, "sub.crl"), flags, NULL);      \
	expect(r, code, text);                                              \
	assert_int_equal(as.nexts, 0);                                      \
	assert_int_equal(dir_count(dir), 0);                                \
} while (0)
	BAD(p.next_update = p.this_update, ec_key, 0, CAIRN_E_INVAL,
	    "is not after thisUpdate");
	BAD(p.next_update = p.this_update - 1, ec_key, 0, CAIRN_E_INVAL,
	    "is not after thisUpdate");
	BAD(p.number = 0, ec_key, 0, CAIRN_E_INVAL, "cRLNumber 0");
	BAD(p.md = EVP_sha1(), ec_key, 0, CAIRN_E_INVAL, "SHA1");
	BAD(p.md = NULL, ec_key, 0, CAIRN_E_INVAL, "(none)");
	BAD(p.this_update = T1950 - 1, ec_key, 0, CAIRN_E_INVAL,
	    "thisUpdate");
	BAD(p.next_update = T9999_LAST + 1, ec_key, 0, CAIRN_E_INVAL,
	    "nextUpdate");
	BAD(p.issuer = NULL, ec_key, 0, CAIRN_E_INVAL, "issuer");
	BAD(p.issuer_pub = NULL, ec_key, 0, CAIRN_E_INVAL, "issuer");
	BAD((void)0, ed, 0, CAIRN_E_INVAL, "ED25519");
	BAD(p.issuer_pub = rsa_key, ec_key, 0, CAIRN_E_INVAL,
	    "issuer's public key is RSA");
	BAD((void)0, ec_key, 0x10, CAIRN_E_INVAL, "unknown flags 0x10");
	BAD((void)0, NULL, 0, CAIRN_E_INVAL, "required");
#undef BAD
	src = arr_source(&as, three, 3);
	expect(crl_write(&p0, &src, ec_key, NULL, 0, NULL), CAIRN_E_INVAL,
	    "required");
	src.rewind = NULL;
	expect(crl_write(&p0, &src, ec_key, in(dir, "sub.crl"), 0, NULL),
	    CAIRN_E_INVAL, "required");
	assert_int_equal(dir_count(dir), 0);
	EVP_PKEY_free(ed);
	X509_NAME_free(iss);
}

static void
test_exists(void **state)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct arr_src as;
	struct crl_source src;
	struct crl_stats st;
	const char *dir = newdir();
	char path[PATH_MAX + 64], link_path[PATH_MAX + 64];
	uint8_t *buf;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s", in(dir, "sub.crl"));
	snprintf(link_path, sizeof(link_path), "%s", in(dir, "link.crl"));
	assert_non_null(f = fopen(path, "w"));
	fputs("the old CRL", f);
	fclose(f);
	src = arr_source(&as, three, 3);
	expect(crl_write(&p, &src, ec_key, path, 0, &st), CAIRN_E_EXISTS,
	    "exists already");
	assert_int_equal(as.nexts, 0);
	assert_int_equal(st.entries, 0);
	assert_int_equal(dir_count(dir), 1);
	buf = slurp(path, &len);
	assert_int_equal(len, strlen("the old CRL"));
	free(buf);
	/* A dangling symbolic link is there too. */
	assert_int_equal(symlink("nowhere", link_path), 0);
	expect(crl_write(&p, &src, ec_key, link_path, 0, NULL),
	    CAIRN_E_EXISTS, "exists already");
	assert_int_equal(dir_count(dir), 2);
	/* Replacing is allowed when asked for. */
	src = arr_source(&as, three, 3);
	expect(crl_write(&p, &src, ec_key, path, FILEIO_REPLACE, &st), 0,
	    NULL);
	assert_int_equal(dir_count(dir), 2);
	X509_CRL_free(check_crl(path, &p, &src, 3, &st));
	X509_NAME_free(iss);
}

static void
test_wrong_issuer_key(void **state)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(other_ec, iss, EVP_sha384());
	struct arr_src as;
	struct crl_source src = arr_source(&as, three, 3);
	const char *dir = newdir();

	expect(crl_write(&p, &src, ec_key, in(dir, "sub.crl"), 0, NULL),
	    CAIRN_E_LINT, "does not verify with the issuer's public key");
	assert_int_equal(as.pass, 2);
	assert_int_equal(dir_count(dir), 0);
	X509_NAME_free(iss);
}

static void
test_no_directory(void **state)
{
	X509_NAME *iss = name("Cairn Test Sub CA");
	struct crl_params p = params(ec_key, iss, EVP_sha384());
	struct arr_src as;
	struct crl_source src = arr_source(&as, three, 3);
	const char *dir = newdir();

	expect(crl_write(&p, &src, ec_key, in(dir, "none/sub.crl"), 0, NULL),
	    CAIRN_E_IO, "cannot create a file beside");
	/* Found before the source was read at all. */
	assert_int_equal(as.nexts, 0);
	assert_int_equal(dir_count(dir), 0);
	X509_NAME_free(iss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_small),
		cmocka_unit_test(test_rsa_small),
		cmocka_unit_test(test_length_forms),
		cmocka_unit_test(test_length_sweep),
		cmocka_unit_test(test_edges_accepted),
		cmocka_unit_test(test_openssl_peer_ec),
		cmocka_unit_test(test_openssl_peer_rsa),
		cmocka_unit_test(test_token_ec),
		cmocka_unit_test(test_token_rsa),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_second_pass_differs),
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_wrong_issuer_key),
		cmocka_unit_test(test_no_directory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
