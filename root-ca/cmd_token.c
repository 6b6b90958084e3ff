/*
 * cmd_token.c: cairn-root token list | init.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "root-ca/root.h"

static void
print_flags(CK_FLAGS f)
{
	printf("  state:        %s%s%s%s%s\n",
	    f & CKF_TOKEN_INITIALIZED ? "initialized" : "NOT initialized",
	    f & CKF_USER_PIN_INITIALIZED ? ", user PIN set" : "",
	    f & CKF_LOGIN_REQUIRED ? ", login required" : "",
	    f & CKF_USER_PIN_LOCKED ? ", USER PIN LOCKED" :
	    f & CKF_USER_PIN_FINAL_TRY ? ", user PIN: final try" :
	    f & CKF_USER_PIN_COUNT_LOW ? ", user PIN: tries low" : "",
	    f & CKF_WRITE_PROTECTED ? ", write-protected" : "");
}

int
cmd_token_list(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11_slot_info *slots = NULL;
	struct cairn_p11 *p11 = NULL;
	size_t n = 0, i;
	char *uri;
	int r;

	if ((r = cairn_hsm_getopt(cmd, argc, argv, opts, &ho)) != -1)
		return r;
	if ((r = cairn_hsm_load(&ho, NULL, &p11)) != 0 ||
	    (r = cairn_p11_list_slots(p11, &slots, &n)) != 0) {
		cairn_p11_free(p11);
		return cairn_cli_fail(r);
	}
	printf("Module: %s\n", cairn_p11_module_path(p11));
	if (n == 0)
		printf("No slots.\n");
	for (i = 0; i < n; i++) {
		printf("\nSlot %lu: %s\n", (unsigned long)slots[i].slot_id,
		    slots[i].slot_description);
		if (!slots[i].token_present) {
			printf("  (no token)\n");
			continue;
		}
		if (!slots[i].token_initialized) {
			printf("  token:        (blank: cairn-root token init "
			       "--label LABEL)\n");
			continue;
		}
		printf("  token:        %s\n", slots[i].label);
		printf("  manufacturer: %s\n", slots[i].manufacturer);
		printf("  model:        %s\n", slots[i].model);
		printf("  serial:       %s\n", slots[i].serial);
		print_flags(slots[i].token_flags);
		if ((uri = cairn_p11_token_uri(&slots[i])) != NULL)
			printf("  uri:          %s\n", uri);
		free(uri);
	}
	free(slots);
	cairn_p11_free(p11);
	return CAIRN_EXIT_OK;
}

enum { OPT_LABEL = 1, OPT_SLOT, OPT_SO_PIN_FILE };

/* Read a PIN, asking twice on a terminal so a typo cannot lock a token. */
static int
new_pin(const char *file, const char *env, const char *what, char **pin)
{
	struct cairn_pin_opts po = { file, env, NULL };
	char prompt[64], *again = NULL;
	int r;

	snprintf(prompt, sizeof(prompt), "New %s: ", what);
	po.prompt = prompt;
	if ((r = cairn_pin_get(&po, NULL, pin)) != 0)
		return cairn_error_prefix(r, "%s: ", what);
	if (file != NULL || (env != NULL && getenv(env) != NULL &&
	    getenv(env)[0] != '\0'))
		return 0;
	snprintf(prompt, sizeof(prompt), "New %s again: ", what);
	po.prompt = prompt;
	if ((r = cairn_pin_get(&po, NULL, &again)) != 0 ||
	    strcmp(*pin, again) != 0) {
		cairn_free_secret(*pin, 0);
		cairn_free_secret(again, 0);
		*pin = NULL;
		return r != 0 ? r : cairn_error(CAIRN_E_INVAL,
		    "the two %ss differ; nothing was changed", what);
	}
	cairn_free_secret(again, 0);
	return 0;
}

int
cmd_token_init(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "so-pin-file", required_argument, NULL, OPT_SO_PIN_FILE },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11 *p11 = NULL;
	const char *label = NULL, *so_pin_file = NULL;
	char *so_pin = NULL, *user_pin = NULL, *end;
	struct cairn_p11_slot_info si;
	CK_SLOT_ID slot = 0;
	char *uri = NULL;
	int c, r, has_slot = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_LABEL:
			label = optarg;
			break;
		case OPT_SLOT:
			slot = strtoul(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0')
				return cairn_cli_usage(cmd,
				    "--slot wants a number, not \"%s\"", optarg);
			has_slot = 1;
			break;
		case OPT_SO_PIN_FILE:
			so_pin_file = optarg;
			break;
		default:
			if (!cairn_hsm_opt(&ho, c, optarg) ||
			    c == CAIRN_OPT_TOKEN)
				return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if (label == NULL)
		return cairn_cli_usage(cmd, "--label LABEL is required");
	if ((r = new_pin(so_pin_file, "CAIRN_SO_PIN", "SO PIN", &so_pin)) != 0 ||
	    (r = new_pin(ho.pin_file, "CAIRN_PIN", "user PIN", &user_pin)) != 0)
		goto out;
	if ((r = cairn_hsm_load(&ho, NULL, &p11)) != 0)
		goto out;
	printf("Initializing a token labelled \"%s\" in %s...\n", label,
	    cairn_p11_module_path(p11));
	fflush(stdout);
	if ((r = cairn_p11_token_init(p11, has_slot, slot, label, so_pin,
	    user_pin, &si)) != 0)
		goto out;
	printf("Token \"%s\" initialized; SO PIN and user PIN set.\n"
	       "  serial: %s\n", label, si.serial);
	if ((uri = cairn_p11_token_uri(&si)) != NULL)
		printf("  uri:    %s\n", uri);
out:
	free(uri);
	cairn_free_secret(so_pin, 0);
	cairn_free_secret(user_pin, 0);
	cairn_p11_free(p11);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}
