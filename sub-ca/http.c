/*
 * http.c: the HTTP(S) front door over libmicrohttpd (see http.h).
 *
 * Each listener is one MHD daemon: epoll, a pool of threads, TLS through
 * GnuTLS.  A request's state (struct req) is born in MHD's URI log hook,
 * which sees the request target before MHD splits and unescapes it, and
 * dies in the completion hook; the two also count requests in progress
 * so that http_stop() can wait for them.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/http.h"

/* TLS 1.2 and 1.3 only; forward-secret key exchange (ECDHE) and AEAD
 * ciphers only; our order, not the client's. */
#define HTTP_PRIORITIES                                                      \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                        \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"          \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/*
 * MHD keeps a connection's request head, its parsed headers (some 60
 * bytes each besides the text), the read buffer and the response headers
 * in one pool of this size, and answers 431 to a head that does not fit.
 * Measured with 0.9.75: a 44 KB header fits, and so do 500 short ones;
 * head_len() then holds the head to CAIRN_HTTP_HEADER_MAX exactly.
 */
#define HTTP_POOL_SIZE (2 * CAIRN_HTTP_HEADER_MAX + 16 * 1024)

#define HTTP_LOG_MAX 512

static const char msg_500[] = "internal server error\n";

struct listener {
	struct http_server *srv;
	struct MHD_Daemon *d;
	MHD_socket quiesced;    /* listen socket MHD hands back to close */
	unsigned io;            /* its I/O threads */
	unsigned short port;
	int tls;
	char name[INET6_ADDRSTRLEN + 16]; /* "[::1] port 443", for messages */
	int started;            /* MHD's log is kept only until then */
	char log[HTTP_LOG_MAX]; /* what MHD said while starting */
};

struct req;

struct http_server {
	http_handler h;
	http_quick_fn quick;
	void *arg;
	struct listener *l;
	size_t n;
	pthread_mutex_t mu;
	pthread_cond_t idle;    /* signalled when active drops to 0 */
	size_t active;          /* requests between URI log and completion */
	char msg_413[64];
	char msg_431[64];
	/* The workers (with `quick`): requests that may wait for the HSM,
	 * the disk or a lock, taken from a suspended connection. */
	pthread_t *workers;
	size_t nworkers;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct req *whead, *wtail;
	int wstop;
};

enum req_state { REQ_NEW, REQ_QUEUED, REQ_DONE };

struct req {
	struct http_request pub; /* first: http_query_arg() gets back here */
	struct listener *l;
	char *target;           /* raw request target, split into path and
				 * query at the first '?' */
	uint8_t *body;
	size_t len;
	size_t cap;             /* body holds cap + 1 bytes */
	int seen;               /* the headers-only first call is done */
	char **qkv;             /* decoded query: key, value, key, value... */
	size_t qn;              /* pairs in qkv */
	char *qbuf;             /* the strings qkv points into */
	uint8_t *der;           /* client chain: one allocation of pointers,
				 * lengths and bytes */
	char remote[INET6_ADDRSTRLEN];
	enum req_state state;
	struct http_response resp;
	struct MHD_Connection *conn;
	struct req *next;       /* in the workers' queue */
};

static const uint8_t empty_body[1];

static enum MHD_Result send_text(struct MHD_Connection *, int,
    const char *);

/* ---- handler helpers --------------------------------------------------- */

static int
resp_fail(struct http_response *r, int code)
{
	r->failed = 1;
	return code;
}

static int
resp_set(struct http_response *r, int status, const char *ctype,
    uint8_t *body, size_t len)
{
	if (ctype != NULL && (strlen(ctype) >= sizeof(r->content_type) ||
	    strpbrk(ctype, "\r\n") != NULL)) {
		free(body);
		return resp_fail(r, cairn_error(CAIRN_E_INVAL, "content type "
		    "\"%.40s\" is longer than %zu bytes or has CR or LF",
		    ctype, sizeof(r->content_type) - 1));
	}
	if (ctype != NULL)
		cairn_strlcpy(r->content_type, ctype, sizeof(r->content_type));
	free(r->body);
	r->body = body;
	r->body_len = len;
	r->status = status;
	return 0;
}

