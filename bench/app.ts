// Serves the built app with `next start` and opens it in headless Chromium with a fresh
// profile, for the browser benchmarks (run `npm run build` first).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Page, chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');

export async function withApp<T>(port: number, body: (page: Page, base: string) => Promise<T>): Promise<T> {
  const server: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/`)).ok) break;
      } catch {
        if (i > 120) throw new Error('next start did not come up (run `npm run build` first)');
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const profile = mkdtempSync(join(tmpdir(), 'qkviz-bench-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      return await body(page, base);
    } finally {
      await context.close();
      // The profile holds the run store: gigabytes after a large run.
      rmSync(profile, { recursive: true, force: true });
    }
  } finally {
    server.kill('SIGTERM');
  }
}

/** Pastes a corpus into the corpus card and waits until its tokens are counted. */
export async function pasteCorpus(page: Page, text: string, timeout = 300_000): Promise<void> {
  const before = await page.getByTestId('corpus-tokens').textContent();
  await page.getByRole('radio', { name: 'Paste', exact: true }).check();
  await page.getByLabel('Corpus text').evaluate((box: HTMLTextAreaElement, value) => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(box, value);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
  await page.waitForFunction(
    (b) => {
      const t = document.querySelector('[data-testid="corpus-tokens"][data-counted="yes"]');
      return !!t && t.textContent !== b;
    },
    before,
    { timeout },
  );
}
