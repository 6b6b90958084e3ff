#!/bin/bash
# scep.sh: NDES-style SCEP (RFC 8894) on cairn-sub, driven by clients
# someone else wrote: micromdm's scepclient (Debian "scep") enrolls,
# renews and waits out a pending request; certmonger (its daemon on a
# private socket, no D-Bus, generating keys and SCEP messages itself)
# enrolls, and its scep-submit helper does GetCACaps, GetCACert, PKCSReq
# and CertPoll.  Every issued certificate verifies to the root with
# openssl verify.  Challenges: one-time (reused, wrong, expired, revoked,
# subject-bound), the REST endpoint for managers, and a webhook for
# dynamic ones (python3 over TLS on loopback: yes, no, slow, 500, junk;
# all but yes fail closed).  The RA key lives in the CA's token
# (pkcs11-tool shows it), is renewed before its certificate expires, and
# the old key still opens envelopes made for it.  Bad input (tampered
# signature, another recipient, zero signers, malformed PKCS#7, 10 MB,
# unknown operation, algorithms not allowed) gets the right failInfo or
# HTTP error, issues nothing, and is in the audit log.  tests/bench/
# scep_client makes the messages the peers never send and opens replies
# with OpenSSL alone.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
. "$CAIRN_SRCDIR/tests/twotier.sh"
plan 90

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
SC="$CAIRN_BUILDDIR/tests/bench/scep_client"
SUBMIT=/usr/lib/certmonger/scep-submit
cd "$T" || exit 1
read -r HTTPS HTTP WH < <(free_ports 3)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# ---- a root, an issuing CA, SCEP configured ------------------------------
ROOT_BIN=$ROOT SUB_BIN=$SUB twotier_setup "$T" "$HTTPS" "$HTTP" ||
	{ echo "Bail out! the root and the issuing CA could not be set up"; exit 1; }
S="$T/sub"
sed -e 's/^template: Router/template: RouterApproval/' \
	-e 's/^approval: false/approval: true/' \
	"$S/templates/Router.yaml" >"$S/templates/RouterApproval.yaml"
chmod 600 "$S/templates/RouterApproval.yaml"
printf 'bob-password-123\n' >bob.pw
printf 'alice-password-1\n' >alice.pw
"$SUB" account add bob --data "$S" --role manager --password-file bob.pw >/dev/null
"$SUB" account add alice --data "$S" --role enrollee --password-file alice.pw >/dev/null

# The webhook for dynamic challenges: HTTPS on loopback.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout wh.key -out wh.pem -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 2>/dev/null
python3 "$CAIRN_SRCDIR/tests/integration/scep-webhook.py" "$WH" wh.pem \
	wh.key wh.log wh.pid 2>wh.err &
PIDS+=($!)
cp wh.pem "$S/webhook-ca.pem"
cat >>"$S/cairn-sub.yaml" <<EOF
scep:
  # micromdm's scepclient 2.1 signs with SHA-1 and encrypts with DES
  legacy: [sha1, des]
  webhook:
    url: https://127.0.0.1:$WH/verify
    template: Router
    ca_file: webhook-ca.pem
    timeout: 2s
EOF

serve() { # [env...]: start the daemon, wait for it
	env "$@" "$SUB" serve --data "$S" --pid-file serve.pid >>serve.log 2>&1 &
	SPID=$!
	PIDS+=($SPID)
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP/ca/ca.der" && break
		sleep 0.2
	done
}
stop() {
	kill -TERM "$SPID"
	wait "$SPID"
}
serve
if ! curl -sf -o /dev/null "http://127.0.0.1:$HTTP/scep?operation=GetCACaps"; then
	echo "Bail out! the daemon did not start with SCEP"
	sed 's/^/# /' serve.log
	exit 1
fi
URL="http://127.0.0.1:$HTTP/scep"
CGI="http://127.0.0.1:$HTTP/cgi-bin/pkiclient.exe"
check_out "serve names the SCEP URL" "SCEP: +http://127.0.0.1:$HTTP/scep" cat serve.log

