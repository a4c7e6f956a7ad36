// Opening models by hub id in the page, through a local server with the hub's URL layout (its
// redirects, Range requests and refusals): a person types an id, reads the size and memory,
// downloads, and sees the model's matrix (pixels) — the real all-MiniLM-L6-v2 files the setup
// step fetched, a tiny random Llama with grouped keys (rotated and unrotated vectors), and
// random decoders with SmolLM2-135M's 30 × 9 and Qwen2.5-0.5B's 24 × 14 matrices. Stored models
// reopen after a reload without a download and can be deleted; a local folder opens the same
// way; an unknown repo, a gated one, a cut download and an unsupported architecture say so.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_SOURCE_DIR, ROOT, requireFile } from '../helpers/models';
import { type HubServer, repoFromDir, startHubServer } from '../helpers/hubServer';
import { QWEN25_SHAPE, SMOLLM2_SHAPE, shapedDecoder } from '../helpers/shapedDecoders';
import { defaultSentences } from '../helpers/extraction';
import { browserForFile } from './browser';
import { canvasPixels, matrixCells, settled } from './canvas';
import { goToHead, openApp, pasteCorpus, projectionStatus, shownAttentionError } from './helpers';
import { downloadAndRun, everyCellDrawn, lookUpModel, pointPageAtHub } from './hubPage';

const baseURL = inject('baseURL');
const browser = browserForFile();
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');
const CORPUS = defaultSentences().slice(0, 6).join('\n');
const SOURCE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

let hub: HubServer;

beforeAll(async () => {
  requireFile(join(DEFAULT_SOURCE_DIR, 'model.safetensors'));
  const t5 = repoFromDir(join(FIXTURES, 'tiny-gpt2'));
  t5.set('config.json', new TextEncoder().encode(JSON.stringify({ model_type: 't5', architectures: ['T5ForConditionalGeneration'] })));
  hub = await startHubServer({
    'sentence-transformers/all-MiniLM-L6-v2': { files: repoFromDir(DEFAULT_SOURCE_DIR, SOURCE_FILES) },
    'qkviz-test/tiny-llama': { files: repoFromDir(join(FIXTURES, 'tiny-llama')) },
    'qkviz-test/tiny-gpt2': { files: repoFromDir(join(FIXTURES, 'tiny-gpt2')) },
    'qkviz-test/smollm2-shape': { files: shapedDecoder(SMOLLM2_SHAPE) },
    'qkviz-test/qwen2.5-shape': { files: shapedDecoder(QWEN25_SHAPE) },
    'qkviz-test/gated': { files: repoFromDir(join(FIXTURES, 'tiny-gpt2')), token: 'hf_secret' },
    'qkviz-test/cut': { files: repoFromDir(join(FIXTURES, 'tiny-gpt2')), cutAlways: ['model.safetensors'] },
    'qkviz-test/t5': { files: t5 },
  });
});
afterAll(() => hub?.close());

const picker = (page: Page) => page.getByRole('region', { name: 'Model' });
const pointAtHub = (page: Page) => pointPageAtHub(page, hub.url);
const lookUp = (page: Page, id: string, token = '') => lookUpModel(page, hub.url, id, token);

