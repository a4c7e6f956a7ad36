// A run as a .qkviz bundle and back (lib/io/bundle is the container): the model card, the
// corpus exactly as given and its tokens, the queries and keys (each head checksummed on its
// own), the model's attention on the sampled sentences, every head's figures and
// normalizations, the layouts computed so far and the head similarities. A bundle is the run
// store's files end to end behind one header: it is written from a stored run without holding
// it (the page assembles it from the store's files; the CLI streams them), and opened as a
// run store read in place — the page reads a head at a time from the file, never the whole
// bundle. Format 1 files (keys per query head, every sentence's attention, whole-array
// checksums) are still opened, read whole.
import type { Analysis } from '../analysis/analyze';
import type { HeadDistances, HeadSimilarityKind } from '../analysis/headSimilarity';
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
import { type AttentionSpec, plainAttention } from '../data/attention';
import { type AttentionSample, type QueryKeyData, type RunData, type TokenizedSentence, corpusLayout, kvHeadsOf } from '../data/layout';
import { sampleSentences } from '../engine/extract';
import { MAX_RESULT_BYTES } from '../engine/limits';
import {
  type BundleArrayInfo,
  type BundleArraySpec,
  BundleError,
  type BundleHeader,
  type BundlePlan,
  type ByteSource,
  bytesSource,
  planBundle,
  readSourceArrays,
  readSourceHeader,
} from '../io/bundle';
import { crc32 } from '../io/crc32';
import { fromFloat16 } from '../io/float16';
import type { ProjectionMethod } from '../projection/project';
import type { ReadableStoreFile, StoreFolder, StoreRoot } from '../store/files';
import {
  type CellFile,
  RECORD_FILE,
  RunReader,
  STORE_FORMAT,
  STORE_VERSION,
  type StoredRun,
  VALUE_NORMS_FILE,
  type VectorDtype,
  storedShapeOf,
  type VectorFile,
} from '../store/runStore';
import { formatBytes, formatCount } from '../util/format';
import { estimateRunBytes } from './plan';
import type { RunResult } from './types';

export const BUNDLE_KIND = 'qkviz-run';

export interface BundleLayout {
  mode: NormalizationMode;
  method: ProjectionMethod;
  dims: 2 | 3;
  /** One [2N][dims] layout per head (cell order). */
  heads: Float32Array[];
}

export interface RunBundle {
  /** The run as the page shows it (its `vectors` are the caller's to point at the file). */
  result: Omit<RunResult, 'vectors'>;
  label: string;
  /** The corpus as it was given. */
  sentences: string[];
  layouts: BundleLayout[];
  similarities: HeadDistances[];
  createdAt: string;
  createdBy: string;
  /** The queries and keys, read in place from the bundle (format 2); null for a views bundle. */
  vectors: RunReader | null;
  /** A format-1 bundle's run, read whole (the caller stores it); null otherwise. */
  legacy: QueryKeyData | null;
  /** Set when the bundle holds no queries and keys: why, in words. */
  viewsOnly: string | null;
}

/** The arrays a "views" bundle leaves out. */
const VECTOR_ARRAYS = new Set(['queries', 'keys', 'rotated-queries', 'rotated-keys', 'values', 'attention', 'attention-sample', VALUE_NORMS_FILE]);
const VECTOR_FILES: VectorFile[] = ['queries', 'keys', 'rotated-queries', 'rotated-keys', 'values'];
/** The per-cell arrays a full bundle reads in place, a head at a time, each head checksummed. */
const CELL_FILES: CellFile[] = [...VECTOR_FILES, VALUE_NORMS_FILE];

interface Meta {
  kind: typeof BUNDLE_KIND;
  createdAt: string;
  createdBy: string;
  label: string;
  manifest: RunResult['manifest'];
  device: RunResult['device'];
  timings: RunResult['timings'];
  attentionError: number;
  notices: string[];
  data: {
    model: string;
    layers: number;
    heads: number;
    headDim: number;
    kvHeads?: number;
    causal?: boolean;
    rotary?: 'post' | 'pre';
    sentences: { text: string; tokens: string[]; ids: number[]; part?: TokenizedSentence['part'] }[];
    /** Format 2: how each layer computes attention, and which sentences the model's attention was kept for. */
    attention?: AttentionSpec[];
    attentionSample?: number[];
  };
  /** Format 2: the corpus as given, one entry per sentence (parts of a split sentence are one). */
  corpus?: string[];
  analysis: {
    scored?: boolean;
    heads: Analysis['heads'];
    params: Record<NormalizationMode, { translation: number[]; scale: number }[]>;
    attentionCheck: Analysis['attentionCheck'];
  };
  vectors: VectorDtype;
  /** "views": no queries or keys (for a bundle of layouts only). */
  contents?: 'full' | 'views';
  layouts: { mode: NormalizationMode; method: ProjectionMethod; dims: 2 | 3; array: string }[];
  similarities: { kind: HeadSimilarityKind; sampled: number; total: number; array: string }[];
}

