/*
 * bench_crl.c: time and peak memory to build and sign a CRL of many
 * entries, three ways.
 *
 * The subordinate CA will publish CRLs that may list a million revoked
 * certificates.  lib/crl.c streams them (two passes over an iterator, the
 * DER written and hashed as it goes) so that memory does not grow with
 * the list.  What that buys is measured here against the usual way, the
 * openssl command over its text database:
 *
 *   crl_write, software   crl_write() with a software P-256 key: the
 *                         streaming writer alone.
 *   crl_write, token      crl_write() with a P-256 key in SoftHSM2 through
 *                         pkcs11/: what cairn-sub will do.  The token
 *                         makes one signature, so this should be the same.
 *   openssl ca -gencrl    the openssl command over an index.txt holding
 *                         the same entries ("R" lines), with the same
 *                         extensions (authorityKeyIdentifier keyid,
 *                         cRLNumber), digest (SHA-256) and P-256 key as
 *                         the software row.
 *
 * Each measurement runs in a child process and its peak memory is that
 * child's ru_maxrss, from wait4(): the memory of the process doing the
 * work, as the operating system saw it.  crl_write's children time the
 * call alone (after a warm-up signature in the token row, since a forked
 * child must log in to the token again); openssl's time runs from fork()
 * to its exit, since starting the program and reading index.txt are the
 * cost of that way.  crl_write also fsync()s its file, openssl does not.
 *
 * Before its figures are printed, every CRL is parsed by OpenSSL and its
 * signature verified, in another child (the parse takes memory that
 * must not be charged to anything measured), its entry count checked and
 * its entries compared as a set (serial, time, reason) with what was
 * asked for: a fast wrong answer cannot make the table.
 *
 * The entries are those the unit test's counter makes, restricted to what
 * an index.txt line can say without openssl ca adding to it: reasons none,
 * affiliationChanged, superseded, cessationOfOperation (keyCompromise
 * would make it add an invalidityDate), times before 2050 (index.txt
 * holds UTCTime).
 *
 * Usage (tests/bench/crl makes the token and runs this):
 *   bench_crl --module PATH --token LABEL --dir DIR [--entries N]...
 * with the token's PIN in CAIRN_PIN.  --entries may be repeated; the
 * default is 100000 and 1000000.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/crl.h"
#include "lib/error.h"
#include "lib/profile.h"
#include "pkcs11/p11.h"

#define MAX_SIZES 8
#define MAX_ENTRIES 20000000ULL     /* index.txt of ~1.3 GB */
#define CRL_DAYS 7
#define MIB (1024.0 * 1024.0)

enum method { M_SOFT, M_TOKEN, M_OPENSSL, M_COUNT };

static const char *const method_name[M_COUNT] = {
	"crl_write, software P-256",
	"crl_write, token P-256",
	"openssl ca -gencrl",
};

struct result {
	int ok;                 /* measured and checked */
	double seconds;
	long maxrss_kib;        /* ru_maxrss of the child */
	uint64_t file_bytes;    /* as written */
	uint64_t der_bytes;     /* the same CRL in DER */
};

/* What a crl_write child reports through its pipe. */
struct child_report {
	int r;
	double seconds;
	uint64_t bytes;
	char msg[512];
};

static const char *workdir;
static long long this_update;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_crl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
in_dir(const char *name)
{
	static char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", workdir, name) >=
	    (int)sizeof(path))
		die("path too long: %s/%s", workdir, name);
	return path;
}

/* ---- the entries ---------------------------------------------------- */

static const int reasons[4] = { -1, CRL_REASON_AFFILIATION_CHANGED,
	CRL_REASON_SUPERSEDED, CRL_REASON_CESSATION_OF_OPERATION };
static const char *const reason_names[4] = { NULL, "affiliationChanged",
	"superseded", "cessationOfOperation" };

/* Serial of 4..8 bytes, first byte never zero and sometimes with the top
 * bit set, the rest i (unique below 2^24 entries); a second apart, within
 * the last 200 days. */
static void
bench_entry(uint64_t i, struct crl_entry *e)
{
	size_t len = 4 + (size_t)(i % 5), k;

	memset(e, 0, sizeof(*e));
	e->serial_len = len;
	e->serial[0] = (uint8_t)(1 + (i * 37) % 255);
	for (k = 1; k < len; k++)
		e->serial[k] = (uint8_t)(i >> (8 * (len - 1 - k)));
	e->revoked_at = this_update - 200LL * 86400 + (long long)(i % 17000000);
	e->reason = reasons[i % 4];
}

