/*
 * ocsp.h: the online OCSP responder (RFC 6960, RFC 5019), like the AD CS
 * Online Responder: "is this certificate good?" for every certificate
 * this CA issued and for this CA's own certificate (the root's pre-signed
 * answers).  docs/ocsp.md is the operator's view; this is the code's.
 *
 * Files (prefix ocsp_ throughout):
 *   ocsp_req.c     the request parser (DER and the GET path); no state
 *   ocsp_cache.c   the in-memory table of pre-signed responses, keyed by
 *                  CertID (SHA-1 and SHA-256 issuer hashes)
 *   ocsp_signer.c  the delegated signing certificate: key made in the
 *                  CA's token, issued through issue_internal(), renewed
 *   ocsp.c         configuration, signing, the store, refresh, the HTTP
 *                  handler, the hooks that issuance and revocation call
 *   cmd_ocsp.c     cairn-sub ocsp serve (standalone, store only)
 *
 * Pre-signed, always: every certificate has a signed response for a
 * SHA-1 and for a SHA-256 CertID, kept in memory and in the store, signed
 * again at half their life (and at once on revocation or un-hold).
 * Serving one is a hash lookup and a copy.  Signing per request happens
 * only for what cannot be pre-signed (docs/ocsp.md, "What is answered"),
 * at most CAIRN_OCSP_SIGN_RATE a second.
 */
#ifndef CAIRN_OCSP_H
#define CAIRN_OCSP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/limits.h"
#include "sub-ca/http.h"

struct ca;
struct cfg_check;
struct cfg_node;
struct store;

/* ---- configuration (the ocsp: map of cairn-sub.yaml) -------------------- */

struct ocsp_config {
	int delegated;            /* 1: a delegated signer (default); 0: the
	                           * CA key signs responses itself */
	long long validity;       /* nextUpdate - thisUpdate, seconds */
	long long refresh;        /* re-sign this long before nextUpdate */
	long long signer_validity;
	long long signer_renew;   /* a new signer when less than this is left */
	int signer_key;           /* enum cairn_key_type; 0: as the CA key */
	int on_demand;            /* sign per request for a nonce or several
	                           * certificates (docs/ocsp.md) */
};

/* ocsp_config_load: read the `ocsp` mapping `m` (may be NULL: defaults)
 * into `c`, reporting every problem through `chk`. */
void ocsp_config_load(struct cfg_check *chk, const struct cfg_node *m,
    struct ocsp_config *c);

/* ---- requests (ocsp_req.c) --------------------------------------------- */

enum ocsp_alg { OCSP_ALG_SHA1 = 0, OCSP_ALG_SHA256 = 1, OCSP_NALG };

/* A CertID as the table keys it: the hash algorithm, the issuer's name
 * and key hashes (20 or 32 bytes), the serial's content octets (minimal,
 * positive, at most 20 bytes: RFC 5280 4.1.2.2). */
struct ocsp_certid {
	uint8_t alg;
	uint8_t serial_len;
	uint8_t name_hash[32];
	uint8_t key_hash[32];
	uint8_t serial[20];
};

/* What a request asks. */
struct ocsp_req {
	struct ocsp_certid ids[CAIRN_OCSP_REQ_CERTS_MAX];
	size_t n;
	/* The nonce extension's extnValue as sent (RFC 8954: the DER of an
	 * OCTET STRING of 1..32 octets), echoed as it came. */
	int has_nonce;
	uint8_t nonce[CAIRN_OCSP_NONCE_MAX + 2];
	size_t nonce_len;
};

/* ocsp_hash_len: 20 for SHA-1, 32 for SHA-256. */
size_t ocsp_hash_len(int alg);

/*
 * ocsp_req_parse: parse an OCSPRequest (DER, exactly `len` bytes: trailing
 * data is refused) of at most CAIRN_OCSP_REQ_MAX bytes into `out`.
 * Returns 0, or CAIRN_E_INVAL (malformed, with what and where),
 * CAIRN_E_TOO_LARGE (more than CAIRN_OCSP_REQ_CERTS_MAX certificates,
 * or a request over CAIRN_OCSP_REQ_MAX), CAIRN_E_POLICY (an algorithm
 * other than SHA-1/SHA-256, or a critical extension not understood).
 * Every failure is answered malformedRequest.  A nonce (RFC 8954) of
 * 1..32 octets is kept; an empty or longer one is CAIRN_E_INVAL.
 */