export interface BundleOptions {
  /** "views" leaves the queries and keys out: layouts, figures, similarities and tokens only. */
  contents?: 'full' | 'views';
  createdBy: string;
}

/** Where a bundle's array bytes come from: a file of the run store, or bytes in memory. */
export type BundleSource = { file: string } | { bytes: Uint8Array };

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A bundle of a stored run (`vectors`, its reader) laid out: the header, then where each
 * array's bytes come from — the store's files for the vectors, memory for the rest. The
 * caller writes the pieces (the page as one Blob of the store's files, the CLI to a file).
 */
export function planRunBundle(
  bundle: {
    result: Omit<RunResult, 'vectors'>;
    vectors: RunReader | null;
    label: string;
    sentences: string[];
    layouts: BundleLayout[];
    similarities: HeadDistances[];
  },
  options: BundleOptions,
): BundlePlan<BundleSource> {
  const { result, vectors, label, layouts, similarities } = bundle;
  const { data, analysis } = result;
  const N = data.tokenCount;
  const cells = data.layers * data.heads;
  const views = options.contents === 'views' || !vectors;
  const dtype = vectors?.record.dtype ?? 'float32';
  const arrays: BundleArraySpec<BundleSource>[] = [];
  if (!views && vectors) {
    const KV = kvHeadsOf(data);
    const size = dtype === 'float16' ? 2 : 4;
    for (const name of VECTOR_FILES) {
      const chunks = vectors.record.checksums[name];
      if (!chunks) continue;
      const heads = name.endsWith('keys') || name === 'values' ? KV : data.heads;
      arrays.push({
        name,
        dtype,
        shape: [data.layers, heads, N, data.headDim],
        byteLength: data.layers * heads * N * data.headDim * size,
        chunks,
        source: { file: `${name}.bin` },
      });
    }
    const norms = vectors.record.checksums[VALUE_NORMS_FILE];
    if (norms)
      arrays.push({
        name: VALUE_NORMS_FILE,
        dtype: 'float32',
        shape: [data.layers, data.heads, N],
        byteLength: cells * N * 4,
        chunks: norms,
        source: { file: `${VALUE_NORMS_FILE}.bin` },
      });
    const sample = bytesOf(data.attentionSample.values);
    arrays.push({
      name: 'attention-sample',
      dtype: 'float32',
      shape: [data.layers, data.heads, data.attentionSample.blocks[data.attentionSample.blocks.length - 1]],
      byteLength: sample.byteLength,
      crc32: crc32(sample),
      source: { bytes: sample },
    });
  }
  const memory = (name: string, values: Float32Array, shape: number[]) => {
    const bytes = bytesOf(values);
    arrays.push({ name, dtype: 'float32', shape, byteLength: bytes.byteLength, crc32: crc32(bytes), source: { bytes } });
  };
  const layoutMeta = layouts.map((l, i) => {
    const name = `layout${i}`;
    const packed = new Float32Array(cells * 2 * N * l.dims);
    l.heads.forEach((c, cell) => {
      // A bundle holds every point of every head (an overview would read back as a shorter run).
      if (c.length !== 2 * N * l.dims) throw new Error(`layout ${l.method} ${l.dims}D of head ${cell} has ${c.length / l.dims} points, not the run's ${2 * N}`);
      packed.set(c, cell * 2 * N * l.dims);
    });
    memory(name, packed, [data.layers, data.heads, 2 * N, l.dims]);
    return { mode: l.mode, method: l.method, dims: l.dims, array: name };
  });
  const similarityMeta = similarities.map((d) => {
    const name = `similarity-${d.kind}`;
    memory(name, d.values, [cells, cells]);
    return { kind: d.kind, sampled: d.sampled, total: d.total, array: name };
  });
  const meta: Meta = {
    kind: BUNDLE_KIND,
    createdAt: new Date().toISOString(),
    createdBy: options.createdBy,
    label,
    manifest: result.manifest,
    device: result.device,
    timings: result.timings,
    attentionError: result.attentionError,
    notices: result.notices,
    corpus: bundle.sentences,
    data: {
      model: data.model,
      layers: data.layers,
      heads: data.heads,
      headDim: data.headDim,
      kvHeads: data.kvHeads,
      causal: data.causal,
      rotary: data.rotary,
      sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids, ...(s.part ? { part: s.part } : {}) })),
      attention: data.attention,
      attentionSample: Array.from(data.attentionSample.sentences),
    },
    analysis: {
      scored: analysis.scored,
      heads: analysis.heads,
      params: Object.fromEntries(
        NORMALIZATION_MODES.map((m) => [m, analysis.params[m].map((p) => ({ translation: Array.from(p.translation), scale: p.scale }))]),
      ) as Meta['analysis']['params'],
      attentionCheck: analysis.attentionCheck,
    },
    vectors: dtype,
    contents: views ? 'views' : 'full',
    layouts: layoutMeta,
    similarities: similarityMeta,
  };
  return planBundle(meta, arrays);
}

