/*
 * cli.h: what every Cairn command line shares: a table of subcommands,
 * their help, the HSM options, and how failures are printed.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <getopt.h>

/* Exit statuses of every Cairn program. */
#define CAIRN_EXIT_OK 0
#define CAIRN_EXIT_FAIL 1     /* the operation failed; the message says why */
#define CAIRN_EXIT_USAGE 2    /* the command line was wrong */

struct cairn_cmd {
	const char *group;    /* "token" */
	const char *name;     /* "list"; NULL for a one-word command ("run") */
	const char *summary;  /* one line for the overview */
	const char *help;     /* full --help text: usage, options, examples */
	int (*run)(const struct cairn_cmd *cmd, int argc, char **argv);
};

/*
 * cairn_cli_main: dispatch "PROG GROUP NAME [options]" to the table entry,
 * answering --help and --version at every level.  `intro` is printed at
 * the top of "PROG --help".  Returns the exit status.
 */
int cairn_cli_main(const char *prog, const char *intro,
    const struct cairn_cmd *cmds, int argc, char **argv);

/* cairn_cli_fail: print "PROG: message" for error `r` to stderr and
 * return CAIRN_EXIT_FAIL (or CAIRN_EXIT_USAGE for CAIRN_E_USAGE). */
int cairn_cli_fail(int r);

/* cairn_cli_usage: print "PROG GROUP NAME: message; try --help" and
 * return CAIRN_EXIT_USAGE. */
int cairn_cli_usage(const struct cairn_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * cairn_cli_bad_option: the usage error for getopt_long result `opt`: the
 * reason for refused options (--pin), else "unknown option".  Returns
 * CAIRN_EXIT_USAGE.
 */
int cairn_cli_bad_option(const struct cairn_cmd *cmd, int opt);

/* cairn_cli_help: print the command's help to stdout, return 0. */
int cairn_cli_help(const struct cairn_cmd *cmd);

/* The program name for messages ("cairn-root"). */
const char *cairn_cli_prog(void);

/*
 * The HSM options every key-touching command accepts, as getopt_long
 * entries with values >= CAIRN_OPT_HSM_BASE, and their help text.
 */
enum {
	CAIRN_OPT_HSM_BASE = 1000,
	CAIRN_OPT_MODULE = CAIRN_OPT_HSM_BASE,
	CAIRN_OPT_DATA,
	CAIRN_OPT_PIN_FILE,
	CAIRN_OPT_TOKEN,
	CAIRN_OPT_KEY,
	CAIRN_OPT_HELP,
	CAIRN_OPT_PIN_REFUSED,
	CAIRN_OPT_HSM_END
};
#define CAIRN_HSM_LONGOPTS                                                 \
	{ "module", required_argument, NULL, CAIRN_OPT_MODULE },           \
	{ "data", required_argument, NULL, CAIRN_OPT_DATA },               \
	{ "pin-file", required_argument, NULL, CAIRN_OPT_PIN_FILE },       \
	{ "token", required_argument, NULL, CAIRN_OPT_TOKEN },             \
	{ "help", no_argument, NULL, CAIRN_OPT_HELP },                     \
	{ "pin", required_argument, NULL, CAIRN_OPT_PIN_REFUSED },         \
	{ "so-pin", required_argument, NULL, CAIRN_OPT_PIN_REFUSED }
/* --pin and --so-pin exist only to be refused with the reason: without
 * them getopt_long would take "--pin 1234" as an abbreviation of
 * --pin-file. */
#define CAIRN_HSM_HELP                                                     \
	"HSM options:\n"                                                   \
	"  --module PATH     PKCS#11 module (default: $CAIRN_PKCS11_MODULE,\n" \
	"                    else the SoftHSM2 module)\n"                  \
	"  --data DIR        keep SoftHSM2 tokens in DIR (default: $CAIRN_DATA;\n" \
	"                    without either, SOFTHSM2_CONF is honoured)\n" \
	"  --token TOKEN     token label, or a pkcs11: URI naming the token\n" \
	"  --pin-file FILE   user PIN from FILE (mode 600); else $CAIRN_PIN,\n" \
	"                    else a prompt. A PIN is never read from argv.\n"

#endif /* CAIRN_CLI_H */
