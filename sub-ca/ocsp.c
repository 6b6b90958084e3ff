/*
 * ocsp.c: the OCSP responder (see ocsp.h and docs/ocsp.md): its
 * configuration, signing, the store, the background pass, the HTTP
 * handler and the hooks that issuance and revocation call.
 *
 * Who writes a certificate's responses, and why they never go back in
 * time: a writer takes the certificate's stripe lock, reads its status
 * from the certs table, signs, and puts the answer in the table in memory
 * before it lets go; so the answer put last was signed from the status
 * read last.  In the store the same rule is kept by SQL: a response is
 * written only when the certs row still says what it says (the write
 * and any revocation are serialized by SQLite's write lock).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/ocsp.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "sub-ca/ca.h"
#include "sub-ca/ocsp.h"

/* Seconds between full passes over the store (missing, due, changed);
 * the hooks make changes visible at once, the pass is the safety net and
 * the scheduler of refreshes.  Root responses are re-read as often. */
#define PASS_SEC 60
#define STRIPES 64
#define OWN_GENS 64

static const char *const alg_names[OCSP_NALG] = { "sha1", "sha256" };
static const char *const status_names[] = { "good", "revoked", "unknown" };

/* ---- configuration ----------------------------------------------------- */

void
ocsp_config_load(struct cfg_check *chk, const struct cfg_node *m,
    struct ocsp_config *c)
{
	static const char *const keys[] = { "signer", "validity", "refresh",
		"signer_validity", "signer_renew", "signer_key", "on_demand",
		NULL };
	static const char *const signers[] = { "delegated", "ca", NULL };
	const char *kt;
	enum cairn_key_type t;
	long long min_refresh;

	if (m != NULL)
		cfg_keys(chk, m, keys);
	c->delegated = cfg_want_enum(chk, m, "signer", 0, signers, 0) != 1;
	c->validity = cfg_want_duration(chk, m, "validity", 0, 4 * 86400);
	if (c->validity >= 0 && (c->validity < CAIRN_OCSP_VALIDITY_MIN ||
	    c->validity > CAIRN_OCSP_VALIDITY_MAX))
		cfg_fail(chk, cfg_get(m, "validity"), "validity: between 8h "
		    "and 10d (Baseline Requirements 4.9.10)");
	c->refresh = cfg_want_duration(chk, m, "refresh", 0, c->validity / 2);
	/* BR 4.9.10: at least 8 hours before nextUpdate, or at half the
	 * life when that is under 16 hours. */
	min_refresh = c->validity >= 2 * CAIRN_OCSP_REFRESH_MIN ?
	    CAIRN_OCSP_REFRESH_MIN : c->validity / 2;
	if (c->refresh >= 0 && (c->refresh < min_refresh ||
	    c->refresh >= c->validity))
		cfg_fail(chk, cfg_get(m, "refresh"), "refresh: re-sign at least "
		    "%lldh before nextUpdate (Baseline Requirements 4.9.10) and "
		    "less than the validity", min_refresh / 3600);
	c->signer_validity = cfg_want_duration(chk, m, "signer_validity", 0,
	    30 * 86400);
	c->signer_renew = cfg_want_duration(chk, m, "signer_renew", 0,
	    c->validity + c->signer_validity / 3);
	/* A response never outlives its signer: the signer is replaced while
	 * it can still sign a whole validity, with a day to spare. */
	if (c->signer_renew >= 0 && c->validity >= 0 &&
	    c->signer_renew < c->validity + 86400)
		cfg_fail(chk, cfg_get(m, "signer_renew"), "signer_renew: at "
		    "least the validity plus 1d, so that no response outlives "
		    "the certificate that signed it");
	if (c->signer_validity >= 0 && c->signer_renew >= 0 &&
	    c->signer_validity <= c->signer_renew)
		cfg_fail(chk, cfg_get(m, "signer_validity"), "signer_validity: "
		    "must be longer than signer_renew");
	c->signer_key = 0;
	if ((kt = cfg_want_str(chk, m, "signer_key", 0, NULL)) != NULL) {
		if (cairn_key_type_parse(kt, &t) != 0)
			cfg_fail(chk, cfg_get(m, "signer_key"), "signer_key: "
			    "one of ec-p256, ec-p384, rsa-3072, rsa-4096");
		else
			c->signer_key = (int)t;
		cairn_error_clear();
	}
	c->on_demand = cfg_want_bool(chk, m, "on_demand", 0, 0);
}

/* ---- the responder ------------------------------------------------------ */

struct issuer {
	int present;
	X509 *cert;                       /* borrowed from the ca */
	uint8_t name_hash[OCSP_NALG][32];
	uint8_t key_hash[OCSP_NALG][32];
};

/* A signed response on its way to the store. */
struct rec {
	int root;                         /* issuer 'root', else 'ca' */
	char serial[41];
	int alg;
	struct ocsp_resp_info info;
	char signer[33];
	uint8_t *der;                     /* OPENSSL_malloc'ed */
	size_t len;
	int changed;                      /* a status change (write_recs) */
};

/* An answer for a serial never issued, signed on demand. */
struct unknown_slot {
	struct ocsp_certid id;
	uint8_t *der;
	size_t len;
	struct ocsp_resp_info info;
};

struct ocsp {
	struct ca *ca;
	struct ocsp_cache *cache;
	/* The CA's connection (borrowed). */
	struct store *st;
	struct issuer self, root;
	int sign;

	pthread_mutex_t mu;               /* everything below */
	pthread_cond_t cv;
	struct ocsp_signer *signer;
	struct rec *q;                    /* to persist */
	size_t nq, capq;
	long long gen_seen;
	long long own_gens[OWN_GENS];
	size_t nown;
	int stop, ready, ready_err, pass_now;
	/* just issued, to sign in the background (ocsp_cert_issued) */
	char (*issued)[33];
	size_t nissued;
	double tokens;
	long long tokens_ms;
	unsigned long long nsigned;
	struct unknown_slot *unknown;
	pthread_t thread;
	int thread_started;
	/* The pre-signer: signs what was just issued (see presign()),
	 * woken by pcv. */
	pthread_cond_t pcv;
	pthread_t pthread;
	int pthread_started;

	pthread_mutex_t stripe[STRIPES];
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rec_clear(struct rec *r)
{
	OPENSSL_free(r->der);
	r->der = NULL;
}

static int
issuer_init(struct issuer *is, X509 *cert)
{
	const EVP_MD *md[OCSP_NALG] = { EVP_sha1(), EVP_sha256() };
	const ASN1_BIT_STRING *key;
	unsigned int n;
	int a;

	memset(is, 0, sizeof(*is));
	if (cert == NULL)
		return 0;
	key = X509_get0_pubkey_bitstr(cert);
	for (a = 0; a < OCSP_NALG; a++)
		if (X509_NAME_digest(X509_get_subject_name(cert), md[a],
		    is->name_hash[a], &n) != 1 || key == NULL ||
		    EVP_Digest(key->data, (size_t)key->length,
		    is->key_hash[a], &n, md[a], NULL) != 1)
			return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing the "
			    "issuer for OCSP");
	is->cert = cert;
	is->present = 1;
	return 0;
}

static int
issuer_match(const struct issuer *is, const struct ocsp_certid *id)
{
	size_t hl = ocsp_hash_len(id->alg);

	return is->present &&
	    memcmp(is->name_hash[id->alg], id->name_hash, hl) == 0 &&
	    memcmp(is->key_hash[id->alg], id->key_hash, hl) == 0;
}

/* A serial in lowercase hex (even length, at most 40 digits) to its
 * minimal content octets. */
