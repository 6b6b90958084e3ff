#!/bin/bash
# durability.sh: what "nothing lost" means for the online CA, tested by
# killing it.
#
# 1. Failpoints: the daemon dies by SIGKILL at each step of one issuance
#    (before the intent, after the intent is committed, after the HSM
#    signed, after the certificate is committed but before the client has
#    it).  And when the audit log cannot be written, nothing is signed.  After each crash: no certificate is reported good that was not
#    recorded issued; a row left at 'intended' is listed as such, is not
#    served, and can be revoked (it then shows in the CRL).
# 2. Load: eight curl clients issue certificates concurrently while the
#    daemon is killed with SIGKILL five times and restarted.  Afterwards
#    every certificate any client received is in the store, byte for
#    byte, and verifies to the root; no serial repeats; the audit chain
#    verifies with the CA's key.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
. "$CAIRN_SRCDIR/tests/twotier.sh"
plan 28

ROOT_BIN=$ROOT
SUB_BIN="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
SUB=$SUB_BIN
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
read -r HTTPS HTTP < <(free_ports 2)
twotier_setup "$T" "$HTTPS" "$HTTP" || { echo "Bail out! setup failed"; exit 1; }
S=$T/sub
sed -i 's/^  threads: .*/  threads: 8/' "$S/cairn-sub.yaml"
printf 'alice-password-1\n' >alice.pw
"$SUB" account add alice --data "$S" --role enrollee --password-file alice.pw >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout www.key -subj "/CN=www.example.org" \
	-addext "subjectAltName=DNS:www.example.org" -out www.csr 2>/dev/null
API="https://127.0.0.1:$HTTPS/api/v1"
C=(curl -s --cacert "$T/m1/root.pem" -u alice:alice-password-1)
# sql QUERY: one value from the store, read by Python's sqlite3 (not ours)
sql() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$S/ca.db" "$1"; }
post() { "${C[@]}" -H 'Content-Type: application/pkcs10' --data-binary @www.csr -o "$1" -w '%{http_code}' "$API/requests?template=WebServer"; }
serve_with() { # FAILPOINT: start the daemon with that failpoint armed
	CAIRN_TEST_FAILPOINT=$1 twotier_serve "$T" "$T/serve.log"
}

# ---- 1. one crash at each failpoint ------------------------------------
# A first start issues the daemon's own HTTPS certificate (through the
# same path, which the failpoints would stop).
twotier_serve "$T" "$T/serve.log" && twotier_stop
for fp in before-intent after-intent after-sign after-store; do
	n_int=$(sql "SELECT count(*) FROM certs WHERE status = 'intended'")
	n_iss=$(sql "SELECT count(*) FROM certs WHERE status = 'issued'")
	serve_with "$fp" || { echo "Bail out! serve did not start"; exit 1; }
	code=$(post "fp-$fp.json")
	wait "$SERVE_PID"
	rc=$?
	SERVE_PID=
	case $fp in
	before-intent) want_int=$n_int; want_iss=$n_iss ;;
	after-intent | after-sign) want_int=$((n_int + 1)); want_iss=$n_iss ;;
	after-store) want_int=$n_int; want_iss=$((n_iss + 1)) ;;
	esac
	check_eq "$fp: the daemon died by SIGKILL and the client got no certificate" \
		"137 000" "$rc $code"
	check_eq "$fp: the store holds what that moment left (intended, issued)" \
		"$want_int $want_iss" \
		"$(sql "SELECT count(*) FROM certs WHERE status = 'intended'") $(sql "SELECT count(*) FROM certs WHERE status = 'issued'")"
done

twotier_serve "$T" "$T/serve.log" || { echo "Bail out! serve did not start"; exit 1; }
INT=$(sql "SELECT serial FROM certs WHERE status = 'intended' LIMIT 1")
check_out "an intended row is listed as intended" "$INT" \
	"$SUB" list --data "$S" --status intended
check_eq "...and is never listed as issued" 0 \
	"$("$SUB" list --data "$S" --status issued | grep -c "$INT")"
check_eq "...nor served as a certificate (404)" 404 \
	"$("${C[@]}" -o /dev/null -w '%{http_code}' "$API/certificates/$INT")"
check_eq "...and its request never reads issued" "issuing" \
	"$(sql "SELECT r.status FROM requests r JOIN certs c ON c.request_id = r.id WHERE c.serial = '$INT'")"
check_out "the operator revokes the intended row" "revoked" \
	"$SUB" revoke "$INT" --reason cessationOfOperation --data "$S"
