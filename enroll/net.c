/*
 * net.c: cairn-enroll's HTTPS client (libcurl): JSON in, JSON out.
 *
 * Enrollment goes over HTTPS only (the CA refuses plain HTTP, ESC8), the
 * CA's certificate is verified (against --cacert, else the system's
 * trust), and answers are bounded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/error.h"
#include "lib/util.h"
#include "enroll/enroll.h"

/* The largest answer read: a certificate and its chain are a few KiB. */
#define NET_REPLY_MAX (1 << 20)

struct buf {
	char *p;
	size_t len;
	int over;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *q;

	if (b->len + add > NET_REPLY_MAX) {
		b->over = 1;
		return 0;
	}
	if ((q = realloc(b->p, b->len + add + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* The password: the file's first line. */
static int
read_password(const char *path, char **out)
{
	size_t len = 0;
	int r;

	if ((r = cairn_read_file(path, 1024, out, &len)) != 0)
		return r;
	(*out)[strcspn(*out, "\r\n")] = '\0';
	if ((*out)[0] == '\0') {
		cairn_free_secret(*out, 0);
		*out = NULL;
		return cairn_error(CAIRN_E_INVAL, "%s: no password on its "
		    "first line", path);
	}
	return 0;
}

int
net_post_json(const struct enroll_opts *o, const char *path, json_t *body,
    long *status, json_t **reply)
{
	struct curl_slist *hdr = NULL;
	struct buf b = { 0 };
	char url[2048], err[CURL_ERROR_SIZE] = "", *pw = NULL, *text = NULL;
	json_error_t jerr;
	CURL *c = NULL;
	CURLcode cc;
	int r = 0;

	*status = 0;
	*reply = NULL;
	if (strncmp(o->url, "https://", 8) != 0)
		return cairn_error(CAIRN_E_USAGE, "--url %s: enrollment is over "
		    "HTTPS only (https://HOST:PORT)", o->url);
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	if (o->password_file != NULL &&
	    (r = read_password(o->password_file, &pw)) != 0)
		return r;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL ||
	    (c = curl_easy_init()) == NULL ||
	    (hdr = curl_slist_append(NULL, "Content-Type: "
	    "application/json")) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	if (o->user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pw != NULL ? pw : "");
	}
	if (o->cert != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->key != NULL ? o->key :
		    o->cert);
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		r = cairn_error(CAIRN_E_IO, "%s: %s", url, b.over ? "the "
		    "answer is larger than 1 MiB" : err[0] ? err :
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (b.p != NULL)
		*reply = json_loadb(b.p, b.len, 0, &jerr);
out:
	if (pw != NULL)
		cairn_free_secret(pw, 0);
	free(text);
	free(b.p);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return r;
}

const char *
net_error(const json_t *reply)
{
	const char *m = NULL;

	if (reply != NULL && json_unpack((json_t *)reply, "{s:{s:s}}",
	    "error", "message", &m) == 0)
		return m;
	return "the CA's answer is not JSON";
}
