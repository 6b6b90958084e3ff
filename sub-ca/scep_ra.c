/*
 * scep_ra.c: SCEP's configuration, its state in the daemon, and the RA
 * (see scep.h and docs/scep.md).
 *
 * The RA (as NDES has): replies are signed, and requests decrypted, with
 * an RSA key made inside the CA's token (CKA_DECRYPT, never extractable),
 * certified by this CA through the same issuance path (issue_submit()) on
 * the RA template.  A new RA key and certificate are made when the newest
 * expires within scep.ra_renew_before; older RA keys keep decrypting
 * envelopes made for their certificates until those expire.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "sub-ca/ca.h"
#include "sub-ca/scep-int.h"

/* ---- configuration ------------------------------------------------------ */

static const char *const scep_keys[] = { "ra_template", "ra_key",
	"ra_renew_before", "legacy", "challenge_expires", "challenge_max",
	"webhook", NULL };
static const char *const webhook_keys[] = { "url", "template", "ca_file",
	"bearer_file", "timeout", NULL };

void
scep_config_clear(struct scep_config *c)
{
	free(c->ra_template);
	free(c->webhook_url);
	free(c->webhook_ca_file);
	free(c->webhook_bearer_file);
	free(c->webhook_template);
	memset(c, 0, sizeof(*c));
}

static void
load_webhook(struct cfg_check *chk, const struct cfg_node *m,
    const char *dir, struct scep_config *c)
{
	const char *s;
	long long t;

	cfg_keys(chk, m, webhook_keys);
	if ((s = cfg_want_str(chk, m, "url", 1, NULL)) != NULL) {
		if (strncmp(s, "https://", 8) != 0 || strlen(s) < 9)
			cfg_fail(chk, cfg_get(m, "url"), "webhook.url: want an "
			    "https:// URL (the challenge travels in it), have "
			    "'%s'", s);
		else
			c->webhook_url = strdup(s);
	}
	if ((s = cfg_want_str(chk, m, "template", 1, NULL)) != NULL)
		c->webhook_template = strdup(s);
	if ((s = cfg_want_str(chk, m, "ca_file", 0, NULL)) != NULL)
		c->webhook_ca_file = ca_path_dup(dir, s);
	if ((s = cfg_want_str(chk, m, "bearer_file", 0, NULL)) != NULL)
		c->webhook_bearer_file = ca_path_dup(dir, s);
	t = cfg_want_duration(chk, m, "timeout", 0, 5);
	if (t > CAIRN_SCEP_WEBHOOK_TIMEOUT_MAX_SEC)
		cfg_fail(chk, cfg_get(m, "timeout"), "webhook.timeout: at most "
		    "%ds (the device waits meanwhile)",
		    CAIRN_SCEP_WEBHOOK_TIMEOUT_MAX_SEC);
	c->webhook_timeout_ms = t > 0 ? t * 1000 : 5000;
}

