/*
 * cmd_ocsp.c: cairn-sub ocsp serve: a standalone OCSP responder that
 * serves only the pre-signed responses in the store (and the root's in
 * DIR/root-ocsp/), reading what is new every CAIRN_OCSP_POLL_MS.  It
 * holds no key and opens no token: several of them can serve one CA,
 * beside or apart from the daemon that signs (docs/ocsp.md).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "sub-ca/ca.h"
#include "sub-ca/ocsp.h"
#include "sub-ca/sub.h"

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
handle(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct ocsp *o = arg;

	if (ocsp_handle(o, req, resp))
		return;
	http_resp_text(resp, 404, NULL, "this is an OCSP responder: POST to "
	    "/ocsp or GET /ocsp/<base64 request>\n");
}

enum { OPT_DATA = 1, OPT_HELP, OPT_LISTEN, OPT_PIDFILE, OPT_THREADS };

int
cmd_ocsp_serve(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 } };
	struct ca *ca = NULL;
	struct ocsp *o = NULL;
	struct http_server *http = NULL;
	struct http_listener l;
	struct sigaction sa;
	const char *data = NULL, *listen = "127.0.0.1:8081", *pidfile = NULL;
	char *addr = NULL, pid[32];
	unsigned short port;
	unsigned threads = 0;
	size_t entries, pending;
	unsigned long long nsigned;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return cairn_cli_help(cmd);
		case OPT_DATA: data = optarg; break;
		case OPT_LISTEN: listen = optarg; break;
		case OPT_PIDFILE: pidfile = optarg; break;
		case OPT_THREADS:
			threads = (unsigned)strtoul(optarg, NULL, 10);
			if (threads < 1 || threads > 64)
				return cairn_cli_usage(cmd, "--threads: 1 to 64");
			break;
		default: return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if ((data = sub_data_dir(data)) == NULL)
		return cairn_cli_usage(cmd, "name the data directory with "
		    "--data DIR (or CAIRN_DATA)");
	if (ca_listen_parse(listen, &addr, &port) != 0)
		return cairn_cli_usage(cmd, "--listen: want ADDRESS:PORT such "
		    "as 127.0.0.1:8081 or [::1]:8081, have '%s'", listen);
	if ((r = ca_open(data, CA_CERT, &ca)) != 0 ||
	    (r = ocsp_open(ca, 0, &o)) != 0)
		goto out;
	memset(&l, 0, sizeof(l));
	l.addr = addr;
	l.port = port;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((r = http_start(&l, 1, threads != 0 ? threads : ca->cfg.threads,
	    handle, NULL, o, &http)) != 0)
		goto out;
	if (pidfile != NULL) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if ((r = fileio_write_atomic(pidfile, pid, strlen(pid), 0644,
		    FILEIO_REPLACE)) != 0)
			goto out;
	}
	ocsp_stats(o, &entries, &nsigned, &pending);
	printf("cairn-sub ocsp: serving %zu pre-signed responses from the "
	    "store (pid %ld)\n  OCSP: http://%s:%u/ocsp\nstop with SIGTERM "
	    "or Ctrl-C\n", entries, (long)getpid(), addr, http_port(http, 0));
	fflush(stdout);
	while (!stop_signal)
		sleep(1);
	http_stop(http);
	http = NULL;
	printf("cairn-sub ocsp: stopped\n");
out:
	http_stop(http);
	ocsp_close(o);
	ca_close(ca);
	free(addr);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}
