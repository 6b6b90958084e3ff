/*
 * html.c: escaped HTML output (see html.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sub-ca/html.h"

#define REPLACEMENT "\xef\xbf\xbd"  /* U+FFFD */

static void
put(struct html *h, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (h->failed || n == 0)
		return;
	if (h->len + n + 1 > h->cap) {
		cap = h->cap != 0 ? h->cap : 4096;
		while (cap < h->len + n + 1) {
			if (cap > SIZE_MAX / 2) {
				h->failed = 1;
				return;
			}
			cap *= 2;
		}
		if ((nb = realloc(h->buf, cap)) == NULL) {
			h->failed = 1;
			return;
		}
		h->buf = nb;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void
html_raw(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t c = s[0];
	size_t k, len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
	    (c >= 0x80 && c <= 0x9f))
		return 0;
	return len;
}

void
html_textn(struct html *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, k;

	/* Copy runs of safe bytes at once; escape the rest one by one. */
	while (i < n) {
		unsigned char c = p[i];
		const char *esc = NULL;

		if (c == '&')
			esc = "&amp;";
		else if (c == '<')
			esc = "&lt;";
		else if (c == '>')
			esc = "&gt;";
		else if (c == '"')
			esc = "&quot;";
		else if (c == '\'')
			esc = "&#39;";
		else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			esc = REPLACEMENT;
		if (esc == NULL && c < 0x80) {
			i++;
			continue;
		}
		put(h, s + run, i - run);
		if (esc != NULL) {
			put(h, esc, strlen(esc));
			i++;
		} else if ((k = utf8_seq(p + i, n - i)) != 0) {
			put(h, s + i, k);
			i += k;
		} else {
			put(h, REPLACEMENT, 3);
			i++;
		}
		run = i;
	}
	put(h, s + run, i - run);
}

void
html_text(struct html *h, const char *s)
{
	if (s != NULL)
		html_textn(h, s, strlen(s));
}

void
html_fmt(struct html *h, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt, *q;
	char num[32];

	va_start(ap, fmt);
	while (*p != '\0' && !h->failed) {
		if ((q = strchr(p, '%')) == NULL) {
			html_raw(h, p);
			break;
		}
		put(h, p, (size_t)(q - p));
		p = q + 1;
		if (*p == '%') {
			put(h, "%", 1);
			p++;
		} else if (*p == 's') {
			html_text(h, va_arg(ap, const char *));
			p++;
		} else if (*p == 'd') {
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			html_raw(h, num);
			p++;
		} else if (*p == 'u') {
			snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned));
			html_raw(h, num);
			p++;
		} else if (strncmp(p, "lld", 3) == 0) {
			snprintf(num, sizeof(num), "%lld",
			    va_arg(ap, long long));
			html_raw(h, num);
			p += 3;
		} else if (strncmp(p, "llu", 3) == 0) {
			snprintf(num, sizeof(num), "%llu",
			    va_arg(ap, unsigned long long));
			html_raw(h, num);
			p += 3;
		} else if (strncmp(p, "zu", 2) == 0) {
			snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t));
			html_raw(h, num);
			p += 2;
		} else {
			h->failed = 1;
		}
	}
	va_end(ap);
}

char *
html_take(struct html *h, size_t *len)
{
	char *s;

	*len = 0;
	if (h->failed) {
		html_free(h);
		return NULL;
	}
	if (h->buf == NULL && (h->buf = calloc(1, 1)) == NULL)
		return NULL;
	s = h->buf;
	*len = h->len;
	memset(h, 0, sizeof(*h));
	return s;
}

void
html_free(struct html *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}
