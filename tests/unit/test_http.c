/*
 * test_http.c: the HTTP(S) front door (sub-ca/http.c) against real clients.
 *
 * The peers are curl and `openssl s_client` (OpenSSL, not the GnuTLS the
 * server uses), plus raw sockets where a client must misbehave on purpose.
 * A test CA, a server certificate, a client certificate and a client
 * certificate from an unrelated CA are made with the openssl CLI in a
 * temporary directory.  A recording handler keeps what it was given, so
 * each test asserts both what the client saw and whether (and with what)
 * the handler was called.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/http.h"
#include "tests/unit/harness.h"

static char dir[PATH_MAX];      /* temporary directory of the test PKI */
static char *ca_pem, *srv_pem, *srv_key, *cli_pem;

/* ---- the recording handler --------------------------------------------- */

static const char *arg_names[] = { "x", "y", "z", "empty", "k", "nul",
    "pct", "missing" };
#define NARGS (sizeof(arg_names) / sizeof(arg_names[0]))

static struct {
	pthread_mutex_t mu;
	int calls;
	char method[16];
	char path[256];
	char query[256];
	char args[NARGS][64];   /* "(null)" when http_query_arg gave NULL */
	char hdr[64];           /* X-Test, or "(null)" */
	size_t body_len;
	int body_nul;           /* body[body_len] == 0 */
	uint8_t body_sum;       /* all body bytes added up */
	int tls;
	size_t client_n;
	uint8_t *der0;          /* client_der[0] */
	size_t der0_len;
	char remote[64];
	int active, max_active; /* handlers running at once */
	int slow_entered;
} cap = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
cap_reset(void)
{
	pthread_mutex_lock(&cap.mu);
	free(cap.der0);
	memset((char *)&cap + sizeof(cap.mu), 0, sizeof(cap) -
	    sizeof(cap.mu));
	pthread_mutex_unlock(&cap.mu);
}

static int
cap_calls(void)
{
	int n;

	pthread_mutex_lock(&cap.mu);
	n = cap.calls;
	pthread_mutex_unlock(&cap.mu);
	return n;
}

static void
record(const struct http_request *req)
{
	const char *v;
	size_t i;

	snprintf(cap.method, sizeof(cap.method), "%s", req->method);
	snprintf(cap.path, sizeof(cap.path), "%s", req->path);
	snprintf(cap.query, sizeof(cap.query), "%s", req->query);
	for (i = 0; i < NARGS; i++) {
		v = http_query_arg(req, arg_names[i]);
		snprintf(cap.args[i], sizeof(cap.args[i]), "%s",
		    v != NULL ? v : "(null)");
	}
	v = http_header(req, "x-test");
	snprintf(cap.hdr, sizeof(cap.hdr), "%s", v != NULL ? v : "(null)");
	cap.body_len = req->body_len;
	cap.body_nul = req->body != NULL && req->body[req->body_len] == 0;
	cap.body_sum = 0;
	for (i = 0; i < req->body_len; i++)
		cap.body_sum += req->body[i];
	cap.tls = req->tls;
	cap.client_n = req->client_n;
	free(cap.der0);
	cap.der0 = NULL;
	cap.der0_len = 0;
	if (req->client_n > 0) {
		cap.der0 = malloc(req->client_der_len[0]);
		assert_non_null(cap.der0);
		memcpy(cap.der0, req->client_der[0], req->client_der_len[0]);
		cap.der0_len = req->client_der_len[0];
	}
	snprintf(cap.remote, sizeof(cap.remote), "%s", req->remote);
}

static void
handler(void *arg, const struct http_request *req, struct http_response *r)
{
	const char *p = req->path;

	pthread_mutex_lock(&cap.mu);
	cap.calls++;
	if (++cap.active > cap.max_active)
		cap.max_active = cap.active;
	if (strcmp(p, "/conc") != 0 && strcmp(p, "/slow") != 0)
		record(req);
	if (strcmp(p, "/slow") == 0)
		cap.slow_entered = 1;
	pthread_mutex_unlock(&cap.mu);

	if (strcmp(p, "/conc") == 0)
		usleep(200 * 1000);
	else if (strcmp(p, "/slow") == 0)
		sleep(1);

	if (strcmp(p, "/hdr") == 0) {
		http_resp_text(r, 201, "application/json", "{\"ok\":true}\n");
		http_resp_header(r, "Cache-Control: no-store");
		http_resp_header(r, "Location: /there");
	} else if (strcmp(p, "/empty") == 0) {
		/* status and body left as they are */
	} else if (strcmp(p, "/fail") == 0) {
		http_resp_text(r, 200, NULL, "half an answer\n");
		assert_int_equal(http_resp_header(r, "X-Evil: a\r\nSet-Cookie: "
		    "s=1"), CAIRN_E_INVAL);
	} else if (strcmp(p, "/handmade") == 0) {
		/* Filled by hand, past the helpers' checks. */
		r->headers[r->n_headers++] = strdup("X-A: b\r\nX-Inj: 1");
	} else if (strcmp(p, "/ctype") == 0) {
		strcpy(r->content_type, "text/html\r\nX-Inj: 1");
	} else if (strcmp(p, "/status") == 0) {
		r->status = 700;
	} else if (strcmp(p, "/many") == 0) {
		while (http_resp_header(r, "X-N: %zu", r->n_headers) == 0)
			;
	} else if (strcmp(p, "/large") == 0) {
		/* Big enough to take many writes: the client is gone by the
		 * later ones. */
		usleep(100 * 1000);
		r->body = calloc(1, 16 << 20);
		r->body_len = r->body != NULL ? 16 << 20 : 0;
	} else if (strcmp(p, "/bin") == 0) {
		http_resp_bytes(r, 200, "application/octet-stream", "a\0b", 3);
	} else
		http_resp_printf(r, 200, NULL, "%s %s\n", req->method, p);

	pthread_mutex_lock(&cap.mu);
	cap.active--;
	pthread_mutex_unlock(&cap.mu);
}

