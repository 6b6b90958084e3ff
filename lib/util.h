/*
 * util.h: small helpers shared by every part of Cairn.
 */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * cairn_hex: write `len` bytes of `in` as lowercase hex into `out`, which
 * must hold 2*len+1 bytes, with `sep` (or nothing when sep is 0) between
 * bytes; then out must hold 3*len bytes.  Returns out.
 */
char *cairn_hex(char *out, const uint8_t *in, size_t len, char sep);

/*
 * cairn_spki_sha256: SHA-256 of the DER SubjectPublicKeyInfo of `pkey`,
 * the fingerprint witnesses read aloud and `openssl pkey -pubout -outform
 * DER | sha256sum` reproduces.  `out` receives 32 bytes.
 * Returns 0 or CAIRN_E_CRYPTO.
 */
int cairn_spki_sha256(EVP_PKEY *pkey, uint8_t out[32]);

/*
 * cairn_fingerprint_str: the SHA-256 SPKI fingerprint as upper-case hex
 * pairs separated by ':' (95 characters + NUL), the form `openssl x509
 * -fingerprint` prints.  `out` must hold 96 bytes.  Returns 0 or
 * CAIRN_E_CRYPTO.
 */
#define CAIRN_FPR_STRLEN 96
int cairn_fingerprint_str(EVP_PKEY *pkey, char out[CAIRN_FPR_STRLEN]);

/*
 * cairn_read_file: read a whole regular file of at most `max` bytes into a
 * new NUL-terminated buffer (*out, length *outlen; free with free(), or
 * cairn_free_secret() when it held a secret).  Refuses symlinks
 * (O_NOFOLLOW) and non-regular files.  Returns 0, CAIRN_E_IO or
 * CAIRN_E_TOO_LARGE.
 */
int cairn_read_file(const char *path, size_t max, char **out, size_t *outlen);

/*
 * cairn_read_cert / cairn_read_crl: read a certificate or a CRL from a
 * file in PEM or DER (at most 1 MiB, or 64 MiB for a CRL; DER with
 * nothing after it).  *out is new (X509_free / X509_CRL_free).  Returns 0,
 * CAIRN_E_IO / CAIRN_E_TOO_LARGE, or CAIRN_E_INVAL ("PATH is not a
 * certificate (PEM or DER)").
 */
int cairn_read_cert(const char *path, X509 **out);
int cairn_read_crl(const char *path, X509_CRL **out);

/* cairn_free_secret: wipe `len` bytes (or strlen+1 when len is 0) and free. */
void cairn_free_secret(void *p, size_t len);

/* cairn_strlcpy: BSD strlcpy; returns strlen(src). */
size_t cairn_strlcpy(char *dst, const char *src, size_t size);

/*
 * cairn_b64_decode: strict standard base64 (RFC 4648 section 4): padding
 * required, no whitespace, and the bits that padding leaves over must be
 * zero, so one value has one spelling.  Returns 0 and *out (new, free();
 * *outlen bytes), or -1.
 */
int cairn_b64_decode(const char *s, size_t len, uint8_t **out,
    size_t *outlen);

/* cairn_hexdigit / cairn_b64digit: the value of one hex digit (either
 * case) or one standard base64 character ('+', '/'), or -1. */
int cairn_hexdigit(int c);
int cairn_b64digit(int c);

/* cairn_sha256_hex: SHA-256 of `len` bytes as 64 lowercase hex digits;
 * 0, or CAIRN_E_CRYPTO (then `out` holds 64 zeros). */
int cairn_sha256_hex(const void *buf, size_t len, char out[65]);

/*
 * cairn_name_text: `n` as RFC 2253 text (most specific first), UTF-8
 * kept as it is; with `escape` the RFC 2253 special characters are
 * backslash-escaped (text for machines), without it values are shown as
 * they are (text for people, only ever shown escaped for its medium).
 * New string (free()), or NULL.
 */
char *cairn_name_text(X509_NAME *n, int escape);

/* cairn_utc_time: `t` (seconds since the epoch) as "2026-01-31T12:00:00Z"
 * in `buf`, or "-" for 0; returns buf or the "-". */
const char *cairn_utc_time(long long t, char buf[32]);

#endif /* CAIRN_UTIL_H */
