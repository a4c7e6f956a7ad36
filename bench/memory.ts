// Tab memory of a ~23k-token run (five licence texts, a paragraph a line) in Chromium, WASM:
// sampled every 250 ms from Run until the full PCA matrix and 5 s after — JS heap plus
// ArrayBuffer/WebAssembly memory of the page and every worker (CDP Runtime.getHeapUsage on
// each target, bench/heapUsage.ts), and the resident memory of the renderer process (from
// /proc, process ids from CDP's SystemInfo), which adds Chromium's own (rendering, code).
// Prints the peaks, who held what at the peak, and the figure the corpus card predicted.
//   npm run build && npm run bench:memory
import { readFileSync } from 'node:fs';
import { withApp } from './app';
import { licenceCorpus } from './corpora';
import { HeapUsage } from './heapUsage';

const PORT = Number(process.env.BENCH_PORT ?? 3923);
const MB = 1024 * 1024;

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

await withApp(PORT, async (page, base) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const browserCdp = await page
    .context()
    .browser()
    ?.newBrowserCDPSession()
    .catch(() => null);
  const heaps = await HeapUsage.attach(cdp);
  await page.goto(`${base}/?device=wasm`);
  await page.getByTestId('prepared-device').waitFor({ timeout: 300_000 });
  await page.locator('[data-testid="corpus-tokens"][data-counted="yes"]').waitFor({ timeout: 120_000 });
  await page.getByRole('radio', { name: 'Paste', exact: true }).check();
  await page.getByLabel('Corpus text').evaluate((box: HTMLTextAreaElement, value) => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(box, value);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, licenceCorpus());
  await page.waitForFunction(() => /23,153/.test(document.querySelector('[data-testid="corpus-tokens"][data-counted="yes"]')?.textContent ?? ''), undefined, {
    timeout: 120_000,
  });
  const card =
    (await page
      .getByTestId('corpus-estimate')
      .textContent()
      .catch(() => null)) ?? '';

  // Renderer processes: from CDP where the browser session allows it, else every renderer on the machine's /proc.
  const renderers = async (): Promise<number[]> => {
    const info = browserCdp ? await browserCdp.send('SystemInfo.getProcessInfo').catch(() => null) : null;
    if (info) return (info.processInfo as { type: string; id: number }[]).filter((p) => p.type === 'renderer').map((p) => p.id);
    return [];
  };
  let peakHeap = 0;
  let peakRss = 0;
  let peakTotal = 0;
  let atPeak = new Map<string, number>();
  const targetPeaks = new Map<string, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const metrics = (await cdp.send('Performance.getMetrics')).metrics as { name: string; value: number }[];
      peakHeap = Math.max(peakHeap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
      peakRss = Math.max(
        peakRss,
        (await renderers()).reduce((n, pid) => n + rssOf(pid), 0),
      );
      const sample = await heaps.sample();
      if (sample.total > peakTotal) {
        peakTotal = sample.total;
        atPeak = sample.byTarget;
      }
      for (const [name, bytes] of sample.byTarget) targetPeaks.set(name, Math.max(targetPeaks.get(name) ?? 0, bytes));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(
    () =>
      /PCA 72\/72 heads \(/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? '') &&
      document.querySelector('[data-testid="timings"]'),
    undefined,
    { timeout: 900_000, polling: 250 },
  );
  await page
    .getByRole('button', { name: 'Stop projecting' })
    .click()
    .catch(() => {});
  await page.waitForTimeout(5000);
  sampling = false;
  await sampler;
  console.log('Tab memory, five licences (23,153 tokens, 72 heads), Chromium, WASM, Run → full PCA matrix + 5 s:');
  console.log(`  JS heap + ArrayBuffers + WebAssembly memory, page and all workers (CDP Runtime.getHeapUsage): peak ${Math.round(peakTotal / MB)} MB`);
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
  console.log(`  page JS heap alone (CDP Performance.getMetrics, main thread): peak ${Math.round(peakHeap / MB)} MB`);
  console.log(`  renderer processes' resident memory (page, workers, typed arrays): peak ${peakRss ? `${Math.round(peakRss / MB)} MB` : 'not readable here'}`);
  if (card) console.log(`  the corpus card predicted: ${card}`);
});
