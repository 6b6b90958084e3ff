/*
 * wrap.c: a key leaves the token only wrapped, and only under a key the
 * security officer trusts; it comes back into another token the same way.
 *
 * PKCS#11 (v2.40 section 4.9) lets a key marked CKA_WRAP_WITH_TRUSTED be
 * wrapped only by a key marked CKA_TRUSTED, which only the SO can set.
 * So backing up takes both PINs, as a key-backup ceremony should: the SO
 * makes the wrapping key (a session object, gone when the session
 * closes), the user wraps the private key under it.  The wrapping key's
 * value comes from the caller: the ceremony splits it among custodians.
 *
 * Logging out ends the login of every session of the application and
 * makes object handles stale: the token's generation is bumped so that
 * pooled sessions and keys look their handles up again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "pkcs11/p11-int.h"

#define WRAP_MECH CKM_AES_KEY_WRAP_PAD

/* Create an AES session key from `kek`; trusted and wrapping, or
 * unwrapping. */
static CK_RV
make_kek(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const uint8_t *kek,
    size_t len, int wrap, CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ wrap ? CKA_WRAP : CKA_UNWRAP, &yes, sizeof(yes) },
		{ CKA_VALUE, (void *)kek, len },
		{ CKA_TRUSTED, &yes, sizeof(yes) },
	};

	return f->C_CreateObject(s, t, wrap ? 11 : 10, h);
}

int
cairn_p11_key_wrap_trusted(struct cairn_p11_key *key, const uint8_t *kek,
    size_t keklen, const char *so_pin, uint8_t **blob, size_t *bloblen)
{
	struct cairn_p11_token *tok = key->tok;
	CK_FUNCTION_LIST *f = tok->f;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE hk = CK_INVALID_HANDLE, hpriv, found[2];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE ft[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, key->id, key->id_len },
	};
	CK_MECHANISM mech = { WRAP_MECH, NULL, 0 };
	CK_ULONG n = 0, len = 0;
	CK_RV rv;
	int r, so = 0;

	*blob = NULL;
	*bloblen = 0;
	if (keklen != 16 && keklen != 24 && keklen != 32)
		return cairn_error(CAIRN_E_INVAL, "a wrapping key has 16, 24 or "
		    "32 bytes");
	pthread_mutex_lock(&tok->mu);
	if (tok->pin == NULL) {
		r = cairn_error(CAIRN_E_P11_NO_PIN, "log in to token \"%s\" "
		    "before wrapping a key", tok->label);
		goto out;
	}
	rv = f->C_OpenSession(tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &s);
	if (rv != CKR_OK) {
		r = cairn_error(CAIRN_E_P11_DEVICE, "C_OpenSession: %s",
		    cairn_ckr_name(rv));
		goto out;
	}
	/* Handles go stale from here on. */
	tok->generation++;
	f->C_Logout(s);
	rv = f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin));
	if (rv != CKR_OK) {
		r = cairn_error(rv == CKR_PIN_INCORRECT ?
			CAIRN_E_P11_PIN_INCORRECT : rv == CKR_PIN_LOCKED ?
			CAIRN_E_P11_PIN_LOCKED : CAIRN_E_P11,
		    "security officer login to token \"%s\": %s%s",
		    tok->label, cairn_ckr_name(rv), rv == CKR_PIN_INCORRECT ?
			" (check the SO PIN)" : "");
		goto relogin;
	}
	so = 1;
	if ((rv = make_kek(f, s, kek, keklen, 1, &hk)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "creating the trusted wrapping "
		    "key: %s", cairn_ckr_name(rv));
		goto relogin;
	}
	f->C_Logout(s);
	so = 0;
	r = 0;
