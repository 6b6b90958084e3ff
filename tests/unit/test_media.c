/*
 * test_media.c: signed media (lib/media.c).
 *
 * Roots are self-signed P-384 certificates made here, one with a software
 * key and one whose key lives in a SoftHSM2 token.  What the sealer
 * writes is checked by `openssl cms -verify` as an independent peer, and
 * every way media can be wrong (a changed, missing, extra or renamed
 * file, an edited manifest, a foreign, forged, empty or embedded
 * signature, links, directories, bad names, leftovers of an interrupted
 * write, an old CRL) is refused with its code and a message naming it,
 * with nothing written when nothing should be.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "lib/media.h"
#include "pkcs11/p11.h"
#include "tests/unit/harness.h"

static struct th_token tt;
static struct cairn_p11 *p11;
static struct cairn_p11_token *tok;

static EVP_PKEY *root_key, *other_key;
/* root: the pinned root; other: another root ("wrong signer");
 * impostor: root's subject and serial with other's key. */
static X509 *root, *other, *impostor;
static char base[PATH_MAX];
static char root_pem[PATH_MAX + 32], other_pem[PATH_MAX + 32];
static int dirseq;

/* ---- helpers -------------------------------------------------------- */

static void
expect(int r, int code, const char *text)
{
	if (r != code)
		fail_msg("want %s, have %s: %s", cairn_errname(code),
		    cairn_errname(r), cairn_errmsg(r));
	if (strstr(cairn_errmsg(r), text) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cairn_errmsg(r), text);
}

static X509 *
make_root(const char *cn, EVP_PKEY *pub, EVP_PKEY *signkey, long serial)
{
	static const struct {
		int nid;
		const char *value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,digitalSignature,keyCertSign,"
		    "cRLSign" },
		{ NID_subject_key_identifier, "hash" },
	};
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	size_t i;

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
	    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid,
		    exts[i].value);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, signkey, EVP_sha384()) > 0);
	X509_NAME_free(n);
	return x;
}

/* A CRL of `issuer`: `number` < 0 leaves the CRL number out; `revoked`
 * > 0 revokes that serial (so two CRLs of one number can differ). */
static X509_CRL *
make_crl(X509 *issuer, EVP_PKEY *key, long number, long revoked)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *ai;

	assert_non_null(c);
	assert_non_null(t);
	assert_int_equal(X509_CRL_set_version(c, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(c,
	    X509_get_subject_name(issuer)), 1);
	assert_non_null(X509_gmtime_adj(t, 0));
	assert_int_equal(X509_CRL_set1_lastUpdate(c, t), 1);
	assert_non_null(X509_gmtime_adj(t, 7 * 86400));
	assert_int_equal(X509_CRL_set1_nextUpdate(c, t), 1);
	if (revoked > 0) {
		X509_REVOKED *rv = X509_REVOKED_new();

		assert_non_null(rv);
		assert_non_null(ai = ASN1_INTEGER_new());
		assert_int_equal(ASN1_INTEGER_set(ai, revoked), 1);
		assert_int_equal(X509_REVOKED_set_serialNumber(rv, ai), 1);
		ASN1_INTEGER_free(ai);
		assert_non_null(X509_gmtime_adj(t, 0));
		assert_int_equal(X509_REVOKED_set_revocationDate(rv, t), 1);
		assert_int_equal(X509_CRL_add0_revoked(c, rv), 1);
	}
	if (number >= 0) {
		assert_non_null(ai = ASN1_INTEGER_new());
		assert_int_equal(ASN1_INTEGER_set(ai, number), 1);
		assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_crl_number, ai,
		    0, 0), 1);
		ASN1_INTEGER_free(ai);
	}
	assert_int_equal(X509_CRL_sort(c), 1);
	assert_true(X509_CRL_sign(c, key, EVP_sha384()) > 0);
	ASN1_TIME_free(t);
	return c;
}

/* DER of a CRL, in a new buffer. */
static uint8_t *
crl_der(X509_CRL *c, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(c, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static void
path_of(char *out, size_t size, const char *dir, const char *name)
{
	assert_true((size_t)snprintf(out, size, "%s/%s", dir, name) < size);
}

static void
put(const char *dir, const char *name, const void *data, size_t len)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, sizeof(p), dir, name);
	assert_non_null(f = fopen(p, "wb"));
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
put_str(const char *dir, const char *name, const char *s)
{
	put(dir, name, s, strlen(s));
}

static uint8_t *
get(const char *dir, const char *name, size_t *len)
{
	char p[PATH_MAX];
	uint8_t *buf;
	struct stat st;
	FILE *f;

	path_of(p, sizeof(p), dir, name);
	assert_int_equal(stat(p, &st), 0);
	assert_non_null(buf = malloc((size_t)st.st_size + 1));
	assert_non_null(f = fopen(p, "rb"));
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f),
	    (size_t)st.st_size);
	fclose(f);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static int
exists(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	path_of(p, sizeof(p), dir, name);
	return lstat(p, &st) == 0;
}

static void
rm(const char *dir, const char *name)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), dir, name);
	assert_int_equal(unlink(p), 0);
}

/* Entries in `dir` (not "." and ".."). */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A new empty directory under the base; the pointer stays valid until
 * the next call but one. */
static const char *
new_dir(void)
{
	static char bufs[2][PATH_MAX];
	char *d = bufs[dirseq % 2];

	assert_true(snprintf(d, PATH_MAX, "%.*s/m%d", PATH_MAX - 32, base,
	    dirseq++) < PATH_MAX);
	assert_int_equal(mkdir(d, 0700), 0);
	return d;
}

static void
write_cert_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

/* Media as a ceremony leaves them: the root certificate, a CRL, notes. */
static const char *
new_media(void)
{
	const char *d = new_dir();
	X509_CRL *c = make_crl(root, root_key, 1, 0);
	uint8_t *der;
	size_t len;
	char p[PATH_MAX];

	path_of(p, sizeof(p), d, "root.crt");
	write_cert_pem(p, root);
	der = crl_der(c, &len);
	put(d, "root.crl", der, len);
	put_str(d, "notes.txt", "ceremony notes\n");
	OPENSSL_free(der);
	X509_CRL_free(c);
	return d;
}

static const char *
sealed_media(void)
{
	const char *d = new_media();

	assert_int_equal(media_seal(d, root, root_key), 0);
	return d;
}

static void
verify_ok(const char *dir, X509 *pin, size_t nfiles)
{
	struct media *m = NULL;
	int r = media_verify(dir, pin, &m);

	if (r != 0)
		fail_msg("media_verify: %s", cairn_errmsg(r));
	assert_non_null(m);
	assert_int_equal(m->n, nfiles);
	media_free(m);
}

static void
verify_fails(const char *dir, const char *text)
{
	struct media *m = (struct media *)&m;

	expect(media_verify(dir, root, &m), CAIRN_E_MEDIA, text);
	assert_null(m);
}

