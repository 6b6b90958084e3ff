/*
 * audit.c: hash-chained, signed logs (the format is in lib/audit.h).
 *
 * One function judges a line: chain_line().  The verifiers run it on every
 * line (audit_verify_mem over a buffer, audit_verify_file through a
 * bounded reader), audit_open runs it over an existing log before
 * appending, and the writers run it on each line they are about to write,
 * so that the log never receives a line its own verifier would refuse.
 *
 * Messages name the line and say what the break means, because the reader
 * is an auditor holding a log that was carried off a ceremony laptop:
 * "line 7: prev does not match the hash of line 6: line 6 was changed, or
 * lines were removed or reordered before line 7".  Text copied from the
 * log into a message is cut short and stripped of control characters: a
 * hostile log must not drive the auditor's terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "lib/audit.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/limits.h"
#include "lib/util.h"

#define CHECKPOINT_MAGIC "cairn-audit-checkpoint-v1\n"
#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define HASH_HEX_LEN 64
/* Flags every line is written with (audit.h). */
#define LINE_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
/* "2026-11-25T10:00:00.123456789Z": the longest time accepted. */
#define TIME_MAX_LEN 30
/* Magic, seq (20 digits), prev, time and three newlines. */
#define MSG_MAX (sizeof(CHECKPOINT_MAGIC) + 20 + HASH_HEX_LEN + \
	TIME_MAX_LEN + 4)
/* Characters of log text quoted in a message. */
#define QUOTE_MAX 64

/* Fields Cairn sets on every line; a caller's record may not carry them,
 * nor the checkpoint's own fields. */
