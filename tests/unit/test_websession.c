/*
 * test_websession.c: the web pages' sign-in sessions (sub-ca/websession.c).
 *
 * A session id is the key to an account for as long as it lives, so these
 * tests pin down its shape (256 random bits as 64 hex digits, a CSRF token
 * of its own), when it stops working (idle time, total lifetime, logout,
 * a clock thrown back), the limits (a full table refuses, one account's
 * oldest session makes room for its newest, never another account's), ids
 * that are not ids, and the constant-time token compare.  Time is passed
 * in, so expiry is tested to the second on both sides.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/websession.h"

#define T0 1700000000LL
#define IDLE 900
#define LIFE 28800

static struct websession_table *
table(size_t max, size_t per)
{
	struct websession_table *t;

	assert_int_equal(websession_table_new(max, per, IDLE, LIFE, &t), 0);
	return t;
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static void
test_create_lookup(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], id2[65], csrf2[65], acc[129], tok[65];

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	assert_true(is_hex64(id));
	assert_true(is_hex64(csrf));
	assert_string_not_equal(id, csrf);
	assert_int_equal(websession_create(t, "alice", T0, id2, csrf2), 0);
	assert_string_not_equal(id, id2);
	assert_string_not_equal(csrf, csrf2);
	assert_int_equal(websession_lookup(t, id, T0 + 1, acc, tok), 0);
	assert_string_equal(acc, "alice");
	assert_string_equal(tok, csrf);
	assert_int_equal(websession_lookup(t, id2, T0 + 1, acc, tok), 0);
	assert_string_equal(tok, csrf2);
	assert_int_equal(websession_count(t, T0 + 1), 2);
	websession_table_free(t);
}

static void
test_not_ids(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], acc[129], tok[65], other[66];

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	/* another random id, one digit changed, upper case, short, long */
	memset(other, 'a', 64);
	other[64] = '\0';
	assert_int_equal(websession_lookup(t, other, T0, acc, tok),
	    CAIRN_E_AUTH);
	assert_string_equal(acc, "");
	assert_string_equal(tok, "");
	memcpy(other, id, 65);
	other[10] = other[10] == '0' ? '1' : '0';
	assert_int_equal(websession_lookup(t, other, T0, acc, tok),
	    CAIRN_E_AUTH);
	memcpy(other, id, 65);
	other[0] = other[0] >= 'a' ? (char)(other[0] - 32) : 'A';
	assert_int_equal(websession_lookup(t, other, T0, acc, tok),
	    CAIRN_E_AUTH);
	memcpy(other, id, 65);
	other[63] = '\0';
	assert_int_equal(websession_lookup(t, other, T0, acc, tok),
	    CAIRN_E_AUTH);
	memcpy(other, id, 64);
	other[64] = '0';
	other[65] = '\0';
	assert_int_equal(websession_lookup(t, other, T0, acc, tok),
	    CAIRN_E_AUTH);
	assert_int_equal(websession_lookup(t, NULL, T0, acc, tok),
	    CAIRN_E_AUTH);
	assert_int_equal(websession_lookup(t, "", T0, acc, tok), CAIRN_E_AUTH);
	/* the real one still works, and the token is not an id */
	assert_int_equal(websession_lookup(t, csrf, T0, acc, tok),
	    CAIRN_E_AUTH);
	assert_int_equal(websession_lookup(t, id, T0, acc, tok), 0);
	websession_table_free(t);
}

static void
test_idle(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], acc[129], tok[65];

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	/* used just before the idle limit: it lives on from there */
	assert_int_equal(websession_lookup(t, id, T0 + IDLE - 1, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id, T0 + 2 * IDLE - 2, acc, tok),
	    0);
	/* idle for exactly IDLE seconds: over */
	assert_int_equal(websession_lookup(t, id, T0 + 3 * IDLE - 2, acc, tok),
	    CAIRN_E_AUTH);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_AUTH), "expired"));
	/* and gone: later calls do not find it at all */
	assert_int_equal(websession_count(t, T0 + 3 * IDLE), 0);
	assert_int_equal(websession_lookup(t, id, T0 + 2 * IDLE - 2, acc, tok),
	    CAIRN_E_AUTH);
	websession_table_free(t);
}

static void
test_lifetime(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], acc[129], tok[65];
	long long now;

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	/* busy all along, still ends at LIFE */
	for (now = T0 + 600; now < T0 + LIFE; now += 600)
		assert_int_equal(websession_lookup(t, id, now, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id, T0 + LIFE - 1, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id, T0 + LIFE, acc, tok),
	    CAIRN_E_AUTH);
	websession_table_free(t);
}

static void
test_clock_back(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], acc[129], tok[65];

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	/* a little skew is fine; a clock thrown far back ends it */
	assert_int_equal(websession_lookup(t, id, T0 - 300, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id, T0 - 301, acc, tok),
	    CAIRN_E_AUTH);
	websession_table_free(t);
}

static void
test_destroy(void **state)
{
	struct websession_table *t = table(16, 4);
	char id[65], csrf[65], id2[65], csrf2[65], acc[129], tok[65];

	(void)state;
	assert_int_equal(websession_create(t, "alice", T0, id, csrf), 0);
	assert_int_equal(websession_create(t, "alice", T0, id2, csrf2), 0);
	assert_int_equal(websession_destroy(t, id), 1);
	assert_int_equal(websession_destroy(t, id), 0);
	assert_int_equal(websession_destroy(t, "nonsense"), 0);
	assert_int_equal(websession_destroy(t, NULL), 0);
	assert_int_equal(websession_lookup(t, id, T0, acc, tok), CAIRN_E_AUTH);
	/* the other session of the same account lives on */
	assert_int_equal(websession_lookup(t, id2, T0, acc, tok), 0);
	websession_table_free(t);
}