/* ---- servers and clients ----------------------------------------------- */

static struct http_server *
start1(const struct http_listener *l, unsigned threads)
{
	struct http_server *s = NULL;
	int r;

	cap_reset();
	r = http_start(l, 1, threads, handler, NULL, NULL, &s);
	if (r != 0)
		fail_msg("http_start: %s: %s", cairn_errname(r),
		    cairn_errmsg(r));
	assert_non_null(s);
	assert_int_not_equal(http_port(s, 0), 0);
	return s;
}

static struct http_server *
start_plain(unsigned idle_sec)
{
	struct http_listener l = { .addr = "127.0.0.1", .idle_sec = idle_sec };

	return start1(&l, 4);
}

/* Run a shell command; its output (at most sz-1 bytes) into out; returns
 * the exit status. */
static int
run(char *out, size_t sz, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	size_t n = 0, k;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((k = fread(out + n, 1, sz - 1 - n, f)) > 0)
		n += k;
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * curl with `args`, the response body then "\n" and the status code on
 * stdout; returns the status (0 when curl failed before one).
 */
static int
curl(char *out, size_t sz, const char *fmt, ...)
{
	char args[4096];
	char *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	run(out, sz, "curl -sS --max-time 20 -w '\\n%%{http_code}' %s "
	    "2>/dev/null", args);
	if ((nl = strrchr(out, '\n')) == NULL)
		return 0;
	*nl = '\0';
	return atoi(nl + 1);
}

static int
tcp_connect(unsigned short port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 8 };
	int fd;

	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send `req` as is and read until the server closes or 8 s pass. */
static void
raw(unsigned short port, const char *req, size_t len, char *out, size_t sz)
{
	size_t n = 0;
	ssize_t k;
	int fd;

	fd = tcp_connect(port);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	while (n < sz - 1 && (k = recv(fd, out + n, sz - 1 - n, 0)) > 0)
		n += (size_t)k;
	out[n] = '\0';
	close(fd);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *
slurp(const char *name, size_t *lenp)
{
	char path[PATH_MAX + 32];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

/* ---- fixtures ---------------------------------------------------------- */

static const char cnf[] =
    "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
    "[ca]\nbasicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[srv]\nbasicConstraints = critical,CA:FALSE\n"
    "subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost\n"
    "extendedKeyUsage = serverAuth\n"
    "[cli]\nbasicConstraints = critical,CA:FALSE\n"
    "extendedKeyUsage = clientAuth\n";

static int
setup_pki(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/cairn-test-http-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/o.cnf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(cnf, f);
	fclose(f);
#define K "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 " \
    "-nodes -days 2 -config o.cnf"
	if (th_run("exec 2>/dev/null; cd '%s' && "
	    K " -keyout ca.key -out ca.pem -subj /CN=Test-CA -extensions ca && "
	    K " -keyout srv.key -out srv.pem -subj /CN=127.0.0.1 "
	    "-extensions srv -CA ca.pem -CAkey ca.key && "
	    K " -keyout cli.key -out cli.pem -subj /CN=client "
	    "-extensions cli -CA ca.pem -CAkey ca.key && "
	    K " -keyout rogue-ca.key -out rogue-ca.pem -subj /CN=Rogue-CA "
	    "-extensions ca && "
	    K " -keyout rogue.key -out rogue.pem -subj /CN=rogue "
	    "-extensions cli -CA rogue-ca.pem -CAkey rogue-ca.key && "
	    K " -keyout self.key -out self.pem -subj /CN=self "
	    "-extensions cli && "
	    "openssl x509 -in cli.pem -outform DER -out cli.der && "
	    "openssl x509 -in rogue.pem -outform DER -out rogue.der && "
	    "openssl x509 -in self.pem -outform DER -out self.der && "
	    "head -c 10000000 /dev/zero > big && "
	    "head -c 65536 /dev/zero | tr '\\0' 'a' > b65536 && "
	    "head -c 65537 /dev/zero | tr '\\0' 'a' > b65537", dir) != 0) {
		fprintf(stderr, "# openssl could not make the test PKI\n");
		return -1;
	}
#undef K
	ca_pem = slurp("ca.pem", NULL);
	srv_pem = slurp("srv.pem", NULL);
	srv_key = slurp("srv.key", NULL);
	cli_pem = slurp("cli.pem", NULL);
	return 0;
}

static int
teardown_pki(void **state)
{
	free(ca_pem);
	free(srv_pem);
	free(srv_key);
	free(cli_pem);
	cap_reset();
	if (strstr(dir, "cairn-test-http-") != NULL)
		th_run("rm -rf '%s'", dir);
	return 0;
}

/* ---- plain HTTP -------------------------------------------------------- */

static void
test_get_post(void **state)
{
	struct http_server *s = start_plain(0);
	unsigned short port = http_port(s, 0);
	char out[4096];

	assert_int_equal(curl(out, sizeof(out), "-H 'X-Test: hello' "
	    "http://127.0.0.1:%u/echo", port), 200);
	assert_string_equal(out, "GET /echo\n");
	assert_int_equal(cap_calls(), 1);
	assert_string_equal(cap.method, "GET");
	assert_string_equal(cap.path, "/echo");
	assert_string_equal(cap.query, "");
	assert_string_equal(cap.hdr, "hello");
	assert_string_equal(cap.remote, "127.0.0.1");
	assert_int_equal(cap.tls, 0);
	assert_int_equal(cap.client_n, 0);
	assert_int_equal(cap.body_len, 0);
	assert_true(cap.body_nul);

	assert_int_equal(curl(out, sizeof(out), "--data-binary 'abc' "
	    "http://127.0.0.1:%u/post", port), 200);
	assert_string_equal(out, "POST /post\n");
	assert_int_equal(cap_calls(), 2);
	assert_string_equal(cap.method, "POST");
	assert_string_equal(cap.hdr, "(null)");
	assert_int_equal(cap.body_len, 3);
	assert_true(cap.body_nul);
	assert_int_equal(cap.body_sum, (uint8_t)('a' + 'b' + 'c'));

	/* Exactly the limit is accepted, whole and NUL-terminated. */
	assert_int_equal(curl(out, sizeof(out), "-H 'Expect:' --data-binary "
	    "@'%s/b65536' http://127.0.0.1:%u/post", dir, port), 200);
	assert_int_equal(cap_calls(), 3);
	assert_int_equal(cap.body_len, CAIRN_HTTP_BODY_MAX);
	assert_true(cap.body_nul);
	assert_int_equal(cap.body_sum, (uint8_t)(CAIRN_HTTP_BODY_MAX * 'a'));
	http_stop(s);
}

static void
test_response(void **state)
{
	struct http_server *s = start_plain(0);
	unsigned short port = http_port(s, 0);
	char out[4096];

	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/hdr", port), 201);
	assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(out, "Cache-Control: no-store\r\n"));
	assert_non_null(strstr(out, "Location: /there\r\n"));
	assert_non_null(strstr(out, "\r\n\r\n{\"ok\":true}\n"));

	/* Status unset: 200; body NULL: empty; the default type. */
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/empty", port), 200);
	assert_non_null(strstr(out, "Content-Length: 0\r\n"));
	assert_non_null(strstr(out,
	    "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));

	/* A helper that failed: 500, and nothing the handler made leaks. */
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/fail", port), 500);
	assert_null(strstr(out, "half an answer"));
	assert_null(strstr(out, "Set-Cookie"));
	assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/many", port), 500);
	assert_null(strstr(out, "X-N:"));
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/handmade", port), 500);
	assert_null(strstr(out, "X-Inj"));
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/ctype", port), 500);
	assert_null(strstr(out, "X-Inj"));
	assert_int_equal(curl(out, sizeof(out), "-i "
	    "http://127.0.0.1:%u/status", port), 500);

	/* Bytes, NUL included. */
	run(out, sizeof(out), "curl -s http://127.0.0.1:%u/bin | "
	    "od -An -tx1 | tr -d ' \\n'", port);
	assert_string_equal(out, "610062");
	http_stop(s);
	run(out, sizeof(out), "curl -s http://127.0.0.1:%u/bin | "
	    "od -An -tx1 | tr -d ' \\n'", port);
	assert_string_equal(out, "");     /* stopped: nothing answers */
}

static void
test_resp_helpers(void **state)
{
	struct http_response r;
	size_t i;
	char big[200];

	memset(&r, 0, sizeof(r));
	assert_int_equal(http_resp_text(&r, 404, "text/html", "x"), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.content_type, "text/html");
	assert_int_equal(r.body_len, 1);
	assert_int_equal(http_resp_printf(&r, 200, NULL, "%d-%s", 7, "y"), 0);
	assert_string_equal(r.content_type, "text/html");  /* kept */
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "7-y", 3);
	assert_int_equal(http_resp_bytes(&r, 200, "a/b", NULL, 0), 0);
	assert_int_equal(r.body_len, 0);
	assert_int_equal(r.failed, 0);

	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_resp_text(&r, 200, big, "z"), CAIRN_E_INVAL);
	assert_int_equal(r.failed, 1);
	r.failed = 0;
	assert_int_equal(http_resp_header(&r, "no colon"), CAIRN_E_INVAL);
	assert_int_equal(http_resp_header(&r, "A: b\n"), CAIRN_E_INVAL);
	assert_int_equal(r.n_headers, 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(http_resp_header(&r, "H%zu: v", i), 0);
	r.failed = 0;
	assert_int_equal(http_resp_header(&r, "H16: v"), CAIRN_E_TOO_LARGE);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.n_headers, 16);
	for (i = 0; i < r.n_headers; i++)
		free(r.headers[i]);
	free(r.body);
}

static void
test_query_and_path(void **state)
{
	struct http_server *s = start_plain(0);
	char out[4096];

	assert_int_equal(curl(out, sizeof(out), "'http://127.0.0.1:%u"
	    "/ocsp/MEow%%2FSD+x%%3D%%3D?x=1%%2B2&y=a+b&z=a%%20b&empty&k="
	    "&nul=a%%00b&pct=%%zz%%4&x=second'", http_port(s, 0)), 200);
	assert_int_equal(cap_calls(), 1);
	/* Raw: "%2F" is not a path separator, '+' is not a space. */
	assert_string_equal(cap.path, "/ocsp/MEow%2FSD+x%3D%3D");
	assert_string_equal(out, "GET /ocsp/MEow%2FSD+x%3D%3D\n");
	assert_string_equal(cap.query, "x=1%2B2&y=a+b&z=a%20b&empty&k="
	    "&nul=a%00b&pct=%zz%4&x=second");
	assert_string_equal(cap.args[0], "1+2");    /* first x wins */
	assert_string_equal(cap.args[1], "a b");
	assert_string_equal(cap.args[2], "a b");
	assert_string_equal(cap.args[3], "");
	assert_string_equal(cap.args[4], "");
	assert_string_equal(cap.args[5], "(null)"); /* NUL byte: dropped */
	assert_string_equal(cap.args[6], "%zz%4");
	assert_string_equal(cap.args[7], "(null)");

	/* An encoded key is decoded too; a query of "?" alone is empty. */
	assert_int_equal(curl(out, sizeof(out), "'http://127.0.0.1:%u/q?"
	    "%%78=%%2f'", http_port(s, 0)), 200);
	assert_string_equal(cap.args[0], "/");
	assert_int_equal(curl(out, sizeof(out), "'http://127.0.0.1:%u/q?'",
	    http_port(s, 0)), 200);
	assert_string_equal(cap.path, "/q");
	assert_string_equal(cap.query, "");
	assert_string_equal(cap.args[0], "(null)");
	http_stop(s);
}

static void
test_ipv6(void **state)
{
	struct http_listener l = { .addr = "::1" };
	struct http_server *s = start1(&l, 1);
	char out[4096];

	assert_int_equal(curl(out, sizeof(out), "-g 'http://[::1]:%u/six'",
	    http_port(s, 0)), 200);
	assert_string_equal(cap.remote, "::1");
	http_stop(s);

	/* "::" is IPv6 only: IPv4 clients need a listener of their own. */
	l.addr = "::";
	s = start1(&l, 1);
	assert_int_equal(curl(out, sizeof(out), "-g 'http://[::1]:%u/six'",
	    http_port(s, 0)), 200);
	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/four",
	    http_port(s, 0)), 0);
	assert_int_equal(cap_calls(), 1);
	http_stop(s);
}

