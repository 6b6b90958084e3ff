/*
 * test_pkcs11.c: pkcs11/ against a real SoftHSM2 token.
 *
 * The token is made by softhsm2-util in a temporary directory; every
 * signature is checked by OpenSSL alone with the public key read back from
 * the token, and every failure is checked for its code and for a message
 * that names what went wrong.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

static struct th_token tt;
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;
/* One key of each type, made once by test_generate_each_type. */
static struct cairn_p11_key *keys[CAIRN_KEY_EC_P384 + 1];

static struct cairn_p11_uri *
uri_token(const char *label)
{
	struct cairn_p11_uri *u = cairn_p11_uri_new();

	assert_non_null(u);
	u->token = strdup(label);
	return u;
}

static struct cairn_p11_uri *
uri_parse(const char *s)
{
	struct cairn_p11_uri *u = NULL;

	assert_int_equal(cairn_p11_uri_parse(s, strlen(s), &u), 0);
	return u;
}

static int
setup(void **state)
{
	if (th_token_create(&tt, "cairn-test") != 0 ||
	    th_token_add(&tt, "second") != 0)
		return -1;
	return th_open(th_module(), "cairn-test", &p11, &tok);
}

static int
teardown(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cairn_p11_key_free(keys[i]);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	return 0;
}

static struct cairn_p11_key *
need_key(enum cairn_key_type t)
{
	struct cairn_p11_keygen kg = { t, NULL, 0 };
	char label[32];

	if (keys[t] == NULL) {
		snprintf(label, sizeof(label), "key-%s", cairn_key_type_name(t));
		kg.label = label;
		assert_int_equal(cairn_p11_key_generate(tok, &kg, &keys[t]), 0);
	}
	return keys[t];
}

/* ---- generation --------------------------------------------------- */

static void
test_generate_each_type(void **state)
{
	static const struct {
		enum cairn_key_type t;
		int base_id, bits;
	} want[] = {
		{ CAIRN_KEY_RSA_3072, EVP_PKEY_RSA, 3072 },
		{ CAIRN_KEY_RSA_4096, EVP_PKEY_RSA, 4096 },
		{ CAIRN_KEY_EC_P256, EVP_PKEY_EC, 256 },
		{ CAIRN_KEY_EC_P384, EVP_PKEY_EC, 384 },
	};
	struct cairn_p11_key_attrs at;
	struct cairn_p11_key *again;
	struct cairn_p11_uri *u;
	uint8_t fp1[32], fp2[32];
	char *s;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct cairn_p11_key *k = need_key(want[i].t);
		EVP_PKEY *pub = cairn_p11_key_get0_public(k);

		assert_int_equal(cairn_p11_key_type(k), want[i].t);
		assert_int_equal(EVP_PKEY_get_base_id(pub), want[i].base_id);
		assert_int_equal(EVP_PKEY_get_bits(pub), want[i].bits);
		assert_int_equal(cairn_p11_key_get_attrs(k, &at), 0);
		assert_int_equal(at.sensitive, 1);
		assert_int_equal(at.extractable, 0);
		assert_int_equal(at.always_sensitive, 1);
		assert_int_equal(at.never_extractable, 1);
		assert_int_equal(at.local, 1);
		assert_int_equal(at.token, 1);
		assert_int_equal(at.private_, 1);
		assert_int_equal(at.sign, 1);
		assert_int_equal(at.decrypt, 0);
		/* The printed URI finds the same key again. */
		assert_non_null(s = cairn_p11_key_uri(k));
		assert_non_null(strstr(s, "type=private"));
		assert_non_null(strstr(s, "token=cairn-test"));
		u = uri_parse(s);
		assert_int_equal(u->id_len, CAIRN_P11_NEW_ID_LEN);
		assert_int_equal(cairn_p11_key_find(tok, u, &again), 0);
		assert_int_equal(cairn_spki_sha256(pub, fp1), 0);
		assert_int_equal(cairn_spki_sha256(
		    cairn_p11_key_get0_public(again), fp2), 0);
		assert_memory_equal(fp1, fp2, 32);
		cairn_p11_key_free(again);
		cairn_p11_uri_free(u);
		free(s);
	}
}

