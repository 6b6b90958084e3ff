/*
 * tpm.c: TPM key attestation over REST (see tpm.h and
 * docs/tpm-attestation.md): the trust decision about the EK, the two
 * rounds, and the hand-over to the one issuance path.
 *
 * Like every front end it only parses and authenticates: the evidence
 * decides the trust level, and issue_submit() decides, from the
 * template, whether that level may have a certificate and what the
 * certificate says about it.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "lib/csr.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/tpm.h"
#include "sub-ca/tpm_parse.h"

/* Bytes of the nonce and of the credential secret: 256 bits each, the
 * digest size of SHA-256, the smallest nameAlg accepted for an EK. */
#define TPM_NONCE_LEN 32
#define TPM_SECRET_LEN 32
/* Bytes of a session id (hex in the API). */
#define TPM_SESSION_LEN 16

/* What the first round brought, parsed. */
struct start_req {
	const char *template_name;
	X509_REQ *csr;
	uint8_t *csr_der;
	int csr_len;
	struct tpm_public ek, ak, key;
	uint8_t *ak_raw, *key_raw;
	size_t ak_len, key_len;
	X509 *ek_cert;
	STACK_OF(X509) *ek_chain;
};

static void
start_req_clear(struct start_req *s)
{
	X509_REQ_free(s->csr);
	OPENSSL_free(s->csr_der);
	free(s->ak_raw);
	free(s->key_raw);
	X509_free(s->ek_cert);
	sk_X509_pop_free(s->ek_chain, X509_free);
	memset(s, 0, sizeof(*s));
}

/* ---- JSON in and out ----------------------------------------------------- */

static char *
b64(const uint8_t *p, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s != NULL)
		EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	return s;
}

/* The base64 member `key` of `o`, decoded; CAIRN_E_INVAL naming it when
 * missing (and required) or not strict base64. */
static int
b64_member(const json_t *o, const char *key, int required, uint8_t **out,
    size_t *len)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	*len = 0;
	if ((v == NULL || json_is_null(v)) && !required)
		return 0;
	if (!json_is_string(v))
		return cairn_error(CAIRN_E_INVAL, "%s: missing, or not a "
		    "string of base64", key);
	if (cairn_b64_decode(json_string_value(v), json_string_length(v), out,
	    len) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		return cairn_error(CAIRN_E_INVAL, "%s: not base64 (RFC 4648, "
		    "padded, no line breaks)", key);
	}
	return 0;
}

static json_t *
body_object(const struct http_request *req)
{
	json_error_t e;
	json_t *o = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &e);

	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Audit a refusal of `stage` with its reason; returns `r`. */
static int
refuse(struct server *srv, const struct actor *who, const char *stage,
    const char *template_name, const char *session, int r)
{
	json_t *f = json_pack("{s:s, s:s?, s:s?, s:s}", "stage", stage,
	    "template", template_name, "session", session, "via", "tpm");

	ca_audit_refusal(srv->ca, "tpm attestation refused", who->name, f, r);
	json_decref(f);
	return r;
}

/* ---- trust in the EK ----------------------------------------------------- */

/* Certificates in one file, PEM (several) or DER (one), onto `sk`. */
static int
load_certs(const char *path, STACK_OF(X509) *sk)
{
	char *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x;
	const unsigned char *p;
	int n = 0, r;

	if ((r = cairn_read_file(path, 1 << 20, &buf, &len)) != 0)
		return r;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(sk, x) == 0) {
			X509_free(x);
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		p = (const unsigned char *)buf;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != (const unsigned char *)buf + len) {
			X509_free(x);
			r = cairn_error_crypto(CAIRN_E_CONFIG, "%s: not a "
			    "certificate (PEM or DER)", path);
			goto out;
		}
		if (sk_X509_push(sk, x) == 0) {
			X509_free(x);
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	BIO_free(b);
	free(buf);
	return r;
}

/*
 * The configured EK trust: self-signed certificates in tpm.ek_roots are
 * trust anchors, the others intermediates that chains may use.  Read for
 * each exchange, so that an operator's change applies without a restart.
 */
