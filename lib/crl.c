/*
 * crl.c: CRLs written as a stream, so that a million revoked certificates
 * cost no more memory than ten.
 *
 * OpenSSL's X509_CRL wants every entry as an object before it encodes or
 * signs anything.  Here the DER is produced by hand, piece by piece, and
 * only these pieces are ever in memory: the fixed parts of the TBSCertList
 * (signature algorithm, issuer, times, extensions), one entry (at most 56
 * bytes), and a write buffer.  The work is:
 *
 *   1. Check the parameters; refuse an existing output before anything
 *      else happens (FILEIO_REPLACE allows replacing).  Open a scratch
 *      file beside the output, unlinked at once so a crash leaves nothing.
 *   2. Pass 1 over the source: validate each entry, add up the lengths
 *      (DER lengths come before contents, so the total must be known
 *      before the first byte is written), and hash the entries' DER.
 *   3. Pass 2: write the TBSCertList to the scratch file, feeding every
 *      byte to EVP_DigestSign as it goes; the entries must hash as in
 *      pass 1 (a source that changed in between is caught, whatever the
 *      change).
 *   4. Sign: one private-key operation, on the token for a token key.
 *   5. Assemble the CRL in a temporary file beside the output: the outer
 *      header (its length needs the signature's, which for ECDSA is known
 *      only now), the TBS copied from the scratch file, the algorithm, the
 *      signature.  fsync.
 *   6. Re-read the temporary file and verify its signature with the
 *      issuer's public key: what is published is what was checked, and a
 *      key that does not match the issuer is caught (CAIRN_E_LINT).
 *   7. link() (or rename() when replacing) into place, fsync the
 *      directory: lib/fileio.c's fileio_write_atomic(), for a file that is
 *      written as a stream instead of from one buffer.
 *
 * The signature AlgorithmIdentifier comes from the key type and the
 * digest through OpenSSL's table (OBJ_find_sigid_by_algs), with a NULL
 * parameter for RSA PKCS#1 v1.5 (RFC 4055 section 5) and none for ECDSA
 * (RFC 5758 section 3.2), as X509_CRL_sign() would encode it.  Asking the
 * key's EVP_PKEY_CTX (OSSL_SIGNATURE_PARAM_ALGORITHM_ID) is not possible:
 * a token key is a legacy key with our own RSA_METHOD / EC_KEY_METHOD,
 * which no provider knows.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "lib/crl.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/profile.h"

/*
 * Largest CRL written.  A CRL entry takes 20..56 bytes (about 36 with a
 * 16-byte serial and no reason), so 4 GiB holds over seventy million
 * entries, far beyond any CA Cairn will run; the bound keeps every length
 * well inside the 64-bit arithmetic below, and a broken source (one that
 * never ends) from filling the disk.  It equals CAIRN_MEDIA_FILE_MAX, the
 * largest file signed media carry.  (Belongs in lib/limits.h as
 * CAIRN_CRL_FILE_MAX.)
 */
#define CRL_FILE_MAX (4LL * 1024 * 1024 * 1024)

/* CRLs are public documents. */
#define CRL_FILE_MODE 0644

/* Write buffer: large enough that write() and the digest see big chunks,
 * small enough not to matter (a tuning figure, not a limit). */
#define CRL_IO_BUF (64 * 1024)

/* The largest DER entry: SEQUENCE(2) { INTEGER(2 + 21) GeneralizedTime(17)
 * SEQUENCE OF Extension(14) }. */
#define ENTRY_DER_MAX 56

/*
 * Times: RFC 5280 5.1.2.4 says UTCTime through 2049 and GeneralizedTime
 * from 2050.  UTCTime cannot say a year before 1950 and GeneralizedTime
 * none after 9999, so those are refused.
 */
#define TIME_MIN (-631152000LL)          /* 1950-01-01T00:00:00Z */
#define TIME_GENERALIZED 2524608000LL    /* 2050-01-01T00:00:00Z */
#define TIME_MAX 253402300799LL          /* 9999-12-31T23:59:59Z */

/* Serial numbers: RFC 5280 4.1.2.2, at most 20 octets. */
#define SERIAL_MAX 20

/* The parts of a TBSCertList computed once, before the passes. */
struct tbs_fixed {
	uint8_t *alg;               /* signature AlgorithmIdentifier */
	size_t alglen;
	uint8_t *issuer;            /* issuer Name */
	size_t issuerlen;
	uint8_t this_update[17], next_update[17];
	size_t this_len, next_len;
	uint8_t exts[64];           /* [0] EXPLICIT crlExtensions */
	size_t extslen;
};