/* Asked directly, the token refuses the private value of every key. */
static void
test_private_value_unreadable(void **state)
{
	CK_FUNCTION_LIST *f = cairn_p11_functions(p11);
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ATTRIBUTE_TYPE secret[] = { CKA_VALUE, CKA_PRIVATE_EXPONENT,
		CKA_PRIME_1 };
	CK_OBJECT_HANDLE h[16];
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0, i, j;
	CK_KEY_TYPE kt;
	uint8_t buf[1024];

	need_key(CAIRN_KEY_EC_P256);
	need_key(CAIRN_KEY_RSA_3072);
	assert_int_equal(f->C_OpenSession(cairn_p11_token_slot(tok),
	    CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_FindObjectsInit(s, tmpl, 1), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, h, 16, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		CK_ATTRIBUTE t = { CKA_KEY_TYPE, &kt, sizeof(kt) };

		assert_int_equal(f->C_GetAttributeValue(s, h[i], &t, 1), CKR_OK);
		for (j = 0; j < 3; j++) {
			CK_ATTRIBUTE a = { secret[j], buf, sizeof(buf) };

			if (kt == CKK_EC && secret[j] != CKA_VALUE)
				continue;
			if (kt == CKK_RSA && secret[j] == CKA_VALUE)
				continue;
			assert_int_equal(f->C_GetAttributeValue(s, h[i], &a, 1),
			    CKR_ATTRIBUTE_SENSITIVE);
		}
	}
	f->C_CloseSession(s);
}

static void
test_generate_label_taken(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P256, "key-ec-p256", 0 };
	struct cairn_p11_key *k = NULL;
	int r;

	need_key(CAIRN_KEY_EC_P256);
	r = cairn_p11_key_generate(tok, &kg, &k);
	assert_int_equal(r, CAIRN_E_P11_KEY_EXISTS);
	assert_null(k);
	assert_non_null(strstr(cairn_errmsg(r), "key-ec-p256"));
}

static void
test_generate_bad_args(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P256, "", 0 };
	struct cairn_p11_key *k = NULL;
	enum cairn_key_type t;
	char longlabel[CAIRN_P11_OBJLABEL_MAX + 2];

	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), CAIRN_E_INVAL);
	memset(longlabel, 'a', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';
	kg.label = longlabel;
	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), CAIRN_E_INVAL);
	kg.label = "ec-decrypt";
	kg.allow_decrypt = 1;
	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), CAIRN_E_INVAL);
	assert_null(k);
	assert_int_equal(cairn_key_type_parse("ec-p384", &t), 0);
	assert_int_equal(t, CAIRN_KEY_EC_P384);
	assert_int_equal(cairn_key_type_parse("rsa-2048", &t), CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "rsa-3072"));
}

/* ---- signing through OpenSSL --------------------------------------- */

static void
sign_and_verify(enum cairn_key_type t, const EVP_MD *md, int pss)
{
	struct cairn_p11_key *k = need_key(t);
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t msg[100], sig[1024];
	size_t siglen = sizeof(sig);

	assert_non_null(pk);
	assert_non_null(ctx);
	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, pk), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)),
	    1);
	/* Checked by OpenSSL alone with the public key from the token. */
	assert_true(th_verify(cairn_p11_key_get0_public(k), md, pss, msg,
	    sizeof(msg), sig, siglen));
	/* And a flipped bit is caught: the check is not vacuous. */
	sig[siglen / 2] ^= 0x01;
	assert_false(th_verify(cairn_p11_key_get0_public(k), md, pss, msg,
	    sizeof(msg), sig, siglen));
	/* PSS and ECDSA are randomized, PKCS#1 v1.5 is deterministic: either
	 * way the token, not a software key, made it (a software key would
	 * need the private value, which the EVP_PKEY does not hold). */
	assert_int_equal(EVP_PKEY_get_bn_param(pk, "d", &(BIGNUM *){ NULL }),
	    0);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

static void
test_sign_rsa_pkcs1(void **state)
{
	sign_and_verify(CAIRN_KEY_RSA_3072, EVP_sha256(), 0);
	sign_and_verify(CAIRN_KEY_RSA_4096, EVP_sha512(), 0);
}

static void
test_sign_rsa_pss(void **state)
{
	sign_and_verify(CAIRN_KEY_RSA_3072, EVP_sha256(), 1);
	sign_and_verify(CAIRN_KEY_RSA_4096, EVP_sha384(), 1);
}

static void
test_sign_ecdsa(void **state)
{
	sign_and_verify(CAIRN_KEY_EC_P256, EVP_sha256(), 0);
	sign_and_verify(CAIRN_KEY_EC_P384, EVP_sha384(), 0);
	sign_and_verify(CAIRN_KEY_EC_P384, EVP_sha512(), 0);
}