/* `openssl cms -verify` as the peer: 0 when it accepts. */
static int
peer_verify(const char *dir, const char *ca_pem)
{
	return th_run("openssl cms -verify -binary -inform DER "
	    "-in '%s/" MEDIA_SIGNATURE "' -content '%s/" MEDIA_MANIFEST "' "
	    "-CAfile '%s' -purpose any -out /dev/null 2>/dev/null", dir, dir,
	    ca_pem);
}

static void
put_cms(const char *dir, CMS_ContentInfo *cms)
{
	unsigned char *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);

	assert_true(n > 0);
	put(dir, MEDIA_SIGNATURE, der, (size_t)n);
	OPENSSL_free(der);
}

static CMS_ContentInfo *
read_cms(const char *dir)
{
	CMS_ContentInfo *cms;
	const unsigned char *p;
	uint8_t *der;
	size_t len;

	der = get(dir, MEDIA_SIGNATURE, &len);
	p = der;
	assert_non_null(cms = d2i_CMS_ContentInfo(NULL, &p, (long)len));
	free(der);
	return cms;
}

/* Sign the MANIFEST of `dir` with `flags` and a chosen digest, the way a
 * forger or a careless tool would, and put it in MANIFEST.p7s. */
static void
resign(const char *dir, X509 *signer, EVP_PKEY *key, const EVP_MD *md,
    unsigned int flags)
{
	CMS_ContentInfo *cms;
	uint8_t *text;
	size_t len;
	BIO *in;

	text = get(dir, MEDIA_MANIFEST, &len);
	assert_non_null(in = BIO_new_mem_buf(text, (int)len));
	assert_non_null(cms = CMS_sign(NULL, NULL, NULL, NULL,
	    flags | CMS_PARTIAL));
	assert_non_null(CMS_add1_signer(cms, signer, key, md, flags));
	assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
	put_cms(dir, cms);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	free(text);
}

/* The uppercase colon form of a certificate's SHA-256 fingerprint. */
static void
fingerprint(X509 *x, char out[96])
{
	uint8_t md[32];
	unsigned int len = 0;
	int i;

	assert_int_equal(X509_digest(x, EVP_sha256(), md, &len), 1);
	for (i = 0; i < 32; i++)
		snprintf(out + 3 * i, 4, i < 31 ? "%02X:" : "%02X", md[i]);
}

/* Parse an exact-size copy: ASan sees any read past `len`. */
static int
parse(const char *s, size_t len, struct media **m)
{
	char *buf = malloc(len > 0 ? len : 1);
	int r;

	assert_non_null(buf);
	memcpy(buf, s, len);
	*m = (struct media *)&buf;
	r = media_manifest_parse(buf, len, m);
	free(buf);
	if (r != 0)
		assert_null(*m);
	return r;
}

static int
parse_str(const char *s, struct media **m)
{
	return parse(s, strlen(s), m);
}

static void
parse_fails(const char *s, const char *text)
{
	struct media *m;

	expect(parse_str(s, &m), CAIRN_E_MEDIA, text);
}

#define HEX64 "0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef"
#define HDR "cairn-media v1\n"

/* ---- fixture -------------------------------------------------------- */

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	if (th_token_create(&tt, "media-test") != 0 ||
	    th_open(th_module(), "media-test", &p11, &tok) != 0)
		return -1;
	snprintf(base, sizeof(base), "%s/cairn-media-test-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	if ((root_key = EVP_EC_gen("P-384")) == NULL ||
	    (other_key = EVP_EC_gen("P-384")) == NULL)
		return -1;
	root = make_root("Cairn Test Root", root_key, root_key, 1);
	other = make_root("Cairn Other Root", other_key, other_key, 2);
	impostor = make_root("Cairn Test Root", other_key, other_key, 1);
	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", base);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", base);
	write_cert_pem(root_pem, root);
	write_cert_pem(other_pem, other);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(other);
	X509_free(impostor);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(other_key);
	cairn_p11_token_free(tok);
	cairn_p11_free(p11);
	th_token_destroy(&tt);
	if (strstr(base, "cairn-media-test-") != NULL)
		th_run("rm -rf '%s'", base);
	return 0;
}

/* ---- sealing and verifying ----------------------------------------- */

static void
test_seal_verify(void **state)
{
	static const char *names[] = { "notes.txt", "root.crl", "root.crt" };
	const char *d = new_media();
	char want[4096], hex[65];
	struct media *m = NULL;
	CMS_ContentInfo *cms;
	STACK_OF(CMS_SignerInfo) *sis;
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *obj = NULL;
	uint8_t *text, *data, md[32];
	size_t len, tlen, i, k;
	int j;

	(void)state;
	assert_int_equal(media_seal(d, root, root_key), 0);
	/* Exactly the two manifest files were added: no temporary left. */
	assert_int_equal(count_entries(d), 5);
	assert_int_equal(media_verify(d, root, &m), 0);
	assert_int_equal(m->n, 3);

	/* The manifest, rebuilt here from the files alone. */
	k = (size_t)snprintf(want, sizeof(want), "cairn-media v1\n");
	for (i = 0; i < 3; i++) {
		data = get(d, names[i], &len);
		assert_int_equal(EVP_Digest(data, len, md, NULL, EVP_sha256(),
		    NULL), 1);
		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", md[j]);
		k += (size_t)snprintf(want + k, sizeof(want) - k,
		    "%s  %zu  %s\n", hex, len, names[i]);
		assert_string_equal(m->files[i].name, names[i]);
		assert_int_equal(m->files[i].size, len);
		assert_memory_equal(m->files[i].sha256, md, 32);
		free(data);
	}
	text = get(d, MEDIA_MANIFEST, &tlen);
	assert_int_equal(tlen, k);
	assert_memory_equal(text, want, k);
	free(text);
	media_free(m);

	/* Detached, one signer, SHA-384 for the P-384 key, root carried. */
	cms = read_cms(d);
	assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	assert_null(*CMS_get0_content(cms));
	sis = CMS_get0_SignerInfos(cms);
	assert_int_equal(sk_CMS_SignerInfo_num(sis), 1);
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), NULL, NULL,
	    &dig, NULL);
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	assert_int_equal(OBJ_obj2nid(obj), NID_sha384);
	{
		STACK_OF(X509) *certs = CMS_get1_certs(cms);

		assert_int_equal(sk_X509_num(certs), 1);
		assert_int_equal(X509_cmp(sk_X509_value(certs, 0), root), 0);
		sk_X509_pop_free(certs, X509_free);
	}
	CMS_ContentInfo_free(cms);

	/* The peer agrees, and refuses it against another root. */
	assert_int_equal(peer_verify(d, root_pem), 0);
	assert_int_not_equal(peer_verify(d, other_pem), 0);

	/* The pinned root is the only one that verifies. */
	{
		struct media *x = NULL;

		expect(media_verify(d, other, &x), CAIRN_E_MEDIA,
		    "Cairn Test Root");
		assert_null(x);
	}
	media_free(NULL);
}

