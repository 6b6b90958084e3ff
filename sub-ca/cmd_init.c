/*
 * cmd_init.c: cairn-sub init and import: the subordinate CA's life before
 * it serves: its own key and request, then the root's answer on media.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/cli.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/media.h"
#include "lib/profile.h"
#include "lib/util.h"
#include "pkcs11/p11.h"
#include "sub-ca/ca.h"
#include "sub-ca/sub.h"

#define SUB_TOKEN "Cairn Sub CA"
#define SUB_KEY "sub-ca-key"

const char *
sub_data_dir(const char *opt)
{
	const char *d = opt != NULL ? opt : getenv("CAIRN_DATA");

	return d != NULL && d[0] != '\0' ? d : NULL;
}

static int
write_pin(const char *dir, const char *name, char out[33])
{
	uint8_t b[16];
	char path[PATH_MAX];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "no randomness");
	cairn_hex(out, b, sizeof(b), 0);
	OPENSSL_cleanse(b, sizeof(b));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fileio_write_atomic(path, out, strlen(out), 0600, 0);
}

/* Copy every *.yaml of `src` into `dst` (mode 0600). */
static int
copy_templates(const char *src, const char *dst)
{
	DIR *d;
	struct dirent *e;
	char from[PATH_MAX + 256], to[PATH_MAX + 256], *buf;
	size_t len, n = 0;
	int r = 0;

	if (mkdir(dst, 0700) != 0 && errno != EEXIST)
		return cairn_error(CAIRN_E_IO, "%s: %s", dst, strerror(errno));
	if ((d = opendir(src)) == NULL)
		return cairn_error(CAIRN_E_IO, "templates %s: %s (give "
		    "--templates DIR)", src, strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 ||
		    e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		if ((r = cairn_read_file(from, 1 << 20, &buf, &len)) == 0) {
			r = fileio_write_atomic(to, buf, len, 0600, 0);
			free(buf);
			n++;
		}
	}
	closedir(d);
	if (r == 0 && n == 0)
		r = cairn_error(CAIRN_E_IO, "no *.yaml templates in %s", src);
	return r;
}

static const char *
default_templates(void)
{
	static const char *const dirs[] = { CAIRN_TEMPLATES_DIR,
		CAIRN_SRC_TEMPLATES_DIR };
	struct stat st;
	size_t i;

	for (i = 0; i < 2; i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return CAIRN_TEMPLATES_DIR;
}

static int
make_csr(struct cairn_p11_key *key, const char *subject, const char *path)
{
	EVP_PKEY *signer = cairn_p11_key_get1_pkey(key);
	EVP_PKEY *pub = cairn_p11_key_get0_public(key);
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = NULL;
	BIO *b = NULL;
	int r = CAIRN_E_CRYPTO;

	if (signer == NULL || req == NULL)
		goto out;
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	/* "CN=...,O=...,C=.." in the order written */
	{
		char *copy = strdup(subject), *tok, *save = NULL;

		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '=');

			while (*tok == ' ')
				tok++;
			if (eq == NULL || X509_NAME_add_entry_by_txt(name,
			    (*eq = '\0', tok), MBSTRING_UTF8,
			    (const unsigned char *)eq + 1, -1, -1, 0) != 1) {
				free(copy);
				r = cairn_error(CAIRN_E_USAGE, "--subject "
				    "\"%s\": want \"CN=Name,O=Org,C=DE\"",
				    subject);
				goto out;
			}
		}
		free(copy);
	}
	if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, pub) != 1 ||
	    X509_REQ_sign(req, signer, profile_default_md(pub)) <= 0 ||
	    X509_REQ_verify(req, pub) != 1 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(b, req) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "making the request");
		goto out;
	}
	r = ca_write_bio(path, b, 0644, 0);
out:
	if (r == CAIRN_E_CRYPTO)
		cairn_error_crypto(r, "making the request");
	BIO_free(b);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(signer);
	return r;
}

enum { OPT_MEDIA = CAIRN_OPT_HSM_END, OPT_SUBJECT, OPT_KEYTYPE,
	OPT_TEMPLATES, OPT_ROOT, OPT_HTTPS, OPT_HTTP, OPT_BASEURL };

