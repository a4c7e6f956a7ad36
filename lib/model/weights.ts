// How a converter's weights go into the graph, in the precision a person chose: float32 as
// trained; float16 (half the file and, with onnxruntime's constant folding off, half the
// memory: each matrix is widened by a Cast node when it is used); or 8-/4-bit blocks of 32
// weights with a scale each, multiplied by onnxruntime's MatMulNBits (both web backends run
// it), with the embedding table in 8 bits. Every initializer is declared now and produced
// when the model is written, one checkpoint tensor read at a time.
import { toFloat16 } from '../io/float16';
import { DataType, type GraphBuilder, MS_DOMAIN } from '../onnx/graph';
import { ConversionError } from './errors';
import type { TensorSource } from './tensors';

export type WeightFormat = 'float32' | 'float16' | 'int8' | 'int4';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['float32', 'float16', 'int8', 'int4'];

/** Weights per quantization block (along a matrix's input dimension), each block with its own scale. */
export const QUANT_BLOCK = 32;

export const FORMAT_LABELS: Record<WeightFormat, string> = { float32: 'float32', float16: 'float16', int8: '8-bit', int4: '4-bit' };

/** Bytes a weight of a linear layer takes in a format (the scale of each block included). */
export function bytesPerWeight(format: WeightFormat): number {
  switch (format) {
    case 'float32':
      return 4;
    case 'float16':
      return 2;
    case 'int8':
      return 1 + 4 / QUANT_BLOCK;
    case 'int4':
      return 0.5 + 4 / QUANT_BLOCK;
  }
}

/** Bytes an embedding table's entry takes in a format (quantized formats keep it in 8 bits). */
export function bytesPerEmbedding(format: WeightFormat): number {
  return format === 'float32' ? 4 : format === 'float16' ? 2 : 1 + 4 / QUANT_BLOCK;
}

/** A linear layer's weight as the checkpoint stores it, and which of its outputs the graph takes. */
export interface LinearSpec {
  /** The weight tensor's name in the checkpoint. */
  weight: string;
  inDim: number;
  outDim: number;
  /** 'out-in': PyTorch Linear [out, in] (default); 'in-out': GPT-2's Conv1D [in, out]. */
  layout?: 'out-in' | 'in-out';
  /** The stored tensor's output size, when the graph takes only some of its outputs (a fused q/k/v). */
  sourceOut?: number;
  /** Output o of the graph's matrix is the stored tensor's output select(o). */
  select?: (o: number) => number;
  /** The bias tensor's name; absent: none. */
  bias?: string;
  /** The stored tensor's shape when it is not [out, in] (a patch embedding's [out, channels, p, p], read as [out, in]). */
  storedShape?: number[];
}

/**
 * Symmetric block quantization of a [N, K] matrix (rows given by `fillRow`) into MatMulNBits'
 * layout: B [N, ⌈K/32⌉, 32·bits/8] with the low bits first, one float32 scale a block, the
 * zero point 2^(bits−1). A block's largest-magnitude weight is represented exactly.
 */
export function quantizeMatrix(
  rows: number,
  cols: number,
  bits: 4 | 8,
  fillRow: (row: number, into: Float32Array) => void,
): { blocks: Uint8Array; scales: Float32Array; kBlocks: number; blob: number } {
  const kBlocks = Math.ceil(cols / QUANT_BLOCK);
  const blob = (QUANT_BLOCK * bits) / 8;
  const zero = 1 << (bits - 1);
  const top = (1 << bits) - 1;
  const blocks = new Uint8Array(rows * kBlocks * blob);
  const scales = new Float32Array(rows * kBlocks);
  const row = new Float32Array(kBlocks * QUANT_BLOCK);
  for (let r = 0; r < rows; r++) {
    fillRow(r, row);
    for (let b = 0; b < kBlocks; b++) {
      const base = b * QUANT_BLOCK;
      let extreme = 0;
      for (let i = 0; i < QUANT_BLOCK; i++) if (Math.abs(row[base + i]) > Math.abs(extreme)) extreme = row[base + i];
      // The extreme value maps to code 0: (0 − zero) · scale = extreme.
      const scale = extreme / -zero;
      const inverse = scale === 0 ? 0 : 1 / scale;
      scales[r * kBlocks + b] = scale;
      const out = (r * kBlocks + b) * blob;
      for (let i = 0; i < QUANT_BLOCK; i++) {
        const q = Math.min(top, Math.max(0, Math.round(row[base + i] * inverse) + zero));
        if (bits === 8) blocks[out + i] = q;
        else blocks[out + (i >> 1)] |= i & 1 ? q << 4 : q;
      }
    }
  }
  return { blocks, scales, kBlocks, blob };
}

