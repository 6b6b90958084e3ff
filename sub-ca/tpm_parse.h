/*
 * tpm_parse.h: TPM 2.0 structures from strangers, read with libtss2-mu.
 *
 * The CA needs no TPM: it reads what an enrolling machine's TPM made
 * (public areas, a TPM2_Certify attestation and its signature), checks
 * them and computes object names exactly as a TPM does.  Every reader
 * here is bounded (CAIRN_TPM_BLOB_MAX), refuses trailing bytes, and says
 * which rule a refused input broke ("TPMT_PUBLIC: 3 bytes after the
 * structure").  This file is all that tests/fuzz/fuzz_tpm.c links with
 * lib/error.c: it holds no state and touches no store.
 *
 * Encodings accepted (what tpm2-tss and tpm2-tools write):
 *   - a public area as TPM2B_PUBLIC (two size bytes, then the TPMT_PUBLIC)
 *     or as the bare TPMT_PUBLIC; a TPM2B's size always equals the rest of
 *     the input, a TPMT_PUBLIC starts with its type (a small number), so
 *     the two never read the same bytes differently;
 *   - an attestation as TPM2B_ATTEST or the bare TPMS_ATTEST (which starts
 *     with TPM_GENERATED_VALUE, 0xff544347, never a valid TPM2B size);
 *   - a signature as TPMT_SIGNATURE.
 */
#ifndef CAIRN_TPM_PARSE_H
#define CAIRN_TPM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

/* A name: nameAlg (2 bytes, big endian) and the digest of the public
 * area with it; at most SHA-512. */
#define TPM_NAME_MAX (2 + 64)

struct tpm_public {
	TPMT_PUBLIC pub;
	uint8_t name[TPM_NAME_MAX];
	size_t name_len;
};

struct tpm_attest {
	TPMS_ATTEST a;
	/* The TPMS_ATTEST bytes as received, the data the signature covers
	 * (a new copy: free with tpm_attest_clear). */
	uint8_t *body;
	size_t body_len;
};

/*
 * tpm_public_parse: a TPM2B_PUBLIC or TPMT_PUBLIC of `len` bytes into
 * *out, with its name computed over the TPMT_PUBLIC bytes as received.
 * Only RSA and ECC keys are accepted, with nameAlg SHA-256, SHA-384 or
 * SHA-512 (SHA-1 names can be made to collide).  Returns 0, or
 * CAIRN_E_INVAL with the reason (empty, over CAIRN_TPM_BLOB_MAX, does not
 * unmarshal, trailing bytes, size field disagreeing with the length,
 * another type, an unsupported nameAlg, RSA modulus not keyBits long, ECC
 * point coordinates longer than the curve's).  `what` names the input in
 * messages ("ak_pub").
 */
int tpm_public_parse(const char *what, const void *buf, size_t len,
    struct tpm_public *out);

/*
 * tpm_attest_parse: a TPM2B_ATTEST or TPMS_ATTEST.  Checks only that it
 * is one (unmarshals completely, nothing after it); the caller checks
 * magic, type and contents (tpm_certify_check).  Returns 0 or
 * CAIRN_E_INVAL / CAIRN_E_NOMEM; out->body is set only on success.
 */
int tpm_attest_parse(const void *buf, size_t len, struct tpm_attest *out);
void tpm_attest_clear(struct tpm_attest *at);

/* tpm_signature_parse: a TPMT_SIGNATURE of RSASSA, RSAPSS or ECDSA with
 * SHA-256/384/512 (others are CAIRN_E_INVAL, naming the algorithm). */
int tpm_signature_parse(const void *buf, size_t len, TPMT_SIGNATURE *out);

/* tpm_public_pkey: the public key of an RSA or ECC (NIST P-256/384/521)
 * public area as an OpenSSL key (*out new).  CAIRN_E_INVAL for another
 * curve or a point not on it. */
int tpm_public_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out);

/*
 * tpm_signature_verify: 0 when `sig` is `key`'s signature over `data`
 * (hashed with the signature's hash algorithm), else CAIRN_E_AUTH "the
 * signature does not verify", or CAIRN_E_INVAL when the signature's kind
 * does not fit the key (ECDSA for an RSA key).
 */
int tpm_signature_verify(EVP_PKEY *key, const TPMT_SIGNATURE *sig,
    const uint8_t *data, size_t len);

/*
 * tpm_attributes_check: 0 when every bit of `set` is set in p's
 * objectAttributes and no bit of `clear` is, else CAIRN_E_POLICY naming
 * `what` and each bit missing or present ("key_pub: fixedTPM is not set:
 * the key could leave the TPM").
 */
int tpm_attributes_check(const char *what, const TPMT_PUBLIC *p,
    TPMA_OBJECT set, TPMA_OBJECT clear);

/*
 * tpm_certify_check: `at` is a TPM2_Certify made by a TPM (magic
 * TPM_GENERATED_VALUE, type TPM_ST_ATTEST_CERTIFY), over `nonce` as
 * extraData, of the object named `name`.  CAIRN_E_POLICY with the rule
 * broken.  The signature is checked apart (tpm_signature_verify).
 */
int tpm_certify_check(const struct tpm_attest *at, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *name, size_t name_len);

/* tpm_alg_md: the OpenSSL digest of a TPM hash algorithm, or NULL.
 * tpm_alg_name: "sha256", "rsa", "ecdsa", ... or "0x%04x". */
const EVP_MD *tpm_alg_md(TPM2_ALG_ID alg);
const char *tpm_alg_name(TPM2_ALG_ID alg, char buf[8]);

/*
 * tpm_public_matches: 0 when public area `p` holds the same key as
 * `pkey` (a CSR's or an EK certificate's), else CAIRN_E_POLICY.
 */
int tpm_public_matches(const TPMT_PUBLIC *p, EVP_PKEY *pkey);

#endif /* CAIRN_TPM_PARSE_H */