describe('models by hub id', () => {
  it('opens a tiny Llama by id: size first, then its 2 × 4 matrix, rotated and unrotated vectors', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, CORPUS);
    const plan = await lookUp(page, 'qkviz-test/tiny-llama');
    expect(plan).toMatch(/LlamaModel · 2 layers × 4 heads \(2 key heads\) · [\d,]+ parameters \(F32\) · download \d+ KB/);
    // Each precision with its graph and tab memory; a model this small opens in float32.
    expect(plan).toMatch(/float32: \d+ KB graph, about \d+ MB of tab memory while opening \(exact\) · suggested/);
    expect(plan).toMatch(/4-bit: \d+ KB graph/);
    const summary = await downloadAndRun(page, 'qkviz-test/tiny-llama');
    expect(summary).toMatch(/8 heads \(2 layers × 4\)/);
    expect(await page.getByTestId('model-shape').textContent()).toMatch(/Llama · 2 layers × 4 heads \(2 key heads\) · head size 8 · causal/);
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
    await everyCellDrawn(page, 2, 4);
    expect(await page.getByTestId('rotary-note').textContent()).toMatch(/After the rotary rotation/);

    // Unrotated vectors: another run; attention is checked from the rotated vectors kept beside them.
    const before = await page.getByLabel('Run summary').getAttribute('data-result-id');
    await page.getByRole('radio', { name: 'Unrotated' }).check();
    await page.waitForFunction(
      (id) =>
        document.querySelector('[aria-label="Run summary"]')?.getAttribute('data-result-id') !== id && !document.querySelector('[aria-label="Run progress"]'),
      before,
      { timeout: 120_000 },
    );
    expect(await page.getByTestId('attention-error').textContent()).toMatch(
      /max error .* ✓ on \d+ sampled sentences \(from the rotated vectors kept beside the unrotated ones\)/,
    );
    expect(await page.getByTestId('rotary-note').textContent()).toMatch(/Before the rotary rotation/);
    await page.getByRole('radio', { name: 'Rotated', exact: true }).check();
    await expect.poll(() => page.getByTestId('attention-error').textContent(), { timeout: 120_000 }).toMatch(/max error/);

    // Stored: after a reload, ?model= opens it from the browser (no weights requested again).
    expect(await picker(page).getByRole('list', { name: 'Models in this browser' }).innerText()).toContain('qkviz-test/tiny-llama');
    hub.requests.length = 0;
    await page.goto(`${baseURL}/?model=qkviz-test/tiny-llama`);
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 30_000 }).toBe('qkviz-test/tiny-llama');
    await page.getByLabel('Run summary').waitFor({ timeout: 60_000 });
    expect(hub.requests.filter((r) => r.includes('safetensors'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('opens the real all-MiniLM-L6-v2 files by id and shows its 6 × 12 matrix', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, CORPUS);
    const plan = await lookUp(page, 'sentence-transformers/all-MiniLM-L6-v2');
    expect(plan).toMatch(/BertModel · 6 layers × 12 heads · 22\.7M parameters \(F32\) · download 87 MB/);
    const summary = await downloadAndRun(page, 'sentence-transformers/all-MiniLM-L6-v2');
    expect(summary).toMatch(/72 heads \(6 layers × 12\)/);
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
    await everyCellDrawn(page, 6, 12);
  });

  it.each([
    ['qkviz-test/smollm2-shape', SMOLLM2_SHAPE],
    ['qkviz-test/qwen2.5-shape', QWEN25_SHAPE],
  ] as const)('lays out, labels and projects %s (random weights, a real model’s matrix shape)', async (id, shape) => {
    const { page } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, CORPUS);
    expect(await lookUp(page, id)).toContain(`${shape.layers} layers × ${shape.heads} heads (${shape.kvHeads} key heads)`);
    const summary = await downloadAndRun(page, id);
    expect(summary).toContain(`${shape.layers * shape.heads} heads (${shape.layers} layers × ${shape.heads})`);
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
    await expect.poll(() => projectionStatus(page), { timeout: 120_000 }).toMatch(new RegExp(`PCA ${shape.layers * shape.heads}/`));
    await settled(page);
    await page.screenshot({ path: join(ROOT, 'test-results', `matrix-${id.split('/')[1]}.png`) });
    await everyCellDrawn(page, shape.layers, shape.heads);
    // The last head flies in like any other, with its query and key cloud.
    await goToHead(page, shape.layers - 1, shape.heads - 1);
    await settled(page);
    const [head] = await canvasPixels(page);
    expect(head.query).toBeGreaterThan(50);
    expect(head.key).toBeGreaterThan(50);
  });

  it('opens a local folder, and deletes a stored model', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    await pasteCorpus(page, CORPUS);
    await pointAtHub(page);
    await page.getByTestId('model-folder').setInputFiles(join(FIXTURES, 'tiny-gpt2'));
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="model-name"]')?.textContent === 'tiny-gpt2' &&
        !!document.querySelector('[aria-label="Run summary"]') &&
        !document.querySelector('[aria-label="Run progress"]'),
      null,
      { timeout: 120_000 },
    );
    expect(await page.getByTestId('model-shape').textContent()).toMatch(/GPT-2 · 2 layers × 4 heads · head size 8 · causal/);
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
    await everyCellDrawn(page, 2, 4);

    const list = picker(page).getByRole('list', { name: 'Models in this browser' });
    expect(await list.innerText()).toContain('tiny-gpt2');
    await list.getByRole('button', { name: 'Delete tiny-gpt2' }).click();
    await expect.poll(() => list.innerText()).not.toContain('tiny-gpt2');
    // Deleting the model on screen goes back to the site's default.
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 30_000 }).toBe('all-MiniLM-L6-v2');
  });

  it('says what went wrong: unknown repo, gated without and with a token, a cut download, an unsupported architecture', async () => {
    const { page } = browser();
    await openApp(page, baseURL);
    expect(await lookUp(page, 'nobody/no-such-model')).toMatch(/There is no model "nobody\/no-such-model"/);
    expect(await lookUp(page, 'qkviz-test/gated')).toMatch(/"qkviz-test\/gated" is gated: accept its terms .* access token/);
    expect(await lookUp(page, 'qkviz-test/gated', 'hf_wrong')).toMatch(/token has no access/);
    expect(await lookUp(page, 'qkviz-test/gated', 'hf_secret')).toMatch(/GPT2Model · 2 layers × 4 heads/);
    expect(await lookUp(page, 'qkviz-test/t5')).toMatch(
      /model_type "t5" \(T5ForConditionalGeneration\) is not supported\. QKViz converts: bert, roberta, .*distilbert, gpt2, llama, qwen2, qwen3, mistral, gemma, .*phi3, gpt_neox, opt, vit, deit, dinov2, dinov2_with_registers, clip, clip_vision_model\./,
    );
    expect(await lookUp(page, 'qkviz-test/cut', '')).toMatch(/GPT2Model/);
    await picker(page).getByRole('button', { name: 'Download and open' }).click();
    const error = picker(page).getByTestId('model-picker-error');
    await error.waitFor({ timeout: 60_000 });
    expect(await error.textContent()).toMatch(/download of qkviz-test\/cut\/model\.safetensors stopped at .* of .* after 4 tries/);
    // Nothing half-downloaded was stored, and the model on screen is still the default.
    expect(await page.getByTestId('model-name').textContent()).toBe('all-MiniLM-L6-v2');
  });
});
