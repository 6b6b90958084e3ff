/*
 * scep.h: NDES-style SCEP (RFC 8894) for routers, phones and MDM-managed
 * devices that have no account: one-time challenge passwords (or a
 * webhook that vouches for dynamic ones) instead of accounts, an RA
 * certificate whose key lives in the CA's token, and the one issuance path
 * behind it all.
 *
 * Four files:
 *   scep_msg.c        the messages: PKIOperation parsing (base64 or DER ->
 *                     CMS SignedData -> EnvelopedData -> CSR or
 *                     IssuerAndSubject / IssuerAndSerialNumber ->
 *                     attributes) and CertRep building.  Pure: no store,
 *                     no HSM of its own (the RA key is an EVP_PKEY), so
 *                     the fuzzer (tests/fuzz/fuzz_scep.c) links it alone.
 *   scep_challenge.c  one-time challenges (made, listed, revoked, checked,
 *                     spent) and the dynamic-challenge webhook (libcurl).
 *   scep_ra.c         the configuration, the daemon's SCEP state, RA keys
 *                     and certificates (made and renewed in the token,
 *                     issued through issue_submit() with the RA template).
 *   scep.c            the HTTP front end (/scep, /cgi-bin/pkiclient.exe),
 *                     the operations, SCEP transactions.
 * The configuration is the `scep:` section of cairn-sub.yaml
 * (docs/scep.md); without it SCEP is off.
 */
#ifndef CAIRN_SCEP_H
#define CAIRN_SCEP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/limits.h"
#include "pkcs11/p11.h"

struct ca;
struct actor;
struct sqlite3;
struct server;
struct http_request;
struct http_response;

/* ---- the messages (scep_msg.c) ----------------------------------------- */

/* messageType (RFC 8894 3.2.1.2) */
enum scep_type {
	SCEP_CERTREP = 3,
	SCEP_RENEWALREQ = 17,
	SCEP_UPDATEREQ = 18,    /* obsolete; refused */
	SCEP_PKCSREQ = 19,
	SCEP_CERTPOLL = 20,     /* GetCertInitial in older drafts */
	SCEP_GETCERT = 21,
	SCEP_GETCRL = 22,
};

/* pkiStatus (3.2.1.3) */
enum scep_status {
	SCEP_SUCCESS = 0,
	SCEP_FAILURE = 2,
	SCEP_PENDING = 3,
};

/* failInfo (3.2.1.4); SCEP_NO_CERTREP: the message is too broken to answer
 * with a CertRep (no transactionID or senderNonce to echo): HTTP 400. */
enum scep_fail {
	SCEP_NO_CERTREP = -1,
	SCEP_BAD_ALG = 0,
	SCEP_BAD_MESSAGE_CHECK = 1,
	SCEP_BAD_REQUEST = 2,
	SCEP_BAD_TIME = 3,
	SCEP_BAD_CERT_ID = 4,
};

/* Weak algorithms some clients still use (scep.legacy); none by default. */
#define SCEP_ALLOW_SHA1 0x1     /* SHA-1 message digests */
#define SCEP_ALLOW_DES3 0x2     /* des-ede3-cbc envelopes */
#define SCEP_ALLOW_DES 0x4      /* single DES-CBC envelopes */

#define SCEP_NONCE_LEN 16

/* A key the parser may decrypt envelopes with: an RA certificate and its
 * private key (token-backed in the daemon).  Both borrowed. */
struct scep_ra_key {
	X509 *cert;
	EVP_PKEY *pkey;
};

/* What scep_msg_parse() found.  Fields are filled as far as parsing got,
 * so that a failure can still be answered with the transactionID and the
 * nonce. */
