// Bad input gets a clear message, never a blank page: empty and non-text corpora, a
// sentence over 512 tokens, a corpus too large for memory, a missing or corrupt model
// file, no WebGPU, and a worker that crashes.
import { createHash } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { browserForFile, openBrowser } from './browser';
import { corpusCounted, openApp, pasteCorpus, resultId, runToEnd } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();

describe('bad input', () => {
  it('says an empty corpus cannot run, and keeps Run disabled', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, '\n   \n\n');
    expect(await page.getByRole('alert').filter({ hasText: 'Cannot run' }).textContent()).toMatch(/the corpus is empty/);
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
  });

  it('refuses a binary upload with a message', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await page.getByRole('radio', { name: 'Upload', exact: true }).check();
    await page
      .getByLabel('Corpus file')
      .setInputFiles({ name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x49]) });
    expect(await page.getByRole('alert').filter({ hasText: 'photo.txt' }).textContent()).toMatch(/Cannot read photo\.txt: it is not (UTF-8 )?text/);
  });

  it('reads an uploaded .jsonl corpus and says which lines it skipped', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await page.getByRole('radio', { name: 'Upload', exact: true }).check();
    const jsonl = '{"text": "First sentence."}\n{"id": 2}\n\n{"text": "Second one."}\n';
    await page.getByLabel('Corpus file').setInputFiles({ name: 'c.jsonl', mimeType: 'application/json', buffer: Buffer.from(jsonl) });
    await page.getByTestId('corpus-skipped').waitFor();
    expect(await page.getByTestId('corpus-sentences').textContent()).toBe('2');
    expect(await page.getByTestId('corpus-skipped').textContent()).toBe('1 blank line(s), 1 unusable .jsonl line(s)');
  });

  it('splits a sentence longer than 512 tokens visibly', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=wasm');
    const long = Array.from({ length: 600 }, (_, i) => ['alpha', 'beta', 'gamma'][i % 3]).join(' ');
    await pasteCorpus(page, `Short sentence.\n${long}`);
    await corpusCounted(page);
    expect(await page.getByTestId('corpus-over-limit').textContent()).toMatch(/1 sentence\(s\) exceed the model’s 512 tokens; each will be split/);
    await runToEnd(page);
    expect(await page.getByTestId('notices').textContent()).toMatch(/Sentence 2 has 602 tokens, more than the model's 512; it was split into 2 parts/);
    expect(await page.getByTestId('summary-size').textContent()).toMatch(/^[\d,]+ tokens · 3 sentences/);
  });

  it('refuses a corpus too large for the browser’s storage on the corpus card before Run, with Run off and the result on screen kept', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=wasm');
    // A result on screen first (one of this run's own, not whatever the cache shows on opening).
    await pasteCorpus(page, 'A result to keep on screen.');
    await runToEnd(page);
    const before = await resultId(page);
    expect(before).not.toBeNull();
    // This browser's storage nearly full (what navigator.storage.estimate says): the run's
    // queries and keys would not fit its free space.
    await page.evaluate(() => {
      navigator.storage.estimate = async () => ({ quota: 300 * 1024 ** 2, usage: 100 * 1024 ** 2 });
    });
    const lines = Array.from({ length: 6000 }, (_, i) => `Line number ${i} has a handful of ordinary words in it.`).join('\n');
    await page.getByRole('radio', { name: 'Upload', exact: true }).check();
    await page.getByLabel('Corpus file').setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.from(lines) });
    const refusal = page.getByTestId('corpus-refusal');
    await refusal.waitFor({ timeout: 120_000 });
    expect(await refusal.textContent()).toMatch(
      /queries and keys \([\d,]+ tokens, float32\) need about [\d.]+ GB of storage; this browser has 160 MB free for them \(100 MB of its 300 MB quota in use\)\. Clear cached runs, store float16 vectors or use at most about [\d,]+ tokens/,
    );
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    expect(await resultId(page)).toBe(before);
  });

  it('reports a missing, a truncated and a corrupt model file in words', async () => {
    const { page, context } = browser();
    const MODEL = '**/models/all-MiniLM-L6-v2/model.onnx';
    const MANIFEST = '**/models/all-MiniLM-L6-v2/qkviz-model.json';
    const attempt = async () => {
      await openApp(page, baseURL, '?device=wasm');
      await pasteCorpus(page, 'Hello there.');
      return runToEnd(page);
    };
    try {
      await context.route(MODEL, (route) => route.fulfill({ status: 404, body: 'not found' }));
      await expect(attempt()).rejects.toThrow(/model\.onnx is missing: run `npm run setup:model`/);
      await context.unroute(MODEL);

      // An interrupted download: the first megabyte of the real file.
      const real = Buffer.from(await (await fetch(`${baseURL}/models/all-MiniLM-L6-v2/model.onnx`)).arrayBuffer());
      await context.route(MODEL, (route) => route.fulfill({ status: 200, body: real.subarray(0, 1 << 20) }));
      await expect(attempt()).rejects.toThrow(/model\.onnx is incomplete: 1048576 of \d+ bytes/);

      // Bytes of the right length whose checksum does not match the manifest.
      const manifest = await (await fetch(`${baseURL}/models/all-MiniLM-L6-v2/qkviz-model.json`)).json();
      const garbage = Buffer.alloc(4096, 7);
      const serveManifest = (sha256: string) =>
        context.route(MANIFEST, (route) =>
          route.fulfill({
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({ ...manifest, onnx: { ...manifest.onnx, bytes: garbage.length, sha256 } }),
          }),
        );
      await context.unroute(MODEL);
      await context.route(MODEL, (route) => route.fulfill({ status: 200, body: garbage }));
      await serveManifest(manifest.onnx.sha256);
      await expect(attempt()).rejects.toThrow(/model\.onnx is corrupt \(its SHA-256 does not match/);

      // A manifest that vouches for the garbage: onnxruntime itself rejects the file.
      await context.unroute(MANIFEST);
      await serveManifest(createHash('sha256').update(garbage).digest('hex'));
      await expect(attempt()).rejects.toThrow(/model\.onnx is corrupt or incomplete and could not be loaded|the model could not be loaded/);
    } finally {
      await context.unrouteAll();
    }
  });

  it('reports a crashed worker and runs again afterwards', async () => {
    const { page, context } = browser();
    await context.route(/turbopack-worker.*\.js/, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: 'throw new Error("simulated crash")' }),
    );
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, 'Hello there.');
    await expect(runToEnd(page, 60_000)).rejects.toThrow(/The model worker crashed .*Press Run to start again/);
    await context.unrouteAll();
    await runToEnd(page);
    expect(await page.getByTestId('summary-size').textContent()).toBe('5 tokens · 1 sentence · 72 heads (6 layers × 12)');
  });
});

describe('without WebGPU', () => {
  it('falls back to WASM on Auto and says why', async () => {
    const plain = await openBrowser({ webgpu: false });
    try {
      await openApp(plain.page, baseURL);
      await pasteCorpus(plain.page, 'Hello there.');
      await runToEnd(plain.page);
      expect(await plain.page.getByLabel('Run summary').getByTestId('device-badge').textContent()).toMatch(
        /^WASM · \d+ threads? \((no WebGPU adapter is available|this browser has no WebGPU)/,
      );
    } finally {
      await plain.close();
    }
  });
});
