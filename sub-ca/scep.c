/*
 * scep.c: the SCEP front end of cairn-sub (see scep.h and docs/scep.md):
 * the operations and transactions; the configuration, the state and the
 * RA are in scep_ra.c, the messages in scep_msg.c, the challenges in
 * scep_challenge.c.
 *
 * Like every front end it only parses and authenticates: a PKCSReq is
 * admitted by its challenge (scep_challenge.c), a RenewalReq by the
 * certificate it is signed with, and both become a struct issue_req for
 * issue_submit(), with the requester "scep:<challenge id>",
 * "scep:webhook" or "scep:renew:<serial>" and the identity role enrollee,
 * group scep; the template decides the certificate.
 *
 * Transactions: a client that resends its request (micromdm's scepclient
 * resends the very same PKCSReq while it is pending), or polls with
 * CertPoll, is answered from the request its transaction recorded; the
 * record is written in the same database transaction as the request and
 * the spent challenge (issue_req.on_record).
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/ca.h"
#include "sub-ca/http.h"
#include "sub-ca/scep-int.h"

/* ---- reads -------------------------------------------------------------- */

/*
 * Reads.  The store is one connection under one mutex, held through each
 * write transaction's fsync; SCEP's lookups (transactions, challenges,
 * certificates) would queue behind every other request's commit.  So each
 * daemon thread reads through a connection of its own (SQLite in WAL mode
 * lets readers run beside the writer, and they see what was committed),
 * opened on first use, query-only, closed when the thread ends.  Writes
 * stay on the store's connection, inside issue_submit()'s transactions.
 */
static pthread_key_t rdb_key;
static pthread_once_t rdb_once = PTHREAD_ONCE_INIT;
static int rdb_ok;

static void
rdb_close(void *db)
{
	store_reader_close(db);
}

static void
rdb_init(void)
{
	rdb_ok = pthread_key_create(&rdb_key, rdb_close) == 0;
}

/* This thread's read connection, or NULL (then the store's, locked). */
static sqlite3 *
rdb_get(struct scep *s)
{
	sqlite3 *db;

	pthread_once(&rdb_once, rdb_init);
	if (!rdb_ok)
		return NULL;
	if ((db = pthread_getspecific(rdb_key)) != NULL)
		return db;
	if ((db = store_reader_open(s->ca->cfg.store)) != NULL &&
	    pthread_setspecific(rdb_key, db) != 0) {
		store_reader_close(db);
		return NULL;
	}
	return db;
}

/* Begin a read: the connection to use. */
static sqlite3 *
rd_begin(struct scep *s)
{
	sqlite3 *db = rdb_get(s);

	if (db != NULL)
		return db;
	store_lock(s->ca->store);
	return store_db(s->ca->store);
}

static void
rd_end(struct scep *s, sqlite3 *db)
{
	if (db == store_db(s->ca->store))
		store_unlock(s->ca->store);
}

static int
rd_err(sqlite3 *db, const char *what)
{
	return cairn_error(CAIRN_E_STORE, "%s: %s", what, sqlite3_errmsg(db));
}
void
scep_rdb_release(void)
{
	sqlite3 *db;

	if (rdb_ok && (db = pthread_getspecific(rdb_key)) != NULL) {
		store_reader_close(db);
		pthread_setspecific(rdb_key, NULL);
	}
}

/* ---- helpers for the operations ----------------------------------------- */

int
scep_path(const char *path)
{
	return strcmp(path, "/scep") == 0 ||
	    strcmp(path, "/scep/pkiclient.exe") == 0 ||
	    strcmp(path, "/cgi-bin/pkiclient.exe") == 0 ||
	    strcmp(path, "/certsrv/mscep/mscep.dll") == 0;
}

/* One PKIOperation being answered. */
struct op {
	struct scep *s;
	const struct http_request *req;
	struct http_response *resp;
	struct ra_snap snap;
	struct scep_msg m;
	char actor[129];          /* who the audit log names */
	int prepared;             /* the SUCCESS CertRep is in resp */
};

static const char *
caps(const struct scep *s, char *buf, size_t len)
{
	snprintf(buf, len, "AES\nPOSTPKIOperation\nRenewal\nSHA-256\n"
	    "SHA-512\nSCEPStandard\n%s%s",
	    (s->cfg.allow & SCEP_ALLOW_DES3) ? "DES3\n" : "",
	    (s->cfg.allow & SCEP_ALLOW_SHA1) ? "SHA-1\n" : "");
	return buf;
}

