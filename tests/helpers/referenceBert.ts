// An independent BERT forward pass in plain float64 loops, straight from the checkpoint's
// tensors (PyTorch [out, in] layout), to check the ONNX graph against. Slow, obvious, and
// sharing no code with the converter beyond the tensor map.
import type { SafeTensor } from '../../lib/model/safetensors';

export interface ReferenceConfig {
  layers: number;
  heads: number;
  hidden: number;
  intermediate: number;
  eps: number;
  prefix?: string;
  legacyLayerNorm?: boolean;
}

export interface ReferenceOutput {
  hidden: Float64Array[]; // per token, final hidden state
  queries: Float64Array[][]; // [layer][token] → hidden-sized projection
  keys: Float64Array[][];
  attention: Float64Array[][][]; // [layer][head][query] → row over keys
}

export function referenceBertForward(tensors: Map<string, SafeTensor>, cfg: ReferenceConfig, ids: number[]): ReferenceOutput {
  const p = cfg.prefix ?? '';
  const get = (name: string): Float32Array => {
    let key = p + name;
    if (cfg.legacyLayerNorm) key = key.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    const t = tensors.get(key);
    if (!t) throw new Error(`reference: missing ${key}`);
    return t.data;
  };
  const H = cfg.hidden;
  const n = ids.length;
  const linear = (x: Float64Array, name: string, inDim: number, outDim: number): Float64Array => {
    const w = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    const y = new Float64Array(outDim);
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += w[o * inDim + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const layerNorm = (x: Float64Array, name: string): Float64Array => {
    const g = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    let mean = 0;
    for (const v of x) mean += v;
    mean /= x.length;
    let variance = 0;
    for (const v of x) variance += (v - mean) ** 2;
    variance /= x.length;
    const inv = 1 / Math.sqrt(variance + cfg.eps);
    return x.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  };
  const erf = (x: number): number => {
    // Abramowitz–Stegun 7.1.26 is only 1e-7 accurate; use a series/continued fraction instead.
    const t = Math.abs(x);
    if (t < 3) {
      let sum = t;
      let term = t;
      for (let k = 1; k < 80; k++) {
        term *= (-t * t) / k;
        sum += term / (2 * k + 1);
      }
      return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
    }
    return Math.sign(x) * (1 - (Math.exp(-t * t) / (t * Math.sqrt(Math.PI))) * (1 - 1 / (2 * t * t)));
  };

  const word = get('embeddings.word_embeddings.weight');
  const pos = get('embeddings.position_embeddings.weight');
  const typ = get('embeddings.token_type_embeddings.weight');
  let x: Float64Array[] = ids.map((id, t) => {
    const v = new Float64Array(H);
    for (let i = 0; i < H; i++) v[i] = word[id * H + i] + pos[t * H + i] + typ[i];
    return layerNorm(v, 'embeddings.LayerNorm');
  });

  const out: ReferenceOutput = { hidden: [], queries: [], keys: [], attention: [] };
  const D = H / cfg.heads;
  for (let l = 0; l < cfg.layers; l++) {
    const pre = `encoder.layer.${l}`;
    const q = x.map((v) => linear(v, `${pre}.attention.self.query`, H, H));
    const k = x.map((v) => linear(v, `${pre}.attention.self.key`, H, H));
    const val = x.map((v) => linear(v, `${pre}.attention.self.value`, H, H));
    out.queries.push(q);
    out.keys.push(k);
    const context = x.map(() => new Float64Array(H));
    const layerAttention: Float64Array[][] = [];
    for (let h = 0; h < cfg.heads; h++) {
      const rows: Float64Array[] = [];
      for (let i = 0; i < n; i++) {
        const logits = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[i][h * D + d] * k[j][h * D + d];
          logits[j] = s / Math.sqrt(D);
        }
        const m = Math.max(...logits);
        const e = logits.map((z) => Math.exp(z - m));
        const total = e.reduce((a, b) => a + b, 0);
        const row = e.map((z) => z / total);
        rows.push(row);
        for (let j = 0; j < n; j++) for (let d = 0; d < D; d++) context[i][h * D + d] += row[j] * val[j][h * D + d];
      }
      layerAttention.push(rows);
    }
    out.attention.push(layerAttention);
    const x1 = context.map((c, t) => {
      const a = linear(c, `${pre}.attention.output.dense`, H, H);
      return layerNorm(
        a.map((v, i) => v + x[t][i]),
        `${pre}.attention.output.LayerNorm`,
      );
    });
    x = x1.map((v) => {
      const inter = linear(v, `${pre}.intermediate.dense`, H, cfg.intermediate).map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2)));
      const o = linear(inter, `${pre}.output.dense`, cfg.intermediate, H);
      return layerNorm(
        o.map((z, i) => z + v[i]),
        `${pre}.output.LayerNorm`,
      );
    });
  }
  out.hidden = x;
  return out;
}