int
scep_config_load(const char *dir, struct scep_config *c)
{
	static const char *const legacy_names[] = { "sha1", "des3", "des",
		NULL };
	struct cfg_errors errs = { 0 };
	struct cfg_doc *doc = NULL;
	struct cfg_check chk;
	const struct cfg_node *m, *seq, *w;
	char path[PATH_MAX];
	const char *s;
	size_t i, n, k;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CONFIG);
	if ((r = cfg_load_file(path, &doc, &errs)) != 0)
		goto out;
	chk.doc = doc;
	chk.errs = &errs;
	if ((m = cfg_want_map(&chk, cfg_root(doc), "scep", 0)) == NULL)
		goto done;
	c->enabled = 1;
	cfg_keys(&chk, m, scep_keys);
	c->ra_template = strdup(cfg_want_str(&chk, m, "ra_template", 0,
	    "SCEP-RA"));
	s = cfg_want_str(&chk, m, "ra_key", 0, "rsa-3072");
	if (s != NULL && strcmp(s, "rsa-3072") != 0 &&
	    strcmp(s, "rsa-4096") != 0)
		cfg_fail(&chk, cfg_get(m, "ra_key"), "ra_key: want rsa-3072 or "
		    "rsa-4096 (SCEP envelopes use RSA key transport), have "
		    "'%s'", s);
	else if (s != NULL)
		cairn_key_type_parse(s, &c->ra_key);
	c->ra_renew_before = cfg_want_duration(&chk, m, "ra_renew_before", 0,
	    30 * 86400);
	seq = cfg_want_strlist(&chk, m, "legacy", 0, &n);
	for (i = 0; seq != NULL && i < n; i++) {
		s = cfg_scalar(cfg_item(seq, i));
		for (k = 0; legacy_names[k] != NULL; k++)
			if (strcmp(s, legacy_names[k]) == 0) {
				c->allow |= 1u << k;
				break;
			}
		if (legacy_names[k] == NULL)
			cfg_fail(&chk, cfg_item(seq, i), "legacy: '%s' is not "
			    "one of sha1, des3, des", s);
	}
	c->challenge_ttl = cfg_want_duration(&chk, m, "challenge_expires", 0,
	    3600);
	c->challenge_ttl_max = cfg_want_duration(&chk, m, "challenge_max", 0,
	    30 * 86400);
	if (c->challenge_ttl > c->challenge_ttl_max)
		cfg_fail(&chk, cfg_get(m, "challenge_expires"),
		    "challenge_expires: longer than challenge_max");
	if ((w = cfg_want_map(&chk, m, "webhook", 0)) != NULL)
		load_webhook(&chk, w, dir, c);
done:
	if (errs.n > 0) {
		r = CAIRN_E_CONFIG;
		goto out;
	}
	if (c->enabled && c->ra_template == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	if (errs.n > 0)
		cfg_errors_detail(&errs);
	cfg_errors_free(&errs);
	cfg_doc_free(doc);
	if (r != 0)
		scep_config_clear(c);
	return r;
}
/* ---- the RA ------------------------------------------------------------- */

void
scep_snap_take(struct scep *s, struct ra_snap *sn)
{
	size_t i;

	memset(sn, 0, sizeof(*sn));
	pthread_rwlock_rdlock(&s->lock);
	for (i = 0; i < s->n_ra && i < sizeof(sn->k) / sizeof(sn->k[0]);
	    i++) {
		X509_up_ref(s->ra[i].cert);
		EVP_PKEY_up_ref(s->ra[i].pkey);
		sn->k[i].cert = s->ra[i].cert;
		sn->k[i].pkey = s->ra[i].pkey;
		sn->n++;
	}
	pthread_rwlock_unlock(&s->lock);
}

void
scep_snap_drop(struct ra_snap *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++) {
		X509_free(sn->k[i].cert);
		EVP_PKEY_free(sn->k[i].pkey);
	}
	memset(sn, 0, sizeof(*sn));
}

static void
ra_free(struct scep_ra *ra)
{
	X509_free(ra->cert);
	EVP_PKEY_free(ra->pkey);
	cairn_p11_key_free(ra->key);
	memset(ra, 0, sizeof(*ra));
}

static long long
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

