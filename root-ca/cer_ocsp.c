/*
 * cer_ocsp.c: the sign-ocsp ceremony: pre-signed OCSP responses (RFC
 * 6960) from the root, one per subordinate CA certificate, for the online
 * responder to serve while the root stays offline (Boulder's ceremony
 * tool does the same).
 *
 * Each response: status successful, one SingleResponse for the
 * certificate with a SHA-1 CertID (RFC 5019 2.1.1: what every client
 * sends), good, or revoked with time and reason when the script's CRL
 * lists the serial; thisUpdate and nextUpdate from the script; ResponderID
 * by key; signed by the root key itself; no certificates included (the
 * root is the trust anchor); no nonce (pre-signed responses cannot echo
 * one, RFC 5019 allows that).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/ocsp.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

/* BR 4.9.10: responses for subordinate CA certificates are updated at
 * least every 12 months. */
#define OCSP_ROOT_MAX_DAYS 366

struct sign_ocsp {
	X509 *issuer;
	char *issuer_path;
	X509 **certs;
	char **cert_paths;
	size_t ncerts;
	X509_CRL *crl;
	char *crl_path;
	long long this_update, next_update;
	const EVP_MD *md;
	char *prefix;
};

static const char *const keys[] = { "issuer", "certificates", "crl",
	"responses", "outputs", NULL };
static const char *const resp_keys[] = { "this_update", "next_update",
	"validity", "digest", NULL };

static void
so_free(void *priv)
{
	struct sign_ocsp *so = priv;
	size_t i;

	if (so == NULL)
		return;
	X509_free(so->issuer);
	for (i = 0; i < so->ncerts; i++) {
		X509_free(so->certs[i]);
		free(so->cert_paths[i]);
	}
	free(so->certs);
	free(so->cert_paths);
	X509_CRL_free(so->crl);
	free(so->issuer_path);
	free(so->crl_path);
	free(so->prefix);
	free(so);
}

static void
so_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct sign_ocsp *so = calloc(1, sizeof(*so));
	const struct cfg_node *list, *resp, *out;
	const char *s;
	size_t i, n = 0;

	c->priv = so;
	if (so == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	so->issuer = ceremony_read_cert(c, chk, root, "issuer");
	if ((s = cfg_scalar(cfg_get(root, "issuer"))) != NULL)
		so->issuer_path = ceremony_path(c, s);
	if ((list = cfg_want_strlist(chk, root, "certificates", 1, &n)) !=
	    NULL) {
		if (n == 0)
			cfg_fail(chk, list, "certificates: name at least one "
			    "subordinate CA certificate");
		so->certs = calloc(n ? n : 1, sizeof(*so->certs));
		so->cert_paths = calloc(n ? n : 1, sizeof(*so->cert_paths));
		for (i = 0; so->certs != NULL && so->cert_paths != NULL &&
		    i < n; i++) {
			const struct cfg_node *item = cfg_item(list, i);
			char *path = ceremony_path(c, cfg_scalar(item));
			X509 *x = NULL;
			int rr;

			if (path == NULL ||
			    (rr = cairn_read_cert(path, &x)) != 0) {
				cfg_fail(chk, item, "certificates: %s",
				    path == NULL ? "out of memory" :
				    cairn_errmsg(rr));
				free(path);
				continue;
			}
			if (so->issuer != NULL &&
			    X509_check_issued(so->issuer, x) != X509_V_OK)
				cfg_fail(chk, item, "certificates: %s was not "
				    "issued by the issuer", cfg_scalar(item));
			so->certs[so->ncerts] = x;
			so->cert_paths[so->ncerts++] = path;
		}
	}
	if (cfg_get(root, "crl") != NULL &&
	    (s = cfg_want_str(chk, root, "crl", 0, NULL)) != NULL) {
		so->crl_path = ceremony_path(c, s);
		if (so->crl_path == NULL ||
		    cairn_read_crl(so->crl_path, &so->crl) != 0)
			cfg_fail(chk, cfg_get(root, "crl"), "crl: %s is not a "
			    "CRL (DER or PEM)", s);
		else if (so->issuer != NULL &&
		    X509_CRL_verify(so->crl, X509_get0_pubkey(so->issuer)) !=
			1) {
			ERR_clear_error();
			cfg_fail(chk, cfg_get(root, "crl"), "crl: %s is not "
			    "signed by the issuer", s);
		}
	}
	if ((resp = cfg_want_map(chk, root, "responses", 1)) != NULL) {
		cfg_keys(chk, resp, resp_keys);
		so->this_update = cfg_want_time(chk, resp, "this_update", 1,
		    -1);
		so->next_update = ceremony_until(chk, resp, so->this_update,
		    "this_update", "next_update");
		if (so->next_update > 0 &&
		    so->next_update - so->this_update >
			(long long)OCSP_ROOT_MAX_DAYS * 86400)
			cfg_fail(chk, resp, "responses for subordinate CA "
			    "certificates cover at most 12 months (BR "
			    "4.9.10)");
		so->md = ceremony_digest(chk, resp);
	}
	{
		static const char *const ok[] = { "prefix", NULL };
		out = ceremony_outputs(chk, root, ok);
	}
	if ((s = ceremony_output(chk, out, "prefix", "ocsp-")) != NULL)
		so->prefix = strdup(s);
}

