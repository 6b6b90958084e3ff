// enroll.mjs: a person at a browser, driving cairn-sub's web enrollment
// pages in headless Chromium (Debian's chromium, through playwright-core).
// Run by tests/integration/web.sh, which made the CA, the accounts and the
// CSRs, and which checks what this script leaves behind.
//
// Environment:
//   CAIRN_WEB_NODE   directory holding node_modules/playwright-core
//   WEB_BASE         https://127.0.0.1:PORT
//   WEB_IN           directory with the CSRs and password files
//   WEB_OUT          where downloads and results.json go
//   WEB_SHOTS        where the screenshots go
//   WEB_PROFILE      a fresh, empty Chromium user-data-dir
//
// Each step stores what it saw in results.json; the shell test asserts on
// it (and on the downloaded files).  The first step that fails ends the
// run with its error in results.json ("error") and exit status 1.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(join(process.env.CAIRN_WEB_NODE, 'package.json'));
const { chromium } = require('playwright-core');

const BASE = process.env.WEB_BASE;
const IN = process.env.WEB_IN;
const OUT = process.env.WEB_OUT;
const SHOTS = process.env.WEB_SHOTS;
mkdirSync(OUT, { recursive: true });
mkdirSync(SHOTS, { recursive: true });

const results = { dialogs: 0, scripts_seen: 0, steps: [] };
const save = () => writeFileSync(join(OUT, 'results.json'),
	JSON.stringify(results, null, 2) + '\n');
const pw = (user) => readFileSync(join(IN, `${user}.pw`), 'utf8').trim();

function expect(cond, what) {
	if (!cond)
		throw new Error(`expected: ${what}`);
}

