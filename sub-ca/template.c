/*
 * template.c: certificate templates (see template.h).
 *
 * Loading reads an operator's YAML file through lib/cfg.c's checkers and
 * lints it, so that a template that could be abused (the AD CS
 * misconfigurations ESC1, ESC2, ESC4/5, ESC15) never loads at all: a CA
 * that refuses to start is better than one that issues an administrator's
 * certificate to whoever asks.  Applying reads an authenticated request
 * and builds a profile from the template; each part of the request is
 * either taken, because a rule of the template names it and it passes
 * that rule, or dropped with a note for the certificate manager.  Nothing
 * is copied by default.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/template.h"

/* Below an hour a certificate expires before relying parties' clocks
 * agree it began; 825 days is the most the CA/B Forum ever allowed. */
#define TPL_VALIDITY_MIN 3600LL
#define TPL_VALIDITY_MAX (825LL * 86400)
/* Template names appear in URLs, logs and messages. */
#define TPL_NAME_MAX 64
/* Bytes of a request's value quoted in a note or a message. */
#define TPL_SHOW_MAX 128

static const char *const top_keys[] = { "template", "version",
	"description", "validity", "approval", "enroll", "keys", "key_usage",
	"extended_key_usage", "policies", "ocsp_nocheck", "subject", "san",
	"csr_extensions", "attestation", "attestation_trust", NULL };
static const char *const froms[] = { "request", "account", NULL };
static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789-_";
static const char *const key_names[] = { "rsa-2048", "rsa-3072",
	"rsa-4096", "ec-p256", "ec-p384", NULL };
static const unsigned key_bits[] = { TPL_KEY_RSA_2048, TPL_KEY_RSA_3072,
	TPL_KEY_RSA_4096, TPL_KEY_EC_P256, TPL_KEY_EC_P384 };
static const char *const role_names[] = { "admin", "manager", "auditor",
	"enrollee", NULL };
static const char *const ku_names[] = { "digitalSignature",
	"nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", NULL };
static const unsigned ku_bits[] = { PROFILE_KU_DIGITAL_SIGNATURE,
	PROFILE_KU_NON_REPUDIATION, PROFILE_KU_KEY_ENCIPHERMENT,
	PROFILE_KU_DATA_ENCIPHERMENT, PROFILE_KU_KEY_AGREEMENT,
	PROFILE_KU_KEY_CERT_SIGN, PROFILE_KU_CRL_SIGN };
/* GeneralName kinds as notes name them, indexed by GEN_*. */
static const char *const gen_kinds[] = { "otherName", "e-mail", "DNS",
	"x400Address", "directory", "ediPartyName", "URI", "IP",
	"registeredID" };

