// Vector norms of every point of every head under a normalization mode, for colouring and
// sizing by norm: raw values (tooltips) and values scaled to 0…1 within each head (the
// ramp), laid out [layer][head][point] like the matrix geometry.
import type { HeadNormalization } from '../analysis/normalize';
import type { QueryKeyData } from '../data/layout';
import { jointVectors } from '../projection/project';

export interface PointNorms {
  raw: Float32Array;
  scaled: Float32Array;
}

export function pointNorms(data: QueryKeyData, params: readonly HeadNormalization[]): PointNorms {
  const points = 2 * data.tokenCount;
  const d = data.headDim;
  const raw = new Float32Array(data.layers * data.heads * points);
  const scaled = new Float32Array(raw.length);
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const cell = l * data.heads + h;
      const joint = jointVectors(data, l, h, params[cell]);
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
  }
  return { raw, scaled };
}
