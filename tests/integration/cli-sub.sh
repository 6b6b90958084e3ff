#!/bin/bash
# cli-sub.sh: cairn-sub's command line: help for every command, the man
# page documenting each, usage errors with status 2, and errors that say
# what to do next.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
MAN="$CAIRN_SRCDIR/docs/man/cairn-sub.8"
"$SUB" --help | sed -nE 's/^  ([a-z]+( [a-z]+)?)  +[a-z].*/\1/p' >"$T/cmds"
n=$(wc -l <"$T/cmds")
plan $((n + 8))

check_out "--version names the program" "^cairn-sub \(Cairn\) [0-9]" "$SUB" --version
while read -r c; do
	# shellcheck disable=SC2086
	check_out "$c --help shows its usage" "^Usage: cairn-sub $c" "$SUB" $c --help
done <"$T/cmds"
missing=
while read -r c; do
	grep -q "^\.B cairn-sub $c\$" "$MAN" || missing="$missing [$c]"
done <"$T/cmds"
check_eq "the man page has a synopsis for every command ($n)" "none" "${missing:-none}"
check_out "the man page renders without a warning (groff -ww)" "^clean$" \
	bash -c "groff -man -ww -z '$MAN' 2>&1 && echo clean"
check_fail "no command: usage, status 2" 2 "Commands:" "$SUB"
check_fail "unknown command: status 2" 2 'unknown command "frobnicate"' "$SUB" frobnicate
check_fail "unknown option: status 2 and a pointer to --help" 2 \
	"Try 'cairn-sub list --help'" "$SUB" list --frob
check_fail "no data directory: says how to name one" 2 "--data DIR.*CAIRN_DATA" "$SUB" list
check_fail "a directory that is no CA: says to run init" 1 "init" \
	"$SUB" list --data "$T/nothing-here"