int
http_resp_bytes(struct http_response *r, int status, const char *ctype,
    const void *buf, size_t len)
{
	uint8_t *p;

	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return resp_fail(r, cairn_error(CAIRN_E_NOMEM, "response body "
		    "of %zu bytes", len));
	if (len > 0)
		memcpy(p, buf, len);
	return resp_set(r, status, ctype, p, len);
}

int
http_resp_text(struct http_response *r, int status, const char *ctype,
    const char *s)
{
	return http_resp_bytes(r, status, ctype, s, strlen(s));
}

/* vprintf into a new string; NULL when out of memory. */
static char *
vformat(const char *fmt, va_list ap, size_t *lenp)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	*lenp = (size_t)n;
	return s;
}

int
http_resp_printf(struct http_response *r, int status, const char *ctype,
    const char *fmt, ...)
{
	va_list ap;
	size_t len = 0;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap, &len);
	va_end(ap);
	if (s == NULL)
		return resp_fail(r, cairn_error(CAIRN_E_NOMEM, "response "
		    "body"));
	return resp_set(r, status, ctype, (uint8_t *)s, len);
}

int
http_resp_header(struct http_response *r, const char *fmt, ...)
{
	va_list ap;
	size_t len = 0;
	char *s;

	if (r->n_headers >= sizeof(r->headers) / sizeof(r->headers[0]))
		return resp_fail(r, cairn_error(CAIRN_E_TOO_LARGE, "more "
		    "than %zu response headers",
		    sizeof(r->headers) / sizeof(r->headers[0])));
	va_start(ap, fmt);
	s = vformat(fmt, ap, &len);
	va_end(ap);
	if (s == NULL)
		return resp_fail(r, cairn_error(CAIRN_E_NOMEM, "response "
		    "header"));
	/* A CR or LF would let request data forge headers or a response. */
	if (strpbrk(s, "\r\n") != NULL || strchr(s, ':') == NULL ||
	    strlen(s) != len) {
		free(s);
		return resp_fail(r, cairn_error(CAIRN_E_INVAL, "response "
		    "header is not one \"Name: value\" line"));
	}
	r->headers[r->n_headers++] = s;
	return 0;
}

/* ---- request accessors ------------------------------------------------- */

const char *
http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
http_query_arg(const struct http_request *req, const char *name)
{
	const struct req *q = (const struct req *)req;
	size_t i;

	for (i = 0; i < q->qn; i++)
		if (strcmp(q->qkv[2 * i], name) == 0)
			return q->qkv[2 * i + 1];
	return NULL;
}

/*
 * Decode a query component in place: '+' is a space (HTML forms), "%XX" a
 * byte, a '%' not followed by two hex digits stays as it is (as MHD's own
 * decoder does).  Returns -1 when the result holds a NUL byte: C strings
 * would silently cut it, so such an argument is dropped instead.
 */
static int
query_decode(char *s)
{
	char *w = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*w++ = ' ';
		else if (*s == '%' && (hi = cairn_hexdigit(s[1])) >= 0 &&
		    (lo = cairn_hexdigit(s[2])) >= 0) {
			if ((*w++ = (char)(hi << 4 | lo)) == '\0')
				return -1;
			s += 2;
		} else
			*w++ = *s;
	}
	*w = '\0';
	return 0;
}

/* Split the raw query into decoded pairs; "k" alone has the value "". */
static int
query_parse(struct req *q, const char *query)
{
	char *p, *amp, *eq;
	size_t max = 1;

	for (p = (char *)query; *p != '\0'; p++)
		if (*p == '&')
			max++;
	if ((q->qbuf = strdup(query)) == NULL ||
	    (q->qkv = calloc(max, 2 * sizeof(char *))) == NULL)
		return CAIRN_E_NOMEM;
	for (p = q->qbuf; p != NULL; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = p + strlen(p);
		if (query_decode(p) != 0 || query_decode(eq) != 0)
			continue;
		q->qkv[2 * q->qn] = p;
		q->qkv[2 * q->qn + 1] = eq;
		q->qn++;
	}
	return 0;
}

