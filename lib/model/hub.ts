// A Hugging Face hub client for the page's model worker and the CLI (plain fetch, no SDK):
// resolves a repository's revision to its commit, reads config.json and the safetensors
// headers (a few KB through Range requests) to say what a download costs before it starts,
// then fetches the files with byte progress, cancel and Range resume. Every refusal is a
// HubError whose message says what happened in words.
import { throwIfAborted } from '../util/cancel';
import { formatBytes } from '../util/format';
import { type ModelSpec, modelSpec } from './architectures';
import { ModelFilesError } from './catalog';
import { type FormatFit, UNUSED_TENSORS, defaultFormat, formatFits } from './fit';
import { SafetensorsError, parameterCounts, readSafetensorsHeader, safetensorsHeaderLength } from './safetensors';
import { type ByteFile, memoryFile } from './tensors';
import { FORMAT_LABELS, type WeightFormat } from './weights';
import { processorImageSize } from '../image/preprocess';
import { PREPROCESSOR_FILE } from './manifest';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
/** The tokenizer files read besides config.json; tokenizer.json is required. */
export const HUB_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
const SINGLE_WEIGHTS = 'model.safetensors';
const SHARD_INDEX = 'model.safetensors.index.json';
/** Attempts per file when a connection drops mid-download (each resumes where the last stopped). */
const ATTEMPTS = 4;

export type HubErrorCode =
  | 'not-found'
  | 'gated'
  | 'revision'
  | 'no-config'
  | 'no-weights'
  | 'no-tokenizer'
  | 'no-preprocessor'
  | 'unsupported'
  | 'network'
  | 'truncated'
  | 'too-large'
  | 'http';

