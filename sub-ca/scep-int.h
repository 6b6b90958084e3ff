/*
 * scep-int.h: what the SCEP front end (scep.c) and its RA and state
 * (scep_ra.c) share inside sub-ca/.  Not for other modules: they use
 * scep.h.
 */
#ifndef CAIRN_SCEP_INT_H
#define CAIRN_SCEP_INT_H

#include <pthread.h>

#include <openssl/provider.h>
#include <openssl/x509.h>

#include "pkcs11/p11.h"
#include "sub-ca/scep.h"

/* An RA certificate and its key in the CA's token. */
struct scep_ra {
	X509 *cert;
	struct cairn_p11_key *key;
	EVP_PKEY *pkey;           /* token-backed */
	char label[CAIRN_P11_OBJLABEL_MAX + 1];
	long long not_after;
};

struct scep {
	struct ca *ca;
	struct scep_config cfg;
	pthread_rwlock_t lock;    /* guards ra, n_ra */
	struct scep_ra *ra;       /* valid RA certificates, newest first */
	size_t n_ra;
	pthread_mutex_t renew_mu; /* one renewal at a time */
	long long last_tick;
	X509_STORE *trust;        /* root and this CA: renewals */
	STACK_OF(X509) *chain;    /* this CA: carried in every reply */
	OSSL_LIB_CTX *legacy;     /* default + legacy providers (des) */
	OSSL_PROVIDER *prov_default, *prov_legacy;
};

/* A snapshot of the RA set for one request (references held). */
struct ra_snap {
	struct scep_ra_key k[8];
	size_t n;
};

/* scep_snap_take / scep_snap_drop: the RA certificates and keys valid
 * now, newest first, with references held for one request. */
void scep_snap_take(struct scep *s, struct ra_snap *sn);
void scep_snap_drop(struct ra_snap *sn);

/* scep_rdb_release: close the calling thread's read connection (scep.c),
 * for scep_close() on the thread that opened SCEP. */
void scep_rdb_release(void);

#endif /* CAIRN_SCEP_INT_H */