int
cmd_init(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "subject", required_argument, NULL, OPT_SUBJECT },
		{ "key-type", required_argument, NULL, OPT_KEYTYPE },
		{ "templates", required_argument, NULL, OPT_TEMPLATES },
		{ "https", required_argument, NULL, OPT_HTTPS },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "base-url", required_argument, NULL, OPT_BASEURL },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11 *p11 = NULL;
	struct cairn_p11_token *tok = NULL;
	struct cairn_p11_key *key = NULL;
	struct cairn_p11_keygen kg = { 0 };
	struct cairn_p11_slot_info si;
	struct cairn_p11_uri *sel = NULL;
	struct store *store = NULL;
	const char *media = NULL, *subject = "CN=Cairn Issuing CA",
	    *keytype = "ec-p256", *templates = NULL, *dir;
	const char *https = "127.0.0.1:8443", *http = "127.0.0.1:8080";
	const char *base = NULL;
	char path[PATH_MAX], user_pin[33], so_pin[33], fpr[CAIRN_FPR_STRLEN];
	char *uri = NULL, *conf = NULL, basebuf[300];
	int c, r, own_token = 0;
	json_t *o;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_MEDIA: media = optarg; break;
		case OPT_SUBJECT: subject = optarg; break;
		case OPT_KEYTYPE: keytype = optarg; break;
		case OPT_TEMPLATES: templates = optarg; break;
		case OPT_HTTPS: https = optarg; break;
		case OPT_HTTP: http = optarg; break;
		case OPT_BASEURL: base = optarg; break;
		default:
			if (!cairn_hsm_opt(&ho, c, optarg))
				return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if ((dir = sub_data_dir(ho.data_dir)) == NULL)
		return cairn_cli_usage(cmd, "name the data directory with "
		    "--data DIR (or CAIRN_DATA)");
	if (media == NULL)
		return cairn_cli_usage(cmd, "name the media directory for the "
		    "request with --media DIR");
	if ((r = cairn_key_type_parse(keytype, &kg.type)) != 0)
		return cairn_cli_fail(r);
	ho.data_dir = dir;
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CONFIG);
	if (access(path, F_OK) == 0)
		return cairn_cli_fail(cairn_error(CAIRN_E_EXISTS, "%s exists: "
		    "this directory holds a CA already", path));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cairn_cli_fail(cairn_error(CAIRN_E_IO, "%s: %s", dir,
		    strerror(errno)));
	if (mkdir(media, 0755) != 0 && errno != EEXIST)
		return cairn_cli_fail(cairn_error(CAIRN_E_IO, "%s: %s", media,
		    strerror(errno)));

	printf("[1/5] the HSM token\n");
	if (ho.token == NULL) {
		/* The embedded default: a SoftHSM2 token of our own, with
		 * random PINs kept beside it (mode 600). */
		own_token = 1;
		if ((r = write_pin(dir, "user.pin", user_pin)) != 0 ||
		    (r = write_pin(dir, "so.pin", so_pin)) != 0 ||
		    (r = cairn_hsm_load(&ho, NULL, &p11)) != 0 ||
		    (r = cairn_p11_token_init(p11, 0, 0, SUB_TOKEN, so_pin,
			user_pin, &si)) != 0)
			goto out;
		OPENSSL_cleanse(user_pin, sizeof(user_pin));
		OPENSSL_cleanse(so_pin, sizeof(so_pin));
		snprintf(path, sizeof(path), "%s/user.pin", dir);
		ho.pin_file = path;
		ho.token = SUB_TOKEN;
		printf("      token \"%s\" made in %s/tokens; PINs in %s/user.pin "
		    "and so.pin (mode 600)\n", SUB_TOKEN, dir, dir);
	} else {
		printf("      using token \"%s\"\n", ho.token);
	}
	if ((r = cairn_hsm_open_token(&ho, 1, &tok)) != 0)
		goto out;

	printf("[2/5] the CA key (%s), made inside the token\n",
	    cairn_key_type_desc(kg.type));
	kg.label = SUB_KEY;
	if ((r = cairn_p11_key_generate(tok, &kg, &key)) != 0 ||
	    (uri = cairn_p11_key_uri(key)) == NULL ||
	    (r = cairn_fingerprint_str(cairn_p11_key_get0_public(key),
		fpr)) != 0) {
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	printf("      key URI:            %s\n", uri);
	printf("      public key SHA-256: %s\n", fpr);

	printf("[3/5] the request for the root ceremony\n");
	snprintf(path, sizeof(path), "%s/sub-ca.csr", media);
	if ((r = make_csr(key, subject, path)) != 0)
		goto out;
	printf("      %s (subject %s)\n", path, subject);

	printf("[4/5] configuration and templates\n");
	if (base == NULL) {
		snprintf(basebuf, sizeof(basebuf), "http://%s", http);
		base = basebuf;
	}
	if (asprintf(&conf,
	    "# cairn-sub configuration, written by \"cairn-sub init\".\n"
	    "# docs/cairn-sub.md describes every key.\n"
	    "key: \"%s\"\n"
	    "%s%s%s"
	    "pin_file: %s\n"
	    "store: ca.db\n"
	    "templates: templates\n"
	    "listen:\n"
	    "  https: \"%s\"   # enrollment, REST, admin pages (TLS only)\n"
	    "  http: \"%s\"    # CRL and CA certificate only\n"
	    "  threads: 4\n"
	    "urls:\n"
	    "  # placed in every certificate: where relying parties fetch\n"
	    "  # this CA's CRL and certificate (served by the http listener)\n"
	    "  crl: %s/crl/ca.crl\n"
	    "  ca_issuers: %s/ca/ca.der\n"
	    "  ocsp: %s/ocsp\n"
	    "crl:\n"
	    "  validity: 7d        # nextUpdate - thisUpdate (at most 10d)\n"
	    "  period: 1d          # a new CRL at least this often\n"
	    "roles:\n"
	    "  separation: true    # admin, manager, auditor: one each\n"
	    "ocsp:                 # the responder on /ocsp (docs/ocsp.md)\n"
	    "  signer: delegated   # or ca: the CA key signs responses\n"
	    "  validity: 4d        # nextUpdate - thisUpdate (8h to 10d)\n"
	    "  on_demand: false    # true: sign per request for a nonce or\n"
	    "                      # several certificates\n"
	    "tls:\n"
	    "  names: [localhost, 127.0.0.1]\n",
	    uri, ho.module != NULL ? "module: \"" : "",
	    ho.module != NULL ? ho.module : "",
	    ho.module != NULL ? "\"\n" : "",
	    own_token ? "user.pin" : (ho.pin_file != NULL ? ho.pin_file :
	    "user.pin"), https, http, base, base, base) < 0) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		conf = NULL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/templates", dir);
	if ((r = copy_templates(templates != NULL ? templates :
	    default_templates(), path)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CONFIG);
	if ((r = fileio_write_atomic(path, conf, strlen(conf), 0600, 0)) != 0)
		goto out;
	printf("      %s\n      %s/templates/\n", path, dir);

	printf("[5/5] the store and its audit log\n");
	snprintf(path, sizeof(path), "%s/ca.db", dir);
	if ((r = store_open(path, &store)) != 0 ||
	    (r = store_begin(store)) != 0)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:s}", "event", "initialized",
	    "key", uri, "key_sha256", fpr, "subject", subject);
	if (o == NULL || (r = store_audit(store, o)) != 0) {
		store_rollback(store);
		json_decref(o);
		r = r != 0 ? r : cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	json_decref(o);
	if ((r = store_commit(store)) != 0)
		goto out;
	printf("      %s\n\n", path);
	printf("Next: take %s/sub-ca.csr to the root's sign-subordinate "
	    "ceremony;\nread the public key SHA-256 above to the witnesses. "
	    "Then:\n  cairn-sub import --data %s --media DIR --root "
	    "root.pem\n", media, dir);
out:
	store_close(store);
	cairn_p11_uri_free(sel);
	free(conf);
	free(uri);
	cairn_p11_key_free(key);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}

