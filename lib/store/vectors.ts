// A run's queries and keys as the views, projection and scoring read them: a head, or one
// sentence of a head, at a time, wherever they are — a run store's files (RunReader) or
// arrays in memory (a small run in Node, a bundle of an older format).
import { type QueryKeyData, attentionVectors, headValueNorms, headValues, headVectors } from '../data/layout';

export interface RunVectors {
  /** One head's queries and its key head's keys ([token][dim]). */
  head(cell: number): Promise<{ q: Float32Array; k: Float32Array }>;
  /** The vectors attention is computed from for one head (a run of unrotated vectors: the rotated ones). */
  attentionHead(cell: number): Promise<{ q: Float32Array; k: Float32Array }>;
  /** One sentence's rows of one head: its vectors and those attention is computed from. */
  sentence(cell: number, sentence: number): Promise<{ q: Float32Array; k: Float32Array; qa: Float32Array; ka: Float32Array }>;
  /** One head's value norms over tokens [row0, row0 + n) (all by default); null when the run has none. */
  valueNorms(cell: number, row0?: number, n?: number): Promise<Float32Array | null>;
  /** Query head `cell`'s values (its key head's, [token][dim]); null when the run has none. */
  values(cell: number): Promise<Float32Array | null>;
  /** An image run's pictures (uint8 [image][height][width][3]); null for a text run. */
  pictures(): Promise<Uint8Array | null>;
}

/** The vectors of a run held in memory (copies are handed out, so a caller may transfer them). */
export function memoryVectors(data: QueryKeyData): RunVectors {
  const at = (cell: number) => [Math.floor(cell / data.heads), cell % data.heads] as const;
  const rows = (a: Float32Array, s: number) => a.slice(data.sentenceStarts[s] * data.headDim, data.sentenceStarts[s + 1] * data.headDim);
  return {
    async head(cell) {
      const { q, k } = headVectors(data, ...at(cell));
      return { q: q.slice(), k: k.slice() };
    },
    async attentionHead(cell) {
      const { q, k } = attentionVectors(data, ...at(cell));
      return { q: q.slice(), k: k.slice() };
    },
    async sentence(cell, s) {
      const own = headVectors(data, ...at(cell));
      const a = attentionVectors(data, ...at(cell));
      return { q: rows(own.q, s), k: rows(own.k, s), qa: rows(a.q, s), ka: rows(a.k, s) };
    },
    async valueNorms(cell, row0 = 0, n = data.tokenCount) {
      return headValueNorms(data, cell)?.slice(row0, row0 + n) ?? null;
    },
    async values(cell) {
      return headValues(data, cell)?.slice() ?? null;
    },
    async pictures() {
      return data.pictures?.slice() ?? null;
    },
  };
}