curl -s -o now.crl "http://127.0.0.1:$HTTP/crl/ca.crl"
check_out "...and the CRL lists it" "Serial Number: ${INT^^}" \
	bash -c "openssl crl -inform DER -in now.crl -noout -text"
STORED=$(sql "SELECT serial FROM certs WHERE status = 'issued' ORDER BY created DESC LIMIT 1")
check_eq "after-store: the recorded certificate is served after the restart" 200 \
	"$("${C[@]}" -o stored.pem -w '%{http_code}' "$API/certificates/$STORED")"

# If the audit log cannot be written, nothing is signed: a trigger (added
# by Python's sqlite3, as a full disk or a broken table would) makes
# every audit insert fail.
n_certs=$(sql "SELECT count(*) FROM certs")
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TRIGGER audit_broken BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, '"'"'audit write failed (test)'"'"'); END"); c.commit()' "$S/ca.db"
check_eq "with the audit log unwritable, a request is refused (500)" 500 "$(post noaudit.json)"
check_out "...with an error that sends the client to the operator, not the detail" \
	'"code":"internal"' cat noaudit.json
check_eq "...and nothing was recorded or signed (no certificate row, not even intended)" \
	"$n_certs" "$(sql "SELECT count(*) FROM certs")"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DROP TRIGGER audit_broken"); c.commit()' "$S/ca.db"
check_eq "once the log can be written again, issuance resumes (201)" 201 "$(post audit-back.json)"
twotier_stop
SERVE_PID=

# ---- 2. concurrent load, SIGKILL five times ----------------------------
mkdir got
# client N: issue until told to stop; keep every 201 answer.
client() {
	local i=0
	while [ ! -e stop ]; do
		i=$((i + 1))
		code=$("${C[@]}" --max-time 10 -H 'Content-Type: application/pkcs10' \
			--data-binary @www.csr -o "got/$1.$i.json" -w '%{http_code}' \
			"$API/requests?template=WebServer")
		[ "$code" = 201 ] || rm -f "got/$1.$i.json"
		[ "$code" = 201 ] || sleep 0.05
	done
}
twotier_serve "$T" "$T/serve.log" || { echo "Bail out! serve did not start"; exit 1; }
for c in 1 2 3 4 5 6 7 8; do client "$c" & done
kills=0
for k in 1 2 3 4 5; do
	sleep "0.$((RANDOM % 7 + 4))"
	kill -9 "$SERVE_PID" && kills=$((kills + 1))
	wait "$SERVE_PID" 2>/dev/null
	twotier_serve "$T" "$T/serve.log" || break
done
sleep 1
touch stop
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null
twotier_stop
SERVE_PID=
check_eq "the daemon was killed five times under load and came back each time" 5 "$kills"

python3 - "$S/ca.db" got >check.txt 2>&1 <<'EOF'
import base64, hashlib, json, os, sqlite3, ssl, sys
db = sqlite3.connect(sys.argv[1])
rows = {s: (st, der) for s, st, der in db.execute("SELECT serial, status, der FROM certs")}
got, missing, differ, serials = 0, 0, 0, []
for f in sorted(os.listdir(sys.argv[2])):
    j = json.load(open(os.path.join(sys.argv[2], f)))
    der = ssl.PEM_cert_to_DER_cert(j["certificate"])
    got += 1
    serials.append(j["serial"])
    r = rows.get(j["serial"])
    if r is None or r[0] != "issued":
        missing += 1
    elif r[1] != der:
        differ += 1
print("received", got)
print("missing", missing)
print("differ", differ)
print("repeats", len(serials) - len(set(serials)))
EOF
received=$(sed -n 's/^received //p' check.txt)
check_out "clients received certificates during the crashes" "^received [1-9][0-9]*$" \
	grep '^received' check.txt
check_eq "every certificate a client received is in the store as issued" \
	"missing 0" "$(grep '^missing' check.txt)"
check_eq "...byte for byte" "differ 0" "$(grep '^differ' check.txt)"
check_eq "no serial was handed out twice" "repeats 0" "$(grep '^repeats' check.txt)"
check_eq "the store has no serial twice (PRIMARY KEY, checked anyway)" 0 \
	"$(sql "SELECT count(*) - count(DISTINCT serial) FROM certs")"
first=$(ls got | head -1)
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificate"])' "got/$first" >first.pem
check_out "a certificate received under load verifies to the root (openssl)" ": OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" first.pem
check_out "the audit chain verifies with the CA's key after the crashes" "chain intact" \
	"$SUB" audit verify --data "$S" --out audit.jsonl
check_out "the serve log shows no sanitizer report" "^clean$" \
	bash -c "! grep -q Sanitizer '$T/serve.log' && echo clean"
