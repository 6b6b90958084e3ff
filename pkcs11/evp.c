/*
 * evp.c: token keys as OpenSSL EVP_PKEYs.
 *
 * OpenSSL 3.0 still runs keys that carry their own RSA_METHOD or
 * EC_KEY_METHOD (it treats them as "foreign" legacy keys and uses the
 * legacy code path), and every API Cairn needs (X509_sign, X509_CRL_sign,
 * OCSP_basic_sign, CMS) accepts them.  That API is deprecated in 3.0 but
 * present through 3.x; the provider interface is the long-term home and
 * would replace only this file.
 *
 * The methods do no cryptography themselves: they call
 * cairn_p11_key_sign() / cairn_p11_key_decrypt(), which take a session
 * from the token's pool, run C_SignInit + C_Sign, and retry once after a
 * lost session or device.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "lib/error.h"
#include "pkcs11/p11-int.h"

/* ---- the one place that calls C_Sign / C_Decrypt --------------------- */

enum p11_op { OP_SIGN, OP_DECRYPT };

static CK_RV
run_op(struct cairn_p11_key *key, struct p11_lease *lease,
    CK_OBJECT_HANDLE h, enum p11_op op, CK_MECHANISM *mech,
    const uint8_t *in, size_t inlen, uint8_t *out, CK_ULONG *outlen)
{
	CK_FUNCTION_LIST *f = key->tok->f;
	CK_RV rv;

	if (op == OP_SIGN) {
		if ((rv = f->C_SignInit(lease->h, mech, h)) != CKR_OK)
			return rv;
		return f->C_Sign(lease->h, (CK_BYTE *)in, inlen, out, outlen);
	}
	if ((rv = f->C_DecryptInit(lease->h, mech, h)) != CKR_OK)
		return rv;
	return f->C_Decrypt(lease->h, (CK_BYTE *)in, inlen, out, outlen);
}

static int
key_op(struct cairn_p11_key *key, enum p11_op op, CK_MECHANISM_TYPE m,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	const char *what = op == OP_SIGN ? "signing" : "decrypting";
	CK_MECHANISM mech = { m, NULL, 0 };
	struct p11_lease lease;
	CK_OBJECT_HANDLE h;
	CK_ULONG len;
	CK_RV rv = CKR_OK, first = CKR_OK;
	int attempt, r;

	for (attempt = 0; attempt < 2; attempt++) {
		len = (CK_ULONG)*outlen;
		if ((r = p11_session_get(key->tok, &lease)) != 0) {
			rv = lease.rv;
			if (!p11_rv_recoverable(rv))
				return r;
			goto retry; /* nothing lent */
		}
		if ((r = p11_key_handle(key, &lease, &h)) != 0) {
			rv = lease.rv;
			p11_session_put(key->tok, &lease, rv != CKR_OK);
			if (!p11_rv_recoverable(rv))
				return r;
			goto retry;
		}
		rv = run_op(key, &lease, h, op, &mech, in, inlen, out, &len);
		if (rv == CKR_OK) {
			p11_session_put(key->tok, &lease, 0);
			*outlen = len;
			return 0;
		}
		/* A failed C_Sign ends the operation (PKCS#11 5.13), so the
		 * session is reusable unless the failure says otherwise. */
		p11_session_put(key->tok, &lease, p11_rv_recoverable(rv));
		if (!p11_rv_recoverable(rv))
			return cairn_error(rv == CKR_MECHANISM_INVALID ?
				CAIRN_E_P11_MECHANISM : CAIRN_E_P11,
			    "%s with key \"%s\" (%s): %s", what, key->label,
			    cairn_ckm_name(m), cairn_ckr_name(rv));
retry:
		if (attempt == 0) {
			first = rv;
			if ((r = p11_token_reopen(key->tok, lease.generation,
			    rv)) != 0)
				return cairn_error_prefix(r,
				    "%s with key \"%s\" failed with %s, and "
				    "re-opening the token failed: ", what,
				    key->label, cairn_ckr_name(rv));
		}
	}
	return cairn_error(CAIRN_E_P11_DEVICE,
	    "%s with key \"%s\" on token \"%s\" failed with %s; the session "
	    "was re-opened, the user logged in again and the key looked up "
	    "again, and the second attempt failed with %s. Check the HSM "
	    "(is it connected and powered? for a network HSM, is its client "
	    "running?) and retry", what, key->label, key->tok->label,
	    cairn_ckr_name(first), cairn_ckr_name(rv));
}

