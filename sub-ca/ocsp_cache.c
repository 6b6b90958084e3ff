/*
 * ocsp_cache.c: the in-memory table of pre-signed OCSP responses (see
 * ocsp.h), keyed by CertID: hash algorithm, issuer name and key hashes,
 * serial.  A chained hash table under a read-write lock: lookups (every
 * request) share the lock and copy the answer out; a writer holds it only
 * to link an entry or swap its bytes, having copied them before.
 *
 * The keys are not secret and an attacker chooses what is looked up, not
 * what is stored: the serials stored are this CA's, 127 random bits each,
 * so chains stay short whatever the requests.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/ocsp.h"

struct entry {
	struct entry *next;
	uint32_t hash;
	struct ocsp_certid id;
	uint8_t *der;
	size_t len;
	struct ocsp_resp_info info;
};

struct ocsp_cache {
	pthread_rwlock_t lock;
	struct entry **b;
	size_t nb;               /* a power of two */
	size_t n;
};

#define INITIAL_BUCKETS 1024

uint32_t
ocsp_certid_hash(const struct ocsp_certid *id)
{
	/* FNV-1a over the serial, the algorithm and the start of the key
	 * hash: the serial does nearly all the work. */
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ id->alg) * 16777619u;
	for (i = 0; i < id->serial_len; i++)
		h = (h ^ id->serial[i]) * 16777619u;
	for (i = 0; i < 8; i++)
		h = (h ^ id->key_hash[i]) * 16777619u;
	return h;
}

int
ocsp_certid_eq(const struct ocsp_certid *a, const struct ocsp_certid *b)
{
	size_t hl = ocsp_hash_len(a->alg);

	return a->alg == b->alg && a->serial_len == b->serial_len &&
	    memcmp(a->serial, b->serial, a->serial_len) == 0 &&
	    memcmp(a->key_hash, b->key_hash, hl) == 0 &&
	    memcmp(a->name_hash, b->name_hash, hl) == 0;
}

struct ocsp_cache *
ocsp_cache_new(void)
{
	struct ocsp_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->b = calloc(INITIAL_BUCKETS, sizeof(*c->b))) == NULL) {
		free(c);
		return NULL;
	}
	c->nb = INITIAL_BUCKETS;
	pthread_rwlock_init(&c->lock, NULL);
	return c;
}

void
ocsp_cache_free(struct ocsp_cache *c)
{
	struct entry *e, *next;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nb; i++)
		for (e = c->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e->der);
			free(e);
		}
	free(c->b);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static struct entry *
find(struct ocsp_cache *c, const struct ocsp_certid *id, uint32_t h)
{
	struct entry *e;

	for (e = c->b[h & (c->nb - 1)]; e != NULL; e = e->next)
		if (e->hash == h && ocsp_certid_eq(&e->id, id))
			return e;
	return NULL;
}

/* Double the buckets (write lock held); on failure keep the old ones. */
static void
grow(struct ocsp_cache *c)
{
	size_t nb = c->nb * 2, i;
	struct entry **b = calloc(nb, sizeof(*b)), *e, *next;

	if (b == NULL)
		return;
	for (i = 0; i < c->nb; i++)
		for (e = c->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(c->b);
	c->b = b;
	c->nb = nb;
}

int
ocsp_cache_put(struct ocsp_cache *c, const struct ocsp_certid *id,
    const uint8_t *der, size_t len, const struct ocsp_resp_info *info)
{
	uint32_t h = ocsp_certid_hash(id);
	struct entry *e, *fresh = NULL;
	uint8_t *copy, md[32], *old = NULL;
	struct ocsp_resp_info ni = *info;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	memcpy(copy, der, len);
	if (EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) != 1) {
		free(copy);
		return cairn_error(CAIRN_E_CRYPTO, "hashing a response");
	}
	ni.etag[0] = '"';
	cairn_hex(ni.etag + 1, md, 16, 0);
	ni.etag[33] = '"';
	ni.etag[34] = '\0';
	pthread_rwlock_wrlock(&c->lock);
	if ((e = find(c, id, h)) != NULL) {
		if (e->info.this_update > ni.this_update) {
			/* What is held is newer: keep it. */
			old = copy;
		} else {
			old = e->der;
			e->der = copy;
			e->len = len;
			e->info = ni;
		}
		pthread_rwlock_unlock(&c->lock);
		free(old);
		return 0;
	}
	if ((long long)c->n >= CAIRN_OCSP_CACHE_MAX) {
		pthread_rwlock_unlock(&c->lock);
		free(copy);
		return cairn_error(CAIRN_E_TOO_LARGE, "the OCSP table holds "
		    "%lld responses, its limit: serve this CA from several "
		    "responders", (long long)CAIRN_OCSP_CACHE_MAX);
	}
	pthread_rwlock_unlock(&c->lock);
	if ((fresh = calloc(1, sizeof(*fresh))) == NULL) {
		free(copy);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	fresh->hash = h;
	fresh->id = *id;
	fresh->der = copy;
	fresh->len = len;
	fresh->info = ni;
	pthread_rwlock_wrlock(&c->lock);
	if ((e = find(c, id, h)) != NULL) {
		/* Another writer linked it meanwhile: as above. */
		if (e->info.this_update <= ni.this_update) {
			old = e->der;
			e->der = copy;
			e->len = len;
			e->info = ni;
			fresh->der = old;
		}
		pthread_rwlock_unlock(&c->lock);
		free(fresh->der);
		free(fresh);
		return 0;
	}
	fresh->next = c->b[h & (c->nb - 1)];
	c->b[h & (c->nb - 1)] = fresh;
	if (++c->n > c->nb)
		grow(c);
	pthread_rwlock_unlock(&c->lock);
	return 0;
}

int
ocsp_cache_get(struct ocsp_cache *c, const struct ocsp_certid *id,
    uint8_t **der, size_t *len, struct ocsp_resp_info *info)
{
	uint32_t h = ocsp_certid_hash(id);
	struct entry *e;
	int r = 0;

	*der = NULL;
	*len = 0;
	pthread_rwlock_rdlock(&c->lock);
	if ((e = find(c, id, h)) != NULL) {
		if ((*der = malloc(e->len)) == NULL) {
			r = -1;
		} else {
			memcpy(*der, e->der, e->len);
			*len = e->len;
			*info = e->info;
			r = 1;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return r;
}

size_t
ocsp_cache_count(struct ocsp_cache *c)
{
	size_t n;

	pthread_rwlock_rdlock(&c->lock);
	n = c->n;
	pthread_rwlock_unlock(&c->lock);
	return n;
}