challenge() { # TEMPLATE [options]: a new challenge's secret
	"$SUB" challenge new --data "$S" --template "$@" 2>/dev/null |
		awk '/^challenge:/ { print $2 }'
}
issued() { "$SUB" list --data "$S" --status issued | grep -c '^[0-9a-f]\{32\}'; }
# post MSG OUT: POST a PKIOperation, print the HTTP status
post() {
	curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/x-pki-message' \
		--data-binary @"$1" "$URL?operation=PKIOperation"
}

# ---- GetCACaps, GetCACert ---------------------------------------------------
check_out "GetCACaps: AES, SHA-256, SHA-512, POST, Renewal, SCEPStandard" \
	"^AES POSTPKIOperation Renewal SHA-256 SHA-512 SCEPStandard SHA-1 $" \
	bash -c "curl -s '$URL?operation=GetCACaps' | tr '\n' ' '"
check_out "certmonger's scep-submit -c reads the same capabilities" "SCEPStandard" \
	"$SUBMIT" -u "$URL" -c
check_out "scep-submit -C: the RA certificate, the CA, the root" \
	"Example SCEP RA.*(Issuing CA.*Test Root|Test Root.*Issuing CA)" \
	bash -c "'$SUBMIT' -u '$CGI' -C | openssl storeutl -noout -text /dev/stdin 2>/dev/null | grep 'Subject:' | tr '\n' ' '"
curl -s "$URL?operation=GetCACert" -o cacert.p7b
openssl pkcs7 -inform DER -in cacert.p7b -print_certs -out cacert.pem
openssl x509 -in cacert.pem -out ra.pem
check_out "GetCACert is application/x-x509-ca-ra-cert" "x-x509-ca-ra-cert" \
	curl -s -o /dev/null -w '%{content_type}' "$URL?operation=GetCACert"
check_out "the RA certificate verifies to the root, for key encipherment, id-kp-cmcRA" \
	"ra.pem: OK.*Digital Signature, Key Encipherment.*CMC Registration Authority" \
	bash -c "{ openssl verify -CAfile m1/root.pem -untrusted '$S/ca.pem' ra.pem; openssl x509 -in ra.pem -noout -ext keyUsage,extendedKeyUsage; } | tr '\n' ' '"
check_out "the RA key is in the CA's token: RSA, decrypt, never extractable" \
	"label: +scep-ra-[0-9]+-[0-9a-f]+ .*Usage: +decrypt, sign .*Access: +sensitive, always sensitive, never extractable, local" \
	bash -c "SOFTHSM2_CONF='$S/softhsm2.conf' pkcs11-tool --module '$MODULE' --token-label 'Cairn Sub CA' --login --pin \$(cat '$S/user.pin') --list-objects --type privkey 2>/dev/null | sed -n '/RSA/,/Access/p' | tr -s '\n ' ' '"
RAFP=$(openssl x509 -in ra.pem -noout -fingerprint -sha256 | cut -d= -f2)

# ---- challenges ---------------------------------------------------------------
"$SUB" challenge new --data "$S" --template Router >ch1.txt 2>ch1.err
CH1=$(awk '/^challenge:/ { print $2 }' ch1.txt)
check_out "challenge new prints a 128-bit secret once" "^[0-9a-f]{32}$" echo "$CH1"
check "only its SHA-256 is stored" bash -c "! grep -q '$CH1' '$S/ca.db' && \
	python3 -c 'import hashlib,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); h=hashlib.sha256(sys.argv[2].encode()).hexdigest(); sys.exit(0 if c.execute(\"select count(*) from scep_challenges where hash=?\",(h,)).fetchone()[0]==1 else 1)' '$S/ca.db' '$CH1'"
check_fail "a template SCEP may not use is refused" 1 "does not let SCEP devices enroll" \
	"$SUB" challenge new --data "$S" --template OCSPSigning
check_fail "so is the RA template" 1 "does not let SCEP devices enroll" \
	"$SUB" challenge new --data "$S" --template SCEP-RA
check_out "challenge list shows it unused" "^1 +Router +[0-9T:-]+Z +- +local:" \
	bash -c "'$SUB' challenge list --data '$S' | grep '^1 '"

# scepclient ENROLL DIR CHALLENGE CN: one enrollment in a directory of
# its own (it writes csr.pem there and reuses it)
scepc() {
	mkdir -p "$1"
	(cd "$1" && timeout 120 scepclient -private-key key.pem -server-url "$URL" \
		${2:+-challenge "$2"} -cn "$3" -ca-fingerprint "$RAFP" >log 2>&1)
}

