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
	{ "run", NULL, "carry out a ceremony script",
	    "Usage: cairn-root run SCRIPT --media DIR [--batch] [--log FILE]\n"
	    "         [--pin-file FILE] [--module PATH] [--data DIR]\n"
	    "\n"
	    "Carry out the ceremony SCRIPT describes (root-init, "
	    "sign-subordinate,\n"
	    "issue-crl, sign-ocsp, key-backup, key-restore). The whole script is checked first; with any problem\n"
	    "nothing happens and the HSM is not touched. Then each step says\n"
	    "what it will do and what the witnesses must check, and waits for\n"
	    "the operator to type yes. Outputs are written to the media\n"
	    "directory only when every step succeeded, with a copy of the\n"
	    "ceremony log and a transcript for the witnesses to sign; then the\n"
	    "media is sealed (MANIFEST, MANIFEST.p7s) with the CA key.\n"
	    "\n"
	    "  --media DIR   where the outputs go (created when missing)\n"
	    "  --batch       do not stop at each step (tests, rehearsals)\n"
	    "  --log FILE    the ceremony log to append to (default:\n"
	    "                DATA/ceremony-log.jsonl with --data or CAIRN_DATA)\n"
	    "  --so-pin-file FILE  the security officer's PIN, for key-backup\n"
	    "                (else $CAIRN_SO_PIN, else a prompt)\n"
	    "\n" CAIRN_HSM_HELP
	    "\n"
	    "The ceremonies/ folder has a commented script for each ceremony.\n"
	    "\n"
	    "Example:\n"
	    "  cairn-root run ceremonies/root-init.yaml --media /media/usb \\\n"
	    "      --data /srv/root-ca\n",
	    cmd_run },
	{ "check", NULL, "check a ceremony script without running it",
	    "Usage: cairn-root check SCRIPT\n"
	    "\n"
	    "Check the whole ceremony script as 'run' does before it starts,\n"
	    "reading its inputs (certificates, requests) but not the HSM. Every\n"
	    "problem is printed as FILE:LINE: message.\n",
	    cmd_check },
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
	{ "media", "verify", "verify signed media against the root",
	    "Usage: cairn-root media verify DIR --root CERT [--state FILE]\n"
	    "\n"
	    "Verify the media directory DIR: MANIFEST.p7s must be signed by the\n"
	    "key of CERT (the pinned root certificate, not merely one that\n"
	    "chains to it), every file in MANIFEST must be present with its\n"
	    "SHA-256 and size, and no other file may be there. Needs no HSM.\n"
	    "\n"
	    "  --root CERT    the root certificate you trust (PEM or DER)\n"
	    "  --state FILE   also refuse a CRL older than one seen before, and\n"
	    "                 record the newest CRL numbers in FILE\n",
	    cmd_media_verify },
	{ "audit", "verify", "verify a ceremony log against the root",
	    "Usage: cairn-root audit verify LOG --root CERT\n"
	    "\n"
	    "Verify the ceremony log LOG: every line chains to the one before\n"
	    "(SHA-256), numbers run without gaps, every checkpoint is signed\n"
	    "by the key of CERT and the log ends with one. On failure, the\n"
	    "first line that breaks is named. Needs no HSM.\n"
	    "\n"
	    "  --root CERT    the root certificate (PEM or DER)\n",
	    cmd_audit_verify },
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
