/*
 * lint.c: certificate checks before signing, and checked signing.
 *
 * The rules are RFC 5280's and the CA/Browser Forum Baseline
 * Requirements' that apply to the role, plus Cairn's own (no
 * anyExtendedKeyUsage, an explicit EKU on every end-entity certificate:
 * the AD CS ESC2 class).  Each failed rule adds one numbered problem.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/lint.h"
#include "lib/limits.h"

struct problems {
	char text[CAIRN_ERRMSG_MAX];
	size_t len;
	int n;
};

static void __attribute__((format(printf, 2, 3)))
problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;
	int k;

	p->n++;
	if (p->len >= sizeof(p->text) - 1)
		return;
	k = snprintf(p->text + p->len, sizeof(p->text) - p->len, "%s(%d) ",
	    p->n > 1 ? "; " : "", p->n);
	if (k > 0)
		p->len += (size_t)k;
	if (p->len >= sizeof(p->text) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(p->text + p->len, sizeof(p->text) - p->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		p->len += (size_t)k;
	if (p->len > sizeof(p->text) - 1)
		p->len = sizeof(p->text) - 1;
}

static int
has_ext(X509 *x, int nid, int *critical)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return 0;
	if (critical != NULL)
		*critical = X509_EXTENSION_get_critical(X509_get_ext(x, i));
	return 1;
}

static void
check_extensions_unique(X509 *x, struct problems *p)
{
	int i, j, n = X509_get_ext_count(x);
	char name[80];

	for (i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

		for (j = i + 1; j < n; j++)
			if (OBJ_cmp(o, X509_EXTENSION_get_object(
			    X509_get_ext(x, j))) == 0) {
				OBJ_obj2txt(name, sizeof(name), o, 0);
				problem(p, "extension %s appears twice "
				    "(RFC 5280 4.2)", name);
			}
		if (X509_EXTENSION_get_critical(e) &&
		    !X509_supported_extension(e)) {
			OBJ_obj2txt(name, sizeof(name), o, 0);
			problem(p, "critical extension %s is unknown to "
			    "verifiers", name);
		}
	}
}

static void
check_serial(X509 *x, struct problems *p)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);

	if (bn == NULL || BN_is_negative(bn) || BN_is_zero(bn))
		problem(p, "the serial number must be positive (RFC 5280 "
		    "4.1.2.2)");
	else if (BN_num_bytes(bn) > 20)
		problem(p, "the serial number has %d bytes, more than 20 "
		    "(RFC 5280 4.1.2.2)", BN_num_bytes(bn));
	else if (BN_num_bits(bn) < 64)
		problem(p, "the serial number has %d bits: at least 64 random "
		    "bits are required (BR 7.1)", BN_num_bits(bn));
	BN_free(bn);
}

static void
check_validity(X509 *x, X509 *issuer, enum lint_role role,
    struct problems *p)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
	int days = 0, secs = 0;

	if (ASN1_TIME_diff(&days, &secs, nb, na) != 1 ||
	    (days < 0 || (days == 0 && secs <= 0))) {
		problem(p, "notAfter must be after notBefore");
		return;
	}
	if (role == LINT_ROOT && days > LINT_ROOT_MAX_YEARS * 366)
		problem(p, "a root valid for %d days is longer than the %d "
		    "years allowed (BR 6.3.2)", days, LINT_ROOT_MAX_YEARS);
	if (issuer == NULL)
		return;
	if (ASN1_TIME_compare(nb, X509_get0_notBefore(issuer)) < 0)
		problem(p, "notBefore is before the issuer's notBefore: the "
		    "certificate would be valid before its issuer");
	if (ASN1_TIME_compare(na, X509_get0_notAfter(issuer)) > 0)
		problem(p, "notAfter is after the issuer's notAfter: the "
		    "certificate would outlive its issuer");
}

static void
check_key(X509 *x, struct problems *p)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	BIGNUM *e = NULL;
	char group[32];

	if (k == NULL) {
		problem(p, "the public key cannot be read");
		return;
	}
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(k) < 2048 || EVP_PKEY_get_bits(k) % 8)
			problem(p, "an RSA key of %d bits: at least 2048, a "
			    "multiple of 8 (BR 6.1.5)", EVP_PKEY_get_bits(k));
		if (EVP_PKEY_get_bn_param(k, "e", &e) != 1 ||
		    !BN_is_word(e, 65537))
			problem(p, "the RSA public exponent must be 65537");
		BN_free(e);
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(k, "group", group,
		    sizeof(group), NULL) != 1 ||
		    (strcmp(group, "prime256v1") != 0 &&
			strcmp(group, "secp384r1") != 0 &&
			strcmp(group, "secp521r1") != 0))
			problem(p, "EC keys must be on P-256, P-384 or P-521 "
			    "(BR 6.1.5)");
		break;
	default:
		problem(p, "the key is neither RSA nor EC");
	}
}

/*
 * Extensions are read from the certificate's extension list, never from
 * OpenSSL's cached copies (X509_get0_subject_key_id, X509_get_key_usage):
 * the cache is filled once and goes stale when extensions are added to a
 * certificate being built, which is exactly what lint looks at.
 */

