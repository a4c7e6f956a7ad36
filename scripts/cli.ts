// The qkviz command line: the same lib/ engine as the browser, on onnxruntime-node.
//   qkviz extract --input corpus.txt --out DIR [--model DIR | --model-id ID [--revision REV]] [--rotary post|pre] [--attention]
//   qkviz bundle --input corpus.txt --out NAME.qkviz [--model DIR | --model-id ID] [--methods pca,umap] [--dims 2,3]
//   qkviz project --in DIR --method pca|umap --dims 2|3 --mode raw|paper|optimized --out DIR
//   qkviz figures --in DIR [--out figures.csv]
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareCorpus, runIntoStore } from '../lib/run/pipeline';
import { formatCount } from '../lib/util/format';
import { checkAttention } from '../lib/analysis/attentionCheck';
import { extractionFiles } from '../lib/run/exportFiles';
import { extractQueryKeys } from '../lib/engine/extract';
import { corpusFormatOf, parseCorpus } from '../lib/corpus/parse';
import { openNodeModel } from '../lib/node/model';
import { hubModelFolder } from '../lib/node/hub';
import { normalizeRepoId } from '../lib/model/hub';
import { WEIGHT_FORMATS, type WeightFormat } from '../lib/model/weights';
import type { RotaryVectors } from '../lib/data/layout';
import { analyzeHeads, headInputs, headSums, improvementSummary } from '../lib/analysis/analyze';
import { attentionDistances, geometryDistances } from '../lib/analysis/headSimilarity';
import { type BundleLayout, type BundleSource, planRunBundle } from '../lib/run/bundleRun';
import type { BundlePlan } from '../lib/io/bundle';
import { FileStore } from '../lib/node/fileStore';
import type { RunReader } from '../lib/store/runStore';
import { pendingAnalysis, withScores } from '../lib/run/stored';
import { scoreStoredRun } from '../lib/run/score';
import { estimateRunBytes } from '../lib/run/plan';
import { formatBytes } from '../lib/util/format';
import { MAX_RESULT_BYTES } from '../lib/engine/limits';
import type { RunResult } from '../lib/run/types';
import { headFiguresCsv } from '../lib/views/headFigures';
import { type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode } from '../lib/analysis/normalize';
import { readExtractionFiles } from '../lib/run/exportFiles';
import { COORDS_LAYOUT, coordsNpy } from '../lib/io/coords';
import { decodeNpy, encodeNpy } from '../lib/io/npy';
import type { Metric } from '../lib/projection/knn';
import { DEFAULT_PROJECTION, type ProjectionMethod, type ProjectionParams, projectHeadVectors, umapEpochs } from '../lib/projection/project';
import { headVectors } from '../lib/data/layout';

const ROOT = resolve(import.meta.dirname, '..');
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const DEFAULT_MODEL_DIR = join(ROOT, 'public', 'models', 'all-MiniLM-L6-v2');
/** Converted hub models, by repository and commit ($QKVIZ_HUB_CACHE moves it). */
const HUB_CACHE = process.env.QKVIZ_HUB_CACHE ?? join(ROOT, '.cache', 'hub');

const USAGE = `usage:
  qkviz extract --input corpus.txt|corpus.jsonl --out DIR [--model DIR | --model-id ID [--revision REV]
                [--weights float32|float16|int8|int4]] [--rotary post|pre] [--attention] [--quiet]
      Writes tokens.json, queries.npy, keys.npy and value_norms.npy (each head's ‖v·W_O,h‖ per token) to
      DIR (see docs/cli.md); --attention adds attention.npy,
      the model's own attention for every sentence (otherwise it is asked for on a sample, to
      check the attention recomputed from Q/K). --model-id fetches a Hugging Face model
      (HF_ENDPOINT, HF_TOKEN honoured; cached under .cache/hub), converted streaming in --weights
      precision (float32 by default; 8-/4-bit weights for MatMulNBits). Rotary models: vectors after the
      rotation by default, --rotary pre for before it (the rotated ones go to rotated_*.npy).
  qkviz bundle --input corpus.txt --out NAME.qkviz [--model DIR | --model-id ID] [--methods pca,umap]
               [--dims 2,3] [--mode optimized] [--float16] [--contents full|views] [--quiet]
      One file the page opens with no model run: tokens, Q/K, figures, layouts, head
      similarities, the model card (see docs/bundles.md).
  qkviz project --in DIR --method pca|umap --dims 2|3 --mode raw|paper|optimized [--seed N]
                [--metric euclidean|cosine] [--epochs N] --out DIR [--quiet]
      Reads an extract DIR; writes coords.npy [layers, heads, 2N, dims] and projection.json.
  qkviz figures --in DIR [--out figures.csv] [--quiet]
      Scores every head raw and under both normalizations; prints how many heads each mode
      improves per figure (and the median change) and writes the per-head CSV the app exports.`;

