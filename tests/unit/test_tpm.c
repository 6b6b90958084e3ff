/*
 * test_tpm.c: TPM key attestation's parts (sub-ca/tpm_parse.c,
 * sub-ca/tpm_cred.c, the attestation rules of sub-ca/template.c).
 *
 * Known answers come from a real TPM: tests/fuzz/corpus/tpm/ holds what
 * swtpm 0.7 (libtpms) and tpm2-tools 5.4 wrote (tpm2_createek,
 * tpm2_createak with the names tpm2-tools computed, tpm2_create, and a
 * TPM2_Certify over nonce.bin sent with tpm2_send); the parser must read
 * them, compute the same names, and verify the TPM's signatures.
 * MakeCredential is checked by undoing it in software here with the EK's
 * private key, the way ActivateCredential does (TPM 2.0 Part 1 24); the
 * integration test (tests/integration/tpm.sh) has swtpm and
 * tpm2_activatecredential undo it too.
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

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "sub-ca/template.h"
#include "sub-ca/tpm.h"
#include "sub-ca/tpm_parse.h"

/* A file of the corpus; *len its size. */
static uint8_t *
corpus(const char *name, size_t *len)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char path[1024], *buf = NULL;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/tpm/%s",
	    src != NULL ? src : ".", name);
	if (cairn_read_file(path, 1 << 20, &buf, len) != 0)
		fail_msg("%s: %s", path, cairn_errmsg(CAIRN_E_IO));
	return (uint8_t *)buf;
}

static void
assert_err(int r, int want, const char *pat)
{
	if (r != want)
		fail_msg("want %s, have %s (%s)", cairn_errname(want),
		    cairn_errname(r), cairn_errmsg(r));
	if (strstr(cairn_errmsg(r), pat) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cairn_errmsg(r), pat);
}

/* ---- the parser on real blobs -------------------------------------------- */

static void
test_public_real(void **state)
{
	static const char *const names[][2] = {
		{ "ak-rsa.pub", "ak-rsa.name" }, { "ak-ecc.pub", "ak-ecc.name" },
		{ "key-ecc.pub", "key-ecc.name" } };
	struct tpm_public p;
	uint8_t *b, *n;
	size_t len, nlen, i;
	EVP_PKEY *k = NULL;

	(void)state;
	for (i = 0; i < 3; i++) {
		b = corpus(names[i][0], &len);
		n = corpus(names[i][1], &nlen);
		assert_int_equal(tpm_public_parse("p", b, len, &p), 0);
		/* the name tpm2-tools computed */
		assert_int_equal(p.name_len, nlen);
		assert_memory_equal(p.name, n, nlen);
		/* the bare TPMT_PUBLIC reads the same, with the same name */
		assert_int_equal(tpm_public_parse("p", b + 2, len - 2, &p), 0);
		assert_memory_equal(p.name, n, nlen);
		assert_int_equal(tpm_public_pkey(&p.pub, &k), 0);
		EVP_PKEY_free(k);
		k = NULL;
		free(b);
		free(n);
	}
	b = corpus("ek-rsa.pub", &len);
	assert_int_equal(tpm_public_parse("ek_pub", b, len, &p), 0);
	assert_int_equal(p.pub.type, TPM2_ALG_RSA);
	assert_int_equal(p.pub.parameters.rsaDetail.keyBits, 2048);
	assert_int_equal(tpm_public_pkey(&p.pub, &k), 0);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	EVP_PKEY_free(k);
	free(b);
}