/* The subject attributes profile_subject_add() takes. */
static const struct {
	const char *type;
	int nid;
} dn_types[] = {
	{ "C", NID_countryName }, { "ST", NID_stateOrProvinceName },
	{ "L", NID_localityName }, { "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName }, { "CN", NID_commonName },
	{ "DC", NID_domainComponent }, { "serialNumber", NID_serialNumber },
	{ "organizationIdentifier", NID_organizationIdentifier },
	{ "emailAddress", NID_pkcs9_emailAddress },
};
#define N_DN_TYPES (sizeof(dn_types) / sizeof(dn_types[0]))

#define OID_ANY_EKU "2.5.29.37.0"
#define OID_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"
#define OID_SAN "2.5.29.17"
#define OID_UPN "1.3.6.1.4.1.311.20.2.3"

/*
 * EKUs that log their holder in somewhere: whoever picks the name in such
 * a certificate picks whom it logs in as (ESC1).  The request agent is
 * one too: on an AD CS that trusts this CA it enrolls for others (ESC3).
 */
static const struct {
	const char *oid, *name;
} auth_ekus[] = {
	{ "1.3.6.1.5.5.7.3.2", "clientAuth" },
	{ "1.3.6.1.4.1.311.20.2.2", "smartcardLogon" },
	{ "1.3.6.1.5.2.3.4", "PKINIT client" },
	{ "1.3.6.1.4.1.311.20.2.1", "certificate request agent" },
};

/*
 * Extensions that come from the template or the CA, never from a
 * request.  `why` is set for those no profile makes but which would
 * grant more than the template says if a request could supply them.
 */
static const struct {
	const char *oid, *name, *why;
} owned_exts[] = {
	{ "2.5.29.19", "basicConstraints", NULL },
	{ "2.5.29.15", "keyUsage", NULL },
	{ "2.5.29.37", "extendedKeyUsage", NULL },
	{ OID_SAN, "subjectAltName", NULL },
	{ "2.5.29.14", "subjectKeyIdentifier", NULL },
	{ "2.5.29.35", "authorityKeyIdentifier", NULL },
	{ "2.5.29.31", "cRLDistributionPoints", NULL },
	{ "1.3.6.1.5.5.7.1.1", "authorityInfoAccess", NULL },
	{ "2.5.29.32", "certificatePolicies", NULL },
	{ "2.5.29.30", "nameConstraints", NULL },
	{ "1.3.6.1.5.5.7.48.1.5", "ocsp-nocheck", NULL },
	{ "2.5.29.33", "policyMappings", NULL },
	{ "2.5.29.36", "policyConstraints", NULL },
	{ "2.5.29.54", "inhibitAnyPolicy", NULL },
	{ "1.3.6.1.4.1.311.21.10", "Microsoft application policies",
	    "it acts as an EKU on Windows (ESC15)" },
	{ "1.3.6.1.4.1.311.25.2", "Microsoft SID extension",
	    "it maps the certificate to an Active Directory account" },
	{ "1.3.6.1.4.1.311.20.2", "Microsoft template name",
	    "it names the template the certificate was issued on" },
	{ "1.3.6.1.4.1.311.21.7", "Microsoft template",
	    "it names the template the certificate was issued on" },
	{ "1.3.6.1.4.1.11129.2.4.2", "CT timestamps",
	    "only the CA obtains timestamps from logs" },
	{ "1.3.6.1.4.1.11129.2.4.3", "CT poison",
	    "it makes the certificate a precertificate" },
};
#define N_OWNED (sizeof(owned_exts) / sizeof(owned_exts[0]))

/* TPM key attestation: the names in templates, and the issuance-policy
 * OIDs that record each trust level (AD CS's: docs/tpm-attestation.md). */
static const char *const attest_names[] = { "none", "preferred",
	"required", NULL };
static const struct {
	unsigned bit;
	const char *name, *oid;
} trust_levels[] = {
	{ TPL_TRUST_EK_CERT, "ek-certificate", "1.3.6.1.4.1.311.21.30" },
	{ TPL_TRUST_EK_KEY, "ek-key", "1.3.6.1.4.1.311.21.31" },
	{ TPL_TRUST_USER, "user-credentials", "1.3.6.1.4.1.311.21.32" },
};
#define N_TRUST (sizeof(trust_levels) / sizeof(trust_levels[0]))

/* ---- helpers -------------------------------------------------------- */

static void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Index of s in the NULL-terminated v, or -1. */
static int
strv_find(const char *const *v, const char *s, int nocase)
{
	int i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if ((nocase ? strcasecmp(v[i], s) : strcmp(v[i], s)) == 0)
			return i;
	return -1;
}

#define HAS(v, s, nocase) (strv_find((const char *const *)(v), s, nocase) >= 0)

static void
strv_push(struct cfg_check *chk, const struct cfg_node *at, char ***v,
    const char *s)
{
	if (profile_strv_add(v, s) != 0)
		cfg_fail(chk, at, "out of memory");
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int
dn_nid(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < N_DN_TYPES; i++)
		if (strcmp(dn_types[i].type, type) == 0)
			return dn_types[i].nid;
	return NID_undef;
}

/*
 * show: `len` bytes from a request for a note or a message, bytes other
 * than printable ASCII as \xNN, cut at TPL_SHOW_MAX: a hostile value
 * must not forge what an operator reads.
 */
#define SHOW_SIZE (TPL_SHOW_MAX * 4 + 8)
static const char *
show(const void *data, size_t len, char out[SHOW_SIZE])
{
	const unsigned char *p = data;
	size_t i, o = 0;

	for (i = 0; i < len && o < TPL_SHOW_MAX; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
	snprintf(out + o, 4, "%s", i < len ? "..." : "");
	return out;
}

static int
has_controls(const unsigned char *s, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* Why `s` is not a dotted OID, or NULL. */
static const char *
oid_problem(const char *s)
{
	size_t arcs = 0, digits;

	for (;;) {
		if ((digits = strspn(s, "0123456789")) == 0)
			return "only digits and dots, no empty arc";
		if (s[0] == '0' && digits > 1)
			return "no leading zeros";
		if (digits > 18 || (arcs == 0 && (digits > 1 || s[0] > '2')))
			return "an arc out of range";
		arcs++;
		s += digits;
		if (*s == '\0')
			return arcs < 2 ? "at least two arcs" : NULL;
		if (*s++ != '.')
			return "only digits and dots, no empty arc";
	}
}

/* The dotted form of an EKU written as a name or an OID, or NULL. */
static const char *
eku_oid(const char *s, char *buf, size_t size)
{
	int nid;

	if (s[0] >= '0' && s[0] <= '9')
		return oid_problem(s) == NULL && cairn_strlcpy(buf, s, size) <
		    size ? buf : NULL;
	if ((nid = OBJ_txt2nid(s)) == NID_undef ||
	    OBJ_obj2txt(buf, (int)size, OBJ_nid2obj(nid), 1) <= 0) {
		ERR_clear_error();
		return NULL;
	}
	return buf;
}

static const char *
auth_eku(const char *dotted)
{
	size_t i;

	for (i = 0; i < sizeof(auth_ekus) / sizeof(auth_ekus[0]); i++)
		if (strcmp(auth_ekus[i].oid, dotted) == 0)
			return auth_ekus[i].name;
	return NULL;
}

static size_t
owned_ext(const char *dotted)
{
	size_t i;

	for (i = 0; i < N_OWNED; i++)
		if (strcmp(owned_exts[i].oid, dotted) == 0)
			break;
	return i;
}

/* ---- names ---------------------------------------------------------- */

/*
 * host_ok: s is a host name as certificates carry them: labels of 1 to
 * 63 letters, digits and inner hyphens, 253 bytes in all, no trailing
 * dot (an empty label, which RFC 5280 4.2.1.6 does not allow), no
 * underscore (BR 7.1.4.2.1).
 */
static int
host_ok(const char *s)
{
	size_t len = strlen(s), lab = 0, i;
	char c;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if ((c = s[i]) == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return 0;
			lab = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && lab > 0)) {
			lab++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* "example.org" holds example.org and every name ending in
 * ".example.org", never "evil-example.org": the match starts at a label
 * boundary.  DNS names are compared without regard to case. */
static int
suffix_match(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n >= k && strcasecmp(name + n - k, suffix) == 0 &&
	    (n == k || name[n - k - 1] == '.');
}

/* Why the DNS name `s` does not pass `rule`, or NULL. */
static const char *
dns_problem(const struct tpl_san_rule *rule, const char *s)
{
	size_t i;

	if (strncmp(s, "*.", 2) == 0) {
		if (!rule->wildcards)
			return "wildcards are not allowed";
		s += 2;
	}
	if (!host_ok(s))
		return "it is not a host name";
	for (i = 0; rule->allowed != NULL && rule->allowed[i] != NULL; i++)
		if (suffix_match(s, rule->allowed[i]))
			return NULL;
	return "it is not under an allowed suffix";
}

/*
 * net_parse: "192.0.2.0/24" or "2001:db8::/32" into address (4 or 16
 * bytes, *alen) and prefix.  Host bits set (a typo that shifts or widens
 * the network) and /0 (every address) are refused.
 */
static int
net_parse(const char *s, unsigned char a[16], int *alen, int *bits)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n;
	int i, b;

	if (slash == NULL || (n = (size_t)(slash - s)) >= sizeof(addr) ||
	    strlen(slash + 1) - 1 > 2 || strspn(slash + 1, "0123456789") !=
	    strlen(slash + 1) || (slash[1] == '0' && slash[2] != '\0'))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, a) == 1)
		*alen = 4;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		*alen = 16;
	else
		return -1;
	if ((*bits = atoi(slash + 1)) < 1 || *bits > *alen * 8)
		return -1;
	for (i = 0; i < *alen; i++)
		if ((b = *bits - i * 8) < 8 &&
		    (a[i] & (b <= 0 ? 0xff : 0xff >> b)) != 0)
			return -1;
	return 0;
}

/* Address `a` (4 or 16 bytes) is in one of `nets`; IPv4 is never in an
 * IPv6 network, mapped or not. */
static int
net_match(const unsigned char *a, int alen, char *const *nets)
{
	unsigned char n[16];
	int nlen, bits, i, b;
	size_t k;

	for (k = 0; nets != NULL && nets[k] != NULL; k++) {
		if (net_parse(nets[k], n, &nlen, &bits) != 0 || nlen != alen)
			continue;
		for (i = 0; i < alen && (b = bits - i * 8) > 0; i++)
			if (((a[i] ^ n[i]) & (b >= 8 ? 0xff : 0xff << (8 - b)) &
			    0xff) != 0)
				break;
		if (i == alen || bits - i * 8 <= 0)
			return 1;
	}
	return 0;
}

/* Why the e-mail address `s` does not pass `rule` (NULL: any domain), or
 * NULL.  Local parts are printable ASCII without '@'; the domain is
 * compared whole, without regard to case. */
static const char *
email_problem(const struct tpl_san_rule *rule, const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || at - s > 64 || strchr(at + 1, '@'))
		return "it is not an e-mail address";
	for (p = s; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return "it is not an e-mail address";
	if (!host_ok(at + 1))
		return "its domain is not a host name";
	if (rule != NULL && !HAS(rule->allowed, at + 1, 1))
		return "its domain is not an allowed one";
	return NULL;
}

/* ---- loading -------------------------------------------------------- */

/* The list of strings at `key` (absent: NULL), refusing empty ones. */
static const struct cfg_node *
strlist(struct cfg_check *chk, const struct cfg_node *map, const char *key,
    int required, size_t *n)
{
	const struct cfg_node *seq;
	size_t i;

	if ((seq = cfg_want_strlist(chk, map, key, required, n)) == NULL)
		return NULL;
	for (i = 0; i < *n; i++)
		if (cfg_scalar(cfg_item(seq, i))[0] == '\0')
			cfg_fail(chk, cfg_item(seq, i), "%s: an empty string",
			    key);
	return seq;
}

static void
load_enroll(struct cfg_check *chk, const struct cfg_node *root,
    struct template *t)
{
	static const char *const ek[] = { "roles", "groups", NULL };
	const struct cfg_node *m, *seq;
	size_t n = 0, i, n0 = chk->errs->n;
	const char *s;

	if ((m = cfg_want_map(chk, root, "enroll", 1)) == NULL)
		return;
	cfg_keys(chk, m, ek);
	for (seq = strlist(chk, m, "roles", 0, &n), i = 0; seq && i < n; i++)
		if (strv_find(role_names, s = cfg_scalar(cfg_item(seq, i)),
		    0) < 0)
			cfg_fail(chk, cfg_item(seq, i), "enroll.roles: \"%s\" "
			    "is not one of admin, manager, auditor, enrollee",
			    s);
		else
			strv_push(chk, seq, &t->roles, s);
	for (seq = strlist(chk, m, "groups", 0, &n), i = 0; seq && i < n; i++)
		strv_push(chk, seq, &t->groups, cfg_scalar(cfg_item(seq, i)));
	/* Only when nothing else is wrong: a misspelt role says more. */
	if (t->roles == NULL && t->groups == NULL && chk->errs->n == n0)
		cfg_fail(chk, m, "enroll: no role and no group: nobody could "
		    "use this template");
}

static void
load_keys(struct cfg_check *chk, const struct cfg_node *root,
    struct template *t)
{
	const struct cfg_node *seq;
	size_t n = 0, i;
	const char *s;
	int k;

	if ((seq = strlist(chk, root, "keys", 1, &n)) != NULL && n == 0)
		cfg_fail(chk, seq, "keys: empty: list the key types enrollees "
		    "may use");
	for (i = 0; seq != NULL && i < n; i++)
		if ((k = strv_find(key_names, s = cfg_scalar(cfg_item(seq,
		    i)), 0)) < 0)
			cfg_fail(chk, cfg_item(seq, i), "keys: \"%s\" is not "
			    "one of rsa-2048, rsa-3072, rsa-4096, ec-p256, "
			    "ec-p384", s);
		else
			t->keys |= key_bits[k];
	if ((seq = strlist(chk, root, "key_usage", 1, &n)) != NULL && n == 0)
		cfg_fail(chk, seq, "key_usage: empty: list the key usages "
		    "certificates carry");
	for (i = 0; seq != NULL && i < n; i++)
		if ((k = strv_find(ku_names, s = cfg_scalar(cfg_item(seq, i)),
		    0)) < 0)
			cfg_fail(chk, cfg_item(seq, i), "key_usage: \"%s\" is "
			    "not one of digitalSignature, nonRepudiation, "
			    "keyEncipherment, dataEncipherment, keyAgreement",
			    s);
		else if (ku_bits[k] & (PROFILE_KU_KEY_CERT_SIGN |
		    PROFILE_KU_CRL_SIGN))
			cfg_fail(chk, cfg_item(seq, i), "key_usage: %s is for "
			    "CA certificates; templates issue end-entity "
			    "certificates only", s);
		else
			t->key_usage |= ku_bits[k];
}

static void
load_eku(struct cfg_check *chk, const struct cfg_node *root,
    struct template *t)
{
	const struct cfg_node *seq;
	char buf[128], prev[128];
	const char *s, *dotted;
	size_t n = 0, i, j;

	if ((seq = strlist(chk, root, "extended_key_usage", 1, &n)) != NULL &&
	    n == 0)
		cfg_fail(chk, seq, "extended_key_usage: empty: a certificate "
		    "without one is valid for any purpose (ESC2); name what "
		    "certificates are for");
	for (i = 0; seq != NULL && i < n; i++) {
		s = cfg_scalar(cfg_item(seq, i));
		for (j = 0; j < i; j++)
			if (eku_oid(cfg_scalar(cfg_item(seq, j)), prev,
			    sizeof(prev)) != NULL && eku_oid(s, buf,
			    sizeof(buf)) != NULL && strcmp(prev, buf) == 0)
				break;
		if ((dotted = eku_oid(s, buf, sizeof(buf))) == NULL)
			cfg_fail(chk, cfg_item(seq, i), "extended_key_usage: "
			    "\"%s\" is not a known name (serverAuth, "
			    "clientAuth, OCSPSigning, ...) nor a dotted OID",
			    s);
		else if (strcmp(dotted, OID_ANY_EKU) == 0)
			cfg_fail(chk, cfg_item(seq, i), "extended_key_usage: "
			    "anyExtendedKeyUsage is never issued: it is valid "
			    "for any purpose (ESC2)");
		else if (j < i)
			cfg_fail(chk, cfg_item(seq, i), "extended_key_usage: "
			    "\"%s\" is listed twice", s);
		else
			strv_push(chk, seq, &t->eku, s);
		if (dotted != NULL && auth_eku(dotted) != NULL)
			t->auth = 1;
	}
}

/* A list of dotted OIDs at `key` into *v. */
static void
load_oids(struct cfg_check *chk, const struct cfg_node *root,
    const char *key, char ***v)
{
	const struct cfg_node *seq;
	const char *s, *why;
	size_t n = 0, i;

	for (seq = strlist(chk, root, key, 0, &n), i = 0; seq && i < n; i++)
		if ((why = oid_problem(s = cfg_scalar(cfg_item(seq, i)))) !=
		    NULL)
			cfg_fail(chk, cfg_item(seq, i), "%s: \"%s\" is not a "
			    "dotted OID such as 1.3.6.1.4.1.99999.1 (%s)", key,
			    s, why);
		else if (HAS(*v, s, 0))
			cfg_fail(chk, cfg_item(seq, i), "%s: \"%s\" is listed "
			    "twice", key, s);
		else
			strv_push(chk, seq, v, s);
}

static void
load_subject_rule(struct cfg_check *chk, const struct cfg_node *v,
    struct tpl_subject_rule *sr)
{
	static const char *const rk[] = { "from", "patterns", "required",
		NULL };
	const struct cfg_node *seq;
	size_t n = 0, i;
	const char *s;
	int f;

	cfg_keys(chk, v, rk);
	if ((f = cfg_want_enum(chk, v, "from", 1, froms, -1)) == 1) {
		sr->from = TPL_ACCOUNT;
		if (cfg_get(v, "patterns") != NULL ||
		    cfg_get(v, "required") != NULL)
			cfg_fail(chk, v, "subject.%s: patterns and required "
			    "only go with from: request", sr->type);
	}
	if (f != 0)
		return;
	sr->from = TPL_REQUEST;
	sr->required = cfg_want_bool(chk, v, "required", 0, 0);
	seq = strlist(chk, v, "patterns", 0, &n);
	if (cfg_get(v, "patterns") == NULL || (seq != NULL && n == 0))
		cfg_fail(chk, v, "subject.%s: from: request needs patterns "
		    "(else an enrollee could ask for any name)", sr->type);
	for (i = 0; seq != NULL && i < n; i++) {
		s = cfg_scalar(cfg_item(seq, i));
		if (s[0] != '\0' && s[strspn(s, "*")] == '\0')
			cfg_fail(chk, cfg_item(seq, i), "subject.%s.patterns: "
			    "\"%s\" matches any name; write the names an "
			    "enrollee may ask for, such as \"*.example.org\"",
			    sr->type, s);
		else
			strv_push(chk, seq, &sr->patterns, s);
	}
}

static void
load_subject(struct cfg_check *chk, const struct cfg_node *root,
    struct template *t)
{
	const struct cfg_node *subj, *v;
	struct tpl_subject_rule *sr;
	struct profile *scratch = NULL;
	const char *type, *s;
	size_t i, n;

	if ((subj = cfg_want_map(chk, root, "subject", 0)) == NULL)
		return;
	n = cfg_len(subj);
	if ((t->subject = calloc(n + 1, sizeof(*t->subject))) == NULL ||
	    (scratch = profile_new()) == NULL)
		cfg_fail(chk, subj, "out of memory");
	for (i = 0; scratch != NULL && i < n; i++) {
		type = cfg_key(subj, i);
		v = cfg_value(subj, i);
		if (dn_nid(type) == NID_undef) {
			cfg_fail(chk, cfg_key_node(subj, i), "subject: \"%s\" "
			    "is not one of C, ST, L, O, OU, CN, DC, "
			    "serialNumber, organizationIdentifier, "
			    "emailAddress", type);
			continue;
		}
		sr = &t->subject[t->n_subject];
		if ((sr->type = strdup(type)) == NULL) {
			cfg_fail(chk, v, "out of memory");
			continue;
		}
		t->n_subject++;
		if (cfg_type(v) == CFG_MAP)
			load_subject_rule(chk, v, sr);
		else if ((sr->from = TPL_FIXED, s = cfg_want_str(chk, subj,
		    type, 1, NULL)) == NULL)
			continue;
		else if ((sr->value = strdup(s)) == NULL)
			cfg_fail(chk, v, "out of memory");
		else if (profile_subject_add(scratch, type, s) != 0)
			cfg_fail(chk, v, "%s", cairn_errmsg(CAIRN_E_INVAL));
	}
	profile_free(scratch);
}

/* One of san.dns, san.ip, san.email. */
static void
load_san_rule(struct cfg_check *chk, const struct cfg_node *san,
    const char *kind, struct tpl_san_rule *sr)
{
	static const char *const keys[3][6] = {
		{ "from", "suffixes", "max", "wildcards", "include_cn", NULL },
		{ "from", "networks", "max", NULL },
		{ "from", "domains", "max", NULL } };
	const int k = kind[0] == 'd' ? 0 : kind[0] == 'i' ? 1 : 2;
	const char *list = keys[k][1], *s;
	const struct cfg_node *m, *seq;
	unsigned char a[16];
	char buf[256];
	size_t n = 0, i;
	int alen, bits, f;

	if ((m = cfg_want_map(chk, san, kind, 0)) == NULL)
		return;
	cfg_keys(chk, m, keys[k]);
	if ((f = cfg_want_enum(chk, m, "from", 1, froms, -1)) == 1) {
		if (k != 2)
			cfg_fail(chk, m, "san.%s: from: account is only for "
			    "email (an account has a name and an e-mail "
			    "address, not a host name or an address)", kind);
		else if (cfg_len(m) > 1)
			cfg_fail(chk, m, "san.email: from: account takes the "
			    "account's own address; domains and max only go "
			    "with from: request");
		sr->from = TPL_ACCOUNT;
	}
	if (f != 0)
		return;
	sr->from = TPL_REQUEST;
	seq = strlist(chk, m, list, 0, &n);
	if (cfg_get(m, list) == NULL || (seq != NULL && n == 0))
		cfg_fail(chk, m, "san.%s: from: request needs %s (else an "
		    "enrollee could ask for any name)", kind, list);
	for (i = 0; seq != NULL && i < n; i++) {
		s = cfg_scalar(cfg_item(seq, i));
		if (k == 1 && net_parse(s, a, &alen, &bits) != 0) {
			cfg_fail(chk, cfg_item(seq, i), "san.ip.networks: "
			    "\"%s\" is not a network such as 192.0.2.0/24 or "
			    "2001:db8::/32 (no host bits set, not /0)", s);
		} else if (k != 1 && !host_ok(s)) {
			cfg_fail(chk, cfg_item(seq, i), "san.%s.%s: \"%s\" is "
			    "not a domain name such as example.org (no "
			    "wildcard, no trailing dot)", kind, list, s);
		} else {
			cairn_strlcpy(buf, s, sizeof(buf));
			if (k != 1)
				lower(buf);
			strv_push(chk, seq, &sr->allowed, buf);
		}
	}
	sr->max = (int)cfg_want_int(chk, m, "max", 0, 1, CAIRN_CSR_NAMES_MAX,
	    1);
	sr->wildcards = cfg_want_bool(chk, m, "wildcards", 0, 0);
	sr->include_cn = cfg_want_bool(chk, m, "include_cn", 0, 0);
}

/* attestation and attestation_trust (template.h). */
static void
load_attestation(struct cfg_check *chk, const struct cfg_node *root,
    struct template *t)
{
	const struct cfg_node *seq;
	const char *s;
	size_t n = 0, i, k;
	int a;

	/* -1 (reported already) reads as none. */
	a = cfg_want_enum(chk, root, "attestation", 0, attest_names,
	    TPL_ATTEST_NONE);
	t->attestation = a > 0 ? (enum tpl_attest)a : TPL_ATTEST_NONE;
	for (seq = strlist(chk, root, "attestation_trust", 0, &n), i = 0;
	    seq != NULL && i < n; i++) {
		s = cfg_scalar(cfg_item(seq, i));
		for (k = 0; k < N_TRUST; k++)
			if (strcmp(trust_levels[k].name, s) == 0)
				break;
		if (k == N_TRUST)
			cfg_fail(chk, cfg_item(seq, i), "attestation_trust: "
			    "\"%s\" is not one of ek-certificate, ek-key, "
			    "user-credentials", s);
		else
			t->attest_trust |= trust_levels[k].bit;
	}
	if (t->attestation == TPL_ATTEST_NONE && seq != NULL)
		cfg_fail(chk, seq, "attestation_trust without attestation: "
		    "set attestation: required or preferred, or remove it");
	else if (t->attestation != TPL_ATTEST_NONE && t->attest_trust == 0 &&
	    (seq == NULL || n == 0))
		cfg_fail(chk, cfg_get(root, "attestation"), "attestation: %s "
		    "needs attestation_trust: the levels accepted, of "
		    "ek-certificate, ek-key, user-credentials",
		    attest_names[t->attestation]);
	if (t->attestation != TPL_ATTEST_NONE && t->approval)
		cfg_fail(chk, cfg_get(root, "attestation"), "attestation with "
		    "approval: true is not supported: the TPM's evidence is "
		    "checked when the request arrives and is not kept for a "
		    "later approval");
}

/* The lints that look at the template as a whole (template.h). */
static void
lint(struct cfg_check *chk, const struct cfg_node *root, struct template *t)
{
	static const char *const kinds[3] = { "dns", "ip", "email" };
	const struct cfg_node *subj = cfg_get(root, "subject");
	const struct cfg_node *san = cfg_get(root, "san");
	const struct tpl_san_rule *rules[3] = { &t->dns, &t->ip, &t->email };
	const char *auth = NULL, *dotted;
	char buf[128];
	size_t i, k;
	int has_cn = 0, ocsp = 0;

	for (i = 0; t->eku != NULL && t->eku[i] != NULL; i++)
		if ((dotted = eku_oid(t->eku[i], buf, sizeof(buf))) != NULL) {
			auth = auth != NULL ? auth : auth_eku(dotted);
			ocsp |= strcmp(dotted, OID_OCSP_SIGNING) == 0;
		}
	if (t->ocsp_nocheck && !ocsp)
		cfg_fail(chk, cfg_get(root, "ocsp_nocheck"), "ocsp_nocheck: "
		    "true only goes with extended_key_usage OCSPSigning");
	for (i = 0; i < t->n_subject; i++) {
		has_cn |= strcmp(t->subject[i].type, "CN") == 0;
		if (auth != NULL && !t->approval &&
		    t->subject[i].from == TPL_REQUEST)
			cfg_fail(chk, cfg_get(subj, t->subject[i].type),
			    "subject.%s: from: request in an authentication "
			    "template (%s) needs approval: true, or take the "
			    "name from: account (ESC1)", t->subject[i].type,
			    auth);
	}
	for (i = 0; i < 3; i++)
		if (auth != NULL && !t->approval &&
		    rules[i]->from == TPL_REQUEST)
			cfg_fail(chk, cfg_get(san, kinds[i]), "san.%s: from: "
			    "request in an authentication template (%s) needs "
			    "approval: true, or take the name from: account "
			    "(ESC1)", kinds[i], auth);
	if (t->dns.include_cn && !has_cn)
		cfg_fail(chk, cfg_get(san, "dns"), "san.dns: include_cn, but "
		    "the template has no subject CN");
	/* Not when subject or san is malformed: that is said already. */
	if (t->n_subject == 0 && t->dns.from == TPL_NONE &&
	    t->ip.from == TPL_NONE && t->email.from == TPL_NONE &&
	    (subj == NULL || cfg_type(subj) == CFG_MAP) &&
	    (san == NULL || cfg_type(san) == CFG_MAP))
		cfg_fail(chk, root, "the template names nobody: give at least "
		    "one subject field or a san rule");
	for (i = 0; t->csr_extensions != NULL && t->csr_extensions[i] != NULL;
	    i++)
		if ((k = owned_ext(t->csr_extensions[i])) == N_OWNED)
			continue;
		else if (owned_exts[k].why != NULL)
			cfg_fail(chk, cfg_get(root, "csr_extensions"),
			    "csr_extensions: %s (%s) is never copied from a "
			    "request: %s", owned_exts[k].oid,
			    owned_exts[k].name, owned_exts[k].why);
		else
			cfg_fail(chk, cfg_get(root, "csr_extensions"),
			    "csr_extensions: %s (%s) is made by the template "
			    "or the CA, never copied from a request",
			    owned_exts[k].oid, owned_exts[k].name);
}

int
template_load_mem(const char *name, const char *buf, size_t len,
    struct template **out, struct cfg_errors *errs)
{
	static const char *const sk[] = { "dns", "ip", "email", NULL };
	struct cfg_errors own = { 0 };
	struct cfg_doc *doc = NULL;
	struct template *t = NULL;
	struct cfg_check chk;
	const struct cfg_node *root, *san;
	unsigned char md[32];
	const char *s;
	size_t n0;
	int r;

	*out = NULL;
	if (errs == NULL)
		errs = &own;
	n0 = errs->n;
	if ((r = cfg_load_mem(name, buf, len, &doc, errs)) != 0)
		goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->path = strdup(name)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	cairn_hex(t->digest, md, sizeof(md), 0);
	chk.doc = doc;
	chk.errs = errs;
	if (cfg_type(root = cfg_root(doc)) != CFG_MAP) {
		cfg_fail(&chk, root, "a template is a mapping (key: value "
		    "lines)");
		r = CAIRN_E_CONFIG;
		goto out;
	}
	cfg_keys(&chk, root, top_keys);
	if ((s = cfg_want_str(&chk, root, "template", 1, NULL)) != NULL &&
	    (s[0] == '\0' || strlen(s) > TPL_NAME_MAX ||
	    s[strspn(s, name_chars)] != '\0'))
		cfg_fail(&chk, cfg_get(root, "template"), "template: \"%s\" is "
		    "not a template name (1 to 64 letters, digits, '-' and "
		    "'_')", s);
	else if (s != NULL && (t->name = strdup(s)) == NULL)
		cfg_fail(&chk, root, "out of memory");
	if ((s = cfg_want_str(&chk, root, "description", 0, NULL)) != NULL &&
	    (t->description = strdup(s)) == NULL)
		cfg_fail(&chk, root, "out of memory");
	t->version = cfg_want_int(&chk, root, "version", 1, 1, LLONG_MAX, 0);
	t->validity = cfg_want_duration(&chk, root, "validity", 1, -1);
	if (t->validity > 0 && (t->validity < TPL_VALIDITY_MIN ||
	    t->validity > TPL_VALIDITY_MAX))
		cfg_fail(&chk, cfg_get(root, "validity"), "validity: %s is "
		    "outside 1h to 825d",
		    cfg_scalar(cfg_get(root, "validity")));
	t->approval = cfg_want_bool(&chk, root, "approval", 0, 0);
	t->ocsp_nocheck = cfg_want_bool(&chk, root, "ocsp_nocheck", 0, 0);
	load_enroll(&chk, root, t);
	load_keys(&chk, root, t);
	load_eku(&chk, root, t);
	load_oids(&chk, root, "policies", &t->policies);
	load_subject(&chk, root, t);
	if ((san = cfg_want_map(&chk, root, "san", 0)) != NULL) {
		cfg_keys(&chk, san, sk);
		load_san_rule(&chk, san, "dns", &t->dns);
		load_san_rule(&chk, san, "ip", &t->ip);
		load_san_rule(&chk, san, "email", &t->email);
	}
	load_oids(&chk, root, "csr_extensions", &t->csr_extensions);
	load_attestation(&chk, root, t);
	lint(&chk, root, t);
	r = errs->n > n0 ? CAIRN_E_CONFIG : 0;
out:
	cfg_doc_free(doc);
	if (r == 0) {
		*out = t; /* transferred */
		return 0;
	}
	template_free(t);
	if (errs->n == n0)
		cfg_errors_add(errs, name, 0, "%s", cairn_errmsg(r));
	cfg_errors_free(&own);
	return CAIRN_E_CONFIG;
}

int
template_load_file(const char *path, struct template **out,
    struct cfg_errors *errs)
{
	const char *msg;
	size_t len = 0;
	char *buf;
	int r;

	*out = NULL;
	/* O_NOFOLLOW, a regular file, at most CFG_FILE_MAX bytes. */
	if ((r = cairn_read_file(path, CFG_FILE_MAX, &buf, &len)) != 0) {
		/* The detail reads "path: reason"; errs adds its own path. */
		msg = cairn_errmsg(r);
		if (strncmp(msg, path, strlen(path)) == 0 &&
		    strncmp(msg + strlen(path), ": ", 2) == 0)
			msg += strlen(path) + 2;
		cfg_errors_add(errs, path, 0, "%s", msg);
		return CAIRN_E_CONFIG;
	}
	r = template_load_mem(path, buf, len, out, errs);
	free(buf);
	return r;
}

void
template_free(struct template *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->name);
	free(t->path);
	free(t->description);
	strv_free(t->roles);
	strv_free(t->groups);
	strv_free(t->eku);
	strv_free(t->policies);
	for (i = 0; i < t->n_subject; i++) {
		free(t->subject[i].type);
		free(t->subject[i].value);
		strv_free(t->subject[i].patterns);
	}
	free(t->subject);
	strv_free(t->dns.allowed);
	strv_free(t->ip.allowed);
	strv_free(t->email.allowed);
	strv_free(t->csr_extensions);
	free(t);
}

