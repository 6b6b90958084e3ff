/*
 * scep_client.c: a small SCEP client for the tests and the benchmark.
 *
 * The integration test (tests/integration/scep.sh) drives cairn-sub with
 * clients someone else wrote (micromdm's scepclient, certmonger); this
 * tool makes the messages those clients never send: CertPoll, GetCert and
 * GetCRL, AES and DES3 envelopes, and deliberately broken ones (a
 * tampered signature, an envelope for another recipient, zero signers);
 * and it opens CertReps independently of the server's code (OpenSSL's CMS
 * verify and decrypt).  The benchmark (tests/bench/scep) sends pre-built
 * PKIOperation messages from many threads and measures the token's own
 * RSA decrypt + sign rate beside it.
 *
 *   scep_client build --ra RA.pem --key KEY.pem [--cert SIGNER.pem]
 *       [--type pkcsreq|renewal|certpoll|getcert|getcrl] [--csr CSR]
 *       [--subject /CN=x] [--challenge PW] [--tid TEXT]
 *       [--issuer CA.pem] [--serial HEX] [--cipher aes128|aes256|des3|des]
 *       [--digest sha256|sha512|sha1] [--tamper sig|content]
 *       [--zero-signers] --out MSG.der
 *     prints "senderNonce=HEX" and "transactionID=TEXT"
 *   scep_client open --in REPLY.der --ra RA.pem --key KEY.pem --cert CERT
 *       [--out CERTS.pem]
 *     verifies the reply's signature with the RA certificate and prints
 *     messageType, pkiStatus, failInfo, failInfoText, transactionID,
 *     recipientNonce; on SUCCESS decrypts the envelope with KEY/CERT and
 *     writes the certificates (or the CRL) it carries
 *   scep_client bench --url URL --clients N [--ra RA.pem] MSG.der...
 *     POSTs every message once, from N threads, and prints the rate of
 *     SUCCESS replies ("enrollments per second").  Each reply is checked
 *     once the clock has stopped: HTTP 200, a CertRep with pkiStatus
 *     SUCCESS, the request's transactionID and senderNonce, and (with
 *     --ra) a signature by that RA certificate
 *   scep_client tokenrate --module SO --token LABEL --threads N
 *       --seconds S [--bits 3072]
 *     RSA decrypt + sign pairs per second on a fresh token key (PIN from
 *     CAIRN_PIN): what one enrollment costs the RA key in the HSM
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/error.h"
#include "lib/util.h"
#include "pkcs11/p11.h"

static const char *oid_msgtype = "2.16.840.1.113733.1.9.2";
static const char *oid_status = "2.16.840.1.113733.1.9.3";
static const char *oid_failinfo = "2.16.840.1.113733.1.9.4";
static const char *oid_snonce = "2.16.840.1.113733.1.9.5";
static const char *oid_rnonce = "2.16.840.1.113733.1.9.6";
static const char *oid_tid = "2.16.840.1.113733.1.9.7";
static const char *oid_failtext = "1.3.6.1.5.5.7.24.1";

static OSSL_LIB_CTX *legacy;

static void
die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;

	va_start(ap, fmt);
	fprintf(stderr, "scep_client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	while ((e = ERR_get_error()) != 0)
		fprintf(stderr, "  %s\n", ERR_error_string(e, NULL));
	exit(1);
}

static X509 *
read_cert(const char *path)
{
	X509 *x = NULL;

	if (cairn_read_cert(path, &x) != 0)
		die("%s", cairn_errmsg(CAIRN_E_IO));
	return x;
}

static EVP_PKEY *
read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		die("%s: cannot open", path);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("%s: not a PEM private key", path);
	return k;
}

static X509_REQ *
read_csr(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509_REQ *r = NULL;

	if (b == NULL)
		die("%s: cannot open", path);
	r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	if (r == NULL) {
		ERR_clear_error();
		BIO_reset(b);
		r = d2i_X509_REQ_bio(b, NULL);
	}
	BIO_free(b);
	if (r == NULL)
		die("%s: not a CSR", path);
	return r;
}

static void
hex(const unsigned char *p, int n, char *out)
{
	int i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static X509_NAME *
parse_name(const char *s)
{
	X509_NAME *n = X509_NAME_new();
	char *dup = strdup(s), *p = dup, *f, *eq;

	/* "/CN=a/O=b" */
	if (n == NULL || dup == NULL)
		die("out of memory");
	if (*p == '/')
		p++;
	while (p != NULL && *p != '\0') {
		f = p;
		p = strchr(p, '/');
		if (p != NULL)
			*p++ = '\0';
		if ((eq = strchr(f, '=')) == NULL)
			die("subject \"%s\": want /TYPE=value/...", s);
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(n, f, MBSTRING_UTF8,
		    (unsigned char *)eq + 1, -1, -1, 0) != 1)
			die("subject field %s", f);
	}
	free(dup);
	return n;
}

