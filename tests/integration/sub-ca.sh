#!/bin/bash
# sub-ca.sh: the online CA's life: init, the root's sign-subordinate
# ceremony, import of the signed media, then the daemon driven by curl
# with CSRs made by openssl req; every certificate checked by openssl
# verify, GnuTLS certtool and NSS vfychain up to the ceremony's root;
# template enforcement (ESC1/ESC6/ESC15), 403 for a template an account
# may not use, approval and role separation (ESC7), revocation visible in
# the next CRL (openssl crl), plain HTTP and NTLM refused (ESC8), bad
# input answered with a 4xx while others are served, SIGTERM, and the
# audit log verified.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 74

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
H=(--data "$D" --pin-file "$T/user.pin" --batch)
cd "$T" || exit 1
NB=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
# Two free ports for the daemon.
read -r HTTPS HTTP < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')

# ---- the root ----------------------------------------------------------
"$ROOT" token init --data "$D" --label Root --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
cat >root-init.yaml <<EOF
ceremony: root-init
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key, type: ec-p384 }
certificate:
  subject: { C: DE, O: Cairn Test, CN: Cairn Test Root }
  not_before: $NB
  validity: 20y
  path_length: 1
EOF
"$ROOT" run root-init.yaml --media m1 "${H[@]}" >/dev/null 2>&1

# ---- init --------------------------------------------------------------
S="$T/sub"
check_out "init makes the key in its own token, a CSR, config and store" \
	"public key SHA-256.*sub-ca.csr" bash -c "'$SUB' init --data '$S' \
	--media req --subject 'CN=Cairn Test Issuing CA,O=Cairn Test,C=DE' \
	--https 127.0.0.1:$HTTPS --http 127.0.0.1:$HTTP 2>&1 | tr '\n' ' '"
check_out "the PIN files and the store are private (600)" "^600 600 600 $" \
	bash -c "stat -c '%a' '$S/user.pin' '$S/so.pin' '$S/ca.db' | tr '\n' ' '"
check_fail "a second init in the same directory is refused" 1 "exists" \
	"$SUB" init --data "$S" --media req2
check_out "the CSR verifies (openssl req)" "verify OK|Certificate request self-signature verify OK" \
	openssl req -in req/sub-ca.csr -noout -verify
check_fail "serve before import says what to do" 1 "import" \
	"$SUB" serve --data "$S"

