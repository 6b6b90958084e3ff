/*
 * cli.c: subcommand dispatch, help and error printing for Cairn programs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/cli.h"
#include "lib/error.h"

static const char *prog_name = "cairn";

const char *
cairn_cli_prog(void)
{
	return prog_name;
}

int
cairn_cli_fail(int r)
{
	fprintf(stderr, "%s: %s\n", prog_name, cairn_errmsg(r));
	return r == CAIRN_E_USAGE ? CAIRN_EXIT_USAGE : CAIRN_EXIT_FAIL;
}

int
cairn_cli_usage(const struct cairn_cmd *cmd, const char *fmt, ...)
{
	const char *sp = cmd->name != NULL ? " " : "";
	const char *name = cmd->name != NULL ? cmd->name : "";
	va_list ap;

	fprintf(stderr, "%s %s%s%s: ", prog_name, cmd->group, sp, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s%s%s --help'.\n", prog_name, cmd->group,
	    sp, name);
	return CAIRN_EXIT_USAGE;
}

int
cairn_cli_bad_option(const struct cairn_cmd *cmd, int opt)
{
	if (opt == CAIRN_OPT_PIN_REFUSED)
		return cairn_cli_usage(cmd, "a PIN is never read from the "
		    "command line, where every user of this machine can see "
		    "it (ps, /proc): use --pin-file FILE (mode 600) or the "
		    "CAIRN_PIN environment variable");
	return cairn_cli_usage(cmd, "unknown option");
}

int
cairn_cli_help(const struct cairn_cmd *cmd)
{
	fputs(cmd->help, stdout);
	return CAIRN_EXIT_OK;
}

static void
overview(const char *intro, const struct cairn_cmd *cmds, const char *group,
    FILE *out)
{
	const struct cairn_cmd *c;
	char name[64];

	if (group == NULL)
		fputs(intro, out);
	fprintf(out, "\nCommands:\n");

	for (c = cmds; c->group != NULL; c++)
		if (group == NULL || strcmp(group, c->group) == 0) {
			snprintf(name, sizeof(name), "%s%s%s", c->group,
			    c->name != NULL ? " " : "",
			    c->name != NULL ? c->name : "");
			fprintf(out, "  %-16s %s\n", name, c->summary);
		}
	fprintf(out, "\nRun '%s GROUP COMMAND --help' for the options of a "
		     "command.\n", prog_name);
}

static int
is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	    strcmp(s, "help") == 0;
}

int
cairn_cli_main(const char *prog, const char *intro,
    const struct cairn_cmd *cmds, int argc, char **argv)
{
	const struct cairn_cmd *c;
	int group_known = 0;

	prog_name = prog;
	if (argc < 2) {
		overview(intro, cmds, NULL, stderr);
		return CAIRN_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		overview(intro, cmds, NULL, stdout);
		return CAIRN_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s (Cairn) %s\n", prog, PACKAGE_VERSION);
		return CAIRN_EXIT_OK;
	}
	for (c = cmds; c->group != NULL; c++)
		if (strcmp(c->group, argv[1]) == 0)
			group_known = 1;
	if (!group_known) {
		fprintf(stderr, "%s: unknown command \"%s\".\n", prog, argv[1]);
		overview(intro, cmds, NULL, stderr);
		return CAIRN_EXIT_USAGE;
	}
	/* A one-word command ("run"): its options start at argv[2]. */
	for (c = cmds; c->group != NULL; c++)
		if (c->name == NULL && strcmp(c->group, argv[1]) == 0) {
			optind = 1;
			return c->run(c, argc - 1, argv + 1);
		}
	if (argc < 3 || is_help(argv[2])) {
		overview(intro, cmds, argv[1], argc < 3 ? stderr : stdout);
		return argc < 3 ? CAIRN_EXIT_USAGE : CAIRN_EXIT_OK;
	}
	for (c = cmds; c->group != NULL; c++)
		if (strcmp(c->group, argv[1]) == 0 &&
		    strcmp(c->name, argv[2]) == 0) {
			/* getopt_long sees "GROUP NAME" as argv[0]. */
			optind = 1;
			return c->run(c, argc - 2, argv + 2);
		}
	fprintf(stderr, "%s: unknown command \"%s %s\".\n", prog, argv[1],
	    argv[2]);
	overview(intro, cmds, argv[1], stderr);
	return CAIRN_EXIT_USAGE;
}