/* Copy the TLS client's chain out of the GnuTLS session. */
static int
client_chain(struct req *q, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	unsigned int i, n = 0;
	size_t total, off;
	uint8_t **der;
	size_t *lens;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return 0;
	peers = gnutls_certificate_get_peers(
	    (gnutls_session_t)ci->tls_session, &n);
	if (peers == NULL || n == 0)
		return 0;
	total = n * (sizeof(*der) + sizeof(*lens));
	for (i = 0; i < n; i++)
		total += peers[i].size;
	if ((q->der = malloc(total)) == NULL)
		return CAIRN_E_NOMEM;
	der = (uint8_t **)(void *)q->der;
	lens = (size_t *)(void *)(der + n);
	off = n * (sizeof(*der) + sizeof(*lens));
	for (i = 0; i < n; i++) {
		der[i] = q->der + off;
		lens[i] = peers[i].size;
		memcpy(der[i], peers[i].data, peers[i].size);
		off += peers[i].size;
	}
	q->pub.client_der = (const uint8_t *const *)der;
	q->pub.client_der_len = lens;
	q->pub.client_n = n;
	return 0;
}

/* ---- MHD callbacks ----------------------------------------------------- */

/*
 * The only place that sees the request target as sent: MHD calls it before
 * splitting off the query and unescaping.  What it returns becomes the
 * request's *con_cls, and MHD then promises the completion callback.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct listener *l = cls;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	struct req *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->target = strdup(uri)) == NULL) {
		free(q);
		return NULL;
	}
	q->l = l;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && (sa = ci->client_addr) != NULL)
		getnameinfo(sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    q->remote, sizeof(q->remote), NULL, 0, NI_NUMERICHOST);
	pthread_mutex_lock(&l->srv->mu);
	l->srv->active++;
	pthread_mutex_unlock(&l->srv->mu);
	return q;
}

/* The response's extra headers (each malloc()ed, see http.h). */
static void
headers_free(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->n_headers &&
	    i < sizeof(r->headers) / sizeof(r->headers[0]); i++) {
		free(r->headers[i]);
		r->headers[i] = NULL;
	}
	r->n_headers = 0;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req *q = *ctx;

	if (q == NULL)
		return;
	*ctx = NULL;
	/* A response filled but never sent (the connection died). */
	free(q->resp.body);
	headers_free(&q->resp);
	free(q->target);
	free(q->body);
	free(q->qkv);
	free(q->qbuf);
	free(q->der);
	free(q);
	pthread_mutex_lock(&srv->mu);
	if (--srv->active == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->mu);
}

/* Raw path and query: MHD must not decode what it hands us. */
static size_t
on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	struct listener *l = cls;
	size_t n;

	/* At run time MHD reports each client's misbehaviour; nobody reads
	 * that, so only what it says while starting is kept, joined by
	 * "; ", for the error message when the start fails. */
	pthread_mutex_lock(&l->srv->mu);
	if (!l->started) {
		n = strlen(l->log);
		if (n > 0 && n + 2 < sizeof(l->log)) {
			memcpy(l->log + n, "; ", 3);
			n += 2;
		}
		vsnprintf(l->log + n, sizeof(l->log) - n, fmt, ap);
		n = strlen(l->log);
		while (n > 0 && strchr("\n .", l->log[n - 1]) != NULL)
			l->log[--n] = '\0';
	}
	pthread_mutex_unlock(&l->srv->mu);
}

/*
 * Queue `status` with `body` (freed by MHD when `mode` says so), the content
 * type ("" for plain text), nosniff, and the handler's headers.
 */
static enum MHD_Result
send_resp(struct MHD_Connection *c, int status, const char *ctype,
    void *body, size_t len, enum MHD_ResponseMemoryMode mode,
    char *const *hdr, size_t nhdr)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char name[128];
	const char *v;
	size_t i, nl;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (resp == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	if (ctype[0] == '\0')
		ctype = "text/plain; charset=utf-8";
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ctype) != MHD_YES || MHD_add_response_header(resp,
	    "X-Content-Type-Options", "nosniff") != MHD_YES)
		goto fail;
	for (i = 0; i < nhdr; i++) {
		if ((v = strchr(hdr[i], ':')) == NULL ||
		    (nl = (size_t)(v - hdr[i])) == 0 || nl >= sizeof(name))
			goto fail;
		memcpy(name, hdr[i], nl);
		name[nl] = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (MHD_add_response_header(resp, name, v) != MHD_YES)
			goto fail;
	}
	ret = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
 fail:
	/* A header the handler made is malformed or MHD refused it: a
	 * handler bug, and not one to half-answer.  (The 500 itself
	 * failing means no memory: give up.) */
	MHD_destroy_response(resp);
	if (body == msg_500)
		return MHD_NO;
	return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg_500);
}