# ---- the root signs it; import -----------------------------------------
cat >sign-sub.yaml <<EOF
ceremony: sign-subordinate
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
request: req/sub-ca.csr
certificate:
  not_before: $NB
  validity: 5y
  crl_urls: [http://127.0.0.1:$HTTP/crl/root.crl]
EOF
"$ROOT" run sign-sub.yaml --media m2 "${H[@]}" >/dev/null 2>&1
cp -r m2 m2-tampered
echo x >>m2-tampered/sub-ca.pem
check_fail "import refuses tampered media" 1 "changed|digest" \
	"$SUB" import --data "$S" --media m2-tampered --root m1/root.pem
check_fail "the first import needs the root to pin" 2 "--root" \
	"$SUB" import --data "$S" --media m2
# Media for another subordinate's key is not this CA's certificate.
"$SUB" init --data "$T/other" --media req-other \
	--subject 'CN=Other Issuing CA,O=Cairn Test,C=DE' >/dev/null 2>&1
sed -e 's|^request: req/sub-ca.csr|request: req-other/sub-ca.csr|' sign-sub.yaml >sign-other.yaml
"$ROOT" run sign-other.yaml --media m-other "${H[@]}" >/dev/null 2>&1
check_fail "import refuses media whose certificate is for another key" 1 \
	"no certificate for this CA's key" \
	"$SUB" import --data "$S" --media m-other --root m1/root.pem
check_out "import verifies the media and installs the certificate" \
	"verify.*ca.pem" bash -c "'$SUB' import --data '$S' --media m2 \
	--root m1/root.pem 2>&1 | tr '\n' ' '"
check_out "the installed CA certificate verifies against the root" ": OK" \
	openssl verify -CAfile m1/root.pem "$S/ca.pem"
check_out "a first CRL is published" "CRL Number: *1 " \
	bash -c "openssl crl -inform DER -in '$S/publish/ca.crl' -noout -text | tr -s '\n ' ' '"

# Root CRLs: a newer one is installed, an older one never replaces it.
cat >crl.yaml <<EOF
ceremony: issue-crl
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
crl:
  this_update: $(date -u +%Y-%m-%dT%H:%M:%SZ)
  validity: 365d
EOF
"$ROOT" run crl.yaml --media mcrl1 "${H[@]}" >/dev/null 2>&1
sleep 1
sed -i "s/^  this_update: .*/  this_update: $(date -u +%Y-%m-%dT%H:%M:%SZ)/" crl.yaml
"$ROOT" run crl.yaml --media mcrl2 "${H[@]}" >/dev/null 2>&1
check_out "import installs a newer root CRL" "root CRLs: 1" \
	"$SUB" import --data "$S" --media mcrl2
check_fail "import refuses an older root CRL than the one installed (rollback)" 1 \
	"CRL number 1 is lower than 2, seen before: refusing an old CRL" \
	"$SUB" import --data "$S" --media mcrl1

# The configuration: strict, with the file and line of each problem.
cp "$S/cairn-sub.yaml" cfg.bak
sed -i 's/^  threads: \(.*\)$/  threads: \1\n  htps: "127.0.0.1:1"/' "$S/cairn-sub.yaml"
check_fail "an unknown configuration key is reported with its file and line" 1 \
	"cairn-sub.yaml:[0-9]+(:[0-9]+)?: .*htps" "$SUB" list --data "$S"
cp cfg.bak "$S/cairn-sub.yaml"

# ---- accounts and roles --------------------------------------------------
printf 'alice-password-1\n' >alice.pw
printf 'bob-password-123\n' >bob.pw
printf 'carol-password-1\n' >carol.pw
check "an enrollee account with a password" \
	"$SUB" account add alice --data "$S" --role enrollee \
	--email alice@example.org --password-file alice.pw
"$SUB" account add bob --data "$S" --role manager --password-file bob.pw >/dev/null
"$SUB" account add carol --data "$S" --role admin --password-file carol.pw >/dev/null
check_fail "separation: a manager cannot also be admin" 1 "at most one of admin, manager and auditor" \
	"$SUB" account role bob --role admin --data "$S"
"$SUB" account role carol --role enrollee --data "$S" >/dev/null

# A template that needs approval and is open to enrollees (ESC7 below).
sed -e 's/^template: WebServer/template: ApprovedServer/' \
	-e 's/^approval: false/approval: true/' \
	"$S/templates/WebServer.yaml" >"$S/templates/ApprovedServer.yaml"
chmod 600 "$S/templates/ApprovedServer.yaml"

# ---- the daemon ----------------------------------------------------------
"$SUB" serve --data "$S" --pid-file serve.pid >serve.log 2>&1 &
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP/ca/ca.der" && break
	sleep 0.2
done
PID=$(cat serve.pid 2>/dev/null)
check_out "serve prints its URLs" "REST: +https://127.0.0.1:$HTTPS/api/v1/" cat serve.log
C=(curl -s --cacert m1/root.pem)
API="https://127.0.0.1:$HTTPS/api/v1"

# post USER TEMPLATE CSRFILE OUT: POST the CSR, print the HTTP status
post() {
	"${C[@]}" -u "$1:$(cat "$1.pw")" -o "$4" -w '%{http_code}' \
		-H 'Content-Type: application/pkcs10' --data-binary @"$3" \
		"$API/requests?template=$2"
}
cert_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout www.key -subj "/CN=www.example.org" \
	-addext "subjectAltName=DNS:www.example.org,DNS:api.example.org" \
	-out www.csr 2>/dev/null
check_eq "REST issues a WebServer certificate (201)" 201 "$(post alice WebServer www.csr www.json)"
cert_of www.json certificate >www.pem
cert_of www.json chain >www-chain.pem
check_out "the server's TLS certificate verified with only the root (curl)" "." \
	"${C[@]}" "https://127.0.0.1:$HTTPS/"
check_out "openssl verify: leaf -> sub -> root" "www.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" www.pem
check_out "GnuTLS certtool --verify-chain" "Chain verification output: Verified" \
	bash -c "cat www.pem '$S/ca.pem' m1/root.pem | certtool --verify-chain"
mkdir nssdb && certutil -N -d nssdb --empty-password
certutil -A -d nssdb -n root -t "C,," -i m1/root.pem
certutil -A -d nssdb -n sub -t ",," -i "$S/ca.pem"
openssl x509 -in www.pem -outform DER -out www.der
check_out "NSS vfychain validates the chain to the root" "Chain is good" \
	vfychain -d nssdb -u 1 -pp www.der
check_out "the certificate has the template's EKU, the CSR's names, CDP and AIA" \
	"TLS Web Server Authentication.*URI:http://127.0.0.1:$HTTP/crl/ca.crl.*CA Issuers - URI:http://127.0.0.1:$HTTP/ca/ca.der.*DNS:www.example.org, DNS:api.example.org" \
	bash -c "openssl x509 -in www.pem -noout -text | tr '\n' ' '"
check_out "a 128-bit serial" "^serial=[0-7][0-9A-F]{31}$" \
	openssl x509 -in www.pem -noout -serial
check_out "the chain download is the CA and the root" "Cairn Test Issuing CA.*Cairn Test Root" \
	bash -c "'${C[0]}' -s --cacert m1/root.pem '$API/ca/chain' | openssl storeutl -noout -text /dev/stdin 2>/dev/null | grep Subject: | tr '\n' ' '"

# ESC1 / ESC6 / ESC15: ClientAuth takes no names from the request.
cat >evil.cnf <<'EOF'
[req]
distinguished_name = dn
attributes = attrs
prompt = no
[dn]
CN = administrator
O = Evil Corp
[attrs]
challengePassword = san:upn=administrator@example.org
[ext]
subjectAltName = email:administrator@example.org,DNS:dc01.example.org,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@example.org
extendedKeyUsage = clientAuth, 1.3.6.1.4.1.311.20.2.1
1.3.6.1.4.1.311.21.10 = ASN1:SEQUENCE:apppol
[apppol]
p1 = SEQUENCE:pol1
[pol1]
o = OID:1.3.6.1.4.1.311.20.2.1
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout evil.key -config evil.cnf -reqexts ext -out evil.csr 2>/dev/null
check_eq "a CSR asking for administrator names is issued on ClientAuth" 201 \
	"$(post alice ClientAuth evil.csr evil.json)"
cert_of evil.json certificate >evil.pem
check_out "ESC1: the subject is the account, not the CSR's" "^subject=O = Example Organisation, CN = alice$" \
	openssl x509 -in evil.pem -noout -subject
check "ESC1/ESC6: no SAN at all, from the extension or the attribute" \
	bash -c "openssl x509 -in evil.pem -noout -text >evil.txt && grep -q 'Client Authentication' evil.txt && ! grep -Ei 'Alternative|administrator|dc01' evil.txt"
check "ESC15: no application policies, no certificate-request-agent EKU" \
	bash -c "grep -q 'Client Authentication' evil.txt && ! grep -E '1\.3\.6\.1\.4\.1\.311\.(21\.10|20\.2\.1)|Agent' evil.txt"
check_out "the response names what was dropped" "dropped|ignored" cat evil.json
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout o.key -subj "/CN=evil.attacker.net" \
	-addext "subjectAltName=DNS:evil.attacker.net" -out outside.csr 2>/dev/null
check_eq "WebServer refuses a name outside its suffixes (422)" 422 \
	"$(post alice WebServer outside.csr out.json)"
check_eq "an account without the template's role gets 403" 403 \
	"$(post bob WebServer www.csr bob.json)"
check_eq "an unknown template is 404" 404 "$(post alice NoSuchTemplate www.csr x.json)"
check_eq "a wrong password is 401" 401 \
	"$("${C[@]}" -u alice:wrong -o /dev/null -w '%{http_code}' --data-binary @www.csr "$API/requests?template=WebServer")"
printf 'frank-password-1\n' >frank.pw
"$SUB" account add frank --data "$S" --role enrollee --password-file frank.pw >/dev/null
for _ in 1 2 3 4 5; do
	"${C[@]}" -u frank:guess -o /dev/null --data-binary @www.csr "$API/requests?template=WebServer"
done
check_eq "after five wrong passwords from one address, even the right one is refused from there (401)" 401 \
	"$("${C[@]}" -u frank:frank-password-1 -o frank.json -w '%{http_code}' --data-binary @www.csr "$API/requests?template=WebServer")"
check_out "...saying so" "too many wrong passwords for this account from this address" cat frank.json

# Approval and ESC7.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ocsp.key -subj "/CN=ocsp.example.org" -out ocsp.csr 2>/dev/null
check_eq "OCSPSigning needs approval: 202 pending" 202 "$(post carol OCSPSigning ocsp.csr ocsp.json)"
RID=$(cert_of ocsp.json id)
check_eq "the admin who asked cannot approve (not a manager)" 403 \
	"$("${C[@]}" -u carol:carol-password-1 -o /dev/null -w '%{http_code}' -X POST "$API/requests/$RID/approve")"
check_out "the request shows pending to its requester" '"status":"pending"' \
	"${C[@]}" -u carol:carol-password-1 "$API/requests/$RID"
check_eq "the manager approves: 201 with the certificate" 201 \
	"$("${C[@]}" -u bob:bob-password-123 -o appr.json -w '%{http_code}' -X POST "$API/requests/$RID/approve")"
cert_of appr.json certificate >ocsp.pem
check_out "the OCSP signer has OCSPSigning and ocsp-nocheck" "OCSP Signing.*OCSP No Check" \
	bash -c "openssl x509 -in ocsp.pem -noout -text | tr '\n' ' '"
printf 'dave-password-12\n' >dave.pw
"$SUB" account add dave --data "$S" --role manager --password-file dave.pw >/dev/null
"$SUB" account role dave --role enrollee --data "$S" >/dev/null
check_eq "a manager's own pending request..." 202 "$(post dave ApprovedServer www.csr dave.json)"
DID=$(cert_of dave.json id 2>/dev/null)
check_eq "...cannot be approved by that manager (ESC7)" 403 \
	"$("${C[@]}" -u dave:dave-password-12 -o /dev/null -w '%{http_code}' -X POST "$API/requests/$DID/approve")"

# Revocation and the CRL.
SERIAL=$(cert_of www.json serial)
check_eq "an enrollee cannot revoke" 403 \
	"$("${C[@]}" -u alice:alice-password-1 -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"keyCompromise"}' "$API/certificates/$SERIAL/revoke")"
t0=$(date +%s%N)
check_eq "the manager revokes it" 200 \
	"$("${C[@]}" -u bob:bob-password-123 -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"keyCompromise"}' "$API/certificates/$SERIAL/revoke")"
curl -s -o now.crl "http://127.0.0.1:$HTTP/crl/ca.crl"
t1=$(date +%s%N)
check_out "the CRL served at the CDP lists it with its reason (openssl crl)" \
	"Serial Number: ${SERIAL^^}.*Key Compromise" \
	bash -c "openssl crl -inform DER -in now.crl -noout -text | tr '\n' ' '"
check_out "the CRL verifies with the CA certificate" "verify OK" \
	openssl crl -inform DER -in now.crl -noout -CAfile <(cat "$S/ca.pem" m1/root.pem)
check_eq "revoked and published within a second" 1 "$(( (t1 - t0) < 1000000000 ))"

# Hold and un-hold (RFC 5280 certificateHold).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout hold.key -subj "/CN=hold.example.org" \
	-addext "subjectAltName=DNS:hold.example.org" -out hold.csr 2>/dev/null
post alice WebServer hold.csr hold.json >/dev/null
HOLD=$(cert_of hold.json serial)
check_eq "the manager puts a certificate on hold" 200 \
	"$("${C[@]}" -u bob:bob-password-123 -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"certificateHold"}' "$API/certificates/$HOLD/revoke")"
check_out "the CRL lists it as on hold" "Serial Number: ${HOLD^^} .*Certificate Hold" \
	bash -c "curl -s 'http://127.0.0.1:$HTTP/crl/ca.crl' | openssl crl -inform DER -noout -text | tr '\n' ' ' | tr -s ' '"
check_out "un-hold takes it off hold" "." "$SUB" unhold "$HOLD" --data "$S"
check_eq "the next CRL no longer lists it" 0 \
	"$(curl -s "http://127.0.0.1:$HTTP/crl/ca.crl" | openssl crl -inform DER -noout -text | grep -c "${HOLD^^}")"
check_fail "un-hold of a certificate that is not on hold is refused" 1 \
	"not on hold|certificateHold" "$SUB" unhold "$SERIAL" --data "$S"

# ESC8 and plain HTTP.
check_eq "a POST over plain HTTP is refused (403)" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary @www.csr "http://127.0.0.1:$HTTP/api/v1/requests?template=WebServer")"
check_eq "an NTLM Authorization header is refused (401)" 401 \
	"$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==' --data-binary @www.csr "$API/requests?template=WebServer")"

