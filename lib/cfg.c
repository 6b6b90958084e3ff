/*
 * cfg.c: strict YAML documents with line numbers (see cfg.h).
 *
 * The file is read with libyaml's event API and the tree is built here,
 * event by event, so that nothing YAML can express beyond plain data ever
 * takes effect: an alias is an event that is refused, never a reference
 * that is expanded (a billion-laughs file costs a few messages, not
 * memory), and the limits are checked as each event arrives, before the
 * next one is even scanned.  The tree keeps what the checkers need (line,
 * text, how a scalar was written, parents for the names in messages) and
 * owes nothing to libyaml once loaded.
 *
 * Problems found while loading are collected with their lines, sorted,
 * and handed over only when the load fails: a document is returned only
 * from a file with no problem at all.  Every message goes through
 * msg_escape(), so that text from a hostile file (a "\e[2J" escape in a
 * quoted key, a right-to-left override) cannot forge the terminal output
 * an operator reads.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"

/*
 * Problems one load reports before it stops reading.  Past a hundred the
 * file is not a script with mistakes but something else (a binary, a
 * generated flood of aliases), and more lines help nobody.
 */
#define CFG_PROBLEMS_MAX 100
/* Bytes of a value or key quoted in a message; longer ones end in "...". */
#define SHOW_MAX 64
/* Bytes of a path ("certificate.extensions[2].oid") in a message. */
#define PATH_MAX_SHOWN 160
/* Recent messages a checker compares a new one with (see vfail_at()). */
#define DEDUP_WINDOW 64

static const char core_tag[] = "tag:yaml.org,2002:";

struct cfg_node {
	enum cfg_type type;
	int line;               /* 1-based */
	int plain;              /* a plain scalar: may read as int/bool/null */
	int alias;              /* stands for a refused alias */
	char *text;             /* scalar: NUL-terminated, no NUL inside */
	struct cfg_node **kids; /* seq: items; map: key, value, key, value... */
	size_t nkids, cap;
	struct cfg_node *parent;
	size_t idx;             /* position in parent->kids */
};

struct cfg_doc {
	char *name;
	struct cfg_node *root;
	struct cfg_node **all; /* every node, for cfg_doc_free() */
	size_t nall, capall;
};

/* ---- messages ------------------------------------------------------------ */

static void
oom(void)
{
	/* A problem that cannot be recorded must not let a file pass. */
	fputs("cairn: out of memory while recording a configuration problem\n",
	    stderr);
	abort();
}

