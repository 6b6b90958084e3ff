/*
 * test_error.c: the error vocabulary (lib/error.c).
 *
 * Codes are negative and unique, every code has a name and a meaning, and
 * the per-thread detail behaves as the callers rely on: set, prefixed,
 * cleared, kept apart between threads, and fed from OpenSSL's queue.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evperr.h>

#include "lib/error.h"
#include "lib/limits.h"

static const int codes[] = {
#define CODE(name, value, text) value,
	CAIRN_ERRORS(CODE)
#undef CODE
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static void
test_codes_unique_and_named(void **state)
{
	size_t i, j;

	assert_int_equal(CAIRN_OK, 0);
	for (i = 0; i < NCODES; i++) {
		assert_true(codes[i] <= 0);
		assert_string_not_equal(cairn_strerror(codes[i]),
		    "unknown error");
		assert_non_null(strstr(cairn_errname(codes[i]), "CAIRN_"));
		for (j = i + 1; j < NCODES; j++)
			assert_int_not_equal(codes[i], codes[j]);
	}
	assert_string_equal(cairn_strerror(-9999), "unknown error");
	assert_string_equal(cairn_errname(CAIRN_E_P11_PIN_INCORRECT),
	    "CAIRN_E_P11_PIN_INCORRECT");
}

static void
test_detail(void **state)
{
	char big[CAIRN_ERRMSG_MAX * 2];

	cairn_error_clear();
	/* No detail: the fixed meaning. */
	assert_string_equal(cairn_errmsg(CAIRN_E_P11_KEY_NOT_FOUND),
	    "key not found");
	assert_int_equal(cairn_error(CAIRN_E_IO, "%s: %d", "file", 3),
	    CAIRN_E_IO);
	assert_string_equal(cairn_errmsg(CAIRN_E_IO), "file: 3");
	assert_int_equal(cairn_error_prefix(CAIRN_E_IO, "loading %s: ", "x"),
	    CAIRN_E_IO);
	assert_string_equal(cairn_errmsg(CAIRN_E_IO), "loading x: file: 3");
	cairn_error_clear();
	/* A prefix without detail prefixes the meaning. */
	cairn_error_prefix(CAIRN_E_NOMEM, "step: ");
	assert_string_equal(cairn_errmsg(CAIRN_E_NOMEM), "step: out of memory");
	/* Over-long detail is cut, not overflowed. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cairn_error(CAIRN_E_INVAL, "%s", big);
	assert_int_equal(strlen(cairn_errmsg(CAIRN_E_INVAL)),
	    CAIRN_ERRMSG_MAX - 1);
	cairn_error(CAIRN_E_INVAL, NULL);
	assert_string_equal(cairn_errmsg(CAIRN_E_INVAL), "invalid argument");
}

static void
test_crypto_drains_queue(void **state)
{
	ERR_raise_data(ERR_LIB_USER, 1, "token said no");
	ERR_raise(ERR_LIB_EVP, EVP_R_BAD_DECRYPT);
	cairn_error_crypto(CAIRN_E_CRYPTO, "signing");
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CRYPTO),
	    "signing: token said no"));
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_CRYPTO), "bad decrypt"));
	assert_int_equal(ERR_peek_error(), 0);
}

static void *
other_thread(void *arg)
{
	cairn_error(CAIRN_E_P11, "in the other thread");
	return NULL;
}

static void
test_detail_per_thread(void **state)
{
	pthread_t t;

	cairn_error(CAIRN_E_IO, "mine");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(cairn_errmsg(CAIRN_E_IO), "mine");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_unique_and_named),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_crypto_drains_queue),
		cmocka_unit_test(test_detail_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