/* ---- import ------------------------------------------------------------ */

enum kind { K_OTHER, K_CERT, K_CRL, K_OCSP };

static enum kind
classify(const char *buf, size_t len, X509 **x, X509_CRL **crl)
{
	const unsigned char *p;
	OCSP_RESPONSE *resp;
	BIO *b;

	*x = NULL;
	*crl = NULL;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (*x == NULL) {
		p = (const unsigned char *)buf;
		*x = d2i_X509(NULL, &p, (long)len);
	}
	if (*x != NULL)
		return K_CERT;
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		*crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (*crl == NULL) {
		p = (const unsigned char *)buf;
		*crl = d2i_X509_CRL(NULL, &p, (long)len);
	}
	if (*crl != NULL)
		return K_CRL;
	p = (const unsigned char *)buf;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) != NULL) {
		OCSP_RESPONSE_free(resp);
		return K_OCSP;
	}
	ERR_clear_error();
	return K_OTHER;
}

static int
write_pem_cert(const char *path, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r;

	r = b == NULL || PEM_write_bio_X509(b, x) != 1 ?
	    cairn_error_crypto(CAIRN_E_CRYPTO, "encoding %s", path) :
	    ca_write_bio(path, b, 0644, FILEIO_REPLACE);
	BIO_free(b);
	return r;
}