/* Audit a refusal of operation `o`. */
static void
audit_refusal(struct op *o, const char *operation, int why)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "operation",
	    operation, "message_type", o->m.type != 0 ?
	    scep_type_name(o->m.type) : "", "transaction_id", o->m.tid,
	    "fail_info", o->m.fail_info >= 0 ?
	    scep_fail_name(o->m.fail_info) : "none (HTTP error)", "remote",
	    o->req->remote != NULL ? o->req->remote : "");

	ca_audit_refusal(o->s->ca, "scep refused", o->actor, f, why);
	json_decref(f);
}

/* Send a CertRep. */
static void
send_reply(struct op *o, int status, int fail, const char *text,
    STACK_OF(X509) *certs, X509_CRL *crl)
{
	struct scep_reply rp = { 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (o->snap.n == 0) {
		http_resp_text(o->resp, 503, NULL, "SCEP: no RA certificate "
		    "is available; the operator's log has the reason\n");
		return;
	}
	rp.status = status;
	rp.fail_info = fail;
	rp.fail_text = text;
	rp.tid = o->m.tid;
	rp.recipient_nonce = o->m.nonce;
	rp.payload_certs = certs;
	rp.payload_crl = crl;
	rp.recipient = o->m.signer;
	rp.cipher_nid = o->m.cipher_nid != 0 ? o->m.cipher_nid :
	    NID_aes_256_cbc;
	rp.libctx = o->s->legacy;
	rp.ra_cert = o->snap.k[0].cert;
	rp.ra_pkey = o->snap.k[0].pkey;
	rp.md = o->m.md != NULL ? o->m.md : EVP_sha256();
	rp.chain = o->s->chain;
	if ((r = scep_msg_reply(&rp, &der, &len)) != 0) {
		json_t *f = json_pack("{s:s}", "transaction_id", o->m.tid);

		ca_audit_refusal(o->s->ca, "scep reply failed", "system", f,
		    r);
		json_decref(f);
		http_resp_text(o->resp, 500, NULL, "SCEP: the CertRep could "
		    "not be made; the operator's log has the reason\n");
		return;
	}
	http_resp_bytes(o->resp, 200, "application/x-pki-message", der, len);
	free(der);
}

/* Refuse with a FAILURE CertRep (or HTTP 400 when the message cannot be
 * answered), and audit it.  `r` carries the detail. */
static void
fail(struct op *o, int fail_info, int r)
{
	char text[CAIRN_ERRMSG_MAX];

	o->m.fail_info = fail_info;
	snprintf(text, sizeof(text), "%s", cairn_errmsg(r));
	audit_refusal(o, "PKIOperation", r);
	if (fail_info == SCEP_NO_CERTREP || !o->m.has_nonce ||
	    o->m.tid[0] == '\0') {
		http_resp_printf(o->resp, 400, NULL, "SCEP PKIOperation: %s\n",
		    text);
		return;
	}
	send_reply(o, SCEP_FAILURE, fail_info, text, NULL, NULL);
}

/* An internal failure (store, HSM): HTTP 500, the detail to the log. */
static void
fail_internal(struct op *o, int r)
{
	o->m.fail_info = SCEP_NO_CERTREP;
	audit_refusal(o, "PKIOperation", r);
	http_resp_text(o->resp, 500, NULL, "SCEP: the CA could not complete "
	    "the request; the operator's log has the reason\n");
}

/* A SUCCESS CertRep carrying certificate `x` (taken). */
static void
send_cert(struct op *o, X509 *x)
{
	STACK_OF(X509) *certs = sk_X509_new_null();

	if (certs == NULL || sk_X509_push(certs, x) <= 0) {
		X509_free(x);
		sk_X509_free(certs);
		fail_internal(o, cairn_error(CAIRN_E_NOMEM, "out of memory"));
		return;
	}
	send_reply(o, SCEP_SUCCESS, 0, NULL, certs, NULL);
	sk_X509_pop_free(certs, X509_free);
}

static int
csr_hash(X509_REQ *csr, char out[65])
{
	unsigned char *der = NULL;
	int len = i2d_X509_REQ(csr, &der);

	if (len <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the CSR");
	cairn_sha256_hex(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

/* SHA-256 of the signer certificate's SubjectPublicKeyInfo as the
 * certificate has it: the same bytes i2d_PUBKEY() would make of the key,
 * without OpenSSL 3's encoder (1.4% of a SCEP enrollment's CPU). */
static int
key_hash(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	int len;

	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the "
		    "signer's public key");
	cairn_sha256_hex(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

/* A certificate this CA issued, by serial (hex): *out new, or NULL. */
static int
cert_by_serial(struct scep *s, const char *serial, X509 **out,
    int *revoked)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	sqlite3 *db = rd_begin(s);

	*out = NULL;
	*revoked = 0;
	if ((st = store_stmt_on(s->ca->store, db, "SELECT der, "
	    "revoked_at IS NOT NULL FROM certs WHERE serial = ? AND status = "
	    "'issued'")) == NULL ||
	    sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = rd_err(db, "reading certificates");
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_blob(st, 0);

		*out = p != NULL ? d2i_X509(NULL, &p,
		    sqlite3_column_bytes(st, 0)) : NULL;
		*revoked = sqlite3_column_int(st, 1);
	} else if (rc != SQLITE_DONE) {
		r = rd_err(db, "reading certificates");
	}
	store_stmt_on_done(s->ca->store, db, st);
	rd_end(s, db);
	return r;
}

/* A request's state. */
struct req_state {
	char status[16];
	char serial[33];
	char note[256];
};

static int
request_state(struct scep *s, long long id, struct req_state *rs)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	sqlite3 *db = rd_begin(s);

	memset(rs, 0, sizeof(*rs));
	if ((st = store_stmt_on(s->ca->store, db, "SELECT status, "
	    "coalesce(serial, ''), coalesce(note, '') FROM requests WHERE id "
	    "= ?")) == NULL ||
	    sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		r = rd_err(db, "reading the request");
	} else {
		snprintf(rs->status, sizeof(rs->status), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(rs->serial, sizeof(rs->serial), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(rs->note, sizeof(rs->note), "%s",
		    (const char *)sqlite3_column_text(st, 2));
	}
	store_stmt_on_done(s->ca->store, db, st);
	rd_end(s, db);
	return r;
}

/* Answer from the state of request `id`. */
static void
reply_for(struct op *o, long long id)
{
	struct req_state rs;
	X509 *x = NULL;
	int r, revoked = 0;

	if ((r = request_state(o->s, id, &rs)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (strcmp(rs.status, "pending") == 0 ||
	    strcmp(rs.status, "issuing") == 0) {
		send_reply(o, SCEP_PENDING, 0, NULL, NULL, NULL);
		return;
	}
	if (strcmp(rs.status, "denied") == 0) {
		fail(o, SCEP_BAD_REQUEST, cairn_error(CAIRN_E_DENIED, "request "
		    "%lld was denied by a certificate manager%s%s", id,
		    rs.note[0] != '\0' ? ": " : "", rs.note));
		return;
	}
	if (strcmp(rs.status, "issued") != 0) {
		fail(o, SCEP_BAD_REQUEST, cairn_error(CAIRN_E_STATE, "issuing "
		    "request %lld failed; start a new enrollment", id));
		return;
	}
	if ((r = cert_by_serial(o->s, rs.serial, &x, &revoked)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (x == NULL) {
		fail_internal(o, cairn_error(CAIRN_E_STORE, "request %lld is "
		    "issued but its certificate %s is not in the store", id,
		    rs.serial));
		return;
	}
	send_cert(o, x);
}

/* The transaction a resent request or a poll belongs to: the newest whose
 * fields match (csr NULL: a poll, any kind).  0 with *id 0 when none. */
static int
tx_find(struct scep *s, const char *tid, int kind, const char *csr,
    const char *signer, long long *id)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	sqlite3 *db = rd_begin(s);

	*id = 0;
	st = csr != NULL ? store_stmt_on(s->ca->store, db, "SELECT "
	    "request_id FROM scep_transactions WHERE tid = ? AND "
	    "signer_sha256 = ? AND kind = ? AND csr_sha256 = ? ORDER BY id "
	    "DESC LIMIT 1") :
	    store_stmt_on(s->ca->store, db, "SELECT request_id FROM "
	    "scep_transactions WHERE tid = ? AND signer_sha256 = ? ORDER BY "
	    "id DESC LIMIT 1");
	if (st == NULL ||
	    sqlite3_bind_text(st, 1, tid, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, signer, -1, SQLITE_STATIC) ||
	    (csr != NULL && (sqlite3_bind_int(st, 3, kind) ||
		sqlite3_bind_text(st, 4, csr, -1, SQLITE_STATIC)))) {
		r = rd_err(db, "reading SCEP transactions");
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		r = rd_err(db, "reading SCEP transactions");
	}
	store_stmt_on_done(s->ca->store, db, st);
	rd_end(s, db);
	return r;
}

/* Is request `id` one a resent message should be answered from: still
 * pending or being issued, or issued with its certificate unrevoked and
 * unexpired?  (Otherwise the resend starts over, and needs what a new
 * request needs.) */
static int
tx_live(struct scep *s, long long id)
{
	struct req_state rs;
	X509 *x = NULL;
	int revoked = 0, live = 0;

	if (request_state(s, id, &rs) != 0) {
		cairn_error_clear();
		return 0;
	}
	if (strcmp(rs.status, "pending") == 0 ||
	    strcmp(rs.status, "issuing") == 0)
		return 1;
	if (strcmp(rs.status, "issued") == 0 &&
	    cert_by_serial(s, rs.serial, &x, &revoked) == 0 && x != NULL)
		live = !revoked && X509_cmp_time(X509_get0_notAfter(x),
		    NULL) > 0;
	X509_free(x);
	cairn_error_clear();
	return live;
}

/* What on_record does for a PKCSReq or RenewalReq. */
struct record_ctx {
	const struct scep_grant *grant;   /* PKCSReq; NULL for RenewalReq */
	const char *tid;
	int kind;
	const char *csr_hash, *signer_hash;
};

static int
tx_record(void *arg, struct ca *ca, long long request_id)
{
	struct record_ctx *rc = arg;
	sqlite3_stmt *st = NULL;
	int r;

	if (rc->grant != NULL &&
	    (r = scep_challenge_spend(ca, rc->grant, request_id)) != 0)
		return r;
	r = 0;
	if ((st = store_stmt(ca->store, "INSERT INTO "
	    "scep_transactions (tid, kind, csr_sha256, signer_sha256, "
	    "request_id, created) VALUES (?, ?, ?, ?, ?, ?)")) == NULL ||
	    sqlite3_bind_text(st, 1, rc->tid, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int(st, 2, rc->kind) ||
	    sqlite3_bind_text(st, 3, rc->csr_hash, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 4, rc->signer_hash, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 5, request_id) ||
	    sqlite3_bind_int64(st, 6, store_now()) ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(ca->store, "recording the SCEP transaction");
	store_stmt_done(ca->store, st);
	return r;
}

int
scep_identity(const char *name, struct actor *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->roles = ROLE_ENROLLEE;
	if (profile_strv_add(&a->role_names, "enrollee") != 0 ||
	    profile_strv_add(&a->groups, "scep") != 0) {
		actor_clear(a);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	return 0;
}

/* issue_req.on_signed: the SUCCESS CertRep (the RA's signature) made
 * while the certificate's record commits; submit() sends it only once
 * issue_submit says the certificate is recorded. */
static void
prepare_success(void *arg, X509 *cert)
{
	struct op *o = arg;

	if (X509_up_ref(cert) != 1)
		return;
	send_cert(o, cert);     /* the CertRep, or the 500 saying why not */
	o->prepared = 1;
}

/* Submit the request in o->m through the one issuance path and answer. */
static void
submit(struct op *o, const char *template_name, const char *requester,
    struct record_ctx *rc)
{
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	struct actor who;
	int r;

	if ((r = scep_identity(requester, &who)) != 0) {
		fail_internal(o, r);
		return;
	}
	snprintf(o->actor, sizeof(o->actor), "%s", requester);
	rq.csr = o->m.csr;
	rq.template_name = template_name;
	rq.who = &who;
	rq.via = "scep";
	rq.on_record = tx_record;
	rq.on_record_arg = rc;
	rq.on_signed = prepare_success;
	rq.on_signed_arg = o;
	o->prepared = 0;
	r = issue_submit(o->s->ca, &rq, &res);
	switch (r) {
	case 0:
		break;
	case CAIRN_E_POLICY:
	case CAIRN_E_CSR:
	case CAIRN_E_DENIED:
	case CAIRN_E_NOT_FOUND:
	case CAIRN_E_STATE:
	case CAIRN_E_AUTH:
	case CAIRN_E_INVAL:
		fail(o, SCEP_BAD_REQUEST, r);
		goto out;
	default:
		fail_internal(o, r);
		goto out;
	}
	if (res.status == ISSUE_PENDING) {
		send_reply(o, SCEP_PENDING, 0, NULL, NULL, NULL);
		goto out;
	}
	if (!o->prepared) {     /* else made while the record committed */
		send_cert(o, res.cert);
		res.cert = NULL;        /* taken */
	}
out:
	issue_result_clear(&res);
	actor_clear(&who);
}

/*
 * Is `x` a certificate this CA issued and still stands behind?  Verified
 * up to the pinned root (the message's other certificates may help build
 * the chain), present in the store, not revoked.  *serial, *tname and
 * *requester get its serial, template and requester.  CAIRN_E_AUTH
 * otherwise; *expired is set when that is the reason (badTime).
 */
static int
ours(struct scep *s, X509 *x, STACK_OF(X509) *untrusted, char serial[33],
    char tname[65], char requester[129], int *expired)
{
	X509_STORE_CTX *ctx = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int ok, err = 0, r = 0, rc;

	*expired = 0;
	ok = (ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, s->trust, x, untrusted) == 1 &&
	    X509_verify_cert(ctx) == 1;
	if (!ok && ctx != NULL)
		err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		*expired = err == X509_V_ERR_CERT_HAS_EXPIRED;
		return cairn_error(CAIRN_E_AUTH, "the signer's certificate "
		    "does not verify up to this CA's root: %s",
		    X509_verify_cert_error_string(err));
	}
	if ((r = ca_serial_of(x, serial)) != 0)
		return cairn_error(CAIRN_E_AUTH, "the signer's certificate has "
		    "a serial this CA never issues");
	db = rd_begin(s);
	if (sqlite3_prepare_v2(db, "SELECT template, "
	    "revoked_at IS NOT NULL, requester FROM certs WHERE serial = ? AND "
	    "status = 'issued'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = rd_err(db, "reading certificates");
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(tname, 65, "%s", (const char *)
		    sqlite3_column_text(st, 0));
		snprintf(requester, 129, "%s", (const char *)
		    sqlite3_column_text(st, 2));
		if (sqlite3_column_int(st, 1))
			r = cairn_error(CAIRN_E_AUTH, "the signer's "
			    "certificate %s is revoked", serial);
	} else {
		r = rc == SQLITE_DONE ? cairn_error(CAIRN_E_AUTH, "the "
		    "signer's certificate %s is not in this CA's records",
		    serial) : rd_err(db, "reading certificates");
	}
	sqlite3_finalize(st);
	rd_end(s, db);
	return r;
}

/* ---- the operations ----------------------------------------------------- */

static void
op_pkcsreq(struct op *o)
{
	struct scep_grant g;
	struct record_ctx rc = { 0 };
	char ch[65], sh[65], serial[33], tname[65], requester[129];
	long long id = 0;
	int r, expired = 0, self;

	if ((r = csr_hash(o->m.csr, ch)) != 0 ||
	    (r = key_hash(o->m.signer, sh)) != 0 ||
	    (r = tx_find(o->s, o->m.tid, SCEP_PKCSREQ, ch, sh, &id)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (id != 0 && tx_live(o->s, id)) {
		reply_for(o, id);
		return;
	}
	/* RFC 8894 2.3: signed with the request's own key (a self-signed
	 * certificate), or with a certificate this CA issued. */
	self = EVP_PKEY_eq(X509_get0_pubkey(o->m.signer),
	    X509_REQ_get0_pubkey(o->m.csr)) == 1;
	if (!self && ours(o->s, o->m.signer, o->m.certs, serial, tname,
	    requester, &expired) != 0) {
		fail(o, SCEP_BAD_MESSAGE_CHECK, cairn_error_prefix(
		    CAIRN_E_AUTH, "PKCSReq: signed neither with the request's "
		    "own key (a self-signed certificate) nor with a valid "
		    "certificate of this CA: "));
		return;
	}
	if ((r = scep_challenge_check(o->s->ca, &o->s->cfg, rdb_get(o->s),
	    o->m.challenge, o->m.csr, o->m.tid, &g)) != 0) {
		fail(o, SCEP_BAD_REQUEST, r);
		return;
	}
	rc.grant = &g;
	rc.tid = o->m.tid;
	rc.kind = SCEP_PKCSREQ;
	rc.csr_hash = ch;
	rc.signer_hash = sh;
	submit(o, g.template_name, g.requester, &rc);
}

/* The first CN of `n`, or "". */
static void
cn_of(X509_NAME *n, char *out, size_t len)
{
	out[0] = '\0';
	if (X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)len) < 0)
		out[0] = '\0';
}

/* A renewal keeps to the names of the certificate it renews: the same CN,
 * and no DNS name or address the old certificate did not have. */
static int
renewal_names(X509 *old, X509_REQ *csr)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *want = NULL, *have = NULL;
	char a[256], b[256];
	int i, j, r = 0, found;

	cn_of(X509_get_subject_name(old), a, sizeof(a));
	cn_of(X509_REQ_get_subject_name(csr), b, sizeof(b));
	if (a[0] != '\0' && strcmp(a, b) != 0) {
		r = cairn_error(CAIRN_E_POLICY, "RenewalReq: the request's "
		    "CN \"%s\" is not the renewed certificate's \"%s\" (a "
		    "new name needs a new enrollment with a challenge)", b, a);
		goto out;
	}
	want = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	have = X509_get_ext_d2i(old, NID_subject_alt_name, NULL, NULL);
	for (i = 0; want != NULL && i < sk_GENERAL_NAME_num(want); i++) {
		GENERAL_NAME *w = sk_GENERAL_NAME_value(want, i);

		for (j = 0, found = 0; !found && have != NULL &&
		    j < sk_GENERAL_NAME_num(have); j++)
			found = GENERAL_NAME_cmp(w,
			    sk_GENERAL_NAME_value(have, j)) == 0;
		if (!found && !(w->type == GEN_DNS && a[0] != '\0' &&
		    ASN1_STRING_length(w->d.dNSName) == (int)strlen(a) &&
		    memcmp(ASN1_STRING_get0_data(w->d.dNSName), a,
			strlen(a)) == 0)) {
			r = cairn_error(CAIRN_E_POLICY, "RenewalReq: the "
			    "request asks for a subjectAltName the renewed "
			    "certificate does not have (a new name needs a "
			    "new enrollment with a challenge)");
			goto out;
		}
	}
out:
	GENERAL_NAMES_free(want);
	GENERAL_NAMES_free(have);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return r;
}

static void
op_renewal(struct op *o)
{
	struct record_ctx rc = { 0 };
	char ch[65], sh[65], serial[33], tname[65] = "", who[129];
	char requester[129] = "";
	long long id = 0;
	int r, expired = 0;

	if ((r = csr_hash(o->m.csr, ch)) != 0 ||
	    (r = key_hash(o->m.signer, sh)) != 0 ||
	    (r = tx_find(o->s, o->m.tid, SCEP_RENEWALREQ, ch, sh, &id)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (id != 0 && tx_live(o->s, id)) {
		reply_for(o, id);
		return;
	}
	if ((r = ours(o->s, o->m.signer, o->m.certs, serial, tname,
	    requester, &expired)) != 0) {
		fail(o, expired ? SCEP_BAD_TIME : SCEP_BAD_MESSAGE_CHECK,
		    cairn_error_prefix(r, "RenewalReq: must be signed with "
		    "the certificate being renewed: "));
		return;
	}
	/* SCEP renews what SCEP issued: an account's certificate renewed
	 * here would come back in the SCEP identity's name. */
	if (strncmp(requester, "scep:", 5) != 0) {
		fail(o, SCEP_BAD_REQUEST, cairn_error(CAIRN_E_DENIED,
		    "RenewalReq: certificate %s was not issued over SCEP "
		    "(requester %.64s): renew it the way it was issued",
		    serial, requester));
		return;
	}
	if ((r = renewal_names(o->m.signer, o->m.csr)) != 0) {
		fail(o, SCEP_BAD_REQUEST, r);
		return;
	}
	snprintf(who, sizeof(who), "scep:renew:%s", serial);
	rc.tid = o->m.tid;
	rc.kind = SCEP_RENEWALREQ;
	rc.csr_hash = ch;
	rc.signer_hash = sh;
	submit(o, tname, who, &rc);
}

/* Is `issuer` this CA?  (CertPoll, GetCert and GetCRL name it.) */
static int
our_issuer(struct op *o, X509_NAME *issuer)
{
	char *have, *want;

	if (X509_NAME_cmp(issuer, X509_get_subject_name(o->s->ca->cert)) == 0)
		return 0;
	have = scep_subject_text(issuer);
	want = scep_subject_text(X509_get_subject_name(o->s->ca->cert));
	cairn_error(CAIRN_E_NOT_FOUND, "%s names the issuer \"%.200s\"; this "
	    "CA is \"%.200s\"", scep_type_name(o->m.type),
	    have != NULL ? have : "?", want != NULL ? want : "?");
	free(have);
	free(want);
	return CAIRN_E_NOT_FOUND;
}

static void
op_certpoll(struct op *o)
{
	char sh[65];
	long long id = 0;
	int r;

	if ((r = our_issuer(o, o->m.issuer)) != 0) {
		fail(o, SCEP_BAD_CERT_ID, r);
		return;
	}
	if ((r = key_hash(o->m.signer, sh)) != 0 ||
	    (r = tx_find(o->s, o->m.tid, 0, NULL, sh, &id)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (id == 0) {
		fail(o, SCEP_BAD_CERT_ID, cairn_error(CAIRN_E_NOT_FOUND,
		    "CertPoll: no transaction %s signed with this key: poll "
		    "with the transactionID and key of the request", o->m.tid));
		return;
	}
	reply_for(o, id);
}

static int
serial_hex(ASN1_INTEGER *ai, char out[33])
{
	X509 *x = X509_new();
	int r;

	if (x == NULL || X509_set_serialNumber(x, ai) != 1) {
		X509_free(x);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	r = ca_serial_of(x, out);
	X509_free(x);
	return r;
}

static void
op_getcert(struct op *o)
{
	X509_CRL *crl = NULL;
	X509 *x = NULL;
	char serial[33], path[PATH_MAX];
	int r, revoked = 0;

	if ((r = our_issuer(o, o->m.issuer)) != 0) {
		fail(o, SCEP_BAD_CERT_ID, r);
		return;
	}
	if (serial_hex(o->m.serial, serial) != 0) {
		fail(o, SCEP_BAD_CERT_ID, cairn_error(CAIRN_E_NOT_FOUND, "%s: "
		    "that serial number is not one this CA issues",
		    scep_type_name(o->m.type)));
		return;
	}
	if ((r = cert_by_serial(o->s, serial, &x, &revoked)) != 0) {
		fail_internal(o, r);
		return;
	}
	if (x == NULL) {
		fail(o, SCEP_BAD_CERT_ID, cairn_error(CAIRN_E_NOT_FOUND, "%s: "
		    "this CA issued no certificate with serial %s",
		    scep_type_name(o->m.type), serial));
		return;
	}
	if (o->m.type == SCEP_GETCRL) {
		X509_free(x);
		x = NULL;
		if ((r = cairn_read_crl(ca_path(o->s->ca, path,
		    "publish/ca.crl"), &crl)) != 0) {
			fail_internal(o, r);
			return;
		}
		send_reply(o, SCEP_SUCCESS, 0, NULL, NULL, crl);
		X509_CRL_free(crl);
		return;
	}
	send_cert(o, x);
}

static void
pkioperation(struct scep *s, const struct http_request *req,
    struct http_response *resp)
{
	struct op o;
	uint8_t *der = NULL;
	size_t len = 0;
	const char *msg;
	int r;

	memset(&o, 0, sizeof(o));
	o.s = s;
	o.req = req;
	o.resp = resp;
	o.m.fail_info = SCEP_NO_CERTREP;
	snprintf(o.actor, sizeof(o.actor), "scep");
	if (strcmp(req->method, "POST") == 0) {
		/* RFC 8894 4.3: the binary DER; some clients send base64. */
		if (req->body_len > 0 && req->body[0] != 0x30) {
			if ((r = scep_msg_b64((const char *)req->body, &der,
			    &len)) != 0) {
				fail(&o, SCEP_NO_CERTREP, r);
				goto out;
			}
		}
	} else {
		if ((msg = http_query_arg(req, "message")) == NULL) {
			fail(&o, SCEP_NO_CERTREP, cairn_error(CAIRN_E_INVAL,
			    "PKIOperation by GET needs message=BASE64"));
			goto out;
		}
		if ((r = scep_msg_b64(msg, &der, &len)) != 0) {
			fail(&o, SCEP_NO_CERTREP, r);
			goto out;
		}
	}
	scep_snap_take(s, &o.snap);
	r = der != NULL ?
	    scep_msg_parse(der, len, o.snap.k, o.snap.n, s->cfg.allow,
		s->legacy, &o.m) :
	    scep_msg_parse(req->body, req->body_len, o.snap.k, o.snap.n,
		s->cfg.allow, s->legacy, &o.m);
	if (r != 0) {
		fail(&o, o.m.fail_info, r);
		goto out;
	}
	switch (o.m.type) {
	case SCEP_PKCSREQ:
		op_pkcsreq(&o);
		break;
	case SCEP_RENEWALREQ:
		op_renewal(&o);
		break;
	case SCEP_CERTPOLL:
		op_certpoll(&o);
		break;
	case SCEP_GETCERT:
	case SCEP_GETCRL:
		op_getcert(&o);
		break;
	default:
		fail(&o, SCEP_BAD_REQUEST, cairn_error(CAIRN_E_INVAL, "%s is "
		    "not answered here", scep_type_name(o.m.type)));
	}
out:
	scep_snap_drop(&o.snap);
	scep_msg_clear(&o.m);
	free(der);
}

static void
get_ca_cert(struct scep *s, struct http_response *resp)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	struct ra_snap sn;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	scep_snap_take(s, &sn);
	if (sn.n == 0 || certs == NULL) {
		http_resp_text(resp, 503, NULL, "SCEP: no RA certificate is "
		    "available; the operator's log has the reason\n");
		goto out;
	}
	/* The RA certificate (for encryption and to check replies), this
	 * CA's and the root (RFC 8894 4.2.1.2: the chain), so that a client
	 * can check replies up to a self-signed anchor (certmonger takes the
	 * top of this chain as the CA).  A client should still compare the
	 * root with one it got out of band. */
	if (sk_X509_push(certs, sn.k[0].cert) <= 0 ||
	    sk_X509_push(certs, s->ca->cert) <= 0 ||
	    sk_X509_push(certs, s->ca->root) <= 0 ||
	    (r = scep_msg_degenerate(certs, NULL, &der, &len)) != 0) {
		http_resp_text(resp, 500, NULL, "SCEP: GetCACert failed\n");
		goto out;
	}
	http_resp_bytes(resp, 200, "application/x-x509-ca-ra-cert", der, len);
out:
	free(der);
	sk_X509_free(certs);
	scep_snap_drop(&sn);
}

void
scep_handle(struct scep *s, const struct http_request *req,
    struct http_response *resp)
{
	const char *op = http_query_arg(req, "operation");
	char buf[256];
	struct op o;

	if (op == NULL) {
		http_resp_text(resp, 400, NULL, "SCEP (RFC 8894): ask with "
		    "?operation=GetCACaps, GetCACert or PKIOperation\n");
		return;
	}
	if (strcmp(op, "PKIOperation") == 0) {
		if (strcmp(req->method, "GET") != 0 &&
		    strcmp(req->method, "POST") != 0) {
			http_resp_text(resp, 405, NULL, "SCEP: PKIOperation "
			    "is GET or POST\n");
			return;
		}
		pkioperation(s, req, resp);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		http_resp_printf(resp, 405, NULL, "SCEP: %.64s is GET only\n",
		    op);
		return;
	}
	if (strcmp(op, "GetCACaps") == 0) {
		http_resp_text(resp, 200, "text/plain", caps(s, buf,
		    sizeof(buf)));
		return;
	}
	if (strcmp(op, "GetCACert") == 0) {
		get_ca_cert(s, resp);
		return;
	}
	/* Unknown: refused, and audited like every refusal. */
	memset(&o, 0, sizeof(o));
	o.s = s;
	o.req = req;
	o.m.fail_info = SCEP_NO_CERTREP;
	snprintf(o.actor, sizeof(o.actor), "scep");
	audit_refusal(&o, "unknown", cairn_error(CAIRN_E_INVAL, "unknown SCEP "
	    "operation \"%.64s\"", op));
	http_resp_printf(resp, 400, NULL, "SCEP: unknown operation \"%.64s\"; "
	    "this CA answers GetCACaps, GetCACert and PKIOperation "
	    "(RFC 8894 4)\n", op);
}