static void
test_public_malformed(void **state)
{
	struct tpm_public p;
	uint8_t *b, *big;
	size_t len;

	(void)state;
	b = corpus("ak-ecc.pub", &len);
	assert_err(tpm_public_parse("ak_pub", b, 0, &p), CAIRN_E_INVAL,
	    "ak_pub: empty");
	/* truncated by one byte: the size field no longer fits, and the
	 * bare reading runs out */
	assert_err(tpm_public_parse("ak_pub", b, len - 1, &p), CAIRN_E_INVAL,
	    "not a TPM2B_PUBLIC or TPMT_PUBLIC");
	/* every shorter prefix is refused too, never read past */
	for (size_t n = 1; n < len; n++)
		assert_int_equal(tpm_public_parse("x", b, n, &p),
		    CAIRN_E_INVAL);
	/* one byte more: neither TPM2B (size disagrees) nor bare */
	big = malloc(CAIRN_TPM_BLOB_MAX + 1);
	memcpy(big, b + 2, len - 2);
	big[len - 2] = 0;
	assert_err(tpm_public_parse("ak_pub", big, len - 1, &p),
	    CAIRN_E_INVAL, "1 bytes after the TPMT_PUBLIC");
	memset(big, 0, CAIRN_TPM_BLOB_MAX + 1);
	assert_err(tpm_public_parse("ak_pub", big, CAIRN_TPM_BLOB_MAX + 1, &p),
	    CAIRN_E_INVAL, "more than the 4096");
	/* SHA-1 names are refused: change nameAlg (bytes 4-5 after the size) */
	memcpy(big, b, len);
	big[4] = 0x00;
	big[5] = 0x04;
	assert_err(tpm_public_parse("ak_pub", big, len, &p), CAIRN_E_INVAL,
	    "nameAlg sha1 is not one of");
	assert_int_equal(p.name_len, 0); /* cleared on failure */
	free(big);
	free(b);
}

static void
test_attest_real(void **state)
{
	static const char *const k[][3] = { { "attest-rsa.bin", "sig-rsa.bin",
		"ak-rsa.pub" }, { "attest-ecc.bin", "sig-ecc.bin",
		"ak-ecc.pub" } };
	struct tpm_public ak, key;
	struct tpm_attest at;
	TPMT_SIGNATURE sig;
	EVP_PKEY *akk = NULL;
	uint8_t *a, *s, *p, *nonce, *kp;
	size_t alen, slen, plen, nlen, klen, i;

	(void)state;
	nonce = corpus("nonce.bin", &nlen);
	kp = corpus("key-ecc.pub", &klen);
	assert_int_equal(tpm_public_parse("key_pub", kp, klen, &key), 0);
	for (i = 0; i < 2; i++) {
		a = corpus(k[i][0], &alen);
		s = corpus(k[i][1], &slen);
		p = corpus(k[i][2], &plen);
		assert_int_equal(tpm_public_parse("ak_pub", p, plen, &ak), 0);
		assert_int_equal(tpm_public_pkey(&ak.pub, &akk), 0);
		assert_int_equal(tpm_attest_parse(a, alen, &at), 0);
		assert_int_equal(at.body_len, alen - 2);
		assert_int_equal(tpm_signature_parse(s, slen, &sig), 0);
		assert_int_equal(tpm_certify_check(&at, nonce, nlen,
		    key.name, key.name_len), 0);
		assert_int_equal(tpm_signature_verify(akk, &sig, at.body,
		    at.body_len), 0);
		/* another nonce: replayed */
		assert_err(tpm_certify_check(&at, nonce, nlen - 1, key.name,
		    key.name_len), CAIRN_E_POLICY, "extraData is not");
		/* another object's name */
		assert_err(tpm_certify_check(&at, nonce, nlen, ak.name,
		    ak.name_len), CAIRN_E_POLICY, "not the key of the request");
		/* a flipped bit of the body: the signature fails */
		at.body[at.body_len - 1] ^= 1;
		assert_err(tpm_signature_verify(akk, &sig, at.body,
		    at.body_len), CAIRN_E_AUTH, "does not verify");
		/* magic and type */
		at.a.magic = 0x12345678;
		assert_err(tpm_certify_check(&at, nonce, nlen, key.name,
		    key.name_len), CAIRN_E_POLICY, "not TPM_GENERATED_VALUE");
		at.a.magic = TPM2_GENERATED_VALUE;
		at.a.type = TPM2_ST_ATTEST_QUOTE;
		assert_err(tpm_certify_check(&at, nonce, nlen, key.name,
		    key.name_len), CAIRN_E_POLICY, "not TPM_ST_ATTEST_CERTIFY");
		tpm_attest_clear(&at);
		/* the bare TPMS_ATTEST is read too */
		assert_int_equal(tpm_attest_parse(a + 2, alen - 2, &at), 0);
		tpm_attest_clear(&at);
		/* truncated, trailing */
		assert_err(tpm_attest_parse(a, alen - 1, &at), CAIRN_E_INVAL,
		    "not a TPM2B_ATTEST");
		assert_null(at.body);
		assert_err(tpm_signature_parse(s, slen - 1, &sig),
		    CAIRN_E_INVAL, "not a TPMT_SIGNATURE");
		EVP_PKEY_free(akk);
		akk = NULL;
		free(a);
		free(s);
		free(p);
	}
	/* an RSA signature is not accepted for the ECC AK */
	a = corpus("sig-rsa.bin", &alen);
	p = corpus("ak-ecc.pub", &plen);
	assert_int_equal(tpm_signature_parse(a, alen, &sig), 0);
	assert_int_equal(tpm_public_parse("ak_pub", p, plen, &ak), 0);
	assert_int_equal(tpm_public_pkey(&ak.pub, &akk), 0);
	assert_err(tpm_signature_verify(akk, &sig, (const uint8_t *)"x", 1),
	    CAIRN_E_INVAL, "not RSA");
	EVP_PKEY_free(akk);
	free(a);
	free(p);
	free(nonce);
	free(kp);
}

