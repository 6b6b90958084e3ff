/*
 * p11.h: the only door to an HSM.
 *
 * Everything in Cairn that touches a private key goes through this header:
 * load a PKCS#11 module, choose a token by label or RFC 7512 URI, log in,
 * generate key pairs that can never leave the token, find them again, and
 * hand them to OpenSSL as EVP_PKEYs whose signatures are made by the token.
 *
 * Objects and ownership:
 *   struct cairn_p11        a loaded module (dlopen + C_Initialize)
 *   struct cairn_p11_token  one token: a login and a pool of sessions
 *   struct cairn_p11_key    one key pair on a token
 * Each holds a reference on its parent, so they may be freed in any order.
 * An EVP_PKEY from cairn_p11_key_get1_pkey() holds a reference on its key.
 *
 * Threads: every function here may be called from many threads at once on
 * the same token or key; signing takes a session from the token's pool for
 * the duration of one signature.
 *
 * Failures: a session the module reports invalid, or a device reported
 * removed, is re-opened (new session, login again, key looked up again)
 * and the operation retried once; a second failure is reported as
 * CAIRN_E_P11_DEVICE with what was tried.
 *
 * Why not libp11's EVP_PKEY glue (docs/architecture.md has the long form):
 * libp11 0.4.12, the Debian 12 version, waits forever on its session pool
 * when C_OpenSession fails, which is exactly what happens when a device is
 * removed or a token is not initialized; it also has no EC key generation
 * and hides the CKR codes we must act on.  So pkcs11/ drives the module's
 * own function list, and libp11 serves the tests and the benchmark as an
 * independent peer.
 */
#ifndef CAIRN_P11_H
#define CAIRN_P11_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "lib/limits.h"
#include "pkcs11/uri.h"

struct cairn_p11;
struct cairn_p11_token;
struct cairn_p11_key;

/* ---- modules -------------------------------------------------------- */

/*
 * cairn_p11_load: dlopen the PKCS#11 module at `path` (NULL: the
 * CAIRN_PKCS11_MODULE environment variable, else the SoftHSM2 module found
 * by configure) and initialize it for OS locking.  A module initialized
 * already in this process is shared, not finalized by us.
 * Errors: CAIRN_E_P11_MODULE (with the path and dlerror()), CAIRN_E_P11.
 */
int cairn_p11_load(const char *path, struct cairn_p11 **out);

/* cairn_p11_free: drop a reference; the last one finalizes. NULL is fine. */
void cairn_p11_free(struct cairn_p11 *p11);

/* cairn_p11_module_path: the path loaded (borrowed). */
const char *cairn_p11_module_path(const struct cairn_p11 *p11);

/* cairn_p11_default_module: the module used when none is given. */
const char *cairn_p11_default_module(void);

/* cairn_p11_functions: the module's function list (borrowed), for code in
 * pkcs11/ and for tests that compare against the bare token. */
CK_FUNCTION_LIST *cairn_p11_functions(const struct cairn_p11 *p11);

/* ---- slots and tokens ----------------------------------------------- */

struct cairn_p11_slot_info {
	CK_SLOT_ID slot_id;
	char slot_description[65];
	int token_present;
	int token_initialized;      /* CKF_TOKEN_INITIALIZED */
	int user_pin_initialized;   /* CKF_USER_PIN_INITIALIZED */
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	CK_FLAGS token_flags;
};

/*
 * cairn_p11_list_slots: every slot of the module and its token, if any.
 * *out is a new array of *n entries (free()).
 */
int cairn_p11_list_slots(struct cairn_p11 *p11,
    struct cairn_p11_slot_info **out, size_t *n);

/* cairn_p11_token_uri: "pkcs11:token=...;manufacturer=...;serial=...;
 * model=..." naming the token of `si`.  New string (free()) or NULL. */
char *cairn_p11_token_uri(const struct cairn_p11_slot_info *si);

/*
 * cairn_p11_token_init: initialize a token.  `slot` selects it (when
 * has_slot is 1), else the first slot whose token is not initialized.
 * Sets `label`, the SO PIN and the user PIN.  Refuses when a token with
 * the same label exists (keys are found by label; two would be ambiguous).
 * *info receives the initialized token's slot, serial and label.  (Its slot
 * number may change when the module is next loaded: SoftHSM2 derives slot
 * numbers from serials. Name tokens by label or URI, not by slot.)
 */
int cairn_p11_token_init(struct cairn_p11 *p11, int has_slot, CK_SLOT_ID slot,
    const char *label, const char *so_pin, const char *user_pin,
    struct cairn_p11_slot_info *info);

