#!/bin/bash
# web.sh: the web enrollment pages (sub-ca/web.c) in a real browser and
# with curl.  Sets up a root, the issuing CA and accounts as sub-ca.sh
# does, starts `cairn-sub serve`, then:
#   - curl: plain HTTP never serves a page or a form; the login form's and
#     the pages' cookies and headers; CSRF: a POST with a missing or wrong
#     token, or from another origin, is 403; wrong password refused and
#     audited; a multipart upload; sign-out ends the session; a TLS client
#     certificate bound to an account signs in without a password;
#   - headless Chromium (Debian's chromium, driven by playwright-core from
#     npm, tests/web/enroll.mjs): sign in, submit a CSR pasted and one
#     uploaded, see it issued, download it (PEM, DER, chain, PKCS#7), an
#     approval template (pending, a manager approves, another request
#     denied), revoke, hold and release, ESC7 (a manager cannot approve
#     his own request), and <script> in a CSR subject and in a denial
#     reason shown as text, never run;
#   - afterwards: the downloaded certificate verifies to the root (openssl
#     verify), the CRL served at /crl/ca.crl lists it (openssl crl), the
#     audit log has the logins and their refusals, and a screenshot of
#     each page is kept under $CAIRN_BUILDDIR/tests/artifacts/web/.
. "$CAIRN_SRCDIR/tests/integration/lib.sh"
. "$CAIRN_SRCDIR/tests/twotier.sh"
plan 91

SUB="$CAIRN_BUILDDIR/sub-ca/cairn-sub"
cd "$T" || exit 1
read -r HTTPS HTTP < <(free_ports 2)

# ---- the browser and its driver -------------------------------------------
# Chromium from Debian (scripts/install-deps); playwright-core from npm at
# the version tests/web/package-lock.json pins, installed by `npm ci` into
# the build tree (never `npx playwright install`: the browser is Debian's).
"$CAIRN_SRCDIR/scripts/install-deps" >/dev/null
NODE_DIR="$CAIRN_BUILDDIR/tests/web-node"
if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ] ||
	! cmp -s "$CAIRN_SRCDIR/tests/web/package-lock.json" "$NODE_DIR/package-lock.json"; then
	mkdir -p "$NODE_DIR"
	cp "$CAIRN_SRCDIR/tests/web/package.json" "$CAIRN_SRCDIR/tests/web/package-lock.json" "$NODE_DIR/"
	(cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund) >npm.log 2>&1
fi
check_out "playwright-core is installed at the pinned version" \
	"^$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/playwright-core"]["version"])' "$CAIRN_SRCDIR/tests/web/package-lock.json")$" \
	node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version"
check_out "Debian's chromium runs" "^Chromium [0-9]+" bash -c "/usr/bin/chromium --version 2>/dev/null"

# ---- the root, the issuing CA ----------------------------------------------
ROOT_BIN=$ROOT SUB_BIN=$SUB twotier_setup "$T" "$HTTPS" "$HTTP"
S="$T/sub"
check_out "the issuing CA is set up (init, root ceremony, import)" ": OK" \
	openssl verify -CAfile m1/root.pem "$S/ca.pem"

# Accounts: alice enrolls, bob manages, dave manages and enrolls (ESC7).
printf 'alice-password-1\n' >alice.pw
printf 'bob-password-123\n' >bob.pw
printf 'dave-password-12\n' >dave.pw
"$SUB" account add alice --data "$S" --role enrollee --email alice@example.org \
	--password-file alice.pw >/dev/null
"$SUB" account add bob --data "$S" --role manager --password-file bob.pw >/dev/null
"$SUB" account add dave --data "$S" --role manager --password-file dave.pw >/dev/null
"$SUB" account role dave --role enrollee --data "$S" >/dev/null
sed -e 's/^template: WebServer/template: ApprovedServer/' \
	-e 's/^approval: false/approval: true/' \
	"$S/templates/WebServer.yaml" >"$S/templates/ApprovedServer.yaml"
chmod 600 "$S/templates/ApprovedServer.yaml"

