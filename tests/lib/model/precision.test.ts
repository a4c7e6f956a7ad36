// Weights in less than float32, and graphs written streaming: the block quantization against
// an independent dequantization through onnxruntime's MatMulNBits, external data split over
// files, tensors read by byte ranges, the Q/K error each precision causes against the float32
// graph on the tiny random checkpoints (measured and printed; bounded), and float16 weights
// that stay half precision in onnxruntime's memory.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type OrtModule, openModel } from '../../../lib/engine/runtime';
import { buildModelGraph } from '../../../lib/model/architectures';
import { keyOutput, queryOutput } from '../../../lib/model/outputs';
import { readSafetensors } from '../../../lib/model/safetensors';
import { TensorSource, memoryFile } from '../../../lib/model/tensors';
import { QUANT_BLOCK, type WeightFormat, quantizeMatrix } from '../../../lib/model/weights';
import { DataType, GraphBuilder, MS_DOMAIN } from '../../../lib/onnx/graph';
import { ROOT, openSession, runBatch } from '../../helpers/models';
import { readReference } from '../../helpers/reference';
import { seededRandom, writeSafetensors } from '../../helpers/safetensorsWriter';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');
const temp = mkdtempSync(join(tmpdir(), 'qkviz-precision-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('block quantization', () => {
  it.each([4, 8] as const)('%i-bit: MatMulNBits computes x·dequant(W)ᵀ, each block’s largest weight exact, every weight within half a step', async (bits) => {
    const rand = seededRandom(bits);
    const N = 5;
    const K = 70; // not a multiple of the block: the last block is padded
    const w = Float32Array.from({ length: N * K }, () => (rand() * 2 - 1) * 0.8);
    const q = quantizeMatrix(N, K, bits, (r, into) => into.set(w.subarray(r * K, (r + 1) * K)));
    // Dequantize independently from the documented layout: codes low bits first, zero point 2^(bits−1).
    const zero = 1 << (bits - 1);
    const deq = new Float32Array(N * K);
    for (let r = 0; r < N; r++) {
      for (let k = 0; k < K; k++) {
        const b = Math.floor(k / QUANT_BLOCK);
        const i = k % QUANT_BLOCK;
        const byte = q.blocks[(r * q.kBlocks + b) * q.blob + (bits === 8 ? i : i >> 1)];
        const code = bits === 8 ? byte : i & 1 ? byte >> 4 : byte & 15;
        deq[r * K + k] = (code - zero) * q.scales[r * q.kBlocks + b];
      }
      for (let b = 0; b < q.kBlocks; b++) {
        const block = Array.from(w.subarray(r * K + b * QUANT_BLOCK, Math.min((r + 1) * K, r * K + (b + 1) * QUANT_BLOCK)));
        const extreme = block.reduce((a, v) => (Math.abs(v) > Math.abs(a) ? v : a), 0);
        const at = block.indexOf(extreme);
        expect(deq[r * K + b * QUANT_BLOCK + at]).toBeCloseTo(extreme, 6);
        const step = Math.abs(q.scales[r * q.kBlocks + b]);
        for (let i = 0; i < block.length; i++) {
          // The code range is one short on the side opposite the extreme: clipping there costs at most one step.
          expect(Math.abs(deq[r * K + b * QUANT_BLOCK + i] - block[i])).toBeLessThanOrEqual(step * 1.0001);
        }
      }
    }
    const g = new GraphBuilder('nbits');
    const x = g.input('x', DataType.FLOAT, [2, K]);
    g.node(
      'MatMulNBits',
      [x, g.tensor('B', DataType.UINT8, [N, q.kBlocks, q.blob], q.blocks), g.floatTensor('S', q.scales, [N * q.kBlocks])],
      { K, N, bits, block_size: QUANT_BLOCK },
      ['y'],
      MS_DOMAIN,
    );
    g.output('y', DataType.FLOAT, [2, N]);
    const session = await ort.InferenceSession.create(g.toBytes({ producer: 'test' }));
    const input = Float32Array.from({ length: 2 * K }, () => rand() * 2 - 1);
    const y = (await session.run({ x: new ort.Tensor('float32', input, [2, K]) })).y.data as Float32Array;
    for (let m = 0; m < 2; m++) {
      for (let n = 0; n < N; n++) {
        let want = 0;
        for (let k = 0; k < K; k++) want += input[m * K + k] * deq[n * K + k];
        expect(y[m * N + n]).toBeCloseTo(want, 4);
      }
    }
  });
});

