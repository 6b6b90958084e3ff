/*
 * cer_backup.c: the key-backup and key-restore ceremonies.
 *
 * key-backup: a random 256-bit wrapping key is made, split M-of-N among
 * custodians with Shamir's scheme (lib/shamir.c), and used inside the HSM
 * to wrap the root key (pkcs11/wrap.c: only the security officer can make
 * it a key allowed to wrap, so both PINs are needed).  The wrapped key
 * goes on the media in a backup file; each custodian's share goes to the
 * shares directory, one file each, never onto the media with the backup.
 * The wrapping key itself exists only in memory during the ceremony and is
 * wiped.
 *
 * key-restore: any M shares rebuild the wrapping key (checked against the
 * backup before the HSM is touched, so too few or wrong shares fail
 * clearly), the key is unwrapped into a fresh token, and must sign what
 * the original root certificate verifies.
 *
 * The backup file (JSON):
 *   format "cairn-key-backup-v1", backup (id, hex), created (time),
 *   key_label, key_id (hex), key_type, public_key (base64 DER SPKI),
 *   public_key_sha256, mechanism "CKM_AES_KEY_WRAP_PAD", wrapped
 *   (base64), kek_check (hex of the first 16 bytes of SHA-256 of
 *   "cairn-kek-check-v1" || wrapping key), threshold, shares.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/shamir.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"

#define KEK_LEN 32
#define BACKUP_MAX (1024 * 1024)

/* ---- shared helpers -------------------------------------------------- */

static void
kek_check(const uint8_t kek[KEK_LEN], char out[33])
{
	static const char tag[] = "cairn-kek-check-v1";
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, tag, sizeof(tag) - 1) == 1 &&
	    EVP_DigestUpdate(ctx, kek, KEK_LEN) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
		cairn_hex(out, md, 16, 0);
	EVP_MD_CTX_free(ctx);
}

static char *
b64(const uint8_t *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Strict base64 decode; NULL on anything odd. */
static uint8_t *
unb64(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *out;
	int k;

	if (n == 0 || n % 4 != 0)
		return NULL;
	if (s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0 ||
	    (size_t)k < pad) {
		free(out);
		return NULL;
	}
	*len = (size_t)k - pad;
	return out;
}

static int
unhex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* Custodian names become file names: keep letters, digits, '-', '_'. */
static void
safe_name(const char *in, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 1 < size; i++)
		out[o++] = (in[i] >= 'a' && in[i] <= 'z') ||
		    (in[i] >= 'A' && in[i] <= 'Z') ||
		    (in[i] >= '0' && in[i] <= '9') || in[i] == '-' ? in[i] :
		    '_';
	out[o] = '\0';
}

/* ---- key-backup ------------------------------------------------------- */

struct backup {
	X509 *issuer;
	char *issuer_path;
	char **custodians;
	size_t ncust;
	unsigned threshold;
	char *out_name;
	char *shares_dir;
};

static const char *const bkeys[] = { "issuer", "custodians", "threshold",
	"outputs", NULL };

static void
bk_free(void *priv)
{
	struct backup *b = priv;
	size_t i;

	if (b == NULL)
		return;
	X509_free(b->issuer);
	free(b->issuer_path);
	for (i = 0; i < b->ncust; i++)
		free(b->custodians[i]);
	free(b->custodians);
	free(b->out_name);
	free(b->shares_dir);
	free(b);
}

