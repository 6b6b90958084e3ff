/*
 * test_shamir.c: Shamir's secret sharing and custodian share files
 * (lib/shamir.c).
 *
 * The arithmetic is checked against known answers computed once by a
 * short, independent Python implementation (log/antilog tables on the
 * generator 3, not shift-and-add) from polynomials with fixed
 * coefficients, and against FIPS 197's own products, all through
 * shamir_combine() on hand-made shares, so that the header exposes
 * nothing for the test.  Then every (m, n) up to 16 round-trips for
 * several secret lengths, fewer than m shares give something else, and
 * every bad parameter is refused with its message.
 *
 * Share files: two texts written by the same Python script are what
 * share_format() must produce byte for byte (they have the shape of the
 * example in shamir.h); random shares format and parse back; and every
 * way a custodian's file can be wrong (a mistyped digit, a swapped,
 * missing, extra or blank line, Windows line ends, trailing spaces, a
 * changed field, numbers out of range or with leading zeros, a cut file,
 * bytes after the end) is refused with the exact line, while upper-case
 * hex in data lines and checks is accepted (shamir.c explains why).
 *
 * The test also makes the seed corpus of tests/fuzz/fuzz_share.c:
 *	CAIRN_SHARE_WRITE_SEEDS=$srcdir/tests/fuzz/corpus/share \
 *	    tests/unit/test_shamir
 * writes it there (good-* parse, bad-* do not), and every run checks
 * that the committed seeds still mean what their names say.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/shamir.h"
#include "lib/util.h"

#define NAME "t.share"

/* ---- helpers -------------------------------------------------------- */

/* A reproducible generator for choices (subsets, fields), so that a
 * failure can be replayed; secrets come from RAND_bytes. */