static int
load_ek_trust(struct ca *ca, X509_STORE **store, STACK_OF(X509) **inter)
{
	STACK_OF(X509) *all = sk_X509_new_null();
	struct dirent **ents = NULL;
	char path[PATH_MAX];
	X509 *x;
	int n = 0, i, roots = 0, r = 0;

	*store = NULL;
	*inter = sk_X509_new_null();
	if (all == NULL || *inter == NULL || (*store = X509_STORE_new()) ==
	    NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((n = scandir(ca->cfg.tpm_ek_roots, &ents, NULL, alphasort)) < 0) {
		r = cairn_error(CAIRN_E_CONFIG, "tpm.ek_roots %s: cannot be "
		    "read", ca->cfg.tpm_ek_roots);
		n = 0;
		goto out;
	}
	for (i = 0; i < n && r == 0; i++) {
		if (ents[i]->d_name[0] == '.' || ents[i]->d_type == DT_DIR)
			continue;
		if (i >= CAIRN_TPM_ROOTS_MAX) {
			r = cairn_error(CAIRN_E_CONFIG, "tpm.ek_roots %s: more "
			    "than %d files", ca->cfg.tpm_ek_roots,
			    CAIRN_TPM_ROOTS_MAX);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", ca->cfg.tpm_ek_roots,
		    ents[i]->d_name);
		r = load_certs(path, all);
	}
	while (r == 0 && (x = sk_X509_shift(all)) != NULL) {
		if (X509_get_extension_flags(x) & EXFLAG_SS) {
			roots++;
			if (X509_STORE_add_cert(*store, x) != 1)
				r = cairn_error_crypto(CAIRN_E_CRYPTO,
				    "adding an EK root");
			X509_free(x);
		} else if (sk_X509_push(*inter, x) == 0) {
			X509_free(x);
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
	}
	if (r == 0 && roots == 0)
		r = cairn_error(CAIRN_E_CONFIG, "tpm.ek_roots %s holds no "
		    "self-signed root certificate", ca->cfg.tpm_ek_roots);
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	sk_X509_pop_free(all, X509_free);
	if (r != 0) {
		X509_STORE_free(*store);
		sk_X509_pop_free(*inter, X509_free);
		*store = NULL;
		*inter = NULL;
	}
	return r;
}

/* EK-certificate trust: the certificate is for this EK and chains to a
 * configured root.  *why says why not. */
static int
trust_ek_cert(struct ca *ca, const struct start_req *s, EVP_PKEY *ekk,
    char *why, size_t whylen)
{
	X509_STORE *store = NULL;
	STACK_OF(X509) *inter = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i, r = 0;

	if (s->ek_cert == NULL) {
		snprintf(why, whylen, "no EK certificate was sent (the TPM "
		    "has none in NV, or the client did not read it)");
		return CAIRN_E_DENIED;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(s->ek_cert), ekk) != 1) {
		ERR_clear_error();
		snprintf(why, whylen, "the EK certificate is for another key "
		    "than ek_pub");
		return CAIRN_E_DENIED;
	}
	if (ca->cfg.tpm_ek_roots == NULL) {
		snprintf(why, whylen, "this CA trusts no TPM manufacturer: "
		    "set tpm.ek_roots in its configuration");
		return CAIRN_E_DENIED;
	}
	if ((r = load_ek_trust(ca, &store, &inter)) != 0) {
		snprintf(why, whylen, "%s", cairn_errmsg(r));
		return r;
	}
	for (i = 0; s->ek_chain != NULL && i < sk_X509_num(s->ek_chain); i++)
		if (sk_X509_push(inter, X509_dup(sk_X509_value(s->ek_chain,
		    i))) == 0) {
			r = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, s->ek_cert, inter) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "EK chain check");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, whylen, "the EK certificate does not chain to a "
		    "TPM manufacturer root in tpm.ek_roots (%s)",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		r = CAIRN_E_DENIED;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(inter, X509_free);
	return r;
}

/* EK-key trust: SHA-256 of the EK's SubjectPublicKeyInfo (`hex`) is a
 * line of tpm.ek_allow. */
