/*
 * ceremony.h: ceremony scripts and the runner that carries them out.
 *
 * A ceremony is loaded and validated completely (ceremony_load) before
 * anything touches the HSM.  The runner then walks its steps: each step
 * says what it is about to do and what the witnesses must check, waits for
 * the operator (unless --batch), and is recorded in the ceremony log.
 * Outputs go to a staging directory inside the media directory and are
 * moved into the media only when the whole ceremony succeeded; then the
 * log gets a checkpoint signed by the CA key, a copy of the log and a
 * Markdown transcript join the outputs, and the media is sealed.  On any
 * failure the staging directory is removed (the media is as it was) and
 * the abort is recorded in the log.
 */
#ifndef CAIRN_CEREMONY_H
#define CAIRN_CEREMONY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/audit.h"
#include "lib/cfg.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "pkcs11/p11.h"

struct ceremony;
struct runner;

enum { KEY_NEW = 0, KEY_EXISTS = 1, KEY_RESTORED = 2 };

struct ceremony_def {
	const char *name;            /* "root-init" */
	const char *summary;         /* for --help and the transcript */
	/* Keys of the script this ceremony accepts besides the common ones
	 * (ceremony, operator, witnesses, token, key). */
	const char *const *keys;
	/* KEY_NEW: generated (label and type); KEY_EXISTS: looked up by
	 * label; KEY_RESTORED: made from a backup (label only). */
	int key_exists;
	/* Check the ceremony's own part of the script and read its inputs;
	 * record every problem in `chk`.  Never touches the HSM. */
	void (*validate)(struct ceremony *c, struct cfg_check *chk,
	    const struct cfg_node *root);
	/* Carry the ceremony out. */
	int (*run)(struct runner *r);
	void (*free)(void *priv);
};

struct ceremony {
	const struct ceremony_def *def;
	char *path;                  /* the script */
	char *dir;                   /* its directory: base of relative inputs */
	char sha256[65];             /* of the script's bytes, hex */
	char *operator;
	char **witnesses;            /* NULL-terminated */
	char *token;                 /* label or pkcs11: URI */
	char *module;                /* or NULL */
	char *key_label;
	enum cairn_key_type key_type; /* when key_exists is KEY_NEW */
	int key_backup;              /* KEY_NEW: made so it can be backed up */
	void *priv;                  /* the ceremony's own data */
};

/* The ceremonies (root-ca/cer_*.c). */
extern const struct ceremony_def cer_root_init;
extern const struct ceremony_def cer_sign_subordinate;
extern const struct ceremony_def cer_issue_crl;
extern const struct ceremony_def cer_sign_ocsp;
extern const struct ceremony_def cer_key_backup;
extern const struct ceremony_def cer_key_restore;

/*
 * ceremony_load: read and validate the script at `path`.  Every problem
 * goes into `errs` as "file:line: message"; with any problem the return
 * is CAIRN_E_CONFIG and *out is NULL.
 */
int ceremony_load(const char *path, struct ceremony **out,
    struct cfg_errors *errs);
void ceremony_free(struct ceremony *c);

/*
 * Helpers for validators.  Paths in a script are relative to the script's
 * directory.  Each records problems in `chk` at the node of `key`.
 */
char *ceremony_path(const struct ceremony *c, const char *name);
X509 *ceremony_read_cert(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, const char *key);
X509_REQ *ceremony_read_csr(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, const char *key);
/* Fill `p` from a "certificate:" mapping: subject (unless optional and
 * absent), not_before, not_after or validity, path_length, policies,
 * eku, URLs, name constraints, digest.  `allowed` lists the keys this
 * ceremony accepts in the mapping. */
void ceremony_profile(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, struct profile *p, int subject_required,
    const char *const *allowed);
/*
 * ceremony_until: an end time given either as `end_key` (a time) or as
 * "validity" (a duration after `start`), not both, and after `start`
 * (named `start_key` in messages).  Returns it, or -1 (problem recorded,
 * or `start` unknown).
 */