static void
test_seal_again(void **state)
{
	const char *d = sealed_media();
	const char *e;

	(void)state;
	put_str(d, "later.txt", "added after sealing\n");
	verify_fails(d, "\"later.txt\" is not listed in MANIFEST");
	/* Sealing again after adding a file is normal. */
	assert_int_equal(media_seal(d, root, root_key), 0);
	verify_ok(d, root, 4);
	assert_int_equal(peer_verify(d, root_pem), 0);

	/* Empty media seal and verify too: nothing listed, nothing there. */
	e = new_dir();
	assert_int_equal(media_seal(e, root, root_key), 0);
	verify_ok(e, root, 0);
	put_str(e, "x", "x");
	verify_fails(e, "\"x\" is not listed");
}

static void
test_seal_bad_args(void **state)
{
	struct media *m = (struct media *)&m;

	(void)state;
	expect(media_seal(NULL, root, root_key), CAIRN_E_INVAL, "directory");
	expect(media_seal(base, NULL, root_key), CAIRN_E_INVAL, "signer");
	expect(media_seal(base, root, NULL), CAIRN_E_INVAL, "key");
	expect(media_verify(NULL, root, &m), CAIRN_E_INVAL, "directory");
	assert_null(m);
	expect(media_verify("/nonexistent/cairn-media", root, &m),
	    CAIRN_E_IO, "/nonexistent/cairn-media");
	assert_null(m);
}

static void
test_seal_key_mismatch(void **state)
{
	const char *d = new_media();

	(void)state;
	/* A key that is not the certificate's: refused, nothing written. */
	expect(media_seal(d, root, other_key), CAIRN_E_CRYPTO, "signing");
	assert_false(exists(d, MEDIA_MANIFEST));
	assert_false(exists(d, MEDIA_SIGNATURE));
	assert_int_equal(count_entries(d), 3);
}

static void
test_token_key(void **state)
{
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P384, "media-root", 0 };
	struct cairn_p11_key *k = NULL;
	struct media *m = (struct media *)&m;
	char pem[PATH_MAX + 32];
	EVP_PKEY *pk;
	X509 *x;
	const char *d;

	(void)state;
	assert_int_equal(cairn_p11_key_generate(tok, &kg, &k), 0);
	assert_non_null(pk = cairn_p11_key_get1_pkey(k));
	x = make_root("Cairn Token Root", cairn_p11_key_get0_public(k), pk,
	    3);
	assert_int_equal(X509_verify(x, cairn_p11_key_get0_public(k)), 1);

	d = new_media();
	assert_int_equal(media_seal(d, x, pk), 0);
	verify_ok(d, x, 3);
	snprintf(pem, sizeof(pem), "%s/token-root.pem", base);
	write_cert_pem(pem, x);
	assert_int_equal(peer_verify(d, pem), 0);
	assert_int_not_equal(peer_verify(d, root_pem), 0);
	/* Signed in the token, so not by the software root. */
	expect(media_verify(d, root, &m), CAIRN_E_MEDIA, "Cairn Token Root");
	assert_null(m);

	X509_free(x);
	EVP_PKEY_free(pk);
	cairn_p11_key_free(k);
}

/* ---- changed files --------------------------------------------------- */

static void
test_file_tampered(void **state)
{
	const char *d = sealed_media();
	uint8_t *b;
	size_t len;

	(void)state;
	b = get(d, "root.crl", &len);
	b[len / 2] ^= 0x01;
	put(d, "root.crl", b, len);
	free(b);
	verify_fails(d, "\"root.crl\" changed: SHA-256");
}

static void
test_file_truncated(void **state)
{
	const char *d = sealed_media();
	uint8_t *b;
	size_t len;

	(void)state;
	b = get(d, "root.crt", &len);
	put(d, "root.crt", b, len - 1);
	verify_fails(d, "\"root.crt\" changed:");
	put(d, "root.crt", b, len);
	verify_ok(d, root, 3);
	/* One byte longer: caught as surely. */
	b = realloc(b, len + 1);
	assert_non_null(b);
	b[len] = '\n';
	put(d, "root.crt", b, len + 1);
	verify_fails(d, "bytes listed");
	free(b);
}

static void
test_file_removed(void **state)
{
	const char *d = sealed_media();

	(void)state;
	rm(d, "notes.txt");
	verify_fails(d, "\"notes.txt\" is listed in MANIFEST but missing");
}

static void
test_file_added(void **state)
{
	const char *d = sealed_media();

	(void)state;
	put_str(d, "evil.crt", "not from the ceremony\n");
	verify_fails(d, "\"evil.crt\" is not listed in MANIFEST (an extra "
	    "file)");
}

static void
test_file_renamed(void **state)
{
	const char *d = sealed_media();
	char a[PATH_MAX], b[PATH_MAX];

	(void)state;
	path_of(a, sizeof(a), d, "notes.txt");
	path_of(b, sizeof(b), d, "notes2.txt");
	assert_int_equal(rename(a, b), 0);
	verify_fails(d, "\"notes.txt\" is listed in MANIFEST but missing");
	verify_fails(d, "\"notes2.txt\" is not listed in MANIFEST");
}

static void
test_many_problems(void **state)
{
	const char *d = sealed_media();
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < CAIRN_LIST_IN_ERROR_MAX + 3; i++) {
		snprintf(name, sizeof(name), "extra%02d", i);
		put_str(d, name, "x");
	}
	verify_fails(d, "\"extra00\" is not listed");
	verify_fails(d, "; and 3 more");
}

/* ---- the manifest and its signature ---------------------------------- */

static void
test_manifest_edited(void **state)
{
	const char *d = sealed_media();
	uint8_t *t, c;
	size_t len;

	(void)state;
	t = get(d, MEDIA_MANIFEST, &len);
	/* A digest digit, still lowercase hex: only the signature sees it. */
	c = t[15];
	t[15] = c == 'a' ? 'b' : 'a';
	put(d, MEDIA_MANIFEST, t, len);
	verify_fails(d, "MANIFEST was changed after sealing");
	t[15] = c;
	put(d, MEDIA_MANIFEST, t, len);
	verify_ok(d, root, 3);
	/* A line added for a file added. */
	put_str(d, "zz", "");
	t = realloc(t, len + 200);
	assert_non_null(t);
	len += (size_t)snprintf((char *)t + len, 200, "e3b0c44298fc1c149afbf4"
	    "c8996fb92427ae41e4649b934ca495991b7852b855  0  zz\n");
	put(d, MEDIA_MANIFEST, t, len);
	verify_fails(d, "does not cover this MANIFEST");
	free(t);
}

static void
test_manifest_missing(void **state)
{
	const char *d = sealed_media();
	const char *e;

	(void)state;
	rm(d, MEDIA_MANIFEST);
	verify_fails(d, "\"MANIFEST\" is missing");
	e = sealed_media();
	rm(e, MEDIA_SIGNATURE);
	verify_fails(e, "\"MANIFEST.p7s\" is missing");
}