/* ---- limits ------------------------------------------------------------ */

static void
test_body_too_large(void **state)
{
	struct http_server *s = start_plain(0);
	unsigned short port = http_port(s, 0);
	char req[256], out[4096];
	double t0;
	int n;

	/* curl sends "Expect: 100-continue" and gets 413 instead. */
	t0 = now();
	assert_int_equal(curl(out, sizeof(out), "--data-binary @'%s/big' "
	    "http://127.0.0.1:%u/post", dir, port), 413);
	assert_string_equal(out, "request body too large: at most 65536 "
	    "bytes\n");
	assert_true(now() - t0 < 2.0);
	assert_int_equal(cap_calls(), 0);

	/* One byte over, announced: refused before a byte of body is read. */
	assert_int_equal(curl(out, sizeof(out), "-H 'Expect:' --data-binary "
	    "@'%s/b65537' http://127.0.0.1:%u/post", dir, port), 413);
	assert_int_equal(cap_calls(), 0);

	/* Only the header, no body at all: the answer comes anyway. */
	n = snprintf(req, sizeof(req), "POST /post HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 10000000\r\n\r\n");
	raw(port, req, (size_t)n, out, sizeof(out));
	assert_true(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
	n = snprintf(req, sizeof(req), "POST /post HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n");
	raw(port, req, (size_t)n, out, sizeof(out));
	assert_true(strncmp(out, "HTTP/1.1 4", 10) == 0);
	assert_int_equal(cap_calls(), 0);

	/* Chunked, small: fine; chunked past the limit: cut off. */
	assert_int_equal(curl(out, sizeof(out), "-H 'Transfer-Encoding: "
	    "chunked' --data-binary 'abc' http://127.0.0.1:%u/post", port),
	    200);
	assert_int_equal(cap_calls(), 1);
	assert_int_equal(cap.body_len, 3);
	assert_int_equal(curl(out, sizeof(out), "-H 'Transfer-Encoding: "
	    "chunked' --data-binary @'%s/b65536' http://127.0.0.1:%u/post",
	    dir, port), 200);
	assert_int_equal(cap_calls(), 2);
	assert_int_equal(cap.body_len, CAIRN_HTTP_BODY_MAX);
	assert_true(cap.body_nul);
	assert_int_equal(cap.body_sum, (uint8_t)(CAIRN_HTTP_BODY_MAX * 'a'));
	assert_int_equal(curl(out, sizeof(out), "-H 'Transfer-Encoding: "
	    "chunked' --data-binary @'%s/b65537' http://127.0.0.1:%u/post",
	    dir, port), 0);
	assert_int_equal(cap_calls(), 2);

	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/after",
	    port), 200);
	http_stop(s);
}

