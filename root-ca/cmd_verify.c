/*
 * cmd_verify.c: cairn-root media verify DIR --root CERT and
 * cairn-root audit verify LOG --root CERT: what an auditor (or the
 * subordinate CA's operator) runs on any machine, without an HSM.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "lib/audit.h"
#include "lib/cli.h"
#include "lib/error.h"
#include "lib/media.h"
#include "lib/util.h"
#include "root-ca/root.h"

enum { OPT_ROOT = 1, OPT_STATE };

static int
parse(const struct cairn_cmd *cmd, int argc, char **argv, const char **root,
    const char **state)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "help", no_argument, NULL, CAIRN_OPT_HELP },
		{ NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_ROOT:
			*root = optarg;
			break;
		case OPT_STATE:
			if (state == NULL)
				return cairn_cli_bad_option(cmd, opt);
			*state = optarg;
			break;
		default:
			return cairn_cli_bad_option(cmd, opt);
		}
	}
	if (optind + 1 != argc)
		return cairn_cli_usage(cmd, "name one %s",
		    state != NULL ? "media directory" : "log file");
	if (*root == NULL)
		return cairn_cli_usage(cmd, "--root CERT is required: the "
		    "pinned root certificate to verify against");
	return -1;
}

int
cmd_media_verify(const struct cairn_cmd *cmd, int argc, char **argv)
{
	const char *rootp = NULL, *state = NULL;
	struct media *m = NULL;
	X509 *root = NULL;
	char fpr[CAIRN_FPR_STRLEN];
	size_t i;
	int r;

	if ((r = parse(cmd, argc, argv, &rootp, &state)) != -1)
		return r;
	if ((r = cairn_read_cert(rootp, &root)) != 0 ||
	    (r = media_verify(argv[optind], root, &m)) != 0 ||
	    (state != NULL &&
		(r = media_check_crls(m, argv[optind], root, state, 1)) != 0))
		goto out;
	if ((r = cairn_fingerprint_str(X509_get0_pubkey(root), fpr)) != 0)
		goto out;
	printf("%s: signed media, verified against the root key %s\n",
	    argv[optind], fpr);
	for (i = 0; i < m->n; i++)
		printf("  %-32s %10llu bytes\n", m->files[i].name,
		    (unsigned long long)m->files[i].size);
	if (state != NULL)
		printf("CRL numbers checked against %s and recorded.\n", state);
out:
	media_free(m);
	X509_free(root);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}

int
cmd_audit_verify(const struct cairn_cmd *cmd, int argc, char **argv)
{
	const char *rootp = NULL;
	struct audit_report rep;
	X509 *root = NULL;
	int r;

	if ((r = parse(cmd, argc, argv, &rootp, NULL)) != -1)
		return r;
	memset(&rep, 0, sizeof(rep));
	if ((r = cairn_read_cert(rootp, &root)) != 0 ||
	    (r = audit_verify_file(argv[optind], X509_get0_pubkey(root),
		&rep)) != 0)
		goto out;
	printf("%s: %llu lines, the hash chain is intact, %llu checkpoint%s "
	       "signed by the root key\n", argv[optind], rep.lines,
	    rep.checkpoints, rep.checkpoints == 1 ? "" : "s");
	printf("  last line: %llu, hash %s\n", rep.lines, rep.head);
	printf("Compare the last line and hash with the signed transcript of "
	       "the last ceremony:\na log cut right after a checkpoint looks "
	       "complete on its own.\n");
out:
	X509_free(root);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}
