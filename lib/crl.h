/*
 * crl.h: CRLs that stream.
 *
 * A subordinate CA's CRL may list a million revoked certificates.  Built
 * with OpenSSL's X509_CRL objects that would mean a million X509_REVOKED
 * allocations held at once (hundreds of MB).  crl_write() instead asks a
 * caller's iterator for the entries twice: once to compute the DER
 * lengths, once to write them, hashing the TBSCertList as it goes; the
 * signature (by a token key through pkcs11/, or any EVP_PKEY) is made over
 * that hash, and the file is assembled and renamed into place.  Memory
 * use does not depend on the number of entries.
 *
 * The CRL written: version 2; signature algorithm from the key and `md`;
 * issuer name; thisUpdate; nextUpdate; the entries in the order the
 * iterator gives them, each with serial, revocationDate and, when given,
 * a reasonCode entry extension; CRL extensions authorityKeyIdentifier
 * (keyIdentifier: the RFC 7093 method 1 id of the issuer key, as
 * lib/profile.c makes SKIs) and cRLNumber.  Times are UTCTime through
 * 2049 and GeneralizedTime after (RFC 5280 5.1.2.4).
 */
#ifndef CAIRN_CRL_H
#define CAIRN_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct crl_entry {
	/* Serial as big-endian magnitude bytes, no leading zero byte
	 * (1..20 bytes, positive, non-zero). */
	uint8_t serial[20];
	size_t serial_len;
	long long revoked_at;   /* seconds since the epoch, UTC */
	int reason;             /* CRL_REASON_* (0..10 but 7), or -1: none */
};

/*
 * The entries, twice: `next` fills `e` and returns 1, returns 0 at the
 * end, or a negative CAIRN_E_* on failure; `rewind` starts again.  Both
 * passes must give the same entries (crl_write checks the count and the
 * length and fails with CAIRN_E_INTERNAL otherwise).
 */
struct crl_source {
	int (*next)(void *arg, struct crl_entry *e);
	int (*rewind)(void *arg);
	void *arg;
};

struct crl_params {
	X509_NAME *issuer;         /* borrowed */
	EVP_PKEY *issuer_pub;      /* borrowed: AKI, and verification */
	long long this_update;
	long long next_update;     /* > this_update */
	uint64_t number;           /* cRLNumber, >= 1 */
	const EVP_MD *md;          /* sha256, sha384 or sha512 */
};

struct crl_stats {
	uint64_t entries;
	uint64_t bytes;            /* size of the CRL file */
};

/*
 * crl_write: build and sign the CRL, writing it (DER) to `path` through a
 * temporary file beside it (fileio semantics: FILEIO_REPLACE in `flags`
 * allows replacing).  After signing, the signature is verified with
 * `issuer_pub` over the bytes as written, re-read from the temporary file;
 * only then is the file renamed into place.  Errors: CAIRN_E_INVAL (bad
 * parameters or entry, naming the entry's index), CAIRN_E_IO, the source's
 * own errors, CAIRN_E_CRYPTO, CAIRN_E_LINT (the signature does not verify).
 */
int crl_write(const struct crl_params *p, const struct crl_source *src,
    EVP_PKEY *key, const char *path, int flags, struct crl_stats *stats);

#endif /* CAIRN_CRL_H */