/* A CSR for `key` with `subject` and `challenge`. */
static X509_REQ *
make_csr(EVP_PKEY *key, const char *subject, const char *challenge)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = parse_name(subject);

	if (r == NULL || X509_REQ_set_version(r, 0) != 1 ||
	    X509_REQ_set_subject_name(r, n) != 1 ||
	    X509_REQ_set_pubkey(r, key) != 1 ||
	    (challenge != NULL && X509_REQ_add1_attr_by_NID(r,
		NID_pkcs9_challengePassword, MBSTRING_UTF8,
		(const unsigned char *)challenge, -1) != 1) ||
	    X509_REQ_sign(r, key, EVP_sha256()) <= 0)
		die("making the CSR");
	X509_NAME_free(n);
	return r;
}

/* The self-signed certificate a first request is signed with. */
static X509 *
self_signed(EVP_PKEY *key, X509_NAME *subject)
{
	X509 *x = X509_new();
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	unsigned char rnd[8];

	RAND_bytes(rnd, sizeof(rnd));
	/* positive, and minimal DER (no leading zero byte) */
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40);
	if (x == NULL || sn == NULL ||
	    ASN1_STRING_set(sn, rnd, sizeof(rnd)) != 1 ||
	    X509_set_version(x, 2) != 1 ||
	    X509_set_serialNumber(x, sn) != 1 ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, subject) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		die("making the self-signed certificate");
	ASN1_INTEGER_free(sn);
	return x;
}

static int
der_len(unsigned char *out, size_t n)
{
	if (n < 128) {
		out[0] = (unsigned char)n;
		return 1;
	}
	if (n < 256) {
		out[0] = 0x81;
		out[1] = (unsigned char)n;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (unsigned char)(n >> 8);
	out[2] = (unsigned char)n;
	return 3;
}

static void
add_attr(CMS_SignerInfo *si, const char *oid, int type, const void *v,
    int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);

	if (o == NULL || CMS_signed_add1_attr_by_OBJ(si, o, type, v, len) != 1)
		die("adding attribute %s", oid);
	ASN1_OBJECT_free(o);
}

static const EVP_CIPHER *
cipher_of(const char *name)
{
	static EVP_CIPHER *des;

	if (strcmp(name, "aes128") == 0)
		return EVP_aes_128_cbc();
	if (strcmp(name, "aes256") == 0)
		return EVP_aes_256_cbc();
	if (strcmp(name, "des3") == 0)
		return EVP_des_ede3_cbc();
	if (strcmp(name, "des") == 0) {
		if (des == NULL)
			des = EVP_CIPHER_fetch(legacy, "DES-CBC", NULL);
		if (des == NULL)
			die("DES-CBC needs OpenSSL's legacy provider");
		return des;
	}
	die("cipher %s: want aes128, aes256, des3 or des", name);
	return NULL;
}