static void
bk_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct backup *b = calloc(1, sizeof(*b));
	const struct cfg_node *list, *out;
	const char *s;
	size_t i, j, n = 0;
	struct stat st;

	c->priv = b;
	if (b == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	b->issuer = ceremony_read_cert(c, chk, root, "issuer");
	if ((s = cfg_scalar(cfg_get(root, "issuer"))) != NULL)
		b->issuer_path = ceremony_path(c, s);
	if ((list = cfg_want_strlist(chk, root, "custodians", 1, &n)) !=
	    NULL) {
		if (n < 2 || n > SHAMIR_MAX_SHARES)
			cfg_fail(chk, list, "custodians: name 2 to %d "
			    "custodians, one share each", SHAMIR_MAX_SHARES);
		if ((b->custodians = calloc(n + 1, sizeof(char *))) == NULL) {
			cfg_fail(chk, list, "out of memory");
			return;
		}
		for (i = 0; i < n; i++) {
			s = cfg_scalar(cfg_item(list, i));
			if (s == NULL || strlen(s) == 0 ||
			    strlen(s) > SHAMIR_LABEL_MAX) {
				cfg_fail(chk, cfg_item(list, i), "custodians: "
				    "a name has 1 to %d bytes",
				    SHAMIR_LABEL_MAX);
				continue;
			}
			for (j = 0; j < b->ncust; j++)
				if (strcmp(b->custodians[j], s) == 0)
					cfg_fail(chk, cfg_item(list, i),
					    "custodians: %s is named twice: one "
					    "person, one share", s);
			if (c->operator != NULL && strcmp(s, c->operator) == 0)
				cfg_fail(chk, cfg_item(list, i), "custodians: "
				    "the operator (%s) may not hold a share",
				    s);
			b->custodians[b->ncust++] = strdup(s);
		}
	}
	b->threshold = (unsigned)cfg_want_int(chk, root, "threshold", 1, 2,
	    SHAMIR_MAX_SHARES, 0);
	if (b->threshold > 0 && b->ncust > 0 && b->threshold > b->ncust)
		cfg_fail(chk, cfg_get(root, "threshold"), "threshold: %u of "
		    "%zu custodians cannot restore", b->threshold, b->ncust);
	if ((out = cfg_want_map(chk, root, "outputs", 1)) != NULL) {
		static const char *const ok[] = { "backup", "shares", NULL };
		cfg_keys(chk, out, ok);
		if ((s = ceremony_output(chk, out, "backup",
		    "root-key.backup")) != NULL)
			b->out_name = strdup(s);
		if ((s = cfg_want_str(chk, out, "shares", 1, NULL)) != NULL) {
			b->shares_dir = ceremony_path(c, s);
			if (b->shares_dir == NULL ||
			    stat(b->shares_dir, &st) != 0 ||
			    !S_ISDIR(st.st_mode))
				cfg_fail(chk, cfg_get(out, "shares"), "shares: "
				    "%s is not a directory: the custodians' "
				    "share files go there, apart from the "
				    "media", s);
		}
	}
}

static int
write_share(struct runner *r, struct backup *b, const struct share *sh,
    char path[PATH_MAX])
{
	char name[SHAMIR_LABEL_MAX + 32], safe[SHAMIR_LABEL_MAX + 1];
	char *text = NULL;
	int rc;

	safe_name(sh->custodian, safe, sizeof(safe));
	snprintf(name, sizeof(name), "share-%u-of-%u-%s.txt", sh->index,
	    sh->count, safe);
	if ((rc = fileio_join(path, PATH_MAX, b->shares_dir, name)) != 0 ||
	    (rc = share_format(sh, &text)) != 0 ||
	    (rc = fileio_write_atomic(path, text, strlen(text), 0600, 0)) != 0)
		goto out;
	runner_fact(r, "share", "%u of %u for %s: %s", sh->index, sh->count,
	    sh->custodian, path);
out:
	cairn_free_secret(text, 0);
	return rc;
}

