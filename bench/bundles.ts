// Bundle benchmark: `qkviz bundle` on the default corpus repeated to about 5k, 24k and 100k
// tokens (PCA 3D of optimized vectors; the 100k one "views only", as a tab cannot hold its
// vectors): each bundle's size, the time from picking it in the page to the full PCA matrix,
// and that against the time making it took, in the same run. Then the CLI's extraction
// throughput on one core and on every core, for planning runs past one machine.
//   npm run build && npm run bench:bundles
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withApp } from './app';

const ROOT = resolve(import.meta.dirname, '..');
const PORT = Number(process.env.BENCH_PORT ?? 3919);
const dir = mkdtempSync(join(tmpdir(), 'qkviz-bench-bundles-'));
const lines = readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')
  .trim()
  .split('\n');
const cli = join(ROOT, 'scripts', 'qkviz.mjs');
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

/** Runs the CLI (optionally pinned to cores with taskset) and returns its log. */
function qkviz(args: string[], cores?: string): { log: string; seconds: number } {
  const started = performance.now();
  const r = cores
    ? spawnSync('taskset', ['-c', cores, process.execPath, cli, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qkviz ${args.join(' ')} failed:\n${r.stderr}`);
  return { log: r.stderr, seconds: (performance.now() - started) / 1000 };
}

function corpus(name: string, copies: number): string {
  const input = join(dir, `${name}.txt`);
  writeFileSync(input, `${Array.from({ length: Math.round(copies * lines.length) }, (_, i) => lines[i % lines.length]).join('\n')}\n`);
  return input;
}

const only = process.env.BENCH_ONLY?.split(',');
const made = (['5k', '24k', '100k'] as const)
  .filter((l) => !only || only.includes(l))
  .map((label) => {
    const [copies, contents] = label === '5k' ? [1, 'full'] : label === '24k' ? [4.6, 'full'] : [20, 'views'];
    const file = join(dir, `${label}.qkviz`);
    const { log, seconds } = qkviz(['bundle', '--input', corpus(label, copies), '--out', file, '--contents', contents]);
    const tokens = /sentences, ([\d]+) tokens/.exec(log)?.[1] ?? '?';
    return { label, file, tokens: Number(tokens), contents, bytes: statSync(file).size, makeS: seconds };
  });

await withApp(PORT, async (page, base) => {
  console.log('Bundles of the default corpus repeated (all-MiniLM-L6-v2, 72 heads, PCA 3D of optimized vectors), Chromium, software rendering:');
  for (const m of made) {
    await page.goto(`${base}/?device=wasm`);
    await page.getByTestId('model-name').waitFor();
    const start = await page.evaluate(() => performance.now());
    await page.getByTestId('bundle-file').setInputFiles(m.file);
    const end = await page
      .waitForFunction(
        () =>
          document.querySelector('[data-testid="result-source"]')?.textContent?.includes('from bundle') &&
          /PCA 72\/72 heads/.test(document.querySelector('[data-testid="projection-status"]')?.textContent ?? '') &&
          performance.now(),
        undefined,
        { timeout: 600_000, polling: 50 },
      )
      .then((h) => h.jsonValue() as Promise<number>);
    const openS = (end - start) / 1000;
    console.log(
      `  ${m.tokens.toLocaleString('en-US').padStart(7)} tokens (${m.contents.padEnd(5)}) ${mb(m.bytes).padStart(7)}   made by the CLI in ${m.makeS.toFixed(1).padStart(5)} s   picked → full matrix in ${openS.toFixed(2).padStart(5)} s   open ÷ make ${(openS / m.makeS).toFixed(3)}`,
    );
  }
});

// The CLI's extraction on one core against every core (onnxruntime-node's threads), same corpus.
const input = corpus('24k', 4.6);
const tokensPerSecond = (log: string) => Number(/\((\d+) tokens\/s\)/.exec(log)?.[1] ?? NaN);
const one = tokensPerSecond(qkviz(['extract', '--input', input, '--out', join(dir, 'x1')], '0').log);
const all = tokensPerSecond(qkviz(['extract', '--input', input, '--out', join(dir, 'xn')]).log);
const n = cpus().length;
console.log(
  `CLI extraction of the 24k corpus: ${one.toLocaleString('en-US')} tokens/s on 1 core, ${all.toLocaleString('en-US')} tokens/s on ${n} cores (${(all / one).toFixed(2)}× the single core)`,
);
rmSync(dir, { recursive: true, force: true });
