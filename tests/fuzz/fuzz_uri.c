/*
 * fuzz_uri.c: libFuzzer target for the PKCS#11 URI parser (pkcs11/uri.c).
 *
 * The parser reads text an operator typed or pasted, so it must neither
 * crash, read past the length it was given, leak, nor accept something it
 * cannot give back: every URI it accepts must format to a text that parses
 * to an equal URI (the promise in uri.h), and the match functions must
 * cope with whatever it produced.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/limits.h"
#include "pkcs11/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed module answers to match against, blank padded as PKCS#11 does. */
static CK_INFO lib_info;
static CK_SLOT_INFO slot_info;
static CK_TOKEN_INFO token_info;

static void
pad(CK_UTF8CHAR *field, size_t width, const char *s)
{
	memset(field, ' ', width);
	memcpy(field, s, strlen(s));
}

static void
init_infos(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	lib_info.libraryVersion.major = 2;
	lib_info.libraryVersion.minor = 6;
	pad(lib_info.manufacturerID, sizeof(lib_info.manufacturerID),
	    "SoftHSM");
	pad(lib_info.libraryDescription, sizeof(lib_info.libraryDescription),
	    "Implementation of PKCS11");
	pad(slot_info.slotDescription, sizeof(slot_info.slotDescription),
	    "SoftHSM slot ID 0x0");
	pad(slot_info.manufacturerID, sizeof(slot_info.manufacturerID),
	    "SoftHSM project");
	pad(token_info.label, sizeof(token_info.label), "Cairn Root CA");
	pad(token_info.manufacturerID, sizeof(token_info.manufacturerID),
	    "SoftHSM project");
	pad(token_info.model, sizeof(token_info.model), "SoftHSM v2");
	pad(token_info.serialNumber, sizeof(token_info.serialNumber),
	    "8d1e4a5c2b3f7a90");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_p11_uri *u = NULL, *v = NULL;
	char *buf, *f;

	init_infos();
	/* Exactly `size` bytes, no NUL after them: ASan sees an over-read. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	if (cairn_p11_uri_parse(buf, size, &u) != 0) {
		free(buf);
		if (u != NULL)
			abort(); /* *out must stay NULL on failure */
		return 0;
	}
	free(buf);

	/* Format refuses only a text longer than CAIRN_URI_MAX; formatting
	 * at most triples the input, so below a third of the limit it must
	 * succeed. */
	if ((f = cairn_p11_uri_format(u)) == NULL) {
		if (size * 3 <= CAIRN_URI_MAX)
			abort();
		cairn_p11_uri_free(u);
		return 0;
	}
	if (cairn_p11_uri_parse(f, strlen(f), &v) != 0 ||
	    !cairn_p11_uri_equal(u, v) || !cairn_p11_uri_equal(v, u))
		abort();

	/* A URI with an unknown path attribute matches nothing. */
	if (u->unknown_attr != NULL &&
	    (cairn_p11_uri_match_library(u, &lib_info) ||
	    cairn_p11_uri_match_slot(u, 0, &slot_info) ||
	    cairn_p11_uri_match_token(u, &token_info)))
		abort();
	/* The formatted URI matches exactly as the parsed one does. */
	if (cairn_p11_uri_match_library(u, &lib_info) !=
	    cairn_p11_uri_match_library(v, &lib_info) ||
	    cairn_p11_uri_match_slot(u, 0, &slot_info) !=
	    cairn_p11_uri_match_slot(v, 0, &slot_info) ||
	    cairn_p11_uri_match_token(u, &token_info) !=
	    cairn_p11_uri_match_token(v, &token_info))
		abort();

	free(f);
	cairn_p11_uri_free(u);
	cairn_p11_uri_free(v);
	return 0;
}
