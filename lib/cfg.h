/*
 * cfg.h: strict YAML documents with line numbers, for ceremony scripts,
 * certificate templates and daemon configuration.
 *
 * An operator's file is read once into a tree of nodes that remember their
 * line, then checked by code that asks for what it expects ("subject: a
 * string, required"; "validity: a duration"), collecting *every* problem
 * as "file:line: message" so that one run reports them all.  A file with
 * any problem is never acted on.
 *
 * Strictness, beyond YAML's own syntax (each refusal has a test):
 *  - anchors, aliases and tags other than the core schema's are refused
 *    (no billion-laughs expansion, no surprises in what a key means);
 *  - a mapping key given twice is an error (libyaml accepts it);
 *  - keys are plain scalars;
 *  - one document per file; an empty file is an error;
 *  - limits: CFG_FILE_MAX bytes, CFG_DEPTH_MAX nesting, CFG_NODES_MAX
 *    nodes (lib/limits.h).
 * Unknown keys are found by cfg_keys(), which suggests the closest known
 * key ("unknown key 'subjct'; did you mean 'subject'?").
 */
#ifndef CAIRN_CFG_H
#define CAIRN_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cfg_doc;
struct cfg_node;

enum cfg_type {
	CFG_SCALAR = 1,
	CFG_MAP,
	CFG_SEQ,
};

/* The problems found so far, each "file:line: message". */
struct cfg_errors {
	char **msg;
	size_t n;
};

/* cfg_errors_free: free the messages; the struct itself may be static. */
void cfg_errors_free(struct cfg_errors *errs);

/* cfg_errors_detail: make every message, one per line (cut at
 * CAIRN_ERRMSG_MAX), this thread's error detail; returns CAIRN_E_CONFIG. */
int cfg_errors_detail(const struct cfg_errors *errs);

/* cfg_errors_add: append "file:line: fmt..." (line 0: "file: fmt..."). */
void cfg_errors_add(struct cfg_errors *errs, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * cfg_load_file / cfg_load_mem: parse one YAML document.  `name` is the
 * file name used in messages.  On success *out is the document (free with
 * cfg_doc_free()); on failure *out is NULL, every problem found is in
 * `errs`, and the return value is CAIRN_E_CONFIG (or CAIRN_E_IO /
 * CAIRN_E_TOO_LARGE for the file itself, with the detail set).
 */
int cfg_load_file(const char *path, struct cfg_doc **out,
    struct cfg_errors *errs);
int cfg_load_mem(const char *name, const char *buf, size_t len,
    struct cfg_doc **out, struct cfg_errors *errs);
void cfg_doc_free(struct cfg_doc *doc);

/* Borrowed views; nodes live as long as their document. */
const struct cfg_node *cfg_root(const struct cfg_doc *doc);
const char *cfg_doc_name(const struct cfg_doc *doc);
enum cfg_type cfg_type(const struct cfg_node *n);
int cfg_line(const struct cfg_node *n);          /* 1-based */
/* The scalar's text (NUL-terminated; may contain no NUL), or NULL. */
const char *cfg_scalar(const struct cfg_node *n);
/* 1 when the scalar was written quoted ('x' or "x"): such a scalar is
 * always a string, never a number, boolean or null. */
int cfg_quoted(const struct cfg_node *n);
/* Items of a sequence, pairs of a mapping; 0 for a scalar. */
size_t cfg_len(const struct cfg_node *n);
const struct cfg_node *cfg_item(const struct cfg_node *seq, size_t i);
const char *cfg_key(const struct cfg_node *map, size_t i);
const struct cfg_node *cfg_key_node(const struct cfg_node *map, size_t i);
const struct cfg_node *cfg_value(const struct cfg_node *map, size_t i);
/* The value of `key` in `map`, or NULL when absent (or `map` is not a
 * mapping). */
const struct cfg_node *cfg_get(const struct cfg_node *map, const char *key);

/*
 * Checking.  A checker carries the document (for file names) and the
 * error list; every cfg_want_* records a problem and returns a failure
 * value, so a caller may read a whole section and look at errs->n once.
 */
struct cfg_check {
	const struct cfg_doc *doc;
	struct cfg_errors *errs;
};

/* cfg_fail: record "file:line(at): message". */
void cfg_fail(struct cfg_check *c, const struct cfg_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * cfg_keys: every key of `map` must be in `allowed` (NULL-terminated);
 * each other key is reported with the closest allowed key when one is
 * close (edit distance <= 2).  A `map` that is not a mapping is reported.
 * Returns the number of problems found.
 */
size_t cfg_keys(struct cfg_check *c, const struct cfg_node *map,
    const char *const *allowed);

/*
 * Typed getters.  `required`: a missing key is a problem; otherwise the
 * default is returned.  A present key of the wrong type is always a
 * problem naming what was expected ("line 7: validity: want a duration
 * such as 20y or 365d, have 'forever'").
 */
const char *cfg_want_str(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, const char *dflt);
/* Integers in decimal, within [min, max]. */
long long cfg_want_int(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long min, long long max,
    long long dflt);
/* true/false (also yes/no: refused, they are YAML 1.1's trap). */
int cfg_want_bool(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, int dflt);
/* One of `choices` (NULL-terminated); returns its index, or -1. */
int cfg_want_enum(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, const char *const *choices, int dflt);
/* RFC 3339 UTC instant, "2026-11-25T00:00:00Z" (only Z); seconds since
 * the epoch, or -1. */
long long cfg_want_time(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long dflt);
/* A duration: a positive integer and a unit, "20y", "365d", "12h",
 * "30m", "45s" (y = 365 days); seconds, or -1. */
long long cfg_want_duration(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long dflt);
/* A dotted OID, "1.3.6.1.4.1.99999.1" (at least two arcs, no leading
 * zeros); the text, or NULL. */
const char *cfg_want_oid(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required);
/* A sequence of strings; *n receives the count (0 when absent and not
 * required).  Returns the sequence node, or NULL. */
const struct cfg_node *cfg_want_strlist(struct cfg_check *c,
    const struct cfg_node *map, const char *key, int required, size_t *n);
/* A mapping or a sequence; NULL when absent (reported if required) or of
 * another type (always reported). */
const struct cfg_node *cfg_want_map(struct cfg_check *c,
    const struct cfg_node *map, const char *key, int required);
const struct cfg_node *cfg_want_seq(struct cfg_check *c,
    const struct cfg_node *map, const char *key, int required);

#endif /* CAIRN_CFG_H */
