/*
 * media.c: signed media, the one way files leave the root laptop.
 *
 * Sealing lists the directory, hashes every file as a stream, writes the
 * MANIFEST text (media.h has its grammar) and a detached CMS SignedData
 * over it made with the root key in the HSM.  Verifying trusts nothing in
 * the directory: the signer must be the pinned root certificate itself,
 * the pinned certificate's key must verify the signature, and then every
 * listed file must be there with its size and digest, and nothing else.
 * The CRL check adds what a signature cannot give: freshness, so that a
 * CRL from older (genuinely signed) media cannot be replayed.
 *
 * Every directory entry is looked at through one directory descriptor,
 * with fstatat(AT_SYMLINK_NOFOLLOW) and openat(O_NOFOLLOW): a symbolic
 * link is never followed, and is reported by name.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/limits.h"
#include "lib/media.h"
#include "lib/util.h"

#define MANIFEST_HEADER "cairn-media v1"

/* Files are hashed in chunks of this size: a 40 MB CRL never sits in
 * memory whole. */
#define HASH_CHUNK (64 * 1024)

/*
 * MANIFEST.p7s holds one certificate and one SignerInfo: a few KiB.
 * limits.h has no bound of its own for it yet; the manifest's bound is
 * ample and keeps a hostile file from being read whole.
 */
#define SIGNATURE_MAX ((size_t)CAIRN_MEDIA_MANIFEST_MAX)

/*
 * The CRL state file holds one line per root ever seen (in practice one
 * or two); it gets the manifest's bounds, far beyond any real one.
 */
#define STATE_MAX ((size_t)CAIRN_MEDIA_MANIFEST_MAX)
#define STATE_ENTRIES_MAX CAIRN_MEDIA_FILES_MAX
#define STATE_HEADER "cairn-crl-state v1"

/* A CRL number is at most 20 octets (RFC 5280 5.2.3): below 2^160, which
 * has 49 decimal digits. */
#define CRL_NUMBER_DIGITS_MAX 49

#define STR_(x) #x
#define STR(x) STR_(x)

/* A name quoted for a message: at most QNAME_IN input bytes, each at most
 * 4 output bytes ("\x01"), quotes, "..." and the NUL. */
#define QNAME_IN 80
#define QNAME_MAX (QNAME_IN * 4 + 8)

/* ---- small helpers ------------------------------------------------- */

/*
 * Quote a name for a message: printable ASCII as is, everything else
 * (control characters above all, which could rewrite a terminal line) as
 * \xNN; long names are cut.
 */
static const char *
qname(char out[QNAME_MAX], const char *s, size_t len)
{
	size_t i, o = 0;

	out[o++] = '"';
	for (i = 0; i < len && i < QNAME_IN; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static const char *
qstr(char out[QNAME_MAX], const char *s)
{
	return qname(out, s, strlen(s));
}

static int
is_manifest_name(const char *s, size_t len)
{
	return (len == sizeof(MEDIA_MANIFEST) - 1 &&
	    memcmp(s, MEDIA_MANIFEST, len) == 0) ||
	    (len == sizeof(MEDIA_SIGNATURE) - 1 &&
	    memcmp(s, MEDIA_SIGNATURE, len) == 0);
}

/*
 * name_problem: NULL when `s` (len bytes) is a name media may hold, else
 * what is wrong with it.  The rules keep names printable and unambiguous
 * in a manifest line (no spaces), inside the directory (no '/'), and
 * visible to someone listing the media (no leading '.').
 */
static const char *
name_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "is empty";
	if (len > CAIRN_MEDIA_NAME_MAX)
		return "is longer than the " STR(CAIRN_MEDIA_NAME_MAX)
		    " bytes allowed";
	if (s[0] == '.')
		return "starts with '.' (hidden files are refused)";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/')
			return "contains '/'";
		if (c == ' ')
			return "contains a space";
		if (c < 0x21 || c > 0x7e)
			return "contains a control character or a byte "
			    "outside printable ASCII";
	}
	if (is_manifest_name(s, len))
		return "is the name of the manifest itself";
	return NULL;
}

/*
 * is_tmp_name: does `s` look like a temporary file of
 * fileio_write_atomic() ("name.tmp.XXXXXX", the X's from mkstemp)?  Such
 * a file is what an interrupted write leaves: half a file, never media.
 */
