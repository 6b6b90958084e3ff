/*
 * websession.c: in-memory sign-in sessions (see websession.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/util.h"
#include "sub-ca/websession.h"

struct session {
	int used;
	uint8_t id_hash[32];        /* SHA-256 of the id's hex text */
	char account[WEBSESSION_ACCOUNT_MAX + 1];
	char csrf[WEBSESSION_TOKEN_LEN + 1];
	long long created, last;
};

struct websession_table {
	pthread_mutex_t mu;
	struct session *s;
	size_t max, per_account;
	long long idle, life;
};

int
websession_table_new(size_t max, size_t per_account, long long idle,
    long long life, struct websession_table **out)
{
	struct websession_table *t;

	*out = NULL;
	if (max == 0 || per_account == 0 || idle <= 0 || life <= 0)
		return cairn_error(CAIRN_E_INVAL, "session table: sizes and "
		    "times must be positive");
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->s = calloc(max, sizeof(*t->s))) == NULL) {
		free(t);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&t->mu, NULL);
	t->max = max;
	t->per_account = per_account;
	t->idle = idle;
	t->life = life;
	*out = t;
	return 0;
}

void
websession_table_free(struct websession_table *t)
{
	if (t == NULL)
		return;
	OPENSSL_cleanse(t->s, t->max * sizeof(*t->s));
	free(t->s);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static void
drop(struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static int
expired(const struct websession_table *t, const struct session *s,
    long long now)
{
	return now - s->last >= t->idle || now - s->created >= t->life ||
	    now < s->created - 300;  /* the clock went far back: distrust */
}

/* Drop expired sessions; the table's mutex is held. */
static void
sweep(struct websession_table *t, long long now)
{
	size_t i;

	for (i = 0; i < t->max; i++)
		if (t->s[i].used && expired(t, &t->s[i], now))
			drop(&t->s[i]);
}

static int
hex_id(const char *id)
{
	size_t i;

	for (i = 0; i < WEBSESSION_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[WEBSESSION_ID_LEN] == '\0';
}

static int
hash_id(const char *id, uint8_t md[32])
{
	return EVP_Digest(id, WEBSESSION_ID_LEN, md, NULL, EVP_sha256(),
	    NULL) == 1 ? 0 : -1;
}

static int
random_hex(char *out, size_t bytes)
{
	uint8_t b[32];

	if (bytes > sizeof(b) || RAND_bytes(b, (int)bytes) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "the CSPRNG failed");
	cairn_hex(out, b, bytes, 0);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

int
websession_create(struct websession_table *t, const char *account,
    long long now, char id[WEBSESSION_ID_LEN + 1],
    char csrf[WEBSESSION_TOKEN_LEN + 1])
{
	struct session *slot = NULL, *lru = NULL;
	size_t i, mine = 0, alen = strlen(account);
	uint8_t md[32];
	int r;

	id[0] = csrf[0] = '\0';
	if (alen == 0 || alen > WEBSESSION_ACCOUNT_MAX)
		return cairn_error(CAIRN_E_INVAL, "session: an account name of "
		    "%zu bytes", alen);
	if ((r = random_hex(id, WEBSESSION_ID_LEN / 2)) != 0 ||
	    (r = random_hex(csrf, WEBSESSION_TOKEN_LEN / 2)) != 0)
		return r;
	if (hash_id(id, md) != 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing a session "
		    "id");
	pthread_mutex_lock(&t->mu);
	sweep(t, now);
	for (i = 0; i < t->max; i++) {
		struct session *s = &t->s[i];

		if (!s->used) {
			if (slot == NULL)
				slot = s;
			continue;
		}
		if (strcmp(s->account, account) != 0)
			continue;
		mine++;
		if (lru == NULL || s->last < lru->last)
			lru = s;
	}
	if (mine >= t->per_account) {
		drop(lru);
		slot = lru;
	}
	if (slot == NULL) {
		pthread_mutex_unlock(&t->mu);
		OPENSSL_cleanse(id, WEBSESSION_ID_LEN);
		OPENSSL_cleanse(csrf, WEBSESSION_TOKEN_LEN);
		id[0] = csrf[0] = '\0';
		return cairn_error(CAIRN_E_TOO_LARGE, "too many people are "
		    "signed in (%zu sessions): try again in a few minutes, or "
		    "use a client certificate", t->max);
	}
	slot->used = 1;
	memcpy(slot->id_hash, md, sizeof(md));
	memcpy(slot->account, account, alen + 1);
	memcpy(slot->csrf, csrf, WEBSESSION_TOKEN_LEN + 1);
	slot->created = slot->last = now;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* The session with id hash `md`; the mutex is held.  Every slot is
 * compared, in constant time, whatever matched. */
static struct session *
find(struct websession_table *t, const uint8_t md[32])
{
	struct session *hit = NULL;
	size_t i;

	for (i = 0; i < t->max; i++)
		if (t->s[i].used && CRYPTO_memcmp(t->s[i].id_hash, md,
		    32) == 0)
			hit = &t->s[i];
	return hit;
}

int
websession_lookup(struct websession_table *t, const char *id, long long now,
    char account[WEBSESSION_ACCOUNT_MAX + 1],
    char csrf[WEBSESSION_TOKEN_LEN + 1])
{
	struct session *s;
	uint8_t md[32];

	account[0] = csrf[0] = '\0';
	if (id == NULL || strnlen(id, WEBSESSION_ID_LEN + 1) !=
	    WEBSESSION_ID_LEN || !hex_id(id) || hash_id(id, md) != 0)
		return cairn_error(CAIRN_E_AUTH, "not signed in");
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, md)) == NULL) {
		pthread_mutex_unlock(&t->mu);
		return cairn_error(CAIRN_E_AUTH, "not signed in (or the "
		    "session ended)");
	}
	if (expired(t, s, now)) {
		drop(s);
		pthread_mutex_unlock(&t->mu);
		return cairn_error(CAIRN_E_AUTH, "the session expired: sign "
		    "in again");
	}
	s->last = now > s->last ? now : s->last;
	memcpy(account, s->account, sizeof(s->account));
	memcpy(csrf, s->csrf, sizeof(s->csrf));
	pthread_mutex_unlock(&t->mu);
	return 0;
}

int
websession_destroy(struct websession_table *t, const char *id)
{
	struct session *s;
	uint8_t md[32];

	if (id == NULL || strnlen(id, WEBSESSION_ID_LEN + 1) !=
	    WEBSESSION_ID_LEN || !hex_id(id) || hash_id(id, md) != 0)
		return 0;
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, md)) != NULL)
		drop(s);
	pthread_mutex_unlock(&t->mu);
	return s != NULL;
}

size_t
websession_count(struct websession_table *t, long long now)
{
	size_t i, n = 0;

	pthread_mutex_lock(&t->mu);
	sweep(t, now);
	for (i = 0; i < t->max; i++)
		n += t->s[i].used != 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}

int
websession_token_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL ||
	    strnlen(a, WEBSESSION_TOKEN_LEN + 1) != WEBSESSION_TOKEN_LEN ||
	    strnlen(b, WEBSESSION_TOKEN_LEN + 1) != WEBSESSION_TOKEN_LEN)
		return 0;
	return CRYPTO_memcmp(a, b, WEBSESSION_TOKEN_LEN) == 0;
}
