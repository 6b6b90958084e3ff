/*
 * store.c: the SQLite store (see store.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/audit.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/store.h"

/* A job of store_run(), on its caller's stack. */
struct job {
	store_job_fn fn;
	void *arg;
	int r;
	int done;
	char msg[CAIRN_ERRMSG_MAX];
	struct job *next;
};

/* Statements kept prepared, found by connection and by the address of
 * their SQL (see store_stmt()); one user at a time (a lock or a thread). */
struct stmt_cache {
	struct {
		sqlite3 *db;
		const char *sql;
		sqlite3_stmt *q;
		int busy;
	} e[STORE_STMTS];
	int n;
};

static sqlite3_stmt *
cache_get(struct stmt_cache *c, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].db == db && c->e[i].sql == sql) {
			if (c->e[i].busy)
				break;
			c->e[i].busy = 1;
			return c->e[i].q;
		}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return NULL;
	}
	/* A statement already in use (the same SQL nested) or a full cache:
	 * this one is finalized when it is handed back. */
	if (i == c->n && c->n < STORE_STMTS) {
		c->e[i].db = db;
		c->e[i].sql = sql;
		c->e[i].q = q;
		c->e[i].busy = 1;
		c->n++;
	}
	return q;
}

static void
cache_put(struct stmt_cache *c, sqlite3_stmt *q)
{
	int i;

	if (q == NULL)
		return;
	for (i = 0; i < c->n; i++)
		if (c->e[i].q == q) {
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			c->e[i].busy = 0;
			return;
		}
	sqlite3_finalize(q);
}

/* Finalize what is kept for `db` (before it closes). */
static void
cache_drop(struct stmt_cache *c, sqlite3 *db)
{
	int i, j;

	for (i = j = 0; i < c->n; i++) {
		if (c->e[i].db == db)
			sqlite3_finalize(c->e[i].q);
		else
			c->e[j++] = c->e[i];
	}
	c->n = j;
}

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
	char *path;
	/* group commit: jobs waiting, and whether a thread leads a batch */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	struct job *queue, **qtail;
	int leading;
	unsigned long long jobs, commits;
	struct stmt_cache stmts;        /* store_stmt(), under `mu` */
	int not_full;   /* synchronous is NORMAL (store_begin_lazy) */
};

/*
 * Migrations: migration N takes the schema from version N-1 to N.  Never
 * edit one that has shipped; add the next.
 */
