/*
 * tpm.c: cairn-enroll tpm: the client side of TPM key attestation
 * (docs/tpm-attestation.md), over ESAPI.
 *
 *   1. EK: the TCG template L-1 (RSA 2048) or L-2 (ECC P-256) recreated
 *      as a primary of the endorsement hierarchy, which gives the key the
 *      manufacturer certified; its certificate from NV (0x01c00002 /
 *      0x01c0000a).
 *   2. The storage key of the owner hierarchy (TCG template H-2, the
 *      parent 0x40000001 of TSS2 key files), and under it an AK
 *      (restricted signing) and the new key (signing; fixedTPM,
 *      fixedParent, sensitiveDataOrigin).
 *   3. A CSR for the new key, its TBS signed by TPM2_Sign.
 *   4. Round 1: the CA returns a credential made to the EK for the AK's
 *      name; TPM2_ActivateCredential opens it (the EK's policy is
 *      PolicySecret of the endorsement hierarchy).
 *   5. TPM2_Certify of the new key by the AK over the CA's nonce.
 *   6. Round 2: the certificate.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/util.h"
#include "enroll/enroll.h"
#include "sub-ca/tpm_parse.h"

#define NV_EK_CERT_RSA 0x01c00002
#define NV_EK_CERT_ECC 0x01c0000a
/* Bytes per TPM2_NV_Read: below every TPM's TPM_PT_NV_BUFFER_MAX. */
#define NV_CHUNK 512
#define EK_CERT_MAX (16 * 1024)

/* ---- the TSS2 PRIVATE KEY file (draft-bottomley-tpm2-keys) ------------- */

typedef struct {
	ASN1_OBJECT *type;
	ASN1_BOOLEAN emptyAuth;
	ASN1_INTEGER *parent;
	ASN1_OCTET_STRING *pubkey;
	ASN1_OCTET_STRING *privkey;
} TSSPRIVKEY;

DECLARE_ASN1_FUNCTIONS(TSSPRIVKEY)
ASN1_SEQUENCE(TSSPRIVKEY) = {
	ASN1_SIMPLE(TSSPRIVKEY, type, ASN1_OBJECT),
	ASN1_EXP_OPT(TSSPRIVKEY, emptyAuth, ASN1_BOOLEAN, 0),
	ASN1_SIMPLE(TSSPRIVKEY, parent, ASN1_INTEGER),
	ASN1_SIMPLE(TSSPRIVKEY, pubkey, ASN1_OCTET_STRING),
	ASN1_SIMPLE(TSSPRIVKEY, privkey, ASN1_OCTET_STRING)
} ASN1_SEQUENCE_END(TSSPRIVKEY)
IMPLEMENT_ASN1_FUNCTIONS(TSSPRIVKEY)

/* ---- state ---------------------------------------------------------------- */

struct tpm {
	const struct enroll_opts *o;
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	ESYS_TR ek, srk, ak, key;
	TPM2B_PUBLIC *ek_pub, *ak_pub, *key_pub;
	TPM2B_PRIVATE *key_priv, *ak_priv;
	uint8_t *ek_cert;
	size_t ek_cert_len;
};

static void
say(const struct tpm *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct tpm *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->o->verbose)
		return;
	va_start(ap, fmt);
	fputs("cairn-enroll: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int
tss_fail(TSS2_RC rc, const char *what)
{
	return cairn_error(CAIRN_E_IO, "%s: %s", what, Tss2_RC_Decode(rc));
}

/* ---- templates (TCG EK Credential Profile 2.x, B.3 and B.4) ------------- */

/* PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: every EK's policy. */
static const uint8_t ek_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa };

static void
ek_template(int ecc, TPM2B_PUBLIC *p)
{
	TPMT_PUBLIC *a = &p->publicArea;

	memset(p, 0, sizeof(*p));
	a->type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
	a->nameAlg = TPM2_ALG_SHA256;
	a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	a->authPolicy.size = sizeof(ek_policy);
	memcpy(a->authPolicy.buffer, ek_policy, sizeof(ek_policy));
	if (ecc) {
		a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		a->parameters.eccDetail.symmetric.keyBits.aes = 128;
		a->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		a->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		a->unique.ecc.x.size = 32;
		a->unique.ecc.y.size = 32;
	} else {
		a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		a->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		a->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		a->parameters.rsaDetail.keyBits = 2048;
		a->parameters.rsaDetail.exponent = 0;
		a->unique.rsa.size = 256;
	}
}