static void
test_manifest_not_regular(void **state)
{
	const char *d = sealed_media();
	char p[PATH_MAX];
	uint8_t *t;
	size_t len;

	(void)state;
	/* MANIFEST as a link to a copy of itself: refused, not followed. */
	t = get(d, MEDIA_MANIFEST, &len);
	put(base, "manifest-copy", t, len);
	free(t);
	rm(d, MEDIA_MANIFEST);
	path_of(p, sizeof(p), base, "manifest-copy");
	{
		char l[PATH_MAX];

		path_of(l, sizeof(l), d, MEDIA_MANIFEST);
		assert_int_equal(symlink(p, l), 0);
	}
	verify_fails(d, "\"MANIFEST\" is a symbolic link");

	/* A MANIFEST that is a directory cannot be sealed over. */
	d = new_media();
	path_of(p, sizeof(p), d, MEDIA_MANIFEST);
	assert_int_equal(mkdir(p, 0700), 0);
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"MANIFEST\" is a subdirectory");
	assert_false(exists(d, MEDIA_SIGNATURE));
}

static void
test_wrong_root(void **state)
{
	const char *d = sealed_media();
	const char *e = new_media();
	char fr[96], fo[96];
	uint8_t *sig;
	size_t len;

	(void)state;
	/* The same files sealed by another root: the same MANIFEST, its
	 * signature put in place of ours. */
	{
		char p[PATH_MAX];

		path_of(p, sizeof(p), e, "root.crl");
		unlink(p);
		sig = get(d, "root.crl", &len);
		put(e, "root.crl", sig, len);
		free(sig);
	}
	assert_int_equal(media_seal(e, other, other_key), 0);
	sig = get(e, MEDIA_SIGNATURE, &len);
	put(d, MEDIA_SIGNATURE, sig, len);
	free(sig);
	fingerprint(root, fr);
	fingerprint(other, fo);
	verify_fails(d, "is signed by CN=Cairn Other Root");
	verify_fails(d, "not by the pinned root CN=Cairn Test Root");
	verify_fails(d, fr);
	verify_fails(d, fo);
	assert_int_not_equal(peer_verify(d, root_pem), 0);
}

static void
test_impostor(void **state)
{
	const char *d = sealed_media();

	(void)state;
	/* Root's name and serial, another key, the impostor certificate
	 * carried: named as what it is. */
	resign(d, impostor, other_key, EVP_sha384(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP);
	verify_fails(d, "same issuer and serial, another certificate");
	/* Not carried: the identifier matches the pin, the key does not. */
	resign(d, impostor, other_key, EVP_sha384(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOCERTS);
	verify_fails(d, "the signature does not verify with the pinned "
	    "root's key");
	/* The real root without its certificate carried still verifies:
	 * the pin, not the file, provides the key. */
	resign(d, root, root_key, EVP_sha384(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOCERTS);
	verify_ok(d, root, 3);
	/* Another root, not carried: named by its identifier. */
	resign(d, other, other_key, EVP_sha384(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOCERTS);
	verify_fails(d, "a certificate not in MANIFEST.p7s, issued by "
	    "CN=Cairn Other Root");
}

static void
test_signature_flipped(void **state)
{
	const char *d = sealed_media();
	CMS_ContentInfo *cms;
	ASN1_OCTET_STRING *sig;
	unsigned char *p;
	int len;

	(void)state;
	cms = read_cms(d);
	sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(
	    CMS_get0_SignerInfos(cms), 0));
	assert_non_null(sig);
	/* The last byte of ECDSA's s: the DER stays valid, the value not. */
	len = ASN1_STRING_length(sig);
	assert_non_null(p = malloc((size_t)len));
	memcpy(p, ASN1_STRING_get0_data(sig), (size_t)len);
	p[len - 1] ^= 0x01;
	assert_int_equal(ASN1_OCTET_STRING_set(sig, p, len), 1);
	free(p);
	put_cms(d, cms);
	CMS_ContentInfo_free(cms);
	verify_fails(d, "the signature does not verify with the pinned "
	    "root's key");
	assert_int_not_equal(peer_verify(d, root_pem), 0);
}

static void
test_zero_signers(void **state)
{
	const char *d = sealed_media();
	STACK_OF(X509) *certs = sk_X509_new_null();
	CMS_ContentInfo *cms;

	(void)state;
	/* The root's certificate and no SignerInfo: a certificates-only
	 * SignedData, which proves nothing about MANIFEST. */
	assert_non_null(certs);
	assert_true(sk_X509_push(certs, root) > 0);
	assert_non_null(cms = CMS_sign(NULL, NULL, certs, NULL,
	    CMS_DETACHED | CMS_BINARY | CMS_PARTIAL));
	assert_int_equal(sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)), 0);
	put_cms(d, cms);
	verify_fails(d, "MANIFEST.p7s has no signer");
	/* The peer refuses it too. */
	assert_int_not_equal(peer_verify(d, root_pem), 0);
	CMS_ContentInfo_free(cms);
	sk_X509_free(certs);
}

static void
test_two_signers(void **state)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
	const char *d = sealed_media();
	CMS_ContentInfo *cms;
	uint8_t *text;
	size_t len;
	BIO *in;

	(void)state;
	text = get(d, MEDIA_MANIFEST, &len);
	assert_non_null(in = BIO_new_mem_buf(text, (int)len));
	assert_non_null(cms = CMS_sign(NULL, NULL, NULL, NULL,
	    flags | CMS_PARTIAL));
	assert_non_null(CMS_add1_signer(cms, root, root_key, EVP_sha384(),
	    flags));
	assert_non_null(CMS_add1_signer(cms, other, other_key, EVP_sha384(),
	    flags));
	assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
	put_cms(d, cms);
	verify_fails(d, "MANIFEST.p7s has 2 signers");
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	free(text);
}

static void
test_embedded_content(void **state)
{
	const char *d = sealed_media();

	(void)state;
	resign(d, root, root_key, EVP_sha384(), CMS_BINARY | CMS_NOSMIMECAP);
	verify_fails(d, "MANIFEST.p7s embeds its content");
}

