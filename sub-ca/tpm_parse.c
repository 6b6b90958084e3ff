/*
 * tpm_parse.c: TPM 2.0 structures from strangers (see tpm_parse.h).
 *
 * libtss2-mu does the byte work (the TSS's own marshalling, as the TPM
 * writes them); this file bounds the input, refuses what is left over,
 * and turns the structures into OpenSSL keys and checked facts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/tpm_parse.h"

const EVP_MD *
tpm_alg_md(TPM2_ALG_ID alg)
{
	switch (alg) {
	case TPM2_ALG_SHA256: return EVP_sha256();
	case TPM2_ALG_SHA384: return EVP_sha384();
	case TPM2_ALG_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

const char *
tpm_alg_name(TPM2_ALG_ID alg, char buf[8])
{
	switch (alg) {
	case TPM2_ALG_RSA: return "rsa";
	case TPM2_ALG_ECC: return "ecc";
	case TPM2_ALG_SHA1: return "sha1";
	case TPM2_ALG_SHA256: return "sha256";
	case TPM2_ALG_SHA384: return "sha384";
	case TPM2_ALG_SHA512: return "sha512";
	case TPM2_ALG_SM3_256: return "sm3_256";
	case TPM2_ALG_RSASSA: return "rsassa";
	case TPM2_ALG_RSAPSS: return "rsapss";
	case TPM2_ALG_ECDSA: return "ecdsa";
	case TPM2_ALG_ECDAA: return "ecdaa";
	case TPM2_ALG_SM2: return "sm2";
	case TPM2_ALG_ECSCHNORR: return "ecschnorr";
	case TPM2_ALG_HMAC: return "hmac";
	case TPM2_ALG_KEYEDHASH: return "keyedhash";
	case TPM2_ALG_SYMCIPHER: return "symcipher";
	case TPM2_ALG_NULL: return "null";
	default:
		snprintf(buf, 8, "0x%04x", (unsigned)alg);
		return buf;
	}
}

/* The common prologue: not empty, not over the limit. */
static int
bounded(const char *what, size_t len)
{
	if (len == 0)
		return cairn_error(CAIRN_E_INVAL, "%s: empty", what);
	if (len > CAIRN_TPM_BLOB_MAX)
		return cairn_error(CAIRN_E_INVAL, "%s: %zu bytes, more than "
		    "the %d a TPM structure may have", what, len,
		    CAIRN_TPM_BLOB_MAX);
	return 0;
}

/*
 * tpm2b_body: when `buf` is a TPM2B whose size field equals the rest of
 * the input, its body; else the whole input (the bare structure).  A
 * size field that leaves bytes over or runs past the end is a bare
 * structure too, which then fails to unmarshal or leaves bytes over.
 */
static void
tpm2b_body(const uint8_t *buf, size_t len, const uint8_t **body,
    size_t *blen, int *sized)
{
	*sized = len >= 2 && (size_t)((buf[0] << 8) | buf[1]) == len - 2;
	*body = *sized ? buf + 2 : buf;
	*blen = *sized ? len - 2 : len;
}

static int
name_of(const uint8_t *tpmt, size_t len, TPMI_ALG_HASH alg, uint8_t *name,
    size_t *name_len)
{
	const EVP_MD *md = tpm_alg_md(alg);
	unsigned int dlen = 0;
	char b[8];

	if (md == NULL)
		return cairn_error(CAIRN_E_INVAL, "nameAlg %s is not one of "
		    "sha256, sha384, sha512", tpm_alg_name(alg, b));
	name[0] = (uint8_t)(alg >> 8);
	name[1] = (uint8_t)alg;
	if (EVP_Digest(tpmt, len, name + 2, &dlen, md, NULL) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing the public "
		    "area");
	*name_len = 2 + dlen;
	return 0;
}

static size_t
curve_bytes(TPMI_ECC_CURVE c)
{
	switch (c) {
	case TPM2_ECC_NIST_P256: return 32;
	case TPM2_ECC_NIST_P384: return 48;
	case TPM2_ECC_NIST_P521: return 66;
	default: return 0;
	}
}

static const char *
curve_name(TPMI_ECC_CURVE c)
{
	switch (c) {
	case TPM2_ECC_NIST_P256: return "P-256";
	case TPM2_ECC_NIST_P384: return "P-384";
	case TPM2_ECC_NIST_P521: return "P-521";
	default: return NULL;
	}
}

int
tpm_public_parse(const char *what, const void *buf, size_t len,
    struct tpm_public *out)
{
	const uint8_t *body;
	size_t blen, off = 0, n;
	TPMT_PUBLIC *p = &out->pub;
	TSS2_RC rc;
	char b[8];
	int sized, r;