static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
prng(void)
{
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static unsigned
prng_below(unsigned n)
{
	return prng() % n;
}

static void
random_bytes(uint8_t *p, size_t n)
{
	assert_int_equal(RAND_bytes(p, (int)n), 1);
}

static void
expect(int r, int code, const char *text)
{
	if (r != code)
		fail_msg("want %s, have %s: %s", cairn_errname(code),
		    cairn_errname(r), cairn_errmsg(r));
	if (strstr(cairn_errmsg(r), text) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cairn_errmsg(r), text);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Hex into `n` bytes, for the known answers. */
static void
unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	assert_int_equal(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Combine the shares at the given x (each share is `len` bytes of
 * data[x - 1]) and compare with `want`. */
static void
combine_expect(uint8_t data[][SHAMIR_MAX_SECRET], const uint8_t *xs,
    unsigned k, size_t len, const uint8_t *want)
{
	const uint8_t *p[SHAMIR_MAX_SHARES];
	uint8_t out[SHAMIR_MAX_SECRET];
	unsigned j;

	for (j = 0; j < k; j++)
		p[j] = data[xs[j] - 1];
	assert_int_equal(shamir_combine(p, xs, k, len, out), 0);
	assert_memory_equal(out, want, len);
}

/* ---- known answers -------------------------------------------------- */

/*
 * Made once by this independent Python (GF(2^8) by log/antilog tables
 * on the generator 3, reduction 0x11b; not shift-and-add) and pasted:
 *
 *	exp, log, x = [0] * 510, [0] * 256, 1
 *	for i in range(255):
 *	    exp[i] = exp[i + 255] = x; log[x] = i
 *	    x ^= (x << 1) ^ (0x11b if x & 0x80 else 0)
 *	mul = lambda a, b: a and b and exp[log[a] + log[b]]
 *	def ev(coefs, x):       # coefs[0] is the secret byte
 *	    y, p = 0, 1
 *	    for c in coefs:
 *	        y, p = y ^ mul(c, p), mul(p, x)
 *	    return y
 *	share = lambda polys, x: bytes(ev(c, x) for c in zip(*polys)).hex()
 *
 *  lin: f(x) = s + a1 x, 32 bytes, shares at x = 1..5:
 *	share([s, a1], x)
 *  cub: f(x) = s + c1 x + c2 x^2 + c3 x^3, 16 bytes, x = 1..7.
 *  hi: f(x) = 0x42 + 0x99 x + 0x01 x^2, x = 17, 200, 255.
 * The FIPS 197 products are found with div(x2, x1 ^ x2) == 0x83 (0x13).
 */
static const char lin_secret[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/* a1 = c0ffee00deadbeef0123456789abcdeffedcba987654321000112233445566ff */
static const char *const lin_shares[5] = {
	"c0feec03daa8b8e8092a4f6c85a6c3e0eecda88b6241240718083828584878e0",
	"9be4c503a34461c20a4f80c505408fcaf7b27d38f8bd7237183b5e7d94b7d2fa",
	"5b1b2b037de9df2d0b6cc5a28ceb4225096ec7a08ee94027182a7c4ed0e2b405",
	"2dd097035187c8960c85058c1e97179ec54ccc45d75ede57185d92d717529dce",
	"ed2f79038f2a76790da640eb973cda713b9076dda10aec47184cb0e45307fb31",
};
/* "Cairn root key!!"; c1 = 0123456789abcdef0011223344556677,
 * c2 = fedcba98765432100f1e2d3c4b5a6978,
 * c3 = 8899aabbccddeeff0102040810204080 */
static const char cub_secret[] = "436169726e20726f6f74206b65792121";
static const char *const cub_shares[7] = {
	"34073c365d02636f61792b6c7a566eae",
	"b8de1a459e940a535b3ef0bd5abb6458",
	"d2c39eb6334e4967533fe38a2554b0fa",
	"45d510b9966af55adf4b557cde39c36a",
	"7cb29562cc6e13e2c56e0edb9aa0fb0b",
	"569fb141fa5f2bdddb614531cca13260",
	"7283e52d3ea39f51c74806a6e8f8912c",
};

static void
test_fips197_products(void **state)
{
	/*
	 * Two shares (x1, y1) and (x2, 0) combine to y1 * x2 / (x1 ^ x2).
	 * With x1 = 1 and x2 = 126 that factor is {83}, with x2 = 171 it is
	 * {13}: FIPS 197 section 4.2 gives {57} * {83} = {c1} and
	 * {57} * {13} = {fe}.
	 */
	static const uint8_t y1[1] = { 0x57 }, y2[1] = { 0x00 };
	const uint8_t *p[2] = { y1, y2 };
	uint8_t xs[2] = { 1, 126 }, out[1];

	assert_int_equal(shamir_combine(p, xs, 2, 1, out), 0);
	assert_int_equal(out[0], 0xc1);
	xs[1] = 171;
	assert_int_equal(shamir_combine(p, xs, 2, 1, out), 0);
	assert_int_equal(out[0], 0xfe);
}

static void
test_known_answers(void **state)
{
	uint8_t data[7][SHAMIR_MAX_SECRET], want[32], xs[7], out[1];
	const uint8_t *p[3];
	unsigned a, b, c, d, k;
	static const uint8_t hi17[1] = { 0x92 }, hi200[1] = { 0x6e },
	    hi255[1] = { 0x1b };

	/* Degree 1: every pair, and more points than needed. */
	unhex(lin_secret, want, 32);
	for (a = 0; a < 5; a++)
		unhex(lin_shares[a], data[a], 32);
	for (a = 1; a <= 5; a++)
		for (b = 1; b <= 5; b++) {
			if (a == b)
				continue;
			xs[0] = (uint8_t)a;
			xs[1] = (uint8_t)b;
			combine_expect(data, xs, 2, 32, want);
		}
	for (k = 3; k <= 5; k++) {
		for (a = 0; a < k; a++)
			xs[a] = (uint8_t)(k - a);
		combine_expect(data, xs, k, 32, want);
	}

	/* Degree 3: every set of four of the seven; three are not enough. */
	unhex(cub_secret, want, 16);
	for (a = 0; a < 7; a++)
		unhex(cub_shares[a], data[a], 16);
	for (a = 1; a <= 7; a++)
		for (b = a + 1; b <= 7; b++)
			for (c = b + 1; c <= 7; c++) {
				uint8_t o3[16];
				const uint8_t *q[3] = { data[a - 1],
				    data[b - 1], data[c - 1] };

				xs[0] = (uint8_t)a;
				xs[1] = (uint8_t)b;
				xs[2] = (uint8_t)c;
				assert_int_equal(shamir_combine(q, xs, 3, 16,
				    o3), 0);
				assert_memory_not_equal(o3, want, 16);
				for (d = c + 1; d <= 7; d++) {
					xs[3] = (uint8_t)d;
					combine_expect(data, xs, 4, 16, want);
				}
			}

	/* x far from 1..16: shamir_combine takes any distinct 1..255. */
	p[0] = hi255;
	p[1] = hi17;
	p[2] = hi200;
	xs[0] = 255;
	xs[1] = 17;
	xs[2] = 200;
	assert_int_equal(shamir_combine(p, xs, 3, 1, out), 0);
	assert_int_equal(out[0], 0x42);

	/* One share alone is a polynomial of degree 0: itself. */
	xs[0] = 9;
	assert_int_equal(shamir_combine(p, xs, 1, 1, out), 0);
	assert_int_equal(out[0], 0x1b);
}

/* ---- split and combine ---------------------------------------------- */

/* Combine the shares whose indexes (0-based) are in `idx` and compare. */
static void
combine_subset(uint8_t *const *shares, const unsigned *idx, unsigned k,
    size_t len, const uint8_t *secret)
{
	const uint8_t *p[SHAMIR_MAX_SHARES];
	uint8_t xs[SHAMIR_MAX_SHARES], out[SHAMIR_MAX_SECRET];
	unsigned j;

	for (j = 0; j < k; j++) {
		p[j] = shares[idx[j]];
		xs[j] = (uint8_t)(idx[j] + 1);
	}
	assert_int_equal(shamir_combine(p, xs, k, len, out), 0);
	if (memcmp(out, secret, len) != 0)
		fail_msg("%u shares of a %zu-byte secret did not restore it",
		    k, len);
}

/* A random k-subset of 0..n-1 in random order. */
static void
random_subset(unsigned n, unsigned k, unsigned *idx)
{
	unsigned perm[SHAMIR_MAX_SHARES], i, j, t;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = prng_below(i + 1);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	memcpy(idx, perm, k * sizeof(idx[0]));
}

static void
test_round_trips(void **state)
{
	static const size_t lens[] = { 1, 16, 32, 64 };
	uint8_t store[SHAMIR_MAX_SHARES][SHAMIR_MAX_SECRET];
	uint8_t *shares[SHAMIR_MAX_SHARES];
	uint8_t secret[SHAMIR_MAX_SECRET];
	unsigned m, n, t, mask, k, i, idx[SHAMIR_MAX_SHARES];
	unsigned long combos = 0;
	size_t li;

	for (i = 0; i < SHAMIR_MAX_SHARES; i++)
		shares[i] = store[i];
	for (m = 2; m <= SHAMIR_MAX_SHARES; m++)
		for (n = m; n <= SHAMIR_MAX_SHARES; n++)
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]);
			    li++) {
				random_bytes(secret, lens[li]);
				assert_int_equal(shamir_split(secret, lens[li],
				    m, n, shares), 0);
				/* m random shares, in random order */
				for (t = 0; t < 8; t++) {
					random_subset(n, m, idx);
					combine_subset(shares, idx, m,
					    lens[li], secret);
					combos++;
				}
				/* all n, and the first and last m */
				for (i = 0; i < n; i++)
					idx[i] = i;
				combine_subset(shares, idx, n, lens[li],
				    secret);
				combine_subset(shares, idx, m, lens[li],
				    secret);
				combine_subset(shares, idx + n - m, m,
				    lens[li], secret);
				combos += 3;
				if (n > 6)
					continue;
				/* small n: every subset of at least m */
				for (mask = 1; mask < 1u << n; mask++) {
					for (k = 0, i = 0; i < n; i++)
						if (mask & 1u << i)
							idx[k++] = i;
					if (k < m)
						continue;
					combine_subset(shares, idx, k,
					    lens[li], secret);
					combos++;
				}
			}
	print_message("# %lu combinations restored their secret\n", combos);
}

static void
test_below_threshold(void **state)
{
	uint8_t store[SHAMIR_MAX_SHARES][SHAMIR_MAX_SECRET];
	uint8_t *shares[SHAMIR_MAX_SHARES];
	const uint8_t *p[SHAMIR_MAX_SHARES];
	uint8_t secret[32], out[32], xs[SHAMIR_MAX_SHARES];
	unsigned m, n, t, j, i, idx[SHAMIR_MAX_SHARES];

	for (i = 0; i < SHAMIR_MAX_SHARES; i++)
		shares[i] = store[i];
	for (t = 0; t < 2000; t++) {
		n = 2 + prng_below(SHAMIR_MAX_SHARES - 1);
		m = 2 + prng_below(n - 1);
		random_bytes(secret, sizeof(secret));
		assert_int_equal(shamir_split(secret, sizeof(secret), m, n,
		    shares), 0);
		random_subset(n, m - 1, idx);
		for (j = 0; j < m - 1; j++) {
			p[j] = shares[idx[j]];
			xs[j] = (uint8_t)(idx[j] + 1);
		}
		assert_int_equal(shamir_combine(p, xs, m - 1, sizeof(secret),
		    out), 0);
		/* Equal with probability 2^-256. */
		assert_memory_not_equal(out, secret, sizeof(secret));
		/* No share is the secret either. */
		for (j = 0; j < n; j++)
			assert_memory_not_equal(shares[j], secret,
			    sizeof(secret));
	}
}

/*
 * A share alone is uniform whatever the secret: with the secret fixed at
 * zero, the bytes of share 1 of 2 (s + a1, a1 random) must look uniform.
 * Chi-square with 255 degrees of freedom; 400 is exceeded by chance with
 * probability about 1e-8, while a biased coefficient would blow it.
 */
static void
test_share_uniform(void **state)
{
	uint8_t store[2][SHAMIR_MAX_SECRET], secret[SHAMIR_MAX_SECRET];
	uint8_t *shares[2] = { store[0], store[1] };
	unsigned long hist[256] = { 0 }, total = 0;
	double chi = 0, e;
	unsigned t, b;

	memset(secret, 0, sizeof(secret));
	for (t = 0; t < 2000; t++) {
		assert_int_equal(shamir_split(secret, sizeof(secret), 2, 2,
		    shares), 0);
		for (b = 0; b < SHAMIR_MAX_SECRET; b++)
			hist[store[0][b]]++;
		total += SHAMIR_MAX_SECRET;
	}
	e = (double)total / 256;
	for (b = 0; b < 256; b++)
		chi += (hist[b] - e) * (hist[b] - e) / e;
	print_message("# chi-square of share bytes: %.1f (255 df)\n", chi);
	assert_true(chi < 400);
}

static void
test_split_invalid(void **state)
{
	uint8_t store[SHAMIR_MAX_SHARES + 1][SHAMIR_MAX_SECRET + 1];
	uint8_t *shares[SHAMIR_MAX_SHARES + 1];
	uint8_t secret[SHAMIR_MAX_SECRET + 1];
	unsigned i;

	for (i = 0; i <= SHAMIR_MAX_SHARES; i++)
		shares[i] = store[i];
	memset(secret, 0x5a, sizeof(secret));

#define SPLIT_FAILS(len, m, n, text) do {                                    \
	memset(store, 0xaa, sizeof(store));                                  \
	expect(shamir_split(secret, (len), (m), (n), shares),                \
	    CAIRN_E_INVAL, (text));                                          \
} while (0)
	SPLIT_FAILS(32, 0, 3, "at least 2 shares");
	SPLIT_FAILS(32, 1, 3, "any 1 restore: at least 2 shares");
	/* outputs are cleared even when refused */
	for (i = 0; i < 3; i++)
		assert_true(all_zero(store[i], 32));
	SPLIT_FAILS(32, 4, 3, "the threshold cannot exceed the count");
	SPLIT_FAILS(32, 2, 17, "17 shares: at most 16");
	SPLIT_FAILS(32, 17, 17, "at most 16");
	SPLIT_FAILS(0, 2, 3, "a secret of 0 bytes: want 1..64");
	SPLIT_FAILS(65, 2, 3, "a secret of 65 bytes: want 1..64");
	expect(shamir_split(NULL, 32, 2, 3, shares), CAIRN_E_INVAL,
	    "no secret");
	expect(shamir_split(secret, 32, 2, 3, NULL), CAIRN_E_INVAL,
	    "no share buffers");
	shares[2] = NULL;
	expect(shamir_split(secret, 32, 2, 3, shares), CAIRN_E_INVAL,
	    "no buffer for share 3");
	shares[2] = store[2];
#undef SPLIT_FAILS

	/* The limits themselves work: 16 of 16, 1 and 64 bytes. */
	assert_int_equal(shamir_split(secret, 64, 16, 16, shares), 0);
	assert_int_equal(shamir_split(secret, 1, 2, 2, shares), 0);
	/* The 17th buffer is never touched. */
	memset(store[16], 0xaa, sizeof(store[16]));
	assert_int_equal(shamir_split(secret, 64, 2, 16, shares), 0);
	for (i = 0; i < sizeof(store[16]); i++)
		assert_int_equal(store[16][i], 0xaa);
	assert_int_equal(store[15][64], 0xaa);
}

static void
test_combine_invalid(void **state)
{
	uint8_t a[SHAMIR_MAX_SECRET + 1], b[SHAMIR_MAX_SECRET + 1];
	uint8_t out[SHAMIR_MAX_SECRET + 1], xs[3] = { 1, 2, 3 };
	const uint8_t *p[3] = { a, b, a };

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));