/*
 * own_file: 0 when `path` is the CA's own (ESC4 for templates, ESC5 for
 * their directory): not a symbolic link, not writable by group or
 * others, owned by root or the CA's user (another owner could make it
 * writable at any time).  Else the reason goes into errs.  *st receives
 * lstat(2)'s answer.
 */
static int
own_file(const char *path, struct stat *st, struct cfg_errors *errs)
{
	char why[256];

	why[0] = '\0';
	if (lstat(path, st) == -1)
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if (S_ISLNK(st->st_mode))
		snprintf(why, sizeof(why), "a symbolic link: templates and "
		    "their directory must be the CA's own files (ESC4)");
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		snprintf(why, sizeof(why), "writable by %s (mode %04o): "
		    "whoever can write it decides what the CA issues (ESC4); "
		    "chmod go-w it", (st->st_mode & S_IWOTH) ? "others" :
		    "its group", (unsigned)(st->st_mode & 07777));
	else if (st->st_uid != 0 && st->st_uid != geteuid())
		snprintf(why, sizeof(why), "owned by uid %u, neither root nor "
		    "the CA (uid %u): its owner could make it writable "
		    "(ESC4); chown it", (unsigned)st->st_uid,
		    (unsigned)geteuid());
	if (why[0] == '\0')
		return 0;
	cfg_errors_add(errs, path, 0, "%s", why);
	return -1;
}