# CSRs, made by openssl req.
csr() { # NAME SUBJ [ADDEXT]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -subj "$2" ${3:+-addext "$3"} -out "$1.csr" 2>/dev/null
}
csr www "/CN=www.example.org" "subjectAltName=DNS:www.example.org"
csr www2 "/CN=two.example.org" "subjectAltName=DNS:two.example.org"
csr www3 "/CN=three.example.org" "subjectAltName=DNS:three.example.org"
csr client "/CN=administrator/O=Evil Corp" "subjectAltName=DNS:dc01.example.org"
csr xss "/O=<script>alert(1)<\/script>/CN=xss.example.org" "subjectAltName=DNS:xss.example.org"
csr xss-approve "/CN=<script>alert(2)<\/script>.example.org" "subjectAltName=DNS:xss2.example.org"
csr approve "/CN=app.example.org" "subjectAltName=DNS:app.example.org"
csr dave "/CN=dave.example.org" "subjectAltName=DNS:dave.example.org"
csr certauth "/CN=alice"
check_out "a CSR subject carries a literal <script>" "<script>alert\(1\)</script>" \
	openssl req -in xss.csr -noout -subject -nameopt utf8,sep_comma_plus

# ---- the daemon -------------------------------------------------------------
# SCEP on, for the managers' challenge page (docs/scep.md).
printf 'scep:\n  challenge_expires: 1h\n' >>"$S/cairn-sub.yaml"
"$SUB" serve --data "$S" --pid-file serve.pid >serve.log 2>&1 &
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP/ca/ca.der" && break
	sleep 0.2
done
PID=$(cat serve.pid 2>/dev/null)
B="https://127.0.0.1:$HTTPS"
C=(curl -s --cacert m1/root.pem)
check_out "serve prints the web pages' address" "Web: +$B/certsrv/" cat serve.log

# ---- plain HTTP, headers, sign-in over curl ---------------------------------
check_eq "the sign-in form is not served over plain HTTP (403)" 403 \
	"$(curl -s -o plain.html -w '%{http_code}' "http://127.0.0.1:$HTTP/certsrv/login")"
check "the refusal carries no form, password field or token" \
	bash -c "test -s plain.html && ! grep -Eqi 'password|csrf|<form' plain.html"
check_eq "a sign-in POST over plain HTTP is refused (403)" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' -d 'account=alice&password=alice-password-1' "http://127.0.0.1:$HTTP/certsrv/login")"
check_eq "the home page over plain HTTP is refused too" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/")"
check_out "the home page over HTTPS (TLS verified with only the root)" \
	"<title>Welcome - Cairn certificate services</title>" "${C[@]}" "$B/"
"${C[@]}" -D login.hdr -c jar0 -o login.html "$B/certsrv/login"
check_out "pages send a CSP without scripts, frame-ancestors none, nosniff, no-store" \
	"default-src 'none'; style-src 'self'.*frame-ancestors 'none'.*nosniff.*no-store" \
	bash -c "tr -d '\r' <login.hdr | tr '\n' ' '"
check_out "the sign-in form's pre-login cookie is Secure, HttpOnly, SameSite=Strict, host-only" \
	"^Set-Cookie: __Host-cairn_login=[0-9a-f]{64}; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600" \
	bash -c "tr -d '\r' <login.hdr"
check_out "a page that needs an account sends the browser to the sign-in form" \
	"^HTTP/1.1 303 .*Location: /certsrv/login " \
	bash -c "'${C[0]}' -s --cacert m1/root.pem -D - -o /dev/null '$B/certsrv/submit' | tr -d '\r' | tr '\n' ' '"
check_eq "an NTLM Authorization header is refused on the pages (401)" 401 \
	"$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==' "$B/certsrv/")"
check "...and nothing asks for HTTP authentication" \
	bash -c "! grep -qi '^WWW-Authenticate' login.hdr && ! '${C[0]}' -s --cacert m1/root.pem -D - -o /dev/null '$B/certsrv/submit' | grep -qi '^WWW-Authenticate'"

tok_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -1; }
LTOK=$(tok_of login.html)
check_eq "a sign-in POST without the pre-login cookie is 403" 403 \
	"$("${C[@]}" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$LTOK" \
	--data-urlencode account=alice --data-urlencode password=alice-password-1 "$B/certsrv/login")"