static const char *const reserved_fields[] = {
	"seq", "prev", "time", "type", "sig", "signer", "md",
};
/* A checkpoint carries exactly these. */
static const char *const checkpoint_fields[] = {
	"seq", "prev", "time", "type", "signer", "md", "sig",
};
/* Fields only a checkpoint may carry. */
static const char *const signature_fields[] = { "sig", "signer", "md" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Where a walk along a chain stands.  Because seq has no gap and starts
 * at 1, the number of lines accepted is also the last seq.
 */
struct chain {
	unsigned long long line;        /* lines accepted so far */
	char head[HASH_HEX_LEN + 1];    /* hash of the last one */
	unsigned long long checkpoints;
	unsigned long long last_checkpoint; /* its seq, 0 when none */
	int last_is_checkpoint;
	EVP_PKEY *pub;                  /* borrowed; NULL: no signatures */
	char pub_fpr[HASH_HEX_LEN + 1]; /* hex SHA-256 SPKI of pub */
};

struct audit_log {
	char *path;
	int fd;         /* held open for the lock and to notice changes */
	dev_t dev;
	ino_t ino;
	off_t size;     /* bytes the log has, as far as we know */
	int broken;     /* a write failed: the tail is unknown */
	struct chain chain;
};

/* ---- small helpers --------------------------------------------------- */

/*
 * quote: copy at most QUOTE_MAX characters of `s` into `out` (which holds
 * QUOTE_MAX + 4 bytes), anything but printable ASCII as '?', and "..."
 * when cut.
 */
static const char *
quote(char out[QUOTE_MAX + 4], const char *s, size_t len)
{
	size_t i, n = len < QUOTE_MAX ? len : QUOTE_MAX;

	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int
is_hash_hex(const char *s, size_t len)
{
	size_t i;

	if (len != HASH_HEX_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
pub_fingerprint(EVP_PKEY *pub, char out[HASH_HEX_LEN + 1])
{
	uint8_t fpr[32];
	int r;

	out[0] = '\0';
	if ((r = cairn_spki_sha256(pub, fpr)) != 0)
		return r;
	cairn_hex(out, fpr, sizeof(fpr), 0);
	return 0;
}

/* The three digests a checkpoint may name, both ways. */
static const struct {
	const char *name;
	int nid;
} mds[] = {
	{ "sha256", NID_sha256 },
	{ "sha384", NID_sha384 },
	{ "sha512", NID_sha512 },
};

static const EVP_MD *
md_by_name(const char *name)
{
	if (strcmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(name, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(name, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

static const char *
md_name(const EVP_MD *md)
{
	size_t i;

	for (i = 0; i < NELEM(mds); i++)
		if (EVP_MD_get_type(md) == mds[i].nid)
			return mds[i].name;
	return NULL;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * time_check: `s` is "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (RFC 3339, UTC,
 * upper-case T and Z, 1 to 9 fraction digits) and names a real instant:
 * no 30 February, no hour 24; second 60 only at 23:59, where leap seconds
 * go.  Returns NULL, or what is wrong.
 */
static const char *
time_check(const char *s, size_t len)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int y, mo, d, h, mi, se, dim;
	size_t i;

	if (len < 20 || len > TIME_MAX_LEN || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
		return "not of the form 2026-11-25T10:00:00Z";
	if (len > 20) {
		if (s[19] != '.' || len == 21)
			return "not of the form 2026-11-25T10:00:00Z";
		for (i = 20; i < len - 1; i++)
			if (s[i] < '0' || s[i] > '9')
				return "its fraction of a second is not digits";
	} else if (s[19] != 'Z') {
		return "not of the form 2026-11-25T10:00:00Z";
	}
	if ((y = digits(s, 4)) < 0 || (mo = digits(s + 5, 2)) < 0 ||
	    (d = digits(s + 8, 2)) < 0 || (h = digits(s + 11, 2)) < 0 ||
	    (mi = digits(s + 14, 2)) < 0 || (se = digits(s + 17, 2)) < 0)
		return "not of the form 2026-11-25T10:00:00Z";
	if (mo < 1 || mo > 12)
		return "no such month";
	dim = mdays[mo - 1] + (mo == 2 && is_leap(y));
	if (d < 1 || d > dim)
		return "no such day in that month";
	if (h > 23 || mi > 59)
		return "no such hour or minute";
	if (se > 60 || (se == 60 && (h != 23 || mi != 59)))
		return "no such second (60 only at 23:59, a leap second)";
	return NULL;
}

/* now_rfc3339: the current UTC time as audit.h writes it. */
static int
now_rfc3339(char out[TIME_MAX_LEN + 1])
{
	time_t t = time(NULL);
	struct tm tm;

	out[0] = '\0';
	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 ||
	    strftime(out, TIME_MAX_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		return cairn_error(CAIRN_E_INTERNAL,
		    "the system clock gives no usable UTC time");
	return 0;
}

/* checkpoint_msg: the bytes a checkpoint signs (audit.h). */
static size_t
checkpoint_msg(char out[MSG_MAX], unsigned long long seq, const char *prev,
    const char *time_s)
{
	int n = snprintf(out, MSG_MAX, CHECKPOINT_MAGIC "%llu\n%s\n%s\n", seq,
	    prev, time_s);

	return n < 0 || (size_t)n >= MSG_MAX ? 0 : (size_t)n;
}

/* sig_verify: 1 when `sig` is `pub`'s signature over `msg` with `md`,
 * 0 when not; OpenSSL's queue is left empty either way. */
static int
sig_verify(EVP_PKEY *pub, const EVP_MD *md, const void *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* ---- judging one line ------------------------------------------------ */

static void
chain_init(struct chain *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->head, ZERO_HASH, sizeof(c->head));
}

/* chain_set_pub: check signatures with `pub` from now on (NULL: don't). */
static int
chain_set_pub(struct chain *c, EVP_PKEY *pub)
{
	c->pub = NULL;
	c->pub_fpr[0] = '\0';
	if (pub == NULL)
		return 0;
	if (pub_fingerprint(pub, c->pub_fpr) != 0)
		return cairn_error_prefix(CAIRN_E_INVAL,
		    "the given public key: ");
	c->pub = pub;
	return 0;
}

static int
line_too_long(const struct chain *c)
{
	return cairn_error(CAIRN_E_AUDIT, "line %llu: longer than %d bytes "
	    "(CAIRN_AUDIT_LINE_MAX): not a line this log format writes",
	    c->line + 1, CAIRN_AUDIT_LINE_MAX);
}

static int
line_cut(const struct chain *c)
{
	return cairn_error(CAIRN_E_AUDIT, "line %llu: the log ends in the "
	    "middle of line %llu (no newline at its end): the log was cut",
	    c->line + 1, c->line + 1);
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

/* A string field's value, or an error naming the line and the field. */
static int
get_string(unsigned long long n, json_t *o, const char *field,
    const char **s, size_t *len)
{
	json_t *v = json_object_get(o, field);

	*s = NULL;
	*len = 0;
	if (v == NULL)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: no \"%s\" field",
		    n, field);
	if (!json_is_string(v))
		return cairn_error(CAIRN_E_AUDIT, "line %llu: \"%s\" is %s, "
		    "not a string", n, field, json_kind(v));
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

static int
check_json_error(unsigned long long n, const json_error_t *e)
{
	char q[QUOTE_MAX + 4];

	switch (json_error_code(e)) {
	case json_error_duplicate_key:
		return cairn_error(CAIRN_E_AUDIT, "line %llu: a key appears "
		    "twice in the object (%s): one line, one meaning",
		    n, quote(q, e->text, strlen(e->text)));
	case json_error_end_of_input_expected:
		return cairn_error(CAIRN_E_AUDIT, "line %llu: data after the "
		    "JSON object (byte %d)", n, e->position);
	default:
		return cairn_error(CAIRN_E_AUDIT, "line %llu: not valid JSON: "
		    "%s (byte %d)", n, quote(q, e->text, strlen(e->text)),
		    e->position);
	}
}

/* The checkpoint's own fields, and its signature when pub is known. */
static int
check_checkpoint(const struct chain *c, unsigned long long n, json_t *o,
    unsigned long long seq, const char *prev, const char *time_s)
{
	char q[QUOTE_MAX + 4], msg[MSG_MAX];
	const char *key, *signer, *md_s, *sig_s;
	size_t i, signer_len, md_len, sig_len, msglen, siglen = 0;
	const EVP_MD *md;
	uint8_t *sig = NULL;
	json_t *v;
	int r;

	json_object_foreach(o, key, v) {
		for (i = 0; i < NELEM(checkpoint_fields); i++)
			if (strcmp(key, checkpoint_fields[i]) == 0)
				break;
		if (i == NELEM(checkpoint_fields))
			return cairn_error(CAIRN_E_AUDIT, "line %llu: a "
			    "checkpoint carries exactly seq, prev, time, type, "
			    "signer, md and sig; this one has \"%s\" besides",
			    n, quote(q, key, strlen(key)));
	}
	if ((r = get_string(n, o, "signer", &signer, &signer_len)) != 0 ||
	    (r = get_string(n, o, "md", &md_s, &md_len)) != 0 ||
	    (r = get_string(n, o, "sig", &sig_s, &sig_len)) != 0)
		return r;
	if (!is_hash_hex(signer, signer_len))
		return cairn_error(CAIRN_E_AUDIT, "line %llu: signer is not "
		    "64 lowercase hex digits (a SHA-256 key fingerprint)", n);
	if (strlen(md_s) != md_len || (md = md_by_name(md_s)) == NULL)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: md is \"%s\": "
		    "want sha256, sha384 or sha512", n,
		    quote(q, md_s, md_len));
	if (cairn_b64_decode(sig_s, sig_len, &sig, &siglen) != 0)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: sig is not "
		    "base64 (RFC 4648, padded, nothing else)", n);
	r = 0;
	if (c->pub == NULL)
		goto out;
	if (strcmp(signer, c->pub_fpr) != 0) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: checkpoint signed "
		    "by key %s, not by the given key %s", n, signer,
		    c->pub_fpr);
		goto out;
	}
	if ((msglen = checkpoint_msg(msg, seq, prev, time_s)) == 0) {
		r = cairn_error(CAIRN_E_INTERNAL, "line %llu: checkpoint "
		    "message too long", n);
		goto out;
	}
	if (!sig_verify(c->pub, md, msg, msglen, sig, siglen))
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: checkpoint "
		    "signature does not verify with the given key: line %llu "
		    "was changed after it was signed, or the key that "
		    "signed it is not the one its signer field names", n, n);
out:
	free(sig);
	return r;
}

/*
 * chain_line: judge the next line, `len` bytes at `p` without its "\n",
 * and on success move the chain past it.  Errors are CAIRN_E_AUDIT and
 * name the line (CAIRN_E_NOMEM / CAIRN_E_CRYPTO when we, not the line,
 * failed); the chain is unchanged then.
 */
static int
chain_line(struct chain *c, const char *p, size_t len)
{
	unsigned long long n = c->line + 1, seq;
	char q[QUOTE_MAX + 4], head[HASH_HEX_LEN + 1];
	const char *prev, *time_s, *type, *why;
	size_t prev_len, time_len, type_len, i;
	json_error_t jerr;
	json_int_t iseq;
	json_t *o = NULL, *v;
	int r, is_checkpoint;

	if (len > CAIRN_AUDIT_LINE_MAX)
		return line_too_long(c);
	if (len == 0)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: empty line: a "
		    "log line is never empty (a blank line was inserted, or "
		    "line %llu was emptied)", n, n);
	if (p[len - 1] == '\r')
		return cairn_error(CAIRN_E_AUDIT, "line %llu: ends with CR LF: "
		    "log lines end with LF alone (was the log converted to "
		    "Windows line ends?)", n);
	if (memchr(p, '\0', len) != NULL)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: contains a NUL "
		    "byte", n);
	if (n == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		return cairn_error(CAIRN_E_AUDIT, "line 1: starts with a UTF-8 "
		    "byte order mark: the log was re-saved by an editor");

	o = json_loadb(p, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (o == NULL)
		return check_json_error(n, &jerr);
	if (!json_is_object(o)) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: is %s, not a JSON "
		    "object", n, json_kind(o));
		goto out;
	}

	/* seq first: a gap or a repeat says most about what happened. */
	if ((v = json_object_get(o, "seq")) == NULL) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: no \"seq\" field",
		    n);
		goto out;
	}
	if (!json_is_integer(v)) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: seq is %s, not a "
		    "positive integer", n, json_kind(v));
		goto out;
	}
	if ((iseq = json_integer_value(v)) <= 0) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: seq is %lld, not a "
		    "positive integer", n, (long long)iseq);
		goto out;
	}
	seq = (unsigned long long)iseq;
	if (seq > n) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: seq is %llu, "
		    "expected %llu: lines were removed or reordered before "
		    "line %llu, or line %llu was changed", n, seq, n, n, n);
		goto out;
	}
	if (seq < n) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: seq is %llu, "
		    "expected %llu: a line was inserted, repeated or "
		    "reordered before line %llu, or line %llu was changed", n,
		    seq, n, n, n);
		goto out;
	}

	if ((r = get_string(n, o, "prev", &prev, &prev_len)) != 0)
		goto out;
	if (!is_hash_hex(prev, prev_len)) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: prev is not 64 "
		    "lowercase hex digits (a SHA-256 hash)", n);
		goto out;
	}
	if (strcmp(prev, c->head) != 0) {
		if (n == 1)
			r = cairn_error(CAIRN_E_AUDIT, "line 1: prev is not 64 "
			    "zeros, as the first line's must be: lines were "
			    "removed before line 1");
		else
			r = cairn_error(CAIRN_E_AUDIT, "line %llu: prev does "
			    "not match the hash of line %llu: line %llu was "
			    "changed, or lines were removed or reordered "
			    "before line %llu", n, n - 1, n - 1, n);
		goto out;
	}

	if ((r = get_string(n, o, "time", &time_s, &time_len)) != 0)
		goto out;
	if ((why = time_check(time_s, time_len)) != NULL) {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: time \"%s\" is not "
		    "an RFC 3339 UTC time: %s", n,
		    quote(q, time_s, time_len), why);
		goto out;
	}

	if ((r = get_string(n, o, "type", &type, &type_len)) != 0)
		goto out;
	if (strlen(type) == type_len && strcmp(type, "checkpoint") == 0) {
		is_checkpoint = 1;
		if ((r = check_checkpoint(c, n, o, seq, prev, time_s)) != 0)
			goto out;
	} else if (strlen(type) == type_len && strcmp(type, "record") == 0) {
		is_checkpoint = 0;
		for (i = 0; i < NELEM(signature_fields); i++)
			if (json_object_get(o, signature_fields[i]) != NULL) {
				r = cairn_error(CAIRN_E_AUDIT, "line %llu: a "
				    "record may not carry \"%s\": only "
				    "checkpoints are signed", n,
				    signature_fields[i]);
				goto out;
			}
	} else {
		r = cairn_error(CAIRN_E_AUDIT, "line %llu: type is \"%s\": "
		    "want \"record\" or \"checkpoint\"", n,
		    quote(q, type, type_len));
		goto out;
	}

	if ((r = cairn_sha256_hex(p, len, head)) != 0)
		goto out;
	memcpy(c->head, head, sizeof(c->head));
	c->line = n;
	c->last_is_checkpoint = is_checkpoint;
	if (is_checkpoint) {
		c->checkpoints++;
		c->last_checkpoint = seq;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}