export class HubError extends ModelFilesError {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface HubRef {
  /** e.g. https://huggingface.co (no trailing slash needed). */
  endpoint: string;
  /** owner/name, or a legacy bare name such as "gpt2". */
  repo: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** An access token, sent only to `endpoint` (and never stored by this module). */
  token?: string;
}

export interface HubFile {
  name: string;
  bytes: number;
}

export interface HubPlan {
  endpoint: string;
  repo: string;
  revision: string;
  /** The commit the revision resolved to (what later requests and the store key pin). */
  commit: string;
  spec: ModelSpec;
  config: string;
  /** Safetensors files, in order (one, or the index's shards). */
  weights: HubFile[];
  tokenizerFiles: string[];
  /** A vision model's preprocessor_config.json (what it reads instead of a tokenizer). */
  preprocessor?: string;
  downloadBytes: number;
  /** Parameters in the checkpoint, counted from the safetensors headers. */
  parameters: number;
  /** Of those, the ones the graph uses (an untied output head is not). */
  usedParameters: number;
  /** Weight dtypes as stored (e.g. {BF16: 134515008}). */
  dtypes: Record<string, number>;
  /** What each weight precision costs and whether a tab holds it. */
  formats: FormatFit[];
  /** The precision the model opens in unless a person chooses; null when none fits a tab. */
  format: WeightFormat | null;
  /** Why this tab cannot hold the model in any precision, with numbers; absent when it can. */
  refusal?: string;
}

export interface HubFiles {
  config: string;
  tokenizer?: string;
  tokenizerConfig?: string;
  preprocessor?: string;
  /** The safetensors files, where the download put them (memory, unless a sink was given). */
  weights: ByteFile[];
}

/** Where a downloaded weights file goes: written front to back (from 0 again if the server ignores a resume). */
export interface DownloadSink {
  write(bytes: Uint8Array, at: number): void | Promise<void>;
  /** The whole file, once every byte is in. */
  finish(): ByteFile | Promise<ByteFile>;
}

/** A sink in memory. */
export function memorySink(file: HubFile): DownloadSink {
  const out = new Uint8Array(file.bytes);
  return { write: (bytes, at) => out.set(bytes, at), finish: () => memoryFile(file.name, out) };
}

interface Options {
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** A hub id as typed: trims, drops a pasted https://huggingface.co/ prefix and a trailing slash. */
export function normalizeRepoId(text: string): string {
  return text
    .trim()
    .replace(/^https?:\/\/[^/]+\//, '')
    .replace(/\/(tree|blob|resolve)\/.*$/, '')
    .replace(/\/+$/, '');
}

export function isRepoId(text: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)?$/.test(text) && !text.includes('..');
}

export function fileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function headersFor(ref: HubRef, extra: Record<string, string> = {}): Record<string, string> {
  return ref.token ? { ...extra, Authorization: `Bearer ${ref.token}` } : extra;
}

/** The message for a refused hub request, from its status and the hub's X-Error-Code header. */
function refusal(res: Response, ref: HubRef, file: string): HubError {
  const code = res.headers.get('x-error-code');
  const revision = ref.revision ?? 'main';
  const where = ref.endpoint.replace(/\/+$/, '');
  if (code === 'RepositoryNotFound' || (res.status === 401 && !code && !ref.token)) {
    return new HubError(
      'not-found',
      `There is no model "${ref.repo}" on ${where} (check the id, e.g. "bert-base-uncased" or "HuggingFaceTB/SmolLM2-135M"; a private repository also needs an access token).`,
    );
  }
  if (code === 'GatedRepo' || res.status === 401 || res.status === 403) {
    return ref.token
      ? new HubError(
          'gated',
          `The access token has no access to "${ref.repo}" (HTTP ${res.status}): accept the model's terms on its hub page with the account the token belongs to, or use another token.`,
        )
      : new HubError(
          'gated',
          `"${ref.repo}" is gated: accept its terms on its hub page, then give an access token (it is kept for this session only and sent only to ${where}).`,
        );
  }
  if (code === 'RevisionNotFound') return new HubError('revision', `"${ref.repo}" has no revision "${revision}" (a branch, tag or commit).`);
  if (res.status === 404 && file === 'config.json') {
    return new HubError('no-config', `"${ref.repo}" has no config.json: it is not a transformers model QKViz can read.`);
  }
  if (res.status === 404) return new HubError('http', `"${ref.repo}" has no ${file}.`);
  return new HubError('http', `the hub answered HTTP ${res.status} for ${ref.repo}/${file}.`);
}

/** A 404 for the file itself (not for the repository or the revision). */
function isMissingFile(res: Response): boolean {
  const code = res.headers.get('x-error-code');
  return res.status === 404 && code !== 'RepositoryNotFound' && code !== 'RevisionNotFound';
}

async function request(url: string, ref: HubRef, file: string, init: RequestInit, options: Options): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { ...init, signal: options.signal });
  } catch (e) {
    throwIfAborted(options.signal);
    throw new HubError(
      'network',
      `could not reach ${ref.endpoint.replace(/\/+$/, '')} for ${ref.repo}/${file} (${(e as Error).message}): check the connection and the endpoint.`,
    );
  }
  return res;
}

/** The first `n` bytes of a file and its total size, through a Range request (or a cut-short full one). */
async function readPrefix(ref: HubRef, commit: string, file: string, n: number, options: Options): Promise<{ bytes: Uint8Array; total: number } | null> {
  const res = await request(fileUrl(ref.endpoint, ref.repo, commit, file), ref, file, { headers: headersFor(ref, { Range: `bytes=0-${n - 1}` }) }, options);
  if (isMissingFile(res)) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  if (!res.ok) throw refusal(res, ref, file);
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  const total = range ? Number(range[1]) : Number(res.headers.get('content-length') ?? NaN);
  const out = new Uint8Array(n);
  let got = 0;
  const reader = res.body!.getReader();
  while (got < n) {
    const chunk = await reader.read();
    if (chunk.done) break;
    const take = Math.min(n - got, chunk.value.byteLength);
    out.set(chunk.value.subarray(0, take), got);
    got += take;
  }
  await reader.cancel().catch(() => {});
  return { bytes: out.subarray(0, got), total };
}

interface HeaderFacts {
  total: number;
  parameters: number;
  unused: number;
  dtypes: Record<string, number>;
}