# ---- micromdm scepclient: enroll, renew -------------------------------------
scepc e1 "$CH1" r1.routers.example.org
check_out "scepclient enrolls with the challenge (PKCSReq)" "pkiStatus=SUCCESS" cat e1/log
check_out "the certificate verifies to the root (openssl verify)" "client.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" e1/client.pem
check_out "the template decided it: CN, DNS name, serverAuth + ipsecIKE" \
	"subject=CN = r1.routers.example.org .*TLS Web Server Authentication, ipsec Internet Key Exchange.*DNS:r1.routers.example.org" \
	bash -c "openssl x509 -in e1/client.pem -noout -subject -ext extendedKeyUsage,subjectAltName | tr '\n' ' '"
S1=$(openssl x509 -in e1/client.pem -noout -serial | cut -d= -f2)
check_out "the request is recorded as scep:1 (the challenge used)" "${S1,,}.*scep:1" \
	"$SUB" list --data "$S" --status issued
check_out "the challenge is spent by that request" "^1 +Router +[0-9T:-]+Z +[0-9T:-]+Z +local:" \
	bash -c "'$SUB' challenge list --data '$S' --all | grep '^1 '"
cp e1/client.pem e1/old.pem
scepc e1 "" r1.routers.example.org
S1B=$(openssl x509 -in e1/client.pem -noout -serial | cut -d= -f2)
check_out "scepclient renews with its certificate (RenewalReq)" "pkiStatus=SUCCESS" cat e1/log
check "the renewal is a new certificate for the same name, verifying to the root" \
	bash -c "[ '$S1' != '$S1B' ] && openssl verify -CAfile m1/root.pem -untrusted '$S/ca.pem' e1/client.pem && openssl x509 -in e1/client.pem -noout -subject | grep -q r1.routers"
check_out "recorded as a renewal of the old serial" "${S1B,,}.*scep:renew:${S1,,}" \
	"$SUB" list --data "$S" --status issued

n0=$(issued)
scepc e2 "$CH1" r2.routers.example.org
check_out "a reused challenge is refused (badRequest)" "failInfo: badRequest" cat e2/log
scepc e3 "0123456789abcdef0123456789abcdef" r3.routers.example.org
check_out "a wrong challenge is refused" "failInfo: badRequest" cat e3/log
CHX=$(challenge Router --expires 1h)
# made two hours ago, for one hour
CHOLD=$(CAIRN_TEST_NOW=$(( $(date +%s) - 7200 )) "$SUB" challenge new --data "$S" \
	--template Router --expires 1h 2>/dev/null | awk '/^challenge:/ { print $2 }')
scepc e4 "$CHOLD" r4.routers.example.org
check_out "an expired challenge is refused" "failInfo: badRequest" cat e4/log
"$SUB" challenge revoke "$("$SUB" challenge list --data "$S" | awk -v t=Router 'NR==2 { print $1 }')" \
	--data "$S" >/dev/null
scepc e5 "$CHX" r5.routers.example.org
check_out "a revoked challenge is refused" "failInfo: badRequest" cat e5/log
CHS=$(challenge Router --subject 'CN=r6.routers.example.org')
scepc e6 "$CHS" r7.routers.example.org
check_out "a challenge bound to another subject is refused" "failInfo: badRequest" cat e6/log
check_eq "none of them issued anything" "$n0" "$(issued)"
scepc e7 "$CHS" r6.routers.example.org
check_out "the subject-bound challenge works for its subject" "client.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" e7/client.pem

# ---- pending: approval templates, scepclient polls ------------------------------
CHP=$(challenge RouterApproval)
scepc e8 "$CHP" r8.routers.example.org &
SCPID=$!
for _ in $(seq 100); do
	RID=$("$SUB" list --data "$S" --status pending | awk '$0 ~ /RouterApproval/ { print $1; exit }')
	[ -n "$RID" ] && break
	sleep 0.2
done
check_out "an approval template leaves the SCEP request pending" "^[0-9]+$" echo "$RID"
"$SUB" approve "$RID" --data "$S" --out "a$RID.pem" >/dev/null 2>&1
wait "$SCPID"
check_out "scepclient polls (PENDING, then SUCCESS) and gets it" \
	"PENDING.*SUCCESS" bash -c "tr '\n' ' ' <e8/log"
