/*
 * open.c: from the names an operator types (--module, --data, --token,
 * --key, --pin-file) to an open, logged-in token or key.  Every command of
 * cairn-root and cairn-sub that touches a key goes through here, so they
 * all resolve names the same way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11.h"

int
cairn_hsm_opt(struct cairn_hsm_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case CAIRN_OPT_MODULE:
		o->module = arg;
		return 1;
	case CAIRN_OPT_DATA:
		o->data_dir = arg;
		return 1;
	case CAIRN_OPT_PIN_FILE:
		o->pin_file = arg;
		return 1;
	case CAIRN_OPT_TOKEN:
		o->token = arg;
		return 1;
	case CAIRN_OPT_KEY:
		o->key = arg;
		return 1;
	}
	return 0;
}

int
cairn_hsm_getopt(const struct cairn_cmd *cmd, int argc, char **argv,
    const struct option *opts, struct cairn_hsm_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == CAIRN_OPT_HELP)
			return cairn_cli_help(cmd);
		if (!cairn_hsm_opt(o, c, optarg))
			return cairn_cli_bad_option(cmd, c);
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	return -1;
}

int
cairn_hsm_load(const struct cairn_hsm_opts *o, const struct cairn_p11_uri *uri,
    struct cairn_p11 **out)
{
	const char *module = o->module, *data = o->data_dir;
	int r;

	if (module == NULL && uri != NULL && uri->module_path != NULL)
		module = uri->module_path;
	if (module == NULL)
		module = cairn_p11_default_module();
	if (data == NULL && (data = getenv("CAIRN_DATA")) != NULL &&
	    data[0] == '\0')
		data = NULL;
	if (data != NULL && strstr(module, "softhsm") != NULL &&
	    (r = cairn_softhsm_use_dir(data)) != 0)
		return cairn_error_prefix(r, "data directory %s: ", data);
	return cairn_p11_load(module, out);
}

/* Parse a --token or --key value: a pkcs11: URI, or for --token a label. */
static int
parse_name(const char *what, const char *s, int label_ok,
    struct cairn_p11_uri **out)
{
	struct cairn_p11_uri *u;
	int r;

	*out = NULL;
	if (cairn_p11_is_uri(s)) {
		if ((r = cairn_p11_uri_parse(s, strlen(s), out)) != 0)
			return cairn_error_prefix(r, "%s: ", what);
		return 0;
	}
	if (!label_ok)
		return cairn_error(CAIRN_E_USAGE,
		    "%s wants a pkcs11: URI (\"cairn-root key list\" prints "
		    "each key's URI), not \"%s\"", what, s);
	if ((u = cairn_p11_uri_new()) == NULL || (u->token = strdup(s)) == NULL) {
		cairn_p11_uri_free(u);
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	}
	*out = u;
	return 0;
}

static int
open_token(const struct cairn_hsm_opts *o, const struct cairn_p11_uri *keyuri,
    int login, struct cairn_p11_token **out)
{
	struct cairn_p11_uri *tokuri = NULL, *empty = NULL;
	const struct cairn_p11_uri *sel;
	struct cairn_pin_opts po = { o->pin_file, "CAIRN_PIN", NULL };
	struct cairn_p11 *p11 = NULL;
	struct cairn_p11_token *tok = NULL;
	char *pin = NULL, prompt[96];
	int r;

	*out = NULL;
	if (o->token != NULL &&
	    (r = parse_name("--token", o->token, 1, &tokuri)) != 0)
		return r;
	if (tokuri == NULL && keyuri == NULL &&
	    (empty = cairn_p11_uri_new()) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	sel = tokuri ? tokuri : keyuri ? keyuri : empty;
	if ((r = cairn_hsm_load(o, sel, &p11)) != 0)
		goto out;
	if ((r = cairn_p11_token_open(p11, sel, &tok)) != 0)
		goto out;
	if (login && cairn_p11_token_needs_login(tok)) {
		snprintf(prompt, sizeof(prompt), "User PIN for token \"%s\": ",
		    cairn_p11_token_label(tok));
		po.prompt = prompt;
		if ((r = cairn_pin_get(&po, sel->pin_source, &pin)) != 0 ||
		    (r = cairn_p11_token_login(tok, pin)) != 0)
			goto out;
	}
	*out = tok; /* transferred */
	tok = NULL;
out:
	cairn_free_secret(pin, 0);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	cairn_p11_uri_free(tokuri);
	cairn_p11_uri_free(empty);
	return r;
}

int
cairn_hsm_open_token(const struct cairn_hsm_opts *o, int login,
    struct cairn_p11_token **out)
{
	struct cairn_p11_uri *keyuri = NULL;
	int r;

	if (o->key != NULL &&
	    (r = parse_name("--key", o->key, 0, &keyuri)) != 0)
		return r;
	r = open_token(o, keyuri, login, out);
	cairn_p11_uri_free(keyuri);
	return r;
}

int
cairn_hsm_open_key(const struct cairn_hsm_opts *o, struct cairn_p11_key **out)
{
	struct cairn_p11_uri *keyuri = NULL;
	struct cairn_p11_token *tok = NULL;
	int r;

	*out = NULL;
	if (o->key == NULL)
		return cairn_error(CAIRN_E_USAGE,
		    "name the key with --key pkcs11:... (\"cairn-root key "
		    "list\" prints each key's URI)");
	if ((r = parse_name("--key", o->key, 0, &keyuri)) != 0)
		return r;
	if ((r = open_token(o, keyuri, 1, &tok)) == 0)
		r = cairn_p11_key_find(tok, keyuri, out);
	cairn_p11_token_free(tok);
	cairn_p11_uri_free(keyuri);
	return r;
}
