// Launches Debian's Chromium through playwright-core (Playwright cannot download browsers
// here) with a fresh profile, and records what a page logs, so tests can assert on it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and failed responses seen so far. */
  errors: string[];
  /** Every URL the browser context requested (the page and its workers). */
  requests: string[];
  close(): Promise<void>;
}

/** `webgpu: false` launches without --enable-unsafe-webgpu: a browser with no WebGPU adapter. */
export async function openBrowser(options: { webgpu?: boolean; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const home = mkdtempSync(join(tmpdir(), 'qkviz-e2e-'));
  for (const d of ['tmp', 'config', 'cache', 'data']) mkdirSync(join(home, d));
  const context = await chromium.launchPersistentContext(join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    // The smallest laptop screen the layout is made for; tests of other sizes say so.
    viewport: options.viewport ?? { width: 1280, height: 720 },
    env: {
      ...process.env,
      TMPDIR: join(home, 'tmp'),
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_DATA_HOME: join(home, 'data'),
    },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.webgpu === false ? [] : ['--enable-unsafe-webgpu']),
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  context.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()} for ${r.url()}`));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
  return {
    context,
    page,
    errors,
    requests,
    // The profile goes with the browser: a run store of a large test is gigabytes.
    close: async () => {
      await context.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** One browser for a test file: opened before its tests, closed after. Call at file top level. */
export function browserForFile(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not open yet');
    return browser;
  };
}
