/*
 * fuzz_share.c: libFuzzer target for custodian share files and Shamir's
 * secret sharing (lib/shamir.c).
 *
 * A share file is typed back from paper, or arrives on whatever medium a
 * custodian kept it on, so its parser gets hostile bytes:
 *
 *  - share_parse() on the input.  What it accepts must keep shamir.h's
 *    promises (1 <= index <= count <= 16, 2 <= threshold <= count, 1..64
 *    data bytes, names terminated within their fields), must format
 *    back with share_format() and parse again to the same share, field
 *    by field, and formatting that again must give the same text (the
 *    format has one spelling; only the input may differ, in the case of
 *    its data hex).
 *  - share_format() on a share made from the input (numbers from its
 *    first bytes, the key label and custodian name from the next two
 *    lines, whatever bytes they hold, then the data): what it accepts
 *    must parse back to the same share.  Parsing alone cannot get there,
 *    since a mutated file almost never keeps its SHA-256 checks; this is
 *    how odd but accepted names (UTF-8 of every length, inner spaces)
 *    are checked to survive the trip to paper and back.
 *  - For inputs of at least 2 bytes, the arithmetic: the first byte picks
 *    n (2..16) and m (2..n), the rest (at most 64 bytes) is the secret;
 *    it is split, and the first m shares, the last m and all n must each
 *    restore it.
 *
 * The seeds in tests/fuzz/corpus/share/ are written by the unit test:
 *	CAIRN_SHARE_WRITE_SEEDS=$srcdir/tests/fuzz/corpus/share \
 *	    tests/unit/test_shamir
 * good-* are formatted shares (every data length class, UTF-8 names,
 * upper-case hex), bad-* each carry one mistake a custodian could make.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "lib/error.h"
#include "lib/shamir.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A name field must be terminated within its array. */
static size_t
field_len(const char *f, size_t size)
{
	const char *nul = memchr(f, '\0', size);

	if (nul == NULL)
		abort();
	return (size_t)(nul - f);
}

static void
check_share(const struct share *s)
{
	size_t n;

	if (field_len(s->backup, sizeof(s->backup)) != 32 ||
	    field_len(s->key_sha256, sizeof(s->key_sha256)) != 95)
		abort();
	n = field_len(s->key, sizeof(s->key));
	if (n < 1 || n > SHAMIR_LABEL_MAX)
		abort();
	n = field_len(s->custodian, sizeof(s->custodian));
	if (n < 1 || n > SHAMIR_LABEL_MAX)
		abort();
	if (s->count < 2 || s->count > SHAMIR_MAX_SHARES ||
	    s->index < 1 || s->index > s->count ||
	    s->threshold < 2 || s->threshold > s->count)
		abort();
	if (s->len < 1 || s->len > SHAMIR_MAX_SECRET)
		abort();
}

static void
same_share(const struct share *a, const struct share *b)
{
	if (strcmp(a->backup, b->backup) != 0 ||
	    strcmp(a->key, b->key) != 0 ||
	    strcmp(a->key_sha256, b->key_sha256) != 0 ||
	    a->index != b->index || a->count != b->count ||
	    a->threshold != b->threshold ||
	    strcmp(a->custodian, b->custodian) != 0 ||
	    a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
		abort();
}

/* The share's text and the share parsed back from it must agree. */
static void
round_trip(const struct share *s)
{
	struct share again;
	char *text = NULL, *text2 = NULL;

	check_share(s);
	if (share_format(s, &text) != 0 ||
	    share_parse(text, strlen(text), "fuzz", &again) != 0)
		abort();
	same_share(s, &again);
	if (share_format(&again, &text2) != 0 || strcmp(text, text2) != 0)
		abort();
	cairn_free_secret(text, 0);
	cairn_free_secret(text2, 0);
}

static void
fuzz_parse(const uint8_t *data, size_t size)
{
	struct share s;
	char *buf;

	/* Exactly `size` bytes, no NUL after them: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return;
	if (size > 0)
		memcpy(buf, data, size);
	if (share_parse(buf, size, "fuzz", &s) != 0) {
		/* refused: the output is cleared, the message names a line */
		static const struct share zero;

		if (memcmp(&s, &zero, sizeof(s)) != 0 ||
		    strncmp(cairn_errmsg(CAIRN_E_INVAL), "fuzz line ", 10) != 0)
			abort();
		goto out;
	}
	round_trip(&s);
out:
	free(buf);
}

