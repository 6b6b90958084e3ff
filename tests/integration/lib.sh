# lib.sh: TAP helpers for the integration tests (sourced, bash).
#
# Each check prints one TAP line; a failing check prints the command's
# output as TAP comments.  Every script gets a private temporary directory
# $T, removed on exit, and the paths of the programs under test.

set -u
: "${CAIRN_BUILDDIR:?run through make check}"
: "${CAIRN_SRCDIR:?run through make check}"
ROOT="$CAIRN_BUILDDIR/root-ca/cairn-root"
MODULE="${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
T=$(mktemp -d "${TMPDIR:-/tmp}/cairn-it-XXXXXX")
trap 'rm -rf "$T"' EXIT
unset CAIRN_PIN CAIRN_SO_PIN CAIRN_DATA CAIRN_PKCS11_MODULE SOFTHSM2_CONF
_n=0

plan() { echo "1..$1"; }

_report() { # status description outfile
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		[ -s "$3" ] && sed 's/^/# /' "$3" | head -40
	fi
	return 0
}

# check DESCRIPTION COMMAND...: the command succeeds.
check() {
	local d=$1
	shift
	"$@" >"$T/.out" 2>&1
	_report $? "$d" "$T/.out"
}

# check_fail DESCRIPTION STATUS PATTERN COMMAND...: the command exits with
# STATUS and its output matches the extended regular expression PATTERN.
check_fail() {
	local d=$1 want=$2 pat=$3 rc
	shift 3
	"$@" >"$T/.out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "exit status $rc, expected $want" >>"$T/.out"
		_report 1 "$d" "$T/.out"
	elif ! grep -Eq -- "$pat" "$T/.out"; then
		echo "output does not match: $pat" >>"$T/.out"
		_report 1 "$d" "$T/.out"
	else
		_report 0 "$d" "$T/.out"
	fi
}

# check_out DESCRIPTION PATTERN COMMAND...: succeeds and matches PATTERN.
check_out() {
	local d=$1 pat=$2
	shift 2
	check_fail "$d" 0 "$pat" "$@"
}

# check_eq DESCRIPTION A B: two strings are equal (and not empty).
check_eq() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		_report 0 "$1" /dev/null
	else
		printf 'want: %s\nhave: %s\n' "$2" "$3" >"$T/.out"
		_report 1 "$1" "$T/.out"
	fi
}

# A PIN file with the given content, mode 600.
pinfile() { (umask 077; printf '%s\n' "$2" >"$1"); }
