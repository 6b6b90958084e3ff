/*
 * test_store.c: the online CA's store (sub-ca/store.c): its refusals at
 * open, its migrations, and the group commit that the issuance path's
 * durable records go through (store_run).
 *
 * The group commit is where a CA could lose what it signed: a record
 * reported durable that is not, one thread's failure rolling back another
 * thread's record, or an error message landing in the wrong thread.  So
 * 16 threads run 200 jobs each, with a failing job every so often, and
 * the test then reopens the file as a new connection and checks that
 * exactly the jobs reported good are there, that the failing ones left
 * nothing, that the audit chain their records went into verifies, and
 * that the jobs shared transactions (fewer commits than jobs).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lib/audit.h"
#include "lib/error.h"
#include "sub-ca/store.h"

#define THREADS 16
#define JOBS 200

static char dir[PATH_MAX], path[PATH_MAX + 16];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/cairn-store-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ca.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long long
count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_open_refusals(void **state)
{
	struct store *s = NULL;
	char link[PATH_MAX + 16];
	int r;

	(void)state;
	snprintf(link, sizeof(link), "%s/link.db", dir);
	assert_int_equal(store_open(path, &s), 0);
	store_close(s);
	/* ESC4/5: a store others may write, or a symlink, is refused. */
	assert_int_equal(chmod(path, 0620), 0);
	r = store_open(path, &s);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "writable by group or "
	    "others (mode 620)"));
	assert_null(s);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	r = store_open(link, &s);
	assert_int_equal(r, CAIRN_E_IO);
	assert_non_null(strstr(cairn_errmsg(r), "symlink"));
	unlink(link);
	/* A store from a newer program is refused, not downgraded. */
	{
		sqlite3 *db = NULL;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999",
		    NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	r = store_open(path, &s);
	assert_int_equal(r, CAIRN_E_STORE);
	assert_non_null(strstr(cairn_errmsg(r), "schema version 999"));
	unlink(path);
}

/* Migration 5: a store at schema 4 keeps its requests; the index of
 * every request's status gives way to one of the pending requests only,
 * which the managers' queue uses. */
static void
test_migrate_pending_index(void **state)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *plan;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	store_close(s);
	/* Back to schema 4 as it shipped, with a request of each kind. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX requests_pending;"
	    "CREATE INDEX requests_status ON requests(status);"
	    "INSERT INTO requests (created, template, template_digest, "
	    "requester, via, status) VALUES (1, 'T', 'd', 'alice', 'rest', "
	    "'pending'), (2, 'T', 'd', 'bob', 'rest', 'issued'), (3, 'T', "
	    "'d', 'carol', 'scep', 'pending');"
	    "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, &s), 0);
	store_close(s);
	assert_int_equal(count("PRAGMA user_version"), 5);
	assert_int_equal(count("SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'requests_status'"), 0);
	assert_int_equal(count("SELECT count(*) FROM requests"), 3);
	assert_int_equal(count("SELECT count(*) FROM requests WHERE status = "
	    "'pending'"), 2);
	/* The queue's query reads the new index, in request order. */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT "
	    "id FROM requests WHERE status = 'pending' ORDER BY id", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	plan = (const char *)sqlite3_column_text(st, 3);
	assert_non_null(plan);
	assert_non_null(strstr(plan, "requests_pending"));
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
}