/* A request of exactly `len` bytes whose one padding header fills it. */
static void
head_of(char *buf, size_t len)
{
	static const char pre[] = "GET /h HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nX-Pad: ";
	size_t n = strlen(pre);

	memcpy(buf, pre, n);
	memset(buf + n, 'p', len - n - 4);
	memcpy(buf + len - 4, "\r\n\r\n", 4);
	buf[len] = '\0';
}

static void
test_headers_too_large(void **state)
{
	struct http_server *s = start_plain(0);
	unsigned short port = http_port(s, 0);
	char path[PATH_MAX + 32], out[4096];
	char *req = malloc(CAIRN_HTTP_HEADER_MAX + 2);
	FILE *f;
	int st;

	/* The request head may have CAIRN_HTTP_HEADER_MAX bytes, not one
	 * more (the handler's limit: MHD's pool would take more). */
	assert_non_null(req);
	head_of(req, CAIRN_HTTP_HEADER_MAX);
	raw(port, req, CAIRN_HTTP_HEADER_MAX, out, sizeof(out));
	assert_true(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
	assert_int_equal(cap_calls(), 1);
	head_of(req, CAIRN_HTTP_HEADER_MAX + 1);
	raw(port, req, CAIRN_HTTP_HEADER_MAX + 1, out, sizeof(out));
	assert_true(strncmp(out, "HTTP/1.1 431 ", 13) == 0);
	assert_non_null(strstr(out, "\r\n\r\nrequest headers too large: "
	    "at most 16384 bytes\n"));
	assert_int_equal(cap_calls(), 1);
	free(req);

	/* 100 KB: more than MHD's pool, which answers itself. */
	snprintf(path, sizeof(path), "%s/hdr100k", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (st = 0; st < 100; st++)
		fprintf(f, "X-H%d: %01000d\n", st, 0);
	fclose(f);
	st = curl(out, sizeof(out), "-H @'%s' http://127.0.0.1:%u/huge",
	    path, port);
	print_message("# 100 KB of headers: HTTP %d\n", st);
	assert_int_equal(st, 431);
	assert_int_equal(cap_calls(), 1);
	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/next",
	    port), 200);
	assert_int_equal(cap_calls(), 2);
	http_stop(s);
}