check_out "the approved certificate verifies to the root" "client.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" e8/client.pem

# ---- CertPoll, GetCert, GetCRL (scep_client) and scep-submit -p / -g ----------
openssl genrsa -out k9.pem 2048 2>/dev/null
CH9=$(challenge RouterApproval)
"$SC" build --ra ra.pem --key k9.pem --subject /CN=r9.routers.example.org \
	--challenge "$CH9" --tid tx-r9 --out m9.der >m9.txt
openssl base64 -in m9.der >m9.b64
{ echo "-----BEGIN PKCS7-----"; cat m9.b64; echo "-----END PKCS7-----"; } >m9.pem
"$SUBMIT" -u "$URL" -R m1/root.pem -r ra.pem -I cacert.pem -p m9.pem >s9.out 2>&1
check_eq "scep-submit -p: the CA is still thinking (exit 1, PENDING)" 1 "$?"
"$SC" build --type certpoll --ra ra.pem --key k9.pem --subject /CN=r9.routers.example.org \
	--issuer "$S/ca.pem" --tid tx-r9 --out p9.der >p9.txt
check_eq "CertPoll by POST: 200" 200 "$(post p9.der rp9.der)"
check_out "CertPoll: PENDING, transactionID and recipientNonce echoed" \
	"pkiStatus=PENDING transactionID=tx-r9 recipientNonce=$(sed -n 's/senderNonce=//p' p9.txt)" \
	bash -c "'$SC' open --in rp9.der --ra ra.pem | grep -v -e messageType -e '^senderNonce' | tr '\n' ' '"
RID9=$("$SUB" list --data "$S" --status pending | awk '$0 ~ /RouterApproval/ { print $1; exit }')
"$SUB" approve "$RID9" --data "$S" --out "a$RID9.pem" >/dev/null 2>&1
{ echo "-----BEGIN PKCS7-----"; openssl base64 -in p9.der; echo "-----END PKCS7-----"; } >p9.pem
"$SUBMIT" -u "$URL" -R m1/root.pem -r ra.pem -I cacert.pem -g p9.pem >g9.out 2>g9.err
check_eq "scep-submit -g (CertPoll after approval): issued, exit 0" 0 "$?"
check_out "its pkcsPKIEnvelope opens with the requester's key: the certificate" \
	"r9.routers.example.org" bash -c "openssl cms -decrypt -inform PEM -in g9.out \
	-inkey k9.pem -binary | openssl pkcs7 -inform DER -print_certs | tee c9.pem | grep subject"
check_out "...which verifies to the root" "c9.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" c9.pem
S9=$(openssl x509 -in c9.pem -noout -serial | cut -d= -f2)
"$SC" build --type getcert --ra ra.pem --key k9.pem --issuer "$S/ca.pem" \
	--serial "$S9" --out gc.der >/dev/null
post gc.der rgc.der >/dev/null
"$SC" open --in rgc.der --ra ra.pem --key k9.pem --out gc.pem >gc.txt
check "GetCert returns that certificate" cmp <(openssl x509 -in gc.pem) <(openssl x509 -in c9.pem)
"$SC" build --type getcert --ra ra.pem --key k9.pem --issuer "$S/ca.pem" \
	--serial 0123456789ABCDEF --out gcx.der >/dev/null
post gcx.der rgcx.der >/dev/null
check_out "GetCert of a serial never issued: badCertId" "failInfo=4" \
	"$SC" open --in rgcx.der --ra ra.pem
"$SC" build --type getcrl --ra ra.pem --key k9.pem --issuer "$S/ca.pem" \
	--serial "$S9" --out gl.der >/dev/null
M=$(openssl base64 -A -in gl.der | python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))')
curl -s -o rgl.der "$CGI?operation=PKIOperation&message=$M"
"$SC" open --in rgl.der --ra ra.pem --key k9.pem --out gl.pem >gl.txt
check_out "GetCRL (by GET at /cgi-bin/pkiclient.exe): the CRL, signed by the CA" \
	"verify OK" openssl crl -in gl.pem -noout -CAfile <(cat "$S/ca.pem" m1/root.pem)

