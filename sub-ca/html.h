/*
 * html.h: building the web pages' HTML so that nothing from outside can
 * become markup.
 *
 * Every string that did not come from this program's own source (account
 * names, CSR subjects, template descriptions, denial reasons, error
 * details) goes through html_text() or a "%s" of html_fmt(), which escape
 * it for both element content and quoted attribute values; html_raw() is
 * for literal markup in the source.  Invalid UTF-8 and control characters
 * (other than tab, CR and LF) are written as U+FFFD, so the page stays
 * well-formed whatever a request carried.
 *
 * Errors stick: the first allocation failure marks the buffer failed and
 * later calls do nothing; html_take() then returns NULL.
 */
#ifndef CAIRN_HTML_H
#define CAIRN_HTML_H

#include <stddef.h>

struct html {
	char *buf;
	size_t len, cap;
	int failed;
};

/* html_raw: literal markup (a string from this program's source). */
void html_raw(struct html *h, const char *s);

/* html_text / html_textn: text, escaped (& < > " ' and the above). */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);

/*
 * html_fmt: literal markup `fmt` with conversions: %s (a string, escaped
 * as html_text does; NULL is written as nothing), %d, %u, %lld, %llu,
 * %zu, %%.  Any other conversion marks the buffer failed (a programming
 * error the tests catch, never a way around the escaping).
 */
void html_fmt(struct html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* html_take: the page (malloc()ed, NUL-terminated, *len bytes) and the
 * buffer reset; NULL when something failed (then freed). */
char *html_take(struct html *h, size_t *len);

/* html_free: drop what was built. */
void html_free(struct html *h);

#endif /* CAIRN_HTML_H */