long long ceremony_until(struct cfg_check *chk, const struct cfg_node *map,
    long long start, const char *start_key, const char *end_key);
/* ceremony_digest: the optional "digest" (sha256, sha384, sha512); NULL
 * when absent: the default follows the key (profile_default_md). */
const EVP_MD *ceremony_digest(struct cfg_check *chk,
    const struct cfg_node *map);
/* ceremony_outputs: the optional "outputs" mapping of `root`, holding only
 * `allowed` keys; NULL when absent or not a mapping (reported). */
const struct cfg_node *ceremony_outputs(struct cfg_check *chk,
    const struct cfg_node *root, const char *const *allowed);
/* An output file name: plain (see lib/media.h), default `dflt`. */
const char *ceremony_output(struct cfg_check *chk, const struct cfg_node *map,
    const char *key, const char *dflt);

struct runner {
	struct ceremony *c;
	const char *media;
	char staging[PATH_MAX];
	int batch;
	int step;
	char id[33];                 /* this ceremony's random id, hex */
	struct audit_log *log;
	const char *log_path;
	const char *so_pin_file;     /* --so-pin-file */
	struct cairn_hsm_opts hsm;
	struct cairn_p11_token *tok;
	struct cairn_p11_key *key;
	EVP_PKEY *pkey;              /* the token key, for signing */
	EVP_PKEY *pub;               /* its public half (borrowed from key) */
	X509 *signer_cert;           /* the CA certificate that seals media */
	json_t *inputs, *outputs;    /* name -> sha256 hex */
	char *transcript;            /* Markdown, grown as steps go */
	size_t transcript_len;
};

/*
 * runner_step: begin step N: print its title and what the witnesses must
 * check, add both to the transcript, and unless --batch wait for the
 * operator to type "yes" (anything else: CAIRN_E_ABORTED).
 */
int runner_step(struct runner *r, const char *title, const char *check,
    ...) __attribute__((format(printf, 3, 4)));
/* runner_transcript: add Markdown text to the transcript only. */
void runner_transcript(struct runner *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* runner_fact: print "  label: value" and add it to the transcript. */
void runner_fact(struct runner *r, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* runner_log: append a record {ceremony, id, event, step, ...fields};
 * takes the reference to `fields` (NULL: no fields), so a json_pack()
 * can be passed straight in. */
int runner_log(struct runner *r, const char *event, json_t *fields);
/* runner_output: write `name` into the staging directory (never over an
 * existing file in the media) and record its SHA-256. */
int runner_output(struct runner *r, const char *name, const void *data,
    size_t len);
/* runner_input: record the SHA-256 of an input file the step reads. */
int runner_input(struct runner *r, const char *path);
/* runner_open_key: open the token (logging in) and, when the ceremony's
 * key exists, find it; sets r->tok, r->key, r->pkey, r->pub. */
int runner_open_key(struct runner *r);
/* runner_open_issuer_key: the step "Open the root key": open the token
 * and the key, which must be the key of `issuer` (read from
 * `issuer_path`); `issuer` then seals the media. */
int runner_open_issuer_key(struct runner *r, X509 *issuer,
    const char *issuer_path);
/* runner_adopt_key: the ceremony made `key`: keep it as r->key. */
int runner_adopt_key(struct runner *r, struct cairn_p11_key *key);

/* Certificates and CRLs as files: PEM or DER bytes, new buffers. */
int runner_cert_pem(X509 *x, char **out, size_t *len);
int runner_cert_der(X509 *x, unsigned char **out, size_t *len);
/* An ASN1_TIME as "2026-12-01T00:00:00Z" in `out`; returns out. */
const char *runner_time(const ASN1_TIME *t, char out[32]);
/* "AB:CD:..." SHA-256 of a certificate's DER. */
int runner_cert_fpr(X509 *x, char out[CAIRN_FPR_STRLEN]);

#endif /* CAIRN_CEREMONY_H */