/* chain_end: the rules for a whole log, once every line has passed. */
static int
chain_end(const struct chain *c, struct audit_report *rep)
{
	if (c->line == 0)
		return cairn_error(CAIRN_E_AUDIT, "line 1: the log is empty: "
		    "a log has at least one line and ends with a checkpoint");
	if (c->checkpoints == 0)
		return cairn_error(CAIRN_E_AUDIT, "line 1: not covered by a "
		    "signature: the log has no checkpoint, so none of its "
		    "%llu lines is signed", c->line);
	if (!c->last_is_checkpoint)
		return cairn_error(CAIRN_E_AUDIT, "line %llu: not covered by a "
		    "signature: lines %llu to %llu follow the last checkpoint "
		    "(line %llu): the final checkpoint was removed, or the log "
		    "was cut or never closed", c->last_checkpoint + 1,
		    c->last_checkpoint + 1, c->line, c->last_checkpoint);
	rep->lines = c->line;
	rep->checkpoints = c->checkpoints;
	rep->last_checkpoint = c->last_checkpoint;
	memcpy(rep->head, c->head, sizeof(rep->head));
	return 0;
}

/* ---- reading whole logs ---------------------------------------------- */

/*
 * walk_mem: run every line of `buf` through the chain.  A line is found by
 * its "\n"; the bytes after the last "\n" are a cut line.
 */
