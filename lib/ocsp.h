/*
 * ocsp.h: building and signing OCSP responses (RFC 6960), shared by the
 * root's sign-ocsp ceremony and the online responder (sub-ca/ocsp.c).
 *
 * Every response is linted before it is signed and verified after (lib/
 * lint.h: a trial signature with a throwaway key first, so that a response
 * that does not even encode is never shown to the HSM).  ResponderID is
 * always byKey (RFC 5019 2.2.2: smaller, and stable across re-issued
 * responder certificates).
 */
#ifndef CAIRN_OCSP_BUILD_H
#define CAIRN_OCSP_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

/* One SingleResponse. */
struct ocspb_single {
	OCSP_CERTID *id;          /* borrowed */
	int status;               /* V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN */
	long long revoked_at;     /* seconds since the epoch (revoked only) */
	int reason;               /* CRLReason; -1: none (RFC 5280 5.3.1:
	                           * omit rather than say unspecified) */
	long long this_update, next_update;
};

/* Who signs. */
struct ocspb_signer {
	X509 *cert;               /* the signer's certificate */
	EVP_PKEY *key;            /* its key (a token key) */
	const EVP_MD *md;
	/* 1: a delegated responder: its certificate goes into the response
	 * (RFC 6960 4.2.2.2: the client needs it to check the signature);
	 * 0: the issuing CA itself, which relying parties already have. */
	int include_cert;
};

/*
 * ocspb_sign: a successful OCSPResponse holding a BasicOCSPResponse with
 * the `n` SingleResponses of `s` and, when `nonce` is not NULL, that
 * nonce extension copied into responseExtensions (RFC 8954); signed by
 * `sg` through lint_sign_ocsp_ex().  *der is new (OPENSSL_free), *len its
 * length.  Errors: CAIRN_E_CRYPTO, CAIRN_E_LINT, CAIRN_E_NOMEM.
 */
int ocspb_sign(const struct ocspb_single *s, size_t n,
    X509_EXTENSION *nonce, const struct ocspb_signer *sg, uint8_t **der,
    size_t *len);

/*
 * ocspb_error: the DER of an unsuccessful OCSPResponse (RFC 6960 4.2.1:
 * responseStatus only, no responseBytes, nothing signed) for `status`
 * (OCSP_RESPONSE_STATUS_MALFORMEDREQUEST ... _UNAUTHORIZED).  Static
 * bytes, 5 of them; NULL for a status that is not an error.
 */
const uint8_t *ocspb_error(int status, size_t *len);

/* ocspb_time: `t` as an ASN1_TIME (new), NULL when out of memory. */
ASN1_TIME *ocspb_time(long long t);

#endif /* CAIRN_OCSP_BUILD_H */
