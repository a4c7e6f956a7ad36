// A 1B-parameter model opened by id, as a researcher would: a full-size random-weight
// checkpoint with Llama-3.2-1B's config (1.24B parameters, 2.5 GB of bfloat16; a fixture,
// never presented as trained) served by a local server with the hub's URL layout. The look-up
// states each precision's size and suggests 8-bit (float32 and float16 are over what a tab
// opens exactly); the page downloads it into the browser's storage, converts it streaming,
// runs a corpus on it, checks attention recomputed from Q/K against the model's own, and draws
// every one of its 16 × 32 cells. Reopening after a reload needs no download.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LLAMA_32_1B_CONFIG, writeBigLlama } from '../helpers/bigCheckpoint';
import { type HubServer, repoFromDir, startHubServer } from '../helpers/hubServer';
import { ROOT } from '../helpers/models';
import { browserForFile } from './browser';
import { canvasPixels, settled } from './canvas';
import { goToHead, openApp, pasteCorpus, shownAttentionError } from './helpers';
import { downloadAndRun, everyCellDrawn, lookUpModel } from './hubPage';

const baseURL = inject('baseURL');
const browser = browserForFile();
const DIR = join(ROOT, '.cache', 'test-models', 'llama-3.2-1b-shape');
const ID = 'qkviz-test/llama-3.2-1b-shape';
const CORPUS = ['The brown capybara is sleeping now.', 'Queries and keys meet in a dot product, scaled and soft-maxed.'].join('\n');
const { num_hidden_layers: LAYERS, num_attention_heads: HEADS, num_key_value_heads: KV } = LLAMA_32_1B_CONFIG;

let hub: HubServer;

beforeAll(async () => {
  writeBigLlama(DIR);
  hub = await startHubServer({ [ID]: { files: repoFromDir(DIR, undefined, { onDisk: ['model.safetensors'] }) } });
}, 600_000);
afterAll(() => hub?.close());

const picker = (page: Page) => page.getByRole('region', { name: 'Model' });

describe('a 1B-parameter model by id', () => {
  it('looks up, suggests 8-bit, downloads, converts, runs and draws every cell; reopens from the store', { timeout: 1_800_000 }, async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, CORPUS);
    const plan = await lookUpModel(page, hub.url, ID);
    expect(plan).toContain(`${LAYERS} layers × ${HEADS} heads (${KV} key heads) · 1.24B parameters (BF16) · download 2.30 GB`);
    // float32 (4.6 GB) does not fit a tab at all; float16 (2.3 GB) fits but is over what opens by default.
    expect(plan).toMatch(/float32: 4\.\d+ GB graph, .* — does not fit a tab/);
    expect(plan).toMatch(/8-bit: 1\.\d+ GB graph, about \d\.\d+ GB of tab memory while opening \(Q\/K within about 1\.5–3\.5% of float32\) · suggested/);
    expect(
      await picker(page)
        .getByRole('radio', { name: /^float32/ })
        .isDisabled(),
    ).toBe(true);
    expect(
      await picker(page)
        .getByRole('radio', { name: /^8-bit/ })
        .isChecked(),
    ).toBe(true);

    const summary = await downloadAndRun(page, ID, 1_500_000);
    expect(summary).toContain(`${LAYERS * HEADS} heads (${LAYERS} layers × ${HEADS})`);
    expect(await page.getByTestId('model-name').evaluate((n) => n.parentElement?.textContent ?? '')).toMatch(/1\.\d+ GB · 8-bit weights/);
    // The 8-bit model's own attention against attention recomputed from its own queries and keys.
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
    await everyCellDrawn(page, LAYERS, HEADS);
    await page.screenshot({ path: join(ROOT, 'test-results', 'matrix-llama-3.2-1b-shape.png') });
    await goToHead(page, LAYERS - 1, HEADS - 1);
    await settled(page);
    const [head] = await canvasPixels(page);
    expect(head.query).toBeGreaterThan(50);
    expect(head.key).toBeGreaterThan(50);

    // A reload opens the stored model: no weight is fetched again.
    hub.requests.length = 0;
    await page.reload();
    await page.getByTestId('model-name').waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 300_000 }).toBe(ID);
    expect(hub.requests.filter((r) => r.includes('.safetensors'))).toEqual([]);
  });
});
