// Installing a model in the browser, for the model worker: a hub model (from a look-up's plan)
// is downloaded into the browser's file store with byte progress, a local folder's files are
// read where they lie; either is converted streaming — one weight read, converted to the chosen
// precision and written at a time — into a graph kept in the model store under a key of its
// source, commit (or the files' sizes and dates), precision and converter version. The download
// is deleted once converted; a failed or cancelled install leaves nothing. Failures say what
// happened, with numbers.
import { UnsupportedArchitectureError, buildModelGraph, modelSpec } from '../model/architectures';
import { ModelFilesError } from '../model/catalog';
import { ModelConfigError } from '../model/config';
import { ConversionError } from '../model/errors';
import { type FormatFit, UNUSED_TENSORS, defaultFormat, formatFits } from '../model/fit';
import { type HubPlan, downloadHubModel, sizeRefusal } from '../model/hub';
import { type ModelManifest, type ModelSource, PREPROCESSOR_FILE, describeSource, manifestFor } from '../model/manifest';
import { ImageProcessorError, processorImageSize } from '../image/preprocess';
import { SafetensorsError } from '../model/safetensors';
import { type StoredEntry, type StoredFiles, folderStoreKey, hubStoreKey, modelFolderName } from '../model/store';
import { type BlobLike, type ByteFile, TensorSource, blobFile } from '../model/tensors';
import { FORMAT_LABELS, type WeightFormat } from '../model/weights';
import { QuotaError, type StoreRoot } from '../store/files';
import { formatBytes } from '../util/format';
import type { CallContext } from '../worker/rpc';
import { CancelledError, throwIfAborted } from '../util/cancel';
import { yieldToEvents } from '../worker/yield';
import { everyMegabyte } from '../util/throttle';
import { writeGraph } from './modelFiles';
import type { ModelStore } from './modelStore';

export type InstallRequest =
  | { kind: 'hub'; plan: HubPlan; token?: string; format?: WeightFormat }
  /** Files of a folder the person picked (each with its webkitRelativePath). */
  | { kind: 'folder'; files: PickedFile[]; format?: WeightFormat };

