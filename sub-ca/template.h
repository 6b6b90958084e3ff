/*
 * template.h: certificate templates, as AD CS has them.
 *
 * A template is a YAML file that says everything a certificate issued on
 * it will carry, and which parts, if any, the enrollee may supply.  The
 * core (sub-ca/issue.c) asks template_apply() to turn an authenticated
 * request into a profile; whatever the template does not allow is refused
 * or dropped, never copied from the request:
 *   - CSR extensions are ignored unless `csr_extensions` allow-lists their
 *     OIDs (and never those the template makes itself, nor Microsoft's
 *     application policies: ESC15);
 *   - request attributes never become extensions (ESC6);
 *   - names come from the template (fixed), from the authenticated
 *     account, or from the request only where the template says so, and
 *     then only when they match its patterns (ESC1).
 *
 * The file format (every key checked, unknown keys refused with a
 * suggestion; docs/templates.md describes them for operators):
 *
 *   template: WebServer              # the name enrollees ask for
 *   version: 1                       # integer >= 1, raise on each change
 *   description: TLS server certificates for hosts under example.org
 *   validity: 90d                    # cfg duration, 1h .. 825d
 *   approval: false                  # true: a certificate manager approves
 *   enroll:                          # who may enroll (any of the lists)
 *     roles: [enrollee]              # admin, manager, auditor, enrollee
 *     groups: [web-admins]           # account groups
 *   keys: [rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384]
 *   key_usage: [digitalSignature, keyEncipherment]
 *   extended_key_usage: [serverAuth] # required, never anyExtendedKeyUsage
 *   policies: [2.23.140.1.2.1]       # optional certificate policies
 *   ocsp_nocheck: false              # true only with OCSPSigning
 *   subject:                         # in this order in the certificate
 *     C: DE                          # a scalar: fixed by the template
 *     O: Example Organisation
 *     CN: { from: request, patterns: ["*.example.org"], required: true }
 *     # or { from: account }: the authenticated account's name
 *   san:
 *     dns:   { from: request, suffixes: [example.org], max: 10,
 *              wildcards: false, include_cn: true }
 *     ip:    { from: request, networks: [192.0.2.0/24], max: 4 }
 *     email: { from: account }       # or from: request with domains: [...]
 *   csr_extensions: []               # dotted OIDs copied from the CSR
 *   attestation: required            # TPM key attestation: required,
 *                                    # preferred or none (the default)
 *   attestation_trust: [ek-certificate, ek-key]  # levels accepted, of
 *                                    # ek-certificate, ek-key,
 *                                    # user-credentials
 *
 * Load-time lint (template_load_*), each refusal with its reason:
 *   - extended_key_usage empty or containing anyExtendedKeyUsage (ESC2);
 *   - an authentication template (EKU clientAuth, smartcardLogon
 *     1.3.6.1.4.1.311.20.2.2, PKINIT client 1.3.6.1.5.2.3.4, and the
 *     certificate request agent 1.3.6.1.4.1.311.20.2.1 of ESC3) that
 *     takes any subject field or SAN `from: request` without
 *     `approval: true` (ESC1);
 *   - csr_extensions naming an extension the template makes (basic
 *     constraints, key usage, EKU, SAN, SKI/AKI, CDP, AIA, policies, name
 *     constraints, ocsp-nocheck, policy mappings/constraints, inhibit
 *     anyPolicy) or 1.3.6.1.4.1.311.21.10 (ESC15), and those that would
 *     claim more than the template says: Microsoft's SID extension
 *     1.3.6.1.4.1.311.25.2, its template extensions 1.3.6.1.4.1.311.20.2
 *     and .21.7, CT's SCT list and precertificate poison;
 *   - keyCertSign or cRLSign in key_usage (end entities only);
 *   - ocsp_nocheck without OCSPSigning; no subject field and no SAN source;
 *   - enroll with no role and no group (nobody could use it);
 *   - a `from: request` name rule without patterns/suffixes/networks/
 *     domains (an enrollee could ask for anything), or with a pattern of
 *     '*' alone, a suffix that is no domain name (trailing dot, '*'), a
 *     network with host bits set or of prefix /0;
 *   - and the plain checks: validity outside 1h..825d, template names
 *     other than 1..64 of [A-Za-z0-9_-], key_usage and keys required and
 *     non-empty, subject values profile_subject_add() would refuse,
 *     include_cn without a subject CN.  `max` defaults to 1;
 *   - attestation (required or preferred) without attestation_trust, or
 *     attestation_trust without attestation; attestation with approval:
 *     true (the evidence is checked when the request arrives, and a
 *     pending request does not keep it for the later approval).
 */
#ifndef CAIRN_TEMPLATE_H
#define CAIRN_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "lib/cfg.h"
#include "lib/profile.h"