static void
test_pragmas(void **state)
{
	struct store *s = NULL;
	sqlite3_stmt *st = NULL;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	/* WAL and synchronous=FULL (2): a COMMIT that returned survives a
	 * power cut. */
	assert_int_equal(sqlite3_prepare_v2(store_db(s), "PRAGMA "
	    "synchronous", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(store_db(s), "PRAGMA "
	    "journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	store_close(s);
	unlink(path);
}

/* A job: one accounts row and one audit record; every 7th fails after
 * writing both, with its own message. */
struct tjob {
	int thread, n;
};

static int
job(struct store *s, void *arg)
{
	struct tjob *j = arg;
	sqlite3_stmt *st = NULL;
	char name[64];
	json_t *o;
	int r;

	snprintf(name, sizeof(name), "t%d-%d", j->thread, j->n);
	if (sqlite3_prepare_v2(store_db(s), "INSERT INTO accounts (name, "
	    "created) VALUES (?, 1)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return store_err(s, "test insert");
	}
	sqlite3_finalize(st);
	o = json_pack("{s:s, s:s}", "event", "test", "name", name);
	r = store_audit(s, o);
	json_decref(o);
	if (r != 0)
		return r;
	if (j->n % 7 == 3)
		return cairn_error(CAIRN_E_POLICY, "job %s refused", name);
	return 0;
}

struct worker {
	struct store *s;
	int thread;
	int ok, failed, wrong_message;
};

static void *
worker(void *arg)
{
	struct worker *w = arg;
	char want[64];
	int n, r;

	for (n = 0; n < JOBS; n++) {
		struct tjob j = { w->thread, n };

		r = store_run(w->s, job, &j);
		if (r == 0) {
			w->ok++;
			continue;
		}
		w->failed++;
		/* The failing job's own message, in its own thread. */
		snprintf(want, sizeof(want), "job t%d-%d refused", w->thread,
		    n);
		if (r != CAIRN_E_POLICY ||
		    strcmp(cairn_errmsg(r), want) != 0)
			w->wrong_message++;
	}
	return NULL;
}

static void
test_group_commit(void **state)
{
	struct store *s = NULL;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	unsigned long long jobs, commits;
	char *buf = NULL, sql[128];
	size_t len;
	struct audit_report rep;
	int i, ok = 0, failed = 0, n;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ s, i, 0, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
		assert_int_equal(w[i].wrong_message, 0);
	}
	/* 200 jobs per thread, n % 7 == 3 fail: 29 of them. */
	assert_int_equal(failed, THREADS * 29);
	assert_int_equal(ok, THREADS * (JOBS - 29));
	store_stats(s, &jobs, &commits);
	assert_int_equal(jobs, THREADS * JOBS);
	print_message("# %llu jobs in %llu commits\n", jobs, commits);
	assert_true(commits < jobs);
	/* The audit chain holds exactly the good jobs' records, chained
	 * (a structure check: this store has no checkpoint key here, so
	 * one is appended by a software key below). */
	{
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		assert_non_null(k);
		store_begin(s);
		assert_int_equal(store_audit_checkpoint(s, k, k, EVP_sha256()),
		    0);
		assert_int_equal(store_commit(s), 0);
		assert_int_equal(store_audit_export(s, &buf, &len), 0);
		assert_int_equal(audit_verify_mem(buf, len, k, &rep), 0);
		assert_int_equal(rep.lines, (unsigned long long)ok + 1);
		EVP_PKEY_free(k);
		free(buf);
	}
	store_close(s);
	/* A new connection sees every good job, and no failed one. */
	assert_int_equal(count("SELECT count(*) FROM accounts"), ok);
	for (i = 0; i < THREADS; i++)
		for (n = 0; n < JOBS; n++) {
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
			    "accounts WHERE name = 't%d-%d'", i, n);
			assert_int_equal(count(sql), n % 7 == 3 ? 0 : 1);
		}
	unlink(path);
}

/* A job that fails in SQLite itself (a constraint) is rolled back alone
 * and says why. */
static int
dup_job(struct store *s, void *arg)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	(void)arg;
	if (sqlite3_prepare_v2(store_db(s), "INSERT INTO accounts (name, "
	    "created) VALUES ('same', 1)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		r = store_err(s, "adding 'same'");
	sqlite3_finalize(st);
	return r;
}

static void
test_job_constraint(void **state)
{
	struct store *s = NULL;
	int r;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	assert_int_equal(store_run(s, dup_job, NULL), 0);
	r = store_run(s, dup_job, NULL);
	assert_int_equal(r, CAIRN_E_STORE);
	assert_non_null(strstr(cairn_errmsg(r), "adding 'same': UNIQUE "
	    "constraint failed"));
	/* The store is usable afterwards, with no transaction left open. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 1);
	unlink(path);
}

/*
 * A second store_open() in a process whose first connection is open must
 * not take that connection's POSIX locks away (closing any descriptor of
 * a file drops them all).  Were they gone, another process closing its
 * connection would believe itself the last one, checkpoint and delete the
 * WAL under the first connection's feet.  So: open, open and close a
 * second store on the same file, let another process (Python's sqlite3)
 * write and close; the WAL must still be there, as the first connection
 * holds the file.
 */
static void
test_second_open_keeps_locks(void **state)
{
	struct store *s = NULL, *s2 = NULL;
	char wal[PATH_MAX + 32], cmd[PATH_MAX * 3];
	struct stat st;

	(void)state;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(store_open(path, &s), 0);
	assert_int_equal(store_run(s, dup_job, NULL), 0);
	assert_int_equal(store_open(path, &s2), 0);
	store_close(s2);
	{
		char py[PATH_MAX + 16];
		FILE *f;

		snprintf(py, sizeof(py), "%s/writer.py", dir);
		assert_non_null(f = fopen(py, "w"));
		fprintf(f, "import sqlite3, sys\n"
		    "c = sqlite3.connect(sys.argv[1])\n"
		    "c.execute(\"INSERT INTO accounts (name, created) "
		    "VALUES ('py', 1)\")\n"
		    "c.commit()\n"
		    "c.close()\n");
		fclose(f);
		snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", py, path);
	}
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stat(wal, &st), 0);
	store_close(s);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 2);
	unlink(path);
}

/*
 * store_stmt(): a statement is prepared once and the same one comes back
 * for the same SQL; handing it back resets it (no read transaction left
 * open: another connection can checkpoint) and clears its bindings; the
 * same SQL used again before the first is handed back gets a statement
 * of its own; and a statement that does not prepare is NULL with the
 * connection's error.
 */
static void
test_stmt_cache(void **state)
{
	static const char sql[] = "SELECT count(*), ?1 FROM accounts";
	struct store *s = NULL;
	sqlite3_stmt *a, *b, *c;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	store_lock(s);
	assert_non_null(a = store_stmt(s, sql));
	assert_int_equal(sqlite3_bind_text(a, 1, "x", -1, SQLITE_STATIC), 0);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_true(sqlite3_stmt_busy(a));
	/* Nested: a statement of its own, finalized when handed back. */
	assert_non_null(b = store_stmt(s, sql));
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	assert_null(sqlite3_column_text(b, 1));
	store_stmt_done(s, b);
	store_stmt_done(s, a);
	assert_false(sqlite3_stmt_busy(a));
	/* Again: the same statement, its binding cleared. */
	assert_ptr_equal(c = store_stmt(s, sql), a);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_null(sqlite3_column_text(c, 1));
	store_stmt_done(s, c);
	assert_null(store_stmt(s, "SELECT nonsense FROM nowhere"));
	assert_non_null(strstr(sqlite3_errmsg(store_db(s)), "no such table"));
	store_unlock(s);
	/* Kept statements do not keep the connection from closing. */
	store_close(s);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 0);
	unlink(path);
}

/*
 * A VFS around the default one that counts xSync calls: what tells a
 * durable commit from a lazy one (the PRAGMA's value alone would not:
 * set inside a transaction, it reads back NORMAL and the commit still
 * syncs).
 */
struct cfile {
	sqlite3_file base;
	sqlite3_file *real;             /* follows this struct */
};

static sqlite3_vfs *dflt, counting;
static int syncs;

#define REAL(f) (((struct cfile *)(f))->real)
static int c_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int c_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int c_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xWrite(REAL(f), b, n, o); }
static int c_truncate(sqlite3_file *f, sqlite3_int64 n) { return REAL(f)->pMethods->xTruncate(REAL(f), n); }
static int c_sync(sqlite3_file *f, int fl) { __atomic_add_fetch(&syncs, 1, __ATOMIC_RELAXED); return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int c_size(sqlite3_file *f, sqlite3_int64 *n) { return REAL(f)->pMethods->xFileSize(REAL(f), n); }
static int c_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int c_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int c_check(sqlite3_file *f, int *o) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), o); }
static int c_fctl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int c_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int c_dev(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int c_shmmap(sqlite3_file *f, int i, int n, int e, void volatile **p) { return REAL(f)->pMethods->xShmMap(REAL(f), i, n, e, p); }
static int c_shmlock(sqlite3_file *f, int o, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void c_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int c_shmunmap(sqlite3_file *f, int d) { return REAL(f)->pMethods->xShmUnmap(REAL(f), d); }
static int c_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p) { return REAL(f)->pMethods->xFetch(REAL(f), o, n, p); }
static int c_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), o, p); }