# TLS client certificates: bound to an account by issuer and serial, never
# by a name inside (ESC9/10/14); revoked ones stop working.
check_out "alice's ClientAuth certificate is bound to her account" "." \
	"$SUB" account cert alice --cert evil.pem --data "$S"
CC=(curl -s --cacert m1/root.pem --cert evil.pem --key evil.key)
check_eq "with that certificate and no password, alice enrolls (201)" 201 \
	"$("${CC[@]}" -o cc.json -w '%{http_code}' -H 'Content-Type: application/pkcs10' --data-binary @www.csr "$API/requests?template=WebServer")"
check_out "...and the request is recorded as hers" '"requester":"alice"' \
	"${CC[@]}" "$API/requests/$(cert_of cc.json id)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout carol-c.key -subj "/CN=carol" -out carol-c.csr 2>/dev/null
post carol ClientAuth carol-c.csr carol-c.json >/dev/null
cert_of carol-c.json certificate >carol-c.pem
check_eq "a certificate of this CA bound to no account is refused (401)" 401 \
	"$(curl -s --cacert m1/root.pem --cert carol-c.pem --key carol-c.key -o /dev/null -w '%{http_code}' "$API/requests/1")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout fake.key -subj "/CN=bob" -addext "extendedKeyUsage=clientAuth" \
	-days 2 -out fake.pem 2>/dev/null