static void
test_attributes(void **state)
{
	struct tpm_public p;
	uint8_t *b;
	size_t len;

	(void)state;
	b = corpus("ak-rsa.pub", &len);
	assert_int_equal(tpm_public_parse("ak_pub", b, len, &p), 0);
	assert_int_equal(tpm_attributes_check("ak_pub", &p.pub,
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_RESTRICTED |
	    TPMA_OBJECT_SIGN_ENCRYPT, TPMA_OBJECT_DECRYPT), 0);
	p.pub.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
	assert_err(tpm_attributes_check("ak_pub", &p.pub,
	    TPMA_OBJECT_FIXEDTPM, 0), CAIRN_E_POLICY,
	    "ak_pub: fixedTPM is not set: the key could leave the TPM");
	assert_err(tpm_attributes_check("key_pub", &p.pub, 0,
	    TPMA_OBJECT_RESTRICTED), CAIRN_E_POLICY, "restricted is set");
	free(b);
}

/* ---- MakeCredential, undone in software ------------------------------------ */

/* An EK's public area for a software key `k`. */
static void
ek_public(EVP_PKEY *k, TPMT_PUBLIC *p)
{
	BIGNUM *b = NULL;

	memset(p, 0, sizeof(*p));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	if (EVP_PKEY_is_a(k, "RSA")) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.rsaDetail.keyBits = 2048;
		assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N,
		    &b), 1);
		p->unique.rsa.size = 256;
		BN_bn2binpad(b, p->unique.rsa.buffer, 256);
	} else {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(k,
		    OSSL_PKEY_PARAM_EC_PUB_X, &b), 1);
		p->unique.ecc.x.size = 32;
		BN_bn2binpad(b, p->unique.ecc.x.buffer, 32);
		BN_free(b);
		b = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(k,
		    OSSL_PKEY_PARAM_EC_PUB_Y, &b), 1);
		p->unique.ecc.y.size = 32;
		BN_bn2binpad(b, p->unique.ecc.y.buffer, 32);
	}
	BN_free(b);
}

