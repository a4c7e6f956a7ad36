// A head's sums gathered window by window (as a run gathers them while the model runs) give
// what the same head gives whole: every mode's normalization, the attention figures, the
// check against the model's attention and the moments — and every PCA view made from the
// moments equals PCA of the normalized joint vectors themselves.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analysis, analyzeHeads, headInputs, headSums } from '../../../lib/analysis/analyze';
import { NORMALIZATION_MODES } from '../../../lib/analysis/normalize';
import { HeadSums } from '../../../lib/analysis/sums';
import { type QueryKeyData, attentionVectors, headVectors, sampleOf } from '../../../lib/data/layout';
import { planWindows } from '../../../lib/engine/extract';
import { jointVectors } from '../../../lib/projection/project';
import { pca } from '../../../lib/projection/pca';
import { pcaOfMoments } from '../../../lib/projection/pcaMoments';
import { defaultSentences, extractDefault } from '../../helpers/extraction';
import { randomData } from '../../helpers/randomHeads';

let data: QueryKeyData;
let analysis: Analysis;
beforeAll(async () => {
  data = await extractDefault(defaultSentences().slice(0, 80));
  analysis = await analyzeHeads(data);
});

/** One head's sums over windows of at most `rows` token rows (whole sentences, in order). */
function windowed(d: QueryKeyData, cell: number, rows: number): HeadSums {
  const [layer, head] = [Math.floor(cell / d.heads), cell % d.heads];
  const { q, k } = headVectors(d, layer, head);
  const a = attentionVectors(d, layer, head);
  const D = d.headDim;
  const sums = new HeadSums(D, d.attention[layer], d.causal ?? false);
  const lengths = d.sentences.map((s) => s.ids.length);
  const sample = d.attentionSample;
  const values = sampleOf(sample, cell);
  for (const w of planWindows(lengths, rows)) {
    const r0 = d.sentenceStarts[w.sentenceStart];
    const r1 = d.sentenceStarts[w.sentenceEnd];
    const starts = Int32Array.from({ length: w.sentenceEnd - w.sentenceStart + 1 }, (_, i) => d.sentenceStarts[w.sentenceStart + i] - r0);
    const inWindow = Array.from(sample.sentences)
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s >= w.sentenceStart && s < w.sentenceEnd);
    const sampled = {
      sentences: inWindow.map(({ s }) => s - w.sentenceStart),
      values: Float32Array.from(inWindow.flatMap(({ i }) => Array.from(values.subarray(sample.blocks[i], sample.blocks[i + 1])))),
    };
    const view = (x: Float32Array) => x.subarray(r0 * D, r1 * D);
    sums.add({ q: view(q), k: view(k), qa: d.rotated ? view(a.q) : undefined, ka: d.rotated ? view(a.k) : undefined, sentenceStarts: starts }, sampled);
  }
  return sums;
}

const close = (a: number, b: number, tolerance = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b)));

describe('a head’s sums, window by window', () => {
  it.each([
    [0, 150],
    [17, 150],
    [45, 400],
    [71, 60],
  ])('give the whole head’s normalizations, attention figures and check (cell %i, windows of %i rows)', (cell, rows) => {
    const sums = windowed(data, cell, rows);
    const { k } = headVectors(data, Math.floor(cell / data.heads), cell % data.heads);
    const got = sums.finish(k);
    for (const mode of NORMALIZATION_MODES) {
      const want = analysis.params[mode][cell];
      close(got.params[mode].scale, want.scale, 1e-6);
      got.params[mode].translation.forEach((v, i) => close(v, want.translation[i], 1e-6));
    }
    close(got.attention.entropy, analysis.heads[cell].attention.entropy);
    close(got.attention.specialShare, analysis.heads[cell].attention.specialShare);
    expect(got.check.maxAbsError).toBeCloseTo(analysis.heads[cell].check.maxAbsError, 12);
    // The moments: those of all the head's rows at once.
    const whole = headSums(headVectors(data, Math.floor(cell / data.heads), cell % data.heads).q, k, headInputs(data, cell)).moments;
    expect(got.moments.q.n).toBe(data.tokenCount);
    got.moments.q.outer.forEach((v, i) => close(v, whole.q.outer[i]));
    got.moments.k.sum.forEach((v, i) => close(v, whole.k.sum[i]));
  });

  it('does the same for a decoder with grouped keys and rotated vectors', async () => {
    const d = randomData(13, { heads: 4, kvHeads: 2, causal: true });
    d.rotated = { queries: d.queries.map((v) => v * 0.8), keys: d.keys.map((v) => v + 0.3) };
    const whole = await analyzeHeads(d);
    for (const cell of [0, 5]) {
      const got = windowed(d, cell, 14).finish(headVectors(d, Math.floor(cell / d.heads), cell % d.heads).k);
      for (const mode of NORMALIZATION_MODES) close(got.params[mode].scale, whole.params[mode][cell].scale, 1e-6);
      close(got.attention.entropy, whole.heads[cell].attention.entropy);
    }
  });
});

describe('PCA from a head’s moments', () => {
  it('has the components and explained variance of PCA of the normalized joint vectors, in every mode', () => {
    for (const cell of [3, 40, 66]) {
      const [layer, head] = [Math.floor(cell / data.heads), cell % data.heads];
      const { q, k } = headVectors(data, layer, head);
      const moments = headSums(q, k, headInputs(data, cell)).moments;
      for (const mode of NORMALIZATION_MODES) {
        const norm = analysis.params[mode][cell];
        const ours = pcaOfMoments(moments.q, moments.k, norm, 3);
        const joint = jointVectors(data, layer, head, norm);
        const want = pca(joint, joint.length / data.headDim, data.headDim, 3);
        ours.explainedVariance.forEach((v, i) => close(v, want.explainedVariance[i], 1e-6));
        // Same sign rule: the components themselves agree, not only up to sign.
        ours.components.forEach((v, i) => expect(Math.abs(v - want.components[i])).toBeLessThan(1e-5));
        // The joint cloud's mean.
        for (let i = 0; i < data.headDim; i++) {
          let m = 0;
          for (let r = 0; r < 2 * data.tokenCount; r++) m += joint[r * data.headDim + i];
          close(ours.mean[i], m / (2 * data.tokenCount), 1e-6);
        }
      }
    }
  });
});
