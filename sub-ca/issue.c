/*
 * issue.c: the one issuance path (see ca.h): policy, build, lint, intent,
 * sign, record, audit.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/lint.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "sub-ca/ca.h"
#include "sub-ca/scep.h"

void
issue_result_clear(struct issue_result *res)
{
	size_t i;

	X509_free(res->cert);
	for (i = 0; res->notes != NULL && res->notes[i] != NULL; i++)
		free(res->notes[i]);
	free(res->notes);
	memset(res, 0, sizeof(*res));
}

/* Audit a refused request, keeping the refusal's message. */
static void
audit_refusal(struct ca *ca, const struct issue_req *rq, int why)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "template",
	    rq->template_name != NULL ? rq->template_name : "", "via",
	    rq->via != NULL ? rq->via : "", "result", "refused");

	ca_audit_refusal(ca, "request refused", rq->who->name, o, why);
	json_decref(o);
}

/* What the CA adds to every certificate it issues. */
static int
ca_fill(struct ca *ca, struct profile *p)
{
	long long ca_end;
	int r = 0;

	if (ca->cfg.crl_url != NULL)
		r = profile_strv_add(&p->crl_urls, ca->cfg.crl_url);
	if (r == 0 && ca->cfg.ca_issuers_url != NULL)
		r = profile_strv_add(&p->ca_issuers_urls,
		    ca->cfg.ca_issuers_url);
	if (r == 0 && ca->cfg.ocsp_url != NULL)
		r = profile_strv_add(&p->ocsp_urls, ca->cfg.ocsp_url);
	if (r != 0)
		return r;
	p->md = ca->md;
	/* No certificate outlives its issuer (RFC 5280 6.1: it could not be
	 * validated after). */
	if (ca->cert != NULL) {
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(ca->cert), &tm) == 1) {
			ca_end = (long long)timegm(&tm);
			if (p->not_after > ca_end)
				p->not_after = ca_end;
		}
	}
	return 0;
}

struct intent {
	long long request_id;       /* 0: insert a request row too */
	const char *template_name;
	const char *template_digest;
	const char *requester;
	const char *via;
	const uint8_t *csr;
	size_t csr_len;
	int (*on_record)(void *, struct ca *, long long); /* issue_req's */
	void *on_record_arg;
};

static int
insert_request(struct ca *ca, const struct intent *in, const char *status,
    long long *id)
{
	sqlite3 *db = store_db(ca->store);
	sqlite3_stmt *st = NULL;
	int r = 0;

	if ((st = store_stmt(ca->store, "INSERT INTO requests (created, "
	    "template, template_digest, requester, via, csr, status) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?)")) == NULL ||
	    sqlite3_bind_int64(st, 1, store_now()) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, in->template_name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 3, in->template_digest, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 4, in->requester, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 5, in->via, -1, SQLITE_STATIC) ||
	    (in->csr != NULL ? sqlite3_bind_blob(st, 6, in->csr,
		(int)in->csr_len, SQLITE_STATIC) : sqlite3_bind_null(st, 6)) ||
	    sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(ca->store, "recording the request");
	else
		*id = sqlite3_last_insert_rowid(db);
	store_stmt_done(ca->store, st);
	return r;
}

static int
set_request(struct ca *ca, long long id, const char *status,
    const char *serial, const char *decided_by, const char *note)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if ((st = store_stmt(ca->store, "UPDATE requests SET "
	    "status = ?, serial = coalesce(?, serial), decided_by = "
	    "coalesce(?, decided_by), decided_at = CASE WHEN ? IS NULL THEN "
	    "decided_at ELSE ? END, note = coalesce(?, note) WHERE id = ?")) ==
	    NULL ||
	    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 3, decided_by, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 4, decided_by, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 5, store_now()) ||
	    sqlite3_bind_text(st, 6, note, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 7, id) || sqlite3_step(st) != SQLITE_DONE)
		r = store_err(ca->store, "updating the request");
	store_stmt_done(ca->store, st);
	return r;
}

static long long
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

/* What record_intent and record_issued hand to store_run(). */
struct record {
	struct ca *ca;
	struct intent *in;
	X509 *x;
	const char *serial;
	const uint8_t *bytes;   /* intent: the TBS; issued: the DER */
	size_t len;
	const char *subject;
	char hash[65];          /* SHA-256 of bytes, hex */
};

