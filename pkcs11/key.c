/*
 * key.c: generate, list and find key pairs on a token; read their public
 * halves back as ordinary OpenSSL keys.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11-int.h"

static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

static const struct key_type_def {
	enum cairn_key_type type;
	const char *name;
	const char *desc;
	CK_KEY_TYPE ck;
	int bits;
	const char *group;      /* OpenSSL group name (EC) */
	const uint8_t *oid;     /* DER of the curve OID (EC) */
	size_t oid_len;
} key_types[] = {
	{ CAIRN_KEY_RSA_3072, "rsa-3072", "RSA 3072", CKK_RSA, 3072, NULL,
	    NULL, 0 },
	{ CAIRN_KEY_RSA_4096, "rsa-4096", "RSA 4096", CKK_RSA, 4096, NULL,
	    NULL, 0 },
	{ CAIRN_KEY_EC_P256, "ec-p256", "EC P-256", CKK_EC, 256, "P-256",
	    oid_p256, sizeof(oid_p256) },
	{ CAIRN_KEY_EC_P384, "ec-p384", "EC P-384", CKK_EC, 384, "P-384",
	    oid_p384, sizeof(oid_p384) },
};
#define NKEYTYPES (sizeof(key_types) / sizeof(key_types[0]))

static const struct key_type_def *
key_type_def(enum cairn_key_type t)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (key_types[i].type == t)
			return &key_types[i];
	return NULL;
}

int
cairn_key_type_parse(const char *s, enum cairn_key_type *out)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (strcmp(s, key_types[i].name) == 0) {
			*out = key_types[i].type;
			return 0;
		}
	return cairn_error(CAIRN_E_INVAL,
	    "unknown key type \"%s\": choose rsa-3072, rsa-4096, ec-p256 or "
	    "ec-p384", s);
}

const char *
cairn_key_type_name(enum cairn_key_type t)
{
	const struct key_type_def *d = key_type_def(t);

	return d != NULL ? d->name : "other";
}

const char *
cairn_key_type_desc(enum cairn_key_type t)
{
	const struct key_type_def *d = key_type_def(t);

	return d != NULL ? d->desc : "other";
}

/* ---- attribute helpers ---------------------------------------------- */

/* Read a variable-length attribute into a new buffer (two-call pattern). */
static CK_RV
get_attr(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	if ((rv = f->C_GetAttributeValue(s, h, &a, 1)) != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > 65536)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = f->C_GetAttributeValue(s, h, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	((uint8_t *)a.pValue)[a.ulValueLen] = 0;
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

static int
get_bool(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (f->C_GetAttributeValue(s, h, &a, 1) != CKR_OK)
		return -1;
	return v ? 1 : 0;
}

static void
read_attrs(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
    struct cairn_p11_key_attrs *a)
{
	a->sensitive = get_bool(f, s, h, CKA_SENSITIVE);
	a->extractable = get_bool(f, s, h, CKA_EXTRACTABLE);
	a->always_sensitive = get_bool(f, s, h, CKA_ALWAYS_SENSITIVE);
	a->never_extractable = get_bool(f, s, h, CKA_NEVER_EXTRACTABLE);
	a->local = get_bool(f, s, h, CKA_LOCAL);
	a->token = get_bool(f, s, h, CKA_TOKEN);
	a->private_ = get_bool(f, s, h, CKA_PRIVATE);
	a->sign = get_bool(f, s, h, CKA_SIGN);
	a->decrypt = get_bool(f, s, h, CKA_DECRYPT);
	a->wrap_with_trusted = get_bool(f, s, h, CKA_WRAP_WITH_TRUSTED);
}

/* The rule for a CA key: its value never leaves the token in plaintext
 * (sensitive), and it leaves at all only wrapped under a key the security
 * officer trusts. */
static int
attrs_ok(const struct cairn_p11_key_attrs *a)
{
	return a->sensitive == 1 &&
	    (a->extractable == 0 || a->wrap_with_trusted == 1);
}

/* Find up to `max` objects matching `tmpl`; *n receives how many. */
static CK_RV
find_objects(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
    CK_ULONG ntmpl, CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *n)
{
	CK_RV rv, rv2;

	*n = 0;
	if ((rv = f->C_FindObjectsInit(s, tmpl, ntmpl)) != CKR_OK)
		return rv;
	rv = f->C_FindObjects(s, found, max, n);
	rv2 = f->C_FindObjectsFinal(s);
	return rv != CKR_OK ? rv : rv2;
}

/* ---- public keys ---------------------------------------------------- */

/* Build a public EVP_PKEY of `type` ("RSA", "EC") from what `bld` holds. */
static int
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int ok;

	*out = NULL;
	ok = (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return ok ? 0 : -1;
}

static int
pkey_from_rsa(const uint8_t *mod, size_t modlen, const uint8_t *exp,
    size_t explen, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = 0;

	*out = NULL;
	if ((n = BN_bin2bn(mod, (int)modlen, NULL)) == NULL ||
	    (e = BN_bin2bn(exp, (int)explen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    pkey_fromdata("RSA", bld, out) != 0)
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot build the RSA public key from the token's modulus "
		    "and exponent");
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

/*
 * CKA_EC_POINT is the DER of an OCTET STRING holding the X9.62 point
 * (PKCS#11 v2.40 section 2.3.3); some modules give the bare point.
 */
static int
pkey_from_ec(const char *group, const uint8_t *point, size_t len,
    EVP_PKEY **out)
{
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *p = point;
	OSSL_PARAM_BLD *bld = NULL;
	const uint8_t *q = point;
	size_t qlen = len;
	int r = 0;

	*out = NULL;
	/* A bare point fails to decode: keep that out of the error queue. */
	ERR_set_mark();
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len)) != NULL &&
	    p == point + len) {
		q = ASN1_STRING_get0_data(os);
		qlen = (size_t)ASN1_STRING_length(os);
	}
	ERR_pop_to_mark();
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q,
		qlen) ||
	    pkey_fromdata("EC", bld, out) != 0)
		r = cairn_error_crypto(CAIRN_E_CRYPTO,
		    "cannot build the %s public key from the token's "
		    "CKA_EC_POINT", group);
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	return r;
}

