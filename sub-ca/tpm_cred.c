/*
 * tpm_cred.c: TPM2_MakeCredential in software (see tpm.h).
 *
 * What a TPM's ActivateCredential undoes (TPM 2.0 Part 1 24.4 and
 * Annex B.10.4 / C.6.4; Part 3 12.5 and 12.6):
 *   seed            random, digest size of the EK's nameAlg, encrypted
 *                   to the EK ("secret");
 *   symKey          KDFa(nameAlg, seed, "STORAGE", name, "", keyBits);
 *   encIdentity     AES-CFB(symKey, IV 0, TPM2B_DIGEST(credential));
 *   HMACkey         KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits);
 *   outerHMAC       HMAC(nameAlg, HMACkey, encIdentity || name);
 *   credentialBlob  TPM2B_DIGEST(outerHMAC) || encIdentity.
 * The TPM recomputes symKey over the name of the object it was handed as
 * activateHandle: a credential made for another object's name fails its
 * HMAC check, so the secret comes back only from the TPM holding both
 * the EK and an object of exactly that name.
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "lib/error.h"
#include "sub-ca/tpm.h"
#include "sub-ca/tpm_parse.h"

/* Longest derived value: an AES-256 key or a SHA-512 HMAC key. */
#define KDF_OUT_MAX 64
/* A KDF's fixed input: counter, label, context, length. */
#define KDF_IN_MAX (4 + 32 + 2 * (TPM_NAME_MAX + 132) + 4)

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* label || 0x00 || u || v (KDFa) or z || label || 0x00 || u || v (KDFe)
 * after a 4-byte counter slot, into `in`; its length, or 0 when too long. */
static size_t
kdf_input(uint8_t *in, size_t size, const uint8_t *z, size_t zlen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, int with_bits, size_t bits)
{
	size_t llen = strlen(label), n = 4;

	if (4 + zlen + llen + 1 + ulen + vlen + 4 > size)
		return 0;
	if (zlen > 0)
		memcpy(in + n, z, zlen);
	n += zlen;
	memcpy(in + n, label, llen);
	n += llen;
	in[n++] = 0;
	if (ulen > 0)
		memcpy(in + n, u, ulen);
	n += ulen;
	if (vlen > 0)
		memcpy(in + n, v, vlen);
	n += vlen;
	if (with_bits) {
		be32(in + n, (uint32_t)bits);
		n += 4;
	}
	return n;
}

int
tpm_kdfa(const EVP_MD *md, const uint8_t *key, size_t keylen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, size_t bits, uint8_t *out)
{
	uint8_t in[KDF_IN_MAX], h[EVP_MAX_MD_SIZE];
	size_t n, done = 0, want = bits / 8, hlen, take;
	uint32_t i;

	if (bits == 0 || bits % 8 != 0 || want > KDF_OUT_MAX ||
	    (n = kdf_input(in, sizeof(in), NULL, 0, label, u, ulen, v, vlen,
	    1, bits)) == 0)
		return cairn_error(CAIRN_E_INVAL, "KDFa: inputs out of range");
	for (i = 1; done < want; i++) {
		be32(in, i);
		if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(md), NULL,
		    key, keylen, in, n, h, sizeof(h), &hlen) == NULL)
			return cairn_error_crypto(CAIRN_E_CRYPTO, "KDFa: HMAC");
		take = want - done < hlen ? want - done : hlen;
		memcpy(out + done, h, take);
		done += take;
	}
	OPENSSL_cleanse(h, sizeof(h));
	return 0;
}

int
tpm_kdfe(const EVP_MD *md, const uint8_t *z, size_t zlen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, size_t bits, uint8_t *out)
{
	uint8_t in[KDF_IN_MAX], h[EVP_MAX_MD_SIZE];
	size_t n, done = 0, want = bits / 8, take;
	unsigned int hlen;
	uint32_t i;
	int r = 0;

	if (bits == 0 || bits % 8 != 0 || want > KDF_OUT_MAX ||
	    (n = kdf_input(in, sizeof(in), z, zlen, label, u, ulen, v, vlen,
	    0, 0)) == 0)
		return cairn_error(CAIRN_E_INVAL, "KDFe: inputs out of range");
	for (i = 1; done < want; i++) {
		be32(in, i);
		if (EVP_Digest(in, n, h, &hlen, md, NULL) != 1) {
			r = cairn_error_crypto(CAIRN_E_CRYPTO, "KDFe: hash");
			break;
		}
		take = want - done < hlen ? want - done : hlen;
		memcpy(out + done, h, take);
		done += take;
	}
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

/* The seed, encrypted to an RSA EK: OAEP with the EK's nameAlg for both
 * hashes and the label "IDENTITY" with its NUL (Part 1 B.10.3). */
static int
seed_rsa(EVP_PKEY *ek, const EVP_MD *md, const uint8_t *seed, size_t slen,
    TPM2B_ENCRYPTED_SECRET *enc)
{
	static const char label[] = "IDENTITY";
	EVP_PKEY_CTX *ctx = NULL;
	void *l = OPENSSL_memdup(label, sizeof(label));
	size_t outlen = sizeof(enc->secret);
	int r = 0;

	if (l == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, sizeof(label)) != 1) {
		OPENSSL_free(l);
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "setting up RSA-OAEP");
		goto out;
	}
	/* transferred: the label belongs to ctx now */
	if (EVP_PKEY_encrypt(ctx, enc->secret, &outlen, seed, slen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "RSA-OAEP encryption of the seed");
		goto out;
	}
	enc->size = (UINT16)outlen;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* A coordinate of an OpenSSL EC key, `n` bytes, into a TPM2B. */