static const char *const migrations[] = {
	/* 1: requests, certificates, revocation, CRLs, accounts, audit */
	"CREATE TABLE requests ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  created INTEGER NOT NULL,"
	"  template TEXT NOT NULL,"
	"  template_digest TEXT NOT NULL,"
	"  requester TEXT NOT NULL,"
	"  via TEXT NOT NULL,"
	"  csr BLOB,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('pending', 'denied', 'issuing', 'issued', 'failed')),"
	"  decided_by TEXT,"
	"  decided_at INTEGER,"
	"  note TEXT,"
	"  serial TEXT);"
	"CREATE INDEX requests_status ON requests(status);"
	/* serial: 32 lowercase hex digits (16 bytes, lib/profile.h). An
	 * 'intended' row has its to-be-signed bytes and no certificate yet:
	 * it is never reported good, and may be revoked. */
	"CREATE TABLE certs ("
	"  serial TEXT PRIMARY KEY,"
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  status TEXT NOT NULL CHECK (status IN ('intended', 'issued')),"
	"  tbs BLOB NOT NULL,"
	"  der BLOB,"
	"  subject TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  template TEXT NOT NULL,"
	"  template_digest TEXT NOT NULL,"
	"  requester TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  revoked_at INTEGER,"
	"  reason INTEGER,"
	"  revoked_by TEXT,"
	"  CHECK ((der IS NULL) = (status = 'intended')));"
	"CREATE INDEX certs_revoked ON certs(revoked_at)"
	"  WHERE revoked_at IS NOT NULL;"
	"CREATE INDEX certs_request ON certs(request_id);"
	"CREATE TABLE crls ("
	"  number INTEGER PRIMARY KEY CHECK (number >= 1),"
	"  this_update INTEGER NOT NULL,"
	"  next_update INTEGER NOT NULL,"
	"  entries INTEGER,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE accounts ("
	"  name TEXT PRIMARY KEY,"
	"  email TEXT,"
	"  pwhash TEXT,"
	"  created INTEGER NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE account_roles ("
	"  account TEXT NOT NULL REFERENCES accounts(name),"
	"  role TEXT NOT NULL CHECK (role IN"
	"    ('admin', 'manager', 'auditor', 'enrollee')),"
	"  PRIMARY KEY (account, role));"
	"CREATE TABLE account_groups ("
	"  account TEXT NOT NULL REFERENCES accounts(name),"
	"  grp TEXT NOT NULL,"
	"  PRIMARY KEY (account, grp));"
	/* TLS client certificates bound to an account by issuer and serial
	 * (never by a name in the certificate: ESC9/10/14). */
	"CREATE TABLE account_certs ("
	"  issuer_serial TEXT PRIMARY KEY,"
	"  account TEXT NOT NULL REFERENCES accounts(name));"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY CHECK (seq >= 1),"
	"  line TEXT NOT NULL);",
	/* TPM key attestation (sub-ca/tpm.c): exchanges between their two
	 * rounds.  A row is 'open' until its second round, which marks it
	 * 'used' before checking anything (single use); `secret_sha256` is
	 * the hash of the credential secret, never the secret. */
	"CREATE TABLE tpm_sessions ("
	"  id TEXT PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  account TEXT NOT NULL,"
	"  template TEXT NOT NULL,"
	"  trust TEXT NOT NULL,"
	"  csr BLOB NOT NULL,"
	"  ak_pub BLOB NOT NULL,"
	"  key_pub BLOB NOT NULL,"
	"  ek_sha256 TEXT NOT NULL,"
	"  nonce BLOB NOT NULL,"
	"  secret_sha256 BLOB NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('open', 'used')));"
	"CREATE INDEX tpm_sessions_expires ON tpm_sessions(expires);",
	/* OCSP responder (sub-ca/ocsp*.c): pre-signed responses, one per
	 * certificate and CertID hash ('ca': this CA's certificates, serial
	 * as in certs; 'root': the root's pre-signed answers for this CA,
	 * serial in lowercase hex), and the delegated signers.  gen grows
	 * with every write, so that responders poll for what is new. */
	"CREATE TABLE ocsp_responses ("
	"  issuer TEXT NOT NULL CHECK (issuer IN ('ca', 'root')),"
	"  serial TEXT NOT NULL,"
	"  alg TEXT NOT NULL CHECK (alg IN ('sha1', 'sha256')),"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('good', 'revoked', 'unknown')),"
	"  revoked_at INTEGER,"
	"  reason INTEGER,"
	"  this_update INTEGER NOT NULL,"
	"  next_update INTEGER NOT NULL,"
	"  signer TEXT NOT NULL,"
	"  der BLOB NOT NULL,"
	"  gen INTEGER NOT NULL,"
	"  PRIMARY KEY (issuer, serial, alg));"
	"CREATE INDEX ocsp_responses_gen ON ocsp_responses(gen);"
	"CREATE TABLE ocsp_signers ("
	"  serial TEXT PRIMARY KEY REFERENCES certs(serial),"
	"  key_uri TEXT NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);",
	/* SCEP (sub-ca/scep*.c): one-time challenges, stored as the SHA-256
	 * of the secret (a dynamic challenge a webhook vouched for is kept as
	 * spent, so it cannot be replayed); the RA keys in the CA's token,
	 * by the request that certified them; SCEP transactions, so that a
	 * client that resends or polls finds its request. */
	"CREATE TABLE scep_challenges ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  template TEXT NOT NULL,"
	"  subject TEXT,"
	"  created INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  request_id INTEGER REFERENCES requests(id),"
	"  revoked_at INTEGER,"
	"  revoked_by TEXT,"
	"  CHECK ((used_at IS NULL) = (request_id IS NULL)));"
	"CREATE TABLE scep_ra ("
	"  request_id INTEGER PRIMARY KEY REFERENCES requests(id),"
	"  key_label TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE scep_transactions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tid TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  csr_sha256 TEXT NOT NULL,"
	"  signer_sha256 TEXT NOT NULL,"
	"  request_id INTEGER NOT NULL REFERENCES requests(id),"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX scep_transactions_tid ON scep_transactions(tid);",
	/* 5: requests are looked up by status only while pending (the
	 * managers' queue, `list pending`); an index of every request's
	 * status was rewritten by each issuance twice ('issuing', then
	 * 'issued'), two of the 17 pages an enrollment wrote. */
	"DROP INDEX requests_status;"
	"CREATE INDEX requests_pending ON requests(id) "
	"  WHERE status = 'pending';",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int
