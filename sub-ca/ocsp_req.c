/*
 * ocsp_req.c: OCSP requests as they arrive (see ocsp.h): the DER of an
 * OCSPRequest (RFC 6960 4.1.1) and the GET path that carries one (RFC
 * 6960 A.1, RFC 5019 5).  No state; the fuzz target tests/fuzz/
 * fuzz_ocsp.c drives both functions.
 *
 * The ASN.1 is OpenSSL's template (d2i_OCSP_REQUEST); what this file adds
 * is the bound on the input, the refusal of trailing bytes, and the
 * checks a responder needs before it looks anything up.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/ocsp.h"

size_t
ocsp_hash_len(int alg)
{
	return alg == OCSP_ALG_SHA256 ? 32 : 20;
}

/* 1 when an extension we do not act on may be ignored (RFC 6960 4.4:
 * unrecognized extensions are ignored unless critical). */
static int
ignorable(X509_EXTENSION *ext)
{
	return !X509_EXTENSION_get_critical(ext);
}

static int
take_nonce(X509_EXTENSION *ext, struct ocsp_req *out)
{
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
	const unsigned char *p = ASN1_STRING_get0_data(v), *q = p;
	int len = ASN1_STRING_length(v);
	ASN1_OCTET_STRING *inner = NULL;
	int n;

	if (out->has_nonce)
		return cairn_error(CAIRN_E_INVAL, "RFC 8954: more than one "
		    "nonce extension");
	/* Nonce ::= OCTET STRING, inside extnValue. */
	if ((inner = d2i_ASN1_OCTET_STRING(NULL, &q, len)) == NULL ||
	    q != p + len) {
		ASN1_OCTET_STRING_free(inner);
		ERR_clear_error();
		return cairn_error(CAIRN_E_INVAL, "RFC 8954: the nonce is not "
		    "an OCTET STRING");
	}
	n = ASN1_STRING_length(inner);
	ASN1_OCTET_STRING_free(inner);
	if (n < 1 || n > CAIRN_OCSP_NONCE_MAX)
		return cairn_error(CAIRN_E_INVAL, "RFC 8954 2.1: a nonce is 1 "
		    "to %d octets, this one %d", CAIRN_OCSP_NONCE_MAX, n);
	if ((size_t)len > sizeof(out->nonce))
		return cairn_error(CAIRN_E_INVAL, "RFC 8954: the nonce "
		    "extension is too long");
	memcpy(out->nonce, p, (size_t)len);
	out->nonce_len = (size_t)len;
	out->has_nonce = 1;
	return 0;
}

static int
take_id(OCSP_ONEREQ *one, size_t i, struct ocsp_certid *id)
{
	OCSP_CERTID *cid = OCSP_onereq_get0_id(one);
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *alg = NULL;
	ASN1_INTEGER *serial = NULL;
	size_t hl;
	int nid, j, n;

	memset(id, 0, sizeof(*id));
	if (cid == NULL || OCSP_id_get0_info(&nh, &alg, &kh, &serial,
	    cid) != 1 || nh == NULL || alg == NULL || kh == NULL ||
	    serial == NULL)
		return cairn_error(CAIRN_E_INVAL, "request %zu: no CertID", i);
	nid = OBJ_obj2nid(alg);
	if (nid == NID_sha1)
		id->alg = OCSP_ALG_SHA1;
	else if (nid == NID_sha256)
		id->alg = OCSP_ALG_SHA256;
	else {
		char name[80];

		OBJ_obj2txt(name, sizeof(name), alg, 0);
		return cairn_error(CAIRN_E_POLICY, "request %zu: CertID hash "
		    "%s: this responder answers SHA-1 (RFC 5019 2.1.1) and "
		    "SHA-256 CertIDs", i, name);
	}
	hl = ocsp_hash_len(id->alg);
	if ((size_t)ASN1_STRING_length(nh) != hl ||
	    (size_t)ASN1_STRING_length(kh) != hl)
		return cairn_error(CAIRN_E_INVAL, "request %zu: issuer hashes "
		    "of %d and %d bytes, want %zu for %s", i,
		    ASN1_STRING_length(nh), ASN1_STRING_length(kh), hl,
		    id->alg == OCSP_ALG_SHA1 ? "SHA-1" : "SHA-256");
	memcpy(id->name_hash, ASN1_STRING_get0_data(nh), hl);
	memcpy(id->key_hash, ASN1_STRING_get0_data(kh), hl);
	if (ASN1_STRING_type(serial) != V_ASN1_INTEGER)
		return cairn_error(CAIRN_E_INVAL, "request %zu: a negative "
		    "serial number (RFC 5280 4.1.2.2: positive)", i);
	n = ASN1_STRING_length(serial);
	if (n < 1 || n > (int)sizeof(id->serial))
		return cairn_error(CAIRN_E_INVAL, "request %zu: a serial "
		    "number of %d octets (RFC 5280 4.1.2.2: at most 20)", i, n);
	memcpy(id->serial, ASN1_STRING_get0_data(serial), (size_t)n);
	id->serial_len = (uint8_t)n;
	for (j = 0; j < OCSP_ONEREQ_get_ext_count(one); j++)
		if (!ignorable(OCSP_ONEREQ_get_ext(one, j)))
			return cairn_error(CAIRN_E_POLICY, "request %zu: a "
			    "critical singleRequestExtension this responder "
			    "does not understand", i);
	return 0;
}