/** A bundle plan's bytes in memory (the CLI's and the tests'; the page assembles a Blob instead). */
export async function bundleBytes(plan: BundlePlan<BundleSource>, folder: StoreFolder | null): Promise<Uint8Array> {
  const out = new Uint8Array(plan.size);
  out.set(plan.head, 0);
  for (const p of plan.pieces) {
    if ('bytes' in p.source) out.set(p.source.bytes, p.at);
    else {
      const file = folder && (await folder.open(p.source.file));
      if (!file) throw new Error(`the run store lacks ${p.source.file}`);
      out.set(await file.read(0, p.byteLength), p.at);
    }
  }
  return out;
}

/** Bytes an array takes once read (float16 is widened to float32). */
const readBytes = (info: BundleArrayInfo) => (info.dtype === 'float16' ? 2 * info.byteLength : info.byteLength);

/** What a bundle holds from its header alone; refuses one whose views (or, format 1, whole run) do not fit a tab. */
function describeBundle({ meta, infos, version }: BundleHeader<Meta>, limit: number): { lengths: number[]; viewsOnly: string | null } {
  if (meta?.kind !== BUNDLE_KIND) throw new BundleError('not-a-bundle', 'This bundle does not hold a QKViz run.');
  const lengths = meta.data.sentences.map((s) => s.ids.length);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const what = `${formatCount(tokens)} tokens, ${meta.data.layers} × ${meta.data.heads} heads`;
  const viewsBytes = infos.filter((i) => !VECTOR_ARRAYS.has(i.name)).reduce((a, i) => a + readBytes(i), 0) + 64 * tokens;
  if (viewsBytes > limit) {
    throw new BundleError(
      'oversized',
      `This bundle's layouts alone (${what}) need about ${formatBytes(viewsBytes)} in the page, over the ${formatBytes(limit)} a browser tab can safely hold. Write it with fewer layouts (--methods, --dims) or for a smaller corpus.`,
    );
  }
  const held = meta.contents !== 'views';
  if (held && version === 1) {
    // Format 1 is read whole: its vectors and every sentence's attention must fit.
    const memory = estimateRunBytes(meta.data, lengths).bytes + infos.filter((i) => i.name === 'attention').reduce((a, i) => a + readBytes(i), 0);
    if (memory > limit)
      throw new BundleError(
        'oversized',
        `This format-1 bundle (${what}) is read whole and needs about ${formatBytes(memory)}, over the ${formatBytes(limit)} a tab can safely hold. Write it again with this version of QKViz (format 2 is read a head at a time).`,
      );
  }
  return {
    lengths,
    viewsOnly: held
      ? null
      : `This bundle holds the layouts, figures and head similarities of ${what}, not the queries and keys (written with --contents views).`,
  };
}

