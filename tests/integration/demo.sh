#!/bin/bash
# demo.sh: the README's demo steps (scripts/demo-run) on this build: they
# make a token and a root key, and what they print agrees with the token.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 5

check_out "the demo runs and prints the root key's URI and fingerprint" \
	"key URI: +pkcs11:token=Cairn%20Demo%20Root;object=root-key;.*public key SHA-256: +([0-9A-F]{2}:){31}" \
	bash -c "'$CAIRN_SRCDIR/scripts/demo-run' '$CAIRN_BUILDDIR' '$T/demo' | tr '\n' ' '"
uri=$(sed -n 's/^URI: *//p' "$T/demo/root-key.txt")
fpr=$(sed -n 's/^Public key SHA-256: *//p' "$T/demo/root-key.txt")
check_out "the key is in the token, with the fingerprint the demo printed" \
	"Public key SHA-256: $fpr" \
	"$ROOT" key show --data "$T/demo/hsm" --pin-file "$T/demo/user.pin" --key "$uri"
check_out "the root key is an EC P-384 key" "Type: +ec-p384" \
	"$ROOT" key show --data "$T/demo/hsm" --pin-file "$T/demo/user.pin" --key "$uri"
check_out "PIN files are private" "^600 600$" \
	bash -c "stat -c %a '$T/demo/user.pin' '$T/demo/so.pin' | tr '\n' ' ' | sed 's/ $//'"
check_out "running the demo again starts afresh" "Removing the previous demo" \
	"$CAIRN_SRCDIR/scripts/demo-run" "$CAIRN_BUILDDIR" "$T/demo"
