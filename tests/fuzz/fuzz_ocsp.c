/*
 * fuzz_ocsp.c: libFuzzer target for the OCSP responder's request parsing
 * (sub-ca/ocsp_req.c): every input is tried as the DER body of a POST,
 * and as the path of a GET after "/ocsp/" (decoded, then parsed).
 * Seeds: requests made by openssl ocsp (SHA-1, SHA-256, a nonce, several
 * certificates) and their GET spellings, raw and percent-encoded.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "sub-ca/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[CAIRN_OCSP_REQ_MAX];
	struct ocsp_req rq;
	size_t n, i;

	if (ocsp_req_parse(data, size, &rq) == 0) {
		/* What a success promises the responder. */
		if (rq.n < 1 || rq.n > CAIRN_OCSP_REQ_CERTS_MAX)
			__builtin_trap();
		for (i = 0; i < rq.n; i++)
			if (rq.ids[i].alg >= OCSP_NALG ||
			    rq.ids[i].serial_len < 1 ||
			    rq.ids[i].serial_len > 20)
				__builtin_trap();
		if (rq.has_nonce && (rq.nonce_len < 3 ||
		    rq.nonce_len > sizeof(rq.nonce)))
			__builtin_trap();
	}
	if (ocsp_get_decode((const char *)data, size, buf, sizeof(buf),
	    &n) == 0) {
		if (n > sizeof(buf))
			__builtin_trap();
		(void)ocsp_req_parse(buf, n, &rq);
	}
	return 0;
}