/* A self-signed certificate whose key is the token key. */
static X509 *
make_cert(struct cairn_p11_key *k, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 42), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, cairn_p11_key_get0_public(k)), 1);
	X509_NAME_free(n);
	return x;
}

static void
test_x509_sign(void **state)
{
	enum cairn_key_type types[] = { CAIRN_KEY_EC_P384, CAIRN_KEY_EC_P256,
		CAIRN_KEY_RSA_3072 };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct cairn_p11_key *k = need_key(types[i]);
		EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
		X509 *x = make_cert(k, "Cairn test");

		assert_true(X509_sign(x, pk, types[i] == CAIRN_KEY_EC_P384 ?
			EVP_sha384() : EVP_sha256()) > 0);
		assert_int_equal(X509_verify(x, cairn_p11_key_get0_public(k)), 1);
		X509_free(x);
		EVP_PKEY_free(pk);
	}
}

static void
test_x509_sign_pss(void **state)
{
	struct cairn_p11_key *k = need_key(CAIRN_KEY_RSA_3072);
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	X509 *x = make_cert(k, "Cairn PSS");

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL,
	    pk), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING), 1);
	assert_true(X509_sign_ctx(x, ctx) > 0);
	assert_int_equal(X509_get_signature_nid(x), NID_rsassaPss);
	assert_int_equal(X509_verify(x, cairn_p11_key_get0_public(k)), 1);
	X509_free(x);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

static void
test_crl_sign(void **state)
{
	struct cairn_p11_key *k = need_key(CAIRN_KEY_EC_P384);
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	X509 *ca = make_cert(k, "Cairn CRL issuer");
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();

	assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(ca)), 1);
	assert_non_null(X509_gmtime_adj(t, 0));
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	assert_int_equal(ASN1_INTEGER_set(serial, 7), 1);
	assert_int_equal(X509_REVOKED_set_serialNumber(rev, serial), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(rev, t), 1);
	assert_int_equal(X509_CRL_add0_revoked(crl, rev), 1);
	assert_true(X509_CRL_sign(crl, pk, EVP_sha384()) > 0);
	assert_int_equal(X509_CRL_verify(crl, cairn_p11_key_get0_public(k)),
	    1);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(pk);
}

static void
test_ocsp_sign(void **state)
{
	struct cairn_p11_key *k = need_key(CAIRN_KEY_EC_P256);
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	X509 *signer = make_cert(k, "Cairn OCSP");
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id;
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
	ASN1_TIME *next = X509_gmtime_adj(NULL, 3600);

	assert_true(X509_sign(signer, pk, EVP_sha256()) > 0);
	id = OCSP_cert_to_id(NULL, signer, signer);
	assert_non_null(id);
	/* add1: the times are copied, ours are freed below. */
	assert_non_null(OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD,
	    0, NULL, now, next));
	assert_int_equal(OCSP_basic_sign(bs, signer, pk, EVP_sha256(), NULL,
	    0), 1);
	assert_int_equal(sk_X509_push(certs, signer), 1);
	/* OCSP_NOVERIFY: no chain to build here; the signature itself is
	 * still checked with the signer's public key. */
	assert_int_equal(OCSP_basic_verify(bs, certs, store,
	    OCSP_NOVERIFY | OCSP_TRUSTOTHER), 1);
	sk_X509_free(certs);
	X509_STORE_free(store);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	X509_free(signer);
	EVP_PKEY_free(pk);
}

static void
test_decrypt(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_RSA_3072, "ra-decrypt", 1 };
	struct cairn_p11_key *k = NULL, *signonly = need_key(CAIRN_KEY_RSA_3072);
	EVP_PKEY *pk, *pk2;
	EVP_PKEY_CTX *ctx;
	uint8_t secret[32], ct[512], pt[512];
	size_t ctlen = sizeof(ct), ptlen = sizeof(pt);

	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
	ctx = EVP_PKEY_CTX_new(cairn_p11_key_get0_public(k), NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING),
	    1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ctlen, secret,
	    sizeof(secret)), 1);
	EVP_PKEY_CTX_free(ctx);

	assert_non_null(pk = cairn_p11_key_get1_pkey(k));
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING),
	    1);
	assert_int_equal(EVP_PKEY_decrypt(ctx, pt, &ptlen, ct, ctlen), 1);
	assert_int_equal(ptlen, sizeof(secret));
	assert_memory_equal(pt, secret, sizeof(secret));
	EVP_PKEY_CTX_free(ctx);

	/* A signing-only key refuses: the token enforces CKA_DECRYPT. */
	assert_non_null(pk2 = cairn_p11_key_get1_pkey(signonly));
	ctx = EVP_PKEY_CTX_new(pk2, NULL);
	ptlen = sizeof(pt);
	assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING),
	    1);
	assert_true(EVP_PKEY_decrypt(ctx, pt, &ptlen, ct, ctlen) <= 0);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();

	EVP_PKEY_free(pk2);
	EVP_PKEY_free(pk);
	assert_int_equal(cairn_p11_key_destroy(k), 0);
	cairn_p11_key_free(k);
}