/* Dot files are skipped as a shell's "*.yaml" skips them: editors keep
 * locks and backups there (Emacs's ".#x.yaml" is a dangling link). */
static int
is_yaml(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && de->d_type != DT_DIR && len > 5 &&
	    strcmp(de->d_name + len - 5, ".yaml") == 0;
}

static int
cmp_tpl(const void *a, const void *b)
{
	const struct template *x = *(struct template *const *)a;
	const struct template *y = *(struct template *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->path, y->path);
}

int
template_load_dir(const char *dir, struct template_set **out,
    struct cfg_errors *errs)
{
	struct cfg_errors own = { 0 };
	struct template_set *s = NULL;
	struct dirent **ents = NULL;
	struct template *t;
	struct stat st;
	char *path = NULL;
	size_t n0, i;
	int n = 0, k, r = CAIRN_E_CONFIG;

	*out = NULL;
	errs = errs != NULL ? errs : &own;
	n0 = errs->n;
	if (own_file(dir, &st, errs) != 0)
		goto out;
	/* alphasort: messages come in one order whatever readdir() says. */
	if ((n = scandir(dir, &ents, is_yaml, alphasort)) < 0) {
		cfg_errors_add(errs, dir, 0, "%s", strerror(errno));
		goto out;
	}
	if (n > CAIRN_TEMPLATES_MAX) {
		cfg_errors_add(errs, dir, 0, "%d templates (*.yaml files), "
		    "more than the %d allowed", n, CAIRN_TEMPLATES_MAX);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->t = calloc((size_t)n + 1, sizeof(*s->t))) == NULL) {
		cfg_errors_add(errs, dir, 0, "out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		free(path);
		if (asprintf(&path, "%s/%s", dir, ents[k]->d_name) < 0) {
			path = NULL;
			cfg_errors_add(errs, dir, 0, "out of memory");
			goto out;
		}
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		if (own_file(path, &st, errs) != 0)
			continue;
		if (!S_ISREG(st.st_mode))
			cfg_errors_add(errs, path, 0, "not a regular file");
		else if (template_load_file(path, &t, errs) == 0)
			s->t[s->n++] = t;
	}
	if (s->n == 0 && errs->n == n0)
		cfg_errors_add(errs, dir, 0, "no templates (*.yaml files): "
		    "the CA would issue nothing");
	qsort(s->t, s->n, sizeof(*s->t), cmp_tpl);
	for (i = 1; i < s->n; i++)
		if (strcmp(s->t[i]->name, s->t[i - 1]->name) == 0)
			cfg_errors_add(errs, s->t[i]->path, 0, "template %s is "
			    "also defined in %s; template names must be "
			    "unique", s->t[i]->name, s->t[i - 1]->path);
	if (errs->n == n0)
		r = 0;
out:
	for (k = 0; k < n; k++)
		free(ents[k]);
	free(ents);
	free(path);
	cfg_errors_free(&own);
	if (r == 0) {
		*out = s; /* transferred */
		return 0;
	}
	template_set_free(s);
	return CAIRN_E_CONFIG;
}