static enum MHD_Result
send_text(struct MHD_Connection *c, int status, const char *text)
{
	return send_resp(c, status, "", (void *)text, strlen(text),
	    MHD_RESPMEM_PERSISTENT, NULL, 0);
}

/* Send what the handler filled in q->resp. */
static enum MHD_Result
finish(struct req *q, struct MHD_Connection *c)
{
	struct http_response resp = q->resp;
	enum MHD_Result ret;
	size_t i;

	memset(&q->resp, 0, sizeof(q->resp));
	if (resp.status == 0)
		resp.status = MHD_HTTP_OK;
	/* Handlers may fill the struct by hand: what MHD does not check
	 * (CR or LF would let a value forge headers) is checked here. */
	if (resp.n_headers > sizeof(resp.headers) / sizeof(resp.headers[0])) {
		resp.n_headers = sizeof(resp.headers) / sizeof(resp.headers[0]);
		resp.failed = 1;
	}
	for (i = 0; i < resp.n_headers; i++)
		if (resp.headers[i] == NULL ||
		    strpbrk(resp.headers[i], "\r\n") != NULL)
			resp.failed = 1;
	if (memchr(resp.content_type, '\0', sizeof(resp.content_type)) ==
	    NULL || strpbrk(resp.content_type, "\r\n") != NULL)
		resp.failed = 1;
	if (resp.failed || resp.status < 200 || resp.status > 599) {
		ret = send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg_500);
		free(resp.body);
	} else
		ret = send_resp(c, resp.status, resp.content_type,
		    resp.body != NULL ? resp.body : (void *)empty_body,
		    resp.body_len, resp.body != NULL ? MHD_RESPMEM_MUST_FREE :
		    MHD_RESPMEM_PERSISTENT, resp.headers, resp.n_headers);
	headers_free(&resp);
	return ret;
}

/* A worker: run the handler for each queued request, then hand the
 * connection back to MHD, which calls on_request again to send. */
static void *
worker(void *arg)
{
	struct http_server *s = arg;
	struct req *q;

	pthread_mutex_lock(&s->wmu);
	for (;;) {
		while (s->whead == NULL && !s->wstop)
			pthread_cond_wait(&s->wcv, &s->wmu);
		if ((q = s->whead) == NULL)
			break;          /* stopping, and nothing queued */
		if ((s->whead = q->next) == NULL)
			s->wtail = NULL;
		pthread_mutex_unlock(&s->wmu);
		s->h(s->arg, &q->pub, &q->resp);
		q->state = REQ_DONE;
		MHD_resume_connection(q->conn);
		pthread_mutex_lock(&s->wmu);
	}
	pthread_mutex_unlock(&s->wmu);
	return NULL;
}

/*
 * Is this the listener's only connection, with another I/O thread free to
 * accept the next?  Then a handler that blocks here stalls nobody, and
 * running it here saves the hand-off to a worker and back (two thread
 * wake-ups: some 3% of a lone SCEP client's enrollment rate, measured).
 * A connection that arrives meanwhile is accepted by another I/O thread
 * and its request, not alone, goes to the workers.
 */
static int
alone(const struct req *q)
{
	const union MHD_DaemonInfo *di;

	if (q->l->io < 2 || (di = MHD_get_daemon_info(q->l->d,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) == NULL)
		return 0;
	return di->num_connections <= 1;
}

/* The whole request is in: call the handler and send what it filled, or
 * (not quick) hand it to a worker and send when it is done. */
static enum MHD_Result
dispatch(struct req *q, struct MHD_Connection *c, const char *method)
{
	struct http_server *s = q->l->srv;
	char *query;

	if (q->state == REQ_DONE)       /* resumed by its worker */
		return finish(q, c);
	if (q->state != REQ_NEW)        /* not expected: MHD called early */
		return MHD_YES;
	memset(&q->resp, 0, sizeof(q->resp));
	if ((query = strchr(q->target, '?')) != NULL)
		*query++ = '\0';
	else
		query = q->target + strlen(q->target);
	if (query_parse(q, query) != 0 ||
	    (q->l->tls && client_chain(q, c) != 0))
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg_500);
	q->pub.method = method;
	q->pub.path = q->target;
	q->pub.query = query;
	q->pub.body = q->body != NULL ? q->body : empty_body;
	q->pub.body_len = q->len;
	q->pub.tls = q->l->tls;
	q->pub.remote = q->remote;
	q->pub.conn = c;

	if (s->nworkers == 0 || s->quick(s->arg, &q->pub) || alone(q)) {
		s->h(s->arg, &q->pub, &q->resp);
		return finish(q, c);
	}
	q->state = REQ_QUEUED;
	q->conn = c;
	MHD_suspend_connection(c);
	pthread_mutex_lock(&s->wmu);
	q->next = NULL;
	if (s->wtail != NULL)
		s->wtail->next = q;
	else
		s->whead = q;
	s->wtail = q;
	pthread_cond_signal(&s->wcv);
	pthread_mutex_unlock(&s->wmu);
	return MHD_YES;
}