static int
serial_bytes(const char *hex, uint8_t *out, uint8_t *len)
{
	size_t n = strlen(hex), i, skip = 0;
	uint8_t b[20];

	if (n == 0 || n % 2 != 0 || n > 40)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (uint8_t)v;
	}
	while (skip + 1 < n / 2 && b[skip] == 0)
		skip++;
	*len = (uint8_t)(n / 2 - skip);
	memcpy(out, b + skip, *len);
	return 0;
}

static int
certid_of(const struct issuer *is, int alg, const char *serial,
    struct ocsp_certid *id)
{
	size_t hl = ocsp_hash_len(alg);

	memset(id, 0, sizeof(*id));
	id->alg = (uint8_t)alg;
	memcpy(id->name_hash, is->name_hash[alg], hl);
	memcpy(id->key_hash, is->key_hash[alg], hl);
	return serial_bytes(serial, id->serial, &id->serial_len);
}

static pthread_mutex_t *
stripe_of(struct ocsp *o, const char *serial)
{
	uint32_t h = 2166136261u;

	for (; *serial != '\0'; serial++)
		h = (h ^ (uint8_t)*serial) * 16777619u;
	return &o->stripe[h % STRIPES];
}

/* ---- signing ------------------------------------------------------------ */

static ASN1_INTEGER *
serial_asn1(const uint8_t *b, size_t n)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();

	if (ai != NULL && ASN1_STRING_set(ai, b, (int)n) != 1) {
		ASN1_INTEGER_free(ai);
		ai = NULL;
	}
	return ai;
}

/*
 * Sign one response holding `n` answers, for CertIDs under this CA
 * (`ids`), each with its status in `infos` (this_update and next_update
 * are set here).  `nonce` may be NULL.
 */
static int
sign_ids(struct ca *ca, struct ocsp_signer *sg,
    const struct ocsp_certid *ids, struct ocsp_resp_info *infos, size_t n,
    X509_EXTENSION *nonce, uint8_t **der, size_t *len)
{
	const EVP_MD *md[OCSP_NALG] = { EVP_sha1(), EVP_sha256() };
	struct ocspb_single s[CAIRN_OCSP_REQ_CERTS_MAX];
	struct ocspb_signer who;
	long long now = store_now(), tu, nu;
	size_t i;
	int r = 0;

	*der = NULL;
	if (n > CAIRN_OCSP_REQ_CERTS_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "too many answers");
	tu = now - CAIRN_OCSP_BACKDATE;
	nu = tu + ca->cfg.ocsp.validity;
	if (nu > ocsp_signer_not_after(sg))
		nu = ocsp_signer_not_after(sg);
	if (nu - tu < CAIRN_OCSP_VALIDITY_MIN)
		return cairn_error(CAIRN_E_STATE, "the OCSP signer %s expires "
		    "too soon to sign a response valid for 8 hours",
		    ocsp_signer_id(sg));
	memset(s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		ASN1_INTEGER *ai = serial_asn1(ids[i].serial,
		    ids[i].serial_len);

		s[i].id = ai == NULL ? NULL : OCSP_cert_id_new(md[ids[i].alg],
		    X509_get_subject_name(ca->cert),
		    X509_get0_pubkey_bitstr(ca->cert), ai);
		ASN1_INTEGER_free(ai);
		if (s[i].id == NULL) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "building a "
			    "CertID");
			goto out;
		}
		s[i].status = infos[i].status == OCSP_GOOD ?
		    V_OCSP_CERTSTATUS_GOOD : infos[i].status == OCSP_REVOKED ?
		    V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_UNKNOWN;
		s[i].revoked_at = infos[i].revoked_at;
		/* RFC 5280 5.3.1: unspecified (0) is said by saying nothing. */
		s[i].reason = infos[i].reason > 0 ? infos[i].reason : -1;
		s[i].this_update = infos[i].this_update = tu;
		s[i].next_update = infos[i].next_update = nu;
	}
	who.cert = ocsp_signer_cert(sg);
	who.key = ocsp_signer_key(sg);
	who.md = ca->md;
	who.include_cert = ocsp_signer_delegated(sg);
	r = ocspb_sign(s, n, nonce, &who, der, len);
out:
	for (i = 0; i < n; i++)
		OCSP_CERTID_free(s[i].id);
	return r;
}

/* A certificate's status from the certs table: 0, or CAIRN_E_NOT_FOUND.
 * `db`: st's connection (under its lock) or the caller's reader. */
static int
cert_status_db(struct store *st, sqlite3 *db, const char *serial,
    struct ocsp_resp_info *in)
{
	sqlite3_stmt *q;
	int rc, r = 0;

	memset(in, 0, sizeof(*in));
	in->reason = -1;
	if ((q = store_stmt_on(st, db, "SELECT status = 'issued', "
	    "revoked_at, coalesce(reason, -1) FROM certs WHERE serial = ?")) ==
	    NULL ||
	    sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC) != SQLITE_OK)
		r = cairn_error(CAIRN_E_STORE, "reading a certificate's "
		    "status: %s", sqlite3_errmsg(db));
	else if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
			in->status = OCSP_REVOKED;
			in->revoked_at = sqlite3_column_int64(q, 1);
			in->reason = sqlite3_column_int(q, 2);
		} else {
			in->status = sqlite3_column_int(q, 0) ? OCSP_GOOD :
			    OCSP_UNKNOWN;
		}
	} else if (rc == SQLITE_DONE)
		r = cairn_error(CAIRN_E_NOT_FOUND, "no certificate %s", serial);
	else
		r = cairn_error(CAIRN_E_STORE, "reading a certificate's "
		    "status: %s", sqlite3_errmsg(db));
	store_stmt_on_done(st, db, q);
	return r;
}

static int
cert_status(struct store *st, const char *serial, struct ocsp_resp_info *in)
{
	int r;

	store_lock(st);
	r = cert_status_db(st, store_db(st), serial, in);
	store_unlock(st);
	return r;
}

/*
 * Sign both responses (SHA-1, SHA-256 CertIDs) of certificate `serial`
 * as the certs table says now, into recs[0..1].  With `o`, under the
 * certificate's stripe lock, and put in the table before the lock goes.
 * The status is read through `rdb` when given (a connection of the
 * caller's own), else through `st` under its lock.
 */
static int
sign_cert(struct ocsp *o, struct ca *ca, struct store *st,
    struct ocsp_signer *sg, const char *serial, struct rec recs[2],
    sqlite3 *rdb)
{
	struct issuer tmp, *is = &tmp;
	struct ocsp_certid id;
	pthread_mutex_t *mu = NULL;
	int a, r;

	memset(recs, 0, 2 * sizeof(*recs));
	if (o != NULL) {
		is = &o->self;
		mu = stripe_of(o, serial);
		pthread_mutex_lock(mu);
	} else if ((r = issuer_init(&tmp, ca->cert)) != 0) {
		return r;
	}
	for (a = 0; a < OCSP_NALG; a++) {
		struct rec *rc = &recs[a];

		snprintf(rc->serial, sizeof(rc->serial), "%s", serial);
		rc->alg = a;
		snprintf(rc->signer, sizeof(rc->signer), "%s",
		    ocsp_signer_id(sg));
		if ((a == 0 && (r = rdb != NULL ?
		    cert_status_db(st, rdb, serial, &rc->info) :
		    cert_status(st, serial, &rc->info)) != 0) ||
		    certid_of(is, a, serial, &id) != 0) {
			r = r != 0 ? r : cairn_error(CAIRN_E_STORE, "serial "
			    "\"%s\" in the store is not hex", serial);
			goto out;
		}
		if (a == 1)
			rc->info = recs[0].info;
		if ((r = sign_ids(ca, sg, &id, &rc->info, 1, NULL, &rc->der,
		    &rc->len)) != 0)
			goto out;
		if (o != NULL && (r = ocsp_cache_put(o->cache, &id, rc->der,
		    rc->len, &rc->info)) != 0)
			goto out;
	}
	if (o != NULL) {
		pthread_mutex_lock(&o->mu);
		o->nsigned += 2;
		pthread_mutex_unlock(&o->mu);
	}
	r = 0;
out:
	if (mu != NULL)
		pthread_mutex_unlock(mu);
	if (r != 0) {
		rec_clear(&recs[0]);
		rec_clear(&recs[1]);
	}
	return r;
}

