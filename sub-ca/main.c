/*
 * main.c: cairn-sub, the online subordinate (issuing) CA.
 *
 * This file is only the table of commands and their help; each command
 * lives in sub-ca/cmd_*.c.
 */
#include "config.h"

#include <openssl/crypto.h>

#include "lib/cli.h"
#include "sub-ca/sub.h"

static const char intro[] =
    "cairn-sub: the online issuing CA of a Cairn PKI.\n"
    "\n"
    "Its key lives in an HSM (any PKCS#11 token; SoftHSM2 by default). It\n"
    "issues certificates from templates over REST and web enrollment,\n"
    "keeps every request, certificate and revocation in a store with a\n"
    "hash-chained audit log, and publishes CRLs.\n"
    "\n"
    "Every command takes --data DIR (default: $CAIRN_DATA): the CA's data\n"
    "directory, made by init.\n"
    "\n"
    "Usage: cairn-sub GROUP COMMAND [options]\n"
    "       cairn-sub --help | --version\n";

#define DATA_HELP "  --data DIR     the CA's data directory (default: $CAIRN_DATA)\n"

static const struct cairn_cmd commands[] = {
	{ "init", NULL, "make the CA key in the HSM and a request for the root",
	    "Usage: cairn-sub init --data DIR --media DIR [--subject DN]\n"
	    "         [--key-type TYPE] [--templates DIR] [--https ADDR:PORT]\n"
	    "         [--http ADDR:PORT] [--base-url URL] [HSM options]\n"
	    "\n"
	    "Make the subordinate CA: without --token, a SoftHSM2 token of its\n"
	    "own in DIR/tokens with random PINs (DIR/user.pin, DIR/so.pin, mode\n"
	    "600); the CA key inside the token (never extractable); a PKCS#10\n"
	    "request in the media directory for the root's sign-subordinate\n"
	    "ceremony; the configuration DIR/cairn-sub.yaml; the templates; the\n"
	    "store with its audit log. Read the printed public key SHA-256 to\n"
	    "the root ceremony's witnesses.\n"
	    "\n"
	    "  --media DIR       where sub-ca.csr is written\n"
	    "  --subject DN      \"CN=Example Issuing CA,O=Example,C=DE\"\n"
	    "                    (default CN=Cairn Issuing CA)\n"
	    "  --key-type TYPE   ec-p256 (default), ec-p384, rsa-3072, rsa-4096\n"
	    "  --templates DIR   templates to start from (default: the shipped ones)\n"
	    "  --https, --http   listen addresses (127.0.0.1:8443, 127.0.0.1:8080)\n"
	    "  --base-url URL    how relying parties reach the http listener,\n"
	    "                    for the CRL and CA URLs put in certificates\n"
	    "\n" CAIRN_HSM_HELP,
	    cmd_init },
	{ "import", NULL, "install the certificate the root signed, from media",
	    "Usage: cairn-sub import --data DIR --media DIR [--root CERT]\n"
	    "\n"
	    "Verify the signed media against the root certificate (pinned at\n"
	    "the first import with --root, after comparing its fingerprint with\n"
	    "the root ceremony's transcript), then install this CA's certificate\n"
	    "(refused unless it is for this CA's key and signed by the root), the\n"
	    "newest root CRL (an older one than seen before is refused) and the\n"
	    "pre-signed root OCSP responses. Publishes the chain and a first CRL.\n"
	    "\n" DATA_HELP
	    "  --media DIR    the media from the root ceremony\n"
	    "  --root CERT    the root certificate (first import only)\n",
	    cmd_import },
	{ "serve", NULL, "run the CA daemon",
	    "Usage: cairn-sub serve --data DIR [--pid-file FILE]\n"
	    "\n"
	    "Serve REST and web enrollment over HTTPS, and the CRL and CA\n"
	    "certificate over HTTP, as the configuration says. On first start the\n"
	    "CA issues its own HTTPS certificate (DIR/tls/). SIGTERM or SIGINT\n"
	    "stops it cleanly: requests in progress finish, the audit log gets a\n"
	    "signed checkpoint, the store is closed.\n"
	    "\n"
	    "OCSP (docs/ocsp.md): the daemon answers on /ocsp, on both listeners,\n"
	    "from responses pre-signed for every certificate (SHA-1 and SHA-256\n"
	    "CertIDs), kept in memory and in the store, signed again at half\n"
	    "their life and at once on revocation or un-hold, by a delegated\n"
	    "responder certificate whose key it makes in the CA's token and\n"
	    "renews itself (ocsp.signer: ca signs with the CA key instead).\n"
	    "It also serves the root's pre-signed answer for this CA\n"
	    "(DIR/root-ocsp/, installed by import).\n"
	    "\n" DATA_HELP
	    "  --pid-file FILE  write the process id to FILE\n",
	    cmd_serve },
	{ "ocsp", "serve", "a standalone OCSP responder over the store",
	    "Usage: cairn-sub ocsp serve --data DIR [--listen ADDR:PORT]\n"
	    "         [--threads N] [--pid-file FILE]\n"
	    "\n"
	    "Serve OCSP (RFC 6960, RFC 5019: POST /ocsp, GET /ocsp/BASE64) from\n"
	    "the pre-signed responses in the store alone, reading new ones every\n"
	    "250 ms: no key, no token, so several responders can serve one CA.\n"
	    "\"cairn-sub serve\" signs the responses (and answers OCSP itself on\n"
	    "/ocsp). A serial this CA never issued is answered \"unauthorized\"\n"
	    "here (nothing to sign it with), \"unknown\" by the daemon\n"
	    "(docs/ocsp.md).\n"
	    "\n" DATA_HELP
	    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8081)\n"
	    "  --threads N         HTTP threads (default: listen.threads)\n"
	    "  --pid-file FILE     write the process id to FILE\n",
	    cmd_ocsp_serve },
	{ "request", NULL, "submit a CSR from the command line",
	    "Usage: cairn-sub request --data DIR --template NAME --csr FILE\n"
	    "         [--out FILE]\n"
	    "\n"
	    "Submit a PKCS#10 request through the same issuance path as REST and\n"
	    "web enrollment, as the local operator. The certificate goes to\n"
	    "--out (created, never replaced) or standard output; an approval\n"
	    "template leaves the request pending.\n",
	    cmd_request },
	{ "list", NULL, "list requests and certificates",
	    "Usage: cairn-sub list --data DIR [--status WHICH]\n"
	    "\n"
	    "WHICH: pending (requests waiting for approval), issued (valid\n"
	    "certificates, the default), revoked, intended (rows a crash left\n"
	    "between intent and signature: never good, may be revoked), requests\n"
	    "(every request).\n",
	    cmd_list },
	{ "approve", NULL, "approve a pending request and issue it",
	    "Usage: cairn-sub approve ID --data DIR [--out FILE]\n", cmd_approve },
	{ "deny", NULL, "deny a pending request",
	    "Usage: cairn-sub deny ID --data DIR [--reason TEXT]\n", cmd_deny },
	{ "revoke", NULL, "revoke a certificate and publish a CRL at once",
	    "Usage: cairn-sub revoke SERIAL --data DIR [--reason REASON]\n"
	    "\n"
	    "REASON (RFC 5280 5.3.1): unspecified (default), keyCompromise,\n"
	    "affiliationChanged, superseded, cessationOfOperation,\n"
	    "certificateHold (undo with unhold), privilegeWithdrawn.\n",
	    cmd_revoke },
	{ "unhold", NULL, "take a certificate off hold",
	    "Usage: cairn-sub unhold SERIAL --data DIR\n", cmd_unhold },
	{ "crl", NULL, "issue and publish a CRL now",
	    "Usage: cairn-sub crl --data DIR\n", cmd_crl },
	{ "audit", "verify", "verify the store's audit log",
	    "Usage: cairn-sub audit verify --data DIR [--out FILE]\n"
	    "\n"
	    "Check the audit log's hash chain and its checkpoint signatures with\n"
	    "the CA's public key. --out exports the log as JSON lines, which\n"
	    "\"cairn-root audit verify FILE --root ca.pem\" also checks. Needs\n"
	    "no HSM.\n",
	    cmd_audit_verify },
	{ "account", "add", "add an account",
	    "Usage: cairn-sub account add NAME --data DIR [--role ROLE]\n"
	    "         [--email ADDR] [--password-file FILE] [--group GROUP]\n"
	    "\n"
	    "ROLE: admin, manager, auditor or enrollee. Passwords (12 characters\n"
	    "or more) are stored hashed with Argon2id and accepted over HTTPS\n"
	    "only.\n",
	    cmd_account_add },
	{ "account", "role", "grant or remove a role",
	    "Usage: cairn-sub account role NAME --role ROLE --data DIR [--remove]\n"
	    "\n"
	    "With roles.separation (the default) one account holds at most one\n"
	    "of admin, manager and auditor.\n",
	    cmd_account_role },
	{ "account", "cert", "bind a TLS client certificate to an account",
	    "Usage: cairn-sub account cert NAME --cert FILE --data DIR\n"
	    "\n"
	    "The binding is by the certificate's issuer and serial number, never\n"
	    "by a name inside it.\n",
	    cmd_account_cert },
	{ "challenge", "new", "make a one-time SCEP challenge password",
	    "Usage: cairn-sub challenge new --template NAME --data DIR\n"
	    "         [--subject PATTERN] [--expires DURATION] [--count N]\n"
	    "\n"
	    "Make a challenge password for one SCEP enrollment (NDES's\n"
	    "mscep_admin page): good for one request, on template NAME (which\n"
	    "must let role enrollee or group scep enroll), until it expires.\n"
	    "The secret is printed once; only its SHA-256 is stored. Give it to\n"
	    "the device, which puts it in its CSR's challengePassword.\n"
	    "\n" DATA_HELP
	    "  --template NAME     the template the request is issued on\n"
	    "  --subject PATTERN   what the request's subject must match\n"
	    "                      (fnmatch(3)): TYPE=PATTERN for one attribute,\n"
	    "                      \"CN=r1.routers.example.org\" or \"CN=r1.*\";\n"
	    "                      else the whole RFC 4514 text, CN first\n"
	    "  --expires DURATION  30m, 1h (default: scep.challenge_expires), 7d\n"
	    "  --count N           N challenges (1..1000), one per device\n"
	    "\n"
	    "See docs/scep.md for the configuration and the failInfo codes.\n",
	    cmd_challenge_new },
	{ "challenge", "list", "list SCEP challenges",
	    "Usage: cairn-sub challenge list --data DIR [--all]\n"
	    "\n"
	    "The challenges that can still be used (--all: every one, with when\n"
	    "it was used or whether it was revoked). Secrets are not stored and\n"
	    "cannot be shown again.\n",
	    cmd_challenge_list },
	{ "challenge", "revoke", "make a SCEP challenge unusable",
	    "Usage: cairn-sub challenge revoke ID --data DIR\n"
	    "\n"
	    "A challenge given to the wrong device, or no longer needed, can be\n"
	    "revoked until it is used.\n",
	    cmd_challenge_revoke },
	{ NULL, NULL, NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	int r;

	r = cairn_cli_main("cairn-sub", intro, commands, argc, argv);
	OPENSSL_cleanup();
	return r;
}