/* The storage root key of key files: ECC P-256, template H-2. */
static void
srk_template(TPM2B_PUBLIC *p)
{
	TPMT_PUBLIC *a = &p->publicArea;

	memset(p, 0, sizeof(*p));
	a->type = TPM2_ALG_ECC;
	a->nameAlg = TPM2_ALG_SHA256;
	a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
	    TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	a->parameters.eccDetail.symmetric.keyBits.aes = 128;
	a->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	a->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* A signing key: the AK (restricted, with its scheme) or the new key. */
static void
sign_template(int ecc, int restricted, TPM2B_PUBLIC *p)
{
	TPMT_PUBLIC *a = &p->publicArea;

	memset(p, 0, sizeof(*p));
	a->type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
	a->nameAlg = TPM2_ALG_SHA256;
	a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
	    TPMA_OBJECT_SIGN_ENCRYPT |
	    (restricted ? TPMA_OBJECT_RESTRICTED : 0);
	if (ecc) {
		a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		a->parameters.eccDetail.scheme.scheme = restricted ?
		    TPM2_ALG_ECDSA : TPM2_ALG_NULL;
		a->parameters.eccDetail.scheme.details.ecdsa.hashAlg =
		    TPM2_ALG_SHA256;
		a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		a->parameters.rsaDetail.scheme.scheme = restricted ?
		    TPM2_ALG_RSASSA : TPM2_ALG_NULL;
		a->parameters.rsaDetail.scheme.details.rsassa.hashAlg =
		    TPM2_ALG_SHA256;
		a->parameters.rsaDetail.keyBits = 2048;
	}
}

/* ---- TPM steps -------------------------------------------------------- */

static int
tpm_open(struct tpm *t)
{
	TSS2_RC rc;

	t->ek = t->srk = t->ak = t->key = ESYS_TR_NONE;
	if ((rc = Tss2_TctiLdr_Initialize(t->o->tcti, &t->tcti)) !=
	    TSS2_RC_SUCCESS)
		return cairn_error(CAIRN_E_IO, "--tcti %s: the TPM cannot be "
		    "reached (%s); give the TCTI of this machine's TPM, such "
		    "as device:/dev/tpmrm0", t->o->tcti, Tss2_RC_Decode(rc));
	if ((rc = Esys_Initialize(&t->esys, t->tcti, NULL)) !=
	    TSS2_RC_SUCCESS)
		return tss_fail(rc, "initialising ESAPI");
	/* A TPM the firmware started says TPM_RC_INITIALIZE: fine. */
	rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE)
		return tss_fail(rc, "TPM2_Startup");
	return 0;
}

static void
tpm_close(struct tpm *t)
{
	ESYS_TR *h[] = { &t->key, &t->ak, &t->srk, &t->ek };
	size_t i;

	for (i = 0; t->esys != NULL && i < sizeof(h) / sizeof(h[0]); i++)
		if (*h[i] != ESYS_TR_NONE)
			Esys_FlushContext(t->esys, *h[i]);
	Esys_Finalize(&t->esys);
	Tss2_TctiLdr_Finalize(&t->tcti);
	Esys_Free(t->ek_pub);
	Esys_Free(t->ak_pub);
	Esys_Free(t->key_pub);
	Esys_Free(t->key_priv);
	Esys_Free(t->ak_priv);
	free(t->ek_cert);
}