/* The seed back from the encrypted secret, with the EK's private key. */
static size_t
recover_seed(EVP_PKEY *k, const TPMT_PUBLIC *ekp,
    const TPM2B_ENCRYPTED_SECRET *enc, uint8_t seed[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	size_t len = 32;

	if (EVP_PKEY_is_a(k, "RSA")) {
		uint8_t out[256];

		assert_int_equal(EVP_PKEY_decrypt_init(c), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c,
		    RSA_PKCS1_OAEP_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()),
		    1);
		assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(c,
		    OPENSSL_memdup("IDENTITY", 9), 9), 1);
		len = sizeof(out);
		assert_int_equal(EVP_PKEY_decrypt(c, out, &len, enc->secret,
		    enc->size), 1);
		assert_int_equal(len, 32);
		memcpy(seed, out, 32);
	} else {
		TPMS_ECC_POINT pt;
		TPMT_PUBLIC pp;
		EVP_PKEY *eph = NULL;
		uint8_t z[32];
		size_t off = 0, zlen = sizeof(z);

		assert_int_equal(Tss2_MU_TPMS_ECC_POINT_Unmarshal(enc->secret,
		    enc->size, &off, &pt), TSS2_RC_SUCCESS);
		assert_int_equal(off, enc->size);
		pp = *ekp;
		pp.unique.ecc = pt;
		assert_int_equal(tpm_public_pkey(&pp, &eph), 0);
		assert_int_equal(EVP_PKEY_derive_init(c), 1);
		assert_int_equal(EVP_PKEY_derive_set_peer(c, eph), 1);
		assert_int_equal(EVP_PKEY_derive(c, z, &zlen), 1);
		assert_int_equal(tpm_kdfe(EVP_sha256(), z, zlen, "IDENTITY",
		    pt.x.buffer, pt.x.size, ekp->unique.ecc.x.buffer,
		    ekp->unique.ecc.x.size, 256, seed), 0);
		EVP_PKEY_free(eph);
	}
	EVP_PKEY_CTX_free(c);
	return len;
}

/* ActivateCredential's checks and decryption: 0 and the secret, or -1
 * when the HMAC over (encIdentity, name) does not match. */
static int
activate(const uint8_t seed[32], const uint8_t *name, size_t nlen,
    const TPM2B_ID_OBJECT *blob, uint8_t *out, size_t *outlen)
{
	uint8_t hkey[32], sym[16], iv[16] = { 0 }, mac[64], in[256], dec[256];
	TPM2B_DIGEST hm;
	size_t off = 0, elen, mlen = 0;
	EVP_CIPHER_CTX *c;
	int l = 0;

	assert_int_equal(Tss2_MU_TPM2B_DIGEST_Unmarshal(blob->credential,
	    blob->size, &off, &hm), TSS2_RC_SUCCESS);
	elen = blob->size - off;
	assert_int_equal(tpm_kdfa(EVP_sha256(), seed, 32, "INTEGRITY", NULL,
	    0, NULL, 0, 256, hkey), 0);
	memcpy(in, blob->credential + off, elen);
	memcpy(in + elen, name, nlen);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hkey, 32,
	    in, elen + nlen, mac, sizeof(mac), &mlen));
	if (mlen != hm.size || memcmp(mac, hm.buffer, mlen) != 0)
		return -1;
	assert_int_equal(tpm_kdfa(EVP_sha256(), seed, 32, "STORAGE", name,
	    nlen, NULL, 0, 128, sym), 0);
	c = EVP_CIPHER_CTX_new();
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_128_cfb128(), NULL,
	    sym, iv), 1);
	assert_int_equal(EVP_DecryptUpdate(c, dec, &l, in, (int)elen), 1);
	EVP_CIPHER_CTX_free(c);
	off = 0;
	assert_int_equal(Tss2_MU_TPM2B_DIGEST_Unmarshal(dec, (size_t)l, &off,
	    &hm), TSS2_RC_SUCCESS);
	assert_int_equal(off, (size_t)l);
	memcpy(out, hm.buffer, hm.size);
	*outlen = hm.size;
	return 0;
}

