/*
 * main.c: cairn-enroll, the client an enrolling machine runs.
 *
 * Only the table of commands and their help; each command lives in its
 * own file (enroll/tpm.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "enroll/enroll.h"

static const char intro[] =
    "cairn-enroll: get a certificate from a Cairn CA for a key that this\n"
    "machine holds.\n"
    "\n"
    "Usage: cairn-enroll COMMAND [options]\n"
    "       cairn-enroll --help | --version\n";

enum {
	OPT_URL = 1, OPT_TEMPLATE, OPT_TCTI, OPT_USER, OPT_PASSWORD_FILE,
	OPT_CERT, OPT_KEY, OPT_CACERT, OPT_OUT, OPT_KEY_OUT, OPT_CN, OPT_EK,
	OPT_KEY_TYPE, OPT_NO_EK_CERT, OPT_VERBOSE, OPT_HELP
};

static int
cmd_tpm(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ "tcti", required_argument, NULL, OPT_TCTI },
		{ "user", required_argument, NULL, OPT_USER },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "key-out", required_argument, NULL, OPT_KEY_OUT },
		{ "cn", required_argument, NULL, OPT_CN },
		{ "ek", required_argument, NULL, OPT_EK },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "no-ek-cert", no_argument, NULL, OPT_NO_EK_CERT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "password", required_argument, NULL, CAIRN_OPT_PIN_REFUSED },
		{ NULL, 0, NULL, 0 } };
	struct enroll_opts o = { 0 };
	int c, r;

	o.tcti = "device:/dev/tpmrm0";
	o.key_ecc = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: return cairn_cli_help(cmd);
		case OPT_URL: o.url = optarg; break;
		case OPT_TEMPLATE: o.template_name = optarg; break;
		case OPT_TCTI: o.tcti = optarg; break;
		case OPT_USER: o.user = optarg; break;
		case OPT_PASSWORD_FILE: o.password_file = optarg; break;
		case OPT_CERT: o.cert = optarg; break;
		case OPT_KEY: o.key = optarg; break;
		case OPT_CACERT: o.cacert = optarg; break;
		case OPT_OUT: o.out = optarg; break;
		case OPT_KEY_OUT: o.key_out = optarg; break;
		case OPT_CN: o.cn = optarg; break;
		case OPT_NO_EK_CERT: o.no_ek_cert = 1; break;
		case OPT_VERBOSE: o.verbose = 1; break;
		case OPT_EK:
			if (strcmp(optarg, "rsa") != 0 &&
			    strcmp(optarg, "ecc") != 0)
				return cairn_cli_usage(cmd, "--ek: rsa or ecc, "
				    "not \"%s\"", optarg);
			o.ek_ecc = strcmp(optarg, "ecc") == 0;
			break;
		case OPT_KEY_TYPE:
			if (strcmp(optarg, "ec-p256") != 0 &&
			    strcmp(optarg, "rsa-2048") != 0)
				return cairn_cli_usage(cmd, "--key-type: ec-p256 "
				    "or rsa-2048, not \"%s\"", optarg);
			o.key_ecc = strcmp(optarg, "ec-p256") == 0;
			break;
		case CAIRN_OPT_PIN_REFUSED:
			return cairn_cli_usage(cmd, "--password: a password is "
			    "never read from the command line (other users "
			    "see it in ps); use --password-file FILE");
		default: return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if (o.url == NULL || o.template_name == NULL)
		return cairn_cli_usage(cmd, "--url and --template are needed");
	if ((o.user != NULL) != (o.password_file != NULL))
		return cairn_cli_usage(cmd, "--user and --password-file go "
		    "together");
	if ((o.user != NULL) == (o.cert != NULL))
		return cairn_cli_usage(cmd, "authenticate with --user NAME "
		    "--password-file FILE, or with --cert FILE [--key FILE] "
		    "(one of the two)");
	if (o.key != NULL && o.cert == NULL)
		return cairn_cli_usage(cmd, "--key goes with --cert");
	r = enroll_tpm(&o);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

static const struct cairn_cmd commands[] = {
	{ "tpm", NULL, "enroll a new TPM key, proving to the CA it is in the TPM",
	    "Usage: cairn-enroll tpm --url https://HOST:PORT --template NAME\n"
	    "         (--user NAME --password-file FILE | --cert FILE [--key FILE])\n"
	    "         [--tcti TCTI] [--cacert FILE] [--out FILE] [--key-out FILE]\n"
	    "         [--cn NAME] [--ek rsa|ecc] [--key-type ec-p256|rsa-2048]\n"
	    "         [--no-ek-cert] [--verbose]\n"
	    "\n"
	    "Make a signing key inside the TPM (fixedTPM, fixedParent,\n"
	    "sensitiveDataOrigin: it can never leave it) under the owner\n"
	    "hierarchy's storage key, and an attestation key (AK); read the\n"
	    "endorsement key (EK) and its certificate from NV; send the CA a\n"
	    "CSR signed by the new key, the EK and the AK. The CA answers with a\n"
	    "credential only this TPM can open (ActivateCredential) and a nonce;\n"
	    "the AK then certifies the new key over the nonce (TPM2_Certify), and\n"
	    "the CA issues the certificate with the issuance policy of the trust\n"
	    "it has in the TPM (docs/tpm-attestation.md).\n"
	    "\n"
	    "  --url URL          the CA's HTTPS address, https://HOST:PORT\n"
	    "  --template NAME    a template with attestation: required or preferred\n"
	    "  --user NAME        the account enrolling, with\n"
	    "  --password-file F  its password (first line of F; never on argv)\n"
	    "  --cert F, --key F  or a TLS client certificate the CA issued\n"
	    "  --tcti TCTI        how to reach the TPM (default device:/dev/tpmrm0;\n"
	    "                     swtpm:port=2321, mssim:host=localhost,port=2321)\n"
	    "  --cacert FILE      the CA's root, to verify its HTTPS certificate\n"
	    "                     (default: the system's trust store)\n"
	    "  --out FILE         the certificate, PEM (default: standard output)\n"
	    "  --key-out FILE     the key as a TSS2 PRIVATE KEY (PEM), which\n"
	    "                     tpm2-openssl and tpm2-tss-engine load; its parent\n"
	    "                     is the TCG storage key of the owner hierarchy\n"
	    "  --cn NAME          the CSR's subject CN (default: the host name);\n"
	    "                     the template decides what the certificate says\n"
	    "  --ek rsa|ecc       the EK (TCG template L-1 RSA 2048, L-2 ECC P-256;\n"
	    "                     default rsa); certificate from NV 0x01c00002 or\n"
	    "                     0x01c0000a\n"
	    "  --key-type T       ec-p256 (default) or rsa-2048\n"
	    "  --no-ek-cert       send only the EK public key (EK-key or\n"
	    "                     user-credential trust)\n"
	    "  --verbose          say each step\n"
	    "\n"
	    "Example:\n"
	    "  cairn-enroll tpm --url https://ca.example.org:8443 \\\n"
	    "    --template TpmClient --user alice --password-file ~/.ca-pw \\\n"
	    "    --cacert root.pem --out host.pem --key-out host.tss\n",
	    cmd_tpm },
	{ NULL, NULL, NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cairn_cli_main("cairn-enroll", intro, commands, argc, argv);
	curl_global_cleanup();
	OPENSSL_cleanup();
	return r;
}