/* Find the public key object with the same CKA_ID, if any. */
static CK_OBJECT_HANDLE
find_public(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const uint8_t *id,
    size_t idlen)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, idlen },
	};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;

	if (find_objects(f, s, t, 2, h, 2, &n) != CKR_OK || n != 1)
		return CK_INVALID_HANDLE;
	return h[0];
}

/*
 * Build a key object for the private key `hpriv`: label, id, type, and
 * the public key read from the public object (or, for RSA, the private
 * object's modulus).
 */
int
p11_key_load(struct cairn_p11_token *tok, struct p11_lease *lease,
    CK_OBJECT_HANDLE hpriv, struct cairn_p11_key **out)
{
	CK_FUNCTION_LIST *f = tok->f;
	struct cairn_p11_key *key = NULL;
	uint8_t *v = NULL, *mod = NULL, *exp = NULL, *params = NULL,
		*point = NULL;
	size_t vlen, modlen, explen, plen, ptlen, i;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	CK_OBJECT_HANDLE hpub;
	CK_RV rv;
	int r;

	*out = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	key->refs = 1;
	pthread_mutex_init(&key->mu, NULL);
	key->handle = hpriv;
	key->generation = lease->generation;
	if ((rv = f->C_GetAttributeValue(lease->h, hpriv, &a, 1)) != CKR_OK) {
		lease->rv = rv;
		r = cairn_error(CAIRN_E_P11, "reading CKA_KEY_TYPE: %s",
		    cairn_ckr_name(rv));
		goto fail;
	}
	key->ck_type = kt;
	if ((rv = get_attr(f, lease->h, hpriv, CKA_ID, &v, &vlen)) == CKR_OK &&
	    vlen <= sizeof(key->id)) {
		memcpy(key->id, v, vlen);
		key->id_len = vlen;
	}
	free(v);
	v = NULL;
	if (get_attr(f, lease->h, hpriv, CKA_LABEL, &v, &vlen) == CKR_OK) {
		if (vlen > CAIRN_P11_OBJLABEL_MAX)
			vlen = CAIRN_P11_OBJLABEL_MAX;
		memcpy(key->label, v, vlen);
		key->label[vlen] = '\0';
	}
	free(v);
	v = NULL;
	hpub = find_public(f, lease->h, key->id, key->id_len);

	if (kt == CKK_RSA) {
		CK_OBJECT_HANDLE src = hpub != CK_INVALID_HANDLE ? hpub : hpriv;

		if ((rv = get_attr(f, lease->h, src, CKA_MODULUS, &mod,
		    &modlen)) != CKR_OK ||
		    (rv = get_attr(f, lease->h, src, CKA_PUBLIC_EXPONENT, &exp,
		    &explen)) != CKR_OK) {
			r = cairn_error(CAIRN_E_P11,
			    "key \"%s\": cannot read the RSA modulus and "
			    "exponent: %s", key->label, cairn_ckr_name(rv));
			goto fail;
		}
		if ((r = pkey_from_rsa(mod, modlen, exp, explen, &key->pub)) !=
		    0)
			goto fail;
		key->bits = EVP_PKEY_get_bits(key->pub);
		key->sig_len = (size_t)EVP_PKEY_get_size(key->pub);
		key->type = key->bits == 3072 ? CAIRN_KEY_RSA_3072 :
		    key->bits == 4096	      ? CAIRN_KEY_RSA_4096 :
						0;
	} else if (kt == CKK_EC) {
		const struct key_type_def *d = NULL;

		if ((rv = get_attr(f, lease->h, hpriv, CKA_EC_PARAMS, &params,
		    &plen)) != CKR_OK) {
			r = cairn_error(CAIRN_E_P11,
			    "key \"%s\": cannot read CKA_EC_PARAMS: %s",
			    key->label, cairn_ckr_name(rv));
			goto fail;
		}
		for (i = 0; i < NKEYTYPES; i++)
			if (key_types[i].oid_len == plen &&
			    memcmp(key_types[i].oid, params, plen) == 0)
				d = &key_types[i];
		if (d == NULL) {
			r = cairn_error(CAIRN_E_P11_KEY_POLICY,
			    "key \"%s\" is on a curve Cairn does not use "
			    "(Cairn signs with P-256 and P-384)", key->label);
			goto fail;
		}
		if (hpub == CK_INVALID_HANDLE) {
			r = cairn_error(CAIRN_E_P11_KEY_NOT_FOUND,
			    "key \"%s\" has no public key object with the same "
			    "CKA_ID on the token; Cairn needs it to read the "
			    "EC public key", key->label);
			goto fail;
		}
		if ((rv = get_attr(f, lease->h, hpub, CKA_EC_POINT, &point,
		    &ptlen)) != CKR_OK) {
			r = cairn_error(CAIRN_E_P11,
			    "key \"%s\": cannot read CKA_EC_POINT: %s",
			    key->label, cairn_ckr_name(rv));
			goto fail;
		}
		if ((r = pkey_from_ec(d->group, point, ptlen, &key->pub)) != 0)
			goto fail;
		key->type = d->type;
		key->bits = d->bits;
		key->sig_len = 2 * (size_t)((d->bits + 7) / 8);
	} else {
		r = cairn_error(CAIRN_E_P11_KEY_POLICY,
		    "key \"%s\" has CKA_KEY_TYPE 0x%lx; Cairn signs with RSA "
		    "and EC keys", key->label, (unsigned long)kt);
		goto fail;
	}
	p11_token_ref(tok);
	key->tok = tok;
	*out = key; /* transferred */
	key = NULL;
	r = 0;
fail:
	free(mod);
	free(exp);
	free(params);
	free(point);
	if (key != NULL) {
		EVP_PKEY_free(key->pub);
		pthread_mutex_destroy(&key->mu);
		free(key);
	}
	return r;
}

