/*
 * tpm.h: TPM key attestation, as AD CS has it (docs/tpm-attestation.md).
 *
 * A certificate only for a key that a trusted TPM holds and cannot let
 * go, in two rounds over REST:
 *
 *   POST /api/v1/attest/start   {"template", "csr", "ek_pub", "ek_cert"?,
 *                                "ak_pub", "key_pub"}   (base64 values)
 *     The CA decides the trust level in the EK (tpm_trust below), checks
 *     the AK (restricted signing key, fixedTPM) and the new key
 *     (fixedTPM, fixedParent, sensitiveDataOrigin, sign; the CSR's key),
 *     then runs MakeCredential in software to the EK, binding a fresh
 *     secret to the AK's name, and keeps the exchange (a fresh nonce, the
 *     secret's hash, an expiry) in the store.
 *     201 {"session", "credential_blob", "encrypted_secret", "nonce",
 *          "expires", "trust"}
 *   POST /api/v1/attest/finish  {"session", "secret", "attest",
 *                                "signature"}
 *     Single use, before the expiry.  The secret must be the one
 *     ActivateCredential recovers (only the TPM holding the EK, with the
 *     AK of that name loaded, can); the TPMS_ATTEST must be a
 *     TPM2_Certify of the new key over the nonce, signed by the AK.  Then
 *     issue_submit() with the trust level: the core puts the level's
 *     issuance-policy OID into the certificate.  201 as POST /requests.
 *
 * Every refusal is audited with its reason ("tpm attestation refused").
 */
#ifndef CAIRN_TPM_H
#define CAIRN_TPM_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "sub-ca/web.h"

/*
 * tpm_make_credential: TPM2_MakeCredential in software (TPM 2.0 Part 1
 * 24, Part 3 12.6): protect `secret` (at most the digest size of the EK's
 * nameAlg) for the TPM that holds `ek`, bound to the object `name`.  A
 * random seed is encrypted to the EK (RSA: OAEP with the nameAlg and the
 * label "IDENTITY"; ECC: an ephemeral key on the EK's curve, ECDH and
 * KDFe with the label "IDENTITY"), then the seed keys AES-CFB (KDFa
 * "STORAGE" over the name) and an HMAC (KDFa "INTEGRITY") over the
 * encrypted secret and the name.  `ek` must be a restricted decryption
 * key with an AES CFB symmetric definition, as every EK template is.
 * Returns 0, CAIRN_E_POLICY for an EK that is not one, CAIRN_E_INVAL,
 * CAIRN_E_CRYPTO.
 */
int tpm_make_credential(const TPMT_PUBLIC *ek, const uint8_t *name,
    size_t name_len, const uint8_t *secret, size_t secret_len,
    TPM2B_ID_OBJECT *blob, TPM2B_ENCRYPTED_SECRET *enc);

/* tpm_kdfa / tpm_kdfe: the TPM's key derivation functions (Part 1
 * 11.4.10), `bits` a multiple of 8; labels are given without their
 * terminating NUL, which both add.  For tests. */
int tpm_kdfa(const EVP_MD *md, const uint8_t *key, size_t keylen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, size_t bits, uint8_t *out);
int tpm_kdfe(const EVP_MD *md, const uint8_t *z, size_t zlen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, size_t bits, uint8_t *out);

/* tpm_handle: /api/v1/attest/... (sub-ca/tpm.c). */
void tpm_handle(struct server *srv, const struct http_request *req,
    struct http_response *resp);

#endif /* CAIRN_TPM_H */
