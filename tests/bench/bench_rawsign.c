/*
 * bench_rawsign.c: the issuing CA's own key, signing as fast as it can:
 * the ceiling for tests/bench/issue.
 *
 * Opens the CA in --data DIR as the daemon does (ca_open with CA_KEY: the
 * token, the PIN file, the key by its URI) and has N threads sign SHA-256
 * digests with EVP_PKEY_sign on the token-backed key for --seconds,
 * exactly the operation that X509_sign asks of the token for each
 * certificate.  Prints one line: "rawsign THREADS SIGS_PER_SECOND".
 * The first signature is verified with the CA's public key before
 * anything is timed.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "lib/error.h"
#include "sub-ca/ca.h"

static struct ca *ca;
static atomic_int go, stop;
static atomic_long total;
static unsigned char digest[32];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sign_once(unsigned char *sig, size_t *siglen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ca->signer, NULL);
	int ok;

	ok = c != NULL && EVP_PKEY_sign_init(c) == 1 &&
	    (EVP_PKEY_get_base_id(ca->pub) != EVP_PKEY_RSA ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1) &&
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(c, sig, siglen, digest, sizeof(digest)) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

static void *
worker(void *arg)
{
	unsigned char sig[1024];
	size_t siglen;
	long n = 0;

	(void)arg;
	while (!atomic_load(&go))
		;
	while (!atomic_load(&stop)) {
		siglen = sizeof(sig);
		if (!sign_once(sig, &siglen)) {
			fprintf(stderr, "bench_rawsign: a signature failed\n");
			exit(1);
		}
		n++;
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[64];
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *vc;
	double secs, t0, t1;
	int i, n, r;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_rawsign DATA-DIR THREADS "
		    "SECONDS\n");
		return 2;
	}
	n = atoi(argv[2]);
	secs = atof(argv[3]);
	if (n < 1 || n > 64 || secs <= 0) {
		fprintf(stderr, "bench_rawsign: 1..64 threads, seconds > 0\n");
		return 2;
	}
	if ((r = ca_open(argv[1], CA_KEY, &ca)) != 0) {
		fprintf(stderr, "bench_rawsign: %s\n", cairn_errmsg(r));
		return 1;
	}
	memset(digest, 0x5a, sizeof(digest));
	vc = EVP_PKEY_CTX_new(ca->pub, NULL);
	if (!sign_once(sig, &siglen) || vc == NULL ||
	    EVP_PKEY_verify_init(vc) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(vc, EVP_sha256()) != 1 ||
	    EVP_PKEY_verify(vc, sig, siglen, digest, sizeof(digest)) != 1) {
		fprintf(stderr, "bench_rawsign: the token's signature does not "
		    "verify with the CA's public key\n");
		return 1;
	}
	EVP_PKEY_CTX_free(vc);
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	t0 = now();
	atomic_store(&go, 1);
	while ((t1 = now()) - t0 < secs) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t1 = now();
	printf("rawsign %d %.0f\n", n, (double)atomic_load(&total) /
	    (t1 - t0));
	ca_close(ca);
	return 0;
}
