/*
 * test_ocsp.c: the OCSP responder's request parser, GET decoder and
 * table of pre-signed responses (sub-ca/ocsp_req.c, sub-ca/ocsp_cache.c).
 *
 * Requests are made by OpenSSL's own OCSP request API (the peer a client
 * would use); every success has its truncated, oversized and off-by-one
 * twins, each asserting the exact error.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/ocsp.h"

static X509 *issuer;

/* A self-signed issuer, made once. */
static int
setup(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();

	(void)state;
	if (k == NULL || x == NULL)
		return -1;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"Test Issuing CA", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		return -1;
	EVP_PKEY_free(k);
	issuer = x;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(issuer);
	return 0;
}

static OCSP_CERTID *
cid(const EVP_MD *md, long serial)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	OCSP_CERTID *id;

	ASN1_INTEGER_set(ai, serial);
	id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), ai);
	ASN1_INTEGER_free(ai);
	return id;
}

/* A request for serials first..first+n-1, DER in *der (OPENSSL_free). */
static int
make_req(const EVP_MD *md, long first, int n, int nonce_len, uint8_t **der)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	int i, len;

	*der = NULL;
	for (i = 0; i < n; i++)
		assert_non_null(OCSP_request_add0_id(req, cid(md, first + i)));
	if (nonce_len > 0) {
		unsigned char v[64];

		memset(v, 0x5a, sizeof(v));
		assert_int_equal(OCSP_request_add1_nonce(req, v, nonce_len), 1);
	}
	len = i2d_OCSP_REQUEST(req, der);
	OCSP_REQUEST_free(req);
	return len;
}

static void
test_parse_sha1(void **state)
{
	struct ocsp_req rq;
	uint8_t *der, md[32];
	unsigned int n;
	int len = make_req(EVP_sha1(), 0x1234, 1, 0, &der);

	(void)state;
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq), 0);
	assert_int_equal(rq.n, 1);
	assert_int_equal(rq.ids[0].alg, OCSP_ALG_SHA1);
	assert_int_equal(rq.ids[0].serial_len, 2);
	assert_int_equal(rq.ids[0].serial[0], 0x12);
	assert_int_equal(rq.ids[0].serial[1], 0x34);
	X509_NAME_digest(X509_get_subject_name(issuer), EVP_sha1(), md, &n);
	assert_memory_equal(rq.ids[0].name_hash, md, 20);
	X509_pubkey_digest(issuer, EVP_sha1(), md, &n);
	assert_memory_equal(rq.ids[0].key_hash, md, 20);
	assert_int_equal(rq.has_nonce, 0);
	OPENSSL_free(der);
}

static void
test_parse_sha256_several_nonce(void **state)
{
	struct ocsp_req rq;
	uint8_t *der;
	int len = make_req(EVP_sha256(), 7, 3, 16, &der);

	(void)state;
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq), 0);
	assert_int_equal(rq.n, 3);
	assert_int_equal(rq.ids[2].alg, OCSP_ALG_SHA256);
	assert_int_equal(rq.ids[2].serial[0], 9);
	assert_int_equal(rq.has_nonce, 1);
	/* extnValue: the DER of an OCTET STRING of 16 octets */
	assert_int_equal(rq.nonce_len, 18);
	assert_int_equal(rq.nonce[0], 0x04);
	assert_int_equal(rq.nonce[1], 16);
	assert_int_equal(rq.nonce[2], 0x5a);
	OPENSSL_free(der);
}

static void
test_parse_nonce_bounds(void **state)
{
	struct ocsp_req rq;
	uint8_t *der;
	int len;

	(void)state;
	len = make_req(EVP_sha1(), 1, 1, 32, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq), 0);
	OPENSSL_free(der);
	len = make_req(EVP_sha1(), 1, 1, 33, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "RFC 8954"));
	assert_int_equal(rq.n, 0);
	OPENSSL_free(der);
}

static void
test_parse_truncated_and_trailing(void **state)
{
	struct ocsp_req rq;
	uint8_t *der, *big;
	int len = make_req(EVP_sha1(), 0x77, 2, 8, &der);
	size_t i;

	(void)state;
	for (i = 0; i < (size_t)len; i++)
		assert_int_equal(ocsp_req_parse(der, i, &rq), CAIRN_E_INVAL);
	big = malloc((size_t)len + 1);
	memcpy(big, der, (size_t)len);
	big[len] = 0;
	assert_int_equal(ocsp_req_parse(big, (size_t)len + 1, &rq),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "1 bytes after"));
	free(big);
	big = calloc(1, CAIRN_OCSP_REQ_MAX + 1);
	memcpy(big, der, (size_t)len);
	assert_int_equal(ocsp_req_parse(big, CAIRN_OCSP_REQ_MAX + 1, &rq),
	    CAIRN_E_TOO_LARGE);
	free(big);
	OPENSSL_free(der);
}

