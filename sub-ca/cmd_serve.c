/*
 * cmd_serve.c: cairn-sub serve: the daemon.  Its own HTTPS certificate,
 * the listeners, authentication, routing, scheduled CRLs and audit
 * checkpoints, and a clean stop on SIGTERM.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "sub-ca/account.h"
#include "sub-ca/scep.h"
#include "sub-ca/sub.h"
#include "sub-ca/tpm.h"
#include "sub-ca/web.h"

int
web_status(int r)
{
	switch (r) {
	case CAIRN_E_CSR:
	case CAIRN_E_INVAL:
	case CAIRN_E_USAGE:
		return 400;
	case CAIRN_E_AUTH:
		return 401;
	case CAIRN_E_DENIED:
		return 403;
	case CAIRN_E_NOT_FOUND:
		return 404;
	case CAIRN_E_STATE:
	case CAIRN_E_EXISTS:
		return 409;
	case CAIRN_E_TOO_LARGE:
		return 413;
	case CAIRN_E_POLICY:
		return 422;
	default:
		return 500;
	}
}

/* Is `x` (DER from the TLS layer) a certificate of ours, unrevoked? */
static int
client_cert(struct server *srv, const struct http_request *req, X509 **out)
{
	const unsigned char *p = req->client_der[0];
	X509_STORE_CTX *ctx = NULL;
	X509 *x;
	int ok;

	*out = NULL;
	if ((x = d2i_X509(NULL, &p, (long)req->client_der_len[0])) == NULL) {
		ERR_clear_error();
		return cairn_error(CAIRN_E_AUTH, "the client certificate does "
		    "not parse");
	}
	ok = (ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, srv->trust, x, NULL) == 1 &&
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
	    X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		X509_free(x);
		return cairn_error(CAIRN_E_AUTH, "the client certificate does "
		    "not verify up to this CA for client authentication");
	}
	*out = x;
	return 0;
}