static int
walk_mem(struct chain *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	int r;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return (size_t)(end - p) > CAIRN_AUDIT_LINE_MAX ?
			    line_too_long(c) : line_cut(c);
		if ((r = chain_line(c, p, (size_t)(nl - p))) != 0)
			return r;
		p = nl + 1;
	}
	return 0;
}

/*
 * walk_fd: the same over a file, holding at most two lines' worth of it:
 * a log may be large, a line may not.  *total receives the bytes read.
 */
static int
walk_fd(struct chain *c, int fd, off_t *total)
{
	const size_t cap = 2 * ((size_t)CAIRN_AUDIT_LINE_MAX + 1);
	size_t start = 0, end = 0, scanned = 0;
	long long bytes = 0;
	char *buf, *nl;
	ssize_t n;
	int r = 0;

	*total = 0;
	if ((buf = malloc(cap)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	for (;;) {
		while ((nl = memchr(buf + scanned, '\n', end - scanned)) !=
		    NULL) {
			if ((r = chain_line(c, buf + start,
			    (size_t)(nl - (buf + start)))) != 0)
				goto out;
			start = scanned = (size_t)(nl - buf) + 1;
		}
		scanned = end;
		if (end - start > CAIRN_AUDIT_LINE_MAX) {
			r = line_too_long(c);
			goto out;
		}
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			scanned = end;
			start = 0;
		}
		n = read(fd, buf + end, cap - end);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = cairn_error(CAIRN_E_IO, "reading line %llu: %s",
			    c->line + 1, strerror(errno));
			goto out;
		}
		if (n == 0) {
			if (end > start)
				r = line_cut(c);
			break;
		}
		bytes += n;
		if (bytes > CAIRN_AUDIT_FILE_MAX) {
			r = cairn_error(CAIRN_E_TOO_LARGE, "line %llu: the log "
			    "is larger than %lld bytes (CAIRN_AUDIT_FILE_MAX)",
			    c->line + 1, (long long)CAIRN_AUDIT_FILE_MAX);
			goto out;
		}
		end += (size_t)n;
	}
	*total = (off_t)bytes;
out:
	free(buf);
	return r;
}