static void
test_weak_digest(void **state)
{
	const char *d = sealed_media();

	(void)state;
	resign(d, root, root_key, EVP_sha1(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP);
	verify_fails(d, "digest SHA1 refused");
	/* SHA-256 from the same root is fine. */
	resign(d, root, root_key, EVP_sha256(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP);
	verify_ok(d, root, 3);
	/* Without signed attributes too: the signature covers the
	 * content directly. */
	resign(d, root, root_key, EVP_sha384(),
	    CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR);
	verify_ok(d, root, 3);
	put_str(d, MEDIA_MANIFEST, "cairn-media v1\n");
	verify_fails(d, "does not cover this MANIFEST");
}

static void
test_not_signed_data(void **state)
{
	const char *d = sealed_media();
	CMS_ContentInfo *cms;
	uint8_t *text;
	size_t len;
	BIO *in;

	(void)state;
	text = get(d, MEDIA_MANIFEST, &len);
	assert_non_null(in = BIO_new_mem_buf(text, (int)len));
	assert_non_null(cms = CMS_digest_create(in, EVP_sha256(),
	    CMS_DETACHED | CMS_BINARY));
	put_cms(d, cms);
	verify_fails(d, "not SignedData");
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	free(text);
}

static void
test_signature_garbage(void **state)
{
	const char *d = sealed_media();
	uint8_t *sig;
	size_t len;

	(void)state;
	sig = get(d, MEDIA_SIGNATURE, &len);
	put(d, MEDIA_SIGNATURE, "", 0);
	verify_fails(d, "MANIFEST.p7s is empty");
	put_str(d, MEDIA_SIGNATURE, "-----BEGIN CMS-----\n");
	verify_fails(d, "not a DER CMS structure");
	/* Cut by one byte, and followed by one byte. */
	put(d, MEDIA_SIGNATURE, sig, len - 1);
	verify_fails(d, "not a DER CMS structure");
	sig = realloc(sig, len + 1);
	assert_non_null(sig);
	sig[len] = 0;
	put(d, MEDIA_SIGNATURE, sig, len + 1);
	verify_fails(d, "1 byte of trailing data after the CMS structure");
	put(d, MEDIA_SIGNATURE, sig, len);
	verify_ok(d, root, 3);
	free(sig);

	/* Larger than any manifest or signature: refused unread. */
	sig = calloc(1, (size_t)CAIRN_MEDIA_MANIFEST_MAX + 1);
	assert_non_null(sig);
	put(d, MEDIA_SIGNATURE, sig, (size_t)CAIRN_MEDIA_MANIFEST_MAX + 1);
	verify_fails(d, "\"MANIFEST.p7s\" is 917505 bytes, more than the "
	    "917504 allowed");
	put(d, MEDIA_MANIFEST, sig, (size_t)CAIRN_MEDIA_MANIFEST_MAX + 1);
	verify_fails(d, "\"MANIFEST\" is 917505 bytes");
	free(sig);
}

static void
test_unknown_digest_set(void **state)
{
	/* The DER of the OID of SHA-384; its first use in SignedData is the
	 * digestAlgorithms set, ahead of the SignerInfo's own. */
	static const uint8_t sha384[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x02 };
	const char *d = sealed_media();
	uint8_t *sig;
	size_t len, i;

	(void)state;
	sig = get(d, MEDIA_SIGNATURE, &len);
	for (i = 0; i + sizeof(sha384) <= len; i++)
		if (memcmp(sig + i, sha384, sizeof(sha384)) == 0)
			break;
	assert_true(i + sizeof(sha384) <= len);
	/* An unknown digest in the set: OpenSSL 3.0's CMS_verify() leaked
	 * here (ASan builds of this test catch a return of the leak). */
	sig[i + 4] = 0xee;
	put(d, MEDIA_SIGNATURE, sig, len);
	verify_fails(d, "MANIFEST.p7s: the signature does not cover");
	free(sig);
}

/* ---- what a directory may hold ---------------------------------------- */

static void
test_symlink(void **state)
{
	const char *d = new_media();
	char l[PATH_MAX];
	uint8_t *before, *after;
	size_t blen, alen;

	(void)state;
	path_of(l, sizeof(l), d, "link.crt");
	assert_int_equal(symlink("root.crt", l), 0);
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"link.crt\" is a symbolic link; media hold regular files only");
	assert_false(exists(d, MEDIA_MANIFEST));
	assert_false(exists(d, MEDIA_SIGNATURE));
	assert_int_equal(count_entries(d), 4);

	/* Sealed media: a link added is named, a reseal writes nothing. */
	assert_int_equal(unlink(l), 0);
	assert_int_equal(media_seal(d, root, root_key), 0);
	before = get(d, MEDIA_MANIFEST, &blen);
	assert_int_equal(symlink("root.crt", l), 0);
	verify_fails(d, "\"link.crt\" is a symbolic link, not listed");
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "symbolic link");
	after = get(d, MEDIA_MANIFEST, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);

	/* A listed file replaced by a link to an identical copy. */
	assert_int_equal(unlink(l), 0);
	{
		char copy[PATH_MAX], orig[PATH_MAX];
		uint8_t *b;
		size_t len;

		b = get(d, "notes.txt", &len);
		put(base, "notes-copy", b, len);
		free(b);
		path_of(copy, sizeof(copy), base, "notes-copy");
		path_of(orig, sizeof(orig), d, "notes.txt");
		assert_int_equal(unlink(orig), 0);
		assert_int_equal(symlink(copy, orig), 0);
	}
	verify_fails(d, "\"notes.txt\" is listed in MANIFEST but is now a "
	    "symbolic link");
}

static void
test_subdirectory(void **state)
{
	const char *d = new_media();
	char p[PATH_MAX];

	(void)state;
	path_of(p, sizeof(p), d, "sub");
	assert_int_equal(mkdir(p, 0700), 0);
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"sub\" is a subdirectory");
	assert_false(exists(d, MEDIA_MANIFEST));
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	verify_fails(d, "\"sub\" is a subdirectory, not listed");
}

static void
test_fifo(void **state)
{
	const char *d = new_media();
	char p[PATH_MAX];

	(void)state;
	path_of(p, sizeof(p), d, "pipe");
	assert_int_equal(mkfifo(p, 0600), 0);
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"pipe\" is a FIFO");
	assert_false(exists(d, MEDIA_MANIFEST));
	assert_int_equal(unlink(p), 0);
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	verify_fails(d, "\"pipe\" is a FIFO, not listed");
}

static void
test_bad_names(void **state)
{
	const char *d = new_media();

	(void)state;
	put_str(d, ".hidden", "h");
	put_str(d, "a b", "s");
	put_str(d, "bad\x01name", "c");
	put_str(d, "caf\xc3\xa9", "u");
	/* All four named in one refusal, nothing written. */
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "the name \".hidden\" starts with '.'");
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "the name \"a b\" contains a space");
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "the name \"bad\\x01name\" contains a control character");
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"caf\\xc3\\xa9\"");
	assert_false(exists(d, MEDIA_MANIFEST));
	assert_false(exists(d, MEDIA_SIGNATURE));

	rm(d, ".hidden");
	rm(d, "a b");
	rm(d, "bad\x01name");
	rm(d, "caf\xc3\xa9");
	assert_int_equal(media_seal(d, root, root_key), 0);
	put_str(d, ".hidden", "h");
	verify_fails(d, "\".hidden\" is not listed in MANIFEST (an extra "
	    "entry; its name starts with '.'");
	rm(d, ".hidden");
	put_str(d, "bad\x01name", "c");
	verify_fails(d, "\"bad\\x01name\" is not listed");
}