describe('streaming graphs', () => {
  it('reads tensors by byte ranges as readSafetensors does (F32, F16, BF16), and in row blocks', async () => {
    const rand = seededRandom(3);
    const values = Float32Array.from({ length: 6 * 4 }, () => rand() * 4 - 2);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const bytes = writeSafetensors({ a: { shape: [6, 4], data: values, dtype }, b: { shape: [3], data: Float32Array.of(1, 2, 3) } });
      const source = await TensorSource.open([memoryFile('x', bytes)]);
      const whole = readSafetensors(bytes);
      expect(Array.from(await source.float32('a'))).toEqual(Array.from(whole.get('a')!.data));
      expect(Array.from(await source.rows('a', 2, 3))).toEqual(Array.from(whole.get('a')!.data.subarray(8, 20)));
      expect(source.shape('b')).toEqual([3]);
    }
  });

  it('splits external data over files past their limit, and the model runs as the inline one', async () => {
    const g = new GraphBuilder('split');
    const x = g.input('x', DataType.FLOAT, [1, 64]);
    const weights = [0, 1, 2].map((i) => Float32Array.from({ length: 64 * 64 }, (_, j) => Math.sin(i + j * 0.01)));
    let h = x;
    weights.forEach((w, i) => (h = g.node('MatMul', [h, g.tensor(`w${i}`, DataType.FLOAT, [64, 64], async () => new Uint8Array(w.buffer))])));
    g.node('Identity', [h], undefined, ['y']);
    g.output('y', DataType.FLOAT, [1, 64]);
    const inline = await g.bytes({ producer: 'test' });
    const pieces: Uint8Array[] = [];
    const files = new Map<string, Uint8Array>();
    const written = await g.write(
      { producer: 'test' },
      {
        model: (b) => void pieces.push(b),
        data: (file, b, at) => {
          const old = files.get(file) ?? new Uint8Array(0);
          const grown = new Uint8Array(Math.max(old.length, at + b.length));
          grown.set(old);
          grown.set(b, at);
          files.set(file, grown);
        },
      },
      { externalData: { file: 'model.onnx.data', maxFileBytes: 20_000 } },
    );
    // 16 KB a weight, 20 KB a file: one weight each.
    expect(written.dataFiles).toEqual(['model.onnx.data', 'model.onnx.data_1', 'model.onnx.data_2']);
    expect(written.modelBytes).toBeLessThan(2000);
    const model = new Uint8Array(Buffer.concat(pieces));
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)),
      [1, 64],
    );
    const a = (await (await ort.InferenceSession.create(inline)).run({ x: input })).y.data;
    const split = await ort.InferenceSession.create(model, { externalData: [...files].map(([path, data]) => ({ path, data })) });
    expect(Array.from((await split.run({ x: input })).y.data as Float32Array)).toEqual(Array.from(a as Float32Array));
  });
});

/** Relative error ‖got − want‖ / ‖want‖ over every query and key of every layer. */
async function qkError(name: string, format: WeightFormat): Promise<number> {
  const dir = join(FIXTURES, name);
  const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
  const ref = readReference(dir);
  const run = async (f: WeightFormat) => {
    const { graph, meta } = buildModelGraph(json, await TensorSource.fromBytes(bytes), { format: f });
    return (await runBatch(await openSession(await graph.bytes(meta)), ref.ids)).outputs;
  };
  const [exact, reduced] = [await run('float32'), await run(format)];
  let diff = 0;
  let norm = 0;
  for (let l = 0; l < ref.layers; l++) {
    for (const out of [queryOutput(l), keyOutput(l)]) {
      const want = exact[out].data as Float32Array;
      const got = reduced[out].data as Float32Array;
      for (let i = 0; i < want.length; i++) {
        diff += (got[i] - want[i]) ** 2;
        norm += want[i] ** 2;
      }
    }
  }
  return Math.sqrt(diff / norm);
}

describe('Q/K error of each precision against float32 (tiny random checkpoints)', () => {
  const BOUNDS: Record<Exclude<WeightFormat, 'float32'>, number> = { float16: 2e-3, int8: 3e-2, int4: 0.3 };
  it.each(['tiny-bert', 'tiny-gpt2', 'tiny-llama', 'tiny-gemma2', 'tiny-pythia', 'tiny-opt'])('%s', async (name) => {
    const errors: Record<string, number> = {};
    for (const format of ['float16', 'int8', 'int4'] as const) errors[format] = await qkError(name, format);
    console.log(
      `[qkviz] ${name} Q/K relative error vs float32: ${Object.entries(errors)
        .map(([f, e]) => `${f} ${e.toExponential(1)}`)
        .join(', ')}`,
    );
    expect(errors.float16).toBeLessThan(BOUNDS.float16);
    expect(errors.int8).toBeLessThan(BOUNDS.int8);
    expect(errors.int4).toBeLessThan(BOUNDS.int4);
    // Fewer bits, more error: the precisions are ordered.
    expect(errors.float16).toBeLessThan(errors.int8);
    expect(errors.int8).toBeLessThan(errors.int4);
  });
});

describe('float16 weights in onnxruntime', () => {
  it('stay float16 when the session opens (no constant folding into float32 copies)', async () => {
    // A weight large enough to see: 512 × 512 float16 is 512 KB, its float32 copy 1 MB.
    const rand = seededRandom(11);
    const w = Float32Array.from({ length: 512 * 512 }, () => rand() - 0.5);
    const checkpoint = writeSafetensors({ 'layer.weight': { shape: [512, 512], data: w, dtype: 'F16' } });
    const source = await TensorSource.open([memoryFile('w', checkpoint)]);
    const { Weights } = await import('../../../lib/model/weights');
    const optimized: Record<string, number> = {};
    for (const format of ['float32', 'float16'] as const) {
      const g = new GraphBuilder('half');
      const x = g.input('x', DataType.FLOAT, [1, 512]);
      new Weights(g, source, format).linear(x, { weight: 'layer.weight', inDim: 512, outDim: 512 }, 'y');
      g.output('y', DataType.FLOAT, [1, 512]);
      const path = join(temp, `${format}.optimized.onnx`);
      const runner = await openModel(ort as unknown as OrtModule, { bytes: await g.bytes({ producer: 'test' }), float16: format === 'float16' }, ['cpu'], {
        sessionOptions: { optimizedModelFilePath: path },
      });
      await runner.release();
      optimized[format] = statSync(path).size;
    }
    expect(optimized.float32).toBeGreaterThan(1_000_000);
    expect(optimized.float16).toBeLessThan(600_000);
  });
});