# ---- certmonger: its daemon makes the key and the PKCSReq ------------------------
mkdir -p cm/req cm/cas cm/local cm/out
CHC=$(challenge Router)
cat >cm/run.sh <<EOF
getcert add-scep-ca -c Cairn -u $URL
for i in \$(seq 50); do getcert list-cas -c Cairn | grep -q 'ca-certificate' && break; sleep 0.2; done
getcert request -c Cairn -k $T/cm/out/key.pem -f $T/cm/out/cert.pem \
	-N CN=cm1.routers.example.org -L $CHC -w
getcert list
EOF
env -i PATH="$PATH" HOME="$T/cm" CERTMONGER_REQUESTS_DIR="$T/cm/req" \
	CERTMONGER_CAS_DIR="$T/cm/cas" CERTMONGER_LOCAL_CA_DIR="$T/cm/local" \
	CERTMONGER_CONFIG_DIR="$T/cm" timeout 120 certmonger -s -L -P "$T/cm/sock" \
	-n -c "/bin/sh $T/cm/run.sh" >cm/log 2>&1
check_out "certmonger (daemon on a private socket) enrolls over SCEP" "status: MONITORING" cat cm/log
check_out "its certificate verifies to the root" "cert.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" cm/out/cert.pem

# ---- dynamic challenges: the webhook -------------------------------------------
dyn() { # NAME CHALLENGE: a PKCSReq with a challenge this CA never made
	openssl genrsa -out "$1.key" 2048 2>/dev/null
	"$SC" build --ra ra.pem --key "$1.key" --subject "/CN=$1.routers.example.org" \
		--challenge "$2" --tid "tx-$1" --out "$1.der" >/dev/null
	post "$1.der" "$1.rep" >/dev/null
	"$SC" open --in "$1.rep" --ra ra.pem --key "$1.key" --out "$1.pem" >"$1.txt" 2>&1
}
dyn d1 dyn-yes-1
check_out "the webhook says yes: issued" "pkiStatus=SUCCESS" cat d1.txt
check_out "...recorded as scep:webhook, verifying to the root" "d1.pem: OK" \
	bash -c "'$SUB' list --data '$S' --status issued | grep -q scep:webhook && openssl verify -CAfile m1/root.pem -untrusted '$S/ca.pem' d1.pem"
check_out "the webhook got the transaction ID, the challenge and the CSR as JSON" \
	'"content_type": "application/json".*"transaction_id": "tx-d1".*"challenge": "dyn-yes-1"|"challenge": "dyn-yes-1".*"transaction_id": "tx-d1"' \
	bash -c "grep -F dyn-yes-1 wh.log | grep -F 'BEGIN CERTIFICATE REQUEST' | head -1"
calls=$(wc -l <wh.log)
dyn d2 dyn-yes-1
check_out "a dynamic challenge used once is refused again (badRequest)" \
	"failInfo=2 failInfoText=this dynamic challenge was used already" bash -c "tr '\n' ' ' <d2.txt"
check_eq "...without asking the webhook" "$calls" "$(wc -l <wh.log)"
n1=$(issued)
dyn d3 dyn-no-1
check_out "the webhook says no: refused" "failInfo=2 failInfoText=the webhook refused" bash -c "tr '\n' ' ' <d3.txt"
dyn d4 dyn-slow-1
check_out "the webhook is too slow: refused (fail closed)" "did not answer within 2000 ms" cat d4.txt
dyn d5 dyn-500-1
check_out "the webhook answers 500: refused" "answered HTTP 500" cat d5.txt
dyn d6 dyn-junk-1
check_out "the webhook answers junk: refused" "is not \{\"allow\"" cat d6.txt
check_eq "the refused dynamic challenges issued nothing" "$n1" "$(issued)"

# ---- REST: managers make challenges ----------------------------------------------
API="https://127.0.0.1:$HTTPS/api/v1"
check_eq "REST: a manager makes a challenge (201)" 201 \
	"$(curl -s --cacert m1/root.pem -u bob:bob-password-123 -o rest.json -w '%{http_code}' \
	-H 'Content-Type: application/json' -d '{"template": "Router", "expires": "10m"}' "$API/scep/challenges")"