relogin:
	if (so)
		f->C_Logout(s);
	rv = f->C_Login(tok->login_session, CKU_USER, (CK_UTF8CHAR *)tok->pin,
	    tok->pin_len);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		/* The token is left without a login: the next caller re-opens
		 * (token.c heals a token without a login session). */
		f->C_CloseSession(tok->login_session);
		tok->login_session = CK_INVALID_HANDLE;
		if (r == 0)
			r = cairn_error(CAIRN_E_P11_DEVICE, "logging the user "
			    "in again after the SO: %s", cairn_ckr_name(rv));
	}
	if (r != 0)
		goto out;
	/* The private key, looked up again after the logins. */
	if ((rv = f->C_FindObjectsInit(s, ft, 2)) != CKR_OK ||
	    (rv = f->C_FindObjects(s, found, 2, &n)) != CKR_OK) {
		f->C_FindObjectsFinal(s);
		r = cairn_error(CAIRN_E_P11, "finding key \"%s\" again: %s",
		    key->label, cairn_ckr_name(rv));
		goto out;
	}
	f->C_FindObjectsFinal(s);
	if (n != 1) {
		r = cairn_error(CAIRN_E_P11_KEY_NOT_FOUND, "key \"%s\" is not on "
		    "token \"%s\" any more", key->label, tok->label);
		goto out;
	}
	hpriv = found[0];
	if ((rv = f->C_WrapKey(s, &mech, hk, hpriv, NULL, &len)) != CKR_OK ||
	    len == 0 || len > 65536 || (*blob = malloc(len)) == NULL ||
	    (rv = f->C_WrapKey(s, &mech, hk, hpriv, *blob, &len)) != CKR_OK) {
		free(*blob);
		*blob = NULL;
		r = cairn_error(rv == CKR_KEY_UNEXTRACTABLE ||
			rv == CKR_KEY_NOT_WRAPPABLE ? CAIRN_E_P11_KEY_POLICY :
						      CAIRN_E_P11,
		    "wrapping key \"%s\": %s%s", key->label,
		    rv == CKR_OK ? "out of memory" : cairn_ckr_name(rv),
		    rv == CKR_KEY_UNEXTRACTABLE ? " (the key was made without "
		    "backup; a key can only be backed up when it is generated "
		    "for it)" : "");
		goto out;
	}
	*bloblen = len;
	r = 0;
out:
	if (hk != CK_INVALID_HANDLE)
		f->C_DestroyObject(s, hk);
	if (s != CK_INVALID_HANDLE)
		f->C_CloseSession(s);
	pthread_mutex_unlock(&tok->mu);
	return r;
}

/* Create the public key object for `pub` with `label` and `id`. */
static CK_RV
make_public(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, EVP_PKEY *pub,
    const char *label, const uint8_t *id, size_t idlen,
    CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[10];
	CK_ULONG nt = 0;
	unsigned char *params = NULL, *point = NULL, *n = NULL, *e = NULL;
	unsigned char *raw = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	ASN1_OCTET_STRING *os = NULL;
	char group[32];
	size_t rawlen;
	int plen, ptlen, nlen = 0, elen = 0;
	CK_RV rv = CKR_HOST_MEMORY;

#define T(a, p, l)                                                       \
	do {                                                             \
		t[nt].type = (a);                                        \
		t[nt].pValue = (void *)(p);                              \
		t[nt].ulValueLen = (CK_ULONG)(l);                        \
		nt++;                                                    \
	} while (0)
	T(CKA_CLASS, &cls, sizeof(cls));
	T(CKA_KEY_TYPE, &kt, sizeof(kt));
	T(CKA_TOKEN, &yes, sizeof(yes));
	T(CKA_PRIVATE, &no, sizeof(no));
	T(CKA_VERIFY, &yes, sizeof(yes));
	T(CKA_LABEL, label, strlen(label));
	T(CKA_ID, id, idlen);
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		ASN1_OBJECT *o;

		kt = CKK_EC;
		if (EVP_PKEY_get_utf8_string_param(pub, "group", group,
		    sizeof(group), NULL) != 1 ||
		    (o = OBJ_nid2obj(OBJ_sn2nid(group))) == NULL ||
		    (plen = i2d_ASN1_OBJECT(o, &params)) <= 0 ||
		    (rawlen = EVP_PKEY_get1_encoded_public_key(pub, &raw)) == 0 ||
		    (os = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(os, raw, (int)rawlen) != 1 ||
		    (ptlen = i2d_ASN1_OCTET_STRING(os, &point)) <= 0)
			goto out;
		T(CKA_EC_PARAMS, params, plen);
		T(CKA_EC_POINT, point, ptlen);
	} else {
		kt = CKK_RSA;
		if (EVP_PKEY_get_bn_param(pub, "n", &bn) != 1 ||
		    EVP_PKEY_get_bn_param(pub, "e", &be) != 1 ||
		    (nlen = BN_num_bytes(bn)) <= 0 ||
		    (elen = BN_num_bytes(be)) <= 0 ||
		    (n = malloc((size_t)nlen)) == NULL ||
		    (e = malloc((size_t)elen)) == NULL)
			goto out;
		BN_bn2bin(bn, n);
		BN_bn2bin(be, e);
		T(CKA_MODULUS, n, nlen);
		T(CKA_PUBLIC_EXPONENT, e, elen);
	}
#undef T
	rv = f->C_CreateObject(s, t, nt, h);
out:
	OPENSSL_free(params);
	OPENSSL_free(point);
	OPENSSL_free(raw);
	ASN1_OCTET_STRING_free(os);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return rv;
}

