/*
 * test_p11_faults.c: what pkcs11/ does when the HSM misbehaves.
 *
 * The module is tests/shim/p11shim.so, which forwards to SoftHSM2 and
 * fails chosen calls on command (and, for session errors, really closes
 * the session first).  The brief: a lost session or a removed device is
 * re-opened and the operation retried once; a second failure is reported
 * clearly; nothing hangs (libp11 0.4.12 waits forever when C_OpenSession
 * fails: the alarm below turns such a hang into a failed test).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "lib/error.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

static struct th_token tt;
static char shim_path[PATH_MAX];
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;
static struct cairn_p11_key *key;
static EVP_PKEY *pk;

static void (*shim_fail)(const char *, CK_RV, int);
static unsigned long (*shim_calls)(const char *);
static void (*shim_reset)(void);

static int
setup(void **state)
{
	const char *b = getenv("CAIRN_BUILDDIR");
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P256, "fault-key", 0 };
	void *dl;

	snprintf(shim_path, sizeof(shim_path), "%s/tests/shim/p11shim.so",
	    b != NULL ? b : ".");
	if (th_token_create(&tt, "faults") != 0)
		return -1;
	setenv("CAIRN_SHIM_MODULE", th_module(), 1);
	if (th_open(shim_path, "faults", &p11, &tok) != 0)
		return -1;
	/* Same path, same handle: reach the shim's control functions. */
	if ((dl = dlopen(shim_path, RTLD_NOW | RTLD_NOLOAD)) == NULL)
		return -1;
	*(void **)&shim_fail = dlsym(dl, "p11shim_fail");
	*(void **)&shim_calls = dlsym(dl, "p11shim_calls");
	*(void **)&shim_reset = dlsym(dl, "p11shim_reset");
	if (shim_fail == NULL || shim_calls == NULL || shim_reset == NULL)
		return -1;
	if (cairn_p11_key_generate(tok, &kg, &key) != 0 ||
	    (pk = cairn_p11_key_get1_pkey(key)) == NULL) {
		fprintf(stderr, "# %s\n", cairn_errmsg(-1));
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(pk);
	cairn_p11_key_free(key);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	return 0;
}

static int
before(void **state)
{
	shim_reset();
	alarm(60);  /* a hang is a failure, not a stuck test run */
	return 0;
}

static int
after(void **state)
{
	alarm(0);
	shim_reset();
	return 0;
}

/* Sign "msg" through OpenSSL; return 1 when it signed and verified. */
static int
sign_ok(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[128];
	size_t siglen = sizeof(sig);
	int ok;

	ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)"msg", 3) == 1 &&
	    th_verify(cairn_p11_key_get0_public(key), EVP_sha256(), 0,
		(const uint8_t *)"msg", 3, sig, siglen);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Sign a 32-byte digest with the token directly; return Cairn's code. */
static int
raw_sign(void)
{
	static const uint8_t digest[32] = { 1, 2, 3 };
	uint8_t sig[128];
	size_t siglen = sizeof(sig);

	return cairn_p11_key_sign(key, CKM_ECDSA, digest, sizeof(digest), sig,
	    &siglen);
}

static void
test_healthy(void **state)
{
	assert_true(sign_ok());
	assert_int_equal(shim_calls("C_Sign"), 1);
	assert_int_equal(shim_calls("C_Login"), 0);
}

/* The session dies under C_Sign once: re-open, log in again, retry. */
static void
test_session_invalid_once(void **state)
{
	unsigned long opens;

	assert_true(sign_ok()); /* a session in the pool */
	opens = shim_calls("C_OpenSession");
	shim_fail("C_Sign", CKR_SESSION_HANDLE_INVALID, 1);
	assert_true(sign_ok());
	assert_int_equal(shim_calls("C_Sign"), 3);
	assert_true(shim_calls("C_OpenSession") > opens);
	assert_int_equal(shim_calls("C_Login"), 1);
	/* And the next signature needs nothing special. */
	assert_true(sign_ok());
}

/* The device is removed for one call: re-found, re-opened, retried. */
static void
test_device_removed_once(void **state)
{
	shim_fail("C_SignInit", CKR_DEVICE_REMOVED, 1);
	assert_true(sign_ok());
	assert_int_equal(shim_calls("C_SignInit"), 2);
	assert_int_equal(shim_calls("C_Login"), 1);
}

/* Removed for good: the second failure is reported, clearly. */
static void
test_device_removed_twice(void **state)
{
	int r;

	shim_fail("C_SignInit", CKR_DEVICE_REMOVED, 2);
	r = raw_sign();
	assert_int_equal(r, CAIRN_E_P11_DEVICE);
	assert_non_null(strstr(cairn_errmsg(r), "CKR_DEVICE_REMOVED"));
	assert_non_null(strstr(cairn_errmsg(r), "second attempt"));
	assert_non_null(strstr(cairn_errmsg(r), "fault-key"));
	assert_int_equal(shim_calls("C_SignInit"), 2);
	/* Through OpenSSL the same failure surfaces in the error queue. */
	shim_fail("C_SignInit", CKR_DEVICE_REMOVED, 2);
	assert_false(sign_ok());
	r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing");
	assert_non_null(strstr(cairn_errmsg(r), "CKR_DEVICE_REMOVED"));
	/* The device is back: signing works again without any help. */
	assert_true(sign_ok());
}

