/*
 * ceremony.c: loading ceremony scripts, and the runner's steps.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/media.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

static const struct ceremony_def *const ceremonies[] = {
	&cer_root_init,
	&cer_sign_subordinate,
	&cer_issue_crl,
	&cer_sign_ocsp,
	&cer_key_backup,
	&cer_key_restore,
};
#define NCEREMONIES (sizeof(ceremonies) / sizeof(ceremonies[0]))

static const char *const common_keys[] = { "ceremony", "operator",
	"witnesses", "token", "key" };
#define NCOMMON (sizeof(common_keys) / sizeof(common_keys[0]))

void
ceremony_free(struct ceremony *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->def != NULL && c->def->free != NULL)
		c->def->free(c->priv);
	free(c->path);
	free(c->dir);
	free(c->operator);
	for (i = 0; c->witnesses != NULL && c->witnesses[i] != NULL; i++)
		free(c->witnesses[i]);
	free(c->witnesses);
	free(c->token);
	free(c->module);
	free(c->key_label);
	free(c);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
ceremony_path(const struct ceremony *c, const char *name)
{
	char *p;

	if (name[0] == '/')
		return strdup(name);
	if (asprintf(&p, "%s/%s", c->dir, name) < 0)
		return NULL;
	return p;
}

/* Read a file named by `key` in `map`; NULL (and a problem) when the key
 * is missing or the file cannot be read. */
static char *
read_input(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, const char *key, size_t *len,
    const char *what)
{
	const char *name = cfg_want_str(chk, map, key, 1, NULL);
	char *path, *buf = NULL;

	if (name == NULL)
		return NULL;
	if ((path = ceremony_path(c, name)) == NULL)
		return NULL;
	if (cairn_read_file(path, 1024 * 1024, &buf, len) != 0)
		cfg_fail(chk, cfg_get(map, key), "%s: %s", what,
		    cairn_errmsg(CAIRN_E_IO));
	free(path);
	return buf;
}

X509 *
ceremony_read_cert(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, const char *key)
{
	const char *name = cfg_want_str(chk, map, key, 1, NULL);
	char *path;
	X509 *x = NULL;
	int r;

	if (name == NULL || (path = ceremony_path(c, name)) == NULL)
		return NULL;
	if ((r = cairn_read_cert(path, &x)) != 0)
		cfg_fail(chk, cfg_get(map, key), "%s: %s", key,
		    cairn_errmsg(r));
	free(path);
	return x;
}

X509_REQ *
ceremony_read_csr(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, const char *key)
{
	const unsigned char *p;
	size_t len = 0;
	char *buf = read_input(c, chk, map, key, &len, "request");
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	BIO *b;

	if (buf == NULL)
		return NULL;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
		req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	if (req == NULL) {
		p = (const unsigned char *)buf;
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req != NULL && p != (const unsigned char *)buf + len) {
			X509_REQ_free(req);
			req = NULL;
		}
	}
	ERR_clear_error();
	free(buf);
	if (req == NULL) {
		cfg_fail(chk, cfg_get(map, key), "%s: %s is not a certificate "
		    "request (PKCS#10, PEM or DER)", key,
		    cfg_want_str(chk, map, key, 1, ""));
		return NULL;
	}
	/* The request must be signed by the key it carries: proof that its
	 * sender holds that key. */
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		cfg_fail(chk, cfg_get(map, key), "%s: the request's signature "
		    "does not verify with the key it carries", key);
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

long long
ceremony_until(struct cfg_check *chk, const struct cfg_node *map,
    long long start, const char *start_key, const char *end_key)
{
	long long validity = cfg_want_duration(chk, map, "validity", 0, -1);
	long long end = cfg_want_time(chk, map, end_key, 0, -1);

	/* Presence, not the values: a malformed one is reported already. */
	if ((cfg_get(map, "validity") != NULL) ==
	    (cfg_get(map, end_key) != NULL)) {
		cfg_fail(chk, map, "give either validity (a duration) or %s "
		    "(a time), not %s", end_key,
		    cfg_get(map, "validity") != NULL ? "both" : "neither");
		return -1;
	}
	if (start <= 0)
		return -1;
	if (validity > 0)
		end = start + validity;
	if (end > 0 && end <= start) {
		cfg_fail(chk, map, "%s must be after %s", end_key, start_key);
		return -1;
	}
	return end;
}

