/*
 * bench_null_http: the ceiling of tests/bench/ocsp on this machine.
 *
 *   bench_null_http PORT FILE
 *
 * Listens on 127.0.0.1:PORT and answers every HTTP/1.1 request (GET, or
 * POST with a Content-Length body) with the bytes of FILE as an
 * application/ocsp-response, keep-alive, from two epoll threads: no
 * parsing beyond the request head, no lookup, no locks.  Whatever rate
 * wrk reaches against it is what wrk (with the same Lua script, on the
 * same two CPUs) can drive at all; a responder cannot be measured faster.
 * Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct conn {
	int fd;
	size_t len;             /* bytes in buf */
	size_t skip;            /* body bytes still to discard */
	char buf[BUF];
};

static char *resp;
static size_t resp_len;
static int lfd;

/* Requests complete in c->buf: answer each, keep what is left. */
static int
serve(struct conn *c)
{
	char *p = c->buf, *end = c->buf + c->len, *h, *cl;
	size_t body;

	for (;;) {
		if (c->skip > 0) {
			size_t n = (size_t)(end - p) < c->skip ?
			    (size_t)(end - p) : c->skip;
			p += n;
			c->skip -= n;
			if (c->skip > 0)
				break;
		}
		if ((h = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
			break;
		body = 0;
		*h = '\0';
		if ((cl = strcasestr(p, "\ncontent-length:")) != NULL)
			body = strtoul(cl + 16, NULL, 10);
		p = h + 4;
		c->skip = body;
		if (write(c->fd, resp, resp_len) != (ssize_t)resp_len)
			return -1;
	}
	c->len = (size_t)(end - p);
	memmove(c->buf, p, c->len);
	return c->len == BUF ? -1 : 0;
}

static void *
loop(void *arg)
{
	struct epoll_event ev, evs[64];
	int ep = epoll_create1(0), i, n, one = 1;

	(void)arg;
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (c == NULL) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			r = read(c->fd, c->buf + c->len, BUF - c->len);
			if (r == 0 || (r < 0 && errno != EAGAIN) ||
			    (r > 0 && (c->len += (size_t)r, serve(c)) != 0)) {
				close(c->fd);
				free(c);
			}
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char head[160];
	pthread_t t;
	FILE *f;
	long n;
	int one = 1, hl;

	if (argc != 3 || (f = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "usage: bench_null_http PORT RESPONSE-FILE\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/ocsp-response\r\nContent-Length: %ld\r\n\r\n", n);
	if (n < 0 || (resp = malloc((size_t)hl + (size_t)n)) == NULL ||
	    fread(resp + hl, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	memcpy(resp, head, (size_t)hl);
	resp_len = (size_t)hl + (size_t)n;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 1024) != 0) {
		perror("bench_null_http");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	pthread_create(&t, NULL, loop, NULL);
	loop(NULL);
	return 0;
}
