/*
 * shamir.h: Shamir's secret sharing over GF(2^8), and printable share
 * files for key-backup custodians.
 *
 * The root key is backed up wrapped, inside the HSM, under a random
 * 256-bit wrapping key; that wrapping key is split into N shares, any M
 * of which rebuild it (M-1 reveal nothing).  Each share goes to one
 * custodian as a text file that can also be printed and typed back:
 *
 *   CAIRN KEY BACKUP SHARE v1
 *   backup: <32 lowercase hex: the backup's random id>
 *   key: <label of the backed-up key>
 *   key-sha256: <AB:CD:... SHA-256 of its SubjectPublicKeyInfo>
 *   share: <i> of <n>, any <m> restore
 *   custodian: <name>
 *   data-1: xxxx xxxx xxxx xxxx xxxx xxxx xxxx xxxx  check yy
 *   data-2: ...
 *   check: <8 lowercase hex>
 *
 * data lines hold 16 bytes each as eight groups of four hex digits (the
 * last line may be shorter); "check yy" is the first byte of the SHA-256
 * of that line's data bytes, so a mistyped digit is caught on its line;
 * the final check is the first four bytes of the SHA-256 of every field
 * and the data (the exact bytes are defined in shamir.c), so a swapped or
 * missing line is caught.  Every line ends with "\n"; nothing else is
 * allowed (no blank lines, no trailing spaces).
 */
#ifndef CAIRN_SHAMIR_H
#define CAIRN_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define SHAMIR_MAX_SHARES 16    /* n; shares are x = 1..n */
#define SHAMIR_MAX_SECRET 64    /* bytes */
#define SHAMIR_LABEL_MAX 128    /* key label, custodian name (bytes) */

/*
 * shamir_split: split `len` bytes of `secret` into `n` shares of `len`
 * bytes each, any `m` of which recombine (2 <= m <= n <= 16, 1 <= len <=
 * 64).  `shares` is n buffers of `len` bytes; share i is for x = i + 1.
 * Coefficients come from the CSPRNG and are wiped.  Returns 0 or
 * CAIRN_E_INVAL / CAIRN_E_CRYPTO.
 */
int shamir_split(const uint8_t *secret, size_t len, unsigned m, unsigned n,
    uint8_t *const *shares);

/*
 * shamir_combine: rebuild the secret from `k` shares `shares[j]` taken at
 * x = `xs[j]` (distinct, 1..255) by Lagrange interpolation at 0.  With
 * fewer than the threshold the result is garbage, not an error: callers
 * check the threshold recorded in the shares first.  Returns 0 or
 * CAIRN_E_INVAL (k < 1, repeated or zero x).
 */
int shamir_combine(const uint8_t *const *shares, const uint8_t *xs,
    unsigned k, size_t len, uint8_t *secret);

struct share {
	char backup[33];                       /* hex id */
	char key[SHAMIR_LABEL_MAX + 1];
	char key_sha256[96];                   /* "AB:CD:..." */
	unsigned index, count, threshold;      /* i of n, any m */
	char custodian[SHAMIR_LABEL_MAX + 1];
	uint8_t data[SHAMIR_MAX_SECRET];
	size_t len;
};

/*
 * share_format: the text of `s` (format above) in a new NUL-terminated
 * buffer (free with cairn_free_secret: it holds a share).  Refuses fields
 * that would not parse back (newlines or control characters in names,
 * out-of-range numbers): CAIRN_E_INVAL.
 */
int share_format(const struct share *s, char **text);

/*
 * share_parse: parse a share file of `len` bytes (not NUL-terminated);
 * `name` is used in messages: "NAME line N: ...": a mistyped digit
 * ("data-2: check is 4f, the line's data gives 9a: a digit on this line is
 * wrong"), a wrong final check, a missing or extra line, numbers out of
 * range (index > count, threshold > count, threshold < 2).  Returns 0 or
 * CAIRN_E_INVAL.
 */
int share_parse(const char *text, size_t len, const char *name,
    struct share *out);

#endif /* CAIRN_SHAMIR_H */