static void
test_per_account(void **state)
{
	struct websession_table *t = table(16, 3);
	char id[4][65], csrf[65], bob[65], acc[129], tok[65];
	int i;

	(void)state;
	assert_int_equal(websession_create(t, "bob", T0, bob, csrf), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(websession_create(t, "alice", T0 + i, id[i],
		    csrf), 0);
	/* id[0] is alice's least recently used... unless used: use it */
	assert_int_equal(websession_lookup(t, id[0], T0 + 5, acc, tok), 0);
	assert_int_equal(websession_create(t, "alice", T0 + 6, id[3], csrf),
	    0);
	/* so id[1] made room, and nobody else's session did */
	assert_int_equal(websession_lookup(t, id[1], T0 + 7, acc, tok),
	    CAIRN_E_AUTH);
	assert_int_equal(websession_lookup(t, id[0], T0 + 7, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id[2], T0 + 7, acc, tok), 0);
	assert_int_equal(websession_lookup(t, id[3], T0 + 7, acc, tok), 0);
	assert_int_equal(websession_lookup(t, bob, T0 + 7, acc, tok), 0);
	assert_string_equal(acc, "bob");
	assert_int_equal(websession_count(t, T0 + 7), 4);
	websession_table_free(t);
}

static void
test_full(void **state)
{
	struct websession_table *t = table(4, 4);
	char id[65], csrf[65], name[16], acc[129], tok[65], first[65];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		assert_int_equal(websession_create(t, name, T0 + i, id, csrf),
		    0);
		if (i == 0)
			memcpy(first, id, sizeof(first));
	}
	/* a fifth account is refused, with the reason, and with empty
	 * outputs; nobody was pushed out */
	assert_int_equal(websession_create(t, "user4", T0 + 10, id, csrf),
	    CAIRN_E_TOO_LARGE);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_TOO_LARGE),
	    "too many people"));
	assert_string_equal(id, "");
	assert_string_equal(csrf, "");
	assert_int_equal(websession_lookup(t, first, T0 + 10, acc, tok), 0);
	/* once sessions expire, there is room again */
	assert_int_equal(websession_create(t, "user4", T0 + 10 + IDLE, id,
	    csrf), 0);
	assert_int_equal(websession_count(t, T0 + 10 + IDLE), 1);
	websession_table_free(t);
}

static void
test_args(void **state)
{
	struct websession_table *t = NULL;
	char id[65], csrf[65], name[WEBSESSION_ACCOUNT_MAX + 2];

	(void)state;
	assert_int_equal(websession_table_new(0, 1, 1, 1, &t), CAIRN_E_INVAL);
	assert_null(t);
	assert_int_equal(websession_table_new(1, 0, 1, 1, &t), CAIRN_E_INVAL);
	assert_int_equal(websession_table_new(1, 1, 0, 1, &t), CAIRN_E_INVAL);
	assert_int_equal(websession_table_new(1, 1, 1, -1, &t),
	    CAIRN_E_INVAL);
	t = table(4, 4);
	assert_int_equal(websession_create(t, "", T0, id, csrf),
	    CAIRN_E_INVAL);
	memset(name, 'n', sizeof(name));
	name[WEBSESSION_ACCOUNT_MAX] = '\0';
	assert_int_equal(websession_create(t, name, T0, id, csrf), 0);
	name[WEBSESSION_ACCOUNT_MAX] = 'n';
	name[WEBSESSION_ACCOUNT_MAX + 1] = '\0';
	assert_int_equal(websession_create(t, name, T0, id, csrf),
	    CAIRN_E_INVAL);
	websession_table_free(t);
	websession_table_free(NULL);
}

static void
test_token_eq(void **state)
{
	char a[65], b[65];

	(void)state;
	memset(a, 'a', 64);
	a[64] = '\0';
	memcpy(b, a, 65);
	assert_true(websession_token_eq(a, b));
	b[63] = 'b';
	assert_false(websession_token_eq(a, b));
	b[63] = 'a';
	b[0] = 'b';
	assert_false(websession_token_eq(a, b));
	b[0] = 'a';
	b[63] = '\0';
	assert_false(websession_token_eq(a, b));
	assert_false(websession_token_eq(b, b));  /* 63 long: never */
	assert_false(websession_token_eq(a, NULL));
	assert_false(websession_token_eq(NULL, NULL));
	assert_false(websession_token_eq("", ""));
}

/* Threads signing in, looking up and signing out at once. */
struct worker {
	struct websession_table *t;
	int n, ok;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char id[65], csrf[65], acc[129], tok[65], name[16];
	int i;

	snprintf(name, sizeof(name), "u%d", w->n);
	for (i = 0; i < 2000; i++) {
		if (websession_create(w->t, name, T0, id, csrf) != 0 ||
		    websession_lookup(w->t, id, T0, acc, tok) != 0 ||
		    strcmp(acc, name) != 0 || strcmp(tok, csrf) != 0 ||
		    websession_destroy(w->t, id) != 1)
			return NULL;
	}
	w->ok = 1;
	return NULL;
}

static void
test_threads(void **state)
{
	struct websession_table *t = table(64, 4);
	struct worker w[4];
	pthread_t th[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i].t = t;
		w[i].n = i;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	assert_int_equal(websession_count(t, T0), 0);
	websession_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_lookup),
		cmocka_unit_test(test_not_ids),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_per_account),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_token_eq),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
