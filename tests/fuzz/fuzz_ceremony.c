/*
 * fuzz_ceremony.c: libFuzzer target for ceremony scripts: the whole of
 * ceremony_load(), that is the YAML loader and every ceremony's validator
 * (root-init, sign-subordinate, issue-crl, sign-ocsp, key-backup,
 * key-restore), as "cairn-root check" runs them.  A script is written by
 * an operator and reviewed by witnesses, but a validator that crashes or
 * hangs on a typo is a bug all the same.  Inputs named by a script are
 * looked for beside it, in a fresh empty directory: they are missing,
 * which the validators must report, not trip over.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cfg.h"
#include "lib/error.h"
#include "root-ca/ceremony.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/cairn-fuzz-ceremony-XXXXXX";
static char path[sizeof(dir) + 16];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { NULL, 0 };
	struct ceremony *c = NULL;
	FILE *f;
	int r;

	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/script.yaml", dir);
	}
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	r = ceremony_load(path, &c, &errs);
	/* Either a ceremony and no problem, or problems and no ceremony. */
	if ((r == 0) != (c != NULL) || (r == 0) != (errs.n == 0))
		abort();
	ceremony_free(c);
	cfg_errors_free(&errs);
	return 0;
}
