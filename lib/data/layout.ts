// A run's data as the analysis, projection and views see it: queries and keys as flat
// Float32Arrays laid out [layer][head][token][dim] over the whole corpus (keys per key head:
// with grouped-query attention a query head reads its group's keys), the tokens, and the
// model's own attention on a sample of sentences (what the recomputed attention is checked
// against). Attention itself is not stored: it is softmax of the queries and keys, recomputed
// where a figure or a view needs it (lib/analysis/attention.ts).
import type { AttentionSpec } from './attention';

export interface ModelShape {
  layers: number;
  /** Query heads. */
  heads: number;
  headDim: number;
  /** Key heads the graph outputs (grouped-query attention); absent = heads. */
  kvHeads?: number;
  /** A decoder: a query's keys are the tokens up to it; attention is 0 past the query. */
  causal?: boolean;
}

/** A token of an image that is not a patch: [CLS], DeiT's distillation token, a DINOv2 register. */
export type SpecialTokenKind = 'cls' | 'distillation' | 'register';

/** A vision model's input: images of one size, cut into a grid of patches after its special tokens. */
export interface ImageSpec {
  /** Pixels the model takes, [height, width]. */
  size: [number, number];
  patch: number;
  /** Patch rows and columns. */
  grid: [number, number];
  /** The tokens before the patches. */
  specials: SpecialTokenKind[];
}

/** The run layout of a model's images. */
export const imageLayout = (spec: ImageSpec): ImageLayout => ({
  height: spec.size[0],
  width: spec.size[1],
  patch: spec.patch,
  grid: spec.grid,
  specials: spec.specials.length,
});

/**
 * An image run: every "sentence" is an image of `height` × `width` pixels, its tokens the
 * `specials` special tokens then the `grid` of `patch`-pixel patches in reading order.
 */
export interface ImageLayout {
  height: number;
  width: number;
  patch: number;
  grid: [number, number];
  specials: number;
}

/** Which of a rotary model's vectors a run holds: after the rotation (what attention uses) or before. */
export type RotaryVectors = 'post' | 'pre';

export interface TokenizedSentence {
  text: string;
  ids: number[];
  tokens: string[];
  /** Row of this sentence's first token in the corpus-wide token arrays. */
  start: number;
  /** Set when this is one part of a sentence that was too long for the model. */
  part?: { index: number; of: number; source: number };
}

/**
 * The model's own attention probabilities for a few sentences spread over the corpus: the
 * run requests them from the model for these sentences only, to check that softmax of the
 * extracted Q/K is the model's attention.
 */
export interface AttentionSample {
  /** Sentence indices, ascending. */
  sentences: Int32Array;
  /** Where each sampled sentence's n×n block starts within one cell's values (length sentences + 1). */
  blocks: Int32Array;
  /** [cell][blocks[last]]: row-major blocks, rows = queries; cell = layer × heads + head. */
  values: Float32Array;
}

export const EMPTY_SAMPLE: AttentionSample = { sentences: new Int32Array(0), blocks: new Int32Array(1), values: new Float32Array(0) };

export interface QueryKeyData extends ModelShape {
  /** A rotary model's run: whether it holds the vectors after the rotation or before it. */
  rotary?: RotaryVectors;
  model: string;
  tokenCount: number;
  sentences: TokenizedSentence[];
  /** Token rows: sentence s spans rows [sentenceStarts[s], sentenceStarts[s + 1]). */
  sentenceStarts: Int32Array;
  /** [layer][head][token][dim]. */
  queries: Float32Array;
  /** [layer][key head][token][dim]: query head h reads key head ⌊h / (heads / kvHeads)⌋. */
  keys: Float32Array;
  /**
   * A run of unrotated vectors (rotary "pre"): the rotated ones, which attention is computed
   * from, laid out as queries and keys. Absent otherwise (queries and keys are those vectors).
   */
  rotated?: { queries: Float32Array; keys: Float32Array };
  /** [layer][key head][token][dim]: the value projection, laid out as keys (absent for a run without them). */
  values?: Float32Array;
  /**
   * [layer][head][token]: ‖f_h(x_j)‖, token j's value through head h's slice of the output
   * projection, so α_ij·‖f_h(x_j)‖ is the norm of what head h moves from j to i. Absent for a
   * run without them (a graph converted before they existed, a bundle from elsewhere).
   */
  valueNorms?: Float32Array;
  /** How each layer computes attention from q·k (scale, soft-capping, a sliding window). */
  attention: AttentionSpec[];
  attentionSample: AttentionSample;
  /** An image run (its pictures: RunVectors.pictures). */
  images?: ImageLayout;
  /** An image run held in memory: its pictures, uint8 [image][height][width][3]. */
  pictures?: Uint8Array;
}

