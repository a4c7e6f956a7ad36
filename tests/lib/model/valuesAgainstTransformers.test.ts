// Value vectors and what attention moves, against Hugging Face transformers: on every tiny
// checkpoint (scripts/make-value-references.py hooks the library's value projection and the
// input of its attention output projection, in float64), the converted graph's values equal
// the library's; its per-head value norms ‖f_h(x_j)‖ equal ‖v_j·W_O,h‖ computed here in float64
// from the library's values and the checkpoint's W_O; and Σ_j α_ij·f_h(x_j) — α recomputed
// from the graph's queries and keys as the views do, f from the graph's values — equals what
// the head actually writes, so the norms the value view weighs links by add up to the head's output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentenceAttention } from '../../../lib/analysis/attention';
import { plainAttention } from '../../../lib/data/attention';
import { buildModelGraph } from '../../../lib/model/architectures';
import { keyOutput, queryOutput, valueNormOutput, valueOutput } from '../../../lib/model/outputs';
import { TensorSource } from '../../../lib/model/tensors';
import { openSession, runBatch } from '../../helpers/models';
import { REFERENCE_FIXTURES, REFERENCE_MODELS, readReference } from '../../helpers/reference';

/** The attention output projection of each layer, by the checkpoint's names: [pattern, Conv1D ([in, out]) or Linear ([out, in])]. */
const OUTPUT_PROJECTIONS: [RegExp, boolean][] = [
  [/(?:^|\.)layer\.(\d+)\.attention\.output\.dense\.weight$/, false],
  [/(?:^|\.)layer\.(\d+)\.attention\.out_lin\.weight$/, false],
  [/(?:^|\.)h\.(\d+)\.attn\.c_proj\.weight$/, true],
  [/(?:^|\.)layers\.(\d+)\.self_attn\.(?:o_proj|out_proj)\.weight$/, false],
  [/(?:^|\.)layers\.(\d+)\.attention\.dense\.weight$/, false],
];

/** W_O of every layer as float64 [in = heads·d][out = hidden]. */
async function outputProjections(source: TensorSource, layers: number, inDim: number, hidden: number): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const name of source.names()) {
    for (const [pattern, conv1d] of OUTPUT_PROJECTIONS) {
      const m = name.match(pattern);
      if (!m) continue;
      const w = await source.float32(name);
      const layer = Number(m[1]);
      out[layer] = Float64Array.from({ length: inDim * hidden }, (_, x) => {
        const [i, o] = [Math.floor(x / hidden), x % hidden];
        return conv1d ? w[i * hidden + o] : w[o * inDim + i];
      });
    }
  }
  if (out.filter(Boolean).length !== layers) throw new Error(`found ${out.filter(Boolean).length} output projections for ${layers} layers`);
  return out;
}

describe('values and what attention moves, against transformers', () => {
  it.each(REFERENCE_MODELS)('%s: values, value norms ‖v·W_O,h‖ and Σ_j α_ij·f(x_j) = the head’s own output', async (name) => {
    const dir = join(REFERENCE_FIXTURES, name);
    const ref = readReference(dir);
    if (!ref.v || !ref.headOut || !ref.hidden) throw new Error(`${name}: no value references (run scripts/make-value-references.py)`);
    const source = await TensorSource.fromBytes(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const { spec, graph, meta } = buildModelGraph(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), source, { sourceName: name });
    const session = await openSession(await graph.bytes(meta));
    const { layers: L, heads: NH, headDim: D, kvHeads: KV, hidden: Hd } = { ...ref, hidden: ref.hidden };
    const group = NH / KV;
    const wo = await outputProjections(source, L, NH * D, Hd);
    const specs = spec.attention ?? plainAttention(L, D);
    const worst = { v: 0, norm: 0, moved: 0 };
    for (const batch of [...ref.ids.map((ids) => [ids]), ref.ids]) {
      const { outputs, seq } = await runBatch(session, batch);
      batch.forEach((ids, b) => {
        const s = ref.ids.indexOf(ids);
        const n = ids.length;
        for (let l = 0; l < L; l++) {
          const v = outputs[valueOutput(l)].data as Float32Array;
          const norms = outputs[valueNormOutput(l)].data as Float32Array;
          const q = outputs[queryOutput(l)].data as Float32Array;
          const k = outputs[keyOutput(l)].data as Float32Array;
          for (let g = 0; g < KV; g++)
            for (let t = 0; t < n; t++)
              for (let d = 0; d < D; d++) worst.v = Math.max(worst.v, ref.relative(ref.v!(l, g, s, t, d), v[(b * seq + t) * KV * D + g * D + d]));
          for (let h = 0; h < NH; h++) {
            const g = Math.floor(h / group);
            // f_h(x_j) = v_j·W_O,h: from the library's values (the norm's reference) and from the graph's (the sum's terms).
            const through = (value: (t: number, d: number) => number) =>
              Array.from({ length: n }, (_, t) =>
                Float64Array.from({ length: Hd }, (_, o) => {
                  let sum = 0;
                  for (let d = 0; d < D; d++) sum += value(t, d) * wo[l][(h * D + d) * Hd + o];
                  return sum;
                }),
              );
            const fRef = through((t, d) => ref.v!(l, g, s, t, d));
            const fGraph = through((t, d) => v[(b * seq + t) * KV * D + g * D + d]);
            for (let t = 0; t < n; t++) worst.norm = Math.max(worst.norm, ref.relative(Math.hypot(...fRef[t]), norms[(b * NH + h) * seq + t]));
            // The head's attention recomputed from the graph's own Q/K, as the views compute it.
            const rows = (a: Float32Array, heads: number, head: number) =>
              Float32Array.from({ length: n * D }, (_, x) => a[(b * seq + Math.floor(x / D)) * heads * D + head * D + (x % D)]);
            const alpha = sentenceAttention(rows(q, NH, h), rows(k, KV, g), D, 0, n, specs[l], spec.causal ?? false);
            // Relative to the size of what the head writes for token i (its largest entry, at least 1).
            for (let i = 0; i < n; i++) {
              let error = 0;
              let size = 1;
              for (let o = 0; o < Hd; o++) {
                let moved = 0;
                for (let j = 0; j < n; j++) moved += alpha[i * n + j] * fGraph[j][o];
                const want = ref.headOut!(l, h, s, i, o);
                error = Math.max(error, Math.abs(moved - want));
                size = Math.max(size, Math.abs(want));
              }
              worst.moved = Math.max(worst.moved, error / size);
            }
          }
        }
      });
    }
    console.log(
      `[qkviz] ${name} values vs transformers: v ${worst.v.toExponential(1)}, ‖f‖ ${worst.norm.toExponential(1)}, Σα·f vs head output ${worst.moved.toExponential(1)}`,
    );
    expect(worst.v).toBeLessThan(1e-4);
    expect(worst.norm).toBeLessThan(1e-4);
    expect(worst.moved).toBeLessThan(1e-4);
  });
});
