/*
 * test_scep.c: SCEP messages (sub-ca/scep_msg.c) and the small parsers
 * beside them (durations, names).
 *
 * The inputs are real: micromdm's scepclient 2.1 messages (SHA-1, single
 * DES, PKCSReq by POST and by GET in base64url, RenewalReq) and messages
 * made by tests/bench/scep_client, all encrypted to the test RA of
 * tests/fuzz/scep_ra.h, from tests/fuzz/corpus/scep/ (the first byte of
 * each seed says POST or GET; the message follows).  Each accepted
 * message has its refused twins: the algorithm not allowed, every
 * truncation, a byte after it, zero signers, a flipped signature bit, an
 * envelope for another RA.  Replies are opened with OpenSSL's CMS code
 * alone: signature, attributes, and the envelope decrypted by the
 * recipient.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/scep.h"
#include "tests/fuzz/scep_ra.h"

#define ALL (SCEP_ALLOW_SHA1 | SCEP_ALLOW_DES3 | SCEP_ALLOW_DES)

static struct scep_ra_key ra;
static OSSL_LIB_CTX *legacy;
static OSSL_PROVIDER *prov_default, *prov_legacy;

/* A seed: the message, without its door byte.  *get: 1 for GET. */
static uint8_t *
seed(const char *name, size_t *len, int *get)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char path[4096], *buf = NULL;
	size_t n = 0;
	uint8_t *out;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/scep/%s",
	    src != NULL ? src : ".", name);
	assert_int_equal(cairn_read_file(path, 1 << 20, &buf, &n), 0);
	assert_true(n > 1);
	if (get != NULL)
		*get = buf[0] & 1;
	out = malloc(n);
	assert_non_null(out);
	memcpy(out, buf + 1, n - 1);
	out[n - 1] = 0;
	*len = n - 1;
	free(buf);
	return out;
}

static int
parse_seed(const char *name, unsigned allow, OSSL_LIB_CTX *lc,
    struct scep_msg *m)
{
	size_t len;
	int get, r;
	uint8_t *b = seed(name, &len, &get), *der = NULL;
	size_t dlen;

	if (get) {
		assert_int_equal(scep_msg_b64((const char *)b, &der, &dlen), 0);
		r = scep_msg_parse(der, dlen, &ra, 1, allow, lc, m);
		free(der);
	} else {
		r = scep_msg_parse(b, len, &ra, 1, allow, lc, m);
	}
	free(b);
	return r;
}

static void
assert_detail(int r, const char *want)
{
	if (strstr(cairn_errmsg(r), want) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", cairn_errmsg(r), want);
}

static int
setup(void **state)
{
	BIO *b;

	legacy = OSSL_LIB_CTX_new();
	if (legacy == NULL ||
	    (prov_default = OSSL_PROVIDER_load(legacy, "default")) == NULL ||
	    (prov_legacy = OSSL_PROVIDER_load(legacy, "legacy")) == NULL)
		return -1;
	b = BIO_new_mem_buf(ra_key_pem, -1);
	ra.pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(ra_cert_pem, -1);
	ra.cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return ra.pkey != NULL && ra.cert != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(ra.pkey);
	X509_free(ra.cert);
	OSSL_PROVIDER_unload(prov_legacy);
	OSSL_PROVIDER_unload(prov_default);
	OSSL_LIB_CTX_free(legacy);
	return 0;
}

/* ---- real scepclient messages ------------------------------------------ */

static void
scepclient_pkcsreq(void **state)
{
	struct scep_msg m;
	char cn[128];

	assert_int_equal(parse_seed("scepclient-pkcsreq-des-sha1", ALL, legacy,
	    &m), 0);
	assert_int_equal(m.type, SCEP_PKCSREQ);
	assert_int_equal(m.cipher_nid, NID_des_cbc);
	assert_int_equal(EVP_MD_get_type(m.md), NID_sha1);
	assert_true(m.has_nonce);
	assert_true(strlen(m.tid) == 28); /* base64 of a SHA-1 */
	assert_string_equal(m.challenge, "0123456789abcdef0123456789abcdef");
	assert_ptr_equal(m.ra, &ra);
	assert_non_null(m.signer);
	assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(m.csr),
	    NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, "r1.routers.example.org");
	scep_msg_clear(&m);
}

