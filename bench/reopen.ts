// Reopening benchmark, in one Chromium page (WASM): the time from page load to the full PCA
// matrix on a first visit (press Run as soon as it is enabled, model run included) and on a
// reload of the same corpus (the run and the layouts come from the browser's cache), and
// their ratio. Times are read inside the page (performance.now() from navigation start).
//   npm run build && npm run bench:reopen
import type { Page } from 'playwright-core';
import { withApp } from './app';

const PORT = Number(process.env.BENCH_PORT ?? 3918);

/** Milliseconds from navigation start until the status line says every head's PCA layout is drawn. */
const fullMatrixAt = (page: Page) =>
  page
    .waitForFunction(
      () => /PCA 72\/72 heads/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? '') && performance.now(),
      undefined,
      { timeout: 600_000, polling: 50 },
    )
    .then((h) => h.jsonValue() as Promise<number>);

await withApp(PORT, async (page, base) => {
  await page.goto(`${base}/?device=wasm`);
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await run.click();
  const first = await fullMatrixAt(page);
  const extract = await page.getByTestId('timings').textContent();
  // Let the run's cache write finish before reloading.
  await page.getByTestId('cache-usage').filter({ hasText: /1 run/ }).waitFor({ timeout: 120_000 });
  await page.reload();
  const reopened = await fullMatrixAt(page);
  const source = await page.getByTestId('result-source').textContent();
  console.log('Reopening the default corpus (375 sentences, 5,203 tokens, 72 heads), Chromium, WASM, one page:');
  console.log(`  first visit: page load → Run → full PCA matrix   ${(first / 1000).toFixed(2)} s   (${extract})`);
  console.log(`  reload:      page load → full PCA matrix         ${(reopened / 1000).toFixed(2)} s   (${source})`);
  console.log(`  reload ÷ first run: ${(reopened / first).toFixed(3)}  (${(first / reopened).toFixed(1)}× faster)`);
});
