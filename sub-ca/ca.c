/*
 * ca.c: the configuration, opening the CA's parts, and who acts.
 */
#include "config.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/limits.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "sub-ca/ca.h"

char *
ca_path(const struct ca *ca, char *out, const char *name)
{
	if (name[0] == '/')
		snprintf(out, PATH_MAX, "%s", name);
	else
		snprintf(out, PATH_MAX, "%s/%s", ca->dir, name);
	return out;
}

int
ca_write_bio(const char *path, BIO *b, unsigned mode, int flags)
{
	char *data;
	long len = b != NULL ? BIO_get_mem_data(b, &data) : 0;

	if (len <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding %s", path);
	return fileio_write_atomic(path, data, (size_t)len, (mode_t)mode,
	    flags);
}

char *
ca_path_dup(const char *dir, const char *name)
{
	char buf[PATH_MAX];

	if (name[0] == '/')
		snprintf(buf, sizeof(buf), "%s", name);
	else
		snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return strdup(buf);
}

int
ca_listen_parse(const char *s, char **addr, unsigned short *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;
	size_t alen;

	if (colon == NULL || colon == s)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	alen = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		s++;
		alen -= 2;
	}
	if ((*addr = strndup(s, alen)) == NULL)
		return -1;
	*port = (unsigned short)p;
	return 0;
}

static const char *const top_keys[] = { "key", "module", "pin_file",
	"store", "templates", "listen", "urls", "crl", "roles", "tls", "tpm",
	"ocsp",
	"scep", /* read by sub-ca/scep_ra.c (scep_config_load) */
	NULL };
static const char *const listen_keys[] = { "https", "http", "threads",
	NULL };
static const char *const url_keys[] = { "crl", "ca_issuers", "ocsp",
	NULL };
static const char *const crl_keys[] = { "validity", "period", NULL };
static const char *const role_keys[] = { "separation", NULL };
static const char *const tls_keys[] = { "names", NULL };
static const char *const tpm_keys[] = { "ek_roots", "ek_allow",
	"session_lifetime", NULL };

static void
want_listen(struct cfg_check *chk, const struct cfg_node *m,
    const char *key, const char *dflt, char **addr, unsigned short *port)
{
	const char *s = cfg_want_str(chk, m, key, 0, dflt);

	if (s != NULL && ca_listen_parse(s, addr, port) != 0)
		cfg_fail(chk, m != NULL && cfg_get(m, key) != NULL ?
		    cfg_get(m, key) : m, "%s: want ADDRESS:PORT such as "
		    "127.0.0.1:8443 or [::1]:8443, have '%s'", key, s);
}

