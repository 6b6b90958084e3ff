/*
 * profile.c: build unsigned certificates from profiles.
 *
 * Extensions are built from OpenSSL's structures, not from its "config
 * string" syntax (X509V3_EXT_nconf): a comma in a URL or a name would be
 * read as a separator there, and a certificate must say exactly what the
 * profile says.
 */
#include "config.h"

/* set_subject_key() reaches for the EC_KEY and RSA types (see there). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/profile.h"

struct profile *
profile_new(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->path_len = -1;
	return p;
}

static void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	X509_NAME_free(p->subject);
	strv_free(p->eku);
	strv_free(p->policies);
	strv_free(p->crl_urls);
	strv_free(p->ocsp_urls);
	strv_free(p->ca_issuers_urls);
	strv_free(p->permitted_dns);
	strv_free(p->excluded_dns);
	strv_free(p->permitted_email);
	strv_free(p->excluded_email);
	strv_free(p->permitted_ip);
	strv_free(p->excluded_ip);
	strv_free(p->san_dns);
	strv_free(p->san_ip);
	strv_free(p->san_email);
	strv_free(p->san_uri);
	sk_X509_EXTENSION_pop_free(p->extra, X509_EXTENSION_free);
	free(p);
}

size_t
profile_strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

int
profile_strv_add(char ***v, const char *s)
{
	size_t n = profile_strv_len(*v);
	char **nv, *copy;

	if ((copy = strdup(s)) == NULL ||
	    (nv = realloc(*v, (n + 2) * sizeof(*nv))) == NULL) {
		free(copy);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

static const struct {
	const char *type;
	int nid;
} dn_types[] = {
	{ "C", NID_countryName },
	{ "ST", NID_stateOrProvinceName },
	{ "L", NID_localityName },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "CN", NID_commonName },
	{ "DC", NID_domainComponent },
	{ "serialNumber", NID_serialNumber },
	{ "organizationIdentifier", NID_organizationIdentifier },
	{ "emailAddress", NID_pkcs9_emailAddress },
};

int
profile_subject_add(struct profile *p, const char *type, const char *value)
{
	size_t i, len = strlen(value);
	int nid = NID_undef;

	for (i = 0; i < sizeof(dn_types) / sizeof(dn_types[0]); i++)
		if (strcmp(dn_types[i].type, type) == 0)
			nid = dn_types[i].nid;
	if (nid == NID_undef)
		return cairn_error(CAIRN_E_INVAL,
		    "subject attribute \"%s\" is not one of C, ST, L, O, OU, "
		    "CN, DC, serialNumber, organizationIdentifier, "
		    "emailAddress", type);
	if (nid == NID_countryName &&
	    (len != 2 || value[0] < 'A' || value[0] > 'Z' || value[1] < 'A' ||
		value[1] > 'Z'))
		return cairn_error(CAIRN_E_INVAL,
		    "subject C must be a two-letter upper-case country code "
		    "(ISO 3166), not \"%s\"", value);
	if (len == 0 || len > 64)
		return cairn_error(CAIRN_E_INVAL,
		    "subject %s must have 1 to 64 bytes (RFC 5280 upper "
		    "bounds), has %zu", type, len);
	if (p->subject == NULL && (p->subject = X509_NAME_new()) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	/* C and emailAddress are PrintableString/IA5String; the rest
	 * UTF8String, as RFC 5280 section 4.1.2.6 recommends. */
	if (X509_NAME_add_entry_by_NID(p->subject, nid,
	    nid == NID_countryName ? MBSTRING_ASC : MBSTRING_UTF8,
	    (const unsigned char *)value, (int)len, -1, 0) != 1)
		return cairn_error_crypto(CAIRN_E_INVAL,
		    "subject %s=\"%s\" is not valid", type, value);
	return 0;
}

ASN1_INTEGER *
profile_serial(void)
{
	unsigned char b[PROFILE_SERIAL_LEN];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1) {
			cairn_error_crypto(CAIRN_E_CRYPTO,
			    "no random bytes for a serial number");
			return NULL;
		}
		b[0] &= 0x7f;   /* positive */
	} while (b[0] == 0); /* a full 16-byte encoding, never zero */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		cairn_error_crypto(CAIRN_E_CRYPTO, "cannot make a serial");
	BN_free(bn);
	OPENSSL_cleanse(b, sizeof(b));
	return ai;
}