static int
coord(EVP_PKEY *k, const char *param, size_t n, TPM2B_ECC_PARAMETER *out)
{
	BIGNUM *b = NULL;
	int r = 0;

	if (EVP_PKEY_get_bn_param(k, param, &b) != 1 ||
	    BN_bn2binpad(b, out->buffer, (int)n) != (int)n)
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "reading an ECC point");
	else
		out->size = (UINT16)n;
	BN_free(b);
	return r;
}

/*
 * The seed for an ECC EK (Part 1 C.6.4): an ephemeral key on the EK's
 * curve, Z the x coordinate of ECDH with the EK, seed = KDFe(nameAlg, Z,
 * "IDENTITY", ephemeral x, EK x); the ephemeral public point is the
 * encrypted secret.
 */
static int
seed_ecc(EVP_PKEY *ek, const TPMT_PUBLIC *ekp, const EVP_MD *md,
    uint8_t *seed, size_t slen, TPM2B_ENCRYPTED_SECRET *enc)
{
	char group[64];
	EVP_PKEY *eph = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	TPMS_ECC_POINT pt;
	uint8_t z[66];
	size_t zlen = sizeof(z), off = 0, n;
	int r = 0;

	memset(&pt, 0, sizeof(pt));
	if (EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1 ||
	    (eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group)) == NULL) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "making the ephemeral ECC key");
		goto out;
	}
	n = (size_t)(EVP_PKEY_get_bits(ek) + 7) / 8;
	if ((r = coord(eph, OSSL_PKEY_PARAM_EC_PUB_X, n, &pt.x)) != 0 ||
	    (r = coord(eph, OSSL_PKEY_PARAM_EC_PUB_Y, n, &pt.y)) != 0)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, ek) != 1 ||
	    EVP_PKEY_derive(ctx, z, &zlen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: ECDH "
		    "with the EK");
		goto out;
	}
	if ((r = tpm_kdfe(md, z, zlen, "IDENTITY", pt.x.buffer, pt.x.size,
	    ekp->unique.ecc.x.buffer, ekp->unique.ecc.x.size, slen * 8,
	    seed)) != 0)
		goto out;
	if (Tss2_MU_TPMS_ECC_POINT_Marshal(&pt, enc->secret,
	    sizeof(enc->secret), &off) != TSS2_RC_SUCCESS) {
		r = cairn_error(CAIRN_E_INTERNAL, "MakeCredential: marshalling "
		    "the ephemeral point");
		goto out;
	}
	enc->size = (UINT16)off;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(eph);
	return r;
}

/* The EK's symmetric definition: AES in CFB mode, 128 or 256 bits. */
static int
ek_symmetric(const TPMT_PUBLIC *ek, const EVP_CIPHER **cipher,
    size_t *bits)
{
	const TPMT_SYM_DEF_OBJECT *s = ek->type == TPM2_ALG_RSA ?
	    &ek->parameters.rsaDetail.symmetric :
	    &ek->parameters.eccDetail.symmetric;

	if (s->algorithm != TPM2_ALG_AES || s->mode.aes != TPM2_ALG_CFB ||
	    (s->keyBits.aes != 128 && s->keyBits.aes != 256))
		return cairn_error(CAIRN_E_POLICY, "ek_pub: the EK's "
		    "symmetric definition is not AES-128 or AES-256 in CFB "
		    "mode, as EK templates have");
	*bits = s->keyBits.aes;
	*cipher = *bits == 128 ? EVP_aes_128_cfb128() : EVP_aes_256_cfb128();
	return 0;
}

