// The dashboard's browser test (run by run.sh): a person's whole flow, page by page, in headless
// Chromium against a real server and a simulated phone. Every wait is on a condition with a
// bound; every page gets a screenshot (1280 px and 375 px) and an axe-core check.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { check, tally, until } from './checks.mjs';

const require = createRequire(path.join(process.env.NODE_PATH, 'x.js'));
const puppeteer = require('puppeteer-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ARTIFACTS = process.env.ARTIFACTS;
const work = mkdtempSync(path.join(tmpdir(), 'pulse-dashboard-'));
rmSync(path.join(ARTIFACTS, 'dashboard-failure.png'), { force: true }); // from an earlier run
const children = [];
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.out += d));
  children.push(child);
  return child;
}

// A webhook receiver and a "cross-site" page, both on loopback.
function listen(handler) {
  return new Promise((resolve) => {
    const s = http.createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

const hooks = [];
const receiver = await listen((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    hooks.push(body);
    res.end('ok');
  });
});

const ADMIN = 'dashboard-test-operator-token';
const server = start(process.env.PULSE, [
  'serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(work, 'data'), '--allow-private-webhooks',
], { env: { ...process.env, PULSE_ADMIN_TOKEN: ADMIN } });
const base = await until('the server to listen', () => {
  const m = server.out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  if (server.exitCode !== null) throw new Error('server exited: ' + server.out);
  return m && m[1];
});
const evil = await listen((req, res) => {
  res.setHeader('Content-Type', 'text/html');
  res.end(`<!DOCTYPE html><form id="f" method="POST" action="${base}/api/api-keys" enctype="text/plain">
    <input name='{"name":"stolen","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
});
const evilUrl = `http://127.0.0.1:${evil.address().port}/`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  userDataDir: path.join(work, 'profile'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions'],
});
const page = await browser.newPage();
await page.setBypassCSP(true); // only so that axe-core can be injected
await page.setViewport({ width: 1280, height: 900 });
page.on('pageerror', (e) => check(false, `no script error on the page: ${e.message}`));
page.on('dialog', (d) => d.accept());

const text = (sel) => page.$eval(sel, (e) => e.textContent);
async function fill(label, value) {
  const id = await page.evaluate((label) => {
    const l = [...document.querySelectorAll('label')].find((x) => x.textContent.trim().startsWith(label));
    return l && l.getAttribute('for');
  }, label);
  if (!id) throw new Error(`no field labelled ${label}`);
  await page.$eval('#' + id, (e) => { e.value = ''; });
  await page.type('#' + id, value);
}
async function click(textOrSel) {
  const el = textOrSel.startsWith('#')
    ? await page.$(textOrSel)
    : await page.evaluateHandle((t) => [...document.querySelectorAll('button, a')].find((b) => b.textContent.trim() === t), textOrSel);
  if (!el || !(await el.evaluate((e) => !!e))) throw new Error(`nothing to click: ${textOrSel}`);
  await el.click();
}
async function go(p) {
  await page.evaluate((p) => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }, p);
  await until(`page ${p}`, () => page.evaluate(() => !document.body.textContent.includes('Loading…')), 10000);
}
const api = (method, p, body) => page.evaluate(async (method, p, body) => {
  const csrf = (document.cookie.match(/pulse_csrf=([^;]+)/) || [])[1] || '';
  const r = await fetch(p, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: body && JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => null) };
}, method, p, body);

// Every page: both widths, a screenshot each, and no serious or critical axe violation.
const shots = [];
async function snap(name) {
  for (const width of [1280, 375]) {
    await page.setViewport({ width, height: width === 375 ? 812 : 900 });
    const file = path.join(ARTIFACTS, `dashboard-${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${name} at ${width} px: no horizontal scrolling of the page (${overflow} px)`);
  }
  await page.setViewport({ width: 1280, height: 900 });
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${name}: no serious/critical axe violation${bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target).join(' ')})`).join('; ') : ''}`);
}

