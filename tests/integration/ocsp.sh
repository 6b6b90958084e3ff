#!/bin/bash
# ocsp.sh: the OCSP responder (docs/ocsp.md).  A root ceremony, a
# subordinate CA with the root's pre-signed answer for it, certificates
# issued on the command line and over REST; then good, revoked (reason
# and time) and unknown answers checked with three clients that others
# wrote: OpenSSL `openssl ocsp`, GnuTLS `ocsptool` and NSS (`vfychain`
# with OCSP checking from the certificate's AIA, and `ocspclnt`); POST and
# GET (base64 with '+', '/', '=' and their percent-encodings) with RFC
# 5019 caching headers; a revocation visible within a second (REST in the
# daemon, and the admin command from another process); the root-level
# answer for the subordinate; bad input with its OCSP error status; the
# nonce rule; signer renewal; the standalone `cairn-sub ocsp serve`.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
. "$CAIRN_SRCDIR/tests/twotier.sh"
plan 61

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
D="$T/hsm"
H=(--data "$D" --pin-file "$T/user.pin" --batch)
cd "$T" || exit 1
NB=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
read -r HTTPS HTTP P3 < <(free_ports 3)
PIDS=()
# OCSP_TEST_KEEP=1 keeps the directory for a look after a failure.
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${OCSP_TEST_KEEP:-}" ] && echo "# kept $T" || rm -rf "$T"
}
trap cleanup EXIT
URL="http://127.0.0.1:$HTTP/ocsp"

# ---- root, subordinate, the root's pre-signed answer -------------------
ROOT_BIN=$ROOT SUB_BIN=$SUB TWOTIER_SUBJECT='CN=Cairn OCSP Issuing CA,O=Cairn Test,C=DE' \
	twotier_ceremonies "$T" "$HTTPS" "$HTTP"
S="$T/sub"
cat >sign-ocsp.yaml <<EOF
ceremony: sign-ocsp
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
certificates: [m2/sub-ca.pem]
responses:
  this_update: $NB
  validity: 180d
EOF
"$ROOT" run sign-ocsp.yaml --media m3 "${H[@]}" >/dev/null 2>&1
"$SUB" import --data "$S" --media m2 --root m1/root.pem >/dev/null 2>&1
check_out "import installs the root's pre-signed OCSP answer for this CA" \
	"pre-signed root OCSP responses: 1" "$SUB" import --data "$S" --media m3
check_out "init wrote the OCSP URL and the ocsp section" "ocsp: http://127.0.0.1:$HTTP/ocsp.*signer: delegated" \
	bash -c "tr '\n' ' ' <'$S/cairn-sub.yaml'"
cp "$S/ca.pem" sub.pem
cat sub.pem m1/root.pem >chain.pem

# Certificates issued before the daemon ever ran: the CLI finds no signer
# yet, the daemon's first pass signs their responses.
mkcsr() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$1.key" -subj "/CN=$1.example.org" \
	-addext "subjectAltName=DNS:$1.example.org" -out "$1.csr" 2>/dev/null; }
for n in www api; do
	mkcsr $n
	"$SUB" request --data "$S" --template WebServer --csr $n.csr --out $n.pem >/dev/null 2>&1
done
check_out "certificates carry the responder's URL (AIA id-ad-ocsp)" "OCSP - URI:$URL" \
	openssl x509 -in www.pem -noout -text

# ---- the daemon -----------------------------------------------------------
start_daemon() { # LOG [env...]
	local log=$1
	shift
	env "$@" "$SUB" serve --data "$S" --pid-file serve.pid >"$log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	for _ in $(seq 150); do
		grep -q "ocsp: .*ready" "$log" && break
		sleep 0.2
	done
}
start_daemon serve.log
check_out "the daemon signs the missing responses, then says it is ready" \
	"signing with delegated responder [0-9a-f]{32}.*responses in memory, [0-9]+ signed now, ready" \
	bash -c "tr '\n' ' ' <serve.log"

# q CERT [args]: ask with openssl ocsp over POST, verify with the root
q() {
	local c=$1
	shift
	openssl ocsp -issuer sub.pem -cert "$c" -url "$URL" -CAfile m1/root.pem \
		-verify_other sub.pem -no_nonce "$@" 2>&1
}
export -f q
export URL
check_out "openssl ocsp: good, the delegated responder's signature verifies" \
	"Response verify OK.*www.pem: good.*Next Update" bash -c "q www.pem | tr '\n' ' '"
