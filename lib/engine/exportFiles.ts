// The extraction as files a researcher can load with numpy: tokens.json (sentences with
// tokens, ids and first row), queries.npy / keys.npy [layers, heads, N, headDim] raw, and
// attention.npy [layers, heads, Σ n²] (each sentence's row-major block, in sentence order).
import { encodeNpy } from '../io/npy';
import { type QueryKeyData, type RotaryVectors, corpusLayout } from './layout';

export interface TokensFile {
  model: string;
  layers: number;
  heads: number;
  headDim: number;
  /** config.json's architecture (e.g. "LlamaForCausalLM"); absent in files from before decoders. */
  architecture?: string;
  /** The model's key heads: queries.npy/keys.npy have `heads` rows either way (a group's keys repeated). */
  kvHeads?: number;
  /** Causal: attention.npy is zero above each block's diagonal. */
  causal?: boolean;
  /** A rotary model's vectors: after ("post", what attention uses) or before ("pre") the rotation; null without rotary positions. */
  rotary?: RotaryVectors | null;
  tokenCount: number;
  sentences: { text: string; tokens: string[]; ids: number[]; start: number }[];
}

export function extractionFiles(data: QueryKeyData, architecture?: string): Record<string, Uint8Array> {
  const tokens: TokensFile = {
    model: data.model,
    layers: data.layers,
    heads: data.heads,
    headDim: data.headDim,
    architecture,
    kvHeads: data.kvHeads ?? data.heads,
    causal: data.causal ?? false,
    rotary: data.rotary ?? null,
    tokenCount: data.tokenCount,
    sentences: data.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids, start: s.start })),
  };
  const qkShape = [data.layers, data.heads, data.tokenCount, data.headDim];
  return {
    'tokens.json': new TextEncoder().encode(`${JSON.stringify(tokens)}\n`),
    'queries.npy': encodeNpy(data.queries, qkShape),
    'keys.npy': encodeNpy(data.keys, qkShape),
    'attention.npy': encodeNpy(data.attention, [data.layers, data.heads, data.attentionStarts[data.sentences.length]]),
  };
}

/** Rebuilds an extraction from the files `extractionFiles` wrote (as the CLI reads them back). */
export function readExtractionFiles(tokensJson: string, queries: Float32Array, keys: Float32Array, attention: Float32Array): QueryKeyData {
  const meta = JSON.parse(tokensJson) as TokensFile;
  const lengths = meta.sentences.map((s) => s.ids.length);
  const layout = corpusLayout(lengths);
  const expected = meta.layers * meta.heads * layout.tokenCount * meta.headDim;
  if (queries.length !== expected || keys.length !== expected) throw new Error(`queries/keys hold ${queries.length} values, tokens.json implies ${expected}`);
  if (attention.length !== meta.layers * meta.heads * layout.attentionSize) throw new Error('attention.npy does not match tokens.json');
  return {
    model: meta.model,
    layers: meta.layers,
    heads: meta.heads,
    headDim: meta.headDim,
    kvHeads: meta.kvHeads,
    causal: meta.causal,
    rotary: meta.rotary ?? undefined,
    tokenCount: layout.tokenCount,
    sentences: meta.sentences.map((s) => ({ text: s.text, ids: s.ids, tokens: s.tokens, start: s.start })),
    sentenceStarts: layout.sentenceStarts,
    attentionStarts: layout.attentionStarts,
    queries,
    keys,
    attention,
  };
}