/* Up to the next "\n" (or the end) into a name field, at most
 * SHAMIR_LABEL_MAX + 1 bytes so that "too long" is tried too. */
static const uint8_t *
take_line(const uint8_t *p, const uint8_t *end, char *field, size_t size)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl != NULL ? nl : end) - p);

	memset(field, 0, size);
	memcpy(field, p, n < size - 1 ? n : size - 1);
	if (n >= size - 1)
		field[size - 1] = 'x';  /* unterminated: must be refused */
	return nl != NULL ? nl + 1 : end;
}

static void
fuzz_format(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end = data + size;
	struct share s;
	char *text = NULL;
	size_t n;

	if (size < 4)
		return;
	memset(&s, 0, sizeof(s));
	memcpy(s.backup, "5f2a9c0e7d3b41a68e0f1c2d3b4a5968", 33);
	memcpy(s.key_sha256, "C3:58:39:FA:46:4F:46:B4:1F:9F:BD:52:95:8A:EC:F8:"
	    "1A:40:02:56:D0:51:20:B0:18:B9:26:99:79:F8:C5:02", 96);
	s.index = data[0] % 20;
	s.count = data[1] % 20;
	s.threshold = data[2] % 20;
	s.len = data[3] % (SHAMIR_MAX_SECRET + 4);
	p = take_line(data + 4, end, s.key, sizeof(s.key));
	p = take_line(p, end, s.custodian, sizeof(s.custodian));
	n = (size_t)(end - p);
	memcpy(s.data, p, n < sizeof(s.data) ? n : sizeof(s.data));
	if (share_format(&s, &text) != 0) {
		if (text != NULL)
			abort();
		return;
	}
	cairn_free_secret(text, 0);
	round_trip(&s);
}

static void
restore(uint8_t *const *shares, unsigned first, unsigned k, size_t len,
    const uint8_t *secret)
{
	const uint8_t *p[SHAMIR_MAX_SHARES];
	uint8_t xs[SHAMIR_MAX_SHARES], out[SHAMIR_MAX_SECRET];
	unsigned j;

	for (j = 0; j < k; j++) {
		p[j] = shares[first + j];
		xs[j] = (uint8_t)(first + j + 1);
	}
	if (shamir_combine(p, xs, k, len, out) != 0 ||
	    memcmp(out, secret, len) != 0)
		abort();
}

static void
fuzz_split(const uint8_t *data, size_t size)
{
	uint8_t store[SHAMIR_MAX_SHARES][SHAMIR_MAX_SECRET];
	uint8_t *shares[SHAMIR_MAX_SHARES];
	unsigned m, n, i;
	size_t len;

	if (size < 2)
		return;
	n = 2 + data[0] % (SHAMIR_MAX_SHARES - 1);
	m = 2 + (data[0] >> 4) % (n - 1);
	len = size - 1 > SHAMIR_MAX_SECRET ? SHAMIR_MAX_SECRET : size - 1;
	for (i = 0; i < SHAMIR_MAX_SHARES; i++)
		shares[i] = store[i];
	if (shamir_split(data + 1, len, m, n, shares) != 0)
		abort();
	restore(shares, 0, m, len, data + 1);
	restore(shares, n - m, m, len, data + 1);
	restore(shares, 0, n, len, data + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_format(data, size);
	fuzz_split(data, size);
	ERR_clear_error();
	return 0;
}