void
template_set_free(struct template_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		template_free(s->t[i]);
	free(s->t);
	free(s);
}

const struct template *
template_find(const struct template_set *s, const char *name)
{
	size_t lo = 0, hi = s != NULL ? s->n : 0, mid;
	int c;

	while (name != NULL && lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, s->t[mid]->name)) == 0)
			return s->t[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- enrolling ------------------------------------------------------ */

int
template_may_enroll(const struct template *t, const struct tpl_identity *id)
{
	char *const *lists[2] = { t->roles, t->groups };
	static const char *const what[2] = { "role ", "group " };
	char need[512] = "", sh[SHOW_SIZE];
	size_t i, k, used;

	if (id == NULL || id->account == NULL)
		return cairn_error(CAIRN_E_DENIED, "template %s: enrolling "
		    "needs an authenticated account", t->name);
	for (i = 0; id->roles != NULL && id->roles[i] != NULL; i++)
		if (HAS(t->roles, id->roles[i], 0))
			return 0;
	for (i = 0; id->groups != NULL && id->groups[i] != NULL; i++)
		if (HAS(t->groups, id->groups[i], 0))
			return 0;
	for (k = 0; k < 2; k++)
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			used = strlen(need);
			snprintf(need + used, sizeof(need) - used, "%s%s%s",
			    used > 0 ? " or " : "", i == 0 ? what[k] : "",
			    lists[k][i]);
		}
	return cairn_error(CAIRN_E_DENIED, "account %s may not enroll on "
	    "template %s: it needs %s", show(id->account,
	    strlen(id->account), sh), t->name, need);
}