static void
test_tmp_leftover(void **state)
{
	const char *d = new_media();

	(void)state;
	put_str(d, "root.crl.tmp.AbC123", "half a CRL");
	expect(media_seal(d, root, root_key), CAIRN_E_MEDIA,
	    "\"root.crl.tmp.AbC123\" is a temporary file left by an "
	    "interrupted write");
	assert_false(exists(d, MEDIA_MANIFEST));
	rm(d, "root.crl.tmp.AbC123");
	/* Names that only look alike are ordinary files. */
	put_str(d, "a.tmp.12345", "five");
	put_str(d, "a.tmp.1234567", "seven");
	assert_int_equal(media_seal(d, root, root_key), 0);
	verify_ok(d, root, 5);
	put_str(d, "MANIFEST.tmp.q1W2e3", "interrupted");
	verify_fails(d, "\"MANIFEST.tmp.q1W2e3\" is not listed in MANIFEST "
	    "(an extra file: a temporary file left by an interrupted write)");
}

/* ---- the manifest parser --------------------------------------------- */

static void
test_parse_ok(void **state)
{
	char buf[1024], name[CAIRN_MEDIA_NAME_MAX + 1];
	struct media *m;

	(void)state;
	assert_int_equal(parse_str(HDR, &m), 0);
	assert_int_equal(m->n, 0);
	media_free(m);

	assert_int_equal(parse_str(HDR HEX64 "  0  B\n" HEX64 "  4294967296  "
	    "a~!\n", &m), 0);
	assert_int_equal(m->n, 2);
	assert_string_equal(m->files[0].name, "B");
	assert_int_equal(m->files[0].size, 0);
	assert_int_equal(m->files[0].sha256[0], 0x01);
	assert_int_equal(m->files[0].sha256[31], 0xef);
	assert_string_equal(m->files[1].name, "a~!");
	assert_int_equal(m->files[1].size, CAIRN_MEDIA_FILE_MAX);
	media_free(m);

	/* The longest name allowed, and one more. */
	memset(name, 'n', CAIRN_MEDIA_NAME_MAX);
	name[CAIRN_MEDIA_NAME_MAX] = '\0';
	snprintf(buf, sizeof(buf), HDR HEX64 "  1  %s\n", name);
	assert_int_equal(parse_str(buf, &m), 0);
	assert_int_equal(strlen(m->files[0].name), CAIRN_MEDIA_NAME_MAX);
	media_free(m);
	snprintf(buf, sizeof(buf), HDR HEX64 "  1  %sn\n", name);
	parse_fails(buf, "MANIFEST line 2: name");
	parse_fails(buf, "longer than the 128 bytes allowed");
}

static void
test_parse_header(void **state)
{
	struct media *m;

	(void)state;
	expect(parse("", 0, &m), CAIRN_E_MEDIA, "MANIFEST line 1: the file is "
	    "empty");
	parse_fails("cairn-media v2\n", "MANIFEST line 1: want \"cairn-media "
	    "v1\", have \"cairn-media v2\"");
	parse_fails("cairn-media v1", "MANIFEST line 1: no newline");
	parse_fails(" cairn-media v1\n", "MANIFEST line 1: want");
	parse_fails("cairn-media v1 \n", "MANIFEST line 1: want");
	parse_fails("\n", "MANIFEST line 1: want");
	parse_fails(HEX64 "  1  a\n", "MANIFEST line 1: want");
	parse_fails("cairn-media v1\r\n", "MANIFEST line 1: carriage return");
}

static void
test_parse_hex(void **state)
{
	(void)state;
	parse_fails(HDR "0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef  1  a\n",
	    "MANIFEST line 2: upper-case hex digit 'A' at column 11");
	parse_fails(HDR "g123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef  1  a\n",
	    "MANIFEST line 2: column 1 is not a hex digit");
	/* 63 digits: the first space lands in the digest. */
	parse_fails(HDR "123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef  1  a\n",
	    "MANIFEST line 2: column 64 is not a hex digit");
	parse_fails(HDR "0123\n", "MANIFEST line 2: digest has 4 hex digits");
	parse_fails(HDR HEX64 "0  1  a\n", "MANIFEST line 2: want two spaces "
	    "after the 64-digit digest");
	parse_fails(HDR HEX64 " 1  a\n", "MANIFEST line 2: want two spaces "
	    "after the 64-digit digest");
}

static void
test_parse_size(void **state)
{
	struct media *m;

	(void)state;
	assert_int_equal(parse_str(HDR HEX64 "  0  a\n", &m), 0);
	media_free(m);
	parse_fails(HDR HEX64 "  012  a\n", "MANIFEST line 2: size has a "
	    "leading zero");
	parse_fails(HDR HEX64 "  00  a\n", "size has a leading zero");
	parse_fails(HDR HEX64 "  4294967297  a\n", "MANIFEST line 2: size is "
	    "more than the 4294967296 bytes");
	parse_fails(HDR HEX64 "  18446744073709551616  a\n", "size is more");
	parse_fails(HDR HEX64 "  99999999999999999999999999999999999  a\n",
	    "size is more");
	parse_fails(HDR HEX64 "  -1  a\n", "MANIFEST line 2: want a size");
	parse_fails(HDR HEX64 "  +1  a\n", "want a size");
	parse_fails(HDR HEX64 "   1  a\n", "want a size");
	parse_fails(HDR HEX64 "  1 a\n", "MANIFEST line 2: want two spaces "
	    "after the size");
	parse_fails(HDR HEX64 "  1x  a\n", "want two spaces after the size");
	parse_fails(HDR HEX64 "  1\n", "want two spaces after the size");
	parse_fails(HDR HEX64 "  \n", "want a size");
}

static void
test_parse_names(void **state)
{
	(void)state;
	parse_fails(HDR HEX64 "  1  .hidden\n", "MANIFEST line 2: name "
	    "\".hidden\" starts with '.'");
	parse_fails(HDR HEX64 "  1  a b\n", "name \"a b\" contains a space");
	parse_fails(HDR HEX64 "  1   a\n", "name \" a\" contains a space");
	parse_fails(HDR HEX64 "  1  a/b\n", "name \"a/b\" contains '/'");
	parse_fails(HDR HEX64 "  1  a\tb\n", "name \"a\\x09b\" contains a "
	    "control character");
	parse_fails(HDR HEX64 "  1  a\x7f\n", "control character");
	parse_fails(HDR HEX64 "  1  caf\xc3\xa9\n", "outside printable ASCII");
	parse_fails(HDR HEX64 "  1  \n", "name \"\" is empty");
	parse_fails(HDR HEX64 "  1  MANIFEST\n", "name \"MANIFEST\" is the "
	    "name of the manifest itself");
	parse_fails(HDR HEX64 "  1  MANIFEST.p7s\n", "the manifest itself");
	{
		static const char s[] = HDR HEX64 "  1  a\0b\n";
		struct media *m;

		expect(parse(s, sizeof(s) - 1, &m), CAIRN_E_MEDIA,
		    "\"a\\x00b\" contains a control character");
	}
}