/* The EVP_PKEY keeps its key, token and module alive by itself. */
static void
test_pkey_outlives_handles(void **state)
{
	struct cairn_p11 *m = NULL;
	struct cairn_p11_token *t = NULL;
	struct cairn_p11_key *k = NULL;
	struct cairn_p11_uri *u;
	EVP_PKEY *pk, *pub;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[128];
	size_t siglen = sizeof(sig);
	char *s;

	need_key(CAIRN_KEY_EC_P256);
	assert_non_null(s = cairn_p11_key_uri(keys[CAIRN_KEY_EC_P256]));
	u = uri_parse(s);
	assert_int_equal(cairn_p11_load(th_module(), &m), 0);
	assert_int_equal(cairn_p11_token_open(m, u, &t), 0);
	assert_int_equal(cairn_p11_key_find(t, u, &k), 0);
	pk = cairn_p11_key_get1_pkey(k);
	pub = cairn_p11_key_get0_public(k);
	assert_int_equal(EVP_PKEY_up_ref(pub), 1);
	cairn_p11_key_free(k);
	cairn_p11_token_free(t);
	cairn_p11_free(m);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk),
	    1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (const uint8_t *)"x", 1), 1);
	assert_true(th_verify(pub, EVP_sha256(), 0, (const uint8_t *)"x", 1,
	    sig, siglen));
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(pub);
	cairn_p11_uri_free(u);
	free(s);
}

/* ---- finding keys -------------------------------------------------- */

static void
test_find_by_label_and_by_id(void **state)
{
	struct cairn_p11_key *k = need_key(CAIRN_KEY_EC_P384), *f = NULL;
	struct cairn_p11_uri *u;
	char *s, *p;

	u = uri_parse("pkcs11:object=key-ec-p384");
	assert_int_equal(cairn_p11_key_find(tok, u, &f), 0);
	assert_string_equal(cairn_p11_key_label(f), "key-ec-p384");
	cairn_p11_key_free(f);
	cairn_p11_uri_free(u);

	/* id only: cut "object=...;" out of the key's own URI. */
	s = cairn_p11_key_uri(k);
	p = strstr(s, "id=");
	assert_non_null(p);
	memmove(s + 7, p, strlen(p) + 1);
	u = uri_parse(s);
	assert_null(u->object);
	assert_int_equal(cairn_p11_key_find(tok, u, &f), 0);
	assert_string_equal(cairn_p11_key_label(f), "key-ec-p384");
	cairn_p11_key_free(f);
	cairn_p11_uri_free(u);
	free(s);
}

static void
test_find_missing_key(void **state)
{
	struct cairn_p11_key *f = NULL;
	struct cairn_p11_uri *u;
	int r;

	need_key(CAIRN_KEY_EC_P256);
	u = uri_parse("pkcs11:object=no-such-key;type=private");
	r = cairn_p11_key_find(tok, u, &f);
	assert_int_equal(r, CAIRN_E_P11_KEY_NOT_FOUND);
	assert_null(f);
	/* The message names the URI and lists the keys that exist. */
	assert_non_null(strstr(cairn_errmsg(r), "no-such-key"));
	assert_non_null(strstr(cairn_errmsg(r), "key-ec-p256"));
	cairn_p11_uri_free(u);
}

static void
test_find_refuses_bad_uris(void **state)
{
	struct cairn_p11_key *f = NULL;
	struct cairn_p11_uri *u;
	int r;

	u = uri_parse("pkcs11:object=key-ec-p256;type=cert");
	assert_int_equal(cairn_p11_key_find(tok, u, &f), CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "type=cert"));
	cairn_p11_uri_free(u);

	u = uri_parse("pkcs11:token=cairn-test");
	assert_int_equal(cairn_p11_key_find(tok, u, &f), CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "object="));
	cairn_p11_uri_free(u);

	u = uri_parse("pkcs11:object=key-ec-p256;x-vendor=1");
	r = cairn_p11_key_find(tok, u, &f);
	assert_int_equal(r, CAIRN_E_P11_KEY_NOT_FOUND);
	assert_non_null(strstr(cairn_errmsg(r), "x-vendor"));
	assert_null(f);
	cairn_p11_uri_free(u);
}