	memset(out, 0, sizeof(*out));
	if ((r = bounded(what, len)) != 0)
		return r;
	tpm2b_body(buf, len, &body, &blen, &sized);
	if ((rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(body, blen, &off, p)) !=
	    TSS2_RC_SUCCESS) {
		memset(out, 0, sizeof(*out));
		return cairn_error(CAIRN_E_INVAL, "%s: not a TPM2B_PUBLIC or "
		    "TPMT_PUBLIC (libtss2-mu: 0x%x, at or before byte %zu)",
		    what, (unsigned)rc, off + (sized ? 2 : 0));
	}
	if (off != blen) {
		r = cairn_error(CAIRN_E_INVAL, "%s: %zu bytes after the "
		    "TPMT_PUBLIC", what, blen - off);
		goto fail;
	}
	if (p->type != TPM2_ALG_RSA && p->type != TPM2_ALG_ECC) {
		r = cairn_error(CAIRN_E_INVAL, "%s: a %s object, not an RSA "
		    "or ECC key", what, tpm_alg_name(p->type, b));
		goto fail;
	}
	if ((r = name_of(body, blen, p->nameAlg, out->name,
	    &out->name_len)) != 0) {
		cairn_error_prefix(r, "%s: ", what);
		goto fail;
	}
	if (p->type == TPM2_ALG_RSA) {
		n = p->unique.rsa.size;
		if (p->parameters.rsaDetail.keyBits < 1024 ||
		    p->parameters.rsaDetail.keyBits % 8 != 0 ||
		    n != (size_t)p->parameters.rsaDetail.keyBits / 8) {
			r = cairn_error(CAIRN_E_INVAL, "%s: RSA keyBits %u with "
			    "a modulus of %zu bytes", what,
			    (unsigned)p->parameters.rsaDetail.keyBits, n);
			goto fail;
		}
	} else {
		n = curve_bytes(p->parameters.eccDetail.curveID);
		if (n == 0) {
			r = cairn_error(CAIRN_E_INVAL, "%s: ECC curve 0x%04x is "
			    "not NIST P-256, P-384 or P-521", what,
			    (unsigned)p->parameters.eccDetail.curveID);
			goto fail;
		}
		if (p->unique.ecc.x.size > n || p->unique.ecc.y.size > n) {
			r = cairn_error(CAIRN_E_INVAL, "%s: an ECC point "
			    "coordinate longer than the curve's %zu bytes",
			    what, n);
			goto fail;
		}
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}

int
tpm_attest_parse(const void *buf, size_t len, struct tpm_attest *out)
{
	const uint8_t *body;
	size_t blen, off = 0;
	TSS2_RC rc;
	int sized, r;

	memset(out, 0, sizeof(*out));
	if ((r = bounded("attest", len)) != 0)
		return r;
	tpm2b_body(buf, len, &body, &blen, &sized);
	if ((rc = Tss2_MU_TPMS_ATTEST_Unmarshal(body, blen, &off, &out->a)) !=
	    TSS2_RC_SUCCESS) {
		memset(out, 0, sizeof(*out));
		return cairn_error(CAIRN_E_INVAL, "attest: not a TPM2B_ATTEST "
		    "or TPMS_ATTEST (libtss2-mu: 0x%x, at or before byte %zu)",
		    (unsigned)rc, off + (sized ? 2 : 0));
	}
	if (off != blen) {
		memset(out, 0, sizeof(*out));
		return cairn_error(CAIRN_E_INVAL, "attest: %zu bytes after the "
		    "TPMS_ATTEST", blen - off);
	}
	if ((out->body = malloc(blen)) == NULL) {
		memset(out, 0, sizeof(*out));
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	memcpy(out->body, body, blen);
	out->body_len = blen;
	return 0;
}

void
tpm_attest_clear(struct tpm_attest *at)
{
	if (at == NULL)
		return;
	free(at->body);
	memset(at, 0, sizeof(*at));
}

int
tpm_signature_parse(const void *buf, size_t len, TPMT_SIGNATURE *out)
{
	size_t off = 0;
	TPMI_ALG_HASH h;
	TSS2_RC rc;
	char b[8];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = bounded("signature", len)) != 0)
		return r;
	if ((rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(buf, len, &off, out)) !=
	    TSS2_RC_SUCCESS) {
		memset(out, 0, sizeof(*out));
		return cairn_error(CAIRN_E_INVAL, "signature: not a "
		    "TPMT_SIGNATURE (libtss2-mu: 0x%x, at or before byte %zu)",
		    (unsigned)rc, off);
	}
	if (off != len) {
		r = cairn_error(CAIRN_E_INVAL, "signature: %zu bytes after "
		    "the TPMT_SIGNATURE", len - off);
		goto fail;
	}
	switch (out->sigAlg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		h = out->signature.rsassa.hash;
		break;
	case TPM2_ALG_ECDSA:
		h = out->signature.ecdsa.hash;
		break;
	default:
		r = cairn_error(CAIRN_E_INVAL, "signature: %s signatures are "
		    "not accepted; use rsassa, rsapss or ecdsa",
		    tpm_alg_name(out->sigAlg, b));
		goto fail;
	}
	if (tpm_alg_md(h) == NULL) {
		r = cairn_error(CAIRN_E_INVAL, "signature: hash %s is not one "
		    "of sha256, sha384, sha512", tpm_alg_name(h, b));
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}

static int
rsa_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	UINT32 exp = p->parameters.rsaDetail.exponent;
	int r = 0;