unsigned
template_key_type(EVP_PKEY *pkey, char *desc, size_t desclen)
{
	char group[80];
	int bits, id;

	snprintf(desc, desclen, "no key");
	if (pkey == NULL)
		return 0;
	bits = EVP_PKEY_get_bits(pkey);
	if ((id = EVP_PKEY_get_base_id(pkey)) == EVP_PKEY_RSA) {
		snprintf(desc, desclen, "RSA %d", bits);
		return bits == 2048 ? TPL_KEY_RSA_2048 : bits == 3072 ?
		    TPL_KEY_RSA_3072 : bits == 4096 ? TPL_KEY_RSA_4096 : 0;
	}
	if (id != EVP_PKEY_EC) {
		snprintf(desc, desclen, "%s", EVP_PKEY_get0_type_name(pkey) !=
		    NULL ? EVP_PKEY_get0_type_name(pkey) : "unknown");
		return 0;
	}
	if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1) {
		ERR_clear_error();
		snprintf(desc, desclen, "EC (explicit parameters)");
		return 0;
	}
	snprintf(desc, desclen, "EC %s", strcmp(group, "prime256v1") == 0 ?
	    "P-256" : strcmp(group, "secp384r1") == 0 ? "P-384" : group);
	return strcmp(group, "prime256v1") == 0 ? TPL_KEY_EC_P256 :
	    strcmp(group, "secp384r1") == 0 ? TPL_KEY_EC_P384 : 0;
}

/* ---- applying ------------------------------------------------------- */

struct apply {
	const struct template *t;
	const struct tpl_identity *id;
	struct profile *p;
	char **notes;
	int nomem;
};

static void note(struct apply *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct apply *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || profile_strv_add(&a->notes, s) != 0)
		a->nomem = 1;
	if (n >= 0)
		free(s);
}

/* A request's string as UTF-8 (OPENSSL_free), or NULL for one that
 * cannot be converted or holds a NUL ("a.example.org\0.evil.com"). */
static unsigned char *
utf8_of(const ASN1_STRING *as, int *len)
{
	unsigned char *s = NULL;

	if ((*len = ASN1_STRING_to_UTF8(&s, as)) < 0) {
		ERR_clear_error();
		return NULL;
	}
	if (memchr(s, '\0', (size_t)*len) != NULL) {
		OPENSSL_free(s);
		return NULL;
	}
	return s;
}

/*
 * The request's extensions (*exts, NULL when none), noting every other
 * attribute.  Two extension requests, or one of several values, are
 * refused: which one counts would depend on who reads (OpenSSL reads the
 * first).  Attribute values are not shown: a challengePassword is a
 * secret, and AD CS's name-value pairs ("SAN:upn=...", ESC6) are
 * dropped whatever they say.
 */
static int
apply_attributes(struct apply *a, X509_REQ *csr,
    STACK_OF(X509_EXTENSION) **exts)
{
	X509_ATTRIBUTE *attr;
	ASN1_OBJECT *obj;
	char oid[128], nm[128];
	int i, j, nid, nreq = 0;

	if (X509_REQ_get_attr_count(csr) > CAIRN_CSR_NAMES_MAX)
		return cairn_error(CAIRN_E_CSR, "the request carries %d "
		    "attributes, more than the %d allowed",
		    X509_REQ_get_attr_count(csr), CAIRN_CSR_NAMES_MAX);
	for (i = 0; i < X509_REQ_get_attr_count(csr); i++) {
		attr = X509_REQ_get_attr(csr, i);
		obj = X509_ATTRIBUTE_get0_object(attr);
		nid = OBJ_obj2nid(obj);
		if (nid == NID_ext_req || nid == NID_ms_ext_req) {
			if (++nreq > 1 || X509_ATTRIBUTE_count(attr) != 1)
				return cairn_error(CAIRN_E_CSR, "the request "
				    "carries more than one extension request");
			continue;
		}
		OBJ_obj2txt(oid, sizeof(oid), obj, 1);
		OBJ_obj2txt(nm, sizeof(nm), obj, 0);
		if (strcmp(oid, "1.3.6.1.4.1.311.13.2.1") == 0)
			snprintf(nm, sizeof(nm), "enrollment name-value pair");
		note(a, "request attribute %s%s%s%s: attributes never become "
		    "certificate content (ESC6); dropped", oid,
		    strcmp(nm, oid) ? " (" : "", strcmp(nm, oid) ? nm : "",
		    strcmp(nm, oid) ? ")" : "");
	}
	if (nreq == 1 && (*exts = X509_REQ_get_extensions(csr)) == NULL)
		return cairn_error_crypto(CAIRN_E_CSR, "the request's "
		    "extensions cannot be decoded");
	if (sk_X509_EXTENSION_num(*exts) > CAIRN_CSR_NAMES_MAX)
		return cairn_error(CAIRN_E_CSR, "the request carries %d "
		    "extensions, more than the %d allowed",
		    sk_X509_EXTENSION_num(*exts), CAIRN_CSR_NAMES_MAX);
	for (i = 0; i < sk_X509_EXTENSION_num(*exts); i++) {
		obj = X509_EXTENSION_get_object(
		    sk_X509_EXTENSION_value(*exts, i));
		for (j = 0; j < i; j++)
			if (OBJ_cmp(obj, X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(*exts, j))) == 0) {
				OBJ_obj2txt(oid, sizeof(oid), obj, 1);
				return cairn_error(CAIRN_E_CSR, "the request "
				    "asks for extension %s twice", oid);
			}
	}
	return 0;
}

/* 1 when `v` matches one of `patterns`; else *pats lists them. */
static int
pattern_match(char *const *patterns, const char *v, char *pats, size_t size)
{
	size_t k;

	pats[0] = '\0';
	for (k = 0; patterns != NULL && patterns[k] != NULL; k++) {
		if (fnmatch(patterns[k], v, 0) == 0)
			return 1;
		snprintf(pats + strlen(pats), size - strlen(pats), "%s\"%s\"",
		    k ? ", " : "", patterns[k]);
	}
	return 0;
}

static int
apply_subject(struct apply *a, X509_REQ *csr)
{
	const struct template *t = a->t;
	const X509_NAME *name = X509_REQ_get_subject_name(csr);
	const struct tpl_subject_rule *sr;
	X509_NAME_ENTRY *e;
	unsigned char used[CAIRN_CSR_NAMES_MAX], *v;
	char sh[SHOW_SIZE], pats[512], typ[80];
	const char *why;
	size_t i;
	int idx, len;

	memset(used, 0, sizeof(used));
	for (i = 0; i < t->n_subject; i++) {
		sr = &t->subject[i];
		if (sr->from != TPL_REQUEST) {
			if (profile_subject_add(a->p, sr->type, sr->from ==
			    TPL_FIXED ? sr->value : a->id->account) != 0)
				return cairn_error_prefix(CAIRN_E_POLICY,
				    "template %s: ", t->name);
			continue;
		}
		if ((idx = X509_NAME_get_index_by_NID(name, dn_nid(sr->type),
		    -1)) < 0) {
			if (sr->required)
				return cairn_error(CAIRN_E_POLICY, "template "
				    "%s needs subject %s in the request, "
				    "which has none", t->name, sr->type);
			continue;
		}
		used[idx] = 1;
		e = X509_NAME_get_entry(name, idx);
		if ((v = utf8_of(X509_NAME_ENTRY_get_data(e), &len)) == NULL ||
		    has_controls(v, len)) {
			OPENSSL_free(v);
			return cairn_error(CAIRN_E_POLICY, "subject %s of the "
			    "request is not printable text", sr->type);
		}
		if (!pattern_match(sr->patterns, (char *)v, pats,
		    sizeof(pats))) {
			cairn_error(CAIRN_E_POLICY, "subject %s \"%s\" is not "
			    "allowed by template %s, which takes %s matching "
			    "%s", sr->type, show(v, (size_t)len, sh), t->name,
			    sr->type, pats);
			OPENSSL_free(v);
			return CAIRN_E_POLICY;
		}
		idx = profile_subject_add(a->p, sr->type, (char *)v);
		OPENSSL_free(v);
		if (idx != 0)
			return cairn_error_prefix(CAIRN_E_POLICY, "subject %s "
			    "of the request: ", sr->type);
	}
	for (idx = 0; idx < X509_NAME_entry_count(name); idx++) {
		if (used[idx])
			continue;
		e = X509_NAME_get_entry(name, idx);
		/* OpenSSL's short names are the template's ("CN", "DC",
		 * "serialNumber"); unknown types show as dotted OIDs. */
		OBJ_obj2txt(typ, sizeof(typ), X509_NAME_ENTRY_get_object(e), 1);
		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_undef)
			cairn_strlcpy(typ, OBJ_nid2sn(OBJ_obj2nid(
			    X509_NAME_ENTRY_get_object(e))), sizeof(typ));
		v = utf8_of(X509_NAME_ENTRY_get_data(e), &len);
		show(v != NULL ? (void *)v : "?", v != NULL ? (size_t)len : 1,
		    sh);
		OPENSSL_free(v);
		for (i = 0; i < t->n_subject; i++)
			if (strcmp(t->subject[i].type, typ) == 0)
				break;
		why = i == t->n_subject ? "does not take" :
		    t->subject[i].from == TPL_FIXED ? "fixes" :
		    t->subject[i].from == TPL_ACCOUNT ? "takes" :
		    "takes only the first";
		note(a, "subject: template %s %s %s%s; dropped %s=%s from the "
		    "request", t->name, why, typ, i < t->n_subject &&
		    t->subject[i].from == TPL_ACCOUNT ? " from the account" :
		    "", typ, sh);
	}
	return 0;
}