/* The body length announced (Content-Length); 0 when none. */
static unsigned long long
announced(struct MHD_Connection *c)
{
	const char *cl;
	unsigned long long v;

	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return 0;
	/* MHD has refused a Content-Length that is not a number, and
	 * answered 413 itself to one past 2^64. */
	errno = 0;
	v = strtoull(cl, NULL, 10);
	return errno == ERANGE ? ULLONG_MAX : v;
}

static enum MHD_Result
add_header_len(void *cls, enum MHD_ValueKind kind, const char *k,
    const char *v)
{
	*(size_t *)cls += strlen(k) + (v != NULL ? strlen(v) : 0) + 4;
	return MHD_YES;
}

/*
 * The request head's size as a client writing single spaces sends it:
 * request line, "Name: value\r\n" each, the empty line.  MHD only knows
 * whether the head fits its memory pool; this is the documented limit.
 */
static size_t
head_len(struct MHD_Connection *c, const struct req *q, const char *method,
    const char *version)
{
	size_t n = strlen(method) + strlen(q->target) + strlen(version) + 4 + 2;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_len, &n);
	return n;
}

/*
 * MHD calls this once when the headers are in (no data), once per piece of
 * body, and once more with no data when the body is complete.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **ctx)
{
	struct req *q = *ctx;
	unsigned long long cl;
	size_t cap;
	uint8_t *p;

	if (q == NULL)
		return MHD_NO;          /* on_uri ran out of memory */
	if (!q->seen) {
		q->seen = 1;
		/* Answering now makes MHD skip the body (and not send
		 * "100 Continue"), so a 10 MB upload costs us nothing. */
		if (head_len(c, q, method, version) > CAIRN_HTTP_HEADER_MAX)
			return send_text(c,
			    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
			    q->l->srv->msg_431);
		if ((cl = announced(c)) > CAIRN_HTTP_BODY_MAX)
			return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    q->l->srv->msg_413);
		q->cap = (size_t)cl;
		return MHD_YES;
	}
	if (*upload_len == 0)
		return dispatch(q, c, method);
	/* Chunked, or a body longer than announced: MHD 0.9.75 refuses to
	 * queue a response once the body has started, so close rather than
	 * read on. */
	if (*upload_len > CAIRN_HTTP_BODY_MAX - q->len)
		return MHD_NO;
	/* Exactly what was announced, else (chunked) doubling: a thousand
	 * connections do not each hold the maximum. */
	if (q->len + *upload_len > q->cap || q->body == NULL) {
		for (cap = q->cap > 0 ? q->cap : 4096;
		    cap < q->len + *upload_len; cap *= 2)
			;
		if (cap > CAIRN_HTTP_BODY_MAX)
			cap = CAIRN_HTTP_BODY_MAX;
		if ((p = realloc(q->body, cap + 1)) == NULL)
			return MHD_NO;
		q->body = p;
		q->cap = cap;
	}
	memcpy(q->body + q->len, upload, *upload_len);
	q->len += *upload_len;
	q->body[q->len] = '\0';
	*upload_len = 0;
	return MHD_YES;
}

/* ---- start and stop ---------------------------------------------------- */

/* GnuTLS's verdict on the credentials, with its reason, before MHD (which
 * would only fail to start) sees them. */
