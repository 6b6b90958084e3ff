/*
 * revoke.c: revocation, un-hold, CRLs and the CA certificate files that
 * relying parties fetch (see ca.h).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "lib/crl.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/util.h"
#include "sub-ca/ca.h"

/* RFC 5280 5.3.1 CRLReason; 7 is unused, 8 (removeFromCRL) is only for
 * delta CRLs, 2 and 10 are about CAs and attribute authorities. */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", 0 },
	{ "keyCompromise", 1 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
	{ "certificateHold", 6 },
	{ "privilegeWithdrawn", 9 },
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))
#define REASON_HOLD 6

int
ca_reason_parse(const char *s, int *out)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (strcasecmp(s, reasons[i].name) == 0) {
			*out = reasons[i].code;
			return 0;
		}
	return cairn_error(CAIRN_E_INVAL, "reason \"%.40s\": want one of "
	    "unspecified, keyCompromise, affiliationChanged, superseded, "
	    "cessationOfOperation, certificateHold, privilegeWithdrawn "
	    "(RFC 5280 5.3.1)", s);
}

const char *
ca_reason_name(int reason)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].code == reason)
			return reasons[i].name;
	return "unknown";
}

static int
may_revoke(const struct actor *who, const char *verb)
{
	if (who->local || (who->roles & ROLE_MANAGER))
		return 0;
	return cairn_error(CAIRN_E_DENIED, "%s may not %s certificates: that "
	    "needs the certificate manager role", who->name, verb);
}

/* One row's revocation state: 0 found, CAIRN_E_NOT_FOUND otherwise. */
static int
cert_state(struct ca *ca, const char *serial, int *revoked, int *reason)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(store_db(ca->store), "SELECT revoked_at IS NOT "
	    "NULL, coalesce(reason, -1) FROM certs WHERE serial = ?", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC) != SQLITE_OK)
		r = store_err(ca->store, "reading the certificate");
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*revoked = sqlite3_column_int(st, 0);
		*reason = sqlite3_column_int(st, 1);
	} else if (rc == SQLITE_DONE)
		r = cairn_error(CAIRN_E_NOT_FOUND, "no certificate with serial "
		    "%s was issued by this CA", serial);
	else
		r = store_err(ca->store, "reading the certificate");
	sqlite3_finalize(st);
	return r;
}

static int
change(struct ca *ca, const char *serial, const char *event, int reason,
    const struct actor *who)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int revoked = 0, old = -1, r;

	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = cert_state(ca, serial, &revoked, &old)) != 0)
		goto fail;
	if (reason >= 0) {
		if (revoked && !(old == REASON_HOLD && reason != REASON_HOLD)) {
			r = cairn_error(CAIRN_E_STATE, "certificate %s is "
			    "revoked already (%s)", serial,
			    ca_reason_name(old));
			goto fail;
		}
		r = sqlite3_prepare_v2(store_db(ca->store), revoked ?
		    "UPDATE certs SET reason = ?, revoked_by = ? WHERE serial "
		    "= ?" : "UPDATE certs SET reason = ?, revoked_by = ?, "
		    "revoked_at = ? WHERE serial = ?", -1, &st, NULL);
		if (r != SQLITE_OK || sqlite3_bind_int(st, 1, reason) ||
		    sqlite3_bind_text(st, 2, who->name, -1, SQLITE_STATIC) ||
		    (revoked ? sqlite3_bind_text(st, 3, serial, -1,
			SQLITE_STATIC) : (sqlite3_bind_int64(st, 3,
			store_now()) || sqlite3_bind_text(st, 4, serial, -1,
			SQLITE_STATIC)))) {
			r = store_err(ca->store, "revoking");
			goto fail;
		}
	} else {
		if (!revoked || old != REASON_HOLD) {
			r = cairn_error(CAIRN_E_STATE, "certificate %s is not "
			    "on hold (only certificateHold can be undone)",
			    serial);
			goto fail;
		}
		if (sqlite3_prepare_v2(store_db(ca->store), "UPDATE certs SET "
		    "revoked_at = NULL, reason = NULL, revoked_by = NULL "
		    "WHERE serial = ?", -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC)) {
			r = store_err(ca->store, "un-holding");
			goto fail;
		}
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_err(ca->store, event);
		goto fail;
	}
	o = json_pack("{s:s, s:s, s:s}", "event", event, "actor", who->name,
	    "serial", serial);
	if (o == NULL || (reason >= 0 && json_object_set_new(o, "reason",
	    json_string(ca_reason_name(reason))) != 0)) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = store_audit(ca->store, o)) != 0)
		goto fail;
	sqlite3_finalize(st);
	json_decref(o);
	return store_commit(ca->store);