/** The options extract and bundle share: the corpus, the model (a folder or a hub id) and rotary vectors. */
const MODEL_OPTIONS = {
  input: { type: 'string' },
  model: { type: 'string' },
  'model-id': { type: 'string' },
  revision: { type: 'string' },
  weights: { type: 'string', default: 'float32' },
  rotary: { type: 'string', default: 'post' },
  quiet: { type: 'boolean', default: false },
} as const;

interface ModelValues {
  input?: string;
  model?: string;
  'model-id'?: string;
  revision?: string;
  weights?: string;
  rotary?: string;
  quiet?: boolean;
}

/** Reads the corpus and opens the model; the corpus as the model reads it (the page's own checks, without its memory limit). */
async function openCorpus(values: ModelValues, log: (m: string) => void) {
  if (values.model && values['model-id']) throw new Error('give --model DIR or --model-id ID, not both');
  if (values.rotary !== 'post' && values.rotary !== 'pre') throw new Error(`--rotary must be post or pre, not ${values.rotary}`);
  const rotary = values.rotary as RotaryVectors;
  const parsed = parseCorpus(readFileSync(values.input!, 'utf8'), corpusFormatOf(values.input!));
  if (parsed.blankLines) log(`skipped ${parsed.blankLines} blank line(s)`);
  for (const r of parsed.rejected) log(`line ${r.line} skipped: ${r.reason}`);
  const format = (values.weights ?? 'float32') as WeightFormat;
  if (!WEIGHT_FORMATS.includes(format)) throw new Error(`--weights must be one of ${WEIGHT_FORMATS.join(', ')}, not ${values.weights}`);
  if (format !== 'float32' && !values['model-id'])
    throw new Error('--weights applies to a model converted from the hub (--model-id); a --model folder keeps the precision it was converted in');
  const modelDir = values['model-id']
    ? await hubModelFolder(normalizeRepoId(values['model-id']), { revision: values.revision, cacheRoot: HUB_CACHE, format, log })
    : (values.model ?? DEFAULT_MODEL_DIR);
  const model = await openNodeModel(modelDir);
  const { manifest } = model;
  if (rotary === 'pre' && !manifest.rotary)
    throw new Error(`--rotary pre needs a model with rotary positions; ${manifest.name} (${manifest.architecture ?? manifest.modelType}) has none`);
  const corpus = prepareCorpus(model.tokenizer, parsed.sentences, manifest, Number.POSITIVE_INFINITY);
  corpus.notices.forEach(log);
  log(`${manifest.name}: ${corpus.sentences.length} sentences, ${corpus.tokenCount} tokens on ${model.runner.report.device}`);
  return { model, manifest, corpus, rotary: manifest.rotary ? rotary : undefined, sentences: parsed.sentences };
}

/** "extracted in 2.1 s (2,480 tokens/s)". */
const rateOf = (tokens: number, ms: number) => `${(ms / 1000).toFixed(2)} s (${formatCount(Math.round(tokens / (ms / 1000)))} tokens/s)`;