int
tpm_make_credential(const TPMT_PUBLIC *ek, const uint8_t *name,
    size_t name_len, const uint8_t *secret, size_t secret_len,
    TPM2B_ID_OBJECT *blob, TPM2B_ENCRYPTED_SECRET *enc)
{
	const EVP_MD *md = tpm_alg_md(ek->nameAlg);
	const EVP_CIPHER *cipher = NULL;
	EVP_PKEY *ekk = NULL;
	EVP_CIPHER_CTX *cctx = NULL;
	TPM2B_DIGEST cred;
	uint8_t seed[64], sym[32], hkey[64], iv[16], plain[2 + 64];
	uint8_t mac_in[sizeof(plain) + TPM_NAME_MAX], hmac[EVP_MAX_MD_SIZE];
	size_t slen, bits = 0, plen = 0, hlen = 0, off = 0;
	int outl = 0, r;

	memset(blob, 0, sizeof(*blob));
	memset(enc, 0, sizeof(*enc));
	if (md == NULL)
		return cairn_error(CAIRN_E_POLICY, "ek_pub: nameAlg is not "
		    "sha256, sha384 or sha512");
	if ((ek->objectAttributes & (TPMA_OBJECT_RESTRICTED |
	    TPMA_OBJECT_DECRYPT)) != (TPMA_OBJECT_RESTRICTED |
	    TPMA_OBJECT_DECRYPT) ||
	    (ek->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT))
		return cairn_error(CAIRN_E_POLICY, "ek_pub: not a restricted "
		    "decryption key (an EK is restricted|decrypt, never sign)");
	slen = (size_t)EVP_MD_get_size(md);
	if (secret_len == 0 || secret_len > slen || name_len < 2 ||
	    name_len > TPM_NAME_MAX)
		return cairn_error(CAIRN_E_INVAL, "MakeCredential: a secret "
		    "of 1 to %zu bytes and a name, please", slen);
	if ((r = ek_symmetric(ek, &cipher, &bits)) != 0 ||
	    (r = tpm_public_pkey(ek, &ekk)) != 0)
		return r;
	if (RAND_bytes(seed, (int)slen) != 1) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "random seed");
		goto out;
	}
	if ((r = ek->type == TPM2_ALG_RSA ?
	    seed_rsa(ekk, md, seed, slen, enc) :
	    seed_ecc(ekk, ek, md, seed, slen, enc)) != 0)
		goto out;
	/* encIdentity: the marshalled TPM2B_DIGEST, AES-CFB, IV zero. */
	memset(&cred, 0, sizeof(cred));
	cred.size = (UINT16)secret_len;
	memcpy(cred.buffer, secret, secret_len);
	if (Tss2_MU_TPM2B_DIGEST_Marshal(&cred, plain, sizeof(plain),
	    &plen) != TSS2_RC_SUCCESS) {
		r = cairn_error(CAIRN_E_INTERNAL, "MakeCredential: marshalling "
		    "the credential");
		goto out;
	}
	memset(iv, 0, sizeof(iv));
	if ((r = tpm_kdfa(md, seed, slen, "STORAGE", name, name_len, NULL, 0,
	    bits, sym)) != 0 ||
	    (r = tpm_kdfa(md, seed, slen, "INTEGRITY", NULL, 0, NULL, 0,
	    slen * 8, hkey)) != 0)
		goto out;
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(cctx, cipher, NULL, sym, iv) != 1 ||
	    EVP_EncryptUpdate(cctx, mac_in, &outl, plain, (int)plen) != 1 ||
	    (size_t)outl != plen) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: "
		    "AES-CFB");
		goto out;
	}
	/* outerHMAC over encIdentity || name */
	memcpy(mac_in + plen, name, name_len);
	if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(md), NULL, hkey,
	    slen, mac_in, plen + name_len, hmac, sizeof(hmac), &hlen) ==
	    NULL) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "MakeCredential: HMAC");
		goto out;
	}
	memset(&cred, 0, sizeof(cred));
	cred.size = (UINT16)hlen;
	memcpy(cred.buffer, hmac, hlen);
	if (Tss2_MU_TPM2B_DIGEST_Marshal(&cred, blob->credential,
	    sizeof(blob->credential), &off) != TSS2_RC_SUCCESS ||
	    off + plen > sizeof(blob->credential)) {
		r = cairn_error(CAIRN_E_INTERNAL, "MakeCredential: marshalling "
		    "the blob");
		goto out;
	}
	memcpy(blob->credential + off, mac_in, plen);
	blob->size = (UINT16)(off + plen);
	r = 0;
out:
	if (r != 0) {
		memset(blob, 0, sizeof(*blob));
		memset(enc, 0, sizeof(*enc));
	}
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(sym, sizeof(sym));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(&cred, sizeof(cred));
	EVP_CIPHER_CTX_free(cctx);
	EVP_PKEY_free(ekk);
	return r;
}