int
ocsp_req_parse(const uint8_t *der, size_t len, struct ocsp_req *out)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = NULL;
	size_t i, n;
	int j, r;

	memset(out, 0, sizeof(*out));
	out->n = 0;
	if (len == 0)
		return cairn_error(CAIRN_E_INVAL, "an empty request");
	if (len > CAIRN_OCSP_REQ_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "a request of %zu bytes "
		    "(at most %d)", len, CAIRN_OCSP_REQ_MAX);
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return cairn_error(CAIRN_E_INVAL, "not a DER OCSPRequest (RFC "
		    "6960 4.1.1)");
	}
	if (p != der + len) {
		r = cairn_error(CAIRN_E_INVAL, "%zu bytes after the "
		    "OCSPRequest", (size_t)(der + len - p));
		goto out;
	}
	n = (size_t)OCSP_request_onereq_count(req);
	if (n == 0) {
		r = cairn_error(CAIRN_E_INVAL, "RFC 6960 4.1.1: requestList "
		    "is empty");
		goto out;
	}
	if (n > CAIRN_OCSP_REQ_CERTS_MAX) {
		r = cairn_error(CAIRN_E_TOO_LARGE, "a request for %zu "
		    "certificates (at most %d in one request)", n,
		    CAIRN_OCSP_REQ_CERTS_MAX);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = take_id(OCSP_request_onereq_get0(req, (int)i), i,
		    &out->ids[i])) != 0)
			goto out;
	out->n = n;
	for (j = 0; j < OCSP_REQUEST_get_ext_count(req); j++) {
		X509_EXTENSION *ext = OCSP_REQUEST_get_ext(req, j);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

		if (nid == NID_id_pkix_OCSP_Nonce) {
			if ((r = take_nonce(ext, out)) != 0)
				goto out;
		} else if (nid == NID_id_pkix_OCSP_acceptableResponses) {
			/* We answer only id-pkix-ocsp-basic, which every
			 * client accepts (RFC 6960 4.4.3). */
		} else if (!ignorable(ext)) {
			r = cairn_error(CAIRN_E_POLICY, "a critical "
			    "requestExtension this responder does not "
			    "understand");
			goto out;
		}
	}
	r = 0;
out:
	if (r != 0)
		out->n = 0;
	OCSP_REQUEST_free(req);
	return r;
}

int
ocsp_get_decode(const char *enc, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, o = 0, nchars = 0, pad = 0;
	int bits = 0;

	*outlen = 0;
	if (len == 0)
		return cairn_error(CAIRN_E_INVAL, "GET: no request after "
		    "/ocsp/");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)enc[i];
		int v;

		if (c == '%') {
			int h, l;

			if (len - i < 3 || (h = cairn_hexdigit(enc[i + 1])) < 0 ||
			    (l = cairn_hexdigit(enc[i + 2])) < 0)
				return cairn_error(CAIRN_E_INVAL, "GET: '%%' at "
				    "offset %zu without two hex digits", i);
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return cairn_error(CAIRN_E_INVAL, "GET: base64 after "
			    "its padding (offset %zu)", i);
		if ((v = cairn_b64digit(c)) < 0)
			return cairn_error(CAIRN_E_INVAL, "GET: character 0x%02x "
			    "at offset %zu is not base64 (RFC 4648 4)", c, i);
		nchars++;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return cairn_error(CAIRN_E_TOO_LARGE, "GET: a "
				    "request over %zu bytes", cap);
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 1 character left over is never base64; padding, when present,
	 * must complete the last quantum; leftover bits must be zero. */
	if (nchars % 4 == 1 || (pad > 0 && (nchars + pad) % 4 != 0) ||
	    pad > 2 || acc != 0)
		return cairn_error(CAIRN_E_INVAL, "GET: the base64 does not "
		    "end on a whole byte (RFC 4648 4: padding or bits left "
		    "over)");
	*outlen = o;
	return 0;
}