static int
intent_job(struct store *s, void *arg)
{
	struct record *rc = arg;
	struct intent *in = rc->in;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int r;

	if (in->request_id == 0) {
		if ((r = insert_request(rc->ca, in, "issuing",
		    &in->request_id)) != 0)
			return r;
		/* The front end's part of the same record (issue_req's
		 * on_record: a SCEP challenge spent), rolled back with it. */
		if (in->on_record != NULL && (r = in->on_record(
		    in->on_record_arg, rc->ca, in->request_id)) != 0)
			return r;
	}
	if ((st = store_stmt(s, "INSERT INTO certs "
	    "(serial, request_id, status, tbs, subject, not_before, "
	    "not_after, template, template_digest, requester, created) VALUES "
	    "(?, ?, 'intended', ?, ?, ?, ?, ?, ?, ?, ?)")) == NULL ||
	    sqlite3_bind_text(st, 1, rc->serial, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 2, in->request_id) ||
	    sqlite3_bind_blob(st, 3, rc->bytes, (int)rc->len, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 4, rc->subject, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 5, asn1_epoch(X509_get0_notBefore(rc->x))) ||
	    sqlite3_bind_int64(st, 6, asn1_epoch(X509_get0_notAfter(rc->x))) ||
	    sqlite3_bind_text(st, 7, in->template_name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 8, in->template_digest, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 9, in->requester, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 10, store_now())) {
		r = store_err(s, "recording the intent");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sqlite3_extended_errcode(store_db(s)) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY ? cairn_error(CAIRN_E_EXISTS,
		    "serial %s exists", rc->serial) :
		    store_err(s, "recording the intent");
		goto out;
	}
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "event", "intent", "actor", in->requester, "request",
	    (json_int_t)in->request_id, "serial", rc->serial, "subject",
	    rc->subject, "template", in->template_name, "template_digest",
	    in->template_digest, "tbs_sha256", rc->hash, "via", in->via);
	r = o == NULL ? cairn_error(CAIRN_E_NOMEM, "out of memory") :
	    store_audit(s, o);
out:
	store_stmt_done(s, st);
	json_decref(o);
	return r;
}

/*
 * Record the intent: the request (when new), the certificate row at
 * 'intended' with its TBS bytes, and the audit record, committed (with
 * other threads' records: store_run).  A serial that exists already (1 in
 * 2^127, or a broken RNG) is CAIRN_E_EXISTS and the caller draws again;
 * a request row this job inserted is then rolled back with it.
 */
static int
record_intent(struct ca *ca, struct intent *in, X509 *x, const char *serial,
    const uint8_t *tbs, size_t tbslen)
{
	struct record rc = { ca, in, x, serial, tbs, tbslen, NULL, "" };
	char *subject = cairn_name_text(X509_get_subject_name(x), 1);
	long long id = in->request_id;
	int r;

	rc.subject = subject != NULL ? subject : "";
	cairn_sha256_hex(tbs, tbslen, rc.hash);
	if ((r = store_run(ca->store, intent_job, &rc)) != 0)
		in->request_id = id;
	free(subject);
	return r;
}

