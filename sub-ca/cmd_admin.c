/*
 * cmd_admin.c: the admin commands on the store: request, list, approve,
 * deny, revoke, unhold, crl, audit verify, account add/role/cert.
 *
 * They run on the CA's machine as its operator ("local:USER" in the audit
 * log), who holds the store and the PIN file anyway; the network front
 * ends are where roles are enforced per account.  Commands that open the
 * CA key end with a signed audit checkpoint, so the log they leave is
 * covered by a signature.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "lib/audit.h"
#include "lib/cli.h"
#include "lib/csr.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/limits.h"
#include "lib/util.h"
#include "sub-ca/account.h"
#include "sub-ca/ca.h"
#include "sub-ca/sub.h"

enum { OPT_DATA = 1, OPT_HELP, OPT_TEMPLATE, OPT_CSR, OPT_OUT, OPT_REASON,
	OPT_STATUS, OPT_EMAIL, OPT_PWFILE, OPT_ROLE, OPT_REMOVE, OPT_GROUP,
	OPT_CERT };

#define COMMON { "data", required_argument, NULL, OPT_DATA }, \
	{ "help", no_argument, NULL, OPT_HELP }

struct args {
	const char *data, *template_name, *csr, *out, *reason, *status;
	const char *email, *pwfile, *role, *group, *cert;
	int remove;
	char *pos[2];
	int npos;
};

/* Parse; returns -1 to go on, else an exit status. */
static int
parse(const struct cairn_cmd *cmd, int argc, char **argv,
    const struct option *opts, struct args *a, int npos)
{
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return cairn_cli_help(cmd);
		case OPT_DATA: a->data = optarg; break;
		case OPT_TEMPLATE: a->template_name = optarg; break;
		case OPT_CSR: a->csr = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_REASON: a->reason = optarg; break;
		case OPT_STATUS: a->status = optarg; break;
		case OPT_EMAIL: a->email = optarg; break;
		case OPT_PWFILE: a->pwfile = optarg; break;
		case OPT_ROLE: a->role = optarg; break;
		case OPT_GROUP: a->group = optarg; break;
		case OPT_CERT: a->cert = optarg; break;
		case OPT_REMOVE: a->remove = 1; break;
		default: return cairn_cli_bad_option(cmd, c);
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos >= npos)
			return cairn_cli_usage(cmd, "unexpected argument "
			    "\"%s\"", argv[optind]);
		a->pos[a->npos++] = argv[optind];
	}
	if (a->npos < npos)
		return cairn_cli_usage(cmd, "missing argument");
	if ((a->data = sub_data_dir(a->data)) == NULL)
		return cairn_cli_usage(cmd, "name the data directory with "
		    "--data DIR (or CAIRN_DATA)");
	return -1;
}

/* Leave the log covered by a signature (see the top of this file). */
static int
checkpoint(struct ca *ca)
{
	return ca->signer != NULL ? ca_checkpoint(ca) : 0;
}

static int
finish(struct ca *ca, struct actor *me, int r)
{
	if (r == 0)
		r = checkpoint(ca);
	ca_close(ca);
	actor_clear(me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

static int
write_cert(const char *path, X509 *x)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wx");
	int r = 0;

	if (f == NULL)
		return cairn_error(CAIRN_E_IO, "%s: cannot create it (it may "
		    "exist already)", path);
	if (PEM_write_X509(f, x) != 1)
		r = cairn_error_crypto(CAIRN_E_IO, "writing %s", path);
	if (f != stdout && fclose(f) != 0 && r == 0)
		r = cairn_error(CAIRN_E_IO, "writing %s", path);
	return r;
}

int
cmd_request(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "csr", required_argument, NULL, OPT_CSR },
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	struct issue_req rq = { 0 };
	struct issue_result res = { 0 };
	char *buf = NULL;
	size_t len, i;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 0)) >= 0)
		return r;
	if (a.template_name == NULL || a.csr == NULL)
		return cairn_cli_usage(cmd, "give --template NAME and --csr "
		    "FILE");
	actor_local(&me);
	if ((r = cairn_read_file(a.csr, CAIRN_CSR_MAX, &buf, &len)) != 0 ||
	    (r = csr_parse(buf, len, &rq.csr)) != 0 ||
	    (r = ca_open(a.data, CA_KEY | CA_CERT | CA_TEMPLATES, &ca)) != 0)
		goto out;
	rq.template_name = a.template_name;
	rq.who = &me;
	rq.via = "cli";
	if ((r = issue_submit(ca, &rq, &res)) != 0)
		goto out;
	for (i = 0; res.notes != NULL && res.notes[i] != NULL; i++)
		fprintf(stderr, "note: %s\n", res.notes[i]);
	if (res.status == ISSUE_PENDING) {
		printf("request %lld is pending: a certificate manager must "
		    "approve it (cairn-sub approve %lld)\n", res.request_id,
		    res.request_id);
	} else {
		fprintf(stderr, "request %lld: issued, serial %s\n",
		    res.request_id, res.serial);
		r = write_cert(a.out != NULL ? a.out : "-", res.cert);
	}
