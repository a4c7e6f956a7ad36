// Installing a model in the browser, for the model worker: a hub model (from a look-up's plan)
// is downloaded with byte progress, a local folder's files are read; either is converted by
// lib/model into QKViz's graph and kept in the browser's model store under a key of its source,
// commit (or the files' sizes and dates) and converter version. Failures say what happened.
import { UnsupportedArchitectureError } from '../model/architectures';
import { ConversionError } from '../model/bertToOnnx';
import { ModelFilesError } from '../model/catalog';
import { ModelConfigError } from '../model/config';
import { type HubPlan, downloadHubModel, graphRefusal } from '../model/hub';
import { type ModelManifest, type ModelSource, convertCheckpoint, describeSource, manifestFor } from '../model/manifest';
import { SafetensorsError, parameterCounts, readSafetensorsHeader } from '../model/safetensors';
import { type ModelStore, type StoredEntry, type StoredFiles, folderStoreKey, hubStoreKey } from '../model/store';
import type { CallContext } from '../worker/rpc';
import { CancelledError, throwIfAborted } from '../util/cancel';
import { yieldToEvents } from '../worker/yield';
import { everyMegabyte } from '../util/throttle';

export type InstallRequest =
  | { kind: 'hub'; plan: HubPlan; token?: string }
  /** Files of a folder the person picked (each with its webkitRelativePath). */
  | { kind: 'folder'; files: PickedFile[] };