static int
is_tmp_name(const char *s)
{
	size_t i, len = strlen(s);

	if (len < 12 || memcmp(s + len - 11, ".tmp.", 5) != 0)
		return 0;
	for (i = len - 6; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static const char *
kind_name(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a subdirectory";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * Problems found in one pass over a directory, gathered so that one
 * message names them all (the operator fixes everything at once), the
 * first CAIRN_LIST_IN_ERROR_MAX in full.
 */
struct problems {
	char text[CAIRN_ERRMSG_MAX];
	size_t len;
	size_t n;
};

static void problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
problem(struct problems *p, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int k;

	if (p->n++ >= CAIRN_LIST_IN_ERROR_MAX)
		return;
	if (p->len > 0 && p->len + 2 < sizeof(p->text)) {
		memcpy(p->text + p->len, "; ", 3);
		p->len += 2;
	}
	room = sizeof(p->text) - p->len;
	va_start(ap, fmt);
	k = vsnprintf(p->text + p->len, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		p->len += (size_t)k < room ? (size_t)k : room - 1;
}

static int
problems_report(const struct problems *p, const char *what, const char *dir)
{
	if (p->n > CAIRN_LIST_IN_ERROR_MAX)
		return cairn_error(CAIRN_E_MEDIA, "%s %s: %s; and %zu more",
		    what, dir, p->text, p->n - CAIRN_LIST_IN_ERROR_MAX);
	return cairn_error(CAIRN_E_MEDIA, "%s %s: %s", what, dir, p->text);
}

/* A certificate for a message: its subject and SHA-256 fingerprint, in
 * the form `openssl x509 -noout -subject -fingerprint -sha256` prints. */
static void
name_desc(const X509_NAME *name, char *out, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	snprintf(out, size, "(unprintable name)");
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) >= 0 && p != NULL)
		snprintf(out, size, "%s%.*s%s", n == 0 ? "(empty name)" : "",
		    (int)(n > 200 ? 200 : n), p, n > 200 ? "..." : "");
	BIO_free(b);
}

static void
cert_desc(X509 *x, char *out, size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char name[256], fpr[CAIRN_FPR_STRLEN], *p;

	name_desc(X509_get_subject_name(x), name, sizeof(name));
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		ERR_clear_error();
		snprintf(out, size, "%s", name);
		return;
	}
	cairn_hex(fpr, md, 32, ':');
	for (p = fpr; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(out, size, "%s (SHA-256 fingerprint %s)", name, fpr);
}

/* ---- files ----------------------------------------------------------- */

static int
open_dir(const char *dir, int *fd)
{
	if ((*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return cairn_error(CAIRN_E_IO, "media %s: %s", dir,
		    strerror(errno));
	return 0;
}

/*
 * open_regular: open `name` in the directory for reading; a symbolic
 * link, a missing file or anything but a regular file is CAIRN_E_MEDIA.
 * O_NONBLOCK keeps a FIFO swapped in from blocking the open.
 */
static int
open_regular(int dfd, const char *dir, const char *name, int *fdp,
    struct stat *st)
{
	char q[QNAME_MAX];
	int fd;

	*fdp = -1;
	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return cairn_error(CAIRN_E_MEDIA, "media %s: %s is "
			    "missing", dir, qstr(q, name));
		if (errno == ELOOP)
			return cairn_error(CAIRN_E_MEDIA, "media %s: %s is a "
			    "symbolic link; media hold regular files only",
			    dir, qstr(q, name));
		return cairn_error(CAIRN_E_IO, "media %s: %s: %s", dir,
		    qstr(q, name), strerror(errno));
	}
	if (fstat(fd, st) == -1) {
		close(fd);
		return cairn_error(CAIRN_E_IO, "media %s: %s: %s", dir,
		    qstr(q, name), strerror(errno));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return cairn_error(CAIRN_E_MEDIA, "media %s: %s is %s; media "
		    "hold regular files only", dir, qstr(q, name),
		    kind_name(st->st_mode));
	}
	*fdp = fd;
	return 0;
}

/*
 * read_at: read the regular file `name` whole, at most `max` bytes, into
 * a new buffer (free()).  Missing, a symbolic link, not regular or too
 * large: CAIRN_E_MEDIA, since the media are then not what a sealer makes.
 */
static int
read_at(int dfd, const char *dir, const char *name, size_t max,
    uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd = -1, r;

	*out = NULL;
	*outlen = 0;
	if ((r = open_regular(dfd, dir, name, &fd, &st)) != 0)
		return r;
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		r = cairn_error(CAIRN_E_MEDIA, "media %s: \"%s\" is %lld "
		    "bytes, more than the %zu allowed", dir, name,
		    (long long)st.st_size, max);
		goto out;
	}
	/* One byte more than fstat said, to see a file that grew. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "media %s: reading %s: out of "
		    "memory", dir, name);
		goto out;
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = cairn_error(CAIRN_E_IO, "media %s: reading %s: %s",
			    dir, name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == cap) {
		r = cairn_error(CAIRN_E_IO, "media %s: %s changed while it "
		    "was read", dir, name);
		goto out;
	}
	*out = buf; /* transferred */
	buf = NULL;
	*outlen = len;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/*
 * hash_fd: SHA-256 of what `fd` holds, read as a stream.  Reading stops
 * once more than `max` bytes were seen: *size > max tells the caller.
 */
static int
hash_fd(int fd, const char *dir, const char *name, uint64_t max,
    uint64_t *size, uint8_t md[32])
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	unsigned int mdlen = 0;
	ssize_t n;
	int r;

	*size = 0;
	memset(md, 0, 32);
	if ((buf = malloc(HASH_CHUNK)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "hashing %s: out of memory",
		    name);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing %s", name);
		goto out;
	}
	for (;;) {
		n = read(fd, buf, HASH_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = cairn_error(CAIRN_E_IO, "media %s: reading %s: %s",
			    dir, name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > max)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing %s",
			    name);
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "hashing %s", name);
		goto out;
	}
	*size = total;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return r;
}

/* One directory entry: its name and its own type (links not followed). */
struct dent {
	char *name;
	mode_t mode;
};

static int
dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
	    ((const struct dent *)b)->name);
}

static void
dents_free(struct dent *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/*
 * list_dir: every entry of the directory but "." and "..", sorted by name
 * (bytewise, as the manifest is), with its lstat type.  More entries than
 * media may hold is CAIRN_E_MEDIA before they are all read: a directory
 * of a million files is refused, not listed.
 */
static int
list_dir(int dfd, const char *dir, struct dent **out, size_t *outn)
{
	struct dent *e = NULL, *ne;
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0, files = 0;
	DIR *d = NULL;
	int fd, r;

	*out = NULL;
	*outn = 0;
	if ((fd = dup(dfd)) == -1)
		return cairn_error(CAIRN_E_IO, "media %s: %s", dir,
		    strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		r = cairn_error(CAIRN_E_IO, "media %s: %s", dir,
		    strerror(errno));
		close(fd);
		goto out;
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				r = cairn_error(CAIRN_E_IO, "media %s: "
				    "listing: %s", dir, strerror(errno));
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!is_manifest_name(de->d_name, strlen(de->d_name)) &&
		    ++files > CAIRN_MEDIA_FILES_MAX) {
			r = cairn_error(CAIRN_E_MEDIA, "media %s: more than "
			    "%d files; media hold at most that many", dir,
			    CAIRN_MEDIA_FILES_MAX);
			goto out;
		}
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			char q[QNAME_MAX];

			r = cairn_error(CAIRN_E_IO, "media %s: %s: %s", dir,
			    qstr(q, de->d_name), strerror(errno));
			goto out;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((ne = reallocarray(e, cap, sizeof(*e))) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "media %s: "
				    "listing: out of memory", dir);
				goto out;
			}
			e = ne;
		}
		if ((e[n].name = strdup(de->d_name)) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "media %s: listing: "
			    "out of memory", dir);
			goto out;
		}
		e[n++].mode = st.st_mode;
	}
	if (n > 0)
		qsort(e, n, sizeof(*e), dent_cmp);
	*out = e; /* transferred */
	*outn = n;
	e = NULL;
	n = 0;
	r = 0;
out:
	dents_free(e, n);
	if (d != NULL)
		closedir(d);
	return r;
}

/* ---- the manifest ------------------------------------------------- */

void
media_free(struct media *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->files[i].name);
	free(m->files);
	free(m);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One file line: "<64 lowercase hex>  <size>  <name>", without its "\n". */