static int
create_primary(struct tpm *t, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl,
    ESYS_TR *out, TPM2B_PUBLIC **pub, const char *what)
{
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcr = { 0 };
	TSS2_RC rc;

	memset(&sens, 0, sizeof(sens));
	if ((rc = Esys_CreatePrimary(t->esys, hierarchy, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl, &outside, &pcr, out, pub,
	    NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tss_fail(rc, what);
	return 0;
}

/* Create a key under the SRK; it is loaded by load_key. */
static int
create_key(struct tpm *t, const TPM2B_PUBLIC *tmpl, TPM2B_PUBLIC **pub,
    TPM2B_PRIVATE **priv, const char *what)
{
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION pcr = { 0 };
	TSS2_RC rc;

	memset(&sens, 0, sizeof(sens));
	if ((rc = Esys_Create(t->esys, t->srk, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl, &outside, &pcr, priv,
	    pub, NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tss_fail(rc, what);
	return 0;
}

static int
load_key(struct tpm *t, const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv,
    ESYS_TR *out, const char *what)
{
	TSS2_RC rc;

	if ((rc = Esys_Load(t->esys, t->srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, priv, pub, out)) != TSS2_RC_SUCCESS)
		return tss_fail(rc, what);
	return 0;
}

/* Unload a transient object (a TPM holds as few as three at once, and a
 * TCTI without a resource manager does not swap them out). */
static void
unload(struct tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

/* The EK, recreated from its template: the same key each time. */
static int
load_ek(struct tpm *t)
{
	TPM2B_PUBLIC tmpl, *pub = NULL;
	int r;

	ek_template(t->o->ek_ecc, &tmpl);
	if ((r = create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &t->ek,
	    &pub, "creating the EK (endorsement hierarchy)")) != 0)
		return r;
	if (t->ek_pub == NULL)
		t->ek_pub = pub; /* transferred */
	else
		Esys_Free(pub);
	return 0;
}

/* The EK certificate from NV; none there is not an error (EK-key or
 * user-credential trust may do). */
static int
read_ek_cert(struct tpm *t)
{
	TPM2_HANDLE idx = t->o->ek_ecc ? NV_EK_CERT_ECC : NV_EK_CERT_RSA;
	TPM2B_NV_PUBLIC *nvpub = NULL;
	TPM2B_MAX_NV_BUFFER *data = NULL;
	ESYS_TR nv = ESYS_TR_NONE, auth;
	uint16_t size, off, n;
	TSS2_RC rc;
	int r = 0;

	if (Esys_TR_FromTPMPublic(t->esys, idx, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &nv) != TSS2_RC_SUCCESS) {
		say(t, "no EK certificate in NV 0x%08x", (unsigned)idx);
		return 0;
	}
	if ((rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &nvpub, NULL)) != TSS2_RC_SUCCESS) {
		r = tss_fail(rc, "reading the EK certificate's NV index");
		goto out;
	}
	size = nvpub->nvPublic.dataSize;
	auth = (nvpub->nvPublic.attributes & TPMA_NV_AUTHREAD) ? nv :
	    ESYS_TR_RH_OWNER;
	if (size == 0 || size > EK_CERT_MAX ||
	    (t->ek_cert = malloc(size)) == NULL) {
		r = cairn_error(CAIRN_E_IO, "NV 0x%08x: %u bytes is no EK "
		    "certificate", (unsigned)idx, (unsigned)size);
		goto out;
	}
	for (off = 0; off < size; off = (uint16_t)(off + n)) {
		n = (uint16_t)(size - off > NV_CHUNK ? NV_CHUNK : size - off);
		if ((rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, n, off, &data)) !=
		    TSS2_RC_SUCCESS || data->size != n) {
			r = tss_fail(rc, "reading the EK certificate from NV");
			goto out;
		}
		memcpy(t->ek_cert + off, data->buffer, n);
		Esys_Free(data);
		data = NULL;
	}
	t->ek_cert_len = size;
	say(t, "EK certificate: %u bytes from NV 0x%08x", (unsigned)size,
	    (unsigned)idx);
out:
	Esys_Free(data);
	Esys_Free(nvpub);
	Esys_TR_Close(t->esys, &nv);
	if (r != 0) {
		free(t->ek_cert);
		t->ek_cert = NULL;
	}
	return r;
}

/* TPM2_Sign of a SHA-256 digest with the new key, as DER for X.509. */
static int
tpm_sign(struct tpm *t, const uint8_t *digest, ASN1_BIT_STRING **out)
{
	TPM2B_DIGEST d = { .size = 32 };
	TPMT_SIG_SCHEME scheme;
	TPMT_TK_HASHCHECK ticket = { .tag = TPM2_ST_HASHCHECK,
		.hierarchy = TPM2_RH_NULL };
	TPMT_SIGNATURE *sig = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	uint8_t *der = NULL;
	int len = 0, r = 0;
	TSS2_RC rc;

	memcpy(d.buffer, digest, 32);
	memset(&scheme, 0, sizeof(scheme));
	scheme.scheme = t->o->key_ecc ? TPM2_ALG_ECDSA : TPM2_ALG_RSASSA;
	scheme.details.any.hashAlg = TPM2_ALG_SHA256;
	if ((rc = Esys_Sign(t->esys, t->key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &d, &scheme, &ticket, &sig)) != TSS2_RC_SUCCESS)
		return tss_fail(rc, "TPM2_Sign of the CSR");
	if (t->o->key_ecc) {
		if ((es = ECDSA_SIG_new()) == NULL ||
		    (br = BN_bin2bn(sig->signature.ecdsa.signatureR.buffer,
		    sig->signature.ecdsa.signatureR.size, NULL)) == NULL ||
		    (bs = BN_bin2bn(sig->signature.ecdsa.signatureS.buffer,
		    sig->signature.ecdsa.signatureS.size, NULL)) == NULL ||
		    ECDSA_SIG_set0(es, br, bs) != 1) {
			BN_free(br);
			BN_free(bs);
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "ECDSA signature");
			goto out;
		}
		if ((len = i2d_ECDSA_SIG(es, &der)) <= 0) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "ECDSA signature");
			goto out;
		}
	} else {
		len = sig->signature.rsassa.sig.size;
		if ((der = OPENSSL_memdup(sig->signature.rsassa.sig.buffer,
		    (size_t)len)) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((*out = ASN1_BIT_STRING_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	ASN1_BIT_STRING_set(*out, der, len);
	/* No unused bits: a signature is whole bytes. */
	(*out)->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	(*out)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
out:
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	Esys_Free(sig);
	return r;
}

/* A CSR for the new key, signed inside the TPM. */
static int
make_csr(struct tpm *t, char **pem)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *sig = NULL;
	EVP_PKEY *pub = NULL;
	uint8_t *tbs = NULL, md[32];
	char host[256] = "localhost", *p;
	const char *cn = t->o->cn;
	BIO *b = NULL;
	long len;
	int tlen, r;

	*pem = NULL;
	if (cn == NULL) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			cairn_strlcpy(host, "localhost", sizeof(host));
		cn = host;
	}
	if ((r = tpm_public_pkey(&t->key_pub->publicArea, &pub)) != 0)
		return r;
	if ((req = X509_REQ_new()) == NULL || (name = X509_NAME_new()) ==
	    NULL || (alg = X509_ALGOR_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, pub) != 1 ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(t->o->key_ecc ?
	    NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption),
	    t->o->key_ecc ? V_ASN1_UNDEF : V_ASN1_NULL, NULL) != 1 ||
	    X509_REQ_set1_signature_algo(req, alg) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the CSR");
		goto out;
	}
	if ((tlen = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    EVP_Digest(tbs, (size_t)tlen, md, NULL, EVP_sha256(), NULL) !=
	    1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the CSR");
		goto out;
	}
	if ((r = tpm_sign(t, md, &sig)) != 0)
		goto out;
	X509_REQ_set0_signature(req, sig); /* transferred */
	if (X509_REQ_verify(req, pub) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "the TPM's signature "
		    "on the CSR does not verify");
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(b, req) != 1 ||
	    (len = BIO_get_mem_data(b, &p)) <= 0 ||
	    (*pem = strndup(p, (size_t)len)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the CSR");
		goto out;
	}
	r = 0;
out:
	BIO_free(b);
	OPENSSL_free(tbs);
	X509_ALGOR_free(alg);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(pub);
	return r;
}

/* ---- JSON helpers ---------------------------------------------------------- */

static char *
b64(const uint8_t *p, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s != NULL)
		EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	return s;
}

/* A TPM2B_PUBLIC marshalled, as base64. */
static char *
b64_public(const TPM2B_PUBLIC *p)
{
	uint8_t buf[sizeof(*p) + 2];
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(p, buf, sizeof(buf), &off) !=
	    TSS2_RC_SUCCESS)
		return NULL;
	return b64(buf, off);
}

static int
b64_get(const json_t *o, const char *key, uint8_t **out, size_t *len)
{
	const char *s = NULL;

	if (json_unpack((json_t *)o, "{s:s}", key, &s) != 0 ||
	    cairn_b64_decode(s, strlen(s), out, len) != 0)
		return cairn_error(CAIRN_E_IO, "the CA's answer has no base64 "
		    "\"%s\"", key);
	return 0;
}

/* POST and want `want`; else the CA's message. */
static int
exchange(const struct enroll_opts *o, const char *path, json_t *body,
    long want, json_t **reply)
{
	long status = 0;
	int r;

	if ((r = net_post_json(o, path, body, &status, reply)) != 0)
		return r;
	if (status == want)
		return 0;
	r = cairn_error(status == 401 ? CAIRN_E_AUTH : status == 403 ?
	    CAIRN_E_DENIED : status == 422 ? CAIRN_E_POLICY :
	    CAIRN_E_STATE, "the CA refused (HTTP %ld): %s", status,
	    net_error(*reply));
	json_decref(*reply);
	*reply = NULL;
	return r;
}

static int
write_key(struct tpm *t)
{
	TSSPRIVKEY *k = TSSPRIVKEY_new();
	uint8_t pub[sizeof(TPM2B_PUBLIC) + 2], priv[sizeof(TPM2B_PRIVATE) + 2];
	uint8_t *der = NULL;
	size_t poff = 0, qoff = 0;
	BIO *b = NULL;
	char *data;
	long len;
	int dlen, r;

	if (k == NULL || Tss2_MU_TPM2B_PUBLIC_Marshal(t->key_pub, pub,
	    sizeof(pub), &poff) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(t->key_priv, priv, sizeof(priv),
	    &qoff) != TSS2_RC_SUCCESS) {
		r = cairn_error(CAIRN_E_INTERNAL, "marshalling the key");
		goto out;
	}
	k->type = OBJ_txt2obj("2.23.133.10.1.3", 1); /* id-loadablekey */
	k->emptyAuth = 0xff;
	if (k->type == NULL || ASN1_INTEGER_set(k->parent, TPM2_RH_OWNER) != 1 ||
	    ASN1_OCTET_STRING_set(k->pubkey, pub, (int)poff) != 1 ||
	    ASN1_OCTET_STRING_set(k->privkey, priv, (int)qoff) != 1 ||
	    (dlen = i2d_TSSPRIVKEY(k, &der)) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(b, "TSS2 PRIVATE KEY", "", der, dlen) <= 0 ||
	    (len = BIO_get_mem_data(b, &data)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the key file");
		goto out;
	}
	r = fileio_write_atomic(t->o->key_out, data, (size_t)len, 0600, 0);
out:
	OPENSSL_free(der);
	BIO_free(b);
	TSSPRIVKEY_free(k);
	return r;
}

/* ---- the exchange ------------------------------------------------------ */

static int
round1(struct tpm *t, const char *csr, json_t **reply)
{
	char *ek = b64_public(t->ek_pub), *ak = b64_public(t->ak_pub);
	char *key = b64_public(t->key_pub), *cert = NULL;
	json_t *body;
	int r;

	if (t->ek_cert != NULL && !t->o->no_ek_cert)
		cert = b64(t->ek_cert, t->ek_cert_len);
	body = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s*}", "template",
	    t->o->template_name, "csr", csr, "ek_pub", ek, "ak_pub", ak,
	    "key_pub", key, "ek_cert", cert);
	if (body == NULL || ek == NULL || ak == NULL || key == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	else
		r = exchange(t->o, "/api/v1/attest/start", body, 201, reply);
	json_decref(body);
	free(ek);
	free(ak);
	free(key);
	free(cert);
	return r;
}

/* ActivateCredential: the AK (empty auth) and the EK, whose policy is
 * PolicySecret(TPM_RH_ENDORSEMENT). */
static int
activate(struct tpm *t, const json_t *r1, TPM2B_DIGEST **secret)
{
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET enc;
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	ESYS_TR sess = ESYS_TR_NONE;
	uint8_t *bb = NULL, *eb = NULL;
	size_t blen = 0, elen = 0, off = 0;
	TSS2_RC rc;
	int r;

	memset(&blob, 0, sizeof(blob));
	memset(&enc, 0, sizeof(enc));
	if ((r = b64_get(r1, "credential_blob", &bb, &blen)) != 0 ||
	    (r = b64_get(r1, "encrypted_secret", &eb, &elen)) != 0)
		goto out;
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(bb, blen, &off, &blob) !=
	    TSS2_RC_SUCCESS || off != blen ||
	    (off = 0, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(eb, elen, &off,
	    &enc)) != TSS2_RC_SUCCESS || off != elen) {
		r = cairn_error(CAIRN_E_IO, "the CA's credential does not "
		    "unmarshal");
		goto out;
	}
	if ((rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
	    &sym, TPM2_ALG_SHA256, &sess)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, sess,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0,
	    NULL, NULL)) != TSS2_RC_SUCCESS) {
		r = tss_fail(rc, "the EK's policy session");
		goto out;
	}
	if ((rc = Esys_ActivateCredential(t->esys, t->ak, t->ek,
	    ESYS_TR_PASSWORD, sess, ESYS_TR_NONE, &blob, &enc, secret)) !=
	    TSS2_RC_SUCCESS) {
		r = tss_fail(rc, "TPM2_ActivateCredential of the CA's "
		    "credential");
		goto out;
	}
	r = 0;
