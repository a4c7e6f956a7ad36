// What a person sees on opening QKViz: the product, the real model's facts, the default
// corpus measured with the model's own tokenizer in the browser (in a worker), and what a run
// will show and how long it will take on this device.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadTokenizer } from '../../lib/model/tokenizer';
import { browserForFile } from './browser';

const ROOT = resolve(__dirname, '..', '..');
const baseURL = inject('baseURL');
const browser = browserForFile();

describe('home page', () => {
  it('shows the product, the default model and the default corpus with its token count', async () => {
    const { page, errors, requests } = browser();
    await page.goto(baseURL);
    await expect.poll(() => page.locator('h1').textContent()).toBe('QKViz');
    await page.getByTestId('model-name').waitFor();
    expect(await page.getByTestId('model-name').textContent()).toBe('all-MiniLM-L6-v2');
    expect(await page.getByTestId('model-shape').textContent()).toMatch(/BERT · 6 layers × 12 heads · head size 32/);

    const lines = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    expect(await page.getByTestId('corpus-sentences').textContent()).toBe(lines.length.toLocaleString('en-US'));

    // The browser tokenizes with the self-hosted tokenizer files; Node's count is the yardstick.
    const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: join(ROOT, 'public', 'models'), name: 'all-MiniLM-L6-v2' });
    const expected = lines.reduce((n, l) => n + tokenizer.encode(l.trim()).length, 0);
    await expect.poll(() => page.getByTestId('corpus-tokens').textContent(), { timeout: 60_000 }).toBe(`${expected.toLocaleString('en-US')} tokens`);
    // Before the first run the canvas says what a run shows and, once the model worker has
    // measured this device, how long it takes here.
    const welcome = page.getByTestId('welcome');
    expect(await welcome.textContent()).toContain(`72 heads (6 layers × 12)`);
    await expect
      .poll(() => page.getByTestId('welcome-estimate').textContent(), { timeout: 120_000 })
      .toMatch(/^About (\d+ min )?\d+ s on (WASM|WebGPU) here: extraction (\d+ min )?\d+ s at [\d,]+ tokens\/s/);

    await page.screenshot({ path: join(ROOT, 'test-results', 'home.png') });
    expect(errors).toEqual([]);
    const origin = new URL(baseURL).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
  });

  it('is cross-origin isolated, so onnxruntime-web can run threaded WASM', async () => {
    expect(await browser().page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  });

  it('offers to fetch a ?model= this browser does not have, with the default model on screen meanwhile', async () => {
    const { page } = browser();
    await page.goto(`${baseURL}/?model=bert-base-uncased`);
    const alert = page.getByRole('alert').filter({ hasText: 'bert-base-uncased' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/"bert-base-uncased" is not stored in this browser yet: press Look up to see its size, then Download/);
    expect(await page.getByLabel('Hub id').inputValue()).toBe('bert-base-uncased');
    expect(await page.getByTestId('model-name').textContent()).toBe('all-MiniLM-L6-v2');
  });
});