/* A GeneralName as "DNS:x" into out, for notes. */
static void
show_gen(const GENERAL_NAME *g, char out[SHOW_SIZE])
{
	char buf[TPL_SHOW_MAX * 2];
	BIO *b = BIO_new(BIO_s_mem());
	ASN1_OBJECT *oid;
	ASN1_TYPE *v;
	int n = 0;

	/* GENERAL_NAME_print names each kind as `openssl x509 -text`
	 * does, except for otherNames it does not know, whose type is
	 * worth showing; all of it is the request's, so shown escaped. */
	if (GENERAL_NAME_get0_otherName(g, &oid, &v) == 1 &&
	    OBJ_obj2nid(oid) == NID_undef) {
		memcpy(buf, "othername:", 10);
		OBJ_obj2txt(buf + 10, (int)sizeof(buf) - 10, oid, 1);
		n = (int)strlen(buf);
		if (v != NULL && v->type == V_ASN1_UTF8STRING &&
		    v->value.utf8string->length < (int)sizeof(buf) - n - 1) {
			buf[n++] = ':';
			memcpy(buf + n, v->value.utf8string->data,
			    (size_t)v->value.utf8string->length);
			n += v->value.utf8string->length;
		}
	} else if (b != NULL && GENERAL_NAME_print(b, (GENERAL_NAME *)g) ==
	    1) {
		n = BIO_read(b, buf, sizeof(buf));
	}
	BIO_free(b);
	ERR_clear_error();
	show(buf, n > 0 ? (size_t)n : 0, out);
}

/* Take the name `g` of a kind the template takes from requests. */
static int
take_name(struct apply *a, const GENERAL_NAME *g, int type)
{
	const struct template *t = a->t;
	const ASN1_STRING *s = type == GEN_IPADD ? g->d.iPAddress :
	    type == GEN_DNS ? g->d.dNSName : g->d.rfc822Name;
	char text[256], sh[SHOW_SIZE];
	const char *why;
	char ***list = type == GEN_IPADD ? &a->p->san_ip : type == GEN_DNS ?
	    &a->p->san_dns : &a->p->san_email;

	if (type == GEN_IPADD && s->length != 4 && s->length != 16)
		return cairn_error(CAIRN_E_POLICY, "subjectAltName: an IP "
		    "address of %d bytes is not an address", s->length);
	if (type == GEN_IPADD) {
		inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, text,
		    sizeof(text));
		why = net_match(s->data, s->length, t->ip.allowed) ? NULL :
		    "it is not in an allowed network";
	} else {
		if (s->length <= 0 || s->length > 255 || memchr(s->data,
		    '\0', (size_t)s->length) != NULL ||
		    has_controls(s->data, s->length))
			return cairn_error(CAIRN_E_POLICY, "subjectAltName: "
			    "%s name \"%s\" is not text of 1 to 255 bytes",
			    gen_kinds[type], show(s->data, (size_t)s->length,
			    sh));
		memcpy(text, s->data, (size_t)s->length);
		text[s->length] = '\0';
		why = type == GEN_DNS ? dns_problem(&t->dns, text) :
		    email_problem(&t->email, text);
		if (type == GEN_DNS)
			lower(text);
	}
	if (why != NULL)
		return cairn_error(CAIRN_E_POLICY, "subjectAltName: %s name "
		    "\"%s\" is refused by template %s: %s", gen_kinds[type],
		    show(text, strlen(text), sh), t->name, why);
	if (!HAS(*list, text, type == GEN_DNS) &&
	    profile_strv_add(list, text) != 0)
		return CAIRN_E_NOMEM;
	return 0;
}

static int
apply_san(struct apply *a, STACK_OF(X509_EXTENSION) *exts, const char *cn)
{
	const struct template *t = a->t;
	const struct tpl_san_rule *rules[3] = { &t->dns, &t->ip, &t->email };
	char ***lists[3] = { &a->p->san_dns, &a->p->san_ip, &a->p->san_email };
	static const int types[3] = { GEN_DNS, GEN_IPADD, GEN_EMAIL };
	GENERAL_NAMES *gens = NULL;
	X509_EXTENSION *ext;
	const GENERAL_NAME *g;
	char shown[SHOW_SIZE], sh[SHOW_SIZE];
	int i, r = 0, type, k, any;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		ext = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) ==
		    NID_subject_alt_name &&
		    (gens = X509V3_EXT_d2i(ext)) == NULL)
			return cairn_error_crypto(CAIRN_E_CSR, "the request's "
			    "subjectAltName cannot be decoded");
	}
	if (sk_GENERAL_NAME_num(gens) > CAIRN_CSR_NAMES_MAX) {
		r = cairn_error(CAIRN_E_CSR, "the request asks for %d "
		    "subject alternative names, more than the %d allowed",
		    sk_GENERAL_NAME_num(gens), CAIRN_CSR_NAMES_MAX);
		goto out;
	}
	any = t->dns.from == TPL_REQUEST || t->ip.from == TPL_REQUEST ||
	    t->email.from == TPL_REQUEST;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && r == 0; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		GENERAL_NAME_get0_value(g, &type);
		k = type == GEN_DNS ? 0 : type == GEN_IPADD ? 1 :
		    type == GEN_EMAIL ? 2 : -1;
		if (k >= 0 && rules[k]->from == TPL_REQUEST) {
			r = take_name(a, g, type);
			continue;
		}
		show_gen(g, shown);
		if (k >= 0 && rules[k]->from == TPL_ACCOUNT)
			note(a, "subjectAltName: template %s takes the %s "
			    "names from the account; dropped %s", t->name,
			    gen_kinds[type], shown);
		else if (!any)
			note(a, "subjectAltName: template %s takes no names "
			    "from requests; dropped %s", t->name, shown);
		else
			note(a, "subjectAltName: template %s takes no %s "
			    "names from requests; dropped %s", t->name,
			    type >= 0 && type <= GEN_RID ? gen_kinds[type] :
			    "such", shown);
	}
	if (r != 0)
		goto out;
	/* The CN joins the DNS names only when it passes their rule: a CN
	 * that the dns rule would refuse must not slip in this way. */
	if (t->dns.from == TPL_REQUEST && t->dns.include_cn && cn != NULL &&
	    dns_problem(&t->dns, cn) == NULL && !HAS(a->p->san_dns, cn, 1) &&
	    profile_strv_add(&a->p->san_dns, cn) != 0) {
		r = CAIRN_E_NOMEM;
		goto out;
	}
	for (k = 0; k < 3 && r == 0; k++)
		if (rules[k]->from == TPL_REQUEST && profile_strv_len(
		    *lists[k]) > (size_t)rules[k]->max)
			r = cairn_error(CAIRN_E_POLICY, "subjectAltName: %zu "
			    "%s names, more than the %d template %s allows",
			    profile_strv_len(*lists[k]), gen_kinds[types[k]],
			    rules[k]->max, t->name);
	if (r != 0)
		goto out;
	if (t->email.from != TPL_ACCOUNT)
		goto out;
	if (a->id->email == NULL || email_problem(NULL, a->id->email) != NULL)
		r = cairn_error(CAIRN_E_POLICY, "template %s puts the "
		    "account's e-mail address in certificates, and account %s "
		    "has %s", t->name, show(a->id->account,
		    strlen(a->id->account), sh), a->id->email == NULL ? "none" :
		    "no valid one");
	else if (profile_strv_add(&a->p->san_email, a->id->email) != 0)
		r = CAIRN_E_NOMEM;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

