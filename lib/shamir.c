/*
 * shamir.c: Shamir's secret sharing over GF(2^8), and the printable share
 * files of key-backup custodians (the format is in shamir.h).
 *
 * The root key's backup is wrapped under a random 256-bit key that no one
 * holds whole: it is split M-of-N among custodians.  A restore happens
 * rarely, under stress, possibly from shares typed back from paper, so
 * this file cares about two things above speed: the arithmetic is
 * specified well enough that another implementation can restore our
 * shares, and a share that is wrong in any way is refused with the line
 * at fault and what to do, instead of silently giving a wrong key that
 * the HSM would later reject with a confusing unwrap error.
 *
 * The polynomial.  Two implementations agree on shares when they agree on
 * all of this:
 *  - The field is GF(2^8) = GF(2)[x] / (x^8 + x^4 + x^3 + x + 1), i.e.
 *    reduction by 0x11b, the AES field (FIPS 197 section 4.2): bit k of a
 *    byte is the coefficient of x^k, addition is XOR, and
 *    {57} * {83} = {c1}.
 *  - Every byte of the secret is shared on its own.  Byte b of a secret
 *    of `len` bytes is f_b(0) for
 *	f_b(x) = s_b + a_1 x + a_2 x^2 + ... + a_{m-1} x^{m-1}
 *    whose coefficients a_j are independent, uniformly random bytes (a
 *    leading zero is allowed, as in Shamir's paper: the polynomial is a
 *    uniform one of degree < m, which is what makes m-1 shares reveal
 *    nothing).
 *  - Share i (1..n) is the `len` bytes f_0(i), f_1(i), ...: the x
 *    coordinate of a share is its index, written on the "share:" line and
 *    never inside the data.  x = 0 would be the secret and is never
 *    handed out.
 *  - Combining is Lagrange interpolation at x = 0:
 *	s_b = sum_j y_j,b * prod_{i != j} x_i / (x_i - x_j).
 *  (The order the coefficients are drawn in does not matter to anyone
 *  else: here they are one RAND_bytes() block, a_j of byte b at
 *  (j - 1) * len + b.)
 *
 * The shares and the secret are key material, so no table is indexed and
 * no branch is taken on their bytes: multiplication is shift-and-add with
 * masks, inversion a fixed chain of multiplications (and only ever applied
 * to public x coordinates anyway), and hex digits of data lines are
 * decoded and encoded with arithmetic.  The parser does branch on whether
 * a character is a hex digit at all, which only tells an attacker that
 * the share was malformed.
 *
 * The checks of a share file (the bytes covered are defined here; another
 * implementation must hash exactly these):
 *  - line check: "check yy" on a data line is the first byte of
 *    SHA-256(the data bytes of that line), the raw bytes, 1..16 of them,
 *    not their hex.  It catches a mistyped digit on its line (all but 1
 *    in 256 of them).
 *  - final check: "check: cccccccc" is the first four bytes of
 *	SHA-256("CAIRN KEY BACKUP SHARE v1\n"
 *	        || the backup:, key:, key-sha256:, share: and custodian:
 *	           lines exactly as written, each with its "\n"
 *	        || the raw data bytes of all data lines, in order)
 *    i.e. the first six lines of the file byte for byte, then the share's
 *    `len` bytes.  Since the header fields have a single spelling, the
 *    lines as written are the lines share_format() writes.  It catches
 *    what line checks cannot: swapped, repeated or missing data lines, a
 *    changed field, a share of another backup.
 *
 * Hex case (decided here): data lines and both kinds of check accept
 * upper- and lower-case hex digits, because those are the hundreds of
 * digits a custodian may type from paper, and the checks catch any digit
 * typed wrong whatever its case.  The header fields have exactly one
 * spelling (backup: lower case, key-sha256: upper case pairs, as
 * cairn_fingerprint_str() prints them) because other code compares them
 * as strings with the backup's own records.  share_format() always writes
 * lower case data and checks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/shamir.h"
#include "lib/util.h"

#define SHARE_MAGIC "CAIRN KEY BACKUP SHARE v1"
/* Bytes per data line: eight groups of four hex digits. */
#define LINE_BYTES 16
#define DATA_LINES_MAX ((SHAMIR_MAX_SECRET + LINE_BYTES - 1) / LINE_BYTES)
#define BACKUP_HEX 32
/* "AB:CD:...": 32 pairs and 31 colons */
#define FPR_LEN 95
/*
 * The longest share text: magic 26, backup 41, key 134, key-sha256 108,
 * "share: 16 of 16, any 16 restore\n" 32, custodian 140, four data lines
 * of 59, check 16: 733 bytes.  share_format() allocates this much.
 */
#define SHARE_TEXT_MAX 1024

/* Input quoted in a message: at most QUOTE_IN bytes, each at most 4
 * characters ("\xNN"), the quotes, "..." and the NUL. */
#define QUOTE_IN 40
#define QUOTE_MAX (QUOTE_IN * 4 + 8)

/* ---- GF(2^8) ------------------------------------------------------- */