/* What a pass over the source found. */
struct pass_sum {
	uint64_t n;                 /* entries */
	uint64_t len;               /* bytes of their DER */
	uint8_t digest[EVP_MAX_MD_SIZE];
};

/* A buffered writer that may also feed a signing context. */
struct writer {
	int fd;
	EVP_MD_CTX *sign;           /* NULL: write only */
	uint8_t *buf;
	size_t n;
	uint64_t total;             /* bytes accepted so far */
	const char *what;           /* for messages */
};

/* ---- DER ------------------------------------------------------------ */

/* Bytes taken by a DER length (X.690 8.1.3: short form below 128). */
static size_t
der_len_size(uint64_t len)
{
	size_t n = 1;

	if (len < 128)
		return 1;
	for (; len > 0; len >>= 8)
		n++;
	return n;
}

/* Bytes taken by a whole TLV with `len` bytes of content. */
static uint64_t
der_tlv_size(uint64_t len)
{
	return 1 + der_len_size(len) + len;
}

/* Write identifier and length; return the bytes written (at most 10). */
static size_t
der_hdr(uint8_t *out, uint8_t tag, uint64_t len)
{
	size_t i, k;

	out[0] = tag;
	if (len < 128) {
		out[1] = (uint8_t)len;
		return 2;
	}
	k = der_len_size(len) - 1;
	out[1] = (uint8_t)(0x80 | k);
	for (i = 0; i < k; i++)
		out[2 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
	return 2 + k;
}

/*
 * Read an identifier and length from `b` (`avail` bytes); 0 when it is
 * not `tag` with a definite length of at most 8 bytes.  Only for reading
 * back what this file wrote.
 */
static int
der_hdr_parse(const uint8_t *b, size_t avail, uint8_t tag, uint64_t *len,
    size_t *hlen)
{
	size_t i, k;

	if (avail < 2 || b[0] != tag)
		return 0;
	if (b[1] < 0x80) {
		*len = b[1];
		*hlen = 2;
		return 1;
	}
	k = b[1] & 0x7f;
	if (k == 0 || k > 8 || avail < 2 + k)
		return 0;
	*len = 0;
	for (i = 0; i < k; i++)
		*len = (*len << 8) | b[2 + i];
	*hlen = 2 + k;
	return 1;
}

/* ---- times ---------------------------------------------------------- */

static int
time_ok(long long t)
{
	return t >= TIME_MIN && t <= TIME_MAX;
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian; Howard
 * Hinnant's civil_from_days): no time zone, no libc time_t range. */
static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static void
put_digits(uint8_t *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Encode `t` (time_ok) as UTCTime "YYMMDDHHMMSSZ" before 2050, else
 * GeneralizedTime "YYYYMMDDHHMMSSZ"; return the bytes written (15, 17).
 */
static size_t
time_der(uint8_t *out, long long t)
{
	long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	long long secs = t - days * 86400, y;
	unsigned m, d;
	uint8_t *p;

	civil_from_days(days, &y, &m, &d);
	if (t < TIME_GENERALIZED) {
		out[0] = V_ASN1_UTCTIME;
		out[1] = 13;
		put_digits(out + 2, (unsigned)(y % 100), 2);
		p = out + 4;
	} else {
		out[0] = V_ASN1_GENERALIZEDTIME;
		out[1] = 15;
		put_digits(out + 2, (unsigned)y, 4);
		p = out + 6;
	}
	put_digits(p, m, 2);
	put_digits(p + 2, d, 2);
	put_digits(p + 4, (unsigned)(secs / 3600), 2);
	put_digits(p + 6, (unsigned)(secs / 60 % 60), 2);
	put_digits(p + 8, (unsigned)(secs % 60), 2);
	p[10] = 'Z';
	return (size_t)(p + 11 - out);
}

/* ---- entries -------------------------------------------------------- */

/* TBSCertList version: INTEGER 1, v2 (RFC 5280 5.1.2.1: extensions). */
static const uint8_t tbs_version[3] = { 0x02, 0x01, 0x01 };

/* Extensions of an entry with a reasonCode: SEQUENCE OF { SEQUENCE {
 * OID 2.5.29.21, OCTET STRING { ENUMERATED } } }; the value follows. */
static const uint8_t reason_ext[] = {
	0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15,
	0x04, 0x03, 0x0a, 0x01,
};

static int
entry_check(const struct crl_entry *e, uint64_t i)
{
	unsigned long long idx = (unsigned long long)i;

	if (e->serial_len < 1 || e->serial_len > SERIAL_MAX)
		return cairn_error(CAIRN_E_INVAL, "revoked entry %llu "
		    "(0-based): serial of %zu bytes; RFC 5280 4.1.2.2 allows "
		    "1..%d", idx, e->serial_len, SERIAL_MAX);
	if (e->serial[0] == 0)
		return cairn_error(CAIRN_E_INVAL, "revoked entry %llu "
		    "(0-based): serial %s", idx, e->serial_len == 1 ?
		    "is zero (RFC 5280 4.1.2.2: positive)" :
		    "has a leading zero byte (give the magnitude's bytes)");
	if (!time_ok(e->revoked_at))
		return cairn_error(CAIRN_E_INVAL, "revoked entry %llu "
		    "(0-based): revocation time %lld is outside 1950..9999",
		    idx, e->revoked_at);
	if (e->reason < -1 || e->reason > 10 || e->reason == 7)
		return cairn_error(CAIRN_E_INVAL, "revoked entry %llu "
		    "(0-based): reason %d; RFC 5280 5.3.1 allows 0..10 but 7, "
		    "or -1 for none", idx, e->reason);
	return 0;
}

/* Encode a checked entry; return its size (at most ENTRY_DER_MAX). */
static size_t
entry_der(uint8_t *out, const struct crl_entry *e)
{
	int pad = (e->serial[0] & 0x80) != 0;
	size_t ilen = e->serial_len + (size_t)pad;
	size_t tlen = e->revoked_at < TIME_GENERALIZED ? 15 : 17;
	size_t clen = 2 + ilen + tlen + (e->reason >= 0 ?
	    sizeof(reason_ext) + 1 : 0);
	uint8_t *p = out;

	/* Every part is below 128 bytes: short-form lengths throughout. */
	*p++ = 0x30;
	*p++ = (uint8_t)clen;
	*p++ = V_ASN1_INTEGER;
	*p++ = (uint8_t)ilen;
	if (pad)
		*p++ = 0;
	memcpy(p, e->serial, e->serial_len);
	p += e->serial_len;
	p += time_der(p, e->revoked_at);
	if (e->reason >= 0) {
		memcpy(p, reason_ext, sizeof(reason_ext));
		p += sizeof(reason_ext);
		*p++ = (uint8_t)e->reason;
	}
	return (size_t)(p - out);
}

/* ---- writing -------------------------------------------------------- */

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t k;

	while (len > 0) {
		k = write(fd, p, len);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int
writer_flush(struct writer *w)
{
	if (w->n == 0)
		return 0;
	if (w->sign != NULL && EVP_DigestSignUpdate(w->sign, w->buf, w->n) !=
	    1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing the CRL "
		    "for its signature");
	if (write_all(w->fd, w->buf, w->n) != 0)
		return cairn_error(CAIRN_E_IO, "writing %s: %s", w->what,
		    errno != 0 ? strerror(errno) : "short write");
	w->n = 0;
	return 0;
}

static int
writer_put(struct writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t k;
	int r;

	while (len > 0) {
		if (w->n == CRL_IO_BUF && (r = writer_flush(w)) != 0)
			return r;
		k = CRL_IO_BUF - w->n;
		if (k > len)
			k = len;
		memcpy(w->buf + w->n, p, k);
		w->n += k;
		w->total += k;
		p += k;
		len -= k;
	}
	return 0;
}

static int
writer_hdr(struct writer *w, uint8_t tag, uint64_t len)
{
	uint8_t h[10];

	return writer_put(w, h, der_hdr(h, tag, len));
}

/* Read exactly `len` bytes at `off`; -1 on error or end of file. */
static int
pread_all(int fd, uint8_t *p, size_t len, uint64_t off)
{
	ssize_t k;

	while (len > 0) {
		k = pread(fd, p, len, (off_t)off);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			return -1;
		}
		p += k;
		off += (uint64_t)k;
		len -= (size_t)k;
	}
	return 0;
}

/* ---- the fixed parts ------------------------------------------------ */

static int
md_ok(const EVP_MD *md)
{
	int t = EVP_MD_get_type(md);

	return t == NID_sha256 || t == NID_sha384 || t == NID_sha512;
}

static const char *
key_type_name(int kt)
{
	if (kt == EVP_PKEY_RSA)
		return "RSA";
	if (kt == EVP_PKEY_EC)
		return "EC";
	return kt == EVP_PKEY_NONE ? "unknown" : OBJ_nid2sn(kt);
}

static int
check_params(const struct crl_params *p, const struct crl_source *src,
    EVP_PKEY *key, const char *path, int flags)
{
	int kt;

	if (p == NULL || src == NULL || src->next == NULL ||
	    src->rewind == NULL || key == NULL || path == NULL ||
	    path[0] == '\0')
		return cairn_error(CAIRN_E_INVAL, "crl_write: parameters, "
		    "source, key and path are required");
	if (p->issuer == NULL || p->issuer_pub == NULL)
		return cairn_error(CAIRN_E_INVAL, "crl_write: the issuer's "
		    "name and public key are required");
	if ((flags & ~FILEIO_REPLACE) != 0)
		return cairn_error(CAIRN_E_INVAL, "crl_write: unknown flags "
		    "0x%x", (unsigned)(flags & ~FILEIO_REPLACE));
	if (p->md == NULL || !md_ok(p->md))
		return cairn_error(CAIRN_E_INVAL, "CRL digest %s refused: "
		    "SHA-256, SHA-384 or SHA-512", p->md == NULL ? "(none)" :
		    EVP_MD_get0_name(p->md));
	kt = EVP_PKEY_get_base_id(key);
	if (kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC)
		return cairn_error(CAIRN_E_INVAL, "CRL signing key of type %s "
		    "refused: RSA (PKCS#1 v1.5) or EC", key_type_name(kt));
	if (EVP_PKEY_get_base_id(p->issuer_pub) != kt)
		return cairn_error(CAIRN_E_INVAL, "the CRL signing key is %s "
		    "but the issuer's public key is %s", key_type_name(kt),
		    key_type_name(EVP_PKEY_get_base_id(p->issuer_pub)));
	if (!time_ok(p->this_update) || !time_ok(p->next_update))
		return cairn_error(CAIRN_E_INVAL, "CRL %s %lld is outside "
		    "1950..9999", time_ok(p->this_update) ? "nextUpdate" :
		    "thisUpdate", time_ok(p->this_update) ? p->next_update :
		    p->this_update);
	if (p->next_update <= p->this_update)
		return cairn_error(CAIRN_E_INVAL, "CRL nextUpdate %lld is not "
		    "after thisUpdate %lld", p->next_update, p->this_update);
	if (p->number < 1)
		return cairn_error(CAIRN_E_INVAL, "cRLNumber 0: CRL numbers "
		    "start at 1");
	return 0;
}

/* The signature AlgorithmIdentifier for `key` and `md` (see the top). */
static int
sigalg_der(EVP_PKEY *key, const EVP_MD *md, uint8_t **out, size_t *outlen)
{
	X509_ALGOR *alg = NULL;
	int kt = EVP_PKEY_get_base_id(key), nid, len, r;

	*out = NULL;
	*outlen = 0;
	if (OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(md), kt) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "no signature "
		    "algorithm for %s with %s", key_type_name(kt),
		    EVP_MD_get0_name(md));
		goto out;
	}
	if ((alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(nid), kt == EVP_PKEY_RSA ?
		V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1 ||
	    (len = i2d_X509_ALGOR(alg, out)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the CRL "
		    "signature algorithm");
		goto out;
	}
	*outlen = (size_t)len;
	r = 0;
out:
	X509_ALGOR_free(alg);
	return r;
}

/*
 * crlExtensions [0] EXPLICIT SEQUENCE OF Extension: authorityKeyIdentifier
 * { [0] keyIdentifier } and cRLNumber, neither critical (RFC 5280 5.2.1,
 * 5.2.3), in that order.
 */
static int
exts_der(const struct crl_params *p, uint8_t *out, size_t *outlen)
{
	uint8_t aki[20], num[9], seq[64];
	size_t n = 0, k = 0, i;
	int r;

	*outlen = 0;
	if ((r = profile_ski(p->issuer_pub, aki)) != 0)
		return cairn_error_prefix(r, "CRL authorityKeyIdentifier: ");
	/* cRLNumber: the shortest positive INTEGER. */
	for (i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(p->number >> (8 * (7 - i)));

		if (k == 0 && b == 0)
			continue;
		if (k == 0 && (b & 0x80))
			num[k++] = 0;
		num[k++] = b;
	}
	n += der_hdr(seq + n, 0x30, 5 + 2 + 2 + 2 + sizeof(aki));
	memcpy(seq + n, "\x06\x03\x55\x1d\x23", 5);
	n += 5;
	n += der_hdr(seq + n, V_ASN1_OCTET_STRING, 2 + 2 + sizeof(aki));
	n += der_hdr(seq + n, 0x30, 2 + sizeof(aki));
	n += der_hdr(seq + n, 0x80, sizeof(aki));
	memcpy(seq + n, aki, sizeof(aki));
	n += sizeof(aki);
	n += der_hdr(seq + n, 0x30, 5 + 2 + 2 + k);
	memcpy(seq + n, "\x06\x03\x55\x1d\x14", 5);
	n += 5;
	n += der_hdr(seq + n, V_ASN1_OCTET_STRING, 2 + k);
	n += der_hdr(seq + n, V_ASN1_INTEGER, k);
	memcpy(seq + n, num, k);
	n += k;
	/* n <= 53: short forms. */
	*outlen = der_hdr(out, 0xa0, 2 + n);
	*outlen += der_hdr(out + *outlen, 0x30, n);
	memcpy(out + *outlen, seq, n);
	*outlen += n;
	return 0;
}

static int
fixed_parts(const struct crl_params *p, EVP_PKEY *key, struct tbs_fixed *f)
{
	uint8_t *der = NULL;
	int len, r;

	if ((r = sigalg_der(key, p->md, &f->alg, &f->alglen)) != 0)
		return r;
	if ((len = i2d_X509_NAME(p->issuer, &der)) <= 0)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding the CRL "
		    "issuer name");
	f->issuer = der;
	f->issuerlen = (size_t)len;
	f->this_len = time_der(f->this_update, p->this_update);
	f->next_len = time_der(f->next_update, p->next_update);
	return exts_der(p, f->exts, &f->extslen);
}

/* ---- the passes ----------------------------------------------------- */

/*
 * One pass over the source: check each entry, add up its DER, hash it;
 * with `w`, write it too.  In the second pass (`first` given), the source
 * may give neither more entries nor more bytes than in the first.
 */
static int
source_pass(const struct crl_source *src, struct writer *w,
    const struct pass_sum *first, uint64_t len_max, struct pass_sum *sum)
{
	EVP_MD_CTX *h = NULL;
	struct crl_entry e;
	uint8_t der[ENTRY_DER_MAX];
	unsigned int dlen;
	size_t k;
	int r;

	memset(sum, 0, sizeof(*sum));
	if ((r = src->rewind(src->arg)) < 0) {
		r = cairn_error_prefix(r, "CRL source, rewinding: ");
		goto out;
	}
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing CRL entries");
		goto out;
	}
	for (;;) {
		memset(&e, 0, sizeof(e));
		e.reason = -1;
		if ((r = src->next(src->arg, &e)) < 0) {
			r = cairn_error_prefix(r, "CRL source, entry %llu "
			    "(0-based): ", (unsigned long long)sum->n);
			goto out;
		}
		if (r == 0)
			break;
		if (r != 1) {
			r = cairn_error(CAIRN_E_INTERNAL, "CRL source "
			    "returned %d for entry %llu", r,
			    (unsigned long long)sum->n);
			goto out;
		}
		if ((r = entry_check(&e, sum->n)) != 0)
			goto out;
		k = entry_der(der, &e);
		if (first != NULL && (sum->n >= first->n ||
		    sum->len + k > first->len)) {
			r = cairn_error(CAIRN_E_INTERNAL, "CRL source gave "
			    "more on its second pass than on its first (%llu "
			    "entries, %llu bytes), at entry %llu",
			    (unsigned long long)first->n,
			    (unsigned long long)first->len,
			    (unsigned long long)sum->n);
			goto out;
		}
		if (sum->len + k > len_max) {
			r = cairn_error(CAIRN_E_TOO_LARGE, "revoked entry %llu "
			    "(0-based): the CRL would exceed %lld bytes",
			    (unsigned long long)sum->n, CRL_FILE_MAX);
			goto out;
		}
		if (EVP_DigestUpdate(h, der, k) != 1) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing CRL "
			    "entries");
			goto out;
		}
		if (w != NULL && (r = writer_put(w, der, k)) != 0)
			goto out;
		sum->n++;
		sum->len += k;
	}
	if (EVP_DigestFinal_ex(h, sum->digest, &dlen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing CRL entries");
		goto out;
	}
	if (first != NULL && (sum->n != first->n || sum->len != first->len ||
	    memcmp(sum->digest, first->digest, dlen) != 0)) {
		r = cairn_error(CAIRN_E_INTERNAL, "CRL source gave different "
		    "entries on its two passes: %llu entries, %llu bytes, "
		    "then %llu entries, %llu bytes%s",
		    (unsigned long long)first->n,
		    (unsigned long long)first->len,
		    (unsigned long long)sum->n, (unsigned long long)sum->len,
		    sum->n == first->n && sum->len == first->len ?
		    ", with different contents" : "");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(h);
	return r;
}

/* ---- reading back --------------------------------------------------- */

/*
 * Verify the CRL in `fd` (`size` bytes) as a reader would: outer
 * SEQUENCE, TBSCertList hashed as found in the file, then the algorithm
 * (which must be `alg`) and the signature, checked with `pub`.
 */
static int
verify_file(int fd, uint64_t size, const struct tbs_fixed *f, EVP_PKEY *pub,
    const EVP_MD *md, uint8_t *buf, const char *path)
{
	EVP_MD_CTX *v = NULL;
	uint8_t h[16], *tail = NULL;
	uint64_t outer, tbs, bits, off, end;
	size_t hl, th, k, tlen;
	int r;

	/* Anything this file writes is far longer than two headers. */
	if (size < 2 * sizeof(h) || pread_all(fd, h, sizeof(h), 0) != 0 ||
	    !der_hdr_parse(h, sizeof(h), 0x30, &outer, &hl) ||
	    outer + hl != size) {
		r = cairn_error(CAIRN_E_LINT, "%s as written: not one DER "
		    "SEQUENCE of %llu bytes", path, (unsigned long long)size);
		goto out;
	}
	if (pread_all(fd, h, sizeof(h), hl) != 0 ||
	    !der_hdr_parse(h, sizeof(h), 0x30, &tbs, &th) ||
	    tbs + th > outer) {
		r = cairn_error(CAIRN_E_LINT, "%s as written: no TBSCertList",
		    path);
		goto out;
	}
	if ((v = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(v, NULL, md, NULL, pub) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "verifying %s", path);
		goto out;
	}
	end = hl + th + tbs;
	for (off = hl; off < end; off += k) {
		k = end - off < CRL_IO_BUF ? (size_t)(end - off) : CRL_IO_BUF;
		if (pread_all(fd, buf, k, off) != 0) {
			r = cairn_error(CAIRN_E_IO, "reading back %s: %s", path,
			    errno != 0 ? strerror(errno) : "short file");
			goto out;
		}
		if (EVP_DigestVerifyUpdate(v, buf, k) != 1) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "verifying %s",
			    path);
			goto out;
		}
	}
	/* What follows is small: the algorithm and the signature. */
	if (size - end > CRL_IO_BUF) {
		r = cairn_error(CAIRN_E_LINT, "%s as written: %llu bytes "
		    "after the TBSCertList", path,
		    (unsigned long long)(size - end));
		goto out;
	}
	tlen = (size_t)(size - end);
	tail = buf;
	if (pread_all(fd, tail, tlen, end) != 0) {
		r = cairn_error(CAIRN_E_IO, "reading back %s: %s", path,
		    errno != 0 ? strerror(errno) : "short file");
		goto out;
	}
	if (tlen < f->alglen || memcmp(tail, f->alg, f->alglen) != 0 ||
	    !der_hdr_parse(tail + f->alglen, tlen - f->alglen, 0x03, &bits,
		&hl) || f->alglen + hl + bits != tlen || bits < 2 ||
	    tail[f->alglen + hl] != 0) {
		r = cairn_error(CAIRN_E_LINT, "%s as written: the signature "
		    "algorithm or value is malformed", path);
		goto out;
	}
	if (EVP_DigestVerifyFinal(v, tail + f->alglen + hl + 1,
	    (size_t)bits - 1) != 1) {
		r = cairn_error_crypto(CAIRN_E_LINT, "%s: the CRL's signature "
		    "does not verify with the issuer's public key (is the "
		    "signing key the issuer's?)", path);
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(v);
	return r;
}