CHR=$(python3 -c 'import json; print(json.load(open("rest.json"))["challenge"])')
check_eq "REST: an enrollee may not (403)" 403 \
	"$(curl -s --cacert m1/root.pem -u alice:alice-password-1 -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' -d '{"template": "Router"}' "$API/scep/challenges")"
dyn d7 "$CHR"
check_out "the REST challenge enrolls" "pkiStatus=SUCCESS" cat d7.txt

# ---- the managers' web page makes challenges (NDES's mscep_admin) -------------------
W="https://127.0.0.1:$HTTPS/certsrv"
WC=(curl -s --cacert m1/root.pem)
tok_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -1; }
web_login() { # ACCOUNT PASSWORD JAR
	"${WC[@]}" -c "$3.0" -o "$3.login.html" "$W/login"
	"${WC[@]}" -b "$3.0" -c "$3" -o /dev/null --data-urlencode "csrf=$(tok_of "$3.login.html")" \
		--data-urlencode "account=$1" --data-urlencode "password=$2" "$W/login"
}
web_login bob bob-password-123 bob.jar
"${WC[@]}" -b bob.jar -o ch.html "$W/challenges"
check_out "the managers' page offers a challenge form for the templates" \
	'<form method="post" action="/certsrv/challenges">.*<option value="Router"' \
	bash -c "tr '\n' ' ' <ch.html"
check_eq "a challenge made on the page is shown once (201)" 201 \
	"$("${WC[@]}" -b bob.jar -o chm.html -w '%{http_code}' --data-urlencode "csrf=$(tok_of ch.html)" \
	--data-urlencode template=Router --data-urlencode subject='CN=r9.routers.example.org' \
	--data-urlencode expires=15m "$W/challenges")"
CHW=$(sed -n 's/.*<code id="secret">\([0-9a-f]*\)<\/code>.*/\1/p' chm.html)
check_out "...as 128 random bits" "^[0-9a-f]{32}$" echo "$CHW"
scepc e9 "$CHW" r9.routers.example.org
check_out "scepclient enrolls with the page's challenge" "pkiStatus=SUCCESS" cat e9/log
check_eq "without the page's CSRF token nothing is made (403)" 403 \
	"$("${WC[@]}" -b bob.jar -o /dev/null -w '%{http_code}' --data-urlencode template=Router "$W/challenges")"
web_login alice alice-password-1 alice.jar
check_eq "an enrollee may not open the page (403)" 403 \
	"$("${WC[@]}" -b alice.jar -o /dev/null -w '%{http_code}' "$W/challenges")"
"${WC[@]}" -b bob.jar -o ch2.html "$W/challenges"
"${WC[@]}" -b bob.jar -o chm2.html --data-urlencode "csrf=$(tok_of ch2.html)" \
	--data-urlencode template=Router --data-urlencode expires=15m "$W/challenges"
CHV=$(sed -n 's/.*<code id="secret">\([0-9a-f]*\)<\/code>.*/\1/p' chm2.html)
CHVID=$(sed -n 's/.*<p>Challenge \([0-9]*\) for template.*/\1/p' chm2.html)
check_eq "the manager revokes a challenge on the page (303)" 303 \
	"$("${WC[@]}" -b bob.jar -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$(tok_of chm2.html)" "$W/challenges/$CHVID/revoke")"
scepc e10 "$CHV" r10.routers.example.org
check_out "...and it no longer enrolls" "FAILURE|failInfo|badRequest" cat e10/log

# ---- bad input: the right answer, nothing issued, audited --------------------------
openssl genrsa -out kb.pem 2048 2>/dev/null
CHB=$(challenge Router)
openssl req -new -newkey rsa:2048 -nodes -keyout alice.key -subj /CN=alice \
	-out alice.csr 2>/dev/null
curl -s --cacert m1/root.pem -u alice:alice-password-1 -o alice.json \
	-H 'Content-Type: application/pkcs10' --data-binary @alice.csr \
	"$API/requests?template=ClientAuth"
python3 -c 'import json; print(json.load(open("alice.json"))["certificate"])' >alice.pem
n2=$(issued)
B=(--ra ra.pem --key kb.pem --subject /CN=rb.routers.example.org --challenge "$CHB")
"$SC" build "${B[@]}" --tamper sig --out bad1.der >/dev/null
post bad1.der rb1.der >/dev/null
check_out "a tampered signature: badMessageCheck" "failInfo=1 failInfoText=RFC 8894 3.2: the signature does not verify" \
	bash -c "'$SC' open --in rb1.der --ra ra.pem | tr '\n' ' '"