/* A key whose value could leave the token is refused for signing. */
static void
test_extractable_key_refused(void **state)
{
	CK_FUNCTION_LIST *f = cairn_p11_functions(p11);
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x03, 0x01, 0x07 };
	const char *label = "weak-extractable";
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, "\x77", 1 },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &no, sizeof(no) },
		{ CKA_EXTRACTABLE, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, "\x77", 1 },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_SESSION_HANDLE s;
	struct cairn_p11_key *k = NULL;
	struct cairn_p11_uri *u;
	int r;

	/* Made with the bare function list: Cairn itself cannot make one. */
	assert_int_equal(f->C_OpenSession(cairn_p11_token_slot(tok),
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_GenerateKeyPair(s, &mech, pub, 4, priv, 7, &hpub,
	    &hpriv), CKR_OK);
	u = uri_parse("pkcs11:object=weak-extractable");
	r = cairn_p11_key_find(tok, u, &k);
	assert_int_equal(r, CAIRN_E_P11_KEY_POLICY);
	assert_null(k);
	assert_non_null(strstr(cairn_errmsg(r), "CKA_EXTRACTABLE=1"));
	f->C_DestroyObject(s, hpriv);
	f->C_DestroyObject(s, hpub);
	f->C_CloseSession(s);
	cairn_p11_uri_free(u);
}

static void
test_key_list(void **state)
{
	struct cairn_p11_key_info *ki = NULL;
	size_t n = 0, i;
	int seen = 0;

	need_key(CAIRN_KEY_EC_P256);
	need_key(CAIRN_KEY_RSA_3072);
	assert_int_equal(cairn_p11_key_list(tok, &ki, &n), 0);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		if (strcmp(ki[i].label, "key-ec-p256") == 0 ||
		    strcmp(ki[i].label, "key-rsa-3072") == 0) {
			seen++;
			assert_int_equal(ki[i].attrs.sensitive, 1);
			assert_int_equal(ki[i].attrs.never_extractable, 1);
			assert_int_equal(strlen(ki[i].fingerprint), 95);
			assert_non_null(strstr(ki[i].uri, ki[i].label));
			assert_int_equal(ki[i].id_len, CAIRN_P11_NEW_ID_LEN);
		}
	}
	assert_int_equal(seen, 2);
	cairn_p11_key_info_free(ki, n);
}

/* ---- tokens, PINs, modules ------------------------------------------ */

static void
test_wrong_pin(void **state)
{
	struct cairn_p11_uri *u = uri_token("second");
	struct cairn_p11_token *t = NULL;
	int r;

	assert_int_equal(cairn_p11_token_open(p11, u, &t), 0);
	r = cairn_p11_token_login(t, "0000");
	assert_int_equal(r, CAIRN_E_P11_PIN_INCORRECT);
	assert_non_null(strstr(cairn_errmsg(r), "CKR_PIN_INCORRECT"));
	assert_non_null(strstr(cairn_errmsg(r), "\"second\""));
	/* What the token says about tries left is part of the message. */
	assert_non_null(strstr(cairn_errmsg(r), "the token reports"));
	r = cairn_p11_token_login(t, "");
	assert_true(r == CAIRN_E_P11_PIN_INCORRECT);
	assert_int_equal(cairn_p11_token_login(t, TH_PIN), 0);
	cairn_p11_token_free(t);
	cairn_p11_uri_free(u);
}

