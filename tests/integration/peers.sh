#!/bin/bash
# peers.sh: keys made by cairn-root, seen and used by clients someone else
# wrote.
#
#  - OpenSC pkcs11-tool and GnuTLS p11tool read the private key's
#    attributes: sensitive, always sensitive, never extractable.
#  - The public key GnuTLS p11tool exports has the SHA-256 fingerprint
#    cairn-root printed for the witnesses, and equals "key show"'s PEM.
#  - pkcs11-tool and OpenSSL (through libp11's pkcs11 engine) sign with
#    the key, and OpenSSL verifies with the public key from "key show".
# (The private value itself is asked for, and refused, in
# tests/unit/test_pkcs11.c: neither tool offers to read it.)
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 15

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
K=(--data "$D" --pin-file "$T/user.pin")
export SOFTHSM2_CONF="$D/softhsm2.conf"
"$ROOT" token init --data "$D" --label Peer --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
P11=(pkcs11-tool --module "$MODULE" --token-label Peer --login --pin 123456)
GNU=(p11tool --provider "$MODULE" --login --set-pin=123456)
printf 'to be signed by the root key\n' >"$T/msg"

for t in ec-p384 rsa-3072; do
	"$ROOT" key generate "${K[@]}" --token Peer --type $t --label $t >"$T/$t.gen"
	uri=$(sed -n 's/^URI: *//p' "$T/$t.gen")
	fpr=$(sed -n 's/^Public key SHA-256: *//p' "$T/$t.gen")
	# pkcs11-tool 0.23 signs with the wrong object when it is given
	# --label (it fails even on keys it made itself); --id is reliable.
	id=$(echo "$uri" | sed 's/.*;id=\([^;]*\);.*/\1/; s/%//g')
	"$ROOT" key show "${K[@]}" --key "$uri" | sed -n '/BEGIN/,/END/p' >"$T/$t.pem"
	"${GNU[@]}" --export-pubkey "pkcs11:token=Peer;object=$t" \
		>"$T/$t.gnutls.pem" 2>/dev/null

	check_out "$t: pkcs11-tool reports sensitive, always sensitive, never extractable" \
		"label: +$t +ID: +[0-9a-f]+ +Usage: +[^A]* +Access: +sensitive, always sensitive, never extractable, local" \
		bash -c "${P11[*]} --list-objects --type privkey 2>/dev/null | tr -s '\n\t ' ' '"
	check_out "$t: p11tool (GnuTLS) reports CKA_NEVER_EXTRACTABLE and CKA_SENSITIVE" \
		"Label: $t Flags: CKA_PRIVATE; CKA_NEVER_EXTRACTABLE; CKA_SENSITIVE;" \
		bash -c "${GNU[*]} --list-privkeys 'pkcs11:token=Peer' 2>/dev/null | tr -s '\n\t ' ' '"
	check_eq "$t: the fingerprint read aloud matches p11tool's public key" \
		"$fpr" "$(openssl pkey -pubin -in "$T/$t.gnutls.pem" -outform DER |
		sha256sum | cut -c1-64 | tr a-f A-F | sed 's/../&:/g; s/:$//')"
	check_eq "$t: key show's PEM is the same public key" \
		"$(openssl pkey -pubin -in "$T/$t.gnutls.pem" -outform DER | base64 -w0)" \
		"$(openssl pkey -pubin -in "$T/$t.pem" -outform DER | base64 -w0)"
	case $t in
	ec-*)
		openssl dgst -sha384 -binary "$T/msg" >"$T/$t.hash"
		"${P11[@]}" --sign --mechanism ECDSA --id "$id" \
			--signature-format openssl -i "$T/$t.hash" \
			-o "$T/$t.p11.sig" >/dev/null 2>&1
		check_out "$t: pkcs11-tool signs with the key, OpenSSL verifies" \
			"Signature Verified Successfully" openssl pkeyutl -verify \
			-pubin -inkey "$T/$t.pem" -in "$T/$t.hash" \
			-sigfile "$T/$t.p11.sig"
		;;
	rsa-*)
		"${P11[@]}" --sign --mechanism SHA256-RSA-PKCS --id "$id" \
			-i "$T/msg" -o "$T/$t.p11.sig" >/dev/null 2>&1
		check_out "$t: pkcs11-tool signs with the key, OpenSSL verifies" \
			"Verified OK" openssl dgst -sha256 -verify "$T/$t.pem" \
			-signature "$T/$t.p11.sig" "$T/msg"
		;;
	esac
	check_out "$t: libp11's engine signs through the URI, OpenSSL verifies" \
		"Verified OK" bash -c "openssl dgst -sha256 -engine pkcs11 -keyform engine \
		-sign '$uri;pin-value=123456' -out '$T/$t.eng.sig' '$T/msg' 2>/dev/null &&
		openssl dgst -sha256 -verify '$T/$t.pem' -signature '$T/$t.eng.sig' '$T/msg'"
done
check_out "p11tool lists the same two private keys as cairn-root" "^2$" \
	bash -c "${GNU[*]} --list-privkeys 'pkcs11:token=Peer' 2>/dev/null | grep -c 'Type: Private key'"
cp "$T/msg" "$T/msg2"
echo x >>"$T/msg2"
check_fail "a signature over other data does not verify (the check can fail)" 1 \
	"Verification failure" openssl dgst -sha256 -verify "$T/rsa-3072.pem" \
	-signature "$T/rsa-3072.p11.sig" "$T/msg2"
check_fail "nor with another key" 1 "Verification failure|Error verifying" \
	openssl dgst -sha256 -verify "$T/ec-p384.pem" \
	-signature "$T/rsa-3072.eng.sig" "$T/msg"
