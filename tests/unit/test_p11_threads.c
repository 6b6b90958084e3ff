/*
 * test_p11_threads.c: many threads signing with one token key at once.
 *
 * The daemon signs from its worker pool, so pkcs11/ lends each thread a
 * session of its own.  8 threads sign 1,000 times each with one P-256 key
 * and every signature is verified by OpenSSL alone; RSA-3072 and P-384
 * run fewer rounds (RSA is ~40x slower in SoftHSM2) on the same pool at
 * the same time, so different keys share the sessions.  The pool is also
 * squeezed to 2 sessions for 8 threads, so that threads must wait for a
 * session and get one back.
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

#include <openssl/rand.h>

#include "lib/error.h"
#include "pkcs11/p11-int.h"
#include "tests/unit/harness.h"

#define THREADS 8

static struct th_token tt;
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;

struct job {
	struct cairn_p11_key *key;
	EVP_PKEY *pk;
	const EVP_MD *md;
	int rounds;
	int signed_ok, verified_ok;
	char err[256];
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t msg[48], sig[1024];
	size_t siglen;
	int i;

	for (i = 0; i < j->rounds; i++) {
		siglen = sizeof(sig);
		if (RAND_bytes(msg, sizeof(msg)) != 1 ||
		    EVP_DigestSignInit(ctx, NULL, j->md, NULL, j->pk) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1) {
			snprintf(j->err, sizeof(j->err), "sign %d: %s", i,
			    cairn_errmsg(CAIRN_E_P11));
			break;
		}
		j->signed_ok++;
		if (th_verify(cairn_p11_key_get0_public(j->key), j->md, 0, msg,
		    sizeof(msg), sig, siglen))
			j->verified_ok++;
	}
	EVP_MD_CTX_free(ctx);
	return NULL;
}

static int
setup(void **state)
{
	if (th_token_create(&tt, "threads") != 0)
		return -1;
	return th_open(th_module(), "threads", &p11, &tok);
}

static int
teardown(void **state)
{
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	return 0;
}

static struct cairn_p11_key *
gen(enum cairn_key_type t, const char *label)
{
	struct cairn_p11_keygen kg = { t, label, 0 };
	struct cairn_p11_key *k = NULL;

	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	return k;
}

static void
run_jobs(struct job *jobs, int n)
{
	pthread_t th[THREADS * 2];
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]),
		    0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < n; i++) {
		if (jobs[i].err[0] != '\0')
			fail_msg("thread %d: %s", i, jobs[i].err);
		assert_int_equal(jobs[i].signed_ok, jobs[i].rounds);
		assert_int_equal(jobs[i].verified_ok, jobs[i].rounds);
	}
}

static void
test_8_threads_1000_signatures_each(void **state)
{
	struct cairn_p11_key *k = gen(CAIRN_KEY_EC_P256, "p256");
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	struct job jobs[THREADS];
	int i;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < THREADS; i++) {
		jobs[i].key = k;
		jobs[i].pk = pk;
		jobs[i].md = EVP_sha256();
		jobs[i].rounds = 1000;
	}
	run_jobs(jobs, THREADS);
	/* Sessions were reused, not opened per signature. */
	assert_true(tok->nopen <= THREADS);
	EVP_PKEY_free(pk);
	cairn_p11_key_free(k);
}

static void
test_mixed_keys_share_the_pool(void **state)
{
	struct cairn_p11_key *ks[3] = { gen(CAIRN_KEY_EC_P384, "p384"),
		gen(CAIRN_KEY_RSA_3072, "rsa3072"), gen(CAIRN_KEY_EC_P256, "p256b") };
	const int rounds[3] = { 200, 25, 200 };
	const EVP_MD *mds[3] = { EVP_sha384(), EVP_sha256(), EVP_sha256() };
	EVP_PKEY *pks[3];
	struct job jobs[THREADS];
	int i;

	for (i = 0; i < 3; i++)
		assert_non_null(pks[i] = cairn_p11_key_get1_pkey(ks[i]));
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < THREADS; i++) {
		jobs[i].key = ks[i % 3];
		jobs[i].pk = pks[i % 3];
		jobs[i].md = mds[i % 3];
		jobs[i].rounds = rounds[i % 3];
	}
	run_jobs(jobs, THREADS);
	for (i = 0; i < 3; i++) {
		EVP_PKEY_free(pks[i]);
		cairn_p11_key_free(ks[i]);
	}
}

static void
test_small_pool_waits(void **state)
{
	struct cairn_p11_key *k = gen(CAIRN_KEY_EC_P256, "p256c");
	EVP_PKEY *pk = cairn_p11_key_get1_pkey(k);
	struct job jobs[THREADS];
	size_t saved;
	int i;

	/* As if the token allowed 2 sessions: 8 threads must take turns. */
	pthread_mutex_lock(&tok->mu);
	saved = tok->max_sessions;
	tok->max_sessions = 2;
	pthread_mutex_unlock(&tok->mu);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < THREADS; i++) {
		jobs[i].key = k;
		jobs[i].pk = pk;
		jobs[i].md = EVP_sha256();
		jobs[i].rounds = 200;
	}
	run_jobs(jobs, THREADS);
	pthread_mutex_lock(&tok->mu);
	assert_true(tok->nopen <= 2);
	tok->max_sessions = saved;
	pthread_mutex_unlock(&tok->mu);
	EVP_PKEY_free(pk);
	cairn_p11_key_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First, while the pool is still empty. */
		cmocka_unit_test(test_small_pool_waits),
		cmocka_unit_test(test_8_threads_1000_signatures_each),
		cmocka_unit_test(test_mixed_keys_share_the_pool),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