static int
load_config(struct ca *ca)
{
	struct ca_config *c = &ca->cfg;
	struct cfg_errors errs = { 0 };
	struct cfg_doc *doc = NULL;
	struct cfg_check chk;
	const struct cfg_node *root, *m, *seq;
	char path[PATH_MAX];
	const char *s;
	size_t i, n;
	int r;

	ca_path(ca, path, CA_CONFIG);
	if ((r = cfg_load_file(path, &doc, &errs)) != 0) {
		if (r == CAIRN_E_IO) {
			/* The file's own problem, and what to do about it. */
			cfg_errors_detail(&errs);
			cfg_errors_free(&errs);
			r = cairn_error_prefix(r, "reading the configuration "
			    "(is %s a cairn-sub data directory? \"cairn-sub "
			    "init --data %s\" makes one): ", ca->dir, ca->dir);
		}
		goto out;
	}
	chk.doc = doc;
	chk.errs = &errs;
	root = cfg_root(doc);
	cfg_keys(&chk, root, top_keys);
	if ((s = cfg_want_str(&chk, root, "key", 1, NULL)) != NULL)
		c->key_uri = strdup(s);
	if ((s = cfg_want_str(&chk, root, "module", 0, NULL)) != NULL)
		c->module = strdup(s);
	c->pin_file = ca_path_dup(ca->dir, cfg_want_str(&chk, root, "pin_file",
	    0, "user.pin"));
	c->store = ca_path_dup(ca->dir, cfg_want_str(&chk, root, "store", 0,
	    "ca.db"));
	c->templates = ca_path_dup(ca->dir, cfg_want_str(&chk, root,
	    "templates", 0, "templates"));

	m = cfg_want_map(&chk, root, "listen", 0);
	if (m != NULL)
		cfg_keys(&chk, m, listen_keys);
	want_listen(&chk, m, "https", "127.0.0.1:8443", &c->https_addr,
	    &c->https_port);
	want_listen(&chk, m, "http", "127.0.0.1:8080", &c->http_addr,
	    &c->http_port);
	c->threads = (unsigned)cfg_want_int(&chk, m, "threads", 0, 1, 64, 4);

	m = cfg_want_map(&chk, root, "urls", 0);
	if (m != NULL)
		cfg_keys(&chk, m, url_keys);
	if ((s = cfg_want_str(&chk, m, "crl", 0, NULL)) != NULL)
		c->crl_url = strdup(s);
	if ((s = cfg_want_str(&chk, m, "ca_issuers", 0, NULL)) != NULL)
		c->ca_issuers_url = strdup(s);
	if ((s = cfg_want_str(&chk, m, "ocsp", 0, NULL)) != NULL)
		c->ocsp_url = strdup(s);
	ocsp_config_load(&chk, cfg_want_map(&chk, root, "ocsp", 0), &c->ocsp);

	m = cfg_want_map(&chk, root, "crl", 0);
	if (m != NULL)
		cfg_keys(&chk, m, crl_keys);
	c->crl_validity = cfg_want_duration(&chk, m, "validity", 0, 7 * 86400);
	c->crl_period = cfg_want_duration(&chk, m, "period", 0, 86400);
	/* BR 4.9.7: a subscriber CRL's nextUpdate is at most 10 days on. */
	if (c->crl_validity > 10 * 86400)
		cfg_fail(&chk, cfg_get(m, "validity"), "validity: at most 10d "
		    "(Baseline Requirements 4.9.7)");
	if (c->crl_period > 0 && c->crl_validity > 0 &&
	    c->crl_period >= c->crl_validity)
		cfg_fail(&chk, cfg_get(m, "period"), "period: must be shorter "
		    "than validity, so that a fresh CRL exists before the "
		    "last one expires");

	m = cfg_want_map(&chk, root, "roles", 0);
	if (m != NULL)
		cfg_keys(&chk, m, role_keys);
	c->separation = cfg_want_bool(&chk, m, "separation", 0, 1);

	m = cfg_want_map(&chk, root, "tls", 0);
	if (m != NULL)
		cfg_keys(&chk, m, tls_keys);
	seq = cfg_want_strlist(&chk, m, "names", 0, &n);
	for (i = 0; seq != NULL && i < n; i++)
		profile_strv_add(&c->tls_names, cfg_scalar(cfg_item(seq, i)));
	if (seq == NULL) {
		profile_strv_add(&c->tls_names, "localhost");
		profile_strv_add(&c->tls_names, "127.0.0.1");
	}

	/* TPM key attestation (sub-ca/tpm.c, docs/tpm-attestation.md). */
	m = cfg_want_map(&chk, root, "tpm", 0);
	if (m != NULL)
		cfg_keys(&chk, m, tpm_keys);
	if ((s = cfg_want_str(&chk, m, "ek_roots", 0, NULL)) != NULL)
		c->tpm_ek_roots = ca_path_dup(ca->dir, s);
	if ((s = cfg_want_str(&chk, m, "ek_allow", 0, NULL)) != NULL)
		c->tpm_ek_allow = ca_path_dup(ca->dir, s);
	c->tpm_session_lifetime = cfg_want_duration(&chk, m,
	    "session_lifetime", 0, 300);
	if (c->tpm_session_lifetime > 3600)
		cfg_fail(&chk, cfg_get(m, "session_lifetime"),
		    "session_lifetime: at most 1h (a nonce that lives longer "
		    "is not fresh)");

	if (errs.n > 0) {
		r = CAIRN_E_CONFIG;
		goto out;
	}
	if (c->pin_file == NULL || c->store == NULL || c->templates == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	if (errs.n > 0)
		cfg_errors_detail(&errs);
	cfg_errors_free(&errs);
	cfg_doc_free(doc);
	return r;
}

static int
load_templates(struct ca *ca)
{
	struct cfg_errors errs = { 0 };
	int r;

	if ((r = template_load_dir(ca->cfg.templates, &ca->templates,
	    &errs)) == 0)
		return 0;
	if (errs.n > 0)
		r = cfg_errors_detail(&errs);
	cfg_errors_free(&errs);
	return r;
}

static int
open_key(struct ca *ca)
{
	struct cairn_hsm_opts o = { 0 };
	int r;

	o.module = ca->cfg.module;
	o.data_dir = ca->dir;
	o.pin_file = ca->cfg.pin_file;
	o.key = ca->cfg.key_uri;
	if ((r = cairn_hsm_open_key(&o, &ca->key)) != 0)
		return cairn_error_prefix(r, "the CA key: ");
	if ((ca->signer = cairn_p11_key_get1_pkey(ca->key)) == NULL)
		return CAIRN_E_P11;
	return 0;
}

/* Without the token (auditors, listings) the public key comes from the
 * certificate. */
static int
open_cert(struct ca *ca, unsigned flags)
{
	char path[PATH_MAX];
	int r;

	if (access(ca_path(ca, path, "ca.pem"), F_OK) != 0) {
		if (flags & CA_CERT)
			return cairn_error(CAIRN_E_STATE, "%s: this CA has no "
			    "certificate yet: take %s/sub-ca.csr to the root "
			    "ceremony (sign-subordinate), then run "
			    "\"cairn-sub import --data %s --media DIR\"", path,
			    ca->dir, ca->dir);
		return 0;
	}
	if ((r = cairn_read_cert(path, &ca->cert)) != 0 ||
	    (r = cairn_read_cert(ca_path(ca, path, "root.pem"),
		&ca->root)) != 0)
		return r;
	return 0;
}

int
ca_open(const char *dir, unsigned flags, struct ca **out)
{
	struct ca *ca;
	int r;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL ||
	    (ca->dir = strdup(dir)) == NULL) {
		free(ca);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&ca->crl_mu, NULL);
	if ((r = load_config(ca)) != 0 ||
	    (r = store_open(ca->cfg.store, &ca->store)) != 0 ||
	    (r = open_cert(ca, flags)) != 0 ||
	    ((flags & CA_TEMPLATES) && (r = load_templates(ca)) != 0) ||
	    ((flags & CA_KEY) && (r = open_key(ca)) != 0))
		goto fail;
	if (ca->key != NULL)
		ca->pub = EVP_PKEY_dup(cairn_p11_key_get0_public(ca->key));
	else if (ca->cert != NULL)
		ca->pub = X509_get_pubkey(ca->cert);
	if (ca->pub != NULL)
		ca->md = profile_default_md(ca->pub);
	if (ca->key != NULL && ca->cert != NULL &&
	    EVP_PKEY_eq(ca->pub, X509_get0_pubkey(ca->cert)) != 1) {
		r = cairn_error(CAIRN_E_CONFIG, "the certificate in %s/ca.pem "
		    "is not for the key %s", dir, ca->cfg.key_uri);
		goto fail;
	}
	*out = ca;
	return 0;
fail:
	ca_close(ca);
	return r;
}

