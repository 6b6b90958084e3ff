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
 * hold a thread: the I/O threads serve connections by epoll); at most
 * CAIRN_HTTP_CONN_MAX connections at once, CAIRN_HTTP_CONN_PER_IP from
 * one address.
 *
 * Threads: the handler may be called concurrently; it must be
 * thread-safe.  Without a `quick` function (http_start) it runs on one of
 * `threads` I/O threads per listener.  With one, requests it calls quick
 * (answered from memory: OCSP, published files) still run on the I/O
 * thread that read them, and the rest (those that may wait for the HSM,
 * an fsync or a lock) on one of `threads` worker threads shared by all
 * listeners, the connection suspended meanwhile; the I/O threads are then
 * no more than the CPUs.  (A request on a listener's only connection
 * stays on its I/O thread when there are two or more: it stalls nobody.)  Why: MHD binds each connection to one I/O
 * thread, and a handler that blocks there stalls every other connection
 * that thread holds; with 16 clients on 16 threads, measured here, a
 * third of them sat behind another's fsync and the CPUs idled.
 *
 * What libmicrohttpd 0.9.75 and GnuTLS 3.7 do, found by tests/unit/test_http.c:
 *
 * - Client certificates: client_ca_pem makes MHD load it as the trust list
 *   and ask GnuTLS for GNUTLS_CERT_REQUEST.  GnuTLS then sends the CA names
 *   in its CertificateRequest but checks no client chain in the handshake
 *   (MHD sets up no verification), so a client without a certificate
 *   connects, and so does one whose certificate chains to another CA or
 *   is self-signed: the handler gets the chain and must verify it.
 *   (Browsers may offer only certificates whose issuer is among the names
 *   sent; curl and OpenSSL send what they are given, completed with CA
 *   certificates from their own trust store.)  Without client_ca_pem no
 *   certificate is asked for and client_n is 0.
 * - Unescaping: MHD percent-decodes the URL it gives the access handler
 *   and, with one shared unescape callback, every query argument.  The
 *   server installs a callback that decodes nothing, takes `path` and
 *   `query` from the raw request target (MHD's URI log hook), and decodes
 *   query arguments itself ('+' is a space, "%XX" a byte).
 * - A body announced over the limit (Content-Length) is answered 413 before
 *   it is read, also to "Expect: 100-continue" clients, and the connection
 *   is closed.  A chunked body that grows past the limit cannot be answered
 *   in 0.9.75 (MHD refuses to queue a response once the body has started),
 *   so that connection is closed without a response rather than read on.
 * - A request head (request line and headers) over CAIRN_HTTP_HEADER_MAX
 *   bytes is answered 431 without calling the handler.  Far larger ones
 *   (100 KB) MHD answers 431 itself, as they overflow its per-connection
 *   memory; so may a head under the limit made of many hundred short
 *   headers, which cost MHD some 60 bytes each besides their text.
 * - SIGPIPE: on Linux MHD 0.9.75 sends with MSG_NOSIGNAL, GnuTLS writes
 *   its records with sendmsg(MSG_NOSIGNAL) too, and MHD reports
 *   MHD_FEATURE_AUTOSUPPRESS_SIGPIPE; a client gone mid-answer costs an
 *   EPIPE, not the process.  Only where MHD lacks that feature does
 *   http_start set SIGPIPE to SIG_IGN, and only if it was SIG_DFL (an
 *   ignored signal is inherited by every program the daemon runs).
 */
#ifndef CAIRN_HTTP_H
#define CAIRN_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_server;

struct http_request {
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* URL path as sent, before '?', not
	                            * percent-decoded (OCSP GET needs it raw);
	                            * an absolute-form target keeps its
	                            * "http://host" */
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
 * ("a=1&b=x%20y"; '+' is a space), or NULL; borrowed.  The first of
 * repeated names wins; "a" alone gives ""; an argument whose name or value
 * decodes to a NUL byte is dropped; a '%' without two hex digits stays. */
const char *http_query_arg(const struct http_request *req, const char *name);

struct http_response {
	int status;                /* 200 unless the handler sets it */
	char content_type[128];    /* "" → "text/plain; charset=utf-8" */
	uint8_t *body;             /* malloc()ed, freed by the server */
	size_t body_len;
	/* Set by a helper below that failed (a handler may set it too): the
	 * server then answers 500 and drops body and headers. */
	int failed;
	/* Further headers, "Name: value" each, up to 16 (Set-Cookie,
	 * Location, Cache-Control, ETag, ...); strings malloc()ed and freed
	 * by the server. */
	char *headers[16];
	size_t n_headers;
};

/* Helpers for handlers: set the status and the body to a copy of `s` /
 * printf output / bytes (replacing an earlier body; ctype NULL keeps the
 * content type); add a header.  Each returns 0 or CAIRN_E_NOMEM, and also
 * CAIRN_E_INVAL for a ctype over 127 bytes or a header with CR or LF,
 * CAIRN_E_TOO_LARGE for a 17th header; on any failure resp->failed is set
 * and the server answers 500. */
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

/* http_quick_fn: 1 when `req` is answered without waiting for anything
 * (no HSM, no fsync, no lock held across those): see "Threads" above. */
typedef int (*http_quick_fn)(void *arg, const struct http_request *req);

struct http_listener {
	const char *addr;          /* "127.0.0.1", "::", "0.0.0.0" */
	unsigned short port;       /* 0: any free port (see http_port()) */
	int tls;
	/* tls: the server certificate chain and key, PEM, in memory
	 * (borrowed until http_start returns); client_ca_pem: the CA(s) whose
	 * certificates clients may present (requests a certificate; a client
	 * without one still connects). */
	const char *cert_pem, *key_pem, *client_ca_pem;
	/* Seconds a client may stay idle; 0: CAIRN_HTTP_IDLE_SEC.  Only tests
	 * set it, to see a slow client cut off without waiting 15 s. */
	unsigned idle_sec;
};

/*
 * http_start: listen on each of the `n` listeners and serve with a pool of
 * `threads` threads each (0 counts as 1), or, with `quick`, with `threads`
 * workers and at most one I/O thread per CPU (see "Threads" above).
 * Returns 0 and *out, or
 * CAIRN_E_IO naming the address that could not be bound (and why),
 * CAIRN_E_CRYPTO for a TLS credential GnuTLS refuses, CAIRN_E_INVAL for an
 * address that is not a numeric IPv4 or IPv6 one, or TLS without cert and
 * key.  "::" listens on IPv6 only (MHD sets IPV6_V6ONLY); add "0.0.0.0"
 * as a second listener for IPv4.
 */
int http_start(const struct http_listener *l, size_t n, unsigned threads,
    http_handler h, http_quick_fn quick, void *arg, struct http_server **out);

/* http_port: the port listener `i` is bound to (for port 0). */
unsigned short http_port(const struct http_server *s, size_t i);

/*
 * http_stop: stop accepting, let requests in progress finish (at most
 * CAIRN_HTTP_DRAIN_SEC), then free.  A request is in progress from its
 * request line until its response is sent; idle keep-alive connections
 * are not waited for.  NULL is fine.
 */
void http_stop(struct http_server *s);

#endif /* CAIRN_HTTP_H */