store_err(struct store *s, const char *what)
{
	return cairn_error(CAIRN_E_STORE, "%s: %s", what,
	    s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : "no store");
}

long long
store_now(void)
{
	const char *t = getenv("CAIRN_TEST_NOW");

	if (t != NULL && t[0] != '\0')
		return strtoll(t, NULL, 10);
	return (long long)time(NULL);
}

static int
exec(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;
	int r;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	r = cairn_error(CAIRN_E_STORE, "%s: %s", what,
	    msg != NULL ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return r;
}

static int
user_version(struct store *s, int *v)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		r = store_err(s, "reading the schema version");
	else
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

static int
migrate(struct store *s)
{
	char sql[64];
	int v = 0, r;
	size_t i;

	if ((r = exec(s, "BEGIN IMMEDIATE", "starting the migration")) != 0)
		return r;
	if ((r = user_version(s, &v)) != 0)
		goto fail;
	if (v > (int)NMIGRATIONS) {
		r = cairn_error(CAIRN_E_STORE, "%s has schema version %d; this "
		    "cairn-sub knows up to %zu: use the newer program that "
		    "wrote it", s->path, v, NMIGRATIONS);
		goto fail;
	}
	for (i = (size_t)v; i < NMIGRATIONS; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((r = exec(s, migrations[i], "migrating the store")) != 0 ||
		    (r = exec(s, sql, "migrating the store")) != 0)
			goto fail;
	}
	return exec(s, "COMMIT", "committing the migration");
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* The store holds the CA's records: it must be the service user's alone
 * (ESC4/5). */
static int
check_file(const char *path)
{
	struct stat st;
	int fd;

	/*
	 * Never open() and close() a store that exists: closing any file
	 * descriptor of a file drops every POSIX lock this process holds on
	 * it, so a second store_open() in a process whose first connection
	 * is in use would silently take SQLite's locks away from it (and a
	 * concurrent writer could then corrupt the file).  lstat() looks
	 * without opening; only a file that does not exist yet is created,
	 * with O_EXCL, before any connection can have it open.
	 */
	if (lstat(path, &st) == -1) {
		if (errno != ENOENT)
			return cairn_error(CAIRN_E_IO, "%s: %s", path,
			    strerror(errno));
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return cairn_error(CAIRN_E_IO, "%s: %s", path,
			    strerror(errno));
		if (fstat(fd, &st) == -1) {
			close(fd);
			return cairn_error(CAIRN_E_IO, "%s: %s", path,
			    strerror(errno));
		}
		close(fd);
	}
	if (S_ISLNK(st.st_mode))
		return cairn_error(CAIRN_E_IO, "%s: a symlink: the store must "
		    "be a plain file", path);
	if (!S_ISREG(st.st_mode))
		return cairn_error(CAIRN_E_IO, "%s: not a regular file", path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return cairn_error(CAIRN_E_IO, "%s is writable by group or "
		    "others (mode %03o): the CA's store must be writable by "
		    "its service user alone; chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
	return 0;
}

int
store_open(const char *path, struct store **out)
{
	struct store *s = NULL;
	int r;

	*out = NULL;
	if ((r = check_file(path)) != 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->qmu, NULL);
	pthread_cond_init(&s->qcv, NULL);
	s->qtail = &s->queue;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		r = store_err(s, path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* WAL + FULL: see store.h.  foreign_keys: a certificate always
	 * belongs to a request. */
	if ((r = exec(s, "PRAGMA journal_mode = WAL", path)) != 0 ||
	    (r = exec(s, "PRAGMA synchronous = FULL", path)) != 0 ||
	    (r = exec(s, "PRAGMA foreign_keys = ON", path)) != 0 ||
	    (r = migrate(s)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

sqlite3 *
store_reader_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *
store_scan_begin(struct store *s)
{
	sqlite3 *db = store_reader_open(s->path);

	if (db != NULL)
		return db;
	pthread_mutex_lock(&s->mu);
	return s->db;
}

void
store_scan_end(struct store *s, sqlite3 *db)
{
	if (db == s->db)
		pthread_mutex_unlock(&s->mu);
	else
		store_reader_close(db);
}

/* Kept statements of the reader connections this thread uses (each
 * reader belongs to one thread: store_reader_open). */
static __thread struct stmt_cache rstmts;

sqlite3_stmt *
store_stmt_on(struct store *s, sqlite3 *db, const char *sql)
{
	return cache_get(db == s->db ? &s->stmts : &rstmts, db, sql);
}

void
store_stmt_on_done(struct store *s, sqlite3 *db, sqlite3_stmt *q)
{
	cache_put(db == s->db ? &s->stmts : &rstmts, q);
}

void
store_reader_close(sqlite3 *db)
{
	if (db == NULL)
		return;
	cache_drop(&rstmts, db);
	sqlite3_close(db);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	cache_drop(&s->stmts, s->db);
	sqlite3_close_v2(s->db);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->qmu);
	pthread_cond_destroy(&s->qcv);
	free(s->path);
	free(s);
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	return cache_get(&s->stmts, s->db, sql);
}

void
store_stmt_done(struct store *s, sqlite3_stmt *q)
{
	cache_put(&s->stmts, q);
}

void
store_lock(struct store *s)
{
	pthread_mutex_lock(&s->mu);
}

void
store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->mu);
}

/* sqlite3_exec() of a statement without results, kept prepared (the
 * transaction statements each issuance runs several times). */
static int
kept_exec(struct store *s, const char *sql)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, sql)) == NULL)
		return sqlite3_errcode(s->db) != SQLITE_OK ?
		    sqlite3_errcode(s->db) : SQLITE_ERROR;
	rc = sqlite3_step(q);
	store_stmt_done(s, q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* synchronous = FULL again after a lazy transaction (store_begin_lazy),
 * outside any transaction: SQLite takes the setting when a transaction
 * begins, not when it commits. */
static int
restore_full(struct store *s)
{
	if (!s->not_full)
		return 0;
	if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return store_err(s, "restoring synchronous = FULL");
	s->not_full = 0;
	return 0;
}

static int
begin(struct store *s, int lazy)
{
	int r, rc;

	pthread_mutex_lock(&s->mu);
	if ((r = restore_full(s)) != 0) {
		pthread_mutex_unlock(&s->mu);
		return r;
	}
	/* Lazy, or durable if the setting will not take. */
	if (lazy && sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL,
	    NULL, NULL) == SQLITE_OK)
		s->not_full = 1;
	if ((rc = kept_exec(s, "BEGIN IMMEDIATE")) == SQLITE_OK)
		return 0;
	r = (rc & 0xff) == SQLITE_BUSY ?
	    cairn_error(CAIRN_E_STORE, "the store is busy (another process "
		"holds its write lock for more than 10 s); try again") :
	    store_err(s, "starting a transaction");
	restore_full(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}

int
store_begin(struct store *s)
{
	return begin(s, 0);
}

int
store_begin_lazy(struct store *s)
{
	return begin(s, 1);
}

int
store_commit(struct store *s)
{
	int r = 0;

	if (kept_exec(s, "COMMIT") != SQLITE_OK) {
		r = store_err(s, "committing");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	restore_full(s);        /* or the next begin() does */
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
store_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	restore_full(s);
	pthread_mutex_unlock(&s->mu);
}

/* One job of a batch, under its own savepoint. */
static void
run_job(struct store *s, struct job *j)
{
	cairn_error_clear();
	if (kept_exec(s, "SAVEPOINT job") != SQLITE_OK) {
		j->r = store_err(s, "starting a savepoint");
	} else if ((j->r = j->fn(s, j->arg)) != 0) {
		sqlite3_exec(s->db, "ROLLBACK TO job", NULL, NULL, NULL);
		sqlite3_exec(s->db, "RELEASE job", NULL, NULL, NULL);
	} else if (kept_exec(s, "RELEASE job") != SQLITE_OK) {
		j->r = store_err(s, "releasing a savepoint");
		sqlite3_exec(s->db, "ROLLBACK TO job", NULL, NULL, NULL);
		sqlite3_exec(s->db, "RELEASE job", NULL, NULL, NULL);
	}
	if (j->r != 0)
		snprintf(j->msg, sizeof(j->msg), "%s", cairn_errmsg(j->r));
}

/* Run the jobs from `batch` in one transaction, and commit once. */
static void
run_batch(struct store *s, struct job *batch)
{
	struct job *j;
	int r;

	if ((r = store_begin(s)) != 0) {
		for (j = batch; j != NULL; j = j->next) {
			j->r = r;
			snprintf(j->msg, sizeof(j->msg), "%s", cairn_errmsg(r));
		}
		return;
	}
	for (j = batch; j != NULL; j = j->next)
		run_job(s, j);
	if ((r = store_commit(s)) != 0)
		for (j = batch; j != NULL; j = j->next)
			if (j->r == 0) {
				j->r = r;
				snprintf(j->msg, sizeof(j->msg), "%s",
				    cairn_errmsg(r));
			}
}

int
store_run(struct store *s, store_job_fn fn, void *arg)
{
	struct job j, *batch, *k;

	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.arg = arg;
	pthread_mutex_lock(&s->qmu);
	*s->qtail = &j;
	s->qtail = &j.next;
	while (!j.done) {
		if (s->leading) {
			pthread_cond_wait(&s->qcv, &s->qmu);
			continue;
		}
		/* Lead: take every job queued so far (ours among them, as
		 * ours is not done), run them, and hand the results back. */
		s->leading = 1;
		batch = s->queue;
		s->queue = NULL;
		s->qtail = &s->queue;
		pthread_mutex_unlock(&s->qmu);
		run_batch(s, batch);
		pthread_mutex_lock(&s->qmu);
		s->commits++;
		for (k = batch; k != NULL; k = k->next) {
			k->done = 1;
			s->jobs++;
		}
		s->leading = 0;
		pthread_cond_broadcast(&s->qcv);
	}
	pthread_mutex_unlock(&s->qmu);
	if (j.r != 0)
		return cairn_error(j.r, "%s", j.msg);
	return 0;
}

void
store_stats(struct store *s, unsigned long long *jobs,
    unsigned long long *commits)
{
	pthread_mutex_lock(&s->qmu);
	*jobs = s->jobs;
	*commits = s->commits;
	pthread_mutex_unlock(&s->qmu);
}

/* The head of the chain as the table has it now. */
static int
head(struct store *s, struct audit_head *h)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	h->seq = 0;
	memset(h->hash, '0', 64);
	h->hash[64] = '\0';
	if ((st = store_stmt(s, "SELECT seq, line FROM audit ORDER BY "
	    "seq DESC LIMIT 1")) == NULL)
		return store_err(s, "reading the audit log");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uint8_t md[32];
		const void *line = sqlite3_column_text(st, 1);
		int len = sqlite3_column_bytes(st, 1);

		h->seq = (unsigned long long)sqlite3_column_int64(st, 0);
		if (line == NULL || EVP_Digest(line, (size_t)len, md, NULL,
		    EVP_sha256(), NULL) != 1)
			r = cairn_error(CAIRN_E_CRYPTO, "hashing audit line "
			    "%llu", h->seq);
		else
			cairn_hex(h->hash, md, 32, 0);
	} else if (rc != SQLITE_DONE) {
		r = store_err(s, "reading the audit log");
	}
	store_stmt_done(s, st);
	return r;
}

static int
insert_line(struct store *s, const struct audit_head *h, const char *line,
    EVP_PKEY *pub)
{
	struct audit_head next = *h;
	sqlite3_stmt *st = NULL;
	int r;

	/* What a verifier would refuse is never stored. */
	if ((r = audit_advance(&next, line, strlen(line), pub)) != 0)
		return cairn_error_prefix(r, "refusing an audit line: ");
	if ((st = store_stmt(s, "INSERT INTO audit (seq, line) VALUES "
	    "(?, ?)")) == NULL ||
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)next.seq) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, line, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(s, "writing the audit log");
	store_stmt_done(s, st);
	return r;
}

int
store_audit(struct store *s, const json_t *fields)
{
	struct audit_head h;
	char *line = NULL;
	int r;

	if ((r = head(s, &h)) == 0 &&
	    (r = audit_make_record(&h, fields, &line)) == 0)
		r = insert_line(s, &h, line, NULL);
	free(line);
	return r;
}

int
store_audit_checkpoint(struct store *s, EVP_PKEY *key, EVP_PKEY *pub,
    const EVP_MD *md)
{
	struct audit_head h;
	char *line = NULL;
	int r;

	if ((r = head(s, &h)) == 0 &&
	    (r = audit_make_checkpoint(&h, key, pub, md, &line)) == 0)
		r = insert_line(s, &h, line, pub);
	free(line);
	return r;
}

int
store_audit_head(struct store *s, struct audit_head *h)
{
	int r;

	store_lock(s);
	r = head(s, h);
	store_unlock(s);
	return r;
}

int
store_audit_export(struct store *s, char **buf, size_t *len)
{
	sqlite3_stmt *st = NULL;
	char *b = NULL, *nb;
	size_t n = 0, cap = 0, l;
	int rc, r = 0;

	*buf = NULL;
	*len = 0;
	store_lock(s);
	if (sqlite3_prepare_v2(s->db, "SELECT line FROM audit ORDER BY seq",
	    -1, &st, NULL) != SQLITE_OK) {
		r = store_err(s, "reading the audit log");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		l = (size_t)sqlite3_column_bytes(st, 0);
		if (n + l + 2 > cap) {
			cap = (n + l + 2) * 2;
			if ((nb = realloc(b, cap)) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "out of memory");
				goto out;
			}
			b = nb;
		}
		memcpy(b + n, sqlite3_column_text(st, 0), l);
		n += l;
		b[n++] = '\n';
	}
	if (rc != SQLITE_DONE) {
		r = store_err(s, "reading the audit log");
		goto out;
	}
	if (b == NULL && (b = malloc(1)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	*buf = b; /* transferred */
	*len = n;
	b = NULL;
out:
	sqlite3_finalize(st);
	store_unlock(s);
	free(b);
	return r;
}