/* C_OpenSession keeps failing (the case libp11 0.4.12 hangs on). */
static void
test_open_session_fails_no_hang(void **state)
{
	int r;

	/* Empty the pool first so a new session is needed. */
	shim_fail("C_Sign", CKR_SESSION_HANDLE_INVALID, 1);
	shim_fail("C_OpenSession", CKR_DEVICE_ERROR, 100);
	r = raw_sign();
	assert_int_equal(r, CAIRN_E_P11_DEVICE);
	assert_non_null(strstr(cairn_errmsg(r), "CKR_DEVICE_ERROR"));
	shim_fail("C_OpenSession", CKR_OK, 0);
	assert_true(sign_ok());
}

/* The key's handle went stale: the key is looked up again by CKA_ID. */
static void
test_key_handle_invalid_once(void **state)
{
	unsigned long finds;

	finds = shim_calls("C_FindObjectsInit");
	shim_fail("C_SignInit", CKR_KEY_HANDLE_INVALID, 1);
	assert_true(sign_ok());
	assert_true(shim_calls("C_FindObjectsInit") > finds);
}

/* After a re-open the login fails: reported, naming the cause. */
static void
test_relogin_fails(void **state)
{
	int r;

	shim_fail("C_SignInit", CKR_DEVICE_REMOVED, 1);
	shim_fail("C_Login", CKR_PIN_LOCKED, 1);
	r = raw_sign();
	assert_int_equal(r, CAIRN_E_P11_DEVICE);
	assert_non_null(strstr(cairn_errmsg(r), "CKR_PIN_LOCKED"));
	assert_non_null(strstr(cairn_errmsg(r), "CKR_DEVICE_REMOVED"));
	assert_true(sign_ok());
}

/* An error a re-open cannot cure is not retried. */
static void
test_other_errors_not_retried(void **state)
{
	int r;

	shim_fail("C_Sign", CKR_FUNCTION_FAILED, 1);
	r = raw_sign();
	assert_int_equal(r, CAIRN_E_P11);
	assert_non_null(strstr(cairn_errmsg(r), "CKR_FUNCTION_FAILED"));
	assert_int_equal(shim_calls("C_Sign"), 1);
	assert_int_equal(shim_calls("C_Login"), 0);
}

/* X509_sign across a session loss produces a valid certificate. */
static void
test_x509_sign_across_fault(void **state)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fault", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_set_pubkey(x, cairn_p11_key_get0_public(key));
	shim_fail("C_Sign", CKR_SESSION_CLOSED, 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	assert_int_equal(X509_verify(x, cairn_p11_key_get0_public(key)), 1);
	X509_NAME_free(n);
	X509_free(x);
}

/* A module that fails C_Initialize says so, with the module's path. */
static void
test_initialize_fails(void **state)
{
	struct cairn_p11 *m = NULL;
	int r;

	/* Our module is initialized already; a new load of the same module
	 * runs C_Initialize again, which we make fail. */
	shim_fail("C_Initialize", CKR_GENERAL_ERROR, 1);
	r = cairn_p11_load(shim_path, &m);
	assert_int_equal(r, CAIRN_E_P11_MODULE);
	assert_null(m);
	assert_non_null(strstr(cairn_errmsg(r), "C_Initialize"));
	assert_non_null(strstr(cairn_errmsg(r), "CKR_GENERAL_ERROR"));
	assert_non_null(strstr(cairn_errmsg(r), "p11shim.so"));
	/* The first handle still works. */
	assert_true(sign_ok());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy, before, after),
		cmocka_unit_test_setup_teardown(test_session_invalid_once,
		    before, after),
		cmocka_unit_test_setup_teardown(test_device_removed_once,
		    before, after),
		cmocka_unit_test_setup_teardown(test_device_removed_twice,
		    before, after),
		cmocka_unit_test_setup_teardown(test_open_session_fails_no_hang,
		    before, after),
		cmocka_unit_test_setup_teardown(test_key_handle_invalid_once,
		    before, after),
		cmocka_unit_test_setup_teardown(test_relogin_fails, before,
		    after),
		cmocka_unit_test_setup_teardown(test_other_errors_not_retried,
		    before, after),
		cmocka_unit_test_setup_teardown(test_x509_sign_across_fault,
		    before, after),
		cmocka_unit_test_setup_teardown(test_initialize_fails, before,
		    after),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