"$SC" build "${B[@]}" --tamper content --out bad2.der >/dev/null
post bad2.der rb2.der >/dev/null
check_out "a tampered envelope: badMessageCheck" "failInfo=1" "$SC" open --in rb2.der --ra ra.pem
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem \
	-subj /CN=other 2>/dev/null
"$SC" build --ra other.pem --key kb.pem --subject /CN=rb.routers.example.org \
	--challenge "$CHB" --out bad3.der >/dev/null
post bad3.der rb3.der >/dev/null
check_out "an envelope for another recipient: badMessageCheck" \
	"failInfo=1 failInfoText=pkcsPKIEnvelope: encrypted for another recipient" \
	bash -c "'$SC' open --in rb3.der --ra ra.pem | tr '\n' ' '"
"$SC" build "${B[@]}" --zero-signers --out bad4.der >/dev/null
check_eq "a PKCS#7 with zero signers: HTTP 400" 400 "$(post bad4.der rb4.txt)"
check_out "...saying so" "0 signers" cat rb4.txt
head -c 400 bad1.der >bad5.der
check_eq "a truncated (malformed) PKCS#7: HTTP 400" 400 "$(post bad5.der rb5.txt)"
check_out "...saying so" "not a DER CMS/PKCS#7 ContentInfo" cat rb5.txt
check_eq "a base64 message with junk in it: HTTP 400" 400 \
	"$(curl -s -o rb6.txt -w '%{http_code}' "$URL?operation=PKIOperation&message=MIIB%25%25")"
head -c 10000000 /dev/zero >big.bin
check_eq "a 10 MB body: HTTP 413" 413 "$(post big.bin /dev/null)"
check_eq "an unknown operation: HTTP 400" 400 \
	"$(curl -s -o rb7.txt -w '%{http_code}' "$URL?operation=GetNextCACertz")"
check_eq "GetCACert by POST: HTTP 405" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' -d x "$URL?operation=GetCACert")"
"$SC" build "${B[@]}" --cipher des3 --out bad8.der >/dev/null
post bad8.der rb8.der >/dev/null
check_out "3DES when the configuration does not allow it: badAlg" \
	"failInfo=0 failInfoText=.*DES-EDE3-CBC is not accepted" bash -c "'$SC' open --in rb8.der --ra ra.pem | tr '\n' ' '"
"$SC" build "${B[@]}" --digest sha512 --tid "" --out bad9.der >/dev/null 2>&1
check_eq "an empty transactionID: HTTP 400" 400 "$(post bad9.der rb9.txt)"
"$SC" build --type renewal --ra ra.pem --key kb.pem --subject /CN=rb.routers.example.org \
	--out bad10.der >/dev/null
post bad10.der rb10.der >/dev/null
check_out "a RenewalReq signed by a certificate this CA never issued: badMessageCheck" \
	"failInfo=1 failInfoText=RenewalReq: must be signed with the certificate being renewed" \
	bash -c "'$SC' open --in rb10.der --ra ra.pem | tr '\n' ' '"
"$SC" build --type renewal --ra ra.pem --key e1/key.pem --cert e1/client.pem \
	--subject /CN=r2.routers.example.org --out bad11.der >/dev/null
post bad11.der rb11.der >/dev/null
check_out "a renewal asking for another name: badRequest" \
	"failInfo=2 failInfoText=RenewalReq: the request's CN" \
	bash -c "'$SC' open --in rb11.der --ra ra.pem | tr '\n' ' '"
"$SC" build --type renewal --ra ra.pem --key alice.key --cert alice.pem \
	--subject /CN=alice --out bad12.der >/dev/null
post bad12.der rb12.der >/dev/null
check_out "an account's certificate is not renewed over SCEP: badRequest" \
	"failInfo=2 failInfoText=RenewalReq: certificate [0-9a-f]+ was not issued over SCEP \(requester alice\)" \
	bash -c "'$SC' open --in rb12.der --ra ra.pem | tr '\n' ' '"
