#!/bin/bash
# ceremony-backup.sh: key-backup and key-restore on SoftHSM2.
#
# The root key (made for backup) is wrapped inside the token under a key
# split 2-of-3 among custodians; restored from any two shares into a
# fresh token, it signs what the original root certificate verifies (a
# signature by pkcs11-tool, checked by OpenSSL, and a CRL made by a whole
# issue-crl ceremony on the restored token). Too few shares, a share of
# another backup, a mistyped share, a wrong SO PIN and a key made without
# backup are each refused with their reason.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
plan 24

D="$T/hsm"
pinfile "$T/user.pin" 123456
pinfile "$T/so.pin" 987654
pinfile "$T/bad-so.pin" 000000
H=(--data "$D" --pin-file "$T/user.pin" --batch)
"$ROOT" token init --data "$D" --label Root --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
"$ROOT" token init --data "$D" --label Restored --so-pin-file "$T/so.pin" \
	--pin-file "$T/user.pin" >/dev/null
NB=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cd "$T" || exit 1
mkdir shares shares2

cat >root-init.yaml <<EOF
ceremony: root-init
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key, type: ec-p384, backup: true }
certificate:
  subject: { CN: Backed-up Root }
  not_before: $NB
  validity: 10y
EOF
check_out "root-init makes a root key that can be backed up" \
	"may be backed up.*Ceremony root-init complete" \
	bash -c "'$ROOT' run root-init.yaml --media m1 ${H[*]} | tr '\n' ' '"
check_out "the key is sensitive, and extractable only under a trusted key" \
	"Access: +sensitive, always sensitive, extractable" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
	--token-label Root --login --pin 123456 --list-objects --type privkey

cat >backup.yaml <<EOF
ceremony: key-backup
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
custodians: [Dave Custodian, Erin Custodian, Frank Custodian]
threshold: 2
outputs:
  backup: root-key.backup
  shares: shares
EOF
check_fail "a wrong SO PIN: the backup stops, naming the SO login" 1 \
	"security officer login.*CKR_PIN_INCORRECT" \
	"$ROOT" run backup.yaml --media mbad "${H[@]}" --so-pin-file "$T/bad-so.pin"
check_out "... and the root key still signs afterwards (issue-crl works)" \
	"Ceremony issue-crl complete" bash -c "cat >crl0.yaml <<EOF
ceremony: issue-crl
operator: Alice
witnesses: [Bob]
token: { label: Root }
key: { label: root-key }
issuer: m1/root.pem
crl: { this_update: $NOW, validity: 30d }
EOF
'$ROOT' run crl0.yaml --media mcrl0 ${H[*]}"
check_out "key-backup wraps the key and writes one share per custodian" \
	"Ceremony key-backup complete" \
	"$ROOT" run backup.yaml --media m2 "${H[@]}" --so-pin-file "$T/so.pin"
check_out "the media holds the backup, not the shares" "root-key.backup" ls m2
check_out "no share is on the media" "^none$" \
	bash -c "ls m2 | grep -q share && echo found || echo none"
check_out "three share files, readable by their owner only" "^600 600 600 $" \
	bash -c "stat -c %a shares/* | tr '\n' ' '"
check_out "a share names the backup, the key, its index and threshold" \
	"CAIRN KEY BACKUP SHARE v1.*share: 2 of 3, any 2 restore.*custodian: Erin Custodian" \
	bash -c "tr '\n' ' ' <shares/share-2-of-3-Erin_Custodian.txt"
check_out "the backup file holds the wrapped key, no plaintext key" \
	'"format": "cairn-key-backup-v1".*"mechanism": "CKM_AES_KEY_WRAP_PAD"' \
	bash -c "tr '\n' ' ' <m2/root-key.backup"
check_out "the media with the backup verifies against the root" \
	"signed media, verified" "$ROOT" media verify m2 --root m1/root.pem

restore() { # name share...
	local name=$1
	shift
	{
		echo "ceremony: key-restore"
		echo "operator: Alice"
		echo "witnesses: [Bob]"
		echo "token: { label: Restored }"
		echo "key: { label: root-key }"
		echo "issuer: m1/root.pem"
		echo "backup: m2/root-key.backup"
		echo "shares:"
		for s in "$@"; do echo "  - $s"; done
	} >"$name"
}
restored_objects() {
	echo "objects: $(SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool \
		--module "$MODULE" --token-label Restored --login --pin 123456 \
		--list-objects 2>/dev/null | grep -c 'Object;')"
}
before=$(restored_objects)
restore r1.yaml shares/share-1-of-3-Dave_Custodian.txt
check_fail "one share of a 2-of-3 backup is refused, before the HSM" 1 \
	"needs 2 shares and 1 usable one is given" \
	"$ROOT" run r1.yaml --media mr1 "${H[@]}"
