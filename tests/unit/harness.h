/*
 * harness.h: what the unit tests share: a fresh SoftHSM2 token in a
 * temporary directory, and an independent signature check.
 */
#ifndef CAIRN_TEST_HARNESS_H
#define CAIRN_TEST_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define TH_PIN "1234"
#define TH_SO_PIN "5678"

struct th_token {
	char dir[PATH_MAX];     /* temporary directory holding the tokens */
	char conf[PATH_MAX + 32]; /* its softhsm2.conf (SOFTHSM2_CONF) */
	char label[33];
};

/*
 * th_token_create: make a temporary directory, point SOFTHSM2_CONF at a
 * config whose token directory is inside it, and initialize a token
 * labelled `label` with TH_PIN / TH_SO_PIN using softhsm2-util (the
 * token's own tool, not Cairn's code).  Must run before the module is
 * loaded in this process.  Returns 0 or -1 (with a message on stderr).
 */
int th_token_create(struct th_token *t, const char *label);

/* th_token_add: initialize one more token in the same directory. */
int th_token_add(struct th_token *t, const char *label);

/* th_token_destroy: remove the directory. */
void th_token_destroy(struct th_token *t);

/* th_module: the SoftHSM2 module path configure found. */
const char *th_module(void);

/*
 * th_verify: verify `sig` over `msg` with `pub` and `md` using OpenSSL
 * alone (no Cairn code), with RSA-PSS padding when `pss`.  1 = valid.
 */
int th_verify(EVP_PKEY *pub, const EVP_MD *md, int pss, const uint8_t *msg,
    size_t msglen, const uint8_t *sig, size_t siglen);

struct cairn_p11;
struct cairn_p11_token;

/*
 * th_open: load `module`, open the token labelled `label` and log in with
 * TH_PIN.  Returns 0, or -1 with Cairn's message on stderr.
 */
int th_open(const char *module, const char *label, struct cairn_p11 **p11,
    struct cairn_p11_token **tok);

/* th_run: run a shell command, return its exit status (-1 on failure). */
int th_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CAIRN_TEST_HARNESS_H */
