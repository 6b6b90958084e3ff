/*
 * http.h: the daemon's HTTP(S) front door, over libmicrohttpd.
 *
 * One listener per address: HTTPS (enrollment, REST, admin pages; TLS
 * client certificates requested, never required) and plain HTTP (only
 * what relying parties fetch: CRLs, CA certificates, later OCSP).  The
 * server only moves bytes: it collects a request (with hard limits on the
 * body, the headers and the time a client may take), hands it to one
 * handler function, and sends the response the handler filled.  What a
 * path means is the handler's business (sub-ca/web.c, sub-ca/rest.c).
 *
 * Limits (lib/limits.h): a body over CAIRN_HTTP_BODY_MAX is answered 413
 * without calling the handler, and the rest of it is not read; a client
 * idle for CAIRN_HTTP_IDLE_SEC is disconnected (slow-loris clients do not
 * hold a thread: the pool is served by epoll); at most
 * CAIRN_HTTP_CONN_MAX connections at once, CAIRN_HTTP_CONN_PER_IP from
 * one address.
 *
 * Threads: the handler runs on one of `threads` pool threads and may be
 * called concurrently; it must be thread-safe.
 */
#ifndef CAIRN_HTTP_H
#define CAIRN_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_server;

struct http_request {
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* URL path as sent, before '?', not
	                            * percent-decoded (OCSP GET needs it raw) */
	const char *query;         /* after '?', raw; "" when none */
	const uint8_t *body;       /* NUL-terminated copy; body[len] == 0 */
	size_t body_len;
	int tls;                   /* 1: arrived over HTTPS */
	/* The TLS client's certificate chain as sent, DER, leaf first (not
	 * verified here: the handler decides whom it trusts); n 0 when the
	 * client sent none or tls is 0. */
	const uint8_t *const *client_der;
	const size_t *client_der_len;
	size_t client_n;
	const char *remote;        /* "127.0.0.1" or "::1" */
	void *conn;                /* for http_header(); opaque */
};

/* http_header: the value of request header `name` (case-insensitive), or
 * NULL; borrowed for the duration of the handler call. */
const char *http_header(const struct http_request *req, const char *name);

/* http_query_arg: the percent-decoded value of `name` in the query string
 * ("a=1&b=x%20y"), or NULL; borrowed. */
const char *http_query_arg(const struct http_request *req, const char *name);

struct http_response {
	int status;                /* 200 unless the handler sets it */
	char content_type[128];    /* "" → "text/plain; charset=utf-8" */
	uint8_t *body;             /* malloc()ed, freed by the server */
	size_t body_len;
	/* Further headers, "Name: value" each, up to 16 (Set-Cookie,
	 * Location, Cache-Control, ETag, ...); strings malloc()ed and freed
	 * by the server. */
	char *headers[16];
	size_t n_headers;
};

/* Helpers for handlers: set the body to a copy of `s` / printf output /
 * bytes; add a header.  Each returns 0 or CAIRN_E_NOMEM (the server then
 * answers 500). */
int http_resp_text(struct http_response *r, int status, const char *ctype,
    const char *s);
int http_resp_printf(struct http_response *r, int status, const char *ctype,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int http_resp_bytes(struct http_response *r, int status, const char *ctype,
    const void *buf, size_t len);
int http_resp_header(struct http_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef void (*http_handler)(void *arg, const struct http_request *req,
    struct http_response *resp);

struct http_listener {
	const char *addr;          /* "127.0.0.1", "::", "0.0.0.0" */
	unsigned short port;       /* 0: any free port (see http_port()) */
	int tls;
	/* tls: the server certificate chain and key, PEM, in memory
	 * (borrowed until http_start returns); client_ca_pem: the CA(s) whose
	 * certificates clients may present (requests a certificate; a client
	 * without one still connects). */
	const char *cert_pem, *key_pem, *client_ca_pem;
};

/*
 * http_start: listen on each of the `n` listeners and serve with a pool of
 * `threads` threads each.  Returns 0 and *out, or CAIRN_E_IO naming the
 * address that could not be bound (and why), CAIRN_E_CRYPTO for a TLS
 * credential GnuTLS refuses.
 */
int http_start(const struct http_listener *l, size_t n, unsigned threads,
    http_handler h, void *arg, struct http_server **out);

/* http_port: the port listener `i` is bound to (for port 0). */
unsigned short http_port(const struct http_server *s, size_t i);

/*
 * http_stop: stop accepting, let requests in progress finish (at most
 * CAIRN_HTTP_DRAIN_SEC), then free.  NULL is fine.
 */
void http_stop(struct http_server *s);

#endif /* CAIRN_HTTP_H */