static void
credential_roundtrip(EVP_PKEY *k)
{
	TPMT_PUBLIC ek;
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET enc;
	uint8_t name[34], other[34], secret[32], seed[32], got[64];
	size_t glen = 0;

	assert_non_null(k);
	ek_public(k, &ek);
	memset(name, 0x5a, sizeof(name));
	name[0] = 0x00;
	name[1] = 0x0b;
	memcpy(other, name, sizeof(name));
	other[33] ^= 1;
	memcpy(secret, "the secret the CA keeps hashed!!", 32);
	assert_int_equal(tpm_make_credential(&ek, name, sizeof(name), secret,
	    sizeof(secret), &blob, &enc), 0);
	assert_int_equal(enc.size, EVP_PKEY_is_a(k, "RSA") ? 256 : 2 + 32 + 2
	    + 32);
	assert_int_equal(recover_seed(k, &ek, &enc, seed), 32);
	assert_int_equal(activate(seed, name, sizeof(name), &blob, got, &glen),
	    0);
	assert_int_equal(glen, sizeof(secret));
	assert_memory_equal(got, secret, sizeof(secret));
	/* bound to the name: another object's name fails the HMAC */
	assert_int_equal(activate(seed, other, sizeof(other), &blob, got,
	    &glen), -1);
	/* a fresh seed each time */
	{
		TPM2B_ID_OBJECT b2;
		TPM2B_ENCRYPTED_SECRET e2;

		assert_int_equal(tpm_make_credential(&ek, name, sizeof(name),
		    secret, sizeof(secret), &b2, &e2), 0);
		assert_memory_not_equal(b2.credential, blob.credential,
		    blob.size);
	}
	/* refusals */
	assert_err(tpm_make_credential(&ek, name, sizeof(name), secret, 33,
	    &blob, &enc), CAIRN_E_INVAL, "a secret of 1 to 32 bytes");
	ek.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
	assert_err(tpm_make_credential(&ek, name, sizeof(name), secret,
	    sizeof(secret), &blob, &enc), CAIRN_E_POLICY,
	    "not a restricted decryption key");
	assert_int_equal(blob.size, 0);
	ek.objectAttributes |= TPMA_OBJECT_RESTRICTED;
	if (ek.type == TPM2_ALG_RSA)
		ek.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CBC;
	else
		ek.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CBC;
	assert_err(tpm_make_credential(&ek, name, sizeof(name), secret,
	    sizeof(secret), &blob, &enc), CAIRN_E_POLICY, "CFB mode");
	EVP_PKEY_free(k);
}

static void
test_credential_rsa(void **state)
{
	(void)state;
	credential_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
}

static void
test_credential_ecc(void **state)
{
	(void)state;
	credential_roundtrip(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
}

/* The real RSA EK of swtpm takes a credential too (its key parses and
 * OAEP-encrypts); what the TPM does with it is tpm.sh's part. */
static void
test_credential_real_ek(void **state)
{
	static const char *const eks[] = { "ek-rsa.pub", "ek-ecc.pub" };
	struct tpm_public ek, ak;
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET enc;
	uint8_t *b, *a, secret[32] = { 1 };
	size_t len, alen, i;

	(void)state;
	a = corpus("ak-rsa.pub", &alen);
	assert_int_equal(tpm_public_parse("ak_pub", a, alen, &ak), 0);
	for (i = 0; i < 2; i++) {
		b = corpus(eks[i], &len);
		assert_int_equal(tpm_public_parse("ek_pub", b, len, &ek), 0);
		assert_int_equal(tpm_make_credential(&ek.pub, ak.name,
		    ak.name_len, secret, sizeof(secret), &blob, &enc), 0);
		assert_true(blob.size > 34);
		free(b);
	}
	free(a);
}

/* ---- templates: attestation ------------------------------------------------ */

static const char tpl_base[] =
    "template: T\nversion: 1\nvalidity: 30d\nenroll: { roles: [enrollee] }\n"
    "keys: [ec-p256]\nkey_usage: [digitalSignature]\n"
    "extended_key_usage: [clientAuth]\nsubject: { CN: { from: account } }\n";

static int
tpl(const char *extra, struct template **t, struct cfg_errors *e)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%s", tpl_base, extra);
	return template_load_mem("T.yaml", buf, strlen(buf), t, e);
}

