// Vision transformers in the page, as a person uses them, through a local server with the
// hub's URL layout (tiny random-weight checkpoints, made with transformers: test fixtures, not
// trained models): a ViT opened by id runs on the default image set (the setup step's
// photographs), its matrix draws; in a head, patch points are drawn as pieces of the images
// (pixels that come from the pictures, not the query/key colours); selecting a patch shows its
// image with that patch's attention as light, which follows the selected patch; the image
// corpus can be searched by name and replaced by uploaded images; a DeiT whose weights are only
// on a pull request's ref opens with that revision.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/models';
import { type HubServer, repoFromDir, startHubServer } from '../helpers/hubServer';
import { browserForFile } from './browser';
import { canvasPixels, canvasPoint, difference, findQueryDot, settled } from './canvas';
import { goToHead, openApp } from './helpers';
import { downloadAndRun, everyCellDrawn, lookUpModel } from './hubPage';

const baseURL = inject('baseURL');
const browser = browserForFile();
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');
const DEFAULT_IMAGES = JSON.parse(readFileSync(join(ROOT, 'public', 'images', 'default', 'index.json'), 'utf8')).images as { file: string }[];

let hub: HubServer;
beforeAll(async () => {
  const deit = repoFromDir(join(FIXTURES, 'tiny-deit'));
  const weights = new Map([['model.safetensors', deit.get('model.safetensors')!]]);
  deit.delete('model.safetensors');
  hub = await startHubServer({
    'qkviz-test/tiny-vit': { files: repoFromDir(join(FIXTURES, 'tiny-vit')) },
    // As many DeiT repositories: safetensors only on a pull request's ref.
    'qkviz-test/tiny-deit': { files: deit, pullRequest: { ref: 'refs/pr/1', files: new Map([...deit, ...weights]) } },
  });
});
afterAll(() => hub?.close());

/** The image view's canvas pixels, as a string to compare. */
const overlayPixels = (page: Page) =>
  page.getByTestId('image-attention').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).join(','));

