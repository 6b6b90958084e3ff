#!/bin/bash
# demo.sh: the README's demo steps (scripts/demo-run) on this build: they
# run a root-init ceremony, and what they print agrees with the token,
# the certificate and the verifiers.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 7

check_out "the demo runs a root ceremony and prints the key and certificate" \
	"key URI: +pkcs11:token=Cairn%20Demo%20Root;object=root-key;.*public key SHA-256: +([0-9A-F]{2}:){31}.*certificate SHA-256: +([0-9A-F]{2}:){31}" \
	bash -c "'$CAIRN_SRCDIR/scripts/demo-run' '$CAIRN_BUILDDIR' '$T/demo' | tr '\n' ' '"
out="$T/demo/root-init.out"
uri=$(sed -n 's/^  key URI  *//p' "$out")
kfpr=$(sed -n 's/^  public key SHA-256  *//p' "$out")
cfpr=$(sed -n 's/^  certificate SHA-256  *//p' "$out")
check_out "the key is in the token, with the fingerprint the demo printed" \
	"Public key SHA-256: $kfpr" \
	"$ROOT" key show --data "$T/demo/hsm" --pin-file "$T/demo/user.pin" --key "$uri"
check_out "openssl verifies the root certificate" ": OK" \
	openssl verify -CAfile "$T/demo/media/root.pem" "$T/demo/media/root.pem"
check_eq "its fingerprint is the one printed" "$cfpr" \
	"$(openssl x509 -in "$T/demo/media/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
check_out "the media and the log verify" "hash chain is intact" \
	bash -c "'$ROOT' media verify '$T/demo/media' --root '$T/demo/media/root.pem' && '$ROOT' audit verify '$T/demo/hsm/ceremony-log.jsonl' --root '$T/demo/media/root.pem'"
check_out "PIN files are private" "^600 600$" \
	bash -c "stat -c %a '$T/demo/user.pin' '$T/demo/so.pin' | tr '\n' ' ' | sed 's/ $//'"
check_out "running the demo again starts afresh" "Removing the previous demo" \
	"$CAIRN_SRCDIR/scripts/demo-run" "$CAIRN_BUILDDIR" "$T/demo"
