#!/bin/bash
# cli-token.sh: cairn-root's command line, help and tokens.
#
# Tokens made by "cairn-root token init" are checked with SoftHSM2's own
# softhsm2-util and OpenSC's pkcs11-tool, and the help and usage errors of
# every command are checked for what an operator needs.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 27

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654

check_out "--help lists every command" \
	"token list.*token init.*key generate.*key list.*key show" \
	bash -c "'$ROOT' --help | tr '\n' ' '"
check_out "--version names the program" "^cairn-root \(Cairn\) [0-9]" \
	"$ROOT" --version
for c in "token list" "token init" "key generate" "key list" "key show"; do
	check_out "$c --help shows usage and options" "^Usage: cairn-root $c" \
		"$ROOT" $c --help
done
# The man page documents every command --help lists.
"$ROOT" --help | sed -nE 's/^  ([a-z]+( [a-z]+)?)  +[a-z].*/\1/p' >"$T/cmds"
missing=
while read -r c; do
	grep -q "^\.B cairn-root $c\|^\.B $c\$" "$CAIRN_SRCDIR/docs/man/cairn-root.1" ||
		missing="$missing [$c]"
done <"$T/cmds"
check_eq "the man page documents every command ($(wc -l <"$T/cmds"))" \
	"none" "${missing:-none}"
check_fail "no command: usage, status 2" 2 "Commands:" "$ROOT"
check_fail "unknown command: status 2" 2 'unknown command "frobnicate"' \
	"$ROOT" frobnicate
check_fail "unknown option: status 2 and a pointer to --help" 2 \
	"Try 'cairn-root token list --help'" "$ROOT" token list --frob
check_fail "a PIN on the command line is refused, with the reason" 2 \
	"never read from the command line.*--pin-file" \
	"$ROOT" token init --data "$D" --label x --pin 1234
check_fail "so is an SO PIN" 2 "never read from the command line" \
	"$ROOT" token init --data "$D" --label x --so-pin 1234

check_fail "token init without --label" 2 "--label LABEL is required" \
	"$ROOT" token init --data "$D" --pin-file "$T/user.pin"
check_out "token init makes a token in the data directory" \
	'Token "Cairn Test Root" initialized' \
	"$ROOT" token init --data "$D" --label "Cairn Test Root" \
	--so-pin-file "$T/so.pin" --pin-file "$T/user.pin"
check_out "the data directory holds a private SoftHSM2 config" \
	"^600 .*tokendir = $D/tokens" \
	bash -c "{ stat -c %a '$D/softhsm2.conf'; grep tokendir '$D/softhsm2.conf'; } | tr '\n' ' '"
check_out "softhsm2-util sees the token" "Label: +Cairn Test Root" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" softhsm2-util --show-slots
check "pkcs11-tool logs in with the user PIN cairn-root set" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
	--token-label "Cairn Test Root" --login --pin 123456 --list-objects
check_fail "pkcs11-tool refuses a wrong user PIN (so ours is really set)" 1 \
	"CKR_PIN_INCORRECT" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
	--token-label "Cairn Test Root" --login --pin 000000 --list-objects
check_fail "a second token with the same label is refused" 1 \
	'labelled "Cairn Test Root" exists already' \
	"$ROOT" token init --data "$D" --label "Cairn Test Root" \
	--so-pin-file "$T/so.pin" --pin-file "$T/user.pin"
check_out "PINs from CAIRN_SO_PIN and CAIRN_PIN" 'Token "second" initialized' \
	env CAIRN_SO_PIN=11112222 CAIRN_PIN=33334444 \
	"$ROOT" token init --data "$D" --label second
# Slot order follows the serials SoftHSM2 draws: check each token alone.
"$ROOT" token list --data "$D" | tr '\n' ' ' | sed 's/Slot /\n&/g' >"$T/slots"
check_out "token list shows the first token, its state and URI" \
	"token: +Cairn Test Root .*initialized, user PIN set, login required.* uri: +pkcs11:token=Cairn%20Test%20Root;manufacturer=SoftHSM%20project;serial=[0-9a-f]{16};model=SoftHSM%20v2" \
	cat "$T/slots"
check_out "token list shows the second token, and the blank one" \
	"token: +second .*uri: +pkcs11:token=second;.*token: +\(blank: cairn-root token init --label LABEL\)|token: +\(blank.*token: +second .*uri: +pkcs11:token=second;" \
	bash -c "tr '\n' ' ' <'$T/slots'"
check_out "CAIRN_DATA names the data directory too" "token: +second" \
	env CAIRN_DATA="$D" "$ROOT" token list
check_out "SOFTHSM2_CONF is honoured without --data" "token: +second" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" "$ROOT" token list
check_fail "a module that is not there: path and what to do" 1 \
	"cannot load PKCS#11 module /nonexistent/p11.so: No such file.*--module" \
	"$ROOT" token list --module /nonexistent/p11.so
check_fail "a token label longer than 32 bytes" 1 "1 to 32 bytes" \
	"$ROOT" token init --data "$D" --label "$(printf 'x%.0s' $(seq 33))" \
	--so-pin-file "$T/so.pin" --pin-file "$T/user.pin"