static int
cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "ra", required_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "csr", required_argument, NULL, 'q' },
		{ "subject", required_argument, NULL, 's' },
		{ "challenge", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 'i' },
		{ "issuer", required_argument, NULL, 'I' },
		{ "serial", required_argument, NULL, 'n' },
		{ "cipher", required_argument, NULL, 'C' },
		{ "digest", required_argument, NULL, 'd' },
		{ "tamper", required_argument, NULL, 'T' },
		{ "zero-signers", no_argument, NULL, 'z' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *type = "pkcsreq", *ra_path = NULL, *key_path = NULL;
	const char *cert_path = NULL, *csr_path = NULL, *subject = "/CN=x";
	const char *challenge = NULL, *tid = NULL, *issuer_path = NULL;
	const char *serial = NULL, *cipher = "aes256", *digest = "sha256";
	const char *tamper = NULL, *out = NULL, *mt;
	int zero = 0, c, len, n;
	EVP_PKEY *key;
	X509 *ra, *signer, *issuer = NULL;
	X509_REQ *csr = NULL;
	unsigned char *content = NULL, *p, *envder = NULL, *der = NULL;
	unsigned char nonce[16], md[32];
	char nonce_hex[33], tidbuf[65];
	size_t clen = 0;
	BIO *in, *data;
	CMS_ContentInfo *env, *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) *rcpt = sk_X509_new_null();
	FILE *f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'r': ra_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'c': cert_path = optarg; break;
		case 'q': csr_path = optarg; break;
		case 's': subject = optarg; break;
		case 'p': challenge = optarg; break;
		case 'i': tid = optarg; break;
		case 'I': issuer_path = optarg; break;
		case 'n': serial = optarg; break;
		case 'C': cipher = optarg; break;
		case 'd': digest = optarg; break;
		case 'T': tamper = optarg; break;
		case 'z': zero = 1; break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	if (ra_path == NULL || key_path == NULL || out == NULL)
		die("build needs --ra, --key and --out");
	ra = read_cert(ra_path);
	key = read_key(key_path);
	if (strcmp(type, "pkcsreq") == 0 || strcmp(type, "renewal") == 0 ||
	    strcmp(type, "certpoll") == 0)
		csr = csr_path != NULL ? read_csr(csr_path) :
		    make_csr(key, subject, challenge);
	if (cert_path != NULL) {
		signer = read_cert(cert_path);
	} else if (csr != NULL) {
		signer = self_signed(key, X509_REQ_get_subject_name(csr));
	} else {
		X509_NAME *nm = parse_name(subject);

		signer = self_signed(key, nm);
		X509_NAME_free(nm);
	}
	if (issuer_path != NULL)
		issuer = read_cert(issuer_path);
	if (strcmp(type, "pkcsreq") == 0 || strcmp(type, "renewal") == 0) {
		mt = strcmp(type, "pkcsreq") == 0 ? "19" : "17";
		if ((len = i2d_X509_REQ(csr, &content)) <= 0)
			die("encoding the CSR");
		clen = (size_t)len;
	} else if (strcmp(type, "certpoll") == 0) {
		unsigned char *a = NULL, *b = NULL, hdr[4];
		int la, lb, lh;

		mt = "20";
		if (issuer == NULL)
			die("certpoll needs --issuer");
		la = i2d_X509_NAME(X509_get_subject_name(issuer), &a);
		lb = i2d_X509_NAME(X509_REQ_get_subject_name(csr), &b);
		lh = der_len(hdr, (size_t)(la + lb));
		clen = (size_t)(1 + lh + la + lb);
		content = OPENSSL_malloc(clen);
		content[0] = 0x30;
		memcpy(content + 1, hdr, (size_t)lh);
		memcpy(content + 1 + lh, a, (size_t)la);
		memcpy(content + 1 + lh + la, b, (size_t)lb);
		OPENSSL_free(a);
		OPENSSL_free(b);
	} else if (strcmp(type, "getcert") == 0 ||
	    strcmp(type, "getcrl") == 0) {
		PKCS7_ISSUER_AND_SERIAL *ias = PKCS7_ISSUER_AND_SERIAL_new();
		BIGNUM *bn = NULL;

		mt = strcmp(type, "getcert") == 0 ? "21" : "22";
		if (issuer == NULL || serial == NULL)
			die("%s needs --issuer and --serial", type);
		if (BN_hex2bn(&bn, serial) == 0 ||
		    X509_NAME_set(&ias->issuer,
			X509_get_subject_name(issuer)) != 1 ||
		    BN_to_ASN1_INTEGER(bn, ias->serial) == NULL ||
		    (len = i2d_PKCS7_ISSUER_AND_SERIAL(ias, &content)) <= 0)
			die("encoding IssuerAndSerialNumber");
		clen = (size_t)len;
		BN_free(bn);
		PKCS7_ISSUER_AND_SERIAL_free(ias);
	} else {
		die("type %s: want pkcsreq, renewal, certpoll, getcert, getcrl",
		    type);
		return 2;
	}
	/* The pkcsPKIEnvelope for the RA. */
	sk_X509_push(rcpt, ra);
	in = BIO_new_mem_buf(content, (int)clen);
	env = CMS_encrypt_ex(rcpt, in, cipher_of(cipher), CMS_BINARY,
	    strcmp(cipher, "des") == 0 ? legacy : NULL, NULL);
	if (env == NULL || (len = i2d_CMS_ContentInfo(env, &envder)) <= 0)
		die("enveloping");
	BIO_free(in);
	/* The SignedData. */
	data = BIO_new_mem_buf(envder, len);
	{
		const EVP_MD *dg = EVP_get_digestbyname(digest);

		if (dg == NULL)
			die("digest %s", digest);
		if (tid == NULL) {
			unsigned char *spki = NULL;
			int sl = i2d_PUBKEY(key, &spki);

			EVP_Digest(spki, (size_t)sl, md, NULL, EVP_sha256(),
			    NULL);
			hex(md, 32, tidbuf);
			tid = tidbuf;
			OPENSSL_free(spki);
		}
		RAND_bytes(nonce, sizeof(nonce));
		cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL |
		    CMS_BINARY);
		if (cms == NULL || (si = CMS_add1_signer(cms, signer, key, dg,
		    CMS_BINARY | CMS_NOSMIMECAP)) == NULL)
			die("signing");
		add_attr(si, oid_msgtype, V_ASN1_PRINTABLESTRING, mt,
		    (int)strlen(mt));
		add_attr(si, oid_tid, V_ASN1_PRINTABLESTRING, tid,
		    (int)strlen(tid));
		add_attr(si, oid_snonce, V_ASN1_OCTET_STRING, nonce, 16);
		if (CMS_final(cms, data, NULL, CMS_BINARY) != 1)
			die("signing");
		hex(nonce, 16, nonce_hex);
		printf("senderNonce=%s\ntransactionID=%s\n", nonce_hex, tid);
	}
	if ((n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		die("encoding");
	if (zero) {
		/* The same SignedData with its SignerInfos taken out: the
		 * content and the certificates stay, nothing vouches for
		 * them (the "zero signers accepted" bug of SCEP servers). */
		const unsigned char *q = der;
		PKCS7 *p7 = d2i_PKCS7(NULL, &q, n);

		if (p7 == NULL || !PKCS7_type_is_signed(p7))
			die("re-reading the SignedData");
		sk_PKCS7_SIGNER_INFO_pop_free(p7->d.sign->signer_info,
		    PKCS7_SIGNER_INFO_free);
		p7->d.sign->signer_info = sk_PKCS7_SIGNER_INFO_new_null();
		OPENSSL_free(der);
		der = NULL;
		if ((n = i2d_PKCS7(p7, &der)) <= 0)
			die("encoding");
		PKCS7_free(p7);
	}
	if (tamper != NULL && strcmp(tamper, "sig") == 0)
		der[n - 1] ^= 0x01; /* the signature is the SignerInfo's end */
	else if (tamper != NULL && strcmp(tamper, "content") == 0) {
		/* a byte of the envelope's ciphertext, inside the eContent */
		p = (unsigned char *)memmem(der, (size_t)n, envder,
		    (size_t)len);
		if (p == NULL)
			die("the envelope is not in the encoding");
		p[len - 5] ^= 0x01;
	} else if (tamper != NULL)
		die("tamper %s: want sig or content", tamper);
	if ((f = fopen(out, "wb")) == NULL ||
	    fwrite(der, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0)
		die("%s: cannot write", out);
	OPENSSL_free(der);
	OPENSSL_free(envder);
	OPENSSL_free(content);
	CMS_ContentInfo_free(cms);
	CMS_ContentInfo_free(env);
	BIO_free(data);
	sk_X509_free(rcpt);
	X509_free(ra);
	X509_free(signer);
	X509_free(issuer);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	return 0;
}

/* The single value of attribute `oid` as text (PrintableString, UTF8)
 * or hex (OCTET STRING); NULL when absent. */
static char *
attr_text(CMS_SignerInfo *si, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = CMS_signed_get_attr_by_OBJ(si, o, -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	char *s;

	ASN1_OBJECT_free(o);
	if (i < 0)
		return NULL;
	a = CMS_signed_get_attr(si, i);
	t = X509_ATTRIBUTE_get0_type(a, 0);
	if (t == NULL)
		return NULL;
	s = malloc((size_t)ASN1_STRING_length(t->value.asn1_string) * 2 + 1);
	if (ASN1_TYPE_get(t) == V_ASN1_OCTET_STRING)
		hex(ASN1_STRING_get0_data(t->value.asn1_string),
		    ASN1_STRING_length(t->value.asn1_string), s);
	else {
		memcpy(s, ASN1_STRING_get0_data(t->value.asn1_string),
		    (size_t)ASN1_STRING_length(t->value.asn1_string));
		s[ASN1_STRING_length(t->value.asn1_string)] = '\0';
	}
	return s;
}

static void
print_attr(CMS_SignerInfo *si, const char *label, const char *oid)
{
	char *v = attr_text(si, oid);

	printf("%s=%s\n", label, v != NULL ? v : "(none)");
	free(v);
}

static int
cmd_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "ra", required_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *in = NULL, *ra_path = NULL, *key_path = NULL;
	const char *cert_path = NULL, *out = NULL;
	char *buf = NULL, *st, *fi, *ft;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	size_t len;
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL, *env = NULL;
	STACK_OF(X509) *ra = sk_X509_new_null();
	BIO *content = BIO_new(BIO_s_mem()), *plain = BIO_new(BIO_s_mem());
	CMS_SignerInfo *si;
	char *d;
	long dl;
	PKCS7 *deg;
	int c, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'r': ra_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'c': cert_path = optarg; break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	if (in == NULL || ra_path == NULL)
		die("open needs --in and --ra");
	if (cairn_read_file(in, 1 << 20, &buf, &len) != 0)
		die("%s: cannot read", in);
	p = (const unsigned char *)buf;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL)
		die("%s: not a CMS ContentInfo", in);
	sk_X509_push(ra, read_cert(ra_path));
	/* Signed by the RA certificate given, and no other. */
	if (CMS_verify(cms, ra, NULL, NULL, content, CMS_NO_SIGNER_CERT_VERIFY |
	    CMS_NOINTERN | CMS_BINARY) != 1)
		die("the reply's signature does not verify with the RA "
		    "certificate");
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	print_attr(si, "messageType", oid_msgtype);
	st = attr_text(si, oid_status);
	printf("pkiStatus=%s\n", st != NULL ? (strcmp(st, "0") == 0 ?
	    "SUCCESS" : strcmp(st, "2") == 0 ? "FAILURE" : strcmp(st, "3") ==
	    0 ? "PENDING" : st) : "(none)");
	if ((fi = attr_text(si, oid_failinfo)) != NULL)
		printf("failInfo=%s\n", fi);
	if ((ft = attr_text(si, oid_failtext)) != NULL)
		printf("failInfoText=%s\n", ft);
	free(fi);
	free(ft);
	print_attr(si, "transactionID", oid_tid);
	print_attr(si, "recipientNonce", oid_rnonce);
	print_attr(si, "senderNonce", oid_snonce);
	if (st == NULL || strcmp(st, "0") != 0)
		goto out;
	if (key_path == NULL)
		die("a SUCCESS reply: give --key (and --cert) to open it");
	dl = BIO_get_mem_data(content, &d);
	p = (const unsigned char *)d;
	env = CMS_ContentInfo_new_ex(legacy, NULL);
	key = read_key(key_path);
	cert = cert_path != NULL ? read_cert(cert_path) : NULL;
	if (d2i_CMS_ContentInfo(&env, &p, dl) == NULL ||
	    CMS_decrypt(env, key, cert, NULL, plain, CMS_BINARY) != 1)
		die("the pkcsPKIEnvelope does not decrypt with the key");
	dl = BIO_get_mem_data(plain, &d);
	p = (const unsigned char *)d;
	if ((deg = d2i_PKCS7(NULL, &p, dl)) == NULL ||
	    !PKCS7_type_is_signed(deg))
		die("the envelope does not hold a degenerate SignedData");
	for (i = 0; deg->d.sign->cert != NULL &&
	    i < sk_X509_num(deg->d.sign->cert); i++) {
		X509 *x = sk_X509_value(deg->d.sign->cert, i);
		FILE *f;

		char *nm = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);

		printf("certificate=%s\n", nm);
		OPENSSL_free(nm);
		if (out != NULL && (f = fopen(out, i == 0 ? "w" : "a")) !=
		    NULL) {
			PEM_write_X509(f, x);
			fclose(f);
		}
	}
	for (i = 0; deg->d.sign->crl != NULL &&
	    i < sk_X509_CRL_num(deg->d.sign->crl); i++) {
		X509_CRL *crl = sk_X509_CRL_value(deg->d.sign->crl, i);
		FILE *f;

		char *nm = X509_NAME_oneline(X509_CRL_get_issuer(crl), NULL, 0);

		printf("crl=%s\n", nm);
		OPENSSL_free(nm);
		if (out != NULL && (f = fopen(out, "w")) != NULL) {
			PEM_write_X509_CRL(f, crl);
			fclose(f);
		}
	}
	PKCS7_free(deg);
out:
	free(st);
	free(buf);
	EVP_PKEY_free(key);
	X509_free(cert);
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(ra, X509_free);
	BIO_free(content);
	BIO_free(plain);
	return 0;
}