check_out "the signer is a delegated responder: OCSPSigning and ocsp-nocheck, issued by the CA" \
	"Issuer: CN ?= ?Cairn OCSP Issuing CA, O ?= ?Cairn Test, C ?= ?DE.*OCSP Signing.*OCSP No Check" \
	bash -c "q www.pem -resp_text | tr '\n' ' '"
check_out "validity is the configured 4 days (nextUpdate - thisUpdate)" "^345600$" \
	python3 -c '
import subprocess,re,sys,datetime as d
o=subprocess.run(["openssl","ocsp","-issuer","sub.pem","-cert","www.pem","-url",sys.argv[1],"-noverify","-no_nonce","-resp_text"],capture_output=True,text=True).stdout
f=lambda k: d.datetime.strptime(re.search(k+r": (.*GMT)",o).group(1),"%b %d %H:%M:%S %Y GMT")
print(int((f("Next Update")-f("This Update")).total_seconds()))' "$URL"
check_out "GnuTLS ocsptool: good, verified" "Certificate Status: good.*Verifying OCSP Response: Success" \
	bash -c "ocsptool --ask='$URL' --load-issuer sub.pem --load-cert www.pem --load-trust chain.pem --no-nonce 2>&1 | tr '\n' ' '"
mkdir nssdb && certutil -N -d nssdb --empty-password
certutil -A -d nssdb -n root -t "C,," -i m1/root.pem
certutil -A -d nssdb -n sub -t ",," -i sub.pem
openssl x509 -in www.pem -outform DER -out www.der
openssl x509 -in api.pem -outform DER -out api.der
certutil -A -d nssdb -n www -t ",," -i www.pem
vfy() { vfychain -d nssdb -pp -u 1 -g leaf -h requireFreshInfo -m ocsp -s failIfNoInfo "$1" 2>&1; }
check_out "NSS vfychain with OCSP required (URL from the AIA): chain is good" "Chain is good" vfy www.der
check_out "NSS ocspclnt: the status check of www succeeds" "Check of certificate \"www\" succeeded" ocspclnt -S www -d nssdb

# ---- GET (RFC 5019), caching headers ----------------------------------------
openssl ocsp -issuer sub.pem -cert www.pem -no_nonce -reqout www.req >/dev/null 2>&1
B64=$(base64 -w0 www.req)
curl -s -D get.h -o get.der "$URL/$B64"
check_out "GET with the base64 request in the path: good" "www.req|good" \
	bash -c "openssl ocsp -respin get.der -issuer sub.pem -cert www.pem -noverify -no_nonce 2>&1 | tr '\n' ' '"
check_out "RFC 5019 headers: content type, max-age tied to nextUpdate, ETag, Last-Modified, Expires" \
	"Content-Type: application/ocsp-response.*Cache-Control: max-age=3[0-9]{5}, public, no-transform, must-revalidate.*Last-Modified: .* GMT.*Expires: .* GMT.*ETag: \"[0-9a-f]{32}\"" \
	bash -c "tr -d '\r' <get.h | tr '\n' ' '"
ENC=$(printf %s "$B64" | sed -e 's/+/%2B/g' -e 's|/|%2F|g' -e 's/=/%3D/g')
check_eq "the same answer with '+', '/', '=' percent-encoded" "$(md5sum <get.der)" \
	"$(curl -s "$URL/$ENC" | md5sum)"
# A request whose base64 holds both '+' and '/' (a serial chosen for it).
for s in $(seq 1 400); do
	openssl ocsp -issuer sub.pem -serial $s -no_nonce -reqout s.req >/dev/null 2>&1
	b=$(base64 -w0 s.req)
	case $b in *+*/*|*/*+*) break ;; esac
done
ENC2=$(printf %s "$b" | sed -e 's/+/%2b/g' -e 's|/|%2f|g' -e 's/=/%3d/g')
unk() { curl -s "$1" | openssl ocsp -respin /dev/stdin -resp_text -noverify 2>&1 | tr '\n' ' '; }
check_out "a request with raw '+' and '/' in its base64 is read: unknown serial $s" \
	"Serial Number: .*Cert Status: unknown" unk "$URL/$b"
