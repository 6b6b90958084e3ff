/*
 * csr.c: the one reader of certificate requests (see csr.h).
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/csr.h"
#include "lib/error.h"
#include "lib/limits.h"

/* The PEM body between BEGIN and END lines, for either label. */
static X509_REQ *
from_pem(const char *buf, size_t len)
{
	X509_REQ *req = NULL;
	BIO *b;

	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return NULL;
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	return req;
}

static int
has_pem_header(const char *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	size_t i;

	for (i = 0; i + sizeof(tag) - 1 <= len; i++)
		if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
			return 1;
	return 0;
}

int
csr_parse(const void *buf, size_t len, X509_REQ **out)
{
	const unsigned char *p = buf;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	int r;

	*out = NULL;
	if (len == 0)
		return cairn_error(CAIRN_E_CSR, "the request is empty: send a "
		    "PKCS#10 request, PEM or DER (openssl req -new makes one)");
	if (len > CAIRN_CSR_MAX)
		return cairn_error(CAIRN_E_CSR, "the request is %zu bytes; at "
		    "most %d are accepted", len, CAIRN_CSR_MAX);
	if (has_pem_header(buf, len)) {
		if ((req = from_pem(buf, len)) == NULL) {
			r = cairn_error_crypto(CAIRN_E_CSR, "the PEM text is "
			    "not a certificate request (want \"-----BEGIN "
			    "CERTIFICATE REQUEST-----\" and valid base64 "
			    "DER)");
			goto out;
		}
	} else {
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req == NULL) {
			r = cairn_error_crypto(CAIRN_E_CSR, "the request is "
			    "neither PEM nor a DER PKCS#10 request (it may be "
			    "truncated)");
			goto out;
		}
		if (p != (const unsigned char *)buf + len) {
			r = cairn_error(CAIRN_E_CSR, "%zu bytes follow the DER "
			    "request: send one request and nothing else",
			    (size_t)((const unsigned char *)buf + len - p));
			goto out;
		}
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		r = cairn_error(CAIRN_E_CSR, "request version %ld: PKCS#10 "
		    "knows only version 1 (0)", X509_REQ_get_version(req));
		goto out;
	}
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_CSR, "the request's public key "
		    "cannot be read");
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		r = cairn_error_crypto(CAIRN_E_CSR, "the request's signature "
		    "does not verify with the key it carries: it was changed "
		    "after signing, or signed with another key");
		goto out;
	}
	*out = req; /* transferred */
	req = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_REQ_free(req);
	return r;
}
