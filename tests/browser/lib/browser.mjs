// Browser-test harness: headless Chromium (Debian's `chromium`, driven by playwright-core; no
// browser download) against a runtime the e2e harness starts (tests/e2e/lib/worker.mjs).
//
//   useBrowser()   one browser for the calling file: launched in `before`, closed in `after`;
//                  returns { page(opts) → a new page, screenshot(page, name) }
//   signIn(page, url, token)   opens the console and signs in through its form
//
// Environment: STOCKEDGE_CHROMIUM (default /usr/bin/chromium) names the browser executable.
// Screenshots go to target/browser-screenshots/<name>.png.

import { after, before } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { ADMIN_TOKEN, ROOT } from '../../e2e/lib/worker.mjs';

export const CHROMIUM = process.env.STOCKEDGE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'target', 'browser-screenshots');

/** Launches headless Chromium. */
export function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (installs Debian's chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Saves a full-page PNG of `page` as target/browser-screenshots/<name>.png; returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * One browser for the calling file. Pages it opens record uncaught page errors in
 * `page.errors` (tests assert none happened) and console errors in `page.consoleErrors`.
 */
export function useBrowser() {
  let browser;
  const contexts = [];
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
  });
  return {
    async page({ viewport = { width: 1280, height: 900 }, ...opts } = {}) {
      const context = await browser.newContext({ viewport, ...opts });
      contexts.push(context);
      const page = await context.newPage();
      page.errors = [];
      page.consoleErrors = [];
      page.on('pageerror', (e) => page.errors.push(e));
      page.on('console', (m) => {
        if (m.type() === 'error') page.consoleErrors.push(m.text());
      });
      page.setDefaultTimeout(20_000);
      return page;
    },
    screenshot,
  };
}

/** Opens the console at `url` and signs in with `token` through the sign-in form. */
export async function signIn(page, url, token = ADMIN_TOKEN) {
  await page.goto(`${url}/#/overview`);
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}