static void
test_parse_count_limit(void **state)
{
	struct ocsp_req rq;
	uint8_t *der;
	int len;

	(void)state;
	len = make_req(EVP_sha1(), 1, CAIRN_OCSP_REQ_CERTS_MAX, 0, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq), 0);
	assert_int_equal(rq.n, CAIRN_OCSP_REQ_CERTS_MAX);
	OPENSSL_free(der);
	len = make_req(EVP_sha1(), 1, CAIRN_OCSP_REQ_CERTS_MAX + 1, 0, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
	    CAIRN_E_TOO_LARGE);
	OPENSSL_free(der);
}

static void
test_parse_unsupported_hash(void **state)
{
	struct ocsp_req rq;
	uint8_t *der;
	int len = make_req(EVP_sha384(), 1, 1, 0, &der);

	(void)state;
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
	    CAIRN_E_POLICY);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_POLICY), "SHA-1"));
	OPENSSL_free(der);
}

static void
test_parse_extensions(void **state)
{
	OCSP_REQUEST *req;
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *oid;
	X509_EXTENSION *ext;
	struct ocsp_req rq;
	uint8_t *der = NULL;
	int len, crit;

	(void)state;
	ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);
	for (crit = 0; crit < 2; crit++) {
		req = OCSP_REQUEST_new();
		OCSP_request_add0_id(req, cid(EVP_sha1(), 5));
		oid = OBJ_txt2obj("1.3.6.1.4.1.99999.7", 1);
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, crit, v);
		ASN1_OBJECT_free(oid);
		OCSP_REQUEST_add_ext(req, ext, -1);
		X509_EXTENSION_free(ext);
		len = i2d_OCSP_REQUEST(req, &der);
		assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
		    crit ? CAIRN_E_POLICY : 0);
		OPENSSL_free(der);
		der = NULL;
		OCSP_REQUEST_free(req);
	}
	ASN1_OCTET_STRING_free(v);
}

static void
test_parse_bad_serials(void **state)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	BIGNUM *bn = BN_new();
	struct ocsp_req rq;
	uint8_t *der = NULL;
	int len;

	(void)state;
	/* 21 octets: over RFC 5280's 20 */
	BN_set_bit(bn, 166);
	BN_to_ASN1_INTEGER(bn, ai);
	OCSP_request_add0_id(req, OCSP_cert_id_new(EVP_sha1(),
	    X509_get_subject_name(issuer), X509_get0_pubkey_bitstr(issuer),
	    ai));
	len = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "21 octets"));
	OPENSSL_free(der);
	der = NULL;
	OCSP_REQUEST_free(req);
	/* negative */
	req = OCSP_REQUEST_new();
	ASN1_INTEGER_set(ai, -5);
	OCSP_request_add0_id(req, OCSP_cert_id_new(EVP_sha1(),
	    X509_get_subject_name(issuer), X509_get0_pubkey_bitstr(issuer),
	    ai));
	len = i2d_OCSP_REQUEST(req, &der);
	assert_int_equal(ocsp_req_parse(der, (size_t)len, &rq),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "negative"));
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

static void
test_parse_empty_list(void **state)
{
	/* OCSPRequest { TBSRequest { requestList SEQUENCE {} } } */
	static const uint8_t der[] = { 0x30, 0x04, 0x30, 0x02, 0x30, 0x00 };
	struct ocsp_req rq;

	(void)state;
	assert_int_equal(ocsp_req_parse(der, sizeof(der), &rq),
	    CAIRN_E_INVAL);
	assert_int_equal(ocsp_req_parse(der, 0, &rq), CAIRN_E_INVAL);
}

/* ---- GET ------------------------------------------------------------- */

