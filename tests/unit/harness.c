/*
 * harness.c: temporary SoftHSM2 tokens and independent checks for tests.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/rsa.h>

#include "lib/error.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

const char *
th_module(void)
{
	const char *m = getenv("SOFTHSM_MODULE");

	return m != NULL && m[0] != '\0' ? m : CAIRN_DEFAULT_MODULE;
}

int
th_run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
th_token_add(struct th_token *t, const char *label)
{
	snprintf(t->label, sizeof(t->label), "%s", label);
	if (th_run("softhsm2-util --init-token --free --label '%s' "
	    "--pin " TH_PIN " --so-pin " TH_SO_PIN " >/dev/null", label) != 0) {
		fprintf(stderr, "# softhsm2-util --init-token failed\n");
		return -1;
	}
	return 0;
}

int
th_token_create(struct th_token *t, const char *label)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/cairn-test-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(t->dir) == NULL) {
		perror("# mkdtemp");
		return -1;
	}
	snprintf(t->conf, sizeof(t->conf), "%s/softhsm2.conf", t->dir);
	if (th_run("mkdir -p '%s/tokens'", t->dir) != 0 ||
	    (f = fopen(t->conf, "w")) == NULL) {
		fprintf(stderr, "# cannot write %s\n", t->conf);
		return -1;
	}
	fprintf(f, "directories.tokendir = %s/tokens\n"
		   "objectstore.backend = file\nlog.level = ERROR\n"
		   "slots.removable = false\n", t->dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", t->conf, 1);
	unsetenv("CAIRN_DATA");
	unsetenv("CAIRN_PKCS11_MODULE");
	return th_token_add(t, label);
}

void
th_token_destroy(struct th_token *t)
{
	if (t->dir[0] != '\0' && strstr(t->dir, "cairn-test-") != NULL)
		th_run("rm -rf '%s'", t->dir);
	t->dir[0] = '\0';
}

int
th_verify(EVP_PKEY *pub, const EVP_MD *md, int pss, const uint8_t *msg,
    size_t msglen, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (ctx == NULL)
		return 0;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) == 1 &&
	    (!pss ||
		(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
			RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int
th_open(const char *module, const char *label, struct cairn_p11 **p11,
    struct cairn_p11_token **tok)
{
	struct cairn_p11_uri *sel = cairn_p11_uri_new();
	int r = -1;

	*p11 = NULL;
	*tok = NULL;
	if (sel == NULL || (sel->token = strdup(label)) == NULL)
		goto out;
	if ((r = cairn_p11_load(module, p11)) != 0 ||
	    (r = cairn_p11_token_open(*p11, sel, tok)) != 0 ||
	    (r = cairn_p11_token_login(*tok, TH_PIN)) != 0) {
		fprintf(stderr, "# %s\n", cairn_errmsg(r));
		r = -1;
	}
out:
	cairn_p11_uri_free(sel);
	return r;
}
