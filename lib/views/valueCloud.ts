// A head's value cloud: its value vectors v_j (the key head's, D wide) projected by PCA to 2D
// as its queries and keys are, each token coloured by its value norm ‖f(x_j)‖ = ‖v_j·W_O,h‖ —
// where the tokens the head can move a lot sit, and which ones it barely moves.
import { pca } from '../projection/pca';
import { scaled } from './norms';

export interface ValueCloud {
  /** [token][2] PCA coordinates of every token's value. */
  coords: Float32Array;
  /** Each token's value norm scaled 0…1 over the head (min → max). */
  shade: Float32Array;
  /** Variance the two components explain. */
  explained: [number, number];
  min: number;
  max: number;
}

export function valueCloud(values: Float32Array, norms: Float32Array, headDim: number): ValueCloud {
  const n = norms.length;
  const { coords, explainedVariance } = pca(values, n, headDim, 2);
  const { min, max, unit } = scaled(norms);
  return { coords, shade: unit, explained: [explainedVariance[0], explainedVariance[1] ?? 0], min, max };
}