static void
test_get_decode(void **state)
{
	static const struct {
		const char *in;
		int r;
		const char *out;
	} cases[] = {
		{ "TWFu", 0, "Man" },
		{ "TWE=", 0, "Ma" },
		{ "TWE%3D", 0, "Ma" },
		{ "TWE%3d", 0, "Ma" },
		{ "TWE", 0, "Ma" },            /* padding left out */
		{ "TQ==", 0, "M" },
		{ "TQ", 0, "M" },
		{ "%2B%2F%2b%2f", 0, "\xfb\xff\xbf" },
		{ "+/+/", 0, "\xfb\xff\xbf" },
		{ "TR==", CAIRN_E_INVAL, NULL },  /* bits left over */
		{ "T", CAIRN_E_INVAL, NULL },     /* 6 bits */
		{ "TWFu!", CAIRN_E_INVAL, NULL },
		{ "TW-u", CAIRN_E_INVAL, NULL },  /* base64url is not base64 */
		{ "TW%ZZ", CAIRN_E_INVAL, NULL },
		{ "TWF%4", CAIRN_E_INVAL, NULL },
		{ "TWF%", CAIRN_E_INVAL, NULL },
		{ "TQ==TQ==", CAIRN_E_INVAL, NULL },
		{ "TQ===", CAIRN_E_INVAL, NULL },
		{ "TWE==", CAIRN_E_INVAL, NULL },
		{ "TW%00", CAIRN_E_INVAL, NULL },
		{ "", CAIRN_E_INVAL, NULL },
	};
	uint8_t buf[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ocsp_get_decode(cases[i].in, strlen(cases[i].in), buf,
		    sizeof(buf), &n);

		if (r != cases[i].r)
			fail_msg("case %zu \"%s\": %d, want %d", i,
			    cases[i].in, r, cases[i].r);
		if (r == 0) {
			assert_int_equal(n, strlen(cases[i].out));
			assert_memory_equal(buf, cases[i].out, n);
		}
	}
	assert_int_equal(ocsp_get_decode("TWFuTWFu", 8, buf, 5, &n),
	    CAIRN_E_TOO_LARGE);
	assert_int_equal(ocsp_get_decode("TWFuTWFu", 8, buf, 6, &n), 0);
}