static int
apply_extensions(struct apply *a, STACK_OF(X509_EXTENSION) *exts)
{
	X509_EXTENSION *ext, *dup;
	char oid[128], nm[128];
	size_t k;
	int i;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		ext = sk_X509_EXTENSION_value(exts, i);
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext),
		    1);
		OBJ_obj2txt(nm, sizeof(nm), X509_EXTENSION_get_object(ext), 0);
		if (strcmp(oid, OID_SAN) == 0)
			continue; /* apply_san() read it */
		if ((k = owned_ext(oid)) < N_OWNED)
			note(a, "extension %s (%s): never copied from a "
			    "request%s%s; dropped", oid, owned_exts[k].name,
			    owned_exts[k].why ? ": " : "",
			    owned_exts[k].why ? owned_exts[k].why : "");
		else if (!HAS(a->t->csr_extensions, oid, 0))
			note(a, "extension %s%s%s%s: template %s does not copy "
			    "it from requests; dropped", oid,
			    strcmp(nm, oid) ? " (" : "",
			    strcmp(nm, oid) ? nm : "",
			    strcmp(nm, oid) ? ")" : "", a->t->name);
		else if ((a->p->extra == NULL && (a->p->extra =
		    sk_X509_EXTENSION_new_null()) == NULL) ||
		    (dup = X509_EXTENSION_dup(ext)) == NULL)
			return CAIRN_E_NOMEM;
		else if (sk_X509_EXTENSION_push(a->p->extra, dup) == 0) {
			X509_EXTENSION_free(dup);
			return CAIRN_E_NOMEM;
		}
	}
	return 0;
}

int
template_apply(const struct template *t, const struct tpl_identity *id,
    X509_REQ *csr, long long now, struct profile *p, char ***notes)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	struct apply a = { t, id, p, NULL, 0 };
	char desc[96], accepted[128] = "", *cn = NULL;
	const X509_NAME *name = X509_REQ_get_subject_name(csr);
	EVP_PKEY *pub;
	unsigned kt;
	size_t i;
	int r, idx, len, nextra = sk_X509_EXTENSION_num(p->extra);

	*notes = NULL;
	if (id == NULL || id->account == NULL)
		return cairn_error(CAIRN_E_POLICY, "template %s issues only "
		    "to authenticated accounts", t->name);
	/* Filled here alone, so that a refusal can leave p as it came. */
	if (p->subject != NULL || p->eku != NULL || p->policies != NULL ||
	    p->san_dns != NULL || p->san_ip != NULL || p->san_email != NULL ||
	    p->san_uri != NULL)
		return cairn_error(CAIRN_E_INVAL, "template_apply: the "
		    "profile holds names or usages already");
	if ((pub = X509_REQ_get0_pubkey(csr)) == NULL)
		return cairn_error_crypto(CAIRN_E_CSR, "the request's public "
		    "key cannot be read");
	if (((kt = template_key_type(pub, desc, sizeof(desc))) & t->keys) ==
	    0) {
		for (i = 0; key_names[i] != NULL; i++)
			if (t->keys & key_bits[i])
				snprintf(accepted + strlen(accepted),
				    sizeof(accepted) - strlen(accepted),
				    "%s%s", accepted[0] ? ", " : "",
				    key_names[i]);
		return cairn_error(CAIRN_E_POLICY, "template %s does not "
		    "accept %s keys; it accepts %s", t->name, desc, accepted);
	}
	/* Bounded before anything is read, so that a request cannot make
	 * a thousand notes. */
	if (X509_NAME_entry_count(name) > CAIRN_CSR_NAMES_MAX)
		return cairn_error(CAIRN_E_CSR, "the request's subject has %d "
		    "fields, more than the %d allowed",
		    X509_NAME_entry_count(name), CAIRN_CSR_NAMES_MAX);
	if ((r = apply_attributes(&a, csr, &exts)) != 0 ||
	    (r = apply_subject(&a, csr)) != 0)
		goto out;
	/* include_cn reads the CN the certificate will carry, which passed
	 * its own rule, not whatever the request says. */
	if ((idx = X509_NAME_get_index_by_NID(p->subject, NID_commonName,
	    -1)) >= 0 && (cn = (char *)utf8_of(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(p->subject, idx)), &len)) != NULL)
		lower(cn);
	if ((r = apply_san(&a, exts, cn)) != 0 ||
	    (r = apply_extensions(&a, exts)) != 0)
		goto out;
	if (X509_NAME_entry_count(p->subject) == 0 && p->san_dns == NULL &&
	    p->san_ip == NULL && p->san_email == NULL) {
		r = cairn_error(CAIRN_E_POLICY, "template %s: the request "
		    "gives no name the template takes; the certificate would "
		    "name nobody", t->name);
		goto out;
	}
	for (i = 0; t->eku != NULL && t->eku[i] != NULL; i++)
		a.nomem |= profile_strv_add(&p->eku, t->eku[i]) != 0;
	for (i = 0; t->policies != NULL && t->policies[i] != NULL; i++)
		a.nomem |= profile_strv_add(&p->policies, t->policies[i]) != 0;
	r = a.nomem ? CAIRN_E_NOMEM : 0;
out:
	OPENSSL_free(cn);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (r == 0) {
		p->key_usage = t->key_usage;
		/* RFC 8813 3: EC keys do not encipher; the template lists
		 * these usages for its RSA keys. */
		if (kt & (TPL_KEY_EC_P256 | TPL_KEY_EC_P384))
			p->key_usage &= ~(unsigned)(PROFILE_KU_KEY_ENCIPHERMENT
			    | PROFILE_KU_DATA_ENCIPHERMENT);
		p->ocsp_nocheck = t->ocsp_nocheck;
		p->ca = 0; /* templates issue end entities, whatever came */
		p->path_len = -1;
		p->not_before = now - 60;
		p->not_after = now + t->validity;
		*notes = a.notes; /* transferred */
		return 0;
	}
	if (r == CAIRN_E_NOMEM)
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	X509_NAME_free(p->subject);
	strv_free(p->eku);
	strv_free(p->policies);
	strv_free(p->san_dns);
	strv_free(p->san_ip);
	strv_free(p->san_email);
	p->subject = NULL;
	p->eku = p->policies = p->san_dns = p->san_ip = p->san_email = NULL;
	while (sk_X509_EXTENSION_num(p->extra) > nextra)
		X509_EXTENSION_free(sk_X509_EXTENSION_pop(p->extra));
	strv_free(a.notes);
	return r;
}

const char *
template_trust_name(unsigned level)
{
	size_t k;

	for (k = 0; k < N_TRUST; k++)
		if (trust_levels[k].bit == level)
			return trust_levels[k].name;
	return "none";
}

const char *
template_trust_oid(unsigned level)
{
	size_t k;

	for (k = 0; k < N_TRUST; k++)
		if (trust_levels[k].bit == level)
			return trust_levels[k].oid;
	return NULL;
}

int
template_attest(const struct template *t, unsigned level,
    struct profile *p)
{
	char accepted[128] = "";
	size_t k;

	if (level == 0) {
		if (t->attestation != TPL_ATTEST_REQUIRED)
			return 0;
		return cairn_error(CAIRN_E_POLICY, "template %s requires TPM "
		    "key attestation (attestation: required): a plain CSR "
		    "cannot show that its key is in a TPM; enroll with "
		    "\"cairn-enroll tpm\"", t->name);
	}
	if (t->attestation == TPL_ATTEST_NONE)
		return cairn_error(CAIRN_E_POLICY, "template %s takes no TPM "
		    "key attestation (attestation: none); submit a plain CSR, "
		    "or use a template with attestation", t->name);
	if (template_trust_oid(level) == NULL)
		return cairn_error(CAIRN_E_INVAL, "template_attest: level "
		    "0x%x is not one trust level", level);
	if ((t->attest_trust & level) == 0) {
		for (k = 0; k < N_TRUST; k++)
			if (t->attest_trust & trust_levels[k].bit)
				snprintf(accepted + strlen(accepted),
				    sizeof(accepted) - strlen(accepted),
				    "%s%s", accepted[0] ? ", " : "",
				    trust_levels[k].name);
		return cairn_error(CAIRN_E_POLICY, "template %s does not "
		    "accept TPM trust level %s; it accepts %s", t->name,
		    template_trust_name(level), accepted);
	}
	if (!HAS(p->policies, template_trust_oid(level), 0) &&
	    profile_strv_add(&p->policies, template_trust_oid(level)) != 0)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	return 0;
}
