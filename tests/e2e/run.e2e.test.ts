// Running the real model in Chromium as a person would: the default corpus end to end on
// WASM, a few sentences on WebGPU (SwiftShader), cancel mid-run (the result on screen stays),
// and no request leaves the page's origin. Every figure checked is read off the page.
import { describe, expect, inject, it } from 'vitest';
import { browserForFile } from './browser';
import { corpusCounted, openApp, pasteCorpus, resultId, runToEnd, shownAttentionError, useDefaultCorpus } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();

const FEW = 'The brown capybara is sleeping now.\nShe fed it a slice of melon, and it ate the whole thing.\nWhy?';

describe('a run in the browser', () => {
  it('runs the default corpus on WASM and shows the summary, device, attention error, stages with ETA and the heads table', async () => {
    const { page, requests, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await corpusCounted(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    // The pipeline is visible while it runs, with its throughput and the time left.
    await page
      .getByTestId('progress-text')
      .filter({ hasText: /Extract Q\/K: [\d,]+ \/ 5,203 tokens/ })
      .waitFor({ timeout: 120_000 });
    await page
      .getByTestId('progress-eta')
      .filter({ hasText: /about \d+ s left/ })
      .waitFor({ timeout: 60_000 });
    await page.locator('[aria-label="Run summary"][data-result-id]').waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('summary-size').textContent()).toBe('5,203 tokens · 375 sentences · 72 heads (6 layers × 12)');
    expect(await page.getByLabel('Run summary').getByTestId('device-badge').textContent()).toMatch(/^WASM · \d+ threads?/);
    expect(await page.getByTestId('result-source').textContent()).toMatch(/Default corpus · computed just now/);
    const error = await shownAttentionError(page);
    console.log(`[qkviz] Chromium WASM: max attention error over the default corpus = ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(1e-5);

    await page.getByRole('button', { name: 'Heads table' }).click();
    const table = page.getByTestId('head-figures');
    expect(await table.locator('tbody tr').count()).toBe(72);
    expect(await page.getByTestId('improved-count').textContent()).toMatch(/^Optimized puts attended keys closer than raw .* on \d+ of 72 heads/);
    await page.screenshot({ path: 'test-results/run-default-wasm.png' });

    const origin = new URL(baseURL).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !/^(data|blob):/.test(u))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('runs a few sentences on WebGPU (SwiftShader adapter, chosen explicitly) with the same accuracy, naming the kernel stage', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=webgpu');
    await pasteCorpus(page, FEW);
    const stages: string[] = [];
    const watch = setInterval(
      () =>
        void page
          .getByTestId('progress-text')
          .textContent()
          .then(
            (t) => t && stages.push(t),
            () => {},
          ),
      200,
    );
    try {
      await runToEnd(page);
    } finally {
      clearInterval(watch);
    }
    expect(await page.getByLabel('Run summary').getByTestId('device-badge').textContent()).toBe('WebGPU');
    // Compiling the GPU kernels (slow on a software adapter) is a stage of its own; "Tokenize"
    // (loading the tokenizer and reading three sentences) is not a label left on screen while
    // kernels compile (it read so for 75 s once).
    console.log(`[qkviz] WebGPU stages seen: ${[...new Set(stages.map((s) => s.replace(/^Step \d\/\d · /, '').split(':')[0]))].join(' → ')}`);
    expect(stages.some((s) => s.includes('Preparing GPU kernels'))).toBe(true);
    expect(stages.filter((s) => s.includes('Tokenize')).length).toBeLessThanOrEqual(50);
    const error = await shownAttentionError(page);
    console.log(`[qkviz] Chromium WebGPU (SwiftShader): max attention error = ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(1e-5);
    expect(await page.getByTestId('summary-size').textContent()).toBe('33 tokens · 3 sentences · 72 heads (6 layers × 12)');
  });

  it('says so when WebGPU runs slower than WASM measured here, and switches to WASM in one click', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=webgpu');
    // Enough short sentences for three batches; WASM's rate here is known from the first test's run.
    await pasteCorpus(page, Array.from({ length: 150 }, (_, i) => `Line ${i}.`).join('\n'));
    await corpusCounted(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const slow = page.getByTestId('slow-device');
    await slow.waitFor({ timeout: 240_000 });
    console.log(`[qkviz] ${await slow.textContent()}`);
    expect(await slow.textContent()).toMatch(/^WebGPU runs at [\d,]+ tokens\/s here; WASM measured [\d,]+ tokens\/s on this machine\./);
    await page.getByRole('button', { name: 'Switch to WASM and restart' }).click();
    await page.getByLabel('Run summary').filter({ hasText: '150 sentences' }).waitFor({ timeout: 120_000 });
    expect(await page.getByLabel('Run summary').getByTestId('device-badge').textContent()).toMatch(/^WASM/);
    expect(await page.getByRole('radio', { name: 'WASM' }).isChecked()).toBe(true);
    await expect.poll(() => page.url()).toContain('device=wasm');
  });

  it('cancels during extraction within a second, keeps the result on screen, and a new run then succeeds', async () => {
    const { page } = browser();
    await openApp(page, baseURL, '?device=wasm');
    // A result on screen, which a cancelled run must leave there.
    await pasteCorpus(page, FEW);
    await runToEnd(page);
    const shownBefore = await resultId(page);
    await useDefaultCorpus(page);
    await corpusCounted(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page
      .getByTestId('progress-text')
      .filter({ hasText: /Extract Q\/K: [1-9][\d,]* \/ 5,203 tokens/ })
      .waitFor({ timeout: 120_000 });
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
    expect(await page.getByText('Run cancelled. The result on screen is kept.').count()).toBe(1);
    expect(await resultId(page)).toBe(shownBefore);
    await pasteCorpus(page, FEW.split('\n').reverse().join('\n'));
    await runToEnd(page);
    expect(await resultId(page)).not.toBe(shownBefore);
    expect(await page.getByTestId('summary-size').textContent()).toBe('33 tokens · 3 sentences · 72 heads (6 layers × 12)');
    expect(await shownAttentionError(page)).toBeLessThanOrEqual(1e-5);
  });
});