static void
test_parse_order(void **state)
{
	(void)state;
	parse_fails(HDR HEX64 "  1  b\n" HEX64 "  1  a\n",
	    "MANIFEST line 3: names not sorted: \"a\" comes before \"b\"");
	parse_fails(HDR HEX64 "  1  a\n" HEX64 "  2  a\n",
	    "MANIFEST line 3: name \"a\" listed twice");
	parse_fails(HDR HEX64 "  1  a\n" HEX64 "  1  b\n" HEX64 "  1  a\n",
	    "MANIFEST line 4: names not sorted");
	/* Bytewise: upper case before lower case, shorter before longer. */
	{
		struct media *m;

		assert_int_equal(parse_str(HDR HEX64 "  1  Z\n" HEX64 "  1  a\n"
		    HEX64 "  1  a.crt\n", &m), 0);
		media_free(m);
	}
}

static void
test_parse_newlines(void **state)
{
	(void)state;
	parse_fails(HDR HEX64 "  1  a", "MANIFEST line 2: no newline at its "
	    "end");
	parse_fails(HDR HEX64 "  1  a\r\n", "MANIFEST line 2: carriage return");
	parse_fails(HDR HEX64 "  1  a\n\n", "MANIFEST line 3: empty line");
	parse_fails(HDR "\n" HEX64 "  1  a\n", "MANIFEST line 2: empty line");
	parse_fails(HDR HEX64 "  1  a\n" HEX64, "MANIFEST line 3: no newline");
}

static void
test_parse_limits(void **state)
{
	const size_t line = 64 + 2 + 1 + 2 + 5 + 1;
	size_t len, i;
	struct media *m;
	char *buf;

	(void)state;
	/* CAIRN_MEDIA_FILES_MAX files, and one more. */
	len = sizeof(HDR) - 1 + (CAIRN_MEDIA_FILES_MAX + 1) * line;
	assert_non_null(buf = malloc(len + 1));
	memcpy(buf, HDR, sizeof(HDR) - 1);
	for (i = 0; i <= CAIRN_MEDIA_FILES_MAX; i++)
		snprintf(buf + sizeof(HDR) - 1 + i * line, line + 1,
		    HEX64 "  1  f%04zu\n", i);
	assert_int_equal(parse(buf, len - line, &m), 0);
	assert_int_equal(m->n, CAIRN_MEDIA_FILES_MAX);
	media_free(m);
	expect(parse(buf, len, &m), CAIRN_E_MEDIA, "MANIFEST line 4098: "
	    "more than 4096 files");
	free(buf);

	/* Larger than any manifest can be: refused before reading. */
	len = (size_t)CAIRN_MEDIA_MANIFEST_MAX + 1;
	assert_non_null(buf = calloc(1, len));
	expect(parse(buf, len, &m), CAIRN_E_MEDIA, "more than the");
	free(buf);
}

/* ---- CRL numbers ------------------------------------------------------ */

static char state_path[PATH_MAX];

/* Sealed and verified media holding `crl` (DER, or PEM when pem) beside
 * the root certificate and notes; *m is the verified manifest. */
static const char *
crl_media(const uint8_t *der, size_t len, int pem, struct media **m)
{
	const char *d = new_media();

	if (pem) {
		const unsigned char *p = der;
		X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);
		char path[PATH_MAX];
		FILE *f;

		assert_non_null(c);
		rm(d, "root.crl");
		path_of(path, sizeof(path), d, "root-crl.pem");
		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(PEM_write_X509_CRL(f, c), 1);
		fclose(f);
		X509_CRL_free(c);
	} else
		put(d, "root.crl", der, len);
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(media_verify(d, root, m), 0);
	return d;
}

static int
check_crl(X509_CRL *c, int pem, int update)
{
	struct media *m = NULL;
	const char *d;
	uint8_t *der;
	size_t len;
	int r;

	der = crl_der(c, &len);
	d = crl_media(der, len, pem, &m);
	r = media_check_crls(m, d, root, state_path, update);
	media_free(m);
	OPENSSL_free(der);
	return r;
}

static char *
state_text(void)
{
	uint8_t *t;
	size_t len;

	t = get(base, "crl-state", &len);
	return (char *)t;
}

static void
test_crl_rollback(void **state)
{
	X509_CRL *c5 = make_crl(root, root_key, 5, 0);
	X509_CRL *c6 = make_crl(root, root_key, 6, 0);
	X509_CRL *c7 = make_crl(root, root_key, 7, 0);
	X509_CRL *c7b = make_crl(root, root_key, 7, 1234);
	X509_CRL *c9 = make_crl(root, root_key, 9, 0);
	char *before, *after;

	(void)state;
	path_of(state_path, sizeof(state_path), base, "crl-state");
	unlink(state_path);

	/* update=0 on a missing state: checked, nothing created. */
	assert_int_equal(check_crl(c5, 0, 0), 0);
	assert_false(exists(base, "crl-state"));

	assert_int_equal(check_crl(c5, 0, 1), 0);
	before = state_text();
	assert_non_null(strstr(before, "cairn-crl-state v1\n"));
	assert_non_null(strstr(before, " 5 "));
	free(before);

	assert_int_equal(check_crl(c7, 0, 1), 0);
	before = state_text();
	assert_non_null(strstr(before, " 7 "));
	assert_null(strstr(before, " 5 "));

	expect(check_crl(c6, 0, 1), CAIRN_E_ROLLBACK, "root.crl: CRL number 6 "
	    "is lower than 7, seen before: refusing an old CRL");
	expect(check_crl(c5, 1, 1), CAIRN_E_ROLLBACK, "root-crl.pem: CRL "
	    "number 5 is lower than 7");
	expect(check_crl(c7b, 0, 1), CAIRN_E_ROLLBACK, "root.crl: CRL number "
	    "7 was seen before with other contents");
	after = state_text();
	assert_string_equal(after, before);
	free(after);

	/* The same CRL again, in DER or in PEM: fine, nothing changes. */
	assert_int_equal(check_crl(c7, 0, 1), 0);
	assert_int_equal(check_crl(c7, 1, 1), 0);
	after = state_text();
	assert_string_equal(after, before);
	free(after);

	/* update=0: a newer CRL passes, the state stays. */
	assert_int_equal(check_crl(c9, 0, 0), 0);
	after = state_text();
	assert_string_equal(after, before);
	free(after);
	free(before);
	assert_int_equal(check_crl(c9, 0, 1), 0);
	before = state_text();
	assert_non_null(strstr(before, " 9 "));
	free(before);
	expect(check_crl(c7, 0, 0), CAIRN_E_ROLLBACK, "7 is lower than 9");

	X509_CRL_free(c5);
	X509_CRL_free(c6);
	X509_CRL_free(c7);
	X509_CRL_free(c7b);
	X509_CRL_free(c9);
}

