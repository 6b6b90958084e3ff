#!/bin/sh
#
# run-fuzz.sh: build each libFuzzer target with clang and fuzz it briefly,
# printing TAP, for `make check`.
#
# A short run on every check keeps the seed corpus exercised under ASan and
# UBSan and catches a regression in the parsers the day it is made; long
# runs are for --enable-fuzz builds.  A missing clang is a failure, not a
# skip: a check that silently skips is a check nobody runs.
#
# Environment (set by Makefile.am):
#   CLANG               clang to build with (may be empty: then "not ok")
#   CAIRN_SRCDIR        source tree; corpora are read from here, never written
#   CAIRN_BUILDDIR      build tree; binaries, corpus copies and crashes go here
#   CAIRN_FUZZ_CFLAGS   -I flags (build dir for config.h, p11-kit, OpenSSL)
#   CAIRN_FUZZ_LIBS     libraries to link (-lssl -lcrypto)
#   CAIRN_FUZZ_TARGETS  "name:src1 src2 ...;name2:..." (sources relative to
#                       CAIRN_SRCDIR); corpus is tests/fuzz/corpus/<name
#                       without its fuzz_ prefix>
#   CAIRN_FUZZ_SECONDS  seconds per target (default 10)

set -u

: "${CLANG:=}"
: "${CAIRN_SRCDIR:=.}"
: "${CAIRN_BUILDDIR:=.}"
: "${CAIRN_FUZZ_CFLAGS:=}"
: "${CAIRN_FUZZ_LIBS:=}"
: "${CAIRN_FUZZ_TARGETS:=}"
seconds=${CAIRN_FUZZ_SECONDS:-10}

# Stack traces for UBSan reports too (ASan prints them by default).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

work=$CAIRN_BUILDDIR/tests/fuzz

# Print a file as TAP diagnostics.
diag() {
	sed 's/^/# /' "$1"
}

# The interesting part of a libFuzzer log: from the first report line on
# (sanitizer error, deadly signal, leak, timeout), else its tail.
report='==ERROR|ERROR: libFuzzer|runtime error|deadly signal'
crash_log() {
	if grep -q -E "$report" "$1"; then
		sed -n -E "/$report/,\$p" "$1" | head -n 150 | sed 's/^/# /'
	else
		tail -n 40 "$1" | sed 's/^/# /'
	fi
}

# Count the targets for the plan; empty entries (a trailing ";") are none.
n=0
old_ifs=$IFS
IFS=';'
for t in $CAIRN_FUZZ_TARGETS; do
	[ -n "$t" ] && n=$((n + 1))
done
IFS=$old_ifs
echo "1..$n"

have_clang=0
if [ -n "$CLANG" ] && command -v "$CLANG" >/dev/null 2>&1; then
	have_clang=1
fi

i=0
failed=0
# The list is split once, on ";"; inside, blanks split the sources again.
IFS=';'
for t in $CAIRN_FUZZ_TARGETS; do
	IFS=$old_ifs
	[ -n "$t" ] || continue
	i=$((i + 1))
	name=${t%%:*}
	name=$(printf '%s' "$name" | tr -d ' \t\n')
	srcs=${t#*:}

	if [ "$have_clang" -ne 1 ]; then
		echo "not ok $i - $name: clang not found:" \
		    "run scripts/install-deps"
		failed=1
		continue
	fi

	bin=$work/build/$name
	log=$work/build/$name.log
	corpus_src=$CAIRN_SRCDIR/tests/fuzz/corpus/${name#fuzz_}
	corpus=$work/corpus/$name
	artifacts=$work/artifacts/$name/
	mkdir -p "$work/build" "$artifacts"

	# Sources are relative to the source tree; split on blanks.
	set --
	for s in $srcs; do
		set -- "$@" "$CAIRN_SRCDIR/$s"
	done
	# shellcheck disable=SC2086 # flags are word lists on purpose
	if ! "$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined $CAIRN_FUZZ_CFLAGS "$@" \
	    $CAIRN_FUZZ_LIBS -o "$bin" >"$log" 2>&1; then
		echo "not ok $i - $name: build failed"
		diag "$log"
		failed=1
		continue
	fi

	if [ ! -d "$corpus_src" ]; then
		echo "not ok $i - $name: no seed corpus $corpus_src"
		failed=1
		continue
	fi
	# A fresh copy each time: the fuzzer adds to its corpus directory,
	# and the source tree must stay as committed.
	rm -rf "$corpus"
	mkdir -p "$corpus"
	cp -R "$corpus_src/." "$corpus/"

	"$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
	    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" \
	    >"$log" 2>&1
	rc=$?

	# "Done 431190 runs in 11 second(s)"
	done_re='^Done \([0-9][0-9]*\) runs in \([0-9][0-9]*\) second.*'
	runs=$(sed -n "s/$done_re/\\1/p" "$log" | tail -n 1)
	secs=$(sed -n "s/$done_re/\\2/p" "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $i - $name: $runs runs in $secs s, no crash"
		grep '^stat::' "$log" | sed 's/^/# /'
	else
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$log" | tail -n 1)
		echo "not ok $i - $name: crashed (exit $rc) after" \
		    "${execs:-?} runs; reproducer in $artifacts"
		crash_log "$log"
		failed=1
	fi
done
IFS=$old_ifs

exit "$failed"