struct gen {
	uint64_t n, i;
};

static int
gen_rewind(void *arg)
{
	((struct gen *)arg)->i = 0;
	return 0;
}

static int
gen_next(void *arg, struct crl_entry *e)
{
	struct gen *g = arg;

	if (g->i >= g->n)
		return 0;
	bench_entry(g->i++, e);
	return 1;
}

/* An order-free fingerprint of a set of entries: the sum of a hash of
 * each (serial, time, reason). */
static uint64_t
entry_fp(const uint8_t *serial, size_t len, long long t, int reason)
{
	uint8_t buf[20 + 9], md[32];
	uint64_t v = 0;
	size_t i;

	memcpy(buf, serial, len);
	for (i = 0; i < 8; i++)
		buf[len + i] = (uint8_t)((unsigned long long)t >> (56 - 8 * i));
	buf[len + 8] = (uint8_t)(reason + 1);
	if (EVP_Digest(buf, len + 9, md, NULL, EVP_sha256(), NULL) != 1)
		die("SHA-256 failed");
	for (i = 0; i < 8; i++)
		v = (v << 8) | md[i];
	return v;
}

/* ---- set-up --------------------------------------------------------- */

static X509 *
make_ca(EVP_PKEY *key)
{
	struct profile *p = profile_new();
	X509 *x = NULL;
	int r;

	if (p == NULL)
		die("out of memory");
	p->ca = 1;
	p->key_usage = PROFILE_KU_KEY_CERT_SIGN | PROFILE_KU_CRL_SIGN;
	p->not_before = this_update - 86400;
	p->not_after = this_update + 365LL * 86400;
	p->md = EVP_sha256();
	if ((r = profile_subject_add(p, "O", "Cairn bench")) != 0 ||
	    (r = profile_subject_add(p, "CN", "Cairn Bench Sub CA")) != 0 ||
	    (r = profile_build(p, key, NULL, NULL, &x)) != 0)
		die("CA certificate: %s", cairn_errmsg(r));
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		die("signing the CA certificate");
	profile_free(p);
	return x;
}