int
cmd_import(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts ho = { 0 };
	struct ca *ca = NULL;
	struct media *m = NULL;
	struct actor me;
	X509 *root = NULL, *pinned = NULL, *mine = NULL, *x;
	X509_CRL *newest = NULL;
	const char *media = NULL, *root_path = NULL, *dir;
	char path[PATH_MAX + 256], from[PATH_MAX + 256], fpr[CAIRN_FPR_STRLEN];
	char *buf;
	size_t i, len, n_ocsp = 0, n_crl = 0;
	json_t *o = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_MEDIA: media = optarg; break;
		case OPT_ROOT: root_path = optarg; break;
		default:
			if (!cairn_hsm_opt(&ho, c, optarg))
				return cairn_cli_bad_option(cmd, c);
		}
	}
	if (optind != argc)
		return cairn_cli_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]);
	if ((dir = sub_data_dir(ho.data_dir)) == NULL || media == NULL)
		return cairn_cli_usage(cmd, "give --data DIR and --media DIR");
	actor_local(&me);
	if ((r = ca_open(dir, CA_KEY, &ca)) != 0)
		goto out;

	/* The root is pinned at the first import and never changes. */
	ca_path(ca, path, "root.pem");
	if (access(path, F_OK) == 0 && (r = cairn_read_cert(path,
	    &pinned)) != 0)
		goto out;
	if (root_path != NULL && (r = cairn_read_cert(root_path, &root)) != 0)
		goto out;
	if (pinned != NULL && root != NULL && X509_cmp(pinned, root) != 0) {
		r = cairn_error(CAIRN_E_MEDIA, "--root %s is not the root "
		    "pinned at the first import (%s): a CA does not change "
		    "roots", root_path, path);
		goto out;
	}
	if (root == NULL && (root = pinned) == NULL) {
		r = cairn_error(CAIRN_E_USAGE, "the first import needs --root "
		    "CERT: the root certificate, checked by its fingerprint "
		    "from the root ceremony's transcript");
		goto out;
	}
	if (root == pinned)
		pinned = NULL;
	printf("[1/4] verifying media %s against the root\n", media);
	if ((r = media_verify(media, root, &m)) != 0)
		goto out;
	printf("      the manifest's signature and all %zu files verify\n",
	    m->n);

	printf("[2/4] finding this CA's certificate\n");
	for (i = 0; i < m->n; i++) {
		X509_CRL *cl;
		enum kind k;

		snprintf(from, sizeof(from), "%s/%s", media, m->files[i].name);
		if ((r = cairn_read_file(from, CAIRN_MEDIA_FILE_MAX > (1 << 26)
		    ? (1 << 26) : (size_t)CAIRN_MEDIA_FILE_MAX, &buf,
		    &len)) != 0)
			goto out;
		k = classify(buf, len, &x, &cl);
		if (k == K_CERT && X509_cmp(x, root) != 0) {
			if (EVP_PKEY_eq(X509_get0_pubkey(x), ca->pub) == 1) {
				if (X509_verify(x, X509_get0_pubkey(root)) != 1 ||
				    X509_check_ca(x) == 0) {
					r = cairn_error(CAIRN_E_MEDIA, "%s: a "
					    "certificate for this CA's key, "
					    "but not a CA certificate signed "
					    "by the root", m->files[i].name);
					X509_free(x);
					free(buf);
					goto out;
				}
				X509_free(mine);
				mine = x;
				x = NULL;
			} else {
				cairn_fingerprint_str(X509_get0_pubkey(x), fpr);
				printf("      %s: a certificate for another key "
				    "(%.23s...): not ours, ignored\n",
				    m->files[i].name, fpr);
			}
		}
		if (k == K_CRL) {
			n_crl++;
			if (newest == NULL || ASN1_TIME_compare(
			    X509_CRL_get0_lastUpdate(cl),
			    X509_CRL_get0_lastUpdate(newest)) > 0) {
				X509_CRL_free(newest);
				newest = cl;
				cl = NULL;
			}
		}
		if (k == K_OCSP) {
			n_ocsp++;
			mkdir(ca_path(ca, path, "root-ocsp"), 0755);
			snprintf(path, sizeof(path), "%s/root-ocsp/%s", dir,
			    m->files[i].name);
			if ((r = fileio_write_atomic(path, buf, len, 0644,
			    FILEIO_REPLACE)) != 0) {
				free(buf);
				goto out;
			}
		}
		X509_free(x);
		X509_CRL_free(cl);
		free(buf);
	}
	if (mine == NULL && ca->cert == NULL) {
		cairn_fingerprint_str(ca->pub, fpr);
		r = cairn_error(CAIRN_E_MEDIA, "the media holds no certificate "
		    "for this CA's key (public key SHA-256 %s): was the right "
		    "request signed?", fpr);
		goto out;
	}
	printf("[3/4] root CRLs: %zu, pre-signed root OCSP responses: %zu\n",
	    n_crl, n_ocsp);
	/* An old CRL must not replace a newer one (rollback). */
	ca_path(ca, path, "root-crl-numbers");
	if ((r = media_check_crls(m, media, root, path, 1)) != 0)
		goto out;

	printf("[4/4] installing\n");
	if (pinned == NULL && (r = write_pem_cert(ca_path(ca, path,
	    "root.pem"), root)) != 0)
		goto out;
	if (mine != NULL) {
		if ((r = write_pem_cert(ca_path(ca, path, "ca.pem"),
		    mine)) != 0)
			goto out;
		X509_free(ca->cert);
		ca->cert = mine;
		mine = NULL;
		X509_free(ca->root);
		ca->root = X509_dup(root);
	}
	mkdir(ca_path(ca, path, "publish"), 0755);
	if (newest != NULL) {
		uint8_t *der = NULL;
		int dl = i2d_X509_CRL(newest, &der);

		r = dl <= 0 ? cairn_error(CAIRN_E_CRYPTO, "encoding the CRL") :
		    fileio_write_atomic(ca_path(ca, path, "publish/root.crl"),
			der, (size_t)dl, 0644, FILEIO_REPLACE);
		OPENSSL_free(der);
		if (r != 0)
			goto out;
	}
	if ((r = ca_publish_ca(ca)) != 0)
		goto out;
	cairn_fingerprint_str(ca->pub, fpr);
	o = json_pack("{s:s, s:I, s:I, s:s}", "media", media, "crls",
	    (json_int_t)n_crl, "ocsp", (json_int_t)n_ocsp, "key_sha256", fpr);
	if (o == NULL || (r = ca_audit_event(ca, "imported", me.name,
	    o)) != 0)
		goto out;
	/* The CA's first CRL, so that the CDP in its certificates answers
	 * from the start. */
	if ((r = ca_crl_issue(ca, &me, NULL)) != 0)
		goto out;
	printf("      %s/ca.pem, %s/publish/ (ca.der, chain.pem, chain.p7b, "
	    "ca.crl%s)\n\nNext: cairn-sub serve --data %s\n", dir, dir,
	    newest != NULL ? ", root.crl" : "", dir);
out:
	json_decref(o);
	X509_CRL_free(newest);
	X509_free(mine);
	X509_free(root);
	X509_free(pinned);
	media_free(m);
	ca_close(ca);
	actor_clear(&me);
	return r == 0 ? CAIRN_EXIT_OK : cairn_cli_fail(r);
}