/* RFC 7093 method 1 over a subjectPublicKey BIT STRING. */
static int
ski_of_bits(const ASN1_BIT_STRING *bits, uint8_t out[20])
{
	unsigned char md[32];

	if (bits == NULL || EVP_Digest(ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits), md, NULL, EVP_sha256(), NULL) !=
	    1)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot compute the key identifier");
	memcpy(out, md, 20);
	return 0;
}

int
profile_ski(EVP_PKEY *pub, uint8_t out[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *key;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int keylen, r = CAIRN_E_CRYPTO;

	if (X509_PUBKEY_set(&xpk, pub) != 1 ||
	    X509_PUBKEY_get0_param(NULL, &key, &keylen, NULL, xpk) != 1 ||
	    EVP_Digest(key, (size_t)keylen, md, &mdlen, EVP_sha256(), NULL) !=
		1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot compute the key identifier");
		goto out;
	}
	memcpy(out, md, 20);
	r = 0;
out:
	X509_PUBKEY_free(xpk);
	return r;
}

const EVP_MD *
profile_default_md(EVP_PKEY *issuer_pub)
{
	int bits = EVP_PKEY_get_bits(issuer_pub);

	if ((EVP_PKEY_get_base_id(issuer_pub) == EVP_PKEY_EC && bits >= 384) ||
	    (EVP_PKEY_get_base_id(issuer_pub) == EVP_PKEY_RSA && bits >= 4096))
		return EVP_sha384();
	return EVP_sha256();
}

/* ---- extension builders: each adds one extension or fails ----------- */

static int
add_ext(X509 *x, int nid, void *value, int critical, const char *what)
{
	if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_APPEND) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot add the %s extension", what);
	return 0;
}

static int
add_basic_constraints(X509 *x, const struct profile *p)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int r;

	if (bc == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	bc->ca = p->ca ? 0xff : 0;
	if (p->ca && p->path_len >= 0 &&
	    ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
		ASN1_INTEGER_set(bc->pathlen, p->path_len) != 1)) {
		BASIC_CONSTRAINTS_free(bc);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	/* RFC 5280 4.2.1.9: critical in CA certificates. */
	r = add_ext(x, NID_basic_constraints, bc, p->ca, "basicConstraints");
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

static int
add_key_usage(X509 *x, unsigned ku)
{
	static const unsigned bits[] = {
		PROFILE_KU_DIGITAL_SIGNATURE, PROFILE_KU_NON_REPUDIATION,
		PROFILE_KU_KEY_ENCIPHERMENT, PROFILE_KU_DATA_ENCIPHERMENT,
		PROFILE_KU_KEY_AGREEMENT, PROFILE_KU_KEY_CERT_SIGN,
		PROFILE_KU_CRL_SIGN,
	};
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	size_t i;
	int r = 0;

	if (bs == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if ((ku & bits[i]) &&
		    ASN1_BIT_STRING_set_bit(bs, (int)i, 1) != 1)
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (r == 0)
		r = add_ext(x, NID_key_usage, bs, 1, "keyUsage");
	ASN1_BIT_STRING_free(bs);
	return r;
}

/*
 * SKI and AKI.  Both come from subjectPublicKey bit strings already in
 * certificates (this one's, and the issuer's), not from the EVP_PKEYs:
 * OpenSSL 3.0 turns a provider key into a bit string by encoding it and
 * decoding the result again, which cost two thirds of an issuance's CPU.
 * The AKI is the issuer's own SKI when it has one (RFC 5280 4.2.1.1: the
 * identifier established before), as lint_cert requires.
 */
static int
add_key_ids(X509 *x, X509 *issuer)
{
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *iski;
	uint8_t id[20];
	int r;

	if (ski == NULL || aki == NULL ||
	    (aki->keyid = ASN1_OCTET_STRING_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ski_of_bits(X509_get0_pubkey_bitstr(x), id)) != 0)
		goto out;
	if (ASN1_OCTET_STRING_set(ski, id, sizeof(id)) != 1) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = add_ext(x, NID_subject_key_identifier, ski, 0,
	    "subjectKeyIdentifier")) != 0)
		goto out;
	if (issuer != NULL &&
	    (iski = X509_get0_subject_key_id(issuer)) != NULL) {
		if (ASN1_STRING_copy(aki->keyid, iski) != 1) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	} else if ((r = ski_of_bits(X509_get0_pubkey_bitstr(issuer != NULL ?
	    issuer : x), id)) != 0) {
		goto out;
	} else if (ASN1_OCTET_STRING_set(aki->keyid, id, sizeof(id)) != 1) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	r = add_ext(x, NID_authority_key_identifier, aki, 0,
	    "authorityKeyIdentifier");
out:
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	return r;
}