check_out "...and the same with lower-case %2b, %2f, %3d" \
	"Serial Number: .*Cert Status: unknown" unk "$URL/$ENC2"
check_out "a SHA-256 CertID is answered too, from its own pre-signed response" \
	"Response verify OK.*Hash Algorithm: sha256.*Cert Status: good" \
	bash -c "openssl ocsp -sha256 -issuer sub.pem -cert www.pem -url '$URL' -CAfile m1/root.pem -verify_other sub.pem -no_nonce -resp_text 2>&1 | tr '\n' ' '"

# ---- unknown: a serial this CA never issued ---------------------------------
check_out "openssl ocsp: a serial never issued is unknown, signed by the responder" \
	"Response verify OK.*: unknown" bash -c "openssl ocsp -issuer sub.pem -serial 0x0123456789abcdef -url '$URL' -CAfile m1/root.pem -verify_other sub.pem -no_nonce 2>&1 | tr '\n' ' '"
# A certificate with this CA's name as issuer but never issued by it.
cat >fake.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Cairn OCSP Issuing CA
O = Cairn Test
C = DE
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout fakeca.key \
	-config fake.cnf -out fakeca.pem -days 30 2>/dev/null
mkcsr ghost
# It names the real CA as issuer (name and key identifier) and the
# responder in its AIA, so NSS asks for it as it would for a real one.
SKI=$(openssl x509 -in sub.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')
cat >ghost.ext <<EOF
authorityKeyIdentifier = DER:$(printf '30168014%s' "$SKI" | sed 's/../&:/g; s/:$//')
authorityInfoAccess = OCSP;URI:$URL
EOF
openssl x509 -req -in ghost.csr -CA fakeca.pem -CAkey fakeca.key -set_serial 0x5eed5eed5eed \
	-days 30 -extfile ghost.ext -out ghost.pem 2>/dev/null
check_out "GnuTLS ocsptool: a certificate this CA never issued is unknown" \
	"Certificate Status: unknown.*Verifying OCSP Response: Success" \
	bash -c "ocsptool --ask='$URL' --load-issuer sub.pem --load-cert ghost.pem --load-trust chain.pem --no-nonce 2>&1 | tr '\n' ' '"
certutil -A -d nssdb -n ghost -t ",," -i ghost.pem
check_out "NSS ocspclnt: unknown (SEC_ERROR_OCSP_UNKNOWN_CERT: no status for it)" \
	"failed.*The OCSP server has no status for the certificate" bash -c "ocspclnt -S ghost -d nssdb | tr '\n' ' '"

# ---- revocation -------------------------------------------------------------
printf 'bob-password-123\n' >bob.pw
"$SUB" account add bob --data "$S" --role manager --password-file bob.pw >/dev/null
# Bob signs in with a TLS client certificate (a password costs an Argon2id
# verification, which is not what this test times).
mkcsr bob
"$SUB" request --data "$S" --template ClientAuth --csr bob.csr --out bob.pem >/dev/null 2>&1
"$SUB" account cert bob --cert bob.pem --data "$S" >/dev/null
API="https://127.0.0.1:$HTTPS/api/v1"
WWW=$(openssl x509 -in www.pem -noout -serial | cut -d= -f2)
# A poller asks over GET every 20 ms and notes when it first reads
# "revoked"; the clock starts when the revocation is asked for.
openssl ocsp -issuer sub.pem -cert www.pem -no_nonce -reqout www.req >/dev/null 2>&1
( B=$(base64 -w0 www.req); for _ in $(seq 250); do
	curl -s "$URL/$B" | openssl ocsp -respin /dev/stdin -noverify -issuer sub.pem -cert www.pem 2>/dev/null |
		grep -q ': revoked' && { date +%s%N >seen; break; }
	sleep 0.02; done ) &
POLLER=$!
t0=$(date +%s%N)
check_eq "a manager revokes www over REST (keyCompromise)" 200 \
	"$(curl -s --cacert m1/root.pem --cert bob.pem --key bob.key -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"keyCompromise"}' "$API/certificates/$WWW/revoke")"
wait "$POLLER"
q www.pem >rev.txt
t1=$(cat seen 2>/dev/null || echo 99999999999999999999)
echo "# revoked over REST, read revoked over OCSP after $(( (t1 - t0) / 1000000 )) ms"
check_out "openssl ocsp: revoked, with the reason and the time" \
	"www.pem: revoked.*Reason: keyCompromise.*Revocation Time: " bash -c "tr '\n' ' ' <rev.txt"
check_eq "revoked and answered so within a second" 1 "$(( (t1 - t0) < 1000000000 ))"
check_out "GnuTLS ocsptool: revoked, with the reason" \
	"Certificate Status: revoked.*Revocation time: .*Revocation reason: key compromise|Certificate Status: revoked.*Revocation reason: keyCompromise|Certificate Status: revoked.*Revocation time" \
	bash -c "ocsptool --ask='$URL' --load-issuer sub.pem --load-cert www.pem --load-trust chain.pem --no-nonce 2>&1 | tr '\n' ' '"
check_fail "NSS vfychain: the revoked certificate is refused (SEC_ERROR_REVOKED_CERTIFICATE)" 1 \
	"ERROR -8180: Peer's Certificate has been revoked" vfy www.der
check_out "NSS ocspclnt: revoked" "SEC_ERROR_REVOKED_CERTIFICATE|[Rr]evoked" ocspclnt -S www -d nssdb
API_SERIAL=$(openssl x509 -in api.pem -noout -serial | cut -d= -f2)
"$SUB" revoke "$API_SERIAL" --data "$S" --reason certificateHold >/dev/null 2>&1
t0=$(date +%s%N)
for _ in $(seq 20); do q api.pem | grep -q "api.pem: revoked" && break; sleep 0.05; done
t1=$(date +%s%N)
check_out "revoked by the admin command (another process): the daemon answers revoked" \
	"api.pem: revoked.*Reason: certificateHold" bash -c "q api.pem | tr '\n' ' '"
check_eq "...within a second of the command's return (the daemon reads the store every 250 ms)" 1 "$(( (t1 - t0) < 1000000000 ))"
"$SUB" unhold "$API_SERIAL" --data "$S" >/dev/null 2>&1
for _ in $(seq 20); do q api.pem | grep -q "api.pem: good" && break; sleep 0.05; done
check_out "un-held: good again" "api.pem: good" q api.pem

# ---- a certificate issued by the daemon: answered good at once -------------
# Its responses are signed in the background, off the issuance path; a
# query that comes first finds it issued in the store and has it signed.
printf 'carol-password-1\n' >carol.pw
"$SUB" account add carol --data "$S" --role enrollee --password-file carol.pw >/dev/null
mkcsr carol
"$SUB" request --data "$S" --template ClientAuth --csr carol.csr --out carol.pem >/dev/null 2>&1
"$SUB" account cert carol --cert carol.pem --data "$S" >/dev/null
mkcsr fresh
curl -s --cacert m1/root.pem --cert carol.pem --key carol.key -o fresh.json \
	-H 'Content-Type: application/pkcs10' --data-binary @fresh.csr "$API/requests?template=WebServer"
python3 -c 'import json; print(json.load(open("fresh.json"))["certificate"])' >fresh.pem
check_out "a certificate the daemon just issued reads good at once (openssl ocsp)" \
	"Response verify OK.*fresh.pem: good" bash -c "q fresh.pem | tr '\n' ' '"
FRESH=$(openssl x509 -in fresh.pem -noout -serial | cut -d= -f2)
for _ in $(seq 20); do
	n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM ocsp_responses WHERE serial = ? AND status = '"'"'good'"'"'", (sys.argv[2],)).fetchone()[0])' "$S/ca.db" "${FRESH,,}")
	[ "$n" = 2 ] && break
	sleep 0.1
done
check_eq "...and both its responses (SHA-1, SHA-256) are in the store within 2 s" 2 "$n"

# ---- the root's answer for this CA ------------------------------------------
check_out "the root's pre-signed answer for the subordinate is served: good, signed by the root" \
	"Response verify OK.*sub.pem: good" bash -c "openssl ocsp -issuer m1/root.pem -cert sub.pem -url '$URL' -CAfile m1/root.pem -no_nonce 2>&1 | tr '\n' ' '"
check_out "...and read by GnuTLS ocsptool" "Certificate Status: good.*Verifying OCSP Response: Success" \
	bash -c "ocsptool --ask='$URL' --load-issuer m1/root.pem --load-cert sub.pem --load-signer m1/root.pem --no-nonce 2>&1 | tr '\n' ' '"

# ---- bad input --------------------------------------------------------------
# status URL ARGS...: the OCSP responseStatus of what comes back
ostat() { curl -s "$@" | openssl ocsp -respin /dev/stdin -resp_text 2>&1 | sed -n 's/^Responder Error: \([a-zA-Z]*\).*/\1/p' | head -1; }
CT=(-H 'Content-Type: application/ocsp-request')
head -c 200 /dev/urandom >junk.der
check_eq "malformed DER: malformedRequest" malformedrequest "$(ostat "${CT[@]}" --data-binary @junk.der "$URL")"
head -c 40 www.req >trunc.der
check_eq "truncated DER: malformedRequest" malformedrequest "$(ostat "${CT[@]}" --data-binary @trunc.der "$URL")"
cat www.req www.req >twice.der
check_eq "trailing bytes after the request: malformedRequest" malformedrequest "$(ostat "${CT[@]}" --data-binary @twice.der "$URL")"
check_eq "wrong content type: malformedRequest" malformedrequest \
	"$(ostat -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @www.req "$URL")"
check_eq "bad base64 in GET: malformedRequest" malformedrequest "$(ostat "$URL/MEIw%ZZ!!")"
check_eq "base64 that ends mid-byte in GET: malformedRequest" malformedrequest "$(ostat "$URL/${B64:0:21}")"
head -c 1048576 /dev/zero >big.bin
check_eq "a 1 MB body is refused before it is read: HTTP 413" 413 \
	"$(curl -s -o /dev/null -w '%{http_code}' --expect100-timeout 10 "${CT[@]}" --data-binary @big.bin "$URL")"
args=()
for i in $(seq 1 1000); do args+=(-serial "$i"); done
openssl ocsp -issuer sub.pem "${args[@]}" -no_nonce -reqout many.req >/dev/null 2>&1
check_eq "a request for 1,000 certificates: malformedRequest" malformedrequest \
	"$(ostat "${CT[@]}" --data-binary @many.req "$URL")"
openssl ocsp -sha384 -issuer sub.pem -cert www.pem -no_nonce -reqout sha384.req >/dev/null 2>&1
check_eq "an unsupported CertID hash (SHA-384): malformedRequest" malformedrequest \
	"$(ostat "${CT[@]}" --data-binary @sha384.req "$URL")"
openssl ocsp -issuer fakeca.pem -cert ghost.pem -no_nonce -reqout other.req >/dev/null 2>&1
check_eq "an issuer this responder does not serve: unauthorized" unauthorized \
	"$(ostat "${CT[@]}" --data-binary @other.req "$URL")"
openssl ocsp -issuer sub.pem -cert www.pem -cert api.pem -no_nonce -reqout two.req >/dev/null 2>&1
check_eq "two certificates in one request, on_demand off: malformedRequest (RFC 5019 2.1.1)" \
	malformedrequest "$(ostat "${CT[@]}" --data-binary @two.req "$URL")"
check_out "a nonce is not echoed from a pre-signed response (on_demand off)" \
	"WARNING: no nonce in response.*www.pem: revoked" \
	bash -c "openssl ocsp -issuer sub.pem -cert www.pem -url '$URL' -CAfile m1/root.pem -verify_other sub.pem 2>&1 | tr '\n' ' '"
check_eq "after all that, the responder still answers" good \
	"$(q api.pem | sed -n 's/^api.pem: //p')"

# ---- several responders, one CA: cairn-sub ocsp serve ----------------------
SURL="http://127.0.0.1:$P3/ocsp"
"$SUB" ocsp serve --data "$S" --listen "127.0.0.1:$P3" >standalone.log 2>&1 &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 50); do grep -q "serving" standalone.log && break; sleep 0.2; done
check_out "the standalone responder serves the store's responses without a key" \
	"serving [0-9]+ pre-signed responses from the store" cat standalone.log