/** A read-only run store over a format-2 bundle: its vector arrays are the store's files, its header the run's record. */
function bundleStore(source: ByteSource, header: BundleHeader<Meta>, data: RunData, dtype: VectorDtype): StoreRoot {
  const files = new Map<string, ReadableStoreFile>();
  for (const info of header.infos) {
    const start = header.dataStart + info.offset;
    const name = info.name === 'attention-sample' ? 'attention-sample.bin' : `${info.name}.bin`;
    files.set(name, {
      size: info.byteLength,
      read: (a, b) => source.read(start + a, start + Math.min(b, info.byteLength)),
      ...(source.slice ? { blob: async () => source.slice!(start, start + info.byteLength) } : {}),
    });
  }
  const record: StoredRun<null> = {
    format: STORE_FORMAT,
    version: STORE_VERSION,
    complete: true,
    id: 'bundle',
    createdAt: header.meta.createdAt,
    shape: storedShapeOf(data),
    attention: data.attention,
    dtype,
    tokenCount: data.tokenCount,
    sentences: data.sentences.map(({ start: _, ...s }) => s),
    sample: Array.from(data.attentionSample.sentences),
    checksums: Object.fromEntries(header.infos.filter((i) => i.chunks && CELL_FILES.includes(i.name as CellFile)).map((i) => [i.name, i.chunks!])),
    bytes: 0,
    extra: null,
  };
  const json = new TextEncoder().encode(JSON.stringify(record));
  files.set(RECORD_FILE, { size: json.length, read: async (a, b) => json.slice(a, b) });
  const folder: StoreFolder = {
    name: 'bundle',
    create: async () => {
      throw new Error('a bundle is read-only');
    },
    open: async (file) => files.get(file) ?? null,
    files: async () => [...files.keys()],
  };
  return {
    folder: async (name) => (name === 'bundle' ? folder : null),
    folders: async () => ['bundle'],
    remove: async () => {},
    estimate: async () => null,
  };
}