/*
 * cairn_p11_token_open: open the one token that matches the token, slot
 * and library attributes of `sel` (object attributes are ignored here).
 * Errors: CAIRN_E_P11_TOKEN_NOT_FOUND (listing the tokens present),
 * CAIRN_E_P11_TOKEN_AMBIGUOUS (listing the matches),
 * CAIRN_E_P11_TOKEN_STATE (not initialized, no user PIN).
 */
int cairn_p11_token_open(struct cairn_p11 *p11, const struct cairn_p11_uri *sel,
    struct cairn_p11_token **out);

/* cairn_p11_token_free: drop a reference.  NULL is fine. */
void cairn_p11_token_free(struct cairn_p11_token *tok);

/*
 * cairn_p11_token_login: log the user in with `pin`.  The PIN is kept in
 * locked memory for re-login after a device reset, and wiped on free.
 * Errors: CAIRN_E_P11_PIN_INCORRECT (with what the token reports about
 * remaining tries), CAIRN_E_P11_PIN_LOCKED, CAIRN_E_P11_DEVICE.
 */
int cairn_p11_token_login(struct cairn_p11_token *tok, const char *pin);

/* cairn_p11_token_needs_login: 1 when CKF_LOGIN_REQUIRED is set. */
int cairn_p11_token_needs_login(const struct cairn_p11_token *tok);

/* Borrowed views of the token. */
const char *cairn_p11_token_label(const struct cairn_p11_token *tok);
CK_SLOT_ID cairn_p11_token_slot(const struct cairn_p11_token *tok);
struct cairn_p11 *cairn_p11_token_module(const struct cairn_p11_token *tok);

/* ---- keys ----------------------------------------------------------- */

enum cairn_key_type {
	CAIRN_KEY_RSA_3072 = 1,
	CAIRN_KEY_RSA_4096,
	CAIRN_KEY_EC_P256,
	CAIRN_KEY_EC_P384,
};

/* "rsa-3072", "rsa-4096", "ec-p256", "ec-p384" <-> enum.  parse returns
 * CAIRN_E_INVAL with the accepted names in the detail. */
int cairn_key_type_parse(const char *s, enum cairn_key_type *out);
const char *cairn_key_type_name(enum cairn_key_type t);
/* "RSA 3072", "EC P-384", ... for people. */
const char *cairn_key_type_desc(enum cairn_key_type t);

struct cairn_p11_keygen {
	enum cairn_key_type type;
	const char *label;      /* CKA_LABEL of both halves; must be unique */
	int allow_decrypt;      /* RSA only: also CKA_DECRYPT (SCEP RA keys) */
	/* 1: the key may leave the token wrapped, and only under a key the
	 * security officer marked CKA_TRUSTED (CKA_EXTRACTABLE and
	 * CKA_WRAP_WITH_TRUSTED true): what key-backup needs.  It stays
	 * CKA_SENSITIVE: its value never leaves in plaintext. */
	int backup;
};

/*
 * cairn_p11_key_generate: make a key pair inside the token with
 * CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true, CKA_EXTRACTABLE false, the
 * label and a random 16-byte CKA_ID; then read the attributes back and
 * insist on CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE and CKA_LOCAL
 * (the pair is destroyed and CAIRN_E_P11_KEY_POLICY returned otherwise).
 * (With kg->backup: CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED true, and
 * CKA_NEVER_EXTRACTABLE is then not required.)
 * The token must be logged in.  Errors also: CAIRN_E_P11_KEY_EXISTS,
 * CAIRN_E_P11_MECHANISM.
 */
int cairn_p11_key_generate(struct cairn_p11_token *tok,
    const struct cairn_p11_keygen *kg, struct cairn_p11_key **out);

/* What a key's attributes say; -1 where the token did not answer. */
struct cairn_p11_key_attrs {
	int sensitive, extractable, always_sensitive, never_extractable;
	int local, token, private_, sign, decrypt;
	int wrap_with_trusted;
};

#define CAIRN_P11_KEY_INFO_LABEL_MAX (CAIRN_P11_OBJLABEL_MAX + 1)
struct cairn_p11_key_info {
	char label[CAIRN_P11_KEY_INFO_LABEL_MAX];
	uint8_t id[64];
	size_t id_len;
	enum cairn_key_type type;   /* 0 when not one Cairn makes */
	CK_KEY_TYPE ck_type;
	int bits;
	struct cairn_p11_key_attrs attrs;
	int has_public;             /* public key object or RSA modulus */
	char fingerprint[96];       /* SHA-256 SPKI, "" when unknown */
	char *uri;                  /* pkcs11:... (owned by the array) */
};

/*
 * cairn_p11_key_list: the private keys on the token, sorted by label then
 * CKA_ID (the token must be logged in to see private objects).  Free with cairn_p11_key_info_free().
 */
int cairn_p11_key_list(struct cairn_p11_token *tok,
    struct cairn_p11_key_info **out, size_t *n);
