/*
 * ocsp.c: building and signing OCSP responses (see ocsp.h).  Prefix
 * ocspb_ ("OCSP build"), so that it never meets the responder's ocsp_.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "lib/error.h"
#include "lib/lint.h"
#include "lib/ocsp.h"

ASN1_TIME *
ocspb_time(long long t)
{
	ASN1_TIME *a = ASN1_TIME_new();

	if (a != NULL && ASN1_TIME_set(a, (time_t)t) == NULL) {
		ASN1_TIME_free(a);
		a = NULL;
	}
	return a;
}

struct build {
	const struct ocspb_single *s;
	size_t n;
	X509_EXTENSION *nonce;
};

/* Called twice by lint_sign_ocsp_ex (trial, then real): builds the same
 * response each time. */
static int
build(void *arg, OCSP_BASICRESP **out)
{
	struct build *b = arg;
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	ASN1_TIME *tu = NULL, *nu = NULL, *ra = NULL;
	size_t i;
	int r = 0;

	*out = NULL;
	if (bs == NULL)
		goto fail;
	for (i = 0; i < b->n; i++) {
		const struct ocspb_single *s = &b->s[i];
		int revoked = s->status == V_OCSP_CERTSTATUS_REVOKED;

		if ((tu = ocspb_time(s->this_update)) == NULL ||
		    (nu = ocspb_time(s->next_update)) == NULL ||
		    (revoked && (ra = ocspb_time(s->revoked_at)) == NULL) ||
		    OCSP_basic_add1_status(bs, s->id, s->status, revoked &&
			s->reason >= 0 ? s->reason :
			OCSP_REVOKED_STATUS_NOSTATUS, ra, tu, nu) == NULL)
			goto fail;
		ASN1_TIME_free(tu);
		ASN1_TIME_free(nu);
		ASN1_TIME_free(ra);
		tu = nu = ra = NULL;
	}
	if (b->nonce != NULL && OCSP_BASICRESP_add_ext(bs, b->nonce, -1) != 1)
		goto fail;
	*out = bs; /* transferred */
	return 0;
fail:
	r = cairn_error_crypto(CAIRN_E_CRYPTO, "cannot build the OCSP "
	    "response");
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(ra);
	OCSP_BASICRESP_free(bs);
	return r;
}

int
ocspb_sign(const struct ocspb_single *s, size_t n, X509_EXTENSION *nonce,
    const struct ocspb_signer *sg, uint8_t **der, size_t *len)
{
	struct build b = { s, n, nonce };
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *p = NULL;
	int l, r;

	*der = NULL;
	*len = 0;
	if (n == 0)
		return cairn_error(CAIRN_E_INVAL, "an OCSP response needs at "
		    "least one SingleResponse");
	if ((r = lint_sign_ocsp_ex(build, &b, sg->cert, sg->key, sg->md,
	    sg->include_cert ? 0 : OCSP_NOCERTS, &bs)) != 0)
		return r;
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL || (l = i2d_OCSP_RESPONSE(resp, &p)) <= 0) {
		r = cairn_error_crypto(CAIRN_E_CRYPTO, "cannot encode the OCSP "
		    "response");
		goto out;
	}
	*der = p; /* transferred */
	*len = (size_t)l;
	r = 0;
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	return r;
}

/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
static const uint8_t errors[][5] = {
	{ 0x30, 0x03, 0x0a, 0x01, 0x01 },   /* malformedRequest */
	{ 0x30, 0x03, 0x0a, 0x01, 0x02 },   /* internalError */
	{ 0x30, 0x03, 0x0a, 0x01, 0x03 },   /* tryLater */
	{ 0, 0, 0, 0, 0 },                  /* 4 is not used */
	{ 0x30, 0x03, 0x0a, 0x01, 0x05 },   /* sigRequired */
	{ 0x30, 0x03, 0x0a, 0x01, 0x06 },   /* unauthorized */
};

const uint8_t *
ocspb_error(int status, size_t *len)
{
	*len = 0;
	if (status < 1 || status > 6 || status == 4)
		return NULL;
	*len = 5;
	return errors[status - 1];
}
