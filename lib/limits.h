/*
 * limits.h: every hard limit in Cairn, in one place, each with its reason.
 *
 * A limit is a promise to the operator (this input is refused, with a
 * message, rather than eating memory or time) and a bound for the fuzzers.
 * Change one only with the reason beside it.
 */
#ifndef CAIRN_LIMITS_H
#define CAIRN_LIMITS_H

/* Longest error detail kept per thread.  Long enough to list a handful of
 * tokens or keys by name in "not found" messages; longer lists are cut. */
#define CAIRN_ERRMSG_MAX 2048

/*
 * PKCS#11 URIs (RFC 7512).  The RFC sets no bound; ours is far beyond any
 * real URI (a 255-byte CKA_ID percent-encodes to 765 characters), and keeps
 * a pasted file or a fuzzer's input from being copied around.
 */
#define CAIRN_URI_MAX 4096
/* Distinct attributes in one URI: the RFC defines 17, and a few vendor
 * attributes may follow. More than this is not a URI anyone meant. */
#define CAIRN_URI_ATTRS_MAX 32
/* CKA_ID bytes accepted from a URI; real IDs are 1..64 bytes (SHA-1 or
 * SHA-256 of a key, or a random value like ours). */
#define CAIRN_P11_ID_MAX 255

/* PKCS#11 fixed-width strings: a token label is CK_UTF8CHAR[32], serial
 * [16]; the C strings we keep add a NUL. */
#define CAIRN_P11_LABEL_MAX 32
#define CAIRN_P11_SERIAL_MAX 16
/* Object labels (CKA_LABEL) are variable length; we refuse to create ones
 * longer than this so that listings stay readable. */
#define CAIRN_P11_OBJLABEL_MAX 128

/* Bytes in a random CKA_ID made for a new key: 128 bits, enough that two
 * keys on one token never collide by chance. */
#define CAIRN_P11_NEW_ID_LEN 16

/* PINs: PKCS#11 allows any length; tokens accept 4..255 at most. A PIN file
 * larger than this is not a PIN file. */
#define CAIRN_PIN_MAX 256

/*
 * Sessions opened per token for signing.  Each thread that signs holds one
 * session for the duration of a signature; more sessions than threads buys
 * nothing, and HSMs cap sessions per application (often 16..1024).  When a
 * token reports a lower ulMaxSessionCount, that lower figure is used.
 */
#define CAIRN_P11_SESSIONS_MAX 64

/* Seconds a signing thread waits for a free session before it reports the
 * HSM as hung.  A healthy token signs in milliseconds; 30 s covers an RSA-
 * 4096 signature on a slow smart card queued behind a full pool. */
#define CAIRN_P11_SESSION_WAIT_SEC 30

/*
 * YAML files (ceremony scripts, templates, configuration).  The largest
 * real ceremony script is a few KiB; 256 KiB leaves room for long comment
 * blocks and policy texts.  Depth and node counts bound what a hostile or
 * broken file can make the checker walk.
 */
#define CFG_FILE_MAX (256 * 1024)
#define CFG_DEPTH_MAX 32
#define CFG_NODES_MAX 20000

/*
 * Audit and ceremony logs.  A log line is one event with a few dozen
 * digests at most: 64 KiB is far beyond that and keeps one line from
 * taking the verifier's memory.  A log file is verified line by line; the
 * file limit only bounds what audit_verify_file() reads at all (a root's
 * log grows by a few KiB a year).
 */
#define CAIRN_AUDIT_LINE_MAX (64 * 1024)
#define CAIRN_AUDIT_FILE_MAX (256LL * 1024 * 1024)

/*
 * Signed media.  A ceremony hands over tens of files (certificates, CRLs,
 * OCSP responses, log, transcript); 4096 is far beyond and bounds the
 * manifest.  Names are short printable file names.  One file may be large
 * (a CRL of a million entries is ~40 MB): files are hashed as streams, the
 * limit is only a sanity bound.
 */
#define CAIRN_MEDIA_FILES_MAX 4096
#define CAIRN_MEDIA_NAME_MAX 128
#define CAIRN_MEDIA_MANIFEST_MAX (CAIRN_MEDIA_FILES_MAX * (64 + 24 + CAIRN_MEDIA_NAME_MAX + 8))
#define CAIRN_MEDIA_FILE_MAX (4LL * 1024 * 1024 * 1024)

/* Keys or tokens listed by a "not found" message before "...". */
#define CAIRN_LIST_IN_ERROR_MAX 16

/*
 * HTTP (cairn-sub).  The largest legitimate body is a CSR with a few
 * SANs (a few KiB) or a SCEP PKIOperation carrying one (tens of KiB);
 * 64 KiB leaves room and answers a 10 MB upload with 413 after reading
 * nothing more.  Headers: browsers send a few KiB.  A client idle for
 * 15 s is cut off (slow-loris); the pool is served by epoll, so an idle
 * client costs a file descriptor, not a thread.
 */