out:
	issue_result_clear(&res);
	X509_REQ_free(rq.csr);
	free(buf);
	return finish(ca, &me, r);
}

int
cmd_list(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "status", required_argument, NULL, OPT_STATUS },
		{ NULL, 0, NULL, 0 } };
	static const char *const which[] = { "pending", "issued", "revoked",
		"requests", "intended", NULL };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	sqlite3_stmt *st = NULL;
	const char *sql;
	char t1[32], t2[32];
	int r, w = 1, i;

	if ((r = parse(cmd, argc, argv, opts, &a, 0)) >= 0)
		return r;
	if (a.status != NULL) {
		for (i = 0; which[i] != NULL; i++)
			if (strcmp(a.status, which[i]) == 0)
				w = i;
		if (strcmp(a.status, which[w]) != 0)
			return cairn_cli_usage(cmd, "--status: want pending, "
			    "issued, revoked, intended or requests");
	}
	actor_local(&me);
	if ((r = ca_open(a.data, 0, &ca)) != 0)
		return finish(ca, &me, r);
	if (w == 0 || w == 3)
		sql = w == 0 ? "SELECT id, created, template, requester, status, "
		    "coalesce(serial, '') FROM requests WHERE status = 'pending' "
		    "ORDER BY id" : "SELECT id, created, template, requester, "
		    "status, coalesce(serial, '') FROM requests ORDER BY id";
	else
		sql = w == 1 ? "SELECT serial, not_after, template, requester, "
		    "subject, coalesce(reason, -1) FROM certs WHERE status = "
		    "'issued' AND revoked_at IS NULL ORDER BY created" :
		    w == 2 ? "SELECT serial, revoked_at, template, requester, "
		    "subject, reason FROM certs WHERE revoked_at IS NOT NULL "
		    "ORDER BY revoked_at" : "SELECT serial, created, template, "
		    "requester, subject, -1 FROM certs WHERE status = "
		    "'intended' ORDER BY created";
	store_lock(ca->store);
	if (sqlite3_prepare_v2(store_db(ca->store), sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		r = store_err(ca->store, "listing");
		store_unlock(ca->store);
		return finish(ca, &me, r);
	}
	if (w == 0 || w == 3)
		printf("%-6s %-20s %-14s %-20s %-8s %s\n", "ID", "CREATED",
		    "TEMPLATE", "REQUESTER", "STATUS", "SERIAL");
	else
		printf("%-32s %-20s %-14s %-16s %s\n", "SERIAL", w == 1 ?
		    "NOT AFTER" : w == 2 ? "REVOKED" : "INTENDED", "TEMPLATE",
		    "REQUESTER", w == 2 ? "SUBJECT / REASON" : "SUBJECT");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (w == 0 || w == 3)
			printf("%-6lld %-20s %-14s %-20s %-8s %s\n",
			    (long long)sqlite3_column_int64(st, 0),
			    cairn_utc_time(sqlite3_column_int64(st, 1), t1),
			    sqlite3_column_text(st, 2),
			    sqlite3_column_text(st, 3),
			    sqlite3_column_text(st, 4),
			    sqlite3_column_text(st, 5));
		else
			printf("%-32s %-20s %-14s %-16s %s%s%s\n",
			    sqlite3_column_text(st, 0),
			    cairn_utc_time(sqlite3_column_int64(st, 1), t2),
			    sqlite3_column_text(st, 2),
			    sqlite3_column_text(st, 3),
			    sqlite3_column_text(st, 4), w == 2 ? " / " : "",
			    w == 2 ? ca_reason_name(sqlite3_column_int(st, 5)) :
			    "");
	}
	sqlite3_finalize(st);
	store_unlock(ca->store);
	return finish(ca, &me, 0);
}

