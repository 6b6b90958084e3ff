#!/bin/bash
# tpm.sh: TPM key attestation (docs/tpm-attestation.md) with swtpm as the
# TPM.  swtpm_setup --create-ek-cert gives it an EK certificate from a
# local EK CA (swtpm_localca, configured in this test's directory) that
# the CA trusts; a second swtpm's EK CA is not trusted.  cairn-enroll
# enrolls at each trust level (EK certificate, EK key on the allow-list,
# user credentials) and each certificate carries its issuance-policy OID
# (openssl x509 -text) and verifies to the root.  tpm2-tools run one whole
# exchange against the CA with curl (tpm2_createek, tpm2_createak,
# tpm2_activatecredential, TPM2_Certify through tpm2_send), the CSR made by the tpm2-openssl
# provider: the CA's MakeCredential and parsing meet a TPM stack someone
# else wrote.  Refused, each audited with its reason: an untrusted EK, a
# forged attestation, a replayed one, an attestation of another key than
# the CSR's, a wrong activated secret, an expired nonce, a finished
# exchange finished again, a plain CSR on a template requiring
# attestation.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
. "$CAIRN_SRCDIR/tests/twotier.sh"
plan 47

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
ENROLL="$CAIRN_BUILDDIR/enroll/cairn-enroll"
"$CAIRN_SRCDIR/scripts/install-deps" >/dev/null
cd "$T" || exit 1
# Free ports: the CA's two, and per swtpm a server port P and its control
# port, which the swtpm TCTI takes to be P + 1.
read -r HTTPS HTTP PA PB < <(python3 -c 'import socket
def free(n):
    s = socket.socket(); s.bind(("127.0.0.1", n)); return s
out, keep = [], []
for _ in range(2):
    s = free(0); keep.append(s); out.append(s.getsockname()[1])
while len(out) < 4:
    s = free(0); p = s.getsockname()[1]
    try:
        keep += [s, free(p + 1)]; out.append(p)
    except OSError:
        s.close()
print(*out)')
PA2=$((PA + 1))
PB2=$((PB + 1))
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# ---- the CA: root, subordinate, import (as sub-ca.sh) ---------------------
ROOT_BIN=$ROOT SUB_BIN=$SUB TWOTIER_SUBJECT='CN=Cairn TPM Issuing CA' \
	twotier_setup "$T" "$HTTPS" "$HTTP"
S="$T/sub"
check "the issuing CA is set up" test -s "$S/ca.pem"

# ---- two swtpms, each with an EK certificate from its own local EK CA -----
# tpm_setup NAME: swtpm_localca in NAME-ca (private config, not /etc's),
# the TPM state in NAME-state.
tpm_setup() {
	mkdir -p "$1-ca" "$1-state"
	cat >"$1-localca.conf" <<EOF
statedir = $T/$1-ca
signingkey = $T/$1-ca/signkey.pem
issuercert = $T/$1-ca/issuercert.pem
certserial = $T/$1-ca/certserial
EOF
	printf -- '--platform-manufacturer Cairn\n--platform-version 2.1\n--platform-model %s\n' \
		"$1" >"$1-localca.options"
	cat >"$1-setup.conf" <<EOF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $T/$1-localca.conf
create_certs_tool_options = $T/$1-localca.options
active_pcr_banks = sha256
EOF
	swtpm_setup --tpm2 --tpm-state "$T/$1-state" --create-ek-cert \
		--config "$T/$1-setup.conf" --logfile "$T/$1-setup.log"
}
# tpm_start NAME PORT CTRLPORT
tpm_start() {
	swtpm socket --tpm2 --tpmstate dir="$T/$1-state" \
		--server type=tcp,port="$2",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port="$3",bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear --log file="$T/$1.log" &
	PIDS+=($!)
}
check "swtpm_setup makes TPM A with an EK certificate (trusted EK CA)" tpm_setup tpmA
check "swtpm_setup makes TPM B with an EK certificate (another EK CA)" tpm_setup tpmB
tpm_start tpmA "$PA" "$PA2"
tpm_start tpmB "$PB" "$PB2"
TA="swtpm:host=127.0.0.1,port=$PA"
TB="swtpm:host=127.0.0.1,port=$PB"
for _ in $(seq 50); do
	TPM2TOOLS_TCTI=$TA tpm2_getrandom 4 >/dev/null 2>&1 &&
		TPM2TOOLS_TCTI=$TB tpm2_getrandom 4 >/dev/null 2>&1 && break
	sleep 0.2
done
TPM2TOOLS_TCTI=$TA tpm2_nvread 0x1c00002 -o ekA.der 2>/dev/null
TPM2TOOLS_TCTI=$TB tpm2_nvread 0x1c00002 -o ekB.der 2>/dev/null
check_out "TPM A's EK certificate chains to its EK CA (openssl verify)" "ekA.pem: OK" \
	bash -c "openssl x509 -inform DER -in ekA.der -out ekA.pem &&
	openssl verify -CAfile tpmA-ca/swtpm-localca-rootca-cert.pem \
	-untrusted tpmA-ca/issuercert.pem ekA.pem"
# EK hashes for the allow-list: SHA-256 of the SubjectPublicKeyInfo.
ekhash() { openssl x509 -inform DER -in "$1" -noout -pubkey |
	openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
HB=$(ekhash ekB.der)

# ---- configuration: EK roots, allow-list, templates -------------------------
mkdir -p "$S/ekroots"
cp tpmA-ca/swtpm-localca-rootca-cert.pem tpmA-ca/issuercert.pem "$S/ekroots/"
printf '# EK public keys (SHA-256 of the SPKI)\n%s  tpmB\n' "$HB" >"$S/ek-allow.txt"
cat >>"$S/cairn-sub.yaml" <<EOF
tpm:
  ek_roots: ekroots
  ek_allow: ek-allow.txt
  session_lifetime: 5m
EOF
# tpl NAME ATTESTATION TRUST: a ClientAuth-like template for TPM keys.
tpl() {
	cat >"$S/templates/$1.yaml" <<EOF
template: $1
version: 1
validity: 30d
approval: false
enroll:
  roles: [enrollee]
keys: [ec-p256, rsa-2048]
key_usage: [digitalSignature]
extended_key_usage: [clientAuth]
subject:
  O: Cairn Test
  CN: { from: account }
attestation: $2
attestation_trust: [$3]
EOF
	chmod 600 "$S/templates/$1.yaml"
}
tpl TpmCert required ek-certificate
tpl TpmKey required ek-key
tpl TpmUser required user-credentials
tpl TpmStrong required "ek-certificate, ek-key"
printf 'alice-password-1\n' >alice.pw
"$SUB" account add alice --data "$S" --role enrollee --password-file alice.pw >/dev/null

# ---- the daemon -------------------------------------------------------------
start_ca() {
	"$SUB" serve --data "$S" --pid-file serve.pid >>serve.log 2>&1 &
	CAPID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP/ca/ca.der" && break
		sleep 0.2
	done
}
stop_ca() {
	kill -TERM "$CAPID"
	wait "$CAPID"
}
start_ca
URL="https://127.0.0.1:$HTTPS"
E=(--url "$URL" --user alice --password-file alice.pw --cacert m1/root.pem)

# ---- cairn-enroll at each trust level ----------------------------------------
check_out "EK-certificate trust: cairn-enroll tpm gets a certificate" "trusts this TPM at level ek-certificate" \
	"$ENROLL" tpm "${E[@]}" --template TpmCert --tcti "$TA" --out a.pem \
	--key-out a.tss --verbose
check_out "it carries the EK-certificate issuance policy 1.3.6.1.4.1.311.21.30" \
	"Policy: 1.3.6.1.4.1.311.21.30" openssl x509 -in a.pem -noout -text
check_out "and verifies to the root" "a.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" a.pem
check_out "the subject is the account's, as the template says" "CN = alice" \
	openssl x509 -in a.pem -noout -subject
# The key file works with another TPM stack: the tpm2-openssl provider
# loads it, its public key is the certificate's, and it signs.
export TPM2OPENSSL_TCTI=$TA
check_eq "tpm2-openssl loads the TSS2 key file: same public key as the certificate" \
	"$(openssl x509 -in a.pem -noout -pubkey)" \
	"$(openssl pkey -provider tpm2 -provider default -in a.tss -pubout 2>/dev/null)"
check_out "the TPM key signs and the certificate verifies it" "Verified OK" \
	bash -c "echo hello >msg && openssl dgst -sha256 -provider tpm2 -provider default \
	-propquery '?provider=tpm2' -sign a.tss -out msg.sig msg && openssl dgst -sha256 -verify <(openssl x509 -in a.pem -pubkey -noout) \
	-signature msg.sig msg"
check_out "EK-key trust (allow-list): TPM B gets the .31 policy" "Policy: 1.3.6.1.4.1.311.21.31" \
	bash -c "'$ENROLL' tpm ${E[*]} --template TpmKey --tcti '$TB' --out b.pem &&
	openssl x509 -in b.pem -noout -text"
check_out "user-credential trust: TPM B, whose EK nothing vouches for, gets .32" "Policy: 1.3.6.1.4.1.311.21.32" \
	bash -c "'$ENROLL' tpm ${E[*]} --template TpmUser --tcti '$TB' --no-ek-cert \
	--key-type rsa-2048 --out c.pem && openssl x509 -in c.pem -noout -text"
check "each certificate has only its own level's OID" \
	bash -c "! openssl x509 -in a.pem -noout -text | grep -E '311\.21\.3[12]' &&
	! openssl x509 -in c.pem -noout -text | grep -E '311\.21\.3[01]'"

# ---- refusals with cairn-enroll -------------------------------------------------
check_fail "an untrusted EK (TPM B's EK CA is not configured, its key not listed) is refused" 1 \
	"untrusted EK.*does not chain to a TPM manufacturer root" \
	"$ENROLL" tpm "${E[@]}" --template TpmCert --tcti "$TB"
rm -f "$S/ek-allow.txt.x"
printf '# nobody\n' >"$S/ek-allow.txt"
check_fail "TPM B on a template taking EK certificates or listed keys: refused" 1 \
	"untrusted EK" "$ENROLL" tpm "${E[@]}" --template TpmStrong --tcti "$TB"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soft.key -subj "/CN=alice" -out soft.csr 2>/dev/null
check_eq "a plain CSR on a template requiring attestation: 422" 422 \
	"$(curl -s --cacert m1/root.pem -u alice:alice-password-1 -o plain.json -w '%{http_code}' \
	-H 'Content-Type: application/pkcs10' --data-binary @soft.csr "$URL/api/v1/requests?template=TpmCert")"
check_out "...saying attestation is required" "requires TPM key attestation" cat plain.json

# ---- tpm2-tools as the peer: one whole exchange with curl -----------------------
export TPM2TOOLS_TCTI=$TA
J() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
b64f() { base64 -w0 "$1"; }
# post PATH BODYFILE OUT: POST JSON as alice, print the status
post() {
	curl -s --cacert m1/root.pem -u alice:alice-password-1 -o "$3" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @"$2" "$URL$1"
}
fl() { tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -l >/dev/null 2>&1; }
fl
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null && fl
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name >/dev/null && fl
tpm2_createprimary -C o -g sha256 -G ecc -c srk.ctx >/dev/null && fl
tpm2_create -C srk.ctx -G ecc256 -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' \
	-u k1.pub -r k1.priv >/dev/null && fl
tpm2_create -C srk.ctx -G ecc256 -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' \
	-u k2.pub -r k2.priv >/dev/null && fl
tpm2_load -C srk.ctx -u k1.pub -r k1.priv -c k1.ctx >/dev/null && fl
tpm2_load -C srk.ctx -u k2.pub -r k2.priv -c k2.ctx >/dev/null && fl
# Persistent, for tpm2_send and tpm2-openssl.
K1=0x81000101 K2=0x81000102 AKH=0x81010102
tpm2_evictcontrol -C o -c k1.ctx $K1 >/dev/null && fl
tpm2_evictcontrol -C o -c k2.ctx $K2 >/dev/null && fl
tpm2_evictcontrol -C o -c ak.ctx $AKH >/dev/null && fl
# The CSR for k1, signed in the TPM by the tpm2-openssl provider.
check "tpm2-openssl makes a CSR with the persistent TPM key" \
	openssl req -new -provider tpm2 -provider default -key handle:$K1 \
	-subj /CN=alice -out k1.csr
mkstart() { # mkstart KEYPUB OUT
	python3 - "$1" "$2" <<'EOF'
import base64, json, sys
b = lambda f: base64.b64encode(open(f, "rb").read()).decode()
json.dump({"template": "TpmCert", "csr": open("k1.csr").read(), "ek_pub": b("ek.pub"),
           "ek_cert": b("ekA.der"), "ak_pub": b("ak.pub"), "key_pub": b(sys.argv[1])},
          open(sys.argv[2], "w"))
EOF
}
# activate R1JSON OUTSECRET: tpm2-tools' credential file from the CA's
# answer, and tpm2_activatecredential with the EK's policy session
activate() {
	python3 - "$1" <<'EOF'
import base64, json, struct, sys
r = json.load(open(sys.argv[1]))
open("cred.bin", "wb").write(struct.pack(">II", 0xBADCC0DE, 1) +
    base64.b64decode(r["credential_blob"]) + base64.b64decode(r["encrypted_secret"]))
open("nonce.bin", "wb").write(base64.b64decode(r["nonce"]))
EOF
	fl
	tpm2_startauthsession --policy-session -S s.ctx >/dev/null &&
	tpm2_policysecret -S s.ctx -c e >/dev/null &&
	tpm2_activatecredential -c ak.ctx -C ek.ctx -i cred.bin -o "$2" \
		-P session:s.ctx >/dev/null
	local rc=$?
	tpm2_flushcontext s.ctx >/dev/null 2>&1
	fl
	return $rc
}
# certify HANDLE N: TPM2_Certify of the persistent key HANDLE by the AK
# over the CA's nonce, into attestN.bin (TPM2B_ATTEST) and sigN.bin
# (TPMT_SIGNATURE).  tpm2_certify of tpm2-tools 5.4 has no option for
# the qualifying data, so the command goes to the TPM through tpm2_send,
# marshalled here (TPM 2.0 Part 3 18.2: two password sessions).
certify() {
	python3 - "$1" "$AKH" <<'PY' >certify.cmd
import struct, sys
q = open("nonce.bin", "rb").read()
pw = struct.pack(">IHBH", 0x40000009, 0, 0, 0)        # TPM_RS_PW, empty
body = (struct.pack(">II", int(sys.argv[1], 16), int(sys.argv[2], 16)) +
        struct.pack(">I", 2 * len(pw)) + pw + pw +
        struct.pack(">H", len(q)) + q + struct.pack(">H", 0x0010))
sys.stdout.buffer.write(struct.pack(">HII", 0x8002, 10 + len(body), 0x148) + body)
PY
	tpm2_send -o certify.rsp <certify.cmd &&
	python3 - "$2" <<'PY'
import struct, sys
r = open("certify.rsp", "rb").read()
tag, size, rc = struct.unpack(">HII", r[:10])
if rc != 0:
    sys.exit("TPM2_Certify: TPM_RC 0x%x" % rc)
psize = struct.unpack(">I", r[10:14])[0]
p = r[14:14 + psize]
alen = struct.unpack(">H", p[:2])[0]
open("attest%s.bin" % sys.argv[1], "wb").write(p[:2 + alen])
open("sig%s.bin" % sys.argv[1], "wb").write(p[2 + alen:])
PY
}
mkfinish() { # mkfinish R1JSON SECRETFILE ATTEST SIG OUT
	python3 - "$@" <<'EOF'
import base64, json, sys
b = lambda f: base64.b64encode(open(f, "rb").read()).decode()
json.dump({"session": json.load(open(sys.argv[1]))["session"], "secret": b(sys.argv[2]),
           "attest": b(sys.argv[3]), "signature": b(sys.argv[4])}, open(sys.argv[5], "w"))
EOF
}
mkstart k1.pub start1.json
check_eq "tpm2-tools peer: round 1 accepted (201)" 201 "$(post /api/v1/attest/start start1.json r1.json)"
check "tpm2_activatecredential opens the CA's software MakeCredential" activate r1.json secret1.bin
check "TPM2_Certify (tpm2_send) certifies k1 with the AK over the CA's nonce" certify $K1 1
mkfinish r1.json secret1.bin attest1.bin sig1.bin fin1.json
check_eq "round 2: the certificate (201)" 201 "$(post /api/v1/attest/finish fin1.json f1.json)"
J f1.json certificate >k1.pem 2>/dev/null
check_out "the tpm2-tools enrollment carries the EK-certificate OID" "Policy: 1.3.6.1.4.1.311.21.30" \
	openssl x509 -in k1.pem -noout -text
check_eq "finishing the same exchange again is refused (409: single use)" 409 \
	"$(post /api/v1/attest/finish fin1.json f1b.json)"

# ---- refusals with the tpm2-tools pieces -------------------------------------------
# A new exchange answered with the old exchange's attestation: replayed.
mkstart k1.pub start2.json
post /api/v1/attest/start start2.json r2.json >/dev/null
activate r2.json secret2.bin
mkfinish r2.json secret2.bin attest1.bin sig1.bin fin2.json
check_eq "a replayed attestation (an old nonce) is refused (403)" 403 \
	"$(post /api/v1/attest/finish fin2.json f2.json)"
check_out "...because extraData is not this exchange's nonce" "extraData is not this exchange" cat f2.json
# A wrong activated secret.
mkstart k1.pub start3.json
post /api/v1/attest/start start3.json r3.json >/dev/null
activate r3.json secret3.bin
head -c 32 /dev/urandom >wrong.bin
certify $K1 3
mkfinish r3.json wrong.bin attest3.bin sig3.bin fin3.json
check_eq "a wrong activated secret is refused (403)" 403 "$(post /api/v1/attest/finish fin3.json f3.json)"
# An attestation of another TPM key (k2) than the CSR's (k1).
mkstart k1.pub start4.json
post /api/v1/attest/start start4.json r4.json >/dev/null
activate r4.json secret4.bin
certify $K2 4
mkfinish r4.json secret4.bin attest4.bin sig4.bin fin4.json
check_eq "an attestation of a different key than the CSR's is refused (403)" 403 \
	"$(post /api/v1/attest/finish fin4.json f4.json)"
check_out "...naming the mismatch" "not the key of the request" cat f4.json
check_eq "key_pub of another key than the CSR's is refused at round 1 (422)" 422 \
	"$(mkstart k2.pub start4b.json; post /api/v1/attest/start start4b.json r4b.json)"
# A software key: its CSR and a TPMT_PUBLIC claiming fixedTPM, with the
# attestation of the real k1 rewritten to name it (a forgery).
mkstart k1.pub start5.json
python3 - <<'EOF'
import json, subprocess, base64, hashlib, struct
# key_pub: k1's public area with the software key's point put in
pub = open("k1.pub", "rb").read()[2:]
der = subprocess.run(["openssl", "pkey", "-in", "soft.key", "-pubout", "-outform", "DER"],
                     capture_output=True, check=True).stdout
x, y = der[-64:-32], der[-32:]
# TPMT_PUBLIC ECC: type, nameAlg, attrs, authPolicy, params(sym, scheme,
# curve, kdf), then unique x, y; replace the trailing point
head = pub[: len(pub) - (2 + 32 + 2 + 32)]
fake = head + struct.pack(">H", 32) + x + struct.pack(">H", 32) + y
open("soft.pub", "wb").write(struct.pack(">H", len(fake)) + fake)
s = json.load(open("start5.json"))
s["csr"] = open("soft.csr").read()
s["key_pub"] = base64.b64encode(open("soft.pub", "rb").read()).decode()
json.dump(s, open("start5.json", "w"))
EOF
check_eq "round 1 with a software key claiming fixedTPM is taken (the claim is checked in round 2)" 201 \
	"$(post /api/v1/attest/start start5.json r5.json)"
activate r5.json secret5.bin
certify $K1 5
python3 - <<'EOF'
import hashlib, struct
# Rewrite the certified name in k1's genuine attestation to the software
# key's name: the AK's signature no longer covers it.
a = open("attest5.bin", "rb").read()
body = a[2:] if struct.unpack(">H", a[:2])[0] == len(a) - 2 else a
soft = open("soft.pub", "rb").read()[2:]
k1 = open("k1.pub", "rb").read()[2:]
n_soft = b"\x00\x0b" + hashlib.sha256(soft).digest()
n_k1 = b"\x00\x0b" + hashlib.sha256(k1).digest()
assert n_k1 in body
open("forged.bin", "wb").write(body.replace(n_k1, n_soft))
EOF
mkfinish r5.json secret5.bin forged.bin sig5.bin fin5.json
check_eq "a forged attestation for the software key is refused (403)" 403 \
	"$(post /api/v1/attest/finish fin5.json f5.json)"
check_out "...because the AK's signature does not verify" "does not verify" cat f5.json
# An expired nonce: a CA whose exchanges live 1 s.
stop_ca
sed -i 's/session_lifetime: 5m/session_lifetime: 1s/' "$S/cairn-sub.yaml"
start_ca
mkstart k1.pub start6.json
post /api/v1/attest/start start6.json r6.json >/dev/null
activate r6.json secret6.bin
certify $K1 6
sleep 2.5
mkfinish r6.json secret6.bin attest6.bin sig6.bin fin6.json
check_eq "an expired nonce is refused (409)" 409 "$(post /api/v1/attest/finish fin6.json f6.json)"
check_out "...saying it expired" "nonce expired" cat f6.json

# ---- the record ------------------------------------------------------------
stop_ca
check_eq "the daemon stopped cleanly" 0 "$?"
check "and no sanitizer complained" bash -c "! grep -q Sanitizer serve.log"
"$SUB" audit verify --data "$S" --out audit.jsonl >/dev/null
check_out "the audit log verifies" "chain intact" "$SUB" audit verify --data "$S"
A() { grep '"event":"tpm attestation refused"' audit.jsonl; }
check_out "audited: the untrusted EK, with the reason" "untrusted EK" A
check_out "audited: the replayed attestation" "extraData is not this exchange" A
check_out "audited: the wrong secret" "secret: not the one the CA bound" A
check_out "audited: the other key's attestation" "certified object is not the key" A
check_out "audited: the forgery" "signature: does not verify" A
check_out "audited: the expired nonce" "nonce expired" A
check_out "audited: the second finish of one exchange" "finished already" A
check_out "audited: the plain CSR on TpmCert, by the core" '"event":"request refused".*requires TPM key attestation' \
	cat audit.jsonl
check_out "audited: each verified attestation with its trust level" \
	'"event":"tpm attestation verified".*"trust":"ek-certificate"' cat audit.jsonl
