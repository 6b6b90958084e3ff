/*
 * enroll.h: cairn-enroll, the enrolling machine's side of Cairn's
 * enrollment protocols (today: TPM key attestation, docs/tpm-attestation.md).
 */
#ifndef CAIRN_ENROLL_H
#define CAIRN_ENROLL_H

#include <jansson.h>

struct enroll_opts {
	const char *url;          /* https://HOST:PORT (no path) */
	const char *template_name;
	const char *tcti;         /* "device:/dev/tpmrm0", "swtpm:port=N" */
	const char *user;         /* HTTP Basic, with password_file */
	const char *password_file;
	const char *cert, *key;   /* or a TLS client certificate */
	const char *cacert;       /* trust for the CA's HTTPS certificate */
	const char *out;          /* the certificate (PEM); NULL: stdout */
	const char *key_out;      /* the key as a TSS2 PRIVATE KEY (PEM) */
	const char *cn;           /* the CSR's CN; NULL: the host name */
	int ek_ecc;               /* use the ECC EK (template L-2) */
	int key_ecc;              /* new key: EC P-256 (else RSA 2048) */
	int no_ek_cert;           /* do not send the EK certificate */
	int verbose;
};

/*
 * net_post_json: POST `body` as JSON to o->url + path over HTTPS with the
 * options' credentials; *status gets the HTTP status and *reply the JSON
 * answer (new, may be NULL when the answer is not JSON).  Returns 0 when
 * an answer arrived (whatever its status), else CAIRN_E_IO with the
 * reason (connection, TLS).
 */
int net_post_json(const struct enroll_opts *o, const char *path,
    json_t *body, long *status, json_t **reply);

/* net_error: the "message" of a CA's JSON error answer, or a fallback. */
const char *net_error(const json_t *reply);

/* enroll_tpm: the whole TPM key attestation enrollment (enroll/tpm.c). */
int enroll_tpm(const struct enroll_opts *o);

#endif /* CAIRN_ENROLL_H */
