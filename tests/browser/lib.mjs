// lib.mjs - what the browser tests share: Debian's Chromium driven by
// Playwright (playwright-core from the npm registry, installed by setup.sh),
// and the coroscope command the pages come from.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
  console.log('ok - ' + msg);
}

export function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
}

// A fresh profile each run, and nothing that reaches the network.
export async function browser(modules) {
  const { chromium } = createRequire(join(modules, 'package.json'))('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'coroscope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async page(file) {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => {
        errors.push('a dialog opened: ' + d.message());
        d.dismiss();
      });
      // A page written by coroscope needs nothing but itself.
      await page.route((url) => !url.href.startsWith('file:'), (route) => {
        errors.push('the page asked for ' + route.request().url());
        route.abort();
      });
      await page.goto('file://' + file);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
      return { page, errors };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
