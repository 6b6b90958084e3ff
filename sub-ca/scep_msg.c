/*
 * scep_msg.c: SCEP messages (RFC 8894 section 3): PKIOperation parsing and
 * CertRep building.  See scep.h for the contract.
 *
 * Layers of a PKIOperation, each checked before the next is read:
 *   base64 (GET) -> CMS SignedData (one signer, signature and digest
 *   verified, SCEP attributes) -> pkcsPKIEnvelope (PKCS#7 EnvelopedData,
 *   decrypted with an RA key) -> PKCS#10 / IssuerAndSubject /
 *   IssuerAndSerialNumber.
 * The envelope is opened by hand on OpenSSL's PKCS#7 structures rather
 * than with CMS_decrypt(), for two reasons: the cipher must be checked
 * against what the configuration allows before anything is decrypted, and
 * a key transport that fails to decrypt must fail exactly like a content
 * that fails to decrypt (a random key is used after an RSA failure, as
 * OpenSSL's own CMS code does against Bleichenbacher's attack), since the
 * RSA key behind it is the CA's RA key in the HSM.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/csr.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/scep.h"

/* ---- ASN.1 -------------------------------------------------------------- */

/* CertPoll's content (RFC 8894 3.3.3):
 *   IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name } */
typedef struct {
	X509_NAME *issuer;
	X509_NAME *subject;
} SCEP_ISSUER_AND_SUBJECT;

DECLARE_ASN1_FUNCTIONS(SCEP_ISSUER_AND_SUBJECT)

ASN1_SEQUENCE(SCEP_ISSUER_AND_SUBJECT) = {
	ASN1_SIMPLE(SCEP_ISSUER_AND_SUBJECT, issuer, X509_NAME),
	ASN1_SIMPLE(SCEP_ISSUER_AND_SUBJECT, subject, X509_NAME),
} ASN1_SEQUENCE_END(SCEP_ISSUER_AND_SUBJECT)

IMPLEMENT_ASN1_FUNCTIONS(SCEP_ISSUER_AND_SUBJECT)

/* The SCEP attributes (3.2.1): each is a single value of one type. */
enum attr_id { A_MSGTYPE, A_STATUS, A_FAILINFO, A_SNONCE, A_RNONCE, A_TID,
	A_FAILTEXT, A_N };

static const struct {
	const char *oid, *name;
	int type;
} attr_def[A_N] = {
	[A_MSGTYPE] = { "2.16.840.1.113733.1.9.2", "messageType",
	    V_ASN1_PRINTABLESTRING },
	[A_STATUS] = { "2.16.840.1.113733.1.9.3", "pkiStatus",
	    V_ASN1_PRINTABLESTRING },
	[A_FAILINFO] = { "2.16.840.1.113733.1.9.4", "failInfo",
	    V_ASN1_PRINTABLESTRING },
	[A_SNONCE] = { "2.16.840.1.113733.1.9.5", "senderNonce",
	    V_ASN1_OCTET_STRING },
	[A_RNONCE] = { "2.16.840.1.113733.1.9.6", "recipientNonce",
	    V_ASN1_OCTET_STRING },
	[A_TID] = { "2.16.840.1.113733.1.9.7", "transactionID",
	    V_ASN1_PRINTABLESTRING },
	/* id-scep-failInfoText, RFC 8894 3.2.1.4 */
	[A_FAILTEXT] = { "1.3.6.1.5.5.7.24.1", "failInfoText",
	    V_ASN1_UTF8STRING },
};

static pthread_once_t oid_once = PTHREAD_ONCE_INIT;
static ASN1_OBJECT *attr_obj[A_N];

static void
oid_init(void)
{
	size_t i;

	for (i = 0; i < A_N; i++)
		attr_obj[i] = OBJ_txt2obj(attr_def[i].oid, 1);
}

static int
oids(void)
{
	size_t i;

	pthread_once(&oid_once, oid_init);
	for (i = 0; i < A_N; i++)
		if (attr_obj[i] == NULL)
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
	return 0;
}

const char *
scep_type_name(int type)
{
	static __thread char buf[32];

	switch (type) {
	case SCEP_CERTREP: return "CertRep";
	case SCEP_RENEWALREQ: return "RenewalReq";
	case SCEP_UPDATEREQ: return "UpdateReq";
	case SCEP_PKCSREQ: return "PKCSReq";
	case SCEP_CERTPOLL: return "CertPoll";
	case SCEP_GETCERT: return "GetCert";
	case SCEP_GETCRL: return "GetCRL";
	}
	snprintf(buf, sizeof(buf), "messageType %d", type);
	return buf;
}