#define COMBINE_FAILS(k, len, text) do {                                     \
	memset(out, 0xaa, sizeof(out));                                      \
	expect(shamir_combine(p, xs, (k), (len), out), CAIRN_E_INVAL,        \
	    (text));                                                         \
} while (0)
	COMBINE_FAILS(0, 32, "no shares");
	assert_true(all_zero(out, 32));
	COMBINE_FAILS(2, 0, "shares of 0 bytes");
	COMBINE_FAILS(2, 65, "shares of 65 bytes");
	xs[1] = 1;
	COMBINE_FAILS(2, 32, "shares 1 and 2 are both share 1");
	assert_true(all_zero(out, 32));
	xs[1] = 2;
	xs[2] = 2;
	COMBINE_FAILS(3, 32, "shares 2 and 3 are both share 2");
	xs[2] = 0;
	COMBINE_FAILS(3, 32, "share 3 has x = 0");
	xs[2] = 3;
	expect(shamir_combine(NULL, xs, 2, 32, out), CAIRN_E_INVAL,
	    "no shares");
	expect(shamir_combine(p, NULL, 2, 32, out), CAIRN_E_INVAL,
	    "no shares");
	expect(shamir_combine(p, xs, 2, 32, NULL), CAIRN_E_INVAL,
	    "no output buffer");
	p[1] = NULL;
	COMBINE_FAILS(2, 32, "share 2 is missing");
	p[1] = b;
#undef COMBINE_FAILS

	/* Combining in place: the output may be one of the shares. */
	{
		uint8_t s[16], st[2][16], *sh[2] = { st[0], st[1] };
		const uint8_t *q[2] = { st[0], st[1] };
		uint8_t x2[2] = { 1, 2 };

		random_bytes(s, sizeof(s));
		assert_int_equal(shamir_split(s, 16, 2, 2, sh), 0);
		assert_int_equal(shamir_combine(q, x2, 2, 16, st[0]), 0);
		assert_memory_equal(st[0], s, 16);
	}
}

/* ---- share files: helpers ------------------------------------------- */

/*
 * Written by Python's hashlib, not our code:
 *	hdr = "CAIRN KEY BACKUP SHARE v1\nbackup: ...\ncustodian: ...\n"
 *	for each 16 bytes d: "data-%d: " + hex in groups of 4 + "  check %02x"
 *	    % sha256(d)[0]
 *	"check: " + sha256(hdr.encode() + data)[:4].hex()
 * The key-sha256 is SHA-256("cairn test key"), a made-up value.
 */
#define FPR "C3:58:39:FA:46:4F:46:B4:1F:9F:BD:52:95:8A:EC:F8:" \
	"1A:40:02:56:D0:51:20:B0:18:B9:26:99:79:F8:C5:02"
static const char golden1[] =
    "CAIRN KEY BACKUP SHARE v1\n"
    "backup: 5f2a9c0e7d3b41a68e0f1c2d3b4a5968\n"
    "key: cairn-root-2026\n"
    "key-sha256: " FPR "\n"
    "share: 2 of 3, any 2 restore\n"
    "custodian: Alice Example\n"
    "data-1: 9be4 c503 a344 61c2 0a4f 80c5 0540 8fca  check 1c\n"
    "data-2: f7b2 7d38 f8bd 7237 183b 5e7d 94b7 d2fa  check 27\n"
    "check: e2191713\n";
/* UTF-8 names, the largest numbers, 33 bytes: a last line of one byte. */
static const char golden2[] =
    "CAIRN KEY BACKUP SHARE v1\n"
    "backup: 5f2a9c0e7d3b41a68e0f1c2d3b4a5968\n"
    "key: Root CA 2026 \xe2\x80\x93 \xc3\xa9t\xc3\xa9\n"
    "key-sha256: " FPR "\n"
    "share: 16 of 16, any 16 restore\n"
    "custodian: Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m\n"
    "data-1: 0102 0304 0506 0708 090a 0b0c 0d0e 0f10  check 5d\n"
    "data-2: 1112 1314 1516 1718 191a 1b1c 1d1e 1f20  check 72\n"
    "data-3: 21  check bb\n"
    "check: 6fdbd8bc\n";

static void
golden1_share(struct share *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->backup, "5f2a9c0e7d3b41a68e0f1c2d3b4a5968");
	strcpy(s->key, "cairn-root-2026");
	strcpy(s->key_sha256, FPR);
	s->index = 2;
	s->count = 3;
	s->threshold = 2;
	strcpy(s->custodian, "Alice Example");
	unhex(lin_shares[1], s->data, 32);
	s->len = 32;
}

static void
golden2_share(struct share *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	strcpy(s->backup, "5f2a9c0e7d3b41a68e0f1c2d3b4a5968");
	strcpy(s->key, "Root CA 2026 \xe2\x80\x93 \xc3\xa9t\xc3\xa9");
	strcpy(s->key_sha256, FPR);
	s->index = 16;
	s->count = 16;
	s->threshold = 16;
	strcpy(s->custodian, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
	for (i = 0; i < 33; i++)
		s->data[i] = (uint8_t)(i + 1);
	s->len = 33;
}

static void
share_equal(const struct share *a, const struct share *b)
{
	assert_string_equal(a->backup, b->backup);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->key_sha256, b->key_sha256);
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->threshold, b->threshold);
	assert_string_equal(a->custodian, b->custodian);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

/* Parse `len` bytes copied into a buffer of exactly that size, so that
 * ASan sees a read past the end. */
static int
parse_exact(const char *text, size_t len, struct share *s)
{
	char *buf = malloc(len > 0 ? len : 1);
	int r;

	assert_non_null(buf);
	memcpy(buf, text, len);
	r = share_parse(buf, len, NAME, s);
	free(buf);
	return r;
}

static void
parse_ok(const char *text, struct share *s)
{
	int r = parse_exact(text, strlen(text), s);

	if (r != 0)
		fail_msg("refused: %s", cairn_errmsg(r));
}

/*
 * The text must be refused with "t.share line N: " and `what` in the
 * message, and the output left cleared.
 */
static void
parse_fails_at(const char *text, size_t len, unsigned line,
    const char *what, int srcline)
{
	struct share s;
	char want[64];
	const char *msg;
	int r;

	memset(&s, 0xaa, sizeof(s));
	r = parse_exact(text, len, &s);
	msg = cairn_errmsg(r);
	snprintf(want, sizeof(want), NAME " line %u: ", line);
	if (r != CAIRN_E_INVAL)
		fail_msg("test line %d: want CAIRN_E_INVAL, have %s: %s",
		    srcline, cairn_errname(r), msg);
	if (strncmp(msg, want, strlen(want)) != 0 ||
	    strstr(msg, what) == NULL)
		fail_msg("test line %d: message \"%s\" lacks \"%s...%s\"",
		    srcline, msg, want, what);
	if (!all_zero(&s, sizeof(s)))
		fail_msg("test line %d: output not cleared", srcline);
}
#define parse_fails(text, line, what) \
	parse_fails_at((text), strlen(text), (line), (what), __LINE__)

/* Lines of a text, to cut and paste them. */
struct lines {
	char *l[24];
	unsigned n;
};

static void
lines_split(const char *text, struct lines *ls)
{
	const char *p = text, *nl;

	ls->n = 0;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_true(ls->n < 24);
		ls->l[ls->n] = strndup(p, (size_t)(nl - p));
		assert_non_null(ls->l[ls->n]);
		ls->n++;
		p = nl + 1;
	}
}

/* The lines joined with "\n" after each; a new string. */
static char *
lines_join(const struct lines *ls)
{
	size_t len = 1;
	unsigned i;
	char *t;

	for (i = 0; i < ls->n; i++)
		len += strlen(ls->l[i]) + 1;
	t = malloc(len);
	assert_non_null(t);
	t[0] = '\0';
	for (i = 0; i < ls->n; i++) {
		strcat(t, ls->l[i]);
		strcat(t, "\n");
	}
	return t;
}

