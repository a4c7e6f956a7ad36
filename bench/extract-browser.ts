// Browser benchmark: builds nothing, serves the built app with `next start`, opens the
// /bench page in headless Chromium and prints what it measured (WASM backend).
//   npm run build && npm run bench:extract:browser
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const PORT = Number(process.env.BENCH_PORT ?? 3917);
const rounds = Number(process.env.ROUNDS ?? 3);

const server: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'next'), ['start', '-p', String(PORT), '-H', '127.0.0.1'], { cwd: ROOT, stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/`)).ok) break;
    } catch {
      if (i > 120) throw new Error('next start did not come up (run `npm run build` first)');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'qkviz-bench-')), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${PORT}/bench?rounds=${rounds}`);
  const out = page.getByTestId('bench-output');
  await out.filter({ hasNotText: 'running' }).waitFor({ timeout: 600_000 });
  console.log(await out.textContent());
  await context.close();
} finally {
  server.kill('SIGTERM');
}