/*
 * a * b modulo 0x11b, in eight rounds whatever the operands: each round
 * adds a when the low bit of b is set (through a mask, not a branch) and
 * multiplies a by x, folding x^8 back as x^4 + x^3 + x + 1 (0x1b), again
 * through a mask.
 */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return r;
}

/*
 * 1 / a as a^254 (the multiplicative group has order 255), by squaring
 * and multiplying along the fixed exponent 254 = 2 + 4 + ... + 128: the
 * same 13 multiplications for every a.  0 maps to 0; callers never pass
 * it (x coordinates are distinct).
 */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t p, r;
	int i;

	p = gf_mul(a, a);       /* a^2 */
	r = p;
	for (i = 0; i < 6; i++) {
		p = gf_mul(p, p);       /* a^4, a^8, ..., a^128 */
		r = gf_mul(r, p);
	}
	return r;
}

/* ---- split and combine --------------------------------------------- */

/* The secret must not overlap the shares: they are cleared on entry (and
 * on failure), as outputs are. */
int
shamir_split(const uint8_t *secret, size_t len, unsigned m, unsigned n,
    uint8_t *const *shares)
{
	uint8_t coef[(SHAMIR_MAX_SHARES - 1) * SHAMIR_MAX_SECRET];
	uint8_t s, y, x;
	unsigned i, j;
	size_t b;
	int r = CAIRN_E_INVAL;

	if (shares != NULL && n <= SHAMIR_MAX_SHARES &&
	    len <= SHAMIR_MAX_SECRET)
		for (i = 0; i < n; i++)
			if (shares[i] != NULL)
				memset(shares[i], 0, len);
	if (secret == NULL || shares == NULL)
		return cairn_error(CAIRN_E_INVAL, "shamir_split: no %s",
		    secret == NULL ? "secret" : "share buffers");
	if (len < 1 || len > SHAMIR_MAX_SECRET)
		return cairn_error(CAIRN_E_INVAL, "shamir_split: a secret of "
		    "%zu bytes: want 1..%d", len, SHAMIR_MAX_SECRET);
	if (n > SHAMIR_MAX_SHARES)
		return cairn_error(CAIRN_E_INVAL, "shamir_split: %u shares: "
		    "at most %d", n, SHAMIR_MAX_SHARES);
	if (m < 2)
		return cairn_error(CAIRN_E_INVAL, "shamir_split: any %u "
		    "restore: at least 2 shares must be needed (with 1, "
		    "every share is the secret)", m);
	if (m > n)
		return cairn_error(CAIRN_E_INVAL, "shamir_split: any %u of %u "
		    "restore: the threshold cannot exceed the count", m, n);
	for (i = 0; i < n; i++)
		if (shares[i] == NULL)
			return cairn_error(CAIRN_E_INVAL, "shamir_split: no "
			    "buffer for share %u", i + 1);

	if (RAND_bytes(coef, (int)((m - 1) * len)) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "shamir_split: cannot "
		    "draw random coefficients");
		goto out;
	}
	/* Horner's rule at x = i + 1: ((a_{m-1} x + a_{m-2}) x + ...) x + s,
	 * with x public and every product through gf_mul(). */
	for (b = 0; b < len; b++) {
		s = secret[b];
		for (i = 0; i < n; i++) {
			x = (uint8_t)(i + 1);
			y = coef[(m - 2) * len + b];
			for (j = m - 2; j >= 1; j--)
				y = gf_mul(y, x) ^ coef[(j - 1) * len + b];
			shares[i][b] = gf_mul(y, x) ^ s;
		}
	}
	r = 0;
out:
	OPENSSL_cleanse(coef, sizeof(coef));
	if (r != 0)
		for (i = 0; i < n; i++)
			OPENSSL_cleanse(shares[i], len);
	return r;
}