const context = await chromium.launchPersistentContext(process.env.WEB_PROFILE, {
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync'],
	// The test root is trusted through the NSS database in $HOME/.pki
	// (web.sh puts it there): certificate errors are not ignored.
	ignoreHTTPSErrors: false,
	acceptDownloads: true,
	viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? await context.newPage();
page.on('dialog', async (d) => {
	// An alert() would mean injected script ran.
	results.dialogs++;
	await d.dismiss();
});

async function shot(name) {
	await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// No <script> element on the page, whatever the data shown.
async function noScripts() {
	const n = await page.locator('script').count();
	results.scripts_seen += n;
	return n === 0;
}

async function login(user, password) {
	await page.goto(`${BASE}/certsrv/login`);
	await page.fill('#account', user);
	await page.fill('#password', password);
	await Promise.all([page.waitForURL(`${BASE}/certsrv/`), page.click('button[type=submit]')]);
	expect((await page.textContent('#account')) === user, `signed in as ${user}`);
}

async function logout() {
	await Promise.all([page.waitForURL(`${BASE}/certsrv/`),
		page.click('form[action="/certsrv/logout"] button')]);
	expect(await page.locator('a[href="/certsrv/login"]').count() > 0,
		'a sign-in link after signing out');
}

// Submit a CSR through the form, pasted or as a file.
async function submit(template, csrFile, how) {
	await page.goto(`${BASE}/certsrv/submit`);
	await page.selectOption('#template', template);
	if (how === 'paste')
		await page.fill('#csr', readFileSync(join(IN, csrFile), 'utf8'));
	else
		await page.setInputFiles('#csrfile', join(IN, csrFile));
	await Promise.all([page.waitForLoadState('load'), page.click('form[action="/certsrv/submit"] button[type=submit]')]);
	await page.waitForSelector('#result, #error');
}

async function download(selector, file) {
	const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
	await dl.saveAs(join(OUT, file));
	return file;
}

async function csrfToken() {
	return page.inputValue('input[name=csrf] >> nth=0');
}

async function step(name, fn) {
	results.steps.push(name);
	await fn();
	save();
}

let status = 0;
try {
	await step('home, signed out', async () => {
		await page.goto(`${BASE}/`);
		results.home_title = await page.title();
		results.home_signin_link = await page.locator('a[href="/certsrv/login"]').count() > 0;
		await shot('01-home');
	});

	await step('a protected page sends us to the sign-in form', async () => {
		await page.goto(`${BASE}/certsrv/submit`);
		results.redirected_to = new URL(page.url()).pathname;
		await shot('02-login');
	});

	await step('wrong password', async () => {
		await page.fill('#account', 'alice');
		await page.fill('#password', 'not-the-password');
		await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
		results.wrong_password_error = (await page.textContent('#error')) ?? '';
		await shot('03-login-wrong-password');
	});

	await step('alice signs in', async () => {
		await login('alice', pw('alice'));
		const c = (await context.cookies(BASE)).find((x) => x.name === '__Host-cairn_session');
		results.session_cookie = c ? { secure: c.secure, httpOnly: c.httpOnly,
			sameSite: c.sameSite, path: c.path, length: c.value.length } : null;
		await shot('04-home-alice');
	});

	await step('alice submits a pasted CSR on WebServer', async () => {
		await page.goto(`${BASE}/certsrv/submit`);
		results.templates_offered = await page.locator('#template option').evaluateAll(
			(os) => os.map((o) => o.value));
		await page.selectOption('#template', 'WebServer');
		await page.fill('#csr', readFileSync(join(IN, 'www.csr'), 'utf8'));
		await shot('05-submit');
		await Promise.all([page.waitForLoadState('load'), page.click('form[action="/certsrv/submit"] button[type=submit]')]);
		results.issued_status = await page.textContent('#status');
		results.serial = (await page.textContent('#serial')).trim();
		await shot('06-issued');
	});

	await step('alice downloads the certificate, chain and PKCS#7', async () => {
		await download('#dl-pem', 'www.pem');
		await download('#dl-der', 'www.cer');
		await download('#dl-chain', 'www-chain.pem');
		await download('#dl-p7b', 'www.p7b');
		results.downloaded = true;
	});

	await step('alice uploads a CSR file on ClientAuth (names dropped)', async () => {
		await submit('ClientAuth', 'client.csr', 'file');
		results.upload_status = await page.textContent('#status');
		results.upload_serial = (await page.textContent('#serial')).trim();
		results.upload_notes = await page.locator('#notes li').allTextContents();
		await shot('07-uploaded-with-notes');
	});

	await step('a subject with <script> is shown as text', async () => {
		await submit('WebServer', 'xss.csr', 'paste');
		results.xss_issue_status = await page.textContent('#status');
		results.xss_notes = await page.locator('#notes li').allTextContents();
		results.xss_issued_no_script = await noScripts();
		await shot('08-xss-issued');
	});

	await step('alice asks on an approval template: pending', async () => {
		await submit('ApprovedServer', 'approve.csr', 'paste');
		results.pending_status = await page.textContent('#status');
		results.pending_id = Number((await page.textContent('h1')).replace(/\D+/g, ''));
		await shot('09-pending');
		await submit('ApprovedServer', 'xss-approve.csr', 'paste');
		results.xss_pending_id = Number((await page.textContent('h1')).replace(/\D+/g, ''));
		results.xss_pending_subject = await page.textContent('#subject');
		results.xss_pending_no_script = await noScripts();
	});

	await step("alice's requests, and no pending list for her", async () => {
		await page.goto(`${BASE}/certsrv/requests`);
		results.my_requests_rows = await page.locator('#requests tbody tr').count();
		await shot('10-my-requests');
		const r = await page.goto(`${BASE}/certsrv/pending`);
		results.pending_page_for_enrollee = r.status();
		await logout();
		results.after_logout_cookie = (await context.cookies(BASE))
			.some((x) => x.name === '__Host-cairn_session');
	});

	await step('bob (manager) sees the pending requests', async () => {
		await login('bob', pw('bob'));
		await page.goto(`${BASE}/certsrv/pending`);
		results.pending_rows = await page.locator('#pending tbody tr').count();
		results.pending_xss_subject = await page.textContent(`#req-${results.xss_pending_id} td:nth-child(5)`);
		results.pending_no_script = await noScripts();
		await shot('11-pending-manager');
	});

	await step('bob approves one and denies the other', async () => {
		await Promise.all([page.waitForURL(`${BASE}/certsrv/requests/${results.pending_id}`),
			page.click(`form[action="/certsrv/requests/${results.pending_id}/approve"] button`)]);
		results.approved_status = await page.textContent('#status');
		results.approved_serial = (await page.textContent('#serial')).trim();
		await shot('12-approved');
		await page.goto(`${BASE}/certsrv/pending`);
		await page.fill(`#reason-${results.xss_pending_id}`, '<script>alert("deny")</script> not one of ours');
		await Promise.all([page.waitForURL(`${BASE}/certsrv/requests/${results.xss_pending_id}`),
			page.click(`form[action="/certsrv/requests/${results.xss_pending_id}/deny"] button`)]);
		results.denied_status = await page.textContent('#status');
		results.denied_reason = await page.textContent('#reason');
		results.denied_no_script = await noScripts();
		await shot('13-denied');
	});

	await step('bob revokes the WebServer certificate (keyCompromise)', async () => {
		await page.goto(`${BASE}/certsrv/certs`);
		await shot('14-certificates');
		const row = `#cert-${results.serial}`;
		await page.selectOption(`${row} select[name=reason]`, 'keyCompromise');
		await Promise.all([page.waitForURL(`${BASE}/certsrv/certs`),
			page.click(`${row} form[action$="/revoke"] button`)]);
		results.revoked_text = await page.textContent(`${row} td.status`);
		await shot('15-revoked');
	});

	await step('bob puts the ClientAuth certificate on hold and releases it', async () => {
		const row = `#cert-${results.upload_serial}`;
		await page.selectOption(`${row} select[name=reason]`, 'certificateHold');
		await Promise.all([page.waitForURL(`${BASE}/certsrv/certs`),
			page.click(`${row} form[action$="/revoke"] button`)]);
		results.hold_text = await page.textContent(`${row} td.status`);
		await shot('16-on-hold');
		await Promise.all([page.waitForURL(`${BASE}/certsrv/certs`),
			page.click(`${row} form[action$="/unhold"] button`)]);
		results.unhold_text = await page.textContent(`${row} td.status`);
		await logout();
	});

	await step('bob makes a one-time SCEP challenge on the managers\' page', async () => {
		await login('bob', pw('bob'));
		await page.goto(`${BASE}/certsrv/challenges`);
		await page.selectOption('#template', 'Router');
		await page.fill('#subject', 'CN=*.routers.example.org');
		await page.fill('#expires', '30m');
		await Promise.all([page.waitForLoadState('load'),
			page.click('form[action="/certsrv/challenges"] button')]);
		results.challenge_secret = (await page.textContent('#secret')).trim();
		results.challenge_rows = await page.locator('#challenges tbody tr[id^="ch-"]').count();
		results.challenge_no_script = await noScripts();
		await shot('17-scep-challenge');
		await logout();
	});

	await step('dave, a manager, cannot approve his own request (ESC7)', async () => {
		await login('dave', pw('dave'));
		await submit('ApprovedServer', 'dave.csr', 'paste');
		const id = Number((await page.textContent('h1')).replace(/\D+/g, ''));
		results.dave_pending_id = id;
		await page.goto(`${BASE}/certsrv/pending`);
		results.dave_own_hint = await page.textContent(`#req-${id} td:nth-child(6)`);
		results.dave_own_buttons = await page.locator(`#req-${id} button`).count();
		await shot('17-own-request');
		// The page offers no button; the browser posts the form anyway,
		// with the session's valid token: the core must refuse.
		const token = await csrfToken();
		const [resp] = await Promise.all([
			page.waitForResponse((r) => r.url() === `${BASE}/certsrv/requests/${id}/approve`),
			page.evaluate(({ action, token }) => {
				const f = document.createElement('form');
				f.method = 'post';
				f.action = action;
				const i = document.createElement('input');
				i.type = 'hidden';
				i.name = 'csrf';
				i.value = token;
				f.appendChild(i);
				document.body.appendChild(f);
				f.submit();
			}, { action: `/certsrv/requests/${id}/approve`, token }),
		]);
		await page.waitForLoadState('load');
		results.dave_self_approve_status = resp.status();
		results.dave_self_approve_text = await page.textContent('.error');
		await shot('18-own-approval-refused');
		await page.goto(`${BASE}/certsrv/`);
		await logout();
	});

	await step('alice sees the denial with its reason, and the CA downloads', async () => {
		await login('alice', pw('alice'));
		await page.goto(`${BASE}/certsrv/requests/${results.xss_pending_id}`);
		results.alice_denied_reason = await page.textContent('#reason');
		results.alice_denied_no_script = await noScripts();
		await shot('19-denied-requester');
		await page.goto(`${BASE}/certsrv/ca`);
		await shot('20-ca-downloads');
		await download('a[href="/crl/ca.crl"]', 'ca.crl');
		await download('a[href="/ca/chain.p7b"]', 'chain.p7b');
		await download('a[href="/certsrv/ca.pem"]', 'ca.pem');
		results.ca_downloads = true;
	});
} catch (e) {
	results.error = `${results.steps.at(-1)}: ${e.message}`;
	status = 1;
	try {
		await shot('99-failure');
	} catch { /* the page may be gone */ }
}
save();
await context.close();
if (status !== 0)
	console.error(`enroll.mjs: ${results.error}`);
process.exit(status);