const EVP_MD *
ceremony_digest(struct cfg_check *chk, const struct cfg_node *map)
{
	static const char *const mds[] = { "sha256", "sha384", "sha512",
		NULL };
	int md = cfg_want_enum(chk, map, "digest", 0, mds, -1);

	return md == 0 ? EVP_sha256() : md == 1 ? EVP_sha384() :
	    md == 2 ? EVP_sha512() : NULL;
}

const struct cfg_node *
ceremony_outputs(struct cfg_check *chk, const struct cfg_node *root,
    const char *const *allowed)
{
	const struct cfg_node *out = cfg_get(root, "outputs");

	if (out == NULL)
		return NULL;
	if (cfg_type(out) != CFG_MAP) {
		cfg_fail(chk, out, "outputs: want a mapping");
		return NULL;
	}
	cfg_keys(chk, out, allowed);
	return out;
}

const char *
ceremony_output(struct cfg_check *chk, const struct cfg_node *map,
    const char *key, const char *dflt)
{
	const char *name = cfg_want_str(chk, map, key, 0, dflt);
	const char *s;

	if (name == NULL)
		return NULL;
	for (s = name; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '/')
			break;
	if (*s != '\0' || name[0] == '.' || name[0] == '\0' ||
	    strlen(name) > CAIRN_MEDIA_NAME_MAX ||
	    strcmp(name, "MANIFEST") == 0 ||
	    strcmp(name, "MANIFEST.p7s") == 0) {
		cfg_fail(chk, cfg_get(map, key) ? cfg_get(map, key) : map,
		    "%s: \"%s\" is not a plain media file name (printable, no "
		    "spaces or '/', not starting with '.', not MANIFEST)", key,
		    name);
		return NULL;
	}
	return name;
}

static const char *const ku_names[] = { "digitalSignature",
	"nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", NULL };
static const unsigned ku_bits[] = { PROFILE_KU_DIGITAL_SIGNATURE,
	PROFILE_KU_NON_REPUDIATION, PROFILE_KU_KEY_ENCIPHERMENT,
	PROFILE_KU_DATA_ENCIPHERMENT, PROFILE_KU_KEY_AGREEMENT,
	PROFILE_KU_KEY_CERT_SIGN, PROFILE_KU_CRL_SIGN };