/* ---- bench ------------------------------------------------------------- */

/* One message and what came back for it. */
struct exchange {
	char *msg;
	size_t len;
	char *tid, *nonce;        /* the request's transactionID, senderNonce */
	long code;                /* HTTP status; 0: no reply */
	unsigned char *reply;
	size_t reply_len;
};

struct bench {
	const char *url;
	struct exchange *x;
	size_t n;
	size_t next;              /* atomic */
};

struct resp_buf {
	unsigned char *p;
	size_t len, cap;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct resp_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > b->cap) {
		unsigned char *q = realloc(b->p, (b->len + n) * 2);

		if (q == NULL)
			return 0;       /* curl stops: no reply, counted failed */
		b->p = q;
		b->cap = (b->len + n) * 2;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return n;
}

/* The request's transactionID and senderNonce, which its CertRep must
 * carry back (RFC 8894 3.2.1.4, 3.2.1.5). */
static void
request_ids(struct exchange *x, const char *path)
{
	const unsigned char *p = (const unsigned char *)x->msg;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)x->len);
	CMS_SignerInfo *si;

	if (cms == NULL || (si = sk_CMS_SignerInfo_value(
	    CMS_get0_SignerInfos(cms), 0)) == NULL ||
	    (x->tid = attr_text(si, oid_tid)) == NULL ||
	    (x->nonce = attr_text(si, oid_snonce)) == NULL)
		die("%s: not a pkiMessage with a transactionID and a "
		    "senderNonce", path);
	CMS_ContentInfo_free(cms);
}