/* The keyIdentifier of `x`'s SKI (free it), or NULL. */
static ASN1_OCTET_STRING *
ski_of(X509 *x)
{
	return X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
}

/* keyUsage as X509v3 KU_* bits; 0 when absent. */
static uint32_t
key_usage(X509 *x)
{
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	uint32_t bits = 0;

	if (ku != NULL && ku->length > 0) {
		bits = ku->data[0];
		if (ku->length > 1)
			bits |= (uint32_t)ku->data[1] << 8;
	}
	ASN1_BIT_STRING_free(ku);
	return bits;
}

static void
check_key_ids(X509 *x, X509 *issuer, struct problems *p)
{
	ASN1_OCTET_STRING *ski = ski_of(x), *iski = NULL;
	const ASN1_OCTET_STRING *aki;
	AUTHORITY_KEYID *ak;

	if (ski == NULL)
		problem(p, "subjectKeyIdentifier is missing (RFC 5280 "
		    "4.2.1.2)");
	ak = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	aki = ak != NULL ? ak->keyid : NULL;
	if (issuer != NULL && aki == NULL)
		problem(p, "authorityKeyIdentifier is missing (RFC 5280 "
		    "4.2.1.1)");
	if (issuer != NULL)
		iski = ski_of(issuer);
	if (issuer != NULL && aki != NULL && iski != NULL &&
	    ASN1_OCTET_STRING_cmp(aki, iski) != 0)
		problem(p, "authorityKeyIdentifier does not match the issuer's "
		    "subjectKeyIdentifier");
	if (issuer == NULL && aki != NULL && ski != NULL &&
	    ASN1_OCTET_STRING_cmp(aki, ski) != 0)
		problem(p, "a self-signed root's authorityKeyIdentifier must "
		    "equal its subjectKeyIdentifier");
	AUTHORITY_KEYID_free(ak);
	ASN1_OCTET_STRING_free(ski);
	ASN1_OCTET_STRING_free(iski);
}

static long
path_len(X509 *x, int *is_ca, int *present)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints,
	    NULL, NULL);
	long len = -1;

	*is_ca = bc != NULL && bc->ca;
	*present = bc != NULL;
	if (bc != NULL && bc->pathlen != NULL)
		len = ASN1_INTEGER_get(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	return len;
}

static int
has_eku(X509 *x, int nid)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);
	int i, found = 0;

	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid)
			found = 1;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return found;
}

static void
check_urls(X509 *x, struct problems *p)
{
	CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points,
	    NULL, NULL);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access,
	    NULL, NULL);
	int i, j;

	for (i = 0; cdp != NULL && i < sk_DIST_POINT_num(cdp); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);
		GENERAL_NAMES *gns = dp->distpoint != NULL &&
			dp->distpoint->type == 0 ?
		    dp->distpoint->name.fullname : NULL;

		for (j = 0; gns != NULL && j < sk_GENERAL_NAME_num(gns); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);
			const char *u = gn->type == GEN_URI ?
			    (const char *)ASN1_STRING_get0_data(
				gn->d.uniformResourceIdentifier) : "";
			if (gn->type != GEN_URI ||
			    strncmp(u, "http://", 7) != 0)
				problem(p, "CRL distribution point \"%s\" must "
				    "be an http:// URL (BR 7.1.2)", u);
		}
	}
	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		const char *u = ad->location->type == GEN_URI ?
		    (const char *)ASN1_STRING_get0_data(
			ad->location->d.uniformResourceIdentifier) : "";
		if (ad->location->type != GEN_URI ||
		    strncmp(u, "http://", 7) != 0)
			problem(p, "authority information access \"%s\" must "
			    "be an http:// URL (BR 7.1.2)", u);
	}
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS_free(aia);
}

