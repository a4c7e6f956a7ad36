// Our PCA (covariance + Jacobi) against ml-pca (SVD) on real query/key vectors: same
// components up to sign, same explained variance, same coordinates up to sign; its
// WebAssembly passes (covariance row by row, projection) give the JavaScript ones' result.
import { PCA } from 'ml-pca';
import { beforeAll, describe, expect, it } from 'vitest';
import { paperNormalization, identityNormalization } from '../../../lib/analysis/normalize';
import { headVectors, type QueryKeyData } from '../../../lib/data/layout';
import { pca, symmetricEigen } from '../../../lib/projection/pca';
import { jointVectors } from '../../../lib/projection/project';
import { seededRandom } from '../../../lib/util/random';
import { disableWasm } from '../../../lib/wasm/arena';
import { extractDefault } from '../../helpers/extraction';

let data: QueryKeyData;
beforeAll(async () => {
  data = await extractDefault();
});

describe('pca', () => {
  it('diagonalises a symmetric matrix (A·v = λ·v, eigenvalues descending)', () => {
    const d = 5;
    const m = Float64Array.from({ length: d * d }, (_, i) => Math.sin(i * 1.3));
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i];
    const { values, vectors } = symmetricEigen(m, d);
    for (let r = 0; r < d; r++) {
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += m[i * d + j] * vectors[r * d + j];
        expect(av).toBeCloseTo(values[r] * vectors[r * d + i], 10);
      }
      if (r > 0) expect(values[r]).toBeLessThanOrEqual(values[r - 1]);
    }
  });

  it.each([
    [0, 0, 'raw'],
    [2, 3, 'paper'],
    [5, 11, 'paper'],
  ] as const)('matches ml-pca on head L%i H%i (%s), all 2N points', (layer, head, mode) => {
    const { q, k } = headVectors(data, layer, head);
    const norm = mode === 'raw' ? identityNormalization(data.headDim) : paperNormalization(q, k, data.headDim);
    const joint = jointVectors(data, layer, head, norm);
    const d = data.headDim;
    const n = joint.length / d;
    const rows = Array.from({ length: n }, (_, i) => Array.from(joint.subarray(i * d, (i + 1) * d)));
    const reference = new PCA(rows);
    const refVectors = reference.getEigenvectors().transpose().to2DArray(); // rows = components
    const refVariance = reference.getExplainedVariance();
    const refCoords = reference.predict(rows, { nComponents: 3 }).to2DArray();

    const ours = pca(joint, n, d, 3);
    for (let c = 0; c < 3; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += ours.components[c * d + j] * refVectors[c][j];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-6);
      expect(Math.abs(ours.explainedVariance[c] - refVariance[c])).toBeLessThan(1e-4);
      const sign = Math.sign(dot);
      let maxDiff = 0;
      for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.coords[i * 3 + c] - sign * refCoords[i][c]));
      expect(maxDiff).toBeLessThan(1e-3);
    }
  });

  it('gives the same components, variance and coordinates in WebAssembly as in JavaScript (odd d too)', () => {
    const cases: [Float32Array, number][] = [[jointVectors(data, 2, 7, identityNormalization(data.headDim)), data.headDim]];
    const odd = 7;
    const rand = seededRandom(3);
    cases.push([Float32Array.from({ length: 300 * odd }, (_, i) => (rand() - 0.5) * (1 + (i % odd)) + 3), odd]);
    for (const [x, d] of cases) {
      const n = x.length / d;
      const wasm = pca(x, n, d, 3);
      disableWasm(true);
      const js = (() => {
        try {
          return pca(x, n, d, 3);
        } finally {
          disableWasm(false);
        }
      })();
      wasm.explainedVariance.forEach((v, i) => expect(Math.abs(v - js.explainedVariance[i])).toBeLessThan(1e-12));
      wasm.components.forEach((v, i) => expect(Math.abs(v - js.components[i])).toBeLessThan(1e-9));
      wasm.coords.forEach((v, i) => expect(Math.abs(v - js.coords[i])).toBeLessThan(1e-5 * (1 + Math.abs(js.coords[i]))));
    }
  });
});