static void
test_missing_token(void **state)
{
	struct cairn_p11_uri *u = uri_token("no-such-token");
	struct cairn_p11_token *t = NULL;
	int r;

	r = cairn_p11_token_open(p11, u, &t);
	assert_int_equal(r, CAIRN_E_P11_TOKEN_NOT_FOUND);
	assert_null(t);
	/* The message lists the tokens that do exist. */
	assert_non_null(strstr(cairn_errmsg(r), "no-such-token"));
	assert_non_null(strstr(cairn_errmsg(r), "\"cairn-test\""));
	assert_non_null(strstr(cairn_errmsg(r), "\"second\""));
	cairn_p11_uri_free(u);

	/* An empty selection is ambiguous with two initialized tokens. */
	u = cairn_p11_uri_new();
	r = cairn_p11_token_open(p11, u, &t);
	assert_int_equal(r, CAIRN_E_P11_TOKEN_AMBIGUOUS);
	assert_non_null(strstr(cairn_errmsg(r), "serial"));
	cairn_p11_uri_free(u);

	/* By serial, it is not. */
	u = uri_parse("pkcs11:token=second;model=SoftHSM%20v2");
	assert_int_equal(cairn_p11_token_open(p11, u, &t), 0);
	assert_string_equal(cairn_p11_token_label(t), "second");
	cairn_p11_token_free(t);
	cairn_p11_uri_free(u);
}

static void
test_module_errors(void **state)
{
	struct cairn_p11 *m = NULL;
	Dl_info info;
	int r;

	r = cairn_p11_load("/nonexistent/libnothing.so", &m);
	assert_int_equal(r, CAIRN_E_P11_MODULE);
	assert_null(m);
	assert_non_null(strstr(cairn_errmsg(r), "/nonexistent/libnothing.so"));
	assert_non_null(strstr(cairn_errmsg(r), "No such file"));

	/* A file that is no shared object: dlerror() is in the message. */
	r = cairn_p11_load("/etc/hostname", &m);
	assert_int_equal(r, CAIRN_E_P11_MODULE);
	assert_non_null(strstr(cairn_errmsg(r), "/etc/hostname"));

	/* A shared object without C_GetFunctionList: libcrypto itself. */
	assert_int_not_equal(dladdr((void *)EVP_sha256, &info), 0);
	r = cairn_p11_load(info.dli_fname, &m);
	assert_int_equal(r, CAIRN_E_P11_MODULE);
	assert_non_null(strstr(cairn_errmsg(r), "not a PKCS#11 module"));
}

static void
test_token_init(void **state)
{
	struct cairn_p11_slot_info si;
	struct cairn_p11_uri *u;
	struct cairn_p11_token *t = NULL;
	int r;

	assert_int_equal(cairn_p11_token_init(p11, 0, 0, "made-by-cairn",
	    "so-secret", "user-secret", &si), 0);
	assert_string_equal(si.label, "made-by-cairn");
	assert_true(si.token_initialized && si.user_pin_initialized);
	assert_int_equal(strlen(si.serial), 16);
	u = uri_token("made-by-cairn");
	assert_int_equal(cairn_p11_token_open(p11, u, &t), 0);
	assert_int_equal(cairn_p11_token_login(t, "wrong-pin"),
	    CAIRN_E_P11_PIN_INCORRECT);
	assert_int_equal(cairn_p11_token_login(t, "user-secret"), 0);
	cairn_p11_token_free(t);
	cairn_p11_uri_free(u);

	/* The label is taken now: a second init is refused, nothing erased. */
	r = cairn_p11_token_init(p11, 0, 0, "made-by-cairn", "so-secret",
	    "user-secret", &si);
	assert_int_equal(r, CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(r), "exists already"));
	/* Initialized tokens are never re-initialized, even by slot. */
	r = cairn_p11_token_init(p11, 1, cairn_p11_token_slot(tok), "another",
	    "so-secret", "user-secret", &si);
	assert_int_equal(r, CAIRN_E_P11_TOKEN_STATE);
	assert_non_null(strstr(cairn_errmsg(r), "refusing to erase"));
}

/* A forked child re-initializes the module and signs with the key it
 * inherited (PKCS#11: a child must call C_Initialize again). */