static void
test_slow_client(void **state)
{
	struct http_server *s = start_plain(1);
	unsigned short port = http_port(s, 0);
	char out[4096], c;
	double t0, t;
	ssize_t k;
	int fd, i;

	fd = tcp_connect(port);
	t0 = now();
	assert_int_equal(send(fd, "GET /slo", 8, MSG_NOSIGNAL), 8);
	/* The stalled client holds no thread: others are served now. */
	for (i = 0; i < 3; i++)
		assert_int_equal(curl(out, sizeof(out),
		    "http://127.0.0.1:%u/other", port), 200);
	k = recv(fd, &c, 1, 0);
	t = now() - t0;
	print_message("# stalled client cut off after %.2f s\n", t);
	assert_int_equal(k, 0);         /* closed, not timed out here */
	assert_true(t >= 0.9 && t < 4.0);
	close(fd);
	assert_int_equal(cap_calls(), 3);
	http_stop(s);
}

struct conc_arg {
	unsigned short port;
	int ok;
};

static void *
conc_thread(void *p)
{
	struct conc_arg *a = p;
	char out[256];
	int i;

	for (i = 0; i < 2; i++)
		if (curl(out, sizeof(out), "http://127.0.0.1:%u/conc",
		    a->port) == 200 && strcmp(out, "GET /conc\n") == 0)
			a->ok++;
	return NULL;
}