/* Insert `ra` at the front (newest first), under the write lock. */
static int
ra_add(struct scep *s, struct scep_ra *ra)
{
	struct scep_ra *v;

	pthread_rwlock_wrlock(&s->lock);
	if ((v = realloc(s->ra, (s->n_ra + 1) * sizeof(*v))) == NULL) {
		pthread_rwlock_unlock(&s->lock);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	s->ra = v;
	memmove(&s->ra[1], &s->ra[0], s->n_ra * sizeof(*v));
	s->ra[0] = *ra;
	s->n_ra++;
	pthread_rwlock_unlock(&s->lock);
	memset(ra, 0, sizeof(*ra)); /* transferred */
	return 0;
}

static int
find_key(struct scep *s, const char *label, struct cairn_p11_key **out)
{
	struct cairn_p11_uri *uri = cairn_p11_uri_new();
	int r;

	if (uri == NULL || (uri->object = strdup(label)) == NULL) {
		cairn_p11_uri_free(uri);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	uri->type = CAIRN_P11_TYPE_PRIVATE;
	r = cairn_p11_key_find(cairn_p11_key_token(s->ca->key), uri, out);
	cairn_p11_uri_free(uri);
	return r;
}

/* The RA certificates in the store that are still valid, with their keys. */
static int
ra_load(struct scep *s)
{
	sqlite3_stmt *st = NULL;
	struct {
		char label[CAIRN_P11_OBJLABEL_MAX + 1];
		X509 *x;
	} rows[16];
	size_t n = 0, i;
	int r = 0, rc;

	store_lock(s->ca->store);
	/* CROSS JOIN: the few RA rows first, each certificate found by its
	 * request (else SQLite may scan every certificate). */
	if (sqlite3_prepare_v2(store_db(s->ca->store), "SELECT r.key_label, "
	    "c.der FROM scep_ra r CROSS JOIN certs c ON c.request_id = "
	    "r.request_id WHERE c.status = 'issued' AND c.revoked_at IS NULL "
	    "AND c.not_after > ? ORDER BY c.not_after DESC LIMIT 16", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, store_now()) != SQLITE_OK) {
		r = store_err(s->ca->store, "reading the RA certificates");
	} else {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *p = sqlite3_column_blob(st, 1);

			snprintf(rows[n].label, sizeof(rows[n].label), "%s",
			    (const char *)sqlite3_column_text(st, 0));
			rows[n].x = p != NULL ? d2i_X509(NULL, &p,
			    sqlite3_column_bytes(st, 1)) : NULL;
			if (rows[n].x != NULL)
				n++;
		}
		if (rc != SQLITE_DONE)
			r = store_err(s->ca->store, "reading the RA "
			    "certificates");
	}
	sqlite3_finalize(st);
	store_unlock(s->ca->store);
	/* Oldest first, so that ra_add leaves the newest in front. */
	for (i = n; r == 0 && i-- > 0;) {
		struct scep_ra ra = { 0 };

		if ((r = find_key(s, rows[i].label, &ra.key)) != 0) {
			r = cairn_error_prefix(r, "the SCEP RA key \"%s\" of "
			    "a valid RA certificate is not on the CA's token: ",
			    rows[i].label);
			break;
		}
		if (EVP_PKEY_eq(cairn_p11_key_get0_public(ra.key),
		    X509_get0_pubkey(rows[i].x)) != 1 ||
		    (ra.pkey = cairn_p11_key_get1_pkey(ra.key)) == NULL) {
			ra_free(&ra);
			r = cairn_error(CAIRN_E_P11_KEY_POLICY, "the SCEP RA "
			    "key \"%s\" does not match its certificate",
			    rows[i].label);
			break;
		}
		ra.cert = rows[i].x;
		rows[i].x = NULL;
		ra.not_after = asn1_epoch(X509_get0_notAfter(ra.cert));
		snprintf(ra.label, sizeof(ra.label), "%s", rows[i].label);
		if ((r = ra_add(s, &ra)) != 0)
			ra_free(&ra);
	}
	for (i = 0; i < n; i++)
		X509_free(rows[i].x);
	return r;
}

/* issue_req.on_record of an RA certificate: remember which token key the
 * request is for, in the transaction that records it. */
static int
ra_record(void *arg, struct ca *ca, long long request_id)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO scep_ra "
	    "(request_id, key_label, created) VALUES (?, ?, ?)", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, request_id) ||
	    sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 3, store_now()) ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(ca->store, "recording the RA key");
	sqlite3_finalize(st);
	return r;
}

/*
 * A new RA key in the CA's token and its certificate, issued by this CA
 * on the RA template through issue_submit().
 */
