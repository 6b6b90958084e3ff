/*
 * fuzz_media.c: libFuzzer target for signed media (lib/media.c).
 *
 * Media arrive from the air-gapped root on a USB stick that anyone may
 * have handled, so both readers of their bytes get hostile input:
 *
 *  - media_manifest_parse() on the input as MANIFEST text.  What it
 *    accepts must keep the promises of media.h (at most
 *    CAIRN_MEDIA_FILES_MAX files, names sorted, unique and within the
 *    rules) and, the grammar having one spelling per manifest, print
 *    back to exactly the input.
 *  - media_verify() with the input as MANIFEST.p7s, in a directory made
 *    once that holds a fixed MANIFEST and the one file it lists, against
 *    a fixed test root: the whole CMS path, from DER decoding through the
 *    pinned-signer rule to the signature and the file checks.  Only a
 *    signature by that root's key can pass, so a pass is checked to have
 *    returned that manifest.
 *
 * The seeds in tests/fuzz/corpus/media/ are real manifests and real
 * signatures: p7s-sealed was written by media_seal() with the test
 * root's key, the others by `openssl cms -sign` (with and without signed
 * attributes, embedded, without certificates, by another root) and by
 * `openssl crl2pkcs7` (no signer).  The root is a test key made for this
 * target (`openssl req -x509 -newkey ec -pkeyopt
 * ec_paramgen_curve:P-384 -subj "/CN=Cairn Fuzz Root"`); its private key
 * was not kept: to make new signed seeds, make a new root, replace
 * root_pem below and re-sign the seeds.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* CN=Cairn Fuzz Root, EC P-384, SHA-256 fingerprint 9F:13:6D:99:...:73:3B */
static const char root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB2DCCAV6gAwIBAgIUHb5tOH5yv172LKTmpFfflw+FFigwCgYIKoZIzj0EAwMw\n"
    "GjEYMBYGA1UEAwwPQ2Fpcm4gRnV6eiBSb290MCAXDTI2MTEyNTA0MTIxNloYDzIx\n"
    "MjYxMTAxMDQxMjE2WjAaMRgwFgYDVQQDDA9DYWlybiBGdXp6IFJvb3QwdjAQBgcq\n"
    "hkjOPQIBBgUrgQQAIgNiAARMbI8x601Bx6Fdym7PMvIFdKb0oIDV9QojhJhzn0F5\n"
    "dNDBR/ht5LFFsQxgj0nrxnnyXxBIciIWL8OMHx/OOgHaTiQf9shhY6+v6nYX0wKR\n"
    "JGxykip8PlgwunBqvCUfU8ijYzBhMB0GA1UdDgQWBBSPMOZxSHZ4ktMbvLOY+X/q\n"
    "uVtgJTAfBgNVHSMEGDAWgBSPMOZxSHZ4ktMbvLOY+X/quVtgJTAPBgNVHRMBAf8E\n"
    "BTADAQH/MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAwNoADBlAjBJh4/D8uGr\n"
    "/vhhsJYSTSko6HlkWQ6OG9Huas0qWq8C3UHo5FCI4/CyVCnO5G7Ttk8CMQCSV3l/\n"
    "G+aftlfNIEFXsWW7YOoXqhga93JyeIyEYLNAKmdnJoS6wbLnNOAVKfvkeB0=\n"
    "-----END CERTIFICATE-----\n";

/* The media the signatures are fuzzed against: one file and its
 * manifest, as media_seal() wrote them. */
static const char hello[] = "hello from the root laptop\n";
static const char manifest[] =
    "cairn-media v1\n"
    "bc8f3c2db69e389c585986d81cc172e4c73367de4e572f38f868ad3004ad4552"
    "  27  hello.txt\n";

static X509 *root;
static char dir[256];
static char sig_path[sizeof(dir) + 32];