const char *
scep_fail_name(int fail)
{
	switch (fail) {
	case SCEP_BAD_ALG: return "badAlg";
	case SCEP_BAD_MESSAGE_CHECK: return "badMessageCheck";
	case SCEP_BAD_REQUEST: return "badRequest";
	case SCEP_BAD_TIME: return "badTime";
	case SCEP_BAD_CERT_ID: return "badCertId";
	}
	return "none";
}

/* ---- parsing ------------------------------------------------------------ */

/* A refusal: set the answer and the detail. */
static int
refuse(struct scep_msg *m, int fail, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(struct scep_msg *m, int fail, int code, const char *fmt, ...)
{
	va_list ap;

	m->fail_info = fail;
	va_start(ap, fmt);
	cairn_verror(code, fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return code;
}

void
scep_msg_clear(struct scep_msg *m)
{
	X509_free(m->signer);
	sk_X509_pop_free(m->certs, X509_free);
	X509_REQ_free(m->csr);
	if (m->challenge != NULL)
		cairn_free_secret(m->challenge, 0);
	X509_NAME_free(m->issuer);
	X509_NAME_free(m->subject);
	ASN1_INTEGER_free(m->serial);
	memset(m, 0, sizeof(*m));
}

static int
b64_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

int
scep_msg_b64(const char *text, uint8_t **der, size_t *len)
{
	size_t n = strlen(text), i, k = 0;
	char *buf;
	int r;

	*der = NULL;
	*len = 0;
	if (n == 0)
		return cairn_error(CAIRN_E_INVAL, "PKIOperation: the message "
		    "argument is empty: send the base64 of the DER "
		    "pkiMessage (RFC 8894 4.3)");
	if (n > CAIRN_HTTP_HEADER_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "PKIOperation: the "
		    "message argument has %zu characters, more than %d; send "
		    "large messages by POST", n, CAIRN_HTTP_HEADER_MAX);
	if ((buf = malloc(n + 4)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		int c = (unsigned char)text[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == ' ') /* a '+' the client did not percent-encode */
			c = '+';
		else if (c == '-') /* base64url (micromdm's scepclient) */
			c = '+';
		else if (c == '_')
			c = '/';
		if (!b64_char(c)) {
			free(buf);
			return cairn_error(CAIRN_E_INVAL, "PKIOperation: "
			    "message: character 0x%02x at offset %zu is not "
			    "base64", c, i);
		}
		buf[k++] = (char)c;
	}
	while (k % 4 != 0)
		buf[k++] = '=';
	r = cairn_b64_decode(buf, k, der, len);
	free(buf);
	if (r != 0 || *len == 0) {
		free(*der);
		*der = NULL;
		*len = 0;
		return cairn_error(CAIRN_E_INVAL, "PKIOperation: message: not "
		    "valid base64 (padding in the middle, or stray bits)");
	}
	return 0;
}

/* The single value of attribute `a`, which must be of the SCEP type. */
static int
attr_value(struct scep_msg *m, X509_ATTRIBUTE *a, enum attr_id id, int fail,
    ASN1_STRING **out)
{
	ASN1_TYPE *t;
	int n = X509_ATTRIBUTE_count(a), type;

	if (n != 1)
		return refuse(m, fail, CAIRN_E_INVAL, "RFC 8894 3.2.1: %s: "
		    "want one value, have %d", attr_def[id].name, n);
	t = X509_ATTRIBUTE_get0_type(a, 0);
	type = t != NULL ? ASN1_TYPE_get(t) : -1;
	if (type != attr_def[id].type)
		return refuse(m, fail, CAIRN_E_INVAL, "RFC 8894 3.2.1: %s: "
		    "want a %s, have %s", attr_def[id].name,
		    ASN1_tag2str(attr_def[id].type),
		    type < 0 ? "nothing" : ASN1_tag2str(type));
	*out = t->value.asn1_string;
	return 0;
}

/* X.680 PrintableString characters. */
static int
printable(const unsigned char *s, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr(" '()+,-./:=?", s[i]) != NULL) || s[i] == '\0')
			return 0;
	return 1;
}

/*
 * The SCEP signed attributes.  transactionID and senderNonce first: without
 * them nothing can be answered; then messageType.
 */
static int
read_attrs(CMS_SignerInfo *si, struct scep_msg *m)
{
	X509_ATTRIBUTE *found[A_N] = { NULL }, *a;
	ASN1_STRING *v;
	const unsigned char *d;
	int i, n, len, k, type;
	size_t id;

	n = CMS_signed_get_attr_count(si);
	if (n <= 0)
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1: the SignerInfo has no signed attributes (no "
		    "messageType, transactionID or senderNonce)");
	for (i = 0; i < n; i++) {
		a = CMS_signed_get_attr(si, i);
		for (id = 0; id < A_N; id++)
			if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a),
			    attr_obj[id]) == 0)
				break;
		if (id == A_N)
			continue; /* contentType, messageDigest, signingTime */
		if (found[id] != NULL)
			return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL,
			    "RFC 8894 3.2.1: the %s attribute appears twice",
			    attr_def[id].name);
		found[id] = a;
	}
	if (found[A_TID] == NULL)
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.1: no transactionID attribute");
	if (attr_value(m, found[A_TID], A_TID, SCEP_NO_CERTREP, &v) != 0)
		return CAIRN_E_INVAL;
	len = ASN1_STRING_length(v);
	d = ASN1_STRING_get0_data(v);
	if (len < 1 || len > CAIRN_SCEP_TID_MAX || !printable(d, len))
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.1: transactionID: want 1 to %d PrintableString "
		    "characters, have %d%s", CAIRN_SCEP_TID_MAX, len,
		    len >= 1 && len <= CAIRN_SCEP_TID_MAX ?
		    " with characters outside PrintableString" : "");
	memcpy(m->tid, d, (size_t)len);
	m->tid[len] = '\0';
	if (found[A_SNONCE] == NULL)
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.5: no senderNonce attribute");
	if (attr_value(m, found[A_SNONCE], A_SNONCE, SCEP_NO_CERTREP,
	    &v) != 0)
		return CAIRN_E_INVAL;
	if (ASN1_STRING_length(v) != SCEP_NONCE_LEN)
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.5: senderNonce: want %d bytes, have %d",
		    SCEP_NONCE_LEN, ASN1_STRING_length(v));
	memcpy(m->nonce, ASN1_STRING_get0_data(v), SCEP_NONCE_LEN);
	m->has_nonce = 1;
	/* From here on a failure can be answered with a CertRep. */
	if (found[A_MSGTYPE] == NULL)
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.2: no messageType attribute");
	if (attr_value(m, found[A_MSGTYPE], A_MSGTYPE, SCEP_BAD_REQUEST,
	    &v) != 0)
		return CAIRN_E_INVAL;
	len = ASN1_STRING_length(v);
	d = ASN1_STRING_get0_data(v);
	for (k = 0, type = 0; k < len && k < 3 && d[k] >= '0' && d[k] <= '9';
	    k++)
		type = type * 10 + (d[k] - '0');
	if (len < 1 || len > 3 || k != len)
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.2: messageType: want a decimal number such as 19 "
		    "(PKCSReq), have %d characters that are not one", len);
	m->type = type;
	switch (type) {
	case SCEP_PKCSREQ:
	case SCEP_RENEWALREQ:
	case SCEP_CERTPOLL:
	case SCEP_GETCERT:
	case SCEP_GETCRL:
		break;
	case SCEP_UPDATEREQ:
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.2: messageType 18 (UpdateReq) is obsolete; renew "
		    "with RenewalReq (17)");
	default:
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.1.2: messageType %d is not a request this CA "
		    "answers: want 19 (PKCSReq), 17 (RenewalReq), 20 "
		    "(CertPoll), 21 (GetCert) or 22 (GetCRL)", type);
	}
	return 0;
}

