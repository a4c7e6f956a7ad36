// A run as a .qkviz bundle and back (lib/io/bundle is the container): the model card (its
// manifest), the corpus's tokens, the queries, keys and attention, every head's figures and
// normalizations, the layouts computed so far (any mode, method and dimension) and the head
// similarities. The CLI writes them; the page opens them without running a model, and saves
// its own run as one.
import type { Analysis } from '../analysis/analyze';
import type { HeadDistances, HeadSimilarityKind } from '../analysis/headSimilarity';
import { NORMALIZATION_MODES, type NormalizationMode } from '../analysis/normalize';
import { type BundleArray, type BundleContents, BundleError, readBundle, readBundleHeader, writeBundle } from '../io/bundle';
import { fromFloat16, toFloat16 } from '../io/float16';
import type { RunResult } from '../protocol/model';
import type { ProjectionMethod } from '../projection/project';
import { type QueryKeyData, corpusLayout } from './layout';
import { estimateRunBytes, formatBytes } from './memory';
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
}

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
  data: { model: string; layers: number; heads: number; headDim: number; kvHeads?: number; causal?: boolean; rotary?: 'post' | 'pre'; sentences: { text: string; tokens: string[]; ids: number[] }[] };
  analysis: { heads: Analysis['heads']; params: Record<NormalizationMode, { translation: number[]; scale: number }[]>; attentionCheck: Analysis['attentionCheck'] };
  vectors: 'float32' | 'float16';
  layouts: { mode: NormalizationMode; method: ProjectionMethod; dims: 2 | 3; array: string }[];
  similarities: { kind: HeadSimilarityKind; sampled: number; total: number; array: string }[];
}

export interface BundleOptions {
  /** Store queries, keys and attention as float16: half the size, ~3 significant digits. */
  float16?: boolean;
  createdBy: string;
}

export function runBundleBytes(bundle: Omit<RunBundle, 'createdAt' | 'createdBy'>, options: BundleOptions): Uint8Array {
  const { result, label, layouts, similarities } = bundle;
  const { data, analysis } = result;
  const half = options.float16 === true;
  const N = data.tokenCount;
  const cells = data.layers * data.heads;
  const vectors = (name: string, values: Float32Array, shape: number[]): BundleArray => (half ? { name, dtype: 'float16', shape, data: toFloat16(values) } : { name, dtype: 'float32', shape, data: values });
  const arrays: BundleArray[] = [
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
    data: { model: data.model, layers: data.layers, heads: data.heads, headDim: data.headDim, kvHeads: data.kvHeads, causal: data.causal, rotary: data.rotary, sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids })) },
    analysis: {
      heads: analysis.heads,
      params: Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, analysis.params[m].map((p) => ({ translation: Array.from(p.translation), scale: p.scale }))])) as Meta['analysis']['params'],
      attentionCheck: analysis.attentionCheck,
    },
    vectors: half ? 'float16' : 'float32',
    layouts: layoutMeta,
    similarities: similarityMeta,
  };
  return writeBundle(meta, arrays);
}

/** What a bundle holds, from its header alone, with the memory opening it needs; refuses what a tab cannot hold. */
export function describeBundle(bytes: Uint8Array, limit = MAX_RESULT_BYTES): { meta: Meta; lengths: number[]; memoryBytes: number } {
  const { meta } = readBundleHeader<Meta>(bytes);
  if (meta?.kind !== BUNDLE_KIND) throw new BundleError('not-a-bundle', 'This bundle does not hold a QKViz run.');
  const lengths = meta.data.sentences.map((s) => s.ids.length);
  const memoryBytes = estimateRunBytes(meta.data, lengths).bytes;
  if (memoryBytes > limit) {
    const tokens = lengths.reduce((a, b) => a + b, 0);
    throw new BundleError(
      'oversized',
      `This bundle's run (${tokens.toLocaleString('en-US')} tokens, ${meta.data.layers} × ${meta.data.heads} heads) needs about ${formatBytes(memoryBytes)} in the page, over the ${formatBytes(limit)} a browser tab can safely hold. Open a bundle of a smaller corpus, or read this one with the CLI.`,
    );
  }
  return { meta, lengths, memoryBytes };
}

export function readRunBundle(bytes: Uint8Array, limit = MAX_RESULT_BYTES): RunBundle {
  const { meta, lengths } = describeBundle(bytes, limit);
  const contents: BundleContents<Meta> = readBundle<Meta>(bytes);
  const array = (name: string) => {
    const a = contents.arrays.get(name);
    if (!a) throw new BundleError('corrupt', `This bundle lacks its ${name} array.`);
    return a;
  };
  const floats = (name: string) => {
    const a = array(name);
    return a.dtype === 'float16' ? fromFloat16(a.data as Uint16Array) : (a.data as Float32Array);
  };
  const layout = corpusLayout(lengths);
  const d = meta.data;
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
    queries: floats('queries'),
    keys: floats('keys'),
    attention: floats('attention'),
  };
  const expected = d.layers * d.heads * layout.tokenCount * d.headDim;
  if (data.queries.length !== expected || data.keys.length !== expected || data.attention.length !== d.layers * d.heads * layout.attentionSize) {
    throw new BundleError('corrupt', 'This bundle is corrupt: its arrays do not match its tokens.');
  }
  const analysis: Analysis = {
    heads: meta.analysis.heads,
    params: Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, meta.analysis.params[m].map((p) => ({ translation: Float64Array.from(p.translation), scale: p.scale }))])) as Analysis['params'],
    attentionCheck: meta.analysis.attentionCheck,
  };
  const cells = d.layers * d.heads;
  const points = 2 * layout.tokenCount;
  const layouts = meta.layouts.map((l) => {
    const packed = floats(l.array);
    return { mode: l.mode, method: l.method, dims: l.dims, heads: Array.from({ length: cells }, (_, c) => packed.slice(c * points * l.dims, (c + 1) * points * l.dims)) };
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
  };
}
