#!/bin/bash
# cli-key.sh: cairn-root key generate | list | show, and their failures.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 27

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
pinfile "$T/bad.pin" 000000
K=(--data "$D" --pin-file "$T/user.pin")
"$ROOT" token init --data "$D" --label Root --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null

for t in ec-p256 ec-p384 rsa-3072 rsa-4096; do
	check_out "key generate --type $t prints the URI and fingerprint" \
		"URI: +pkcs11:token=Root;object=k-$t;id=(%[0-9A-F]{2}){16};type=private.*SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}" \
		bash -c "'$ROOT' key generate ${K[*]} --token Root --type $t --label k-$t | tr '\n' ' '"
done
check_out "the token itself reports the attributes after generation" \
	"CKA_SENSITIVE=true CKA_EXTRACTABLE=false CKA_ALWAYS_SENSITIVE=true .*CKA_NEVER_EXTRACTABLE=true CKA_LOCAL=true" \
	bash -c "'$ROOT' key generate ${K[*]} --token Root --type ec-p256 --label attrs | tr '\n' ' '"
check_out "key list shows every key, sorted by label" \
	"5 private keys +attrs .*k-ec-p256 +type: +ec-p256.*k-ec-p384 .*k-rsa-3072 .*k-rsa-4096 +type: +rsa-4096" \
	bash -c "'$ROOT' key list ${K[*]} | tr '\n' ' '"

uri=$("$ROOT" key list "${K[@]}" | sed -n 's/^  uri: *\(.*object=k-ec-p384;.*\)/\1/p')
check_out "key show by URI prints the PEM public key" "BEGIN PUBLIC KEY" \
	"$ROOT" key show "${K[@]}" --key "$uri"
check_out "key show finds the token from the URI alone (no --token)" \
	"Key: +k-ec-p384" "$ROOT" key show "${K[@]}" --key "$uri"
check_out "key show by label only" "Type: +ec-p384" \
	"$ROOT" key show "${K[@]}" --key "pkcs11:object=k-ec-p384"
pinfile "$T/src.pin" 123456
check_out "the URI's pin-source=file: supplies the PIN" "Type: +ec-p384" \
	"$ROOT" key show --data "$D" --key "$uri?pin-source=file:$T/src.pin"
check_out "CAIRN_PIN supplies the PIN" "Type: +ec-p384" \
	env CAIRN_PIN=123456 "$ROOT" key show --data "$D" --key "$uri"

check_out "the URI's module-path chooses the module" "Type: +ec-p384" \
	"$ROOT" key show "${K[@]}" --key "$uri?module-path=$MODULE"
check_fail "... and a wrong module-path is what gets loaded" 1 \
	"cannot load PKCS#11 module /nonexistent/lib.so" \
	"$ROOT" key show "${K[@]}" --key "$uri?module-path=/nonexistent/lib.so"
check_fail "CAIRN_PKCS11_MODULE chooses the default module" 1 \
	"cannot load PKCS#11 module /nonexistent/env.so" \
	env CAIRN_PKCS11_MODULE=/nonexistent/env.so "$ROOT" key list "${K[@]}"
check_out "--module wins over CAIRN_PKCS11_MODULE" "5 private keys" \
	env CAIRN_PKCS11_MODULE=/nonexistent/env.so "$ROOT" key list "${K[@]}" \
	--module "$MODULE"
check_fail "a label already on the token is refused" 1 \
	'already holds an object labelled "k-ec-p256"' \
	"$ROOT" key generate "${K[@]}" --token Root --type ec-p256 --label k-ec-p256
check_fail "an unknown key type: status 2, the valid types" 2 \
	"choose rsa-3072, rsa-4096, ec-p256 or ec-p384" \
	"$ROOT" key generate "${K[@]}" --token Root --type rsa-1024 --label x
check_fail "key generate needs --token" 2 "--token TOKEN is required" \
	"$ROOT" key generate "${K[@]}" --type ec-p256 --label x
check_fail "a wrong PIN: what the token says about tries" 1 \
	'incorrect PIN for token "Root" \(CKR_PIN_INCORRECT\); the token reports' \
	"$ROOT" key list --data "$D" --pin-file "$T/bad.pin"
check_fail "a missing token: the tokens that exist are listed" 1 \
	'no token matches pkcs11:token=Nope.*Tokens present: "Root"' \
	"$ROOT" key list "${K[@]}" --token Nope
check_fail "a missing key: the keys on the token are listed" 1 \
	'no private key on token "Root" matches .*object=nope\. Keys on the token: .*"k-ec-p256" \(ec-p256, id [0-9a-f]{16}\.\.\.\)' \
	"$ROOT" key show "${K[@]}" --key "pkcs11:token=Root;object=nope"
check_fail "pin-value in a URI is refused" 1 "pin-value in a PKCS#11 URI is refused" \
	"$ROOT" key show --data "$D" --key "pkcs11:object=k-ec-p256?pin-value=123456"
check_fail "a malformed URI names the offset and the rule" 1 \
	"offset 23: byte 0x20 is not allowed in the path value of object; percent-encode it as %20" \
	"$ROOT" key show "${K[@]}" --key "pkcs11:object=k-ec-p256 x"
check_fail "key show needs a URI, not a label" 2 "--key wants a pkcs11: URI" \
	"$ROOT" key show "${K[@]}" --key k-ec-p256
chmod 644 "$T/user.pin"
check_fail "a PIN file readable by others is refused" 1 "chmod 600" \
	"$ROOT" key list "${K[@]}"
chmod 600 "$T/user.pin"
check_fail "no PIN at all (no terminal): the three ways to give one" 1 \
	"no PIN given: use --pin-file FILE.*CAIRN_PIN" \
	bash -c "'$ROOT' key list --data '$D' </dev/null"
check_fail "no token can be guessed when several exist" 1 \
	"2 tokens match" \
	bash -c "CAIRN_SO_PIN=1111 CAIRN_PIN=2222 '$ROOT' token init --data '$D' --label Other >/dev/null && '$ROOT' key list ${K[*]}"