/* Digests accepted on a request's signature. */
static int
digest_ok(struct scep_msg *m, CMS_SignerInfo *si, unsigned allow)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	nid = dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	switch (nid) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		break;
	case NID_sha1:
		if (allow & SCEP_ALLOW_SHA1)
			break;
		return refuse(m, SCEP_BAD_ALG, CAIRN_E_INVAL, "the message "
		    "is signed with SHA-1, which this CA does not accept "
		    "(GetCACaps offers SHA-256 and SHA-512; an operator may "
		    "allow SHA-1 with scep.legacy: [sha1])");
	default:
		return refuse(m, SCEP_BAD_ALG, CAIRN_E_INVAL, "the message's "
		    "digest algorithm %s is not accepted: want SHA-256, "
		    "SHA-384 or SHA-512", nid == NID_undef ? "(unknown)" :
		    OBJ_nid2sn(nid));
	}
	m->md = EVP_get_digestbynid(nid);
	if (m->md == NULL)
		return refuse(m, SCEP_BAD_ALG, CAIRN_E_INVAL, "digest %s is "
		    "not available", OBJ_nid2sn(nid));
	return 0;
}

struct cipher_def {
	int nid;
	const char *name;      /* for EVP_CIPHER_fetch */
	unsigned need;         /* SCEP_ALLOW_* needed, 0 for none */
};

static const struct cipher_def ciphers[] = {
	{ NID_aes_128_cbc, "AES-128-CBC", 0 },
	{ NID_aes_192_cbc, "AES-192-CBC", 0 },
	{ NID_aes_256_cbc, "AES-256-CBC", 0 },
	{ NID_des_ede3_cbc, "DES-EDE3-CBC", SCEP_ALLOW_DES3 },
	{ NID_des_cbc, "DES-CBC", SCEP_ALLOW_DES },
};