describe('vision transformers', () => {
  it('opens a ViT by id on the default images: matrix, patch thumbnails in a head, and the selected patch’s attention over its image', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL);
    const plan = await lookUpModel(page, hub.url, 'qkviz-test/tiny-vit');
    expect(plan).toMatch(/ViTModel · 2 layers × 4 heads · [\d,]+ parameters \(F32\)/);
    await downloadAndRun(page, 'qkviz-test/tiny-vit');
    // The corpus card: images, 17 tokens each ([CLS] and a 4×4 grid of 8-pixel patches).
    const corpus = page.getByRole('region', { name: 'Corpus' });
    expect(await corpus.getByRole('heading').textContent()).toBe('Images');
    expect(await corpus.textContent()).toContain('This model reads 32×32 images as 4×4 patches of 8 pixels after 1 special token(s).');
    expect(await page.getByTestId('corpus-sentences').textContent()).toBe(String(DEFAULT_IMAGES.length));
    expect(await page.getByTestId('corpus-tokens').textContent()).toBe(`${17 * DEFAULT_IMAGES.length} tokens`);
    await everyCellDrawn(page, 2, 4);

    // In a head, patches drawn as thumbnails: the picture is more than the query/key colours.
    await goToHead(page, 1, 2);
    await settled(page);
    const [thumbs] = await canvasPixels(page);
    await page.getByLabel('as thumbnails').uncheck();
    await settled(page);
    const [dots] = await canvasPixels(page);
    expect(difference(thumbs.signature, dots.signature)).toBeGreaterThan(0.01);
    // Dots: nearly every lit pixel is a query or key colour; thumbnails: most are the images' own.
    const lit = (s: string) => [...s].filter((c, i) => i % 1 === 0 && c !== s[0]).length;
    expect(lit(thumbs.signature)).toBeGreaterThan(lit(dots.signature));
    await page.getByLabel('as thumbnails').check();
    await settled(page);
    await page.screenshot({ path: 'test-results/vision-head-thumbnails.png' });

    // Select a patch: its image with the patch's attention as light; another patch, another picture.
    await page.getByLabel('as thumbnails').uncheck();
    await settled(page);
    const dot = (await findQueryDot(page))!;
    await page.mouse.click(...(Object.values(await canvasPoint(page, dot)) as [number, number]));
    await page.getByTestId('image-attention').waitFor();
    await page.getByLabel('Hide [CLS] and renormalise').uncheck();
    const selection = (await page.getByTestId('selection-token').textContent())!;
    expect(selection).toMatch(/Selected (r\d+c\d+|\[CLS\]) \(query\), sentence \d+/);
    await expect.poll(() => page.getByTestId('sentence-weight').textContent()).toMatch(/light: attention α_ij from the selected patch/);
    const first = await overlayPixels(page);
    expect(new Set(first.split(',')).size).toBeGreaterThan(20);
    await expect.poll(() => page.getByTestId('image-specials').textContent()).toMatch(/^\[CLS\] \d+\.\d%$/);
    // Hiding [CLS] renormalises over the patches: the light changes.
    await page.getByLabel('Hide [CLS] and renormalise').check();
    await expect.poll(() => overlayPixels(page)).not.toBe(first);
    await page.getByLabel('Hide [CLS] and renormalise').uncheck();
    // Arrow keys step the head; the selection (and its image) stay, the light follows the head.
    await page.getByRole('button', { name: 'Next head' }).click();
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L1 H3');
    await expect.poll(() => overlayPixels(page)).not.toBe(first);
    await page.getByRole('region', { name: 'Selection' }).screenshot({ path: 'test-results/vision-image-attention.png' });
    // Another token selected (an image's [CLS] from the strip): the light follows it.
    const before = await overlayPixels(page);
    // The image strip: clicking an image selects its [CLS], highlighting all its patches; the image view shows it.
    const coffee = DEFAULT_IMAGES.findIndex((i) => i.file === 'coffee.png');
    await page
      .getByRole('region', { name: 'Images' })
      .getByRole('button', { name: /coffee\.png/ })
      .click();
    await expect.poll(() => page.getByTestId('selection-token').textContent()).toMatch(new RegExp(`Selected \\[CLS\\] \\(query\\), sentence ${coffee + 1},`));
    await expect.poll(() => page.locator('.image-attention .sentence-title').textContent()).toBe('coffee.png');
    await expect.poll(() => overlayPixels(page)).not.toBe(before);
    // Colour by each patch's own colour: neither query/key colours nor the thumbnails' frames.
    const [plain] = await canvasPixels(page);
    await page.getByLabel('Colour by').selectOption({ label: 'Patch colour' });
    await expect.poll(async () => difference((await canvasPixels(page))[0].signature, plain.signature)).toBeGreaterThan(0.01);
    await page.getByLabel('Colour by').selectOption('kind');

    // Search by image name: every patch of the matching image, as a query and as a key.
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await page.getByLabel('Search tokens').fill('chelsea');
    await expect.poll(() => page.getByTestId('search-results').textContent()).toBe(`${2 * 17} results`);
    await page.getByLabel('Search tokens').fill('');
    expect(errors).toEqual([]);
  });

  it('runs on uploaded images, refuses a file that is not one, and opens a DeiT from a pull request’s ref', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL);
    const plan = await lookUpModel(page, hub.url, 'qkviz-test/tiny-deit');
    // main has no weights: the page says so.
    expect(plan).toMatch(/no safetensors weights/);
    await page.getByLabel('Revision').fill('refs/pr/1');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('model-plan').waitFor();
    expect((await page.getByTestId('model-plan').innerText()).replace(/\s+/g, ' ')).toMatch(/DeiTModel · 2 layers × 4 heads/);
    await downloadAndRun(page, 'qkviz-test/tiny-deit');
    // [CLS], the distillation token and 16 patches.
    expect(await page.getByTestId('corpus-tokens').textContent()).toBe(`${18 * DEFAULT_IMAGES.length} tokens`);

    // Upload two images (and a text file, which is skipped with a word).
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-images-'));
    const files = ['coffee.png', 'rocket.jpg'].map((f) => {
      writeFileSync(join(dir, f), readFileSync(join(ROOT, 'public', 'images', 'default', f)));
      return join(dir, f);
    });
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    await page.getByLabel('Image files').setInputFiles([...files, join(dir, 'notes.txt')]);
    await expect.poll(() => page.getByTestId('corpus-sentences').textContent()).toBe('2');
    expect(await page.getByRole('region', { name: 'Corpus' }).textContent()).toContain('1 file(s) that are not images skipped');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForFunction(() => !document.querySelector('[aria-label="Run progress"]') && !!document.querySelector('[aria-label="Run summary"]'), null, {
      timeout: 120_000,
    });
    await expect.poll(() => page.getByLabel('Run summary').innerText()).toMatch(/36 tokens|2 images|2 sentences/);
    await everyCellDrawn(page, 2, 4);

    // A file that only claims to be an image: refused in words, nothing blank.
    writeFileSync(join(dir, 'broken.png'), 'not a png at all');
    await page.getByLabel('Image files').setInputFiles([join(dir, 'broken.png')]);
    await expect
      .poll(() => page.getByRole('region', { name: 'Corpus' }).getByRole('alert').textContent())
      .toMatch(/Cannot read broken\.png: it is not an image this browser decodes/);
    // The only failed requests: the weights the first look-up asked main for (they are on the pull request's ref).
    const commit = hub.commitOf('qkviz-test/tiny-deit');
    expect(errors.filter((e) => !e.includes(`/resolve/${commit}/model.safetensors`) && !/status of 404/.test(e))).toEqual([]);
  });
});
