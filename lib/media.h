/*
 * media.h: signed media, the only way files leave the root laptop.
 *
 * A media directory holds the files of a ceremony (certificates, CRLs,
 * pre-signed OCSP responses, the ceremony log and transcript) and two
 * more:
 *   MANIFEST      text: the line "cairn-media v1", then one line per file,
 *                 "<sha256 lowercase hex>  <size in bytes>  <name>",
 *                 sorted by name (bytewise), each ending in "\n"
 *   MANIFEST.p7s  CMS SignedData (DER) over MANIFEST, detached, signed by
 *                 the root key, carrying the root certificate
 * File names are plain: no '/', no leading '.', only printable ASCII
 * without spaces, at most CAIRN_MEDIA_NAME_MAX bytes; at most
 * CAIRN_MEDIA_FILES_MAX files; no subdirectories, no symlinks.
 *
 * The reader (`cairn-root media verify`, and cairn-sub's import) trusts
 * nothing but the pinned root certificate it is given: the signer must be
 * that certificate (not merely chain to it), every listed file must be
 * present with the listed size and digest, and no other file may be
 * there.  CRLs in the media are also checked against the highest CRL
 * number seen before, so that an old CRL cannot be replayed.
 */
#ifndef CAIRN_MEDIA_H
#define CAIRN_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define MEDIA_MANIFEST "MANIFEST"
#define MEDIA_SIGNATURE "MANIFEST.p7s"

struct media_file {
	char *name;
	uint64_t size;
	uint8_t sha256[32];
};

struct media {
	struct media_file *files;   /* sorted by name */
	size_t n;
};

/*
 * media_seal: write MANIFEST and MANIFEST.p7s for every regular file now
 * in `dir` (replacing an earlier manifest: sealing again after adding a
 * file is normal), signed with `key` (a token key) as `signer`.  The
 * signature is verified before the files are written.  A file name that
 * breaks the rules above, a subdirectory or a symlink is CAIRN_E_MEDIA and
 * nothing is written.
 */
int media_seal(const char *dir, X509 *signer, EVP_PKEY *key);

/*
 * media_manifest_parse: parse MANIFEST text (not NUL-terminated).  Returns
 * 0 and a new struct media, or CAIRN_E_MEDIA with "MANIFEST line N: ..."
 * (bad header, bad hex, bad size, bad name, names not sorted or repeated,
 * missing final newline, too many files).
 */
int media_manifest_parse(const char *buf, size_t len, struct media **out);

/*
 * media_verify: verify `dir` against the pinned root certificate `root`.
 * Returns 0 and the manifest (free with media_free), or CAIRN_E_MEDIA with
 * a message naming the cause: the signature does not verify; signed by
 * another certificate (both subjects and fingerprints named); a file
 * changed (digest or size differs); a listed file missing; a file present
 * but not listed.
 */
int media_verify(const char *dir, X509 *root, struct media **out);

void media_free(struct media *m);

/*
 * media_check_crls: for every file of `m` (in `dir`) that is a CRL (DER or
 * PEM) issued by `root`'s subject, compare its CRL number with the
 * highest one recorded in `state_path` for that issuer (a small text file,
 * created when missing).  Lower: CAIRN_E_ROLLBACK ("root.crl: CRL number
 * 4 is lower than 7, seen before: refusing an old CRL").  Equal with
 * different bytes: CAIRN_E_ROLLBACK too.  A CRL without a CRL number, or
 * not signed by `root`, is CAIRN_E_MEDIA.  When all pass and `update` is
 * 1, the state file is rewritten atomically with the new highest numbers.
 */
int media_check_crls(const struct media *m, const char *dir, X509 *root,
    const char *state_path, int update);

#endif /* CAIRN_MEDIA_H */