static void
put(const char *name, const void *buf, size_t len)
{
	char path[sizeof(dir) + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* A new file each time, not O_TRUNC: ext4 flushes a file truncated
	 * and rewritten when it is closed (auto_da_alloc), which would make
	 * every run wait for the disk.  No fsync: the file only needs to
	 * outlive one call. */
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || (len > 0 && write(fd, buf, len) != (ssize_t)len) ||
	    close(fd) != 0)
		abort();
}

static void
cleanup(void)
{
	char path[sizeof(dir) + 32];

	if (dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, MEDIA_MANIFEST);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hello.txt", dir);
	unlink(path);
	unlink(sig_path);
	rmdir(dir);
}

static void
init(void)
{
	const char *tmp = getenv("TMPDIR");
	BIO *b;

	if (root != NULL)
		return;
	if ((b = BIO_new_mem_buf(root_pem, -1)) == NULL ||
	    (root = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		abort();
	BIO_free(b);
	snprintf(dir, sizeof(dir), "%s/cairn-fuzz-media-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 200 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sig_path, sizeof(sig_path), "%s/%s", dir, MEDIA_SIGNATURE);
	atexit(cleanup);
	put(MEDIA_MANIFEST, manifest, sizeof(manifest) - 1);
	put("hello.txt", hello, sizeof(hello) - 1);
}

/* An accepted manifest, printed back in the one spelling the grammar
 * has, must be the input itself. */
static void
check_manifest(const struct media *m, const char *in, size_t len)
{
	const char hdr[] = "cairn-media v1\n";
	char line[64 + 2 + 20 + 2 + CAIRN_MEDIA_NAME_MAX + 2];
	size_t pos, i, j, nlen;
	int k;

	if (m->n > CAIRN_MEDIA_FILES_MAX || (m->n > 0 && m->files == NULL))
		abort();
	if (len < sizeof(hdr) - 1 || memcmp(in, hdr, sizeof(hdr) - 1) != 0)
		abort();
	pos = sizeof(hdr) - 1;
	for (i = 0; i < m->n; i++) {
		const struct media_file *f = &m->files[i];

		nlen = strlen(f->name);
		if (nlen == 0 || nlen > CAIRN_MEDIA_NAME_MAX ||
		    f->name[0] == '.' || f->size >
		    (uint64_t)CAIRN_MEDIA_FILE_MAX)
			abort();
		for (j = 0; j < nlen; j++)
			if (f->name[j] <= ' ' || f->name[j] > '~' ||
			    f->name[j] == '/')
				abort();
		if (i > 0 && strcmp(m->files[i - 1].name, f->name) >= 0)
			abort();
		for (j = 0; j < 32; j++)
			snprintf(line + 2 * j, 3, "%02x", f->sha256[j]);
		k = snprintf(line + 64, sizeof(line) - 64, "  %llu  %s\n",
		    (unsigned long long)f->size, f->name);
		if (k < 0 || (size_t)k >= sizeof(line) - 64)
			abort();
		if (len - pos < 64 + (size_t)k ||
		    memcmp(in + pos, line, 64 + (size_t)k) != 0)
			abort();
		pos += 64 + (size_t)k;
	}
	if (pos != len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media *m = NULL;
	char *buf;

	init();
	/* Exactly `size` bytes, no NUL after them: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);

	if (media_manifest_parse(buf, size, &m) == 0) {
		check_manifest(m, buf, size);
		media_free(m);
	} else if (m != NULL)
		abort(); /* *out must stay NULL on failure */
	m = NULL;

	put(MEDIA_SIGNATURE, buf, size);
	free(buf);
	if (media_verify(dir, root, &m) == 0) {
		if (m == NULL || m->n != 1 ||
		    strcmp(m->files[0].name, "hello.txt") != 0 ||
		    m->files[0].size != sizeof(hello) - 1)
			abort();
		media_free(m);
	} else if (m != NULL)
		abort();
	ERR_clear_error();
	return 0;
}