static int
check_tls(const struct http_listener *hl, const char *name)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int i, ncrt = 0;
	gnutls_datum_t cert, key, ca;
	int g, r;

	if (hl->cert_pem == NULL || hl->key_pem == NULL)
		return cairn_error(CAIRN_E_INVAL, "%s: TLS needs cert_pem and "
		    "key_pem", name);
	if ((g = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		r = cairn_error(CAIRN_E_NOMEM, "%s: %s", name,
		    gnutls_strerror(g));
		goto out;
	}
	cert.data = (unsigned char *)hl->cert_pem;
	cert.size = (unsigned int)strlen(hl->cert_pem);
	key.data = (unsigned char *)hl->key_pem;
	key.size = (unsigned int)strlen(hl->key_pem);
	/* The chain is parsed on its own first: GnuTLS 3.7.9's
	 * set_x509_key_mem2 leaks a certificate on bad base64 (LSan). */
	if ((g = gnutls_x509_crt_list_import2(&crts, &ncrt, &cert,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED)) < 0 ||
	    (g = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		r = cairn_error(CAIRN_E_CRYPTO, "%s: GnuTLS refuses the server "
		    "certificate or key (%s); give the chain (leaf first) and "
		    "its unencrypted private key, both PEM", name,
		    gnutls_strerror(g));
		goto out;
	}
	if (hl->client_ca_pem != NULL) {
		ca.data = (unsigned char *)hl->client_ca_pem;
		ca.size = (unsigned int)strlen(hl->client_ca_pem);
		g = gnutls_certificate_set_x509_trust_mem(cred, &ca,
		    GNUTLS_X509_FMT_PEM);
		if (g <= 0) {
			r = cairn_error(CAIRN_E_CRYPTO, "%s: GnuTLS finds no "
			    "CA certificate in the client CA PEM%s%s", name,
			    g < 0 ? ": " : "", g < 0 ? gnutls_strerror(g) : "");
			goto out;
		}
	}
	r = 0;
 out:
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return r;
}

static int
listener_start(struct listener *l, const struct http_listener *hl,
    unsigned threads)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
	struct MHD_OptionItem opt[6];
	const union MHD_DaemonInfo *di;
	unsigned int flags, nt = 0;
	int r;

	memset(&ss, 0, sizeof(ss));
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (hl->addr != NULL && inet_pton(AF_INET, hl->addr,
	    &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(hl->port);
		snprintf(l->name, sizeof(l->name), "%s port %u", hl->addr,
		    hl->port);
	} else if (hl->addr != NULL && inet_pton(AF_INET6, hl->addr,
	    &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(hl->port);
		flags |= MHD_USE_IPv6;
		snprintf(l->name, sizeof(l->name), "[%s] port %u", hl->addr,
		    hl->port);
	} else
		return cairn_error(CAIRN_E_INVAL, "listen address \"%s\" is "
		    "not a numeric IPv4 or IPv6 address (\"0.0.0.0\", \"::\")",
		    hl->addr != NULL ? hl->addr : "(none)");
	l->tls = hl->tls != 0;
	l->quiesced = MHD_INVALID_SOCKET;
	l->io = threads;
	if (l->tls) {
		if ((r = check_tls(hl, l->name)) != 0)
			return r;
		flags |= MHD_USE_TLS;
		opt[nt++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, (void *)hl->cert_pem };
		opt[nt++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, (void *)hl->key_pem };
		opt[nt++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_PRIORITIES };
		/* Trust makes MHD request (not require) a client certificate;
		 * GnuTLS does not verify it (see http.h). */
		if (hl->client_ca_pem != NULL)
			opt[nt++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_TRUST, 0,
			    (void *)hl->client_ca_pem };
	}
	/* A pool of 0 or 1 is no pool to MHD, which warns if given one. */
	if (threads > 1)
		opt[nt++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL };
	opt[nt] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	/* The logger comes first, to hear complaints about the rest. */
	l->d = MHD_start_daemon(flags, hl->port, NULL, NULL, on_request, l,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, l,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    hl->idle_sec > 0 ? hl->idle_sec : (unsigned)CAIRN_HTTP_IDLE_SEC,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CAIRN_HTTP_CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CAIRN_HTTP_CONN_PER_IP,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL_SIZE,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l->srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
	    MHD_OPTION_ARRAY, opt,
	    MHD_OPTION_END);
	pthread_mutex_lock(&l->srv->mu);
	l->started = 1;
	pthread_mutex_unlock(&l->srv->mu);
	if (l->d == NULL)
		return cairn_error(CAIRN_E_IO, "cannot listen on %s: %s; is "
		    "another server using it, or is the address not on this "
		    "host?", l->name, l->log[0] != '\0' ? l->log :
		    "libmicrohttpd gave no reason");
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
	l->port = di != NULL ? di->port : hl->port;
	return 0;
}

int
http_start(const struct http_listener *hl, size_t n, unsigned threads,
    http_handler h, http_quick_fn quick, void *arg, struct http_server **out)
{
	unsigned io = threads, nw = threads > 0 ? threads : 1;
	long ncpu;
	struct http_server *s = NULL;
	pthread_condattr_t ca;
	struct sigaction sa;
	size_t i;
	int r;

	*out = NULL;
	if (n == 0 || h == NULL)
		return cairn_error(CAIRN_E_INVAL, "http_start: no listener or "
		    "no handler");
	/* Where MHD cannot keep SIGPIPE from a closed peer away by itself,
	 * ignore it, unless the program chose its own disposition. */
	if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) !=
	    MHD_YES && sigaction(SIGPIPE, NULL, &sa) == 0 &&
	    sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->l = calloc(n, sizeof(*s->l))) == NULL) {
		free(s);
		return cairn_error(CAIRN_E_NOMEM, "http_start");
	}
	s->h = h;
	s->quick = quick;
	s->arg = arg;
	snprintf(s->msg_413, sizeof(s->msg_413), "request body too large: "
	    "at most %d bytes\n", CAIRN_HTTP_BODY_MAX);
	snprintf(s->msg_431, sizeof(s->msg_431), "request headers too large: "
	    "at most %d bytes\n", CAIRN_HTTP_HEADER_MAX);
	pthread_mutex_init(&s->mu, NULL);
	/* Monotonic, so that the drain deadline ignores clock steps. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->wmu, NULL);
	pthread_cond_init(&s->wcv, NULL);
	if (quick != NULL) {
		/* `threads` workers for what may block; reading and writing
		 * needs no more I/O threads than there are CPUs. */
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu > 0 && (unsigned long)ncpu < io)
			io = (unsigned)ncpu;
		if ((s->workers = calloc(nw, sizeof(*s->workers))) == NULL) {
			r = cairn_error(CAIRN_E_NOMEM, "http_start");
			goto out;
		}
		for (i = 0; i < nw; i++) {
			if (pthread_create(&s->workers[i], NULL, worker, s) !=
			    0) {
				r = cairn_error(CAIRN_E_INTERNAL, "cannot start "
				    "the HTTP worker threads");
				goto out;
			}
			s->nworkers = i + 1;
		}
	}
	for (i = 0; i < n; i++) {
		s->l[i].srv = s;
		s->n = i + 1;
		if ((r = listener_start(&s->l[i], &hl[i], io)) != 0)
			goto out;
	}
	*out = s;   /* transferred */
	s = NULL;
	r = 0;
 out:
	http_stop(s);
	return r;
}