check_out "standalone: revoked, verified with the root" "Response verify OK.*www.pem: revoked" \
	bash -c "URL='$SURL' q www.pem | tr '\n' ' '"
check_eq "standalone: a serial never issued is unauthorized (nothing to sign an unknown with)" \
	unauthorized "$(openssl ocsp -issuer sub.pem -serial 0x77 -no_nonce -reqout u.req >/dev/null 2>&1; ostat "${CT[@]}" --data-binary @u.req "$SURL")"
"$SUB" revoke "$API_SERIAL" --data "$S" --reason superseded >/dev/null 2>&1
t0=$(date +%s%N)
for _ in $(seq 20); do URL=$SURL q api.pem | grep -q "api.pem: revoked" && break; sleep 0.05; done
t1=$(date +%s%N)
check_out "standalone: a revocation by the admin command reaches it" "api.pem: revoked.*Reason: superseded" \
	bash -c "URL='$SURL' q api.pem | tr '\n' ' '"
check_eq "...within a second" 1 "$(( (t1 - t0) < 1000000000 ))"
kill -TERM "$SPID"
wait "$SPID"
check_eq "the standalone responder stops on SIGTERM with status 0" 0 "$?"

# ---- restart later: signer renewal, responses re-signed, nonce on demand ----
SIGNER1=$(sed -n 's/.*signing with delegated responder \([0-9a-f]*\).*/\1/p' serve.log | head -1)
kill -TERM "$DPID"
wait "$DPID"
check_out "the daemon stops cleanly, no sanitizer complained" "^cairn-sub: stopped$" \
	bash -c "grep -v -e '^ *$' serve.log | tail -1; ! grep -q Sanitizer serve.log"