static int
revoked(struct server *srv, X509 *x)
{
	char serial[33];
	sqlite3_stmt *st = NULL;
	int rv = 1;

	if (ca_serial_of(x, serial) != 0)
		return 1;
	store_lock(srv->ca->store);
	if (sqlite3_prepare_v2(store_db(srv->ca->store), "SELECT revoked_at "
	    "IS NOT NULL FROM certs WHERE serial = ? AND status = 'issued'",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_bind_text(st, 1, serial,
	    -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		rv = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	store_unlock(srv->ca->store);
	return rv;
}

int
web_authenticate(struct server *srv, const struct http_request *req,
    struct actor *who)
{
	const char *auth = http_header(req, "Authorization");
	char name[129];
	X509 *x = NULL;
	int r;

	memset(who, 0, sizeof(*who));
	if (!req->tls)
		return cairn_error(CAIRN_E_DENIED, "enrollment and "
		    "administration are served over HTTPS only");
	if (auth != NULL && (strncasecmp(auth, "NTLM", 4) == 0 ||
	    strncasecmp(auth, "Negotiate", 9) == 0))
		return cairn_error(CAIRN_E_AUTH, "NTLM and Negotiate are not "
		    "accepted (nothing here can be relayed to): use a client "
		    "certificate or a password");
	if (req->client_n > 0) {
		if ((r = client_cert(srv, req, &x)) != 0)
			return r;
		r = revoked(srv, x) ? cairn_error(CAIRN_E_AUTH, "the client "
		    "certificate is revoked") : account_by_cert(srv->ca, x,
		    name, sizeof(name));
		X509_free(x);
		if (r != 0)
			return r;
		return actor_load(srv->ca, name, who);
	}
	if (auth != NULL && strncasecmp(auth, "Basic ", 6) == 0) {
		uint8_t *dec = NULL;
		size_t dlen = 0;
		char cred[1024], *colon = NULL;

		if (cairn_b64_decode(auth + 6, strlen(auth + 6), &dec,
		    &dlen) == 0 && dlen < sizeof(cred) &&
		    memchr(dec, '\0', dlen) == NULL) {
			memcpy(cred, dec, dlen);
			cred[dlen] = '\0';
			colon = strchr(cred, ':');
		}
		cairn_free_secret(dec, dlen);
		if (colon == NULL || (size_t)(colon - cred) >= sizeof(name)) {
			OPENSSL_cleanse(cred, sizeof(cred));
			return cairn_error(CAIRN_E_AUTH, "malformed Basic "
			    "credentials");
		}
		*colon = '\0';
		memcpy(name, cred, (size_t)(colon - cred) + 1);
		r = account_password_check_from(srv->ca, name, colon + 1,
		    req->remote);
		OPENSSL_cleanse(cred, sizeof(cred));
		if (r != 0)
			return r;
		return actor_load(srv->ca, name, who);
	}
	return cairn_error(CAIRN_E_AUTH, "authentication required: a client "
	    "certificate bound to an account, or HTTP Basic with an account's "
	    "password");
}

/* Files relying parties fetch, from DIR/publish. */
static int
serve_file(struct server *srv, const struct http_request *req,
    struct http_response *resp)
{
	static const struct {
		const char *path, *file, *ctype;
	} files[] = {
		{ "/crl/ca.crl", "publish/ca.crl", "application/pkix-crl" },
		{ "/crl/root.crl", "publish/root.crl", "application/pkix-crl" },
		{ "/ca/ca.der", "publish/ca.der", "application/pkix-cert" },
		{ "/ca/chain.pem", "publish/chain.pem",
		    "application/x-pem-file" },
		{ "/ca/chain.p7b", "publish/chain.p7b",
		    "application/pkcs7-mime" },
	};
	char path[PATH_MAX], *buf;
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strcmp(req->path, files[i].path) != 0)
			continue;
		if (strcmp(req->method, "GET") != 0 &&
		    strcmp(req->method, "HEAD") != 0) {
			http_resp_text(resp, 405, NULL, "GET only\n");
			return 1;
		}
		if (cairn_read_file(ca_path(srv->ca, path, files[i].file),
		    64 << 20, &buf, &len) != 0) {
			http_resp_text(resp, 404, NULL, "not published yet\n");
			return 1;
		}
		http_resp_bytes(resp, 200, files[i].ctype, buf, len);
		free(buf);
		return 1;
	}
	return 0;
}

static void
handle(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct server *srv = arg;

	if (serve_file(srv, req, resp))
		return;
	/* OCSP: on both listeners (relying parties fetch it over HTTP). */
	if (srv->ca->ocsp != NULL && ocsp_handle(srv->ca->ocsp, req, resp))
		return;
	/* SCEP carries its own protection (signed and enveloped messages,
	 * one-time challenges) and its clients expect plain HTTP. */
	if (srv->scep != NULL && scep_path(req->path)) {
		scep_handle(srv->scep, req, resp);
		return;
	}
	if (!req->tls) {
		/* ESC8: nothing that enrolls or administers over plain HTTP,
		 * not even a redirect a client might follow with its
		 * credentials. */
		rest_error(resp, 403, "https_required", "this listener serves "
		    "only CRLs and CA certificates; enrollment and "
		    "administration are over HTTPS");
		return;
	}
	if (strncmp(req->path, "/api/v1/attest/", 15) == 0) {
		tpm_handle(srv, req, resp); /* TPM key attestation */
		return;
	}
	if (strncmp(req->path, "/api/v1/", 8) == 0) {
		rest_handle(srv, req, resp);
		return;
	}
	if (web_handle(srv, req, resp))
		return;
	http_resp_text(resp, 404, NULL, "not found\n");
}

/*
 * What the I/O threads answer themselves (see http.h): OCSP from the
 * responses in memory, and the published files.  All else, enrollment
 * above all (the HSM, two fsyncs), goes to the workers.
 */
static int
quick(void *arg, const struct http_request *req)
{
	(void)arg;
	return strncmp(req->path, "/ocsp", 5) == 0 ||
	    strncmp(req->path, "/crl/", 5) == 0 ||
	    strncmp(req->path, "/ca/", 4) == 0;
}

/* ---- the daemon's own HTTPS certificate --------------------------------- */

static int
tls_valid(const char *pem_path)
{
	X509 *x = NULL;
	time_t soon = time(NULL) + 30 * 86400;
	int ok;

	if (cairn_read_cert(pem_path, &x) != 0) {
		cairn_error_clear();
		return 0;
	}
	ok = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
	X509_free(x);
	return ok;
}

static int
tls_issue(struct ca *ca, const char *key_path, const char *cert_path)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct profile *p = profile_new();
	X509 *x = NULL;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	size_t i;
	int r;

	if (k == NULL || p == NULL || kb == NULL || cb == NULL) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "making the TLS key");
		goto out;
	}
	if ((r = profile_subject_add(p, "CN", ca->cfg.tls_names[0])) != 0)
		goto out;
	for (i = 0; ca->cfg.tls_names[i] != NULL; i++) {
		unsigned char a[16];
		const char *n = ca->cfg.tls_names[i];

		if (inet_pton(AF_INET, n, a) == 1 ||
		    inet_pton(AF_INET6, n, a) == 1)
			r = profile_strv_add(&p->san_ip, n);
		else
			r = profile_strv_add(&p->san_dns, n);
		if (r != 0)
			goto out;
	}
	p->not_before = store_now() - 60;
	p->not_after = store_now() + 90 * 86400;
	p->key_usage = PROFILE_KU_DIGITAL_SIGNATURE;
	if ((r = profile_strv_add(&p->eku, "serverAuth")) != 0 ||
	    (r = issue_internal(ca, p, k, "internal:https", &x)) != 0)
		goto out;
	mkdir(ca_path(ca, (char[PATH_MAX]){ 0 }, "tls"), 0700);
	if (PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (r = ca_write_bio(key_path, kb, 0600, FILEIO_REPLACE)) != 0 ||
	    PEM_write_bio_X509(cb, x) != 1 ||
	    PEM_write_bio_X509(cb, ca->cert) != 1 ||
	    (r = ca_write_bio(cert_path, cb, 0644, FILEIO_REPLACE)) != 0) {
		r = r != 0 ? r : cairn_error_crypto(CAIRN_E_CRYPTO, "writing "
		    "the TLS files");
		goto out;
	}
	r = 0;
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	profile_free(p);
	EVP_PKEY_free(k);
	return r;
}