void cairn_p11_key_info_free(struct cairn_p11_key_info *list, size_t n);

/*
 * cairn_p11_key_find: the one private key matching the object, id and type
 * attributes of `uri`, which must be sensitive and either not extractable
 * or extractable only under a trusted key (CKA_WRAP_WITH_TRUSTED).
 * Errors: CAIRN_E_P11_KEY_NOT_FOUND (listing the keys on the token),
 * CAIRN_E_P11_KEY_AMBIGUOUS, CAIRN_E_P11_KEY_POLICY, CAIRN_E_URI_*.
 */
int cairn_p11_key_find(struct cairn_p11_token *tok,
    const struct cairn_p11_uri *uri, struct cairn_p11_key **out);

/* cairn_p11_key_free: drop a reference.  NULL is fine. */
void cairn_p11_key_free(struct cairn_p11_key *key);

/* cairn_p11_key_uri: the key's RFC 7512 URI (token, object, id, type);
 * new string (free()) or NULL. */
char *cairn_p11_key_uri(const struct cairn_p11_key *key);

/* Borrowed views. */
const char *cairn_p11_key_label(const struct cairn_p11_key *key);
enum cairn_key_type cairn_p11_key_type(const struct cairn_p11_key *key);
/* cairn_p11_key_get0_token: the token the key lives on (borrowed), to
 * make further keys beside it (the OCSP responder's signer). */
struct cairn_p11_token *cairn_p11_key_get0_token(
    const struct cairn_p11_key *key);
int cairn_p11_key_get_attrs(struct cairn_p11_key *key,
    struct cairn_p11_key_attrs *out);

/*
 * cairn_p11_key_get0_public: the public half as an ordinary software
 * EVP_PKEY (borrowed; lives as long as the key).  Use it to verify and to
 * put into certificates.
 */
EVP_PKEY *cairn_p11_key_get0_public(const struct cairn_p11_key *key);

/*
 * cairn_p11_key_get1_pkey: an EVP_PKEY whose private operations run in
 * the token: RSA PKCS#1 v1.5 (CKM_RSA_PKCS), RSA-PSS (padding done by
 * OpenSSL, CKM_RSA_X_509 in the token), RSA decryption, and ECDSA
 * (CKM_ECDSA).  Works with EVP_DigestSign, X509_sign, X509_REQ_sign,
 * X509_CRL_sign, OCSP_basic_sign, CMS.  Free with EVP_PKEY_free(); NULL on
 * failure (detail set).
 */
EVP_PKEY *cairn_p11_key_get1_pkey(struct cairn_p11_key *key);

/*
 * cairn_p11_key_sign: sign `inlen` bytes with `mech` directly (no OpenSSL
 * in between): what the EVP_PKEY methods call.  *siglen is the buffer size
 * in, the signature size out.  Retries once after a session or device
 * failure.
 */
int cairn_p11_key_sign(struct cairn_p11_key *key, CK_MECHANISM_TYPE mech,
    const uint8_t *in, size_t inlen, uint8_t *sig, size_t *siglen);

/* cairn_p11_key_decrypt: the same for C_Decrypt (RSA only). */
int cairn_p11_key_decrypt(struct cairn_p11_key *key, CK_MECHANISM_TYPE mech,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen);

/*
 * cairn_p11_key_wrap_trusted: wrap `key` (made with kg->backup) with AES
 * key wrap with padding (RFC 5649, CKM_AES_KEY_WRAP_PAD) under `kek` (16,
 * 24 or 32 bytes).  PKCS#11 lets only a key marked CKA_TRUSTED wrap a key
 * marked CKA_WRAP_WITH_TRUSTED, and only the security officer may mark
 * it: so the user is logged out, the SO logged in with `so_pin` to make
 * `kek` a trusted session key, then logged out, and the user logged in
 * again with the PIN kept from cairn_p11_token_login().  The session key
 * is destroyed before this returns.  *blob is a new buffer (free()).
 */
int cairn_p11_key_wrap_trusted(struct cairn_p11_key *key, const uint8_t *kek,
    size_t keklen, const char *so_pin, uint8_t **blob, size_t *bloblen);

/*
 * cairn_p11_key_unwrap: unwrap `blob` (from cairn_p11_key_wrap_trusted)
 * under `kek` into `tok` as a private key labelled `label` with CKA_ID
 * `id` (sensitive; extractable only under a trusted key, so it can be
 * backed up again), create its public key object from `pub`, and check
 * the pair by signing a test value with the token and verifying it with
 * `pub`.  On any failure nothing is left on the token.
 */
int cairn_p11_key_unwrap(struct cairn_p11_token *tok, const uint8_t *kek,
    size_t keklen, const uint8_t *blob, size_t bloblen, const char *label,
    const uint8_t *id, size_t idlen, EVP_PKEY *pub,
    struct cairn_p11_key **out);

