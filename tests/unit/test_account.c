/*
 * test_account.c: passwords (sub-ca/account.c) as the daemon checks them:
 * Argon2id, the memory of verified passwords, and the cap on Argon2id
 * checks running at once.
 *
 * The memory of verified passwords is what lets a REST client send HTTP
 * Basic with every request; it must never let a wrong password in, and
 * must forget at once a password that changed or an account disabled.
 * The cap keeps a crowd of wrong passwords from taking every core and
 * 64 MiB a thread.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/account.h"
#include "sub-ca/ca.h"

static char dir[PATH_MAX], path[PATH_MAX + 16];
static struct ca ca;
static struct actor local;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/cairn-account-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ca.db", dir);
	if (store_open(path, &ca.store) != 0)
		return -1;
	actor_local(&local);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	store_close(ca.store);
	actor_clear(&local);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
set_sql(const char *sql)
{
	assert_int_equal(store_begin(ca.store), 0);
	assert_int_equal(sqlite3_exec(store_db(ca.store), sql, NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_commit(ca.store), 0);
}

static void
test_remembered(void **state)
{
	double t0, slow, fast;
	int r;

	(void)state;
	assert_int_equal(account_add(&ca, "alice", NULL, "alice-password-1",
	    &local), 0);
	t0 = now();
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), 0);
	slow = now() - t0;
	t0 = now();
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), 0);
	fast = now() - t0;
	print_message("# first check %.1f ms, remembered %.3f ms\n",
	    slow * 1e3, fast * 1e3);
	/* Argon2id ran the first time only. */
	assert_true(fast * 10 < slow);
	/* A wrong password, or one differing in its last byte, or a longer
	 * one, is never taken for the remembered one. */
	r = account_password_check(&ca, "alice", "alice-password-2");
	assert_int_equal(r, CAIRN_E_AUTH);
	assert_string_equal(cairn_errmsg(r), "wrong account name or password");
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1x"), CAIRN_E_AUTH);
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-"), CAIRN_E_AUTH);
	/* Another account with the same password is its own check. */
	assert_int_equal(account_add(&ca, "bob", NULL, "alice-password-1",
	    &local), 0);
	assert_int_equal(account_password_check(&ca, "bob",
	    "alice-password-1"), 0);
	/* Disabled: refused at once, though remembered. */
	set_sql("UPDATE accounts SET disabled = 1 WHERE name = 'alice'");
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), CAIRN_E_AUTH);
	set_sql("UPDATE accounts SET disabled = 0 WHERE name = 'alice'");
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), 0);
	/* A changed password (another process wrote the new hash): the old
	 * one is refused at once, the new one works. */
	set_sql("UPDATE accounts SET pwhash = (SELECT pwhash FROM accounts "
	    "WHERE name = 'bob') WHERE name = 'alice'");
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), 0);
	assert_int_equal(account_add(&ca, "carol", NULL, "carol-password-1",
	    &local), 0);
	set_sql("UPDATE accounts SET pwhash = (SELECT pwhash FROM accounts "
	    "WHERE name = 'carol') WHERE name = 'alice'");
	assert_int_equal(account_password_check(&ca, "alice",
	    "alice-password-1"), CAIRN_E_AUTH);
	assert_int_equal(account_password_check(&ca, "alice",
	    "carol-password-1"), 0);
	/* An unknown account: the same answer. */
	r = account_password_check(&ca, "nobody", "alice-password-1");
	assert_int_equal(r, CAIRN_E_AUTH);
	assert_string_equal(cairn_errmsg(r), "wrong account name or password");
}

static void *
wrong(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)account_password_check(&ca, "bob",
	    "not-bobs-password");
}

static void
test_argon2_cap(void **state)
{
	pthread_t th[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, wrong, NULL), 0);
	for (i = 0; i < 8; i++) {
		void *rv;

		pthread_join(th[i], &rv);
		assert_int_equal((int)(intptr_t)rv, CAIRN_E_AUTH);
	}
	print_message("# at most %d Argon2id checks at once\n",
	    account_argon2_peak());
	assert_true(account_argon2_peak() >= 1);
	assert_true(account_argon2_peak() <= CAIRN_AUTH_ARGON2_MAX);
}

/* Online guessing: five wrong passwords from one address, then even the
 * right one is refused from there, unchecked, until the window ends; the
 * same account from elsewhere, and another account from there, work. */
static void
test_wrong_passwords_throttled(void **state)
{
	long long base = (long long)time(NULL);
	char t[32];
	double t0;
	int i, r;

	(void)state;
	assert_int_equal(account_add(&ca, "erin", NULL, "erin-password-12",
	    &local), 0);
	snprintf(t, sizeof(t), "%lld", base);
	setenv("CAIRN_TEST_NOW", t, 1);
	for (i = 0; i < CAIRN_AUTH_FAIL_MAX; i++) {
		r = account_password_check_from(&ca, "erin", "guess", "192.0.2.1");
		assert_int_equal(r, CAIRN_E_AUTH);
		assert_string_equal(cairn_errmsg(r),
		    "wrong account name or password");
	}
	t0 = now();
	r = account_password_check_from(&ca, "erin", "erin-password-12",
	    "192.0.2.1");
	assert_int_equal(r, CAIRN_E_AUTH);
	assert_string_equal(cairn_errmsg(r), "too many wrong passwords for "
	    "this account from this address: try again in 300 s");
	/* Refused without an Argon2id check. */
	assert_true(now() - t0 < 0.02);
	assert_int_equal(account_password_check_from(&ca, "erin",
	    "erin-password-12", "192.0.2.2"), 0);
	assert_int_equal(account_password_check_from(&ca, "bob",
	    "alice-password-1", "192.0.2.1"), 0);
	/* One second before the window ends: still refused; at its end:
	 * checked again, and the right password clears the count. */
	snprintf(t, sizeof(t), "%lld", base + CAIRN_AUTH_FAIL_WINDOW - 1);
	setenv("CAIRN_TEST_NOW", t, 1);
	assert_int_equal(account_password_check_from(&ca, "erin",
	    "erin-password-12", "192.0.2.1"), CAIRN_E_AUTH);
	snprintf(t, sizeof(t), "%lld", base + CAIRN_AUTH_FAIL_WINDOW);
	setenv("CAIRN_TEST_NOW", t, 1);
	assert_int_equal(account_password_check_from(&ca, "erin",
	    "erin-password-12", "192.0.2.1"), 0);
	for (i = 0; i < CAIRN_AUTH_FAIL_MAX - 1; i++)
		assert_int_equal(account_password_check_from(&ca, "erin",
		    "guess", "192.0.2.1"), CAIRN_E_AUTH);
	assert_int_equal(account_password_check_from(&ca, "erin",
	    "erin-password-12", "192.0.2.1"), 0);
	unsetenv("CAIRN_TEST_NOW");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remembered),
		cmocka_unit_test(test_argon2_cap),
		cmocka_unit_test(test_wrong_passwords_throttled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
