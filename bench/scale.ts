// The models researchers study, measured: random-weight checkpoints with GPT-2 medium's,
// Qwen3-0.6B's and Llama-3.2-1B's configurations (transformers' own initialisation,
// scripts/make-scale-models.sh; benchmark fixtures, never trained) in the precision a tab
// would suggest for each. In the CLI (onnxruntime-node, each step a process of its own):
// conversion time and peak memory, the Q/K error of float16, 8-bit and 4-bit weights against
// float32, and for ~2k and ~20k tokens extraction tokens/s, the time to the full PCA matrix
// (extraction into a run store, normalization, first PCA view of every head) and peak memory.
// In Chromium (WASM): each model looked up by id through a local server with the hub's layout,
// downloaded, converted and opened in the tab (its time), then ~2k and ~20k tokens run:
// tokens/s, Run → full PCA matrix, and the tab's renderer RSS (peak).
//   npm run build && npm run bench:scale        (BENCH_MODELS=a,b  BENCH_TOKENS=2000,20000  BENCH_SKIP=cli|browser)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { defaultFormat, formatFits } from '../lib/model/fit';
import { TensorSource } from '../lib/model/tensors';
import { FORMAT_LABELS, type WeightFormat } from '../lib/model/weights';
import { modelSpec } from '../lib/model/architectures';
import { diskFile } from '../lib/node/convert';
import { loadTokenizer } from '../lib/model/tokenizer';
import { UNUSED_TENSORS } from '../lib/model/fit';
import { formatBytes, formatCount } from '../lib/util/format';
import { repoFromDir, startHubServer } from '../tests/helpers/hubServer';
import { pasteCorpus, withApp } from './app';
import { scaleCorpus } from './corpora';
import { SCALE_MODELS } from './scaleModels';

const ROOT = resolve(import.meta.dirname, '..');
const PORT = Number(process.env.BENCH_PORT ?? 3925);
const MODELS = (process.env.BENCH_MODELS ?? 'gpt2-medium-shape,qwen3-0.6b-shape,llama-3.2-1b-shape').split(',');
const TOKENS = (process.env.BENCH_TOKENS ?? '2000,20000').split(',').map(Number);
const SKIP = process.env.BENCH_SKIP ?? '';

if (!MODELS.every((m) => existsSync(join(SCALE_MODELS, m, 'model.safetensors')))) {
  console.log('making the random-weight checkpoints (scripts/make-scale-models.sh: torch and transformers, CPU)…');
  execFileSync('bash', [join(ROOT, 'scripts', 'make-scale-models.sh'), ...MODELS], { stdio: 'inherit' });
}