static void
put_file(const char *path, mode_t mode, const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* UTCTime text, YYMMDDHHMMSSZ, as index.txt holds it (bench times are
 * all before 2050). */
static void
utc(char out[14], long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, 14, "%02u%02u%02u%02u%02u%02uZ",
	    (unsigned)tm.tm_year % 100, (unsigned)(tm.tm_mon + 1) % 100,
	    (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
	    (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

/* The openssl ca set-up: config, key, certificate, serial, crlnumber. */
static void
openssl_ca_setup(EVP_PKEY *key, X509 *ca)
{
	FILE *f;

	put_file(in_dir("ca.cnf"), 0644,
	    "[ ca ]\ndefault_ca = bench\n\n"
	    "[ bench ]\ndir = %s\n"
	    "database = $dir/index.txt\nserial = $dir/serial\n"
	    "crlnumber = $dir/crlnumber\ncertificate = $dir/ca.pem\n"
	    "private_key = $dir/ca.key\nnew_certs_dir = $dir\n"
	    "default_md = sha256\ndefault_crl_days = %d\n"
	    "crl_extensions = crl_ext\nunique_subject = no\n"
	    "policy = policy_any\n\n"
	    "[ policy_any ]\ncommonName = optional\n\n"
	    "[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n",
	    workdir, CRL_DAYS);
	put_file(in_dir("serial"), 0644, "01\n");
	put_file(in_dir("index.txt.attr"), 0644, "unique_subject = no\n");
	if ((f = fopen(in_dir("ca.pem"), "w")) == NULL ||
	    PEM_write_X509(f, ca) != 1 || fclose(f) != 0)
		die("writing ca.pem");
	put_file(in_dir("ca.key"), 0600, "%s", "");
	if ((f = fopen(in_dir("ca.key"), "w")) == NULL ||
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(f) != 0)
		die("writing ca.key");
}

/* index.txt with the same n entries, revoked ("R"). */
static void
write_index(uint64_t n)
{
	static char buf[1 << 16];
	struct crl_entry e;
	char expiry[14], when[14], hex[41];
	uint64_t i;
	size_t k;
	FILE *f;

	utc(expiry, this_update + 365LL * 86400);
	if ((f = fopen(in_dir("index.txt"), "w")) == NULL)
		die("index.txt: %s", strerror(errno));
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	for (i = 0; i < n; i++) {
		bench_entry(i, &e);
		utc(when, e.revoked_at);
		for (k = 0; k < e.serial_len; k++)
			snprintf(hex + 2 * k, 3, "%02X", e.serial[k]);
		fprintf(f, "R\t%s\t%s%s%s\t%s\tunknown\t/CN=x\n", expiry, when,
		    e.reason >= 0 ? "," : "", e.reason >= 0 ?
		    reason_names[i % 4] : "", hex);
	}
	if (fclose(f) != 0)
		die("index.txt: %s", strerror(errno));
	put_file(in_dir("crlnumber"), 0644, "01\n");
}

/* ---- measurements --------------------------------------------------- */

static void
read_report(int fd, pid_t pid, struct child_report *rep, struct rusage *ru)
{
	ssize_t k;
	int status;

	memset(rep, 0, sizeof(*rep));
	k = read(fd, rep, sizeof(*rep));
	close(fd);
	if (wait4(pid, &status, 0, ru) != pid)
		die("wait4: %s", strerror(errno));
	if (k != (ssize_t)sizeof(*rep) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		rep->r = CAIRN_E_INTERNAL;
		snprintf(rep->msg, sizeof(rep->msg), "the child died "
		    "(status 0x%x)", (unsigned)status);
	}
}

static void
run_crl_write(EVP_PKEY *key, EVP_PKEY *pub, X509_NAME *issuer, uint64_t n,
    const char *path, int warm, struct result *res)
{
	struct crl_params p = { issuer, pub, this_update,
		this_update + CRL_DAYS * 86400LL, 1, EVP_sha256() };
	struct gen g = { n, 0 };
	struct crl_source src = { gen_next, gen_rewind, &g };
	struct child_report rep;
	struct crl_stats st;
	struct rusage ru;
	EVP_MD_CTX *ctx;
	uint8_t sig[128];
	size_t siglen = sizeof(sig);
	double t0;
	int fds[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	unlink(path);
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		memset(&rep, 0, sizeof(rep));
		/* A forked child logs in to the token afresh on its first
		 * signature; that is not the CRL's cost. */
		if (warm && ((ctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) !=
		    1 || EVP_DigestSign(ctx, sig, &siglen,
			(const uint8_t *)"warm", 4) != 1)) {
			rep.r = CAIRN_E_CRYPTO;
			snprintf(rep.msg, sizeof(rep.msg), "warm-up signature "
			    "failed");
		} else {
			t0 = now();
			rep.r = crl_write(&p, &src, key, path, 0, &st);
			rep.seconds = now() - t0;
			rep.bytes = st.bytes;
			snprintf(rep.msg, sizeof(rep.msg), "%s",
			    cairn_errmsg(rep.r));
		}
		_exit(write(fds[1], &rep, sizeof(rep)) ==
		    (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	read_report(fds[0], pid, &rep, &ru);
	if (rep.r != 0) {
		fprintf(stderr, "bench_crl: crl_write, %llu entries: %s\n",
		    (unsigned long long)n, rep.msg);
		return;
	}
	res->seconds = rep.seconds;
	res->maxrss_kib = ru.ru_maxrss;
	res->file_bytes = rep.bytes;
	res->ok = 1;
}

static void
copy_log(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static void
run_openssl_ca(const char *out, struct result *res)
{
	struct rusage ru;
	struct stat sb;
	double t0, t1;
	int status, fd;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	unlink(out);
	fflush(NULL);
	t0 = now();
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		fd = open(in_dir("ca.log"), O_WRONLY | O_CREAT | O_TRUNC,
		    0644);
		if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(126);
		execlp("openssl", "openssl", "ca", "-config",
		    in_dir("ca.cnf"), "-gencrl", "-batch", "-out", out,
		    (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4: %s", strerror(errno));
	t1 = now();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_crl: openssl ca failed (status 0x%x); "
		    "its output:\n", (unsigned)status);
		copy_log(in_dir("ca.log"));
		return;
	}
	if (stat(out, &sb) != 0)
		die("%s: %s", out, strerror(errno));
	res->seconds = t1 - t0;
	res->maxrss_kib = ru.ru_maxrss;
	res->file_bytes = (uint64_t)sb.st_size;
	res->ok = 1;
}

/* ---- checks, in a child --------------------------------------------- */

static long long
asn1_time_t(const ASN1_TIME *t)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days = 0, secs = 0;

	if (epoch == NULL || ASN1_TIME_diff(&days, &secs, epoch, t) != 1)
		die("cannot read a CRL time");
	ASN1_TIME_free(epoch);
	return (long long)days * 86400 + secs;
}

static int __attribute__((format(printf, 2, 3)))
bad(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_crl: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* In the child: 0 when `path` holds a CRL of the n entries signed by
 * `pub`; *der_bytes its DER size. */
static int
check_child(const char *path, int pem, EVP_PKEY *pub, uint64_t n,
    uint64_t *der_bytes)
{
	STACK_OF(X509_REVOKED) *revs;
	X509_CRL *crl = NULL;
	struct crl_entry e;
	uint64_t want = 0, have = 0, i;
	uint8_t mag[21];
	BIO *b;
	int len, count;

	if ((b = BIO_new_file(path, "rb")) == NULL)
		return bad(path, "cannot open");
	crl = pem ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) :
	    d2i_X509_CRL_bio(b, NULL);
	BIO_free(b);
	if (crl == NULL)
		return bad(path, "OpenSSL cannot parse it");
	if (X509_CRL_verify(crl, pub) != 1)
		return bad(path, "signature does not verify");
	revs = X509_CRL_get_REVOKED(crl);
	count = revs == NULL ? 0 : sk_X509_REVOKED_num(revs);
	if ((uint64_t)count != n)
		return bad(path, "%d entries, want %llu",
		    count, (unsigned long long)n);
	for (i = 0; i < n; i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, (int)i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(rv), NULL);
		ASN1_ENUMERATED *en = X509_REVOKED_get_ext_d2i(rv,
		    NID_crl_reason, NULL, NULL);

		if (bn == NULL || BN_num_bytes(bn) > 20)
			return bad(path, "bad serial");
		len = BN_bn2bin(bn, mag);
		have += entry_fp(mag, (size_t)len, asn1_time_t(
		    X509_REVOKED_get0_revocationDate(rv)),
		    en == NULL ? -1 : (int)ASN1_ENUMERATED_get(en));
		BN_free(bn);
		ASN1_ENUMERATED_free(en);
		bench_entry(i, &e);
		want += entry_fp(e.serial, e.serial_len, e.revoked_at,
		    e.reason);
	}
	if (have != want)
		return bad(path, "not the entries asked for");
	if ((len = i2d_X509_CRL(crl, NULL)) <= 0)
		return bad(path, "cannot re-encode");
	*der_bytes = (uint64_t)len;
	X509_CRL_free(crl);
	return 0;
}

static void
check(const char *path, int pem, EVP_PKEY *pub, uint64_t n,
    struct result *res)
{
	uint64_t der = 0;
	int fds[2], status;
	pid_t pid;
	ssize_t k;

	if (!res->ok)
		return;
	res->ok = 0;
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		if (check_child(path, pem, pub, n, &der) != 0)
			_exit(1);
		_exit(write(fds[1], &der, sizeof(der)) == sizeof(der) ? 0 : 1);
	}
	close(fds[1]);
	k = read(fds[0], &der, sizeof(der));
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (k != sizeof(der) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return;
	res->der_bytes = der;
	res->ok = 1;
}

/* ---- main ----------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: bench_crl --module PATH --token LABEL "
	    "--dir DIR [--entries N]...\n(the token's PIN in CAIRN_PIN; "
	    "tests/bench/crl does all this)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	enum { OPT_ENTRIES = 1, OPT_MODULE, OPT_TOKEN, OPT_DIR, OPT_HELP };
	static const struct option opts[] = {
		{ "entries", required_argument, NULL, OPT_ENTRIES },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cairn_hsm_opts ho = { 0 };
	struct cairn_p11_keygen kg = { CAIRN_KEY_EC_P256, "bench-crl", 0 };
	struct cairn_p11_token *tok = NULL;
	struct cairn_p11_key *tkey = NULL;
	struct result res[MAX_SIZES][M_COUNT];
	uint64_t sizes[MAX_SIZES] = { 100000, 1000000 };
	size_t nsizes = 2, s, m;
	EVP_PKEY *soft, *token_pkey, *token_pub;
	X509 *ca;
	struct rusage self;
	char path[PATH_MAX], *end;
	int c, r, user_sizes = 0, failed = 0, said = 0;
	unsigned long long v;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ENTRIES:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 ||
			    v > MAX_ENTRIES)
				die("--entries %s: want 1..%llu", optarg,
				    MAX_ENTRIES);
			if (!user_sizes)
				nsizes = 0;
			user_sizes = 1;
			if (nsizes == MAX_SIZES)
				die("at most %d --entries", MAX_SIZES);
			sizes[nsizes++] = v;
			break;
		case OPT_MODULE:
			ho.module = optarg;
			break;
		case OPT_TOKEN:
			ho.token = optarg;
			break;
		case OPT_DIR:
			workdir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || workdir == NULL || ho.token == NULL)
		usage();
	this_update = (long long)time(NULL);

	if ((soft = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		die("P-256 key generation failed");
	ca = make_ca(soft);
	openssl_ca_setup(soft, ca);
	if ((r = cairn_hsm_open_token(&ho, 1, &tok)) != 0 ||
	    (r = cairn_p11_key_generate(tok, &kg, &tkey)) != 0)
		die("token %s: %s", ho.token, cairn_errmsg(r));
	if ((token_pkey = cairn_p11_key_get1_pkey(tkey)) == NULL)
		die("token key: %s", cairn_errmsg(CAIRN_E_P11));
	token_pub = cairn_p11_key_get0_public(tkey);

	getrusage(RUSAGE_SELF, &self);
	printf("CRL benchmark: build, sign and write a CRL of N revoked "
	    "entries (EC P-256, SHA-256).\n"
	    "Each row is one run in its own child process; peak = that "
	    "child's ru_maxrss.\n"
	    "Children are forked from this process (peak %.1f MiB); the "
	    "pages they share with it\ncount in their own peak.\n\n",
	    (double)self.ru_maxrss / 1024);
	fflush(stdout);

	memset(res, 0, sizeof(res));
	for (s = 0; s < nsizes; s++) {
		snprintf(path, sizeof(path), "%s", in_dir("soft.crl"));
		run_crl_write(soft, soft, X509_get_subject_name(ca), sizes[s],
		    path, 0, &res[s][M_SOFT]);
		check(path, 0, soft, sizes[s], &res[s][M_SOFT]);
		unlink(path);

		snprintf(path, sizeof(path), "%s", in_dir("token.crl"));
		run_crl_write(token_pkey, token_pub,
		    X509_get_subject_name(ca), sizes[s], path, 1,
		    &res[s][M_TOKEN]);
		check(path, 0, token_pub, sizes[s], &res[s][M_TOKEN]);
		unlink(path);

		write_index(sizes[s]);
		snprintf(path, sizeof(path), "%s", in_dir("openssl.crl.pem"));
		run_openssl_ca(path, &res[s][M_OPENSSL]);
		check(path, 1, soft, sizes[s], &res[s][M_OPENSSL]);
		unlink(path);
		unlink(in_dir("index.txt"));
	}

	printf("%9s  %-27s %9s %10s %10s\n", "entries", "method", "seconds",
	    "peak MiB", "file MiB");
	for (s = 0; s < nsizes; s++)
		for (m = 0; m < M_COUNT; m++) {
			struct result *x = &res[s][m];

			if (!x->ok) {
				printf("%9llu  %-27s %s\n",
				    (unsigned long long)sizes[s],
				    method_name[m], "FAILED (see above)");
				failed = 1;
				continue;
			}
			printf("%9llu  %-27s %9.3f %10.1f %10.2f%s\n",
			    (unsigned long long)sizes[s], method_name[m],
			    x->seconds, (double)x->maxrss_kib / 1024,
			    (double)x->file_bytes / MIB,
			    m == M_OPENSSL ? " (PEM)" : "");
		}
	for (s = 0; s < nsizes; s++) {
		struct result *a = &res[s][M_SOFT], *o = &res[s][M_OPENSSL];

		if (!a->ok || !o->ok)
			continue;
		if (!said++)
			printf("\nopenssl ca -gencrl relative to crl_write "
			    "(software key):\n");
		printf("%9llu entries: %.1fx the time, %.1fx the peak memory; "
		    "its CRL is %.1f MiB in DER, crl_write's %.1f MiB\n",
		    (unsigned long long)sizes[s], o->seconds / a->seconds,
		    (double)o->maxrss_kib / (double)a->maxrss_kib,
		    (double)o->der_bytes / MIB, (double)a->der_bytes / MIB);
	}
	printf("\nEvery CRL %s parsed by OpenSSL, its signature verified "
	    "and its entries compared with those asked for%s.\n", failed ?
	    "was" : "above was", failed ? "; those marked FAILED did not "
	    "pass, and their figures are not shown" : "");

	EVP_PKEY_free(token_pkey);
	cairn_p11_key_free(tkey);
	cairn_p11_token_free(tok);
	X509_free(ca);
	EVP_PKEY_free(soft);
	return failed;
}