static const sqlite3_io_methods cmethods = {
	3, c_close, c_read, c_write, c_truncate, c_sync, c_size, c_lock,
	c_unlock, c_check, c_fctl, c_sector, c_dev, c_shmmap, c_shmlock,
	c_shmbarrier, c_shmunmap, c_fetch, c_unfetch
};

static int
c_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct cfile *cf = (struct cfile *)f;
	int rc;

	(void)v;
	cf->real = (sqlite3_file *)(cf + 1);
	rc = dflt->xOpen(dflt, name, cf->real, flags, out);
	cf->base.pMethods = rc == SQLITE_OK && cf->real->pMethods != NULL ?
	    &cmethods : NULL;
	return rc;
}

/* The default VFS counts syncs from now on (for connections opened
 * afterwards). */
static void
count_syncs(void)
{
	if (dflt != NULL)
		return;
	assert_non_null(dflt = sqlite3_vfs_find(NULL));
	counting = *dflt;
	counting.zName = "counting";
	counting.szOsFile = (int)sizeof(struct cfile) + dflt->szOsFile;
	counting.xOpen = c_open;
	assert_int_equal(sqlite3_vfs_register(&counting, 1), SQLITE_OK);
}

/* store_begin_lazy(): its commit does not sync, and is there for other
 * connections; the next durable commit syncs (the WAL file with both in
 * it), and so does a durable commit after a lazy transaction rolled
 * back. */