/* A DNS name as a certificate may carry it: LDH labels of 1..63
 * characters, 253 in all, optionally "*." first.  (A single label such as
 * "localhost" is fine for a private CA; the BRs' ban on internal names
 * binds publicly-trusted CAs, and templates restrict names by suffix.) */
static int
dns_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* subjectAltName: present at most once (checked elsewhere), not empty,
 * each dNSName well formed, each iPAddress 4 or 16 bytes, no repeats. */
static void
check_san(X509 *x, struct problems *p)
{
	GENERAL_NAMES *gns;
	int i, j, crit;

	if (!has_ext(x, NID_subject_alt_name, &crit))
		return;
	gns = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gns == NULL || sk_GENERAL_NAME_num(gns) == 0) {
		problem(p, "subjectAltName is empty or does not decode");
		GENERAL_NAMES_free(gns);
		return;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);
		int type;
		ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);

		if (type == GEN_DNS && !dns_name_ok((const char *)
		    ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v)))
			problem(p, "subjectAltName dNSName \"%.*s\" is not a "
			    "host name (BR 7.1.4.2.1)", ASN1_STRING_length(v) > 80 ?
			    80 : ASN1_STRING_length(v),
			    (const char *)ASN1_STRING_get0_data(v));
		if (type == GEN_IPADD && ASN1_STRING_length(v) != 4 &&
		    ASN1_STRING_length(v) != 16)
			problem(p, "subjectAltName iPAddress has %d bytes; "
			    "want 4 or 16", ASN1_STRING_length(v));
		for (j = 0; j < i; j++)
			if (GENERAL_NAME_cmp(gn,
			    sk_GENERAL_NAME_value(gns, j)) == 0)
				problem(p, "subjectAltName lists a name twice "
				    "(entry %d)", i + 1);
	}
	GENERAL_NAMES_free(gns);
}

