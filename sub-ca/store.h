/*
 * store.h: the online CA's durable store, one SQLite file.
 *
 * What "nothing is lost" needs from it (../shared/SECURITY.md):
 *   - WAL mode with synchronous=FULL: a COMMIT that returned survives a
 *     power cut (NORMAL may lose the last transactions);
 *   - serial numbers unique by PRIMARY KEY, CRL numbers by PRIMARY KEY;
 *   - the audit log is a table of the same hash-chained JSON lines as a
 *     ceremony log (lib/audit.h), appended in the same transaction as what
 *     it records: when the audit row cannot be written, the transaction
 *     fails and nothing is signed or released;
 *   - the schema is created and upgraded by numbered migrations in this
 *     file; a store newer than the program is refused.
 * Several processes may use one store (the daemon and the admin commands):
 * writers take SQLite's write lock with BEGIN IMMEDIATE, and the audit
 * chain's head is read inside each transaction, never cached.
 *
 * Threads: one connection per struct store, used under its mutex:
 * store_begin() takes it, store_commit()/store_rollback() release it.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "lib/audit.h"

struct store;

/*
 * store_open: open (creating, mode 0600) and migrate the store at `path`.
 * Refuses a symlink, a file writable by group or others, and a store whose
 * schema is newer than this program's (the number of migrations in
 * store.c, which PRAGMA user_version records).  Errors: CAIRN_E_STORE with
 * SQLite's message and what to do, CAIRN_E_IO.
 */
int store_open(const char *path, struct store **out);
void store_close(struct store *s);

/*
 * store_reader_open: a read-only connection of the caller's own to the
 * store at `path` (already opened and migrated by store_open), for a
 * thread that reads without the store's mutex (WAL readers never wait for
 * the writer).  One thread uses it, and closes it with
 * store_reader_close().  NULL when it cannot be had: read through the
 * store under store_lock() instead.
 */
sqlite3 *store_reader_open(const char *path);
void store_reader_close(sqlite3 *db);

/*
 * store_scan_begin: a connection for one long read (a listing that reads
 * every certificate): a reader of its own when one can be had, so that
 * issuance does not wait behind the scan; else the store's connection,
 * under its lock.  store_scan_end: close or unlock it, whichever.
 */
sqlite3 *store_scan_begin(struct store *s);
void store_scan_end(struct store *s, sqlite3 *db);

/* store_db: the connection, for modules that keep their own SQL; use it
 * only between store_begin() and store_commit()/store_rollback(), or under
 * store_lock(). */
sqlite3 *store_db(struct store *s);

/*
 * store_stmt: the store connection's statement for `sql`, prepared once
 * and kept: parsing the SQL again for every issuance cost about 8% of its
 * CPU.  `sql` must be a string that lives as long as the store (a
 * literal): statements are found by its address.  Under the same rule as
 * store_db().  NULL when it does not prepare (store_err() says why).
 * store_stmt_done: hand it back (reset, bindings cleared); never finalize
 * it yourself.  Using the same SQL again before handing it back is safe
 * (that use gets a statement of its own).
 */
#define STORE_STMTS 48
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
void store_stmt_done(struct store *s, sqlite3_stmt *q);
/* store_stmt_on / store_stmt_on_done: the same on `db`, which is either
 * the store's connection (under the same rule) or this thread's reader
 * (store_reader_open): for code that reads through whichever it has. */
sqlite3_stmt *store_stmt_on(struct store *s, sqlite3 *db, const char *sql);
void store_stmt_on_done(struct store *s, sqlite3 *db, sqlite3_stmt *q);

/* store_lock / store_unlock: the mutex alone, for reads that need no
 * transaction (each SQLite statement is its own consistent snapshot). */
void store_lock(struct store *s);
void store_unlock(struct store *s);

/*
 * store_begin: lock, BEGIN IMMEDIATE (waits up to 10 s for another
 * process's write lock, then CAIRN_E_STORE "the store is busy").
 * store_commit: COMMIT (durable when it returns 0) and unlock; on failure
 * the transaction is rolled back, unlocked, and CAIRN_E_STORE returned.
 * store_rollback: ROLLBACK and unlock.
 */
int store_begin(struct store *s);
/*
 * store_begin_lazy: as store_begin(), for a transaction whose commit
 * needs no fsync of its own (synchronous = NORMAL for it, FULL again
 * after): data that can be made again, such as the OCSP responses the
 * pre-signer writes, which the next pass signs again if an OS crash loses
 * them.  The next durable commit syncs them too (one WAL file).  If FULL
 * cannot be restored, the next store_begin() restores it or fails.
 */
int store_begin_lazy(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * store_run: run `fn(s, arg)` inside a write transaction, durably
 * committed when store_run returns 0: the group commit of the issuance
 * path.  Threads that call store_run while a commit is in progress queue
 * their jobs; the next thread to lead runs every queued job in one
 * transaction, each under a SAVEPOINT of its own, and commits (one fsync)
 * for all.  A job whose fn fails has its own changes rolled back, and its
 * caller gets fn's result and message; the others commit.  When the
 * shared COMMIT fails, every job of the batch gets CAIRN_E_STORE.
 * fn runs on whichever thread leads: it must use only `s`, `arg` and
 * cairn_error() (the message is carried back to the caller's thread),
 * and must not call store_begin/commit/rollback/lock.
 */
typedef int (*store_job_fn)(struct store *s, void *arg);
int store_run(struct store *s, store_job_fn fn, void *arg);

/* store_stats: jobs run by store_run, and the transactions they took. */
void store_stats(struct store *s, unsigned long long *jobs,
    unsigned long long *commits);

/*
 * store_audit: append a record with `fields` to the audit chain, inside
 * the current transaction.  store_audit_checkpoint: append a checkpoint
 * signed by `key` (verified with `pub` before it is stored).
 */
int store_audit(struct store *s, const json_t *fields);
int store_audit_checkpoint(struct store *s, EVP_PKEY *key, EVP_PKEY *pub,
    const EVP_MD *md);

/* store_audit_head: the chain's head (outside a transaction: locks). */
int store_audit_head(struct store *s, struct audit_head *h);

/*
 * store_audit_export: the whole chain as JSON lines ("\n" after each),
 * what `audit_verify_mem` checks.  *buf new (free()).
 */
int store_audit_export(struct store *s, char **buf, size_t *len);

/* store_err: CAIRN_E_STORE with "what: SQLite's message". */
int store_err(struct store *s, const char *what);

/* store_now: the time the store records, seconds since the epoch.  Tests
 * may set CAIRN_TEST_NOW. */
long long store_now(void);

#endif /* CAIRN_STORE_H */
