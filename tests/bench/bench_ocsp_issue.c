/*
 * bench_ocsp_issue.c: fill a subordinate CA with certificates for the
 * OCSP benchmark (tests/bench/ocsp), through the one issuance path.
 *
 * Every certificate is issued by issue_submit() (template policy, lint,
 * intent, HSM signature, record, audit), from `--threads` threads at
 * once, as REST clients would; every `--revoke-every`-th one is then
 * revoked by ca_revoke() (which issues a CRL each time).  The CSRs are
 * made here, one key per thread (the responder does not care whose key a
 * certificate holds).  Prints what it measured.
 *
 *   bench_ocsp_issue --data DIR --count 10000 --threads 4 --revoke-every 20
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "sub-ca/ca.h"

struct job {
	struct ca *ca;
	struct actor *me;
	long next, count;
	pthread_mutex_t mu;
	char (*serials)[33];
	int failed;
};

static X509_REQ *
make_csr(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_ASC, (const unsigned char *)"www.example.org", -1, -1, 0);
	san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    "DNS:www.example.org");
	sk_X509_EXTENSION_push(exts, san);
	X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_set_pubkey(req, k);
	if (X509_REQ_sign(req, k, EVP_sha256()) <= 0) {
		X509_REQ_free(req);
		req = NULL;
	}
	EVP_PKEY_free(k);
	return req;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct issue_req rq = { 0 };
	struct issue_result res;
	long i;

	rq.csr = make_csr();
	rq.template_name = "WebServer";
	rq.who = j->me;
	rq.via = "bench";
	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->count || j->failed)
			break;
		if (issue_submit(j->ca, &rq, &res) != 0 ||
		    res.status != ISSUE_ISSUED) {
			fprintf(stderr, "bench_ocsp_issue: %s\n",
			    cairn_errmsg(CAIRN_E_INTERNAL));
			j->failed = 1;
			issue_result_clear(&res);
			break;
		}
		memcpy(j->serials[i], res.serial, 33);
		issue_result_clear(&res);
	}
	X509_REQ_free(rq.csr);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "revoke-every", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	struct job j = { 0 };
	struct actor me;
	pthread_t th[64];
	const char *data = NULL;
	long every = 20, nrev = 0, i;
	int nthreads = 4, c, k, r;
	double t0, t1, t2;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'n': j.count = atol(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'r': every = atol(optarg); break;
		default: return 2;
		}
	}
	if (data == NULL || j.count < 1 || nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "usage: bench_ocsp_issue --data DIR --count N "
		    "[--threads T] [--revoke-every K]\n");
		return 2;
	}
	actor_local(&me);
	if ((r = ca_open(data, CA_KEY | CA_CERT | CA_TEMPLATES, &j.ca)) != 0) {
		fprintf(stderr, "bench_ocsp_issue: %s\n", cairn_errmsg(r));
		return 1;
	}
	j.me = &me;
	j.serials = calloc((size_t)j.count, sizeof(*j.serials));
	pthread_mutex_init(&j.mu, NULL);
	t0 = now_s();
	for (k = 0; k < nthreads; k++)
		pthread_create(&th[k], NULL, worker, &j);
	for (k = 0; k < nthreads; k++)
		pthread_join(th[k], NULL);
	t1 = now_s();
	if (j.failed) {
		ca_close(j.ca);
		return 1;
	}
	printf("issued %ld certificates through issue_submit in %.1f s "
	    "(%.0f/s, %d threads)\n", j.count, t1 - t0,
	    (double)j.count / (t1 - t0), nthreads);
	for (i = 0; every > 0 && i < j.count; i += every) {
		if ((r = ca_revoke(j.ca, j.serials[i], i % 3 == 0 ? 1 : 4,
		    &me)) != 0) {
			fprintf(stderr, "bench_ocsp_issue: revoking: %s\n",
			    cairn_errmsg(r));
			ca_close(j.ca);
			return 1;
		}
		nrev++;
	}
	t2 = now_s();
	printf("revoked %ld of them through ca_revoke in %.1f s\n", nrev,
	    t2 - t1);
	ca_close(j.ca);
	free(j.serials);
	actor_clear(&me);
	return 0;
}