static int
trust_ek_key(struct ca *ca, const char *hex, char *why, size_t whylen)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, n;
	int r;

	if (ca->cfg.tpm_ek_allow == NULL) {
		snprintf(why, whylen, "this CA has no EK allow-list: set "
		    "tpm.ek_allow in its configuration");
		return CAIRN_E_DENIED;
	}
	if ((r = cairn_read_file(ca->cfg.tpm_ek_allow, CAIRN_TPM_ALLOW_MAX,
	    &buf, &len)) != 0) {
		snprintf(why, whylen, "%s", cairn_errmsg(r));
		return CAIRN_E_CONFIG;
	}
	r = CAIRN_E_DENIED;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		n = strspn(line, "0123456789abcdefABCDEF");
		if (n == 64 && (line[64] == '\0' || line[64] == ' ' ||
		    line[64] == '\t' || line[64] == '\r') &&
		    strncasecmp(line, hex, 64) == 0) {
			r = 0;
			break;
		}
	}
	free(buf);
	if (r != 0)
		snprintf(why, whylen, "the EK public key (SHA-256 %s) is not "
		    "on the allow-list %s", hex, ca->cfg.tpm_ek_allow);
	return r;
}

/*
 * The strongest level the template accepts that the evidence shows:
 * EK certificate, then EK key, then the enrollee's own credentials.
 * None: CAIRN_E_DENIED with each reason.
 */
static int
decide_trust(struct ca *ca, const struct template *t,
    const struct start_req *s, const char *ek_hex, unsigned *level)
{
	char why1[512] = "", why2[512] = "";
	EVP_PKEY *ekk = NULL;
	int r;

	*level = 0;
	if ((r = tpm_public_pkey(&s->ek.pub, &ekk)) != 0)
		return cairn_error_prefix(r, "ek_pub: ");
	if ((t->attest_trust & TPL_TRUST_EK_CERT) &&
	    (r = trust_ek_cert(ca, s, ekk, why1, sizeof(why1))) == 0) {
		*level = TPL_TRUST_EK_CERT;
		goto out;
	}
	if ((t->attest_trust & TPL_TRUST_EK_KEY) &&
	    (r = trust_ek_key(ca, ek_hex, why2, sizeof(why2))) == 0) {
		*level = TPL_TRUST_EK_KEY;
		goto out;
	}
	if (t->attest_trust & TPL_TRUST_USER) {
		*level = TPL_TRUST_USER;
		r = 0;
		goto out;
	}
	r = cairn_error(CAIRN_E_DENIED, "untrusted EK: template %s accepts "
	    "no evidence this TPM gave%s%s%s%s", t->name,
	    why1[0] ? "; " : "", why1, why2[0] ? "; " : "", why2);
out:
	EVP_PKEY_free(ekk);
	return r;
}

/* ---- round 1 ------------------------------------------------------------- */

