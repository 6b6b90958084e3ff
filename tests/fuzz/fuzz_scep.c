/*
 * fuzz_scep.c: libFuzzer target for the SCEP PKIOperation parser
 * (sub-ca/scep_msg.c): base64 / URL form -> CMS SignedData -> EnvelopedData
 * -> CSR (or IssuerAndSubject, IssuerAndSerialNumber) -> attributes.
 *
 * The first byte chooses the door, as the daemon has two: 0 (even) the
 * rest is a POST body (DER), 1 (odd) it is the GET form's message
 * argument, already percent-decoded (base64, spaces standing for '+').
 * The parser runs with every legacy algorithm allowed (SHA-1, 3DES, DES
 * through OpenSSL's legacy provider) so that all of it is reachable, and
 * with the RA key below to open envelopes.
 *
 * What it accepts is checked against promises the daemon relies on: a
 * message that parses has exactly one signer, and its signature verifies
 * when OpenSSL is asked again on its own (the SCEP bugs this guards
 * against: a PKCS#7 with zero signers accepted as valid, signature
 * verification skipped); a known messageType with its content (a CSR
 * whose own signature verifies, or the names and serial), a
 * transactionID and a nonce; the envelope's cipher among those allowed.
 * Any broken promise aborts.
 *
 * Seeds (tests/fuzz/corpus/scep/): scepclient-* are real messages from
 * micromdm's scepclient 2.1 (Debian "scep"), captured by a stub server
 * that served the RA certificate below (PKCSReq by POST and by GET,
 * RenewalReq); the others were made by tests/bench/scep_client for this
 * RA (AES-128/256, 3DES, SHA-512, CertPoll, GetCert, GetCRL) and the
 * broken ones must be refused: bad-zero-signers (the SignerInfos removed),
 * bad-signature-does-not-verify (a flipped signature bit),
 * bad-content-digest, bad-other-recipient.  The RA key is a test key made
 * for this target (openssl genrsa 2048; a self-signed certificate,
 * "/O=Cairn Fuzz/CN=Cairn Fuzz SCEP RA"); it protects nothing.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "sub-ca/scep.h"

#include "tests/fuzz/scep_ra.h"

static struct scep_ra_key ra;
static OSSL_LIB_CTX *legacy;

static void
init(void)
{
	BIO *b;

	legacy = OSSL_LIB_CTX_new();
	if (legacy == NULL || OSSL_PROVIDER_load(legacy, "default") == NULL ||
	    OSSL_PROVIDER_load(legacy, "legacy") == NULL)
		abort();
	b = BIO_new_mem_buf(ra_key_pem, -1);
	ra.pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(ra_cert_pem, -1);
	ra.cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (ra.pkey == NULL || ra.cert == NULL)
		abort();
}

/* The promises of an accepted message. */
static void
check(const uint8_t *der, size_t len, const struct scep_msg *m)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	BIO *out = BIO_new(BIO_s_mem());

	if (cms == NULL || out == NULL ||
	    sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) != 1 ||
	    CMS_verify(cms, NULL, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY |
		CMS_BINARY) != 1)
		abort();
	if (m->signer == NULL || m->tid[0] == '\0' || !m->has_nonce ||
	    m->md == NULL || m->ra != &ra)
		abort();
	switch (m->type) {
	case SCEP_PKCSREQ:
	case SCEP_RENEWALREQ:
		if (m->csr == NULL || X509_REQ_verify(m->csr,
		    X509_REQ_get0_pubkey(m->csr)) != 1)
			abort();
		break;
	case SCEP_CERTPOLL:
		if (m->issuer == NULL || m->subject == NULL)
			abort();
		break;
	case SCEP_GETCERT:
	case SCEP_GETCRL:
		if (m->issuer == NULL || m->serial == NULL)
			abort();
		break;
	default:
		abort();
	}
	if (m->cipher_nid != NID_aes_128_cbc &&
	    m->cipher_nid != NID_aes_192_cbc &&
	    m->cipher_nid != NID_aes_256_cbc &&
	    m->cipher_nid != NID_des_ede3_cbc && m->cipher_nid != NID_des_cbc)
		abort();
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct scep_msg m;
	uint8_t *der = NULL;
	size_t len = 0;
	char *text;
	int r = CAIRN_E_INVAL;

	if (!ready) {
		init();
		ready = 1;
	}
	if (size < 1 || size > CAIRN_HTTP_BODY_MAX)
		return 0;
	if (data[0] & 1) {
		if ((text = malloc(size)) == NULL)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (memchr(data + 1, '\0', size - 1) == NULL &&
		    (r = scep_msg_b64(text, &der, &len)) == 0) {
			if ((r = scep_msg_parse(der, len, &ra, 1,
			    SCEP_ALLOW_SHA1 | SCEP_ALLOW_DES3 | SCEP_ALLOW_DES,
			    legacy, &m)) == 0)
				check(der, len, &m);
			scep_msg_clear(&m);
		}
		free(der);
		free(text);
	} else {
		if ((r = scep_msg_parse(data + 1, size - 1, &ra, 1,
		    SCEP_ALLOW_SHA1 | SCEP_ALLOW_DES3 | SCEP_ALLOW_DES, legacy,
		    &m)) == 0)
			check(data + 1, size - 1, &m);
		scep_msg_clear(&m);
	}
	/* FUZZ_SCEP_DEBUG=1 ./fuzz_scep FILE...: what each seed gives. */
	if (getenv("FUZZ_SCEP_DEBUG") != NULL)
		fprintf(stderr, "fuzz_scep: %s\n", r == 0 ? "accepted" :
		    cairn_errmsg(r));
	cairn_error_clear();
	ERR_clear_error();
	return 0;
}