int
lint_cert(X509 *x, X509 *issuer, EVP_PKEY *issuer_pub, enum lint_role role)
{
	struct problems p = { .len = 0, .n = 0 };
	int is_ca, bc_present, crit = 0, issuer_ca, issuer_bc;
	uint32_t ku;
	long pl, issuer_pl;
	X509_NAME *subj = X509_get_subject_name(x);

	p.text[0] = '\0';
	if (X509_get_version(x) != X509_VERSION_3)
		problem(&p, "the certificate must be version 3");
	check_serial(x, &p);
	check_validity(x, issuer, role, &p);
	check_key(x, &p);
	check_extensions_unique(x, &p);
	if (subj == NULL || X509_NAME_entry_count(subj) == 0) {
		if (role != LINT_EE)
			problem(&p, "the subject is empty");
		else if (!has_ext(x, NID_subject_alt_name, &crit) || !crit)
			problem(&p, "the subject is empty, so a critical "
			    "subjectAltName is required (RFC 5280 4.2.1.6)");
	}
	check_san(x, &p);
	if (role != LINT_EE && role != LINT_OCSP_SIGNER &&
	    X509_NAME_get_index_by_NID(subj, NID_commonName, -1) < 0)
		problem(&p, "a CA certificate's subject needs a commonName "
		    "(BR 7.1.4)");
	if (X509_NAME_cmp(X509_get_issuer_name(x), issuer != NULL ?
	    X509_get_subject_name(issuer) : subj) != 0)
		problem(&p, "the issuer name does not match the %s subject",
		    issuer != NULL ? "issuer's" : "certificate's own");
	if (role == LINT_ROOT && issuer != NULL)
		problem(&p, "a root has no issuer");
	if (role != LINT_ROOT && (issuer == NULL || issuer_pub == NULL))
		problem(&p, "an issued certificate needs its issuer");
	check_key_ids(x, issuer, &p);

	/* basicConstraints and path length */
	pl = path_len(x, &is_ca, &bc_present);
	if (role == LINT_ROOT || role == LINT_SUBCA) {
		if (!bc_present || !is_ca)
			problem(&p, "a CA certificate needs basicConstraints "
			    "with cA true");
		else if (has_ext(x, NID_basic_constraints, &crit) && !crit)
			problem(&p, "basicConstraints must be critical in a CA "
			    "certificate (RFC 5280 4.2.1.9)");
	} else if (is_ca) {
		problem(&p, "an end-entity certificate must not be a CA");
	}
	if (role == LINT_SUBCA && issuer != NULL) {
		issuer_pl = path_len(issuer, &issuer_ca, &issuer_bc);
		if (!issuer_ca)
			problem(&p, "the issuer is not a CA");
		else if (issuer_pl == 0)
			problem(&p, "the issuer's pathLenConstraint is 0: it "
			    "may not issue CA certificates");
		else if (issuer_pl > 0 && pl >= issuer_pl)
			problem(&p, "pathLenConstraint %ld must be less than "
			    "the issuer's %ld", pl, issuer_pl);
		else if (issuer_pl > 0 && pl < 0)
			problem(&p, "pathLenConstraint is missing while the "
			    "issuer's is %ld: set it below that", issuer_pl);
	}

	/* keyUsage */
	ku = key_usage(x);
	if (!has_ext(x, NID_key_usage, &crit))
		problem(&p, "keyUsage is missing");
	else if (!crit)
		problem(&p, "keyUsage must be critical");
	if (role == LINT_ROOT || role == LINT_SUBCA) {
		if ((ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) !=
		    (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
			problem(&p, "a CA certificate's keyUsage needs "
			    "keyCertSign and cRLSign (BR 7.1.2)");
		if (ku & ~(KU_KEY_CERT_SIGN | KU_CRL_SIGN |
		    KU_DIGITAL_SIGNATURE))
			problem(&p, "a CA certificate's keyUsage may hold only "
			    "keyCertSign, cRLSign and digitalSignature");
	} else {
		if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
			problem(&p, "an end-entity certificate must not have "
			    "keyCertSign or cRLSign");
		if (role == LINT_OCSP_SIGNER && !(ku & KU_DIGITAL_SIGNATURE))
			problem(&p, "an OCSP signer needs digitalSignature");
	}

	/* extendedKeyUsage: never "any"; explicit on end entities */
	if (has_eku(x, NID_anyExtendedKeyUsage))
		problem(&p, "anyExtendedKeyUsage is never issued (a certificate "
		    "for every purpose: the AD CS ESC2 class)");
	if ((role == LINT_EE || role == LINT_OCSP_SIGNER) &&
	    !has_ext(x, NID_ext_key_usage, NULL))
		problem(&p, "an end-entity certificate needs an explicit "
		    "extendedKeyUsage (an empty EKU means any purpose: ESC2)");
	if (role == LINT_OCSP_SIGNER) {
		if (!has_eku(x, NID_OCSP_sign))
			problem(&p, "an OCSP signer needs id-kp-OCSPSigning");
		if (!has_ext(x, NID_id_pkix_OCSP_noCheck, NULL))
			problem(&p, "an OCSP signer needs id-pkix-ocsp-nocheck "
			    "(RFC 6960 4.2.2.2.1)");
	}
	if (role == LINT_ROOT && has_ext(x, NID_ext_key_usage, NULL))
		problem(&p, "a root certificate must not restrict its "
		    "extendedKeyUsage (BR 7.1.2.1)");

	/* Name constraints: CA only, critical */
	if (has_ext(x, NID_name_constraints, &crit)) {
		if (role != LINT_SUBCA)
			problem(&p, "nameConstraints belong in subordinate CA "
			    "certificates only");
		else if (!crit)
			problem(&p, "nameConstraints must be critical (RFC 5280 "
			    "4.2.1.10)");
	}
	if (role == LINT_SUBCA &&
	    !has_ext(x, NID_crl_distribution_points, NULL))
		problem(&p, "a subordinate CA certificate needs a CRL "
		    "distribution point (BR 7.1.2.2)");
	check_urls(x, &p);

	if (p.n == 0)
		return 0;
	return cairn_error(CAIRN_E_LINT, "%d problem%s: %s", p.n,
	    p.n == 1 ? "" : "s", p.text);
}

/* ---- checked signing ------------------------------------------------ */

static pthread_mutex_t throwaway_mu = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *throwaway_ec, *throwaway_rsa;

/* A software key of the same kind as `like`, made once per process.  The
 * key's size does not show in the TBS, only its algorithm, so the RSA one
 * is small: its signature is thrown away, and a 1024-bit one costs a
 * fifth of a 2048-bit one on every RSA CA's issuance.  (Were the size
 * ever to show, the check that the TBS is unchanged after the HSM signed
 * would refuse the certificate; nothing wrong could be released.) */
static EVP_PKEY *
throwaway(EVP_PKEY *like)
{
	EVP_PKEY **slot, *k;

	pthread_mutex_lock(&throwaway_mu);
	if (EVP_PKEY_get_base_id(like) == EVP_PKEY_RSA) {
		slot = &throwaway_rsa;
		if (*slot == NULL)
			*slot = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			    (size_t)1024);
	} else {
		slot = &throwaway_ec;
		if (*slot == NULL)
			*slot = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	}
	k = *slot;
	pthread_mutex_unlock(&throwaway_mu);
	return k;
}

/* A certificate for the throwaway key of `like`'s kind, made once: what
 * OCSP_basic_sign needs beside the key (it checks they match). */
static X509 *throwaway_ec_cert, *throwaway_rsa_cert;

static X509 *
throwaway_cert(EVP_PKEY *like)
{
	EVP_PKEY *k = throwaway(like);
	X509 **slot, *x;

	if (k == NULL)
		return NULL;
	pthread_mutex_lock(&throwaway_mu);
	slot = EVP_PKEY_get_base_id(like) == EVP_PKEY_RSA ?
	    &throwaway_rsa_cert : &throwaway_ec_cert;
	if (*slot == NULL && (x = X509_new()) != NULL) {
		if (X509_set_version(x, X509_VERSION_3) == 1 &&
		    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
		    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
			MBSTRING_ASC, (const unsigned char *)"throwaway", -1, -1,
			0) == 1 &&
		    X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
		    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
		    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
		    X509_set_pubkey(x, k) == 1 &&
		    X509_sign(x, k, EVP_sha256()) > 0)
			*slot = x;
		else
			X509_free(x);
	}
	x = *slot;
	pthread_mutex_unlock(&throwaway_mu);
	return x;
}