# One hex digit of the first data line changed, as a tired typist might.
awk '/^data-1: / { c = substr($0, 9, 1); d = c == "0" ? "1" : "0"
	$0 = substr($0, 1, 8) d substr($0, 10) } { print }' \
	shares/share-3-of-3-Frank_Custodian.txt >typo.txt
restore r2.yaml shares/share-1-of-3-Dave_Custodian.txt typo.txt
check_fail "a mistyped digit is caught on its line" 1 "typo.txt line [0-9]+" \
	"$ROOT" run r2.yaml --media mr2 "${H[@]}"
check_out "another backup of the same key, for a foreign share" \
	"Ceremony key-backup complete" bash -c "sed 's/shares: shares/shares: shares2/' backup.yaml >backup2.yaml && '$ROOT' run backup2.yaml --media m3 ${H[*]} --so-pin-file '$T/so.pin'"
restore r3.yaml shares/share-1-of-3-Dave_Custodian.txt \
	shares2/share-2-of-3-Erin_Custodian.txt
check_fail "a share of another backup is refused" 1 "belongs to backup" \
	"$ROOT" run r3.yaml --media mr3 "${H[@]}"
check_eq "the refused restores left the new token as it was (no objects)" \
	"objects: 0" "$before$(test "$before" = "$(restored_objects)" || echo ' changed')"

restore r4.yaml shares/share-3-of-3-Frank_Custodian.txt \
	shares/share-1-of-3-Dave_Custodian.txt
check_out "any two shares restore the key into the fresh token" \
	"Ceremony key-restore complete" "$ROOT" run r4.yaml --media m4 "${H[@]}"
check_eq "the restored key has the root's public key" \
	"$(openssl x509 -in m1/root.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
	"$("$ROOT" key show --data "$D" --pin-file "$T/user.pin" \
	--key 'pkcs11:token=Restored;object=root-key' | sed -n '/BEGIN/,/END/p' |
	openssl pkey -pubin -outform DER | sha256sum)"
printf 'signed after the restore\n' >msg
openssl dgst -sha384 -binary msg >msg.hash
id=$("$ROOT" key list --data "$D" --pin-file "$T/user.pin" --token Restored |
	sed -n 's/^  id: *//p')
SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
	--token-label Restored --login --pin 123456 --sign --mechanism ECDSA \
	--id "$id" --signature-format openssl -i msg.hash -o msg.sig >/dev/null 2>&1
check_out "pkcs11-tool signs with the restored key; the root certificate verifies" \
	"Signature Verified Successfully" \
	bash -c "openssl x509 -in m1/root.pem -noout -pubkey >root.pub &&
	openssl pkeyutl -verify -pubin -inkey root.pub -in msg.hash -sigfile msg.sig"
sed 's/label: Root }/label: Restored }/' crl0.yaml >crl1.yaml
check_out "a whole issue-crl ceremony runs on the restored token" \
	"Ceremony issue-crl complete" "$ROOT" run crl1.yaml --media m5 "${H[@]}"
check_out "its CRL verifies with the original root certificate" "verify OK" \
	bash -c "openssl crl -inform DER -in m5/root.crl -CAfile m1/root.pem -noout 2>&1"
check_out "the restored key is sensitive and can be backed up again" \
	"Access: +sensitive, extractable" \
	env SOFTHSM2_CONF="$D/softhsm2.conf" pkcs11-tool --module "$MODULE" \
	--token-label Restored --login --pin 123456 --list-objects --type privkey

# A root key made without backup cannot be backed up at all.
sed 's/label: root-key, type: ec-p384, backup: true/label: plain-key, type: ec-p256/; s/Backed-up Root/Plain Root/' \
	root-init.yaml >plain.yaml
"$ROOT" run plain.yaml --media m6 "${H[@]}" >/dev/null 2>&1
sed 's/label: root-key }/label: plain-key }/; s|m1/root.pem|m6/root.pem|; s/shares: shares/shares: shares2/' \
	backup.yaml >plain-backup.yaml
check_fail "a key made without backup is refused: made without backup" 1 \
	"made without backup" \
	"$ROOT" run plain-backup.yaml --media m7 "${H[@]}" --so-pin-file "$T/so.pin"
check_out "the ceremony log verifies through all of it" \
	"hash chain is intact" "$ROOT" audit verify m5/ceremony-log.jsonl --root m1/root.pem