const bytesOf = (a: Float32Array | Uint16Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export class Weights {
  /** The last tensor read (a fused q/k/v is read once for its three parts). */
  private cached?: { name: string; values: Promise<Float32Array> };
  /** Quantized matrices between their blocks' producer and their scales' producer. */
  private quantized = new Map<string, Float32Array>();

  constructor(
    readonly g: GraphBuilder,
    readonly source: TensorSource,
    readonly format: WeightFormat,
  ) {}

  has(name: string): boolean {
    return this.source.has(name);
  }

  /** Checks a tensor's stored shape against what config.json implies. */
  expect(name: string, shape: number[]): void {
    const stored = this.source.shape(name);
    if (!stored) throw new ConversionError(`checkpoint has no tensor "${name}"`);
    if (stored.join('x') !== shape.join('x')) throw new ConversionError(`tensor "${name}" has shape [${stored}], config.json implies [${shape}]`);
  }

  private read(name: string): Promise<Float32Array> {
    if (this.cached?.name !== name) this.cached = { name, values: this.source.float32(name) };
    return this.cached.values;
  }

  /** A float32 vector (norm weights, biases), `add` added to each value (Gemma's 1 + w), `select` picking entries. */
  vector(name: string, size: number, options: { add?: number; select?: (i: number) => number; sourceSize?: number } = {}): string {
    this.expect(name, [options.sourceSize ?? size]);
    const { add = 0, select } = options;
    return this.g.tensor(this.g.fresh(name), DataType.FLOAT, [size], async () => {
      const stored = await this.read(name);
      return bytesOf(Float32Array.from({ length: size }, (_, i) => stored[select ? select(i) : i] + add));
    });
  }

  /** A float32 matrix as stored (a position table). */
  matrix(name: string, shape: number[]): string {
    this.expect(name, shape);
    return this.g.tensor(this.g.fresh(name), DataType.FLOAT, shape, async () => bytesOf(await this.read(name)));
  }

  /** x · Wᵀ (+ b) in the chosen format; `outputName` names the result (a graph output). */
  linear(x: string, spec: LinearSpec, outputName?: string): string {
    const { inDim: K, outDim: N, layout = 'out-in', select = (o: number) => o } = spec;
    const stored = spec.sourceOut ?? N;
    this.expect(spec.weight, spec.storedShape ?? (layout === 'out-in' ? [stored, K] : [K, stored]));
    const outputs = (last: boolean) => (last && outputName ? [outputName] : undefined);
    const bias = spec.bias ? this.vector(spec.bias, N, { select, sourceSize: stored }) : null;
    // Row o of the [N, K] matrix, wherever the checkpoint keeps it.
    const fillRow = (values: Float32Array) => (o: number, into: Float32Array) => {
      const s = select(o);
      if (layout === 'out-in') into.set(values.subarray(s * K, (s + 1) * K));
      else for (let i = 0; i < K; i++) into[i] = values[i * stored + s];
    };
    let product: string;
    if (this.format === 'int4' || this.format === 'int8') {
      const bits = this.format === 'int4' ? 4 : 8;
      const kBlocks = Math.ceil(K / QUANT_BLOCK);
      const blob = (QUANT_BLOCK * bits) / 8;
      const key = this.g.fresh(spec.weight);
      const blocks = this.g.tensor(`${key}.q${bits}`, DataType.UINT8, [N, kBlocks, blob], async () => {
        const q = quantizeMatrix(N, K, bits, fillRow(await this.read(spec.weight)));
        this.quantized.set(key, q.scales);
        return q.blocks;
      });
      const scales = this.g.tensor(`${key}.scales`, DataType.FLOAT, [N * kBlocks], () => {
        const s = this.quantized.get(key);
        if (!s) throw new Error(`${key}: scales asked for before the blocks`);
        this.quantized.delete(key);
        return bytesOf(s);
      });
      product = this.g.node('MatMulNBits', [x, blocks, scales], { K, N, bits, block_size: QUANT_BLOCK }, outputs(!bias), MS_DOMAIN);
    } else {
      // MatMul's right-hand side: [K, N].
      const transposed = async () => {
        const values = await this.read(spec.weight);
        const out = new Float32Array(K * N);
        const row = new Float32Array(K);
        const fill = fillRow(values);
        for (let o = 0; o < N; o++) {
          fill(o, row);
          for (let i = 0; i < K; i++) out[i * N + o] = row[i];
        }
        return out;
      };
      const name = this.g.fresh(spec.weight);
      const weight =
        this.format === 'float16'
          ? this.g.node('Cast', [this.g.tensor(name, DataType.FLOAT16, [K, N], async () => bytesOf(toFloat16(await transposed())))], { to: DataType.FLOAT })
          : this.g.tensor(name, DataType.FLOAT, [K, N], async () => bytesOf(await transposed()));
      product = this.g.node('MatMul', [x, weight], undefined, outputs(!bias));
    }
    return bias ? this.g.node('Add', [product, bias], undefined, outputs(true)) : product;
  }

  /**
   * Each head's Gram matrix W_O,h·W_O,hᵀ [heads, D, D] of an output projection whose input is
   * the heads' D-wide blocks side by side: ‖v·W_O,h‖² = v·G_h·vᵀ, so a head's value norm costs
   * D² a token instead of D·hidden. From the checkpoint's weights in float64 (whatever the format).
   */
  headGram(spec: Pick<LinearSpec, 'weight' | 'layout'>, heads: number, D: number, outDim: number): string {
    const { layout = 'out-in' } = spec;
    const K = heads * D;
    this.expect(spec.weight, layout === 'out-in' ? [outDim, K] : [K, outDim]);
    return this.g.tensor(this.g.fresh(`${spec.weight}.gram`), DataType.FLOAT, [heads, D, D], async () => {
      const values = await this.read(spec.weight);
      // W[i][o]: input i (head ⌊i/D⌋'s dimension i mod D), output o.
      const at = layout === 'out-in' ? (i: number, o: number) => values[o * K + i] : (i: number, o: number) => values[i * outDim + o];
      const gram = new Float32Array(heads * D * D);
      const a = new Float64Array(outDim);
      for (let h = 0; h < heads; h++) {
        for (let r = 0; r < D; r++) {
          for (let o = 0; o < outDim; o++) a[o] = at(h * D + r, o);
          for (let c = r; c < D; c++) {
            let sum = 0;
            for (let o = 0; o < outDim; o++) sum += a[o] * at(h * D + c, o);
            gram[(h * D + r) * D + c] = sum;
            gram[(h * D + c) * D + r] = sum;
          }
        }
      }
      return bytesOf(gram);
    });
  }

  /** Rows of an embedding table gathered by `ids`, as float32 [..., cols]. */
  embedding(ids: string, name: string, rows: number, cols: number): string {
    this.expect(name, [rows, cols]);
    const g = this.g;
    if (this.format === 'float32') return g.node('Gather', [this.matrix(name, [rows, cols]), ids]);
    if (this.format === 'float16') {
      const table = g.tensor(g.fresh(name), DataType.FLOAT16, [rows, cols], async () => {
        const out = new Uint16Array(rows * cols);
        for await (const { start, values } of this.source.rowBlocks(name)) out.set(toFloat16(values), start * cols);
        return bytesOf(out);
      });
      return g.node('Cast', [g.node('Gather', [table, ids])], { to: DataType.FLOAT });
    }
    // 8-bit rows in blocks of 32 (or one block a row when the width is not a multiple of 32).
    const block = cols % QUANT_BLOCK === 0 ? QUANT_BLOCK : cols;
    const kBlocks = cols / block;
    const key = g.fresh(name);
    const codes = g.tensor(`${key}.q8`, DataType.UINT8, [rows, cols], async () => {
      const out = new Uint8Array(rows * cols);
      const scales = new Float32Array(rows * kBlocks);
      for await (const { start, values } of this.source.rowBlocks(name)) {
        const count = values.length / cols;
        for (let b = 0; b < count * kBlocks; b++) {
          let extreme = 0;
          for (let i = 0; i < block; i++) if (Math.abs(values[b * block + i]) > Math.abs(extreme)) extreme = values[b * block + i];
          const scale = extreme / -128;
          const inverse = scale === 0 ? 0 : 1 / scale;
          scales[start * kBlocks + b] = scale;
          for (let i = 0; i < block; i++) out[start * cols + b * block + i] = Math.min(255, Math.max(0, Math.round(values[b * block + i] * inverse) + 128));
        }
      }
      this.quantized.set(key, scales);
      return out;
    });
    const scales = g.tensor(`${key}.scales`, DataType.FLOAT, [rows, kBlocks], () => {
      const s = this.quantized.get(key);
      if (!s) throw new Error(`${key}: scales asked for before the codes`);
      this.quantized.delete(key);
      return bytesOf(s);
    });
    const centred = g.node('Sub', [g.node('Cast', [g.node('Gather', [codes, ids])], { to: DataType.FLOAT }), g.scalar(g.fresh('const.code_zero'), 128)]);
    const blocked = g.node('Reshape', [centred, g.int64Tensor(g.fresh('const.code_blocks'), [0, 0, kBlocks, block])]);
    const scaled = g.node('Mul', [blocked, g.node('Unsqueeze', [g.node('Gather', [scales, ids]), g.int64Tensor(g.fresh('const.last_axis'), [-1])])]);
    return g.node('Reshape', [scaled, g.int64Tensor(g.fresh('const.code_rows'), [0, 0, cols])]);
  }
}