static void
lines_free(struct lines *ls)
{
	unsigned i;

	for (i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

/* Line i (1-based) removed. */
static char *
del_line(const char *text, unsigned i)
{
	struct lines ls;
	char *t;

	lines_split(text, &ls);
	assert_true(i >= 1 && i <= ls.n);
	free(ls.l[i - 1]);
	memmove(&ls.l[i - 1], &ls.l[i], (ls.n - i) * sizeof(ls.l[0]));
	ls.n--;
	t = lines_join(&ls);
	lines_free(&ls);
	return t;
}

/* `line` inserted before line i (1-based; n + 1 appends). */
static char *
ins_line(const char *text, unsigned i, const char *line)
{
	struct lines ls;
	char *t;

	lines_split(text, &ls);
	assert_true(i >= 1 && i <= ls.n + 1 && ls.n < 24);
	memmove(&ls.l[i], &ls.l[i - 1], (ls.n - i + 1) * sizeof(ls.l[0]));
	ls.l[i - 1] = strdup(line);
	ls.n++;
	t = lines_join(&ls);
	lines_free(&ls);
	return t;
}

/* Line i (1-based) replaced. */
static char *
set_line(const char *text, unsigned i, const char *line)
{
	struct lines ls;
	char *t;

	lines_split(text, &ls);
	assert_true(i >= 1 && i <= ls.n);
	free(ls.l[i - 1]);
	ls.l[i - 1] = strdup(line);
	t = lines_join(&ls);
	lines_free(&ls);
	return t;
}

/* Line i (1-based) as a new string. */
static char *
get_line(const char *text, unsigned i)
{
	struct lines ls;
	char *t;

	lines_split(text, &ls);
	assert_true(i >= 1 && i <= ls.n);
	t = strdup(ls.l[i - 1]);
	lines_free(&ls);
	return t;
}

static unsigned
count_lines(const char *text)
{
	unsigned n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

/* The first occurrence of `from` replaced by `to`; a new string. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	size_t a, b, c;
	char *t;

	if (p == NULL)
		fail_msg("\"%s\" not in the text", from);
	a = (size_t)(p - text);
	b = strlen(to);
	c = strlen(p + strlen(from));
	t = malloc(a + b + c + 1);
	assert_non_null(t);
	memcpy(t, text, a);
	memcpy(t + a, to, b);
	memcpy(t + a + b, p + strlen(from), c + 1);
	return t;
}

/* Test that `t` (freed here) fails at `line` with `what`. */
#define FAILS_FREE(t, line, what) do {                                       \
	char *t_ = (t);                                                      \
	parse_fails(t_, (line), (what));                                     \
	free(t_);                                                            \
} while (0)

/* A label of `len` bytes: printable ASCII with some UTF-8, inner spaces. */
static void
random_label(char *out, size_t len)
{
	static const char *const utf8[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9d\x84\x9e", "\xc3\x85" };
	size_t i = 0, k;
	const char *u;

	while (i < len) {
		if (len - i >= 4 && prng_below(8) == 0) {
			u = utf8[prng_below(4)];
			k = strlen(u);
			memcpy(out + i, u, k);
			i += k;
		} else
			out[i++] = (char)(0x20 + prng_below(95));
	}
	out[i] = '\0';
	/* no space at either end */
	if (out[0] == ' ')
		out[0] = 'A';
	if (out[i - 1] == ' ')
		out[i - 1] = 'Z';
}

static void
random_share(struct share *s, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	uint8_t id[16], fp[32];
	unsigned i;

	memset(s, 0, sizeof(*s));
	random_bytes(id, sizeof(id));
	cairn_hex(s->backup, id, sizeof(id), 0);
	random_label(s->key, 1 + prng_below(SHAMIR_LABEL_MAX));
	random_bytes(fp, sizeof(fp));
	for (i = 0; i < 32; i++) {
		s->key_sha256[3 * i] = hexd[fp[i] >> 4];
		s->key_sha256[3 * i + 1] = hexd[fp[i] & 15];
		s->key_sha256[3 * i + 2] = i < 31 ? ':' : '\0';
	}
	s->count = 2 + prng_below(SHAMIR_MAX_SHARES - 1);
	s->index = 1 + prng_below(s->count);
	s->threshold = 2 + prng_below(s->count - 1);
	random_label(s->custodian, 1 + prng_below(SHAMIR_LABEL_MAX));
	s->len = len;
	random_bytes(s->data, len);
}

static char *
format_ok(const struct share *s)
{
	char *text = NULL;
	int r = share_format(s, &text);

	if (r != 0)
		fail_msg("share_format: %s", cairn_errmsg(r));
	return text;
}

/*
 * The hex of the data part in upper case, as a custodian might type it:
 * every word after the custodian: line made only of hex digits ("9be4",
 * "1c", the final check), not the keywords ("check", "data-1:").
 */
static void
upper_data(char *t)
{
	char *p = strstr(t, "\ndata-1:"), *w;
	size_t n, i;

	assert_non_null(p);
	while (*p != '\0') {
		n = strcspn(p, " \n");
		for (i = 0, w = p; i < n && isxdigit((unsigned char)w[i]); i++)
			;
		if (n > 0 && i == n)
			for (i = 0; i < n; i++)
				w[i] = (char)toupper((unsigned char)w[i]);
		p += n;
		if (*p != '\0')
			p++;
	}
}

/* ---- share files: what is accepted ---------------------------------- */

static void
test_format_golden(void **state)
{
	struct share s, p;
	char *text;
	struct lines ls;
	unsigned i;

	golden1_share(&s);
	text = format_ok(&s);
	assert_string_equal(text, golden1);
	parse_ok(text, &p);
	share_equal(&s, &p);
	cairn_free_secret(text, 0);

	golden2_share(&s);
	text = format_ok(&s);
	assert_string_equal(text, golden2);
	parse_ok(text, &p);
	share_equal(&s, &p);
	cairn_free_secret(text, 0);

	/* The shapes of shamir.h's example, line by line. */
	lines_split(golden1, &ls);
	assert_int_equal(ls.n, 9);
	assert_string_equal(ls.l[0], "CAIRN KEY BACKUP SHARE v1");
	assert_true(strncmp(ls.l[1], "backup: ", 8) == 0 &&
	    strlen(ls.l[1]) == 8 + 32);
	assert_true(strncmp(ls.l[2], "key: ", 5) == 0);
	assert_true(strncmp(ls.l[3], "key-sha256: ", 12) == 0 &&
	    strlen(ls.l[3]) == 12 + 95);
	assert_true(strncmp(ls.l[4], "share: ", 7) == 0 &&
	    strstr(ls.l[4], " of ") != NULL &&
	    strstr(ls.l[4], ", any ") != NULL &&
	    strcmp(ls.l[4] + strlen(ls.l[4]) - 8, " restore") == 0);
	assert_true(strncmp(ls.l[5], "custodian: ", 11) == 0);
	for (i = 6; i <= 7; i++) {
		/* "data-k: " + 8 groups of 4 + "  check yy" */
		assert_int_equal(strlen(ls.l[i]), 8 + 8 * 5 - 1 + 10);
		assert_true(strncmp(ls.l[i] + 8 + 39, "  check ", 8) == 0);
	}
	assert_true(strncmp(ls.l[8], "check: ", 7) == 0 &&
	    strlen(ls.l[8]) == 7 + 8);
	lines_free(&ls);
}

/* Shares parsed from their files restore the Python-made secret. */
static void
test_restore_from_files(void **state)
{
	struct share s, p[3];
	const uint8_t *d[2];
	uint8_t xs[2], want[32], out[32];
	char *text;
	unsigned i;

	golden1_share(&s);
	for (i = 0; i < 3; i++) {
		s.index = i + 1;
		unhex(lin_shares[i], s.data, 32);
		text = format_ok(&s);
		parse_ok(text, &p[i]);
		cairn_free_secret(text, 0);
	}
	unhex(lin_secret, want, 32);
	d[0] = p[2].data;
	d[1] = p[0].data;
	xs[0] = (uint8_t)p[2].index;
	xs[1] = (uint8_t)p[0].index;
	assert_int_equal(shamir_combine(d, xs, 2, p[0].len, out), 0);
	assert_memory_equal(out, want, 32);
}

static void
test_share_round_trips(void **state)
{
	struct share s, p;
	char *text, *again;
	size_t len;
	unsigned t;

	for (t = 0; t < 20; t++)
		for (len = 1; len <= SHAMIR_MAX_SECRET; len++) {
			random_share(&s, len);
			text = format_ok(&s);
			assert_int_equal(count_lines(text),
			    7 + (len + 15) / 16);
			parse_ok(text, &p);
			share_equal(&s, &p);
			again = format_ok(&p);
			assert_string_equal(text, again);
			cairn_free_secret(again, 0);
			cairn_free_secret(text, 0);
		}

	/* The longest fields: 128-byte names. */
	random_share(&s, SHAMIR_MAX_SECRET);
	memset(s.key, 'k', SHAMIR_LABEL_MAX);
	s.key[SHAMIR_LABEL_MAX] = '\0';
	memset(s.custodian, 'c', SHAMIR_LABEL_MAX);
	s.custodian[SHAMIR_LABEL_MAX] = '\0';
	s.index = s.count = s.threshold = SHAMIR_MAX_SHARES;
	text = format_ok(&s);
	parse_ok(text, &p);
	share_equal(&s, &p);
	cairn_free_secret(text, 0);
}

/*
 * Upper-case hex is accepted in data lines, their checks and the final
 * check (typed from paper), and gives the same share; the header fields
 * have one spelling.
 */
static void
test_hex_case(void **state)
{
	struct share s, p;
	char *t;

	golden1_share(&s);
	t = strdup(golden1);
	assert_non_null(t);
	upper_data(t);
	/* the keywords stay lower case */
	assert_non_null(strstr(t, "data-1: 9BE4 C503 A344 61C2 0A4F 80C5 "
	    "0540 8FCA  check 1C\n"));
	assert_non_null(strstr(t, "check: E2191713\n"));
	assert_non_null(strstr(t, "custodian: Alice Example\n"));
	parse_ok(t, &p);
	share_equal(&s, &p);
	free(t);

	/* mixed case on one line */
	t = replace(golden1, "9be4 c503", "9bE4 C503");
	parse_ok(t, &p);
	share_equal(&s, &p);
	free(t);

	FAILS_FREE(replace(golden1, "backup: 5f2a", "backup: 5F2A"), 2,
	    "backup: the id is lower-case hex: write a-f, not A-F");
	FAILS_FREE(replace(golden1, "C3:58:39:FA", "C3:58:39:fa"), 4,
	    "key-sha256: the fingerprint is upper-case hex: write A-F");
	/* and the keywords are not case-insensitive */
	FAILS_FREE(replace(golden1, "data-1:", "DATA-1:"), 7,
	    "want \"data-1: ...\" or \"check: ...\"");
	FAILS_FREE(replace(golden1, "  check 1c", "  CHECK 1c"), 7,
	    "want \"  check yy\"");
}

/* ---- share files: mistakes ------------------------------------------ */

/*
 * A changed digit in any data line is caught on that line, unless the
 * one-byte line check collides (1 in 256), and then by the final check;
 * never accepted.  Every digit of every data line of a 64-byte and a
 * 33-byte share, each changed to all 15 other values.
 */
static void
test_line_checks(void **state)
{
	static const size_t lens[] = { 64, 33 };
	struct share s;
	char *text, *t, want[64];
	unsigned line, nlines, col, ncol, chk, d, by_line = 0, by_final = 0;
	const char *msg, *ls;
	size_t li, off;
	int r;
	struct share p;

	for (li = 0; li < 2; li++) {
		random_share(&s, lens[li]);
		text = format_ok(&s);
		nlines = count_lines(text);
		for (line = 7; line < nlines; line++) {
			/* offset of the line */
			for (ls = text, d = 1; d < line; d++)
				ls = strchr(ls, '\n') + 1;
			/* the data digits and the two of "check yy" */
			chk = (unsigned)(strstr(ls, "  check ") - ls);
			ncol = chk + 10;
			for (col = 8; col < ncol; col++) {
				if (ls[col] == ' ' || (col >= chk &&
				    col < chk + 8))
					continue;
				off = (size_t)(ls - text) + col;
				for (d = 0; d < 16; d++) {
					t = strdup(text);
					t[off] = "0123456789abcdef"[d];
					if (t[off] == text[off]) {
						free(t);
						continue;
					}
					r = parse_exact(t, strlen(t), &p);
					assert_int_equal(r, CAIRN_E_INVAL);
					msg = cairn_errmsg(r);
					snprintf(want, sizeof(want),
					    NAME " line %u: data-", line);
					if (strncmp(msg, want,
					    strlen(want)) == 0) {
						assert_non_null(strstr(msg,
						    "a digit on this line is "
						    "wrong: compare it with "
						    "the printed share"));
						by_line++;
					} else {
						snprintf(want, sizeof(want),
						    NAME " line %u: check is ",
						    nlines);
						if (strncmp(msg, want,
						    strlen(want)) != 0)
							fail_msg("%s", msg);
						by_final++;
					}
					free(t);
				}
			}
		}
		cairn_free_secret(text, 0);
	}
	print_message("# %u changed digits caught by their line check, %u "
	    "by the final check\n", by_line, by_final);
	assert_true(by_line > 50 * by_final);

	/* The exact message, on the golden share. */
	FAILS_FREE(replace(golden1, "0a4f", "0a4e"), 7,
	    "data-1: check is 1c, the line's data gives ");
	FAILS_FREE(replace(golden1, "check 27", "check 28"), 8,
	    "data-2: check is 28, the line's data gives 27: a digit on this "
	    "line is wrong: compare it with the printed share");
	/* A dropped or doubled group is caught the same way. */
	FAILS_FREE(replace(golden1, "183b ", ""), 8,
	    "a digit on this line is wrong");
	FAILS_FREE(replace(golden1, "183b ", "183b 183b "), 8,
	    "data-2: more than 8 groups: a line holds 16 bytes");
}

/* What line checks cannot see, the final check does. */
static void
test_final_check(void **state)
{
	char *t, *l7, *l8, *a, *b;

	/* data lines swapped, numbers kept: each line check holds */
	l7 = get_line(golden1, 7);
	l8 = get_line(golden1, 8);
	a = replace(l7, "data-1", "data-2");
	b = replace(l8, "data-2", "data-1");
	t = set_line(golden1, 7, b);
	FAILS_FREE(set_line(t, 8, a), 9,
	    "check is e2191713, the share gives ");
	free(t);
	/* ... and whole lines swapped: the numbers tell */
	t = set_line(golden1, 7, l8);
	FAILS_FREE(set_line(t, 8, l7), 7,
	    "data-2 where data-1 belongs: a data line is missing, repeated "
	    "or out of order");
	free(t);
	free(a);
	free(b);
	free(l7);
	free(l8);

	/* every header field changed to another valid value */
	FAILS_FREE(replace(golden1, "5f2a9c", "5f2a9d"), 9,
	    "a line is missing, repeated, swapped or changed");
	FAILS_FREE(replace(golden1, "cairn-root-2026", "cairn-root-2025"), 9,
	    "check is e2191713");
	FAILS_FREE(replace(golden1, "C3:58", "C3:59"), 9, "check is e2191713");
	FAILS_FREE(replace(golden1, "share: 2 of 3", "share: 1 of 3"), 9,
	    "check is e2191713");
	FAILS_FREE(replace(golden1, "share: 2 of 3", "share: 2 of 4"), 9,
	    "check is e2191713");
	FAILS_FREE(replace(golden1, "any 2 restore", "any 3 restore"), 9,
	    "check is e2191713");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice Exampel"), 9,
	    "check is e2191713");
	/* the check itself mistyped */
	FAILS_FREE(replace(golden1, "check: e2191713", "check: e2191714"), 9,
	    "check is e2191714, the share gives e2191713: a line is "
	    "missing, repeated, swapped or changed (or this one is "
	    "mistyped): compare every line with the printed share");
	/* the last data line missing: no line check can tell */
	FAILS_FREE(del_line(golden1, 8), 8, "check is e2191713");
	/* a line of another share (lin at x = 1) with its own line check
	 * (64, from Python) */
	FAILS_FREE(replace(golden1, "data-1: 9be4 c503 a344 61c2 0a4f 80c5 "
	    "0540 8fca  check 1c", "data-1: c0fe ec03 daa8 b8e8 092a 4f6c "
	    "85a6 c3e0  check 64"), 9, "check is e2191713");
}

/* Every line missing, doubled, blank, with CR, with a trailing space. */
static void
test_lines(void **state)
{
	static const char *const missing[] = {
		/* 1 */ "not a Cairn key backup share: the first line must be "
		    "\"CAIRN KEY BACKUP SHARE v1\"",
		/* 2 */ "found the key: line where the backup: line belongs: a "
		    "line is missing, repeated or out of order",
		/* 3 */ "found the key-sha256: line where the key: line "
		    "belongs",
		/* 4 */ "found the share: line where the key-sha256: line "
		    "belongs",
		/* 5 */ "found the custodian: line where the share: line "
		    "belongs",
		/* 6 */ "found a data line where the custodian: line belongs",
		/* 7 */ "data-2 where data-1 belongs",
		/* 8: the final check */ "check is e2191713",
		/* 9 */ "the file ends before its check: line: it is truncated",
	};
	static const unsigned missing_at[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	static const char *const doubled[] = {
		/* 1 */ "found the first line again where the backup: line "
		    "belongs",
		/* 2 */ "found the backup: line where the key: line belongs",
		/* 3 */ "found the key: line where the key-sha256: line "
		    "belongs",
		/* 4 */ "found the key-sha256: line where the share: line "
		    "belongs",
		/* 5 */ "found the share: line where the custodian: line "
		    "belongs",
		/* 6 */ "found the custodian: line among the data lines",
		/* 7 */ "data-1 where data-2 belongs",
		/* 8 */ "data-2 where data-3 belongs",
		/* 9 */ "text after the check: line, which is the last line of "
		    "a share: delete everything after it",
	};
	char *t, *l, lb[256];
	unsigned i;

	assert_int_equal(count_lines(golden1), 9);
	for (i = 1; i <= 9; i++) {
		FAILS_FREE(del_line(golden1, i), missing_at[i - 1],
		    missing[i - 1]);
		l = get_line(golden1, i);
		FAILS_FREE(ins_line(golden1, i, l), i + 1, doubled[i - 1]);
		/* blank line before line i, and at the end */
		FAILS_FREE(ins_line(golden1, i, ""), i, "blank line: a share "
		    "has none: delete it");
		/* trailing space, CR, tab */
		snprintf(lb, sizeof(lb), "%s ", l);
		FAILS_FREE(set_line(golden1, i, lb), i, "space at the end of "
		    "the line: delete it");
		snprintf(lb, sizeof(lb), "%s\r", l);
		FAILS_FREE(set_line(golden1, i, lb), i, "carriage return (a "
		    "Windows line end): save the file with Unix line ends");
		snprintf(lb, sizeof(lb), "%s\t", l);
		FAILS_FREE(set_line(golden1, i, lb), i, "control character "
		    "0x09");
		free(l);
	}
	FAILS_FREE(ins_line(golden1, 10, ""), 10, "text after the check: "
	    "line");
	FAILS_FREE(ins_line(golden1, 10, "hello"), 10, "text after the "
	    "check: line");

	/* The whole file with Windows line ends: the first line says so. */
	{
		char crlf[sizeof(golden1) * 2];
		const char *p;
		size_t o = 0;

		for (p = golden1; *p != '\0'; p++) {
			if (*p == '\n')
				crlf[o++] = '\r';
			crlf[o++] = *p;
		}
		crlf[o] = '\0';
		parse_fails(crlf, 1, "carriage return");
	}

	/* A data line where a header line belongs and vice versa. */
	t = get_line(golden1, 7);
	FAILS_FREE(set_line(golden1, 3, t), 3, "found a data line where the "
	    "key: line belongs");
	free(t);
	FAILS_FREE(ins_line(golden1, 8, "key: x"), 8, "found the key: line "
	    "among the data lines");
	FAILS_FREE(ins_line(golden1, 8, "CAIRN KEY BACKUP SHARE v1"), 8,
	    "found the first line among the data lines");
	FAILS_FREE(ins_line(golden1, 8, "note: hello"), 8, "want \"data-2: "
	    "...\" or \"check: ...\", have \"note: hello\"");
	FAILS_FREE(set_line(golden1, 3, "kex: cairn"), 3, "want \"key: <label "
	    "of the backed-up key>\", have \"kex: cairn\"");
	FAILS_FREE(set_line(golden1, 1, "CAIRN KEY BACKUP SHARE v2"), 1,
	    "not a Cairn key backup share");
	FAILS_FREE(set_line(golden1, 1, "CAIRN KEY BACKUP SHARE v1x"), 1,
	    "not a Cairn key backup share");
	/* control characters, shown escaped */
	FAILS_FREE(replace(golden1, "Alice", "Al\x01ice"), 6,
	    "control character 0x01 in column 14");
	{
		char nul[sizeof(golden1)];

		memcpy(nul, golden1, sizeof(golden1));
		nul[strstr(golden1, "Alice") - golden1 + 2] = '\0';
		parse_fails_at(nul, sizeof(golden1) - 1, 6,
		    "control character 0x00 in column 14", __LINE__);
	}
}

/* Cut anywhere, the file is refused, at the line the cut is in. */
static void
test_truncated(void **state)
{
	const char *p;
	size_t len, n = strlen(golden1);
	unsigned line;

	for (len = 0; len < n; len++) {
		line = 1;
		for (p = golden1; p < golden1 + len; p++)
			line += *p == '\n';
		if (len == 0)
			parse_fails_at(golden1, len, 1, "the file is empty",
			    __LINE__);
		else if (golden1[len - 1] != '\n')
			parse_fails_at(golden1, len, line, "the file ends in "
			    "the middle of this line: it is truncated, or was "
			    "saved without a newline at the end", __LINE__);
		else if (line <= 6)
			parse_fails_at(golden1, len, line, "it is truncated: "
			    "copy the rest from the printed share", __LINE__);
		else
			parse_fails_at(golden1, len, line, "the file ends "
			    "before its check: line", __LINE__);
	}
	/* and the whole file plus anything is refused too */
	{
		char more[sizeof(golden1) + 1];

		memcpy(more, golden1, n);
		more[n] = 'x';
		parse_fails_at(more, n + 1, 10, "text after the check: line",
		    __LINE__);
		more[n] = '\n';
		parse_fails_at(more, n + 1, 10, "text after the check: line",
		    __LINE__);
	}
}

/* The share: line: syntax, leading zeros, ranges. */
static void
test_numbers(void **state)
{
#define SHARE_LINE(from, to, what) \
	FAILS_FREE(replace(golden1, (from), (to)), 5, (what))
	SHARE_LINE("share: 2 of", "share: 02 of", "the index \"02\" has a "
	    "leading zero: write it without");
	SHARE_LINE("of 3,", "of 03,", "the count \"03\" has a leading zero");
	SHARE_LINE("any 2 restore", "any 002 restore", "the threshold \"002\" "
	    "has a leading zero");
	SHARE_LINE("share: 2 of 3", "share: 4 of 3", "share: share 4 of 3: "
	    "the index must be 1..3");
	SHARE_LINE("share: 2 of 3", "share: 0 of 3", "share 0 of 3: the index "
	    "must be 1..3");
	SHARE_LINE("any 2 restore", "any 4 restore", "any 4 of 3 restore: the "
	    "threshold cannot exceed the count");
	SHARE_LINE("any 2 restore", "any 1 restore", "any 1 restore: at least "
	    "2 shares must be needed");
	SHARE_LINE("any 2 restore", "any 0 restore", "at least 2 shares");
	SHARE_LINE("share: 2 of 3", "share: 2 of 17", "17 shares: the count "
	    "must be 2..16");
	SHARE_LINE("share: 2 of 3, any 2", "share: 1 of 1, any 1",
	    "1 shares: the count must be 2..16");
	SHARE_LINE("of 3,", "of 4096,", "the count \"4096\" is out of range");
	SHARE_LINE("of 3,", "of 99999999999999999999,", "is out of range");
	SHARE_LINE("share: 2", "share: +2", "the index is not a number");
	SHARE_LINE("share: 2", "share:  2", "the index is not a number");
	SHARE_LINE("share: 2 of 3", "share: 2 of  3", "the count is not a "
	    "number");
	SHARE_LINE("share: 2 of 3", "share: 2 of3", "want \"share: <i> of "
	    "<n>, any <m> restore\", have \"share: 2 of3, any 2 restore\"");
	SHARE_LINE("3, any", "3 any", "want \"share: <i> of <n>");
	SHARE_LINE("restore", "restore.", "want \"share: <i> of <n>");
	SHARE_LINE("restore", "restores", "want \"share: <i> of <n>");
	SHARE_LINE("restore", "rest", "want \"share: <i> of <n>");
	SHARE_LINE("any 2 restore", "any 2", "want \"share: <i> of <n>");
#undef SHARE_LINE
	FAILS_FREE(replace(golden1, "data-1:", "data-01:"), 7, "data-01: the "
	    "line number has a leading zero: write data-1");
	FAILS_FREE(replace(golden1, "data-2:", "data-3:"), 8, "data-3 where "
	    "data-2 belongs");
	FAILS_FREE(replace(golden1, "data-2:", "data-0:"), 8, "data-0 where "
	    "data-2 belongs");
	FAILS_FREE(replace(golden1, "data-2:", "data-:"), 8, "want \"data-2: "
	    "xxxx xxxx ...\", have \"data-: ");
	FAILS_FREE(replace(golden1, "data-2:", "data-2"), 8, "want \"data-2: "
	    "xxxx xxxx ...\"");
	FAILS_FREE(replace(golden1, "data-2:", "data-99999:"), 8,
	    "data-9999 where data-2 belongs");
}

/* The data lines' own syntax. */
static void
test_data_syntax(void **state)
{
	struct share s;
	char *text, *t;

#define DATA(from, to, line, what) \
	FAILS_FREE(replace(golden1, (from), (to)), (line), (what))
	DATA("9be4 c503", "9be4 c5x3", 7, "data-1: group 2 \"c5x3\" is not "
	    "hex: the digits are 0-9 and a-f");
	DATA("9be4 c503", "9be4 c50", 7, "data-1: group 2 \"c50\" has 3 "
	    "digits, not four");
	DATA("9be4 c503", "9be4 c5030", 7, "group 2 \"c5030\" has 5 digits");
	DATA("9be4 c503", "9be4c503", 7, "group 1 \"9be4c503\" has 8 digits");
	DATA("9be4 c503 a344", "9be4  c503 a344", 7, "data-1: want \"  check "
	    "yy\" (two spaces, \"check\", two hex digits) after the data, "
	    "have \"  c503 a344 ");
	DATA("data-1: 9be4", "data-1:  9be4", 7, "data-1: two spaces where "
	    "group 1 belongs");
	DATA("data-1: 9be4", "data-1:9be4", 7, "want \"data-1: xxxx xxxx "
	    "...\"");
	DATA("8fca  check 1c", "8fca check 1c", 7, "data-1: want two spaces "
	    "before \"check\"");
	DATA("8fca  check 1c", "8fca chek 1c", 7, "data-1: group 9 \"chek\" is "
	    "not hex: the digits are 0-9 and a-f");
	DATA("8fca  check 1c", "8fca 1234  check 1c", 7, "data-1: more than "
	    "8 groups: a line holds 16 bytes");
	DATA("8fca  check 1c", "8fca   check 1c", 7, "want \"  check yy\"");
	DATA("8fca  check 1c", "8fca  check 1c0", 7, "want \"  check yy\"");
	DATA("8fca  check 1c", "8fca  check 1", 7, "want \"  check yy\"");
	DATA("8fca  check 1c", "8fca  check 1g", 7, "want \"  check yy\"");
	DATA("8fca  check 1c", "8fca  chek 1c", 7, "want \"  check yy\"");
	DATA("8fca  check 1c", "8fca", 7, "data-1: the line ends without \"  "
	    "check yy\"");
	DATA("a344 61c2", "a3 4461c2", 7, "data-1: group 3 has two digits but "
	    "is not the last");
	DATA("check: e2191713", "check: e219171", 9, "want \"check: \" and "
	    "eight hex digits, have \"check: e219171\"");
	DATA("check: e2191713", "check: e21917130", 9, "want \"check: \" and "
	    "eight hex digits");
	DATA("check: e2191713", "check: e219171g", 9, "want \"check: \" and "
	    "eight hex digits");
	DATA("check: e2191713", "check:e2191713", 9, "want \"data-3: ...\" "
	    "or \"check: ...\"");
#undef DATA

	/* No data at all. */
	FAILS_FREE(del_line(golden1, 7), 7, "data-2 where data-1 belongs");
	t = del_line(golden1, 7);
	FAILS_FREE(del_line(t, 7), 7, "the check: line comes before any data "
	    "line: the data lines are missing");
	free(t);

	/* More than 64 bytes: a fifth data line, well formed. */
	random_share(&s, 64);
	text = format_ok(&s);
	t = get_line(text, 10);
	{
		char *five = replace(t, "data-4:", "data-5:");
		FAILS_FREE(ins_line(text, 11, five), 11, "data-5: more than 64 "
		    "bytes of data: a share has at most 4 data lines");
		free(five);
	}
	free(t);
	cairn_free_secret(text, 0);

	/*
	 * A line that is not the last holds fewer than 16 bytes, with a
	 * check that matches it: made from a 14-byte share's only line
	 * followed by another line.  Reported at the short line.
	 */
	random_share(&s, 14);
	text = format_ok(&s);
	t = get_line(text, 7);
	{
		char *two = replace(t, "data-1:", "data-2:");
		FAILS_FREE(ins_line(text, 8, two), 7, "data-1 holds 14 bytes "
		    "but is not the last data line: a line holds 16: a group "
		    "is missing or too short on this line");
		free(two);
	}
	free(t);
	cairn_free_secret(text, 0);
	/* an odd line that is not the last */
	random_share(&s, 15);
	text = format_ok(&s);
	t = get_line(text, 7);
	{
		char *two = replace(t, "data-1:", "data-2:");
		FAILS_FREE(ins_line(text, 8, two), 7, "data-1 holds 15 bytes "
		    "but is not the last data line");
		free(two);
	}
	free(t);
	cairn_free_secret(text, 0);
}

/* Header fields: backup id, fingerprint, names. */
static void
test_fields(void **state)
{
	struct share s, p;
	char *t, lb[300];

	FAILS_FREE(replace(golden1, "5f2a9c0e", "5f2a9c0"), 2, "backup: want "
	    "32 lower-case hex digits (have \"5f2a9c0");
	FAILS_FREE(replace(golden1, "5f2a9c0e", "5f2a9c0e0"), 2, "backup: want "
	    "32 lower-case hex digits");
	FAILS_FREE(replace(golden1, "5f2a9c0e", "5f2a9c0g"), 2, "backup: want "
	    "32 lower-case hex digits (0-9, a-f)");
	FAILS_FREE(replace(golden1, "C3:58:", "C3-58:"), 4, "key-sha256: want "
	    "32 pairs of upper-case hex digits separated by ':'");
	FAILS_FREE(replace(golden1, ":C5:02", ":C5"), 4, "key-sha256: want "
	    "32 pairs");
	FAILS_FREE(replace(golden1, ":C5:02", ":C5:02:"), 4, "key-sha256: want "
	    "32 pairs");
	FAILS_FREE(replace(golden1, "C3:58:", "G3:58:"), 4, "key-sha256: want "
	    "32 pairs");

	/* names: UTF-8, no controls, no spaces at the ends, 1..128 bytes */
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xff"), 6,
	    "custodian: the name is not UTF-8 (byte 0xff at 7): retype it "
	    "as printed");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xc3"), 6,
	    "custodian: the name is not UTF-8 (cut short at byte 7)");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xc3("), 6,
	    "is not UTF-8 (byte 0x28 at 8)");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xc0\xaf"), 6,
	    "is not UTF-8 (byte 0xc0 at 7)");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xe0\x80\xaf"), 6,
	    "is not UTF-8 (invalid sequence at byte 7)");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xed\xa0\x80"), 6,
	    "is not UTF-8 (invalid sequence");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xf4\x90\x80\x80"),
	    6, "is not UTF-8 (invalid sequence");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xc2\x85"), 6,
	    "custodian: the name contains the control character U+0085");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xe2\x80\xae"), 6,
	    "contains the invisible character U+202E");
	FAILS_FREE(replace(golden1, "Alice Example", "Alice \xe2\x80\xa8"), 6,
	    "contains the invisible character U+2028");
	FAILS_FREE(replace(golden1, "custodian: Alice", "custodian:  Alice"),
	    6, "custodian: the name starts with a space");
	FAILS_FREE(replace(golden1, "key: cairn", "key:  cairn"), 3,
	    "key: the label starts with a space");
	FAILS_FREE(replace(golden1, "key: cairn-root-2026", "key:"), 3,
	    "want \"key: <label of the backed-up key>\", have \"key:\"");
	memset(lb, 0, sizeof(lb));
	strcpy(lb, "custodian: ");
	memset(lb + strlen(lb), 'x', 129);
	FAILS_FREE(set_line(golden1, 6, lb), 6, "custodian: the name is 129 "
	    "bytes long: at most 128");
	/* 128 bytes are fine, and checked by the final check */
	lb[strlen(lb) - 1] = '\0';
	t = set_line(golden1, 6, lb);
	parse_fails(t, 9, "check is e2191713");
	free(t);
	golden1_share(&s);
	memset(s.custodian, 'x', 128);
	s.custodian[128] = '\0';
	t = format_ok(&s);
	parse_ok(t, &p);
	share_equal(&s, &p);
	cairn_free_secret(t, 0);
	/* The quoted input in messages is escaped. */
	FAILS_FREE(set_line(golden1, 3, "kex: \xc3\xa9\"\\"), 3,
	    "have \"kex: \\xc3\\xa9\\x22\\x5c\"");

	/* Empty input, an empty name, NULL arguments. */
	parse_fails_at("", 0, 1, "the file is empty", __LINE__);
	expect(share_parse(golden1, strlen(golden1), NAME, NULL),
	    CAIRN_E_INVAL, "no output");
	expect(share_parse(NULL, 3, NAME, &p), CAIRN_E_INVAL, "no text");
	expect(share_parse(NULL, 0, NULL, &p), CAIRN_E_INVAL,
	    "share line 1: the file is empty");
}

