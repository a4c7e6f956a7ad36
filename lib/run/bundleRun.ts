// A run as a .qkviz bundle and back (lib/io/bundle is the container): the model card (its
// manifest), the corpus exactly as given and its tokens, the queries and keys, the model's
// own attention on the sampled sentences, every head's figures and normalizations, the
// layouts computed so far (any mode, method and dimension) and the head similarities. The
// CLI writes them; the page opens them without running a model, and saves its own run as one.
// Format 2 holds keys per key head and no attention (it is recomputed from Q/K); format 1
// files (keys per query head, every sentence's attention) are still read.
import type { Analysis } from '../analysis/analyze';
import type { HeadDistances, HeadSimilarityKind } from '../analysis/headSimilarity';
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
import { type AttentionSpec, plainAttention } from '../data/attention';
import { type AttentionSample, type QueryKeyData, type TokenizedSentence, corpusLayout, hasVectors, kvHeadsOf } from '../data/layout';
import { sampleSentences } from '../engine/extract';
import { MAX_RESULT_BYTES } from '../engine/limits';
import {
  type BundleArray,
  type BundleArrayInfo,
  BundleError,
  type BundleHeader,
  type ByteSource,
  bytesSource,
  readSourceArrays,
  readSourceHeader,
  writeBundle,
} from '../io/bundle';
import { fromFloat16, toFloat16 } from '../io/float16';
import type { ProjectionMethod } from '../projection/project';
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
  result: RunResult;
  label: string;
  sentences: string[];
  layouts: BundleLayout[];
  similarities: HeadDistances[];
  createdAt: string;
  createdBy: string;
  /** Set when the run's queries, keys and attention were not read: why, in words. */
  viewsOnly: string | null;
}

/** The arrays a "views" bundle leaves out (and a page leaves unread when they do not fit). */
const VECTOR_ARRAYS = new Set(['queries', 'keys', 'rotated-queries', 'rotated-keys', 'attention', 'attention-sample']);

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
    heads: Analysis['heads'];
    params: Record<NormalizationMode, { translation: number[]; scale: number }[]>;
    attentionCheck: Analysis['attentionCheck'];
  };
  vectors: 'float32' | 'float16';
  /** "views": no queries, keys or attention (for corpora past a tab's memory). */
  contents?: 'full' | 'views';
  layouts: { mode: NormalizationMode; method: ProjectionMethod; dims: 2 | 3; array: string }[];
  similarities: { kind: HeadSimilarityKind; sampled: number; total: number; array: string }[];
}

export interface BundleOptions {
  /** Store queries and keys as float16: half the size, ~3 significant digits. */
  float16?: boolean;
  /** "views" leaves the queries and keys out: layouts, figures, similarities and tokens only. */
  contents?: 'full' | 'views';
  createdBy: string;
}