static int
ra_new(struct scep *s)
{
	struct cairn_p11_keygen kg = { 0 };
	struct scep_ra ra = { 0 };
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	struct actor sys;
	X509_REQ *req = NULL;
	X509_NAME *nm = NULL;
	json_t *o = NULL;
	uint32_t rnd = 0;
	int r, ku;

	actor_local(&sys);
	snprintf(sys.name, sizeof(sys.name), "system");
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	snprintf(ra.label, sizeof(ra.label), "scep-ra-%lld-%08x", store_now(),
	    (unsigned)rnd);
	kg.type = s->cfg.ra_key;
	kg.label = ra.label;
	kg.allow_decrypt = 1;
	if ((r = cairn_p11_key_generate(cairn_p11_key_token(s->ca->key), &kg,
	    &ra.key)) != 0) {
		r = cairn_error_prefix(r, "making the SCEP RA key: ");
		goto out;
	}
	if ((ra.pkey = cairn_p11_key_get1_pkey(ra.key)) == NULL) {
		r = CAIRN_E_P11;
		goto fail;
	}
	/* The template decides the subject; the request only carries the
	 * key and proves the token holds it. */
	if ((req = X509_REQ_new()) == NULL || (nm = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		(const unsigned char *)ra.label, -1, -1, 0) != 1 ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, nm) != 1 ||
	    X509_REQ_set_pubkey(req, cairn_p11_key_get0_public(ra.key)) != 1 ||
	    X509_REQ_sign(req, ra.pkey, EVP_sha256()) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "making the RA key's "
		    "request");
		goto fail;
	}
	rq.csr = req;
	rq.template_name = s->cfg.ra_template;
	rq.who = &sys;
	rq.via = "scep-ra";
	rq.on_record = ra_record;
	rq.on_record_arg = ra.label;
	if ((r = issue_submit(s->ca, &rq, &res)) != 0) {
		r = cairn_error_prefix(r, "issuing the SCEP RA certificate on "
		    "template %s: ", s->cfg.ra_template);
		goto fail;
	}
	if (res.status != ISSUE_ISSUED) {
		r = cairn_error(CAIRN_E_CONFIG, "the SCEP RA template %s needs "
		    "approval, but the daemon issues RA certificates itself: "
		    "set approval: false in it (request %lld is left "
		    "pending; deny it)", s->cfg.ra_template, res.request_id);
		goto fail;
	}
	ku = (int)X509_get_key_usage(res.cert);
	if (!(ku & KU_KEY_ENCIPHERMENT) || !(ku & KU_DIGITAL_SIGNATURE)) {
		r = cairn_error(CAIRN_E_CONFIG, "the SCEP RA template %s must "
		    "give key_usage [digitalSignature, keyEncipherment]: "
		    "clients encrypt to the RA certificate and check its "
		    "signatures", s->cfg.ra_template);
		goto out; /* issued: the key stays with its certificate */
	}
	ra.cert = res.cert;
	res.cert = NULL;
	ra.not_after = asn1_epoch(X509_get0_notAfter(ra.cert));
	o = json_pack("{s:s, s:s, s:I}", "serial", res.serial, "key",
	    ra.label, "not_after", (json_int_t)ra.not_after);
	if ((r = ca_audit_event(s->ca, "scep RA certificate", sys.name,
	    o)) != 0 || (r = ra_add(s, &ra)) != 0)
		goto out;
	goto out;
fail:
	/* Nothing was certified: the key goes. */
	if (ra.key != NULL)
		cairn_p11_key_destroy(ra.key);
out:
	ra_free(&ra);
	json_decref(o);
	X509_NAME_free(nm);
	X509_REQ_free(req);
	issue_result_clear(&res);
	actor_clear(&sys);
	return r;
}

/* Forget expired RA certificates; make a new one when due. */
static int
ra_maintain(struct scep *s)
{
	long long now = store_now(), newest = 0;
	size_t i, k;
	int r = 0;

	pthread_mutex_lock(&s->renew_mu);
	pthread_rwlock_wrlock(&s->lock);
	for (i = 0, k = 0; i < s->n_ra; i++) {
		if (s->ra[i].not_after <= now)
			ra_free(&s->ra[i]);
		else
			s->ra[k++] = s->ra[i];
	}
	s->n_ra = k;
	if (k > 0)
		newest = s->ra[0].not_after;
	pthread_rwlock_unlock(&s->lock);
	if (k == 0 || newest - now < s->cfg.ra_renew_before)
		r = ra_new(s);
	pthread_mutex_unlock(&s->renew_mu);
	return r;
}