static int
bk_run(struct runner *r)
{
	struct backup *b = r->c->priv;
	uint8_t kek[KEK_LEN], *blob = NULL, *spki = NULL;
	uint8_t *shares[SHAMIR_MAX_SHARES] = { NULL };
	unsigned char id[16];
	char idhex[33], check[33], fpr[CAIRN_FPR_STRLEN], when[32];
	char *so_pin = NULL, *wb64 = NULL, *pb64 = NULL, *json = NULL;
	char path[PATH_MAX], keyid[2 * 255 + 1];
	struct cairn_pin_opts po = { r->so_pin_file, "CAIRN_SO_PIN",
		"Security officer PIN: " };
	struct share sh;
	size_t bloblen = 0, kidlen, i;
	const uint8_t *kid;
	json_t *j = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int spkilen, rc;

	memset(&sh, 0, sizeof(sh));
	if ((rc = runner_step(r, "Check the custodians", "each custodian "
	    "named is present: %zu shares, any %u restore the key", b->ncust,
	    b->threshold)) != 0)
		goto out;
	for (i = 0; i < b->ncust; i++)
		runner_fact(r, "custodian", "%s (share %zu)", b->custodians[i],
		    i + 1);

	if ((rc = runner_open_issuer_key(r, b->issuer, b->issuer_path)) !=
	    0)
		goto out;
	if ((rc = cairn_fingerprint_str(r->pub, fpr)) != 0)
		goto out;
	runner_fact(r, "public key SHA-256", "%s", fpr);

	if ((rc = runner_step(r, "Wrap the root key inside the HSM", "the "
	    "security officer types the SO PIN: only the SO can allow a key "
	    "to wrap the root key")) != 0)
		goto out;
	if (RAND_bytes(kek, sizeof(kek)) != 1 || RAND_bytes(id, sizeof(id)) !=
	    1) {
		rc = cairn_error_crypto(CAIRN_E_CRYPTO, "no random bytes");
		goto out;
	}
	cairn_hex(idhex, id, sizeof(id), 0);
	kek_check(kek, check);
	if ((rc = cairn_pin_get(&po, NULL, &so_pin)) != 0 ||
	    (rc = cairn_p11_key_wrap_trusted(r->key, kek, sizeof(kek),
		so_pin, &blob, &bloblen)) != 0)
		goto out;
	runner_fact(r, "wrapped", "%zu bytes, backup id %s", bloblen, idhex);

	if ((rc = runner_step(r, "Split the wrapping key among the custodians",
	    "each custodian receives their own share file and nobody "
	    "else's")) != 0)
		goto out;
	for (i = 0; i < b->ncust; i++)
		if ((shares[i] = OPENSSL_secure_zalloc(KEK_LEN)) == NULL &&
		    (shares[i] = calloc(1, KEK_LEN)) == NULL) {
			rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
			goto out;
		}
	if ((rc = shamir_split(kek, sizeof(kek), b->threshold,
	    (unsigned)b->ncust, shares)) != 0)
		goto out;
	/* The backup file first: shares without a backup are useless. */
	kid = cairn_p11_key_id(r->key, &kidlen);
	if ((spkilen = i2d_PUBKEY(r->pub, &spki)) <= 0 ||
	    (wb64 = b64(blob, bloblen)) == NULL ||
	    (pb64 = b64(spki, (size_t)spkilen)) == NULL) {
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i}",
	    "format", "cairn-key-backup-v1", "backup", idhex, "created", when,
	    "key_label", r->c->key_label, "key_id",
	    cairn_hex(keyid, kid, kidlen, 0), "key_type",
	    cairn_key_type_name(cairn_p11_key_type(r->key)), "public_key",
	    pb64, "public_key_sha256", fpr, "mechanism",
	    "CKM_AES_KEY_WRAP_PAD", "wrapped", wb64, "kek_check", check,
	    "threshold", (int)b->threshold, "shares", (int)b->ncust);
	if (j == NULL || (json = json_dumps(j, JSON_INDENT(2) |
	    JSON_SORT_KEYS)) == NULL) {
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = runner_output(r, b->out_name, json, strlen(json))) != 0)
		goto out;
	snprintf(sh.backup, sizeof(sh.backup), "%s", idhex);
	snprintf(sh.key, sizeof(sh.key), "%s", r->c->key_label);
	snprintf(sh.key_sha256, sizeof(sh.key_sha256), "%s", fpr);
	sh.count = (unsigned)b->ncust;
	sh.threshold = b->threshold;
	sh.len = sizeof(kek);
	for (i = 0; i < b->ncust; i++) {
		sh.index = (unsigned)i + 1;
		snprintf(sh.custodian, sizeof(sh.custodian), "%s",
		    b->custodians[i]);
		memcpy(sh.data, shares[i], KEK_LEN);
		if ((rc = write_share(r, b, &sh, path)) != 0)
			goto out;
	}
	rc = runner_log(r, "step", json_pack("{s:s,s:s,s:i,s:i,s:s}",
	    "action", "key-backup", "backup", idhex, "threshold",
	    (int)b->threshold, "shares", (int)b->ncust, "kek_check", check));
