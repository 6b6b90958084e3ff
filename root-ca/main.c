/*
 * main.c: cairn-root, the offline root-CA ceremony tool.
 *
 * This file is only the table of commands and their help; each command
 * lives in root-ca/cmd_*.c.
 */
#include "config.h"

#include <openssl/crypto.h>

#include "lib/cli.h"
#include "root-ca/root.h"

static const char intro[] =
    "cairn-root: the offline root CA of a Cairn PKI.\n"
    "\n"
    "Runs on an air-gapped machine during a witnessed key ceremony. The root\n"
    "key is made inside an HSM (any PKCS#11 token; SoftHSM2 by default) and\n"
    "never leaves it.\n"
    "\n"
    "Usage: cairn-root GROUP COMMAND [options]\n"
    "       cairn-root --help | --version\n";

static const struct cairn_cmd commands[] = {
	{ "token", "list", "list the slots and tokens of the PKCS#11 module",
	    "Usage: cairn-root token list [--module PATH] [--data DIR]\n"
	    "\n"
	    "List every slot of the PKCS#11 module and the token in it: label,\n"
	    "manufacturer, model, serial, state and the token's pkcs11: URI.\n"
	    "Needs no PIN.\n"
	    "\n" CAIRN_HSM_HELP
	    "\n"
	    "Example:\n"
	    "  cairn-root token list --data /media/ceremony/hsm\n",
	    cmd_token_list },
	{ "token", "init", "initialize a blank token with a label and PINs",
	    "Usage: cairn-root token init --label LABEL [--slot N]\n"
	    "         [--so-pin-file FILE] [--pin-file FILE]\n"
	    "         [--module PATH] [--data DIR]\n"
	    "\n"
	    "Initialize the first blank token (or the one in slot N): set its\n"
	    "label, its security-officer (SO) PIN and its user PIN. A token that\n"
	    "is initialized already is never erased.\n"
	    "\n"
	    "  --label LABEL       token label, 1 to 32 bytes, unique\n"
	    "  --slot N            the slot of the blank token\n"
	    "  --so-pin-file FILE  SO PIN (else $CAIRN_SO_PIN, else a prompt)\n"
	    "  --pin-file FILE     user PIN (else $CAIRN_PIN, else a prompt)\n"
	    "\n" CAIRN_HSM_HELP
	    "\n"
	    "Example:\n"
	    "  cairn-root token init --data ./hsm --label \"Cairn Root CA\" \\\n"
	    "      --so-pin-file so.pin --pin-file user.pin\n",
	    cmd_token_init },
	{ "key", "generate", "generate a key pair inside a token",
	    "Usage: cairn-root key generate --token TOKEN --type TYPE\n"
	    "         --label NAME [--decrypt] [--pin-file FILE]\n"
	    "         [--module PATH] [--data DIR]\n"
	    "\n"
	    "Generate a key pair inside the token. The private key is made with\n"
	    "CKA_SENSITIVE=true and CKA_EXTRACTABLE=false; after generation the\n"
	    "token's own answer is checked (CKA_ALWAYS_SENSITIVE,\n"
	    "CKA_NEVER_EXTRACTABLE, CKA_LOCAL) and the key destroyed if it is\n"
	    "wrong. Prints the key's pkcs11: URI and the SHA-256 fingerprint of\n"
	    "its public key for the witnesses to read aloud.\n"
	    "\n"
	    "  --type TYPE    rsa-3072, rsa-4096, ec-p256 or ec-p384\n"
	    "  --label NAME   CKA_LABEL, unique on the token (1..128 bytes)\n"
	    "  --decrypt      RSA only: the key may also decrypt (SCEP RA keys)\n"
	    "\n" CAIRN_HSM_HELP
	    "\n"
	    "Example:\n"
	    "  cairn-root key generate --token \"Cairn Root CA\" --type ec-p384 \\\n"
	    "      --label root-2026 --pin-file user.pin\n",
	    cmd_key_generate },
	{ "key", "list", "list the private keys on a token",
	    "Usage: cairn-root key list [--token TOKEN] [--pin-file FILE]\n"
	    "         [--module PATH] [--data DIR]\n"
	    "\n"
	    "List the private keys on the token (the only initialized token when\n"
	    "--token is not given): label, type, CKA_ID, protection attributes,\n"
	    "public-key fingerprint and URI. Private keys are visible only after\n"
	    "login, so a PIN is needed.\n"
	    "\n" CAIRN_HSM_HELP,
	    cmd_key_list },
	{ "key", "show", "show one key, its public key and fingerprint",
	    "Usage: cairn-root key show --key URI [--pin-file FILE]\n"
	    "         [--module PATH] [--data DIR]\n"
	    "\n"
	    "Show the key named by URI (as printed by 'key generate' or 'key\n"
	    "list'): attributes, SHA-256 public-key fingerprint, and the public\n"
	    "key in PEM, which 'openssl pkey -pubin' reads.\n"
	    "\n"
	    "  --key URI      pkcs11:token=...;object=...;id=...;type=private\n"
	    "\n" CAIRN_HSM_HELP,
	    cmd_key_show },
	{ NULL, NULL, NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	int r;

	r = cairn_cli_main("cairn-root", intro, commands, argc, argv);
	OPENSSL_cleanup();
	return r;
}