static void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
ca_close(struct ca *ca)
{
	struct ca_config *c;

	if (ca == NULL)
		return;
	ocsp_close(ca->ocsp);   /* it uses what follows */
	c = &ca->cfg;
	free(c->key_uri);
	free(c->module);
	free(c->pin_file);
	free(c->store);
	free(c->templates);
	free(c->https_addr);
	free(c->http_addr);
	strv_free(c->tls_names);
	free(c->crl_url);
	free(c->ca_issuers_url);
	free(c->tpm_ek_roots);
	free(c->tpm_ek_allow);
	free(c->ocsp_url);
	store_close(ca->store);
	template_set_free(ca->templates);
	EVP_PKEY_free(ca->signer);
	EVP_PKEY_free(ca->pub);
	cairn_p11_key_free(ca->key);
	X509_free(ca->cert);
	X509_free(ca->root);
	pthread_mutex_destroy(&ca->crl_mu);
	free(ca->dir);
	free(ca);
}

/* ---- actors ----------------------------------------------------------- */

static const char *const role_names[] = { "admin", "manager", "auditor",
	"enrollee" };

int
ca_role_parse(const char *s, enum ca_role *out)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum ca_role)(1u << i);
			return 0;
		}
	return cairn_error(CAIRN_E_INVAL, "role \"%s\": want admin, manager, "
	    "auditor or enrollee", s);
}

const char *
ca_role_name(enum ca_role r)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if ((unsigned)r == (1u << i))
			return role_names[i];
	return "?";
}

void
actor_local(struct actor *a)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	memset(a, 0, sizeof(*a));
	if ((u == NULL || u[0] == '\0') && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	snprintf(a->name, sizeof(a->name), "local:%s", u != NULL ? u : "?");
	a->local = 1;
	a->roles = ROLE_ADMIN | ROLE_MANAGER | ROLE_AUDITOR | ROLE_ENROLLEE;
}

void
actor_clear(struct actor *a)
{
	free(a->email);
	strv_free(a->role_names);
	strv_free(a->groups);
	memset(a, 0, sizeof(*a));
}