static char *vfmt(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
vfmt(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	if ((s = malloc((size_t)n + 1)) == NULL)
		oom();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *fmt_alloc(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
fmt_alloc(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	return s;
}

/*
 * Length of the valid UTF-8 sequence at s (at most `left` bytes) and its
 * code point, or 0 when the bytes there are not valid UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF are not).
 */
static size_t
utf8_seq(const unsigned char *s, size_t left, unsigned long *cp)
{
	unsigned long c;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters a terminal may act on: C0 and C1 controls, DEL, and the
 * bidirectional overrides and isolates that reorder what is shown. */
static int
unsafe_cp(unsigned long c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200e || c == 0x200f || c == 0x061c;
}

/*
 * msg_escape: a copy of s in which control characters are written \xNN
 * (bytes below 0x20 and 0x7f, and bytes that are not valid UTF-8) or
 * \uNNNN (C1 controls and bidirectional controls); other UTF-8 is kept.
 */
static char *
msg_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	unsigned long c;
	char *out, *o;

	if ((out = malloc(len * 6 + 1)) == NULL)
		oom();
	o = out;
	while (i < len) {
		n = utf8_seq(p + i, len - i, &c);
		if (n == 0 || (n == 1 && unsafe_cp(c))) {
			o += sprintf(o, "\\x%02x", p[i]);
			i++;
		} else if (unsafe_cp(c)) {
			o += sprintf(o, "\\u%04lx", c);
			i += n;
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
	return out;
}

/* "file:line: body" (line 0: "file: body"), escaped. */
static char *
msg_build(const char *file, int line, const char *body)
{
	char *raw, *msg;

	if (file == NULL)
		file = "<input>";
	if (line > 0)
		raw = fmt_alloc("%s:%d: %s", file, line, body);
	else
		raw = fmt_alloc("%s: %s", file, body);
	msg = msg_escape(raw);
	free(raw);
	return msg;
}

static void
errs_append(struct cfg_errors *errs, char *msg)
{
	char **m;

	if (errs == NULL) {
		free(msg);
		return;
	}
	if ((m = realloc(errs->msg, (errs->n + 1) * sizeof(*m))) == NULL)
		oom();
	errs->msg = m;
	errs->msg[errs->n++] = msg;
}

int
cfg_errors_detail(const struct cfg_errors *errs)
{
	char msg[CAIRN_ERRMSG_MAX];
	size_t i, len = 0;

	msg[0] = '\0';
	for (i = 0; i < errs->n && len < sizeof(msg) - 1; i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
		    i > 0 ? "\n" : "", errs->msg[i]);
	return cairn_error(CAIRN_E_CONFIG, "%s", msg);
}

void
cfg_errors_free(struct cfg_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

void
cfg_errors_add(struct cfg_errors *errs, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	body = vfmt(fmt, ap);
	va_end(ap);
	errs_append(errs, msg_build(file, line, body));
	free(body);
}

/*
 * show: s cut to SHOW_MAX bytes (at a character boundary) with "..."
 * after, into out (SHOW_MAX + 4 bytes).  Escaping is left to msg_build().
 */
#define SHOW_SIZE (SHOW_MAX + 4)
static const char *
show(const char *s, char out[SHOW_SIZE])
{
	size_t n = strlen(s);

	if (n <= SHOW_MAX)
		return s;
	n = SHOW_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

/* ---- the tree ------------------------------------------------------------ */

static int
is_null_text(const char *s)
{
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* A plain null, ~ or empty scalar: what a required key may not be. */
static int
is_null(const struct cfg_node *n)
{
	return n->type == CFG_SCALAR && n->plain && is_null_text(n->text);
}

const struct cfg_node *
cfg_root(const struct cfg_doc *doc)
{
	return doc == NULL ? NULL : doc->root;
}

const char *
cfg_doc_name(const struct cfg_doc *doc)
{
	return doc == NULL ? NULL : doc->name;
}

enum cfg_type
cfg_type(const struct cfg_node *n)
{
	return n == NULL ? (enum cfg_type)0 : n->type;
}

int
cfg_line(const struct cfg_node *n)
{
	return n == NULL ? 0 : n->line;
}

const char *
cfg_scalar(const struct cfg_node *n)
{
	return n == NULL || n->type != CFG_SCALAR ? NULL : n->text;
}

int
cfg_quoted(const struct cfg_node *n)
{
	return n != NULL && n->type == CFG_SCALAR && !n->plain;
}

size_t
cfg_len(const struct cfg_node *n)
{
	if (n == NULL)
		return 0;
	if (n->type == CFG_SEQ)
		return n->nkids;
	if (n->type == CFG_MAP)
		return n->nkids / 2;
	return 0;
}

const struct cfg_node *
cfg_item(const struct cfg_node *seq, size_t i)
{
	if (seq == NULL || seq->type != CFG_SEQ || i >= seq->nkids)
		return NULL;
	return seq->kids[i];
}

const struct cfg_node *
cfg_key_node(const struct cfg_node *map, size_t i)
{
	if (map == NULL || map->type != CFG_MAP || i >= map->nkids / 2)
		return NULL;
	return map->kids[2 * i];
}

const char *
cfg_key(const struct cfg_node *map, size_t i)
{
	return cfg_scalar(cfg_key_node(map, i));
}

const struct cfg_node *
cfg_value(const struct cfg_node *map, size_t i)
{
	if (map == NULL || map->type != CFG_MAP || i >= map->nkids / 2)
		return NULL;
	return map->kids[2 * i + 1];
}

const struct cfg_node *
cfg_get(const struct cfg_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != CFG_MAP || key == NULL)
		return NULL;
	for (i = 0; i + 1 < map->nkids; i += 2)
		if (map->kids[i]->type == CFG_SCALAR &&
		    strcmp(map->kids[i]->text, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

void
cfg_doc_free(struct cfg_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nall; i++) {
		free(doc->all[i]->text);
		free(doc->all[i]->kids);
		free(doc->all[i]);
	}
	free(doc->all);
	free(doc->name);
	free(doc);
}

/*
 * path: where n is, for messages: "certificate.subject",
 * "steps[2].action"; "" for the root.  Cut to PATH_MAX_SHOWN bytes.
 */
#define PATH_SIZE (PATH_MAX_SHOWN + 4)
static const char *
path(const struct cfg_node *n, char out[PATH_SIZE])
{
	const struct cfg_node *chain[CFG_DEPTH_MAX + 2];
	char big[PATH_MAX_SHOWN * 2 + SHOW_SIZE + 32], sh[SHOW_SIZE];
	size_t k = 0, used = 0, len;
	const struct cfg_node *p, *key;
	int w;

	for (p = n; p != NULL && p->parent != NULL &&
	    k < sizeof(chain) / sizeof(chain[0]); p = p->parent)
		chain[k++] = p;
	big[0] = '\0';
	while (k > 0 && used < PATH_MAX_SHOWN) {
		p = chain[--k];
		if (p->parent->type == CFG_SEQ) {
			w = snprintf(big + used, sizeof(big) - used, "[%zu]",
			    p->idx);
		} else {
			key = p->parent->kids[p->idx & ~(size_t)1];
			w = snprintf(big + used, sizeof(big) - used, "%s%s",
			    used > 0 ? "." : "", key->type == CFG_SCALAR ?
			    show(key->text, sh) : "?");
		}
		if (w < 0)
			break;
		used += (size_t)w;
		if (used >= sizeof(big))
			used = sizeof(big) - 1;
	}
	len = strlen(big);
	if (len > PATH_MAX_SHOWN || k > 0) {
		if (len > PATH_MAX_SHOWN)
			len = PATH_MAX_SHOWN;
		while (len > 0 && ((unsigned char)big[len] & 0xc0) == 0x80)
			len--;
		memcpy(out, big, len);
		memcpy(out + len, "...", 4);
	} else {
		memcpy(out, big, len + 1);
	}
	return out;
}

/* ---- scalar syntax ------------------------------------------------------- */

/* Decimal as cfg_want_int() reads it: -?(0|[1-9][0-9]*), no "-0".
 * Returns 1 with *v, 0 for another text, -1 for one out of range. */
static int
parse_int(const char *s, long long *v)
{
	unsigned long long acc = 0, lim;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return 0;
	if (*s == '0' && (s[1] != '\0' || neg))
		return 0;
	lim = (unsigned long long)LLONG_MAX + (neg ? 1 : 0);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		if (acc > (lim - (unsigned long long)(*s - '0')) / 10) {
			/* "9999...x" is no int, "9999...9" is too big */
			while (*s >= '0' && *s <= '9')
				s++;
			return *s == '\0' ? -1 : 0;
		}
		acc = acc * 10 + (unsigned long long)(*s - '0');
	}
	if (neg)
		*v = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)acc;
	else
		*v = (long long)acc;
	return 1;
}

static int
digits_run(const char *s)
{
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* The core schema's float, for a !!float tag. */
static int
is_float_text(const char *s)
{
	int a, b = 0;

	if (*s == '-' || *s == '+')
		s++;
	if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 ||
	    strcmp(s, ".INF") == 0)
		return 1;
	if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 ||
	    strcmp(s, ".NAN") == 0)
		return 1;
	a = digits_run(s);
	s += a;
	if (*s == '.') {
		s++;
		b = digits_run(s);
		s += b;
	}
	if (a == 0 && b == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (digits_run(s) == 0)
			return 0;
		s += digits_run(s);
	}
	return *s == '\0';
}

/* ---- loading ------------------------------------------------------------- */

struct problem {
	int line;
	size_t seq;
	char *msg;
};

struct loader {
	const char *name;
	const char *buf;
	size_t len;
	struct cfg_doc *doc;
	struct cfg_node *stack[CFG_DEPTH_MAX];
	size_t depth;
	struct problem *probs;
	size_t nprobs, capprobs;
	size_t docs;
	int docline;    /* line of the first document's start */
	int stop;       /* no more events wanted */
	int nomem;
	int too_many;
};

static void problem(struct loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct loader *L, int line, const char *fmt, ...)
{
	struct problem *p;
	va_list ap;

	if (L->too_many)
		return;
	if (L->nprobs == CFG_PROBLEMS_MAX) {
		L->too_many = 1;
		L->stop = 1;
		return;
	}
	if (L->nprobs == L->capprobs) {
		L->capprobs = L->capprobs ? L->capprobs * 2 : 8;
		if ((p = realloc(L->probs, L->capprobs * sizeof(*p))) == NULL)
			oom();
		L->probs = p;
	}
	p = &L->probs[L->nprobs];
	p->line = line;
	p->seq = L->nprobs++;
	va_start(ap, fmt);
	p->msg = vfmt(fmt, ap);
	va_end(ap);
}

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
mark_line(const yaml_mark_t *m)
{
	return m->line >= (size_t)INT_MAX ? INT_MAX : (int)m->line + 1;
}

/* The 1-based line holding byte `off` of the input. */
static int
offset_line(const struct loader *L, size_t off)
{
	size_t i;
	int line = 1;

	if (off > L->len)
		off = L->len;
	for (i = 0; i < off; i++)
		if (L->buf[i] == '\n' || (L->buf[i] == '\r' &&
		    (i + 1 >= L->len || L->buf[i + 1] != '\n')))
			line++;
	return line;
}

/* 1 when 1-based line `line` of the input holds a tab. */
static int
line_has_tab(const struct loader *L, int line)
{
	size_t i = 0;
	int cur = 1;

	while (i < L->len && cur < line) {
		if (L->buf[i] == '\n')
			cur++;
		i++;
	}
	for (; i < L->len && L->buf[i] != '\n'; i++)
		if (L->buf[i] == '\t')
			return 1;
	return 0;
}

static void
yaml_problem(struct loader *L, const yaml_parser_t *p)
{
	const char *what = p->problem != NULL ? p->problem : "malformed YAML";
	int line;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		L->nomem = 1;
		return;
	case YAML_READER_ERROR:
		line = offset_line(L, p->problem_offset);
		if (p->problem_value != -1)
			problem(L, line, "%s (0x%02X at byte %zu): the file "
			    "must be UTF-8 text", what,
			    (unsigned)p->problem_value, p->problem_offset);
		else
			problem(L, line, "%s (at byte %zu): the file must "
			    "be UTF-8 text", what, p->problem_offset);
		return;
	default:
		break;
	}
	line = mark_line(&p->problem_mark);
	if (p->context != NULL)
		problem(L, line, "%s (%s at line %d)%s", what, p->context,
		    mark_line(&p->context_mark),
		    line_has_tab(L, line) ? "; tabs cannot indent YAML, "
		    "use spaces" : "");
	else
		problem(L, line, "%s%s", what, line_has_tab(L, line) ?
		    "; tabs cannot indent YAML, use spaces" : "");
}

static struct cfg_node *
new_node(struct loader *L, enum cfg_type type, const yaml_mark_t *m)
{
	struct cfg_doc *d = L->doc;
	struct cfg_node *n, **all;

	if (d->nall >= CFG_NODES_MAX) {
		problem(L, mark_line(m), "more than %d values in the file "
		    "(keys, values and list items); this is not a script "
		    "or template Cairn reads", CFG_NODES_MAX);
		L->stop = 1;
		return NULL;
	}
	if (d->nall == d->capall) {
		size_t cap = d->capall ? d->capall * 2 : 64;

		if ((all = realloc(d->all, cap * sizeof(*all))) == NULL) {
			L->nomem = 1;
			return NULL;
		}
		d->all = all;
		d->capall = cap;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		L->nomem = 1;
		return NULL;
	}
	n->type = type;
	n->line = mark_line(m);
	d->all[d->nall++] = n;
	return n;
}

static void
check_anchor(struct loader *L, const yaml_char_t *anchor, const yaml_mark_t *m)
{
	char sh[SHOW_SIZE];

	if (anchor != NULL)
		problem(L, mark_line(m), "anchor '&%s' refused: YAML anchors "
		    "and aliases are not allowed, write each value out in full",
		    show((const char *)anchor, sh));
}

/* A tag is allowed only from the core schema, on a node it describes. */
static void
check_tag(struct loader *L, struct cfg_node *n, const yaml_char_t *ytag)
{
	const char *tag = (const char *)ytag, *t;
	char sh[SHOW_SIZE], shv[SHOW_SIZE];
	long long v;
	int ok;

	if (tag == NULL)
		return;
	if (strncmp(tag, core_tag, sizeof(core_tag) - 1) != 0) {
		problem(L, n->line, "tag '%s' refused: only the core tags "
		    "!!str, !!int, !!bool, !!null, !!float, !!map and !!seq "
		    "are allowed", show(tag, sh));
		return;
	}
	t = tag + sizeof(core_tag) - 1;
	if (strcmp(t, "str") != 0 && strcmp(t, "int") != 0 &&
	    strcmp(t, "bool") != 0 && strcmp(t, "null") != 0 &&
	    strcmp(t, "float") != 0 && strcmp(t, "map") != 0 &&
	    strcmp(t, "seq") != 0) {
		problem(L, n->line, "tag '!!%s' refused: only !!str, !!int, "
		    "!!bool, !!null, !!float, !!map and !!seq are allowed",
		    show(t, sh));
		return;
	}
	if (n->type != CFG_SCALAR) {
		if (strcmp(t, n->type == CFG_MAP ? "map" : "seq") != 0)
			problem(L, n->line, "tag '!!%s' on a %s", t,
			    n->type == CFG_MAP ? "mapping" : "list");
		return;
	}
	if (strcmp(t, "map") == 0 || strcmp(t, "seq") == 0) {
		problem(L, n->line, "tag '!!%s' on '%s', which is not a %s", t,
		    show(n->text, sh), t[0] == 'm' ? "mapping" : "list");
		return;
	}
	if (strcmp(t, "str") == 0) {
		n->plain = 0; /* a string, whatever it looks like */
		return;
	}
	if (!n->plain) {
		problem(L, n->line, "tag '!!%s' on a quoted value '%s': write "
		    "the value without quotes", t, show(n->text, shv));
		return;
	}
	if (t[0] == 'i')
		ok = parse_int(n->text, &v) == 1;
	else if (t[0] == 'b')
		ok = strcmp(n->text, "true") == 0 ||
		    strcmp(n->text, "false") == 0;
	else if (t[0] == 'n')
		ok = is_null_text(n->text);
	else
		ok = is_float_text(n->text);
	if (!ok)
		problem(L, n->line, "tag '!!%s' on '%s', which is not of that "
		    "type", t, show(n->text, sh));
}

static void
check_key(struct loader *L, const struct cfg_node *k)
{
	char sh[SHOW_SIZE];

	if (k->alias)
		return; /* reported as an alias */
	if (k->type != CFG_SCALAR)
		problem(L, k->line, "a key must be a plain word, not a %s",
		    k->type == CFG_MAP ? "mapping" : "list");
	else if (!k->plain)
		problem(L, k->line, "key '%s' must be written plain, without "
		    "quotes, block indicator or tag", show(k->text, sh));
	else if (k->text[0] == '\0')
		problem(L, k->line, "empty key");
}

static int
attach(struct loader *L, struct cfg_node *n)
{
	struct cfg_node *p, **kids;

	if (L->depth == 0) {
		if (L->doc->root == NULL)
			L->doc->root = n;
		return 0;
	}
	p = L->stack[L->depth - 1];
	if (p->nkids == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;

		if ((kids = realloc(p->kids, cap * sizeof(*kids))) == NULL) {
			L->nomem = 1;
			return -1;
		}
		p->kids = kids;
		p->cap = cap;
	}
	n->parent = p;
	n->idx = p->nkids;
	p->kids[p->nkids++] = n;
	if (p->type == CFG_MAP) {
		if (n->idx % 2 == 0)
			check_key(L, n);
		else if (n->type == CFG_SCALAR && n->plain &&
		    n->text[0] == '\0')
			/* libyaml marks an empty value where the next token
			 * is, often the next line: it belongs to its key. */
			n->line = p->kids[n->idx - 1]->line;
	}
	return 0;
}

struct keyref {
	const char *key;
	size_t i;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Duplicate keys in one mapping, in O(n log n) for large mappings. */
static void
check_dups(struct loader *L, const struct cfg_node *m)
{
	struct keyref *r;
	size_t n = 0, i, j, first;
	char sh[SHOW_SIZE], ph[PATH_SIZE];
	const char *where;

	if (m->nkids < 4)
		return;
	if ((r = malloc(m->nkids / 2 * sizeof(*r))) == NULL) {
		L->nomem = 1;
		return;
	}
	for (i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->type == CFG_SCALAR && !m->kids[i]->alias) {
			r[n].key = m->kids[i]->text;
			r[n].i = i;
			n++;
		}
	qsort(r, n, sizeof(*r), keyref_cmp);
	where = path(m, ph);
	for (i = 0; i < n; i = j) {
		first = r[i].i;
		for (j = i + 1; j < n && strcmp(r[j].key, r[i].key) == 0; j++)
			problem(L, m->kids[r[j].i]->line, "duplicate key "
			    "'%s'%s%s%s (first at line %d)",
			    show(r[j].key, sh), where[0] ? " in '" : "", where,
			    where[0] ? "'" : "", m->kids[first]->line);
	}
	free(r);
}

static void
on_event(struct loader *L, const yaml_event_t *ev)
{
	struct cfg_node *n;
	char sh[SHOW_SIZE];
	enum cfg_type type;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (L->docs == 0)
			L->docline = mark_line(&ev->start_mark);
		if (++L->docs > 1) {
			problem(L, mark_line(&ev->start_mark), "a second "
			    "document: a file holds exactly one");
			L->stop = 1;
		}
		break;
	case YAML_ALIAS_EVENT:
		problem(L, mark_line(&ev->start_mark), "alias '*%s' refused: "
		    "YAML anchors and aliases are not allowed, write each "
		    "value out in full",
		    show((const char *)ev->data.alias.anchor, sh));
		/* A placeholder keeps keys and values paired. */
		if ((n = new_node(L, CFG_SCALAR, &ev->start_mark)) == NULL)
			break;
		n->alias = 1;
		n->plain = 1;
		if ((n->text = strdup("")) == NULL) {
			L->nomem = 1;
			break;
		}
		attach(L, n);
		break;
	case YAML_SCALAR_EVENT:
		check_anchor(L, ev->data.scalar.anchor, &ev->start_mark);
		if ((n = new_node(L, CFG_SCALAR, &ev->start_mark)) == NULL)
			break;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if ((n->text = malloc(ev->data.scalar.length + 1)) == NULL) {
			L->nomem = 1;
			break;
		}
		memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
		n->text[ev->data.scalar.length] = '\0';
		if (memchr(n->text, '\0', ev->data.scalar.length) != NULL)
			problem(L, n->line, "a NUL character in '%s' (written "
			    "\\0, \\x00 or \\u0000): values cannot hold one",
			    show(n->text, sh));
		check_tag(L, n, ev->data.scalar.tag);
		attach(L, n);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			type = CFG_SEQ;
			check_anchor(L, ev->data.sequence_start.anchor,
			    &ev->start_mark);
		} else {
			type = CFG_MAP;
			check_anchor(L, ev->data.mapping_start.anchor,
			    &ev->start_mark);
		}
		if (L->depth == CFG_DEPTH_MAX) {
			problem(L, mark_line(&ev->start_mark), "nested more "
			    "than %d levels deep", CFG_DEPTH_MAX);
			L->stop = 1;
			break;
		}
		if ((n = new_node(L, type, &ev->start_mark)) == NULL)
			break;
		check_tag(L, n, type == CFG_SEQ ? ev->data.sequence_start.tag :
		    ev->data.mapping_start.tag);
		if (attach(L, n) != 0)
			break;
		L->stack[L->depth++] = n;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (L->depth == 0)
			break; /* libyaml pairs them; never here */
		n = L->stack[--L->depth];
		if (n->type == CFG_MAP)
			check_dups(L, n);
		break;
	default:
		break;
	}
}

static void
parse(struct loader *L)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct cfg_node *n;
	int done = 0;
	char sh[SHOW_SIZE];

	/* UTF-8 only: libyaml would convert a file that starts with a
	 * UTF-16 byte order mark, and no operator means to write one. */
	if (L->len >= 2 && ((L->buf[0] == '\xff' && L->buf[1] == '\xfe') ||
	    (L->buf[0] == '\xfe' && L->buf[1] == '\xff'))) {
		problem(L, 1, "the file is UTF-16 (it starts with a UTF-16 "
		    "byte order mark): save it as UTF-8 text");
		return;
	}
	if (!yaml_parser_initialize(&p)) {
		L->nomem = 1;
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)L->buf, L->len);
	while (!done && !L->stop && !L->nomem) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_problem(L, &p);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		else
			on_event(L, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);

	if (L->nomem)
		return;
	if (!done) {
		/* Stopped inside mappings: their duplicates so far are
		 * problems too, reported with what stopped the reading. */
		while (L->depth > 0 && !L->too_many && !L->nomem) {
			n = L->stack[--L->depth];
			if (n->type == CFG_MAP)
				check_dups(L, n);
		}
		return;
	}
	if (L->docs == 0)
		problem(L, 0, "the file is empty: no YAML document in it");
	else if (L->doc->root != NULL && is_null(L->doc->root))
		/* An empty root is marked after "---", on the next line. */
		problem(L, L->doc->root->text[0] ? L->doc->root->line :
		    L->docline, "the document is empty%s%s%s",
		    L->doc->root->text[0] ? " ('" : "",
		    show(L->doc->root->text, sh),
		    L->doc->root->text[0] ? "')" : "");
}

int
cfg_load_mem(const char *name, const char *buf, size_t len,
    struct cfg_doc **out, struct cfg_errors *errs)
{
	struct loader L;
	size_t i, before = errs != NULL ? errs->n : 0;
	int r;

	if (out == NULL)
		return cairn_error(CAIRN_E_INVAL, "cfg_load_mem: no output");
	*out = NULL;
	if (name == NULL)
		name = "<input>";
	if (buf == NULL && len > 0)
		return cairn_error(CAIRN_E_INVAL, "cfg_load_mem: no input");
	if (len > CFG_FILE_MAX) {
		cfg_errors_add(errs, name, 0, "%zu bytes, more than the %d "
		    "allowed for a script, template or configuration", len,
		    CFG_FILE_MAX);
		return cairn_error(CAIRN_E_TOO_LARGE, "%s: %zu bytes, more "
		    "than the %d allowed", name, len, CFG_FILE_MAX);
	}
	memset(&L, 0, sizeof(L));
	L.name = name;
	L.buf = buf != NULL ? buf : "";
	L.len = len;
	if ((L.doc = calloc(1, sizeof(*L.doc))) == NULL ||
	    (L.doc->name = strdup(name)) == NULL) {
		free(L.doc);
		return cairn_error(CAIRN_E_NOMEM, "%s: out of memory", name);
	}
	parse(&L);

	if (L.nomem) {
		r = cairn_error(CAIRN_E_NOMEM, "%s: out of memory", name);
	} else if (L.nprobs > 0) {
		qsort(L.probs, L.nprobs, sizeof(*L.probs), problem_cmp);
		for (i = 0; i < L.nprobs; i++)
			errs_append(errs, msg_build(name, L.probs[i].line,
			    L.probs[i].msg));
		if (L.too_many)
			cfg_errors_add(errs, name, 0, "more than %d problems; "
			    "stopped reading", CFG_PROBLEMS_MAX);
		i = (errs != NULL ? errs->n - before : L.nprobs);
		r = cairn_error(CAIRN_E_CONFIG, "%s: %zu problem%s", name, i,
		    i == 1 ? "" : "s");
	} else {
		*out = L.doc;
		L.doc = NULL;
		r = 0;
	}
	for (i = 0; i < L.nprobs; i++)
		free(L.probs[i].msg);
	free(L.probs);
	cfg_doc_free(L.doc);
	return r;
}

int
cfg_load_file(const char *file, struct cfg_doc **out, struct cfg_errors *errs)
{
	char *buf = NULL;
	const char *msg;
	size_t len = 0, flen;
	int r;

	if (out == NULL || file == NULL)
		return cairn_error(CAIRN_E_INVAL, "cfg_load_file: no file");
	*out = NULL;
	if ((r = cairn_read_file(file, CFG_FILE_MAX, &buf, &len)) != 0) {
		/* The detail reads "file: reason"; the list wants the
		 * reason after its own "file: ". */
		msg = cairn_errmsg(r);
		flen = strlen(file);
		if (strncmp(msg, file, flen) == 0 && msg[flen] == ':' &&
		    msg[flen + 1] == ' ')
			msg += flen + 2;
		cfg_errors_add(errs, file, 0, "%s", msg);
		return r;
	}
	r = cfg_load_mem(file, buf, len, out, errs);
	free(buf);
	return r;
}

/* ---- checking ------------------------------------------------------------ */

static const char *
check_file(const struct cfg_check *c)
{
	return c->doc != NULL && c->doc->name != NULL ? c->doc->name :
	    "<input>";
}

static void fail_at(struct cfg_check *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vfail_at(struct cfg_check *c, int line, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
vfail_at(struct cfg_check *c, int line, const char *fmt, va_list ap)
{
	char *body, *msg;
	size_t i;

	body = vfmt(fmt, ap);
	msg = msg_build(check_file(c), line, body);
	free(body);
	/* The same line twice tells nothing more (two getters on one
	 * section that is not a mapping, cfg_keys() called twice).  Only
	 * the recent messages are compared, so that a file with thousands
	 * of unknown keys is not checked in quadratic time. */
	if (c->errs != NULL)
		for (i = c->errs->n > DEDUP_WINDOW ?
		    c->errs->n - DEDUP_WINDOW : 0; i < c->errs->n; i++)
			if (strcmp(c->errs->msg[i], msg) == 0) {
				free(msg);
				return;
			}
	errs_append(c->errs, msg);
}

static void
fail_at(struct cfg_check *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(c, line, fmt, ap);
	va_end(ap);
}

void
cfg_fail(struct cfg_check *c, const struct cfg_node *at, const char *fmt, ...)
{
	va_list ap;

	if (c == NULL)
		return;
	va_start(ap, fmt);
	vfail_at(c, cfg_line(at), fmt, ap);
	va_end(ap);
}

/* The line to name for a value: its key's when it is a mapping's value
 * (a list under "signers:" starts on the next line). */
static int
value_line(const struct cfg_node *n)
{
	if (n->parent != NULL && n->parent->type == CFG_MAP && n->idx % 2 == 1)
		return n->parent->kids[n->idx - 1]->line;
	return n->line;
}

/* The line to name for something missing from `map`: the key that names
 * the mapping, or where the document's mapping starts. */
static int
map_line(const struct cfg_node *map)
{
	/* The top level has no key line: use where the mapping starts, so
	 * that every problem reads "file:line: message". */
	return map->parent == NULL ? cfg_line(map) : value_line(map);
}

/* "certificate.subject" for key "subject" of map "certificate". */
#define NAME_SIZE (PATH_SIZE + SHOW_SIZE + 2)
static const char *
key_name(const struct cfg_node *map, const char *key, char out[NAME_SIZE])
{
	char ph[PATH_SIZE], sh[SHOW_SIZE];
	const char *p = path(map, ph);

	snprintf(out, NAME_SIZE, "%s%s%s", p, p[0] ? "." : "", show(key, sh));
	return out;
}

/* What a value is, for "have ...": "a mapping", "nothing", "'forever'". */
#define DESC_SIZE (SHOW_SIZE + 32)
static const char *
describe(const struct cfg_node *n, char out[DESC_SIZE])
{
	char sh[SHOW_SIZE];

	if (n->type == CFG_MAP)
		return "a mapping";
	if (n->type == CFG_SEQ)
		return "a list";
	if (n->plain && n->text[0] == '\0')
		return "nothing";
	if (is_null(n))
		return "null";
	snprintf(out, DESC_SIZE, "'%s'", show(n->text, sh));
	return out;
}

static void
not_a_map(struct cfg_check *c, const struct cfg_node *n)
{
	char ph[PATH_SIZE], d[DESC_SIZE];
	const char *p = path(n, ph);

	fail_at(c, value_line(n), "%s%swant a mapping, have %s",
	    p[0] ? p : "the document", ": ", describe(n, d));
}

static void
wrong(struct cfg_check *c, const struct cfg_node *map, const char *key,
    const struct cfg_node *v, const char *want, const char *why)
{
	char nm[NAME_SIZE], d[DESC_SIZE];

	fail_at(c, value_line(v), "%s: want %s, have %s%s%s%s",
	    key_name(map, key, nm), want, describe(v, d),
	    why != NULL && why[0] ? " (" : "", why != NULL ? why : "",
	    why != NULL && why[0] ? ")" : "");
}

/*
 * lookup: the value of `key` in `map` for a getter, or NULL when there is
 * none to read: no map (its absence was reported by whoever looked for
 * it), not a map (reported), key absent or null (reported if required),
 * a node of another type than `type` (reported).  *failed says whether
 * a problem was reported.
 */
static const struct cfg_node *
lookup(struct cfg_check *c, const struct cfg_node *map, const char *key,
    int required, const char *want, enum cfg_type type, int *failed)
{
	const struct cfg_node *v;
	char ph[PATH_SIZE], sh[SHOW_SIZE];
	const char *p;

	*failed = 0;
	if (map == NULL || key == NULL)
		return NULL;
	if (map->type != CFG_MAP) {
		*failed = 1;
		not_a_map(c, map);
		return NULL;
	}
	if ((v = cfg_get(map, key)) == NULL) {
		if (required) {
			*failed = 1;
			p = path(map, ph);
			fail_at(c, map_line(map), "missing required key "
			    "'%s'%s%s%s", show(key, sh), p[0] ? " in '" : "",
			    p, p[0] ? "'" : "");
		}
		return NULL;
	}
	if (is_null(v)) {
		if (required) {
			*failed = 1;
			wrong(c, map, key, v, want, NULL);
		}
		return NULL;
	}
	if (v->type != type) {
		*failed = 1;
		wrong(c, map, key, v, want, NULL);
		return NULL;
	}
	return v;
}

const char *
cfg_want_str(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, const char *dflt)
{
	const struct cfg_node *v;
	int failed;

	if ((v = lookup(c, map, key, required, "a string", CFG_SCALAR,
	    &failed)) == NULL)
		return dflt;
	return v->text;
}

long long
cfg_want_int(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long min, long long max,
    long long dflt)
{
	const struct cfg_node *v;
	int failed;
	char want[96];
	long long x = 0;
	int r;

	if (min == LLONG_MIN && max == LLONG_MAX)
		snprintf(want, sizeof(want), "an integer");
	else if (min == LLONG_MIN)
		snprintf(want, sizeof(want), "an integer of at most %lld",
		    max);
	else if (max == LLONG_MAX)
		snprintf(want, sizeof(want), "an integer of at least %lld",
		    min);
	else
		snprintf(want, sizeof(want), "an integer from %lld to %lld",
		    min, max);
	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return dflt;
	r = parse_int(v->text, &x);
	if (!v->plain)
		wrong(c, map, key, v, want, r != 0 ? "quoted: a number is "
		    "written without quotes" : NULL);
	else if (r == 0)
		wrong(c, map, key, v, want, "decimal digits only, no "
		    "leading zeros, '+', '_', or 0x");
	else if (r < 0 || x < min || x > max)
		wrong(c, map, key, v, want, "out of range");
	else
		return x;
	return dflt;
}

int
cfg_want_bool(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, int dflt)
{
	static const char *const yaml11[] = {
		"yes", "no", "on", "off", "y", "n", "True", "False", "TRUE",
		"FALSE", "Yes", "No", "YES", "NO", "On", "Off", "ON", "OFF",
		"Y", "N", NULL
	};
	const struct cfg_node *v;
	int failed;
	const char *want = "true or false";
	size_t i;

	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return dflt;
	if (v->plain && strcmp(v->text, "true") == 0)
		return 1;
	if (v->plain && strcmp(v->text, "false") == 0)
		return 0;
	if (!v->plain) {
		wrong(c, map, key, v, want, "quoted: write true or false "
		    "without quotes");
		return dflt;
	}
	for (i = 0; yaml11[i] != NULL; i++)
		if (strcmp(v->text, yaml11[i]) == 0) {
			wrong(c, map, key, v, want, "write true or false: "
			    "YAML 1.1 spellings are ambiguous");
			return dflt;
		}
	wrong(c, map, key, v, want, NULL);
	return dflt;
}

/* Levenshtein distance, or 3 when it is surely more than 2 (cheaply). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, cost, best;
	size_t row[2][66];
	size_t *prev = row[0], *cur = row[1], *t;

	if ((la > lb ? la - lb : lb - la) > 2 || la > 64 || lb > 64)
		return 3;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* The first of `words` closest to `s` within distance 2, or NULL. */
static const char *
closest(const char *s, const char *const *words)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;

	for (i = 0; words[i] != NULL; i++) {
		d = edit_distance(s, words[i]);
		if (d < bestd) {
			bestd = d;
			best = words[i];
		}
	}
	return best;
}

/* "a, b, c" (at most CAIRN_LIST_IN_ERROR_MAX, then "..."). */
static void
word_list(char *out, size_t size, const char *const *words)
{
	size_t i, used = 0;
	int w;

	out[0] = '\0';
	if (words == NULL)
		return;
	for (i = 0; words[i] != NULL && used < size; i++) {
		if (i == CAIRN_LIST_IN_ERROR_MAX) {
			snprintf(out + used, size - used, ", ...");
			return;
		}
		w = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
		    words[i]);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

size_t
cfg_keys(struct cfg_check *c, const struct cfg_node *map,
    const char *const *allowed)
{
	char ph[PATH_SIZE], sh[SHOW_SIZE], list[1024];
	const char *p, *k, *near;
	size_t i, j, found = 0;
	int known;

	if (c == NULL || map == NULL)
		return 0;
	if (map->type != CFG_MAP) {
		not_a_map(c, map);
		return 1;
	}
	p = path(map, ph);
	for (i = 0; i < cfg_len(map); i++) {
		if ((k = cfg_key(map, i)) == NULL)
			continue;
		known = 0;
		for (j = 0; allowed != NULL && allowed[j] != NULL; j++)
			if (strcmp(k, allowed[j]) == 0) {
				known = 1;
				break;
			}
		if (known)
			continue;
		found++;
		near = allowed != NULL ? closest(k, allowed) : NULL;
		if (near != NULL) {
			fail_at(c, cfg_line(cfg_key_node(map, i)), "unknown "
			    "key '%s'%s%s%s; did you mean '%s'?", show(k, sh),
			    p[0] ? " in '" : "", p, p[0] ? "'" : "", near);
		} else {
			if (allowed != NULL && allowed[0] != NULL)
				word_list(list, sizeof(list), allowed);
			else
				snprintf(list, sizeof(list), "none");
			fail_at(c, cfg_line(cfg_key_node(map, i)), "unknown "
			    "key '%s'%s%s%s (known keys: %s)", show(k, sh),
			    p[0] ? " in '" : "", p, p[0] ? "'" : "", list);
		}
	}
	return found;
}

int
cfg_want_enum(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, const char *const *choices, int dflt)
{
	const struct cfg_node *v;
	int failed;
	char want[1100], why[SHOW_SIZE + 32], list[1024];
	const char *near;
	int i;

	word_list(list, sizeof(list), choices);
	snprintf(want, sizeof(want), "one of %s", list);
	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return failed ? -1 : dflt;
	for (i = 0; choices != NULL && choices[i] != NULL; i++)
		if (strcmp(v->text, choices[i]) == 0)
			return i;
	near = choices != NULL ? closest(v->text, choices) : NULL;
	if (near != NULL)
		snprintf(why, sizeof(why), "did you mean '%s'?", near);
	else
		why[0] = '\0';
	wrong(c, map, key, v, want, why);
	return -1;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Digits at s[0..n) as a number, or -1. */
static int
fixed_digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * parse_time: "YYYY-MM-DDTHH:MM:SSZ" with real calendar rules.  Returns
 * NULL with *t, or why the text is refused ("" when it is not a time at
 * all) into why.
 */
static const char *
parse_time(const char *s, long long *t, char *why, size_t whysize)
{
	static const char *const months[] = { "January", "February", "March",
		"April", "May", "June", "July", "August", "September",
		"October", "November", "December" };
	int y, mo, d, h, mi, se;
	size_t len = strlen(s);
	struct tm tm;
	time_t tt;

	why[0] = '\0';
	y = len >= 10 ? fixed_digits(s, 4) : -1;
	mo = len >= 10 ? fixed_digits(s + 5, 2) : -1;
	d = len >= 10 ? fixed_digits(s + 8, 2) : -1;
	if (y < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-')
		return why;
	if (len == 10) {
		snprintf(why, whysize, "a date alone: add the time, as in "
		    "%.10sT00:00:00Z", s);
		return why;
	}
	h = len >= 19 && s[10] == 'T' ? fixed_digits(s + 11, 2) : -1;
	mi = len >= 19 ? fixed_digits(s + 14, 2) : -1;
	se = len >= 19 ? fixed_digits(s + 17, 2) : -1;
	if (h < 0 || mi < 0 || se < 0 || s[13] != ':' || s[16] != ':')
		return why;
	if (len != 20 || s[19] != 'Z') {
		if (s[19] == '.')
			snprintf(why, whysize, "no fractions of a second");
		else if (s[19] == '+' || s[19] == '-' || s[19] == '\0')
			snprintf(why, whysize, "only UTC, written with a "
			    "final Z");
		return why;
	}
	if (mo < 1 || mo > 12)
		snprintf(why, whysize, "there is no month %02d", mo);
	else if (d < 1 || d > month_days(y, mo))
		snprintf(why, whysize, "%s %d has %d days", months[mo - 1],
		    y, month_days(y, mo));
	else if (h > 23)
		snprintf(why, whysize, "hours go from 00 to 23");
	else if (mi > 59)
		snprintf(why, whysize, "minutes go from 00 to 59");
	else if (se > 59)
		snprintf(why, whysize, "seconds go from 00 to 59; leap "
		    "seconds are refused");
	else if (y < 1970)
		snprintf(why, whysize, "before 1970");
	if (why[0] != '\0')
		return why;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	tt = timegm(&tm);
	if (tt == (time_t)-1) {
		snprintf(why, whysize, "out of range");
		return why;
	}
	*t = (long long)tt;
	return NULL;
}

long long
cfg_want_time(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long dflt)
{
	static const char want[] = "a UTC time such as 2026-11-25T00:00:00Z";
	const struct cfg_node *v;
	int failed;
	char why[128];
	long long t;

	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return failed ? -1 : dflt;
	if (parse_time(v->text, &t, why, sizeof(why)) != NULL) {
		wrong(c, map, key, v, want, why);
		return -1;
	}
	return t;
}

/*
 * parse_duration: "<positive integer><unit>", unit y (365 days), d, h,
 * m, s.  Returns NULL with *secs, or why it is refused ("" for no reason
 * worth a word).
 */
static const char *
parse_duration(const char *s, long long *secs, char *why, size_t whysize)
{
	const char *p = s;
	long long n = 0, mult;
	int dig;

	why[0] = '\0';
	if (*p == '-' || *p == '+') {
		snprintf(why, whysize, "a positive number and a unit");
		return why;
	}
	if (*p < '0' || *p > '9')
		return why;
	if (*p == '0') {
		snprintf(why, whysize, p[1] >= '0' && p[1] <= '9' ?
		    "no leading zeros" : "it must be more than zero");
		return why;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		dig = *p - '0';
		if (n > (LLONG_MAX - dig) / 10) {
			snprintf(why, whysize, "too long");
			return why;
		}
		n = n * 10 + dig;
	}
	switch (*p) {
	case 'y': mult = 365LL * 24 * 3600; break;
	case 'd': mult = 24 * 3600; break;
	case 'h': mult = 3600; break;
	case 'm': mult = 60; break;
	case 's': mult = 1; break;
	case '\0':
		snprintf(why, whysize, "add a unit: y, d, h, m or s");
		return why;
	default:
		snprintf(why, whysize, "units are y (365 days), d, h, m and s");
		return why;
	}
	if (p[1] != '\0') {
		snprintf(why, whysize, "one number and one unit");
		return why;
	}
	if (n > LLONG_MAX / mult) {
		snprintf(why, whysize, "too long");
		return why;
	}
	*secs = n * mult;
	return NULL;
}

long long
cfg_want_duration(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, long long dflt)
{
	static const char want[] = "a duration such as 20y or 365d";
	const struct cfg_node *v;
	int failed;
	char why[64];
	long long t;

	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return failed ? -1 : dflt;
	if (parse_duration(v->text, &t, why, sizeof(why)) != NULL) {
		wrong(c, map, key, v, want, why);
		return -1;
	}
	return t;
}

/* Why `s` is not an OID, or NULL when it is one. */
static const char *
oid_problem(const char *s)
{
	unsigned long long arc, first = 0;
	size_t narcs = 0;
	int dig;

	for (;;) {
		if (*s < '0' || *s > '9')
			return *s == '.' || *s == '\0' ? "an empty arc" :
			    "only digits and dots";
		if (*s == '0' && s[1] >= '0' && s[1] <= '9')
			return "no leading zeros";
		for (arc = 0; *s >= '0' && *s <= '9'; s++) {
			dig = *s - '0';
			if (arc > (UINT64_MAX - (unsigned)dig) / 10)
				return "an arc larger than 64 bits";
			arc = arc * 10 + (unsigned)dig;
		}
		if (narcs == 0 && arc > 2)
			return "the first arc is 0, 1 or 2";
		if (narcs == 0)
			first = arc;
		if (narcs == 1 && first < 2 && arc > 39)
			return "the second arc is at most 39 under 0 and 1";
		narcs++;
		if (*s == '\0')
			break;
		if (*s != '.')
			return "only digits and dots";
		s++;
	}
	return narcs < 2 ? "at least two arcs" : NULL;
}

const char *
cfg_want_oid(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required)
{
	static const char want[] = "an OID such as 1.3.6.1.4.1.99999.1";
	const struct cfg_node *v;
	int failed;
	const char *why;

	if ((v = lookup(c, map, key, required, want, CFG_SCALAR,
	    &failed)) == NULL)
		return NULL;
	if ((why = oid_problem(v->text)) != NULL) {
		wrong(c, map, key, v, want, why);
		return NULL;
	}
	return v->text;
}

const struct cfg_node *
cfg_want_strlist(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required, size_t *n)
{
	static const char want[] = "a list of strings";
	const struct cfg_node *v, *it;
	int failed;
	char nm[NAME_SIZE], d[DESC_SIZE];
	size_t i, bad = 0;

	if (n != NULL)
		*n = 0;
	if ((v = lookup(c, map, key, required, want, CFG_SEQ,
	    &failed)) == NULL)
		return NULL;
	for (i = 0; i < v->nkids; i++) {
		it = v->kids[i];
		if (it->type == CFG_SCALAR && !is_null(it))
			continue;
		fail_at(c, it->line, "%s[%zu]: want a string, have %s",
		    key_name(map, key, nm), i, describe(it, d));
		bad++;
	}
	if (bad > 0)
		return NULL;
	if (n != NULL)
		*n = v->nkids;
	return v;
}

const struct cfg_node *
cfg_want_map(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required)
{
	const struct cfg_node *v;
	int failed;

	if ((v = lookup(c, map, key, required, "a mapping", CFG_MAP,
	    &failed)) == NULL)
		return NULL;
	return v;
}

const struct cfg_node *
cfg_want_seq(struct cfg_check *c, const struct cfg_node *map,
    const char *key, int required)
{
	const struct cfg_node *v;
	int failed;

	if ((v = lookup(c, map, key, required, "a list", CFG_SEQ,
	    &failed)) == NULL)
		return NULL;
	return v;
}
