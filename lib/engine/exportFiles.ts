// The extraction as files a researcher can load with numpy: tokens.json (sentences with
// tokens, ids and first row), queries.npy / keys.npy [layers, heads, N, headDim] raw, and
// attention.npy [layers, heads, Σ n²] (each sentence's row-major block, in sentence order).
import { encodeNpy } from '../io/npy';
import type { QueryKeyData } from './layout';

export interface TokensFile {
  model: string;
  layers: number;
  heads: number;
  headDim: number;
  tokenCount: number;
  sentences: { text: string; tokens: string[]; ids: number[]; start: number }[];
}

export function extractionFiles(data: QueryKeyData): Record<string, Uint8Array> {
  const tokens: TokensFile = {
    model: data.model,
    layers: data.layers,
    heads: data.heads,
    headDim: data.headDim,
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