static int
tbs_bytes(X509 *x, unsigned char **out)
{
	*out = NULL;
	return i2d_re_X509_tbs(x, out);
}

int
lint_trial_cert(X509 *x, EVP_PKEY *issuer_pub, const EVP_MD *md,
    unsigned char **tbs, int *tbslen)
{
	EVP_PKEY *trial = throwaway(issuer_pub);

	*tbs = NULL;
	*tbslen = 0;
	if (trial == NULL)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot make the throwaway key for the trial signature");
	if (X509_sign(x, trial, md) <= 0 || (*tbslen = tbs_bytes(x, tbs)) <= 0)
		return cairn_error_crypto(CAIRN_E_LINT, "the trial signature "
		    "with a throwaway key failed: the certificate was not "
		    "shown to the HSM");
	return 0;
}

int
lint_sign_cert_as(X509 *x, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md, const unsigned char *tbs, int tbslen)
{
	unsigned char *after = NULL;
	int la, r;

	if (X509_sign(x, key, md) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "signing with the CA key failed");
		goto out;
	}
	if ((la = tbs_bytes(x, &after)) != tbslen ||
	    memcmp(tbs, after, (size_t)tbslen) != 0) {
		r = cairn_error(CAIRN_E_LINT, "the to-be-signed bytes changed "
		    "between the check and the signature: not released");
		goto out;
	}
	if (X509_verify(x, issuer_pub) != 1) {
		r = cairn_error_crypto(CAIRN_E_LINT, "the signature made by "
		    "the CA key does not verify with the CA's public key: not "
		    "released (is the right key on the token?)");
		goto out;
	}
	r = 0;
out:
	OPENSSL_free(after);
	return r;
}

