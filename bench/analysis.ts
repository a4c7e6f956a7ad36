// Analysis and pipeline benchmark, in Chromium (WASM): for the default corpus and ~23k tokens
// of long sentences (five licence texts, one paragraph a line), the run's own timings — the
// extraction stage (the model's calls, and each window written to the run store and added to
// every head's sums) and what follows it (each head read back, normalized, laid out) — and
// the time from pressing Run to the full PCA matrix (model loaded and warmed up first), as
// ratios of the extraction stage and of the model's own calls measured in the same run; then
// the time until every head's figures are in (scored after the matrix).
//   npm run build && npm run bench:analysis
import type { Page } from 'playwright-core';
import { pasteCorpus, withApp } from './app';
import { licenceCorpus } from './corpora';

const PORT = Number(process.env.BENCH_PORT ?? 3921);

const corpora = [
  { name: 'default corpus', text: null },
  { name: 'five licences, a paragraph a line', text: licenceCorpus() },
];

/** Waits for the model to be ready and the default corpus counted; pastes `text` unless it is that corpus. */
async function prepare(page: Page, text: string | null): Promise<void> {
  const counted = page.locator('[data-testid="corpus-tokens"][data-counted="yes"]');
  await page.getByTestId('prepared-device').waitFor({ timeout: 300_000 });
  await counted.waitFor({ timeout: 120_000 });
  if (text === null) return;
  await pasteCorpus(page, text, 120_000);
}

/** Runs the pasted corpus; seconds from the click to the full PCA matrix, and the run's own timings. */
async function run(page: Page): Promise<{ toMatrix: number; toFigures: number; extract: number; model: number; analyze: number; tokens: string }> {
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await run.waitFor();
  const clicked = await page.evaluate(() => performance.now());
  await run.click();
  const done = await page
    .waitForFunction(
      () =>
        /PCA 72\/72 heads/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? '') &&
        document.querySelector('[data-testid="timings"]') &&
        performance.now(),
      undefined,
      { timeout: 900_000, polling: 50 },
    )
    .then((h) => h.jsonValue() as Promise<number>);
  const timings = (await page.getByTestId('timings').textContent()) ?? '';
  const seconds = (label: string) => Number(new RegExp(`${label} ([\\d.]+) s`).exec(timings)?.[1]);
  const scored = await page
    .waitForFunction(
      () => /every head, every mode/.test(document.querySelector('[data-testid="scoring"]')?.textContent ?? '') && performance.now(),
      undefined,
      {
        timeout: 900_000,
        polling: 50,
      },
    )
    .then((h) => h.jsonValue() as Promise<number>);
  return {
    toMatrix: (done - clicked) / 1000,
    toFigures: (scored - clicked) / 1000,
    extract: seconds('extract'),
    model: seconds('model'),
    analyze: seconds('normalize'),
    tokens: (await page.getByTestId('corpus-tokens').textContent()) ?? '',
  };
}

console.log('Analysis and pipeline, Chromium, WASM (each row one run in a fresh browser profile):');
// BENCH_CORPUS=default|licences runs one corpus only.
for (const corpus of corpora.filter((c) => !process.env.BENCH_CORPUS || c.name.startsWith(process.env.BENCH_CORPUS === 'licences' ? 'five' : 'default'))) {
  for (let round = 1; round <= 2; round++) {
    await withApp(PORT, async (page, base) => {
      await page.goto(`${base}/?device=wasm`);
      await prepare(page, corpus.text);
      const r = await run(page);
      console.log(
        `  ${corpus.name} (${r.tokens}), run ${round}: extraction stage ${r.extract.toFixed(2)} s (the model's calls ${r.model.toFixed(2)} s) · ` +
          `after it ${r.analyze.toFixed(2)} s · Run → full PCA matrix ${r.toMatrix.toFixed(2)} s = ${(r.toMatrix / r.extract).toFixed(2)} × the extraction stage, ` +
          `${(r.toMatrix / r.model).toFixed(2)} × the model's calls · every head's figures ${r.toFigures.toFixed(2)} s after Run`,
      );
    });
  }
}
