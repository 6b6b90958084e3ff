/*
 * ca.h: the online CA as its core sees it, and the one issuance path.
 *
 * Front ends (REST, web pages, later SCEP, EST, MS-WSTEP, TPM attestation)
 * only parse and authenticate: they turn what arrived into a struct
 * issue_req and call issue_submit().  The core, and only the core, does
 * (../shared/DESIGN.md, "The spine"):
 *   1. policy: the template decides (sub-ca/template.c); the requester
 *      must be allowed to enroll; approval templates leave the request
 *      pending for a certificate manager;
 *   2. build the TBSCertificate with a fresh 128-bit serial;
 *   3. lint it, and commit the *intent* (serial, TBS bytes, template
 *      digest, requester) with its audit record before the HSM is asked;
 *   4. sign through pkcs11/ (trial signature first, TBS unchanged after,
 *      signature verified: lib/lint.c);
 *   5. record the certificate and 6. audit, in one committed transaction,
 *      before anyone sees it.
 * Revocation, un-hold and CRLs live here too (sub-ca/revoke.c), and so do
 * the role rules (AD CS role separation): an actor's roles decide what it
 * may do, and nobody approves their own request (ESC7).
 *
 * The data directory (`--data DIR`, default $CAIRN_DATA):
 *   cairn-sub.yaml    configuration (written by init; docs/cairn-sub.md)
 *   tokens/, softhsm2.conf   the embedded SoftHSM2 token (default HSM)
 *   user.pin, so.pin  the token's PINs when init made the token (0600)
 *   ca.db             the store (sub-ca/store.h)
 *   templates/        certificate templates (*.yaml)
 *   root.pem          the pinned root certificate (import --root)
 *   ca.pem            this CA's certificate (import)
 *   publish/          what relying parties fetch: ca.crl, ca.der,
 *                     chain.pem, chain.p7b, root.crl
 *   tls/              the HTTPS server key and certificate (0600)
 */
#ifndef CAIRN_CA_H
#define CAIRN_CA_H

#include <pthread.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "sub-ca/ocsp.h"
#include "sub-ca/store.h"
#include "sub-ca/template.h"

struct cairn_p11_key;

#define CA_CONFIG "cairn-sub.yaml"

/* What the configuration file says. */
struct ca_config {
	char *key_uri;           /* pkcs11: URI of the CA key */
	char *module;            /* PKCS#11 module path, NULL: default */
	char *pin_file;          /* absolute */
	char *store;             /* absolute */
	char *templates;         /* absolute */
	char *https_addr;        /* "127.0.0.1" */
	unsigned short https_port;
	char *http_addr;
	unsigned short http_port;
	unsigned threads;
	char **tls_names;        /* DNS names / IPs of the HTTPS certificate */
	char *crl_url;           /* in every certificate's CDP */
	char *ca_issuers_url;    /* in every certificate's AIA */
	long long crl_validity;  /* seconds: nextUpdate - thisUpdate */
	long long crl_period;    /* seconds between scheduled CRLs */
	int separation;          /* role separation on */
	/* TPM key attestation (sub-ca/tpm.c): trusted TPM manufacturer
	 * (EK) roots and intermediates, the EK public-key allow-list (NULL:
	 * none), how long an exchange may take between its two rounds. */
	char *tpm_ek_roots;      /* directory, absolute */
	char *tpm_ek_allow;      /* file, absolute */
	long long tpm_session_lifetime;  /* seconds */
	char *ocsp_url;          /* urls.ocsp: AIA id-ad-ocsp in every
	                          * certificate (the responder, sub-ca/ocsp.c) */
	struct ocsp_config ocsp; /* the ocsp: map (sub-ca/ocsp.h) */
};

struct ca {
	char *dir;
	struct ca_config cfg;
	struct store *store;
	struct template_set *templates;
	struct cairn_p11_key *key;  /* NULL when opened without the key */
	EVP_PKEY *signer;           /* token-backed */
	EVP_PKEY *pub;              /* the CA's public key (software) */
	X509 *cert;                 /* this CA; NULL before import */
	X509 *root;                 /* pinned root; NULL before import */
	const EVP_MD *md;
	pthread_mutex_t crl_mu;     /* one CRL at a time */
	int issuing;                /* issuances between build and record
				     * (__atomic): background work yields */
	struct ocsp *ocsp;          /* the responder, when this process
	                             * serves OCSP (ocsp_open) */
};