static int
issued_job(struct store *s, void *arg)
{
	struct record *rc = arg;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int r;

	if ((st = store_stmt(s, "UPDATE certs SET status = 'issued', der = ? "
	    "WHERE serial = ? AND status = 'intended'")) == NULL ||
	    sqlite3_bind_blob(st, 1, rc->bytes, (int)rc->len, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, rc->serial, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(store_db(s)) != 1) {
		r = store_err(s, "recording the certificate");
		goto out;
	}
	if ((r = set_request(rc->ca, rc->in->request_id, "issued", rc->serial,
	    NULL, NULL)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "event", "issued",
	    "actor", rc->in->requester, "request",
	    (json_int_t)rc->in->request_id, "serial", rc->serial,
	    "cert_sha256", rc->hash);
	r = o == NULL ? cairn_error(CAIRN_E_NOMEM, "out of memory") :
	    store_audit(s, o);
out:
	store_stmt_done(s, st);
	json_decref(o);
	return r;
}

/* The issued record's commit, on a committer thread while the caller's
 * thread runs issue_req.on_signed: the error detail is thread-local, so
 * it comes back in `msg`. */
struct commit_job {
	struct store *st;
	struct record *rc;
	int r, done;
	char msg[CAIRN_ERRMSG_MAX];
	struct commit_job *next;
};

/* Committer threads, started as needed and kept (creating a thread costs
 * about 0.2 ms here, a wake-up a tenth of that); at most COMMITTERS. */
#define COMMITTERS 64
static pthread_mutex_t cmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ccv = PTHREAD_COND_INITIALIZER;      /* work */
static pthread_cond_t cdone = PTHREAD_COND_INITIALIZER;    /* done */
static struct commit_job *cq, **cqtail = &cq;
static int cidle, cthreads;

static void *
committer(void *p)
{
	struct commit_job *cj;

	(void)p;
	pthread_mutex_lock(&cmu);
	for (;;) {
		while (cq == NULL) {
			cidle++;
			pthread_cond_wait(&ccv, &cmu);
			cidle--;
		}
		cj = cq;
		if ((cq = cj->next) == NULL)
			cqtail = &cq;
		pthread_mutex_unlock(&cmu);
		cj->r = store_run(cj->st, issued_job, cj->rc);
		if (cj->r != 0)
			snprintf(cj->msg, sizeof(cj->msg), "%s",
			    cairn_errmsg(cj->r));
		pthread_mutex_lock(&cmu);
		cj->done = 1;
		pthread_cond_broadcast(&cdone);
	}
	return NULL;
}

/* Hand `cj` to a committer; 0 when none can be had (run it yourself). */
static int
commit_async(struct commit_job *cj)
{
	pthread_attr_t at;
	pthread_t t;
	int ok = 1;

	pthread_mutex_lock(&cmu);
	if (cidle == 0) {
		ok = cthreads < COMMITTERS && pthread_attr_init(&at) == 0;
		if (ok) {
			pthread_attr_setdetachstate(&at,
			    PTHREAD_CREATE_DETACHED);
			ok = pthread_create(&t, &at, committer, NULL) == 0;
			pthread_attr_destroy(&at);
		}
		if (ok)
			cthreads++;
	}
	if (ok) {
		cj->next = NULL;
		*cqtail = cj;
		cqtail = &cj->next;
		pthread_cond_signal(&ccv);
	}
	pthread_mutex_unlock(&cmu);
	return ok;
}

static void
commit_wait(struct commit_job *cj)
{
	pthread_mutex_lock(&cmu);
	while (!cj->done)
		pthread_cond_wait(&cdone, &cmu);
	pthread_mutex_unlock(&cmu);
}

/* Record the signed certificate and its audit record, committed before
 * anyone sees it (with other threads' records: store_run).  With
 * `fn` (issue_req.on_signed), the commit runs on a committer thread and
 * `fn` at once on this one (an enrolling client waits for `fn`: SCEP's
 * CertRep, an RA signature); with no committer to be had, one after the
 * other. */
static int
record_issued(struct ca *ca, struct intent *in, X509 *x,
    const char *serial, void (*fn)(void *, X509 *), void *arg)
{
	struct record rc = { ca, in, x, serial, NULL, 0, NULL, "" };
	struct commit_job cj = { ca->store, &rc, 0, 0, "", NULL };
	uint8_t *der = NULL;
	int len, r;

	if ((len = i2d_X509(x, &der)) <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the "
		    "certificate");
	rc.bytes = der;
	rc.len = (size_t)len;
	cairn_sha256_hex(der, (size_t)len, rc.hash);
	if (fn != NULL && commit_async(&cj)) {
		fn(arg, x);
		commit_wait(&cj);
		r = cj.r != 0 ? cairn_error(cj.r, "%s", cj.msg) : 0;
	} else {
		r = store_run(ca->store, issued_job, &rc);
		if (fn != NULL)
			fn(arg, x);
	}
	OPENSSL_free(der);
	return r;
}

/* The request failed after its intent was recorded (lint, HSM): say so
 * in the request and the log; the intended row stays, never good. */
static void
record_failure(struct ca *ca, const struct intent *in, int why)
{
	char saved[CAIRN_ERRMSG_MAX];
	json_t *o;

	snprintf(saved, sizeof(saved), "%s", cairn_errmsg(why));
	if (in->request_id != 0 && store_begin(ca->store) == 0) {
		o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "event",
		    "issuance failed", "actor", in->requester, "request",
		    (json_int_t)in->request_id, "error", cairn_errname(why),
		    "reason", saved);
		if (o != NULL && set_request(ca, in->request_id, "failed",
		    NULL, NULL, saved) == 0 && store_audit(ca->store, o) == 0)
			store_commit(ca->store);
		else
			store_rollback(ca->store);
		json_decref(o);
	}
	cairn_error(why, "%s", saved);
}

/*
 * Failpoints for the crash tests (tests/integration/durability.sh): when
 * CAIRN_TEST_FAILPOINT names this point, the process dies at once with
 * SIGKILL, as a power cut or the OOM killer would stop it, leaving the
 * store as that moment left it.  Points: before-intent, after-intent
 * (committed, not signed), after-sign (signed, not recorded), after-store
 * (recorded, not yet released to the client).
 */
static void
failpoint(const char *name)
{
	const char *fp = getenv("CAIRN_TEST_FAILPOINT");

	if (fp != NULL && strcmp(fp, name) == 0)
		raise(SIGKILL);
}

/* Steps 2 to 6 for a profile that policy has produced. */
static int
build_sign_record(struct ca *ca, struct intent *in, struct profile *p,
    EVP_PKEY *subject_pub, enum lint_role role, X509 **out,
    char serial[33], void (*on_signed)(void *, X509 *), void *on_signed_arg)
{
	X509 *x = NULL;
	uint8_t *tbs = NULL;
	int tries, tbslen = 0, r = 0;

	*out = NULL;
	if (ca->signer == NULL || ca->cert == NULL)
		return cairn_error(CAIRN_E_STATE, "the CA has no key or no "
		    "certificate open");
	__atomic_add_fetch(&ca->issuing, 1, __ATOMIC_RELAXED);
	for (tries = 0; tries < 3; tries++) {
		X509_free(x);
		x = NULL;
		OPENSSL_free(tbs);
		tbs = NULL;
		if ((r = profile_build(p, subject_pub, ca->cert, NULL,
		    &x)) != 0 ||
		    (r = lint_cert(x, ca->cert, ca->pub, role)) != 0) {
			record_failure(ca, in, r);
			goto out;
		}
		/* The bytes the intent records are the ones linted and,
		 * after the trial signature set the algorithm, the ones the
		 * HSM will sign (checked again after signing). */
		if ((r = lint_trial_cert(x, ca->pub, ca->md, &tbs,
		    &tbslen)) != 0) {
			record_failure(ca, in, r);
			goto out;
		}
		ca_serial_of(x, serial);
		failpoint("before-intent");
		r = record_intent(ca, in, x, serial, tbs, (size_t)tbslen);
		if (r != CAIRN_E_EXISTS)
			break;
	}
	if (r != 0)
		goto out;
	failpoint("after-intent");
	/* The signature is checked against the bytes the intent recorded,
	 * not against a second trial signature. */
	if ((r = lint_sign_cert_as(x, ca->signer, ca->pub, ca->md, tbs,
	    tbslen)) != 0) {
		record_failure(ca, in, r);
		goto out;
	}
	failpoint("after-sign");
	if ((r = record_issued(ca, in, x, serial, on_signed,
	    on_signed_arg)) != 0)
		goto out;
	/* Its OCSP responses: signed in the background, or on the first
	 * query that comes before (never "unknown" once released). */
	ocsp_cert_issued(ca, serial);
	failpoint("after-store");
	*out = x; /* transferred: committed, may be released */
	x = NULL;
out:
	__atomic_sub_fetch(&ca->issuing, 1, __ATOMIC_RELAXED);
	ERR_clear_error();
	OPENSSL_free(tbs);
	X509_free(x);
	return r;
}

static void
identity_of(const struct actor *who, struct tpl_identity *id)
{
	static char *const all_roles[] = { "admin", "manager", "auditor",
		"enrollee", NULL };

	id->account = who->name;
	id->email = who->email;
	id->roles = who->local ? all_roles : who->role_names;
	id->groups = who->groups;
}

int
issue_submit(struct ca *ca, const struct issue_req *rq,
    struct issue_result *res)
{
	const struct template *t;
	struct tpl_identity id;
	struct profile *p = NULL;
	struct intent in = { 0 };
	uint8_t *csr = NULL;
	int len, r;

	memset(res, 0, sizeof(*res));
	if ((t = template_find(ca->templates, rq->template_name)) == NULL) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "no template \"%.64s\"",
		    rq->template_name);
		audit_refusal(ca, rq, r);
		return r;
	}
	identity_of(rq->who, &id);
	if (!rq->who->local && (r = template_may_enroll(t, &id)) != 0) {
		audit_refusal(ca, rq, r);
		return r;
	}
	if ((p = profile_new()) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if ((r = template_apply(t, &id, rq->csr, store_now(), p,
	    &res->notes)) != 0 ||
	    (r = template_attest(t, rq->attested, p)) != 0 ||
	    (r = ca_fill(ca, p)) != 0) {
		audit_refusal(ca, rq, r);
		goto out;
	}
	if ((len = i2d_X509_REQ(rq->csr, &csr)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CSR, "encoding the request");
		goto out;
	}
	in.template_name = t->name;
	in.template_digest = t->digest;
	in.requester = rq->who->name;
	in.via = rq->via;
	in.csr = csr;
	in.csr_len = (size_t)len;
	in.on_record = rq->on_record;
	in.on_record_arg = rq->on_record_arg;
	if (t->approval) {
		json_t *o;

		if ((r = store_begin(ca->store)) != 0)
			goto out;
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event",
		    "request pending", "actor", in.requester, "template",
		    t->name, "template_digest", t->digest, "via", in.via);
		if (o == NULL ||
		    (r = insert_request(ca, &in, "pending",
			&res->request_id)) != 0 ||
		    (rq->on_record != NULL && (r = rq->on_record(
			rq->on_record_arg, ca, res->request_id)) != 0) ||
		    json_object_set_new(o, "request",
			json_integer(res->request_id)) != 0 ||
		    (r = store_audit(ca->store, o)) != 0) {
			r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of "
			    "memory");
			store_rollback(ca->store);
			json_decref(o);
			goto out;
		}
		json_decref(o);
		if ((r = store_commit(ca->store)) != 0)
			goto out;
		res->status = ISSUE_PENDING;
		goto out;
	}
	if ((r = build_sign_record(ca, &in, p, X509_REQ_get0_pubkey(rq->csr),
	    LINT_EE, &res->cert, res->serial, rq->on_signed,
	    rq->on_signed_arg)) != 0)
		goto out;
	res->status = ISSUE_ISSUED;
	res->request_id = in.request_id;