/** Bytes read first for a safetensors header: enough for most files' whole header in one request. */
const HEADER_PREFIX = 64 * 1024;

/** A safetensors file's size and parameters from its header alone (one Range request, two for a very long header). */
async function safetensorsFacts(ref: HubRef, commit: string, file: string, options: Options): Promise<HeaderFacts | null> {
  const head = await readPrefix(ref, commit, file, HEADER_PREFIX, options);
  if (!head) return null;
  if (head.bytes.byteLength < 8) throw new HubError('truncated', `${ref.repo}/${file} is shorter than a safetensors header.`);
  let counts: ReturnType<typeof parameterCounts>;
  let unused: number;
  try {
    const needed = 8 + safetensorsHeaderLength(head.bytes);
    const whole = needed <= head.bytes.byteLength ? head : await readPrefix(ref, commit, file, needed, options);
    const { header } = readSafetensorsHeader(whole!.bytes);
    counts = parameterCounts(header);
    unused = parameterCounts(Object.fromEntries(Object.entries(header).filter(([name]) => UNUSED_TENSORS.test(name)))).parameters;
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    throw new HubError('no-weights', `${ref.repo}/${file}: ${e.message}`);
  }
  const { parameters, dtypes } = counts;
  return { total: head.total, parameters, unused, dtypes };
}

async function fetchText(ref: HubRef, commit: string, file: string, options: Options): Promise<string | null> {
  const res = await request(fileUrl(ref.endpoint, ref.repo, commit, file), ref, file, { headers: headersFor(ref) }, options);
  if (isMissingFile(res)) return null;
  if (!res.ok) throw refusal(res, ref, file);
  return res.text();
}

/**
 * The commit a revision names, from the hub's model API — for browsers that cannot read the
 * X-Repo-Commit header; null when the endpoint has no such API (the revision is kept as given).
 */
async function commitFromApi(endpoint: string, ref: HubRef, revision: string, options: Options): Promise<string | null> {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  try {
    const res = await (options.fetch ?? fetch)(`${endpoint}/api/models/${ref.repo}/revision/${encodeURIComponent(revision)}`, {
      headers: headersFor(ref),
      signal: options.signal,
    });
    if (!res.ok) return null;
    const sha = ((await res.json()) as { sha?: unknown }).sha;
    return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    throwIfAborted(options.signal);
    return null;
  }
}