int
scep_tick(struct scep *s)
{
	long long now = store_now();
	int r;

	if (s == NULL || now - s->last_tick < 60)
		return 0;
	s->last_tick = now;
	if ((r = ra_maintain(s)) != 0) {
		json_t *f = json_pack("{s:s}", "what", "RA renewal");

		ca_audit_refusal(s->ca, "scep maintenance failed", "system",
		    f, r);
		json_decref(f);
	}
	return r;
}

void
scep_close(struct scep *s)
{
	size_t i;

	if (s == NULL)
		return;
	scep_rdb_release();
	for (i = 0; i < s->n_ra; i++)
		ra_free(&s->ra[i]);
	free(s->ra);
	X509_STORE_free(s->trust);
	sk_X509_pop_free(s->chain, X509_free);
	OSSL_PROVIDER_unload(s->prov_legacy);
	OSSL_PROVIDER_unload(s->prov_default);
	OSSL_LIB_CTX_free(s->legacy);
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->renew_mu);
	scep_config_clear(&s->cfg);
	curl_global_cleanup();
	free(s);
}

int
scep_open(struct ca *ca, struct scep **out)
{
	struct scep *s;
	const struct template *t;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	s->ca = ca;
	pthread_rwlock_init(&s->lock, NULL);
	pthread_mutex_init(&s->renew_mu, NULL);
	/* Before any thread exists (libcurl's global state). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((r = scep_config_load(ca->dir, &s->cfg)) != 0)
		goto fail;
	if (!s->cfg.enabled) {
		scep_close(s);
		return 0;
	}
	if (ca->key == NULL || ca->cert == NULL || ca->templates == NULL) {
		r = cairn_error(CAIRN_E_STATE, "SCEP needs the CA opened with "
		    "its key, certificate and templates");
		goto fail;
	}
	if ((t = template_find(ca->templates, s->cfg.ra_template)) == NULL) {
		r = cairn_error(CAIRN_E_CONFIG, "scep.ra_template: no template "
		    "\"%s\" in %s (the shipped one is SCEP-RA.yaml)",
		    s->cfg.ra_template, ca->cfg.templates);
		goto fail;
	}
	if (s->cfg.webhook_url != NULL &&
	    template_find(ca->templates, s->cfg.webhook_template) == NULL) {
		r = cairn_error(CAIRN_E_CONFIG, "scep.webhook.template: no "
		    "template \"%s\"", s->cfg.webhook_template);
		goto fail;
	}
	if ((s->trust = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(s->trust, ca->root) != 1 ||
	    X509_STORE_add_cert(s->trust, ca->cert) != 1 ||
	    (s->chain = sk_X509_new_null()) == NULL ||
	    X509_up_ref(ca->cert) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the SCEP "
		    "trust store");
		goto fail;
	}
	if (sk_X509_push(s->chain, ca->cert) <= 0) {
		X509_free(ca->cert);
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto fail;
	}
	/* Single DES lives in OpenSSL's legacy provider: loaded only when
	 * the operator asked for it, into a library context of its own, so
	 * nothing else in the daemon can reach it. */
	if (s->cfg.allow & SCEP_ALLOW_DES) {
		if ((s->legacy = OSSL_LIB_CTX_new()) == NULL ||
		    (s->prov_default = OSSL_PROVIDER_load(s->legacy,
			"default")) == NULL ||
		    (s->prov_legacy = OSSL_PROVIDER_load(s->legacy,
			"legacy")) == NULL) {
			r = cairn_error_crypto(CAIRN_E_CONFIG, "scep.legacy: "
			    "des needs OpenSSL's legacy provider "
			    "(ossl-modules/legacy.so), which does not load");
			goto fail;
		}
	}
	if ((r = ra_load(s)) != 0 || (r = ra_maintain(s)) != 0)
		goto fail;
	s->last_tick = store_now();
	*out = s;
	return 0;
fail:
	scep_close(s);
	return r;
}