out:
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(&sh, sizeof(sh));
	for (i = 0; i < SHAMIR_MAX_SHARES; i++)
		if (shares[i] != NULL) {
			OPENSSL_cleanse(shares[i], KEK_LEN);
			if (CRYPTO_secure_allocated(shares[i]))
				OPENSSL_secure_free(shares[i]);
			else
				free(shares[i]);
		}
	cairn_free_secret(so_pin, 0);
	free(blob);
	free(wb64);
	free(pb64);
	free(json);
	json_decref(j);
	OPENSSL_free(spki);
	return rc;
}

const struct ceremony_def cer_key_backup = {
	.name = "key-backup",
	.summary = "back up the root key wrapped inside the HSM, the wrapping "
		   "key split M-of-N among custodians",
	.keys = bkeys,
	.key_exists = KEY_EXISTS,
	.validate = bk_validate,
	.run = bk_run,
	.free = bk_free,
};

/* ---- key-restore ------------------------------------------------------ */

struct restore {
	X509 *issuer;
	char *issuer_path, *backup_path;
	uint8_t kek[KEK_LEN];
	int have_kek;
	uint8_t *wrapped;
	size_t wrapped_len;
	uint8_t key_id[255];
	size_t key_id_len;
	EVP_PKEY *pub;
	char backup_id[33];
	char **share_paths;
	size_t nshares;
};

static const char *const rkeys[] = { "issuer", "backup", "shares", NULL };

static void
rs_free(void *priv)
{
	struct restore *rs = priv;
	size_t i;

	if (rs == NULL)
		return;
	OPENSSL_cleanse(rs->kek, sizeof(rs->kek));
	X509_free(rs->issuer);
	free(rs->issuer_path);
	free(rs->backup_path);
	free(rs->wrapped);
	EVP_PKEY_free(rs->pub);
	for (i = 0; i < rs->nshares; i++)
		free(rs->share_paths[i]);
	free(rs->share_paths);
	free(rs);
}