int
shamir_combine(const uint8_t *const *shares, const uint8_t *xs, unsigned k,
    size_t len, uint8_t *secret)
{
	uint8_t lag[255], tmp[SHAMIR_MAX_SECRET];
	uint8_t num, den, acc;
	unsigned i, j;
	size_t b;
	int r = CAIRN_E_INVAL;

	/* The output is cleared on failure rather than on entry: it may be
	 * one of the shares (restoring in place). */
	if (shares == NULL || xs == NULL || secret == NULL) {
		r = cairn_error(CAIRN_E_INVAL, "shamir_combine: no %s",
		    secret == NULL ? "output buffer" : "shares");
		goto out;
	}
	if (len < 1 || len > SHAMIR_MAX_SECRET) {
		r = cairn_error(CAIRN_E_INVAL, "shamir_combine: shares of "
		    "%zu bytes: want 1..%d", len, SHAMIR_MAX_SECRET);
		goto out;
	}
	if (k < 1 || k > 255) {
		r = cairn_error(CAIRN_E_INVAL, "shamir_combine: %s", k < 1 ?
		    "no shares" : "more than 255 shares: x would repeat");
		goto out;
	}
	for (j = 0; j < k; j++) {
		if (shares[j] == NULL) {
			r = cairn_error(CAIRN_E_INVAL, "shamir_combine: "
			    "share %u is missing", j + 1);
			goto out;
		}
		if (xs[j] == 0) {
			r = cairn_error(CAIRN_E_INVAL, "shamir_combine: "
			    "share %u has x = 0: shares are numbered from 1",
			    j + 1);
			goto out;
		}
		for (i = 0; i < j; i++)
			if (xs[i] == xs[j]) {
				r = cairn_error(CAIRN_E_INVAL,
				    "shamir_combine: shares %u and %u are both "
				    "share %u: give each share once", i + 1,
				    j + 1, xs[j]);
				goto out;
			}
	}

	/* The Lagrange basis at 0 depends on the x only, which are public;
	 * in characteristic 2, x_i - x_j is x_i ^ x_j. */
	for (j = 0; j < k; j++) {
		num = 1;
		den = 1;
		for (i = 0; i < k; i++) {
			if (i == j)
				continue;
			num = gf_mul(num, xs[i]);
			den = gf_mul(den, xs[i] ^ xs[j]);
		}
		lag[j] = gf_mul(num, gf_inv(den));
	}
	/* Into tmp first: `secret` may be one of the shares. */
	for (b = 0; b < len; b++) {
		acc = 0;
		for (j = 0; j < k; j++)
			acc ^= gf_mul(lag[j], shares[j][b]);
		tmp[b] = acc;
	}
	memcpy(secret, tmp, len);
	r = 0;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (r != 0 && secret != NULL && len <= SHAMIR_MAX_SECRET)
		OPENSSL_cleanse(secret, len);
	return r;
}

/* ---- shared by the formatter and the parser ------------------------ */

/* A hex digit's value, either case, or -1, without a branch or table on
 * the character (it is share data). */
static int
hexval(unsigned char ch)
{
	int c = ch, lc = ch | 0x20;
	int dig = ((('0' - 1) - c) & (c - ('9' + 1))) >> 8;
	int alpha = ((('a' - 1) - lc) & (lc - ('f' + 1))) >> 8;

	return (dig & (c - '0')) | (alpha & (lc - 'a' + 10)) | ~(dig | alpha);
}

/* A nibble as a lower-case hex digit, without a table. */
static char
hexdigit(unsigned v)
{
	return (char)(v + '0' + (((9 - (int)v) >> 8) & ('a' - '0' - 10)));
}

static int
is_lowerhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
is_upperhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Why the backup id is not 32 lower-case hex digits, or NULL. */
static const char *
backup_problem(const char *s, size_t n)
{
	size_t i;

	if (n != BACKUP_HEX)
		return "want 32 lower-case hex digits";
	for (i = 0; i < n; i++)
		if (!is_lowerhex(s[i]))
			return is_upperhex(s[i]) ? "the id is lower-case hex: "
			    "write a-f, not A-F" : "want 32 lower-case hex "
			    "digits (0-9, a-f)";
	return NULL;
}

/* Why a fingerprint is not "AB:CD:..." (32 upper-case pairs), or NULL. */
static const char *
fpr_problem(const char *s, size_t n)
{
	size_t i;

	if (n != FPR_LEN)
		return "want 32 pairs of upper-case hex digits separated by "
		    "':' (AB:CD:...)";
	for (i = 0; i < n; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return "want 32 pairs of upper-case hex digits "
				    "separated by ':' (AB:CD:...)";
		} else if (!is_upperhex(s[i]))
			return is_lowerhex(s[i]) ? "the fingerprint is "
			    "upper-case hex: write A-F, not a-f" : "want 32 "
			    "pairs of upper-case hex digits separated by ':' "
			    "(AB:CD:...)";
	}
	return NULL;
}

/*
 * Why a key label or custodian name is refused, in `why`, or 0 when it is
 * 1..SHAMIR_LABEL_MAX bytes of valid UTF-8 (shortest forms, no surrogates)
 * without control characters (C0, DEL, C1), line or paragraph separators,
 * or bidirectional controls that would make a printed name read
 * differently from its bytes, and without leading or trailing spaces,
 * which cannot be seen on paper.
 */