static int
parse_file_line(const char *s, size_t len, size_t lineno,
    struct media_file *f)
{
	char q[QNAME_MAX];
	const char *why;
	uint64_t size = 0;
	size_t i, k;
	int hi, lo;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 64; i++) {
		if (i >= len)
			return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "digest has %zu hex digits; want 64", lineno, i);
		if (s[i] >= 'A' && s[i] <= 'F')
			return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "upper-case hex digit '%c' at column %zu; digests "
			    "are lowercase", lineno, s[i], i + 1);
		if (hexval(s[i]) < 0)
			return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "column %zu is not a hex digit; want 64 lowercase "
			    "hex digits, two spaces, size, two spaces, name",
			    lineno, i + 1);
	}
	for (i = 0; i < 32; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		f->sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	if (len < 66 || s[64] != ' ' || s[65] != ' ')
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: want "
		    "two spaces after the 64-digit digest", lineno);
	for (k = 66; k < len && s[k] >= '0' && s[k] <= '9'; k++) {
		/* Checked at every digit: no overflow, however long. */
		size = size * 10 + (uint64_t)(s[k] - '0');
		if (size > (uint64_t)CAIRN_MEDIA_FILE_MAX)
			return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "size is more than the %lld bytes a file may have",
			    lineno, (long long)CAIRN_MEDIA_FILE_MAX);
	}
	if (k == 66)
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: want a "
		    "size in decimal digits at column 67", lineno);
	if (s[66] == '0' && k > 67)
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: size "
		    "has a leading zero", lineno);
	if (k + 2 > len || s[k] != ' ' || s[k + 1] != ' ')
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: want "
		    "two spaces after the size, then the name", lineno);
	k += 2;
	if ((why = name_problem(s + k, len - k)) != NULL)
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: name "
		    "%s %s", lineno, qname(q, s + k, len - k), why);
	if ((f->name = strndup(s + k, len - k)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "MANIFEST line %zu: out of "
		    "memory", lineno);
	f->size = size;
	return 0;
}

int
media_manifest_parse(const char *buf, size_t len, struct media **out)
{
	struct media *m = NULL;
	struct media_file f, *nf;
	const char *line, *eol;
	char q[QNAME_MAX], q2[QNAME_MAX];
	size_t pos = 0, lineno = 0, linelen, cap = 0;
	int c, r;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	if (buf == NULL && len > 0)
		return cairn_error(CAIRN_E_INVAL, "MANIFEST: no buffer");
	if (len > (size_t)CAIRN_MEDIA_MANIFEST_MAX)
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST: %zu bytes, more "
		    "than the %d that %d files can need", len,
		    CAIRN_MEDIA_MANIFEST_MAX, CAIRN_MEDIA_FILES_MAX);
	if (len == 0)
		return cairn_error(CAIRN_E_MEDIA, "MANIFEST line 1: the file "
		    "is empty; want the line \"" MANIFEST_HEADER "\"");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "MANIFEST: out of memory");
	while (pos < len) {
		lineno++;
		line = buf + pos;
		if ((eol = memchr(line, '\n', len - pos)) == NULL) {
			r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: no "
			    "newline at its end; every line, the last too, "
			    "ends in \"\\n\"", lineno);
			goto out;
		}
		linelen = (size_t)(eol - line);
		pos += linelen + 1;
		if (memchr(line, '\r', linelen) != NULL) {
			r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "carriage return (CR); lines end in \"\\n\" alone, "
			    "CRLF is refused", lineno);
			goto out;
		}
		if (lineno == 1) {
			if (linelen != sizeof(MANIFEST_HEADER) - 1 ||
			    memcmp(line, MANIFEST_HEADER, linelen) != 0) {
				r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line "
				    "1: want \"" MANIFEST_HEADER "\", have %s",
				    qname(q, line, linelen));
				goto out;
			}
			continue;
		}
		if (linelen == 0) {
			r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "empty line", lineno);
			goto out;
		}
		if (m->n == CAIRN_MEDIA_FILES_MAX) {
			r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line %zu: "
			    "more than %d files", lineno,
			    CAIRN_MEDIA_FILES_MAX);
			goto out;
		}
		if ((r = parse_file_line(line, linelen, lineno, &f)) != 0)
			goto out;
		if (m->n > 0 &&
		    (c = strcmp(m->files[m->n - 1].name, f.name)) >= 0) {
			if (c == 0)
				r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line "
				    "%zu: name %s listed twice", lineno,
				    qstr(q, f.name));
			else
				r = cairn_error(CAIRN_E_MEDIA, "MANIFEST line "
				    "%zu: names not sorted: %s comes before "
				    "%s, listed above (names are sorted "
				    "bytewise)",
				    lineno, qstr(q, f.name),
				    qstr(q2, m->files[m->n - 1].name));
			goto out;
		}
		if (m->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nf = reallocarray(m->files, cap,
			    sizeof(*nf))) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "MANIFEST: out "
				    "of memory");
				goto out;
			}
			m->files = nf;
		}
		m->files[m->n++] = f; /* transferred */
		memset(&f, 0, sizeof(f));
	}
	*out = m; /* transferred */
	m = NULL;
	r = 0;
out:
	free(f.name);
	media_free(m);
	return r;
}

/* The manifest text for `files` (sorted); a new buffer (free()). */
static int
manifest_format(const struct media_file *files, size_t n, char **out,
    size_t *outlen)
{
	char hex[65], *buf;
	size_t cap, len = 0, i;
	int k;

	*out = NULL;
	*outlen = 0;
	/* Header, then per file: digest, 2 spaces, 20 digits at most, 2
	 * spaces, the name, the newline. */
	cap = sizeof(MANIFEST_HEADER) + 1 +
	    n * (64 + 2 + 20 + 2 + CAIRN_MEDIA_NAME_MAX + 1);
	if ((buf = malloc(cap)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "MANIFEST: out of memory");
	len = (size_t)snprintf(buf, cap, "%s\n", MANIFEST_HEADER);
	for (i = 0; i < n; i++) {
		cairn_hex(hex, files[i].sha256, 32, 0);
		k = snprintf(buf + len, cap - len, "%s  %llu  %s\n", hex,
		    (unsigned long long)files[i].size, files[i].name);
		if (k < 0 || (size_t)k >= cap - len) {
			free(buf);
			return cairn_error(CAIRN_E_INTERNAL, "MANIFEST: line "
			    "for %s does not fit", files[i].name);
		}
		len += (size_t)k;
	}
	*out = buf; /* transferred */
	*outlen = len;
	return 0;
}

/* ---- the signature ------------------------------------------------ */

/* The digest for a signature by `pub`: as strong as the key. */
static const EVP_MD *
manifest_md(EVP_PKEY *pub)
{
	if (pub != NULL && EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_bits(pub) >= 512)
			return EVP_sha512();
		if (EVP_PKEY_get_bits(pub) >= 384)
			return EVP_sha384();
	}
	return EVP_sha256();
}

/*
 * describe_sid: who a SignerInfo says signed, for a message when that is
 * not the pinned root: a certificate the CMS carries that matches the
 * identifier, else the identifier itself.
 */