/* Read the backup file named by "backup"; problems go to chk. */
static void
read_backup(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root, struct restore *rs, unsigned *threshold,
    char *check, size_t checksize)
{
	const struct cfg_node *at = cfg_get(root, "backup");
	const char *name = cfg_want_str(chk, root, "backup", 1, NULL);
	const char *fmt, *wrapped, *pub, *id, *kc, *bid;
	const unsigned char *p;
	json_error_t jerr;
	json_int_t th;
	uint8_t *der = NULL;
	size_t derlen = 0, len = 0;
	char *buf = NULL;
	json_t *j = NULL;

	if (name == NULL || (rs->backup_path = ceremony_path(c, name)) == NULL)
		return;
	if (cairn_read_file(rs->backup_path, BACKUP_MAX, &buf, &len) != 0) {
		cfg_fail(chk, at, "backup: %s", cairn_errmsg(CAIRN_E_IO));
		return;
	}
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    json_unpack(j, "{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "format", &fmt,
		"wrapped", &wrapped, "public_key", &pub, "key_id", &id,
		"kek_check", &kc, "backup", &bid, "threshold", &th) != 0 ||
	    strcmp(fmt, "cairn-key-backup-v1") != 0) {
		cfg_fail(chk, at, "backup: %s is not a Cairn key backup (%s)",
		    name, j == NULL ? jerr.text : "fields missing");
		goto out;
	}
	if ((rs->wrapped = unb64(wrapped, &rs->wrapped_len)) == NULL ||
	    (der = unb64(pub, &derlen)) == NULL ||
	    unhex(id, rs->key_id, sizeof(rs->key_id), &rs->key_id_len) != 0 ||
	    strlen(kc) != 32 || strlen(bid) != 32 || th < 2 ||
	    th > SHAMIR_MAX_SHARES) {
		cfg_fail(chk, at, "backup: %s has a malformed field", name);
		goto out;
	}
	p = der;
	if ((rs->pub = d2i_PUBKEY(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		cfg_fail(chk, at, "backup: %s: its public key does not parse",
		    name);
		goto out;
	}
	snprintf(rs->backup_id, sizeof(rs->backup_id), "%s", bid);
	snprintf(check, checksize, "%s", kc);
	*threshold = (unsigned)th;
out:
	json_decref(j);
	free(der);
	free(buf);
}

static void
rs_validate(struct ceremony *c, struct cfg_check *chk,
    const struct cfg_node *root)
{
	struct restore *rs = calloc(1, sizeof(*rs));
	const struct cfg_node *list;
	struct share sh[SHAMIR_MAX_SHARES];
	const uint8_t *parts[SHAMIR_MAX_SHARES];
	uint8_t xs[SHAMIR_MAX_SHARES];
	unsigned threshold = 0;
	char check[33] = "", got[33];
	size_t i, j, n = 0, k = 0, len;
	char *buf;

	c->priv = rs;
	if (rs == NULL) {
		cfg_fail(chk, root, "out of memory");
		return;
	}
	memset(sh, 0, sizeof(sh));
	rs->issuer = ceremony_read_cert(c, chk, root, "issuer");
	if (cfg_scalar(cfg_get(root, "issuer")) != NULL)
		rs->issuer_path = ceremony_path(c,
		    cfg_scalar(cfg_get(root, "issuer")));
	read_backup(c, chk, root, rs, &threshold, check, sizeof(check));
	if (rs->pub != NULL && rs->issuer != NULL &&
	    EVP_PKEY_eq(rs->pub, X509_get0_pubkey(rs->issuer)) != 1)
		cfg_fail(chk, cfg_get(root, "backup"), "backup: it holds the "
		    "key of another certificate than the issuer");
	if ((list = cfg_want_strlist(chk, root, "shares", 1, &n)) == NULL ||
	    threshold == 0)
		goto out;
	if (n > SHAMIR_MAX_SHARES)
		n = SHAMIR_MAX_SHARES;
	rs->share_paths = calloc(n + 1, sizeof(char *));
	for (i = 0; rs->share_paths != NULL && i < n; i++) {
		const struct cfg_node *item = cfg_item(list, i);
		char *path = ceremony_path(c, cfg_scalar(item));

		buf = NULL;
		if (path == NULL ||
		    cairn_read_file(path, 64 * 1024, &buf, &len) != 0) {
			cfg_fail(chk, item, "shares: %s",
			    cairn_errmsg(CAIRN_E_IO));
			free(path);
			continue;
		}
		if (share_parse(buf, len, cfg_scalar(item), &sh[k]) != 0) {
			cfg_fail(chk, item, "shares: %s",
			    cairn_errmsg(CAIRN_E_INVAL));
			cairn_free_secret(buf, len + 1);
			free(path);
			continue;
		}
		cairn_free_secret(buf, len + 1);
		rs->share_paths[rs->nshares++] = path;
		if (strcmp(sh[k].backup, rs->backup_id) != 0) {
			cfg_fail(chk, item, "shares: %s belongs to backup %s, "
			    "not to this backup (%s)", cfg_scalar(item),
			    sh[k].backup, rs->backup_id);
			continue;
		}
		/* Shares of one backup agree on everything but their data. */
		if (sh[k].len != KEK_LEN || sh[k].threshold != threshold ||
		    (k > 0 && (sh[k].count != sh[0].count ||
			strcmp(sh[k].key_sha256, sh[0].key_sha256) != 0))) {
			cfg_fail(chk, item, "shares: %s does not match the "
			    "backup or the other shares (length %zu, any %u of "
			    "%u): it was altered", cfg_scalar(item), sh[k].len,
			    sh[k].threshold, sh[k].count);
			continue;
		}
		for (j = 0; j < k; j++)
			if (sh[j].index == sh[k].index)
				break;
		if (j < k) {
			cfg_fail(chk, item, "shares: %s is share %u again",
			    cfg_scalar(item), sh[k].index);
			continue;
		}
		k++;
	}
	if (k < threshold) {
		cfg_fail(chk, list, "shares: this backup needs %u shares and "
		    "%zu usable one%s given: fewer than %u cannot restore the "
		    "key", threshold, k, k == 1 ? " is" : "s are", threshold);
		goto out;
	}
	for (i = 0; i < k; i++) {
		parts[i] = sh[i].data;
		xs[i] = (uint8_t)sh[i].index;
	}
	if (shamir_combine(parts, xs, (unsigned)k, KEK_LEN, rs->kek) != 0) {
		cfg_fail(chk, list, "shares: %s", cairn_errmsg(CAIRN_E_INVAL));
		goto out;
	}
	kek_check(rs->kek, got);
	if (strcmp(got, check) != 0) {
		cfg_fail(chk, list, "shares: they do not rebuild this backup's "
		    "wrapping key (its check is %s, the shares give %s): a "
		    "share is from another split or was altered", check, got);
		OPENSSL_cleanse(rs->kek, sizeof(rs->kek));
		goto out;
	}
	rs->have_kek = 1;
out:
	OPENSSL_cleanse(sh, sizeof(sh));
}

static int
rs_run(struct runner *r)
{
	struct restore *rs = r->c->priv;
	struct cairn_p11_key *key = NULL;
	char fpr[CAIRN_FPR_STRLEN];
	size_t i;
	int rc;

	if ((rc = runner_step(r, "Check the backup and the shares", "the "
	    "public key fingerprint is the root's")) != 0 ||
	    (rc = runner_input(r, rs->backup_path)) != 0 ||
	    (rc = runner_input(r, rs->issuer_path)) != 0 ||
	    (rc = cairn_fingerprint_str(rs->pub, fpr)) != 0)
		goto out;
	for (i = 0; i < rs->nshares; i++)
		runner_fact(r, "share", "%s", rs->share_paths[i]);
	runner_fact(r, "backup", "%s", rs->backup_id);
	runner_fact(r, "public key SHA-256", "%s", fpr);

	if ((rc = runner_step(r, "Open the token to restore into", "the token "
	    "(label %s) is the new one", r->c->token)) != 0 ||
	    (rc = runner_open_key(r)) != 0)
		goto out;

	if ((rc = runner_step(r, "Unwrap the root key into the token",
	    "the restored key is checked by a signature that the root "
	    "certificate's key verifies")) != 0 ||
	    (rc = cairn_p11_key_unwrap(r->tok, rs->kek, sizeof(rs->kek),
		rs->wrapped, rs->wrapped_len, r->c->key_label, rs->key_id,
		rs->key_id_len, X509_get0_pubkey(rs->issuer), &key)) != 0 ||
	    (rc = runner_adopt_key(r, key)) != 0)
		goto out;
	key = NULL; /* transferred to r */
	r->signer_cert = X509_dup(rs->issuer);
	runner_fact(r, "restored", "key \"%s\" on token \"%s\"",
	    r->c->key_label, cairn_p11_token_label(r->tok));
	rc = runner_log(r, "step", json_pack("{s:s,s:s,s:s}", "action",
	    "key-restore", "backup", rs->backup_id, "public_key_sha256", fpr));
out:
	OPENSSL_cleanse(rs->kek, sizeof(rs->kek));
	cairn_p11_key_free(key);
	return rc;
}

const struct ceremony_def cer_key_restore = {
	.name = "key-restore",
	.summary = "restore the root key from its backup and any M custodian "
		   "shares into a fresh token",
	.keys = rkeys,
	.key_exists = KEY_RESTORED,
	.validate = rs_validate,
	.run = rs_run,
	.free = rs_free,
};