static void
scepclient_needs_legacy(void **state)
{
	struct scep_msg m;
	int r;

	/* SHA-1 not allowed: badAlg, with what to do, answerable. */
	r = parse_seed("scepclient-pkcsreq-des-sha1", SCEP_ALLOW_DES, legacy,
	    &m);
	assert_int_equal(r, CAIRN_E_INVAL);
	assert_int_equal(m.fail_info, SCEP_BAD_ALG);
	assert_detail(r, "scep.legacy: [sha1]");
	assert_true(m.has_nonce && m.tid[0] != '\0');
	scep_msg_clear(&m);
	/* DES not allowed. */
	r = parse_seed("scepclient-pkcsreq-des-sha1", SCEP_ALLOW_SHA1 |
	    SCEP_ALLOW_DES3, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_BAD_ALG);
	assert_detail(r, "DES-CBC is not accepted");
	scep_msg_clear(&m);
	/* DES allowed, but no legacy provider to do it with. */
	r = parse_seed("scepclient-pkcsreq-des-sha1", ALL, NULL, &m);
	assert_int_equal(m.fail_info, SCEP_BAD_ALG);
	scep_msg_clear(&m);
}

static void
scepclient_get_and_renewal(void **state)
{
	struct scep_msg m;

	/* GET: base64url, as scepclient sends it. */
	assert_int_equal(parse_seed("scepclient-pkcsreq-get-rsa3072", ALL,
	    legacy, &m), 0);
	assert_int_equal(m.type, SCEP_PKCSREQ);
	assert_int_equal(EVP_PKEY_get_bits(X509_REQ_get0_pubkey(m.csr)), 3072);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("scepclient-renewalreq", ALL, legacy, &m),
	    0);
	assert_int_equal(m.type, SCEP_RENEWALREQ);
	assert_null(m.challenge);
	scep_msg_clear(&m);
}

/* ---- the other messages ---------------------------------------------------- */

static void
other_types(void **state)
{
	struct scep_msg m;

	assert_int_equal(parse_seed("pkcsreq-aes128-sha256", 0, NULL, &m), 0);
	assert_int_equal(m.cipher_nid, NID_aes_128_cbc);
	assert_int_equal(EVP_MD_get_type(m.md), NID_sha256);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("pkcsreq-aes256-sha512", 0, NULL, &m), 0);
	assert_int_equal(m.cipher_nid, NID_aes_256_cbc);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("pkcsreq-des3", 0, NULL, &m),
	    CAIRN_E_INVAL);
	assert_int_equal(m.fail_info, SCEP_BAD_ALG);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("pkcsreq-des3", SCEP_ALLOW_DES3, NULL, &m),
	    0);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("certpoll", 0, NULL, &m), 0);
	assert_int_equal(m.type, SCEP_CERTPOLL);
	assert_string_equal(m.tid, "tx-poll");
	assert_int_equal(X509_NAME_cmp(m.issuer, X509_get_subject_name(
	    ra.cert)), 0);
	assert_non_null(m.subject);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("getcert", 0, NULL, &m), 0);
	assert_int_equal(m.type, SCEP_GETCERT);
	assert_int_equal(ASN1_INTEGER_get(m.serial), 0x0123456789ABCDEFLL);
	scep_msg_clear(&m);
	assert_int_equal(parse_seed("getcrl", 0, NULL, &m), 0);
	assert_int_equal(m.type, SCEP_GETCRL);
	scep_msg_clear(&m);
}

/* ---- refusals -------------------------------------------------------------- */

static void
refused(void **state)
{
	struct scep_msg m;
	int r;

	r = parse_seed("bad-zero-signers", ALL, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_NO_CERTREP);
	assert_detail(r, "0 signers");
	scep_msg_clear(&m);
	r = parse_seed("bad-signature-does-not-verify", ALL, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_BAD_MESSAGE_CHECK);
	assert_detail(r, "signature does not verify");
	assert_true(m.has_nonce); /* answered with a CertRep */
	scep_msg_clear(&m);
	r = parse_seed("bad-content-digest", ALL, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_BAD_MESSAGE_CHECK);
	scep_msg_clear(&m);
	r = parse_seed("bad-other-recipient", ALL, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_BAD_MESSAGE_CHECK);
	assert_detail(r, "encrypted for another recipient");
	scep_msg_clear(&m);
	/* No RA key at all: the same. */
	{
		size_t len;
		uint8_t *b = seed("pkcsreq-aes128-sha256", &len, NULL);

		r = scep_msg_parse(b, len, NULL, 0, ALL, legacy, &m);
		assert_int_equal(m.fail_info, SCEP_BAD_MESSAGE_CHECK);
		scep_msg_clear(&m);
		free(b);
	}
}

static void
truncated_and_trailing(void **state)
{
	struct scep_msg m;
	size_t len, n;
	uint8_t *b = seed("pkcsreq-aes128-sha256", &len, NULL), *c;
	int r;

	/* Every truncation is refused (never a crash, never a success). */
	for (n = 0; n < len; n++) {
		r = scep_msg_parse(b, n, &ra, 1, ALL, legacy, &m);
		assert_int_not_equal(r, 0);
		scep_msg_clear(&m);
	}
	c = malloc(len + 1);
	assert_non_null(c);
	memcpy(c, b, len);
	c[len] = 0;
	r = scep_msg_parse(c, len + 1, &ra, 1, ALL, legacy, &m);
	assert_int_equal(m.fail_info, SCEP_NO_CERTREP);
	assert_detail(r, "1 bytes after the pkiMessage");
	scep_msg_clear(&m);
	free(c);
	free(b);
}