check_eq "a sign-in POST with the cookie but no token is 403" 403 \
	"$("${C[@]}" -b jar0 -o /dev/null -w '%{http_code}' \
	--data-urlencode account=alice --data-urlencode password=alice-password-1 "$B/certsrv/login")"
check_eq "a wrong password is refused (403)" 403 \
	"$("${C[@]}" -b jar0 -o wrong.html -w '%{http_code}' --data-urlencode "csrf=$LTOK" \
	--data-urlencode account=alice --data-urlencode password=wrong-password "$B/certsrv/login")"
check_out "...with the same message for a wrong password as for an unknown account" \
	'id="error">Wrong account name or password.<' cat wrong.html
check_eq "alice signs in with the form (303 to the home page)" "303 /certsrv/" \
	"$("${C[@]}" -b jar0 -c jar -D login2.hdr -o /dev/null -w '%{http_code} ' --data-urlencode "csrf=$LTOK" \
	--data-urlencode account=alice --data-urlencode password=alice-password-1 "$B/certsrv/login"; \
	tr -d '\r' <login2.hdr | sed -n 's/^Location: //p')"
check_out "the session cookie: 256 random bits, Secure, HttpOnly, SameSite=Strict, Path=/" \
	"^Set-Cookie: __Host-cairn_session=[0-9a-f]{64}; Secure; HttpOnly; SameSite=Strict; Path=/$" \
	bash -c "tr -d '\r' <login2.hdr"
check_out "the pre-login cookie is cleared at sign-in" "^Set-Cookie: __Host-cairn_login=; .*Max-Age=0" \
	bash -c "tr -d '\r' <login2.hdr"
"${C[@]}" -b jar -o submit.html "$B/certsrv/submit"
TOK=$(tok_of submit.html)
check_out "the submit form offers what alice may use, with a CSRF token" \
	"value=\"ApprovedServer\".*value=\"ClientAuth\".*value=\"WebServer\"" \
	bash -c "[ \${#1} -eq 64 ] && tr '\n' ' ' <submit.html" _ "$TOK"
check "...and not OCSPSigning (admins only)" bash -c "! grep -q 'value=\"OCSPSigning\"' submit.html"
post_submit() { # OUT CURL-ARGS...: POST the submit form with alice's session
	local out=$1
	shift
	"${C[@]}" -b jar -o "$out" -w '%{http_code}' "$@" "$B/certsrv/submit"
}
check_eq "CSRF: a POST without a token is 403" 403 \
	"$(post_submit nocsrf.html -F template=WebServer -F csrfile=@www2.csr)"
check_out "...saying why" "CSRF token is missing or wrong" cat nocsrf.html
check_eq "CSRF: a POST with a wrong token is 403" 403 \
	"$(post_submit /dev/null -F "csrf=${TOK//[0-9a-f]/0}" -F template=WebServer -F csrfile=@www2.csr)"
check_eq "CSRF: a POST with the right token from another Origin is 403" 403 \
	"$(post_submit /dev/null -H 'Origin: https://evil.example' -F "csrf=$TOK" -F template=WebServer -F csrfile=@www2.csr)"
check_eq "CSRF: ...or with another site's Referer" 403 \
	"$(post_submit /dev/null -H 'Referer: https://127.0.0.1.evil.example/x' -F "csrf=$TOK" -F template=WebServer -F csrfile=@www2.csr)"
check_eq "a malformed multipart body is 400" 400 \
	"$(post_submit badform.html -H 'Content-Type: multipart/form-data; boundary=xyz' --data-binary 'garbage')"
check_out "...with the parser's reason" "does not start with the boundary" cat badform.html
check_eq "a CSR uploaded as a file with the right token is issued (201)" 201 \
	"$(post_submit up.html -H "Origin: $B" -F "csrf=$TOK" -F template=WebServer -F csrfile=@www2.csr)"
check_eq "a pasted CSR in an urlencoded form is issued too (201)" 201 \
	"$(post_submit paste.html -F "csrf=$TOK" -F template=WebServer --form-string "csr=$(cat www3.csr)")"
check_eq "a broken CSR is answered on the form (400)" 400 \
	"$(post_submit broken.html -F "csrf=$TOK" -F template=WebServer --form-string "csr=$(head -c 200 www3.csr)")"
check_out "...with what is wrong and the pasted text kept" "class=\"error\".*BEGIN CERTIFICATE REQUEST" \
	bash -c "tr '\n' ' ' <broken.html"
check_eq "signing out needs the token too (403 without)" 403 \
	"$("${C[@]}" -b jar -o /dev/null -w '%{http_code}' -X POST "$B/certsrv/logout")"
check_eq "alice signs out (303)" 303 \
	"$("${C[@]}" -b jar -c jar -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$TOK" "$B/certsrv/logout")"