static int
parse_start(const json_t *o, struct start_req *s)
{
	const json_t *v, *chain;
	uint8_t *raw = NULL;
	const unsigned char *p;
	size_t len = 0, i;
	const char *csr_text;
	int r;

	if (json_unpack((json_t *)o, "{s:s, s:s}", "template",
	    &s->template_name, "csr", &csr_text) != 0)
		return cairn_error(CAIRN_E_INVAL, "want {\"template\": NAME, "
		    "\"csr\": PEM, \"ek_pub\", \"ak_pub\", \"key_pub\": "
		    "base64, \"ek_cert\": base64 DER (optional)}");
	if ((r = csr_parse(csr_text, strlen(csr_text), &s->csr)) != 0)
		return r;
	if ((s->csr_len = i2d_X509_REQ(s->csr, &s->csr_der)) <= 0)
		return cairn_error_crypto(CAIRN_E_CSR, "encoding the CSR");
	if ((r = b64_member(o, "ek_pub", 1, &raw, &len)) != 0 ||
	    (r = tpm_public_parse("ek_pub", raw, len, &s->ek)) != 0)
		goto out;
	free(raw);
	raw = NULL;
	if ((r = b64_member(o, "ak_pub", 1, &s->ak_raw, &s->ak_len)) != 0 ||
	    (r = tpm_public_parse("ak_pub", s->ak_raw, s->ak_len,
		&s->ak)) != 0 ||
	    (r = b64_member(o, "key_pub", 1, &s->key_raw, &s->key_len)) != 0 ||
	    (r = tpm_public_parse("key_pub", s->key_raw, s->key_len,
		&s->key)) != 0 ||
	    (r = b64_member(o, "ek_cert", 0, &raw, &len)) != 0)
		goto out;
	if (raw != NULL) {
		p = raw;
		if (len > CAIRN_TPM_EKCERT_MAX ||
		    (s->ek_cert = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != raw + len) {
			r = cairn_error_crypto(CAIRN_E_INVAL, "ek_cert: not one "
			    "DER certificate of at most %d bytes",
			    CAIRN_TPM_EKCERT_MAX);
			goto out;
		}
	}
	free(raw);
	raw = NULL;
	if ((chain = json_object_get(o, "ek_chain")) != NULL) {
		if (!json_is_array(chain) || json_array_size(chain) > 8 ||
		    (s->ek_chain = sk_X509_new_null()) == NULL) {
			r = cairn_error(CAIRN_E_INVAL, "ek_chain: an array of at "
			    "most 8 base64 DER certificates");
			goto out;
		}
		json_array_foreach(chain, i, v) {
			X509 *x = NULL;
			json_t *w = json_pack("{s:O}", "c", v);

			r = b64_member(w, "c", 1, &raw, &len);
			json_decref(w);
			if (r != 0)
				goto out;
			p = raw;
			if (len > CAIRN_TPM_EKCERT_MAX || (x = d2i_X509(NULL,
			    &p, (long)len)) == NULL || p != raw + len ||
			    sk_X509_push(s->ek_chain, x) == 0) {
				X509_free(x);
				r = cairn_error_crypto(CAIRN_E_INVAL, "ek_chain: "
				    "entry %zu is not one DER certificate", i);
				goto out;
			}
			free(raw);
			raw = NULL;
		}
	}
	r = 0;
out:
	free(raw);
	return r;
}

/* The keys in the request are the kind the exchange is about. */
static int
check_objects(const struct start_req *s)
{
	const TPMA_OBJECT fixed = TPMA_OBJECT_FIXEDTPM |
	    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
	int r;

	if ((r = tpm_attributes_check("ak_pub", &s->ak.pub, fixed |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
	    TPMA_OBJECT_DECRYPT)) != 0 ||
	    (r = tpm_attributes_check("key_pub", &s->key.pub, fixed |
	    TPMA_OBJECT_SIGN_ENCRYPT, TPMA_OBJECT_RESTRICTED)) != 0)
		return r;
	if (tpm_public_matches(&s->key.pub, X509_REQ_get0_pubkey(s->csr)) !=
	    0)
		return cairn_error(CAIRN_E_POLICY, "key_pub is not the key of "
		    "the CSR: the request must be for the key the TPM holds");
	return 0;
}

static void
identity_of(const struct actor *who, struct tpl_identity *id)
{
	id->account = who->name;
	id->email = who->email;
	id->roles = who->role_names;
	id->groups = who->groups;
}

/* Forget exchanges long expired; count the open ones. */
static int
sessions_tidy(struct ca *ca, long long now, long long *open)
{
	sqlite3 *db = store_db(ca->store);
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(db, "DELETE FROM tpm_sessions WHERE expires "
	    "< ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, now - 86400) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		r = store_err(ca->store, "tidying TPM exchanges");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM tpm_sessions WHERE "
	    "state = 'open' AND expires >= ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		r = store_err(ca->store, "counting TPM exchanges");
	else
		*open = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	return r;
}

/* Record the exchange and its audit event, committed. */
static int
session_store(struct ca *ca, const struct actor *who,
    const struct start_req *s, const char *id, unsigned level,
    const char *ek_hex, const uint8_t *nonce, const uint8_t *secret_hash,
    long long now)
{
	sqlite3_stmt *st = NULL;
	char ak_name[2 * TPM_NAME_MAX + 1], key_name[2 * TPM_NAME_MAX + 1];
	long long open = 0;
	json_t *o = NULL;
	int r;

	cairn_hex(ak_name, s->ak.name, s->ak.name_len, 0);
	cairn_hex(key_name, s->key.name, s->key.name_len, 0);
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = sessions_tidy(ca, now, &open)) != 0)
		goto fail;
	if (open >= CAIRN_TPM_SESSIONS_MAX) {
		r = cairn_error(CAIRN_E_STATE, "%lld TPM exchanges are open, "
		    "the most this CA keeps; try again in a few minutes",
		    open);
		goto fail;
	}
	if (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO tpm_sessions "
	    "(id, created, expires, account, template, trust, csr, ak_pub, "
	    "key_pub, ek_sha256, nonce, secret_sha256, state) VALUES (?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')", -1, &st, NULL) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 2, now) ||
	    sqlite3_bind_int64(st, 3, now + ca->cfg.tpm_session_lifetime) ||
	    sqlite3_bind_text(st, 4, who->name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 5, s->template_name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 6, template_trust_name(level), -1,
		SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 7, s->csr_der, s->csr_len, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 8, s->ak_raw, (int)s->ak_len,
		SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 9, s->key_raw, (int)s->key_len,
		SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 10, ek_hex, -1, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 11, nonce, TPM_NONCE_LEN, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 12, secret_hash, 32, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		r = store_err(ca->store, "recording the TPM exchange");
		goto fail;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event",
	    "tpm attestation started", "actor", who->name, "session", id,
	    "template", s->template_name, "trust", template_trust_name(level),
	    "ek_sha256", ek_hex, "ak_name", ak_name, "key_name", key_name);
	if (o == NULL) {
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

static void
attest_start(struct server *srv, const struct http_request *req,
    struct http_response *resp, const struct actor *who)
{
	struct ca *ca = srv->ca;
	struct start_req s;
	const struct template *t = NULL;
	struct tpl_identity id;
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET enc;
	uint8_t nonce[TPM_NONCE_LEN], secret[TPM_SECRET_LEN], shash[32];
	uint8_t sid[TPM_SESSION_LEN], ekh[32], bbuf[sizeof(blob) + 2];
	uint8_t ebuf[sizeof(enc) + 2];
	char idhex[2 * TPM_SESSION_LEN + 1], ek_hex[65];
	char *b_blob = NULL, *b_enc = NULL, *b_nonce = NULL;
	size_t boff = 0, eoff = 0;
	unsigned level = 0;
	long long now = store_now();
	EVP_PKEY *ekk = NULL;
	json_t *o;
	int r;

	memset(&s, 0, sizeof(s));
	if ((o = body_object(req)) == NULL) {
		r = cairn_error(CAIRN_E_INVAL, "the body is not a JSON object "
		    "(POST {\"template\", \"csr\", \"ek_pub\", \"ak_pub\", "
		    "\"key_pub\", \"ek_cert\"})");
		goto refused;
	}
	if ((r = parse_start(o, &s)) != 0)
		goto refused;
	if ((t = template_find(ca->templates, s.template_name)) == NULL) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "no template \"%.64s\"",
		    s.template_name);
		goto refused;
	}
	if (t->attestation == TPL_ATTEST_NONE) {
		r = cairn_error(CAIRN_E_POLICY, "template %s takes no TPM key "
		    "attestation (attestation: none)", t->name);
		goto refused;
	}
	identity_of(who, &id);
	if ((r = template_may_enroll(t, &id)) != 0 ||
	    (r = check_objects(&s)) != 0)
		goto refused;
	if ((r = tpm_public_pkey(&s.ek.pub, &ekk)) != 0 ||
	    (r = cairn_spki_sha256(ekk, ekh)) != 0) {
		cairn_error_prefix(r, "ek_pub: ");
		goto refused;
	}
	cairn_hex(ek_hex, ekh, sizeof(ekh), 0);
	if ((r = decide_trust(ca, t, &s, ek_hex, &level)) != 0)
		goto refused;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    RAND_bytes(secret, sizeof(secret)) != 1 ||
	    RAND_bytes(sid, sizeof(sid)) != 1 ||
	    EVP_Digest(secret, sizeof(secret), shash, NULL, EVP_sha256(),
	    NULL) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "random values");
		goto refused;
	}
	cairn_hex(idhex, sid, sizeof(sid), 0);
	if ((r = tpm_make_credential(&s.ek.pub, s.ak.name, s.ak.name_len,
	    secret, sizeof(secret), &blob, &enc)) != 0)
		goto refused;
	if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&blob, bbuf, sizeof(bbuf),
	    &boff) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&enc, ebuf, sizeof(ebuf),
	    &eoff) != TSS2_RC_SUCCESS) {
		r = cairn_error(CAIRN_E_INTERNAL, "marshalling the credential");
		goto refused;
	}
	if ((r = session_store(ca, who, &s, idhex, level, ek_hex, nonce,
	    shash, now)) != 0)
		goto refused;
	b_blob = b64(bbuf, boff);
	b_enc = b64(ebuf, eoff);
	b_nonce = b64(nonce, sizeof(nonce));
	rest_reply(resp, 201, json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:s}",
	    "session", idhex, "credential_blob", b_blob, "encrypted_secret",
	    b_enc, "nonce", b_nonce, "expires",
	    (json_int_t)(now + ca->cfg.tpm_session_lifetime), "trust",
	    template_trust_name(level)));
	goto out;