int
actor_load(struct ca *ca, const char *name, struct actor *a)
{
	sqlite3_stmt *st = NULL;
	enum ca_role role = ROLE_ENROLLEE;
	int rc, r = 0, found = 0;

	memset(a, 0, sizeof(*a));
	if (strlen(name) >= sizeof(a->name))
		return cairn_error(CAIRN_E_AUTH, "no such account");
	store_lock(ca->store);
	if ((st = store_stmt(ca->store, "SELECT email FROM accounts WHERE "
	    "name = ? AND disabled = 0")) == NULL ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = store_err(ca->store, "reading accounts");
		goto out;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = 1;
		if (sqlite3_column_text(st, 0) != NULL)
			a->email = strdup((const char *)
			    sqlite3_column_text(st, 0));
	} else if (rc != SQLITE_DONE) {
		r = store_err(ca->store, "reading accounts");
		goto out;
	}
	store_stmt_done(ca->store, st);
	st = NULL;
	if (!found) {
		r = cairn_error(CAIRN_E_AUTH, "no account \"%s\" (or it is "
		    "disabled)", name);
		goto out;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	if ((st = store_stmt(ca->store, "SELECT role FROM account_roles WHERE "
	    "account = ? ORDER BY role")) == NULL ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = store_err(ca->store, "reading roles");
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rn = (const char *)sqlite3_column_text(st, 0);

		if (rn != NULL && ca_role_parse(rn, &role) == 0) {
			a->roles |= (unsigned)role;
			profile_strv_add(&a->role_names, rn);
		}
	}
	store_stmt_done(ca->store, st);
	st = NULL;
	if ((st = store_stmt(ca->store, "SELECT grp FROM account_groups WHERE "
	    "account = ? ORDER BY grp")) == NULL ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		r = store_err(ca->store, "reading groups");
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_text(st, 0) != NULL)
			profile_strv_add(&a->groups,
			    (const char *)sqlite3_column_text(st, 0));
out:
	store_stmt_done(ca->store, st);
	store_unlock(ca->store);
	if (r != 0)
		actor_clear(a);
	return r;
}

int
ca_audit_event(struct ca *ca, const char *event, const char *actor,
    json_t *fields)
{
	json_t *o = fields != NULL ? json_deep_copy(fields) : json_object();
	int r;

	if (o == NULL || json_object_set_new(o, "event",
	    json_string(event)) != 0 || json_object_set_new(o, "actor",
	    json_string(actor)) != 0) {
		json_decref(o);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	if ((r = store_begin(ca->store)) == 0) {
		if ((r = store_audit(ca->store, o)) == 0)
			r = store_commit(ca->store);
		else
			store_rollback(ca->store);
	}
	json_decref(o);
	return r;
}

int
ca_audit_refusal(struct ca *ca, const char *event, const char *actor,
    const json_t *fields, int why)
{
	char saved[CAIRN_ERRMSG_MAX];
	json_t *o = fields != NULL ? json_deep_copy(fields) : json_object();

	snprintf(saved, sizeof(saved), "%s", cairn_errmsg(why));
	if (o != NULL && json_object_set_new(o, "error",
	    json_string(cairn_errname(why))) == 0 &&
	    json_object_set_new(o, "reason", json_string(saved)) == 0)
		ca_audit_event(ca, event, actor, o);
	json_decref(o);
	return cairn_error(why, "%s", saved);
}

int
ca_serial_of(X509 *x, char out[33])
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	uint8_t b[16] = { 0 };
	int n = ASN1_STRING_length(ai);

	out[0] = '\0';
	if (n < 0 || n > 16)
		return cairn_error(CAIRN_E_INVAL, "a serial of %d bytes is not "
		    "one this CA issues", n);
	memcpy(b + (16 - n), ASN1_STRING_get0_data(ai), (size_t)n);
	cairn_hex(out, b, 16, 0);
	return 0;
}

int
ca_checkpoint(struct ca *ca)
{
	int r;

	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = store_audit_checkpoint(ca->store, ca->signer, ca->pub,
	    ca->md)) != 0) {
		store_rollback(ca->store);
		return r;
	}
	return store_commit(ca->store);
}

int
ca_serial_norm(const char *in, char out[33])
{
	size_t n = 0, i;
	const char *p = in;

	if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0X", 2) == 0)
		p += 2;
	for (; *p != '\0'; p++) {
		char c = *p;

		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
		    n >= 32)
			return cairn_error(CAIRN_E_INVAL, "serial \"%.80s\": "
			    "want the certificate's serial number in hex (32 "
			    "digits, as \"cairn-sub list\" prints it)", in);
		out[n++] = c;
	}
	if (n == 0)
		return cairn_error(CAIRN_E_INVAL, "empty serial number");
	/* Serials are 16 bytes; a tool may have dropped leading zeros. */
	if (n < 32) {
		memmove(out + (32 - n), out, n);
		for (i = 0; i < 32 - n; i++)
			out[i] = '0';
	}
	out[32] = '\0';
	return 0;
}