/* Is this reply a SUCCESS CertRep for its request: HTTP 200, signed by
 * the RA certificate `ra` (when given), messageType CertRep, pkiStatus
 * SUCCESS, the request's transactionID, its senderNonce as the
 * recipientNonce?  Checked after the timed part, so that the client's
 * own parsing is not counted as the server's time. */
static int
reply_ok(const struct exchange *x, STACK_OF(X509) *ra)
{
	const unsigned char *p = x->reply;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	char *type = NULL, *st = NULL, *tid = NULL, *rn = NULL;
	int ok = 0;

	if (x->code != 200 || x->reply == NULL ||
	    (cms = d2i_CMS_ContentInfo(NULL, &p, (long)x->reply_len)) == NULL)
		return 0;
	if ((ra == NULL || CMS_verify(cms, ra, NULL, NULL, NULL,
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN | CMS_BINARY) == 1) &&
	    (si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0)) !=
	    NULL) {
		type = attr_text(si, oid_msgtype);
		st = attr_text(si, oid_status);
		tid = attr_text(si, oid_tid);
		rn = attr_text(si, oid_rnonce);
		ok = type != NULL && strcmp(type, "3") == 0 &&
		    st != NULL && strcmp(st, "0") == 0 &&
		    tid != NULL && strcmp(tid, x->tid) == 0 &&
		    rn != NULL && strcmp(rn, x->nonce) == 0;
	}
	free(type);
	free(st);
	free(tid);
	free(rn);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

