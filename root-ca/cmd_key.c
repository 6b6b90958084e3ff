/*
 * cmd_key.c: cairn-root key generate | list | show.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "root-ca/root.h"

static const char *
tri(int v)
{
	return v == 1 ? "true" : v == 0 ? "false" : "unknown";
}

static void
print_attrs(const char *indent, const struct cairn_p11_key_attrs *a)
{
	printf("%sCKA_SENSITIVE=%s CKA_EXTRACTABLE=%s CKA_ALWAYS_SENSITIVE=%s\n"
	       "%*sCKA_NEVER_EXTRACTABLE=%s CKA_LOCAL=%s\n", indent,
	    tri(a->sensitive), tri(a->extractable), tri(a->always_sensitive),
	    (int)strlen(indent), "", tri(a->never_extractable), tri(a->local));
}

enum { OPT_TYPE = 1, OPT_LABEL, OPT_DECRYPT };

int
cmd_key_generate(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "decrypt", no_argument, NULL, OPT_DECRYPT },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11_keygen kg = { 0 };
	struct cairn_p11_token *tok = NULL;
	struct cairn_p11_key *key = NULL;
	struct cairn_p11_key_attrs at;
	char fpr[CAIRN_FPR_STRLEN], *uri = NULL;
	const char *type = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_TYPE:
			type = optarg;
			break;
		case OPT_LABEL:
			kg.label = optarg;
			break;
		case OPT_DECRYPT:
			kg.allow_decrypt = 1;
			break;
		default:
			if (!cairn_hsm_opt(&ho, c, optarg))
				return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if (ho.token == NULL)
		return cairn_cli_usage(cmd, "--token TOKEN is required");
	if (type == NULL || kg.label == NULL)
		return cairn_cli_usage(cmd,
		    "--type TYPE and --label NAME are required");
	if ((r = cairn_key_type_parse(type, &kg.type)) != 0)
		return cairn_cli_usage(cmd, "%s", cairn_errmsg(r));
	if ((r = cairn_hsm_open_token(&ho, 1, &tok)) != 0)
		goto out;
	printf("Generating an %s key pair labelled \"%s\" inside token "
	       "\"%s\"%s...\n", cairn_key_type_desc(kg.type), kg.label,
	    cairn_p11_token_label(tok),
	    kg.type == CAIRN_KEY_RSA_4096 ? " (RSA-4096 can take a minute)" :
					    "");
	fflush(stdout);
	if ((r = cairn_p11_key_generate(tok, &kg, &key)) != 0 ||
	    (r = cairn_p11_key_get_attrs(key, &at)) != 0 ||
	    (r = cairn_fingerprint_str(cairn_p11_key_get0_public(key), fpr)) !=
		0)
		goto out;
	if ((uri = cairn_p11_key_uri(key)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	printf("Key generated inside the token; the token reports:\n");
	print_attrs("  ", &at);
	printf("\nURI:                %s\n", uri);
	printf("Public key SHA-256: %s\n", fpr);
	printf("\nWitnesses: read the public key fingerprint aloud and record "
	       "it.\n");
out:
	free(uri);
	cairn_p11_key_free(key);
	cairn_p11_token_free(tok);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}

int
cmd_key_list(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11_token *tok = NULL;
	struct cairn_p11_key_info *keys = NULL;
	char hex[2 * 64 + 1];
	size_t n = 0, i;
	int r;

	if ((r = cairn_hsm_getopt(cmd, argc, argv, opts, &ho)) != -1)
		return r;
	if ((r = cairn_hsm_open_token(&ho, 1, &tok)) != 0 ||
	    (r = cairn_p11_key_list(tok, &keys, &n)) != 0)
		goto out;
	printf("Token \"%s\": %zu private key%s\n", cairn_p11_token_label(tok),
	    n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		printf("\n%s\n", keys[i].label);
		printf("  type:    %s", keys[i].type ?
			cairn_key_type_name(keys[i].type) :
			keys[i].ck_type == CKK_RSA ? "rsa" :
			keys[i].ck_type == CKK_EC  ? "ec" : "other");
		if (keys[i].type == 0 && keys[i].bits > 0)
			printf(" (%d bits)", keys[i].bits);
		printf("\n  id:      %s\n",
		    cairn_hex(hex, keys[i].id, keys[i].id_len, 0));
		print_attrs("  attrs:   ", &keys[i].attrs);
		printf("  SHA-256: %s\n", keys[i].fingerprint[0] ?
			keys[i].fingerprint : "(public key not readable)");
		printf("  uri:     %s\n", keys[i].uri ? keys[i].uri : "");
	}
out:
	cairn_p11_key_info_free(keys, n);
	cairn_p11_token_free(tok);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}

int
cmd_key_show(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "key", required_argument, NULL, CAIRN_OPT_KEY },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11_key *key = NULL;
	struct cairn_p11_key_attrs at;
	char fpr[CAIRN_FPR_STRLEN], *uri = NULL;
	int r;

	if ((r = cairn_hsm_getopt(cmd, argc, argv, opts, &ho)) != -1)
		return r;
	if (ho.key == NULL)
		return cairn_cli_usage(cmd, "--key URI is required");
	if ((r = cairn_hsm_open_key(&ho, &key)) != 0 ||
	    (r = cairn_p11_key_get_attrs(key, &at)) != 0 ||
	    (r = cairn_fingerprint_str(cairn_p11_key_get0_public(key), fpr)) !=
		0)
		goto out;
	if ((uri = cairn_p11_key_uri(key)) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	printf("Key:                %s\n", cairn_p11_key_label(key));
	printf("Type:               %s\n",
	    cairn_key_type_name(cairn_p11_key_type(key)));
	printf("URI:                %s\n", uri);
	print_attrs("Attributes:         ", &at);
	printf("Public key SHA-256: %s\n\n", fpr);
	if (PEM_write_PUBKEY(stdout, cairn_p11_key_get0_public(key)) != 1)
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot print the public key");
out:
	free(uri);
	cairn_p11_key_free(key);
	return r != 0 ? cairn_cli_fail(r) : CAIRN_EXIT_OK;
}