/** A run without its vectors in memory: its shape, tokens and attention sample (the vectors stay in a store, lib/store). */
export type RunData = Omit<QueryKeyData, 'queries' | 'keys' | 'rotated' | 'values' | 'valueNorms' | 'pictures'> & {
  /** Whether the run's store holds value norms (RunVectors.valueNorms reads them a head at a time). */
  hasValueNorms?: boolean;
};

/** A run's data without its vector arrays (what the page holds of it). */
export const runDataOf = ({ queries: _q, keys: _k, rotated: _r, values: _v, pictures: _p, valueNorms, ...rest }: QueryKeyData): RunData => ({
  ...rest,
  ...(valueNorms ? { hasValueNorms: true } : {}),
});

export interface CorpusLayout {
  sentenceStarts: Int32Array;
  /** Where sentence s's n×n block starts among a head's Σ n² query–key pairs. */
  pairStarts: Int32Array;
  tokenCount: number;
  pairCount: number;
}

export function corpusLayout(lengths: ArrayLike<number>): CorpusLayout {
  const sentenceStarts = new Int32Array(lengths.length + 1);
  const pairStarts = new Int32Array(lengths.length + 1);
  for (let s = 0; s < lengths.length; s++) {
    sentenceStarts[s + 1] = sentenceStarts[s] + lengths[s];
    pairStarts[s + 1] = pairStarts[s] + lengths[s] * lengths[s];
  }
  return { sentenceStarts, pairStarts, tokenCount: sentenceStarts[lengths.length], pairCount: pairStarts[lengths.length] };
}

/** Sentence lengths from token rows. */
export const lengthsOf = (sentenceStarts: Int32Array): Int32Array =>
  Int32Array.from({ length: sentenceStarts.length - 1 }, (_, s) => sentenceStarts[s + 1] - sentenceStarts[s]);

/** Key heads of a shape (grouped-query attention), and the key head query head `head` reads. */
export const kvHeadsOf = (shape: ModelShape): number => shape.kvHeads ?? shape.heads;
export const keyHeadOf = (shape: ModelShape, head: number): number => Math.floor(head / (shape.heads / kvHeadsOf(shape)));

/** One head's queries and keys ([token][dim]) as views, no copy. */
export function headVectors(data: QueryKeyData, layer: number, head: number): { q: Float32Array; k: Float32Array } {
  return vectorsOf(data, data.queries, data.keys, layer, head);
}

/** The vectors attention is computed from for one head: the rotated ones of a "pre" run, else the head's own. */
export function attentionVectors(data: QueryKeyData, layer: number, head: number): { q: Float32Array; k: Float32Array } {
  return data.rotated ? vectorsOf(data, data.rotated.queries, data.rotated.keys, layer, head) : headVectors(data, layer, head);
}

function vectorsOf(data: QueryKeyData, queries: Float32Array, keys: Float32Array, layer: number, head: number) {
  const rows = data.tokenCount * data.headDim;
  const q = (layer * data.heads + head) * rows;
  const k = (layer * kvHeadsOf(data) + keyHeadOf(data, head)) * rows;
  return { q: queries.subarray(q, q + rows), k: keys.subarray(k, k + rows) };
}

/** Query head `cell`'s values (its key head's, [token][dim]) as a view, or null when the run has none. */
export function headValues(data: QueryKeyData, cell: number): Float32Array | null {
  if (!data.values) return null;
  const rows = data.tokenCount * data.headDim;
  const k = Math.floor(cell / data.heads) * kvHeadsOf(data) + keyHeadOf(data, cell % data.heads);
  return data.values.subarray(k * rows, (k + 1) * rows);
}

/** One head's value norms ([token]) as a view, or null when the run has none. */
export function headValueNorms(data: QueryKeyData, cell: number): Float32Array | null {
  return data.valueNorms ? data.valueNorms.subarray(cell * data.tokenCount, (cell + 1) * data.tokenCount) : null;
}

/** One cell's values of the attention sample, a view. */
export function sampleOf(sample: AttentionSample, cell: number): Float32Array {
  const size = sample.blocks[sample.blocks.length - 1];
  return sample.values.subarray(cell * size, (cell + 1) * size);
}

/**
 * Whether a run holds its queries and keys. A bundle opened "views only" (its vectors are
 * not in it, or do not fit a tab) has layouts, figures and tokens without them.
 */
export const hasVectors = (data: QueryKeyData): boolean => data.queries.length > 0;