void
cairn_p11_key_free(struct cairn_p11_key *key)
{
	if (key == NULL || P11_UNREF(key) != 0)
		return;
	EVP_PKEY_free(key->pub);
	pthread_mutex_destroy(&key->mu);
	cairn_p11_token_free(key->tok);
	free(key);
}

const char *
cairn_p11_key_label(const struct cairn_p11_key *key)
{
	return key->label;
}

struct cairn_p11_token *
cairn_p11_key_get0_token(const struct cairn_p11_key *key)
{
	return key->tok;
}

enum cairn_key_type
cairn_p11_key_type(const struct cairn_p11_key *key)
{
	return key->type;
}

EVP_PKEY *
cairn_p11_key_get0_public(const struct cairn_p11_key *key)
{
	return key->pub;
}

struct cairn_p11_token *
cairn_p11_key_token(const struct cairn_p11_key *key)
{
	return key->tok;
}

static char *
key_uri(const char *token, const char *label, const uint8_t *id,
    size_t idlen)
{
	struct cairn_p11_uri u;

	memset(&u, 0, sizeof(u));
	u.token = (char *)token;
	u.object = (char *)label;
	u.has_id = 1;
	u.id = (uint8_t *)id;
	u.id_len = idlen;
	u.type = CAIRN_P11_TYPE_PRIVATE;
	return cairn_p11_uri_format(&u);
}

