/*
 * lint.h: check before signing, check after signing.
 *
 * A CA signs only what it has checked: lint_cert() applies the profile
 * rules of the certificate's role (root, subordinate CA, end entity, OCSP
 * signer), reporting every problem at once.  lint_sign_cert() then makes a
 * trial signature with a throwaway software key (so a certificate that
 * does not even encode is never shown to the HSM), signs with the CA key,
 * and insists that the to-be-signed bytes are byte-identical to the ones
 * checked and that the signature verifies with the CA's public key before
 * anyone sees the certificate (Boulder does the same).
 */
#ifndef CAIRN_LINT_H
#define CAIRN_LINT_H

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

enum lint_role {
	LINT_ROOT = 1,      /* self-signed root CA */
	LINT_SUBCA,         /* subordinate CA, issued by `issuer` */
	LINT_EE,            /* end-entity certificate */
	LINT_OCSP_SIGNER,   /* delegated OCSP responder certificate */
};

/* Most years a root may be valid (BR 6.3.2: 25). */
#define LINT_ROOT_MAX_YEARS 25

/*
 * lint_cert: check `x` (signed or not) for `role`.  `issuer` is the
 * issuing CA's certificate (NULL for LINT_ROOT) and `issuer_pub` its key.
 * Returns 0, or CAIRN_E_LINT with every problem in the detail, numbered:
 * "3 problems: (1) ...; (2) ...; (3) ...".
 */
int lint_cert(X509 *x, X509 *issuer, EVP_PKEY *issuer_pub,
    enum lint_role role);

/*
 * lint_sign_cert: trial-sign `x` with a throwaway key of `issuer_pub`'s
 * kind, sign it with `key` (the CA's token key) and `md`, then check the
 * TBS bytes did not change and the signature verifies with `issuer_pub`.
 * On failure `x` must not be released: CAIRN_E_LINT / CAIRN_E_CRYPTO.
 */
int lint_sign_cert(X509 *x, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md);

/*
 * lint_trial_cert: only the trial signature of lint_sign_cert, returning
 * the to-be-signed bytes as they will be signed (*tbs: OPENSSL_free), so
 * that a CA can record them durably before the HSM is asked.
 */
int lint_trial_cert(X509 *x, EVP_PKEY *issuer_pub, const EVP_MD *md,
    unsigned char **tbs, int *tbslen);

/*
 * lint_sign_cert_as: the rest of lint_sign_cert: sign with `key`, insist
 * that the to-be-signed bytes are `tbs` (from lint_trial_cert, as the CA
 * recorded them) and that the signature verifies with `issuer_pub`.
 * lint_sign_cert is lint_trial_cert followed by this.
 */
int lint_sign_cert_as(X509 *x, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md, const unsigned char *tbs, int tbslen);

/* lint_sign_crl: the same for a CRL built in memory. */
int lint_sign_crl(X509_CRL *crl, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md);

/*
 * lint_sign_ocsp: a basic OCSP response made by `build` (called twice:
 * once for a trial signature with a throwaway key, once for the real
 * one), signed with `key` as `signer` (ResponderID by key, no
 * certificates: the signer is the issuing CA itself, which relying
 * parties have), then verified with `signer`'s public key.  Two builds,
 * not one response signed twice: OpenSSL 3.0 leaks the responder id a
 * second signature replaces.  *out receives the signed response.
 */
int lint_sign_ocsp(int (*build)(void *arg, OCSP_BASICRESP **bs), void *arg,
    X509 *signer, EVP_PKEY *key, const EVP_MD *md, OCSP_BASICRESP **out);

/*
 * lint_sign_ocsp_ex: lint_sign_ocsp, and `certs_flag` OCSP_NOCERTS or 0:
 * 0 puts the signer's certificate into the response, as a delegated
 * responder must (RFC 6960 4.2.2.2).
 */
int lint_sign_ocsp_ex(int (*build)(void *arg, OCSP_BASICRESP **bs),
    void *arg, X509 *signer, EVP_PKEY *key, const EVP_MD *md,
    unsigned long certs_flag, OCSP_BASICRESP **out);

#endif /* CAIRN_LINT_H */
