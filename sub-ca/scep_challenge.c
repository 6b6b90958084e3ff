/*
 * scep_challenge.c: SCEP challenge passwords (see scep.h).
 *
 * A challenge is what NDES's mscep_admin page hands out: a secret an
 * operator gives a device, good for one request, on one template,
 * optionally for one subject, until it expires.  The secret is 128 random
 * bits; only its SHA-256 is stored (a secret of 128 random bits needs no
 * slow hash: nobody can search that space, and a lookup by hash does not
 * leak it through timing).  Spending it happens inside the transaction
 * that records the request (issue_req.on_record), so a challenge is spent
 * exactly when a request exists for it, and two requests racing for it
 * cannot both win.
 *
 * Dynamic challenges (what MDMs such as Intune and Jamf hand their
 * devices): a challenge this CA never made is shown to a webhook, over
 * HTTPS, with the transaction ID and the CSR; its "yes" admits the request
 * on the webhook's template.  Anything else -- a "no", another status, a
 * malformed answer, a timeout, a TLS failure -- refuses (fail closed).  A
 * dynamic challenge that was spent is recorded, so replaying it is refused
 * here without asking the webhook.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/ca.h"
#include "sub-ca/scep.h"

#define SUBJECT_PATTERN_MAX 256

void
scep_challenge_clear(struct scep_challenge *c)
{
	free(c->subject);
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	memset(c, 0, sizeof(*c));
}

void
scep_challenge_list_free(struct scep_challenge *list, size_t n)
{
	size_t i;

	for (i = 0; list != NULL && i < n; i++)
		scep_challenge_clear(&list[i]);
	free(list);
}

char *
scep_subject_text(X509_NAME *n)
{
	return cairn_name_text(n, 1);
}

int
scep_duration_parse(const char *s, long long *out)
{
	static const struct {
		char unit;
		long long secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
		{ 'd', 86400 }, { 'y', 365 * 86400LL } };
	long long v = 0;
	size_t i, n = strlen(s);

	*out = 0;
	for (i = 0; i + 1 < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > 1000000000LL)
			break;
		v = v * 10 + (s[i] - '0');
	}
	if (n < 2 || i != n - 1 || v <= 0)
		return cairn_error(CAIRN_E_INVAL, "\"%.40s\" is not a duration "
		    "such as 30m, 1h or 7d", s);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[n - 1] == units[i].unit) {
			*out = v * units[i].secs;
			return 0;
		}
	return cairn_error(CAIRN_E_INVAL, "\"%.40s\": the unit must be one "
	    "of s, m, h, d, y", s);
}

static void
hash_secret(const char *secret, uint8_t out[32], char hex[65])
{
	if (EVP_Digest(secret, strlen(secret), out, NULL, EVP_sha256(),
	    NULL) != 1)
		memset(out, 0, 32);
	cairn_hex(hex, out, 32, 0);
}

static const char *
when(long long t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", t);
	return buf;
}

/* The identity SCEP enrolls with: role enrollee, group scep. */
static int
scep_may_enroll(const struct template *t)
{
	static char *const roles[] = { "enrollee", NULL };
	static char *const groups[] = { "scep", NULL };
	struct tpl_identity id = { "scep", NULL, roles, groups };

	return template_may_enroll(t, &id);
}

static int
may_manage(const struct actor *who, const char *verb)
{
	if (who->local || (who->roles & ROLE_MANAGER))
		return 0;
	return cairn_error(CAIRN_E_DENIED, "%s may not %s SCEP challenges: "
	    "that needs the certificate manager role", who->name, verb);
}

