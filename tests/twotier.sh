# twotier.sh: a root and an issuing CA on this machine, for the tests and
# benchmarks that need a running cairn-sub (sourced, bash).
#
#   twotier_setup DIR HTTPS_PORT HTTP_PORT [KEY_TYPE]
#       DIR/hsm: a SoftHSM2 token with the root key (root-init, batch);
#       DIR/m1/root.pem: the root; DIR/sub: the issuing CA (cairn-sub
#       init, sign-subordinate, import), listening on 127.0.0.1 at the
#       ports given; DIR/user.pin and DIR/so.pin the root token's PINs.
#       $TWOTIER_SUBJECT names the issuing CA (default "CN=Cairn Test
#       Issuing CA,O=Cairn Test,C=DE").  Needs $ROOT_BIN and $SUB_BIN.
#   twotier_ceremonies DIR HTTPS_PORT HTTP_PORT [KEY_TYPE]
#       the same up to the signed media DIR/m2, without the import (for
#       a test that adds a ceremony of its own first).
#   twotier_serve DIR [LOG]
#       starts `cairn-sub serve` on DIR/sub in the background, waits until
#       it answers, and sets SERVE_PID.
#   twotier_stop
#       SIGTERM to SERVE_PID, and waits for it.
#   free_ports N
#       prints N free TCP ports on 127.0.0.1.

free_ports() {
	python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])' "$1"
}

twotier_setup() {
	twotier_ceremonies "$@" &&
		"$SUB_BIN" import --data "$1/sub" --media "$1/m2" \
		--root "$1/m1/root.pem" >/dev/null 2>&1
}

twotier_ceremonies() {
	local d=$1 https=$2 http=$3 kt=${4:-ec-p256}
	local subject=${TWOTIER_SUBJECT:-CN=Cairn Test Issuing CA,O=Cairn Test,C=DE}
	local nb
	nb=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
	mkdir -p "$d" || return 1
	(umask 077; printf '123456\n' >"$d/user.pin"; printf '987654\n' >"$d/so.pin")
	"$ROOT_BIN" token init --data "$d/hsm" --label Root \
		--so-pin-file "$d/so.pin" --pin-file "$d/user.pin" >/dev/null ||
		return 1
	cat >"$d/root-init.yaml" <<EOF
ceremony: root-init
operator: Test Operator
witnesses: [Test Witness]
token: { label: Root }
key: { label: root-key, type: ec-p384 }
certificate:
  subject: { C: DE, O: Cairn Test, CN: Cairn Test Root }
  not_before: $nb
  validity: 20y
  path_length: 1
EOF
	"$ROOT_BIN" run "$d/root-init.yaml" --media "$d/m1" --data "$d/hsm" \
		--pin-file "$d/user.pin" --batch >/dev/null 2>&1 || return 1
	"$SUB_BIN" init --data "$d/sub" --media "$d/req" --key-type "$kt" \
		--subject "$subject" \
		--https "127.0.0.1:$https" --http "127.0.0.1:$http" \
		>/dev/null 2>&1 || return 1
	cat >"$d/sign-sub.yaml" <<EOF
ceremony: sign-subordinate
operator: Test Operator
witnesses: [Test Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
request: req/sub-ca.csr
certificate:
  not_before: $nb
  validity: 5y
  crl_urls: [http://127.0.0.1:$http/crl/root.crl]
EOF
	(cd "$d" && "$ROOT_BIN" run sign-sub.yaml --media m2 --data hsm \
		--pin-file user.pin --batch >/dev/null 2>&1)
}

twotier_serve() {
	local d=$1 log=${2:-$1/serve.log} port
	port=$(sed -n 's/^ *http: *"\{0,1\}127.0.0.1:\([0-9]*\).*/\1/p' \
		"$d/sub/cairn-sub.yaml")
	"$SUB_BIN" serve --data "$d/sub" >>"$log" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/ca/ca.der" &&
			return 0
		kill -0 "$SERVE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

twotier_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
}