/* ca_open flags */
#define CA_KEY 0x1          /* open the token and the key (PIN) */
#define CA_CERT 0x2         /* require the imported certificate */
#define CA_TEMPLATES 0x4    /* load (and lint) the templates */

/*
 * ca_open: read DIR/cairn-sub.yaml (every problem reported as
 * "file:line: ..."), open the store, and what `flags` ask.  Errors carry
 * what to do next ("run cairn-sub import first").
 */
int ca_open(const char *dir, unsigned flags, struct ca **out);
void ca_close(struct ca *ca);

/* ca_path_dup: DIR/name, or name when absolute; new string or NULL. */
char *ca_path_dup(const char *dir, const char *name);

/* ca_listen_parse: "127.0.0.1:8443" or "[::1]:8443" into *addr (new
 * string) and *port; -1 when it is neither. */
int ca_listen_parse(const char *s, char **addr, unsigned short *port);

/* ca_path: DIR/name into `out` (PATH_MAX). */
char *ca_path(const struct ca *ca, char *out, const char *name);

/* ca_write_bio: write what the memory BIO `b` holds to `path` atomically
 * (fileio_write_atomic with `mode` and `flags`); CAIRN_E_CRYPTO when the
 * BIO is empty (the encoding before it failed). */
int ca_write_bio(const char *path, BIO *b, unsigned mode, int flags);

/* ---- who acts ------------------------------------------------------- */

enum ca_role {
	ROLE_ADMIN = 0x1,      /* CA administrator: accounts, CRLs, config */
	ROLE_MANAGER = 0x2,    /* certificate manager: approve, deny, revoke */
	ROLE_AUDITOR = 0x4,    /* reads and verifies the audit log */
	ROLE_ENROLLEE = 0x8,   /* requests certificates */
};

struct actor {
	char name[129];        /* account name, or "local:USER" */
	int local;             /* the operator at the machine's command line:
	                        * holds the store and the PIN, so may do
	                        * everything; still audited by name */
	unsigned roles;        /* ROLE_* */
	char *email;           /* owned */
	char **role_names;     /* owned, NULL-terminated, for templates */
	char **groups;         /* owned */
};

/* actor_local: the command-line operator ("local:" + $USER). */
void actor_local(struct actor *a);
/* actor_load: the account `name` with its roles and groups; CAIRN_E_AUTH
 * when it does not exist or is disabled. */
int actor_load(struct ca *ca, const char *name, struct actor *a);
void actor_clear(struct actor *a);
/* ca_role_parse / ca_role_name: "admin" <-> ROLE_ADMIN ... */
int ca_role_parse(const char *s, enum ca_role *out);
const char *ca_role_name(enum ca_role r);

/* ---- issuance ------------------------------------------------------- */

struct issue_req {
	X509_REQ *csr;          /* parsed and verified (lib/csr.h) */
	const char *template_name;
	const struct actor *who;
	const char *via;        /* "rest", "web", "cli", ... for the record */
	/* TPM key attestation (sub-ca/tpm.c): the one TPL_TRUST_* level the
	 * front end verified for the CSR's key, 0 for none.  The core checks
	 * it against the template and records it as an issuance-policy OID
	 * (template_attest). */
	unsigned attested;
	/* Optional (NULL: none): called inside the record of the new
	 * request (its row id in `request_id`; a store_run() job's
	 * savepoint, or the pending request's transaction), before it
	 * commits, so that a front end spends a one-time credential (a SCEP
	 * challenge) and records its own reference to the request atomically
	 * with it: the credential is spent if and only if the request is
	 * recorded.  It may run on another thread (the group commit's
	 * leader, see store_run()): it may use ca->store (store_db(),
	 * store_audit()), its arg and cairn_error(), nothing thread-local
	 * and no store_begin/commit/lock.  A non-zero return (never
	 * CAIRN_E_EXISTS) undoes the record, nothing is signed, and
	 * issue_submit returns it. */
	int (*on_record)(void *arg, struct ca *ca, long long request_id);
	void *on_record_arg;
	/* Optional (NULL: none): called once the certificate is signed, on a
	 * thread of its own while the certificate's record commits, to
	 * prepare the answer (a SCEP CertRep takes a signature of its own)
	 * without releasing it: the answer may go out only when issue_submit
	 * then returns 0 with ISSUE_ISSUED.  `cert` is borrowed for the call
	 * and only read.  The commit's fsync and this work overlap. */
	void (*on_signed)(void *arg, X509 *cert);
	void *on_signed_arg;
};