#define CAIRN_HTTP_BODY_MAX (64 * 1024)
#define CAIRN_HTTP_HEADER_MAX (16 * 1024)
#define CAIRN_HTTP_IDLE_SEC 15
#define CAIRN_HTTP_CONN_MAX 1024
#define CAIRN_HTTP_CONN_PER_IP 256
/* Seconds that requests in progress get to finish on SIGTERM. */
#define CAIRN_HTTP_DRAIN_SEC 10
/* A CSR (PKCS#10) larger than this is not one anyone made by hand or by
 * tool: an RSA-4096 key with a hundred SANs is under 16 KiB. */
#define CAIRN_CSR_MAX (32 * 1024)
/* Names a CSR may ask for, in all (SAN entries and subject fields). */
#define CAIRN_CSR_NAMES_MAX 100
/* Template files in a directory; a CA has tens of templates. */
#define CAIRN_TEMPLATES_MAX 256

/*
 * Verified passwords remembered by the daemon (sub-ca/account.c), so that
 * REST clients sending HTTP Basic with every request pay Argon2id's
 * ~100 ms once, not per request.  Slots: one per account that is active
 * at once, with room (a collision only costs a fresh Argon2id check).
 * Seconds: a password stays verified this long; a changed password or a
 * disabled account ends it at once (the stored hash is in the tag).
 */
#define CAIRN_AUTH_CACHE_SLOTS 256
#define CAIRN_AUTH_CACHE_SEC 300
/* Argon2id password checks running at once in the daemon (64 MiB and
 * ~100 ms of a core each): two keep a 2-core machine answering while a
 * crowd of wrong passwords waits its turn; the others queue. */
#define CAIRN_AUTH_ARGON2_MAX 2
/*
 * Wrong passwords: after this many for one account from one address
 * within the window, that address's further attempts on that account are
 * refused without a check until the window ends (online guessing slows
 * to a handful an address every 5 minutes; the account stays usable from
 * elsewhere, so no one locks an owner out from afar).  Slots: addresses
 * and accounts tracked at once, keyed by a per-process HMAC so that no
 * one can aim at another's slot.
 */
#define CAIRN_AUTH_FAIL_MAX 5
#define CAIRN_AUTH_FAIL_WINDOW 300
#define CAIRN_AUTH_FAIL_SLOTS 4096

/*
 * TPM key attestation (sub-ca/tpm.c).  A TPM structure (TPM2B_PUBLIC,
 * TPM2B_ATTEST, TPMT_SIGNATURE, credential blob) is under 1 KiB even for
 * RSA-4096; 4 KiB bounds what a parser is handed.  EK certificates are
 * 1-2 KiB with their manufacturer extensions; 16 KiB bounds a chain of
 * a few.  Exchanges in flight: each costs a row until it is finished or
 * expires; more than this (per CA) is a flood, answered 503-style with
 * CAIRN_E_STATE.  The EK-key allow-list is a text file of hashes, one a
 * line; 100,000 TPMs is a large fleet.
 */
#define CAIRN_TPM_BLOB_MAX 4096
#define CAIRN_TPM_EKCERT_MAX (16 * 1024)
#define CAIRN_TPM_SESSIONS_MAX 10000
#define CAIRN_TPM_ALLOW_MAX (100000 * 80)
#define CAIRN_TPM_ROOTS_MAX 256

/*
 * Web enrollment (sub-ca/webform.c, websession.c, web.c).  Our forms have
 * at most half a dozen fields: 32 is far beyond, and bounds the table.
 * Field names are our own short identifiers.  RFC 2046 limits a multipart
 * boundary to 70 characters; a browser's part carries two headers
 * (Content-Disposition, Content-Type; webform.c takes no others, each
 * once) of well under 1 KiB, file names included.
 */
#define CAIRN_WEBFORM_FIELDS_MAX 32
#define CAIRN_WEBFORM_NAME_MAX 64
#define CAIRN_WEBFORM_BOUNDARY_MAX 70
#define CAIRN_WEBFORM_PART_HEADER_MAX 1024
/*
 * Web sessions live in memory (a restart signs everybody out).  The table
 * is allocated once: 4096 sessions of ~300 bytes is about 1 MiB, more
 * people than a CA's web pages serve at once; a full table refuses new
 * logins (after dropping expired sessions) rather than pushing others
 * out.  One account keeps at most 8 (its least recently used goes first),
 * so no one account fills the table.  A session idle for 15 minutes ends
 * (OWASP's figure for an application of this value), and none lives
 * longer than 8 hours whatever its use.
 */
