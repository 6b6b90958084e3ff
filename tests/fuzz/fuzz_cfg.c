/*
 * fuzz_cfg.c: libFuzzer target for the strict YAML loader (lib/cfg.c).
 *
 * Ceremony scripts, templates and configuration are files an operator (or
 * an attacker who reaches the media) writes, so the loader must neither
 * crash, read past the length it was given, leak, take long, nor hand
 * back a tree that breaks the promises of cfg.h.  For every input:
 *  - a load either yields a document and no message, or no document and
 *    at least one message (return value CAIRN_E_CONFIG or
 *    CAIRN_E_TOO_LARGE);
 *  - every message starts with the file name and holds no raw control
 *    character (a hostile file cannot forge terminal output);
 *  - in a document, every node has a type and a line >= 1; scalars have
 *    text with no NUL and no length; lists and mappings answer exactly
 *    cfg_len() items; keys are unquoted scalars, unique in their mapping
 *    (so cfg_get() finds each key's own value); nesting and node counts
 *    stay within CFG_DEPTH_MAX and CFG_NODES_MAX;
 *  - every getter runs on the root and on each mapping with a few keys,
 *    and its problems are well-formed messages too.
 */
#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.yaml"

static void
check_messages(const struct cfg_errors *e)
{
	const unsigned char *p;
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (e->msg[i] == NULL ||
		    strncmp(e->msg[i], NAME ":", strlen(NAME ":")) != 0)
			abort();
		for (p = (const unsigned char *)e->msg[i]; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				abort();
	}
}

static size_t nodes;

static void
walk(const struct cfg_node *n, int depth)
{
	const struct cfg_node *k, *v;
	const char *s;
	size_t i, len;

	if (n == NULL || cfg_line(n) < 1)
		abort();
	nodes++;
	len = cfg_len(n);
	switch (cfg_type(n)) {
	case CFG_SCALAR:
		if ((s = cfg_scalar(n)) == NULL || len != 0 ||
		    cfg_item(n, 0) != NULL || cfg_key(n, 0) != NULL ||
		    cfg_value(n, 0) != NULL || cfg_get(n, "a") != NULL)
			abort();
		(void)strlen(s); /* ASan: a terminated, readable text */
		break;
	case CFG_SEQ:
		if (depth >= CFG_DEPTH_MAX || cfg_scalar(n) != NULL ||
		    cfg_quoted(n) || cfg_key(n, 0) != NULL ||
		    cfg_item(n, len) != NULL)
			abort();
		for (i = 0; i < len; i++)
			walk(cfg_item(n, i), depth + 1);
		break;
	case CFG_MAP:
		if (depth >= CFG_DEPTH_MAX || cfg_scalar(n) != NULL ||
		    cfg_quoted(n) || cfg_item(n, 0) != NULL ||
		    cfg_key(n, len) != NULL || cfg_key_node(n, len) != NULL ||
		    cfg_value(n, len) != NULL)
			abort();
		for (i = 0; i < len; i++) {
			k = cfg_key_node(n, i);
			v = cfg_value(n, i);
			if (k == NULL || v == NULL ||
			    cfg_type(k) != CFG_SCALAR || cfg_quoted(k) ||
			    cfg_key(n, i) != cfg_scalar(k) ||
			    cfg_scalar(k)[0] == '\0' ||
			    cfg_get(n, cfg_key(n, i)) != v)
				abort();
			walk(k, depth + 1);
			walk(v, depth + 1);
		}
		break;
	default:
		abort();
	}
}

/* Run every getter on `map` with keys a fuzzer can reach. */
static void
getters(struct cfg_check *c, const struct cfg_node *map)
{
	static const char *const keys[] = { "a", "b", "subject", "validity",
		"not-before", "policy", "ca", "size", "type", "list", NULL };
	static const char *const choices[] = { "rsa-3072", "ec-p384", "a",
		NULL };
	const struct cfg_node *l;
	const char *s;
	size_t i, n;

	(void)cfg_keys(c, map, keys);
	for (i = 0; keys[i] != NULL; i++) {
		if ((s = cfg_want_str(c, map, keys[i], 1, NULL)) != NULL)
			(void)strlen(s);
		(void)cfg_want_int(c, map, keys[i], 0, -5, 1000000, 0);
		(void)cfg_want_int(c, map, keys[i], 1, LLONG_MIN, LLONG_MAX, 0);
		(void)cfg_want_bool(c, map, keys[i], i % 2, 0);
		if (cfg_want_enum(c, map, keys[i], 1, choices, 0) > 2)
			abort();
		if (cfg_want_time(c, map, keys[i], 1, 0) < -1)
			abort();
		if (cfg_want_duration(c, map, keys[i], 1, 0) < -1)
			abort();
		if ((s = cfg_want_oid(c, map, keys[i], 1)) != NULL &&
		    strchr(s, '.') == NULL)
			abort();
		n = 7;
		l = cfg_want_strlist(c, map, keys[i], i % 2, &n);
		if ((l == NULL && n != 0) || (l != NULL && n != cfg_len(l)))
			abort();
		l = cfg_want_map(c, map, keys[i], 0);
		if (l != NULL && cfg_type(l) != CFG_MAP)
			abort();
		l = cfg_want_seq(c, map, keys[i], 0);
		if (l != NULL && cfg_type(l) != CFG_SEQ)
			abort();
	}
}

/* Getters on the root and on the first mappings found below it (a
 * bounded number: a run must stay fast on a file of 20,000 nodes). */
static size_t maps_checked;

static void
check_all(struct cfg_check *c, const struct cfg_node *n, int depth)
{
	size_t i;

	if (depth > 3 || maps_checked >= 32)
		return;
	if (cfg_type(n) == CFG_MAP) {
		maps_checked++;
		getters(c, n);
		for (i = 0; i < cfg_len(n); i++)
			check_all(c, cfg_value(n, i), depth + 1);
	} else if (cfg_type(n) == CFG_SEQ) {
		for (i = 0; i < cfg_len(n) && i < 4; i++)
			check_all(c, cfg_item(n, i), depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { 0 };
	struct cfg_doc *doc = (struct cfg_doc *)&errs;
	struct cfg_check c;
	char *buf;
	size_t n;
	int r;

	/* Exactly `size` bytes, no NUL after them: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	r = cfg_load_mem(NAME, buf, size, &doc, &errs);
	free(buf);
	check_messages(&errs);
	if (r != 0) {
		if (doc != NULL || errs.n == 0 ||
		    (r != CAIRN_E_CONFIG && r != CAIRN_E_TOO_LARGE))
			abort();
		cfg_errors_free(&errs);
		return 0;
	}
	if (doc == NULL || errs.n != 0 || cfg_root(doc) == NULL ||
	    strcmp(cfg_doc_name(doc), NAME) != 0)
		abort();

	nodes = 0;
	walk(cfg_root(doc), 0);
	if (nodes > CFG_NODES_MAX)
		abort();

	c.doc = doc;
	c.errs = &errs;
	maps_checked = 0;
	check_all(&c, cfg_root(doc), 0);
	n = errs.n;
	getters(&c, NULL); /* an absent section: nothing to report */
	if (errs.n != n)
		abort();
	check_messages(&errs);
	cfg_doc_free(doc);
	cfg_errors_free(&errs);
	return 0;
}
