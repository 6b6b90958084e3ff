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

static const char ra_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC5BJyvJ4gBU8jK\n"
	"HJc8s1D+CEtk9yv28Gghz0kRQbu7jm4EncXib/VkrN3TKTxNfymYXfgaowtplugn\n"
	"h0cmuojrVEbIJoXa92ll4KHKKfsmyjGUWTalaskFdZJ/P8XE78f/oG95uMjAPVRp\n"
	"GpNMO0gGmf2/wGLRGE7buzK1JpHssBCfiiKwNReueOAzO4QF/hbjA9s1PDyrkX/t\n"
	"CXiFi1lTO231dvafYbsVtIVilJ5a+kN13spZby/xMBfmEuGaqWAI9WjniVLbmo50\n"
	"xVEjZJTwhkx/yEsHCtU/M4kcCx8dhrrwF1rKlS5DLP6X8FHb5/HtgQ2eELFSvRo1\n"
	"u5tM0Ff1AgMBAAECggEAF07cRE6TxNhewQ4lWVlyYxuoD9ykQRQxMiKFychA/mmn\n"
	"iipWyGYiq8pWmahQt1Hv614vMtUxILNeT23XNKr8M7/8DhvtnKkIMfRAvZIDWJ7R\n"
	"QdHpX0vFbkwiUVM3Ns5JoPZVBNMWwJfD/10Aix0kFOd9FD/dfbT1E5u7fB8TSWtV\n"
	"JafIgTsEcq8fQ5gDaEKKVSs94xYhYYPj2Y/L8GvEeoR1x2VoTnTMnTAoHgFvJBRB\n"
	"km8KqenR1O9Q6U6nchjxOt/UNee1BUC7UUkFytG8EZKQBmP/m4t9uDIAN+J5GcoT\n"
	"0sU4InzHeu4jUIUk3BuWtbEZ4o+fZJYifYJdQrPVcwKBgQDp0AiFV35MeAhRpbNo\n"
	"tINABfbPKP+zwTMaOU9pb7a/m8NS8ScIiMyycaY8xd/VrPASLna0dK4z5UmgVIZs\n"
	"HI85QrJY/cQK3J9/qSUrYlhzrT0qf++c4PyH+xokmDQmeK6dVQG/PHnDd5IaoaoP\n"
	"iJ/VGUMcmjyHGxB8sEU8lDIMGwKBgQDKkzhkOc9AvSnYwa1TWEhI1C+PuZIoJzuE\n"
	"uJR9FNuQjjn2loKdf++ZJRAZMnwJTFw3l+Rzu5zyWU9lEFWz7uI69JhZjD7PkMn/\n"
	"Rpwme4SrHw9jrIePfdl3wrsKZskItTM6AgQzOFVuuLkkAz3sAQbL7Y4HzipgYWS9\n"
	"CR40BbRNLwKBgEwhQ5T/Lw2BC9xh4q/WDuJazskXJWMHJjeEr5m6GTv8YLXx9W6u\n"
	"9E+p96HUIBS38ZdJ77bEQzB8mOOOghJTnkLbt6yIPDv5KCnuDj85D2ni34amD4P6\n"
	"Md+o4BNIR7q7EsgBtMbqzw7ZMQZg2zmhl8FQL2zxv4GSS2T+FB0sd7s/AoGAKqGQ\n"
	"3IbN9vHYPKWFtGR/0dPVrol/GLQo8mVl2mzpSCKmUB6cnkiuQ6xpFuRo9gv73Dc6\n"
	"/KAfB2GEM+CcKKG9Omr/JNk+3q+50t8pPXABG4IN2wwT+z6g5XM1qZq38/0uKqcB\n"
	"+0V/tS1qyQllnqUYqRH1Me9RO7dDXATvNkN9DkECgYA2PZINWu2NeMwq0WrSgsPU\n"
	"iXPT5MDIG6HWLoS6Aih1brsLeL2QDd2mo0PnHkTILEPXeNQ0MFiykY6/2LLDPGuN\n"
	"g6MWKUrkdn6Yy0h38hynQAS/+FUt2/ReZVi+dtandXW+/KynN8K6hyWE/feEA73f\n"
	"t+PyRYjhp8AOoceoMxg1Og==\n"
	"-----END PRIVATE KEY-----\n";

static const char ra_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDVzCCAj+gAwIBAgIUYDMQuotJyztUnb5PFxxMrgS9PZUwDQYJKoZIhvcNAQEL\n"
	"BQAwMjETMBEGA1UECgwKQ2Fpcm4gRnV6ejEbMBkGA1UEAwwSQ2Fpcm4gRnV6eiBT\n"
	"Q0VQIFJBMCAXDTI2MTIwMTE1MzkyOFoYDzIxMjYxMTA3MTUzOTI4WjAyMRMwEQYD\n"
	"VQQKDApDYWlybiBGdXp6MRswGQYDVQQDDBJDYWlybiBGdXp6IFNDRVAgUkEwggEi\n"
	"MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC5BJyvJ4gBU8jKHJc8s1D+CEtk\n"
	"9yv28Gghz0kRQbu7jm4EncXib/VkrN3TKTxNfymYXfgaowtplugnh0cmuojrVEbI\n"
	"JoXa92ll4KHKKfsmyjGUWTalaskFdZJ/P8XE78f/oG95uMjAPVRpGpNMO0gGmf2/\n"
	"wGLRGE7buzK1JpHssBCfiiKwNReueOAzO4QF/hbjA9s1PDyrkX/tCXiFi1lTO231\n"
	"dvafYbsVtIVilJ5a+kN13spZby/xMBfmEuGaqWAI9WjniVLbmo50xVEjZJTwhkx/\n"
	"yEsHCtU/M4kcCx8dhrrwF1rKlS5DLP6X8FHb5/HtgQ2eELFSvRo1u5tM0Ff1AgMB\n"
	"AAGjYzBhMB0GA1UdDgQWBBRiEz6jRlg+NpYcInW9TEFVTD6nZDAfBgNVHSMEGDAW\n"
	"gBRiEz6jRlg+NpYcInW9TEFVTD6nZDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB\n"
	"/wQEAwIFoDANBgkqhkiG9w0BAQsFAAOCAQEATg3oFA+6xsxgn2lz9DsUlKMvhvFq\n"
	"wBf9r34w2XSDgHCzkT13LhFKsm/F9EL23CMa9JNLe7+k01U5t6Yd37duLJljDd0q\n"
	"z6o85k5RmWsV+qQ2tO6LWJ61dCyCEyNZNmyNapPfJrNbMNm0gyES5/AaAHDd35gy\n"
	"kuk4dZVJgP3NeQSS3LlH5cMdVQfvZMA1dc+XepMVGwUhAsR8JSWBUIaWH2Rimcdj\n"
	"vYnMLhw9Sp2NGBrXbsIfpbMCmWsOwXDQQN2domujG50n1cGhELFbyfCem0w3Hvnu\n"
	"D7uvu33vRVU0NqWiYqdUi1isvnkl4RAIse6reqLOOYrYeIPFcvmENoTS9Q==\n"
	"-----END CERTIFICATE-----\n";

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
