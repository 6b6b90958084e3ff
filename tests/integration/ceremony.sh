#!/bin/bash
# ceremony.sh: the root ceremonies in --batch mode on SoftHSM2, their
# outputs checked by peers (openssl verify, GnuTLS certtool, openssl crl,
# openssl cms), the media and the ceremony log verified and then tampered
# with, and an aborted ceremony leaving the media as it was.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 47

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
H=(--data "$D" --pin-file "$T/user.pin" --batch)
"$ROOT" token init --data "$D" --label Root --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
NB=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The root starts when the shipped root-init script says, so that the
# shipped sign-subordinate script (checked below against this root) is
# checked as the pair an operator would run; NB if that is later.
ROOT_NB=$(sed -n 's/^ *not_before: *\([0-9TZ:-]*\).*/\1/p' \
	"$CAIRN_SRCDIR/ceremonies/root-init.yaml")
[[ "$ROOT_NB" < "$NB" ]] || ROOT_NB=$NB
cd "$T" || exit 1

cat >root-init.yaml <<EOF
ceremony: root-init
operator: Alice Operator
witnesses: [Bob Witness, Carol Auditor]
token: { label: Root }
key: { label: root-key, type: ec-p384 }
certificate:
  subject: { C: DE, O: Cairn Test, CN: Cairn Test Root }
  not_before: $ROOT_NB
  validity: 20y
  path_length: 1
EOF
check_out "root-init runs in batch mode and seals the media" \
	"Ceremony root-init complete" "$ROOT" run root-init.yaml --media m1 "${H[@]}"
check_out "the media holds the root (PEM and DER), the log and the transcript" \
	"^MANIFEST MANIFEST.p7s ceremony-log.jsonl root.der root.pem transcript.md $" \
	bash -c "ls m1 | tr '\n' ' '"
check_out "openssl verifies the self-signed root" ": OK" \
	openssl verify -CAfile m1/root.pem m1/root.pem
check_out "GnuTLS certtool verifies it too" "Verified. The certificate is trusted" \
	certtool --verify --load-ca-certificate m1/root.pem --infile m1/root.pem
check_out "the root is a CA with path length 1, keyCertSign and cRLSign" \
	"CA:TRUE, pathlen:1 .*Certificate Sign, CRL Sign" \
	bash -c "openssl x509 -in m1/root.pem -noout -text | tr '\n' ' '"
check_out "openssl cms verifies the media signature over MANIFEST" "Verification successful" \
	openssl cms -verify -binary -inform DER -in m1/MANIFEST.p7s -content m1/MANIFEST \
	-CAfile m1/root.pem -purpose any -out /dev/null
check_out "media verify accepts the media" "signed media, verified" \
	"$ROOT" media verify m1 --root m1/root.pem
check_out "the transcript names people, steps, fingerprints and signature lines" \
	"Operator: Alice Operator.*Witness: Carol Auditor.*Step 2: Generate the root key.*public key SHA-256.*\| witness \| Bob Witness" \
	bash -c "tr '\n' ' ' <m1/transcript.md"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout sub.key \
	-subj "/C=DE/O=Cairn Test/CN=Cairn Test Issuing CA" -out sub.csr 2>/dev/null
