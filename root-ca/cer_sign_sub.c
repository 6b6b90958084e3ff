/*
 * cer_sign_sub.c: the sign-subordinate ceremony: a subordinate CA's
 * request, brought on its own media, becomes a subordinate CA certificate
 * signed by the root key.  The request contributes its public key (and,
 * unless the script names one, its subject); everything else comes from
 * the script's profile.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/lint.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

struct sign_sub {
	struct profile *profile;
	X509 *issuer;
	X509_REQ *req;
	char *issuer_path, *req_path;
	char *out_name;
};

static const char *const keys[] = { "issuer", "request", "certificate",
	"outputs", NULL };
static const char *const cert_keys[] = { "subject", "not_before",
	"not_after", "validity", "path_length", "key_usage",
	"extended_key_usage", "policies", "crl_urls", "ocsp_urls",
	"ca_issuers_urls", "name_constraints", "digest", NULL };

static void
ss_free(void *priv)
{
	struct sign_sub *ss = priv;

	if (ss == NULL)
		return;
	profile_free(ss->profile);
	X509_free(ss->issuer);
	X509_REQ_free(ss->req);
	free(ss->issuer_path);
	free(ss->req_path);
	free(ss->out_name);
	free(ss);
}

static void
ss_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct sign_sub *ss = calloc(1, sizeof(*ss));
	const struct cfg_node *cert, *out;
	const char *s;
	unsigned ku;
	int ica = 0;
	long ipl = -1;

	c->priv = ss;
	if (ss == NULL || (ss->profile = profile_new()) == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	ss->issuer = ceremony_read_cert(c, chk, root, "issuer");
	ss->req = ceremony_read_csr(c, chk, root, "request");
	if ((s = cfg_scalar(cfg_get(root, "issuer"))) != NULL)
		ss->issuer_path = ceremony_path(c, s);
	if ((s = cfg_scalar(cfg_get(root, "request"))) != NULL)
		ss->req_path = ceremony_path(c, s);

	ss->profile->ca = 1;
	ss->profile->path_len = 0;  /* a subordinate issues only leaves */
	ss->profile->key_usage = PROFILE_KU_KEY_CERT_SIGN |
	    PROFILE_KU_CRL_SIGN | PROFILE_KU_DIGITAL_SIGNATURE;
	if ((cert = cfg_want_map(chk, root, "certificate", 1)) != NULL)
		ceremony_profile(c, chk, cert, ss->profile, 0, cert_keys);
	ku = ss->profile->key_usage;
	if ((ku & (PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN)) !=
	    (PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN) ||
	    (ku & ~(PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN |
		PROFILE_KU_DIGITAL_SIGNATURE)))
		cfg_fail(chk, cert ? cfg_get(cert, "key_usage") : root,
		    "key_usage: a subordinate CA's key usage is keyCertSign "
		    "and cRLSign (and digitalSignature), nothing else");
	if (cert != NULL && profile_strv_len(ss->profile->crl_urls) == 0)
		cfg_fail(chk, cert, "crl_urls: a subordinate CA certificate "
		    "needs at least one CRL distribution point (BR 7.1.2.2)");

	/* What can be known now about the issuer and the request. */
	if (ss->issuer != NULL) {
		BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(ss->issuer,
		    NID_basic_constraints, NULL, NULL);
		ica = bc != NULL && bc->ca;
		if (bc != NULL && bc->pathlen != NULL)
			ipl = ASN1_INTEGER_get(bc->pathlen);
		BASIC_CONSTRAINTS_free(bc);
		if (!ica)
			cfg_fail(chk, cfg_get(root, "issuer"), "issuer: this "
			    "certificate is not a CA");
		else if (ipl == 0)
			cfg_fail(chk, cfg_get(root, "issuer"), "issuer: its "
			    "pathLenConstraint is 0, it may not sign a CA");
		else if (ipl > 0 && ss->profile->path_len >= ipl)
			cfg_fail(chk, cert ? cfg_get(cert, "path_length") :
			    root, "path_length: %d must be less than the "
			    "issuer's %ld", ss->profile->path_len, ipl);
		if (ss->profile->not_before > 0 &&
		    ASN1_TIME_cmp_time_t(X509_get0_notBefore(ss->issuer),
			(time_t)ss->profile->not_before) > 0)
			cfg_fail(chk, cert, "not_before: before the issuer's "
			    "notBefore");
		if (ss->profile->not_after > 0 &&
		    ASN1_TIME_cmp_time_t(X509_get0_notAfter(ss->issuer),
			(time_t)ss->profile->not_after) < 0) {
			char t[32];
			cfg_fail(chk, cert, "validity: the certificate would "
			    "outlive its issuer (issuer's notAfter is %s)",
			    runner_time(X509_get0_notAfter(ss->issuer), t));
		}
	}
	if (ss->req != NULL && ss->profile->subject == NULL &&
	    (ss->profile->subject = X509_NAME_dup(
		X509_REQ_get_subject_name(ss->req))) != NULL &&
	    X509_NAME_entry_count(ss->profile->subject) == 0)
		cfg_fail(chk, cfg_get(root, "request"), "request: its subject "
		    "is empty; name one in certificate: subject:");

	{
		static const char *const ok[] = { "certificate", NULL };
		out = ceremony_outputs(chk, root, ok);
	}
	if ((s = ceremony_output(chk, out, "certificate", "sub-ca.pem")) !=
	    NULL)
		ss->out_name = strdup(s);
}

