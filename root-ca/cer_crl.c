/*
 * cer_crl.c: the issue-crl ceremony: a root CRL, signed by the root key,
 * with a CRL number strictly above every number issued before.
 *
 * The numbers issued are kept per issuer key in "crl-numbers" beside the
 * ceremony log (lines "<issuer key SHA-256 hex> <number>"), updated only
 * after the CRL is written.  A root CRL is small (a handful of revoked
 * subordinate CAs), so it is built with OpenSSL's CRL objects; the
 * subordinate CA's large CRLs stream through lib/crl.c.
 */
#include "config.h"

#include <libgen.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/lint.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

/* Most days a root CRL may cover (BR 4.9.7: at most 12 months). */
#define ROOT_CRL_MAX_DAYS 366

struct revoked {
	ASN1_INTEGER *serial;
	int reason;                /* CRL_REASON_*, -1: no reasonCode */
	long long when;
};

struct issue_crl {
	X509 *issuer;
	char *issuer_path;
	long long this_update, next_update;
	long long number;          /* 0: one above the last */
	struct revoked *rev;
	size_t nrev;
	const EVP_MD *md;
	char *out_name;
};

static const char *const keys[] = { "issuer", "crl", "outputs", NULL };
static const char *const crl_keys[] = { "this_update", "next_update",
	"validity", "number", "revoked", "digest", NULL };
static const char *const rev_keys[] = { "certificate", "serial", "reason",
	"date", NULL };
/* RFC 5280 5.3.1 reasons a root may give for a subordinate CA (no
 * certificateHold: BR 7.2.2). "unspecified" leaves reasonCode out. */