/* Append each string of the list at `key` to *v. */
static void
strlist(struct cfg_check *chk, const struct cfg_node *map, const char *key,
    char ***v, int oid_only)
{
	const struct cfg_node *seq;
	size_t n = 0, i;

	if ((seq = cfg_want_strlist(chk, map, key, 0, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		const char *s = cfg_scalar(cfg_item(seq, i));

		if (s == NULL)
			continue;
		if (oid_only && OBJ_txt2nid(s) == NID_undef &&
		    strspn(s, "0123456789.") != strlen(s))
			cfg_fail(chk, cfg_item(seq, i), "%s: \"%s\" is not a "
			    "dotted OID", key, s);
		else if (profile_strv_add(v, s) != 0)
			cfg_fail(chk, cfg_item(seq, i), "out of memory");
	}
}

static void
urls(struct cfg_check *chk, const struct cfg_node *map, const char *key,
    char ***v)
{
	size_t i;

	strlist(chk, map, key, v, 0);
	for (i = 0; *v != NULL && (*v)[i] != NULL; i++)
		if (strncmp((*v)[i], "http://", 7) != 0 || (*v)[i][7] == '\0')
			cfg_fail(chk, cfg_get(map, key), "%s: \"%s\" must be "
			    "an http:// URL (relying parties fetch CRLs and "
			    "OCSP over plain HTTP; BR 7.1.2)", key, (*v)[i]);
}

void
ceremony_profile(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *map, struct profile *p, int subject_required,
    const char *const *allowed)
{
	const struct cfg_node *subj, *nc, *ku;
	size_t i;

	if (map == NULL)
		return;
	cfg_keys(chk, map, allowed);
	if ((subj = cfg_want_map(chk, map, "subject", subject_required)) !=
	    NULL) {
		if (cfg_len(subj) == 0)
			cfg_fail(chk, subj, "subject: empty");
		for (i = 0; i < cfg_len(subj); i++) {
			const char *v = cfg_scalar(cfg_value(subj, i));

			if (v == NULL)
				cfg_fail(chk, cfg_value(subj, i), "subject %s: "
				    "want a string", cfg_key(subj, i));
			else if (profile_subject_add(p, cfg_key(subj, i), v) !=
			    0)
				cfg_fail(chk, cfg_key_node(subj, i), "%s",
				    cairn_errmsg(CAIRN_E_INVAL));
		}
	}
	p->not_before = cfg_want_time(chk, map, "not_before", 1, -1);
	p->not_after = ceremony_until(chk, map, p->not_before, "not_before",
	    "not_after");
	if (cfg_get(map, "path_length") != NULL)
		p->path_len = (int)cfg_want_int(chk, map, "path_length", 0, 0,
		    10, -1);
	if ((ku = cfg_want_seq(chk, map, "key_usage", 0)) != NULL) {
		p->key_usage = 0;
		for (i = 0; i < cfg_len(ku); i++) {
			const char *s = cfg_scalar(cfg_item(ku, i));
			size_t k;

			for (k = 0; s != NULL && ku_names[k] != NULL; k++)
				if (strcmp(s, ku_names[k]) == 0)
					break;
			if (s == NULL || ku_names[k] == NULL) {
				cfg_fail(chk, cfg_item(ku, i), "key_usage: "
				    "\"%s\" is not one of digitalSignature, "
				    "nonRepudiation, keyEncipherment, "
				    "dataEncipherment, keyAgreement, "
				    "keyCertSign, cRLSign", s ? s : "");
				continue;
			}
			p->key_usage |= ku_bits[k];
		}
	}
	strlist(chk, map, "policies", &p->policies, 1);
	strlist(chk, map, "extended_key_usage", &p->eku, 0);
	for (i = 0; p->eku != NULL && p->eku[i] != NULL; i++)
		if (OBJ_txt2nid(p->eku[i]) == NID_undef &&
		    strspn(p->eku[i], "0123456789.") != strlen(p->eku[i]))
			cfg_fail(chk, cfg_get(map, "extended_key_usage"),
			    "extended_key_usage: \"%s\" is not a known name "
			    "(serverAuth, clientAuth, OCSPSigning, ...) nor "
			    "a dotted OID", p->eku[i]);
		else if (OBJ_txt2nid(p->eku[i]) == NID_anyExtendedKeyUsage)
			cfg_fail(chk, cfg_get(map, "extended_key_usage"),
			    "extended_key_usage: anyExtendedKeyUsage is never "
			    "issued");
	urls(chk, map, "crl_urls", &p->crl_urls);
	urls(chk, map, "ocsp_urls", &p->ocsp_urls);
	urls(chk, map, "ca_issuers_urls", &p->ca_issuers_urls);
	if ((nc = cfg_want_map(chk, map, "name_constraints", 0)) != NULL) {
		static const char *const nck[] = { "permitted_dns",
			"excluded_dns", "permitted_email", "excluded_email",
			"permitted_ip", "excluded_ip", NULL };
		cfg_keys(chk, nc, nck);
		strlist(chk, nc, "permitted_dns", &p->permitted_dns, 0);
		strlist(chk, nc, "excluded_dns", &p->excluded_dns, 0);
		strlist(chk, nc, "permitted_email", &p->permitted_email, 0);
		strlist(chk, nc, "excluded_email", &p->excluded_email, 0);
		strlist(chk, nc, "permitted_ip", &p->permitted_ip, 0);
		strlist(chk, nc, "excluded_ip", &p->excluded_ip, 0);
	}
	p->md = ceremony_digest(chk, map);
	(void)c;
}

static int
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
	cairn_hex(out, md, 32, 0);
	return 0;
}

int
ceremony_load(const char *path, struct ceremony **out,
    struct cfg_errors *errs)
{
	const char *allowed[64];
	const struct cfg_node *root, *tok, *key, *wit;
	struct cfg_doc *doc = NULL;
	struct cfg_check chk;
	struct ceremony *c = NULL;
	const char *name, *s;
	char *buf = NULL, *tmp = NULL;
	size_t len = 0, i, n = 0, k;
	int r;

	*out = NULL;
	if ((r = cairn_read_file(path, CFG_FILE_MAX, &buf, &len)) != 0) {
		cfg_errors_add(errs, path, 0, "%s", cairn_errmsg(r));
		return CAIRN_E_CONFIG;
	}
	if ((r = cfg_load_mem(path, buf, len, &doc, errs)) != 0)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL ||
	    (tmp = strdup(path)) == NULL ||
	    (c->dir = strdup(dirname(tmp))) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = sha256_hex(buf, len, c->sha256)) != 0)
		goto out;
	chk.doc = doc;
	chk.errs = errs;
	root = cfg_root(doc);
	if (cfg_type(root) != CFG_MAP) {
		cfg_fail(&chk, root, "a ceremony script is a mapping (key: "
		    "value lines)");
		r = CAIRN_E_CONFIG;
		goto out;
	}
	name = cfg_want_str(&chk, root, "ceremony", 1, NULL);
	for (i = 0; name != NULL && i < NCEREMONIES; i++)
		if (strcmp(name, ceremonies[i]->name) == 0)
			c->def = ceremonies[i];
	if (name != NULL && c->def == NULL) {
		char list[256] = "";
		for (i = 0; i < NCEREMONIES; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s%s", i ? ", " : "",
			    ceremonies[i]->name);
		cfg_fail(&chk, cfg_get(root, "ceremony"), "ceremony: \"%s\" "
		    "is not one of %s", name, list);
	}
	if (c->def == NULL) {
		r = CAIRN_E_CONFIG;
		goto out;
	}
	for (i = 0; i < NCOMMON; i++)
		allowed[n++] = common_keys[i];
	for (i = 0; c->def->keys[i] != NULL && n < 63; i++)
		allowed[n++] = c->def->keys[i];
	allowed[n] = NULL;
	cfg_keys(&chk, root, allowed);

	c->operator = dup_or_null(cfg_want_str(&chk, root, "operator", 1,
	    NULL));
	if ((wit = cfg_want_strlist(&chk, root, "witnesses", 1, &k)) != NULL) {
		if (k == 0)
			cfg_fail(&chk, wit, "witnesses: a ceremony needs at "
			    "least one witness besides the operator");
		for (i = 0; i < k; i++)
			if ((s = cfg_scalar(cfg_item(wit, i))) != NULL &&
			    profile_strv_add(&c->witnesses, s) != 0)
				cfg_fail(&chk, wit, "out of memory");
		for (i = 0; i < k && c->operator != NULL; i++)
			if ((s = cfg_scalar(cfg_item(wit, i))) != NULL &&
			    strcmp(s, c->operator) == 0)
				cfg_fail(&chk, cfg_item(wit, i), "witnesses: "
				    "the operator (%s) cannot witness their "
				    "own ceremony", s);
	}
	if ((tok = cfg_want_map(&chk, root, "token", 1)) != NULL) {
		static const char *const tk[] = { "label", "uri", "module",
			NULL };
		const char *label, *uri;

		cfg_keys(&chk, tok, tk);
		label = cfg_want_str(&chk, tok, "label", 0, NULL);
		uri = cfg_want_str(&chk, tok, "uri", 0, NULL);
		if ((label == NULL) == (uri == NULL))
			cfg_fail(&chk, tok, "token: give either label or uri");
		else if (uri != NULL && !cairn_p11_is_uri(uri))
			cfg_fail(&chk, cfg_get(tok, "uri"), "token uri: must "
			    "start with pkcs11:");
		c->token = dup_or_null(label != NULL ? label : uri);
		c->module = dup_or_null(cfg_want_str(&chk, tok, "module", 0,
		    NULL));
	}
	if ((key = cfg_want_map(&chk, root, "key", 1)) != NULL) {
		static const char *const kk_new[] = { "label", "type",
			"backup", NULL };
		static const char *const kk_old[] = { "label", NULL };
		static const char *const types[] = { "rsa-3072", "rsa-4096",
			"ec-p256", "ec-p384", NULL };
		int t;

		cfg_keys(&chk, key, c->def->key_exists == KEY_NEW ? kk_new :
								    kk_old);
		c->key_label = dup_or_null(cfg_want_str(&chk, key, "label", 1,
		    NULL));
		if (c->def->key_exists == KEY_NEW) {
			t = cfg_want_enum(&chk, key, "type", 1, types, -1);
			c->key_type = t < 0 ? 0 :
			    (enum cairn_key_type)(CAIRN_KEY_RSA_3072 + t);
			c->key_backup = cfg_want_bool(&chk, key, "backup", 0,
			    0);
		}
	}
	c->def->validate(c, &chk, root);
	r = errs->n > 0 ? CAIRN_E_CONFIG : 0;