	/* TPM 2.0 Part 2 12.2.3.5: exponent 0 means 2^16 + 1. */
	if (exp == 0)
		exp = 65537;
	if (bld == NULL ||
	    (n = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size,
		NULL)) == NULL ||
	    (e = BN_new()) == NULL || BN_set_word(e, exp) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = cairn_error_crypto(CAIRN_E_INVAL, "an RSA public area "
		    "OpenSSL cannot use");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

static int
ecc_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out)
{
	const TPMS_ECC_POINT *pt = &p->unique.ecc;
	size_t n = curve_bytes(p->parameters.eccDetail.curveID);
	const char *group = curve_name(p->parameters.eccDetail.curveID);
	uint8_t point[1 + 2 * 66];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	int r = 0;

	if (n == 0 || group == NULL || pt->x.size > n || pt->y.size > n)
		return cairn_error(CAIRN_E_INVAL, "an ECC public area on a "
		    "curve other than NIST P-256, P-384, P-521");
	/* SEC 1 2.3.3 uncompressed point; the TPM may drop leading zero
	 * bytes of a coordinate. */
	memset(point, 0, sizeof(point));
	point[0] = 0x04;
	memcpy(point + 1 + n - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(point + 1 + 2 * n - pt->y.size, pt->y.buffer, pt->y.size);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    point, 1 + 2 * n);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = cairn_error_crypto(CAIRN_E_INVAL, "an ECC public area "
		    "whose point is not on %s", group);
	EVP_PKEY_CTX_free(ctx);
	/* OpenSSL 3 checks the point on import; check again so that no
	 * provider's leniency lets an off-curve point through. */
	if (r == 0) {
		EVP_PKEY_CTX *c2 = EVP_PKEY_CTX_new_from_pkey(NULL, *out,
		    NULL);

		if (c2 == NULL || EVP_PKEY_public_check(c2) != 1) {
			EVP_PKEY_free(*out);
			*out = NULL;
			r = cairn_error_crypto(CAIRN_E_INVAL, "an ECC public "
			    "area whose point is not on %s", group);
		}
		EVP_PKEY_CTX_free(c2);
	}
	return r;
}

int
tpm_public_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out)
{
	*out = NULL;
	if (p->type == TPM2_ALG_RSA)
		return rsa_pkey(p, out);
	if (p->type == TPM2_ALG_ECC)
		return ecc_pkey(p, out);
	return cairn_error(CAIRN_E_INVAL, "not an RSA or ECC public area");
}

int
tpm_public_matches(const TPMT_PUBLIC *p, EVP_PKEY *pkey)
{
	EVP_PKEY *k = NULL;
	int r;

	if ((r = tpm_public_pkey(p, &k)) != 0)
		return r;
	r = EVP_PKEY_eq(k, pkey) == 1 ? 0 : CAIRN_E_POLICY;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}

/* An ECDSA (r, s) as the DER SEQUENCE OpenSSL verifies. */
static int
ecdsa_der(const TPMS_SIGNATURE_ECC *e, uint8_t **der, int *derlen)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	BIGNUM *bs = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	int r = 0;

	*der = NULL;
	if (s == NULL || br == NULL || bs == NULL ||
	    ECDSA_SIG_set0(s, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		r = cairn_error_crypto(CAIRN_E_NOMEM, "out of memory");
	} else if ((*derlen = i2d_ECDSA_SIG(s, der)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding an ECDSA "
		    "signature");
	}
	ECDSA_SIG_free(s);
	return r;
}