sed -i 's/on_demand: false/on_demand: true/' "$S/cairn-sub.yaml"
FUT=$(( $(date +%s) + 25 * 86400 ))
start_daemon serve2.log CAIRN_TEST_NOW=$FUT
SIGNER2=$(sed -n 's/.*signing with delegated responder \([0-9a-f]*\).*/\1/p' serve2.log | head -1)
check "25 days on, the signer (5 days left, renewed at 14) is replaced by a new one" \
	test -n "$SIGNER2" -a -n "$SIGNER1" -a "$SIGNER2" != "$SIGNER1"
fq() { openssl ocsp -issuer sub.pem -cert "$1" -url "$URL" -CAfile m1/root.pem -verify_other sub.pem \
	-attime "$FUT" -validity_period 2200000 "${@:2}" 2>&1; }
check_out "responses are re-signed by the new signer, and verify at that time" \
	"Response verify OK.*Serial Number: *([0-9a-f]{2}:?)+.*api.pem: revoked" \
	bash -c "$(declare -f fq); URL=$URL FUT=$FUT; fq api.pem -no_nonce -resp_text | tr '\n' ' '"
check_eq "...the certificate in them is the new signer's" \
	"$(printf %s "$SIGNER2" | sed 's/^0*//')" "$(fq api.pem -no_nonce -resp_text | sed -n '/^Certificate:/,/Signature/p' | grep -A1 'Serial Number' | tail -1 | tr -d ' :\n' | tr 'A-F' 'a-f' | sed 's/^0*//')"