/* share_format refuses what would not parse back. */
static void
test_format_refuses(void **state)
{
	struct share s;
	char *text = (char *)"untouched";

#define REFUSED(change, what) do {                                           \
	golden1_share(&s);                                                   \
	change;                                                              \
	text = (char *)"untouched";                                          \
	expect(share_format(&s, &text), CAIRN_E_INVAL, (what));              \
	assert_null(text);                                                   \
} while (0)
	REFUSED(strcpy(s.custodian, "Alice\nExample"), "share_format: "
	    "custodian: the name contains the control character U+000A");
	REFUSED(strcpy(s.custodian, "Alice\tExample"), "U+0009");
	REFUSED(strcpy(s.custodian, "Alice\x7f"), "U+007F");
	REFUSED(strcpy(s.custodian, "Alice\r"), "U+000D");
	REFUSED(strcpy(s.custodian, ""), "custodian: the name is empty");
	REFUSED(strcpy(s.custodian, " Alice"), "starts with a space");
	REFUSED(strcpy(s.custodian, "Alice "), "ends with a space");
	REFUSED(strcpy(s.custodian, "Alice \xff"), "is not UTF-8");
	REFUSED(memset(s.custodian, 'x', sizeof(s.custodian)),
	    "custodian: longer than 128 bytes");
	REFUSED(strcpy(s.key, "a\nb"), "share_format: key: the label "
	    "contains the control character U+000A");
	REFUSED(strcpy(s.key, ""), "key: the label is empty");
	REFUSED(memset(s.key, 'x', sizeof(s.key)), "key: longer than 128");
	REFUSED(strcpy(s.backup, "5F2A9C0E7D3B41A68E0F1C2D3B4A5968"),
	    "backup: the id is lower-case hex");
	REFUSED(strcpy(s.backup, "5f2a"), "backup: want 32 lower-case hex");
	REFUSED(memset(s.backup, 'a', sizeof(s.backup)),
	    "backup: not terminated");
	REFUSED(s.key_sha256[0] = 'c', "key-sha256: the fingerprint is "
	    "upper-case hex");
	REFUSED(s.key_sha256[2] = '-', "key-sha256: want 32 pairs");
	REFUSED(s.key_sha256[94] = '\0', "key-sha256: want 32 pairs");
	REFUSED(memset(s.key_sha256, 'A', sizeof(s.key_sha256)),
	    "key-sha256: not terminated");
	REFUSED(s.index = 4, "share_format: share: share 4 of 3: the index "
	    "must be 1..3");
	REFUSED(s.index = 0, "share 0 of 3");
	REFUSED(s.threshold = 4, "any 4 of 3 restore: the threshold cannot "
	    "exceed the count");
	REFUSED(s.threshold = 1, "at least 2 shares must be needed");
	REFUSED(s.count = 17, "17 shares: the count must be 2..16");
	REFUSED(s.len = 0, "share_format: 0 bytes of data: want 1..64");
	REFUSED(s.len = 65, "share_format: 65 bytes of data");
