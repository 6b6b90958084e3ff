/*
 * ocsp_signer.c: who signs OCSP responses (see ocsp.h).
 *
 * By default a delegated responder certificate (RFC 6960 4.2.2.2): issued
 * by this CA, id-kp-OCSPSigning, id-pkix-ocsp-nocheck (relying parties do
 * not ask about the responder itself), its key generated inside the CA's
 * token and never extractable.  It is issued like every certificate,
 * through issue_internal(): linted, intent recorded, signed, recorded and
 * audited; only the key generation and the row in ocsp_signers are ours.
 * A new one is made when the current one has less than ocsp.signer_renew
 * left (which the configuration keeps above the responses' validity, so a
 * response never outlives the certificate that signed it).
 *
 * With ocsp.signer: ca, the CA key signs responses itself.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/lint.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "sub-ca/ca.h"
#include "sub-ca/ocsp.h"

struct ocsp_signer {
	int refs;                  /* atomic */
	X509 *cert;
	EVP_PKEY *key;
	struct cairn_p11_key *p11; /* delegated: the key on the token */
	int delegated;
	long long not_after;
	char id[33];
};

void
ocsp_signer_ref(struct ocsp_signer *sg)
{
	__atomic_add_fetch(&sg->refs, 1, __ATOMIC_RELAXED);
}

void
ocsp_signer_free(struct ocsp_signer *sg)
{
	if (sg == NULL || __atomic_sub_fetch(&sg->refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
	X509_free(sg->cert);
	EVP_PKEY_free(sg->key);
	cairn_p11_key_free(sg->p11);
	free(sg);
}

X509 *
ocsp_signer_cert(const struct ocsp_signer *sg)
{
	return sg->cert;
}

EVP_PKEY *
ocsp_signer_key(const struct ocsp_signer *sg)
{
	return sg->key;
}

int
ocsp_signer_delegated(const struct ocsp_signer *sg)
{
	return sg->delegated;
}

long long
ocsp_signer_not_after(const struct ocsp_signer *sg)
{
	return sg->not_after;
}

const char *
ocsp_signer_id(const struct ocsp_signer *sg)
{
	return sg->id;
}

static long long
not_after_of(X509 *x)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static int
ca_signer(struct ca *ca, struct ocsp_signer **out)
{
	struct ocsp_signer *sg;

	if (ca->signer == NULL || ca->cert == NULL)
		return cairn_error(CAIRN_E_STATE, "signing OCSP responses "
		    "needs the CA key and certificate");
	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	sg->refs = 1;
	X509_up_ref(ca->cert);
	sg->cert = ca->cert;
	EVP_PKEY_up_ref(ca->signer);
	sg->key = ca->signer;
	sg->not_after = not_after_of(ca->cert);
	snprintf(sg->id, sizeof(sg->id), "ca");
	*out = sg;
	return 0;
}

/* The signer `serial` with its key found on the CA's token by `uri`. */
static int
load(struct ca *ca, const char *serial, const char *uri, const void *der,
    int derlen, struct ocsp_signer **out)
{
	struct cairn_p11_uri *u = NULL;
	struct ocsp_signer *sg = NULL;
	const unsigned char *p = der;
	int r;

	*out = NULL;
	if (ca->key == NULL)
		return cairn_error(CAIRN_E_STATE, "the OCSP signer's key is on "
		    "the CA's token, which is not open");
	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	sg->refs = 1;
	sg->delegated = 1;
	snprintf(sg->id, sizeof(sg->id), "%s", serial);
	if (der == NULL || (sg->cert = d2i_X509(NULL, &p, derlen)) == NULL) {
		r = cairn_error(CAIRN_E_STORE, "the OCSP signer %s has no "
		    "certificate in the store", serial);
		goto fail;
	}
	sg->not_after = not_after_of(sg->cert);
	if ((r = cairn_p11_uri_parse(uri, strlen(uri), &u)) != 0 ||
	    (r = cairn_p11_key_find(cairn_p11_key_get0_token(ca->key), u,
		&sg->p11)) != 0) {
		r = cairn_error_prefix(r, "the OCSP signer %s's key: ", serial);
		goto fail;
	}
	if (EVP_PKEY_eq(cairn_p11_key_get0_public(sg->p11),
	    X509_get0_pubkey(sg->cert)) != 1) {
		r = cairn_error(CAIRN_E_STATE, "the OCSP signer %s's "
		    "certificate is not for the key %s", serial, uri);
		goto fail;
	}
	if ((sg->key = cairn_p11_key_get1_pkey(sg->p11)) == NULL) {
		r = CAIRN_E_P11;
		goto fail;
	}
	cairn_p11_uri_free(u);
	*out = sg;
	return 0;
fail:
	cairn_p11_uri_free(u);
	ocsp_signer_free(sg);
	return r;
}

/* The newest unrevoked delegated signer in the store: 0 and *out (may
 * stay NULL when there is none). */
static int
newest(struct ca *ca, struct store *st, struct ocsp_signer **out)
{
	sqlite3_stmt *q = NULL;
	char serial[33], *uri = NULL;
	void *der = NULL;
	int derlen = 0, rc, r = 0;

	*out = NULL;
	store_lock(st);
	/* CROSS JOIN: the signers first, each certificate looked up by its
	 * serial (without it SQLite may choose to scan every certificate). */
	if (sqlite3_prepare_v2(store_db(st), "SELECT s.serial, s.key_uri, "
	    "c.der FROM ocsp_signers s CROSS JOIN certs c ON c.serial = "
	    "s.serial WHERE c.status = 'issued' AND c.revoked_at IS NULL AND "
	    "s.not_after > ? ORDER BY s.not_after DESC LIMIT 1", -1, &q,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 1, store_now()) != SQLITE_OK) {
		r = store_err(st, "reading the OCSP signers");
	} else if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		snprintf(serial, sizeof(serial), "%s",
		    (const char *)sqlite3_column_text(q, 0));
		uri = strdup((const char *)sqlite3_column_text(q, 1));
		derlen = sqlite3_column_bytes(q, 2);
		if ((der = malloc(derlen > 0 ? (size_t)derlen : 1)) != NULL &&
		    derlen > 0)
			memcpy(der, sqlite3_column_blob(q, 2), (size_t)derlen);
		if (uri == NULL || der == NULL)
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	} else if (rc != SQLITE_DONE) {
		r = store_err(st, "reading the OCSP signers");
	}
	sqlite3_finalize(q);
	store_unlock(st);
	if (r == 0 && uri != NULL)
		r = load(ca, serial, uri, der, derlen, out);
	free(uri);
	free(der);
	return r;
}

/* The responder's subject: the CA's, its CN followed by " OCSP". */
static int
subject_of(struct ca *ca, struct profile *p)
{
	X509_NAME *n = X509_get_subject_name(ca->cert);
	char cn[80] = "Cairn";
	int i, r;

	X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof(cn) - 6);
	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		unsigned char *u = NULL;

		if (nid != NID_organizationName && nid != NID_countryName)
			continue;
		if (ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e)) < 0)
			continue;
		r = profile_subject_add(p, nid == NID_countryName ? "C" : "O",
		    (const char *)u);
		OPENSSL_free(u);
		if (r != 0)
			return r;
	}
	strcat(cn, " OCSP");
	return profile_subject_add(p, "CN", cn);
}