refused:
	refuse(srv, who, "start", s.template_name, NULL, r);
	rest_fail(resp, r);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&blob, sizeof(blob));
	free(b_blob);
	free(b_enc);
	free(b_nonce);
	EVP_PKEY_free(ekk);
	start_req_clear(&s);
	json_decref(o);
}

/* ---- round 2 ------------------------------------------------------------- */

struct session {
	char account[129];
	char template_name[129];
	char trust[32];
	char ek_sha256[65];
	long long created, expires;
	uint8_t *csr, *ak_pub, *key_pub;
	size_t csr_len, ak_len, key_len;
	uint8_t nonce[TPM_NONCE_LEN];
	uint8_t secret_sha256[32];
};

static void
session_clear(struct session *ss)
{
	free(ss->csr);
	free(ss->ak_pub);
	free(ss->key_pub);
	memset(ss, 0, sizeof(*ss));
}

static uint8_t *
blob_copy(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);
	uint8_t *c;

	*len = 0;
	if (p == NULL || n <= 0 || (c = malloc((size_t)n)) == NULL)
		return NULL;
	memcpy(c, p, (size_t)n);
	*len = (size_t)n;
	return c;
}

/*
 * Take the exchange `id` of account `who`: read it and mark it used in
 * one transaction, so that it can be finished once, whatever follows.
 * Another account's exchange is as unknown as a missing one.
 */