static void
test_crl_refused(void **state)
{
	X509_CRL *foreign = make_crl(other, other_key, 50, 0);
	X509_CRL *forged = make_crl(root, other_key, 50, 0);
	X509_CRL *nonum = make_crl(root, root_key, -1, 0);
	X509_CRL *good = make_crl(root, root_key, 3, 0);
	char *before, *after;

	(void)state;
	path_of(state_path, sizeof(state_path), base, "crl-state2");
	unlink(state_path);
	assert_int_equal(check_crl(good, 0, 1), 0);
	before = (char *)get(base, "crl-state2", &(size_t){ 0 });

	expect(check_crl(foreign, 0, 1), CAIRN_E_MEDIA, "root.crl: a CRL "
	    "issued by CN=Cairn Other Root, not by the root "
	    "CN=Cairn Test Root");
	expect(check_crl(forged, 0, 1), CAIRN_E_MEDIA, "root.crl: the CRL's "
	    "signature does not verify with the root's key");
	expect(check_crl(nonum, 0, 1), CAIRN_E_MEDIA, "root.crl: the CRL has "
	    "no CRL number");
	after = (char *)get(base, "crl-state2", &(size_t){ 0 });
	assert_string_equal(after, before);
	free(after);
	free(before);

	X509_CRL_free(foreign);
	X509_CRL_free(forged);
	X509_CRL_free(nonum);
	X509_CRL_free(good);
}

static void
test_crl_two_in_media(void **state)
{
	X509_CRL *a = make_crl(root, root_key, 8, 0);
	X509_CRL *b = make_crl(root, root_key, 8, 99);
	X509_CRL *c = make_crl(root, root_key, 10, 0);
	struct media *m = NULL;
	const char *d;
	uint8_t *der;
	size_t len;

	(void)state;
	path_of(state_path, sizeof(state_path), base, "crl-state3");
	unlink(state_path);
	d = new_media();
	der = crl_der(a, &len);
	put(d, "a.crl", der, len);
	OPENSSL_free(der);
	der = crl_der(b, &len);
	put(d, "b.crl", der, len);
	OPENSSL_free(der);
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(media_verify(d, root, &m), 0);
	expect(media_check_crls(m, d, root, state_path, 1), CAIRN_E_ROLLBACK,
	    "a.crl and b.crl: two different CRLs numbered 8");
	assert_false(exists(base, "crl-state3"));
	media_free(m);

	/* 1, 8 and 10 together: the highest is kept (the older ones in the
	 * same media are no replay: nothing newer was seen before). */
	rm(d, "b.crl");
	der = crl_der(c, &len);
	put(d, "b.crl", der, len);
	OPENSSL_free(der);
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(media_verify(d, root, &m), 0);
	assert_int_equal(media_check_crls(m, d, root, state_path, 1), 0);
	{
		uint8_t *t = get(base, "crl-state3", &len);

		assert_non_null(strstr((char *)t, " 10 "));
		free(t);
	}
	media_free(m);
	X509_CRL_free(a);
	X509_CRL_free(b);
	X509_CRL_free(c);
}

static void
test_crl_state_file(void **state)
{
	X509_CRL *c = make_crl(root, root_key, 4, 0);
	struct media *m = NULL;
	const char *d;
	char link[PATH_MAX];
	uint8_t *t;
	size_t len;

	(void)state;
	/* Media without a CRL: the state is created, empty. */
	path_of(state_path, sizeof(state_path), base, "crl-state4");
	unlink(state_path);
	d = new_dir();
	put_str(d, "notes.txt", "no CRL here\n");
	assert_int_equal(media_seal(d, root, root_key), 0);
	assert_int_equal(media_verify(d, root, &m), 0);
	assert_int_equal(media_check_crls(m, d, root, state_path, 1), 0);
	t = get(base, "crl-state4", &len);
	assert_string_equal((char *)t, "cairn-crl-state v1\n");
	free(t);
	media_free(m);

	/* A damaged state is refused, never taken as empty. */
	put_str(base, "crl-state4", "cairn-crl-state v1\nnonsense\n");
	expect(check_crl(c, 0, 1), CAIRN_E_CONFIG, "crl-state4 line 2");
	put_str(base, "crl-state4", "");
	expect(check_crl(c, 0, 1), CAIRN_E_CONFIG, "is empty");
	put_str(base, "crl-state4", "cairn-crl-state v1\n" HEX64 " 07 "
	    HEX64 "\n");
	expect(check_crl(c, 0, 1), CAIRN_E_CONFIG, "leading zeros");
	put_str(base, "crl-state4", "cairn-crl-state v1\n" HEX64 " 7 "
	    HEX64);
	expect(check_crl(c, 0, 1), CAIRN_E_CONFIG, "no newline");
	put_str(base, "crl-state4", "cairn-crl-state v1\n" HEX64 " 7 "
	    HEX64 "\n" HEX64 " 8 " HEX64 "\n");
	expect(check_crl(c, 0, 1), CAIRN_E_CONFIG, "listed twice");
	/* Another issuer's line is kept as it is. */
	put_str(base, "crl-state4", "cairn-crl-state v1\n" HEX64 " 7 "
	    HEX64 "\n");
	assert_int_equal(check_crl(c, 0, 1), 0);
	t = get(base, "crl-state4", &len);
	assert_non_null(strstr((char *)t, HEX64 " 7 " HEX64 "\n"));
	assert_non_null(strstr((char *)t, " 4 "));
	free(t);

	/* A link is not followed. */
	path_of(link, sizeof(link), base, "crl-state-link");
	assert_int_equal(symlink(state_path, link), 0);
	memcpy(state_path, link, sizeof(link));
	expect(check_crl(c, 0, 1), CAIRN_E_IO, "symbolic links are refused");
	X509_CRL_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_verify),
		cmocka_unit_test(test_seal_again),
		cmocka_unit_test(test_seal_bad_args),
		cmocka_unit_test(test_seal_key_mismatch),
		cmocka_unit_test(test_token_key),
		cmocka_unit_test(test_file_tampered),
		cmocka_unit_test(test_file_truncated),
		cmocka_unit_test(test_file_removed),
		cmocka_unit_test(test_file_added),
		cmocka_unit_test(test_file_renamed),
		cmocka_unit_test(test_many_problems),
		cmocka_unit_test(test_manifest_edited),
		cmocka_unit_test(test_manifest_missing),
		cmocka_unit_test(test_manifest_not_regular),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_impostor),
		cmocka_unit_test(test_signature_flipped),
		cmocka_unit_test(test_zero_signers),
		cmocka_unit_test(test_two_signers),
		cmocka_unit_test(test_embedded_content),
		cmocka_unit_test(test_weak_digest),
		cmocka_unit_test(test_not_signed_data),
		cmocka_unit_test(test_signature_garbage),
		cmocka_unit_test(test_unknown_digest_set),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_subdirectory),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_tmp_leftover),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_header),
		cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_parse_order),
		cmocka_unit_test(test_parse_newlines),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_crl_rollback),
		cmocka_unit_test(test_crl_refused),
		cmocka_unit_test(test_crl_two_in_media),
		cmocka_unit_test(test_crl_state_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
