/*
 * fuzz_tpm.c: libFuzzer target for the TPM structure parser
 * (sub-ca/tpm_parse.c), which reads what an enrolling machine sends in
 * TPM key attestation: TPM2B_PUBLIC / TPMT_PUBLIC (ek_pub, ak_pub,
 * key_pub), TPM2B_ATTEST / TPMS_ATTEST and TPMT_SIGNATURE.
 *
 * Every input goes through every reader, and what they accept must keep
 * the promises of tpm_parse.h: a public area is RSA or ECC with a name of
 * nameAlg plus its digest; its OpenSSL key, when one can be made, is of
 * that type; an attestation's body is the input or the input less its
 * size field; a signature is RSASSA, RSAPSS or ECDSA and its check
 * against a fixed key over the input never crashes.  Outputs are cleared
 * on failure.
 *
 * The seeds in tests/fuzz/corpus/tpm/ are real blobs from swtpm 0.7 and
 * tpm2-tools 5.4 (EKs, AKs and keys, RSA and ECC; TPM2_Certify
 * attestations and their signatures; see tests/unit/test_tpm.c).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/tpm_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ec, *rsa;
	struct tpm_public p;
	struct tpm_attest at;
	TPMT_SIGNATURE sig;
	EVP_PKEY *k = NULL;
	uint8_t *buf;

	if (ec == NULL) {
		ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		if (ec == NULL || rsa == NULL)
			abort();
	}
	/* Exactly `size` bytes: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);

	if (tpm_public_parse("fuzz", buf, size, &p) == 0) {
		if (size > CAIRN_TPM_BLOB_MAX ||
		    (p.pub.type != TPM2_ALG_RSA && p.pub.type != TPM2_ALG_ECC) ||
		    p.name_len < 2 + 32 || p.name_len > TPM_NAME_MAX ||
		    ((p.name[0] << 8) | p.name[1]) != p.pub.nameAlg)
			abort();
		if (tpm_public_pkey(&p.pub, &k) == 0) {
			if (!EVP_PKEY_is_a(k, p.pub.type == TPM2_ALG_RSA ?
			    "RSA" : "EC"))
				abort();
			tpm_public_matches(&p.pub, k);
			EVP_PKEY_free(k);
		} else if (k != NULL) {
			abort();
		}
		tpm_attributes_check("fuzz", &p.pub, TPMA_OBJECT_FIXEDTPM,
		    TPMA_OBJECT_DECRYPT);
	} else if (!all_zero(&p, sizeof(p))) {
		abort();
	}

	if (tpm_attest_parse(buf, size, &at) == 0) {
		if (at.body == NULL || (at.body_len != size &&
		    at.body_len != size - 2) ||
		    memcmp(at.body, buf + (size - at.body_len),
		    at.body_len) != 0)
			abort();
		tpm_certify_check(&at, buf, size > 32 ? 32 : size, buf,
		    size > 34 ? 34 : size);
		tpm_attest_clear(&at);
	} else if (at.body != NULL) {
		abort();
	}

	if (tpm_signature_parse(buf, size, &sig) == 0) {
		if (sig.sigAlg != TPM2_ALG_RSASSA &&
		    sig.sigAlg != TPM2_ALG_RSAPSS &&
		    sig.sigAlg != TPM2_ALG_ECDSA)
			abort();
		if (tpm_signature_verify(sig.sigAlg == TPM2_ALG_ECDSA ? ec :
		    rsa, &sig, buf, size) == 0)
			abort(); /* nobody has these keys' signatures */
	} else if (!all_zero(&sig, sizeof(sig))) {
		abort();
	}
	free(buf);
	ERR_clear_error();
	cairn_error_clear();
	return 0;
}