static int
session_take(struct ca *ca, const char *id, const struct actor *who,
    struct session *ss)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	const char *state;
	int rc, r;

	memset(ss, 0, sizeof(*ss));
	if ((r = store_begin(ca->store)) != 0)
		return r;
	db = store_db(ca->store);
	if (sqlite3_prepare_v2(db, "SELECT account, template, trust, "
	    "ek_sha256, created, expires, csr, ak_pub, key_pub, nonce, "
	    "secret_sha256, state FROM tpm_sessions WHERE id = ?", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = store_err(ca->store, "reading the TPM exchange");
		goto fail;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_DONE ||
	    (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st,
	    0), who->name) != 0)) {
		r = cairn_error(CAIRN_E_NOT_FOUND, "no TPM exchange %s for "
		    "account %s (unknown, or long expired)", id, who->name);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(ca->store, "reading the TPM exchange");
		goto fail;
	}
	state = (const char *)sqlite3_column_text(st, 11);
	if (state == NULL || strcmp(state, "open") != 0) {
		r = cairn_error(CAIRN_E_STATE, "TPM exchange %s was finished "
		    "already: a nonce is good for one attestation (replayed); "
		    "start a new exchange", id);
		goto fail;
	}
	snprintf(ss->account, sizeof(ss->account), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	snprintf(ss->template_name, sizeof(ss->template_name), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	snprintf(ss->trust, sizeof(ss->trust), "%s",
	    (const char *)sqlite3_column_text(st, 2));
	snprintf(ss->ek_sha256, sizeof(ss->ek_sha256), "%s",
	    (const char *)sqlite3_column_text(st, 3));
	ss->created = sqlite3_column_int64(st, 4);
	ss->expires = sqlite3_column_int64(st, 5);
	ss->csr = blob_copy(st, 6, &ss->csr_len);
	ss->ak_pub = blob_copy(st, 7, &ss->ak_len);
	ss->key_pub = blob_copy(st, 8, &ss->key_len);
	if (ss->csr == NULL || ss->ak_pub == NULL || ss->key_pub == NULL ||
	    sqlite3_column_bytes(st, 9) != TPM_NONCE_LEN ||
	    sqlite3_column_bytes(st, 10) != 32) {
		r = cairn_error(CAIRN_E_STORE, "TPM exchange %s: a damaged "
		    "row", id);
		goto fail;
	}
	memcpy(ss->nonce, sqlite3_column_blob(st, 9), TPM_NONCE_LEN);
	memcpy(ss->secret_sha256, sqlite3_column_blob(st, 10), 32);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE tpm_sessions SET state = 'used' "
	    "WHERE id = ? AND state = 'open'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
		r = store_err(ca->store, "closing the TPM exchange");
		goto fail;
	}
	sqlite3_finalize(st);
	return store_commit(ca->store);
fail:
	sqlite3_finalize(st);
	store_rollback(ca->store);
	session_clear(ss);
	return r;
}