out:
	cfg_doc_free(doc);
	free(tmp);
	free(buf);
	if (r == 0) {
		*out = c; /* transferred */
		return 0;
	}
	ceremony_free(c);
	if (r != CAIRN_E_CONFIG && errs->n == 0)
		cfg_errors_add(errs, path, 0, "%s", cairn_errmsg(r));
	return CAIRN_E_CONFIG;
}

/* ---- the runner ----------------------------------------------------- */

void
runner_transcript(struct runner *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL, *t;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((t = realloc(r->transcript, r->transcript_len + (size_t)n + 1)) ==
	    NULL) {
		free(s);
		return;
	}
	memcpy(t + r->transcript_len, s, (size_t)n + 1);
	r->transcript = t;
	r->transcript_len += (size_t)n;
	free(s);
}

int
runner_step(struct runner *r, const char *title, const char *check, ...)
{
	char what[1024], line[64];
	va_list ap;

	r->step++;
	va_start(ap, check);
	vsnprintf(what, sizeof(what), check, ap);
	va_end(ap);
	printf("\nStep %d: %s\n", r->step, title);
	if (what[0] != '\0')
		printf("  Witnesses: %s\n", what);
	runner_transcript(r, "\n## Step %d: %s\n\n", r->step, title);
	if (what[0] != '\0')
		runner_transcript(r, "Witnesses check: %s\n\n", what);
	fflush(stdout);
	if (r->batch)
		return 0;
	printf("  Type yes to carry out this step, anything else stops the "
	       "ceremony: ");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL ||
	    strcmp(line, "yes\n") != 0)
		return cairn_error(CAIRN_E_ABORTED, "the operator stopped the "
		    "ceremony at step %d (%s)", r->step, title);
	return 0;
}