static void
describe_sid(CMS_ContentInfo *cms, CMS_SignerInfo *si, char *out,
    size_t size)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	ASN1_OCTET_STRING *keyid = NULL;
	ASN1_INTEGER *sno = NULL;
	X509_NAME *issuer = NULL;
	BIGNUM *bn = NULL;
	char name[256], *hex = NULL;
	int i;

	snprintf(out, size, "an unidentified signer");
	for (i = 0; i < sk_X509_num(certs); i++) {
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0) {
			cert_desc(sk_X509_value(certs, i), out, size);
			goto out;
		}
	}
	if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno) != 1)
		goto out;
	if (keyid != NULL) {
		char kid[2 * 64 + 1];
		int kl = ASN1_STRING_length(keyid);

		cairn_hex(kid, ASN1_STRING_get0_data(keyid),
		    (size_t)(kl > 64 ? 64 : kl), 0);
		snprintf(out, size, "a certificate not in MANIFEST.p7s with "
		    "key identifier %s", kid);
	} else if (issuer != NULL && sno != NULL) {
		name_desc(issuer, name, sizeof(name));
		if ((bn = ASN1_INTEGER_to_BN(sno, NULL)) != NULL)
			hex = BN_bn2hex(bn);
		snprintf(out, size, "a certificate not in MANIFEST.p7s, "
		    "issued by %s with serial %s", name,
		    hex != NULL ? hex : "?");
	}
out:
	OPENSSL_free(hex);
	BN_free(bn);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
}

/*
 * sig_verify: is `der` a detached CMS SignedData over `text` (len bytes)
 * made by `root` itself?  The message names the cause of a refusal;
 * callers prefix where it came from.
 *
 * The pin replaces path validation: the signer must be the pinned
 * certificate, byte for byte, not something that chains to it.  So the
 * SignerInfo's identifier is matched against the pinned certificate, any
 * certificate the file carries under that identifier must be the pinned
 * one (an impostor with the same issuer and serial is named), the pinned
 * certificate is set as the signer, and CMS_verify() runs with
 * CMS_NO_SIGNER_CERT_VERIFY (there is no chain to build: the root is
 * self-signed and trusted by pin, not by a store, and its validity dates
 * must not make old media unreadable) and CMS_NOINTERN (the certificates
 * the file carries are never candidates).  CMS_verify() is kept, rather
 * than hand-calling CMS_SignerInfo_verify_content(), because it drives
 * the detached content through the digest BIOs and handles signed
 * attributes (and their absence) the way OpenSSL maintains them.  The
 * signature over the signed attributes is checked first by itself, so
 * that "the signature is bad" and "MANIFEST changed" are told apart.
 */
static int
sig_verify(const uint8_t *der, size_t derlen, const char *text, size_t len,
    X509 *root)
{
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **content;
	X509_ALGOR *digalg = NULL;
	const ASN1_OBJECT *obj = NULL;
	const unsigned char *p = der;
	char who[512], pinned[512];
	BIO *bio = NULL, *mem = NULL;
	int i, nid, r;

	if (derlen == 0)
		return cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " is empty");
	if (derlen > SIGNATURE_MAX)
		return cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE ": %zu "
		    "bytes, more than the %zu allowed", derlen, SIGNATURE_MAX);
	ERR_clear_error();
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)derlen)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_MEDIA, MEDIA_SIGNATURE " is "
		    "not a DER CMS structure");
		goto out;
	}
	if (p != der + derlen) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE ": %zu "
		    "byte%s of trailing data after the CMS structure",
		    (size_t)(der + derlen - p), der + derlen - p == 1 ? "" :
		    "s");
		goto out;
	}
	if ((nid = OBJ_obj2nid(CMS_get0_type(cms))) != NID_pkcs7_signed) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " holds CMS "
		    "%s, not SignedData", nid == NID_undef ? "of an unknown "
		    "type" : OBJ_nid2ln(nid));
		goto out;
	}
	if ((nid = OBJ_obj2nid(CMS_get0_eContentType(cms))) !=
	    NID_pkcs7_data) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " signs "
		    "content of type %s, not data", nid == NID_undef ?
		    "unknown" : OBJ_nid2ln(nid));
		goto out;
	}
	/* The signed content is MANIFEST, the file beside it: content
	 * embedded in the signature would be a second, unchecked copy. */
	if ((content = CMS_get0_content(cms)) == NULL || *content != NULL) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " embeds its "
		    "content; media signatures are detached (the signed "
		    "content is " MEDIA_MANIFEST ")");
		goto out;
	}
	/* Zero SignerInfos would verify vacuously (PKCS7_verify once
	 * accepted them); more than one is not what a sealer makes. */
	sis = CMS_get0_SignerInfos(cms);
	if ((i = sk_CMS_SignerInfo_num(sis)) <= 0) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " has no "
		    "signer (a SignedData without SignerInfo proves nothing)");
		goto out;
	}
	if (i != 1) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " has %d "
		    "signers; media carry exactly one, the root", i);
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digalg, NULL);
	if (digalg != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, digalg);
	nid = OBJ_obj2nid(obj);
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE ": digest %s "
		    "refused; media are signed with SHA-256, SHA-384 or "
		    "SHA-512", nid == NID_undef ? "(unknown)" :
		    OBJ_nid2sn(nid));
		goto out;
	}
	if (CMS_SignerInfo_cert_cmp(si, root) != 0) {
		describe_sid(cms, si, who, sizeof(who));
		cert_desc(root, pinned, sizeof(pinned));
		r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " is signed "
		    "by %s, not by the pinned root %s", who, pinned);
		goto out;
	}
	certs = CMS_get1_certs(cms);
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (CMS_SignerInfo_cert_cmp(si, x) == 0 &&
		    X509_cmp(x, root) != 0) {
			cert_desc(x, who, sizeof(who));
			cert_desc(root, pinned, sizeof(pinned));
			r = cairn_error(CAIRN_E_MEDIA, MEDIA_SIGNATURE " is "
			    "signed by %s, not by the pinned root %s (same "
			    "issuer and serial, another certificate)", who,
			    pinned);
			goto out;
		}
	}
	CMS_SignerInfo_set1_signer_cert(si, root);
	ERR_clear_error();
	if (CMS_signed_get_attr_count(si) >= 0 &&
	    CMS_SignerInfo_verify(si) != 1) {
		r = cairn_error_crypto(CAIRN_E_MEDIA, MEDIA_SIGNATURE ": the "
		    "signature does not verify with the pinned root's key: "
		    "the signature was altered or made with another key");
		goto out;
	}
	/*
	 * The content goes in through a null filter, not as the memory BIO
	 * itself: given a memory BIO, OpenSSL 3.0's CMS_verify() copies it
	 * and leaks the copy when the digest BIOs cannot be made (an unknown
	 * or empty digestAlgorithms set; openssl/openssl#30471, fixed after
	 * 3.0.19).  Any signature file could make every verify leak.
	 */
	if ((bio = BIO_new(BIO_f_null())) == NULL ||
	    (mem = BIO_new_mem_buf(text, (int)len)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	BIO_push(bio, mem);
	mem = NULL; /* freed with bio */
	if (CMS_verify(cms, NULL, NULL, bio, NULL, CMS_BINARY | CMS_NOINTERN |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		r = cairn_error_crypto(CAIRN_E_MEDIA, MEDIA_SIGNATURE ": the "
		    "signature does not cover this " MEDIA_MANIFEST ": "
		    MEDIA_MANIFEST " was changed after sealing (or the "
		    "signature belongs to another one)");
		goto out;
	}
	r = 0;
out:
	BIO_free(mem);
	BIO_free_all(bio);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return r;
}

/* sign_manifest: the DER of a detached CMS SignedData over `text`. */
static int
sign_manifest(const char *text, size_t len, X509 *signer, EVP_PKEY *key,
    uint8_t **out, size_t *outlen)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	BIO *in = NULL;
	int derlen, r;

	*out = NULL;
	*outlen = 0;
	ERR_clear_error();
	/* CMS_PARTIAL, so that the digest can be chosen for the key:
	 * CMS_sign() alone would take SHA-256 for a P-384 key too. */
	if ((in = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL)) ==
	    NULL ||
	    CMS_add1_signer(cms, signer, key,
	    manifest_md(X509_get0_pubkey(signer)), flags) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing "
		    MEDIA_MANIFEST);
		goto out;
	}
	if ((derlen = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "encoding "
		    MEDIA_SIGNATURE);
		goto out;
	}
	*out = der; /* transferred */
	*outlen = (size_t)derlen;
	der = NULL;
	r = 0;
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