static unsigned
trust_bit(const char *name)
{
	static const unsigned bits[] = { TPL_TRUST_EK_CERT, TPL_TRUST_EK_KEY,
		TPL_TRUST_USER };
	size_t i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (strcmp(template_trust_name(bits[i]), name) == 0)
			return bits[i];
	return 0;
}

/* The second round's evidence, against the exchange. */
static int
check_evidence(const struct session *ss, const uint8_t *secret,
    size_t secret_len, const uint8_t *attest, size_t attest_len,
    const uint8_t *sig, size_t sig_len, struct tpm_public *key)
{
	struct tpm_public ak;
	struct tpm_attest at;
	TPMT_SIGNATURE ts;
	EVP_PKEY *akk = NULL;
	uint8_t h[32];
	long long now = store_now();
	int r;

	memset(&at, 0, sizeof(at));
	if (now > ss->expires) {
		r = cairn_error(CAIRN_E_STATE, "the exchange's nonce expired: "
		    "it began %lld s ago and lives %lld s; start again",
		    now - ss->created, ss->expires - ss->created);
		goto out;
	}
	if (EVP_Digest(secret, secret_len, h, NULL, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(h, ss->secret_sha256, sizeof(h)) != 0) {
		r = cairn_error(CAIRN_E_DENIED, "secret: not the one the CA "
		    "bound to the AK: ActivateCredential did not run in the "
		    "TPM holding the EK, or not with that AK");
		goto out;
	}
	if ((r = tpm_public_parse("ak_pub", ss->ak_pub, ss->ak_len,
	    &ak)) != 0 ||
	    (r = tpm_public_parse("key_pub", ss->key_pub, ss->key_len,
	    key)) != 0 ||
	    (r = tpm_attest_parse(attest, attest_len, &at)) != 0 ||
	    (r = tpm_signature_parse(sig, sig_len, &ts)) != 0)
		goto out;
	if ((r = tpm_certify_check(&at, ss->nonce, sizeof(ss->nonce),
	    key->name, key->name_len)) != 0) {
		r = CAIRN_E_DENIED;
		goto out;
	}
	if ((r = tpm_public_pkey(&ak.pub, &akk)) != 0)
		goto out;
	if ((r = tpm_signature_verify(akk, &ts, at.body, at.body_len)) != 0) {
		r = cairn_error(CAIRN_E_DENIED, "signature: %s with the AK "
		    "over the attestation: the AK did not make this TPMS_ATTEST",
		    r == CAIRN_E_AUTH ? "does not verify" : cairn_errmsg(r));
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_free(akk);
	tpm_attest_clear(&at);
	return r;
}

static void
attest_finish(struct server *srv, const struct http_request *req,
    struct http_response *resp, const struct actor *who)
{
	struct ca *ca = srv->ca;
	struct session ss;
	struct tpm_public key;
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	uint8_t *secret = NULL, *attest = NULL, *sig = NULL;
	size_t secret_len = 0, attest_len = 0, sig_len = 0;
	const char *id = NULL;
	char key_name[2 * TPM_NAME_MAX + 1];
	const unsigned char *p;
	json_t *o, *f = NULL;
	int r;

	memset(&ss, 0, sizeof(ss));
	if ((o = body_object(req)) == NULL ||
	    json_unpack(o, "{s:s}", "session", &id) != 0 ||
	    strlen(id) != 2 * TPM_SESSION_LEN ||
	    id[strspn(id, "0123456789abcdef")] != '\0') {
		id = NULL;
		r = cairn_error(CAIRN_E_INVAL, "want {\"session\": ID (32 hex "
		    "digits), \"secret\", \"attest\", \"signature\": base64}");
		goto refused;
	}
	if ((r = b64_member(o, "secret", 1, &secret, &secret_len)) != 0 ||
	    (r = b64_member(o, "attest", 1, &attest, &attest_len)) != 0 ||
	    (r = b64_member(o, "signature", 1, &sig, &sig_len)) != 0)
		goto refused;
	if ((r = session_take(ca, id, who, &ss)) != 0 ||
	    (r = check_evidence(&ss, secret, secret_len, attest, attest_len,
	    sig, sig_len, &key)) != 0)
		goto refused;
	cairn_hex(key_name, key.name, key.name_len, 0);
	f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "session", id, "template",
	    ss.template_name, "trust", ss.trust, "ek_sha256", ss.ek_sha256,
	    "key_name", key_name);
	if (f == NULL || (r = ca_audit_event(ca, "tpm attestation verified",
	    who->name, f)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto refused;
	}
	p = ss.csr;
	if ((rq.csr = d2i_X509_REQ(NULL, &p, (long)ss.csr_len)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_STORE, "the exchange's CSR");
		goto refused;
	}
	rq.template_name = ss.template_name;
	rq.who = who;
	rq.via = "tpm";
	rq.attested = trust_bit(ss.trust);
	/* The core refuses and audits by itself from here. */
	if ((r = issue_submit(ca, &rq, &res)) != 0)
		rest_fail(resp, r);
	else
		rest_reply_issued(srv, resp, &res);
	goto out;
refused:
	refuse(srv, who, "finish", ss.template_name[0] ? ss.template_name :
	    NULL, id, r);
	rest_fail(resp, r);
out:
	issue_result_clear(&res);
	X509_REQ_free(rq.csr);
	if (secret != NULL)
		cairn_free_secret(secret, secret_len);
	free(attest);
	free(sig);
	session_clear(&ss);
	json_decref(f);
	json_decref(o);
}

void
tpm_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp)
{
	const char *p = req->path + strlen("/api/v1/attest");
	struct actor who;
	int r;

	if (strcmp(p, "/start") != 0 && strcmp(p, "/finish") != 0) {
		rest_error(resp, 404, "not_found", "TPM attestation is POST "
		    "/api/v1/attest/start, then /api/v1/attest/finish");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		rest_error(resp, 405, "method", "POST only");
		return;
	}
	if ((r = web_authenticate(srv, req, &who)) != 0) {
		rest_fail(resp, r);
		return;
	}
	if (strcmp(p, "/start") == 0)
		attest_start(srv, req, resp, &who);
	else
		attest_finish(srv, req, resp, &who);
	actor_clear(&who);
}
