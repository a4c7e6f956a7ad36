// The extraction as files a researcher can load with numpy: tokens.json (sentences with
// tokens, ids and first row; how each layer computes attention), queries.npy
// [layers, heads, N, headDim] and keys.npy [layers, kvHeads, N, headDim] raw, the rotated
// vectors of a run of unrotated ones, value_norms.npy [layers, heads, N] (‖f_h(x_j)‖, where
// the graph gives them), and — when asked for — attention.npy
// [layers, heads, Σ n²], the model's own attention for every sentence (each sentence's
// row-major block, in sentence order).
import type { AttentionSpec } from '../data/attention';
import { plainAttention } from '../data/attention';
import { type AttentionSample, type QueryKeyData, type RotaryVectors, corpusLayout, kvHeadsOf } from '../data/layout';
import { encodeNpy } from '../io/npy';

export interface TokensFile {
  model: string;
  layers: number;
  heads: number;
  headDim: number;
  /** config.json's architecture (e.g. "LlamaForCausalLM"); absent in files from before decoders. */
  architecture?: string;
  /** The model's key heads: keys.npy has this many (query head h reads key head ⌊h / (heads / kvHeads)⌋). */
  kvHeads?: number;
  /** Causal: a query attends to the tokens up to itself (attention.npy is zero above each block's diagonal). */
  causal?: boolean;
  /** A rotary model's vectors: after ("post", what attention uses) or before ("pre") the rotation; null without rotary positions. */
  rotary?: RotaryVectors | null;
  /** Per layer: attention = softmax(scale · q·k), soft-capped as softcap·tanh(logit/softcap), keys within `window` tokens. */
  attention?: AttentionSpec[];
  tokenCount: number;
  sentences: { text: string; tokens: string[]; ids: number[]; start: number }[];
}

/** The files; attention.npy only when the run kept the model's attention for every sentence. */
export function extractionFiles(data: QueryKeyData, architecture?: string): Record<string, Uint8Array> {
  const tokens: TokensFile = {
    model: data.model,
    layers: data.layers,
    heads: data.heads,
    headDim: data.headDim,
    architecture,
    kvHeads: kvHeadsOf(data),
    causal: data.causal ?? false,
    rotary: data.rotary ?? null,
    attention: data.attention,
    tokenCount: data.tokenCount,
    sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids, start: s.start })),
  };
  const qShape = [data.layers, data.heads, data.tokenCount, data.headDim];
  const kShape = [data.layers, kvHeadsOf(data), data.tokenCount, data.headDim];
  const files: Record<string, Uint8Array> = {
    'tokens.json': new TextEncoder().encode(`${JSON.stringify(tokens)}\n`),
    'queries.npy': encodeNpy(data.queries, qShape),
    'keys.npy': encodeNpy(data.keys, kShape),
  };
  if (data.valueNorms) files['value_norms.npy'] = encodeNpy(data.valueNorms, [data.layers, data.heads, data.tokenCount]);
  if (data.rotated) {
    files['rotated_queries.npy'] = encodeNpy(data.rotated.queries, qShape);
    files['rotated_keys.npy'] = encodeNpy(data.rotated.keys, kShape);
  }
  const sample = data.attentionSample;
  if (sample.sentences.length === data.sentences.length && sample.sentences.length > 0) {
    files['attention.npy'] = encodeNpy(sample.values, [data.layers, data.heads, sample.blocks[sample.blocks.length - 1]]);
  }
  return files;
}

/** Rebuilds an extraction from the files `extractionFiles` wrote (as the CLI reads them back). */
export function readExtractionFiles(
  tokensJson: string,
  queries: Float32Array,
  keys: Float32Array,
  options: { attention?: Float32Array; rotated?: { queries: Float32Array; keys: Float32Array }; valueNorms?: Float32Array } = {},
): QueryKeyData {
  const meta = JSON.parse(tokensJson) as TokensFile;
  const lengths = meta.sentences.map((s) => s.ids.length);
  const layout = corpusLayout(lengths);
  const rows = layout.tokenCount * meta.headDim;
  const kvHeads = meta.kvHeads ?? meta.heads;
  if (queries.length !== meta.layers * meta.heads * rows)
    throw new Error(`queries.npy holds ${queries.length} values, tokens.json implies ${meta.layers * meta.heads * rows}`);
  if (keys.length !== meta.layers * kvHeads * rows)
    throw new Error(`keys.npy holds ${keys.length} values, tokens.json implies ${meta.layers * kvHeads * rows} (${kvHeads} key heads)`);
  if (options.valueNorms && options.valueNorms.length !== meta.layers * meta.heads * layout.tokenCount)
    throw new Error('value_norms.npy does not match tokens.json');
  let attentionSample: AttentionSample = { sentences: new Int32Array(0), blocks: new Int32Array(1), values: new Float32Array(0) };
  if (options.attention) {
    if (options.attention.length !== meta.layers * meta.heads * layout.pairCount) throw new Error('attention.npy does not match tokens.json');
    attentionSample = { sentences: Int32Array.from(lengths, (_, s) => s), blocks: layout.pairStarts, values: options.attention };
  }
  return {
    model: meta.model,
    layers: meta.layers,
    heads: meta.heads,
    headDim: meta.headDim,
    kvHeads,
    causal: meta.causal,
    rotary: meta.rotary ?? undefined,
    tokenCount: layout.tokenCount,
    sentences: meta.sentences.map((s) => ({ text: s.text, ids: s.ids, tokens: s.tokens, start: s.start })),
    sentenceStarts: layout.sentenceStarts,
    queries,
    keys,
    ...(options.rotated ? { rotated: options.rotated } : {}),
    ...(options.valueNorms ? { valueNorms: options.valueNorms } : {}),
    attention: meta.attention ?? plainAttention(meta.layers, meta.headDim),
    attentionSample,
  };
}
