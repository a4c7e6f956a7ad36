// Bundles in the page: one made by `qkviz bundle` opens from the file picker and from
// ?bundle=URL and shows its matrix (pixels) with no model run; saving it again from the page
// gives the same arrays bit for bit; a cut, changed, newer or foreign file says what is wrong
// and leaves the matrix on screen alone.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readRunBundle } from '../../lib/run/bundleRun';
import { defaultSentences } from '../helpers/extraction';
import { ROOT } from '../helpers/models';
import { browserForFile } from './browser';
import { cellPixels, settled } from './canvas';
import { openApp, projectionStatus } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();
const dir = mkdtempSync(join(tmpdir(), 'qkviz-bundles-'));
const BUNDLE = join(dir, 'capybaras.qkviz');
let server: ReturnType<typeof createServer>;
let serverUrl = '';

beforeAll(async () => {
  writeFileSync(join(dir, 'capybaras.txt'), `${defaultSentences().slice(0, 20).join('\n')}\n`);
  await promisify(execFile)(process.execPath, [
    join(ROOT, 'scripts', 'qkviz.mjs'),
    'bundle',
    '--input',
    join(dir, 'capybaras.txt'),
    '--out',
    BUNDLE,
    '--methods',
    'pca',
    '--dims',
    '3',
    '--quiet',
  ]);
  const bytes = readFileSync(BUNDLE);
  writeFileSync(join(dir, 'cut.qkviz'), bytes.subarray(0, bytes.length - 5000));
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 64] ^= 0x10;
  writeFileSync(join(dir, 'changed.qkviz'), flipped);
  const newer = Buffer.from(bytes);
  newer.writeUInt32LE(3, 8);
  writeFileSync(join(dir, 'newer.qkviz'), newer);
  writeFileSync(join(dir, 'notes.qkviz'), 'these are my notes, not a bundle');
  server = createServer((req, res) => {
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' });
    res.end(bytes);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/capybaras.qkviz`;
}, 180_000);
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function matrixDrawn(page: import('playwright-core').Page): Promise<void> {
  await expect.poll(() => projectionStatus(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
  await settled(page);
  const cells = await cellPixels(page, 6, 12);
  expect(cells.filter((c) => c.query < 5 || c.key < 5).map((c) => c.label)).toEqual([]);
}

describe('bundles', () => {
  it('opens a bundle made by the CLI and shows its matrix with no model run; saving it again keeps every array', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL);
    await page.getByTestId('bundle-file').setInputFiles(BUNDLE);
    const source = page.getByTestId('result-source');
    await source.waitFor({ timeout: 60_000 });
    expect(await source.textContent()).toMatch(/capybaras\.txt · from bundle capybaras\.qkviz \(made .* by qkviz \d+\.\d+\.\d+ \(CLI\); no model ran here\)/);
    const original = await readRunBundle(new Uint8Array(readFileSync(BUNDLE)));
    expect(await page.getByTestId('summary-size').textContent()).toContain(`${original.result.data.tokenCount} tokens · 20 sentences · 72 heads`);
    await matrixDrawn(page);
    // The bundle's PCA came with it: nothing was projected here.
    expect(await projectionStatus(page)).toMatch(/computed: PCA 72/);

    await page.getByRole('button', { name: 'Export ▾' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Run as bundle (.qkviz)' }).click()]);
    const saved = join(dir, 'saved.qkviz');
    await download.saveAs(saved);
    const again = await readRunBundle(new Uint8Array(readFileSync(saved)));
    const [a, b] = [await again.vectors!.data(), await original.vectors!.data()];
    for (const key of ['queries', 'keys'] as const) expect(bytesOf(a[key]).equals(bytesOf(b[key])), key).toBe(true);
    expect(bytesOf(again.result.data.attentionSample.values).equals(bytesOf(original.result.data.attentionSample.values))).toBe(true);
    expect(again.sentences).toEqual(original.sentences);
    expect(again.layouts.length).toBeGreaterThanOrEqual(1);
    expect(again.result.analysis.heads).toEqual(original.result.analysis.heads);
    expect(errors).toEqual([]);
  });

  it('says what is wrong with a cut, changed, newer or foreign file, and keeps the matrix', async () => {
    const { page } = browser();
    await page.keyboard.press('Escape');
    const id = await page.getByLabel('Run summary').getAttribute('data-result-id');
    const status = page.getByTestId('bundle-status');
    for (const [file, message] of [
      ['cut.qkviz', /cut\.qkviz: This bundle is truncated: .* runs to byte [\d,]+, the file has [\d,]+/],
      ['changed.qkviz', /changed\.qkviz: This bundle is corrupt: .* does not match its checksum/],
      ['newer.qkviz', /newer\.qkviz: This bundle is format 3, made by a newer QKViz; this page reads format 2/],
      ['notes.qkviz', /notes\.qkviz: This is not a QKViz bundle/],
    ] as const) {
      await page.getByTestId('bundle-file').setInputFiles(join(dir, file));
      await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(message);
      expect(await page.getByLabel('Run summary').getAttribute('data-result-id')).toBe(id);
      await status.getByRole('button', { name: 'Dismiss' }).click();
    }
  });

  it('opens a 100k-token bundle: its matrix drawn with level of detail, and what it does not hold stated', async () => {
    const { page, errors } = browser();
    // The default corpus twenty times over: 104,060 tokens, written "views only" (layouts, figures, similarities).
    const corpus = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8').trim();
    writeFileSync(join(dir, 'big.txt'), `${Array(20).fill(corpus).join('\n')}\n`);
    const big = join(dir, 'big.qkviz');
    await promisify(execFile)(process.execPath, [
      join(ROOT, 'scripts', 'qkviz.mjs'),
      'bundle',
      '--input',
      join(dir, 'big.txt'),
      '--out',
      big,
      '--contents',
      'views',
      '--quiet',
    ]);
    await openApp(page, baseURL);
    await page.getByTestId('bundle-file').setInputFiles(big);
    await expect.poll(() => page.getByTestId('summary-size').textContent(), { timeout: 120_000 }).toMatch(/104,060 tokens · 7,500 sentences · 72 heads/);
    expect(await page.getByTestId('bundle-views-only').textContent()).toMatch(
      /holds the layouts, figures and head similarities of 104,060 tokens, 6 × 12 heads, not the queries and keys/,
    );
    await matrixDrawn(page);
    const matrix = page.getByTestId('matrix-view');
    // 15M points: the level of detail draws a budget's worth of each head (every cell has its sample).
    const drawn = Number(await matrix.getAttribute('data-drawn-points'));
    expect(drawn).toBeGreaterThan(500_000);
    expect(drawn).toBeLessThan(72 * 2 * 104_060);
    await page.screenshot({ path: 'test-results/bundle-100k.png' });
    // Into a head: its layout came with the bundle; links and diagnostics say they need the vectors.
    await page.getByRole('spinbutton', { name: 'Layer' }).fill('3');
    await page.getByRole('spinbutton', { name: 'Head', exact: true }).fill('4');
    await page.getByRole('button', { name: 'Go to head' }).click();
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L3 H4');
    expect(await page.getByLabel('Diagnostics').textContent()).toMatch(/need this run’s queries and keys/);
    await expect
      .poll(
        () =>
          page
            .getByTestId('similar-heads')
            .getByRole('button', { name: /^Go to L\d H\d+$/ })
            .count(),
        { timeout: 30_000 },
      )
      .toBe(6);
    expect(errors).toEqual([]);
  }, 400_000);

  it('opens ?bundle=URL', async () => {
    const { page } = browser();
    await page.goto(`${baseURL}/?bundle=${encodeURIComponent(serverUrl)}`);
    await expect.poll(() => page.getByTestId('result-source').textContent(), { timeout: 60_000 }).toMatch(/from bundle capybaras\.qkviz/);
    await matrixDrawn(page);
  });
});