/* Where a name comes from. */
enum tpl_from {
	TPL_NONE = 0,       /* never in the certificate */
	TPL_FIXED,          /* the template's value */
	TPL_REQUEST,        /* the CSR, checked against the rule's patterns */
	TPL_ACCOUNT,        /* the authenticated identity */
};

/* Accepted subject key types (bits of struct template.keys). */
#define TPL_KEY_RSA_2048 0x01
#define TPL_KEY_RSA_3072 0x02
#define TPL_KEY_RSA_4096 0x04
#define TPL_KEY_EC_P256 0x08
#define TPL_KEY_EC_P384 0x10

/* TPM key attestation (sub-ca/tpm.c, docs/tpm-attestation.md): what a
 * template asks for, and the trust levels in the TPM's endorsement key it
 * accepts (bits of struct template.attest_trust and of
 * issue_req.attested: one level, the one the front end verified). */
enum tpl_attest {
	TPL_ATTEST_NONE = 0,     /* plain CSRs; attested requests refused */
	TPL_ATTEST_PREFERRED,    /* both; an attested one records its level */
	TPL_ATTEST_REQUIRED,     /* attested requests only */
};
#define TPL_TRUST_EK_CERT 0x1    /* EK certificate chains to a TPM
                                  * manufacturer root the CA trusts */
#define TPL_TRUST_EK_KEY 0x2     /* EK public key on the CA's allow-list */
#define TPL_TRUST_USER 0x4       /* only the enrollee's credentials vouch
                                  * for the TPM: the weakest level */

struct tpl_subject_rule {
	char *type;          /* "CN", "O", ... as profile_subject_add() takes */
	enum tpl_from from;  /* TPL_FIXED, TPL_REQUEST or TPL_ACCOUNT */
	char *value;         /* TPL_FIXED */
	char **patterns;     /* TPL_REQUEST: fnmatch(3) patterns, flags 0 */
	int required;        /* TPL_REQUEST: refuse a request without it */
};

struct tpl_san_rule {
	enum tpl_from from;  /* TPL_NONE, TPL_REQUEST or TPL_ACCOUNT */
	/* TPL_REQUEST: dns: suffixes ("example.org" allows example.org and
	 * any name ending in ".example.org"); ip: networks ("10.0.0.0/8");
	 * email: domains (the part after '@', compared case-insensitively). */
	char **allowed;
	int max;             /* most names taken from the request (1..100) */
	int wildcards;       /* dns: "*.host" names allowed */
	int include_cn;      /* dns: the subject CN (when a host name that
	                      * passes the rule) is also a dNSName */
};

struct template {
	char *name;
	char *path;              /* the file it came from */
	char *description;
	char digest[65];         /* hex SHA-256 of the file's bytes: the
	                          * "template version" recorded with each
	                          * request, whatever `version` says */
	long long version;
	long long validity;      /* seconds */
	int approval;
	char **roles;            /* NULL-terminated, may be NULL */
	char **groups;
	unsigned keys;           /* TPL_KEY_* */
	unsigned key_usage;      /* PROFILE_KU_* */
	char **eku;              /* as profile.eku: names or dotted OIDs */
	char **policies;
	int ocsp_nocheck;
	struct tpl_subject_rule *subject;
	size_t n_subject;
	struct tpl_san_rule dns, ip, email;
	char **csr_extensions;   /* dotted OIDs */
	int auth;                /* computed: an authentication EKU is in eku */
	enum tpl_attest attestation;
	unsigned attest_trust;   /* TPL_TRUST_* accepted */
};

struct template_set {
	struct template **t;     /* sorted by name */
	size_t n;
};

/*
 * template_load_mem / template_load_file: parse and lint one template.
 * `name` is used in messages.  Every problem, parse or lint, goes into
 * `errs` as "file:line: ..." and the result is CAIRN_E_CONFIG with *out
 * NULL.  On success *out is a new template (template_free()).
 */
int template_load_mem(const char *name, const char *buf, size_t len,
    struct template **out, struct cfg_errors *errs);
int template_load_file(const char *path, struct template **out,
    struct cfg_errors *errs);
void template_free(struct template *t);

/*
 * template_load_dir: every "*.yaml" file in `dir` (no other files are
 * read; subdirectories are ignored).  Refuses, with the reason in `errs`:
 * any template that fails to load; two templates of the same name; a
 * file or the directory itself writable by group or others, owned by
 * neither root nor the effective user, or a symlink (ESC4/5: templates
 * are the CA's policy, owned by its service user); a non-regular file;
 * more than CAIRN_TEMPLATES_MAX files.  An empty directory is an error
 * too.  Files starting with '.' are skipped, as a shell's *.yaml would.
 */
