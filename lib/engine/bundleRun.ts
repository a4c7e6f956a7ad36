// A run as a .qkviz bundle and back (lib/io/bundle is the container): the model card (its
// manifest), the corpus's tokens, the queries, keys and attention, every head's figures and
// normalizations, the layouts computed so far (any mode, method and dimension) and the head
// similarities. The CLI writes them; the page opens them without running a model, and saves
// its own run as one.
import type { Analysis } from '../analysis/analyze';
import type { HeadDistances, HeadSimilarityKind } from '../analysis/headSimilarity';
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
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
import type { RunResult } from '../protocol/model';
import type { ProjectionMethod } from '../projection/project';
import { type QueryKeyData, corpusLayout, hasVectors } from './layout';
import { estimateRunBytes } from './memory';
import { formatBytes } from '../util/format';
import { MAX_RESULT_BYTES } from './limits';

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
const VECTOR_ARRAYS = new Set(['queries', 'keys', 'attention']);

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
    sentences: { text: string; tokens: string[]; ids: number[] }[];
  };
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
  /** Store queries, keys and attention as float16: half the size, ~3 significant digits. */
  float16?: boolean;
  /** "views" leaves the queries, keys and attention out: layouts, figures, similarities and tokens only. */
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
  const arrays: BundleArray[] = views
    ? []
    : [
        vectors('queries', data.queries, [data.layers, data.heads, N, data.headDim]),
        vectors('keys', data.keys, [data.layers, data.heads, N, data.headDim]),
        vectors('attention', data.attention, [data.layers, data.heads, data.attentionStarts[data.sentences.length]]),
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
    data: {
      model: data.model,
      layers: data.layers,
      heads: data.heads,
      headDim: data.headDim,
      kvHeads: data.kvHeads,
      causal: data.causal,
      rotary: data.rotary,
      sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids })),
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
  const memoryBytes = estimateRunBytes(meta.data, lengths).bytes;
  const viewsBytes = infos.filter((i) => !VECTOR_ARRAYS.has(i.name)).reduce((a, i) => a + readBytes(i), 0) + 64 * tokens;
  const what = `${tokens.toLocaleString('en-US')} tokens, ${meta.data.layers} × ${meta.data.heads} heads`;
  if (viewsBytes > limit) {
    throw new BundleError(
      'oversized',
      `This bundle's layouts alone (${what}) need about ${formatBytes(viewsBytes)} in the page, over the ${formatBytes(limit)} a browser tab can safely hold. Write it with fewer layouts (--methods, --dims) or for a smaller corpus.`,
    );
  }
  const held = meta.contents !== 'views';
  const fits = memoryBytes <= limit;
  const viewsOnly = !held
    ? `This bundle holds the layouts, figures and head similarities of ${what}, not the queries, keys and attention (written with --contents views).`
    : !fits
      ? `This run (${what}) needs about ${formatBytes(memoryBytes)} with its queries, keys and attention, over the ${formatBytes(limit)} a tab can safely hold: its layouts, figures and head similarities are shown (${formatBytes(viewsBytes)}), without the vectors.`
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
  const none = new Float32Array(0);
  const data: QueryKeyData = {
    model: d.model,
    layers: d.layers,
    heads: d.heads,
    headDim: d.headDim,
    kvHeads: d.kvHeads,
    causal: d.causal,
    rotary: d.rotary,
    tokenCount: layout.tokenCount,
    sentences: d.sentences.map((s, i) => ({ text: s.text, tokens: s.tokens, ids: s.ids, start: layout.sentenceStarts[i] })),
    sentenceStarts: layout.sentenceStarts,
    attentionStarts: layout.attentionStarts,
    queries: facts.vectors ? floats('queries') : none,
    keys: facts.vectors ? floats('keys') : none,
    attention: facts.vectors ? floats('attention') : none,
  };
  const expected = d.layers * d.heads * layout.tokenCount * d.headDim;
  if (
    facts.vectors &&
    (data.queries.length !== expected || data.keys.length !== expected || data.attention.length !== d.layers * d.heads * layout.attentionSize)
  ) {
    throw new BundleError('corrupt', 'This bundle is corrupt: its arrays do not match its tokens.');
  }
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
    sentences: d.sentences.map((s) => s.text),
    layouts,
    similarities,
    createdAt: meta.createdAt,
    createdBy: meta.createdBy,
    viewsOnly: facts.viewsOnly,
  };
}

/** A whole bundle in memory. */
export const readRunBundle = (bytes: Uint8Array, limit = MAX_RESULT_BYTES) => openRunBundle(bytesSource(bytes), limit);