/* ---- sealing and verifying ---------------------------------------- */

int
media_seal(const char *dir, X509 *signer, EVP_PKEY *key)
{
	struct problems pr;
	struct dent *ents = NULL;
	struct media_file *files = NULL;
	struct media *check = NULL;
	struct stat st;
	uint8_t *der = NULL;
	char *text = NULL, path[PATH_MAX], q[QNAME_MAX];
	const char *why;
	size_t nents = 0, nfiles = 0, textlen = 0, derlen = 0, i;
	int dfd = -1, fd = -1, r;

	if (dir == NULL || signer == NULL || key == NULL)
		return cairn_error(CAIRN_E_INVAL, "media_seal: no %s",
		    dir == NULL ? "directory" : signer == NULL ?
		    "signer certificate" : "key");
	memset(&pr, 0, sizeof(pr));
	if ((r = open_dir(dir, &dfd)) != 0 ||
	    (r = list_dir(dfd, dir, &ents, &nents)) != 0)
		goto out;
	for (i = 0; i < nents; i++) {
		const char *n = ents[i].name;

		qstr(q, n);
		if (is_manifest_name(n, strlen(n))) {
			if (!S_ISREG(ents[i].mode))
				problem(&pr, "%s is %s; it is replaced by a "
				    "regular file, so remove it first", q,
				    kind_name(ents[i].mode));
		} else if ((why = name_problem(n, strlen(n))) != NULL)
			problem(&pr, "the name %s %s", q, why);
		else if (!S_ISREG(ents[i].mode))
			problem(&pr, "%s is %s; media hold regular files "
			    "only", q, kind_name(ents[i].mode));
		else if (is_tmp_name(n))
			problem(&pr, "%s is a temporary file left by an "
			    "interrupted write (name.tmp.XXXXXX): finish the "
			    "write or remove it, then seal again", q);
		else
			nfiles++;
	}
	if (pr.n > 0) {
		r = problems_report(&pr, "refusing to seal", dir);
		goto out;
	}
	if (nfiles > 0 && (files = calloc(nfiles, sizeof(*files))) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "sealing %s: out of memory",
		    dir);
		goto out;
	}
	nfiles = 0;
	for (i = 0; i < nents; i++) {
		struct media_file *f;

		if (is_manifest_name(ents[i].name, strlen(ents[i].name)))
			continue;
		f = &files[nfiles++];
		f->name = ents[i].name; /* transferred */
		ents[i].name = NULL;
		if ((r = open_regular(dfd, dir, f->name, &fd, &st)) != 0 ||
		    (r = hash_fd(fd, dir, f->name,
		    (uint64_t)CAIRN_MEDIA_FILE_MAX, &f->size, f->sha256)) != 0)
			goto out;
		close(fd);
		fd = -1;
		if (f->size > (uint64_t)CAIRN_MEDIA_FILE_MAX) {
			r = cairn_error(CAIRN_E_TOO_LARGE, "refusing to seal "
			    "%s: %s is more than the %lld bytes a file may "
			    "have", dir, qstr(q, f->name),
			    (long long)CAIRN_MEDIA_FILE_MAX);
			goto out;
		}
	}
	if ((r = manifest_format(files, nfiles, &text, &textlen)) != 0)
		goto out;
	/* What we write must be what a reader accepts. */
	if ((r = media_manifest_parse(text, textlen, &check)) != 0) {
		r = cairn_error_prefix(CAIRN_E_INTERNAL, "sealing %s: the "
		    "manifest made does not parse: ", dir);
		goto out;
	}
	if ((r = sign_manifest(text, textlen, signer, key, &der,
	    &derlen)) != 0) {
		r = cairn_error_prefix(r, "sealing %s: ", dir);
		goto out;
	}
	/* A token that signs wrongly, or a key that is not the signer's,
	 * is caught here, before anything is written. */
	if ((r = sig_verify(der, derlen, text, textlen, signer)) != 0) {
		r = cairn_error_prefix(r, "sealing %s: the new signature does "
		    "not verify against the signer certificate: ", dir);
		goto out;
	}
	if ((r = fileio_join(path, sizeof(path), dir, MEDIA_MANIFEST)) != 0 ||
	    (r = fileio_write_atomic(path, text, textlen, 0644,
	    FILEIO_REPLACE)) != 0 ||
	    (r = fileio_join(path, sizeof(path), dir, MEDIA_SIGNATURE)) != 0 ||
	    (r = fileio_write_atomic(path, der, derlen, 0644,
	    FILEIO_REPLACE)) != 0)
		goto out;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (files != NULL) {
		for (i = 0; i < nfiles; i++)
			free(files[i].name);
		free(files);
	}
	dents_free(ents, nents);
	media_free(check);
	free(text);
	OPENSSL_free(der);
	return r;
}

/* check_file: is the listed file `f` there, regular, unchanged? */
static int
check_file(int dfd, const char *dir, const struct media_file *f,
    struct problems *pr)
{
	struct stat st;
	uint8_t md[32];
	uint64_t size;
	char q[QNAME_MAX], want[65], have[65];
	int fd = -1, r;