/** Runs bench/scale-cli.ts in a process of its own; its last line is JSON. */
function cli(...args: string[]): Record<string, unknown> {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bench', 'scale-cli.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`scale-cli ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** The precision the page suggests for a checkpoint, from its tensors' counts. */
async function suggested(model: string): Promise<{ format: WeightFormat; parameters: number }> {
  const dir = join(SCALE_MODELS, model);
  const source = await TensorSource.open([diskFile(join(dir, 'model.safetensors'))]);
  const spec = modelSpec(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const unused = source
    .names()
    .filter((n) => UNUSED_TENSORS.test(n))
    .reduce((a, n) => a + source.shape(n)!.reduce((x, y) => x * y, 1), 0);
  const parameters = source.counts().parameters - unused;
  return { format: defaultFormat(formatFits({ parameters, embedding: spec.vocabSize * spec.hidden }))!, parameters };
}

const s1 = (x: unknown) => Number(x).toFixed(1);
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};

const picks = new Map<string, { format: WeightFormat; parameters: number }>();
for (const model of MODELS) picks.set(model, await suggested(model));

if (!SKIP.includes('cli')) {
  say('CLI (onnxruntime-node, CPU, this machine), random-weight checkpoints of real configurations:');
  for (const model of MODELS) {
    const { format, parameters } = picks.get(model)!;
    const c = cli('convert', model, format);
    say(
      `  ${model} (${(parameters / 1e9).toFixed(2)}B used parameters) → ${FORMAT_LABELS[format]}: converted in ${s1(c.seconds)} s, peak ${formatCount(Number(c.peakMb))} MB, graph ${formatBytes(Number(c.bytes))}`,
    );
    for (const tokens of TOKENS) {
      const r = cli('run', model, format, String(tokens));
      say(
        `    ${formatCount(Number(r.tokens))} tokens: ${s1(r.tokensPerSecond)} tokens/s, extraction ${s1(r.extractSeconds)} s, full PCA matrix ${s1(r.matrixSeconds)} s (${(Number(r.matrixSeconds) / Number(r.extractSeconds)).toFixed(2)}× the extraction), peak ${formatCount(Number(r.peakMb))} MB (model open ${s1(r.openSeconds)} s)`,
      );
    }
    const q = cli('qk', model, 'float16', 'int8', 'int4');
    const errors = q.errors as Record<string, number>;
    say(
      `    Q/K against float32 (‖Δ‖ / ‖float32‖, 256 tokens): ${Object.entries(errors)
        .map(([f, e]) => `${FORMAT_LABELS[f as WeightFormat]} ${e.toExponential(1)}`)
        .join(', ')}`,
    );
  }
}

/** The tab's renderer: the renderer process with the most resident memory (others are spare or blank). */
function tabRss(pids: number[]): number {
  let best = 0;
  for (const pid of pids) {
    try {
      const line = readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('VmRSS:'));
      best = Math.max(best, line ? Number(line.split(/\s+/)[1]) * 1024 : 0);
    } catch {
      /* gone */
    }
  }
  return best;
}

const fullMatrix = (page: Page, timeout: number) =>
  page.waitForFunction(
    () => {
      const status = document.querySelector('[data-testid="projection-status"]')?.textContent ?? '';
      const m = /PCA (\d+)\/(\d+) heads/.exec(status);
      return (
        (!!m && m[1] === m[2] && !!document.querySelector('[data-testid="timings"]') && !document.querySelector('[aria-label="Run progress"]')) ||
        !!document.querySelector('[data-testid="run-error"]')
      );
    },
    undefined,
    { timeout, polling: 250 },
  );

if (!SKIP.includes('browser')) {
  const repos = Object.fromEntries(
    MODELS.map((m) => [`bench/${m}`, { files: repoFromDir(join(SCALE_MODELS, m), undefined, { onDisk: ['model.safetensors'] }) }]),
  );
  const hub = await startHubServer(repos);
  try {
    say('Chromium (WASM), each model opened by id in the tab:');
    for (const model of MODELS) {
      const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: SCALE_MODELS, name: model });
      await withApp(PORT, async (page, base) => {
        const browserCdp = await page
          .context()
          .browser()
          ?.newBrowserCDPSession()
          .catch(() => null);
        const renderers = async () => {
          const info = browserCdp ? await browserCdp.send('SystemInfo.getProcessInfo').catch(() => null) : null;
          return info ? (info.processInfo as { type: string; id: number }[]).filter((p) => p.type === 'renderer').map((p) => p.id) : [];
        };
        let peak = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            peak = Math.max(peak, tabRss(await renderers()));
            await new Promise((r) => setTimeout(r, 250));
          }
        })();
        try {
          await page.goto(`${base}/?device=wasm`);
          await page.getByTestId('prepared-device').waitFor({ timeout: 300_000 });
          await page.locator('[data-testid="corpus-tokens"][data-counted="yes"]').waitFor({ timeout: 120_000 });
          await pasteCorpus(page, 'A short sentence to open the model with.');
          const section = page.getByRole('region', { name: 'Model' });
          await section.getByRole('button', { name: 'Other models…' }).click();
          await section.getByText('Endpoint and access token').click();
          await section.getByLabel('Endpoint').fill(hub.url);
          await section.getByLabel('Hub id').fill(`bench/${model}`);
          await section.getByRole('button', { name: 'Look up' }).click();
          await page.getByTestId('model-plan').waitFor({ timeout: 60_000 });
          const installStarted = Date.now();
          await section.getByRole('button', { name: 'Download and open' }).click();
          await page.getByTestId('model-install').waitFor({ timeout: 60_000 });
          await page.getByTestId('model-install').waitFor({ state: 'detached', timeout: 3_600_000 });
          const installed = (Date.now() - installStarted) / 1000;
          const error = await page
            .locator('[data-testid="model-picker-error"]')
            .textContent({ timeout: 500 })
            .catch(() => null);
          if (error) throw new Error(`${model}: ${error}`);
          await fullMatrix(page, 3_600_000);
          const opened = (Date.now() - installStarted) / 1000;
          say(
            `  ${model} → ${FORMAT_LABELS[picks.get(model)!.format]}: download + conversion in the tab ${s1(installed)} s; opened and first run on screen ${s1(opened)} s after "Download and open"`,
          );
          for (const tokens of TOKENS) {
            peak = 0;
            await pasteCorpus(page, `${scaleCorpus(tokenizer, tokens).join('\n')}\n`);
            const counted = (await page.getByTestId('corpus-tokens').textContent()) ?? '';
            const started = Date.now();
            await page.getByRole('button', { name: 'Run', exact: true }).click();
            await page.getByLabel('Run progress').waitFor({ timeout: 60_000 });
            await fullMatrix(page, 3_600_000);
            const matrix = (Date.now() - started) / 1000;
            const runError = await page
              .locator('[data-testid="run-error"]')
              .textContent({ timeout: 500 })
              .catch(() => null);
            if (runError) throw new Error(`${model}, ${tokens} tokens: ${runError}`);
            const timings = ((await page.getByTestId('timings').textContent()) ?? '').replace(/\s+/g, ' ');
            const extract = Number(/extract ([\d.]+) s/.exec(timings)?.[1] ?? NaN);
            const rate = /\(([\d,.]+) tokens\/s/.exec(timings)?.[1] ?? '?';
            say(
              `    ${counted}: ${rate} tokens/s, Run → full PCA matrix ${s1(matrix)} s (${(matrix / extract).toFixed(2)}× the extraction stage, ${s1(extract)} s), tab renderer RSS peak ${formatCount(Math.round(peak / 2 ** 20))} MB`,
            );
          }
        } finally {
          sampling = false;
          await sampler;
        }
      });
    }
  } finally {
    await hub.close();
  }
}
