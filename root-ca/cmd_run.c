/*
 * cmd_run.c: cairn-root run SCRIPT and cairn-root check SCRIPT.
 *
 * The flow of every ceremony:
 *   1. load and validate the whole script (nothing touches the HSM when
 *      a single problem is found; every problem is printed);
 *   2. open the ceremony log (a broken log is never appended to) and the
 *      staging directory inside the media directory;
 *   3. the ceremony's steps, each confirmed and logged;
 *   4. on success: an "end" record, a checkpoint signed by the CA key,
 *      the transcript and a copy of the log staged, everything moved into
 *      the media, the media sealed;
 *      on failure: an "abort" record (signed when the key is usable), the
 *      staging directory removed: the media is as it was.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/audit.h"
#include "lib/cli.h"
#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/media.h"
#include "lib/util.h"
#include "root-ca/ceremony.h"
#include "root-ca/root.h"

enum { OPT_MEDIA = 1, OPT_BATCH, OPT_LOG, OPT_SO_PIN_FILE };

static void transcript_close(struct runner *r, const char *when);

static void
print_errors(const struct cfg_errors *errs, const char *script)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	fprintf(stderr, "%s: %zu problem%s in %s; nothing was done and the "
	    "HSM was not touched.\n", cairn_cli_prog(), errs->n,
	    errs->n == 1 ? "" : "s", script);
}

int
cmd_check(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, CAIRN_OPT_HELP },
		{ NULL, 0, NULL, 0 } };
	struct cfg_errors errs = { NULL, 0 };
	struct ceremony *c = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == CAIRN_OPT_HELP)
			return cairn_cli_help(cmd);
		return cairn_cli_bad_option(cmd, opt);
	}
	if (optind + 1 != argc)
		return cairn_cli_usage(cmd, "name one ceremony script");
	if (ceremony_load(argv[optind], &c, &errs) != 0) {
		print_errors(&errs, argv[optind]);
		cfg_errors_free(&errs);
		return CAIRN_EXIT_FAIL;
	}
	printf("%s: a valid %s ceremony (SHA-256 %s)\n", argv[optind],
	    c->def->name, c->sha256);
	ceremony_free(c);
	return CAIRN_EXIT_OK;
}

/* Remove the staging directory and what is in it (plain files only). */
static void
remove_staging(const char *dir)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    fileio_join(path, sizeof(path), dir, de->d_name) == 0)
			unlink(path);
	closedir(d);
	rmdir(dir);
}

/* Move every staged file into the media (link: never over a file). */
static int
publish(struct runner *r)
{
	struct dirent *de;
	char from[PATH_MAX], to[PATH_MAX];
	DIR *d;
	int rc = 0;

	if ((d = opendir(r->staging)) == NULL)
		return cairn_error(CAIRN_E_IO, "%s: %s", r->staging,
		    strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc = fileio_join(from, sizeof(from), r->staging,
		    de->d_name)) != 0 ||
		    (rc = fileio_join(to, sizeof(to), r->media, de->d_name)) !=
			0)
			break;
		if (link(from, to) != 0)
			rc = cairn_error(errno == EEXIST ? CAIRN_E_EXISTS :
							   CAIRN_E_IO,
			    "moving %s onto the media: %s", de->d_name,
			    strerror(errno));
	}
	closedir(d);
	if (rc == 0)
		rc = fileio_fsync_dir(to);
	return rc;
}

static void
utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
finish(struct runner *r)
{
	char *copy = NULL, when[32], path[PATH_MAX];
	size_t len = 0;
	int rc;

	if ((rc = runner_log(r, "end", json_pack("{s:O,s:O,s:s}", "inputs",
	    r->inputs, "outputs", r->outputs, "result", "ok"))) != 0)
		return rc;
	if ((rc = audit_checkpoint(r->log, r->pkey, r->pub,
	    EVP_sha256())) != 0)
		return rc;
	utc_now(when);
	printf("\nThe ceremony log now ends at line %llu, hash %s.\n",
	    audit_seq(r->log), audit_head(r->log));
	transcript_close(r, when);
	if ((rc = cairn_read_file(r->log_path, CAIRN_AUDIT_FILE_MAX, &copy,
	    &len)) != 0 ||
	    (rc = fileio_join(path, sizeof(path), r->staging,
		"ceremony-log.jsonl")) != 0 ||
	    (rc = fileio_write_atomic(path, copy, len, 0644, 0)) != 0 ||
	    (rc = fileio_join(path, sizeof(path), r->staging,
		"transcript.md")) != 0 ||
	    (rc = fileio_write_atomic(path, r->transcript, r->transcript_len,
		0644, 0)) != 0)
		goto out;
	if ((rc = publish(r)) != 0)
		goto out;
	remove_staging(r->staging);
	r->staging[0] = '\0';
	if ((rc = media_seal(r->media, r->signer_cert, r->pkey)) != 0)
		goto out;
	printf("The media in %s is sealed: MANIFEST and MANIFEST.p7s list and "
	       "sign every file.\n", r->media);
out:
	free(copy);
	return rc;
}

