/*
 * account.c: accounts, roles, groups, passwords and client-certificate
 * bindings (see account.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/account.h"

/* Argon2id parameters: RFC 9106 4's second recommended option (64 MiB,
 * 3 passes) costs ~100 ms here, fine for logins, heavy for guessing. */
#define PW_T_COST 3
#define PW_M_COST (64 * 1024)
#define PW_PARALLEL 1
#define PW_SALT 16
#define PW_HASH 32
#define PW_ENCODED 128

static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64 || strncmp(name, "local:", 6) == 0 ||
	    strcmp(name, "system") == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == '@'))
			return 0;
	}
	return 1;
}

static int
audited(struct ca *ca, json_t *o, const struct actor *who, int r)
{
	if (r == 0 && (o == NULL || json_object_set_new(o, "actor",
	    json_string(who->name)) != 0))
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
	if (r == 0)
		r = store_audit(ca->store, o);
	if (r == 0)
		r = store_commit(ca->store);
	else
		store_rollback(ca->store);
	json_decref(o);
	return r;
}

static int
may_admin(const struct actor *who)
{
	if (who->local || (who->roles & ROLE_ADMIN))
		return 0;
	return cairn_error(CAIRN_E_DENIED, "%s may not manage accounts: that "
	    "needs the CA administrator role", who->name);
}

static int
hash_password(const char *pw, char out[PW_ENCODED])
{
	uint8_t salt[PW_SALT];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "no randomness");
	if (argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLEL, pw,
	    strlen(pw), salt, sizeof(salt), PW_HASH, out, PW_ENCODED) !=
	    ARGON2_OK)
		return cairn_error(CAIRN_E_CRYPTO, "hashing the password "
		    "failed");
	return 0;
}

int
account_add(struct ca *ca, const char *name, const char *email,
    const char *password, const struct actor *who)
{
	char hash[PW_ENCODED] = "";
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = may_admin(who)) != 0)
		return r;
	if (!name_ok(name))
		return cairn_error(CAIRN_E_INVAL, "account name \"%.80s\": use "
		    "1 to 64 of letters, digits, '.', '-', '_', '@' (not "
		    "\"system\", not \"local:...\")", name);
	if (password != NULL && strlen(password) < 12)
		return cairn_error(CAIRN_E_INVAL, "the password is shorter than "
		    "12 characters");
	if (password != NULL && (r = hash_password(password, hash)) != 0)
		return r;
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO accounts "
	    "(name, email, pwhash, created) VALUES (?, ?, ?, ?)", -1, &st,
	    NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC) ||
	    (password != NULL ? sqlite3_bind_text(st, 3, hash, -1,
		SQLITE_STATIC) : sqlite3_bind_null(st, 3)) ||
	    sqlite3_bind_int64(st, 4, store_now()))
		r = store_err(ca->store, "adding the account");
	else if (sqlite3_step(st) != SQLITE_DONE)
		r = sqlite3_extended_errcode(store_db(ca->store)) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY ? cairn_error(CAIRN_E_EXISTS,
		    "account \"%s\" exists already", name) :
		    store_err(ca->store, "adding the account");
	sqlite3_finalize(st);
	OPENSSL_cleanse(hash, sizeof(hash));
	return audited(ca, json_pack("{s:s, s:s, s:b}", "event",
	    "account added", "account", name, "password", password != NULL),
	    who, r);
}

static int
account_exists(struct ca *ca, const char *name)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(store_db(ca->store), "SELECT 1 FROM accounts "
	    "WHERE name = ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC))
		r = store_err(ca->store, "reading accounts");
	else if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		r = cairn_error(CAIRN_E_NOT_FOUND, "no account \"%.80s\" "
		    "(\"cairn-sub account add\" makes one)", name);
	else if (rc != SQLITE_ROW)
		r = store_err(ca->store, "reading accounts");
	sqlite3_finalize(st);
	return r;
}