OLDSID=$(tr -d '\r' <login2.hdr | sed -n 's/^Set-Cookie: __Host-cairn_session=\([0-9a-f]*\);.*/\1/p')
check_eq "the old session cookie no longer signs in" 303 \
	"$("${C[@]}" -b "__Host-cairn_session=$OLDSID" -o /dev/null -w '%{http_code}' "$B/certsrv/submit")"
check_eq "...nor does the old session's token (session ended: 403)" 403 \
	"$("${C[@]}" -b "__Host-cairn_session=$OLDSID" -o /dev/null -w '%{http_code}' -F "csrf=$TOK" -F template=WebServer -F csrfile=@www2.csr "$B/certsrv/submit")"

# A TLS client certificate bound to alice signs her in without a password.
"${C[@]}" -u alice:alice-password-1 -o ca.json -H 'Content-Type: application/pkcs10' \
	--data-binary @certauth.csr "$B/api/v1/requests?template=ClientAuth"
python3 -c 'import json; print(json.load(open("ca.json"))["certificate"])' >certauth.pem
"$SUB" account cert alice --cert certauth.pem --data "$S" >/dev/null
CC=("${C[@]}" --cert certauth.pem --key certauth.key)
check_out "a client certificate bound to alice signs her in" \
	'Signed in as <strong id="account">alice</strong> \(enrollee; client certificate\)' \
	"${CC[@]}" "$B/certsrv/"
"${CC[@]}" -o certsubmit.html "$B/certsrv/submit"
CTOK=$(tok_of certsubmit.html)
check_eq "with a certificate, a POST without the token is still 403" 403 \
	"$("${CC[@]}" -o /dev/null -w '%{http_code}' -F template=WebServer -F csrfile=@www3.csr "$B/certsrv/submit")"
check_eq "...and with it, the CSR is issued (201)" 201 \
	"$("${CC[@]}" -o /dev/null -w '%{http_code}' -F "csrf=$CTOK" -F template=WebServer -F csrfile=@www3.csr "$B/certsrv/submit")"

# ---- the browser --------------------------------------------------------------
# Chromium trusts the test root through a fresh NSS database in a HOME of
# its own; a fresh profile directory; screenshots into the build tree.
mkdir -p home/.pki/nssdb profile
certutil -N -d sql:home/.pki/nssdb --empty-password
certutil -A -d sql:home/.pki/nssdb -n cairn-test-root -t "C,," -i m1/root.pem
SHOTS="$CAIRN_BUILDDIR/tests/artifacts/web"
rm -rf "$SHOTS"
check "headless Chromium goes through every step (tests/web/enroll.mjs)" \
	env HOME="$T/home" CAIRN_WEB_NODE="$NODE_DIR" WEB_BASE="$B" WEB_IN="$T" \
	WEB_OUT="$T/out" WEB_SHOTS="$SHOTS" WEB_PROFILE="$T/profile" \
	timeout 300 node "$CAIRN_SRCDIR/tests/web/enroll.mjs"