	if ((r = open_regular(dfd, dir, f->name, &fd, &st)) != 0)
		return r;
	qstr(q, f->name);
	if ((uint64_t)st.st_size != f->size) {
		problem(pr, "%s changed: %llu bytes listed, %lld found", q,
		    (unsigned long long)f->size, (long long)st.st_size);
		goto out;
	}
	/* Read one byte more than listed, to see a file that grows. */
	if ((r = hash_fd(fd, dir, f->name, f->size, &size, md)) != 0)
		goto out;
	if (size != f->size)
		problem(pr, "%s changed while it was read: %llu bytes listed, "
		    "%s%llu read", q, (unsigned long long)f->size,
		    size > f->size ? "more than " : "",
		    (unsigned long long)(size > f->size ? f->size : size));
	else if (memcmp(md, f->sha256, 32) != 0)
		problem(pr, "%s changed: SHA-256 %.16s... listed, %.16s... "
		    "found", q, cairn_hex(want, f->sha256, 32, 0),
		    cairn_hex(have, md, 32, 0));
out:
	close(fd);
	return r;
}

int
media_verify(const char *dir, X509 *root, struct media **out)
{
	struct problems pr;
	struct media *m = NULL;
	struct dent *ents = NULL;
	uint8_t *text = NULL, *sig = NULL;
	size_t textlen = 0, siglen = 0, nents = 0, i = 0, j = 0;
	char q[QNAME_MAX];
	const char *why;
	int dfd = -1, c, r;

	if (out != NULL)
		*out = NULL;
	if (dir == NULL || root == NULL || out == NULL)
		return cairn_error(CAIRN_E_INVAL, "media_verify: no %s",
		    dir == NULL ? "directory" : root == NULL ?
		    "root certificate" : "output");
	memset(&pr, 0, sizeof(pr));
	if ((r = open_dir(dir, &dfd)) != 0 ||
	    (r = read_at(dfd, dir, MEDIA_MANIFEST,
	    (size_t)CAIRN_MEDIA_MANIFEST_MAX, &text, &textlen)) != 0 ||
	    (r = read_at(dfd, dir, MEDIA_SIGNATURE, SIGNATURE_MAX, &sig,
	    &siglen)) != 0)
		goto out;
	/* The signature first: an edited MANIFEST is reported as what it
	 * is, not as whatever its edit broke in the syntax. */
	if ((r = sig_verify(sig, siglen, (const char *)text, textlen,
	    root)) != 0 ||
	    (r = media_manifest_parse((const char *)text, textlen,
	    &m)) != 0) {
		r = cairn_error_prefix(r, "media %s: ", dir);
		goto out;
	}
	if ((r = list_dir(dfd, dir, &ents, &nents)) != 0)
		goto out;
	/* Both lists are sorted bytewise: walk them side by side. */
	while (i < m->n || j < nents) {
		if (j < nents &&
		    is_manifest_name(ents[j].name, strlen(ents[j].name))) {
			j++; /* read above as regular files */
			continue;
		}
		if (i == m->n)
			c = 1;
		else if (j == nents)
			c = -1;
		else
			c = strcmp(m->files[i].name, ents[j].name);
		if (c < 0) {
			problem(&pr, "%s is listed in " MEDIA_MANIFEST " but "
			    "missing", qstr(q, m->files[i].name));
			i++;
		} else if (c > 0) {
			const char *n = ents[j].name;

			qstr(q, n);
			if ((why = name_problem(n, strlen(n))) != NULL)
				problem(&pr, "%s is not listed in "
				    MEDIA_MANIFEST " (an extra entry; its name "
				    "%s)", q, why);
			else if (!S_ISREG(ents[j].mode))
				problem(&pr, "%s is %s, not listed in "
				    MEDIA_MANIFEST " (an extra entry)", q,
				    kind_name(ents[j].mode));
			else if (is_tmp_name(n))
				problem(&pr, "%s is not listed in "
				    MEDIA_MANIFEST " (an extra file: a "
				    "temporary file left by an interrupted "
				    "write)", q);
			else
				problem(&pr, "%s is not listed in "
				    MEDIA_MANIFEST " (an extra file)", q);
			j++;
		} else {
			if (!S_ISREG(ents[j].mode))
				problem(&pr, "%s is listed in " MEDIA_MANIFEST
				    " but is now %s", qstr(q, ents[j].name),
				    kind_name(ents[j].mode));
			else if ((r = check_file(dfd, dir, &m->files[i],
			    &pr)) != 0)
				goto out;
			i++;
			j++;
		}
	}
	if (pr.n > 0) {
		r = problems_report(&pr, "media", dir);
		goto out;
	}
	*out = m; /* transferred */
	m = NULL;
	r = 0;
out:
	if (dfd != -1)
		close(dfd);
	dents_free(ents, nents);
	media_free(m);
	free(text);
	free(sig);
	return r;
}

/* ---- CRL numbers -------------------------------------------------- */

/*
 * The CRL state file, written only by media_check_crls():
 *
 *	cairn-crl-state v1
 *	<issuer> <number> <crl>
 *	...
 *
 * one line per issuer, sorted by <issuer>, each line ending in "\n":
 * <issuer> is the SHA-256 (lowercase hex) of the DER of the root's
 * subject name, <number> the highest CRL number accepted for it in
 * decimal (no leading zeros), <crl> the SHA-256 of the DER of the CRL
 * that carried it, so that a second, different CRL under the same number
 * is caught too.  It is read as strictly as the manifest; a damaged file
 * is refused, never taken as empty (that would reopen the rollback).
 */
struct crl_state {
	char issuer[65];
	BIGNUM *num;
	char crl[65];
};

static void
state_free(struct crl_state *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		BN_free(s[i].num);
	free(s);
}

static int
is_lowhex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (hexval(s[i]) < 0)
			return 0;
	return 1;
}

static int
state_parse(const char *path, const char *buf, size_t len,
    struct crl_state **out, size_t *outn)
{
	struct crl_state *s = NULL, *ns;
	const char *line, *eol, *sp;
	size_t pos = 0, lineno = 0, linelen, n = 0, cap = 0, dlen, i;
	char digits[CRL_NUMBER_DIGITS_MAX + 1];
	int r;