/* Eight clients at once, two /conc requests each, every answer right. */
static void
run_conc(unsigned short port)
{
	struct conc_arg a[8];
	pthread_t t[8];
	size_t i;

	for (i = 0; i < 8; i++) {
		a[i].port = port;
		a[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, conc_thread,
		    &a[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].ok, 2);
	}
}

static void
test_concurrent(void **state)
{
	struct http_server *s = start_plain(0);

	run_conc(http_port(s, 0));
	assert_int_equal(cap_calls(), 16);
	print_message("# at most %d handlers at once\n", cap.max_active);
	assert_true(cap.max_active >= 2 && cap.max_active <= 4);
	http_stop(s);
}

/* With a quick function: what it calls quick runs on the I/O thread that
 * read it, the rest on the workers, all `threads` of them at once however
 * MHD spread the connections over its (here at most 2) I/O threads. */
static int
quick_path(void *arg, const struct http_request *req)
{
	(void)arg;
	return strcmp(req->path, "/quick") == 0;
}

static struct http_server *
start_workers(unsigned threads)
{
	struct http_listener l = { .addr = "127.0.0.1" };
	struct http_server *s = NULL;
	int r;

	cap_reset();
	r = http_start(&l, 1, threads, handler, quick_path, NULL, &s);
	if (r != 0)
		fail_msg("http_start: %s: %s", cairn_errname(r),
		    cairn_errmsg(r));
	assert_non_null(s);
	return s;
}

struct slow_arg {
	unsigned short port;
	int status;
	char out[256];
};

static void *slow_thread(void *p);

/* Start a client asking for /slow on `a->port`; return once its handler
 * has been entered. */
static void
start_slow(struct slow_arg *a, pthread_t *t)
{
	int i, in = 0;

	assert_int_equal(pthread_create(t, NULL, slow_thread, a), 0);
	for (i = 0; i < 500 && !in; i++) {
		pthread_mutex_lock(&cap.mu);
		in = cap.slow_entered;
		pthread_mutex_unlock(&cap.mu);
		usleep(10 * 1000);
	}
	assert_true(in);
}

static void
test_workers(void **state)
{
	struct http_server *s = start_workers(8);
	struct slow_arg sl;
	pthread_t t;
	char out[256];
	double t0, took;

	/* Eight clients, two requests each of 200 ms: eight at once. */
	t0 = now();
	run_conc(http_port(s, 0));
	took = now() - t0;
	assert_int_equal(cap_calls(), 16);
	print_message("# workers: at most %d handlers at once, 16 requests of "
	    "0.2 s in %.2f s\n", cap.max_active, took);
	assert_true(cap.max_active >= 6 && cap.max_active <= 8);

	/* A worker busy for a second holds up no quick request, and the
	 * answers it fills still reach their clients. */
	memset(&sl, 0, sizeof(sl));
	sl.port = http_port(s, 0);
	start_slow(&sl, &t);
	t0 = now();
	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/quick",
	    sl.port), 200);
	assert_string_equal(out, "GET /quick\n");
	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/hdr",
	    sl.port), 201);
	took = now() - t0;
	print_message("# quick and worker answers beside a busy worker: "
	    "%.2f s\n", took);
	assert_true(took < 0.9);
	/* Stopping waits for the worker's request and sends its answer. */
	http_stop(s);
	pthread_join(t, NULL);
	assert_int_equal(sl.status, 200);
	assert_string_equal(sl.out, "GET /slow\n");
}

static void *
slow_thread(void *p)
{
	struct slow_arg *a = p;

	a->status = curl(a->out, sizeof(a->out), "http://127.0.0.1:%u/slow",
	    a->port);
	return NULL;
}

static void
test_stop_drains(void **state)
{
	struct http_server *s = start_plain(0);
	struct slow_arg a = { .port = http_port(s, 0) };
	pthread_t t;
	double t0;

	start_slow(&a, &t);
	t0 = now();
	http_stop(s);
	print_message("# http_stop took %.2f s\n", now() - t0);
	assert_true(now() - t0 < CAIRN_HTTP_DRAIN_SEC);
	pthread_join(t, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.out, "GET /slow\n");
}