static int why_set(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set `why` and return -1, for the checks below. */
static int
why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

static int
label_problem(const char *s, size_t n, char *why, size_t whysize)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i, k, need;

	if (n == 0)
		return why_set(why, whysize, "is empty");
	if (n > SHAMIR_LABEL_MAX)
		return why_set(why, whysize, "is %zu bytes long: at most %d",
		    n, SHAMIR_LABEL_MAX);
	if (p[0] == ' ')
		return why_set(why, whysize, "starts with a space");
	if (p[n - 1] == ' ')
		return why_set(why, whysize, "ends with a space");
	for (i = 0; i < n; i += need) {
		if (p[i] < 0x80) {
			need = 1;
			cp = p[i];
		} else if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			need = 2;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 3;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 4;
			cp = p[i] & 0x07;
		} else
			return why_set(why, whysize, "is not UTF-8 (byte "
			    "0x%02x at %zu)", p[i], i + 1);
		if (need > n - i)
			return why_set(why, whysize, "is not UTF-8 (cut "
			    "short at byte %zu)", i + 1);
		for (k = 1; k < need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return why_set(why, whysize, "is not UTF-8 "
				    "(byte 0x%02x at %zu)", p[i + k],
				    i + k + 1);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return why_set(why, whysize, "is not UTF-8 (invalid "
			    "sequence at byte %zu)", i + 1);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return why_set(why, whysize, "contains the control "
			    "character U+%04lX", cp);
		if (cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
			return why_set(why, whysize, "contains the invisible "
			    "character U+%04lX", cp);
	}
	return 0;
}

/* Why i of n, any m is not a share, or NULL. */
static const char *
numbers_problem(unsigned i, unsigned n, unsigned m, char *why,
    size_t whysize)
{
	if (n < 2 || n > SHAMIR_MAX_SHARES)
		snprintf(why, whysize, "%u shares: the count must be 2..%d",
		    n, SHAMIR_MAX_SHARES);
	else if (i < 1 || i > n)
		snprintf(why, whysize, "share %u of %u: the index must be "
		    "1..%u", i, n, n);
	else if (m < 2)
		snprintf(why, whysize, "any %u restore: at least 2 shares "
		    "must be needed", m);
	else if (m > n)
		snprintf(why, whysize, "any %u of %u restore: the threshold "
		    "cannot exceed the count", m, n);
	else
		return NULL;
	return why;
}

/* The first byte of SHA-256 over one data line's bytes. */
static int
line_check(const uint8_t *data, size_t len, uint8_t *check)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	*check = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
	*check = md[0];
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* The first four bytes of SHA-256(header lines || data), as a number. */
static int
final_check(const char *hdr, size_t hdrlen, const uint8_t *data,
    size_t len, uint32_t *check)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r = CAIRN_E_CRYPTO;

	*check = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, hdr, hdrlen) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	*check = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3];
	r = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ---- format --------------------------------------------------------- */

/* A NUL-terminated field of `size` bytes: its length, or -1 unterminated. */
static int
field_len(const char *f, size_t size, size_t *len)
{
	const char *nul = memchr(f, '\0', size);

	if (nul == NULL)
		return -1;
	*len = (size_t)(nul - f);
	return 0;
}

static int
format_check_fields(const struct share *s)
{
	char why[128];
	const char *w;
	size_t n;

	if (field_len(s->backup, sizeof(s->backup), &n) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: backup: not "
		    "terminated");
	if ((w = backup_problem(s->backup, n)) != NULL)
		return cairn_error(CAIRN_E_INVAL, "share_format: backup: %s",
		    w);
	if (field_len(s->key, sizeof(s->key), &n) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: key: longer "
		    "than %d bytes", SHAMIR_LABEL_MAX);
	if (label_problem(s->key, n, why, sizeof(why)) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: key: the "
		    "label %s", why);
	if (field_len(s->key_sha256, sizeof(s->key_sha256), &n) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: key-sha256: "
		    "not terminated");
	if ((w = fpr_problem(s->key_sha256, n)) != NULL)
		return cairn_error(CAIRN_E_INVAL, "share_format: key-sha256: "
		    "%s", w);
	if (numbers_problem(s->index, s->count, s->threshold, why,
	    sizeof(why)) != NULL)
		return cairn_error(CAIRN_E_INVAL, "share_format: share: %s",
		    why);
	if (field_len(s->custodian, sizeof(s->custodian), &n) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: custodian: "
		    "longer than %d bytes", SHAMIR_LABEL_MAX);
	if (label_problem(s->custodian, n, why, sizeof(why)) != 0)
		return cairn_error(CAIRN_E_INVAL, "share_format: custodian: "
		    "the name %s", why);
	if (s->len < 1 || s->len > SHAMIR_MAX_SECRET)
		return cairn_error(CAIRN_E_INVAL, "share_format: %zu bytes of "
		    "data: want 1..%d", s->len, SHAMIR_MAX_SECRET);
	return 0;
}

/* Append to a buffer of SHARE_TEXT_MAX bytes; the fields are checked and
 * the bound is computed above, so running out is a bug. */
static int put(char *buf, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
put(char *buf, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + *pos, SHARE_TEXT_MAX - *pos, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= SHARE_TEXT_MAX - *pos)
		return cairn_error(CAIRN_E_INTERNAL, "share_format: the text "
		    "exceeds %d bytes", SHARE_TEXT_MAX);
	*pos += (size_t)k;
	return 0;
}