static void
tpl_refused(const char *extra, const char *pat)
{
	struct cfg_errors e = { 0 };
	struct template *t = NULL;
	size_t i;
	int found = 0;

	assert_int_equal(tpl(extra, &t, &e), CAIRN_E_CONFIG);
	assert_null(t);
	for (i = 0; i < e.n; i++)
		found |= strstr(e.msg[i], pat) != NULL;
	if (!found)
		fail_msg("no error with \"%s\" for %s", pat, extra);
	cfg_errors_free(&e);
}

static void
test_template_attestation(void **state)
{
	struct cfg_errors e = { 0 };
	struct template *t = NULL;
	struct profile *p;

	(void)state;
	assert_int_equal(tpl("", &t, &e), 0);
	assert_int_equal(t->attestation, TPL_ATTEST_NONE);
	p = profile_new();
	/* none: plain requests fine, attested ones refused */
	assert_int_equal(template_attest(t, 0, p), 0);
	assert_err(template_attest(t, TPL_TRUST_EK_CERT, p), CAIRN_E_POLICY,
	    "takes no TPM key attestation");
	template_free(t);
	assert_int_equal(tpl("attestation: required\nattestation_trust: "
	    "[ek-certificate, ek-key]\n", &t, &e), 0);
	assert_int_equal(t->attestation, TPL_ATTEST_REQUIRED);
	assert_int_equal(t->attest_trust, TPL_TRUST_EK_CERT |
	    TPL_TRUST_EK_KEY);
	assert_err(template_attest(t, 0, p), CAIRN_E_POLICY,
	    "requires TPM key attestation");
	assert_err(template_attest(t, TPL_TRUST_USER, p), CAIRN_E_POLICY,
	    "does not accept TPM trust level user-credentials; it accepts "
	    "ek-certificate, ek-key");
	assert_null(p->policies);
	assert_int_equal(template_attest(t, TPL_TRUST_EK_KEY, p), 0);
	assert_string_equal(p->policies[0], "1.3.6.1.4.1.311.21.31");
	assert_null(p->policies[1]);
	template_free(t);
	assert_int_equal(tpl("attestation: preferred\nattestation_trust: "
	    "[user-credentials]\n", &t, &e), 0);
	assert_int_equal(template_attest(t, 0, p), 0);
	template_free(t);
	profile_free(p);
	assert_string_equal(template_trust_oid(TPL_TRUST_EK_CERT),
	    "1.3.6.1.4.1.311.21.30");
	assert_string_equal(template_trust_oid(TPL_TRUST_USER),
	    "1.3.6.1.4.1.311.21.32");
	assert_null(template_trust_oid(0));
	tpl_refused("attestation: required\n", "needs attestation_trust");
	tpl_refused("attestation_trust: [ek-key]\n",
	    "attestation_trust without attestation");
	tpl_refused("attestation: always\nattestation_trust: [ek-key]\n",
	    "attestation");
	tpl_refused("attestation: required\nattestation_trust: [tpm]\n",
	    "\"tpm\" is not one of ek-certificate, ek-key");
	tpl_refused("approval: true\nattestation: required\n"
	    "attestation_trust: [ek-key]\n", "approval: true is not supported");
	cfg_errors_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_real),
		cmocka_unit_test(test_public_malformed),
		cmocka_unit_test(test_attest_real),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_credential_rsa),
		cmocka_unit_test(test_credential_ecc),
		cmocka_unit_test(test_credential_real_ek),
		cmocka_unit_test(test_template_attestation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