/** What a picked folder's File offers (typed here: lib is checked without the DOM). */
export interface PickedFile {
  name: string;
  size: number;
  lastModified: number;
  webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

export type InstallStage = 'download' | 'read' | 'convert' | 'store';

export interface InstallProgress {
  stage: InstallStage;
  done: number;
  total: number;
}

interface Checkpoint {
  name: string;
  source: ModelSource;
  key: string;
  files: StoredFiles;
  weights: Uint8Array[];
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The file named `name` nearest the top of a picked folder. */
function pick(files: PickedFile[], name: string): PickedFile | undefined {
  const depth = (f: PickedFile) => (f.webkitRelativePath || f.name).split('/').length;
  return files.filter((f) => f.name === name).sort((a, b) => depth(a) - depth(b))[0];
}

async function readFolder(files: PickedFile[], context: CallContext<InstallProgress>): Promise<Checkpoint> {
  const folder = (files[0]?.webkitRelativePath || '').split('/')[0] || 'local folder';
  const config = pick(files, 'config.json');
  if (!config)
    throw new ModelFilesError(
      `The folder "${folder}" has no config.json: pick the folder that holds a model's config.json, tokenizer.json and model.safetensors.`,
    );
  const tokenizer = pick(files, 'tokenizer.json');
  if (!tokenizer) throw new ModelFilesError(`The folder "${folder}" has no tokenizer.json (the fast-tokenizer file QKViz tokenizes with).`);
  let weightFiles: PickedFile[];
  const single = pick(files, 'model.safetensors');
  if (single) weightFiles = [single];
  else {
    const index = pick(files, 'model.safetensors.index.json');
    if (!index)
      throw new ModelFilesError(
        `The folder "${folder}" has no safetensors weights (model.safetensors or model.safetensors.index.json); QKViz reads safetensors only, not PyTorch .bin files.`,
      );
    let shards: string[];
    try {
      shards = [...new Set(Object.values((JSON.parse(await index.text()) as { weight_map: Record<string, string> }).weight_map))].sort();
    } catch {
      throw new ModelFilesError(`${folder}/model.safetensors.index.json is not a valid shard index.`);
    }
    weightFiles = shards.map((s) => {
      const f = pick(files, s);
      if (!f) throw new ModelFilesError(`The folder "${folder}" lacks ${s}, a shard its index names.`);
      return f;
    });
  }
  const total = weightFiles.reduce((a, f) => a + f.size, 0);
  const weights: Uint8Array[] = [];
  let done = 0;
  context.progress({ stage: 'read', done, total });
  for (const f of weightFiles) {
    weights.push(new Uint8Array(await f.arrayBuffer()));
    done += f.size;
    context.progress({ stage: 'read', done, total });
    throwIfAborted(context.signal);
  }
  const tokenizerConfig = pick(files, 'tokenizer_config.json');
  const fingerprint = weightFiles.map((f) => `${f.size}-${f.lastModified}`).join('+');
  return {
    name: folder,
    source: { kind: 'folder', name: folder },
    key: folderStoreKey(folder, fingerprint),
    files: { config: await config.text(), tokenizer: await tokenizer.text(), tokenizerConfig: tokenizerConfig ? await tokenizerConfig.text() : undefined },
    weights,
  };
}

async function downloadPlan(plan: HubPlan, token: string | undefined, context: CallContext<InstallProgress>): Promise<Checkpoint> {
  if (plan.refusal) throw new ModelFilesError(plan.refusal);
  const files = await downloadHubModel(
    plan,
    token,
    everyMegabyte((done, total) => context.progress({ stage: 'download', done, total })),
    { signal: context.signal },
  );
  return {
    name: plan.repo,
    source: { kind: 'hub', repo: plan.repo, revision: plan.commit, endpoint: plan.endpoint },
    key: hubStoreKey(plan.endpoint, plan.repo, plan.commit),
    files: { config: files.config, tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig },
    weights: files.weights,
  };
}

/** Downloads or reads, converts and stores a model; returns its store entry (the manifest the page opens). */
export async function installModel(request: InstallRequest, context: CallContext<InstallProgress>, store: ModelStore): Promise<StoredEntry> {
  let what = request.kind === 'hub' ? request.plan.repo : 'the folder';
  try {
    const checkpoint = request.kind === 'hub' ? await downloadPlan(request.plan, request.token, context) : await readFolder(request.files, context);
    what = checkpoint.name;
    if (request.kind === 'folder') {
      let parameters = 0;
      for (const w of checkpoint.weights) parameters += parameterCounts(readSafetensorsHeader(w).header).parameters;
      const refused = graphRefusal(
        checkpoint.name,
        parameters,
        checkpoint.weights.reduce((a, w) => a + w.byteLength, 0),
      );
      if (refused) throw new ModelFilesError(refused);
    }
    throwIfAborted(context.signal);
    context.progress({ stage: 'convert', done: 0, total: 1 });
    await yieldToEvents();
    const { spec, onnx } = convertCheckpoint(checkpoint.files.config, checkpoint.weights, describeSource(checkpoint.source));
    checkpoint.weights.length = 0;
    throwIfAborted(context.signal);
    context.progress({ stage: 'store', done: 0, total: 1 });
    const manifest: ModelManifest = {
      ...manifestFor(checkpoint.name, checkpoint.source, spec, { bytes: onnx.byteLength, sha256: await sha256Hex(onnx) }),
      storeKey: checkpoint.key,
    };
    const entry: StoredEntry = { key: checkpoint.key, manifest, savedAt: Date.now() };
    await store.save(entry, checkpoint.files, onnx);
    context.progress({ stage: 'store', done: 1, total: 1 });
    return entry;
  } catch (e) {
    if (e instanceof CancelledError || e instanceof ModelFilesError) throw e;
    if (e instanceof UnsupportedArchitectureError || e instanceof ConversionError || e instanceof ModelConfigError || e instanceof SafetensorsError) {
      throw new ModelFilesError(`${what} cannot be converted: ${e.message}`);
    }
    if (e instanceof RangeError || /out of memory|allocation failed/i.test(String((e as Error)?.message))) {
      throw new ModelFilesError(
        `The tab ran out of memory converting ${what} (${(e as Error).message}). Close other tabs, or choose a smaller model; memory needed is stated before downloading.`,
      );
    }
    throw e;
  }
}
