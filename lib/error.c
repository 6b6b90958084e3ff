/*
 * error.c: cairn_strerror() and the per-thread error detail.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "lib/error.h"
#include "lib/limits.h"

static const struct {
	int code;
	const char *name;
	const char *text;
} cairn_error_table[] = {
#define CAIRN_ERR_ROW(name, value, text) { value, #name, text },
	CAIRN_ERRORS(CAIRN_ERR_ROW)
#undef CAIRN_ERR_ROW
};

static __thread char detail[CAIRN_ERRMSG_MAX];
static __thread int detail_set;

const char *
cairn_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(cairn_error_table) / sizeof(cairn_error_table[0]);
	    i++)
		if (cairn_error_table[i].code == code)
			return cairn_error_table[i].text;
	return "unknown error";
}

const char *
cairn_errname(int code)
{
	size_t i;

	for (i = 0; i < sizeof(cairn_error_table) / sizeof(cairn_error_table[0]);
	    i++)
		if (cairn_error_table[i].code == code)
			return cairn_error_table[i].name;
	return "CAIRN_E_UNKNOWN";
}

int
cairn_verror(int code, const char *fmt, va_list ap)
{
	if (fmt == NULL) {
		detail[0] = '\0';
		detail_set = 0;
		return code;
	}
	vsnprintf(detail, sizeof(detail), fmt, ap);
	detail_set = 1;
	return code;
}

int
cairn_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cairn_verror(code, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Append OpenSSL's queued errors, oldest first, separated by "; ".  Errors
 * raised by Cairn's own callbacks (ERR_LIB_USER) carry their whole message
 * as data and are appended as is.
 */
static void
append_openssl_errors(void)
{
	const char *data;
	unsigned long e;
	size_t len;
	char buf[256];
	int flags;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		len = strlen(detail);
		if (len + 3 >= sizeof(detail))
			continue; /* keep draining */
		if (!(flags & ERR_TXT_STRING))
			data = NULL;
		if (ERR_GET_LIB(e) == ERR_LIB_USER && data != NULL) {
			snprintf(detail + len, sizeof(detail) - len, "%s%s",
			    len > 0 ? ": " : "", data);
			continue;
		}
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(detail + len, sizeof(detail) - len, "%s%s%s%s%s",
		    len > 0 ? "; " : "", buf, data && *data ? " (" : "",
		    data && *data ? data : "", data && *data ? ")" : "");
	}
}

int
cairn_error_crypto(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cairn_verror(code, fmt, ap);
	va_end(ap);
	detail_set = 1;
	append_openssl_errors();
	return code;
}

int
cairn_error_prefix(int code, const char *fmt, ...)
{
	char old[CAIRN_ERRMSG_MAX];
	size_t len;
	va_list ap;

	if (detail_set)
		memcpy(old, detail, sizeof(old));
	else
		snprintf(old, sizeof(old), "%s", cairn_strerror(code));
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	len = strlen(detail);
	snprintf(detail + len, sizeof(detail) - len, "%s", old);
	detail_set = 1;
	return code;
}

const char *
cairn_errmsg(int code)
{
	if (detail_set && detail[0] != '\0')
		return detail;
	return cairn_strerror(code);
}

void
cairn_error_clear(void)
{
	detail[0] = '\0';
	detail_set = 0;
}
