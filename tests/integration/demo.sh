#!/bin/bash
# demo.sh: the README's demo steps (scripts/demo-run) on this build: they
# run a root-init ceremony, set up the subordinate CA and leave its daemon
# running; what they print agrees with the token, the certificate and the
# verifiers, and the daemon they leave issues a certificate over REST.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 10

read -r P1 P2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
export CAIRN_DEMO_HTTPS=127.0.0.1:$P1 CAIRN_DEMO_HTTP=127.0.0.1:$P2
stop_demo() {
	[ -s "$T/demo/sub/serve.pid" ] && kill "$(cat "$T/demo/sub/serve.pid")" 2>/dev/null
	sleep 0.5
	rm -rf "$T"
}
trap stop_demo EXIT

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
check_out "the demo ends with the daemon's URLs, credentials and how to stop it" \
	"REST enrollment: +https://127.0.0.1:$P1/api/v1/.*CRL \\(CDP\\): +http://127.0.0.1:$P2/crl/ca.crl.*passwords in .*stop it: +kill" \
	bash -c "'$CAIRN_SRCDIR/scripts/demo-run' '$CAIRN_BUILDDIR' '$T/demo' | tr '\n' ' '"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/www.key" -subj /CN=www.example.org -out "$T/www.csr" 2>/dev/null
check_out "the running daemon issues over REST with the demo account" '"status":"issued"' \
	curl -s --cacert "$T/demo/media/root.pem" -u "demo:$(cat "$T/demo/demo.pw")" \
	--data-binary @"$T/www.csr" "https://127.0.0.1:$P1/api/v1/requests?template=WebServer"
check_out "its CRL is served at the CDP" "Cairn Demo Issuing CA" \
	bash -c "curl -s http://127.0.0.1:$P2/crl/ca.crl | openssl crl -inform DER -noout -issuer"
check_out "running the demo again stops the old daemon and starts afresh" \
	"Removing the previous demo.*serving" \
	bash -c "'$CAIRN_SRCDIR/scripts/demo-run' '$CAIRN_BUILDDIR' '$T/demo' | tr '\n' ' '"