int
cairn_p11_key_sign(struct cairn_p11_key *key, CK_MECHANISM_TYPE mech,
    const uint8_t *in, size_t inlen, uint8_t *sig, size_t *siglen)
{
	if (*siglen < key->sig_len)
		return cairn_error(CAIRN_E_INVAL,
		    "signature buffer of %zu bytes, %zu needed", *siglen,
		    key->sig_len);
	return key_op(key, OP_SIGN, mech, in, inlen, sig, siglen);
}

int
cairn_p11_key_decrypt(struct cairn_p11_key *key, CK_MECHANISM_TYPE mech,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	if (key->ck_type != CKK_RSA)
		return cairn_error(CAIRN_E_INVAL, "key \"%s\" is not RSA",
		    key->label);
	return key_op(key, OP_DECRYPT, mech, in, inlen, out, outlen);
}

/* ---- OpenSSL glue ---------------------------------------------------- */

/* Put this thread's Cairn error detail on OpenSSL's error queue, so that
 * whoever called X509_sign() and drains the queue sees it. */
static void
raise_detail(int r)
{
	ERR_raise_data(ERR_LIB_USER, 1, "%s", cairn_errmsg(r));
}

static pthread_once_t methods_once = PTHREAD_ONCE_INIT;
static RSA_METHOD *rsa_meth;
static EC_KEY_METHOD *ec_meth;
static int rsa_idx = -1, ec_idx = -1;

static void
key_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	cairn_p11_key_free(ptr);
}

/* PKCS#1 v1.5 padding is the token's job (CKM_RSA_PKCS); with no padding
 * (PSS: OpenSSL padded already) the token does raw RSA (CKM_RSA_X_509). */
static int
rsa_private_op(enum p11_op op, int flen, const unsigned char *from,
    unsigned char *to, RSA *rsa, int padding)
{
	struct cairn_p11_key *key = RSA_get_ex_data(rsa, rsa_idx);
	CK_MECHANISM_TYPE m;
	size_t len;
	int r;

	if (key == NULL)
		return -1;
	switch (padding) {
	case RSA_PKCS1_PADDING:
		m = CKM_RSA_PKCS;
		break;
	case RSA_NO_PADDING:
		m = CKM_RSA_X_509;
		break;
	default:
		ERR_raise_data(ERR_LIB_USER, 2,
		    "RSA padding %d is not supported by the token key",
		    padding);
		return -1;
	}
	len = (size_t)RSA_size(rsa);
	r = op == OP_SIGN ?
	    cairn_p11_key_sign(key, m, from, (size_t)flen, to, &len) :
	    cairn_p11_key_decrypt(key, m, from, (size_t)flen, to, &len);
	if (r != 0) {
		raise_detail(r);
		return -1;
	}
	return (int)len;
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
    int padding)
{
	return rsa_private_op(OP_SIGN, flen, from, to, rsa, padding);
}

static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
    int padding)
{
	return rsa_private_op(OP_DECRYPT, flen, from, to, rsa, padding);
}