/* ---- the loop ------------------------------------------------------------ */

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static int
checkpoint_if_new(struct ca *ca, unsigned long long *last_seq)
{
	struct audit_head h;
	int r;

	if ((r = store_audit_head(ca->store, &h)) != 0)
		return r;
	if (h.seq == *last_seq)
		return 0;
	if ((r = ca_checkpoint(ca)) == 0)
		*last_seq = h.seq + 1;
	return r;
}

enum { OPT_DATA = 1, OPT_HELP, OPT_PIDFILE };

int
cmd_serve(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 } };
	struct server srv = { 0 };
	struct http_server *http = NULL;
	struct http_listener l[2];
	struct ocsp *ocsp = NULL;
	struct actor me;
	struct sigaction sa;
	const char *data = NULL, *pidfile = NULL;
	char key_path[PATH_MAX], cert_path[PATH_MAX], ca_pem_path[PATH_MAX];
	char *key_pem = NULL, *cert_pem = NULL, *ca_pem = NULL, pid[32];
	size_t len;
	long long last_crl = 0, last_cp = 0;
	unsigned long long cp_seq = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return cairn_cli_help(cmd);
		case OPT_DATA: data = optarg; break;
		case OPT_PIDFILE: pidfile = optarg; break;
		default: return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if ((data = sub_data_dir(data)) == NULL)
		return cairn_cli_usage(cmd, "name the data directory with "
		    "--data DIR (or CAIRN_DATA)");
	actor_local(&me);
	snprintf(me.name, sizeof(me.name), "system");
	if ((r = ca_open(data, CA_KEY | CA_CERT | CA_TEMPLATES,
	    &srv.ca)) != 0)
		goto out;
	if ((srv.trust = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(srv.trust, srv.ca->root) != 1 ||
	    X509_STORE_add_cert(srv.trust, srv.ca->cert) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "building the trust "
		    "store");
		goto out;
	}
	ca_path(srv.ca, key_path, "tls/server.key");
	ca_path(srv.ca, cert_path, "tls/server.pem");
	if (!tls_valid(cert_path)) {
		printf("issuing this CA's own HTTPS certificate (%s)\n",
		    cert_path);
		if ((r = tls_issue(srv.ca, key_path, cert_path)) != 0)
			goto out;
	}
	if ((r = scep_open(srv.ca, &srv.scep)) != 0)
		goto out;
	if ((r = cairn_read_file(key_path, 1 << 16, &key_pem, &len)) != 0 ||
	    (r = cairn_read_file(cert_path, 1 << 16, &cert_pem, &len)) != 0 ||
	    (r = cairn_read_file(ca_path(srv.ca, ca_pem_path, "ca.pem"),
		1 << 16, &ca_pem, &len)) != 0)
		goto out;
	if ((r = web_start(&srv)) != 0 ||
	    (r = ocsp_open(srv.ca, OCSP_SIGN, &ocsp)) != 0)
		goto out;
	memset(l, 0, sizeof(l));
	l[0].addr = srv.ca->cfg.https_addr;
	l[0].port = srv.ca->cfg.https_port;
	l[0].tls = 1;
	l[0].cert_pem = cert_pem;
	l[0].key_pem = key_pem;
	l[0].client_ca_pem = ca_pem;
	l[1].addr = srv.ca->cfg.http_addr;
	l[1].port = srv.ca->cfg.http_port;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = http_start(l, 2, srv.ca->cfg.threads, handle, quick, &srv,
	    &http)) != 0)
		goto out;
	cairn_free_secret(key_pem, 0);
	key_pem = NULL;
	if (pidfile != NULL) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if ((r = fileio_write_atomic(pidfile, pid, strlen(pid), 0644,
		    FILEIO_REPLACE)) != 0)
			goto out;
	}
	if ((r = ca_audit_event(srv.ca, "daemon started", me.name,
	    NULL)) != 0)
		goto out;
	printf("cairn-sub serving (pid %ld)\n"
	    "  Web:       https://%s:%u/certsrv/\n"
	    "  REST:      https://%s:%u/api/v1/\n"
	    "  CRL:       %s\n"
	    "  CA (AIA):  %s\n"
	    "  OCSP:      http://%s:%u/ocsp (in certificates: %s)\n"
	    "  plain HTTP (CRL, CA and OCSP only): http://%s:%u/\n"
	    "stop with SIGTERM (kill %ld) or Ctrl-C\n", (long)getpid(),
	    srv.ca->cfg.https_addr, http_port(http, 0),
	    srv.ca->cfg.https_addr, http_port(http, 0),
	    srv.ca->cfg.crl_url ? srv.ca->cfg.crl_url : "-",
	    srv.ca->cfg.ca_issuers_url ? srv.ca->cfg.ca_issuers_url : "-",
	    srv.ca->cfg.http_addr, http_port(http, 1),
	    srv.ca->cfg.ocsp_url ? srv.ca->cfg.ocsp_url : "-",
	    srv.ca->cfg.http_addr, http_port(http, 1), (long)getpid());
	if (srv.scep != NULL)
		printf("  SCEP:      http://%s:%u/scep (and "
		    "/cgi-bin/pkiclient.exe, also over HTTPS)\n",
		    srv.ca->cfg.http_addr, http_port(http, 1));
	fflush(stdout);
	last_crl = last_cp = (long long)time(NULL);
	while (!stop_signal) {
		long long now = (long long)time(NULL);

		sleep(1);
		if (now - last_crl >= srv.ca->cfg.crl_period) {
			if ((r = ca_crl_issue(srv.ca, &me, NULL)) != 0)
				fprintf(stderr, "cairn-sub: scheduled CRL: %s\n",
				    cairn_errmsg(r));
			last_crl = now;
		}
		if (srv.scep != NULL && (r = scep_tick(srv.scep)) != 0)
			fprintf(stderr, "cairn-sub: SCEP RA renewal: %s\n",
			    cairn_errmsg(r));
		if (now - last_cp >= 60) {
			if ((r = checkpoint_if_new(srv.ca, &cp_seq)) != 0)
				fprintf(stderr, "cairn-sub: audit checkpoint: "
				    "%s\n", cairn_errmsg(r));
			last_cp = now;
		}
	}
	printf("cairn-sub: signal %d: finishing requests in progress\n",
	    (int)stop_signal);
	http_stop(http);
	http = NULL;
	if (ocsp != NULL) {
		size_t entries, pending;
		unsigned long long nsigned;

		ocsp_stats(ocsp, &entries, &nsigned, &pending);
		ocsp_close(ocsp);       /* signs what is queued, first */
		printf("cairn-sub: ocsp: %llu responses signed since start\n",
		    nsigned);
		if (pending > 0)
			printf("cairn-sub: ocsp: %zu certificates' responses "
			    "were still waiting for the pre-signer: signed "
			    "before exit\n", pending);
	}
	ocsp = NULL;
	if ((r = ca_audit_event(srv.ca, "daemon stopped", me.name, NULL)) ==
	    0)
		r = checkpoint_if_new(srv.ca, &cp_seq);
	{
		unsigned long long jobs, commits;

		store_stats(srv.ca->store, &jobs, &commits);
		printf("cairn-sub: %llu issuance records in %llu commits "
		    "(group commit)\n", jobs, commits);
	}
	printf("cairn-sub: stopped\n");
out:
	http_stop(http);
	ocsp_close(ocsp);
	if (key_pem != NULL)
		cairn_free_secret(key_pem, 0);
	free(cert_pem);
	free(ca_pem);
	scep_close(srv.scep);
	X509_STORE_free(srv.trust);
	web_stop(&srv);
	ca_close(srv.ca);
	actor_clear(&me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}