static void
test_bind_errors(void **state)
{
	struct http_listener l = { .addr = "127.0.0.1" };
	struct http_listener two[2] = { { .addr = "127.0.0.1" },
	    { .addr = "127.0.0.1" } };
	struct http_server *s = start1(&l, 1), *s2 = (void *)&l;
	char want[64];
	int r;

	l.port = http_port(s, 0);
	r = http_start(&l, 1, 1, handler, NULL, NULL, &s2);
	assert_int_equal(r, CAIRN_E_IO);
	assert_null(s2);
	snprintf(want, sizeof(want), "127.0.0.1 port %u", l.port);
	print_message("# %s\n", cairn_errmsg(r));
	assert_non_null(strstr(cairn_errmsg(r), want));
	assert_non_null(strstr(cairn_errmsg(r), "Address already in use"));

	/* The second of two fails: the first is released again. */
	two[1].port = l.port;
	s2 = (void *)&l;
	assert_int_equal(http_start(two, 2, 1, handler, NULL, NULL, &s2),
	    CAIRN_E_IO);
	assert_null(s2);

	assert_int_equal(http_start(&l, 0, 1, handler, NULL, NULL, &s2),
	    CAIRN_E_INVAL);
	assert_int_equal(http_start(&l, 1, 1, NULL, NULL, NULL, &s2),
	    CAIRN_E_INVAL);
	l.addr = "localhost";
	assert_int_equal(http_start(&l, 1, 1, handler, NULL, NULL, &s2),
	    CAIRN_E_INVAL);
	assert_non_null(strstr(cairn_errmsg(CAIRN_E_INVAL), "localhost"));
	http_stop(s);
	http_stop(NULL);
}

/* ---- TLS ---------------------------------------------------------------- */

static struct http_server *
start_tls(int client_ca)
{
	struct http_listener l = { .addr = "127.0.0.1", .tls = 1 };
	struct http_server *s;

	/* Borrowed only until http_start returns: hand over copies and
	 * free them at once, so ASan sees any later use. */
	l.cert_pem = strdup(srv_pem);
	l.key_pem = strdup(srv_key);
	l.client_ca_pem = client_ca ? strdup(ca_pem) : NULL;
	s = start1(&l, 2);
	free((void *)l.cert_pem);
	free((void *)l.key_pem);
	free((void *)l.client_ca_pem);
	return s;
}

/* The handler got `n` certificates, the first of them `derfile`.  (OpenSSL
 * clients complete their chain from their trust store: curl --cacert with
 * the issuing CA sends leaf and CA.) */
static void
assert_client_is(const char *derfile, size_t n)
{
	size_t len;
	char *der = slurp(derfile, &len);

	assert_int_equal(cap.client_n, n);
	assert_int_equal(cap.der0_len, len);
	assert_memory_equal(cap.der0, der, len);
	free(der);
}

static void
test_tls_client_cert(void **state)
{
	struct http_server *s = start_tls(1);
	unsigned short port = http_port(s, 0);
	char out[16384];

	/* curl (OpenSSL) with the client certificate: the handler gets its
	 * DER, byte for byte. */
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "--cert '%s/cli.pem' --key '%s/cli.key' "
	    "'https://127.0.0.1:%u/tls?x=1'", dir, dir, dir, port), 200);
	assert_int_equal(cap_calls(), 1);
	assert_int_equal(cap.tls, 1);
	assert_string_equal(cap.args[0], "1");
	assert_client_is("cli.der", 2);

	/* Requested, not required: no certificate connects fine. */
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "https://127.0.0.1:%u/tls", dir, port), 200);
	assert_int_equal(cap_calls(), 2);
	assert_int_equal(cap.tls, 1);
	assert_int_equal(cap.client_n, 0);

	/* Not verified here: a certificate from another CA, and a
	 * self-signed one, reach the handler, which must decide. */
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "--cert '%s/rogue.pem' --key '%s/rogue.key' "
	    "https://127.0.0.1:%u/tls", dir, dir, dir, port), 200);
	assert_client_is("rogue.der", 1);
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "--cert '%s/self.pem' --key '%s/self.key' "
	    "https://127.0.0.1:%u/tls", dir, dir, dir, port), 200);
	assert_client_is("self.der", 1);

	/* openssl s_client, TLS 1.2 then 1.3, with the certificate. */
	assert_int_equal(run(out, sizeof(out), "printf 'GET /sc HTTP/1.0"
	    "\\r\\n\\r\\n' | openssl s_client -quiet -tls1_2 -connect "
	    "127.0.0.1:%u -CAfile '%s/ca.pem' -verify_return_error "
	    "-cert '%s/cli.pem' -key '%s/cli.key' 2>/dev/null", port, dir,
	    dir, dir), 0);
	assert_true(strncmp(out, "HTTP/1.0 200 ", 13) == 0 ||
	    strncmp(out, "HTTP/1.1 200 ", 13) == 0);
	assert_client_is("cli.der", 2);
	assert_int_equal(run(out, sizeof(out), "printf 'GET /sc HTTP/1.0"
	    "\\r\\n\\r\\n' | openssl s_client -quiet -tls1_3 -connect "
	    "127.0.0.1:%u -CAfile '%s/ca.pem' -verify_return_error "
	    "2>/dev/null", port, dir), 0);
	assert_non_null(strstr(out, " 200 OK\r\n"));
	assert_int_equal(cap.client_n, 0);

	/* TLS 1.1 is refused by the server (the client is allowed it). */
	assert_int_not_equal(run(out, sizeof(out), "printf 'GET /old HTTP/1.0"
	    "\\r\\n\\r\\n' | openssl s_client -quiet -tls1_1 -cipher "
	    "'DEFAULT:@SECLEVEL=0' -connect 127.0.0.1:%u 2>&1", port), 0);
	assert_null(strstr(out, " 200 OK"));
	assert_int_equal(cap_calls(), 6);
	http_stop(s);
}