/* ECDSA: the token returns r || s, each the size of the field. */
static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *rp, EC_KEY *ec)
{
	struct cairn_p11_key *key = EC_KEY_get_ex_data(ec, ec_idx);
	unsigned char raw[2 * 66];
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	size_t len = sizeof(raw);
	int rc;

	if (key == NULL)
		return NULL;
	if ((rc = cairn_p11_key_sign(key, CKM_ECDSA, dgst, (size_t)dlen, raw,
	    &len)) != 0) {
		raise_detail(rc);
		return NULL;
	}
	if (len == 0 || len % 2 != 0 || len != key->sig_len) {
		ERR_raise_data(ERR_LIB_USER, 3,
		    "token returned an ECDSA signature of %zu bytes, %zu "
		    "expected", len, key->sig_len);
		return NULL;
	}
	if ((r = BN_bin2bn(raw, (int)(len / 2), NULL)) == NULL ||
	    (s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL)) == NULL ||
	    (sig = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	return sig; /* transferred; r and s belong to sig */
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *out,
    unsigned int *outlen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	ECDSA_SIG *sig;
	unsigned char *p = out;
	int len;

	*outlen = 0;
	if ((sig = ec_sign_sig(dgst, dlen, kinv, r, ec)) == NULL)
		return 0;
	len = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	if (len <= 0)
		return 0;
	*outlen = (unsigned int)len;
	return 1;
}

static int
ec_sign_setup(EC_KEY *ec, BN_CTX *ctx, BIGNUM **kinv, BIGNUM **r)
{
	/* The nonce lives in the token; there is nothing to precompute. */
	return 1;
}

static void
methods_init(void)
{
	int (*verify)(int, const unsigned char *, int, const unsigned char *,
	    int, EC_KEY *) = NULL;
	int (*verify_sig)(const unsigned char *, int, const ECDSA_SIG *,
	    EC_KEY *) = NULL;

	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, key_ex_free);
	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, key_ex_free);
	if ((rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL())) != NULL) {
		RSA_meth_set1_name(rsa_meth, "Cairn PKCS#11 RSA");
		RSA_meth_set_priv_enc(rsa_meth, rsa_priv_enc);
		RSA_meth_set_priv_dec(rsa_meth, rsa_priv_dec);
	}
	if ((ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) != NULL) {
		EC_KEY_METHOD_get_verify(ec_meth, &verify, &verify_sig);
		EC_KEY_METHOD_set_sign(ec_meth, ec_sign, ec_sign_setup,
		    ec_sign_sig);
		EC_KEY_METHOD_set_verify(ec_meth, verify, verify_sig);
	}
}

EVP_PKEY *
cairn_p11_key_get1_pkey(struct cairn_p11_key *key)
{
	EVP_PKEY *pkey = NULL;
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *pub = NULL;
	size_t publen;
	char group[32];

	pthread_once(&methods_once, methods_init);
	if (rsa_meth == NULL || ec_meth == NULL || rsa_idx < 0 || ec_idx < 0) {
		cairn_error(CAIRN_E_CRYPTO, "cannot set up OpenSSL key methods");
		return NULL;
	}
	if ((pkey = EVP_PKEY_new()) == NULL)
		goto fail;
	if (key->ck_type == CKK_RSA) {
		if (EVP_PKEY_get_bn_param(key->pub, "n", &n) != 1 ||
		    EVP_PKEY_get_bn_param(key->pub, "e", &e) != 1 ||
		    (rsa = RSA_new()) == NULL ||
		    RSA_set_method(rsa, rsa_meth) != 1 ||
		    RSA_set0_key(rsa, n, e, NULL) != 1)
			goto fail;
		n = e = NULL; /* transferred to rsa */
		P11_REF(key);
		if (RSA_set_ex_data(rsa, rsa_idx, key) != 1) {
			cairn_p11_key_free(key);
			goto fail;
		}
		/* The method must be set before assign: OpenSSL decides at
		 * assignment that the key is "foreign". */
		if (EVP_PKEY_assign_RSA(pkey, rsa) != 1)
			goto fail;
		rsa = NULL; /* transferred to pkey */
	} else {
		if (EVP_PKEY_get_utf8_string_param(key->pub, "group", group,
		    sizeof(group), NULL) != 1 ||
		    (publen = EVP_PKEY_get1_encoded_public_key(key->pub,
			&pub)) == 0 ||
		    (ec = EC_KEY_new_by_curve_name(OBJ_sn2nid(group) != NID_undef ?
			OBJ_sn2nid(group) : EC_curve_nist2nid(group))) == NULL ||
		    EC_KEY_set_method(ec, ec_meth) != 1 ||
		    EC_KEY_oct2key(ec, pub, publen, NULL) != 1)
			goto fail;
		P11_REF(key);
		if (EC_KEY_set_ex_data(ec, ec_idx, key) != 1) {
			cairn_p11_key_free(key);
			goto fail;
		}
		if (EVP_PKEY_assign_EC_KEY(pkey, ec) != 1)
			goto fail;
		ec = NULL; /* transferred to pkey */
	}
	OPENSSL_free(pub);
	return pkey;
fail:
	cairn_error_crypto(CAIRN_E_CRYPTO,
	    "cannot wrap key \"%s\" as an OpenSSL key", key->label);
	OPENSSL_free(pub);
	BN_free(n);
	BN_free(e);
	RSA_free(rsa);
	EC_KEY_free(ec);
	EVP_PKEY_free(pkey);
	return NULL;
}