#undef REFUSED
	expect(share_format(NULL, &text), CAIRN_E_INVAL, "no share");
	assert_null(text);
	golden1_share(&s);
	expect(share_format(&s, NULL), CAIRN_E_INVAL, "no output");
}

/*
 * Any single byte of a share changed to any other value is refused,
 * except a data or check hex digit changed in case, which parses to the
 * same share.  Never another share.
 */
static void
test_every_byte(void **state)
{
	struct share s, p;
	char t[sizeof(golden2)];
	size_t n = strlen(golden2), i, data_at;
	unsigned v, accepted = 0, refused = 0;
	char c;
	int r;

	golden2_share(&s);
	data_at = (size_t)(strstr(golden2, "data-1:") - golden2);
	for (i = 0; i < n; i++) {
		for (v = 0; v < 256; v++) {
			c = golden2[i];
			if ((unsigned char)c == v)
				continue;
			memcpy(t, golden2, sizeof(t));
			t[i] = (char)v;
			r = parse_exact(t, n, &p);
			if (r == 0) {
				/* only a hex letter's case, in the data part */
				if (i < data_at || ((int)v | 0x20) != c ||
				    c < 'a' || c > 'f')
					fail_msg("byte %zu '%c' -> 0x%02x "
					    "accepted", i, c, v);
				share_equal(&s, &p);
				accepted++;
			} else {
				assert_int_equal(r, CAIRN_E_INVAL);
				assert_true(strncmp(cairn_errmsg(r), NAME
				    " line ", strlen(NAME) + 6) == 0);
				refused++;
			}
		}
	}
	print_message("# %u changed files refused, %u case changes "
	    "accepted\n", refused, accepted);
}