int template_load_dir(const char *dir, struct template_set **out,
    struct cfg_errors *errs);
void template_set_free(struct template_set *s);

/* template_find: the template called `name` (borrowed), or NULL. */
const struct template *template_find(const struct template_set *s,
    const char *name);

/* Who is enrolling, as the front end authenticated them. */
struct tpl_identity {
	const char *account;     /* account name; NULL: none (refused) */
	const char *email;       /* account's e-mail address, or NULL */
	char *const *roles;      /* NULL-terminated or NULL */
	char *const *groups;
};

/*
 * template_may_enroll: 0 when `id` holds one of the template's roles or
 * groups, else CAIRN_E_DENIED ("account bob may not enroll on template
 * WebServer: it needs role enrollee or group web-admins").
 */
int template_may_enroll(const struct template *t,
    const struct tpl_identity *id);

/*
 * template_apply: fill `p` (a profile_new() profile, into which the caller
 * has already put what the CA adds: CRL and AIA URLs, digest) from the
 * template, the identity and the request `csr` (signature already
 * verified by the caller):
 *   - the subject key must be of a type in t->keys (CAIRN_E_POLICY naming
 *     the key and the accepted types);
 *   - subject: fields in the template's order; TPL_FIXED values,
 *     TPL_ACCOUNT the account name, TPL_REQUEST the CSR's first field of
 *     that type, which must match a pattern (else CAIRN_E_POLICY naming
 *     the value and the patterns); a required field missing from the CSR
 *     is CAIRN_E_POLICY; subject fields of the CSR the template does not
 *     take are dropped with a note;
 *   - SANs: from the CSR's subjectAltName extension for TPL_REQUEST rules
 *     (each name must pass the rule, else CAIRN_E_POLICY; more than `max`
 *     is CAIRN_E_POLICY; names of a kind the template does not take from
 *     the request, and other GeneralName kinds, are dropped with a note);
 *     TPL_ACCOUNT email is id->email (CAIRN_E_POLICY when the account has
 *     none);
 *   - key usage, EKU, policies, ocsp_nocheck from the template (EC keys
 *     never get keyEncipherment or dataEncipherment, RFC 8813); p->ca is
 *     cleared (end entities only);
 *   - not_before = now - 60 (clock skew of relying parties), not_after =
 *     now + validity (the caller clamps to the CA's own notAfter);
 *   - CSR extensions whose OID is in csr_extensions are copied into
 *     p->extra; every other CSR extension is dropped with a note;
 *     request attributes other than the extension request are dropped
 *     with a note (they never become extensions).
 * *notes receives a NULL-terminated array of human-readable strings, one
 * per dropped item ("subjectAltName: template ClientAuth takes no names
 * from requests; dropped DNS:evil.example.org"), or NULL when nothing was
 * dropped; free each and the array.  Returns 0 or CAIRN_E_POLICY /
 * CAIRN_E_CSR / CAIRN_E_NOMEM with the detail set.  CAIRN_E_CSR also
 * for two extension requests, an extension asked for twice, or more
 * than CAIRN_CSR_NAMES_MAX subject fields, SANs, extensions or
 * attributes; CAIRN_E_INVAL for a `p` that holds a subject, SANs, EKUs
 * or policies already.  On failure `p` is left as it came.
 */
int template_apply(const struct template *t, const struct tpl_identity *id,
    X509_REQ *csr, long long now, struct profile *p, char ***notes);

/*
 * template_attest: the core's attestation rule, after template_apply()
 * filled `p`.  `level` is the one TPL_TRUST_* bit the front end verified
 * for the request's key, or 0 for a request without attestation.
 * CAIRN_E_POLICY (saying what to do) for: no attestation on a template
 * that requires it; an attestation on a template with attestation: none;
 * a level the template does not accept.  Otherwise 0, and an attested
 * request's level is recorded as its issuance-policy OID in
 * p->policies (template_trust_oid).
 */
int template_attest(const struct template *t, unsigned level,
    struct profile *p);

/* template_trust_name: "ek-certificate", "ek-key", "user-credentials" for
 * one TPL_TRUST_* bit ("none" for 0).  template_trust_oid: the issuance
 * policy OID that records it in certificates (AD CS's meanings, reused:
 * docs/tpm-attestation.md), NULL for 0. */
const char *template_trust_name(unsigned level);
const char *template_trust_oid(unsigned level);

/* template_key_type: the TPL_KEY_* bit of `pkey`, 0 when none fits;
 * `desc` receives "RSA 2048", "EC P-256", "EC secp521r1", ... */
unsigned template_key_type(EVP_PKEY *pkey, char *desc, size_t desclen);

#endif /* CAIRN_TEMPLATE_H */