static void
transcript_open(struct runner *r, const char *when)
{
	size_t i;

	runner_transcript(r, "# Ceremony transcript: %s\n\n", r->c->def->name);
	runner_transcript(r, "%s.\n\n", r->c->def->summary);
	runner_transcript(r, "- Ceremony id: `%s`\n", r->id);
	runner_transcript(r, "- Started: %s\n", when);
	runner_transcript(r, "- Script: `%s`, SHA-256 `%s`\n", r->c->path,
	    r->c->sha256);
	runner_transcript(r, "- Tool: cairn-root %s\n", PACKAGE_VERSION);
	runner_transcript(r, "- Operator: %s\n", r->c->operator);
	for (i = 0; r->c->witnesses[i] != NULL; i++)
		runner_transcript(r, "- Witness: %s\n", r->c->witnesses[i]);
	runner_transcript(r, "- Ceremony log: `%s`, continuing after line "
	    "%llu (hash `%s`)\n", r->log_path, audit_seq(r->log),
	    audit_head(r->log));
}

static void
transcript_close(struct runner *r, const char *when)
{
	size_t i;

	runner_transcript(r, "\n## Close\n\n- Finished: %s\n", when);
	runner_transcript(r, "- The ceremony log ends at line %llu with a "
	    "checkpoint signed by the CA key; the hash of that line is `%s`.\n"
	    "  An auditor checks it with `cairn-root audit verify "
	    "ceremony-log.jsonl --root CERT` and compares this line number "
	    "and hash.\n", audit_seq(r->log), audit_head(r->log));
	runner_transcript(r, "- Every file of this media is listed with its "
	    "SHA-256 in MANIFEST, signed in MANIFEST.p7s; check with "
	    "`cairn-root media verify DIR --root CERT`.\n\n");
	runner_transcript(r, "## Signatures\n\nBy signing, each person "
	    "confirms that the steps above happened as written, and that the "
	    "fingerprints read aloud matched.\n\n");
	runner_transcript(r, "| role | name | signature | date |\n"
	    "|---|---|---|---|\n| operator | %s | | |\n", r->c->operator);
	for (i = 0; r->c->witnesses[i] != NULL; i++)
		runner_transcript(r, "| witness | %s | | |\n",
		    r->c->witnesses[i]);
}

/* Record the abort, signed when the key can still sign. */
static void
abort_ceremony(struct runner *r, int err)
{
	char msg[CAIRN_ERRMSG_MAX];

	snprintf(msg, sizeof(msg), "%s", cairn_errmsg(err));
	fprintf(stderr, "\n%s: %s\n", cairn_cli_prog(), msg);
	fprintf(stderr, "%s: the ceremony was stopped at step %d; nothing was "
	    "added to the media%s\n", cairn_cli_prog(), r->step,
	    r->log != NULL ? "; the stop is recorded in the ceremony log" :
			     "");
	if (r->log != NULL &&
	    runner_log(r, "abort", json_pack("{s:s,s:s}", "result",
		"aborted", "error", msg)) == 0 &&
	    r->pkey != NULL)
		(void)audit_checkpoint(r->log, r->pkey, r->pub, EVP_sha256());
	cairn_error(err, "%s", msg);
}