static void *
bench_thread(void *arg)
{
	struct bench *b = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL,
	    "Content-Type: application/x-pki-message");
	struct resp_buf rb = { 0 };
	struct exchange *x;
	size_t i;

	curl_easy_setopt(c, CURLOPT_URL, b->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rb);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	while ((i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED)) <
	    b->n) {
		x = &b->x[i];
		rb.len = 0;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->msg);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)x->len);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->code) !=
		    CURLE_OK)
			x->code = 0;
		/* Kept as it came, for reply_ok() after the clock stops. */
		if (rb.len > 0 && (x->reply = malloc(rb.len)) != NULL) {
			memcpy(x->reply, rb.p, rb.len);
			x->reply_len = rb.len;
		}
	}
	free(rb.p);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "clients", required_argument, NULL, 'n' },
		{ "ra", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	struct bench b = { 0 };
	STACK_OF(X509) *ra = NULL;
	pthread_t th[64];
	size_t i, ok = 0;
	int c, clients = 1;
	double t0, t1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': b.url = optarg; break;
		case 'n': clients = atoi(optarg); break;
		case 'r':
			if (ra == NULL)
				ra = sk_X509_new_null();
			sk_X509_push(ra, read_cert(optarg));
			break;
		default: return 2;
		}
	}
	if (b.url == NULL || clients < 1 || clients > 64 || optind >= argc)
		die("bench needs --url, --clients 1..64 and messages");
	b.n = (size_t)(argc - optind);
	if ((b.x = calloc(b.n, sizeof(*b.x))) == NULL)
		die("out of memory");
	for (i = 0; i < b.n; i++) {
		if (cairn_read_file(argv[optind + i], 1 << 20, &b.x[i].msg,
		    &b.x[i].len) != 0)
			die("%s: cannot read", argv[optind + i]);
		request_ids(&b.x[i], argv[optind + i]);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t0 = now_sec();
	for (i = 0; i < (size_t)clients; i++)
		pthread_create(&th[i], NULL, bench_thread, &b);
	for (i = 0; i < (size_t)clients; i++)
		pthread_join(th[i], NULL);
	t1 = now_sec();
	for (i = 0; i < b.n; i++)
		ok += reply_ok(&b.x[i], ra) ? 1 : 0;
	printf("clients=%d enrollments=%zu failed=%zu seconds=%.3f "
	    "rate=%.1f\n", clients, ok, b.n - ok, t1 - t0,
	    (double)ok / (t1 - t0));
	curl_global_cleanup();
	for (i = 0; i < b.n; i++) {
		free(b.x[i].msg);
		free(b.x[i].tid);
		free(b.x[i].nonce);
		free(b.x[i].reply);
	}
	free(b.x);
	sk_X509_pop_free(ra, X509_free);
	return ok == b.n ? 0 : 1;
}