struct scep_msg {
	int type;                      /* messageType; 0 when not read */
	char tid[CAIRN_SCEP_TID_MAX + 1]; /* transactionID; "" if not read */
	uint8_t nonce[SCEP_NONCE_LEN]; /* senderNonce */
	int has_nonce;
	X509 *signer;                  /* the signer's certificate (owned) */
	STACK_OF(X509) *certs;         /* every certificate sent (owned) */
	const EVP_MD *md;              /* the signer's digest: replies use it */
	int cipher_nid;                /* the envelope's cipher: replies too */
	const struct scep_ra_key *ra;  /* the RA key it was encrypted for */
	/* PKCSReq, RenewalReq */
	X509_REQ *csr;
	char *challenge;               /* challengePassword, UTF-8; or NULL */
	/* CertPoll: IssuerAndSubject; GetCert, GetCRL: IssuerAndSerialNumber */
	X509_NAME *issuer, *subject;
	ASN1_INTEGER *serial;
	/* after a failure: how to answer (enum scep_fail) */
	int fail_info;
};

/*
 * scep_msg_parse: a PKIOperation message, `len` bytes of DER (the POST
 * body, or the GET message decoded by scep_msg_b64()):
 *   - a CMS ContentInfo of type SignedData, nothing after it; exactly one
 *     SignerInfo; eContentType id-data with the content present; at most
 *     CAIRN_SCEP_CERTS_MAX certificates, the signer's among them;
 *   - the signed attributes messageType, transactionID (PrintableString,
 *     1..CAIRN_SCEP_TID_MAX) and senderNonce (16 bytes), each once with
 *     one value;
 *   - the signature and the content digest verified with the signer's
 *     certificate (its chain is the caller's business: a PKCSReq is
 *     signed with a self-signed certificate); digest SHA-256/384/512, or
 *     SHA-1 with SCEP_ALLOW_SHA1;
 *   - the content: a pkcsPKIEnvelope (EnvelopedData) with a recipient
 *     naming one of the `n_ra` RA certificates by issuer and serial, key
 *     transport rsaEncryption, content AES-128/192/256-CBC (des-ede3-cbc
 *     or des-cbc only when `allow` says so; des-cbc also needs `legacy`,
 *     a library context with OpenSSL's legacy provider), decrypted with
 *     the RA key (in the token);
 *   - inside it, by messageType: a PKCS#10 request (csr_parse: its own
 *     signature checked) with at most one challengePassword, an
 *     IssuerAndSubject (CertPoll) or an IssuerAndSerialNumber (GetCert,
 *     GetCRL), each with nothing after it.
 * Returns 0 with `m` filled (scep_msg_clear()), or an error with the
 * detail set and m->fail_info saying how to answer: SCEP_NO_CERTREP (no
 * transactionID, nonce or messageType to answer with), badAlg (a digest
 * or cipher not allowed), badMessageCheck (signature, digest, envelope),
 * badRequest (an unsupported messageType, a malformed request).  A key
 * transport that does not decrypt and a content that does not decrypt
 * give the same answer, in the same way (no padding oracle on the RA key).
 */
int scep_msg_parse(const uint8_t *der, size_t len,
    const struct scep_ra_key *ra, size_t n_ra, unsigned allow,
    OSSL_LIB_CTX *legacy, struct scep_msg *m);
void scep_msg_clear(struct scep_msg *m);

/*
 * scep_msg_b64: the GET form's message argument (already percent-decoded)
 * to DER.  Base64 as clients send it: line breaks are skipped, a space is
 * a '+' that was not percent-encoded, the base64url alphabet ('-', '_';
 * micromdm's scepclient) is accepted, missing padding is supplied; any
 * other character is refused.  At most CAIRN_HTTP_HEADER_MAX characters.
 * *der is new (free()).
 */
int scep_msg_b64(const char *text, uint8_t **der, size_t *len);

/* scep_type_name: "PKCSReq", ... or "messageType N" (static per thread). */
const char *scep_type_name(int type);
/* scep_fail_name: "badAlg", ... */
const char *scep_fail_name(int fail);