int
ocsp_signer_renew(struct ca *ca, struct store *st, struct ocsp_signer **out)
{
	const struct ocsp_config *oc = &ca->cfg.ocsp;
	struct cairn_p11_keygen kg = { 0 };
	struct cairn_p11_key *key = NULL;
	struct ocsp_signer *sg = NULL;
	struct profile *p = NULL;
	sqlite3_stmt *q = NULL;
	X509 *x = NULL;
	char label[64], serial[33], *uri = NULL, stamp[20];
	uint8_t rnd[4];
	long long now = store_now();
	time_t tt = (time_t)now;
	struct tm tm;
	json_t *o = NULL;
	int r;

	*out = NULL;
	if (ca->key == NULL || ca->cert == NULL)
		return cairn_error(CAIRN_E_STATE, "making an OCSP signer needs "
		    "the CA key and certificate");
	gmtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "no randomness");
	snprintf(label, sizeof(label), "ocsp-signer-%s-%02x%02x%02x%02x",
	    stamp, rnd[0], rnd[1], rnd[2], rnd[3]);
	/* P-256 unless configured: the signer signs two responses for every
	 * certificate and again every `refresh`, on the token the CA's own
	 * signatures need; with an RSA-3072 CA key, RSA responses cost the
	 * token more than the issuance itself (docs/ocsp.md).  A token
	 * without EC keys gets the CA key's type, said in the log. */
	kg.type = oc->signer_key != 0 ? (enum cairn_key_type)oc->signer_key :
	    CAIRN_KEY_EC_P256;
	kg.label = label;
	r = cairn_p11_key_generate(cairn_p11_key_get0_token(ca->key), &kg,
	    &key);
	if (r != 0 && oc->signer_key == 0 &&
	    cairn_p11_key_type(ca->key) != CAIRN_KEY_EC_P256) {
		fprintf(stderr, "cairn-sub: ocsp: the token made no P-256 key "
		    "for the OCSP signer (%s); using the CA key's type, %s\n",
		    cairn_errmsg(r), cairn_key_type_name(
		    cairn_p11_key_type(ca->key)));
		kg.type = cairn_p11_key_type(ca->key);
		r = cairn_p11_key_generate(cairn_p11_key_get0_token(ca->key),
		    &kg, &key);
	}
	if (r != 0) {
		r = cairn_error_prefix(r, "generating the OCSP signer's key in "
		    "the CA's token: ");
		goto out;
	}
	if ((uri = cairn_p11_key_uri(key)) == NULL ||
	    (p = profile_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = subject_of(ca, p)) != 0)
		goto out;
	p->not_before = now - 60;
	p->not_after = now + oc->signer_validity;
	p->key_usage = PROFILE_KU_DIGITAL_SIGNATURE;
	p->ocsp_nocheck = 1;
	if ((r = profile_strv_add(&p->eku, "OCSPSigning")) != 0 ||
	    (r = issue_internal(ca, p, cairn_p11_key_get0_public(key),
		"internal:ocsp-signer", &x)) != 0)
		goto out;
	/* issue_internal linted it as an end entity; a responder has its
	 * own rules (lib/lint.c LINT_OCSP_SIGNER). */
	if ((r = lint_cert(x, ca->cert, ca->pub, LINT_OCSP_SIGNER)) != 0) {
		r = cairn_error_prefix(r, "the OCSP signer certificate: ");
		goto out;
	}
	if ((r = ca_serial_of(x, serial)) != 0 ||
	    (r = store_begin(st)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", "ocsp signer",
	    "actor", "system", "serial", serial, "key", uri, "not_after",
	    (json_int_t)not_after_of(x));
	if (sqlite3_prepare_v2(store_db(st), "INSERT INTO ocsp_signers "
	    "(serial, key_uri, not_after, created) VALUES (?, ?, ?, ?)", -1,
	    &q, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(q, 2, uri, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(q, 3, not_after_of(x)) ||
	    sqlite3_bind_int64(q, 4, now) || sqlite3_step(q) != SQLITE_DONE) {
		r = store_err(st, "recording the OCSP signer");
		store_rollback(st);
		goto out;
	}
	if (o == NULL || (r = store_audit(st, o)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		store_rollback(st);
		goto out;
	}
	if ((r = store_commit(st)) != 0)
		goto out;
	if ((sg = calloc(1, sizeof(*sg))) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	sg->refs = 1;
	sg->delegated = 1;
	sg->cert = x;
	x = NULL;
	sg->p11 = key;
	key = NULL;
	sg->not_after = not_after_of(sg->cert);
	snprintf(sg->id, sizeof(sg->id), "%s", serial);
	if ((sg->key = cairn_p11_key_get1_pkey(sg->p11)) == NULL) {
		r = CAIRN_E_P11;
		goto out;
	}
	*out = sg; /* transferred */
	sg = NULL;
	r = 0;
out:
	sqlite3_finalize(q);
	json_decref(o);
	ocsp_signer_free(sg);
	X509_free(x);
	profile_free(p);
	free(uri);
	cairn_p11_key_free(key);
	return r;
}

int
ocsp_signer_current(struct ca *ca, struct store *st, int make,
    struct ocsp_signer **out)
{
	const struct ocsp_config *oc = &ca->cfg.ocsp;
	struct ocsp_signer *sg = NULL;
	int r;

	*out = NULL;
	if (!oc->delegated)
		return ca_signer(ca, out);
	if ((r = newest(ca, st, &sg)) != 0) {
		if (!make)
			return r;
		/* A signer whose key is gone is replaced, not fatal. */
		fprintf(stderr, "cairn-sub: ocsp: %s; making a new signer\n",
		    cairn_errmsg(r));
		sg = NULL;
	}
	if (sg != NULL && sg->not_after - store_now() >= (make ?
	    oc->signer_renew : oc->validity)) {
		*out = sg;
		return 0;
	}
	if (!make) {
		ocsp_signer_free(sg);
		return 0;
	}
	if ((r = ocsp_signer_renew(ca, st, out)) == 0) {
		ocsp_signer_free(sg);
		return 0;
	}
	/* Renewal failed (the HSM, the store): the old signer serves while
	 * it can still sign a whole validity; the next pass tries again. */
	if (sg != NULL && sg->not_after - store_now() >= oc->validity) {
		fprintf(stderr, "cairn-sub: ocsp: renewing the signer: %s; "
		    "signing with %s meanwhile\n", cairn_errmsg(r), sg->id);
		*out = sg;
		return 0;
	}
	ocsp_signer_free(sg);
	return r;
}