out:
	if (sess != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, sess);
	free(bb);
	free(eb);
	return r;
}

static int
certify(struct tpm *t, const json_t *r1, TPM2B_ATTEST **attest,
    TPMT_SIGNATURE **sig)
{
	TPM2B_DATA q = { 0 };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	uint8_t *nonce = NULL;
	size_t nlen = 0;
	TSS2_RC rc;
	int r;

	if ((r = b64_get(r1, "nonce", &nonce, &nlen)) != 0)
		return r;
	if (nlen > sizeof(q.buffer)) {
		free(nonce);
		return cairn_error(CAIRN_E_IO, "the CA's nonce is too long");
	}
	q.size = (UINT16)nlen;
	memcpy(q.buffer, nonce, nlen);
	free(nonce);
	if ((rc = Esys_Certify(t->esys, t->key, t->ak, ESYS_TR_PASSWORD,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, &q, &scheme, attest, sig)) !=
	    TSS2_RC_SUCCESS)
		return tss_fail(rc, "TPM2_Certify of the new key by the AK");
	return 0;
}

static int
round2(struct tpm *t, const json_t *r1, const TPM2B_DIGEST *secret,
    const TPM2B_ATTEST *attest, const TPMT_SIGNATURE *sig, json_t **reply)
{
	uint8_t abuf[sizeof(*attest) + 2], sbuf[sizeof(*sig)];
	size_t aoff = 0, soff = 0;
	const char *session = NULL;
	char *bs = NULL, *ba = NULL, *bg = NULL;
	json_t *body = NULL;
	int r;

	if (json_unpack((json_t *)r1, "{s:s}", "session", &session) != 0)
		return cairn_error(CAIRN_E_IO, "the CA's answer has no "
		    "session");
	if (Tss2_MU_TPM2B_ATTEST_Marshal(attest, abuf, sizeof(abuf), &aoff) !=
	    TSS2_RC_SUCCESS ||
	    Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sbuf, sizeof(sbuf), &soff) !=
	    TSS2_RC_SUCCESS)
		return cairn_error(CAIRN_E_INTERNAL, "marshalling the "
		    "attestation");
	bs = b64(secret->buffer, secret->size);
	ba = b64(abuf, aoff);
	bg = b64(sbuf, soff);
	if (bs == NULL || ba == NULL || bg == NULL ||
	    (body = json_pack("{s:s, s:s, s:s, s:s}", "session", session,
	    "secret", bs, "attest", ba, "signature", bg)) == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	else
		r = exchange(t->o, "/api/v1/attest/finish", body, 201, reply);
	json_decref(body);
	if (bs != NULL)
		cairn_free_secret(bs, 0);
	free(ba);
	free(bg);
	return r;
}