static void
base64_forms(void **state)
{
	size_t len, dlen, i, k;
	uint8_t *b = seed("pkcsreq-aes128-sha256", &len, NULL), *der = NULL;
	char *t, *u;
	struct scep_msg m;

	/* Standard base64, with line breaks, '+' as spaces and no padding. */
	t = malloc(len * 2 + 16);
	u = malloc(len * 3 + 16);
	assert_non_null(t);
	assert_non_null(u);
	assert_true(EVP_EncodeBlock((unsigned char *)t, b, (int)len) > 0);
	for (i = 0, k = 0; t[i] != '\0'; i++) {
		if (i > 0 && i % 64 == 0)
			u[k++] = '\n';
		if (t[i] == '=')
			continue;
		u[k++] = t[i] == '+' ? ' ' : t[i];
	}
	u[k] = '\0';
	assert_int_equal(scep_msg_b64(u, &der, &dlen), 0);
	assert_int_equal(dlen, len);
	assert_memory_equal(der, b, len);
	assert_int_equal(scep_msg_parse(der, dlen, &ra, 1, 0, NULL, &m), 0);
	scep_msg_clear(&m);
	free(der);
	/* Refusals, each with its reason. */
	assert_int_equal(scep_msg_b64("", &der, &dlen), CAIRN_E_INVAL);
	assert_detail(CAIRN_E_INVAL, "empty");
	assert_int_equal(scep_msg_b64("MIIB%%", &der, &dlen), CAIRN_E_INVAL);
	assert_detail(CAIRN_E_INVAL, "character 0x25 at offset 4");
	assert_int_equal(scep_msg_b64("MI=B", &der, &dlen), CAIRN_E_INVAL);
	assert_null(der);
	free(t);
	free(u);
	u = malloc(CAIRN_HTTP_HEADER_MAX + 2);
	assert_non_null(u);
	memset(u, 'A', CAIRN_HTTP_HEADER_MAX + 1);
	u[CAIRN_HTTP_HEADER_MAX + 1] = '\0';
	assert_int_equal(scep_msg_b64(u, &der, &dlen), CAIRN_E_TOO_LARGE);
	free(u);
	free(b);
}

/* ---- replies ----------------------------------------------------------------- */

/* The text of single-valued attribute `oid` of the reply's signer. */
static char *
attr(CMS_SignerInfo *si, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = CMS_signed_get_attr_by_OBJ(si, o, -1);
	ASN1_TYPE *t;
	char *s;

	ASN1_OBJECT_free(o);
	if (i < 0)
		return NULL;
	t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0);
	s = calloc(1, (size_t)ASN1_STRING_length(t->value.asn1_string) + 1);
	memcpy(s, ASN1_STRING_get0_data(t->value.asn1_string),
	    (size_t)ASN1_STRING_length(t->value.asn1_string));
	return s;
}

/* Open a reply with OpenSSL alone: signed by the RA, *content the
 * eContent; returns the parsed CMS. */
static CMS_ContentInfo *
open_reply(const uint8_t *der, size_t len, BIO *content)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *signer = sk_X509_new_null();

	assert_non_null(cms);
	sk_X509_push(signer, ra.cert);
	assert_int_equal(CMS_verify(cms, signer, NULL, NULL, content,
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN | CMS_BINARY), 1);
	sk_X509_free(signer);
	return cms;
}