int
tpm_signature_verify(EVP_PKEY *key, const TPMT_SIGNATURE *sig,
    const uint8_t *data, size_t len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	const uint8_t *s;
	uint8_t *der = NULL;
	size_t slen;
	int is_rsa = EVP_PKEY_is_a(key, "RSA"), derlen = 0, r = 0, ok;

	switch (sig->sigAlg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if (!is_rsa)
			return cairn_error(CAIRN_E_INVAL, "an RSA signature "
			    "for a key that is not RSA");
		md = tpm_alg_md(sig->signature.rsassa.hash);
		s = sig->signature.rsassa.sig.buffer;
		slen = sig->signature.rsassa.sig.size;
		break;
	case TPM2_ALG_ECDSA:
		if (!EVP_PKEY_is_a(key, "EC"))
			return cairn_error(CAIRN_E_INVAL, "an ECDSA signature "
			    "for a key that is not ECC");
		md = tpm_alg_md(sig->signature.ecdsa.hash);
		if ((r = ecdsa_der(&sig->signature.ecdsa, &der, &derlen)) != 0)
			return r;
		s = der;
		slen = (size_t)derlen;
		break;
	default:
		return cairn_error(CAIRN_E_INVAL, "an unsupported signature "
		    "algorithm");
	}
	if (md == NULL) {
		r = cairn_error(CAIRN_E_INVAL, "an unsupported signature hash");
		goto out;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) != 1 ||
	    (sig->sigAlg == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) !=
	    1))) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "setting up the "
		    "signature check");
		goto out;
	}
	ok = EVP_DigestVerify(mctx, s, slen, data, len);
	ERR_clear_error();
	if (ok != 1)
		r = cairn_error(CAIRN_E_AUTH, "the signature does not verify");
out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	return r;
}

static const struct {
	TPMA_OBJECT bit;
	const char *name, *set_why, *clear_why;
} attr_names[] = {
	{ TPMA_OBJECT_FIXEDTPM, "fixedTPM", "the key could leave the TPM",
	    NULL },
	{ TPMA_OBJECT_FIXEDPARENT, "fixedParent", "the key could be "
	    "duplicated to another parent", NULL },
	{ TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin", "the "
	    "private key may have been made outside the TPM and imported",
	    NULL },
	{ TPMA_OBJECT_RESTRICTED, "restricted", "an attestation key must "
	    "sign only what the TPM made", "a restricted key cannot sign a "
	    "CSR" },
	{ TPMA_OBJECT_SIGN_ENCRYPT, "sign", "the key must sign", NULL },
	{ TPMA_OBJECT_DECRYPT, "decrypt", "the key must decrypt", "an "
	    "attestation key must not decrypt" },
};

int
tpm_attributes_check(const char *what, const TPMT_PUBLIC *p,
    TPMA_OBJECT set, TPMA_OBJECT clear)
{
	TPMA_OBJECT a = p->objectAttributes;
	size_t i;

	for (i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
		if ((set & attr_names[i].bit) && !(a & attr_names[i].bit))
			return cairn_error(CAIRN_E_POLICY, "%s: %s is not set: "
			    "%s", what, attr_names[i].name,
			    attr_names[i].set_why);
		if ((clear & attr_names[i].bit) && (a & attr_names[i].bit))
			return cairn_error(CAIRN_E_POLICY, "%s: %s is set: %s",
			    what, attr_names[i].name,
			    attr_names[i].clear_why != NULL ?
			    attr_names[i].clear_why : "not allowed here");
	}
	return 0;
}

int
tpm_certify_check(const struct tpm_attest *at, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *name, size_t name_len)
{
	const TPMS_ATTEST *a = &at->a;
	const TPM2B_NAME *cn = &a->attested.certify.name;

	if (a->magic != TPM2_GENERATED_VALUE)
		return cairn_error(CAIRN_E_POLICY, "attest: magic 0x%08x, not "
		    "TPM_GENERATED_VALUE 0xff544347: the TPM did not make it",
		    (unsigned)a->magic);
	if (a->type != TPM2_ST_ATTEST_CERTIFY)
		return cairn_error(CAIRN_E_POLICY, "attest: type 0x%04x, not "
		    "TPM_ST_ATTEST_CERTIFY 0x8017: send a TPM2_Certify of the "
		    "new key", (unsigned)a->type);
	if (a->extraData.size != nonce_len ||
	    CRYPTO_memcmp(a->extraData.buffer, nonce, nonce_len) != 0)
		return cairn_error(CAIRN_E_POLICY, "attest: extraData is not "
		    "this exchange's nonce: the attestation is old or made "
		    "for another exchange (replayed)");
	if (cn->size != name_len || memcmp(cn->name, name, name_len) != 0)
		return cairn_error(CAIRN_E_POLICY, "attest: the certified "
		    "object is not the key of the request (its name differs "
		    "from the name of key_pub)");
	return 0;
}