/* The cipher for `nid` (new reference; EVP_CIPHER_free): single DES comes
 * from the legacy library context. */
static EVP_CIPHER *
cipher_fetch(int nid, OSSL_LIB_CTX *legacy)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].nid == nid)
			return EVP_CIPHER_fetch(nid == NID_des_cbc ? legacy :
			    NULL, ciphers[i].name, NULL);
	return NULL;
}

/* Does recipient `ri` name RA certificate `x` (issuer and serial)? */
static int
names_cert(PKCS7_RECIP_INFO *ri, X509 *x)
{
	PKCS7_ISSUER_AND_SERIAL *ias = ri->issuer_and_serial;

	return ias != NULL && ias->issuer != NULL && ias->serial != NULL &&
	    X509_NAME_cmp(ias->issuer, X509_get_issuer_name(x)) == 0 &&
	    ASN1_INTEGER_cmp(ias->serial, X509_get0_serialNumber(x)) == 0;
}

/*
 * Open the pkcsPKIEnvelope.  *out receives the plaintext (new, wiped and
 * freed by the caller).
 */
static int
envelope_open(struct scep_msg *m, const uint8_t *der, size_t len,
    const struct scep_ra_key *ra, size_t n_ra, unsigned allow,
    OSSL_LIB_CTX *legacy, uint8_t **out, size_t *outlen)
{
	const unsigned char *p = der;
	PKCS7 *p7 = NULL;
	PKCS7_ENVELOPE *env;
	PKCS7_ENC_CONTENT *eci;
	PKCS7_RECIP_INFO *ri = NULL;
	EVP_CIPHER *cipher = NULL;
	EVP_CIPHER_CTX *cctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const struct cipher_def *cd = NULL;
	ASN1_TYPE *param;
	uint8_t key[EVP_MAX_KEY_LENGTH], iv[EVP_MAX_IV_LENGTH], *plain = NULL;
	uint8_t cek[1024];      /* RSA decryption wants the modulus size */
	size_t keylen, i, j, cek_len = sizeof(cek);
	long ver;
	int n, ivlen, bad = 0, l1 = 0, l2 = 0, r, ok;

	*out = NULL;
	*outlen = 0;
	if (len == 0)
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.3: the SignedData content is empty: want a "
		    "pkcsPKIEnvelope");
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.2: pkcsPKIEnvelope: %s", p7 == NULL ? "not a DER "
		    "PKCS#7 ContentInfo" : "bytes after the ContentInfo");
		goto out;
	}
	if (OBJ_obj2nid(p7->type) != NID_pkcs7_enveloped) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.2: pkcsPKIEnvelope: want EnvelopedData, have %s",
		    OBJ_nid2sn(OBJ_obj2nid(p7->type)));
		goto out;
	}
	env = p7->d.enveloped;
	ver = ASN1_INTEGER_get(env->version);
	eci = env->enc_data;
	n = sk_PKCS7_RECIP_INFO_num(env->recipientinfo);
	if ((ver != 0 && ver != 2) || eci == NULL ||
	    OBJ_obj2nid(eci->content_type) != NID_pkcs7_data ||
	    eci->enc_data == NULL || ASN1_STRING_length(eci->enc_data) <= 0) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2.2: pkcsPKIEnvelope: want EnvelopedData version 0 "
		    "with encrypted id-data content%s", eci != NULL &&
		    eci->enc_data == NULL ? " (the content is absent)" : "");
		goto out;
	}
	if (n < 1 || n > CAIRN_SCEP_RECIPIENTS_MAX) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL,
		    "pkcsPKIEnvelope: "
		    "%d recipients: want 1 to %d", n,
		    CAIRN_SCEP_RECIPIENTS_MAX);
		goto out;
	}
	/* The cipher, before anything is decrypted. */
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (OBJ_obj2nid(eci->algorithm->algorithm) == ciphers[i].nid)
			cd = &ciphers[i];
	if (cd == NULL) {
		r = refuse(m, SCEP_BAD_ALG, CAIRN_E_INVAL, "pkcsPKIEnvelope: "
		    "content encryption %s is not accepted: want "
		    "AES-128-CBC, AES-192-CBC or AES-256-CBC",
		    OBJ_nid2sn(OBJ_obj2nid(eci->algorithm->algorithm)));
		goto out;
	}
	if (cd->need != 0 && (!(allow & cd->need) ||
	    (cd->nid == NID_des_cbc && legacy == NULL))) {
		r = refuse(m, SCEP_BAD_ALG, CAIRN_E_INVAL, "pkcsPKIEnvelope: "
		    "content encryption %s is not accepted (GetCACaps offers "
		    "AES; an operator may allow it with scep.legacy: [%s])",
		    cd->name, cd->nid == NID_des_cbc ? "des" : "des3");
		goto out;
	}
	if ((cipher = cipher_fetch(cd->nid, legacy)) == NULL) {
		r = refuse(m, SCEP_BAD_ALG, CAIRN_E_CRYPTO, "pkcsPKIEnvelope: "
		    "cipher %s is not available in this OpenSSL", cd->name);
		goto out;
	}
	m->cipher_nid = cd->nid;
	keylen = (size_t)EVP_CIPHER_get_key_length(cipher);
	ivlen = EVP_CIPHER_get_iv_length(cipher);
	param = eci->algorithm->parameter;
	if (param == NULL || ASN1_TYPE_get(param) != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(param->value.octet_string) != ivlen ||
	    ivlen > (int)sizeof(iv) || keylen > sizeof(key) ||
	    ASN1_STRING_length(eci->enc_data) % EVP_CIPHER_get_block_size(
		cipher) != 0) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL,
		    "pkcsPKIEnvelope: "
		    "%s: want a %d-byte IV as parameter and whole blocks of "
		    "ciphertext", cd->name, ivlen);
		goto out;
	}
	memcpy(iv, ASN1_STRING_get0_data(param->value.octet_string),
	    (size_t)ivlen);
	/* The recipient: one of our RA certificates, by issuer and serial. */
	for (i = 0; i < (size_t)n && m->ra == NULL; i++) {
		PKCS7_RECIP_INFO *x = sk_PKCS7_RECIP_INFO_value(
		    env->recipientinfo, (int)i);

		for (j = 0; j < n_ra; j++)
			if (names_cert(x, ra[j].cert)) {
				ri = x;
				m->ra = &ra[j];
				break;
			}
	}
	if (ri == NULL) {
		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL,
		    "pkcsPKIEnvelope: encrypted for another recipient: none "
		    "of its %d recipient(s) is this CA's RA certificate "
		    "(fetch it again with GetCACert)", n);
		goto out;
	}
	if (OBJ_obj2nid(ri->key_enc_algor->algorithm) != NID_rsaEncryption ||
	    ASN1_INTEGER_get(ri->version) != 0 || ri->enc_key == NULL ||
	    ASN1_STRING_length(ri->enc_key) !=
	    EVP_PKEY_get_size(m->ra->pkey)) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL,
		    "pkcsPKIEnvelope: "
		    "the RA's recipient info must be version 0 with "
		    "rsaEncryption key transport and a %d-byte encrypted key",
		    EVP_PKEY_get_size(m->ra->pkey));
		goto out;
	}
	/* The content-encryption key, decrypted in the token.  Whatever goes
	 * wrong here is not reported until the content has been decrypted
	 * with a random key, so both failures look alike. */
	ok = (pctx = EVP_PKEY_CTX_new(m->ra->pkey, NULL)) != NULL &&
	    EVP_PKEY_decrypt_init(pctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_decrypt(pctx, cek, &cek_len,
		ASN1_STRING_get0_data(ri->enc_key),
		(size_t)ASN1_STRING_length(ri->enc_key)) == 1 &&
	    cek_len == keylen;
	if (ok)
		memcpy(key, cek, keylen);
	OPENSSL_cleanse(cek, sizeof(cek));
	ERR_clear_error();
	cairn_error_clear();
	if (!ok) {
		bad = 1;
		if (RAND_bytes(key, (int)keylen) != 1) {
			r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_CRYPTO,
			    "the random number generator failed");
			goto out;
		}
	}
	if ((plain = malloc((size_t)ASN1_STRING_length(eci->enc_data) +
	    EVP_MAX_BLOCK_LENGTH)) == NULL) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	ok = (cctx = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_DecryptInit_ex2(cctx, cipher, key, iv, NULL) == 1 &&
	    EVP_DecryptUpdate(cctx, plain, &l1,
		ASN1_STRING_get0_data(eci->enc_data),
		ASN1_STRING_length(eci->enc_data)) == 1 &&
	    EVP_DecryptFinal_ex(cctx, plain + l1, &l2) == 1;
	if (!ok || bad) {
		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL,
		    "pkcsPKIEnvelope: could not be decrypted with the RA "
		    "key (encrypted for an older RA key, or corrupted)");
		goto out;
	}
	*out = plain;
	*outlen = (size_t)(l1 + l2);
	plain = NULL; /* transferred */
	r = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (plain != NULL) {
		OPENSSL_cleanse(plain, (size_t)(l1 + l2));
		free(plain);
	}
	EVP_CIPHER_CTX_free(cctx);
	EVP_PKEY_CTX_free(pctx);
	EVP_CIPHER_free(cipher);
	PKCS7_free(p7);
	ERR_clear_error();
	return r;
}