/* cairn_p11_key_token: the token the key lives on (borrowed; lives as
 * long as the key), e.g. to generate or find further keys beside it (the
 * SCEP RA keys live on the CA's token). */
struct cairn_p11_token *cairn_p11_key_token(const struct cairn_p11_key *key);

/* cairn_p11_key_id: the key's CKA_ID (borrowed), *len its length. */
const uint8_t *cairn_p11_key_id(const struct cairn_p11_key *key, size_t *len);

/* cairn_p11_key_destroy: delete both halves from the token.  Ceremony and
 * test use only. */
int cairn_p11_key_destroy(struct cairn_p11_key *key);

/* ---- PIN sources ---------------------------------------------------- */

struct cairn_pin_opts {
	const char *pin_file;   /* --pin-file FILE, highest precedence */
	const char *env_name;   /* e.g. "CAIRN_PIN"; NULL: not consulted */
	const char *prompt;     /* shown on /dev/tty; NULL: never prompt */
};

/*
 * cairn_pin_get: find the PIN, in this order: opts->pin_file, the URI's
 * pin-source (file:/path or an absolute path), the environment variable,
 * a no-echo prompt on the controlling terminal.  One trailing newline of a
 * file is dropped.  *pin is a new string to free with cairn_free_secret().
 * Errors: CAIRN_E_P11_NO_PIN (naming the three ways), CAIRN_E_IO.
 */
int cairn_pin_get(const struct cairn_pin_opts *opts, const char *pin_source,
    char **pin);

/* ---- names for messages --------------------------------------------- */

/* "CKR_PIN_INCORRECT" etc.; "CKR_0x..." for unknown codes (static buffer
 * per thread). */
const char *cairn_ckr_name(CK_RV rv);
/* "CKM_ECDSA" etc. */
const char *cairn_ckm_name(CK_MECHANISM_TYPE m);

/* ---- SoftHSM2, the embedded default HSM ------------------------------ */

/*
 * cairn_softhsm_use_dir: make `dir` the home of SoftHSM2 tokens for this
 * process: create dir/tokens (0700) and dir/softhsm2.conf when missing and
 * set SOFTHSM2_CONF to it.  Call before cairn_p11_load().
 */
int cairn_softhsm_use_dir(const char *dir);

/* ---- choosing module, token and key from a command line ------------- */

/*
 * What an operator names on a command line.  Precedence for the module:
 * `module`, then the URI's module-path, then CAIRN_PKCS11_MODULE, then
 * the SoftHSM2 default.  For SoftHSM2, `data_dir` (or CAIRN_DATA) keeps
 * the tokens in that directory; without it SOFTHSM2_CONF is honoured.
 */
struct cairn_hsm_opts {
	const char *module;     /* --module PATH */
	const char *data_dir;   /* --data DIR */
	const char *pin_file;   /* --pin-file FILE */
	const char *token;      /* --token LABEL or pkcs11: URI */
	const char *key;        /* --key pkcs11: URI */
};

/*
 * cairn_hsm_opt: store a getopt_long result that is one of lib/cli.h's
 * CAIRN_OPT_MODULE .. CAIRN_OPT_KEY into `o`.  Returns 1 when it was one.
 */
int cairn_hsm_opt(struct cairn_hsm_opts *o, int opt, const char *arg);

/*
 * cairn_hsm_getopt: parse the command line of a command that takes only
 * the options in `opts` that cairn_hsm_opt() knows (and --help).  Returns
 * -1 when the command should go on, else the exit status to return: help
 * printed, or a usage error reported.
 */
struct cairn_cmd;
struct option;
int cairn_hsm_getopt(const struct cairn_cmd *cmd, int argc, char **argv,
    const struct option *opts, struct cairn_hsm_opts *o);

/* cairn_hsm_load: load the module the options (and `uri`, may be NULL)
 * name, after pointing SoftHSM2 at the data directory. */
int cairn_hsm_load(const struct cairn_hsm_opts *o, const struct cairn_p11_uri *uri,
    struct cairn_p11 **out);

/*
 * cairn_hsm_open_token: load the module and open the token named by
 * --token (a label or a URI) or, without it, by the token attributes of
 * --key; with neither, the only initialized token.  When `login` is 1,
 * log in with the PIN from --pin-file, the URI's pin-source, CAIRN_PIN or
 * a prompt.
 */
int cairn_hsm_open_token(const struct cairn_hsm_opts *o, int login,
    struct cairn_p11_token **out);

/* cairn_hsm_open_key: open the token and log in as above, then find the
 * private key named by --key. */
int cairn_hsm_open_key(const struct cairn_hsm_opts *o,
    struct cairn_p11_key **out);

#endif /* CAIRN_P11_H */