int
scep_challenge_new(struct ca *ca, const struct actor *who,
    const char *template_name, const char *subject, long long ttl,
    struct scep_challenge *out)
{
	struct scep_config cfg;
	const struct template *t;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	uint8_t raw[16], hash[32];
	char hex[65], exp[32];
	long long now = store_now();
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = scep_config_load(ca->dir, &cfg)) != 0)
		goto refused;
	if (!cfg.enabled) {
		r = cairn_error(CAIRN_E_STATE, "SCEP is not configured: add a "
		    "scep: section to %s/%s (docs/scep.md)", ca->dir,
		    CA_CONFIG);
		goto refused;
	}
	if ((r = may_manage(who, "make")) != 0)
		goto refused;
	if (template_name == NULL || ca->templates == NULL ||
	    (t = template_find(ca->templates, template_name)) == NULL) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "no template \"%.64s\"",
		    template_name != NULL ? template_name : "");
		goto refused;
	}
	if (strcmp(t->name, cfg.ra_template) == 0 ||
	    scep_may_enroll(t) != 0) {
		r = cairn_error(CAIRN_E_POLICY, "template %s does not let SCEP "
		    "devices enroll: its enroll: section must name role "
		    "enrollee or group scep (and it must not be the RA "
		    "template)", t->name);
		goto refused;
	}
	if (subject != NULL) {
		size_t n = strlen(subject);

		for (i = 0; i < n; i++)
			if ((unsigned char)subject[i] < 0x20 ||
			    subject[i] == 0x7f)
				break;
		if (n == 0 || n > SUBJECT_PATTERN_MAX || i != n) {
			r = cairn_error(CAIRN_E_INVAL, "subject pattern: want "
			    "1 to %d printable characters, such as "
			    "\"CN=r1.routers.example.org\" or "
			    "\"CN=*.routers.example.org*\"",
			    SUBJECT_PATTERN_MAX);
			goto refused;
		}
	}
	if (ttl == 0)
		ttl = cfg.challenge_ttl;
	if (ttl < 60 || ttl > cfg.challenge_ttl_max) {
		r = cairn_error(CAIRN_E_INVAL, "expiry: want 1m to %llds "
		    "(scep.challenge_max), have %llds",
		    cfg.challenge_ttl_max, ttl);
		goto refused;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "drawing the secret");
		goto out;
	}
	cairn_hex(out->secret, raw, sizeof(raw), 0);
	OPENSSL_cleanse(raw, sizeof(raw));
	hash_secret(out->secret, hash, hex);
	if ((r = store_begin(ca->store)) != 0)
		goto out;
	if (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO "
	    "scep_challenges (hash, template, subject, created, created_by, "
	    "expires) VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC) ||
	    (subject != NULL ? sqlite3_bind_text(st, 3, subject, -1,
		SQLITE_STATIC) : sqlite3_bind_null(st, 3)) ||
	    sqlite3_bind_int64(st, 4, now) ||
	    sqlite3_bind_text(st, 5, who->name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 6, now + ttl) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		r = store_err(ca->store, "recording the challenge");
		store_rollback(ca->store);
		goto out;
	}
	out->id = sqlite3_last_insert_rowid(store_db(ca->store));
	o = json_pack("{s:s, s:s, s:I, s:s, s:s?, s:s}", "event",
	    "scep challenge created", "actor", who->name, "challenge",
	    (json_int_t)out->id, "template", t->name, "subject", subject,
	    "expires", when(now + ttl, exp));
	if (o == NULL || (r = store_audit(ca->store, o)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		store_rollback(ca->store);
		goto out;
	}
	if ((r = store_commit(ca->store)) != 0)
		goto out;
	snprintf(out->template_name, sizeof(out->template_name), "%s",
	    t->name);
	if (subject != NULL && (out->subject = strdup(subject)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	out->created = now;
	out->expires = now + ttl;
	snprintf(out->created_by, sizeof(out->created_by), "%s", who->name);
	r = 0;
	goto out;
refused:
	{
		json_t *f = json_pack("{s:s?, s:s?}", "template",
		    template_name, "subject", subject);

		ca_audit_refusal(ca, "scep challenge refused", who->name, f,
		    r);
		json_decref(f);
	}
out:
	if (r != 0)
		scep_challenge_clear(out);
	sqlite3_finalize(st);
	json_decref(o);
	scep_config_clear(&cfg);
	return r;
}

int
scep_challenge_revoke(struct ca *ca, const struct actor *who, long long id)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int r, rc;

	if ((r = may_manage(who, "revoke")) != 0)
		goto refused;
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if (sqlite3_prepare_v2(store_db(ca->store), "UPDATE scep_challenges "
	    "SET revoked_at = ?, revoked_by = ? WHERE id = ? AND used_at IS "
	    "NULL AND revoked_at IS NULL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, store_now()) ||
	    sqlite3_bind_text(st, 2, who->name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 3, id) || sqlite3_step(st) != SQLITE_DONE) {
		r = store_err(ca->store, "revoking the challenge");
		store_rollback(ca->store);
		goto out;
	}
	if (sqlite3_changes(store_db(ca->store)) != 1) {
		sqlite3_finalize(st);
		st = NULL;
		rc = sqlite3_prepare_v2(store_db(ca->store), "SELECT 1 FROM "
		    "scep_challenges WHERE id = ?", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_bind_int64(st, 1, id) ==
		    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			r = cairn_error(CAIRN_E_STATE, "challenge %lld was "
			    "used or revoked already", id);
		else
			r = cairn_error(CAIRN_E_NOT_FOUND, "no challenge %lld",
			    id);
		store_rollback(ca->store);
		goto refused;
	}
	o = json_pack("{s:s, s:s, s:I}", "event", "scep challenge revoked",
	    "actor", who->name, "challenge", (json_int_t)id);
	if (o == NULL || (r = store_audit(ca->store, o)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		store_rollback(ca->store);
		goto out;
	}
	r = store_commit(ca->store);
	goto out;
refused:
	{
		json_t *f = json_pack("{s:I}", "challenge", (json_int_t)id);

		ca_audit_refusal(ca, "scep challenge revoke refused",
		    who->name, f, r);
		json_decref(f);
	}
out:
	sqlite3_finalize(st);
	json_decref(o);
	return r;
}

int
scep_challenge_list(struct ca *ca, int all, struct scep_challenge **out,
    size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct scep_challenge *v = NULL, *nv;
	size_t cap = 0;
	int r = 0, rc;

	*out = NULL;
	*n = 0;
	store_lock(ca->store);
	if (sqlite3_prepare_v2(store_db(ca->store), all ? "SELECT id, "
	    "template, subject, created, expires, used_at, revoked_at, "
	    "request_id, created_by FROM scep_challenges ORDER BY id DESC" :
	    "SELECT id, template, subject, created, expires, used_at, "
	    "revoked_at, request_id, created_by FROM scep_challenges WHERE "
	    "used_at IS NULL AND revoked_at IS NULL AND expires > ? ORDER BY "
	    "id DESC", -1, &st, NULL) != SQLITE_OK ||
	    (!all && sqlite3_bind_int64(st, 1, store_now()) != SQLITE_OK)) {
		r = store_err(ca->store, "listing challenges");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct scep_challenge *c;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
				goto out;
			}
			v = nv;
		}
		c = &v[(*n)++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		snprintf(c->template_name, sizeof(c->template_name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			c->subject = strdup((const char *)
			    sqlite3_column_text(st, 2));
		c->created = sqlite3_column_int64(st, 3);
		c->expires = sqlite3_column_int64(st, 4);
		c->used_at = sqlite3_column_int64(st, 5);
		c->revoked_at = sqlite3_column_int64(st, 6);
		c->request_id = sqlite3_column_int64(st, 7);
		snprintf(c->created_by, sizeof(c->created_by), "%s",
		    (const char *)sqlite3_column_text(st, 8));
	}
	if (rc != SQLITE_DONE)
		r = store_err(ca->store, "listing challenges");
out:
	sqlite3_finalize(st);
	store_unlock(ca->store);
	if (r != 0) {
		scep_challenge_list_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* ---- the webhook -------------------------------------------------------- */

struct reply_buf {
	char buf[CAIRN_SCEP_WEBHOOK_REPLY_MAX + 1];
	size_t len;
	int overflow;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reply_buf *b = arg;
	size_t n = size * nmemb;

	if (n > CAIRN_SCEP_WEBHOOK_REPLY_MAX - b->len) {
		b->overflow = 1;
		return 0; /* aborts the transfer */
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static char *
csr_pem(X509_REQ *csr)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long len;

	if (b != NULL && PEM_write_bio_X509_REQ(b, csr) == 1 &&
	    (len = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	BIO_free(b);
	return s;
}

/*
 * Ask the webhook.  0 when it answered 200 with {"allow": true}; else
 * CAIRN_E_AUTH with what happened.
 */
static int
webhook_ask(const struct scep_config *cfg, const char *challenge,
    X509_REQ *csr, const char *tid)
{
	struct reply_buf *rb = NULL;
	struct curl_slist *hdr = NULL;
	json_t *q = NULL, *a = NULL, *allow;
	json_error_t jerr;
	char *body = NULL, *pem = NULL, *token = NULL, auth[1100];
	char errbuf[CURL_ERROR_SIZE] = "";
	size_t tlen;
	long status = 0;
	CURL *c = NULL;
	CURLcode cc;
	int r;

	if ((rb = calloc(1, sizeof(*rb))) == NULL ||
	    (pem = csr_pem(csr)) == NULL ||
	    (q = json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", tid,
		"challenge", challenge, "csr", pem, "template",
		cfg->webhook_template)) == NULL ||
	    (body = json_dumps(q, JSON_COMPACT)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (cfg->webhook_bearer_file != NULL) {
		if ((r = cairn_read_file(cfg->webhook_bearer_file, 1024, &token,
		    &tlen)) != 0) {
			r = cairn_error_prefix(CAIRN_E_AUTH, "the webhook's "
			    "bearer token: ");
			goto out;
		}
		while (tlen > 0 && (token[tlen - 1] == '\n' ||
		    token[tlen - 1] == '\r'))
			token[--tlen] = '\0';
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	}
	if ((c = curl_easy_init()) == NULL ||
	    (hdr = curl_slist_append(NULL, "Content-Type: application/json"))
	    == NULL || (token != NULL &&
		(hdr = curl_slist_append(hdr, auth)) == NULL)) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, cfg->webhook_url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
		(long)cfg->webhook_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
		(long)cfg->webhook_timeout_ms) != CURLE_OK ||
	    (cfg->webhook_ca_file != NULL && curl_easy_setopt(c,
		CURLOPT_CAINFO, cfg->webhook_ca_file) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "cairn-sub") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, rb) != CURLE_OK) {
		r = cairn_error(CAIRN_E_AUTH, "setting up the webhook call "
		    "failed: refused (fail closed)");
		goto out;
	}
	cc = curl_easy_perform(c);
	if (rb->overflow) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook's answer is longer "
		    "than %d bytes: refused (fail closed)",
		    CAIRN_SCEP_WEBHOOK_REPLY_MAX);
		goto out;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook did not answer "
		    "within %lld ms: refused (fail closed)",
		    cfg->webhook_timeout_ms);
		goto out;
	}
	if (cc != CURLE_OK) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook %s could not be "
		    "asked (%s): refused (fail closed)", cfg->webhook_url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook answered HTTP %ld, "
		    "not 200: refused (fail closed)", status);
		goto out;
	}
	a = json_loadb(rb->buf, rb->len, JSON_REJECT_DUPLICATES, &jerr);
	allow = json_is_object(a) ? json_object_get(a, "allow") : NULL;
	if (allow == NULL || !json_is_boolean(allow)) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook's answer is not "
		    "{\"allow\": true|false}: refused (fail closed)");
		goto out;
	}
	if (!json_is_true(allow)) {
		r = cairn_error(CAIRN_E_AUTH, "the webhook refused the "
		    "challenge");
		goto out;
	}
	r = 0;
out:
	curl_slist_free_all(hdr);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (token != NULL)
		cairn_free_secret(token, 0);
	if (body != NULL)
		cairn_free_secret(body, 0);
	free(pem);
	free(rb);
	json_decref(q);
	json_decref(a);
	return r;
}

/* ---- checking and spending ----------------------------------------------- */

/*
 * Does subject `n` match challenge pattern `pattern`?  "TYPE=PATTERN" (one
 * attribute, no ','): some TYPE attribute's value matches PATTERN, whatever
 * else the subject holds ("CN=r1.example.org" admits the CSR of
 * "CN=r1.example.org,O=Whatever", whose O the template drops anyway).
 * Otherwise PATTERN matches the whole RFC 4514 text.  fnmatch(3), flags 0.
 * *text receives the subject's text for messages (new, or NULL).
 */
static int
subject_matches(const char *pattern, X509_NAME *n, char **text)
{
	const char *eq = strchr(pattern, '=');
	char type[64];
	int i, ok = 0;

	*text = scep_subject_text(n);
	if (eq != NULL && strchr(pattern, ',') == NULL &&
	    (size_t)(eq - pattern) < sizeof(type)) {
		memcpy(type, pattern, (size_t)(eq - pattern));
		type[eq - pattern] = '\0';
		for (i = 0; !ok && i < X509_NAME_entry_count(n); i++) {
			X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
			int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
			unsigned char *u = NULL;
			int len;

			if (nid == NID_undef ||
			    strcasecmp(OBJ_nid2sn(nid), type) != 0)
				continue;
			len = ASN1_STRING_to_UTF8(&u,
			    X509_NAME_ENTRY_get_data(e));
			ok = len >= 0 && memchr(u, '\0', (size_t)len) == NULL &&
			    fnmatch(eq + 1, (const char *)u, 0) == 0;
			OPENSSL_free(u);
		}
		return ok;
	}
	return *text != NULL && fnmatch(pattern, *text, 0) == 0;
}

static const char check_sql[] = "SELECT id, template, subject, expires, "
    "coalesce(used_at, 0), coalesce(revoked_at, 0), coalesce(request_id, "
    "0), created_by = 'webhook' FROM scep_challenges WHERE hash = ?";

int
scep_challenge_check(struct ca *ca, const struct scep_config *cfg,
    sqlite3 *rdb, const char *challenge, X509_REQ *csr, const char *tid,
    struct scep_grant *g)
{
	sqlite3 *db = rdb != NULL ? rdb : store_db(ca->store);
	sqlite3_stmt *st = NULL;
	char hex[65], exp[32], *subj = NULL, *pattern = NULL;
	long long id = 0, expires = 0, used = 0, revoked = 0, req = 0;
	int rc, r = 0, found = 0, dynamic = 0;
	long long now = store_now();

	memset(g, 0, sizeof(*g));
	if (challenge == NULL || challenge[0] == '\0')
		return cairn_error(CAIRN_E_AUTH, "the request has no "
		    "challengePassword: ask the CA's operator for a one-time "
		    "challenge (cairn-sub challenge new)");
	hash_secret(challenge, g->hash, hex);
	if (rdb == NULL)
		store_lock(ca->store);
	st = store_stmt_on(ca->store, db, check_sql);
	if (st == NULL ||
	    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = cairn_error(CAIRN_E_STORE, "reading challenges: %s",
		    sqlite3_errmsg(db));
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = 1;
		id = sqlite3_column_int64(st, 0);
		snprintf(g->template_name, sizeof(g->template_name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			pattern = strdup((const char *)
			    sqlite3_column_text(st, 2));
		expires = sqlite3_column_int64(st, 3);
		used = sqlite3_column_int64(st, 4);
		revoked = sqlite3_column_int64(st, 5);
		req = sqlite3_column_int64(st, 6);
		dynamic = sqlite3_column_int(st, 7);
	} else if (rc != SQLITE_DONE) {
		r = cairn_error(CAIRN_E_STORE, "reading challenges: %s",
		    sqlite3_errmsg(db));
	}
	store_stmt_on_done(ca->store, db, st);
	if (rdb == NULL)
		store_unlock(ca->store);
	if (r != 0)
		goto out;
	if (found) {
		if (dynamic) {
			r = cairn_error(CAIRN_E_AUTH, "this dynamic challenge "
			    "was used already (by request %lld): a challenge "
			    "is good for one request", req);
		} else if (used != 0) {
			r = cairn_error(CAIRN_E_AUTH, "challenge %lld was used "
			    "already (by request %lld): a challenge is good "
			    "for one request; ask for a new one", id, req);
		} else if (revoked != 0) {
			r = cairn_error(CAIRN_E_AUTH, "challenge %lld was "
			    "revoked", id);
		} else if (expires <= now) {
			r = cairn_error(CAIRN_E_AUTH, "challenge %lld expired "
			    "at %s; ask for a new one", id, when(expires, exp));
		} else if (pattern != NULL && !subject_matches(pattern,
		    X509_REQ_get_subject_name(csr), &subj)) {
			r = cairn_error(CAIRN_E_AUTH, "the request's subject "
			    "\"%.200s\" does not match challenge %lld's "
			    "subject pattern", subj != NULL ? subj : "?", id);
		} else {
			g->challenge_id = id;
			snprintf(g->requester, sizeof(g->requester),
			    "scep:%lld", id);
		}
		goto out;
	}
	if (cfg->webhook_url == NULL) {
		r = cairn_error(CAIRN_E_AUTH, "unknown challenge password: "
		    "this CA did not make it (cairn-sub challenge list shows "
		    "the ones it did)");
		goto out;
	}
	if ((r = webhook_ask(cfg, challenge, csr, tid)) != 0)
		goto out;
	snprintf(g->template_name, sizeof(g->template_name), "%s",
	    cfg->webhook_template);
	snprintf(g->requester, sizeof(g->requester), "scep:webhook");
out:
	free(subj);
	free(pattern);
	if (r != 0)
		memset(g, 0, sizeof(*g));
	return r;
}

int
scep_challenge_spend(struct ca *ca, const struct scep_grant *g,
    long long request_id)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	char hex[65];
	long long now = store_now();
	int r = 0;

	if (g->challenge_id != 0) {
		st = store_stmt(ca->store, "UPDATE "
		    "scep_challenges SET used_at = ?, request_id = ? WHERE id "
		    "= ? AND used_at IS NULL AND revoked_at IS NULL AND "
		    "expires > ?");
		if (st == NULL || sqlite3_bind_int64(st, 1, now) ||
		    sqlite3_bind_int64(st, 2, request_id) ||
		    sqlite3_bind_int64(st, 3, g->challenge_id) ||
		    sqlite3_bind_int64(st, 4, now) ||
		    sqlite3_step(st) != SQLITE_DONE) {
			r = store_err(ca->store, "spending the challenge");
			goto out;
		}
		if (sqlite3_changes(store_db(ca->store)) != 1) {
			r = cairn_error(CAIRN_E_STATE, "challenge %lld was "
			    "used (or revoked) by another request a moment "
			    "ago", g->challenge_id);
			goto out;
		}
	} else {
		cairn_hex(hex, g->hash, 32, 0);
		st = store_stmt(ca->store, "INSERT INTO "
		    "scep_challenges (hash, template, created, created_by, "
		    "expires, used_at, request_id) VALUES (?, ?, ?, 'webhook', "
		    "?, ?, ?)");
		if (st == NULL ||
		    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(st, 2, g->template_name, -1,
			SQLITE_STATIC) ||
		    sqlite3_bind_int64(st, 3, now) ||
		    sqlite3_bind_int64(st, 4, now) ||
		    sqlite3_bind_int64(st, 5, now) ||
		    sqlite3_bind_int64(st, 6, request_id)) {
			r = store_err(ca->store, "recording the dynamic "
			    "challenge");
			goto out;
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = sqlite3_extended_errcode(store_db(ca->store)) ==
			    SQLITE_CONSTRAINT_UNIQUE ? cairn_error(
			    CAIRN_E_STATE, "this dynamic challenge was used by "
			    "another request a moment ago") :
			    store_err(ca->store, "recording the dynamic "
			    "challenge");
			goto out;
		}
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "event",
	    "scep challenge used", "actor", g->requester, "challenge",
	    (json_int_t)(g->challenge_id != 0 ? g->challenge_id :
	    sqlite3_last_insert_rowid(store_db(ca->store))), "request",
	    (json_int_t)request_id, "template", g->template_name);
	if (o == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	else
		r = store_audit(ca->store, o);
out:
	store_stmt_done(ca->store, st);
	json_decref(o);
	return r;
}
