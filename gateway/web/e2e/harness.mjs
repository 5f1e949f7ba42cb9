// A small end-to-end test harness on playwright-core and Debian's Chromium:
// registers tests, runs each in a fresh browser profile, takes screenshots, prints
// `e2e: N passed, M failed` and writes JUnit XML (E2E_JUNIT).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || join(HERE, 'screenshots');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const TEST_TIMEOUT_MS = Number(process.env.E2E_TEST_TIMEOUT_MS || 120_000);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export class Skip extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
  }
}

/** Marks the running test as skipped, with the reason shown in the output. */
export function skip(reason) {
  throw new Skip(reason);
}

export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

const tests = [];

/** Registers a test: fn(t) gets { page, context, url, shot, consoleErrors, group }. */
export function test(name, fn, { group = 'e2e' } = {}) {
  tests.push({ name, fn, group });
}

const slug = (s) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runOne(tc) {
  const profile = mkdtempSync(join(tmpdir(), 'tripdesk-e2e-'));
  let context;
  const consoleErrors = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(Number(process.env.E2E_ACTION_TIMEOUT_MS || 20_000));
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    const t = {
      page,
      context,
      group: tc.group,
      consoleErrors,
      url: (path) => `${BASE_URL}${path}`,
      /** Saves a screenshot at the given width (default 1280): the full page, or
       * only the viewport with { fullPage: false } (for dialogs). */
      shot: async (name, width = 1280, { fullPage = true } = {}) => {
        const vp = page.viewportSize();
        if (!vp || vp.width !== width) await page.setViewportSize({ width, height: 800 });
        const file = join(SCREENSHOTS, `${slug(name)}-${width}.png`);
        // A full-page capture from the top: scrolled, the sticky sidebar would be
        // drawn part-way down the image.
        if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: file, fullPage });
        return file;
      },
    };
    await withTimeout(tc.fn(t), TEST_TIMEOUT_MS, 'test');
    return { status: 'passed' };
  } catch (err) {
    if (err instanceof Skip) return { status: 'skipped', message: err.message };
    if (context) {
      try {
        const page = context.pages()[0];
        if (page) await page.screenshot({ path: join(SCREENSHOTS, `FAILED-${slug(tc.name)}.png`), fullPage: true });
      } catch {
        // no screenshot of a dead page
      }
    }
    return { status: 'failed', message: err?.message ?? String(err), stack: err?.stack ?? '' };
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

const xml = (s) =>
  String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function writeJunit(file, results, seconds) {
  const failures = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const cases = results
    .map((r) => {
      const open = `    <testcase classname="${xml(`web.e2e.${r.group}`)}" name="${xml(r.name)}" time="${r.seconds.toFixed(3)}"`;
      if (r.status === 'passed') return `${open}/>`;
      if (r.status === 'skipped') return `${open}>\n      <skipped message="${xml(r.message)}"/>\n    </testcase>`;
      return `${open}>\n      <failure message="${xml(r.message)}">${xml(r.stack || r.message)}</failure>\n    </testcase>`;
    })
    .join('\n');
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="web-e2e" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds.toFixed(3)}">\n` +
    `  <testsuite name="web-e2e" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds.toFixed(3)}">\n` +
    `${cases}\n  </testsuite>\n</testsuites>\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
}

/** Null when the gateway answers at BASE_URL, else why not. */
async function preflight() {
  try {
    const res = await fetch(`${BASE_URL}/api/health`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return null;
  } catch (e) {
    return `cannot reach the gateway at ${BASE_URL} (${e?.cause?.code ?? e?.message ?? e}); start the stack or set BASE_URL`;
  }
}

/** Runs the registered tests (those whose name contains E2E_GREP, if set). */
export async function runAll() {
  const grep = process.env.E2E_GREP || process.argv[2] || '';
  // A full run starts from an empty screenshot folder; a filtered one keeps the rest.
  if (!grep) rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  const selected = tests.filter((t) => !grep || t.name.toLowerCase().includes(grep.toLowerCase()));
  console.log(`e2e: ${selected.length} tests against ${BASE_URL} (Chromium: ${CHROMIUM})`);
  const started = Date.now();
  const results = [];
  const unreachable = await preflight();
  if (unreachable) console.log(`e2e: ${unreachable}`);
  for (const tc of selected) {
    const t0 = Date.now();
    const r = unreachable ? { status: 'failed', message: unreachable } : await runOne(tc);
    const seconds = (Date.now() - t0) / 1000;
    results.push({ ...r, name: tc.name, group: tc.group, seconds });
    const tag = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' }[r.status];
    console.log(`${tag}  ${tc.name} (${seconds.toFixed(1)} s)${r.message ? `\n      ${r.message.split('\n').join('\n      ')}` : ''}`);
  }
  const seconds = (Date.now() - started) / 1000;
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  if (process.env.E2E_JUNIT) writeJunit(process.env.E2E_JUNIT, results, seconds);
  console.log(`e2e: screenshots in ${SCREENSHOTS}${skipped ? `; ${skipped} skipped (see SKIP lines)` : ''}`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
