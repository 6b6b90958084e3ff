/*
 * profile.h: certificates built from a profile, never from a request.
 *
 * A profile says everything a certificate will carry: subject, validity,
 * CA flag and path length, key usage, extended key usages, policies,
 * distribution points, name constraints.  The root ceremonies fill one
 * from a ceremony script; the subordinate CA will fill one from a
 * template and the authenticated request.  profile_build() turns it into
 * an unsigned X509 with a fresh serial; lint.h checks it and signs it.
 */
#ifndef CAIRN_PROFILE_H
#define CAIRN_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Key usage bits, as X509v3_KU_* but our own so callers need no OpenSSL
 * header to say them. */
#define PROFILE_KU_DIGITAL_SIGNATURE 0x0080
#define PROFILE_KU_NON_REPUDIATION 0x0040
#define PROFILE_KU_KEY_ENCIPHERMENT 0x0020
#define PROFILE_KU_DATA_ENCIPHERMENT 0x0010
#define PROFILE_KU_KEY_AGREEMENT 0x0008
#define PROFILE_KU_KEY_CERT_SIGN 0x0004
#define PROFILE_KU_CRL_SIGN 0x0002

/* Serial numbers: 16 bytes from the CSPRNG, top bit clear: 127 random
 * bits, positive, never zero (BR: at least 64 bits). */
#define PROFILE_SERIAL_LEN 16

struct profile {
	X509_NAME *subject;         /* owned */
	long long not_before;       /* seconds since the epoch, UTC */
	long long not_after;
	int ca;                     /* basicConstraints cA (critical) */
	int path_len;               /* -1: no pathLenConstraint */
	unsigned key_usage;         /* PROFILE_KU_*; 0: no extension */
	/* Dotted OIDs or OpenSSL short names ("serverAuth"); NULL-terminated
	 * arrays owned by the profile (strdup'ed). */
	char **eku;
	char **policies;
	char **crl_urls;            /* CRL distribution points (URIs) */
	char **ocsp_urls;           /* AIA id-ad-ocsp */
	char **ca_issuers_urls;     /* AIA id-ad-caIssuers */
	/* Name constraints (critical), CA certificates only. */
	char **permitted_dns, **excluded_dns;
	char **permitted_email, **excluded_email;
	char **permitted_ip, **excluded_ip;   /* "10.0.0.0/8", "2001:db8::/32" */
	int ocsp_nocheck;           /* id-pkix-ocsp-nocheck (OCSP signers) */
	/* subjectAltName entries (critical when the subject is empty, RFC
	 * 5280 4.2.1.6): dNSName ("www.example.org", "*.example.org"),
	 * iPAddress ("192.0.2.1", "2001:db8::1"), rfc822Name, URI. */
	char **san_dns;
	char **san_ip;
	char **san_email;
	char **san_uri;
	/* Further extensions copied as they are (a template's allow-listed
	 * CSR extensions); owned.  profile_build refuses one whose type the
	 * profile itself makes. */
	STACK_OF(X509_EXTENSION) *extra;
	const EVP_MD *md;           /* signature digest */
};

/* profile_new / profile_free: an empty profile (path_len -1). */
struct profile *profile_new(void);
void profile_free(struct profile *p);

/* profile_strv_add: append a copy of `s` to a NULL-terminated array. */
int profile_strv_add(char ***v, const char *s);
/* profile_strv_len: entries in a NULL-terminated array (0 for NULL). */
size_t profile_strv_len(char *const *v);

/*
 * profile_subject_add: append "type=value" to the subject, `type` being
 * one of C, ST, L, O, OU, CN, DC, serialNumber, organizationIdentifier,
 * emailAddress.  C must be two upper-case letters.  Values are UTF-8,
 * 1..64 bytes (C: 2).  Returns CAIRN_E_INVAL with the rule broken.
 */
int profile_subject_add(struct profile *p, const char *type,
    const char *value);

/*
 * profile_serial: a fresh serial number (see PROFILE_SERIAL_LEN).
 * Returns a new ASN1_INTEGER or NULL (detail set).
 */
ASN1_INTEGER *profile_serial(void);

/*
 * profile_build: an unsigned v3 certificate for `subject_pub` from `p`,
 * issued by `issuer` (NULL: self-signed, issuer name = subject, AKI = SKI).
 * Extensions: basicConstraints (CA:
 * critical), keyUsage (critical), SKI (RFC 7093 method 1: first 160 bits
 * of SHA-256 of the subjectPublicKey), AKI (the issuer's SKI extension,
 * else its key's identifier by the same method), EKU,
 * certificatePolicies, CRL DP, AIA, name constraints (critical),
 * ocsp-nocheck.  The serial is `serial` when given, else fresh.
 * *out receives the certificate (X509_free); the caller lints and signs.
 */
int profile_build(const struct profile *p, EVP_PKEY *subject_pub,
    X509 *issuer, const ASN1_INTEGER *serial, X509 **out);

/* profile_ski: the RFC 7093 method 1 key identifier of `pub` (20 bytes). */
int profile_ski(EVP_PKEY *pub, uint8_t out[20]);

/* profile_default_md: SHA-384 for P-384 and RSA-4096 keys, else SHA-256
 * (the digest matching the key's strength, as the BRs expect). */
const EVP_MD *profile_default_md(EVP_PKEY *issuer_pub);

#endif /* CAIRN_PROFILE_H */
