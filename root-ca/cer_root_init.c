/*
 * cer_root_init.c: the root-init ceremony: the root key is generated in
 * the token and the self-signed root certificate made from the script's
 * profile.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/lint.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

struct root_init {
	struct profile *profile;
	const char *pem, *der;     /* output names (point into static or doc) */
	char *pem_name, *der_name;
};

static const char *const keys[] = { "certificate", "outputs", NULL };
static const char *const cert_keys[] = { "subject", "not_before",
	"not_after", "validity", "path_length", "key_usage", "policies",
	"digest", NULL };

static void
ri_free(void *priv)
{
	struct root_init *ri = priv;

	if (ri == NULL)
		return;
	profile_free(ri->profile);
	free(ri->pem_name);
	free(ri->der_name);
	free(ri);
}

static void
ri_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct root_init *ri = calloc(1, sizeof(*ri));
	const struct cfg_node *cert, *out;
	const char *s;

	c->priv = ri;
	if (ri == NULL || (ri->profile = profile_new()) == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	if ((cert = cfg_want_map(chk, root, "certificate", 1)) != NULL)
		ceremony_profile(c, chk, cert, ri->profile, 1, cert_keys);
	ri->profile->ca = 1;
	/* A root signs certificates and CRLs; digitalSignature (to sign OCSP
	 * responses itself) is the only addition the role allows. */
	if (cert != NULL && cfg_get(cert, "key_usage") != NULL) {
		unsigned ku = ri->profile->key_usage;
		if ((ku & (PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN)) !=
		    (PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN) ||
		    (ku & ~(PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN |
			PROFILE_KU_DIGITAL_SIGNATURE)))
			cfg_fail(chk, cfg_get(cert, "key_usage"), "key_usage: "
			    "a root CA's key usage is keyCertSign and cRLSign "
			    "(and optionally digitalSignature), nothing else");
	} else {
		ri->profile->key_usage = PROFILE_KU_KEY_CERT_SIGN |
		    PROFILE_KU_CRL_SIGN;
	}
	if (ri->profile->not_before > 0 && ri->profile->not_after > 0 &&
	    ri->profile->not_after - ri->profile->not_before >
		(long long)LINT_ROOT_MAX_YEARS * 365 * 86400 + 6 * 86400)
		cfg_fail(chk, cert, "a root may be valid for at most %d years "
		    "(BR 6.3.2)", LINT_ROOT_MAX_YEARS);
	{
		static const char *const ok[] = { "certificate", "der", NULL };
		out = ceremony_outputs(chk, root, ok);
	}
	if ((s = ceremony_output(chk, out, "certificate", "root.pem")) != NULL)
		ri->pem_name = strdup(s);
	if ((s = ceremony_output(chk, out, "der", "root.der")) != NULL)
		ri->der_name = strdup(s);
	if (ri->pem_name != NULL && ri->der_name != NULL &&
	    strcmp(ri->pem_name, ri->der_name) == 0)
		cfg_fail(chk, out, "outputs: certificate and der must differ");
}