/* ---- the token's own rate ---------------------------------------------- */

struct trate {
	EVP_PKEY *pkey, *pub;
	double until;
	size_t pairs;             /* atomic */
	int failed;
};

static void *
trate_thread(void *arg)
{
	struct trate *t = arg;
	unsigned char cek[32], ct[1024], pt[1024], sig[1024], msg[64];
	size_t ctlen, ptlen, siglen;
	EVP_PKEY_CTX *e = EVP_PKEY_CTX_new(t->pub, NULL);

	RAND_bytes(cek, sizeof(cek));
	RAND_bytes(msg, sizeof(msg));
	ctlen = sizeof(ct);
	if (e == NULL || EVP_PKEY_encrypt_init(e) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(e, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(e, ct, &ctlen, cek, sizeof(cek)) != 1) {
		t->failed = 1;
		return NULL;
	}
	while (now_sec() < t->until) {
		EVP_PKEY_CTX *d = EVP_PKEY_CTX_new(t->pkey, NULL);
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		ptlen = sizeof(pt);
		siglen = sizeof(sig);
		if (d == NULL || m == NULL || EVP_PKEY_decrypt_init(d) != 1 ||
		    EVP_PKEY_decrypt(d, pt, &ptlen, ct, ctlen) != 1 ||
		    ptlen != sizeof(cek) || memcmp(pt, cek, ptlen) != 0 ||
		    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL,
			t->pkey) != 1 ||
		    EVP_DigestSign(m, sig, &siglen, msg, sizeof(msg)) != 1)
			t->failed = 1;
		EVP_PKEY_CTX_free(d);
		EVP_MD_CTX_free(m);
		if (t->failed)
			break;
		__atomic_fetch_add(&t->pairs, 1, __ATOMIC_RELAXED);
	}
	EVP_PKEY_CTX_free(e);
	return NULL;
}