int
share_format(const struct share *s, char **text)
{
	char *buf = NULL;
	size_t pos = 0, hdrlen, b, nb, line;
	uint32_t fc;
	uint8_t lc;
	int r;

	if (text != NULL)
		*text = NULL;
	if (s == NULL || text == NULL)
		return cairn_error(CAIRN_E_INVAL, "share_format: no %s",
		    s == NULL ? "share" : "output");
	if ((r = format_check_fields(s)) != 0)
		return r;
	/* calloc: cairn_free_secret() wipes up to the NUL, and what lies
	 * beyond it must be zeros, not old heap contents. */
	if ((buf = calloc(1, SHARE_TEXT_MAX)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "share_format: out of "
		    "memory");
	if ((r = put(buf, &pos, "%s\nbackup: %s\nkey: %s\nkey-sha256: %s\n"
	    "share: %u of %u, any %u restore\ncustodian: %s\n", SHARE_MAGIC,
	    s->backup, s->key, s->key_sha256, s->index, s->count,
	    s->threshold, s->custodian)) != 0)
		goto out;
	hdrlen = pos;
	for (line = 0; line * LINE_BYTES < s->len; line++) {
		nb = s->len - line * LINE_BYTES;
		if (nb > LINE_BYTES)
			nb = LINE_BYTES;
		if ((r = put(buf, &pos, "data-%zu:", line + 1)) != 0)
			goto out;
		/* 5 characters per two bytes plus the check: the bound of
		 * SHARE_TEXT_MAX holds; hex without a table (key material). */
		for (b = 0; b < nb; b++) {
			if (b % 2 == 0)
				buf[pos++] = ' ';
			buf[pos++] = hexdigit(s->data[line * LINE_BYTES + b] >>
			    4);
			buf[pos++] = hexdigit(s->data[line * LINE_BYTES + b] &
			    0x0f);
		}
		if ((r = line_check(s->data + line * LINE_BYTES, nb,
		    &lc)) != 0 ||
		    (r = put(buf, &pos, "  check %02x\n", lc)) != 0)
			goto out;
	}
	if ((r = final_check(buf, hdrlen, s->data, s->len, &fc)) != 0 ||
	    (r = put(buf, &pos, "check: %08lx\n", (unsigned long)fc)) != 0)
		goto out;
	*text = buf; /* transferred */
	buf = NULL;
	r = 0;
out:
	if (buf != NULL)
		cairn_free_secret(buf, SHARE_TEXT_MAX);
	return r;
}

/* ---- parse ---------------------------------------------------------- */

struct pctx {
	const char *name;       /* for messages */
	unsigned line;          /* current line, from 1 */
	const char *pos, *end;  /* what is left of the input */
};

static int perr(const struct pctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "NAME line N: what is wrong: what to do". */
static int
perr(const struct pctx *c, const char *fmt, ...)
{
	char msg[CAIRN_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cairn_error(CAIRN_E_INVAL, "%s line %u: %s", c->name, c->line,
	    msg);
}

/* Input for a message: printable ASCII as is, anything else as \xNN, so
 * that a hostile file cannot put control characters into a log. */
static const char *
quote(char buf[QUOTE_MAX], const char *p, size_t n)
{
	size_t i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < n && i < QUOTE_IN; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", ch);
	}
	buf[o++] = '"';
	if (n > QUOTE_IN) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int
starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/* The lines of a share, in order, each with the start of its value. */
static const struct {
	const char *prefix;
	const char *what;       /* for "found X where Y belongs" */
	const char *shape;      /* for "want ..." */
} fields[] = {
	{ "backup: ", "the backup: line", "backup: <32 lower-case hex>" },
	{ "key: ", "the key: line", "key: <label of the backed-up key>" },
	{ "key-sha256: ", "the key-sha256: line",
	    "key-sha256: <AB:CD:... fingerprint>" },
	{ "share: ", "the share: line", "share: <i> of <n>, any <m> restore" },
	{ "custodian: ", "the custodian: line", "custodian: <name>" },
	{ "data-", "a data line", "data-<k>: xxxx xxxx ...  check yy" },
	{ "check: ", "the check: line", "check: <8 hex digits>" },
};
#define F_BACKUP 0
#define F_KEY 1
#define F_FPR 2
#define F_SHARE 3
#define F_CUSTODIAN 4
#define F_DATA 5
#define F_CHECK 6
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Which field a line starts like, for "found X where Y belongs": its
 * index in fields[], -2 for the first line, or -1. */
static int
field_of(const char *p, const char *end)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (starts(p, end, fields[i].prefix))
			return (int)i;
	if (starts(p, end, SHARE_MAGIC))
		return -2;
	return -1;
}

/*
 * The next line into [*ls, *le) without its "\n": 1, or 0 at the end of
 * the input, or an error when it breaks a rule every line keeps (a final
 * newline, not blank, no CR, no control character, no trailing space).
 */
static int
next_line(struct pctx *c, const char **ls, const char **le)
{
	const char *p = c->pos, *nl, *q;

	if (p == c->end)
		return 0;
	c->line++;
	if ((nl = memchr(p, '\n', (size_t)(c->end - p))) == NULL)
		return perr(c, "the file ends in the middle of this line: it "
		    "is truncated, or was saved without a newline at the "
		    "end: copy the rest from the printed share");
	*ls = p;
	*le = nl;
	c->pos = nl + 1;
	if (nl == p)
		return perr(c, "blank line: a share has none: delete it");
	if (memchr(p, '\r', (size_t)(nl - p)) != NULL)
		return perr(c, "carriage return (a Windows line end): save "
		    "the file with Unix line ends (\"\\n\" only)");
	if (nl[-1] == ' ')
		return perr(c, "space at the end of the line: delete it");
	for (q = p; q < nl; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return perr(c, "control character 0x%02x in column "
			    "%zu: retype the line as printed",
			    (unsigned char)*q, (size_t)(q - p) + 1);
	return 1;
}

/* The next line, which must be field `want`: its value in [*v, *ve). */
static int
header_line(struct pctx *c, int want, const char **v, const char **ve)
{
	char qb[QUOTE_MAX];
	const char *ls = NULL, *le = NULL;
	int r, other;

	if ((r = next_line(c, &ls, &le)) < 0)
		return r;
	if (r == 0) {
		c->line++;
		return perr(c, "the file ends before %s: it is truncated: "
		    "copy the rest from the printed share", fields[want].what);
	}
	if (!starts(ls, le, fields[want].prefix)) {
		other = field_of(ls, le);
		if (other >= 0)
			return perr(c, "found %s where %s belongs: a line is "
			    "missing, repeated or out of order: compare with "
			    "the printed share", fields[other].what,
			    fields[want].what);
		if (other == -2)
			return perr(c, "found the first line again where %s "
			    "belongs: a line is repeated: compare with the "
			    "printed share", fields[want].what);
		return perr(c, "want \"%s\", have %s: compare with the "
		    "printed share", fields[want].shape,
		    quote(qb, ls, (size_t)(le - ls)));
	}
	*v = ls + strlen(fields[want].prefix);
	*ve = le;
	return 0;
}

/*
 * A decimal number at *p without a leading zero, at most 3 digits (the
 * largest number in a share is 16), advancing *p.
 */
static int
parse_number(struct pctx *c, const char **p, const char *end,
    const char *what, unsigned *v)
{
	char qb[QUOTE_MAX];
	const char *q = *p;
	unsigned val = 0;

	while (q < end && *q >= '0' && *q <= '9') {
		if (q - *p < 4)
			val = val * 10 + (unsigned)(*q - '0');
		q++;
	}
	if (q == *p)
		return perr(c, "want \"share: <i> of <n>, any <m> restore\": "
		    "the %s is not a number: have %s", what,
		    quote(qb, *p, (size_t)(end - *p)));
	if (q - *p > 1 && **p == '0')
		return perr(c, "the %s %s has a leading zero: write it "
		    "without (as printed)", what,
		    quote(qb, *p, (size_t)(q - *p)));
	if (q - *p > 3)
		return perr(c, "the %s %s is out of range: a share has at "
		    "most %d", what, quote(qb, *p, (size_t)(q - *p)),
		    SHAMIR_MAX_SHARES);
	*v = val;
	*p = q;
	return 0;
}

static int
expect_lit(struct pctx *c, const char **p, const char *end, const char *lit,
    const char *ls)
{
	char qb[QUOTE_MAX];

	if (!starts(*p, end, lit))
		return perr(c, "want \"%s\", have %s: compare with the "
		    "printed share", fields[F_SHARE].shape,
		    quote(qb, ls, (size_t)(end - ls)));
	*p += strlen(lit);
	return 0;
}

/* "share: I of N, any M restore" */
static int
parse_share_line(struct pctx *c, const char *v, const char *end,
    struct share *out)
{
	const char *ls = v - strlen(fields[F_SHARE].prefix);
	char why[128], qb[QUOTE_MAX];
	int r;

	if ((r = parse_number(c, &v, end, "index", &out->index)) != 0 ||
	    (r = expect_lit(c, &v, end, " of ", ls)) != 0 ||
	    (r = parse_number(c, &v, end, "count", &out->count)) != 0 ||
	    (r = expect_lit(c, &v, end, ", any ", ls)) != 0 ||
	    (r = parse_number(c, &v, end, "threshold", &out->threshold)) !=
	    0 ||
	    (r = expect_lit(c, &v, end, " restore", ls)) != 0)
		return r;
	if (v != end)
		return perr(c, "want \"%s\", have %s: compare with the printed "
		    "share", fields[F_SHARE].shape,
		    quote(qb, ls, (size_t)(end - ls)));
	if (numbers_problem(out->index, out->count, out->threshold, why,
	    sizeof(why)) != NULL)
		return perr(c, "share: %s: compare with the printed share",
		    why);
	return 0;
}

static int
parse_label(struct pctx *c, const char *v, const char *end,
    const char *what, char *dst)
{
	char why[128];

	if (label_problem(v, (size_t)(end - v), why, sizeof(why)) != 0)
		return perr(c, "%s %s: retype it as printed", what, why);
	memcpy(dst, v, (size_t)(end - v));
	dst[end - v] = '\0';
	return 0;
}

/*
 * The data part of "data-k: xxxx xxxx ...  check yy" (v is after "data-k: ")
 * into buf (16 bytes): its byte count, and whether it ends in a group of
 * two digits; then the line check.
 */
static int
parse_data_line(struct pctx *c, unsigned k, const char *v, const char *end,
    uint8_t buf[LINE_BYTES], size_t *nbytes, int *odd)
{
	char qb[QUOTE_MAX];
	const char *q;
	size_t nb = 0, glen, i;
	unsigned g = 0;
	int hi, lo, want, chk;
	uint8_t have;
	int r;

	*nbytes = 0;
	*odd = 0;
	for (;;) {
		for (q = v; q < end && *q != ' '; q++)
			;
		glen = (size_t)(q - v);
		g++;
		if (glen == 0)
			return perr(c, "data-%u: two spaces where group %u "
			    "belongs: groups are separated by one space", k,
			    g);
		if (glen == 5 && memcmp(v, "check", 5) == 0)
			return perr(c, "data-%u: want two spaces before "
			    "\"check\": copy the line from the printed share",
			    k);
		for (i = 0; i < glen; i++)
			if (hexval((unsigned char)v[i]) < 0)
				return perr(c, "data-%u: group %u %s is not "
				    "hex: the digits are 0-9 and a-f: compare "
				    "it with the printed share", k, g,
				    quote(qb, v, glen));
		if (glen != 4 && glen != 2)
			return perr(c, "data-%u: group %u %s has %zu digits, "
			    "not four: compare it with the printed share", k,
			    g, quote(qb, v, glen), glen);
		if (g > LINE_BYTES / 2)
			return perr(c, "data-%u: more than %d groups: a line "
			    "holds %d bytes: compare it with the printed share",
			    k, LINE_BYTES / 2, LINE_BYTES);
		for (i = 0; i < glen; i += 2) {
			hi = hexval((unsigned char)v[i]);
			lo = hexval((unsigned char)v[i + 1]);
			buf[nb++] = (uint8_t)(hi << 4 | lo);
		}
		if (q == end)
			return perr(c, "data-%u: the line ends without "
			    "\"  check yy\": copy it from the printed share",
			    k);
		if (end - q >= 2 && q[1] == ' ')
			break;
		if (glen == 2)
			return perr(c, "data-%u: group %u has two digits but "
			    "is not the last: only the last group of a share "
			    "may: compare it with the printed share", k, g);
		v = q + 1;
	}
	if (glen == 2)
		*odd = 1;
	v = q + 2;
	if (!starts(v, end, "check ") || end - v != 8 ||
	    hexval((unsigned char)v[6]) < 0 ||
	    hexval((unsigned char)v[7]) < 0)
		return perr(c, "data-%u: want \"  check yy\" (two spaces, "
		    "\"check\", two hex digits) after the data, have %s", k,
		    quote(qb, q, (size_t)(end - q)));
	chk = hexval((unsigned char)v[6]) << 4 | hexval((unsigned char)v[7]);
	if ((r = line_check(buf, nb, &have)) != 0)
		return r;
	want = chk;
	if (want != have)
		return perr(c, "data-%u: check is %02x, the line's data gives "
		    "%02x: a digit on this line is wrong: compare it with the "
		    "printed share", k, (unsigned)want, (unsigned)have);
	*nbytes = nb;
	return 0;
}

/* "data-k: " with k as expected: the value after it. */
static int
data_prefix(struct pctx *c, const char *ls, const char *le, unsigned want,
    const char **v)
{
	char qb[QUOTE_MAX];
	const char *p = ls + strlen(fields[F_DATA].prefix), *q;
	unsigned k = 0;

	for (q = p; q < le && *q >= '0' && *q <= '9'; q++)
		if (q - p < 4)
			k = k * 10 + (unsigned)(*q - '0');
	if (q == p || !starts(q, le, ": "))
		return perr(c, "want \"data-%u: xxxx xxxx ...\", have %s: "
		    "compare with the printed share", want,
		    quote(qb, ls, (size_t)(le - ls)));
	if (q - p > 1 && *p == '0')
		return perr(c, "data-%.*s: the line number has a leading "
		    "zero: write data-%u", (int)(q - p), p, want);
	if (q - p > 4 || k != want)
		return perr(c, "data-%.*s where data-%u belongs: a data line "
		    "is missing, repeated or out of order: compare with the "
		    "printed share", (int)(q - p > 4 ? 4 : q - p), p, want);
	*v = q + 2;
	return 0;
}

int
share_parse(const char *text, size_t len, const char *name,
    struct share *out)
{
	struct pctx c;
	char qb[QUOTE_MAX];
	uint8_t buf[LINE_BYTES];
	const char *ls = NULL, *le = NULL, *v = NULL, *ve = NULL, *hdrend;
	size_t nb = 0, i;
	unsigned k, shortline = 0;
	uint32_t have, want;
	int r, other, odd = 0, digit;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.name = name != NULL ? name : "share";
	if (out == NULL || (text == NULL && len > 0))
		return cairn_error(CAIRN_E_INVAL, "share_parse: %s: no %s",
		    c.name, out == NULL ? "output" : "text");
	if (len == 0) {
		c.line = 1;
		r = perr(&c, "the file is empty: want a Cairn key backup "
		    "share");
		goto out;
	}
	c.pos = text;
	c.end = text + len;
	if ((r = next_line(&c, &ls, &le)) < 0)
		goto out;
	if ((size_t)(le - ls) != strlen(SHARE_MAGIC) ||
	    memcmp(ls, SHARE_MAGIC, strlen(SHARE_MAGIC)) != 0) {
		r = perr(&c, "not a Cairn key backup share: the first line "
		    "must be \"%s\", have %s", SHARE_MAGIC,
		    quote(qb, ls, (size_t)(le - ls)));
		goto out;
	}

	if ((r = header_line(&c, F_BACKUP, &v, &ve)) != 0)
		goto out;
	if (backup_problem(v, (size_t)(ve - v)) != NULL) {
		r = perr(&c, "backup: %s (have %s): compare with the printed "
		    "share", backup_problem(v, (size_t)(ve - v)),
		    quote(qb, v, (size_t)(ve - v)));
		goto out;
	}
	memcpy(out->backup, v, BACKUP_HEX);

	if ((r = header_line(&c, F_KEY, &v, &ve)) != 0 ||
	    (r = parse_label(&c, v, ve, "key: the label", out->key)) != 0)
		goto out;

	if ((r = header_line(&c, F_FPR, &v, &ve)) != 0)
		goto out;
	if (fpr_problem(v, (size_t)(ve - v)) != NULL) {
		r = perr(&c, "key-sha256: %s: compare with the printed share",
		    fpr_problem(v, (size_t)(ve - v)));
		goto out;
	}
	memcpy(out->key_sha256, v, FPR_LEN);

	if ((r = header_line(&c, F_SHARE, &v, &ve)) != 0 ||
	    (r = parse_share_line(&c, v, ve, out)) != 0)
		goto out;

	if ((r = header_line(&c, F_CUSTODIAN, &v, &ve)) != 0 ||
	    (r = parse_label(&c, v, ve, "custodian: the name",
	    out->custodian)) != 0)
		goto out;
	hdrend = c.pos;

	/* Data lines data-1, data-2, ... then the check. */
	for (k = 1;; k++) {
		if ((r = next_line(&c, &ls, &le)) < 0)
			goto out;
		if (r == 0) {
			c.line++;
			r = perr(&c, "the file ends before its check: line: it "
			    "is truncated: copy the rest from the printed "
			    "share");
			goto out;
		}
		other = field_of(ls, le);
		if (other == F_CHECK)
			break;
		if (other != F_DATA) {
			if (other >= 0 || other == -2)
				r = perr(&c, "found %s among the data lines: a "
				    "line is repeated or out of order: compare "
				    "with the printed share", other >= 0 ?
				    fields[other].what : "the first line");
			else
				r = perr(&c, "want \"data-%u: ...\" or "
				    "\"check: ...\", have %s: compare with the "
				    "printed share", k,
				    quote(qb, ls, (size_t)(le - ls)));
			goto out;
		}
		/* A line before this one held fewer than 16 bytes: only the
		 * last may, so a group is missing there. */
		if (shortline != 0) {
			c.line = shortline;
			r = perr(&c, "data-%u holds %zu bytes but is not the "
			    "last data line: a line holds %d: a group is "
			    "missing or too short on this line: compare it "
			    "with the printed share", k - 1,
			    out->len - (k - 2) * LINE_BYTES, LINE_BYTES);
			goto out;
		}
		if ((r = data_prefix(&c, ls, le, k, &v)) != 0)
			goto out;
		if (k > DATA_LINES_MAX) {
			r = perr(&c, "data-%u: more than %d bytes of data: a "
			    "share has at most %d data lines: compare with "
			    "the printed share", k, SHAMIR_MAX_SECRET,
			    DATA_LINES_MAX);
			goto out;
		}
		if ((r = parse_data_line(&c, k, v, le, buf, &nb, &odd)) != 0)
			goto out;
		memcpy(out->data + out->len, buf, nb);
		out->len += nb;
		if (nb < LINE_BYTES || odd)
			shortline = c.line;
	}
	if (k == 1) {
		r = perr(&c, "the check: line comes before any data line: the "
		    "data lines are missing: copy them from the printed "
		    "share");
		goto out;
	}

	/* "check: cccccccc", then nothing. */
	v = ls + strlen(fields[F_CHECK].prefix);
	want = 0;
	digit = 0;
	for (i = 0; i < 8 && le - v == 8 && digit >= 0; i++)
		if ((digit = hexval((unsigned char)v[i])) >= 0)
			want = want << 4 | (uint32_t)digit;
	if (le - v != 8 || digit < 0) {
		r = perr(&c, "want \"check: \" and eight hex digits, have %s: "
		    "compare with the printed share",
		    quote(qb, ls, (size_t)(le - ls)));
		goto out;
	}
	if ((r = final_check(text, (size_t)(hdrend - text), out->data,
	    out->len, &have)) != 0)
		goto out;
	if (have != want) {
		r = perr(&c, "check is %08lx, the share gives %08lx: a line "
		    "is missing, repeated, swapped or changed (or this one "
		    "is mistyped): compare every line with the printed share",
		    (unsigned long)want, (unsigned long)have);
		goto out;
	}
	if (c.pos != c.end) {
		c.line++;
		r = perr(&c, "text after the check: line, which is the last "
		    "line of a share: delete everything after it");
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r != 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return r;
}