static void
test_get_roundtrip(void **state)
{
	struct ocsp_req rq;
	uint8_t *der, buf[CAIRN_OCSP_REQ_MAX];
	char b64[1024];
	size_t n;
	int len = make_req(EVP_sha1(), 0xfbff3e, 1, 0, &der);

	(void)state;
	n = (size_t)EVP_EncodeBlock((unsigned char *)b64, der, len);
	assert_int_equal(ocsp_get_decode(b64, n, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, (size_t)len);
	assert_memory_equal(buf, der, n);
	assert_int_equal(ocsp_req_parse(buf, n, &rq), 0);
	assert_int_equal(rq.ids[0].serial_len, 3);
	OPENSSL_free(der);
}

/* ---- the table ------------------------------------------------------- */

static struct ocsp_certid
key_of(int alg, uint32_t serial)
{
	struct ocsp_certid id;

	memset(&id, 0, sizeof(id));
	id.alg = (uint8_t)alg;
	memset(id.name_hash, 0x11, sizeof(id.name_hash));
	memset(id.key_hash, 0x22, sizeof(id.key_hash));
	id.serial_len = 4;
	id.serial[0] = (uint8_t)(serial >> 24);
	id.serial[1] = (uint8_t)(serial >> 16);
	id.serial[2] = (uint8_t)(serial >> 8);
	id.serial[3] = (uint8_t)serial;
	return id;
}

static void
test_cache_put_get_replace(void **state)
{
	struct ocsp_cache *c = ocsp_cache_new();
	struct ocsp_certid a = key_of(OCSP_ALG_SHA1, 42),
	    b = key_of(OCSP_ALG_SHA256, 42);
	struct ocsp_resp_info info = { 0 }, got;
	uint8_t *der;
	size_t len;

	(void)state;
	assert_non_null(c);
	assert_int_equal(ocsp_cache_get(c, &a, &der, &len, &got), 0);
	assert_null(der);
	info.this_update = 100;
	info.next_update = 200;
	info.status = OCSP_GOOD;
	assert_int_equal(ocsp_cache_put(c, &a, (const uint8_t *)"one", 3,
	    &info), 0);
	assert_int_equal(ocsp_cache_get(c, &a, &der, &len, &got), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(der, "one", 3);
	assert_int_equal(got.next_update, 200);
	assert_int_equal(strlen(got.etag), 34);
	assert_int_equal(got.etag[0], '"');
	free(der);
	/* The SHA-256 CertID of the same serial is another entry. */
	assert_int_equal(ocsp_cache_get(c, &b, &der, &len, &got), 0);
	/* Newer replaces; equal replaces (a status read later); older does
	 * not. */
	info.this_update = 150;
	info.status = OCSP_REVOKED;
	assert_int_equal(ocsp_cache_put(c, &a, (const uint8_t *)"two", 3,
	    &info), 0);
	info.this_update = 120;
	info.status = OCSP_GOOD;
	assert_int_equal(ocsp_cache_put(c, &a, (const uint8_t *)"old", 3,
	    &info), 0);
	assert_int_equal(ocsp_cache_get(c, &a, &der, &len, &got), 1);
	assert_memory_equal(der, "two", 3);
	assert_int_equal(got.status, OCSP_REVOKED);
	free(der);
	info.this_update = 150;
	assert_int_equal(ocsp_cache_put(c, &a, (const uint8_t *)"eq!", 3,
	    &info), 0);
	assert_int_equal(ocsp_cache_get(c, &a, &der, &len, &got), 1);
	assert_memory_equal(der, "eq!", 3);
	free(der);
	assert_int_equal(ocsp_cache_count(c), 1);
	ocsp_cache_free(c);
}

static void
test_cache_grows(void **state)
{
	struct ocsp_cache *c = ocsp_cache_new();
	struct ocsp_resp_info info = { 0 }, got;
	struct ocsp_certid id;
	uint8_t *der;
	size_t len;
	uint32_t i;

	(void)state;
	info.this_update = 1;
	for (i = 0; i < 20000; i++) {
		id = key_of(i % 2, i);
		assert_int_equal(ocsp_cache_put(c, &id, (uint8_t *)&i,
		    sizeof(i), &info), 0);
	}
	assert_int_equal(ocsp_cache_count(c), 20000);
	for (i = 0; i < 20000; i++) {
		id = key_of(i % 2, i);
		assert_int_equal(ocsp_cache_get(c, &id, &der, &len, &got), 1);
		assert_memory_equal(der, &i, sizeof(i));
		free(der);
		/* the other algorithm's key is not there */
		id = key_of(!(i % 2), i);
		assert_int_equal(ocsp_cache_get(c, &id, &der, &len, &got), 0);
	}
	ocsp_cache_free(c);
}

struct hammer {
	struct ocsp_cache *c;
	int bad;
};

static void *
reader(void *arg)
{
	struct hammer *h = arg;
	struct ocsp_resp_info got;
	struct ocsp_certid id;
	uint8_t *der;
	size_t len;
	uint32_t i;

	for (i = 0; i < 200000; i++) {
		id = key_of(0, i % 512);
		if (ocsp_cache_get(h->c, &id, &der, &len, &got) == 1) {
			/* every answer is whole: 8 equal bytes */
			if (len != 8 || memcmp(der, der + 4, 4) != 0)
				h->bad = 1;
			free(der);
		}
	}
	return NULL;
}

static void
test_cache_threads(void **state)
{
	struct hammer h = { ocsp_cache_new(), 0 };
	struct ocsp_resp_info info = { 0 };
	struct ocsp_certid id;
	pthread_t t[3];
	uint32_t i, v[2];
	int k;

	(void)state;
	for (k = 0; k < 3; k++)
		pthread_create(&t[k], NULL, reader, &h);
	for (i = 0; i < 100000; i++) {
		id = key_of(0, i % 512);
		v[0] = v[1] = i;
		info.this_update = i;
		assert_int_equal(ocsp_cache_put(h.c, &id, (uint8_t *)v, 8,
		    &info), 0);
	}
	for (k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	assert_int_equal(h.bad, 0);
	assert_int_equal(ocsp_cache_count(h.c), 512);
	ocsp_cache_free(h.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sha1),
		cmocka_unit_test(test_parse_sha256_several_nonce),
		cmocka_unit_test(test_parse_nonce_bounds),
		cmocka_unit_test(test_parse_truncated_and_trailing),
		cmocka_unit_test(test_parse_count_limit),
		cmocka_unit_test(test_parse_unsupported_hash),
		cmocka_unit_test(test_parse_extensions),
		cmocka_unit_test(test_parse_bad_serials),
		cmocka_unit_test(test_parse_empty_list),
		cmocka_unit_test(test_get_decode),
		cmocka_unit_test(test_get_roundtrip),
		cmocka_unit_test(test_cache_put_get_replace),
		cmocka_unit_test(test_cache_grows),
		cmocka_unit_test(test_cache_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