int
enroll_tpm(const struct enroll_opts *o)
{
	struct tpm t = { 0 };
	TPM2B_PUBLIC tmpl;
	TPM2B_DIGEST *secret = NULL;
	TPM2B_ATTEST *attest = NULL;
	TPMT_SIGNATURE *sig = NULL;
	json_t *r1 = NULL, *r2 = NULL;
	const char *cert = NULL, *trust = NULL;
	char *csr = NULL;
	int r;

	t.o = o;
	if ((r = tpm_open(&t)) != 0 || (r = load_ek(&t)) != 0)
		goto out;
	unload(&t, &t.ek);
	if ((r = read_ek_cert(&t)) != 0)
		goto out;
	say(&t, "EK: %s, from the TCG template", o->ek_ecc ? "ECC P-256" :
	    "RSA 2048");
	srk_template(&tmpl);
	if ((r = create_primary(&t, ESYS_TR_RH_OWNER, &tmpl, &t.srk, NULL,
	    "creating the storage key (owner hierarchy)")) != 0)
		goto out;
	sign_template(o->ek_ecc, 1, &tmpl);
	if ((r = create_key(&t, &tmpl, &t.ak_pub, &t.ak_priv,
	    "creating the attestation key")) != 0)
		goto out;
	sign_template(o->key_ecc, 0, &tmpl);
	if ((r = create_key(&t, &tmpl, &t.key_pub, &t.key_priv,
	    "creating the new key")) != 0 ||
	    (r = load_key(&t, t.key_pub, t.key_priv, &t.key,
	    "loading the new key")) != 0 ||
	    (r = load_key(&t, t.ak_pub, t.ak_priv, &t.ak,
	    "loading the attestation key")) != 0)
		goto out;
	unload(&t, &t.srk);
	say(&t, "new %s key made in the TPM", o->key_ecc ? "EC P-256" :
	    "RSA 2048");
	if ((r = make_csr(&t, &csr)) != 0 ||
	    (r = round1(&t, csr, &r1)) != 0)
		goto out;
	json_unpack(r1, "{s:s}", "trust", &trust);
	say(&t, "round 1: the CA trusts this TPM at level %s",
	    trust != NULL ? trust : "?");
	if ((r = load_ek(&t)) != 0 || (r = activate(&t, r1, &secret)) != 0)
		goto out;
	unload(&t, &t.ek);
	if ((r = certify(&t, r1, &attest, &sig)) != 0)
		goto out;
	say(&t, "credential activated, new key certified by the AK");
	if ((r = round2(&t, r1, secret, attest, sig, &r2)) != 0)
		goto out;
	if (json_unpack(r2, "{s:s}", "certificate", &cert) != 0) {
		r = cairn_error(CAIRN_E_IO, "the CA's answer has no "
		    "certificate");
		goto out;
	}
	if (o->key_out != NULL && (r = write_key(&t)) != 0)
		goto out;
	if (o->out != NULL)
		r = fileio_write_atomic(o->out, cert, strlen(cert), 0644, 0);
	else
		r = fputs(cert, stdout) < 0 ? cairn_error(CAIRN_E_IO,
		    "writing the certificate") : 0;
	say(&t, "certificate issued%s%s", o->out ? ": " : "",
	    o->out ? o->out : "");
out:
	if (secret != NULL)
		OPENSSL_cleanse(secret, sizeof(*secret));
	Esys_Free(secret);
	Esys_Free(attest);
	Esys_Free(sig);
	free(csr);
	json_decref(r1);
	json_decref(r2);
	tpm_close(&t);
	return r;
}