fail:
	sqlite3_finalize(st);
	json_decref(o);
	store_rollback(ca->store);
	return r;
}

int
ca_revoke(struct ca *ca, const char *serial_in, int reason,
    const struct actor *who)
{
	char serial[33];
	int r;

	if ((r = may_revoke(who, "revoke")) != 0 ||
	    (r = ca_serial_norm(serial_in, serial)) != 0)
		return r;
	if (strcmp(ca_reason_name(reason), "unknown") == 0)
		return cairn_error(CAIRN_E_INVAL, "reason %d is not one a "
		    "certificate can be revoked for", reason);
	if ((r = change(ca, serial, "revoked", reason, who)) != 0)
		return r;
	ocsp_cert_changed(ca, serial);
	/* "At once": the CRL that shows it is issued before we return. */
	return ca_crl_issue(ca, who, NULL);
}

int
ca_unhold(struct ca *ca, const char *serial_in, const struct actor *who)
{
	char serial[33];
	int r;

	if ((r = may_revoke(who, "un-hold")) != 0 ||
	    (r = ca_serial_norm(serial_in, serial)) != 0 ||
	    (r = change(ca, serial, "unheld", -1, who)) != 0)
		return r;
	ocsp_cert_changed(ca, serial);
	return ca_crl_issue(ca, who, NULL);
}

/* ---- CRLs --------------------------------------------------------------- */

struct crl_iter {
	struct ca *ca;
	sqlite3_stmt *st;
};

static int
crl_next(void *arg, struct crl_entry *e)
{
	struct crl_iter *it = arg;
	const char *hex;
	size_t i, skip = 0;
	int rc;

	if ((rc = sqlite3_step(it->st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_err(it->ca->store, "reading revocations");
	hex = (const char *)sqlite3_column_text(it->st, 0);
	if (hex == NULL || strlen(hex) != 32)
		return cairn_error(CAIRN_E_STORE, "a serial in the store is "
		    "not 32 hex digits");
	for (i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return cairn_error(CAIRN_E_STORE, "bad serial %s", hex);
		e->serial[i] = (uint8_t)v;
	}
	while (skip < 15 && e->serial[skip] == 0)
		skip++;
	memmove(e->serial, e->serial + skip, 16 - skip);
	e->serial_len = 16 - skip;
	e->revoked_at = sqlite3_column_int64(it->st, 1);
	e->reason = sqlite3_column_int(it->st, 2);
	/* RFC 5280 5.3.1: omit reasonCode rather than say unspecified. */
	if (e->reason == 0)
		e->reason = -1;
	return 1;
}

static int
crl_rewind(void *arg)
{
	struct crl_iter *it = arg;

	sqlite3_reset(it->st);
	return 0;
}

static int
next_number(struct ca *ca, long long this_update, long long next_update,
    unsigned long long *number)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_begin(ca->store)) != 0)
		return r;
	if (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO crls "
	    "(number, this_update, next_update, created) SELECT "
	    "coalesce(max(number), 0) + 1, ?, ?, ? FROM crls RETURNING number",
	    -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, this_update) ||
	    sqlite3_bind_int64(st, 2, next_update) ||
	    sqlite3_bind_int64(st, 3, store_now()) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		r = store_err(ca->store, "numbering the CRL");
		sqlite3_finalize(st);
		store_rollback(ca->store);
		return r;
	}
	*number = (unsigned long long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return store_commit(ca->store);
}