/* ---- seeds for tests/fuzz/fuzz_share.c ------------------------------ */

static void
put_seed(const char *dir, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
put_seed_str(const char *dir, const char *name, char *text)
{
	put_seed(dir, name, text, strlen(text));
	free(text);
}

static void
write_seeds(const char *dir)
{
	static const size_t lens[] = { 1, 2, 15, 16, 17, 31, 32, 33, 48, 63,
	    64 };
	struct share s;
	char name[64], *text, *t;
	size_t i, n;

	put_seed(dir, "good-golden1", golden1, strlen(golden1));
	put_seed(dir, "good-golden2-utf8", golden2, strlen(golden2));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		random_share(&s, lens[i]);
		text = format_ok(&s);
		snprintf(name, sizeof(name), "good-len%zu", lens[i]);
		put_seed(dir, name, text, strlen(text));
		cairn_free_secret(text, 0);
	}
	t = strdup(golden1);
	assert_non_null(t);
	upper_data(t);
	put_seed_str(dir, "good-upper-hex", t);

	n = strlen(golden1);
	put_seed(dir, "bad-empty", "", 0);
	put_seed(dir, "bad-truncated", golden1, n / 2);
	put_seed(dir, "bad-no-final-newline", golden1, n - 1);
	put_seed_str(dir, "bad-after-check", ins_line(golden1, 10, "x"));
	put_seed_str(dir, "bad-digit", replace(golden1, "0a4f", "0a4e"));
	put_seed_str(dir, "bad-line-check", replace(golden1, "check 27",
	    "check 28"));
	put_seed_str(dir, "bad-final-check", replace(golden1, "e2191713",
	    "e2191714"));
	put_seed_str(dir, "bad-custodian", replace(golden1, "Alice", "Alicf"));
	put_seed_str(dir, "bad-missing-data", del_line(golden1, 7));
	put_seed_str(dir, "bad-missing-key", del_line(golden1, 3));
	put_seed_str(dir, "bad-extra-line", ins_line(golden1, 8, "key: x"));
	put_seed_str(dir, "bad-blank-line", ins_line(golden1, 5, ""));
	put_seed_str(dir, "bad-trailing-space", replace(golden1,
	    "restore\n", "restore \n"));
	put_seed_str(dir, "bad-leading-zero", replace(golden1, "share: 2",
	    "share: 02"));
	put_seed_str(dir, "bad-index", replace(golden1, "share: 2",
	    "share: 4"));
	put_seed_str(dir, "bad-threshold-high", replace(golden1, "any 2",
	    "any 4"));
	put_seed_str(dir, "bad-threshold-low", replace(golden1, "any 2",
	    "any 1"));
	put_seed_str(dir, "bad-upper-backup", replace(golden1, "5f2a",
	    "5F2A"));
	put_seed_str(dir, "bad-utf8", replace(golden1, "Alice", "Al\xc3"));
	put_seed_str(dir, "bad-short-group", replace(golden1, "a344 61c2",
	    "a3 4461c2"));
	t = replace(golden1, "\n", "\r\n");
	put_seed_str(dir, "bad-crlf", t);
	/*
	 * Not share files but the fuzz target's other reading of its input
	 * (fuzz_share.c: index, count, threshold and length bytes, the key
	 * label and the custodian name as lines, then the data), so that it
	 * starts from shares share_format() accepts.
	 */
	{
		static const char utf8[] = "\x02\x03\x02\x20"
		    "Root CA 2026 \xe2\x80\x93 \xc3\xa9t\xc3\xa9\n"
		    "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m\n"
		    "0123456789abcdef0123456789abcdef";
		static const char max[] = "\x10\x10\x10\x40k\nc\n"
		    "0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef";

		put_seed(dir, "bad-not-a-share-format-utf8", utf8,
		    sizeof(utf8) - 1);
		put_seed(dir, "bad-not-a-share-format-max", max,
		    sizeof(max) - 1);
	}
	{
		char l[128];

		t = get_line(golden1, 8);
		snprintf(l, sizeof(l), "%s", t);
		free(t);
		memcpy(l, "data-3", 6);
		t = ins_line(golden1, 9, l);
		put_seed_str(dir, "bad-three-lines", t);
	}
}

