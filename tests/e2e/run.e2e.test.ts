// Running the real model in Chromium as a person would: the default corpus end to end on
// WASM, a few sentences on WebGPU (SwiftShader), cancel mid-run, and no request leaves
// the page's origin. Every figure checked is read off the page.
import { describe, expect, inject, it } from 'vitest';
import { browserForFile } from './browser';
import { openApp, pasteCorpus, runToEnd, shownAttentionError } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();

const FEW = 'The brown capybara is sleeping now.\nShe fed it a slice of melon, and it ate the whole thing.\nWhy?';

describe('a run in the browser', () => {
  it('runs the default corpus on WASM and shows the summary, device, attention error and per-head table', async () => {
    const { page, requests, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await page.getByTestId('corpus-tokens').filter({ hasText: 'with' }).waitFor({ timeout: 60_000 });
    const runButton = page.getByRole('button', { name: 'Run' });
    await runButton.click();
    // The pipeline is visible while it runs.
    await page.getByText(/Extract Q\/K: [\d,]+ \/ 5,203 tokens/).waitFor({ timeout: 120_000 });
    const summary = page.getByLabel('Run summary');
    await summary.waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('summary-size').textContent()).toBe('5,203 tokens · 375 sentences · 72 heads (6 layers × 12)');
    expect(await page.getByTestId('device-badge').textContent()).toMatch(/^WASM · \d+ threads?/);
    const error = await shownAttentionError(page);
    console.log(`[qkviz] Chromium WASM: max attention error over the default corpus = ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(1e-5);
    const table = page.getByLabel('Per-head figures', { exact: true });
    expect(await table.locator('tbody tr').count()).toBe(6);
    expect(await table.locator('tbody td').count()).toBe(72);
    expect(await page.getByTestId('improved-count').textContent()).toMatch(/Optimized is better than raw \(lower\) on \d+ of 72 heads/);
    await page.screenshot({ path: 'test-results/run-default-wasm.png', fullPage: true });

    const origin = new URL(baseURL).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !/^(data|blob):/.test(u))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('runs a few sentences on WebGPU (SwiftShader adapter) with the same accuracy', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=webgpu');
    await pasteCorpus(page, FEW);
    await runToEnd(page);
    expect(await page.getByTestId('device-badge').textContent()).toBe('WebGPU');
    const error = await shownAttentionError(page);
    console.log(`[qkviz] Chromium WebGPU (SwiftShader): max attention error = ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(1e-5);
    expect(await page.getByTestId('summary-size').textContent()).toBe('33 tokens · 3 sentences · 72 heads (6 layers × 12)');
  });

  it('cancels during extraction within a second, and a new run then succeeds', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await page.getByTestId('corpus-tokens').filter({ hasText: 'with' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByText(/Extract Q\/K: [1-9][\d,]* \/ 5,203 tokens/).waitFor({ timeout: 120_000 });
    // Measured inside the page, from the click to the message a person reads.
    const elapsed = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const started = performance.now();
          const done = () => document.body.innerText.includes('Run cancelled');
          const observer = new MutationObserver(() => {
            if (done()) {
              observer.disconnect();
              resolve(performance.now() - started);
            }
          });
          observer.observe(document.body, { childList: true, subtree: true, characterData: true });
          (Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Cancel') as HTMLButtonElement).click();
        }),
    );
    console.log(`[qkviz] cancel took ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(await page.getByLabel('Run summary').count()).toBe(0);
    await pasteCorpus(page, FEW);
    await runToEnd(page);
    expect(await page.getByTestId('summary-size').textContent()).toBe('33 tokens · 3 sentences · 72 heads (6 layers × 12)');
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
  });
});