/* The challengePassword attribute of a request: at most one, one value,
 * a DirectoryString. */
static int
read_challenge(struct scep_msg *m)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	unsigned char *u = NULL;
	int idx, len, type;

	idx = X509_REQ_get_attr_by_NID(m->csr, NID_pkcs9_challengePassword,
	    -1);
	if (idx < 0)
		return 0;
	if (X509_REQ_get_attr_by_NID(m->csr, NID_pkcs9_challengePassword,
	    idx) >= 0)
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_CSR, "the request "
		    "has two challengePassword attributes");
	a = X509_REQ_get_attr(m->csr, idx);
	if (X509_ATTRIBUTE_count(a) != 1)
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_CSR, "the request's "
		    "challengePassword has %d values: want one",
		    X509_ATTRIBUTE_count(a));
	t = X509_ATTRIBUTE_get0_type(a, 0);
	type = t != NULL ? ASN1_TYPE_get(t) : -1;
	switch (type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
		break;
	default:
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_CSR, "the request's "
		    "challengePassword is a %s: want a DirectoryString "
		    "(PKCS#9)", type < 0 ? "nothing" : ASN1_tag2str(type));
	}
	len = ASN1_STRING_to_UTF8(&u, t->value.asn1_string);
	if (len < 1 || len > CAIRN_SCEP_CHALLENGE_MAX ||
	    memchr(u, '\0', (size_t)len) != NULL) {
		if (u != NULL)
			OPENSSL_clear_free(u, len > 0 ? (size_t)len : 0);
		return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_CSR, "the request's "
		    "challengePassword: want 1 to %d characters of text",
		    CAIRN_SCEP_CHALLENGE_MAX);
	}
	if ((m->challenge = malloc((size_t)len + 1)) == NULL) {
		OPENSSL_clear_free(u, (size_t)len);
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_NOMEM,
		    "out of memory");
	}
	memcpy(m->challenge, u, (size_t)len);
	m->challenge[len] = '\0';
	OPENSSL_clear_free(u, (size_t)len);
	return 0;
}