/* ---- crl_write ------------------------------------------------------ */

/* mkostemp() beside `path`, named path + `suffix` + random. */
static int
temp_beside(const char *path, const char *suffix, char *tmp, size_t size,
    int *fd)
{
	*fd = -1;
	if (snprintf(tmp, size, "%s%sXXXXXX", path, suffix) >= (int)size)
		return cairn_error(CAIRN_E_TOO_LARGE, "path too long: %s",
		    path);
	if ((*fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return cairn_error(CAIRN_E_IO, "cannot create a file beside "
		    "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * Pass 2 and the signature: the TBSCertList into `tbs_fd` (its `tbs_len`
 * content bytes measured by pass 1, `one`), every byte hashed as written;
 * then the one private-key operation.  *sig (free()) is the signature.
 */
static int
write_tbs(const struct crl_params *p, const struct crl_source *src,
    EVP_PKEY *key, const struct tbs_fixed *f, const struct pass_sum *one,
    uint64_t tbs_len, int tbs_fd, uint8_t *buf, struct pass_sum *two,
    uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *sign = NULL;
	struct writer w = { tbs_fd, NULL, buf, 0, 0,
		"the CRL's scratch file" };
	int r;

	*sig = NULL;
	*siglen = 0;
	if ((sign = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(sign, NULL, p->md, NULL, key) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "CRL signature: cannot "
		    "start signing with the key");
		goto out;
	}
	w.sign = sign;
	if ((r = writer_hdr(&w, 0x30, tbs_len)) != 0 ||
	    (r = writer_put(&w, tbs_version, sizeof(tbs_version))) != 0 ||
	    (r = writer_put(&w, f->alg, f->alglen)) != 0 ||
	    (r = writer_put(&w, f->issuer, f->issuerlen)) != 0 ||
	    (r = writer_put(&w, f->this_update, f->this_len)) != 0 ||
	    (r = writer_put(&w, f->next_update, f->next_len)) != 0)
		goto out;
	/* RFC 5280 5.1.2.6: no entries, no revokedCertificates at all. */
	if (one->n > 0 && (r = writer_hdr(&w, 0x30, one->len)) != 0)
		goto out;
	if ((r = source_pass(src, &w, one, one->len, two)) != 0 ||
	    (r = writer_put(&w, f->exts, f->extslen)) != 0 ||
	    (r = writer_flush(&w)) != 0)
		goto out;
	if (w.total != der_tlv_size(tbs_len)) {
		r = cairn_error(CAIRN_E_INTERNAL, "CRL: wrote %llu bytes of "
		    "TBSCertList, computed %llu", (unsigned long long)w.total,
		    (unsigned long long)der_tlv_size(tbs_len));
		goto out;
	}
	if (EVP_DigestSignFinal(sign, NULL, siglen) != 1 ||
	    (*sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSignFinal(sign, *sig, siglen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing the CRL");
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		free(*sig);
		*sig = NULL;
	}
	EVP_MD_CTX_free(sign);
	return r;
}

/*
 * The CRL into `fd` (named `tmp`): outer header, the `tbs_size` bytes of
 * the scratch file, algorithm, BIT STRING signature; then fsync.  *size
 * is the file's size.
 */
static int
assemble(int fd, const char *tmp, int tbs_fd, uint64_t tbs_size,
    const struct tbs_fixed *f, const uint8_t *sig, size_t siglen,
    uint8_t *buf, uint64_t *size)
{
	static const uint8_t no_unused_bits = 0;
	struct writer w = { fd, NULL, buf, 0, 0, tmp };
	uint64_t outer_len, off;
	size_t k;
	int r;

	*size = 0;
	outer_len = tbs_size + f->alglen + der_tlv_size(siglen + 1);
	if (der_tlv_size(outer_len) > CRL_FILE_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "the CRL would be %llu "
		    "bytes; the limit is %lld",
		    (unsigned long long)der_tlv_size(outer_len), CRL_FILE_MAX);
	if ((r = writer_hdr(&w, 0x30, outer_len)) != 0 ||
	    (r = writer_flush(&w)) != 0)
		return r;
	/* Straight from the scratch file through buf, the writer's own
	 * buffer, empty after the flush. */
	for (off = 0; off < tbs_size; off += k) {
		k = tbs_size - off < CRL_IO_BUF ? (size_t)(tbs_size - off) :
		    CRL_IO_BUF;
		if (pread_all(tbs_fd, buf, k, off) != 0)
			return cairn_error(CAIRN_E_IO, "reading the CRL's "
			    "scratch file: %s", errno != 0 ? strerror(errno) :
			    "short file");
		if (write_all(fd, buf, k) != 0)
			return cairn_error(CAIRN_E_IO, "writing %s: %s", tmp,
			    errno != 0 ? strerror(errno) : "short write");
		w.total += k;
	}
	if ((r = writer_put(&w, f->alg, f->alglen)) != 0 ||
	    (r = writer_hdr(&w, V_ASN1_BIT_STRING, siglen + 1)) != 0 ||
	    (r = writer_put(&w, &no_unused_bits, 1)) != 0 ||
	    (r = writer_put(&w, sig, siglen)) != 0 ||
	    (r = writer_flush(&w)) != 0)
		return r;
	if (w.total != der_tlv_size(outer_len))
		return cairn_error(CAIRN_E_INTERNAL, "CRL: wrote %llu bytes, "
		    "computed %llu", (unsigned long long)w.total,
		    (unsigned long long)der_tlv_size(outer_len));
	if (fsync(fd) != 0)
		return cairn_error(CAIRN_E_IO, "fsync %s: %s", tmp,
		    strerror(errno));
	*size = w.total;
	return 0;
}

/*
 * `tmp` to `path` as fileio_write_atomic() does it: without REPLACE,
 * link() refuses a file that appeared meanwhile, where rename() would
 * replace it.  On success `tmp` is gone.
 */
static int
publish(const char *tmp, const char *path, int flags)
{
	if (!(flags & FILEIO_REPLACE)) {
		if (link(tmp, path) != 0)
			return errno == EEXIST ?
			    cairn_error(CAIRN_E_EXISTS, "%s exists already; "
				"refusing to overwrite it", path) :
			    cairn_error(CAIRN_E_IO, "%s: %s", path,
				strerror(errno));
		unlink(tmp);
	} else if (rename(tmp, path) != 0)
		return cairn_error(CAIRN_E_IO, "%s: %s", path,
		    strerror(errno));
	return 0;
}

int
crl_write(const struct crl_params *p, const struct crl_source *src,
    EVP_PKEY *key, const char *path, int flags, struct crl_stats *stats)
{
	struct tbs_fixed f;
	struct pass_sum one, two;
	struct stat st;
	char tbs_name[PATH_MAX], tmp[PATH_MAX];
	uint8_t *buf = NULL, *sig = NULL;
	uint64_t tbs_len, size;
	size_t siglen = 0;
	int tbs_fd = -1, fd = -1, have_tmp = 0, r;

	memset(&f, 0, sizeof(f));
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if ((r = check_params(p, src, key, path, flags)) != 0)
		goto out;
	if (!(flags & FILEIO_REPLACE) && lstat(path, &st) == 0) {
		r = cairn_error(CAIRN_E_EXISTS, "%s exists already; refusing "
		    "to overwrite it", path);
		goto out;
	}
	if ((r = fixed_parts(p, key, &f)) != 0)
		goto out;
	if ((buf = malloc(CRL_IO_BUF)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	/* The scratch file first: a directory we cannot write to is better
	 * found before a pass over a million entries.  Unlinked at once, it
	 * vanishes however this ends. */
	if ((r = temp_beside(path, ".tbs.", tbs_name, sizeof(tbs_name),
	    &tbs_fd)) != 0)
		goto out;
	unlink(tbs_name);

	/* Pass 1: lengths.  The bound leaves room for the fixed parts and
	 * headers, which are a few KiB at most. */
	if ((r = source_pass(src, NULL, NULL, CRL_FILE_MAX - 65536, &one)) !=
	    0)
		goto out;
	tbs_len = sizeof(tbs_version) + f.alglen + f.issuerlen + f.this_len +
	    f.next_len + (one.n > 0 ? der_tlv_size(one.len) : 0) + f.extslen;

	/* Pass 2, sign, assemble, verify what was written, publish. */
	if ((r = write_tbs(p, src, key, &f, &one, tbs_len, tbs_fd, buf, &two,
	    &sig, &siglen)) != 0)
		goto out;
	if ((r = temp_beside(path, ".tmp.", tmp, sizeof(tmp), &fd)) != 0)
		goto out;
	have_tmp = 1;
	if (fchmod(fd, CRL_FILE_MODE) != 0) {
		r = cairn_error(CAIRN_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((r = assemble(fd, tmp, tbs_fd, der_tlv_size(tbs_len), &f, sig,
	    siglen, buf, &size)) != 0 ||
	    (r = verify_file(fd, size, &f, p->issuer_pub, p->md, buf,
	    path)) != 0)
		goto out;
	r = close(fd);
	fd = -1;
	if (r != 0) {
		r = cairn_error(CAIRN_E_IO, "writing %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if ((r = publish(tmp, path, flags)) != 0)
		goto out;
	have_tmp = 0;
	if ((r = fileio_fsync_dir(path)) != 0)
		goto out;
	if (stats != NULL) {
		stats->entries = two.n;
		stats->bytes = size;
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (tbs_fd != -1)
		close(tbs_fd);
	if (have_tmp)
		unlink(tmp);
	OPENSSL_free(f.alg);
	OPENSSL_free(f.issuer);
	free(sig);
	free(buf);
	return r;
}