static void
test_fork_child_signs(void **state)
{
	struct cairn_p11_key *k = need_key(CAIRN_KEY_EC_P256);
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	int status = -1;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t sig[128];
		size_t siglen = sizeof(sig);

		alarm(30);
		if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)"fork",
			4) != 1)
			_exit(2);
		_exit(th_verify(cairn_p11_key_get0_public(k), EVP_sha256(), 0,
		    (const uint8_t *)"fork", 4, sig, siglen) ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent still signs too. */
	sign_and_verify(CAIRN_KEY_EC_P256, EVP_sha256(), 0);
	EVP_PKEY_free(pk);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_pin_sources(void **state)
{
	struct cairn_pin_opts po = { NULL, "CAIRN_TEST_PIN", NULL };
	char path[PATH_MAX + 32], src[PATH_MAX + 48], *pin = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/pin", tt.dir);
	write_file(path, "1234\n", 0600);
	po.pin_file = path;
	assert_int_equal(cairn_pin_get(&po, NULL, &pin), 0);
	assert_string_equal(pin, "1234");   /* newline dropped */
	cairn_free_secret(pin, 0);

	write_file(path, "12 34\r\n", 0600);
	assert_int_equal(cairn_pin_get(&po, NULL, &pin), 0);
	assert_string_equal(pin, "12 34");
	cairn_free_secret(pin, 0);

	write_file(path, "\n", 0600);
	r = cairn_pin_get(&po, NULL, &pin);
	assert_int_equal(r, CAIRN_E_P11_NO_PIN);
	assert_non_null(strstr(cairn_errmsg(r), "empty"));

	write_file(path, "1234", 0644);
	r = cairn_pin_get(&po, NULL, &pin);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "chmod 600"));
	assert_null(pin);

	/* URI pin-source when no file is given. */
	write_file(path, "5555", 0600);
	po.pin_file = NULL;
	snprintf(src, sizeof(src), "file:%s", path);
	assert_int_equal(cairn_pin_get(&po, src, &pin), 0);
	assert_string_equal(pin, "5555");
	cairn_free_secret(pin, 0);
	snprintf(src, sizeof(src), "file://%s", path);
	assert_int_equal(cairn_pin_get(&po, src, &pin), 0);
	cairn_free_secret(pin, 0);
	r = cairn_pin_get(&po, "|/bin/echo 1234", &pin);
	assert_int_equal(r, CAIRN_E_URI_UNSUPPORTED);
	r = cairn_pin_get(&po, "file:relative/pin", &pin);
	assert_int_equal(r, CAIRN_E_URI_UNSUPPORTED);

	/* The environment, then nothing at all (no terminal in tests). */
	setenv("CAIRN_TEST_PIN", "7777", 1);
	assert_int_equal(cairn_pin_get(&po, NULL, &pin), 0);
	assert_string_equal(pin, "7777");
	cairn_free_secret(pin, 0);
	unsetenv("CAIRN_TEST_PIN");
	po.prompt = "PIN: ";
	r = cairn_pin_get(&po, NULL, &pin);
	assert_int_equal(r, CAIRN_E_P11_NO_PIN);
	assert_non_null(strstr(cairn_errmsg(r), "--pin-file"));
	assert_non_null(strstr(cairn_errmsg(r), "CAIRN_TEST_PIN"));

	/* A symbolic link is not followed. */
	snprintf(src, sizeof(src), "%s/pin-link", tt.dir);
	assert_int_equal(symlink(path, src), 0);
	po.pin_file = src;
	r = cairn_pin_get(&po, NULL, &pin);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "symbolic links"));
}


/* ---- backup: wrapped under a trusted key, restored elsewhere ------- */

