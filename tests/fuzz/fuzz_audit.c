/*
 * fuzz_audit.c: libFuzzer target for the audit-log verifier (lib/audit.c).
 *
 * An auditor runs the verifier on a log carried off a ceremony laptop:
 * whatever that file holds, the verifier must neither crash, read past
 * the length it was given, nor leak, and what it accepts must be what
 * audit.h promises.  Each input is verified twice, without a key
 * (structure and chain) and with the fixed test key below (signatures
 * too), and on success the report is checked against the input itself:
 *   - a log that verifies with a key verifies without one, identically;
 *   - lines >= 1, checkpoints >= 1, last_checkpoint == lines (the log
 *     ends with a checkpoint), checkpoints <= lines;
 *   - lines is the number of "\n" in the input, which ends with one;
 *   - head is the SHA-256 of the last line, computed here independently.
 *
 * Seeds (tests/fuzz/corpus/audit) are made by tests/unit/test_audit.c
 * with the same test key: good-* verify with it, bad-* are the tampered
 * variants the unit test checks.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/audit.h"
#include "lib/error.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * TEST KEY ONLY: the P-256 key tests/unit/test_audit.c signs the seed
 * corpus with.  It signs nothing real; only its public half is used here.
 */
static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM5dSJ76c9oV98yPq\n"
    "NbgfSFlnmSnq/NFBVJxNbtSj+VShRANCAATFKjYqKutaRBpnCu5upJe3I7dwEf15\n"
    "ChK5zRmUR7Jyn/XgzoaYgkKCgKihkM3cSBh4/kENs7M78+Fn0yp8lL2Z\n"
    "-----END PRIVATE KEY-----\n";

/* The public half, kept for the whole run (reachable: not a leak). */
static EVP_PKEY *pub;

static EVP_PKEY *
load_pub(void)
{
	EVP_PKEY *key = NULL, *p = NULL;
	unsigned char *der = NULL;
	const unsigned char *q;
	BIO *b;
	int len;

	if ((b = BIO_new_mem_buf(test_key_pem, -1)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL ||
	    (len = i2d_PUBKEY(key, &der)) <= 0)
		abort();
	q = der;
	if ((p = d2i_PUBKEY(NULL, &q, len)) == NULL)
		abort();
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	BIO_free(b);
	return p;
}

/* The report of a log that verified must describe `buf`. */
static void
check_report(const char *buf, size_t size, const struct audit_report *rep)
{
	unsigned long long newlines = 0;
	const char *last;
	uint8_t md[32];
	unsigned int mdlen;
	char hex[65];
	size_t i;

	for (i = 0; i < size; i++)
		newlines += buf[i] == '\n';
	if (rep->lines < 1 || rep->checkpoints < 1 ||
	    rep->checkpoints > rep->lines ||
	    rep->last_checkpoint > rep->lines ||
	    rep->last_checkpoint != rep->lines ||
	    rep->lines != newlines || size == 0 || buf[size - 1] != '\n')
		abort();
	/* The last line: from after the one "\n" before the last to it. */
	last = buf + size - 1;
	while (last > buf && last[-1] != '\n')
		last--;
	if (EVP_Digest(last, (size_t)(buf + size - 1 - last), md, &mdlen,
	    EVP_sha256(), NULL) != 1)
		abort();
	cairn_hex(hex, md, sizeof(md), 0);
	if (rep->head[64] != '\0' || strcmp(hex, rep->head) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_report with, without;
	int r_with, r_without;
	char *buf;

	if (pub == NULL)
		pub = load_pub();
	/* Exactly `size` bytes, no NUL after them: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);

	r_without = audit_verify_mem(buf, size, NULL, &without);
	r_with = audit_verify_mem(buf, size, pub, &with);
	/* Only the log's own faults: never a crypto or internal failure. */
	if ((r_without != 0 && r_without != CAIRN_E_AUDIT) ||
	    (r_with != 0 && r_with != CAIRN_E_AUDIT))
		abort();
	/* Every failure names its line. */
	if (r_with != 0 && strncmp(cairn_errmsg(r_with), "line ", 5) != 0)
		abort();
	if (r_without != 0 &&
	    (audit_verify_mem(buf, size, NULL, &without) != r_without ||
	    strncmp(cairn_errmsg(r_without), "line ", 5) != 0))
		abort();
	if (r_without == 0)
		check_report(buf, size, &without);
	if (r_with == 0) {
		/* The key only adds checks. */
		if (r_without != 0 || with.lines != without.lines ||
		    with.checkpoints != without.checkpoints ||
		    with.last_checkpoint != without.last_checkpoint ||
		    strcmp(with.head, without.head) != 0)
			abort();
		check_report(buf, size, &with);
	}
	free(buf);
	ERR_clear_error();
	cairn_error_clear();
	return 0;
}