check_eq "none of the bad input issued anything" "$n2" "$(issued)"
"$SC" build "${B[@]}" --cipher aes128 --digest sha512 --out good.der >/dev/null
post good.der rgood.der >/dev/null
check_out "the same request, well formed, with AES-128 and SHA-512: issued" \
	"pkiStatus=SUCCESS" "$SC" open --in rgood.der --ra ra.pem --key kb.pem --out good.pem
check_out "...and the challenge the bad ones carried was not spent by them" "good.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" good.pem
"$SC" build "${B[@]}" --tid another-transaction --out again.der >/dev/null
post again.der ragain.der >/dev/null
check_out "once spent, it is spent" "failInfo=2 failInfoText=challenge [0-9]+ was used already" \
	bash -c "'$SC' open --in ragain.der --ra ra.pem | tr '\n' ' '"

# ---- every certificate issued verifies to the root -----------------------------
for s in $("$SUB" list --data "$S" --status issued | grep -oE '^[0-9a-f]{32}'); do
	curl -s --cacert m1/root.pem -u bob:bob-password-123 "$API/certificates/$s" >>all.pem
	echo >>all.pem
done
check_out "every issued certificate verifies to the root (openssl verify)" "^0 [1-9][0-9]*$" \
	bash -c "csplit -s -z -f one- all.pem '/-----BEGIN/' '{*}'; bad=0; n=0; for f in one-*; do n=\$((n+1)); openssl verify -CAfile m1/root.pem -untrusted '$S/ca.pem' \$f >/dev/null 2>&1 || bad=\$((bad+1)); done; echo \$bad \$n"

# ---- the RA is renewed before its certificate expires --------------------------
stop
LATER=$(( $(date +%s) + 61 * 86400 ))
CHL=$(CAIRN_TEST_NOW=$LATER "$SUB" challenge new --data "$S" --template Router 2>/dev/null |
	awk '/^challenge:/ { print $2 }')
serve CAIRN_TEST_NOW=$LATER
curl -s "$URL?operation=GetCACert" | openssl pkcs7 -inform DER -print_certs | openssl x509 -out ra2.pem
check "61 days on (29 left, renew_before 30d) the daemon made a new RA certificate" \
	bash -c "! cmp -s <(openssl x509 -in ra.pem -outform DER) <(openssl x509 -in ra2.pem -outform DER) && openssl x509 -in ra2.pem -noout -subject | grep -q 'Example SCEP RA'"
check_out "with a new key in the token" "scep-ra-.*scep-ra-" \
	bash -c "SOFTHSM2_CONF='$S/softhsm2.conf' pkcs11-tool --module '$MODULE' --token-label 'Cairn Sub CA' --login --pin \$(cat '$S/user.pin') --list-objects --type privkey 2>/dev/null | grep label: | tr '\n' ' '"
openssl genrsa -out kl.pem 2048 2>/dev/null
"$SC" build --ra ra.pem --key kl.pem --subject /CN=rl.routers.example.org \
	--challenge "$CHL" --out ml.der >/dev/null
post ml.der rml.der >/dev/null
check_out "an envelope made for the old RA certificate still opens (old key kept)" \
	"pkiStatus=SUCCESS" "$SC" open --in rml.der --ra ra2.pem --key kl.pem
stop

# ---- the audit log -----------------------------------------------------------------
check_out "no sanitizer complained" "^clean$" bash -c "grep -q Sanitizer serve.log && echo dirty || echo clean"
check_out "the audit log verifies with the CA's key" "chain intact" \
	"$SUB" audit verify --data "$S" --out audit.jsonl
check_out "every refusal is in it with its reason" \
	"challenge 1 was used already.*webhook refused.*expired at.*was revoked.*does not match challenge.*webhook refused.*did not answer within.*signature does not verify.*another recipient.*0 signers.*not a DER CMS.*not base64.*unknown SCEP operation.*DES-EDE3-CBC is not accepted.*not issued over SCEP" \
	bash -c "grep '\"scep refused\"' audit.jsonl | tr '\n' ' '"
check_out "challenges made and spent, the RA certificates, each audited" \
	"scep RA certificate.*scep challenge created.*scep challenge used.*scep RA certificate" \
	bash -c "grep -o '\"event\":\"scep [a-zA-Z ]*\"' audit.jsonl | tr '\n' ' '"