/** Opens a run bundle: its views read now, its vectors (format 2) read in place a head at a time. */
export async function openRunBundle(source: ByteSource, limit = MAX_RESULT_BYTES): Promise<RunBundle> {
  const header = await readSourceHeader<Meta>(source);
  const { lengths, viewsOnly } = describeBundle(header, limit);
  const { meta, version } = header;
  const legacyVectors = version === 1 && !viewsOnly;
  // Every array but the vectors is read (and checked) now; format 1's vectors too, whole.
  const arrays = await readSourceArrays(source, header, (info) => !VECTOR_ARRAYS.has(info.name) || legacyVectors || info.name === 'attention-sample');
  for (const info of header.infos) {
    const end = header.dataStart + info.offset + info.byteLength;
    if (end > source.size)
      throw new BundleError(
        'truncated',
        `This bundle is truncated: ${info.name} runs to byte ${end.toLocaleString('en-US')}, the file has ${source.size.toLocaleString('en-US')} (an interrupted download or copy?).`,
      );
  }
  const array = (name: string) => {
    const a = arrays.get(name);
    if (!a) throw new BundleError('corrupt', `This bundle lacks its ${name} array.`);
    return a;
  };
  const floats = (name: string) => {
    const a = array(name);
    return a.dtype === 'float16' ? fromFloat16(a.data as Uint16Array) : (a.data as Float32Array);
  };
  const layout = corpusLayout(lengths);
  const d = meta.data;
  const N = layout.tokenCount;
  const KV = d.kvHeads ?? d.heads;
  let attentionSample: AttentionSample = { sentences: new Int32Array(0), blocks: new Int32Array(1), values: new Float32Array(0) };
  let legacy: QueryKeyData | null = null;
  const base: RunData = {
    model: d.model,
    layers: d.layers,
    heads: d.heads,
    headDim: d.headDim,
    kvHeads: KV,
    causal: d.causal ?? false,
    ...(d.rotary ? { rotary: d.rotary } : {}),
    tokenCount: N,
    sentences: d.sentences.map((s, i) => ({
      text: s.text,
      tokens: s.tokens,
      ids: s.ids,
      start: layout.sentenceStarts[i],
      ...(s.part ? { part: s.part } : {}),
    })),
    sentenceStarts: layout.sentenceStarts,
    attention: d.attention ?? plainAttention(d.layers, d.headDim),
    attentionSample,
  };
  if (legacyVectors) {
    // Format 1 repeated a group's keys for each of its query heads, and held every sentence's attention.
    const queries = floats('queries');
    const keys = firstOfGroups(floats('keys'), d.layers, d.heads, KV, N * d.headDim);
    attentionSample = sampleOfFullAttention(floats('attention'), lengths, d.layers * d.heads);
    if (queries.length !== d.layers * d.heads * N * d.headDim || keys.length !== d.layers * KV * N * d.headDim)
      throw new BundleError('corrupt', 'This bundle is corrupt: its arrays do not match its tokens.');
    legacy = { ...base, attentionSample, queries, keys };
  } else if (!viewsOnly) {
    attentionSample = {
      sentences: Int32Array.from(d.attentionSample ?? []),
      blocks: corpusLayout((d.attentionSample ?? []).map((s) => lengths[s])).pairStarts,
      values: floats('attention-sample'),
    };
    for (const name of ['queries', 'keys']) {
      const info = header.infos.find((i) => i.name === name);
      const heads = name === 'keys' ? KV : d.heads;
      if (!info || info.shape.join() !== [d.layers, heads, N, d.headDim].join())
        throw new BundleError('corrupt', 'This bundle is corrupt: its arrays do not match its tokens.');
    }
  }
  const withNorms = !viewsOnly && !legacyVectors && header.infos.some((i) => i.name === VALUE_NORMS_FILE && i.chunks);
  const data: RunData = { ...base, attentionSample, ...(withNorms ? { hasValueNorms: true } : {}) };
  const analysis: Analysis = {
    scored: meta.analysis.scored ?? true,
    heads: meta.analysis.heads,
    params: Object.fromEntries(
      NORMALIZATION_MODES.map((m) => [m, meta.analysis.params[m].map((p) => ({ translation: Float64Array.from(p.translation), scale: p.scale }))]),
    ) as Analysis['params'],
    attentionCheck: meta.analysis.attentionCheck,
  };
  const cells = d.layers * d.heads;
  const points = 2 * N;
  const layouts = meta.layouts.map((l) => {
    const packed = floats(l.array);
    return {
      mode: l.mode,
      method: l.method,
      dims: l.dims,
      heads: Array.from({ length: cells }, (_, c) => packed.subarray(c * points * l.dims, (c + 1) * points * l.dims)),
    };
  });
  const similarities = meta.similarities.map((s) => ({ kind: s.kind, cells, values: floats(s.array), sampled: s.sampled, total: s.total }));
  const vectors = !viewsOnly && !legacy ? await RunReader.open<null>(bundleStore(source, header, data, meta.vectors), 'bundle') : null;
  return {
    result: { manifest: meta.manifest, device: meta.device, data, analysis, notices: meta.notices, timings: meta.timings, attentionError: meta.attentionError },
    label: meta.label,
    // The corpus as it was given (format 1 kept only the sentences as the model read them).
    sentences: meta.corpus ?? d.sentences.map((s) => s.text),
    layouts,
    similarities,
    createdAt: meta.createdAt,
    createdBy: meta.createdBy,
    vectors,
    legacy,
    viewsOnly,
  };
}

/** A whole bundle in memory. */
export const readRunBundle = (bytes: Uint8Array, limit = MAX_RESULT_BYTES) => openRunBundle(bytesSource(bytes), limit);

/** Keys [layer][query head] with a group's keys repeated → [layer][key head] (the first of each group). */
function firstOfGroups(keys: Float32Array, layers: number, heads: number, kvHeads: number, rows: number): Float32Array {
  if (kvHeads === heads) return keys;
  const out = new Float32Array(layers * kvHeads * rows);
  const group = heads / kvHeads;
  for (let l = 0; l < layers; l++)
    for (let g = 0; g < kvHeads; g++) out.set(keys.subarray((l * heads + g * group) * rows, (l * heads + g * group + 1) * rows), (l * kvHeads + g) * rows);
  return out;
}

/** A format-1 bundle's attention (every sentence) → the sample a run keeps. */
function sampleOfFullAttention(attention: Float32Array, lengths: number[], cells: number): AttentionSample {
  const full = corpusLayout(lengths);
  const sentences = sampleSentences(lengths, cells);
  const sampled = corpusLayout(Array.from(sentences, (s) => lengths[s]));
  const values = new Float32Array(cells * sampled.pairCount);
  for (let c = 0; c < cells; c++) {
    sentences.forEach((s, i) => {
      const from = c * full.pairCount + full.pairStarts[s];
      values.set(attention.subarray(from, from + lengths[s] ** 2), c * sampled.pairCount + sampled.pairStarts[i]);
    });
  }
  return { sentences, blocks: sampled.pairStarts, values };
}