/* good-* parse and round-trip; bad-* are refused with a line. */
static void
check_seeds(const char *dir)
{
	struct share s, p;
	struct dirent *de;
	char path[PATH_MAX], *buf, *again;
	size_t len;
	unsigned good = 0, bad = 0;
	DIR *d;
	int r;

	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = cairn_read_file(path, 4096, &buf, &len);
		if (r != 0)
			fail_msg("%s", cairn_errmsg(r));
		r = parse_exact(buf, len, &s);
		if (strncmp(de->d_name, "good-", 5) == 0) {
			if (r != 0)
				fail_msg("%s: %s", path, cairn_errmsg(r));
			again = format_ok(&s);
			parse_ok(again, &p);
			share_equal(&s, &p);
			cairn_free_secret(again, 0);
			good++;
		} else if (strncmp(de->d_name, "bad-", 4) == 0) {
			if (r == 0)
				fail_msg("%s: a bad seed parses", path);
			assert_non_null(strstr(cairn_errmsg(r), " line "));
			bad++;
		} else
			fail_msg("%s: neither good- nor bad-", path);
		free(buf);
	}
	closedir(d);
	assert_true(good >= 10);
	assert_true(bad >= 20);
}

static void
test_seeds(void **state)
{
	const char *out = getenv("CAIRN_SHARE_WRITE_SEEDS");
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	if (out != NULL && out[0] != '\0') {
		write_seeds(out);
		check_seeds(out);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/cairn-test-shamir-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	write_seeds(dir);
	check_seeds(dir);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

/* The committed corpus still means what its names say. */
static void
test_committed_seeds(void **state)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char corpus[PATH_MAX];

	if (src == NULL || src[0] == '\0')
		print_error("CAIRN_SRCDIR is not set: run through "
		    "make check\n");
	assert_non_null(src);
	snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/share", src);
	check_seeds(corpus);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips197_products),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_below_threshold),
		cmocka_unit_test(test_share_uniform),
		cmocka_unit_test(test_split_invalid),
		cmocka_unit_test(test_combine_invalid),
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_restore_from_files),
		cmocka_unit_test(test_share_round_trips),
		cmocka_unit_test(test_hex_case),
		cmocka_unit_test(test_line_checks),
		cmocka_unit_test(test_final_check),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_data_syntax),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_committed_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