void
runner_fact(struct runner *r, const char *label, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	printf("  %-20s %s\n", label, value);
	runner_transcript(r, "- %s: `%s`\n", label, value);
}

int
runner_log(struct runner *r, const char *event, json_t *fields)
{
	json_t *rec = fields != NULL ? fields : json_object();
	int rc;

	if (rec == NULL ||
	    json_object_set_new(rec, "ceremony",
		json_string(r->c->def->name)) != 0 ||
	    json_object_set_new(rec, "ceremony_id", json_string(r->id)) != 0 ||
	    json_object_set_new(rec, "event", json_string(event)) != 0 ||
	    json_object_set_new(rec, "step", json_integer(r->step)) != 0) {
		json_decref(rec);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	rc = audit_append(r->log, rec);
	json_decref(rec);
	return rc;
}

int
runner_output(struct runner *r, const char *name, const void *data,
    size_t len)
{
	char path[PATH_MAX], hex[65];
	int rc;

	if ((rc = fileio_join(path, sizeof(path), r->media, name)) != 0)
		return rc;
	if (access(path, F_OK) == 0)
		return cairn_error(CAIRN_E_EXISTS, "%s exists already on the "
		    "media; refusing to overwrite it", path);
	if ((rc = fileio_join(path, sizeof(path), r->staging, name)) != 0 ||
	    (rc = fileio_write_atomic(path, data, len, 0644, 0)) != 0 ||
	    (rc = sha256_hex(data, len, hex)) != 0)
		return rc;
	if (json_object_set_new(r->outputs, name, json_string(hex)) != 0)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	runner_fact(r, "wrote", "%s (SHA-256 %s)", name, hex);
	return 0;
}

int
runner_input(struct runner *r, const char *path)
{
	char *buf = NULL, hex[65];
	size_t len = 0;
	int rc;

	if ((rc = cairn_read_file(path, 64 * 1024 * 1024, &buf, &len)) != 0)
		return rc;
	rc = sha256_hex(buf, len, hex);
	free(buf);
	if (rc == 0 && json_object_set_new(r->inputs, path,
	    json_string(hex)) != 0)
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (rc == 0)
		runner_fact(r, "read", "%s (SHA-256 %s)", path, hex);
	return rc;
}

int
runner_open_issuer_key(struct runner *r, X509 *issuer, const char *issuer_path)
{
	int rc;

	if ((rc = runner_step(r, "Open the root key", "the token is the root "
	    "token (label %s)", r->c->token)) != 0 ||
	    (rc = runner_open_key(r)) != 0)
		return rc;
	if (EVP_PKEY_eq(r->pub, X509_get0_pubkey(issuer)) != 1)
		return cairn_error(CAIRN_E_P11_KEY_NOT_FOUND, "key \"%s\" on "
		    "the token is not the key of the issuer certificate %s: "
		    "wrong token or wrong key label", r->c->key_label,
		    issuer_path);
	if ((r->signer_cert = X509_dup(issuer)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	return 0;
}

int
runner_adopt_key(struct runner *r, struct cairn_p11_key *key)
{
	if ((r->pkey = cairn_p11_key_get1_pkey(key)) == NULL)
		return CAIRN_E_CRYPTO;
	r->key = key; /* transferred */
	r->pub = cairn_p11_key_get0_public(key);
	return 0;
}

int
runner_open_key(struct runner *r)
{
	struct cairn_hsm_opts o = r->hsm;
	struct cairn_p11_uri *u = NULL;
	struct cairn_p11_key *key = NULL;
	int rc;

	if (o.module == NULL)
		o.module = r->c->module;
	o.token = r->c->token;
	if ((rc = cairn_hsm_open_token(&o, 1, &r->tok)) != 0)
		return rc;
	runner_fact(r, "token", "%s (slot %lu)",
	    cairn_p11_token_label(r->tok),
	    (unsigned long)cairn_p11_token_slot(r->tok));
	if (r->c->def->key_exists != KEY_EXISTS)
		return 0;
	if ((u = cairn_p11_uri_new()) == NULL ||
	    (u->object = strdup(r->c->key_label)) == NULL) {
		cairn_p11_uri_free(u);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	u->type = CAIRN_P11_TYPE_PRIVATE;
	rc = cairn_p11_key_find(r->tok, u, &key);
	cairn_p11_uri_free(u);
	if (rc != 0)
		return rc;
	return runner_adopt_key(r, key);
}

int
runner_cert_pem(X509 *x, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	*out = NULL;
	if (b == NULL || PEM_write_bio_X509(b, x) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0 ||
	    (*out = malloc((size_t)n)) == NULL) {
		BIO_free(b);
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot write the certificate as PEM");
	}
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	BIO_free(b);
	return 0;
}

int
runner_cert_der(X509 *x, unsigned char **out, size_t *len)
{
	int n;

	*out = NULL;
	if ((n = i2d_X509(x, out)) <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot encode the certificate");
	*len = (size_t)n;
	return 0;
}

const char *
runner_time(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "(unreadable)");
	return out;
}

int
runner_cert_fpr(X509 *x, char out[CAIRN_FPR_STRLEN])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *p;

	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "digest failed");
	cairn_hex(out, md, 32, ':');
	for (p = out; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	return 0;
}