check_eq "a self-made certificate naming the manager bob is refused (401)" 401 \
	"$(curl -s --cacert m1/root.pem --cert fake.pem --key fake.key -o /dev/null -w '%{http_code}' -X POST "$API/requests/$DID/approve")"
EVIL_SERIAL=$(cert_of evil.json serial)
"${C[@]}" -u bob:bob-password-123 -o /dev/null -X POST -d '{"reason":"keyCompromise"}' "$API/certificates/$EVIL_SERIAL/revoke"
check_eq "once revoked, alice's client certificate no longer authenticates (401)" 401 \
	"$("${CC[@]}" -o cc2.json -w '%{http_code}' "$API/requests/$(cert_of cc.json id)")"
check_out "...and says why" "revoked" cat cc2.json

# Bad input.
head -c 300 www.csr >trunc.csr
check_eq "a truncated CSR is 400" 400 "$(post alice WebServer trunc.csr bad.json)"
check_out "with a message that says so" "bad_csr" cat bad.json
openssl req -in www.csr -outform DER -out www.csr.der
python3 -c 'import sys; b=bytearray(open("www.csr.der","rb").read()); b[-5]^=1; open("badsig.der","wb").write(b)'
check_eq "a CSR with a bad signature is 400" 400 "$(post alice WebServer badsig.der bad2.json)"
check_out "...saying the signature does not verify" "signature does not verify" cat bad2.json
head -c 10000000 /dev/zero >big.bin
check_eq "a 10 MB body is 413" 413 "$(post alice WebServer big.bin /dev/null)"
exec 7<>/dev/tcp/127.0.0.1/"$HTTPS"
printf 'GET / HT' >&7
check_eq "a client that never finishes does not block others" 201 \
	"$(post alice WebServer www.csr www2.json)"
exec 7>&-

# Stop, and the audit log.
kill -TERM "$PID"
for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID"
check_eq "SIGTERM stops the daemon with status 0" 0 "$?"
check_out "it said it stopped cleanly, and no sanitizer complained" "^cairn-sub: stopped$" \
	bash -c "grep -v -e '^ *$' serve.log | tail -1; ! grep -q Sanitizer serve.log"
check_out "the audit log verifies with the CA's key" "chain intact" \
	"$SUB" audit verify --data "$S" --out audit.jsonl
check_out "the refusals are in it, with their reasons" 'CAIRN_E_POLICY","event":"request refused","prev":"[0-9a-f]+","reason":"subject CN .*CAIRN_E_DENIED","event":"approval refused' \
	bash -c "tr '\n' ' ' <audit.jsonl"
check_out "cairn-root audit verify agrees on the export" "." \
	bash -c "head -n \$(grep -n '\"type\":\"checkpoint\"' audit.jsonl | tail -1 | cut -d: -f1) audit.jsonl >a2.jsonl && '$ROOT' audit verify a2.jsonl --root '$S/ca.pem'"
check_out "list shows the revoked certificate" "$SERIAL.*keyCompromise" \
	"$SUB" list --data "$S" --status revoked