int
account_role(struct ca *ca, const char *name, enum ca_role role, int add,
    const struct actor *who)
{
	sqlite3_stmt *st = NULL;
	const unsigned separated = ROLE_ADMIN | ROLE_MANAGER | ROLE_AUDITOR;
	int r;

	if ((r = may_admin(who)) != 0)
		return r;
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = account_exists(ca, name)) != 0)
		goto done;
	if (add && ca->cfg.separation && ((unsigned)role & separated)) {
		const char *other = NULL;

		if (sqlite3_prepare_v2(store_db(ca->store), "SELECT role FROM "
		    "account_roles WHERE account = ? AND role IN ('admin', "
		    "'manager', 'auditor') AND role != ?", -1, &st, NULL) !=
		    SQLITE_OK || sqlite3_bind_text(st, 1, name, -1,
		    SQLITE_STATIC) || sqlite3_bind_text(st, 2,
		    ca_role_name(role), -1, SQLITE_STATIC)) {
			r = store_err(ca->store, "reading roles");
			goto done;
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			other = (const char *)sqlite3_column_text(st, 0);
		if (other != NULL) {
			r = cairn_error(CAIRN_E_DENIED, "account \"%s\" is %s "
			    "already; with role separation on, one account "
			    "holds at most one of admin, manager and auditor "
			    "(roles.separation in the configuration)", name,
			    other);
			goto done;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(store_db(ca->store), add ? "INSERT OR IGNORE "
	    "INTO account_roles (account, role) VALUES (?, ?)" : "DELETE FROM "
	    "account_roles WHERE account = ? AND role = ?", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, ca_role_name(role), -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(ca->store, "changing roles");
done:
	sqlite3_finalize(st);
	return audited(ca, json_pack("{s:s, s:s, s:s}", "event", add ?
	    "role granted" : "role removed", "account", name, "role",
	    ca_role_name(role)), who, r);
}

int
account_group(struct ca *ca, const char *name, const char *group,
    const struct actor *who)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = may_admin(who)) != 0)
		return r;
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = account_exists(ca, name)) == 0 &&
	    (sqlite3_prepare_v2(store_db(ca->store), "INSERT OR IGNORE INTO "
	    "account_groups (account, grp) VALUES (?, ?)", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE))
		r = store_err(ca->store, "adding the group");
	sqlite3_finalize(st);
	return audited(ca, json_pack("{s:s, s:s, s:s}", "event",
	    "group added", "account", name, "group", group), who, r);
}

/*
 * Verified credentials.  Argon2id is meant to be slow (~100 ms and 64 MiB
 * per check): right for a login, ruinous when a REST client sends Basic
 * credentials with every request.  So a credential that verified is
 * remembered for CAIRN_AUTH_CACHE_SEC as HMAC-SHA256 under a key made
 * afresh by each process (never written anywhere) over the account name,
 * the stored Argon2id hash and the password.  The stored hash is part of
 * the tag, and it is read from the store on every request, so a changed
 * password or a disabled account takes effect at once; a wrong password
 * is never remembered and always costs a full Argon2id check.
 */
struct verified {
	uint8_t tag[32];
	long long until;
};
static struct verified verified[CAIRN_AUTH_CACHE_SLOTS];
static uint8_t verified_key[32];
static int verified_ready;
static pthread_mutex_t verified_mu = PTHREAD_MUTEX_INITIALIZER;

/* The slot of a tag (its first 32 bits: a tag is uniformly random). */
static size_t
slot_of(const uint8_t tag[32], size_t slots)
{
	return ((size_t)tag[0] << 24 | (size_t)tag[1] << 16 |
	    (size_t)tag[2] << 8 | tag[3]) % slots;
}