static int
parse_id(const char *s, long long *id)
{
	char *end;

	*id = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *id <= 0)
		return cairn_error(CAIRN_E_USAGE, "request id \"%s\": want a "
		    "number as \"cairn-sub list\" prints it", s);
	return 0;
}

int
cmd_approve(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	struct issue_result res = { 0 };
	long long id;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	actor_local(&me);
	if ((r = parse_id(a.pos[0], &id)) != 0 ||
	    (r = ca_open(a.data, CA_KEY | CA_CERT | CA_TEMPLATES, &ca)) != 0 ||
	    (r = issue_approve(ca, id, &me, &res)) != 0)
		goto out;
	fprintf(stderr, "request %lld: approved and issued, serial %s\n", id,
	    res.serial);
	if (a.out != NULL)
		r = write_cert(a.out, res.cert);
out:
	issue_result_clear(&res);
	return finish(ca, &me, r);
}

int
cmd_deny(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	long long id;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	actor_local(&me);
	if ((r = parse_id(a.pos[0], &id)) == 0 &&
	    (r = ca_open(a.data, 0, &ca)) == 0 &&
	    (r = issue_deny(ca, id, &me, a.reason)) == 0)
		printf("request %lld: denied\n", id);
	return finish(ca, &me, r);
}

int
cmd_revoke(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	int r, reason = 0;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	actor_local(&me);
	if ((a.reason == NULL || (r = ca_reason_parse(a.reason,
	    &reason)) == 0) &&
	    (r = ca_open(a.data, CA_KEY | CA_CERT, &ca)) == 0 &&
	    (r = ca_revoke(ca, a.pos[0], reason, &me)) == 0)
		printf("revoked %s (%s); a new CRL is published\n", a.pos[0],
		    ca_reason_name(reason));
	return finish(ca, &me, r);
}

int
cmd_unhold(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON, { NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	actor_local(&me);
	if ((r = ca_open(a.data, CA_KEY | CA_CERT, &ca)) == 0 &&
	    (r = ca_unhold(ca, a.pos[0], &me)) == 0)
		printf("%s is off hold; a new CRL is published\n", a.pos[0]);
	return finish(ca, &me, r);
}

int
cmd_crl(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON, { NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	unsigned long long n = 0;
	char path[PATH_MAX];
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 0)) >= 0)
		return r;
	actor_local(&me);
	if ((r = ca_open(a.data, CA_KEY | CA_CERT, &ca)) == 0 &&
	    (r = ca_crl_issue(ca, &me, &n)) == 0)
		printf("CRL number %llu: %s\n", n,
		    ca_path(ca, path, "publish/ca.crl"));
	return finish(ca, &me, r);
}

/*
 * Verify the store's audit chain: everything up to the last checkpoint
 * with its signatures (lib/audit.c, as for a ceremony log), and the lines
 * after it for their chain alone, reported as not yet signed.
 */