[ -f out/results.json ] || echo '{}' >out/results.json
r() { python3 -c 'import json,sys
v=json.load(open("out/results.json"))
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"; }
check_eq "the browser saw the home page with a sign-in link" true "$(r home_signin_link)"
check_eq "a protected page led the browser to the sign-in form" /certsrv/login "$(r redirected_to)"
check_eq "a wrong password shows an error" "Wrong account name or password." "$(r wrong_password_error)"
check_eq "the browser holds the session cookie as Secure, HttpOnly, SameSite=Strict" \
	'{"secure": true, "httpOnly": true, "sameSite": "Strict", "path": "/", "length": 64}' "$(r session_cookie)"
check_eq "the submit form offers alice's templates" '["ApprovedServer", "ClientAuth", "Router", "User", "WebServer"]' \
	"$(r templates_offered)"
check_eq "the pasted CSR was issued" issued "$(r issued_status)"
SERIAL=$(r serial)
check_out "openssl verify: the downloaded certificate chains to the root" "out/www.pem: OK" \
	openssl verify -CAfile m1/root.pem -untrusted "$S/ca.pem" out/www.pem
check_eq "the downloaded certificate is the one the page named" "serial=${SERIAL^^}" \
	"$(openssl x509 -in out/www.pem -noout -serial)"
check_eq "the DER download is the same certificate" "$(openssl x509 -in out/www.pem -outform DER | sha256sum)" \
	"$(sha256sum <out/www.cer)"
check_out "the chain download is leaf, CA, root (and verifies as a bundle)" \
	"^www.example.org Cairn Test Issuing CA Cairn Test Root $" \
	bash -c "openssl storeutl -noout -text out/www-chain.pem 2>/dev/null | sed -n 's/.*Subject:.*CN *= *\([^,]*\).*/\1/p' | tr '\n' ' '"
check_out "the PKCS#7 download holds the same three certificates" \
	"CN *= *www.example.org.*CN *= *Cairn Test Issuing CA.*CN *= *Cairn Test Root" \
	bash -c "openssl pkcs7 -inform DER -in out/www.p7b -print_certs -noout | tr '\n' ' '"
check_eq "an uploaded CSR file was issued on ClientAuth" issued "$(r upload_status)"
check_out "...and the page names what the template dropped" "dc01.example.org" r upload_notes
check_out "<script> in a CSR subject is shown as text in the notes" "<script>alert\(1\)</script>" r xss_notes
check_eq "...and no script element exists on the page" true "$(r xss_issued_no_script)"
check_eq "an approval template leaves the request pending" pending "$(r pending_status)"
check_eq "the pending page shows the <script> subject as text" "<script>alert(2)</script>.example.org" \
	"$(r xss_pending_subject | sed 's/^CN=//')"
check_eq "an enrollee gets 403 for the pending list" 403 "$(r pending_page_for_enrollee)"
check_eq "signing out drops the session cookie" false "$(r after_logout_cookie)"
check_eq "the manager sees both pending requests, script-free" "2 true" \
	"$(r pending_rows) $(r pending_no_script)"
check_eq "the manager approves: issued" issued "$(r approved_status)"
check_out "the approved certificate is in the store" "$(r approved_serial)" \
	"$SUB" list --data "$S" --status issued
check_eq "the manager denies with a reason holding <script>: shown as text" \
	'denied <script>alert("deny")</script> not one of ours true' \
	"$(r denied_status) $(r denied_reason) $(r denied_no_script)"
check_out "the manager revokes the certificate (keyCompromise)" "^revoked \(keyCompromise\)" r revoked_text
check_eq "hold and release" "on hold|valid" "$(r hold_text | cut -c1-7)|$(r unhold_text)"
check_out "the manager makes a SCEP challenge on the page: shown once, 128 bits" "^[0-9a-f]{32}$" \
	r challenge_secret
check_eq "...listed among the usable ones, script-free" "1 true" \
	"$(r challenge_rows) $(r challenge_no_script)"
check_out "...and cairn-sub challenge list knows it, bound to the subject pattern" \
	"Router .*CN=\*\.routers\.example\.org" "$SUB" challenge list --data "$S"
check_out "a manager's own request shows no buttons, only a note" "^Your own request" r dave_own_hint
check_eq "...and a forged approval of it is refused by the core (ESC7, 403)" "403 0" \
	"$(r dave_self_approve_status) $(r dave_own_buttons)"
check_out "...saying why" "may not approve their own request" r dave_self_approve_text
check_eq "the requester sees the denial reason, escaped" \
	'<script>alert("deny")</script> not one of ours true' \
	"$(r alice_denied_reason) $(r alice_denied_no_script)"
check_eq "no script ran in the browser (no dialog), none was on any page" "0 0" \
	"$(r dialogs) $(r scripts_seen)"
check_out "the raw HTML holds the reason entity-escaped" \
	'&lt;script&gt;alert\(&quot;deny&quot;\)&lt;/script&gt; not one of ours' \
	"${CC[@]}" "$B/certsrv/requests/$(r xss_pending_id)"

# ---- the CRL, the CA downloads, the audit log ---------------------------------
curl -s -o now.crl "http://127.0.0.1:$HTTP/crl/ca.crl"
check_out "the CRL served at /crl/ca.crl lists the revoked certificate (openssl crl)" \
	"Serial Number: ${SERIAL^^}.*Key Compromise" \
	bash -c "openssl crl -inform DER -in now.crl -noout -text | tr '\n' ' '"
check_out "...and verifies with the CA certificate" "verify OK" \
	openssl crl -inform DER -in now.crl -noout -CAfile <(cat "$S/ca.pem" m1/root.pem)
check "the released hold is not on it" \
	bash -c "! openssl crl -inform DER -in now.crl -noout -text | grep -qi 'Serial Number: $(r upload_serial)'"
check_out "the CRL downloaded in the browser lists it too" "Serial Number: ${SERIAL^^}" \
	openssl crl -inform DER -in out/ca.crl -noout -text
check_eq "the CA certificate downloaded from the pages is this CA's" \
	"$(openssl x509 -in "$S/ca.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in out/ca.pem -noout -fingerprint -sha256)"