const uint8_t *
cairn_p11_key_id(const struct cairn_p11_key *key, size_t *len)
{
	*len = key->id_len;
	return key->id;
}

char *
cairn_p11_key_uri(const struct cairn_p11_key *key)
{
	return key_uri(key->tok->label, key->label, key->id, key->id_len);
}

/*
 * Look the private key's handle up again when the token was re-opened
 * since the handle was found.
 */
int
p11_key_handle(struct cairn_p11_key *key, struct p11_lease *lease,
    CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &key->ck_type, sizeof(key->ck_type) },
		{ CKA_ID, key->id, key->id_len },
	};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0;
	CK_RV rv;

	pthread_mutex_lock(&key->mu);
	if (key->generation == lease->generation) {
		*h = key->handle;
		pthread_mutex_unlock(&key->mu);
		return 0;
	}
	rv = find_objects(key->tok->f, lease->h, t, 3, found, 2, &n);
	if (rv == CKR_OK && n == 1) {
		key->handle = found[0];
		key->generation = lease->generation;
		*h = found[0];
		pthread_mutex_unlock(&key->mu);
		return 0;
	}
	pthread_mutex_unlock(&key->mu);
	lease->rv = rv;
	if (rv != CKR_OK)
		return cairn_error(p11_rv_recoverable(rv) ? CAIRN_E_P11_DEVICE :
							    CAIRN_E_P11,
		    "looking key \"%s\" up again: %s", key->label,
		    cairn_ckr_name(rv));
	return cairn_error(CAIRN_E_P11_KEY_NOT_FOUND,
	    "key \"%s\" is no longer on token \"%s\" (%lu objects with its "
	    "CKA_ID)", key->label, key->tok->label, (unsigned long)n);
}

int
cairn_p11_key_get_attrs(struct cairn_p11_key *key,
    struct cairn_p11_key_attrs *out)
{
	struct p11_lease lease;
	CK_OBJECT_HANDLE h;
	int r;

	memset(out, 0xff, sizeof(*out)); /* all -1: unknown */
	if ((r = p11_session_get(key->tok, &lease)) != 0)
		return r;
	if ((r = p11_key_handle(key, &lease, &h)) == 0)
		read_attrs(key->tok->f, lease.h, h, out);
	p11_session_put(key->tok, &lease, 0);
	return r;
}

/* ---- generation ----------------------------------------------------- */

