// GET /reference in headless Chromium (run by run.sh): the Scalar reference renders from the
// embedded bundle with every request off loopback failing, lists every documented route, and a
// user tries an endpoint live from the page (the API client sends it to this server and shows the
// answer). Screenshots: reference.png, reference-try.png.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { check, tally, until as untilWithin } from './checks.mjs';

const require = createRequire(path.join(process.env.NODE_PATH, 'x.js'));
const puppeteer = require('puppeteer-core');
const ARTIFACTS = process.env.ARTIFACTS;
const OPENAPI = process.env.OPENAPI;
const work = mkdtempSync(path.join(tmpdir(), 'pulse-reference-'));
// The reference renders a large document: its waits are longer than the dashboard's.
const until = (what, fn) => untilWithin(what, fn, 30000, 200);

const server = spawn(process.env.PULSE, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(work, 'data')],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
server.stdout.on('data', (d) => (out += d));
server.stderr.on('data', (d) => (out += d));
const base = await until('the server to listen', () => {
  if (server.exitCode !== null) throw new Error('server exited: ' + out);
  const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return m && m[1];
});

// Every path of openapi.yaml.
const routes = [];
let inPaths = false;
for (const line of readFileSync(OPENAPI, 'utf8').split('\n')) {
  if (line.startsWith('paths:')) inPaths = true;
  else if (/^\S/.test(line)) inPaths = false;
  else if (inPaths) {
    const m = line.match(/^ {2}(\/\S*):$/);
    if (m) routes.push(m[1]);
  }
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  userDataDir: path.join(work, 'profile'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  // No network but this server: anything else is refused and remembered.
  const offsite = [];
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith(base + '/') || u.startsWith('data:') || u.startsWith('blob:')) r.continue();
    else {
      offsite.push(u);
      r.abort();
    }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const live = [];
  page.on('response', (r) => {
    if (r.url() === base + '/healthz' && r.request().method() === 'GET') live.push(r.status());
  });

  // /reference/ redirects to /reference, which renders the document.
  await page.goto(base + '/reference/', { waitUntil: 'networkidle0' });
  check(page.url() === base + '/reference', `/reference/ leads to /reference (${page.url()})`);
  await until('the reference to render', () => page.evaluate(() => document.body.innerText.includes('Pulse')));
  // Scalar renders sections as they come near; scroll through the page so every one is drawn.
  const seen = new Set();
  for (let i = 0; i < 400; ++i) {
    const text = await page.evaluate(() => document.body.innerText);
    for (const r of routes) if (text.includes(r)) seen.add(r);
    if (seen.size === routes.length) break;
    const moved = await page.evaluate(() => {
      const before = window.scrollY;
      window.scrollBy(0, window.innerHeight);
      return window.scrollY !== before;
    });
    await new Promise((r) => setTimeout(r, 150));
    if (!moved) break;
  }
  const missing = routes.filter((r) => !seen.has(r));
  check(routes.length > 50 && missing.length === 0,
    `every documented route (${routes.length}) is on the page${missing.length ? '; missing: ' + missing.join(' ') : ''}`);
  writeFileSync(path.join(ARTIFACTS, 'reference.html'), await page.content());
  await page.evaluate(() => window.scrollTo(0, 0));
  await new Promise((r) => setTimeout(r, 300));
  await page.screenshot({ path: path.join(ARTIFACTS, 'reference.png') });

  // Try GET /healthz live: its "Test Request" button opens the API client; "Send" sends it.
  await page.goto(base + '/reference#tag/service/GET/healthz', { waitUntil: 'networkidle0' });
  const marked = await until('the Test Request button of GET /healthz', () => page.evaluate(() => {
    const buttons = [...document.querySelectorAll('button')].filter((b) => /test request/i.test(b.innerText));
    let best = null;
    let bestSize = Infinity;
    for (const b of buttons) {
      for (let e = b.parentElement; e; e = e.parentElement) {
        if (e.innerText.includes('/healthz')) {
          const size = e.innerText.length;
          if (size < bestSize) {
            best = b;
            bestSize = size;
          }
          break;
        }
      }
    }
    if (!best) {
      window.scrollBy(0, window.innerHeight / 2); // not drawn yet: move on and look again
      return false;
    }
    best.setAttribute('data-test-target', 'try');
    best.scrollIntoView();
    return true;
  }));
  check(marked, 'GET /healthz has a Test Request button');
  await page.click('[data-test-target="try"]');
  // The client opens with the request filled in; Ctrl+Enter is its Send Request.
  await until('the API client', () => page.evaluate(() => document.body.innerText.includes('Send Request')));
  await new Promise((r) => setTimeout(r, 500));
  await page.keyboard.down('Control');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Control');
  await until('the live answer of GET /healthz', () => live.length > 0);
  check(live[0] === 200, `the page sent GET /healthz to this server and got ${live[0]}`);
  await until('the answer shown in the client', () => page.evaluate(() => /200/.test(document.body.innerText)));
  await new Promise((r) => setTimeout(r, 500));
  await page.screenshot({ path: path.join(ARTIFACTS, 'reference-try.png') });

  check(offsite.length === 0, `nothing was requested off this server${offsite.length ? ': ' + [...new Set(offsite)].join(' ') : ''}`);
  check(errors.length === 0, `no script error${errors.length ? ': ' + errors.join('; ') : ''}`);
} catch (e) {
  tally.failures++;
  console.error(`FAIL: ${e.stack || e}`);
  try {
    const pages = await browser.pages();
    await pages[pages.length - 1].screenshot({ path: path.join(ARTIFACTS, 'reference-failure.png') });
  } catch {}
} finally {
  await browser.close();
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
console.log(tally.failures ? `${tally.failures} failed` : 'reference OK');
process.exit(tally.failures ? 1 : 0);