/*
 * open_log_fd: open `path` for reading into *fd, refusing symlinks and
 * anything but a regular file.  With `create`, make it (0600) when
 * missing and say so in *created.
 */
static int
open_log_fd(const char *path, int create, int *fd, int *created,
    struct stat *st)
{
	int r;

	*fd = -1;
	*created = 0;
	if (create) {
		*fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (*fd != -1)
			*created = 1;
		else if (errno != EEXIST)
			return cairn_error(CAIRN_E_IO, "%s: %s", path,
			    strerror(errno));
	}
	if (*fd == -1 &&
	    (*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return cairn_error(CAIRN_E_IO, "%s: %s%s", path,
		    strerror(errno), errno == ELOOP ?
			" (symbolic links are refused)" : "");
	if (fstat(*fd, st) != 0)
		r = cairn_error(CAIRN_E_IO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		r = cairn_error(CAIRN_E_IO, "%s: not a regular file", path);
	else
		return 0;
	close(*fd);
	*fd = -1;
	return r;
}

int
audit_verify_mem(const char *buf, size_t len, EVP_PKEY *pub,
    struct audit_report *rep)
{
	struct chain c;
	int r;

	if (rep == NULL || (buf == NULL && len > 0))
		return cairn_error(CAIRN_E_INVAL, "audit_verify_mem: no buffer "
		    "or no report");
	memset(rep, 0, sizeof(*rep));
	chain_init(&c);
	if ((r = chain_set_pub(&c, pub)) != 0)
		return r;
	if (len > (size_t)CAIRN_AUDIT_FILE_MAX)
		return cairn_error(CAIRN_E_TOO_LARGE, "line 1: the log is "
		    "larger than %lld bytes (CAIRN_AUDIT_FILE_MAX)",
		    (long long)CAIRN_AUDIT_FILE_MAX);
	if ((r = walk_mem(&c, buf, len)) != 0)
		return r;
	return chain_end(&c, rep);
}

int
audit_verify_file(const char *path, EVP_PKEY *pub, struct audit_report *rep)
{
	struct chain c;
	struct stat st;
	off_t total;
	int fd, created, r;

	if (rep == NULL || path == NULL)
		return cairn_error(CAIRN_E_INVAL, "audit_verify_file: no path "
		    "or no report");
	memset(rep, 0, sizeof(*rep));
	chain_init(&c);
	if ((r = chain_set_pub(&c, pub)) != 0)
		return r;
	if ((r = open_log_fd(path, 0, &fd, &created, &st)) != 0)
		return r;
	if (st.st_size > CAIRN_AUDIT_FILE_MAX)
		r = cairn_error(CAIRN_E_TOO_LARGE, "line 1: the log is larger "
		    "than %lld bytes (CAIRN_AUDIT_FILE_MAX)",
		    (long long)CAIRN_AUDIT_FILE_MAX);
	else if ((r = walk_fd(&c, fd, &total)) == 0)
		r = chain_end(&c, rep);
	close(fd);
	if (r != 0)
		return cairn_error_prefix(r, "%s: ", path);
	return 0;
}

/* ---- writing --------------------------------------------------------- */

int
audit_open(const char *path, struct audit_log **out)
{
	struct audit_log *log = NULL;
	struct stat st;
	int created = 0, r;

	if (out == NULL || path == NULL)
		return cairn_error(CAIRN_E_INVAL, "audit_open: no path");
	*out = NULL;
	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (log->path = strdup(path)) == NULL) {
		free(log);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	log->fd = -1;
	chain_init(&log->chain);
	if ((r = open_log_fd(path, 1, &log->fd, &created, &st)) != 0)
		goto fail;
	/* One writer at a time: two would both chain to the same head. */
	if (flock(log->fd, LOCK_EX | LOCK_NB) != 0) {
		r = cairn_error(CAIRN_E_IO, "%s: %s", path,
		    errno == EWOULDBLOCK ? "the log is open for writing "
			"elsewhere (another ceremony or process)" :
			strerror(errno));
		goto fail;
	}
	if (created && (r = fileio_fsync_dir(path)) != 0)
		goto fail;
	if ((r = walk_fd(&log->chain, log->fd, &log->size)) != 0) {
		r = cairn_error_prefix(r, "%s: refusing to append to a log "
		    "that does not verify: ", path);
		goto fail;
	}
	log->dev = st.st_dev;
	log->ino = st.st_ino;
	*out = log; /* transferred */
	return 0;
fail:
	audit_close(log);
	return r;
}

/* log_unchanged: the file is still the one we read, and nobody else
 * appended to it; else our next line would not chain. */
static int
log_unchanged(struct audit_log *log)
{
	struct stat st, pst;

	if (log->broken)
		return cairn_error(CAIRN_E_IO, "%s: an earlier write failed "
		    "and may have left part of a line; reopen the log to "
		    "check it", log->path);
	if (fstat(log->fd, &st) != 0)
		return cairn_error(CAIRN_E_IO, "%s: %s", log->path,
		    strerror(errno));
	if (lstat(log->path, &pst) != 0 || pst.st_dev != log->dev ||
	    pst.st_ino != log->ino)
		return cairn_error(CAIRN_E_IO, "%s: the log was removed or "
		    "replaced since it was opened", log->path);
	if (st.st_size != log->size)
		return cairn_error(CAIRN_E_IO, "%s: the log changed since it "
		    "was opened (%lld bytes, expected %lld): reopen it to "
		    "check it", log->path, (long long)st.st_size,
		    (long long)log->size);
	return 0;
}

/*
 * write_line: check `line` (no "\n") as the verifier will, with `pub` for
 * a checkpoint, then append it with its "\n" and fsync.  Nothing is
 * written when a check fails.
 */
static int
write_line(struct audit_log *log, const char *line, EVP_PKEY *pub)
{
	size_t len = strlen(line);
	struct chain next = log->chain;
	char *buf = NULL;
	int r;

	if (len > CAIRN_AUDIT_LINE_MAX)
		return cairn_error(CAIRN_E_INVAL, "the line would be %zu "
		    "bytes, more than CAIRN_AUDIT_LINE_MAX (%d)", len,
		    CAIRN_AUDIT_LINE_MAX);
	if ((r = chain_set_pub(&next, pub)) != 0)
		return r;
	if ((r = chain_line(&next, line, len)) != 0)
		return cairn_error_prefix(r == CAIRN_E_AUDIT ? CAIRN_E_INVAL :
		    r, "refusing to write a line that would not verify: ");
	if ((r = log_unchanged(log)) != 0)
		return r;
	if ((buf = malloc(len + 1)) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\n';
	if ((r = fileio_append_sync(log->path, buf, len + 1, 0600)) != 0) {
		log->broken = 1;
		goto out;
	}
	chain_set_pub(&next, NULL);
	log->chain = next;
	log->size += (off_t)(len + 1);
out:
	free(buf);
	return r;
}

/*
 * set_line_fields: put seq, prev and time of the line after `h` into `o`,
 * with time `time_s`, and `type`.
 */
static int
set_line_fields(const struct audit_head *h, json_t *o, const char *time_s,
    const char *type)
{
	if (json_object_set_new(o, "seq",
		json_integer((json_int_t)(h->seq + 1))) != 0 ||
	    json_object_set_new(o, "prev", json_string(h->hash)) != 0 ||
	    json_object_set_new(o, "time", json_string(time_s)) != 0 ||
	    json_object_set_new(o, "type", json_string(type)) != 0)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	return 0;
}

static void
head_of(const struct audit_log *log, struct audit_head *h)
{
	h->seq = log->chain.line;
	memcpy(h->hash, log->chain.head, sizeof(h->hash));
}

int
audit_make_record(const struct audit_head *h, const json_t *fields,
    char **line)
{
	char time_s[TIME_MAX_LEN + 1];
	json_t *o = NULL;
	size_t i;
	int r;

	*line = NULL;
	if (fields == NULL || !json_is_object(fields))
		return cairn_error(CAIRN_E_INVAL, "audit: a record is a JSON "
		    "object");
	for (i = 0; i < NELEM(reserved_fields); i++)
		if (json_object_get(fields, reserved_fields[i]) != NULL)
			return cairn_error(CAIRN_E_INVAL, "a record may not "
			    "carry \"%s\": the log sets seq, prev, time and "
			    "type, and only checkpoints carry sig, signer and "
			    "md", reserved_fields[i]);
	if (h->seq >= (unsigned long long)LLONG_MAX - 1)
		return cairn_error(CAIRN_E_INVAL, "the log is full");
	if ((r = now_rfc3339(time_s)) != 0)
		return r;
	if ((o = json_deep_copy(fields)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = set_line_fields(h, o, time_s, "record")) != 0)
		goto out;
	if ((*line = json_dumps(o, LINE_FLAGS)) == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "cannot serialize the line "
		    "(out of memory, or a value JSON cannot hold)");
out:
	json_decref(o);
	return r;
}

int
audit_append(struct audit_log *log, const json_t *fields)
{
	struct audit_head h;
	char *line = NULL;
	int r;

	if (log == NULL)
		return cairn_error(CAIRN_E_INVAL, "audit_append: no log");
	head_of(log, &h);
	if ((r = audit_make_record(&h, fields, &line)) == 0)
		r = write_line(log, line, NULL);
	free(line);
	return r;
}

int
audit_advance(struct audit_head *h, const char *line, size_t len,
    EVP_PKEY *pub)
{
	struct chain c;
	int r;

	chain_init(&c);
	c.line = h->seq;
	memcpy(c.head, h->hash, sizeof(c.head));
	if ((r = chain_set_pub(&c, pub)) != 0)
		return r;
	if ((r = chain_line(&c, line, len)) != 0)
		return r;
	h->seq = c.line;
	memcpy(h->hash, c.head, sizeof(h->hash));
	return 0;
}

/* sign: `key`'s signature with `md` over `msg`; *sig is new (free()). */
static int
sign(EVP_PKEY *key, const EVP_MD *md, const char *msg, size_t msglen,
    uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = CAIRN_E_CRYPTO;

	*sig = NULL;
	*siglen = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, (const uint8_t *)msg, msglen) !=
		1 || len == 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing the "
		    "checkpoint");
		goto out;
	}
	if ((buf = malloc(len)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, buf, &len, (const uint8_t *)msg, msglen) !=
	    1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "signing the "
		    "checkpoint");
		goto out;
	}
	*sig = buf; /* transferred */
	*siglen = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return r;
}