/** Looks a model up: commit, architecture, files, sizes and memory — a few KB, before any weight is fetched. */
export async function planHubModel(ref: HubRef, options: Options = {}): Promise<HubPlan> {
  const revision = ref.revision || 'main';
  const endpoint = ref.endpoint.replace(/\/+$/, '');
  if (!isRepoId(ref.repo)) throw new HubError('not-found', `"${ref.repo}" is not a hub id: write owner/name, e.g. "HuggingFaceTB/SmolLM2-135M" or "gpt2".`);
  const first = await request(fileUrl(endpoint, ref.repo, revision, 'config.json'), ref, 'config.json', { headers: headersFor(ref) }, options);
  if (!first.ok) throw refusal(first, { ...ref, revision }, 'config.json');
  const config = await first.text();
  const commit = first.headers.get('x-repo-commit') || (await commitFromApi(endpoint, ref, revision, options)) || revision;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(config);
  } catch {
    throw new HubError('no-config', `${ref.repo}'s config.json is not valid JSON.`);
  }
  let spec: ModelSpec;
  try {
    spec = modelSpec(json);
  } catch (e) {
    throw new HubError('unsupported', `${ref.repo}: ${(e as Error).message}`);
  }
  const pinned = { ...ref, endpoint, revision };

  const weights: HubFile[] = [];
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let unused = 0;
  const add = (name: string, facts: HeaderFacts) => {
    weights.push({ name, bytes: facts.total });
    parameters += facts.parameters;
    unused += facts.unused;
    for (const [d, n] of Object.entries(facts.dtypes)) dtypes[d] = (dtypes[d] ?? 0) + n;
  };
  const single = await safetensorsFacts(pinned, commit, SINGLE_WEIGHTS, options);
  if (single) add(SINGLE_WEIGHTS, single);
  else {
    const index = await fetchText(pinned, commit, SHARD_INDEX, options);
    if (index === null) {
      throw new HubError(
        'no-weights',
        `"${ref.repo}" has no safetensors weights (neither ${SINGLE_WEIGHTS} nor ${SHARD_INDEX}); QKViz reads safetensors only, not PyTorch .bin files.`,
      );
    }
    let shards: string[];
    try {
      shards = [...new Set(Object.values((JSON.parse(index) as { weight_map: Record<string, string> }).weight_map))].sort();
    } catch {
      throw new HubError('no-weights', `${ref.repo}'s ${SHARD_INDEX} is not a valid shard index.`);
    }
    for (const shard of shards) {
      const facts = await safetensorsFacts(pinned, commit, shard, options);
      if (!facts) throw new HubError('no-weights', `${ref.repo}'s shard index names ${shard}, which the repository does not have.`);
      add(shard, facts);
    }
  }
  const tokenizerFiles: string[] = [];
  let preprocessor: string | undefined;
  if (spec.family === 'vision') {
    // A vision model reads images as its preprocessor says: that fixes its input size and patch grid.
    preprocessor = (await fetchText(pinned, commit, PREPROCESSOR_FILE, options)) ?? undefined;
    if (preprocessor === undefined)
      throw new HubError('no-preprocessor', `"${ref.repo}" has no ${PREPROCESSOR_FILE} (how its images are resized, cropped and normalized).`);
    try {
      spec = modelSpec(json, processorImageSize(preprocessor, ref.repo).size);
    } catch (e) {
      throw new HubError('unsupported', `${ref.repo}: ${(e as Error).message}`);
    }
  } else {
    for (const file of HUB_TOKENIZER_FILES) {
      const res = await request(fileUrl(endpoint, ref.repo, commit, file), pinned, file, { method: 'HEAD', headers: headersFor(pinned) }, options);
      if (res.ok) tokenizerFiles.push(file);
      else if (res.status !== 404) throw refusal(res, pinned, file);
    }
    if (!tokenizerFiles.includes('tokenizer.json')) {
      throw new HubError('no-tokenizer', `"${ref.repo}" has no tokenizer.json (the fast-tokenizer file QKViz tokenizes with).`);
    }
  }
  const downloadBytes = weights.reduce((a, w) => a + w.bytes, 0);
  const usedParameters = parameters - unused;
  const formats = formatFits({ parameters: usedParameters, embedding: spec.vocabSize * spec.hidden });
  const format = defaultFormat(formats);
  const plan: HubPlan = {
    endpoint,
    repo: ref.repo,
    revision,
    commit,
    spec,
    config,
    weights,
    tokenizerFiles,
    ...(preprocessor ? { preprocessor } : {}),
    downloadBytes,
    parameters,
    usedParameters,
    dtypes,
    formats,
    format,
  };
  if (!format) plan.refusal = sizeRefusal(ref.repo, usedParameters, formats);
  return plan;
}

/** Why no precision of a model fits a tab, with numbers. */
export function sizeRefusal(name: string, parameters: number, formats: FormatFit[]): string {
  const smallest = formats.reduce((a, b) => (b.graphBytes < a.graphBytes ? b : a));
  return (
    `${name} has ${(parameters / 1e9).toFixed(2)}B parameters: even in ${FORMAT_LABELS[smallest.format]} its weights take ${formatBytes(smallest.graphBytes)}, ` +
    `more than a tab's onnxruntime holds beside the activations (its WebAssembly memory is 4 GiB). Use the CLI (\`qkviz extract --model-id ${name}\`), which has no such limit.`
  );
}

/**
 * Downloads a file into its sink with byte progress; a dropped connection resumes with a
 * Range request where it stopped (ATTEMPTS in all), and a file that still ends short says so.
 */