	*out = NULL;
	*outn = 0;
	while (pos < len) {
		lineno++;
		line = buf + pos;
		if ((eol = memchr(line, '\n', len - pos)) == NULL) {
			r = cairn_error(CAIRN_E_CONFIG, "CRL state %s line "
			    "%zu: no newline at its end", path, lineno);
			goto out;
		}
		linelen = (size_t)(eol - line);
		pos += linelen + 1;
		if (lineno == 1) {
			if (linelen != sizeof(STATE_HEADER) - 1 ||
			    memcmp(line, STATE_HEADER, linelen) != 0) {
				r = cairn_error(CAIRN_E_CONFIG, "CRL state %s "
				    "line 1: want \"" STATE_HEADER "\"", path);
				goto out;
			}
			continue;
		}
		if (n == STATE_ENTRIES_MAX) {
			r = cairn_error(CAIRN_E_CONFIG, "CRL state %s line "
			    "%zu: more than %d issuers", path, lineno,
			    STATE_ENTRIES_MAX);
			goto out;
		}
		if (n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			if ((ns = reallocarray(s, cap, sizeof(*s))) == NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "CRL state %s: "
				    "out of memory", path);
				goto out;
			}
			s = ns;
			memset(s + n, 0, (cap - n) * sizeof(*s));
		}
		/* "<64 hex> <digits> <64 hex>" */
		if (linelen < 64 + 1 + 1 + 1 + 64 || line[64] != ' ' ||
		    !is_lowhex(line, 64) ||
		    line[linelen - 65] != ' ' ||
		    !is_lowhex(line + linelen - 64, 64)) {
			r = cairn_error(CAIRN_E_CONFIG, "CRL state %s line "
			    "%zu: want \"<issuer sha256> <crl number> <crl "
			    "sha256>\"", path, lineno);
			goto out;
		}
		sp = line + 65;
		dlen = linelen - 64 - 1 - 1 - 64;
		for (i = 0; i < dlen; i++)
			if (sp[i] < '0' || sp[i] > '9')
				break;
		if (i != dlen || dlen > CRL_NUMBER_DIGITS_MAX ||
		    (dlen > 1 && sp[0] == '0')) {
			r = cairn_error(CAIRN_E_CONFIG, "CRL state %s line "
			    "%zu: the CRL number is not a decimal number of "
			    "at most %d digits without leading zeros", path,
			    lineno, CRL_NUMBER_DIGITS_MAX);
			goto out;
		}
		memcpy(digits, sp, dlen);
		digits[dlen] = '\0';
		memcpy(s[n].issuer, line, 64);
		memcpy(s[n].crl, line + linelen - 64, 64);
		if (BN_dec2bn(&s[n].num, digits) != (int)dlen) {
			r = cairn_error_crypto(CAIRN_E_CONFIG, "CRL state %s "
			    "line %zu: bad CRL number", path, lineno);
			goto out;
		}
		if (n > 0 && strcmp(s[n - 1].issuer, s[n].issuer) >= 0) {
			r = cairn_error(CAIRN_E_CONFIG, "CRL state %s line "
			    "%zu: issuers not sorted, or one listed twice",
			    path, lineno);
			goto out;
		}
		n++;
	}
	if (lineno == 0) {
		r = cairn_error(CAIRN_E_CONFIG, "CRL state %s is empty; want "
		    "at least the line \"" STATE_HEADER "\"", path);
		goto out;
	}
	*out = s; /* transferred */
	*outn = n;
	s = NULL;
	cap = 0;
	r = 0;
out:
	state_free(s, cap);
	return r;
}