enum issue_status {
	ISSUE_ISSUED = 1,
	ISSUE_PENDING,
	ISSUE_DENIED,
};

struct issue_result {
	enum issue_status status;
	long long request_id;
	char serial[33];        /* hex, when issued */
	X509 *cert;             /* when issued; owned by the result */
	char **notes;           /* what the template dropped; owned */
};
void issue_result_clear(struct issue_result *res);

/*
 * issue_submit: the one issuance path.  Returns 0 with res->status
 * ISSUE_ISSUED (certificate committed) or ISSUE_PENDING (approval
 * template: request committed, nothing signed); or CAIRN_E_NOT_FOUND
 * (unknown template), CAIRN_E_DENIED (may not enroll), CAIRN_E_POLICY,
 * CAIRN_E_LINT, CAIRN_E_STORE, a pkcs11 error.  A refused request is
 * audited with the reason.
 */
int issue_submit(struct ca *ca, const struct issue_req *rq,
    struct issue_result *res);

/*
 * issue_approve / issue_deny: decide a pending request.  Requires
 * ROLE_MANAGER (or a local actor), and with separation on refuses the
 * requester themself (ESC7): CAIRN_E_DENIED.  A request that is not
 * pending is CAIRN_E_STATE.  Approval re-applies the template as it is now
 * (a template changed since is recorded) and issues.
 */
int issue_approve(struct ca *ca, long long id, const struct actor *who,
    struct issue_result *res);
int issue_deny(struct ca *ca, long long id, const struct actor *who,
    const char *why);

/*
 * issue_internal: issue from a profile the program itself made (the
 * daemon's own HTTPS certificate), through steps 2 to 6.  `what` names
 * it in the request row and the audit log.
 */
int issue_internal(struct ca *ca, struct profile *p, EVP_PKEY *subject_pub,
    const char *what, X509 **out);

/* ---- revocation and CRLs (sub-ca/revoke.c) --------------------------- */

/*
 * ca_revoke: revoke certificate `serial` (hex) with RFC 5280 `reason`
 * (0..10 but 7; the names in ca_reason_parse), then issue a CRL at once.
 * Requires ROLE_MANAGER or local.  A certificate revoked already is
 * CAIRN_E_STATE, unless it is on hold and the new reason is not hold
 * (hold may become a final revocation).  An 'intended' row may be revoked.
 */
int ca_revoke(struct ca *ca, const char *serial, int reason,
    const struct actor *who);
/* ca_unhold: take a certificate off hold (certificateHold only), and
 * issue a CRL at once. */
int ca_unhold(struct ca *ca, const char *serial, const struct actor *who);
int ca_reason_parse(const char *s, int *out);
const char *ca_reason_name(int reason);

/*
 * ca_crl_issue: number, sign and publish a CRL (DIR/publish/ca.crl,
 * replaced atomically) listing every revoked certificate.  *number
 * receives its CRL number (may be NULL).
 */
int ca_crl_issue(struct ca *ca, const struct actor *who,
    unsigned long long *number);

/* ca_publish_ca: write publish/ca.der, chain.pem and chain.p7b. */
int ca_publish_ca(struct ca *ca);

/* ca_serial_norm: normalise a serial as typed ("0x..", colons, upper
 * case) to 32 lowercase hex digits; CAIRN_E_INVAL otherwise. */
int ca_serial_norm(const char *in, char out[33]);

/* ca_audit_refusal: audit a refused action `event` with `fields`
 * (borrowed, may be NULL) plus "error" and "reason" from `why` and this
 * thread's detail; the detail is kept for the caller, and `why` returned
 * (a failure to audit is not allowed to hide the refusal's reason). */
int ca_audit_refusal(struct ca *ca, const char *event, const char *actor,
    const json_t *fields, int why);

/* ca_serial_of: the serial of `x` as the store keys it (32 lowercase hex
 * digits); CAIRN_E_INVAL for a serial longer than 16 bytes. */
int ca_serial_of(X509 *x, char out[33]);

/* ca_checkpoint: append a checkpoint signed by the CA key to the audit
 * log, in its own transaction (needs the key: CA_KEY). */
int ca_checkpoint(struct ca *ca);

/* ca_audit_event: a standalone audited event in its own transaction
 * (logins, refusals); errors are returned, not hidden. */
int ca_audit_event(struct ca *ca, const char *event, const char *actor,
    json_t *fields);

#endif /* CAIRN_CA_H */