/*
 * Clients that leave while their answer is written: the server writes into
 * a reset connection, which raises SIGPIPE unless MHD (and GnuTLS) keep
 * it away.  SIGPIPE is left at its default here, so it would end the test.
 */
static void
test_peer_gone(void **state)
{
	struct http_server *s = start_tls(0);
	struct http_listener l = { .addr = "127.0.0.1" };
	struct http_server *p = start1(&l, 2);
	static const char req[] = "GET /large HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sigaction sa;
	char out[4096];
	int fd, i;

	assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
	for (i = 0; i < 3; i++) {
		fd = tcp_connect(http_port(p, 0));
		assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL),
		    (ssize_t)sizeof(req) - 1);
		close(fd);
		/* curl gives up as soon as it sees the Content-Length. */
		assert_int_equal(run(out, sizeof(out), "curl -s --cacert "
		    "'%s/ca.pem' --max-filesize 1000 "
		    "https://127.0.0.1:%u/large", dir, http_port(s, 0)), 63);
	}
	usleep(300 * 1000);
	assert_int_equal(curl(out, sizeof(out), "http://127.0.0.1:%u/next",
	    http_port(p, 0)), 200);
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "https://127.0.0.1:%u/next", dir, http_port(s, 0)), 200);
	http_stop(p);
	http_stop(s);
}

static void
test_tls_no_client_ca(void **state)
{
	struct http_server *s = start_tls(0);
	char out[4096];

	/* No client CA: no certificate is asked for, none arrives. */
	assert_int_equal(curl(out, sizeof(out), "--cacert '%s/ca.pem' "
	    "--cert '%s/cli.pem' --key '%s/cli.key' "
	    "https://127.0.0.1:%u/tls", dir, dir, dir, http_port(s, 0)), 200);
	assert_int_equal(cap.tls, 1);
	assert_int_equal(cap.client_n, 0);
	/* Plain HTTP to the TLS port is not served. */
	assert_int_not_equal(curl(out, sizeof(out),
	    "http://127.0.0.1:%u/plain", http_port(s, 0)), 200);
	assert_int_equal(cap_calls(), 1);
	http_stop(s);
}

static void
test_tls_bad_credentials(void **state)
{
	struct http_listener l = { .addr = "127.0.0.1", .tls = 1 };
	struct http_server *s = (void *)&l;
	char *cli_key = slurp("cli.key", NULL);
	int r;

	l.cert_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n"
	    "-----END CERTIFICATE-----\n";
	l.key_pem = srv_key;
	r = http_start(&l, 1, 1, handler, NULL, NULL, &s);
	assert_int_equal(r, CAIRN_E_CRYPTO);
	assert_null(s);
	print_message("# %s\n", cairn_errmsg(r));
	assert_non_null(strstr(cairn_errmsg(r), "127.0.0.1 port 0"));

	l.cert_pem = srv_pem;           /* a key of another certificate */
	l.key_pem = cli_key;
	assert_int_equal(http_start(&l, 1, 1, handler, NULL, NULL, &s),
	    CAIRN_E_CRYPTO);
	l.key_pem = "garbage";
	assert_int_equal(http_start(&l, 1, 1, handler, NULL, NULL, &s),
	    CAIRN_E_CRYPTO);

	l.key_pem = srv_key;
	l.client_ca_pem = "no certificate here\n";
	r = http_start(&l, 1, 1, handler, NULL, NULL, &s);
	assert_int_equal(r, CAIRN_E_CRYPTO);
	assert_non_null(strstr(cairn_errmsg(r), "client CA"));
	l.client_ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n"
	    "-----END CERTIFICATE-----\n";
	assert_int_equal(http_start(&l, 1, 1, handler, NULL, NULL, &s),
	    CAIRN_E_CRYPTO);

	l.client_ca_pem = NULL;
	l.key_pem = NULL;
	assert_int_equal(http_start(&l, 1, 1, handler, NULL, NULL, &s),
	    CAIRN_E_INVAL);
	assert_null(s);
	free(cli_key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_post),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_resp_helpers),
		cmocka_unit_test(test_query_and_path),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_headers_too_large),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_stop_drains),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_bind_errors),
		cmocka_unit_test(test_tls_client_cert),
		cmocka_unit_test(test_tls_no_client_ca),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_tls_bad_credentials),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