async function downloadFile(plan: HubPlan, ref: HubRef, file: HubFile, sink: DownloadSink, onBytes: (n: number) => void, options: Options): Promise<ByteFile> {
  let got = 0;
  let lastError = '';
  for (let attempt = 0; attempt < ATTEMPTS && got < file.bytes; attempt++) {
    const res = await request(
      fileUrl(plan.endpoint, plan.repo, plan.commit, file.name),
      ref,
      file.name,
      { headers: headersFor(ref, got ? { Range: `bytes=${got}-` } : {}) },
      options,
    );
    if (!res.ok) throw refusal(res, ref, file.name);
    if (got && res.status !== 206) {
      // The server ignored the Range: start the file over.
      onBytes(-got);
      got = 0;
    }
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        if (got + chunk.value.byteLength > file.bytes)
          throw new HubError(
            'truncated',
            `${plan.repo}/${file.name} is larger than its ${file.bytes} bytes: the repository changed during the download; look it up again.`,
          );
        await sink.write(chunk.value, got);
        got += chunk.value.byteLength;
        onBytes(chunk.value.byteLength);
      }
    } catch (e) {
      throwIfAborted(options.signal);
      if (e instanceof HubError) throw e;
      lastError = (e as Error).message;
    }
  }
  if (got < file.bytes) {
    throw new HubError(
      'truncated',
      `The download of ${plan.repo}/${file.name} stopped at ${formatBytes(got)} of ${formatBytes(file.bytes)} after ${ATTEMPTS} tries${lastError ? ` (${lastError})` : ''}: the connection keeps being cut. Try again later; nothing incomplete was kept.`,
    );
  }
  return sink.finish();
}

/** Fetches what a plan names (weights last, with progress over their bytes, each into the sink `sinkFor` gives: memory by default). */
export async function downloadHubModel(
  plan: HubPlan,
  token: string | undefined,
  onProgress: (done: number, total: number) => void,
  options: Options & { sinkFor?: (file: HubFile) => DownloadSink | Promise<DownloadSink> } = {},
): Promise<HubFiles> {
  const ref: HubRef = { endpoint: plan.endpoint, repo: plan.repo, revision: plan.commit, token };
  const text = async (file: string) => {
    const t = await fetchText(ref, plan.commit, file, options);
    if (t === null) throw new HubError('no-tokenizer', `${plan.repo} no longer has ${file} at ${plan.commit.slice(0, 12)}: look it up again.`);
    return t;
  };
  const tokenizer = plan.preprocessor ? undefined : await text('tokenizer.json');
  const tokenizerConfig = plan.tokenizerFiles.includes('tokenizer_config.json') ? await text('tokenizer_config.json') : undefined;
  let done = 0;
  onProgress(0, plan.downloadBytes);
  const weights: ByteFile[] = [];
  for (const file of plan.weights) {
    weights.push(
      await downloadFile(
        plan,
        ref,
        file,
        await (options.sinkFor ?? memorySink)(file),
        (n) => {
          done += n;
          onProgress(done, plan.downloadBytes);
        },
        options,
      ),
    );
  }
  return { config: plan.config, tokenizer, tokenizerConfig, ...(plan.preprocessor ? { preprocessor: plan.preprocessor } : {}), weights };
}

/** One line a person reads before downloading: shape, size, memory. */
export function describePlan(plan: HubPlan): string {
  const s = plan.spec;
  const kv = s.kvHeads !== s.heads ? ` (${s.kvHeads} key heads)` : '';
  const dtype = Object.entries(plan.dtypes)
    .sort((a, b) => b[1] - a[1])
    .map(([d]) => d)
    .join('/');
  return (
    `${s.architecture} · ${s.layers} layers × ${s.heads} heads${kv} · ${plan.parameters >= 1e9 ? `${(plan.parameters / 1e9).toFixed(2)}B` : plan.parameters >= 1e6 ? `${(plan.parameters / 1e6).toFixed(1)}M` : plan.parameters.toLocaleString('en-US')} parameters (${dtype}) · ` +
    `download ${formatBytes(plan.downloadBytes)}${plan.weights.length > 1 ? ` in ${plan.weights.length} shards` : ''}`
  );
}