static const char *const reasons[] = { "unspecified", "keyCompromise",
	"cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "privilegeWithdrawn", NULL };
static const int reason_codes[] = { -1, CRL_REASON_KEY_COMPROMISE,
	CRL_REASON_CA_COMPROMISE, CRL_REASON_AFFILIATION_CHANGED,
	CRL_REASON_SUPERSEDED, CRL_REASON_CESSATION_OF_OPERATION,
	CRL_REASON_PRIVILEGE_WITHDRAWN };

static const char *
reason_name(int code)
{
	size_t i;

	for (i = 0; reasons[i] != NULL; i++)
		if (reason_codes[i] == code)
			return reasons[i];
	return "unspecified";
}

static void
ic_free(void *priv)
{
	struct issue_crl *ic = priv;
	size_t i;

	if (ic == NULL)
		return;
	X509_free(ic->issuer);
	for (i = 0; i < ic->nrev; i++)
		ASN1_INTEGER_free(ic->rev[i].serial);
	free(ic->rev);
	free(ic->issuer_path);
	free(ic->out_name);
	free(ic);
}

static ASN1_INTEGER *
hex_serial(const char *s)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	const char *p = s;

	if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0X", 2) == 0)
		p += 2;
	if (*p == '\0' || strspn(p, "0123456789abcdefABCDEF") != strlen(p) ||
	    strlen(p) > 40 || BN_hex2bn(&bn, p) == 0)
		return NULL;
	if (!BN_is_zero(bn))
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

static void
ic_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct issue_crl *ic = calloc(1, sizeof(*ic));
	const struct cfg_node *crl, *revs, *out, *e;
	const char *s;
	size_t i, j;

	c->priv = ic;
	if (ic == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	ic->issuer = ceremony_read_cert(c, chk, root, "issuer");
	if ((s = cfg_scalar(cfg_get(root, "issuer"))) != NULL)
		ic->issuer_path = ceremony_path(c, s);
	if ((crl = cfg_want_map(chk, root, "crl", 1)) == NULL)
		return;
	cfg_keys(chk, crl, crl_keys);
	ic->this_update = cfg_want_time(chk, crl, "this_update", 1, -1);
	ic->next_update = ceremony_until(chk, crl, ic->this_update,
	    "this_update", "next_update");
	if (ic->next_update > 0 &&
	    ic->next_update - ic->this_update >
		(long long)ROOT_CRL_MAX_DAYS * 86400)
		cfg_fail(chk, crl, "a root CRL may cover at most 12 months "
		    "(BR 4.9.7): next_update is %lld days after this_update",
		    (ic->next_update - ic->this_update) / 86400);
	ic->number = cfg_want_int(chk, crl, "number", 0, 1,
	    (long long)1 << 62, 0);
	ic->md = ceremony_digest(chk, crl);
	if (ic->issuer != NULL && ic->this_update > 0 &&
	    ASN1_TIME_cmp_time_t(X509_get0_notBefore(ic->issuer),
		(time_t)ic->this_update) > 0)
		cfg_fail(chk, cfg_get(crl, "this_update"), "this_update: "
		    "before the issuer's notBefore");

	if ((revs = cfg_want_seq(chk, crl, "revoked", 0)) != NULL &&
	    cfg_len(revs) > 0 &&
	    (ic->rev = calloc(cfg_len(revs), sizeof(*ic->rev))) == NULL) {
		cfg_fail(chk, revs, "out of memory");
		return;
	}
	for (i = 0; revs != NULL && i < cfg_len(revs); i++) {
		struct revoked *rv = &ic->rev[ic->nrev];
		int k;

		e = cfg_item(revs, i);
		if (cfg_type(e) != CFG_MAP) {
			cfg_fail(chk, e, "revoked: each entry is a mapping "
			    "with certificate or serial, reason, date");
			continue;
		}
		cfg_keys(chk, e, rev_keys);
		if ((cfg_get(e, "certificate") == NULL) ==
		    (cfg_get(e, "serial") == NULL)) {
			cfg_fail(chk, e, "revoked: give either certificate "
			    "(a file) or serial (hex)");
			continue;
		}
		if (cfg_get(e, "certificate") != NULL) {
			X509 *x = ceremony_read_cert(c, chk, e, "certificate");
			if (x == NULL)
				continue;
			if (ic->issuer != NULL &&
			    X509_check_issued(ic->issuer, x) != X509_V_OK)
				cfg_fail(chk, cfg_get(e, "certificate"),
				    "revoked: this certificate was not issued "
				    "by the issuer");
			rv->serial = ASN1_INTEGER_dup(
			    X509_get0_serialNumber(x));
			X509_free(x);
		} else if ((s = cfg_want_str(chk, e, "serial", 1, NULL)) !=
		    NULL && (rv->serial = hex_serial(s)) == NULL) {
			cfg_fail(chk, cfg_get(e, "serial"), "serial: \"%s\" is "
			    "not a positive hexadecimal serial number", s);
			continue;
		}
		k = cfg_want_enum(chk, e, "reason", 1, reasons, 0);
		rv->reason = k >= 0 ? reason_codes[k] : -1;
		rv->when = cfg_want_time(chk, e, "date", 1, -1);
		if (rv->when > 0 && ic->this_update > 0 &&
		    rv->when > ic->this_update)
			cfg_fail(chk, cfg_get(e, "date"), "date: a revocation "
			    "cannot be later than the CRL's this_update");
		if (rv->serial == NULL)
			continue;
		for (j = 0; j < ic->nrev; j++)
			if (ASN1_INTEGER_cmp(ic->rev[j].serial,
			    rv->serial) == 0)
				cfg_fail(chk, e, "revoked: serial listed "
				    "twice");
		ic->nrev++;
	}

	{
		static const char *const ok[] = { "crl", NULL };
		out = ceremony_outputs(chk, root, ok);
	}
	if ((s = ceremony_output(chk, out, "crl", "root.crl")) != NULL)
		ic->out_name = strdup(s);
}

/* The state file beside the log. */
static int
state_path(const struct runner *r, char *out, size_t size)
{
	char tmp[PATH_MAX];

	if (strlen(r->log_path) >= sizeof(tmp))
		return cairn_error(CAIRN_E_TOO_LARGE, "path too long");
	memcpy(tmp, r->log_path, strlen(r->log_path) + 1);
	return fileio_join(out, size, dirname(tmp), "crl-numbers");
}

/* The last number issued for `issuer_fpr` (0: none) and the other lines
 * of the file, to write back. */
static int
state_read(const char *path, const char *issuer_fpr, long long *last,
    char **others)
{
	char *buf = NULL, *line, *save = NULL, fpr[65];
	long long n;
	size_t olen = 0;
	int r;

	*last = 0;
	*others = calloc(1, 1);
	if (*others == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (access(path, F_OK) != 0)
		return 0;
	if ((r = cairn_read_file(path, 1024 * 1024, &buf, NULL)) != 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%64s %lld", fpr, &n) != 2 || n < 1) {
			r = cairn_error(CAIRN_E_CONFIG, "%s: cannot read the "
			    "line \"%s\"", path, line);
			goto out;
		}
		if (strcmp(fpr, issuer_fpr) == 0) {
			if (n > *last)
				*last = n;
			continue;
		}
		char *o = realloc(*others, olen + strlen(line) + 2);
		if (o == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
		*others = o;
		memcpy(o + olen, line, strlen(line));
		olen += strlen(line);
		o[olen++] = '\n';
		o[olen] = '\0';
	}
	r = 0;
out:
	free(buf);
	return r;
}

static int
add_entry(X509_CRL *crl, const struct revoked *rv)
{
	X509_REVOKED *e = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_ENUMERATED *reason = NULL;
	int r = CAIRN_E_CRYPTO;

	if (e == NULL || t == NULL || ASN1_TIME_set(t, (time_t)rv->when) ==
	    NULL ||
	    X509_REVOKED_set_serialNumber(e, rv->serial) != 1 ||
	    X509_REVOKED_set_revocationDate(e, t) != 1)
		goto out;
	if (rv->reason >= 0 &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL ||
		ASN1_ENUMERATED_set(reason, rv->reason) != 1 ||
		X509_REVOKED_add1_ext_i2d(e, NID_crl_reason, reason, 0, 0) !=
		    1))
		goto out;
	if (X509_CRL_add0_revoked(crl, e) != 1)
		goto out;
	e = NULL; /* transferred to crl */
	r = 0;
out:
	if (r != 0)
		cairn_error_crypto(r, "cannot add a revoked entry");
	X509_REVOKED_free(e);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	return r;
}

static int
ic_run(struct runner *r)
{
	struct issue_crl *ic = r->c->priv;
	char spath[PATH_MAX], fpr[65], *others = NULL, *state = NULL;
	unsigned char *der = NULL, md[32];
	uint8_t ski[20];
	long long last, number;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *aki = NULL;
	ASN1_TIME *t = NULL;
	const EVP_MD *dg;
	size_t i;
	int len, rc;

	/* The number, decided before the HSM is opened. */
	if ((rc = cairn_spki_sha256(X509_get0_pubkey(ic->issuer), md)) != 0 ||
	    (rc = state_path(r, spath, sizeof(spath))) != 0 ||
	    (rc = state_read(spath, cairn_hex(fpr, md, 32, 0), &last,
		&others)) != 0)
		goto out;
	number = ic->number > 0 ? ic->number : last + 1;
	if (number <= last) {
		rc = cairn_error(CAIRN_E_ROLLBACK, "CRL number %lld is not "
		    "above %lld, the last one issued for this key (%s): CRL "
		    "numbers only increase (RFC 5280 5.2.3)", number, last,
		    spath);
		goto out;
	}
	if ((rc = runner_step(r, "Check what the CRL will say", "the %zu "
	    "revoked serial number%s and this CRL number (%lld) are those "
	    "agreed", ic->nrev, ic->nrev == 1 ? "" : "s", number)) != 0 ||
	    (rc = runner_input(r, ic->issuer_path)) != 0)
		goto out;
	runner_fact(r, "CRL number", "%lld (the last issued was %lld)",
	    number, last);
	for (i = 0; i < ic->nrev; i++) {
		char *hex = i2s_ASN1_INTEGER(NULL, ic->rev[i].serial);
		runner_fact(r, "revoked serial", "%s, reason %s",
		    hex != NULL ? hex : "?", reason_name(ic->rev[i].reason));
		OPENSSL_free(hex);
	}

	if ((rc = runner_open_issuer_key(r, ic->issuer, ic->issuer_path)) !=
	    0)
		goto out;

	if ((rc = runner_step(r, "Sign the CRL", "the CRL is signed by the root key named in the script (%s)", r->c->key_label)) != 0)
		goto out;
	if ((crl = X509_CRL_new()) == NULL || (t = ASN1_TIME_new()) == NULL ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    (aki = AUTHORITY_KEYID_new()) == NULL ||
	    (aki->keyid = ASN1_OCTET_STRING_new()) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl,
		X509_get_subject_name(ic->issuer)) != 1 ||
	    ASN1_TIME_set(t, (time_t)ic->this_update) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1 ||
	    ASN1_TIME_set(t, (time_t)ic->next_update) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1 ||
	    ASN1_INTEGER_set_int64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    profile_ski(r->pub, ski) != 0 ||
	    ASN1_OCTET_STRING_set(aki->keyid, ski, sizeof(ski)) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
		0) != 1) {
		rc = cairn_error_crypto(CAIRN_E_CRYPTO, "cannot build the CRL");
		goto out;
	}
	for (i = 0; i < ic->nrev; i++)
		if ((rc = add_entry(crl, &ic->rev[i])) != 0)
			goto out;
	X509_CRL_sort(crl);
	dg = ic->md != NULL ? ic->md : profile_default_md(r->pub);
	if ((rc = lint_sign_crl(crl, r->pkey, r->pub, dg)) != 0)
		goto out;
	if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
		rc = cairn_error_crypto(CAIRN_E_CRYPTO, "cannot encode the CRL");
		goto out;
	}

	if ((rc = runner_step(r, "Write the CRL", "the CRL is written to the media as %s", ic->out_name)) != 0 ||
	    (rc = runner_output(r, ic->out_name, der, (size_t)len)) != 0)
		goto out;
	/* Only now, with the CRL staged, is the number spent. */
	if (asprintf(&state, "%s%s %lld\n", others, fpr, number) < 0) {
		state = NULL;
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = fileio_write_atomic(spath, state, strlen(state), 0600,
	    FILEIO_REPLACE)) != 0)
		goto out;
	rc = runner_log(r, "step", json_pack("{s:s,s:I,s:i,s:s}", "action",
	    "issue-crl", "crl_number", (json_int_t)number, "revoked",
	    (int)ic->nrev, "issuer_key_sha256", fpr));
out:
	X509_CRL_free(crl);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	OPENSSL_free(der);
	free(others);
	free(state);
	return rc;
}

const struct ceremony_def cer_issue_crl = {
	.name = "issue-crl",
	.summary = "issue a root CRL listing revoked subordinate CA "
		   "certificates, with a strictly increasing CRL number",
	.keys = keys,
	.key_exists = KEY_EXISTS,
	.validate = ic_validate,
	.run = ic_run,
	.free = ic_free,
};