/* A CertRep to build. */
struct scep_reply {
	int status;                    /* enum scep_status */
	int fail_info;                 /* FAILURE: enum scep_fail */
	const char *fail_text;         /* FAILURE: failInfoText, or NULL */
	const char *tid;
	const uint8_t *recipient_nonce;     /* the request's senderNonce */
	/* SUCCESS: a degenerate SignedData with these certificates (the
	 * issued one first) or this CRL, enveloped for `recipient` (the
	 * request's signer) with `cipher_nid` (from `libctx` when it is a
	 * legacy cipher) */
	STACK_OF(X509) *payload_certs;
	X509_CRL *payload_crl;
	X509 *recipient;
	int cipher_nid;
	OSSL_LIB_CTX *libctx;
	/* the signer: the RA certificate and key, the digest, and further
	 * certificates to carry (the CA) */
	X509 *ra_cert;
	EVP_PKEY *ra_pkey;
	const EVP_MD *md;
	STACK_OF(X509) *chain;
};

/*
 * scep_msg_reply: the CertRep as DER (*out new, free()): SignedData over
 * id-data signed by the RA key with messageType 3, pkiStatus, failInfo
 * (and failInfoText), transactionID, a fresh senderNonce and the
 * recipientNonce; its content is the pkcsPKIEnvelope for SUCCESS and an
 * empty octet string otherwise (RFC 8894 3.3.2: present, so that PKCS#7
 * readers do not take the reply for a detached signature).
 */
int scep_msg_reply(const struct scep_reply *rp, uint8_t **out,
    size_t *outlen);

/* scep_msg_degenerate: a certificates-only SignedData (GetCACert, and a
 * CertRep's payload) with `certs` and, when not NULL, `crl`.  *out new. */
int scep_msg_degenerate(STACK_OF(X509) *certs, X509_CRL *crl, uint8_t **out,
    size_t *outlen);

/* ---- configuration (scep_ra.c) ----------------------------------------- */

struct scep_config {
	int enabled;                   /* the scep: section exists */
	char *ra_template;             /* RA certificates' template */
	enum cairn_key_type ra_key;    /* rsa-3072 or rsa-4096 */
	long long ra_renew_before;     /* seconds before notAfter */
	unsigned allow;                /* SCEP_ALLOW_* (scep.legacy) */
	long long challenge_ttl;       /* default lifetime of a challenge */
	long long challenge_ttl_max;
	/* dynamic challenges: NULL url when none */
	char *webhook_url;
	char *webhook_ca_file;         /* trust anchors for its TLS, or NULL */
	char *webhook_bearer_file;     /* Authorization: Bearer, or NULL */
	char *webhook_template;
	long long webhook_timeout_ms;
};

/* scep_config_load: the scep: section of DIR/cairn-sub.yaml (every
 * problem as "file:line: ..."); c->enabled 0 without one. */
int scep_config_load(const char *dir, struct scep_config *c);
void scep_config_clear(struct scep_config *c);

/* ---- the daemon's front end (scep.c, scep_ra.c) ------------------------ */

struct scep;

/*
 * scep_open: when the configuration has a scep: section, prepare SCEP for
 * the daemon: the RA certificates still valid (their keys found in the
 * CA's token), and a new RA key and certificate when there is none or the
 * newest expires within ra_renew_before.  *out is NULL when SCEP is off.
 * Needs the CA opened with its key, certificate and templates.
 */
int scep_open(struct ca *ca, struct scep **out);
void scep_close(struct scep *s);

/* scep_path: 1 when `path` is a SCEP URL: /scep, /scep/pkiclient.exe,
 * /cgi-bin/pkiclient.exe, /certsrv/mscep/mscep.dll. */
int scep_path(const char *path);

/* scep_handle: answer a SCEP request (GetCACaps, GetCACert, PKIOperation
 * by GET or POST), over HTTP or HTTPS.  Thread-safe. */
void scep_handle(struct scep *s, const struct http_request *req,
    struct http_response *resp);

/* scep_tick: the daemon's periodic work: forget expired RA certificates,
 * renew the RA certificate when it is due.  Call it every minute or so;
 * errors are returned (and audited), SCEP keeps serving with what it has. */
int scep_tick(struct scep *s);

/* scep_identity: the identity a SCEP request enrolls with, named `name`
 * ("scep:ID", "scep:webhook", "scep:renew:SERIAL"): no account, role
 * enrollee, group scep.  For issue_approve(), which rebuilds the
 * requester's identity when a manager approves. */