async function extract(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...MODEL_OPTIONS, out: { type: 'string' }, attention: { type: 'boolean', default: false } } });
  if (!values.input || !values.out) throw new Error(`extract needs --input and --out\n${USAGE}`);
  const log = (m: string) => !values.quiet && console.error(`[qkviz] ${m}`);
  const { model, manifest, corpus, rotary } = await openCorpus(values, log);
  const started = performance.now();
  // --attention: the model's own attention for every sentence (attention.npy); else for the checked sample.
  const sample = values.attention ? Int32Array.from(corpus.sentences, (_, s) => s) : undefined;
  const data = await extractQueryKeys(model.runner, manifest.name, manifest, corpus, { rotary, sample });
  const extractMs = performance.now() - started;
  await model.runner.release();
  const check = checkAttention(data);
  log(
    `extracted in ${rateOf(corpus.tokenCount, extractMs)}; max |attention from Q/K − model attention| = ${check.maxAbsError.toExponential(2)} ` +
      `over ${data.attentionSample.sentences.length} sentence(s)${data.rotary === 'pre' ? ' (from the rotated vectors, rotated_*.npy)' : ''}`,
  );
  mkdirSync(values.out, { recursive: true });
  const files = extractionFiles(data, manifest.architecture ?? manifest.modelType);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(values.out, name), bytes);
  log(`wrote ${Object.keys(files).join(', ')} to ${resolve(values.out)}`);
}