int
audit_make_checkpoint(const struct audit_head *h, EVP_PKEY *key,
    EVP_PKEY *pub, const EVP_MD *md, char **line)
{
	char time_s[TIME_MAX_LEN + 1], msg[MSG_MAX], fpr[HASH_HEX_LEN + 1];
	const char *mdn;
	uint8_t *sig = NULL;
	char *b64 = NULL;
	size_t msglen, siglen = 0;
	json_t *o = NULL;
	int r;

	*line = NULL;
	if (key == NULL || pub == NULL || md == NULL)
		return cairn_error(CAIRN_E_INVAL, "audit checkpoint: needs a "
		    "key, its public key and a digest");
	if ((mdn = md_name(md)) == NULL)
		return cairn_error(CAIRN_E_INVAL, "checkpoint digest %s: want "
		    "sha256, sha384 or sha512", EVP_MD_get0_name(md));
	if (h->seq >= (unsigned long long)LLONG_MAX - 1)
		return cairn_error(CAIRN_E_INVAL, "the log is full");
	if ((r = now_rfc3339(time_s)) != 0 ||
	    (r = pub_fingerprint(pub, fpr)) != 0)
		return r;
	if ((msglen = checkpoint_msg(msg, h->seq + 1, h->hash, time_s)) == 0)
		return cairn_error(CAIRN_E_INTERNAL, "checkpoint message too "
		    "long");
	if ((r = sign(key, md, msg, msglen, &sig, &siglen)) != 0)
		goto out;
	/* A token may answer with anything; what does not verify is never
	 * written (write_line checks the line again, as a verifier will). */
	if (!sig_verify(pub, md, msg, msglen, sig, siglen)) {
		r = cairn_error(CAIRN_E_CRYPTO, "the checkpoint signature does "
		    "not verify with the public key %s: the key and the "
		    "public key do not match, or the token returned a bad "
		    "signature; nothing was written", fpr);
		goto out;
	}
	if (siglen > (size_t)CAIRN_AUDIT_LINE_MAX ||
	    (b64 = malloc(4 * ((siglen + 2) / 3) + 1)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	if ((o = json_object()) == NULL ||
	    (r = set_line_fields(h, o, time_s, "checkpoint")) != 0 ||
	    json_object_set_new(o, "signer", json_string(fpr)) != 0 ||
	    json_object_set_new(o, "md", json_string(mdn)) != 0 ||
	    json_object_set_new(o, "sig", json_string(b64)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((*line = json_dumps(o, LINE_FLAGS)) == NULL)
		r = cairn_error(CAIRN_E_NOMEM, "cannot serialize the line");
out:
	json_decref(o);
	free(b64);
	free(sig);
	return r;
}

int
audit_checkpoint(struct audit_log *log, EVP_PKEY *key, EVP_PKEY *pub,
    const EVP_MD *md)
{
	struct audit_head h;
	char *line = NULL;
	int r;

	if (log == NULL)
		return cairn_error(CAIRN_E_INVAL, "audit_checkpoint: no log");
	head_of(log, &h);
	if ((r = audit_make_checkpoint(&h, key, pub, md, &line)) == 0)
		r = write_line(log, line, pub);
	free(line);
	return r;
}

unsigned long long
audit_seq(const struct audit_log *log)
{
	return log->chain.line;
}

const char *
audit_head(const struct audit_log *log)
{
	return log->chain.head;
}

void
audit_close(struct audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd); /* releases the lock */
	free(log->path);
	free(log);
}