unsigned short
http_port(const struct http_server *s, size_t i)
{
	return s != NULL && i < s->n ? s->l[i].port : 0;
}

void
http_stop(struct http_server *s)
{
	struct timespec dl;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (s->l[i].d != NULL)
			s->l[i].quiesced = MHD_quiesce_daemon(s->l[i].d);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += CAIRN_HTTP_DRAIN_SEC;
	pthread_mutex_lock(&s->mu);
	while (s->active > 0 &&
	    pthread_cond_timedwait(&s->idle, &s->mu, &dl) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->mu);
	/* MHD must not be stopped with a connection suspended: the workers
	 * finish what they have (each resumes its connection) and end. */
	pthread_mutex_lock(&s->wmu);
	s->wstop = 1;
	pthread_cond_broadcast(&s->wcv);
	pthread_mutex_unlock(&s->wmu);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	/* Whatever is still running is cut off here; the completion
	 * callback frees it. */
	for (i = 0; i < s->n; i++) {
		if (s->l[i].d != NULL)
			MHD_stop_daemon(s->l[i].d);
		/* MHD hands the quiesced socket to us, to close only now
		 * that no thread of its can use it. */
		if (s->l[i].quiesced != MHD_INVALID_SOCKET)
			close(s->l[i].quiesced);
	}
	pthread_cond_destroy(&s->wcv);
	pthread_mutex_destroy(&s->wmu);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->mu);
	free(s->l);
	free(s);
}