/* What is inside the envelope, by messageType. */
static int
read_content(struct scep_msg *m, const uint8_t *buf, size_t len)
{
	const unsigned char *p = buf;
	SCEP_ISSUER_AND_SUBJECT *ias = NULL;
	PKCS7_ISSUER_AND_SERIAL *iasn = NULL;
	int r;

	switch (m->type) {
	case SCEP_PKCSREQ:
	case SCEP_RENEWALREQ:
		if ((r = csr_parse(buf, len, &m->csr)) != 0) {
			m->fail_info = SCEP_BAD_REQUEST;
			return cairn_error_prefix(r, "%s: the PKCS#10 request "
			    "in the envelope: ", scep_type_name(m->type));
		}
		return read_challenge(m);
	case SCEP_CERTPOLL:
		ias = d2i_SCEP_ISSUER_AND_SUBJECT(NULL, &p, (long)len);
		if (ias == NULL || p != buf + len) {
			SCEP_ISSUER_AND_SUBJECT_free(ias);
			return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL,
			    "RFC 8894 3.3.3: CertPoll: want an "
			    "IssuerAndSubject in the envelope%s", ias != NULL ?
			    " and nothing after it" : "");
		}
		m->issuer = ias->issuer;
		m->subject = ias->subject;
		ias->issuer = ias->subject = NULL; /* transferred */
		SCEP_ISSUER_AND_SUBJECT_free(ias);
		return 0;
	case SCEP_GETCERT:
	case SCEP_GETCRL:
		iasn = d2i_PKCS7_ISSUER_AND_SERIAL(NULL, &p, (long)len);
		if (iasn == NULL || p != buf + len) {
			PKCS7_ISSUER_AND_SERIAL_free(iasn);
			return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL,
			    "RFC 8894 3.3.%d: %s: want an "
			    "IssuerAndSerialNumber in the envelope%s",
			    m->type == SCEP_GETCERT ? 4 : 5,
			    scep_type_name(m->type), iasn != NULL ?
			    " and nothing after it" : "");
		}
		m->issuer = iasn->issuer;
		m->serial = iasn->serial;
		iasn->issuer = NULL;
		iasn->serial = NULL; /* transferred */
		PKCS7_ISSUER_AND_SERIAL_free(iasn);
		return 0;
	}
	return refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "%s has no content "
	    "this CA reads", scep_type_name(m->type));
}

