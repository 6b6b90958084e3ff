/*
 * csr.h: certificate requests (PKCS#10) from strangers.
 *
 * Every front end of the online CA (web form, REST, SCEP, EST, TPM
 * attestation) and the root's sign-subordinate ceremony receive requests
 * from outside.  csr_parse() is the one reader: bounded size, PEM or DER,
 * nothing after the request, and the request's own signature checked (the
 * proof that its sender holds the private key).  What the request *asks
 * for* is only read later, by the template (sub-ca/template.c), which
 * decides what of it, if anything, reaches a certificate.
 */
#ifndef CAIRN_CSR_H
#define CAIRN_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

/*
 * csr_parse: `len` bytes of a PKCS#10 request, PEM ("-----BEGIN
 * CERTIFICATE REQUEST-----" or "NEW CERTIFICATE REQUEST") or DER.
 * Returns 0 and *out (X509_REQ_free), or CAIRN_E_CSR with a specific
 * message: empty; larger than CAIRN_CSR_MAX; not PEM and not DER; bytes
 * after the request; version not v1 (0); no public key or one OpenSSL
 * cannot use; the signature does not verify with the request's own key.
 */
int csr_parse(const void *buf, size_t len, X509_REQ **out);

#endif /* CAIRN_CSR_H */