check_out "on_demand: the nonce is echoed (no warning from openssl)" "^Response verify OK api.pem: revoked" \
	bash -c "$(declare -f fq); URL=$URL FUT=$FUT; fq api.pem | grep -v 'Update\|Reason\|Revocation' | tr '\n' ' '"
check_out "on_demand: two certificates in one request, one signed answer" \
	"Response verify OK.*www.pem: revoked.*api.pem: revoked" \
	bash -c "$(declare -f fq); URL=$URL FUT=$FUT; fq www.pem -cert api.pem | tr '\n' ' '"
check_eq "on_demand: still no more than 64 certificates in one request" malformedrequest \
	"$(ostat "${CT[@]}" --data-binary @many.req "$URL")"
kill -TERM "$DPID"
wait "$DPID"
check_out "stopped cleanly again" "^cairn-sub: stopped$" \
	bash -c "grep -v -e '^ *$' serve2.log | tail -1; ! grep -q Sanitizer serve2.log standalone.log"
check_out "the audit log verifies, with the signers and the signing passes in it" \
	"chain intact" "$SUB" audit verify --data "$S" --out audit.jsonl
check_out "...two OCSP signers issued through the one issuance path" "^2 2$" \
	bash -c "echo \$(grep -c '\"event\":\"ocsp signer\"' audit.jsonl) \$(grep -c 'internal:ocsp-signer' audit.jsonl | awk '{print (\$1 >= 2) ? 2 : \$1}')"