int
scep_msg_parse(const uint8_t *der, size_t len,
    const struct scep_ra_key *ra, size_t n_ra, unsigned allow,
    OSSL_LIB_CTX *legacy, struct scep_msg *m)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *signers = NULL;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **content;
	BIO *outb = NULL;
	uint8_t *plain = NULL, *env;
	size_t plainlen = 0;
	long envlen;
	int n, r;

	memset(m, 0, sizeof(*m));
	m->fail_info = SCEP_NO_CERTREP;
	if ((r = oids()) != 0)
		return r;
	if (len == 0)
		return refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL,
		    "PKIOperation: empty message");
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 3.2: "
		    "the pkiMessage is not a DER CMS/PKCS#7 ContentInfo");
		goto out;
	}
	if (p != der + len) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 3.2: "
		    "%zu bytes after the pkiMessage", (size_t)(der + len - p));
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 3.2: "
		    "the pkiMessage is %s, not SignedData",
		    OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
		goto out;
	}
	/* A SignedData without signers "verifies" vacuously in careless
	 * code (a known SCEP server bug): refuse it by name. */
	sis = CMS_get0_SignerInfos(cms);
	if ((n = sk_CMS_SignerInfo_num(sis)) != 1) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_INVAL, "RFC 8894 3.2: "
		    "the SignedData has %d signers: a pkiMessage has exactly "
		    "one", n < 0 ? 0 : n);
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if ((r = read_attrs(si, m)) != 0)
		goto out;
	content = CMS_get0_content(cms);
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data ||
	    content == NULL || *content == NULL) {
		r = refuse(m, SCEP_BAD_REQUEST, CAIRN_E_INVAL, "RFC 8894 3.2: "
		    "the SignedData must carry its id-data content (a "
		    "pkcsPKIEnvelope), not %s",
		    content == NULL || *content == NULL ? "a detached "
		    "signature" : "another content type");
		goto out;
	}
	m->certs = CMS_get1_certs(cms);
	n = m->certs != NULL ? sk_X509_num(m->certs) : 0;
	if (n < 1 || n > CAIRN_SCEP_CERTS_MAX) {
		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL, "RFC 8894 "
		    "2.3: the SignedData carries %d certificates: want the "
		    "signer's (a self-signed one for a first request), at "
		    "most %d in all", n, CAIRN_SCEP_CERTS_MAX);
		goto out;
	}
	if ((r = digest_ok(m, si, allow)) != 0)
		goto out;
	if (CMS_set1_signers_certs(cms, NULL, 0) < 1) {
		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL, "RFC 8894 "
		    "2.3: the signer's certificate is not among the "
		    "certificates in the message");
		goto out;
	}
	/* Signature over the signed attributes, and the content's digest.
	 * The signer's chain is the caller's business (self-signed for a
	 * first request, this CA's for a renewal). */
	if ((outb = BIO_new(BIO_s_mem())) == NULL) {
		r = refuse(m, SCEP_NO_CERTREP, CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (CMS_verify(cms, NULL, NULL, NULL, outb, CMS_NO_SIGNER_CERT_VERIFY |
	    CMS_BINARY) != 1) {
		unsigned long e = ERR_peek_last_error();

		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL, "RFC 8894 "
		    "3.2: the signature does not verify with the signer's "
		    "certificate (%s)", e != 0 &&
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "no reason given");
		goto out;
	}
	signers = CMS_get0_signers(cms);
	if (signers == NULL || sk_X509_num(signers) != 1 ||
	    X509_up_ref(sk_X509_value(signers, 0)) != 1) {
		r = refuse(m, SCEP_BAD_MESSAGE_CHECK, CAIRN_E_INVAL, "RFC 8894 "
		    "2.3: the signer's certificate cannot be identified");
		goto out;
	}
	m->signer = sk_X509_value(signers, 0);
	if ((envlen = BIO_get_mem_data(outb, (char **)&env)) < 0)
		envlen = 0;
	if ((r = envelope_open(m, env, (size_t)envlen, ra, n_ra, allow,
	    legacy, &plain, &plainlen)) != 0)
		goto out;
	if ((r = read_content(m, plain, plainlen)) != 0)
		goto out;
	m->fail_info = SCEP_NO_CERTREP; /* nothing failed */
	r = 0;
out:
	if (plain != NULL) {
		OPENSSL_cleanse(plain, plainlen);
		free(plain);
	}
	sk_X509_free(signers);
	BIO_free(outb);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

/* ---- building ----------------------------------------------------------- */

int
scep_msg_degenerate(STACK_OF(X509) *certs, X509_CRL *crl, uint8_t **out,
    size_t *outlen)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	int len, r = 0;

	*out = NULL;
	*outlen = 0;
	if ((p7 = PKCS7_sign(NULL, NULL, certs, NULL, PKCS7_PARTIAL)) ==
	    NULL || (crl != NULL && PKCS7_add_crl(p7, crl) != 1) ||
	    (len = i2d_PKCS7(p7, &der)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "building a "
		    "certificates-only SignedData");
		goto out;
	}
	if ((*out = malloc((size_t)len)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, der, (size_t)len);
	*outlen = (size_t)len;
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	return r;
}

static int
add_attr(CMS_SignerInfo *si, enum attr_id id, const void *v, int len)
{
	return CMS_signed_add1_attr_by_OBJ(si, attr_obj[id], attr_def[id].type,
	    v, len) == 1;
}

/* The pkcsPKIEnvelope of a successful reply (*out new, OPENSSL_free). */
static int
reply_envelope(const struct scep_reply *rp, unsigned char **out, int *outlen)
{
	CMS_ContentInfo *env = NULL;
	STACK_OF(X509) *rcpt = NULL;
	EVP_CIPHER *cipher = NULL;
	BIO *in = NULL;
	uint8_t *deg = NULL;
	size_t deglen = 0;
	int r;

	*out = NULL;
	if ((r = scep_msg_degenerate(rp->payload_certs, rp->payload_crl, &deg,
	    &deglen)) != 0)
		return r;
	if ((cipher = cipher_fetch(rp->cipher_nid, rp->libctx)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "cipher %s for the "
		    "reply is not available", OBJ_nid2sn(rp->cipher_nid));
		goto out;
	}
	if ((rcpt = sk_X509_new_null()) == NULL ||
	    sk_X509_push(rcpt, rp->recipient) <= 0 ||
	    (in = BIO_new_mem_buf(deg, (int)deglen)) == NULL ||
	    (env = CMS_encrypt_ex(rcpt, in, cipher, CMS_BINARY,
		rp->cipher_nid == NID_des_cbc ? rp->libctx : NULL, NULL)) ==
	    NULL || (*outlen = i2d_CMS_ContentInfo(env, out)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "enveloping the reply "
		    "for the requester's key");
		goto out;
	}
	r = 0;
out:
	CMS_ContentInfo_free(env);
	BIO_free(in);
	sk_X509_free(rcpt);
	EVP_CIPHER_free(cipher);
	free(deg);
	return r;
}

int
scep_msg_reply(const struct scep_reply *rp, uint8_t **out, size_t *outlen)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	BIO *data = NULL;
	unsigned char *envder = NULL, *der = NULL;
	uint8_t nonce[SCEP_NONCE_LEN];
	char st[8], fi[8], text[512];
	int envlen = 0, len, i, r;

	*out = NULL;
	*outlen = 0;
	if ((r = oids()) != 0)
		return r;
	if (rp->status == SCEP_SUCCESS &&
	    (r = reply_envelope(rp, &envder, &envlen)) != 0)
		return r;
	snprintf(st, sizeof(st), "%d", rp->status);
	snprintf(fi, sizeof(fi), "%d", rp->fail_info);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "drawing a nonce");
		goto out;
	}
	data = envder != NULL ? BIO_new_mem_buf(envder, envlen) :
	    BIO_new_mem_buf("", 0);
	if (data == NULL ||
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL |
		CMS_BINARY)) == NULL ||
	    (si = CMS_add1_signer(cms, rp->ra_cert, rp->ra_pkey, rp->md,
		CMS_BINARY | CMS_NOSMIMECAP)) == NULL ||
	    !add_attr(si, A_TID, rp->tid, (int)strlen(rp->tid)) ||
	    !add_attr(si, A_MSGTYPE, "3", 1) ||
	    !add_attr(si, A_STATUS, st, (int)strlen(st)) ||
	    (rp->status == SCEP_FAILURE &&
		!add_attr(si, A_FAILINFO, fi, (int)strlen(fi))) ||
	    !add_attr(si, A_SNONCE, nonce, SCEP_NONCE_LEN) ||
	    !add_attr(si, A_RNONCE, rp->recipient_nonce, SCEP_NONCE_LEN)) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the CertRep");
		goto out;
	}
	if (rp->status == SCEP_FAILURE && rp->fail_text != NULL) {
		snprintf(text, sizeof(text), "%s", rp->fail_text);
		if (!add_attr(si, A_FAILTEXT, text, (int)strlen(text))) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the "
			    "CertRep");
			goto out;
		}
	}
	for (i = 0; rp->chain != NULL && i < sk_X509_num(rp->chain); i++)
		if (CMS_add1_cert(cms, sk_X509_value(rp->chain, i)) != 1) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the "
			    "CertRep");
			goto out;
		}
	if (CMS_final(cms, data, NULL, CMS_BINARY) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing the CertRep "
		    "with the RA key");
		goto out;
	}
	if ((len = i2d_CMS_ContentInfo(cms, &der)) <= 0 ||
	    (*out = malloc((size_t)len)) == NULL) {
		r = len <= 0 ? cairn_error_crypto(CAIRN_E_CRYPTO, "encoding "
		    "the CertRep") : cairn_error(CAIRN_E_NOMEM,
		    "out of memory");
		goto out;
	}
	memcpy(*out, der, (size_t)len);
	*outlen = (size_t)len;
	r = 0;
out:
	OPENSSL_free(der);
	OPENSSL_free(envder);
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