/* "serverAuth" or "1.3.6.1.5.5.7.3.1" to an object, or an error. */
static ASN1_OBJECT *
oid(const char *s, const char *what)
{
	ASN1_OBJECT *o = OBJ_txt2obj(s, 0);

	if (o == NULL)
		cairn_error(CAIRN_E_INVAL, "%s \"%s\" is neither a known name "
		    "nor a dotted OID", what, s);
	return o;
}

static int
add_eku(X509 *x, char *const *eku)
{
	EXTENDED_KEY_USAGE *e = sk_ASN1_OBJECT_new_null();
	ASN1_OBJECT *o;
	size_t i;
	int r = 0;

	if (e == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; eku[i] != NULL && r == 0; i++) {
		if ((o = oid(eku[i], "extended key usage")) == NULL)
			r = CAIRN_E_INVAL;
		else if (sk_ASN1_OBJECT_push(e, o) == 0) {
			ASN1_OBJECT_free(o);
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
	}
	if (r == 0)
		r = add_ext(x, NID_ext_key_usage, e, 0, "extendedKeyUsage");
	sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free);
	return r;
}

static int
add_policies(X509 *x, char *const *policies)
{
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	POLICYINFO *pi;
	size_t i;
	int r = 0;

	if (cp == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (i = 0; policies[i] != NULL && r == 0; i++) {
		if ((pi = POLICYINFO_new()) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			break;
		}
		ASN1_OBJECT_free(pi->policyid);
		if ((pi->policyid = oid(policies[i], "policy")) == NULL)
			r = CAIRN_E_INVAL;
		if (r != 0 || sk_POLICYINFO_push(cp, pi) == 0) {
			POLICYINFO_free(pi);
			if (r == 0)
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
	}
	if (r == 0)
		r = add_ext(x, NID_certificate_policies, cp, 0,
		    "certificatePolicies");
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return r;
}

static GENERAL_NAME *
uri_name(const char *uri)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL ||
	    ASN1_STRING_set(s, uri, (int)strlen(uri)) != 1) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	return gn;
}

static int
add_crl_dp(X509 *x, char *const *urls)
{
	CRL_DIST_POINTS *cdp = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *gn;
	size_t i;
	int r = 0;

	/* One distribution point holding every URL: the same CRL, several
	 * places to fetch it from. */
	if (cdp == NULL || dp == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	dp->distpoint->type = 0;
	for (i = 0; urls[i] != NULL; i++)
		if ((gn = uri_name(urls[i])) == NULL ||
		    sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) ==
			0) {
			GENERAL_NAME_free(gn);
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	if (sk_DIST_POINT_push(cdp, dp) == 0) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	dp = NULL; /* transferred to cdp */
	r = add_ext(x, NID_crl_distribution_points, cdp, 0,
	    "cRLDistributionPoints");
out:
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	return r;
}

static int
add_aia(X509 *x, char *const *ocsp, char *const *issuers)
{
	AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
	ACCESS_DESCRIPTION *ad;
	char *const *lists[2] = { ocsp, issuers };
	const int nids[2] = { NID_ad_OCSP, NID_ad_ca_issuers };
	size_t i, k;
	int r = 0;

	if (aia == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (k = 0; k < 2 && r == 0; k++)
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			if ((ad = ACCESS_DESCRIPTION_new()) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
				break;
			}
			ASN1_OBJECT_free(ad->method);
			GENERAL_NAME_free(ad->location);
			ad->method = OBJ_nid2obj(nids[k]);
			if ((ad->location = uri_name(lists[k][i])) == NULL ||
			    sk_ACCESS_DESCRIPTION_push(aia, ad) == 0) {
				ACCESS_DESCRIPTION_free(ad);
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
				break;
			}
		}
	if (r == 0)
		r = add_ext(x, NID_info_access, aia, 0, "authorityInfoAccess");
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return r;
}

/* "10.0.0.0/8" or "2001:db8::/32" to address||mask bytes (8 or 32). */
static int
ip_subtree(const char *s, unsigned char *out, int *outlen)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	unsigned char a[16];
	char *end;
	long bits;
	int len, i;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, a) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		len = 16;
	else
		return -1;
	bits = strtol(slash + 1, &end, 10);
	if (*(slash + 1) == '\0' || *end != '\0' || bits < 0 || bits > len * 8)
		return -1;
	memcpy(out, a, (size_t)len);
	for (i = 0; i < len; i++) {
		int b = (int)bits - i * 8;
		out[len + i] = b >= 8 ? 0xff : b <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - b));
		/* The address must have no bits outside its mask. */
		if ((out[i] & ~out[len + i]) != 0)
			return -1;
	}
	*outlen = len * 2;
	return 0;
}