/** What a picked folder's File offers (typed here: lib is checked without the DOM). */
export interface PickedFile extends BlobLike {
  name: string;
  size: number;
  lastModified: number;
  webkitRelativePath?: string;
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
  /** The store key without the precision (added once it is chosen). */
  key: (format: WeightFormat) => string;
  files: StoredFiles;
  weights: ByteFile[];
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

async function readFolder(files: PickedFile[]): Promise<Checkpoint> {
  const folder = (files[0]?.webkitRelativePath || '').split('/')[0] || 'local folder';
  const config = pick(files, 'config.json');
  if (!config)
    throw new ModelFilesError(
      `The folder "${folder}" has no config.json: pick the folder that holds a model's config.json, tokenizer.json (or, for images, preprocessor_config.json) and model.safetensors.`,
    );
  const tokenizer = pick(files, 'tokenizer.json');
  const preprocessor = pick(files, PREPROCESSOR_FILE);
  if (!tokenizer && !preprocessor)
    throw new ModelFilesError(
      `The folder "${folder}" has no tokenizer.json (the fast-tokenizer file QKViz tokenizes with) nor, for a vision model, ${PREPROCESSOR_FILE}.`,
    );
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
  const tokenizerConfig = pick(files, 'tokenizer_config.json');
  const fingerprint = weightFiles.map((f) => `${f.size}-${f.lastModified}`).join('+');
  return {
    name: folder,
    source: { kind: 'folder', name: folder },
    key: (format) => folderStoreKey(folder, fingerprint, format),
    files: tokenizer
      ? { config: await config.text(), tokenizer: await tokenizer.text(), tokenizerConfig: tokenizerConfig ? await tokenizerConfig.text() : undefined }
      : { config: await config.text(), preprocessor: await preprocessor!.text() },
    // Read where they lie, one tensor at a time, while converting.
    weights: weightFiles.map((f) => blobFile(f.webkitRelativePath || f.name, f)),
  };
}

/** Downloads a plan's files into a folder of the file store (the weights), with byte progress. */
async function downloadPlan(
  plan: HubPlan,
  token: string | undefined,
  folder: StoreRoot,
  name: string,
  context: CallContext<InstallProgress>,
): Promise<Checkpoint> {
  const downloads = (await folder.folder(name, { create: true }))!;
  const files = await downloadHubModel(
    plan,
    token,
    everyMegabyte((done, total) => context.progress({ stage: 'download', done, total })),
    {
      signal: context.signal,
      sinkFor: async (file) => {
        const stored = file.name.replace(/\//g, '__');
        const out = await downloads.create(stored);
        return {
          write: (bytes, at) => out.write(bytes, at),
          finish: async () => {
            await out.close();
            const back = await downloads.open(stored);
            if (!back) throw new ModelFilesError(`the download of ${file.name} vanished from the browser's storage`);
            return { name: file.name, size: back.size, read: (offset: number, length: number) => back.read(offset, offset + length) };
          },
        };
      },
    },
  );
  return {
    name: plan.repo,
    source: { kind: 'hub', repo: plan.repo, revision: plan.commit, endpoint: plan.endpoint },
    key: (format) => hubStoreKey(plan.endpoint, plan.repo, plan.commit, format),
    files: files.preprocessor
      ? { config: files.config, preprocessor: files.preprocessor }
      : { config: files.config, tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig },
    weights: files.weights,
  };
}

/** Refuses, with numbers, what the browser's storage cannot hold. */
async function assertRoom(root: StoreRoot, what: string, bytes: number): Promise<void> {
  const estimate = await root.estimate();
  if (!estimate) return;
  const free = estimate.quota - estimate.usage;
  if (bytes > free) {
    throw new ModelFilesError(
      `The browser can store ${formatBytes(Math.max(0, free))} more for this site; ${what} needs ${formatBytes(bytes)}. Delete stored models or cached runs, or free disk space.`,
    );
  }
}

/** The precision to convert to: the one asked for if it fits a tab, else the model's default; refuses with numbers when none fits. */
function chooseFormat(name: string, parameters: number, fits: FormatFit[], asked: WeightFormat | undefined): FormatFit {
  const chosen = asked ?? defaultFormat(fits);
  if (!chosen) throw new ModelFilesError(sizeRefusal(name, parameters, fits));
  const fit = fits.find((f) => f.format === chosen)!;
  if (!fit.fits) throw new ModelFilesError(`${name} in ${FORMAT_LABELS[chosen]}: ${fit.why}. Choose a smaller precision.`);
  return fit;
}

/** Downloads or reads, converts and stores a model; returns its store entry (the manifest the page opens). */
export async function installModel(request: InstallRequest, context: CallContext<InstallProgress>, store: ModelStore): Promise<StoredEntry> {
  let what = request.kind === 'hub' ? request.plan.repo : 'the folder';
  const root = await store.graphRoot();
  const cleanup: string[] = [];
  try {
    let checkpoint: Checkpoint;
    let fit: FormatFit;
    if (request.kind === 'hub') {
      const { plan } = request;
      fit = chooseFormat(plan.repo, plan.usedParameters, plan.formats, request.format ?? plan.format ?? undefined);
      await assertRoom(
        root,
        `${plan.repo} (the ${formatBytes(plan.downloadBytes)} download while it converts, then a ${formatBytes(fit.graphBytes)} graph)`,
        plan.downloadBytes + fit.graphBytes,
      );
      const downloads = `${modelFolderName(hubStoreKey(plan.endpoint, plan.repo, plan.commit))}.download`;
      cleanup.push(downloads);
      checkpoint = await downloadPlan(plan, request.token, root, downloads, context);
    } else {
      checkpoint = await readFolder(request.files);
      what = checkpoint.name;
      fit = { format: 'float32', graphBytes: 0, peakBytes: 0, fits: true };
    }
    what = checkpoint.name;
    throwIfAborted(context.signal);
    const source = await TensorSource.open(checkpoint.weights);
    const json = JSON.parse(checkpoint.files.config) as Record<string, unknown>;
    const image = checkpoint.files.preprocessor ? processorImageSize(checkpoint.files.preprocessor, checkpoint.name) : undefined;
    if (request.kind === 'folder') {
      const spec = modelSpec(json, image?.size);
      const counts = source.counts();
      const unused = source
        .names()
        .filter((n) => UNUSED_TENSORS.test(n))
        .reduce((a, n) => a + (source.shape(n) ?? []).reduce((x, y) => x * y, 1), 0);
      const used = counts.parameters - unused;
      fit = chooseFormat(checkpoint.name, used, formatFits({ parameters: used, embedding: spec.vocabSize * spec.hidden }), request.format);
      await assertRoom(root, `${checkpoint.name}'s ${formatBytes(fit.graphBytes)} graph`, fit.graphBytes);
    }
    const key = checkpoint.key(fit.format);
    const folderName = modelFolderName(key);
    cleanup.push(folderName);
    await root.remove(folderName);
    const folder = (await root.folder(folderName, { create: true }))!;
    const { spec, graph, meta } = buildModelGraph(json, source, { sourceName: describeSource(checkpoint.source), format: fit.format, imageSize: image?.size });
    if (spec.family === 'vision' && !image) throw new ModelFilesError(`${what} reads images but comes without a ${PREPROCESSOR_FILE}.`);
    if (spec.family !== 'vision' && !checkpoint.files.tokenizer)
      throw new ModelFilesError(`${what} has no tokenizer.json (the fast-tokenizer file QKViz tokenizes with).`);
    context.progress({ stage: 'convert', done: 0, total: graph.weightBytes });
    const written = await writeGraph(
      folder,
      graph,
      meta,
      everyMegabyte(async (done, total) => {
        context.progress({ stage: 'convert', done, total });
        await yieldToEvents();
        throwIfAborted(context.signal);
      }),
    );
    checkpoint.weights.length = 0;
    if (cleanup[0] !== folderName) await root.remove(cleanup[0]);
    context.progress({ stage: 'store', done: 0, total: 1 });
    const manifest: ModelManifest = {
      ...manifestFor(checkpoint.name, checkpoint.source, spec, { bytes: written.modelBytes, sha256: await sha256Hex(written.model) }, image?.processor),
      data: written.data,
      ...(fit.format !== 'float32' ? { weights: fit.format } : {}),
      storeKey: key,
    };
    const entry: StoredEntry = { key, manifest, savedAt: Date.now() };
    await store.save(entry, checkpoint.files);
    cleanup.length = 0;
    context.progress({ stage: 'store', done: 1, total: 1 });
    return entry;
  } catch (e) {
    for (const name of cleanup) await root.remove(name).catch(() => {});
    if (e instanceof CancelledError || e instanceof ModelFilesError) throw e;
    if (e instanceof QuotaError)
      throw new ModelFilesError(
        `The browser's storage filled up while storing ${what} (${e.message}). Delete stored models or cached runs, or free disk space.`,
      );
    if (
      e instanceof UnsupportedArchitectureError ||
      e instanceof ConversionError ||
      e instanceof ModelConfigError ||
      e instanceof SafetensorsError ||
      e instanceof ImageProcessorError
    ) {
      throw new ModelFilesError(`${what} cannot be converted: ${e.message}`);
    }
    if (e instanceof RangeError || /out of memory|allocation failed/i.test(String((e as Error)?.message))) {
      throw new ModelFilesError(
        `The tab ran out of memory converting ${what} (${(e as Error).message}). Close other tabs, or choose a smaller precision or model; what each needs is stated before downloading.`,
      );
    }
    throw e;
  }
}