static int
state_format(const struct crl_state *s, size_t n, char **out, size_t *outlen)
{
	size_t cap, len, i;
	char *buf, *dec;
	int k;

	*out = NULL;
	*outlen = 0;
	cap = sizeof(STATE_HEADER) + 1 +
	    n * (64 + 1 + CRL_NUMBER_DIGITS_MAX + 2 + 1 + 64 + 1);
	if ((buf = malloc(cap)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "CRL state: out of memory");
	len = (size_t)snprintf(buf, cap, "%s\n", STATE_HEADER);
	for (i = 0; i < n; i++) {
		if ((dec = BN_bn2dec(s[i].num)) == NULL) {
			free(buf);
			return cairn_error_crypto(CAIRN_E_NOMEM, "CRL state");
		}
		k = snprintf(buf + len, cap - len, "%s %s %s\n", s[i].issuer,
		    dec, s[i].crl);
		OPENSSL_free(dec);
		if (k < 0 || (size_t)k >= cap - len) {
			free(buf);
			return cairn_error(CAIRN_E_INTERNAL, "CRL state: line "
			    "does not fit");
		}
		len += (size_t)k;
	}
	*out = buf; /* transferred */
	*outlen = len;
	return 0;
}

static int
state_cmp(const void *a, const void *b)
{
	return strcmp(((const struct crl_state *)a)->issuer,
	    ((const struct crl_state *)b)->issuer);
}

/* No PEM in media is encrypted: never ask for a password on the
 * terminal because a file says "Proc-Type: 4,ENCRYPTED". */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * load_crl: the CRL `name` holds (DER, else PEM), or *out NULL when it
 * holds none.  Read through a BIO, never whole: a CRL may be tens of MB
 * and other files up to CAIRN_MEDIA_FILE_MAX.
 */
static int
load_crl(int dfd, const char *dir, const char *name, X509_CRL **out)
{
	struct stat st;
	X509_CRL *crl = NULL;
	BIO *fb = NULL, *bb = NULL;
	unsigned char c;
	int fd = -1, r;

	*out = NULL;
	if ((r = open_regular(dfd, dir, name, &fd, &st)) != 0)
		return r;
	if (st.st_size == 0 || pread(fd, &c, 1, 0) != 1)
		goto out;
	/* A file that is not a CRL is no error: forget what the parsers
	 * said about it. */
	ERR_set_mark();
	if (c == 0x30 && (fb = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL) {
		crl = d2i_X509_CRL_bio(fb, NULL);
		BIO_free(fb);
		fb = NULL;
	}
	if (crl == NULL && lseek(fd, 0, SEEK_SET) == 0 &&
	    (fb = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL &&
	    (bb = BIO_new(BIO_f_buffer())) != NULL) {
		bb = BIO_push(bb, fb);
		fb = NULL;
		crl = PEM_read_bio_X509_CRL(bb, NULL, no_password, NULL);
	}
	ERR_pop_to_mark();
	*out = crl; /* transferred */
out:
	BIO_free_all(bb);
	BIO_free(fb);
	close(fd);
	return 0;
}

int
media_check_crls(const struct media *m, const char *dir, X509 *root,
    const char *state_path, int update)
{
	struct crl_state *s = NULL, *ns;
	struct stat st;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *ai = NULL;
	BIGNUM *num = NULL, *best = NULL;
	EVP_PKEY *rootkey;
	const char *best_name = NULL;
	char *old = NULL, *text = NULL, *dec = NULL, *dec2 = NULL;
	char issuer[65], crlhex[65], best_crl[65] = "", who[256], rootname[256];
	uint8_t md[32];
	unsigned int mdlen = 0;
	size_t oldlen = 0, textlen = 0, n = 0, i;
	struct crl_state *mine = NULL;
	int dfd = -1, have_state, crit, cmp, r;

	if (m == NULL || dir == NULL || root == NULL || state_path == NULL)
		return cairn_error(CAIRN_E_INVAL, "media_check_crls: missing "
		    "argument");
	if ((rootkey = X509_get0_pubkey(root)) == NULL)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "the root "
		    "certificate's key cannot be read");
	if (X509_NAME_digest(X509_get_subject_name(root), EVP_sha256(), md,
	    &mdlen) != 1 || mdlen != 32)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "hashing the root's "
		    "name");
	cairn_hex(issuer, md, 32, 0);
	name_desc(X509_get_subject_name(root), rootname, sizeof(rootname));

	have_state = lstat(state_path, &st) == 0;
	if (!have_state && errno != ENOENT)
		return cairn_error(CAIRN_E_IO, "CRL state %s: %s", state_path,
		    strerror(errno));
	if (have_state &&
	    ((r = cairn_read_file(state_path, STATE_MAX, &old, &oldlen)) != 0 ||
	    (r = state_parse(state_path, old, oldlen, &s, &n)) != 0))
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(s[i].issuer, issuer) == 0)
			mine = &s[i];

	if ((r = open_dir(dir, &dfd)) != 0)
		goto out;
	for (i = 0; i < m->n; i++) {
		const char *name = m->files[i].name;

		X509_CRL_free(crl);
		ASN1_INTEGER_free(ai);
		BN_free(num);
		crl = NULL;
		ai = NULL;
		num = NULL;
		if ((r = load_crl(dfd, dir, name, &crl)) != 0)
			goto out;
		if (crl == NULL)
			continue;
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_subject_name(root)) != 0) {
			name_desc(X509_CRL_get_issuer(crl), who, sizeof(who));
			r = cairn_error(CAIRN_E_MEDIA, "%s: a CRL issued by "
			    "%s, not by the root %s; media from the root "
			    "carry only its own CRLs", name, who, rootname);
			goto out;
		}
		ERR_clear_error();
		if (X509_CRL_verify(crl, rootkey) != 1) {
			r = cairn_error_crypto(CAIRN_E_MEDIA, "%s: the CRL's "
			    "signature does not verify with the root's key "
			    "(%s)", name, rootname);
			goto out;
		}
		ai = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
		if (ai == NULL) {
			r = cairn_error_crypto(CAIRN_E_MEDIA, "%s: %s", name,
			    crit == -1 ? "the CRL has no CRL number, so it "
			    "cannot be ordered against CRLs seen before" :
			    crit == -2 ? "the CRL has more than one CRL "
			    "number" : "the CRL number does not decode");
			goto out;
		}
		if ((num = ASN1_INTEGER_to_BN(ai, NULL)) == NULL) {
			r = cairn_error_crypto(CAIRN_E_MEDIA, "%s: the CRL "
			    "number does not decode", name);
			goto out;
		}
		if (BN_is_negative(num) ||
		    BN_num_bytes(num) > 20) {
			r = cairn_error(CAIRN_E_MEDIA, "%s: the CRL number is "
			    "negative or longer than 20 octets (RFC 5280 "
			    "5.2.3)", name);
			goto out;
		}
		if (X509_CRL_digest(crl, EVP_sha256(), md, &mdlen) != 1 ||
		    mdlen != 32) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "%s: hashing "
			    "the CRL", name);
			goto out;
		}
		cairn_hex(crlhex, md, 32, 0);
		OPENSSL_free(dec);
		OPENSSL_free(dec2);
		dec2 = NULL;
		if ((dec = BN_bn2dec(num)) == NULL) {
			r = cairn_error_crypto(CAIRN_E_NOMEM, "%s", name);
			goto out;
		}
		if (mine != NULL && (cmp = BN_cmp(num, mine->num)) <= 0) {
			if ((dec2 = BN_bn2dec(mine->num)) == NULL) {
				r = cairn_error_crypto(CAIRN_E_NOMEM, "%s",
				    name);
				goto out;
			}
			if (cmp < 0) {
				r = cairn_error(CAIRN_E_ROLLBACK, "%s: CRL "
				    "number %s is lower than %s, seen before: "
				    "refusing an old CRL", name, dec, dec2);
				goto out;
			}
			if (strcmp(crlhex, mine->crl) != 0) {
				r = cairn_error(CAIRN_E_ROLLBACK, "%s: CRL "
				    "number %s was seen before with other "
				    "contents (SHA-256 %.16s..., now "
				    "%.16s...): refusing a second CRL under "
				    "one number", name, dec, mine->crl,
				    crlhex);
				goto out;
			}
		}
		/* Two CRLs of these media under one number must agree. */
		if (best != NULL && BN_cmp(num, best) == 0 &&
		    strcmp(crlhex, best_crl) != 0) {
			r = cairn_error(CAIRN_E_ROLLBACK, "%s and %s: two "
			    "different CRLs numbered %s", best_name, name, dec);
			goto out;
		}
		if (best == NULL || BN_cmp(num, best) > 0) {
			BN_free(best);
			best = num; /* transferred */
			num = NULL;
			best_name = name;
			memcpy(best_crl, crlhex, sizeof(best_crl));
		}
	}
	if (!update) {
		r = 0;
		goto out;
	}
	if (best != NULL && (mine == NULL || BN_cmp(best, mine->num) > 0)) {
		if (mine == NULL) {
			if (n == STATE_ENTRIES_MAX) {
				r = cairn_error(CAIRN_E_TOO_LARGE, "CRL state "
				    "%s: more than %d issuers", state_path,
				    STATE_ENTRIES_MAX);
				goto out;
			}
			if ((ns = reallocarray(s, n + 1, sizeof(*s))) ==
			    NULL) {
				r = cairn_error(CAIRN_E_NOMEM, "CRL state: "
				    "out of memory");
				goto out;
			}
			s = ns;
			mine = &s[n++];
			memset(mine, 0, sizeof(*mine));
			memcpy(mine->issuer, issuer, sizeof(mine->issuer));
		}
		BN_free(mine->num);
		mine->num = best; /* transferred */
		best = NULL;
		memcpy(mine->crl, best_crl, sizeof(mine->crl));
		qsort(s, n, sizeof(*s), state_cmp);
	}
	if ((r = state_format(s, n, &text, &textlen)) != 0)
		goto out;
	if (have_state && textlen == oldlen && memcmp(text, old, oldlen) == 0) {
		r = 0;
		goto out;
	}
	r = fileio_write_atomic(state_path, text, textlen, 0644,
	    FILEIO_REPLACE);
out:
	if (dfd != -1)
		close(dfd);
	X509_CRL_free(crl);
	ASN1_INTEGER_free(ai);
	BN_free(num);
	BN_free(best);
	OPENSSL_free(dec);
	OPENSSL_free(dec2);
	state_free(s, n);
	free(old);
	free(text);
	return r;
}