/* ---- the store ---------------------------------------------------------- */

/*
 * Write `n` records in one transaction; a 'ca' record only while the
 * certs row still says what it was signed from, and never over a newer
 * one.  *gen receives the generation written, *changed the rows.  `lazy`:
 * commit without an fsync of its own (store_begin_lazy), for responses
 * to certificates the store had none for (flush() of a queue without a
 * status change: the pre-signer's and the on-demand ones): an OS crash
 * that loses them loses nothing a pass does not sign again, and no
 * status goes backwards.  A status change
 * (ocsp_cert_changed: revoked, released from hold) and the passes stay
 * durable: a separate responder reading the store must never find an
 * older status after a crash.
 */
static int
write_recs(struct store *st, struct rec *recs, size_t n, long long *gen,
    size_t *changed, int lazy)
{
	sqlite3_stmt *g = NULL, *qc = NULL, *qr = NULL;
	size_t i;
	int r;

	*changed = 0;
	if (n == 0)
		return 0;
	if ((r = lazy ? store_begin_lazy(st) : store_begin(st)) != 0)
		return r;
	if ((g = store_stmt(st, "SELECT coalesce(max(gen), 0) + "
	    "1 FROM ocsp_responses")) == NULL ||
	    sqlite3_step(g) != SQLITE_ROW) {
		r = store_err(st, "numbering OCSP responses");
		goto fail;
	}
	*gen = sqlite3_column_int64(g, 0);
	if ((qc = store_stmt(st, "INSERT INTO ocsp_responses "
	    "(issuer, serial, alg, status, revoked_at, reason, this_update, "
	    "next_update, signer, der, gen) SELECT 'ca', ?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10 WHERE EXISTS (SELECT 1 FROM certs WHERE "
	    "serial = ?1 AND (CASE WHEN revoked_at IS NOT NULL THEN 'revoked' "
	    "WHEN status = 'issued' THEN 'good' ELSE 'unknown' END) = ?3 AND "
	    "coalesce(revoked_at, -1) = coalesce(?4, -1) AND "
	    "coalesce(reason, -1) = coalesce(?5, -1)) "
	    "ON CONFLICT (issuer, serial, alg) DO UPDATE SET "
	    "status = excluded.status, revoked_at = excluded.revoked_at, "
	    "reason = excluded.reason, this_update = excluded.this_update, "
	    "next_update = excluded.next_update, signer = excluded.signer, "
	    "der = excluded.der, gen = excluded.gen "
	    "WHERE excluded.this_update >= ocsp_responses.this_update")) ==
	    NULL ||
	    (qr = store_stmt(st, "INSERT INTO ocsp_responses "
	    "(issuer, serial, alg, status, revoked_at, reason, this_update, "
	    "next_update, signer, der, gen) VALUES ('root', ?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (issuer, serial, alg) DO "
	    "UPDATE SET status = excluded.status, revoked_at = "
	    "excluded.revoked_at, reason = excluded.reason, this_update = "
	    "excluded.this_update, next_update = excluded.next_update, der = "
	    "excluded.der, gen = excluded.gen WHERE excluded.this_update > "
	    "ocsp_responses.this_update")) == NULL) {
		r = store_err(st, "writing OCSP responses");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct rec *rc = &recs[i];
		sqlite3_stmt *q = rc->root ? qr : qc;
		int revoked = rc->info.status == OCSP_REVOKED;

		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, rc->serial, -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(q, 2, alg_names[rc->alg], -1,
			SQLITE_STATIC) ||
		    sqlite3_bind_text(q, 3, status_names[rc->info.status], -1,
			SQLITE_STATIC) ||
		    (revoked ? sqlite3_bind_int64(q, 4, rc->info.revoked_at) :
			sqlite3_bind_null(q, 4)) ||
		    (revoked && rc->info.reason >= 0 ? sqlite3_bind_int(q, 5,
			rc->info.reason) : sqlite3_bind_null(q, 5)) ||
		    sqlite3_bind_int64(q, 6, rc->info.this_update) ||
		    sqlite3_bind_int64(q, 7, rc->info.next_update) ||
		    sqlite3_bind_text(q, 8, rc->signer, -1, SQLITE_STATIC) ||
		    sqlite3_bind_blob(q, 9, rc->der, (int)rc->len,
			SQLITE_STATIC) ||
		    sqlite3_bind_int64(q, 10, *gen) ||
		    sqlite3_step(q) != SQLITE_DONE) {
			r = store_err(st, "writing an OCSP response");
			goto fail;
		}
		*changed += (size_t)sqlite3_changes(store_db(st));
	}
	store_stmt_done(st, g);
	store_stmt_done(st, qc);
	store_stmt_done(st, qr);
	return store_commit(st);
fail:
	store_stmt_done(st, g);
	store_stmt_done(st, qc);
	store_stmt_done(st, qr);
	store_rollback(st);
	return r;
}

/* Persist what the hooks queued (the thread). */
static int
flush(struct ocsp *o)
{
	struct rec *q;
	size_t n, i, changed;
	long long gen = 0;
	int r, lazy;

	pthread_mutex_lock(&o->mu);
	q = o->q;
	n = o->nq;
	o->q = NULL;
	o->nq = o->capq = 0;
	pthread_mutex_unlock(&o->mu);
	if (n == 0)
		return 0;
	for (i = 0, lazy = 1; i < n; i++)
		if (q[i].changed)
			lazy = 0;
	r = write_recs(o->st, q, n, &gen, &changed, lazy);
	if (r == 0) {
		pthread_mutex_lock(&o->mu);
		o->own_gens[o->nown++ % OWN_GENS] = gen;
		pthread_mutex_unlock(&o->mu);
	}
	for (i = 0; i < n; i++)
		rec_clear(&q[i]);
	free(q);
	return r;
}