static int
verified_tag(const char *name, const char *hash, const char *pw,
    uint8_t tag[32])
{
	uint8_t buf[1024];
	size_t n = strlen(name) + 1, m = strlen(hash) + 1, k = strlen(pw);
	unsigned len = 32;
	int ok;

	if (n + m + k > sizeof(buf))
		return 0;       /* not remembered: always a full check */
	if (!verified_ready) {
		if (RAND_bytes(verified_key, sizeof(verified_key)) != 1)
			return 0;
		verified_ready = 1;
	}
	memcpy(buf, name, n);
	memcpy(buf + n, hash, m);
	memcpy(buf + n + m, pw, k);
	ok = HMAC(EVP_sha256(), verified_key, sizeof(verified_key), buf,
	    n + m + k, tag, &len) != NULL;
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

static int
verified_lookup(const char *name, const char *hash, const char *pw)
{
	uint8_t tag[32];
	struct verified *v;
	int hit = 0;

	pthread_mutex_lock(&verified_mu);
	if (verified_tag(name, hash, pw, tag)) {
		v = &verified[slot_of(tag, CAIRN_AUTH_CACHE_SLOTS)];
		hit = v->until > store_now() &&
		    CRYPTO_memcmp(v->tag, tag, sizeof(tag)) == 0;
	}
	pthread_mutex_unlock(&verified_mu);
	OPENSSL_cleanse(tag, sizeof(tag));
	return hit;
}

static void
verified_insert(const char *name, const char *hash, const char *pw)
{
	uint8_t tag[32];
	struct verified *v;

	pthread_mutex_lock(&verified_mu);
	if (verified_tag(name, hash, pw, tag)) {
		v = &verified[slot_of(tag, CAIRN_AUTH_CACHE_SLOTS)];
		memcpy(v->tag, tag, sizeof(tag));
		v->until = store_now() + CAIRN_AUTH_CACHE_SEC;
	}
	pthread_mutex_unlock(&verified_mu);
	OPENSSL_cleanse(tag, sizeof(tag));
}

/*
 * Argon2id checks at once.  Each takes 64 MiB and ~100 ms of one core:
 * a crowd of wrong passwords (or REST clients whose passwords are not
 * remembered yet) on every pool thread would take gigabytes and every
 * core.  Beyond CAIRN_AUTH_ARGON2_MAX at once, a check waits its turn.
 */
static pthread_mutex_t argon_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t argon_cv = PTHREAD_COND_INITIALIZER;
static int argon_running, argon_peak;

static void
argon_enter(void)
{
	pthread_mutex_lock(&argon_mu);
	while (argon_running >= CAIRN_AUTH_ARGON2_MAX)
		pthread_cond_wait(&argon_cv, &argon_mu);
	if (++argon_running > argon_peak)
		argon_peak = argon_running;
	pthread_mutex_unlock(&argon_mu);
}

static void
argon_leave(void)
{
	pthread_mutex_lock(&argon_mu);
	argon_running--;
	pthread_cond_signal(&argon_cv);
	pthread_mutex_unlock(&argon_mu);
}

int
account_argon2_peak(void)
{
	int n;

	pthread_mutex_lock(&argon_mu);
	n = argon_peak;
	pthread_mutex_unlock(&argon_mu);
	return n;
}

/* Wrong passwords by account and address (account_password_check_from),
 * under verified_mu, tagged with the same per-process key. */
struct failures {
	uint8_t tag[32];
	int n;
	long long since;
};
static struct failures failures[CAIRN_AUTH_FAIL_SLOTS];

static int
failures_tag(const char *name, const char *remote, uint8_t tag[32])
{
	char who[512];

	if (snprintf(who, sizeof(who), "%s", remote) >= (int)sizeof(who))
		return 0;
	/* The "password" of the tag is the address: a different string
	 * space from verified passwords, as the name is followed by the
	 * stored hash there and by this marker here. */
	return verified_tag(name, "\001wrong passwords from", who, tag);
}

/* 1 when `remote` has used up its wrong passwords for `name`. */
static int
failures_blocked(const char *name, const char *remote, long long *until)
{
	uint8_t tag[32];
	struct failures *f;
	long long now = store_now();
	int blocked = 0;

	pthread_mutex_lock(&verified_mu);
	if (failures_tag(name, remote, tag)) {
		f = &failures[slot_of(tag, CAIRN_AUTH_FAIL_SLOTS)];
		if (CRYPTO_memcmp(f->tag, tag, sizeof(tag)) == 0 &&
		    now - f->since < CAIRN_AUTH_FAIL_WINDOW &&
		    f->n >= CAIRN_AUTH_FAIL_MAX) {
			blocked = 1;
			*until = f->since + CAIRN_AUTH_FAIL_WINDOW;
		}
	}
	pthread_mutex_unlock(&verified_mu);
	return blocked;
}

/* Count a wrong password (`wrong`), or clear the count after a right one. */
static void
failures_note(const char *name, const char *remote, int wrong)
{
	uint8_t tag[32];
	struct failures *f;
	long long now = store_now();

	pthread_mutex_lock(&verified_mu);
	if (failures_tag(name, remote, tag)) {
		f = &failures[slot_of(tag, CAIRN_AUTH_FAIL_SLOTS)];
		if (CRYPTO_memcmp(f->tag, tag, sizeof(tag)) != 0 ||
		    now - f->since >= CAIRN_AUTH_FAIL_WINDOW) {
			if (wrong) {
				memcpy(f->tag, tag, sizeof(tag));
				f->n = 1;
				f->since = now;
			}
		} else if (wrong) {
			f->n++;
		} else {
			memset(f, 0, sizeof(*f));
		}
	}
	pthread_mutex_unlock(&verified_mu);
}

int
account_password_check_from(struct ca *ca, const char *name, const char *pw,
    const char *remote)
{
	long long until = 0;
	int r;

	if (remote != NULL && failures_blocked(name, remote, &until))
		return cairn_error(CAIRN_E_AUTH, "too many wrong passwords for "
		    "this account from this address: try again in %lld s",
		    until - store_now());
	r = account_password_check(ca, name, pw);
	if (remote != NULL)
		failures_note(name, remote, r == CAIRN_E_AUTH);
	return r;
}

int
account_password_check(struct ca *ca, const char *name, const char *pw)
{
	sqlite3_stmt *st = NULL;
	char *hash = NULL;
	int rc, r;

	store_lock(ca->store);
	if ((st = store_stmt(ca->store, "SELECT pwhash FROM accounts WHERE "
	    "name = ? AND disabled = 0")) != NULL &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		hash = strdup((const char *)sqlite3_column_text(st, 0));
	store_stmt_done(ca->store, st);
	store_unlock(ca->store);
	/* The same answer, and about the same time, for an unknown account
	 * and a wrong password. */
	if (hash == NULL) {
		char dummy[PW_ENCODED];

		argon_enter();
		hash_password("not-a-password", dummy);
		argon_leave();
		return cairn_error(CAIRN_E_AUTH, "wrong account name or "
		    "password");
	}
	if (verified_lookup(name, hash, pw)) {
		free(hash);
		return 0;
	}
	argon_enter();
	r = argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK ? 0 :
	    cairn_error(CAIRN_E_AUTH, "wrong account name or password");
	argon_leave();
	if (r == 0)
		verified_insert(name, hash, pw);
	free(hash);
	return r;
}

int
account_cert_key(X509 *x, char out[ACCOUNT_CERT_KEY_MAX])
{
	uint8_t *der = NULL, md[32];
	char hex[65];
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	int len, i, n;

	if ((len = i2d_X509_NAME(X509_get_issuer_name(x), &der)) <= 0 ||
	    EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing the issuer");
	}
	OPENSSL_free(der);
	cairn_hex(hex, md, 32, 0);
	n = snprintf(out, ACCOUNT_CERT_KEY_MAX, "%s:", hex);
	for (i = 0; i < ASN1_STRING_length(ai) && n < ACCOUNT_CERT_KEY_MAX - 3;
	    i++)
		n += snprintf(out + n, (size_t)(ACCOUNT_CERT_KEY_MAX - n),
		    "%02x", ASN1_STRING_get0_data(ai)[i]);
	return 0;
}

int
account_bind_cert(struct ca *ca, const char *name, X509 *x,
    const struct actor *who)
{
	char key[ACCOUNT_CERT_KEY_MAX];
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = may_admin(who)) != 0 || (r = account_cert_key(x, key)) != 0)
		return r;
	if ((r = store_begin(ca->store)) != 0)
		return r;
	if ((r = account_exists(ca, name)) == 0 &&
	    (sqlite3_prepare_v2(store_db(ca->store), "INSERT INTO "
	    "account_certs (issuer_serial, account) VALUES (?, ?)", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_bind_text(st, 1, key, -1,
	    SQLITE_STATIC) || sqlite3_bind_text(st, 2, name, -1,
	    SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE))
		r = store_err(ca->store, "binding the certificate");
	sqlite3_finalize(st);
	return audited(ca, json_pack("{s:s, s:s, s:s}", "event",
	    "certificate bound", "account", name, "certificate", key), who, r);
}

int
account_by_cert(struct ca *ca, X509 *x, char *name, size_t namelen)
{
	char key[ACCOUNT_CERT_KEY_MAX];
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = account_cert_key(x, key)) != 0)
		return r;
	store_lock(ca->store);
	r = cairn_error(CAIRN_E_AUTH, "the client certificate is not bound "
	    "to any account (\"cairn-sub account cert\" binds one)");
	if (sqlite3_prepare_v2(store_db(ca->store), "SELECT account FROM "
	    "account_certs WHERE issuer_serial = ?", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(name, namelen, "%s", sqlite3_column_text(st, 0));
		r = 0;
	}
	sqlite3_finalize(st);
	store_unlock(ca->store);
	return r;
}