export function runBundleBytes(bundle: Omit<RunBundle, 'createdAt' | 'createdBy' | 'viewsOnly'>, options: BundleOptions): Uint8Array {
  const { result, label, layouts, similarities } = bundle;
  const { data, analysis } = result;
  const half = options.float16 === true;
  const N = data.tokenCount;
  const cells = data.layers * data.heads;
  const vectors = (name: string, values: Float32Array, shape: number[]): BundleArray =>
    half ? { name, dtype: 'float16', shape, data: toFloat16(values) } : { name, dtype: 'float32', shape, data: values };
  const views = options.contents === 'views' || !hasVectors(data);
  const KV = kvHeadsOf(data);
  const qShape = [data.layers, data.heads, N, data.headDim];
  const kShape = [data.layers, KV, N, data.headDim];
  const sample = data.attentionSample;
  const arrays: BundleArray[] = views
    ? []
    : [
        vectors('queries', data.queries, qShape),
        vectors('keys', data.keys, kShape),
        ...(data.rotated ? [vectors('rotated-queries', data.rotated.queries, qShape), vectors('rotated-keys', data.rotated.keys, kShape)] : []),
        { name: 'attention-sample', dtype: 'float32', shape: [data.layers, data.heads, sample.blocks[sample.blocks.length - 1]], data: sample.values },
      ];
  const layoutMeta = layouts.map((l, i) => {
    const name = `layout${i}`;
    const packed = new Float32Array(cells * 2 * N * l.dims);
    l.heads.forEach((c, cell) => packed.set(c, cell * 2 * N * l.dims));
    arrays.push({ name, dtype: 'float32', shape: [data.layers, data.heads, 2 * N, l.dims], data: packed });
    return { mode: l.mode, method: l.method, dims: l.dims, array: name };
  });
  const similarityMeta = similarities.map((d) => {
    const name = `similarity-${d.kind}`;
    arrays.push({ name, dtype: 'float32', shape: [cells, cells], data: d.values });
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
      attention: data.attention,
      attentionSample: Array.from(sample.sentences),
      model: data.model,
      layers: data.layers,
      heads: data.heads,
      headDim: data.headDim,
      kvHeads: data.kvHeads,
      causal: data.causal,
      rotary: data.rotary,
      sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids, ...(s.part ? { part: s.part } : {}) })),
    },
    analysis: {
      heads: analysis.heads,
      params: Object.fromEntries(
        NORMALIZATION_MODES.map((m) => [m, analysis.params[m].map((p) => ({ translation: Array.from(p.translation), scale: p.scale }))]),
      ) as Meta['analysis']['params'],
      attentionCheck: analysis.attentionCheck,
    },
    vectors: half ? 'float16' : 'float32',
    contents: views ? 'views' : 'full',
    layouts: layoutMeta,
    similarities: similarityMeta,
  };
  return writeBundle(meta, arrays);
}

/** Bytes an array takes once read (float16 is widened to float32). */
const readBytes = (info: BundleArrayInfo) => (info.dtype === 'float16' ? 2 * info.byteLength : info.byteLength);

export interface BundleFacts {
  meta: Meta;
  lengths: number[];
  /** Memory the whole run takes in the page, and its views alone (layouts, similarities, tokens). */
  memoryBytes: number;
  viewsBytes: number;
  /** Whether the page reads the vectors: they are in the bundle and fit. */
  vectors: boolean;
  /** Why they are not read, in words; null when they are. */
  viewsOnly: string | null;
}

/** What a bundle holds, from its header alone, and what of it a tab can hold; refuses a bundle whose views alone do not fit. */
function describeBundle({ meta, infos }: BundleHeader<Meta>, limit: number): BundleFacts {
  if (meta?.kind !== BUNDLE_KIND) throw new BundleError('not-a-bundle', 'This bundle does not hold a QKViz run.');
  const lengths = meta.data.sentences.map((s) => s.ids.length);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  // In the page the run holds its vectors as read (float16 widened), plus what a run's analysis works with.
  const memoryBytes = estimateRunBytes({ ...meta.data, rotaryPre: infos.some((i) => i.name === 'rotated-queries') }, lengths).bytes;
  const viewsBytes = infos.filter((i) => !VECTOR_ARRAYS.has(i.name)).reduce((a, i) => a + readBytes(i), 0) + 64 * tokens;
  const what = `${formatCount(tokens)} tokens, ${meta.data.layers} × ${meta.data.heads} heads`;
  if (viewsBytes > limit) {
    throw new BundleError(
      'oversized',
      `This bundle's layouts alone (${what}) need about ${formatBytes(viewsBytes)} in the page, over the ${formatBytes(limit)} a browser tab can safely hold. Write it with fewer layouts (--methods, --dims) or for a smaller corpus.`,
    );
  }
  const held = meta.contents !== 'views';
  const fits = memoryBytes <= limit;
  const viewsOnly = !held
    ? `This bundle holds the layouts, figures and head similarities of ${what}, not the queries and keys (written with --contents views).`
    : !fits
      ? `This run (${what}) needs about ${formatBytes(memoryBytes)} with its queries and keys, over the ${formatBytes(limit)} a tab can safely hold: its layouts, figures and head similarities are shown (${formatBytes(viewsBytes)}), without the vectors.`
      : null;
  return { meta, lengths, memoryBytes, viewsBytes, vectors: held && fits, viewsOnly };
}

