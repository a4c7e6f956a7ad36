// Node-only: a hub model as a converted model folder, for the CLI and the setup step. The
// look-up and downloads are lib/model/hub's (the page's code); the folder is cached under
// .cache/hub/OWNER--NAME/COMMIT/, so a second run at the same commit downloads no weights.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../model/architectures';
import { formatBytes } from '../util/format';
import { DEFAULT_HUB_ENDPOINT, type HubFiles, type HubPlan, describePlan, downloadHubModel, planHubModel } from '../model/hub';
import {
  CONVERTER_VERSION,
  MANIFEST_FILE,
  MODEL_FILE,
  type ModelManifest,
  type ModelSource,
  convertCheckpoint,
  describeSource,
  manifestFor,
} from '../model/manifest';

export interface SourceFiles {
  config: string;
  tokenizer: string;
  tokenizerConfig?: string;
}

/** Lays out a converted model as the page and openNodeModel read it: graph, manifest, config and tokenizer files. */
export function writeModelFolder(dir: string, name: string, source: ModelSource, files: SourceFiles, spec: ModelSpec, onnx: Uint8Array): ModelManifest {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MODEL_FILE), onnx);
  writeFileSync(join(dir, 'config.json'), files.config);
  writeFileSync(join(dir, 'tokenizer.json'), files.tokenizer);
  writeFileSync(join(dir, 'tokenizer_config.json'), files.tokenizerConfig ?? '{}\n');
  const manifest = manifestFor(name, source, spec, { bytes: onnx.byteLength, sha256: createHash('sha256').update(onnx).digest('hex') });
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Whether a folder holds a graph this converter version wrote, whole. */
export function isConvertedFolder(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
    const onnx = join(dir, manifest.onnx.file);
    return (
      manifest.converterVersion === CONVERTER_VERSION &&
      existsSync(onnx) &&
      statSync(onnx).size === manifest.onnx.bytes &&
      existsSync(join(dir, 'tokenizer.json'))
    );
  } catch {
    return false;
  }
}

export interface HubFolderOptions {
  revision?: string;
  /** Default: $HF_ENDPOINT, else the public hub. */
  endpoint?: string;
  /** Default: $HF_TOKEN. */
  token?: string;
  cacheRoot: string;
  log?: (message: string) => void;
}

/** Downloads what a plan names, logging every tenth of the bytes; refuses what one ONNX file cannot hold. */
export async function downloadLogged(plan: HubPlan, token: string | undefined, log: (message: string) => void): Promise<HubFiles> {
  log(`${plan.repo}@${plan.commit.slice(0, 12)}: ${describePlan(plan)}`);
  // Node's memory is not a tab's: the limit here is the ONNX file's 2 GiB.
  if (plan.graphBytes >= 2 ** 31) throw new Error(plan.refusal ?? `${plan.repo} is too large for one ONNX file`);
  let lastTenth = -1;
  return downloadHubModel(plan, token, (done, total) => {
    const tenth = Math.floor((10 * done) / Math.max(1, total));
    if (tenth !== lastTenth) log(`downloading ${formatBytes(done)} of ${formatBytes(total)}`);
    lastTenth = tenth;
  });
}

/** Looks the model up, downloads and converts it unless this commit is cached, and returns the folder. */
export async function hubModelFolder(repo: string, options: HubFolderOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const endpoint = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT;
  const token = options.token ?? process.env.HF_TOKEN ?? undefined;
  const plan = await planHubModel({ endpoint, repo, revision: options.revision, token });
  const dir = join(options.cacheRoot, repo.replace(/\//g, '--'), plan.commit);
  if (isConvertedFolder(dir)) {
    log(`${repo}@${plan.commit.slice(0, 12)}: converted copy in ${dir}`);
    return dir;
  }
  const files = await downloadLogged(plan, token, log);
  const source: ModelSource = { kind: 'hub', repo, revision: plan.commit };
  const started = performance.now();
  const { spec, onnx } = convertCheckpoint(files.config, files.weights, describeSource(source));
  writeModelFolder(dir, repo, source, files, spec, onnx);
  log(`converted to a ${formatBytes(onnx.byteLength)} graph in ${((performance.now() - started) / 1000).toFixed(1)} s → ${dir}`);
  return dir;
}