async function bundle(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...MODEL_OPTIONS,
      out: { type: 'string' },
      methods: { type: 'string', default: 'pca' },
      dims: { type: 'string', default: '3' },
      mode: { type: 'string', default: 'optimized' },
      float16: { type: 'boolean', default: false },
      contents: { type: 'string', default: 'full' },
    },
  });
  if (!values.input || !values.out) throw new Error(`bundle needs --input and --out\n${USAGE}`);
  const methods = values.methods!.split(',').map((m) => m.trim());
  const dims = values.dims!.split(',').map((d) => Number(d.trim()));
  if (!methods.length || methods.some((m) => m !== 'pca' && m !== 'umap')) throw new Error(`--methods takes pca, umap or pca,umap, not ${values.methods}`);
  if (!dims.length || dims.some((d) => d !== 2 && d !== 3)) throw new Error(`--dims takes 2, 3 or 2,3, not ${values.dims}`);
  if (!(NORMALIZATION_MODES as string[]).includes(values.mode!)) throw new Error(`--mode must be raw, paper or optimized, not ${values.mode}`);
  const mode = values.mode as NormalizationMode;
  if (values.contents !== 'full' && values.contents !== 'views') throw new Error(`--contents must be full or views, not ${values.contents}`);
  const log = (m: string) => !values.quiet && console.error(`[qkviz] ${m}`);
  const { model, manifest, corpus, rotary, sentences } = await openCorpus(values, log);
  const views = (methods as ProjectionMethod[]).flatMap((method) => (dims as (2 | 3)[]).map((d) => ({ method, dims: d })));
  // The page's pipeline, on disk: Q/K into a run store (a temporary folder), the PCA layouts
  // and normalizations with it, then the figures, the other layouts and the similarities,
  // each reading a head at a time — memory stays bounded by a head, not the corpus.
  const pca = views.filter((v) => v.method === 'pca').map((v) => ({ mode, dims: v.dims }));
  const storeDir = mkdtempSync(join(tmpdir(), 'qkviz-run-'));
  const root = new FileStore(storeDir);
  try {
    const draft = await runIntoStore(model.runner, manifest, corpus, {
      root,
      id: 'run',
      dtype: values.float16 ? 'float16' : 'float32',
      rotary,
      pca,
      fullLayouts: true,
    });
    await model.runner.release();
    const { data, vectors } = draft;
    const cells = data.layers * data.heads;
    let t = performance.now();
    const pending = pendingAnalysis(data, draft.heads);
    const perHead = Array.from(
      { length: cells },
      (_, c) => Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, pending.params[m][c]])) as Record<NormalizationMode, HeadNormalization>,
    );
    const analysis = withScores(pending, await scoreStoredRun(vectors, data, perHead));
    log(
      `extracted in ${rateOf(corpus.tokenCount, draft.extractMs)} (into the run store, with every head's sums); normalizations and ${pca.length} PCA layout(s) ${(draft.analyzeMs / 1000).toFixed(1)} s later; figures in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const layouts: BundleLayout[] = [];
    for (const view of views) {
      const made = draft.layouts.find((l) => view.method === 'pca' && l.view.dims === view.dims);
      if (made) {
        layouts.push({ mode, method: 'pca', dims: view.dims, heads: made.heads });
        continue;
      }
      t = performance.now();
      const params: ProjectionParams = { ...DEFAULT_PROJECTION, method: view.method, dims: view.dims };
      const heads: Float32Array[] = [];
      for (let c = 0; c < cells; c++) {
        const { q, k } = await vectors.head(c);
        heads.push(projectHeadVectors(q, k, data.headDim, analysis.params[mode][c], params).coords);
      }
      layouts.push({ mode, method: view.method, dims: view.dims, heads });
      log(`${view.method.toUpperCase()} ${view.dims}D of every head in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    t = performance.now();
    const similarities = [await attentionDistances(data, vectors), await geometryDistances(data, vectors, analysis.params.paper)];
    log(`head similarities in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const result = {
      manifest,
      device: { device: 'cpu' as const },
      data,
      analysis,
      notices: corpus.notices,
      timings: { tokenizeMs: 0, loadMs: 0, warmupMs: 0, extractMs: draft.extractMs, analyzeMs: draft.analyzeMs },
      attentionError: analysis.attentionCheck.maxAbsError,
    };
    const plan = planRunBundle(
      { result, vectors, label: basename(values.input), sentences, layouts, similarities },
      { createdBy: `qkviz ${PACKAGE_VERSION} (CLI)`, contents: values.contents as 'full' | 'views' },
    );
    await writeBundleFile(values.out, plan, vectors);
    log(
      `wrote ${resolve(values.out)}: ${formatBytes(plan.size)} (${formatCount(data.tokenCount)} tokens, ${cells} heads, ${layouts.length} layout${layouts.length === 1 ? '' : 's'}${values.contents === 'views' ? ', no vectors' : values.float16 ? ', float16 vectors' : ''})`,
    );
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
}

/** Writes a bundle piece by piece: the run store's files are copied through, never held whole. */
async function writeBundleFile(path: string, plan: BundlePlan<BundleSource>, vectors: RunReader<unknown>): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, plan.head, 0, plan.head.length, 0);
    for (const piece of plan.pieces) {
      if ('bytes' in piece.source) {
        writeSync(fd, piece.source.bytes, 0, piece.source.bytes.length, piece.at);
        continue;
      }
      const file = await vectors.file(piece.source.file);
      const CHUNK = 64 << 20;
      for (let at = 0; at < piece.byteLength; at += CHUNK) {
        const bytes = await file.read(at, Math.min(piece.byteLength, at + CHUNK));
        writeSync(fd, bytes, 0, bytes.length, piece.at + at);
      }
    }
    if (plan.size > 0) ftruncateSync(fd, plan.size);
  } finally {
    closeSync(fd);
  }
}

function readNpy(path: string): Float32Array {
  return decodeNpy(new Uint8Array(readFileSync(path))).data;
}

/** An extract DIR read back: tokens.json, queries.npy, keys.npy, and attention.npy / rotated_*.npy where written. */
function readExtractDir(dir: string) {
  const at = (name: string) => join(dir, name);
  return readExtractionFiles(readFileSync(at('tokens.json'), 'utf8'), readNpy(at('queries.npy')), readNpy(at('keys.npy')), {
    attention: existsSync(at('attention.npy')) ? readNpy(at('attention.npy')) : undefined,
    rotated: existsSync(at('rotated_queries.npy')) ? { queries: readNpy(at('rotated_queries.npy')), keys: readNpy(at('rotated_keys.npy')) } : undefined,
    valueNorms: existsSync(at('value_norms.npy')) ? readNpy(at('value_norms.npy')) : undefined,
  });
}

async function project(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      method: { type: 'string', default: 'pca' },
      dims: { type: 'string', default: '3' },
      mode: { type: 'string', default: 'paper' },
      seed: { type: 'string', default: String(DEFAULT_PROJECTION.seed) },
      metric: { type: 'string', default: 'euclidean' },
      epochs: { type: 'string', default: '0' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const log = (m: string) => !values.quiet && console.error(`[qkviz] ${m}`);
  if (!values.in || !values.out) throw new Error(`project needs --in and --out\n${USAGE}`);
  if (!['pca', 'umap'].includes(values.method!)) throw new Error(`--method must be pca or umap, not ${values.method}`);
  if (!['2', '3'].includes(values.dims!)) throw new Error(`--dims must be 2 or 3, not ${values.dims}`);
  if (!(NORMALIZATION_MODES as string[]).includes(values.mode!)) throw new Error(`--mode must be raw, paper or optimized, not ${values.mode}`);
  if (!['euclidean', 'cosine'].includes(values.metric!)) throw new Error(`--metric must be euclidean or cosine, not ${values.metric}`);
  const dir = values.in;
  const data = readExtractDir(dir);
  const params: ProjectionParams = {
    ...DEFAULT_PROJECTION,
    method: values.method as ProjectionMethod,
    dims: Number(values.dims) as 2 | 3,
    seed: Number(values.seed),
    metric: values.metric as Metric,
    epochs: Number(values.epochs),
  };
  const mode = values.mode as NormalizationMode;
  const started = performance.now();
  // The same constants as the page's analysis finds.
  const norms = Array.from({ length: data.layers * data.heads }, (_, c) => {
    const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
    return headSums(q, k, headInputs(data, c)).params[mode];
  });
  const normalizeMs = performance.now() - started;
  const points = 2 * data.tokenCount;
  const layouts: Float32Array[] = [];
  const heads: { layer: number; head: number; ms: number; explainedVariance?: number[] }[] = [];
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const { q, k } = headVectors(data, l, h);
      const r = projectHeadVectors(q, k, data.headDim, norms[l * data.heads + h], params);
      layouts.push(r.coords);
      heads.push({ layer: l, head: h, ms: Math.round(r.ms), explainedVariance: r.explainedVariance });
      log(`L${l} H${h}: ${params.method} in ${(r.ms / 1000).toFixed(2)} s`);
    }
  }
  const totalMs = performance.now() - started;
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'coords.npy'), (await coordsNpy(data.layers, data.heads, points, params.dims, (l, h) => layouts[l * data.heads + h]))!);
  const info = {
    model: data.model,
    mode,
    ...params,
    epochs: params.method === 'umap' ? params.epochs || umapEpochs(points) : undefined,
    layout: COORDS_LAYOUT,
    tokenCount: data.tokenCount,
    normalization: norms.map((n, i) => ({
      layer: Math.floor(i / data.heads),
      head: i % data.heads,
      scale: n.scale,
      translationNorm: Math.hypot(...n.translation),
    })),
    timings: { normalizeMs: Math.round(normalizeMs), totalMs: Math.round(totalMs) },
    heads,
  };
  writeFileSync(join(values.out, 'projection.json'), `${JSON.stringify(info, null, 2)}\n`);
  log(`projected ${heads.length} heads (${points} points each) in ${(totalMs / 1000).toFixed(1)} s → ${resolve(values.out)}`);
}

async function figures(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { in: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean', default: false } } });
  if (!values.in) throw new Error(`figures needs --in\n${USAGE}`);
  const dir = values.in;
  const data = readExtractDir(dir);
  const analysis = await analyzeHeads(data);
  if (values.out) writeFileSync(values.out, headFiguresCsv(analysis));
  if (values.quiet) return;
  console.log(`${data.tokenCount} tokens, ${data.layers * data.heads} heads; lower is better for every figure`);
  console.log(['figure', 'mode', 'improved', 'median raw', 'median', 'median change'].join('\t'));
  for (const r of improvementSummary(analysis)) {
    console.log(
      [
        r.figure,
        r.mode,
        `${r.improved}/${r.heads}`,
        r.medianRaw.toFixed(3),
        r.median.toFixed(3),
        `${r.medianChange >= 0 ? '+' : ''}${r.medianChange.toFixed(3)}`,
      ].join('\t'),
    );
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'extract') return extract(rest);
  if (command === 'bundle') return bundle(rest);
  if (command === 'project') return project(rest);
  if (command === 'figures') return figures(rest);
  console.log(USAGE);
  if (command && command !== '--help' && command !== 'help') process.exitCode = 2;
}

main().catch((e: Error) => {
  console.error(`qkviz: ${e.message}`);
  process.exit(1);
});