/* 0 when the label is free: no private or public key carries it. */
static int
label_free(struct cairn_p11_token *tok, CK_SESSION_HANDLE s,
    const char *label)
{
	CK_ATTRIBUTE t[] = { { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE h[1];
	CK_ULONG n = 0;
	CK_RV rv;

	if ((rv = find_objects(tok->f, s, t, 1, h, 1, &n)) != CKR_OK)
		return cairn_error(CAIRN_E_P11, "searching for label \"%s\": %s",
		    label, cairn_ckr_name(rv));
	if (n > 0)
		return cairn_error(CAIRN_E_P11_KEY_EXISTS,
		    "token \"%s\" already holds an object labelled \"%s\"; "
		    "Cairn finds keys by label, so choose another label",
		    tok->label, label);
	return 0;
}

static int
check_mechanism(struct cairn_p11_token *tok, CK_MECHANISM_TYPE m, int bits,
    const char *what)
{
	CK_MECHANISM_INFO mi;
	CK_RV rv;

	rv = tok->f->C_GetMechanismInfo(tok->slot, m, &mi);
	if (rv == CKR_MECHANISM_INVALID)
		return cairn_error(CAIRN_E_P11_MECHANISM,
		    "token \"%s\" does not offer %s, needed for %s",
		    tok->label, cairn_ckm_name(m), what);
	if (rv != CKR_OK)
		return cairn_error(CAIRN_E_P11, "C_GetMechanismInfo(%s): %s",
		    cairn_ckm_name(m), cairn_ckr_name(rv));
	if (!(mi.flags & CKF_GENERATE_KEY_PAIR))
		return cairn_error(CAIRN_E_P11_MECHANISM,
		    "token \"%s\" cannot generate key pairs with %s",
		    tok->label, cairn_ckm_name(m));
	/* Sizes are bits for RSA and EC on most modules; some report EC in
	 * bytes, so only RSA is checked. */
	if (m == CKM_RSA_PKCS_KEY_PAIR_GEN && mi.ulMaxKeySize != 0 &&
	    ((CK_ULONG)bits < mi.ulMinKeySize ||
		(CK_ULONG)bits > mi.ulMaxKeySize))
		return cairn_error(CAIRN_E_P11_MECHANISM,
		    "token \"%s\" makes RSA keys of %lu to %lu bits, not %d",
		    tok->label, (unsigned long)mi.ulMinKeySize,
		    (unsigned long)mi.ulMaxKeySize, bits);
	return 0;
}

int
cairn_p11_key_generate(struct cairn_p11_token *tok,
    const struct cairn_p11_keygen *kg, struct cairn_p11_key **out)
{
	const struct key_type_def *d = key_type_def(kg->type);
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL dec = kg->allow_decrypt ? CK_TRUE : CK_FALSE;
	CK_OBJECT_CLASS pubcls = CKO_PUBLIC_KEY, privcls = CKO_PRIVATE_KEY;
	CK_ULONG bits;
	CK_BYTE f4[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	struct cairn_p11_key_attrs at;
	struct p11_lease lease;
	uint8_t id[CAIRN_P11_NEW_ID_LEN];
	size_t labellen;
	CK_ATTRIBUTE pubt[8], privt[13];
	CK_ULONG npub = 0, npriv = 0;
	CK_RV rv;
	int r;

	*out = NULL;
	if (d == NULL)
		return cairn_error(CAIRN_E_INVAL, "unknown key type %d",
		    (int)kg->type);
	if (kg->label == NULL || (labellen = strlen(kg->label)) == 0 ||
	    labellen > CAIRN_P11_OBJLABEL_MAX)
		return cairn_error(CAIRN_E_INVAL,
		    "a key label has 1 to %d bytes", CAIRN_P11_OBJLABEL_MAX);
	if (kg->allow_decrypt && d->ck != CKK_RSA)
		return cairn_error(CAIRN_E_INVAL,
		    "only RSA keys may also decrypt");
	if (cairn_p11_token_needs_login(tok) && !tok->logged_in)
		return cairn_error(CAIRN_E_P11_NO_PIN,
		    "log in to token \"%s\" before generating a key",
		    tok->label);
	mech.mechanism = d->ck == CKK_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN :
					    CKM_EC_KEY_PAIR_GEN;
	if ((r = check_mechanism(tok, mech.mechanism, d->bits, d->desc)) != 0)
		return r;
	if (RAND_bytes(id, sizeof(id)) != 1)
		return cairn_error_crypto(CAIRN_E_CRYPTO,
		    "no random bytes for the key ID");
	bits = (CK_ULONG)d->bits;

#define ADD(t, n, a_type, a_ptr, a_len)                                   \
	do {                                                             \
		t[n].type = (a_type);                                    \
		t[n].pValue = (void *)(a_ptr);                           \
		t[n].ulValueLen = (a_len);                               \
		n++;                                                     \
	} while (0)
	ADD(pubt, npub, CKA_CLASS, &pubcls, sizeof(pubcls));
	ADD(pubt, npub, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pubt, npub, CKA_PRIVATE, &no, sizeof(no));
	ADD(pubt, npub, CKA_LABEL, kg->label, labellen);
	ADD(pubt, npub, CKA_ID, id, sizeof(id));
	ADD(pubt, npub, CKA_VERIFY, &yes, sizeof(yes));
	if (d->ck == CKK_RSA) {
		ADD(pubt, npub, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ADD(pubt, npub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
	} else {
		ADD(pubt, npub, CKA_EC_PARAMS, d->oid, d->oid_len);
	}
	ADD(privt, npriv, CKA_CLASS, &privcls, sizeof(privcls));
	ADD(privt, npriv, CKA_TOKEN, &yes, sizeof(yes));
	ADD(privt, npriv, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(privt, npriv, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(privt, npriv, CKA_EXTRACTABLE, kg->backup ? &yes : &no, sizeof(no));
	if (kg->backup)
		ADD(privt, npriv, CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes));
	ADD(privt, npriv, CKA_LABEL, kg->label, labellen);
	ADD(privt, npriv, CKA_ID, id, sizeof(id));
	ADD(privt, npriv, CKA_SIGN, &yes, sizeof(yes));
	ADD(privt, npriv, CKA_DECRYPT, &dec, sizeof(dec));
	ADD(privt, npriv, CKA_UNWRAP, &no, sizeof(no));
	if (d->ck == CKK_EC)
		ADD(privt, npriv, CKA_DERIVE, &no, sizeof(no));
#undef ADD

	if ((r = p11_session_get(tok, &lease)) != 0)
		return r;
	if ((r = label_free(tok, lease.h, kg->label)) != 0)
		goto out;
	rv = tok->f->C_GenerateKeyPair(lease.h, &mech, pubt, npub, privt,
	    npriv, &hpub, &hpriv);
	if (rv != CKR_OK) {
		r = cairn_error(rv == CKR_MECHANISM_INVALID ||
			    rv == CKR_CURVE_NOT_SUPPORTED ||
			    rv == CKR_DOMAIN_PARAMS_INVALID ?
			CAIRN_E_P11_MECHANISM : CAIRN_E_P11,
		    "token \"%s\" failed to generate the %s key \"%s\": %s",
		    tok->label, d->desc, kg->label, cairn_ckr_name(rv));
		goto out;
	}
	/* Trust, but verify: the token must report what we asked for. */
	read_attrs(tok->f, lease.h, hpriv, &at);
	if (at.sensitive != 1 || at.always_sensitive != 1 || at.local != 1 ||
	    at.token != 1 ||
	    (kg->backup ? at.extractable != 1 || at.wrap_with_trusted != 1 :
			  at.extractable != 0 || at.never_extractable != 1)) {
		tok->f->C_DestroyObject(lease.h, hpriv);
		tok->f->C_DestroyObject(lease.h, hpub);
		r = cairn_error(CAIRN_E_P11_KEY_POLICY,
		    "token \"%s\" generated key \"%s\" with CKA_SENSITIVE=%d "
		    "CKA_EXTRACTABLE=%d CKA_ALWAYS_SENSITIVE=%d "
		    "CKA_NEVER_EXTRACTABLE=%d CKA_LOCAL=%d CKA_TOKEN=%d "
		    "CKA_WRAP_WITH_TRUSTED=%d; a CA key must be sensitive, "
		    "made on the token, and never extractable (or, for "
		    "backup, extractable only under a trusted key). The key "
		    "was destroyed", tok->label, kg->label, at.sensitive,
		    at.extractable, at.always_sensitive, at.never_extractable,
		    at.local, at.token, at.wrap_with_trusted);
		goto out;
	}
	if ((r = p11_key_load(tok, &lease, hpriv, out)) != 0) {
		tok->f->C_DestroyObject(lease.h, hpriv);
		tok->f->C_DestroyObject(lease.h, hpub);
		cairn_error_prefix(r, "the new key was destroyed: ");
	}
out:
	p11_session_put(tok, &lease, 0);
	return r;
}

int
cairn_p11_key_destroy(struct cairn_p11_key *key)
{
	struct p11_lease lease;
	CK_OBJECT_HANDLE h, hpub;
	CK_RV rv;
	int r;

	if ((r = p11_session_get(key->tok, &lease)) != 0)
		return r;
	if ((r = p11_key_handle(key, &lease, &h)) != 0)
		goto out;
	hpub = find_public(key->tok->f, lease.h, key->id, key->id_len);
	if ((rv = key->tok->f->C_DestroyObject(lease.h, h)) != CKR_OK) {
		r = cairn_error(CAIRN_E_P11, "destroying key \"%s\": %s",
		    key->label, cairn_ckr_name(rv));
		goto out;
	}
	if (hpub != CK_INVALID_HANDLE)
		key->tok->f->C_DestroyObject(lease.h, hpub);
out:
	p11_session_put(key->tok, &lease, 0);
	return r;
}

/* ---- listing and finding -------------------------------------------- */

/* All private key handles on the token (up to `max`). */
static int
private_keys(struct cairn_p11_token *tok, struct p11_lease *lease,
    CK_ATTRIBUTE *extra, CK_ULONG nextra, CK_OBJECT_HANDLE *h, CK_ULONG max,
    CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[4] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ULONG i;
	CK_RV rv;

	for (i = 0; i < nextra && i < 3; i++)
		t[i + 1] = extra[i];
	rv = find_objects(tok->f, lease->h, t, 1 + i, h, max, n);
	if (rv != CKR_OK) {
		lease->rv = rv;
		return cairn_error(CAIRN_E_P11,
		    "searching token \"%s\" for keys: %s", tok->label,
		    cairn_ckr_name(rv));
	}
	return 0;
}

#define KEYS_MAX 1024

static void
fill_info(struct cairn_p11_token *tok, struct p11_lease *lease,
    CK_OBJECT_HANDLE h, struct cairn_p11_key_info *ki)
{
	struct cairn_p11_key *key = NULL;
	CK_FUNCTION_LIST *f = tok->f;
	uint8_t *v = NULL;
	size_t vlen;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };

	memset(ki, 0, sizeof(*ki));
	if (get_attr(f, lease->h, h, CKA_LABEL, &v, &vlen) == CKR_OK) {
		if (vlen >= sizeof(ki->label))
			vlen = sizeof(ki->label) - 1;
		memcpy(ki->label, v, vlen);
	}
	free(v);
	if (get_attr(f, lease->h, h, CKA_ID, &v, &vlen) == CKR_OK &&
	    vlen <= sizeof(ki->id)) {
		memcpy(ki->id, v, vlen);
		ki->id_len = vlen;
	}
	free(v);
	if (f->C_GetAttributeValue(lease->h, h, &a, 1) == CKR_OK)
		ki->ck_type = kt;
	read_attrs(f, lease->h, h, &ki->attrs);
	if (p11_key_load(tok, lease, h, &key) == 0) {
		ki->type = key->type;
		ki->bits = key->bits;
		ki->has_public = 1;
		if (cairn_fingerprint_str(key->pub, ki->fingerprint) != 0)
			ki->fingerprint[0] = '\0';
		cairn_p11_key_free(key);
	}
	cairn_error_clear();
	ki->uri = key_uri(tok->label, ki->label, ki->id, ki->id_len);
}

static int
info_cmp(const void *a, const void *b)
{
	const struct cairn_p11_key_info *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	if (c != 0 || x->id_len != y->id_len)
		return c != 0 ? c : x->id_len < y->id_len ? -1 : 1;
	return memcmp(x->id, y->id, x->id_len);
}

int
cairn_p11_key_list(struct cairn_p11_token *tok,
    struct cairn_p11_key_info **out, size_t *nout)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct cairn_p11_key_info *list = NULL;
	struct p11_lease lease;
	CK_ULONG n = 0, i;
	int r;

	*out = NULL;
	*nout = 0;
	if ((h = calloc(KEYS_MAX, sizeof(*h))) == NULL)
		return cairn_error(CAIRN_E_NOMEM, "out of memory");
	if ((r = p11_session_get(tok, &lease)) != 0) {
		free(h);
		return r;
	}
	if ((r = private_keys(tok, &lease, NULL, 0, h, KEYS_MAX, &n)) != 0)
		goto out;
	if (n > 0 && (list = calloc(n, sizeof(*list))) == NULL) {
		r = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		fill_info(tok, &lease, h[i], &list[i]);
	/* The token's order is arbitrary; people read a sorted list. */
	if (n > 1)
		qsort(list, n, sizeof(*list), info_cmp);
	*out = list; /* transferred */
	*nout = n;
out:
	p11_session_put(tok, &lease, 0);
	free(h);
	return r;
}

void
cairn_p11_key_info_free(struct cairn_p11_key_info *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		free(list[i].uri);
	free(list);
}

/* "root" (id 6e0f..), "sub" (id 01), ... for messages. */
static void
describe_keys(struct cairn_p11_token *tok, struct p11_lease *lease,
    char *buf, size_t size)
{
	CK_OBJECT_HANDLE h[CAIRN_LIST_IN_ERROR_MAX + 1];
	struct cairn_p11_key_info ki;
	char hex[2 * 8 + 1];
	CK_ULONG n = 0, i;
	size_t len = 0;

	buf[0] = '\0';
	if (private_keys(tok, lease, NULL, 0, h,
	    CAIRN_LIST_IN_ERROR_MAX + 1, &n) != 0 || n == 0) {
		snprintf(buf, size, "none");
		cairn_error_clear();
		return;
	}
	for (i = 0; i < n && i < CAIRN_LIST_IN_ERROR_MAX && len < size; i++) {
		fill_info(tok, lease, h[i], &ki);
		len += (size_t)snprintf(buf + len, size - len,
		    "%s\"%s\" (%s, id %s%s)", i ? ", " : "", ki.label,
		    ki.type ? cairn_key_type_name(ki.type) : "other",
		    cairn_hex(hex, ki.id, ki.id_len < 8 ? ki.id_len : 8, 0),
		    ki.id_len > 8 ? "..." : "");
		free(ki.uri);
	}
	if (n > CAIRN_LIST_IN_ERROR_MAX && len < size)
		snprintf(buf + len, size - len, ", ...");
}

int
cairn_p11_key_find(struct cairn_p11_token *tok,
    const struct cairn_p11_uri *uri, struct cairn_p11_key **out)
{
	CK_ATTRIBUTE extra[2];
	CK_OBJECT_HANDLE h[2];
	CK_ULONG nextra = 0, n = 0;
	struct cairn_p11_key_attrs at;
	struct p11_lease lease;
	char *what = NULL, list[1024];
	int r;

	*out = NULL;
	if (uri->type != CAIRN_P11_TYPE_ANY &&
	    uri->type != CAIRN_P11_TYPE_PRIVATE)
		return cairn_error(CAIRN_E_INVAL,
		    "the URI names an object of type=%s; Cairn signs with "
		    "private keys (type=private)",
		    cairn_p11_objtype_name(uri->type));
	if (uri->object == NULL && !uri->has_id)
		return cairn_error(CAIRN_E_INVAL,
		    "the URI names no key: add object=LABEL or id=... (\"cairn-"
		    "root key list\" shows each key's URI)");
	if (uri->unknown_attr != NULL)
		return cairn_error(CAIRN_E_P11_KEY_NOT_FOUND,
		    "the URI carries the attribute \"%s\", which Cairn does "
		    "not know, so it matches no key (RFC 7512 section 2.5)",
		    uri->unknown_attr);
	if (uri->object != NULL) {
		extra[nextra].type = CKA_LABEL;
		extra[nextra].pValue = uri->object;
		extra[nextra].ulValueLen = strlen(uri->object);
		nextra++;
	}
	if (uri->has_id) {
		extra[nextra].type = CKA_ID;
		extra[nextra].pValue = uri->id;
		extra[nextra].ulValueLen = uri->id_len;
		nextra++;
	}
	if ((r = p11_session_get(tok, &lease)) != 0)
		return r;
	if ((r = private_keys(tok, &lease, extra, nextra, h, 2, &n)) != 0)
		goto out;
	if (n != 1) {
		what = cairn_p11_uri_format(uri);
		describe_keys(tok, &lease, list, sizeof(list));
		if (n == 0)
			r = cairn_error(CAIRN_E_P11_KEY_NOT_FOUND,
			    "no private key on token \"%s\" matches %s%s. Keys "
			    "on the token: %s", tok->label,
			    what ? what : "the URI",
			    cairn_p11_token_needs_login(tok) && !tok->logged_in ?
				" (not logged in: private keys stay hidden "
				"until login)" : "",
			    list);
		else
			r = cairn_error(CAIRN_E_P11_KEY_AMBIGUOUS,
			    "more than one private key on token \"%s\" matches "
			    "%s; add the id= attribute. Keys on the token: %s",
			    tok->label, what ? what : "the URI", list);
		goto out;
	}
	read_attrs(tok->f, lease.h, h[0], &at);
	if (!attrs_ok(&at)) {
		r = cairn_error(CAIRN_E_P11_KEY_POLICY,
		    "key \"%s\" on token \"%s\" has CKA_SENSITIVE=%d, "
		    "CKA_EXTRACTABLE=%d and CKA_WRAP_WITH_TRUSTED=%d: its value "
		    "could leave the token, so Cairn refuses to sign with it. "
		    "Generate a new key with \"cairn-root key generate\"",
		    uri->object ? uri->object : "", tok->label, at.sensitive,
		    at.extractable, at.wrap_with_trusted);
		goto out;
	}
	r = p11_key_load(tok, &lease, h[0], out);
out:
	p11_session_put(tok, &lease, 0);
	free(what);
	return r;
}
