#!/bin/bash
# ceremony-invalid.sh: one broken ceremony script per class of mistake.
# Each is refused with "file:line: message" before the HSM is touched: the
# token's object list (as OpenSC's pkcs11-tool sees it) is the same after
# as before, and nothing appears on the media.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 52

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
"$ROOT" token init --data "$D" --label Root --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
NB=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
cd "$T" || exit 1

objects() {
	SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
		--token-label Root --login --pin 123456 --list-objects 2>&1
}

# A valid root and subordinate request to refer to.
cat >good-root.yaml <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: 10y
  path_length: 1
EOF
"$ROOT" run good-root.yaml --media good --data "$D" --pin-file "$T/user.pin" \
	--batch >/dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout sub.key \
	-subj "/CN=Sub" -out sub.csr 2>/dev/null
before=$(objects)

# refused NAME STATUS PATTERN < script: the script is refused with the
# pattern, the token is unchanged, nothing is on the media.
n=0
refused() {
	n=$((n + 1))
	cat >"bad$n.yaml"
	check_fail "$1: refused with file:line" 1 "bad$n.yaml:[0-9]+: .*$2" \
		"$ROOT" run "bad$n.yaml" --media "media$n" --data "$D" \
		--pin-file "$T/user.pin" --batch
	check_eq "$1: the token's objects are unchanged" "$before" "$(objects)"
	check_out "$1: nothing on the media" "^none$" \
		bash -c "[ -e media$n ] && ls -A media$n | grep -q . && echo some || echo none"
}

refused "a misspelled key, with a suggestion" \
	"unknown key 'subjct'.*did you mean 'subject'" <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subjct: { CN: Test Root }
  not_before: $NB
  validity: 10y
EOF

refused "an unknown ceremony" 'ceremony: "root-nit" is not one of root-init' <<EOF
ceremony: root-nit
operator: Alice
witnesses: [Bob]
EOF

refused "a wrong type" "validity: .*duration" <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: forever
EOF

refused "a missing field" "witnesses" <<EOF
ceremony: root-init
operator: Alice
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: 10y
EOF

refused "a root valid for longer than 25 years" "at most 25 years" <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: 30y
EOF

refused "key usage that contradicts the role of a root" \
	"key_usage: a root CA's key usage is keyCertSign and cRLSign" <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: 10y
  key_usage: [digitalSignature, keyEncipherment]
EOF

refused "a subordinate outliving its issuer" "outlive its issuer" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: sub.csr
certificate:
  not_before: $NB
  validity: 11y
  crl_urls: [http://pki.example/root.crl]
EOF

refused "a path length the issuer does not allow" \
	"path_length: 1 must be less than the issuer's 1" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: sub.csr
certificate:
  not_before: $NB
  validity: 5y
  path_length: 1
  crl_urls: [http://pki.example/root.crl]
EOF

refused "an input file that does not exist" "request: .*no-such.csr" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: no-such.csr
certificate:
  not_before: $NB
  validity: 5y
  crl_urls: [http://pki.example/root.crl]
EOF

echo "not a request" >garbage.csr
refused "an input file that does not parse" \
	"request: garbage.csr is not a certificate request" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: garbage.csr
certificate:
  not_before: $NB
  validity: 5y
  crl_urls: [http://pki.example/root.crl]
EOF

# A request whose signature does not verify: its last bytes flipped.
openssl req -in sub.csr -outform DER -out sub.der
cp sub.der forged.der
pos=$(($(stat -c %s sub.der) - 3))
byte=$(od -An -tu1 -j "$pos" -N1 sub.der | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" |
	dd of=forged.der bs=1 seek="$pos" conv=notrunc 2>/dev/null
refused "a request whose signature does not verify" \
	"signature does not verify with the key it carries" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: forged.der
certificate:
  not_before: $NB
  validity: 5y
  crl_urls: [http://pki.example/root.crl]
EOF

refused "a subordinate without a CRL distribution point" "crl_urls: a subordinate CA certificate needs" <<EOF
ceremony: sign-subordinate
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
request: sub.csr
certificate:
  not_before: $NB
  validity: 5y
EOF

refused "a CRL valid for more than 12 months" "at most 12 months" <<EOF
ceremony: issue-crl
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
crl:
  this_update: $NB
  validity: 400d
EOF

# The end of a validity period: a time or a duration, one of them, later
# than its start (one rule for certificates, CRLs and OCSP responses).
refused "both a validity and a not_after" \
	"give either validity \\(a duration\\) or not_after \\(a time\\), not both" <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: k2, type: ec-p384 }
certificate:
  subject: { CN: Test Root }
  not_before: $NB
  validity: 10y
  not_after: 2040-01-01T00:00:00Z
EOF

refused "a CRL with no end" "give either validity .* or next_update .*, not neither" <<EOF
ceremony: issue-crl
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
crl:
  this_update: $NB
EOF

refused "an OCSP response ending before it starts" \
	"next_update must be after this_update" <<EOF
ceremony: sign-ocsp
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
certificates: [good/root.pem]
responses:
  this_update: $NB
  next_update: 2001-01-01T00:00:00Z
EOF

refused "the operator as their own witness" "cannot witness their own ceremony" <<EOF
ceremony: issue-crl
operator: Alice
witnesses: [Alice]
token: { label: Root }
key: { label: root-key }
issuer: good/root.pem
crl:
  this_update: $NB
  validity: 30d
EOF

# Several problems: all reported at once.
cat >many.yaml <<EOF
ceremony: root-init
operator: Alice
witnesses: []
token: { labl: Root }
key: { label: k2, type: ec-p999 }
certificate:
  subject: { CN: Test Root, C: Germany }
  not_before: yesterday
  validity: 10y
EOF
check_out "a script with several problems gets them all reported" \
	"many.yaml:3: .*many.yaml:4: .*many.yaml:5: .*many.yaml:7: .*many.yaml:8: .*[5-9] problems in many.yaml; nothing was done and the HSM was not touched" \
	bash -c "'$ROOT' check many.yaml 2>&1 | tr '\n' ' '; true"