static void
enqueue(struct ocsp *o, struct rec *recs, size_t n)
{
	size_t i;

	pthread_mutex_lock(&o->mu);
	if (o->nq + n > o->capq) {
		size_t cap = (o->nq + n) * 2;
		struct rec *nq = realloc(o->q, cap * sizeof(*nq));

		if (nq == NULL) {
			/* Served from memory already; the next pass writes
			 * them, as it writes whatever the store lacks. */
			pthread_mutex_unlock(&o->mu);
			for (i = 0; i < n; i++)
				rec_clear(&recs[i]);
			return;
		}
		o->q = nq;
		o->capq = cap;
	}
	for (i = 0; i < n; i++) {
		o->q[o->nq++] = recs[i];
		recs[i].der = NULL;
	}
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static int
own_gen(struct ocsp *o, long long gen)
{
	size_t i, n = o->nown < OWN_GENS ? o->nown : OWN_GENS;

	for (i = 0; i < n; i++)
		if (o->own_gens[i] == gen)
			return 1;
	return 0;
}

static int
status_parse(const char *s)
{
	if (s != NULL && strcmp(s, "revoked") == 0)
		return OCSP_REVOKED;
	if (s != NULL && strcmp(s, "unknown") == 0)
		return OCSP_UNKNOWN;
	return OCSP_GOOD;
}

/* Read what other writers (or, at start, anyone) put in the store. */
static int
poll_store(struct ocsp *o)
{
	sqlite3_stmt *q = NULL;
	long long seen, max;
	int rc, r = 0;

	pthread_mutex_lock(&o->mu);
	seen = max = o->gen_seen;
	pthread_mutex_unlock(&o->mu);
	store_lock(o->st);
	if ((q = store_stmt(o->st, "SELECT issuer, serial, alg, "
	    "status, revoked_at, coalesce(reason, -1), this_update, "
	    "next_update, der, gen FROM ocsp_responses WHERE gen > ? ORDER "
	    "BY gen")) == NULL ||
	    sqlite3_bind_int64(q, 1, seen) != SQLITE_OK) {
		r = store_err(o->st, "reading OCSP responses");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *issuer = (const char *)sqlite3_column_text(q, 0);
		const char *serial = (const char *)sqlite3_column_text(q, 1);
		const char *alg = (const char *)sqlite3_column_text(q, 2);
		long long gen = sqlite3_column_int64(q, 9);
		struct ocsp_resp_info info = { 0 };
		struct ocsp_certid id;
		int a = alg != NULL && strcmp(alg, "sha256") == 0;

		if (gen > max)
			max = gen;
		pthread_mutex_lock(&o->mu);
		rc = own_gen(o, gen);
		pthread_mutex_unlock(&o->mu);
		if (rc || issuer == NULL || serial == NULL ||
		    certid_of(strcmp(issuer, "root") == 0 ? &o->root :
		    &o->self, a, serial, &id) != 0)
			continue;
		info.status = status_parse((const char *)
		    sqlite3_column_text(q, 3));
		info.revoked_at = sqlite3_column_int64(q, 4);
		info.reason = sqlite3_column_int(q, 5);
		info.this_update = sqlite3_column_int64(q, 6);
		info.next_update = sqlite3_column_int64(q, 7);
		if ((r = ocsp_cache_put(o->cache, &id, sqlite3_column_blob(q, 8),
		    (size_t)sqlite3_column_bytes(q, 8), &info)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_err(o->st, "reading OCSP responses");
out:
	store_stmt_done(o->st, q);
	store_unlock(o->st);
	pthread_mutex_lock(&o->mu);
	if (max > o->gen_seen)
		o->gen_seen = max;
	pthread_mutex_unlock(&o->mu);
	return r;
}

/* ---- the root's pre-signed responses (DIR/root-ocsp/) -------------------- */

static long long
gt_epoch(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

/* One file: verified with the root's key, each answer for a CertID under
 * the root taken. */
static int
root_file(struct ocsp *o, const char *path, struct rec *out, size_t max,
    size_t *n)
{
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_STORE *xs = NULL;
	const unsigned char *p;
	char *buf = NULL;
	size_t len;
	int i, r;

	*n = 0;
	if ((r = cairn_read_file(path, 64 * 1024, &buf, &len)) != 0)
		return r;
	p = (const unsigned char *)buf;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL ||
	    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_INVAL, "%s: not a successful "
		    "OCSP response", path);
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL ||
	    (xs = X509_STORE_new()) == NULL ||
	    !sk_X509_push(certs, o->root.cert) ||
	    OCSP_basic_verify(bs, certs, xs, OCSP_NOVERIFY | OCSP_TRUSTOTHER |
	    OCSP_NOEXPLICIT) != 1) {
		r = cairn_error_crypto(CAIRN_E_MEDIA, "%s: not signed by the "
		    "root: not served", path);
		goto out;
	}
	for (i = 0; i < OCSP_resp_count(bs) && *n < max; i++) {
		OCSP_SINGLERESP *s = OCSP_resp_get0(bs, i);
		ASN1_GENERALIZEDTIME *rt = NULL, *tu = NULL, *nu = NULL;
		ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
		ASN1_OBJECT *alg = NULL;
		ASN1_INTEGER *serial = NULL;
		struct ocsp_certid id;
		struct rec *rc = &out[*n];
		int st, reason = -1, nid, k;

		st = OCSP_single_get0_status(s, &reason, &rt, &tu, &nu);
		if (OCSP_id_get0_info(&nh, &alg, &kh, &serial,
		    (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(s)) != 1 ||
		    nu == NULL)
			continue;
		nid = OBJ_obj2nid(alg);
		memset(&id, 0, sizeof(id));
		id.alg = nid == NID_sha256 ? OCSP_ALG_SHA256 : OCSP_ALG_SHA1;
		if ((nid != NID_sha1 && nid != NID_sha256) ||
		    (size_t)ASN1_STRING_length(nh) != ocsp_hash_len(id.alg) ||
		    (size_t)ASN1_STRING_length(kh) != ocsp_hash_len(id.alg) ||
		    ASN1_STRING_length(serial) < 1 ||
		    ASN1_STRING_length(serial) > 20)
			continue;
		memcpy(id.name_hash, ASN1_STRING_get0_data(nh),
		    ocsp_hash_len(id.alg));
		memcpy(id.key_hash, ASN1_STRING_get0_data(kh),
		    ocsp_hash_len(id.alg));
		id.serial_len = (uint8_t)ASN1_STRING_length(serial);
		memcpy(id.serial, ASN1_STRING_get0_data(serial), id.serial_len);
		if (!issuer_match(&o->root, &id))
			continue;
		memset(rc, 0, sizeof(*rc));
		rc->root = 1;
		rc->alg = id.alg;
		for (k = 0; k < id.serial_len; k++)
			snprintf(rc->serial + 2 * k, 3, "%02x", id.serial[k]);
		snprintf(rc->signer, sizeof(rc->signer), "root");
		rc->info.status = st == V_OCSP_CERTSTATUS_GOOD ? OCSP_GOOD :
		    st == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED :
		    OCSP_UNKNOWN;
		rc->info.revoked_at = gt_epoch(rt);
		rc->info.reason = reason;
		rc->info.this_update = gt_epoch(tu);
		rc->info.next_update = gt_epoch(nu);
		if ((rc->der = OPENSSL_malloc(len)) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(rc->der, buf, len);
		rc->len = len;
		if ((r = ocsp_cache_put(o->cache, &id, rc->der, len,
		    &rc->info)) != 0) {
			rec_clear(rc);
			goto out;
		}
		(*n)++;
	}
	r = 0;
out:
	ERR_clear_error();
	sk_X509_free(certs);
	X509_STORE_free(xs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	free(buf);
	return r;
}

/* Every DIR/root-ocsp/ file into the table and the store. */
static int
root_scan(struct ocsp *o)
{
	struct rec recs[64];
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *e;
	size_t n = 0, got, i, changed;
	long long gen;
	DIR *d;
	int r = 0;

	if (!o->root.present)
		return 0;
	if ((d = opendir(ca_path(o->ca, dir, "root-ocsp"))) == NULL)
		return errno == ENOENT ? 0 : cairn_error(CAIRN_E_IO, "%s: %s",
		    dir, strerror(errno));
	while ((e = readdir(d)) != NULL && n < 60) {
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.' || l < 5 ||
		    strcmp(e->d_name + l - 4, ".der") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (root_file(o, path, recs + n, 64 - n, &got) != 0) {
			fprintf(stderr, "cairn-sub: ocsp: %s\n",
			    cairn_errmsg(CAIRN_E_INVAL));
			continue;
		}
		n += got;
	}
	closedir(d);
	if (o->sign)
		r = write_recs(o->st, recs, n, &gen, &changed, 0);
	for (i = 0; i < n; i++)
		rec_clear(&recs[i]);
	return r;
}

/* ---- the pass ----------------------------------------------------------- */

/* The signer to use now, renewed when due (the thread). */
static int
check_signer(struct ocsp *o)
{
	struct ocsp_signer *sg = NULL, *old;
	int r;

	if ((r = ocsp_signer_current(o->ca, o->st, 1, &sg)) != 0)
		return r;
	pthread_mutex_lock(&o->mu);
	old = o->signer;
	o->signer = sg;
	pthread_mutex_unlock(&o->mu);
	if (old == NULL || strcmp(ocsp_signer_id(old),
	    ocsp_signer_id(sg)) != 0) {
		printf("cairn-sub: ocsp: signing with %s%s\n",
		    ocsp_signer_delegated(sg) ? "delegated responder " : "the "
		    "CA key", ocsp_signer_delegated(sg) ? ocsp_signer_id(sg) :
		    "");
		fflush(stdout);
	}
	ocsp_signer_free(old);
	return 0;
}

static struct ocsp_signer *
get_signer(struct ocsp *o)
{
	struct ocsp_signer *sg;

	pthread_mutex_lock(&o->mu);
	if ((sg = o->signer) != NULL)
		ocsp_signer_ref(sg);
	pthread_mutex_unlock(&o->mu);
	return sg;
}

/* Certificates whose responses are missing, due, or say something the
 * certs table no longer says. */
static const char due_sql[] =
    "SELECT c.serial FROM certs c "
    "LEFT JOIN ocsp_responses a ON a.issuer = 'ca' AND a.serial = c.serial "
    "  AND a.alg = 'sha1' "
    "LEFT JOIN ocsp_responses b ON b.issuer = 'ca' AND b.serial = c.serial "
    "  AND b.alg = 'sha256' "
    "WHERE (c.status = 'issued' OR c.revoked_at IS NOT NULL OR "
    "  a.serial IS NOT NULL) AND "
    " (a.serial IS NULL OR b.serial IS NULL "
    "  OR a.next_update - ?1 <= ?2 OR b.next_update - ?1 <= ?2 "
    "  OR a.status != (CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked' "
    "    WHEN c.status = 'issued' THEN 'good' ELSE 'unknown' END) "
    "  OR b.status != a.status "
    "  OR coalesce(a.revoked_at, -1) != coalesce(c.revoked_at, -1) "
    "  OR coalesce(a.reason, -1) != coalesce(c.reason, -1) "
    "  OR (a.signer = 'ca') != ?3 "
    "  OR a.signer IN (SELECT s.serial FROM ocsp_signers s JOIN certs x ON "
    "    x.serial = s.serial WHERE x.revoked_at IS NOT NULL)) "
    "LIMIT ?4";

/*
 * One pass: sign what the due query finds, a batch at a time.  `rdb`: a
 * connection of the caller's own, through which the query scans the
 * certificates without the CA's lock (it reads every row, which with a
 * large store takes long enough to hold up every issuance waiting for
 * that lock); NULL: through the CA's connection, under its lock.  What
 * a snapshot finds is only a candidate: write_recs() stores a response
 * only if the certificate still has the status it was signed with.
 */
static int
pass(struct ocsp *o, size_t *total, sqlite3 *rdb)
{
	struct ocsp_signer *sg = NULL;
	struct rec *recs = NULL;
	char (*serials)[33] = NULL;
	size_t n, i, changed;
	long long gen;
	int rc, r;

	*total = 0;
	if ((r = check_signer(o)) != 0)
		return r;
	sg = get_signer(o);
	serials = calloc(CAIRN_OCSP_BATCH, sizeof(*serials));
	recs = calloc(2 * CAIRN_OCSP_BATCH, sizeof(*recs));
	if (serials == NULL || recs == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		sqlite3 *db = rdb != NULL ? rdb : store_db(o->st);
		sqlite3_stmt *q = NULL;

		n = 0;
		if (rdb == NULL)
			store_lock(o->st);
		if (sqlite3_prepare_v2(db, due_sql, -1, &q, NULL) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(q, 1, o->ca->cfg.ocsp.refresh) ||
		    sqlite3_bind_int64(q, 2, store_now()) ||
		    sqlite3_bind_int(q, 3, !ocsp_signer_delegated(sg)) ||
		    sqlite3_bind_int(q, 4, CAIRN_OCSP_BATCH)) {
			rc = SQLITE_ERROR;
		} else {
			while ((rc = sqlite3_step(q)) == SQLITE_ROW &&
			    n < CAIRN_OCSP_BATCH)
				snprintf(serials[n++], 33, "%s",
				    (const char *)sqlite3_column_text(q, 0));
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			r = cairn_error(CAIRN_E_STORE, "finding OCSP "
			    "responses to sign: %s", sqlite3_errmsg(db));
		sqlite3_finalize(q);
		if (rdb == NULL)
			store_unlock(o->st);
		if (r != 0 || n == 0)
			break;
		for (i = 0; i < n; i++)
			if ((r = sign_cert(o, o->ca, o->st, sg, serials[i],
			    &recs[2 * i], rdb)) != 0)
				break;
		if (r == 0) {
			r = write_recs(o->st, recs, 2 * n, &gen,
			    &changed, 0);
			if (r == 0) {
				pthread_mutex_lock(&o->mu);
				o->own_gens[o->nown++ % OWN_GENS] = gen;
				pthread_mutex_unlock(&o->mu);
			}
		}
		for (i = 0; i < 2 * n; i++)
			rec_clear(&recs[i]);
		if (r != 0)
			break;
		*total += 2 * n;
		/* Nothing written: the rows changed under us every time, or
		 * the query and the writer disagree: stop, try next pass. */
		if (changed == 0) {
			r = cairn_error(CAIRN_E_INTERNAL, "%zu responses signed "
			    "but none stored: will try again", 2 * n);
			break;
		}
	}
out:
	if (*total > 0) {
		json_t *f = json_pack("{s:I, s:s}", "responses",
		    (json_int_t)*total, "signer", ocsp_signer_id(sg));

		ca_audit_event(o->ca, "ocsp responses signed", "system", f);
		json_decref(f);
	}
	free(serials);
	free(recs);
	ocsp_signer_free(sg);
	return r;
}

/* Has the cache a response for `serial`'s SHA-1 CertID (any status)? */
static int
cached(struct ocsp *o, const char *serial)
{
	struct ocsp_certid id;
	struct ocsp_resp_info info;
	uint8_t *der = NULL;
	size_t len;
	int r;

	if (certid_of(&o->self, 0, serial, &id) != 0)
		return 0;
	r = ocsp_cache_get(o->cache, &id, &der, &len, &info);
	free(der);
	return r == 1;
}

/* Sign the responses of `serial` now, cache and queue them for the
 * store; 0, or an error (the next pass tries again).  `rdb`: as for
 * sign_cert(). */
static int
sign_now(struct ocsp *o, const char *serial, sqlite3 *rdb)
{
	struct ocsp_signer *sg;
	struct rec recs[2];
	int r;

	if ((sg = get_signer(o)) == NULL)
		return cairn_error(CAIRN_E_STATE, "no OCSP signer yet");
	if ((r = sign_cert(o, o->ca, o->st, sg, serial, recs, rdb)) == 0)
		enqueue(o, recs, 2);
	ocsp_signer_free(sg);
	return r;
}

/* Milliseconds the pre-signer waits, per certificate at most, for the
 * issuances in progress to finish before it signs anyway. */
#define YIELD_MS 20

/* The certificates issued since the last turn: sign what a query has not
 * had signed already.  `rdb`: as for sign_cert().  `yield`: before each,
 * let issuances in progress finish first (a while at most): enrolling
 * clients wait for their certificates, nobody waits for these. */
static void
sign_issued(struct ocsp *o, sqlite3 *rdb, int yield)
{
	char (*batch)[33];
	size_t i, n;
	int r;

	pthread_mutex_lock(&o->mu);
	n = o->nissued;
	if (n == 0 || (batch = malloc(n * sizeof(*batch))) == NULL) {
		if (n != 0)
			o->pass_now = 1;
		pthread_mutex_unlock(&o->mu);
		return;
	}
	memcpy(batch, o->issued, n * sizeof(*batch));
	o->nissued = 0;
	pthread_mutex_unlock(&o->mu);
	for (i = 0; i < n; i++) {
		int w;

		for (w = 0; yield && w < YIELD_MS &&
		    __atomic_load_n(&o->ca->issuing, __ATOMIC_RELAXED) > 0 &&
		    !__atomic_load_n(&o->stop, __ATOMIC_RELAXED); w++)
			usleep(1000);
		if (!cached(o, batch[i]) &&
		    (r = sign_now(o, batch[i], rdb)) != 0)
			fprintf(stderr, "cairn-sub: ocsp: certificate %s: %s "
			    "(the next pass signs it)\n", batch[i],
			    cairn_errmsg(r));
	}
	free(batch);
}

static void *
run(void *arg)
{
	struct ocsp *o = arg;
	sqlite3 *rdb = NULL;
	long long last_pass = 0, now;
	size_t n;
	int r, first = 1;

	/* The passes' own connection (pass()); without one they read
	 * through the CA's, under its lock. */
	if (o->sign && (rdb = store_reader_open(o->ca->cfg.store)) == NULL)
		fprintf(stderr, "cairn-sub: ocsp: the passes read through "
		    "the CA's connection (no connection of their own)\n");
	if (o->sign) {
		r = pass(o, &n, rdb);
		pthread_mutex_lock(&o->mu);
		o->ready = 1;
		o->ready_err = r;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
		if (r != 0)
			fprintf(stderr, "cairn-sub: ocsp: %s\n",
			    cairn_errmsg(r));
		printf("cairn-sub: ocsp: %zu responses in memory, %zu signed "
		    "now%s\n", ocsp_cache_count(o->cache), n, r == 0 ?
		    ", ready" : "");
		fflush(stdout);
		last_pass = mono_ms();
	}
	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		struct timespec ts;
		int want_pass;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += CAIRN_OCSP_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (o->nq == 0 && !o->pass_now)
			pthread_cond_timedwait(&o->cv, &o->mu, &ts);
		if (o->stop)
			break;
		want_pass = o->pass_now;
		o->pass_now = 0;
		pthread_mutex_unlock(&o->mu);
		if (o->sign && (r = flush(o)) != 0)
			fprintf(stderr, "cairn-sub: ocsp: %s\n",
			    cairn_errmsg(r));
		if ((r = poll_store(o)) != 0)
			fprintf(stderr, "cairn-sub: ocsp: %s\n",
			    cairn_errmsg(r));
		now = mono_ms();
		if (first || want_pass || now - last_pass >= PASS_SEC * 1000) {
			if ((r = root_scan(o)) != 0)
				fprintf(stderr, "cairn-sub: ocsp: root "
				    "responses: %s\n", cairn_errmsg(r));
			if (o->sign && !first) {
				r = pass(o, &n, rdb);
				pthread_mutex_lock(&o->mu);
				o->ready_err = r;
				pthread_mutex_unlock(&o->mu);
				if (r != 0)
					fprintf(stderr, "cairn-sub: ocsp: "
					    "%s\n", cairn_errmsg(r));
			}
			last_pass = now;
			first = 0;
		}
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	if (o->sign) {
		/* What the pre-signer (stopped first) left. */
		sign_issued(o, NULL, 0);
		if ((r = flush(o)) != 0)
			fprintf(stderr, "cairn-sub: ocsp: %s\n",
			    cairn_errmsg(r));
	}
	store_reader_close(rdb);
	return NULL;
}

/*
 * The pre-signer thread: the responses of the certificates just issued
 * (ocsp_cert_issued).  Nobody waits for them (a query that comes first
 * has them signed on the spot, issued_now()), so they are signed here,
 * apart from the responder's thread that persists them, and read each
 * status through a connection of its own, never the CA's locked one.
 *
 * It yields to enrollment by waiting, before each certificate, while
 * issuances are in progress (YIELD_MS at most), holding no lock while it
 * waits; it runs at normal priority.  A lower scheduling priority
 * (SCHED_IDLE, nice 19) was tried and dropped: a thread the scheduler
 * keeps waiting while it holds a lock the revocation path needs (the
 * certificate's stripe, the token's own locks inside C_Sign) delays that
 * revocation, and on a loaded machine one took over a second to reach
 * the CRL.
 */
static void *
presign(void *arg)
{
	struct ocsp *o = arg;
	sqlite3 *db = NULL;
	if ((db = store_reader_open(o->ca->cfg.store)) == NULL)
		fprintf(stderr, "cairn-sub: ocsp: the pre-signer reads "
		    "through the CA's connection (no connection of its "
		    "own)\n");
	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		if (o->nissued == 0) {
			pthread_cond_wait(&o->pcv, &o->mu);
			continue;
		}
		pthread_mutex_unlock(&o->mu);
		sign_issued(o, db, 1);
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	store_reader_close(db);
	return NULL;
}

/* ---- open, close, hooks -------------------------------------------------- */

int
ocsp_open(struct ca *ca, unsigned flags, struct ocsp **out)
{
	struct ocsp *o;
	int i, r;

	*out = NULL;
	if (ca->cert == NULL)
		return cairn_error(CAIRN_E_STATE, "the OCSP responder needs "
		    "this CA's certificate: run cairn-sub import first");
	if ((flags & OCSP_SIGN) && ca->signer == NULL)
		return cairn_error(CAIRN_E_STATE, "signing OCSP responses "
		    "needs the CA key");
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	o->ca = ca;
	o->sign = (flags & OCSP_SIGN) != 0;
	o->tokens = CAIRN_OCSP_SIGN_RATE;
	o->tokens_ms = mono_ms();
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	pthread_cond_init(&o->pcv, NULL);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&o->stripe[i], NULL);
	if ((o->cache = ocsp_cache_new()) == NULL ||
	    (o->sign && (o->unknown = calloc(CAIRN_OCSP_UNKNOWN_SLOTS,
		sizeof(*o->unknown))) == NULL) ||
	    (o->sign && (o->issued = calloc(CAIRN_OCSP_ISSUED_QUEUE,
		sizeof(*o->issued))) == NULL)) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((r = issuer_init(&o->self, ca->cert)) != 0 ||
	    (r = issuer_init(&o->root, ca->root)) != 0 ||
	    (o->st = ca->store, r = poll_store(o)) != 0)
		goto fail;
	if (o->sign && (r = root_scan(o)) != 0)
		fprintf(stderr, "cairn-sub: ocsp: root responses: %s\n",
		    cairn_errmsg(r));
	ca->ocsp = o;
	if (pthread_create(&o->thread, NULL, run, o) != 0) {
		ca->ocsp = NULL;
		r = cairn_error(CAIRN_E_INTERNAL, "cannot start the OCSP "
		    "thread");
		goto fail;
	}
	o->thread_started = 1;
	if (o->sign) {
		if (pthread_create(&o->pthread, NULL, presign, o) != 0) {
			r = cairn_error(CAIRN_E_INTERNAL, "cannot start the "
			    "OCSP pre-signing thread");
			ca->ocsp = NULL;
			goto fail;
		}
		o->pthread_started = 1;
	}
	*out = o;
	return 0;
fail:
	ocsp_close(o);
	return r;
}

void
ocsp_close(struct ocsp *o)
{
	size_t i;

	if (o == NULL)
		return;
	if (o->thread_started) {
		pthread_mutex_lock(&o->mu);
		o->stop = 1;
		pthread_cond_broadcast(&o->cv);
		pthread_cond_broadcast(&o->pcv);
		pthread_mutex_unlock(&o->mu);
		if (o->pthread_started)
			pthread_join(o->pthread, NULL);
		pthread_join(o->thread, NULL);
	}
	if (o->ca != NULL && o->ca->ocsp == o)
		o->ca->ocsp = NULL;
	for (i = 0; i < o->nq; i++)
		rec_clear(&o->q[i]);
	free(o->q);
	for (i = 0; o->unknown != NULL && i < CAIRN_OCSP_UNKNOWN_SLOTS; i++)
		OPENSSL_free(o->unknown[i].der);
	free(o->unknown);
	free(o->issued);
	ocsp_signer_free(o->signer);
	ocsp_cache_free(o->cache);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&o->stripe[i]);
	pthread_cond_destroy(&o->pcv);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

int
ocsp_wait_ready(struct ocsp *o)
{
	int r;

	pthread_mutex_lock(&o->mu);
	while (o->sign && !o->ready)
		pthread_cond_wait(&o->cv, &o->mu);
	r = o->ready_err;
	pthread_mutex_unlock(&o->mu);
	return r;
}

void
ocsp_stats(struct ocsp *o, size_t *entries, unsigned long long *signed_,
    size_t *pending)
{
	*entries = ocsp_cache_count(o->cache);
	pthread_mutex_lock(&o->mu);
	*signed_ = o->nsigned;
	*pending = o->nissued;
	pthread_mutex_unlock(&o->mu);
}

void
ocsp_cert_issued(struct ca *ca, const char *serial)
{
	struct ocsp *o = ca->ocsp;

	if (o == NULL || !o->sign || o->issued == NULL) {
		ocsp_cert_changed(ca, serial);
		return;
	}
	pthread_mutex_lock(&o->mu);
	if (o->nissued < CAIRN_OCSP_ISSUED_QUEUE) {
		snprintf(o->issued[o->nissued++], sizeof(o->issued[0]), "%s",
		    serial);
		pthread_cond_signal(&o->pcv);
	} else {
		o->pass_now = 1;        /* the pass signs what is missing */
		pthread_cond_signal(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
}

void
ocsp_cert_changed(struct ca *ca, const char *serial)
{
	struct ocsp *o = ca->ocsp;
	struct ocsp_signer *sg = NULL;
	struct rec recs[2];
	size_t changed;
	long long gen;
	char saved[CAIRN_ERRMSG_MAX];
	int r;

	if (ca->cert == NULL)
		return;
	/* Keep the caller's error detail: this never fails it. */
	snprintf(saved, sizeof(saved), "%s", cairn_errmsg(0));
	if (o != NULL && o->sign) {
		if ((sg = get_signer(o)) == NULL)
			goto out;       /* the first pass will sign it */
		if ((r = sign_cert(o, ca, ca->store, sg, serial, recs,
		    NULL)) == 0) {
			recs[0].changed = recs[1].changed = 1;
			enqueue(o, recs, 2);
		}
	} else if (ca->signer != NULL) {
		/* An admin command: sign with the current signer, if the
		 * daemon made one, straight into the store. */
		if ((r = ocsp_signer_current(ca, ca->store, 0, &sg)) != 0 ||
		    sg == NULL)
			goto out;
		if ((r = sign_cert(NULL, ca, ca->store, sg, serial,
		    recs, NULL)) == 0) {
			r = write_recs(ca->store, recs, 2, &gen,
			    &changed, 0);
			rec_clear(&recs[0]);
			rec_clear(&recs[1]);
		}
	} else {
		goto out;
	}
	if (r != 0)
		fprintf(stderr, "cairn-sub: ocsp: certificate %s: %s (the "
		    "daemon's next pass signs it)\n", serial, cairn_errmsg(r));
out:
	ocsp_signer_free(sg);
	cairn_error(0, "%s", saved);
}

/* ---- answering ---------------------------------------------------------- */

static int
take_token(struct ocsp *o)
{
	long long now = mono_ms();
	int ok;

	pthread_mutex_lock(&o->mu);
	o->tokens += (double)(now - o->tokens_ms) * CAIRN_OCSP_SIGN_RATE /
	    1000.0;
	if (o->tokens > CAIRN_OCSP_SIGN_RATE)
		o->tokens = CAIRN_OCSP_SIGN_RATE;
	o->tokens_ms = now;
	if ((ok = o->tokens >= 1.0))
		o->tokens -= 1.0;
	pthread_mutex_unlock(&o->mu);
	return ok;
}

static void
http_date(char *buf, size_t n, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
answer_error(struct http_response *resp, int status)
{
	size_t len;
	const uint8_t *der = ocspb_error(status, &len);

	http_resp_bytes(resp, 200, "application/ocsp-response", der, len);
	http_resp_header(resp, "Cache-Control: no-store");
}

/* A signed response: `der` (malloc()ed) handed to the server. */
static void
answer(struct http_response *resp, uint8_t *der, size_t len,
    const struct ocsp_resp_info *info, int cacheable)
{
	char lm[40], ex[40];
	long long now = store_now();

	resp->status = 200;
	snprintf(resp->content_type, sizeof(resp->content_type),
	    "application/ocsp-response");
	free(resp->body);
	resp->body = der;
	resp->body_len = len;
	if (!cacheable) {
		http_resp_header(resp, "Cache-Control: no-store");
		return;
	}
	/* RFC 5019 6.2 */
	http_date(lm, sizeof(lm), info->this_update);
	http_date(ex, sizeof(ex), info->next_update);
	http_resp_header(resp, "Cache-Control: max-age=%lld, public, "
	    "no-transform, must-revalidate", info->next_update - now);
	http_resp_header(resp, "Last-Modified: %s", lm);
	http_resp_header(resp, "Expires: %s", ex);
	http_resp_header(resp, "ETag: %s", info->etag);
}

/* A serial of this CA that it never issued (or that a crash left at
 * 'intended'): "unknown", signed on demand, kept in a slot. */
/*
 * A miss for a serial the store has as issued: a certificate released a
 * moment ago whose responses the background thread has not signed yet.
 * Sign them now (only issued serials get here, each once, so no rate
 * limit is needed) and answer from the cache: 1 with *der (free()), or 0.
 */
static int
issued_now(struct ocsp *o, const struct ocsp_certid *id, uint8_t **der,
    size_t *len, struct ocsp_resp_info *info)
{
	struct ocsp_resp_info st;
	uint8_t b[16] = { 0 };
	char serial[33];

	if (id->serial_len == 0 || id->serial_len > sizeof(b))
		return 0;
	memcpy(b + sizeof(b) - id->serial_len, id->serial, id->serial_len);
	cairn_hex(serial, b, sizeof(b), 0);
	if (cert_status(o->st, serial, &st) != 0 || st.status == OCSP_UNKNOWN ||
	    sign_now(o, serial, NULL) != 0) {
		cairn_error_clear();
		return 0;
	}
	return ocsp_cache_get(o->cache, id, der, len, info) == 1;
}

static void
answer_unknown(struct ocsp *o, const struct ocsp_certid *id,
    struct http_response *resp)
{
	struct unknown_slot *sl;
	struct ocsp_signer *sg;
	struct ocsp_resp_info info = { 0 };
	uint8_t *der = NULL, *copy;
	size_t len;
	long long now = store_now();

	sl = &o->unknown[ocsp_certid_hash(id) % CAIRN_OCSP_UNKNOWN_SLOTS];
	pthread_mutex_lock(&o->mu);
	if (sl->der != NULL && ocsp_certid_eq(&sl->id, id) &&
	    sl->info.next_update - o->ca->cfg.ocsp.refresh > now &&
	    (copy = malloc(sl->len)) != NULL) {
		memcpy(copy, sl->der, sl->len);
		len = sl->len;
		info = sl->info;
		pthread_mutex_unlock(&o->mu);
		answer(resp, copy, len, &info, 1);
		return;
	}
	pthread_mutex_unlock(&o->mu);
	if (!take_token(o)) {
		answer_error(resp, OCSP_RESPONSE_STATUS_TRYLATER);
		return;
	}
	if ((sg = get_signer(o)) == NULL) {
		answer_error(resp, OCSP_RESPONSE_STATUS_TRYLATER);
		return;
	}
	info.status = OCSP_UNKNOWN;
	info.reason = -1;
	if (sign_ids(o->ca, sg, id, &info, 1, NULL, &der, &len) != 0 ||
	    (copy = malloc(len)) == NULL) {
		fprintf(stderr, "cairn-sub: ocsp: signing an unknown answer: "
		    "%s\n", cairn_errmsg(CAIRN_E_CRYPTO));
		OPENSSL_free(der);
		ocsp_signer_free(sg);
		answer_error(resp, OCSP_RESPONSE_STATUS_INTERNALERROR);
		return;
	}
	ocsp_signer_free(sg);
	memcpy(copy, der, len);
	snprintf(info.etag, sizeof(info.etag), "\"u%08x%023lld\"",
	    ocsp_certid_hash(id), info.this_update);
	pthread_mutex_lock(&o->mu);
	OPENSSL_free(sl->der);
	sl->id = *id;
	sl->der = der;
	sl->len = len;
	sl->info = info;
	o->nsigned++;
	pthread_mutex_unlock(&o->mu);
	answer(resp, copy, len, &info, 1);
}

/* Several certificates, or a nonce to echo: one response signed now
 * (ocsp.on_demand). */
static void
answer_fresh(struct ocsp *o, const struct ocsp_req *rq,
    struct http_response *resp)
{
	struct ocsp_resp_info infos[CAIRN_OCSP_REQ_CERTS_MAX];
	X509_EXTENSION *nonce = NULL;
	ASN1_OCTET_STRING *os = NULL;
	struct ocsp_signer *sg = NULL;
	uint8_t *der = NULL, *copy = NULL, *tmp;
	size_t i, len, tl;
	long long now = store_now();
	int r;

	for (i = 0; i < rq->n; i++) {
		if (!issuer_match(&o->self, &rq->ids[i])) {
			/* Only this CA's answers can be signed here. */
			answer_error(resp, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
			return;
		}
		memset(&infos[i], 0, sizeof(infos[i]));
		infos[i].reason = -1;
		r = ocsp_cache_get(o->cache, &rq->ids[i], &tmp, &tl, &infos[i]);
		free(tmp);
		if (r < 0) {
			answer_error(resp, OCSP_RESPONSE_STATUS_INTERNALERROR);
			return;
		}
		if (r == 0 || infos[i].next_update <= now) {
			if (r == 1) {
				answer_error(resp,
				    OCSP_RESPONSE_STATUS_TRYLATER);
				return;
			}
			infos[i].status = OCSP_UNKNOWN;
		}
	}
	if (!take_token(o) || (sg = get_signer(o)) == NULL) {
		answer_error(resp, OCSP_RESPONSE_STATUS_TRYLATER);
		return;
	}
	if (rq->has_nonce && ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, rq->nonce, (int)rq->nonce_len) != 1 ||
	    (nonce = X509_EXTENSION_create_by_NID(NULL,
		NID_id_pkix_OCSP_Nonce, 0, os)) == NULL)) {
		r = CAIRN_E_NOMEM;
		goto out;
	}
	if ((r = sign_ids(o->ca, sg, rq->ids, infos, rq->n, nonce, &der,
	    &len)) != 0 || (copy = malloc(len)) == NULL) {
		r = r != 0 ? r : CAIRN_E_NOMEM;
		goto out;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&o->mu);
	o->nsigned++;
	pthread_mutex_unlock(&o->mu);
	answer(resp, copy, len, &infos[0], 0);
	copy = NULL;
out:
	if (r != 0) {
		fprintf(stderr, "cairn-sub: ocsp: signing on demand: %s\n",
		    cairn_errmsg(r));
		answer_error(resp, OCSP_RESPONSE_STATUS_INTERNALERROR);
	}
	ERR_clear_error();
	OPENSSL_free(der);
	X509_EXTENSION_free(nonce);
	ASN1_OCTET_STRING_free(os);
	ocsp_signer_free(sg);
}

static void
respond(struct ocsp *o, const uint8_t *der, size_t len,
    struct http_response *resp)
{
	struct ocsp_req rq;
	struct ocsp_resp_info info;
	uint8_t *out = NULL;
	size_t olen;
	int r;

	if (ocsp_req_parse(der, len, &rq) != 0) {
		answer_error(resp, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
		return;
	}
	if (rq.n > 1 || (rq.has_nonce && o->ca->cfg.ocsp.on_demand)) {
		/* Pre-signed answers hold one certificate and no nonce;
		 * RFC 5019 2.1.1 asks clients for one certificate. */
		if (o->sign && o->ca->cfg.ocsp.on_demand)
			answer_fresh(o, &rq, resp);
		else if (rq.n > 1)
			answer_error(resp,
			    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
		else
			goto presigned;
		return;
	}
presigned:
	if ((r = ocsp_cache_get(o->cache, &rq.ids[0], &out, &olen,
	    &info)) < 0) {
		answer_error(resp, OCSP_RESPONSE_STATUS_INTERNALERROR);
		return;
	}
	if (r == 1) {
		/* Never served past its nextUpdate. */
		if (info.next_update <= store_now()) {
			free(out);
			answer_error(resp, OCSP_RESPONSE_STATUS_TRYLATER);
			return;
		}
		answer(resp, out, olen, &info, 1);
		return;
	}
	if (o->sign && issuer_match(&o->self, &rq.ids[0])) {
		int ready;

		/* Until the first pass has signed what the store lacked, a
		 * miss may be a certificate issued while no daemon ran. */
		pthread_mutex_lock(&o->mu);
		ready = o->ready && o->ready_err == 0;
		pthread_mutex_unlock(&o->mu);
		if (!ready)
			answer_error(resp, OCSP_RESPONSE_STATUS_TRYLATER);
		else if (issued_now(o, &rq.ids[0], &out, &olen, &info))
			answer(resp, out, olen, &info, 1);
		else
			answer_unknown(o, &rq.ids[0], resp);
	} else
		/* RFC 5019 2.2.3: no authoritative answer here. */
		answer_error(resp, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

int
ocsp_handle(struct ocsp *o, const struct http_request *req,
    struct http_response *resp)
{
	const char *rest, *ct;
	uint8_t buf[CAIRN_OCSP_REQ_MAX];
	size_t len;

	if (strncmp(req->path, "/ocsp", 5) != 0 ||
	    (req->path[5] != '\0' && req->path[5] != '/'))
		return 0;
	rest = req->path + 5;
	if (strcmp(req->method, "POST") == 0) {
		ct = http_header(req, "Content-Type");
		if (ct == NULL || strncasecmp(ct, "application/ocsp-request",
		    24) != 0 || (ct[24] != '\0' && ct[24] != ';' &&
		    ct[24] != ' ')) {
			answer_error(resp,
			    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
			return 1;
		}
		respond(o, req->body, req->body_len, resp);
		return 1;
	}
	if (strcmp(req->method, "GET") == 0) {
		if (rest[0] == '\0' || rest[1] == '\0' ||
		    ocsp_get_decode(rest + 1, strlen(rest + 1), buf,
		    sizeof(buf), &len) != 0) {
			answer_error(resp,
			    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
			return 1;
		}
		respond(o, buf, len, resp);
		return 1;
	}
	http_resp_text(resp, 405, NULL, "OCSP: GET or POST only\n");
	http_resp_header(resp, "Allow: GET, POST");
	return 1;
}
