// A bundle written by qkviz in Python opens in the page: the model's queries and keys from
// `qkviz extract`, analysed and written by `qkviz.write_bundle` (numpy, no page code), shown
// as a matrix (pixels) with its PCA layout, scored in the page (the figures Python leaves to
// it), and flown into. Python's normalizations are checked against the page's own in
// tests/python/test_write.py; here, what a person sees.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultSentences } from '../helpers/extraction';
import { ROOT } from '../helpers/models';
import { browserForFile } from './browser';
import { canvasPixels, cellPixels, settled } from './canvas';
import { goToHead, openApp, projectionStatus } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();
const dir = mkdtempSync(join(tmpdir(), 'qkviz-python-bundle-'));
const BUNDLE = join(dir, 'from-python.qkviz');
const PYTHON = join(ROOT, '.cache', 'python-venv', 'bin', 'python');

const WRITE = `
import json, sys, numpy as np, qkviz
src, out = sys.argv[1], sys.argv[2]
meta = json.load(open(f"{src}/tokens.json"))
lengths = [len(s["ids"]) for s in meta["sentences"]]
starts = np.concatenate([[0], np.cumsum([n * n for n in lengths])])
attention = np.load(f"{src}/attention.npy")
sample = {s: attention[:, :, starts[s]:starts[s + 1]].reshape(meta["layers"], meta["heads"], lengths[s], lengths[s]) for s in (0, 5, 10)}
qkviz.write_bundle(out, [s["tokens"] for s in meta["sentences"]], np.load(f"{src}/queries.npy"), np.load(f"{src}/keys.npy"),
    ids=[s["ids"] for s in meta["sentences"]], texts=[s["text"] for s in meta["sentences"]], model="MiniLM from Python",
    attention=meta["attention"], attention_sample=sample, device="numpy test", library="tests/e2e", layouts=[("optimized", "pca", 3)])
`;

beforeAll(async () => {
  writeFileSync(join(dir, 'corpus.txt'), `${defaultSentences().slice(0, 16).join('\n')}\n`);
  const run = promisify(execFile);
  await run(process.execPath, [
    join(ROOT, 'scripts', 'qkviz.mjs'),
    'extract',
    '--input',
    join(dir, 'corpus.txt'),
    '--out',
    join(dir, 'extract'),
    '--attention',
    '--quiet',
  ]);
  await run(PYTHON, ['-c', WRITE, join(dir, 'extract'), BUNDLE]);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a bundle written in Python', () => {
  it('opens in the page: matrix drawn from its layout, its figures scored here, a head flown into', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL);
    await page.getByTestId('bundle-file').setInputFiles(BUNDLE);
    const source = page.getByTestId('result-source');
    await source.waitFor({ timeout: 60_000 });
    expect(await source.textContent()).toMatch(
      /MiniLM from Python · 16 sentences · from bundle from-python\.qkviz \(made .* by qkviz \d+\.\d+\.\d+ \(Python\); no model ran here\)/,
    );
    expect(await page.getByTestId('summary-size').textContent()).toMatch(/tokens · 16 sentences · 72 heads/);
    expect(await page.getByTestId('device-badge').textContent()).toContain('numpy test');
    // The model's attention on three sentences, against attention recomputed from the Q/K (Python's check, shown by the page).
    expect(await page.getByTestId('attention-error').textContent()).toMatch(/max error \d\.\d\de-\d+ ✓ on 3 sampled sentences/);
    await expect.poll(() => projectionStatus(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    await settled(page);
    const cells = await cellPixels(page, 6, 12);
    expect(cells.filter((c) => c.query < 5 || c.key < 5).map((c) => c.label)).toEqual([]);
    // The distance figures Python leaves out are scored by the page after the matrix.
    await expect.poll(() => page.getByTestId('scoring').textContent(), { timeout: 120_000 }).toBe('every head, every mode');
    await goToHead(page, 2, 3);
    await settled(page);
    // The head fills the view: its queries and keys drawn large (thousands of pixels, not a cell's few hundred).
    const [head] = await canvasPixels(page);
    expect(head.query).toBeGreaterThan(cells[2 * 12 + 3].query);
    expect(head.key).toBeGreaterThan(cells[2 * 12 + 3].key);
    expect(errors).toEqual([]);
  });
});