static void
test_commit_lazy(void **state)
{
	struct store *s = NULL;
	int before;

	(void)state;
	count_syncs();
	assert_int_equal(store_open(path, &s), 0);
	before = syncs;
	assert_int_equal(store_begin_lazy(s), 0);
	assert_int_equal(sqlite3_exec(store_db(s), "INSERT INTO accounts "
	    "(name, created) VALUES ('lazy', 1)", NULL, NULL, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(syncs, before);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 1);
	assert_int_equal(store_run(s, dup_job, NULL), 0);
	assert_true(syncs > before);
	before = syncs;
	assert_int_equal(store_begin_lazy(s), 0);
	store_rollback(s);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(sqlite3_exec(store_db(s), "INSERT INTO accounts "
	    "(name, created) VALUES ('durable', 1)", NULL, NULL, NULL), 0);
	assert_int_equal(store_commit(s), 0);
	assert_true(syncs > before);
	store_close(s);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 3);
	unlink(path);
}

/* A commit made while a scan is open, on another thread. */
struct scan_writer {
	struct store *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, r;
};

static void *
scan_writer(void *arg)
{
	struct scan_writer *w = arg;
	int r = store_begin(w->s);

	if (r == 0 && sqlite3_exec(store_db(w->s), "INSERT INTO accounts "
	    "(name, created) VALUES ('during', 2)", NULL, NULL, NULL) != 0)
		r = -1;
	if (r == 0)
		r = store_commit(w->s);
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	w->r = r;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* A long read (the certificate listings) goes through a connection of
 * its own: a commit on another thread completes while it is open (under
 * the store's lock it would wait for the scan), and the scan reads the
 * snapshot it started with. */
static void
test_scan_outside_lock(void **state)
{
	struct scan_writer w = { NULL, PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, 0, 0 };
	struct store *s = NULL;
	struct timespec until;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	pthread_t t;
	int rows = 0;

	(void)state;
	assert_int_equal(store_open(path, &s), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(sqlite3_exec(store_db(s), "INSERT INTO accounts "
	    "(name, created) VALUES ('a', 1), ('b', 1), ('c', 1)", NULL, NULL,
	    NULL), 0);
	assert_int_equal(store_commit(s), 0);
	db = store_scan_begin(s);
	assert_non_null(db);
	assert_ptr_not_equal(db, store_db(s));
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM accounts "
	    "ORDER BY name", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	rows++;
	w.s = s;
	assert_int_equal(pthread_create(&t, NULL, scan_writer, &w), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&w.mu);
	while (!w.done && pthread_cond_timedwait(&w.cv, &w.mu, &until) == 0)
		;
	pthread_mutex_unlock(&w.mu);
	assert_int_equal(w.done, 1);    /* not held up by the open scan */
	assert_int_equal(w.r, 0);
	while (sqlite3_step(st) == SQLITE_ROW)
		rows++;
	assert_int_equal(rows, 3);      /* the snapshot it began with */
	sqlite3_finalize(st);
	store_scan_end(s, db);
	pthread_join(t, NULL);
	store_close(s);
	assert_int_equal(count("SELECT count(*) FROM accounts"), 4);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_pragmas),
		cmocka_unit_test(test_migrate_pending_index),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_job_constraint),
		cmocka_unit_test(test_second_open_keeps_locks),
		cmocka_unit_test(test_stmt_cache),
		cmocka_unit_test(test_commit_lazy),
		cmocka_unit_test(test_scan_outside_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
