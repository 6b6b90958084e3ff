/*
 * util.c: hex, fingerprints, bounded file reading.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/util.h"

char *
cairn_hex(char *out, const uint8_t *in, size_t len, char sep)
{
	static const char digits[] = "0123456789abcdef";
	char *p = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (sep != 0 && i > 0)
			*p++ = sep;
		*p++ = digits[in[i] >> 4];
		*p++ = digits[in[i] & 0x0f];
	}
	*p = '\0';
	return out;
}

int
cairn_spki_sha256(EVP_PKEY *pkey, uint8_t out[32])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len, r = CAIRN_E_CRYPTO;

	memset(out, 0, 32);
	if ((len = i2d_PUBKEY(pkey, &der)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot encode the public key");
		goto out;
	}
	if (EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	r = 0;
out:
	OPENSSL_free(der);
	return r;
}

int
cairn_fingerprint_str(EVP_PKEY *pkey, char out[CAIRN_FPR_STRLEN])
{
	uint8_t md[32];
	char *p;
	int r;

	out[0] = '\0';
	if ((r = cairn_spki_sha256(pkey, md)) != 0)
		return r;
	cairn_hex(out, md, sizeof(md), ':');
	for (p = out; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	return 0;
}

int
cairn_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r = CAIRN_E_IO;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return cairn_error(CAIRN_E_IO, "%s: %s%s", path,
		    strerror(errno),
		    errno == ELOOP ? " (symbolic links are refused)" : "");
	if (fstat(fd, &st) == -1) {
		r = cairn_error(CAIRN_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = cairn_error(CAIRN_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = cairn_error(CAIRN_E_TOO_LARGE,
		    "%s: %lld bytes, more than the %zu allowed", path,
		    (long long)st.st_size, max);
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	/* Read until EOF; the file may have grown since fstat(). */
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = cairn_error(CAIRN_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = cairn_error(CAIRN_E_TOO_LARGE,
			    "%s: more than the %zu bytes allowed", path, max);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf; /* transferred */
	buf = NULL;
	if (outlen != NULL)
		*outlen = len;
	r = 0;
out:
	if (buf != NULL)
		cairn_free_secret(buf, max + 1);
	close(fd);
	return r;
}

void
cairn_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	if (len == 0)
		len = strlen(p) + 1;
	OPENSSL_cleanse(p, len);
	free(p);
}

size_t
cairn_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
cairn_read_cert(const char *path, X509 **out)
{
	const unsigned char *p;
	char *buf = NULL;
	size_t len = 0;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = cairn_read_file(path, 1024 * 1024, &buf, &len)) != 0)
		return r;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
		*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (*out == NULL) {
		p = (const unsigned char *)buf;
		if ((*out = d2i_X509(NULL, &p, (long)len)) != NULL &&
		    p != (const unsigned char *)buf + len) {
			X509_free(*out);
			*out = NULL;
		}
	}
	ERR_clear_error();
	free(buf);
	if (*out == NULL)
		return cairn_error(CAIRN_E_INVAL, "%s is not a certificate "
		    "(PEM or DER)", path);
	return 0;
}

int
cairn_read_crl(const char *path, X509_CRL **out)
{
	const unsigned char *p;
	char *buf = NULL;
	size_t len = 0;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = cairn_read_file(path, 64 * 1024 * 1024, &buf, &len)) != 0)
		return r;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
		*out = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	BIO_free(b);
	if (*out == NULL) {
		p = (const unsigned char *)buf;
		if ((*out = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    p != (const unsigned char *)buf + len) {
			X509_CRL_free(*out);
			*out = NULL;
		}
	}
	ERR_clear_error();
	free(buf);
	if (*out == NULL)
		return cairn_error(CAIRN_E_INVAL, "%s is not a CRL (PEM or "
		    "DER)", path);
	return 0;
}

/*
 * (cairn_b64_decode: see util.h.) Strict standard base64 (RFC 4648 section 4): padding
 * required, no whitespace, and the bits that padding leaves over must be
 * zero, so one signature has one spelling.  *out is new (free()).
 */
int
cairn_b64digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

const char *
cairn_utc_time(long long t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int
cairn_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cairn_sha256_hex(const void *buf, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		memset(out, '0', 64);
		out[64] = '\0';
		return cairn_error_crypto(CAIRN_E_CRYPTO, "SHA-256 failed");
	}
	cairn_hex(out, md, sizeof(md), 0);
	return 0;
}

char *
cairn_name_text(X509_NAME *n, int escape)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long len;

	if (!escape)
		flags &= ~ASN1_STRFLGS_ESC_2253;
	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, flags) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) >= 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	BIO_free(b);
	return s;
}

int
cairn_b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	size_t i, j, o = 0, pad = 0, n;
	uint8_t *buf;
	int v[4];

	*out = NULL;
	*outlen = 0;
	if (len == 0 || len % 4 != 0)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	n = len / 4 * 3 - pad;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (j = 0; j < 4; j++) {
			if (i + 4 == len && j >= 4 - pad)
				v[j] = 0;
			else if ((v[j] = cairn_b64digit(s[i + j])) < 0)
				goto bad;
		}
		buf[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (o < n)
			buf[o++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (o < n)
			buf[o++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
	}
	/* Left-over bits under the padding must be zero. */
	if ((pad == 1 && (v[2] & 0x03) != 0) ||
	    (pad == 2 && (v[1] & 0x0f) != 0))
		goto bad;
	*out = buf; /* transferred */
	*outlen = n;
	return 0;
bad:
	free(buf);
	return -1;
}