/* Upper-case hex of a serial (OPENSSL_free), or NULL. */
static char *
serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	BN_free(bn);
	return hex;
}

/* Revocation time and reason of `serial` in the CRL: 1 when listed. */
static int
revoked_in(X509_CRL *crl, const ASN1_INTEGER *serial,
    const ASN1_TIME **when, int *reason)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *e;

	*when = NULL;
	*reason = OCSP_REVOKED_STATUS_NOSTATUS;
	if (crl == NULL ||
	    X509_CRL_get0_by_serial(crl, &rev, (ASN1_INTEGER *)serial) != 1)
		return 0;
	*when = X509_REVOKED_get0_revocationDate(rev);
	if ((e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL,
	    NULL)) != NULL) {
		*reason = (int)ASN1_ENUMERATED_get(e);
		ASN1_ENUMERATED_free(e);
	}
	return 1;
}

static long long
epoch_of(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static int
so_run(struct runner *r)
{
	struct sign_ocsp *so = r->c->priv;
	unsigned char *der = NULL;
	char name[256], *hex = NULL;
	const EVP_MD *md;
	size_t i, nrevoked = 0;
	int len, rc;

	if ((rc = runner_step(r, "Check the certificates to answer for",
	    "the %zu subordinate certificate%s and their status are those "
	    "agreed", so->ncerts, so->ncerts == 1 ? "" : "s")) != 0 ||
	    (rc = runner_input(r, so->issuer_path)) != 0 ||
	    (so->crl_path != NULL && (rc = runner_input(r, so->crl_path)) != 0))
		goto out;
	for (i = 0; i < so->ncerts; i++) {
		const ASN1_TIME *when;
		int reason, revoked;
		char subj[256];

		if ((rc = runner_input(r, so->cert_paths[i])) != 0)
			goto out;
		revoked = revoked_in(so->crl, X509_get0_serialNumber(
		    so->certs[i]), &when, &reason);
		nrevoked += revoked;
		X509_NAME_oneline(X509_get_subject_name(so->certs[i]), subj,
		    sizeof(subj));
		runner_fact(r, "certificate", "%s: %s", subj,
		    revoked ? "REVOKED" : "good");
	}

	if ((rc = runner_open_issuer_key(r, so->issuer, so->issuer_path)) !=
	    0)
		goto out;

	if ((rc = runner_step(r, "Sign and write the OCSP responses",
	    "one response per certificate is written")) != 0)
		goto out;
	md = so->md != NULL ? so->md : profile_default_md(r->pub);
	for (i = 0; i < so->ncerts; i++) {
		struct ocspb_single one = { 0 };
		struct ocspb_signer sg = { so->issuer, r->pkey, md, 0 };
		const ASN1_TIME *when = NULL;
		size_t dlen;

		if ((one.id = OCSP_cert_id_new(EVP_sha1(),
		    X509_get_subject_name(so->issuer),
		    X509_get0_pubkey_bitstr(so->issuer),
		    X509_get0_serialNumber(so->certs[i]))) == NULL) {
			rc = cairn_error_crypto(CAIRN_E_CRYPTO, "building the "
			    "CertID");
			goto out;
		}
		one.status = revoked_in(so->crl, X509_get0_serialNumber(
		    so->certs[i]), &when, &one.reason) ?
		    V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
		one.revoked_at = epoch_of(when);
		one.this_update = so->this_update;
		one.next_update = so->next_update;
		/* RFC 6960 via lib/ocsp.c: linted, trial-signed, signed by the
		 * root key (no certificates: the root is the trust anchor),
		 * verified. */
		rc = ocspb_sign(&one, 1, NULL, &sg, &der, &dlen);
		OCSP_CERTID_free(one.id);
		if (rc != 0)
			goto out;
		len = (int)dlen;
		if ((hex = serial_hex(X509_get0_serialNumber(
		    so->certs[i]))) == NULL) {
			rc = cairn_error_crypto(CAIRN_E_CRYPTO,
			    "cannot encode the OCSP response");
			goto out;
		}
		/* Named by serial in upper-case hex, as openssl prints it. */
		snprintf(name, sizeof(name), "%s%s.der", so->prefix, hex);
		if ((rc = runner_output(r, name, der, (size_t)len)) != 0)
			goto out;
		OPENSSL_free(hex);
		hex = NULL;
		OPENSSL_free(der);
		der = NULL;
	}
	rc = runner_log(r, "step", json_pack("{s:s,s:i,s:i}", "action",
	    "sign-ocsp", "responses", (int)so->ncerts, "revoked",
	    (int)nrevoked));
out:
	OPENSSL_free(hex);
	OPENSSL_free(der);
	return rc;
}

const struct ceremony_def cer_sign_ocsp = {
	.name = "sign-ocsp",
	.summary = "pre-sign OCSP responses from the root for subordinate CA "
		   "certificates, for the online responder to serve",
	.keys = keys,
	.key_exists = KEY_EXISTS,
	.validate = so_validate,
	.run = so_run,
	.free = so_free,
};