check_out "the chain (PKCS#7) downloaded from the pages has the CA and the root" \
	"Cairn Test Issuing CA.*Cairn Test Root" \
	bash -c "openssl pkcs7 -inform DER -in out/chain.p7b -print_certs -noout | tr '\n' ' '"

# Screenshots: every page, each a real PNG with something on it.
shots_ok() {
	python3 - "$SHOTS" <<'EOF'
import os, struct, sys, zlib
d = sys.argv[1]
names = sorted(f for f in os.listdir(d) if f.endswith(".png"))
bad = []
for f in names:
    b = open(os.path.join(d, f), "rb").read()
    if b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR":
        bad.append(f + ": not a PNG"); continue
    w, h = struct.unpack(">II", b[16:24])
    idat, i = b"", 8
    while i < len(b):
        n, = struct.unpack(">I", b[i:i+4]); t = b[i+4:i+8]
        if t == b"IDAT": idat += b[i+8:i+8+n]
        i += 12 + n
    raw = zlib.decompress(idat)
    # a page, not a blank: big enough and many distinct byte values
    if w < 600 or h < 400 or len(set(raw)) < 32 or len(b) < 10000:
        bad.append("%s: %dx%d, %d bytes, %d values" % (f, w, h, len(b), len(set(raw))))
print(len(names), "screenshots")
for x in bad: print(x)
sys.exit(1 if bad or len(names) < 18 else 0)
EOF
}
check_out "a screenshot of each page is kept under tests/artifacts/web, real PNGs with content" \
	"^1[89] screenshots|^[2-9][0-9] screenshots" shots_ok

kill -TERM "$PID"
for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
wait "$PID"
check_eq "SIGTERM stops the daemon with status 0" 0 "$?"
check_out "it stopped cleanly, and no sanitizer complained" "^cairn-sub: stopped$" \
	bash -c "grep -v -e '^ *$' serve.log | tail -1; ! grep -q Sanitizer serve.log"
check_out "the audit log verifies" "chain intact" "$SUB" audit verify --data "$S" --out audit.jsonl
check_out "a wrong password is audited, with the account and the reason" \
	'"actor":"alice".*"error":"CAIRN_E_AUTH","event":"login refused".*"method":"password".*"reason":"wrong account name or password"' \
	grep '"login refused"' audit.jsonl
check_out "sign-ins and sign-outs are audited" '"event":"login".*"via":"web".*"event":"logout"' \
	bash -c "tr '\n' ' ' <audit.jsonl"
check_out "a refused CSRF form of a signed-in account is audited" \
	'"actor":"alice".*"event":"web form refused".*CSRF token' grep '"web form refused"' audit.jsonl
check_out "web requests, the approval, the denial and the revocation are audited by the core" \
	'"via":"web".*"event":"approved".*"event":"denied".*"event":"revoked"' \
	bash -c "tr '\n' ' ' <audit.jsonl"