cat >sign-sub.yaml <<EOF
ceremony: sign-subordinate
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
request: sub.csr
certificate:
  not_before: $NB
  validity: 5y
  crl_urls: [http://pki.example/root.crl]
  ca_issuers_urls: [http://pki.example/root.der]
  name_constraints: { permitted_dns: [example.com] }
EOF
check_out "sign-subordinate signs the CSR made by openssl" \
	"Ceremony sign-subordinate complete" "$ROOT" run sign-sub.yaml --media m2 "${H[@]}"
check_out "openssl verifies the subordinate against the root" "sub-ca.pem: OK" \
	openssl verify -CAfile m1/root.pem m2/sub-ca.pem
check_out "GnuTLS certtool verifies the chain" "Verified. The certificate is trusted" \
	certtool --verify --load-ca-certificate m1/root.pem --infile m2/sub-ca.pem
check_out "the subordinate: pathlen 0, CRL DP, AIA, critical name constraints" \
	"CA:TRUE, pathlen:0 .*URI:http://pki.example/root.crl.*CA Issuers - URI:http://pki.example/root.der.*Name Constraints: critical +Permitted: +DNS:example.com" \
	bash -c "openssl x509 -in m2/sub-ca.pem -noout -text | tr '\n' ' '"
check_eq "its key is the CSR's key" \
	"$(openssl req -in sub.csr -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
	"$(openssl x509 -in m2/sub-ca.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)"

cat >crl.yaml <<EOF
ceremony: issue-crl
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
crl:
  this_update: $NOW
  validity: 365d
  revoked:
    - certificate: m2/sub-ca.pem
      reason: cessationOfOperation
      date: $NB
EOF
check_out "issue-crl signs a root CRL" "Ceremony issue-crl complete" \
	"$ROOT" run crl.yaml --media m3 "${H[@]}"
check_out "openssl verifies the CRL with the root: number 1, the subordinate revoked" \
	"verify OK.*CRL Number: +1 .*Serial Number: $(openssl x509 -in m2/sub-ca.pem -noout -serial | cut -d= -f2).*Cessation Of Operation" \
	bash -c "openssl crl -inform DER -in m3/root.crl -CAfile m1/root.pem -noout -text 2>&1 | tr '\n' ' '"
check_fail "openssl refuses the revoked subordinate with the CRL" 2 "certificate revoked" \
	bash -c "openssl crl -inform DER -in m3/root.crl -out m3.crl.pem; openssl verify -crl_check -CAfile m1/root.pem -CRLfile m3.crl.pem m2/sub-ca.pem 2>&1"
check_out "a second CRL gets number 2" "CRL Number: +2" \
	bash -c "'$ROOT' run crl.yaml --media m4 ${H[*]} >/dev/null && openssl crl -inform DER -in m4/root.crl -noout -text | tr '\n' ' '"
sed "s/  validity: 365d/  validity: 365d\n  number: 2/" crl.yaml >crl-old.yaml
check_fail "a CRL number not above the last one is refused" 1 \
	"CRL number 2 is not above 2" "$ROOT" run crl-old.yaml --media m5 "${H[@]}"
check_fail "... and leaves no media behind" 2 "No such file" ls m5/root.crl
check_fail "the laptop's log shows the refused ceremony's records, unsigned so far" 1 \
	"not covered by a signature" \
	"$ROOT" audit verify "$D/ceremony-log.jsonl" --root m1/root.pem

cat >ocsp.yaml <<EOF
ceremony: sign-ocsp
operator: Alice Operator
witnesses: [Bob Witness]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
certificates: [m2/sub-ca.pem]
responses:
  this_update: $NOW
  validity: 180d
EOF
SUBSERIAL=$(openssl x509 -in m2/sub-ca.pem -noout -serial | cut -d= -f2)
check_out "sign-ocsp pre-signs a response for the subordinate" \
	"Ceremony sign-ocsp complete" "$ROOT" run ocsp.yaml --media m7 "${H[@]}"
check_out "openssl ocsp verifies it with the root and reads: good" \
	"Response verify OK.*m2/sub-ca.pem: good" \
	bash -c "openssl ocsp -respin m7/ocsp-$SUBSERIAL.der -issuer m1/root.pem -cert m2/sub-ca.pem -CAfile m1/root.pem -no_nonce 2>&1 | tr '\n' ' '"
sed "s|^responses:|crl: m3/root.crl\nresponses:|" ocsp.yaml >ocsp-rev.yaml
check_out "with the root CRL as its source, sign-ocsp answers: revoked" \
	"Response verify OK.*m2/sub-ca.pem: revoked.*Reason: cessationOfOperation" \
	bash -c "'$ROOT' run ocsp-rev.yaml --media m8 ${H[*]} >/dev/null && openssl ocsp -respin m8/ocsp-$SUBSERIAL.der -issuer m1/root.pem -cert m2/sub-ca.pem -CAfile m1/root.pem -no_nonce 2>&1 | tr '\n' ' '"
check_out "GnuTLS ocsptool reads the response too: SHA-1 CertID, good" "Hash Algorithm: SHA1 .*Certificate Status: good" \
	bash -c "ocsptool --response-info --load-response m7/ocsp-$SUBSERIAL.der --inder 2>&1 | tr '\n' ' '"

# GnuTLS checks the whole chain, root last.
check_out "GnuTLS certtool --verify-chain accepts subordinate + root" \
	"Chain verification output: Verified" \
	bash -c "cat m2/sub-ca.pem m1/root.pem >chain.pem && certtool --verify-chain --infile chain.pem 2>&1 | tr '\n' ' '"

# At a terminal, each step waits; anything but "yes" stops the ceremony.
# (script(1) gives the run a terminal; the answers come on its input.)
sed 's/crl: m3/crl: m3/' ocsp.yaml >interactive.yaml
check_out "at a terminal the operator answers each step; 'no' stops it" \
	"Step 1: .*Type yes to carry out this step.*Step 2: .*stopped the ceremony at step 2" \
	bash -c "printf 'yes\nno\n' | script -qec \"'$ROOT' run interactive.yaml --media m9 --data '$D' --pin-file '$T/user.pin'\" /dev/null 2>&1 | tr '\r\n' '  '"
check_out "... and the media stays empty" "^empty$" \
	bash -c "[ -z \"\$(ls -A m9 2>/dev/null)\" ] && echo empty"
check_fail "without a terminal and without --batch, run refuses to start" 2 \
	"not a terminal.*--batch" \
	bash -c "'$ROOT' run interactive.yaml --media m10 --data '$D' --pin-file '$T/user.pin' </dev/null"

# The scripts shipped in ceremonies/ stay valid: each passes "check"
# beside the inputs it names.
mkdir shipped
cp "$CAIRN_SRCDIR"/ceremonies/*.yaml shipped/
cp m1/root.pem shipped/root.pem
cp sub.csr shipped/sub-ca.csr
cp m2/sub-ca.pem shipped/old-sub-ca.pem
cp m2/sub-ca.pem shipped/sub-ca.pem
cp m3/root.crl shipped/root-2026.crl
for s in root-init sign-subordinate issue-crl sign-ocsp; do
	check_out "ceremonies/$s.yaml is a valid script" "a valid $s ceremony" \
		"$ROOT" check "shipped/$s.yaml"
done

# The ceremony log, as the auditor gets it: the copy sealed on the media.
# (The refused ceremony's records were covered by the next checkpoint.)
check_out "audit verify: the log chains and every checkpoint verifies" \
	"lines, the hash chain is intact, 4 checkpoints signed by the root key" \
	"$ROOT" audit verify m4/ceremony-log.jsonl --root m1/root.pem
cp m4/ceremony-log.jsonl log.orig
sed '2s/"step":[0-9]*/"step":9/' log.orig >log.byte
check_fail "one byte changed in a record is caught at the next line" 1 \
	"line 3: prev does not match the hash of line 2" \
	"$ROOT" audit verify log.byte --root m1/root.pem
awk 'NR == 3 { held = $0; next } NR == 4 { print; print held; next } { print }' \
	log.orig >log.swap
check_fail "two lines swapped are caught" 1 "line [34]" \
	"$ROOT" audit verify log.swap --root m1/root.pem
head -c -20 log.orig >log.cut
check_fail "a log cut mid-line is caught" 1 "line [0-9]+" \
	"$ROOT" audit verify log.cut --root m1/root.pem
head -n -1 log.orig >log.short
check_fail "a log missing its last checkpoint is caught" 1 "checkpoint" \
	"$ROOT" audit verify log.short --root m1/root.pem
check_fail "a log checked against another root is refused" 1 "line [0-9]+:.*not by the given key|does not verify" \
	"$ROOT" audit verify log.orig --root m2/sub-ca.pem

# The media, tampered with.
cp -r m2 t1 && printf 'x' >>t1/sub-ca.pem
check_fail "a changed media file is named" 1 "sub-ca.pem" \
	"$ROOT" media verify t1 --root m1/root.pem
cp -r m2 t2 && echo extra >t2/extra.txt
check_fail "an added file is named" 1 "extra.txt" \
	"$ROOT" media verify t2 --root m1/root.pem
cp -r m2 t3 && rm t3/transcript.md
check_fail "a missing file is named" 1 "transcript.md" \
	"$ROOT" media verify t3 --root m1/root.pem
check_fail "media checked against another root is refused" 1 "not by|signed by" \
	"$ROOT" media verify m2 --root m2/sub-ca.pem
check_out "media verify --state records the CRL number" "CRL numbers checked" \
	"$ROOT" media verify m4 --root m1/root.pem --state crl.state
check_fail "an older CRL on media is refused as a rollback" 1 \
	"CRL number 1 is lower than 2" \
	"$ROOT" media verify m3 --root m1/root.pem --state crl.state

# An aborted ceremony: the media is as it was, the log says so.
sed 's/label: root-key }/label: no-such-key }/' sign-sub.yaml >sign-bad.yaml
check_fail "a ceremony failing at a step stops, naming the step" 1 \
	"stopped at step 2.*nothing was added to the media" \
	"$ROOT" run sign-bad.yaml --media m6 "${H[@]}"
check_out "the media directory holds nothing (no outputs, no staging left)" "^empty$" \
	bash -c "[ -d m6 ] && [ -z \"\$(ls -A m6)\" ] && echo empty"
check_out "the abort is in the log (unsigned: the key never opened)" \
	"\"event\":\"abort\".*\"result\":\"aborted\"" \
	bash -c "tail -n 2 '$D/ceremony-log.jsonl' | tr '\n' ' '"