int scep_identity(const char *name, struct actor *a);

/* ---- challenges (scep_challenge.c) ------------------------------------- */

/* A challenge as made or listed.  The secret exists only when just made. */
struct scep_challenge {
	long long id;
	char secret[64];               /* "" when listed */
	char template_name[65];
	char *subject;                 /* pattern, or NULL */
	long long created, expires, used_at, revoked_at;
	long long request_id;          /* the request that spent it, or 0 */
	char created_by[129];
};
void scep_challenge_clear(struct scep_challenge *c);

/*
 * scep_challenge_new: make a one-time challenge for `template_name`
 * (which must be loaded and let SCEP enroll: role enrollee or group
 * scep), optionally bound to `subject`, an fnmatch(3) pattern: "TYPE=P"
 * (one attribute, no ',') when some TYPE attribute of the request's
 * subject matches P ("CN=r1.example.org"), else the whole RFC 4514 text
 * of the subject ("CN=r1.example.org,O=Example,C=DE"); valid `ttl`
 * seconds (0: the configured default; at most scep.challenge_max).
 * The secret is 128 random bits, shown once (out->secret, 32 hex
 * digits) and stored as its SHA-256.  Requires a manager
 * (or the local operator); audited.  The front end for the managers' web
 * page, the REST API and the command line.
 */
int scep_challenge_new(struct ca *ca, const struct actor *who,
    const char *template_name, const char *subject, long long ttl,
    struct scep_challenge *out);

/* scep_challenge_revoke: make challenge `id` unusable (manager or local;
 * audited).  CAIRN_E_STATE when spent or revoked already. */
int scep_challenge_revoke(struct ca *ca, const struct actor *who,
    long long id);

/* scep_challenge_list: challenges, newest first; `all` 0: only those that
 * can still be used.  *out new array of *n (scep_challenge_list_free). */
int scep_challenge_list(struct ca *ca, int all, struct scep_challenge **out,
    size_t *n);
void scep_challenge_list_free(struct scep_challenge *list, size_t n);

/* What a challenge found in a request authorises. */
struct scep_grant {
	long long challenge_id;        /* 0: a dynamic challenge (webhook) */
	uint8_t hash[32];              /* SHA-256 of the secret */
	char template_name[65];
	char requester[129];           /* "scep:ID" or "scep:webhook" */
};

/*
 * scep_challenge_check: what the request's challenge authorises, before
 * anything is recorded: a stored challenge that is neither spent, nor
 * revoked, nor expired, whose subject pattern (if any) the CSR matches;
 * else, when a webhook is configured, the webhook's yes (a spent dynamic
 * challenge is refused without asking it).  CAIRN_E_AUTH with the reason
 * otherwise (no challenge, unknown, spent, expired, revoked, subject,
 * webhook said no or failed: fail closed).  `rdb`: a read connection of
 * the caller's to the store, or NULL for the store's own (locked).
 */
int scep_challenge_check(struct ca *ca, const struct scep_config *cfg,
    struct sqlite3 *rdb, const char *challenge, X509_REQ *csr,
    const char *tid, struct scep_grant *g);

/*
 * scep_challenge_spend: inside the transaction that records request
 * `request_id` (issue_req.on_record), mark the challenge used by it; a
 * dynamic one is recorded as spent.  CAIRN_E_STATE when another request
 * spent it in the meantime: the transaction must roll back.
 */
int scep_challenge_spend(struct ca *ca, const struct scep_grant *g,
    long long request_id);

/* scep_duration_parse: "30m", "1h", "7d" (a positive integer and one of
 * s, m, h, d, y as in the configuration) to seconds; CAIRN_E_INVAL. */
int scep_duration_parse(const char *s, long long *out);

/* scep_subject_text: the RFC 4514 text of `n` challenge patterns are
 * matched against ("CN=r1.example.org,O=Example"); new string. */
char *scep_subject_text(X509_NAME *n);

#endif /* CAIRN_SCEP_H */