int
cmd_audit_verify(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "out", required_argument, NULL, OPT_OUT },
		{ NULL, 0, NULL, 0 } };
	static const char mark[] = "\"type\":\"checkpoint\"";
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	struct audit_report rep = { 0 };
	struct audit_head h;
	char *buf = NULL, *p, *nl, *cut = NULL;
	size_t len, tail = 0;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 0)) >= 0)
		return r;
	actor_local(&me);
	if ((r = ca_open(a.data, 0, &ca)) != 0 ||
	    (r = store_audit_export(ca->store, &buf, &len)) != 0)
		goto out;
	if (a.out != NULL && (r = fileio_write_atomic(a.out, buf, len, 0600,
	    0)) != 0)
		goto out;
	if (ca->pub == NULL) {
		r = cairn_error(CAIRN_E_STATE, "the CA's public key is unknown "
		    "before import: nothing can check the signatures");
		goto out;
	}
	/* The end of the last checkpoint line.  A record cannot contain the
	 * mark: "type" is reserved, and inside strings quotes are escaped. */
	for (p = buf; p < buf + len && (nl = memchr(p, '\n',
	    (size_t)(buf + len - p))) != NULL; p = nl + 1)
		if (memmem(p, (size_t)(nl - p), mark, sizeof(mark) - 1) !=
		    NULL)
			cut = nl + 1;
	if (cut == NULL) {
		r = cairn_error(CAIRN_E_AUDIT, "the audit log has no signed "
		    "checkpoint yet (any command that opens the CA key, or the "
		    "daemon, makes one)");
		goto out;
	}
	if ((r = audit_verify_mem(buf, (size_t)(cut - buf), ca->pub,
	    &rep)) != 0)
		goto out;
	h.seq = rep.lines;
	memcpy(h.hash, rep.head, sizeof(h.hash));
	for (p = cut; p < buf + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL) {
			r = cairn_error(CAIRN_E_AUDIT, "line %llu is cut",
			    h.seq + 1);
			goto out;
		}
		if ((r = audit_advance(&h, p, (size_t)(nl - p), NULL)) != 0)
			goto out;
		tail++;
	}
	printf("audit log: %llu lines, chain intact\n", h.seq);
	printf("  lines 1-%llu covered by %llu signed checkpoints (key of "
	    "%s/ca.pem)\n", rep.lines, rep.checkpoints, a.data);
	if (tail > 0)
		printf("  lines %llu-%llu chained, after the last checkpoint "
		    "(not yet signed)\n", rep.lines + 1, h.seq);
	printf("  head: seq %llu, sha256 %s\n", h.seq, h.hash);
out:
	free(buf);
	ca_close(ca);
	actor_clear(&me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

static int
read_password(const char *path, char **pw)
{
	size_t len;
	int r;

	if ((r = cairn_read_file(path, 1024, pw, &len)) != 0)
		return r;
	if (len > 0 && (*pw)[len - 1] == '\n')
		(*pw)[len - 1] = '\0';
	return 0;
}

int
cmd_account_add(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "email", required_argument, NULL, OPT_EMAIL },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	enum ca_role role = ROLE_ENROLLEE;
	char *pw = NULL;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	actor_local(&me);
	if ((a.role == NULL || (r = ca_role_parse(a.role, &role)) == 0) &&
	    (a.pwfile == NULL || (r = read_password(a.pwfile, &pw)) == 0) &&
	    (r = ca_open(a.data, 0, &ca)) == 0 &&
	    (r = account_add(ca, a.pos[0], a.email, pw, &me)) == 0 &&
	    (a.role == NULL || (r = account_role(ca, a.pos[0], role, 1,
		&me)) == 0) &&
	    (a.group == NULL || (r = account_group(ca, a.pos[0], a.group,
		&me)) == 0))
		printf("account %s added%s%s\n", a.pos[0], a.role ? " as " :
		    "", a.role ? a.role : "");
	cairn_free_secret(pw, 0);
	return finish(ca, &me, r);
}

int
cmd_account_role(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "remove", no_argument, NULL, OPT_REMOVE },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	enum ca_role role;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	if (a.role == NULL)
		return cairn_cli_usage(cmd, "give --role ROLE");
	actor_local(&me);
	if ((r = ca_role_parse(a.role, &role)) == 0 &&
	    (r = ca_open(a.data, 0, &ca)) == 0 &&
	    (r = account_role(ca, a.pos[0], role, !a.remove, &me)) == 0)
		printf("account %s: role %s %s\n", a.pos[0], a.role,
		    a.remove ? "removed" : "granted");
	return finish(ca, &me, r);
}

int
cmd_account_cert(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { COMMON,
		{ "cert", required_argument, NULL, OPT_CERT },
		{ NULL, 0, NULL, 0 } };
	struct args a;
	struct ca *ca = NULL;
	struct actor me;
	X509 *x = NULL;
	int r;

	if ((r = parse(cmd, argc, argv, opts, &a, 1)) >= 0)
		return r;
	if (a.cert == NULL)
		return cairn_cli_usage(cmd, "give --cert FILE");
	actor_local(&me);
	if ((r = cairn_read_cert(a.cert, &x)) == 0 &&
	    (r = ca_open(a.data, 0, &ca)) == 0 &&
	    (r = account_bind_cert(ca, a.pos[0], x, &me)) == 0)
		printf("account %s: certificate %s bound\n", a.pos[0], a.cert);
	X509_free(x);
	return finish(ca, &me, r);
}