static int
ri_run(struct runner *r)
{
	struct root_init *ri = r->c->priv;
	struct cairn_p11_keygen kg = { r->c->key_type, r->c->key_label, 0,
		r->c->key_backup };
	struct cairn_p11_key *key = NULL;
	const EVP_MD *md;
	char fpr[CAIRN_FPR_STRLEN], *pem = NULL, *uri = NULL;
	unsigned char *der = NULL;
	size_t pemlen = 0, derlen = 0;
	X509 *x = NULL;
	int rc;

	if ((rc = runner_step(r, "Open the token", "the token named is the "
	    "one on the table (label %s)", r->c->token)) != 0 ||
	    (rc = runner_open_key(r)) != 0)
		goto out;

	if ((rc = runner_step(r, "Generate the root key inside the token",
	    "the key type (%s) and label (%s) are those of the script%s; then "
	    "read the public key fingerprint aloud and write it down",
	    cairn_key_type_desc(r->c->key_type), r->c->key_label,
	    r->c->key_backup ? ", and the key may be backed up (wrapped "
	    "under a key the security officer trusts, never in plaintext)" :
	    "")) != 0)
		goto out;
	if ((rc = cairn_p11_key_generate(r->tok, &kg, &key)) != 0 ||
	    (rc = runner_adopt_key(r, key)) != 0)
		goto out;
	key = NULL; /* transferred to r */
	if ((rc = cairn_fingerprint_str(r->pub, fpr)) != 0)
		goto out;
	if ((uri = cairn_p11_key_uri(r->key)) == NULL) {
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	runner_fact(r, "key URI", "%s", uri);
	runner_fact(r, "public key SHA-256", "%s", fpr);
	if ((rc = runner_log(r, "step", json_pack("{s:s,s:s,s:s,s:s}",
	    "action", "generate-key", "key_uri", uri, "key_type",
	    cairn_key_type_name(r->c->key_type), "public_key_sha256",
	    fpr))) != 0)
		goto out;

	if ((rc = runner_step(r, "Sign the root certificate",
	    "the subject and validity printed are those of the script")) != 0)
		goto out;
	md = ri->profile->md != NULL ? ri->profile->md :
	    profile_default_md(r->pub);
	if ((rc = profile_build(ri->profile, r->pub, NULL, NULL,
	    &x)) != 0 ||
	    (rc = lint_cert(x, NULL, NULL, LINT_ROOT)) != 0 ||
	    (rc = lint_sign_cert(x, r->pkey, r->pub, md)) != 0 ||
	    (rc = lint_cert(x, NULL, NULL, LINT_ROOT)) != 0)
		goto out;
	{
		char subj[512];
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
		runner_fact(r, "subject", "%s", subj);
	}
	{
		char tb[32], ta[32];
		runner_fact(r, "valid", "%s to %s",
		    runner_time(X509_get0_notBefore(x), tb),
		    runner_time(X509_get0_notAfter(x), ta));
	}
	if ((rc = runner_cert_fpr(x, fpr)) != 0)
		goto out;

	if ((rc = runner_step(r, "Write the root certificate", "read the "
	    "certificate's SHA-256 fingerprint aloud and write it down: "
	    "every relying party will pin it")) != 0)
		goto out;
	if ((rc = runner_cert_pem(x, &pem, &pemlen)) != 0 ||
	    (rc = runner_cert_der(x, &der, &derlen)) != 0 ||
	    (rc = runner_output(r, ri->pem_name, pem, pemlen)) != 0 ||
	    (rc = runner_output(r, ri->der_name, der, derlen)) != 0)
		goto out;
	runner_fact(r, "certificate SHA-256", "%s", fpr);
	if ((rc = runner_log(r, "step", json_pack("{s:s,s:s}", "action",
	    "sign-root-certificate", "certificate_sha256", fpr))) != 0)
		goto out;
	r->signer_cert = x; /* transferred */
	x = NULL;
out:
	/* A root key without its certificate is a half-done ceremony: the
	 * key made in step 2 is destroyed, and the log says so. */
	if (rc != 0 && r->key != NULL) {
		char msg[CAIRN_ERRMSG_MAX];
		int d;

		snprintf(msg, sizeof(msg), "%s", cairn_errmsg(rc));
		d = cairn_p11_key_destroy(r->key);
		runner_fact(r, "key destroyed", "%s", d == 0 ? "yes: the "
		    "ceremony did not finish, the new key is gone" :
		    "NO: remove it by hand before retrying");
		(void)runner_log(r, "step", json_pack("{s:s,s:b}", "action",
		    "destroy-unfinished-key", "destroyed", d == 0));
		EVP_PKEY_free(r->pkey);
		r->pkey = NULL;   /* it can no longer sign the abort */
		cairn_error(rc, "%s", msg);
	}
	cairn_p11_key_free(key);
	X509_free(x);
	free(pem);
	OPENSSL_free(der);
	free(uri);
	return rc;
}

const struct ceremony_def cer_root_init = {
	.name = "root-init",
	.summary = "generate the root key in the HSM and self-sign the root "
		   "CA certificate",
	.keys = keys,
	.key_exists = KEY_NEW,
	.validate = ri_validate,
	.run = ri_run,
	.free = ri_free,
};