static int
ss_run(struct runner *r)
{
	struct sign_sub *ss = r->c->priv;
	EVP_PKEY *sub_pub = X509_REQ_get0_pubkey(ss->req);
	const EVP_MD *md;
	char fpr[CAIRN_FPR_STRLEN], subj[512], *pem = NULL;
	size_t pemlen = 0;
	X509 *x = NULL;
	int rc;

	X509_NAME_oneline(X509_REQ_get_subject_name(ss->req), subj,
	    sizeof(subj));
	if ((rc = runner_step(r, "Check the subordinate CA's request",
	    "the public key fingerprint below equals the one the subordinate "
	    "CA's operator read out when the request was made")) != 0 ||
	    (rc = runner_input(r, ss->req_path)) != 0 ||
	    (rc = runner_input(r, ss->issuer_path)) != 0 ||
	    (rc = cairn_fingerprint_str(sub_pub, fpr)) != 0)
		goto out;
	runner_fact(r, "request subject", "%s", subj);
	runner_fact(r, "request key SHA-256", "%s", fpr);

	if ((rc = runner_open_issuer_key(r, ss->issuer, ss->issuer_path)) !=
	    0)
		goto out;

	if ((rc = runner_step(r, "Sign the subordinate CA certificate",
	    "subject, validity and constraints printed are those of the "
	    "script")) != 0)
		goto out;
	md = ss->profile->md != NULL ? ss->profile->md :
	    profile_default_md(r->pub);
	if ((rc = profile_build(ss->profile, sub_pub, ss->issuer,
	    NULL, &x)) != 0 ||
	    (rc = lint_cert(x, ss->issuer, r->pub, LINT_SUBCA)) != 0 ||
	    (rc = lint_sign_cert(x, r->pkey, r->pub, md)) != 0 ||
	    (rc = lint_cert(x, ss->issuer, r->pub, LINT_SUBCA)) != 0)
		goto out;
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	runner_fact(r, "subject", "%s", subj);
	{
		char tb[32], ta[32];
		runner_fact(r, "valid", "%s to %s",
		    runner_time(X509_get0_notBefore(x), tb),
		    runner_time(X509_get0_notAfter(x), ta));
	}
	runner_fact(r, "path length", "%d", ss->profile->path_len);
	if ((rc = runner_cert_fpr(x, fpr)) != 0)
		goto out;

	if ((rc = runner_step(r, "Write the subordinate CA certificate",
	    "read its SHA-256 fingerprint aloud and write it down")) != 0 ||
	    (rc = runner_cert_pem(x, &pem, &pemlen)) != 0 ||
	    (rc = runner_output(r, ss->out_name, pem, pemlen)) != 0)
		goto out;
	runner_fact(r, "certificate SHA-256", "%s", fpr);
	rc = runner_log(r, "step", json_pack("{s:s,s:s,s:s}", "action",
	    "sign-subordinate", "subject", subj, "certificate_sha256", fpr));
out:
	X509_free(x);
	free(pem);
	return rc;
}

const struct ceremony_def cer_sign_subordinate = {
	.name = "sign-subordinate",
	.summary = "sign a subordinate CA certificate with the root key, from "
		   "the subordinate's request",
	.keys = keys,
	.key_exists = KEY_EXISTS,
	.validate = ss_validate,
	.run = ss_run,
	.free = ss_free,
};
