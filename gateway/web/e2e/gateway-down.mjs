#!/usr/bin/env node
// The web UI while the gateway itself is down: signs in for real, then asks the
// driver (tests/integration/test_zz_web_gateway_down.py) to stop the gateway daemon,
// checks the connection banner replaces the page's loading state, asks for the
// gateway to be started again and checks "Retry" brings the page back.
//
// Protocol with the driver: this script prints `E2E-STEP <name>` on stdout and waits
// for one line on stdin once the step is done (`stop-gateway`, `start-gateway`).
// Screenshots: gateway-down-1280.png, gateway-back-1280.png in E2E_SCREENSHOTS.
import { createInterface } from 'node:readline';
import { expect, runAll, skip, test } from './harness.mjs';

const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL || '';
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD || '';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Asks the driver to do something to the stack and waits until it says done. */
async function step(name) {
  console.log(`E2E-STEP ${name}`);
  const { value, done } = await lines.next();
  expect(!done, `the driver closed stdin instead of doing ${name}`);
  expect(value.trim() === 'done', `the driver answered "${value}" to ${name}`);
}

test('the gateway goes down and comes back: banner, then Retry (signed in)', async (t) => {
  if (!ADMIN_EMAIL || !ADMIN_PASSWORD) skip('E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD are not set');
  const { page } = t;
  await page.goto(t.url('/login'), { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.waitFor();
  expect((await page.getByTestId('connection-banner').count()) === 0, 'banner shown while the gateway is up');
  // the home page's chart code is fetched on demand: let it arrive before the gateway
  // goes (a fetch cut off then shows LazyPart's notice, tested in its unit test): it
  // is asked for when the totals beside it render, so wait for those first
  await page.getByRole('list', { name: 'Bookings by status' }).waitFor({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');

  await step('stop-gateway');
  await nav.getByRole('link', { name: 'System health' }).click();
  const banner = page.getByTestId('connection-banner');
  await banner.waitFor({ timeout: 10_000 });
  const text = await banner.textContent();
  expect(text.includes('Cannot reach the TripDesk gateway'), `banner text: ${text}`);
  expect(await banner.getByRole('button', { name: 'Retry' }).isVisible(), 'no Retry button');
  // The page does not sit on its loading state ("Checking services…").
  await page.getByText('Checking services…').waitFor({ state: 'detached', timeout: 10_000 });
  expect((await page.getByRole('status').filter({ hasText: /Loading|Checking/ }).count()) === 0, 'a loading state is still shown');
  await t.shot('gateway-down');

  await step('start-gateway');
  await banner.getByRole('button', { name: 'Retry' }).click();
  await banner.waitFor({ state: 'detached', timeout: 15_000 });
  await page.locator('[data-testid="service-card"]').nth(4).waitFor({ timeout: 15_000 });
  await t.shot('gateway-back');
  const errors = t.consoleErrors.filter((e) => !/Failed to load resource|net::ERR_CONNECTION_REFUSED/.test(e));
  expect(errors.length === 0, `console errors: ${errors.join(' | ')}`);
}, { group: 'stack' });

const code = await runAll();
lines.return?.();
process.exit(code);