static int
push_subtrees(STACK_OF(GENERAL_SUBTREE) **sk, char *const *v, int type)
{
	GENERAL_SUBTREE *st;
	ASN1_STRING *s;
	unsigned char ip[32];
	size_t i;
	int len;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (*sk == NULL &&
		    (*sk = sk_GENERAL_SUBTREE_new_null()) == NULL)
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		if (type == GEN_IPADD && ip_subtree(v[i], ip, &len) != 0)
			return cairn_error(CAIRN_E_INVAL,
			    "name constraint \"%s\" is not an IP network such "
			    "as 10.0.0.0/8 or 2001:db8::/32 (with no host "
			    "bits set)", v[i]);
		if ((st = GENERAL_SUBTREE_new()) == NULL ||
		    (s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() :
					     ASN1_IA5STRING_new()) == NULL) {
			GENERAL_SUBTREE_free(st);
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
		if ((type == GEN_IPADD ? ASN1_OCTET_STRING_set(s, ip, len) :
			ASN1_STRING_set(s, v[i], (int)strlen(v[i]))) != 1) {
			ASN1_STRING_free(s);
			GENERAL_SUBTREE_free(st);
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
		GENERAL_NAME_set0_value(st->base, type, s);
		if (sk_GENERAL_SUBTREE_push(*sk, st) == 0) {
			GENERAL_SUBTREE_free(st);
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
	}
	return 0;
}

/* One GENERAL_NAME of `type` for `v`: IA5 text, or an address for
 * GEN_IPADD. */
static GENERAL_NAME *
general_name(int type, const char *v)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s = NULL;
	unsigned char a[16];
	int len = 0;

	if (gn == NULL)
		return NULL;
	if (type == GEN_IPADD) {
		if (inet_pton(AF_INET, v, a) == 1)
			len = 4;
		else if (inet_pton(AF_INET6, v, a) == 1)
			len = 16;
		if (len == 0 || (s = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(s, a, len) != 1)
			goto fail;
	} else if ((s = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(s, v, (int)strlen(v)) != 1) {
		goto fail;
	}
	GENERAL_NAME_set0_value(gn, type, s);
	return gn;
fail:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	return NULL;
}

static int
san_count(const struct profile *p)
{
	return (int)(profile_strv_len(p->san_dns) +
	    profile_strv_len(p->san_ip) + profile_strv_len(p->san_email) +
	    profile_strv_len(p->san_uri));
}

static int
add_san(X509 *x, const struct profile *p)
{
	static const int types[] = { GEN_DNS, GEN_IPADD, GEN_EMAIL, GEN_URI };
	char *const *lists[] = { p->san_dns, p->san_ip, p->san_email,
		p->san_uri };
	GENERAL_NAMES *gns = GENERAL_NAMES_new();
	GENERAL_NAME *gn;
	size_t t, i;
	int r = 0, critical;

	if (gns == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (t = 0; t < 4 && r == 0; t++)
		for (i = 0; lists[t] != NULL && lists[t][i] != NULL; i++) {
			if ((gn = general_name(types[t], lists[t][i])) ==
			    NULL) {
				r = cairn_error(CAIRN_E_INVAL, "subject "
				    "alternative name \"%s\" cannot be "
				    "encoded", lists[t][i]);
				break;
			}
			if (sk_GENERAL_NAME_push(gns, gn) == 0) {
				GENERAL_NAME_free(gn);
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
				break;
			}
		}
	/* RFC 5280 4.2.1.6: critical when the subject is empty. */
	critical = X509_NAME_entry_count(p->subject) == 0;
	if (r == 0)
		r = add_ext(x, NID_subject_alt_name, gns, critical,
		    "subjectAltName");
	GENERAL_NAMES_free(gns);
	return r;
}

/* Copy the profile's extra extensions, refusing any the profile makes
 * itself (a copied EKU or basicConstraints would override policy). */
static int
add_extra(X509 *x, const struct profile *p)
{
	static const int owned[] = { NID_basic_constraints, NID_key_usage,
		NID_ext_key_usage, NID_subject_key_identifier,
		NID_authority_key_identifier, NID_certificate_policies,
		NID_crl_distribution_points, NID_info_access,
		NID_name_constraints, NID_subject_alt_name,
		NID_id_pkix_OCSP_noCheck, NID_policy_constraints,
		NID_inhibit_any_policy, NID_policy_mappings };
	int i, nid;
	size_t k;

	for (i = 0; i < sk_X509_EXTENSION_num(p->extra); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(p->extra, i);
		char txt[80];

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		OBJ_obj2txt(txt, sizeof(txt), X509_EXTENSION_get_object(e), 1);
		for (k = 0; k < sizeof(owned) / sizeof(owned[0]); k++)
			if (nid == owned[k])
				return cairn_error(CAIRN_E_INVAL, "extension %s "
				    "is made by the profile and cannot be "
				    "copied", txt);
		/* Microsoft application policies: the ESC15 vector. */
		if (strcmp(txt, "1.3.6.1.4.1.311.21.10") == 0)
			return cairn_error(CAIRN_E_INVAL, "extension %s "
			    "(application policies) is never copied: it "
			    "acts as an EKU on Windows (ESC15)", txt);
		if (X509_get_ext_by_OBJ(x, X509_EXTENSION_get_object(e),
		    -1) >= 0)
			return cairn_error(CAIRN_E_INVAL, "extension %s "
			    "appears twice", txt);
		if (X509_add_ext(x, e, -1) != 1)
			return cairn_error_crypto(CAIRN_E_CRYPTO, "cannot add "
			    "extension %s", txt);
	}
	return 0;
}

static int
add_name_constraints(X509 *x, const struct profile *p)
{
	NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
	int r;

	if (nc == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if ((r = push_subtrees(&nc->permittedSubtrees, p->permitted_dns,
	    GEN_DNS)) != 0 ||
	    (r = push_subtrees(&nc->permittedSubtrees, p->permitted_email,
		GEN_EMAIL)) != 0 ||
	    (r = push_subtrees(&nc->permittedSubtrees, p->permitted_ip,
		GEN_IPADD)) != 0 ||
	    (r = push_subtrees(&nc->excludedSubtrees, p->excluded_dns,
		GEN_DNS)) != 0 ||
	    (r = push_subtrees(&nc->excludedSubtrees, p->excluded_email,
		GEN_EMAIL)) != 0 ||
	    (r = push_subtrees(&nc->excludedSubtrees, p->excluded_ip,
		GEN_IPADD)) != 0)
		goto out;
	/* RFC 5280 4.2.1.10: MUST be critical. */
	r = add_ext(x, NID_name_constraints, nc, 1, "nameConstraints");
out:
	NAME_CONSTRAINTS_free(nc);
	return r;
}

static int
has_name_constraints(const struct profile *p)
{
	return profile_strv_len(p->permitted_dns) +
	    profile_strv_len(p->excluded_dns) +
	    profile_strv_len(p->permitted_email) +
	    profile_strv_len(p->excluded_email) +
	    profile_strv_len(p->permitted_ip) +
	    profile_strv_len(p->excluded_ip) > 0;
}

static int
set_time(ASN1_TIME *t, long long when, const char *what)
{
	/* ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime
	 * after, as RFC 5280 4.1.2.5 requires. */
	if (ASN1_TIME_set(t, (time_t)when) == NULL)
		return cairn_error_crypto(CAIRN_E_INVAL, "%s %lld cannot be "
		    "encoded", what, when);
	return 0;
}

/*
 * The subject's public key into `x`.  X509_set_pubkey() with a key held by
 * a provider (what d2i of a CSR gives in OpenSSL 3.0) runs the encoder
 * and then the decoder, and building each of those contexts walks every
 * provider's algorithms under global locks: 13% of the CPU of an EC
 * issuance, all on the one key.  The same key as an EC_KEY or RSA
 * object is encoded by its ASN.1 method instead, and the certificate
 * keeps that object as its decoded key, so everything after (lint,
 * SCEP's CertRep) finds it as before.  Other key types, or a key that
 * will not convert, take the general path.
 */
static int
set_subject_key(X509 *x, EVP_PKEY *pub)
{
	EVP_PKEY *k = NULL;
	EC_KEY *ec;
	RSA *rsa;
	int ok;

	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_EC:
		if ((ec = EVP_PKEY_get1_EC_KEY(pub)) != NULL &&
		    ((k = EVP_PKEY_new()) == NULL ||
			EVP_PKEY_assign_EC_KEY(k, ec) != 1))
			EC_KEY_free(ec);
		break;
	case EVP_PKEY_RSA:
		if ((rsa = EVP_PKEY_get1_RSA(pub)) != NULL &&
		    ((k = EVP_PKEY_new()) == NULL ||
			EVP_PKEY_assign_RSA(k, rsa) != 1))
			RSA_free(rsa);
		break;
	default:
		break;
	}
	if (k != NULL && EVP_PKEY_get0(k) == NULL) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	ERR_clear_error();
	ok = X509_set_pubkey(x, k != NULL ? k : pub) == 1;
	EVP_PKEY_free(k);
	return ok;
}

int
profile_build(const struct profile *p, EVP_PKEY *subject_pub, X509 *issuer,
    const ASN1_INTEGER *serial, X509 **out)
{
	ASN1_INTEGER *fresh = NULL;
	X509 *x = NULL;
	int r;

	*out = NULL;
	if (p->subject == NULL ||
	    (X509_NAME_entry_count(p->subject) == 0 && san_count(p) == 0))
		return cairn_error(CAIRN_E_INVAL, "the profile has no subject "
		    "and no subject alternative name");
	if (serial == NULL && (serial = fresh = profile_serial()) == NULL)
		return CAIRN_E_CRYPTO;
	if ((x = X509_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, (ASN1_INTEGER *)serial) != 1 ||
	    X509_set_subject_name(x, p->subject) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
		X509_get_subject_name(issuer) : p->subject) != 1 ||
	    !set_subject_key(x, subject_pub)) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot fill the certificate");
		goto out;
	}
	if ((r = set_time(X509_getm_notBefore(x), p->not_before,
	    "notBefore")) != 0 ||
	    (r = set_time(X509_getm_notAfter(x), p->not_after,
		"notAfter")) != 0)
		goto out;
	if ((r = add_basic_constraints(x, p)) != 0 ||
	    (p->key_usage != 0 && (r = add_key_usage(x, p->key_usage)) != 0) ||
	    (r = add_key_ids(x, issuer)) != 0 ||
	    (p->eku != NULL && p->eku[0] != NULL &&
		(r = add_eku(x, p->eku)) != 0) ||
	    (p->policies != NULL && p->policies[0] != NULL &&
		(r = add_policies(x, p->policies)) != 0) ||
	    (p->crl_urls != NULL && p->crl_urls[0] != NULL &&
		(r = add_crl_dp(x, p->crl_urls)) != 0) ||
	    (profile_strv_len(p->ocsp_urls) +
		    profile_strv_len(p->ca_issuers_urls) > 0 &&
		(r = add_aia(x, p->ocsp_urls, p->ca_issuers_urls)) != 0) ||
	    (has_name_constraints(p) && (r = add_name_constraints(x, p)) != 0) ||
	    (san_count(p) > 0 && (r = add_san(x, p)) != 0) ||
	    (r = add_extra(x, p)) != 0)
		goto out;
	if (p->ocsp_nocheck) {
		ASN1_NULL *null = ASN1_NULL_new();
		r = null == NULL ? cairn_error(CAIRN_E_NOMEM, "out of memory") :
		    add_ext(x, NID_id_pkix_OCSP_noCheck, null, 0,
			"ocsp-nocheck");
		ASN1_NULL_free(null);
		if (r != 0)
			goto out;
	}
	*out = x; /* transferred */
	x = NULL;
	r = 0;
out:
	X509_free(x);
	ASN1_INTEGER_free(fresh);
	return r;
}