static int
cmd_tokenrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "bits", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 } };
	struct cairn_hsm_opts o = { 0 };
	struct cairn_p11_token *tok = NULL;
	struct cairn_p11_key *key = NULL;
	struct cairn_p11_keygen kg = { 0 };
	struct trate t = { 0 };
	pthread_t th[64];
	char label[64];
	int c, threads = 1, seconds = 5, bits = 3072, i, r;
	double t0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.module = optarg; break;
		case 't': o.token = optarg; break;
		case 'n': threads = atoi(optarg); break;
		case 's': seconds = atoi(optarg); break;
		case 'b': bits = atoi(optarg); break;
		default: return 2;
		}
	}
	if (threads < 1 || threads > 64)
		die("--threads 1..64");
	if ((r = cairn_hsm_open_token(&o, 1, &tok)) != 0)
		die("%s", cairn_errmsg(r));
	snprintf(label, sizeof(label), "bench-ra-%ld", (long)getpid());
	kg.type = bits == 4096 ? CAIRN_KEY_RSA_4096 : CAIRN_KEY_RSA_3072;
	kg.label = label;
	kg.allow_decrypt = 1;
	if ((r = cairn_p11_key_generate(tok, &kg, &key)) != 0)
		die("%s", cairn_errmsg(r));
	t.pkey = cairn_p11_key_get1_pkey(key);
	t.pub = cairn_p11_key_get0_public(key);
	t0 = now_sec();
	t.until = t0 + seconds;
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, trate_thread, &t);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("threads=%d pairs=%zu seconds=%.3f rate=%.1f%s\n", threads,
	    t.pairs, now_sec() - t0, (double)t.pairs / (now_sec() - t0),
	    t.failed ? " FAILED" : "");
	EVP_PKEY_free(t.pkey);
	cairn_p11_key_destroy(key);
	cairn_p11_key_free(key);
	cairn_p11_token_free(tok);
	return t.failed;
}

int
main(int argc, char **argv)
{
	OSSL_PROVIDER *pd = NULL, *pl = NULL;
	int r;

	if (argc < 2)
		die("usage: scep_client build|open|bench|tokenrate ...");
	legacy = OSSL_LIB_CTX_new();
	pd = OSSL_PROVIDER_load(legacy, "default");
	pl = OSSL_PROVIDER_load(legacy, "legacy");
	optind = 2;
	if (strcmp(argv[1], "build") == 0)
		r = cmd_build(argc, argv);
	else if (strcmp(argv[1], "open") == 0)
		r = cmd_open(argc, argv);
	else if (strcmp(argv[1], "bench") == 0)
		r = cmd_bench(argc, argv);
	else if (strcmp(argv[1], "tokenrate") == 0)
		r = cmd_tokenrate(argc, argv);
	else
		die("unknown command %s", argv[1]);
	OSSL_PROVIDER_unload(pl);
	OSSL_PROVIDER_unload(pd);
	OSSL_LIB_CTX_free(legacy);
	return r;
}