/* Sign a random digest with the new key and verify it with `pub`. */
static int
check_pair(struct cairn_p11_key *key, EVP_PKEY *pub)
{
	static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06,
		0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
		0x05, 0x00, 0x04, 0x20 };
	uint8_t dg[32], in[sizeof(sha256_prefix) + 32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *ctx = NULL;
	int ec = key->ck_type == CKK_EC, r;

	if (RAND_bytes(dg, sizeof(dg)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO, "no random bytes");
	memcpy(in, sha256_prefix, sizeof(sha256_prefix));
	memcpy(in + sizeof(sha256_prefix), dg, sizeof(dg));
	if ((r = cairn_p11_key_sign(key, ec ? CKM_ECDSA : CKM_RSA_PKCS,
	    ec ? dg : in, ec ? sizeof(dg) : sizeof(in), sig, &siglen)) != 0)
		return r;
	if (ec) {
		/* The token gives r || s; OpenSSL verifies DER. */
		ECDSA_SIG *es = ECDSA_SIG_new();
		unsigned char *der = NULL;
		int dl;
		BIGNUM *br = BN_bin2bn(sig, (int)(siglen / 2), NULL);
		BIGNUM *bs = BN_bin2bn(sig + siglen / 2, (int)(siglen / 2),
		    NULL);

		if (es == NULL || br == NULL || bs == NULL ||
		    ECDSA_SIG_set0(es, br, bs) != 1) {
			BN_free(br);
			BN_free(bs);
			ECDSA_SIG_free(es);
			return cairn_error(CAIRN_E_NOMEM, "out of memory");
		}
		dl = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (dl <= 0)
			return cairn_error_crypto(CAIRN_E_CRYPTO, "encoding");
		memcpy(sig, der, (size_t)dl);
		siglen = (size_t)dl;
		OPENSSL_free(der);
	}
	r = CAIRN_E_P11_KEY_POLICY;
	if ((ctx = EVP_PKEY_CTX_new(pub, NULL)) != NULL &&
	    EVP_PKEY_verify_init(ctx) == 1 &&
	    (ec || (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1)) &&
	    EVP_PKEY_verify(ctx, sig, siglen, dg, sizeof(dg)) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	if (r != 0)
		return cairn_error_crypto(r, "the unwrapped key does not make "
		    "signatures that the backup's public key verifies: wrong "
		    "backup, or a corrupted one");
	return 0;
}

int
cairn_p11_key_unwrap(struct cairn_p11_token *tok, const uint8_t *kek,
    size_t keklen, const uint8_t *blob, size_t bloblen, const char *label,
    const uint8_t *id, size_t idlen, EVP_PKEY *pub,
    struct cairn_p11_key **out)
{
	CK_FUNCTION_LIST *f = tok->f;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC ? CKK_EC :
								   CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &yes, sizeof(yes) },
		{ CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, (void *)id, idlen },
	};
	CK_MECHANISM mech = { WRAP_MECH, NULL, 0 };
	CK_OBJECT_HANDLE hk = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE,
			 hpub = CK_INVALID_HANDLE;
	struct p11_lease lease;
	struct cairn_p11_key *key = NULL;
	CK_RV rv;
	int r;

	*out = NULL;
	if (keklen != 16 && keklen != 24 && keklen != 32)
		return cairn_error(CAIRN_E_INVAL, "a wrapping key has 16, 24 or "
		    "32 bytes");
	if ((r = p11_session_get(tok, &lease)) != 0)
		return r;
	if ((rv = make_kek(f, lease.h, kek, keklen, 0, &hk)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "creating the unwrapping key: %s",
		    cairn_ckr_name(rv));
		goto out;
	}
	rv = f->C_UnwrapKey(lease.h, &mech, hk, (CK_BYTE *)blob, bloblen, t,
	    sizeof(t) / sizeof(t[0]), &hpriv);
	if (rv != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "unwrapping the key into token "
		    "\"%s\": %s%s", tok->label, cairn_ckr_name(rv),
		    rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_ENCRYPTED_DATA_INVALID ?
			" (the wrapping key rebuilt from the shares does not "
			"open this backup)" : "");
		goto out;
	}
	if ((rv = make_public(f, lease.h, pub, label, id, idlen, &hpub)) !=
	    CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "creating the public key object: "
		    "%s", cairn_ckr_name(rv));
		goto out;
	}
	if ((r = p11_key_load(tok, &lease, hpriv, &key)) != 0 ||
	    (r = check_pair(key, pub)) != 0)
		goto out;
	*out = key; /* transferred */
	key = NULL;
	hpriv = hpub = CK_INVALID_HANDLE;
out:
	if (hk != CK_INVALID_HANDLE)
		f->C_DestroyObject(lease.h, hk);
	if (hpriv != CK_INVALID_HANDLE)
		f->C_DestroyObject(lease.h, hpriv);
	if (hpub != CK_INVALID_HANDLE)
		f->C_DestroyObject(lease.h, hpub);
	cairn_p11_key_free(key);
	p11_session_put(tok, &lease, 0);
	return r;
}