static int
count_objects(struct cairn_p11_token *t)
{
	CK_FUNCTION_LIST *f = cairn_p11_functions(p11);
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0;

	assert_int_equal(f->C_OpenSession(cairn_p11_token_slot(t),
	    CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	assert_int_equal(f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, h, 64, &n), CKR_OK);
	f->C_FindObjectsFinal(s);
	f->C_CloseSession(s);
	return (int)n;
}

static void
test_backup_wrap_and_restore(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P384, "backed-up", 0, 1 };
	struct cairn_p11_key *k = NULL, *restored = NULL;
	struct cairn_p11_key_attrs at;
	struct cairn_p11_token *t2 = NULL;
	struct cairn_p11_uri *u;
	uint8_t kek[32], bad[32], *blob = NULL, *blob2 = NULL;
	size_t bloblen = 0, bloblen2 = 0, idlen;
	const uint8_t *id;
	EVP_PKEY *pk;
	X509 *x;
	int r, before;

	assert_int_equal(RAND_bytes(kek, sizeof(kek)), 1);
	memcpy(bad, kek, sizeof(bad));
	bad[0] ^= 1;
	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	assert_int_equal(cairn_p11_key_get_attrs(k, &at), 0);
	assert_int_equal(at.sensitive, 1);
	assert_int_equal(at.extractable, 1);
	assert_int_equal(at.wrap_with_trusted, 1);

	/* A wrong SO PIN: refused, and the user is still logged in. */
	r = cairn_p11_key_wrap_trusted(k, kek, sizeof(kek), "0000", &blob,
	    &bloblen);
	assert_int_equal(r, CAIRN_E_P11_PIN_INCORRECT);
	assert_non_null(strstr(cairn_errmsg(r), "security officer"));
	assert_null(blob);
	sign_and_verify(CAIRN_KEY_EC_P256, EVP_sha256(), 0);

	/* A key made without backup cannot be wrapped at all. */
	r = cairn_p11_key_wrap_trusted(need_key(CAIRN_KEY_EC_P256), kek,
	    sizeof(kek), TH_SO_PIN, &blob, &bloblen);
	assert_int_equal(r, CAIRN_E_P11_KEY_POLICY);
	assert_non_null(strstr(cairn_errmsg(r), "without backup"));

	/* The backup key wraps; afterwards every key still signs. */
	assert_int_equal(cairn_p11_key_wrap_trusted(k, kek, sizeof(kek),
	    TH_SO_PIN, &blob, &bloblen), 0);
	assert_true(bloblen > 64);
	sign_and_verify(CAIRN_KEY_EC_P256, EVP_sha256(), 0);
	pk = cairn_p11_key_get1_pkey(k);
	x = make_cert(k, "backed up");
	assert_true(X509_sign(x, pk, EVP_sha384()) > 0);
	EVP_PKEY_free(pk);

	/* Restore into the second token, with the same id and label. */
	u = uri_token("second");
	assert_int_equal(cairn_p11_token_open(p11, u, &t2), 0);
	assert_int_equal(cairn_p11_token_login(t2, TH_PIN), 0);
	id = cairn_p11_key_id(k, &idlen);
	before = count_objects(t2);
	r = cairn_p11_key_unwrap(t2, bad, sizeof(bad), blob, bloblen,
	    "backed-up", id, idlen, cairn_p11_key_get0_public(k), &restored);
	assert_int_not_equal(r, 0);
	assert_null(restored);
	assert_int_equal(count_objects(t2), before);
	assert_int_equal(cairn_p11_key_unwrap(t2, kek, sizeof(kek), blob,
	    bloblen, "backed-up", id, idlen, cairn_p11_key_get0_public(k),
	    &restored), 0);
	assert_int_equal(count_objects(t2), before + 2);
	/* The restored key signs what the original certificate verifies. */
	pk = cairn_p11_key_get1_pkey(restored);
	assert_int_equal(X509_sign(x, pk, EVP_sha384()) > 0, 1);
	assert_int_equal(X509_verify(x, cairn_p11_key_get0_public(k)), 1);
	assert_int_equal(cairn_p11_key_get_attrs(restored, &at), 0);
	assert_int_equal(at.sensitive, 1);
	assert_int_equal(at.wrap_with_trusted, 1);
	/* ... and can itself be backed up again (second token's SO PIN). */
	assert_int_equal(cairn_p11_key_wrap_trusted(restored, kek, sizeof(kek),
	    TH_SO_PIN, &blob2, &bloblen2), 0);

	free(blob);
	free(blob2);
	EVP_PKEY_free(pk);
	X509_free(x);
	assert_int_equal(cairn_p11_key_destroy(restored), 0);
	cairn_p11_key_free(restored);
	cairn_p11_token_free(t2);
	cairn_p11_uri_free(u);
	assert_int_equal(cairn_p11_key_destroy(k), 0);
	cairn_p11_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_each_type),
		cmocka_unit_test(test_private_value_unreadable),
		cmocka_unit_test(test_generate_label_taken),
		cmocka_unit_test(test_generate_bad_args),
		cmocka_unit_test(test_sign_rsa_pkcs1),
		cmocka_unit_test(test_sign_rsa_pss),
		cmocka_unit_test(test_sign_ecdsa),
		cmocka_unit_test(test_x509_sign),
		cmocka_unit_test(test_x509_sign_pss),
		cmocka_unit_test(test_crl_sign),
		cmocka_unit_test(test_ocsp_sign),
		cmocka_unit_test(test_decrypt),
		cmocka_unit_test(test_pkey_outlives_handles),
		cmocka_unit_test(test_find_by_label_and_by_id),
		cmocka_unit_test(test_find_missing_key),
		cmocka_unit_test(test_find_refuses_bad_uris),
		cmocka_unit_test(test_extractable_key_refused),
		cmocka_unit_test(test_key_list),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_missing_token),
		cmocka_unit_test(test_module_errors),
		cmocka_unit_test(test_token_init),
		cmocka_unit_test(test_fork_child_signs),
		cmocka_unit_test(test_pin_sources),
		cmocka_unit_test(test_backup_wrap_and_restore),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