/** Opens a run bundle from a byte source: everything when it fits, else its views (and says so). */
export async function openRunBundle(source: ByteSource, limit = MAX_RESULT_BYTES): Promise<RunBundle> {
  const header = await readSourceHeader<Meta>(source);
  const facts = describeBundle(header, limit);
  const { meta, lengths } = facts;
  const arrays = await readSourceArrays(source, header, (info) => facts.vectors || !VECTOR_ARRAYS.has(info.name));
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
  const none: Float32Array = new Float32Array(0);
  const KV = d.kvHeads ?? d.heads;
  const N = layout.tokenCount;
  let queries: Float32Array = none;
  let keys: Float32Array = none;
  let rotated: QueryKeyData['rotated'];
  let attentionSample: AttentionSample = { sentences: new Int32Array(0), blocks: new Int32Array(1), values: none };
  if (facts.vectors) {
    queries = floats('queries');
    keys = floats('keys');
    if (arrays.has('rotated-queries')) rotated = { queries: floats('rotated-queries'), keys: floats('rotated-keys') };
    // Format 1 repeated a group's keys for each of its query heads, and held every sentence's attention.
    if (header.version === 1) keys = firstOfGroups(keys, d.layers, d.heads, KV, N * d.headDim);
    attentionSample =
      header.version === 1
        ? sampleOfFullAttention(floats('attention'), lengths, d.layers * d.heads)
        : sampleFrom(d.attentionSample ?? [], lengths, floats('attention-sample'));
    const rows = N * d.headDim;
    if (queries.length !== d.layers * d.heads * rows || keys.length !== d.layers * KV * rows)
      throw new BundleError('corrupt', 'This bundle is corrupt: its arrays do not match its tokens.');
  }
  const data: QueryKeyData = {
    model: d.model,
    layers: d.layers,
    heads: d.heads,
    headDim: d.headDim,
    kvHeads: d.kvHeads,
    causal: d.causal,
    rotary: d.rotary,
    tokenCount: N,
    sentences: d.sentences.map((s, i) => ({
      text: s.text,
      tokens: s.tokens,
      ids: s.ids,
      start: layout.sentenceStarts[i],
      ...(s.part ? { part: s.part } : {}),
    })),
    sentenceStarts: layout.sentenceStarts,
    queries,
    keys,
    ...(rotated ? { rotated } : {}),
    attention: d.attention ?? plainAttention(d.layers, d.headDim),
    attentionSample,
  };
  const analysis: Analysis = {
    heads: meta.analysis.heads,
    params: Object.fromEntries(
      NORMALIZATION_MODES.map((m) => [m, meta.analysis.params[m].map((p) => ({ translation: Float64Array.from(p.translation), scale: p.scale }))]),
    ) as Analysis['params'],
    attentionCheck: meta.analysis.attentionCheck,
  };
  const cells = d.layers * d.heads;
  const points = 2 * layout.tokenCount;
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
  return {
    result: { manifest: meta.manifest, device: meta.device, data, analysis, notices: meta.notices, timings: meta.timings, attentionError: meta.attentionError },
    label: meta.label,
    // The corpus as it was given (format 1 kept only the sentences as the model read them).
    sentences: meta.corpus ?? d.sentences.map((s) => s.text),
    layouts,
    similarities,
    createdAt: meta.createdAt,
    createdBy: meta.createdBy,
    viewsOnly: facts.viewsOnly,
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

function sampleFrom(sentences: number[], lengths: number[], values: Float32Array): AttentionSample {
  return { sentences: Int32Array.from(sentences), blocks: corpusLayout(sentences.map((s) => lengths[s])).pairStarts, values };
}