int ocsp_req_parse(const uint8_t *der, size_t len, struct ocsp_req *out);

/*
 * ocsp_get_decode: the request in a GET path (RFC 6960 A.1, RFC 5019
 * 5): `enc` is what follows "/ocsp/", raw: base64 (RFC 4648 section 4)
 * whose '+', '/' and '=' may also be written %2B, %2F, %3D (any other
 * %XX too), '/' kept as part of the base64.  Missing padding is
 * accepted.  Writes at most `cap` bytes to `out`.  Returns 0, or
 * CAIRN_E_INVAL (a character outside base64, a bad %XX, bits left over)
 * or CAIRN_E_TOO_LARGE.
 */
int ocsp_get_decode(const char *enc, size_t len, uint8_t *out, size_t cap,
    size_t *outlen);

/* ---- the table of pre-signed responses (ocsp_cache.c) ------------------- */

struct ocsp_cache;

enum ocsp_cert_status { OCSP_GOOD = 0, OCSP_REVOKED = 1, OCSP_UNKNOWN = 2 };

/* One pre-signed response and what the HTTP answer needs about it. */
struct ocsp_resp_info {
	long long this_update, next_update;
	int status;               /* enum ocsp_cert_status */
	long long revoked_at;     /* revoked: when */
	int reason;               /* revoked: CRLReason, -1 none */
	char etag[35];            /* "\"<32 hex of SHA-256>\"": set by put */
};

/* ocsp_cache_new: an empty table.  NULL when out of memory. */
struct ocsp_cache *ocsp_cache_new(void);
void ocsp_cache_free(struct ocsp_cache *c);

/*
 * ocsp_cache_put: keep a copy of `der` (`len` bytes) as the answer for
 * `id`, replacing an earlier one unless that one is newer (a larger
 * thisUpdate: a late writer never rolls an answer back).  Returns 0,
 * CAIRN_E_NOMEM, or CAIRN_E_TOO_LARGE beyond CAIRN_OCSP_CACHE_MAX.
 * Thread-safe; readers are never blocked for longer than a pointer swap.
 */
int ocsp_cache_put(struct ocsp_cache *c, const struct ocsp_certid *id,
    const uint8_t *der, size_t len, const struct ocsp_resp_info *info);

/*
 * ocsp_cache_get: the answer for `id`: 1 and a malloc()ed copy in *der
 * (*len bytes) with its *info, or 0 when there is none (and NULL).
 * -1 when out of memory.  Thread-safe.
 */
int ocsp_cache_get(struct ocsp_cache *c, const struct ocsp_certid *id,
    uint8_t **der, size_t *len, struct ocsp_resp_info *info);

/* ocsp_certid_hash: the table's hash of `id`. */
uint32_t ocsp_certid_hash(const struct ocsp_certid *id);
/* ocsp_certid_eq: 1 when `a` and `b` name the same certificate. */
int ocsp_certid_eq(const struct ocsp_certid *a, const struct ocsp_certid *b);

/* ocsp_cache_count: entries held. */
size_t ocsp_cache_count(struct ocsp_cache *c);

/* ---- the responder (ocsp.c) -------------------------------------------- */

struct ocsp;

/* ocsp_open flags */
#define OCSP_SIGN 0x1         /* hold a signer: the daemon (needs CA_KEY) */

/*
 * ocsp_open: the responder for `ca`: issuer hashes from ca.pem and
 * root.pem, every response in the store loaded into memory, the root's
 * pre-signed responses (DIR/root-ocsp/) added.  With OCSP_SIGN the
 * current signer is loaded (or made, ocsp_signer.c) and the background
 * thread started that signs what is missing, due or changed, renews the
 * signer and persists what the hooks signed; without it (cairn-sub ocsp
 * serve) only the store is read, again every CAIRN_OCSP_POLL_MS.
 * Sets ca->ocsp.  Errors: the store's, the HSM's, CAIRN_E_NOMEM.
 */