try {
  // ---- sign up
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  check(page.url() === base + '/app/', `/ redirects to /app/ (${page.url()})`);
  await until('the log-in form', () => page.$('form[aria-label="Log in"]'));
  await snap('login');
  await click('Sign up');
  await until('the sign-up form', () => page.$('form[aria-label="Sign up"]'));
  await fill('Your name', 'Ada');
  await fill('Organization', 'Analytical Engines');
  await fill('Email', 'ada@example.com');
  await fill('Password', 'correct horse battery');
  await snap('signup');
  // A machine busy with other work may refuse the password hash ("Server busy", 503): the page
  // says so and a person submits again, as this does.
  for (let attempt = 0; ; ++attempt) {
    await click('Sign up');
    const shown = await until('the API key shown once', async () => {
      if (await page.$('#signup-api-key')) return 'key';
      const error = await page.$eval('p.error[role="alert"]', (e) => e.textContent).catch(() => '');
      return error.includes('Server busy') ? 'busy' : null;
    });
    if (shown === 'key' || attempt >= 20) break;
    await page.$eval('p.error[role="alert"]', (e) => e.remove()).catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
  }
  const apiKey = (await until('the API key shown once', () => page.$('#signup-api-key')), await text('#signup-api-key'));
  check(/^pk_live_[0-9a-f]{32}$/.test(apiKey), 'sign-up shows the API key once');
  await snap('signup-key');
  const cookies = await page.cookies();
  const session = cookies.find((c) => c.name === 'pulse_session');
  check(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly and SameSite=Lax');
  check(!(await page.evaluate(() => document.cookie.includes('pulse_session'))), 'scripts cannot read the session cookie');
  await click('Done');

  // ---- connect the phone
  await until('the devices page', () => page.$('#connect-device'));
  await click('#connect-device');
  const token = (await until('the pairing token', () => page.$('#pairing-token')), await text('#pairing-token'));
  check(/^pt_[0-9a-f]{32}$/.test(token), 'Connect device shows the pairing token');
  await until('the QR code to load', () => page.$eval('.pairing img', (i) => i.complete && i.naturalWidth > 0));
  check(true, 'the QR code (qr.svg) is drawn');
  const code = (await until('the one-time code', () => page.$('#pairing-code')), await text('#pairing-code'));
  check(/^\d{8}$/.test(code), 'Connect device shows the one-time code for the app');
  await snap('connect-device');
  // The simulated phone gets what the page showed, as a person typing it into the SMSGate app.
  const sim = start(process.env.PULSE, ['gateway-sim', '--server', base, '--protocol', 'smsgate', '--code', code, '--devices', '1',
    '--fail-rate', '0.4', '--send-delay-ms', '300', '--delivery-delay-ms', '1500', '--batch', '2', '--seed', '7', '--claim-wait', '1']);
  await until('the phone to appear by itself', () => page.evaluate(() => /online/.test(document.querySelector('table')?.textContent || '')), 30000);
  check(true, 'the new phone appears on the Devices page without a reload');
  await click('Close');
  await snap('devices');

  // ---- contacts: a list and a CSV with bad rows
  await go('/app/contacts');
  await fill('List name', 'Customers');
  await click('Create list');
  await until('the list page', () => page.$('form[aria-label="Import CSV"]'));
  const listId = page.url().split('/').pop();
  const rows = ['phone,firstName,lastName'];
  for (let i = 0; i < 10; i++) rows.push(`+1415555${String(1000 + i)},Name${i},Test`);
  rows.push('not-a-phone,Bad,Row', ',Empty,Phone');
  await page.$eval('textarea[name=csv]', (e, v) => { e.value = v; }, rows.join('\n') + '\n');
  await click('Import');
  await until('the import report', () => page.$('#import-report'));
  const report = await text('#import-report');
  check(/10\s*imported/.test(report) && /2\s*rejected/.test(report), `the import report counts 10 imported, 2 rejected (${report.slice(0, 80)})`);
  const rejected = await page.$$eval('#import-report td[data-label=Row]', (tds) => tds.map((t) => t.textContent).join(','));
  check(report.includes('not-a-phone') && rejected === '12,13', `the rejected rows are listed with their line numbers (${rejected})`);
  await snap('contact-list');
  await go('/app/contacts');
  await snap('contacts');

  // ---- a campaign, watched live
  await go(`/app/campaigns/new?list=${listId}`);
  await until('the list choice', () => page.$eval('#f-list', (s) => s.value));
  await fill('Name', 'Spring sale');
  await fill('Message', 'Hi {{firstName}}, 20% off this week');
  await until('the preview', () => page.$('#preview .encoding'));
  const preview = await text('#preview');
  check(preview.includes('Hi Name0, 20% off this week') && preview.includes('GSM-7') && preview.includes('1 segment'), 'the preview renders the first contacts with encoding and segments');
  await snap('new-campaign');
  await click('Launch campaign');
  await until('the campaign page', () => page.$('#campaign-counters'));
  const campaignId = page.url().split('/').pop();
  // Live: the page must show each change within a second of the API, without a reload. Both
  // are read every 100 ms; a difference must be gone within a second.
  const seen = new Set();
  let lag = 0;
  let differentSince = 0;
  const keys = { total: 'totalMessages', queued: 'queuedCount', sending: 'sendingCount', sent: 'sentCount', delivered: 'deliveredCount', failed: 'failedCount' };
  await until('the campaign to reach completed on the page', async () => {
    const dom = await page.$$eval('[data-counter]', (els) => Object.fromEntries(els.map((e) => [e.dataset.counter, Number(e.textContent)])));
    seen.add(JSON.stringify(dom));
    if (seen.size === 3 && !shots.some((f) => f.includes('campaign-running')))
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-campaign-running-1280.png'), fullPage: true }).then(() => shots.push('campaign-running'));
    const s = (await api('GET', `/api/campaigns/${campaignId}/stats`)).body;
    const status = await text('#campaign-status');
    const same = status.includes(s.status) && Object.entries(keys).every(([k, f]) => dom[k] === s[f]);
    const now = Date.now();
    if (same) {
      if (differentSince) lag = Math.max(lag, now - differentSince);
      differentSince = 0;
    } else if (!differentSince) differentSince = now;
    return same && s.status === 'completed';
  }, 90000, 100);
  check(seen.size >= 3, `the counters moved live (${seen.size} distinct states seen without a reload)`);
  check(lag <= 1000, `every change of the API's counters was on the page within 1 s (at most ${lag} ms)`);
  const stats = (await api('GET', `/api/campaigns/${campaignId}/stats`)).body;
  const counters = await page.$$eval('[data-counter]', (els) => Object.fromEntries(els.map((e) => [e.dataset.counter, Number(e.textContent)])));
  check(counters.total === stats.totalMessages && counters.delivered === stats.deliveredCount && counters.failed === stats.failedCount &&
    counters.sent === stats.sentCount && counters.queued === stats.queuedCount,
    `the page's counters match the API (${JSON.stringify(counters)} vs delivered ${stats.deliveredCount}, failed ${stats.failedCount})`);
  // The message rows are updated live too: every row's status is the API's, without a reload
  // (several updates arriving between two renders must all be kept).
  const apiMessages = (await api('GET', `/api/campaigns/${campaignId}?limit=50`)).body.messages;
  const wanted = apiMessages.map((m) => m.status).sort().join(',');
  let rowStatuses = '';
  try {
    await until('the message rows to match the API', async () => {
      rowStatuses = (await page.$$eval('section[aria-labelledby=msgs-h] td[data-label=Status]', (tds) => tds.map((t) => t.textContent.trim()))).sort().join(',');
      return rowStatuses === wanted;
    }, 1000, 100);
  } catch {}
  check(rowStatuses === wanted, `the message rows show the API's statuses live (${rowStatuses} vs ${wanted})`);
  await snap('campaign');
  // ---- a failed message's timeline
  check(stats.failedCount > 0, `the simulated phone failed some messages (${stats.failedCount})`);
  await click('#failed-only');
  await until('failed messages', () => page.evaluate(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Timeline')));
  await page.evaluate(() => [...document.querySelectorAll('button')].find((b) => b.textContent === 'Timeline').click());
  await until('the timeline', () => page.$('#message-timeline .steps li'));
  const tl = await text('#message-timeline');
  check(tl.includes('failed') && (await page.$('#message-error')) !== null, 'the failed message shows its timeline and error');
  await snap('message-timeline');
  await go('/app/campaigns');
  await snap('campaigns');
  await go(`/app/messages?status=failed`);
  await until('messages', () => page.$('table'));
  await snap('messages');
  await go('/app/send');
  await snap('send');

  // ---- webhooks
  await go('/app/webhooks');
  await fill('URL', `http://127.0.0.1:${receiver.address().port}/hook`);
  await click('Create endpoint');
  const secret = (await until('the secret shown once', () => page.$('#webhook-secret')), await text('#webhook-secret'));
  check(secret.startsWith('whsec_'), 'the webhook secret is shown once');
  await snap('webhook-secret');
  await click('Done');
  await until('the endpoint page', () => page.evaluate(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Send test ping')));
  await click('Send test ping');
  await until('a delivery in the log', async () => {
    await click('#refresh-log');
    await new Promise((r) => setTimeout(r, 200));
    return page.evaluate(() => /ping/.test(document.getElementById('delivery-log')?.textContent || '') && /succeeded/.test(document.getElementById('delivery-log')?.textContent || ''));
  }, 30000, 300);
  await page.evaluate(() => document.querySelector('#delivery-log button.link').click());
  await until('the attempts', () => page.evaluate(() => /200/.test(document.getElementById('delivery-log').textContent)));
  check(hooks.some((b) => b.includes('ping')), 'the receiver got the ping');
  check(true, 'the delivery log shows the ping and its attempt');
  await snap('webhook');
  await go('/app/webhooks');
  await snap('webhooks');
  check(!(await page.evaluate((s) => document.body.innerHTML.includes(s) || JSON.stringify(localStorage).includes(s) || JSON.stringify(sessionStorage).includes(s), secret)), 'the webhook secret is not shown again nor stored');

  // ---- the cross-site form post, with the session cookie
  const keysBefore = (await api('GET', '/api/api-keys')).body.length;
  const evilPage = await browser.newPage();
  await evilPage.goto(evilUrl);
  await until('the cross-site post to land', () => evilPage.url().startsWith(base), 10000);
  const answer = await evilPage.evaluate(() => document.body.textContent);
  check(answer.includes('Cross-site request refused'), `a cross-site form post with the cookie is refused (${answer.slice(0, 80)})`);
  await evilPage.close();
  check((await api('GET', '/api/api-keys')).body.length === keysBefore, 'the cross-site post created nothing');

  // ---- API keys: the free plan has one active key, so revoke the default one, then create one
  await go('/app/api-keys');
  await click('Revoke');
  await until('the default key revoked', () => page.evaluate(() => /revoked/.test(document.querySelector('table').textContent)));
  await fill('Key name', 'CI key');
  await click('Create key');
  const newKey = (await until('the new key shown once', () => page.$('#new-api-key')), await text('#new-api-key'));
  check(/^pk_live_/.test(newKey) && newKey !== apiKey, 'a new API key is shown once');
  await snap('api-key-created');
  await click('Done');
  check(!(await page.evaluate((k) => document.body.innerHTML.includes(k), newKey)), 'the key is not shown again');
  await page.evaluate(() => [...document.querySelectorAll('button')].find((b) => b.textContent === 'Revoke').click());
  await until('both keys revoked', () => page.evaluate(() => ![...document.querySelectorAll('button')].some((b) => b.textContent === 'Revoke')));
  const tokenAnswer = await api('POST', '/api/auth/token', { apiKey: newKey });
  check(tokenAnswer.status === 401, 'the revoked key is refused');
  await snap('api-keys');
  await go('/app/opt-outs');
  await snap('opt-outs');
  await go('/app/');
  await until('usage', () => page.$('#usage'));
  await snap('overview');

  // ---- organisations: the operator upgrades the plan (free allows one), a second one is
  // created and becomes active; switching back shows the first one's phone again
  const orgId = (await api('GET', '/api/organizations')).body[0].id;
  const upgraded = await fetch(`${base}/api/admin/organizations/${orgId}/plan`, {
    method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: '{"plan":"pro"}',
  });
  check(upgraded.status === 200, `the operator moves the organisation to pro (${upgraded.status})`);
  await page.reload({ waitUntil: 'networkidle0' });
  await until('the plan', () => page.evaluate(() => document.getElementById('plan')?.textContent === 'pro'));
  await fill('Name', 'Second org');
  await click('Create');
  await until('the new organisation active', () => page.$eval('#org-switch', (s) => s.selectedOptions[0]?.textContent === 'Second org'));
  await go('/app/devices');
  await until('an empty device list', () => page.evaluate(() => /No device yet/.test(document.body.textContent)));
  check(true, 'the new organisation is active and has none of the first one\'s devices');
  await snap('org-switched');
  await page.select('#org-switch', orgId);
  await until('the first organisation again', () => page.evaluate(() => /Sim Pixel|online|offline/.test(document.querySelector('table')?.textContent || '')));
  check(true, 'switching back shows the first organisation\'s phone');

  // ---- keyboard: the skip link first, then the navigation works with Enter
  await page.goto(base + '/app/', { waitUntil: 'networkidle0' });
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement.textContent)) === 'Skip to content', 'Tab reaches the skip link first');
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = (await page.evaluate(() => document.activeElement.textContent)) === 'Devices';
  }
  check(reached, 'Tab reaches the navigation');
  await page.keyboard.press('Enter');
  await until('the devices page by keyboard', () => page.url().endsWith('/app/devices'));
  check(true, 'Enter on a navigation link opens the page');

  // ---- the live stream is refused beyond its bound per organisation (from Node: a browser
  // holds at most 6 connections per host)
  const cookieHeader = (await page.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const held = [];
  let refused = 0;
  for (let i = 0; i < 12 && !refused; i++) {
    const status = await new Promise((resolve, reject) => {
      const req = http.get(base + '/api/stream', { headers: { Cookie: cookieHeader } }, (res) => {
        held.push(req);
        if (res.statusCode !== 200) res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
    });
    if (status !== 200) refused = status;
  }
  held.forEach((r) => r.destroy());
  check(refused === 429, `more live streams than an organisation may hold are refused (${refused} after ${held.length - 1} open)`);

  // ---- log out, and be refused
  const before = (await page.cookies()).find((c) => c.name === 'pulse_session');
  await click('#logout');
  await until('the log-in page', () => page.$('form[aria-label="Log in"]'));
  check((await api('GET', '/api/organizations')).status === 401, 'after log-out the API refuses the browser');
  await page.setCookie(before);
  check((await api('GET', '/api/organizations')).status === 401, 'the old session cookie no longer works');
  await snap('logged-out');
  sim.kill('SIGTERM');
} catch (e) {
  tally.failures++;
  console.error('FAIL:', e.stack || e);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
  console.error(children.map((c) => c.out.slice(-2000)).join('\n----\n'));
} finally {
  await browser.close().catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  receiver.close();
  evil.close();
  rmSync(work, { recursive: true, force: true });
}
console.log(`screenshots: ${shots.length} in ${ARTIFACTS}`);
console.log(`${tally.checks - tally.failures} passed, ${tally.failures} failed`);
process.exit(tally.failures ? 1 : 0);