#define CAIRN_WEB_SESSIONS_MAX 4096
#define CAIRN_WEB_SESSIONS_PER_ACCOUNT 8
#define CAIRN_WEB_SESSION_IDLE_SEC (15 * 60)
#define CAIRN_WEB_SESSION_LIFE_SEC (8 * 3600)
/* Rows per page in the web pages' lists (requests, certificates). */
#define CAIRN_WEB_LIST_PAGE 50

/*
 * OCSP (sub-ca/ocsp*.c; RFC 6960, RFC 5019, Baseline Requirements 4.9.10).
 * Validity (nextUpdate - thisUpdate): the BRs want at least 8 hours and at
 * most 10 days.  Refresh: a response is signed again at least 8 hours
 * before its nextUpdate, or at half its life when that is shorter than 16
 * hours (so a relying party always finds a fresh one well before the old
 * one expires); the configuration may only sign earlier than that.
 */
#define CAIRN_OCSP_VALIDITY_MIN (8 * 3600)
#define CAIRN_OCSP_VALIDITY_MAX (10 * 86400)
#define CAIRN_OCSP_REFRESH_MIN (8 * 3600)
/* thisUpdate is set this far in the past, for relying parties whose
 * clocks run a little slow (the response still spans the validity). */
#define CAIRN_OCSP_BACKDATE 300
/* An RFC 5019 request is about 100 bytes; one for 64 certificates with
 * SHA-256 CertIDs and a nonce is under 8 KiB.  Larger bodies are refused
 * (malformedRequest) before any ASN.1 is parsed. */
#define CAIRN_OCSP_REQ_MAX (8 * 1024)
/* Certificates in one request: RFC 5019 clients ask for one; browsers and
 * OpenSSL for one; 64 serves a batch checker without letting one request
 * cost a thousand lookups or a huge signed answer. */
#define CAIRN_OCSP_REQ_CERTS_MAX 64
/* RFC 8954 2.1: a nonce is 1..32 octets. */
#define CAIRN_OCSP_NONCE_MAX 32
/* Responses signed per request (serials never issued, nonces, several
 * certificates) per second, for the whole daemon: a client sending random
 * serials must not keep the HSM busy.  Beyond: tryLater. */
#define CAIRN_OCSP_SIGN_RATE 200
/* Answers for serials never issued kept signed (direct-mapped, a newer
 * one replaces an older one in its slot): repeated queries cost no
 * signature. */
#define CAIRN_OCSP_UNKNOWN_SLOTS 4096
/* Responses held in memory: two per certificate (SHA-1, SHA-256); a CA
 * of 50 million certificates needs ~50 GB at ~500 bytes each: beyond that
 * it needs several responders (cairn-sub ocsp serve) anyway. */
#define CAIRN_OCSP_CACHE_MAX (100LL * 1000 * 1000)
/* How often the store is read for responses other processes signed (the
 * admin commands, the daemon for standalone responders) and how often
 * the daemon persists what it signed: a revocation reaches every
 * responder within a second. */
#define CAIRN_OCSP_POLL_MS 250
/* Certificates just issued whose responses wait for the pre-signing
 * thread (ocsp_cert_issued), which may fall behind while enrollment keeps
 * the CPUs busy: room for a minute at 1,000 certificates a second (33
 * bytes each).  Beyond it, the next pass signs the rest; a query
 * meanwhile has them signed on the spot. */
#define CAIRN_OCSP_ISSUED_QUEUE 65536
/* Responses signed per store transaction by the background pass. */
#define CAIRN_OCSP_BATCH 256

/*
 * SCEP (RFC 8894, sub-ca/scep*.c).  A transactionID is a client's own
 * text: base64 of a SHA-1 (28), hex of a SHA-256 (64), a UUID (36); 128
 * is ample.  A challengePassword is a PKCS#9 DirectoryString of at most
 * 255 characters.  A PKIOperation carries the signer's certificate and
 * perhaps its chain (8 is far beyond that), and clients such as micromdm's
 * encrypt to every certificate GetCACert returned (8 recipients).  The
 * webhook's answer is a small JSON object: 4 KiB bounds what a confused
 * server can make us read; 30 s is the longest timeout that may be set
 * (a router waits on the SCEP answer meanwhile).
 */
#define CAIRN_SCEP_TID_MAX 128
#define CAIRN_SCEP_CHALLENGE_MAX 255
#define CAIRN_SCEP_CERTS_MAX 8
#define CAIRN_SCEP_RECIPIENTS_MAX 8
#define CAIRN_SCEP_WEBHOOK_REPLY_MAX 4096
#define CAIRN_SCEP_WEBHOOK_TIMEOUT_MAX_SEC 30

#endif /* CAIRN_LIMITS_H */
