// Tab memory of all-MiniLM-L6-v2 runs in Chromium (WASM), at about 20k tokens (five licence
// texts, a paragraph a line: long sentences) and about 200k tokens (the default corpus forty
// times over), each in a fresh profile: sampled every 250 ms from Run until the full PCA
// matrix, every head's figures and 5 s after — the resident memory of the tab's renderer
// process (page and workers, the renderer with the most memory: what the issue calls tab RSS, from /proc, process ids from CDP's
// SystemInfo), and JS heap plus ArrayBuffer/WebAssembly memory of the page and every worker
// (CDP Runtime.getHeapUsage on each target, bench/heapUsage.ts). Prints the peaks, who held
// what at the peak, the run store's size on disk and the figure the corpus card predicted.
//   npm run build && npm run bench:memory          (BENCH_CORPUS=20k|200k runs one)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pasteCorpus, withApp } from './app';
import { licenceCorpus } from './corpora';
import { HeapUsage } from './heapUsage';

const PORT = Number(process.env.BENCH_PORT ?? 3923);
const MB = 1024 * 1024;
const ROOT = resolve(import.meta.dirname, '..');

const rssOf = (pid: number): number => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

const defaultCorpus = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8').trim();
const corpora = [
  { name: '20k', label: 'five licences (~23k tokens, long sentences)', text: licenceCorpus() },
  { name: '200k', label: 'the default corpus ×40 (~208k tokens)', text: `${Array(40).fill(defaultCorpus).join('\n')}\n` },
].filter((c) => !process.env.BENCH_CORPUS || c.name === process.env.BENCH_CORPUS);

for (const corpus of corpora) {
  await withApp(PORT, async (page, base) => {
    const cdp = await page.context().newCDPSession(page);
    const browserCdp = await page
      .context()
      .browser()
      ?.newBrowserCDPSession()
      .catch(() => null);
    const heaps = await HeapUsage.attach(cdp);
    await page.goto(`${base}/?device=wasm`);
    await page.getByTestId('prepared-device').waitFor({ timeout: 300_000 });
    await page.locator('[data-testid="corpus-tokens"][data-counted="yes"]').waitFor({ timeout: 120_000 });
    await pasteCorpus(page, corpus.text, 600_000);
    const tokens = (await page.getByTestId('corpus-tokens').textContent()) ?? '';
    // The card's text as read, the float32/float16 choice as its value.
    const card =
      (await page
        .getByTestId('corpus-estimate')
        .evaluate((el) => {
          const copy = el.cloneNode(true) as HTMLElement;
          const choice = el.querySelector('select')?.value ?? '';
          copy.querySelector('select')?.replaceWith(choice);
          return copy.textContent;
        })
        .catch(() => null)) ?? '';

    // Renderer processes: from CDP where the browser session allows it.
    const renderers = async (): Promise<number[]> => {
      const info = browserCdp ? await browserCdp.send('SystemInfo.getProcessInfo').catch(() => null) : null;
      return info ? (info.processInfo as { type: string; id: number }[]).filter((p) => p.type === 'renderer').map((p) => p.id) : [];
    };
    let peakRss = 0;
    let peakTotal = 0;
    let atPeak = new Map<string, number>();
    const targetPeaks = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // The tab's renderer (page and its workers): the renderer with the most resident memory;
        // the others are Chromium's spare and blank-page renderers.
        peakRss = Math.max(peakRss, ...(await renderers()).map(rssOf));
        const sample = await heaps.sample();
        if (sample.total > peakTotal) {
          peakTotal = sample.total;
          atPeak = sample.byTarget;
        }
        for (const [name, bytes] of sample.byTarget) targetPeaks.set(name, Math.max(targetPeaks.get(name) ?? 0, bytes));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const started = Date.now();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForFunction(
      () =>
        /PCA 72\/72 heads \(/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? '') &&
        document.querySelector('[data-testid="timings"]'),
      undefined,
      { timeout: 3_600_000, polling: 500 },
    );
    const matrixAt = (Date.now() - started) / 1000;
    await page
      .getByRole('button', { name: 'Stop projecting' })
      .click()
      .catch(() => {});
    await page.waitForFunction(() => /every head, every mode/.test(document.querySelector('[data-testid="scoring"]')?.textContent ?? ''), undefined, {
      timeout: 3_600_000,
      polling: 500,
    });
    const figuresAt = (Date.now() - started) / 1000;
    await page.waitForTimeout(5000);
    sampling = false;
    await sampler;
    const disk = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    const timings = (await page.getByTestId('timings').textContent()) ?? '';
    console.log(
      `Tab memory, ${corpus.label}: ${tokens}, 72 heads, Chromium, WASM — Run → full PCA matrix ${matrixAt.toFixed(0)} s, every head's figures ${figuresAt.toFixed(0)} s:`,
    );
    console.log(`  the tab's renderer process, resident (page and workers): peak ${peakRss ? `${Math.round(peakRss / MB)} MB` : 'not readable here'}`);
    console.log(`  JS heap + ArrayBuffers + WebAssembly memory, page and all workers (CDP): peak ${Math.round(peakTotal / MB)} MB`);
    console.log(
      `    at that peak: ${[...atPeak]
        .sort((a, b) => b[1] - a[1])
        .map(([n, b]) => `${n} ${Math.round(b / MB)} MB`)
        .join(', ')}`,
    );
    console.log(
      `    each one's own peak: ${[...targetPeaks]
        .sort((a, b) => b[1] - a[1])
        .map(([n, b]) => `${n} ${Math.round(b / MB)} MB`)
        .join(', ')}`,
    );
    console.log(`  this origin's storage in use after the run (the run store): ${Math.round(disk / MB)} MB`);
    console.log(`  the run's timings: ${timings}`);
    if (card) console.log(`  the corpus card predicted: ${card}`);
  });
}