int
cmd_run(const struct cairn_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = { CAIRN_HSM_LONGOPTS,
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "batch", no_argument, NULL, OPT_BATCH },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "so-pin-file", required_argument, NULL, OPT_SO_PIN_FILE },
		{ NULL, 0, NULL, 0 } };
	struct cfg_errors errs = { NULL, 0 };
	struct runner r;
	unsigned char id[16];
	char when[32], logbuf[PATH_MAX];
	const char *data;
	json_t *wit = NULL;
	int opt, rc = 0, reported = 0;

	memset(&r, 0, sizeof(r));
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case CAIRN_OPT_HELP:
			return cairn_cli_help(cmd);
		case OPT_MEDIA:
			r.media = optarg;
			break;
		case OPT_BATCH:
			r.batch = 1;
			break;
		case OPT_LOG:
			r.log_path = optarg;
			break;
		case OPT_SO_PIN_FILE:
			r.so_pin_file = optarg;
			break;
		default:
			if (!cairn_hsm_opt(&r.hsm, opt, optarg) ||
			    opt == CAIRN_OPT_TOKEN)
				return cairn_cli_bad_option(cmd, opt);
		}
	}
	if (optind + 1 != argc)
		return cairn_cli_usage(cmd, "name one ceremony script");
	if (r.media == NULL)
		return cairn_cli_usage(cmd, "--media DIR is required: where the "
		    "ceremony's outputs go");
	data = r.hsm.data_dir != NULL ? r.hsm.data_dir : getenv("CAIRN_DATA");
	if (r.log_path == NULL && data != NULL && data[0] != '\0') {
		snprintf(logbuf, sizeof(logbuf), "%s/ceremony-log.jsonl", data);
		r.log_path = logbuf;
	}
	if (r.log_path == NULL)
		return cairn_cli_usage(cmd, "--log FILE is required (or --data "
		    "DIR, whose ceremony-log.jsonl is used)");

	/* 1. Validate everything before anything else. */
	if (ceremony_load(argv[optind], &r.c, &errs) != 0) {
		print_errors(&errs, argv[optind]);
		cfg_errors_free(&errs);
		return CAIRN_EXIT_FAIL;
	}
	printf("Ceremony %s: %s\n", r.c->def->name, r.c->def->summary);
	printf("  script:    %s\n  SHA-256:   %s\n  operator:  %s\n",
	    r.c->path, r.c->sha256, r.c->operator);
	for (opt = 0; r.c->witnesses[opt] != NULL; opt++)
		printf("  witness:   %s\n", r.c->witnesses[opt]);
	printf("Witnesses: compare the script's SHA-256 with the one on the "
	       "reviewed, printed script.\n");
	if (!r.batch && !isatty(STDIN_FILENO)) {
		rc = cairn_error(CAIRN_E_USAGE, "standard input is not a "
		    "terminal: a ceremony waits for the operator at each step; "
		    "use --batch to run without stopping");
		goto out;
	}

	/* 2. The log, the staging directory, the ceremony's inputs. */
	if (mkdir(r.media, 0755) != 0 && errno != EEXIST) {
		rc = cairn_error(CAIRN_E_IO, "cannot create the media directory "
		    "%s: %s", r.media, strerror(errno));
		goto out;
	}
	if ((rc = fileio_join(r.staging, sizeof(r.staging), r.media,
	    ".staging-XXXXXX")) != 0)
		goto out;
	if (mkdtemp(r.staging) == NULL) {
		rc = cairn_error(CAIRN_E_IO, "cannot create a staging directory "
		    "in %s: %s", r.media, strerror(errno));
		r.staging[0] = '\0';
		goto out;
	}
	if ((rc = audit_open(r.log_path, &r.log)) != 0)
		goto fail;
	if (RAND_bytes(id, sizeof(id)) != 1) {
		rc = cairn_error_crypto(CAIRN_E_CRYPTO, "no random bytes");
		goto fail;
	}
	cairn_hex(r.id, id, sizeof(id), 0);
	if ((r.inputs = json_object()) == NULL ||
	    (r.outputs = json_object()) == NULL) {
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto fail;
	}
	utc_now(when);
	transcript_open(&r, when);
	if ((wit = json_array()) == NULL) {
		rc = cairn_error(CAIRN_E_NOMEM, "out of memory");
		goto fail;
	}
	for (opt = 0; r.c->witnesses[opt] != NULL; opt++)
		json_array_append_new(wit, json_string(r.c->witnesses[opt]));
	if ((rc = runner_log(&r, "start", json_pack("{s:s,s:s,s:s,s:s,s:O}",
	    "script", r.c->path, "script_sha256", r.c->sha256, "tool",
	    "cairn-root " PACKAGE_VERSION, "operator", r.c->operator,
	    "witnesses", wit))) != 0)
		goto fail;

	/* 3. The steps. */
	if ((rc = r.c->def->run(&r)) != 0)
		goto fail;
	/* 4. Close. */
	if ((rc = finish(&r)) != 0)
		goto fail;
	printf("\nCeremony %s complete. Print transcript.md from the media; "
	       "the operator and witnesses sign it.\n", r.c->def->name);
	goto out;
fail:
	abort_ceremony(&r, rc);
	reported = 1;
out:
	json_decref(wit);
	if (r.staging[0] != '\0')
		remove_staging(r.staging);
	audit_close(r.log);
	json_decref(r.inputs);
	json_decref(r.outputs);
	free(r.transcript);
	X509_free(r.signer_cert);
	EVP_PKEY_free(r.pkey);
	cairn_p11_key_free(r.key);
	cairn_p11_token_free(r.tok);
	ceremony_free(r.c);
	if (rc == 0)
		return CAIRN_EXIT_OK;
	if (!reported)
		fprintf(stderr, "%s: %s\n", cairn_cli_prog(), cairn_errmsg(rc));
	return rc == CAIRN_E_USAGE ? CAIRN_EXIT_USAGE : CAIRN_EXIT_FAIL;
}
