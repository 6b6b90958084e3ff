/*
 * audit.h: hash-chained, signed logs that an auditor verifies offline.
 *
 * The ceremony log of cairn-root, and the export format of cairn-sub's
 * audit table, are JSON lines.  Each line is one JSON object with at
 * least:
 *   "seq"   1, 2, 3, ... with no gap
 *   "prev"  lowercase hex SHA-256 of the previous line's bytes (without
 *           its newline); 64 zeros on line 1
 *   "time"  RFC 3339 UTC, "2026-11-25T10:00:00Z"
 *   "type"  "record" or "checkpoint"
 * A record carries the caller's fields besides (never "seq", "prev",
 * "time", "type", "sig").  A checkpoint carries exactly seq, prev, time,
 * type and:
 *   "signer" lowercase hex SHA-256 of the signer's SubjectPublicKeyInfo
 *   "md"     "sha256", "sha384" or "sha512"
 *   "sig"    base64 of the signature, by the signer's key, over the bytes
 *            "cairn-audit-checkpoint-v1\n" seq "\n" prev "\n" time "\n"
 *            (seq in decimal): so a checkpoint signs the whole chain
 *            before it, and its own place and time.
 * Each line ends with "\n".  A ceremony appends records as it goes and a
 * checkpoint when it closes (or aborts, when the key is still usable).
 *
 * What verification catches, and what it cannot: a changed, removed,
 * inserted or reordered line breaks the chain at the next line (or, at the
 * last line, its checkpoint signature or the "not covered" rule below);
 * lines after the last checkpoint are reported as not covered by a
 * signature; a log cut exactly after a checkpoint looks complete, so the
 * ceremony transcript records the final seq and head hash for witnesses
 * to sign, and `audit_report` gives both to compare.
 */
#ifndef CAIRN_AUDIT_H
#define CAIRN_AUDIT_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

struct audit_log;

/*
 * audit_open: open the log at `path` for appending, creating it (mode
 * 0600) when missing.  An existing log is read and its chain checked
 * (structure and hashes, not signatures): a broken log is never appended
 * to (CAIRN_E_AUDIT, naming the first bad line).
 */
int audit_open(const char *path, struct audit_log **out);

/*
 * audit_append: append a record made of the fields of `fields` (borrowed;
 * a JSON object without seq/prev/time/type/sig) plus seq, prev, time and
 * type "record".  The line is written with JSON_COMPACT|JSON_SORT_KEYS and
 * fsync()ed before this returns.  Errors: CAIRN_E_INVAL (reserved field,
 * not an object, line over CAIRN_AUDIT_LINE_MAX), CAIRN_E_IO.
 */
int audit_append(struct audit_log *log, const json_t *fields);

/*
 * audit_checkpoint: append a checkpoint signed by `key` (a token key from
 * pkcs11/ or any EVP_PKEY) with digest `md` (sha256, sha384 or sha512).
 * `pub` is the matching public key, used for the "signer" fingerprint and
 * to verify the new signature before it is written.
 */
int audit_checkpoint(struct audit_log *log, EVP_PKEY *key, EVP_PKEY *pub,
    const EVP_MD *md);

/* The last seq written (0 for an empty log) and the hex hash of the last
 * line (64 zeros for an empty log); borrowed. */
unsigned long long audit_seq(const struct audit_log *log);
const char *audit_head(const struct audit_log *log);

/*
 * Chains kept elsewhere.  cairn-sub keeps its audit log as rows of its
 * store, written in the same transaction as what they record; these make
 * and check the lines of such a chain without a file.  The lines are the
 * same as a file log's, so `audit_verify_mem` verifies their export.
 */
struct audit_head {
	unsigned long long seq;     /* last seq, 0 for an empty chain */
	char hash[65];              /* hex hash of the last line; 64 zeros */
};

/* audit_make_record / audit_make_checkpoint: the text (no "\n") of the
 * line that follows `h`; *line is new (free()).  `h` is not moved: a line
 * counts only once it is stored, then audit_advance() moves the head. */
int audit_make_record(const struct audit_head *h, const json_t *fields,
    char **line);
int audit_make_checkpoint(const struct audit_head *h, EVP_PKEY *key,
    EVP_PKEY *pub, const EVP_MD *md, char **line);
/* audit_advance: check that `line` follows `h` as a verifier would (a
 * checkpoint's signature too when `pub` is given) and move `h` to it. */
int audit_advance(struct audit_head *h, const char *line, size_t len,
    EVP_PKEY *pub);

/* audit_close: free; the file is already synced.  NULL is fine. */
void audit_close(struct audit_log *log);

struct audit_report {
	unsigned long long lines;           /* lines read */
	unsigned long long checkpoints;
	unsigned long long last_checkpoint; /* its seq, 0 when none */
	char head[65];                      /* hash of the last line */
};

/*
 * audit_verify_mem / audit_verify_file: verify a whole log: every line is
 * a JSON object of the form above, seq has no gap, prev chains, every
 * checkpoint's signature verifies with `pub` (and its "signer" is `pub`'s
 * fingerprint), and the last line is a checkpoint.  Returns 0 and fills
 * `rep`, or CAIRN_E_AUDIT with the first problem as the detail, always
 * naming its line: "line 7: prev does not match the hash of line 6: line
 * 6 was changed, or lines were removed or reordered before line 7".
 * `pub` NULL checks only structure and chain (and still requires the log
 * to end with a checkpoint).
 */
int audit_verify_mem(const char *buf, size_t len, EVP_PKEY *pub,
    struct audit_report *rep);
int audit_verify_file(const char *path, EVP_PKEY *pub,
    struct audit_report *rep);

#endif /* CAIRN_AUDIT_H */
