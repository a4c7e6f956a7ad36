// Vector norms of every point of every head under a normalization mode, for colouring and
// sizing by norm: raw values (tooltips) and values scaled to 0…1 within each head (the
// ramp), laid out [layer][head][point] like the matrix geometry; and the same of each token's
// value norm ‖f(x)‖.
import type { HeadReader } from '../analysis/headSimilarity';
import { type HeadNormalization, applyNormalization } from '../analysis/normalize';
import type { RunData } from '../data/layout';
import type { RunVectors } from '../store/vectors';

export interface PointNorms {
  raw: Float32Array;
  scaled: Float32Array;
}

/** Every head's norms under one normalization per head, reading each head's vectors once. */
export async function pointNorms(data: RunData, vectors: Pick<HeadReader, 'head'>, params: readonly HeadNormalization[]): Promise<PointNorms> {
  const points = 2 * data.tokenCount;
  const d = data.headDim;
  const raw = new Float32Array(data.layers * data.heads * points);
  const scaled = new Float32Array(raw.length);
  const joint = new Float32Array(points * d);
  for (let cell = 0; cell < data.layers * data.heads; cell++) {
    const { q, k } = await vectors.head(cell);
    applyNormalization(q, k, d, params[cell], joint.subarray(0, q.length), joint.subarray(q.length));
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < points; p++) {
      let s = 0;
      for (let x = 0; x < d; x++) s += joint[p * d + x] ** 2;
      const v = Math.sqrt(s);
      raw[cell * points + p] = v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const span = max > min ? max - min : 1;
    for (let p = 0; p < points; p++) scaled[cell * points + p] = (raw[cell * points + p] - min) / span;
  }
  return { raw, scaled };
}

/** The smallest and largest of some values, and each value's place between them (0…1; 0 when all are equal). */
export function scaled(values: ArrayLike<number>): { min: number; max: number; unit: Float32Array } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const span = max > min ? max - min : 1;
  return { min, max, unit: Float32Array.from(values, (v) => (v - min) / span) };
}

/**
 * Every head's value norms ‖f_h(x_j)‖ laid out as point norms: a token's query and key point
 * both carry its value's norm (what the head would move from it), scaled 0…1 within each head.
 */
export async function pointValueNorms(data: RunData, vectors: Pick<RunVectors, 'valueNorms'>): Promise<PointNorms> {
  const N = data.tokenCount;
  const raw = new Float32Array(data.layers * data.heads * 2 * N);
  const out = new Float32Array(raw.length);
  for (let cell = 0; cell < data.layers * data.heads; cell++) {
    const norms = await vectors.valueNorms(cell);
    if (!norms) throw new Error('this run has no value norms');
    const { unit } = scaled(norms);
    for (let kind = 0; kind < 2; kind++) {
      raw.set(norms, cell * 2 * N + kind * N);
      out.set(unit, cell * 2 * N + kind * N);
    }
  }
  return { raw, scaled: out };
}