int ocsp_open(struct ca *ca, unsigned flags, struct ocsp **out);

/* ocsp_close: stop the thread (after persisting what it holds) and free.
 * NULL is fine. */
void ocsp_close(struct ocsp *o);

/*
 * ocsp_handle: answer `req` when its path is the responder's: POST to
 * "/ocsp" (or "/ocsp/"), GET "/ocsp/<base64 request>".  Returns 1 when it
 * answered, 0 when the path is not ours.  Thread-safe.
 */
int ocsp_handle(struct ocsp *o, const struct http_request *req,
    struct http_response *resp);

/*
 * ocsp_cert_changed: certificate `serial` (32 lowercase hex digits) was
 * issued, revoked or taken off hold: sign its responses now.  In the
 * daemon they are served at once and persisted by the background thread
 * within CAIRN_OCSP_POLL_MS; in another process (the admin commands) they
 * are written to the store, where the daemon and standalone responders
 * read them within CAIRN_OCSP_POLL_MS.  Never fails its caller: what
 * could not be signed is reported on stderr and signed by the daemon's
 * next pass.
 */
void ocsp_cert_changed(struct ca *ca, const char *serial);

/*
 * ocsp_cert_issued: certificate `serial` was just issued.  In the daemon
 * its responses are signed by the background thread, off the issuance
 * path (an issuance would otherwise cost three signatures: its own and
 * two responses); a query that comes first finds it issued in the store
 * and has it signed on the spot, so a released certificate never reads
 * "unknown".  Elsewhere (the admin commands) it is ocsp_cert_changed().
 */
void ocsp_cert_issued(struct ca *ca, const char *serial);

/* ocsp_wait_ready: block until the first pass has signed every missing
 * response (the daemon prints when it is ready); 0 or the pass's error. */
int ocsp_wait_ready(struct ocsp *o);

/* ocsp_stats: entries in memory, responses signed since start, and
 * certificates issued whose responses wait for the pre-signer (see
 * ocsp.c). */
void ocsp_stats(struct ocsp *o, size_t *entries, unsigned long long *signed_,
    size_t *pending);

/* ---- the delegated signer (ocsp_signer.c) ------------------------------ */

struct ocsp_signer;

/*
 * ocsp_signer_current: the signer responses are signed with now: the CA
 * key when ca->cfg.ocsp.delegated is 0; else the newest delegated signer
 * in the store whose certificate is valid and whose key is on the token.
 * With `make` 1, a new one is made (ocsp_signer_renew) when there is none
 * or it has less than signer_renew left.  *out is a new reference
 * (ocsp_signer_free), NULL without `make` when there is none.
 */
int ocsp_signer_current(struct ca *ca, struct store *st, int make,
    struct ocsp_signer **out);

/*
 * ocsp_signer_renew: make a delegated signer: a key generated in the CA's
 * token (ocsp.signer_key), a certificate with id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck and digitalSignature for ocsp.signer_validity,
 * issued through issue_internal() (the one issuance path: linted, intent
 * recorded, audited), recorded in ocsp_signers.  Audited.
 */
int ocsp_signer_renew(struct ca *ca, struct store *st,
    struct ocsp_signer **out);

void ocsp_signer_free(struct ocsp_signer *sg);
void ocsp_signer_ref(struct ocsp_signer *sg);

/* What a signer is, for signing and for messages. */
X509 *ocsp_signer_cert(const struct ocsp_signer *sg);
EVP_PKEY *ocsp_signer_key(const struct ocsp_signer *sg);
int ocsp_signer_delegated(const struct ocsp_signer *sg);
long long ocsp_signer_not_after(const struct ocsp_signer *sg);
/* "ca", or the delegated certificate's serial (32 hex). */
const char *ocsp_signer_id(const struct ocsp_signer *sg);

#endif /* CAIRN_OCSP_H */