int
ca_crl_issue(struct ca *ca, const struct actor *who,
    unsigned long long *number_out)
{
	struct crl_params p = { 0 };
	struct crl_source src;
	struct crl_stats stats = { 0 };
	struct crl_iter it = { ca, NULL };
	char path[PATH_MAX];
	unsigned long long number = 0;
	json_t *o = NULL;
	long long now = store_now();
	int r;

	if (ca->signer == NULL || ca->cert == NULL)
		return cairn_error(CAIRN_E_STATE, "issuing a CRL needs the CA "
		    "key and certificate");
	if (!who->local && !(who->roles & (ROLE_ADMIN | ROLE_MANAGER)))
		return cairn_error(CAIRN_E_DENIED, "%s may not issue CRLs",
		    who->name);
	pthread_mutex_lock(&ca->crl_mu);
	/* The number is committed first: a crash after it costs a gap in
	 * the numbers, never a repeat. */
	if ((r = next_number(ca, now, now + ca->cfg.crl_validity,
	    &number)) != 0)
		goto out;
	p.issuer = X509_get_subject_name(ca->cert);
	p.issuer_pub = ca->pub;
	p.this_update = now;
	p.next_update = now + ca->cfg.crl_validity;
	p.number = number;
	p.md = ca->md;
	src.next = crl_next;
	src.rewind = crl_rewind;
	src.arg = &it;
	mkdir(ca_path(ca, path, "publish"), 0755);
	ca_path(ca, path, "publish/ca.crl");
	/* One snapshot for both passes of the streaming writer. */
	store_lock(ca->store);
	if (sqlite3_exec(store_db(ca->store), "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(ca->store), "SELECT serial, "
	    "revoked_at, coalesce(reason, 0) FROM certs WHERE revoked_at IS "
	    "NOT NULL ORDER BY serial", -1, &it.st, NULL) != SQLITE_OK) {
		r = store_err(ca->store, "reading revocations");
	} else {
		r = crl_write(&p, &src, ca->signer, path, FILEIO_REPLACE,
		    &stats);
	}
	sqlite3_finalize(it.st);
	sqlite3_exec(store_db(ca->store), "COMMIT", NULL, NULL, NULL);
	store_unlock(ca->store);
	if (r != 0)
		goto out;
	if ((r = store_begin(ca->store)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "event", "crl issued",
	    "actor", who->name, "number", (json_int_t)number, "entries",
	    (json_int_t)stats.entries, "next_update",
	    (json_int_t)p.next_update);
	if (o == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	else if ((r = store_audit(ca->store, o)) == 0) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(store_db(ca->store), "UPDATE crls SET "
		    "entries = ? WHERE number = ?", -1, &st, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)stats.entries);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)number);
			sqlite3_step(st);
		}
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = store_commit(ca->store);
	else
		store_rollback(ca->store);
out:
	pthread_mutex_unlock(&ca->crl_mu);
	json_decref(o);
	if (r == 0 && number_out != NULL)
		*number_out = number;
	return r;
}

/* ---- CA certificate files --------------------------------------------- */

int
ca_publish_ca(struct ca *ca)
{
	STACK_OF(X509) *certs = NULL;
	PKCS7 *p7 = NULL;
	BIO *der = BIO_new(BIO_s_mem()), *pem = BIO_new(BIO_s_mem()),
	    *p7b = BIO_new(BIO_s_mem());
	char path[PATH_MAX];
	int r = CAIRN_E_NOMEM;

	if (ca->cert == NULL || ca->root == NULL)
		return cairn_error(CAIRN_E_STATE, "nothing to publish before "
		    "import");
	mkdir(ca_path(ca, path, "publish"), 0755);
	if (der == NULL || pem == NULL || p7b == NULL ||
	    (certs = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(certs, ca->cert) || !sk_X509_push(certs, ca->root))
		goto out;
	/* A degenerate SignedData holding the chain: what certsrv's
	 * "download CA certificate chain" gives Windows. */
	if ((p7 = PKCS7_sign(NULL, NULL, certs, NULL, PKCS7_PARTIAL)) ==
	    NULL || i2d_X509_bio(der, ca->cert) != 1 ||
	    PEM_write_bio_X509(pem, ca->cert) != 1 ||
	    PEM_write_bio_X509(pem, ca->root) != 1 ||
	    i2d_PKCS7_bio(p7b, p7) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the chain");
		goto out;
	}
	if ((r = ca_write_bio(ca_path(ca, path, "publish/ca.der"), der, 0644,
	    FILEIO_REPLACE)) != 0 ||
	    (r = ca_write_bio(ca_path(ca, path, "publish/chain.pem"), pem,
		0644, FILEIO_REPLACE)) != 0 ||
	    (r = ca_write_bio(ca_path(ca, path, "publish/chain.p7b"), p7b,
		0644, FILEIO_REPLACE)) != 0)
		goto out;
	r = 0;
out:
	if (r == CAIRN_E_NOMEM)
		cairn_error(r, "out of memory");
	sk_X509_free(certs);
	PKCS7_free(p7);
	BIO_free(der);
	BIO_free(pem);
	BIO_free(p7b);
	return r;
}