static void
replies(void **state)
{
	struct scep_msg m;
	struct scep_reply rp = { 0 };
	STACK_OF(X509) *certs = sk_X509_new_null();
	CMS_ContentInfo *cms, *env;
	CMS_SignerInfo *si;
	BIO *content = BIO_new(BIO_s_mem()), *plain = BIO_new(BIO_s_mem());
	uint8_t *der = NULL;
	size_t len;
	char *s, *d;
	long dl;
	const unsigned char *p;
	PKCS7 *deg;

	assert_int_equal(parse_seed("scepclient-pkcsreq-des-sha1", ALL, legacy,
	    &m), 0);
	/* FAILURE: failInfo and its text, the nonce echoed, empty content
	 * present (not detached). */
	rp.status = SCEP_FAILURE;
	rp.fail_info = SCEP_BAD_REQUEST;
	rp.fail_text = "challenge 7 was used already";
	rp.tid = m.tid;
	rp.recipient_nonce = m.nonce;
	rp.ra_cert = ra.cert;
	rp.ra_pkey = ra.pkey;
	rp.md = m.md;
	assert_int_equal(scep_msg_reply(&rp, &der, &len), 0);
	cms = open_reply(der, len, content);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	assert_string_equal((s = attr(si, "2.16.840.1.113733.1.9.2")), "3");
	free(s);
	assert_string_equal((s = attr(si, "2.16.840.1.113733.1.9.3")), "2");
	free(s);
	assert_string_equal((s = attr(si, "2.16.840.1.113733.1.9.4")), "2");
	free(s);
	assert_string_equal((s = attr(si, "1.3.6.1.5.5.7.24.1")),
	    "challenge 7 was used already");
	free(s);
	assert_string_equal((s = attr(si, "2.16.840.1.113733.1.9.7")), m.tid);
	free(s);
	s = attr(si, "2.16.840.1.113733.1.9.6");
	assert_memory_equal(s, m.nonce, SCEP_NONCE_LEN);
	free(s);
	assert_non_null(CMS_get0_content(cms));
	assert_non_null(*CMS_get0_content(cms));
	assert_int_equal(ASN1_STRING_length(*CMS_get0_content(cms)), 0);
	CMS_ContentInfo_free(cms);
	free(der);
	/* PENDING: no failInfo. */
	rp.status = SCEP_PENDING;
	assert_int_equal(scep_msg_reply(&rp, &der, &len), 0);
	cms = open_reply(der, len, content);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	assert_string_equal((s = attr(si, "2.16.840.1.113733.1.9.3")), "3");
	free(s);
	assert_null(attr(si, "2.16.840.1.113733.1.9.4"));
	CMS_ContentInfo_free(cms);
	free(der);
	/* SUCCESS: the certificate, enveloped (here with DES, as the request
	 * was) for the recipient, whose key opens it. */
	(void)BIO_reset(content);
	sk_X509_push(certs, ra.cert);
	rp.status = SCEP_SUCCESS;
	rp.payload_certs = certs;
	rp.recipient = ra.cert;
	rp.cipher_nid = m.cipher_nid;
	rp.libctx = legacy;
	assert_int_equal(scep_msg_reply(&rp, &der, &len), 0);
	cms = open_reply(der, len, content);
	dl = BIO_get_mem_data(content, &d);
	p = (const unsigned char *)d;
	env = CMS_ContentInfo_new_ex(legacy, NULL);
	assert_non_null(d2i_CMS_ContentInfo(&env, &p, dl));
	assert_int_equal(CMS_decrypt(env, ra.pkey, ra.cert, NULL, plain,
	    CMS_BINARY), 1);
	dl = BIO_get_mem_data(plain, &d);
	p = (const unsigned char *)d;
	deg = d2i_PKCS7(NULL, &p, dl);
	assert_non_null(deg);
	assert_int_equal(sk_X509_num(deg->d.sign->cert), 1);
	assert_int_equal(X509_cmp(sk_X509_value(deg->d.sign->cert, 0),
	    ra.cert), 0);
	PKCS7_free(deg);
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	free(der);
	sk_X509_free(certs);
	BIO_free(content);
	BIO_free(plain);
	scep_msg_clear(&m);
}

/* ---- small parsers --------------------------------------------------------- */

static void
durations(void **state)
{
	long long v;

	assert_int_equal(scep_duration_parse("30m", &v), 0);
	assert_int_equal(v, 1800);
	assert_int_equal(scep_duration_parse("1h", &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(scep_duration_parse("7d", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(scep_duration_parse("1y", &v), 0);
	assert_int_equal(v, 365 * 86400);
	assert_int_equal(scep_duration_parse("45s", &v), 0);
	assert_int_equal(v, 45);
	assert_int_equal(scep_duration_parse("", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("h", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("10", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("1x", &v), CAIRN_E_INVAL);
	assert_detail(CAIRN_E_INVAL, "the unit must be one of");
	assert_int_equal(scep_duration_parse("-1h", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("0h", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("1 h", &v), CAIRN_E_INVAL);
	assert_int_equal(scep_duration_parse("99999999999999d", &v),
	    CAIRN_E_INVAL);
}

static void
names(void **state)
{
	assert_string_equal(scep_type_name(SCEP_PKCSREQ), "PKCSReq");
	assert_string_equal(scep_type_name(SCEP_CERTPOLL), "CertPoll");
	assert_string_equal(scep_type_name(99), "messageType 99");
	assert_string_equal(scep_fail_name(SCEP_BAD_CERT_ID), "badCertId");
	assert_string_equal(scep_fail_name(SCEP_NO_CERTREP), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scepclient_pkcsreq),
		cmocka_unit_test(scepclient_needs_legacy),
		cmocka_unit_test(scepclient_get_and_renewal),
		cmocka_unit_test(other_types),
		cmocka_unit_test(refused),
		cmocka_unit_test(truncated_and_trailing),
		cmocka_unit_test(base64_forms),
		cmocka_unit_test(replies),
		cmocka_unit_test(durations),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
