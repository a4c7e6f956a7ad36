// Our fast UMAP path (WebAssembly NN-descent and SGD, a PCA start, half umap-js's epochs) is
// as faithful as a plain umap-js run with its defaults on the same real heads:
// trustworthiness at k = 10 within 0.01 (measured 0.004 at most on these three).
import { UMAP } from 'umap-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { paperNormalization } from '../../../lib/analysis/normalize';
import { type QueryKeyData, headVectors } from '../../../lib/data/layout';
import { projectHead, jointVectors, DEFAULT_PROJECTION } from '../../../lib/projection/project';
import { trustworthiness } from '../../../lib/projection/quality';
import { seededRandom } from '../../../lib/util/random';
import { defaultSentences, extractDefault } from '../../helpers/extraction';

let data: QueryKeyData;
beforeAll(async () => {
  // 120 sentences (~1,700 tokens, ~3,400 points per head) keep umap-js's run to seconds.
  data = await extractDefault(defaultSentences().slice(0, 120));
});

describe('UMAP faithfulness on real heads', () => {
  it.each([
    [1, 4],
    [3, 7],
    [5, 0],
  ])('L%i H%i: trustworthiness within 0.01 of umap-js defaults', (layer, head) => {
    const { q, k } = headVectors(data, layer, head);
    const joint = jointVectors(data, layer, head, paperNormalization(q, k, data.headDim));
    const d = data.headDim;
    const n = joint.length / d;
    const ours = projectHead(joint, d, { ...DEFAULT_PROJECTION, method: 'umap', dims: 3, seed: 1 });
    const reference = new UMAP({ nComponents: 3, random: seededRandom(1) }).fit(
      Array.from({ length: n }, (_, i) => Array.from(joint.subarray(i * d, (i + 1) * d))),
    );
    const tOurs = trustworthiness(joint, d, ours.coords, 3, 10, 400);
    const tRef = trustworthiness(joint, d, Float64Array.from(reference.flat()), 3, 10, 400);
    console.log(`[qkviz] L${layer} H${head} (${n} points): trustworthiness ours ${tOurs.toFixed(4)} vs umap-js ${tRef.toFixed(4)}`);
    expect(Math.abs(tOurs - tRef)).toBeLessThanOrEqual(0.01);
    // A random layout scores about 0.5; this only guards against a broken one.
    expect(tOurs).toBeGreaterThan(0.85);
  });

  it('is deterministic: the same head and seed give the same coordinates', () => {
    const { q, k } = headVectors(data, 2, 2);
    const joint = jointVectors(data, 2, 2, paperNormalization(q, k, data.headDim));
    const params = { ...DEFAULT_PROJECTION, method: 'umap' as const, dims: 2 as const, seed: 9, epochs: 30 };
    expect(Array.from(projectHead(joint, data.headDim, params).coords)).toEqual(Array.from(projectHead(joint, data.headDim, params).coords));
  });
});