int
lint_sign_cert(X509 *x, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md)
{
	unsigned char *before = NULL;
	int lb, r;

	if ((r = lint_trial_cert(x, issuer_pub, md, &before, &lb)) == 0)
		r = lint_sign_cert_as(x, key, issuer_pub, md, before, lb);
	OPENSSL_free(before);
	return r;
}

int
lint_sign_crl(X509_CRL *crl, EVP_PKEY *key, EVP_PKEY *issuer_pub,
    const EVP_MD *md)
{
	unsigned char *before = NULL, *after = NULL;
	EVP_PKEY *trial = throwaway(issuer_pub);
	int lb, la, r;

	if (trial == NULL)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot make the throwaway key for the trial signature");
	if (X509_CRL_sign(crl, trial, md) <= 0 ||
	    (lb = i2d_re_X509_CRL_tbs(crl, &before)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_LINT, "the trial signature of "
		    "the CRL failed: it was not shown to the HSM");
		goto out;
	}
	if (X509_CRL_sign(crl, key, md) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "signing the CRL with the CA key failed");
		goto out;
	}
	if ((la = i2d_re_X509_CRL_tbs(crl, &after)) != lb ||
	    memcmp(before, after, (size_t)lb) != 0) {
		r = cairn_error(CAIRN_E_LINT, "the CRL changed between the "
		    "check and the signature: not released");
		goto out;
	}
	if (X509_CRL_verify(crl, issuer_pub) != 1) {
		r = cairn_error_crypto(CAIRN_E_LINT, "the CRL signature does "
		    "not verify with the CA's public key: not released");
		goto out;
	}
	r = 0;
out:
	OPENSSL_free(before);
	OPENSSL_free(after);
	return r;
}

int
lint_sign_ocsp(int (*build)(void *arg, OCSP_BASICRESP **bs), void *arg,
    X509 *signer, EVP_PKEY *key, const EVP_MD *md, OCSP_BASICRESP **out)
{
	return lint_sign_ocsp_ex(build, arg, signer, key, md, OCSP_NOCERTS,
	    out);
}

int
lint_sign_ocsp_ex(int (*build)(void *arg, OCSP_BASICRESP **bs), void *arg,
    X509 *signer, EVP_PKEY *key, const EVP_MD *md, unsigned long certs_flag,
    OCSP_BASICRESP **out)
{
	const unsigned long flags = OCSP_RESPID_KEY |
	    (certs_flag & OCSP_NOCERTS);
	EVP_PKEY *trial = throwaway(X509_get0_pubkey(signer));
	X509 *trial_cert = throwaway_cert(X509_get0_pubkey(signer));
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_STORE *store = NULL;
	int r;

	*out = NULL;
	if (trial == NULL || trial_cert == NULL)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot make the throwaway key for the trial signature");
	/* OCSP_basic_sign insists that key and certificate match: the
	 * throwaway key signs as its own throwaway certificate. */
	if ((r = build(arg, &bs)) != 0)
		return r;
	if (OCSP_basic_sign(bs, trial_cert, trial, md, NULL, flags) != 1) {
		ERR_clear_error();
		OCSP_BASICRESP_free(bs);
		return cairn_error(CAIRN_E_LINT, "the trial signature of the "
		    "OCSP response failed: it was not shown to the HSM");
	}
	OCSP_BASICRESP_free(bs);
	bs = NULL;
	if ((r = build(arg, &bs)) != 0)
		return r;
	if (OCSP_basic_sign(bs, signer, key, md, NULL, flags) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "signing the OCSP response with the CA key failed");
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL ||
	    (store = X509_STORE_new()) == NULL ||
	    sk_X509_push(certs, signer) == 0) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	/* The signer is pinned: check the signature, not a chain. */
	if (OCSP_basic_verify(bs, certs, store, OCSP_NOVERIFY |
	    OCSP_TRUSTOTHER | OCSP_NOEXPLICIT) != 1) {
		r = cairn_error_crypto(CAIRN_E_LINT, "the OCSP response signed "
		    "by the CA key does not verify with the CA's public key: "
		    "not released");
		goto out;
	}
	*out = bs; /* transferred */
	bs = NULL;
	r = 0;
out:
	OCSP_BASICRESP_free(bs);
	sk_X509_free(certs);
	X509_STORE_free(store);
	return r;
}
