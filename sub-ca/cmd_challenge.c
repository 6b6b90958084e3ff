/*
 * cmd_challenge.c: cairn-sub challenge new | list | revoke: the one-time
 * SCEP challenge passwords (NDES's mscep_admin page, on the command line).
 *
 * Like the other admin commands they run as the local operator
 * ("local:USER" in the audit log), who holds the store anyway; they need
 * no PIN, since a challenge is a row in the store, not a signature.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/util.h"
#include "sub-ca/ca.h"
#include "sub-ca/scep.h"
#include "sub-ca/sub.h"

enum { OPT_DATA = 1, OPT_HELP, OPT_TEMPLATE, OPT_SUBJECT, OPT_EXPIRES,
	OPT_ALL, OPT_COUNT };

/* Challenges one "challenge new --count" makes: a batch of devices. */
#define COUNT_MAX 1000

struct cargs {
	const char *data, *template_name, *subject, *expires, *count;
	int all;
	const char *pos;
};

static int
cparse(const struct cairn_cmd *cmd, int argc, char **argv, int npos,
    struct cargs *a)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "subject", required_argument, NULL, OPT_SUBJECT },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ NULL, 0, NULL, 0 } };
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return cairn_cli_help(cmd);
		case OPT_DATA: a->data = optarg; break;
		case OPT_TEMPLATE: a->template_name = optarg; break;
		case OPT_SUBJECT: a->subject = optarg; break;
		case OPT_EXPIRES: a->expires = optarg; break;
		case OPT_ALL: a->all = 1; break;
		case OPT_COUNT: a->count = optarg; break;
		default: return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind < argc && npos == 1)
		a->pos = argv[optind++];
	if (optind < argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if (npos == 1 && a->pos == NULL)
		return cairn_cli_usage(cmd, "missing argument");
	if ((a->data = sub_data_dir(a->data)) == NULL)
		return cairn_cli_usage(cmd, "name the data directory with "
		    "--data DIR (or CAIRN_DATA)");
	return -1;
}

int
cmd_challenge_new(const struct cairn_cmd *cmd, int argc, char **argv)
{
	struct cargs a;
	struct scep_challenge c = { 0 };
	struct ca *ca = NULL;
	struct actor me;
	long long ttl = 0, count = 1, i;
	char t[32], *end;
	int r;

	if ((r = cparse(cmd, argc, argv, 0, &a)) >= 0)
		return r;
	if (a.template_name == NULL)
		return cairn_cli_usage(cmd, "name the template with --template "
		    "NAME");
	if (a.count != NULL && ((count = strtoll(a.count, &end, 10)) < 1 ||
	    count > COUNT_MAX || *end != '\0'))
		return cairn_cli_usage(cmd, "--count: want 1 to %d, have "
		    "\"%s\"", COUNT_MAX, a.count);
	if (a.expires != NULL && scep_duration_parse(a.expires, &ttl) != 0)
		return cairn_cli_usage(cmd, "--expires: want a duration such "
		    "as 30m, 1h or 7d, have \"%s\"", a.expires);
	actor_local(&me);
	if ((r = ca_open(a.data, CA_CERT | CA_TEMPLATES, &ca)) != 0)
		goto out;
	for (i = 0; i < count; i++) {
		if ((r = scep_challenge_new(ca, &me, a.template_name,
		    a.subject, ttl, &c)) != 0)
			goto out;
		printf("%sid:        %lld\n"
		    "template:  %s\n"
		    "subject:   %s\n"
		    "expires:   %s\n"
		    "challenge: %s\n", i > 0 ? "\n" : "", c.id,
		    c.template_name, c.subject != NULL ? c.subject : "(any)",
		    cairn_utc_time(c.expires, t), c.secret);
		fflush(stdout);
		scep_challenge_clear(&c);
	}
	fprintf(stderr, "Give each challenge to one device (it goes into the "
	    "CSR's challengePassword).\nIt is shown only now, works for one "
	    "request, and only its SHA-256 is stored.\n");
out:
	scep_challenge_clear(&c);
	ca_close(ca);
	actor_clear(&me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

int
cmd_challenge_list(const struct cairn_cmd *cmd, int argc, char **argv)
{
	struct cargs a;
	struct scep_challenge *v = NULL;
	struct ca *ca = NULL;
	size_t n = 0, i;
	char t1[32], t2[32];
	int r;

	if ((r = cparse(cmd, argc, argv, 0, &a)) >= 0)
		return r;
	if ((r = ca_open(a.data, 0, &ca)) != 0 ||
	    (r = scep_challenge_list(ca, a.all, &v, &n)) != 0)
		goto out;
	printf("%-6s %-16s %-20s %-20s %-10s %s\n", "ID", "TEMPLATE",
	    "EXPIRES", "USED", "BY", "SUBJECT");
	for (i = 0; i < n; i++) {
		const char *state = v[i].revoked_at != 0 ? "revoked" :
		    v[i].used_at != 0 ? cairn_utc_time(v[i].used_at, t2) : "-";

		printf("%-6lld %-16s %-20s %-20s %-10s %s\n", v[i].id,
		    v[i].template_name, cairn_utc_time(v[i].expires, t1), state,
		    v[i].created_by, v[i].subject != NULL ? v[i].subject :
		    "(any)");
	}
out:
	scep_challenge_list_free(v, n);
	ca_close(ca);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

int
cmd_challenge_revoke(const struct cairn_cmd *cmd, int argc, char **argv)
{
	struct cargs a;
	struct ca *ca = NULL;
	struct actor me;
	char *end;
	long long id;
	int r;

	if ((r = cparse(cmd, argc, argv, 1, &a)) >= 0)
		return r;
	id = strtoll(a.pos, &end, 10);
	if (*end != '\0' || id <= 0)
		return cairn_cli_usage(cmd, "want a challenge id (as "
		    "\"cairn-sub challenge list\" shows), have \"%s\"", a.pos);
	actor_local(&me);
	if ((r = ca_open(a.data, 0, &ca)) == 0 &&
	    (r = scep_challenge_revoke(ca, &me, id)) == 0)
		printf("challenge %lld revoked\n", id);
	ca_close(ca);
	actor_clear(&me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}
