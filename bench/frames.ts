// Matrix frame time in Chromium (software rendering here), at 1× and 4× the default corpus:
// runs each corpus on WASM, waits for every head's PCA layout, then orbits the matrix with the
// mouse and reads the frame time and the points drawn that the view writes on itself. Also
// draws every point (level of detail off) for the same orbit, as the baseline.
//   npm run build && npm run bench:frames
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { withApp } from './app';

const ROOT = resolve(import.meta.dirname, '..');
const PORT = Number(process.env.BENCH_PORT ?? 3919);
const ORBIT_STEPS = 40;
const sentences = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.trim());

async function paste(page: Page, text: string) {
  await page.getByRole('radio', { name: 'Paste', exact: true }).check();
  await page.getByLabel('Corpus text').evaluate((box: HTMLTextAreaElement, value) => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(box, value);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}

/** Orbits the matrix and returns the mean frame interval (ms) and the points drawn, read off the view. */
async function orbit(page: Page): Promise<{ frameMs: number; drawn: number; total: number }> {
  const view = page.getByTestId('matrix-view');
  const box = (await view.boundingBox())!;
  const frames = async () => Number(await view.getAttribute('data-frames'));
  const started = await frames();
  const t0 = Date.now();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= ORBIT_STEPS; i++) await page.mouse.move(box.x + box.width / 2 + 6 * i, box.y + box.height / 2 + 2 * Math.sin(i));
  await page.mouse.up();
  const ms = Date.now() - t0;
  const drawnFrames = (await frames()) - started;
  return {
    frameMs: ms / Math.max(1, drawnFrames),
    drawn: Number(await view.getAttribute('data-drawn-points')),
    total: Number(await view.getAttribute('data-total-points')),
  };
}

/** Runs a corpus on WASM and waits for every head's PCA layout (projections then stopped). */
async function runCorpus(page: Page, url: string, corpus: string[]) {
  await page.goto(url);
  await page.getByTestId('model-name').waitFor();
  await paste(page, corpus.join('\n'));
  await page.locator('[data-testid="corpus-tokens"][data-counted="yes"]').waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => /PCA \d+\/\d+ heads \(/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? ''), undefined, {
    timeout: 900_000,
    polling: 500,
  });
  await page.getByRole('button', { name: 'Stop projecting' }).click();
  // The run's cache write (a structured clone on the main thread) ends before the orbit is timed.
  await page.getByText('This run is saved to the cache once its PCA matrix is drawn.').waitFor({ state: 'detached', timeout: 300_000 });
  await page.waitForTimeout(1000);
}

await withApp(PORT, async (page, base) => {
  console.log('Matrix frame time while orbiting (Chromium, software rendering, 1280×720, PCA 3D):');
  for (const [label, corpus] of [
    ['default corpus (1×)', sentences],
    ['4× the default corpus', [0, 1, 2, 3].flatMap((k) => sentences.map((s) => (k ? `${s} (${k})` : s)))],
  ] as const) {
    // Baseline: every point drawn (?lod=off).
    await runCorpus(page, `${base}/?device=wasm&lod=off`, [...corpus]);
    await orbit(page);
    const all = await orbit(page);
    // Level of detail: the budget settles over the first orbits, then one is measured.
    await runCorpus(page, `${base}/?device=wasm`, [...corpus]);
    await page.evaluate(() => localStorage.removeItem('qkviz.pointBudget'));
    for (let i = 0; i < 3; i++) await orbit(page);
    const lod = await orbit(page);
    console.log(
      `  ${label}: every point (${all.total.toLocaleString('en-US')}) ${all.frameMs.toFixed(0)} ms a frame (${(1000 / all.frameMs).toFixed(1)} fps); ` +
        `level of detail ${lod.frameMs.toFixed(0)} ms (${(1000 / lod.frameMs).toFixed(1)} fps) drawing ${lod.drawn.toLocaleString('en-US')}; ${(all.frameMs / lod.frameMs).toFixed(1)}× faster`,
    );
  }
});