out:
	OPENSSL_free(csr);
	profile_free(p);
	return r;
}

/* A pending request's row. */
struct pending {
	long long id;
	char status[16];
	char template_name[129];
	char requester[129];
	char via[32];
	X509_REQ *csr;
};

static int
load_request(struct ca *ca, long long id, struct pending *pq)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	int rc, r = 0;

	memset(pq, 0, sizeof(*pq));
	store_lock(ca->store);
	if (sqlite3_prepare_v2(store_db(ca->store), "SELECT status, template, "
	    "requester, via, csr FROM requests WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		r = store_err(ca->store, "reading the request");
		goto out;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "no request %lld", id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(ca->store, "reading the request");
		goto out;
	}
	pq->id = id;
	snprintf(pq->status, sizeof(pq->status), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	snprintf(pq->template_name, sizeof(pq->template_name), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	snprintf(pq->requester, sizeof(pq->requester), "%s",
	    (const char *)sqlite3_column_text(st, 2));
	snprintf(pq->via, sizeof(pq->via), "%s",
	    (const char *)sqlite3_column_text(st, 3));
	p = sqlite3_column_blob(st, 4);
	if (p != NULL)
		pq->csr = d2i_X509_REQ(NULL, &p, sqlite3_column_bytes(st, 4));
out:
	sqlite3_finalize(st);
	store_unlock(ca->store);
	return r;
}

/* May `who` decide request `pq`?  Managers only; never their own. */
static int
may_decide(struct ca *ca, const struct pending *pq, const struct actor *who,
    const char *verb)
{
	if (!who->local && !(who->roles & ROLE_MANAGER))
		return cairn_error(CAIRN_E_DENIED, "%s may not %s requests: "
		    "that needs the certificate manager role", who->name, verb);
	if (strcmp(pq->requester, who->name) == 0 && (ca->cfg.separation ||
	    !who->local))
		return cairn_error(CAIRN_E_DENIED, "%s may not %s their own "
		    "request %lld: another certificate manager must (role "
		    "separation, the AD CS ESC7 rule)", who->name, verb,
		    pq->id);
	if (strcmp(pq->status, "pending") != 0)
		return cairn_error(CAIRN_E_STATE, "request %lld is %s, not "
		    "pending", pq->id, pq->status);
	return 0;
}

int
issue_approve(struct ca *ca, long long id, const struct actor *who,
    struct issue_result *res)
{
	struct pending pq;
	const struct template *t;
	struct actor requester = { 0 };
	struct tpl_identity tid;
	struct profile *p = NULL;
	struct intent in = { 0 };
	json_t *o = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = load_request(ca, id, &pq)) != 0)
		return r;
	if ((r = may_decide(ca, &pq, who, "approve")) != 0)
		goto refused;
	if ((t = template_find(ca->templates, pq.template_name)) == NULL) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "request %lld's template "
		    "\"%s\" is no longer loaded", id, pq.template_name);
		goto refused;
	}
	if (pq.csr == NULL) {
		r = cairn_error(CAIRN_E_CSR, "request %lld has no stored CSR",
		    id);
		goto out;
	}
	/* The requester's identity as it is now (an account since disabled
	 * gets nothing). */
	if (strncmp(pq.requester, "local:", 6) == 0) {
		actor_local(&requester);
		snprintf(requester.name, sizeof(requester.name), "%s",
		    pq.requester);
	} else if (strncmp(pq.requester, "scep:", 5) == 0) {
		/* SCEP devices have no account: the identity SCEP enrolls
		 * with (sub-ca/scep.c). */
		if ((r = scep_identity(pq.requester, &requester)) != 0)
			goto out;
	} else if ((r = actor_load(ca, pq.requester, &requester)) != 0) {
		goto refused;
	}
	identity_of(&requester, &tid);
	if ((p = profile_new()) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = template_apply(t, &tid, pq.csr, store_now(), p,
	    &res->notes)) != 0 || (r = ca_fill(ca, p)) != 0)
		goto refused;
	/* The decision, durable and audited, before the signature. */
	if ((r = store_begin(ca->store)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "event", "approved",
	    "actor", who->name, "request", (json_int_t)id, "template",
	    t->name, "template_digest", t->digest);
	if (o == NULL || (r = set_request(ca, id, "issuing", NULL, who->name,
	    NULL)) != 0 || (r = store_audit(ca->store, o)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		store_rollback(ca->store);
		goto out;
	}
	if ((r = store_commit(ca->store)) != 0)
		goto out;
	in.request_id = id;
	in.template_name = t->name;
	in.template_digest = t->digest;
	in.requester = pq.requester;
	in.via = pq.via;
	if ((r = build_sign_record(ca, &in, p, X509_REQ_get0_pubkey(pq.csr),
	    LINT_EE, &res->cert, res->serial, NULL, NULL)) != 0)
		goto out;
	res->status = ISSUE_ISSUED;
	res->request_id = id;
	goto out;
refused:
	{
		json_t *f = json_pack("{s:I}", "request", (json_int_t)id);

		ca_audit_refusal(ca, "approval refused", who->name, f, r);
		json_decref(f);
	}
out:
	json_decref(o);
	profile_free(p);
	actor_clear(&requester);
	X509_REQ_free(pq.csr);
	return r;
}

int
issue_deny(struct ca *ca, long long id, const struct actor *who,
    const char *why)
{
	struct pending pq;
	json_t *o = NULL;
	int r;

	if ((r = load_request(ca, id, &pq)) != 0)
		return r;
	X509_REQ_free(pq.csr);
	if ((r = may_decide(ca, &pq, who, "deny")) != 0) {
		json_t *f = json_pack("{s:I}", "request", (json_int_t)id);

		ca_audit_refusal(ca, "denial refused", who->name, f, r);
		json_decref(f);
		return r;
	}
	if ((r = store_begin(ca->store)) != 0)
		return r;
	o = json_pack("{s:s, s:s, s:I, s:s}", "event", "denied", "actor",
	    who->name, "request", (json_int_t)id, "reason",
	    why != NULL ? why : "");
	if (o == NULL || (r = set_request(ca, id, "denied", NULL, who->name,
	    why != NULL ? why : "")) != 0 ||
	    (r = store_audit(ca->store, o)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		store_rollback(ca->store);
	} else {
		r = store_commit(ca->store);
	}
	json_decref(o);
	return r;
}

int
issue_internal(struct ca *ca, struct profile *p, EVP_PKEY *subject_pub,
    const char *what, X509 **out)
{
	struct intent in = { 0 };
	char serial[33];
	int r;

	if ((r = ca_fill(ca, p)) != 0)
		return r;
	in.template_name = what;
	in.template_digest = "internal";
	in.requester = "system";
	in.via = "internal";
	return build_sign_record(ca, &in, p, subject_pub, LINT_EE, out,
	    serial, NULL, NULL);
}
